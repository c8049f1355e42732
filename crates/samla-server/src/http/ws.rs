//! The signalling WebSocket: one task per connection that decodes frames, does the checks
//! that need the database or the CPU (meeting lookup, passcode, token), and then carries
//! messages between the socket and the meeting's actor. The rules live in the actor's
//! machine; this file only carries bytes.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use samla_protocol::{
    ClientMessage, ErrorCode, MeetingId, ServerMessage, MAX_MESSAGE_BYTES, PROTOCOL_VERSION,
};
use tokio::sync::{mpsc, Notify};

use crate::meeting::actor::{
    now_ms, ActorMsg, Attachment, MeetingHandle, Outbound, CONNECTION_QUEUE,
};
use crate::meeting::{ConnId, Input, Member};
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::store::MeetingRecord;

/// Frames above [`MAX_MESSAGE_BYTES`] but below this get an error reply; above it the
/// WebSocket layer closes the connection (1009, message too big).
const SOCKET_LIMIT: usize = 4 * MAX_MESSAGE_BYTES;

/// How often a join that raced with a stopping meeting is retried.
const JOIN_RETRIES: usize = 3;

pub async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.max_message_size(SOCKET_LIMIT)
        .max_frame_size(SOCKET_LIMIT)
        .on_upgrade(move |socket| Connection::new(state, addr.ip()).run(socket))
}

enum Phase {
    /// Nothing but `hello` yet.
    Greeting,
    /// Said hello; may join or resume.
    Lobby,
    /// Handed to a meeting's actor; every frame goes there.
    Attached(MeetingHandle),
}

struct Connection {
    state: AppState,
    addr: IpAddr,
    conn: ConnId,
    phase: Phase,
    tx: mpsc::Sender<Outbound>,
    rx: mpsc::Receiver<Outbound>,
    kick: Arc<Notify>,
    /// The last hand-over to an actor, kept in case that actor was stopping and asks for a retry.
    last_attach: Option<PendingAttach>,
}

enum PendingAttach {
    Join(Box<(MeetingRecord, Input)>),
    Resume,
}

/// What the socket loop does after a frame.
enum Next {
    Continue,
    Close,
}

impl Connection {
    fn new(state: AppState, addr: IpAddr) -> Self {
        let conn = state.meetings.next_conn_id();
        let (tx, rx) = mpsc::channel(CONNECTION_QUEUE);
        Self {
            state,
            addr,
            conn,
            phase: Phase::Greeting,
            tx,
            rx,
            kick: Arc::new(Notify::new()),
            last_attach: None,
        }
    }

