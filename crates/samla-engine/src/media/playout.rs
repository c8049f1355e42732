//! Playout: the decoder thread queues every remote's decoded audio in the [`Mixer`]
//! ([`MixerFeed`], a [`FrameSink`]); a playout thread takes one mixed frame from it every
//! 20 ms and hands it to the session's one [`AudioSink`] (the speaker, which in the app is
//! wrapped so the echo canceller hears what it plays).
//!
//! The thread never waits for packets, so a remote that is late or silent never stalls the
//! others. Its clock is the sound card's where the sink has one (a speaker, which says how
//! much it still holds): it keeps that queue topped up to [`LEAD_FRAMES`] frames as the
//! device drains it, so a card running a little fast or slow against the system clock
//! neither runs dry nor builds up delay over a long lecture. A sink without a device clock (a
//! file) gets a frame every 20 ms of system time.
//!
//! The sink can be replaced while the thread runs ([`Playout::set_sink`]): a user who plugs
//! in a headset mid-lecture, or picks another speaker before joining, switches without the
//! connection, the mixer or the echo canceller starting over.

use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use samla_media::{AudioFrame, AudioSink};
use samla_protocol::ParticipantId;

use super::mixer::Mixer;
use super::receive::FrameSink;

/// Silent frames played before the first mix: the device's own buffer starts this far
/// ahead, so the playout clock being a little late does not underrun it.
const LEAD_FRAMES: usize = 2;
/// When the thread wakes this late (the machine was suspended or starved), it starts its
/// clock afresh instead of playing the missed frames in a burst. Also how long a device
/// that stopped draining is waited for before frames go to it anyway (its queue is bounded,
/// and playing is what reports a failed device).
const RESYNC_AFTER: Duration = Duration::from_millis(200);
/// How often a device-clocked sink's queue is looked at: well inside one frame.
const DEVICE_POLL: Duration = Duration::from_millis(5);

const FRAME: Duration = Duration::from_micros(AudioFrame::DURATION_US);

fn lock(mixer: &Mutex<Mixer>) -> MutexGuard<'_, Mixer> {
    mixer.lock().unwrap_or_else(|e| e.into_inner())
}

/// Queues decoded audio in the mixer; video passes by.
pub struct MixerFeed(pub Arc<Mutex<Mixer>>);

impl FrameSink for MixerFeed {
    fn audio(&mut self, participant: ParticipantId, frame: &AudioFrame) {
        lock(&self.0).push(participant, frame);
    }

    fn forget(&mut self, participant: ParticipantId) {
        lock(&self.0).forget(participant);
    }
}

/// The running playout thread. Dropping it stops the thread.
pub struct Playout {
    sinks: std_mpsc::Sender<Box<dyn AudioSink>>,
}

impl Playout {
    /// Plays into `sink` from the next frame on (the old sink is dropped, which closes its
    /// device). Gives `sink` back when the thread has ended.
    pub fn set_sink(&self, sink: Box<dyn AudioSink>) -> Result<(), Box<dyn AudioSink>> {
        self.sinks.send(sink).map_err(|returned| returned.0)
    }
}

/// Starts the playout thread, playing into `sink`.
pub fn spawn_playout(
    mixer: Arc<Mutex<Mixer>>,
    sink: Box<dyn AudioSink>,
) -> std::io::Result<Playout> {
    let (sinks_tx, sinks_rx) = std_mpsc::channel::<Box<dyn AudioSink>>();
    thread::Builder::new()
        .name("samla-playout".into())
        .spawn(move || play(&mixer, sink, &sinks_rx))?;
    Ok(Playout { sinks: sinks_tx })
}

