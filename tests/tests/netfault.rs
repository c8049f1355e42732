//! Media under a bad network: two `samla-cli` participants (host and guest) publishing the
//! synthetic picture and tone, with every media datagram passing through a UDP relay that
//! loses, delays, reorders or black-holes them (see `samla_e2e::udp_relay`). What is asserted
//! is what a user would see: the other person's picture keeps moving and is theirs, and their
//! voice is heard — liveness over generous windows, never tight timing.
//!
//! The figures seen (fps, loss, latency) are printed to stderr: run with `--nocapture`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use samla_e2e::binary;
use samla_e2e::udp_relay::{Faults, MediaServer};
use samla_protocol::api::NewMeeting;
use serde_json::Value;

/// How long to wait for first pictures (the connection is set up through the faults).
const WARM_UP: Duration = Duration::from_secs(30);

/// The pitch of `sender`'s synthetic tone (samla-media's `Tone::sender_frequency`).
fn tone_of(sender: u64) -> f64 {
    300.0 + 100.0 * (sender % 32) as f64
}

/// A `samla-cli join` child process, killed when dropped.
struct Cli {
    name: String,
    child: Child,
    stats: PathBuf,
    log: PathBuf,
}

impl Cli {
    fn join(link: &str, name: &str, token: Option<&str>, dir: &Path) -> Result<Self> {
        let stats = dir.join(format!("{name}.stats.json"));
        let log = dir.join(format!("{name}.log"));
        let mut cmd = Command::new(binary("samla-cli"));
        cmd.args(["join", link, "--name", name])
            .args(["--video", "synthetic:640x360@30", "--audio", "synthetic"])
            .arg("--stats-json")
            .arg(&stats)
            .args(["--for", "120s"])
            .env(
                "RUST_LOG",
                std::env::var("SAMLA_E2E_CLI_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?);
        if let Some(token) = token {
            cmd.args(["--token", token]);
        }
        Ok(Self {
            name: name.to_owned(),
            child: cmd.spawn().context("starting samla-cli")?,
            stats,
            log,
        })
    }

    /// The latest stats: remote participant id → its figures.
    fn stats(&self) -> BTreeMap<u64, Value> {
        let Ok(text) = std::fs::read_to_string(&self.stats) else {
            return BTreeMap::new();
        };
        let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&text) else {
            return BTreeMap::new();
        };
        map.into_iter()
            .filter_map(|(k, v)| Some((k.parse().ok()?, v)))
            .collect()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn still_running(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited with {status}:\n{}", self.name, self.log());
        }
        Ok(())
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::env::var_os("SAMLA_E2E_SHOW_LOG").is_some() {
            eprintln!("---- {} ----\n{}", self.name, self.log());
        }
    }
}

fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(0.0)
}

/// `cli`'s view of the one other participant: (their id, their figures).
fn other(cli: &Cli) -> Option<(u64, Value)> {
    let stats = cli.stats();
    let mut others = stats
        .into_iter()
        .filter(|(_, v)| num(v, "frames_decoded") > 0.0);
    let first = others.next()?;
    Some(first)
}

/// A host (Kari, signed in) and a guest (Ola) in one meeting, media through the relay.
struct Call {
    server: MediaServer,
    host: Cli,
    guest: Cli,
    _dir: tempfile::TempDir,
}

impl Call {
    async fn start(faults: Faults) -> Result<Self> {
        let server = MediaServer::start().await?;
        server.relay.set_faults(faults);
        let token = server.server.token("kari@uio.no")?;
        let meeting = server
            .server
            .create_meeting(
                &token,
                &NewMeeting {
                    topic: "Nettfeil".into(),
                    ..NewMeeting::default()
                },
            )
            .await?;
        let link = meeting.join_url.clone();
        let dir = tempfile::tempdir()?;
        let host = Cli::join(&link, "Kari", Some(&token), dir.path())?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let guest = Cli::join(&link, "Ola", None, dir.path())?;
        Ok(Self {
            server,
            host,
            guest,
            _dir: dir,
        })
    }

