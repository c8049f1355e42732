//! The SFU's state and routing, without sockets or timers: datagrams, commands and the time
//! go in; datagrams to send (through a callback) and signalling messages (into each meeting's
//! channel, never blocking) come out. The socket loop in [`super::run`] only carries bytes.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use samla_protocol::{ErrorCode, MeetingId, ParticipantId, RemoteTrack, ServerMessage, TrackKind};
use str0m::bwe::{Bitrate, BweKind};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::media::{Direction, KeyframeRequestKind, MediaKind, Mid, Pt, Rid};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{ExtensionValues, RtpPacket, RtpWrite, SeqNo, Ssrc};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc, RtcConfig};
use tokio::sync::mpsc;

use super::downlink;
use super::keyframe::{self, KeyframeStart};
use super::layers;
use super::speaker::SpeakerDetector;
use super::{Audience, Command, CommandKind, MediaSignal};
use crate::meeting::{Forwarding, MediaRequest};
use crate::metrics::Metrics;

/// Keyframe requests for one publisher layer are sent at most this often: a burst of
/// subscribers joining or losing packets costs the publisher one keyframe, not many.
const KEYFRAME_THROTTLE: Duration = Duration::from_millis(500);

/// `SubscribeVideo` preferences kept per meeting, so a client cannot grow the table without
/// bound by naming participants that do not exist.
const MAX_PREFERENCES_PER_ROOM: usize = 4096;

/// The H.264 payload type the SFU offers (constrained baseline, packetization-mode 1), and its
/// RTX payload type. Peers may use other numbers; frames are matched by codec, not number.
const H264_PT: u8 = 108;
const H264_RTX_PT: u8 = 109;
const H264_PROFILE_CONSTRAINED_BASELINE_3_1: u32 = 0x42e01f;

/// A simulcast layer not heard from for this long counts as idle: the publisher stopped
/// sending it (Chromium drops its top layers when its uplink is short). Subscribers that want
/// it get the nearest layer that flows until it comes back.
const LAYER_IDLE: Duration = Duration::from_secs(1);

/// How long a layer that was just published or switched on by `media_layers` gets to start
/// flowing before it can count as idle.
const LAYER_GRACE: Duration = Duration::from_secs(2);

/// How often layer choices are re-checked for layers that went idle or came back.
const LAYER_CHECK_EVERY: Duration = Duration::from_millis(500);

/// Retransmission cache of each video stream the SFU sends: str0m's default size and age.
const RTX_CACHE_PACKETS: usize = 1000;
const RTX_CACHE_AGE: Duration = Duration::from_secs(3);

/// The share of sent bytes retransmissions may take before str0m drops queued resends.
/// str0m's default (0.15) is reached on a lossy, jittery path by NACK alone: at 5 % loss and
/// ±100 ms of jitter a receiver asks for a missing packet again after one (short) RTT estimate
/// while the first retransmission is still on its way, so every loss costs two or three
/// resends. Above the cap every queued resend is dropped, the receiver gives up on the gap
/// and needs a keyframe (far bigger than the resends). The cap stays, against retransmission
/// storms, but where only a path this bad reaches it.
pub const RTX_RATIO_CAP: Option<f32> = Some(0.5);

/// What the SFU assumes a subscriber's downlink carries until str0m's estimate says more:
/// enough for a 720p and a few 180p pictures, so a new participant starts sharp on a good
/// network, and the estimate brings it down within a second or two on a poor one.
const INITIAL_DOWNLINK_KBPS: u64 = 2500;

/// How often str0m reports a session's stats, which carry its current downlink estimate:
/// as often as the layers are checked.
const STATS_INTERVAL: Duration = LAYER_CHECK_EVERY;

/// How far behind its timer a session is allowed to be caught up (see
/// [`Peer::timer_time`]). A probe cluster lasts about 15 ms; a wake-up later than this is a
/// stall, not timer granularity, and the clock then jumps to now.
const TIMER_CATCH_UP: Duration = Duration::from_millis(25);

/// How often the SFU probes the downlink of a subscriber that gets less than it wants.
const PROBE_EVERY: Duration = Duration::from_secs(2);

/// The least the SFU probes a subscriber's downlink for: one low layer and audio.
const MIN_PROBE_KBPS: u32 = 300;

/// How long the server waits for the answer to its offer before offering again.
const OFFER_TIMEOUT: Duration = Duration::from_secs(15);

/// How long a session may stay ICE-disconnected (no consent checks from the client) before
/// it is dropped; short outages recover on their own.
const DISCONNECTED_GRACE: Duration = Duration::from_secs(10);

/// One RTP tick of a 30 fps frame at 90 kHz: the gap put between the last frame of the old
/// layer and the first of the new one when a subscriber switches simulcast layers.
const FRAME_TICKS_90KHZ: u32 = 3000;

/// One 20 ms Opus frame at 48 kHz: the same gap for an audio stream that starts over.
const AUDIO_FRAME_TICKS: u32 = 960;

/// The first sequence number a subscriber's stream gets. Outgoing sequence numbers are
/// rebased per subscriber: a publisher's extended sequence number may be past the first
/// rollover, and a fresh SRTP receiver assumes a rollover counter of 0.
const FIRST_OUT_SEQ: u64 = 1;

