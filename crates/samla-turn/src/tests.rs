//! The client against a scripted server made of the same STUN code; the crate's
//! `tests/coturn.rs` runs it against a real coturn.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::stun::{attr, long_term_key, method, Class, Message, MessageBuilder};
use crate::{Event, Incoming, TurnClient, TurnConfig, TurnError};

const SERVER: &str = "192.0.2.10:3478";
const RELAY: &str = "192.0.2.10:50000";
const PEER: &str = "198.51.100.7:7700";
const REALM: &str = "samla.test";

fn server() -> SocketAddr {
    SERVER.parse().unwrap()
}

fn client(password: &str, now: Instant) -> TurnClient {
    TurnClient::new(
        TurnConfig {
            server: server(),
            username: "u".into(),
            password: password.into(),
        },
        now,
    )
}

fn key() -> [u8; 16] {
    long_term_key("u", REALM, "p")
}

/// The next request the client sends, as (method, transaction id, bytes).
fn next_request(c: &mut TurnClient) -> (u16, [u8; 12], Vec<u8>) {
    let t = c.poll_transmit().expect("a request");
    assert_eq!(t.destination, server());
    let msg = Message::parse(&t.contents).unwrap();
    assert_eq!(msg.class, Class::Request);
    assert!(msg.check_fingerprint());
    (msg.method, msg.tid, t.contents)
}

fn error(m: u16, tid: [u8; 12], code: u16, nonce: &str) -> Vec<u8> {
    let mut b = MessageBuilder::new(m, Class::Error, tid);
    let value = [0, 0, (code / 100) as u8, (code % 100) as u8];
    b.attr(attr::ERROR_CODE, &value)
        .attr(attr::REALM, REALM.as_bytes())
        .attr(attr::NONCE, nonce.as_bytes());
    b.fingerprint()
}

fn success(m: u16, tid: [u8; 12], key: &[u8], extra: impl FnOnce(&mut MessageBuilder)) -> Vec<u8> {
    let mut b = MessageBuilder::new(m, Class::Success, tid);
    extra(&mut b);
    b.integrity(key);
    b.fingerprint()
}

/// Runs the 401 dance and the Allocate; returns the allocated client.
fn allocated(now: Instant) -> TurnClient {
    let mut c = client("p", now);
    let (m, tid, _) = next_request(&mut c);
    assert_eq!(m, method::ALLOCATE);
    assert_eq!(
        c.handle_input(now, server(), &error(m, tid, 401, "n1")),
        Incoming::Consumed
    );
    let (m, tid, raw) = next_request(&mut c);
    assert_eq!(m, method::ALLOCATE);
    let msg = Message::parse(&raw).unwrap();
    assert_eq!(msg.get_str(attr::USERNAME), Some("u"));
    assert_eq!(msg.get_str(attr::NONCE), Some("n1"));
    assert!(msg.check_integrity(&key()));
    let ok = success(m, tid, &key(), |b| {
        b.xor_address(attr::XOR_RELAYED_ADDRESS, RELAY.parse().unwrap())
            .u32_attr(attr::LIFETIME, 600);
    });
    c.handle_input(now, server(), &ok);
    assert_eq!(
        c.poll_event(),
        Some(Event::Allocated {
            relay: RELAY.parse().unwrap(),
            mapped: None
        })
    );
    c
}

#[test]
fn allocates_after_the_401_challenge_and_refreshes_before_expiry() {
    let now = Instant::now();
    let mut c = allocated(now);
    assert_eq!(c.relay(), Some(RELAY.parse().unwrap()));
    let refresh_at = c.poll_timeout().unwrap();
    assert_eq!(refresh_at, now + Duration::from_secs(540));
    c.handle_timeout(refresh_at);
    let (m, tid, raw) = next_request(&mut c);
    assert_eq!(m, method::REFRESH);
    assert!(Message::parse(&raw).unwrap().check_integrity(&key()));
    c.handle_input(refresh_at, server(), &success(m, tid, &key(), |_| {}));
    assert_eq!(
        c.poll_timeout(),
        Some(refresh_at + Duration::from_secs(540))
    );
}

