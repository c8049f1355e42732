//! Per remote participant receive statistics.
//!
//! Counters are bumped on the hot path (decoder thread and network task) without allocating;
//! rates, percentiles and the tone frequency are computed only when a snapshot is taken.

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use samla_media::{dominant_frequency, AUDIO_SAMPLE_RATE};
use samla_protocol::{ParticipantId, TrackKind};
use serde::Serialize;

/// Latencies kept for the percentiles (about 17 s at 30 fps).
const LATENCY_WINDOW: usize = 512;
/// Decoded audio kept for the frequency estimate: 0.5 s at 48 kHz.
const AUDIO_WINDOW: usize = AUDIO_SAMPLE_RATE as usize / 2;
/// Span over which fps and bitrate are averaged.
const RATE_WINDOW_SECS: f64 = 2.0;

/// What a snapshot reports about one remote participant. Serialised as the values of the CLI's
/// `--stats-json` object (keyed by participant id).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ParticipantStats {
    pub name: String,
    /// Camera frames the decoder produced (the screen share counts in `screen_frames_decoded`).
    pub frames_decoded: u64,
    /// Decoded frames whose marker read back with a good checksum and this participant's id.
    pub frames_verified: u64,
    /// Decoded frames without a readable marker or with someone else's id.
    pub frames_corrupt: u64,
    /// Video access units received (decoded or not; with `--no-decode` only these count).
    pub frames_received: u64,
    /// Access units the decoder rejected.
    pub decode_errors: u64,
    /// Video frames per second over the last ~2 s, camera and screen together (decoded, or
    /// received with `no_decode`).
    pub fps: f64,
    /// Payload bitrate of all this participant's tracks over the last ~2 s.
    pub bitrate_kbps: f64,
    pub bytes_received: u64,
    /// RTP packets missing from the sequence (gaps str0m gave up waiting for).
    pub packets_lost: u64,
    /// Round-trip time to the SFU (it is the same for every remote participant: all media
    /// goes through the one connection). `None` until str0m has measured it.
    pub rtt_ms: Option<f64>,
    /// Interarrival jitter from our receiver reports (audio track if any, else video).
    pub jitter_ms: Option<f64>,
    /// Capture (sender's clock) to decoded (our clock): only meaningful on one machine.
    pub latency_ms_p50: Option<f64>,
    pub latency_ms_p95: Option<f64>,
    pub audio_frames_decoded: u64,
    /// Audio frames rebuilt by FEC or concealment for lost packets.
    pub audio_frames_concealed: u64,
    /// Dominant frequency of the last ~0.5 s of decoded audio.
    pub audio_frequency_hz: Option<f32>,
    /// Access units not decoded because the picture was lost (a gap or a decode error) and
    /// no complete keyframe has arrived since.
    pub frames_awaiting_keyframe: u64,
    /// Keyframe requests (PLI) we sent for this participant's video.
    pub keyframe_requests: u64,
    /// Complete keyframes received of this participant's video.
    pub keyframes_received: u64,
    /// Height of the last decoded camera picture: which simulcast layer the SFU forwards now.
    pub video_height: Option<u32>,
    /// Screen-share frames the decoder produced: kept apart from the camera's so that a
    /// participant who shares their screen does not inflate the camera's figures.
    pub screen_frames_decoded: u64,
    /// Height of the last decoded screen-share picture.
    pub screen_height: Option<u32>,
    /// Milliseconds from when this client started joining (or, failing that, started its
    /// media) to the first decoded video frame of this participant: what a user waits before
    /// seeing anyone. `None` until a frame is decoded.
    pub first_frame_ms: Option<f64>,
    /// ICE restarts this client's media connection went through (after its path to the SFU
    /// went dead) without reconnecting. Like `rtt_ms` it belongs to the one connection, so it
    /// is the same for every remote participant.
    pub ice_restarts: u64,
}

/// A counter sampled over time, to turn a running total into a rate.
#[derive(Debug, Default)]
pub struct RateWindow {
    samples: VecDeque<(Instant, u64)>,
}