/// Why a media request was refused. Sent to the client as `InvalidArgument`.
#[derive(Debug, thiserror::Error)]
pub enum SfuError {
    #[error("the SDP offer could not be read: {0}")]
    BadOffer(String),
    #[error("the SDP answer could not be read: {0}")]
    BadAnswer(String),
    #[error("the SDP could not be applied: {0}")]
    Rejected(String),
    #[error("no offer of the server is waiting for an answer")]
    NoPendingOffer,
    #[error("a media answer arrived before any media offer")]
    NoSession,
    #[error("track {mid:?}: {reason}")]
    BadTrack { mid: String, reason: &'static str },
}

/// A published track: what a publisher sends on one of its mids.
#[derive(Debug, Clone)]
struct Published {
    mid: Mid,
    kind: TrackKind,
    /// Simulcast layers, low→high; empty when the track is not simulcast.
    layers: Vec<layers::Layer>,
    /// Layer heights the publisher's SDP declared (RFC 8851 `max-height`), by rid.
    declared: Vec<(String, u32)>,
    /// When a keyframe was last asked for, per layer (index into `layers`, or 0 without simulcast).
    last_keyframe_request: [Option<Instant>; 4],
    /// When a frame of each layer last arrived (index into `layers`).
    seen: [Option<Instant>; 4],
    /// Payload bytes of each layer since its rate was last measured.
    bytes: [u64; 4],
    /// Measured rate of each layer (kbit/s, smoothed); 0 until measured.
    kbps: [u32; 4],
    /// Until when each layer counts as flowing even if unseen: just published, or just
    /// switched on by `media_layers`.
    grace_until: [Option<Instant>; 4],
    /// The layers last announced to the publisher in `MediaLayers`.
    announced: Option<Vec<Rid>>,
}

/// Which of a publisher's streams a subscriber is fed: `None` inside is the stream of a
/// non-simulcast track.
type Layer = Option<Rid>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutState {
    /// Wanted, not yet in an offer.
    ToOpen,
    /// In the offer waiting for an answer.
    Negotiating(Mid),
    Open(Mid),
    /// Its source is gone; to be stopped in the next offer.
    ToStop(Mid),
    NegotiatingStop(Mid),
}

impl OutState {
    fn mid(self) -> Option<Mid> {
        match self {
            OutState::ToOpen => None,
            OutState::Negotiating(m)
            | OutState::Open(m)
            | OutState::ToStop(m)
            | OutState::NegotiatingStop(m) => Some(m),
        }
    }
}

/// A track a subscriber receives.
#[derive(Debug)]
struct OutTrack {
    publisher: ParticipantId,
    kind: TrackKind,
    state: OutState,
    /// The layer frames are forwarded from now; `None` until the first keyframe.
    current: Option<Layer>,
    /// The layer to switch to at its next keyframe; `None` pauses the track. Usually
    /// `fitted`, or the nearest layer that flows while that one is idle.
    target: Option<Layer>,
    /// The layer that fits the subscriber's `SubscribeVideo` height and its downlink.
    fitted: Option<Layer>,
    /// When the downlink last made this track step down a layer.
    stepped_down: Option<Instant>,
    /// The subscriber's payload type for this track's codec, known once the track is open.
    pt: Option<Pt>,
    /// The publisher's stream (SSRC) of the current layer: a new one (the publisher restarted
    /// its sender) starts over like a layer switch.
    source: Option<Ssrc>,
    /// Sequence numbers of the current layer from where the subscriber was switched to it:
    /// packets of that layer from before the switch (late or retransmitted) are not its.
    switched_at: u64,
    /// Added to the publisher's (extended) sequence numbers of the current layer. Gaps stay
    /// gaps, so the subscriber asks for what is missing, and a packet the SFU gets late from
    /// the publisher's retransmission lands in its place.
    seq_offset: u64,
    /// The highest sequence number sent to the subscriber so far.
    last_seq: Option<u64>,
    /// Added to the RTP time of forwarded packets so that it runs on across layer switches.
    time_offset: u32,
    last_time: Option<u32>,
}

/// One participant's media session.
struct Peer {
    id: ParticipantId,
    rtc: Rtc,
    /// The DTLS fingerprint of the client's offers: a different one means a new
    /// RTCPeerConnection (after a reload or a resume), which replaces this session. An ICE
    /// restart keeps the fingerprint and stays in the session.
    remote_fingerprint: String,
    published: Vec<Published>,
    /// Which mid and layer each incoming SSRC carries, looked up once per stream.
    sources: HashMap<Ssrc, (Mid, Option<Rid>)>,
    /// str0m's estimate of what can be sent to this peer (kbit/s).
    downlink_kbps: Option<u32>,
    /// `downlink_kbps` comes from str0m's stats, as the estimate stands (see
    /// [`Peer::set_downlink`]).
    downlink_current: bool,
    /// The rate the estimator was last told to probe for (kbit/s).
    probing_for: u32,
    /// When the estimator was last asked to probe.
    probed_at: Option<Instant>,
    /// The desired rate was stepped down for a probe: raise it at the next layer check.
    probe_rise_pending: bool,
    out: Vec<OutTrack>,
    pending: Option<SdpPendingOffer>,
    next_timeout: Instant,
    /// The last time handed to str0m: what it is given never goes back.
    clock: Instant,
    /// Since when ICE has been disconnected.
    disconnected_since: Option<Instant>,
    /// When the outstanding server offer was sent.
    offered_at: Option<Instant>,
    /// Got input or had media written since it was last polled: [`SfuCore::drive_room`]
    /// polls only these, so one packet costs one session's poll, not the whole room's.
    dirty: bool,
    /// What the last `MediaTracks` said, to send it only when it changes; `None` when the
    /// client may not know (new session, or its connection was replaced).
    announced_tracks: Option<Vec<RemoteTrack>>,
    dead: bool,
}

struct Room {
    meeting: MeetingId,
    /// `meeting` as a number, for the address cache.
    key: u64,
    /// `SubscribeVideo` preferences: the height a subscriber draws a publisher's video at.
    /// Kept here, not in the session, so that a preference sent before the first offer holds.
    max_height: HashMap<(ParticipantId, ParticipantId, TrackKind), u32>,
    /// The organisation's cap on video height: no subscriber gets a taller layer, whatever
    /// it draws the tile at (the lowest layer excepted, so that everyone sees something).
    max_video_height: Option<u32>,
    /// Participants whose media is held back by the meeting's rules (only those; everyone
    /// else's is forwarded). Kept here, not in the session, so that it holds before the
    /// first offer and across a replaced session.
    withheld: HashMap<ParticipantId, Forwarding>,
    tx: mpsc::Sender<MediaSignal>,
    peers: Vec<Peer>,
    speakers: SpeakerDetector,
    /// When layer choices were last re-checked.
    layers_checked: Option<Instant>,
}

/// An event of one peer, moved out of its `Rtc` so that other peers can be written to.
/// Packets are the common case and are kept inline: the queue's storage is reused, so boxing
/// them would only add an allocation per packet.
#[allow(clippy::large_enum_variant)]
enum Work {
    Rtp {
        packet: RtpPacket,
        mid: Mid,
        layer: Option<Rid>,
    },
    KeyframeRequest(str0m::media::KeyframeRequest),
    SimulcastAdded(Mid, Vec<Rid>),
}

pub struct SfuCore {
    /// The announced host candidate; also the destination given to str0m for every datagram,
    /// since behind NAT the socket's own address is not the one clients send to.
    candidate: SocketAddr,
    rooms: Vec<Room>,
    /// Which peer a remote address belongs to, so most datagrams skip the search.
    by_addr: HashMap<SocketAddr, (u64, ParticipantId)>,
    work: VecDeque<(usize, Work)>,
    metrics: Arc<Metrics>,
    counted_peers: i64,
}

/// A room's position in `rooms` is not stable (rooms are removed), so the address cache
/// names a room by its meeting id as a number (meeting ids are digits) and is checked
/// against the session it names.
fn meeting_key(id: &MeetingId) -> u64 {
    id.as_str().parse().unwrap_or(0)
}

impl SfuCore {
    pub fn new(candidate: SocketAddr, metrics: Arc<Metrics>) -> Self {
        str0m::crypto::from_feature_flags().install_process_default();
        Self {
            candidate,
            rooms: Vec::new(),
            by_addr: HashMap::new(),
            work: VecDeque::new(),
            metrics,
            counted_peers: 0,
        }
    }

    /// When the core next needs [`SfuCore::handle_timeout`].
    pub fn next_timeout(&self) -> Option<Instant> {
        self.rooms
            .iter()
            .flat_map(|r| r.peers.iter())
            .map(|p| p.next_timeout)
            .min()
    }

    pub fn peer_count(&self) -> usize {
        self.rooms.iter().map(|r| r.peers.len()).sum()
    }

    pub fn handle_command(
        &mut self,
        now: Instant,
        cmd: Command,
        transmit: &mut impl FnMut(SocketAddr, &[u8]),
    ) {
        let Command {
            meeting,
            participant,
            kind,
        } = cmd;
        let r = match kind {
            CommandKind::Request {
                request,
                max_video_height,
                reply,
            } => {
                let r = match self.rooms.iter().position(|r| r.meeting == meeting) {
                    Some(r) => {
                        // A restarted meeting actor has a new channel.
                        if !self.rooms[r].tx.same_channel(&reply) {
                            self.rooms[r].tx = reply;
                        }
                        self.rooms[r].max_video_height = max_video_height;
                        r
                    }
                    None => {
                        self.rooms.push(Room {
                            key: meeting_key(&meeting),
                            max_height: HashMap::new(),
                            max_video_height,
                            withheld: HashMap::new(),
                            meeting,
                            tx: reply,
                            peers: Vec::new(),
                            speakers: SpeakerDetector::default(),
                            layers_checked: None,
                        });
                        self.rooms.len() - 1
                    }
                };
                if let Err(err) = self.request(now, r, participant, request) {
                    tracing::info!(meeting = %self.rooms[r].meeting, %participant, %err, "media request refused");
                    self.rooms[r].signal(
                        Audience::One(participant),
                        ServerMessage::Error {
                            code: ErrorCode::InvalidArgument,
                            message: err.to_string(),
                        },
                    );
                }
                r
            }
            CommandKind::Gone => {
                let Some(r) = self.rooms.iter().position(|r| r.meeting == meeting) else {
                    return;
                };
                self.remove_peer(now, r, participant);
                // Their own preferences and others' about them (a replaced session keeps them).
                self.rooms[r].max_height.retain(|(sub, publisher, _), _| {
                    *sub != participant && *publisher != participant
                });
                self.rooms[r].withheld.remove(&participant);
                r
            }
            CommandKind::VideoCap { max_video_height } => {
                let Some(r) = self.rooms.iter().position(|r| r.meeting == meeting) else {
                    return;
                };
                self.rooms[r].max_video_height = max_video_height;
                self.rooms[r].update_layers(now);
                r
            }
            CommandKind::Resync => {
                let Some(r) = self.rooms.iter().position(|r| r.meeting == meeting) else {
                    return;
                };
                let room = &mut self.rooms[r];
                let Some(p) = room.peers.iter().position(|p| p.id == participant) else {
                    return;
                };
                let peer = &mut room.peers[p];
                if peer.pending.is_some() {
                    peer.abandon_offer();
                }
                peer.announced_tracks = None;
                for t in &mut peer.published {
                    t.announced = None;
                }
                room.negotiate(now, p);
                if room.peers[p].pending.is_none() {
                    room.announce_tracks(p);
                }
                room.update_layers(now);
                r
            }
        };
        // Signalling may have touched any session of the room.
        for peer in &mut self.rooms[r].peers {
            peer.dirty = true;
        }
        self.drive_room(now, r, transmit);
        self.cleanup(now);
    }

