//! Screen and window capture in Wayland sessions: the desktop portal's
//! ScreenCast interface (over D-Bus, with `ashpd`) and the PipeWire video
//! stream it hands out.
//!
//! Tested against a real Wayland desktop (`tests/wayland_portal.rs`: sway
//! headless, xdg-desktop-portal with its wlroots backend, PipeWire): the
//! portal handshake, a closed dialog, and a cast the portal refuses. The
//! picture itself is checked there only on a machine with a GPU: without
//! one, xdg-desktop-portal-wlr 0.7 refuses every cast, and the CI machine
//! has none. Its pixel-format choice and error mapping are unit-tested.
//!
//! Wayland lets no application list or read other applications' windows:
//! the portal shows its own dialog, and the user picks a screen or window
//! there. So the share picker gets one entry per kind ([`PORTAL_ID`]), and
//! opening it shows the dialog. Cancelling the dialog is
//! [`CaptureError::PermissionDenied`], which the app shows as "denied".
//!
//! Two threads serve one capture: a task on the process's portal runtime
//! keeps the portal session (the portal ends the cast when it closes), and
//! a thread runs the PipeWire loop, converting each
//! buffer to I420 into a [`FrameSlot`]. A compositor sends frames only when
//! something on screen changes, so [`PortalGrabber::grab`] repeats the last
//! picture until a newer one comes.

use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, OnceLock};
use std::thread;
use std::time::Duration;

use ashpd::desktop::screencast::{CursorMode, Screencast, SelectSourcesOptions, SourceType};
use ashpd::desktop::{PersistMode, ResponseError};
use ashpd::enumflags2::BitFlags;
use pipewire as pw;
use pw::spa;
use spa::param::video::VideoFormat as SpaFormat;

use crate::capture::convert::{packed_rgb_to_i420, PackedRgb};
use crate::capture::slot::FrameSlot;
use crate::capture::{CaptureError, DeviceInfo, DeviceKind};
use crate::frame::VideoFrame;

use super::ScreenTarget;

use super::SYSTEM_PICKER_ID as PORTAL_ID;

/// How long to wait for the first picture after the user has chosen.
const FIRST_FRAME: Duration = Duration::from_secs(5);

/// The picker's single entry for `kind`.
pub(super) fn list(kind: DeviceKind) -> Vec<DeviceInfo> {
    vec![DeviceInfo {
        kind,
        id: PORTAL_ID.to_owned(),
        name: format!("Choose a {kind} in the system's sharing dialog"),
        is_default: true,
    }]
}

/// The error for a failed portal call.
fn portal_error(kind: DeviceKind, error: ashpd::Error) -> CaptureError {
    match error {
        ashpd::Error::Response(ResponseError::Cancelled) => CaptureError::PermissionDenied {
            kind,
            name: "the system's sharing dialog".into(),
        },
        // "Ended in some other way" (the portal's words): xdg-desktop-portal-wlr answers so
        // when its chooser is closed, and also when it cannot share what was chosen.
        ashpd::Error::Response(ResponseError::Other) => CaptureError::Backend {
            kind,
            reason: "the system's sharing dialog ended without sharing".into(),
        },
        ashpd::Error::PortalNotFound(_) => CaptureError::NotSupported {
            kind,
            platform: "this Wayland desktop (it has no ScreenCast portal)",
        },
        other => CaptureError::Backend {
            kind,
            reason: format!("desktop portal: {other}"),
        },
    }
}

/// The packed layout of a raw PipeWire video format, for the formats we
/// offer; `None` for the rest (which negotiation should never pick).
fn layout(format: SpaFormat) -> Option<PackedRgb> {
    let four = |r, g, b| PackedRgb {
        bytes_per_pixel: 4,
        r,
        g,
        b,
    };
    match format {
        SpaFormat::BGRx | SpaFormat::BGRA => Some(PackedRgb::BGRX),
        SpaFormat::RGBx | SpaFormat::RGBA => Some(four(0, 1, 2)),
        SpaFormat::xRGB | SpaFormat::ARGB => Some(four(1, 2, 3)),
        SpaFormat::xBGR | SpaFormat::ABGR => Some(four(3, 2, 1)),
        SpaFormat::RGB => Some(PackedRgb::RGB),
        SpaFormat::BGR => Some(PackedRgb::BGR),
        _ => None,
    }
}

/// What the portal answered: the PipeWire node to read and the connection
/// to the PipeWire daemon that may read it.
struct Cast {
    node: u32,
    fd: OwnedFd,
}

