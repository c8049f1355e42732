//! Codec throughput on this machine: how many streams (or layers) one core
//! can encode/decode in real time. Run with
//! `cargo bench -p samla-media --bench codecs -- --warm-up-time 1 --measurement-time 3`.

use std::time::UNIX_EPOCH;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use samla_media::{
    AudioFrame, AudioSource, EncodedVideo, H264Decoder, H264Encoder, H264EncoderConfig,
    OpusDecoder, OpusEncoder, OpusEncoderConfig, Pacing, TestPattern, Tone, VideoFrame,
    VideoSource,
};

/// A second of pre-rendered pattern frames so the benchmark times the codec,
/// not the pattern generator, while still feeding motion.
fn frames(width: u32, height: u32) -> Vec<VideoFrame> {
    let mut source = TestPattern::new(1, width, height, 30.0, UNIX_EPOCH, Pacing::Unpaced).unwrap();
    (0..30)
        .map(|_| {
            let mut frame = VideoFrame::new(width, height);
            source.next_frame(&mut frame).unwrap();
            frame
        })
        .collect()
}

fn h264_encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("h264_encode");
    group.throughput(Throughput::Elements(1));
    for (name, width, height, kbps) in [
        ("720p_1500kbps", 1280, 720, 1500),
        ("360p_500kbps", 640, 360, 500),
    ] {
        let input = frames(width, height);
        let mut config = H264EncoderConfig::new(width, height, kbps, 30.0);
        // A tight loop feeds frames far faster than 30 fps; with skipping on,
        // rate control would drop most of them and the figure would be bogus.
        config.allow_frame_skip = false;
        let mut encoder = H264Encoder::new(config).unwrap();
        let mut out = EncodedVideo::default();
        let mut i = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) % input.len();
                encoder.encode(&input[i], &mut out).unwrap()
            })
        });
    }
    group.finish();
}

fn h264_decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("h264_decode");
    group.throughput(Throughput::Elements(1));
    let input = frames(1280, 720);
    let mut config = H264EncoderConfig::new(1280, 720, 1500, 30.0);
    // Every frame must decode on its own so the loop can restart anywhere:
    // encode a one-second GOP and replay it from its keyframe.
    config.allow_frame_skip = false;
    let mut encoder = H264Encoder::new(config).unwrap();
    let gop: Vec<Vec<u8>> = input
        .iter()
        .map(|frame| {
            let mut out = EncodedVideo::default();
            assert!(encoder.encode(frame, &mut out).unwrap());
            out.data
        })
        .collect();
    let mut decoder = H264Decoder::new().unwrap();
    let mut out = VideoFrame::new(0, 0);
    let mut i = 0;
    group.bench_function("720p_1500kbps", |b| {
        b.iter(|| {
            let decoded = decoder.decode(&gop[i], 0, &mut out).unwrap();
            i = (i + 1) % gop.len();
            decoded
        })
    });
    group.finish();
}

fn opus(c: &mut Criterion) {
    let mut group = c.benchmark_group("opus_20ms");
    group.throughput(Throughput::Elements(1));
    let mut tone = Tone::new(440.0, 0.5, UNIX_EPOCH, Pacing::Unpaced);
    let mut frame = AudioFrame::silent();
    tone.next_frame(&mut frame).unwrap();
    let mut encoder = OpusEncoder::new(OpusEncoderConfig::default()).unwrap();
    let mut packet = Vec::new();
    group.bench_function("encode", |b| {
        b.iter(|| encoder.encode(&frame, &mut packet).unwrap())
    });
    let mut decoder = OpusDecoder::new().unwrap();
    let mut out = AudioFrame::silent();
    group.bench_function("decode", |b| {
        b.iter(|| decoder.decode(&packet, &mut out).unwrap())
    });
    group.finish();
}

criterion_group!(benches, h264_encode, h264_decode, opus);
criterion_main!(benches);
