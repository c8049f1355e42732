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
//!
//! Cargo features: `codec` (OpenH264 and Opus, bundled C sources) and
//! `devices` (cameras, microphones and speakers) are on by default. Screen and
//! window capture, frames, synthetic sources and the audio processing are
//! always there, so `--no-default-features` builds for any target without a
//! C cross compiler or a device SDK, and a headless client links no ALSA.
//! `wayland` (off by default; needs libpipewire) adds screen capture in
//! Wayland sessions through the desktop portal and PipeWire.

pub mod audio_processing;
pub mod capture;
#[cfg(feature = "codec")]
pub mod codec;
pub mod frame;
pub mod synthetic;

#[cfg(feature = "devices")]
pub use audio_processing::CallAudio;
pub use audio_processing::{
    MicProcessor, ProcessedSource, ProcessingConfig, ProcessingError, ProcessingStats,
    ReferencedSink, SharedProcessor,
};
pub use capture::{
    list_devices, AudioSink, AudioSource, CaptureError, DeviceChange, DeviceInfo, DeviceKind,
    DeviceWatcher, Pacing, ScreenSource, ScreenTarget, VideoFormat, VideoSource, SYSTEM_PICKER_ID,
};
#[cfg(all(
    feature = "devices",
    any(target_os = "linux", windows, target_os = "macos")
))]
pub use capture::{Camera, CameraRequest};
#[cfg(feature = "devices")]
pub use capture::{LevelMeter, Microphone, Speaker};
#[cfg(feature = "codec")]
pub use codec::h264::{
    EncodedVideo, H264Decoder, H264Encoder, H264EncoderConfig, Simulcast, SimulcastLayerConfig,
};
#[cfg(feature = "codec")]
pub use codec::opus::{OpusDecoder, OpusEncoder, OpusEncoderConfig};
#[cfg(feature = "codec")]
pub use codec::CodecError;
pub use frame::{AudioFrame, VideoFrame, AUDIO_FRAME_SAMPLES, AUDIO_SAMPLE_RATE};
pub use synthetic::{dominant_frequency, read_marker, write_marker, Marker, TestPattern, Tone};
