//! Fitting what one subscriber receives into its downlink.
//!
//! Each subscriber's session runs str0m's send-side bandwidth estimate (transport-wide
//! congestion control). The layers picked for its tile sizes may together need more than
//! that: then some of its video tracks get a lower simulcast layer, cameras before screen
//! shares (a lecture's slides matter more than a face), the most expensive first. Audio is
//! never cut; it is small and is taken off the budget first.
//!
//! Going down happens at once; going back up waits [`UPGRADE_HOLD`] after the last step
//! down, so an estimate that wobbles around one layer's rate does not make the picture
//! flip between layers (each switch costs a keyframe).

use std::time::{Duration, Instant};

/// Share of the estimate that video may take: the estimate is a guess, and a queue that
/// builds in the network shows as delay long before it shows as loss.
pub const VIDEO_SHARE: f64 = 0.85;

/// What one forwarded audio stream is assumed to take (Opus voice with FEC, plus headers).
pub const AUDIO_KBPS: u32 = 48;

/// How long after stepping a subscriber's track down it may step up again.
pub const UPGRADE_HOLD: Duration = Duration::from_secs(4);

/// One video track a subscriber receives.
#[derive(Debug, Clone)]
pub struct Wanted {
    /// Bitrate of each layer, low→high (one entry for a track without simulcast).
    pub layer_kbps: Vec<u32>,
    /// The layer its tile size asks for (index into `layer_kbps`).
    pub preferred: usize,
    /// The layer it gets now, if any.
    pub current: Option<usize>,
    /// A screen share: stepped down only after every camera is at its lowest layer.
    pub screen: bool,
    /// When it was last stepped down for bandwidth.
    pub stepped_down: Option<Instant>,
}

/// Picks a layer for each track so that together they fit `budget_kbps`: each gets its
/// preferred layer, unless it was stepped down lately (then no higher than now), lowered
/// one layer at a time until the sum fits or every track is at its lowest layer.
pub fn fit(tracks: &[Wanted], budget_kbps: u32, now: Instant) -> Vec<usize> {
    let mut chosen: Vec<usize> = tracks
        .iter()
        .map(|t| {
            let top = t.layer_kbps.len().saturating_sub(1);
            let held = t
                .stepped_down
                .is_some_and(|at| now.saturating_duration_since(at) < UPGRADE_HOLD);
            match t.current {
                Some(current) if held => t.preferred.min(current),
                _ => t.preferred,
            }
            .min(top)
        })
        .collect();
    while cost(tracks, chosen.iter().copied()) > budget_kbps {
        // The camera (else the screen) whose current layer costs the most goes one down.
        let step = (0..tracks.len())
            .filter(|&i| chosen[i] > 0)
            .max_by_key(|&i| (!tracks[i].screen, tracks[i].layer_kbps[chosen[i]]));
        let Some(i) = step else {
            break; // everything at its lowest layer: the least that still shows a picture
        };
        chosen[i] -= 1;
    }
    chosen
}

/// What `tracks` take at the layers `chosen` (one per track, in order).
pub fn cost(tracks: &[Wanted], chosen: impl IntoIterator<Item = usize>) -> u32 {
    tracks
        .iter()
        .zip(chosen)
        .map(|(t, i)| t.layer_kbps.get(i).copied().unwrap_or(0))
        .fold(0u32, u32::saturating_add)
}

/// The video budget in a downlink estimate, after `audio_streams` forwarded audio streams.
pub fn video_budget(estimate_kbps: u32, audio_streams: usize) -> u32 {
    let video = (f64::from(estimate_kbps) * VIDEO_SHARE) as u32;
    video.saturating_sub(AUDIO_KBPS.saturating_mul(audio_streams as u32))
}

/// The downlink estimate whose [`video_budget`] covers `video_kbps` beside `audio_streams`
/// forwarded audio streams: what to probe for when the preferred layers do not fit.
pub fn estimate_needed(video_kbps: u32, audio_streams: usize) -> u32 {
    let total = video_kbps.saturating_add(AUDIO_KBPS.saturating_mul(audio_streams as u32));
    (f64::from(total) / VIDEO_SHARE).ceil() as u32
}

