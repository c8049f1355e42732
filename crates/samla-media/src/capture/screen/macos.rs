//! macOS screen and window capture with CoreGraphics.
//!
//! **Not run by this project's tests**: the build machine and CI are Linux,
//! so this file is only type-checked there (`cargo check --target
//! x86_64-apple-darwin`, see scripts/test). What it decides from the
//! system's answers (which windows to offer, pixel layout, error kinds)
//! lives in [`super::listing`] and is tested on every machine.
//!
//! A display is read with `CGDisplayCreateImage`, a window with
//! `CGWindowListCreateImage` (including while other windows cover it), and
//! the window list comes from `CGWindowListCopyWindowInfo`. Since macOS
//! 10.15 all of these need the Screen Recording permission; without it the
//! system hands back the wallpaper and no window titles rather than an
//! error, so access is checked first (`CGPreflightScreenCaptureAccess`) and a
//! refusal is [`CaptureError::PermissionDenied`]. The first refusal also asks
//! the system to show its permission prompt.
//!
//! These calls are deprecated in favour of ScreenCaptureKit (macOS 12.3+,
//! an Objective-C async API); they still work on macOS 14 and keep this
//! backend small. Each frame copies the image once (`CGDataProviderCopyData`).

use core_foundation::array::CFArray;
use core_foundation::base::{CFType, TCFType};
use core_foundation::dictionary::{CFDictionary, CFDictionaryRef};
use core_foundation::number::CFNumber;
use core_foundation::string::{CFString, CFStringRef};
use core_foundation::ConcreteCFType;
use core_graphics::display::{CGDirectDisplayID, CGDisplay};
use core_graphics::geometry::{CGPoint, CGRect, CGSize};
use core_graphics::image::CGImage;
use core_graphics::window::{
    copy_window_info, create_image, kCGNullWindowID, kCGWindowBounds,
    kCGWindowImageBoundsIgnoreFraming, kCGWindowImageNominalResolution, kCGWindowLayer,
    kCGWindowListExcludeDesktopElements, kCGWindowListOptionIncludingWindow,
    kCGWindowListOptionOnScreenOnly, kCGWindowName, kCGWindowNumber, kCGWindowOwnerName,
    kCGWindowSharingState, CGWindowID,
};
use foreign_types::ForeignType;

use crate::capture::convert::packed_rgb_to_i420;
use crate::capture::{CaptureError, DeviceInfo, DeviceKind};
use crate::frame::VideoFrame;

use super::listing::{
    cg_pixel_layout, empty_grab_error, parse_handle, screen_list, window_list, ScreenCandidate,
    WindowCandidate,
};
use super::ScreenTarget;

#[link(name = "CoreGraphics", kind = "framework")]
extern "C" {
    /// Whether this process may record the screen (macOS 10.15+).
    fn CGPreflightScreenCaptureAccess() -> bool;
    /// Shows the system's Screen Recording prompt once per process.
    fn CGRequestScreenCaptureAccess() -> bool;
    fn CGImageGetBitmapInfo(image: *mut core_graphics::sys::CGImage) -> u32;
}

fn access_allowed() -> bool {
    // SAFETY: no arguments; available on every macOS Rust targets.
    unsafe { CGPreflightScreenCaptureAccess() }
}

/// Fails with [`CaptureError::PermissionDenied`] (after asking the system
/// to prompt the user) when Screen Recording is not allowed.
fn require_access(kind: DeviceKind) -> Result<(), CaptureError> {
    if access_allowed() {
        return Ok(());
    }
    // SAFETY: as above. The answer only matters after the app restarts,
    // which is what macOS requires once the user allows it.
    unsafe { CGRequestScreenCaptureAccess() };
    Err(CaptureError::PermissionDenied {
        kind,
        name: "screen recording".into(),
    })
}

fn display_name(display: &CGDisplay, index: usize) -> String {
    if display.is_builtin() {
        "Built-in display".to_owned()
    } else {
        format!("Display {}", index + 1)
    }
}

fn displays() -> Vec<CGDirectDisplayID> {
    CGDisplay::active_displays().unwrap_or_default()
}

type WindowInfo = CFDictionary<CFString, CFType>;

