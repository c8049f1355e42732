//! Device lists that follow plugging and unplugging: a thread lists the cameras,
//! microphones and speakers every few seconds and tells the page when something came or went, so that
//! its pickers list what is there now.
//!
//! Polling, not the platforms' hotplug notifications (udev, WASAPI, CoreAudio each differ):
//! listing is cheap, and a picker a couple of seconds behind a plug is what people expect.

use std::thread;
use std::time::Duration;

use samla_media::{DeviceKind, DeviceWatcher};
use tauri::{AppHandle, Emitter};

/// The event that tells the page its device lists changed (no payload: it lists again).
pub const DEVICES_CHANGED_EVENT: &str = "devices-changed";

/// How often the lists are read.
const POLL_EVERY: Duration = Duration::from_secs(3);

/// The kinds the page's pickers offer.
const KINDS: [DeviceKind; 3] = [
    DeviceKind::Camera,
    DeviceKind::Microphone,
    DeviceKind::Speaker,
];

/// Starts the watching thread; it runs as long as the app.
pub fn watch(app: AppHandle) {
    let spawned = thread::Builder::new()
        .name("samla-devices".into())
        .spawn(move || {
            let mut watchers = Watchers::new();
            loop {
                thread::sleep(POLL_EVERY);
                if watchers.poll() {
                    let _ = app.emit_to("main", DEVICES_CHANGED_EVENT, ());
                }
            }
        });
    if let Err(err) = spawned {
        tracing::warn!(%err, "device lists will not follow plugging: no watcher thread");
    }
}

/// One watcher per kind; a kind that cannot be listed (no camera support on this platform,
/// no sound system) is left out rather than retried.
struct Watchers(Vec<DeviceWatcher>);

impl Watchers {
    fn new() -> Self {
        Self(
            KINDS
                .iter()
                .filter_map(|&kind| match DeviceWatcher::new(kind) {
                    Ok(watcher) => Some(watcher),
                    Err(err) => {
                        tracing::info!(?kind, %err, "not watching this kind of device");
                        None
                    }
                })
                .collect(),
        )
    }

    /// Lists again; whether anything was plugged in, unplugged or became the default.
    fn poll(&mut self) -> bool {
        let mut changed = false;
        for watcher in &mut self.0 {
            match watcher.poll() {
                Ok(changes) => {
                    for change in &changes {
                        tracing::info!(?change, "device change");
                    }
                    changed |= !changes.is_empty();
                }
                Err(err) => tracing::debug!(%err, "device listing failed"),
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This machine has no camera or sound card: the lists stay as they are, and polling
    /// them reports no change (a watcher that saw changes without plugging would keep the
    /// page re-listing).
    #[test]
    fn without_plugging_nothing_changes() {
        let mut watchers = Watchers::new();
        assert!(!watchers.poll());
        assert!(!watchers.poll());
    }
}
