//! The meeting rules as people see them: who receives which message after each input.

use samla_protocol::{
    ChatMessage, ChatPolicy, ChatTarget, ClientMessage, CloseReason, ErrorCode, Feedback,
    LeaveReason, MeetingId, ParticipantId, ParticipantInfo, PollView, PublishedTrack, Reaction,
    Role, ServerMessage, SharePolicy, TrackKind, PROTOCOL_VERSION,
};

use super::MeetingMachine;
use crate::meeting::{
    AttendanceEvent, ConnId, Forwarding, Input, MediaRequest, MeetingConfig, Member, Output, Record,
};

const T0: i64 = 1_700_000_000_000;
const OWNER: &str = "owner-1";

fn meeting_id() -> MeetingId {
    "123456789".parse().unwrap()
}

fn config(waiting_room: bool) -> MeetingConfig {
    MeetingConfig {
        id: meeting_id(),
        topic: "Weekly".into(),
        waiting_room,
        signed_in_only: false,
        has_passcode: false,
        owner_user_id: Some(OWNER.into()),
        mute_on_entry: false,
        share_policy: SharePolicy::Everyone,
    }
}

/// Someone asking to join.
#[derive(Clone, Default)]
struct Joiner {
    name: String,
    user: Option<String>,
    client: Option<String>,
    wrong_passcode: bool,
}

fn guest(name: &str) -> Joiner {
    Joiner {
        name: name.into(),
        ..Joiner::default()
    }
}

fn member(name: &str, user: &str) -> Joiner {
    Joiner {
        user: Some(user.into()),
        ..guest(name)
    }
}

fn owner() -> Joiner {
    member("Olga Owner", OWNER)
}

impl Joiner {
    fn client(mut self, client: &str) -> Self {
        self.client = Some(client.into());
        self
    }
}

/// A seated person, as their client knows them.
#[derive(Debug, Clone)]
struct Person {
    conn: ConnId,
    id: ParticipantId,
    token: String,
}

/// A meeting under test with a clock and a supply of connections.
struct Meeting {
    machine: MeetingMachine,
    now: i64,
    next_conn: u64,
}

impl Meeting {
    fn new(waiting_room: bool) -> Self {
        Self::with(config(waiting_room), Vec::new(), 1)
    }

    fn with(config: MeetingConfig, history: Vec<ChatMessage>, next_participant: u32) -> Self {
        let machine = MeetingMachine::new(config, history, next_participant, 7);
        Self {
            machine,
            now: T0,
            next_conn: 100,
        }
    }

    fn input(&mut self, input: Input) -> Vec<Output> {
        let mut out = Vec::new();
        self.machine.handle(self.now, input, &mut out);
        out
    }

    fn new_conn(&mut self) -> ConnId {
        self.next_conn += 1;
        ConnId(self.next_conn)
    }

    fn try_join(&mut self, joiner: Joiner) -> (ConnId, Vec<Output>) {
        let conn = self.new_conn();
        let out = self.join_on(conn, joiner);
        (conn, out)
    }

    fn join_on(&mut self, conn: ConnId, joiner: Joiner) -> Vec<Output> {
        self.input(Input::Join {
            conn,
            display_name: joiner.name,
            member: joiner.user.map(|user_id| Member { user_id }),
            client_id: joiner.client,
            passcode_ok: !joiner.wrong_passcode,
        })
    }

    /// Joins (into the meeting or the waiting room) and returns the seat.
    fn join(&mut self, joiner: Joiner) -> Person {
        let (conn, out) = self.try_join(joiner);
        seat_from(conn, &out)
    }

    fn send(&mut self, who: &Person, msg: ClientMessage) -> Vec<Output> {
        self.input(Input::Message {
            conn: who.conn,
            msg,
        })
    }

    fn drop_conn(&mut self, who: &Person) -> Vec<Output> {
        self.input(Input::Disconnected { conn: who.conn })
    }

    /// Resumes `who`'s seat on a new connection.
    fn resume(&mut self, who: &Person) -> (Person, Vec<Output>) {
        let conn = self.new_conn();
        let out = self.input(Input::Resume {
            conn,
            resume_token: who.token.clone(),
        });
        (
            Person {
                conn,
                ..who.clone()
            },
            out,
        )
    }

    fn tick_after(&mut self, ms: i64) -> Vec<Output> {
        self.now += ms;
        self.input(Input::Tick)
    }
}

/// The seat the first `joined` or `waiting` to `conn` describes.
fn seat_from(conn: ConnId, out: &[Output]) -> Person {
    for msg in to(out, conn) {
        match msg {
            ServerMessage::Joined {
                you, resume_token, ..
            }
            | ServerMessage::Waiting {
                you, resume_token, ..
            } => {
                return Person {
                    conn,
                    id: *you,
                    token: resume_token.clone(),
                };
            }
            _ => {}
        }
    }
    panic!("no joined/waiting for {conn:?} in {out:#?}");
}

/// Everything sent to `conn`, in order.
fn to(out: &[Output], conn: ConnId) -> Vec<&ServerMessage> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send { to, msg } if to.contains(&conn) => Some(msg),
            _ => None,
        })
        .collect()
}

fn nothing_to(out: &[Output], who: &Person) -> bool {
    to(out, who.conn).is_empty()
}

fn closed(out: &[Output], who: &Person) -> bool {
    out.contains(&Output::Close { conn: who.conn })
}

/// Asserts that the whole answer is one error of `code` to `who`.
#[track_caller]
fn assert_refused(out: &[Output], who: ConnId, code: ErrorCode) {
    match out {
        [Output::Send {
            to,
            msg: ServerMessage::Error { code: got, .. },
        }] if to == &[who] => {
            assert_eq!(*got, code, "{out:#?}");
        }
        _ => panic!("expected only a {code:?} error to {who:?}, got {out:#?}"),
    }
}

fn attendance(out: &[Output]) -> Vec<(ParticipantId, AttendanceEvent)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Store(Record::Attendance(a)) => {
                assert!(a.at_ms > 0);
                Some((a.participant, a.event))
            }
            _ => None,
        })
        .collect()
}

fn stored_chat(out: &[Output]) -> Vec<&ChatMessage> {
    out.iter()
        .filter_map(|o| match o {
            Output::Store(Record::Chat(m)) => Some(m),
            _ => None,
        })
        .collect()
}

/// The participant list of the `joined` sent to `who`, as (id, role, connected).
fn joined_participants(out: &[Output], who: &Person) -> Vec<(ParticipantId, Role, bool)> {
    match joined(out, who) {
        ServerMessage::Joined { participants, .. } => participants
            .iter()
            .map(|p| (p.id, p.role, p.connected))
            .collect(),
        _ => unreachable!(),
    }
}

fn joined<'a>(out: &'a [Output], who: &Person) -> &'a ServerMessage {
    to(out, who.conn)
        .into_iter()
        .find(|m| matches!(m, ServerMessage::Joined { .. }))
        .unwrap_or_else(|| panic!("no joined for {who:?} in {out:#?}"))
}

fn role_in_joined(out: &[Output], who: &Person) -> Role {
    match joined(out, who) {
        ServerMessage::Joined { role, .. } => *role,
        _ => unreachable!(),
    }
}

/// Roles as the `participant_updated` messages in `out` announce them, in order.
fn updated_roles(out: &[Output], seen_by: &Person) -> Vec<(ParticipantId, Role)> {
    to(out, seen_by.conn)
        .into_iter()
        .filter_map(|m| match m {
            ServerMessage::ParticipantUpdated { participant } => {
                Some((participant.id, participant.role))
            }
            _ => None,
        })
        .collect()
}

fn waiting_ids(msg: &ServerMessage) -> Vec<ParticipantId> {
    match msg {
        ServerMessage::WaitingRoom { waiting } => waiting.iter().map(|w| w.id).collect(),
        other => panic!("not a waiting_room: {other:?}"),
    }
}

fn chat_to(to: ChatTarget, text: &str) -> ClientMessage {
    ClientMessage::Chat {
        to,
        text: text.into(),
    }
}

fn private(to: &Person) -> ChatTarget {
    ChatTarget::Participant { id: to.id }
}

/// The texts of the chat messages `who` received in `out`.
fn chats_to(out: &[Output], who: &Person) -> Vec<String> {
    to(out, who.conn)
        .into_iter()
        .filter_map(|m| match m {
            ServerMessage::Chat { message } => Some(message.text.clone()),
            _ => None,
        })
        .collect()
}

/// A meeting without waiting room: host Hanna (first in), then participants Per and Pia.
fn host_and_two() -> (Meeting, Person, Person, Person) {
    let mut m = Meeting::new(false);
    let host = m.join(guest("Hanna"));
    let per = m.join(guest("Per"));
    let pia = m.join(guest("Pia"));
    (m, host, per, pia)
}

// ---- joining ----------------------------------------------------------------------

#[test]
fn without_waiting_room_the_first_one_in_becomes_host() {
    let mut m = Meeting::new(false);
    let (conn, out) = m.try_join(guest("  Hanna  "));
    let hanna = seat_from(conn, &out);
    assert_eq!(hanna.id, ParticipantId(1));
    assert_eq!(hanna.token.len(), 32);
    assert!(hanna.token.chars().all(|c| c.is_ascii_hexdigit()));
    match joined(&out, &hanna) {
        ServerMessage::Joined {
            role,
            participants,
            meeting,
            ..
        } => {
            assert_eq!(*role, Role::Host);
            assert_eq!(participants.len(), 1);
            assert_eq!(participants[0].name, "Hanna", "names are trimmed");
            assert!(participants[0].connected && !participants[0].signed_in);
            assert_eq!(meeting.topic, "Weekly");
        }
        _ => unreachable!(),
    }
    assert_eq!(attendance(&out), [(hanna.id, AttendanceEvent::Joined)]);

    let (conn, out) = m.try_join(member("Per", "u-per"));
    let per = seat_from(conn, &out);
    assert_eq!(per.id, ParticipantId(2));
    assert_ne!(per.token, hanna.token);
    assert_eq!(role_in_joined(&out, &per), Role::Participant);
    assert_eq!(
        joined_participants(&out, &per),
        [
            (hanna.id, Role::Host, true),
            (per.id, Role::Participant, true)
        ]
    );
    match to(&out, hanna.conn)[..] {
        [ServerMessage::ParticipantJoined { participant }] => {
            assert_eq!(participant.id, per.id);
            assert!(participant.signed_in);
        }
        ref other => panic!("{other:?}"),
    }
    assert_eq!(m.machine.participant_count(), 2);
    assert_eq!(m.machine.role_of(per.conn), Some(Role::Participant));
    assert_eq!(m.machine.role_of(hanna.conn), Some(Role::Host));
}

