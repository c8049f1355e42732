//! The meeting's rules as a pure state machine.
//!
//! [`MeetingMachine`] owns everything a live meeting knows (seats, roles, waiting room, chat)
//! and turns each [`Input`] into [`Output`]s. It has no sockets, no clock and no database: the
//! shell passes the time in and carries the outputs out, so every rule can be tested by
//! feeding inputs and reading outputs (see `machine/tests.rs`).
//!
//! Invariants the machine keeps:
//! - at most one seat in the meeting has [`Role::Host`];
//! - whenever someone connected is in the meeting, one connected person there is host (the
//!   role never stays with a dropped seat while someone could run the meeting);
//! - a seat without a connection is never sent anything: it gets the full picture on resume.

use std::collections::{HashSet, VecDeque};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use samla_protocol::{
    ChatMessage, ChatPolicy, ChatTarget, ClientMessage, CloseReason, ErrorCode, Feedback,
    LeaveReason, MeetingState, ParticipantId, ParticipantInfo, Reaction, Role, ServerMessage,
    SharePolicy, TrackKind, WaitingInfo, MAX_CHAT_CHARS, MAX_NAME_CHARS, RESUME_GRACE_SECS,
};

use super::{
    AttendanceEvent, AttendanceRecord, ConnId, Forwarding, Input, MediaRequest, MeetingConfig,
    Member, Output, Record,
};

mod poll;
#[cfg(test)]
mod tests;

use poll::Poll;

/// How long a dropped seat is kept, in the machine's unit of time.
const GRACE_MS: i64 = RESUME_GRACE_SECS as i64 * 1000;

/// Chat messages kept in memory for replay to people who join later. Older ones stay in the
/// store; a late joiner sees only the recent conversation.
const CHAT_MEMORY: usize = 500;

/// The live state of one meeting and its rules. See the module docs.
pub struct MeetingMachine {
    config: MeetingConfig,
    locked: bool,
    chat_policy: ChatPolicy,
    share_policy: SharePolicy,
    /// Told to clients, which then come in with their microphone off whatever they chose
    /// before joining (every seat starts muted here until its client says otherwise).
    mute_on_entry: bool,
    /// Participants may unmute themselves; when not, only [`Seat::unmute_granted`] lets them.
    self_unmute: bool,
    /// Always someone in the meeting (cleared when they leave it).
    spotlight: Option<ParticipantId>,
    /// The meeting's poll: the running one, or the last one until another starts.
    poll: Option<Poll>,
    next_poll: u32,
    /// Everyone in the meeting or waiting, in the order they first joined (id order).
    seats: Vec<Seat>,
    next_participant: u32,
    /// Orders seats by when they entered the meeting (admission, not knocking), which decides
    /// who inherits the host role.
    next_entry: u64,
    chat: VecDeque<ChatMessage>,
    next_chat_seq: u64,
    /// User ids and client ids of removed people: either one keeps them out.
    removed_users: HashSet<String>,
    removed_clients: HashSet<String>,
    /// A host whose connection dropped while others were present: the role went to an interim
    /// host, and this seat gets it back if it resumes in time.
    reclaim: Option<ParticipantId>,
    rng: StdRng,
    /// Set by "end for all": the meeting takes nobody in any more.
    ended: bool,
    /// Whether [`Output::Empty`] was already emitted for the current empty spell. Starts true,
    /// so that a refused first join of a fresh meeting does not report "empty": only the
    /// last seat going away does.
    empty_reported: bool,
    /// Seats whose visible state changed while handling one input; announced together at the
    /// end of the step. Kept between steps only to reuse the allocation.
    changed: Vec<Change>,
}

/// One person's place in the meeting, kept across dropped connections.
struct Seat {
    id: ParticipantId,
    name: String,
    user_id: Option<String>,
    client_id: Option<String>,
    is_owner: bool,
    resume_token: String,
    link: Link,
    place: Place,
    role: Role,
    /// The role to go back to when this seat stops being an interim host.
    former_role: Role,
    /// When the seat entered the meeting (see [`MeetingMachine::next_entry`]).
    entry: u64,
    audio_muted: bool,
    video_on: bool,
    hand_raised: bool,
    feedback: Option<Feedback>,
    /// A host asked this participant to unmute: they may, even where participants may not
    /// unmute themselves, until a host mutes them again.
    unmute_granted: bool,
    /// What the SFU was last told it may forward of this seat's media.
    forwarding: Forwarding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Connected(ConnId),
    /// The connection is gone; the seat waits for a resume until `since_ms` + grace.
    Dropped {
        since_ms: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Waiting,
    Meeting,
}

/// A seat whose [`ParticipantInfo`] changed, and whether it could moderate before (so that a
/// new moderator is sent the waiting room).
#[derive(Debug, Clone, Copy)]
struct Change {
    id: ParticipantId,
    was_moderator: bool,
}

/// Why a request was turned down: sent back as [`ServerMessage::Error`]; nothing else happens.
#[derive(Debug, Clone, Copy)]
struct Refused {
    code: ErrorCode,
    message: &'static str,
}

const fn refused(code: ErrorCode, message: &'static str) -> Refused {
    Refused { code, message }
}

const OUT_OF_ORDER: Refused = refused(ErrorCode::OutOfOrder, "you are already in this meeting");
const NOT_ALLOWED: Refused = refused(ErrorCode::NotAllowed, "your role does not allow this");
const NOT_FOUND: Refused = refused(ErrorCode::ParticipantNotFound, "no such participant");
const NO_POLL: Refused = refused(ErrorCode::InvalidArgument, "no such poll");
const BAD_NAME: Refused = refused(ErrorCode::InvalidArgument, "a name has 1 to 64 characters");

// The refusal texts above and in `chat` spell the limits out; keep them true.
const _: () = assert!(MAX_NAME_CHARS == 64 && MAX_CHAT_CHARS == 4000);

/// Who may send a client message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Only before having a seat (hello, join, resume).
    NoSeat,
    Anyone,
    Moderator,
    Host,
}

