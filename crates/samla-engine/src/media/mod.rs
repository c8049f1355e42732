//! Client media: publishing our audio and camera to the SFU and receiving everyone else's,
//! over one str0m `Rtc` per session.
//!
//! [`MediaSession::start`] runs a task next to a signalling session. The owner forwards the
//! session's [`Event`]s to it ([`MediaSession::on_event`]); it sends its SDP through a
//! [`SignalSink`] (a [`crate::SessionHandle`] in real use, a channel in tests). Keeping the
//! media out of the session runner means the signalling code stays as it is, and tests can
//! put a fake SFU on the other end of the channels.
//!
//! Threads: synthetic sources pace in real time and encode on their own threads (one for
//! video, one for audio from a tone or any samla-media `AudioSource`, and one for a screen
//! share from any samla-media `VideoSource`, started and stopped with
//! [`MediaSession::share_screen`]); decoding runs on one decoder thread, which queues
//! decoded audio in a [`Mixer`] that a playout thread plays into the one
//! [`MediaOptions::audio_output`] (or the one given later to
//! [`MediaSession::set_audio_output`]) every 20 ms; the tokio task only moves packets between the
//! UDP socket and str0m.

mod capture;
mod layers;
mod mixer;
mod packetize;
mod peer;
mod playout;
mod receive;
mod relay;
mod spec;
mod stats;
mod tracks;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use samla_protocol::{ClientMessage, ParticipantId, ServerMessage, TrackKind};
use tokio::sync::mpsc;

use crate::{EngineError, Event, SessionHandle};

pub use layers::{RIDS, SIMULCAST_MIN_HEIGHT};
pub use mixer::Mixer;
pub use receive::FrameSink;
pub use samla_media::{AudioFrame, AudioSink, AudioSource, VideoFrame};
pub use spec::{AudioInput, AudioSpec, OpenVideo, VideoInput, VideoSpec};
pub use stats::ParticipantStats;
pub use tracks::TrackMap;

/// Why media could not start or went wrong. Bad packets are never errors: they are counted.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("media socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("WebRTC: {0}")]
    Rtc(#[from] str0m::RtcError),
    #[error("bad SDP from the server: {0}")]
    Sdp(String),
    #[error("the server URL has no host")]
    NoServerHost,
}

/// Where the media task sends its signalling.
pub trait SignalSink: Send + Sync + 'static {
    fn send(&self, msg: ClientMessage) -> Result<(), EngineError>;
}

impl SignalSink for SessionHandle {
    fn send(&self, msg: ClientMessage) -> Result<(), EngineError> {
        SessionHandle::send(self, msg)
    }
}

impl SignalSink for mpsc::UnboundedSender<ClientMessage> {
    fn send(&self, msg: ClientMessage) -> Result<(), EngineError> {
        mpsc::UnboundedSender::send(self, msg).map_err(|_| EngineError::SessionEnded)
    }
}

/// What to send and how to receive.
pub struct MediaOptions {
    /// The server's host (from the join link): the UDP socket binds to the local address that
    /// routes there.
    pub server_host: String,
    pub video: Option<VideoSpec>,
    /// Where the camera track's frames come from; `None` sends the test pattern. `video`
    /// still gives the track's size and rate (the SDP, simulcast and bitrates follow it).
    pub camera: Option<Arc<dyn OpenVideo>>,
    pub audio: Option<AudioInput>,
    /// Where the remote participants' audio is played, mixed into one stream (a speaker;
    /// in the app wrapped so the echo canceller hears it). `None` plays nothing. Ignored
    /// with [`MediaOptions::no_decode`].
    pub audio_output: Option<Box<dyn AudioSink>>,
    /// Count received bytes and frames without decoding (load tests: decoding dozens of
    /// streams would measure the client's CPU, not the SFU).
    pub no_decode: bool,
    /// Send low quality: only the lowest simulcast layer, whatever others watch (a user on a
    /// metered or thin connection).
    pub low_quality: bool,
    /// Decoded frames go to these too.
    pub sinks: Vec<Box<dyn FrameSink>>,
    /// Where the stats' `first_frame_ms` counts from. [`MediaOptions::new`] takes the moment
    /// it is called; a client that asked to join before starting media passes the moment it
    /// asked, so the figure is what a user waits from pressing "Join" to seeing someone.
    pub started_at: Instant,
}

