//! The SFU with real str0m peers over real UDP on 127.0.0.1: publishing, forwarding with the
//! `media_tracks` mapping, simulcast layer choice, the active speaker, and departures.
//!
//! Each test client is a full (not ICE-lite) str0m `Rtc` on its own socket, driven by the
//! test the way a real client engine would drive it; the SFU runs as it does in the server
//! (`sfu::start`), and the test plays the meeting actor's part of carrying signalling.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use samla_protocol::{ParticipantId, PublishedTrack, RemoteTrack, ServerMessage, TrackKind};
use samla_server::meeting::MediaRequest;
use samla_server::metrics::Metrics;
use samla_server::sfu::{self, Audience, MediaSignal, SfuHandle};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{
    Direction, Frequency, MediaKind, MediaTime, Mid, Rid, Simulcast, SimulcastLayer,
};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc, RtcConfig};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(10);

/// A received frame, as the test checks it.
#[derive(Debug, Clone)]
struct Got {
    mid: Mid,
    data: Vec<u8>,
    keyframe: bool,
    audio: bool,
    /// str0m saw every packet from the previous frame to this one.
    contiguous: bool,
}

struct Client {
    id: ParticipantId,
    rtc: Rtc,
    socket: UdpSocket,
    addr: SocketAddr,
    pending: Option<SdpPendingOffer>,
    connected: bool,
    got: Vec<Got>,
    /// Everything the SFU sent this participant through the meeting, in order.
    signals: Vec<ServerMessage>,
    tracks: Vec<RemoteTrack>,
    /// The mids this client publishes on, by kind.
    sending: Vec<(TrackKind, Mid)>,
    /// Tracks of our offer that is not answered yet.
    unconfirmed: Vec<(TrackKind, Mid)>,
    /// How many of our offers we rolled back because the server's crossed them.
    rolled_back: usize,
    /// While set, outgoing datagrams are kept here instead of sent (see [`Client::release`]).
    held: Option<Vec<(SocketAddr, Vec<u8>)>>,
    /// RTP payload types whose outgoing datagrams are dropped (a lossy uplink).
    drop_pts: Vec<u8>,
    /// Keyframe requests (PLI/FIR) the SFU sent us.
    keyframe_requests: usize,
    /// The RFC 6464 level (−dBov) our audio carries.
    audio_level: i8,
}

/// The payload types the test clients use for H.264 and its retransmissions.
const H264_PT: u8 = 102;
const H264_RTX_PT: u8 = 103;

impl Client {
    async fn new(id: u32) -> Client {
        str0m::crypto::from_feature_flags().install_process_default();
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let mut config = RtcConfig::new().clear_codecs().enable_opus(true, false);
        config
            .codec_config()
            .add_h264(102.into(), Some(103.into()), true, 0x42e01f);
        let mut rtc = config.build(Instant::now());
        rtc.add_local_candidate(Candidate::host(addr, "udp").unwrap());
        Client {
            id: ParticipantId(id),
            rtc,
            socket,
            addr,
            pending: None,
            connected: false,
            got: Vec::new(),
            signals: Vec::new(),
            tracks: Vec::new(),
            sending: Vec::new(),
            unconfirmed: Vec::new(),
            rolled_back: 0,
            held: None,
            drop_pts: Vec::new(),
            keyframe_requests: 0,
            audio_level: -12,
        }
    }

    /// Sends what was held back, in the order it was produced.
    fn release(&mut self) {
        for (to, data) in self.held.take().unwrap_or_default() {
            let _ = self.socket.try_send_to(&data, to);
        }
    }

    /// An offer adding `kinds` (sendonly), with the `tracks` that go with it: everything
    /// this client publishes.
    fn offer(&mut self, kinds: &[(TrackKind, Option<&[&str]>)]) -> MediaRequest {
        let mut api = self.rtc.sdp_api();
        for (kind, rids) in kinds {
            let media_kind = if *kind == TrackKind::Audio {
                MediaKind::Audio
            } else {
                MediaKind::Video
            };
            let simulcast = rids.map(|rids| {
                let mut s = Simulcast::new();
                for rid in rids {
                    s.add_send_layer(SimulcastLayer::new(rid));
                }
                s
            });
            let mid = api.add_media(media_kind, Direction::SendOnly, None, None, simulcast);
            self.unconfirmed.push((*kind, mid));
        }
        let (offer, pending) = api.apply().expect("changes to offer");
        self.pending = Some(pending);
        let tracks = self
            .sending
            .iter()
            .chain(&self.unconfirmed)
            .map(|(kind, mid)| PublishedTrack {
                mid: mid.to_string(),
                kind: *kind,
            })
            .collect();
        MediaRequest::Offer {
            sdp: offer.to_sdp_string(),
            tracks,
        }
    }

    /// Handles what the SFU sent; returns the answer to a server offer, if there was one.
    fn on_signal(&mut self, msg: ServerMessage) -> Option<MediaRequest> {
        self.signals.push(msg.clone());
        match msg {
            ServerMessage::MediaAnswer { sdp } => {
                let answer = SdpAnswer::from_sdp_string(&sdp).unwrap();
                let pending = self.pending.take().expect("an offer of ours");
                self.rtc.sdp_api().accept_answer(pending, answer).unwrap();
                self.sending.append(&mut self.unconfirmed);
                None
            }
            ServerMessage::MediaOffer { sdp } => {
                // The polite peer: an offer of ours that crossed the server's is rolled back
                // (accepting the remote offer invalidates it in str0m).
                if self.pending.take().is_some() {
                    self.unconfirmed.clear();
                    self.rolled_back += 1;
                }
                let offer = SdpOffer::from_sdp_string(&sdp).unwrap();
                let answer = self.rtc.sdp_api().accept_offer(offer).unwrap();
                Some(MediaRequest::Answer {
                    sdp: answer.to_sdp_string(),
                })
            }
            ServerMessage::MediaTracks { tracks } => {
                self.tracks = tracks;
                None
            }
            _ => None,
        }
    }

