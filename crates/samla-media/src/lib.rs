//! Samla's client media engine building blocks: raw frames, capture sources
//! (camera, microphone and speakers, screen and window), the microphone's
//! echo cancellation / noise suppression / gain control, synthetic sources
//! that carry machine-readable identity, and the H.264 / Opus codecs.
//!
//! The pipeline the client assembles from these parts is
//! capture → encode → (network) → decode → sink. Every hot-path call takes a
//! caller-owned output buffer (`&mut VideoFrame`, `&mut EncodedVideo`,
//! `&mut AudioFrame`, `&mut Vec<u8>`) so a steady-state call loop does not
//! allocate once those buffers have reached their working size.

pub mod audio_processing;
pub mod capture;
pub mod codec;
pub mod frame;
pub mod synthetic;

pub use audio_processing::{
    MicProcessor, ProcessedSource, ProcessingConfig, ProcessingError, ProcessingStats,
    ReferencedSink, SharedProcessor,
};
pub use capture::{
    list_devices, AudioSink, AudioSource, CaptureError, DeviceChange, DeviceInfo, DeviceKind,
    DeviceWatcher, Microphone, Pacing, ScreenSource, ScreenTarget, Speaker, VideoFormat,
    VideoSource,
};
#[cfg(any(target_os = "linux", windows, target_os = "macos"))]
pub use capture::{Camera, CameraRequest};
pub use codec::h264::{
    EncodedVideo, H264Decoder, H264Encoder, H264EncoderConfig, Simulcast, SimulcastLayerConfig,
};
pub use codec::opus::{OpusDecoder, OpusEncoder, OpusEncoderConfig};
pub use codec::CodecError;
pub use frame::{AudioFrame, VideoFrame, AUDIO_FRAME_SAMPLES, AUDIO_SAMPLE_RATE};
pub use synthetic::{dominant_frequency, read_marker, write_marker, Marker, TestPattern, Tone};
