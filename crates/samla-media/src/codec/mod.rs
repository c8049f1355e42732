//! Video (H.264 via OpenH264) and audio (Opus via libopus) codecs.
//!
//! Encoders write into caller-owned buffers and decoders into caller-owned
//! frames. Decoders treat their input as untrusted network data: malformed
//! input is an error, never a panic.

pub mod h264;
pub mod opus;

use thiserror::Error;

/// Why a codec operation failed.
#[derive(Debug, Error)]
pub enum CodecError {
    /// The requested configuration cannot work (odd size, zero bitrate…).
    #[error("invalid codec configuration: {0}")]
    InvalidConfig(String),
    /// A frame's size differs from the size the encoder was configured for.
    /// Encoders are fixed-size so that a size change is an explicit decision
    /// (and a keyframe) rather than a silent re-initialisation.
    #[error("frame is {actual_width}x{actual_height} but the encoder is configured for {expected_width}x{expected_height}")]
    FrameSizeMismatch {
        /// Configured width.
        expected_width: u32,
        /// Configured height.
        expected_height: u32,
        /// The frame's width.
        actual_width: u32,
        /// The frame's height.
        actual_height: u32,
    },
    /// OpenH264 refused to encode or to change a setting.
    #[error("H.264 encoder: {0}")]
    H264Encode(#[source] ::openh264::Error),
    /// OpenH264 could not decode the access unit (corrupt, truncated, or
    /// referencing a lost frame); the caller should request a keyframe.
    #[error("H.264 decoder: {0}")]
    H264Decode(#[source] ::openh264::Error),
    /// The decoder returned a picture whose geometry is not valid I420.
    #[error("H.264 decoder produced an invalid picture ({width}x{height}, strides {luma_stride}/{chroma_stride})")]
    InvalidPicture {
        /// Reported width.
        width: i32,
        /// Reported height.
        height: i32,
        /// Reported luma stride.
        luma_stride: i32,
        /// Reported chroma stride.
        chroma_stride: i32,
    },
    /// libopus reported an error (bad packet, bad setting).
    #[error("Opus: {0}")]
    Opus(#[from] ::opus::Error),
    /// A zero-length packet was passed to a decoder.
    #[error("empty packet; report a lost packet through the concealment call instead")]
    EmptyPacket,
    /// An Opus packet decoded to something other than one 20 ms frame.
    #[error("Opus packet holds {0} samples; only 20 ms (960-sample) packets are supported")]
    UnexpectedFrameDuration(usize),
}
