//! The task that runs one live meeting: it feeds inputs to the [`MeetingMachine`] and carries
//! out what it asks — sending frames to connections and handing records to a writer task.
//!
//! Only this task touches the meeting's state, so there is no lock on the message path. The
//! database is written by a separate task per meeting, so a slow disk or a PostgreSQL round
//! trip never holds up the meeting; records of one meeting are written in order.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use samla_protocol::{ChatMessage, MeetingId, ParticipantId, ServerMessage};
use tokio::sync::{mpsc, Notify};

use super::machine::MeetingMachine;
use super::registry::MeetingRegistry;
use super::{ConnId, Input, MeetingConfig, Output, Record};
use crate::metrics::Metrics;
use crate::sfu::{self, Audience, MediaSignal, SfuHandle};
use crate::store::Store;

/// Frames queued for one connection before it counts as too slow and is dropped (it can resume).
pub const CONNECTION_QUEUE: usize = 512;

/// Seconds a meeting without anyone in it stays live before its actor stops.
const IDLE_TICKS_BEFORE_STOP: u32 = 30;

/// Inputs queued for one meeting.
const MEETING_QUEUE: usize = 1024;

/// What the meeting sends to a connection task.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// One encoded server message, shared by all its recipients.
    Frame(Arc<str>),
    /// The session is over: close the socket after the frames before this.
    Close,
    /// This meeting's actor was stopping when the join arrived: ask the registry again.
    Retry,
}

/// A connection as the actor holds it.
pub struct Attachment {
    pub tx: mpsc::Sender<Outbound>,
    /// Notified when the actor gives up on a connection that does not keep up.
    pub kick: Arc<Notify>,
}

pub enum ActorMsg {
    /// A connection joins or resumes (`input` is `Join` or `Resume`).
    Attach {
        conn: ConnId,
        attachment: Attachment,
        input: Input,
    },
    Input(Input),
    /// The organisation's admins changed its cap on video height: it applies at once.
    VideoCap(Option<u32>),
}

/// The way into a live meeting's actor.
#[derive(Clone)]
pub struct MeetingHandle {
    tx: mpsc::Sender<ActorMsg>,
    generation: u64,
    /// The organisation the meeting belongs to, whose settings it follows.
    org_id: String,
}

impl MeetingHandle {
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn org_id(&self) -> &str {
        &self.org_id
    }

    /// Hands a message to the meeting; gives it back if the actor has stopped.
    pub async fn send(&self, msg: ActorMsg) -> Result<(), ActorMsg> {
        self.tx.send(msg).await.map_err(|e| e.0)
    }
}

/// Starts a meeting's actor and its record writer. The registry lends the server-wide parts
/// (store, metrics, SFU) and is told when the meeting empties. `max_video_height` is the
/// organisation's cap on video, handed to clients and the SFU.
pub fn spawn(
    config: MeetingConfig,
    history: Vec<ChatMessage>,
    next_participant: u32,
    max_video_height: Option<u32>,
    org_id: String,
    generation: u64,
    registry: MeetingRegistry,
) -> MeetingHandle {
    let store = registry.store().clone();
    let metrics = registry.metrics().clone();
    let sfu = registry.sfu().cloned();
    let (tx, rx) = mpsc::channel(MEETING_QUEUE);
    let (media_tx, media_rx) = mpsc::channel(sfu::SIGNAL_QUEUE);
    let (store_tx, store_rx) = mpsc::unbounded_channel();
    tokio::spawn(write_records(
        config.id.clone(),
        store,
        store_rx,
        metrics.clone(),
    ));
    let actor = Actor {
        id: config.id.clone(),
        machine: MeetingMachine::new(config, history, next_participant, rand::random()),
        conns: HashMap::new(),
        store_tx,
        metrics,
        counted_participants: 0,
        counted_waiting: 0,
        out: Vec::new(),
        media: sfu.map(|sfu| Media {
            sfu,
            tx: media_tx,
            seated: HashMap::new(),
            max_video_height,
        }),
    };
    tokio::spawn(actor.run(rx, media_rx, registry, generation));
    MeetingHandle {
        tx,
        generation,
        org_id,
    }
}

struct Actor {
    id: MeetingId,
    machine: MeetingMachine,
    conns: HashMap<ConnId, Attachment>,
    store_tx: mpsc::UnboundedSender<Record>,
    metrics: Arc<Metrics>,
    /// What this meeting last added to the server-wide gauges.
    counted_participants: i64,
    counted_waiting: i64,
    /// Reused between inputs to keep the message path free of allocations.
    out: Vec<Output>,
    /// The way to the SFU, when the server runs one.
    media: Option<Media>,
}