    async fn run(mut self, socket: WebSocket) {
        Metrics::add(&self.state.metrics.connections, 1);
        let (mut sink, mut stream) = socket.split();
        let kick = self.kick.clone();
        loop {
            tokio::select! {
                frame = stream.next() => {
                    let next = match frame {
                        Some(Ok(Message::Text(text))) => self.on_text(&text).await,
                        Some(Ok(Message::Binary(_))) => {
                            self.reply(ServerMessage::error(ErrorCode::Malformed, "signalling frames are JSON text"));
                            Next::Continue
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Next::Continue,
                        Some(Ok(Message::Close(_))) | None => break,
                        Some(Err(err)) => {
                            tracing::debug!(conn = self.conn.0, %err, "socket error");
                            break;
                        }
                    };
                    if let Next::Close = next {
                        // Say why before closing: send what is queued (the error reply).
                        while let Ok(Outbound::Frame(text)) = self.rx.try_recv() {
                            let _ = sink.send(Message::Text(Utf8Bytes::from(&*text))).await;
                        }
                        let _ = sink.send(close_frame()).await;
                        break;
                    }
                }
                out = self.rx.recv() => match out {
                    Some(Outbound::Frame(text)) => {
                        if sink.send(Message::Text(Utf8Bytes::from(&*text))).await.is_err() {
                            break;
                        }
                    }
                    Some(Outbound::Close) => {
                        let _ = sink.send(close_frame()).await;
                        break;
                    }
                    Some(Outbound::Retry) => self.retry_attach().await,
                    None => break,
                },
                _ = kick.notified() => break,
            }
        }
        if let Phase::Attached(handle) = &self.phase {
            let _ = handle
                .send(ActorMsg::Input(Input::Disconnected { conn: self.conn }))
                .await;
        }
        Metrics::add(&self.state.metrics.connections, -1);
    }

    async fn on_text(&mut self, text: &str) -> Next {
        Metrics::inc(&self.state.metrics.messages_received_total);
        let msg = match ClientMessage::decode(text) {
            Ok(msg) => msg,
            Err(err) => {
                self.reply(ServerMessage::error(err.code(), err.to_string()));
                return Next::Continue;
            }
        };
        match (&self.phase, msg) {
            (Phase::Greeting, ClientMessage::Hello { version, .. }) => {
                if version != PROTOCOL_VERSION {
                    self.reply(ServerMessage::error(
                        ErrorCode::UnsupportedVersion,
                        format!(
                            "this server speaks protocol version {PROTOCOL_VERSION}, not {version}"
                        ),
                    ));
                    return Next::Close;
                }
                self.phase = Phase::Lobby;
                self.reply(ServerMessage::Welcome {
                    version: PROTOCOL_VERSION,
                    server: concat!("samla-server/", env!("CARGO_PKG_VERSION")).into(),
                });
            }
            (Phase::Greeting, _) => {
                self.reply(ServerMessage::error(
                    ErrorCode::OutOfOrder,
                    "say hello first",
                ));
            }
            (
                Phase::Lobby,
                ClientMessage::Join {
                    meeting_id,
                    display_name,
                    passcode,
                    token,
                    client_id,
                },
            ) => {
                self.join(meeting_id, display_name, passcode, token, client_id)
                    .await;
            }
            (
                Phase::Lobby,
                ClientMessage::Resume {
                    meeting_id,
                    resume_token,
                },
            ) => {
                self.resume(meeting_id, resume_token).await;
            }
            (Phase::Lobby, _) => {
                self.reply(ServerMessage::error(
                    ErrorCode::OutOfOrder,
                    "join a meeting first",
                ));
            }
            (Phase::Attached(handle), msg) => {
                let input = Input::Message {
                    conn: self.conn,
                    msg,
                };
                if handle.send(ActorMsg::Input(input)).await.is_err() {
                    return Next::Close;
                }
            }
        }
        Next::Continue
    }

    /// Checks what needs the database and the CPU, then hands the join to the meeting.
    async fn join(
        &mut self,
        meeting_id: MeetingId,
        display_name: String,
        passcode: Option<String>,
        token: Option<String>,
        client_id: Option<String>,
    ) {
        let record = match self.state.store.meeting(&meeting_id).await {
            Ok(Some(record)) => record,
            Ok(None) => {
                return self.reply(ServerMessage::error(
                    ErrorCode::MeetingNotFound,
                    "no meeting with that id",
                ))
            }
            Err(err) => return self.internal_error(err),
        };
        if let Some(hash) = &record.passcode_hash {
            let Some(given) = passcode else {
                return self.reply(ServerMessage::error(
                    ErrorCode::PasscodeRequired,
                    "this meeting has a passcode",
                ));
            };
            let now = now_ms();
            if let Err(secs) =
                self.state
                    .meetings
                    .passcode_guess_allowed(now, &meeting_id, self.addr)
            {
                return self.reply(ServerMessage::error(
                    ErrorCode::TooManyAttempts,
                    format!("too many wrong passcodes; try again in {secs} s"),
                ));
            }
            // Argon2 takes tens of milliseconds: off the async workers.
            let hash = hash.clone();
            let ok =
                tokio::task::spawn_blocking(move || crate::auth::passcode::verify(&hash, &given))
                    .await
                    .unwrap_or(false);
            self.state
                .meetings
                .passcode_guess_result(now, &meeting_id, self.addr, ok);
            if !ok {
                tracing::info!(meeting = %meeting_id, addr = %self.addr, "wrong passcode");
                Metrics::inc(&self.state.metrics.client_errors_total);
                return self.reply(ServerMessage::error(
                    ErrorCode::WrongPasscode,
                    "wrong passcode",
                ));
            }
        }
        let member = match token {
            None => None,
            Some(token) => match self.state.store.user_by_token(&token).await {
                Ok(Some(user)) if user.org_id == record.org_id => Some(Member { user_id: user.id }),
                Ok(_) => {
                    return self.reply(ServerMessage::error(
                        ErrorCode::InvalidToken,
                        "that token is not valid for this meeting's organisation",
                    ))
                }
                Err(err) => return self.internal_error(err),
            },
        };
        let input = Input::Join {
            conn: self.conn,
            display_name,
            member,
            client_id,
            passcode_ok: true,
        };
        self.start_and_attach(record, input).await;
    }

    /// Attaches to the meeting's actor, starting it if needed; retries when the actor it
    /// found was just stopping.
    async fn start_and_attach(&mut self, record: MeetingRecord, input: Input) {
        for _ in 0..JOIN_RETRIES {
            let handle = match self.state.meetings.get_or_start(&record).await {
                Ok(handle) => handle,
                Err(err) => return self.internal_error(err),
            };
            if self.attach(handle, input.clone()).await {
                self.last_attach = Some(PendingAttach::Join(Box::new((record, input))));
                return;
            }
        }
        self.reply(ServerMessage::error(
            ErrorCode::Internal,
            "the meeting is restarting; try again",
        ));
    }

    async fn resume(&mut self, meeting_id: MeetingId, resume_token: String) {
        let input = Input::Resume {
            conn: self.conn,
            resume_token,
        };
        let attached = match self.state.meetings.live(&meeting_id) {
            Some(handle) => self.attach(handle, input).await,
            None => false,
        };
        if attached {
            self.last_attach = Some(PendingAttach::Resume);
        } else {
            self.reply(ServerMessage::error(
                ErrorCode::ResumeFailed,
                "that meeting is not in progress",
            ));
        }
    }

    /// Hands this connection to a meeting's actor; false if the actor had already stopped.
    async fn attach(&mut self, handle: MeetingHandle, input: Input) -> bool {
        let attachment = Attachment {
            tx: self.tx.clone(),
            kick: self.kick.clone(),
        };
        let msg = ActorMsg::Attach {
            conn: self.conn,
            attachment,
            input,
        };
        if handle.send(msg).await.is_err() {
            return false;
        }
        self.phase = Phase::Attached(handle);
        true
    }

    /// The actor this connection attached to stopped before it saw the attach.
    async fn retry_attach(&mut self) {
        self.phase = Phase::Lobby;
        match self.last_attach.take() {
            Some(PendingAttach::Join(pending)) => {
                let (record, input) = *pending;
                self.start_and_attach(record, input).await
            }
            Some(PendingAttach::Resume) | None => self.reply(ServerMessage::error(
                ErrorCode::ResumeFailed,
                "that meeting is not in progress",
            )),
        }
    }

    /// Queues a reply on this connection's own outbound queue, behind the meeting's frames.
    fn reply(&self, msg: ServerMessage) {
        if let ServerMessage::Error { code, .. } = &msg {
            tracing::debug!(conn = self.conn.0, ?code, "error reply");
        }
        let _ = self.tx.try_send(Outbound::Frame(msg.encode().into()));
    }

    fn internal_error(&self, err: impl std::fmt::Display) {
        Metrics::inc(&self.state.metrics.server_errors_total);
        tracing::error!(conn = self.conn.0, %err, "internal error");
        self.reply(ServerMessage::error(
            ErrorCode::Internal,
            "internal error; try again",
        ));
    }
}

fn close_frame() -> Message {
    Message::Close(Some(CloseFrame {
        code: 1000,
        reason: Utf8Bytes::from_static("bye"),
    }))
}
