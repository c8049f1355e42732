//! The Samla meeting server: REST API, signalling over WebSocket, live meetings and storage.
//!
//! One binary that runs with nothing else installed (SQLite in a data folder), or on
//! PostgreSQL for larger sites. See `main.rs` for the command line; [`serve`] starts a server
//! in-process (the command line and the desktop app's embedded server both use it).

pub mod auth;
pub mod config;
pub mod http;
pub mod meeting;
pub mod metrics;
pub mod report;
pub mod serve;
pub mod sfu;
pub mod state;
pub mod store;

pub use serve::{serve, ServeError, Server};
