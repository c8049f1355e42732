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
#[path = "support/sound.rs"]
mod sound;

use std::time::UNIX_EPOCH;

use samla_media::{
    dominant_frequency, list_devices, DeviceKind, Microphone, Speaker, AUDIO_SAMPLE_RATE,
};
use sound::{
    hear_one_second, play_tone, read_recording, record, sounding, speak_into, start_audio,
    write_tone, FRAME_SAMPLES, MIC_NODE, SPEAKER_NODE,
};

const SPOKEN_HZ: f32 = 660.0;
const PLAYED_HZ: f32 = 440.0;

#[test]
fn the_microphone_hears_and_the_speakers_play_through_alsa_and_pipewire() {
    let mut processes = start_audio(false);
    let dir = processes.dir.clone();

    // Both kinds list the system's default device: ALSA's, as no sound server runs here.
    for kind in [DeviceKind::Microphone, DeviceKind::Speaker] {
        let devices = list_devices(kind).unwrap();
        assert!(
            devices
                .iter()
                .any(|d| d.is_default && d.id.starts_with("alsa:")),
            "no default ALSA {kind} among {devices:?}"
        );
    }

    // Someone speaks into the microphone: a 660 Hz tone played into the virtual source.
    let spoken = dir.join("spoken.wav");
    write_tone(&spoken, SPOKEN_HZ, 30);
    let _mouth = speak_into(&mut processes, &spoken, MIC_NODE);
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
    let heard = hear_one_second(&mut mic);
    let hz = dominant_frequency(&heard, AUDIO_SAMPLE_RATE);
    println!("the microphone heard {hz:.0} Hz");
    assert!(
        (hz - SPOKEN_HZ).abs() < 10.0,
        "the microphone heard {hz} Hz, the tone is {SPOKEN_HZ} Hz"
    );
    drop(mic);

    // The speakers play one second of a 440 Hz tone; what comes out is recorded.
    let recorded = dir.join("played.wav");
    let recorder = record(&processes, SPEAKER_NODE, &recorded);
    let mut speaker = Speaker::open(None).unwrap();
    let frames = AUDIO_SAMPLE_RATE as usize / FRAME_SAMPLES;
    play_tone(&mut speaker, PLAYED_HZ, frames);
    drop(speaker);
    drop(recorder);

    let played = read_recording(&recorded, 2);
    let sounding = sounding(&played).expect("the speakers played nothing");
    let hz = dominant_frequency(sounding, AUDIO_SAMPLE_RATE);
    assert!(
        (hz - PLAYED_HZ).abs() < 10.0,
        "the speakers played {hz} Hz, the tone is {PLAYED_HZ} Hz"
    );
    // All of it, once, without gaps: as long as what was sent (a sine crosses zero, so the
    // length is measured from the first to the last loud sample, within one period).
    let sent = frames * FRAME_SAMPLES;
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
