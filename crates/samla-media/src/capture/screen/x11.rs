//! X11 screen and window capture with core-protocol `GetImage`.
//!
//! x11rb speaks the protocol in Rust, so there is no libxcb/libX11 to link
//! and nothing to install. Plain `GetImage` copies each picture through the
//! socket into a fresh reply buffer (about 4 MB for 1280x800, the one
//! per-frame allocation in the capture path); BENCHMARKS.md has the measured
//! cost, low enough at screen-sharing rates to keep MIT-SHM (shared memory,
//! needs `unsafe` libc calls) out of this first version.
//!
//! Screens are the RandR monitors (a laptop panel and a projector are two
//! screens on one X root window), plus the whole root. Windows are the
//! window manager's client list (`_NET_CLIENT_LIST`) or, without a window
//! manager, the root's mapped children. A window is read from its own
//! drawable, clipped to the part that is on the root: X keeps no contents
//! for off-screen parts without a compositor.

use x11rb::connection::Connection;
use x11rb::errors::{ConnectionError, ReplyError};
use x11rb::protocol::randr::ConnectionExt as _;
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ConnectionExt as _, ImageFormat, ImageOrder, MapState, Window, WindowClass,
};
use x11rb::rust_connection::RustConnection;

use crate::capture::convert::{packed_rgb_to_i420, PackedRgb};
use crate::capture::{CaptureError, DeviceInfo, DeviceKind};
use crate::frame::VideoFrame;

use super::ScreenTarget;

/// Screen id of the whole root window.
const ROOT_ID: &str = "root";

/// A rectangle in root coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rect {
    x: i16,
    y: i16,
    width: u16,
    height: u16,
}

#[derive(Debug)]
enum What {
    Screen(Rect),
    Window { id: Window, name: String },
}

/// An open X11 capture of one screen or window.
#[derive(Debug)]
pub(super) struct X11Grabber {
    conn: RustConnection,
    root: Window,
    root_size: (u16, u16),
    what: What,
    /// Size of the last frame, for [`super::VideoSource::format`].
    size: (u32, u32),
}

fn display_name(display: Option<&str>) -> String {
    display
        .map(str::to_owned)
        .or_else(|| std::env::var("DISPLAY").ok())
        .unwrap_or_default()
}

fn connect(
    display: Option<&str>,
    kind: DeviceKind,
) -> Result<(RustConnection, usize), CaptureError> {
    x11rb::connect(display).map_err(|e| CaptureError::Backend {
        kind,
        reason: format!(
            "cannot connect to the X display {:?}: {e}",
            display_name(display)
        ),
    })
}

fn x_error(kind: DeviceKind, e: impl std::fmt::Display) -> CaptureError {
    CaptureError::Backend {
        kind,
        reason: format!("X11: {e}"),
    }
}

impl From<ConnectionError> for CaptureError {
    fn from(e: ConnectionError) -> Self {
        x_error(DeviceKind::Screen, e)
    }
}

/// Checks that the root's pixels come as 32-bit little-endian BGRX, the
/// layout of every 24/32-bit TrueColor server we target.
fn check_pixel_layout(
    conn: &RustConnection,
    depth: u8,
    kind: DeviceKind,
) -> Result<(), CaptureError> {
    let setup = conn.setup();
    let bpp = setup
        .pixmap_formats
        .iter()
        .find(|f| f.depth == depth)
        .map(|f| f.bits_per_pixel);
    if depth < 24 || bpp != Some(32) || setup.image_byte_order != ImageOrder::LSB_FIRST {
        return Err(CaptureError::UnsupportedFormat(format!(
            "{kind} capture needs a 24-bit colour X display with 32-bit little-endian pixels (depth {depth}, {bpp:?} bits per pixel)"
        )));
    }
    Ok(())
}

struct Atoms {
    net_client_list: Atom,
    net_wm_name: Atom,
    utf8_string: Atom,
}

impl Atoms {
    fn get(conn: &RustConnection) -> Result<Self, ReplyError> {
        let intern = |name: &[u8]| -> Result<Atom, ReplyError> {
            Ok(conn.intern_atom(false, name)?.reply()?.atom)
        };
        Ok(Self {
            net_client_list: intern(b"_NET_CLIENT_LIST")?,
            net_wm_name: intern(b"_NET_WM_NAME")?,
            utf8_string: intern(b"UTF8_STRING")?,
        })
    }
}

