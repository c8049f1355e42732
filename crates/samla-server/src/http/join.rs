//! `GET /j/{id}`, where join links point: the browser join page, and the script and style
//! sheet it loads from `/assets/join/{file}`. All three are built into the binary from
//! `assets/join/`.

use axum::extract::Path;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use samla_protocol::MeetingId;

const INDEX_HTML: &str = include_str!("../../assets/join/index.html");
const JOIN_JS: &str = include_str!("../../assets/join/join.js");
const JOIN_CSS: &str = include_str!("../../assets/join/join.css");

/// Only our own script, style and the signalling socket; nothing inline, no frames.
/// (`connect-src 'self'` covers `ws:`/`wss:` to the same host.)
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                   connect-src 'self'; img-src 'self' data:; media-src 'self' blob:; \
                   base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn security_headers() -> [(HeaderName, HeaderValue); 4] {
    [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ]
}

/// The page does not look the meeting up: whether an id exists is only revealed to those
/// who may join it (over the WebSocket).
pub async fn page(Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<MeetingId>() else {
        return (
            StatusCode::NOT_FOUND,
            security_headers(),
            Html("<!doctype html><title>Samla</title><p>That is not a meeting id.</p>"),
        )
            .into_response();
    };
    // A parsed id is digits (and, displayed, spaces) only, so it is safe to put into HTML
    // as it is.
    let html = INDEX_HTML
        .replace("{{MEETING_ID}}", id.as_str())
        .replace("{{MEETING_ID_DISPLAY}}", &id.to_string());
    (security_headers(), Html(html)).into_response()
}

/// `GET /assets/join/{file}`: the page's script and style sheet.
pub async fn asset(Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "join.js" => (JOIN_JS, "text/javascript; charset=utf-8"),
        "join.css" => (JOIN_CSS, "text/css; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        security_headers(),
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_has_its_placeholders_and_assets() {
        assert!(INDEX_HTML.contains("{{MEETING_ID}}"));
        assert!(INDEX_HTML.contains("{{MEETING_ID_DISPLAY}}"));
        assert!(INDEX_HTML.contains("/assets/join/join.js"));
        assert!(INDEX_HTML.contains("/assets/join/join.css"));
        // No inline script or style: the CSP forbids them.
        assert!(!INDEX_HTML.contains("<script>"));
        assert!(!INDEX_HTML.contains("style="));
    }
}
