//! Media between two engine sessions through a minimal in-process SFU built on str0m (the
//! real SFU in samla-server was not ready when this was written). The fake SFU speaks the
//! protocol's media messages: it answers each client's offer, tells everyone which mid
//! carries whom (`media_tracks`) before offering them the others' tracks, forwards only the
//! `h` simulcast layer (and says so with `media_layers`), and passes keyframe requests on.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use samla_engine::media::{AudioInput, MediaOptions, MediaSession, ParticipantStats, VideoSpec};
use samla_engine::Event;
use samla_media::Tone;
use samla_protocol::{
    ChatPolicy, ClientMessage, MeetingState, ParticipantId, ParticipantInfo, RemoteTrack, Role,
    ServerMessage, SharePolicy, TrackKind,
};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::media::{Direction, KeyframeRequestKind, MediaKind, Mid, Rid};
use str0m::net::{DatagramRecv, Protocol, Receive};
use str0m::{Candidate, Event as RtcEvent, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// The simulcast layer the fake SFU forwards.
const FORWARDED_RID: &str = "h";

enum Inbox {
    Datagram(usize, Vec<u8>, SocketAddr),
    Signal(usize, ClientMessage),
}

struct Client {
    id: ParticipantId,
    rtc: Rtc,
    socket: Arc<UdpSocket>,
    local: SocketAddr,
    events: mpsc::UnboundedSender<Event>,
    /// Mid of each track this client publishes, by kind.
    published: HashMap<TrackKind, Mid>,
    /// Tracks we send this client: out mid → (source participant, kind).
    out: Vec<(Mid, ParticipantId, TrackKind)>,
    /// Others' tracks still to be offered to this client.
    to_add: Vec<(ParticipantId, TrackKind)>,
    pending: Option<SdpPendingOffer>,
    next_timeout: Instant,
}

impl Client {
    fn new_rtc(local: SocketAddr) -> Rtc {
        let mut rtc = Rtc::builder()
            .set_ice_lite(true)
            .clear_codecs()
            .enable_h264(true)
            .enable_opus(true, false)
            .build(Instant::now());
        rtc.add_local_candidate(Candidate::host(local, "udp").unwrap());
        rtc
    }

    fn send(&self, msg: ServerMessage) {
        let _ = self.events.send(Event::Server(msg));
    }
}

/// Frames the SFU received per rid (to check that unwatched layers stop).
type RidCounts = Arc<Mutex<HashMap<String, u64>>>;

/// Video keyframe requests the SFU passed on to publishers, and those str0m refused.
#[derive(Debug, Default, Clone, Copy)]
struct KeyframeCounts {
    sent: u64,
    refused: u64,
}

type SharedKeyframeCounts = Arc<Mutex<KeyframeCounts>>;

struct FakeSfu {
    clients: Vec<Client>,
    rid_counts: RidCounts,
    keyframe_counts: SharedKeyframeCounts,
    /// The rid of each publisher's video that is forwarded (`None`: not simulcast), once seen.
    forwarded_rid: HashMap<(ParticipantId, TrackKind), Option<Rid>>,
    /// Drop every `n`th datagram the SFU sends to client `idx` once connected: (idx, n).
    loss: Option<(usize, u64)>,
    sent: u64,
    /// Set by a test to punch a hole into the lossy client's video (see [`VideoHole`]).
    make_hole: Arc<AtomicBool>,
    hole: Option<VideoHole>,
}

/// A hole in the video to the lossy client that retransmission cannot fill: the next
/// [`HOLE_PACKETS`] video packets are dropped, and so is every retransmission until `rtx_until`
/// (long past str0m's last NACK), so the receiver gives up on them and needs a keyframe.
/// Random loss alone is not enough: NACK repairs most of it, and which datagrams carry video
/// varies from run to run.
#[derive(Debug)]
struct VideoHole {
    media_left: u32,
    rtx_until: Instant,
}

const HOLE_PACKETS: u32 = 5;
const HOLE_RTX_BLOCKED: Duration = Duration::from_secs(2);

/// The payload type of an RTP datagram (SRTP leaves the header in the clear), or `None` for
/// RTCP and anything that is not RTP.
fn rtp_payload_type(datagram: &[u8]) -> Option<u8> {
    let (&first, &second) = (datagram.first()?, datagram.get(1)?);
    // Version 2; RTCP packet types 192..=223 share the second byte's range with marker + PT.
    let rtp = first & 0xc0 == 0x80 && !(192..=223).contains(&second) && datagram.len() >= 12;
    rtp.then_some(second & 0x7f)
}

impl FakeSfu {
    fn handle_signal(&mut self, idx: usize, msg: ClientMessage) {
        match msg {
            ClientMessage::MediaOffer { sdp, tracks } => {
                let offer = SdpOffer::from_sdp_string(&sdp).unwrap();
                let c = &mut self.clients[idx];
                if !c.published.is_empty() {
                    // A fresh offer after a resume: a new peer connection replaces the old.
                    c.rtc = Client::new_rtc(c.local);
                    c.pending = None;
                    c.to_add.extend(c.out.drain(..).map(|(_, p, k)| (p, k)));
                    c.published.clear();
                }
                let answer = c.rtc.sdp_api().accept_offer(offer).unwrap();
                c.send(ServerMessage::MediaAnswer {
                    sdp: answer.to_sdp_string(),
                });
                for t in &tracks {
                    c.published.insert(t.kind, Mid::from(t.mid.as_str()));
                }
                if c.published.contains_key(&TrackKind::Camera) {
                    c.send(ServerMessage::MediaLayers {
                        kind: TrackKind::Camera,
                        active_rids: vec![FORWARDED_RID.into()],
                    });
                }
                let me = c.id;
                let mine: Vec<TrackKind> = c.published.keys().copied().collect();
                let others: Vec<(ParticipantId, TrackKind)> = self
                    .clients
                    .iter()
                    .filter(|o| o.id != me)
                    .flat_map(|o| o.published.keys().map(move |k| (o.id, *k)))
                    .collect();
                for o in self.clients.iter_mut() {
                    if o.id != me && !o.published.is_empty() {
                        for k in &mine {
                            if !o.out.iter().any(|(_, p, kk)| *p == me && kk == k) {
                                o.to_add.push((me, *k));
                            }
                        }
                    }
                }
                let c = &mut self.clients[idx];
                for t in others {
                    if !c.to_add.contains(&t) && !c.out.iter().any(|(_, p, k)| (*p, *k) == t) {
                        c.to_add.push(t);
                    }
                }
            }
            ClientMessage::MediaAnswer { sdp } => {
                let answer = SdpAnswer::from_sdp_string(&sdp).unwrap();
                let c = &mut self.clients[idx];
                if let Some(pending) = c.pending.take() {
                    c.rtc.sdp_api().accept_answer(pending, answer).unwrap();
                }
                // New viewers need a keyframe from every publisher.
                let sources: Vec<_> = c.out.iter().map(|(_, p, k)| (*p, *k)).collect();
                for (p, k) in sources {
                    self.request_keyframe(p, k);
                }
            }
            other => panic!("unexpected client message {other:?}"),
        }
    }

    /// Offers pending tracks to clients with no negotiation under way.
    fn negotiate(&mut self) {
        for c in &mut self.clients {
            if c.pending.is_some() || c.to_add.is_empty() || c.published.is_empty() {
                continue;
            }
            let mut api = c.rtc.sdp_api();
            for (p, kind) in c.to_add.drain(..) {
                let media = if kind == TrackKind::Audio {
                    MediaKind::Audio
                } else {
                    MediaKind::Video
                };
                let mid = api.add_media(media, Direction::SendOnly, None, None, None);
                c.out.push((mid, p, kind));
            }
            let (offer, pending) = api.apply().unwrap();
            c.pending = Some(pending);
            let tracks = c
                .out
                .iter()
                .map(|(mid, p, kind)| RemoteTrack {
                    mid: mid.to_string(),
                    participant: *p,
                    kind: *kind,
                })
                .collect();
            c.send(ServerMessage::MediaTracks { tracks });
            c.send(ServerMessage::MediaOffer {
                sdp: offer.to_sdp_string(),
            });
        }
    }

    fn request_keyframe(&mut self, source: ParticipantId, kind: TrackKind) {
        let Some(c) = self.clients.iter_mut().find(|c| c.id == source) else {
            return;
        };
        let Some(mid) = c.published.get(&kind).copied() else {
            return;
        };
        // Ask for the layer that is forwarded: a publisher that does not simulcast has no
        // `h` rid (str0m refuses a request for it). Before its first frame, try both.
        let rids = match self.forwarded_rid.get(&(source, kind)) {
            Some(rid) => vec![*rid],
            None if kind == TrackKind::Camera => vec![Some(Rid::from(FORWARDED_RID)), None],
            None => vec![None],
        };
        let Some(mut w) = c.rtc.writer(mid) else {
            return;
        };
        let sent = rids
            .into_iter()
            .any(|rid| w.request_keyframe(rid, KeyframeRequestKind::Pli).is_ok());
        if kind != TrackKind::Audio {
            let mut counts = self.keyframe_counts.lock().unwrap();
            if sent {
                counts.sent += 1;
            } else {
                counts.refused += 1;
            }
        }
    }

    fn drive(&mut self) {
        let mut forwards = Vec::new();
        let mut keyframes = Vec::new();
        for (idx, c) in self.clients.iter_mut().enumerate() {
            loop {
                match c.rtc.poll_output() {
                    Ok(Output::Timeout(t)) => {
                        c.next_timeout = t;
                        break;
                    }
                    Ok(Output::Transmit(t)) => {
                        if let Some((lossy, every)) = self.loss {
                            if lossy == idx && c.rtc.is_connected() {
                                if self.make_hole.swap(false, Ordering::Relaxed) {
                                    self.hole = Some(VideoHole {
                                        media_left: HOLE_PACKETS,
                                        rtx_until: Instant::now() + HOLE_RTX_BLOCKED,
                                    });
                                }
                                if let (Some(hole), Some(pt)) =
                                    (&mut self.hole, rtp_payload_type(&t.contents))
                                {
                                    let (media, rtx) = video_pts(&mut c.rtc, &c.out);
                                    if media.contains(&pt) && hole.media_left > 0 {
                                        hole.media_left -= 1;
                                        continue;
                                    }
                                    if rtx.contains(&pt) && Instant::now() < hole.rtx_until {
                                        continue;
                                    }
                                }
                                self.sent += 1;
                                if self.sent.is_multiple_of(every) {
                                    continue;
                                }
                            }
                        }
                        let _ = c.socket.try_send_to(&t.contents, t.destination);
                    }
                    Ok(Output::Event(RtcEvent::MediaData(data))) => {
                        let Some(kind) = c
                            .published
                            .iter()
                            .find(|(_, m)| **m == data.mid)
                            .map(|(k, _)| *k)
                        else {
                            continue;
                        };
                        if let Some(rid) = data.rid {
                            *self
                                .rid_counts
                                .lock()
                                .unwrap()
                                .entry(rid.to_string())
                                .or_default() += 1;
                            if &*rid != FORWARDED_RID {
                                continue;
                            }
                        }
                        self.forwarded_rid.insert((c.id, kind), data.rid);
                        forwards.push((c.id, kind, data));
                    }
                    Ok(Output::Event(RtcEvent::KeyframeRequest(req))) => {
                        if let Some((_, p, k)) = c.out.iter().find(|(m, _, _)| *m == req.mid) {
                            keyframes.push((*p, *k));
                        }
                    }
                    Ok(Output::Event(_)) => {}
                    Err(e) => panic!("fake SFU rtc failed: {e}"),
                }
            }
        }
        for (p, k) in keyframes {
            self.request_keyframe(p, k);
        }
        let any = !forwards.is_empty();
        for (source, kind, data) in forwards {
            for c in &mut self.clients {
                let Some((mid, _, _)) = c.out.iter().find(|(_, p, k)| *p == source && *k == kind)
                else {
                    continue;
                };
                let Some(w) = c.rtc.writer(*mid) else {
                    continue;
                };
                let Some(pt) = w.match_params(data.params) else {
                    continue;
                };
                // Now, not `data.network_time`: str0m queues writes by wallclock, and a burst
                // of frames released after a retransmission has arrival times out of order.
                let _ = w.write(pt, Instant::now(), data.time, data.data.clone());
            }
        }
        if any {
            // Writing queued output; send it now.
            self.drive();
        }
    }

    async fn run(mut self, mut inbox: mpsc::UnboundedReceiver<Inbox>) {
        loop {
            self.negotiate();
            self.drive();
            let next = self
                .clients
                .iter()
                .map(|c| c.next_timeout)
                .min()
                .unwrap_or_else(|| Instant::now() + Duration::from_millis(100));
            tokio::select! {
                msg = inbox.recv() => match msg {
                    None => return,
                    Some(Inbox::Signal(idx, msg)) => self.handle_signal(idx, msg),
                    Some(Inbox::Datagram(idx, buf, source)) => {
                        let c = &mut self.clients[idx];
                        let Ok(contents) = DatagramRecv::try_from(buf.as_slice()) else { continue };
                        let input = Input::Receive(Instant::now(), Receive {
                            proto: Protocol::Udp, source, destination: c.local, contents,
                        });
                        let _ = c.rtc.handle_input(input);
                    }
                },
                _ = tokio::time::sleep_until(tokio::time::Instant::from_std(next)) => {
                    let now = Instant::now();
                    for c in &mut self.clients {
                        let _ = c.rtc.handle_input(Input::Timeout(now));
                    }
                }
            }
        }
    }
}

/// The payload types of video (and of its retransmissions) on the tracks sent to a client.
fn video_pts(rtc: &mut Rtc, out: &[(Mid, ParticipantId, TrackKind)]) -> (Vec<u8>, Vec<u8>) {
    let (mut media, mut rtx) = (Vec::new(), Vec::new());
    for (mid, _, kind) in out {
        if *kind == TrackKind::Audio {
            continue;
        }
        let Some(w) = rtc.writer(*mid) else { continue };
        for p in w.payload_params() {
            media.push(*p.pt());
            rtx.extend(p.resend().map(|r| *r));
        }
    }
    (media, rtx)
}

fn joined(you: u32, everyone: &[(u32, &str)]) -> Event {
    Event::Server(ServerMessage::Joined {
        you: ParticipantId(you),
        role: Role::Participant,
        resume_token: "t".into(),
        meeting: MeetingState {
            id: "123456789".parse().unwrap(),
            topic: "media".into(),
            locked: false,
            waiting_room: false,
            chat_policy: ChatPolicy::Everyone,
            share_policy: SharePolicy::Everyone,
            mute_on_entry: false,
            self_unmute: true,
            spotlight: None,
        },
        participants: everyone
            .iter()
            .map(|(id, name)| ParticipantInfo {
                id: ParticipantId(*id),
                name: (*name).into(),
                role: Role::Participant,
                audio_muted: false,
                video_on: true,
                hand_raised: false,
                connected: true,
                signed_in: false,
                may_unmute: true,
                feedback: None,
            })
            .collect(),
        waiting: vec![],
        chat: vec![],
    })
}

/// Starts the fake SFU with one socket per client and returns each client's event sender
/// (to feed its MediaSession) and signal sender (to give the MediaSession).
async fn start_sfu(
    ids: &[u32],
    loss: Option<(usize, u64)>,
) -> (
    Vec<(
        mpsc::UnboundedReceiver<Event>,
        mpsc::UnboundedSender<ClientMessage>,
    )>,
    RidCounts,
    SharedKeyframeCounts,
    Arc<AtomicBool>,
) {
    let (inbox_tx, inbox_rx) = mpsc::unbounded_channel();
    let mut clients = Vec::new();
    let mut ends = Vec::new();
    for (idx, id) in ids.iter().enumerate() {
        let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let local = socket.local_addr().unwrap();
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (signal_tx, mut signal_rx) = mpsc::unbounded_channel::<ClientMessage>();
        let tx = inbox_tx.clone();
        tokio::spawn(async move {
            while let Some(msg) = signal_rx.recv().await {
                if tx.send(Inbox::Signal(idx, msg)).is_err() {
                    return;
                }
            }
        });
        let (tx, sock) = (inbox_tx.clone(), socket.clone());
        tokio::spawn(async move {
            let mut buf = vec![0u8; 2000];
            while let Ok((n, source)) = sock.recv_from(&mut buf).await {
                if tx
                    .send(Inbox::Datagram(idx, buf[..n].to_vec(), source))
                    .is_err()
                {
                    return;
                }
            }
        });
        clients.push(Client {
            id: ParticipantId(*id),
            rtc: Client::new_rtc(local),
            socket,
            local,
            events: events_tx,
            published: HashMap::new(),
            out: Vec::new(),
            to_add: Vec::new(),
            pending: None,
            next_timeout: Instant::now(),
        });
        ends.push((events_rx, signal_tx));
    }
    let rid_counts = RidCounts::default();
    let keyframe_counts = SharedKeyframeCounts::default();
    let make_hole = Arc::new(AtomicBool::new(false));
    let sfu = FakeSfu {
        clients,
        rid_counts: rid_counts.clone(),
        keyframe_counts: keyframe_counts.clone(),
        forwarded_rid: HashMap::new(),
        loss,
        sent: 0,
        make_hole: make_hole.clone(),
        hole: None,
    };
    tokio::spawn(sfu.run(inbox_rx));
    (ends, rid_counts, keyframe_counts, make_hole)
}

/// One engine participant wired to the fake SFU.
struct Participant {
    media: Arc<MediaSession>,
    events: mpsc::UnboundedSender<Event>,
}

fn participant(
    you: u32,
    video: &str,
    everyone: &[(u32, &str)],
    from_sfu: mpsc::UnboundedReceiver<Event>,
    to_sfu: mpsc::UnboundedSender<ClientMessage>,
) -> Participant {
    let opts = MediaOptions {
        video: Some(video.parse::<VideoSpec>().unwrap()),
        audio: Some(AudioInput::Synthetic),
        ..MediaOptions::new("127.0.0.1")
    };
    participant_with(you, opts, everyone, from_sfu, to_sfu)
}

fn participant_with(
    you: u32,
    opts: MediaOptions,
    everyone: &[(u32, &str)],
    mut from_sfu: mpsc::UnboundedReceiver<Event>,
    to_sfu: mpsc::UnboundedSender<ClientMessage>,
) -> Participant {
    let media = Arc::new(MediaSession::start(to_sfu, opts));
    // Both the SFU's messages and our scripted session events reach the media session.
    let (events_tx, mut events_rx) = mpsc::unbounded_channel::<Event>();
    let m = media.clone();
    tokio::spawn(async move {
        loop {
            let event = tokio::select! {
                Some(e) = from_sfu.recv() => e,
                Some(e) = events_rx.recv() => e,
                else => return,
            };
            m.on_event(&event);
        }
    });
    events_tx.send(joined(you, everyone)).unwrap();
    events_tx
        .send(Event::Server(ServerMessage::MediaConfig {
            ice_servers: vec![],
            max_video_height: None,
        }))
        .unwrap();
    Participant {
        media,
        events: events_tx,
    }
}

/// Waits until `check` holds for the stats `viewer` has of `sender`, or fails with them.
async fn wait_for(
    viewer: &Participant,
    sender: u32,
    within: Duration,
    what: &str,
    check: impl Fn(&ParticipantStats) -> bool,
) -> ParticipantStats {
    let deadline = Instant::now() + within;
    loop {
        let stats = viewer.media.stats();
        if let Some(s) = stats.get(&ParticipantId(sender)) {
            if check(s) {
                return s.clone();
            }
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not within {within:?}; stats: {stats:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn sees_and_hears(s: &ParticipantStats, sender: u32) -> bool {
    let tone = Tone::sender_frequency(sender);
    s.frames_verified >= 30
        && s.audio_frames_decoded >= 50
        && s.audio_frequency_hz
            .is_some_and(|f| (f - tone).abs() < 15.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_participants_see_and_hear_each_other_through_an_sfu() {
    let everyone = [(1, "Ada"), (2, "Bo")];
    let (mut ends, rid_counts, _, _) = start_sfu(&[1, 2], None).await;
    let (b_from, b_to) = ends.pop().unwrap();
    let (a_from, a_to) = ends.pop().unwrap();
    // Ada sends three simulcast layers, Bo (below 360p) one.
    let a = participant(1, "synthetic:640x360@15", &everyone, a_from, a_to);
    let b = participant(2, "synthetic:320x180@15", &everyone, b_from, b_to);

    let within = Duration::from_secs(20);
    let ab = wait_for(&a, 2, within, "Ada sees and hears Bo", |s| {
        sees_and_hears(s, 2)
    })
    .await;
    let ba = wait_for(&b, 1, within, "Bo sees and hears Ada", |s| {
        sees_and_hears(s, 1)
    })
    .await;
    for (who, s) in [("Ada of Bo", &ab), ("Bo of Ada", &ba)] {
        eprintln!("{who}: {}", serde_json::to_string(s).unwrap());
        assert_eq!(s.frames_corrupt, 0, "{who}: {s:?}");
        assert!(
            s.latency_ms_p95.is_some_and(|ms| ms < 500.0),
            "{who}: {s:?}"
        );
    }
    assert_eq!(ab.name, "Bo");
    assert_eq!(a.media.unmapped_packets(), 0);

    // Only the watched layer is encoded once `media_layers` arrived.
    let before = rid_counts.lock().unwrap().clone();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rid_counts.lock().unwrap().clone();
    let grew = |rid: &str| after.get(rid).unwrap_or(&0) - before.get(rid).unwrap_or(&0);
    assert!(grew("h") >= 20, "h layer: {before:?} → {after:?}");
    assert_eq!(
        grew("q") + grew("f"),
        0,
        "unwatched layers: {before:?} → {after:?}"
    );

    // A signalling resume makes Ada start a new peer connection; media recovers.
    let frames_before = b.media.stats()[&ParticipantId(1)].frames_verified;
    a.events.send(Event::Reconnecting { attempt: 1 }).unwrap();
    a.events.send(joined(1, &everyone)).unwrap();
    a.events.send(Event::Resumed).unwrap();
    wait_for(&b, 1, within, "Bo sees Ada again after her resume", |s| {
        s.frames_verified > frames_before + 30
    })
    .await;
    let resumed = wait_for(&a, 2, within, "Ada sees Bo again after her resume", |s| {
        s.frames_verified > ab.frames_verified + 30
    })
    .await;
    eprintln!(
        "Ada of Bo after resume: {}",
        serde_json::to_string(&resumed).unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_survives_ten_percent_loss_towards_one_participant() {
    let everyone = [(1, "Ada"), (2, "Bo")];
    // Every 10th datagram from the SFU to Ada is lost.
    let (mut ends, _, keyframe_counts, make_hole) = start_sfu(&[1, 2], Some((0, 10))).await;
    let (b_from, b_to) = ends.pop().unwrap();
    let (a_from, a_to) = ends.pop().unwrap();
    let a = participant(1, "synthetic:320x180@15", &everyone, a_from, a_to);
    let _b = participant(2, "synthetic:320x180@15", &everyone, b_from, b_to);
    let s = wait_for(
        &a,
        2,
        Duration::from_secs(20),
        "Ada sees and hears Bo through loss",
        |s| sees_and_hears(s, 2) && s.packets_lost > 0 && s.audio_frames_concealed > 0,
    )
    .await;
    eprintln!(
        "Ada of Bo at 10% loss: {}",
        serde_json::to_string(&s).unwrap()
    );
    // NACK repairs most of that loss. Now video packets are lost for good: the picture
    // breaks, Ada drops what cannot be decoded, asks for a keyframe until one arrives
    // complete, and Bo's video plays again.
    make_hole.store(true, Ordering::Relaxed);
    let hit = wait_for(
        &a,
        2,
        Duration::from_secs(20),
        "video packets to Ada are lost for good",
        |s| s.frames_awaiting_keyframe > 0 || s.decode_errors > 0,
    )
    .await;
    let recovered = wait_for(
        &a,
        2,
        Duration::from_secs(20),
        "Ada's video of Bo recovers",
        |s| {
            s.keyframes_received > hit.keyframes_received
                && s.frames_verified >= hit.frames_verified + 30
        },
    )
    .await;
    let counts = *keyframe_counts.lock().unwrap();
    eprintln!(
        "Ada of Bo after video loss: {}; SFU keyframe requests: {counts:?}",
        serde_json::to_string(&recovered).unwrap()
    );
    for st in [&s, &recovered] {
        assert_eq!(st.frames_corrupt, 0, "{st:?}");
    }
    assert!(recovered.keyframe_requests > 0, "{recovered:?}");
    assert!(counts.sent > 0, "{counts:?}");
    assert_eq!(counts.refused, 0, "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_who_chooses_low_quality_sends_only_the_lowest_layer() {
    let everyone = [(1, "Ada"), (2, "Bo")];
    let (mut ends, rid_counts, _, _) = start_sfu(&[1, 2], None).await;
    let (b_from, b_to) = ends.pop().unwrap();
    let (a_from, a_to) = ends.pop().unwrap();
    // Ada could send three layers (360p) and the SFU watches `h`, but she chose low quality.
    let opts = MediaOptions {
        video: Some("synthetic:640x360@15".parse::<VideoSpec>().unwrap()),
        audio: Some(AudioInput::Synthetic),
        low_quality: true,
        ..MediaOptions::new("127.0.0.1")
    };
    let a = participant_with(1, opts, &everyone, a_from, a_to);
    let _b = participant(2, "synthetic:320x180@15", &everyone, b_from, b_to);
    wait_for(&a, 2, Duration::from_secs(20), "Ada sees Bo", |s| {
        s.frames_verified >= 30
    })
    .await;
    let before = rid_counts.lock().unwrap().clone();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rid_counts.lock().unwrap().clone();
    let grew = |rid: &str| after.get(rid).unwrap_or(&0) - before.get(rid).unwrap_or(&0);
    assert!(
        grew("q") >= 20,
        "the lowest layer is sent: {before:?} → {after:?}"
    );
    assert_eq!(
        grew("h") + grew("f"),
        0,
        "nothing above it: {before:?} → {after:?}"
    );
}