/// The monitors RandR knows, plus the whole root first.
fn screens(
    conn: &RustConnection,
    root: Window,
    root_size: (u16, u16),
) -> Vec<(String, Rect, bool)> {
    let whole = Rect {
        x: 0,
        y: 0,
        width: root_size.0,
        height: root_size.1,
    };
    let mut list = vec![(ROOT_ID.to_owned(), whole, true)];
    // Servers without RandR 1.5 (or without RandR) have only the root.
    let Ok(monitors) = conn
        .randr_get_monitors(root, true)
        .map_err(ReplyError::from)
        .and_then(|c| c.reply())
    else {
        return list;
    };
    for m in monitors.monitors {
        let name = conn
            .get_atom_name(m.name)
            .map_err(ReplyError::from)
            .and_then(|c| c.reply())
            .map_or_else(
                |_| format!("monitor-{}", m.name),
                |r| String::from_utf8_lossy(&r.name).into_owned(),
            );
        let rect = Rect {
            x: m.x,
            y: m.y,
            width: m.width,
            height: m.height,
        };
        if rect != whole {
            list.push((name, rect, false));
        }
    }
    list
}

fn window_name(conn: &RustConnection, atoms: &Atoms, window: Window) -> Option<String> {
    for (property, kind) in [
        (atoms.net_wm_name, atoms.utf8_string),
        (AtomEnum::WM_NAME.into(), AtomEnum::STRING.into()),
    ] {
        let reply = conn
            .get_property(false, window, property, kind, 0, 1024)
            .ok()?
            .reply()
            .ok()?;
        if !reply.value.is_empty() {
            return Some(String::from_utf8_lossy(&reply.value).into_owned());
        }
    }
    None
}

/// Top-level windows worth offering: the window manager's clients, or the
/// mapped input-output children of the root when no window manager runs.
fn windows(conn: &RustConnection, root: Window) -> Result<Vec<(Window, String)>, ReplyError> {
    let atoms = Atoms::get(conn)?;
    let clients = conn
        .get_property(
            false,
            root,
            atoms.net_client_list,
            AtomEnum::WINDOW,
            0,
            4096,
        )?
        .reply()?;
    let candidates: Vec<Window> = match clients.value32() {
        Some(ids) if clients.value_len > 0 => ids.collect(),
        _ => conn.query_tree(root)?.reply()?.children,
    };
    let mut list = Vec::new();
    for window in candidates {
        let Ok(attrs) = conn.get_window_attributes(window)?.reply() else {
            continue; // closed while we looked
        };
        if attrs.map_state != MapState::VIEWABLE || attrs.class != WindowClass::INPUT_OUTPUT {
            continue;
        }
        let name =
            window_name(conn, &atoms, window).unwrap_or_else(|| format!("window 0x{window:x}"));
        list.push((window, name));
    }
    Ok(list)
}

fn root_of(conn: &RustConnection, screen: usize) -> (Window, (u16, u16), u8) {
    let s = &conn.setup().roots[screen];
    (
        s.root,
        (s.width_in_pixels, s.height_in_pixels),
        s.root_depth,
    )
}

/// Screens or windows on `display` (`None`: `$DISPLAY`).
pub(super) fn list(
    display: Option<&str>,
    kind: DeviceKind,
) -> Result<Vec<DeviceInfo>, CaptureError> {
    let (conn, screen) = connect(display, kind)?;
    let (root, root_size, _) = root_of(&conn, screen);
    if kind == DeviceKind::Window {
        let list = windows(&conn, root).map_err(|e| x_error(kind, e))?;
        return Ok(list
            .into_iter()
            .map(|(id, name)| DeviceInfo {
                kind,
                id: format!("0x{id:x}"),
                name,
                is_default: false,
            })
            .collect());
    }
    Ok(screens(&conn, root, root_size)
        .into_iter()
        .map(|(id, rect, is_default)| DeviceInfo {
            kind,
            name: if id == ROOT_ID {
                format!("All screens ({}x{})", rect.width, rect.height)
            } else {
                format!("{id} ({}x{})", rect.width, rect.height)
            },
            id,
            is_default,
        })
        .collect())
}

fn parse_window_id(id: &str) -> Option<Window> {
    match id.strip_prefix("0x") {
        Some(hex) => Window::from_str_radix(hex, 16).ok(),
        None => id.parse().ok(),
    }
}