#[test]
fn wrong_credentials_fail_with_a_clear_error() {
    let now = Instant::now();
    let mut c = client("wrong", now);
    let (m, tid, _) = next_request(&mut c);
    c.handle_input(now, server(), &error(m, tid, 401, "n1"));
    let (m, tid, _) = next_request(&mut c);
    c.handle_input(now, server(), &error(m, tid, 401, "n1"));
    let Some(Event::Failed(err)) = c.poll_event() else {
        panic!("no failure")
    };
    assert_eq!(
        err,
        TurnError::Unauthorized {
            username: "u".into(),
            realm: REALM.into()
        }
    );
    assert!(err.to_string().contains("rejected our credentials"));
    assert_eq!(c.poll_timeout(), None);
    assert!(c.poll_transmit().is_none());
}

#[test]
fn a_stale_nonce_is_retried_with_the_new_one() {
    let now = Instant::now();
    let mut c = client("p", now);
    let (m, tid, _) = next_request(&mut c);
    c.handle_input(now, server(), &error(m, tid, 401, "n1"));
    let (m, tid, _) = next_request(&mut c);
    c.handle_input(now, server(), &error(m, tid, 438, "n2"));
    let (_, _, raw) = next_request(&mut c);
    let msg = Message::parse(&raw).unwrap();
    assert_eq!(msg.get_str(attr::NONCE), Some("n2"));
    assert!(msg.check_integrity(&key()));
    assert!(c.poll_event().is_none());
}

#[test]
fn a_success_without_our_integrity_is_ignored() {
    let now = Instant::now();
    let mut c = client("p", now);
    let (m, tid, _) = next_request(&mut c);
    c.handle_input(now, server(), &error(m, tid, 401, "n1"));
    let (m, tid, _) = next_request(&mut c);
    let forged = success(m, tid, b"not the key", |b| {
        b.xor_address(attr::XOR_RELAYED_ADDRESS, RELAY.parse().unwrap());
    });
    c.handle_input(now, server(), &forged);
    assert!(c.poll_event().is_none());
    assert_eq!(c.relay(), None);
}

#[test]
fn an_error_answer_to_allocate_fails_with_its_code() {
    let now = Instant::now();
    let mut c = client("p", now);
    let (m, tid, _) = next_request(&mut c);
    c.handle_input(now, server(), &error(m, tid, 401, "n1"));
    let (m, tid, _) = next_request(&mut c);
    c.handle_input(now, server(), &error(m, tid, 486, "n1"));
    assert_eq!(
        c.poll_event(),
        Some(Event::Failed(TurnError::Rejected {
            code: 486,
            reason: String::new()
        }))
    );
}

#[test]
fn an_unanswered_allocate_is_retransmitted_then_times_out() {
    let start = Instant::now();
    let mut c = client("p", start);
    let mut sends = 0;
    let mut now = start;
    while let Some(t) = c.poll_timeout() {
        while c.poll_transmit().is_some() {
            sends += 1;
        }
        now = t;
        c.handle_timeout(now);
    }
    assert_eq!(sends, 7);
    assert_eq!(now - start, Duration::from_millis(39_500));
    assert_eq!(c.poll_event(), Some(Event::Failed(TurnError::Timeout(7))));
}

