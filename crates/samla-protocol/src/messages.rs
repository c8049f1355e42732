//! Signalling messages. Both directions are `#[serde(tag = "type")]` enums with
//! snake_case names, so a frame reads `{"type":"chat","to":{"kind":"everyone"},"text":"Hei"}`.

use serde::{Deserialize, Serialize};

use crate::{MeetingId, ParticipantId};

/// What a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// First frame on every connection.
    Hello {
        version: u32,
        /// Name and version of the client software, for logs.
        #[serde(default)]
        client: String,
    },
    /// Ask to join a meeting. Answered by `joined`, `waiting` or an error (the socket stays
    /// open after a wrong passcode, so the client can ask again).
    Join {
        meeting_id: MeetingId,
        display_name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        passcode: Option<String>,
        /// An API token; makes the participant a signed-in member of the organisation.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
        /// A random id the client keeps per installation, so that a removed participant
        /// stays out.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
    },
    /// Take back a seat after a dropped connection, within [`crate::RESUME_GRACE_SECS`].
    Resume {
        meeting_id: MeetingId,
        resume_token: String,
    },
    /// Leave the meeting for good.
    Leave,

    // ---- host and co-host actions -------------------------------------------------
    Admit {
        participant: ParticipantId,
    },
    AdmitAll,
    Deny {
        participant: ParticipantId,
    },
    SendToWaitingRoom {
        participant: ParticipantId,
    },
    SetLocked {
        locked: bool,
    },
    EndForAll,
    /// Remove someone; they cannot join this meeting again.
    Remove {
        participant: ParticipantId,
    },
    /// Make someone co-host (`co_host`) or take it back (`participant`). Host only.
    SetRole {
        participant: ParticipantId,
        role: Role,
    },
    /// Give the host role to someone else; the old host becomes co-host. Host only.
    HandOverHost {
        participant: ParticipantId,
    },
    Mute {
        participant: ParticipantId,
    },
    MuteAll,
    /// Ask someone to unmute. Nobody can be unmuted by force.
    AskToUnmute {
        participant: ParticipantId,
    },
    SetChatPolicy {
        policy: ChatPolicy,
    },
    /// Who may share a screen or a window.
    SetSharePolicy {
        policy: SharePolicy,
    },
    /// Whether people who join are muted on arrival.
    SetMuteOnEntry {
        mute_on_entry: bool,
    },
    /// Whether participants may unmute themselves. When not, a muted participant speaks
    /// only after a host's `ask_to_unmute`, and the server forwards nothing from their
    /// microphone until then.
    SetSelfUnmute {
        allowed: bool,
    },
    /// Show one participant's video as the main picture for everyone (`None` ends it).
    SetSpotlight {
        #[serde(default)]
        participant: Option<ParticipantId>,
    },

    // ---- anyone ------------------------------------------------------------------
    /// My own microphone and camera state.
    SetMedia {
        audio_muted: bool,
        video_on: bool,
    },
    RaiseHand,
    /// Lower a hand: one's own (no participant), or anyone's for hosts.
    LowerHand {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        participant: Option<ParticipantId>,
    },
    /// Rename oneself (no participant), or anyone for hosts.
    Rename {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        participant: Option<ParticipantId>,
        name: String,
    },
    React {
        reaction: Reaction,
    },
    /// Answer the teacher without words ("yes", "go slower"), shown until changed or cleared;
    /// `None` takes one's own back.
    SetFeedback {
        #[serde(default)]
        feedback: Option<Feedback>,
    },
    /// Clear everyone's feedback, for the next question. Hosts and co-hosts.
    ClearFeedback,
    /// Put a question to the meeting (hosts and co-hosts). One poll runs at a time; a new
    /// one replaces an ended one.
    StartPoll {
        question: String,
        options: Vec<String>,
        /// Whether one may pick more than one answer.
        #[serde(default)]
        multiple: bool,
    },
    /// Answer the running poll: indexes into its options (one unless it is `multiple`).
    /// Answering again replaces one's answer, until the poll ends.
    Vote {
        poll: u32,
        choices: Vec<u8>,
    },
    /// Stop taking answers (hosts and co-hosts).
    EndPoll {
        poll: u32,
    },
    /// Show an ended poll's results to everyone (hosts and co-hosts).
    SharePollResults {
        poll: u32,
    },
    Chat {
        to: ChatTarget,
        text: String,
    },

    // ---- media (see the media section of `ServerMessage`) ------------------------------
    /// An SDP offer from the client: its first one publishes its tracks; later ones change
    /// them (e.g. start sharing the screen). `tracks` says what each sending `mid` carries.
    MediaOffer {
        sdp: String,
        tracks: Vec<PublishedTrack>,
    },
    /// The client's answer to a server [`ServerMessage::MediaOffer`].
    MediaAnswer {
        sdp: String,
    },
    /// How big the client draws one remote video; the SFU picks the simulcast layer that fits
    /// (`max_height` 0 pauses it: the tile is hidden).
    SubscribeVideo {
        participant: ParticipantId,
        kind: TrackKind,
        max_height: u32,
    },
}