impl std::fmt::Debug for MediaOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaOptions")
            .field("server_host", &self.server_host)
            .field("video", &self.video)
            .field("camera", &self.camera.is_some())
            .field("audio", &self.audio)
            .field("audio_output", &self.audio_output.is_some())
            .field("no_decode", &self.no_decode)
            .field("low_quality", &self.low_quality)
            .field("sinks", &self.sinks.len())
            .field("started_at", &self.started_at)
            .finish()
    }
}

impl MediaOptions {
    /// Receive only, decoding.
    pub fn new(server_host: impl Into<String>) -> Self {
        Self {
            server_host: server_host.into(),
            video: None,
            camera: None,
            audio: None,
            audio_output: None,
            no_decode: false,
            low_quality: false,
            sinks: Vec::new(),
            started_at: Instant::now(),
        }
    }
}

/// The media side of a session. Dropping it stops the task, its threads and the socket.
pub struct MediaSession {
    events: mpsc::UnboundedSender<Event>,
    signal: Arc<dyn SignalSink>,
    stats: Arc<Mutex<stats::StatsBook>>,
    commands: mpsc::UnboundedSender<peer::Command>,
    task: tokio::task::JoinHandle<()>,
}

impl MediaSession {
    /// Starts the media task. It does nothing on the network until the session's `joined`
    /// and `media_config` arrive through [`MediaSession::on_event`].
    pub fn start(signal: impl SignalSink, opts: MediaOptions) -> Self {
        let signal: Arc<dyn SignalSink> = Arc::new(signal);
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (commands_tx, commands_rx) = mpsc::unbounded_channel();
        let stats = Arc::new(Mutex::new(stats::StatsBook::new(opts.started_at)));
        let task = tokio::spawn(peer::run(
            signal.clone(),
            opts,
            events_rx,
            commands_rx,
            stats.clone(),
        ));
        Self {
            events: events_tx,
            signal,
            stats,
            commands: commands_tx,
            task,
        }
    }

    /// Stops the session and returns once its task has ended and its microphone is closed
    /// (dropping it stops it too, but the devices close a moment later): the app opens the
    /// microphone again at once when the user picks another device.
    pub async fn close(mut self) {
        self.task.abort();
        // Cancelled: the task's state, with the audio thread and any source not yet
        // started, has been dropped by the time this resolves.
        let _ = (&mut self.task).await;
    }

    /// Hands over one session event. Only what media needs is passed on (cheap to call for
    /// every event).
    pub fn on_event(&self, event: &Event) {
        if is_media_relevant(event) {
            let _ = self.events.send(event.clone());
        }
    }

    /// Starts sharing `input` as our screen track (replacing any share already on), or stops
    /// sharing with `None`. The track is added to (or removed from) the connection by a new
    /// offer; a share asked for before the connection is up goes out with the first offer.
    pub fn share_screen(&self, input: Option<VideoInput>) -> Result<(), EngineError> {
        self.commands
            .send(peer::Command::ShareScreen(input))
            .map_err(|_| EngineError::SessionEnded)
    }

    /// Mutes (or unmutes) our audio without taking the track down: the source keeps
    /// running and silence is sent (see `capture::AudioControl::Mute`). A session
    /// started muted sends nothing audible until unmuted.
    pub fn set_audio_muted(&self, muted: bool) -> Result<(), EngineError> {
        self.commands
            .send(peer::Command::MuteAudio(muted))
            .map_err(|_| EngineError::SessionEnded)
    }

