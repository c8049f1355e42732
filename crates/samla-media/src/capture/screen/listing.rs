//! The platform-independent half of the Windows and macOS backends: which
//! screens and windows the share picker offers, in what order and under what
//! name, and how a macOS bitmap's pixel layout is read.
//!
//! The platform files only gather raw facts from the operating system (ids,
//! titles, sizes, flags); everything decided from those facts lives here, so
//! it is tested on every machine, including the Linux one that builds this
//! project and cannot run the Windows or macOS code.

#[cfg(any(test, target_os = "macos"))]
use crate::capture::convert::PackedRgb;
use crate::capture::{CaptureError, DeviceInfo, DeviceKind};

/// Windows smaller than this on either side are not offered: they are
/// tooltips, tray helpers and invisible message windows, not something a
/// person means to share.
pub(super) const MIN_WINDOW_SIDE: i64 = 48;

/// One monitor as the platform reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ScreenCandidate {
    /// Id to open it with again (a device name, a display id).
    pub id: String,
    /// What the system calls it.
    pub name: String,
    pub width: i64,
    pub height: i64,
    /// The system's main monitor (the one with the menu bar or taskbar).
    pub primary: bool,
}

/// One top-level window as the platform reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct WindowCandidate {
    /// Id to open it with again (an HWND, a CGWindowID), as text.
    pub id: String,
    /// The window's title; many helper windows have none.
    pub title: String,
    /// The application that owns it, where the platform says.
    pub app: String,
    pub width: i64,
    pub height: i64,
    /// Whether the platform considers it an ordinary, visible application
    /// window (not a tool window, not above or below the normal layer, not
    /// excluded from capture by its owner, not our own).
    pub ordinary: bool,
}

/// The monitors for the picker: the primary one first (and the default),
/// then the others in the platform's order.
pub(super) fn screen_list(mut screens: Vec<ScreenCandidate>) -> Vec<DeviceInfo> {
    // Stable, so the others keep the platform's (left-to-right) order.
    screens.sort_by_key(|s| !s.primary);
    let any_primary = screens.first().is_some_and(|s| s.primary);
    screens
        .into_iter()
        .enumerate()
        .map(|(i, s)| DeviceInfo {
            kind: DeviceKind::Screen,
            name: format!("{} ({}x{})", s.name, s.width, s.height),
            id: s.id,
            // Without a primary flag the first one stands in, so a picker
            // always has something selected.
            is_default: if any_primary { s.primary } else { i == 0 },
        })
        .collect()
}

/// The windows for the picker: only ordinary, titled windows big enough to
/// be meant, sorted by name (case-insensitively) so the list does not jump
/// about as focus changes the platform's front-to-back order.
pub(super) fn window_list(windows: Vec<WindowCandidate>) -> Vec<DeviceInfo> {
    let mut list: Vec<DeviceInfo> = windows
        .into_iter()
        .filter(|w| {
            w.ordinary
                && !w.title.trim().is_empty()
                && w.width >= MIN_WINDOW_SIDE
                && w.height >= MIN_WINDOW_SIDE
        })
        .map(|w| {
            let title = w.title.trim();
            let app = w.app.trim();
            DeviceInfo {
                kind: DeviceKind::Window,
                name: if app.is_empty() || title.contains(app) {
                    title.to_owned()
                } else {
                    format!("{title} — {app}")
                },
                id: w.id,
                is_default: false,
            }
        })
        .collect();
    list.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then_with(|| a.id.cmp(&b.id))
    });
    list
}

/// A window id as the picker shows it (`0x1a2b`, hex like HWNDs are
/// printed) or in decimal (CGWindowIDs); `None` for anything else, which the
/// caller reports as a window not found rather than a crash.
pub(super) fn parse_handle(id: &str) -> Option<u64> {
    let id = id.trim();
    match id.strip_prefix("0x").or_else(|| id.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => id.parse().ok(),
    }
}

/// `E_ACCESSDENIED`: GDI refuses to read the secure desktop (a UAC prompt,
/// the lock screen) and windows of elevated processes.
#[cfg(any(test, windows))]
const E_ACCESSDENIED: i32 = 0x8007_0005_u32 as i32;
/// `HRESULT_FROM_WIN32(ERROR_INVALID_WINDOW_HANDLE)`: the window closed.
#[cfg(any(test, windows))]
const E_INVALID_WINDOW_HANDLE: i32 = 0x8007_0578_u32 as i32;

