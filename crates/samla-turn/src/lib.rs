//! A sans-IO TURN client (RFC 8656, which RFC 5766 became), for networks where the
//! only way out for media is the institution's TURN server. str0m, the engine's WebRTC
//! stack, has no TURN client; this one is shaped like str0m so it can share its socket and
//! clock: no sockets, no timers, just [`TurnClient::handle_input`],
//! [`TurnClient::handle_timeout`], [`TurnClient::poll_transmit`],
//! [`TurnClient::poll_timeout`] and [`TurnClient::poll_event`].
//!
//! Long-term credentials (RFC 8489 §9.2): the first Allocate goes without them, the server's
//! 401 names its realm and a nonce, and every request after carries USERNAME, REALM, NONCE
//! and MESSAGE-INTEGRITY (HMAC-SHA1 keyed with MD5 of `username:realm:password`). A 438
//! (stale nonce) is answered by retrying with the new nonce. The password is used as given:
//! SASLprep, which the RFC asks for, changes nothing in an ASCII password, and non-ASCII
//! TURN passwords are not supported.
//!
//! To the TURN server over UDP (`turn:…?transport=udp`), or over a TCP or TLS connection
//! (`?transport=tcp`, `turns:`) whose byte stream [`stream`] frames; the TLS itself is the
//! caller's. Either way the server relays to peers over UDP.

mod client;
pub mod stream;
mod stun;

pub use client::{Event, Incoming, Transmit, TurnClient, TurnConfig};
pub use stun::StunError;

/// Why an allocation (or a permission for a peer) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TurnError {
    /// A 401 to a request that carried our credentials: wrong username or password.
    #[error("the TURN server rejected our credentials (user {username:?}, realm {realm:?}): check the username and credential of the [[ice_servers]] entry")]
    Unauthorized { username: String, realm: String },
    /// Any other error answer, e.g. 403 (forbidden peer), 437 (allocation mismatch), 486
    /// (allocation quota reached), 508 (out of relay ports).
    #[error("the TURN server answered {code} {reason}")]
    Rejected { code: u16, reason: String },
    #[error("no answer from the TURN server after {0} tries")]
    Timeout(u32),
    #[error("the TURN server's answer lacks {0}")]
    Missing(&'static str),
    #[error("the TURN server's answer is malformed: {0}")]
    Malformed(#[from] StunError),
}

#[cfg(test)]
mod tests;
