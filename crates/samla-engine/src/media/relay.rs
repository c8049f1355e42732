//! TURN for networks where UDP reaches only the institution's TURN server, or nothing at
//! all. From the server's `[[ice_servers]]` the first usable UDP `turn:` URL gets an
//! allocation made from the media socket itself, and the first `?transport=tcp` one an
//! allocation over a TCP connection of its own ([`samla_turn::TurnClient`] either way;
//! [`samla_turn::stream`] frames the TCP stream). Each relay address becomes a str0m relay
//! candidate next to the host candidate, so ICE still prefers the direct path when that
//! works, then UDP through TURN, then TCP. str0m's datagrams from a relay candidate are
//! wrapped for the TURN server here, and what the server relays to us is unwrapped before
//! str0m sees it.
//!
//! TLS to the TURN server (`turns:`) is not supported; such URLs are skipped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use samla_protocol::IceServer;
use samla_turn::stream::{self, StreamFramer};
use samla_turn::{Event, Incoming, TurnClient, TurnConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;

/// How long connecting to a TURN server over TCP may take before it is given up.
const TCP_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How a TURN server is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Transport {
    Udp,
    Tcp,
}

/// A `turn:` server from `media_config`, not yet resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TurnServer {
    host: String,
    port: u16,
    transport: Transport,
    username: String,
    credential: String,
}

/// The TURN servers among `ice_servers` we can use: `turn:host[:port]` with a username and
/// credential, over UDP (the default, or `?transport=udp`) or TCP (`?transport=tcp`). Others
/// are logged and left to browsers.
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
            let transport = match query
                .split('&')
                .find_map(|kv| kv.strip_prefix("transport="))
            {
                None | Some("udp") => Transport::Udp,
                Some("tcp") => Transport::Tcp,
                Some(other) => {
                    tracing::debug!(%url, transport = other, "unknown TURN transport; skipped");
                    continue;
                }
            };
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
                transport,
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

/// A message the TURN server sent over a TCP relay's connection, for the peer's loop to
/// hand to [`Relay::on_message`] of the relay reached at `server`.
pub(super) struct RelayFrame {
    pub server: SocketAddr,
    pub message: Vec<u8>,
}

/// One TURN allocation.
pub(super) struct Relay {
    client: TurnClient,
    link: Link,
}

/// How a relay's messages reach its TURN server.
enum Link {
    /// As datagrams on the media socket.
    Udp(Arc<UdpSocket>),
    /// Over a TCP connection of its own, which a task connects and writes (in order, from
    /// `out`) and whose reads come back to the peer's loop as [`RelayFrame`]s. Dropping
    /// `out` closes it, after what was queued has been written.
    Tcp { out: mpsc::UnboundedSender<Vec<u8>> },
}

impl Relay {
    /// Starts allocating: on the first UDP server that resolves to an address of the media
    /// socket's family, and on the first TCP one. Messages read from a TCP connection come
    /// back through `frames`.
    pub(super) async fn start(
        servers: &[TurnServer],
        socket: Arc<UdpSocket>,
        frames: &mpsc::UnboundedSender<RelayFrame>,
    ) -> Vec<Self> {
        let Ok(local) = socket.local_addr() else {
            return Vec::new();
        };
        let mut relays = Vec::new();
        for transport in [Transport::Udp, Transport::Tcp] {
            for server in servers.iter().filter(|s| s.transport == transport) {
                let Some(addr) = resolve(server, local).await else {
                    continue;
                };
                tracing::debug!(%addr, ?transport, "allocating on the TURN server");
                let config = TurnConfig {
                    server: addr,
                    username: server.username.clone(),
                    password: server.credential.clone(),
                };
                let link = match transport {
                    Transport::Udp => Link::Udp(socket.clone()),
                    Transport::Tcp => Link::tcp(addr, frames.clone()),
                };
                let mut relay = Self {
                    client: TurnClient::new(config, Instant::now()),
                    link,
                };
                relay.flush();
                relays.push(relay);
                break;
            }
        }
        relays
    }

    /// Our relay address (the relay candidate's), once allocated.
    pub(super) fn address(&self) -> Option<SocketAddr> {
        self.client.relay()
    }

    /// Whether this relay talks to its server over TCP, reached at `server`.
    pub(super) fn is_tcp_to(&self, server: SocketAddr) -> bool {
        matches!(self.link, Link::Tcp { .. }) && self.client.server() == server
    }

    /// Whether this relay talks to its server in datagrams on the media socket.
    pub(super) fn is_udp(&self) -> bool {
        matches!(self.link, Link::Udp(_))
    }

