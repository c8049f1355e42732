//! Raw media frames as they flow between sources, codecs and sinks.

mod audio;
mod video;

pub use audio::{AudioFrame, AUDIO_FRAME_SAMPLES, AUDIO_SAMPLE_RATE};
pub use video::VideoFrame;
