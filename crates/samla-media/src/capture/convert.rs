//! Pixel format conversion from what devices deliver to the I420 the H.264
//! encoder takes.
//!
//! Colour uses BT.601 limited range, the matrix and range OpenH264 and the
//! decoders on the other side assume when a stream carries no colour
//! description. Each function writes into a caller-owned [`VideoFrame`] so a
//! capture loop does not allocate once the frame has its working size, and
//! rejects a buffer too short for the stated size instead of panicking
//! (devices do hand out truncated frames when they are unplugged mid-read).

use crate::frame::VideoFrame;

use super::CaptureError;

/// Where the colour bytes sit in one pixel of a packed RGB format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PackedRgb {
    /// Bytes per pixel (3 or 4).
    pub bytes_per_pixel: usize,
    /// Offset of red within a pixel.
    pub r: usize,
    /// Offset of green within a pixel.
    pub g: usize,
    /// Offset of blue within a pixel.
    pub b: usize,
}

impl PackedRgb {
    /// 32-bit B, G, R, unused: X11 `ZPixmap` at depth 24/32 on little-endian
    /// machines, and Windows/macOS screen grabs.
    pub const BGRX: Self = Self {
        bytes_per_pixel: 4,
        r: 2,
        g: 1,
        b: 0,
    };
    /// 24-bit R, G, B (cameras' `RAWRGB`).
    pub const RGB: Self = Self {
        bytes_per_pixel: 3,
        r: 0,
        g: 1,
        b: 2,
    };
    /// 24-bit B, G, R (cameras' `RAWBGR`).
    pub const BGR: Self = Self {
        bytes_per_pixel: 3,
        r: 2,
        g: 1,
        b: 0,
    };
}

/// BT.601 limited-range luma of one RGB pixel.
#[inline]
pub fn luma(r: u8, g: u8, b: u8) -> u8 {
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    (((66 * r + 129 * g + 25 * b + 128) >> 8) + 16) as u8
}

/// BT.601 limited-range (U, V) of one RGB colour.
#[inline]
pub fn chroma(r: u8, g: u8, b: u8) -> (u8, u8) {
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    let u = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128;
    let v = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128;
    (u.clamp(0, 255) as u8, v.clamp(0, 255) as u8)
}

fn too_short(what: &str, have: usize, need: usize) -> CaptureError {
    CaptureError::UnsupportedFormat(format!(
        "{what} buffer holds {have} bytes, the frame needs {need}"
    ))
}

