//! Join links (`{public_url}/j/{id}`) and the server URLs derived from them.
//!
//! The server may live under a path prefix (`https://example.org/samla/j/123456789`), so the
//! base is everything before the `j` segment, and every endpoint is resolved against it.

use samla_protocol::MeetingId;
use url::Url;

use crate::EngineError;

/// Splits a join link into the server's base URL (always ending in `/`) and the meeting id.
///
/// Query and fragment are ignored, so links with tracking parameters still work.
pub fn parse_join_link(link: &str) -> Result<(Url, MeetingId), EngineError> {
    let invalid = |reason: &str| EngineError::InvalidLink {
        input: link.to_owned(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(link.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the link must start with http:// or https://"));
    }
    let segments: Vec<&str> = url
        .path_segments()
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect();
    let [prefix @ .., "j", id] = segments.as_slice() else {
        return Err(invalid("expected a path ending in /j/<meeting id>"));
    };
    let id: MeetingId = id
        .parse()
        .map_err(|e: samla_protocol::MeetingIdError| invalid(&e.to_string()))?;
    let mut base = url.clone();
    base.set_query(None);
    base.set_fragment(None);
    base.set_path(&prefix.iter().map(|s| format!("{s}/")).collect::<String>());
    Ok((base, id))
}

/// Accepts what a person would paste: a join link, or a bare meeting id (`123 456 789`) together
/// with the server it lives on.
pub fn resolve_join_target(
    input: &str,
    server: Option<&Url>,
) -> Result<(Url, MeetingId), EngineError> {
    match (input.parse::<MeetingId>(), server) {
        (Ok(id), Some(server)) => Ok((server_base(server), id)),
        (Ok(_), None) => Err(EngineError::InvalidLink {
            input: input.to_owned(),
            reason: "a bare meeting id needs the server's address as well".to_owned(),
        }),
        (Err(_), _) => parse_join_link(input),
    }
}

/// The server base with a trailing `/`, so that relative endpoints resolve below any prefix
/// instead of replacing its last segment.
pub(crate) fn server_base(server: &Url) -> Url {
    let mut base = server.clone();
    if !base.path().ends_with('/') {
        base.set_path(&format!("{}/", base.path()));
    }
    base.set_query(None);
    base.set_fragment(None);
    base
}

/// The signalling WebSocket of a server: `http` becomes `ws`, `https` becomes `wss`, then `/ws`.
pub(crate) fn signalling_url(server: &Url) -> Result<Url, EngineError> {
    let mut url = server_base(server)
        .join("ws")
        .expect("`ws` is a valid relative URL");
    let scheme = match url.scheme() {
        "http" | "ws" => "ws",
        "https" | "wss" => "wss",
        other => {
            return Err(EngineError::InvalidLink {
                input: server.to_string(),
                reason: format!("unsupported scheme {other:?}; use http:// or https://"),
            })
        }
    };
    url.set_scheme(scheme)
        .expect("http(s) and ws(s) are interchangeable special schemes");
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_plain_join_link() {
        let (base, id) = parse_join_link("http://host:7700/j/1234567890").unwrap();
        assert_eq!(base.as_str(), "http://host:7700/");
        assert_eq!(id.as_str(), "1234567890");
    }

    #[test]
    fn keeps_a_path_prefix_and_drops_query_and_trailing_slash() {
        let (base, id) =
            parse_join_link("https://example.org/samla/j/123456789/?utm=mail#x").unwrap();
        assert_eq!(base.as_str(), "https://example.org/samla/");
        assert_eq!(id.as_str(), "123456789");
    }

    #[test]
    fn rejects_what_is_not_a_join_link() {
        for bad in [
            "host:7700/j/1234567890",
            "ftp://host/j/1234567890",
            "http://host/x/1234567890",
            "http://host/j/12",
            "http://host/j/1234567890/extra",
            "not a link",
        ] {
            assert!(
                matches!(parse_join_link(bad), Err(EngineError::InvalidLink { .. })),
                "{bad} was accepted"
            );
        }
    }

    #[test]
    fn a_bare_id_needs_a_server() {
        let server = Url::parse("http://localhost:7700").unwrap();
        let (base, id) = resolve_join_target("123 456 789", Some(&server)).unwrap();
        assert_eq!(base.as_str(), "http://localhost:7700/");
        assert_eq!(id.as_str(), "123456789");
        assert!(resolve_join_target("123456789", None).is_err());
        // A link wins over --server: it names its own server.
        let (base, _) =
            resolve_join_target("https://meet.example/j/123456789", Some(&server)).unwrap();
        assert_eq!(base.as_str(), "https://meet.example/");
    }

    #[test]
    fn derives_the_signalling_url() {
        let ws = |s: &str| signalling_url(&Url::parse(s).unwrap()).unwrap().to_string();
        assert_eq!(ws("http://host:7700"), "ws://host:7700/ws");
        assert_eq!(
            ws("https://example.org/samla"),
            "wss://example.org/samla/ws"
        );
        assert_eq!(
            ws("https://example.org/samla/"),
            "wss://example.org/samla/ws"
        );
        assert!(signalling_url(&Url::parse("ftp://x").unwrap()).is_err());
    }
}
