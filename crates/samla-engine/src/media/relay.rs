//! TURN for networks where UDP reaches only the institution's TURN server, or nothing at
//! all. From the server's `[[ice_servers]]` the first usable UDP `turn:` URL gets an
//! allocation made from the media socket itself, the first `?transport=tcp` one an
//! allocation over a TCP connection of its own, and the first `turns:` one over TLS (often
//! on port 443, the one way out of the strictest networks). [`samla_turn::TurnClient`] does
//! the TURN either way; [`samla_turn::stream`] frames the TCP and TLS streams. Each relay
//! address becomes a str0m relay candidate next to the host candidate, so ICE still prefers
//! the direct path when that works. str0m's datagrams from a relay candidate are wrapped for
//! the TURN server here, and what the server relays to us is unwrapped before str0m sees it.
//!
//! A `turns:` server's certificate is checked against the Mozilla roots (`webpki-roots`)
//! and any certificates in the PEM file `SSL_CERT_FILE` names, for an institution's own CA.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use samla_protocol::IceServer;
use samla_turn::stream::{self, StreamFramer};
use samla_turn::{Event, Incoming, TurnClient, TurnConfig};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio_rustls::rustls;

/// How long connecting to a TURN server over TCP (and TLS) may take before it is given up.
const TCP_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How a TURN server is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Transport {
    Udp,
    Tcp,
    Tls,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }
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