/// The error for a failed Windows capture call, from its `HRESULT`.
#[cfg(any(test, windows))]
pub(super) fn win32_error(
    kind: DeviceKind,
    name: &str,
    hresult: i32,
    message: &str,
) -> CaptureError {
    match hresult {
        E_ACCESSDENIED => CaptureError::PermissionDenied {
            kind,
            name: name.to_owned(),
        },
        E_INVALID_WINDOW_HANDLE => CaptureError::DeviceLost {
            kind,
            name: name.to_owned(),
            reason: "the window was closed".into(),
        },
        _ => CaptureError::Backend {
            kind,
            reason: format!("{name}: {message} (HRESULT {:#010x})", hresult as u32),
        },
    }
}

/// `CGBitmapInfo`'s byte-order field and the values it takes.
#[cfg(any(test, target_os = "macos"))]
const BYTE_ORDER_MASK: u32 = 0x7000;
#[cfg(any(test, target_os = "macos"))]
const BYTE_ORDER_DEFAULT: u32 = 0;
#[cfg(any(test, target_os = "macos"))]
const BYTE_ORDER_32_BIG: u32 = 4 << 12;
#[cfg(any(test, target_os = "macos"))]
const BYTE_ORDER_32_LITTLE: u32 = 2 << 12;
/// `CGImageAlphaInfo`, the low five bits of `CGBitmapInfo`.
#[cfg(any(test, target_os = "macos"))]
const ALPHA_MASK: u32 = 0x1f;
#[cfg(any(test, target_os = "macos"))]
const ALPHA_NONE: u32 = 0;
#[cfg(any(test, target_os = "macos"))]
const ALPHA_PREMULTIPLIED_LAST: u32 = 1;
#[cfg(any(test, target_os = "macos"))]
const ALPHA_PREMULTIPLIED_FIRST: u32 = 2;
#[cfg(any(test, target_os = "macos"))]
const ALPHA_LAST: u32 = 3;
#[cfg(any(test, target_os = "macos"))]
const ALPHA_FIRST: u32 = 4;
#[cfg(any(test, target_os = "macos"))]
const ALPHA_NONE_SKIP_LAST: u32 = 5;
#[cfg(any(test, target_os = "macos"))]
const ALPHA_NONE_SKIP_FIRST: u32 = 6;

/// Where R, G and B sit in a macOS `CGImage` with 8-bit components, from its
/// bits per pixel and `CGBitmapInfo`. Screen grabs are 32-bit BGRA
/// (little-endian, alpha first) on every Mac we know of, but the layout is
/// the image's to say, and a wrong guess would swap colours silently.
#[cfg(any(test, target_os = "macos"))]
pub(super) fn cg_pixel_layout(
    bits_per_component: usize,
    bits_per_pixel: usize,
    bitmap_info: u32,
) -> Result<PackedRgb, CaptureError> {
    let unsupported = || {
        CaptureError::UnsupportedFormat(format!(
            "screen image with {bits_per_component}-bit components, {bits_per_pixel} bits per pixel and bitmap info {bitmap_info:#x}"
        ))
    };
    if bits_per_component != 8 {
        return Err(unsupported());
    }
    let alpha = bitmap_info & ALPHA_MASK;
    let little = match bitmap_info & BYTE_ORDER_MASK {
        BYTE_ORDER_32_LITTLE => true,
        BYTE_ORDER_DEFAULT | BYTE_ORDER_32_BIG => false,
        _ => return Err(unsupported()),
    };
    let rgb = |r, g, b| PackedRgb {
        bytes_per_pixel: 4,
        r,
        g,
        b,
    };
    match (bits_per_pixel, alpha, little) {
        (24, ALPHA_NONE, false) => Ok(PackedRgb::RGB),
        (32, ALPHA_FIRST | ALPHA_PREMULTIPLIED_FIRST | ALPHA_NONE_SKIP_FIRST, false) => {
            Ok(rgb(1, 2, 3)) // A R G B in memory
        }
        (32, ALPHA_LAST | ALPHA_PREMULTIPLIED_LAST | ALPHA_NONE_SKIP_LAST, false) => {
            Ok(rgb(0, 1, 2)) // R G B A
        }
        (32, ALPHA_FIRST | ALPHA_PREMULTIPLIED_FIRST | ALPHA_NONE_SKIP_FIRST, true) => {
            Ok(PackedRgb::BGRX) // B G R A
        }
        (32, ALPHA_LAST | ALPHA_PREMULTIPLIED_LAST | ALPHA_NONE_SKIP_LAST, true) => {
            Ok(rgb(3, 2, 1)) // A B G R
        }
        _ => Err(unsupported()),
    }
}

