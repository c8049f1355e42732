//! Microphone and speakers through cpal (the sound server or ALSA on Linux, see
//! [`super::sound_server`]; WASAPI on Windows, CoreAudio on macOS).
//!
//! The device's callback thread and the engine meet in a bounded sample ring
//! guarded by a mutex: the callback holds the lock only to copy one buffer,
//! which is short enough for a 10-20 ms device period and keeps the code free
//! of `unsafe`. Both directions run at 48 kHz (the Opus rate) so no resampler
//! sits in the path; a device that cannot do 48 kHz is reported as an
//! unsupported format. Channels are mixed down to mono on capture and the mono
//! signal is copied to every channel on playback.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{ErrorKind, SampleFormat, StreamConfig};

use crate::frame::{AudioFrame, AUDIO_FRAME_SAMPLES, AUDIO_SAMPLE_RATE};

use super::sound_server;
use super::{micros_since, AudioSink, AudioSource, CaptureError, DeviceInfo, DeviceKind};

/// Most audio a ring holds: beyond this the oldest samples are dropped so a
/// stalled reader (or writer) cannot build up latency.
const MIC_RING_SAMPLES: usize = AUDIO_SAMPLE_RATE as usize / 2;
const SPEAKER_RING_SAMPLES: usize = AUDIO_SAMPLE_RATE as usize / 5;

/// How long the microphone may stay silent before it counts as lost.
const MIC_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct Ring {
    samples: VecDeque<i16>,
    failed: Option<CaptureError>,
}

type Shared = Arc<(Mutex<Ring>, Condvar)>;

fn lock(shared: &Shared) -> MutexGuard<'_, Ring> {
    shared.0.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a stream does with an error from cpal: glitches (an xrun, a default device that
/// changed, no realtime priority) pass; anything else marks the device lost, which the next
/// read or play reports (a reader waiting for samples is woken to see it).
fn on_stream_error(
    kind: DeviceKind,
    name: String,
    shared: Shared,
) -> impl FnMut(cpal::Error) + Send + 'static {
    move |e: cpal::Error| {
        if matches!(
            e.kind(),
            ErrorKind::Xrun | ErrorKind::DeviceChanged | ErrorKind::RealtimeDenied
        ) {
            return;
        }
        lock(&shared).failed = Some(CaptureError::DeviceLost {
            kind,
            name: name.clone(),
            reason: e.to_string(),
        });
        shared.1.notify_one();
    }
}

fn new_shared(capacity: usize) -> Shared {
    Arc::new((
        Mutex::new(Ring {
            samples: VecDeque::with_capacity(capacity),
            failed: None,
        }),
        Condvar::new(),
    ))
}

/// Devices nobody picks on purpose, which the pickers leave out: ALSA's `null` (it discards
/// what is played and records silence; every Linux system lists it), and a sound server's
/// monitors of its outputs (they record what the speakers play, not a voice).
fn is_pickable(id: &str) -> bool {
    id != "alsa:null" && !(id.starts_with("pulseaudio:") && id.ends_with(".monitor"))
}

/// Devices of `kind` (microphones or speakers) on the default host.
pub(super) fn list(kind: DeviceKind) -> Result<Vec<DeviceInfo>, CaptureError> {
    let host = sound_server::host();
    let (devices, default) = if kind == DeviceKind::Microphone {
        (host.input_devices(), host.default_input_device())
    } else {
        (host.output_devices(), host.default_output_device())
    };
    let devices = devices.map_err(|e| cpal_error(kind, "audio system", &e))?;
    let default_id = default.and_then(|d| d.id().ok());
    Ok(devices
        .filter_map(|device| {
            let id = device.id().ok()?;
            if !is_pickable(&id.to_string()) {
                return None;
            }
            let name = device
                .description()
                .map_or_else(|_| id.to_string(), |d| d.name().to_owned());
            Some(DeviceInfo {
                kind,
                is_default: default_id.as_ref() == Some(&id),
                id: id.to_string(),
                name,
            })
        })
        .collect())
}

