//! The selective forwarding unit: every participant's WebRTC media goes to the server once
//! and the server forwards it to the others, without decoding it.
//!
//! # Shape
//! One UDP socket carries all media. One task owns it and every participant's [`str0m::Rtc`]
//! (one per participant, keyed by meeting and [`ParticipantId`]); str0m is sans-IO, so
//! [`core::SfuCore`] holds the state and routing and never touches a socket or a clock, and
//! [`run`] only moves datagrams, commands and the time in and out. The server is ICE-lite
//! with one host candidate: the announced address (`media_public_ip`, else the listen address).
//!
//! Meeting actors talk to the SFU through [`SfuHandle`] (a bounded queue, `try_send`: the
//! actor never waits), and the SFU answers each meeting through the channel the actor gave
//! with its request (also `try_send`: the UDP loop never waits; a message that does not fit
//! is dropped and logged).
//!
//! # Negotiation
//! The client offers first (what it publishes, `sendonly`); the SFU answers. For every track
//! published by someone else in the meeting, the SFU adds a `sendonly` m-line to each
//! subscriber's session, sends `media_tracks` (everything that subscriber receives, by mid)
//! and then its own `media_offer`; the client answers.
//!
//! The rule that keeps both sides consistent:
//! - the server has **at most one offer outstanding** per peer. Changes (tracks added or
//!   removed while an offer is out) are queued and go into the next offer, sent as soon as
//!   the answer arrives;
//! - the server is the **impolite** peer: a client offer that arrives while the server's offer
//!   is outstanding (glare) is ignored. The protocol tells the client to roll its offer back
//!   on receiving the server's, answer it, and offer again; the re-offer is then handled
//!   normally;
//! - a client offer with a different ICE user fragment is a new `RTCPeerConnection` (after a
//!   reload or a resumed connection): the old session is dropped and a new one starts.
//!
//! Recovery: an offer left unanswered for 15 s is given up and made again; when a participant's
//! signalling connection is replaced (resume) the actor sends [`CommandKind::Resync`] and the
//! SFU repeats an outstanding offer, `media_tracks` and `media_layers`; a session whose ICE
//! stays disconnected for 10 s is dropped and its tracks are removed from the others (the
//! client notices its own ICE failure and offers again on a new connection).
//!
//! # What the SFU reads of media
//! This matters for end-to-end encryption. str0m runs in RTP mode: each RTP packet is
//! forwarded as it came, its payload untouched (the same bytes, shared, not copied); only the
//! SSRC, payload type, sequence number and timestamp are the subscriber's own, and the
//! transport header extensions (mid, transport-wide sequence number) are str0m's. What the
//! SFU itself *looks at* is:
//! - RTP headers and header extensions: SSRC, sequence number, timestamp, marker, mid, rid
//!   (simulcast layer), audio level (RFC 6464, for the active speaker), frame marking;
//! - whether a video packet starts a keyframe, to switch simulcast layers cleanly: from the
//!   frame marking extension (draft-ietf-avtext-framemarking, which samla's engine sends) or
//!   the dependency descriptor (which browsers send), and only for a publisher that sends
//!   neither from the first NAL unit headers of the H.264 payload (at most its first bytes,
//!   which an end-to-end encryption of H.264 keeps in the clear for this reason; see
//!   [`keyframe`]);
//! - RTCP feedback (PLI/FIR keyframe requests, NACK, receiver reports, transport-wide CC).
//!
//! It never decodes audio or video and never reads slice data.
//!
//! # Loss
//! Each subscriber's sequence numbers are the publisher's moved by an offset (rebased to
//! start below the first rollover, and moved again at each simulcast switch), so a packet
//! lost on the way in is a gap on the way out: the subscriber asks for it (NACK), str0m asks
//! the publisher, and the retransmission, forwarded when it comes, fills the gap in its
//! place. A subscriber that gives up on a gap asks for a keyframe, which is passed on.
//! str0m retransmits from its cache what the SFU sent, with a larger retransmission share
//! than its default (see [`core::RTX_RATIO_CAP`]). Packets are written with the time they
//! are forwarded, which keeps a burst released after a retransmission in order.
//!
//! # Audio in large meetings
//! With more than [`speaker::FORWARDED_SPEAKERS`] audio publishers, only the audio of that
//! many (the loudest, by the RFC 6464 level, with hysteresis) is forwarded.
//!
//! # Simulcast
//! Each subscriber gets, per video track, the highest layer whose assumed height (see
//! [`layers`]) fits the height it asked for with `subscribe_video` (default: the highest);
//! it switches only at a keyframe of the new layer, asking for one. Publishers are told with
//! `media_layers` which of their layers anyone watches, so they can stop encoding the rest.

