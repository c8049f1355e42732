//! Windows screen and window capture with GDI.
//!
//! **Not run by this project's tests**: the build machine and CI are Linux,
//! so this file is only type-checked there (`cargo check --target
//! x86_64-pc-windows-gnu`, see scripts/test). What it decides from the
//! system's answers (which windows to offer, error kinds) lives in
//! [`super::listing`] and is tested on every machine.
//!
//! A monitor is copied with `BitBlt` from the desktop's device context
//! (`CAPTUREBLT` includes layered windows). A window is asked to paint itself
//! into a memory bitmap with `PrintWindow(PW_RENDERFULLCONTENT)`, which also
//! works while other windows cover it and for GPU-drawn content on Windows
//! 8.1 and later. Both are read back as top-down 32-bit BGRX rows with
//! `GetDIBits`, so the row pitch is exactly `width * 4`.
//!
//! GDI was chosen over DXGI Desktop Duplication (D3D11 device, staging
//! textures, access-lost handling) to keep the first version small: at
//! screen-sharing rates a 1080p `BitBlt` is a few milliseconds.
//! Windows.Graphics.Capture is the next step if the cursor or per-window
//! capture of minimised windows is wanted.

use std::ffi::c_void;
use std::mem::size_of;

use windows::core::BOOL;
use windows::Win32::Foundation::{HWND, LPARAM, RECT};
use windows::Win32::Graphics::Gdi::{
    BitBlt, CreateCompatibleBitmap, CreateCompatibleDC, DeleteDC, DeleteObject,
    EnumDisplayMonitors, GetDC, GetDIBits, GetMonitorInfoW, ReleaseDC, SelectObject, BITMAPINFO,
    BITMAPINFOHEADER, BI_RGB, CAPTUREBLT, DIB_RGB_COLORS, HDC, HMONITOR, MONITORINFO,
    MONITORINFOEXW, ROP_CODE, SRCCOPY,
};
use windows::Win32::Storage::Xps::{PrintWindow, PRINT_WINDOW_FLAGS};
use windows::Win32::UI::WindowsAndMessaging::{
    EnumWindows, GetWindowLongW, GetWindowRect, GetWindowTextLengthW, GetWindowTextW, IsIconic,
    IsWindow, IsWindowVisible, GWL_EXSTYLE, MONITORINFOF_PRIMARY, PW_RENDERFULLCONTENT,
    WS_EX_TOOLWINDOW,
};

use crate::capture::convert::{packed_rgb_to_i420, PackedRgb};
use crate::capture::{CaptureError, DeviceInfo, DeviceKind};
use crate::frame::VideoFrame;

use super::listing::{
    parse_handle, screen_list, win32_error, window_list, ScreenCandidate, WindowCandidate,
};
use super::ScreenTarget;

/// One monitor: its device name (`\\.\DISPLAY1`) and where it sits on the
/// virtual desktop.
struct Monitor {
    device: String,
    rect: RECT,
    primary: bool,
}

unsafe extern "system" fn collect_monitor(
    monitor: HMONITOR,
    _dc: HDC,
    _rect: *mut RECT,
    data: LPARAM,
) -> BOOL {
    // SAFETY: `data` is the `&mut Vec` that `monitors` passes, alive for the
    // whole synchronous enumeration.
    let list = unsafe { &mut *(data.0 as *mut Vec<HMONITOR>) };
    list.push(monitor);
    BOOL(1)
}

fn monitors() -> Vec<Monitor> {
    let mut handles: Vec<HMONITOR> = Vec::new();
    // SAFETY: the callback only pushes into `handles`, which outlives the call.
    unsafe {
        let _ = EnumDisplayMonitors(
            None,
            None,
            Some(collect_monitor),
            LPARAM(&mut handles as *mut Vec<HMONITOR> as isize),
        );
    }
    handles
        .into_iter()
        .filter_map(|handle| {
            let mut info = MONITORINFOEXW::default();
            info.monitorInfo.cbSize = size_of::<MONITORINFOEXW>() as u32;
            // SAFETY: `info` is a MONITORINFOEXW with its size set, which
            // GetMonitorInfoW accepts through a MONITORINFO pointer.
            let ok = unsafe {
                GetMonitorInfoW(
                    handle,
                    (&mut info as *mut MONITORINFOEXW).cast::<MONITORINFO>(),
                )
            };
            ok.as_bool().then(|| Monitor {
                device: utf16_until_nul(&info.szDevice),
                rect: info.monitorInfo.rcMonitor,
                primary: info.monitorInfo.dwFlags & MONITORINFOF_PRIMARY != 0,
            })
        })
        .collect()
}

