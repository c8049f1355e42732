//! Simulcast layers: which to send and which the SFU says anyone watches.

/// Rids of the simulcast layers, lowest first, as signalled in the SDP and `media_layers`.
pub const RIDS: [&str; 3] = ["q", "h", "f"];

/// Downscale factor of each layer in [`RIDS`] order.
pub const SCALE_DOWN: [u32; 3] = [4, 2, 1];

/// Share of the video bitrate each layer gets, in [`RIDS`] order (samla-media's standard
/// layers use 150:500:1500 kbit/s at 720p).
const WEIGHTS: [u32; 3] = [150, 500, 1500];

/// Smallest height that is sent as simulcast: below 360p the quarter layer (90p) is too small
/// to be worth its encode, so one layer is sent.
pub const SIMULCAST_MIN_HEIGHT: u32 = 360;

/// Whether a `width x height` source is sent as three layers. Every layer must be an exact,
/// even downscale (the encoder needs even sizes).
pub fn use_simulcast(width: u32, height: u32) -> bool {
    height >= SIMULCAST_MIN_HEIGHT && width.is_multiple_of(8) && height.is_multiple_of(8)
}

/// Layer index of a rid.
pub fn layer_of(rid: &str) -> Option<usize> {
    RIDS.iter().position(|r| *r == rid)
}

/// Which layers to encode given the SFU's `active_rids`. Unknown rids are ignored.
pub fn enabled_layers<S: AsRef<str>>(active_rids: &[S]) -> [bool; 3] {
    let mut on = [false; 3];
    for rid in active_rids {
        if let Some(i) = layer_of(rid.as_ref()) {
            on[i] = true;
        }
    }
    on
}

/// Splits a total video bitrate over the enabled layers by their weights, each at least
/// `min_kbps` (encoders refuse less). Disabled layers get `None`.
pub fn split_bitrate(total_kbps: u32, enabled: [bool; 3], min_kbps: u32) -> [Option<u32>; 3] {
    let weight: u32 = (0..3).filter(|&i| enabled[i]).map(|i| WEIGHTS[i]).sum();
    let mut out = [None; 3];
    if weight == 0 {
        return out;
    }
    for i in 0..3 {
        if enabled[i] {
            let share = (u64::from(total_kbps) * u64::from(WEIGHTS[i]) / u64::from(weight)) as u32;
            out[i] = Some(share.max(min_kbps));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulcast_only_from_360p() {
        assert!(use_simulcast(640, 360));
        assert!(use_simulcast(1280, 720));
        assert!(!use_simulcast(320, 180));
        assert!(!use_simulcast(638, 358));
    }

    #[test]
    fn active_rids_select_layers() {
        assert_eq!(enabled_layers(&["h"]), [false, true, false]);
        assert_eq!(enabled_layers(&["f", "q", "x"]), [true, false, true]);
        assert_eq!(enabled_layers::<&str>(&[]), [false; 3]);
    }

    #[test]
    fn bitrate_follows_weights_over_enabled_layers() {
        assert_eq!(
            split_bitrate(2150, [true; 3], 10),
            [Some(150), Some(500), Some(1500)]
        );
        assert_eq!(
            split_bitrate(650, [true, true, false], 10),
            [Some(150), Some(500), None]
        );
        assert_eq!(
            split_bitrate(5, [false, false, true], 30),
            [None, None, Some(30)]
        );
        assert_eq!(split_bitrate(1000, [false; 3], 10), [None; 3]);
    }
}