    /// One datagram from the media socket.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        source: SocketAddr,
        data: &[u8],
        transmit: &mut impl FnMut(SocketAddr, &[u8]),
    ) {
        let Ok(contents) = data.try_into() else {
            return; // not STUN, DTLS, RTP or RTCP
        };
        let input = Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source,
                destination: self.candidate,
                contents,
            },
        );
        let cached = self.by_addr.get(&source).and_then(|&(key, id)| {
            let r = self.rooms.iter().position(|r| r.key == key)?;
            let p = self.rooms[r].peers.iter().position(|p| p.id == id)?;
            self.rooms[r].peers[p].rtc.accepts(&input).then_some((r, p))
        });
        let found = cached.or_else(|| {
            self.rooms.iter().enumerate().find_map(|(r, room)| {
                room.peers
                    .iter()
                    .position(|p| p.rtc.accepts(&input))
                    .map(|p| (r, p))
            })
        });
        let Some((r, p)) = found else {
            tracing::trace!(%source, "no media session accepts this datagram");
            return;
        };
        if cached.is_none() {
            let key = (self.rooms[r].key, self.rooms[r].peers[p].id);
            self.by_addr.insert(source, key);
        }
        let peer = &mut self.rooms[r].peers[p];
        peer.dirty = true;
        peer.clock = peer.clock.max(now);
        if let Err(err) = peer.rtc.handle_input(input) {
            tracing::debug!(participant = %peer.id, %err, "media input failed");
        }
        self.drive_room(now, r, transmit);
        // The per-packet path skips the sweep unless a session just failed; timeouts sweep anyway.
        if self.rooms[r].peers.iter().any(|p| p.dead) {
            self.cleanup(now);
        }
    }

    /// Time passed: lets every session whose timer ran out do its work.
    pub fn handle_timeout(&mut self, now: Instant, transmit: &mut impl FnMut(SocketAddr, &[u8])) {
        for r in 0..self.rooms.len() {
            let mut due = false;
            for peer in &mut self.rooms[r].peers {
                if peer.next_timeout <= now {
                    due = true;
                    peer.dirty = true;
                    let at = peer.timer_time(now);
                    if let Err(err) = peer.rtc.handle_input(Input::Timeout(at)) {
                        tracing::debug!(participant = %peer.id, %err, "media timeout failed");
                        peer.dead = true;
                    }
                }
            }
            for q in 0..self.rooms[r].peers.len() {
                if self.rooms[r].peers[q].pending.is_some() {
                    self.rooms[r].negotiate(now, q);
                }
            }
            let room = &mut self.rooms[r];
            let since_check = room
                .layers_checked
                .map(|t| now.saturating_duration_since(t));
            if since_check.is_none_or(|d| d >= LAYER_CHECK_EVERY) {
                if let Some(elapsed) = since_check {
                    room.measure_layers(elapsed);
                }
                room.layers_checked = Some(now);
                room.update_layers(now);
            }
            if let Some(speaker) = self.rooms[r].speakers.evaluate(now) {
                self.rooms[r].signal(
                    Audience::Everyone,
                    ServerMessage::ActiveSpeaker {
                        participant: speaker,
                    },
                );
            }
            if due {
                self.drive_room(now, r, transmit);
            }
        }
        self.cleanup(now);
    }

    fn request(
        &mut self,
        now: Instant,
        r: usize,
        participant: ParticipantId,
        request: MediaRequest,
    ) -> Result<(), SfuError> {
        match request {
            MediaRequest::Forwarding(forwarding) => {
                let room = &mut self.rooms[r];
                let before = room.forwarding(participant);
                if forwarding == Forwarding::ALL {
                    room.withheld.remove(&participant);
                } else {
                    room.withheld.insert(participant, forwarding);
                }
                if before.screen != forwarding.screen {
                    // Their screen comes or goes for everyone, like a track (un)published.
                    for q in 0..room.peers.len() {
                        room.sync_subscriptions(q);
                    }
                    for q in 0..room.peers.len() {
                        room.negotiate(now, q);
                    }
                    room.update_layers(now);
                }
                tracing::debug!(meeting = %room.meeting, %participant, audio = forwarding.audio, screen = forwarding.screen, "forwarding rules");
                Ok(())
            }
            MediaRequest::Offer { sdp, tracks } => {
                let fingerprint = sdp_attribute(&sdp, "fingerprint")
                    .unwrap_or_default()
                    .to_owned();
                let offer = SdpOffer::from_sdp_string(&sdp)
                    .map_err(|e| SfuError::BadOffer(e.to_string()))?;
                let mut seen = Vec::with_capacity(tracks.len());
                for t in &tracks {
                    if t.mid.is_empty() || t.mid.len() > 16 {
                        return Err(SfuError::BadTrack {
                            mid: t.mid.clone(),
                            reason: "a mid has 1 to 16 characters",
                        });
                    }
                    if seen.contains(&t.kind) {
                        return Err(SfuError::BadTrack {
                            mid: t.mid.clone(),
                            reason: "one track of each kind at most",
                        });
                    }
                    seen.push(t.kind);
                }
                let room = &mut self.rooms[r];
                let existing = room.peers.iter().position(|p| p.id == participant);
                if let Some(p) = existing {
                    if room.peers[p].remote_fingerprint != fingerprint {
                        // A new RTCPeerConnection: start over.
                        self.remove_peer(now, r, participant);
                    } else if room.peers[p].pending.is_some() {
                        // Glare: our offer is outstanding. The server is the impolite peer; the
                        // client rolls its offer back, answers ours and offers again.
                        tracing::debug!(%participant, "client offer ignored while the server's offer is pending");
                        return Ok(());
                    }
                }
                let room = &mut self.rooms[r];
                let p = match room.peers.iter().position(|p| p.id == participant) {
                    Some(p) => p,
                    None => {
                        let mut rtc = rtc_config().build(now);
                        let candidate = Candidate::host(self.candidate, "udp")
                            .map_err(|e| SfuError::Rejected(e.to_string()))?;
                        rtc.add_local_candidate(candidate);
                        room.peers.push(Peer {
                            id: participant,
                            rtc,
                            remote_fingerprint: fingerprint,
                            published: Vec::new(),
                            sources: HashMap::new(),
                            downlink_kbps: None,
                            downlink_current: false,
                            probing_for: 0,
                            probed_at: None,
                            probe_rise_pending: false,
                            out: Vec::new(),
                            pending: None,
                            next_timeout: now,
                            clock: now,
                            disconnected_since: None,
                            offered_at: None,
                            dirty: true,
                            announced_tracks: None,
                            dead: false,
                        });
                        room.peers.len() - 1
                    }
                };
                let peer = &mut room.peers[p];
                let answer = match peer.rtc.sdp_api().accept_offer(offer) {
                    Ok(answer) => answer,
                    Err(e) => {
                        if peer.published.is_empty() && peer.out.is_empty() {
                            room.peers.remove(p);
                        }
                        return Err(SfuError::Rejected(e.to_string()));
                    }
                };
                room.signal(
                    Audience::One(participant),
                    ServerMessage::MediaAnswer {
                        sdp: answer.to_sdp_string(),
                    },
                );
                // What the client publishes now: the tracks it named that the SDP lets it send.
                let peer = &mut room.peers[p];
                let mut published = Vec::with_capacity(tracks.len());
                for t in tracks {
                    let mid = Mid::from(t.mid.as_str());
                    let Some(media) = peer.rtc.media(mid) else {
                        continue;
                    };
                    let receiving =
                        matches!(media.direction(), Direction::RecvOnly | Direction::SendRecv);
                    let kind_matches = media.kind().is_audio() == (t.kind == TrackKind::Audio);
                    if !receiving || !kind_matches {
                        continue;
                    }
                    let old = peer
                        .published
                        .iter()
                        .find(|o| o.mid == mid && o.kind == t.kind);
                    let declared = layers::declared_heights(&sdp, &t.mid);
                    let layers = match media.rids_rx() {
                        str0m::media::Rids::Specific(rids) => ladder(rids, &declared),
                        _ => old.map(|o| o.layers.clone()).unwrap_or_default(),
                    };
                    published.push(Published {
                        mid,
                        kind: t.kind,
                        layers,
                        declared,
                        last_keyframe_request: Default::default(),
                        seen: old.map(|o| o.seen).unwrap_or_default(),
                        bytes: [0; 4],
                        kbps: old.map(|o| o.kbps).unwrap_or_default(),
                        grace_until: old
                            .map(|o| o.grace_until)
                            .unwrap_or([Some(now + LAYER_GRACE); 4]),
                        announced: old.and_then(|o| o.announced.clone()),
                    });
                }
                let changed = published.len() != peer.published.len()
                    || published
                        .iter()
                        .zip(&peer.published)
                        .any(|(a, b)| a.mid != b.mid || a.kind != b.kind);
                peer.published = published;
                if changed {
                    // Every other peer gains or loses tracks.
                    for q in 0..room.peers.len() {
                        room.sync_subscriptions(q);
                    }
                }
                room.sync_subscriptions(p);
                for q in 0..room.peers.len() {
                    room.negotiate(now, q);
                }
                room.update_layers(now);
                Ok(())
            }
            MediaRequest::Answer { sdp } => {
                let room = &mut self.rooms[r];
                let p = room
                    .peers
                    .iter()
                    .position(|p| p.id == participant)
                    .ok_or(SfuError::NoSession)?;
                let answer = SdpAnswer::from_sdp_string(&sdp)
                    .map_err(|e| SfuError::BadAnswer(e.to_string()))?;
                let peer = &mut room.peers[p];
                let pending = peer.pending.take().ok_or(SfuError::NoPendingOffer)?;
                if let Err(e) = peer.rtc.sdp_api().accept_answer(pending, answer) {
                    // Offer again with the same changes; the client gets the error too.
                    peer.abandon_offer();
                    room.negotiate(now, p);
                    return Err(SfuError::Rejected(e.to_string()));
                }
                peer.offered_at = None;
                let mut opened = Vec::new();
                for t in &mut peer.out {
                    if let OutState::Negotiating(m) = t.state {
                        t.state = OutState::Open(m);
                        // One codec per kind is offered, so the subscriber's first is it.
                        t.pt = peer
                            .rtc
                            .media(m)
                            .and_then(|media| media.remote_pts().first().copied());
                        if t.kind != TrackKind::Audio {
                            opened.push((t.publisher, t.kind));
                            if let Some(stream) = peer.rtc.direct_api().stream_tx_by_mid(m, None) {
                                stream.set_rtx_cache(
                                    RTX_CACHE_PACKETS,
                                    RTX_CACHE_AGE,
                                    RTX_RATIO_CAP,
                                );
                            }
                        }
                    }
                }
                peer.out
                    .retain(|t| !matches!(t.state, OutState::NegotiatingStop(_)));
                // A new subscriber gets a keyframe right away instead of at the next interval.
                for (publisher, kind) in opened {
                    let layer = room.peers[p]
                        .out
                        .iter()
                        .find(|t| t.publisher == publisher && t.kind == kind)
                        .and_then(|t| t.target);
                    if let Some(layer) = layer {
                        room.request_keyframe(
                            now,
                            publisher,
                            kind,
                            layer,
                            KeyframeRequestKind::Pli,
                        );
                    }
                }
                room.negotiate(now, p);
                Ok(())
            }
            MediaRequest::SubscribeVideo {
                participant: publisher,
                kind,
                max_height,
            } => {
                let room = &mut self.rooms[r];
                // Remembered even before there is a session or a track: it applies when one comes.
                if room.max_height.len() < MAX_PREFERENCES_PER_ROOM
                    || room
                        .max_height
                        .contains_key(&(participant, publisher, kind))
                {
                    room.max_height
                        .insert((participant, publisher, kind), max_height);
                }
                room.update_layers(now);
                Ok(())
            }
        }
    }

    fn remove_peer(&mut self, now: Instant, r: usize, participant: ParticipantId) {
        let room = &mut self.rooms[r];
        let Some(p) = room.peers.iter().position(|p| p.id == participant) else {
            return;
        };
        let mut peer = room.peers.remove(p);
        peer.rtc.disconnect();
        room.speakers.remove(participant);
        for q in 0..room.peers.len() {
            room.sync_subscriptions(q);
            room.negotiate(now, q);
        }
        room.update_layers(now);
        let key = room.key;
        self.by_addr
            .retain(|_, (k, id)| !(*k == key && *id == participant));
        tracing::info!(meeting = %room.meeting, %participant, "media session closed");
    }

    /// Drops dead sessions and empty rooms, and keeps the gauge right.
    fn cleanup(&mut self, now: Instant) {
        for r in 0..self.rooms.len() {
            let dead: Vec<ParticipantId> = self.rooms[r]
                .peers
                .iter()
                .filter(|p| {
                    p.dead
                        || !p.rtc.is_alive()
                        || p.disconnected_since
                            .is_some_and(|t| now.saturating_duration_since(t) > DISCONNECTED_GRACE)
                })
                .map(|p| p.id)
                .collect();
            for id in dead {
                self.remove_peer(now, r, id);
            }
        }
        // A room lives while it has sessions, or preferences and rules set before anyone's
        // first offer.
        self.rooms
            .retain(|r| !r.peers.is_empty() || !r.max_height.is_empty() || !r.withheld.is_empty());
        let count = self.peer_count() as i64;
        Metrics::add(&self.metrics.media_peers, count - self.counted_peers);
        self.counted_peers = count;
    }

    /// Polls every peer of a room until each has only a timeout left, handing what one peer
    /// produced (media, keyframe requests) to the others, which may produce more.
    fn drive_room(&mut self, now: Instant, r: usize, transmit: &mut impl FnMut(SocketAddr, &[u8])) {
        let room = &mut self.rooms[r];
        loop {
            for p in 0..room.peers.len() {
                let peer = &mut room.peers[p];
                if peer.dead || !peer.dirty {
                    continue;
                }
                peer.dirty = false;
                loop {
                    match peer.rtc.poll_output() {
                        Ok(Output::Timeout(t)) => {
                            peer.next_timeout = t;
                            break;
                        }
                        Ok(Output::Transmit(t)) => transmit(t.destination, &t.contents),
                        Ok(Output::Event(e)) => match e {
                            Event::RtpPacket(packet) => {
                                let ssrc = packet.header.ssrc;
                                let source = match peer.sources.get(&ssrc) {
                                    Some(&s) => Some(s),
                                    None => {
                                        let found = peer
                                            .rtc
                                            .direct_api()
                                            .stream_rx(&ssrc)
                                            .map(|s| (s.mid(), s.rid()));
                                        if let Some(s) = found {
                                            peer.sources.insert(ssrc, s);
                                        }
                                        found
                                    }
                                };
                                if let Some((mid, layer)) = source {
                                    self.work.push_back((p, Work::Rtp { packet, mid, layer }));
                                }
                            }
                            Event::KeyframeRequest(k) => {
                                self.work.push_back((p, Work::KeyframeRequest(k)))
                            }
                            Event::MediaAdded(m) => {
                                if let Some(s) = m.simulcast {
                                    // Our side of the publisher's `a=simulcast:send`.
                                    let layers = if s.recv.is_empty() { &s.send } else { &s.recv };
                                    let rids = layers.iter().map(|l| l.rid).collect::<Vec<_>>();
                                    if !rids.is_empty() {
                                        self.work.push_back((p, Work::SimulcastAdded(m.mid, rids)));
                                    }
                                }
                            }
                            Event::EgressBitrateEstimate(BweKind::Twcc { estimate, .. })
                                if !peer.downlink_current =>
                            {
                                peer.set_downlink(estimate);
                            }
                            Event::PeerStats(stats) => {
                                if let Some(estimate) = stats.bwe_tx {
                                    peer.downlink_current = true;
                                    peer.set_downlink(estimate);
                                }
                            }
                            Event::IceConnectionStateChange(state) => {
                                tracing::debug!(participant = %peer.id, ?state, "ICE state");
                                if state == IceConnectionState::Disconnected {
                                    peer.disconnected_since.get_or_insert(now);
                                } else {
                                    peer.disconnected_since = None;
                                }
                            }
                            Event::Connected => {
                                tracing::info!(meeting = %room.meeting, participant = %peer.id, "media connected")
                            }
                            _ => {}
                        },
                        Err(err) => {
                            tracing::debug!(participant = %peer.id, %err, "media session failed");
                            peer.dead = true;
                            break;
                        }
                    }
                }
            }
            if self.work.is_empty() {
                break;
            }
            while let Some((p, work)) = self.work.pop_front() {
                match work {
                    Work::Rtp { packet, mid, layer } => {
                        room.forward(now, p, mid, layer, packet, &self.metrics)
                    }
                    Work::KeyframeRequest(k) => room.keyframe_requested(now, p, k),
                    Work::SimulcastAdded(mid, rids) => {
                        if let Some(t) = room.peers[p].published.iter_mut().find(|t| t.mid == mid) {
                            t.layers = ladder(&rids, &t.declared);
                        }
                        room.update_layers(now);
                    }
                }
            }
        }
    }
}