/// A layer's bitrate when it has not been measured yet (it is not flowing): the nominal
/// rates of samla's encoders, 150, 500 and 1500 kbit/s at 180, 360 and 720 lines, straight
/// lines in between and by pixel count above.
pub fn nominal_kbps(height: u32) -> u32 {
    let h = f64::from(height);
    let kbps = match height {
        0..=180 => 150.0 * h / 180.0,
        181..=360 => 150.0 + (h - 180.0) * 350.0 / 180.0,
        361..=720 => 500.0 + (h - 360.0) * 1000.0 / 360.0,
        _ => 1500.0 * (h / 720.0).powi(2),
    };
    kbps.max(50.0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_needed_gives_a_budget_that_covers_the_video() {
        for (video, audio) in [(150, 0), (150, 1), (538, 1), (1650, 5), (4000, 24)] {
            let needed = estimate_needed(video, audio);
            assert!(
                video_budget(needed, audio) >= video,
                "{video} kbit/s, {audio} audio"
            );
            // And not much more.
            assert!(
                video_budget(needed - 2, audio) < video,
                "{video} kbit/s, {audio} audio"
            );
        }
    }

    fn camera(preferred: usize) -> Wanted {
        Wanted {
            layer_kbps: vec![150, 500, 1500],
            preferred,
            current: Some(preferred),
            screen: false,
            stepped_down: None,
        }
    }

    #[test]
    fn enough_bandwidth_gives_everyone_their_preferred_layer() {
        let now = Instant::now();
        assert_eq!(fit(&[camera(2), camera(1)], 5000, now), vec![2, 1]);
    }

    #[test]
    fn the_most_expensive_camera_steps_down_first() {
        let now = Instant::now();
        // 1500 + 500 = 2000 over 1200: the 720p camera goes to 360p (500 + 500 fits).
        assert_eq!(fit(&[camera(2), camera(1)], 1200, now), vec![1, 1]);
        // Over 700: then one of the two 360p cameras goes to 180p (500 + 150 fits).
        assert_eq!(fit(&[camera(2), camera(1)], 700, now), vec![1, 0]);
    }

    #[test]
    fn a_screen_share_keeps_its_layer_until_every_camera_is_at_its_lowest() {
        let now = Instant::now();
        let screen = Wanted {
            screen: true,
            ..camera(2)
        };
        assert_eq!(fit(&[screen.clone(), camera(2)], 1700, now), vec![2, 0]);
        assert_eq!(fit(&[screen, camera(2)], 800, now), vec![1, 0]);
    }

    #[test]
    fn a_downlink_too_thin_for_anything_still_gets_the_lowest_layers() {
        let now = Instant::now();
        assert_eq!(fit(&[camera(2), camera(2)], 10, now), vec![0, 0]);
    }

    #[test]
    fn a_track_stepped_down_lately_does_not_climb_back_at_once() {
        let now = Instant::now();
        let lowered = Wanted {
            current: Some(0),
            stepped_down: Some(now),
            ..camera(2)
        };
        assert_eq!(fit(std::slice::from_ref(&lowered), 5000, now), vec![0]);
        let later = now + UPGRADE_HOLD;
        assert_eq!(fit(&[lowered], 5000, later), vec![2]);
    }

    #[test]
    fn a_track_without_simulcast_counts_but_cannot_step_down() {
        let now = Instant::now();
        let single = Wanted {
            layer_kbps: vec![900],
            preferred: 0,
            current: Some(0),
            screen: true,
            stepped_down: None,
        };
        assert_eq!(fit(&[single, camera(2)], 1400, now), vec![0, 1]);
    }

    #[test]
    fn audio_comes_off_the_budget_first() {
        assert_eq!(video_budget(1000, 0), 850);
        assert_eq!(video_budget(1000, 3), 850 - 3 * AUDIO_KBPS);
        assert_eq!(video_budget(100, 3), 0);
    }

    #[test]
    fn nominal_rates_follow_the_encoders() {
        assert_eq!(nominal_kbps(720), 1500);
        assert_eq!(nominal_kbps(360), 500);
        assert_eq!(nominal_kbps(180), 150);
        assert_eq!(nominal_kbps(1080), 3375);
    }
}
