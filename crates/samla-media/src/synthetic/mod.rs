//! Synthetic sources for tests and demos that carry their identity in the
//! media itself, so an end-to-end test can check *which* sender's frame
//! arrived, *which* frame it was and *how late* — after real encoding,
//! scaling and decoding — without any side channel.

mod frequency;
mod marker;
mod pattern;
mod tone;

pub use frequency::dominant_frequency;
pub use marker::{read_marker, write_marker, Marker};
pub use pattern::TestPattern;
pub use tone::Tone;
