//! The app's media: samla-engine's [`MediaSession`] next to the page's signalling.
//!
//! The page runs the signalling WebSocket itself (the same client code as in a browser) and
//! hands the media part of it here; what the media session wants to send goes back to the
//! page as `media-signal` events, which it forwards on its socket. Decoded video goes to the
//! page over the frame socket ([`crate::frames`]). Audio stays in Rust: the engine mixes the
//! others' voices into the speaker, and the microphone goes through samla-media's echo
//! canceller, which hears what that speaker plays ([`CallAudio`]).

use std::sync::{Arc, Mutex};
use std::time::UNIX_EPOCH;

use samla_engine::media::{
    AudioInput, MediaOptions, MediaSession, SignalSink, VideoInput, VideoSpec,
};
use samla_engine::{EngineError, Event};
use samla_media::{
    list_devices, CallAudio, Camera, CameraRequest, CaptureError, DeviceKind, Pacing, ScreenSource,
    ScreenTarget, TestPattern, VideoSource, SYSTEM_PICKER_ID,
};
use samla_protocol::{ClientMessage, ServerMessage};
use serde::Serialize;
use tauri::{AppHandle, Emitter};

use crate::camera::{CameraError, CameraFeed, OpenSource};
use crate::frames::{FrameHub, PageSink};
use crate::sound_check::MicLevel;

/// The event the page listens to for messages to send on its signalling socket.
pub const SIGNAL_EVENT: &str = "media-signal";

/// The event that tells the page the camera stopped during the meeting (unplugged or taken),
/// with a [`DeviceProblem`]: the page shows it and the camera button is off.
pub const CAMERA_LOST_EVENT: &str = "camera-lost";

/// What we send: the camera and microphone the page picked (or with `SAMLA_FAKE_MEDIA=1`
/// the synthetic test picture and tone), and whether we can play the others' audio.
#[derive(Debug, Clone, Serialize)]
pub struct LocalSources {
    pub camera: bool,
    pub microphone: bool,
    /// The sources are the synthetic test picture and tone.
    pub synthetic: bool,
    /// Why the camera that was asked for is not sent; the meeting goes on without it.
    pub camera_error: Option<DeviceProblem>,
    /// Why the microphone that was asked for is not sent.
    pub microphone_error: Option<DeviceProblem>,
    /// Why the others cannot be heard (no speaker opened). Not set with synthetic media,
    /// which plays into a speaker only when there is one.
    pub speaker_error: Option<DeviceProblem>,
}

impl LocalSources {
    /// `camera` and `microphone`: whether each is sent, or why the one asked for is not.
    fn choose(
        fake_media: bool,
        camera: Result<bool, DeviceProblem>,
        microphone: Result<bool, DeviceProblem>,
        speaker_error: Option<DeviceProblem>,
    ) -> Self {
        Self {
            camera: camera.as_ref().is_ok_and(|on| *on),
            microphone: microphone.as_ref().is_ok_and(|on| *on),
            synthetic: fake_media,
            camera_error: camera.err(),
            microphone_error: microphone.err(),
            speaker_error: speaker_error.filter(|_| !fake_media),
        }
    }
}

/// A device that could not be opened, for the page: `reason` (`missing`, `busy`, `denied`
/// or `failed`) chooses the catalogue text, `detail` is the error in English for the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceProblem {
    pub reason: &'static str,
    pub detail: String,
}

impl From<&CaptureError> for DeviceProblem {
    fn from(err: &CaptureError) -> Self {
        let reason = match err {
            CaptureError::DeviceNotFound { .. } => "missing",
            CaptureError::DeviceBusy { .. } => "busy",
            CaptureError::PermissionDenied { .. } => "denied",
            _ => "failed",
        };
        Self {
            reason,
            detail: err.to_string(),
        }
    }
}

impl From<&CameraError> for DeviceProblem {
    fn from(err: &CameraError) -> Self {
        match err {
            CameraError::Capture(err) => err.into(),
            _ => Self {
                reason: "failed",
                detail: err.to_string(),
            },
        }
    }
}

impl Serialize for CameraError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        DeviceProblem::from(self).serialize(s)
    }
}

/// The microphone and speaker the page picked (ids or names from samla-media's device
/// lists); `None` is the system's default.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AudioDevices {
    pub microphone: Option<String>,
    pub speaker: Option<String>,
}

/// The size and rate we ask the camera for (it picks its closest mode): what a gallery tile
/// shows well, and cheap to encode as simulcast on a laptop.
const CAMERA_REQUEST: (u32, u32, u32) = (640, 360, 30);