impl Published {
    /// The index of layer `rid` in `layers` (0 when unknown), as used by the per-layer arrays.
    fn slot_of(&self, rid: Rid) -> usize {
        self.layers
            .iter()
            .position(|l| l.rid == rid)
            .unwrap_or(0)
            .min(3)
    }

    /// Each layer's bitrate, low→high: as measured, or nominal for its height until it
    /// flows. A track without simulcast is one layer.
    fn layer_kbps(&self) -> Vec<u32> {
        if self.layers.is_empty() {
            return vec![self.kbps[0]];
        }
        self.layers
            .iter()
            .enumerate()
            .map(|(i, l)| match self.kbps[i.min(3)] {
                0 => downlink::nominal_kbps(l.height),
                kbps => kbps,
            })
            .collect()
    }

    /// Whether layer `slot` is flowing: seen lately, or still in its grace time.
    fn flowing(&self, slot: usize, now: Instant) -> bool {
        let slot = slot.min(3);
        self.seen[slot].is_some_and(|t| now.saturating_duration_since(t) < LAYER_IDLE)
            || self.grace_until[slot].is_some_and(|t| now < t)
    }

    /// The layer to forward for a subscriber that wants `rid` (see [`nearest_flowing`]).
    fn flowing_near(&self, rid: Rid, now: Instant, cap: Option<u32>) -> Rid {
        let Some(want) = self.layers.iter().position(|l| l.rid == rid) else {
            return rid;
        };
        self.layers[nearest_flowing(&self.layers, want, cap, |i| self.flowing(i, now))].rid
    }
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

impl Peer {
    /// Takes str0m's downlink estimate. str0m reports it twice: as `EgressBitrateEstimate`
    /// events, which carry the average of the distinct values of the last three seconds, and
    /// in its stats (`bwe_tx`, every [`STATS_INTERVAL`]) as it stands. The average lags: a
    /// subscriber whose link had widened again waited seconds for its full layer after the
    /// probe had found the room. The stats' value is followed once one has come; the
    /// average only until then.
    fn set_downlink(&mut self, estimate: Bitrate) {
        let kbps = u32::try_from(estimate.as_u64() / 1000).unwrap_or(u32::MAX);
        // Logged on a change of a fifth or more: enough to follow a squeeze in the log
        // without a line per feedback report.
        if self
            .downlink_kbps
            .is_none_or(|was| kbps.abs_diff(was) * 5 >= was)
        {
            tracing::debug!(participant = %self.id, kbps, "downlink estimate");
        }
        self.downlink_kbps = Some(kbps);
    }

