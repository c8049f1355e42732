use std::time::UNIX_EPOCH;

use super::*;
use crate::capture::{Pacing, VideoSource};
use crate::frame::VideoFrame;
use crate::synthetic::{read_marker, Marker, TestPattern};
use crate::CodecError;

const SENDER: u32 = 0xC0FFEE;

/// Deterministic xorshift so garbage tests are reproducible without a `rand` dependency.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            *b = self.next() as u8;
        }
    }
}

fn pattern(width: u32, height: u32) -> TestPattern {
    TestPattern::new(SENDER, width, height, 30.0, UNIX_EPOCH, Pacing::Unpaced).unwrap()
}

fn expected_marker(frame: u32, captured: &VideoFrame) -> Marker {
    Marker {
        sender: SENDER,
        frame,
        capture_time_us: captured.timestamp_us,
    }
}

/// Encodes `frames` pattern frames, decodes them, and returns
/// (decoded frames after the first keyframe, of which markers read correctly).
fn marker_round_trip(width: u32, height: u32, kbps: u32, frames: u32) -> (u32, u32) {
    let mut source = pattern(width, height);
    let mut encoder = H264Encoder::new(H264EncoderConfig::new(width, height, kbps, 30.0)).unwrap();
    let mut decoder = H264Decoder::new().unwrap();
    let (mut captured, mut decoded) = (VideoFrame::new(0, 0), VideoFrame::new(0, 0));
    let mut encoded = EncodedVideo::default();
    let (mut seen_keyframe, mut total, mut correct) = (false, 0, 0);
    for n in 0..frames {
        source.next_frame(&mut captured).unwrap();
        if !encoder.encode(&captured, &mut encoded).unwrap() {
            continue;
        }
        seen_keyframe |= encoded.is_keyframe;
        if !seen_keyframe {
            continue;
        }
        assert!(decoder
            .decode(&encoded.data, encoded.timestamp_us, &mut decoded)
            .unwrap());
        assert_eq!((decoded.width(), decoded.height()), (width, height));
        total += 1;
        match read_marker(&decoded) {
            Some(marker) => {
                assert_eq!(
                    marker,
                    expected_marker(n, &captured),
                    "wrong marker in frame {n}"
                );
                correct += 1;
            }
            None => eprintln!("frame {n}: marker unreadable"),
        }
    }
    (total, correct)
}

#[test]
fn marker_survives_h264_at_360p_500kbps() {
    let (total, correct) = marker_round_trip(640, 360, 500, 150);
    assert!(
        total >= 120,
        "encoder skipped too many frames: {total}/150 encoded"
    );
    assert!(
        correct * 100 >= total * 95,
        "{correct}/{total} markers read"
    );
}

#[test]
fn marker_survives_h264_at_180p_150kbps() {
    let (total, correct) = marker_round_trip(320, 180, 150, 150);
    assert!(
        total >= 120,
        "encoder skipped too many frames: {total}/150 encoded"
    );
    assert!(
        correct * 100 >= total * 95,
        "{correct}/{total} markers read"
    );
}

#[test]
fn damaged_decoded_marker_reads_as_none() {
    let mut source = pattern(640, 360);
    let mut encoder = H264Encoder::new(H264EncoderConfig::new(640, 360, 500, 30.0)).unwrap();
    let mut decoder = H264Decoder::new().unwrap();
    let (mut captured, mut decoded) = (VideoFrame::new(0, 0), VideoFrame::new(0, 0));
    let mut encoded = EncodedVideo::default();
    source.next_frame(&mut captured).unwrap();
    assert!(encoder.encode(&captured, &mut encoded).unwrap());
    assert!(decoder.decode(&encoded.data, 0, &mut decoded).unwrap());
    assert!(read_marker(&decoded).is_some());
    // A light smear over part of the data rows (cells are 16 px, data rows
    // span y 16..80), as a badly concealed lost slice would leave.
    let (y, _, _) = decoded.planes_mut();
    for row in 16..80 {
        y[row * 640 + 200..row * 640 + 300].fill(200);
    }
    assert_eq!(read_marker(&decoded), None);
}

