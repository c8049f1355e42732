//! `--audio-out wav:FILE`: what the participant would hear (the engine's mix of everyone
//! else) written as a 48 kHz 16-bit mono WAV file, so a test or a person can listen to it.
//!
//! The file is valid while it is being written: the header's sizes are brought up to date
//! every second, so a process that is killed leaves a playable file missing at most the
//! last second.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use samla_media::{
    AudioFrame, AudioSink, CaptureError, DeviceKind, AUDIO_FRAME_SAMPLES, AUDIO_SAMPLE_RATE,
};

/// Where the played audio goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioOut {
    Wav(PathBuf),
}

impl FromStr for AudioOut {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once(':') {
            Some(("wav", path)) if !path.is_empty() => Ok(Self::Wav(path.into())),
            _ => Err(format!("unknown audio output {s:?}; only wav:FILE exists")),
        }
    }
}

/// Bytes before the samples: the RIFF, fmt and data chunk headers.
const HEADER_BYTES: u32 = 44;
/// Frames between header updates (one second).
const FRAMES_PER_UPDATE: u32 = 50;

/// A WAV file the engine plays into.
pub struct WavSink {
    file: BufWriter<File>,
    path: PathBuf,
    data_bytes: u32,
    frames_since_update: u32,
}

impl WavSink {
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let mut file = BufWriter::new(File::create(path)?);
        file.write_all(&header(0))?;
        Ok(Self {
            file,
            path: path.to_owned(),
            data_bytes: 0,
            frames_since_update: 0,
        })
    }

    /// Writes the current sizes into the header and flushes.
    fn update_header(&mut self) -> std::io::Result<()> {
        self.file.flush()?;
        let file = self.file.get_mut();
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&header(self.data_bytes))?;
        file.seek(SeekFrom::End(0))?;
        Ok(())
    }

    fn write(&mut self, frame: &AudioFrame) -> std::io::Result<()> {
        let mut bytes = [0u8; AUDIO_FRAME_SAMPLES * 2];
        for (out, sample) in bytes.chunks_exact_mut(2).zip(frame.samples) {
            out.copy_from_slice(&sample.to_le_bytes());
        }
        self.file.write_all(&bytes)?;
        // A 4 GiB file (12 hours) stops growing rather than wrapping the 32-bit sizes.
        self.data_bytes = self.data_bytes.saturating_add(bytes.len() as u32);
        self.frames_since_update += 1;
        if self.frames_since_update >= FRAMES_PER_UPDATE {
            self.frames_since_update = 0;
            self.update_header()?;
        }
        Ok(())
    }
}

impl AudioSink for WavSink {
    fn play(&mut self, frame: &AudioFrame) -> Result<(), CaptureError> {
        if self.data_bytes > u32::MAX - HEADER_BYTES - 2 * AUDIO_FRAME_SAMPLES as u32 {
            return Ok(());
        }
        self.write(frame).map_err(|e| CaptureError::Backend {
            kind: DeviceKind::Speaker,
            reason: format!("writing {}: {e}", self.path.display()),
        })
    }
}

impl Drop for WavSink {
    fn drop(&mut self) {
        let _ = self.update_header();
    }
}

/// The 44-byte header of a 48 kHz 16-bit mono PCM file with `data_bytes` of samples.
fn header(data_bytes: u32) -> [u8; HEADER_BYTES as usize] {
    let rate = AUDIO_SAMPLE_RATE;
    let mut h = [0u8; HEADER_BYTES as usize];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&(HEADER_BYTES - 8 + data_bytes).to_le_bytes());
    h[8..12].copy_from_slice(b"WAVE");
    h[12..16].copy_from_slice(b"fmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes()); // PCM
    h[22..24].copy_from_slice(&1u16.to_le_bytes()); // mono
    h[24..28].copy_from_slice(&rate.to_le_bytes());
    h[28..32].copy_from_slice(&(rate * 2).to_le_bytes()); // bytes per second
    h[32..34].copy_from_slice(&2u16.to_le_bytes()); // bytes per sample frame
    h[34..36].copy_from_slice(&16u16.to_le_bytes()); // bits per sample
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data_bytes.to_le_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(bytes: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn parses_the_output() {
        assert_eq!(
            "wav:/tmp/x.wav".parse(),
            Ok(AudioOut::Wav("/tmp/x.wav".into()))
        );
        assert!("wav:".parse::<AudioOut>().is_err());
        assert!("speaker".parse::<AudioOut>().is_err());
    }

    #[test]
    fn a_written_file_is_a_wav_with_the_samples_played() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.wav");
        let mut sink = WavSink::create(&path).unwrap();
        let mut frame = AudioFrame::silent();
        for (i, s) in frame.samples.iter_mut().enumerate() {
            *s = i as i16 - 480;
        }
        for _ in 0..FRAMES_PER_UPDATE + 1 {
            sink.play(&frame).unwrap();
        }
        // Readable before the sink is closed: the header counts the first second.
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[0..4], b"RIFF");
        assert_eq!(&bytes[8..16], b"WAVEfmt ");
        assert_eq!(u32_at(&bytes, 24), 48_000);
        assert_eq!(u32_at(&bytes, 40), FRAMES_PER_UPDATE * 960 * 2);
        drop(sink);
        let bytes = std::fs::read(&path).unwrap();
        let data = (FRAMES_PER_UPDATE + 1) * 960 * 2;
        assert_eq!(u32_at(&bytes, 40), data);
        assert_eq!(u32_at(&bytes, 4), 36 + data);
        assert_eq!(bytes.len() as u32, 44 + data);
        let first = i16::from_le_bytes([bytes[44], bytes[45]]);
        let last = i16::from_le_bytes([bytes[bytes.len() - 2], bytes[bytes.len() - 1]]);
        assert_eq!((first, last), (-480, 479));
    }
}