/// The role a message needs from the sender `me`. Lowering a hand or renaming is one's own
/// business, and a moderator's when aimed at someone else.
fn need(msg: &ClientMessage, me: ParticipantId) -> Need {
    use ClientMessage as M;
    match msg {
        M::Hello { .. } | M::Join { .. } | M::Resume { .. } => Need::NoSeat,
        M::Leave
        | M::SetMedia { .. }
        | M::RaiseHand
        | M::React { .. }
        | M::SetFeedback { .. }
        | M::Vote { .. }
        | M::Chat { .. }
        | M::MediaOffer { .. }
        | M::MediaAnswer { .. }
        | M::SubscribeVideo { .. } => Need::Anyone,
        M::LowerHand { participant } | M::Rename { participant, .. } => {
            if participant.is_none_or(|p| p == me) {
                Need::Anyone
            } else {
                Need::Moderator
            }
        }
        M::Admit { .. }
        | M::AdmitAll
        | M::Deny { .. }
        | M::SendToWaitingRoom { .. }
        | M::SetLocked { .. }
        | M::Remove { .. }
        | M::Mute { .. }
        | M::MuteAll
        | M::AskToUnmute { .. }
        | M::SetChatPolicy { .. }
        | M::SetSharePolicy { .. }
        | M::SetMuteOnEntry { .. }
        | M::SetSelfUnmute { .. }
        | M::SetSpotlight { .. }
        | M::ClearFeedback
        | M::StartPoll { .. }
        | M::EndPoll { .. }
        | M::SharePollResults { .. } => Need::Moderator,
        M::EndForAll | M::SetRole { .. } | M::HandOverHost { .. } => Need::Host,
    }
}

impl Seat {
    fn conn(&self) -> Option<ConnId> {
        match self.link {
            Link::Connected(conn) => Some(conn),
            Link::Dropped { .. } => None,
        }
    }

    fn is_connected(&self) -> bool {
        self.conn().is_some()
    }

    fn in_meeting(&self) -> bool {
        self.place == Place::Meeting
    }

    fn is_moderator(&self) -> bool {
        self.in_meeting() && self.role.is_moderator()
    }

    /// Whether this seat may turn its microphone on, given whether the meeting lets
    /// participants unmute themselves.
    fn may_unmute(&self, self_unmute: bool) -> bool {
        self.role.is_moderator() || self_unmute || self.unmute_granted
    }

    /// What of this seat's media the SFU may forward. A microphone stays shut while it is
    /// muted and its owner may not unmute: a client that sends audio anyway is not heard.
    fn forwarding(&self, self_unmute: bool, share_policy: SharePolicy) -> Forwarding {
        Forwarding {
            audio: !self.audio_muted || self.may_unmute(self_unmute),
            screen: share_policy == SharePolicy::Everyone || self.role.is_moderator(),
        }
    }

    fn info(&self, self_unmute: bool) -> ParticipantInfo {
        ParticipantInfo {
            id: self.id,
            name: self.name.clone(),
            role: self.role,
            audio_muted: self.audio_muted,
            video_on: self.video_on,
            hand_raised: self.hand_raised,
            feedback: self.feedback,
            connected: self.is_connected(),
            signed_in: self.user_id.is_some(),
            may_unmute: self.may_unmute(self_unmute),
        }
    }

    fn waiting_info(&self) -> WaitingInfo {
        WaitingInfo {
            id: self.id,
            name: self.name.clone(),
            signed_in: self.user_id.is_some(),
        }
    }

    fn attendance(&self, now_ms: i64, event: AttendanceEvent) -> Output {
        Output::Store(Record::Attendance(AttendanceRecord {
            participant: self.id,
            display_name: self.name.clone(),
            user_id: self.user_id.clone(),
            event,
            at_ms: now_ms,
        }))
    }
}

/// Whether `reader` may see `message`: public messages, messages to the hosts if the reader
/// moderates, and private ones they sent or received.
fn may_read(message: &ChatMessage, reader: ParticipantId, moderator: bool) -> bool {
    match message.to {
        ChatTarget::Everyone => true,
        ChatTarget::Hosts => moderator || message.from == reader,
        ChatTarget::Participant { id } => message.from == reader || id == reader,
    }
}

/// Trims surrounding whitespace without a new allocation when there is none.
fn trimmed(text: String) -> String {
    let t = text.trim();
    if t.len() == text.len() {
        text
    } else {
        t.to_owned()
    }
}

/// A display name as it will be shown, or why it is refused.
fn clean_name(name: String) -> Result<String, Refused> {
    let name = trimmed(name);
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(BAD_NAME);
    }
    Ok(name)
}

fn send(out: &mut Vec<Output>, to: Vec<ConnId>, msg: ServerMessage) {
    if !to.is_empty() {
        out.push(Output::Send { to, msg });
    }
}

fn send_one(out: &mut Vec<Output>, conn: Option<ConnId>, msg: ServerMessage) {
    if let Some(conn) = conn {
        out.push(Output::Send {
            to: vec![conn],
            msg,
        });
    }
}

/// Ends one connection's session: tells it why, then asks the shell to close it.
fn close(out: &mut Vec<Output>, conn: Option<ConnId>, reason: CloseReason) {
    if let Some(conn) = conn {
        send_one(out, Some(conn), ServerMessage::Closed { reason });
        out.push(Output::Close { conn });
    }
}

fn error(out: &mut Vec<Output>, conn: ConnId, refusal: Refused) {
    send_one(
        out,
        Some(conn),
        ServerMessage::Error {
            code: refusal.code,
            message: refusal.message.to_owned(),
        },
    );
}