#[test]
fn corrupted_bitstream_never_yields_a_wrong_marker() {
    let mut source = pattern(640, 360);
    let mut encoder = H264Encoder::new(H264EncoderConfig::new(640, 360, 500, 30.0)).unwrap();
    let mut decoder = H264Decoder::new().unwrap();
    let (mut captured, mut decoded) = (VideoFrame::new(0, 0), VideoFrame::new(0, 0));
    let mut encoded = EncodedVideo::default();
    let mut rng = XorShift(0x5EED);
    let mut damaged = Vec::new();
    for n in 0..60 {
        source.next_frame(&mut captured).unwrap();
        if !encoder.encode(&captured, &mut encoded).unwrap() {
            continue;
        }
        damaged.clone_from(&encoded.data);
        if n % 3 == 2 {
            // Flip bytes past the NAL header so the slice data is garbage.
            for _ in 0..8 {
                let i = 8 + (rng.next() as usize) % (damaged.len() - 8);
                damaged[i] ^= 0x5A;
            }
        }
        if let Ok(true) = decoder.decode(&damaged, 0, &mut decoded) {
            if let Some(marker) = read_marker(&decoded) {
                assert_eq!(marker.sender, SENDER, "frame {n}");
                assert!(
                    marker.frame <= n,
                    "frame {n} decoded a marker from the future"
                );
            }
        } else {
            encoder.request_keyframe();
        }
    }
}

#[test]
fn decoder_survives_random_bytes() {
    let mut decoder = H264Decoder::new().unwrap();
    let mut out = VideoFrame::new(0, 0);
    let mut rng = XorShift(42);
    let mut buf = vec![0u8; 4096];
    for i in 0..300 {
        let len = (rng.next() as usize) % buf.len();
        rng.fill(&mut buf[..len]);
        // Half the inputs get a start code so the parser goes past framing.
        if i % 2 == 0 && len > 5 {
            buf[..4].copy_from_slice(&[0, 0, 0, 1]);
            buf[4] = [0x67, 0x68, 0x65, 0x41][i % 4];
        }
        let _ = decoder.decode(&buf[..len], 0, &mut out);
    }
    let _ = decoder.decode(&[], 0, &mut out);
}

#[test]
fn decoder_survives_truncated_access_units() {
    let mut source = pattern(320, 180);
    let mut encoder = H264Encoder::new(H264EncoderConfig::new(320, 180, 300, 30.0)).unwrap();
    let mut frame = VideoFrame::new(0, 0);
    let mut units = Vec::new();
    for _ in 0..10 {
        source.next_frame(&mut frame).unwrap();
        let mut encoded = EncodedVideo::default();
        if encoder.encode(&frame, &mut encoded).unwrap() {
            units.push(encoded.data);
        }
    }
    let mut decoder = H264Decoder::new().unwrap();
    let mut out = VideoFrame::new(0, 0);
    for unit in &units {
        for cut in [
            1,
            3,
            4,
            5,
            7,
            unit.len() / 3,
            unit.len() / 2,
            unit.len() - 1,
        ] {
            let _ = decoder.decode(&unit[..cut.min(unit.len())], 0, &mut out);
        }
        let _ = decoder.decode(unit, 0, &mut out);
    }
    // After the abuse, a fresh keyframe still decodes.
    encoder.request_keyframe();
    source.next_frame(&mut frame).unwrap();
    let mut encoded = EncodedVideo::default();
    assert!(encoder.encode(&frame, &mut encoded).unwrap());
    assert!(encoded.is_keyframe);
    assert!(decoder.decode(&encoded.data, 0, &mut out).unwrap());
    assert!(read_marker(&out).is_some());
}

#[test]
fn keyframe_on_request_and_only_then() {
    let mut source = pattern(320, 180);
    let mut encoder = H264Encoder::new(H264EncoderConfig::new(320, 180, 300, 30.0)).unwrap();
    let mut frame = VideoFrame::new(0, 0);
    let mut encoded = EncodedVideo::default();
    let mut keyframes = Vec::new();
    for n in 0..40 {
        if n == 25 {
            encoder.request_keyframe();
        }
        source.next_frame(&mut frame).unwrap();
        if encoder.encode(&frame, &mut encoded).unwrap() && encoded.is_keyframe {
            keyframes.push(n);
        }
    }
    assert_eq!(keyframes, [0, 25]);
}

