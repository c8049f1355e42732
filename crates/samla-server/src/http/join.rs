//! The web UI (`ui/`, built into the binary by `build.rs` from `ui/dist`): `GET /` (home: join
//! by link or id, host a meeting), `GET /j/{id}` (where join links point) and its hashed
//! scripts and style sheets under `GET /assets/{file}`.
//!
//! A server built without `ui/dist` answers `/` and `/j/{id}` with a short page that says how
//! to build the UI (and how to join from a terminal meanwhile).

use axum::extract::Path;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use samla_protocol::MeetingId;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));
}

/// The meeting id placeholder in the UI's `index.html` (`<meta name="samla-meeting">`).
const MEETING_PLACEHOLDER: &str = "{{MEETING_ID}}";

/// Only our own scripts, style sheets and the signalling socket; nothing inline, no frames.
/// (`connect-src 'self'` covers `ws:`/`wss:` to the same host.)
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                   connect-src 'self'; img-src 'self' data:; media-src 'self' blob:; \
                   base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Pages change with every build: revalidate each time.
const NO_CACHE: &str = "no-cache";
/// Asset names carry a hash of their content, so they never change under the same name.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Whether this binary was built with the web UI (`ui/dist` was there at build time).
pub fn ui_built() -> bool {
    embedded::UI_INDEX.is_some()
}

fn security_headers(cache: &'static str) -> [(HeaderName, HeaderValue); 5] {
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
        (
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(
                "camera=(self), microphone=(self), display-capture=(self), geolocation=()",
            ),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
    ]
}

/// The UI's page for a meeting (`Some`) or the home screen (`None`).
fn index(meeting: Option<&MeetingId>) -> Response {
    let Some(html) = embedded::UI_INDEX else {
        return not_built(meeting);
    };
    // A parsed id is digits only, so it is safe to put into HTML as it is.
    let html = html.replace(MEETING_PLACEHOLDER, meeting.map_or("", |id| id.as_str()));
    (security_headers(NO_CACHE), Html(html)).into_response()
}

/// What a server built without the UI answers: why, and how to join meanwhile.
fn not_built(meeting: Option<&MeetingId>) -> Response {
    let (meta, cli) = match meeting {
        Some(id) => (
            format!(
                "<meta name=\"samla-meeting\" content=\"{}\"><p>Meeting <strong>{id}</strong>.</p>",
                id.as_str()
            ),
            format!("samla-cli join {} --name …", id.as_str()),
        ),
        None => (
            String::new(),
            "samla-cli join MEETING-ID --name …".to_owned(),
        ),
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Samla</title>{meta}\
         <h1>Samla</h1>\
         <p>This server was built without its web UI, so meetings cannot be joined from a \
         browser here yet. Whoever runs it builds the UI before the server: \
         <code>cd ui &amp;&amp; npm ci &amp;&amp; npm run build</code>, then \
         <code>cargo build --release</code>.</p>\
         <p>Meanwhile you can join from a terminal: <code>{cli}</code></p></html>"
    );
    (
        StatusCode::SERVICE_UNAVAILABLE,
        security_headers(NO_CACHE),
        Html(html),
    )
        .into_response()
}

/// `GET /`: the home screen (join by link or id, host a meeting).
pub async fn home() -> Response {
    index(None)
}

/// `GET /j/{id}`. The page does not look the meeting up: whether an id exists is only
/// revealed to those who may join it (over the WebSocket).
pub async fn page(Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<MeetingId>() else {
        return (
            StatusCode::NOT_FOUND,
            security_headers(NO_CACHE),
            Html("<!doctype html><title>Samla</title><p>That is not a meeting id.</p>"),
        )
            .into_response();
    };
    index(Some(&id))
}

/// `GET /assets/{*file}`: the UI's hashed scripts, style sheets and source maps.
pub async fn asset(Path(file): Path<String>) -> Response {
    let Some((_, body, content_type)) = embedded::UI_ASSETS
        .iter()
        .find(|(name, _, _)| *name == file)
    else {
        return (StatusCode::NOT_FOUND, security_headers(NO_CACHE)).into_response();
    };
    (
        security_headers(IMMUTABLE),
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        *body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_ui_is_complete_and_has_nothing_inline() {
        let Some(html) = embedded::UI_INDEX else {
            // Built without ui/dist: the fallback page is all there is.
            assert!(embedded::UI_ASSETS.is_empty());
            return;
        };
        assert!(html.contains(MEETING_PLACEHOLDER), "{html}");
        // Every script and style sheet the page loads is embedded, under an absolute URL.
        let refs: Vec<&str> = html
            .split("\"/assets/")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap())
            .collect();
        assert!(
            refs.iter().any(|r| r.ends_with(".js")) && refs.iter().any(|r| r.ends_with(".css")),
            "{html}"
        );
        for r in &refs {
            assert!(
                embedded::UI_ASSETS.iter().any(|(name, _, _)| name == r),
                "{r} is not embedded"
            );
        }
        assert!(!html.contains("\"./assets/"), "{html}");
        // No inline script or style: the CSP forbids them.
        assert!(
            !html.contains("<script>") && !html.contains("style="),
            "{html}"
        );
    }

    async fn body(r: Response) -> Vec<u8> {
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 24).await.unwrap();
        bytes.to_vec()
    }

    #[tokio::test]
    async fn pages_are_revalidated_and_hashed_assets_kept() {
        let expected = if ui_built() {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        let r = page(Path("123 456 789".to_owned())).await;
        assert_eq!(r.status(), expected);
        assert_eq!(r.headers()[header::CACHE_CONTROL], NO_CACHE);
        assert_eq!(r.headers()[header::CONTENT_SECURITY_POLICY], CSP);
        assert_eq!(r.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let html = String::from_utf8(body(r).await).unwrap();
        assert!(
            html.contains(r#"<meta name="samla-meeting" content="123456789""#),
            "{html}"
        );

        // The home page is the same UI, for no meeting.
        let r = home().await;
        assert_eq!(r.status(), expected);
        let html = String::from_utf8(body(r).await).unwrap();
        assert!(!html.contains(MEETING_PLACEHOLDER), "{html}");

        assert_eq!(
            page(Path("12ab".to_owned())).await.status(),
            StatusCode::NOT_FOUND
        );
        let r = asset(Path("index-nothere.js".to_owned())).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(r.headers()[header::CACHE_CONTROL], NO_CACHE);

        for (name, bytes, content_type) in embedded::UI_ASSETS {
            let r = asset(Path((*name).to_owned())).await;
            assert_eq!(r.status(), StatusCode::OK, "{name}");
            assert_eq!(r.headers()[header::CACHE_CONTROL], IMMUTABLE, "{name}");
            assert_eq!(r.headers()[header::CONTENT_TYPE], *content_type, "{name}");
            assert_eq!(body(r).await, *bytes, "{name}");
        }
    }
}