/// Finds `wanted` (an id from [`list`] or a device name) or the default.
fn find_device(kind: DeviceKind, wanted: Option<&str>) -> Result<cpal::Device, CaptureError> {
    let host = sound_server::host();
    let not_found = || CaptureError::DeviceNotFound {
        kind,
        requested: wanted.map(str::to_owned),
    };
    let Some(wanted) = wanted else {
        let default = if kind == DeviceKind::Microphone {
            host.default_input_device()
        } else {
            host.default_output_device()
        };
        return default.ok_or_else(not_found);
    };
    let devices = if kind == DeviceKind::Microphone {
        host.input_devices()
    } else {
        host.output_devices()
    }
    .map_err(|e| cpal_error(kind, "audio system", &e))?;
    let mut devices = devices;
    devices
        .find(|d| {
            d.id().is_ok_and(|id| id.to_string() == wanted)
                || d.description().is_ok_and(|desc| desc.name() == wanted)
        })
        .ok_or_else(not_found)
}

fn device_name(device: &cpal::Device) -> String {
    device
        .description()
        .map(|d| d.name().to_owned())
        .or_else(|_| device.id().map(|id| id.to_string()))
        .unwrap_or_else(|_| "unnamed device".into())
}

/// Picks a 48 kHz configuration in a sample format we handle.
fn pick_config(
    kind: DeviceKind,
    name: &str,
    configs: Result<impl Iterator<Item = cpal::SupportedStreamConfigRange>, cpal::Error>,
) -> Result<(StreamConfig, SampleFormat), CaptureError> {
    let configs: Vec<_> = configs.map_err(|e| cpal_error(kind, name, &e))?.collect();
    let rank = |f: SampleFormat| match f {
        SampleFormat::F32 => Some(0),
        SampleFormat::I16 => Some(1),
        _ => None,
    };
    let best = configs
        .iter()
        .filter(|c| rank(c.sample_format()).is_some())
        .filter(|c| (c.min_sample_rate()..=c.max_sample_rate()).contains(&AUDIO_SAMPLE_RATE))
        .min_by_key(|c| (rank(c.sample_format()), c.channels()));
    match best {
        Some(range) => {
            let supported = (*range).with_sample_rate(AUDIO_SAMPLE_RATE);
            Ok((supported.config(), supported.sample_format()))
        }
        None => Err(CaptureError::UnsupportedFormat(format!(
            "{kind} {name:?} offers no 48 kHz 16-bit or float mode ({} modes seen)",
            configs.len()
        ))),
    }
}

/// Turns a cpal error into one of ours, keeping busy, denied and missing
/// devices apart because the user fixes each differently.
fn cpal_error(kind: DeviceKind, name: &str, error: &cpal::Error) -> CaptureError {
    let name = name.to_owned();
    match error.kind() {
        ErrorKind::DeviceBusy => CaptureError::DeviceBusy { kind, name },
        ErrorKind::PermissionDenied => CaptureError::PermissionDenied { kind, name },
        ErrorKind::DeviceNotAvailable => CaptureError::DeviceNotFound {
            kind,
            requested: Some(name),
        },
        ErrorKind::UnsupportedConfig => {
            CaptureError::UnsupportedFormat(format!("{kind} {name:?}: {error}"))
        }
        _ => CaptureError::Backend {
            kind,
            reason: format!("{name:?}: {error}"),
        },
    }
}

/// Converts a device sample to our 16-bit PCM.
trait ToI16: Copy {
    fn to_i16(self) -> i16;
    fn from_i16(sample: i16) -> Self;
}

impl ToI16 for f32 {
    fn to_i16(self) -> i16 {
        (self.clamp(-1.0, 1.0) * f32::from(i16::MAX)) as i16
    }
    fn from_i16(sample: i16) -> Self {
        f32::from(sample) / f32::from(i16::MAX)
    }
}

impl ToI16 for i16 {
    fn to_i16(self) -> i16 {
        self
    }
    fn from_i16(sample: i16) -> Self {
        sample
    }
}

/// How loud a microphone is, as its device delivers: the RMS of the device's latest buffer
/// (0 silence, 1 full scale). It moves whether or not anyone reads the microphone's frames,
/// so a "say something" meter works before joining, when nothing is sent yet.
#[derive(Clone, Debug, Default)]
pub struct LevelMeter(Arc<AtomicU32>);

