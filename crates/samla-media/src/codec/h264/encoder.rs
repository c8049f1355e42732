use std::os::raw::c_void;

use openh264::encoder::{
    BitRate, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, RateControlMode,
};
use openh264::formats::YUVSlices;
use openh264::{OpenH264API, Timestamp};
use openh264_sys2::{
    SBitrateInfo, ENCODER_OPTION, ENCODER_OPTION_BITRATE, ENCODER_OPTION_MAX_BITRATE,
    SPATIAL_LAYER_0, SPATIAL_LAYER_ALL,
};

use crate::codec::CodecError;
use crate::frame::VideoFrame;

/// Settings for one [`H264Encoder`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct H264EncoderConfig {
    /// Picture width; must be even and non-zero.
    pub width: u32,
    /// Picture height; must be even and non-zero.
    pub height: u32,
    /// Initial target bitrate in kbit/s (change later with [`H264Encoder::set_bitrate`]).
    pub bitrate_kbps: u32,
    /// Frame rate the rate controller budgets for.
    pub fps: f32,
    /// Force a keyframe every this many frames; `None` sends keyframes only
    /// at the start and on [`H264Encoder::request_keyframe`], which is what an
    /// SFU with keyframe requests wants (periodic keyframes waste bitrate).
    pub keyframe_interval: Option<u32>,
    /// Let the rate controller drop frames to hold the bitrate. On by default:
    /// under congestion a dropped frame is better than a burst that queues.
    pub allow_frame_skip: bool,
}

impl H264EncoderConfig {
    /// Defaults for a camera stream: keyframes on request, frame skipping on.
    pub fn new(width: u32, height: u32, bitrate_kbps: u32, fps: f32) -> Self {
        Self {
            width,
            height,
            bitrate_kbps,
            fps,
            keyframe_interval: None,
            allow_frame_skip: true,
        }
    }
}

/// One encoded access unit: Annex-B NAL units (with SPS/PPS before each IDR).
///
/// Owned by the caller and reused across [`H264Encoder::encode`] calls so the
/// steady state does not allocate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EncodedVideo {
    /// Annex-B bytes of the access unit; empty when the encoder skipped the frame.
    pub data: Vec<u8>,
    /// Whether this is an IDR picture a decoder can start from.
    pub is_keyframe: bool,
    /// Capture time of the source frame, copied through for the packetiser.
    pub timestamp_us: u64,
}

/// A fixed-size H.264 encoder whose bitrate can change while it runs.
pub struct H264Encoder {
    inner: Encoder,
    width: u32,
    height: u32,
    bitrate_kbps: u32,
}

impl std::fmt::Debug for H264Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H264Encoder")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("bitrate_kbps", &self.bitrate_kbps)
            .finish_non_exhaustive()
    }
}

/// Lowest bitrate accepted; OpenH264 rejects a bitrate below its frame rate
/// in bits and nothing useful fits below this anyway.
const MIN_BITRATE_KBPS: u32 = 10;
/// Highest bitrate accepted (H.264 level 5.2's limit is far above any call).
const MAX_BITRATE_KBPS: u32 = 100_000;

impl H264Encoder {
    /// Creates an encoder; the first frame it encodes is a keyframe.
    pub fn new(config: H264EncoderConfig) -> Result<Self, CodecError> {
        let H264EncoderConfig {
            width,
            height,
            bitrate_kbps,
            fps,
            keyframe_interval,
            allow_frame_skip,
        } = config;
        if width == 0 || height == 0 || width % 2 != 0 || height % 2 != 0 {
            return Err(CodecError::InvalidConfig(format!(
                "H.264 picture size must be even and non-zero, got {width}x{height}"
            )));
        }
        if width > 3840 || height > 2160 {
            return Err(CodecError::InvalidConfig(format!(
                "H.264 picture size {width}x{height} exceeds 3840x2160"
            )));
        }
        check_bitrate(bitrate_kbps)?;
        if !(fps.is_finite() && fps > 0.0 && fps <= 240.0) {
            return Err(CodecError::InvalidConfig(format!(
                "frame rate must be in (0, 240], got {fps}"
            )));
        }
        let period = match keyframe_interval {
            Some(0) => {
                return Err(CodecError::InvalidConfig(
                    "keyframe interval must be at least 1 frame".into(),
                ))
            }
            Some(frames) => IntraFramePeriod::from_num_frames(frames),
            None => IntraFramePeriod::from_num_frames(0),
        };
        let encoder_config = EncoderConfig::new()
            .bitrate(BitRate::from_bps(bitrate_kbps * 1000))
            .max_frame_rate(FrameRate::from_hz(fps))
            // Bitrate mode follows the target; the default quality mode
            // overshoots it, which congestion control cannot tolerate.
            .rate_control_mode(RateControlMode::Bitrate)
            .skip_frames(allow_frame_skip)
            .intra_frame_period(period);
        let inner = Encoder::with_api_config(OpenH264API::from_source(), encoder_config)
            .map_err(CodecError::H264Encode)?;
        Ok(Self {
            inner,
            width,
            height,
            bitrate_kbps,
        })
    }