impl ClientMessage {
    /// Every `type` a client may send; used to tell an unknown type from a malformed one.
    pub const TYPES: &'static [&'static str] = &[
        "hello",
        "join",
        "resume",
        "leave",
        "admit",
        "admit_all",
        "deny",
        "send_to_waiting_room",
        "set_locked",
        "end_for_all",
        "remove",
        "set_role",
        "hand_over_host",
        "mute",
        "mute_all",
        "ask_to_unmute",
        "set_chat_policy",
        "set_share_policy",
        "set_mute_on_entry",
        "set_self_unmute",
        "set_spotlight",
        "set_media",
        "raise_hand",
        "lower_hand",
        "rename",
        "react",
        "set_feedback",
        "clear_feedback",
        "start_poll",
        "vote",
        "end_poll",
        "share_poll_results",
        "chat",
        "media_offer",
        "media_answer",
        "subscribe_video",
    ];
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Welcome {
        version: u32,
        server: String,
    },
    /// A request failed. The connection stays open unless a `closed` follows.
    Error {
        code: ErrorCode,
        message: String,
    },
    /// You are in the waiting room until a host admits you.
    Waiting {
        you: ParticipantId,
        resume_token: String,
        meeting: MeetingState,
    },
    /// You are in the meeting: the full picture at this moment. Later changes arrive as events.
    Joined {
        you: ParticipantId,
        role: Role,
        resume_token: String,
        meeting: MeetingState,
        participants: Vec<ParticipantInfo>,
        /// Only filled for hosts and co-hosts.
        waiting: Vec<WaitingInfo>,
        /// Chat history this participant may read, oldest first.
        chat: Vec<ChatMessage>,
    },
    ParticipantJoined {
        participant: ParticipantInfo,
    },
    ParticipantUpdated {
        participant: ParticipantInfo,
    },
    ParticipantLeft {
        participant: ParticipantId,
        reason: LeaveReason,
    },
    /// The waiting room changed (hosts and co-hosts only).
    WaitingRoom {
        waiting: Vec<WaitingInfo>,
    },
    /// A host sent you back to the waiting room.
    MovedToWaitingRoom,
    MeetingUpdated {
        meeting: MeetingState,
    },
    Chat {
        message: ChatMessage,
    },
    /// A host muted you.
    MutedBy {
        by: ParticipantId,
    },
    /// A host asks you to unmute; it is up to you.
    UnmuteRequested {
        by: ParticipantId,
    },
    /// The meeting's poll as you may see it: sent when one starts, when you join while it
    /// runs or has results to show, when it ends or its results are shared, and (to hosts,
    /// and to whoever answered) when answers come in.
    Poll {
        poll: PollView,
    },
    Reaction {
        participant: ParticipantId,
        reaction: Reaction,
    },
    /// Your session in the meeting is over; the server closes the socket next.
    Closed {
        reason: CloseReason,
    },

    // ---- media ---------------------------------------------------------------------
    /// Sent once after `joined`: how to reach the media server.
    MediaConfig {
        ice_servers: Vec<IceServer>,
        /// The organisation's cap on video height in pixels (e.g. 360 for sites on thin
        /// links): encode no simulcast layer taller than this. The SFU forwards none either.
        /// Absent when there is no cap.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_video_height: Option<u32>,
    },
    /// The SFU's answer to the client's offer.
    MediaAnswer {
        sdp: String,
    },
    /// A server-initiated offer (others' tracks were added or removed). The client answers
    /// with [`ClientMessage::MediaAnswer`]; if it has an offer of its own outstanding, it rolls
    /// that back first and offers again after answering (the client is the polite peer).
    MediaOffer {
        sdp: String,
    },
    /// Every track the client receives, by the `mid` it arrives on. Sent whenever it changes,
    /// before the offer that adds a track.
    MediaTracks {
        tracks: Vec<RemoteTrack>,
    },
    /// Which of your simulcast layers (by `rid`) someone watches; encode only these.
    MediaLayers {
        kind: TrackKind,
        active_rids: Vec<String>,
    },
    /// The loudest speaker changed.
    ActiveSpeaker {
        participant: ParticipantId,
    },
}

/// A participant's role. Hosts and co-hosts may run the meeting; only the host may appoint
/// co-hosts and hand the host role over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Host,
    CoHost,
    Participant,
}

impl Role {
    /// Host or co-host: may admit, mute, remove, lock.
    pub fn is_moderator(self) -> bool {
        matches!(self, Role::Host | Role::CoHost)
    }
}

/// What a media track carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackKind {
    Audio,
    Camera,
    Screen,
}

/// A track a client sends, by the SDP `mid` of its transceiver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedTrack {
    pub mid: String,
    pub kind: TrackKind,
}

/// A track a client receives: whose it is and what it carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteTrack {
    pub mid: String,
    pub participant: ParticipantId,
    pub kind: TrackKind,
}

