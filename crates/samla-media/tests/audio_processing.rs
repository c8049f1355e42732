//! The microphone path's echo canceller, noise suppressor and gain control,
//! measured on simulated rooms.
//!
//! Far-end speech is "played" through a simulated echo path (bulk delay,
//! direct sound, decaying reflections) into the "microphone", and a near-end
//! talker joins for a double-talk section. Run with `--nocapture` to see the
//! figures that BENCHMARKS.md quotes.

#[path = "support/speech.rs"]
mod speech;

use std::time::Instant;

use samla_media::{AudioFrame, MicProcessor, ProcessingConfig, AUDIO_FRAME_SAMPLES};
use speech::{rms_of, room_echo, speech, Lcg, Voice, RATE};

const FAR: Voice = Voice {
    pitch_hz: 125.0,
    seed: 1,
};
const NEAR: Voice = Voice {
    pitch_hz: 210.0,
    seed: 2,
};

fn to_i16(x: f32) -> i16 {
    (x.clamp(-1.0, 1.0) * 32767.0) as i16
}

fn db(ratio: f32) -> f32 {
    10.0 * ratio.max(1e-12).log10()
}

/// Runs far-end and microphone signals through a processor frame by frame
/// (render first, as a playout thread would) and returns the sent signal.
fn process(config: ProcessingConfig, far: &[f32], mic: &[f32]) -> (Vec<f32>, f64) {
    let mut apm = MicProcessor::new(config);
    apm.set_delay_ms(20);
    let mut out = Vec::with_capacity(mic.len());
    let (mut render, mut capture) = (AudioFrame::silent(), AudioFrame::silent());
    let start = Instant::now();
    for (f, m) in far
        .chunks_exact(AUDIO_FRAME_SAMPLES)
        .zip(mic.chunks_exact(AUDIO_FRAME_SAMPLES))
    {
        for (d, &s) in render.samples.iter_mut().zip(f) {
            *d = to_i16(s);
        }
        for (d, &s) in capture.samples.iter_mut().zip(m) {
            *d = to_i16(s);
        }
        apm.process_render(&render).unwrap();
        apm.process_capture(&mut capture).unwrap();
        out.extend(capture.samples.iter().map(|&s| f32::from(s) / 32767.0));
    }
    let realtime = (mic.len() as f64 / f64::from(RATE)) / start.elapsed().as_secs_f64();
    (out, realtime)
}

/// Samples `[from, to)` seconds.
fn span(x: &[f32], from: f32, to: f32) -> &[f32] {
    &x[(from * RATE) as usize..((to * RATE) as usize).min(x.len())]
}

/// Energy ratio in dB between `reference` and `residual`, counted only in
/// 20 ms frames where `reference` is active (speech pauses carry no echo).
fn erle_db(reference: &[f32], residual: &[f32]) -> f32 {
    let threshold = rms_of(reference) * 0.1;
    let (mut e_ref, mut e_res) = (0.0f32, 0.0f32);
    for (r, o) in reference
        .chunks(AUDIO_FRAME_SAMPLES)
        .zip(residual.chunks(AUDIO_FRAME_SAMPLES))
    {
        if rms_of(r) > threshold {
            e_ref += r.iter().map(|s| s * s).sum::<f32>();
            e_res += o.iter().map(|s| s * s).sum::<f32>();
        }
    }
    db(e_ref / e_res.max(1e-12))
}

/// Normalised correlation of `sent` with `reference` once the processing
/// delay is taken out. The delay (at most 20 ms) is found on the busiest
/// quarter second, then the whole span is compared at that lag. The
/// high-pass filter and band splitting alone bring an untouched talker to
/// about 0.9, which is the figure to compare with.
fn correlation(sent: &[f32], reference: &[f32]) -> f32 {
    const MAX_LAG: usize = 960;
    const PROBE: usize = 12_000;
    let n = sent.len().min(reference.len()) - MAX_LAG;
    let norm = |x: &[f32]| x.iter().map(|s| s * s).sum::<f32>().sqrt().max(1e-9);
    let at = |lag: usize, from: usize, len: usize| {
        let (x, y) = (
            &reference[from..from + len],
            &sent[from + lag..from + lag + len],
        );
        x.iter().zip(y).map(|(p, q)| p * q).sum::<f32>() / (norm(x) * norm(y))
    };
    let busiest = (0..n.saturating_sub(PROBE))
        .step_by(PROBE / 4)
        .max_by(|&a, &b| norm(&reference[a..a + PROBE]).total_cmp(&norm(&reference[b..b + PROBE])))
        .unwrap_or(0);
    let probe = PROBE.min(n);
    let lag = (0..=MAX_LAG)
        .max_by(|&a, &b| at(a, busiest, probe).total_cmp(&at(b, busiest, probe)))
        .unwrap_or(0);
    at(lag, 0, n)
}

struct Scene {
    far: Vec<f32>,
    echo: Vec<f32>,
    near: Vec<f32>,
    mic: Vec<f32>,
}

/// 0-12 s far end alone, 12-18 s both talk, 18-20 s near end alone. The
/// echo's direct sound reaches the microphone `delay_ms` late at `gain`
/// times the far end's level, with reflections behind it.
fn scene(delay_ms: f32, gain: f32) -> Scene {
    let seconds = 20.0;
    let far_full = speech(FAR, seconds, 0.1);
    let far: Vec<f32> = far_full
        .iter()
        .enumerate()
        .map(|(i, &s)| if (i as f32) < 18.0 * RATE { s } else { 0.0 })
        .collect();
    let near_full = speech(NEAR, seconds, 0.1);
    let near: Vec<f32> = near_full
        .iter()
        .enumerate()
        .map(|(i, &s)| if (i as f32) >= 12.0 * RATE { s } else { 0.0 })
        .collect();
    let echo = room_echo(&far, delay_ms, gain);
    let mut rng = Lcg::new(3);
    let mic = echo
        .iter()
        .zip(&near)
        .map(|(e, n)| e + n + 0.0005 * (rng.next() - 0.5))
        .collect();
    Scene {
        far,
        echo,
        near,
        mic,
    }
}

