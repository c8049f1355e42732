//! Real network links for fault tests: each client runs in a network namespace of its own,
//! joined to the root namespace (where the server runs) by a veth pair, and faults are made
//! by the kernel on that link: random loss with an nftables `numgen` rule, a bandwidth limit
//! with a `tc tbf` qdisc, an outage by taking the link down. What the kernel cannot do here
//! (this kernel has no `netem`: delay and jitter) stays with [`crate::udp_relay`].
//!
//! # Addresses
//! A [`Lab`] takes a free `10.a.b.0/24` block. The server's addresses (`.1`, and `.2` for a
//! relay) sit on the root namespace's `lo` as /32s, so they do not depend on any one link;
//! namespace `k` gets the /30 at `.4k+4`: `.4k+5` on the root side of its veth, `.4k+6`
//! inside, with a default route through the root side. The root namespace delivers what is
//! addressed to its own addresses whatever link it came in on, so no forwarding is needed.
//!
//! # Cleaning up
//! Names carry a random tag, so tests run in parallel. Everything is undone on `Drop` (also
//! when a test panics): the veth pair, the namespace (with its nftables rules and qdiscs) and
//! the `lo` addresses. A test process killed outright leaves them behind; they are harmless
//! and named `samla-*` / `sv*` to be found.
//!
//! Needs root and the `ip`, `tc` (iproute2) and `nft` (nftables) programs: see
//! [`unavailable`].

use std::ffi::OsStr;
use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::{AtomicU8, Ordering};

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// The nftables table the loss rules live in (one per namespace, so no clash).
const LOSS_TABLE: &str = "samla_loss";

/// Namespaces one [`Lab`] can hold in its /24 (a /30 each after the first four addresses).
const MAX_NAMESPACES: u8 = 62;

/// Why namespace tests cannot run here, or `None` when they can: root is needed to make
/// namespaces, and `ip`, `tc` and `nft` to set them up (`scripts/setup-debian` installs them,
/// so in CI they always run).
pub fn unavailable() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    // "Uid:\treal\teffective\tsaved\tfs"
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1));
    if euid != Some("0") {
        return Some("network namespaces need root".into());
    }
    for (program, arg, package) in [
        ("ip", "-V", "iproute2"),
        ("tc", "-V", "iproute2"),
        ("nft", "--version", "nftables"),
    ] {
        let runs = Command::new(program)
            .arg(arg)
            .output()
            .is_ok_and(|o| o.status.success());
        if !runs {
            return Some(format!("`{program}` is missing (Debian package {package})"));
        }
    }
    None
}

/// `tc` arguments for a slow access line on `dev` at `rate`: a token bucket of one full-size
/// packet and a little more (no burst to give; a larger bucket lets the estimator's probe
/// clusters through at line rate) behind a 300 ms queue.
fn token_bucket<'a>(dev: &'a str, rate: &'a str) -> [&'a str; 12] {
    [
        "qdisc", "replace", "dev", dev, "root", "tbf", "rate", rate, "burst", "2kb", "latency",
        "300ms",
    ]
}

/// `tc` arguments that lift [`token_bucket`]'s limit by widening the bucket to 10 Gbit/s
/// rather than deleting it: deleting a queueing discipline drops the packets queued in it,
/// a loss burst that a line getting faster does not cause (its queue drains), and one that
/// holds str0m's loss-based estimate down for seconds.
fn widened_bucket(dev: &str) -> [&str; 12] {
    [
        "qdisc", "change", "dev", dev, "root", "tbf", "rate", "10gbit", "burst", "4mb", "latency",
        "300ms",
    ]
}