    /// The time to hand str0m when this session's timer has fired, at `now`: the time it
    /// asked for, not the time the SFU woke. Wake-ups come a millisecond or more late
    /// (tokio's timer ticks in milliseconds, a busy server adds more), and str0m's pacer
    /// sends one probe burst per timeout, stamped with the time it is given: handed `now`, a
    /// 15 ms probe cluster went out over twice that and measured half its rate, and a
    /// subscriber's downlink estimate took many seconds to climb back after congestion.
    /// Handed the time it asked for, it catches up burst by burst with the send times the
    /// probe needs (the bursts leave together; what the client measures of them is the
    /// path's real rate). Only small delays are caught up: after a stall the clock jumps to
    /// now.
    fn timer_time(&mut self, now: Instant) -> Instant {
        self.clock = timer_time(self.next_timeout, self.clock, now);
        self.clock
    }

    /// Tells the bandwidth estimator what this peer's wanted layers would take, so that it
    /// probes for that much: on a change of a tenth or more, and again every [`PROBE_EVERY`]
    /// while the peer gets less than it wants (`short`). str0m probes when the desired rate
    /// rises above its estimate between two of its timeouts; to probe again for the same rate
    /// the SFU steps it down now and back up on the next call (the next layer check). Without
    /// new probes an estimate made while little was sent stays low, and a subscriber moved
    /// down for a thin moment would never be moved back up.
    fn probe_for(&mut self, now: Instant, desired: u32, short: bool) {
        let desired = desired.max(MIN_PROBE_KBPS);
        // No padding of our own: a thin downlink would be kept full by it.
        let floor = Bitrate::ZERO;
        let changed = desired.abs_diff(self.probing_for) * 10 >= self.probing_for.max(1);
        let again = short
            && self
                .probed_at
                .is_none_or(|t| now.saturating_duration_since(t) >= PROBE_EVERY);
        if self.probe_rise_pending || changed {
            self.probe_rise_pending = false;
            self.probing_for = desired;
            self.probed_at = Some(now);
            self.rtc
                .bwe()
                .set_bitrate(floor, Bitrate::kbps(u64::from(desired)));
        } else if again {
            self.probe_rise_pending = true;
            self.rtc
                .bwe()
                .set_bitrate(floor, Bitrate::kbps(u64::from(desired * 9 / 10)));
        }
    }

    /// Forgets the outstanding server offer; what it would have changed goes into the next.
    fn abandon_offer(&mut self) {
        self.pending = None;
        self.offered_at = None;
        for t in &mut self.out {
            t.state = match t.state {
                OutState::Negotiating(_) => OutState::ToOpen,
                OutState::NegotiatingStop(m) => OutState::ToStop(m),
                s => s,
            };
        }
    }
}

impl Room {
    /// Turns the bytes each publisher layer carried in the last `elapsed` into its rate.
    fn measure_layers(&mut self, elapsed: Duration) {
        let ms = elapsed.as_millis().max(1) as u64;
        for track in self.peers.iter_mut().flat_map(|p| p.published.iter_mut()) {
            for (kbps, bytes) in track.kbps.iter_mut().zip(track.bytes.iter_mut()) {
                let now_kbps = u32::try_from(*bytes * 8 / ms).unwrap_or(u32::MAX);
                // Smoothed over about two checks; a layer that stopped decays towards 0.
                *kbps = (*kbps + now_kbps) / 2;
                *bytes = 0;
            }
        }
    }

    /// Hands a message to the meeting actor; never waits. A full queue means the actor is
    /// far behind, and media signalling is the thing to shed.
    fn signal(&self, to: Audience, msg: ServerMessage) {
        if let Err(err) = self.tx.try_send(MediaSignal { to, msg }) {
            tracing::warn!(meeting = %self.meeting, "media signal dropped: {err}");
        }
    }

    /// What the meeting's rules let the SFU forward of `participant`'s media.
    fn forwarding(&self, participant: ParticipantId) -> Forwarding {
        self.withheld
            .get(&participant)
            .copied()
            .unwrap_or(Forwarding::ALL)
    }