pub mod core;
pub mod downlink;
pub mod keyframe;
pub mod layers;
pub mod speaker;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket as StdUdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use samla_protocol::{IceServer, MeetingId, ParticipantId, ServerMessage};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::meeting::MediaRequest;
use crate::metrics::Metrics;
use core::SfuCore;

/// Commands queued for the SFU task before new ones are dropped.
const COMMAND_QUEUE: usize = 4096;

/// Signalling messages queued from the SFU to one meeting actor.
pub const SIGNAL_QUEUE: usize = 256;

/// The largest datagram read; WebRTC stays below 1500 bytes.
const MAX_DATAGRAM: usize = 2048;

/// Whom in the meeting a media signal is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    One(ParticipantId),
    /// Everyone in the meeting (not the waiting room).
    Everyone,
}

/// A message from the SFU for the meeting actor to deliver.
#[derive(Debug, Clone)]
pub struct MediaSignal {
    pub to: Audience,
    pub msg: ServerMessage,
}

/// Something for the SFU to do.
#[derive(Debug)]
pub struct Command {
    pub meeting: MeetingId,
    pub participant: ParticipantId,
    pub kind: CommandKind,
}

#[derive(Debug)]
pub enum CommandKind {
    /// A media request, with the channel the answers for this meeting go to.
    Request {
        request: MediaRequest,
        /// The organisation's cap on video height; the room takes the latest.
        max_video_height: Option<u32>,
        reply: mpsc::Sender<MediaSignal>,
    },
    /// The participant left the meeting: drop their session and their tracks.
    Gone,
    /// The organisation's cap on video height changed (for the whole room; the command's
    /// participant is not used).
    VideoCap { max_video_height: Option<u32> },
    /// The participant's signalling connection was replaced (a resume): what the SFU sent
    /// while it was down is lost, so an outstanding offer is made again and `media_tracks`
    /// and `media_layers` are sent afresh.
    Resync,
}

/// The way into the SFU task. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SfuHandle {
    tx: mpsc::Sender<Command>,
    ice_servers: Arc<[IceServer]>,
    candidate: SocketAddr,
}

impl SfuHandle {
    /// The STUN/TURN servers clients are told about in `media_config`.
    pub fn ice_servers(&self) -> Vec<IceServer> {
        self.ice_servers.to_vec()
    }

    /// The address clients send media to.
    pub fn candidate(&self) -> SocketAddr {
        self.candidate
    }

    /// Queues a media request; never waits. A full queue drops it (and logs). It carries
    /// the organisation's `max_video_height`, so the room knows its cap from the first
    /// request on.
    pub fn request(
        &self,
        meeting: &MeetingId,
        participant: ParticipantId,
        request: MediaRequest,
        max_video_height: Option<u32>,
        reply: &mpsc::Sender<MediaSignal>,
    ) {
        self.send(Command {
            meeting: meeting.clone(),
            participant,
            kind: CommandKind::Request {
                request,
                max_video_height,
                reply: reply.clone(),
            },
        });
    }

    /// The participant left the meeting.
    pub fn gone(&self, meeting: &MeetingId, participant: ParticipantId) {
        self.send(Command {
            meeting: meeting.clone(),
            participant,
            kind: CommandKind::Gone,
        });
    }

    /// The organisation's cap on video height changed: no subscriber of the meeting gets a
    /// taller layer from now on.
    pub fn set_video_cap(&self, meeting: &MeetingId, max_video_height: Option<u32>) {
        self.send(Command {
            meeting: meeting.clone(),
            participant: ParticipantId(0),
            kind: CommandKind::VideoCap { max_video_height },
        });
    }

    /// The participant is back on a new connection (join or resume).
    pub fn resync(&self, meeting: &MeetingId, participant: ParticipantId) {
        self.send(Command {
            meeting: meeting.clone(),
            participant,
            kind: CommandKind::Resync,
        });
    }

    fn send(&self, cmd: Command) {
        if let Err(err) = self.tx.try_send(cmd) {
            tracing::warn!("SFU queue full or closed, media command dropped: {err}");
        }
    }
}

