//! `--save-frames DIR`: the latest decoded picture of each remote participant's camera and
//! screen share, as `DIR/{participant}-{kind}.ppm`, so a script can compare what arrived with
//! what was sent (the desktop test compares a shared screen with a screenshot of it).
//!
//! The sink runs on the engine's decoder thread, which must not fall behind: it only copies a
//! picture (at most once a second per track) into a recycled buffer and hands it to a writer
//! thread of its own, which converts it to RGB and writes it. When the writer is still busy
//! the picture is skipped and the next one taken.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::thread;
use std::time::{Duration, Instant};

use samla_engine::media::{FrameSink, VideoFrame};
use samla_protocol::{ParticipantId, TrackKind};

/// How often one track's file is rewritten at most.
const SAVE_EVERY: Duration = Duration::from_secs(1);

/// One picture for the writer thread: I420 planes back to back.
struct Picture {
    path: PathBuf,
    width: usize,
    height: usize,
    i420: Vec<u8>,
}

/// A [`FrameSink`] that keeps the latest picture of every remote video track on disk.
pub struct SaveFrames {
    dir: PathBuf,
    last_saved: HashMap<(ParticipantId, TrackKind), Instant>,
    to_writer: SyncSender<Picture>,
    /// Buffers the writer is done with, reused so saving does not allocate.
    spare: Receiver<Vec<u8>>,
}

impl SaveFrames {
    /// Saves into `dir`, which must exist.
    pub fn new(dir: PathBuf) -> std::io::Result<Self> {
        let (to_writer, pictures) = mpsc::sync_channel::<Picture>(1);
        let (give_back, spare) = mpsc::channel();
        thread::Builder::new()
            .name("samla-save-frames".into())
            .spawn(move || {
                let mut rgb = Vec::new();
                for picture in pictures {
                    if let Err(err) = write_ppm(&picture, &mut rgb) {
                        eprintln!("cannot save {}: {err}", picture.path.display());
                    }
                    let _ = give_back.send(picture.i420);
                }
            })?;
        Ok(Self {
            dir,
            last_saved: HashMap::new(),
            to_writer,
            spare,
        })
    }
}

impl FrameSink for SaveFrames {
    fn video(&mut self, participant: ParticipantId, kind: TrackKind, frame: &VideoFrame) {
        let name = match kind {
            TrackKind::Camera => "camera",
            TrackKind::Screen => "screen",
            TrackKind::Audio => return,
        };
        let now = Instant::now();
        let due = self
            .last_saved
            .get(&(participant, kind))
            .is_none_or(|t| now.duration_since(*t) >= SAVE_EVERY);
        if !due {
            return;
        }
        let mut i420 = self.spare.try_recv().unwrap_or_default();
        i420.clear();
        i420.extend_from_slice(frame.y());
        i420.extend_from_slice(frame.u());
        i420.extend_from_slice(frame.v());
        let picture = Picture {
            path: self.dir.join(format!("{}-{name}.ppm", participant.0)),
            width: frame.width() as usize,
            height: frame.height() as usize,
            i420,
        };
        match self.to_writer.try_send(picture) {
            Ok(()) => {
                self.last_saved.insert((participant, kind), now);
            }
            // Busy with another picture: try again with the next frame.
            Err(TrySendError::Full(_)) => {}
            Err(TrySendError::Disconnected(_)) => {
                self.last_saved.insert((participant, kind), now);
            }
        }
    }
}

/// Writes `picture` as a binary PPM through a temporary file and a rename, so a reader never
/// sees half a picture.
fn write_ppm(picture: &Picture, rgb: &mut Vec<u8>) -> std::io::Result<()> {
    i420_to_rgb(picture, rgb);
    let tmp = picture.path.with_extension("ppm.tmp");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
    write!(file, "P6\n{} {}\n255\n", picture.width, picture.height)?;
    file.write_all(rgb)?;
    file.flush()?;
    drop(file);
    std::fs::rename(&tmp, Path::new(&picture.path))
}

/// Limited-range BT.601 I420 to packed RGB (what the H.264 decoder gives), in 8.8 fixed
/// point.
fn i420_to_rgb(picture: &Picture, rgb: &mut Vec<u8>) {
    let (w, h) = (picture.width, picture.height);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let (y, chroma) = picture.i420.split_at((w * h).min(picture.i420.len()));
    let (u, v) = chroma.split_at((cw * ch).min(chroma.len()));
    rgb.clear();
    if v.len() < cw * ch {
        return;
    }
    rgb.reserve(w * h * 3);
    let clamp = |x: i32| (x >> 8).clamp(0, 255) as u8;
    for (row, line) in y.chunks_exact(w.max(1)).enumerate() {
        let (u_line, v_line) = (&u[(row / 2) * cw..], &v[(row / 2) * cw..]);
        for (col, &luma) in line.iter().enumerate() {
            let l = 298 * (i32::from(luma) - 16);
            let cb = i32::from(u_line[col / 2]) - 128;
            let cr = i32::from(v_line[col / 2]) - 128;
            rgb.extend_from_slice(&[
                clamp(l + 409 * cr + 128),
                clamp(l - 100 * cb - 208 * cr + 128),
                clamp(l + 516 * cb + 128),
            ]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait_for(path: &Path) -> Vec<u8> {
        for _ in 0..200 {
            if let Ok(bytes) = std::fs::read(path) {
                return bytes;
            }
            thread::sleep(Duration::from_millis(10));
        }
        panic!("{} was not written", path.display());
    }

    #[test]
    fn converts_grey_and_saves_at_most_once_a_second() {
        let dir = std::env::temp_dir().join(format!("samla-save-frames-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut frame = VideoFrame::new(4, 2);
        {
            let (y, _, _) = frame.planes_mut();
            y.fill(126); // mid grey: 1.164 * 110 = 128
        }
        let mut sink = SaveFrames::new(dir.clone()).unwrap();
        sink.video(ParticipantId(3), TrackKind::Screen, &frame);
        let path = dir.join("3-screen.ppm");
        let bytes = wait_for(&path);
        assert!(bytes.starts_with(b"P6\n4 2\n255\n"));
        assert_eq!(bytes.len(), 11 + 4 * 2 * 3);
        assert!(bytes[11..].iter().all(|&b| b == 128), "{:?}", &bytes[11..]);
        // Within the second: not rewritten.
        std::fs::remove_file(&path).unwrap();
        sink.video(ParticipantId(3), TrackKind::Screen, &frame);
        thread::sleep(Duration::from_millis(100));
        assert!(!path.exists());
        thread::sleep(Duration::from_millis(100));
        sink.video(ParticipantId(3), TrackKind::Camera, &frame);
        wait_for(&dir.join("3-camera.ppm"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
