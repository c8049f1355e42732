//! A block code drawn into the top of a picture.
//!
//! Layout, in cells whose side is `width / 40` pixels (so the grid scales with
//! the picture and a 1280x720 marker is still readable at 320x180 with 8x8
//! cells):
//!
//! * row 0: sync row, alternating white/black starting with white. It proves
//!   a marker is present and gives the reader its black/white levels after
//!   the codec has shifted them.
//! * rows 1..=4: 144 data bits, MSB first, row-major: sender (u32 BE), frame
//!   (u32 BE), capture time in µs (u64 BE), CRC-16/CCITT-FALSE of those 16
//!   bytes (u16 BE). The remaining 16 cells are black.
//!
//! Only luma carries information; the band's chroma is neutral so chroma
//! subsampling cannot smear colour into it.

use crate::frame::VideoFrame;

const COLUMNS: usize = 40;
const DATA_ROWS: usize = 4;
const ROWS: usize = 1 + DATA_ROWS;
const PAYLOAD_BYTES: usize = 16;
const CODED_BYTES: usize = PAYLOAD_BYTES + 2;
const WHITE: u8 = 235;
const BLACK: u8 = 16;
/// Minimum white-minus-black difference in the sync row for the picture to be
/// trusted at all; below this the band is not a marker (or is badly damaged).
const MIN_CONTRAST: u32 = 60;

/// The identity stamped into a synthetic frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Marker {
    /// Which participant sent the frame.
    pub sender: u32,
    /// The sender's frame counter.
    pub frame: u32,
    /// Capture time in microseconds since the epoch the source was given.
    pub capture_time_us: u64,
}

impl Marker {
    fn to_bytes(self) -> [u8; CODED_BYTES] {
        let mut bytes = [0u8; CODED_BYTES];
        bytes[0..4].copy_from_slice(&self.sender.to_be_bytes());
        bytes[4..8].copy_from_slice(&self.frame.to_be_bytes());
        bytes[8..16].copy_from_slice(&self.capture_time_us.to_be_bytes());
        let crc = crc16(&bytes[..PAYLOAD_BYTES]);
        bytes[16..18].copy_from_slice(&crc.to_be_bytes());
        bytes
    }

    fn from_bytes(bytes: &[u8; CODED_BYTES]) -> Option<Self> {
        let crc = u16::from_be_bytes([bytes[16], bytes[17]]);
        if crc != crc16(&bytes[..PAYLOAD_BYTES]) {
            return None;
        }
        let sender = u32::from_be_bytes(bytes[0..4].try_into().ok()?);
        let frame = u32::from_be_bytes(bytes[4..8].try_into().ok()?);
        let capture_time_us = u64::from_be_bytes(bytes[8..16].try_into().ok()?);
        Some(Self {
            sender,
            frame,
            capture_time_us,
        })
    }
}

/// Pixel rectangle of one cell; edges come from integer-dividing the frame
/// width so writer and reader agree at every scale.
struct Cell {
    x0: usize,
    x1: usize,
    y0: usize,
    y1: usize,
}

fn cell(width: usize, row: usize, col: usize) -> Cell {
    Cell {
        x0: col * width / COLUMNS,
        x1: (col + 1) * width / COLUMNS,
        y0: row * width / COLUMNS,
        y1: (row + 1) * width / COLUMNS,
    }
}

/// Height in pixels of the marker band for a frame of this width.
pub(crate) fn band_height(width: u32) -> u32 {
    (ROWS * width as usize / COLUMNS) as u32
}

/// Whether a frame is big enough to carry (and read back) a marker: cells
/// must be at least 4 pixels so sampling their centre avoids codec ringing.
fn fits(frame: &VideoFrame) -> bool {
    frame.width() as usize >= 4 * COLUMNS && frame.height() >= band_height(frame.width())
}

fn bit_value(bytes: &[u8; CODED_BYTES], bit: usize) -> bool {
    bit < CODED_BYTES * 8 && bytes[bit / 8] & (0x80 >> (bit % 8)) != 0
}

/// Draws `marker` into the top band of `frame`, overwriting whatever was
/// there. Does nothing if the frame is narrower than 160 pixels or too short
/// for the band, since such a marker could not be read back reliably.
pub fn write_marker(frame: &mut VideoFrame, marker: &Marker) {
    if !fits(frame) {
        return;
    }
    let width = frame.width() as usize;
    let chroma_width = frame.chroma_width();
    let band_rows = band_height(frame.width()) as usize;
    let bytes = marker.to_bytes();
    let (y_plane, u_plane, v_plane) = frame.planes_mut();
    for row in 0..ROWS {
        for col in 0..COLUMNS {
            let white = if row == 0 {
                col % 2 == 0
            } else {
                bit_value(&bytes, (row - 1) * COLUMNS + col)
            };
            let value = if white { WHITE } else { BLACK };
            let c = cell(width, row, col);
            for y in c.y0..c.y1 {
                y_plane[y * width + c.x0..y * width + c.x1].fill(value);
            }
        }
    }
    let chroma_rows = band_rows.div_ceil(2) * chroma_width;
    u_plane[..chroma_rows].fill(128);
    v_plane[..chroma_rows].fill(128);
}