impl MeetingMachine {
    /// A meeting with nobody in it yet.
    ///
    /// `history` is the stored chat, oldest first; the newest [`CHAT_MEMORY`] messages are
    /// kept for replay and numbering continues after the highest `seq`. `next_participant` is
    /// the first participant number never handed out (the store keeps ids unique across
    /// restarts). `rng_seed` seeds the resume-token generator; the shell passes real entropy,
    /// tests a fixed number.
    pub fn new(
        config: MeetingConfig,
        history: Vec<ChatMessage>,
        next_participant: u32,
        rng_seed: u64,
    ) -> Self {
        let next_chat_seq = history.iter().map(|m| m.seq + 1).max().unwrap_or(1);
        let skip = history.len().saturating_sub(CHAT_MEMORY);
        Self {
            share_policy: config.share_policy,
            mute_on_entry: config.mute_on_entry,
            config,
            locked: false,
            chat_policy: ChatPolicy::default(),
            self_unmute: true,
            spotlight: None,
            poll: None,
            next_poll: 1,
            seats: Vec::new(),
            next_participant,
            next_entry: 0,
            chat: history.into_iter().skip(skip).collect(),
            next_chat_seq,
            removed_users: HashSet::new(),
            removed_clients: HashSet::new(),
            reclaim: None,
            rng: StdRng::seed_from_u64(rng_seed),
            ended: false,
            empty_reported: true,
            changed: Vec::new(),
        }
    }

    /// Applies one input at time `now_ms` (ms since the Unix epoch), appending what the shell
    /// must do, in order, to `out`.
    pub fn handle(&mut self, now_ms: i64, input: Input, out: &mut Vec<Output>) {
        match input {
            Input::Join {
                conn,
                display_name,
                member,
                client_id,
                passcode_ok,
            } => {
                let request = JoinRequest {
                    display_name,
                    member,
                    client_id,
                    passcode_ok,
                };
                if let Err(refusal) = self.join(now_ms, conn, request, out) {
                    error(out, conn, refusal);
                }
            }
            Input::Resume { conn, resume_token } => {
                self.expire(now_ms, out);
                if let Err(refusal) = self.resume(conn, &resume_token, out) {
                    error(out, conn, refusal);
                }
            }
            Input::Message { conn, msg } => match self.seat_of(conn) {
                Some(me) => {
                    if let Err(refusal) = self.act(now_ms, me, msg, out) {
                        error(out, conn, refusal);
                    }
                }
                None => error(
                    out,
                    conn,
                    refused(ErrorCode::OutOfOrder, "join the meeting first"),
                ),
            },
            Input::Disconnected { conn } => self.disconnected(now_ms, conn, out),
            Input::Tick => self.expire(now_ms, out),
        }
        self.sync_forwarding(out);
        if self.seats.is_empty() && !self.empty_reported {
            self.empty_reported = true;
            out.push(Output::Empty);
        }
    }

    /// People in the meeting (connected or dropped), not counting the waiting room.
    pub fn participant_count(&self) -> usize {
        self.seats.iter().filter(|s| s.in_meeting()).count()
    }

    /// People in the waiting room (connected or dropped).
    pub fn waiting_count(&self) -> usize {
        self.seats.len() - self.participant_count()
    }

    /// The role of the person on this connection, if it holds a seat; people in the waiting
    /// room are [`Role::Participant`].
    pub fn role_of(&self, conn: ConnId) -> Option<Role> {
        self.seat_of(conn).map(|i| self.seats[i].role)
    }

    // ---- lookups ------------------------------------------------------------------

    fn seat_of(&self, conn: ConnId) -> Option<usize> {
        self.seats.iter().position(|s| s.conn() == Some(conn))
    }

    fn index_of(&self, id: ParticipantId) -> Option<usize> {
        self.seats.iter().position(|s| s.id == id)
    }

    fn in_meeting(&self, id: ParticipantId) -> Result<usize, Refused> {
        self.index_of(id)
            .filter(|&i| self.seats[i].in_meeting())
            .ok_or(NOT_FOUND)
    }

    fn waiting(&self, id: ParticipantId) -> Result<usize, Refused> {
        self.index_of(id)
            .filter(|&i| !self.seats[i].in_meeting())
            .ok_or(NOT_FOUND)
    }

    fn host(&self) -> Option<usize> {
        self.seats
            .iter()
            .position(|s| s.in_meeting() && s.role == Role::Host)
    }

    fn meeting_state(&self) -> MeetingState {
        MeetingState {
            id: self.config.id.clone(),
            topic: self.config.topic.clone(),
            locked: self.locked,
            waiting_room: self.config.waiting_room,
            chat_policy: self.chat_policy,
            share_policy: self.share_policy,
            mute_on_entry: self.mute_on_entry,
            self_unmute: self.self_unmute,
            spotlight: self.spotlight,
        }
    }

    fn waiting_list(&self) -> Vec<WaitingInfo> {
        self.seats
            .iter()
            .filter(|s| !s.in_meeting())
            .map(Seat::waiting_info)
            .collect()
    }

    /// Connections of everyone in the meeting, but `except`.
    fn meeting_conns(&self, except: Option<ParticipantId>) -> Vec<ConnId> {
        self.seats
            .iter()
            .filter(|s| s.in_meeting() && Some(s.id) != except)
            .filter_map(Seat::conn)
            .collect()
    }

    fn moderator_conns(&self) -> Vec<ConnId> {
        self.seats
            .iter()
            .filter(|s| s.is_moderator())
            .filter_map(Seat::conn)
            .collect()
    }

    fn new_token(&mut self) -> String {
        format!("{:032x}", self.rng.random::<u128>())
    }

    // ---- messages -----------------------------------------------------------------

    /// The full picture for the seat at `i`, as sent on joining, admission and resume.
    fn joined(&self, i: usize) -> ServerMessage {
        let seat = &self.seats[i];
        let moderator = seat.role.is_moderator();
        ServerMessage::Joined {
            you: seat.id,
            role: seat.role,
            resume_token: seat.resume_token.clone(),
            meeting: self.meeting_state(),
            participants: self
                .seats
                .iter()
                .filter(|s| s.in_meeting())
                .map(|s| s.info(self.self_unmute))
                .collect(),
            waiting: if moderator {
                self.waiting_list()
            } else {
                Vec::new()
            },
            chat: self
                .chat
                .iter()
                .filter(|m| may_read(m, seat.id, moderator))
                .cloned()
                .collect(),
        }
    }

    fn waiting_msg(&self, i: usize) -> ServerMessage {
        let seat = &self.seats[i];
        ServerMessage::Waiting {
            you: seat.id,
            resume_token: seat.resume_token.clone(),
            meeting: self.meeting_state(),
        }
    }