/// Converts packed RGB rows (`stride` bytes apart) into `out` as I420.
///
/// Chroma is taken from the average colour of each 2x2 block, which keeps
/// sharp text in shared screens from growing coloured fringes.
pub fn packed_rgb_to_i420(
    src: &[u8],
    layout: PackedRgb,
    width: u32,
    height: u32,
    stride: usize,
    out: &mut VideoFrame,
) -> Result<(), CaptureError> {
    let (w, h) = (width as usize, height as usize);
    let bpp = layout.bytes_per_pixel;
    let need = if h == 0 {
        0
    } else {
        stride * (h - 1) + w * bpp
    };
    if stride < w * bpp || src.len() < need || layout.r.max(layout.g).max(layout.b) >= bpp {
        return Err(too_short("RGB", src.len(), need.max(w * bpp * h)));
    }
    out.resize(width, height);
    if w == 0 || h == 0 {
        return Ok(());
    }
    let cw = out.chroma_width();
    let (y_plane, u_plane, v_plane) = out.planes_mut();
    let (lr, lg, lb) = (layout.r, layout.g, layout.b);
    for (row, y_row) in y_plane.chunks_exact_mut(w).enumerate() {
        let line = &src[row * stride..row * stride + w * bpp];
        for (dst, p) in y_row.iter_mut().zip(line.chunks_exact(bpp)) {
            *dst = luma(p[lr], p[lg], p[lb]);
        }
    }
    // Chroma from row pairs (the last row pairs with itself when the height
    // is odd), two pixels at a time (likewise for an odd width).
    let sum = |a: &[u8], b: &[u8], c: &[u8], d: &[u8], i: usize| {
        (u32::from(a[i]) + u32::from(b[i]) + u32::from(c[i]) + u32::from(d[i]) + 2) / 4
    };
    for (cy, (u_row, v_row)) in u_plane
        .chunks_exact_mut(cw)
        .zip(v_plane.chunks_exact_mut(cw))
        .enumerate()
    {
        let (y0, y1) = (cy * 2, (cy * 2 + 1).min(h - 1));
        let row0 = &src[y0 * stride..y0 * stride + w * bpp];
        let row1 = &src[y1 * stride..y1 * stride + w * bpp];
        let (pairs0, pairs1) = (row0.chunks_exact(2 * bpp), row1.chunks_exact(2 * bpp));
        let (last0, last1) = (pairs0.remainder(), pairs1.remainder());
        let mut uv = u_row.iter_mut().zip(v_row.iter_mut());
        for ((a, b), (u, v)) in pairs0.zip(pairs1).zip(&mut uv) {
            let (a0, a1) = a.split_at(bpp);
            let (b0, b1) = b.split_at(bpp);
            let (r, g, bl) = (
                sum(a0, a1, b0, b1, lr),
                sum(a0, a1, b0, b1, lg),
                sum(a0, a1, b0, b1, lb),
            );
            (*u, *v) = chroma(r as u8, g as u8, bl as u8);
        }
        if let Some((u, v)) = uv.next() {
            let (r, g, bl) = (
                sum(last0, last0, last1, last1, lr),
                sum(last0, last0, last1, last1, lg),
                sum(last0, last0, last1, last1, lb),
            );
            (*u, *v) = chroma(r as u8, g as u8, bl as u8);
        }
    }
    Ok(())
}

/// Converts packed YUYV (YUY2, 4:2:2: Y0 U Y1 V), the format every UVC
/// webcam offers uncompressed, into I420 by averaging chroma row pairs.
pub fn yuyv_to_i420(
    src: &[u8],
    width: u32,
    height: u32,
    out: &mut VideoFrame,
) -> Result<(), CaptureError> {
    let (w, h) = (width as usize, height as usize);
    let stride = w.div_ceil(2) * 4;
    if src.len() < stride * h {
        return Err(too_short("YUYV", src.len(), stride * h));
    }
    out.resize(width, height);
    let cw = out.chroma_width();
    let (y_plane, u_plane, v_plane) = out.planes_mut();
    for row in 0..h {
        let line = &src[row * stride..(row + 1) * stride];
        let y_row = &mut y_plane[row * w..(row + 1) * w];
        for (x, dst) in y_row.iter_mut().enumerate() {
            *dst = line[(x / 2) * 4 + (x % 2) * 2];
        }
    }
    for cy in 0..h.div_ceil(2) {
        let a = &src[cy * 2 * stride..];
        let b = &src[(cy * 2 + 1).min(h - 1) * stride..];
        for cx in 0..cw {
            let i = cx * 4;
            u_plane[cy * cw + cx] = (u16::from(a[i + 1]) + u16::from(b[i + 1])).div_ceil(2) as u8;
            v_plane[cy * cw + cx] = (u16::from(a[i + 3]) + u16::from(b[i + 3])).div_ceil(2) as u8;
        }
    }
    Ok(())
}