    /// Moves datagrams and time through the Rtc until it has nothing more to do now.
    fn pump(&mut self) {
        let now = Instant::now();
        self.rtc.handle_input(Input::Timeout(now)).unwrap();
        let mut buf = [0u8; 2048];
        loop {
            loop {
                match self.rtc.poll_output().unwrap() {
                    Output::Timeout(_) => break,
                    Output::Transmit(t) => {
                        // RTP version 2, not RTCP (packet types 192..=223): the payload type.
                        let pt = match (t.contents.first(), t.contents.get(1)) {
                            (Some(b0), Some(&b1))
                                if b0 & 0xc0 == 0x80 && !(192..=223).contains(&b1) =>
                            {
                                Some(b1 & 0x7f)
                            }
                            _ => None,
                        };
                        if pt.is_some_and(|pt| self.drop_pts.contains(&pt)) {
                            continue;
                        }
                        match &mut self.held {
                            Some(held) => held.push((t.destination, t.contents.to_vec())),
                            None => {
                                let _ = self.socket.try_send_to(&t.contents, t.destination);
                            }
                        }
                    }
                    Output::Event(e) => match e {
                        Event::Connected => self.connected = true,
                        Event::KeyframeRequest(_) => self.keyframe_requests += 1,
                        Event::MediaData(d) => self.got.push(Got {
                            mid: d.mid,
                            keyframe: d.is_keyframe(),
                            audio: d.params.spec().codec == Codec::Opus,
                            contiguous: d.contiguous,
                            data: d.data.to_vec(),
                        }),
                        _ => {}
                    },
                }
            }
            match self.socket.try_recv_from(&mut buf) {
                Ok((n, source)) => {
                    let Ok(contents) = buf[..n].try_into() else {
                        continue;
                    };
                    let input = Input::Receive(
                        Instant::now(),
                        Receive {
                            proto: Protocol::Udp,
                            source,
                            destination: self.addr,
                            contents,
                        },
                    );
                    self.rtc.handle_input(input).unwrap();
                }
                Err(_) => break,
            }
        }
    }

    fn mid_of(&self, publisher: &Client, kind: TrackKind) -> Option<Mid> {
        self.tracks
            .iter()
            .find(|t| t.participant == publisher.id && t.kind == kind)
            .map(|t| Mid::from(t.mid.as_str()))
    }

    fn write(&mut self, kind: TrackKind, rid: Option<&str>, frame_no: u64, data: &[u8]) {
        let mid = self
            .sending
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, m)| *m)
            .expect("a track of that kind");
        let writer = self.rtc.writer(mid).unwrap();
        let pt = writer
            .payload_params()
            .find(|p| (p.spec().codec == Codec::Opus) == (kind == TrackKind::Audio))
            .map(|p| p.pt())
            .unwrap();
        let (writer, time) = if kind == TrackKind::Audio {
            (
                writer.audio_level(self.audio_level, self.audio_level > -50),
                MediaTime::new(frame_no * 960, Frequency::FORTY_EIGHT_KHZ),
            )
        } else {
            (writer, MediaTime::from_90khz(frame_no * 3000))
        };
        let writer = match rid {
            Some(rid) => writer.rid(Rid::from(rid)),
            None => writer,
        };
        writer
            .write(pt, Instant::now(), time, data.to_vec())
            .unwrap();
    }
}

/// The test's stand-in for the meeting actor: the SFU, the reply channel, and the clients
/// it delivers to.
struct Meeting {
    sfu: SfuHandle,
    id: samla_protocol::MeetingId,
    tx: mpsc::Sender<MediaSignal>,
    rx: mpsc::Receiver<MediaSignal>,
    metrics: Arc<Metrics>,
    /// The organisation's cap on video height, sent with every request.
    max_video_height: Option<u32>,
}

impl Meeting {
    async fn new() -> Meeting {
        Meeting::at("127.0.0.1:0".parse().unwrap(), None).await
    }

    /// An SFU bound to `listen`, announcing `public_ip`.
    async fn at(listen: SocketAddr, public_ip: Option<std::net::IpAddr>) -> Meeting {
        let metrics = Arc::new(Metrics::default());
        let sfu = sfu::start(listen, public_ip, Vec::new(), metrics.clone())
            .await
            .unwrap();
        let (tx, rx) = mpsc::channel(sfu::SIGNAL_QUEUE);
        Meeting {
            sfu,
            id: "123456789".parse().unwrap(),
            tx,
            rx,
            metrics,
            max_video_height: None,
        }
    }

    fn send(&self, from: &Client, request: MediaRequest) {
        self.sfu
            .request(&self.id, from.id, request, self.max_video_height, &self.tx);
    }

