//! Playout mixing: the decoded audio of every remote participant summed into the one stream
//! the speaker plays.
//!
//! Decoded frames arrive on the decoder thread whenever the network delivers them; the
//! speaker wants exactly one frame every 20 ms. Each remote therefore gets a small queue (a
//! jitter buffer) between the two:
//!
//! - A queue starts playing only once it holds [`PREFILL_FRAMES`], so ordinary network
//!   jitter does not empty it between packets.
//! - A queue that runs dry (a late or lost packet, the sender muted or gone, DTX) plays
//!   silence and fills up again: the mix never waits for one remote, and nothing is
//!   repeated. Lost packets are concealed by the decoder (Opus PLC/FEC) when the next one
//!   arrives, and the concealed frames queue like any other.
//! - A queue above [`HIGH_WATER_FRAMES`] (after a burst of late packets) drops one frame
//!   per mix until it is back down, so a stall does not leave a lasting delay; it never
//!   holds more than [`MAX_QUEUE_FRAMES`], whatever the speaker's pace.
//!
//! The mix is a plain sum, saturated to 16 bits. Frames are copied into queues that were
//! allocated when the participant was first heard, so steady-state mixing does not allocate.

use std::collections::{HashMap, VecDeque};

use samla_media::{AudioFrame, AUDIO_FRAME_SAMPLES};
use samla_protocol::ParticipantId;

/// Frames a queue holds before it starts playing (40 ms).
pub const PREFILL_FRAMES: usize = 2;
/// Above this many frames after a mix, one frame is dropped to bring the delay down (100 ms).
pub const HIGH_WATER_FRAMES: usize = 5;
/// Most frames a queue ever holds (200 ms); the oldest goes when a new one comes.
pub const MAX_QUEUE_FRAMES: usize = 10;

type Samples = [i16; AUDIO_FRAME_SAMPLES];

/// One remote participant's jitter buffer.
struct Queue {
    frames: VecDeque<Samples>,
    /// Filling up to [`PREFILL_FRAMES`] (at start and after running dry) when false.
    playing: bool,
}

impl Queue {
    fn new() -> Self {
        Self {
            frames: VecDeque::with_capacity(MAX_QUEUE_FRAMES),
            playing: false,
        }
    }
}

/// Sums the remote participants' audio into one 20 ms frame at a time.
pub struct Mixer {
    remotes: HashMap<ParticipantId, Queue>,
    /// The sum before saturation; kept here so a mix does not zero a fresh buffer.
    sum: Box<[i32; AUDIO_FRAME_SAMPLES]>,
}

impl std::fmt::Debug for Mixer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mixer")
            .field("remotes", &self.remotes.len())
            .finish()
    }
}

impl Default for Mixer {
    fn default() -> Self {
        Self::new()
    }
}

impl Mixer {
    pub fn new() -> Self {
        Self {
            remotes: HashMap::new(),
            sum: Box::new([0; AUDIO_FRAME_SAMPLES]),
        }
    }

    /// Queues one decoded (or concealed) frame of `participant`.
    pub fn push(&mut self, participant: ParticipantId, frame: &AudioFrame) {
        let queue = self.remotes.entry(participant).or_insert_with(Queue::new);
        if queue.frames.len() >= MAX_QUEUE_FRAMES {
            queue.frames.pop_front();
        }
        queue.frames.push_back(frame.samples);
        if queue.frames.len() >= PREFILL_FRAMES {
            queue.playing = true;
        }
    }

    /// Drops what is queued for `participant` (they left).
    pub fn forget(&mut self, participant: ParticipantId) {
        self.remotes.remove(&participant);
    }

    /// Frames queued for `participant`.
    pub fn queued(&self, participant: ParticipantId) -> usize {
        self.remotes.get(&participant).map_or(0, |q| q.frames.len())
    }

    /// Writes the next 20 ms of the mix into `out.samples` (silence when no one is heard).
    /// Returns how many remotes were in it.
    pub fn mix(&mut self, out: &mut AudioFrame) -> usize {
        self.sum.fill(0);
        let mut heard = 0;
        for queue in self.remotes.values_mut() {
            if !queue.playing {
                continue;
            }
            let Some(frame) = queue.frames.pop_front() else {
                // Ran dry: silence until the queue has filled up again.
                queue.playing = false;
                continue;
            };
            heard += 1;
            for (acc, &s) in self.sum.iter_mut().zip(frame.iter()) {
                *acc += i32::from(s);
            }
            if queue.frames.len() > HIGH_WATER_FRAMES {
                queue.frames.pop_front();
            }
        }
        for (o, &acc) in out.samples.iter_mut().zip(self.sum.iter()) {
            *o = acc.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
        }
        heard
    }
}

#[cfg(test)]
mod tests {
    use std::f64::consts::TAU;
    use std::time::UNIX_EPOCH;

    use samla_media::{dominant_frequency, AudioSource, Pacing, Tone, AUDIO_SAMPLE_RATE};

    use super::*;

    const A: ParticipantId = ParticipantId(1);
    const B: ParticipantId = ParticipantId(2);

    fn tone(frequency: f32, amplitude: f32) -> Tone {
        Tone::new(frequency, amplitude, UNIX_EPOCH, Pacing::Unpaced)
    }

    fn next(tone: &mut Tone) -> AudioFrame {
        let mut frame = AudioFrame::silent();
        tone.next_frame(&mut frame).unwrap();
        frame
    }

    fn filled(value: i16) -> AudioFrame {
        let mut frame = AudioFrame::silent();
        frame.samples.fill(value);
        frame
    }