/// How the camera track's picture is opened: the synthetic one stamped with our participant
/// number, or the camera `device` (`None`: the system's first).
fn camera_opener(fake_media: bool, device: Option<String>) -> OpenSource {
    let (width, height, fps) = CAMERA_REQUEST;
    if fake_media {
        return Box::new(move |sender| {
            let pattern = TestPattern::new(
                sender,
                width,
                height,
                fps as f32,
                UNIX_EPOCH,
                Pacing::RealTime,
            )?;
            Ok(Box::new(pattern) as Box<dyn VideoSource + Send>)
        });
    }
    let request = CameraRequest {
        device,
        width,
        height,
        fps,
    };
    Box::new(move |_| {
        Ok(Box::new(Camera::open(&request, UNIX_EPOCH)?) as Box<dyn VideoSource + Send>)
    })
}

/// One screen or window the user can share, for the page's picker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShareTarget {
    /// `screen` or `window`.
    pub kind: &'static str,
    pub id: String,
    /// A window's title, or a screen's name and size.
    pub name: String,
    /// The screen that is everything the display shows (the page names it in its language).
    pub whole: bool,
    /// Not a screen or window but the desktop's own sharing dialog, which asks the user
    /// (Wayland sessions; the page names it in its language).
    pub system_dialog: bool,
}

impl ShareTarget {
    fn target(kind: &str, id: String) -> Option<ScreenTarget> {
        match kind {
            "screen" => Some(ScreenTarget::Screen(Some(id))),
            "window" => Some(ScreenTarget::Window(id)),
            _ => None,
        }
    }
}

/// Whether the session has a display to share: X11, or Wayland (through the desktop portal).
fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|var| std::env::var_os(var).is_some_and(|d| !d.is_empty()))
}

/// Frames per second of a screen share: enough for slides, scrolling and a pointer, and an
/// X11 grab of a whole screen stays cheap at this rate.
const SCREEN_FPS: f32 = 12.0;

/// Why sharing the screen did not start. Serialized for the page as `{ reason, detail }`,
/// `reason` choosing the catalogue text.
#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    /// No display to capture (neither `DISPLAY` nor `WAYLAND_DISPLAY` set, as when headless).
    #[error("no display to share (neither DISPLAY nor WAYLAND_DISPLAY is set)")]
    NoDisplay,
    #[error("not in a meeting")]
    NotInMeeting,
    #[error("screen capture failed: {0}")]
    Capture(#[from] CaptureError),
    #[error("unknown kind of share target {0:?}")]
    UnknownKind(String),
}

impl Serialize for ShareError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let reason = match self {
            Self::NoDisplay => "no_display",
            Self::NotInMeeting => "not_in_meeting",
            Self::Capture(_) | Self::UnknownKind(_) => "capture",
        };
        let mut st = s.serialize_struct("ShareError", 2)?;
        st.serialize_field("reason", reason)?;
        st.serialize_field("detail", &self.to_string())?;
        st.end()
    }
}

/// Sends the media session's signalling to the page.
struct PageSignal(AppHandle);

impl SignalSink for PageSignal {
    fn send(&self, msg: ClientMessage) -> Result<(), EngineError> {
        self.0
            .emit_to("main", SIGNAL_EVENT, msg)
            .map_err(|_| EngineError::SessionEnded)
    }
}

/// The one media session of the window, if a meeting is on.
pub struct Media {
    fake_media: bool,
    hub: FrameHub,
    /// The microphone's loudness, for the pre-join meter.
    pub mic_level: MicLevel,
    session: Mutex<Option<MediaSession>>,
    /// The session's echo canceller, which a speaker picked later must feed too.
    call: Mutex<Option<CallAudio>>,
    /// The camera track's picture while a session runs and a camera was asked for.
    camera: Mutex<Option<CameraFeed>>,
}

impl Media {
    pub fn new(fake_media: bool, hub: FrameHub) -> Self {
        Self {
            fake_media,
            hub,
            mic_level: MicLevel::default(),
            session: Mutex::new(None),
            call: Mutex::new(None),
            camera: Mutex::new(None),
        }
    }

