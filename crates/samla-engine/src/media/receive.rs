//! Receiving side: one decoder thread for all remote tracks, so decoding never runs on the
//! async runtime. It decodes, checks the synthetic marker, measures latency, feeds sinks and
//! keeps the stats.

use std::collections::HashMap;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use samla_media::{read_marker, AudioFrame, H264Decoder, OpusDecoder, VideoFrame};
use samla_protocol::{ParticipantId, TrackKind};
use tokio::sync::mpsc;

use super::stats::StatsBook;

/// Consumes decoded media, e.g. a UI tile or a recorder. Called on the decoder thread: keep
/// it quick (copy the frame and return).
pub trait FrameSink: Send {
    fn video(&mut self, _participant: ParticipantId, _kind: TrackKind, _frame: &VideoFrame) {}
    fn audio(&mut self, _participant: ParticipantId, _frame: &AudioFrame) {}
    /// The participant's tracks are gone: drop anything kept for them.
    fn forget(&mut self, _participant: ParticipantId) {}
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
        /// Video: the unit is an IDR picture (with its parameter sets) a decoder can start from.
        keyframe: bool,
        /// Video: no packets are missing between the previous unit and this one.
        contiguous: bool,
    },
    /// The participant's tracks are gone; drop its decoders.
    Forget(ParticipantId),
}

/// The decoder thread asks the network task for a keyframe while a video track waits for one
/// (after a gap or a decode error); the network task limits how often it passes this on.
#[derive(Debug, Clone, Copy)]
pub struct KeyframeNeeded(pub ParticipantId, pub TrackKind);

/// Longest run of lost audio frames that is concealed; longer gaps are just silence.
const MAX_CONCEAL: u64 = 5;

#[derive(Default)]
struct Decoders {
    video: HashMap<TrackKind, VideoTrack>,
    audio: Option<OpusDecoder>,
}

/// Decoding state of one remote video track.
///
/// H.264 P-frames only decode on top of every picture before them, so once a unit is lost (a
/// gap in the sequence) or rejected, nothing decodes correctly until the next IDR picture.
/// Until that arrives complete the track drops what it receives and keeps asking for one.
struct VideoTrack {
    /// `None` until the first keyframe, and again after a decode error: OpenH264 is given a
    /// fresh decoder at the next keyframe rather than trusted to recover its state.
    decoder: Option<H264Decoder>,
    /// Waiting for a complete keyframe; every unit received meanwhile is dropped.
    awaiting_keyframe: bool,
}

impl Default for VideoTrack {
    fn default() -> Self {
        Self {
            decoder: None,
            awaiting_keyframe: true,
        }
    }
}

/// What became of one video unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VideoOutcome {
    /// Decoded (or parameter sets only).
    Decoded,
    /// Dropped or rejected: the track needs a keyframe.
    NeedKeyframe,
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
                let (participant, kind, data, lost_before, keyframe, contiguous) = match job {
                    DecodeJob::Forget(p) => {
                        decoders.remove(&p);
                        for sink in sinks.iter_mut() {
                            sink.forget(p);
                        }
                        continue;
                    }
                    DecodeJob::Media {
                        participant,
                        kind,
                        data,
                        lost_before,
                        keyframe,
                        contiguous,
                    } => (participant, kind, data, lost_before, keyframe, contiguous),
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
                } else {
                    let unit = VideoUnit {
                        participant,
                        kind,
                        data: &data,
                        keyframe,
                        contiguous,
                    };
                    let track = dec.video.entry(kind).or_default();
                    if decode_video(track, unit, &mut picture, &stats, &mut sinks)
                        == VideoOutcome::NeedKeyframe
                    {
                        let _ = keyframes.send(KeyframeNeeded(participant, kind));
                    }
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

/// Whether an H.264 access unit (Annex B) begins with its sequence parameter set; the encoder
/// puts it first (after an optional access unit delimiter), so only the start is looked at.
fn starts_access_unit(data: &[u8]) -> bool {
    const SPS: u8 = 7;
    let head = &data[..data.len().min(64)];
    head.windows(4)
        .any(|w| w[..3] == [0, 0, 1] && w[3] & 0x1f == SPS)
}

/// One received video access unit.
#[derive(Clone, Copy)]
struct VideoUnit<'a> {
    participant: ParticipantId,
    kind: TrackKind,
    data: &'a [u8],
    keyframe: bool,
    contiguous: bool,
}

/// Decodes one unit of a video track, or drops it while the track waits for a keyframe.
fn decode_video(
    track: &mut VideoTrack,
    unit: VideoUnit<'_>,
    picture: &mut VideoFrame,
    stats: &Mutex<StatsBook>,
    sinks: &mut [Box<dyn FrameSink>],
) -> VideoOutcome {
    let VideoUnit {
        participant,
        kind,
        data,
        keyframe,
        contiguous,
    } = unit;
    // A keyframe right after a gap is complete in itself when it starts with its parameter
    // sets (str0m only hands out frames whose packets all arrived); one that lost its first
    // packet does not, and cannot start a decoder.
    let complete_keyframe = keyframe && (contiguous || starts_access_unit(data));
    if !contiguous {
        // Something before this unit is missing: the reference chain is broken.
        track.awaiting_keyframe = true;
    }
    if complete_keyframe {
        track.awaiting_keyframe = false;
        if let Ok(mut book) = stats.lock() {
            book.remote(participant).out.keyframes_received += 1;
        }
    }
    if track.awaiting_keyframe {
        if let Ok(mut book) = stats.lock() {
            book.remote(participant).out.frames_awaiting_keyframe += 1;
        }
        return VideoOutcome::NeedKeyframe;
    }
    let decoder = match &mut track.decoder {
        Some(d) => d,
        slot @ None => match H264Decoder::new() {
            Ok(d) => slot.insert(d),
            Err(err) => {
                tracing::error!(%err, "cannot create an H.264 decoder");
                return VideoOutcome::Decoded;
            }
        },
    };
    let result = decoder.decode(data, 0, picture);
    if result.is_err() {
        // Start over from the next keyframe with a fresh decoder.
        track.decoder = None;
        track.awaiting_keyframe = true;
    }
    let Ok(mut book) = stats.lock() else {
        return VideoOutcome::Decoded;
    };
    match result {
        Ok(false) => VideoOutcome::Decoded,
        Ok(true) => {
            book.video_decoded(participant, kind, picture.height(), Instant::now());
            let remote = book.remote(participant);
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
            VideoOutcome::Decoded
        }
        Err(err) => {
            book.remote(participant).out.decode_errors += 1;
            tracing::debug!(%err, %participant, "video decode failed");
            VideoOutcome::NeedKeyframe
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_keyframe_with_its_parameter_sets_starts_a_picture_after_a_gap() {
        assert!(starts_access_unit(&[
            0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x65
        ]));
        assert!(!starts_access_unit(&[0, 0, 0, 1, 0x65, 0x88]));
        assert!(!starts_access_unit(&[]));
    }
}
