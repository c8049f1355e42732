//! H.264 video over OpenH264 (Constrained Baseline, Annex-B byte stream).
//!
//! OpenH264 is used because it builds from bundled source with no system
//! libraries and is tuned for real-time camera/screen content; Constrained
//! Baseline is what every browser and WebRTC stack can decode, which keeps a
//! future browser client possible.

mod decoder;
mod encoder;
mod simulcast;

pub use decoder::H264Decoder;
pub use encoder::{EncodedVideo, H264Encoder, H264EncoderConfig};
pub use simulcast::{Simulcast, SimulcastLayerConfig};

#[cfg(test)]
mod tests;
