//! Active speaker detection from the RFC 6464 audio level header extension, and the choice of
//! whose audio is forwarded in a large meeting: pure, no I/O.
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

/// In a meeting with more audio publishers than this, only the audio of this many speakers
/// (the loudest) is forwarded: three voices at once is already more than anyone follows, and
/// forty silent streams would cost every subscriber bandwidth and decoding for nothing.
pub const FORWARDED_SPEAKERS: usize = 3;

/// How often the forwarded speakers are re-chosen. Short, so that someone who starts talking
/// loses little of their first word.
const CHOOSE_EVERY: Duration = Duration::from_millis(100);

/// Weight of one new sample (20 ms of audio) in the moving average: a time constant of about
/// 200 ms.
const ALPHA: f32 = 0.1;

#[derive(Debug, Default)]
pub struct SpeakerDetector {
    speakers: Vec<Speaker>,
    current: Option<ParticipantId>,
    last_evaluated: Option<Instant>,
    /// Whose audio is forwarded while more than [`FORWARDED_SPEAKERS`] publish audio.
    forwarded: Vec<ParticipantId>,
    last_chosen: Option<Instant>,
    /// Indices into `speakers`, reused by each choice so that it does not allocate.
    order: Vec<usize>,
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
        self.forwarded.retain(|f| *f != id);
        if self.current == Some(id) {
            self.current = None;
        }
    }

    /// Whether `id`'s audio is forwarded: always while few publish audio, else while `id` is
    /// one of the chosen loudest (see [`SpeakerDetector::choose_forwarded`]). A publisher
    /// that sends no audio level cannot be ranked and is always forwarded.
    pub fn forwards(&self, id: ParticipantId) -> bool {
        self.speakers.len() <= FORWARDED_SPEAKERS
            || self.forwarded.contains(&id)
            || !self.speakers.iter().any(|s| s.id == id)
    }

    /// Re-chooses whose audio is forwarded, at most every [`CHOOSE_EVERY`]: the
    /// [`FORWARDED_SPEAKERS`] loudest, with hysteresis. A speaker keeps their place until they
    /// fall silent (no packets for a while) or someone louder than them by [`HYSTERESIS`]
    /// takes it, so that two voices at about the same level do not take turns being cut.
    pub fn choose_forwarded(&mut self, now: Instant) {
        if self
            .last_chosen
            .is_some_and(|t| now.saturating_duration_since(t) < CHOOSE_EVERY)
        {
            return;
        }
        self.last_chosen = Some(now);
        let speakers = &self.speakers;
        let live = |s: &Speaker| now.saturating_duration_since(s.heard) < STALE_AFTER;
        self.forwarded
            .retain(|id| speakers.iter().any(|s| s.id == *id && live(s)));
        self.order.clear();
        self.order.extend(
            (0..speakers.len())
                .filter(|&i| live(&speakers[i]) && !self.forwarded.contains(&speakers[i].id)),
        );
        self.order
            .sort_by(|&a, &b| speakers[b].loudness.total_cmp(&speakers[a].loudness));
        let loudness = |id: ParticipantId| {
            speakers
                .iter()
                .find(|s| s.id == id)
                .map_or(0.0, |s| s.loudness)
        };
        for &i in &self.order {
            let candidate = &speakers[i];
            if self.forwarded.len() < FORWARDED_SPEAKERS {
                self.forwarded.push(candidate.id);
                continue;
            }
            let Some((slot, quietest)) = self
                .forwarded
                .iter()
                .map(|&id| loudness(id))
                .enumerate()
                .min_by(|a, b| a.1.total_cmp(&b.1))
            else {
                break;
            };
            if candidate.loudness < quietest + HYSTERESIS {
                // Candidates come loudest first: no later one beats the quietest either.
                break;
            }
            self.forwarded[slot] = candidate.id;
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

    /// 1 s of 20 ms packets at these levels (−dBov) from participants 1, 2, … in order.
    fn talk(d: &mut SpeakerDetector, t: &mut Instant, levels: &[i8]) {
        for _ in 0..50 {
            *t += Duration::from_millis(20);
            for (i, &level) in levels.iter().enumerate() {
                d.observe(ParticipantId(i as u32 + 1), level, *t);
            }
            d.choose_forwarded(*t);
        }
    }

    fn forwarded(d: &SpeakerDetector, n: u32) -> Vec<u32> {
        (1..=n).filter(|&i| d.forwards(ParticipantId(i))).collect()
    }

    #[test]
    fn only_the_loudest_three_are_forwarded_and_they_do_not_flap() {
        let mut d = SpeakerDetector::default();
        let mut t = Instant::now();
        talk(&mut d, &mut t, &[-30, -127, -127]);
        assert_eq!(
            forwarded(&d, 3),
            [1, 2, 3],
            "three publishers: all forwarded"
        );

        // Six publish: the three loudest are forwarded.
        talk(&mut d, &mut t, &[-30, -40, -50, -127, -60, -127]);
        assert_eq!(forwarded(&d, 6), [1, 2, 3]);
        // 5 gets a little louder than 3 (within the hysteresis): nobody changes.
        talk(&mut d, &mut t, &[-30, -40, -50, -127, -47, -127]);
        assert_eq!(forwarded(&d, 6), [1, 2, 3]);
        // 5 gets clearly louder: 5 takes the quietest place.
        talk(&mut d, &mut t, &[-30, -40, -50, -127, -20, -127]);
        assert_eq!(forwarded(&d, 6), [1, 2, 5]);
        // 1 leaves (no more packets): the loudest of the rest takes the place.
        for _ in 0..100 {
            t += Duration::from_millis(20);
            for (i, level) in [(2, -40), (3, -50), (4, -127), (5, -20), (6, -127)] {
                d.observe(ParticipantId(i), level, t);
            }
            d.choose_forwarded(t);
        }
        assert_eq!(forwarded(&d, 6), [2, 3, 5]);
        d.remove(ParticipantId(5));
        d.choose_forwarded(t + Duration::from_secs(1));
        assert!(d.forwards(ParticipantId(2)) && d.forwards(ParticipantId(3)));
    }

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
