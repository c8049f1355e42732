//! The client against a real TURN server: Debian's coturn (`turnserver`), started on
//! loopback with a static user. Without `turnserver` the tests print why and pass
//! (`scripts/setup-debian` installs coturn, so CI runs them).

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use samla_turn::{Event, Incoming, TurnClient, TurnConfig, TurnError};

/// How long anything may take before the test gives up.
const PATIENCE: Duration = Duration::from_secs(20);

/// A `turnserver` child on 127.0.0.1, killed when dropped.
struct Coturn {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free UDP port")
}

/// Starts coturn with user `u`, password `p`; `None` (and why, printed) without it.
fn coturn() -> Option<Coturn> {
    let program = Path::new("/usr/bin/turnserver");
    if !program.exists() {
        eprintln!("skipped: no /usr/bin/turnserver (apt-get install coturn)");
        return None;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_udp_port();
    let child = Command::new(program)
        .args([
            "-n",
            "--lt-cred-mech",
            "--user",
            "u:p",
            "--realm",
            "samla.test",
        ])
        .args(["--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1"])
        .args(["--listening-port", &port.to_string()])
        .args([
            "--no-tls",
            "--no-dtls",
            "--no-tcp",
            "--allow-loopback-peers",
            "--no-cli",
        ])
        .arg("--pidfile")
        .arg(dir.path().join("turnserver.pid"))
        .arg("--userdb")
        .arg(dir.path().join("turndb"))
        .arg("--log-file")
        .arg(dir.path().join("turn.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting turnserver");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    Some(Coturn {
        child,
        addr,
        _dir: dir,
    })
}

/// What one [`pump`] turned up.
#[derive(Debug, Default)]
struct Pumped {
    events: Vec<Event>,
    data: Vec<(SocketAddr, Vec<u8>)>,
}

/// One round of driving `client` on `socket`: sends what it has, waits a little for one
/// datagram (or its next timeout) and hands it over.
fn pump(client: &mut TurnClient, socket: &UdpSocket) -> Pumped {
    let mut out = Pumped::default();
    while let Some(t) = client.poll_transmit() {
        socket.send_to(&t.contents, t.destination).expect("send");
    }
    let now = Instant::now();
    let wait = client
        .poll_timeout()
        .map_or(Duration::from_millis(50), |t| {
            t.saturating_duration_since(now)
        })
        .clamp(Duration::from_millis(1), Duration::from_millis(50));
    socket.set_read_timeout(Some(wait)).expect("timeout");
    let mut buf = [0u8; 2048];
    match socket.recv_from(&mut buf) {
        Ok((n, from)) => {
            if let Incoming::Data { peer, payload, .. } =
                client.handle_input(Instant::now(), from, &buf[..n])
            {
                out.data.push((peer, payload.to_vec()));
            }
        }
        Err(_) => client.handle_timeout(Instant::now()),
    }
    while let Some(t) = client.poll_transmit() {
        socket.send_to(&t.contents, t.destination).expect("send");
    }
    out.events
        .extend(std::iter::from_fn(|| client.poll_event()));
    out
}

/// Allocates with `password` (a fresh client until coturn answers: it may take a moment
/// to listen); returns the client and its first event.
fn allocate(turn: &Coturn, socket: &UdpSocket, password: &str) -> (TurnClient, Event) {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        let config = TurnConfig {
            server: turn.addr,
            username: "u".into(),
            password: password.into(),
        };
        let mut client = TurnClient::new(config, Instant::now());
        // Two seconds per try: coturn on loopback answers in milliseconds once it is up.
        let try_until = Instant::now() + Duration::from_secs(2);
        while Instant::now() < try_until {
            if let Some(ev) = pump(&mut client, socket).events.into_iter().next() {
                return (client, ev);
            }
        }
    }
    panic!("coturn did not answer within {PATIENCE:?}");
}

#[test]
fn allocates_on_coturn_and_relays_both_ways() {
    let Some(turn) = coturn() else { return };
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let peer_addr = peer.local_addr().unwrap();
    let (mut client, event) = allocate(&turn, &socket, "p");
    let Event::Allocated { relay, mapped } = event else {
        panic!("no allocation: {event:?}");
    };
    assert_eq!(relay.ip(), std::net::Ipv4Addr::LOCALHOST);
    assert_eq!(mapped, Some(socket.local_addr().unwrap()));

    // Out through the relay: the peer sees our datagrams come from the relay address. The
    // first ones are dropped while the permission is made, as ICE checks would be; later
    // ones go by Send indication, then by channel.
    peer.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let mut buf = [0u8; 2048];
    let mut got = Vec::new();
    let deadline = Instant::now() + PATIENCE;
    while got.len() < 3 && Instant::now() < deadline {
        if let Some(t) = client.wrap(Instant::now(), peer_addr, b"ping") {
            socket.send_to(&t.contents, t.destination).unwrap();
        }
        let pumped = pump(&mut client, &socket);
        assert!(pumped.events.is_empty(), "{:?}", pumped.events);
        if let Ok((n, from)) = peer.recv_from(&mut buf) {
            got.push((from, buf[..n].to_vec()));
        }
    }
    assert_eq!(got, vec![(relay, b"ping".to_vec()); 3]);

    // Back from the peer to the relay address: it arrives unwrapped, from the peer.
    peer.send_to(b"pong", relay).unwrap();
    let deadline = Instant::now() + PATIENCE;
    let mut back = Vec::new();
    while back.is_empty() && Instant::now() < deadline {
        back = pump(&mut client, &socket).data;
    }
    assert_eq!(back, vec![(peer_addr, b"pong".to_vec())]);
    client.close(Instant::now());
}

#[test]
fn wrong_password_fails_with_unauthorized() {
    let Some(turn) = coturn() else { return };
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (_, event) = allocate(&turn, &socket, "wrong");
    let Event::Failed(TurnError::Unauthorized { realm, .. }) = event else {
        panic!("expected a 401: {event:?}");
    };
    assert_eq!(realm, "samla.test");
}