#[test]
fn participant_ids_continue_from_the_store() {
    let mut m = Meeting::with(config(false), Vec::new(), 41);
    assert_eq!(m.join(guest("A")).id, ParticipantId(41));
    assert_eq!(m.join(guest("B")).id, ParticipantId(42));
}

#[test]
fn a_refused_join_keeps_the_connection_open_for_another_try() {
    let long = "x".repeat(samla_protocol::MAX_NAME_CHARS + 1);
    let mut m = Meeting::new(false);
    for (joiner, code) in [
        (guest("   "), ErrorCode::InvalidArgument),
        (guest(&long), ErrorCode::InvalidArgument),
        (
            Joiner {
                wrong_passcode: true,
                ..guest("Per")
            },
            ErrorCode::WrongPasscode,
        ),
    ] {
        let (conn, out) = m.try_join(joiner);
        assert_refused(&out, conn, code);
    }
    // The same connection may try again and get in.
    let (conn, out) = m.try_join(Joiner {
        wrong_passcode: true,
        ..guest("Per")
    });
    assert_refused(&out, conn, ErrorCode::WrongPasscode);
    let out = m.join_on(conn, guest(&"y".repeat(samla_protocol::MAX_NAME_CHARS)));
    let per = seat_from(conn, &out);
    // Joining again on a seated connection is out of order.
    let out = m.join_on(per.conn, guest("Per again"));
    assert_refused(&out, per.conn, ErrorCode::OutOfOrder);
    assert_eq!(m.machine.participant_count(), 1);
}

#[test]
fn members_only_meetings_refuse_guests() {
    let mut m = Meeting::with(
        MeetingConfig {
            signed_in_only: true,
            ..config(false)
        },
        Vec::new(),
        1,
    );
    let (conn, out) = m.try_join(guest("Gus"));
    assert_refused(&out, conn, ErrorCode::SignInRequired);
    m.join(member("Mia", "u-mia"));
}

#[test]
fn a_locked_meeting_lets_only_the_owner_in() {
    let (mut m, host, per, _) = host_and_two();
    let out = m.send(&host, ClientMessage::SetLocked { locked: true });
    match to(&out, per.conn)[..] {
        [ServerMessage::MeetingUpdated { meeting }] => assert!(meeting.locked),
        ref other => panic!("{other:?}"),
    }
    let (conn, out) = m.try_join(guest("Late"));
    assert_refused(&out, conn, ErrorCode::MeetingLocked);
    let olga = m.join(owner());
    assert_eq!(m.machine.role_of(olga.conn), Some(Role::Host));

    let out = m.send(&olga, ClientMessage::SetLocked { locked: false });
    assert!(
        matches!(to(&out, per.conn)[..], [ServerMessage::MeetingUpdated { meeting }] if !meeting.locked)
    );
    m.join(guest("Late"));
}

#[test]
fn the_owner_takes_the_host_role_and_the_interim_host_steps_back() {
    let (mut m, hanna, per, _) = host_and_two();
    let (conn, out) = m.try_join(owner());
    let olga = seat_from(conn, &out);
    assert_eq!(role_in_joined(&out, &olga), Role::Host);
    assert_eq!(updated_roles(&out, &per), [(hanna.id, Role::Participant)]);
    assert!(matches!(
        to(&out, per.conn).last(),
        Some(ServerMessage::ParticipantJoined { participant }) if participant.role == Role::Host
    ));
    assert_eq!(m.machine.role_of(hanna.conn), Some(Role::Participant));
}

#[test]
fn a_co_host_who_stood_in_as_host_returns_to_co_host_when_the_owner_comes() {
    let (mut m, hanna, per, _) = host_and_two();
    m.send(
        &hanna,
        ClientMessage::SetRole {
            participant: per.id,
            role: Role::CoHost,
        },
    );
    m.send(&hanna, ClientMessage::Leave);
    assert_eq!(m.machine.role_of(per.conn), Some(Role::Host));
    m.join(owner());
    assert_eq!(m.machine.role_of(per.conn), Some(Role::CoHost));
}

// ---- waiting room -----------------------------------------------------------------

/// A meeting with waiting room and the owner as host.
fn with_waiting_room() -> (Meeting, Person) {
    let mut m = Meeting::new(true);
    let olga = m.join(owner());
    (m, olga)
}

#[test]
fn with_waiting_room_everyone_but_the_owner_waits() {
    let mut m = Meeting::new(true);
    let (conn, out) = m.try_join(guest("Early"));
    let early = seat_from(conn, &out);
    assert!(matches!(
        to(&out, conn)[..],
        [ServerMessage::Waiting { .. }]
    ));
    assert_eq!(
        attendance(&out),
        [(early.id, AttendanceEvent::EnteredWaitingRoom)]
    );
    assert_eq!(m.machine.waiting_count(), 1);
    assert_eq!(m.machine.participant_count(), 0);

    let (conn, out) = m.try_join(owner());
    let olga = seat_from(conn, &out);
    match joined(&out, &olga) {
        ServerMessage::Joined { role, waiting, .. } => {
            assert_eq!(*role, Role::Host);
            assert_eq!(waiting.len(), 1, "moderators see who waits");
            assert_eq!(waiting[0].name, "Early");
        }
        _ => unreachable!(),
    }
    assert!(nothing_to(&out, &early));

    let (conn, out) = m.try_join(guest("Later"));
    let later = seat_from(conn, &out);
    assert!(matches!(
        to(&out, later.conn)[..],
        [ServerMessage::Waiting { .. }]
    ));
    assert_eq!(waiting_ids(to(&out, olga.conn)[0]), [early.id, later.id]);
    assert!(nothing_to(&out, &early));
}

#[test]
fn admitting_brings_a_waiting_person_in() {
    let (mut m, olga) = with_waiting_room();
    let a = m.join(guest("A"));
    let b = m.join(guest("B"));
    let out = m.send(&olga, ClientMessage::Admit { participant: a.id });
    match joined(&out, &a) {
        ServerMessage::Joined {
            role,
            waiting,
            participants,
            ..
        } => {
            assert_eq!(*role, Role::Participant);
            assert!(waiting.is_empty(), "only moderators see the waiting room");
            assert_eq!(participants.len(), 2);
        }
        _ => unreachable!(),
    }
    let host_sees = to(&out, olga.conn);
    assert!(
        matches!(host_sees[0], ServerMessage::ParticipantJoined { participant } if participant.id == a.id)
    );
    assert_eq!(waiting_ids(host_sees[1]), [b.id]);
    assert!(nothing_to(&out, &b));
    assert_eq!(attendance(&out), [(a.id, AttendanceEvent::Joined)]);

    // Admitting someone who is not waiting.
    let out = m.send(&olga, ClientMessage::Admit { participant: a.id });
    assert_refused(&out, olga.conn, ErrorCode::ParticipantNotFound);
}

#[test]
fn denying_sends_a_waiting_person_away() {
    let (mut m, olga) = with_waiting_room();
    let a = m.join(guest("A"));
    let out = m.send(&olga, ClientMessage::Deny { participant: a.id });
    assert_eq!(
        to(&out, a.conn),
        [&ServerMessage::Closed {
            reason: CloseReason::Denied
        }]
    );
    assert!(closed(&out, &a));
    assert_eq!(waiting_ids(to(&out, olga.conn)[0]), []);
    assert_eq!(attendance(&out), [(a.id, AttendanceEvent::Denied)]);
    assert_eq!(m.machine.waiting_count(), 0);
    // Denied is not removed: they may knock again.
    m.join(guest("A"));
}

#[test]
fn admit_all_empties_the_waiting_room() {
    let (mut m, olga) = with_waiting_room();
    let a = m.join(guest("A"));
    let b = m.join(guest("B"));
    let out = m.send(&olga, ClientMessage::AdmitAll);
    assert_eq!(role_in_joined(&out, &a), Role::Participant);
    assert_eq!(joined_participants(&out, &b).len(), 3);
    let waiting_updates: Vec<_> = to(&out, olga.conn)
        .into_iter()
        .filter(|m| matches!(m, ServerMessage::WaitingRoom { .. }))
        .collect();
    assert_eq!(waiting_updates.len(), 1, "one update for the batch");
    assert_eq!(waiting_ids(waiting_updates[0]), []);
    assert_eq!(m.machine.participant_count(), 3);
    // A, already in, is told about B.
    assert!(to(&out, a.conn)
        .iter()
        .any(|msg| matches!(msg, ServerMessage::ParticipantJoined { participant } if participant.id == b.id)));
}

#[test]
fn people_in_the_waiting_room_may_only_leave() {
    let (mut m, olga) = with_waiting_room();
    let a = m.join(guest("A"));
    for msg in [
        ClientMessage::RaiseHand,
        chat_to(ChatTarget::Everyone, "let me in"),
        ClientMessage::SetMedia {
            audio_muted: false,
            video_on: true,
        },
        ClientMessage::Rename {
            participant: None,
            name: "B".into(),
        },
        ClientMessage::React {
            reaction: Reaction::Clap,
        },
    ] {
        let out = m.send(&a, msg);
        assert_refused(&out, a.conn, ErrorCode::NotAllowed);
    }
    let out = m.send(&a, ClientMessage::Leave);
    assert_eq!(
        to(&out, a.conn),
        [&ServerMessage::Closed {
            reason: CloseReason::Left
        }]
    );
    assert!(closed(&out, &a));
    assert_eq!(waiting_ids(to(&out, olga.conn)[0]), []);
    assert_eq!(
        attendance(&out),
        [(a.id, AttendanceEvent::Left(LeaveReason::Left))]
    );
}