    /// Makes subscriber `q`'s wanted tracks match what the others publish (and may share).
    fn sync_subscriptions(&mut self, q: usize) {
        let me = self.peers[q].id;
        let sources: Vec<(ParticipantId, TrackKind)> = self
            .peers
            .iter()
            .filter(|p| p.id != me && !p.dead)
            .flat_map(|p| p.published.iter().map(move |t| (p.id, t.kind)))
            .filter(|&(id, kind)| kind != TrackKind::Screen || self.forwarding(id).screen)
            .collect();
        let peer = &mut self.peers[q];
        for t in &mut peer.out {
            if !sources.contains(&(t.publisher, t.kind)) {
                t.state = match t.state {
                    OutState::Open(m) | OutState::Negotiating(m) => OutState::ToStop(m),
                    s => s,
                };
            }
        }
        peer.out
            .retain(|t| t.state != OutState::ToOpen || sources.contains(&(t.publisher, t.kind)));
        for (publisher, kind) in sources {
            let have = peer.out.iter().any(|t| {
                t.publisher == publisher
                    && t.kind == kind
                    && !matches!(t.state, OutState::ToStop(_) | OutState::NegotiatingStop(_))
            });
            if !have {
                peer.out.push(OutTrack {
                    publisher,
                    kind,
                    state: OutState::ToOpen,
                    current: None,
                    target: None,
                    fitted: None,
                    stepped_down: None,
                    pt: None,
                    source: None,
                    switched_at: 0,
                    seq_offset: 0,
                    last_seq: None,
                    time_offset: 0,
                    last_time: None,
                });
            }
        }
    }

    /// Sends subscriber `q` an offer for its queued track changes, unless one is outstanding.
    fn negotiate(&mut self, now: Instant, q: usize) {
        let peer = &mut self.peers[q];
        if peer.dead {
            return;
        }
        if peer.pending.is_some() {
            let stuck = peer
                .offered_at
                .is_some_and(|t| now.saturating_duration_since(t) > OFFER_TIMEOUT);
            if !stuck {
                return;
            }
            // A client that never answers must not freeze its session: give the offer up and
            // offer again with everything that is still wanted.
            tracing::warn!(meeting = %self.meeting, participant = %peer.id, "no answer to the server's offer; offering again");
            peer.abandon_offer();
        }
        let mut api = peer.rtc.sdp_api();
        for t in &mut peer.out {
            match t.state {
                OutState::ToOpen => {
                    let (kind, stream) = match t.kind {
                        TrackKind::Audio => (MediaKind::Audio, format!("p{}", t.publisher.0)),
                        TrackKind::Camera => (MediaKind::Video, format!("p{}", t.publisher.0)),
                        TrackKind::Screen => {
                            (MediaKind::Video, format!("p{}-screen", t.publisher.0))
                        }
                    };
                    let track = format!("p{}-{}", t.publisher.0, kind_name(t.kind));
                    let mid =
                        api.add_media(kind, Direction::SendOnly, Some(stream), Some(track), None);
                    t.state = OutState::Negotiating(mid);
                }
                OutState::ToStop(m) => {
                    api.stop_media(m);
                    t.state = OutState::NegotiatingStop(m);
                }
                _ => {}
            }
        }
        if !api.has_changes() {
            return;
        }
        let Some((offer, pending)) = api.apply() else {
            return;
        };
        peer.pending = Some(pending);
        peer.offered_at = Some(now);
        let id = peer.id;
        self.announce_tracks(q);
        self.signal(
            Audience::One(id),
            ServerMessage::MediaOffer {
                sdp: offer.to_sdp_string(),
            },
        );
    }

    /// Sends subscriber `q` the tracks it receives (being added or open), if that changed
    /// since it was last told.
    fn announce_tracks(&mut self, q: usize) {
        let peer = &mut self.peers[q];
        let tracks: Vec<RemoteTrack> = peer
            .out
            .iter()
            .filter_map(|t| match t.state {
                OutState::Negotiating(m) | OutState::Open(m) => Some(RemoteTrack {
                    mid: m.to_string(),
                    participant: t.publisher,
                    kind: t.kind,
                }),
                _ => None,
            })
            .collect();
        if peer.announced_tracks.as_ref() != Some(&tracks) {
            peer.announced_tracks = Some(tracks.clone());
            let id = peer.id;
            self.signal(Audience::One(id), ServerMessage::MediaTracks { tracks });
        }
    }

    /// Recomputes every subscriber's target layer from its `SubscribeVideo` heights, asks
    /// for keyframes of newly wanted layers, and tells publishers which layers are watched.
    fn update_layers(&mut self, now: Instant) {
        let mut keyframes = Vec::new();
        let cap = self.max_video_height;
        for p in 0..self.peers.len() {
            let (left, rest) = self.peers.split_at_mut(p);
            let (sub, right) = rest.split_first_mut().expect("p < len");
            // Per video track: the layer its tile size asks for, and what fitting it into the
            // downlink needs to know.
            let mut wanted: Vec<(usize, Option<Layer>, Option<downlink::Wanted>)> = Vec::new();
            let mut audio_streams = 0;
            for (i, t) in sub.out.iter_mut().enumerate() {
                if t.kind == TrackKind::Audio {
                    audio_streams += usize::from(matches!(t.state, OutState::Open(_)));
                    continue;
                }
                let Some(track) = published_track(left, right, t.publisher, t.kind) else {
                    continue;
                };
                let max_height = capped_height(
                    self.max_height
                        .get(&(sub.id, t.publisher, t.kind))
                        .copied()
                        .unwrap_or(u32::MAX),
                    cap,
                );
                let desired = if max_height == 0 {
                    None
                } else if track.layers.is_empty() {
                    Some(None)
                } else {
                    layers::choose(&track.layers, max_height).map(Some)
                };
                // What fits the tile; the nearest flowing layer stands in for it below while
                // it is idle, and it stays announced to the publisher so that it comes back.
                let preferred = desired;
                let fit = match preferred {
                    Some(Some(rid)) => {
                        let index = |rid: Rid| track.layers.iter().position(|l| l.rid == rid);
                        Some(downlink::Wanted {
                            layer_kbps: track.layer_kbps(),
                            preferred: index(rid).unwrap_or(0),
                            current: t.fitted.flatten().and_then(index),
                            screen: t.kind == TrackKind::Screen,
                            stepped_down: t.stepped_down,
                        })
                    }
                    Some(None) => Some(downlink::Wanted {
                        layer_kbps: track.layer_kbps(),
                        preferred: 0,
                        current: Some(0),
                        screen: t.kind == TrackKind::Screen,
                        stepped_down: None,
                    }),
                    None => None,
                };
                wanted.push((i, preferred, fit));
            }
            // Fit the preferred layers into the subscriber's downlink estimate, if there is one.
            let fits: Vec<downlink::Wanted> =
                wanted.iter().filter_map(|(_, _, w)| w.clone()).collect();
            let chosen = sub.downlink_kbps.map(|estimate| {
                downlink::fit(&fits, downlink::video_budget(estimate, audio_streams), now)
            });
            // Probes look for what the preferred layers need, headroom included: probing
            // for their bare rate found an estimate just short of fitting them.
            let preferred_kbps = downlink::estimate_needed(
                downlink::cost(&fits, fits.iter().map(|w| w.preferred)),
                audio_streams,
            );
            let short = chosen
                .as_ref()
                .is_some_and(|c| c.iter().zip(&fits).any(|(&layer, w)| layer < w.preferred));
            sub.probe_for(now, preferred_kbps, short);
            let mut chosen = chosen.into_iter().flatten();
            for (i, preferred, fit) in wanted {
                let t = &mut sub.out[i];
                let Some(track) = published_track(left, right, t.publisher, t.kind) else {
                    continue;
                };
                let layer = fit.as_ref().and_then(|_| chosen.next());
                let fitted = match (preferred, layer) {
                    (Some(Some(_)), Some(layer)) => Some(track.layers.get(layer).map(|l| l.rid)),
                    (other, _) => other,
                };
                // Stepped down for the downlink's sake (not because the tile got smaller).
                if let (Some(w), Some(layer)) = (&fit, layer) {
                    if layer < w.preferred && w.current.is_some_and(|c| layer < c) {
                        t.stepped_down = Some(now);
                    }
                }
                t.fitted = fitted;
                let target = match fitted {
                    Some(Some(rid)) => Some(Some(track.flowing_near(rid, now, cap))),
                    other => other,
                };
                if target != t.target {
                    tracing::debug!(subscriber = %sub.id, publisher = %t.publisher, kind = ?t.kind, ?target, estimate = ?sub.downlink_kbps, "layer target");
                    t.target = target;
                    if target.is_none() {
                        t.current = None;
                    }
                    if let Some(layer) = target {
                        if matches!(t.state, OutState::Open(_)) {
                            keyframes.push((t.publisher, t.kind, layer));
                        }
                    }
                }
            }
        }
        for (publisher, kind, layer) in keyframes {
            self.request_keyframe(now, publisher, kind, layer, KeyframeRequestKind::Pli);
        }
        // Watched layers per simulcast publisher track.
        let mut announcements = Vec::new();
        for (i, publisher) in self.peers.iter().enumerate() {
            for (j, track) in publisher.published.iter().enumerate() {
                if track.layers.is_empty() {
                    continue;
                }
                let watched: Vec<Rid> = track
                    .layers
                    .iter()
                    .map(|l| l.rid)
                    .filter(|rid| {
                        self.peers.iter().any(|s| {
                            s.out.iter().any(|t| {
                                t.publisher == publisher.id
                                    && t.kind == track.kind
                                    && (t.target == Some(Some(*rid))
                                        || t.fitted == Some(Some(*rid)))
                                    && !matches!(
                                        t.state,
                                        OutState::ToStop(_) | OutState::NegotiatingStop(_)
                                    )
                            })
                        })
                    })
                    .collect();
                if track.announced.as_ref() != Some(&watched) {
                    announcements.push((i, j, watched));
                }
            }
        }
        for (i, j, watched) in announcements {
            let id = self.peers[i].id;
            let kind = self.peers[i].published[j].kind;
            self.signal(
                Audience::One(id),
                ServerMessage::MediaLayers {
                    kind,
                    active_rids: watched.iter().map(|r| r.to_string()).collect(),
                },
            );
            let track = &mut self.peers[i].published[j];
            // Layers switched back on get time to start flowing before they can count as idle.
            for (slot, layer) in track.layers.iter().enumerate().take(4) {
                let was_on = track
                    .announced
                    .as_ref()
                    .is_none_or(|a| a.contains(&layer.rid));
                if !was_on && watched.contains(&layer.rid) {
                    track.grace_until[slot] = Some(now + LAYER_GRACE);
                }
            }
            track.announced = Some(watched);
        }
    }

