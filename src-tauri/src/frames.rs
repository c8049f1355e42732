//! The loopback frame socket: decoded video goes from Rust to the page as binary WebSocket
//! messages, one I420 picture each.
//!
//! Why not Tauri's IPC: measured on this kind of machine, a Channel carried 1280x720 I420 with
//! a p95 latency of 64-166 ms, a WebSocket on 127.0.0.1 with 6.6 ms. Any local program can
//! connect to a loopback port, so the socket only accepts the secret made at launch, which the
//! page learns through a command (and nothing else can call those).
//!
//! Message layout (little-endian), then the Y, U and V planes, each tightly packed:
//!
//! | bytes | field |
//! | --- | --- |
//! | 0 | layout version, 1 |
//! | 1 | track: 0 camera, 1 screen, 2 our own camera (the self view, participant 0) |
//! | 2..4 | reserved, 0 |
//! | 4..8 | participant number |
//! | 8..12 | width |
//! | 12..16 | height |
//! | 16..24 | capture time, µs since the Unix epoch (0: unknown) |
//! | 24..32 | when the app queued the frame, µs since the Unix epoch |

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::SinkExt;
use samla_engine::media::{FrameSink, VideoFrame};
use samla_media::read_marker;
use samla_protocol::{ParticipantId, TrackKind};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::Message;

/// Size of the header in front of the planes.
pub const HEADER_BYTES: usize = 32;
const LAYOUT_VERSION: u8 = 1;

/// Frames a page may fall behind by before newer ones are dropped for it (a slow page
/// should skip pictures, not queue seconds of them): two frames of each of nine tiles.
const PAGE_QUEUE: usize = 18;

/// The running socket: where the page connects, and the hub that fans frames out to it.
pub struct FrameServer {
    url: String,
    hub: FrameHub,
}

impl FrameServer {
    /// Binds 127.0.0.1 on a free port and serves pages that present `secret`.
    pub async fn start(secret: String) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let hub = FrameHub::default();
        let accepting = hub.clone();
        let expected = format!("token={secret}");
        tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        tokio::spawn(serve_page(stream, expected.clone(), accepting.clone()));
                    }
                    Err(err) => tracing::warn!(%err, "frame socket: accept failed"),
                }
            }
        });
        Ok(Self {
            url: format!("ws://127.0.0.1:{port}/frames?token={secret}"),
            hub,
        })
    }

    /// The URL the page opens, secret included.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn hub(&self) -> FrameHub {
        self.hub.clone()
    }
}

/// Hands each frame to every connected page.
#[derive(Clone, Default)]
pub struct FrameHub {
    pages: Arc<Mutex<Vec<mpsc::Sender<Bytes>>>>,
}

