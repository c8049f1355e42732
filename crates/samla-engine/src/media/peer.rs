//! The network task: one str0m `Rtc` on one UDP socket, driven by socket reads, str0m's
//! timeouts, encoded units from the capture threads and signalling events.
//!
//! str0m is sans-IO: after every input we drain `poll_output` until it asks for a timeout,
//! sending its datagrams and handling its events.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use samla_protocol::{ClientMessage, ParticipantId, PublishedTrack, ServerMessage, TrackKind};
use samla_turn::Incoming;
use str0m::bwe::{Bitrate, BweKind};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{
    Direction, Frequency, KeyframeRequestKind, MediaData, MediaKind, MediaTime, Mid, Pt, Rid,
    Simulcast, SimulcastLayer,
};
use str0m::net::{DatagramRecv, Protocol, Receive};
use str0m::rtp::Extension;
use str0m::{Candidate, Event as RtcEvent, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::capture::{self, AudioControl, AudioThread, Encoded, VideoControl};
use super::layers::{self, RIDS};
use super::mixer::Mixer;
use super::packetize::{Picture, PictureSender, VideoStream, FRAME_MARKING_EXT_ID};
use super::playout::{self, MixerFeed, Playout};
use super::receive::{self, DecodeJob, KeyframeNeeded};
use super::relay::{self, Relay, RelayFrame, TurnServer};
use super::spec::{AudioInput, VideoInput};
use super::stats::StatsBook;
use super::tracks::TrackMap;
use super::{AudioSink, AudioSource, MediaError, MediaOptions, SignalSink};
use crate::Event;

/// Audio's share of the estimate, taken off before the rest goes to video.
const AUDIO_KBPS: u32 = 40;
/// Share of the uplink estimate that media may fill. An estimate is a guess, and a sender
/// that fills all of it keeps a slow line's queue full: its tail drops keep str0m's loss
/// controller in its decreasing state, which blocks probes, and the drops of the last
/// queue-full still arrive in the feedback after a squeeze has ended. Sending at 85 %, a
/// squeezed sender was back at full size 1.5-4.3 s after the squeeze in 16 of 16 cases,
/// against 11 of 16 within 5 s (up to 6.5 s) sending at all of it.
const VIDEO_SHARE: f64 = 0.85;
/// Bitrate changes smaller than this fraction are not passed to the encoder.
const BITRATE_HYSTERESIS: f64 = 0.1;
/// At most one keyframe request per track this often.
const KEYFRAME_REQUEST_GAP: Duration = Duration::from_millis(500);
/// Retransmission cache of our video streams: str0m's default size and age.
const RTX_CACHE_PACKETS: usize = 1000;
const RTX_CACHE_AGE: Duration = Duration::from_secs(3);
/// The share of sent bytes retransmissions may take before str0m drops queued resends. At
/// str0m's default (0.15) a lossy, jittery path trips it by NACK alone (each loss is asked
/// for again before the first resend can arrive), every queued resend is dropped and the
/// receiver needs a keyframe instead; see the SFU's `RTX_RATIO_CAP`.
const RTX_RATIO_CAP: Option<f32> = Some(0.5);
/// Encoding is held while our oldest unsent video packet has waited this long in str0m's
/// pacer, and resumes once it is below [`QUEUE_RELEASE`]. When the uplink estimate falls
/// faster than the encoder follows (a squeeze, or keyframes asked for on a lossy path), the
/// pacer queues up to 2 s: every picture then arrives seconds late and retransmissions wait
/// behind it until the receiver gives up on them and asks for yet another keyframe. Skipping
/// frames at the source (as libwebrtc's pacer pushback does) keeps the queue short.
const QUEUE_HOLD: Duration = Duration::from_millis(250);
const QUEUE_RELEASE: Duration = Duration::from_millis(100);

/// How far behind its timer str0m is allowed to be caught up (see [`Conn::timer_time`]).
/// A probe cluster lasts about 15 ms; a wake-up later than this is a stall, not timer
/// granularity, and the clock then jumps to now.
const TIMER_CATCH_UP: Duration = Duration::from_millis(25);

/// How long an estimate must keep carrying more layers before they are turned on (see
/// [`Peer::confirmed_fit`]): half a stats interval, so the next report after the one that
/// first carried them decides.
const UPGRADE_CONFIRM: Duration = STATS_INTERVAL.saturating_sub(Duration::from_millis(100));

/// How often the uplink is probed while a simulcast layer is off for lack of bandwidth.
const PROBE_EVERY: Duration = Duration::from_secs(1);
/// How long after stepping the desired rate down it is raised again to start a probe. str0m
/// compares the desired rate between two of its timeouts, which come every few tens of
/// milliseconds: a step down and up within one call would go unseen.
const PROBE_RISE_AFTER: Duration = Duration::from_millis(100);
/// Complete frames str0m may hold behind a missing packet before giving up on it: its default
/// (30, one second at 30 fps) gives up before a second retransmission can arrive on a path
/// with 200-400 ms round trips. str0m's own NACK deadline (five requests, then three round
/// trips) bounds the wait on any path this count does not; 150 is five seconds at 30 fps.
const REORDERING_FRAMES: usize = 150;
/// How often str0m reports stats. With them comes its bandwidth estimate as it stands,
/// which the encoder follows (see [`Estimate`]); the round trip time comes with them too.
const STATS_INTERVAL: Duration = Duration::from_millis(200);
/// Largest datagram we read.
const MAX_DATAGRAM: usize = 2000;
/// Nothing at all from the SFU for this long means the media path is dead: while connected,
/// the SFU's RTCP reports arrive every second, and even when no one sends media its answers
/// to our consent checks come at least every 3 s (str0m's longest STUN retransmission gap;
/// an unanswered check is repeated sooner). Then we restart ICE (see
/// [`Peer::check_media_path`]). str0m's own verdict (ICE `Disconnected`) comes only after its
/// STUN retransmissions run out, later than this.
const MEDIA_SILENCE: Duration = Duration::from_secs(5);
/// At most one ICE restart this often while the path stays dead.
const RESTART_GAP: Duration = Duration::from_secs(5);

/// One str0m connection and what we negotiated on it.
struct Conn {
    rtc: Rtc,
    socket: Arc<UdpSocket>,
    /// Our TURN allocations, when the server named TURN servers (see [`relay`]): at most
    /// one each over UDP (on `socket`), TCP and TLS.
    relays: Vec<Relay>,
    local: SocketAddr,
    pending: Option<SdpPendingOffer>,
    audio_mid: Option<Mid>,
    video_mid: Option<Mid>,
    /// Kept after sharing stops (set inactive), to be reused by the next share.
    screen_mid: Option<Mid>,
    simulcast: bool,
    /// Payload types found after negotiation (`None` until known).
    audio_pt: Option<Pt>,
    video_pt: Option<Pt>,
    screen_pt: Option<Pt>,
    next_timeout: Instant,
    /// The last time handed to str0m: what it is given never goes back.
    clock: Instant,
    /// When the last datagram arrived (or the connection opened, or an ICE restart finished).
    last_datagram: Instant,
    /// Whether the connection has been up: before that, silence is the setup, not a failure.
    was_connected: bool,
    /// When we last offered an ICE restart.
    last_restart: Option<Instant>,
    /// The outstanding offer carries an ICE restart.
    restart_in_offer: bool,
    /// The DTLS fingerprint of the SFU's first answer. A different one in the answer to an
    /// ICE restart means the SFU had dropped our session and started a new one, which our
    /// DTLS state does not belong to: then the connection is made afresh.
    remote_fingerprint: Option<String>,
    /// Sends our camera and screen pictures packet by packet, with frame marking.
    pictures: PictureSender,
}

/// str0m's uplink bandwidth estimate, in kbit/s, as the encoder follows it.
///
/// str0m reports its estimate twice: as `EgressBitrateEstimate` events, which carry the
/// average of the distinct values of the last three seconds, and in its stats (`bwe_tx`),
/// as it stands. The average lags: when a probe found the uplink free again after a
/// squeeze, the event climbed over three seconds while the estimate itself was already up,
/// and the top layer came back that much later. The current value is followed once stats
/// have brought one; the average only until then.
#[derive(Debug, Clone, Copy)]
enum Estimate {
    Averaged(u32),
    Current(u32),
}

impl Estimate {
    fn kbps(self) -> u32 {
        match self {
            Estimate::Averaged(kbps) | Estimate::Current(kbps) => kbps,
        }
    }
}

/// `bitrate` in whole kbit/s.
fn kbps(bitrate: Bitrate) -> u32 {
    u32::try_from(bitrate.as_u64() / 1000).unwrap_or(u32::MAX)
}

/// The time to hand str0m when a timer it asked for at `asked` fires at `now`, when it was
/// last handed `clock`: `asked`, unless the wake-up is more than [`TIMER_CATCH_UP`] late
/// (then `now`), and never earlier than `clock` (str0m's time must not go back).
fn timer_time(asked: Instant, clock: Instant, now: Instant) -> Instant {
    if now.saturating_duration_since(asked) > TIMER_CATCH_UP {
        now.max(clock)
    } else {
        asked.min(now).max(clock)
    }
}

impl Conn {
    /// The time to hand str0m when its timer has fired, at `now`: the time it asked for, not
    /// the time we woke. Wake-ups come a millisecond or more late (tokio's timer ticks in
    /// milliseconds, a busy machine adds more), and str0m's pacer sends one probe burst per
    /// timeout, stamped with the time it is given: handed `now`, a 15 ms probe cluster went
    /// out over twice that and measured half its rate, so the estimate climbed back slowly
    /// after congestion. Handed the time it asked for, it catches up burst by burst with the
    /// send times the probe needs (the bursts leave together; what the receiver measures of
    /// them is the path's real rate). Only small delays are caught up: after a stall the
    /// clock jumps to now.
    fn timer_time(&mut self, now: Instant) -> Instant {
        self.clock = timer_time(self.next_timeout, self.clock, now);
        self.clock
    }
}

struct Peer {
    signal: Arc<dyn SignalSink>,
    opts: MediaOptions,
    stats: Arc<Mutex<StatsBook>>,
    me: Option<ParticipantId>,
    conn: Option<Conn>,
    /// Set when signalling dropped: the next `media_config` or `resumed` starts afresh.
    restart_pending: bool,
    tracks: TrackMap,
    encoded_tx: mpsc::UnboundedSender<Encoded>,
    /// Held so the keyframe channel stays open even without a decoder thread.
    _keyframe_tx: mpsc::UnboundedSender<KeyframeNeeded>,
    decoder: Option<std_mpsc::Sender<DecodeJob>>,
    video_ctrl: Option<std_mpsc::Sender<VideoControl>>,
    /// What to publish as audio, until its thread starts (with the first answer).
    audio_input: Option<AudioInput>,
    /// The running audio thread. Like the screen share it outlives a reconnect, so a
    /// microphone stays open and the track goes on on the new connection.
    audio_thread: Option<AudioThread>,
    audio_muted: bool,
    /// Where the decoder queues the others' audio (when decoding), for the playout thread.
    mixer: Option<Arc<Mutex<Mixer>>>,
    /// The playout thread, once there is a sink to play into; it stops when the task ends.
    playout: Option<Playout>,
    /// A screen share asked for whose thread starts once the SFU has answered our offer.
    screen_input: Option<VideoInput>,
    /// The running screen-share thread. It outlives a reconnect: the share goes on on the
    /// new connection.
    screen_ctrl: Option<std_mpsc::Sender<VideoControl>>,
    /// Our tracks changed while an offer of ours was outstanding: offer again after it.
    republish: bool,
    /// Layers the SFU says someone watches (`media_layers`).
    layers_on: [bool; 3],
    /// Layers the bandwidth estimate can carry (see [`layers::fitting_layers`]).
    layers_fit: [bool; 3],
    /// More layers fitted the estimate at this report; they are taken once a later report,
    /// [`UPGRADE_CONFIRM`] on, still fits them.
    upgrade_seen: Option<([bool; 3], Instant)>,
    /// The organisation's cap on video height, from `media_config`.
    max_video_height: Option<u32>,
    /// The uplink bandwidth estimate, once str0m has one.
    estimate_kbps: Option<Estimate>,
    video_kbps: u32,
    /// Encoding is held because the send queue is backed up (see [`QUEUE_HOLD`]).
    held: bool,
    /// When str0m was last asked to probe the uplink (see [`Peer::probe_while_short`]).
    probed_at: Option<Instant>,
    /// When to raise the desired rate again after a probe's step down.
    probe_rise_at: Option<Instant>,
    last_seq: HashMap<Mid, u64>,
    last_keyframe_request: HashMap<Mid, Instant>,
    /// Reused between polls so draining str0m does not allocate.
    rtc_events: Vec<RtcEvent>,
    bad_datagrams: u64,
    /// The media path went dead: the next offer restarts ICE (kept across a rolled-back
    /// offer until an answer to a restart arrives).
    ice_restart_wanted: bool,
    /// The TURN servers of the last `media_config`, used from the next connection on.
    turn_servers: Vec<TurnServer>,
    /// Where TCP relays send what their TURN server sent (see [`Peer::on_relay_frame`]).
    relay_frames: mpsc::UnboundedSender<RelayFrame>,
}

/// What an answer from the SFU turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answered {
    /// Applied to our session (an ICE restart included).
    SameSession,
    /// The answer to our ICE restart comes from a new session of the SFU's (it had dropped
    /// ours): the connection has to be made afresh.
    NewSession,
}

