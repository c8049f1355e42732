//! A UDP relay for the media path that delays: a one-way delay that wanders (jitter) and a
//! few datagrams that overtake others (reordering). This kernel has no `netem` qdisc, so
//! delay is the one fault the kernel cannot make; loss, bandwidth limits and outages are made
//! on real links in network namespaces (see [`crate::netns`]).
//!
//! Each client address seen on the listening socket gets an upstream socket of its own, so the
//! server sees one distinct source address per client (like a NAT) and answers through it,
//! and its own delay line in each direction.
//!
//! # Jitter keeps order
//! On a real path jitter comes from queues whose fill level changes (Wi-Fi retries, a cell's
//! scheduler, a busy router): the delay wanders, but the queue is first-in first-out, so
//! packets arrive in the order they were sent, bunched up when the queue drains. Reordering is
//! rare (parallel links, route changes; well under 1 % of packets). A relay that drew an
//! independent delay for every datagram would reorder nearly every packet of a video frame at
//! 100 ms of jitter, which no real network does and which makes every reordered packet look
//! lost to the receiver's NACK logic. So here the delay offset changes every
//! [`JITTER_PERIOD`] to a new value drawn uniformly from `delay ± jitter`, datagrams leave in
//! order, and only `reorder_percent` of them get a delay of their own and may overtake.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket as StdUdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::TestServer;

/// How long the wandering delay keeps one value before it draws the next.
pub const JITTER_PERIOD: Duration = Duration::from_millis(50);

/// The faults applied to every datagram, in both directions.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    /// Fixed one-way delay.
    pub delay: Duration,
    /// The one-way delay wanders within `delay ± jitter` (never below zero), keeping order.
    pub jitter: Duration,
    /// Percentage (0..=100) of datagrams delayed on their own by `delay ± jitter`, which may
    /// overtake others.
    pub reorder_percent: f64,
}

/// Datagram counts, per direction.
#[derive(Debug, Default)]
pub struct Counters {
    /// Client → server datagrams forwarded.
    pub up_forwarded: AtomicU64,
    /// Server → client datagrams forwarded.
    pub down_forwarded: AtomicU64,
    /// Datagrams (both directions) sent out of order on purpose.
    pub reordered: AtomicU64,
    /// Distinct client addresses seen.
    pub clients: AtomicU64,
}

/// A snapshot of [`Counters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub up_forwarded: u64,
    pub down_forwarded: u64,
    pub reordered: u64,
    pub clients: u64,
}

