//! The local model of the meeting, kept up to date from the event stream.
//!
//! It is a pure fold over [`Event`]s (no I/O), so a UI can render from one snapshot and tests
//! can check it against a scripted sequence of messages.

use std::collections::BTreeMap;

use samla_protocol::{
    ChatMessage, MeetingState, ParticipantId, ParticipantInfo, PollView, Role, ServerMessage,
    WaitingInfo,
};

use crate::Event;

/// Where this client stands in the meeting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Status {
    /// Before the server answered the join.
    #[default]
    Connecting,
    /// In the waiting room, until a host admits us.
    Waiting,
    /// In the meeting.
    Joined,
    /// The session is over (closed, left or failed).
    Ended,
}

/// A snapshot of the meeting as this client knows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MeetingView {
    pub status: Status,
    /// Our own seat, once the server gave us one.
    pub me: Option<ParticipantId>,
    /// Our role while in the meeting; `None` while waiting.
    pub role: Option<Role>,
    pub meeting: Option<MeetingState>,
    /// Everyone in the meeting, ourselves included, by id.
    pub participants: BTreeMap<ParticipantId, ParticipantInfo>,
    /// The waiting room; only known to hosts and co-hosts.
    pub waiting: Vec<WaitingInfo>,
    /// The chat we may read, ordered by `seq`.
    pub chat: Vec<ChatMessage>,
    /// The meeting's poll as we may see it (the running one, or the last one).
    pub poll: Option<PollView>,
    /// `Some(attempt)` while the connection is down and being resumed.
    pub reconnecting: Option<u32>,
}

impl MeetingView {
    /// Whether we may run the meeting (admit, mute, remove, lock).
    pub fn is_moderator(&self) -> bool {
        self.status == Status::Joined && self.role.is_some_and(Role::is_moderator)
    }

