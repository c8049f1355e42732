//! The HTTP side of the server: the REST API, the signalling WebSocket, the web UI (home and
//! join links) and the operator endpoints, assembled into one [`router`].

pub mod api;
pub mod error;
pub mod health;
pub mod join;
pub mod openapi;
mod validate;
pub mod ws;

use axum::routing::get;
use axum::Router;

use crate::state::AppState;

/// Every route the server answers.
pub fn router(state: AppState) -> Router {
    let (api, _document) = openapi::split();
    Router::new()
        .merge(api)
        .route("/ws", get(ws::upgrade))
        .route("/", get(join::home))
        .route("/j/{id}", get(join::page))
        .route("/assets/{*file}", get(join::asset))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .with_state(state)
}