fn utf16_until_nul(text: &[u16]) -> String {
    let end = text.iter().position(|&c| c == 0).unwrap_or(text.len());
    String::from_utf16_lossy(&text[..end])
}

fn size_of_rect(rect: &RECT) -> (i64, i64) {
    (
        i64::from(rect.right) - i64::from(rect.left),
        i64::from(rect.bottom) - i64::from(rect.top),
    )
}

unsafe extern "system" fn collect_window(window: HWND, data: LPARAM) -> BOOL {
    // SAFETY: as in `collect_monitor`.
    let list = unsafe { &mut *(data.0 as *mut Vec<HWND>) };
    list.push(window);
    BOOL(1)
}

fn window_title(window: HWND) -> String {
    // SAFETY: the buffer is as long as we say; a window that closed
    // meanwhile gives length 0.
    unsafe {
        let len = GetWindowTextLengthW(window);
        if len <= 0 {
            return String::new();
        }
        let mut buffer = vec![0u16; len as usize + 1];
        let copied = GetWindowTextW(window, &mut buffer);
        String::from_utf16_lossy(&buffer[..copied.max(0) as usize])
    }
}

fn window_rect(window: HWND) -> Option<RECT> {
    let mut rect = RECT::default();
    // SAFETY: `rect` is a valid out pointer.
    unsafe { GetWindowRect(window, &mut rect) }.ok()?;
    Some(rect)
}

fn window_candidates() -> Result<Vec<WindowCandidate>, CaptureError> {
    let mut handles: Vec<HWND> = Vec::new();
    // SAFETY: the callback only pushes into `handles`, which outlives the call.
    unsafe {
        EnumWindows(
            Some(collect_window),
            LPARAM(&mut handles as *mut Vec<HWND> as isize),
        )
    }
    .map_err(|e| {
        win32_error(
            DeviceKind::Window,
            "the window list",
            e.code().0,
            &e.message(),
        )
    })?;
    Ok(handles
        .into_iter()
        .map(|window| {
            // SAFETY: these only read state of a window handle; a stale one
            // gives false/0, never undefined behaviour.
            let (visible, ex_style) = unsafe {
                (
                    IsWindowVisible(window).as_bool(),
                    GetWindowLongW(window, GWL_EXSTYLE) as u32,
                )
            };
            let (width, height) = window_rect(window).map_or((0, 0), |r| size_of_rect(&r));
            WindowCandidate {
                id: handle_id(window),
                title: window_title(window),
                app: String::new(),
                width,
                height,
                ordinary: visible && ex_style & WS_EX_TOOLWINDOW.0 == 0,
            }
        })
        .collect())
}

fn handle_id(window: HWND) -> String {
    format!("0x{:x}", window.0 as usize)
}

