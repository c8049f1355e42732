//! Active speaker detection from the RFC 6464 audio level header extension: pure, no I/O.
//!
//! The level is read from the RTP header extension, which SRTP leaves unencrypted; the audio
//! payload itself is never looked at.

use std::time::{Duration, Instant};

use samla_protocol::ParticipantId;

/// How often the loudest speaker may change: at most twice a second.
pub const EVALUATE_EVERY: Duration = Duration::from_millis(500);

/// Someone not heard from for this long is not a candidate.
const STALE_AFTER: Duration = Duration::from_millis(1500);

/// Smoothed loudness (0 silence … 127 loudest) a speaker needs to count as speaking: about
/// −50 dBov.
const SPEAKING: f32 = 77.0;

/// A new speaker must be this much louder than the current one (if still speaking) to take over,
/// so two people at the same level do not flip back and forth.
const HYSTERESIS: f32 = 6.0;

/// Weight of one new sample (20 ms of audio) in the moving average: a time constant of about
/// 200 ms.
const ALPHA: f32 = 0.1;

#[derive(Debug, Default)]
pub struct SpeakerDetector {
    speakers: Vec<Speaker>,
    current: Option<ParticipantId>,
    last_evaluated: Option<Instant>,
}

#[derive(Debug)]
struct Speaker {
    id: ParticipantId,
    loudness: f32,
    heard: Instant,
}

impl SpeakerDetector {
    /// One audio packet's level, in −dBov as the extension carries it (0 loudest, −127 silence).
    pub fn observe(&mut self, id: ParticipantId, level: i8, now: Instant) {
        let loudness = 127.0 - f32::from(level.unsigned_abs().min(127));
        match self.speakers.iter_mut().find(|s| s.id == id) {
            Some(s) => {
                s.loudness += ALPHA * (loudness - s.loudness);
                s.heard = now;
            }
            None => self.speakers.push(Speaker {
                id,
                loudness: loudness * ALPHA,
                heard: now,
            }),
        }
    }

    pub fn remove(&mut self, id: ParticipantId) {
        self.speakers.retain(|s| s.id != id);
        if self.current == Some(id) {
            self.current = None;
        }
    }

    /// The new loudest speaker, if it changed; evaluates at most every [`EVALUATE_EVERY`].
    pub fn evaluate(&mut self, now: Instant) -> Option<ParticipantId> {
        if self
            .last_evaluated
            .is_some_and(|t| now.saturating_duration_since(t) < EVALUATE_EVERY)
        {
            return None;
        }
        self.last_evaluated = Some(now);
        let live = |s: &&Speaker| {
            now.saturating_duration_since(s.heard) < STALE_AFTER && s.loudness >= SPEAKING
        };
        let loudest = self
            .speakers
            .iter()
            .filter(live)
            .max_by(|a, b| a.loudness.total_cmp(&b.loudness))?;
        if Some(loudest.id) == self.current {
            return None;
        }
        let current = self
            .speakers
            .iter()
            .filter(live)
            .find(|s| Some(s.id) == self.current);
        if let Some(current) = current {
            if loudest.loudness < current.loudness + HYSTERESIS {
                return None;
            }
        }
        self.current = Some(loudest.id);
        self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loudest_recent_speaker_wins_at_most_twice_a_second() {
        let mut d = SpeakerDetector::default();
        let t0 = Instant::now();
        let (a, b) = (ParticipantId(1), ParticipantId(2));
        let mut t = t0;
        for _ in 0..50 {
            t += Duration::from_millis(20);
            d.observe(a, -20, t);
            d.observe(b, -127, t);
        }
        assert_eq!(d.evaluate(t), Some(a));
        assert_eq!(d.evaluate(t), None, "no change");
        for _ in 0..50 {
            t += Duration::from_millis(20);
            d.observe(a, -127, t);
            d.observe(b, -10, t);
        }
        assert_eq!(d.evaluate(t), Some(b));
        d.observe(a, 0, t);
        assert_eq!(
            d.evaluate(t + Duration::from_millis(100)),
            None,
            "throttled"
        );
        d.remove(b);
        assert_eq!(d.evaluate(t + Duration::from_secs(1)), None, "a is quiet");
    }
}