    /// Starts a media session for a meeting on `server_host`, replacing any earlier one
    /// (closed first: see [`Media::stop`]), with the camera `camera_device` (`None`: the
    /// first) when `camera` is asked for. Must run inside the async runtime (the session is a
    /// task).
    pub async fn start(
        &self,
        app: &AppHandle,
        server_host: &str,
        camera: bool,
        camera_device: Option<String>,
        microphone: bool,
        audio_devices: AudioDevices,
    ) -> LocalSources {
        self.stop().await;
        let mut opts = MediaOptions::new(server_host);
        let feed = camera.then(|| {
            let page = app.clone();
            CameraFeed::start(
                camera_opener(self.fake_media, camera_device),
                self.fake_media,
                self.hub.clone(),
                Box::new(move |err| {
                    let _ = page.emit_to("main", CAMERA_LOST_EVENT, DeviceProblem::from(err));
                }),
            )
            .and_then(|feed| {
                let format = feed.format();
                if format.width % 2 != 0 || format.height % 2 != 0 {
                    feed.close();
                    return Err(CaptureError::UnsupportedFormat(format!(
                        "{}x{} (H.264 needs an even size)",
                        format.width, format.height
                    )));
                }
                Ok(feed)
            })
        });
        let camera_on = match feed {
            Some(Ok(feed)) => {
                let format = feed.format();
                opts.video = Some(VideoSpec::Synthetic {
                    width: format.width,
                    height: format.height,
                    fps: format.fps,
                });
                opts.camera = Some(Arc::new(feed.clone()));
                if let Ok(mut slot) = self.camera.lock() {
                    *slot = Some(feed);
                }
                Ok(true)
            }
            Some(Err(err)) => {
                tracing::warn!(%err, "no camera; the meeting goes on without our picture");
                Err(DeviceProblem::from(&err))
            }
            None => Ok(false),
        };
        let (microphone_on, speaker_error) = self.open_audio(&mut opts, microphone, audio_devices);
        let sources =
            LocalSources::choose(self.fake_media, camera_on, microphone_on, speaker_error);
        opts.sinks.push(Box::new(PageSink(self.hub.clone())));
        tracing::info!(?opts, "starting media");
        let session = MediaSession::start(PageSignal(app.clone()), opts);
        if let Ok(mut slot) = self.session.lock() {
            *slot = Some(session);
        }
        sources
    }

    /// Opens the speaker (the others are played into it) and, when `microphone` is asked
    /// for, the microphone, both around one echo canceller; with synthetic media the tone
    /// is sent instead of the microphone. Returns whether audio is sent (or why the
    /// microphone is not) and why the speaker did not open.
    fn open_audio(
        &self,
        opts: &mut MediaOptions,
        microphone: bool,
        devices: AudioDevices,
    ) -> (Result<bool, DeviceProblem>, Option<DeviceProblem>) {
        let call = CallAudio::new();
        if let Ok(mut slot) = self.call.lock() {
            *slot = Some(call.clone());
        }
        let speaker = match call.speaker(devices.speaker.as_deref()) {
            Ok(speaker) => {
                opts.audio_output = Some(Box::new(speaker));
                None
            }
            Err(err) => {
                tracing::warn!(%err, "no speaker; the others cannot be heard");
                Some(DeviceProblem::from(&err))
            }
        };
        let sent = match (microphone, self.fake_media) {
            (false, _) => Ok(false),
            (true, true) => {
                opts.audio = Some(AudioInput::Synthetic);
                Ok(true)
            }
            (true, false) => match call.microphone(devices.microphone.as_deref(), UNIX_EPOCH) {
                Ok(mic) => {
                    self.mic_level.set(Some(mic.source().level_meter()));
                    opts.audio = Some(AudioInput::Source(Box::new(mic)));
                    Ok(true)
                }
                Err(err) => {
                    tracing::warn!(%err, "no microphone; the meeting goes on without our voice");
                    Err(DeviceProblem::from(&err))
                }
            },
        };
        (sent, speaker)
    }

    /// Runs `f` on the running session; `None` when there is none.
    fn with_session<T>(&self, f: impl FnOnce(&MediaSession) -> T) -> Option<T> {
        let slot = self.session.lock().ok()?;
        slot.as_ref().map(f)
    }

    /// The running session's echo canceller, which devices picked later must go through.
    fn call(&self) -> Option<CallAudio> {
        self.call.lock().ok().and_then(|slot| slot.clone())
    }

    /// Mutes or unmutes the microphone. The track stays on the connection; while muted
    /// it sends silence (nothing, after Opus DTX).
    pub fn set_microphone(&self, on: bool) -> Result<(), EngineError> {
        self.with_session(|session| session.set_audio_muted(!on))
            .unwrap_or(Err(EngineError::SessionEnded))
    }