/// The runtime the portal calls run on, one for the whole process. ashpd keeps one session-bus
/// connection per process, and its reader runs as a task on the runtime that made it: with a
/// runtime per share, the next share after one ended would wait forever on a connection that
/// nothing reads any more.
fn portal_runtime(kind: DeviceKind) -> Result<&'static tokio::runtime::Runtime, CaptureError> {
    static RUNTIME: OnceLock<std::io::Result<tokio::runtime::Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("samla-portal")
                .enable_all()
                .build()
        })
        .as_ref()
        .map_err(|e| CaptureError::Backend {
            kind,
            reason: format!("cannot start the portal's event loop: {e}"),
        })
}

/// Runs the portal dialog and keeps the session open until `stop` is dropped.
fn start_portal(
    kind: DeviceKind,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> Result<Cast, CaptureError> {
    let (tx, rx) = mpsc::channel();
    portal_runtime(kind)?.spawn(async move {
        let source: BitFlags<SourceType> = match kind {
            DeviceKind::Window => SourceType::Window.into(),
            _ => SourceType::Monitor.into(),
        };
        let opened = async {
            let proxy = Screencast::new().await?;
            // The pointer drawn into the picture where the portal can. Asking
            // for a mode it lacks fails the whole request, so with none
            // offered (a backend that has not said yet) none is asked for,
            // and the portal draws the pointer its own way.
            let modes = proxy.available_cursor_modes().await?;
            let cursor = [CursorMode::Embedded, CursorMode::Hidden]
                .into_iter()
                .find(|&mode| modes.contains(mode));
            let session = proxy.create_session(Default::default()).await?;
            // Each request's answer is checked: after a cancelled choice the
            // session is gone, and a `Start` on it would never be answered.
            proxy
                .select_sources(
                    &session,
                    SelectSourcesOptions::default()
                        .set_cursor_mode(cursor)
                        .set_sources(source)
                        .set_multiple(false)
                        .set_persist_mode(PersistMode::DoNot),
                )
                .await?
                .response()?;
            let streams = proxy
                .start(&session, None, Default::default())
                .await?
                .response()?;
            let node = streams
                .streams()
                .first()
                .map(|s| s.pipe_wire_node_id())
                .ok_or(ashpd::Error::NoResponse)?;
            let fd = proxy
                .open_pipe_wire_remote(&session, Default::default())
                .await?;
            Ok::<_, ashpd::Error>((session, Cast { node, fd }))
        }
        .await;
        match opened {
            Ok((session, cast)) => {
                if tx.send(Ok(cast)).is_ok() {
                    // Sender dropped or a value: either way, stop.
                    let _ = stop.await;
                }
                let _ = session.close().await;
            }
            Err(e) => {
                let _ = tx.send(Err(portal_error(kind, e)));
            }
        }
    });
    rx.recv().unwrap_or_else(|_| {
        Err(CaptureError::Backend {
            kind,
            reason: "the portal task ended without an answer".into(),
        })
    })
}

/// The formats we ask PipeWire for: packed RGB in memory (no DMA-BUF), at
/// any size and rate the compositor offers.
fn format_params() -> Result<Vec<u8>, CaptureError> {
    use spa::param::format::{FormatProperties, MediaSubtype, MediaType};
    use spa::pod::{property, Value};
    let object = spa::pod::object!(
        spa::utils::SpaTypes::ObjectParamFormat,
        spa::param::ParamType::EnumFormat,
        property!(FormatProperties::MediaType, Id, MediaType::Video),
        property!(FormatProperties::MediaSubtype, Id, MediaSubtype::Raw),
        property!(
            FormatProperties::VideoFormat,
            Choice,
            Enum,
            Id,
            SpaFormat::BGRx,
            SpaFormat::BGRx,
            SpaFormat::BGRA,
            SpaFormat::RGBx,
            SpaFormat::RGBA,
            SpaFormat::xRGB,
            SpaFormat::xBGR,
        ),
        property!(
            FormatProperties::VideoSize,
            Choice,
            Range,
            Rectangle,
            spa::utils::Rectangle {
                width: 1920,
                height: 1080
            },
            spa::utils::Rectangle {
                width: 1,
                height: 1
            },
            spa::utils::Rectangle {
                width: 8192,
                height: 8192
            }
        ),
        property!(
            FormatProperties::VideoFramerate,
            Choice,
            Range,
            Fraction,
            spa::utils::Fraction { num: 30, denom: 1 },
            spa::utils::Fraction { num: 0, denom: 1 },
            spa::utils::Fraction { num: 120, denom: 1 }
        ),
    );
    spa::pod::serialize::PodSerializer::serialize(
        std::io::Cursor::new(Vec::new()),
        &Value::Object(object),
    )
    .map(|(cursor, _)| cursor.into_inner())
    .map_err(|e| CaptureError::Backend {
        kind: DeviceKind::Screen,
        reason: format!("PipeWire format: {e:?}"),
    })
}

/// What the PipeWire callbacks share.
struct StreamState {
    format: spa::param::video::VideoInfoRaw,
    frame: VideoFrame,
    slot: FrameSlot,
    /// The negotiated size as width << 32 | height.
    size: Arc<AtomicU64>,
    kind: DeviceKind,
    mainloop: pw::main_loop::MainLoopRc,
}

/// Runs the PipeWire loop for `cast` until `stop` fires, converting each
/// buffer into `slot`.
fn run_stream(
    kind: DeviceKind,
    cast: Cast,
    params: &[u8],
    slot: FrameSlot,
    size: Arc<AtomicU64>,
    stop: pw::channel::Receiver<()>,
) -> Result<(), pw::Error> {
    let mainloop = pw::main_loop::MainLoopRc::new(None)?;
    let context = pw::context::ContextBox::new(mainloop.loop_(), None)?;
    let core = context.connect_fd(cast.fd, None)?;
    let stream = pw::stream::StreamBox::new(
        &core,
        "samla-screen",
        pw::properties::properties! {
            *pw::keys::MEDIA_TYPE => "Video",
            *pw::keys::MEDIA_CATEGORY => "Capture",
            *pw::keys::MEDIA_ROLE => "Screen",
        },
    )?;
    let quit = mainloop.clone();
    let _stop = stop.attach(mainloop.loop_(), move |()| quit.quit());
    let state = StreamState {
        format: Default::default(),
        frame: VideoFrame::new(0, 0),
        slot,
        size,
        kind,
        mainloop: mainloop.clone(),
    };
    let _listener = stream
        .add_local_listener_with_user_data(state)
        .state_changed(|_, state, _, new| {
            // The user stopped sharing in the compositor's own controls, or
            // the compositor went away: the reader gets an error, not the
            // last picture forever.
            let reason = match new {
                pw::stream::StreamState::Error(e) => e,
                pw::stream::StreamState::Unconnected => "sharing was stopped".to_owned(),
                _ => return,
            };
            state.slot.fail(CaptureError::DeviceLost {
                kind: state.kind,
                name: "screen share".into(),
                reason,
            });
            state.mainloop.quit();
        })
        .param_changed(|_, state, id, param| {
            let Some(param) = param else { return };
            if id != spa::param::ParamType::Format.as_raw() {
                return;
            }
            if state.format.parse(param).is_ok() {
                let s = state.format.size();
                state.size.store(
                    (u64::from(s.width) << 32) | u64::from(s.height),
                    Ordering::Relaxed,
                );
            }
        })
        .process(|stream, state| {
            let Some(mut buffer) = stream.dequeue_buffer() else {
                return;
            };
            // The reader has gone and the loop is about to quit: no one
            // would see this picture.
            if state.slot.is_closed() {
                return;
            }
            let Some(layout) = layout(state.format.format()) else {
                return;
            };
            let (width, height) = (state.format.size().width, state.format.size().height);
            let Some(data) = buffer.datas_mut().first_mut() else {
                return;
            };
            let (offset, stride) = (data.chunk().offset() as usize, data.chunk().stride());
            let stride = match usize::try_from(stride) {
                // 0: tightly packed rows.
                Ok(0) => width as usize * layout.bytes_per_pixel,
                Ok(s) => s,
                // Negative: bottom-up rows, which screen casts do not use.
                Err(_) => return,
            };
            let Some(bytes) = data.data().and_then(|d| d.get(offset..)) else {
                return; // no mapped memory (a DMA-BUF we did not ask for)
            };
            // A malformed buffer is skipped, never read past its end.
            if packed_rgb_to_i420(bytes, layout, width, height, stride, &mut state.frame).is_ok() {
                state.slot.publish(&mut state.frame);
            }
        })
        .register()?;
    let mut pod = [spa::pod::Pod::from_bytes(params).ok_or(pw::Error::CreationFailed)?];
    stream.connect(
        spa::utils::Direction::Input,
        Some(cast.node),
        pw::stream::StreamFlags::AUTOCONNECT | pw::stream::StreamFlags::MAP_BUFFERS,
        &mut pod,
    )?;
    mainloop.run();
    Ok(())
}

/// A screen or window chosen in the portal's dialog, streamed by PipeWire.
pub(super) struct PortalGrabber {
    slot: FrameSlot,
    size: Arc<AtomicU64>,
    /// The newest picture, repeated while the screen does not change.
    last: VideoFrame,
    /// Ends the PipeWire loop when dropped with the grabber.
    stop_stream: pw::channel::Sender<()>,
    /// Ends the portal session when dropped with the grabber.
    _stop_portal: tokio::sync::oneshot::Sender<()>,
}

impl PortalGrabber {
    /// Shows the portal's dialog for `target`'s kind and connects to the
    /// stream the user chose. Blocks until the user has answered.
    pub(super) fn open(target: &ScreenTarget) -> Result<Self, CaptureError> {
        let kind = target.kind();
        match target {
            ScreenTarget::Screen(None) => {}
            ScreenTarget::Screen(Some(id)) | ScreenTarget::Window(id) if id == PORTAL_ID => {}
            ScreenTarget::Screen(Some(id)) | ScreenTarget::Window(id) => {
                return Err(CaptureError::DeviceNotFound {
                    kind,
                    requested: Some(id.clone()),
                })
            }
        }
        let params = format_params()?;
        let (stop_portal, portal_stopped) = tokio::sync::oneshot::channel();
        let cast = start_portal(kind, portal_stopped)?;
        pw::init();
        let slot = FrameSlot::new();
        let size = Arc::new(AtomicU64::new(0));
        let (stop_stream, stream_stopped) = pw::channel::channel();
        let (thread_slot, thread_size) = (slot.clone(), size.clone());
        thread::Builder::new()
            .name("samla-pipewire".into())
            .spawn(move || {
                if let Err(e) = run_stream(
                    kind,
                    cast,
                    &params,
                    thread_slot.clone(),
                    thread_size,
                    stream_stopped,
                ) {
                    thread_slot.fail(CaptureError::DeviceLost {
                        kind,
                        name: "screen share".into(),
                        reason: format!("PipeWire: {e}"),
                    });
                }
            })
            .map_err(|e| CaptureError::Backend {
                kind,
                reason: format!("cannot start the PipeWire thread: {e}"),
            })?;
        let mut grabber = Self {
            slot,
            size,
            last: VideoFrame::new(0, 0),
            stop_stream,
            _stop_portal: stop_portal,
        };
        if !grabber.slot.take(&mut grabber.last, FIRST_FRAME)? {
            return Err(CaptureError::Backend {
                kind,
                reason: format!(
                    "no picture arrived within {} s of choosing",
                    FIRST_FRAME.as_secs()
                ),
            });
        }
        Ok(grabber)
    }

    pub(super) fn size(&self) -> (u32, u32) {
        let packed = self.size.load(Ordering::Relaxed);
        ((packed >> 32) as u32, packed as u32)
    }

    /// The newest picture, or the last one again when nothing changed.
    pub(super) fn grab(&mut self, out: &mut VideoFrame) -> Result<(), CaptureError> {
        self.slot.take(&mut self.last, Duration::ZERO)?;
        out.clone_from(&self.last);
        Ok(())
    }
}

impl std::fmt::Debug for PortalGrabber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalGrabber")
            .field("size", &self.size())
            .finish_non_exhaustive()
    }
}