    /// Encodes `frame` into `out`. Returns `false` (with `out.data` empty) when
    /// the rate controller skipped the frame, `true` when `out` holds an
    /// access unit.
    pub fn encode(
        &mut self,
        frame: &VideoFrame,
        out: &mut EncodedVideo,
    ) -> Result<bool, CodecError> {
        if frame.width() != self.width || frame.height() != self.height {
            return Err(CodecError::FrameSizeMismatch {
                expected_width: self.width,
                expected_height: self.height,
                actual_width: frame.width(),
                actual_height: frame.height(),
            });
        }
        let (w, h) = (frame.width() as usize, frame.height() as usize);
        let chroma = frame.chroma_width();
        let source = YUVSlices::new(
            (frame.y(), frame.u(), frame.v()),
            (w, h),
            (w, chroma, chroma),
        );
        let bitstream = self
            .inner
            .encode_at(&source, Timestamp::from_millis(frame.timestamp_us / 1000))
            .map_err(CodecError::H264Encode)?;
        out.data.clear();
        out.timestamp_us = frame.timestamp_us;
        out.is_keyframe = bitstream.frame_type() == FrameType::IDR;
        if matches!(bitstream.frame_type(), FrameType::Skip | FrameType::Invalid) {
            return Ok(false);
        }
        bitstream.write_vec(&mut out.data);
        Ok(!out.data.is_empty())
    }

    /// Changes the target bitrate from the next frame on, without a keyframe.
    /// Congestion control calls this as its estimate moves.
    pub fn set_bitrate(&mut self, kbps: u32) -> Result<(), CodecError> {
        check_bitrate(kbps)?;
        if kbps == self.bitrate_kbps {
            return Ok(());
        }
        // OpenH264 requires max >= target at every step, so raise the ceiling
        // before the target when going up and lower it after when going down.
        let bps = (kbps * 1000) as i32;
        if kbps > self.bitrate_kbps {
            self.set_bitrate_option(ENCODER_OPTION_MAX_BITRATE, SPATIAL_LAYER_0, bps)?;
            self.set_bitrate_option(ENCODER_OPTION_BITRATE, SPATIAL_LAYER_ALL, bps)?;
        } else {
            self.set_bitrate_option(ENCODER_OPTION_BITRATE, SPATIAL_LAYER_ALL, bps)?;
            self.set_bitrate_option(ENCODER_OPTION_MAX_BITRATE, SPATIAL_LAYER_0, bps)?;
        }
        self.bitrate_kbps = kbps;
        Ok(())
    }

    fn set_bitrate_option(
        &mut self,
        option: ENCODER_OPTION,
        layer: i32,
        bps: i32,
    ) -> Result<(), CodecError> {
        let mut info = SBitrateInfo {
            iLayer: layer,
            iBitrate: bps,
        };
        // SAFETY: the encoder is initialised (the constructor returned Ok),
        // and both bitrate options read exactly one `SBitrateInfo`, which
        // outlives the call. Only rate-control targets change, which OpenH264
        // supports mid-stream.
        let status = unsafe {
            self.inner
                .raw_api()
                .set_option(option, (&raw mut info).cast::<c_void>())
        };
        if status == 0 {
            Ok(())
        } else {
            Err(CodecError::H264Encode(openh264::Error::msg_string(
                format!("setting bitrate to {bps} bit/s failed (status {status})"),
            )))
        }
    }

    /// The current target bitrate in kbit/s.
    pub fn bitrate_kbps(&self) -> u32 {
        self.bitrate_kbps
    }

    /// Makes the next encoded frame an IDR keyframe (e.g. on a receiver's
    /// picture-loss indication or when a new viewer subscribes).
    pub fn request_keyframe(&mut self) {
        self.inner.force_intra_frame();
    }

    /// The configured picture size.
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }
}

fn check_bitrate(kbps: u32) -> Result<(), CodecError> {
    if (MIN_BITRATE_KBPS..=MAX_BITRATE_KBPS).contains(&kbps) {
        Ok(())
    } else {
        Err(CodecError::InvalidConfig(format!(
            "bitrate must be {MIN_BITRATE_KBPS}..={MAX_BITRATE_KBPS} kbit/s, got {kbps}"
        )))
    }
}
