//! The Samla client engine: everything a client does except showing it.
//!
//! - [`Session::join`] joins a meeting over the signalling WebSocket and returns a
//!   [`SessionHandle`] to act through plus a stream of [`Event`]s. A background task owns the
//!   socket, keeps a [`MeetingView`] up to date and resumes the seat after a dropped
//!   connection.
//! - [`api::ApiClient`] schedules and manages meetings over the REST API.
//! - [`media::MediaSession`] publishes our audio and camera and receives everyone else's over
//!   WebRTC (str0m), next to a session.
//! - [`parse_join_link`] turns a join link into the server and meeting to join.
//!
//! It never depends on a UI toolkit or on the server, so the desktop app, the CLI and the
//! end-to-end tests all drive the same code.

pub mod api;
mod backoff;
mod error;
mod event;
mod link;
pub mod media;
mod session;
mod view;

pub use error::EngineError;
pub use event::Event;
pub use link::{parse_join_link, resolve_join_target};
pub use session::{JoinOptions, Session, SessionHandle};
pub use view::{MeetingView, Status};