#[test]
fn a_moderator_can_send_someone_back_to_the_waiting_room() {
    let (mut m, olga) = with_waiting_room();
    let a = m.join(guest("A"));
    let b = m.join(guest("B"));
    m.send(&olga, ClientMessage::AdmitAll);
    m.send(
        &olga,
        ClientMessage::SetRole {
            participant: a.id,
            role: Role::CoHost,
        },
    );

    let out = m.send(
        &olga,
        ClientMessage::SendToWaitingRoom { participant: a.id },
    );
    assert_eq!(to(&out, a.conn)[0], &ServerMessage::MovedToWaitingRoom);
    assert!(matches!(to(&out, a.conn)[1], ServerMessage::Waiting { you, .. } if *you == a.id));
    assert_eq!(to(&out, a.conn).len(), 2);
    assert!(!closed(&out, &a));
    assert_eq!(
        to(&out, b.conn),
        [&ServerMessage::ParticipantLeft {
            participant: a.id,
            reason: LeaveReason::MovedToWaitingRoom
        }]
    );
    assert_eq!(waiting_ids(to(&out, olga.conn)[1]), [a.id]);
    assert_eq!(
        attendance(&out),
        [
            (a.id, AttendanceEvent::Left(LeaveReason::MovedToWaitingRoom)),
            (a.id, AttendanceEvent::EnteredWaitingRoom)
        ]
    );
    // The co-host role is gone with it.
    assert_eq!(m.machine.role_of(a.conn), Some(Role::Participant));
    let out = m.send(&a, ClientMessage::AdmitAll);
    assert_refused(&out, a.conn, ErrorCode::NotAllowed);

    // The host cannot be moved, not even by a co-host.
    m.send(
        &olga,
        ClientMessage::SetRole {
            participant: b.id,
            role: Role::CoHost,
        },
    );
    let out = m.send(
        &b,
        ClientMessage::SendToWaitingRoom {
            participant: olga.id,
        },
    );
    assert_refused(&out, b.conn, ErrorCode::NotAllowed);
}

// ---- removing -------------------------------------------------------------------

#[test]
fn a_removed_person_is_told_and_the_others_see_them_go() {
    let (mut m, host, per, pia) = host_and_two();
    let out = m.send(
        &host,
        ClientMessage::Remove {
            participant: per.id,
        },
    );
    assert_eq!(
        to(&out, per.conn),
        [&ServerMessage::Closed {
            reason: CloseReason::Removed
        }]
    );
    assert!(closed(&out, &per));
    let left = ServerMessage::ParticipantLeft {
        participant: per.id,
        reason: LeaveReason::Removed,
    };
    assert_eq!(to(&out, pia.conn), [&left]);
    assert_eq!(to(&out, host.conn), [&left]);
    assert_eq!(
        attendance(&out),
        [(per.id, AttendanceEvent::Left(LeaveReason::Removed))]
    );
    // The seat's resume token died with it.
    let (resumed, out) = m.resume(&per);
    assert_refused(&out, resumed.conn, ErrorCode::ResumeFailed);
}

#[test]
fn a_removed_member_cannot_rejoin_with_the_same_account() {
    let (mut m, host, _, _) = host_and_two();
    let mia = m.join(member("Mia", "u-mia"));
    m.send(
        &host,
        ClientMessage::Remove {
            participant: mia.id,
        },
    );
    let (conn, out) = m.try_join(member("Mia in disguise", "u-mia").client("new-device"));
    assert_refused(&out, conn, ErrorCode::RemovedFromMeeting);
    m.join(member("Max", "u-max"));
}

#[test]
fn a_removed_guest_cannot_rejoin_from_the_same_installation() {
    let (mut m, host, _, _) = host_and_two();
    let gus = m.join(guest("Gus").client("device-1"));
    m.send(
        &host,
        ClientMessage::Remove {
            participant: gus.id,
        },
    );
    let (conn, out) = m.try_join(guest("Gustav").client("device-1"));
    assert_refused(&out, conn, ErrorCode::RemovedFromMeeting);
    m.join(guest("Gus").client("device-2"));
}

#[test]
fn the_host_cannot_be_removed() {
    let (mut m, host, per, _) = host_and_two();
    m.send(
        &host,
        ClientMessage::SetRole {
            participant: per.id,
            role: Role::CoHost,
        },
    );
    let out = m.send(
        &per,
        ClientMessage::Remove {
            participant: host.id,
        },
    );
    assert_refused(&out, per.conn, ErrorCode::NotAllowed);
}

// ---- muting -----------------------------------------------------------------------

#[test]
fn muting_turns_a_microphone_off_and_tells_everyone() {
    let (mut m, host, per, pia) = host_and_two();
    m.send(
        &per,
        ClientMessage::SetMedia {
            audio_muted: false,
            video_on: true,
        },
    );
    let out = m.send(
        &host,
        ClientMessage::Mute {
            participant: per.id,
        },
    );
    let per_sees = to(&out, per.conn);
    assert_eq!(per_sees[0], &ServerMessage::MutedBy { by: host.id });
    for who in [&host, &per, &pia] {
        match to(&out, who.conn).last() {
            Some(ServerMessage::ParticipantUpdated { participant }) => {
                assert!(participant.audio_muted && participant.video_on);
            }
            other => panic!("{other:?}"),
        }
    }
    // Muting someone already muted changes nothing.
    assert!(m
        .send(
            &host,
            ClientMessage::Mute {
                participant: per.id
            }
        )
        .is_empty());
}

#[test]
fn nobody_is_unmuted_by_force() {
    let (mut m, host, per, pia) = host_and_two();
    // Everyone starts muted; asking is all a host can do.
    let out = m.send(
        &host,
        ClientMessage::AskToUnmute {
            participant: per.id,
        },
    );
    assert_eq!(
        out,
        [Output::Send {
            to: vec![per.conn],
            msg: ServerMessage::UnmuteRequested { by: host.id }
        }]
    );
    // Mute-all only ever mutes.
    m.send(
        &pia,
        ClientMessage::SetMedia {
            audio_muted: false,
            video_on: false,
        },
    );
    let out = m.send(&host, ClientMessage::MuteAll);
    assert!(to(&out, per.conn)
        .iter()
        .all(|msg| !matches!(msg, ServerMessage::ParticipantUpdated { participant } if !participant.audio_muted)));
    // Unmuting oneself is fine.
    let out = m.send(
        &per,
        ClientMessage::SetMedia {
            audio_muted: false,
            video_on: false,
        },
    );
    assert!(matches!(
        to(&out, host.conn)[..],
        [ServerMessage::ParticipantUpdated { participant }] if !participant.audio_muted
    ));
}

/// The forwarding rules the SFU is given in `out`, per participant.
fn forwarding(out: &[Output]) -> Vec<(ParticipantId, Forwarding)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Media {
                participant,
                request: MediaRequest::Forwarding(f),
            } => Some((*participant, *f)),
            _ => None,
        })
        .collect()
}

/// How `seen_by` was last told about `who` in `out`.
fn update_about<'a>(
    out: &'a [Output],
    seen_by: &Person,
    who: &Person,
) -> Option<&'a ParticipantInfo> {
    to(out, seen_by.conn)
        .into_iter()
        .rev()
        .find_map(|msg| match msg {
            ServerMessage::ParticipantUpdated { participant } if participant.id == who.id => {
                Some(participant)
            }
            _ => None,
        })
}

const MIC_SHUT: Forwarding = Forwarding {
    audio: false,
    screen: true,
};

fn unmute() -> ClientMessage {
    ClientMessage::SetMedia {
        audio_muted: false,
        video_on: false,
    }
}