/// The TURN servers among `ice_servers` we can use, with a username and credential:
/// `turn:host[:port]` over UDP (the default, or `?transport=udp`) or TCP (`?transport=tcp`),
/// and `turns:host[:port]` over TLS. Others are logged and left to browsers.
pub(super) fn turn_servers(ice_servers: &[IceServer]) -> Vec<TurnServer> {
    let mut out = Vec::new();
    for server in ice_servers {
        for url in &server.urls {
            let (tls, rest) = if let Some(rest) = url.strip_prefix("turn:") {
                (false, rest)
            } else if let Some(rest) = url.strip_prefix("turns:") {
                (true, rest)
            } else {
                continue;
            };
            let (hostport, query) = rest.split_once('?').unwrap_or((rest, ""));
            let transport = match (
                tls,
                query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("transport=")),
            ) {
                (false, None | Some("udp")) => Transport::Udp,
                (false, Some("tcp")) => Transport::Tcp,
                (true, None | Some("tcp")) => Transport::Tls,
                (_, Some(other)) => {
                    tracing::debug!(%url, transport = other, "unknown TURN transport; skipped");
                    continue;
                }
            };
            let (Some(username), Some(credential)) = (&server.username, &server.credential) else {
                tracing::warn!(%url, "TURN server without username and credential; skipped");
                continue;
            };
            let default_port = if tls { TLS_PORT } else { PORT };
            let Some((host, port)) = split_host_port(hostport, default_port) else {
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

/// The default ports of `turn:` and `turns:` URLs (RFC 7065).
const PORT: u16 = 3478;
const TLS_PORT: u16 = 5349;

/// `host`, `host:port`, `[v6]` or `[v6]:port`; the port defaults to `default_port`.
fn split_host_port(s: &str, default_port: u16) -> Option<(String, u16)> {
    if let Some(v6) = s.strip_prefix('[') {
        let (host, rest) = v6.split_once(']')?;
        let port = match rest.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if rest.is_empty() => default_port,
            None => return None,
        };
        return Some((host.to_owned(), port));
    }
    match s.split_once(':') {
        Some((host, port)) if !host.is_empty() => Some((host.to_owned(), port.parse().ok()?)),
        None if !s.is_empty() => Some((s.to_owned(), default_port)),
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
    transport: Transport,
    /// Where and who we are, to allocate again over a new connection (see
    /// [`Relay::reconnect`]).
    server: TurnServer,
    frames: mpsc::UnboundedSender<RelayFrame>,
}

/// How a relay's messages reach its TURN server.
enum Link {
    /// As datagrams on the media socket.
    Udp(Arc<UdpSocket>),
    /// Over a TCP (or TLS) connection of its own, which a task connects and writes (in
    /// order, from `out`) and whose reads come back to the peer's loop as [`RelayFrame`]s.
    /// Dropping `out` closes it, after what was queued has been written.
    Stream { out: mpsc::UnboundedSender<Vec<u8>> },
}

impl Relay {
    /// Starts allocating: on the first UDP server that resolves to an address of the media
    /// socket's family, on the first TCP one and on the first TLS one. Messages read from a
    /// TCP or TLS connection come back through `frames`.
    pub(super) async fn start(
        servers: &[TurnServer],
        socket: Arc<UdpSocket>,
        frames: &mpsc::UnboundedSender<RelayFrame>,
    ) -> Vec<Self> {
        let Ok(local) = socket.local_addr() else {
            return Vec::new();
        };
        let mut relays = Vec::new();
        for transport in [Transport::Udp, Transport::Tcp, Transport::Tls] {
            for server in servers.iter().filter(|s| s.transport == transport) {
                if let Some(relay) = Self::allocate(server, local, &socket, frames).await {
                    relays.push(relay);
                    break;
                }
            }
        }
        relays
    }

    /// Starts allocating on `server`, if it resolves to an address of `local`'s family (and,
    /// for TLS, its host is a name a certificate can carry).
    async fn allocate(
        server: &TurnServer,
        local: SocketAddr,
        socket: &Arc<UdpSocket>,
        frames: &mpsc::UnboundedSender<RelayFrame>,
    ) -> Option<Self> {
        let addr = resolve(server, local).await?;
        let link = match server.transport {
            Transport::Udp => Link::Udp(socket.clone()),
            Transport::Tcp | Transport::Tls => Link::to_server(server, addr, frames)?,
        };
        Some(Self::new(server, addr, link, frames))
    }

    /// A relay on `server`, reached at `addr` over `link`, with its first request sent.
    fn new(
        server: &TurnServer,
        addr: SocketAddr,
        link: Link,
        frames: &mpsc::UnboundedSender<RelayFrame>,
    ) -> Self {
        tracing::debug!(%addr, transport = ?server.transport, "allocating on the TURN server");
        let config = TurnConfig {
            server: addr,
            username: server.username.clone(),
            password: server.credential.clone(),
        };
        let mut relay = Self {
            client: TurnClient::new(config, Instant::now()),
            link,
            transport: server.transport,
            server: server.clone(),
            frames: frames.clone(),
        };
        relay.flush();
        relay
    }

    /// Whether this relay's TCP or TLS connection has ended (the server went away, or the
    /// network dropped it): its allocation is of no use any more.
    pub(super) fn is_cut_off(&self) -> bool {
        matches!(&self.link, Link::Stream { out } if out.is_closed())
    }

    /// A relay like this TCP or TLS one over a new connection, allocating afresh; `None`
    /// for a UDP relay.
    pub(super) fn reconnect(&self) -> Option<Self> {
        let Link::Stream { .. } = self.link else {
            return None;
        };
        let addr = self.client.server();
        tracing::info!(server = %addr, "the TURN connection was cut off; connecting again");
        let link = Link::to_server(&self.server, addr, &self.frames)?;
        Some(Self::new(&self.server, addr, link, &self.frames))
    }

    /// Our relay address (the relay candidate's), once allocated.
    pub(super) fn address(&self) -> Option<SocketAddr> {
        self.client.relay()
    }

    /// Whether this relay talks to its server over a TCP or TLS connection, reached at
    /// `server`.
    pub(super) fn is_stream_to(&self, server: SocketAddr) -> bool {
        matches!(self.link, Link::Stream { .. }) && self.client.server() == server
    }

    /// Whether this relay talks to its server in datagrams on the media socket.
    pub(super) fn is_udp(&self) -> bool {
        self.transport == Transport::Udp
    }

    /// Looks at a message from `from` (a datagram on the media socket, or a message from a
    /// TCP or TLS relay's connection): TURN's own are handled here, relayed ones come back
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
            let over = self.transport.name();
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
    /// Gives the allocation back so the server frees its relay port now (over TCP and TLS
    /// the connection closes once that has been written).
    fn drop(&mut self) {
        self.client.close(Instant::now());
        self.flush();
    }
}

impl Link {
    /// A TCP or TLS connection to `server` at `addr` (see [`Link::stream`]); `None` for UDP,
    /// or for a TLS server whose host no certificate can name.
    fn to_server(
        server: &TurnServer,
        addr: SocketAddr,
        frames: &mpsc::UnboundedSender<RelayFrame>,
    ) -> Option<Self> {
        let tls = match server.transport {
            Transport::Udp => return None,
            Transport::Tcp => None,
            Transport::Tls => Some(tls_name(&server.host)?),
        };
        Some(Link::stream(addr, tls, frames.clone()))
    }

    /// Connects to `server` in the background, over TLS when it has a `tls` name to check
    /// its certificate against; until it is connected what is sent waits, and if it cannot
    /// connect the TURN client's requests go unanswered and it reports the allocation
    /// failed.
    fn stream(
        server: SocketAddr,
        tls: Option<ServerName<'static>>,
        frames: mpsc::UnboundedSender<RelayFrame>,
    ) -> Self {
        let (out, queued) = mpsc::unbounded_channel::<Vec<u8>>();
        tokio::spawn(async move {
            let connect = async {
                let tcp = TcpStream::connect(server).await?;
                // Media: each message goes out as soon as it is written.
                tcp.set_nodelay(true)?;
                Ok::<_, std::io::Error>(tcp)
            };
            let tcp = match tokio::time::timeout(TCP_CONNECT_TIMEOUT, connect).await {
                Ok(Ok(tcp)) => tcp,
                Ok(Err(err)) => {
                    tracing::warn!(%server, %err, "cannot connect to the TURN server over TCP");
                    return;
                }
                Err(_) => {
                    tracing::warn!(%server, "no TCP connection to the TURN server within {TCP_CONNECT_TIMEOUT:?}");
                    return;
                }
            };
            let Some(name) = tls else {
                return pump(tcp, server, queued, frames).await;
            };
            let Some(config) = tls_config() else {
                return;
            };
            let connector = tokio_rustls::TlsConnector::from(config);
            match tokio::time::timeout(TCP_CONNECT_TIMEOUT, connector.connect(name, tcp)).await {
                Ok(Ok(stream)) => pump(stream, server, queued, frames).await,
                Ok(Err(err)) => {
                    tracing::warn!(%server, %err, "TLS with the TURN server failed");
                }
                Err(_) => {
                    tracing::warn!(%server, "no TLS handshake with the TURN server within {TCP_CONNECT_TIMEOUT:?}");
                }
            }
        });
        Link::Stream { out }
    }

    fn send(&self, destination: SocketAddr, contents: Vec<u8>) {
        match self {
            // UDP: a full socket buffer is a lost packet, as on the wire.
            Link::Udp(socket) => {
                let _ = socket.try_send_to(&contents, destination);
            }
            // The connection has one destination, the server.
            Link::Stream { out } => {
                let _ = out.send(stream::for_stream(contents));
            }
        }
    }
}

/// Carries messages both ways on a connected `stream` to the TURN server at `server`: what is
/// `queued` is written in order, what is read goes to `frames` one message at a time. Either
/// side ending ends it: the TURN client then times out and says so.
async fn pump<S: AsyncRead + AsyncWrite>(
    stream: S,
    server: SocketAddr,
    mut queued: mpsc::UnboundedReceiver<Vec<u8>>,
    frames: mpsc::UnboundedSender<RelayFrame>,
) {
    let (mut reader, mut writer) = tokio::io::split(stream);
    let read = async move {
        let mut framer = StreamFramer::new();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) => {
                    tracing::warn!(%server, "the TURN server closed the connection");
                    return;
                }
                Ok(n) => framer.push(&buf[..n]),
                Err(err) => {
                    tracing::warn!(%server, %err, "the connection to the TURN server failed");
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
        // Flush a TLS record still held, then say goodbye.
        let _ = writer.shutdown().await;
    };
    tokio::select! {
        () = read => {}
        () = write => {}
    }
}

/// The name a `turns:` server's certificate must carry: its host name or IP address.
fn tls_name(host: &str) -> Option<ServerName<'static>> {
    match ServerName::try_from(host.to_owned()) {
        Ok(name) => Some(name),
        Err(err) => {
            tracing::warn!(%host, %err, "not a name a TLS certificate can carry; skipped");
            None
        }
    }
}

/// TLS for `turns:` servers, made once: the Mozilla roots, and the certificates of the PEM
/// file `SSL_CERT_FILE` names (an institution's own CA), as OpenSSL-based tools do.
fn tls_config() -> Option<Arc<rustls::ClientConfig>> {
    static CONFIG: std::sync::OnceLock<Option<Arc<rustls::ClientConfig>>> =
        std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            if let Some(path) = std::env::var_os("SSL_CERT_FILE") {
                match CertificateDer::pem_file_iter(&path) {
                    Ok(certs) => {
                        let (added, ignored) =
                            roots.add_parsable_certificates(certs.filter_map(Result::ok));
                        tracing::debug!(?path, added, ignored, "extra TLS roots");
                    }
                    Err(err) => tracing::warn!(?path, %err, "cannot read SSL_CERT_FILE"),
                }
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            match rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
            {
                Ok(builder) => Some(Arc::new(
                    builder.with_root_certificates(roots).with_no_client_auth(),
                )),
                Err(err) => {
                    tracing::warn!(%err, "no TLS for TURN");
                    None
                }
            }
        })
        .clone()
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
    fn turn_urls_over_udp_tcp_and_tls_with_credentials_are_used() {
        let servers = turn_servers(&[
            ice(&["stun:stun.example:3478"], false),
            ice(&["turn:nocreds.example"], false),
            ice(
                &[
                    "turn:turn.example:3479?transport=udp",
                    "turn:turn.example:3478?transport=tcp",
                    "turns:turn.example:443?transport=tcp",
                    "turns:turn.example",
                    "turns:turn.example?transport=udp",
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
                ("turn.example", 443, Transport::Tls),
                ("turn.example", 5349, Transport::Tls),
                ("2001:db8::1", 3478, Transport::Udp),
                ("turn.example", 3478, Transport::Udp)
            ]
        );
        assert!(servers
            .iter()
            .all(|s| s.username == "u" && s.credential == "p"));
    }
}