impl FrameHub {
    /// Queues one encoded frame for every page; a page whose queue is full misses it.
    pub fn publish(&self, frame: Bytes) {
        let Ok(mut pages) = self.pages.lock() else {
            return;
        };
        pages.retain(|page| match page.try_send(frame.clone()) {
            Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => true,
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
    }

    /// Whether a page is connected (so producers can skip encoding when nobody watches).
    pub fn has_pages(&self) -> bool {
        self.pages.lock().map(|p| !p.is_empty()).unwrap_or(false)
    }

    fn add(&self, page: mpsc::Sender<Bytes>) {
        if let Ok(mut pages) = self.pages.lock() {
            pages.push(page);
        }
    }
}

async fn serve_page(stream: TcpStream, expected: String, hub: FrameHub) {
    let _ = stream.set_nodelay(true);
    // The handshake callback's signature is tungstenite's, large error type and all.
    #[allow(clippy::result_large_err)]
    let check = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        if req
            .uri()
            .query()
            .is_some_and(|q| secret_matches(q, &expected))
        {
            Ok(resp)
        } else {
            let mut refusal = ErrorResponse::new(None);
            *refusal.status_mut() = StatusCode::FORBIDDEN;
            Err(refusal)
        }
    };
    let mut ws = match tokio_tungstenite::accept_hdr_async(stream, check).await {
        Ok(ws) => ws,
        Err(err) => {
            tracing::warn!(%err, "frame socket: refused a connection");
            return;
        }
    };
    let (tx, mut rx) = mpsc::channel(PAGE_QUEUE);
    hub.add(tx);
    tracing::debug!("frame socket: page connected");
    while let Some(frame) = rx.recv().await {
        if ws.send(Message::Binary(frame)).await.is_err() {
            break;
        }
    }
}

/// Compares in time independent of where the first difference is, so the secret cannot be
/// guessed byte by byte from response times.
fn secret_matches(query: &str, expected: &str) -> bool {
    query.len() == expected.len()
        && query
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Microseconds since the Unix epoch, the clock the synthetic marker's capture time uses.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// One frame in the socket's layout.
pub fn encode_frame(
    participant: ParticipantId,
    kind: TrackKind,
    frame: &VideoFrame,
    capture_us: u64,
) -> Bytes {
    let track = match kind {
        TrackKind::Screen => TRACK_SCREEN,
        _ => TRACK_CAMERA,
    };
    encode(track, participant, frame, capture_us)
}

/// Our own camera picture for the self view. It is ours before we have a participant
/// number (the pre-join screen), so it goes as participant 0 on a track of its own.
pub fn encode_self_view(frame: &VideoFrame) -> Bytes {
    encode(TRACK_SELF, ParticipantId(0), frame, frame.timestamp_us)
}

const TRACK_CAMERA: u8 = 0;
const TRACK_SCREEN: u8 = 1;
const TRACK_SELF: u8 = 2;

fn encode(track: u8, participant: ParticipantId, frame: &VideoFrame, capture_us: u64) -> Bytes {
    let (y, u, v) = (frame.y(), frame.u(), frame.v());
    let mut out = Vec::with_capacity(HEADER_BYTES + y.len() + u.len() + v.len());
    out.push(LAYOUT_VERSION);
    out.push(track);
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&participant.0.to_le_bytes());
    out.extend_from_slice(&frame.width().to_le_bytes());
    out.extend_from_slice(&frame.height().to_le_bytes());
    out.extend_from_slice(&capture_us.to_le_bytes());
    out.extend_from_slice(&now_us().to_le_bytes());
    out.extend_from_slice(y);
    out.extend_from_slice(u);
    out.extend_from_slice(v);
    Bytes::from(out)
}

/// The engine's decoded video, to the page.
pub struct PageSink(pub FrameHub);

impl FrameSink for PageSink {
    fn video(&mut self, participant: ParticipantId, kind: TrackKind, frame: &VideoFrame) {
        if !self.0.has_pages() {
            return;
        }
        // The decoder does not carry capture times; synthetic pictures carry their own.
        let capture_us = read_marker(frame)
            .filter(|m| m.sender == participant.0)
            .map(|m| m.capture_time_us)
            .unwrap_or(0);
        self.0
            .publish(encode_frame(participant, kind, frame, capture_us));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_header_and_planes() {
        let frame = VideoFrame::new(4, 2);
        let bytes = encode_frame(ParticipantId(7), TrackKind::Screen, &frame, 42);
        assert_eq!(bytes.len(), HEADER_BYTES + 8 + 2 + 2);
        assert_eq!(bytes[0], LAYOUT_VERSION);
        assert_eq!(bytes[1], 1);
        assert_eq!(u32::from_le_bytes(bytes[4..8].try_into().unwrap()), 7);
        assert_eq!(u32::from_le_bytes(bytes[8..12].try_into().unwrap()), 4);
        assert_eq!(u32::from_le_bytes(bytes[12..16].try_into().unwrap()), 2);
        assert_eq!(u64::from_le_bytes(bytes[16..24].try_into().unwrap()), 42);
    }

    #[test]
    fn the_self_view_has_a_track_of_its_own() {
        let mut frame = VideoFrame::new(4, 2);
        frame.timestamp_us = 99;
        let bytes = encode_self_view(&frame);
        assert_eq!(bytes[1], 2);
        assert_eq!(u32::from_le_bytes(bytes[4..8].try_into().unwrap()), 0);
        assert_eq!(u64::from_le_bytes(bytes[16..24].try_into().unwrap()), 99);
        let camera = encode_frame(ParticipantId(3), TrackKind::Camera, &frame, 0);
        assert_eq!(camera[1], 0);
    }

    #[test]
    fn only_the_exact_secret_is_accepted() {
        assert!(secret_matches("token=abc", "token=abc"));
        assert!(!secret_matches("token=abd", "token=abc"));
        assert!(!secret_matches("token=ab", "token=abc"));
        assert!(!secret_matches("", "token=abc"));
    }
}