    /// Collects what the SFU sends for `wait`, without delivering it.
    async fn hold(&mut self, wait: Duration, clients: &mut [&mut Client]) -> Vec<MediaSignal> {
        let mut held = Vec::new();
        let end = Instant::now() + wait;
        while Instant::now() < end {
            while let Ok(signal) = self.rx.try_recv() {
                held.push(signal);
            }
            for c in clients.iter_mut() {
                c.pump();
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        held
    }

    /// Delivers held signals, answering server offers.
    fn deliver(&mut self, held: Vec<MediaSignal>, clients: &mut [&mut Client]) {
        for signal in held {
            for c in clients.iter_mut() {
                if matches!(signal.to, Audience::One(p) if p == c.id)
                    || signal.to == Audience::Everyone
                {
                    if let Some(answer) = c.on_signal(signal.msg.clone()) {
                        self.sfu
                            .request(&self.id, c.id, answer, self.max_video_height, &self.tx);
                    }
                }
            }
        }
    }

    /// Runs clients and signalling until `done` holds (or fails after [`WAIT`]).
    async fn run_until(
        &mut self,
        clients: &mut [&mut Client],
        mut done: impl FnMut(&[&mut Client]) -> bool,
    ) {
        let deadline = Instant::now() + WAIT;
        loop {
            while let Ok(signal) = self.rx.try_recv() {
                for c in clients.iter_mut() {
                    let to_me = match signal.to {
                        Audience::One(p) => p == c.id,
                        Audience::Everyone => true,
                    };
                    if to_me {
                        if let Some(answer) = c.on_signal(signal.msg.clone()) {
                            self.sfu.request(
                                &self.id,
                                c.id,
                                answer,
                                self.max_video_height,
                                &self.tx,
                            );
                        }
                    }
                }
            }
            for c in clients.iter_mut() {
                c.pump();
            }
            if done(clients) {
                return;
            }
            assert!(Instant::now() < deadline, "timed out");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

/// An H.264 access unit that looks real to a depacketizer: SPS, PPS and an IDR slice for a
/// keyframe, one non-IDR slice otherwise, in Annex B form.
fn h264_frame(keyframe: bool, n: u8) -> Vec<u8> {
    let mut f = Vec::new();
    if keyframe {
        f.extend_from_slice(&[0, 0, 0, 1, 0x67, 0x42, 0xe0, 0x1f, 0x8d, 0x68, 0x05, 0x8b]);
        f.extend_from_slice(&[0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80]);
        f.extend_from_slice(&[0, 0, 0, 1, 0x65, 0x88, 0x84, n]);
    } else {
        f.extend_from_slice(&[0, 0, 0, 1, 0x41, 0x9a, 0x02, n]);
    }
    // Never zero: runs of zeros would read as start codes.
    f.extend(std::iter::repeat_n(n | 0x80, 300));
    f
}

async fn connect_two(m: &mut Meeting) -> (Client, Client) {
    let mut a = Client::new(1).await;
    let mut b = Client::new(2).await;
    let offer = a.offer(&[(TrackKind::Audio, None), (TrackKind::Camera, None)]);
    m.send(&a, offer);
    m.run_until(&mut [&mut a], |c| c[0].connected).await;
    let offer = b.offer(&[(TrackKind::Audio, None)]);
    m.send(&b, offer);
    m.run_until(&mut [&mut a, &mut b], |c| {
        c[1].connected && c[1].tracks.len() == 2 && c[0].tracks.len() == 1
    })
    .await;
    (a, b)
}

#[tokio::test]
async fn frames_reach_the_other_participant_on_the_announced_mids() {
    let mut m = Meeting::new().await;
    let (mut a, mut b) = connect_two(&mut m).await;

    // b was told, before the offer, which mid carries what of a.
    let b_signals: Vec<&str> = b.signals.iter().map(signal_name).collect();
    let tracks_at = b_signals.iter().position(|s| *s == "media_tracks").unwrap();
    let offer_at = b_signals.iter().position(|s| *s == "media_offer").unwrap();
    assert!(
        tracks_at < offer_at,
        "media_tracks comes before the offer: {b_signals:?}"
    );
    let video_mid = b
        .mid_of(&a, TrackKind::Camera)
        .expect("a's camera announced");
    let audio_mid = b.mid_of(&a, TrackKind::Audio).expect("a's audio announced");
    assert!(a.mid_of(&b, TrackKind::Audio).is_some());

    // Let the server's offer/answer settle before writing.
    m.run_until(&mut [&mut a, &mut b], |c| c[1].pending.is_none())
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    for n in 0..60u64 {
        a.write(
            TrackKind::Camera,
            None,
            n,
            &h264_frame(n % 30 == 0, n as u8),
        );
        a.write(TrackKind::Audio, None, n, &[0xfc, 0xff, n as u8, 1, 2, 3]);
        m.run_until(&mut [&mut a, &mut b], |_| true).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    m.run_until(&mut [&mut a, &mut b], |c| {
        c[1].got.iter().filter(|g| !g.audio).count() >= 50
    })
    .await;

    let video: Vec<&Got> = b.got.iter().filter(|g| !g.audio).collect();
    let audio: Vec<&Got> = b.got.iter().filter(|g| g.audio).collect();
    assert!(
        video.iter().all(|g| g.mid == video_mid),
        "video on a's camera mid"
    );
    assert!(
        audio.iter().all(|g| g.mid == audio_mid),
        "audio on a's audio mid"
    );
    assert!(video[0].keyframe, "a subscriber starts at a keyframe");
    assert!(audio.len() >= 50, "audio arrives: {}", audio.len());
    // Payloads pass through unchanged (str0m hands frames over in Annex B form).
    for g in &video {
        let n = g.data[g.data.len() - 1] & 0x7f;
        assert_eq!(g.data, h264_frame(g.keyframe, n), "frame {n}");
    }
    assert_eq!(audio.last().unwrap().data[..2], [0xfc, 0xff]);
    assert!(
        m.metrics
            .media_frames_forwarded_total
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 100
    );

    // Audio at −12 dBov makes a the active speaker, announced to everyone.
    m.run_until(&mut [&mut a, &mut b], |c| {
        c.iter().all(|c| {
            c.signals.contains(&ServerMessage::ActiveSpeaker {
                participant: ParticipantId(1),
            })
        })
    })
    .await;
}

#[tokio::test]
async fn a_departed_participants_tracks_are_removed_from_the_others() {
    let mut m = Meeting::new().await;
    let (mut a, mut b) = connect_two(&mut m).await;
    m.run_until(&mut [&mut a, &mut b], |c| c[1].pending.is_none())
        .await;
    assert_eq!(
        m.metrics
            .media_peers
            .load(std::sync::atomic::Ordering::Relaxed),
        2
    );

    let former: Vec<Mid> = b.tracks.iter().map(|t| Mid::from(t.mid.as_str())).collect();
    assert_eq!(former.len(), 2);
    let offers_before = b
        .signals
        .iter()
        .filter(|s| signal_name(s) == "media_offer")
        .count();
    m.sfu.gone(&m.id, a.id);
    m.run_until(&mut [&mut b], |c| {
        c[0].tracks.is_empty()
            && c[0]
                .signals
                .iter()
                .filter(|s| signal_name(s) == "media_offer")
                .count()
                > offers_before
    })
    .await;
    // The renegotiation stopped a's m-lines at b.
    m.run_until(&mut [&mut b], |c| {
        former.iter().all(|mid| {
            c[0].rtc
                .media(*mid)
                .is_none_or(|m| m.stopped() || m.disabled())
        })
    })
    .await;
    assert_eq!(
        m.metrics
            .media_peers
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

#[tokio::test]
async fn bad_sdp_is_refused_with_invalid_argument() {
    let mut m = Meeting::new().await;
    let mut a = Client::new(1).await;
    m.send(
        &a,
        MediaRequest::Offer {
            sdp: "not sdp".into(),
            tracks: vec![],
        },
    );
    m.send(&a, MediaRequest::Answer { sdp: "v=0".into() });
    m.run_until(&mut [&mut a], |c| c[0].signals.len() >= 2)
        .await;
    for s in &a.signals {
        assert!(
            matches!(
                s,
                ServerMessage::Error {
                    code: samla_protocol::ErrorCode::InvalidArgument,
                    ..
                }
            ),
            "{s:?}"
        );
    }
}

#[tokio::test]
async fn simulcast_subscribers_get_the_layer_that_fits_and_publishers_hear_what_is_watched() {
    let mut m = Meeting::new().await;
    let mut a = Client::new(1).await;
    let mut b = Client::new(2).await;
    // a declares its layers' heights (RFC 8851) in the copy of the offer the server gets, as
    // a browser client would by editing the SDP it sends; they differ from the assumed ladder.
    let offer = match a.offer(&[(TrackKind::Camera, Some(&["q", "h", "f"]))]) {
        MediaRequest::Offer { sdp, tracks } => MediaRequest::Offer {
            sdp: sdp
                .replace("a=rid:q send", "a=rid:q send max-height=120")
                .replace("a=rid:h send", "a=rid:h send max-width=426;max-height=240")
                .replace("a=rid:f send", "a=rid:f send max-height=480"),
            tracks,
        },
        other => other,
    };
    m.send(&a, offer);
    m.run_until(&mut [&mut a], |c| c[0].connected).await;
    // b draws a's camera small (between q's and h's height) before it even has a session.
    let offer = b.offer(&[(TrackKind::Audio, None)]);
    m.send(&b, offer);
    m.run_until(&mut [&mut a, &mut b], |c| {
        c[1].connected && c[1].tracks.len() == 1
    })
    .await;
    m.send(
        &b,
        MediaRequest::SubscribeVideo {
            participant: a.id,
            kind: TrackKind::Camera,
            max_height: 200,
        },
    );
    m.run_until(&mut [&mut a, &mut b], |c| {
        c[1].pending.is_none()
            && c[0].signals.contains(&ServerMessage::MediaLayers {
                kind: TrackKind::Camera,
                active_rids: vec!["q".into()],
            })
    })
    .await;

    // a sends all three layers; each frame's last byte names its layer.
    for n in 0..40u64 {
        for (rid, tag) in [("q", 1u8), ("h", 2), ("f", 3)] {
            let mut frame = h264_frame(n % 20 == 0, n as u8);
            frame.push(tag);
            a.write(TrackKind::Camera, Some(rid), n, &frame);
        }
        m.run_until(&mut [&mut a, &mut b], |_| true).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    m.run_until(&mut [&mut a, &mut b], |c| c[1].got.len() >= 20)
        .await;
    assert!(
        b.got.iter().all(|g| *g.data.last().unwrap() == 1),
        "only the low layer reaches b: {:?}",
        b.got
            .iter()
            .map(|g| (*g.data.last().unwrap(), g.keyframe, g.data.len()))
            .collect::<Vec<_>>()
    );

    // b maximises the tile: it switches to the full layer at its next keyframe.
    m.send(
        &b,
        MediaRequest::SubscribeVideo {
            participant: a.id,
            kind: TrackKind::Camera,
            max_height: 1080,
        },
    );
    m.run_until(&mut [&mut a, &mut b], |c| {
        c[0].signals.contains(&ServerMessage::MediaLayers {
            kind: TrackKind::Camera,
            active_rids: vec!["f".into()],
        })
    })
    .await;
    let before = b.got.len();
    // Until b gets f, and 20 frames more. The switch may wait for the SFU's estimate of b's
    // downlink to make room for f (these test frames are tiny, so the estimate starts low).
    let deadline = Instant::now() + WAIT;
    let mut n = 40u64;
    let mut after_switch = 0;
    while after_switch < 20 {
        for (rid, tag) in [("q", 1u8), ("h", 2), ("f", 3)] {
            let mut frame = h264_frame(n.is_multiple_of(20), n as u8);
            frame.push(tag);
            a.write(TrackKind::Camera, Some(rid), n, &frame);
        }
        n += 1;
        m.run_until(&mut [&mut a, &mut b], |_| true).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
        if b.got[before..].iter().any(|g| *g.data.last().unwrap() == 3) {
            after_switch += 1;
        }
        assert!(Instant::now() < deadline, "b never got f");
    }
    let after: Vec<u8> = b.got[before..]
        .iter()
        .map(|g| *g.data.last().unwrap())
        .collect();
    let switch = after.iter().position(|&t| t == 3).unwrap();
    assert!(
        b.got[before + switch].keyframe,
        "the switch happens at a keyframe"
    );
    assert!(
        after[switch..].iter().all(|&t| t == 3),
        "no going back: {after:?}"
    );
}

fn signal_name(msg: &ServerMessage) -> &'static str {
    match msg {
        ServerMessage::MediaAnswer { .. } => "media_answer",
        ServerMessage::MediaOffer { .. } => "media_offer",
        ServerMessage::MediaTracks { .. } => "media_tracks",
        ServerMessage::MediaLayers { .. } => "media_layers",
        ServerMessage::ActiveSpeaker { .. } => "active_speaker",
        ServerMessage::Error { .. } => "error",
        _ => "other",
    }
}

/// The whole server in-process (HTTP, WebSocket, meeting actors, SFU), for the signalling path
/// through the meeting actor.
mod through_the_server {
    use super::*;
    use futures_util::{SinkExt, StreamExt};
    use samla_protocol::{ClientMessage, MeetingId, PROTOCOL_VERSION};
    use samla_server::config::{Config, MediaSettings};
    use samla_server::meeting::registry::MeetingRegistry;
    use samla_server::state::AppState;
    use samla_server::store::{NewMeetingRecord, Store};
    use tokio_tungstenite::tungstenite::Message;

    type Ws = tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >;

    struct Server {
        addr: SocketAddr,
        meeting: MeetingId,
        _dir: tempfile::TempDir,
    }

    async fn server() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("samla.db").display()
        );
        let store = Store::connect(&url).await.unwrap();
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_owned(),
            database_url: url,
            public_url: "http://samla.test".into(),
            organisations: vec![],
            media: MediaSettings::default(),
        };
        store
            .ensure_configured_organisations(&config)
            .await
            .unwrap();
        let org = store.default_organisation().await.unwrap();
        let owner = store
            .ensure_user(&org.id, "owner@samla.test", "Owner", false)
            .await
            .unwrap();
        let meeting = store
            .create_meeting(&NewMeetingRecord {
                org_id: org.id.clone(),
                owner_user_id: owner.id.clone(),
                topic: "media".into(),
                passcode_hash: None,
                waiting_room: false,
                signed_in_only: false,
                start_time_ms: None,
                duration_minutes: None,
                mute_on_entry: false,
                share_hosts_only: false,
            })
            .await
            .unwrap();
        let metrics = Arc::new(Metrics::default());
        let sfu = sfu::start(
            "127.0.0.1:0".parse().unwrap(),
            None,
            vec![samla_protocol::IceServer {
                urls: vec!["stun:stun.samla.test:3478".into()],
                username: None,
                credential: None,
            }],
            metrics.clone(),
        )
        .await
        .unwrap();
        let state = AppState {
            meetings: MeetingRegistry::with_sfu(store.clone(), metrics.clone(), Some(sfu)),
            config: Arc::new(config),
            store,
            metrics,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app =
            samla_server::http::router(state).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Server {
            addr,
            meeting: meeting.id,
            _dir: dir,
        }
    }

    async fn send(ws: &mut Ws, msg: &ClientMessage) {
        ws.send(Message::text(serde_json::to_string(msg).unwrap()))
            .await
            .unwrap();
    }

    /// The next server message, if one comes within a few milliseconds.
    async fn recv(ws: &mut Ws) -> Option<ServerMessage> {
        loop {
            let frame = tokio::time::timeout(Duration::from_millis(3), ws.next())
                .await
                .ok()??
                .unwrap();
            if let Message::Text(text) = frame {
                return Some(serde_json::from_str(&text).unwrap());
            }
        }
    }

    async fn join(server: &Server, name: &str) -> (Ws, ParticipantId, Vec<ServerMessage>) {
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr))
            .await
            .unwrap();
        send(
            &mut ws,
            &ClientMessage::Hello {
                version: PROTOCOL_VERSION,
                client: "sfu test".into(),
            },
        )
        .await;
        send(
            &mut ws,
            &ClientMessage::Join {
                meeting_id: server.meeting.clone(),
                display_name: name.into(),
                passcode: None,
                token: None,
                client_id: None,
            },
        )
        .await;
        let mut seen = Vec::new();
        let deadline = Instant::now() + WAIT;
        while !seen
            .iter()
            .any(|m| matches!(m, ServerMessage::MediaConfig { .. }))
        {
            assert!(Instant::now() < deadline, "no media_config: {seen:?}");
            seen.extend(recv(&mut ws).await);
        }
        let you = seen
            .iter()
            .find_map(|m| match m {
                ServerMessage::Joined { you, .. } => Some(*you),
                _ => None,
            })
            .expect("joined");
        (ws, you, seen)
    }

    /// Carries signalling between the sockets and the clients until `done` holds.
    async fn run_until(
        sockets: &mut [&mut Ws],
        clients: &mut [&mut Client],
        mut done: impl FnMut(&[&mut Client]) -> bool,
    ) {
        let deadline = Instant::now() + WAIT;
        loop {
            for (ws, c) in sockets.iter_mut().zip(clients.iter_mut()) {
                while let Some(msg) = recv(ws).await {
                    if let Some(MediaRequest::Answer { sdp }) = c.on_signal(msg) {
                        send(ws, &ClientMessage::MediaAnswer { sdp }).await;
                    }
                }
                c.pump();
            }
            if done(clients) {
                return;
            }
            assert!(Instant::now() < deadline, "timed out");
        }
    }

    fn offer_message(request: MediaRequest) -> ClientMessage {
        match request {
            MediaRequest::Offer { sdp, tracks } => ClientMessage::MediaOffer { sdp, tracks },
            _ => unreachable!(),
        }
    }

    #[tokio::test]
    async fn media_flows_through_the_real_server_and_stops_when_someone_leaves() {
        let server = server().await;
        let (mut ws_a, id_a, seen) = join(&server, "Ada").await;
        let joined_at = seen
            .iter()
            .position(|m| matches!(m, ServerMessage::Joined { .. }))
            .unwrap();
        assert_eq!(
            seen[joined_at + 1],
            ServerMessage::MediaConfig {
                ice_servers: vec![samla_protocol::IceServer {
                    urls: vec!["stun:stun.samla.test:3478".into()],
                    username: None,
                    credential: None,
                }],
                max_video_height: None,
            },
            "media_config comes right after joined"
        );
        let (mut ws_b, id_b, _) = join(&server, "Bo").await;
        let mut a = Client::new(id_a.0).await;
        let mut b = Client::new(id_b.0).await;

        let offer = a.offer(&[(TrackKind::Audio, None), (TrackKind::Camera, None)]);
        send(&mut ws_a, &offer_message(offer)).await;
        let offer = b.offer(&[(TrackKind::Audio, None)]);
        send(&mut ws_b, &offer_message(offer)).await;
        run_until(&mut [&mut ws_a, &mut ws_b], &mut [&mut a, &mut b], |c| {
            c.iter().all(|c| c.connected && c.pending.is_none())
                && c[1].tracks.len() == 2
                && c[0].tracks.len() == 1
        })
        .await;

        let mut n = 0u64;
        let video_mid = b.mid_of(&a, TrackKind::Camera).unwrap();
        while b.got.iter().filter(|g| !g.audio).count() < 10 {
            a.write(
                TrackKind::Camera,
                None,
                n,
                &h264_frame(n.is_multiple_of(10), n as u8),
            );
            a.write(TrackKind::Audio, None, n, &[0xfc, 1, 2]);
            n += 1;
            run_until(&mut [&mut ws_a, &mut ws_b], &mut [&mut a, &mut b], |_| true).await;
            tokio::time::sleep(Duration::from_millis(5)).await;
            assert!(n < 1000, "video does not arrive");
        }
        assert!(b
            .got
            .iter()
            .filter(|g| !g.audio)
            .all(|g| g.mid == video_mid));

        // Ada leaves: Bo's session loses her tracks.
        send(&mut ws_a, &ClientMessage::Leave).await;
        run_until(&mut [&mut ws_b], &mut [&mut b], |c| {
            c[0].tracks.is_empty() && c[0].pending.is_none()
        })
        .await;
    }
}

#[tokio::test]
async fn crossing_offers_the_server_wins_and_the_client_offers_again() {
    let mut m = Meeting::new().await;
    let (mut a, mut b) = connect_two(&mut m).await;
    m.run_until(&mut [&mut a, &mut b], |c| {
        c.iter().all(|c| c.pending.is_none())
    })
    .await;

    // a starts sharing its screen: the server offers b a new m-line...
    let offer = a.offer(&[(TrackKind::Screen, None)]);
    m.send(&a, offer);
    let mut held = m
        .hold(Duration::from_millis(200), &mut [&mut a, &mut b])
        .await;
    assert!(
        held.iter()
            .any(|s| s.to == Audience::One(b.id) && signal_name(&s.msg) == "media_offer"),
        "the server offers b a's screen"
    );
    // ...while b, not having seen that offer yet, offers its camera.
    let offer = b.offer(&[(TrackKind::Camera, None)]);
    m.send(&b, offer);
    held.extend(
        m.hold(Duration::from_millis(200), &mut [&mut a, &mut b])
            .await,
    );
    assert!(
        !held
            .iter()
            .any(|s| s.to == Audience::One(b.id) && signal_name(&s.msg) == "media_answer"),
        "the impolite server ignores the crossing offer"
    );
    // b rolls back, answers the server, then offers again.
    m.deliver(held, &mut [&mut a, &mut b]);
    assert_eq!(b.rolled_back, 1);
    m.run_until(&mut [&mut a, &mut b], |c| c[1].tracks.len() == 3)
        .await;
    let offer = b.offer(&[(TrackKind::Camera, None)]);
    m.send(&b, offer);
    m.run_until(&mut [&mut a, &mut b], |c| {
        c.iter().all(|c| c.pending.is_none()) && c[0].tracks.len() == 2
    })
    .await;
    assert!(a.mid_of(&b, TrackKind::Camera).is_some());
    assert!(b.mid_of(&a, TrackKind::Screen).is_some());
}

#[tokio::test]
async fn a_new_peer_connection_replaces_the_old_session() {
    let mut m = Meeting::new().await;
    let (mut a, mut b) = connect_two(&mut m).await;
    m.run_until(&mut [&mut a, &mut b], |c| {
        c.iter().all(|c| c.pending.is_none())
    })
    .await;
    // a reloads: a fresh Rtc (new DTLS fingerprint) under the same participant id.
    let mut a2 = Client::new(a.id.0).await;
    let offer = a2.offer(&[(TrackKind::Audio, None)]);
    m.send(&a2, offer);
    m.run_until(&mut [&mut a2, &mut b], |c| {
        c[0].connected && c[0].tracks.len() == 1 && c[1].tracks.len() == 1
    })
    .await;
    assert!(b.mid_of(&a2, TrackKind::Audio).is_some());
    assert!(
        b.mid_of(&a2, TrackKind::Camera).is_none(),
        "the old camera is gone"
    );
    assert_eq!(
        m.metrics
            .media_peers
            .load(std::sync::atomic::Ordering::Relaxed),
        2
    );
}

#[tokio::test]
async fn after_a_resume_the_server_repeats_what_was_lost() {
    let mut m = Meeting::new().await;
    let (mut a, mut b) = connect_two(&mut m).await;
    m.run_until(&mut [&mut a, &mut b], |c| {
        c.iter().all(|c| c.pending.is_none())
    })
    .await;
    // a shares its screen while b's signalling connection is down: b's messages are lost.
    let offer = a.offer(&[(TrackKind::Screen, None)]);
    m.send(&a, offer);
    let held = m
        .hold(Duration::from_millis(200), &mut [&mut a, &mut b])
        .await;
    let (for_b, for_others): (Vec<_>, Vec<_>) =
        held.into_iter().partition(|s| s.to == Audience::One(b.id));
    assert!(for_b.iter().any(|s| signal_name(&s.msg) == "media_offer"));
    m.deliver(for_others, &mut [&mut a, &mut b]);
    // b is back: the meeting actor tells the SFU, which offers again.
    m.sfu.resync(&m.id, b.id);
    m.run_until(&mut [&mut a, &mut b], |c| {
        c[1].tracks.len() == 3 && c.iter().all(|c| c.pending.is_none())
    })
    .await;
    assert!(b.mid_of(&a, TrackKind::Screen).is_some());
}

/// CPU cost of forwarding: eight participants each sending 30 fps video (~4 KB frames) and
/// 50 audio packets a second for five seconds. The SFU runs on a thread of its own so its CPU
/// time can be read apart from the clients'. Prints figures; run with
/// `cargo test -p samla-server --release --test sfu_forwarding -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check"]
fn load_eight_participants() {
    const PARTICIPANTS: u32 = 8;
    const SECONDS: u64 = 5;
    let metrics = Arc::new(Metrics::default());
    let (handle_tx, handle_rx) = std::sync::mpsc::channel();
    let sfu_metrics = metrics.clone();
    std::thread::Builder::new()
        .name("sfu-load".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let sfu = sfu::start(
                    "127.0.0.1:0".parse().unwrap(),
                    None,
                    Vec::new(),
                    sfu_metrics,
                )
                .await
                .unwrap();
                handle_tx.send(sfu).unwrap();
                std::future::pending::<()>().await;
            });
        })
        .unwrap();
    let sfu = handle_rx.recv().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let (tx, rx) = mpsc::channel(sfu::SIGNAL_QUEUE);
        let mut m = Meeting {
            sfu,
            id: "123456789".parse().unwrap(),
            tx,
            rx,
            metrics: metrics.clone(),
            max_video_height: None,
        };
        let mut clients = Vec::new();
        for i in 1..=PARTICIPANTS {
            let mut c = Client::new(i).await;
            let offer = c.offer(&[(TrackKind::Audio, None), (TrackKind::Camera, None)]);
            m.send(&c, offer);
            clients.push(c);
        }
        let want = (PARTICIPANTS as usize - 1) * 2;
        {
            let mut refs: Vec<&mut Client> = clients.iter_mut().collect();
            m.run_until(&mut refs, |c| {
                c.iter()
                    .all(|c| c.connected && c.pending.is_none() && c.tracks.len() == want)
            })
            .await;
        }
        let cpu_before = thread_cpu("sfu-load");
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < Duration::from_secs(SECONDS) {
            for c in clients.iter_mut() {
                if n % 5 < 3 {
                    c.write(
                        TrackKind::Camera,
                        None,
                        n * 3 / 5,
                        &h264_frame((n / 5).is_multiple_of(60), n as u8).repeat(13),
                    );
                }
                c.write(TrackKind::Audio, None, n, &[0xfc; 80]);
            }
            n += 1;
            let mut refs: Vec<&mut Client> = clients.iter_mut().collect();
            m.run_until(&mut refs, |_| true).await;
            let next = start + Duration::from_millis(20 * n);
            tokio::time::sleep_until(next.into()).await;
        }
        let elapsed = start.elapsed().as_secs_f64();
        let cpu = thread_cpu("sfu-load") - cpu_before;
        let forwarded = metrics
            .media_frames_forwarded_total
            .load(std::sync::atomic::Ordering::Relaxed);
        let received: usize = clients.iter().map(|c| c.got.len()).sum();
        println!(
            "{PARTICIPANTS} participants, {elapsed:.1} s: SFU thread CPU {cpu:.2} s ({:.0} %), \
             {forwarded} frames forwarded ({:.0}/s), {received} frames received by clients",
            100.0 * cpu / elapsed,
            forwarded as f64 / elapsed
        );
    });
}