    /// Amplitude of the `frequency` component of `samples` (correlation with a sine and a
    /// cosine), in full-scale units: a tone of amplitude 0.3 measures about 0.3.
    fn amplitude_at(samples: &[i16], frequency: f64) -> f64 {
        let (mut re, mut im) = (0.0, 0.0);
        for (i, &s) in samples.iter().enumerate() {
            let phase = TAU * frequency * i as f64 / f64::from(AUDIO_SAMPLE_RATE);
            re += f64::from(s) * phase.cos();
            im += f64::from(s) * phase.sin();
        }
        2.0 * (re * re + im * im).sqrt() / samples.len() as f64 / 32768.0
    }

    #[test]
    fn two_remotes_are_both_heard_in_the_mix() {
        let mut mixer = Mixer::new();
        let (mut a, mut b) = (tone(400.0, 0.3), tone(700.0, 0.2));
        let mut played = Vec::new();
        let mut out = AudioFrame::silent();
        for _ in 0..50 {
            mixer.push(A, &next(&mut a));
            mixer.push(B, &next(&mut b));
            mixer.mix(&mut out);
            played.extend_from_slice(&out.samples);
        }
        let steady = &played[PREFILL_FRAMES * AUDIO_FRAME_SAMPLES..];
        assert!((dominant_frequency(steady, AUDIO_SAMPLE_RATE) - 400.0).abs() < 2.0);
        let (at_a, at_b) = (amplitude_at(steady, 400.0), amplitude_at(steady, 700.0));
        assert!((at_a - 0.3).abs() < 0.02, "400 Hz at {at_a}");
        assert!((at_b - 0.2).abs() < 0.02, "700 Hz at {at_b}");
        assert!(amplitude_at(steady, 550.0) < 0.01, "nothing else");
    }

    #[test]
    fn a_remote_that_stops_leaves_silence_not_a_repeat() {
        let mut mixer = Mixer::new();
        let mut a = tone(500.0, 0.5);
        let mut out = AudioFrame::silent();
        for _ in 0..4 {
            mixer.push(A, &next(&mut a));
        }
        // Four queued frames play, then nothing more arrives.
        for _ in 0..4 {
            assert_eq!(mixer.mix(&mut out), 1);
            assert!(out.samples.iter().any(|&s| s != 0));
        }
        for _ in 0..10 {
            assert_eq!(mixer.mix(&mut out), 0);
            assert!(out.samples.iter().all(|&s| s == 0));
        }
        // A single late frame waits for a second one before playing again.
        mixer.push(A, &next(&mut a));
        assert_eq!(mixer.mix(&mut out), 0);
        mixer.push(A, &next(&mut a));
        assert_eq!(mixer.mix(&mut out), 1);
    }

    #[test]
    fn a_silent_remote_does_not_hold_up_the_others() {
        let mut mixer = Mixer::new();
        // B was heard once and then stalls; A keeps coming.
        mixer.push(B, &filled(1000));
        mixer.push(B, &filled(1000));
        let mut out = AudioFrame::silent();
        for _ in 0..10 {
            mixer.push(A, &filled(100));
            mixer.mix(&mut out);
        }
        assert_eq!(out.samples[0], 100);
    }

    #[test]
    fn loud_remotes_saturate_instead_of_wrapping() {
        let mut mixer = Mixer::new();
        let mut out = AudioFrame::silent();
        for _ in 0..PREFILL_FRAMES {
            mixer.push(A, &filled(30_000));
            mixer.push(B, &filled(20_000));
            mixer.push(ParticipantId(3), &filled(-30_000));
            mixer.push(ParticipantId(4), &filled(-30_000));
        }
        mixer.mix(&mut out);
        assert!(out.samples.iter().all(|&s| s == -10_000));
        mixer.forget(ParticipantId(3));
        mixer.forget(ParticipantId(4));
        mixer.mix(&mut out);
        assert!(out.samples.iter().all(|&s| s == i16::MAX));
        for _ in 0..PREFILL_FRAMES {
            mixer.push(A, &filled(-30_000));
            mixer.push(B, &filled(-20_000));
        }
        mixer.mix(&mut out);
        assert!(out.samples.iter().all(|&s| s == i16::MIN));
    }

    #[test]
    fn queues_stay_bounded_when_the_speaker_is_slow() {
        let mut mixer = Mixer::new();
        let mut out = AudioFrame::silent();
        // A hundred frames arrive while the speaker takes one every tenth.
        for i in 0..100i16 {
            mixer.push(A, &filled(i));
            assert!(mixer.queued(A) <= MAX_QUEUE_FRAMES);
            if i % 10 == 9 {
                mixer.mix(&mut out);
            }
        }
        assert!(mixer.queued(A) <= MAX_QUEUE_FRAMES);
        // What plays next is recent audio, not the backlog from the start.
        mixer.mix(&mut out);
        assert!(
            out.samples[0] >= 100 - MAX_QUEUE_FRAMES as i16,
            "{}",
            out.samples[0]
        );
    }

    #[test]
    fn a_burst_is_worked_off_down_to_the_high_water_mark() {
        let mut mixer = Mixer::new();
        let mut out = AudioFrame::silent();
        for i in 0..MAX_QUEUE_FRAMES as i16 {
            mixer.push(A, &filled(i));
        }
        // From here on one frame arrives per frame played: the backlog shrinks anyway.
        for _ in 0..MAX_QUEUE_FRAMES {
            mixer.push(A, &filled(0));
            mixer.mix(&mut out);
        }
        assert!(mixer.queued(A) <= HIGH_WATER_FRAMES);
    }
}