/// Mean luma of the central half (in each direction) of a cell, which stays
/// clean under scaling blur and block-edge compression artefacts.
fn sample(y_plane: &[u8], width: usize, c: &Cell) -> u32 {
    let (w, h) = (c.x1 - c.x0, c.y1 - c.y0);
    let (x0, x1) = (c.x0 + w / 4, c.x1 - w / 4);
    let (y0, y1) = (c.y0 + h / 4, c.y1 - h / 4);
    let mut sum = 0u32;
    for y in y0..y1 {
        sum += y_plane[y * width + x0..y * width + x1]
            .iter()
            .map(|&p| u32::from(p))
            .sum::<u32>();
    }
    sum / ((x1 - x0) * (y1 - y0)) as u32
}

/// Reads the marker back from a (possibly encoded, scaled and decoded) frame.
///
/// Returns `None` when there is no marker, the sync row is unreadable, or the
/// checksum does not match — a damaged marker is never reported as a wrong one
/// (barring a 1 in 65536 CRC collision on an already-damaged band).
pub fn read_marker(frame: &VideoFrame) -> Option<Marker> {
    if !fits(frame) {
        return None;
    }
    let width = frame.width() as usize;
    let y_plane = frame.y();

    let mut sync = [0u32; COLUMNS];
    for (col, level) in sync.iter_mut().enumerate() {
        *level = sample(y_plane, width, &cell(width, 0, col));
    }
    let whites = sync.iter().step_by(2);
    let blacks = sync.iter().skip(1).step_by(2);
    let darkest_white = *whites.clone().min()?;
    let brightest_black = *blacks.clone().max()?;
    let half = (COLUMNS / 2) as u32;
    let white_mean = whites.sum::<u32>() / half;
    let black_mean = blacks.sum::<u32>() / half;
    if white_mean < black_mean + MIN_CONTRAST || darkest_white <= brightest_black {
        return None;
    }
    let threshold = (white_mean + black_mean) / 2;

    let mut bytes = [0u8; CODED_BYTES];
    for bit in 0..CODED_BYTES * 8 {
        let c = cell(width, 1 + bit / COLUMNS, bit % COLUMNS);
        if sample(y_plane, width, &c) > threshold {
            bytes[bit / 8] |= 0x80 >> (bit % 8);
        }
    }
    Marker::from_bytes(&bytes)
}

/// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF). Bitwise is fast enough for
/// 16 bytes per frame and keeps the code self-evidently correct.
fn crc16(data: &[u8]) -> u16 {
    let mut crc = 0xFFFFu16;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARKER: Marker = Marker {
        sender: 0xDEAD_BEEF,
        frame: 123_456,
        capture_time_us: 0x0123_4567_89AB_CDEF,
    };

    #[test]
    fn crc16_matches_reference_check_value() {
        assert_eq!(crc16(b"123456789"), 0x29B1);
    }

    #[test]
    fn round_trip_on_raw_frame_at_several_sizes() {
        for (w, h) in [
            (1280, 720),
            (640, 360),
            (320, 180),
            (1920, 1080),
            (500, 300),
        ] {
            let mut frame = VideoFrame::new(w, h);
            write_marker(&mut frame, &MARKER);
            assert_eq!(read_marker(&frame), Some(MARKER), "{w}x{h}");
        }
    }

    #[test]
    fn survives_box_downscaling() {
        let mut frame = VideoFrame::new(1280, 720);
        write_marker(&mut frame, &MARKER);
        let mut small = VideoFrame::new(0, 0);
        frame.scale_down_into(4, &mut small);
        assert_eq!(read_marker(&small), Some(MARKER));
    }

    #[test]
    fn blank_or_tiny_frame_has_no_marker() {
        assert_eq!(read_marker(&VideoFrame::new(640, 360)), None);
        let mut tiny = VideoFrame::new(100, 60);
        write_marker(&mut tiny, &MARKER);
        assert_eq!(read_marker(&tiny), None);
    }

    #[test]
    fn flipped_data_cell_is_rejected_not_misread() {
        let mut frame = VideoFrame::new(640, 360);
        write_marker(&mut frame, &MARKER);
        let width = frame.width() as usize;
        for bit in [0, 37, 77, 143] {
            let mut damaged = frame.clone();
            let c = cell(width, 1 + bit / COLUMNS, bit % COLUMNS);
            let (y_plane, _, _) = damaged.planes_mut();
            for y in c.y0..c.y1 {
                for p in &mut y_plane[y * width + c.x0..y * width + c.x1] {
                    *p = if *p > 128 { BLACK } else { WHITE };
                }
            }
            assert_eq!(read_marker(&damaged), None, "bit {bit}");
        }
    }
}
