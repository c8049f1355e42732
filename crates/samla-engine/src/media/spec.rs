//! What to send: parsing `--video synthetic:640x360@30` and `--audio synthetic`.

use std::str::FromStr;

use samla_media::{AudioSource, VideoSource};

/// A video source to publish.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VideoSpec {
    /// samla-media's moving test pattern with a machine-readable marker.
    Synthetic { width: u32, height: u32, fps: f32 },
}

impl VideoSpec {
    pub fn size(&self) -> (u32, u32) {
        match *self {
            VideoSpec::Synthetic { width, height, .. } => (width, height),
        }
    }

    pub fn fps(&self) -> f32 {
        match *self {
            VideoSpec::Synthetic { fps, .. } => fps,
        }
    }
}

impl FromStr for VideoSpec {
    type Err = String;

    /// `synthetic` (640x360@30), `synthetic:WxH` or `synthetic:WxH@FPS`.
    fn from_str(s: &str) -> Result<Self, String> {
        let rest = s
            .strip_prefix("synthetic")
            .ok_or_else(|| format!("unknown video source {s:?}; only synthetic:WxH@FPS exists"))?;
        let rest = rest.strip_prefix(':').unwrap_or(rest);
        if rest.is_empty() {
            return Ok(VideoSpec::Synthetic {
                width: 640,
                height: 360,
                fps: 30.0,
            });
        }
        let (size, fps) = rest.split_once('@').unwrap_or((rest, "30"));
        let (w, h) = size
            .split_once('x')
            .ok_or_else(|| format!("expected WxH in {s:?}"))?;
        let parse = |v: &str| v.parse::<u32>().map_err(|e| format!("{v:?}: {e}"));
        let (width, height) = (parse(w)?, parse(h)?);
        let fps: f32 = fps.parse().map_err(|e| format!("{fps:?}: {e}"))?;
        if width % 2 != 0 || height % 2 != 0 || width < 160 || height < 90 {
            return Err(format!(
                "{width}x{height}: size must be even and at least 160x90"
            ));
        }
        if !(fps > 0.0 && fps <= 60.0) {
            return Err(format!("frame rate {fps} must be in (0, 60]"));
        }
        Ok(VideoSpec::Synthetic { width, height, fps })
    }
}

/// What a video track is made from: a synthetic spec (tests, `SAMLA_FAKE_MEDIA`), or a
/// samla-media source (a screen, a window, a camera) that the encoder thread owns and pulls
/// frames from at the source's own pace.
pub enum VideoInput {
    Synthetic(VideoSpec),
    Source(Box<dyn VideoSource + Send>),
}

impl std::fmt::Debug for VideoInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Synthetic(spec) => f.debug_tuple("Synthetic").field(spec).finish(),
            Self::Source(source) => f.debug_tuple("Source").field(&source.format()).finish(),
        }
    }
}

/// Opens the frames of the camera track: a camera, or an app's wrapper around one.
///
/// The camera's encoder thread starts anew with every connection (at join, and again after a
/// reconnect), so the track takes something that opens a source each time rather than one
/// source it would use up. The source must deliver frames of the size of the track's
/// [`VideoSpec`] (frames of another size are skipped).
pub trait OpenVideo: Send + Sync {
    /// A source for a new encoder thread sending as participant `sender` (which a synthetic
    /// picture stamps into its marker).
    fn open(&self, sender: u32) -> Result<Box<dyn VideoSource + Send>, samla_media::CaptureError>;
}

/// An audio source to publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioSpec {
    /// A sine tone whose pitch says who sends it (samla-media's `Tone::for_sender`).
    Synthetic,
}

/// What an audio track is made from: a synthetic spec (tests, `SAMLA_FAKE_MEDIA`), or a
/// samla-media source (a microphone, usually wrapped in the echo canceller's
/// `ProcessedSource`) that the encoder thread owns and pulls 20 ms frames from. The source
/// lives as long as the media session, across reconnects, so a device is opened only once.
pub enum AudioInput {
    Synthetic,
    Source(Box<dyn AudioSource>),
}

impl From<AudioSpec> for AudioInput {
    fn from(spec: AudioSpec) -> Self {
        match spec {
            AudioSpec::Synthetic => Self::Synthetic,
        }
    }
}

impl std::fmt::Debug for AudioInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Synthetic => f.write_str("Synthetic"),
            Self::Source(_) => f.write_str("Source"),
        }
    }
}

impl FromStr for AudioSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "synthetic" => Ok(AudioSpec::Synthetic),
            _ => Err(format!(
                "unknown audio source {s:?}; only `synthetic` exists"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_video_specs() {
        assert_eq!(
            "synthetic:1280x720@15".parse(),
            Ok(VideoSpec::Synthetic {
                width: 1280,
                height: 720,
                fps: 15.0
            })
        );
        assert_eq!("synthetic".parse::<VideoSpec>().unwrap().size(), (640, 360));
        assert_eq!(
            "synthetic:320x180".parse::<VideoSpec>().unwrap().fps(),
            30.0
        );
        assert!("camera:0".parse::<VideoSpec>().is_err());
        assert!("synthetic:641x360".parse::<VideoSpec>().is_err());
        assert!("synthetic:640x360@0".parse::<VideoSpec>().is_err());
        assert!("synthetic".parse::<AudioSpec>().is_ok());
        assert!("mic".parse::<AudioSpec>().is_err());
    }
}
