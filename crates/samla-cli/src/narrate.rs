//! One human line per notable event, for stderr. Uses the view from *before* the event, so
//! that someone who just left can still be named.

use samla_engine::{Event, MeetingView};
use samla_protocol::{ChatTarget, ParticipantId, ServerMessage};

pub fn describe(event: &Event, before: &MeetingView) -> Option<String> {
    let name = |id: &ParticipantId| {
        before
            .participants
            .get(id)
            .map_or_else(|| id.to_string(), |p| format!("{} ({id})", p.name))
    };
    let line = match event {
        Event::Server(msg) => match msg {
            ServerMessage::Welcome { server, .. } => format!("connected to {server}"),
            ServerMessage::Error { code, message } => format!("server error: {message} ({code:?})"),
            ServerMessage::Waiting { you, meeting, .. } => {
                format!("in the waiting room of {:?} as {you}", meeting.topic)
            }
            ServerMessage::Joined {
                you,
                role,
                meeting,
                participants,
                ..
            } => format!(
                "joined {:?} as {you} ({role:?}); {} in the meeting",
                meeting.topic,
                participants.len()
            ),
            ServerMessage::ParticipantJoined { participant } => {
                format!("{} ({}) joined", participant.name, participant.id)
            }
            ServerMessage::ParticipantLeft {
                participant,
                reason,
            } => {
                format!("{} left ({reason:?})", name(participant))
            }
            ServerMessage::WaitingRoom { waiting } => {
                format!("waiting room: {} waiting", waiting.len())
            }
            ServerMessage::MovedToWaitingRoom => "a host moved us to the waiting room".into(),
            ServerMessage::MeetingUpdated { meeting } => format!(
                "meeting updated: locked={} waiting_room={} chat={:?} share={:?} \
                 mute_on_entry={} self_unmute={} spotlight={:?}",
                meeting.locked,
                meeting.waiting_room,
                meeting.chat_policy,
                meeting.share_policy,
                meeting.mute_on_entry,
                meeting.self_unmute,
                meeting.spotlight
            ),
            ServerMessage::Chat { message } => {
                let to = match message.to {
                    ChatTarget::Everyone => String::new(),
                    ChatTarget::Hosts => " (to hosts)".into(),
                    ChatTarget::Participant { .. } => " (privately)".into(),
                };
                format!("chat from {}{to}: {}", message.from_name, message.text)
            }
            ServerMessage::MutedBy { by } => format!("muted by {}", name(by)),
            ServerMessage::UnmuteRequested { by } => format!("{} asks us to unmute", name(by)),
            ServerMessage::Poll { poll } => {
                let state = if poll.open { "open" } else { "ended" };
                let results = poll
                    .results
                    .as_ref()
                    .map(|r| format!(", results {r:?}"))
                    .unwrap_or_default();
                format!(
                    "poll {} ({state}, {} answered{results}): {} {:?}",
                    poll.id, poll.answered, poll.question, poll.options
                )
            }
            ServerMessage::Closed { reason } => format!("session closed: {reason:?}"),
            // Frequent and self-evident; the JSON recording has them.
            ServerMessage::ParticipantUpdated { .. }
            | ServerMessage::Reaction { .. }
            | ServerMessage::MediaConfig { .. }
            | ServerMessage::MediaAnswer { .. }
            | ServerMessage::MediaOffer { .. }
            | ServerMessage::MediaTracks { .. }
            | ServerMessage::MediaLayers { .. }
            | ServerMessage::ActiveSpeaker { .. } => return None,
        },
        Event::Reconnecting { attempt } => {
            format!("connection lost; reconnecting (attempt {attempt})")
        }
        Event::Resumed => "reconnected".into(),
        Event::Failed { message } => format!("session failed: {message}"),
        Event::Ended => "session ended".into(),
    };
    Some(line)
}

#[cfg(test)]
mod tests {
    use samla_protocol::{LeaveReason, ParticipantInfo, Role};

    use super::*;

    #[test]
    fn names_someone_who_just_left() {
        let mut before = MeetingView::default();
        before.participants.insert(
            ParticipantId(4),
            ParticipantInfo {
                id: ParticipantId(4),
                name: "Bo".into(),
                role: Role::Participant,
                audio_muted: true,
                video_on: false,
                hand_raised: false,
                connected: true,
                signed_in: false,
                may_unmute: true,
                feedback: None,
            },
        );
        let left = Event::Server(ServerMessage::ParticipantLeft {
            participant: ParticipantId(4),
            reason: LeaveReason::Removed,
        });
        assert_eq!(describe(&left, &before).unwrap(), "Bo (#4) left (Removed)");
    }
}