    fn broadcast(&self, except: Option<ParticipantId>, msg: ServerMessage, out: &mut Vec<Output>) {
        send(out, self.meeting_conns(except), msg);
    }

    fn send_waiting_room(&self, out: &mut Vec<Output>) {
        let to = self.moderator_conns();
        if !to.is_empty() {
            send(
                out,
                to,
                ServerMessage::WaitingRoom {
                    waiting: self.waiting_list(),
                },
            );
        }
    }

    fn send_meeting_updated(&self, out: &mut Vec<Output>) {
        self.broadcast(
            None,
            ServerMessage::MeetingUpdated {
                meeting: self.meeting_state(),
            },
            out,
        );
    }

    // ---- changes and roles --------------------------------------------------------

    /// Notes that the seat at `i` is about to change visibly. Call before mutating it.
    fn mark_changed(&mut self, i: usize) {
        let seat = &self.seats[i];
        if !self.changed.iter().any(|c| c.id == seat.id) {
            self.changed.push(Change {
                id: seat.id,
                was_moderator: seat.is_moderator(),
            });
        }
    }

    fn set_role(&mut self, i: usize, role: Role) {
        if self.seats[i].role == role {
            return;
        }
        self.mark_changed(i);
        let seat = &mut self.seats[i];
        if role == Role::Host {
            seat.former_role = seat.role;
        }
        seat.role = role;
    }

    /// Tells everyone in the meeting (but `skip`, who gets the full picture instead) about
    /// the seats marked changed, and sends the waiting room to anyone who became moderator.
    fn announce_changes(&mut self, skip: Option<ParticipantId>, out: &mut Vec<Output>) {
        let mut changes = std::mem::take(&mut self.changed);
        for change in changes.drain(..) {
            let Some(seat) = self.index_of(change.id).map(|i| &self.seats[i]) else {
                continue;
            };
            if !seat.in_meeting() {
                continue;
            }
            self.broadcast(
                skip,
                ServerMessage::ParticipantUpdated {
                    participant: seat.info(self.self_unmute),
                },
                out,
            );
            if !change.was_moderator && seat.is_moderator() && skip != Some(seat.id) {
                send_one(
                    out,
                    seat.conn(),
                    ServerMessage::WaitingRoom {
                        waiting: self.waiting_list(),
                    },
                );
                // A new moderator follows the poll's counts from now on.
                if let Some(i) = self.index_of(change.id) {
                    self.send_poll_to(i, out);
                }
            }
        }
        self.changed = changes;
    }

    /// Keeps a connected host whenever someone connected is in the meeting: if the host's
    /// seat is missing or dropped, the earliest-entered connected co-host, else participant,
    /// takes over. A dropped host steps down to co-host and may reclaim the role on resume;
    /// an interim host that drops in turn goes back to its former role, and the original
    /// host keeps the claim.
    fn ensure_host(&mut self) {
        let host = self.host();
        if host.is_some_and(|h| self.seats[h].is_connected()) {
            return;
        }
        let Some(next) = self
            .seats
            .iter()
            .enumerate()
            .filter(|(_, s)| s.in_meeting() && s.is_connected())
            .min_by_key(|(_, s)| (s.role != Role::CoHost, s.entry))
            .map(|(i, _)| i)
        else {
            return; // nobody could take it: the (dropped) seat keeps the role
        };
        if let Some(h) = host {
            if self.reclaim.is_some() {
                let former = self.seats[h].former_role;
                self.set_role(h, former);
            } else {
                self.set_role(h, Role::CoHost);
                self.reclaim = Some(self.seats[h].id);
            }
        }
        self.set_role(next, Role::Host);
    }

    /// The current host, if any, goes back to the role it had before becoming host.
    fn step_down_host(&mut self) {
        if let Some(h) = self.host() {
            let former = self.seats[h].former_role;
            self.set_role(h, former);
        }
    }

    // ---- joining, leaving, resuming -----------------------------------------------

    fn join(
        &mut self,
        now_ms: i64,
        conn: ConnId,
        request: JoinRequest,
        out: &mut Vec<Output>,
    ) -> Result<(), Refused> {
        if self.seat_of(conn).is_some() {
            return Err(OUT_OF_ORDER);
        }
        if self.ended {
            return Err(refused(
                ErrorCode::MeetingEnded,
                "the host ended this meeting",
            ));
        }
        let name = clean_name(request.display_name)?;
        let user_id = request.member.map(|m| m.user_id);
        if self.config.signed_in_only && user_id.is_none() {
            return Err(refused(
                ErrorCode::SignInRequired,
                "this meeting is for members only",
            ));
        }
        if !request.passcode_ok {
            return Err(refused(ErrorCode::WrongPasscode, "the passcode is wrong"));
        }
        let removed = user_id
            .as_ref()
            .is_some_and(|u| self.removed_users.contains(u))
            || request
                .client_id
                .as_ref()
                .is_some_and(|c| self.removed_clients.contains(c));
        if removed {
            return Err(refused(
                ErrorCode::RemovedFromMeeting,
                "you were removed from this meeting",
            ));
        }
        let is_owner = user_id.is_some() && user_id == self.config.owner_user_id;
        if self.locked && !is_owner {
            return Err(refused(ErrorCode::MeetingLocked, "the meeting is locked"));
        }

        let id = ParticipantId(self.next_participant);
        self.next_participant += 1;
        let resume_token = self.new_token();
        self.seats.push(Seat {
            id,
            name,
            user_id,
            client_id: request.client_id,
            is_owner,
            resume_token,
            link: Link::Connected(conn),
            place: Place::Waiting,
            role: Role::Participant,
            former_role: Role::Participant,
            entry: 0,
            audio_muted: true,
            video_on: false,
            hand_raised: false,
            feedback: None,
            unmute_granted: false,
            forwarding: Forwarding::ALL,
        });
        self.empty_reported = false;
        let i = self.seats.len() - 1;
        if self.config.waiting_room && !is_owner {
            out.push(self.seats[i].attendance(now_ms, AttendanceEvent::EnteredWaitingRoom));
            send_one(out, Some(conn), self.waiting_msg(i));
            self.send_waiting_room(out);
        } else {
            self.enter_meeting(now_ms, i, out);
        }
        Ok(())
    }

