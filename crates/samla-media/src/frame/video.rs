/// One picture in planar I420 (YUV 4:2:0) layout.
///
/// All three planes share one tightly packed buffer (Y, then U, then V, each
/// with stride equal to its width) so that a frame is a single allocation and
/// [`VideoFrame::resize`] can reuse it: sources, decoders and the simulcast
/// scaler all write into a caller-owned frame instead of returning new ones.
/// Chroma planes are `ceil(width / 2) x ceil(height / 2)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VideoFrame {
    width: u32,
    height: u32,
    data: Vec<u8>,
    /// Capture time in microseconds since the source's epoch; carried through
    /// encode/decode by the caller so sinks can measure latency.
    pub timestamp_us: u64,
}

/// Luma of black in limited ("TV") range, which is what H.264 encoders expect.
pub(crate) const LUMA_BLACK: u8 = 16;
/// Chroma value meaning "no colour".
pub(crate) const CHROMA_NEUTRAL: u8 = 128;

impl VideoFrame {
    /// A black frame of the given size.
    pub fn new(width: u32, height: u32) -> Self {
        let mut frame = Self {
            width: 0,
            height: 0,
            data: Vec::new(),
            timestamp_us: 0,
        };
        frame.resize(width, height);
        frame
    }

    /// Changes the frame's size, reusing the existing allocation when it is
    /// large enough. Pixel contents are unspecified afterwards unless the size
    /// grew (new bytes are black); writers are expected to overwrite them.
    pub fn resize(&mut self, width: u32, height: u32) {
        if width == self.width && height == self.height {
            return;
        }
        self.width = width;
        self.height = height;
        let luma = width as usize * height as usize;
        let chroma = self.chroma_width() * self.chroma_height();
        self.data.clear();
        self.data.resize(luma, LUMA_BLACK);
        self.data.resize(luma + 2 * chroma, CHROMA_NEUTRAL);
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Width of the U and V planes (also their stride).
    pub fn chroma_width(&self) -> usize {
        (self.width as usize).div_ceil(2)
    }

    /// Height of the U and V planes.
    pub fn chroma_height(&self) -> usize {
        (self.height as usize).div_ceil(2)
    }

    fn luma_len(&self) -> usize {
        self.width as usize * self.height as usize
    }

    fn chroma_len(&self) -> usize {
        self.chroma_width() * self.chroma_height()
    }

    /// The luma plane; stride is [`VideoFrame::width`].
    pub fn y(&self) -> &[u8] {
        &self.data[..self.luma_len()]
    }

    /// The U (Cb) plane; stride is [`VideoFrame::chroma_width`].
    pub fn u(&self) -> &[u8] {
        let start = self.luma_len();
        &self.data[start..start + self.chroma_len()]
    }

    /// The V (Cr) plane; stride is [`VideoFrame::chroma_width`].
    pub fn v(&self) -> &[u8] {
        &self.data[self.luma_len() + self.chroma_len()..]
    }

    /// Mutable access to all three planes at once (Y, U, V).
    pub fn planes_mut(&mut self) -> (&mut [u8], &mut [u8], &mut [u8]) {
        let (luma, chroma) = (self.luma_len(), self.chroma_len());
        let (y, rest) = self.data.split_at_mut(luma);
        let (u, v) = rest.split_at_mut(chroma);
        (y, u, v)
    }

    /// Box-filters this frame down by an integer `factor` into `out`, which is
    /// resized to `width / factor x height / factor` (a remainder is cropped).
    ///
    /// An integer box filter is all simulcast needs (1/2 and 1/4 layers) and is
    /// cheap enough to run on every captured frame; it also keeps hard edges,
    /// such as the synthetic marker blocks, aligned to the scaled grid.
    ///
    /// # Panics
    ///
    /// Panics if `factor` is zero.
    pub fn scale_down_into(&self, factor: u32, out: &mut VideoFrame) {
        assert!(factor > 0, "scale factor must be at least 1");
        out.resize(self.width / factor, self.height / factor);
        out.timestamp_us = self.timestamp_us;
        let factor = factor as usize;
        let (out_w, out_h) = (out.width as usize, out.height as usize);
        let (out_cw, out_ch) = (out.chroma_width(), out.chroma_height());
        let (cw, ch) = (self.chroma_width(), self.chroma_height());
        let (dy, du, dv) = out.planes_mut();
        box_filter(self.y(), self.width as usize, factor, dy, out_w, out_h);
        // Odd output chroma can reach one row/column past the source chroma
        // plane; clamp the output size to what the source can fill.
        let (fill_cw, fill_ch) = (out_cw.min(cw / factor), out_ch.min(ch / factor));
        box_filter(self.u(), cw, factor, du, fill_cw, fill_ch);
        box_filter(self.v(), cw, factor, dv, fill_cw, fill_ch);
        // Re-pack if clamping made the filled region narrower than the stride.
        if fill_cw != out_cw || fill_ch != out_ch {
            for plane in [du, dv] {
                restride(plane, fill_cw, fill_ch, out_cw);
            }
        }
    }
}

/// Averages `factor x factor` blocks of `src` (stride `src_stride`) into a
/// tightly packed `dst` of `dst_w x dst_h`.
fn box_filter(
    src: &[u8],
    src_stride: usize,
    factor: usize,
    dst: &mut [u8],
    dst_w: usize,
    dst_h: usize,
) {
    let area = (factor * factor) as u32;
    let half = area / 2;
    for (oy, dst_row) in dst.chunks_exact_mut(dst_w.max(1)).take(dst_h).enumerate() {
        let rows = &src[oy * factor * src_stride..];
        for (ox, out) in dst_row.iter_mut().enumerate() {
            let mut sum = 0u32;
            for r in 0..factor {
                let start = r * src_stride + ox * factor;
                sum += rows[start..start + factor]
                    .iter()
                    .map(|&p| u32::from(p))
                    .sum::<u32>();
            }
            *out = ((sum + half) / area) as u8;
        }
    }
}

/// Moves a `w x h` block packed with stride `w` to stride `stride` in place,
/// padding the new columns/rows with neutral chroma.
fn restride(plane: &mut [u8], w: usize, h: usize, stride: usize) {
    for row in (0..h).rev() {
        plane.copy_within(row * w..row * w + w, row * stride);
        plane[row * stride + w..(row + 1) * stride].fill(CHROMA_NEUTRAL);
    }
    plane[h * stride..].fill(CHROMA_NEUTRAL);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planes_have_i420_sizes() {
        let frame = VideoFrame::new(641, 359);
        assert_eq!(frame.y().len(), 641 * 359);
        assert_eq!(frame.u().len(), 321 * 180);
        assert_eq!(frame.v().len(), 321 * 180);
    }

    #[test]
    fn resize_reuses_allocation_when_shrinking() {
        let mut frame = VideoFrame::new(1280, 720);
        let ptr = frame.data.as_ptr();
        frame.resize(640, 360);
        frame.resize(1280, 720);
        assert_eq!(ptr, frame.data.as_ptr());
    }

    #[test]
    fn scale_down_averages_blocks() {
        let mut frame = VideoFrame::new(8, 8);
        {
            let (y, u, _) = frame.planes_mut();
            for (i, p) in y.iter_mut().enumerate() {
                *p = if (i % 8) < 4 { 200 } else { 20 };
            }
            u.fill(90);
        }
        frame.timestamp_us = 42;
        let mut out = VideoFrame::new(1, 1);
        frame.scale_down_into(4, &mut out);
        assert_eq!((out.width(), out.height()), (2, 2));
        assert_eq!(out.y(), &[200, 20, 200, 20]);
        assert_eq!(out.u(), &[90]);
        assert_eq!(out.timestamp_us, 42);
    }

    #[test]
    fn scale_down_odd_sizes_does_not_panic() {
        for (w, h, f) in [(7, 5, 2), (9, 9, 4), (3, 3, 1), (5, 3, 2), (2, 2, 3)] {
            let frame = VideoFrame::new(w, h);
            let mut out = VideoFrame::new(0, 0);
            frame.scale_down_into(f, &mut out);
            assert_eq!((out.width(), out.height()), (w / f, h / f));
        }
    }
}
