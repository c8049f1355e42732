//! The background task that owns a session's socket.
//!
//! It forwards server messages as events, sends the handle's commands, keeps the
//! [`MeetingView`] current, and, when the socket drops without a `closed`, resumes the seat
//! on a new socket with backoff, queueing commands meanwhile.

use std::collections::VecDeque;
use std::time::Duration;

use samla_protocol::{ClientMessage, MeetingId, ServerMessage, RESUME_GRACE_SECS};
use tokio::sync::{mpsc, watch};
use tokio::time::{sleep_until, Instant};
use url::Url;

use super::socket::{Frame, Socket};
use crate::backoff::Backoff;
use crate::{EngineError, Event, MeetingView};

/// How often we ping an otherwise quiet server.
const PING_EVERY: Duration = Duration::from_secs(15);

/// Silence after which the connection counts as dead (a half-open TCP connection never
/// reports an error by itself, e.g. after a laptop changes networks).
const SILENCE_LIMIT: Duration = Duration::from_secs(45);

/// How often the connection checks that the network under it is still the one it was made
/// on (see [`Socket::network_changed`]): after a switch it reconnects at once instead of
/// waiting out [`SILENCE_LIMIT`].
const NETWORK_CHECK_EVERY: Duration = Duration::from_secs(1);

/// How long to wait for the server's `closed` after we sent `leave`.
const LEAVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest single resume attempt, so one hung connect does not eat the whole grace period.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// How a connected stretch of the session ended.
enum Down {
    /// The session is over (closed by the server, or we left).
    Over,
    /// The socket dropped; the seat may still be resumed.
    Dropped,
}

pub(super) struct Runner {
    url: Url,
    meeting_id: MeetingId,
    /// The latest token from `joined`/`waiting`; the server may rotate it on every seat.
    resume_token: String,
    events: mpsc::Sender<Event>,
    view: watch::Sender<MeetingView>,
    commands: mpsc::UnboundedReceiver<ClientMessage>,
    /// Commands accepted while disconnected, sent in order after the resume.
    queue: VecDeque<ClientMessage>,
}

impl Runner {
    pub(super) fn new(
        url: Url,
        meeting_id: MeetingId,
        resume_token: String,
        events: mpsc::Sender<Event>,
        view: watch::Sender<MeetingView>,
        commands: mpsc::UnboundedReceiver<ClientMessage>,
    ) -> Self {
        Self {
            url,
            meeting_id,
            resume_token,
            events,
            view,
            commands,
            queue: VecDeque::new(),
        }
    }

    /// Updates the view and hands the event to the owner.
    pub(super) async fn emit(&mut self, event: Event) {
        if let Event::Server(
            ServerMessage::Joined { resume_token, .. }
            | ServerMessage::Waiting { resume_token, .. },
        ) = &event
        {
            self.resume_token.clone_from(resume_token);
        }
        self.view.send_modify(|view| view.apply(&event));
        // An owner that dropped the receiver still has the view; keep going.
        let _ = self.events.send(event).await;
    }

    pub(super) async fn run(mut self, mut socket: Socket) {
        loop {
            match self.connected(&mut socket).await {
                Down::Over => {
                    socket.close().await;
                    self.emit(Event::Ended).await;
                    return;
                }
                Down::Dropped => match self.reconnect().await {
                    Some(resumed) => socket = resumed,
                    None => return,
                },
            }
        }
    }