/// Converts NV12 (a Y plane, then interleaved U/V at quarter resolution) into
/// I420: the same samples, only the chroma is de-interleaved.
pub fn nv12_to_i420(
    src: &[u8],
    width: u32,
    height: u32,
    out: &mut VideoFrame,
) -> Result<(), CaptureError> {
    let (w, h) = (width as usize, height as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let need = w * h + cw * 2 * ch;
    if src.len() < need {
        return Err(too_short("NV12", src.len(), need));
    }
    out.resize(width, height);
    let (y_plane, u_plane, v_plane) = out.planes_mut();
    y_plane.copy_from_slice(&src[..w * h]);
    let uv = &src[w * h..need];
    for ((pair, u), v) in uv.chunks_exact(2).zip(u_plane).zip(v_plane) {
        *u = pair[0];
        *v = pair[1];
    }
    Ok(())
}

/// Converts 8-bit greyscale into I420 (limited range, no colour).
pub fn gray_to_i420(
    src: &[u8],
    width: u32,
    height: u32,
    out: &mut VideoFrame,
) -> Result<(), CaptureError> {
    let n = width as usize * height as usize;
    if src.len() < n {
        return Err(too_short("greyscale", src.len(), n));
    }
    out.resize(width, height);
    let (y_plane, u_plane, v_plane) = out.planes_mut();
    for (dst, &g) in y_plane.iter_mut().zip(src) {
        *dst = luma(g, g, g);
    }
    u_plane.fill(128);
    v_plane.fill(128);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primaries_map_to_bt601_limited_range() {
        assert_eq!(luma(0, 0, 0), 16);
        assert_eq!(luma(255, 255, 255), 235);
        assert_eq!(chroma(255, 255, 255), (128, 128));
        let (u, v) = chroma(255, 0, 0);
        assert_eq!((luma(255, 0, 0), u, v), (82, 90, 240));
    }

    #[test]
    fn bgrx_solid_colour_converts_uniformly() {
        let (w, h) = (5u32, 3u32);
        let src: Vec<u8> = (0..w * h).flat_map(|_| [255u8, 0, 0, 0]).collect();
        let mut out = VideoFrame::new(0, 0);
        packed_rgb_to_i420(&src, PackedRgb::BGRX, w, h, w as usize * 4, &mut out).unwrap();
        let (u, v) = chroma(0, 0, 255);
        assert!(out.y().iter().all(|&y| y == luma(0, 0, 255)));
        assert!(out.u().iter().all(|&x| x == u));
        assert!(out.v().iter().all(|&x| x == v));
    }

    #[test]
    fn short_buffers_are_errors_not_panics() {
        let mut out = VideoFrame::new(0, 0);
        assert!(packed_rgb_to_i420(&[0; 10], PackedRgb::RGB, 4, 4, 12, &mut out).is_err());
        assert!(yuyv_to_i420(&[0; 10], 4, 4, &mut out).is_err());
        assert!(nv12_to_i420(&[0; 10], 4, 4, &mut out).is_err());
        assert!(gray_to_i420(&[0; 10], 4, 4, &mut out).is_err());
    }

    #[test]
    fn yuyv_and_nv12_keep_samples() {
        // 2x2 YUYV: rows (Y 10 20, U 100, V 200) and (Y 30 40, U 110, V 210).
        let yuyv = [10, 100, 20, 200, 30, 110, 40, 210];
        let mut out = VideoFrame::new(0, 0);
        yuyv_to_i420(&yuyv, 2, 2, &mut out).unwrap();
        assert_eq!(
            (out.y(), out.u(), out.v()),
            (&[10, 20, 30, 40][..], &[105][..], &[205][..])
        );
        let nv12 = [1, 2, 3, 4, 50, 60];
        nv12_to_i420(&nv12, 2, 2, &mut out).unwrap();
        assert_eq!(
            (out.y(), out.u(), out.v()),
            (&[1, 2, 3, 4][..], &[50][..], &[60][..])
        );
    }

    #[test]
    fn odd_sizes_convert() {
        let mut out = VideoFrame::new(0, 0);
        let src = vec![128u8; 7 * 5 * 3];
        packed_rgb_to_i420(&src, PackedRgb::RGB, 7, 5, 21, &mut out).unwrap();
        assert_eq!(out.u().len(), 4 * 3);
        yuyv_to_i420(&[128u8; 8 * 5 * 2], 7, 5, &mut out).unwrap();
        assert_eq!(out.y().len(), 35);
    }
}
