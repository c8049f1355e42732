//! The one error type of the engine, so that a caller can tell a refusal by the server
//! (wrong passcode, meeting not found, …) from a network problem and act on each.

use samla_protocol::{CloseReason, ErrorCode};

/// Everything that can go wrong in the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The text is not a join link (nor a meeting id where one is accepted).
    #[error("not a join link: {input:?} ({reason})")]
    InvalidLink { input: String, reason: String },

    /// The WebSocket could not be opened or broke while we waited for an answer.
    #[error("could not reach the server at {url}: {cause}")]
    Connect {
        url: String,
        cause: Box<tokio_tungstenite::tungstenite::Error>,
    },

    /// The socket closed before the server answered.
    #[error("the server closed the connection before answering")]
    ConnectionLost,

    /// The server did not answer in time.
    #[error("the server did not answer in time")]
    Timeout,

    /// The server refused the request; `code` says why in a way a program can act on.
    #[error("{message} ({code:?})")]
    Refused { code: ErrorCode, message: String },

    /// The server ended this session (e.g. a host denied entry from the waiting room).
    #[error("the server ended the session: {0:?}")]
    Closed(CloseReason),

    /// The server sent something the protocol does not allow at this point.
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),

    /// The session is over; commands can no longer be sent.
    #[error("the session has ended")]
    SessionEnded,

    /// An HTTP request of the REST API failed below the HTTP level; the cause is its source.
    #[error("HTTP request failed")]
    Http(#[from] reqwest::Error),

    /// The REST API answered with an error (its `ApiError` body, or the raw body if not JSON).
    #[error("the server answered {status}: {message} ({code})")]
    Api {
        status: u16,
        code: String,
        message: String,
    },
}

impl EngineError {
    /// Whether trying again later could succeed: network trouble, not a decision of the
    /// server. Drives the reconnect loop, which gives up on the first non-transient error.
    pub fn is_transient(&self) -> bool {
        match self {
            EngineError::Connect { .. } | EngineError::ConnectionLost | EngineError::Timeout => {
                true
            }
            EngineError::Refused { code, .. } => matches!(code, ErrorCode::Internal),
            _ => false,
        }
    }

    /// The server's error code, when the server refused.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            EngineError::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }
}