#[test]
fn where_participants_may_not_unmute_a_muted_one_speaks_only_when_asked() {
    let (mut m, host, per, pia) = host_and_two();
    m.send(&pia, unmute());
    // Only hosts decide.
    let out = m.send(&per, ClientMessage::SetSelfUnmute { allowed: false });
    assert_refused(&out, per.conn, ErrorCode::NotAllowed);

    let out = m.send(&host, ClientMessage::SetSelfUnmute { allowed: false });
    for who in [&host, &per, &pia] {
        assert!(to(&out, who.conn).iter().any(|msg| matches!(
            msg,
            ServerMessage::MeetingUpdated { meeting } if !meeting.self_unmute
        )));
    }
    let per_now = update_about(&out, &pia, &per).expect("Per's new state");
    assert!(!per_now.may_unmute && per_now.audio_muted);
    // Pia speaks on until she mutes; the host may always unmute.
    assert!(!update_about(&out, &per, &pia).unwrap().may_unmute);
    assert!(update_about(&out, &per, &host).is_none());
    // Per's microphone is shut at the SFU, Pia's (on) and the host's are not.
    assert_eq!(forwarding(&out), [(per.id, MIC_SHUT)]);

    // Per cannot unmute: he is told why. His camera, said in the same message, goes on.
    let out = m.send(
        &per,
        ClientMessage::SetMedia {
            audio_muted: false,
            video_on: true,
        },
    );
    let per_now = update_about(&out, &pia, &per).expect("Per's camera");
    assert!(per_now.audio_muted && per_now.video_on);
    assert!(to(&out, per.conn).iter().any(|msg| matches!(
        msg,
        ServerMessage::Error {
            code: ErrorCode::NotAllowed,
            ..
        }
    )));
    assert!(forwarding(&out).is_empty(), "his microphone stays shut");
    let again = ClientMessage::SetMedia {
        audio_muted: false,
        video_on: true,
    };
    assert_refused(&m.send(&per, again), per.conn, ErrorCode::NotAllowed);
    // Pia mutes herself and is then held like Per.
    let out = m.send(
        &pia,
        ClientMessage::SetMedia {
            audio_muted: true,
            video_on: false,
        },
    );
    assert_eq!(forwarding(&out), [(pia.id, MIC_SHUT)]);

    // The host asks Per: he may now, and his microphone opens at the SFU.
    let out = m.send(
        &host,
        ClientMessage::AskToUnmute {
            participant: per.id,
        },
    );
    assert!(to(&out, per.conn).contains(&&ServerMessage::UnmuteRequested { by: host.id }));
    assert!(update_about(&out, &host, &per).unwrap().may_unmute);
    assert_eq!(forwarding(&out), [(per.id, Forwarding::ALL)]);
    let out = m.send(&per, unmute());
    assert!(!update_about(&out, &host, &per).unwrap().audio_muted);
    assert!(forwarding(&out).is_empty(), "no rule changed: {out:#?}");

    // Muted again by the host, the grant is gone.
    let out = m.send(
        &host,
        ClientMessage::Mute {
            participant: per.id,
        },
    );
    let per_now = update_about(&out, &pia, &per).unwrap();
    assert!(per_now.audio_muted && !per_now.may_unmute);
    assert_eq!(forwarding(&out), [(per.id, MIC_SHUT)]);
    assert_refused(&m.send(&per, unmute()), per.conn, ErrorCode::NotAllowed);

    // A co-host may always unmute.
    let out = m.send(
        &host,
        ClientMessage::SetRole {
            participant: pia.id,
            role: Role::CoHost,
        },
    );
    assert!(update_about(&out, &per, &pia).unwrap().may_unmute);
    assert_eq!(forwarding(&out), [(pia.id, Forwarding::ALL)]);

    // Letting everyone unmute again opens every microphone.
    let out = m.send(&host, ClientMessage::SetSelfUnmute { allowed: true });
    assert!(update_about(&out, &host, &per).unwrap().may_unmute);
    assert_eq!(forwarding(&out), [(per.id, Forwarding::ALL)]);
    let out = m.send(&per, unmute());
    assert!(!update_about(&out, &host, &per).unwrap().audio_muted);
}

#[test]
fn a_newcomer_where_participants_may_not_unmute_arrives_shut() {
    let mut m = Meeting::new(true);
    let owner = m.join(owner());
    let out = m.send(&owner, ClientMessage::SetSelfUnmute { allowed: false });
    assert!(forwarding(&out).is_empty(), "the owner may always unmute");
    let ida = m.join(guest("Ida"));
    let out = m.send(
        &owner,
        ClientMessage::Admit {
            participant: ida.id,
        },
    );
    // The rule reaches the SFU in the same step as Ida's admission, before her first offer.
    assert_eq!(forwarding(&out), [(ida.id, MIC_SHUT)]);
    match joined(&out, &ida) {
        ServerMessage::Joined {
            meeting,
            participants,
            ..
        } => {
            assert!(!meeting.self_unmute);
            let me = participants.iter().find(|p| p.id == ida.id).unwrap();
            assert!(me.audio_muted && !me.may_unmute);
        }
        other => panic!("{other:?}"),
    }
    // Back to the waiting room, the SFU forgets her; let in again, it is told again.
    let out = m.send(
        &owner,
        ClientMessage::SendToWaitingRoom {
            participant: ida.id,
        },
    );
    assert!(out.contains(&Output::MediaGone {
        participant: ida.id
    }));
    assert!(forwarding(&out).is_empty());
    let out = m.send(
        &owner,
        ClientMessage::Admit {
            participant: ida.id,
        },
    );
    assert_eq!(forwarding(&out), [(ida.id, MIC_SHUT)]);
}

#[test]
fn mute_on_entry_is_the_hosts_to_set_and_everyone_sees_it() {
    let (mut m, host, per, _pia) = host_and_two();
    let out = m.send(
        &per,
        ClientMessage::SetMuteOnEntry {
            mute_on_entry: true,
        },
    );
    assert_refused(&out, per.conn, ErrorCode::NotAllowed);
    let out = m.send(
        &host,
        ClientMessage::SetMuteOnEntry {
            mute_on_entry: true,
        },
    );
    assert!(to(&out, per.conn).iter().any(|msg| matches!(
        msg,
        ServerMessage::MeetingUpdated { meeting } if meeting.mute_on_entry
    )));
    // Setting it again changes nothing.
    assert!(m
        .send(
            &host,
            ClientMessage::SetMuteOnEntry {
                mute_on_entry: true
            }
        )
        .is_empty());
    let (conn, out) = m.try_join(guest("Ola"));
    let ola = seat_from(conn, &out);
    match joined(&out, &ola) {
        ServerMessage::Joined {
            meeting,
            participants,
            ..
        } => {
            assert!(meeting.mute_on_entry);
            // Muted, and free to unmute: the meeting lets participants do so.
            let me = participants.iter().find(|p| p.id == ola.id).unwrap();
            assert!(me.audio_muted && me.may_unmute);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn where_only_hosts_may_share_nobody_else_is_shown_sharing() {
    let (mut m, host, per, pia) = host_and_two();
    let share = |mid: &str| ClientMessage::MediaOffer {
        sdp: "v=0".into(),
        tracks: vec![PublishedTrack {
            mid: mid.into(),
            kind: TrackKind::Screen,
        }],
    };
    let out = m.send(
        &per,
        ClientMessage::SetSharePolicy {
            policy: SharePolicy::HostsOnly,
        },
    );
    assert_refused(&out, per.conn, ErrorCode::NotAllowed);
    let out = m.send(
        &host,
        ClientMessage::SetSharePolicy {
            policy: SharePolicy::HostsOnly,
        },
    );
    assert!(to(&out, pia.conn).iter().any(|msg| matches!(
        msg,
        ServerMessage::MeetingUpdated { meeting } if meeting.share_policy == SharePolicy::HostsOnly
    )));
    let screen_shut = Forwarding {
        audio: true,
        screen: false,
    };
    assert_eq!(
        forwarding(&out),
        [(per.id, screen_shut), (pia.id, screen_shut)]
    );

    // Per's offer with a screen still reaches the SFU (the session must stay in step), and
    // he is told that nobody sees it.
    let out = m.send(&per, share("2"));
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Media { participant, request: MediaRequest::Offer { .. } } if *participant == per.id
    )));
    assert!(to(&out, per.conn).iter().any(|msg| matches!(
        msg,
        ServerMessage::Error {
            code: ErrorCode::NotAllowed,
            ..
        }
    )));
    // The host shares freely.
    let out = m.send(&host, share("2"));
    assert!(to(&out, host.conn).is_empty(), "{out:#?}");

    // Made co-host, Pia may share.
    let out = m.send(
        &host,
        ClientMessage::SetRole {
            participant: pia.id,
            role: Role::CoHost,
        },
    );
    assert_eq!(forwarding(&out), [(pia.id, Forwarding::ALL)]);
    let out = m.send(
        &host,
        ClientMessage::SetSharePolicy {
            policy: SharePolicy::Everyone,
        },
    );
    assert_eq!(forwarding(&out), [(per.id, Forwarding::ALL)]);
}

/// The spotlight `seen_by` was last told of in `out`, if any update came.
fn spotlight_seen(out: &[Output], seen_by: &Person) -> Option<Option<ParticipantId>> {
    to(out, seen_by.conn)
        .into_iter()
        .rev()
        .find_map(|msg| match msg {
            ServerMessage::MeetingUpdated { meeting } => Some(meeting.spotlight),
            _ => None,
        })
}

#[test]
fn a_host_spotlights_someone_for_everyone_until_they_leave() {
    let (mut m, host, per, pia) = host_and_two();
    let spotlight = |p: Option<&Person>| ClientMessage::SetSpotlight {
        participant: p.map(|p| p.id),
    };
    assert_refused(
        &m.send(&per, spotlight(Some(&per))),
        per.conn,
        ErrorCode::NotAllowed,
    );
    assert_refused(
        &m.send(
            &host,
            ClientMessage::SetSpotlight {
                participant: Some(ParticipantId(999)),
            },
        ),
        host.conn,
        ErrorCode::ParticipantNotFound,
    );

    let out = m.send(&host, spotlight(Some(&per)));
    for who in [&host, &per, &pia] {
        assert_eq!(spotlight_seen(&out, who), Some(Some(per.id)));
    }
    // A newcomer sees it in the full picture.
    let (conn, out) = m.try_join(guest("Ola"));
    let ola = seat_from(conn, &out);
    match joined(&out, &ola) {
        ServerMessage::Joined { meeting, .. } => assert_eq!(meeting.spotlight, Some(per.id)),
        other => panic!("{other:?}"),
    }
    // Moving it and ending it.
    let out = m.send(&host, spotlight(Some(&pia)));
    assert_eq!(spotlight_seen(&out, &ola), Some(Some(pia.id)));
    let out = m.send(&host, spotlight(None));
    assert_eq!(spotlight_seen(&out, &per), Some(None));
    assert!(m.send(&host, spotlight(None)).is_empty());

    // It ends when its participant leaves the meeting, or is sent to the waiting room.
    m.send(&host, spotlight(Some(&pia)));
    let out = m.send(&pia, ClientMessage::Leave);
    assert_eq!(spotlight_seen(&out, &per), Some(None));
    m.send(&host, spotlight(Some(&ola)));
    let out = m.send(
        &host,
        ClientMessage::SendToWaitingRoom {
            participant: ola.id,
        },
    );
    assert_eq!(spotlight_seen(&out, &per), Some(None));
}