impl RateWindow {
    /// Records `total` at `now`; returns the rate per second over the window (0 until two
    /// samples exist).
    pub fn update(&mut self, now: Instant, total: u64) -> f64 {
        self.samples.push_back((now, total));
        while self.samples.len() > 2
            && now.duration_since(self.samples[1].0).as_secs_f64() >= RATE_WINDOW_SECS
        {
            self.samples.pop_front();
        }
        let (t0, v0) = self.samples[0];
        let dt = now.duration_since(t0).as_secs_f64();
        if dt <= 0.0 {
            return 0.0;
        }
        total.saturating_sub(v0) as f64 / dt
    }
}

/// The `q`-quantile (0..=1) of `values` by nearest rank; sorts in place.
pub fn percentile(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    Some(values[rank - 1])
}

/// Running state for one remote participant.
#[derive(Debug, Default)]
pub struct RemoteStats {
    pub out: ParticipantStats,
    latencies: VecDeque<f64>,
    audio: VecDeque<i16>,
    /// Audio arrived since the tone was last analysed: a participant who left (or is
    /// silent) is not analysed again and again.
    audio_unanalysed: bool,
    fps_window: RateWindow,
    bytes_window: RateWindow,
    pub audio_jitter_ms: Option<f64>,
    pub video_jitter_ms: Option<f64>,
    pub track_rtt_ms: Option<f64>,
}

impl RemoteStats {
    pub fn record_latency(&mut self, ms: f64) {
        if self.latencies.len() == LATENCY_WINDOW {
            self.latencies.pop_front();
        }
        self.latencies.push_back(ms);
    }

    /// Counts one decoded video picture of `kind` that is `height` lines tall, decoded at
    /// `now`; the first one of either kind fixes `first_frame_ms` (measured from `since`).
    pub fn record_video_frame(
        &mut self,
        kind: TrackKind,
        height: u32,
        now: Instant,
        since: Instant,
    ) {
        if kind == TrackKind::Screen {
            self.out.screen_frames_decoded += 1;
            self.out.screen_height = Some(height);
        } else {
            self.out.frames_decoded += 1;
            self.out.video_height = Some(height);
        }
        if self.out.first_frame_ms.is_none() {
            let ms = now.saturating_duration_since(since).as_secs_f64() * 1000.0;
            self.out.first_frame_ms = Some(round2(ms));
        }
    }

    pub fn record_audio(&mut self, samples: &[i16]) {
        let excess = (self.audio.len() + samples.len()).saturating_sub(AUDIO_WINDOW);
        self.audio.drain(..excess.min(self.audio.len()));
        self.audio.extend(samples.iter().copied());
        self.audio_unanalysed = true;
    }

    /// Samples the counters for the rates; called on a steady tick so the rates do not
    /// depend on how often someone asks for a snapshot.
    fn tick(&mut self, now: Instant) {
        let decoded = self.out.frames_decoded + self.out.screen_frames_decoded;
        let frames = if decoded > 0 {
            decoded
        } else {
            self.out.frames_received
        };
        self.out.fps = round2(self.fps_window.update(now, frames));
        self.out.bitrate_kbps =
            round2(self.bytes_window.update(now, self.out.bytes_received) * 8.0 / 1000.0);
    }

