//! Sending side: synthetic sources paced in real time and their encoders, each on its own
//! thread so that neither `thread::sleep` pacing nor encoding ever blocks the async runtime.
//!
//! Encoded units go to the network task over an unbounded tokio channel (a send never
//! blocks); the network task steers the video thread through a std channel that the thread
//! drains between frames.

use std::sync::mpsc as std_mpsc;
use std::sync::Arc;
use std::thread;
use std::time::UNIX_EPOCH;

use samla_media::{
    AudioFrame, AudioSource, EncodedVideo, H264Encoder, H264EncoderConfig, OpusEncoder,
    OpusEncoderConfig, Pacing, Simulcast, SimulcastLayerConfig, TestPattern, Tone, VideoFrame,
    VideoSource,
};
use tokio::sync::mpsc;

use super::layers::{self, RIDS, SCALE_DOWN};
use super::spec::{VideoInput, VideoSpec};

/// Lowest bitrate given to one layer.
pub const MIN_LAYER_KBPS: u32 = 30;

/// One encoded unit for the network task.
#[derive(Debug)]
pub enum Encoded {
    Video {
        /// Simulcast layer index (see [`RIDS`]), `None` without simulcast.
        layer: Option<usize>,
        /// Shared rather than owned: str0m's writer takes an `Arc<[u8]>`, so this is the
        /// only copy of the encoder's output.
        data: Arc<[u8]>,
        capture_us: u64,
    },
    /// The screen share: one layer, never simulcast.
    Screen { data: Arc<[u8]>, capture_us: u64 },
    Audio {
        data: Arc<[u8]>,
        capture_us: u64,
        /// Level in -dBov (0 loudest, -127 silence) for the RFC 6464 header extension,
        /// from which the SFU picks the active speaker.
        level: i8,
    },
}

/// Voice activity threshold in dBov, as in WebRTC's default.
pub const VOICE_LEVEL_DBOV: i8 = -50;

/// The RFC 6464 level of a frame: its RMS in dBov, clamped to -127..=0.
pub fn audio_level(samples: &[i16]) -> i8 {
    if samples.is_empty() {
        return -127;
    }
    let energy: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    let rms = (energy / samples.len() as f64).sqrt() / 32768.0;
    if rms <= 0.0 {
        return -127;
    }
    (20.0 * rms.log10()).round().clamp(-127.0, 0.0) as i8
}

/// What the network task tells the video thread.
#[derive(Debug, Clone)]
pub enum VideoControl {
    /// Encode only these layers (from `media_layers`).
    Layers([bool; 3]),
    /// A receiver lost the picture: keyframe on this layer (or all layers for `None`).
    Keyframe(Option<usize>),
    /// Total video bitrate from the bandwidth estimate.
    Bitrate(u32),
    /// The send queue is backed up (`true`): encode no frames until it is released. Frames
    /// are skipped before encoding, so every encoded frame still builds on the one before; a
    /// keyframe asked for meanwhile comes with the first frame after.
    Hold(bool),
}

/// Either a simulcast set or one encoder, behind one interface.
enum VideoEncoder {
    Simulcast(Simulcast, [bool; 3]),
    /// Boxed: OpenH264's encoder state is kilobytes inline.
    Single(Box<H264Encoder>, EncodedVideo),
}

impl VideoEncoder {
    fn new(spec: VideoSpec) -> Result<Self, samla_media::CodecError> {
        let (w, h) = spec.size();
        let fps = spec.fps();
        if layers::use_simulcast(w, h) {
            let configs: Vec<_> = SCALE_DOWN
                .iter()
                .zip(layers::nominal_kbps(w, h, MIN_LAYER_KBPS))
                .map(|(&scale_down, bitrate_kbps)| SimulcastLayerConfig {
                    scale_down,
                    bitrate_kbps,
                })
                .collect();
            Ok(Self::Simulcast(
                Simulcast::new(w, h, fps, &configs)?,
                [true; 3],
            ))
        } else {
            let kbps = ((f64::from(w) * f64::from(h) / (1280.0 * 720.0) * 1500.0) as u32).max(100);
            Ok(Self::Single(
                Box::new(H264Encoder::new(H264EncoderConfig::new(w, h, kbps, fps))?),
                EncodedVideo::default(),
            ))
        }
    }