#[test]
fn feedback_stays_until_changed_or_cleared_by_a_host() {
    let (mut m, host, per, pia) = host_and_two();
    let give = |feedback| ClientMessage::SetFeedback { feedback };
    let out = m.send(&per, give(Some(Feedback::Slower)));
    assert_eq!(
        update_about(&out, &host, &per).unwrap().feedback,
        Some(Feedback::Slower)
    );
    // A newcomer sees it.
    let (conn, out) = m.try_join(guest("Ola"));
    let ola = seat_from(conn, &out);
    match joined(&out, &ola) {
        ServerMessage::Joined { participants, .. } => {
            let p = participants.iter().find(|p| p.id == per.id).unwrap();
            assert_eq!(p.feedback, Some(Feedback::Slower));
        }
        other => panic!("{other:?}"),
    }
    m.send(&pia, give(Some(Feedback::Yes)));
    let out = m.send(&pia, give(None));
    assert_eq!(update_about(&out, &per, &pia).unwrap().feedback, None);
    m.send(&pia, give(Some(Feedback::No)));

    // Only hosts clear everyone's; everyone is told, once per person who had some.
    assert_refused(
        &m.send(&per, ClientMessage::ClearFeedback),
        per.conn,
        ErrorCode::NotAllowed,
    );
    let out = m.send(&host, ClientMessage::ClearFeedback);
    let cleared: Vec<ParticipantId> = to(&out, ola.conn)
        .iter()
        .filter_map(|msg| match msg {
            ServerMessage::ParticipantUpdated { participant } if participant.feedback.is_none() => {
                Some(participant.id)
            }
            _ => None,
        })
        .collect();
    assert_eq!(cleared, [per.id, pia.id]);
    assert!(m.send(&host, ClientMessage::ClearFeedback).is_empty());
}

/// The last poll `who` was sent in `out`, if any.
fn poll_seen<'a>(out: &'a [Output], who: &Person) -> Option<&'a PollView> {
    to(out, who.conn)
        .into_iter()
        .rev()
        .find_map(|msg| match msg {
            ServerMessage::Poll { poll } => Some(poll),
            _ => None,
        })
}

fn start_poll(question: &str, options: &[&str], multiple: bool) -> ClientMessage {
    ClientMessage::StartPoll {
        question: question.into(),
        options: options.iter().map(|o| (*o).into()).collect(),
        multiple,
    }
}

#[test]
fn a_poll_is_answered_counted_for_hosts_and_shown_to_all_when_shared() {
    let (mut m, host, per, pia) = host_and_two();
    assert_refused(
        &m.send(&per, start_poll("Hva er 2 + 2?", &["3", "4"], false)),
        per.conn,
        ErrorCode::NotAllowed,
    );
    let out = m.send(
        &host,
        start_poll("  Hva er 2 + 2? ", &["3", " 4 ", "5"], false),
    );
    let seen = poll_seen(&out, &per).expect("Per is asked");
    assert_eq!(seen.question, "Hva er 2 + 2?");
    assert_eq!(seen.options, ["3", "4", "5"]);
    assert!(seen.open && seen.results.is_none() && seen.mine.is_empty());
    assert_eq!(poll_seen(&out, &host).unwrap().results, Some(vec![0, 0, 0]));
    let id = seen.id;

    // One running poll at a time.
    assert_refused(
        &m.send(&host, start_poll("Til?", &["a", "b"], false)),
        host.conn,
        ErrorCode::NotAllowed,
    );
    // Bad answers are refused: out of range, two where one is asked, none, another poll.
    for choices in [vec![3], vec![0, 1], vec![]] {
        let out = m.send(&per, ClientMessage::Vote { poll: id, choices });
        assert_refused(&out, per.conn, ErrorCode::InvalidArgument);
    }
    assert_refused(
        &m.send(
            &per,
            ClientMessage::Vote {
                poll: id + 1,
                choices: vec![1],
            },
        ),
        per.conn,
        ErrorCode::InvalidArgument,
    );

    // Per answers: he sees his answer, the host the count, Pia nothing.
    let out = m.send(
        &per,
        ClientMessage::Vote {
            poll: id,
            choices: vec![1],
        },
    );
    assert_eq!(poll_seen(&out, &per).unwrap().mine, [1]);
    assert_eq!(poll_seen(&out, &per).unwrap().results, None);
    let host_sees = poll_seen(&out, &host).unwrap();
    assert_eq!(
        (host_sees.results.clone(), host_sees.answered),
        (Some(vec![0, 1, 0]), 1)
    );
    assert!(host_sees.mine.is_empty());
    assert!(nothing_to(&out, &pia));
    // Answering again replaces the answer.
    m.send(
        &pia,
        ClientMessage::Vote {
            poll: id,
            choices: vec![1],
        },
    );
    let out = m.send(
        &per,
        ClientMessage::Vote {
            poll: id,
            choices: vec![0],
        },
    );
    let host_sees = poll_seen(&out, &host).unwrap();
    assert_eq!(
        (host_sees.results.clone(), host_sees.answered),
        (Some(vec![1, 1, 0]), 2)
    );

    // A newcomer is asked too.
    let (conn, out) = m.try_join(guest("Ola"));
    let ola = seat_from(conn, &out);
    assert!(poll_seen(&out, &ola).is_some_and(|p| p.open && p.results.is_none()));

    // Sharing waits for the end; ended, nobody can answer; shared, everyone sees the counts.
    assert_refused(
        &m.send(&host, ClientMessage::SharePollResults { poll: id }),
        host.conn,
        ErrorCode::NotAllowed,
    );
    let out = m.send(&host, ClientMessage::EndPoll { poll: id });
    let per_sees = poll_seen(&out, &per).unwrap();
    assert!(!per_sees.open && per_sees.results.is_none() && per_sees.mine == [0]);
    assert_refused(
        &m.send(
            &ola,
            ClientMessage::Vote {
                poll: id,
                choices: vec![2],
            },
        ),
        ola.conn,
        ErrorCode::NotAllowed,
    );
    let out = m.send(&host, ClientMessage::SharePollResults { poll: id });
    for who in [&per, &pia, &ola] {
        let p = poll_seen(&out, who).unwrap();
        assert_eq!((p.results.clone(), p.shared), (Some(vec![1, 1, 0]), true));
    }
    assert!(m
        .send(&host, ClientMessage::SharePollResults { poll: id })
        .is_empty());

    // A new poll replaces the ended one; several answers where it allows them.
    let out = m.send(
        &host,
        start_poll("Hvilke er primtall?", &["2", "4", "5"], true),
    );
    let next = poll_seen(&out, &pia).unwrap();
    assert!(next.id > id && next.multiple && next.mine.is_empty());
    let out = m.send(
        &pia,
        ClientMessage::Vote {
            poll: next.id,
            choices: vec![2, 0, 2],
        },
    );
    assert_eq!(poll_seen(&out, &pia).unwrap().mine, [0, 2]);
    assert_eq!(poll_seen(&out, &host).unwrap().results, Some(vec![1, 0, 1]));
}

#[test]
fn a_poll_question_and_its_answers_must_be_sensible() {
    let (mut m, host, per, pia) = host_and_two();
    let long = "x".repeat(301);
    let too_many: Vec<String> = (0..11).map(|i| i.to_string()).collect();
    for bad in [
        start_poll(" ", &["a", "b"], false),
        start_poll(&long, &["a", "b"], false),
        start_poll("Ja?", &["ja"], false),
        start_poll("Ja?", &["ja", " "], false),
        start_poll("Ja?", &["ja", &"y".repeat(101)], false),
        ClientMessage::StartPoll {
            question: "Mange?".into(),
            options: too_many,
            multiple: false,
        },
    ] {
        assert_refused(&m.send(&host, bad), host.conn, ErrorCode::InvalidArgument);
    }
    // A co-host made later follows the counts of a running poll.
    let out = m.send(&host, start_poll("Ja?", &["ja", "nei"], false));
    let id = poll_seen(&out, &host).unwrap().id;
    m.send(
        &per,
        ClientMessage::Vote {
            poll: id,
            choices: vec![0],
        },
    );
    let out = m.send(
        &host,
        ClientMessage::SetRole {
            participant: pia.id,
            role: Role::CoHost,
        },
    );
    assert_eq!(poll_seen(&out, &pia).unwrap().results, Some(vec![1, 0]));
}

#[test]
fn a_meeting_starts_with_the_rules_it_was_scheduled_with() {
    let mut m = Meeting::with(
        MeetingConfig {
            mute_on_entry: true,
            share_policy: SharePolicy::HostsOnly,
            ..config(false)
        },
        Vec::new(),
        1,
    );
    let host = m.join(owner());
    let (conn, out) = m.try_join(guest("Ola"));
    let ola = seat_from(conn, &out);
    match joined(&out, &ola) {
        ServerMessage::Joined { meeting, .. } => {
            assert!(meeting.mute_on_entry);
            assert_eq!(meeting.share_policy, SharePolicy::HostsOnly);
        }
        other => panic!("{other:?}"),
    }
    // Held by the SFU from the start, and still the host's to change.
    assert_eq!(
        forwarding(&out),
        [(
            ola.id,
            Forwarding {
                audio: true,
                screen: false
            }
        )]
    );
    let out = m.send(
        &host,
        ClientMessage::SetSharePolicy {
            policy: SharePolicy::Everyone,
        },
    );
    assert_eq!(forwarding(&out), [(ola.id, Forwarding::ALL)]);
}

#[test]
fn mute_all_spares_the_issuer_and_other_moderators() {
    let (mut m, host, per, pia) = host_and_two();
    let max = m.join(guest("Max"));
    m.send(
        &host,
        ClientMessage::SetRole {
            participant: per.id,
            role: Role::CoHost,
        },
    );
    for who in [&host, &per, &pia, &max] {
        m.send(
            who,
            ClientMessage::SetMedia {
                audio_muted: false,
                video_on: false,
            },
        );
    }
    let out = m.send(&per, ClientMessage::MuteAll);
    let muted_notice = ServerMessage::MutedBy { by: per.id };
    assert!(
        out.contains(&Output::Send {
            to: vec![pia.conn, max.conn],
            msg: muted_notice
        }),
        "one notice, encoded once: {out:#?}"
    );
    let muted: Vec<_> = updated_roles(&out, &host)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(muted, [pia.id, max.id]);
}

// ---- who may do what ---------------------------------------------------------------

