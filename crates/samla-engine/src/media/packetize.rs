//! H.264 access units into RTP payloads (RFC 6184), for the engine to send packet by packet.
//!
//! The engine packetises its video itself instead of through str0m's frame writer so that
//! every packet can carry frame marking (draft-ietf-avtext-framemarking) in its header: where
//! a frame starts and ends, and whether it is a keyframe. The SFU switches simulcast layers
//! and starts new subscribers on keyframes, and with this it never has to look into a
//! payload to find one, which stays true once media is end-to-end encrypted.
//!
//! Packetisation mode 1 (non-interleaved), as negotiated: the parameter sets in front of an
//! IDR picture go together in one STAP-A, every other NAL unit alone when it fits and in FU-A
//! fragments when it does not.

use std::sync::Arc;
use std::time::Instant;

use str0m::media::{Mid, Pt, Rid};
use str0m::rtp::{ExtensionValues, RtpWrite, SeqNo};
use str0m::Rtc;

/// The RTP header extension id the engine offers frame marking under (the SFU accepts it
/// under the same id).
pub const FRAME_MARKING_EXT_ID: u8 = 9;

/// The largest RTP payload sent: str0m's datagram budget less the RTP header, its extensions
/// and the SRTP tag, with room to spare.
const MAX_PAYLOAD: usize = 1100;

/// Which of a connection's video streams a picture goes out on.
#[derive(Debug, Clone, Copy)]
pub enum VideoStream {
    /// The camera: its simulcast layer, or 0 without simulcast.
    Camera(usize),
    Screen,
}

impl VideoStream {
    fn slot(self) -> usize {
        match self {
            VideoStream::Camera(layer) => layer.min(2),
            VideoStream::Screen => 3,
        }
    }
}

/// One encoded picture to send.
pub struct Picture<'a> {
    /// Annex-B access unit.
    pub data: &'a [u8],
    pub capture_us: u64,
    pub keyframe: bool,
}

/// Sends pictures packet by packet with frame marking, on one connection: it owns the
/// sequence numbers of the connection's video streams (str0m's frame writer, which would
/// number them itself, is not used for video) and buffers reused from picture to picture.
pub struct PictureSender {
    next_seq: [u64; 4],
    scratch: Vec<u8>,
    payloads: Vec<Arc<[u8]>>,
}

impl PictureSender {
    /// Sequence numbers start at random below 2^15 (RFC 3550), far from a rollover.
    pub fn new() -> Self {
        Self {
            next_seq: std::array::from_fn(|_| u64::from(rand::random::<u16>() >> 1)),
            scratch: Vec::new(),
            payloads: Vec::new(),
        }
    }

    /// Packetises `picture` and queues its packets on the stream of `mid` (and `rid`) in
    /// `rtc`, which paces them out. Before negotiation has made that stream, the picture is
    /// dropped (the SFU asks for a keyframe once it forwards the stream).
    pub fn send(
        &mut self,
        rtc: &mut Rtc,
        stream: VideoStream,
        mid: Mid,
        rid: Option<Rid>,
        pt: Pt,
        picture: Picture<'_>,
    ) {
        let mut api = rtc.direct_api();
        let Some(tx) = api.stream_tx_by_mid(mid, rid) else {
            return;
        };
        let payloads = &mut self.payloads;
        payloads.clear();
        packetize(picture.data, MAX_PAYLOAD, &mut self.scratch, |p| {
            payloads.push(Arc::from(p))
        });
        // 90 kHz media time; the RTP timestamp wraps as it does on the wire.
        let time = (picture.capture_us * 9 / 100) as u32;
        let now = Instant::now();
        let count = payloads.len();
        let seq = &mut self.next_seq[stream.slot()];
        for (i, payload) in payloads.drain(..).enumerate() {
            let ext = ExtensionValues {
                frame_mark: Some(frame_mark(i, count, picture.keyframe)),
                ..ExtensionValues::default()
            };
            tx.write_rtp(
                RtpWrite::new(pt, SeqNo::from(*seq), time, now, payload)
                    .marker(i + 1 == count)
                    .ext_vals(ext)
                    .nackable(true),
            );
            *seq += 1;
        }
    }
}

