//! Echo cancellation, noise suppression and gain control for the
//! microphone path.
//!
//! This wraps sonora, a pure-Rust port of the WebRTC audio processing module
//! (AEC3, the WebRTC noise suppressor, AGC2 and the high-pass filter). The
//! C++ module's Rust binding was tried first: its bundled build needs meson,
//! ninja and a C++ toolchain, and meson then downloads abseil-cpp 20240722
//! (Debian 12 ships 20220623), so it cannot build offline or in CI here.
//! BENCHMARKS.md has the ERLE and double-talk figures.
//!
//! The echo canceller has to see what the speakers play (the *render* or
//! far-end signal) as well as what the microphone hears (the *capture*
//! signal). [`MicProcessor`] takes both; [`ProcessedSource`] and
//! [`ReferencedSink`] wire it between a microphone and speakers that run on
//! different threads:
//!
//! ```no_run
//! use std::sync::{Arc, Mutex};
//! use std::time::UNIX_EPOCH;
//!
//! use samla_media::{
//!     AudioFrame, AudioSink, AudioSource, MicProcessor, Microphone, ProcessedSource,
//!     ProcessingConfig, ReferencedSink, Speaker,
//! };
//!
//! # fn main() -> Result<(), samla_media::CaptureError> {
//! let processor = Arc::new(Mutex::new(MicProcessor::new(ProcessingConfig::default())));
//! // Playback and capture buffers of ~20 ms each.
//! processor.lock().unwrap().set_delay_ms(40);
//! let mut mic = ProcessedSource::new(Microphone::open(None, UNIX_EPOCH)?, processor.clone());
//! let mut speakers = ReferencedSink::new(Speaker::open(None)?, processor);
//!
//! let mut frame = AudioFrame::silent();
//! mic.next_frame(&mut frame)?; // echo-cancelled, ready for the Opus encoder
//! speakers.play(&AudioFrame::silent())?; // a decoded remote frame
//! # Ok(())
//! # }
//! ```

use std::sync::{Arc, Mutex, MutexGuard};
#[cfg(feature = "devices")]
use std::time::SystemTime;

use sonora::config::{EchoCanceller, GainController2, HighPassFilter, NoiseSuppression};
use sonora::{AudioProcessing, Config, StreamConfig};
use thiserror::Error;

use crate::capture::{AudioSink, AudioSource, CaptureError};
#[cfg(feature = "devices")]
use crate::capture::{Microphone, Speaker};
use crate::frame::{AudioFrame, AUDIO_FRAME_SAMPLES, AUDIO_SAMPLE_RATE};

/// The module works on 10 ms chunks; an [`AudioFrame`] is two of them.
const CHUNK: usize = AUDIO_FRAME_SAMPLES / 2;

/// Which parts of the processing run. All on is what a call wants; tests
/// and diagnostics turn parts off to measure them alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessingConfig {
    /// Remove the far end's voice that the microphone picks up from the speakers.
    pub echo_cancellation: bool,
    /// Suppress steady background noise (fans, hum, traffic).
    pub noise_suppression: bool,
    /// Bring quiet and loud talkers to a common level.
    pub gain_control: bool,
}

impl Default for ProcessingConfig {
    fn default() -> Self {
        Self {
            echo_cancellation: true,
            noise_suppression: true,
            gain_control: true,
        }
    }
}

/// A processing call failed; the frame is passed on unprocessed.
#[derive(Debug, Error)]
#[error("audio processing failed: {0}")]
pub struct ProcessingError(String);

/// What the echo canceller reports about itself.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProcessingStats {
    /// Echo return loss enhancement the canceller estimates, in dB.
    pub erle_db: Option<f64>,
    /// The echo path delay it has found, in milliseconds.
    pub delay_ms: Option<i32>,
}

/// The audio processing module for one microphone.
pub struct MicProcessor {
    apm: AudioProcessing,
    chunk: [i16; CHUNK],
    render_out: [i16; CHUNK],
}

impl std::fmt::Debug for MicProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MicProcessor").finish_non_exhaustive()
    }
}