    /// Plays the others on `device` (`None`: the system's default) from now on, before
    /// joining or in the meeting, without opening anything else again; the echo canceller
    /// hears the new speaker. Without a session there is nothing to switch: the page passes
    /// its choice to the next [`Media::start`].
    pub fn set_speaker(&self, device: Option<&str>) -> Result<(), CaptureError> {
        let Some(call) = self.call() else {
            return Ok(());
        };
        let speaker = call.speaker(device)?;
        // A session that ended meanwhile has nothing to play; the page starts a new one.
        self.with_session(|session| session.set_audio_output(Box::new(speaker)));
        Ok(())
    }

    /// Sends the microphone `device` (`None`: the system's default) from now on, before
    /// joining or in the meeting, through the session's echo canceller; the pre-join meter
    /// reads it. A microphone that does not open leaves the one before in use.
    pub fn set_microphone_device(&self, device: Option<&str>) -> Result<(), CaptureError> {
        let Some(call) = self.call() else {
            return Ok(());
        };
        let mic = call.microphone(device, UNIX_EPOCH)?;
        let meter = mic.source().level_meter();
        if let Some(Ok(())) = self.with_session(|session| session.set_audio_input(Box::new(mic))) {
            self.mic_level.set(Some(meter));
        }
        Ok(())
    }

    /// Passes one server message on to the session (ignored when none is running).
    pub fn on_server_message(&self, msg: ServerMessage) {
        self.with_session(|session| session.on_event(&Event::Server(msg)));
    }

    /// The running camera, to switch off (the device is closed) or on again with
    /// [`CameraFeed::set_on`]. The track stays on the connection; while off it sends nothing.
    pub fn camera(&self) -> Result<CameraFeed, CameraError> {
        let feed = self.camera.lock().ok().and_then(|slot| slot.clone());
        feed.ok_or(CameraError::Closed)
    }

    /// How the camera `device` (`None`: the system's first) is opened in this app: the
    /// synthetic picture with `SAMLA_FAKE_MEDIA`, whatever the device.
    pub fn camera_opener(&self, device: Option<String>) -> OpenSource {
        camera_opener(self.fake_media, device)
    }

    /// The screens and windows of the session's display, screens first.
    pub fn share_targets(&self) -> Result<Vec<ShareTarget>, ShareError> {
        if !has_display() {
            return Err(ShareError::NoDisplay);
        }
        let mut targets = Vec::new();
        for (kind, name) in [
            (DeviceKind::Screen, "screen"),
            (DeviceKind::Window, "window"),
        ] {
            for device in list_devices(kind)? {
                let system_dialog = device.id == SYSTEM_PICKER_ID;
                targets.push(ShareTarget {
                    kind: name,
                    whole: kind == DeviceKind::Screen && device.is_default && !system_dialog,
                    system_dialog,
                    id: device.id,
                    name: device.name,
                });
            }
        }
        Ok(targets)
    }

    /// Shares a screen or window (`kind` and `id` from [`Media::share_targets`]; no `id`:
    /// the whole display). The capture is opened here, so a missing display, a closed
    /// window or a refused grab is reported to the page rather than logged by the encoder
    /// thread.
    pub fn share_screen(&self, kind: &str, id: Option<String>) -> Result<(), ShareError> {
        if !has_display() {
            return Err(ShareError::NoDisplay);
        }
        let target = match id {
            Some(id) => ShareTarget::target(kind, id)
                .ok_or_else(|| ShareError::UnknownKind(kind.to_owned()))?,
            None => ScreenTarget::Screen(None),
        };
        let slot = self.session.lock().map_err(|_| ShareError::NotInMeeting)?;
        let session = slot.as_ref().ok_or(ShareError::NotInMeeting)?;
        let source = ScreenSource::open(&target, SCREEN_FPS, UNIX_EPOCH)?;
        session
            .share_screen(Some(VideoInput::Source(Box::new(source))))
            .map_err(|_| ShareError::NotInMeeting)
    }

    /// Stops sharing the screen (nothing happens when not sharing or not in a meeting).
    pub fn stop_screen_share(&self) {
        self.with_session(|session| session.share_screen(None));
    }

