//! In a Wayland session, screen capture goes through the desktop portal
//! (with the `wayland` feature) or refuses clearly (without it) instead of
//! capturing XWayland's black. Its own test binary: it sets the session type
//! for the whole process.
#![cfg(target_os = "linux")]

use std::time::UNIX_EPOCH;

use samla_media::{list_devices, DeviceKind, ScreenSource, ScreenTarget};

#[cfg(not(feature = "wayland"))]
#[test]
fn wayland_sessions_get_a_clear_not_supported_error() {
    std::env::set_var("XDG_SESSION_TYPE", "wayland");
    let err = ScreenSource::open(&ScreenTarget::Screen(None), 15.0, UNIX_EPOCH).unwrap_err();
    assert_eq!(
        err.to_string(),
        "screen capture is not supported on Wayland (this build has no desktop portal and PipeWire support) yet"
    );
    let err = list_devices(DeviceKind::Window).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("window capture is not supported on Wayland"),
        "{err}"
    );
}

/// Nothing here reaches D-Bus: listing and refusing an X11 id are decided
/// before the portal is asked.
#[cfg(feature = "wayland")]
#[test]
fn wayland_sessions_offer_the_portal_and_refuse_x11_ids() {
    std::env::set_var("XDG_SESSION_TYPE", "wayland");
    for kind in [DeviceKind::Screen, DeviceKind::Window] {
        let list = list_devices(kind).unwrap();
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!(list[0].id, "portal");
        assert!(list[0].is_default);
    }
    let err = ScreenSource::open(&ScreenTarget::Window("0x2a00007".into()), 15.0, UNIX_EPOCH)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no window found matching \"0x2a00007\"; connect one or choose a synthetic test source"
    );
}
