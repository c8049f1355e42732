//! Sending side: synthetic sources paced in real time and their encoders, each on its own
//! thread so that neither `thread::sleep` pacing nor encoding ever blocks the async runtime.
//!
//! Encoded units go to the network task over an unbounded tokio channel (a send never
//! blocks); the network task steers the video thread through a std channel that the thread
//! drains between frames.

use std::sync::mpsc as std_mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, UNIX_EPOCH};

use samla_media::{
    AudioFrame, AudioSource, EncodedVideo, H264Encoder, H264EncoderConfig, OpusEncoder,
    OpusEncoderConfig, Pacing, Simulcast, SimulcastLayerConfig, TestPattern, Tone, VideoFrame,
    VideoSource,
};
use tokio::sync::mpsc;

use super::layers::{self, RIDS, SCALE_DOWN};
use super::spec::{AudioInput, OpenVideo, VideoInput, VideoSpec};

/// Lowest bitrate given to one layer.
pub const MIN_LAYER_KBPS: u32 = 30;

/// One encoded unit for the network task.
#[derive(Debug)]
pub enum Encoded {
    Video {
        /// Simulcast layer index (see [`RIDS`]), `None` without simulcast.
        layer: Option<usize>,
        /// The encoder's Annex-B output, moved across threads as is.
        data: Arc<[u8]>,
        capture_us: u64,
        /// An IDR picture a decoder can start from (sent with frame marking saying so).
        keyframe: bool,
    },
    /// The screen share: one layer, never simulcast.
    Screen {
        data: Arc<[u8]>,
        capture_us: u64,
        keyframe: bool,
    },
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
    Simulcast {
        encoder: Simulcast,
        /// Which layers are on.
        enabled: [bool; 3],
        /// Each layer's nominal bitrate (kbit/s), for splitting the total.
        nominal: [u32; 3],
        /// The video bitrate last given (kbit/s): split again when the layers change.
        total: u32,
    },
    /// Boxed: OpenH264's encoder state is kilobytes inline.
    Single(Box<H264Encoder>, EncodedVideo),
}

