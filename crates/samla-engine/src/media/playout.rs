//! Playout: the decoder thread queues every remote's decoded audio in the [`Mixer`]
//! ([`MixerFeed`], a [`FrameSink`]); a playout thread takes one mixed frame from it every
//! 20 ms and hands it to the session's one [`AudioSink`] (the speaker, which in the app is
//! wrapped so the echo canceller hears what it plays).
//!
//! The thread keeps its own 20 ms clock rather than waiting for packets, so a remote that
//! is late or silent never stalls the others; `AudioSink::play` does not block, and the
//! sink bounds its own queue when the device runs slower than this clock.

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
/// clock afresh instead of playing the missed frames in a burst.
const RESYNC_AFTER: Duration = Duration::from_millis(200);

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

/// Starts the playout thread. It ends when the returned sender is dropped.
pub fn spawn_playout(
    mixer: Arc<Mutex<Mixer>>,
    mut sink: Box<dyn AudioSink>,
) -> std::io::Result<std_mpsc::Sender<()>> {
    let (stop_tx, stop_rx) = std_mpsc::channel::<()>();
    thread::Builder::new()
        .name("samla-playout".into())
        .spawn(move || {
            let mut frame = AudioFrame::silent();
            for _ in 0..LEAD_FRAMES {
                let _ = sink.play(&frame);
            }
            // Only a change between working and failing is logged: a lost device fails
            // every frame.
            let mut failing = false;
            let mut due = Instant::now();
            while let Err(std_mpsc::TryRecvError::Empty) = stop_rx.try_recv() {
                due += FRAME;
                let now = Instant::now();
                if due > now {
                    thread::sleep(due - now);
                } else if now - due > RESYNC_AFTER {
                    due = now;
                }
                lock(&mixer).mix(&mut frame);
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
        })?;
    Ok(stop_tx)
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
}
