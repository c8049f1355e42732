//! Opus voice over libopus: 48 kHz mono, 20 ms frames, in-band FEC and DTX.

use opus::{Application, Bitrate, Channels, Decoder, Encoder};

use crate::codec::CodecError;
use crate::frame::{AudioFrame, AUDIO_FRAME_SAMPLES, AUDIO_SAMPLE_RATE};

/// Largest packet one 20 ms Opus frame can need (RFC 6716 §3.2.1).
const MAX_PACKET_BYTES: usize = 1275;
/// Packets this short carry no audio: with DTX on, Opus emits them for
/// silence, and the sender may skip them entirely.
const DTX_PACKET_BYTES: usize = 2;

/// Settings for an [`OpusEncoder`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpusEncoderConfig {
    /// Target bitrate in bit/s (6000..=510000).
    pub bitrate_bps: u32,
    /// Expected packet loss in percent (0..=100). Opus spends bitrate on FEC
    /// in proportion, so the sender should feed back what receivers report.
    pub packet_loss_percent: u8,
}

impl Default for OpusEncoderConfig {
    /// 32 kbit/s (clear wideband voice with room for FEC) and a 10% loss hint
    /// so FEC is active from the start of a call.
    fn default() -> Self {
        Self {
            bitrate_bps: 32_000,
            packet_loss_percent: 10,
        }
    }
}

/// Opus encoder for 20 ms, 48 kHz mono voice frames with in-band FEC and DTX.
pub struct OpusEncoder {
    inner: Encoder,
}

impl std::fmt::Debug for OpusEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusEncoder").finish_non_exhaustive()
    }
}

impl OpusEncoder {
    /// Creates a VoIP-tuned encoder with FEC and DTX on.
    pub fn new(config: OpusEncoderConfig) -> Result<Self, CodecError> {
        let mut inner = Encoder::new(AUDIO_SAMPLE_RATE, Channels::Mono, Application::Voip)?;
        // FEC lets the receiver rebuild a lost packet from the next one;
        // DTX stops spending bitrate on silence.
        inner.set_inband_fec(true)?;
        inner.set_dtx(true)?;
        let mut encoder = Self { inner };
        encoder.set_bitrate(config.bitrate_bps)?;
        encoder.set_packet_loss_percent(config.packet_loss_percent)?;
        Ok(encoder)
    }

    /// Encodes one frame into `out` (cleared first). Returns `false` when the
    /// packet is a DTX silence marker that need not be sent; `out` still holds
    /// it for callers that send everything.
    pub fn encode(&mut self, frame: &AudioFrame, out: &mut Vec<u8>) -> Result<bool, CodecError> {
        out.clear();
        out.resize(MAX_PACKET_BYTES, 0);
        let len = self.inner.encode(&frame.samples, out)?;
        out.truncate(len);
        Ok(len > DTX_PACKET_BYTES)
    }

    /// Changes the target bitrate (bit/s) from the next frame on.
    pub fn set_bitrate(&mut self, bps: u32) -> Result<(), CodecError> {
        if !(6_000..=510_000).contains(&bps) {
            return Err(CodecError::InvalidConfig(format!(
                "Opus bitrate must be 6000..=510000 bit/s, got {bps}"
            )));
        }
        self.inner.set_bitrate(Bitrate::Bits(bps as i32))?;
        Ok(())
    }

    /// Tells the encoder how much loss to protect against with FEC.
    pub fn set_packet_loss_percent(&mut self, percent: u8) -> Result<(), CodecError> {
        if percent > 100 {
            return Err(CodecError::InvalidConfig(format!(
                "packet loss must be 0..=100 percent, got {percent}"
            )));
        }
        self.inner.set_packet_loss_perc(i32::from(percent))?;
        Ok(())
    }
}

/// Opus decoder producing 20 ms frames, with loss concealment.
pub struct OpusDecoder {
    inner: Decoder,
}

impl std::fmt::Debug for OpusDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusDecoder").finish_non_exhaustive()
    }
}

impl OpusDecoder {
    /// Creates a 48 kHz mono decoder.
    pub fn new() -> Result<Self, CodecError> {
        Ok(Self {
            inner: Decoder::new(AUDIO_SAMPLE_RATE, Channels::Mono)?,
        })
    }

    /// Decodes one received packet into `out.samples` (timestamp untouched:
    /// the jitter buffer knows it). Malformed packets are an error; packets
    /// that are not exactly 20 ms are rejected.
    pub fn decode(&mut self, packet: &[u8], out: &mut AudioFrame) -> Result<(), CodecError> {
        if packet.is_empty() {
            // libopus would silently treat this as loss; make loss explicit
            // via `conceal` so a transport bug cannot hide behind PLC.
            return Err(CodecError::EmptyPacket);
        }
        // Check the duration first: libopus would write a longer packet's
        // samples only up to the buffer and report a short-buffer error.
        let samples = self.inner.get_nb_samples(packet)?;
        if samples != AUDIO_FRAME_SAMPLES {
            return Err(CodecError::UnexpectedFrameDuration(samples));
        }
        self.decode_into(packet, false, out)
    }

    /// Produces audio for a packet that never arrived. If the packet after it
    /// (`next`) has arrived, its in-band FEC data rebuilds the lost audio;
    /// otherwise libopus extrapolates (packet-loss concealment). Call this
    /// for the lost slot *before* decoding `next` normally.
    pub fn conceal(&mut self, next: Option<&[u8]>, out: &mut AudioFrame) -> Result<(), CodecError> {
        match next {
            Some(packet) if !packet.is_empty() => self.decode_into(packet, true, out),
            _ => self.decode_into(&[], false, out),
        }
    }