/// What the [`super::MediaSession`] asks of the network task.
pub(super) enum Command {
    ShareScreen(Option<VideoInput>),
    MuteAudio(bool),
    SetAudioInput(Box<dyn AudioSource>),
    SetAudioOutput(Box<dyn AudioSink>),
}

/// What woke the loop.
enum Wake {
    Event(Option<Event>),
    Command(Command),
    Encoded(Encoded),
    Datagram(std::io::Result<(usize, SocketAddr)>),
    Timeout,
    Keyframe(KeyframeNeeded),
    RelayFrame(RelayFrame),
    StatsTick,
}

/// How often counters are sampled for fps and bitrate.
const STATS_TICK: Duration = Duration::from_millis(500);

/// Starts playing the mixer into `sink`; a thread that cannot start is logged, and the
/// meeting goes on unheard rather than not at all.
fn start_playout(mixer: &Arc<Mutex<Mixer>>, sink: Box<dyn AudioSink>) -> Option<Playout> {
    playout::spawn_playout(mixer.clone(), sink)
        .inspect_err(|err| tracing::error!(%err, "cannot start the playout thread"))
        .ok()
}

pub(super) async fn run(
    signal: Arc<dyn SignalSink>,
    mut opts: MediaOptions,
    mut events: mpsc::UnboundedReceiver<Event>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    stats: Arc<Mutex<StatsBook>>,
) {
    install_crypto();
    let (encoded_tx, mut encoded_rx) = mpsc::unbounded_channel();
    let (keyframe_tx, mut keyframe_rx) = mpsc::unbounded_channel();
    let (relay_frames, mut relay_frames_rx) = mpsc::unbounded_channel();
    let mut sinks = std::mem::take(&mut opts.sinks);
    let audio_input = opts.audio.take();
    // The mixer is there whenever we decode, so a speaker given later (none opened at the
    // start, then one plugged in) plays what the others say from then on.
    let mixer = (!opts.no_decode).then(|| {
        let mixer = Arc::new(Mutex::new(Mixer::new()));
        sinks.push(Box::new(MixerFeed(mixer.clone())));
        mixer
    });
    let playout = match (&mixer, opts.audio_output.take()) {
        (Some(mixer), Some(sink)) => start_playout(mixer, sink),
        _ => None,
    };
    let decoder = if opts.no_decode {
        None
    } else {
        match receive::spawn_decoder(stats.clone(), sinks, keyframe_tx.clone()) {
            Ok(tx) => Some(tx),
            Err(err) => {
                tracing::error!(%err, "cannot start the decoder thread");
                None
            }
        }
    };
    let mut peer = Peer {
        signal,
        opts,
        stats,
        me: None,
        conn: None,
        restart_pending: false,
        tracks: TrackMap::default(),
        encoded_tx,
        _keyframe_tx: keyframe_tx,
        decoder,
        video_ctrl: None,
        audio_input,
        audio_thread: None,
        audio_muted: false,
        mixer,
        playout,
        screen_input: None,
        screen_ctrl: None,
        republish: false,
        layers_on: [true; 3],
        layers_fit: [true; 3],
        upgrade_seen: None,
        max_video_height: None,
        estimate_kbps: None,
        video_kbps: 0,
        held: false,
        probed_at: None,
        probe_rise_at: None,
        last_seq: HashMap::new(),
        last_keyframe_request: HashMap::new(),
        rtc_events: Vec::new(),
        bad_datagrams: 0,
        ice_restart_wanted: false,
        turn_servers: Vec::new(),
        relay_frames,
    };
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut stats_tick = tokio::time::interval(STATS_TICK);
    stats_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let socket = peer.conn.as_ref().map(|c| c.socket.clone());
        let deadline = peer.conn.as_ref().map(|c| c.next_timeout);
        let wake = tokio::select! {
            ev = events.recv() => Wake::Event(ev),
            Some(cmd) = commands.recv() => Wake::Command(cmd),
            Some(unit) = encoded_rx.recv() => Wake::Encoded(unit),
            Some(k) = keyframe_rx.recv() => Wake::Keyframe(k),
            Some(frame) = relay_frames_rx.recv() => Wake::RelayFrame(frame),
            res = recv_on(socket.as_deref(), &mut buf) => Wake::Datagram(res),
            _ = sleep_until(deadline) => Wake::Timeout,
            _ = stats_tick.tick() => Wake::StatsTick,
        };
        match wake {
            Wake::Event(None) => break,
            Wake::Event(Some(ev)) => {
                if !peer.on_event(ev).await {
                    break;
                }
            }
            Wake::Command(Command::ShareScreen(input)) => peer.share_screen(input),
            Wake::Command(Command::MuteAudio(muted)) => peer.mute_audio(muted),
            Wake::Command(Command::SetAudioInput(source)) => peer.set_audio_input(source),
            Wake::Command(Command::SetAudioOutput(sink)) => peer.set_audio_output(sink),
            Wake::Encoded(unit) => peer.on_encoded(unit),
            Wake::Keyframe(KeyframeNeeded(p, kind)) => {
                if let Some(mid) = peer.tracks.mid_of(p, kind).map(Mid::from) {
                    peer.request_keyframe(mid);
                }
            }
            Wake::Datagram(Ok((n, source))) => peer.on_datagram(&buf[..n], source),
            Wake::RelayFrame(frame) => peer.on_relay_frame(&frame),
            Wake::Datagram(Err(err)) => {
                // ICMP port-unreachable and the like surface here; str0m's ICE copes.
                tracing::debug!(%err, "media socket read failed");
            }
            Wake::StatsTick => {
                if let Ok(mut book) = peer.stats.lock() {
                    book.tick(Instant::now());
                }
                peer.check_media_path(Instant::now());
                continue;
            }
            Wake::Timeout => {
                if let Some(conn) = &mut peer.conn {
                    let at = conn.timer_time(Instant::now());
                    let _ = conn.rtc.handle_input(Input::Timeout(at));
                }
            }
        }
        peer.drive();
    }
    peer.stop_conn();
}

