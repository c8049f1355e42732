//! `GET /j/{id}`, where join links point. For now a small page that tells how to join with
//! samla-cli; the real join page replaces it.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use samla_protocol::MeetingId;

/// The page does not look the meeting up: whether an id exists is only revealed to those
/// who may join it.
pub async fn page(Path(id): Path<String>) -> Response {
    // A parsed id is digits only, so it is safe to put into HTML as it is.
    let Ok(id) = id.parse::<MeetingId>() else {
        return (
            StatusCode::NOT_FOUND,
            Html("<!doctype html><title>Samla</title><p>That is not a meeting id.</p>"),
        )
            .into_response();
    };
    let digits = id.as_str();
    Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Samla meeting {id}</title></head>\n\
         <body><h1>Samla meeting {id}</h1>\n\
         <p>To join, run:</p>\n<pre>samla-cli join {digits}</pre>\n</body></html>\n"
    ))
    .into_response()
}