    fn control(&mut self, control: VideoControl) {
        let result = match (self, control) {
            (Self::Simulcast(sc, enabled), VideoControl::Layers(on)) => {
                *enabled = on;
                (0..3).try_for_each(|i| sc.set_layer_enabled(i, on[i]))
            }
            (Self::Single(..), VideoControl::Layers(_)) => Ok(()),
            (Self::Simulcast(sc, _), VideoControl::Keyframe(Some(i))) => sc.request_keyframe(i),
            (Self::Simulcast(sc, _), VideoControl::Keyframe(None)) => {
                (0..3).try_for_each(|i| sc.request_keyframe(i))
            }
            (Self::Single(enc, _), VideoControl::Keyframe(_)) => {
                enc.request_keyframe();
                Ok(())
            }
            (Self::Simulcast(sc, enabled), VideoControl::Bitrate(total)) => {
                let split = layers::split_bitrate(total, *enabled, MIN_LAYER_KBPS);
                (0..3).try_for_each(|i| match split[i] {
                    Some(kbps) => sc.set_layer_bitrate(i, kbps),
                    None => Ok(()),
                })
            }
            (Self::Single(enc, _), VideoControl::Bitrate(total)) => {
                enc.set_bitrate(total.max(MIN_LAYER_KBPS))
            }
            // The video thread keeps this state itself.
            (_, VideoControl::Hold(_)) => Ok(()),
        };
        if let Err(err) = result {
            tracing::debug!(%err, "video encoder setting refused");
        }
    }

    /// Encodes `frame` and hands every produced unit to `emit`.
    fn encode(
        &mut self,
        frame: &VideoFrame,
        mut emit: impl FnMut(Option<usize>, &EncodedVideo),
    ) -> Result<(), samla_media::CodecError> {
        match self {
            Self::Simulcast(sc, _) => {
                for (layer, unit) in sc.encode(frame)? {
                    emit(Some(layer), unit);
                }
            }
            Self::Single(enc, out) => {
                if enc.encode(frame, out)? {
                    emit(None, out);
                }
            }
        }
        Ok(())
    }
}

/// Whether a spec is sent as simulcast (the SDP must say so too).
pub fn is_simulcast(spec: VideoSpec) -> bool {
    let (w, h) = spec.size();
    layers::use_simulcast(w, h)
}

/// Starts the video thread: a test pattern stamped with `sender` and UNIX-epoch capture
/// times, encoded as the spec says. It ends when the control sender is dropped or the
/// network task is gone.
pub fn spawn_video(
    spec: VideoSpec,
    sender: u32,
    out: mpsc::UnboundedSender<Encoded>,
) -> std::io::Result<std_mpsc::Sender<VideoControl>> {
    let (control_tx, control_rx) = std_mpsc::channel();
    thread::Builder::new()
        .name(format!("samla-video-{sender}"))
        .spawn(move || {
            let VideoSpec::Synthetic { width, height, fps } = spec;
            let mut source =
                match TestPattern::new(sender, width, height, fps, UNIX_EPOCH, Pacing::RealTime) {
                    Ok(s) => s,
                    Err(err) => {
                        tracing::error!(%err, "cannot start the test pattern");
                        return;
                    }
                };
            let mut encoder = match VideoEncoder::new(spec) {
                Ok(e) => e,
                Err(err) => {
                    tracing::error!(%err, "cannot start the video encoder");
                    return;
                }
            };
            let mut frame = VideoFrame::new(width, height);
            let mut held = false;
            loop {
                loop {
                    match control_rx.try_recv() {
                        Ok(VideoControl::Hold(h)) => held = h,
                        Ok(c) => encoder.control(c),
                        Err(std_mpsc::TryRecvError::Empty) => break,
                        Err(std_mpsc::TryRecvError::Disconnected) => return,
                    }
                }
                if let Err(err) = source.next_frame(&mut frame) {
                    tracing::error!(%err, "test pattern failed");
                    return;
                }
                if held {
                    continue;
                }
                let mut closed = false;
                let result = encoder.encode(&frame, |layer, unit| {
                    closed |= out
                        .send(Encoded::Video {
                            layer,
                            data: Arc::from(unit.data.as_slice()),
                            capture_us: unit.timestamp_us,
                        })
                        .is_err();
                });
                if let Err(err) = result {
                    tracing::warn!(%err, "video encode failed");
                }
                if closed {
                    return;
                }
            }
        })?;
    Ok(control_tx)
}