async fn recv_on(
    socket: Option<&UdpSocket>,
    buf: &mut [u8],
) -> std::io::Result<(usize, SocketAddr)> {
    match socket {
        Some(s) => s.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        // tokio's timer rounds a deadline up to its next millisecond tick, so one that has
        // just passed would still wait for that tick: str0m's pacer, which asks for the next
        // packet a microsecond after the last, would send one packet per millisecond.
        Some(t) if t <= Instant::now() => {}
        Some(t) => tokio::time::sleep_until(tokio::time::Instant::from_std(t)).await,
        None => std::future::pending().await,
    }
}

/// str0m needs a process-wide crypto provider; install the one its features select, once.
fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| str0m::crypto::from_feature_flags().install_process_default());
}

/// The local address that routes to `host`: connecting a UDP socket sends nothing but makes
/// the kernel pick the source address, which is the one the SFU can reach us on.
async fn local_ip_towards(host: &str) -> Result<std::net::IpAddr, MediaError> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let target = tokio::net::lookup_host((host, 9))
        .await?
        .next()
        .ok_or(MediaError::NoServerHost)?;
    let bind: SocketAddr = if target.is_ipv4() {
        "0.0.0.0:0".parse().expect("literal address")
    } else {
        "[::]:0".parse().expect("literal address")
    };
    let probe = std::net::UdpSocket::bind(bind)?;
    probe.connect(target)?;
    Ok(probe.local_addr()?.ip())
}

fn kind_of(kind: TrackKind) -> MediaKind {
    match kind {
        TrackKind::Audio => MediaKind::Audio,
        TrackKind::Camera | TrackKind::Screen => MediaKind::Video,
    }
}

impl Peer {
    /// Handles one signalling event; false when the session is over.
    async fn on_event(&mut self, event: Event) -> bool {
        match event {
            Event::Server(msg) => self.on_server(msg).await,
            Event::Reconnecting { .. } => {
                self.restart_pending = true;
                true
            }
            Event::Resumed => {
                if self.restart_pending {
                    self.start().await;
                }
                true
            }
            Event::Failed { .. } | Event::Ended => false,
        }
    }