    /// Asks a publisher for a keyframe of one layer, at most every [`KEYFRAME_THROTTLE`].
    fn request_keyframe(
        &mut self,
        now: Instant,
        publisher: ParticipantId,
        kind: TrackKind,
        layer: Layer,
        how: KeyframeRequestKind,
    ) {
        let Some(peer) = self.peers.iter_mut().find(|p| p.id == publisher) else {
            return;
        };
        let Some(track) = peer.published.iter_mut().find(|t| t.kind == kind) else {
            return;
        };
        let slot = match layer {
            Some(rid) => track.layers.iter().position(|l| l.rid == rid).unwrap_or(0),
            None => 0,
        }
        .min(3);
        if track.last_keyframe_request[slot]
            .is_some_and(|t| now.saturating_duration_since(t) < KEYFRAME_THROTTLE)
        {
            return;
        }
        track.last_keyframe_request[slot] = Some(now);
        let mid = track.mid;
        peer.dirty = true;
        match peer.rtc.direct_api().stream_rx_by_mid(mid, layer) {
            Some(stream) => stream.request_keyframe(how),
            None => {
                tracing::debug!(participant = %publisher, ?layer, "keyframe request before the stream arrived")
            }
        }
    }

    /// A subscriber lost a picture: pass the request on to the publisher of the layer it gets.
    fn keyframe_requested(&mut self, now: Instant, q: usize, req: str0m::media::KeyframeRequest) {
        let Some(t) = self.peers[q]
            .out
            .iter()
            .find(|t| t.state.mid() == Some(req.mid))
        else {
            return;
        };
        let Some(layer) = t.current.or(t.target) else {
            return;
        };
        let (publisher, kind) = (t.publisher, t.kind);
        self.request_keyframe(now, publisher, kind, layer, req.kind);
    }

    /// Forwards one RTP packet of publisher `p` to every subscriber of that track, payload
    /// untouched: only the SSRC, payload type, sequence number and timestamp are the
    /// subscriber's own.
    fn forward(
        &mut self,
        now: Instant,
        p: usize,
        mid: Mid,
        layer: Option<Rid>,
        packet: RtpPacket,
        metrics: &Metrics,
    ) {
        let publisher = self.peers[p].id;
        // Most rooms withhold nothing: skip the lookup then.
        let forwarding = if self.withheld.is_empty() {
            Forwarding::ALL
        } else {
            self.forwarding(publisher)
        };
        let Some(track) = self.peers[p].published.iter_mut().find(|t| t.mid == mid) else {
            return; // a mid the client did not name in `tracks`
        };
        if packet.payload.is_empty() {
            return; // padding for bandwidth probing: it ends at the SFU
        }
        let kind = track.kind;
        let allowed = match kind {
            TrackKind::Audio => forwarding.audio,
            TrackKind::Screen => forwarding.screen,
            TrackKind::Camera => true,
        };
        if !allowed {
            // Held back by the meeting's rules: it ends here, before it can count as speech
            // or as a layer anyone watches.
            return;
        }
        let slot = layer.map_or(0, |rid| track.slot_of(rid));
        if layer.is_some() {
            track.seen[slot] = Some(now);
        }
        track.bytes[slot] += packet.payload.len() as u64;
        let ext = &packet.header.ext_vals;
        if kind == TrackKind::Audio {
            if let Some(level) = ext.audio_level {
                self.speakers.observe(publisher, level, now);
            }
            self.speakers.choose_forwarded(now);
            if !self.speakers.forwards(publisher) {
                // A large meeting: only the loudest few are heard.
                return;
            }
        }
        let found = if kind == TrackKind::Audio {
            None
        } else {
            keyframe::keyframe_start(ext, &packet.payload)
        };
        match found {
            Some(KeyframeStart::Header) => Metrics::inc(&metrics.media_keyframes_marked_total),
            Some(KeyframeStart::Sniffed) => Metrics::inc(&metrics.media_keyframes_sniffed_total),
            None => {}
        }
        let keyframe_start = found.is_some();
        let seq_in = *packet.seq_no;
        let ssrc = packet.header.ssrc;
        let time_in = packet.header.timestamp;
        // Only what the SFU needs to say again: the audio level (subscribers show who talks).
        // str0m writes the transport extensions (mid, transport-wide sequence number) itself.
        let ext_out = ExtensionValues {
            audio_level: ext.audio_level,
            voice_activity: ext.voice_activity,
            ..Default::default()
        };
        let mut want_keyframe = false;
        let mut forwarded = false;
        for q in 0..self.peers.len() {
            if q == p {
                continue;
            }
            let sub = &mut self.peers[q];
            let Some(t) = sub
                .out
                .iter_mut()
                .find(|t| t.publisher == publisher && t.kind == kind)
            else {
                continue;
            };
            let (OutState::Open(out_mid), Some(pt)) = (t.state, t.pt) else {
                continue;
            };
            if t.current == Some(layer) && t.source != Some(ssrc) {
                t.current = None;
            }
            if kind == TrackKind::Audio {
                if t.current.is_none() {
                    t.current = Some(layer);
                    t.switch_to(ssrc, seq_in, time_in, AUDIO_FRAME_TICKS);
                }
            } else if t.target == Some(layer) && t.current != Some(layer) {
                if keyframe_start {
                    t.current = Some(layer);
                    t.switch_to(ssrc, seq_in, time_in, FRAME_TICKS_90KHZ);
                } else {
                    want_keyframe = true;
                }
            }
            if t.current != Some(layer) || seq_in < t.switched_at {
                continue;
            }
            let seq_out = seq_in.wrapping_add(t.seq_offset);
            let time_out = time_in.wrapping_add(t.time_offset);
            if t.last_seq.is_none_or(|last| seq_out > last) {
                t.last_seq = Some(seq_out);
                t.last_time = Some(time_out);
            }
            let mut api = sub.rtc.direct_api();
            let Some(stream) = api.stream_tx_by_mid(out_mid, None) else {
                continue;
            };
            // The wallclock is when the packet leaves, not when it arrived: after a
            // retransmission fills a hole the packets behind it go out in one burst, and `now`
            // keeps that burst in order.
            stream.write_rtp(
                RtpWrite::new(
                    pt,
                    SeqNo::from(seq_out),
                    time_out,
                    now,
                    packet.payload.clone(),
                )
                .marker(packet.header.marker)
                .ext_vals(ext_out.clone())
                .nackable(kind != TrackKind::Audio),
            );
            sub.dirty = true;
            forwarded = true;
        }
        // A frame is forwarded when its last packet is (video), or with each packet (audio).
        if forwarded && (kind == TrackKind::Audio || packet.header.marker) {
            Metrics::inc(&metrics.media_frames_forwarded_total);
        }
        if want_keyframe {
            self.request_keyframe(now, publisher, kind, layer, KeyframeRequestKind::Pli);
        }
    }
}

impl OutTrack {
    /// Starts forwarding stream `source` at the packet with `seq` and RTP time `time`: its
    /// sequence numbers and timestamps continue where the subscriber's last ones ended, one
    /// frame (`gap` ticks) after the last.
    fn switch_to(&mut self, source: Ssrc, seq: u64, time: u32, gap: u32) {
        let next_seq = self.last_seq.map_or(FIRST_OUT_SEQ, |s| s + 1);
        self.seq_offset = next_seq.wrapping_sub(seq);
        self.switched_at = seq;
        self.source = Some(source);
        if let Some(last) = self.last_time {
            self.time_offset = last.wrapping_add(gap).wrapping_sub(time);
        }
    }
}

fn kind_name(kind: TrackKind) -> &'static str {
    match kind {
        TrackKind::Audio => "audio",
        TrackKind::Camera => "camera",
        TrackKind::Screen => "screen",
    }
}

