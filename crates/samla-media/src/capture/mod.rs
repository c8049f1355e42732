//! Where raw frames come from: the source traits the media engine pulls from,
//! and the errors a source can report.
//!
//! Real camera/microphone backends and the synthetic sources in
//! [`crate::synthetic`] implement the same traits, so the engine and its tests
//! cannot tell them apart.

mod pacing;

use thiserror::Error;

use crate::frame::{AudioFrame, VideoFrame};

pub(crate) use pacing::Pacer;

/// Size and rate a video source produces.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VideoFormat {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Nominal frames per second.
    pub fps: f32,
}

/// Whether a source waits for wall-clock time between frames.
///
/// Devices are inherently real-time; synthetic sources offer both so that
/// live sessions behave like a camera while tests and benchmarks run flat out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pacing {
    /// `next_frame` blocks until the next frame is due, like a device would.
    #[default]
    RealTime,
    /// `next_frame` returns immediately.
    Unpaced,
}

/// Which kind of capture device an error refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    /// A camera or screen grabber.
    Camera,
    /// A microphone.
    Microphone,
}

impl std::fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Camera => "camera",
            Self::Microphone => "microphone",
        })
    }
}

/// Why a source could not deliver a frame.
#[derive(Debug, Error)]
pub enum CaptureError {
    /// No device of the requested kind exists (or the named one is absent).
    /// Headless servers and CI machines hit this; the message says which
    /// device was wanted so the user can pick another or use a synthetic source.
    #[error("no {kind} found{}; connect one or choose a synthetic test source", match requested { Some(name) => format!(" matching {name:?}"), None => String::new() })]
    DeviceNotFound {
        /// The kind of device that was looked for.
        kind: DeviceKind,
        /// The device name or id the user asked for, if any.
        requested: Option<String>,
    },
    /// The device existed but stopped delivering frames (unplugged, taken by
    /// another application, permission revoked).
    #[error("{kind} {name:?} stopped delivering frames: {reason}")]
    DeviceLost {
        /// The kind of device.
        kind: DeviceKind,
        /// The device's name.
        name: String,
        /// What the backend reported.
        reason: String,
    },
    /// The requested format cannot be produced by this source.
    #[error("unsupported capture format: {0}")]
    UnsupportedFormat(String),
}

/// A producer of video frames (camera, screen, or synthetic pattern).
pub trait VideoSource: Send {
    /// The size and nominal rate of the frames this source produces.
    fn format(&self) -> VideoFormat;

    /// Writes the next frame into `out` (resizing it if needed) and stamps its
    /// capture time. Blocks until the frame is available.
    fn next_frame(&mut self, out: &mut VideoFrame) -> Result<(), CaptureError>;
}

/// A producer of 20 ms, 48 kHz mono audio frames (microphone or synthetic tone).
pub trait AudioSource: Send {
    /// Writes the next 20 ms of audio into `out` and stamps its capture time.
    /// Blocks until the audio is available.
    fn next_frame(&mut self, out: &mut AudioFrame) -> Result<(), CaptureError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_device_message_names_the_device() {
        let err = CaptureError::DeviceNotFound {
            kind: DeviceKind::Camera,
            requested: Some("/dev/video0".into()),
        };
        assert_eq!(
            err.to_string(),
            "no camera found matching \"/dev/video0\"; connect one or choose a synthetic test source"
        );
        let err = CaptureError::DeviceNotFound {
            kind: DeviceKind::Microphone,
            requested: None,
        };
        assert_eq!(
            err.to_string(),
            "no microphone found; connect one or choose a synthetic test source"
        );
    }
}