impl Drop for PortalGrabber {
    fn drop(&mut self) {
        self.slot.close();
        let _ = self.stop_stream.send(());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offered_formats_map_to_the_right_channels_and_others_are_refused() {
        assert_eq!(layout(SpaFormat::BGRx), Some(PackedRgb::BGRX));
        assert_eq!(layout(SpaFormat::BGRA), Some(PackedRgb::BGRX));
        let rgbx = layout(SpaFormat::RGBx).unwrap();
        assert_eq!((rgbx.bytes_per_pixel, rgbx.r, rgbx.g, rgbx.b), (4, 0, 1, 2));
        let xbgr = layout(SpaFormat::xBGR).unwrap();
        assert_eq!((xbgr.r, xbgr.g, xbgr.b), (3, 2, 1));
        assert_eq!(layout(SpaFormat::I420), None);
        assert_eq!(layout(SpaFormat::NV12), None);
    }

    #[test]
    fn the_format_request_serialises() {
        let bytes = format_params().unwrap();
        assert!(spa::pod::Pod::from_bytes(&bytes).is_some());
    }

    #[test]
    fn a_cancelled_dialog_is_a_denial() {
        let err = portal_error(
            DeviceKind::Window,
            ashpd::Error::Response(ResponseError::Cancelled),
        );
        assert!(matches!(
            err,
            CaptureError::PermissionDenied {
                kind: DeviceKind::Window,
                ..
            }
        ));
        let err = portal_error(DeviceKind::Screen, ashpd::Error::NoResponse);
        assert!(matches!(err, CaptureError::Backend { .. }), "{err}");
        let err = portal_error(
            DeviceKind::Screen,
            ashpd::Error::Response(ResponseError::Other),
        );
        assert_eq!(
            err.to_string(),
            "screen failed: the system's sharing dialog ended without sharing"
        );
    }

    #[test]
    fn the_picker_offers_the_system_dialog() {
        let list = list(DeviceKind::Window);
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].id, PORTAL_ID);
        assert_eq!(
            list[0].name,
            "Choose a window in the system's sharing dialog"
        );
    }
}