/// User + system CPU seconds of this process's thread named `name` (Linux).
fn thread_cpu(name: &str) -> f64 {
    let ticks = 100.0; // USER_HZ on Linux
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let dir = task.unwrap().path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.trim() == name {
            let stat = std::fs::read_to_string(dir.join("stat")).unwrap();
            let after = &stat[stat.rfind(')').unwrap() + 2..];
            let f: Vec<&str> = after.split_whitespace().collect();
            let (utime, stime): (f64, f64) = (f[11].parse().unwrap(), f[12].parse().unwrap());
            return (utime + stime) / ticks;
        }
    }
    panic!("no thread named {name}");
}

#[tokio::test]
async fn a_dual_stack_socket_serves_ipv4_clients() {
    // Bound to [::] (IPv4 arrives IPv4-mapped), announcing 127.0.0.1.
    let mut m = Meeting::at(
        "[::]:0".parse().unwrap(),
        Some("127.0.0.1".parse().unwrap()),
    )
    .await;
    let (mut a, mut b) = connect_two(&mut m).await;
    m.run_until(&mut [&mut a, &mut b], |c| {
        c.iter().all(|c| c.pending.is_none())
    })
    .await;
    for n in 0..10u64 {
        a.write(TrackKind::Audio, None, n, &[0xfc, 1, 2]);
        m.run_until(&mut [&mut a, &mut b], |_| true).await;
    }
    m.run_until(&mut [&mut a, &mut b], |c| !c[1].got.is_empty())
        .await;
}

