use super::encoder::{EncodedVideo, H264Encoder, H264EncoderConfig};
use crate::codec::CodecError;
use crate::frame::VideoFrame;

/// One simulcast layer: a downscale factor and its own bitrate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimulcastLayerConfig {
    /// Integer downscale from the captured size (1 = full, 2 = half, 4 = quarter).
    pub scale_down: u32,
    /// Initial bitrate of this layer in kbit/s.
    pub bitrate_kbps: u32,
}

struct Layer {
    scale_down: u32,
    enabled: bool,
    encoder: H264Encoder,
    /// Downscaled copy of the captured frame, reused every frame.
    scaled: VideoFrame,
    output: EncodedVideo,
    /// Whether `output` holds an access unit from the latest `encode` call.
    produced: bool,
}

/// Encodes one captured frame at several resolutions so an SFU can forward
/// each receiver the layer that fits its bandwidth and window, without
/// transcoding.
///
/// Layers are ordered as configured (conventionally lowest first). Disabled
/// layers (nobody watches them) are neither scaled nor encoded.
pub struct Simulcast {
    width: u32,
    height: u32,
    layers: Vec<Layer>,
}

impl std::fmt::Debug for Simulcast {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let layers: Vec<_> = self
            .layers
            .iter()
            .map(|l| (l.encoder.size(), l.encoder.bitrate_kbps(), l.enabled))
            .collect();
        f.debug_struct("Simulcast")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("layers", &layers)
            .finish()
    }
}

impl Simulcast {
    /// The usual three layers for a source: quarter, half and full size,
    /// with bitrates suited to 720p (150, 500 and 1500 kbit/s) scaled by the
    /// source's pixel count relative to 720p.
    pub fn standard(width: u32, height: u32, fps: f32) -> Result<Self, CodecError> {
        let scale = (f64::from(width) * f64::from(height) / (1280.0 * 720.0)).max(0.1);
        let kbps = |base: f64| (base * scale).round() as u32;
        Self::new(
            width,
            height,
            fps,
            &[
                SimulcastLayerConfig {
                    scale_down: 4,
                    bitrate_kbps: kbps(150.0),
                },
                SimulcastLayerConfig {
                    scale_down: 2,
                    bitrate_kbps: kbps(500.0),
                },
                SimulcastLayerConfig {
                    scale_down: 1,
                    bitrate_kbps: kbps(1500.0),
                },
            ],
        )
    }

    /// Layers as given; every layer's size (`width / scale_down` etc.) must be
    /// even and exact, since a cropped layer would no longer line up with the
    /// others. All layers start enabled.
    pub fn new(
        width: u32,
        height: u32,
        fps: f32,
        layers: &[SimulcastLayerConfig],
    ) -> Result<Self, CodecError> {
        if layers.is_empty() {
            return Err(CodecError::InvalidConfig(
                "simulcast needs at least one layer".into(),
            ));
        }
        let layers = layers
            .iter()
            .map(|cfg| {
                let f = cfg.scale_down;
                if f == 0 || !width.is_multiple_of(f) || !height.is_multiple_of(f) {
                    return Err(CodecError::InvalidConfig(format!(
                        "{width}x{height} cannot be scaled down exactly by {f}"
                    )));
                }
                let (w, h) = (width / f, height / f);
                Ok(Layer {
                    scale_down: f,
                    enabled: true,
                    encoder: H264Encoder::new(H264EncoderConfig::new(w, h, cfg.bitrate_kbps, fps))?,
                    scaled: VideoFrame::new(w, h),
                    output: EncodedVideo::default(),
                    produced: false,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            width,
            height,
            layers,
        })
    }

    /// Number of layers.
    pub fn layer_count(&self) -> usize {
        self.layers.len()
    }

    /// Picture size of layer `index`.
    pub fn layer_size(&self, index: usize) -> Option<(u32, u32)> {
        self.layers.get(index).map(|l| l.encoder.size())
    }

    /// Turns a layer on or off. Turning one on forces a keyframe on it,
    /// because its new viewers have nothing to decode from.
    pub fn set_layer_enabled(&mut self, index: usize, enabled: bool) -> Result<(), CodecError> {
        let layer = self.layer_mut(index)?;
        if enabled && !layer.enabled {
            layer.encoder.request_keyframe();
        }
        layer.enabled = enabled;
        if !enabled {
            layer.produced = false;
        }
        Ok(())
    }

    /// Whether layer `index` is encoded.
    pub fn is_layer_enabled(&self, index: usize) -> bool {
        self.layers.get(index).is_some_and(|l| l.enabled)
    }

    /// Changes one layer's bitrate (see [`H264Encoder::set_bitrate`]).
    pub fn set_layer_bitrate(&mut self, index: usize, kbps: u32) -> Result<(), CodecError> {
        self.layer_mut(index)?.encoder.set_bitrate(kbps)
    }

    /// Forces a keyframe on layer `index` at its next encode.
    pub fn request_keyframe(&mut self, index: usize) -> Result<(), CodecError> {
        self.layer_mut(index)?.encoder.request_keyframe();
        Ok(())
    }

    fn layer_mut(&mut self, index: usize) -> Result<&mut Layer, CodecError> {
        let count = self.layers.len();
        self.layers.get_mut(index).ok_or_else(|| {
            CodecError::InvalidConfig(format!("no simulcast layer {index} (have {count})"))
        })
    }

    /// Scales and encodes `frame` for every enabled layer, then yields
    /// `(layer index, access unit)` for each layer that produced output
    /// (disabled layers and rate-control skips yield nothing).
    pub fn encode(
        &mut self,
        frame: &VideoFrame,
    ) -> Result<impl Iterator<Item = (usize, &EncodedVideo)>, CodecError> {
        if frame.width() != self.width || frame.height() != self.height {
            return Err(CodecError::FrameSizeMismatch {
                expected_width: self.width,
                expected_height: self.height,
                actual_width: frame.width(),
                actual_height: frame.height(),
            });
        }
        for layer in &mut self.layers {
            layer.produced = false;
            if !layer.enabled {
                continue;
            }
            let source = if layer.scale_down == 1 {
                frame
            } else {
                frame.scale_down_into(layer.scale_down, &mut layer.scaled);
                &layer.scaled
            };
            layer.produced = layer.encoder.encode(source, &mut layer.output)?;
        }
        Ok(self
            .layers
            .iter()
            .enumerate()
            .filter(|(_, l)| l.produced)
            .map(|(i, l)| (i, &l.output)))
    }
}