    async fn on_server(&mut self, msg: ServerMessage) -> bool {
        match msg {
            ServerMessage::Joined {
                you, participants, ..
            } => {
                self.me = Some(you);
                if let Ok(mut book) = self.stats.lock() {
                    for p in participants {
                        book.names.insert(p.id, p.name);
                    }
                }
            }
            ServerMessage::ParticipantJoined { participant }
            | ServerMessage::ParticipantUpdated { participant } => {
                if let Ok(mut book) = self.stats.lock() {
                    book.names.insert(participant.id, participant.name);
                }
            }
            ServerMessage::MediaConfig {
                ice_servers,
                max_video_height,
            } => {
                self.turn_servers = relay::turn_servers(&ice_servers);
                if max_video_height != self.max_video_height {
                    self.max_video_height = max_video_height;
                    self.send_video(VideoControl::Layers(self.layers_to_send()));
                }
                if self.conn.is_none() || self.restart_pending {
                    self.start().await;
                }
            }
            ServerMessage::MediaAnswer { sdp } => {
                match self.accept_answer(&sdp) {
                    Ok(Answered::SameSession) => {}
                    Ok(Answered::NewSession) => {
                        tracing::info!("the SFU answered our ICE restart with a new session; connecting afresh");
                        self.start().await;
                    }
                    Err(err) => tracing::warn!(%err, "could not apply the SFU's answer"),
                }
            }
            ServerMessage::MediaOffer { sdp } => {
                if let Err(err) = self.answer_offer(&sdp) {
                    tracing::warn!(%err, "could not answer the SFU's offer");
                }
            }
            ServerMessage::MediaTracks { tracks } => {
                for gone in self.tracks.replace(&tracks) {
                    if let Some(dec) = &self.decoder {
                        let _ = dec.send(DecodeJob::Forget(gone));
                    }
                }
                self.last_seq.clear();
            }
            ServerMessage::MediaLayers {
                kind: TrackKind::Camera,
                active_rids,
            } => {
                self.layers_on = layers::enabled_layers(&active_rids);
                self.send_video(VideoControl::Layers(self.layers_to_send()));
                self.apply_estimate(true);
            }
            ServerMessage::Closed { .. } => return false,
            _ => {}
        }
        true
    }

    /// Starts (or restarts) the connection and publishes our tracks.
    async fn start(&mut self) {
        self.restart_pending = false;
        self.ice_restart_wanted = false;
        self.stop_conn();
        if self.me.is_none() {
            tracing::debug!("media config before joined; waiting");
            return;
        }
        match self.open().await {
            Ok(conn) => self.conn = Some(conn),
            Err(err) => {
                tracing::error!(%err, "media could not start");
                return;
            }
        }
        if let Err(err) = self.publish() {
            tracing::error!(%err, "could not offer our media");
        }
    }

    async fn open(&mut self) -> Result<Conn, MediaError> {
        let ip = local_ip_towards(&self.opts.server_host).await?;
        let std_socket = std::net::UdpSocket::bind((ip, 0))?;
        std_socket.set_nonblocking(true)?;
        let socket = UdpSocket::from_std(std_socket)?;
        let local = socket.local_addr()?;
        let simulcast = self.opts.video.is_some_and(capture::is_simulcast);
        let video_kbps = self.opts.video.map(|v| initial_video_kbps(v.size()));
        let mut builder = Rtc::builder()
            .clear_codecs()
            .enable_h264(true)
            .enable_opus(true, false)
            .set_reordering_size_video(REORDERING_FRAMES)
            .set_extension(FRAME_MARKING_EXT_ID, Extension::FrameMarking)
            .set_stats_interval(Some(STATS_INTERVAL));
        if let Some(kbps) = video_kbps {
            builder = builder.enable_bwe(Some(Bitrate::kbps(u64::from(kbps + AUDIO_KBPS))));
            self.video_kbps = kbps;
        }
        let mut rtc = builder.build(Instant::now());
        if let Some(kbps) = video_kbps {
            rtc.bwe().set_bitrate(
                Bitrate::kbps(u64::from(capture::MIN_LAYER_KBPS + AUDIO_KBPS)),
                Bitrate::kbps(u64::from(kbps + AUDIO_KBPS)),
            );
        }
        let candidate = Candidate::host(local, "udp")
            .map_err(|e| MediaError::Sdp(format!("host candidate {local}: {e}")))?;
        rtc.add_local_candidate(candidate);
        tracing::debug!(%local, simulcast, "media socket open");
        let socket = Arc::new(socket);
        // The relay candidate joins the host one once allocated (see `drive`).
        let relays = Relay::start(&self.turn_servers, socket.clone(), &self.relay_frames).await;
        Ok(Conn {
            rtc,
            socket,
            relays,
            local,
            pending: None,
            audio_mid: None,
            video_mid: None,
            screen_mid: None,
            simulcast,
            audio_pt: None,
            video_pt: None,
            screen_pt: None,
            next_timeout: Instant::now(),
            clock: Instant::now(),
            last_datagram: Instant::now(),
            was_connected: false,
            last_restart: None,
            restart_in_offer: false,
            remote_fingerprint: None,
            pictures: PictureSender::new(),
        })
    }

    /// Offers our tracks: audio and camera send-only, the camera as three simulcast layers
    /// when big enough. With nothing to send, a data channel makes the offer non-empty so the
    /// SFU still gets a connection to send us media on.
    fn publish(&mut self) -> Result<(), MediaError> {
        let Some(conn) = &mut self.conn else {
            return Ok(());
        };
        let stream = self
            .me
            .map(|p| format!("p{}", p.0))
            .unwrap_or_else(|| "samla".into());
        if conn.pending.is_some() {
            // One offer at a time: this one goes out when the SFU has answered.
            self.republish = true;
            return Ok(());
        }
        // A mid from an offer that was rolled back is not on the connection: add it again.
        for mid in [
            &mut conn.audio_mid,
            &mut conn.video_mid,
            &mut conn.screen_mid,
        ] {
            if mid.is_some_and(|m| conn.rtc.media(m).is_none()) {
                *mid = None;
            }
        }
        let sharing = self.screen_input.is_some() || self.screen_ctrl.is_some();
        let sends_audio = self.audio_input.is_some() || self.audio_thread.is_some();
        let mut api = conn.rtc.sdp_api();
        let mut tracks = Vec::new();
        if let (true, Some(mid)) = (sends_audio, conn.audio_mid) {
            tracks.push(PublishedTrack {
                mid: mid.to_string(),
                kind: TrackKind::Audio,
            });
        } else if sends_audio {
            let mid = api.add_media(
                kind_of(TrackKind::Audio),
                Direction::SendOnly,
                Some(stream.clone()),
                Some("audio".into()),
                None,
            );
            conn.audio_mid = Some(mid);
            tracks.push(PublishedTrack {
                mid: mid.to_string(),
                kind: TrackKind::Audio,
            });
        }
        if let (true, Some(mid)) = (self.opts.video.is_some(), conn.video_mid) {
            tracks.push(PublishedTrack {
                mid: mid.to_string(),
                kind: TrackKind::Camera,
            });
        } else if self.opts.video.is_some() {
            let simulcast = conn.simulcast.then(|| Simulcast {
                send: RIDS.iter().map(|r| SimulcastLayer::new(r)).collect(),
                recv: Vec::new(),
            });
            let mid = api.add_media(
                kind_of(TrackKind::Camera),
                Direction::SendOnly,
                Some(stream.clone()),
                Some("camera".into()),
                simulcast,
            );
            conn.video_mid = Some(mid);
            tracks.push(PublishedTrack {
                mid: mid.to_string(),
                kind: TrackKind::Camera,
            });
        }
        match (sharing, conn.screen_mid) {
            (true, Some(mid)) => {
                api.set_direction(mid, Direction::SendOnly);
                tracks.push(PublishedTrack {
                    mid: mid.to_string(),
                    kind: TrackKind::Screen,
                });
            }
            (true, None) => {
                let mid = api.add_media(
                    kind_of(TrackKind::Screen),
                    Direction::SendOnly,
                    Some(stream),
                    Some("screen".into()),
                    None,
                );
                conn.screen_mid = Some(mid);
                tracks.push(PublishedTrack {
                    mid: mid.to_string(),
                    kind: TrackKind::Screen,
                });
            }
            (false, Some(mid)) => api.set_direction(mid, Direction::Inactive),
            (false, None) => {}
        }
        if tracks.is_empty() && !api.has_changes() {
            api.add_channel("samla".into());
        }
        // Our host candidate stays: the address is the same, the path behind it failed.
        if self.ice_restart_wanted {
            api.ice_restart(true);
        }
        let Some((offer, pending)) = api.apply() else {
            return Ok(());
        };
        conn.pending = Some(pending);
        conn.restart_in_offer = self.ice_restart_wanted;
        let mut sdp = offer.to_sdp_string();
        if let (true, Some(video)) = (conn.simulcast, self.opts.video) {
            sdp = layers::declare_heights(&sdp, video.size().1);
        }
        self.signal
            .send(ClientMessage::MediaOffer { sdp, tracks })
            .map_err(|e| MediaError::Sdp(e.to_string()))?;
        Ok(())
    }