#[test]
fn echo_is_cancelled_and_the_near_talker_survives_double_talk() {
    let full = ProcessingConfig::default();
    let aec_only = ProcessingConfig {
        noise_suppression: false,
        gain_control: false,
        ..full
    };
    let desk = scene(35.0, 0.5);
    let loud = scene(150.0, 1.0);
    let runs = [
        ("desk, AEC only", &desk, aec_only),
        ("desk, AEC+NS+AGC", &desk, full),
        ("loud 150 ms, AEC+NS+AGC", &loud, full),
    ];
    for (label, s, config) in runs {
        let (sent, realtime) = process(config, &s.far, &s.mic);
        let erle_first = erle_db(span(&s.echo, 0.0, 2.0), span(&sent, 0.0, 2.0));
        let erle = erle_db(span(&s.echo, 4.0, 12.0), span(&sent, 4.0, 12.0));
        let dt_sent = span(&sent, 12.5, 18.0);
        let dt_near = span(&s.near, 12.5, 18.0);
        let dt_echo = span(&s.echo, 12.5, 18.0);
        let corr_near = correlation(dt_sent, dt_near);
        let corr_echo = correlation(dt_sent, dt_echo);
        let level = db(rms_of(dt_sent).powi(2) / rms_of(dt_near).powi(2));
        let solo = correlation(span(&sent, 18.0, 20.0), span(&s.near, 18.0, 20.0));
        println!(
            "{label}: ERLE far-end only 0-2 s {erle_first:.1} dB, 4-12 s {erle:.1} dB; \
             double talk: corr(sent, near) {corr_near:.2}, corr(sent, echo) {corr_echo:.2}, \
             near level {level:+.1} dB; near alone corr {solo:.2}; {realtime:.0}x real time"
        );
        assert!(
            erle >= 20.0,
            "{label}: ERLE {erle:.1} dB after convergence, want >= 20 dB"
        );
        assert!(
            solo >= 0.8,
            "{label}: near talker alone damaged (corr {solo:.2})"
        );
        assert!(
            corr_near >= 0.5,
            "{label}: near talker damaged in double talk (corr {corr_near:.2})"
        );
        assert!(
            corr_echo.abs() <= 0.1,
            "{label}: echo left in double talk (corr {corr_echo:.2})"
        );
        assert!(
            (-6.0..=6.0).contains(&level),
            "{label}: near level changed by {level:+.1} dB"
        );
    }
}

#[test]
fn noise_is_suppressed_in_speech_pauses() {
    let talk = speech(NEAR, 10.0, 0.1);
    let mut rng = Lcg::new(11);
    let noise: Vec<f32> = (0..talk.len()).map(|_| 0.03 * (rng.next() - 0.5)).collect();
    let mic: Vec<f32> = talk.iter().zip(&noise).map(|(t, n)| t + n).collect();
    let silence = vec![0.0; mic.len()];
    let config = ProcessingConfig {
        echo_cancellation: false,
        gain_control: false,
        ..ProcessingConfig::default()
    };
    let (sent, _) = process(config, &silence, &mic);
    // Pauses: 20 ms frames after 3 s where the talker is silent.
    let (mut n_in, mut n_out, mut s_in, mut s_out) = (0.0, 0.0, 0.0, 0.0);
    for ((t, m), o) in talk
        .chunks(AUDIO_FRAME_SAMPLES)
        .zip(mic.chunks(AUDIO_FRAME_SAMPLES))
        .zip(sent.chunks(AUDIO_FRAME_SAMPLES))
        .skip(150)
    {
        let e = |x: &[f32]| x.iter().map(|s| s * s).sum::<f32>();
        if rms_of(t) == 0.0 {
            n_in += e(m);
            n_out += e(o);
        } else if rms_of(t) > 0.05 {
            s_in += e(m);
            s_out += e(o);
        }
    }
    let noise_reduction = db(n_in / n_out);
    let speech_change = db(s_out / s_in);
    println!("noise suppression: noise in pauses -{noise_reduction:.1} dB, speech {speech_change:+.1} dB");
    assert!(
        noise_reduction >= 10.0,
        "noise reduced by only {noise_reduction:.1} dB"
    );
    assert!(speech_change > -6.0, "speech lost {speech_change:.1} dB");
}

#[test]
fn gain_control_lifts_a_quiet_talker() {
    let quiet = speech(NEAR, 12.0, 0.005);
    let silence = vec![0.0; quiet.len()];
    let config = ProcessingConfig {
        echo_cancellation: false,
        noise_suppression: false,
        ..ProcessingConfig::default()
    };
    let (sent, _) = process(config, &silence, &quiet);
    let gain = db(rms_of(span(&sent, 8.0, 12.0)).powi(2) / rms_of(span(&quiet, 8.0, 12.0)).powi(2));
    println!("gain control: a talker at -46 dBFS RMS is lifted by {gain:+.1} dB after 8 s");
    assert!(gain >= 6.0, "quiet talker lifted by only {gain:+.1} dB");
}
