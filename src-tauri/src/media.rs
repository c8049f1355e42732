//! The app's media: samla-engine's [`MediaSession`] next to the page's signalling.
//!
//! The page runs the signalling WebSocket itself (the same client code as in a browser) and
//! hands the media part of it here; what the media session wants to send goes back to the
//! page as `media-signal` events, which it forwards on its socket. Decoded video goes to the
//! page over the frame socket ([`crate::frames`]).

use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use samla_engine::media::{
    AudioSpec, MediaOptions, MediaSession, SignalSink, VideoInput, VideoSpec,
};
use samla_engine::{EngineError, Event};
use samla_media::{CaptureError, ScreenSource, ScreenTarget};
use samla_protocol::{ClientMessage, ServerMessage};
use serde::Serialize;
use tauri::{AppHandle, Emitter};

use crate::frames::{FrameHub, PageSink};

/// The event the page listens to for messages to send on its signalling socket.
pub const SIGNAL_EVENT: &str = "media-signal";

/// What we send: the synthetic test picture and tone (`SAMLA_FAKE_MEDIA=1`), or nothing.
///
/// The engine publishes only synthetic media so far; real cameras and microphones come with
/// samla-media's device capture. Until then the page is told no device was found.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LocalSources {
    pub camera: bool,
    pub microphone: bool,
    /// The sources are the synthetic test picture and tone.
    pub synthetic: bool,
}

impl LocalSources {
    fn choose(fake_media: bool, camera: bool, microphone: bool) -> Self {
        Self {
            camera: fake_media && camera,
            microphone: fake_media && microphone,
            synthetic: fake_media,
        }
    }
}

/// Frames per second of a screen share: enough for slides, scrolling and a pointer, and an
/// X11 grab of a whole screen stays cheap at this rate.
const SCREEN_FPS: f32 = 12.0;

/// Why sharing the screen did not start. Serialized for the page as `{ reason, detail }`,
/// `reason` choosing the catalogue text.
#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    /// No X11 display to capture (`DISPLAY` unset, as under Wayland-only or headless).
    #[error("no display to share (DISPLAY is not set)")]
    NoDisplay,
    #[error("not in a meeting")]
    NotInMeeting,
    #[error("screen capture failed: {0}")]
    Capture(#[from] CaptureError),
}

impl Serialize for ShareError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let reason = match self {
            Self::NoDisplay => "no_display",
            Self::NotInMeeting => "not_in_meeting",
            Self::Capture(_) => "capture",
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
    session: Mutex<Option<MediaSession>>,
}

impl Media {
    pub fn new(fake_media: bool, hub: FrameHub) -> Self {
        Self {
            fake_media,
            hub,
            session: Mutex::new(None),
        }
    }

    /// Starts a media session for a meeting on `server_host`, replacing any earlier one.
    /// Must run inside the async runtime (the session is a task).
    pub fn start(
        &self,
        app: &AppHandle,
        server_host: &str,
        camera: bool,
        microphone: bool,
    ) -> LocalSources {
        let sources = LocalSources::choose(self.fake_media, camera, microphone);
        if (camera || microphone) && !sources.synthetic {
            tracing::warn!("no camera/microphone found; receiving only (SAMLA_FAKE_MEDIA=1 sends a test picture and tone)");
        }
        let mut opts = MediaOptions::new(server_host);
        if sources.camera {
            opts.video = Some(VideoSpec::Synthetic {
                width: 640,
                height: 360,
                fps: 30.0,
            });
        }
        if sources.microphone {
            opts.audio = Some(AudioSpec::Synthetic);
        }
        opts.sinks.push(Box::new(PageSink(self.hub.clone())));
        tracing::info!(?opts, "starting media");
        let session = MediaSession::start(PageSignal(app.clone()), opts);
        if let Ok(mut slot) = self.session.lock() {
            *slot = Some(session);
        }
        sources
    }

    /// Passes one server message on to the session (ignored when none is running).
    pub fn on_server_message(&self, msg: ServerMessage) {
        if let Ok(slot) = self.session.lock() {
            if let Some(session) = slot.as_ref() {
                session.on_event(&Event::Server(msg));
            }
        }
    }

    /// Shares the whole screen of the session's display. The capture is opened here, so a
    /// missing display or a refused grab is reported to the page rather than logged by the
    /// encoder thread.
    pub fn share_screen(&self) -> Result<(), ShareError> {
        if std::env::var_os("DISPLAY").is_none_or(|d| d.is_empty()) {
            return Err(ShareError::NoDisplay);
        }
        let slot = self.session.lock().map_err(|_| ShareError::NotInMeeting)?;
        let session = slot.as_ref().ok_or(ShareError::NotInMeeting)?;
        let source = ScreenSource::open(&ScreenTarget::Screen(None), SCREEN_FPS, UNIX_EPOCH)?;
        session
            .share_screen(Some(VideoInput::Source(Box::new(source))))
            .map_err(|_| ShareError::NotInMeeting)
    }

    /// Stops sharing the screen (nothing happens when not sharing or not in a meeting).
    pub fn stop_screen_share(&self) {
        if let Ok(slot) = self.session.lock() {
            if let Some(session) = slot.as_ref() {
                let _ = session.share_screen(None);
            }
        }
    }

    /// Stops the session (its task, threads and socket).
    pub fn stop(&self) {
        if let Ok(mut slot) = self.session.lock() {
            slot.take();
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
    fn real_devices_are_not_offered_yet() {
        let s = LocalSources::choose(false, true, true);
        assert!(!s.camera && !s.microphone && !s.synthetic);
        let s = LocalSources::choose(true, false, true);
        assert!(!s.camera && s.microphone && s.synthetic);
    }
}
