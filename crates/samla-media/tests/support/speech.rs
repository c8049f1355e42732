//! Deterministic speech-like test signals: a voiced source with a moving
//! pitch, shaped by three vowel formants, in syllables, words and pauses.
//! Close enough to speech for an echo canceller's filters and detectors,
//! and reproducible without recordings.

use std::f32::consts::PI;

pub const RATE: f32 = 48_000.0;

/// A voice: its pitch and how it phrases.
#[derive(Clone, Copy)]
pub struct Voice {
    /// Mean fundamental frequency in Hz.
    pub pitch_hz: f32,
    /// Seed for syllable lengths, vowels and pauses.
    pub seed: u32,
}

/// A tiny LCG: test signals must be the same on every run.
pub struct Lcg(u32);

impl Lcg {
    pub fn new(seed: u32) -> Self {
        Self(seed.wrapping_mul(2_654_435_761).wrapping_add(1))
    }

    /// Uniform in [0, 1).
    pub fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (self.0 >> 8) as f32 / (1u32 << 24) as f32
    }
}

/// Two-pole resonator at one formant.
#[derive(Clone, Copy, Default)]
struct Resonator {
    a1: f32,
    a2: f32,
    gain: f32,
    y1: f32,
    y2: f32,
}

impl Resonator {
    fn tune(&mut self, freq: f32, bandwidth: f32) {
        let r = (-PI * bandwidth / RATE).exp();
        self.a1 = -2.0 * r * (2.0 * PI * freq / RATE).cos();
        self.a2 = r * r;
        self.gain = 1.0 - r;
    }

    fn run(&mut self, x: f32) -> f32 {
        let y = self.gain * x - self.a1 * self.y1 - self.a2 * self.y2;
        self.y2 = self.y1;
        self.y1 = y;
        y
    }
}

/// Formants (F1, F2, F3) of a few vowels.
const VOWELS: [[f32; 3]; 5] = [
    [730.0, 1090.0, 2440.0],
    [270.0, 2290.0, 3010.0],
    [300.0, 870.0, 2240.0],
    [530.0, 1840.0, 2480.0],
    [570.0, 840.0, 2410.0],
];

/// `seconds` of speech at 48 kHz scaled so talking parts have an RMS of
/// `rms` (full scale 1.0). Pauses between phrases are silent.
pub fn speech(voice: Voice, seconds: f32, rms: f32) -> Vec<f32> {
    let n = (seconds * RATE) as usize;
    let mut out = vec![0.0f32; n];
    let mut rng = Lcg::new(voice.seed);
    let mut formants = [Resonator::default(); 3];
    let mut phase = 0.0f32;
    let mut i = 0;
    while i < n {
        // A phrase of 3-8 syllables, then a pause of 0.3-0.8 s.
        let syllables = 3 + (rng.next() * 6.0) as usize;
        for _ in 0..syllables {
            let len = ((0.14 + rng.next() * 0.16) * RATE) as usize;
            let vowel = VOWELS[(rng.next() * VOWELS.len() as f32) as usize % VOWELS.len()];
            for (r, &f) in formants.iter_mut().zip(&vowel) {
                r.tune(f, 80.0 + f * 0.05);
            }
            for k in 0..len.min(n - i) {
                let t = (i + k) as f32 / RATE;
                let pitch = voice.pitch_hz
                    * (1.0 + 0.12 * (2.0 * PI * 0.6 * t).sin() + 0.04 * (2.0 * PI * 2.9 * t).sin());
                phase = (phase + pitch / RATE).fract();
                let source = (2.0 * phase - 1.0) + 0.08 * (rng.next() - 0.5);
                let shaped = formants.iter_mut().fold(0.0, |acc, r| acc + r.run(source));
                let envelope = (PI * k as f32 / len as f32).sin().powf(0.6);
                out[i + k] = shaped * envelope;
            }
            i += len;
            if i >= n {
                break;
            }
        }
        i += ((0.3 + rng.next() * 0.5) * RATE) as usize;
    }
    let active: Vec<f32> = out.iter().copied().filter(|s| s.abs() > 1e-4).collect();
    let current = rms_of(&active).max(1e-9);
    for s in &mut out {
        *s *= rms / current;
    }
    out
}

pub fn rms_of(x: &[f32]) -> f32 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|s| s * s).sum::<f32>() / x.len() as f32).sqrt()
}

/// The loudspeaker-to-microphone path of a small room: a bulk delay, the
/// direct sound and 40 decaying reflections over 60 ms.
pub fn room_echo(far: &[f32], delay_ms: f32, gain: f32) -> Vec<f32> {
    let mut rng = Lcg::new(7);
    let delay = (delay_ms / 1000.0 * RATE) as usize;
    let mut taps = vec![(delay, gain)];
    for _ in 0..40 {
        let t = rng.next() * 0.060;
        let sign = if rng.next() < 0.5 { -1.0 } else { 1.0 };
        taps.push((
            delay + 48 + (t * RATE) as usize,
            sign * gain * 0.5 * (-t / 0.015).exp(),
        ));
    }
    let mut out = vec![0.0f32; far.len()];
    for &(d, g) in &taps {
        for (o, &x) in out[d.min(far.len())..].iter_mut().zip(far) {
            *o += g * x;
        }
    }
    out
}
