//! TURN for the Rust clients: a real coturn (`turnserver`), a real samla-server naming it in
//! `[[ice_servers]]`, and real `samla-cli` participants publishing the synthetic picture and
//! tone.
//!
//! In the first test both participants sit in network namespaces of their own (see
//! `samla_e2e::netns`) and the SFU's media socket is on the root namespace's 127.0.0.1,
//! which is what it announces. From inside a namespace 127.0.0.1 is the namespace's own
//! loopback, so the SFU's candidate is unreachable directly: the only way media can flow is
//! through coturn, which listens on a lab address the namespaces reach and relays from the
//! root namespace's 127.0.0.1. What is asserted is what a user would see: each side's
//! picture is decoded and is the other's, and each hears the other's tone.
//!
//! In the second the clients' networks also drop all UDP: the call goes over TCP to coturn
//! (`?transport=tcp`), which relays it to the SFU over UDP. The third does the same over TLS
//! (`turns:`), coturn's certificate signed by a CA of the test's own that the clients trust
//! through `SSL_CERT_FILE`.
//!
//! The last test gives the clients a wrong TURN password: they say so clearly in their
//! log and the call works over the direct path.
//!
//! The tests need `turnserver` (coturn; `scripts/setup-debian` installs it), the first also
//! root for the namespaces; without them they print why and pass.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use samla_e2e::netns::{self, Lab};
use samla_e2e::participant::{num, CliParticipant as Cli};
use samla_e2e::{binary, TestServer};
use samla_protocol::api::NewMeeting;
use serde_json::Value;

/// How long to wait for pictures both ways: the allocation, permission and ICE checks
/// through the relay come first.
const WARM_UP: Duration = Duration::from_secs(40);
const TURNSERVER: &str = "/usr/bin/turnserver";

/// The pitch of `sender`'s synthetic tone (samla-media's `Tone::sender_frequency`).
fn tone_of(sender: u64) -> f64 {
    300.0 + 100.0 * (sender % 32) as f64
}

/// A coturn child process with a static user `samla`, killed when dropped.
struct Coturn {
    child: Child,
    /// How it was started, to start it again (see [`Coturn::restart`]).
    command: Command,
    /// Where clients reach it.
    addr: SocketAddr,
    /// Where clients reach it over TLS, when it listens for that.
    tls_addr: Option<SocketAddr>,
    log: PathBuf,
}

impl Coturn {
    /// Starts coturn listening on `listen` (over UDP, and with `tcp` over TCP too, on the
    /// same port) and relaying from 127.0.0.1 (where the SFU is).
    fn start(listen: IpAddr, dir: &Path, tcp: bool) -> Result<Self> {
        Self::start_with(listen, dir, tcp, None)
    }

    /// As [`Coturn::start`], and with `tls` (certificate and key files) also over TLS, on a
    /// port of its own.
    fn start_with(
        listen: IpAddr,
        dir: &Path,
        tcp: bool,
        tls: Option<(&Path, &Path)>,
    ) -> Result<Self> {
        let port = UdpSocket::bind((listen, 0))?.local_addr()?.port();
        let tls_port = match tls {
            Some(_) => Some(
                std::net::TcpListener::bind((listen, 0))?
                    .local_addr()?
                    .port(),
            ),
            None => None,
        };
        let log = dir.join("turnserver.log");
        let mut command = Command::new(TURNSERVER);
        command
            .args(["-n", "--lt-cred-mech", "--user", "samla:turn-secret"])
            .args(["--realm", "samla.test", "--relay-ip", "127.0.0.1"])
            .args(["--listening-ip", &listen.to_string()])
            .args(["--listening-port", &port.to_string()])
            .args(["--no-dtls", "--no-cli"])
            .args((!tcp).then_some("--no-tcp"))
            // The SFU is on loopback: coturn refuses such peers unless told otherwise.
            .arg("--allow-loopback-peers")
            .args(match (tls, tls_port) {
                (Some((cert, key)), Some(tls_port)) => vec![
                    "--cert".into(),
                    cert.as_os_str().to_owned(),
                    "--pkey".into(),
                    key.as_os_str().to_owned(),
                    "--tls-listening-port".into(),
                    tls_port.to_string().into(),
                ],
                _ => vec!["--no-tls".into()],
            })
            .arg("--pidfile")
            .arg(dir.join("turnserver.pid"))
            .arg("--userdb")
            .arg(dir.join("turndb"))
            .arg("--log-file")
            .arg(&log)
            .arg("--simple-log")
            .arg("--verbose")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = command.spawn().context("starting turnserver")?;
        let turn = Self {
            child,
            command,
            addr: SocketAddr::new(listen, port),
            tls_addr: tls_port.map(|p| SocketAddr::new(listen, p)),
            log,
        };
        turn.wait_listening()?;
        Ok(turn)
    }

