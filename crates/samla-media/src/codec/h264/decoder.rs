use openh264::decoder::{DecodedYUV, Decoder, DecoderConfig};
use openh264::formats::YUVSource;
use openh264::OpenH264API;

use crate::codec::CodecError;
use crate::frame::VideoFrame;

/// An H.264 decoder producing I420 [`VideoFrame`]s.
///
/// Input is untrusted: garbage, truncated or out-of-order access units yield
/// an error (after which the caller should request a keyframe), never a panic.
pub struct H264Decoder {
    inner: Decoder,
}

impl std::fmt::Debug for H264Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H264Decoder").finish_non_exhaustive()
    }
}

impl H264Decoder {
    /// Creates a decoder; it needs a keyframe (with SPS/PPS) before it can
    /// produce pictures.
    pub fn new() -> Result<Self, CodecError> {
        // The wrapper's default config flushes after every call, which is
        // what a no-B-frame real-time stream wants: one picture out per
        // access unit, no reordering delay.
        let inner = Decoder::with_api_config(OpenH264API::from_source(), DecoderConfig::new())
            .map_err(CodecError::H264Decode)?;
        Ok(Self { inner })
    }

    /// Decodes one Annex-B access unit into `out` (resized to the picture's
    /// size; `out.timestamp_us` is set to `timestamp_us`). Returns `false`
    /// when the data produced no picture yet (e.g. parameter sets only).
    pub fn decode(
        &mut self,
        access_unit: &[u8],
        timestamp_us: u64,
        out: &mut VideoFrame,
    ) -> Result<bool, CodecError> {
        let picture = self
            .inner
            .decode(access_unit)
            .map_err(CodecError::H264Decode)?;
        let Some(picture) = picture else {
            return Ok(false);
        };
        copy_picture(&picture, out)?;
        out.timestamp_us = timestamp_us;
        Ok(true)
    }
}

/// Copies a decoder-owned, padded picture into the caller's packed frame,
/// checking the geometry OpenH264 reports before trusting it for slicing.
fn copy_picture(picture: &DecodedYUV<'_>, out: &mut VideoFrame) -> Result<(), CodecError> {
    let (width, height) = picture.dimensions_i32();
    let (luma_stride, chroma_stride, _) = picture.strides_i32();
    let invalid = || CodecError::InvalidPicture {
        width,
        height,
        luma_stride,
        chroma_stride,
    };
    let (Ok(w), Ok(h), Ok(ys), Ok(cs)) = (
        u32::try_from(width),
        u32::try_from(height),
        usize::try_from(luma_stride),
        usize::try_from(chroma_stride),
    ) else {
        return Err(invalid());
    };
    if w == 0 || h == 0 || w % 2 != 0 || h % 2 != 0 || ys < w as usize || cs < w as usize / 2 {
        return Err(invalid());
    }
    out.resize(w, h);
    let (cw, ch) = (out.chroma_width(), out.chroma_height());
    let (dy, du, dv) = out.planes_mut();
    copy_plane(picture.y(), ys, dy, w as usize, h as usize).ok_or_else(invalid)?;
    copy_plane(picture.u(), cs, du, cw, ch).ok_or_else(invalid)?;
    copy_plane(picture.v(), cs, dv, cw, ch).ok_or_else(invalid)?;
    Ok(())
}

/// Copies `rows` rows of `width` bytes from a strided plane into a packed one;
/// `None` if the source is shorter than its geometry claims.
fn copy_plane(src: &[u8], stride: usize, dst: &mut [u8], width: usize, rows: usize) -> Option<()> {
    for (row, dst_row) in dst.chunks_exact_mut(width).take(rows).enumerate() {
        dst_row.copy_from_slice(src.get(row * stride..row * stride + width)?);
    }
    Some(())
}