/// The playout loop: until the [`Playout`] is dropped, one mixed frame per frame the
/// sink's clock (or the system's) asks for.
fn play(
    mixer: &Mutex<Mixer>,
    mut sink: Box<dyn AudioSink>,
    sinks: &std_mpsc::Receiver<Box<dyn AudioSink>>,
) {
    let mut frame = AudioFrame::silent();
    let lead = FRAME * LEAD_FRAMES as u32;
    // A new device starts with its own lead of silence, so it does not underrun.
    let start = |sink: &mut Box<dyn AudioSink>| {
        let silence = AudioFrame::silent();
        for _ in 0..LEAD_FRAMES {
            let _ = sink.play(&silence);
        }
    };
    start(&mut sink);
    // Only a change between working and failing is logged: a lost device fails every frame.
    let mut failing = false;
    let mut due = Instant::now();
    let mut played_at = Instant::now();
    loop {
        match sinks.try_recv() {
            Ok(next) => {
                sink = next;
                start(&mut sink);
                failing = false;
                due = Instant::now();
                played_at = Instant::now();
                tracing::info!("audio now plays on another device");
            }
            Err(std_mpsc::TryRecvError::Empty) => {}
            Err(std_mpsc::TryRecvError::Disconnected) => return,
        }
        match sink.queued() {
            // The sound card's clock: top its queue up to the lead as it drains.
            Some(queued) => {
                if queued >= lead && played_at.elapsed() < RESYNC_AFTER {
                    thread::sleep(DEVICE_POLL);
                    continue;
                }
            }
            // No device clock: one frame every 20 ms of system time.
            None => {
                due += FRAME;
                let now = Instant::now();
                if due > now {
                    thread::sleep(due - now);
                } else if now - due > RESYNC_AFTER {
                    due = now;
                }
            }
        }
        played_at = Instant::now();
        lock(mixer).mix(&mut frame);
        frame.timestamp_us += AudioFrame::DURATION_US;
        match sink.play(&frame) {
            Ok(()) if failing => {
                tracing::info!("audio playback works again");
                failing = false;
            }
            Ok(()) => {}
            Err(err) if !failing => {
                tracing::warn!(%err, "audio playback failed");
                failing = true;
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use samla_media::CaptureError;

    use super::*;

    /// Records what is played.
    struct Recorder(Arc<Mutex<Vec<AudioFrame>>>);

    impl AudioSink for Recorder {
        fn play(&mut self, frame: &AudioFrame) -> Result<(), CaptureError> {
            self.0.lock().unwrap().push(frame.clone());
            Ok(())
        }
    }

    /// A sound card whose clock runs `rate` times as fast as the system's: it drains its
    /// queue at that rate and counts how long it had nothing to play.
    struct Device(Arc<Mutex<DeviceState>>);

    struct DeviceState {
        rate: f64,
        queued_us: f64,
        dry_us: f64,
        most_us: f64,
        frames: usize,
        last: Instant,
        started: bool,
    }

    impl DeviceState {
        fn drain(&mut self) {
            let now = Instant::now();
            let drained = now.duration_since(self.last).as_micros() as f64 * self.rate;
            self.last = now;
            if self.started && drained > self.queued_us {
                self.dry_us += drained - self.queued_us;
            }
            self.queued_us = (self.queued_us - drained).max(0.0);
        }
    }

    impl AudioSink for Device {
        fn play(&mut self, _frame: &AudioFrame) -> Result<(), CaptureError> {
            let mut d = self.0.lock().unwrap();
            d.drain();
            d.queued_us += AudioFrame::DURATION_US as f64;
            d.most_us = d.most_us.max(d.queued_us);
            d.frames += 1;
            // Counted from the first frame on, as a card starts with its first buffer.
            d.started = true;
            Ok(())
        }

        fn queued(&self) -> Option<Duration> {
            let mut d = self.0.lock().unwrap();
            d.drain();
            Some(Duration::from_micros(d.queued_us as u64))
        }
    }

    /// Plays into a device running at `rate` for `run`; its state afterwards.
    fn play_on_device(rate: f64, run: Duration) -> (usize, f64, f64) {
        let state = Arc::new(Mutex::new(DeviceState {
            rate,
            queued_us: 0.0,
            dry_us: 0.0,
            most_us: 0.0,
            frames: 0,
            last: Instant::now(),
            started: false,
        }));
        let mixer = Arc::new(Mutex::new(Mixer::new()));
        let stop = spawn_playout(mixer, Box::new(Device(state.clone()))).unwrap();
        thread::sleep(run);
        drop(stop);
        let d = state.lock().unwrap();
        (d.frames, d.dry_us, d.most_us)
    }

    /// The sound card's clock, not the system's, decides how much is played: a card 20 %
    /// fast or slow (real ones differ by well under 0.1 %, which adds up over a lecture)
    /// gets what it plays, without running dry or queueing more than the lead and a frame.
    #[test]
    fn playout_follows_the_sound_cards_clock() {
        let run = Duration::from_secs(2);
        let per_run = run.as_micros() as f64 / AudioFrame::DURATION_US as f64;
        for rate in [1.2, 0.8] {
            let (frames, dry_us, most_us) = play_on_device(rate, run);
            // Within 8 % (a busy machine wakes the thread late now and then); paced by the
            // system clock the fast card gets 17 % too little and the slow one 25 % too much.
            let expected = per_run * rate;
            assert!(
                (frames as f64 - expected).abs() <= 0.08 * expected + LEAD_FRAMES as f64,
                "a card at {rate}x got {frames} frames in {run:?}, it plays {expected}"
            );
            // Silence for a late wake-up now and then, not a sixth of the time.
            assert!(
                dry_us < 150_000.0,
                "a card at {rate}x ran dry for {dry_us} µs"
            );
            let most = (LEAD_FRAMES + 1) as f64 * AudioFrame::DURATION_US as f64;
            assert!(most_us <= most + 1.0, "a card at {rate}x held {most_us} µs");
        }
    }

    #[test]
    fn fed_audio_is_played_and_a_forgotten_remote_falls_silent() {
        let mixer = Arc::new(Mutex::new(Mixer::new()));
        let mut feed = MixerFeed(mixer.clone());
        let played = Arc::new(Mutex::new(Vec::new()));
        let mut loud = AudioFrame::silent();
        loud.samples.fill(1234);
        for _ in 0..3 {
            feed.audio(ParticipantId(7), &loud);
        }
        let stop = spawn_playout(mixer, Box::new(Recorder(played.clone()))).unwrap();
        let heard = |played: &[AudioFrame]| played.iter().filter(|f| f.samples[0] == 1234).count();
        // Waits on what is played, not on the clock (the harness times a hang out).
        while heard(&played.lock().unwrap()) < 3 {
            thread::sleep(FRAME);
        }
        feed.forget(ParticipantId(7));
        let after = played.lock().unwrap().len();
        while played.lock().unwrap().len() < after + 5 {
            thread::sleep(FRAME);
        }
        drop(stop);
        let played = played.lock().unwrap();
        assert!(played[..LEAD_FRAMES]
            .iter()
            .all(|f| f.samples.iter().all(|&s| s == 0)));
        assert!(played[after..]
            .iter()
            .all(|f| f.samples.iter().all(|&s| s == 0)));
        assert_eq!(heard(&played), 3, "each queued frame plays once");
    }

    /// Another speaker picked mid-call: what is mixed from then on plays on it, starting
    /// with its own lead of silence, and the old one gets nothing more.
    #[test]
    fn a_new_sink_takes_over_the_playout() {
        let mixer = Arc::new(Mutex::new(Mixer::new()));
        let mut feed = MixerFeed(mixer.clone());
        let first = Arc::new(Mutex::new(Vec::new()));
        let second = Arc::new(Mutex::new(Vec::new()));
        let playout = spawn_playout(mixer, Box::new(Recorder(first.clone()))).unwrap();
        while first.lock().unwrap().len() < LEAD_FRAMES + 2 {
            thread::sleep(FRAME);
        }
        assert!(playout.set_sink(Box::new(Recorder(second.clone()))).is_ok());
        while second.lock().unwrap().len() < LEAD_FRAMES {
            thread::sleep(FRAME);
        }
        let first_after_switch = first.lock().unwrap().len();
        let mut loud = AudioFrame::silent();
        loud.samples.fill(777);
        for _ in 0..3 {
            feed.audio(ParticipantId(3), &loud);
        }
        let heard = |played: &[AudioFrame]| played.iter().filter(|f| f.samples[0] == 777).count();
        while heard(&second.lock().unwrap()) < 3 {
            thread::sleep(FRAME);
        }
        drop(playout);
        assert_eq!(
            first.lock().unwrap().len(),
            first_after_switch,
            "the old speaker got more after the switch"
        );
        let second = second.lock().unwrap();
        assert!(second[..LEAD_FRAMES]
            .iter()
            .all(|f| f.samples.iter().all(|&s| s == 0)));
        assert_eq!(heard(&second), 3);
    }
}