    /// Stops coturn and starts it again on the same ports: every connection to it ends and
    /// every allocation is gone.
    fn restart(&mut self) -> Result<()> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = self.command.spawn().context("starting turnserver again")?;
        self.wait_listening()
    }

    /// Waits until coturn answers a STUN Binding request.
    fn wait_listening(&self) -> Result<()> {
        let socket = UdpSocket::bind((self.addr.ip(), 0))?;
        socket.set_read_timeout(Some(Duration::from_millis(100)))?;
        // Binding request: type 0x0001, length 0, magic cookie, transaction id.
        let mut request = vec![0, 1, 0, 0, 0x21, 0x12, 0xA4, 0x42];
        request.extend_from_slice(b"samla-e2e-tx");
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut buf = [0u8; 512];
        while Instant::now() < deadline {
            socket.send_to(&request, self.addr)?;
            if socket.recv_from(&mut buf).is_ok() {
                return Ok(());
            }
        }
        bail!("coturn did not answer on {}:\n{}", self.addr, self.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Why the TURN tests cannot run here, or `None` when they can.
fn no_coturn() -> Option<String> {
    (!Path::new(TURNSERVER).exists())
        .then(|| format!("no {TURNSERVER} (apt-get install coturn, or scripts/setup-debian)"))
}

/// A samla-server config naming `turn` with `password`, reached over each of `transports`
/// (`udp`, `tcp`).
fn config_with_turn(
    dir: &Path,
    turn: SocketAddr,
    transports: &[&str],
    password: &str,
) -> Result<PathBuf> {
    let urls: Vec<String> = transports
        .iter()
        .map(|t| format!("turn:{turn}?transport={t}"))
        .collect();
    config_with_turn_urls(dir, &urls, password)
}

/// A samla-server config naming one TURN server by `urls`, with `password`.
fn config_with_turn_urls(dir: &Path, urls: &[String], password: &str) -> Result<PathBuf> {
    let path = dir.join("samla.toml");
    let urls = urls
        .iter()
        .map(|u| format!("\"{u}\""))
        .collect::<Vec<_>>()
        .join(", ");
    std::fs::write(
        &path,
        format!(
            "[[ice_servers]]\nurls = [{urls}]\nusername = \"samla\"\ncredential = \"{password}\"\n"
        ),
    )?;
    Ok(path)
}

/// A CA of the test's own and a certificate it signed for `ip`, written into `dir`: the CA's
/// file (for the clients' `SSL_CERT_FILE`), the certificate's and its key's (for coturn).
fn test_certificate(dir: &Path, ip: IpAddr) -> Result<(PathBuf, PathBuf, PathBuf)> {
    let ca_key = rcgen::KeyPair::generate()?;
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "Samla test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca, ca_key)?;
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params.subject_alt_names = vec![rcgen::SanType::IpAddress(ip)];
    let cert = params.signed_by(&key, &ca)?;
    let paths = (
        dir.join("ca.pem"),
        dir.join("turn-cert.pem"),
        dir.join("turn-key.pem"),
    );
    std::fs::write(&paths.0, ca.pem())?;
    std::fs::write(&paths.1, cert.pem())?;
    std::fs::write(&paths.2, key.serialize_pem())?;
    Ok(paths)
}

/// A participant sending a small picture, logging whether it got a TURN relay.
fn join(cmd: Command, link: &str, name: &str, token: Option<&str>, dir: &Path) -> Result<Cli> {
    let log_filter = "warn,samla_engine::media::relay=info";
    Cli::join(
        cmd,
        link,
        name,
        token,
        "synthetic:320x180@15",
        log_filter,
        dir,
    )
}

/// `cli`'s view of someone whose pictures it verified: (their id, their figures).
fn verified_other(cli: &Cli) -> Option<(u64, Value)> {
    cli.stats()
        .into_iter()
        .find(|(_, v)| num(v, "frames_verified") > 0.0)
}

/// Waits until Kari and Ola each verified pictures of the other and hear the other's tone;
/// fails with both logs otherwise.
async fn wait_for_call(kari: &mut Cli, ola: &mut Cli, extra: impl Fn() -> String) -> Result<()> {
    let deadline = Instant::now() + WARM_UP;
    loop {
        kari.still_running()?;
        ola.still_running()?;
        let hears = |v: &Value, sender: u64| {
            v["audio_frequency_hz"]
                .as_f64()
                .is_some_and(|hz| (hz - tone_of(sender)).abs() <= 50.0)
        };
        let k = verified_other(kari);
        let o = verified_other(ola);
        if let (Some((ola_id, k_view)), Some((kari_id, o_view))) = (&k, &o) {
            if hears(k_view, *ola_id) && hears(o_view, *kari_id) {
                for (who, v) in [("Kari sees Ola", k_view), ("Ola sees Kari", o_view)] {
                    ensure!(
                        num(v, "frames_corrupt") == 0.0,
                        "{who}: pictures that were someone else's or garbage: {v}"
                    );
                }
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!(
                "no verified pictures and tones both ways within {WARM_UP:?}\nKari's stats {:?}\nOla's stats {:?}\n---- Kari ----\n{}\n---- Ola ----\n{}\n{}",
                kari.stats(),
                ola.stats(),
                kari.log(),
                ola.log(),
                extra(),
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A samla-server with `config`, its HTTP on the lab address both namespaces reach and its
/// media on the root namespace's loopback, announced as 127.0.0.1: out of the namespaces'
/// reach but not of coturn's.
async fn server_out_of_reach(lab: &Lab, config: &Path) -> Result<TestServer> {
    TestServer::start_on(
        lab.server_ip.into(),
        &[
            "--config".into(),
            config.display().to_string(),
            "--media-listen".into(),
            "127.0.0.1:0".into(),
        ],
    )
    .await
}

/// A samla-server with `config` on loopback, reached directly, and Kari and Ola in a call
/// through it (waited for); coturn's log goes with a failure.
async fn direct_call(config: &Path, turn: &Coturn, dir: &Path) -> Result<(TestServer, Cli, Cli)> {
    let server = TestServer::start_with(&["--config".into(), config.display().to_string()]).await?;
    let (token, link) = meeting(&server).await?;
    let cli = binary("samla-cli");
    let mut kari = join(Command::new(&cli), &link, "Kari", Some(&token), dir)?;
    let mut ola = join(Command::new(&cli), &link, "Ola", None, dir)?;
    wait_for_call(&mut kari, &mut ola, || {
        format!("---- coturn ----\n{}", turn.log())
    })
    .await?;
    Ok((server, kari, ola))
}

/// Makes a meeting on `server`; returns (host token, join link).
async fn meeting(server: &TestServer) -> Result<(String, String)> {
    let token = server.token("kari@uio.no")?;
    let meeting = server
        .create_meeting(
            &token,
            &NewMeeting {
                topic: "TURN".into(),
                ..NewMeeting::default()
            },
        )
        .await?;
    Ok((token, meeting.join_url))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_flows_through_turn_when_the_sfu_cannot_be_reached_directly() -> Result<()> {
    if let Some(reason) = no_coturn().or_else(netns::unavailable) {
        eprintln!("skipped: {reason}");
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let lab = Lab::new()?;
    let kari_net = lab.namespace("kari")?;
    let ola_net = lab.namespace("ola")?;
    let turn = Coturn::start(lab.relay_ip.into(), dir.path(), false)?;
    let config = config_with_turn(dir.path(), turn.addr, &["udp"], "turn-secret")?;
    let server = server_out_of_reach(&lab, &config).await?;
    let (token, link) = meeting(&server).await?;
    let cli = binary("samla-cli");
    let mut kari = join(
        kari_net.command(&cli),
        &link,
        "Kari",
        Some(&token),
        dir.path(),
    )?;
    let mut ola = join(ola_net.command(&cli), &link, "Ola", None, dir.path())?;
    wait_for_call(&mut kari, &mut ola, || {
        format!("---- coturn ----\n{}", turn.log())
    })
    .await?;
    for cli in [&kari, &ola] {
        let log = cli.log();
        ensure!(
            log.contains("TURN relay allocated"),
            "{} did not say it got a relay:\n{log}",
            cli.name
        );
    }
    // The relay carried it: coturn bound a channel for each client to the SFU.
    let binds = turn
        .log()
        .matches("CHANNEL_BIND processed, success")
        .count();
    ensure!(binds >= 2, "coturn bound {binds} channels:\n{}", turn.log());
    drop((kari, ola));
    drop((kari_net, ola_net));
    Ok(())
}

/// The clients' networks drop every UDP datagram, both ways: a firewall that lets only TCP
/// out, as some guest networks do. The server names coturn both ways, as a site would
/// (`?transport=udp` and `?transport=tcp`); the UDP allocation fails and says so, and the
/// call goes over TCP to coturn, which relays it to the SFU over UDP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_flows_through_turn_over_tcp_when_udp_is_blocked() -> Result<()> {
    call_through_turn_without_udp(false, false).await
}

/// As above, over TLS (`turns:`, the way out of networks that let only TLS through).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_flows_through_turn_over_tls_when_udp_is_blocked() -> Result<()> {
    call_through_turn_without_udp(true, false).await
}

/// As the TCP test, and then coturn restarts: the clients' TCP connections end and their
/// allocations are gone. Each notices the silence, connects and allocates again and
/// restarts ICE through the new relay: the call comes back without a rejoin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_over_turn_tcp_comes_back_after_the_turn_server_restarts() -> Result<()> {
    call_through_turn_without_udp(false, true).await
}

/// Kari and Ola in namespaces that drop all UDP hold a call through coturn, over TLS with
/// `tls`, else over TCP; with `restart`, coturn restarts in the call and the call must come
/// back.
async fn call_through_turn_without_udp(tls: bool, restart: bool) -> Result<()> {
    if let Some(reason) = no_coturn().or_else(netns::unavailable) {
        eprintln!("skipped: {reason}");
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let lab = Lab::new()?;
    let kari_net = lab.namespace("kari")?;
    let ola_net = lab.namespace("ola")?;
    for net in [&kari_net, &ola_net] {
        net.set_loss(100)?;
    }
    let turn_ip: IpAddr = lab.relay_ip.into();
    let (ca, cert, key) = test_certificate(dir.path(), turn_ip)?;
    let mut turn = Coturn::start_with(turn_ip, dir.path(), !tls, tls.then_some((&*cert, &*key)))?;
    let config = if let Some(tls_addr) = turn.tls_addr {
        config_with_turn_urls(
            dir.path(),
            &[
                format!("turn:{}?transport=udp", turn.addr),
                format!("turns:{tls_addr}?transport=tcp"),
            ],
            "turn-secret",
        )?
    } else {
        config_with_turn(dir.path(), turn.addr, &["udp", "tcp"], "turn-secret")?
    };
    let server = server_out_of_reach(&lab, &config).await?;
    let (token, link) = meeting(&server).await?;
    let cli = binary("samla-cli");
    let command = |net: &netns::Netns| {
        let mut cmd = net.command(&cli);
        cmd.env("SSL_CERT_FILE", &ca);
        cmd
    };
    let mut kari = join(command(&kari_net), &link, "Kari", Some(&token), dir.path())?;
    let mut ola = join(command(&ola_net), &link, "Ola", None, dir.path())?;
    wait_for_call(&mut kari, &mut ola, || {
        format!("---- coturn ----\n{}", turn.log())
    })
    .await?;
    let over = if tls { "TLS" } else { "TCP" };
    for cli in [&kari, &ola] {
        let log = cli.log();
        ensure!(
            log.contains(&format!("TURN relay allocated over {over}")),
            "{} did not say it got a relay over {over}:\n{log}",
            cli.name
        );
        ensure!(
            !log.contains("TURN relay allocated over UDP"),
            "{} got a relay over UDP through a network that drops UDP:\n{log}",
            cli.name
        );
    }
    // UDP was tried and dropped, each way out of each namespace.
    for (who, net) in [("Kari", &kari_net), ("Ola", &ola_net)] {
        let dropped = net.dropped()?;
        ensure!(dropped.up > 0, "{who}'s UDP was not dropped: {dropped:?}");
    }
    let binds = turn
        .log()
        .matches("CHANNEL_BIND processed, success")
        .count();
    ensure!(binds >= 2, "coturn bound {binds} channels:\n{}", turn.log());
    if restart {
        // The same participants as before, each seen by the other: no rejoin.
        let (ola_id, kari_id) = match (verified_other(&kari), verified_other(&ola)) {
            (Some((o, _)), Some((k, _))) => (o, k),
            _ => bail!("the call was up a moment ago"),
        };
        let verified = |cli: &Cli, id: u64| {
            cli.stats()
                .into_iter()
                .find(|(i, _)| *i == id)
                .map_or(0.0, |(_, v)| num(&v, "frames_verified"))
        };
        let before = [verified(&kari, ola_id), verified(&ola, kari_id)];
        turn.restart()?;
        eprintln!("coturn restarted");
        let restarted = Instant::now();
        loop {
            kari.still_running()?;
            ola.still_running()?;
            let now = [verified(&kari, ola_id), verified(&ola, kari_id)];
            // Well past what was in flight: pictures made after the restart.
            if now[0] > before[0] + 60.0 && now[1] > before[1] + 60.0 {
                eprintln!(
                    "pictures back both ways {:?} after the restart",
                    restarted.elapsed()
                );
                break;
            }
            ensure!(
                restarted.elapsed() < Duration::from_secs(40),
                "no new pictures within 40 s of coturn restarting ({before:?} -> {now:?})\n---- Kari ----\n{}\n---- Ola ----\n{}\n---- coturn ----\n{}",
                kari.log(),
                ola.log(),
                turn.log()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        for cli in [&kari, &ola] {
            let log = cli.log();
            ensure!(
                log.contains("the TURN connection was cut off; connecting again")
                    && log.matches("TURN relay allocated over TCP").count() >= 2,
                "{} did not allocate again after coturn restarted:\n{log}",
                cli.name
            );
        }
    }
    drop((kari, ola));
    drop((kari_net, ola_net));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_turn_credentials_are_reported_and_the_direct_path_still_works() -> Result<()> {
    if let Some(reason) = no_coturn() {
        eprintln!("skipped: {reason}");
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let turn = Coturn::start(IpAddr::V4(Ipv4Addr::LOCALHOST), dir.path(), false)?;
    let config = config_with_turn(dir.path(), turn.addr, &["udp"], "not-the-secret")?;
    let (_server, kari, ola) = direct_call(&config, &turn, dir.path()).await?;
    for cli in [&kari, &ola] {
        let log = cli.log();
        ensure!(
            log.contains("TURN allocation over UDP failed")
                && log.contains("the TURN server rejected our credentials")
                && log.contains("user \"samla\", realm \"samla.test\""),
            "{} did not say the TURN credentials were wrong:\n{log}",
            cli.name
        );
        ensure!(
            !log.contains("TURN relay allocated"),
            "{} got a relay with a wrong password:\n{log}",
            cli.name
        );
    }
    Ok(())
}

/// A `turns:` server whose certificate the clients do not trust (signed by a CA they were
/// not told of): they say so, and the call works over the direct path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_turn_certificate_is_reported_and_the_direct_path_still_works() -> Result<()> {
    if let Some(reason) = no_coturn() {
        eprintln!("skipped: {reason}");
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let (_ca, cert, key) = test_certificate(dir.path(), loopback)?;
    let turn = Coturn::start_with(loopback, dir.path(), false, Some((&*cert, &*key)))?;
    let tls_addr = turn.tls_addr.context("coturn listens over TLS")?;
    let config = config_with_turn_urls(
        dir.path(),
        &[format!("turns:{tls_addr}?transport=tcp")],
        "turn-secret",
    )?;
    let (_server, kari, ola) = direct_call(&config, &turn, dir.path()).await?;
    for cli in [&kari, &ola] {
        let said = |log: &str| {
            log.contains("TLS with the TURN server failed") && log.contains("UnknownIssuer")
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !said(&cli.log()) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log = cli.log();
        ensure!(
            said(&log),
            "{} did not say the TURN server's certificate is not trusted:\n{log}",
            cli.name
        );
        ensure!(
            !log.contains("TURN relay allocated"),
            "{} got a relay from a server it should not trust:\n{log}",
            cli.name
        );
    }
    Ok(())
}
