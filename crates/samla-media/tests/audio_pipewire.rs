//! The microphone and speakers through the sound stack of today's Linux desktops: ALSA's
//! default device routed to PipeWire (pipewire-alsa), as on Debian, Ubuntu and Fedora. The
//! machine has no sound card, so PipeWire gets virtual ones (`support.null-audio-sink`
//! nodes), clocked by PipeWire's own driver the way a card's clock drives a real one:
//! - a "microphone" (a virtual source) into which the test plays a 660 Hz tone;
//! - "speakers" (a sink) whose output the test records.
//!
//! What the app's code does is the same as with a real card: cpal opens ALSA's default
//! device, and PipeWire delivers and takes the samples at the device's pace.
//!
//! One test in its own binary: the whole process is pointed at the private PipeWire.
#![cfg(target_os = "linux")]

#[path = "support/session.rs"]
mod session;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, UNIX_EPOCH};

use samla_media::{
    dominant_frequency, list_devices, AudioFrame, AudioSink, AudioSource, DeviceKind, Microphone,
    Pacing, Speaker, Tone, AUDIO_FRAME_SAMPLES, AUDIO_SAMPLE_RATE,
};
use session::Processes;

const SPEAKER_NODE: &str = "samla-test-speaker";
const MIC_NODE: &str = "samla-test-mic";
/// The test's own player, feeding the microphone.
const MOUTH_NODE: &str = "samla-test-mouth";
const SPOKEN_HZ: f32 = 660.0;
const PLAYED_HZ: f32 = 440.0;

/// PipeWire with a virtual microphone and speakers, which WirePlumber makes the defaults
/// (they are the only ones).
fn start_audio() -> Processes {
    let mut processes = Processes::new("audio");
    processes.start_session(&[]);
    for (name, class, channels) in [
        (SPEAKER_NODE, "Audio/Sink", "[FL FR]"),
        (MIC_NODE, "Audio/Source/Virtual", "[MONO]"),
    ] {
        processes.run(
            "pw-cli",
            &[
                "create-node",
                "adapter",
                &format!(
                    "{{ factory.name=support.null-audio-sink node.name={name} \
                     media.class={class} audio.position={channels} object.linger=true }}"
                ),
            ],
        );
    }
    let runtime_dir = processes.runtime_dir();
    processes.wait_for("WirePlumber to choose the virtual devices", || {
        let out = Command::new("pw-metadata")
            .args(["0", "default.audio.source"])
            .env("XDG_RUNTIME_DIR", &runtime_dir)
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .contains(MIC_NODE)
            .then_some(())
    });
    // cpal's ALSA reaches PipeWire through the runtime folder's socket.
    std::env::set_var("XDG_RUNTIME_DIR", processes.runtime_dir());
    processes
}

/// A mono 16-bit 48 kHz WAV of `seconds` of `hz`.
fn write_tone(path: &Path, hz: f32, seconds: u32) {
    let samples = AUDIO_SAMPLE_RATE * seconds;
    let mut wav = Vec::with_capacity(44 + samples as usize * 2);
    let data_len = samples * 2;
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&AUDIO_SAMPLE_RATE.to_le_bytes());
    wav.extend_from_slice(&(AUDIO_SAMPLE_RATE * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..samples {
        let phase = 2.0 * std::f32::consts::PI * hz * i as f32 / AUDIO_SAMPLE_RATE as f32;
        wav.extend_from_slice(&((phase.sin() * 8000.0) as i16).to_le_bytes());
    }
    std::fs::write(path, wav).unwrap();
}

/// The first channel of a 16-bit WAV that `pw-record` wrote, to its end (its header's sizes
/// are not final until it exits cleanly, so they are not trusted).
fn read_recording(path: &Path, channels: usize) -> Vec<i16> {
    let bytes = std::fs::read(path).unwrap();
    let data = bytes
        .windows(4)
        .position(|w| w == b"data")
        .expect("a WAV with a data chunk")
        + 8;
    bytes[data..]
        .chunks_exact(2 * channels)
        .map(|frame| i16::from_le_bytes([frame[0], frame[1]]))
        .collect()
}

/// A child process stopped when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn pw(program: &str, args: &[&str], processes: &Processes) -> Running {
    Running(
        Command::new(program)
            .args(args)
            .env("XDG_RUNTIME_DIR", processes.runtime_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {program} ({e}): apt-get install pipewire-bin")
            }),
    )
}