fn field<T: ConcreteCFType>(info: &WindowInfo, key: CFStringRef) -> Option<T> {
    // SAFETY: the keys are the framework's static CFStrings.
    let key = unsafe { CFString::wrap_under_get_rule(key) };
    info.find(&key).and_then(|value| value.downcast::<T>())
}

fn number(info: &WindowInfo, key: CFStringRef) -> Option<i64> {
    field::<CFNumber>(info, key).and_then(|n| n.to_i64())
}

/// Width and height of a window's `kCGWindowBounds` dictionary.
fn bounds_size(info: &WindowInfo) -> (i64, i64) {
    let Some(bounds) = field::<CFDictionary>(info, unsafe { kCGWindowBounds }) else {
        return (0, 0);
    };
    // SAFETY: a bounds dictionary maps CFString keys to CFNumbers.
    let bounds: WindowInfo =
        unsafe { CFDictionary::wrap_under_get_rule(bounds.as_concrete_TypeRef()) };
    let side = |key: &'static str| {
        bounds
            .find(CFString::from_static_string(key))
            .and_then(|v| v.downcast::<CFNumber>())
            .and_then(|n| n.to_f64())
            .map_or(0, |v| v as i64)
    };
    (side("Width"), side("Height"))
}

/// The window list's dictionaries, for `option` and `window`.
fn window_infos(option: u32, window: CGWindowID) -> Vec<WindowInfo> {
    let Some(array): Option<CFArray> = copy_window_info(option, window) else {
        return Vec::new();
    };
    array
        .iter()
        // SAFETY: CGWindowListCopyWindowInfo returns an array of
        // CFDictionaries with CFString keys.
        .map(|item| unsafe { WindowInfo::wrap_under_get_rule(*item as CFDictionaryRef) })
        .collect()
}

/// Screens or windows. Both need Screen Recording access (window titles are
/// hidden without it, so the list would be empty).
pub(super) fn list(kind: DeviceKind) -> Result<Vec<DeviceInfo>, CaptureError> {
    require_access(kind)?;
    if kind == DeviceKind::Screen {
        return Ok(screen_list(
            displays()
                .into_iter()
                .enumerate()
                .map(|(i, id)| {
                    let display = CGDisplay::new(id);
                    ScreenCandidate {
                        id: id.to_string(),
                        name: display_name(&display, i),
                        width: i64::try_from(display.pixels_wide()).unwrap_or(0),
                        height: i64::try_from(display.pixels_high()).unwrap_or(0),
                        primary: display.is_main(),
                    }
                })
                .collect(),
        ));
    }
    let infos = window_infos(
        kCGWindowListOptionOnScreenOnly | kCGWindowListExcludeDesktopElements,
        kCGNullWindowID,
    );
    // SAFETY (for the statics): CoreGraphics' constant CFString keys.
    let (k_number, k_name, k_owner, k_layer, k_sharing) = unsafe {
        (
            kCGWindowNumber,
            kCGWindowName,
            kCGWindowOwnerName,
            kCGWindowLayer,
            kCGWindowSharingState,
        )
    };
    Ok(window_list(
        infos
            .iter()
            .filter_map(|info| {
                let id = number(info, k_number)?;
                let (width, height) = bounds_size(info);
                Some(WindowCandidate {
                    id: id.to_string(),
                    title: field::<CFString>(info, k_name)
                        .map_or_else(String::new, |s| s.to_string()),
                    app: field::<CFString>(info, k_owner)
                        .map_or_else(String::new, |s| s.to_string()),
                    width,
                    height,
                    // Layer 0 holds ordinary application windows; a sharing
                    // state of 0 (none) means the owner excluded it from capture.
                    ordinary: number(info, k_layer) == Some(0)
                        && number(info, k_sharing) != Some(0),
                })
            })
            .collect(),
    ))
}

#[derive(Debug)]
enum What {
    Display(CGDirectDisplayID),
    Window(CGWindowID),
}

/// An open CoreGraphics capture of one display or window.
#[derive(Debug)]
pub(super) struct MacGrabber {
    what: What,
    name: String,
    size: (u32, u32),
}

