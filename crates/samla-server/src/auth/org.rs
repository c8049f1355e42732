//! Which organisation a request is for. One server hosts several organisations, each under
//! its own host name (`uio.samla.example`); any other name gets the default organisation,
//! so a single-organisation server works under whatever name it is reached by.

use axum::extract::FromRequestParts;
use axum::http::header::HOST;
use axum::http::request::Parts;

use crate::http::error::ApiFailure;
use crate::state::AppState;
use crate::store::Organisation;

/// Extracts the request's organisation from its `Host` header (or, over HTTP/2, the URI's
/// authority).
#[derive(Debug, Clone)]
pub struct Org(pub Organisation);

impl FromRequestParts<AppState> for Org {
    type Rejection = ApiFailure;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let authority = parts
            .headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| parts.uri.authority().map(|a| a.as_str()));
        if let Some(host) = authority.map(strip_port).filter(|h| !h.is_empty()) {
            if let Some(org) = state.store.organisation_by_host(host).await? {
                return Ok(Org(org));
            }
        }
        Ok(Org(state.store.default_organisation().await?))
    }
}

/// `example.org:7700` → `example.org`, `[::1]:7700` → `[::1]` (the form `url` gives hosts in).
fn strip_port(authority: &str) -> &str {
    if authority.starts_with('[') {
        authority
            .find(']')
            .map_or(authority, |end| &authority[..=end])
    } else {
        authority.split(':').next().unwrap_or(authority)
    }
}

#[cfg(test)]
mod tests {
    use super::strip_port;

    #[test]
    fn ports_are_stripped() {
        assert_eq!(strip_port("uio.samla.example"), "uio.samla.example");
        assert_eq!(strip_port("uio.samla.example:7700"), "uio.samla.example");
        assert_eq!(strip_port("[::1]:7700"), "[::1]");
        assert_eq!(strip_port("[::1]"), "[::1]");
    }
}