/// Every moderator action, aimed at `target`.
fn moderator_actions(target: ParticipantId) -> Vec<ClientMessage> {
    vec![
        ClientMessage::Admit {
            participant: target,
        },
        ClientMessage::AdmitAll,
        ClientMessage::Deny {
            participant: target,
        },
        ClientMessage::SendToWaitingRoom {
            participant: target,
        },
        ClientMessage::SetLocked { locked: true },
        ClientMessage::Remove {
            participant: target,
        },
        ClientMessage::Mute {
            participant: target,
        },
        ClientMessage::MuteAll,
        ClientMessage::AskToUnmute {
            participant: target,
        },
        ClientMessage::SetChatPolicy {
            policy: ChatPolicy::Off,
        },
        ClientMessage::LowerHand {
            participant: Some(target),
        },
        ClientMessage::Rename {
            participant: Some(target),
            name: "Renamed".into(),
        },
    ]
}

fn host_actions(target: ParticipantId) -> Vec<ClientMessage> {
    vec![
        ClientMessage::EndForAll,
        ClientMessage::SetRole {
            participant: target,
            role: Role::CoHost,
        },
        ClientMessage::SetRole {
            participant: target,
            role: Role::Participant,
        },
        ClientMessage::HandOverHost {
            participant: target,
        },
    ]
}

#[test]
fn plain_participants_may_not_moderate_and_co_hosts_may_not_act_as_host() {
    let mut m = Meeting::new(true);
    let olga = m.join(owner());
    let co = m.join(guest("Co"));
    let per = m.join(guest("Per"));
    let pia = m.join(guest("Pia"));
    m.send(&olga, ClientMessage::AdmitAll);
    m.send(
        &olga,
        ClientMessage::SetRole {
            participant: co.id,
            role: Role::CoHost,
        },
    );
    m.send(&pia, ClientMessage::RaiseHand);
    let waiter = m.join(guest("Waiter"));

    let mut cases: Vec<(&Person, ClientMessage)> = Vec::new();
    for target in [pia.id, waiter.id, olga.id] {
        cases.extend(moderator_actions(target).into_iter().map(|msg| (&per, msg)));
        cases.extend(host_actions(target).into_iter().map(|msg| (&per, msg)));
        cases.extend(host_actions(target).into_iter().map(|msg| (&co, msg)));
    }
    for (who, msg) in cases {
        let out = m.send(who, msg);
        assert_refused(&out, who.conn, ErrorCode::NotAllowed);
    }
    // Nothing changed: same people, same roles, still waiting, hand still up.
    assert_eq!(m.machine.participant_count(), 4);
    assert_eq!(m.machine.waiting_count(), 1);
    assert_eq!(m.machine.role_of(olga.conn), Some(Role::Host));
    assert_eq!(m.machine.role_of(co.conn), Some(Role::CoHost));
    let (pia, out) = m.resume(&pia);
    match joined(&out, &pia) {
        ServerMessage::Joined {
            participants,
            meeting,
            ..
        } => {
            let pia_info = participants.iter().find(|p| p.id == pia.id).unwrap();
            assert!(pia_info.hand_raised);
            assert_eq!(pia_info.name, "Pia");
            assert!(!meeting.locked);
            assert_eq!(meeting.chat_policy, ChatPolicy::Everyone);
        }
        _ => unreachable!(),
    }
}

#[test]
fn actions_on_unknown_people_find_nobody() {
    let (mut m, host, _, _) = host_and_two();
    let nobody = ParticipantId(999);
    for msg in moderator_actions(nobody)
        .into_iter()
        .chain(host_actions(nobody))
    {
        if matches!(
            msg,
            ClientMessage::AdmitAll
                | ClientMessage::MuteAll
                | ClientMessage::SetLocked { .. }
                | ClientMessage::SetChatPolicy { .. }
                | ClientMessage::EndForAll
        ) {
            continue;
        }
        let out = m.send(&host, msg.clone());
        assert_refused(&out, host.conn, ErrorCode::ParticipantNotFound);
    }
}

#[test]
fn hello_join_and_resume_are_out_of_order_once_seated() {
    let (mut m, host, _, _) = host_and_two();
    for msg in [
        ClientMessage::Hello {
            version: PROTOCOL_VERSION,
            client: "test".into(),
        },
        ClientMessage::Join {
            meeting_id: meeting_id(),
            display_name: "again".into(),
            passcode: None,
            token: None,
            client_id: None,
        },
        ClientMessage::Resume {
            meeting_id: meeting_id(),
            resume_token: host.token.clone(),
        },
    ] {
        let out = m.send(&host, msg);
        assert_refused(&out, host.conn, ErrorCode::OutOfOrder);
    }
    // Also from the waiting room.
    let mut m = Meeting::new(true);
    let w = m.join(guest("W"));
    let out = m.send(
        &w,
        ClientMessage::Hello {
            version: PROTOCOL_VERSION,
            client: "x".into(),
        },
    );
    assert_refused(&out, w.conn, ErrorCode::OutOfOrder);
    // A connection without a seat has to join first.
    let out = m.input(Input::Message {
        conn: ConnId(1),
        msg: ClientMessage::RaiseHand,
    });
    assert_refused(&out, ConnId(1), ErrorCode::OutOfOrder);
}

// ---- host only --------------------------------------------------------------------

#[test]
fn ending_for_all_closes_everyone_including_the_waiting_room() {
    let (mut m, olga) = with_waiting_room();
    let a = m.join(guest("A"));
    m.send(&olga, ClientMessage::AdmitAll);
    let w = m.join(guest("W"));
    let out = m.send(&olga, ClientMessage::EndForAll);
    for who in [&olga, &a, &w] {
        assert_eq!(
            to(&out, who.conn),
            [&ServerMessage::Closed {
                reason: CloseReason::MeetingEnded
            }]
        );
        assert!(closed(&out, who));
    }
    let ended: Vec<_> = attendance(&out).into_iter().map(|(_, e)| e).collect();
    assert_eq!(ended, [AttendanceEvent::MeetingEnded; 3]);
    assert_eq!(out.last(), Some(&Output::Empty));
    // One send encodes the goodbye once for all three.
    assert_eq!(
        out.iter()
            .filter(|o| matches!(o, Output::Send { .. }))
            .count(),
        1
    );

    let (conn, out) = m.try_join(owner());
    assert_refused(&out, conn, ErrorCode::MeetingEnded);
}

#[test]
fn the_host_appoints_and_dismisses_co_hosts() {
    let (mut m, host, per, pia) = host_and_two();
    let out = m.send(
        &host,
        ClientMessage::SetRole {
            participant: per.id,
            role: Role::CoHost,
        },
    );
    assert_eq!(updated_roles(&out, &pia), [(per.id, Role::CoHost)]);
    // A new moderator is shown the waiting room at once.
    assert!(matches!(
        to(&out, per.conn)[1],
        ServerMessage::WaitingRoom { .. }
    ));
    assert_eq!(m.machine.role_of(per.conn), Some(Role::CoHost));

    let out = m.send(
        &host,
        ClientMessage::SetRole {
            participant: per.id,
            role: Role::Participant,
        },
    );
    assert_eq!(updated_roles(&out, &pia), [(per.id, Role::Participant)]);

    let out = m.send(
        &host,
        ClientMessage::SetRole {
            participant: per.id,
            role: Role::Host,
        },
    );
    assert_refused(&out, host.conn, ErrorCode::InvalidArgument);
    let out = m.send(
        &host,
        ClientMessage::SetRole {
            participant: host.id,
            role: Role::CoHost,
        },
    );
    assert_refused(&out, host.conn, ErrorCode::InvalidArgument);
}

#[test]
fn handing_over_makes_the_old_host_co_host() {
    let (mut m, host, per, pia) = host_and_two();
    let out = m.send(
        &host,
        ClientMessage::HandOverHost {
            participant: per.id,
        },
    );
    assert_eq!(
        updated_roles(&out, &pia),
        [(host.id, Role::CoHost), (per.id, Role::Host)]
    );
    assert_eq!(m.machine.role_of(host.conn), Some(Role::CoHost));
    assert_eq!(m.machine.role_of(per.conn), Some(Role::Host));
    // The new host may now end the meeting; the old one may not.
    let out = m.send(&host, ClientMessage::EndForAll);
    assert_refused(&out, host.conn, ErrorCode::NotAllowed);
}

// ---- the host leaves or drops -------------------------------------------------------

#[test]
fn when_the_host_leaves_the_earliest_co_host_takes_over() {
    let (mut m, host, per, pia) = host_and_two();
    let max = m.join(guest("Max"));
    m.send(
        &host,
        ClientMessage::SetRole {
            participant: max.id,
            role: Role::CoHost,
        },
    );
    m.send(
        &host,
        ClientMessage::SetRole {
            participant: pia.id,
            role: Role::CoHost,
        },
    );
    let out = m.send(&host, ClientMessage::Leave);
    assert_eq!(
        to(&out, host.conn),
        [&ServerMessage::Closed {
            reason: CloseReason::Left
        }]
    );
    let per_sees = to(&out, per.conn);
    assert_eq!(
        per_sees[0],
        &ServerMessage::ParticipantLeft {
            participant: host.id,
            reason: LeaveReason::Left
        }
    );
    // Pia entered the meeting before Max.
    assert_eq!(updated_roles(&out, &per), [(pia.id, Role::Host)]);
}

#[test]
fn without_co_hosts_the_earliest_participant_takes_over() {
    let (mut m, host, per, pia) = host_and_two();
    let out = m.send(&host, ClientMessage::Leave);
    assert_eq!(updated_roles(&out, &pia), [(per.id, Role::Host)]);
    // Per becomes a moderator and is shown the waiting room.
    assert!(to(&out, per.conn)
        .iter()
        .any(|m| matches!(m, ServerMessage::WaitingRoom { .. })));
}