/// A STUN or TURN server for ICE, as in the browser's `RTCIceServer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// Who may chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatPolicy {
    /// Everyone to everyone, publicly and privately.
    #[default]
    Everyone,
    /// Participants may write to the hosts only; hosts to anyone.
    HostsOnly,
    /// Only hosts and co-hosts may write.
    Off,
}

/// Who may share a screen or a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SharePolicy {
    #[default]
    Everyone,
    /// Only the host and co-hosts; the server forwards no one else's screen.
    HostsOnly,
}

/// Whom a chat message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChatTarget {
    Everyone,
    /// The host and co-hosts.
    Hosts,
    /// One person, privately.
    Participant {
        id: ParticipantId,
    },
}

/// The reactions a participant can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reaction {
    ThumbsUp,
    Clap,
    Heart,
    Laugh,
    Surprised,
    Celebrate,
}

/// A poll as one participant sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollView {
    /// Increases with each poll of the meeting.
    pub id: u32,
    pub by: ParticipantId,
    pub question: String,
    pub options: Vec<String>,
    pub multiple: bool,
    /// Still taking answers.
    pub open: bool,
    /// How many have answered.
    pub answered: u32,
    /// How many picked each option, in the options' order: for hosts and co-hosts always,
    /// for everyone once a host has shared them. Answers are never shown per person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<u32>>,
    /// Whether the results have been shared with everyone.
    pub shared: bool,
    /// Your own answer, if you gave one.
    #[serde(default)]
    pub mine: Vec<u8>,
}

/// A participant's answer without words, as a class gives it: it stays until changed, unlike
/// a [`Reaction`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feedback {
    Yes,
    No,
    Slower,
    Faster,
}

/// The meeting-wide state every participant sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingState {
    pub id: MeetingId,
    pub topic: String,
    pub locked: bool,
    pub waiting_room: bool,
    pub chat_policy: ChatPolicy,
    /// Who may share a screen or a window.
    #[serde(default)]
    pub share_policy: SharePolicy,
    /// People who join are muted on arrival (hosts and co-hosts excepted).
    #[serde(default)]
    pub mute_on_entry: bool,
    /// Participants may unmute themselves; see [`ParticipantInfo::may_unmute`].
    #[serde(default = "yes")]
    pub self_unmute: bool,
    /// The participant a host put in the spotlight: everyone's main picture, until a host
    /// ends it or they leave the meeting.
    #[serde(default)]
    pub spotlight: Option<ParticipantId>,
}

fn yes() -> bool {
    true
}

/// One participant in the meeting, as everyone sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantInfo {
    pub id: ParticipantId,
    pub name: String,
    pub role: Role,
    pub audio_muted: bool,
    pub video_on: bool,
    pub hand_raised: bool,
    /// False while the participant's connection is down and its seat is kept for a resume.
    pub connected: bool,
    /// Joined with an account of the organisation rather than as a guest.
    pub signed_in: bool,
    /// May turn their microphone on: hosts and co-hosts always; others when the meeting
    /// lets participants unmute themselves, or after a host asked them to.
    #[serde(default = "yes")]
    pub may_unmute: bool,
    /// Their answer without words, until they change it or a host clears it.
    #[serde(default)]
    pub feedback: Option<Feedback>,
}

/// Someone in the waiting room, as hosts see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingInfo {
    pub id: ParticipantId,
    pub name: String,
    pub signed_in: bool,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Increases by one per message in a meeting; history is ordered by it.
    pub seq: u64,
    pub from: ParticipantId,
    pub from_name: String,
    pub to: ChatTarget,
    pub text: String,
    /// Milliseconds since the Unix epoch, server clock.
    pub sent_at_ms: i64,
}

/// Why someone left the meeting, as the others are told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    Left,
    Removed,
    /// The connection dropped and was not resumed in time.
    TimedOut,
    MovedToWaitingRoom,
}

/// Why your own session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    Left,
    /// A host denied you entry from the waiting room.
    Denied,
    Removed,
    MeetingEnded,
    /// The same seat was resumed on another connection.
    Replaced,
}

/// Machine-readable error codes. `message` beside them is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame was not valid JSON or did not fit the message's shape.
    Malformed,
    UnknownMessage,
    MessageTooLarge,
    UnsupportedVersion,
    /// The first frame must be `hello`, and nothing but `join`/`resume` before joining.
    OutOfOrder,
    MeetingNotFound,
    MeetingEnded,
    PasscodeRequired,
    WrongPasscode,
    /// Too many wrong passcodes from this address; try again later.
    TooManyAttempts,
    MeetingLocked,
    SignInRequired,
    InvalidToken,
    /// This person was removed from the meeting and may not come back.
    RemovedFromMeeting,
    ResumeFailed,
    /// The action needs a role this participant does not have.
    NotAllowed,
    ParticipantNotFound,
    ChatNotAllowed,
    InvalidArgument,
    Internal,
}