    /// Waits until each side has verified pictures of the other; returns (guest id as the
    /// host sees it, host id as the guest sees it).
    async fn wait_for_pictures(&mut self) -> Result<(u64, u64)> {
        let deadline = Instant::now() + WARM_UP;
        loop {
            self.host.still_running()?;
            self.guest.still_running()?;
            let h = other(&self.host).filter(|(_, v)| num(v, "frames_verified") > 0.0);
            let g = other(&self.guest).filter(|(_, v)| num(v, "frames_verified") > 0.0);
            if let (Some((guest_id, _)), Some((host_id, _))) = (h, g) {
                return Ok((guest_id, host_id));
            }
            if Instant::now() > deadline {
                bail!(
                    "no pictures both ways within {WARM_UP:?}; relay {:?}\nhost stats {:?}\nguest stats {:?}\n---- host ----\n{}\n---- guest ----\n{}",
                    self.server.relay.counts(),
                    self.host.stats(),
                    self.guest.stats(),
                    tail(&self.host.log()),
                    tail(&self.guest.log()),
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// (host's view of the guest, guest's view of the host).
    fn views(&self, guest_id: u64, host_id: u64) -> (Value, Value) {
        (
            self.host.stats().remove(&guest_id).unwrap_or(Value::Null),
            self.guest.stats().remove(&host_id).unwrap_or(Value::Null),
        )
    }
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

fn summary(who: &str, v: &Value) -> String {
    format!(
        "{who}: {}p fps {} bitrate {} kbps, decoded {} verified {} corrupt {} decode_errors {}, dropped awaiting a keyframe {}, keyframes asked {} got {}, lost {}, latency p50 {} p95 {} ms, rtt {} ms, jitter {} ms, audio {} frames ({} concealed) at {} Hz",
        v["video_height"], v["fps"], v["bitrate_kbps"], v["frames_decoded"], v["frames_verified"], v["frames_corrupt"],
        v["decode_errors"], v["frames_awaiting_keyframe"], v["keyframe_requests"], v["keyframes_received"],
        v["packets_lost"], v["latency_ms_p50"], v["latency_ms_p95"], v["rtt_ms"],
        v["jitter_ms"], v["audio_frames_decoded"], v["audio_frames_concealed"], v["audio_frequency_hz"],
    )
}

/// Checks that `sender`'s tone is heard in `v` (within ±50 Hz; pitches are 100 Hz apart).
fn hears(v: &Value, sender: u64) -> bool {
    v["audio_frequency_hz"]
        .as_f64()
        .is_some_and(|hz| (hz - tone_of(sender)).abs() <= 50.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
/// 5 % loss each way and a one-way delay wandering over 100 ms ± 100 ms (in order, with 1 %
/// of datagrams overtaking others). What kept this from working: str0m's default cap on
/// retransmissions (15 % of sent bytes) dropping every queued resend on such a path, so gaps
/// became keyframe requests; the SFU forwarding frames after a gap on the way in (with its own
/// unbroken sequence numbers, so receivers decoded them on a missing reference); the engine
/// refusing a complete keyframe that came right after a gap; and the relay itself, which used
/// to reorder nearly every datagram (see `samla_e2e::udp_relay`).
async fn video_keeps_flowing_at_5_percent_loss_and_100_ms_jitter() -> Result<()> {
    let mut call = Call::start(Faults {
        loss_percent: 5.0,
        delay: Duration::from_millis(100),
        jitter: Duration::from_millis(100),
        reorder_percent: 1.0,
        ..Faults::default()
    })
    .await?;
    let (guest_id, host_id) = call.wait_for_pictures().await?;
    tokio::time::sleep(Duration::from_secs(3)).await;

    // 15 s window, in 5 s slices: each slice must add verified pictures both ways.
    let (mut h0, mut g0) = call.views(guest_id, host_id);
    let (start_h, start_g) = (h0.clone(), g0.clone());
    let mut fps_seen = Vec::new();
    for slice in 1..=3 {
        let mut fps_h = Vec::new();
        let mut fps_g = Vec::new();
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            call.host.still_running()?;
            call.guest.still_running()?;
            let (h, g) = call.views(guest_id, host_id);
            fps_h.push(num(&h, "fps"));
            fps_g.push(num(&g, "fps"));
        }
        let (h1, g1) = call.views(guest_id, host_id);
        eprintln!(
            "slice {slice}: {}\n         {}\n         relay {:?}",
            summary("Kari sees Ola", &h1),
            summary("Ola sees Kari", &g1),
            call.server.relay.counts()
        );
        fps_seen.push((fps_h.clone(), fps_g.clone()));
        for (who, before, after) in [("Kari sees Ola", &h0, &h1), ("Ola sees Kari", &g0, &g1)] {
            let grown = num(after, "frames_verified") - num(before, "frames_verified");
            ensure!(
                grown >= 10.0,
                "{who}: only {grown} new verified pictures in slice {slice} (frozen)\n{}",
                summary(who, after)
            );
        }
        (h0, g0) = (h1, g1);
    }
    let (end_h, end_g) = (h0, g0);
    for (who, start, end, sender) in [
        ("Kari sees Ola", &start_h, &end_h, guest_id),
        ("Ola sees Kari", &start_g, &end_g, host_id),
    ] {
        let frames = num(end, "frames_verified") - num(start, "frames_verified");
        ensure!(
            frames / 15.0 >= 5.0,
            "{who}: {frames} verified pictures in 15 s — below 5 fps\n{}",
            summary(who, end)
        );
        let corrupt = num(end, "frames_corrupt") - num(start, "frames_corrupt");
        ensure!(
            corrupt == 0.0,
            "{who}: {corrupt} pictures showed someone else or garbage"
        );
        ensure!(
            num(end, "audio_frames_decoded") > num(start, "audio_frames_decoded"),
            "{who}: audio stopped"
        );
        ensure!(
            hears(end, sender),
            "{who}: heard {} Hz, expected {} Hz",
            end["audio_frequency_hz"],
            tone_of(sender)
        );
    }
    let counts = call.server.relay.counts();
    ensure!(
        counts.clients == 2 && counts.up_dropped > 0 && counts.down_dropped > 0,
        "all media went through the lossy relay: {counts:?}"
    );
    eprintln!("fps per second (Kari sees Ola, Ola sees Kari): {fps_seen:?}");
    Ok(())
}

/// The full height of the synthetic picture the clients send (its top simulcast layer).
const FULL_HEIGHT: f64 = 360.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_squeezed_sender_drops_to_a_lower_layer_and_comes_back_to_full_quality() -> Result<()> {
    let mut call = Call::start(Faults::default()).await?;
    let (guest_id, host_id) = call.wait_for_pictures().await?;
    let full = |v: &Value| num(v, "video_height") >= FULL_HEIGHT;
    // Full quality first.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (h, g) = call.views(guest_id, host_id);
        if full(&h) && full(&g) {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "no full-size pictures before the squeeze\n{}\n{}",
            summary("Kari sees Ola", &h),
            summary("Ola sees Kari", &g)
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // Every sender's uplink squeezed to 300 kbit/s for 20 s, in 5 s slices: each slice must
    // add verified pictures both ways (no freeze), and by the end they come at a lower layer.
    call.server.relay.set_up_kbps(300);
    eprintln!("squeeze starts; relay {:?}", call.server.relay.counts());
    let (mut h0, mut g0) = call.views(guest_id, host_id);
    let mut heights = Vec::new();
    let mut lower_seen = [false, false];
    for slice in 1..=4 {
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            call.host.still_running()?;
            call.guest.still_running()?;
            let (h, g) = call.views(guest_id, host_id);
            heights.push((num(&h, "video_height"), num(&g, "video_height")));
            // A lower layer that plays: smaller pictures, still verified.
            for (i, v) in [&h, &g].into_iter().enumerate() {
                if !full(v) && num(v, "fps") > 0.0 {
                    lower_seen[i] = true;
                }
            }
        }
        let (h1, g1) = call.views(guest_id, host_id);
        eprintln!(
            "squeeze slice {slice}: {}\n         {}\n         relay {:?}",
            summary("Kari sees Ola", &h1),
            summary("Ola sees Kari", &g1),
            call.server.relay.counts()
        );
        for (who, before, after) in [("Kari sees Ola", &h0, &h1), ("Ola sees Kari", &g0, &g1)] {
            let grown = num(after, "frames_verified") - num(before, "frames_verified");
            ensure!(
                grown >= 10.0,
                "{who}: only {grown} new verified pictures in squeeze slice {slice} (frozen)\n{}",
                summary(who, after)
            );
            ensure!(
                num(after, "frames_corrupt") == num(before, "frames_corrupt"),
                "{who}: pictures showed someone else or garbage"
            );
        }
        (h0, g0) = (h1, g1);
    }
    eprintln!("picture heights during the squeeze (Kari sees Ola, Ola sees Kari): {heights:?}");
    ensure!(
        lower_seen == [true, true],
        "a squeezed sender is seen at a lower layer (Kari sees Ola, Ola sees Kari): {lower_seen:?}"
    );

    // Squeeze over: full-size pictures again. The issue asks for 5 s; the window here is
    // generous (CPU contention in CI) and the figure is printed. Stats files are rewritten
    // every second, so the figure is good to about a second.
    call.server.relay.set_up_kbps(0);
    let lifted = Instant::now();
    let (h_at_lift, g_at_lift) = call.views(guest_id, host_id);
    let mut back = [None, None];
    while lifted.elapsed() < Duration::from_secs(30) && back.iter().any(Option::is_none) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        call.host.still_running()?;
        call.guest.still_running()?;
        let (h, g) = call.views(guest_id, host_id);
        for (i, (before, now)) in [(&h_at_lift, &h), (&g_at_lift, &g)].into_iter().enumerate() {
            if back[i].is_none()
                && full(now)
                && num(now, "frames_verified") > num(before, "frames_verified")
            {
                back[i] = Some(lifted.elapsed());
            }
        }
    }
    let (h, g) = call.views(guest_id, host_id);
    eprintln!(
        "full quality back after {back:?} (Kari sees Ola, Ola sees Kari)\n{}\n{}",
        summary("Kari sees Ola", &h),
        summary("Ola sees Kari", &g)
    );
    ensure!(
        back.iter().all(Option::is_some),
        "full-size pictures did not come back within 30 s of the squeeze ending: {back:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_goes_through_the_relay() -> Result<()> {
    let mut call = Call::start(Faults::default()).await?;
    let (guest_id, host_id) = call.wait_for_pictures().await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (h, g) = call.views(guest_id, host_id);
    eprintln!(
        "{}\n{}\nrelay {:?}",
        summary("Kari sees Ola", &h),
        summary("Ola sees Kari", &g),
        call.server.relay.counts()
    );
    let counts = call.server.relay.counts();
    ensure!(
        counts.clients == 2,
        "both clients used the relay: {counts:?}"
    );
    ensure!(
        counts.up_forwarded > 200 && counts.down_forwarded > 200,
        "media flowed through the relay: {counts:?}"
    );
    // Black-hole the relay: if media had another path it would keep flowing.
    call.server.relay.set_blackhole(true);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (h0, g0) = call.views(guest_id, host_id);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (h1, g1) = call.views(guest_id, host_id);
    ensure!(
        num(&h1, "frames_decoded") == num(&h0, "frames_decoded")
            && num(&g1, "frames_decoded") == num(&g0, "frames_decoded"),
        "no pictures arrive while the relay drops everything: media has no other path"
    );
    ensure!(
        hears(&h, guest_id) && hears(&g, host_id),
        "each hears the other's tone"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_comes_back_after_a_10_s_outage() -> Result<()> {
    let mut call = Call::start(Faults::default()).await?;
    let (guest_id, host_id) = call.wait_for_pictures().await?;
    tokio::time::sleep(Duration::from_secs(3)).await;

    call.server.relay.set_blackhole(true);
    eprintln!("outage starts; relay {:?}", call.server.relay.counts());
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (h0, g0) = call.views(guest_id, host_id);
    call.server.relay.set_blackhole(false);
    let restored = Instant::now();
    eprintln!(
        "outage ends\n{}\n{}",
        summary("Kari sees Ola", &h0),
        summary("Ola sees Kari", &g0)
    );

    // Liveness window: pictures must come back within 20 s, from the same participant.
    let mut back = [None, None];
    while restored.elapsed() < Duration::from_secs(20) && back.iter().any(Option::is_none) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        call.host.still_running()?;
        call.guest.still_running()?;
        let (h, g) = call.views(guest_id, host_id);
        for (i, (before, now)) in [(&h0, &h), (&g0, &g)].into_iter().enumerate() {
            if back[i].is_none() && num(now, "frames_verified") > num(before, "frames_verified") {
                back[i] = Some(restored.elapsed());
            }
        }
    }
    let (h, g) = call.views(guest_id, host_id);
    eprintln!(
        "after restore (pictures back after {back:?}):\n{}\n{}\nrelay {:?}",
        summary("Kari sees Ola", &h),
        summary("Ola sees Kari", &g),
        call.server.relay.counts()
    );
    ensure!(
        back.iter().all(Option::is_some),
        "pictures did not come back within 20 s after a 10 s outage (Kari sees Ola: {:?}, Ola sees Kari: {:?})\n---- host ----\n{}\n---- guest ----\n{}",
        back[0],
        back[1],
        tail(&call.host.log()),
        tail(&call.guest.log())
    );
    // Same participants, no rejoin: each still sees exactly the one other id it saw before.
    for (who, cli, id) in [
        ("Kari", &call.host, guest_id),
        ("Ola", &call.guest, host_id),
    ] {
        let ids: Vec<u64> = cli.stats().into_keys().collect();
        ensure!(
            ids == vec![id],
            "{who} sees participants {ids:?}, expected only {id}"
        );
    }
    ensure!(
        hears(&h, guest_id) && hears(&g, host_id),
        "voices came back with the pictures"
    );
    Ok(())
}
