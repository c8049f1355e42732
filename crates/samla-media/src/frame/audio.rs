/// Sample rate of every [`AudioFrame`]: Opus runs natively at 48 kHz, so
/// capturing at that rate avoids a resampler between capture and encoder.
pub const AUDIO_SAMPLE_RATE: u32 = 48_000;

/// Samples in one [`AudioFrame`]: 20 ms at 48 kHz, the Opus frame duration
/// that balances latency against per-packet overhead for voice.
pub const AUDIO_FRAME_SAMPLES: usize = 960;

/// 20 ms of 48 kHz mono audio as signed 16-bit samples.
///
/// The samples live inline (no heap) so a frame can be reused or copied into
/// a jitter buffer slot without touching the allocator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AudioFrame {
    /// The PCM samples, oldest first.
    pub samples: [i16; AUDIO_FRAME_SAMPLES],
    /// Capture time of the first sample in microseconds since the source's epoch.
    pub timestamp_us: u64,
}

impl AudioFrame {
    /// Duration of one frame in microseconds.
    pub const DURATION_US: u64 = AUDIO_FRAME_SAMPLES as u64 * 1_000_000 / AUDIO_SAMPLE_RATE as u64;

    /// A silent frame at time zero.
    pub const fn silent() -> Self {
        Self {
            samples: [0; AUDIO_FRAME_SAMPLES],
            timestamp_us: 0,
        }
    }
}

impl Default for AudioFrame {
    fn default() -> Self {
        Self::silent()
    }
}
