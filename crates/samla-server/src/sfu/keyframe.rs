//! Where a keyframe starts: the point where a subscriber can start decoding, or switch to
//! another simulcast layer.
//!
//! The SFU learns it from a header extension wherever the publisher sends one, and then
//! never reads the payload:
//! - frame marking (draft-ietf-avtext-framemarking): samla's engine marks the first packet of
//!   each frame and every packet of a keyframe;
//! - the dependency descriptor (AV1 RTP specification, which browsers also send for H.264
//!   when it is negotiated): its first packet of a keyframe carries the template structure.
//!
//! Only for a publisher that sends neither does the SFU read the payload's NAL unit header,
//! and for aggregation packets the ones inside it (RFC 6184): a few bytes at the front, never
//! slice data. Encoders put the sequence parameter set in front of each IDR picture, so a
//! keyframe starts with an SPS (alone, or in a STAP-A).

use str0m::rtp::{Extension, ExtensionSerializer, ExtensionValues};

/// The header extension ids the SFU offers frame marking and the dependency descriptor under
/// (an answer takes the offerer's ids).
const FRAME_MARKING_EXT_ID: u8 = 9;
const DEPENDENCY_DESCRIPTOR_EXT_ID: u8 = 12;
const DEPENDENCY_DESCRIPTOR_URI: &str =
    "https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension";

/// The header extensions that tell keyframes, with their ids, for every session's config.
pub fn header_extensions() -> [(u8, Extension); 2] {
    [
        (FRAME_MARKING_EXT_ID, Extension::FrameMarking),
        (
            DEPENDENCY_DESCRIPTOR_EXT_ID,
            Extension::with_serializer(DEPENDENCY_DESCRIPTOR_URI, DependencyDescriptorReader),
        ),
    ]
}

/// Where the SFU found that a packet starts a keyframe (see [`keyframe_start`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyframeStart {
    /// In a header extension: the payload was not read.
    Header,
    /// In the payload's first NAL unit headers, for a publisher without either extension.
    Sniffed,
}

/// Whether the H.264 packet with header extensions `ext` and `payload` starts a keyframe,
/// and where that was found (see the module docs).
pub fn keyframe_start(ext: &ExtensionValues, payload: &[u8]) -> Option<KeyframeStart> {
    const START_OF_FRAME: u32 = 0x8000_0000;
    const INDEPENDENT: u32 = 0x2000_0000;
    if let Some(mark) = ext.frame_mark {
        return (mark & START_OF_FRAME != 0 && mark & INDEPENDENT != 0)
            .then_some(KeyframeStart::Header);
    }
    if let Some(described) = ext.user_values.get::<DescribedFrame>() {
        return (described.start_of_frame && described.structure_attached)
            .then_some(KeyframeStart::Header);
    }
    starts_with_sps(payload).then_some(KeyframeStart::Sniffed)
}

/// What the SFU reads of a dependency descriptor: its first bit (start of frame) and whether
/// the template dependency structure is attached, which senders do on the first packet of
/// a keyframe (a decoder starts from it). Frame numbers and templates are not needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DescribedFrame {
    start_of_frame: bool,
    structure_attached: bool,
}

/// Reads the dependency descriptor of incoming packets into a [`DescribedFrame`]. It never
/// writes one: forwarded packets of different simulcast layers would carry descriptors whose
/// frame numbers and structures do not follow on from each other.
#[derive(Debug)]
struct DependencyDescriptorReader;

impl ExtensionSerializer for DependencyDescriptorReader {
    fn write_to(&self, _buf: &mut [u8], _ev: &ExtensionValues) -> usize {
        0
    }

    fn parse_value(&self, buf: &[u8], ev: &mut ExtensionValues) -> bool {
        // Mandatory part: start (1 bit), end (1), template id (6), frame number (16). The
        // extended part, when present, opens with the structure-present flag.
        let Some(&first) = buf.first() else {
            return false;
        };
        if buf.len() < 3 {
            return false;
        }
        ev.user_values.set(DescribedFrame {
            start_of_frame: first & 0x80 != 0,
            structure_attached: buf.get(3).is_some_and(|b| b & 0x80 != 0),
        });
        true
    }

    fn is_video(&self) -> bool {
        true
    }

    fn is_audio(&self) -> bool {
        false
    }
}