#[test]
fn a_dropped_host_gets_the_role_back_on_resume_and_the_stand_in_steps_back() {
    let (mut m, host, per, pia) = host_and_two();
    m.send(
        &host,
        ClientMessage::SetRole {
            participant: pia.id,
            role: Role::CoHost,
        },
    );
    let out = m.drop_conn(&host);
    assert!(nothing_to(&out, &host));
    match &to(&out, per.conn)[..] {
        [ServerMessage::ParticipantUpdated { participant: h }, ServerMessage::ParticipantUpdated { participant: p }] =>
        {
            assert_eq!((h.id, h.connected, h.role), (host.id, false, Role::CoHost));
            assert_eq!((p.id, p.role), (pia.id, Role::Host));
        }
        other => panic!("{other:?}"),
    }

    m.now += 30_000;
    let (host, out) = m.resume(&host);
    assert_eq!(role_in_joined(&out, &host), Role::Host);
    assert_eq!(
        joined_participants(&out, &host),
        [
            (host.id, Role::Host, true),
            (per.id, Role::Participant, true),
            (pia.id, Role::CoHost, true)
        ]
    );
    assert_eq!(
        updated_roles(&out, &per),
        [(pia.id, Role::CoHost), (host.id, Role::Host)]
    );
    assert_eq!(m.machine.role_of(pia.conn), Some(Role::CoHost));
}

#[test]
fn a_dropped_host_whose_stand_in_also_dropped_still_reclaims() {
    let (mut m, host, per, pia) = host_and_two();
    m.drop_conn(&host);
    assert_eq!(m.machine.role_of(per.conn), Some(Role::Host));
    let out = m.drop_conn(&per);
    assert_eq!(
        updated_roles(&out, &pia),
        [(per.id, Role::Participant), (pia.id, Role::Host)]
    );
    let (host, _) = m.resume(&host);
    assert_eq!(m.machine.role_of(host.conn), Some(Role::Host));
    assert_eq!(m.machine.role_of(pia.conn), Some(Role::Participant));
}

#[test]
fn a_host_who_leaves_for_good_does_not_reclaim() {
    let (mut m, host, per, _) = host_and_two();
    m.drop_conn(&host);
    m.tick_after(60_000);
    assert_eq!(m.machine.role_of(per.conn), Some(Role::Host));
    let (resumed, out) = m.resume(&host);
    assert_refused(&out, resumed.conn, ErrorCode::ResumeFailed);
}

#[test]
fn a_dropped_host_alone_keeps_the_role_until_someone_comes() {
    let mut m = Meeting::new(false);
    let host = m.join(guest("Hanna"));
    m.drop_conn(&host);
    // Someone arriving while the host is away runs the meeting meanwhile.
    let (conn, out) = m.try_join(guest("Per"));
    let per = seat_from(conn, &out);
    assert_eq!(role_in_joined(&out, &per), Role::Host);
    assert_eq!(
        joined_participants(&out, &per),
        [(host.id, Role::CoHost, false), (per.id, Role::Host, true)]
    );
    let (host, _) = m.resume(&host);
    assert_eq!(m.machine.role_of(host.conn), Some(Role::Host));
    assert_eq!(m.machine.role_of(per.conn), Some(Role::Participant));
}

#[test]
fn with_waiting_room_and_no_host_present_people_wait() {
    let mut m = Meeting::new(true);
    let olga = m.join(owner());
    m.drop_conn(&olga);
    let (conn, out) = m.try_join(guest("Per"));
    assert!(matches!(
        to(&out, conn)[..],
        [ServerMessage::Waiting { .. }]
    ));
    // The owner comes back and sees them waiting.
    let (olga, out) = m.resume(&olga);
    match joined(&out, &olga) {
        ServerMessage::Joined { role, waiting, .. } => {
            assert_eq!(*role, Role::Host);
            assert_eq!(waiting.len(), 1);
        }
        _ => unreachable!(),
    }
}

// ---- drop and resume --------------------------------------------------------------