/// The meeting's link to the SFU.
struct Media {
    sfu: SfuHandle,
    /// Given to the SFU with each request; the SFU answers this meeting through it.
    tx: mpsc::Sender<MediaSignal>,
    /// Who in the meeting is on which connection, for the SFU's messages. Learnt from the
    /// `joined` the machine sends (join and resume), forgotten when their media is gone or
    /// their connection closes.
    seated: HashMap<ParticipantId, ConnId>,
    /// The organisation's cap on video height (see [`ServerMessage::MediaConfig`]).
    max_video_height: Option<u32>,
}

impl Actor {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<ActorMsg>,
        mut media_rx: mpsc::Receiver<MediaSignal>,
        registry: MeetingRegistry,
        generation: u64,
    ) {
        Metrics::add(&self.metrics.meetings_live, 1);
        Metrics::inc(&self.metrics.meetings_started_total);
        tracing::info!(meeting = %self.id, "meeting started");
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut idle_ticks = 0;
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let empty = tokio::select! {
                msg = rx.recv() => match msg {
                    Some(msg) => self.on_message(msg),
                    None => break,
                },
                // `media_rx` never closes: the actor holds a sender.
                Some(signal) = media_rx.recv() => self.on_media_signal(signal),
                _ = tick.tick() => {
                    // A meeting whose first joins were all refused never empties (it never
                    // filled); it stops after a while without seats.
                    idle_ticks = if self.seats() == 0 { idle_ticks + 1 } else { 0 };
                    self.feed(Input::Tick) | (idle_ticks >= IDLE_TICKS_BEFORE_STOP)
                }
            };
            if empty {
                // Stop taking new work, then answer what was already queued: joins are told to
                // retry (they will start a fresh actor), everything else concerns seats that are gone.
                registry.forget(&self.id, generation);
                rx.close();
                while let Some(msg) = rx.recv().await {
                    if let ActorMsg::Attach { attachment, .. } = msg {
                        let _ = attachment.tx.try_send(Outbound::Retry);
                    }
                }
                break;
            }
        }
        self.update_gauges(0, 0);
        Metrics::add(&self.metrics.meetings_live, -1);
        tracing::info!(meeting = %self.id, "meeting closed");
    }

    /// Returns true when the meeting has emptied.
    fn on_message(&mut self, msg: ActorMsg) -> bool {
        match msg {
            ActorMsg::Attach {
                conn,
                attachment,
                input,
            } => {
                self.conns.insert(conn, attachment);
                self.feed(input)
            }
            ActorMsg::Input(input) => {
                if let Input::Disconnected { conn } = input {
                    self.conns.remove(&conn);
                    self.forget_conn(conn);
                }
                self.feed(input)
            }
            ActorMsg::VideoCap(max_video_height) => {
                let Some(media) = &mut self.media else {
                    return false;
                };
                if media.max_video_height == max_video_height {
                    return false;
                }
                media.max_video_height = max_video_height;
                media.sfu.set_video_cap(&self.id, max_video_height);
                // Clients lower (or raise) what they encode; the SFU already forwards no more.
                let to: Vec<ConnId> = media.seated.values().copied().collect();
                let config = ServerMessage::MediaConfig {
                    ice_servers: media.sfu.ice_servers(),
                    max_video_height,
                };
                let mut slow = Vec::new();
                self.send(&to, &config, &mut slow);
                self.drop_slow(slow)
            }
        }
    }

    /// Delivers a message of the SFU. Returns true when the meeting has emptied (a slow
    /// connection dropped on the way may have been the last).
    fn on_media_signal(&mut self, signal: MediaSignal) -> bool {
        let Some(media) = &self.media else {
            return false;
        };
        let to: Vec<ConnId> = match signal.to {
            Audience::One(p) => media.seated.get(&p).copied().into_iter().collect(),
            Audience::Everyone => media.seated.values().copied().collect(),
        };
        let mut slow = Vec::new();
        self.send(&to, &signal.msg, &mut slow);
        self.drop_slow(slow)
    }

    fn forget_conn(&mut self, conn: ConnId) {
        if let Some(media) = &mut self.media {
            media.seated.retain(|_, c| *c != conn);
        }
    }

    fn feed(&mut self, input: Input) -> bool {
        let mut out = std::mem::take(&mut self.out);
        self.machine.handle(now_ms(), input, &mut out);
        let mut empty = false;
        let mut slow = Vec::new();
        for output in out.drain(..) {
            match output {
                Output::Send { to, msg } => {
                    self.send(&to, &msg, &mut slow);
                    if let (ServerMessage::Joined { you, .. }, [conn], Some(media)) =
                        (&msg, to.as_slice(), &mut self.media)
                    {
                        // Right after `joined`: how to reach the SFU. After a resume, the SFU
                        // repeats what the old connection may have missed.
                        media.seated.insert(*you, *conn);
                        media.sfu.resync(&self.id, *you);
                        let config = ServerMessage::MediaConfig {
                            ice_servers: media.sfu.ice_servers(),
                            max_video_height: media.max_video_height,
                        };
                        self.send(&to, &config, &mut slow);
                    }
                }
                Output::Close { conn } => {
                    self.forget_conn(conn);
                    if let Some(att) = self.conns.remove(&conn) {
                        let _ = att.tx.try_send(Outbound::Close);
                    }
                }
                Output::Store(record) => {
                    if let Record::Chat(_) = record {
                        Metrics::inc(&self.metrics.chat_messages_total);
                    }
                    let _ = self.store_tx.send(record);
                }
                Output::Empty => empty = true,
                Output::Media {
                    participant,
                    request,
                } => match &self.media {
                    Some(media) => media.sfu.request(
                        &self.id,
                        participant,
                        request,
                        media.max_video_height,
                        &media.tx,
                    ),
                    None => {
                        tracing::debug!(meeting = %self.id, %participant, "no SFU; media request dropped")
                    }
                },
                Output::MediaGone { participant } => {
                    if let Some(media) = &mut self.media {
                        media.seated.remove(&participant);
                        media.sfu.gone(&self.id, participant);
                    }
                }
            }
        }
        self.out = out;
        self.update_gauges(
            self.machine.participant_count() as i64,
            self.machine.waiting_count() as i64,
        );
        empty | self.drop_slow(slow)
    }

    /// Connections that could not keep up are dropped; their seats wait for a resume.
    /// Returns true when the meeting has emptied.
    fn drop_slow(&mut self, slow: Vec<ConnId>) -> bool {
        let mut empty = false;
        for conn in slow {
            if let Some(att) = self.conns.remove(&conn) {
                tracing::warn!(meeting = %self.id, conn = conn.0, "connection too slow, dropping it");
                att.kick.notify_one();
                self.forget_conn(conn);
                empty |= self.feed(Input::Disconnected { conn });
            }
        }
        empty
    }

    fn send(&mut self, to: &[ConnId], msg: &ServerMessage, slow: &mut Vec<ConnId>) {
        if let ServerMessage::Error { code, message } = msg {
            Metrics::inc(&self.metrics.client_errors_total);
            for conn in to {
                // The audit trail of refused actions. `message` never holds secrets.
                tracing::info!(meeting = %self.id, conn = conn.0, role = ?self.machine.role_of(*conn), ?code, %message, "refused");
            }
        }
        if let ServerMessage::ParticipantJoined { .. } = msg {
            Metrics::inc(&self.metrics.joins_total);
        }
        let frame: Arc<str> = msg.encode().into();
        for conn in to {
            let Some(att) = self.conns.get(conn) else {
                continue;
            };
            match att.tx.try_send(Outbound::Frame(frame.clone())) {
                Ok(()) => Metrics::inc(&self.metrics.messages_sent_total),
                Err(mpsc::error::TrySendError::Full(_)) => slow.push(*conn),
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
    }

    fn seats(&self) -> usize {
        self.machine.participant_count() + self.machine.waiting_count()
    }

    fn update_gauges(&mut self, participants: i64, waiting: i64) {
        Metrics::add(
            &self.metrics.participants,
            participants - self.counted_participants,
        );
        Metrics::add(&self.metrics.waiting, waiting - self.counted_waiting);
        self.counted_participants = participants;
        self.counted_waiting = waiting;
    }
}

/// Writes one meeting's records in order, off the meeting's message path.
async fn write_records(
    id: MeetingId,
    store: Store,
    mut rx: mpsc::UnboundedReceiver<Record>,
    metrics: Arc<Metrics>,
) {
    while let Some(record) = rx.recv().await {
        let result = match &record {
            Record::Chat(msg) => store.insert_chat(&id, msg).await,
            Record::Attendance(rec) => store.insert_attendance(&id, rec).await,
        };
        if let Err(err) = result {
            Metrics::inc(&metrics.server_errors_total);
            tracing::error!(meeting = %id, %err, "could not store a meeting record");
        }
    }
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