/// Whether an H.264 RTP payload begins with a sequence parameter set (see [`keyframe_start`]).
fn starts_with_sps(payload: &[u8]) -> bool {
    const SPS: u8 = 7;
    const STAP_A: u8 = 24;
    match payload.first().map(|b| b & 0x1f) {
        Some(SPS) => true,
        // STAP-A: its own NAL header, then per unit a 16-bit size and the unit, whose first
        // byte is its NAL header. An access unit delimiter may come before the SPS.
        Some(STAP_A) => {
            let mut at = 1;
            while let (Some(size), Some(header)) = (payload.get(at..at + 2), payload.get(at + 2)) {
                if header & 0x1f == SPS {
                    return true;
                }
                at += 2 + usize::from(u16::from_be_bytes([size[0], size[1]]));
            }
            false
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(mark: u32) -> ExtensionValues {
        ExtensionValues {
            frame_mark: Some(mark),
            ..ExtensionValues::default()
        }
    }

    fn described(descriptor: &[u8]) -> ExtensionValues {
        let mut ext = ExtensionValues::default();
        assert!(DependencyDescriptorReader.parse_value(descriptor, &mut ext));
        ext
    }

    #[test]
    fn a_keyframe_starts_with_its_sequence_parameter_set() {
        let none = ExtensionValues::default();
        let sniffed =
            |payload: &[u8]| keyframe_start(&none, payload) == Some(KeyframeStart::Sniffed);
        let sps = [0x67, 0x42, 0xe0, 0x1f];
        assert!(sniffed(&sps), "SPS alone");
        // STAP-A of SPS and PPS, as browsers send them in front of an IDR.
        let stap_sps_pps = [0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce];
        assert!(sniffed(&stap_sps_pps));
        // STAP-A of an access unit delimiter, then SPS.
        let stap_aud_sps = [0x78, 0, 2, 0x09, 0xf0, 0, 2, 0x67, 0x42];
        assert!(sniffed(&stap_aud_sps));
        let fu_a_idr_start = [0x7c, 0x85, 0x88];
        assert!(!sniffed(&fu_a_idr_start), "IDR without SPS");
        let stap_pps_only = [0x78, 0, 2, 0x68, 0xce];
        assert!(!sniffed(&stap_pps_only));
        assert!(!sniffed(&[0x78, 0, 200]), "truncated STAP-A");
        assert!(!sniffed(&[]));
        assert!(!sniffed(&[0x41, 0x9a]), "P slice");
    }

    #[test]
    fn frame_marking_tells_a_keyframe_without_the_payload() {
        let start_independent = 0xa000_0000; // S and I set
        assert_eq!(
            keyframe_start(&marked(start_independent), &[]),
            Some(KeyframeStart::Header)
        );
        // With frame marking the payload is not read: an SPS there (or encrypted bytes that
        // look like one) changes nothing.
        assert_eq!(
            keyframe_start(&marked(0x8000_0000), &[0x67]),
            None,
            "start, not independent"
        );
        assert_eq!(
            keyframe_start(&marked(0x2000_0000), &[0x67]),
            None,
            "independent, not start"
        );
    }

    #[test]
    fn a_dependency_descriptor_with_its_structure_starts_a_keyframe() {
        // Start of frame, template 0, frame 7; then the extended part with the structure flag.
        let keyframe_start_packet = [0x80, 0x00, 0x07, 0x80, 0x01, 0x02];
        assert_eq!(
            keyframe_start(&described(&keyframe_start_packet), &[0x7c, 0x85]),
            Some(KeyframeStart::Header)
        );
        // A delta frame's first packet: no structure. Its payload is not read either.
        let delta_start = [0x81, 0x00, 0x08];
        assert_eq!(keyframe_start(&described(&delta_start), &[0x67]), None);
        // A later packet of the keyframe.
        let keyframe_middle = [0x00, 0x00, 0x07];
        assert_eq!(keyframe_start(&described(&keyframe_middle), &[0x67]), None);
        // Too short to be a descriptor: not parsed.
        let mut ext = ExtensionValues::default();
        assert!(!DependencyDescriptorReader.parse_value(&[0x80, 0x00], &mut ext));
        assert!(!DependencyDescriptorReader.parse_value(&[], &mut ext));
    }
}