/// Runs `program args`; fails with its stderr. Returns its stdout.
fn run<I, S>(program: &str, args: I) -> Result<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(program);
    cmd.args(args);
    let out = cmd.output().with_context(|| format!("running {program}"))?;
    if !out.status.success() {
        bail!(
            "{:?} failed ({}): {}",
            cmd,
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `program args` with `input` on its stdin (for `nft -f -`).
fn run_with_input(program: &str, args: &[&str], input: &str) -> Result<()> {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("running {program}"))?;
    child
        .stdin
        .take()
        .context("stdin of the child")?
        .write_all(input.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "{program} {args:?} failed ({}): {}\n{input}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// The root-namespace side of one test's network: its address block and the server's
/// addresses on `lo`. Namespaces are made from it with [`Lab::namespace`].
pub struct Lab {
    tag: String,
    block: [u8; 2],
    /// Where the server listens (HTTP and media); reachable from every namespace.
    pub server_ip: Ipv4Addr,
    /// A second server-side address, for a relay in front of the server's media port.
    pub relay_ip: Ipv4Addr,
    /// The `lo` addresses added so far (removed on drop).
    added: Vec<Ipv4Addr>,
    next: AtomicU8,
}

impl Lab {
    /// Takes a `10.a.b.0/24` block no interface uses yet and puts the server's addresses on
    /// `lo`.
    pub fn new() -> Result<Self> {
        if let Some(reason) = unavailable() {
            bail!("network namespaces are not available: {reason}");
        }
        let in_use = run("ip", ["-4", "-o", "addr", "show"])?;
        let block = (0..100)
            .map(|_| [64 + rand::random::<u8>() % 64, rand::random::<u8>()])
            .find(|[a, b]| !in_use.contains(&format!(" 10.{a}.{b}.")))
            .context("no free 10.x.y.0/24 block")?;
        let [a, b] = block;
        let mut lab = Self {
            tag: format!("{:06x}", rand::random::<u32>() & 0xff_ffff),
            block,
            server_ip: Ipv4Addr::new(10, a, b, 1),
            relay_ip: Ipv4Addr::new(10, a, b, 2),
            added: Vec::new(),
            next: AtomicU8::new(0),
        };
        for ip in [lab.server_ip, lab.relay_ip] {
            run("ip", ["addr", "add", &format!("{ip}/32"), "dev", "lo"])?;
            lab.added.push(ip);
        }
        Ok(lab)
    }

    /// An address of the lab's block that no namespace gets (the last /30 is never handed
    /// out), for a client that moves to another network ([`Netns::change_address`]).
    pub fn spare_address(&self) -> Ipv4Addr {
        let [a, b] = self.block;
        Ipv4Addr::new(10, a, b, 253)
    }

    /// A new namespace with a veth link to the root namespace, up and routed; `role` names
    /// it in errors and logs.
    pub fn namespace(&self, role: &str) -> Result<Netns> {
        let k = self.next.fetch_add(1, Ordering::Relaxed);
        if k >= MAX_NAMESPACES {
            bail!("a lab holds at most {MAX_NAMESPACES} namespaces");
        }
        let [a, b] = self.block;
        let base = 4 + 4 * k;
        let ns = Netns {
            role: role.to_owned(),
            name: format!("samla-{}-{k}", self.tag),
            root_if: format!("sv{}{k}", self.tag),
            ns_if: format!("sn{}{k}", self.tag),
            addr: Ipv4Addr::new(10, a, b, base + 2),
            gateway: Ipv4Addr::new(10, a, b, base + 1),
        };
        run("ip", ["netns", "add", &ns.name])?;
        // From here on, dropping `ns` undoes what was made.
        run(
            "ip",
            [
                "link",
                "add",
                &ns.root_if,
                "type",
                "veth",
                "peer",
                "name",
                &ns.ns_if,
            ],
        )?;
        run("ip", ["link", "set", &ns.ns_if, "netns", &ns.name])?;
        run(
            "ip",
            [
                "addr",
                "add",
                &format!("{}/30", ns.gateway),
                "dev",
                &ns.root_if,
            ],
        )?;
        run("ip", ["link", "set", &ns.root_if, "up"])?;
        ns.ip(["link", "set", "lo", "up"])?;
        ns.ip(["addr", "add", &format!("{}/30", ns.addr), "dev", &ns.ns_if])?;
        ns.link_up()?;
        Ok(ns)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ip in self.added.drain(..) {
            let _ = run("ip", ["addr", "del", &format!("{ip}/32"), "dev", "lo"]);
        }
    }
}

/// One client's namespace and its link. Dropped, the link and the namespace are deleted
/// (processes still running in it keep it alive until they exit: stop them first).
pub struct Netns {
    role: String,
    pub name: String,
    root_if: String,
    ns_if: String,
    /// The client's address inside the namespace.
    pub addr: Ipv4Addr,
    /// The root side of the link: the namespace's default gateway.
    gateway: Ipv4Addr,
}

/// Packets the loss rules dropped, per direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dropped {
    /// Leaving the namespace (the client's uplink).
    pub up: u64,
    /// Entering it (the client's downlink).
    pub down: u64,
}

impl Netns {
    /// `program` to be run inside the namespace (`ip netns exec`, which execs it: killing the
    /// child kills the program).
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).arg(program);
        cmd
    }

    fn ip<I, S>(&self, args: I) -> Result<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut all: Vec<std::ffi::OsString> = vec!["-n".into(), self.name.clone().into()];
        all.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        run("ip", all).with_context(|| format!("the {} namespace", self.role))
    }

    /// Drops `percent` % of UDP datagrams at random in each direction (nftables
    /// `numgen random mod 100 < percent drop`, on the namespace's output and input hooks).
    /// Only UDP: the media is what is measured; signalling over TCP would ride loss out by
    /// retransmission anyway. Replaces an earlier loss rule.
    pub fn set_loss(&self, percent: u8) -> Result<()> {
        // `numgen random mod 100` is 0..=99: `< 100` is out of its range, so all is plain drop.
        let rule = if percent >= 100 {
            "meta l4proto udp counter drop".to_owned()
        } else {
            format!("meta l4proto udp numgen random mod 100 < {percent} counter drop")
        };
        // Declaring the table first makes the delete succeed whether or not it existed.
        let script = format!(
            "table inet {LOSS_TABLE}\n\
             delete table inet {LOSS_TABLE}\n\
             table inet {LOSS_TABLE} {{\n\
             \tchain up {{ type filter hook output priority 0; policy accept; {rule}; }}\n\
             \tchain down {{ type filter hook input priority 0; policy accept; {rule}; }}\n\
             }}\n"
        );
        run_with_input(
            "ip",
            &["netns", "exec", &self.name, "nft", "-f", "-"],
            &script,
        )
        .with_context(|| format!("loss rules in the {} namespace", self.role))
    }

    /// What the loss rules have dropped so far (zero without them).
    pub fn dropped(&self) -> Result<Dropped> {
        let out = run(
            "ip",
            [
                "netns", "exec", &self.name, "nft", "-j", "list", "table", "inet", LOSS_TABLE,
            ],
        );
        let Ok(out) = out else {
            return Ok(Dropped::default()); // no table: nothing dropped
        };
        let json: Value = serde_json::from_str(&out).context("nft -j output")?;
        let mut dropped = Dropped::default();
        for item in json["nftables"].as_array().into_iter().flatten() {
            let rule = &item["rule"];
            let Some(exprs) = rule["expr"].as_array() else {
                continue;
            };
            let packets: u64 = exprs
                .iter()
                .filter_map(|e| e["counter"]["packets"].as_u64())
                .sum();
            match rule["chain"].as_str() {
                Some("up") => dropped.up += packets,
                Some("down") => dropped.down += packets,
                _ => {}
            }
        }
        Ok(dropped)
    }

    /// Limits what leaves the namespace (the client's uplink) to `kbit` kbit/s with a token
    /// bucket (`tc tbf`). The queue in front of it holds 300 ms, as a slow access line's
    /// buffer does; what does not fit is dropped. The bucket holds one full-size packet and a
    /// little more: a slow line has no burst to give, and a larger bucket lets the bandwidth
    /// estimator's probe clusters through at line rate (an 8 KB one made str0m estimate
    /// 3.5 Mbit/s on this 300 kbit/s link).
    pub fn limit_uplink(&self, kbit: u32) -> Result<()> {
        let mut args = vec!["-n", &self.name];
        let rate = format!("{kbit}kbit");
        args.extend(token_bucket(&self.ns_if, &rate));
        run("tc", args)
            .with_context(|| format!("bandwidth limit in the {} namespace", self.role))
            .map(drop)
    }

    /// Lifts [`Netns::limit_uplink`].
    pub fn unlimit_uplink(&self) -> Result<()> {
        let mut args = vec!["-n", &self.name];
        args.extend(widened_bucket(&self.ns_if));
        run("tc", args)
            .with_context(|| format!("bandwidth limit in the {} namespace", self.role))
            .map(drop)
    }

    /// Limits what enters the namespace (the client's downlink) to `kbit` kbit/s: the same
    /// token bucket as [`Netns::limit_uplink`], on the root side of the link, whose output is
    /// the namespace's input.
    pub fn limit_downlink(&self, kbit: u32) -> Result<()> {
        let rate = format!("{kbit}kbit");
        run("tc", token_bucket(&self.root_if, &rate))
            .with_context(|| format!("downlink limit of the {} namespace", self.role))
            .map(drop)
    }

    /// Lifts [`Netns::limit_downlink`].
    pub fn unlimit_downlink(&self) -> Result<()> {
        run("tc", widened_bucket(&self.root_if))
            .with_context(|| format!("downlink limit of the {} namespace", self.role))
            .map(drop)
    }

    /// Moves the client to `new` as a switch to another network does (Wi-Fi to cable): the
    /// new address comes up with the default route through it, and the old one goes away,
    /// with every connection made from it. The root namespace routes `new` to this link.
    pub fn change_address(&mut self, new: Ipv4Addr) -> Result<()> {
        let (gateway, new_ip, host) = (
            self.gateway.to_string(),
            new.to_string(),
            format!("{new}/32"),
        );
        run(
            "ip",
            ["route", "add", host.as_str(), "dev", self.root_if.as_str()],
        )?;
        self.ip(["addr", "add", host.as_str(), "dev", self.ns_if.as_str()])?;
        // `onlink`: the gateway stays reachable once the old /30 (and its prefix route) is gone.
        self.ip([
            "route",
            "replace",
            "default",
            "via",
            gateway.as_str(),
            "dev",
            self.ns_if.as_str(),
            "src",
            new_ip.as_str(),
            "onlink",
        ])?;
        let old = format!("{}/30", self.addr);
        self.ip(["addr", "del", &old, "dev", &self.ns_if])?;
        self.addr = new;
        Ok(())
    }

    /// Takes the client's link down: nothing goes in or out (the kernel also drops the
    /// routes through it, as when a cable is pulled or Wi-Fi is lost).
    pub fn link_down(&self) -> Result<()> {
        self.ip(["link", "set", &self.ns_if, "down"]).map(drop)
    }

    /// Brings the link (back) up with its default route, as a network that comes back
    /// (DHCP puts the route back) does.
    pub fn link_up(&self) -> Result<()> {
        self.ip(["link", "set", &self.ns_if, "up"])?;
        self.ip([
            "route",
            "replace",
            "default",
            "via",
            &self.gateway.to_string(),
            "dev",
            &self.ns_if,
            "onlink",
        ])
        .map(drop)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting one end of a veth pair deletes the other; the namespace goes with its
        // last process.
        let _ = run("ip", ["link", "del", &self.root_if]);
        let _ = run("ip", ["netns", "del", &self.name]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The harness itself, on the kernel: a namespace reaches the server address, loss
    /// rules count what they drop, and everything is gone after drop.
    #[test]
    fn a_namespace_reaches_the_server_and_is_gone_after_drop() -> Result<()> {
        if let Some(reason) = unavailable() {
            eprintln!("skipped: {reason}");
            return Ok(());
        }
        let lab = Lab::new()?;
        let server = std::net::UdpSocket::bind((lab.server_ip, 0))?;
        server.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
        let port = server.local_addr()?.port();
        let ns = lab.namespace("client")?;
        let (name, root_if) = (ns.name.clone(), ns.root_if.clone());
        // A client inside sends through the link: bash's /dev/udp needs no extra program.
        // A datagram the output hook drops fails its write (EPERM); that is the loss.
        let send = |n: usize| -> Result<()> {
            let script = format!(
                "for i in $(seq {n}); do echo -n x 2>/dev/null > /dev/udp/{}/{port} || true; done",
                lab.server_ip
            );
            let status = ns.command("bash").args(["-c", &script]).status()?;
            anyhow::ensure!(status.success(), "sending from the namespace: {status}");
            Ok(())
        };
        send(1)?;
        let mut buf = [0u8; 16];
        let (_, from) = server.recv_from(&mut buf)?;
        assert_eq!(from.ip(), ns.addr, "the datagram came through the link");

        ns.set_loss(100)?;
        send(20)?;
        assert_eq!(ns.dropped()?.up, 20, "everything counted as dropped");
        ns.set_loss(0)?;
        assert_eq!(ns.dropped()?, Dropped::default(), "the rule was replaced");

        ns.limit_uplink(300)?;
        ns.unlimit_uplink()?;
        ns.link_down()?;
        ns.link_up()?;
        send(1)?;
        server.recv_from(&mut buf)?;

        drop(ns);
        let namespaces = run("ip", ["netns", "list"])?;
        assert!(!namespaces.contains(&name), "namespace {name} left behind");
        assert!(
            run("ip", ["link", "show", &root_if]).is_err(),
            "link {root_if} left behind"
        );
        let ip = lab.server_ip;
        drop(lab);
        let addrs = run("ip", ["-4", "-o", "addr", "show", "dev", "lo"])?;
        assert!(!addrs.contains(&format!(" {ip}/")), "{ip} left on lo");
        Ok(())
    }
}