/// The address announced to clients as the SFU's host candidate: `public_ip` if given, else
/// the bound address; an unspecified bind address (0.0.0.0) is replaced by the address this
/// machine reaches the internet from, or loopback when there is none.
pub fn announced_address(bound: SocketAddr, public_ip: Option<IpAddr>) -> SocketAddr {
    match public_ip {
        Some(ip) if !ip.is_unspecified() => return SocketAddr::new(ip, bound.port()),
        Some(ip) => tracing::warn!(%ip, "media_public_ip cannot be unspecified; ignoring it"),
        None => {}
    }
    if !bound.ip().is_unspecified() {
        return bound;
    }
    match outbound_ip() {
        Some(ip) => {
            tracing::warn!(%ip, "media listens on all addresses; announcing the outbound address (set media_public_ip to choose)");
            SocketAddr::new(ip, bound.port())
        }
        None => {
            tracing::warn!("media listens on all addresses and there is no outbound address; announcing 127.0.0.1 (set media_public_ip)");
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), bound.port())
        }
    }
}

/// The local address of a route to the outside (a UDP "connect" sends nothing).
fn outbound_ip() -> Option<IpAddr> {
    let socket = StdUdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?; // TEST-NET-1, never contacted
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified()).then_some(ip)
}

/// Binds the media socket and starts the SFU task.
pub async fn start(
    listen: SocketAddr,
    public_ip: Option<IpAddr>,
    ice_servers: Vec<IceServer>,
    metrics: Arc<Metrics>,
) -> std::io::Result<SfuHandle> {
    let socket = UdpSocket::bind(listen).await?;
    let bound = socket.local_addr()?;
    let candidate = announced_address(bound, public_ip);
    tracing::info!(%bound, %candidate, "media (SFU) listening on UDP");
    let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
    let core = SfuCore::new(candidate, metrics.clone());
    tokio::spawn(run(socket, core, rx, metrics));
    Ok(SfuHandle {
        tx,
        ice_servers: ice_servers.into(),
        candidate,
    })
}

/// The socket loop: datagrams, commands and timers into the core; datagrams out. Sends never
/// wait: a datagram the kernel cannot take now is dropped, as a router would.
async fn run(
    socket: UdpSocket,
    mut core: SfuCore,
    mut rx: mpsc::Receiver<Command>,
    metrics: Arc<Metrics>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    // A socket bound to [::] also takes IPv4, with IPv4-mapped addresses: str0m sees plain
    // IPv4 addresses (as the clients' candidates name them) and the socket gets mapped ones.
    let dual_stack = socket.local_addr().is_ok_and(|a| a.is_ipv6());
    let mut transmit = |dest: SocketAddr, data: &[u8]| {
        let dest = match dest {
            SocketAddr::V4(v4) if dual_stack => {
                SocketAddr::new(IpAddr::V6(v4.ip().to_ipv6_mapped()), v4.port())
            }
            other => other,
        };
        if socket.try_send_to(data, dest).is_err() {
            Metrics::inc(&metrics.media_datagrams_dropped_total);
        }
    };
    loop {
        // Wake at least this often: stuck offers and the active speaker are checked on timeouts.
        let latest = Instant::now() + Duration::from_millis(500);
        let deadline = core.next_timeout().map_or(latest, |t| t.min(latest));
        tokio::select! {
            received = socket.recv_from(&mut buf) => match received {
                Ok((n, source)) => {
                    let source = SocketAddr::new(source.ip().to_canonical(), source.port());
                    core.handle_datagram(Instant::now(), source, &buf[..n], &mut transmit)
                }
                // ICMP errors surface here on some systems; they concern one peer only.
                Err(err) => tracing::trace!(%err, "media socket receive error"),
            },
            cmd = rx.recv() => match cmd {
                Some(cmd) => core.handle_command(Instant::now(), cmd, &mut transmit),
                None => break,
            },
            _ = sleep_until(deadline) => {
                core.handle_timeout(Instant::now(), &mut transmit);
            }
        }
    }
    tracing::info!("SFU stopped");
}

/// Waits until `deadline`. tokio's timer rounds a deadline up to its next millisecond tick,
/// so one that has just passed would still wait for that tick: str0m's pacer, which asks for
/// the next packet a microsecond after the last, would send one packet per millisecond, and
/// a downlink probe would measure about 1 Mbit/s whatever the link.
async fn sleep_until(deadline: Instant) {
    if deadline > Instant::now() {
        tokio::time::sleep_until(deadline.into()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_announced_address_is_never_unspecified() {
        let bound: SocketAddr = "127.0.0.1:7700".parse().unwrap();
        assert_eq!(announced_address(bound, None), bound);
        assert_eq!(
            announced_address(bound, Some("203.0.113.9".parse().unwrap())).to_string(),
            "203.0.113.9:7700"
        );
        assert_eq!(
            announced_address(bound, Some("0.0.0.0".parse().unwrap())),
            bound
        );
        let any: SocketAddr = "0.0.0.0:7701".parse().unwrap();
        let announced = announced_address(any, None);
        assert!(!announced.ip().is_unspecified());
        assert_eq!(announced.port(), 7701);
    }
}
