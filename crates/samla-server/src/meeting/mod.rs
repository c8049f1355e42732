//! Live meetings. Each live meeting is one task (the actor, [`actor`]) that owns its state;
//! the rules themselves are a pure state machine ([`machine::MeetingMachine`]) that turns
//! [`Input`]s into [`Output`]s and never touches a socket, a clock or the database. That split
//! (after str0m's sans-IO design) lets the rules be tested exhaustively without I/O.

pub mod actor;
pub mod machine;
pub mod ratelimit;
pub mod registry;

use samla_protocol::{
    ChatMessage, ClientMessage, LeaveReason, MeetingId, ParticipantId, PublishedTrack,
    ServerMessage, SharePolicy, TrackKind,
};

/// One WebSocket connection, as the meeting knows it. Unique for the server's lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// How a meeting is set up: from its stored record when its actor starts.
#[derive(Debug, Clone)]
pub struct MeetingConfig {
    pub id: MeetingId,
    pub topic: String,
    pub waiting_room: bool,
    pub signed_in_only: bool,
    /// Whether a passcode is set; the connection layer verifies it and reports the result
    /// in [`Input::Join::passcode_ok`].
    pub has_passcode: bool,
    /// The user who owns (scheduled) the meeting; they are host whenever present.
    pub owner_user_id: Option<String>,
    /// The rules it starts with, as scheduled; hosts change them in the meeting.
    pub mute_on_entry: bool,
    pub share_policy: SharePolicy,
}

/// A signed-in member of the organisation, resolved from their token by the connection layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: String,
}

/// Everything that can happen to a meeting.
#[derive(Debug, Clone)]
pub enum Input {
    /// A connection asks to join. `passcode_ok` is true when the meeting has no passcode or
    /// the one given matched; rate limiting of wrong guesses happens before this.
    Join {
        conn: ConnId,
        display_name: String,
        member: Option<Member>,
        client_id: Option<String>,
        passcode_ok: bool,
    },
    /// A connection takes back a seat with its resume token.
    Resume { conn: ConnId, resume_token: String },
    /// Any other message from a connection that has joined or is waiting.
    Message { conn: ConnId, msg: ClientMessage },
    /// The connection closed or failed. Its seat is kept for the resume grace period.
    Disconnected { conn: ConnId },
    /// Time passed; expire seats whose grace period is over. Sent about once a second.
    Tick,
}

/// What the machine asks its shell to do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send one message to these connections (encoded once by the shell).
    Send { to: Vec<ConnId>, msg: ServerMessage },
    /// Close this connection after what was sent to it (its session is over).
    Close { conn: ConnId },
    /// Persist this.
    Store(Record),
    /// A media request from someone in the meeting, for the SFU.
    Media {
        participant: ParticipantId,
        request: MediaRequest,
    },
    /// This participant left the meeting (or went back to the waiting room): the SFU drops
    /// its media.
    MediaGone { participant: ParticipantId },
    /// No one is left, in the meeting or waiting: the actor may stop.
    Empty,
}

/// The media part of the protocol, passed through to the SFU once the machine has checked
/// that the sender is in the meeting (not waiting), and the meeting's own rules for the SFU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaRequest {
    /// What the SFU may forward of this participant's media, the meeting's rules applied
    /// (a host muted them and they may not unmute; only hosts may share). It holds from
    /// before their first offer until they leave the meeting.
    Forwarding(Forwarding),
    Offer {
        sdp: String,
        tracks: Vec<PublishedTrack>,
    },
    Answer {
        sdp: String,
    },
    SubscribeVideo {
        participant: ParticipantId,
        kind: TrackKind,
        max_height: u32,
    },
}

/// What of one participant's media the SFU forwards to the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forwarding {
    /// Their microphone: when not, their audio ends at the SFU (and never makes them the
    /// active speaker).
    pub audio: bool,
    /// Their shared screen: when not, nobody is offered it.
    pub screen: bool,
}

impl Forwarding {
    /// Everything: the rule for everyone until the meeting's settings say otherwise.
    pub const ALL: Forwarding = Forwarding {
        audio: true,
        screen: true,
    };
}

/// What a meeting persists.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Chat(ChatMessage),
    Attendance(AttendanceRecord),
}

/// One line of the log of who was where when. Every participant id a meeting hands out
/// first appears here, so a restarted meeting never reuses one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttendanceRecord {
    pub participant: ParticipantId,
    pub display_name: String,
    pub user_id: Option<String>,
    pub event: AttendanceEvent,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttendanceEvent {
    EnteredWaitingRoom,
    Joined,
    Left(LeaveReason),
    Denied,
    /// Ended for all by the host.
    MeetingEnded,
}

impl AttendanceEvent {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            AttendanceEvent::EnteredWaitingRoom => "waiting",
            AttendanceEvent::Joined => "joined",
            AttendanceEvent::Left(LeaveReason::Left) => "left",
            AttendanceEvent::Left(LeaveReason::Removed) => "removed",
            AttendanceEvent::Left(LeaveReason::TimedOut) => "timed_out",
            AttendanceEvent::Left(LeaveReason::MovedToWaitingRoom) => "moved_to_waiting_room",
            AttendanceEvent::Denied => "denied",
            AttendanceEvent::MeetingEnded => "meeting_ended",
        }
    }
}