impl VideoEncoder {
    fn new(spec: VideoSpec) -> Result<Self, samla_media::CodecError> {
        let (w, h) = spec.size();
        let fps = spec.fps();
        if layers::use_simulcast(w, h) {
            let nominal = layers::nominal_kbps(w, h, MIN_LAYER_KBPS);
            let configs: Vec<_> = SCALE_DOWN
                .iter()
                .zip(nominal)
                .map(|(&scale_down, bitrate_kbps)| SimulcastLayerConfig {
                    scale_down,
                    bitrate_kbps,
                })
                .collect();
            Ok(Self::Simulcast {
                encoder: Simulcast::new(w, h, fps, &configs)?,
                enabled: [true; 3],
                nominal,
                total: nominal.iter().sum(),
            })
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
            (
                Self::Simulcast {
                    encoder,
                    enabled,
                    nominal,
                    total,
                },
                VideoControl::Layers(on),
            ) => {
                *enabled = on;
                (0..3)
                    .try_for_each(|i| encoder.set_layer_enabled(i, on[i]))
                    .and_then(|()| split_over_layers(encoder, *total, on, *nominal))
            }
            (Self::Single(..), VideoControl::Layers(_)) => Ok(()),
            (Self::Simulcast { encoder, .. }, VideoControl::Keyframe(Some(i))) => {
                encoder.request_keyframe(i)
            }
            (Self::Simulcast { encoder, .. }, VideoControl::Keyframe(None)) => {
                (0..3).try_for_each(|i| encoder.request_keyframe(i))
            }
            (Self::Single(enc, _), VideoControl::Keyframe(_)) => {
                enc.request_keyframe();
                Ok(())
            }
            (
                Self::Simulcast {
                    encoder,
                    enabled,
                    nominal,
                    total,
                },
                VideoControl::Bitrate(kbps),
            ) => {
                *total = kbps;
                split_over_layers(encoder, kbps, *enabled, *nominal)
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
            Self::Simulcast { encoder, .. } => {
                for (layer, unit) in encoder.encode(frame)? {
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

/// Gives the enabled layers of `encoder` their share of `total_kbps`.
fn split_over_layers(
    encoder: &mut Simulcast,
    total_kbps: u32,
    enabled: [bool; 3],
    nominal: [u32; 3],
) -> Result<(), samla_media::CodecError> {
    let split = layers::split_bitrate(total_kbps, enabled, nominal, MIN_LAYER_KBPS);
    (0..3).try_for_each(|i| match split[i] {
        Some(kbps) => encoder.set_layer_bitrate(i, kbps),
        None => Ok(()),
    })
}

/// Whether a spec is sent as simulcast (the SDP must say so too).
pub fn is_simulcast(spec: VideoSpec) -> bool {
    let (w, h) = spec.size();
    layers::use_simulcast(w, h)
}

/// Starts the camera track's thread: frames from `camera` or, without it, a test pattern
/// stamped with `sender` and UNIX-epoch capture times, encoded as the spec says. It ends
/// when the control sender is dropped, the source fails or the network task is gone.
pub fn spawn_video(
    spec: VideoSpec,
    camera: Option<Arc<dyn OpenVideo>>,
    sender: u32,
    out: mpsc::UnboundedSender<Encoded>,
) -> std::io::Result<std_mpsc::Sender<VideoControl>> {
    let (control_tx, control_rx) = std_mpsc::channel();
    thread::Builder::new()
        .name(format!("samla-video-{sender}"))
        .spawn(move || {
            let VideoSpec::Synthetic { width, height, fps } = spec;
            let opened: Result<Box<dyn VideoSource + Send>, _> = match camera {
                Some(camera) => camera.open(sender),
                None => TestPattern::new(sender, width, height, fps, UNIX_EPOCH, Pacing::RealTime)
                    .map(|s| Box::new(s) as Box<dyn VideoSource + Send>),
            };
            let mut source = match opened {
                Ok(s) => s,
                Err(err) => {
                    tracing::error!(%err, "cannot start the camera track's source");
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
                    tracing::error!(%err, "camera track's source failed");
                    return;
                }
                if held {
                    continue;
                }
                // The encoders are made for the spec's size; a source that changed size
                // (a camera reopened in another mode) would make them fail on every frame.
                if (frame.width(), frame.height()) != (width, height) {
                    tracing::debug!(
                        got = ?(frame.width(), frame.height()),
                        want = ?(width, height),
                        "skipping a camera frame of the wrong size"
                    );
                    continue;
                }
                let mut closed = false;
                let result = encoder.encode(&frame, |layer, unit| {
                    closed |= out
                        .send(Encoded::Video {
                            layer,
                            data: Arc::from(unit.data.as_slice()),
                            capture_us: unit.timestamp_us,
                            keyframe: unit.is_keyframe,
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
                    keyframe: unit.is_keyframe,
                };
                if out.send(encoded).is_err() {
                    return;
                }
            }
        })?;
    Ok(control_tx)
}

/// What the network task tells the audio thread.
pub enum AudioControl {
    /// Muted (`true`): the source is still read (a microphone keeps its device queue short
    /// and the echo canceller keeps adapting) but silence is encoded; after a few frames
    /// Opus DTX makes that into packets with no audio, which are not sent. The track and
    /// the encoder stay, so unmuting is immediate and needs no new offer.
    Mute(bool),
    /// Read this source from now on (another microphone picked); the old one is dropped
    /// here, which closes its device. The track, the encoder and the mute state stay.
    Replace(Box<dyn AudioSource>),
}

/// How long dropping an [`AudioThread`] waits for its source to close: a frame, and the
/// device's own time to stop, with room to spare; a device that hangs is left to close later.
const AUDIO_CLOSE_WAIT: Duration = Duration::from_millis(500);

/// The running audio thread. Dropping it stops the thread and waits (briefly) until its
/// source is closed, so the microphone can be opened again at once: PipeWire left a capture
/// stream silent in 6 of 12 tries when the same program opened it while its old stream of
/// the microphone was still open, and an ALSA `hw:` device opens only once.
pub struct AudioThread {
    control: Option<std_mpsc::Sender<AudioControl>>,
    closed: std_mpsc::Receiver<()>,
}

impl AudioThread {
    pub fn send(&self, control: AudioControl) {
        if let Some(tx) = &self.control {
            let _ = tx.send(control);
        }
    }
}

impl Drop for AudioThread {
    fn drop(&mut self) {
        self.control = None;
        // Disconnected once the thread has dropped its source; a timeout leaves it be.
        let _ = self.closed.recv_timeout(AUDIO_CLOSE_WAIT);
    }
}

/// Starts the audio thread: frames from `input` (`sender`'s tone for a synthetic input) in
/// 20 ms Opus frames (FEC and DTX on). It ends when the [`AudioThread`] is dropped or the
/// network task is gone. A source that fails is retried every frame: a microphone that
/// recovers (a USB hiccup) carries on, one that stays lost is logged once.
pub fn spawn_audio(
    input: AudioInput,
    sender: u32,
    muted: bool,
    out: mpsc::UnboundedSender<Encoded>,
) -> std::io::Result<AudioThread> {
    let (control_tx, control_rx) = std_mpsc::channel::<AudioControl>();
    let (closed_tx, closed_rx) = std_mpsc::channel::<()>();
    thread::Builder::new()
        .name(format!("samla-audio-{sender}"))
        .spawn(move || {
            // Declared first, so dropped last: after the source, which closes the device.
            let _closed = closed_tx;
            let mut source: Box<dyn AudioSource> = match input {
                AudioInput::Synthetic => {
                    Box::new(Tone::for_sender(sender, UNIX_EPOCH, Pacing::RealTime))
                }
                AudioInput::Source(source) => source,
            };
            let mut encoder = match OpusEncoder::new(OpusEncoderConfig::default()) {
                Ok(e) => e,
                Err(err) => {
                    tracing::error!(%err, "cannot start the Opus encoder");
                    return;
                }
            };
            let mut frame = AudioFrame::silent();
            let mut packet = Vec::with_capacity(1275);
            let mut muted = muted;
            let mut failing = false;
            loop {
                loop {
                    match control_rx.try_recv() {
                        Ok(AudioControl::Mute(m)) => muted = m,
                        Ok(AudioControl::Replace(next)) => {
                            source = next;
                            failing = false;
                        }
                        Err(std_mpsc::TryRecvError::Empty) => break,
                        Err(std_mpsc::TryRecvError::Disconnected) => return,
                    }
                }
                match source.next_frame(&mut frame) {
                    Ok(()) if failing => {
                        tracing::info!("audio source works again");
                        failing = false;
                    }
                    Ok(()) => {}
                    Err(err) => {
                        if !failing {
                            tracing::error!(%err, "audio source failed");
                            failing = true;
                        }
                        // Not a busy loop on a source that fails at once.
                        thread::sleep(Duration::from_micros(AudioFrame::DURATION_US));
                        continue;
                    }
                }
                if muted {
                    frame.samples.fill(0);
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
    Ok(AudioThread {
        control: Some(control_tx),
        closed: closed_rx,
    })
}

/// The rid string of a layer index.
pub fn rid_of(layer: usize) -> &'static str {
    RIDS[layer.min(RIDS.len() - 1)]
}

#[cfg(test)]
pub(super) mod tests {
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

    /// Opens test patterns of a given size, recording who asked.
    struct Patterns {
        size: (u32, u32),
        senders: std::sync::Mutex<Vec<u32>>,
    }

    impl OpenVideo for Patterns {
        fn open(
            &self,
            sender: u32,
        ) -> Result<Box<dyn VideoSource + Send>, samla_media::CaptureError> {
            self.senders.lock().unwrap().push(sender);
            let (w, h) = self.size;
            Ok(Box::new(TestPattern::new(
                sender,
                w,
                h,
                30.0,
                UNIX_EPOCH,
                Pacing::Unpaced,
            )?))
        }
    }

    /// Who opened the camera, and how many units the camera thread encoded (up to 5) within
    /// `within`.
    fn video_units(size: (u32, u32), within: std::time::Duration) -> (Vec<u32>, usize) {
        let spec = VideoSpec::Synthetic {
            width: 320,
            height: 180,
            fps: 30.0,
        };
        let camera = Arc::new(Patterns {
            size,
            senders: std::sync::Mutex::default(),
        });
        let (tx, mut rx) = mpsc::unbounded_channel();
        let ctrl = spawn_video(spec, Some(camera.clone()), 5, tx).unwrap();
        // An unpaced source makes frames as fast as they are encoded.
        let mut units = 0;
        let until = std::time::Instant::now() + within;
        while units < 5 && std::time::Instant::now() < until {
            match rx.try_recv() {
                Ok(Encoded::Video { .. }) => units += 1,
                Ok(_) => {}
                Err(_) => thread::sleep(std::time::Duration::from_millis(10)),
            }
        }
        drop(ctrl);
        let senders = camera.senders.lock().unwrap().clone();
        (senders, units)
    }

    #[test]
    fn the_camera_track_encodes_the_source_it_is_given() {
        let (senders, units) = video_units((320, 180), std::time::Duration::from_secs(30));
        assert_eq!(senders, vec![5]);
        assert!(units >= 5, "{units} units encoded");
    }

    #[test]
    fn frames_of_another_size_than_the_track_are_not_encoded() {
        // Dozens of frames are made and skipped in this time.
        let (senders, units) = video_units((640, 360), std::time::Duration::from_secs(1));
        assert_eq!(senders, vec![5]);
        assert_eq!(units, 0);
    }

    /// A tone as fast as it is read, counting the frames read.
    struct CountedTone(Tone, Arc<std::sync::atomic::AtomicU64>);

    impl AudioSource for CountedTone {
        fn next_frame(&mut self, out: &mut AudioFrame) -> Result<(), samla_media::CaptureError> {
            self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.0.next_frame(out)
        }
    }

    /// A microphone that takes a whole frame to deliver, and says when it is closed.
    pub(in crate::media) struct SlowMicrophone(pub Arc<std::sync::atomic::AtomicBool>);

    impl AudioSource for SlowMicrophone {
        fn next_frame(&mut self, out: &mut AudioFrame) -> Result<(), samla_media::CaptureError> {
            thread::sleep(Duration::from_millis(50));
            out.samples.fill(100);
            Ok(())
        }
    }

    impl Drop for SlowMicrophone {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn stopping_the_audio_thread_returns_once_the_microphone_is_closed() {
        let closed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (tx, _rx) = mpsc::unbounded_channel();
        let input = AudioInput::Source(Box::new(SlowMicrophone(closed.clone())));
        let thread = spawn_audio(input, 3, false, tx).unwrap();
        thread::sleep(Duration::from_millis(20));
        drop(thread);
        assert!(closed.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[test]
    fn a_muted_source_is_still_read_but_nothing_audible_is_sent() {
        use std::sync::atomic::Ordering;
        let read = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let tone = Tone::new(440.0, 0.5, UNIX_EPOCH, Pacing::Unpaced);
        let input = AudioInput::Source(Box::new(CountedTone(tone, read.clone())));
        let (tx, mut rx) = mpsc::unbounded_channel();
        let ctrl = spawn_audio(input, 3, false, tx).unwrap();
        let next_level = |rx: &mut mpsc::UnboundedReceiver<Encoded>| loop {
            match rx.try_recv() {
                Ok(Encoded::Audio { level, .. }) => return Some(level),
                Ok(_) => {}
                Err(mpsc::error::TryRecvError::Empty) => thread::yield_now(),
                Err(mpsc::error::TryRecvError::Disconnected) => return None,
            }
        };
        assert!(next_level(&mut rx).is_some_and(|l| l >= VOICE_LEVEL_DBOV));

        ctrl.send(AudioControl::Mute(true));
        // Units encoded before the mute arrived still sound; the first silent one shows it
        // took effect (within a few frames: the thread reads its controls every frame).
        let muted_at = read.load(Ordering::SeqCst);
        loop {
            match rx.try_recv() {
                Ok(Encoded::Audio { level: -127, .. }) => break,
                Ok(_) => {}
                Err(_) => thread::yield_now(),
            }
            assert!(
                read.load(Ordering::SeqCst) < muted_at + 1000,
                "no silent unit within 1000 frames of the mute"
            );
        }
        // From then on: 200 frames read, and Opus DTX sends only a few of them.
        let from = read.load(Ordering::SeqCst);
        while read.load(Ordering::SeqCst) < from + 200 {
            thread::yield_now();
        }
        let mut sent = Vec::new();
        while let Ok(unit) = rx.try_recv() {
            if let Encoded::Audio { level, .. } = unit {
                sent.push(level);
            }
        }
        assert!(sent.iter().all(|&l| l == -127), "while muted: {sent:?}");
        assert!(sent.len() < 50, "{} of 200 muted frames sent", sent.len());

        ctrl.send(AudioControl::Mute(false));
        let level = next_level(&mut rx);
        assert!(level.is_some(), "the thread goes on after unmuting");
        drop(ctrl);
    }
}