/// NAL unit types this module looks at.
const NAL_SPS: u8 = 7;
const NAL_PPS: u8 = 8;
const NAL_STAP_A: u8 = 24;
const NAL_FU_A: u8 = 28;

/// Frame marking bits (short form, in the top byte as str0m carries the extension).
const MARK_START: u32 = 0x8000_0000;
const MARK_END: u32 = 0x4000_0000;
const MARK_INDEPENDENT: u32 = 0x2000_0000;

/// The frame marking value of packet `index` of `count` in a frame.
fn frame_mark(index: usize, count: usize, keyframe: bool) -> u32 {
    let mut mark = 0;
    if index == 0 {
        mark |= MARK_START;
    }
    if index + 1 == count {
        mark |= MARK_END;
    }
    if keyframe {
        mark |= MARK_INDEPENDENT;
    }
    mark
}

/// The NAL units of an Annex-B access unit, without their start codes.
fn nal_units(annex_b: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = annex_b;
    std::iter::from_fn(move || {
        // Skip the start code (00 00 01 or 00 00 00 01) in front of the next unit.
        let start = rest.windows(3).position(|w| w == [0, 0, 1])? + 3;
        rest = &rest[start..];
        let end = rest
            .windows(3)
            .position(|w| w == [0, 0, 1])
            .map_or(rest.len(), |at| {
                // A four-byte start code's leading zero belongs to it, not to this unit.
                if at > 0 && rest[at - 1] == 0 {
                    at - 1
                } else {
                    at
                }
            });
        let (unit, after) = rest.split_at(end);
        rest = after;
        Some(unit)
    })
    .filter(|u| !u.is_empty())
}

/// Cuts the Annex-B access unit `annex_b` into RTP payloads of at most `max_payload` bytes
/// and hands each to `emit`, in order. Payloads that are not a slice of `annex_b` are built
/// in `scratch`, which is reused between frames so that packetising does not allocate once it
/// has grown.
pub fn packetize(
    annex_b: &[u8],
    max_payload: usize,
    scratch: &mut Vec<u8>,
    mut emit: impl FnMut(&[u8]),
) {
    // Parameter sets wait here to go out together in one STAP-A (no allocation without them).
    let mut params: Vec<&[u8]> = Vec::new();
    for unit in nal_units(annex_b) {
        let kind = unit[0] & 0x1f;
        if matches!(kind, NAL_SPS | NAL_PPS) && stap_size(&[unit]) <= max_payload {
            if stap_size(&params) + 2 + unit.len() > max_payload {
                send_parameter_sets(&mut params, scratch, &mut emit);
            }
            params.push(unit);
            continue;
        }
        send_parameter_sets(&mut params, scratch, &mut emit);
        if unit.len() <= max_payload {
            emit(unit);
            continue;
        }
        // FU-A: an indicator with the unit's F and NRI bits, a header with its type and the
        // start/end flags, then the next piece of the unit's body.
        let indicator = (unit[0] & 0xe0) | NAL_FU_A;
        let body = &unit[1..];
        let piece = max_payload.saturating_sub(2).max(1);
        let pieces = body.len().div_ceil(piece);
        for (i, chunk) in body.chunks(piece).enumerate() {
            let mut header = kind;
            if i == 0 {
                header |= 0x80;
            }
            if i + 1 == pieces {
                header |= 0x40;
            }
            scratch.clear();
            scratch.extend_from_slice(&[indicator, header]);
            scratch.extend_from_slice(chunk);
            emit(scratch);
        }
    }
    send_parameter_sets(&mut params, scratch, &mut emit);
}

/// The size of a STAP-A carrying `units`.
fn stap_size(units: &[&[u8]]) -> usize {
    1 + units.iter().map(|u| 2 + u.len()).sum::<usize>()
}