    /// Sends `source` as our audio from now on, in place of [`MediaOptions::audio`] (another
    /// microphone picked in the meeting). The track and the mute state stay; a session that
    /// started without audio offers a track for it.
    pub fn set_audio_input(&self, source: Box<dyn AudioSource>) -> Result<(), EngineError> {
        self.commands
            .send(peer::Command::SetAudioInput(source))
            .map_err(|_| EngineError::SessionEnded)
    }

    /// Plays the others into `sink` from now on, in place of [`MediaOptions::audio_output`]
    /// (another speaker picked, before joining or in the meeting). The connection, the
    /// mixer's queues and our own tracks go on as they were; the old sink is dropped.
    pub fn set_audio_output(&self, sink: Box<dyn AudioSink>) -> Result<(), EngineError> {
        self.commands
            .send(peer::Command::SetAudioOutput(sink))
            .map_err(|_| EngineError::SessionEnded)
    }

    /// Tells the SFU how tall we draw `participant`'s video, so it forwards the simulcast
    /// layer that fits (0 pauses it while the tile is hidden).
    pub fn subscribe_video(
        &self,
        participant: ParticipantId,
        kind: TrackKind,
        max_height: u32,
    ) -> Result<(), EngineError> {
        self.signal.send(ClientMessage::SubscribeVideo {
            participant,
            kind,
            max_height,
        })
    }

    /// Receive statistics per remote participant, as of now.
    pub fn stats(&self) -> BTreeMap<ParticipantId, ParticipantStats> {
        // The book is held only to copy out of it: the network task records into it.
        let snapshot = match self.stats.lock() {
            Ok(mut book) => book.snapshot(),
            Err(_) => return BTreeMap::new(),
        };
        let (stats, tones) = snapshot.finish();
        if !tones.is_empty() {
            if let Ok(mut book) = self.stats.lock() {
                book.remember_tones(&tones);
            }
        }
        stats
    }

    /// Media packets that arrived on a mid no `media_tracks` entry explains.
    pub fn unmapped_packets(&self) -> u64 {
        self.stats.lock().map(|b| b.unmapped_packets).unwrap_or(0)
    }

    /// [`MediaSession::stats`] as the JSON object the CLI writes: keyed by participant number.
    pub fn stats_json(&self) -> serde_json::Value {
        let map: serde_json::Map<String, serde_json::Value> = self
            .stats()
            .into_iter()
            .map(|(p, s)| {
                (
                    p.0.to_string(),
                    serde_json::to_value(s).unwrap_or(serde_json::Value::Null),
                )
            })
            .collect();
        serde_json::Value::Object(map)
    }
}

impl Drop for MediaSession {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn is_media_relevant(event: &Event) -> bool {
    match event {
        Event::Server(msg) => matches!(
            msg,
            ServerMessage::Joined { .. }
                | ServerMessage::ParticipantJoined { .. }
                | ServerMessage::ParticipantUpdated { .. }
                | ServerMessage::ParticipantLeft { .. }
                | ServerMessage::MediaConfig { .. }
                | ServerMessage::MediaAnswer { .. }
                | ServerMessage::MediaOffer { .. }
                | ServerMessage::MediaTracks { .. }
                | ServerMessage::MediaLayers { .. }
                | ServerMessage::Closed { .. }
        ),
        Event::Reconnecting { .. } | Event::Resumed | Event::Failed { .. } | Event::Ended => true,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::capture::tests::SlowMicrophone;
    use super::*;

    /// The app opens the microphone again as soon as `close` returns (another device
    /// picked before joining): by then the old one must be closed.
    #[tokio::test]
    async fn a_closed_session_has_closed_its_microphone() {
        let closed = Arc::new(AtomicBool::new(false));
        let (signal, _sent) = mpsc::unbounded_channel::<ClientMessage>();
        let session = MediaSession::start(
            signal,
            MediaOptions {
                audio: Some(AudioInput::Source(Box::new(SlowMicrophone(closed.clone())))),
                ..MediaOptions::new("127.0.0.1")
            },
        );
        tokio::task::yield_now().await;
        session.close().await;
        assert!(closed.load(Ordering::SeqCst));
    }
}
