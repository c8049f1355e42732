//! One signalling WebSocket and the handshakes on it (`hello`, then `join` or `resume`).
//!
//! It knows nothing about reconnecting; the runner opens a new one per attempt.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use futures_util::{SinkExt, StreamExt};
use samla_protocol::{ClientMessage, ServerMessage, PROTOCOL_VERSION};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use url::Url;

use crate::EngineError;

/// The client name sent in `hello`, for the server's logs.
const CLIENT_NAME: &str = concat!("samla-engine/", env!("CARGO_PKG_VERSION"));

/// What one read from the socket produced.
pub(crate) enum Frame {
    Message(ServerMessage),
    /// Control or unreadable frames: proof the peer is alive, nothing to forward.
    /// (tungstenite answers pings itself while we read.)
    Alive,
    /// The socket is closed or broken.
    Gone,
}

/// A connected signalling socket.
pub(crate) struct Socket {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    url: Url,
}

impl Socket {
    /// Connects and exchanges `hello`/`welcome`. Every server message read is appended to
    /// `seen`, so the caller can forward it as an event even when the handshake fails.
    pub(crate) async fn open(
        url: &Url,
        seen: &mut Vec<ServerMessage>,
    ) -> Result<Self, EngineError> {
        let (ws, _response) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .map_err(|e| connect_error(url, e))?;
        let mut socket = Self {
            ws,
            url: url.clone(),
        };
        socket
            .send(&ClientMessage::Hello {
                version: PROTOCOL_VERSION,
                client: CLIENT_NAME.into(),
            })
            .await?;
        match socket.answer(seen).await? {
            ServerMessage::Welcome { .. } => Ok(socket),
            other => Err(unexpected(&other)),
        }
    }

    /// Sends `join` or `resume` and reads until the server seats us: returns the `joined` or
    /// `waiting` message's resume token. A refusal becomes [`EngineError::Refused`], a
    /// `closed` [`EngineError::Closed`].
    pub(crate) async fn request_seat(
        &mut self,
        request: &ClientMessage,
        seen: &mut Vec<ServerMessage>,
    ) -> Result<String, EngineError> {
        self.send(request).await?;
        loop {
            match self.answer(seen).await? {
                ServerMessage::Joined { resume_token, .. }
                | ServerMessage::Waiting { resume_token, .. } => return Ok(resume_token),
                // Anything else (an event racing our admission) is already in `seen`.
                _ => continue,
            }
        }
    }

    /// Reads the next server message during a handshake, turning errors and `closed` into
    /// [`EngineError`]s.
    async fn answer(
        &mut self,
        seen: &mut Vec<ServerMessage>,
    ) -> Result<ServerMessage, EngineError> {
        loop {
            match self.next_frame().await {
                Frame::Message(msg) => {
                    seen.push(msg.clone());
                    return match msg {
                        ServerMessage::Error { code, message } => {
                            Err(EngineError::Refused { code, message })
                        }
                        ServerMessage::Closed { reason } => Err(EngineError::Closed(reason)),
                        msg => Ok(msg),
                    };
                }
                Frame::Alive => continue,
                Frame::Gone => return Err(EngineError::ConnectionLost),
            }
        }
    }

    /// Reads one frame. Cancel-safe: nothing is lost if the future is dropped.
    pub(crate) async fn next_frame(&mut self) -> Frame {
        match self.ws.next().await {
            Some(Ok(Message::Text(text))) => match ServerMessage::decode(&text) {
                Ok(msg) => Frame::Message(msg),
                Err(err) => {
                    // A newer server may send messages we don't know yet; skip, don't fail.
                    tracing::warn!(%err, "ignoring an undecodable server message");
                    Frame::Alive
                }
            },
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => Frame::Gone,
            Some(Ok(_)) => Frame::Alive,
        }
    }

    pub(crate) async fn send(&mut self, msg: &ClientMessage) -> Result<(), EngineError> {
        self.write(Message::text(msg.encode())).await
    }

    /// A WebSocket ping; the pong (or any frame) shows the connection is still alive.
    pub(crate) async fn ping(&mut self) -> Result<(), EngineError> {
        self.write(Message::Ping(Default::default())).await
    }

    /// Whether the network under this connection has changed: the address the kernel would
    /// now send to the server from is not the one the connection was made from (a laptop
    /// moved from Wi-Fi to a cable, or to another network). The connection is then dead
    /// though TCP will not say so for a long time. `false` when there is no route at all (an
    /// outage, which the connection may ride out) or the addresses cannot be read.
    pub(crate) fn network_changed(&self) -> bool {
        let tcp = match self.ws.get_ref() {
            MaybeTlsStream::Plain(tcp) => tcp,
            MaybeTlsStream::Rustls(tls) => tls.get_ref().0,
            _ => return false,
        };
        let (Ok(local), Ok(server)) = (tcp.local_addr(), tcp.peer_addr()) else {
            return false;
        };
        route_source(server).is_some_and(|now| now != local.ip())
    }

    /// Closes politely; errors are irrelevant because we are done with the socket.
    pub(crate) async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }

    async fn write(&mut self, msg: Message) -> Result<(), EngineError> {
        self.ws
            .send(msg)
            .await
            .map_err(|e| connect_error(&self.url, e))
    }
}

/// The address the kernel would send to `server` from, or `None` without a route. A UDP
/// socket's `connect` sends nothing; it only picks the route.
fn route_source(server: SocketAddr) -> Option<IpAddr> {
    let any: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let probe = std::net::UdpSocket::bind(any).ok()?;
    probe.connect(server).ok()?;
    Some(probe.local_addr().ok()?.ip())
}

fn connect_error(url: &Url, err: tungstenite::Error) -> EngineError {
    EngineError::Connect {
        url: url.to_string(),
        cause: Box::new(err),
    }
}

fn unexpected(msg: &ServerMessage) -> EngineError {
    EngineError::Protocol(format!("expected welcome, got {}", msg.encode()))
}
