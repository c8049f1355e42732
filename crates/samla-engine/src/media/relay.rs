//! TURN on the media socket: for networks where UDP reaches only the institution's TURN
//! server, not the SFU. The first usable `turn:` URL of the server's `[[ice_servers]]` gets
//! an allocation made from the media socket itself ([`samla_turn::TurnClient`]); its relay
//! address becomes a str0m relay candidate next to the host candidate, so ICE still prefers
//! the direct path when that works. str0m's datagrams from the relay candidate are wrapped
//! for the TURN server here, and what the server relays to us is unwrapped before str0m sees
//! it.
//!
//! UDP to the TURN server only: `turns:` (TLS) and `?transport=tcp` URLs are skipped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use samla_protocol::IceServer;
use samla_turn::{Event, Incoming, TurnClient, TurnConfig};
use tokio::net::UdpSocket;

/// A `turn:` server from `media_config`, not yet resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TurnServer {
    host: String,
    port: u16,
    username: String,
    credential: String,
}

/// The TURN servers among `ice_servers` we can use: `turn:host[:port][?transport=udp]` with
/// a username and credential. Others are logged and left to browsers.
pub(super) fn turn_servers(ice_servers: &[IceServer]) -> Vec<TurnServer> {
    let mut out = Vec::new();
    for server in ice_servers {
        for url in &server.urls {
            let Some(rest) = url.strip_prefix("turn:") else {
                if url.starts_with("turns:") {
                    tracing::debug!(%url, "TURN over TLS is not supported; skipped");
                }
                continue;
            };
            let (hostport, query) = rest.split_once('?').unwrap_or((rest, ""));
            if query
                .split('&')
                .any(|kv| kv.strip_prefix("transport=").is_some_and(|t| t != "udp"))
            {
                tracing::debug!(%url, "TURN over TCP is not supported; skipped");
                continue;
            }
            let (Some(username), Some(credential)) = (&server.username, &server.credential) else {
                tracing::warn!(%url, "TURN server without username and credential; skipped");
                continue;
            };
            let Some((host, port)) = split_host_port(hostport) else {
                tracing::warn!(%url, "unreadable TURN URL; skipped");
                continue;
            };
            out.push(TurnServer {
                host,
                port,
                username: username.clone(),
                credential: credential.clone(),
            });
        }
    }
    out
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`; the port defaults to 3478 (RFC 7065).
fn split_host_port(s: &str) -> Option<(String, u16)> {
    const DEFAULT_PORT: u16 = 3478;
    if let Some(v6) = s.strip_prefix('[') {
        let (host, rest) = v6.split_once(']')?;
        let port = match rest.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if rest.is_empty() => DEFAULT_PORT,
            None => return None,
        };
        return Some((host.to_owned(), port));
    }
    match s.split_once(':') {
        Some((host, port)) if !host.is_empty() => Some((host.to_owned(), port.parse().ok()?)),
        None if !s.is_empty() => Some((s.to_owned(), DEFAULT_PORT)),
        _ => None,
    }
}

/// One TURN allocation on the media socket.
pub(super) struct Relay {
    client: TurnClient,
    socket: Arc<UdpSocket>,
}

impl Relay {
    /// Starts allocating on the first server that resolves to an address of the socket's
    /// family; `None` when there is none.
    pub(super) async fn start(servers: &[TurnServer], socket: Arc<UdpSocket>) -> Option<Self> {
        let local = socket.local_addr().ok()?;
        for server in servers {
            let addrs = match tokio::net::lookup_host((server.host.as_str(), server.port)).await {
                Ok(addrs) => addrs,
                Err(err) => {
                    tracing::warn!(host = %server.host, %err, "cannot resolve the TURN server");
                    continue;
                }
            };
            let Some(addr) = addrs.into_iter().find(|a| a.is_ipv4() == local.is_ipv4()) else {
                continue;
            };
            tracing::debug!(%addr, "allocating on the TURN server");
            let config = TurnConfig {
                server: addr,
                username: server.username.clone(),
                password: server.credential.clone(),
            };
            let mut relay = Self {
                client: TurnClient::new(config, Instant::now()),
                socket,
            };
            relay.flush();
            return Some(relay);
        }
        None
    }

    /// Our relay address (the relay candidate's), once allocated.
    pub(super) fn address(&self) -> Option<SocketAddr> {
        self.client.relay()
    }

    /// Looks at a datagram from the media socket: TURN's own are handled here, relayed ones
    /// come back unwrapped, everything else is for str0m as it is.
    pub(super) fn on_datagram<'a>(&mut self, from: SocketAddr, data: &'a [u8]) -> Incoming<'a> {
        let incoming = self.client.handle_input(Instant::now(), from, data);
        self.flush();
        incoming
    }

    /// Sends str0m's datagram from the relay candidate to `destination` through the TURN
    /// server.
    pub(super) fn send(&mut self, destination: SocketAddr, contents: &[u8]) {
        if let Some(t) = self.client.wrap(Instant::now(), destination, contents) {
            // UDP: a full socket buffer is a lost packet, as on the wire.
            let _ = self.socket.try_send_to(&t.contents, t.destination);
        }
        self.flush();
    }

    /// Runs the client's timers and reports what happened; returns the relay address once,
    /// when the allocation is made, for the caller to add as a candidate.
    pub(super) fn poll(&mut self, now: Instant) -> Option<SocketAddr> {
        if self.client.poll_timeout().is_some_and(|t| t <= now) {
            self.client.handle_timeout(now);
        }
        self.flush();
        let mut allocated = None;
        while let Some(event) = self.client.poll_event() {
            match event {
                Event::Allocated { relay, mapped } => {
                    tracing::info!(%relay, ?mapped, server = %self.client.server(), "TURN relay allocated");
                    allocated = Some(relay);
                }
                Event::Failed(err) => {
                    tracing::warn!(server = %self.client.server(), %err, "TURN allocation failed; media goes direct only");
                }
                Event::PermissionFailed { peer, error } => {
                    tracing::warn!(server = %self.client.server(), %peer, %error, "the TURN server will not relay to the SFU");
                }
            }
        }
        allocated
    }

    /// When [`Relay::poll`] next has something to do.
    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        self.client.poll_timeout()
    }

    fn flush(&mut self) {
        while let Some(t) = self.client.poll_transmit() {
            let _ = self.socket.try_send_to(&t.contents, t.destination);
        }
    }
}

impl Drop for Relay {
    /// Gives the allocation back so the server frees its relay port now.
    fn drop(&mut self) {
        self.client.close(Instant::now());
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ice(urls: &[&str], creds: bool) -> IceServer {
        IceServer {
            urls: urls.iter().map(|u| u.to_string()).collect(),
            username: creds.then(|| "u".into()),
            credential: creds.then(|| "p".into()),
        }
    }

    #[test]
    fn only_udp_turn_urls_with_credentials_are_used() {
        let servers = turn_servers(&[
            ice(&["stun:stun.example:3478"], false),
            ice(&["turn:nocreds.example"], false),
            ice(
                &[
                    "turn:turn.example:3479?transport=udp",
                    "turn:turn.example:3478?transport=tcp",
                    "turns:turn.example:5349",
                    "turn:[2001:db8::1]",
                    "turn:turn.example",
                    "turn::1",
                ],
                true,
            ),
        ]);
        let got: Vec<(&str, u16)> = servers.iter().map(|s| (s.host.as_str(), s.port)).collect();
        assert_eq!(
            got,
            [
                ("turn.example", 3479),
                ("2001:db8::1", 3478),
                ("turn.example", 3478)
            ]
        );
        assert!(servers
            .iter()
            .all(|s| s.username == "u" && s.credential == "p"));
    }
}