/// Monitors or top-level windows.
pub(super) fn list(kind: DeviceKind) -> Result<Vec<DeviceInfo>, CaptureError> {
    if kind == DeviceKind::Window {
        return Ok(window_list(window_candidates()?));
    }
    Ok(screen_list(
        monitors()
            .into_iter()
            .map(|m| {
                let (width, height) = size_of_rect(&m.rect);
                ScreenCandidate {
                    name: m.device.trim_start_matches(r"\\.\").to_owned(),
                    id: m.device,
                    width,
                    height,
                    primary: m.primary,
                }
            })
            .collect(),
    ))
}

#[derive(Debug)]
enum What {
    /// A monitor, by device name (`self.name`): its rectangle on the
    /// virtual desktop is looked up for every frame, so a resolution or
    /// arrangement change is followed and an unplugged monitor is noticed.
    Screen,
    /// A window handle, kept as an integer: `HWND` holds a raw pointer and
    /// is not `Send`, but a handle is valid from any thread.
    Window { handle: usize },
}

/// An open GDI capture of one monitor or window.
#[derive(Debug)]
pub(super) struct Win32Grabber {
    what: What,
    name: String,
    /// Reused BGRX buffer, `width * height * 4` bytes.
    pixels: Vec<u8>,
    size: (u32, u32),
}

impl Win32Grabber {
    /// Resolves `target` (a monitor's device name, or a window handle).
    pub(super) fn open(target: &ScreenTarget) -> Result<Self, CaptureError> {
        let kind = target.kind();
        let not_found = |id: &str| CaptureError::DeviceNotFound {
            kind,
            requested: Some(id.to_owned()),
        };
        let (what, name, size) = match target {
            ScreenTarget::Screen(id) => {
                let all = monitors();
                let monitor = match id {
                    None => all.iter().find(|m| m.primary).or(all.first()),
                    Some(id) => all.iter().find(|m| &m.device == id),
                }
                .ok_or_else(|| not_found(id.as_deref().unwrap_or("")))?;
                (
                    What::Screen,
                    monitor.device.clone(),
                    size_of_rect(&monitor.rect),
                )
            }
            ScreenTarget::Window(id) => {
                let handle = parse_handle(id)
                    .and_then(|h| usize::try_from(h).ok())
                    .ok_or_else(|| not_found(id))?;
                let window = HWND(handle as *mut c_void);
                // SAFETY: IsWindow accepts any value and says whether it is a window.
                if !unsafe { IsWindow(Some(window)) }.as_bool() {
                    return Err(not_found(id));
                }
                let (w, h) = window_rect(window).map_or((0, 0), |r| size_of_rect(&r));
                let title = window_title(window);
                (
                    What::Window { handle },
                    if title.is_empty() { id.clone() } else { title },
                    (w, h),
                )
            }
        };
        Ok(Self {
            what,
            name,
            pixels: Vec::new(),
            size: (
                u32::try_from(size.0).unwrap_or(0),
                u32::try_from(size.1).unwrap_or(0),
            ),
        })
    }

    pub(super) fn size(&self) -> (u32, u32) {
        self.size
    }

    fn kind(&self) -> DeviceKind {
        match self.what {
            What::Screen => DeviceKind::Screen,
            What::Window { .. } => DeviceKind::Window,
        }
    }

    /// Reads the target into `out`. A minimised window keeps its last size
    /// and shows black until it is restored.
    pub(super) fn grab(&mut self, out: &mut VideoFrame) -> Result<(), CaptureError> {
        let kind = self.kind();
        let (width, height) = match self.what {
            What::Screen => {
                let Some(RECT {
                    left: x,
                    top: y,
                    right,
                    bottom,
                }) = monitors()
                    .into_iter()
                    .find(|m| m.device == self.name)
                    .map(|m| m.rect)
                else {
                    return Err(CaptureError::DeviceLost {
                        kind,
                        name: self.name.clone(),
                        reason: "the monitor was disconnected".into(),
                    });
                };
                let (w, h) = (right - x, bottom - y);
                copy_pixels(kind, w, h, &mut self.pixels, |memory, screen| {
                    // SAFETY: both DCs are valid for the duration of the call.
                    unsafe {
                        BitBlt(
                            memory,
                            0,
                            0,
                            w,
                            h,
                            Some(screen),
                            x,
                            y,
                            ROP_CODE(SRCCOPY.0 | CAPTUREBLT.0),
                        )
                    }
                    .map_err(|e| win32_error(kind, &self.name, e.code().0, &e.message()))
                })?;
                (w, h)
            }
            What::Window { handle } => {
                let window = HWND(handle as *mut c_void);
                // SAFETY: both only query a handle; a stale one gives false.
                let (alive, minimised) =
                    unsafe { (IsWindow(Some(window)).as_bool(), IsIconic(window).as_bool()) };
                if !alive {
                    return Err(CaptureError::DeviceLost {
                        kind,
                        name: self.name.clone(),
                        reason: "the window was closed".into(),
                    });
                }
                let rect = window_rect(window).filter(|_| !minimised);
                let Some((w, h)) = rect
                    .map(|r| (r.right - r.left, r.bottom - r.top))
                    .filter(|&(w, h)| w > 0 && h > 0)
                else {
                    black(out, self.size);
                    return Ok(());
                };
                copy_pixels(kind, w, h, &mut self.pixels, |memory, _| {
                    // SAFETY: `memory` is a valid memory DC with a bitmap
                    // of the window's size selected.
                    let ok = unsafe {
                        PrintWindow(window, memory, PRINT_WINDOW_FLAGS(PW_RENDERFULLCONTENT))
                    };
                    if ok.as_bool() {
                        Ok(())
                    } else {
                        let e = windows::core::Error::from_thread();
                        Err(win32_error(kind, &self.name, e.code().0, &e.message()))
                    }
                })?;
                (w, h)
            }
        };
        // Both are positive here: `copy_pixels` refuses anything else.
        let (w, h) = (width as u32, height as u32);
        packed_rgb_to_i420(&self.pixels, PackedRgb::BGRX, w, h, w as usize * 4, out)?;
        self.size = (w, h);
        Ok(())
    }
}

fn black(out: &mut VideoFrame, (w, h): (u32, u32)) {
    out.resize(w.max(2), h.max(2));
    let (y, u, v) = out.planes_mut();
    y.fill(16);
    u.fill(128);
    v.fill(128);
}

/// The desktop DC, a memory DC and a bitmap of `width` x `height`, released
/// in reverse order whatever happens.
struct Canvas {
    screen: HDC,
    memory: HDC,
    bitmap: windows::Win32::Graphics::Gdi::HBITMAP,
}

impl Drop for Canvas {
    fn drop(&mut self) {
        // SAFETY: each handle was created by `copy_pixels` and is released once.
        unsafe {
            if !self.bitmap.is_invalid() {
                let _ = DeleteObject(self.bitmap.into());
            }
            if !self.memory.is_invalid() {
                let _ = DeleteDC(self.memory);
            }
            ReleaseDC(None, self.screen);
        }
    }
}

/// Has `draw` paint into a fresh `width` x `height` bitmap, then reads it
/// back into `pixels` as top-down BGRX. `draw` gets the memory DC (with the
/// bitmap selected) and the desktop DC.
fn copy_pixels(
    kind: DeviceKind,
    width: i32,
    height: i32,
    pixels: &mut Vec<u8>,
    draw: impl FnOnce(HDC, HDC) -> Result<(), CaptureError>,
) -> Result<(), CaptureError> {
    let failed = |what: &str| CaptureError::Backend {
        kind,
        reason: format!("GDI: {what} failed"),
    };
    if width <= 0 || height <= 0 {
        return Err(CaptureError::UnsupportedFormat(format!(
            "capture area of {width}x{height} pixels"
        )));
    }
    // SAFETY: every handle is checked before use and released by `Canvas`.
    unsafe {
        let screen = GetDC(None);
        if screen.is_invalid() {
            return Err(failed("GetDC"));
        }
        let mut canvas = Canvas {
            screen,
            memory: CreateCompatibleDC(Some(screen)),
            bitmap: Default::default(),
        };
        if canvas.memory.is_invalid() {
            return Err(failed("CreateCompatibleDC"));
        }
        canvas.bitmap = CreateCompatibleBitmap(screen, width, height);
        if canvas.bitmap.is_invalid() {
            return Err(failed("CreateCompatibleBitmap"));
        }
        let previous = SelectObject(canvas.memory, canvas.bitmap.into());
        let drawn = draw(canvas.memory, screen);
        // GetDIBits wants the bitmap selected out of every DC.
        SelectObject(canvas.memory, previous);
        drawn?;
        let mut info = BITMAPINFO {
            bmiHeader: BITMAPINFOHEADER {
                biSize: size_of::<BITMAPINFOHEADER>() as u32,
                biWidth: width,
                // Negative: top-down rows, the order the converter reads.
                biHeight: -height,
                biPlanes: 1,
                biBitCount: 32,
                biCompression: BI_RGB.0,
                ..Default::default()
            },
            ..Default::default()
        };
        pixels.resize(width as usize * height as usize * 4, 0);
        let lines = GetDIBits(
            screen,
            canvas.bitmap,
            0,
            height as u32,
            Some(pixels.as_mut_ptr().cast::<c_void>()),
            &mut info,
            DIB_RGB_COLORS,
        );
        if lines != height {
            return Err(failed("GetDIBits"));
        }
    }
    Ok(())
}
