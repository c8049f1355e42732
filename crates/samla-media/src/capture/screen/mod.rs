//! Screen and window capture behind the one [`VideoSource`] trait.
//!
//! One backend per platform, each turning the platform's pixels into I420
//! with [`crate::capture::convert`]:
//!
//! - X11 (`x11.rs`): pure-Rust protocol client, `GetImage`; tested on Xvfb.
//! - Wayland (`wayland.rs`, the `wayland` feature): the desktop portal's
//!   ScreenCast dialog and a PipeWire stream. Without the feature a Wayland
//!   session gets [`CaptureError::NotSupported`] (X11 capture there would
//!   only see XWayland windows).
//! - Windows (`win32.rs`): GDI `BitBlt` / `PrintWindow`.
//! - macOS (`macos.rs`): CoreGraphics display and window images.
//!
//! X11 capture runs in CI; the Wayland one runs there against a headless
//! sway and the real portal up to the cast, which the portal refuses on a
//! machine without a GPU. The Windows and macOS backends are type-checked
//! for their targets there; their platform-independent decisions
//! (`listing.rs`, and the format and error mapping in `wayland.rs`) are
//! unit-tested. Other platforms say
//! [`CaptureError::NotSupported`].

#[cfg(any(test, windows, target_os = "macos"))]
mod listing;
#[cfg(target_os = "macos")]
mod macos;
#[cfg(all(feature = "wayland", target_os = "linux"))]
mod wayland;
#[cfg(windows)]
mod win32;
#[cfg(all(unix, not(target_os = "macos")))]
mod x11;

use std::time::{Duration, SystemTime};

use crate::frame::VideoFrame;

use super::{
    micros_since, CaptureError, DeviceInfo, DeviceKind, Pacer, Pacing, VideoFormat, VideoSource,
};

/// The id of the one entry a Wayland session lists per kind: "let the system ask". Opening
/// it shows the desktop's own sharing dialog, where the user picks a screen or window (no
/// application may list or read others' windows there).
pub const SYSTEM_PICKER_ID: &str = "portal";

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
            Grabber::X11(Box::new(x11::X11Grabber::open(Some(display), target)?)),
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

/// X11, or the desktop portal in a Wayland session. The X11 grabber is
/// boxed: it is several times the size of the portal's.
#[cfg(all(unix, not(target_os = "macos")))]
#[derive(Debug)]
enum Grabber {
    X11(Box<x11::X11Grabber>),
    #[cfg(all(feature = "wayland", target_os = "linux"))]
    Portal(wayland::PortalGrabber),
}

#[cfg(all(unix, not(target_os = "macos")))]
impl Grabber {
    fn size(&self) -> (u32, u32) {
        match self {
            Self::X11(g) => g.size(),
            #[cfg(all(feature = "wayland", target_os = "linux"))]
            Self::Portal(g) => g.size(),
        }
    }

    fn grab(&mut self, out: &mut VideoFrame) -> Result<(), CaptureError> {
        match self {
            Self::X11(g) => g.grab(out),
            #[cfg(all(feature = "wayland", target_os = "linux"))]
            Self::Portal(g) => g.grab(out),
        }
    }
}

#[cfg(all(unix, not(target_os = "macos")))]
fn open_grabber(target: &ScreenTarget) -> Result<Grabber, CaptureError> {
    #[cfg(all(feature = "wayland", target_os = "linux"))]
    if in_wayland_session() {
        return wayland::PortalGrabber::open(target).map(Grabber::Portal);
    }
    refuse_wayland(target.kind())?;
    x11::X11Grabber::open(None, target).map(|g| Grabber::X11(Box::new(g)))
}

/// Screens or windows the session can share.
#[cfg(all(unix, not(target_os = "macos")))]
pub(super) fn list(kind: DeviceKind) -> Result<Vec<DeviceInfo>, CaptureError> {
    #[cfg(all(feature = "wayland", target_os = "linux"))]
    if in_wayland_session() {
        return Ok(wayland::list(kind));
    }
    refuse_wayland(kind)?;
    x11::list(None, kind)
}

/// Lists screens or windows on the named X11 display.
#[cfg(all(unix, not(target_os = "macos")))]
pub fn list_x11(display: &str, kind: DeviceKind) -> Result<Vec<DeviceInfo>, CaptureError> {
    x11::list(Some(display), kind)
}