#[tokio::test]
async fn a_subscriber_falls_back_to_a_flowing_layer_while_its_layer_is_idle() {
    let mut m = Meeting::new().await;
    let mut a = Client::new(1).await;
    let mut b = Client::new(2).await;
    let offer = a.offer(&[(TrackKind::Camera, Some(&["q", "h", "f"]))]);
    m.send(&a, offer);
    let offer = b.offer(&[(TrackKind::Audio, None)]);
    m.send(&b, offer);
    m.run_until(&mut [&mut a, &mut b], |c| {
        c.iter().all(|c| c.connected && c.pending.is_none()) && c[1].tracks.len() == 1
    })
    .await;

    // b wants the top layer (no size given), but a's uplink only carries q and h.
    let mut n = 0u64;
    let mut send = |a: &mut Client, layers: &[(&str, u8)]| {
        for (rid, tag) in layers {
            let mut frame = h264_frame(n.is_multiple_of(10), n as u8);
            frame.push(*tag);
            a.write(TrackKind::Camera, Some(rid), n, &frame);
        }
        n += 1;
    };
    let deadline = Instant::now() + WAIT;
    while !b.got.iter().any(|g| *g.data.last().unwrap() == 2) {
        send(&mut a, &[("q", 1), ("h", 2)]);
        m.run_until(&mut [&mut a, &mut b], |_| true).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(Instant::now() < deadline, "no fallback to h");
    }
    assert!(
        b.got.iter().all(|g| *g.data.last().unwrap() == 2),
        "b gets h, the best layer that flows"
    );
    assert!(
        a.signals.iter().any(|s| matches!(
            s,
            ServerMessage::MediaLayers { active_rids, .. }
                if active_rids.contains(&"h".to_owned()) && active_rids.contains(&"f".to_owned())
        )),
        "a keeps f on (wanted) and h (used): {:?}",
        a.signals
    );

    // f comes back: b moves up at its next keyframe.
    let deadline = Instant::now() + WAIT;
    while b.got.last().is_none_or(|g| *g.data.last().unwrap() != 3) {
        send(&mut a, &[("q", 1), ("h", 2), ("f", 3)]);
        m.run_until(&mut [&mut a, &mut b], |_| true).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(Instant::now() < deadline, "no switch back to f");
    }
    let first_f = b
        .got
        .iter()
        .position(|g| *g.data.last().unwrap() == 3)
        .unwrap();
    assert!(b.got[first_f].keyframe);
}

