//! Counters and gauges for `GET /metrics`, in the Prometheus text format.
//!
//! Plain atomics: updating one never takes a lock, so the meeting actors and connection
//! tasks can count freely on their hot paths.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

#[derive(Debug, Default)]
pub struct Metrics {
    /// Meetings with a running actor.
    pub meetings_live: AtomicI64,
    /// Participants in a live meeting (not counting the waiting room).
    pub participants: AtomicI64,
    /// People in a waiting room.
    pub waiting: AtomicI64,
    /// Open signalling WebSockets.
    pub connections: AtomicI64,
    pub meetings_started_total: AtomicU64,
    pub joins_total: AtomicU64,
    pub messages_received_total: AtomicU64,
    pub messages_sent_total: AtomicU64,
    pub chat_messages_total: AtomicU64,
    /// Error replies sent to clients (refused actions, bad input).
    pub client_errors_total: AtomicU64,
    /// Failures inside the server (database errors and the like).
    pub server_errors_total: AtomicU64,
    /// Media sessions (one per participant sending or receiving media) in the SFU.
    pub media_peers: AtomicI64,
    /// Audio and video frames the SFU forwarded, counted once per subscriber.
    pub media_frames_forwarded_total: AtomicU64,
    /// Media datagrams dropped because the socket could not take them.
    pub media_datagrams_dropped_total: AtomicU64,
    /// Keyframe starts the SFU found in the frame-marking header extension.
    pub media_keyframes_marked_total: AtomicU64,
    /// Keyframe starts the SFU found by reading an H.264 NAL unit header, for publishers that
    /// send no frame marking (browsers): what end-to-end encryption must leave in the clear.
    pub media_keyframes_sniffed_total: AtomicU64,
}

impl Metrics {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    pub fn add(gauge: &AtomicI64, delta: i64) {
        gauge.fetch_add(delta, Relaxed);
    }

    /// Renders every metric in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let gauges: [(&str, &str, &AtomicI64); 5] = [
            (
                "samla_meetings_live",
                "Meetings in progress",
                &self.meetings_live,
            ),
            (
                "samla_participants",
                "Participants in meetings in progress",
                &self.participants,
            ),
            (
                "samla_waiting_room",
                "People in waiting rooms",
                &self.waiting,
            ),
            (
                "samla_connections",
                "Open signalling connections",
                &self.connections,
            ),
            (
                "samla_media_peers",
                "Media sessions in the SFU",
                &self.media_peers,
            ),
        ];
        let counters: [(&str, &str, &AtomicU64); 11] = [
            (
                "samla_meetings_started_total",
                "Meetings started",
                &self.meetings_started_total,
            ),
            (
                "samla_joins_total",
                "Participants admitted into meetings",
                &self.joins_total,
            ),
            (
                "samla_messages_received_total",
                "Signalling messages received",
                &self.messages_received_total,
            ),
            (
                "samla_messages_sent_total",
                "Signalling messages sent",
                &self.messages_sent_total,
            ),
            (
                "samla_chat_messages_total",
                "Chat messages sent",
                &self.chat_messages_total,
            ),
            (
                "samla_client_errors_total",
                "Error replies to clients",
                &self.client_errors_total,
            ),
            (
                "samla_server_errors_total",
                "Internal server errors",
                &self.server_errors_total,
            ),
            (
                "samla_media_frames_forwarded_total",
                "Media frames forwarded by the SFU, per subscriber",
                &self.media_frames_forwarded_total,
            ),
            (
                "samla_media_datagrams_dropped_total",
                "Media datagrams the SFU could not send",
                &self.media_datagrams_dropped_total,
            ),
            (
                "samla_media_keyframes_marked_total",
                "Keyframes the SFU found in the frame-marking header extension",
                &self.media_keyframes_marked_total,
            ),
            (
                "samla_media_keyframes_sniffed_total",
                "Keyframes the SFU found by reading an H.264 NAL unit header",
                &self.media_keyframes_sniffed_total,
            ),
        ];
        let mut out = String::with_capacity(2048);
        for (name, help, v) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {}",
                v.load(Relaxed)
            );
        }
        for (name, help, v) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Relaxed)
            );
        }
        out
    }
}
