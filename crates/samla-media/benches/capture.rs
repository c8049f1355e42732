//! Capture-side costs on this machine: colour conversion, X11 screen grabs
//! (on a private Xvfb) and the microphone processing. Run with
//! `cargo bench -p samla-media --bench capture -- --warm-up-time 1 --measurement-time 3`.

use std::time::UNIX_EPOCH;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use samla_media::capture::convert::{packed_rgb_to_i420, yuyv_to_i420, PackedRgb};
use samla_media::{AudioFrame, MicProcessor, ProcessingConfig, VideoFrame};

#[cfg(target_os = "linux")]
#[path = "../tests/support/xvfb.rs"]
mod xvfb;

fn convert(c: &mut Criterion) {
    let mut group = c.benchmark_group("convert_to_i420");
    group.throughput(Throughput::Elements(1));
    let (w, h) = (1280u32, 720u32);
    let bgrx: Vec<u8> = (0..w * h * 4).map(|i| (i * 7) as u8).collect();
    let yuyv: Vec<u8> = (0..w * h * 2).map(|i| (i * 7) as u8).collect();
    let mut out = VideoFrame::new(w, h);
    group.bench_function("bgrx_720p", |b| {
        b.iter(|| {
            packed_rgb_to_i420(&bgrx, PackedRgb::BGRX, w, h, w as usize * 4, &mut out).unwrap()
        })
    });
    group.bench_function("yuyv_720p", |b| {
        b.iter(|| yuyv_to_i420(&yuyv, w, h, &mut out).unwrap())
    });
    group.finish();
}

#[cfg(target_os = "linux")]
fn screen(c: &mut Criterion) {
    use samla_media::{Pacing, ScreenSource, ScreenTarget, VideoSource};
    let x = xvfb::Xvfb::start(1280, 800);
    let mut source =
        ScreenSource::open_x11(&x.display, &ScreenTarget::Screen(None), 30.0, UNIX_EPOCH)
            .unwrap()
            .with_pacing(Pacing::Unpaced);
    let mut frame = VideoFrame::new(0, 0);
    let mut group = c.benchmark_group("x11_screen");
    group.throughput(Throughput::Elements(1));
    group.bench_function("grab_1280x800_to_i420", |b| {
        b.iter(|| source.next_frame(&mut frame).unwrap())
    });
    group.finish();
}

#[cfg(not(target_os = "linux"))]
fn screen(_: &mut Criterion) {}

fn mic_processing(c: &mut Criterion) {
    let mut group = c.benchmark_group("mic_processing");
    // One element = 20 ms of audio: elements per second / 50 = real-time factor.
    group.throughput(Throughput::Elements(1));
    let mut far = AudioFrame::silent();
    let mut near = AudioFrame::silent();
    for (i, (f, n)) in far
        .samples
        .iter_mut()
        .zip(near.samples.iter_mut())
        .enumerate()
    {
        *f = ((i as f32 * 0.05).sin() * 8000.0) as i16;
        *n = ((i as f32 * 0.031).sin() * 6000.0) as i16;
    }
    let mut apm = MicProcessor::new(ProcessingConfig::default());
    apm.set_delay_ms(20);
    let mut frame = AudioFrame::silent();
    group.bench_function("aec_ns_agc_20ms", |b| {
        b.iter(|| {
            apm.process_render(&far).unwrap();
            frame.samples = near.samples;
            apm.process_capture(&mut frame).unwrap();
        })
    });
    group.finish();
}

criterion_group!(benches, convert, screen, mic_processing);
criterion_main!(benches);
