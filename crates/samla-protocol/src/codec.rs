//! Decoding frames from the wire, with errors a peer can act on.

use serde::Deserialize;

use crate::{ClientMessage, ErrorCode, ServerMessage};

/// The largest signalling frame either side accepts, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Why a frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("message of {0} bytes is larger than the limit of {MAX_MESSAGE_BYTES}")]
    TooLarge(usize),
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    #[error("malformed message: {0}")]
    Malformed(String),
}

impl DecodeError {
    /// The error code to answer this decode failure with.
    pub fn code(&self) -> ErrorCode {
        match self {
            DecodeError::TooLarge(_) => ErrorCode::MessageTooLarge,
            DecodeError::UnknownType(_) => ErrorCode::UnknownMessage,
            DecodeError::Malformed(_) => ErrorCode::Malformed,
        }
    }
}

impl ClientMessage {
    /// Decodes one text frame, telling oversized, unknown and malformed frames apart.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        if text.len() > MAX_MESSAGE_BYTES {
            return Err(DecodeError::TooLarge(text.len()));
        }
        serde_json::from_str(text).map_err(|err| {
            // Only on the error path: look at the tag alone to say which kind of wrong it is.
            #[derive(Deserialize)]
            struct Tag<'a> {
                #[serde(rename = "type", borrow)]
                kind: std::borrow::Cow<'a, str>,
            }
            match serde_json::from_str::<Tag>(text) {
                Ok(tag) if !ClientMessage::TYPES.contains(&tag.kind.as_ref()) => {
                    DecodeError::UnknownType(truncate(&tag.kind, 64))
                }
                _ => DecodeError::Malformed(err.to_string()),
            }
        })
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("client messages always serialise")
    }
}

impl ServerMessage {
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        if text.len() > MAX_MESSAGE_BYTES {
            return Err(DecodeError::TooLarge(text.len()));
        }
        serde_json::from_str(text).map_err(|e| DecodeError::Malformed(e.to_string()))
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("server messages always serialise")
    }

    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        ServerMessage::Error {
            code,
            message: message.into(),
        }
    }
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ChatTarget, ParticipantId};

    #[test]
    fn decodes_a_chat_frame() {
        let msg = ClientMessage::decode(
            r#"{"type":"chat","to":{"kind":"participant","id":7},"text":"Hei"}"#,
        )
        .unwrap();
        assert_eq!(
            msg,
            ClientMessage::Chat {
                to: ChatTarget::Participant {
                    id: ParticipantId(7)
                },
                text: "Hei".into()
            }
        );
        assert_eq!(ClientMessage::decode(&msg.encode()).unwrap(), msg);
    }

    #[test]
    fn media_config_carries_the_video_cap_only_when_there_is_one() {
        let uncapped = ServerMessage::MediaConfig {
            ice_servers: vec![],
            max_video_height: None,
        };
        assert_eq!(
            uncapped.encode(),
            r#"{"type":"media_config","ice_servers":[]}"#
        );
        // What an older server sent still decodes.
        assert_eq!(
            ServerMessage::decode(r#"{"type":"media_config","ice_servers":[]}"#).unwrap(),
            uncapped
        );
        let capped = ServerMessage::MediaConfig {
            ice_servers: vec![],
            max_video_height: Some(360),
        };
        assert_eq!(
            ServerMessage::decode(&capped.encode()).unwrap(),
            capped,
            "{}",
            capped.encode()
        );
        assert!(capped.encode().contains(r#""max_video_height":360"#));
    }

    #[test]
    fn tells_unknown_from_malformed_from_oversized() {
        assert_eq!(
            ClientMessage::decode(r#"{"type":"teleport"}"#)
                .unwrap_err()
                .code(),
            ErrorCode::UnknownMessage
        );
        assert_eq!(
            ClientMessage::decode(r#"{"type":"chat","text":5}"#)
                .unwrap_err()
                .code(),
            ErrorCode::Malformed
        );
        assert_eq!(
            ClientMessage::decode("{not json").unwrap_err().code(),
            ErrorCode::Malformed
        );
        assert_eq!(
            ClientMessage::decode("[]").unwrap_err().code(),
            ErrorCode::Malformed
        );
        let big = format!(
            r#"{{"type":"chat","to":{{"kind":"everyone"}},"text":"{}"}}"#,
            "a".repeat(MAX_MESSAGE_BYTES)
        );
        assert_eq!(
            ClientMessage::decode(&big).unwrap_err().code(),
            ErrorCode::MessageTooLarge
        );
    }

    #[test]
    fn the_type_list_matches_the_enum() {
        // serde names every variant in its "unknown variant" error; TYPES must list exactly those,
        // or a malformed frame of a real type would be reported as unknown (or the reverse).
        let err = serde_json::from_str::<ClientMessage>(r#"{"type":"zzz"}"#)
            .unwrap_err()
            .to_string();
        let mut from_serde: Vec<&str> = err.split('`').skip(3).step_by(2).collect();
        let mut listed = ClientMessage::TYPES.to_vec();
        from_serde.sort();
        listed.sort();
        assert_eq!(from_serde, listed, "serde said: {err}");
    }
}
