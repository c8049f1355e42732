//! How long sound takes through the machine's sound system and back, as the app uses it: a
//! click played on the speakers, whose output PipeWire routes into the microphone, is timed
//! from the moment it is handed to the speaker until the microphone's frame with it is read.
//! That is the device part of what someone hears late in a call (playback and capture
//! buffers, the sound server's cycle, our own queues), measured through ALSA (pipewire-alsa)
//! and through the desktop's sound server (pipewire-pulse), on PipeWire's virtual devices.
//!
//! The speaker is kept fed as the engine's playout does it: topped up to two frames (40 ms)
//! ahead of the device.
//!
//! Run: `cargo bench -p samla-media --bench sound_latency` (needs pipewire, wireplumber,
//! pipewire-pulse and pipewire-alsa, as scripts/setup-debian installs). With `-- --this-machine`
//! it measures the sound system already running instead, once, on its default devices: the
//! default microphone must hear the default speakers (a loopback cable, a laptop's own
//! speakers and microphone, or a sound server whose default source is the speakers' monitor).

#[path = "../tests/support/session.rs"]
mod session;
#[path = "../tests/support/sound.rs"]
mod sound;

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, UNIX_EPOCH};

use samla_media::{AudioFrame, AudioSink, AudioSource, Microphone, Speaker};
use sound::{start_audio, MIC_NODE, SPEAKER_NODE};

const CLICKS: usize = 20;
/// Frames between clicks: half a second, so no echo of one is taken for the next.
const CLICK_EVERY: usize = 25;
/// The playout's lead: two 20 ms frames, as the engine keeps it.
const LEAD: Duration = Duration::from_millis(40);

fn main() {
    if std::env::args().any(|a| a == "--this-machine") {
        report("this machine's default devices", measure());
        return;
    }
    for pulse in [false, true] {
        let processes = start_audio(pulse);
        // The speakers' output goes into the microphone, as an echo path with no delay of its own.
        for channel in ["FL", "FR"] {
            processes.run(
                "pw-link",
                &[
                    &format!("{SPEAKER_NODE}:monitor_{channel}"),
                    &format!("{MIC_NODE}:input_MONO"),
                ],
            );
        }
        let route = if pulse {
            "PulseAudio protocol (pipewire-pulse)"
        } else {
            "ALSA (pipewire-alsa)"
        };
        report(route, measure());
        drop(processes);
    }
}

fn report(route: &str, mut delays: Vec<Duration>) {
    delays.sort();
    let ms = |d: Option<&Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
    println!(
        "{route}: {} of {CLICKS} clicks heard; speaker to microphone p50 {:.1} ms, min {:.1} ms, max {:.1} ms",
        delays.len(),
        ms(delays.get(delays.len() / 2)),
        ms(delays.first()),
        ms(delays.last()),
    );
}

/// Plays the clicks and times each one back on the microphone.
fn measure() -> Vec<Duration> {
    let mut mic = Microphone::open(None, UNIX_EPOCH).expect("the default microphone");
    let mut speaker = Speaker::open(None).expect("the default speakers");
    let (heard_tx, heard_rx) = mpsc::channel::<Instant>();
    let reader = thread::spawn(move || {
        let mut frame = AudioFrame::silent();
        let until = Instant::now() + Duration::from_secs(3 + (CLICKS * CLICK_EVERY) as u64 / 50);
        while Instant::now() < until {
            if mic.next_frame(&mut frame).is_err() {
                continue;
            }
            if frame.samples.iter().any(|s| s.unsigned_abs() > 8000)
                && heard_tx.send(Instant::now()).is_err()
            {
                return;
            }
        }
    });
    let mut sent = Vec::new();
    let silence = AudioFrame::silent();
    let mut click = AudioFrame::silent();
    click.samples[..48].fill(i16::MAX / 2);
    // A second of silence first: the links settle.
    for n in 0..50 + CLICKS * CLICK_EVERY {
        let waiting = Instant::now();
        while speaker.queued().is_some_and(|q| q >= LEAD) {
            assert!(
                waiting.elapsed() < Duration::from_secs(2),
                "the speakers stopped taking sound after {n} frames"
            );
            thread::sleep(Duration::from_millis(1));
        }
        if n >= 50 && (n - 50) % CLICK_EVERY == 0 {
            speaker.play(&click).unwrap();
            sent.push(Instant::now());
        } else {
            speaker.play(&silence).unwrap();
        }
    }
    reader.join().unwrap();
    // Each click is the first loud frame after it was played (one click per half second).
    let heard: Vec<Instant> = heard_rx.try_iter().collect();
    sent.iter()
        .filter_map(|&at| {
            let back = heard.iter().find(|&&h| h > at)?;
            let delay = *back - at;
            (delay < Duration::from_millis(400)).then_some(delay)
        })
        .collect()
}