impl MacGrabber {
    /// Resolves `target` (a display id, or a window id) after checking the
    /// Screen Recording permission.
    pub(super) fn open(target: &ScreenTarget) -> Result<Self, CaptureError> {
        let kind = target.kind();
        require_access(kind)?;
        let not_found = |id: &str| CaptureError::DeviceNotFound {
            kind,
            requested: Some(id.to_owned()),
        };
        let all = displays();
        let (what, name) = match target {
            ScreenTarget::Screen(None) => {
                let main = CGDisplay::main();
                let index = all.iter().position(|&d| d == main.id).unwrap_or(0);
                (What::Display(main.id), display_name(&main, index))
            }
            ScreenTarget::Screen(Some(id)) => {
                let wanted: CGDirectDisplayID = id.parse().map_err(|_| not_found(id))?;
                let index = all
                    .iter()
                    .position(|&d| d == wanted)
                    .ok_or_else(|| not_found(id))?;
                (
                    What::Display(wanted),
                    display_name(&CGDisplay::new(wanted), index),
                )
            }
            ScreenTarget::Window(id) => {
                let wanted = parse_handle(id)
                    .and_then(|h| CGWindowID::try_from(h).ok())
                    .ok_or_else(|| not_found(id))?;
                let info = window_infos(kCGWindowListOptionIncludingWindow, wanted);
                let info = info.first().ok_or_else(|| not_found(id))?;
                let title = field::<CFString>(info, unsafe { kCGWindowName })
                    .map(|s| s.to_string())
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| id.clone());
                (What::Window(wanted), title)
            }
        };
        let mut grabber = Self {
            what,
            name,
            size: (0, 0),
        };
        if let Ok(image) = grabber.image() {
            grabber.size = (image.width() as u32, image.height() as u32);
        }
        Ok(grabber)
    }

    pub(super) fn size(&self) -> (u32, u32) {
        self.size
    }

    fn kind(&self) -> DeviceKind {
        match self.what {
            What::Display(_) => DeviceKind::Screen,
            What::Window(_) => DeviceKind::Window,
        }
    }

    fn still_there(&self) -> bool {
        match self.what {
            What::Display(id) => displays().contains(&id),
            What::Window(id) => !window_infos(kCGWindowListOptionIncludingWindow, id).is_empty(),
        }
    }

    fn image(&self) -> Result<CGImage, CaptureError> {
        let image = match self.what {
            What::Display(id) => CGDisplay::new(id).image(),
            What::Window(id) => {
                // CGRectNull: the window's own bounds.
                let null = CGRect::new(
                    &CGPoint::new(f64::INFINITY, f64::INFINITY),
                    &CGSize::new(0.0, 0.0),
                );
                create_image(
                    null,
                    kCGWindowListOptionIncludingWindow,
                    id,
                    kCGWindowImageBoundsIgnoreFraming | kCGWindowImageNominalResolution,
                )
            }
        };
        image.ok_or_else(|| {
            empty_grab_error(
                self.kind(),
                &self.name,
                access_allowed(),
                self.still_there(),
            )
        })
    }

    /// Reads the target into `out`. A minimised window (an empty image)
    /// keeps its last size and shows black until it is back.
    pub(super) fn grab(&mut self, out: &mut VideoFrame) -> Result<(), CaptureError> {
        let image = self.image()?;
        let (w, h) = (image.width(), image.height());
        if w == 0 || h == 0 {
            let (w, h) = self.size;
            out.resize(w.max(2), h.max(2));
            let (y, u, v) = out.planes_mut();
            y.fill(16);
            u.fill(128);
            v.fill(128);
            return Ok(());
        }
        // SAFETY: `image` is a live CGImage.
        let info = unsafe { CGImageGetBitmapInfo(image.as_ptr()) };
        let layout = cg_pixel_layout(image.bits_per_component(), image.bits_per_pixel(), info)?;
        let data = image.data();
        let (w, h) = (
            u32::try_from(w)
                .map_err(|_| CaptureError::UnsupportedFormat(format!("{w} pixels wide")))?,
            u32::try_from(h)
                .map_err(|_| CaptureError::UnsupportedFormat(format!("{h} pixels high")))?,
        );
        packed_rgb_to_i420(data.bytes(), layout, w, h, image.bytes_per_row(), out)?;
        self.size = (w, h);
        Ok(())
    }
}