    /// Runs one connected stretch: reads, writes, pings, until the session ends or the
    /// socket drops.
    async fn connected(&mut self, socket: &mut Socket) -> Down {
        while let Some(msg) = self.queue.pop_front() {
            if socket.send(&msg).await.is_err() {
                self.queue.push_front(msg);
                return Down::Dropped;
            }
        }
        let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
        let mut network_check =
            tokio::time::interval_at(Instant::now() + NETWORK_CHECK_EVERY, NETWORK_CHECK_EVERY);
        let mut last_heard = Instant::now();
        // Set once we sent `leave`: from then on a dropped socket just means we are out.
        let mut leave_deadline: Option<Instant> = None;
        loop {
            tokio::select! {
                frame = socket.next_frame() => match frame {
                    Frame::Message(msg) => {
                        last_heard = Instant::now();
                        let closed = matches!(msg, ServerMessage::Closed { .. });
                        self.emit(Event::Server(msg)).await;
                        if closed {
                            return Down::Over;
                        }
                    }
                    Frame::Alive => last_heard = Instant::now(),
                    Frame::Gone if leave_deadline.is_some() => return Down::Over,
                    Frame::Gone => return Down::Dropped,
                },
                command = self.commands.recv(), if leave_deadline.is_none() => {
                    // Every handle is gone: nobody can act any more, so leave.
                    let msg = command.unwrap_or(ClientMessage::Leave);
                    let leaving = msg == ClientMessage::Leave;
                    if leaving {
                        leave_deadline = Some(Instant::now() + LEAVE_TIMEOUT);
                    }
                    if socket.send(&msg).await.is_err() {
                        if leaving {
                            return Down::Over;
                        }
                        self.queue.push_front(msg);
                        return Down::Dropped;
                    }
                }
                _ = network_check.tick(), if leave_deadline.is_none() => {
                    if socket.network_changed() {
                        tracing::info!("the network changed; reconnecting from the new address");
                        return Down::Dropped;
                    }
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() > SILENCE_LIMIT {
                        tracing::info!("no sign of life from the server; reconnecting");
                        return Down::Dropped;
                    }
                    if socket.ping().await.is_err() {
                        return Down::Dropped;
                    }
                }
                _ = sleep_until(leave_deadline.unwrap_or_else(Instant::now)), if leave_deadline.is_some() => {
                    return Down::Over;
                }
            }
        }
    }

    /// Tries to resume the seat until it works, the server refuses, or the grace period is
    /// over. Returns the new socket, or `None` after emitting the stream's last event.
    async fn reconnect(&mut self) -> Option<Socket> {
        let deadline = Instant::now() + Duration::from_secs(RESUME_GRACE_SECS);
        let mut backoff = Backoff::default();
        for attempt in 1.. {
            self.emit(Event::Reconnecting { attempt }).await;
            let wake = (Instant::now() + backoff.next_delay(&mut rand::rng())).min(deadline);
            if !self.wait_queueing(wake).await {
                // Leaving while disconnected: the server times the seat out by itself.
                self.emit(Event::Ended).await;
                return None;
            }
            if Instant::now() >= deadline {
                break;
            }
            let mut seen = Vec::new();
            let attempt_deadline = (Instant::now() + ATTEMPT_TIMEOUT).min(deadline);
            let result = tokio::time::timeout_at(attempt_deadline, self.resume(&mut seen)).await;
            for msg in seen {
                self.emit(Event::Server(msg)).await;
            }
            match result {
                Ok(Ok(socket)) => {
                    self.emit(Event::Resumed).await;
                    return Some(socket);
                }
                Ok(Err(EngineError::Closed(_))) => {
                    // The `closed` itself was just emitted.
                    self.emit(Event::Ended).await;
                    return None;
                }
                Ok(Err(err)) if !err.is_transient() => {
                    self.emit(Event::Failed {
                        message: format!("could not resume: {err}"),
                    })
                    .await;
                    return None;
                }
                Ok(Err(err)) => tracing::debug!(attempt, %err, "resume attempt failed"),
                Err(_elapsed) => tracing::debug!(attempt, "resume attempt timed out"),
            }
        }
        let message = format!("could not resume within {RESUME_GRACE_SECS} s");
        self.emit(Event::Failed { message }).await;
        None
    }

    async fn resume(&self, seen: &mut Vec<ServerMessage>) -> Result<Socket, EngineError> {
        let mut socket = Socket::open(&self.url, seen).await?;
        let request = ClientMessage::Resume {
            meeting_id: self.meeting_id.clone(),
            resume_token: self.resume_token.clone(),
        };
        socket.request_seat(&request, seen).await?;
        Ok(socket)
    }

    /// Sleeps until `wake`, queueing commands that arrive. Returns false if the owner left
    /// (a `leave` command, or every handle dropped).
    async fn wait_queueing(&mut self, wake: Instant) -> bool {
        loop {
            tokio::select! {
                _ = sleep_until(wake) => return true,
                command = self.commands.recv() => match command {
                    None | Some(ClientMessage::Leave) => return false,
                    Some(msg) => self.queue.push_back(msg),
                },
            }
        }
    }
}