/// A running relay; its tasks stop when it is dropped.
pub struct UdpRelay {
    pub addr: SocketAddr,
    faults: Arc<Mutex<Faults>>,
    counters: Arc<Counters>,
    tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl UdpRelay {
    /// Listens on `listen` and forwards to `target`.
    pub async fn start(listen: SocketAddr, target: SocketAddr) -> Result<Self> {
        let socket = Arc::new(
            UdpSocket::bind(listen)
                .await
                .with_context(|| format!("binding the relay on {listen}"))?,
        );
        let addr = socket.local_addr()?;
        let faults = Arc::new(Mutex::new(Faults::default()));
        let counters = Arc::new(Counters::default());
        let tasks = Arc::new(Mutex::new(Vec::new()));
        let main = tokio::spawn(run_listener(
            socket,
            target,
            faults.clone(),
            counters.clone(),
            tasks.clone(),
        ));
        tasks.lock().unwrap().push(main);
        Ok(Self {
            addr,
            faults,
            counters,
            tasks,
        })
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.faults.lock().unwrap() = faults;
    }

    pub fn counts(&self) -> Counts {
        let c = &self.counters;
        Counts {
            up_forwarded: c.up_forwarded.load(Ordering::Relaxed),
            down_forwarded: c.down_forwarded.load(Ordering::Relaxed),
            reordered: c.reordered.load(Ordering::Relaxed),
            clients: c.clients.load(Ordering::Relaxed),
        }
    }
}

impl Drop for UdpRelay {
    fn drop(&mut self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
}

/// When one datagram leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Leaves at this time, after every datagram sent in order before it.
    InOrder(Instant),
    /// Leaves at this time, whatever else is queued (may overtake).
    Alone(Instant),
}

/// One direction of one client's link: a delay line whose delay wanders. Pure: the time comes
/// in, a verdict comes out.
#[derive(Debug, Default)]
struct Link {
    /// The current offset from the fixed delay, in seconds, and until when it holds.
    offset: f64,
    offset_until: Option<Instant>,
    /// When the last in-order datagram leaves: later ones never leave before it.
    last_release: Option<Instant>,
}

impl Link {
    fn decide(&mut self, faults: &Faults, now: Instant) -> Verdict {
        let jitter = faults.jitter.as_secs_f64();
        let delay = faults.delay.as_secs_f64();
        let draw = || delay + (rand::random::<f64>() * 2.0 - 1.0) * jitter;
        if jitter > 0.0 && rand::random::<f64>() * 100.0 < faults.reorder_percent {
            return Verdict::Alone(now + Duration::from_secs_f64(draw().max(0.0)));
        }
        if self.offset_until.is_none_or(|t| now >= t) {
            self.offset = draw() - delay;
            self.offset_until = Some(now + JITTER_PERIOD);
        }
        let at = now + Duration::from_secs_f64((delay + self.offset).max(0.0));
        let at = self.last_release.map_or(at, |last| at.max(last));
        self.last_release = Some(at);
        Verdict::InOrder(at)
    }
}

/// A sending half: datagrams leave in the order they are queued, each at its time.
fn spawn_sender(
    socket: Arc<UdpSocket>,
    to: SocketAddr,
    tasks: &Mutex<Vec<tokio::task::JoinHandle<()>>>,
) -> mpsc::UnboundedSender<(Instant, Vec<u8>)> {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let task = tokio::spawn(async move {
        while let Some((at, data)) = rx.recv().await {
            tokio::time::sleep_until(at.into()).await;
            // Not `try_send_to`: tokio reports WouldBlock until the socket's readiness is known.
            let _ = socket.send_to(&data, to).await;
        }
    });
    tasks.lock().unwrap().push(task);
    tx
}

/// Carries out a verdict; counts it.
fn dispatch(
    verdict: Verdict,
    data: &[u8],
    ordered: &mpsc::UnboundedSender<(Instant, Vec<u8>)>,
    socket: &Arc<UdpSocket>,
    to: SocketAddr,
    dir: Direction,
    counters: &Counters,
) {
    let forwarded = match dir {
        Direction::Up => &counters.up_forwarded,
        Direction::Down => &counters.down_forwarded,
    };
    match verdict {
        Verdict::InOrder(at) => {
            forwarded.fetch_add(1, Ordering::Relaxed);
            let _ = ordered.send((at, data.to_vec()));
        }
        Verdict::Alone(at) => {
            forwarded.fetch_add(1, Ordering::Relaxed);
            counters.reordered.fetch_add(1, Ordering::Relaxed);
            let (socket, data) = (socket.clone(), data.to_vec());
            tokio::spawn(async move {
                tokio::time::sleep_until(at.into()).await;
                let _ = socket.send_to(&data, to).await;
            });
        }
    }
}

/// One client's way up: its own upstream socket, link and in-order sender.
struct Upstream {
    link: Link,
    socket: Arc<UdpSocket>,
    ordered: mpsc::UnboundedSender<(Instant, Vec<u8>)>,
}

async fn run_listener(
    socket: Arc<UdpSocket>,
    target: SocketAddr,
    faults: Arc<Mutex<Faults>>,
    counters: Arc<Counters>,
    tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
) {
    let mut upstreams: HashMap<SocketAddr, Upstream> = HashMap::new();
    let mut buf = vec![0u8; 65_536];
    loop {
        let Ok((n, client)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        let up = match upstreams.entry(client) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let bind: SocketAddr = if target.is_ipv4() {
                    SocketAddr::new(target.ip(), 0)
                } else {
                    "[::1]:0".parse().expect("literal")
                };
                let Ok(up) = UdpSocket::bind(bind).await else {
                    continue;
                };
                let up = Arc::new(up);
                counters.clients.fetch_add(1, Ordering::Relaxed);
                let task = tokio::spawn(run_downstream(
                    up.clone(),
                    socket.clone(),
                    client,
                    faults.clone(),
                    counters.clone(),
                    tasks.clone(),
                ));
                tasks.lock().unwrap().push(task);
                let ordered = spawn_sender(up.clone(), target, &tasks);
                e.insert(Upstream {
                    link: Link::default(),
                    socket: up,
                    ordered,
                })
            }
        };
        let f = *faults.lock().unwrap();
        let verdict = up.link.decide(&f, Instant::now());
        dispatch(
            verdict,
            &buf[..n],
            &up.ordered,
            &up.socket,
            target,
            Direction::Up,
            &counters,
        );
    }
}

/// Server → client: what arrives on a client's upstream socket goes back to that client.
async fn run_downstream(
    upstream: Arc<UdpSocket>,
    listener: Arc<UdpSocket>,
    client: SocketAddr,
    faults: Arc<Mutex<Faults>>,
    counters: Arc<Counters>,
    tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
) {
    let ordered = spawn_sender(listener.clone(), client, &tasks);
    let mut link = Link::default();
    let mut buf = vec![0u8; 65_536];
    loop {
        let Ok((n, _)) = upstream.recv_from(&mut buf).await else {
            continue;
        };
        let f = *faults.lock().unwrap();
        let verdict = link.decide(&f, Instant::now());
        dispatch(
            verdict,
            &buf[..n],
            &ordered,
            &listener,
            client,
            Direction::Down,
            &counters,
        );
    }
}