    fn accept_answer(&mut self, sdp: &str) -> Result<Answered, MediaError> {
        let Some(conn) = &mut self.conn else {
            return Ok(Answered::SameSession);
        };
        let answer = SdpAnswer::from_sdp_string(sdp).map_err(|e| MediaError::Sdp(e.to_string()))?;
        let Some(pending) = conn.pending.take() else {
            return Err(MediaError::Sdp("an answer without an offer of ours".into()));
        };
        let fingerprint = sdp_attribute(sdp, "fingerprint").map(str::to_owned);
        let restarted = std::mem::take(&mut conn.restart_in_offer);
        if restarted && conn.remote_fingerprint.is_some() && fingerprint != conn.remote_fingerprint
        {
            return Ok(Answered::NewSession);
        }
        conn.remote_fingerprint = conn.remote_fingerprint.take().or(fingerprint);
        conn.rtc.sdp_api().accept_answer(pending, answer)?;
        if restarted {
            self.ice_restart_wanted = false;
            // Silence is counted afresh: the new checks need a moment to get through.
            conn.last_datagram = Instant::now();
            if let Ok(mut book) = self.stats.lock() {
                book.ice_restarts += 1;
            }
        }
        if let Some(mid) = conn.video_mid {
            let rids: &[Option<&str>] = if conn.simulcast {
                &[Some(RIDS[0]), Some(RIDS[1]), Some(RIDS[2])]
            } else {
                &[None]
            };
            let mut api = conn.rtc.direct_api();
            for rid in rids {
                if let Some(stream) = api.stream_tx_by_mid(mid, rid.map(Rid::from)) {
                    stream.set_rtx_cache(RTX_CACHE_PACKETS, RTX_CACHE_AGE, RTX_RATIO_CAP);
                }
            }
        }
        conn.audio_pt = None;
        conn.video_pt = None;
        conn.screen_pt = None;
        self.start_sources();
        if std::mem::take(&mut self.republish) {
            self.publish()?;
        }
        Ok(Answered::SameSession)
    }

    /// Answers the SFU's offer. We are the polite peer: an offer of ours still outstanding is
    /// rolled back (str0m drops it when it accepts the remote offer) and made again after.
    fn answer_offer(&mut self, sdp: &str) -> Result<(), MediaError> {
        let Some(conn) = &mut self.conn else {
            return Err(MediaError::Sdp("an offer before we offered".into()));
        };
        let offer = SdpOffer::from_sdp_string(sdp).map_err(|e| MediaError::Sdp(e.to_string()))?;
        let rolled_back = conn.pending.take().is_some();
        let answer = conn.rtc.sdp_api().accept_offer(offer)?;
        self.signal
            .send(ClientMessage::MediaAnswer {
                sdp: answer.to_sdp_string(),
            })
            .map_err(|e| MediaError::Sdp(e.to_string()))?;
        if rolled_back {
            self.publish()?;
        }
        Ok(())
    }

    fn start_sources(&mut self) {
        let Some(me) = self.me else { return };
        if let (Some(spec), None) = (self.opts.video, &self.video_ctrl) {
            match capture::spawn_video(
                spec,
                self.opts.camera.clone(),
                me.0,
                self.encoded_tx.clone(),
            ) {
                Ok(ctrl) => {
                    let _ = ctrl.send(VideoControl::Layers(self.layers_to_send()));
                    self.video_ctrl = Some(ctrl);
                }
                Err(err) => tracing::error!(%err, "cannot start the video thread"),
            }
        }
        // Only once the screen track is on the connection: an answer to an earlier offer
        // (the share asked for while it was outstanding) does not start it.
        let screen_negotiated = self.conn.as_ref().is_some_and(|c| {
            let sending = |m| {
                c.rtc
                    .media(m)
                    .is_some_and(|media| media.direction() == Direction::SendOnly)
            };
            c.pending.is_none() && c.screen_mid.is_some_and(sending)
        });
        if screen_negotiated {
            if let Some(input) = self.screen_input.take() {
                match capture::spawn_screen(input, me.0, self.encoded_tx.clone()) {
                    Ok(ctrl) => self.screen_ctrl = Some(ctrl),
                    Err(err) => tracing::error!(%err, "cannot start the screen-share thread"),
                }
            }
        }
        if let Some(input) = self.audio_input.take() {
            match capture::spawn_audio(input, me.0, self.audio_muted, self.encoded_tx.clone()) {
                Ok(thread) => self.audio_thread = Some(thread),
                Err(err) => tracing::error!(%err, "cannot start the audio thread"),
            }
        }
    }

    /// Starts, replaces or (with `None`) stops the screen share, and offers the change.
    fn share_screen(&mut self, input: Option<VideoInput>) {
        // Dropping the sender ends the old thread.
        self.screen_ctrl = None;
        self.screen_input = input;
        if let Err(err) = self.publish() {
            tracing::error!(%err, "could not offer the screen share");
        }
    }

    /// Mutes or unmutes our audio (see [`AudioControl::Mute`]); before the audio thread
    /// starts, it starts in this state.
    fn mute_audio(&mut self, muted: bool) {
        self.audio_muted = muted;
        if let Some(thread) = &self.audio_thread {
            thread.send(AudioControl::Mute(muted));
        }
    }

    /// Sends `source` as our audio from now on (another microphone picked). A running audio
    /// thread swaps it in; before it starts it replaces the source waiting for it; a session
    /// that had no audio (no microphone at the start) offers an audio track for it.
    fn set_audio_input(&mut self, source: Box<dyn AudioSource>) {
        if let Some(thread) = &self.audio_thread {
            thread.send(AudioControl::Replace(source));
            return;
        }
        let had_audio = self.audio_input.is_some();
        self.audio_input = Some(AudioInput::Source(source));
        if !had_audio {
            if let Err(err) = self.publish() {
                tracing::error!(%err, "could not offer the microphone");
            }
        }
    }

