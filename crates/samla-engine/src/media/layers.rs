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

/// Which layers of a source `height` lines tall are within the organisation's cap on video
/// height (`media_config`'s `max_video_height`): a site on a thin link caps everyone's video,
/// so layers above it are not worth their encode or uplink. The lowest layer is always
/// allowed, as the SFU forwards it whatever the cap: a small picture beats none.
pub fn within_cap(height: u32, cap: Option<u32>) -> [bool; 3] {
    let Some(cap) = cap else {
        return [true; 3];
    };
    let mut on = SCALE_DOWN.map(|s| height / s <= cap);
    on[0] = true;
    on
}

/// Adds each layer's height as an RFC 8851 restriction (`a=rid:h send max-height=360`) to
/// the copy of our offer the SFU gets: without it the SFU assumes a 360p top layer, and a
/// 720p source's top layer would pass for 360p under an organisation's cap.
pub fn declare_heights(sdp: &str, height: u32) -> String {
    let mut out = String::with_capacity(sdp.len() + 64);
    for line in sdp.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\r', '\n']);
        let layer = bare
            .strip_prefix("a=rid:")
            .and_then(|rest| rest.strip_suffix(" send"))
            .and_then(layer_of);
        match layer {
            Some(i) => {
                out.push_str(bare);
                out.push_str(&format!(" max-height={}", height / SCALE_DOWN[i]));
                out.push_str(&line[bare.len()..]);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// Share of a layer's nominal bitrate that the video bitrate must cover (for it and every
/// layer below it) for the layer to be sent. Below that a layer's picture turns to mush and
/// its frames queue in the pacer: better a sharp lower layer than a frozen or blurred top
/// one. Browsers drop their top layers the same way when their uplink is short.
const FIT_SHARE: f64 = 0.5;

/// A layer switched off for lack of bandwidth comes back only once the bitrate covers its
/// need by this factor, so that an estimate hovering at the threshold does not flap.
const FIT_HYSTERESIS: f64 = 1.25;

/// Nominal bitrate of each layer for a `width x height` source (the layer weights at 720p,
/// scaled by pixel count), each at least `min_kbps`.
pub fn nominal_kbps(width: u32, height: u32, min_kbps: u32) -> [u32; 3] {
    let scale = (f64::from(width) * f64::from(height) / (1280.0 * 720.0)).max(0.1);
    WEIGHTS.map(|w| ((f64::from(w) * scale).round() as u32).max(min_kbps))
}

/// Which layers the video bitrate `kbps` can carry, given their nominal bitrates and which
/// fitted before (for hysteresis). The lowest layer always fits: there is nothing below it.
pub fn fitting_layers(kbps: u32, nominal: [u32; 3], before: [bool; 3]) -> [bool; 3] {
    let mut fits = [true; 3];
    let mut need = f64::from(nominal[0]) * FIT_SHARE;
    for i in 1..3 {
        need += f64::from(nominal[i]) * FIT_SHARE;
        let bar = if before[i] {
            need
        } else {
            need * FIT_HYSTERESIS
        };
        fits[i] = fits[i - 1] && f64::from(kbps) >= bar;
    }
    fits
}

/// The layers to encode: every watched layer that fits, and for a watched layer that does
/// not, the highest layer below it that does. The SFU forwards the nearest lower layer that
/// flows while a watched one is idle, so a squeezed sender degrades instead of going dark.
pub fn layers_to_send(watched: [bool; 3], fits: [bool; 3]) -> [bool; 3] {
    let mut on = [false; 3];
    for (j, _) in watched.iter().enumerate().filter(|(_, w)| **w) {
        let i = (0..=j).rev().find(|&i| fits[i]).unwrap_or(0);
        on[i] = true;
    }
    on
}

/// The most a layer may take, as a multiple of its nominal bitrate. When nobody watches the
/// layers above it, a layer would otherwise get the whole video bitrate: a 90p picture at
/// half a megabit, which no tile shows any sharper, and which fills the thin downlink the SFU
/// picked that layer for. (Browsers cap their layers the same way: 200 kbit/s at 180p.)
const LAYER_MAX_FACTOR: u32 = 2;

/// Splits a total video bitrate over the enabled layers by their weights, each at least
/// `min_kbps` (encoders refuse less) and at most [`LAYER_MAX_FACTOR`] times its `nominal`
/// rate (see [`nominal_kbps`]). Disabled layers get `None`.
pub fn split_bitrate(
    total_kbps: u32,
    enabled: [bool; 3],
    nominal: [u32; 3],
    min_kbps: u32,
) -> [Option<u32>; 3] {
    let weight: u32 = (0..3).filter(|&i| enabled[i]).map(|i| WEIGHTS[i]).sum();
    let mut out = [None; 3];
    if weight == 0 {
        return out;
    }
    for i in 0..3 {
        if enabled[i] {
            let share = (u64::from(total_kbps) * u64::from(WEIGHTS[i]) / u64::from(weight)) as u32;
            let most = nominal[i].saturating_mul(LAYER_MAX_FACTOR);
            out[i] = Some(share.min(most).max(min_kbps));
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
    fn a_cap_keeps_the_layers_no_taller_than_it_and_always_the_lowest() {
        assert_eq!(within_cap(720, None), [true; 3]);
        assert_eq!(within_cap(720, Some(360)), [true, true, false]);
        assert_eq!(within_cap(720, Some(720)), [true; 3]);
        assert_eq!(within_cap(720, Some(100)), [true, false, false]);
        // Ada wants the top layer, but her organisation caps at 360p: she sends h.
        let allowed = within_cap(720, Some(360));
        let fits = [0, 1, 2].map(|i| allowed[i]);
        assert_eq!(
            layers_to_send([false, false, true], fits),
            [false, true, false]
        );
    }

    #[test]
    fn the_offer_declares_each_layers_height() {
        let sdp = "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rid:q send\r\na=rid:h send\r\na=rid:f send\r\na=rid:x send\r\na=simulcast:send q;h;f\r\n";
        let declared = declare_heights(sdp, 720);
        assert_eq!(
            declared,
            "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rid:q send max-height=180\r\na=rid:h send max-height=360\r\na=rid:f send max-height=720\r\na=rid:x send\r\na=simulcast:send q;h;f\r\n"
        );
    }

    #[test]
    fn active_rids_select_layers() {
        assert_eq!(enabled_layers(&["h"]), [false, true, false]);
        assert_eq!(enabled_layers(&["f", "q", "x"]), [true, false, true]);
        assert_eq!(enabled_layers::<&str>(&[]), [false; 3]);
    }

    #[test]
    fn a_short_bitrate_drops_the_top_layers_with_hysteresis() {
        let nominal = nominal_kbps(640, 360, 30);
        assert_eq!(nominal, [38, 125, 375]);
        // f needs (38 + 125 + 375) / 2 = 269, h (38 + 125) / 2 = 82.
        assert_eq!(fitting_layers(500, nominal, [true; 3]), [true; 3]);
        assert_eq!(fitting_layers(260, nominal, [true; 3]), [true, true, false]);
        assert_eq!(fitting_layers(50, nominal, [true; 3]), [true, false, false]);
        assert_eq!(
            fitting_layers(300, nominal, [true, true, false]),
            [true, true, false],
            "back only with a margin"
        );
        assert_eq!(fitting_layers(340, nominal, [true, true, false]), [true; 3]);
    }

    #[test]
    fn an_unwatched_layer_is_sent_in_place_of_a_watched_one_that_does_not_fit() {
        let all = [true; 3];
        assert_eq!(
            layers_to_send([false, false, true], all),
            [false, false, true]
        );
        assert_eq!(
            layers_to_send([false, false, true], [true, true, false]),
            [false, true, false]
        );
        assert_eq!(
            layers_to_send([true, false, true], [true, false, false]),
            [true, false, false]
        );
        assert_eq!(layers_to_send([false; 3], [true, false, false]), [false; 3]);
    }

    #[test]
    fn bitrate_follows_weights_over_enabled_layers() {
        let nominal = [150, 500, 1500];
        assert_eq!(
            split_bitrate(2150, [true; 3], nominal, 10),
            [Some(150), Some(500), Some(1500)]
        );
        assert_eq!(
            split_bitrate(650, [true, true, false], nominal, 10),
            [Some(150), Some(500), None]
        );
        assert_eq!(
            split_bitrate(5, [false, false, true], nominal, 30),
            [None, None, Some(30)]
        );
        assert_eq!(split_bitrate(1000, [false; 3], nominal, 10), [None; 3]);
    }

    #[test]
    fn a_lone_low_layer_does_not_take_the_whole_bitrate() {
        // A 360p camera whose only viewer is on a thin downlink and watches its 90p layer.
        let nominal = nominal_kbps(640, 360, 30);
        let split = split_bitrate(537, [true, false, false], nominal, 30);
        assert_eq!(split, [Some(nominal[0] * 2), None, None]);
        assert!(split[0].unwrap() < 100, "90p at {split:?} kbit/s");
        // The top layer alone may use what it is given, up to twice its nominal rate.
        let split = split_bitrate(537, [false, false, true], nominal, 30);
        assert_eq!(split, [None, None, Some(537)]);
    }
}
