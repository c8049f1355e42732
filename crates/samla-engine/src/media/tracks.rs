//! Which remote participant and kind each incoming `mid` carries.
//!
//! The SFU sends `media_tracks` (the full list) before the offer that adds a track, so media
//! can only arrive on a mid we already know; anything else is counted and dropped rather than
//! guessed at.

use std::collections::HashMap;

use samla_protocol::{ParticipantId, RemoteTrack, TrackKind};

/// The mid → (participant, kind) table from the latest `media_tracks`.
#[derive(Debug, Default, Clone)]
pub struct TrackMap {
    by_mid: HashMap<String, (ParticipantId, TrackKind)>,
}

impl TrackMap {
    /// Replaces the table with the server's latest list (it always sends the full list).
    /// Returns the participants that no longer have any track, so their decoders can go.
    pub fn replace(&mut self, tracks: &[RemoteTrack]) -> Vec<ParticipantId> {
        let before: Vec<ParticipantId> = self.participants();
        self.by_mid = tracks
            .iter()
            .map(|t| (t.mid.clone(), (t.participant, t.kind)))
            .collect();
        let after = self.participants();
        before.into_iter().filter(|p| !after.contains(p)).collect()
    }

    /// Who sends on `mid`, and what.
    pub fn lookup(&self, mid: &str) -> Option<(ParticipantId, TrackKind)> {
        self.by_mid.get(mid).copied()
    }

    /// The mid on which `participant`'s `kind` arrives.
    pub fn mid_of(&self, participant: ParticipantId, kind: TrackKind) -> Option<&str> {
        self.by_mid
            .iter()
            .find(|(_, &(p, k))| p == participant && k == kind)
            .map(|(mid, _)| mid.as_str())
    }

    /// Every participant with at least one track, sorted.
    pub fn participants(&self) -> Vec<ParticipantId> {
        let mut all: Vec<_> = self.by_mid.values().map(|&(p, _)| p).collect();
        all.sort();
        all.dedup();
        all
    }

    pub fn clear(&mut self) {
        self.by_mid.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(mid: &str, p: u32, kind: TrackKind) -> RemoteTrack {
        RemoteTrack {
            mid: mid.into(),
            participant: ParticipantId(p),
            kind,
        }
    }

    #[test]
    fn maps_mids_and_reports_departures() {
        let mut map = TrackMap::default();
        let gone = map.replace(&[
            track("2", 7, TrackKind::Audio),
            track("3", 7, TrackKind::Camera),
            track("4", 9, TrackKind::Audio),
        ]);
        assert!(gone.is_empty());
        assert_eq!(map.lookup("3"), Some((ParticipantId(7), TrackKind::Camera)));
        assert_eq!(map.lookup("5"), None);
        assert_eq!(map.mid_of(ParticipantId(9), TrackKind::Audio), Some("4"));
        assert_eq!(map.participants(), vec![ParticipantId(7), ParticipantId(9)]);

        // A mid is reused for someone else once the old track is gone.
        let gone = map.replace(&[track("2", 9, TrackKind::Audio)]);
        assert_eq!(gone, vec![ParticipantId(7)]);
        assert_eq!(map.lookup("2"), Some((ParticipantId(9), TrackKind::Audio)));
        assert_eq!(map.lookup("3"), None);
    }
}
