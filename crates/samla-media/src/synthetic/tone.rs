use std::f64::consts::TAU;
use std::time::{Duration, SystemTime};

use crate::capture::{AudioSource, CaptureError, Pacer, Pacing};
use crate::frame::{AudioFrame, AUDIO_SAMPLE_RATE};

/// A continuous sine tone; each sender gets its own pitch so a listener-side
/// test can tell from the decoded audio alone whose voice it is hearing.
#[derive(Debug)]
pub struct Tone {
    frequency: f32,
    amplitude: f32,
    /// Phase advance per sample, in radians.
    step: f64,
    /// Current phase in radians, kept in `[0, TAU)`; tracked across frames so
    /// frame boundaries do not click.
    phase: f64,
    epoch: SystemTime,
    pacer: Pacer,
}

impl Tone {
    /// Number of distinct sender pitches before they repeat.
    pub const SENDER_PITCHES: u32 = 32;

    /// The pitch assigned to `sender`: `300 + 100 * (sender % 32)` Hz.
    ///
    /// 100 Hz spacing is far wider than the error of [`super::dominant_frequency`],
    /// and the top pitch (3.4 kHz) stays inside the band Opus keeps even at
    /// narrowband bitrates, so the identity survives any encoder setting.
    pub fn sender_frequency(sender: u32) -> f32 {
        300.0 + 100.0 * (sender % Self::SENDER_PITCHES) as f32
    }

    /// A tone for `sender` (see [`Tone::sender_frequency`]) at half full scale.
    pub fn for_sender(sender: u32, epoch: SystemTime, pacing: Pacing) -> Self {
        Self::new(Self::sender_frequency(sender), 0.5, epoch, pacing)
    }

    /// A tone of `frequency` Hz at `amplitude` (0..=1 of full scale), stamping
    /// capture times as microseconds since `epoch`. The frequency is clamped to
    /// below Nyquist (24 kHz).
    pub fn new(frequency: f32, amplitude: f32, epoch: SystemTime, pacing: Pacing) -> Self {
        let frequency = frequency.clamp(0.0, AUDIO_SAMPLE_RATE as f32 / 2.0 - 1.0);
        Self {
            frequency,
            amplitude: amplitude.clamp(0.0, 1.0),
            step: TAU * f64::from(frequency) / f64::from(AUDIO_SAMPLE_RATE),
            phase: 0.0,
            epoch,
            pacer: Pacer::new(pacing, Duration::from_micros(AudioFrame::DURATION_US)),
        }
    }

    /// The tone's frequency in Hz.
    pub fn frequency(&self) -> f32 {
        self.frequency
    }
}

impl AudioSource for Tone {
    fn next_frame(&mut self, out: &mut AudioFrame) -> Result<(), CaptureError> {
        self.pacer.wait();
        out.timestamp_us = SystemTime::now()
            .duration_since(self.epoch)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
        let scale = f64::from(self.amplitude) * f64::from(i16::MAX);
        for sample in &mut out.samples {
            *sample = (self.phase.sin() * scale) as i16;
            self.phase = (self.phase + self.step) % TAU;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    #[test]
    fn sender_pitches_are_distinct_and_in_voice_band() {
        assert_eq!(Tone::sender_frequency(0), 300.0);
        assert_eq!(Tone::sender_frequency(1), 400.0);
        assert_eq!(Tone::sender_frequency(31), 3400.0);
        assert_eq!(Tone::sender_frequency(32), 300.0);
    }

    #[test]
    fn tone_is_continuous_across_frames() {
        let mut tone = Tone::new(1000.0, 0.5, UNIX_EPOCH, Pacing::Unpaced);
        let mut a = AudioFrame::silent();
        let mut b = AudioFrame::silent();
        tone.next_frame(&mut a).unwrap();
        tone.next_frame(&mut b).unwrap();
        // Largest step of a 1 kHz sine at half scale is ~2145 per sample.
        let jump = (i32::from(b.samples[0]) - i32::from(a.samples[959])).abs();
        assert!(jump < 2300, "click at frame boundary: {jump}");
        assert!(a.samples.iter().any(|&s| s > 16_000));
    }
}