#[tokio::test]
async fn an_organisations_cap_holds_subscribers_to_layers_no_taller_than_it() {
    let mut m = Meeting::new().await;
    m.max_video_height = Some(360);
    let mut a = Client::new(1).await;
    let mut b = Client::new(2).await;
    // a publishes 720p simulcast and declares its layers' heights, as the client engine does.
    let offer = match a.offer(&[(TrackKind::Camera, Some(&["q", "h", "f"]))]) {
        MediaRequest::Offer { sdp, tracks } => MediaRequest::Offer {
            sdp: sdp
                .replace("a=rid:q send", "a=rid:q send max-height=180")
                .replace("a=rid:h send", "a=rid:h send max-height=360")
                .replace("a=rid:f send", "a=rid:f send max-height=720"),
            tracks,
        },
        other => other,
    };
    m.send(&a, offer);
    let offer = b.offer(&[(TrackKind::Audio, None)]);
    m.send(&b, offer);
    m.run_until(&mut [&mut a, &mut b], |c| {
        c.iter().all(|c| c.connected && c.pending.is_none()) && c[1].tracks.len() == 1
    })
    .await;
    // b draws a's camera large.
    m.send(
        &b,
        MediaRequest::SubscribeVideo {
            participant: a.id,
            kind: TrackKind::Camera,
            max_height: 1080,
        },
    );
    // a sends all three layers anyway (an old client); each frame's last byte names its layer.
    for n in 0..60u64 {
        for (rid, tag) in [("q", 1u8), ("h", 2), ("f", 3)] {
            let mut frame = h264_frame(n % 20 == 0, n as u8);
            frame.push(tag);
            a.write(TrackKind::Camera, Some(rid), n, &frame);
        }
        m.run_until(&mut [&mut a, &mut b], |_| true).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    m.run_until(&mut [&mut a, &mut b], |c| c[1].got.len() >= 20)
        .await;
    let tags: Vec<u8> = b.got.iter().map(|g| *g.data.last().unwrap()).collect();
    assert!(
        tags.iter().all(|&t| t == 2),
        "only h (360p) reaches b: {tags:?}"
    );
    assert!(
        a.signals.iter().all(|s| !matches!(
            s,
            ServerMessage::MediaLayers { active_rids, .. } if active_rids.contains(&"f".to_owned())
        )),
        "f is never asked for: {:?}",
        a.signals
    );
}

/// The frame numbers of the video `client` received, in order (see [`h264_frame`]).
fn video_numbers(client: &Client) -> Vec<u8> {
    client
        .got
        .iter()
        .filter(|g| !g.audio)
        .map(|g| g.data[g.data.len() - 1] & 0x7f)
        .collect()
}

/// Connects a (camera) and b, and lets the server's offer settle.
async fn connected_with_camera(m: &mut Meeting) -> (Client, Client) {
    let (mut a, mut b) = connect_two(m).await;
    m.run_until(&mut [&mut a, &mut b], |c| c[1].pending.is_none())
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    (a, b)
}

async fn write_video(m: &mut Meeting, a: &mut Client, b: &mut Client, n: u64, keyframe: bool) {
    a.write(TrackKind::Camera, None, n, &h264_frame(keyframe, n as u8));
    m.run_until(&mut [a, b], |_| true).await;
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[tokio::test]
async fn frames_released_together_after_a_late_packet_are_forwarded_in_order() {
    let mut m = Meeting::new().await;
    let (mut a, mut b) = connected_with_camera(&mut m).await;
    for n in 0..10 {
        write_video(&mut m, &mut a, &mut b, n, n == 0).await;
    }
    // Frame 10 overtaken by frame 11: the SFU holds 11 until 10 arrives, then hands both
    // out at once, and 10's packet arrived after 11's.
    a.held = Some(Vec::new());
    write_video(&mut m, &mut a, &mut b, 10, false).await;
    let held = a.held.take();
    write_video(&mut m, &mut a, &mut b, 11, false).await;
    tokio::time::sleep(Duration::from_millis(30)).await;
    a.held = held;
    a.release();
    for n in 12..20 {
        write_video(&mut m, &mut a, &mut b, n, false).await;
    }
    m.run_until(&mut [&mut a, &mut b], |c| {
        video_numbers(c[1]).last() == Some(&19)
    })
    .await;
    assert_eq!(
        video_numbers(&b),
        (0..20).collect::<Vec<u8>>(),
        "every frame, in the order it was sent"
    );
}

#[tokio::test]
async fn a_packet_lost_on_the_way_in_is_a_gap_the_subscriber_sees() {
    let mut m = Meeting::new().await;
    let (mut a, mut b) = connected_with_camera(&mut m).await;
    // No retransmission from a ever arrives: a lost packet stays lost.
    a.drop_pts = vec![H264_RTX_PT];
    for n in 0..10 {
        write_video(&mut m, &mut a, &mut b, n, n == 0).await;
    }
    a.drop_pts.push(H264_PT);
    write_video(&mut m, &mut a, &mut b, 10, false).await;
    a.drop_pts.retain(|&pt| pt != H264_PT);
    for n in 11..60 {
        write_video(&mut m, &mut a, &mut b, n, n == 40).await;
    }
    m.run_until(&mut [&mut a, &mut b], |c| {
        video_numbers(c[1]).last() == Some(&59)
    })
    .await;
    // The SFU forwards packets with their sequence numbers moved, not renumbered: the packet
    // it never got is missing for b too, so b knows frame 11 follows a gap (and a decoder
    // waits for a keyframe) instead of decoding it on a reference it does not have.
    let numbers = video_numbers(&b);
    assert!(
        !numbers.contains(&10),
        "frame 10 never arrived: {numbers:?}"
    );
    let video: Vec<&Got> = b.got.iter().filter(|g| !g.audio).collect();
    let after_gap = video
        .iter()
        .find(|g| g.data[g.data.len() - 1] & 0x7f > 10)
        .expect("frames after the gap");
    assert!(
        !after_gap.contiguous,
        "the first frame after the gap says so"
    );
    let keyframe = video
        .iter()
        .find(|g| g.data[g.data.len() - 1] & 0x7f == 40)
        .expect("the keyframe at 40");
    assert!(keyframe.keyframe);
    assert!(
        numbers.ends_with(&(40..60).collect::<Vec<u8>>()),
        "from the keyframe on, every frame: {numbers:?}"
    );
}

#[tokio::test]
async fn in_a_large_meeting_only_the_loudest_three_are_heard() {
    let mut m = Meeting::new().await;
    let mut clients = Vec::new();
    // Four speakers at different levels and a quiet listener: five publish audio.
    for (id, level) in [(1, -10), (2, -20), (3, -30), (4, -60), (5, -127)] {
        let mut c = Client::new(id).await;
        c.audio_level = level;
        let offer = c.offer(&[(TrackKind::Audio, None)]);
        m.send(&c, offer);
        clients.push(c);
    }
    let mut all: Vec<&mut Client> = clients.iter_mut().collect();
    m.run_until(&mut all, |c| {
        c.iter()
            .all(|c| c.connected && c.tracks.len() == 4 && c.pending.is_none())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    for n in 0..150u64 {
        if n == 100 {
            // The choice has settled (a second and a half of audio): count from here.
            for c in all.iter_mut() {
                c.got.clear();
            }
        }
        for c in all.iter_mut() {
            c.write(TrackKind::Audio, None, n, &[0xfc, 0xff, n as u8, 1, 2, 3]);
        }
        m.run_until(&mut all, |_| true).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    m.run_until(&mut all, |_| true).await;
    let (speakers, listener) = all.split_at(4);
    let listener = &listener[0];
    let heard: Vec<usize> = speakers
        .iter()
        .map(|s| {
            let mid = listener.mid_of(s, TrackKind::Audio).expect("announced");
            listener
                .got
                .iter()
                .filter(|g| g.audio && g.mid == mid)
                .count()
        })
        .collect();
    assert!(
        heard[..3].iter().all(|&n| n >= 30),
        "the three loudest are heard: {heard:?}"
    );
    assert_eq!(heard[3], 0, "the fourth is not forwarded: {heard:?}");
}
