//! What a user hears, with the real binaries: two `samla-cli` participants publish their
//! synthetic tones through a real `samla-server`, and each writes what its engine plays
//! (the mix of everyone else, `--audio-out wav:FILE`) to a WAV file. Each file must carry
//! the other participant's pitch, and not the listener's own.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use samla_e2e::{binary, TestServer};
use samla_media::{dominant_frequency, Tone, AUDIO_SAMPLE_RATE};
use samla_protocol::api::NewMeeting;
use serde_json::Value;

/// A `samla-cli join` child process, killed when dropped.
struct Cli(Child);

impl Drop for Cli {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn join(link: &str, name: &str, token: Option<&str>, dir: &Path) -> Result<Cli> {
    let mut cmd = Command::new(binary("samla-cli"));
    cmd.args(["join", link, "--name", name, "--audio", "synthetic"])
        .arg("--audio-out")
        .arg(format!("wav:{}", dir.join(format!("{name}.wav")).display()))
        .arg("--stats-json")
        .arg(dir.join(format!("{name}.json")))
        .args(["--for", "60s"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join(format!("{name}.log")))?);
    if let Some(token) = token {
        cmd.args(["--token", token]);
    }
    Ok(Cli(cmd.spawn().context("starting samla-cli")?))
}

/// The participant numbers `name` has received audio from, by its stats file.
fn heard_from(dir: &Path, name: &str) -> Vec<u32> {
    let Ok(text) = std::fs::read_to_string(dir.join(format!("{name}.json"))) else {
        return Vec::new();
    };
    let stats: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    stats
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, s)| s["audio_frames_decoded"].as_u64().unwrap_or(0) > 0)
                .filter_map(|(id, _)| id.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The samples of the last half second of `name`'s WAV file (it is being written: what
/// is on disk is read, the header's sizes are not trusted).
fn last_played(dir: &Path, name: &str) -> Vec<i16> {
    let bytes = std::fs::read(dir.join(format!("{name}.wav"))).unwrap_or_default();
    let Some(data) = bytes.get(44..) else {
        return Vec::new();
    };
    let samples: Vec<i16> = data
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let half_second = AUDIO_SAMPLE_RATE as usize / 2;
    samples[samples.len().saturating_sub(half_second)..].to_vec()
}

/// Waits until `name` plays the tone of the one other participant it hears; returns that
/// participant's number.
async fn wait_to_hear(dir: &Path, name: &str) -> Result<u32> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let from = heard_from(dir, name);
        let played = last_played(dir, name);
        let frequency = dominant_frequency(&played, AUDIO_SAMPLE_RATE);
        if let [other] = from[..] {
            if (frequency - Tone::sender_frequency(other)).abs() < 15.0 {
                return Ok(other);
            }
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default();
            bail!("{name} heard {from:?}, plays {frequency} Hz at the end of its file\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_participant_plays_the_others_tone() -> Result<()> {
    let server = TestServer::start().await?;
    let token = server.token("kari@uio.no")?;
    let meeting = server
        .create_meeting(
            &token,
            &NewMeeting {
                topic: "Lyd".into(),
                passcode: None,
                waiting_room: false,
                signed_in_only: false,
                start_time: None,
                duration_minutes: None,
                ..Default::default()
            },
        )
        .await?;
    let link = server
        .http_base()
        .join(&format!("/j/{}", meeting.id))?
        .to_string();
    let dir = tempfile::tempdir()?;
    let _kari = join(&link, "Kari", Some(&token), dir.path())?;
    let _ola = join(&link, "Ola", None, dir.path())?;

    let ola = wait_to_hear(dir.path(), "Kari").await?;
    let kari = wait_to_hear(dir.path(), "Ola").await?;
    ensure!(kari != ola, "two participants: {kari} and {ola}");
    eprintln!(
        "Kari ({kari}) plays {} Hz, Ola ({ola}) plays {} Hz",
        Tone::sender_frequency(ola),
        Tone::sender_frequency(kari)
    );
    Ok(())
}
