//! Media under a bad network: two `samla-cli` participants (host and guest) publishing the
//! synthetic picture and tone, each in a network namespace of its own behind a real link
//! (see `samla_e2e::netns`), the server in the root namespace. The kernel makes the faults
//! on those links: random loss (nftables), a bandwidth limit (`tc tbf`), an outage (the link
//! goes down). Delay and jitter, which this kernel cannot make (no `netem`), come from the
//! project's UDP relay in front of the server (see `samla_e2e::udp_relay`). What is asserted
//! is what a user would see: the other person's picture keeps moving and is theirs, and their
//! voice is heard — liveness over generous windows, never tight timing.
//!
//! The tests need root and `ip`, `tc` and `nft`; without them they print why and pass
//! (`scripts/setup-debian` installs the programs, and CI runs as root).
//!
//! The figures seen (fps, loss, latency, recovery times) are printed to stderr: run with
//! `--nocapture`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Result};
use samla_e2e::netns::{self, Lab, Netns};
use samla_e2e::participant::{num, CliParticipant as Cli};
use samla_e2e::udp_relay::{Faults, MediaServer, UdpRelay};
use samla_e2e::{binary, TestServer};
use samla_protocol::api::NewMeeting;
use serde_json::Value;

/// How long to wait for first pictures (the connection is set up through the faults).
const WARM_UP: Duration = Duration::from_secs(30);

/// The pitch of `sender`'s synthetic tone (samla-media's `Tone::sender_frequency`).
fn tone_of(sender: u64) -> f64 {
    300.0 + 100.0 * (sender % 32) as f64
}