    /// Moves the seat at `i` into the meeting (from joining or from the waiting room). The
    /// owner takes the host role; anyone else becomes host only if nobody can run the meeting.
    fn enter_meeting(&mut self, now_ms: i64, i: usize, out: &mut Vec<Output>) {
        if self.seats[i].is_owner {
            self.step_down_host();
            self.reclaim = None;
        }
        let seat = &mut self.seats[i];
        seat.place = Place::Meeting;
        seat.role = if seat.is_owner {
            Role::Host
        } else {
            Role::Participant
        };
        seat.entry = self.next_entry;
        self.next_entry += 1;
        let id = seat.id;
        out.push(seat.attendance(now_ms, AttendanceEvent::Joined));
        self.ensure_host();
        // The newcomer is announced with its final role; others' changes follow separately.
        self.changed.retain(|c| c.id != id);
        send_one(out, self.seats[i].conn(), self.joined(i));
        self.send_poll_to(i, out);
        self.announce_changes(Some(id), out);
        self.broadcast(
            Some(id),
            ServerMessage::ParticipantJoined {
                participant: self.seats[i].info(self.self_unmute),
            },
            out,
        );
    }

    /// Takes the seat at `i` away for good and tells those who should know. The person's
    /// own connection must already have been closed by the caller.
    fn remove_seat(
        &mut self,
        now_ms: i64,
        i: usize,
        event: AttendanceEvent,
        out: &mut Vec<Output>,
    ) {
        let seat = self.seats.remove(i);
        out.push(seat.attendance(now_ms, event));
        if self.reclaim == Some(seat.id) {
            self.reclaim = None;
        }
        if !seat.in_meeting() {
            self.send_waiting_room(out);
            return;
        }
        out.push(Output::MediaGone {
            participant: seat.id,
        });
        if let AttendanceEvent::Left(reason) = event {
            self.broadcast(
                None,
                ServerMessage::ParticipantLeft {
                    participant: seat.id,
                    reason,
                },
                out,
            );
        }
        self.end_spotlight_of(seat.id, out);
        self.ensure_host();
        self.announce_changes(None, out);
    }

    fn resume(&mut self, conn: ConnId, token: &str, out: &mut Vec<Output>) -> Result<(), Refused> {
        if self.seat_of(conn).is_some() {
            return Err(OUT_OF_ORDER);
        }
        let i = self
            .seats
            .iter()
            .position(|s| s.resume_token == token)
            .ok_or(refused(
                ErrorCode::ResumeFailed,
                "this seat is gone; join the meeting again",
            ))?;
        let was_dropped = match self.seats[i].link {
            Link::Connected(old) => {
                close(out, Some(old), CloseReason::Replaced);
                false
            }
            Link::Dropped { .. } => true,
        };
        self.seats[i].link = Link::Connected(conn);
        if !self.seats[i].in_meeting() {
            send_one(out, Some(conn), self.waiting_msg(i));
            return Ok(());
        }
        let id = self.seats[i].id;
        if self.reclaim == Some(id) {
            // The stand-in steps back first, then the seat is host again. Its former role
            // stays as it was before the drop, hence not through `set_role`.
            self.reclaim = None;
            self.step_down_host();
            self.mark_changed(i);
            self.seats[i].role = Role::Host;
        } else if was_dropped {
            self.mark_changed(i);
        }
        self.ensure_host();
        send_one(out, Some(conn), self.joined(i));
        self.send_poll_to(i, out);
        self.announce_changes(Some(id), out);
        Ok(())
    }

    fn disconnected(&mut self, now_ms: i64, conn: ConnId, out: &mut Vec<Output>) {
        let Some(i) = self.seat_of(conn) else {
            return; // never seated, or already replaced by a resume
        };
        if self.seats[i].in_meeting() {
            self.mark_changed(i);
        }
        self.seats[i].link = Link::Dropped { since_ms: now_ms };
        if self.seats[i].in_meeting() {
            self.ensure_host();
            self.announce_changes(None, out);
        }
    }

    /// Gives up seats whose connection has been gone for the whole grace period.
    fn expire(&mut self, now_ms: i64, out: &mut Vec<Output>) {
        let expired = |s: &Seat| matches!(s.link, Link::Dropped { since_ms } if now_ms - since_ms >= GRACE_MS);
        while let Some(i) = self.seats.iter().position(expired) {
            self.remove_seat(now_ms, i, AttendanceEvent::Left(LeaveReason::TimedOut), out);
        }
    }

    // ---- client messages ------------------------------------------------------------