#[test]
fn set_bitrate_changes_output_size() {
    // Noise needs every bit it is given, so output size tracks the target.
    let mut rng = XorShift(7);
    let mut frame = VideoFrame::new(320, 180);
    let mut encoder = H264Encoder::new(H264EncoderConfig::new(320, 180, 1000, 30.0)).unwrap();
    let mut encoded = EncodedVideo::default();
    let mut kbps = [0usize; 3];
    for (phase, target) in [1000, 200, 1000].into_iter().enumerate() {
        encoder.set_bitrate(target).unwrap();
        assert_eq!(encoder.bitrate_kbps(), target);
        let mut bytes = 0;
        for n in 0..90 {
            rng.fill(frame.planes_mut().0);
            encoder.encode(&frame, &mut encoded).unwrap();
            // Let rate control settle for a second before measuring.
            if n >= 30 {
                bytes += encoded.data.len();
            }
        }
        kbps[phase] = bytes * 8 * 30 / 60 / 1000;
    }
    assert!(kbps[1] <= 300, "200 kbit/s target produced {kbps:?}");
    assert!(kbps[1] * 2 < kbps[0], "lowering had no effect: {kbps:?}");
    assert!(
        kbps[1] * 2 < kbps[2],
        "raising again had no effect: {kbps:?}"
    );
    assert!(encoder.set_bitrate(0).is_err());
}

#[test]
fn encoder_rejects_bad_config_and_wrong_size() {
    assert!(H264Encoder::new(H264EncoderConfig::new(641, 360, 500, 30.0)).is_err());
    assert!(H264Encoder::new(H264EncoderConfig::new(640, 360, 0, 30.0)).is_err());
    assert!(H264Encoder::new(H264EncoderConfig::new(640, 360, 500, 0.0)).is_err());
    let mut encoder = H264Encoder::new(H264EncoderConfig::new(640, 360, 500, 30.0)).unwrap();
    let err = encoder
        .encode(&VideoFrame::new(320, 180), &mut EncodedVideo::default())
        .unwrap_err();
    assert!(matches!(err, CodecError::FrameSizeMismatch { .. }), "{err}");
}

#[test]
fn simulcast_produces_three_decodable_layers_and_skips_disabled_ones() {
    let mut source = pattern(1280, 720);
    let mut simulcast = Simulcast::standard(1280, 720, 30.0).unwrap();
    assert_eq!(simulcast.layer_count(), 3);
    let sizes = [(320, 180), (640, 360), (1280, 720)];
    for (i, size) in sizes.iter().enumerate() {
        assert_eq!(simulcast.layer_size(i), Some(*size));
    }
    let mut decoders: Vec<_> = (0..3).map(|_| H264Decoder::new().unwrap()).collect();
    let mut captured = VideoFrame::new(0, 0);
    let mut decoded = VideoFrame::new(0, 0);
    let mut produced = [0u32; 3];
    let mut markers_read = [0u32; 3];
    for n in 0..30u32 {
        if n == 10 {
            simulcast.set_layer_enabled(2, false).unwrap();
        }
        if n == 20 {
            simulcast.set_layer_enabled(2, true).unwrap();
        }
        source.next_frame(&mut captured).unwrap();
        let expected = expected_marker(n, &captured);
        for (layer, unit) in simulcast.encode(&captured).unwrap() {
            assert!(
                !(10..20).contains(&n) || layer != 2,
                "disabled layer encoded at frame {n}"
            );
            if layer == 2 && n == 20 {
                assert!(
                    unit.is_keyframe,
                    "re-enabled layer must restart with a keyframe"
                );
            }
            produced[layer] += 1;
            assert!(decoders[layer]
                .decode(&unit.data, unit.timestamp_us, &mut decoded)
                .unwrap());
            assert_eq!((decoded.width(), decoded.height()), sizes[layer]);
            if read_marker(&decoded) == Some(expected) {
                markers_read[layer] += 1;
            }
        }
    }
    assert!(produced[0] >= 27 && produced[1] >= 27, "{produced:?}");
    assert!((17..=20).contains(&produced[2]), "{produced:?}");
    for layer in 0..3 {
        assert!(
            markers_read[layer] * 100 >= produced[layer] * 95,
            "layer {layer}: {markers_read:?} of {produced:?}"
        );
    }
}

#[test]
fn simulcast_rejects_inexact_layers() {
    let layer = |scale_down| SimulcastLayerConfig {
        scale_down,
        bitrate_kbps: 300,
    };
    assert!(Simulcast::new(1280, 720, 30.0, &[layer(3)]).is_err());
    assert!(Simulcast::new(1280, 720, 30.0, &[]).is_err());
    assert!(Simulcast::new(1280, 720, 30.0, &[layer(0)]).is_err());
    let mut simulcast = Simulcast::new(640, 360, 30.0, &[layer(2), layer(1)]).unwrap();
    assert!(simulcast.set_layer_enabled(5, false).is_err());
    assert!(simulcast.encode(&VideoFrame::new(320, 180)).is_err());
}
