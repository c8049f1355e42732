//! The pre-join sound checks: how loud the microphone is right now (for the page's meter) and
//! a short test tone on the speakers. A browser does both in the page (Web Audio); the app's
//! audio is all in Rust, so they are here. Both are tested for real in the desktop end-to-end
//! test, on PipeWire's virtual devices.

use std::sync::Mutex;
use std::time::{Duration, Instant, UNIX_EPOCH};

use samla_media::{
    AudioFrame, AudioSink, AudioSource, CaptureError, LevelMeter, Pacing, Speaker, Tone,
};

/// The open microphone's level, for the page's meter. The meter reads the device itself
/// (samla-media's [`LevelMeter`]): before joining nothing reads the microphone's frames yet.
#[derive(Debug, Default)]
pub struct MicLevel(Mutex<Option<LevelMeter>>);

impl MicLevel {
    /// RMS of the microphone's latest buffer, 0 (silence) to 1 (full scale); 0 when no
    /// microphone is open.
    pub fn get(&self) -> f32 {
        self.slot().as_ref().map_or(0.0, LevelMeter::get)
    }

    /// The microphone now open (`None`: none).
    pub fn set(&self, meter: Option<LevelMeter>) {
        *self.slot() = meter;
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<LevelMeter>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The test tone: two short notes (A5, then E5), as the browser plays it.
const NOTES: [(f32, Duration); 2] = [
    (880.0, Duration::from_millis(360)),
    (659.25, Duration::from_millis(460)),
];
/// Loud enough to hear clearly, well below full scale.
const TEST_TONE_LEVEL: f32 = 0.3;
/// How far ahead of the device the tone is queued: a few frames, as playout keeps it.
const LEAD: Duration = Duration::from_millis(60);

/// Plays the test tone on `device` (`None`: the system's default) and returns when the device
/// has played it. Its own stream next to the meeting's: sound servers and ALSA's default
/// device mix them; a device only one program may open says it is busy.
pub fn play_test_tone(device: Option<&str>) -> Result<(), CaptureError> {
    let mut speaker = Speaker::open(device)?;
    let mut frame = AudioFrame::silent();
    for (hz, length) in NOTES {
        let mut tone = Tone::new(hz, TEST_TONE_LEVEL, UNIX_EPOCH, Pacing::Unpaced);
        let frames = length.as_micros() / u128::from(AudioFrame::DURATION_US);
        for _ in 0..frames {
            while speaker.queued().is_some_and(|q| q >= LEAD) {
                std::thread::sleep(Duration::from_millis(5));
            }
            tone.next_frame(&mut frame)?;
            speaker.play(&frame)?;
        }
    }
    // Played out when the device holds nothing more (bounded, for a device that stalls).
    let until = Instant::now() + Duration::from_secs(2);
    while speaker.queued().is_some_and(|q| !q.is_zero()) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_microphone_the_meter_reads_nothing() {
        let level = MicLevel::default();
        assert_eq!(level.get(), 0.0);
        level.set(Some(LevelMeter::default()));
        assert_eq!(level.get(), 0.0, "a microphone that delivered nothing yet");
        level.set(None);
        assert_eq!(level.get(), 0.0);
    }

    #[test]
    fn a_missing_speaker_is_said_for_the_test_tone() {
        let err = play_test_tone(Some("Samla Test Speakers")).unwrap_err();
        assert!(
            matches!(err, CaptureError::DeviceNotFound { .. }),
            "{err:?}"
        );
    }
}
