//! The `--events-json` recording: every event with its time since the command started.

use std::path::Path;

use anyhow::Context;
use samla_engine::Event;
use serde::Serialize;
use tokio::time::Instant;

#[derive(Serialize)]
struct Entry {
    t_ms: u64,
    event: Event,
}

/// Collects events in memory; written once, on exit, so a crash mid-write cannot leave
/// half a file behind while the session is still running.
pub struct Recorder {
    start: Instant,
    entries: Vec<Entry>,
}

impl Recorder {
    pub fn new(start: Instant) -> Self {
        Self {
            start,
            entries: Vec::new(),
        }
    }

    pub fn record(&mut self, event: &Event) {
        let t_ms = self
            .start
            .elapsed()
            .as_millis()
            .try_into()
            .unwrap_or(u64::MAX);
        self.entries.push(Entry {
            t_ms,
            event: event.clone(),
        });
    }

    /// Writes the events as one JSON array.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let json = serde_json::to_vec_pretty(&self.entries)?;
        std::fs::write(path, json).with_context(|| format!("could not write {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_json_array_of_timed_events() {
        let mut recorder = Recorder::new(Instant::now());
        recorder.record(&Event::Reconnecting { attempt: 1 });
        recorder.record(&Event::Ended);
        let path = std::env::temp_dir().join(format!("samla-recorder-{}.json", std::process::id()));
        recorder.write(&path).unwrap();
        let written: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        std::fs::remove_file(&path).unwrap();
        let entries = written.as_array().unwrap();
        assert_eq!(entries.len(), 2);
        assert!(entries[0]["t_ms"].is_u64());
        assert_eq!(entries[1]["event"]["event"], "ended");
    }
}