/// Starts the screen-share thread: frames from `input`, encoded as one layer at a bitrate
/// for its size (screen content is mostly still, so the estimate is not followed). When the
/// source changes size (a resized window, a new screen mode) the encoder is made anew. It
/// ends when the control sender is dropped, the source fails or the network task is gone.
pub fn spawn_screen(
    input: VideoInput,
    sender: u32,
    out: mpsc::UnboundedSender<Encoded>,
) -> std::io::Result<std_mpsc::Sender<VideoControl>> {
    let (control_tx, control_rx) = std_mpsc::channel();
    thread::Builder::new()
        .name(format!("samla-screen-{sender}"))
        .spawn(move || {
            let mut source: Box<dyn VideoSource + Send> = match input {
                VideoInput::Source(source) => source,
                VideoInput::Synthetic(VideoSpec::Synthetic { width, height, fps }) => {
                    match TestPattern::new(sender, width, height, fps, UNIX_EPOCH, Pacing::RealTime)
                    {
                        Ok(s) => Box::new(s),
                        Err(err) => {
                            tracing::error!(%err, "cannot start the test pattern");
                            return;
                        }
                    }
                }
            };
            let format = source.format();
            let mut frame = VideoFrame::new(format.width, format.height);
            let mut encoder: Option<(Box<H264Encoder>, (u32, u32))> = None;
            let mut unit = EncodedVideo::default();
            let mut held = false;
            let mut keyframe = false;
            loop {
                loop {
                    match control_rx.try_recv() {
                        Ok(VideoControl::Hold(h)) => held = h,
                        Ok(VideoControl::Keyframe(_)) => keyframe = true,
                        Ok(VideoControl::Layers(_) | VideoControl::Bitrate(_)) => {}
                        Err(std_mpsc::TryRecvError::Empty) => break,
                        Err(std_mpsc::TryRecvError::Disconnected) => return,
                    }
                }
                if let Err(err) = source.next_frame(&mut frame) {
                    tracing::error!(%err, "screen capture failed");
                    return;
                }
                if held {
                    continue;
                }
                let size = (frame.width(), frame.height());
                if encoder.as_ref().map(|(_, s)| *s) != Some(size) {
                    let (w, h) = size;
                    let kbps =
                        ((f64::from(w) * f64::from(h) / (1280.0 * 720.0) * 1200.0) as u32).max(100);
                    let config = H264EncoderConfig::new(w, h, kbps, format.fps);
                    match H264Encoder::new(config) {
                        Ok(e) => encoder = Some((Box::new(e), size)),
                        Err(err) => {
                            tracing::error!(%err, w, h, "cannot start the screen encoder");
                            return;
                        }
                    }
                }
                let Some((enc, _)) = encoder.as_mut() else {
                    return;
                };
                if std::mem::take(&mut keyframe) {
                    enc.request_keyframe();
                }
                match enc.encode(&frame, &mut unit) {
                    Ok(false) => continue,
                    Ok(true) => {}
                    Err(err) => {
                        tracing::warn!(%err, "screen encode failed");
                        continue;
                    }
                }
                let encoded = Encoded::Screen {
                    data: Arc::from(unit.data.as_slice()),
                    capture_us: unit.timestamp_us,
                };
                if out.send(encoded).is_err() {
                    return;
                }
            }
        })?;
    Ok(control_tx)
}

/// Starts the audio thread: `sender`'s tone in 20 ms Opus frames (FEC and DTX on). It ends
/// when `stop` is dropped or the network task is gone.
pub fn spawn_audio(
    sender: u32,
    out: mpsc::UnboundedSender<Encoded>,
) -> std::io::Result<std_mpsc::Sender<()>> {
    let (stop_tx, stop_rx) = std_mpsc::channel::<()>();
    thread::Builder::new()
        .name(format!("samla-audio-{sender}"))
        .spawn(move || {
            let mut tone = Tone::for_sender(sender, UNIX_EPOCH, Pacing::RealTime);
            let mut encoder = match OpusEncoder::new(OpusEncoderConfig::default()) {
                Ok(e) => e,
                Err(err) => {
                    tracing::error!(%err, "cannot start the Opus encoder");
                    return;
                }
            };
            let mut frame = AudioFrame::silent();
            let mut packet = Vec::with_capacity(1275);
            while let Err(std_mpsc::TryRecvError::Empty) = stop_rx.try_recv() {
                if let Err(err) = tone.next_frame(&mut frame) {
                    tracing::error!(%err, "tone failed");
                    return;
                }
                match encoder.encode(&frame, &mut packet) {
                    // DTX: silence need not be sent.
                    Ok(false) => continue,
                    Ok(true) => {}
                    Err(err) => {
                        tracing::warn!(%err, "audio encode failed");
                        continue;
                    }
                }
                let unit = Encoded::Audio {
                    data: Arc::from(packet.as_slice()),
                    capture_us: frame.timestamp_us,
                    level: audio_level(&frame.samples),
                };
                if out.send(unit).is_err() {
                    return;
                }
            }
        })?;
    Ok(stop_tx)
}

/// The rid string of a layer index.
pub fn rid_of(layer: usize) -> &'static str {
    RIDS[layer.min(RIDS.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_levels_in_dbov() {
        assert_eq!(audio_level(&[0; 960]), -127);
        assert_eq!(audio_level(&[]), -127);
        assert_eq!(audio_level(&[i16::MIN; 960]), 0);
        // A half-scale sine has an RMS of 0.5 / sqrt(2): about -9 dBov.
        let sine: Vec<i16> = (0..960)
            .map(|i| ((i as f64 * 0.1).sin() * 16384.0) as i16)
            .collect();
        assert_eq!(audio_level(&sine), -9);
    }
}
