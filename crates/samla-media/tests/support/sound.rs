//! A private sound system like a Linux desktop's for the audio tests: PipeWire and
//! WirePlumber (see `session.rs`) with virtual devices, clocked by PipeWire's own driver the
//! way a card's clock drives a real one:
//! - a "microphone" (a virtual source) into which a test plays a tone ([`speak_into`]);
//! - "speakers" (a sink) whose output a test records ([`record`]).
//!
//! With `pulse`, PipeWire's PulseAudio server runs too, as on today's desktops; without it the
//! app's audio reaches PipeWire through ALSA (pipewire-alsa).
// Shared by two test binaries, each of which uses part of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, UNIX_EPOCH};

use samla_media::{
    AudioFrame, AudioSink, AudioSource, Microphone, Pacing, Speaker, Tone, AUDIO_FRAME_SAMPLES,
    AUDIO_SAMPLE_RATE,
};

use super::session::Processes;

pub const SPEAKER_NODE: &str = "samla-test-speaker";
pub const MIC_NODE: &str = "samla-test-mic";
/// The test's own player, feeding the microphone.
pub const MOUTH_NODE: &str = "samla-test-mouth";

/// PipeWire with a virtual microphone and speakers, which WirePlumber makes the defaults
/// (they are the only ones); with `pulse`, PipeWire's PulseAudio server too.
pub fn start_audio(pulse: bool) -> Processes {
    let mut processes = Processes::new(if pulse { "pulse" } else { "audio" });
    processes.start_session(&[]);
    add_node(
        &processes,
        SPEAKER_NODE,
        "Samla test speakers",
        "Audio/Sink",
        "[FL FR]",
    );
    add_node(
        &processes,
        MIC_NODE,
        "Samla test microphone",
        "Audio/Source/Virtual",
        "[MONO]",
    );
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
    if pulse {
        let mut server = Command::new("pipewire-pulse");
        server.env("XDG_RUNTIME_DIR", &runtime_dir);
        processes.spawn("pipewire-pulse", server, "apt-get install pipewire-pulse");
        let socket = runtime_dir.join("pulse/native");
        processes.wait_for("PipeWire's PulseAudio server", || {
            socket.exists().then_some(())
        });
    }
    // cpal reaches PipeWire (through ALSA or the PulseAudio socket) in the runtime folder.
    std::env::set_var("XDG_RUNTIME_DIR", processes.runtime_dir());
    processes
}

/// Adds a virtual device: `class` `Audio/Sink` is a speaker, `Audio/Source/Virtual` a
/// microphone; it stays until [`remove_node`] (as a device stays until unplugged).
pub fn add_node(processes: &Processes, name: &str, description: &str, class: &str, channels: &str) {
    processes.run(
        "pw-cli",
        &[
            "create-node",
            "adapter",
            &format!(
                "{{ factory.name=support.null-audio-sink node.name={name} \
                 node.description=\"{description}\" media.class={class} \
                 audio.position={channels} object.linger=true }}"
            ),
        ],
    );
}

/// Removes a virtual device (it is unplugged).
pub fn remove_node(processes: &Processes, name: &str) {
    processes.run("pw-cli", &["destroy", name]);
}

/// Plays `wav` into the microphone `mic` (a node name) until dropped.
pub fn speak_into(processes: &mut Processes, wav: &Path, mic: &str) -> Running {
    let mouth = format!("{MOUTH_NODE}-{mic}");
    let player = pw(
        "pw-play",
        &[
            "-P",
            &format!("{{ node.autoconnect=false node.name={mouth} }}"),
            wav.to_str().unwrap(),
        ],
        processes,
    );
    let runtime_dir = processes.runtime_dir();
    processes.wait_for("the tone to reach the microphone", || {
        Command::new("pw-link")
            .args([
                &format!("{mouth}:output_MONO"),
                &format!("{mic}:input_MONO"),
            ])
            .env("XDG_RUNTIME_DIR", &runtime_dir)
            .status()
            .ok()?
            .success()
            .then_some(())
    });
    player
}

/// Records what the speakers `speaker` (a node name) play, into `wav`, until dropped.
pub fn record(processes: &Processes, speaker: &str, wav: &Path) -> Running {
    pw(
        "pw-record",
        &[
            "--target",
            speaker,
            "-P",
            "{ stream.capture.sink=true }",
            "--channels",
            "2",
            "--format",
            "s16",
            "--rate",
            "48000",
            wav.to_str().unwrap(),
        ],
        processes,
    )
}

/// A mono 16-bit 48 kHz WAV of `seconds` of `hz`.
pub fn write_tone(path: &Path, hz: f32, seconds: u32) {
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
pub fn read_recording(path: &Path, channels: usize) -> Vec<i16> {
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
pub struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn pw(program: &str, args: &[&str], processes: &Processes) -> Running {
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

/// One second of what `mic` hears from the first sound on (a link takes a moment).
pub fn hear_one_second(mic: &mut Microphone) -> Vec<i16> {
    let mut frame = AudioFrame::silent();
    let mut heard = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while heard.len() < AUDIO_SAMPLE_RATE as usize {
        mic.next_frame(&mut frame).unwrap();
        if !heard.is_empty() || frame.samples.iter().any(|&s| s.abs() > 1000) {
            heard.extend_from_slice(&frame.samples);
        }
        assert!(Instant::now() < deadline, "the microphone heard nothing");
    }
    heard
}

/// Half a second of silence first, so a recorder that is still connecting misses nothing.
const SILENT_LEAD_FRAMES: usize = 25;

/// Plays `frames` 20 ms frames of `hz` on `speaker`, kept a few frames ahead of the device
/// as the app's playout does (the device's clock sets the pace), and waits until it is out.
pub fn play_tone(speaker: &mut Speaker, hz: f32, frames: usize) {
    let mut tone = Tone::new(hz, 0.3, UNIX_EPOCH, Pacing::Unpaced);
    let mut frame = AudioFrame::silent();
    let lead = Duration::from_millis(60);
    for n in 0..SILENT_LEAD_FRAMES + frames {
        while speaker.queued().is_some_and(|q| q >= lead) {
            std::thread::sleep(Duration::from_millis(5));
        }
        if n < SILENT_LEAD_FRAMES {
            frame.samples.fill(0);
        } else {
            tone.next_frame(&mut frame).unwrap();
        }
        speaker.play(&frame).unwrap();
    }
    while speaker.queued().is_some_and(|q| !q.is_zero()) {
        std::thread::sleep(Duration::from_millis(5));
    }
    // What the device took is out of it by now; a little more for PipeWire's own buffers.
    std::thread::sleep(Duration::from_millis(300));
}

/// The part of a recording from its first to its last loud sample; `None` if all quiet.
pub fn sounding(recording: &[i16]) -> Option<&[i16]> {
    let first = recording.iter().position(|s| s.abs() > 1000)?;
    let last = recording.iter().rposition(|s| s.abs() > 1000)?;
    Some(&recording[first..=last])
}

/// Samples in one 20 ms frame, for counting what was played.
pub const FRAME_SAMPLES: usize = AUDIO_FRAME_SAMPLES;