/// Sends the parameter sets waiting in `units`: one alone, several in a STAP-A.
fn send_parameter_sets(
    units: &mut Vec<&[u8]>,
    scratch: &mut Vec<u8>,
    emit: &mut impl FnMut(&[u8]),
) {
    match units.as_slice() {
        [] => {}
        [one] => emit(one),
        many => {
            scratch.clear();
            // The STAP-A header takes the highest NRI of its units.
            let nri = many.iter().map(|u| u[0] & 0x60).max().unwrap_or(0);
            scratch.push(nri | NAL_STAP_A);
            for unit in many {
                // At most `max_payload` bytes in all (checked by the caller), so each fits.
                scratch.extend_from_slice(&(unit.len() as u16).to_be_bytes());
                scratch.extend_from_slice(unit);
            }
            emit(scratch);
        }
    }
    units.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packets(annex_b: &[u8], max: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        packetize(annex_b, max, &mut scratch, |p| out.push(p.to_vec()));
        out
    }

    /// Puts the payloads back together as a receiver does (RFC 6184 depacketisation).
    fn depacketize(packets: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let mut units = Vec::new();
        let mut fu: Vec<u8> = Vec::new();
        for p in packets {
            match p[0] & 0x1f {
                NAL_STAP_A => {
                    let mut at = 1;
                    while at + 2 <= p.len() {
                        let size = usize::from(u16::from_be_bytes([p[at], p[at + 1]]));
                        units.push(p[at + 2..at + 2 + size].to_vec());
                        at += 2 + size;
                    }
                }
                NAL_FU_A => {
                    if p[1] & 0x80 != 0 {
                        fu = vec![(p[0] & 0xe0) | (p[1] & 0x1f)];
                    }
                    fu.extend_from_slice(&p[2..]);
                    if p[1] & 0x40 != 0 {
                        units.push(std::mem::take(&mut fu));
                    }
                }
                _ => units.push(p.clone()),
            }
        }
        units
    }

    fn keyframe(idr_len: usize) -> (Vec<u8>, Vec<Vec<u8>>) {
        let sps = vec![0x67, 0x42, 0xc0, 0x1f, 0xda];
        let pps = vec![0x68, 0xce, 0x3c, 0x80];
        let idr: Vec<u8> = std::iter::once(0x65)
            .chain((0..idr_len - 1).map(|i| (i % 251) as u8 | 1))
            .collect();
        let mut annex_b = vec![0, 0, 0, 1];
        annex_b.extend_from_slice(&sps);
        annex_b.extend_from_slice(&[0, 0, 0, 1]);
        annex_b.extend_from_slice(&pps);
        annex_b.extend_from_slice(&[0, 0, 1]);
        annex_b.extend_from_slice(&idr);
        (annex_b, vec![sps, pps, idr])
    }

    #[test]
    fn a_keyframe_goes_out_as_parameter_sets_then_fragments_and_comes_back_whole() {
        let (annex_b, units) = keyframe(3000);
        let out = packets(&annex_b, 1100);
        assert_eq!(out[0][0] & 0x1f, NAL_STAP_A, "SPS and PPS together first");
        assert!(out[1..].iter().all(|p| p[0] & 0x1f == NAL_FU_A));
        assert!(out.iter().all(|p| p.len() <= 1100));
        assert_eq!(out.len(), 1 + 3000_usize.div_ceil(1098));
        assert_eq!(depacketize(&out), units);
    }

    #[test]
    fn small_units_go_alone() {
        let annex_b = [0, 0, 1, 0x41, 0x9a, 0x02, 0, 0, 1, 0x41, 0x9b];
        let out = packets(&annex_b, 1100);
        assert_eq!(out, vec![vec![0x41, 0x9a, 0x02], vec![0x41, 0x9b]]);
    }

    #[test]
    fn nothing_in_nothing_out() {
        assert!(packets(&[], 1100).is_empty());
        assert!(packets(&[0, 0, 0, 1], 1100).is_empty());
        assert!(packets(&[1, 2, 3], 1100).is_empty(), "no start code");
    }

    #[test]
    fn frame_marking_says_where_a_keyframe_starts_and_ends() {
        assert_eq!(frame_mark(0, 3, true), MARK_START | MARK_INDEPENDENT);
        assert_eq!(frame_mark(1, 3, true), MARK_INDEPENDENT);
        assert_eq!(frame_mark(2, 3, true), MARK_END | MARK_INDEPENDENT);
        assert_eq!(frame_mark(0, 1, false), MARK_START | MARK_END);
        assert_eq!(frame_mark(1, 3, false), 0);
    }
}
