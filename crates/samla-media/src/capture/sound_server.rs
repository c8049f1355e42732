//! Which sound system the microphone and speakers go through. On Linux a desktop's sound
//! server (PipeWire through pipewire-pulse, or PulseAudio) when one runs: it knows the
//! devices by the names the desktop shows (a headset, HDMI), follows their plugging, and
//! shares a card between programs; plain ALSA otherwise (a server, a minimal system).
//! Windows and macOS have one system each.
//!
//! cpal's PulseAudio client is pure Rust, so the app needs no libpulse and still runs
//! where there is no sound server.

/// The sound system to use now (asked again each time: a sound server may start or stop
/// while the app runs).
pub(super) fn host() -> cpal::Host {
    #[cfg(target_os = "linux")]
    pulse_cookie::ensure();
    cpal::default_host()
}

/// The period a sound server's stream is asked for: 10 ms. Left to the server's defaults a
/// stream starts late or not at all: on PulseAudio 16.1 the speakers never began to play (the
/// latency bench waited in vain), on pipewire-pulse only 11 of 20 clicks came back within
/// 400 ms (p50 170 ms) and a tone on a headset just plugged in was not heard at all. With this
/// period: 20 of 20, p50 60 ms and 80 ms speaker to microphone (BENCHMARKS.md).
const PERIOD_FRAMES: cpal::FrameCount = 480;

/// The buffer size to ask `device` for: a short fixed period on a sound server, and the
/// device's own default on ALSA, WASAPI and CoreAudio, where a stream plays at once.
pub(super) fn buffer_size(device: &cpal::Device) -> cpal::BufferSize {
    use cpal::traits::DeviceTrait;
    match device.id() {
        Ok(id) if id.to_string().starts_with("pulseaudio:") => {
            cpal::BufferSize::Fixed(PERIOD_FRAMES)
        }
        _ => cpal::BufferSize::Default,
    }
}

/// The PulseAudio handshake carries a 256-byte cookie, which libpulse creates in
/// `~/.config/pulse/cookie` the first time any program uses it. PipeWire's server refuses a
/// handshake without one ("Invalid argument"), and cpal's client sends none when the file is
/// missing, so on a desktop where no libpulse program has run yet the app would quietly fall
/// back to ALSA. We create the file as libpulse does. Its value is not checked by PipeWire;
/// PulseAudio itself writes the file when it starts, so it is never replaced here.
#[cfg(target_os = "linux")]
mod pulse_cookie {
    use std::io::Read;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    use std::path::PathBuf;
    use std::sync::Once;

    const COOKIE_LENGTH: usize = 256;

    pub(super) fn ensure() {
        static ONCE: Once = Once::new();
        // Without it (a read-only home) cpal falls back to ALSA, which still plays.
        ONCE.call_once(|| {
            let _ = create_if_missing();
        });
    }

    /// Where cpal's client looks: `$PULSE_COOKIE`, `~/.config/pulse/cookie`, `~/.pulse-cookie`.
    fn create_if_missing() -> std::io::Result<()> {
        let Some(home) = std::env::var_os("HOME").map(PathBuf::from) else {
            return Ok(());
        };
        let candidates = std::env::var_os("PULSE_COOKIE")
            .map(PathBuf::from)
            .into_iter()
            .chain([
                home.join(".config/pulse/cookie"),
                home.join(".pulse-cookie"),
            ]);
        if candidates.into_iter().any(|p| p.exists()) {
            return Ok(());
        }
        let mut cookie = [0u8; COOKIE_LENGTH];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut cookie)?;
        let dir = home.join(".config/pulse");
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)?;
        // create_new: a program that made it meanwhile keeps its own.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(dir.join("cookie"))?;
        std::io::Write::write_all(&mut file, &cookie)
    }
}