/// A `samla-server` whose media goes through a [`UdpRelay`]: the server listens (HTTP and
/// media) on `server_ip`, its announced candidate is `relay_ip` with the same port, where the
/// relay listens. Killed when dropped.
pub struct MediaServer {
    pub server: TestServer,
    pub relay: UdpRelay,
}

impl MediaServer {
    pub async fn start(server_ip: IpAddr, relay_ip: IpAddr) -> Result<Self> {
        // A UDP port free on both addresses.
        let (media_addr, relay) = loop {
            let probe = StdUdpSocket::bind((server_ip, 0))?;
            let port = probe.local_addr()?.port();
            drop(probe);
            let media_addr = SocketAddr::new(server_ip, port);
            if let Ok(relay) = UdpRelay::start(SocketAddr::new(relay_ip, port), media_addr).await {
                break (media_addr, relay);
            }
        };
        let server = TestServer::start_on(
            server_ip,
            &[
                "--media-listen".into(),
                media_addr.to_string(),
                "--media-public-ip".into(),
                relay_ip.to_string(),
            ],
        )
        .await?;
        Ok(Self { server, relay })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn relays_both_ways_through_a_socket_per_client() -> Result<()> {
        let server = UdpSocket::bind("127.0.0.1:0").await?;
        let relay = UdpRelay::start("127.0.0.2:0".parse()?, server.local_addr()?).await?;
        let client = UdpSocket::bind("127.0.0.1:0").await?;
        let mut buf = [0u8; 64];

        client.send_to(b"ping", relay.addr).await?;
        let (n, from) = server.recv_from(&mut buf).await?;
        assert_eq!(&buf[..n], b"ping");
        assert_ne!(from, client.local_addr()?, "the server sees the relay");
        server.send_to(b"pong", from).await?;
        let (n, back) = client.recv_from(&mut buf).await?;
        assert_eq!((&buf[..n], back), (&b"pong"[..], relay.addr));

        let other = UdpSocket::bind("127.0.0.1:0").await?;
        other.send_to(b"hi", relay.addr).await?;
        let (_, from_other) = server.recv_from(&mut buf).await?;
        assert_ne!(from_other, from, "each client has its own upstream socket");

        let c = relay.counts();
        assert_eq!((c.up_forwarded, c.down_forwarded, c.clients), (2, 1, 2));
        Ok(())
    }

    /// Sends 50 numbered datagrams through a relay with `faults`; returns the order they
    /// arrived in.
    async fn arrival_order(faults: Faults) -> Result<Vec<u8>> {
        let server = UdpSocket::bind("127.0.0.1:0").await?;
        let relay = UdpRelay::start("127.0.0.2:0".parse()?, server.local_addr()?).await?;
        relay.set_faults(faults);
        let client = UdpSocket::bind("127.0.0.1:0").await?;
        let start = Instant::now();
        for i in 0..50u8 {
            client.send_to(&[i], relay.addr).await?;
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let mut order = Vec::new();
        let mut buf = [0u8; 8];
        for _ in 0..50 {
            let (_, _) = server.recv_from(&mut buf).await?;
            if order.is_empty() {
                assert!(start.elapsed() >= Duration::from_millis(9), "delayed");
            }
            order.push(buf[0]);
        }
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>(), "nothing lost");
        Ok(order)
    }

    #[tokio::test]
    async fn jitter_keeps_order_and_reordering_is_its_own_fault() -> Result<()> {
        let jitter = Faults {
            delay: Duration::from_millis(50),
            jitter: Duration::from_millis(40),
            ..Faults::default()
        };
        let order = arrival_order(jitter).await?;
        assert_eq!(
            order,
            (0..50).collect::<Vec<_>>(),
            "jitter alone keeps order"
        );
        let order = arrival_order(Faults {
            reorder_percent: 50.0,
            ..jitter
        })
        .await?;
        assert_ne!(order, (0..50).collect::<Vec<_>>(), "reordering reorders");
        Ok(())
    }

    #[test]
    fn the_delay_wanders_within_its_bounds_in_order() {
        let faults = Faults {
            delay: Duration::from_millis(100),
            jitter: Duration::from_millis(100),
            ..Faults::default()
        };
        let mut link = Link::default();
        let t0 = Instant::now();
        let (mut min, mut max, mut last) = (Duration::MAX, Duration::ZERO, t0);
        for i in 0..2000u32 {
            let now = t0 + Duration::from_millis(u64::from(i) * 5);
            let Verdict::InOrder(at) = link.decide(&faults, now) else {
                panic!("only in-order verdicts without reordering");
            };
            assert!(at >= last, "datagram {i} would overtake");
            last = at;
            let delay = at - now;
            (min, max) = (min.min(delay), max.max(delay));
        }
        assert!(max <= Duration::from_millis(200), "max {max:?}");
        assert!(
            max - min >= Duration::from_millis(150),
            "the delay wanders over most of 0..200 ms: {min:?}..{max:?}"
        );
    }
}
