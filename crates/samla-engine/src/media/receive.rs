//! Receiving side: one decoder thread for all remote tracks, so decoding never runs on the
//! async runtime. It decodes, checks the synthetic marker, measures latency, feeds sinks and
//! keeps the stats.

use std::collections::HashMap;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{SystemTime, UNIX_EPOCH};

use samla_media::{read_marker, AudioFrame, H264Decoder, OpusDecoder, VideoFrame};
use samla_protocol::{ParticipantId, TrackKind};
use tokio::sync::mpsc;

use super::stats::StatsBook;

/// Consumes decoded media, e.g. a UI tile or a recorder. Called on the decoder thread: keep
/// it quick (copy the frame and return).
pub trait FrameSink: Send {
    fn video(&mut self, _participant: ParticipantId, _kind: TrackKind, _frame: &VideoFrame) {}
    fn audio(&mut self, _participant: ParticipantId, _frame: &AudioFrame) {}
}

/// Work for the decoder thread.
#[derive(Debug)]
pub enum DecodeJob {
    Media {
        participant: ParticipantId,
        kind: TrackKind,
        data: Arc<[u8]>,
        /// Packets missing just before this one (audio: frames to conceal).
        lost_before: u64,
    },
    /// The participant's tracks are gone; drop its decoders.
    Forget(ParticipantId),
}

/// The decoder thread asks the network task for a keyframe after a decode error.
#[derive(Debug, Clone, Copy)]
pub struct KeyframeNeeded(pub ParticipantId, pub TrackKind);

/// Longest run of lost audio frames that is concealed; longer gaps are just silence.
const MAX_CONCEAL: u64 = 5;

#[derive(Default)]
struct Decoders {
    video: HashMap<TrackKind, H264Decoder>,
    audio: Option<OpusDecoder>,
}

pub fn spawn_decoder(
    stats: Arc<Mutex<StatsBook>>,
    mut sinks: Vec<Box<dyn FrameSink>>,
    keyframes: mpsc::UnboundedSender<KeyframeNeeded>,
) -> std::io::Result<std_mpsc::Sender<DecodeJob>> {
    let (tx, rx) = std_mpsc::channel::<DecodeJob>();
    thread::Builder::new()
        .name("samla-decode".into())
        .spawn(move || {
            let mut decoders: HashMap<ParticipantId, Decoders> = HashMap::new();
            let mut picture = VideoFrame::new(2, 2);
            let mut sound = AudioFrame::silent();
            while let Ok(job) = rx.recv() {
                let (participant, kind, data, lost_before) = match job {
                    DecodeJob::Forget(p) => {
                        decoders.remove(&p);
                        continue;
                    }
                    DecodeJob::Media {
                        participant,
                        kind,
                        data,
                        lost_before,
                    } => (participant, kind, data, lost_before),
                };
                let dec = decoders.entry(participant).or_default();
                if kind == TrackKind::Audio {
                    decode_audio(
                        dec,
                        participant,
                        &data,
                        lost_before,
                        &mut sound,
                        &stats,
                        &mut sinks,
                    );
                } else if !decode_video(
                    dec,
                    participant,
                    kind,
                    &data,
                    &mut picture,
                    &stats,
                    &mut sinks,
                ) {
                    let _ = keyframes.send(KeyframeNeeded(participant, kind));
                }
            }
        })?;
    Ok(tx)
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// Returns false when the decoder rejected the data (a keyframe is needed).
fn decode_video(
    dec: &mut Decoders,
    participant: ParticipantId,
    kind: TrackKind,
    data: &[u8],
    picture: &mut VideoFrame,
    stats: &Mutex<StatsBook>,
    sinks: &mut [Box<dyn FrameSink>],
) -> bool {
    let decoder = match dec.video.entry(kind) {
        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
        std::collections::hash_map::Entry::Vacant(e) => match H264Decoder::new() {
            Ok(d) => e.insert(d),
            Err(err) => {
                tracing::error!(%err, "cannot create an H.264 decoder");
                return true;
            }
        },
    };
    let result = decoder.decode(data, 0, picture);
    let Ok(mut book) = stats.lock() else {
        return true;
    };
    let remote = book.remote(participant);
    match result {
        Ok(false) => true,
        Ok(true) => {
            remote.out.frames_decoded += 1;
            match read_marker(picture) {
                Some(m) if m.sender == participant.0 => {
                    remote.out.frames_verified += 1;
                    let latency = now_us().saturating_sub(m.capture_time_us) as f64 / 1000.0;
                    remote.record_latency(latency);
                }
                _ => remote.out.frames_corrupt += 1,
            }
            drop(book);
            for sink in sinks.iter_mut() {
                sink.video(participant, kind, picture);
            }
            true
        }
        Err(err) => {
            remote.out.decode_errors += 1;
            tracing::debug!(%err, %participant, "video decode failed");
            false
        }
    }
}

fn decode_audio(
    dec: &mut Decoders,
    participant: ParticipantId,
    data: &[u8],
    lost_before: u64,
    sound: &mut AudioFrame,
    stats: &Mutex<StatsBook>,
    sinks: &mut [Box<dyn FrameSink>],
) {
    let decoder = match &mut dec.audio {
        Some(d) => d,
        slot @ None => match OpusDecoder::new() {
            Ok(d) => slot.insert(d),
            Err(err) => {
                tracing::error!(%err, "cannot create an Opus decoder");
                return;
            }
        },
    };
    let conceal = lost_before.min(MAX_CONCEAL);
    for i in 0..conceal {
        // FEC in this packet rebuilds only the frame just before it; earlier ones are PLC.
        let next = (i + 1 == conceal).then_some(data);
        if decoder.conceal(next, sound).is_ok() {
            record_audio(participant, sound, true, stats, sinks);
        }
    }
    match decoder.decode(data, sound) {
        Ok(()) => record_audio(participant, sound, false, stats, sinks),
        Err(err) => {
            if let Ok(mut book) = stats.lock() {
                book.remote(participant).out.decode_errors += 1;
            }
            tracing::debug!(%err, %participant, "audio decode failed");
        }
    }
}

fn record_audio(
    participant: ParticipantId,
    sound: &AudioFrame,
    concealed: bool,
    stats: &Mutex<StatsBook>,
    sinks: &mut [Box<dyn FrameSink>],
) {
    if let Ok(mut book) = stats.lock() {
        let remote = book.remote(participant);
        if concealed {
            remote.out.audio_frames_concealed += 1;
        } else {
            remote.out.audio_frames_decoded += 1;
        }
        remote.record_audio(&sound.samples);
    }
    for sink in sinks.iter_mut() {
        sink.audio(participant, sound);
    }
}
