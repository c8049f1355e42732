//! The HTTP side of the server: the REST API, the signalling WebSocket, the web UI (home and
//! join links) and the operator endpoints, assembled into one [`router`].

pub mod api;
pub mod error;
pub mod health;
pub mod join;
pub mod openapi;
pub(crate) mod validate;
pub mod ws;

use std::time::Duration;

use axum::http::{header, Method};
use axum::routing::get;
use axum::Router;
use tower_http::cors::{Any, CorsLayer};

use crate::state::AppState;

/// Every route the server answers.
pub fn router(state: AppState) -> Router {
    let (api, _document) = openapi::split();
    Router::new()
        .merge(api.layer(api_cors()))
        .route("/ws", get(ws::upgrade))
        .route("/", get(join::home))
        .route("/j/{id}", get(join::page))
        .route("/assets/{*file}", get(join::asset))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .with_state(state)
}

/// Lets pages of any origin call the REST API, the desktop app's among them (its page comes
/// from the app, not from the server). Safe because the API's only credential is a bearer
/// token that a page must hold and send itself: a browser never attaches it on its own, so a
/// foreign page gains nothing it did not already have. The web UI and the signalling socket
/// get no such headers.
fn api_cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(600))
}
