//! Delays between reconnect attempts: exponential, capped, with jitter.
//!
//! When a server restarts or a network blip drops many clients at once, they must not all
//! come back in the same instant. Each delay is half fixed and half random ("equal jitter"),
//! so retries spread out but never collapse to zero.

use std::time::Duration;

use rand::Rng;

/// Exponential backoff: the ceiling starts at `initial` and doubles up to `max`.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    ceiling: Duration,
    max: Duration,
}

impl Backoff {
    pub(crate) const INITIAL: Duration = Duration::from_millis(200);
    pub(crate) const MAX: Duration = Duration::from_secs(5);

    pub(crate) fn new(initial: Duration, max: Duration) -> Self {
        Self {
            ceiling: initial.min(max),
            max,
        }
    }

    /// The delay before the next attempt: uniformly in `[ceiling / 2, ceiling]`.
    pub(crate) fn next_delay<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Duration {
        let ceiling = self.ceiling;
        self.ceiling = (ceiling * 2).min(self.max);
        let half = ceiling / 2;
        half + rng.random_range(Duration::ZERO..=half)
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Self::INITIAL, Self::MAX)
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn doubles_up_to_the_cap_with_bounded_jitter() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut backoff = Backoff::default();
        let ceilings_ms = [200, 400, 800, 1600, 3200, 5000, 5000, 5000];
        for ceiling_ms in ceilings_ms {
            let delay = backoff.next_delay(&mut rng);
            let ceiling = Duration::from_millis(ceiling_ms);
            assert!(
                delay >= ceiling / 2 && delay <= ceiling,
                "{delay:?} not within [{:?}, {ceiling:?}]",
                ceiling / 2
            );
        }
    }

    #[test]
    fn jitter_actually_varies() {
        let mut rng = StdRng::seed_from_u64(1);
        let delays: Vec<Duration> = (0..20)
            .map(|_| Backoff::default().next_delay(&mut rng))
            .collect();
        assert!(delays.iter().any(|d| *d != delays[0]));
    }

    #[test]
    fn an_initial_delay_above_the_cap_is_capped() {
        let mut backoff = Backoff::new(Duration::from_secs(10), Duration::from_secs(1));
        assert!(backoff.next_delay(&mut rand::rng()) <= Duration::from_secs(1));
    }
}
