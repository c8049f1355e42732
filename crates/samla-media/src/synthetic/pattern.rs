use std::time::{Duration, SystemTime};

use super::marker::{band_height, write_marker, Marker};
use crate::capture::{CaptureError, Pacer, Pacing, VideoFormat, VideoSource};
use crate::frame::VideoFrame;

/// Colour bars (75% EBU order) in limited-range BT.601 YUV.
const BARS: [[u8; 3]; 8] = [
    [180, 128, 128], // white
    [162, 44, 142],  // yellow
    [131, 156, 44],  // cyan
    [112, 72, 58],   // green
    [84, 184, 198],  // magenta
    [65, 100, 212],  // red
    [35, 212, 114],  // blue
    [16, 128, 128],  // black
];
/// Luma/chroma of the bouncing box: a saturated orange that differs from every bar.
const BOX: [u8; 3] = [150, 60, 200];

/// A moving test picture — scrolling colour bars with a bouncing box — that
/// carries a [`Marker`] (sender, frame number, capture time) in its top band.
///
/// Motion makes every frame differ, and per-frame luma grain (±3 levels, like
/// camera sensor noise) keeps the encoder from finding perfect matches, so
/// bitrate and encode cost resemble a real webcam rather than a cartoon.
#[derive(Debug)]
pub struct TestPattern {
    sender: u32,
    format: VideoFormat,
    epoch: SystemTime,
    frame: u32,
    pacer: Pacer,
}

impl TestPattern {
    /// A pattern for `sender` at `width x height` and `fps`, stamping capture
    /// times as microseconds since `epoch` (use `UNIX_EPOCH` to compare
    /// capture and display times across processes on one machine).
    ///
    /// The size must be even (I420/H.264) and at least 160x90 so the marker
    /// fits with cells of 4 pixels or more.
    pub fn new(
        sender: u32,
        width: u32,
        height: u32,
        fps: f32,
        epoch: SystemTime,
        pacing: Pacing,
    ) -> Result<Self, CaptureError> {
        if width < 160
            || height < band_height(width) + 16
            || !width.is_multiple_of(2)
            || !height.is_multiple_of(2)
        {
            return Err(CaptureError::UnsupportedFormat(format!(
                "test pattern needs an even size of at least 160 pixels wide with room below the marker band, got {width}x{height}"
            )));
        }
        if !(fps.is_finite() && fps > 0.0) {
            return Err(CaptureError::UnsupportedFormat(format!(
                "frame rate must be positive, got {fps}"
            )));
        }
        Ok(Self {
            sender,
            format: VideoFormat { width, height, fps },
            epoch,
            frame: 0,
            pacer: Pacer::new(pacing, Duration::from_secs_f32(1.0 / fps)),
        })
    }

    /// Draws bars scrolled by `offset` pixels and the box into rows below `top`.
    fn draw_scene(&self, out: &mut VideoFrame, top: usize) {
        let width = out.width() as usize;
        let height = out.height() as usize;
        let chroma_width = out.chroma_width();
        let chroma_top = top / 2;
        let n = self.frame as usize;
        let bar_width = (width / BARS.len()).max(1);
        // Even offset keeps luma and chroma bar edges aligned.
        let offset = (n * 4) % (bar_width * BARS.len());
        let (y_plane, u_plane, v_plane) = out.planes_mut();

        // Every scene row is the same, so draw one and copy it down.
        let bar_at = |x: usize| BARS[((x + offset) / bar_width) % BARS.len()];
        let first = top * width;
        for (x, p) in y_plane[first..first + width].iter_mut().enumerate() {
            *p = bar_at(x)[0];
        }
        for row in top + 1..height {
            y_plane.copy_within(first..first + width, row * width);
        }
        let first = chroma_top * chroma_width;
        for x in 0..chroma_width {
            let bar = bar_at(x * 2);
            u_plane[first + x] = bar[1];
            v_plane[first + x] = bar[2];
        }
        for row in chroma_top + 1..u_plane.len() / chroma_width {
            u_plane.copy_within(first..first + chroma_width, row * chroma_width);
            v_plane.copy_within(first..first + chroma_width, row * chroma_width);
        }

        // Box bouncing diagonally inside the scene, on even coordinates.
        let side = ((height - top) / 3).max(2) & !1;
        let span_x = width - side;
        let span_y = (height - top) - side;
        let bounce = |t: usize, span: usize| {
            if span == 0 {
                return 0;
            }
            let t = t % (2 * span);
            (if t < span { t } else { 2 * span - t }) & !1
        };
        let bx = bounce(n * 6, span_x);
        let by = top.next_multiple_of(2) + bounce(n * 4, span_y.saturating_sub(1));
        for row in by..(by + side).min(height) {
            y_plane[row * width + bx..row * width + bx + side].fill(BOX[0]);
        }
        for row in by / 2..((by + side) / 2).min(u_plane.len() / chroma_width) {
            let start = row * chroma_width + bx / 2;
            u_plane[start..start + side / 2].fill(BOX[1]);
            v_plane[start..start + side / 2].fill(BOX[2]);
        }

        // Grain: a 64-bit LCG seeded per frame, one step per 8 pixels (a byte each).
        let mut state = u64::from(self.frame).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        for chunk in y_plane[top * width..].chunks_mut(8) {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            for (i, p) in chunk.iter_mut().enumerate() {
                let noise = ((state >> (i * 8)) & 7) as u8;
                *p = p.saturating_add(noise).saturating_sub(3);
            }
        }
    }
}