#[test]
fn the_microphone_hears_and_the_speakers_play_through_alsa_and_pipewire() {
    let mut processes = start_audio();
    let dir = processes.dir.clone();

    // Both kinds list the system's default device.
    for kind in [DeviceKind::Microphone, DeviceKind::Speaker] {
        let devices = list_devices(kind).unwrap();
        assert!(
            devices.iter().any(|d| d.is_default),
            "no default {kind} among {devices:?}"
        );
    }

    // Someone speaks into the microphone: a 660 Hz tone played into the virtual source.
    let spoken = dir.join("spoken.wav");
    write_tone(&spoken, SPOKEN_HZ, 30);
    let _mouth = pw(
        "pw-play",
        &[
            "-P",
            &format!("{{ node.autoconnect=false node.name={MOUTH_NODE} }}"),
            spoken.to_str().unwrap(),
        ],
        &processes,
    );
    let runtime_dir = processes.runtime_dir();
    processes.wait_for("the tone to reach the microphone", || {
        Command::new("pw-link")
            .args([
                &format!("{MOUTH_NODE}:output_MONO"),
                &format!("{MIC_NODE}:input_MONO"),
            ])
            .env("XDG_RUNTIME_DIR", &runtime_dir)
            .status()
            .ok()?
            .success()
            .then_some(())
    });
    let mut mic = Microphone::open(None, UNIX_EPOCH).unwrap();
    // The level meter follows the device before anything reads the microphone (the app's
    // pre-join meter): the tone is a sine of amplitude 8000, RMS 8000/√2 of full scale.
    let meter = mic.level_meter();
    let spoken_rms = 8000.0 / std::f32::consts::SQRT_2 / f32::from(i16::MAX);
    processes.wait_for("the level meter to read the tone", || {
        ((meter.get() - spoken_rms).abs() < 0.02).then_some(())
    });
    println!(
        "the level meter read {:.3} (the tone's RMS is {spoken_rms:.3})",
        meter.get()
    );
    let mut frame = AudioFrame::silent();
    let mut heard = Vec::new();
    // One second of what the microphone hears, after the first sound (the link takes a moment).
    let deadline = Instant::now() + Duration::from_secs(20);
    while heard.len() < AUDIO_SAMPLE_RATE as usize {
        mic.next_frame(&mut frame).unwrap();
        if !heard.is_empty() || frame.samples.iter().any(|&s| s.abs() > 1000) {
            heard.extend_from_slice(&frame.samples);
        }
        assert!(
            Instant::now() < deadline,
            "the microphone heard nothing; logs in {}",
            dir.display()
        );
    }
    let hz = dominant_frequency(&heard, AUDIO_SAMPLE_RATE);
    println!("the microphone heard {hz:.0} Hz");
    assert!(
        (hz - SPOKEN_HZ).abs() < 10.0,
        "the microphone heard {hz} Hz, the tone is {SPOKEN_HZ} Hz"
    );
    drop(mic);

    // The speakers play one second of a 440 Hz tone; what comes out is recorded.
    let recorded = dir.join("played.wav");
    let recorder = pw(
        "pw-record",
        &[
            "--target",
            SPEAKER_NODE,
            "-P",
            "{ stream.capture.sink=true }",
            "--channels",
            "2",
            "--format",
            "s16",
            "--rate",
            "48000",
            recorded.to_str().unwrap(),
        ],
        &processes,
    );
    let mut speaker = Speaker::open(None).unwrap();
    let mut tone = Tone::new(PLAYED_HZ, 0.3, UNIX_EPOCH, Pacing::Unpaced);
    let frames = AUDIO_SAMPLE_RATE as usize / AUDIO_FRAME_SAMPLES;
    // Kept a few frames ahead of the device, as the app's playout does: the device's clock
    // sets the pace.
    let lead = Duration::from_millis(60);
    for _ in 0..frames {
        while speaker.queued().is_some_and(|q| q >= lead) {
            std::thread::sleep(Duration::from_millis(5));
        }
        tone.next_frame(&mut frame).unwrap();
        speaker.play(&frame).unwrap();
    }
    while speaker.queued().is_some_and(|q| !q.is_zero()) {
        std::thread::sleep(Duration::from_millis(5));
    }
    // What the device took is out of it by now; a little more for PipeWire's own buffers.
    std::thread::sleep(Duration::from_millis(300));
    drop(speaker);
    drop(recorder);

    let played = read_recording(&recorded, 2);
    let loud: Vec<usize> = played
        .iter()
        .enumerate()
        .filter(|(_, s)| s.abs() > 1000)
        .map(|(i, _)| i)
        .collect();
    let (first, last) = (
        *loud.first().expect("the speakers played nothing"),
        *loud.last().unwrap(),
    );
    let sounding = &played[first..=last];
    let hz = dominant_frequency(sounding, AUDIO_SAMPLE_RATE);
    assert!(
        (hz - PLAYED_HZ).abs() < 10.0,
        "the speakers played {hz} Hz, the tone is {PLAYED_HZ} Hz"
    );
    // All of it, once, without gaps: as long as what was sent (a sine crosses zero, so the
    // length is measured from the first to the last loud sample, within one period).
    let sent = frames * AUDIO_FRAME_SAMPLES;
    let period = (AUDIO_SAMPLE_RATE as f32 / PLAYED_HZ) as usize + 1;
    assert!(
        sounding.len().abs_diff(sent) <= period,
        "the speakers played {} samples of tone, {sent} were sent",
        sounding.len()
    );
    let longest_quiet = sounding
        .split(|s| s.abs() > 200)
        .map(<[i16]>::len)
        .max()
        .unwrap_or(0);
    println!(
        "the speakers played {hz:.0} Hz for {} of {sent} samples, longest quiet run {longest_quiet}",
        sounding.len()
    );
    assert!(
        longest_quiet < period,
        "a gap of {longest_quiet} quiet samples in the played tone"
    );
}
