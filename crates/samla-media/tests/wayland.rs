//! In a Wayland session, screen capture refuses clearly instead of
//! capturing XWayland's black. Its own test binary: it sets the session
//! type for the whole process.
#![cfg(target_os = "linux")]

use std::time::UNIX_EPOCH;

use samla_media::{list_devices, DeviceKind, ScreenSource, ScreenTarget};

#[test]
fn wayland_sessions_get_a_clear_not_supported_error() {
    std::env::set_var("XDG_SESSION_TYPE", "wayland");
    let err = ScreenSource::open(&ScreenTarget::Screen(None), 15.0, UNIX_EPOCH).unwrap_err();
    assert_eq!(
        err.to_string(),
        "screen capture is not supported on Wayland (the desktop portal and PipeWire path is not written) yet"
    );
    let err = list_devices(DeviceKind::Window).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("window capture is not supported on Wayland"),
        "{err}"
    );
}
