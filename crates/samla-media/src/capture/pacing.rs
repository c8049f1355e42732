use std::time::{Duration, Instant};

use super::Pacing;

/// Spaces synthetic frames on a fixed schedule measured from the first frame,
/// so sleep jitter does not accumulate into drift.
#[derive(Debug)]
pub(crate) struct Pacer {
    pacing: Pacing,
    interval: Duration,
    start: Option<Instant>,
    frames: u32,
}

impl Pacer {
    pub(crate) fn new(pacing: Pacing, interval: Duration) -> Self {
        Self {
            pacing,
            interval,
            start: None,
            frames: 0,
        }
    }

    /// Blocks (when real-time) until the next frame is due.
    pub(crate) fn wait(&mut self) {
        if self.pacing == Pacing::Unpaced {
            return;
        }
        let start = *self.start.get_or_insert_with(Instant::now);
        let due = start + self.interval * self.frames;
        self.frames = self.frames.wrapping_add(1);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_time_pacing_spaces_frames() {
        let mut pacer = Pacer::new(Pacing::RealTime, Duration::from_millis(10));
        let start = Instant::now();
        for _ in 0..4 {
            pacer.wait();
        }
        assert!(start.elapsed() >= Duration::from_millis(30));
    }
}