impl X11Grabber {
    /// Connects to `display` (`None`: `$DISPLAY`) and resolves `target`.
    pub(super) fn open(display: Option<&str>, target: &ScreenTarget) -> Result<Self, CaptureError> {
        let kind = target.kind();
        let (conn, screen) = connect(display, kind)?;
        let (root, root_size, depth) = root_of(&conn, screen);
        check_pixel_layout(&conn, depth, kind)?;
        let not_found = |id: &str| CaptureError::DeviceNotFound {
            kind,
            requested: Some(id.to_owned()),
        };
        let what = match target {
            ScreenTarget::Screen(None) => What::Screen(screens(&conn, root, root_size)[0].1),
            ScreenTarget::Screen(Some(id)) => screens(&conn, root, root_size)
                .into_iter()
                .find(|(name, _, _)| name == id)
                .map(|(_, rect, _)| What::Screen(rect))
                .ok_or_else(|| not_found(id))?,
            ScreenTarget::Window(id) => {
                let window = parse_window_id(id).ok_or_else(|| not_found(id))?;
                let atoms = Atoms::get(&conn).map_err(|e| x_error(kind, e))?;
                conn.get_window_attributes(window)?
                    .reply()
                    .map_err(|_| not_found(id))?;
                What::Window {
                    id: window,
                    name: window_name(&conn, &atoms, window).unwrap_or_else(|| id.clone()),
                }
            }
        };
        let mut grabber = Self {
            conn,
            root,
            root_size,
            what,
            size: (0, 0),
        };
        grabber.size = grabber
            .region()?
            .map_or((0, 0), |(_, r)| (u32::from(r.width), u32::from(r.height)));
        Ok(grabber)
    }

    pub(super) fn size(&self) -> (u32, u32) {
        self.size
    }

    /// The drawable and the rectangle of it to read now, or `None` when a
    /// window is minimised or entirely off-screen.
    fn region(&self) -> Result<Option<(Window, Rect)>, CaptureError> {
        let (id, name) = match &self.what {
            What::Screen(rect) => return Ok(Some((self.root, *rect))),
            What::Window { id, name } => (*id, name),
        };
        let lost = || CaptureError::DeviceLost {
            kind: DeviceKind::Window,
            name: name.clone(),
            reason: "the window was closed".into(),
        };
        let attrs = self
            .conn
            .get_window_attributes(id)?
            .reply()
            .map_err(|_| lost())?;
        if attrs.map_state != MapState::VIEWABLE {
            return Ok(None);
        }
        let geometry = self.conn.get_geometry(id)?.reply().map_err(|_| lost())?;
        let origin = self
            .conn
            .translate_coordinates(id, self.root, 0, 0)?
            .reply()
            .map_err(|_| lost())?;
        // Clip the window (in root coordinates) to the root, then express
        // the visible part in the window's own coordinates.
        let (x0, y0) = (i32::from(origin.dst_x), i32::from(origin.dst_y));
        let (x1, y1) = (
            x0 + i32::from(geometry.width),
            y0 + i32::from(geometry.height),
        );
        let (vx0, vy0) = (x0.max(0), y0.max(0));
        let (vx1, vy1) = (
            x1.min(i32::from(self.root_size.0)),
            y1.min(i32::from(self.root_size.1)),
        );
        if vx1 <= vx0 || vy1 <= vy0 {
            return Ok(None);
        }
        Ok(Some((
            id,
            Rect {
                x: (vx0 - x0) as i16,
                y: (vy0 - y0) as i16,
                width: (vx1 - vx0) as u16,
                height: (vy1 - vy0) as u16,
            },
        )))
    }

    /// Reads the target into `out`. A minimised or off-screen window keeps
    /// its last size and shows black until it is back.
    pub(super) fn grab(&mut self, out: &mut VideoFrame) -> Result<(), CaptureError> {
        let kind = match self.what {
            What::Screen(_) => DeviceKind::Screen,
            What::Window { .. } => DeviceKind::Window,
        };
        let Some((drawable, rect)) = self.region()? else {
            let (w, h) = self.size;
            out.resize(w.max(2), h.max(2));
            let (y, u, v) = out.planes_mut();
            y.fill(16);
            u.fill(128);
            v.fill(128);
            return Ok(());
        };
        let image = self
            .conn
            .get_image(
                ImageFormat::Z_PIXMAP,
                drawable,
                rect.x,
                rect.y,
                rect.width,
                rect.height,
                !0,
            )?
            .reply()
            .map_err(|e| x_error(kind, e))?;
        let (w, h) = (u32::from(rect.width), u32::from(rect.height));
        packed_rgb_to_i420(&image.data, PackedRgb::BGRX, w, h, w as usize * 4, out)?;
        self.size = (w, h);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_ids_parse_in_hex_and_decimal() {
        assert_eq!(parse_window_id("0x2a00007"), Some(0x2a0_0007));
        assert_eq!(parse_window_id("42"), Some(42));
        assert_eq!(parse_window_id("window"), None);
    }

    #[test]
    fn missing_display_is_a_clear_error() {
        let err = X11Grabber::open(Some(":987"), &ScreenTarget::Screen(None)).unwrap_err();
        assert!(
            err.to_string()
                .contains("cannot connect to the X display \":987\""),
            "{err}"
        );
    }
}
