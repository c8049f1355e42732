use std::f64::consts::TAU;

/// Longest window the coarse scan analyses; bounds its cost to
/// `O(window * bins)` no matter how long the input is.
const COARSE_WINDOW: usize = 4096;
/// Lowest frequency reported; below this is DC drift and rumble, not a tone.
const MIN_FREQUENCY: f64 = 20.0;
/// Samples analysed by the refining pass (one second at 48 kHz).
const FINE_WINDOW: usize = 48_000;

/// The frequency, in Hz, with the most energy in `samples`.
///
/// A Goertzel scan (no FFT dependency): first a coarse pass at half-bin steps
/// over up to 4096 samples, then a fine pass at 0.5 Hz steps around the coarse
/// peak over up to one second of input. Accuracy is about ±1 Hz for a clean
/// tone of at least 100 ms. Returns `0.0` for silence or fewer than 64 samples.
pub fn dominant_frequency(samples: &[i16], sample_rate: u32) -> f32 {
    if samples.len() < 64 || sample_rate == 0 || samples.iter().all(|&s| s == 0) {
        return 0.0;
    }
    let rate = f64::from(sample_rate);
    let nyquist = rate / 2.0;

    let coarse = centre(samples, COARSE_WINDOW);
    let bin = rate / coarse.len() as f64;
    let step = bin / 2.0;
    let mut best = (MIN_FREQUENCY, f64::MIN);
    let mut f = MIN_FREQUENCY;
    while f < nyquist {
        let power = goertzel(coarse, f, rate);
        if power > best.1 {
            best = (f, power);
        }
        f += step;
    }

    let fine = centre(samples, FINE_WINDOW);
    let (lo, hi) = (
        (best.0 - bin).max(MIN_FREQUENCY),
        (best.0 + bin).min(nyquist),
    );
    let mut refined = (best.0, f64::MIN);
    let mut f = lo;
    while f <= hi {
        let power = goertzel(fine, f, rate);
        if power > refined.1 {
            refined = (f, power);
        }
        f += 0.5;
    }
    refined.0 as f32
}

/// The middle `len` samples (or all of them): the start of a decoded stream
/// holds codec warm-up, so the middle is the most representative part.
fn centre(samples: &[i16], len: usize) -> &[i16] {
    let len = len.min(samples.len());
    let start = (samples.len() - len) / 2;
    &samples[start..start + len]
}

/// Power of `frequency` in `samples` (generalised Goertzel, any real frequency).
fn goertzel(samples: &[i16], frequency: f64, rate: f64) -> f64 {
    let coeff = 2.0 * (TAU * frequency / rate).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(frequency: f64, len: usize) -> Vec<i16> {
        (0..len)
            .map(|i| ((TAU * frequency * i as f64 / 48_000.0).sin() * 10_000.0) as i16)
            .collect()
    }

    #[test]
    fn finds_pure_tones() {
        for f in [60.0, 300.0, 440.0, 1234.5, 3400.0, 15_000.0] {
            let got = dominant_frequency(&sine(f, 9600), 48_000);
            assert!((f64::from(got) - f).abs() <= 2.0, "{f} Hz read as {got}");
        }
    }

    #[test]
    fn silence_and_short_input_give_zero() {
        assert_eq!(dominant_frequency(&[0; 960], 48_000), 0.0);
        assert_eq!(dominant_frequency(&[100; 10], 48_000), 0.0);
    }
}