/// What `publisher` publishes of `kind`, among the peers around a subscriber (`left` and
/// `right` of it, as [`Room::update_layers`] splits them to write to the subscriber).
fn published_track<'a>(
    left: &'a [Peer],
    right: &'a [Peer],
    publisher: ParticipantId,
    kind: TrackKind,
) -> Option<&'a Published> {
    left.iter()
        .chain(right)
        .find(|p| p.id == publisher)?
        .published
        .iter()
        .find(|t| t.kind == kind)
}

/// The first value of an SDP attribute (`a=<name>:<value>`), session or media level.
fn sdp_attribute<'a>(sdp: &'a str, name: &str) -> Option<&'a str> {
    sdp.lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("a=")?
                .strip_prefix(name)?
                .strip_prefix(':')
        })
        .map(str::trim)
}

/// The height a subscriber's layer is chosen for: the height it draws the tile at (0: hidden),
/// but no more than the organisation's cap. A cap of 0 would hide all video: it means none.
fn capped_height(preference: u32, cap: Option<u32>) -> u32 {
    match cap {
        Some(cap) if cap > 0 => preference.min(cap),
        _ => preference,
    }
}

/// Which of `layers` (low→high) to forward to a subscriber that wants layer `want`: `want` if
/// it flows, else the nearest lower layer that flows, else the nearest higher one no taller
/// than `cap`, else `want` (nothing flows: wait for it). Falling back upwards past the
/// organisation's cap would defeat it, so a capped subscriber waits instead.
fn nearest_flowing(
    layers: &[layers::Layer],
    want: usize,
    cap: Option<u32>,
    flowing: impl Fn(usize) -> bool,
) -> usize {
    let cap = cap.filter(|c| *c > 0).unwrap_or(u32::MAX);
    let lower = (0..=want).rev();
    let higher = (want + 1..layers.len()).filter(|&i| layers[i].height <= cap);
    lower.chain(higher).find(|&i| flowing(i)).unwrap_or(want)
}

/// A publisher's layers from the rids str0m negotiated and the heights the SDP declared.
fn ladder(rids: &[Rid], declared: &[(String, u32)]) -> Vec<layers::Layer> {
    let with_heights: Vec<(Rid, Option<u32>)> = rids
        .iter()
        .map(|rid| {
            let height = declared
                .iter()
                .find(|(r, _)| r.as_str() == &**rid)
                .map(|(_, h)| *h);
            (*rid, height)
        })
        .collect();
    layers::ladder(&with_heights)
}

/// Every session: ICE-lite (the server has a fixed address and never probes), Opus and
/// H.264 constrained baseline only (with VP8 on offer Chromium picks VP8), and str0m's
/// standard header extensions: audio level, transport-wide CC, mid, rid and repaired rid.
fn rtc_config() -> RtcConfig {
    let mut config = RtcConfig::new()
        .set_ice_lite(true)
        .set_rtp_mode(true)
        .enable_bwe(Some(Bitrate::kbps(INITIAL_DOWNLINK_KBPS)))
        .set_stats_interval(Some(STATS_INTERVAL))
        .clear_codecs()
        .enable_opus(true, false);
    for (id, extension) in keyframe::header_extensions() {
        config = config.set_extension(id, extension);
    }
    config.codec_config().add_h264(
        H264_PT.into(),
        Some(H264_RTX_PT.into()),
        true,
        H264_PROFILE_CONSTRAINED_BASELINE_3_1,
    );
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_woken_late_catches_up_timeout_by_timeout() {
        let base = Instant::now();
        let at = |ms| base + Duration::from_millis(ms);
        // The pacer asked for 10, 12 and 14 (probe bursts 2 ms apart); the SFU woke at 15 for
        // the first and at once for the others: each gets the time it asked for.
        let mut clock = base;
        for asked in [10, 12, 14] {
            clock = timer_time(at(asked), clock, at(15));
            assert_eq!(clock, at(asked));
        }
        // A packet came in at 16; a timeout asked for 15 then gets 16, not an earlier time.
        clock = at(16);
        assert_eq!(timer_time(at(15), clock, at(17)), at(16));
        // The server stalled: asked for 20, woken at 60. No catching up 40 ms; it gets 60.
        assert_eq!(timer_time(at(20), clock, at(60)), at(60));
    }

    fn ladder_720() -> Vec<layers::Layer> {
        [("q", 180), ("h", 360), ("f", 720)]
            .map(|(rid, height)| layers::Layer {
                rid: rid.into(),
                height,
            })
            .to_vec()
    }

    #[test]
    fn an_organisations_cap_bounds_the_layer_a_subscriber_gets() {
        let layers = ladder_720();
        let rid_for = |preference, cap| layers::choose(&layers, capped_height(preference, cap));
        // A maximised tile gets the top layer, unless the organisation caps at 360p.
        assert_eq!(rid_for(u32::MAX, None), Some("f".into()));
        assert_eq!(rid_for(u32::MAX, Some(360)), Some("h".into()));
        assert_eq!(rid_for(1080, Some(360)), Some("h".into()));
        // Smaller tiles and hidden ones are as before.
        assert_eq!(rid_for(200, Some(360)), Some("q".into()));
        assert_eq!(rid_for(0, Some(360)), None);
        // A cap below every layer still shows the lowest; a cap of 0 means none.
        assert_eq!(rid_for(u32::MAX, Some(90)), Some("q".into()));
        assert_eq!(rid_for(u32::MAX, Some(0)), Some("f".into()));
    }

    #[test]
    fn the_fallback_while_a_layer_is_idle_never_climbs_above_the_cap() {
        let layers = ladder_720();
        // Only f flows (h and q are idle): uncapped, a subscriber of h falls back up to f.
        let only_f = |i: usize| i == 2;
        assert_eq!(nearest_flowing(&layers, 1, None, only_f), 2);
        // Capped at 360p it waits for h instead.
        assert_eq!(nearest_flowing(&layers, 1, Some(360), only_f), 1);
        // Lower layers are still taken while the wanted one is idle.
        assert_eq!(nearest_flowing(&layers, 1, Some(360), |i| i == 0), 0);
        assert_eq!(nearest_flowing(&layers, 1, Some(360), |_| true), 1);
    }

    #[test]
    fn attributes_are_read_from_the_sdp() {
        let sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=ice-ufrag:abcd\r\na=fingerprint:sha-256 AB:CD\r\n";
        assert_eq!(sdp_attribute(sdp, "ice-ufrag"), Some("abcd"));
        assert_eq!(sdp_attribute(sdp, "fingerprint"), Some("sha-256 AB:CD"));
        assert_eq!(sdp_attribute("v=0\r\n", "fingerprint"), None);
    }
}
