//! Where raw frames come from: the source traits the media engine pulls from,
//! the real devices behind them, and the errors a source can report.
//!
//! Real backends ([`Camera`], [`ScreenSource`] for screens and windows,
//! [`Microphone`]) and the synthetic sources in [`crate::synthetic`]
//! implement the same traits, so the engine and its tests cannot tell them
//! apart. [`Speaker`] is the one sink: it plays decoded audio.
//!
//! Device lists come from [`list_devices`]; [`DeviceWatcher`] follows
//! plugging and unplugging by polling those lists (no platform hot-plug
//! callbacks), which is cheap enough at the once-a-second rate a device
//! picker needs.

#[cfg(feature = "devices")]
mod audio;
#[cfg(all(
    feature = "devices",
    any(target_os = "linux", windows, target_os = "macos")
))]
mod camera;
pub mod convert;
mod devices;
mod pacing;
mod screen;
#[cfg(any(
    all(
        feature = "devices",
        any(target_os = "linux", windows, target_os = "macos")
    ),
    all(feature = "wayland", target_os = "linux")
))]
mod slot;
#[cfg(feature = "devices")]
mod sound_server;

use std::time::{Duration, SystemTime};

use thiserror::Error;

use crate::frame::{AudioFrame, VideoFrame};

#[cfg(feature = "devices")]
pub use audio::{LevelMeter, Microphone, Speaker};
#[cfg(all(
    feature = "devices",
    any(target_os = "linux", windows, target_os = "macos")
))]
pub use camera::{Camera, CameraRequest};
pub use devices::{list_devices, DeviceChange, DeviceInfo, DeviceWatcher};
pub(crate) use pacing::Pacer;
#[cfg(all(unix, not(target_os = "macos")))]
pub use screen::list_x11;
pub use screen::{ScreenSource, ScreenTarget, SYSTEM_PICKER_ID};

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

/// Which kind of device a list, a source or an error refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    /// A camera.
    Camera,
    /// A microphone.
    Microphone,
    /// Speakers or headphones.
    Speaker,
    /// A whole screen (a monitor).
    Screen,
    /// One application window.
    Window,
}

impl std::fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Camera => "camera",
            Self::Microphone => "microphone",
            Self::Speaker => "speaker",
            Self::Screen => "screen",
            Self::Window => "window",
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
    /// Another application holds the device exclusively.
    #[error("{kind} {name:?} is in use by another application; close it there and try again")]
    DeviceBusy {
        /// The kind of device.
        kind: DeviceKind,
        /// The device's name.
        name: String,
    },
    /// The operating system or the user refused access.
    #[error("access to the {kind} {name:?} was denied; allow Samla to use it in the system's privacy or device settings")]
    PermissionDenied {
        /// The kind of device.
        kind: DeviceKind,
        /// The device's name.
        name: String,
    },
    /// This kind of capture has no backend on the running platform or
    /// session type yet (for example screen capture under Wayland).
    #[error("{kind} capture is not supported on {platform} yet")]
    NotSupported {
        /// What was asked for.
        kind: DeviceKind,
        /// The platform or session type that lacks it.
        platform: &'static str,
    },
    /// The requested format cannot be produced by this source.
    #[error("unsupported capture format: {0}")]
    UnsupportedFormat(String),
    /// The platform API failed in a way none of the above describes.
    #[error("{kind} failed: {reason}")]
    Backend {
        /// The kind of device.
        kind: DeviceKind,
        /// What the backend reported.
        reason: String,
    },
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

/// A consumer of 20 ms, 48 kHz mono audio frames (speakers).
pub trait AudioSink: Send {
    /// Queues `frame` for playback. Does not block: when the device is
    /// behind, the oldest queued audio is dropped so latency stays bounded.
    fn play(&mut self, frame: &AudioFrame) -> Result<(), CaptureError>;

    /// How much audio waits for the device, for a sink that plays on a device's
    /// own clock (a speaker): whoever feeds it tops the queue up as the device
    /// drains it, and so follows the sound card's clock rather than the
    /// system's (the two drift apart by up to a few hundred ppm). `None` for a
    /// sink that takes audio as fast as it comes (a file), which the caller
    /// paces itself.
    fn queued(&self) -> Option<Duration> {
        None
    }
}

/// Microseconds from `epoch` to now, the timestamp every source stamps.
pub(crate) fn micros_since(epoch: SystemTime) -> u64 {
    SystemTime::now()
        .duration_since(epoch)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
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
