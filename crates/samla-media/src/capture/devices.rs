//! Device lists for the pickers, and following them as devices come and go.
//!
//! No platform offers one hot-plug API across audio, cameras and screens, so
//! [`DeviceWatcher`] polls [`list_devices`] and reports the difference. A
//! poll costs a few milliseconds (an ALSA/V4L2 enumeration); a picker that
//! polls once a second notices a plugged headset in under a second.

use std::collections::HashMap;

#[cfg(feature = "devices")]
use super::audio;
#[cfg(all(
    feature = "devices",
    any(target_os = "linux", windows, target_os = "macos")
))]
use super::camera;
use super::{screen, CaptureError, DeviceKind};

/// One device as the pickers show it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DeviceInfo {
    /// What it is.
    pub kind: DeviceKind,
    /// Stable identifier to open it with (and to remember the user's choice).
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// Whether the system uses it when nothing is chosen.
    pub is_default: bool,
}

/// Every device of `kind` the system offers now.
///
/// An empty list is not an error (a desktop without a camera); an error means
/// the subsystem itself is unavailable (no audio server, no X display).
pub fn list_devices(kind: DeviceKind) -> Result<Vec<DeviceInfo>, CaptureError> {
    match kind {
        #[cfg(feature = "devices")]
        DeviceKind::Microphone | DeviceKind::Speaker => audio::list(kind),
        #[cfg(all(
            feature = "devices",
            any(target_os = "linux", windows, target_os = "macos")
        ))]
        DeviceKind::Camera => camera::list(),
        #[cfg(all(
            feature = "devices",
            not(any(target_os = "linux", windows, target_os = "macos"))
        ))]
        DeviceKind::Camera => Err(CaptureError::NotSupported {
            kind,
            platform: "this operating system",
        }),
        #[cfg(not(feature = "devices"))]
        DeviceKind::Microphone | DeviceKind::Speaker | DeviceKind::Camera => {
            Err(CaptureError::NotSupported {
                kind,
                platform: "this build (samla-media without its `devices` feature)",
            })
        }
        DeviceKind::Screen | DeviceKind::Window => screen::list(kind),
    }
}

/// A change between two polls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceChange {
    /// A device appeared (plugged in, window opened).
    Added(DeviceInfo),
    /// A device disappeared (unplugged, window closed).
    Removed(DeviceInfo),
    /// The system's default device of a kind changed to this one.
    DefaultChanged(DeviceInfo),
}

/// Follows the device list of one kind by polling.
#[derive(Debug)]
pub struct DeviceWatcher {
    kind: DeviceKind,
    known: HashMap<String, DeviceInfo>,
}

impl DeviceWatcher {
    /// Starts with the current list, which [`DeviceWatcher::devices`] returns.
    pub fn new(kind: DeviceKind) -> Result<Self, CaptureError> {
        let mut watcher = Self {
            kind,
            known: HashMap::new(),
        };
        watcher.poll()?;
        Ok(watcher)
    }

    /// The devices seen at the last poll, default first, then by name.
    pub fn devices(&self) -> Vec<DeviceInfo> {
        let mut list: Vec<_> = self.known.values().cloned().collect();
        list.sort_by(|a, b| b.is_default.cmp(&a.is_default).then(a.name.cmp(&b.name)));
        list
    }

    /// Lists the devices again and returns what changed since the last call.
    pub fn poll(&mut self) -> Result<Vec<DeviceChange>, CaptureError> {
        let now = list_devices(self.kind)?;
        Ok(self.update(now))
    }

    fn update(&mut self, now: Vec<DeviceInfo>) -> Vec<DeviceChange> {
        let mut changes = Vec::new();
        let mut next = HashMap::with_capacity(now.len());
        for device in now {
            match self.known.remove(&device.id) {
                None => changes.push(DeviceChange::Added(device.clone())),
                Some(old) if device.is_default && !old.is_default => {
                    changes.push(DeviceChange::DefaultChanged(device.clone()));
                }
                Some(_) => {}
            }
            next.insert(device.id.clone(), device);
        }
        changes.extend(self.known.drain().map(|(_, d)| DeviceChange::Removed(d)));
        self.known = next;
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mic(id: &str, is_default: bool) -> DeviceInfo {
        DeviceInfo {
            kind: DeviceKind::Microphone,
            id: id.into(),
            name: id.to_uppercase(),
            is_default,
        }
    }

    #[test]
    fn reports_plugging_unplugging_and_default_changes() {
        let mut w = DeviceWatcher {
            kind: DeviceKind::Microphone,
            known: HashMap::new(),
        };
        assert_eq!(
            w.update(vec![mic("a", true)]),
            vec![DeviceChange::Added(mic("a", true))]
        );
        let changes = w.update(vec![mic("a", false), mic("b", true)]);
        assert_eq!(
            changes,
            vec![DeviceChange::Added(mic("b", true))],
            "a losing the default is implied by b gaining it"
        );
        assert_eq!(
            w.update(vec![mic("b", true)]),
            vec![DeviceChange::Removed(mic("a", false))]
        );
        assert!(w.update(vec![mic("b", true)]).is_empty());
        w.update(vec![mic("b", false), mic("c", false)]);
        assert_eq!(
            w.update(vec![mic("b", true), mic("c", false)]),
            vec![DeviceChange::DefaultChanged(mic("b", true))]
        );
        assert_eq!(w.devices()[0].id, "b");
    }
}
