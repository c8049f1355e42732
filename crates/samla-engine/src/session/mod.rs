//! A participant's session in one meeting: joining, the handle to act through, and the
//! background task that owns the socket (see [`runner`]).

mod runner;
mod socket;

use std::sync::OnceLock;
use std::time::Duration;

use samla_protocol::{ChatTarget, ClientMessage, MeetingId, ParticipantId};
use tokio::sync::{mpsc, watch};
use url::Url;

use crate::link::signalling_url;
use crate::{EngineError, Event, MeetingView};
use runner::Runner;
use socket::Socket;

/// How long the connect + `hello` + `join` exchange may take before we give up.
const JOIN_TIMEOUT: Duration = Duration::from_secs(15);

/// Events buffered for a slow consumer before the session stops reading the socket.
const EVENT_BUFFER: usize = 1024;

/// What [`Session::join`] needs.
#[derive(Debug, Clone)]
pub struct JoinOptions {
    /// The server's http(s) base URL, e.g. from [`crate::parse_join_link`].
    pub server: Url,
    pub meeting_id: MeetingId,
    pub display_name: String,
    pub passcode: Option<String>,
    /// An API token: joins as a signed-in member (and as host of one's own meetings).
    pub token: Option<String>,
    /// Identifies this installation so that a removed participant stays out. `None` uses a
    /// random id made once per process.
    pub client_id: Option<String>,
}

impl JoinOptions {
    /// Options for a guest: no passcode, no token, the process's client id.
    pub fn new(server: Url, meeting_id: MeetingId, display_name: impl Into<String>) -> Self {
        Self {
            server,
            meeting_id,
            display_name: display_name.into(),
            passcode: None,
            token: None,
            client_id: None,
        }
    }
}

/// Entry point to a meeting.
pub struct Session;

impl Session {
    /// Connects, says `hello`, asks to join, and returns once the server seated us (`joined`)
    /// or put us in the waiting room (`waiting`). A refusal (wrong passcode, meeting not found,
    /// locked, …) is an [`EngineError::Refused`] carrying the server's code.
    ///
    /// The receiver yields every event from `welcome` on, and ends after an
    /// [`Event::Ended`] or [`Event::Failed`]. Dropping every [`SessionHandle`] leaves the
    /// meeting.
    pub async fn join(
        opts: JoinOptions,
    ) -> Result<(SessionHandle, mpsc::Receiver<Event>), EngineError> {
        let url = signalling_url(&opts.server)?;
        let request = ClientMessage::Join {
            meeting_id: opts.meeting_id.clone(),
            display_name: opts.display_name,
            passcode: opts.passcode,
            token: opts.token,
            client_id: Some(
                opts.client_id
                    .unwrap_or_else(|| process_client_id().to_owned()),
            ),
        };
        let mut seen = Vec::new();
        let handshake = async {
            let mut socket = Socket::open(&url, &mut seen).await?;
            let resume_token = socket.request_seat(&request, &mut seen).await?;
            Ok::<_, EngineError>((socket, resume_token))
        };
        let (socket, resume_token) = tokio::time::timeout(JOIN_TIMEOUT, handshake)
            .await
            .map_err(|_| EngineError::Timeout)??;

        let (events_tx, events_rx) = mpsc::channel(EVENT_BUFFER);
        let (commands_tx, commands_rx) = mpsc::unbounded_channel();
        let (view_tx, view_rx) = watch::channel(MeetingView::default());
        let mut runner = Runner::new(
            url,
            opts.meeting_id,
            resume_token,
            events_tx,
            view_tx,
            commands_rx,
        );
        // Before returning, so that `handle.view()` already shows the joined/waiting state.
        for msg in seen {
            runner.emit(Event::Server(msg)).await;
        }
        tokio::spawn(runner.run(socket));
        Ok((
            SessionHandle {
                commands: commands_tx,
                view: view_rx,
            },
            events_rx,
        ))
    }
}

/// A random id per process, used as the client id when the caller has none to keep.
fn process_client_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| format!("{:032x}", rand::random::<u128>()))
}

/// Acts in a session and reads its model. Cheap to clone; the session leaves the meeting
/// when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct SessionHandle {
    commands: mpsc::UnboundedSender<ClientMessage>,
    view: watch::Receiver<MeetingView>,
}

impl SessionHandle {
    /// Sends any message. While the connection is being resumed it is queued and sent after
    /// the resume. Fails only when the session is over.
    pub fn send(&self, msg: ClientMessage) -> Result<(), EngineError> {
        self.commands
            .send(msg)
            .map_err(|_| EngineError::SessionEnded)
    }

    /// Leaves the meeting for good; the event stream ends soon after with [`Event::Ended`].
    pub fn leave(&self) -> Result<(), EngineError> {
        self.send(ClientMessage::Leave)
    }

    pub fn chat(&self, to: ChatTarget, text: impl Into<String>) -> Result<(), EngineError> {
        self.send(ClientMessage::Chat {
            to,
            text: text.into(),
        })
    }

    /// Host and co-host: let one person in from the waiting room.
    pub fn admit(&self, participant: ParticipantId) -> Result<(), EngineError> {
        self.send(ClientMessage::Admit { participant })
    }

    /// Host and co-host: let everyone in from the waiting room.
    pub fn admit_all(&self) -> Result<(), EngineError> {
        self.send(ClientMessage::AdmitAll)
    }

    /// Host and co-host: turn someone in the waiting room away.
    pub fn deny(&self, participant: ParticipantId) -> Result<(), EngineError> {
        self.send(ClientMessage::Deny { participant })
    }

    /// Host and co-host: lock or unlock the meeting against new joins.
    pub fn set_locked(&self, locked: bool) -> Result<(), EngineError> {
        self.send(ClientMessage::SetLocked { locked })
    }

    /// Host and co-host: remove someone for good.
    pub fn remove(&self, participant: ParticipantId) -> Result<(), EngineError> {
        self.send(ClientMessage::Remove { participant })
    }

    /// Host and co-host: mute someone.
    pub fn mute(&self, participant: ParticipantId) -> Result<(), EngineError> {
        self.send(ClientMessage::Mute { participant })
    }

    /// Host and co-host: mute everyone else.
    pub fn mute_all(&self) -> Result<(), EngineError> {
        self.send(ClientMessage::MuteAll)
    }

    /// Host: end the meeting for everyone.
    pub fn end_for_all(&self) -> Result<(), EngineError> {
        self.send(ClientMessage::EndForAll)
    }

    /// A snapshot of the meeting as we know it now.
    pub fn view(&self) -> MeetingView {
        self.view.borrow().clone()
    }

    /// A receiver of view updates, for callers that want to await changes.
    pub fn watch_view(&self) -> watch::Receiver<MeetingView> {
        self.view.clone()
    }
}