impl MicProcessor {
    /// A processor for 48 kHz mono audio with the given parts enabled.
    pub fn new(config: ProcessingConfig) -> Self {
        let apm_config = Config {
            high_pass_filter: Some(HighPassFilter::default()),
            echo_canceller: config.echo_cancellation.then(EchoCanceller::default),
            noise_suppression: config.noise_suppression.then(NoiseSuppression::default),
            gain_controller2: config.gain_control.then(|| GainController2 {
                adaptive_digital: Some(Default::default()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let stream = StreamConfig::new(AUDIO_SAMPLE_RATE, 1);
        let apm = AudioProcessing::builder()
            .config(apm_config)
            .capture_config(stream)
            .render_config(stream)
            .build();
        Self {
            apm,
            chunk: [0; CHUNK],
            render_out: [0; CHUNK],
        }
    }

    /// Tells the canceller roughly how long sound takes from
    /// [`MicProcessor::process_render`] to the speaker plus from the
    /// microphone to [`MicProcessor::process_capture`]: the sum of the
    /// playback and capture buffer latencies. AEC3 searches around it, so a
    /// rough figure is enough. Values beyond 0-500 ms are clamped.
    pub fn set_delay_ms(&mut self, delay_ms: u32) {
        // Clamping is reported as an error but processing goes on with the
        // clamped value, which is what we want.
        let _ = self
            .apm
            .set_stream_delay_ms(i32::try_from(delay_ms).unwrap_or(i32::MAX));
    }

    /// Feeds what is about to be played (the far end). Call it for every
    /// frame handed to the speakers, before or as it is played.
    pub fn process_render(&mut self, frame: &AudioFrame) -> Result<(), ProcessingError> {
        for half in frame.samples.chunks_exact(CHUNK) {
            self.apm
                .process_render_i16(half, &mut self.render_out)
                .map_err(|e| ProcessingError(e.to_string()))?;
        }
        Ok(())
    }

    /// Cleans a microphone frame in place: echo removed, noise suppressed,
    /// level adjusted.
    pub fn process_capture(&mut self, frame: &mut AudioFrame) -> Result<(), ProcessingError> {
        for half in frame.samples.chunks_exact_mut(CHUNK) {
            self.chunk.copy_from_slice(half);
            self.apm
                .process_capture_i16(&self.chunk, half)
                .map_err(|e| ProcessingError(e.to_string()))?;
        }
        Ok(())
    }

    /// The canceller's own view of how it is doing.
    pub fn stats(&self) -> ProcessingStats {
        let stats = self.apm.statistics();
        ProcessingStats {
            erle_db: stats.echo_return_loss_enhancement,
            delay_ms: stats.delay_ms,
        }
    }
}

/// One processor shared by the capture and the playback side.
pub type SharedProcessor = Arc<Mutex<MicProcessor>>;

fn lock(shared: &SharedProcessor) -> MutexGuard<'_, MicProcessor> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// A microphone whose frames come out processed.
#[derive(Debug)]
pub struct ProcessedSource<S> {
    source: S,
    processor: SharedProcessor,
}

impl<S: AudioSource> ProcessedSource<S> {
    /// Processes every frame `source` delivers with `processor`.
    pub fn new(source: S, processor: SharedProcessor) -> Self {
        Self { source, processor }
    }

    /// The source before processing (a microphone, for its level meter).
    pub fn source(&self) -> &S {
        &self.source
    }
}

impl<S: AudioSource> AudioSource for ProcessedSource<S> {
    fn next_frame(&mut self, out: &mut AudioFrame) -> Result<(), CaptureError> {
        self.source.next_frame(out)?;
        // A processing failure must not silence the user: send it raw.
        let _ = lock(&self.processor).process_capture(out);
        Ok(())
    }
}

/// Speakers that also show the echo canceller what they play.
#[derive(Debug)]
pub struct ReferencedSink<S> {
    sink: S,
    processor: SharedProcessor,
}

impl<S: AudioSink> ReferencedSink<S> {
    /// Feeds every frame played on `sink` to `processor` as the far end.
    pub fn new(sink: S, processor: SharedProcessor) -> Self {
        Self { sink, processor }
    }
}

impl<S: AudioSink> AudioSink for ReferencedSink<S> {
    fn play(&mut self, frame: &AudioFrame) -> Result<(), CaptureError> {
        let _ = lock(&self.processor).process_render(frame);
        self.sink.play(frame)
    }

    fn queued(&self) -> Option<std::time::Duration> {
        self.sink.queued()
    }
}

/// The echo path delay a call starts from: the speaker's queue (the engine keeps about
/// 40 ms in it) and the microphone's, plus a device period each way. AEC3 finds the real
/// delay itself; this only centres its first search.
#[cfg(feature = "devices")]
const CALL_DELAY_MS: u32 = 80;

/// Opens a call's microphone and speaker around one shared processor, so that the echo
/// canceller sees what the speaker plays. Each device is opened on its own: a machine with
/// only one of them still gets that one, a microphone the user left off is never opened,
/// and each error says which device is missing and why.
#[cfg(feature = "devices")]
#[derive(Debug, Clone)]
pub struct CallAudio {
    processor: SharedProcessor,
}

#[cfg(feature = "devices")]
impl Default for CallAudio {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "devices")]
impl CallAudio {
    /// A processor with everything on, its delay set for the engine's playout.
    pub fn new() -> Self {
        let mut apm = MicProcessor::new(ProcessingConfig::default());
        apm.set_delay_ms(CALL_DELAY_MS);
        Self {
            processor: Arc::new(Mutex::new(apm)),
        }
    }

    /// Opens `device` (an id from [`crate::list_devices`] or a name; `None` for the
    /// default) with its frames echo-cancelled, noise-suppressed and level-controlled. It
    /// stamps capture times from `epoch`.
    pub fn microphone(
        &self,
        device: Option<&str>,
        epoch: SystemTime,
    ) -> Result<ProcessedSource<Microphone>, CaptureError> {
        Microphone::open(device, epoch).map(|mic| ProcessedSource::new(mic, self.processor.clone()))
    }

    /// Opens `device` (as for the microphone) as the far end the echo canceller removes.
    pub fn speaker(&self, device: Option<&str>) -> Result<ReferencedSink<Speaker>, CaptureError> {
        Speaker::open(device).map(|out| ReferencedSink::new(out, self.processor.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_stays_silent() {
        let mut apm = MicProcessor::new(ProcessingConfig::default());
        apm.set_delay_ms(40);
        let mut frame = AudioFrame::silent();
        for _ in 0..50 {
            apm.process_render(&AudioFrame::silent()).unwrap();
            apm.process_capture(&mut frame).unwrap();
        }
        assert!(frame.samples.iter().all(|&s| s.abs() < 8));
    }
}
