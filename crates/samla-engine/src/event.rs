//! What a session reports to its owner, in order.

use samla_protocol::ServerMessage;
use serde::{Deserialize, Serialize};

/// One thing that happened in a session. Serialised with an `"event"` tag, e.g.
/// `{"event":"server","type":"chat","message":{…}}` or `{"event":"reconnecting","attempt":2}`,
/// so that recordings (the CLI's `--events-json`) can be read back by tests.
///
/// Every stream ends with exactly one of [`Event::Ended`] or [`Event::Failed`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A message from the server, forwarded as is (including `welcome`, `joined`, `closed`).
    Server(ServerMessage),
    /// The connection dropped without a `closed`; attempt `attempt` to resume is under way.
    Reconnecting { attempt: u32 },
    /// The seat was taken back; the `joined`/`waiting` snapshot just before this is current.
    Resumed,
    /// The session could not go on (resume refused or the grace period ran out). Last event.
    Failed { message: String },
    /// The session is over: the server closed it, or we left. Last event.
    Ended,
}

impl Event {
    /// Whether this is the last event of its stream.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Event::Ended | Event::Failed { .. })
    }
}

#[cfg(test)]
mod tests {
    use samla_protocol::CloseReason;

    use super::*;

    #[test]
    fn events_round_trip_through_json() {
        let events = vec![
            Event::Server(ServerMessage::Welcome {
                version: 1,
                server: "s".into(),
            }),
            Event::Server(ServerMessage::MovedToWaitingRoom),
            Event::Server(ServerMessage::Closed {
                reason: CloseReason::Left,
            }),
            Event::Reconnecting { attempt: 2 },
            Event::Resumed,
            Event::Failed {
                message: "gone".into(),
            },
            Event::Ended,
        ];
        let json = serde_json::to_string(&events).unwrap();
        assert!(
            json.contains(r#"{"event":"reconnecting","attempt":2}"#),
            "{json}"
        );
        assert!(
            json.contains(r#"{"event":"server","type":"closed","reason":"left"}"#),
            "{json}"
        );
        let back: Vec<Event> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, events);
    }
}