    fn decode_into(
        &mut self,
        packet: &[u8],
        fec: bool,
        out: &mut AudioFrame,
    ) -> Result<(), CodecError> {
        let samples = self.inner.decode(packet, &mut out.samples, fec)?;
        if samples != AUDIO_FRAME_SAMPLES {
            return Err(CodecError::UnexpectedFrameDuration(samples));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;
    use crate::capture::{AudioSource, Pacing};
    use crate::synthetic::{dominant_frequency, Tone};

    /// Encodes and decodes one second of `tone`, returning the decoded samples.
    fn round_trip(tone: &mut Tone) -> Vec<i16> {
        let mut encoder = OpusEncoder::new(OpusEncoderConfig::default()).unwrap();
        let mut decoder = OpusDecoder::new().unwrap();
        let (mut frame, mut decoded) = (AudioFrame::silent(), AudioFrame::silent());
        let mut packet = Vec::new();
        let mut samples = Vec::new();
        for _ in 0..50 {
            tone.next_frame(&mut frame).unwrap();
            assert!(encoder.encode(&frame, &mut packet).unwrap());
            decoder.decode(&packet, &mut decoded).unwrap();
            samples.extend_from_slice(&decoded.samples);
        }
        samples
    }

    #[test]
    fn tone_440_survives_opus() {
        let mut tone = Tone::new(440.0, 0.5, UNIX_EPOCH, Pacing::Unpaced);
        let heard = dominant_frequency(&round_trip(&mut tone), AUDIO_SAMPLE_RATE);
        assert!((heard - 440.0).abs() <= 10.0, "heard {heard} Hz");
    }

    #[test]
    fn sender_tones_are_told_apart_after_opus() {
        for sender in [0, 1, 5, 31] {
            let mut tone = Tone::for_sender(sender, UNIX_EPOCH, Pacing::Unpaced);
            let heard = dominant_frequency(&round_trip(&mut tone), AUDIO_SAMPLE_RATE);
            let expected = Tone::sender_frequency(sender);
            assert!(
                (heard - expected).abs() <= 10.0,
                "sender {sender}: heard {heard} Hz, sent {expected}"
            );
        }
    }

    fn rms(samples: &[i16]) -> f64 {
        (samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / samples.len() as f64).sqrt()
    }

    #[test]
    fn lost_packet_is_rebuilt_from_fec_or_concealed() {
        let mut tone = Tone::new(440.0, 0.5, UNIX_EPOCH, Pacing::Unpaced);
        let mut encoder = OpusEncoder::new(OpusEncoderConfig::default()).unwrap();
        let (mut fec_decoder, mut plc_decoder) =
            (OpusDecoder::new().unwrap(), OpusDecoder::new().unwrap());
        let mut frame = AudioFrame::silent();
        let mut out = AudioFrame::silent();
        let packets: Vec<Vec<u8>> = (0..20)
            .map(|_| {
                tone.next_frame(&mut frame).unwrap();
                let mut packet = Vec::new();
                encoder.encode(&frame, &mut packet).unwrap();
                packet
            })
            .collect();
        let lost = 10;
        for (i, packet) in packets.iter().enumerate() {
            if i == lost {
                fec_decoder
                    .conceal(Some(&packets[i + 1]), &mut out)
                    .unwrap();
                let fec_rms = rms(&out.samples);
                plc_decoder.conceal(None, &mut out).unwrap();
                let plc_rms = rms(&out.samples);
                // The tone's RMS is ~11585; both paths must keep sound going.
                assert!(fec_rms > 5_000.0, "FEC output too quiet: {fec_rms}");
                assert!(plc_rms > 1_000.0, "PLC output too quiet: {plc_rms}");
                continue;
            }
            fec_decoder.decode(packet, &mut out).unwrap();
            plc_decoder.decode(packet, &mut out).unwrap();
        }
    }

    #[test]
    fn silence_is_sent_as_dtx() {
        let mut encoder = OpusEncoder::new(OpusEncoderConfig::default()).unwrap();
        let mut packet = Vec::new();
        let silence = AudioFrame::silent();
        let sent = (0..50)
            .filter(|_| encoder.encode(&silence, &mut packet).unwrap())
            .count();
        assert!(sent < 25, "{sent} of 50 silent frames needed sending");
    }

    #[test]
    fn settings_are_validated_and_applied() {
        let mut encoder = OpusEncoder::new(OpusEncoderConfig::default()).unwrap();
        encoder.set_bitrate(12_000).unwrap();
        encoder.set_packet_loss_percent(30).unwrap();
        assert!(encoder.set_bitrate(1_000).is_err());
        assert!(encoder.set_packet_loss_percent(101).is_err());
        assert!(OpusEncoder::new(OpusEncoderConfig {
            bitrate_bps: 0,
            packet_loss_percent: 0
        })
        .is_err());
    }

    #[test]
    fn decoder_survives_garbage() {
        let mut decoder = OpusDecoder::new().unwrap();
        let mut out = AudioFrame::silent();
        assert!(matches!(
            decoder.decode(&[], &mut out),
            Err(CodecError::EmptyPacket)
        ));
        let mut state = 0x1234_5678_9ABC_DEF0u64;
        let mut buf = [0u8; 1500];
        for _ in 0..2000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = 1 + (state as usize) % buf.len();
            for b in &mut buf[..len] {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *b = state as u8;
            }
            let _ = decoder.decode(&buf[..len], &mut out);
            let _ = decoder.conceal(Some(&buf[..len]), &mut out);
        }
        // A 60 ms packet (code 0, config 3 = SILK NB 60 ms) is refused, not overflowed.
        assert!(matches!(
            decoder.decode(&[0x18, 0, 0, 0], &mut out),
            Err(CodecError::UnexpectedFrameDuration(2880))
        ));
    }
}
