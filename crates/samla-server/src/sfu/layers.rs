//! Simulcast layer choice: pure functions, no sockets, no str0m state.
//!
//! The SFU does not read video payloads, so it does not see the real height of a layer. A
//! publisher may declare it with an RFC 8851 restriction (`a=rid:q send max-height=180`);
//! otherwise the SFU assumes the usual WebRTC ladder: the highest layer is
//! [`TOP_LAYER_HEIGHT`] pixels tall and each lower layer half the one above
//! (`scaleResolutionDownBy` 1, 2, 4). A browser cannot set restrictions on its own
//! description, but a client may add them to the copy of the offer it sends to the server.

use str0m::media::Rid;

/// The height the highest simulcast layer is assumed to have when the publisher does not
/// declare it: Samla's own clients (join page and client engine) capture 360p by default.
/// Guessing low errs towards a sharper (larger) layer than the tile needs, not a blurrier one.
pub const TOP_LAYER_HEIGHT: u32 = 360;

/// One simulcast layer of a publisher's track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layer {
    pub rid: Rid,
    /// Declared (`max-height`) or assumed height in pixels.
    pub height: u32,
}

/// A publisher's layers ordered low→high with their heights. Declared heights are used when
/// every layer has one. Otherwise the conventional names `q`, `h`, `f` (quarter, half, full)
/// and `l`, `m` sort by meaning, any other names keep the order the publisher's SDP gave
/// (the protocol says low→high), and the heights are assumed.
pub fn ladder(rids: &[(Rid, Option<u32>)]) -> Vec<Layer> {
    if !rids.is_empty() && rids.iter().all(|(_, h)| h.is_some()) {
        let mut layers: Vec<Layer> = rids
            .iter()
            .map(|(rid, h)| Layer {
                rid: *rid,
                height: h.unwrap_or(0),
            })
            .collect();
        layers.sort_by_key(|l| l.height);
        return layers;
    }
    fn rank(rid: &Rid) -> Option<u8> {
        match &**rid {
            "q" | "l" | "low" => Some(0),
            "h" | "m" | "mid" => Some(1),
            "f" | "high" | "full" => Some(2),
            _ => None,
        }
    }
    let mut ordered: Vec<Rid> = rids.iter().map(|(rid, _)| *rid).collect();
    if ordered.iter().all(|r| rank(r).is_some()) {
        ordered.sort_by_key(rank);
    }
    let count = ordered.len();
    ordered
        .into_iter()
        .enumerate()
        .map(|(i, rid)| Layer {
            rid,
            height: TOP_LAYER_HEIGHT >> (count - i - 1).min(8),
        })
        .collect()
}

/// Which layer a subscriber that draws the video `max_height` pixels tall should get, from
/// `layers` ordered low→high: the highest layer no taller than `max_height`, or the lowest if
/// every layer is taller. `None` when the tile is hidden (`max_height` 0) or there are no layers.
pub fn choose(layers: &[Layer], max_height: u32) -> Option<Rid> {
    if max_height == 0 {
        return None;
    }
    layers
        .iter()
        .rev()
        .find(|l| l.height <= max_height)
        .or(layers.first())
        .map(|l| l.rid)
}

/// The `max-height` each rid of one m-section declares (RFC 8851 `a=rid:<id> send
/// max-height=<n>;…`), read from an SDP offer. str0m does not keep these restrictions.
pub fn declared_heights(sdp: &str, mid: &str) -> Vec<(String, u32)> {
    let mut in_section = false;
    let mut section_mid = None;
    let mut found = Vec::new();
    let mut current = Vec::new();
    for line in sdp.lines().map(str::trim) {
        if line.starts_with("m=") {
            if section_mid == Some(mid) {
                found = std::mem::take(&mut current);
            }
            in_section = true;
            section_mid = None;
            current.clear();
        } else if !in_section {
            continue;
        } else if let Some(m) = line.strip_prefix("a=mid:") {
            section_mid = Some(m.trim());
        } else if let Some(rest) = line.strip_prefix("a=rid:") {
            let mut parts = rest.split_whitespace();
            let (Some(rid), Some("send")) = (parts.next(), parts.next()) else {
                continue;
            };
            let height = parts
                .next()
                .into_iter()
                .flat_map(|r| r.split(';'))
                .find_map(|kv| kv.strip_prefix("max-height=")?.parse().ok());
            if let Some(height) = height {
                current.push((rid.to_owned(), height));
            }
        }
    }
    if section_mid == Some(mid) {
        found = current;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(names: &[&str]) -> Vec<(Rid, Option<u32>)> {
        names.iter().map(|n| (Rid::from(*n), None)).collect()
    }

    fn rids(layers: &[Layer]) -> Vec<String> {
        layers.iter().map(|l| l.rid.to_string()).collect()
    }

    #[test]
    fn conventional_names_sort_low_to_high_with_assumed_heights() {
        let l = ladder(&named(&["f", "q", "h"]));
        assert_eq!(rids(&l), ["q", "h", "f"]);
        assert_eq!(
            l.iter().map(|l| l.height).collect::<Vec<_>>(),
            [90, 180, 360]
        );
        assert_eq!(
            rids(&ladder(&named(&["b", "a"]))),
            ["b", "a"],
            "unknown names keep the SDP order"
        );
    }

    #[test]
    fn declared_heights_win() {
        let l = ladder(&[
            (Rid::from("x"), Some(1080)),
            (Rid::from("y"), Some(270)),
            (Rid::from("z"), Some(540)),
        ]);
        assert_eq!(rids(&l), ["y", "z", "x"]);
        assert_eq!(choose(&l, 600), Some(Rid::from("z")));
    }

    #[test]
    fn the_highest_layer_that_fits_is_chosen() {
        let l = ladder(&named(&["q", "h", "f"]));
        assert_eq!(choose(&l, u32::MAX), Some(Rid::from("f")));
        assert_eq!(choose(&l, 360), Some(Rid::from("f")));
        assert_eq!(choose(&l, 359), Some(Rid::from("h")));
        assert_eq!(choose(&l, 180), Some(Rid::from("h")));
        assert_eq!(choose(&l, 100), Some(Rid::from("q")));
        assert_eq!(
            choose(&l, 45),
            Some(Rid::from("q")),
            "lowest when none fits"
        );
        assert_eq!(choose(&l, 0), None, "0 pauses");
        assert_eq!(choose(&[], 720), None);
        assert_eq!(
            choose(&ladder(&named(&["h", "f"])), 200),
            Some(Rid::from("h"))
        );
    }

    #[test]
    fn rid_restrictions_are_read_per_m_section() {
        let sdp = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=rid:q send max-height=1\r\n\
                   m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=rid:q send max-width=320;max-height=180\r\n\
                   a=rid:h send max-height=360\r\na=rid:f send\r\na=rid:r recv max-height=9\r\n\
                   a=simulcast:send q;h;f\r\n";
        assert_eq!(
            declared_heights(sdp, "1"),
            [("q".to_owned(), 180), ("h".to_owned(), 360)]
        );
        assert_eq!(declared_heights(sdp, "0"), [("q".to_owned(), 1)]);
        assert!(declared_heights(sdp, "2").is_empty());
    }
}
