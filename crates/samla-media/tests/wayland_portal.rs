//! Screen capture in a real Wayland session: sway (headless), xdg-desktop-portal with its
//! wlroots backend, and PipeWire, as a sway user runs them (`support/sway.rs`). The screen
//! shows a known picture; what the portal capture delivers must be that picture, and closing
//! the sharing dialog must be reported as denied.
//!
//! The picture is checked only where the machine has a GPU (`/dev/dri`): without one, wlroots
//! offers the portal no DMA-BUF buffers and xdg-desktop-portal-wlr 0.7 refuses every cast.
//!
//! One test in its own binary: it points the whole process at the desktop (environment), and
//! the portal library keeps its first D-Bus connection for the process.
#![cfg(target_os = "linux")]

#[path = "support/session.rs"]
mod session;
#[path = "support/sway.rs"]
mod sway;

use std::path::Path;
use std::time::{Duration, Instant, UNIX_EPOCH};

use samla_media::capture::convert::{chroma, luma};
use samla_media::{
    list_devices, CaptureError, DeviceKind, ScreenSource, ScreenTarget, VideoFrame, VideoSource,
    SYSTEM_PICKER_ID,
};
use sway::WaylandDesktop;

const WIDTH: u32 = 640;
const HEIGHT: u32 = 360;
const BACKGROUND: [u8; 3] = [0x30, 0x60, 0xc0];
const PANEL: [u8; 3] = [0xd0, 0x20, 0x20];
/// The panel's corners, left-top inclusive, right-bottom exclusive.
const PANEL_AT: (u32, u32, u32, u32) = (100, 120, 420, 320);

/// The screen's picture: a blue background with a red panel off-centre, so that a mirrored,
/// shifted or colour-swapped capture fails.
fn write_scene(path: &Path) {
    let (x0, y0, x1, y1) = PANEL_AT;
    let mut rgb = Vec::with_capacity((WIDTH * HEIGHT * 3) as usize);
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            let inside = (x0..x1).contains(&x) && (y0..y1).contains(&y);
            rgb.extend_from_slice(if inside { &PANEL } else { &BACKGROUND });
        }
    }
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = png::Encoder::new(file, WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .unwrap()
        .write_image_data(&rgb)
        .unwrap();
}

/// Y, U, V of the pixel at (x, y).
fn yuv_at(frame: &VideoFrame, x: u32, y: u32) -> (u8, u8, u8) {
    let (x, y) = (x as usize, y as usize);
    let c = (y / 2) * frame.chroma_width() + x / 2;
    (
        frame.y()[y * frame.width() as usize + x],
        frame.u()[c],
        frame.v()[c],
    )
}

/// Whether the pixel at (x, y) is `rgb`, within rounding.
fn shows(frame: &VideoFrame, x: u32, y: u32, [r, g, b]: [u8; 3]) -> bool {
    let (want_u, want_v) = chroma(r, g, b);
    let (got_y, got_u, got_v) = yuv_at(frame, x, y);
    got_y.abs_diff(luma(r, g, b)) <= 2 && got_u.abs_diff(want_u) <= 2 && got_v.abs_diff(want_v) <= 2
}

/// Points inside and around the panel, away from its edges (chroma is shared by 2x2 pixels).
fn shows_scene(frame: &VideoFrame) -> Result<(), String> {
    let (x0, y0, x1, y1) = PANEL_AT;
    let checks = [
        (x0 + 10, y0 + 10, PANEL),
        (x1 - 10, y1 - 10, PANEL),
        ((x0 + x1) / 2, (y0 + y1) / 2, PANEL),
        (x0 - 10, y0 + 10, BACKGROUND),
        (x1 + 10, y1 - 10, BACKGROUND),
        (x0 + 10, y0 - 10, BACKGROUND),
        (x1 - 10, y1 + 10, BACKGROUND),
        (10, 10, BACKGROUND),
        (WIDTH - 10, HEIGHT - 10, BACKGROUND),
    ];
    for (x, y, rgb) in checks {
        if !shows(frame, x, y, rgb) {
            return Err(format!(
                "pixel ({x},{y}) is YUV {:?}, expected {rgb:02x?}",
                yuv_at(frame, x, y)
            ));
        }
    }
    Ok(())
}

#[test]
fn the_portal_shares_what_the_wayland_screen_shows_and_a_closed_dialog_is_denied() {
    let scene = std::env::temp_dir().join(format!("samla-scene-{}.png", std::process::id()));
    write_scene(&scene);
    let desktop = WaylandDesktop::start(&scene, WIDTH, HEIGHT);
    desktop.enter();

    // The share picker offers the system's dialog, as on any Wayland desktop.
    let screens = list_devices(DeviceKind::Screen).unwrap();
    assert_eq!(screens.len(), 1, "{screens:?}");
    assert_eq!(screens[0].id, SYSTEM_PICKER_ID);

    let target = ScreenTarget::Screen(Some(SYSTEM_PICKER_ID.into()));

    // The user closes the sharing dialog: the app is told sharing was denied (and does not
    // go on to start a cast the portal has already ended, which would never be answered).
    desktop.deny_sharing(true);
    let err = open_in_time(&target, &desktop).unwrap_err();
    assert!(
        matches!(err, CaptureError::PermissionDenied { .. }),
        "closing the dialog gave {err:?}"
    );

    // The user picks the screen: the capture is that screen's picture.
    desktop.deny_sharing(false);
    if !Path::new("/dev/dri").exists() {
        // xdg-desktop-portal-wlr 0.7 starts a cast only where the compositor offers DMA-BUF
        // buffers, and wlroots without a GPU renders with pixman, which offers memory buffers
        // alone (xdg-desktop-portal-wlr issue 289). So here the portal refuses the cast.
        let err = open_in_time(&target, &desktop).unwrap_err();
        eprintln!(
            "not checked on this machine (no /dev/dri, so no DMA-BUF for the portal): \
             the shared picture; the portal said: {err}"
        );
        return;
    }
    let mut source = open_in_time(&target, &desktop).unwrap_or_else(|e| {
        panic!(
            "opening the portal capture failed: {e}; logs in {}",
            desktop.processes.dir.display()
        )
    });
    let mut frame = VideoFrame::new(0, 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        source.next_frame(&mut frame).unwrap();
        let problem = if (frame.width(), frame.height()) == (WIDTH, HEIGHT) {
            match shows_scene(&frame) {
                Ok(()) => break,
                Err(e) => e,
            }
        } else {
            format!("a {}x{} frame", frame.width(), frame.height())
        };
        assert!(
            Instant::now() < deadline,
            "the capture never showed the screen's picture: {problem}; logs in {}",
            desktop.processes.dir.display()
        );
    }
    let _ = std::fs::remove_file(&scene);
}

/// Opens the portal capture, failing the test if the portal has not answered in a minute:
/// the dialog here answers at once, so a longer wait is a hang a user would be stuck in.
fn open_in_time(
    target: &ScreenTarget,
    desktop: &WaylandDesktop,
) -> Result<ScreenSource, CaptureError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let target = target.clone();
    std::thread::spawn(move || {
        let _ = tx.send(ScreenSource::open(&target, 15.0, UNIX_EPOCH));
    });
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| {
            panic!(
                "the portal never answered; logs in {}",
                desktop.processes.dir.display()
            )
        })
}
