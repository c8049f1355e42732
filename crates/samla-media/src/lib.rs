//! Samla's client media engine building blocks: raw frames, capture sources,
//! synthetic sources that carry machine-readable identity, and the H.264 / Opus
//! codecs.
//!
//! The pipeline the client assembles from these parts is
//! capture → encode → (network) → decode → sink. Every hot-path call takes a
//! caller-owned output buffer (`&mut VideoFrame`, `&mut EncodedVideo`,
//! `&mut AudioFrame`, `&mut Vec<u8>`) so a steady-state call loop does not
//! allocate once those buffers have reached their working size.

pub mod capture;
pub mod codec;
pub mod frame;
pub mod synthetic;

pub use capture::{AudioSource, CaptureError, Pacing, VideoFormat, VideoSource};
pub use codec::h264::{
    EncodedVideo, H264Decoder, H264Encoder, H264EncoderConfig, Simulcast, SimulcastLayerConfig,
};
pub use codec::opus::{OpusDecoder, OpusEncoder, OpusEncoderConfig};
pub use codec::CodecError;
pub use frame::{AudioFrame, VideoFrame, AUDIO_FRAME_SAMPLES, AUDIO_SAMPLE_RATE};
pub use synthetic::{dominant_frequency, read_marker, write_marker, Marker, TestPattern, Tone};