    /// Plays the others into `sink` from now on (another speaker picked). Without a running
    /// playout (no speaker at the start) one starts; without decoding nothing is played.
    fn set_audio_output(&mut self, sink: Box<dyn AudioSink>) {
        let Some(mixer) = &self.mixer else {
            tracing::debug!("not decoding: a speaker has nothing to play");
            return;
        };
        let sink = match &self.playout {
            Some(playout) => match playout.set_sink(sink) {
                Ok(()) => return,
                Err(sink) => sink,
            },
            None => sink,
        };
        self.playout = start_playout(mixer, sink);
    }

    /// Drops the connection and stops the video thread (dropping its channel ends it). The
    /// audio and screen-share threads go on: their sources are opened once per session.
    fn stop_conn(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            conn.rtc.disconnect();
        }
        self.video_ctrl = None;
        self.tracks.clear();
        self.last_seq.clear();
        self.estimate_kbps = None;
        self.layers_fit = [true; 3];
        self.upgrade_seen = None;
        self.held = false;
    }

    /// Restarts ICE when the media path has gone dead: after [`MEDIA_SILENCE`] without a
    /// datagram from the SFU on a connection that was up, we offer again with new ICE
    /// credentials over the signalling connection (which survives outages TCP rides out).
    /// The SFU answers with its own new credentials, the checks start over and media resumes
    /// on the same DTLS session and tracks: no rejoin, no new keys, no renegotiated tracks.
    fn check_media_path(&mut self, now: Instant) {
        let Some(conn) = &self.conn else { return };
        let silent = now.saturating_duration_since(conn.last_datagram);
        let dead = conn.was_connected && silent >= MEDIA_SILENCE;
        let due = conn
            .last_restart
            .is_none_or(|t| now.saturating_duration_since(t) >= RESTART_GAP);
        // A restart offer in flight is waited for: signalling delivers it once the path is
        // back (an offer of other changes in flight is answered first, and the restart goes
        // into the next one; see `publish`). While signalling itself reconnects, nothing is
        // offered: the offer would be queued and sent after the resume, which starts a new
        // connection anyway.
        if !dead || !due || conn.restart_in_offer || self.restart_pending {
            return;
        }
        tracing::info!(?silent, "nothing from the SFU; restarting ICE");
        if let Some(conn) = &mut self.conn {
            conn.last_restart = Some(now);
            // A TCP or TLS relay whose connection has ended is made again, so that the
            // restart's checks can go through it; its old candidate is given up.
            for relay in conn.relays.iter_mut().filter(|r| r.is_cut_off()) {
                let Some(fresh) = relay.reconnect() else {
                    continue;
                };
                if let Some(old) = relay.address() {
                    if let Ok(candidate) = Candidate::relayed(old, conn.local, "udp") {
                        conn.rtc.direct_api().invalidate_candidate(&candidate);
                    }
                }
                *relay = fresh;
            }
        }
        self.ice_restart_wanted = true;
        if let Err(err) = self.publish() {
            tracing::warn!(%err, "could not offer an ICE restart");
        }
    }

    /// Holds or releases the encoder by how long our video has waited in the pacer.
    fn check_send_queue(&mut self) {
        let Some(conn) = &mut self.conn else { return };
        let Some(mid) = conn.video_mid else { return };
        let now = Instant::now();
        let rids: [Option<Rid>; 3] = if conn.simulcast {
            RIDS.map(|r| Some(Rid::from(r)))
        } else {
            [None; 3]
        };
        let mut api = conn.rtc.direct_api();
        let waited = rids
            .iter()
            .filter_map(|rid| {
                let first = api
                    .stream_tx_by_mid(mid, *rid)?
                    .queue_info()?
                    .first_unsent()?;
                Some(now.saturating_duration_since(first))
            })
            .max()
            .unwrap_or_default();
        let hold = if self.held {
            waited >= QUEUE_RELEASE
        } else {
            waited >= QUEUE_HOLD
        };
        if hold != self.held {
            tracing::debug!(?waited, hold, "video send queue");
            self.held = hold;
            self.send_video(VideoControl::Hold(hold));
        }
    }

    /// The simulcast layers to encode: what is watched, within what the uplink carries and
    /// the organisation's cap; only the lowest layer when the user chose to send low quality.
    fn layers_to_send(&self) -> [bool; 3] {
        let fits = if self.opts.low_quality {
            [true, false, false]
        } else {
            let height = self.opts.video.map_or(0, |v| v.size().1);
            let allowed = layers::within_cap(height, self.max_video_height);
            [0, 1, 2].map(|i| self.layers_fit[i] && allowed[i])
        };
        layers::layers_to_send(self.layers_on, fits)
    }

    fn send_video(&self, control: VideoControl) {
        if let Some(ctrl) = &self.video_ctrl {
            let _ = ctrl.send(control);
        }
    }

    fn on_encoded(&mut self, unit: Encoded) {
        let Some(conn) = &mut self.conn else { return };
        if !conn.rtc.is_connected() {
            return;
        }
        match unit {
            Encoded::Video {
                layer,
                data,
                capture_us,
                keyframe,
            } => {
                let Some(mid) = conn.video_mid else { return };
                if conn.video_pt.is_none() {
                    conn.video_pt = find_pt(&mut conn.rtc, mid, Codec::H264);
                }
                let Some(pt) = conn.video_pt else { return };
                let (stream, rid) = match (layer, conn.simulcast) {
                    (Some(layer), true) => (
                        VideoStream::Camera(layer),
                        Some(Rid::from(capture::rid_of(layer))),
                    ),
                    _ => (VideoStream::Camera(0), None),
                };
                let picture = Picture {
                    data: &data,
                    capture_us,
                    keyframe,
                };
                conn.pictures
                    .send(&mut conn.rtc, stream, mid, rid, pt, picture);
            }
            Encoded::Screen {
                data,
                capture_us,
                keyframe,
            } => {
                let Some(mid) = conn.screen_mid else { return };
                if conn.screen_pt.is_none() {
                    conn.screen_pt = find_pt(&mut conn.rtc, mid, Codec::H264);
                }
                let Some(pt) = conn.screen_pt else { return };
                let picture = Picture {
                    data: &data,
                    capture_us,
                    keyframe,
                };
                conn.pictures
                    .send(&mut conn.rtc, VideoStream::Screen, mid, None, pt, picture);
            }
            Encoded::Audio {
                data,
                capture_us,
                level,
            } => {
                let Some(mid) = conn.audio_mid else { return };
                if conn.audio_pt.is_none() {
                    conn.audio_pt = find_pt(&mut conn.rtc, mid, Codec::Opus);
                }
                let Some(pt) = conn.audio_pt else { return };
                let Some(writer) = conn.rtc.writer(mid) else {
                    return;
                };
                let writer = writer.audio_level(level, level >= capture::VOICE_LEVEL_DBOV);
                let rtp_time = MediaTime::new(capture_us * 48 / 1000, Frequency::FORTY_EIGHT_KHZ);
                if let Err(err) = writer.write(pt, Instant::now(), rtp_time, data) {
                    tracing::debug!(%err, "audio write failed");
                }
            }
        }
    }

    fn on_datagram(&mut self, data: &[u8], source: SocketAddr) {
        let Some(conn) = &mut self.conn else { return };
        // TURN's own datagrams stop here; relayed ones reach str0m as sent by the peer to
        // our relay candidate.
        let incoming = conn
            .relays
            .iter_mut()
            .filter(|r| r.is_udp())
            .map(|r| r.on_message(source, data))
            .find(|i| *i != Incoming::NotTurn);
        let (data, source, destination) = match incoming {
            Some(Incoming::Consumed) => return,
            Some(Incoming::Data {
                peer,
                relay,
                payload,
            }) => (payload, peer, relay),
            Some(Incoming::NotTurn) | None => (data, source, conn.local),
        };
        self.receive(data, source, destination);
    }

    /// A message from the TURN server of a TCP or TLS relay: relayed media goes on to str0m.
    fn on_relay_frame(&mut self, frame: &RelayFrame) {
        let Some(conn) = &mut self.conn else { return };
        let Some(relay) = conn
            .relays
            .iter_mut()
            .find(|r| r.is_stream_to(frame.server))
        else {
            return; // from a connection of an earlier media session
        };
        if let Incoming::Data {
            peer,
            relay,
            payload,
        } = relay.on_message(frame.server, &frame.message)
        {
            self.receive(payload, peer, relay);
        }
    }

    /// A datagram for str0m: `source` sent it to our `destination` (the media socket's
    /// address, or a relay's).
    fn receive(&mut self, data: &[u8], source: SocketAddr, destination: SocketAddr) {
        let Some(conn) = &mut self.conn else { return };
        conn.last_datagram = Instant::now();
        let Ok(contents) = DatagramRecv::try_from(data) else {
            self.bad_datagrams += 1;
            return;
        };
        conn.clock = Instant::now();
        let input = Input::Receive(
            conn.clock,
            Receive {
                proto: Protocol::Udp,
                source,
                destination,
                contents,
            },
        );
        if let Err(err) = conn.rtc.handle_input(input) {
            self.bad_datagrams += 1;
            tracing::debug!(%err, "str0m rejected a datagram");
        }
    }

    /// Drains str0m: sends its datagrams, handles its events, notes its next timeout.
    fn drive(&mut self) {
        let mut events = std::mem::take(&mut self.rtc_events);
        while let Some(conn) = &mut self.conn {
            let now = Instant::now();
            for addr in conn.relays.iter_mut().filter_map(|r| r.poll(now)) {
                match Candidate::relayed(addr, conn.local, "udp") {
                    Ok(candidate) => {
                        conn.rtc.add_local_candidate(candidate);
                    }
                    Err(err) => tracing::warn!(%addr, %err, "unusable TURN relay address"),
                }
            }
            loop {
                match conn.rtc.poll_output() {
                    Ok(Output::Timeout(t)) => {
                        let turn = conn.relays.iter().filter_map(Relay::poll_timeout).min();
                        conn.next_timeout = turn.map_or(t, |r| r.min(t));
                        break;
                    }
                    Ok(Output::Transmit(t)) => match conn
                        .relays
                        .iter_mut()
                        .find(|r| r.address() == Some(t.source))
                    {
                        Some(relay) => relay.send(t.destination, &t.contents),
                        // UDP: a full socket buffer is a lost packet, as on the wire.
                        _ => {
                            let _ = conn.socket.try_send_to(&t.contents, t.destination);
                        }
                    },
                    Ok(Output::Event(e)) => events.push(e),
                    Err(err) => {
                        tracing::warn!(%err, "media connection failed");
                        conn.next_timeout = Instant::now() + Duration::from_secs(3600);
                        break;
                    }
                }
            }
            if events.is_empty() {
                break;
            }
            for e in events.drain(..) {
                self.on_rtc_event(e);
            }
        }
        self.rtc_events = events;
        self.check_send_queue();
        self.probe_while_short();
    }

    fn on_rtc_event(&mut self, event: RtcEvent) {
        match event {
            RtcEvent::Connected => {
                tracing::debug!("media connected");
                if let Some(conn) = &mut self.conn {
                    conn.was_connected = true;
                }
                // Units written before the connection were dropped: start from a keyframe.
                self.send_video(VideoControl::Keyframe(None));
                if let Some(ctrl) = &self.screen_ctrl {
                    let _ = ctrl.send(VideoControl::Keyframe(None));
                }
            }
            RtcEvent::IceConnectionStateChange(state) => {
                tracing::debug!(?state, "ICE state");
            }
            RtcEvent::MediaData(data) => self.on_media_data(data),
            RtcEvent::KeyframeRequest(req) => {
                let conn = self.conn.as_ref();
                let ours = conn.and_then(|c| c.video_mid) == Some(req.mid);
                if conn.and_then(|c| c.screen_mid) == Some(req.mid) {
                    if let Some(ctrl) = &self.screen_ctrl {
                        let _ = ctrl.send(VideoControl::Keyframe(None));
                    }
                } else if ours {
                    let layer = req.rid.and_then(|r| layers::layer_of(&r));
                    self.send_video(VideoControl::Keyframe(layer));
                }
            }
            RtcEvent::EgressBitrateEstimate(BweKind::Twcc { estimate, .. })
                if !matches!(self.estimate_kbps, Some(Estimate::Current(_))) =>
            {
                self.estimate_kbps = Some(Estimate::Averaged(kbps(estimate)));
                self.apply_estimate(false);
            }
            RtcEvent::MediaIngressStats(s) => {
                if let Some((p, kind)) = self.tracks.lookup(&s.mid) {
                    let rate = if kind == TrackKind::Audio { 48.0 } else { 90.0 };
                    let jitter_ms = f64::from(s.jitter) / rate;
                    if let Ok(mut book) = self.stats.lock() {
                        let r = book.remote(p);
                        if kind == TrackKind::Audio {
                            r.audio_jitter_ms = Some(jitter_ms);
                        } else {
                            r.video_jitter_ms = Some(jitter_ms);
                        }
                        if let Some(rtt) = s.rtt {
                            r.track_rtt_ms = Some(rtt.as_secs_f64() * 1000.0);
                        }
                    }
                }
            }
            RtcEvent::PeerStats(s) => {
                let rtt = s.rtt.or_else(|| {
                    s.selected_candidate_pair
                        .and_then(|c| c.current_round_trip_time)
                });
                if let (Some(rtt), Ok(mut book)) = (rtt, self.stats.lock()) {
                    book.peer_rtt_ms = Some(rtt.as_secs_f64() * 1000.0);
                }
                if let Some(estimate) = s.bwe_tx {
                    self.estimate_kbps = Some(Estimate::Current(kbps(estimate)));
                    self.apply_estimate(false);
                }
            }
            _ => {}
        }
    }

    fn on_media_data(&mut self, data: MediaData) {
        let Some((participant, kind)) = self.tracks.lookup(&data.mid) else {
            if let Ok(mut book) = self.stats.lock() {
                book.unmapped_packets += 1;
            }
            return;
        };
        let (first, last) = (**data.seq_range.start(), **data.seq_range.end());
        let lost = match self.last_seq.insert(data.mid, last) {
            Some(prev) if first > prev + 1 => first - prev - 1,
            _ => 0,
        };
        if let Ok(mut book) = self.stats.lock() {
            let r = book.remote(participant);
            r.out.bytes_received += data.data.len() as u64;
            r.out.packets_lost += lost;
            if kind != TrackKind::Audio {
                r.out.frames_received += 1;
            }
        }
        let video = kind != TrackKind::Audio;
        let keyframe = video && data.is_keyframe();
        if video && !data.contiguous {
            // Ask at once; the decoder thread keeps asking until a keyframe arrives.
            self.request_keyframe(data.mid);
        }
        if let Some(dec) = &self.decoder {
            let _ = dec.send(DecodeJob::Media {
                participant,
                kind,
                data: data.data,
                lost_before: lost,
                keyframe,
                contiguous: data.contiguous,
            });
        }
    }

    /// Asks the SFU for a keyframe on an incoming track, at most every
    /// [`KEYFRAME_REQUEST_GAP`]. Callers ask for every unit that cannot be decoded, so while
    /// a track waits for a keyframe the request is repeated at that rate: a request or a
    /// keyframe lost on the way does not leave the picture frozen.
    fn request_keyframe(&mut self, mid: Mid) {
        let now = Instant::now();
        if self
            .last_keyframe_request
            .get(&mid)
            .is_some_and(|t| now.duration_since(*t) < KEYFRAME_REQUEST_GAP)
        {
            return;
        }
        self.last_keyframe_request.insert(mid, now);
        let Some(mut writer) = self.conn.as_mut().and_then(|c| c.rtc.writer(mid)) else {
            return;
        };
        if let Err(err) = writer.request_keyframe(None, KeyframeRequestKind::Pli) {
            tracing::debug!(%err, "keyframe request not possible");
            return;
        }
        if let (Some((p, _)), Ok(mut book)) = (self.tracks.lookup(&mid), self.stats.lock()) {
            book.remote(p).out.keyframe_requests += 1;
        }
    }

    /// While a layer is off because the uplink estimate is short, asks str0m every
    /// [`PROBE_EVERY`] to probe for the full rate. With the top layer off the sender sends
    /// less, and an estimate made from what is sent does not grow by itself: without probes
    /// a sender squeezed once would stay on its lower layers after the network recovers.
    /// str0m probes when the desired rate rises above its estimate, hence a step down and,
    /// [`PROBE_RISE_AFTER`] later, up again. Called on every drive.
    fn probe_while_short(&mut self) {
        let (Some(conn), Some(spec)) = (&mut self.conn, self.opts.video) else {
            return;
        };
        let now = Instant::now();
        let floor = Bitrate::kbps(u64::from(capture::MIN_LAYER_KBPS + AUDIO_KBPS));
        let desired = u64::from(initial_video_kbps(spec.size()) + AUDIO_KBPS);
        if let Some(at) = self.probe_rise_at {
            if now >= at {
                self.probe_rise_at = None;
                conn.rtc.bwe().set_bitrate(floor, Bitrate::kbps(desired));
            }
            return;
        }
        if self.layers_fit.iter().all(|fits| *fits)
            || self
                .probed_at
                .is_some_and(|t| now.saturating_duration_since(t) < PROBE_EVERY)
        {
            return;
        }
        self.probed_at = Some(now);
        self.probe_rise_at = Some(now + PROBE_RISE_AFTER);
        conn.rtc
            .bwe()
            .set_bitrate(floor, Bitrate::kbps(desired * 9 / 10));
    }

    /// The layers to take from `fits`, what the estimate carries now: fewer at once, more
    /// only when a report [`UPGRADE_CONFIRM`] after the first one that fitted them still does.
    /// A probe's result lifts the estimate for a moment even on a link that cannot carry it
    /// (on a squeezed 300 kbit/s uplink it read 400 and fell back within 200 ms), and each
    /// time a layer comes back on it starts with a keyframe the squeezed link can ill afford.
    fn confirmed_fit(&mut self, fits: [bool; 3]) -> [bool; 3] {
        let more = (0..3).any(|i| fits[i] && !self.layers_fit[i]);
        if !more {
            self.upgrade_seen = None;
            return fits;
        }
        let now = Instant::now();
        match self.upgrade_seen {
            Some((seen, at)) if seen == fits && now.duration_since(at) >= UPGRADE_CONFIRM => {
                self.upgrade_seen = None;
                fits
            }
            Some((seen, _)) if seen == fits => self.layers_fit,
            _ => {
                self.upgrade_seen = Some((fits, now));
                self.layers_fit
            }
        }
    }

    /// Passes the bandwidth estimate (its [`VIDEO_SHARE`], less audio) to the video encoder when
    /// it moved enough.
    fn apply_estimate(&mut self, force: bool) {
        let (Some(estimate), Some(spec)) =
            (self.estimate_kbps.map(Estimate::kbps), self.opts.video)
        else {
            return;
        };
        let ceiling = initial_video_kbps(spec.size());
        let target = ((f64::from(estimate) * VIDEO_SHARE) as u32)
            .saturating_sub(AUDIO_KBPS)
            .clamp(capture::MIN_LAYER_KBPS, ceiling);
        let change = (f64::from(target) - f64::from(self.video_kbps)).abs()
            / f64::from(self.video_kbps.max(1));
        if capture::is_simulcast(spec) {
            let (w, h) = spec.size();
            let nominal = layers::nominal_kbps(w, h, capture::MIN_LAYER_KBPS);
            let fits = self.confirmed_fit(layers::fitting_layers(target, nominal, self.layers_fit));
            if fits != self.layers_fit {
                tracing::debug!(target, ?fits, "layers the uplink carries changed");
                self.layers_fit = fits;
                self.send_video(VideoControl::Layers(self.layers_to_send()));
                // The split over the layers changed with them.
                self.video_kbps = target;
                self.send_video(VideoControl::Bitrate(target));
                return;
            }
        }
        if force || change >= BITRATE_HYSTERESIS {
            tracing::debug!(estimate, target, "video bitrate");
            self.video_kbps = target;
            self.send_video(VideoControl::Bitrate(target));
        }
    }
}

