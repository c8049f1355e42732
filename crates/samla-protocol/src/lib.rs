//! The Samla wire protocol: every message that crosses between a Samla client and the
//! meeting server, and the identifiers they share.
//!
//! Signalling runs over one WebSocket per participant and carries JSON text frames. Every
//! frame is one object tagged by its `"type"` field ([`ClientMessage`], [`ServerMessage`]).
//! The first client frame is always [`ClientMessage::Hello`] carrying [`PROTOCOL_VERSION`];
//! the server answers [`ServerMessage::Welcome`] or an [`ErrorCode::UnsupportedVersion`]
//! error and closes.
//!
//! The REST API's request and response bodies live in [`api`] so that the CLI and the server
//! cannot drift apart.

pub mod api;
mod codec;
mod ids;
mod messages;

pub use codec::{DecodeError, MAX_MESSAGE_BYTES};
pub use ids::{MeetingId, MeetingIdError, ParticipantId};
pub use messages::*;

/// The protocol version this crate speaks. A server refuses a `hello` with another version.
pub const PROTOCOL_VERSION: u32 = 1;

/// Longest display name, in characters, that the server accepts.
pub const MAX_NAME_CHARS: usize = 64;

/// Longest chat message, in characters, that the server accepts.
pub const MAX_CHAT_CHARS: usize = 4000;

/// Longest poll question, in characters.
pub const MAX_POLL_QUESTION_CHARS: usize = 300;

/// Longest answer a poll offers, in characters.
pub const MAX_POLL_OPTION_CHARS: usize = 100;

/// Most answers a poll offers (and fewest: 2).
pub const MAX_POLL_OPTIONS: usize = 10;

/// How long a dropped participant keeps its seat and role, waiting to resume.
pub const RESUME_GRACE_SECS: u64 = 60;