    /// Checks that the sender at `me` may send `msg`, then carries it out. A refusal
    /// happens before any change, so a refused request has no other effect.
    fn act(
        &mut self,
        now_ms: i64,
        me: usize,
        msg: ClientMessage,
        out: &mut Vec<Output>,
    ) -> Result<(), Refused> {
        use ClientMessage as M;
        let sender = &self.seats[me];
        let required = need(&msg, sender.id);
        if required == Need::NoSeat {
            return Err(OUT_OF_ORDER);
        }
        if !sender.in_meeting() && !matches!(msg, M::Leave) {
            return Err(refused(
                ErrorCode::NotAllowed,
                "wait until a host lets you in",
            ));
        }
        let allowed = match required {
            Need::NoSeat | Need::Anyone => true,
            Need::Moderator => sender.role.is_moderator(),
            Need::Host => sender.role == Role::Host,
        };
        if !allowed {
            return Err(NOT_ALLOWED);
        }
        let my_id = sender.id;
        match msg {
            M::Hello { .. } | M::Join { .. } | M::Resume { .. } => return Err(OUT_OF_ORDER),
            M::Leave => {
                close(out, self.seats[me].conn(), CloseReason::Left);
                self.remove_seat(now_ms, me, AttendanceEvent::Left(LeaveReason::Left), out);
            }
            M::Admit { participant } => {
                let i = self.waiting(participant)?;
                self.enter_meeting(now_ms, i, out);
                self.send_waiting_room(out);
            }
            M::AdmitAll => self.admit_all(now_ms, out),
            M::Deny { participant } => {
                let i = self.waiting(participant)?;
                close(out, self.seats[i].conn(), CloseReason::Denied);
                self.remove_seat(now_ms, i, AttendanceEvent::Denied, out);
            }
            M::SendToWaitingRoom { participant } => {
                self.send_to_waiting_room(now_ms, participant, out)?;
            }
            M::SetLocked { locked } => {
                if self.locked != locked {
                    self.locked = locked;
                    self.send_meeting_updated(out);
                }
            }
            M::EndForAll => self.end_for_all(now_ms, out),
            M::Remove { participant } => self.remove(now_ms, participant, out)?,
            M::SetRole { participant, role } => self.appoint(participant, role, out)?,
            M::HandOverHost { participant } => self.hand_over(me, participant, out)?,
            M::Mute { participant } => {
                let i = self.in_meeting(participant)?;
                self.mute(my_id, &[i], out);
            }
            M::MuteAll => {
                let targets: Vec<usize> = (0..self.seats.len())
                    .filter(|&i| {
                        i != me && self.seats[i].in_meeting() && !self.seats[i].is_moderator()
                    })
                    .collect();
                self.mute(my_id, &targets, out);
            }
            M::AskToUnmute { participant } => {
                let i = self.in_meeting(participant)?;
                self.update(i, out, |s| s.unmute_granted = true);
                send_one(
                    out,
                    self.seats[i].conn(),
                    ServerMessage::UnmuteRequested { by: my_id },
                );
            }
            M::SetChatPolicy { policy } => {
                if self.chat_policy != policy {
                    self.chat_policy = policy;
                    self.send_meeting_updated(out);
                }
            }
            M::SetSharePolicy { policy } => {
                if self.share_policy != policy {
                    self.share_policy = policy;
                    self.send_meeting_updated(out);
                }
            }
            M::SetMuteOnEntry { mute_on_entry } => {
                if self.mute_on_entry != mute_on_entry {
                    self.mute_on_entry = mute_on_entry;
                    self.send_meeting_updated(out);
                }
            }
            M::SetSelfUnmute { allowed } => self.set_self_unmute(allowed, out),
            M::SetSpotlight { participant } => {
                if let Some(p) = participant {
                    self.in_meeting(p)?;
                }
                if self.spotlight != participant {
                    self.spotlight = participant;
                    self.send_meeting_updated(out);
                }
            }
            M::SetMedia {
                audio_muted,
                video_on,
            } => {
                let seat = &self.seats[me];
                let held = !audio_muted && seat.audio_muted && !seat.may_unmute(self.self_unmute);
                // The camera part still applies: a client that says "unmuted, camera on" in
                // one message is seen with its camera on, and stays muted.
                self.update(me, out, |s| {
                    s.audio_muted = audio_muted || held;
                    s.video_on = video_on;
                });
                if let Some(conn) = self.seats[me].conn().filter(|_| held) {
                    error(
                        out,
                        conn,
                        refused(
                            ErrorCode::NotAllowed,
                            "the host has not allowed participants to unmute themselves",
                        ),
                    );
                }
            }
            M::RaiseHand => self.update(me, out, |s| s.hand_raised = true),
            M::LowerHand { participant } => {
                let i = self.in_meeting(participant.unwrap_or(my_id))?;
                self.update(i, out, |s| s.hand_raised = false);
            }
            M::Rename { participant, name } => {
                let i = self.in_meeting(participant.unwrap_or(my_id))?;
                let name = clean_name(name)?;
                self.update(i, out, |s| s.name = name);
            }
            M::React { reaction } => self.react(my_id, reaction, out),
            M::SetFeedback { feedback } => self.update(me, out, |s| s.feedback = feedback),
            M::ClearFeedback => {
                for i in 0..self.seats.len() {
                    if self.seats[i].in_meeting() && self.seats[i].feedback.is_some() {
                        self.mark_changed(i);
                        self.seats[i].feedback = None;
                    }
                }
                self.announce_changes(None, out);
            }
            M::Chat { to, text } => self.chat(now_ms, me, to, text, out)?,
            M::StartPoll {
                question,
                options,
                multiple,
            } => {
                if self.poll.as_ref().is_some_and(Poll::is_open) {
                    return Err(refused(
                        ErrorCode::NotAllowed,
                        "a poll is running: end it before starting another",
                    ));
                }
                self.poll = Some(Poll::new(
                    self.next_poll,
                    my_id,
                    question,
                    options,
                    multiple,
                )?);
                self.next_poll += 1;
                self.send_poll_to_everyone(out);
            }
            M::Vote { poll, choices } => {
                self.poll_named(poll)?.answer(my_id, choices)?;
                // The voter sees their answer taken; whoever moderates, the new counts.
                for i in 0..self.seats.len() {
                    if i == me || self.seats[i].is_moderator() {
                        self.send_poll_to(i, out);
                    }
                }
            }
            M::EndPoll { poll } => {
                if self.poll_named(poll)?.end() {
                    self.send_poll_to_everyone(out);
                }
            }
            M::SharePollResults { poll } => {
                if self.poll_named(poll)?.share()? {
                    self.send_poll_to_everyone(out);
                }
            }
            M::MediaOffer { sdp, tracks } => {
                let sharing = tracks.iter().any(|t| t.kind == TrackKind::Screen);
                let seat = &self.seats[me];
                if sharing && !seat.forwarding(self.self_unmute, self.share_policy).screen {
                    // The offer still goes through, so that the session stays in step with
                    // the client; the SFU forwards the screen to no one.
                    send_one(
                        out,
                        seat.conn(),
                        ServerMessage::Error {
                            code: ErrorCode::NotAllowed,
                            message: "only hosts may share their screen in this meeting".into(),
                        },
                    );
                }
                out.push(Output::Media {
                    participant: my_id,
                    request: MediaRequest::Offer { sdp, tracks },
                });
            }
            M::MediaAnswer { sdp } => out.push(Output::Media {
                participant: my_id,
                request: MediaRequest::Answer { sdp },
            }),
            M::SubscribeVideo {
                participant,
                kind,
                max_height,
            } => out.push(Output::Media {
                participant: my_id,
                request: MediaRequest::SubscribeVideo {
                    participant,
                    kind,
                    max_height,
                },
            }),
        }
        Ok(())
    }