/// What an empty grab means on macOS. `CGWindowListCreateImage` returns
/// nothing both for a window that has gone and, on some versions, when Screen
/// Recording is not allowed; the two need different advice, so the caller
/// checks both facts and this picks the error.
#[cfg(any(test, target_os = "macos"))]
pub(super) fn empty_grab_error(
    kind: DeviceKind,
    name: &str,
    access_allowed: bool,
    still_there: bool,
) -> CaptureError {
    if !access_allowed {
        CaptureError::PermissionDenied {
            kind,
            name: name.to_owned(),
        }
    } else if !still_there {
        CaptureError::DeviceLost {
            kind,
            name: name.to_owned(),
            reason: if kind == DeviceKind::Window {
                "the window was closed".into()
            } else {
                "the display was disconnected".into()
            },
        }
    } else {
        CaptureError::Backend {
            kind,
            reason: format!("the system returned no image of {name:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::convert::packed_rgb_to_i420;
    use crate::capture::convert::{chroma, luma};
    use crate::frame::VideoFrame;

    fn window(id: &str, title: &str, app: &str, size: i64, ordinary: bool) -> WindowCandidate {
        WindowCandidate {
            id: id.into(),
            title: title.into(),
            app: app.into(),
            width: size,
            height: size,
            ordinary,
        }
    }

    #[test]
    fn only_titled_ordinary_windows_of_a_real_size_are_offered_sorted_by_name() {
        let list = window_list(vec![
            window("0x10", "terminal", "", 600, true),
            window("0x20", "", "Finder", 600, true),
            window("0x30", "Tooltip", "", 20, true),
            window("0x40", "Tray", "", 600, false),
            window("0x50", "Budget.ods", "LibreOffice Calc", 800, true),
            window("0x60", "  Mail  ", "Mail", 800, true),
        ]);
        let names: Vec<_> = list.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["Budget.ods — LibreOffice Calc", "Mail", "terminal"]);
        assert_eq!(list[0].id, "0x50");
        assert!(list
            .iter()
            .all(|d| d.kind == DeviceKind::Window && !d.is_default));
    }

    #[test]
    fn windows_with_the_same_title_keep_a_stable_order() {
        let list = window_list(vec![
            window("0x2", "Untitled", "", 100, true),
            window("0x1", "untitled", "", 100, true),
        ]);
        let ids: Vec<_> = list.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["0x1", "0x2"]);
    }

    #[test]
    fn the_primary_screen_comes_first_and_is_the_default() {
        let screen = |id: &str, primary| ScreenCandidate {
            id: id.into(),
            name: format!("Display {id}"),
            width: 1920,
            height: 1080,
            primary,
        };
        let list = screen_list(vec![
            screen("1", false),
            screen("2", true),
            screen("3", false),
        ]);
        let ids: Vec<_> = list.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["2", "1", "3"]);
        assert_eq!(list[0].name, "Display 2 (1920x1080)");
        assert_eq!(
            list.iter().map(|d| d.is_default).collect::<Vec<_>>(),
            [true, false, false]
        );
        // No primary flag at all: the first one is the default.
        let list = screen_list(vec![screen("1", false), screen("2", false)]);
        assert!(list[0].is_default && !list[1].is_default);
    }

    #[test]
    fn mac_screen_grabs_read_as_bgrx_and_odd_layouts_are_refused() {
        // kCGBitmapByteOrder32Little | kCGImageAlphaPremultipliedFirst: what
        // CGDisplayCreateImage returns.
        assert_eq!(cg_pixel_layout(8, 32, 0x2002).unwrap(), PackedRgb::BGRX);
        assert_eq!(cg_pixel_layout(8, 32, 0x2006).unwrap(), PackedRgb::BGRX);
        let rgba = cg_pixel_layout(8, 32, ALPHA_PREMULTIPLIED_LAST).unwrap();
        assert_eq!((rgba.r, rgba.g, rgba.b), (0, 1, 2));
        let argb = cg_pixel_layout(8, 32, BYTE_ORDER_32_BIG | ALPHA_FIRST).unwrap();
        assert_eq!((argb.r, argb.g, argb.b), (1, 2, 3));
        let abgr = cg_pixel_layout(8, 32, BYTE_ORDER_32_LITTLE | ALPHA_LAST).unwrap();
        assert_eq!((abgr.r, abgr.g, abgr.b), (3, 2, 1));
        // 16-bit components (HDR) and 16-bit pixels are not guessed at.
        assert!(matches!(
            cg_pixel_layout(16, 64, 0x2002),
            Err(CaptureError::UnsupportedFormat(_))
        ));
        assert!(cg_pixel_layout(8, 16, 0x1006).is_err());
    }

    /// Windows DIB rows are packed (width * 4); CoreGraphics pads each row
    /// to its own `bytes_per_row` (64-byte aligned). Both must convert to
    /// the same picture, with the padding never read as pixels.
    #[test]
    fn padded_platform_rows_convert_like_packed_ones() {
        let (w, h) = (6usize, 4usize);
        let pixel = |x: usize, y: usize| -> [u8; 4] {
            // B, G, R, A: a red left half, a blue right half.
            if x < w / 2 {
                [0, 0, 255, 255]
            } else {
                [255, 0, 0, 255]
            }
            .map(|c| if y == 0 { c / 2 } else { c })
        };
        let mut packed = Vec::new();
        for y in 0..h {
            for x in 0..w {
                packed.extend_from_slice(&pixel(x, y));
            }
        }
        let stride = 64;
        let mut padded = vec![0xAB; stride * h];
        for y in 0..h {
            for x in 0..w {
                padded[y * stride + x * 4..][..4].copy_from_slice(&pixel(x, y));
            }
        }
        let layout = cg_pixel_layout(8, 32, 0x2002).unwrap();
        let mut a = VideoFrame::new(0, 0);
        let mut b = VideoFrame::new(0, 0);
        packed_rgb_to_i420(&packed, layout, w as u32, h as u32, w * 4, &mut a).unwrap();
        packed_rgb_to_i420(&padded, layout, w as u32, h as u32, stride, &mut b).unwrap();
        assert_eq!((a.y(), a.u(), a.v()), (b.y(), b.u(), b.v()));
        let (y_plane, u_plane, v_plane) = (b.y(), b.u(), b.v());
        assert_eq!(y_plane[w + 1], luma(255, 0, 0)); // row 1, red half
        assert_eq!(y_plane[w + 4], luma(0, 0, 255)); // row 1, blue half
                                                     // Chroma of the lower-left 2x2 block: all red.
        let cw = b.chroma_width();
        assert_eq!((u_plane[cw], v_plane[cw]), chroma(255, 0, 0));
        // A buffer one byte short of the last row is refused, not read past.
        assert!(packed_rgb_to_i420(
            &padded[..stride * (h - 1) + w * 4 - 1],
            layout,
            w as u32,
            h as u32,
            stride,
            &mut b
        )
        .is_err());
    }

    #[test]
    fn window_handles_parse_in_hex_and_decimal_and_junk_is_refused() {
        assert_eq!(parse_handle("0x1a2b"), Some(0x1a2b));
        assert_eq!(parse_handle("0X1A2B"), Some(0x1a2b));
        assert_eq!(parse_handle("4711"), Some(4711));
        assert_eq!(parse_handle("0x"), None);
        assert_eq!(parse_handle("notepad"), None);
        assert_eq!(parse_handle("-1"), None);
    }

    #[test]
    fn windows_errors_map_to_the_kinds_the_app_explains() {
        let denied = win32_error(
            DeviceKind::Screen,
            "DISPLAY1",
            0x8007_0005_u32 as i32,
            "Access is denied.",
        );
        assert!(matches!(
            denied,
            CaptureError::PermissionDenied {
                kind: DeviceKind::Screen,
                ..
            }
        ));
        let closed = win32_error(
            DeviceKind::Window,
            "Notepad",
            0x8007_0578_u32 as i32,
            "Invalid window handle.",
        );
        assert_eq!(
            closed.to_string(),
            "window \"Notepad\" stopped delivering frames: the window was closed"
        );
        let other = win32_error(
            DeviceKind::Window,
            "Notepad",
            0x8000_4005_u32 as i32,
            "Unspecified error",
        );
        assert_eq!(
            other.to_string(),
            "window failed: Notepad: Unspecified error (HRESULT 0x80004005)"
        );
    }

    #[test]
    fn an_empty_grab_is_explained_by_what_is_known() {
        let denied = empty_grab_error(DeviceKind::Screen, "Built-in Retina Display", false, true);
        assert!(matches!(denied, CaptureError::PermissionDenied { .. }));
        assert!(denied.to_string().contains("privacy"), "{denied}");
        let gone = empty_grab_error(DeviceKind::Window, "Notes", true, false);
        assert_eq!(
            gone.to_string(),
            "window \"Notes\" stopped delivering frames: the window was closed"
        );
        let odd = empty_grab_error(DeviceKind::Window, "Notes", true, true);
        assert!(matches!(odd, CaptureError::Backend { .. }));
    }
}