#[test]
fn data_goes_by_send_indication_then_by_channel_both_ways() {
    let now = Instant::now();
    let mut c = allocated(now);
    let peer: SocketAddr = PEER.parse().unwrap();
    // No permission yet: dropped, and permission and channel asked for.
    assert_eq!(c.wrap(now, peer, b"first"), None);
    let mut perm = None;
    let mut bind = None;
    while let Some(t) = c.poll_transmit() {
        let msg = Message::parse(&t.contents).unwrap();
        assert!(msg.check_integrity(&key()));
        assert_eq!(
            msg.xor_address(attr::XOR_PEER_ADDRESS)
                .unwrap()
                .map(|a| a.ip()),
            Some(peer.ip())
        );
        match msg.method {
            method::CREATE_PERMISSION => perm = Some(msg.tid),
            method::CHANNEL_BIND => bind = Some(msg.tid),
            m => panic!("unexpected method {m:#x}"),
        }
    }
    c.handle_input(
        now,
        server(),
        &success(method::CREATE_PERMISSION, perm.unwrap(), &key(), |_| {}),
    );
    // Permission, no channel yet: a Send indication.
    let t = c.wrap(now, peer, b"second").unwrap();
    let msg = Message::parse(&t.contents).unwrap();
    assert_eq!((msg.method, msg.class), (method::SEND, Class::Indication));
    assert_eq!(msg.get(attr::DATA), Some(&b"second"[..]));
    assert_eq!(msg.xor_address(attr::XOR_PEER_ADDRESS).unwrap(), Some(peer));
    // A Data indication from the peer comes out as its payload.
    let mut b = MessageBuilder::new(method::DATA, Class::Indication, [3; 12]);
    b.xor_address(attr::XOR_PEER_ADDRESS, peer)
        .attr(attr::DATA, b"hello");
    let data = b.fingerprint();
    assert_eq!(
        c.handle_input(now, server(), &data),
        Incoming::Data {
            peer,
            relay: RELAY.parse().unwrap(),
            payload: b"hello"
        }
    );
    c.handle_input(
        now,
        server(),
        &success(method::CHANNEL_BIND, bind.unwrap(), &key(), |_| {}),
    );
    // Channel bound: ChannelData with 4 bytes of header.
    let t = c.wrap(now, peer, b"third").unwrap();
    assert_eq!(&t.contents[..4], &[0x40, 0x00, 0, 5]);
    assert_eq!(&t.contents[4..], b"third");
    let incoming = [0x40, 0x00, 0, 3, b'a', b'b', b'c', 0];
    assert_eq!(
        c.handle_input(now, server(), &incoming),
        Incoming::Data {
            peer,
            relay: RELAY.parse().unwrap(),
            payload: b"abc"
        }
    );
    // Cut short, or on a channel not ours: dropped, not misread.
    assert_eq!(
        c.handle_input(now, server(), &incoming[..5]),
        Incoming::Consumed
    );
    assert_eq!(
        c.handle_input(now, server(), &[0x40, 0x01, 0, 0]),
        Incoming::Consumed
    );
    // From anyone else: not ours.
    assert_eq!(c.handle_input(now, peer, &incoming), Incoming::NotTurn);
}

#[test]
fn a_refused_permission_is_reported_and_not_asked_for_again() {
    let now = Instant::now();
    let mut c = allocated(now);
    let peer: SocketAddr = PEER.parse().unwrap();
    assert_eq!(c.wrap(now, peer, b"x"), None);
    let mut perm = None;
    while let Some(t) = c.poll_transmit() {
        let msg = Message::parse(&t.contents).unwrap();
        if msg.method == method::CREATE_PERMISSION {
            perm = Some(msg.tid);
        }
    }
    c.handle_input(
        now,
        server(),
        &error(method::CREATE_PERMISSION, perm.unwrap(), 403, "n1"),
    );
    assert!(matches!(
        c.poll_event(),
        Some(Event::PermissionFailed {
            error: TurnError::Rejected { code: 403, .. },
            ..
        })
    ));
    assert_eq!(c.wrap(now, peer, b"y"), None);
    let again = std::iter::from_fn(|| c.poll_transmit())
        .filter(|t| Message::parse(&t.contents).unwrap().method == method::CREATE_PERMISSION)
        .count();
    assert_eq!(again, 0);
}

#[test]
fn random_bytes_from_the_server_never_panic() {
    let now = Instant::now();
    let mut c = allocated(now);
    let mut seed = 0x1234_5678_u32;
    for len in 0..300 {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (seed >> 16) as u8
            })
            .collect();
        let _ = c.handle_input(now, server(), &bytes);
        let mut stunish = bytes.clone();
        if stunish.len() >= 20 {
            stunish[0] = 0x01;
            stunish[4..8].copy_from_slice(&0x2112_A442_u32.to_be_bytes());
            let _ = c.handle_input(now, server(), &stunish);
        }
    }
    assert_eq!(c.relay(), Some(RELAY.parse().unwrap()));
}
