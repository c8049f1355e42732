//! Screen and window capture behind the one [`VideoSource`] trait.
//!
//! X11 is implemented (pure-Rust protocol client, `GetImage`). The other
//! platforms have a place here but no backend yet, and say so with
//! [`CaptureError::NotSupported`] rather than failing in some other way:
//!
//! - a Wayland session needs the desktop portal (`org.freedesktop.portal.ScreenCast`)
//!   and a PipeWire stream; X11 capture there would only see XWayland windows;
//! - Windows needs Windows.Graphics.Capture (or DXGI desktop duplication);
//! - macOS needs ScreenCaptureKit.

#[cfg(all(unix, not(target_os = "macos")))]
mod x11;

use std::time::{Duration, SystemTime};

use crate::frame::VideoFrame;

use super::{
    micros_since, CaptureError, DeviceInfo, DeviceKind, Pacer, Pacing, VideoFormat, VideoSource,
};

/// What to share: ids come from [`super::list_devices`] with
/// [`DeviceKind::Screen`] or [`DeviceKind::Window`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScreenTarget {
    /// A whole screen (monitor) by id; `None` for everything the display shows.
    Screen(Option<String>),
    /// One window by id.
    Window(String),
}

impl ScreenTarget {
    fn kind(&self) -> DeviceKind {
        match self {
            Self::Screen(_) => DeviceKind::Screen,
            Self::Window(_) => DeviceKind::Window,
        }
    }
}

/// A screen or window being captured at a fixed rate, as I420.
#[derive(Debug)]
pub struct ScreenSource {
    grabber: Grabber,
    pacer: Pacer,
    fps: f32,
    epoch: SystemTime,
}

impl ScreenSource {
    /// Opens `target` on the session's display and captures it at `fps`.
    pub fn open(target: &ScreenTarget, fps: f32, epoch: SystemTime) -> Result<Self, CaptureError> {
        Ok(Self::with_grabber(open_grabber(target)?, fps, epoch))
    }

    /// Opens `target` on the named X11 display (such as `":99"`), whatever
    /// the session is; tests use this with an Xvfb of their own.
    #[cfg(all(unix, not(target_os = "macos")))]
    pub fn open_x11(
        display: &str,
        target: &ScreenTarget,
        fps: f32,
        epoch: SystemTime,
    ) -> Result<Self, CaptureError> {
        Ok(Self::with_grabber(
            x11::X11Grabber::open(Some(display), target)?,
            fps,
            epoch,
        ))
    }

    /// Changes pacing: [`Pacing::Unpaced`] grabs as fast as the display
    /// answers, for benchmarks.
    #[must_use]
    pub fn with_pacing(mut self, pacing: Pacing) -> Self {
        self.pacer = Pacer::new(pacing, Duration::from_secs_f32(1.0 / self.fps));
        self
    }

    fn with_grabber(grabber: Grabber, fps: f32, epoch: SystemTime) -> Self {
        let fps = if fps.is_finite() && fps > 0.0 {
            fps.min(120.0)
        } else {
            15.0
        };
        Self {
            grabber,
            pacer: Pacer::new(Pacing::RealTime, Duration::from_secs_f32(1.0 / fps)),
            fps,
            epoch,
        }
    }
}

impl VideoSource for ScreenSource {
    fn format(&self) -> VideoFormat {
        let (width, height) = self.grabber.size();
        VideoFormat {
            width,
            height,
            fps: self.fps,
        }
    }

    fn next_frame(&mut self, out: &mut VideoFrame) -> Result<(), CaptureError> {
        self.pacer.wait();
        out.timestamp_us = micros_since(self.epoch);
        self.grabber.grab(out)
    }
}

#[cfg(all(unix, not(target_os = "macos")))]
type Grabber = x11::X11Grabber;

#[cfg(all(unix, not(target_os = "macos")))]
fn open_grabber(target: &ScreenTarget) -> Result<Grabber, CaptureError> {
    refuse_wayland(target.kind())?;
    x11::X11Grabber::open(None, target)
}

/// Screens or windows the session can share.
#[cfg(all(unix, not(target_os = "macos")))]
pub(super) fn list(kind: DeviceKind) -> Result<Vec<DeviceInfo>, CaptureError> {
    refuse_wayland(kind)?;
    x11::list(None, kind)
}

/// Lists screens or windows on the named X11 display.
#[cfg(all(unix, not(target_os = "macos")))]
pub fn list_x11(display: &str, kind: DeviceKind) -> Result<Vec<DeviceInfo>, CaptureError> {
    x11::list(Some(display), kind)
}

/// In a Wayland session X11 capture would show only XWayland windows and
/// black elsewhere, which is worse than a clear refusal.
#[cfg(all(unix, not(target_os = "macos")))]
fn refuse_wayland(kind: DeviceKind) -> Result<(), CaptureError> {
    let wayland = std::env::var_os("XDG_SESSION_TYPE").is_some_and(|t| t == "wayland")
        || (std::env::var_os("WAYLAND_DISPLAY").is_some() && std::env::var_os("DISPLAY").is_none());
    if wayland {
        return Err(CaptureError::NotSupported {
            kind,
            platform: "Wayland (the desktop portal and PipeWire path is not written)",
        });
    }
    Ok(())
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
const PLATFORM: &str = if cfg!(windows) {
    "Windows"
} else if cfg!(target_os = "macos") {
    "macOS"
} else {
    "this platform"
};

/// No backend: cannot be constructed, so `grab` is never reached.
#[cfg(not(all(unix, not(target_os = "macos"))))]
#[derive(Debug)]
enum Grabber {}

#[cfg(not(all(unix, not(target_os = "macos"))))]
fn open_grabber(target: &ScreenTarget) -> Result<Grabber, CaptureError> {
    Err(CaptureError::NotSupported {
        kind: target.kind(),
        platform: PLATFORM,
    })
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
impl Grabber {
    fn size(&self) -> (u32, u32) {
        match *self {}
    }

    fn grab(&mut self, _out: &mut VideoFrame) -> Result<(), CaptureError> {
        match *self {}
    }
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
pub(super) fn list(kind: DeviceKind) -> Result<Vec<DeviceInfo>, CaptureError> {
    Err(CaptureError::NotSupported {
        kind,
        platform: PLATFORM,
    })
}