/// Whether the session is Wayland, from its environment: the session type
/// says so, or there is a Wayland display and no X11 one to fall back to.
#[cfg(all(unix, not(target_os = "macos")))]
fn is_wayland_session(
    session_type: Option<&std::ffi::OsStr>,
    wayland_display: Option<&std::ffi::OsStr>,
    x11_display: Option<&std::ffi::OsStr>,
) -> bool {
    session_type.is_some_and(|t| t == "wayland")
        || (wayland_display.is_some_and(|d| !d.is_empty())
            && x11_display.is_none_or(|d| d.is_empty()))
}

/// Whether this process runs in a Wayland session.
#[cfg(all(unix, not(target_os = "macos")))]
fn in_wayland_session() -> bool {
    let var = std::env::var_os;
    is_wayland_session(
        var("XDG_SESSION_TYPE").as_deref(),
        var("WAYLAND_DISPLAY").as_deref(),
        var("DISPLAY").as_deref(),
    )
}

/// In a Wayland session X11 capture would show only XWayland windows and
/// black elsewhere, which is worse than a clear refusal. Builds with the
/// `wayland` feature use the portal there and never get here.
#[cfg(all(unix, not(target_os = "macos")))]
fn refuse_wayland(kind: DeviceKind) -> Result<(), CaptureError> {
    if in_wayland_session() {
        return Err(CaptureError::NotSupported {
            kind,
            platform: "Wayland (this build has no desktop portal and PipeWire support)",
        });
    }
    Ok(())
}

#[cfg(windows)]
type Grabber = win32::Win32Grabber;

#[cfg(windows)]
fn open_grabber(target: &ScreenTarget) -> Result<Grabber, CaptureError> {
    win32::Win32Grabber::open(target)
}

/// Monitors or top-level windows.
#[cfg(windows)]
pub(super) fn list(kind: DeviceKind) -> Result<Vec<DeviceInfo>, CaptureError> {
    win32::list(kind)
}

#[cfg(target_os = "macos")]
type Grabber = macos::MacGrabber;

#[cfg(target_os = "macos")]
fn open_grabber(target: &ScreenTarget) -> Result<Grabber, CaptureError> {
    macos::MacGrabber::open(target)
}

/// Displays or on-screen windows.
#[cfg(target_os = "macos")]
pub(super) fn list(kind: DeviceKind) -> Result<Vec<DeviceInfo>, CaptureError> {
    macos::list(kind)
}

/// Platforms with no backend (neither Unix nor Windows, such as wasm).
#[cfg(not(any(unix, windows)))]
const PLATFORM: &str = "this platform";

/// No backend: cannot be constructed, so `grab` is never reached.
#[cfg(not(any(unix, windows)))]
#[derive(Debug)]
enum Grabber {}

#[cfg(not(any(unix, windows)))]
fn open_grabber(target: &ScreenTarget) -> Result<Grabber, CaptureError> {
    Err(CaptureError::NotSupported {
        kind: target.kind(),
        platform: PLATFORM,
    })
}

#[cfg(not(any(unix, windows)))]
impl Grabber {
    fn size(&self) -> (u32, u32) {
        match *self {}
    }

    fn grab(&mut self, _out: &mut VideoFrame) -> Result<(), CaptureError> {
        match *self {}
    }
}

#[cfg(not(any(unix, windows)))]
pub(super) fn list(kind: DeviceKind) -> Result<Vec<DeviceInfo>, CaptureError> {
    Err(CaptureError::NotSupported {
        kind,
        platform: PLATFORM,
    })
}

#[cfg(test)]
#[cfg(all(unix, not(target_os = "macos")))]
mod tests {
    use std::ffi::OsStr;

    use super::is_wayland_session;

    #[test]
    fn wayland_is_recognised_from_the_session_environment() {
        let os = |s: &'static str| Some(OsStr::new(s));
        // A GNOME or KDE Wayland session, with XWayland's DISPLAY too.
        assert!(is_wayland_session(os("wayland"), os("wayland-0"), os(":0")));
        // A bare compositor that sets no session type and runs no XWayland.
        assert!(is_wayland_session(None, os("wayland-0"), None));
        assert!(is_wayland_session(None, os("wayland-0"), os("")));
        // X11 sessions, including a Wayland display left over in the
        // environment of an X11 session that has a usable DISPLAY.
        assert!(!is_wayland_session(os("x11"), None, os(":0")));
        assert!(!is_wayland_session(None, os("wayland-0"), os(":0")));
        assert!(!is_wayland_session(None, os(""), None));
        assert!(!is_wayland_session(os("tty"), None, None));
    }
}