/// A participant joining from inside `net`, sending 360p (three simulcast layers).
fn join_from(net: &Netns, link: &str, name: &str, token: Option<&str>, dir: &Path) -> Result<Cli> {
    let log_filter = std::env::var("SAMLA_E2E_CLI_LOG").unwrap_or_else(|_| "warn".into());
    let cmd = net.command(binary("samla-cli"));
    Cli::join(
        cmd,
        link,
        name,
        token,
        "synthetic:640x360@30",
        &log_filter,
        dir,
    )
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

/// The server, with or without the delaying relay in front of its media port.
enum Server {
    Direct(TestServer),
    Relayed(MediaServer),
}

impl Server {
    fn server(&self) -> &TestServer {
        match self {
            Server::Direct(server) => server,
            Server::Relayed(relayed) => &relayed.server,
        }
    }

    fn relay(&self) -> Option<&UdpRelay> {
        match self {
            Server::Direct(_) => None,
            Server::Relayed(relayed) => Some(&relayed.relay),
        }
    }
}

/// A host (Kari, signed in) and a guest (Ola) in one meeting, each in its own namespace.
/// Fields drop in order: the clients stop before their namespaces go.
struct Call {
    host: Cli,
    guest: Cli,
    server: Server,
    host_net: Netns,
    guest_net: Netns,
    lab: Lab,
    _dir: tempfile::TempDir,
}

impl Call {
    /// Starts the call with `loss_percent` on both clients' links (each way) and, with
    /// `delay`, the relay delaying every media datagram. `None` when namespaces are not
    /// available here (the reason is printed).
    async fn start(loss_percent: u8, delay: Option<Faults>) -> Result<Option<Self>> {
        if let Some(reason) = netns::unavailable() {
            eprintln!("skipped: {reason}");
            return Ok(None);
        }
        let lab = Lab::new()?;
        let host_net = lab.namespace("host")?;
        let guest_net = lab.namespace("guest")?;
        if loss_percent > 0 {
            host_net.set_loss(loss_percent)?;
            guest_net.set_loss(loss_percent)?;
        }
        let server_ip = lab.server_ip.into();
        let server = match delay {
            Some(faults) => {
                let relayed = MediaServer::start(server_ip, lab.relay_ip.into()).await?;
                relayed.relay.set_faults(faults);
                Server::Relayed(relayed)
            }
            None => Server::Direct(
                TestServer::start_on(
                    server_ip,
                    &["--media-listen".into(), format!("{server_ip}:0")],
                )
                .await?,
            ),
        };
        let token = server.server().token("kari@uio.no")?;
        let meeting = server
            .server()
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
        let host = join_from(&host_net, &link, "Kari", Some(&token), dir.path())?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let guest = join_from(&guest_net, &link, "Ola", None, dir.path())?;
        Ok(Some(Self {
            host,
            guest,
            server,
            host_net,
            guest_net,
            lab,
            _dir: dir,
        }))
    }

    /// What the links and the relay did so far, for the printed figures.
    fn network(&self) -> String {
        format!(
            "dropped by nftables: host {:?}, guest {:?}; relay {:?}",
            self.host_net.dropped().unwrap_or_default(),
            self.guest_net.dropped().unwrap_or_default(),
            self.server.relay().map(UdpRelay::counts)
        )
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
                    "no pictures both ways within {WARM_UP:?}; {}\nhost stats {:?}\nguest stats {:?}\n---- host ----\n{}\n---- guest ----\n{}",
                    self.network(),
                    self.host.stats(),
                    self.guest.stats(),
                    tail(&self.host.log()),
                    tail(&self.guest.log()),
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits until pictures play both ways (10 fps or more) and, with `full`, at full size.
    /// On a busy machine the first pictures of a call can come seconds late: a fault made on
    /// top of that start would measure the start.
    async fn wait_until_playing(&mut self, guest_id: u64, host_id: u64, full: bool) -> Result<()> {
        let playing =
            |v: &Value| num(v, "fps") >= 10.0 && (!full || num(v, "video_height") >= FULL_HEIGHT);
        let deadline = Instant::now() + WARM_UP;
        loop {
            self.host.still_running()?;
            self.guest.still_running()?;
            let (h, g) = self.views(guest_id, host_id);
            if playing(&h) && playing(&g) {
                return Ok(());
            }
            ensure!(
                Instant::now() < deadline,
                "pictures do not play both ways{} within {WARM_UP:?}\n{}\n{}",
                if full { " at full size" } else { "" },
                summary("Kari sees Ola", &h),
                summary("Ola sees Kari", &g)
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// (host's view of the guest, guest's view of the host).
    /// Same participants, no rejoin: each still sees exactly the one other id it saw before.
    fn same_participants(&self, guest_id: u64, host_id: u64) -> Result<()> {
        for (who, cli, id) in [
            ("Kari", &self.host, guest_id),
            ("Ola", &self.guest, host_id),
        ] {
            let ids: Vec<u64> = cli.stats().into_keys().collect();
            ensure!(
                ids == vec![id],
                "{who} sees participants {ids:?}, expected only {id} (no rejoin)"
            );
        }
        Ok(())
    }

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
        "{who}: {}p fps {} bitrate {} kbps, decoded {} verified {} corrupt {} decode_errors {}, dropped awaiting a keyframe {}, keyframes asked {} got {}, lost {}, latency p50 {} p95 {} ms, rtt {} ms, jitter {} ms, audio {} frames ({} concealed) at {} Hz, ICE restarts {}",
        v["video_height"], v["fps"], v["bitrate_kbps"], v["frames_decoded"], v["frames_verified"], v["frames_corrupt"],
        v["decode_errors"], v["frames_awaiting_keyframe"], v["keyframe_requests"], v["keyframes_received"],
        v["packets_lost"], v["latency_ms_p50"], v["latency_ms_p95"], v["rtt_ms"],
        v["jitter_ms"], v["audio_frames_decoded"], v["audio_frames_concealed"], v["audio_frequency_hz"],
        v["ice_restarts"],
    )
}

/// Checks that `sender`'s tone is heard in `v` (within ±50 Hz; pitches are 100 Hz apart).
fn hears(v: &Value, sender: u64) -> bool {
    v["audio_frequency_hz"]
        .as_f64()
        .is_some_and(|hz| (hz - tone_of(sender)).abs() <= 50.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
/// 5 % loss each way on each client's link (nftables) and a one-way delay wandering over
/// 100 ms ± 100 ms (in order, with 1 % of datagrams overtaking others; the relay). What kept
/// this from working: str0m's default cap on
/// retransmissions (15 % of sent bytes) dropping every queued resend on such a path, so gaps
/// became keyframe requests; the SFU forwarding frames after a gap on the way in (with its own
/// unbroken sequence numbers, so receivers decoded them on a missing reference); the engine
/// refusing a complete keyframe that came right after a gap; and the relay itself, which used
/// to reorder nearly every datagram (see `samla_e2e::udp_relay`).
async fn video_keeps_flowing_at_5_percent_loss_and_100_ms_jitter() -> Result<()> {
    let delay = Faults {
        delay: Duration::from_millis(100),
        jitter: Duration::from_millis(100),
        reorder_percent: 1.0,
    };
    let Some(mut call) = Call::start(5, Some(delay)).await? else {
        return Ok(());
    };
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
            "slice {slice}: {}\n         {}\n         {}",
            summary("Kari sees Ola", &h1),
            summary("Ola sees Kari", &g1),
            call.network()
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
    // The faults were real: each link lost datagrams both ways, and both clients' media went
    // through the delaying relay.
    for (who, net) in [("Kari", &call.host_net), ("Ola", &call.guest_net)] {
        let dropped = net.dropped()?;
        ensure!(
            dropped.up > 0 && dropped.down > 0,
            "{who}'s link lost datagrams both ways: {dropped:?}"
        );
    }
    let counts = call
        .server
        .relay()
        .map(UdpRelay::counts)
        .unwrap_or_default();
    ensure!(
        counts.clients == 2 && counts.up_forwarded > 200 && counts.down_forwarded > 200,
        "all media went through the delaying relay: {counts:?}"
    );
    eprintln!("fps per second (Kari sees Ola, Ola sees Kari): {fps_seen:?}");
    Ok(())
}

/// The full height of the synthetic picture the clients send (its top simulcast layer).
const FULL_HEIGHT: f64 = 360.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_squeezed_sender_drops_to_a_lower_layer_and_comes_back_to_full_quality() -> Result<()> {
    let Some(mut call) = Call::start(0, None).await? else {
        return Ok(());
    };
    let (guest_id, host_id) = call.wait_for_pictures().await?;
    let full = |v: &Value| num(v, "video_height") >= FULL_HEIGHT;
    // Full quality first.
    call.wait_until_playing(guest_id, host_id, true).await?;

    // Every sender's uplink squeezed to 300 kbit/s (`tc tbf` on its link) for 20 s, in 5 s
    // slices: each slice must add verified pictures both ways (no freeze), and by the end
    // they come at a lower layer.
    call.host_net.limit_uplink(300)?;
    call.guest_net.limit_uplink(300)?;
    eprintln!("squeeze starts");
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
            "squeeze slice {slice}: {}\n         {}",
            summary("Kari sees Ola", &h1),
            summary("Ola sees Kari", &g1),
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

    // Squeeze over: full-size pictures again. The issue asks for 5 s: 1.5-4.3 s here in 16
    // of 16 cases (BENCHMARKS.md). The window is twice that, for CPU contention in CI, and
    // the figure is printed. Stats files are rewritten every second, so the figure is good
    // to about a second.
    call.host_net.unlimit_uplink()?;
    call.guest_net.unlimit_uplink()?;
    let lifted = Instant::now();
    let (h_at_lift, g_at_lift) = call.views(guest_id, host_id);
    let mut back = [None, None];
    while lifted.elapsed() < Duration::from_secs(10) && back.iter().any(Option::is_none) {
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
        "full-size pictures did not come back within 10 s of the squeeze ending: {back:?}"
    );
    Ok(())
}

/// The guest's downlink is thin (350 kbit/s, `tc tbf` on the root side of its link), its
/// uplink fine. The SFU's estimate of what reaches the guest must give the guest the host's
/// lower layer instead of a picture that freezes behind a full queue (the host's 360p layer
/// alone needs more than the link carries), and the guest gets full size back once the link
/// widens (how soon depends on the SFU's probes of the guest's downlink: 3-5.5 s here, so
/// a 20 s window is generous). The host keeps seeing the guest throughout. (Not necessarily
/// at full size: the guest's own uplink estimate suffers too, as its congestion feedback
/// comes in over the thin downlink.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_on_a_thin_downlink_gets_a_lower_layer_instead_of_freezing() -> Result<()> {
    let Some(mut call) = Call::start(0, None).await? else {
        return Ok(());
    };
    let (guest_id, host_id) = call.wait_for_pictures().await?;
    let full = |v: &Value| num(v, "video_height") >= FULL_HEIGHT;
    call.wait_until_playing(guest_id, host_id, true).await?;

    call.guest_net.limit_downlink(350)?;
    eprintln!("guest's downlink limited");
    // 30 s in 5 s slices. The SFU's estimate of the guest's downlink needs a while to fall
    // (5-15 s here, loss- and delay-based), and meanwhile the guest's picture may stall;
    // from then on neither picture freezes and the guest's is smaller.
    let (mut h0, mut g0) = call.views(guest_id, host_id);
    let mut heights = Vec::new();
    for slice in 1..=6 {
        tokio::time::sleep(Duration::from_secs(5)).await;
        call.host.still_running()?;
        call.guest.still_running()?;
        let (h1, g1) = call.views(guest_id, host_id);
        heights.push((num(&h1, "video_height"), num(&g1, "video_height")));
        eprintln!(
            "thin downlink slice {slice}: {}\n         {}",
            summary("Kari sees Ola", &h1),
            summary("Ola sees Kari", &g1),
        );
        for (who, before, after) in [("Kari sees Ola", &h0, &h1), ("Ola sees Kari", &g0, &g1)] {
            let grown = num(after, "frames_verified") - num(before, "frames_verified");
            ensure!(
                slice <= 4 || grown >= 10.0,
                "{who}: only {grown} new verified pictures in slice {slice} (frozen)\n{}",
                summary(who, after)
            );
            ensure!(
                num(after, "frames_corrupt") == num(before, "frames_corrupt"),
                "{who}: pictures showed someone else or garbage"
            );
        }
        (h0, g0) = (h1, g1);
    }
    eprintln!("picture heights on the thin downlink (Kari sees Ola, Ola sees Kari): {heights:?}");
    let (_, g) = call.views(guest_id, host_id);
    ensure!(
        !full(&g),
        "the guest still gets the host's full-size layer through 350 kbit/s: {}",
        summary("Ola sees Kari", &g)
    );

    call.guest_net.unlimit_downlink()?;
    let lifted = Instant::now();
    let at_lift = g;
    let mut back = None;
    while lifted.elapsed() < Duration::from_secs(20) && back.is_none() {
        tokio::time::sleep(Duration::from_millis(250)).await;
        call.guest.still_running()?;
        let (_, g) = call.views(guest_id, host_id);
        if full(&g) && num(&g, "frames_verified") > num(&at_lift, "frames_verified") {
            back = Some(lifted.elapsed());
        }
    }
    let (_, g) = call.views(guest_id, host_id);
    eprintln!(
        "guest's full-size picture back after {back:?}\n{}",
        summary("Ola sees Kari", &g)
    );
    ensure!(
        back.is_some(),
        "full-size pictures did not come back within 20 s of the downlink widening"
    );
    Ok(())
}

/// The guest's network drops for 10 s (its link goes down). Its media must come back by an
/// ICE restart on the same connection: the guest notices that nothing arrives from the SFU,
/// offers new ICE credentials over signalling (which TCP carries through the outage) and the
/// SFU answers; no rejoin, no new session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_comes_back_after_a_10_s_outage_by_an_ice_restart() -> Result<()> {
    let Some(mut call) = Call::start(0, None).await? else {
        return Ok(());
    };
    let (guest_id, host_id) = call.wait_for_pictures().await?;
    call.wait_until_playing(guest_id, host_id, false).await?;
    let restarts_before = ice_restarts(&call.guest);

    call.guest_net.link_down()?;
    eprintln!("outage starts");
    // The outage is real: after the pictures in flight, nothing arrives from the guest.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (cut, _) = call.views(guest_id, host_id);
    tokio::time::sleep(Duration::from_secs(8)).await;
    let (h0, g0) = call.views(guest_id, host_id);
    ensure!(
        num(&h0, "frames_decoded") == num(&cut, "frames_decoded"),
        "pictures arrived from a client whose link is down: media has another path"
    );
    call.guest_net.link_up()?;
    let restored = Instant::now();
    eprintln!(
        "outage ends\n{}\n{}",
        summary("Kari sees Ola", &h0),
        summary("Ola sees Kari", &g0)
    );

    // Liveness window: within 30 s pictures must come back, from the same participant, and
    // the guest's ICE restart must have been answered. The restart offer was sent during the
    // outage and TCP delivers it at its next retransmission after the link is back (its
    // backoff reaches seconds), so pictures may come back on the old path a moment before.
    let mut back = [None, None];
    let mut restarted = None;
    while restored.elapsed() < Duration::from_secs(30)
        && (back.iter().any(Option::is_none) || restarted.is_none())
    {
        tokio::time::sleep(Duration::from_millis(250)).await;
        call.host.still_running()?;
        call.guest.still_running()?;
        let (h, g) = call.views(guest_id, host_id);
        for (i, (before, now)) in [(&h0, &h), (&g0, &g)].into_iter().enumerate() {
            if back[i].is_none() && num(now, "frames_verified") > num(before, "frames_verified") {
                back[i] = Some(restored.elapsed());
            }
        }
        if restarted.is_none() && ice_restarts(&call.guest) > restarts_before {
            restarted = Some(restored.elapsed());
        }
    }
    let (h, g) = call.views(guest_id, host_id);
    eprintln!(
        "after restore (pictures back after {back:?}, ICE restart answered after {restarted:?}):\n{}\n{}",
        summary("Kari sees Ola", &h),
        summary("Ola sees Kari", &g),
    );
    ensure!(
        back.iter().all(Option::is_some),
        "pictures did not come back within 30 s after a 10 s outage (Kari sees Ola: {:?}, Ola sees Kari: {:?})\n---- host ----\n{}\n---- guest ----\n{}",
        back[0],
        back[1],
        tail(&call.host.log()),
        tail(&call.guest.log())
    );
    call.same_participants(guest_id, host_id)?;
    ensure!(
        hears(&h, guest_id) && hears(&g, host_id),
        "voices came back with the pictures"
    );
    ensure!(
        restarted.is_some(),
        "the guest's media came back without an ICE restart ({restarts_before} before, {} after)",
        ice_restarts(&call.guest)
    );
    // The restart starts the checks over on new credentials: media must flow on the path it
    // found, both ways (10 more verified pictures each within a generous window).
    let (h1, g1) = call.views(guest_id, host_id);
    let settled = Instant::now();
    let mut flowing = [false, false];
    while settled.elapsed() < Duration::from_secs(15) && flowing.contains(&false) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        call.host.still_running()?;
        call.guest.still_running()?;
        let (h, g) = call.views(guest_id, host_id);
        for (i, (before, now)) in [(&h1, &h), (&g1, &g)].into_iter().enumerate() {
            flowing[i] |= num(now, "frames_verified") >= num(before, "frames_verified") + 10.0;
        }
    }
    let (h, g) = call.views(guest_id, host_id);
    eprintln!(
        "after the ICE restart:\n{}\n{}",
        summary("Kari sees Ola", &h),
        summary("Ola sees Kari", &g),
    );
    ensure!(
        flowing == [true, true],
        "pictures stopped after the ICE restart (Kari sees Ola, Ola sees Kari: {flowing:?})"
    );
    Ok(())
}

/// The ICE restarts `cli`'s connection went through (the figure is the connection's, repeated
/// under every remote participant).
/// The guest moves to another network: its address changes, as when a laptop goes from Wi-Fi
/// to a cable. Every connection made from the old address is dead, though TCP would not say so
/// for a long time. The client notices the new address within a second, resumes its seat
/// over a new signalling connection and starts its media afresh from the new address:
/// pictures and sound come back both ways within seconds, as the same participant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_comes_back_after_the_client_moves_to_another_network() -> Result<()> {
    let Some(mut call) = Call::start(0, None).await? else {
        return Ok(());
    };
    let (guest_id, host_id) = call.wait_for_pictures().await?;
    call.wait_until_playing(guest_id, host_id, false).await?;

    let old = call.guest_net.addr;
    let new = call.lab.spare_address();
    call.guest_net.change_address(new)?;
    let moved = Instant::now();
    eprintln!("the guest moved from {old} to {new}");
    // A second of pictures (30) counts as back: a few in flight at the move do not.
    let (h0, g0) = call.views(guest_id, host_id);
    let mut back = [None, None];
    while moved.elapsed() < Duration::from_secs(20) && back.iter().any(Option::is_none) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        call.host.still_running()?;
        call.guest.still_running()?;
        let (h, g) = call.views(guest_id, host_id);
        for (i, (before, now)) in [(&h0, &h), (&g0, &g)].into_iter().enumerate() {
            let grown = num(now, "frames_verified") - num(before, "frames_verified");
            if back[i].is_none() && grown >= 30.0 {
                back[i] = Some(moved.elapsed());
            }
        }
    }
    let (h, g) = call.views(guest_id, host_id);
    eprintln!(
        "after the move (pictures back after {back:?}):\n{}\n{}",
        summary("Kari sees Ola", &h),
        summary("Ola sees Kari", &g),
    );
    ensure!(
        back.iter().all(Option::is_some),
        "pictures did not come back within 20 s of the guest moving to another network (Kari sees Ola: {:?}, Ola sees Kari: {:?})\n---- guest ----\n{}",
        back[0],
        back[1],
        tail(&call.guest.log())
    );
    call.same_participants(guest_id, host_id)?;
    let (h, g) = call.views(guest_id, host_id);
    ensure!(
        hears(&h, guest_id) && hears(&g, host_id),
        "voices came back with the pictures"
    );
    Ok(())
}

fn ice_restarts(cli: &Cli) -> f64 {
    cli.stats()
        .values()
        .map(|v| num(v, "ice_restarts"))
        .fold(0.0, f64::max)
}