impl LevelMeter {
    /// The level of the latest buffer.
    pub fn get(&self) -> f32 {
        f32::from_bits(self.0.load(Ordering::Relaxed))
    }

    fn set(&self, rms: f32) {
        self.0.store(rms.to_bits(), Ordering::Relaxed);
    }
}

/// A microphone delivering 20 ms mono frames at 48 kHz.
pub struct Microphone {
    shared: Shared,
    level: LevelMeter,
    name: String,
    epoch: SystemTime,
    // Dropping the stream stops capture; held only for that.
    _stream: cpal::Stream,
}

impl std::fmt::Debug for Microphone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Microphone")
            .field("name", &self.name)
            .finish()
    }
}

impl Microphone {
    /// Opens `device` (an id from [`super::list_devices`] or a name; `None`
    /// for the system default) and starts capturing.
    pub fn open(device: Option<&str>, epoch: SystemTime) -> Result<Self, CaptureError> {
        let kind = DeviceKind::Microphone;
        let dev = find_device(kind, device)?;
        let name = device_name(&dev);
        let (mut config, format) = pick_config(kind, &name, dev.supported_input_configs())?;
        config.buffer_size = sound_server::buffer_size(&dev);
        let shared = new_shared(MIC_RING_SAMPLES);
        let level = LevelMeter::default();
        let channels = usize::from(config.channels.max(1));
        let on_error = on_stream_error(kind, name.clone(), shared.clone());
        let stream = match format {
            SampleFormat::F32 => dev.build_input_stream(
                config,
                capture_callback::<f32>(shared.clone(), level.clone(), channels),
                on_error,
                None,
            ),
            _ => dev.build_input_stream(
                config,
                capture_callback::<i16>(shared.clone(), level.clone(), channels),
                on_error,
                None,
            ),
        }
        .map_err(|e| cpal_error(kind, &name, &e))?;
        stream.play().map_err(|e| cpal_error(kind, &name, &e))?;
        Ok(Self {
            shared,
            level,
            name,
            epoch,
            _stream: stream,
        })
    }

    /// The meter of this microphone's level, for showing before anything is sent.
    pub fn level_meter(&self) -> LevelMeter {
        self.level.clone()
    }
}

/// The device callback: mix each interleaved frame to mono into the ring, and measure it.
fn capture_callback<T: ToI16 + cpal::SizedSample>(
    shared: Shared,
    level: LevelMeter,
    channels: usize,
) -> impl FnMut(&[T], &cpal::InputCallbackInfo) + Send + 'static {
    move |data, _| {
        let mut ring = lock(&shared);
        let mut squares = 0.0f64;
        let mut count = 0usize;
        for frame in data.chunks_exact(channels) {
            let sum: i32 = frame.iter().map(|s| i32::from(s.to_i16())).sum();
            if ring.samples.len() == MIC_RING_SAMPLES {
                ring.samples.pop_front();
            }
            let mono = (sum / channels as i32) as i16;
            ring.samples.push_back(mono);
            squares += f64::from(mono) * f64::from(mono);
            count += 1;
        }
        drop(ring);
        if count > 0 {
            level.set(((squares / count as f64).sqrt() / f64::from(i16::MAX)) as f32);
        }
        shared.1.notify_one();
    }
}

impl AudioSource for Microphone {
    fn next_frame(&mut self, out: &mut AudioFrame) -> Result<(), CaptureError> {
        let guard = lock(&self.shared);
        let (mut ring, _) = self
            .shared
            .1
            .wait_timeout_while(guard, MIC_TIMEOUT, |r| {
                r.samples.len() < AUDIO_FRAME_SAMPLES && r.failed.is_none()
            })
            .unwrap_or_else(|e| e.into_inner());
        if let Some(error) = ring.failed.take() {
            return Err(error);
        }
        if ring.samples.len() < AUDIO_FRAME_SAMPLES {
            return Err(CaptureError::DeviceLost {
                kind: DeviceKind::Microphone,
                name: self.name.clone(),
                reason: format!("no audio for {} s", MIC_TIMEOUT.as_secs()),
            });
        }
        // The first sample is as old as everything still queued behind it.
        let queued_us = ring.samples.len() as u64 * 1_000_000 / u64::from(AUDIO_SAMPLE_RATE);
        out.timestamp_us = micros_since(self.epoch).saturating_sub(queued_us);
        for (dst, src) in out
            .samples
            .iter_mut()
            .zip(ring.samples.drain(..AUDIO_FRAME_SAMPLES))
        {
            *dst = src;
        }
        Ok(())
    }
}