/// The value of the first `a=<name>:` attribute in `sdp`.
fn sdp_attribute<'a>(sdp: &'a str, name: &str) -> Option<&'a str> {
    sdp.lines().find_map(|line| {
        line.trim_end()
            .strip_prefix("a=")?
            .strip_prefix(name)?
            .strip_prefix(':')
    })
}

/// The payload type negotiated for `codec` on `mid`.
fn find_pt(rtc: &mut Rtc, mid: Mid, codec: Codec) -> Option<Pt> {
    let writer = rtc.writer(mid)?;
    let pt = writer
        .payload_params()
        .find(|p| p.spec().codec == codec)
        .map(|p| p.pt());
    pt
}

/// The video bitrate all layers together start at (and never exceed): samla-media's standard
/// 150 + 500 + 1500 kbit/s at 720p, scaled by pixel count.
fn initial_video_kbps((w, h): (u32, u32)) -> u32 {
    let scale = (f64::from(w) * f64::from(h) / (1280.0 * 720.0)).max(0.1);
    if layers::use_simulcast(w, h) {
        (2150.0 * scale).round() as u32
    } else {
        ((1500.0 * scale) as u32).max(100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_timer_is_handed_the_time_it_asked_for_and_time_never_goes_back() {
        let base = Instant::now();
        let at = |ms| base + Duration::from_millis(ms);
        // Woken 3 ms late: str0m gets the time it asked for.
        assert_eq!(timer_time(at(10), at(0), at(13)), at(10));
        // Woken 90 ms late, a stall: it gets now.
        assert_eq!(timer_time(at(10), at(0), at(100)), at(100));
        // A datagram handed it a later time since it asked: that time, not earlier.
        assert_eq!(timer_time(at(10), at(12), at(13)), at(12));
        // Woken early: no time from the future.
        assert_eq!(timer_time(at(30), at(0), at(25)), at(25));
    }
}
