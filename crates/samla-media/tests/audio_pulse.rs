//! The microphone and speakers through a Linux desktop's sound server, as the app meets it
//! on Debian, Ubuntu and Fedora today: PipeWire with its PulseAudio server (pipewire-pulse),
//! which cpal's pure-Rust PulseAudio client talks to. Unlike ALSA's device list, the
//! server's names the devices as the desktop shows them and follows their plugging, so the
//! pickers can offer a headset the moment it is plugged in.
//!
//! The machine has no sound card: PipeWire's virtual devices stand in for them (see
//! `support/sound.rs`), and "plugging in a headset" is adding one more.
//!
//! One test in its own binary: the whole process is pointed at the private PipeWire.
#![cfg(target_os = "linux")]

#[path = "support/session.rs"]
mod session;
#[path = "support/sound.rs"]
mod sound;

use std::time::{Duration, Instant, UNIX_EPOCH};

use samla_media::{
    dominant_frequency, list_devices, DeviceChange, DeviceKind, DeviceWatcher, Microphone, Speaker,
    AUDIO_SAMPLE_RATE,
};
use sound::{
    add_node, hear_one_second, play_tone, read_recording, record, remove_node, sounding,
    speak_into, start_audio, write_tone, FRAME_SAMPLES, MIC_NODE, SPEAKER_NODE,
};

const HEADSET_NODE: &str = "samla-test-headset";
const HEADSET: &str = "Samla test headset";
const SPOKEN_HZ: f32 = 660.0;
const PLAYED_HZ: f32 = 440.0;

/// Polls `watcher` until `wanted` is among its changes; panics after 10 s.
fn wait_for_change(
    watcher: &mut DeviceWatcher,
    what: &str,
    wanted: impl Fn(&DeviceChange) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let changes = watcher.poll().unwrap();
        if changes.iter().any(&wanted) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not seen; the list is {:?}",
            watcher.devices()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_desktops_devices_are_listed_by_name_picked_and_follow_plugging() {
    let mut processes = start_audio(true);
    let dir = processes.dir.clone();

    // Listed by the names the desktop shows, the defaults marked; a speaker's monitor
    // (which records what it plays) is not offered as a microphone.
    let mics = list_devices(DeviceKind::Microphone).unwrap();
    let speakers = list_devices(DeviceKind::Speaker).unwrap();
    println!("microphones {mics:?}\nspeakers {speakers:?}");
    assert!(
        mics.iter()
            .any(|d| d.name == "Samla test microphone" && d.is_default),
        "{mics:?}"
    );
    assert!(mics.iter().all(|d| !d.name.contains("Monitor")), "{mics:?}");
    assert!(
        speakers
            .iter()
            .any(|d| d.name == "Samla test speakers" && d.is_default),
        "{speakers:?}"
    );

    // The default microphone hears what is said into it.
    let spoken = dir.join("spoken.wav");
    write_tone(&spoken, SPOKEN_HZ, 30);
    let _mouth = speak_into(&mut processes, &spoken, MIC_NODE);
    let mut mic = Microphone::open(None, UNIX_EPOCH).unwrap();
    let hz = dominant_frequency(&hear_one_second(&mut mic), AUDIO_SAMPLE_RATE);
    println!("the microphone heard {hz:.0} Hz");
    assert!(
        (hz - SPOKEN_HZ).abs() < 10.0,
        "the microphone heard {hz} Hz"
    );
    drop(mic);

    // A headset is plugged in: the lists show it.
    let mut speaker_watch = DeviceWatcher::new(DeviceKind::Speaker).unwrap();
    let mut mic_watch = DeviceWatcher::new(DeviceKind::Microphone).unwrap();
    add_node(&processes, HEADSET_NODE, HEADSET, "Audio/Sink", "[FL FR]");
    add_node(
        &processes,
        &format!("{HEADSET_NODE}-mic"),
        &format!("{HEADSET} microphone"),
        "Audio/Source/Virtual",
        "[MONO]",
    );
    let plugged = |name: String| move |c: &DeviceChange| matches!(c, DeviceChange::Added(d) if d.name == name);
    wait_for_change(
        &mut speaker_watch,
        "the headset among the speakers",
        plugged(HEADSET.into()),
    );
    wait_for_change(
        &mut mic_watch,
        "the headset among the microphones",
        plugged(format!("{HEADSET} microphone")),
    );
    let headset = speaker_watch
        .devices()
        .into_iter()
        .find(|d| d.name == HEADSET)
        .unwrap();

    // Picked, it plays there, and not on the speakers.
    let on_headset = dir.join("headset.wav");
    let on_speakers = dir.join("speakers.wav");
    let headset_rec = record(&processes, HEADSET_NODE, &on_headset);
    let speakers_rec = record(&processes, SPEAKER_NODE, &on_speakers);
    let mut speaker = Speaker::open(Some(&headset.id)).unwrap();
    play_tone(&mut speaker, PLAYED_HZ, 25);
    drop(speaker);
    drop(headset_rec);
    drop(speakers_rec);
    let heard = read_recording(&on_headset, 2);
    let elsewhere = read_recording(&on_speakers, 2);
    let tone = sounding(&heard).unwrap_or_else(|| {
        panic!(
            "the headset played nothing ({} samples recorded there; the speakers got {:?} loud samples)",
            heard.len(),
            sounding(&elsewhere).map(<[i16]>::len)
        )
    });
    let hz = dominant_frequency(tone, AUDIO_SAMPLE_RATE);
    println!("the headset played {hz:.0} Hz for {} samples", tone.len());
    assert!((hz - PLAYED_HZ).abs() < 10.0, "the headset played {hz} Hz");
    // All of it, without a gap (within one period of the tone: a sine crosses zero).
    let sent = 25 * FRAME_SAMPLES;
    let period = (AUDIO_SAMPLE_RATE as f32 / PLAYED_HZ) as usize + 1;
    assert!(
        tone.len().abs_diff(sent) <= period,
        "{} of {sent} samples played",
        tone.len()
    );
    assert!(
        sounding(&elsewhere).is_none(),
        "the speakers played what was meant for the headset"
    );

    // Unplugged: the lists no longer offer it.
    remove_node(&processes, HEADSET_NODE);
    let unplugged = |c: &DeviceChange| matches!(c, DeviceChange::Removed(d) if d.name == HEADSET);
    wait_for_change(
        &mut speaker_watch,
        "the headset gone from the speakers",
        unplugged,
    );
}