/// Speakers or headphones playing 48 kHz mono frames.
pub struct Speaker {
    shared: Shared,
    name: String,
    _stream: cpal::Stream,
}

impl std::fmt::Debug for Speaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Speaker").field("name", &self.name).finish()
    }
}

impl Speaker {
    /// Opens `device` (an id or name; `None` for the system default) and
    /// starts playing silence until frames arrive.
    pub fn open(device: Option<&str>) -> Result<Self, CaptureError> {
        let kind = DeviceKind::Speaker;
        let dev = find_device(kind, device)?;
        let name = device_name(&dev);
        let (mut config, format) = pick_config(kind, &name, dev.supported_output_configs())?;
        config.buffer_size = sound_server::buffer_size(&dev);
        let shared = new_shared(SPEAKER_RING_SAMPLES);
        let channels = usize::from(config.channels.max(1));
        let on_error = on_stream_error(kind, name.clone(), shared.clone());
        let stream = match format {
            SampleFormat::F32 => dev.build_output_stream(
                config,
                playback_callback::<f32>(shared.clone(), channels),
                on_error,
                None,
            ),
            _ => dev.build_output_stream(
                config,
                playback_callback::<i16>(shared.clone(), channels),
                on_error,
                None,
            ),
        }
        .map_err(|e| cpal_error(kind, &name, &e))?;
        stream.play().map_err(|e| cpal_error(kind, &name, &e))?;
        Ok(Self {
            shared,
            name,
            _stream: stream,
        })
    }
}

/// The device callback: copy queued mono samples to every channel, silence
/// when the queue runs dry.
fn playback_callback<T: ToI16 + cpal::SizedSample>(
    shared: Shared,
    channels: usize,
) -> impl FnMut(&mut [T], &cpal::OutputCallbackInfo) + Send + 'static {
    move |data, _| {
        let mut ring = lock(&shared);
        for frame in data.chunks_exact_mut(channels) {
            let sample = T::from_i16(ring.samples.pop_front().unwrap_or(0));
            frame.fill(sample);
        }
    }
}

impl AudioSink for Speaker {
    fn play(&mut self, frame: &AudioFrame) -> Result<(), CaptureError> {
        let mut ring = lock(&self.shared);
        if let Some(error) = ring.failed.take() {
            return Err(error);
        }
        let overflow =
            (ring.samples.len() + AUDIO_FRAME_SAMPLES).saturating_sub(SPEAKER_RING_SAMPLES);
        let queued = ring.samples.len();
        ring.samples.drain(..overflow.min(queued));
        ring.samples.extend(frame.samples.iter().copied());
        Ok(())
    }

    fn queued(&self) -> Option<Duration> {
        let queued = lock(&self.shared).samples.len() as u64;
        Some(Duration::from_micros(
            queued * 1_000_000 / u64::from(AUDIO_SAMPLE_RATE),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpal_errors_keep_busy_denied_and_missing_apart() {
        let kind = DeviceKind::Microphone;
        let busy = cpal::Error::new(ErrorKind::DeviceBusy);
        assert!(matches!(
            cpal_error(kind, "USB", &busy),
            CaptureError::DeviceBusy { .. }
        ));
        let denied = cpal::Error::new(ErrorKind::PermissionDenied);
        let message = cpal_error(kind, "USB", &denied).to_string();
        assert!(
            message.contains("denied") && message.contains("USB"),
            "{message}"
        );
        let gone = cpal::Error::new(ErrorKind::DeviceNotAvailable);
        assert!(matches!(
            cpal_error(kind, "USB", &gone),
            CaptureError::DeviceNotFound { .. }
        ));
    }

    #[test]
    fn float_samples_clamp_into_i16() {
        assert_eq!(2.0f32.to_i16(), i16::MAX);
        assert_eq!((-2.0f32).to_i16(), -i16::MAX);
        assert!((f32::from_i16(i16::MAX) - 1.0).abs() < 1e-6);
    }
}