    /// Applies `change` to the seat at `i` and announces it if anything visible changed.
    fn update(&mut self, i: usize, out: &mut Vec<Output>, change: impl FnOnce(&mut Seat)) {
        let before = self.seats[i].info(self.self_unmute);
        change(&mut self.seats[i]);
        let after = self.seats[i].info(self.self_unmute);
        if before != after {
            self.broadcast(
                None,
                ServerMessage::ParticipantUpdated { participant: after },
                out,
            );
        }
    }

    fn admit_all(&mut self, now_ms: i64, out: &mut Vec<Output>) {
        let mut admitted = false;
        while let Some(i) = self.seats.iter().position(|s| !s.in_meeting()) {
            self.enter_meeting(now_ms, i, out);
            admitted = true;
        }
        if admitted {
            self.send_waiting_room(out);
        }
    }

    fn send_to_waiting_room(
        &mut self,
        now_ms: i64,
        participant: ParticipantId,
        out: &mut Vec<Output>,
    ) -> Result<(), Refused> {
        let i = self.in_meeting(participant)?;
        if self.seats[i].role == Role::Host {
            return Err(refused(ErrorCode::NotAllowed, "the host cannot be moved"));
        }
        if self.reclaim == Some(participant) {
            self.reclaim = None;
        }
        out.push(Output::MediaGone { participant });
        self.end_spotlight_of(participant, out);
        let seat = &mut self.seats[i];
        seat.place = Place::Waiting;
        seat.role = Role::Participant;
        seat.hand_raised = false;
        seat.feedback = None;
        out.push(seat.attendance(
            now_ms,
            AttendanceEvent::Left(LeaveReason::MovedToWaitingRoom),
        ));
        out.push(seat.attendance(now_ms, AttendanceEvent::EnteredWaitingRoom));
        let conn = seat.conn();
        self.broadcast(
            None,
            ServerMessage::ParticipantLeft {
                participant,
                reason: LeaveReason::MovedToWaitingRoom,
            },
            out,
        );
        send_one(out, conn, ServerMessage::MovedToWaitingRoom);
        send_one(out, conn, self.waiting_msg(i));
        self.send_waiting_room(out);
        Ok(())
    }

    /// Ends the meeting for everyone, waiting room included.
    fn end_for_all(&mut self, now_ms: i64, out: &mut Vec<Output>) {
        let conns: Vec<ConnId> = self.seats.iter().filter_map(Seat::conn).collect();
        send(
            out,
            conns.clone(),
            ServerMessage::Closed {
                reason: CloseReason::MeetingEnded,
            },
        );
        out.extend(conns.into_iter().map(|conn| Output::Close { conn }));
        for seat in self.seats.drain(..) {
            if seat.in_meeting() {
                out.push(Output::MediaGone {
                    participant: seat.id,
                });
            }
            out.push(seat.attendance(now_ms, AttendanceEvent::MeetingEnded));
        }
        self.reclaim = None;
        self.ended = true;
    }

    /// Removes someone for good: their seat and resume token die, and neither their account
    /// nor their installation may join again.
    fn remove(
        &mut self,
        now_ms: i64,
        participant: ParticipantId,
        out: &mut Vec<Output>,
    ) -> Result<(), Refused> {
        let i = self.index_of(participant).ok_or(NOT_FOUND)?;
        let seat = &self.seats[i];
        if seat.in_meeting() && seat.role == Role::Host {
            return Err(refused(ErrorCode::NotAllowed, "the host cannot be removed"));
        }
        if let Some(user_id) = &seat.user_id {
            self.removed_users.insert(user_id.clone());
        }
        if let Some(client_id) = &seat.client_id {
            self.removed_clients.insert(client_id.clone());
        }
        close(out, seat.conn(), CloseReason::Removed);
        self.remove_seat(now_ms, i, AttendanceEvent::Left(LeaveReason::Removed), out);
        Ok(())
    }

    /// The host makes someone co-host or takes it back.
    fn appoint(
        &mut self,
        participant: ParticipantId,
        role: Role,
        out: &mut Vec<Output>,
    ) -> Result<(), Refused> {
        if role == Role::Host {
            return Err(refused(
                ErrorCode::InvalidArgument,
                "use hand_over_host to pass the host role",
            ));
        }
        let i = self.in_meeting(participant)?;
        if self.seats[i].role == Role::Host {
            return Err(refused(
                ErrorCode::InvalidArgument,
                "hand the host role over instead",
            ));
        }
        // A deliberate decision about a dropped host overrides its claim to the role.
        if self.reclaim == Some(participant) {
            self.reclaim = None;
        }
        self.set_role(i, role);
        self.announce_changes(None, out);
        Ok(())
    }

    fn hand_over(
        &mut self,
        me: usize,
        participant: ParticipantId,
        out: &mut Vec<Output>,
    ) -> Result<(), Refused> {
        let i = self.in_meeting(participant)?;
        if i == me {
            return Err(refused(
                ErrorCode::InvalidArgument,
                "you are already the host",
            ));
        }
        if !self.seats[i].is_connected() {
            return Err(refused(
                ErrorCode::InvalidArgument,
                "that participant is not connected",
            ));
        }
        self.set_role(me, Role::CoHost);
        self.set_role(i, Role::Host);
        self.announce_changes(None, out);
        Ok(())
    }

    /// Mutes the seats at `targets`. Muting only ever turns a microphone off; the muted get
    /// one shared notice, everyone the new state.
    fn mute(&mut self, by: ParticipantId, targets: &[usize], out: &mut Vec<Output>) {
        let mut notified = Vec::new();
        for &i in targets {
            let seat = &self.seats[i];
            // A grant taken back shows only where participants may not unmute themselves.
            if !seat.audio_muted || (seat.unmute_granted && !self.self_unmute) {
                self.mark_changed(i);
            }
            let seat = &mut self.seats[i];
            seat.unmute_granted = false;
            if !seat.audio_muted {
                seat.audio_muted = true;
                notified.extend(seat.conn());
            }
        }
        send(out, notified, ServerMessage::MutedBy { by });
        self.announce_changes(None, out);
    }

