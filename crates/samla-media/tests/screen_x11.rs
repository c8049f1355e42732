//! Screen and window capture against a real X server (a private Xvfb):
//! draw known colours, capture, and check them in the I420 frame.
#![cfg(target_os = "linux")]

#[path = "support/xvfb.rs"]
mod xvfb;

use std::time::{Duration, Instant, UNIX_EPOCH};

use samla_media::capture::convert::{chroma, luma};
use samla_media::capture::list_x11;
use samla_media::{
    CaptureError, DeviceKind, Pacing, ScreenSource, ScreenTarget, VideoFrame, VideoSource,
};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    AtomEnum, ChangeWindowAttributesAux, ConfigureWindowAux, ConnectionExt as _, CreateWindowAux,
    PropMode, WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;
use xvfb::Xvfb;

const ROOT_COLOUR: u32 = 0x30_60_c0;
const WINDOW_COLOUR: u32 = 0xd0_20_20;

fn rgb(colour: u32) -> (u8, u8, u8) {
    ((colour >> 16) as u8, (colour >> 8) as u8, colour as u8)
}

/// Y, U, V of the pixel at (x, y).
fn yuv_at(frame: &VideoFrame, x: usize, y: usize) -> (u8, u8, u8) {
    let w = frame.width() as usize;
    let cw = frame.chroma_width();
    let c = (y / 2) * cw + x / 2;
    (frame.y()[y * w + x], frame.u()[c], frame.v()[c])
}

fn assert_colour(frame: &VideoFrame, x: usize, y: usize, colour: u32) {
    let (r, g, b) = rgb(colour);
    let want_y = luma(r, g, b);
    let (want_u, want_v) = chroma(r, g, b);
    let (got_y, got_u, got_v) = yuv_at(frame, x, y);
    let close = |a: u8, b: u8| a.abs_diff(b) <= 2;
    assert!(
        close(got_y, want_y) && close(got_u, want_u) && close(got_v, want_v),
        "pixel ({x},{y}): YUV ({got_y},{got_u},{got_v}), expected ({want_y},{want_u},{want_v}) for #{colour:06x}"
    );
}

/// Paints the root in one colour and maps a 320x200 window of another at
/// (100, 120); returns the connection (which keeps the window alive) and
/// the window id.
fn draw_scene(display: &str) -> (RustConnection, u32) {
    let (conn, screen) = x11rb::connect(Some(display)).unwrap();
    let root = conn.setup().roots[screen].root;
    conn.change_window_attributes(
        root,
        &ChangeWindowAttributesAux::new().background_pixel(ROOT_COLOUR),
    )
    .unwrap();
    conn.clear_area(false, root, 0, 0, 0, 0).unwrap();
    let window = conn.generate_id().unwrap();
    conn.create_window(
        24,
        window,
        root,
        100,
        120,
        320,
        200,
        0,
        WindowClass::INPUT_OUTPUT,
        0,
        &CreateWindowAux::new().background_pixel(WINDOW_COLOUR),
    )
    .unwrap();
    conn.change_property8(
        PropMode::REPLACE,
        window,
        AtomEnum::WM_NAME,
        AtomEnum::STRING,
        b"samla test window",
    )
    .unwrap();
    conn.map_window(window).unwrap();
    conn.sync().unwrap();
    (conn, window)
}