    /// Looks at a message from `from` (a datagram on the media socket, or a message from a
    /// TCP relay's connection): TURN's own are handled here, relayed ones come back
    /// unwrapped, everything else is for str0m as it is.
    pub(super) fn on_message<'a>(&mut self, from: SocketAddr, data: &'a [u8]) -> Incoming<'a> {
        let incoming = self.client.handle_input(Instant::now(), from, data);
        self.flush();
        incoming
    }

    /// Sends str0m's datagram from the relay candidate to `destination` through the TURN
    /// server.
    pub(super) fn send(&mut self, destination: SocketAddr, contents: &[u8]) {
        if let Some(t) = self.client.wrap(Instant::now(), destination, contents) {
            self.link.send(t.destination, t.contents);
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
            let server = self.client.server();
            let over = if self.is_udp() { "UDP" } else { "TCP" };
            match event {
                Event::Allocated { relay, mapped } => {
                    tracing::info!(%relay, ?mapped, %server, "TURN relay allocated over {over}");
                    allocated = Some(relay);
                }
                Event::Failed(err) => {
                    tracing::warn!(%server, %err, "TURN allocation over {over} failed; media goes without this relay");
                }
                Event::PermissionFailed { peer, error } => {
                    tracing::warn!(%server, %peer, %error, "the TURN server will not relay to the SFU");
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
            self.link.send(t.destination, t.contents);
        }
    }
}

impl Drop for Relay {
    /// Gives the allocation back so the server frees its relay port now (over TCP the
    /// connection closes once that has been written).
    fn drop(&mut self) {
        self.client.close(Instant::now());
        self.flush();
    }
}

impl Link {
    /// Connects to `server` in the background; until it is connected what is sent waits,
    /// and if it cannot connect the TURN client's requests go unanswered and it reports the
    /// allocation failed.
    fn tcp(server: SocketAddr, frames: mpsc::UnboundedSender<RelayFrame>) -> Self {
        let (out, mut queued) = mpsc::unbounded_channel::<Vec<u8>>();
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(TCP_CONNECT_TIMEOUT, TcpStream::connect(server))
                .await
            {
                Ok(Ok(stream)) => stream,
                Ok(Err(err)) => {
                    tracing::warn!(%server, %err, "cannot connect to the TURN server over TCP");
                    return;
                }
                Err(_) => {
                    tracing::warn!(%server, "no TCP connection to the TURN server within {TCP_CONNECT_TIMEOUT:?}");
                    return;
                }
            };
            // Media: each message goes out as soon as it is written.
            let _ = stream.set_nodelay(true);
            let (mut reader, mut writer) = stream.into_split();
            let read = async move {
                let mut framer = StreamFramer::new();
                let mut buf = vec![0u8; 16 * 1024];
                loop {
                    match reader.read(&mut buf).await {
                        Ok(0) => {
                            tracing::warn!(%server, "the TURN server closed the TCP connection");
                            return;
                        }
                        Ok(n) => framer.push(&buf[..n]),
                        Err(err) => {
                            tracing::warn!(%server, %err, "TCP connection to the TURN server failed");
                            return;
                        }
                    }
                    loop {
                        match framer.next_message() {
                            Ok(Some(message)) => {
                                if frames.send(RelayFrame { server, message }).is_err() {
                                    return; // the media session is gone
                                }
                            }
                            Ok(None) => break,
                            Err(err) => {
                                tracing::warn!(%server, %err, "closing the TURN connection");
                                return;
                            }
                        }
                    }
                }
            };
            let write = async move {
                while let Some(bytes) = queued.recv().await {
                    if writer.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
            };
            // Either side ending ends the link: the TURN client then times out and says so.
            tokio::select! {
                () = read => {}
                () = write => {}
            }
        });
        Link::Tcp { out }
    }

    fn send(&self, destination: SocketAddr, contents: Vec<u8>) {
        match self {
            // UDP: a full socket buffer is a lost packet, as on the wire.
            Link::Udp(socket) => {
                let _ = socket.try_send_to(&contents, destination);
            }
            // The connection has one destination, the server.
            Link::Tcp { out, .. } => {
                let _ = out.send(stream::for_stream(contents));
            }
        }
    }
}

/// `server`'s address of `local`'s family, if it resolves to one.
async fn resolve(server: &TurnServer, local: SocketAddr) -> Option<SocketAddr> {
    match tokio::net::lookup_host((server.host.as_str(), server.port)).await {
        Ok(mut addrs) => addrs.find(|a| a.is_ipv4() == local.is_ipv4()),
        Err(err) => {
            tracing::warn!(host = %server.host, %err, "cannot resolve the TURN server");
            None
        }
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
    fn turn_urls_over_udp_and_tcp_with_credentials_are_used() {
        let servers = turn_servers(&[
            ice(&["stun:stun.example:3478"], false),
            ice(&["turn:nocreds.example"], false),
            ice(
                &[
                    "turn:turn.example:3479?transport=udp",
                    "turn:turn.example:3478?transport=tcp",
                    "turns:turn.example:5349",
                    "turn:turn.example:3478?transport=sctp",
                    "turn:[2001:db8::1]",
                    "turn:turn.example",
                    "turn::1",
                ],
                true,
            ),
        ]);
        let got: Vec<(&str, u16, Transport)> = servers
            .iter()
            .map(|s| (s.host.as_str(), s.port, s.transport))
            .collect();
        assert_eq!(
            got,
            [
                ("turn.example", 3479, Transport::Udp),
                ("turn.example", 3478, Transport::Tcp),
                ("2001:db8::1", 3478, Transport::Udp),
                ("turn.example", 3478, Transport::Udp)
            ]
        );
        assert!(servers
            .iter()
            .all(|s| s.username == "u" && s.credential == "p"));
    }
}