    /// Lets participants unmute themselves, or stops them. Either way earlier "ask to
    /// unmute" grants end: they answered the old rule.
    fn set_self_unmute(&mut self, allowed: bool, out: &mut Vec<Output>) {
        if self.self_unmute == allowed {
            return;
        }
        for i in 0..self.seats.len() {
            let seat = &self.seats[i];
            if seat.in_meeting() && !seat.role.is_moderator() {
                self.mark_changed(i);
            }
            self.seats[i].unmute_granted = false;
        }
        self.self_unmute = allowed;
        self.send_meeting_updated(out);
        self.announce_changes(None, out);
    }

    /// The meeting's poll if a request names it (an older poll's id is refused).
    fn poll_named(&mut self, id: u32) -> Result<&mut Poll, Refused> {
        self.poll.as_mut().filter(|p| p.id() == id).ok_or(NO_POLL)
    }

    /// Sends the seat at `i` the poll as they may see it, if there is one and they are in
    /// the meeting.
    fn send_poll_to(&self, i: usize, out: &mut Vec<Output>) {
        let seat = &self.seats[i];
        if let (Some(poll), true) = (&self.poll, seat.in_meeting()) {
            send_one(
                out,
                seat.conn(),
                ServerMessage::Poll {
                    poll: poll.view(seat.id, seat.is_moderator()),
                },
            );
        }
    }

    /// Sends everyone in the meeting the poll as each may see it (their own answer differs).
    fn send_poll_to_everyone(&self, out: &mut Vec<Output>) {
        for i in 0..self.seats.len() {
            self.send_poll_to(i, out);
        }
    }

    /// Ends the spotlight on someone who is leaving the meeting.
    fn end_spotlight_of(&mut self, participant: ParticipantId, out: &mut Vec<Output>) {
        if self.spotlight == Some(participant) {
            self.spotlight = None;
            self.send_meeting_updated(out);
        }
    }

    /// Tells the SFU what it may forward of each seat's media, where that changed. Runs
    /// after every input, so no rule change can leave a microphone or a screen open.
    fn sync_forwarding(&mut self, out: &mut Vec<Output>) {
        for seat in &mut self.seats {
            if !seat.in_meeting() {
                // The SFU forgets a seat that leaves the meeting (`MediaGone`).
                seat.forwarding = Forwarding::ALL;
                continue;
            }
            let forwarding = seat.forwarding(self.self_unmute, self.share_policy);
            if seat.forwarding != forwarding {
                seat.forwarding = forwarding;
                out.push(Output::Media {
                    participant: seat.id,
                    request: MediaRequest::Forwarding(forwarding),
                });
            }
        }
    }

    fn react(&self, participant: ParticipantId, reaction: Reaction, out: &mut Vec<Output>) {
        self.broadcast(
            None,
            ServerMessage::Reaction {
                participant,
                reaction,
            },
            out,
        );
    }

    fn chat(
        &mut self,
        now_ms: i64,
        me: usize,
        to: ChatTarget,
        text: String,
        out: &mut Vec<Output>,
    ) -> Result<(), Refused> {
        let text = trimmed(text);
        if text.is_empty() || text.chars().count() > MAX_CHAT_CHARS {
            return Err(refused(
                ErrorCode::InvalidArgument,
                "a chat message has 1 to 4000 characters",
            ));
        }
        let recipient = match to {
            ChatTarget::Participant { id } => Some(self.in_meeting(id)?),
            ChatTarget::Everyone | ChatTarget::Hosts => None,
        };
        if !self.may_send(self.seats[me].role, to, recipient) {
            return Err(refused(
                ErrorCode::ChatNotAllowed,
                "the chat policy does not allow this",
            ));
        }
        let sender = &self.seats[me];
        let recipients = match to {
            ChatTarget::Everyone => self.meeting_conns(None),
            ChatTarget::Hosts => self
                .seats
                .iter()
                .filter(|s| s.is_moderator() || s.id == sender.id)
                .filter_map(Seat::conn)
                .collect(),
            ChatTarget::Participant { .. } => {
                let mut conns: Vec<ConnId> = sender.conn().into_iter().collect();
                let other = recipient.and_then(|r| self.seats[r].conn());
                conns.extend(other.filter(|c| !conns.contains(c)));
                conns
            }
        };
        let message = ChatMessage {
            seq: self.next_chat_seq,
            from: sender.id,
            from_name: sender.name.clone(),
            to,
            text,
            sent_at_ms: now_ms,
        };
        self.next_chat_seq += 1;
        out.push(Output::Store(Record::Chat(message.clone())));
        send(
            out,
            recipients,
            ServerMessage::Chat {
                message: message.clone(),
            },
        );
        if self.chat.len() == CHAT_MEMORY {
            self.chat.pop_front();
        }
        self.chat.push_back(message);
        Ok(())
    }

    /// The chat policy: moderators may always write; under `HostsOnly` others may write to
    /// the hosts, together or one of them privately; under `Off` only moderators write.
    fn may_send(&self, role: Role, to: ChatTarget, recipient: Option<usize>) -> bool {
        if role.is_moderator() {
            return true;
        }
        match self.chat_policy {
            ChatPolicy::Everyone => true,
            ChatPolicy::HostsOnly => match to {
                ChatTarget::Hosts => true,
                ChatTarget::Participant { .. } => {
                    recipient.is_some_and(|r| self.seats[r].role.is_moderator())
                }
                ChatTarget::Everyone => false,
            },
            ChatPolicy::Off => false,
        }
    }
}

/// The fields of [`Input::Join`] past the connection, moved into [`MeetingMachine::join`].
struct JoinRequest {
    display_name: String,
    member: Option<Member>,
    client_id: Option<String>,
    passcode_ok: bool,
}