#[test]
fn captures_screen_and_one_window_from_xvfb() {
    let x = Xvfb::start(1280, 800);
    let (conn, window) = draw_scene(&x.display);

    let screens = list_x11(&x.display, DeviceKind::Screen).unwrap();
    assert!(
        screens.iter().any(|s| s.id == "root" && s.is_default),
        "{screens:?}"
    );
    let windows = list_x11(&x.display, DeviceKind::Window).unwrap();
    let listed = windows
        .iter()
        .find(|w| w.name == "samla test window")
        .unwrap_or_else(|| panic!("test window not listed: {windows:?}"));
    assert_eq!(listed.id, format!("0x{window:x}"));

    // The whole screen: root colour around, window colour inside.
    let mut screen =
        ScreenSource::open_x11(&x.display, &ScreenTarget::Screen(None), 30.0, UNIX_EPOCH).unwrap();
    assert_eq!((screen.format().width, screen.format().height), (1280, 800));
    let mut frame = VideoFrame::new(0, 0);
    screen.next_frame(&mut frame).unwrap();
    assert_eq!((frame.width(), frame.height()), (1280, 800));
    assert_colour(&frame, 10, 10, ROOT_COLOUR);
    assert_colour(&frame, 1270, 790, ROOT_COLOUR);
    assert_colour(&frame, 100, 120, WINDOW_COLOUR);
    assert_colour(&frame, 419, 319, WINDOW_COLOUR);
    assert_colour(&frame, 420, 320, ROOT_COLOUR);
    assert!(frame.timestamp_us > 0);

    // One window by id: exactly its 320x200 pixels.
    let mut win = ScreenSource::open_x11(
        &x.display,
        &ScreenTarget::Window(listed.id.clone()),
        30.0,
        UNIX_EPOCH,
    )
    .unwrap();
    win.next_frame(&mut frame).unwrap();
    assert_eq!((frame.width(), frame.height()), (320, 200));
    for (px, py) in [(0, 0), (319, 199), (160, 100)] {
        assert_colour(&frame, px, py, WINDOW_COLOUR);
    }

    // Moved partly off the screen: only the visible part is captured.
    conn.configure_window(window, &ConfigureWindowAux::new().x(1200).y(700))
        .unwrap();
    conn.sync().unwrap();
    win.next_frame(&mut frame).unwrap();
    assert_eq!((frame.width(), frame.height()), (80, 100));
    assert_colour(&frame, 40, 50, WINDOW_COLOUR);

    // Closed: the share ends with a clear error.
    conn.destroy_window(window).unwrap();
    conn.sync().unwrap();
    let err = win.next_frame(&mut frame).unwrap_err();
    assert!(
        matches!(
            err,
            CaptureError::DeviceLost {
                kind: DeviceKind::Window,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("closed"), "{err}");
}

#[test]
fn unknown_targets_are_reported_as_missing() {
    let x = Xvfb::start(640, 480);
    let err = ScreenSource::open_x11(
        &x.display,
        &ScreenTarget::Window("0x7fffff".into()),
        15.0,
        UNIX_EPOCH,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            CaptureError::DeviceNotFound {
                kind: DeviceKind::Window,
                ..
            }
        ),
        "{err}"
    );
    let err = ScreenSource::open_x11(
        &x.display,
        &ScreenTarget::Screen(Some("HDMI-9".into())),
        15.0,
        UNIX_EPOCH,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no screen found matching \"HDMI-9\"; connect one or choose a synthetic test source"
    );
}

/// Not an assertion on speed (machines differ): prints what one 1280x800
/// grab plus I420 conversion costs, for BENCHMARKS.md.
#[test]
fn reports_grab_cost() {
    let x = Xvfb::start(1280, 800);
    let _scene = draw_scene(&x.display);
    let mut screen =
        ScreenSource::open_x11(&x.display, &ScreenTarget::Screen(None), 30.0, UNIX_EPOCH)
            .unwrap()
            .with_pacing(Pacing::Unpaced);
    let mut frame = VideoFrame::new(0, 0);
    screen.next_frame(&mut frame).unwrap();
    let frames = 30;
    let start = Instant::now();
    for _ in 0..frames {
        screen.next_frame(&mut frame).unwrap();
    }
    let per_frame: Duration = start.elapsed() / frames;
    println!(
        "x11 GetImage 1280x800 + BGRX->I420: {:.1} ms per frame ({:.0} fps possible)",
        per_frame.as_secs_f64() * 1e3,
        1.0 / per_frame.as_secs_f64()
    );
}