    /// Stops the session (its task, threads and socket) and returns once its camera and
    /// microphone are closed, so that they can be opened again at once (another device
    /// picked before joining).
    pub async fn stop(&self) {
        let session = self.session.lock().ok().and_then(|mut slot| slot.take());
        if let Ok(mut slot) = self.call.lock() {
            slot.take();
        }
        self.mic_level.set(None);
        if let Some(feed) = self.camera.lock().ok().and_then(|mut slot| slot.take()) {
            feed.close();
        }
        if let Some(session) = session {
            session.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_errors_tell_the_page_why() {
        let json = serde_json::to_value(ShareError::NoDisplay).unwrap();
        assert_eq!(json["reason"], "no_display");
        assert!(json["detail"].as_str().unwrap().contains("DISPLAY"));
        let json = serde_json::to_value(ShareError::NotInMeeting).unwrap();
        assert_eq!(json["reason"], "not_in_meeting");
    }

    #[test]
    fn a_camera_that_did_not_open_is_explained() {
        let missing = CaptureError::DeviceNotFound {
            kind: DeviceKind::Camera,
            requested: None,
        };
        let s = LocalSources::choose(false, Err((&missing).into()), Ok(false), None);
        assert!(!s.camera);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["camera_error"]["reason"], "missing");
        let busy = CaptureError::DeviceBusy {
            kind: DeviceKind::Camera,
            name: "Cam".into(),
        };
        assert_eq!(DeviceProblem::from(&busy).reason, "busy");
        let denied = CaptureError::PermissionDenied {
            kind: DeviceKind::Camera,
            name: "Cam".into(),
        };
        assert_eq!(DeviceProblem::from(&denied).reason, "denied");
        let changed = CameraError::FormatChanged {
            got: (640, 480),
            want: (640, 360),
        };
        assert_eq!(serde_json::to_value(&changed).unwrap()["reason"], "failed");
        let s = LocalSources::choose(true, Ok(true), Ok(true), None);
        assert!(s.camera && s.microphone && s.synthetic && s.camera_error.is_none());
    }

    #[test]
    fn missing_audio_devices_are_explained_unless_the_media_is_synthetic() {
        let mic = CaptureError::DeviceNotFound {
            kind: DeviceKind::Microphone,
            requested: Some("Headset".into()),
        };
        let speaker = CaptureError::DeviceNotFound {
            kind: DeviceKind::Speaker,
            requested: None,
        };
        let s = LocalSources::choose(
            false,
            Ok(false),
            Err((&mic).into()),
            Some((&speaker).into()),
        );
        assert!(!s.microphone);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["microphone_error"]["reason"], "missing");
        assert!(json["microphone_error"]["detail"]
            .as_str()
            .unwrap()
            .contains("Headset"));
        assert_eq!(json["speaker_error"]["reason"], "missing");
        // The synthetic tone needs no microphone, and plays into a speaker only if there is one.
        let s = LocalSources::choose(true, Ok(false), Ok(true), Some((&speaker).into()));
        assert!(s.microphone && s.microphone_error.is_none() && s.speaker_error.is_none());
    }

    /// This machine has no sound card: what the app does there is what a user without a
    /// headset sees. Nothing panics; each device's absence is typed.
    #[test]
    fn without_audio_devices_the_call_goes_on_and_says_why() {
        let media = Media::new(false, FrameHub::default());
        let mut opts = MediaOptions::new("localhost");
        let devices = AudioDevices {
            microphone: Some("Samla Test Headset".into()),
            speaker: Some("Samla Test Speakers".into()),
        };
        let (mic, speaker) = media.open_audio(&mut opts, true, devices);
        assert_eq!(mic.unwrap_err().reason, "missing");
        assert_eq!(speaker.unwrap().reason, "missing");
        assert!(opts.audio.is_none() && opts.audio_output.is_none());
        // Picking a speaker that is not there says so (the page keeps the one it had).
        let picked = media.set_speaker(Some("Samla Test Speakers")).unwrap_err();
        assert_eq!(DeviceProblem::from(&picked).reason, "missing");
        // Synthetic media still sends its tone.
        let media = Media::new(true, FrameHub::default());
        let devices = AudioDevices {
            microphone: None,
            speaker: Some("Samla Test Speakers".into()),
        };
        let (mic, _) = media.open_audio(&mut opts, true, devices);
        assert!(mic.unwrap());
        assert!(matches!(opts.audio, Some(AudioInput::Synthetic)));
    }

    #[test]
    fn a_camera_that_is_not_there_is_reported_missing() {
        let opened = CameraFeed::start(
            camera_opener(false, Some("Samla Test Camera".into())),
            false,
            FrameHub::default(),
            Box::new(|_| {}),
        );
        let err = opened.err().expect("no such camera");
        assert_eq!(DeviceProblem::from(&err).reason, "missing");
    }

    #[test]
    fn share_targets_name_screens_and_windows() {
        assert_eq!(
            ShareTarget::target("window", "0x1a".into()),
            Some(ScreenTarget::Window("0x1a".into()))
        );
        assert_eq!(
            ShareTarget::target("screen", "root".into()),
            Some(ScreenTarget::Screen(Some("root".into())))
        );
        assert_eq!(ShareTarget::target("tab", "1".into()), None);
    }
}