    /// Computes the cheap derived figures; returns the audio still to analyse for its tone,
    /// if new audio came since the last time.
    fn snapshot(&mut self, peer_rtt_ms: Option<f64>, scratch: &mut Vec<f64>) -> Option<Vec<i16>> {
        scratch.clear();
        scratch.extend(self.latencies.iter().copied());
        self.out.latency_ms_p50 = percentile(scratch, 0.5).map(round2);
        self.out.latency_ms_p95 = percentile(scratch, 0.95).map(round2);
        self.out.jitter_ms = self.audio_jitter_ms.or(self.video_jitter_ms).map(round2);
        self.out.rtt_ms = self.track_rtt_ms.or(peer_rtt_ms).map(round2);
        if !self.audio_unanalysed || self.audio.len() < AUDIO_WINDOW / 2 {
            return None;
        }
        self.audio_unanalysed = false;
        let (a, b) = self.audio.as_slices();
        Some(a.iter().chain(b).copied().collect())
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Everyone's stats, shared between the network task and the decoder thread.
#[derive(Debug)]
pub struct StatsBook {
    /// Where `first_frame_ms` counts from (see [`super::MediaOptions::started_at`]).
    pub started_at: Instant,
    pub remotes: BTreeMap<ParticipantId, RemoteStats>,
    pub names: BTreeMap<ParticipantId, String>,
    pub peer_rtt_ms: Option<f64>,
    /// Media that arrived on a mid no `media_tracks` entry explains.
    pub unmapped_packets: u64,
    /// ICE restarts the SFU answered on our connection (see [`ParticipantStats::ice_restarts`]).
    pub ice_restarts: u64,
    scratch: Vec<f64>,
}

impl StatsBook {
    pub fn new(started_at: Instant) -> Self {
        Self {
            started_at,
            remotes: BTreeMap::new(),
            names: BTreeMap::new(),
            peer_rtt_ms: None,
            unmapped_packets: 0,
            ice_restarts: 0,
            scratch: Vec::new(),
        }
    }

    /// Counts a decoded video picture of `p` (see [`RemoteStats::record_video_frame`]).
    pub fn video_decoded(&mut self, p: ParticipantId, kind: TrackKind, height: u32, now: Instant) {
        let since = self.started_at;
        self.remote(p).record_video_frame(kind, height, now, since);
    }

    pub fn remote(&mut self, p: ParticipantId) -> &mut RemoteStats {
        self.remotes.entry(p).or_default()
    }

    /// Samples every participant's counters for the rates (see [`RateWindow`]).
    pub fn tick(&mut self, now: Instant) {
        for remote in self.remotes.values_mut() {
            remote.tick(now);
        }
    }

    /// The figures for every remote participant (rates as of the last [`StatsBook::tick`]),
    /// but for the tone heard, which [`Snapshot::finish`] works out after the book is let go.
    pub fn snapshot(&mut self) -> Snapshot {
        let mut stats = BTreeMap::new();
        let mut audio = Vec::new();
        for (p, remote) in &mut self.remotes {
            if let Some(samples) = remote.snapshot(self.peer_rtt_ms, &mut self.scratch) {
                audio.push((*p, samples));
            }
            let mut s = remote.out.clone();
            s.name = self.names.get(p).cloned().unwrap_or_default();
            s.ice_restarts = self.ice_restarts;
            stats.insert(*p, s);
        }
        Snapshot { stats, audio }
    }

    /// Keeps the tones [`Snapshot::finish`] found, for the snapshots until new audio comes.
    pub fn remember_tones(&mut self, tones: &[Tone]) {
        for (p, hz) in tones {
            if let Some(remote) = self.remotes.get_mut(p) {
                remote.out.audio_frequency_hz = *hz;
            }
        }
    }
}

/// The tone heard from a participant (Hz), as [`Snapshot::finish`] found it.
pub type Tone = (ParticipantId, Option<f32>);

/// Figures taken from the [`StatsBook`], and the audio whose tone is still to be found. The
/// analysis takes milliseconds per participant: done while holding the book, it held up the
/// network task, which records into the same book, once a second per participant ever heard
/// (a host whose meeting had seen ten guests come and go sent a new guest its first picture
/// half a second late).
#[derive(Debug)]
pub struct Snapshot {
    stats: BTreeMap<ParticipantId, ParticipantStats>,
    audio: Vec<(ParticipantId, Vec<i16>)>,
}

impl Snapshot {
    /// Finds the tones; returns the full figures and the tones, for
    /// [`StatsBook::remember_tones`].
    pub fn finish(mut self) -> (BTreeMap<ParticipantId, ParticipantStats>, Vec<Tone>) {
        let tones: Vec<Tone> = self
            .audio
            .iter()
            .map(|(p, samples)| {
                let hz = dominant_frequency(samples, AUDIO_SAMPLE_RATE);
                (*p, Some(hz).filter(|f| *f > 0.0))
            })
            .collect();
        for (p, hz) in &tones {
            if let Some(s) = self.stats.get_mut(p) {
                s.audio_frequency_hz = *hz;
            }
        }
        (self.stats, tones)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let mut v: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        assert_eq!(percentile(&mut v, 0.5), Some(50.0));
        assert_eq!(percentile(&mut v, 0.95), Some(95.0));
        assert_eq!(percentile(&mut [7.0], 0.95), Some(7.0));
        assert_eq!(percentile(&mut [], 0.5), None);
    }

    #[test]
    fn rate_window_averages_over_recent_samples() {
        let t0 = Instant::now();
        let mut w = RateWindow::default();
        assert_eq!(w.update(t0, 0), 0.0);
        assert_eq!(w.update(t0 + Duration::from_secs(1), 30), 30.0);
        assert_eq!(w.update(t0 + Duration::from_secs(2), 60), 30.0);
        // The rate drops once the window only holds the slower stretch.
        w.update(t0 + Duration::from_secs(3), 70);
        let r = w.update(t0 + Duration::from_secs(4), 80);
        assert!((r - 10.0).abs() < 1e-9, "{r}");
    }

    #[test]
    fn snapshot_reports_latency_audio_and_names() {
        let mut book = StatsBook::new(Instant::now());
        let p = ParticipantId(3);
        book.names.insert(p, "Kari".into());
        let t0 = Instant::now();
        {
            let r = book.remote(p);
            for ms in 1..=20 {
                r.record_latency(f64::from(ms));
            }
            let tone: Vec<i16> = (0..AUDIO_WINDOW + 960)
                .map(|i| {
                    let t = i as f64 / f64::from(AUDIO_SAMPLE_RATE);
                    ((std::f64::consts::TAU * 500.0 * t).sin() * 8000.0) as i16
                })
                .collect();
            for chunk in tone.chunks(960) {
                r.record_audio(chunk);
            }
            r.video_jitter_ms = Some(4.0);
        }
        book.peer_rtt_ms = Some(1.5);
        book.ice_restarts = 2;
        book.remote(p).out.frames_decoded = 10;
        book.tick(t0);
        book.remote(p).out.frames_decoded = 40;
        book.tick(t0 + std::time::Duration::from_secs(1));
        let (snap, tones) = book.snapshot().finish();
        assert_eq!(snap[&p].fps, 30.0);
        let s = &snap[&p];
        assert_eq!(s.name, "Kari");
        assert_eq!(s.latency_ms_p50, Some(10.0));
        assert_eq!(s.latency_ms_p95, Some(19.0));
        assert_eq!(s.jitter_ms, Some(4.0));
        assert_eq!(s.rtt_ms, Some(1.5));
        assert_eq!(
            s.ice_restarts, 2,
            "the connection's restarts, under every participant"
        );
        let f = s.audio_frequency_hz.unwrap();
        assert!((f - 500.0).abs() < 3.0, "{f}");
        assert_eq!(book.remotes[&p].audio.len(), AUDIO_WINDOW);
        // Remembered, and not analysed again while no new audio comes.
        book.remember_tones(&tones);
        let snapshot = book.snapshot();
        assert!(snapshot.audio.is_empty(), "nothing new to analyse");
        let again = snapshot.finish().0[&p].audio_frequency_hz.unwrap();
        assert!((again - 500.0).abs() < 3.0, "{again}");
    }

    #[test]
    fn camera_and_screen_are_counted_apart_and_the_first_frame_is_timed_from_the_start() {
        let t0 = Instant::now();
        let mut book = StatsBook::new(t0);
        let p = ParticipantId(4);
        book.video_decoded(p, TrackKind::Screen, 1080, t0 + Duration::from_millis(850));
        book.video_decoded(p, TrackKind::Camera, 360, t0 + Duration::from_millis(900));
        book.video_decoded(p, TrackKind::Camera, 720, t0 + Duration::from_millis(2000));
        let s = &book.snapshot().finish().0[&p];
        assert_eq!(s.frames_decoded, 2);
        assert_eq!(s.video_height, Some(720));
        assert_eq!(s.screen_frames_decoded, 1);
        assert_eq!(s.screen_height, Some(1080));
        // The first picture of either kind, and it stays put.
        assert_eq!(s.first_frame_ms, Some(850.0));
        // Someone with no video yet has no figure.
        assert_eq!(book.remote(ParticipantId(5)).out.first_frame_ms, None);
        let json = serde_json::to_value(s).unwrap();
        for key in [
            "frames_decoded",
            "video_height",
            "screen_frames_decoded",
            "screen_height",
            "first_frame_ms",
        ] {
            assert!(json.get(key).is_some(), "{key} missing from {json}");
        }
    }
}