impl VideoSource for TestPattern {
    fn format(&self) -> VideoFormat {
        self.format
    }

    fn next_frame(&mut self, out: &mut VideoFrame) -> Result<(), CaptureError> {
        self.pacer.wait();
        let capture_time_us = SystemTime::now()
            .duration_since(self.epoch)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
        out.resize(self.format.width, self.format.height);
        out.timestamp_us = capture_time_us;
        // One blank cell-row between marker and scene keeps the scene's
        // compression artefacts out of the marker's cells.
        let band = band_height(self.format.width) as usize;
        let gap = band / 5;
        self.draw_scene(out, band + gap);
        {
            let width = out.width() as usize;
            let chroma_rows = (band + gap).div_ceil(2) * out.chroma_width();
            let (y_plane, u_plane, v_plane) = out.planes_mut();
            y_plane[..(band + gap) * width].fill(128);
            u_plane[..chroma_rows].fill(128);
            v_plane[..chroma_rows].fill(128);
        }
        let marker = Marker {
            sender: self.sender,
            frame: self.frame,
            capture_time_us,
        };
        write_marker(out, &marker);
        self.frame = self.frame.wrapping_add(1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;
    use crate::synthetic::read_marker;

    #[test]
    fn frames_carry_incrementing_markers_and_move() {
        let mut source = TestPattern::new(7, 640, 360, 30.0, UNIX_EPOCH, Pacing::Unpaced).unwrap();
        let mut previous = VideoFrame::new(0, 0);
        let mut frame = VideoFrame::new(0, 0);
        for n in 0..200 {
            source.next_frame(&mut frame).unwrap();
            let marker = read_marker(&frame).expect("marker");
            assert_eq!((marker.sender, marker.frame), (7, n));
            assert_eq!(marker.capture_time_us, frame.timestamp_us);
            let band = band_height(640) as usize * 640;
            assert_ne!(
                frame.y()[band..],
                previous.y().get(band..).unwrap_or_default()[..],
                "frame {n} did not move"
            );
            std::mem::swap(&mut previous, &mut frame);
        }
    }

    #[test]
    fn rejects_unusable_sizes() {
        for (w, h) in [(100, 100), (641, 360), (640, 361), (320, 40)] {
            assert!(
                TestPattern::new(0, w, h, 30.0, UNIX_EPOCH, Pacing::Unpaced).is_err(),
                "{w}x{h}"
            );
        }
        assert!(TestPattern::new(0, 320, 180, 0.0, UNIX_EPOCH, Pacing::Unpaced).is_err());
    }

    #[test]
    fn smallest_size_draws_without_panicking() {
        for (w, h) in [(160, 90), (162, 38), (1280, 720), (1920, 1080), (322, 182)] {
            let mut source = TestPattern::new(1, w, h, 30.0, UNIX_EPOCH, Pacing::Unpaced).unwrap();
            let mut frame = VideoFrame::new(0, 0);
            for _ in 0..500 {
                source.next_frame(&mut frame).unwrap();
            }
            assert!(read_marker(&frame).is_some(), "{w}x{h}");
        }
    }
}