#[test]
fn a_dropped_seat_is_kept_and_resumed_with_the_full_picture() {
    let (mut m, host, per, pia) = host_and_two();
    let out = m.drop_conn(&per);
    match &to(&out, host.conn)[..] {
        [ServerMessage::ParticipantUpdated { participant }] => {
            assert!(!participant.connected && participant.id == per.id);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(m.machine.participant_count(), 3);
    assert_eq!(m.machine.role_of(per.conn), None);
    // Events while away are not sent to the dropped seat.
    let out = m.send(&pia, chat_to(ChatTarget::Everyone, "where is Per?"));
    assert!(!out
        .iter()
        .any(|o| matches!(o, Output::Send { to, .. } if to.contains(&per.conn))));

    m.now += 59_999;
    let (per, out) = m.resume(&per);
    match joined(&out, &per) {
        ServerMessage::Joined {
            you,
            role,
            chat,
            resume_token,
            ..
        } => {
            assert_eq!((*you, *role), (per.id, Role::Participant));
            assert_eq!(chat.len(), 1, "what was said while away");
            assert_eq!(resume_token, &per.token);
        }
        _ => unreachable!(),
    }
    assert!(matches!(
        to(&out, pia.conn)[..],
        [ServerMessage::ParticipantUpdated { participant }] if participant.connected
    ));
    assert!(
        attendance(&out).is_empty(),
        "a resume is not a new attendance"
    );
}

#[test]
fn resuming_on_a_second_connection_replaces_the_first() {
    let (mut m, host, per, _) = host_and_two();
    let (new_per, out) = m.resume(&per);
    assert_eq!(
        to(&out, per.conn),
        [&ServerMessage::Closed {
            reason: CloseReason::Replaced
        }]
    );
    assert!(closed(&out, &per));
    assert_eq!(role_in_joined(&out, &new_per), Role::Participant);
    assert!(nothing_to(&out, &host), "nothing changed for the others");
    // The old connection's late close does not touch the seat.
    let out = m.drop_conn(&per);
    assert!(out.is_empty());
    assert_eq!(m.machine.role_of(new_per.conn), Some(Role::Participant));
}

#[test]
fn a_seat_not_resumed_within_60_seconds_is_gone() {
    let (mut m, host, per, _) = host_and_two();
    m.drop_conn(&per);
    assert!(m.tick_after(59_999).is_empty());
    let out = m.tick_after(1);
    assert_eq!(
        to(&out, host.conn),
        [&ServerMessage::ParticipantLeft {
            participant: per.id,
            reason: LeaveReason::TimedOut
        }]
    );
    assert_eq!(
        attendance(&out),
        [(per.id, AttendanceEvent::Left(LeaveReason::TimedOut))]
    );
    assert_eq!(m.machine.participant_count(), 2);
}

#[test]
fn a_resume_after_60_seconds_fails_even_before_the_tick() {
    let (mut m, host, per, _) = host_and_two();
    m.drop_conn(&per);
    m.now += 60_000;
    let (resumed, out) = m.resume(&per);
    assert!(
        to(&out, host.conn).contains(&&ServerMessage::ParticipantLeft {
            participant: per.id,
            reason: LeaveReason::TimedOut
        })
    );
    assert!(matches!(
        to(&out, resumed.conn)[..],
        [ServerMessage::Error {
            code: ErrorCode::ResumeFailed,
            ..
        }]
    ));
    let (conn, out) = {
        let conn = m.new_conn();
        (
            conn,
            m.input(Input::Resume {
                conn,
                resume_token: "not a token".into(),
            }),
        )
    };
    assert_refused(&out, conn, ErrorCode::ResumeFailed);
}

#[test]
fn a_waiting_person_resumes_into_the_waiting_room() {
    let (mut m, olga) = with_waiting_room();
    let w = m.join(guest("W"));
    let out = m.drop_conn(&w);
    assert!(out.is_empty());
    let (w, out) = m.resume(&w);
    assert!(matches!(to(&out, w.conn)[..], [ServerMessage::Waiting { you, .. }] if *you == w.id));
    assert!(nothing_to(&out, &olga));
    // A waiting seat that is never resumed leaves the waiting room.
    m.drop_conn(&w);
    let out = m.tick_after(60_000);
    assert_eq!(waiting_ids(to(&out, olga.conn)[0]), []);
}

#[test]
fn the_meeting_reports_empty_once_when_the_last_seat_goes() {
    let mut m = Meeting::new(false);
    // A refused first join is not an empty meeting: nobody was ever here.
    let (conn, out) = m.try_join(Joiner {
        wrong_passcode: true,
        ..guest("A")
    });
    assert_refused(&out, conn, ErrorCode::WrongPasscode);
    let a = m.join(guest("A"));
    let b = m.join(guest("B"));
    assert!(!m.send(&a, ClientMessage::Leave).contains(&Output::Empty));
    m.drop_conn(&b);
    assert!(
        !m.tick_after(1_000).contains(&Output::Empty),
        "a dropped seat still counts"
    );
    let out = m.tick_after(60_000);
    assert_eq!(out.last(), Some(&Output::Empty));
    assert!(m.tick_after(1_000).is_empty());
}

// ---- chat -------------------------------------------------------------------------

#[test]
fn public_chat_reaches_everyone_in_the_meeting_and_is_stored() {
    let mut m = Meeting::new(true);
    let olga = m.join(owner());
    let per = m.join(guest("Per"));
    m.send(&olga, ClientMessage::AdmitAll);
    let w = m.join(guest("W"));
    let out = m.send(&per, chat_to(ChatTarget::Everyone, "  Hei!  "));
    let stored = stored_chat(&out);
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (stored[0].seq, stored[0].text.as_str(), stored[0].from),
        (1, "Hei!", per.id)
    );
    assert_eq!(stored[0].from_name, "Per");
    assert_eq!(stored[0].sent_at_ms, m.now);
    assert!(out.contains(&Output::Send {
        to: vec![olga.conn, per.conn],
        msg: ServerMessage::Chat {
            message: stored[0].clone()
        }
    }));
    assert!(
        nothing_to(&out, &w),
        "the waiting room does not hear the meeting"
    );
}

#[test]
fn chat_text_must_be_sensible() {
    let (mut m, host, per, _) = host_and_two();
    let long = "x".repeat(samla_protocol::MAX_CHAT_CHARS + 1);
    for text in ["", "   \n", long.as_str()] {
        let out = m.send(&per, chat_to(ChatTarget::Everyone, text));
        assert_refused(&out, per.conn, ErrorCode::InvalidArgument);
    }
    let out = m.send(
        &per,
        chat_to(
            ChatTarget::Participant {
                id: ParticipantId(99),
            },
            "hi",
        ),
    );
    assert_refused(&out, per.conn, ErrorCode::ParticipantNotFound);
    let max = "ø".repeat(samla_protocol::MAX_CHAT_CHARS);
    assert_eq!(
        chats_to(&m.send(&per, chat_to(ChatTarget::Everyone, &max)), &host).len(),
        1
    );
}

#[test]
fn private_chat_reaches_only_sender_and_recipient() {
    let (mut m, host, per, pia) = host_and_two();
    let out = m.send(&per, chat_to(private(&pia), "psst"));
    assert_eq!(chats_to(&out, &per), ["psst"]);
    assert_eq!(chats_to(&out, &pia), ["psst"]);
    assert!(
        nothing_to(&out, &host),
        "not even the host reads private messages"
    );
}

#[test]
fn chat_to_hosts_reaches_moderators_and_the_sender() {
    let (mut m, host, per, pia) = host_and_two();
    let max = m.join(guest("Max"));
    m.send(
        &host,
        ClientMessage::SetRole {
            participant: max.id,
            role: Role::CoHost,
        },
    );
    let out = m.send(&per, chat_to(ChatTarget::Hosts, "help"));
    for who in [&host, &per, &max] {
        assert_eq!(chats_to(&out, who), ["help"]);
    }
    assert!(nothing_to(&out, &pia));
}

#[test]
fn private_chat_to_someone_waiting_finds_nobody() {
    let (mut m, olga) = with_waiting_room();
    let w = m.join(guest("W"));
    let out = m.send(&olga, chat_to(private(&w), "soon"));
    assert_refused(&out, olga.conn, ErrorCode::ParticipantNotFound);
}

#[test]
fn the_chat_policy_decides_who_may_write_to_whom() {
    let (mut m, host, per, pia) = host_and_two();
    let max = m.join(guest("Max"));
    m.send(
        &host,
        ClientMessage::SetRole {
            participant: max.id,
            role: Role::CoHost,
        },
    );

    let out = m.send(
        &host,
        ClientMessage::SetChatPolicy {
            policy: ChatPolicy::HostsOnly,
        },
    );
    assert!(matches!(
        to(&out, per.conn)[..],
        [ServerMessage::MeetingUpdated { meeting }] if meeting.chat_policy == ChatPolicy::HostsOnly
    ));
    for target in [ChatTarget::Everyone, private(&pia)] {
        let out = m.send(&per, chat_to(target, "no"));
        assert_refused(&out, per.conn, ErrorCode::ChatNotAllowed);
    }
    for target in [ChatTarget::Hosts, private(&host), private(&max)] {
        assert_eq!(chats_to(&m.send(&per, chat_to(target, "ok")), &per), ["ok"]);
    }
    assert_eq!(
        chats_to(&m.send(&max, chat_to(ChatTarget::Everyone, "all")), &pia),
        ["all"]
    );

    m.send(
        &host,
        ClientMessage::SetChatPolicy {
            policy: ChatPolicy::Off,
        },
    );
    for target in [ChatTarget::Everyone, ChatTarget::Hosts, private(&host)] {
        let out = m.send(&per, chat_to(target, "no"));
        assert_refused(&out, per.conn, ErrorCode::ChatNotAllowed);
    }
    assert_eq!(
        chats_to(&m.send(&host, chat_to(private(&pia), "ok")), &pia),
        ["ok"]
    );
    assert_eq!(
        chats_to(&m.send(&max, chat_to(ChatTarget::Everyone, "ok")), &per),
        ["ok"]
    );
}

fn stored(seq: u64, from: u32, to: ChatTarget, text: &str) -> ChatMessage {
    ChatMessage {
        seq,
        from: ParticipantId(from),
        from_name: format!("P{from}"),
        to,
        text: text.into(),
        sent_at_ms: T0 - 1000,
    }
}

#[test]
fn a_late_joiner_sees_only_the_history_they_may_read() {
    // Stored before a restart: ids 1 and 2 belonged to people who left.
    let id3 = ParticipantId(3);
    let history = vec![
        stored(1, 1, ChatTarget::Everyone, "public"),
        stored(2, 1, ChatTarget::Hosts, "to hosts"),
        stored(
            3,
            1,
            ChatTarget::Participant {
                id: ParticipantId(2),
            },
            "1 to 2",
        ),
        stored(7, 2, ChatTarget::Participant { id: id3 }, "2 to 3"),
    ];
    let mut m = Meeting::with(config(false), history, 3);

    let (conn, out) = m.try_join(guest("Three")); // id 3, host by arriving first
    let three = seat_from(conn, &out);
    assert_eq!(three.id, id3);
    let texts = |out: &[Output], who: &Person| match joined(out, who) {
        ServerMessage::Joined { chat, .. } => {
            chat.iter().map(|c| c.text.clone()).collect::<Vec<_>>()
        }
        _ => unreachable!(),
    };
    assert_eq!(texts(&out, &three), ["public", "to hosts", "2 to 3"]);

    let (conn, out) = m.try_join(guest("Four"));
    let four = seat_from(conn, &out);
    assert_eq!(texts(&out, &four), ["public"]);

    // Numbering continues after the stored maximum.
    let out = m.send(&four, chat_to(private(&three), "4 to 3"));
    assert_eq!(stored_chat(&out)[0].seq, 8);
    let out = m.send(&three, chat_to(ChatTarget::Everyone, "hello all"));
    assert_eq!(stored_chat(&out)[0].seq, 9);
    let (conn, out) = m.try_join(guest("Five"));
    assert_eq!(texts(&out, &seat_from(conn, &out)), ["public", "hello all"]);
}

#[test]
fn only_the_latest_500_messages_are_replayed() {
    let history: Vec<_> = (1..=600)
        .map(|seq| stored(seq, 1, ChatTarget::Everyone, &seq.to_string()))
        .collect();
    let mut m = Meeting::with(config(false), history, 2);
    let (conn, out) = m.try_join(guest("A"));
    match joined(&out, &seat_from(conn, &out)) {
        ServerMessage::Joined { chat, .. } => {
            assert_eq!(chat.len(), 500);
            assert_eq!(chat[0].seq, 101);
        }
        _ => unreachable!(),
    }
    let a = seat_from(conn, &out);
    for _ in 0..3 {
        m.send(&a, chat_to(ChatTarget::Everyone, "new"));
    }
    assert_eq!(m.machine.chat.len(), 500);
    assert_eq!(m.machine.chat.back().unwrap().seq, 603);
}

// ---- anyone -----------------------------------------------------------------------

#[test]
fn hands_reactions_and_names() {
    let (mut m, host, per, pia) = host_and_two();
    let out = m.send(&per, ClientMessage::RaiseHand);
    assert!(
        matches!(to(&out, pia.conn)[..], [ServerMessage::ParticipantUpdated { participant }] if participant.hand_raised)
    );
    assert!(
        m.send(&per, ClientMessage::RaiseHand).is_empty(),
        "no news, no message"
    );

    let out = m.send(
        &host,
        ClientMessage::LowerHand {
            participant: Some(per.id),
        },
    );
    assert!(
        matches!(to(&out, per.conn)[..], [ServerMessage::ParticipantUpdated { participant }] if !participant.hand_raised)
    );
    m.send(&pia, ClientMessage::RaiseHand);
    let out = m.send(&pia, ClientMessage::LowerHand { participant: None });
    assert!(
        matches!(to(&out, host.conn)[..], [ServerMessage::ParticipantUpdated { participant }] if !participant.hand_raised)
    );

    let out = m.send(
        &per,
        ClientMessage::React {
            reaction: Reaction::Heart,
        },
    );
    let reaction = ServerMessage::Reaction {
        participant: per.id,
        reaction: Reaction::Heart,
    };
    assert_eq!(
        out,
        [Output::Send {
            to: vec![host.conn, per.conn, pia.conn],
            msg: reaction
        }]
    );

    let out = m.send(
        &per,
        ClientMessage::Rename {
            participant: None,
            name: " Peder ".into(),
        },
    );
    assert!(
        matches!(to(&out, host.conn)[..], [ServerMessage::ParticipantUpdated { participant }] if participant.name == "Peder")
    );
    let out = m.send(
        &host,
        ClientMessage::Rename {
            participant: Some(pia.id),
            name: "Pia P.".into(),
        },
    );
    assert!(
        matches!(to(&out, pia.conn)[..], [ServerMessage::ParticipantUpdated { participant }] if participant.name == "Pia P.")
    );
    let out = m.send(
        &per,
        ClientMessage::Rename {
            participant: None,
            name: " ".into(),
        },
    );
    assert_refused(&out, per.conn, ErrorCode::InvalidArgument);
    // One's own id counts as oneself, not as a moderator action.
    let out = m.send(
        &per,
        ClientMessage::Rename {
            participant: Some(per.id),
            name: "Per".into(),
        },
    );
    assert_eq!(to(&out, pia.conn).len(), 1);
}

#[test]
fn leaving_is_seen_by_everyone_else() {
    let (mut m, host, per, pia) = host_and_two();
    let out = m.send(&per, ClientMessage::Leave);
    assert_eq!(
        to(&out, per.conn),
        [&ServerMessage::Closed {
            reason: CloseReason::Left
        }]
    );
    assert!(closed(&out, &per));
    let left = ServerMessage::ParticipantLeft {
        participant: per.id,
        reason: LeaveReason::Left,
    };
    assert!(out.contains(&Output::Send {
        to: vec![host.conn, pia.conn],
        msg: left
    }));
    assert_eq!(
        attendance(&out),
        [(per.id, AttendanceEvent::Left(LeaveReason::Left))]
    );
}