    /// Updates the model with one event.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::Server(msg) => self.apply_server(msg),
            Event::Reconnecting { attempt } => self.reconnecting = Some(*attempt),
            Event::Resumed => self.reconnecting = None,
            Event::Failed { .. } | Event::Ended => {
                self.status = Status::Ended;
                self.reconnecting = None;
            }
        }
    }

    fn apply_server(&mut self, msg: &ServerMessage) {
        match msg {
            ServerMessage::Waiting { you, meeting, .. } => {
                self.enter_waiting_room();
                self.me = Some(*you);
                self.meeting = Some(meeting.clone());
            }
            ServerMessage::Joined {
                you,
                role,
                meeting,
                participants,
                waiting,
                chat,
                ..
            } => {
                // A full snapshot (first join, admission or resume): replace, don't merge.
                self.status = Status::Joined;
                self.me = Some(*you);
                self.role = Some(*role);
                self.meeting = Some(meeting.clone());
                self.participants = participants.iter().map(|p| (p.id, p.clone())).collect();
                self.waiting = waiting.clone();
                self.chat = chat.clone();
                self.chat.sort_by_key(|m| m.seq);
            }
            ServerMessage::ParticipantJoined { participant }
            | ServerMessage::ParticipantUpdated { participant } => {
                if Some(participant.id) == self.me {
                    self.role = Some(participant.role);
                    if !participant.role.is_moderator() {
                        // The server stops telling us about the waiting room; don't show a stale one.
                        self.waiting.clear();
                    }
                }
                self.participants
                    .insert(participant.id, participant.clone());
            }
            ServerMessage::ParticipantLeft { participant, .. } => {
                self.participants.remove(participant);
            }
            ServerMessage::WaitingRoom { waiting } => self.waiting = waiting.clone(),
            ServerMessage::MovedToWaitingRoom => self.enter_waiting_room(),
            ServerMessage::MeetingUpdated { meeting } => self.meeting = Some(meeting.clone()),
            ServerMessage::Chat { message } => self.add_chat(message),
            ServerMessage::Poll { poll } => self.poll = Some(poll.clone()),
            ServerMessage::Closed { .. } => self.status = Status::Ended,
            // Notifications that change nothing in the model (the participant update that
            // follows a mute carries the new state).
            ServerMessage::Welcome { .. }
            | ServerMessage::Error { .. }
            | ServerMessage::MutedBy { .. }
            | ServerMessage::UnmuteRequested { .. }
            | ServerMessage::Reaction { .. }
            // Media signalling is the media session's business, not the roster's.
            | ServerMessage::MediaConfig { .. }
            | ServerMessage::MediaAnswer { .. }
            | ServerMessage::MediaOffer { .. }
            | ServerMessage::MediaTracks { .. }
            | ServerMessage::MediaLayers { .. }
            | ServerMessage::ActiveSpeaker { .. } => {}
        }
    }

    /// In the waiting room we see nobody and no chat.
    fn enter_waiting_room(&mut self) {
        self.status = Status::Waiting;
        self.role = None;
        self.participants.clear();
        self.waiting.clear();
        self.chat.clear();
        self.poll = None;
    }

    /// Keeps the chat ordered and free of duplicates, which a resume snapshot may repeat.
    fn add_chat(&mut self, message: &ChatMessage) {
        if let Err(at) = self.chat.binary_search_by_key(&message.seq, |m| m.seq) {
            self.chat.insert(at, message.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use samla_protocol::{
        ChatPolicy, ChatTarget, CloseReason, LeaveReason, MeetingId, SharePolicy,
    };

    use super::*;

    fn meeting() -> MeetingState {
        MeetingState {
            id: "123456789".parse::<MeetingId>().unwrap(),
            topic: "Standup".into(),
            locked: false,
            waiting_room: true,
            chat_policy: ChatPolicy::Everyone,
            share_policy: SharePolicy::Everyone,
            mute_on_entry: false,
            self_unmute: true,
            spotlight: None,
        }
    }

    fn person(id: u32, name: &str, role: Role) -> ParticipantInfo {
        ParticipantInfo {
            id: ParticipantId(id),
            name: name.into(),
            role,
            audio_muted: false,
            video_on: false,
            hand_raised: false,
            connected: true,
            signed_in: false,
            may_unmute: true,
            feedback: None,
        }
    }

    fn chat(seq: u64, text: &str) -> ChatMessage {
        ChatMessage {
            seq,
            from: ParticipantId(1),
            from_name: "Ada".into(),
            to: ChatTarget::Everyone,
            text: text.into(),
            sent_at_ms: 0,
        }
    }

    fn joined(you: u32, role: Role, chat_log: Vec<ChatMessage>) -> Event {
        Event::Server(ServerMessage::Joined {
            you: ParticipantId(you),
            role,
            resume_token: "t".into(),
            meeting: meeting(),
            participants: vec![person(1, "Ada", Role::Host), person(you, "Me", role)],
            waiting: vec![],
            chat: chat_log,
        })
    }

    fn fold(events: &[Event]) -> MeetingView {
        let mut view = MeetingView::default();
        for event in events {
            view.apply(event);
        }
        view
    }

    #[test]
    fn from_waiting_room_to_meeting_to_closed() {
        let mut view = fold(&[
            Event::Server(ServerMessage::Welcome {
                version: 1,
                server: "s".into(),
            }),
            Event::Server(ServerMessage::Waiting {
                you: ParticipantId(2),
                resume_token: "t".into(),
                meeting: meeting(),
            }),
        ]);
        assert_eq!(view.status, Status::Waiting);
        assert_eq!(view.me, Some(ParticipantId(2)));
        assert_eq!(view.role, None);
        assert!(!view.is_moderator());

        view.apply(&joined(2, Role::Participant, vec![chat(1, "hi")]));
        assert_eq!(view.status, Status::Joined);
        assert_eq!(view.participants.len(), 2);
        assert_eq!(view.chat.len(), 1);

        view.apply(&Event::Server(ServerMessage::Closed {
            reason: CloseReason::MeetingEnded,
        }));
        assert_eq!(view.status, Status::Ended);
    }

    #[test]
    fn tracks_participants_roles_and_the_waiting_room() {
        let waiting = vec![WaitingInfo {
            id: ParticipantId(9),
            name: "Eve".into(),
            signed_in: false,
        }];
        let view = fold(&[
            joined(2, Role::Participant, vec![]),
            Event::Server(ServerMessage::ParticipantJoined {
                participant: person(3, "Bo", Role::Participant),
            }),
            Event::Server(ServerMessage::ParticipantLeft {
                participant: ParticipantId(1),
                reason: LeaveReason::Left,
            }),
            // The host left and the server made us co-host.
            Event::Server(ServerMessage::ParticipantUpdated {
                participant: person(2, "Me", Role::CoHost),
            }),
            Event::Server(ServerMessage::WaitingRoom {
                waiting: waiting.clone(),
            }),
            Event::Server(ServerMessage::MeetingUpdated {
                meeting: MeetingState {
                    locked: true,
                    ..meeting()
                },
            }),
        ]);
        assert_eq!(
            view.participants.keys().copied().collect::<Vec<_>>(),
            [ParticipantId(2), ParticipantId(3)]
        );
        assert_eq!(view.role, Some(Role::CoHost));
        assert!(view.is_moderator());
        assert_eq!(view.waiting, waiting);
        assert!(view.meeting.as_ref().unwrap().locked);

        // Demoted again: the waiting room is no longer ours to see.
        let mut view = view;
        view.apply(&Event::Server(ServerMessage::ParticipantUpdated {
            participant: person(2, "Me", Role::Participant),
        }));
        assert!(view.waiting.is_empty());
        assert!(!view.is_moderator());
    }

    #[test]
    fn chat_is_ordered_and_deduplicated_across_a_resume() {
        let view = fold(&[
            joined(2, Role::Participant, vec![chat(1, "a")]),
            Event::Server(ServerMessage::Chat {
                message: chat(3, "c"),
            }),
            Event::Server(ServerMessage::Chat {
                message: chat(2, "b"),
            }),
            Event::Server(ServerMessage::Chat {
                message: chat(3, "c"),
            }),
            Event::Reconnecting { attempt: 1 },
        ]);
        assert_eq!(
            view.chat.iter().map(|m| m.seq).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert_eq!(view.reconnecting, Some(1));

        let mut view = view;
        view.apply(&joined(
            2,
            Role::Participant,
            vec![chat(1, "a"), chat(2, "b"), chat(3, "c"), chat(4, "d")],
        ));
        view.apply(&Event::Resumed);
        assert_eq!(view.chat.len(), 4);
        assert_eq!(view.reconnecting, None);
        assert_eq!(view.status, Status::Joined);
    }

    #[test]
    fn moved_back_to_the_waiting_room_forgets_the_meeting() {
        let view = fold(&[
            joined(2, Role::Participant, vec![chat(1, "a")]),
            Event::Server(ServerMessage::MovedToWaitingRoom),
        ]);
        assert_eq!(view.status, Status::Waiting);
        assert!(view.participants.is_empty() && view.chat.is_empty());
        assert_eq!(view.role, None);
    }

    #[test]
    fn a_failed_resume_ends_the_view() {
        let view = fold(&[
            joined(2, Role::Host, vec![]),
            Event::Reconnecting { attempt: 3 },
            Event::Failed {
                message: "resume refused".into(),
            },
        ]);
        assert_eq!(view.status, Status::Ended);
        assert_eq!(view.reconnecting, None);
    }
}
