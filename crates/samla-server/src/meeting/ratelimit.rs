//! Rate limiting of passcode guesses.
//!
//! A meeting passcode is short, so guessing must be slow: each (meeting, address) may get
//! [`MAX_FAILURES`] passcodes wrong in any sliding [`WINDOW_MS`]; after that it must wait
//! until the oldest of those failures leaves the window. Like the meeting machine, the
//! limiter is pure: the caller passes the time in.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use samla_protocol::MeetingId;

/// Wrong passcodes allowed per key within one window.
pub const MAX_FAILURES: usize = 5;

/// The sliding window, in milliseconds.
pub const WINDOW_MS: i64 = 60_000;

/// Most keys tracked at once. Past it, the key that failed least recently is forgotten, so
/// memory stays bounded even when many addresses guess at once.
const MAX_KEYS: usize = 65_536;

/// What the limiter counts failures per.
pub type PasscodeKey = (MeetingId, IpAddr);

/// Counts wrong passcodes per (meeting, address) in a sliding window.
#[derive(Debug, Default)]
pub struct PasscodeLimiter {
    /// The times of the last (at most [`MAX_FAILURES`]) failures per key, oldest first.
    /// Only the last few matter: a key is blocked while its [`MAX_FAILURES`]th-latest
    /// failure is still inside the window.
    failures: HashMap<PasscodeKey, VecDeque<i64>>,
    /// When stale keys were last swept out.
    swept_ms: i64,
}

/// The address as a limit applies to it. An IPv6 host usually owns a whole /64, so counting
/// per address would let it rotate addresses for free; IPv4-mapped addresses count as IPv4.
fn normalize(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(prefix.into())
        }
        v4 => v4,
    }
}

impl PasscodeLimiter {
    /// Whether `key` may try a passcode now; if not, `Err` holds the seconds until it may.
    pub fn check(&mut self, now_ms: i64, key: PasscodeKey) -> Result<(), u64> {
        let key = (key.0, normalize(key.1));
        let Some(times) = self.failures.get_mut(&key) else {
            return Ok(());
        };
        times.retain(|&t| now_ms - t < WINDOW_MS);
        if times.is_empty() {
            self.failures.remove(&key);
            return Ok(());
        }
        if times.len() < MAX_FAILURES {
            return Ok(());
        }
        let wait_ms = times[0] + WINDOW_MS - now_ms;
        Err(u64::try_from(wait_ms).unwrap_or(0).div_ceil(1000).max(1))
    }

    /// Counts a wrong passcode for `key`.
    pub fn record_failure(&mut self, now_ms: i64, key: PasscodeKey) {
        self.sweep(now_ms);
        let key = (key.0, normalize(key.1));
        if !self.failures.contains_key(&key) && self.failures.len() >= MAX_KEYS {
            self.forget_least_recent();
        }
        let times = self.failures.entry(key).or_default();
        if times.len() == MAX_FAILURES {
            times.pop_front();
        }
        times.push_back(now_ms);
    }

    /// A right passcode clears the key's failures: a person who finally typed it correctly
    /// should not be held back on their next join.
    pub fn record_success(&mut self, now_ms: i64, key: PasscodeKey) {
        self.failures.remove(&(key.0, normalize(key.1)));
        self.sweep(now_ms);
    }

    /// Drops keys with no failure inside the window, at most once per window so that the
    /// cost stays proportional to the traffic.
    fn sweep(&mut self, now_ms: i64) {
        if now_ms - self.swept_ms < WINDOW_MS {
            return;
        }
        self.swept_ms = now_ms;
        self.failures
            .retain(|_, times| times.back().is_some_and(|&t| now_ms - t < WINDOW_MS));
    }

    fn forget_least_recent(&mut self) {
        let oldest = self
            .failures
            .iter()
            .min_by_key(|(_, times)| times.back().copied())
            .map(|(key, _)| key.clone());
        if let Some(key) = oldest {
            self.failures.remove(&key);
        }
    }

    #[cfg(test)]
    fn tracked_keys(&self) -> usize {
        self.failures.len()
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    fn key(ip: &str) -> PasscodeKey {
        ("123456789".parse().unwrap(), ip.parse().unwrap())
    }

    fn fail(limiter: &mut PasscodeLimiter, now_ms: i64, ip: &str, times: usize) {
        for _ in 0..times {
            limiter.record_failure(now_ms, key(ip));
        }
    }

    #[test]
    fn five_wrong_passcodes_block_the_sixth_attempt_until_the_window_slides() {
        let mut limiter = PasscodeLimiter::default();
        for i in 0..5 {
            assert_eq!(limiter.check(i * 1000, key("10.0.0.1")), Ok(()));
            limiter.record_failure(i * 1000, key("10.0.0.1"));
        }
        // The first failure was at 0 s; it leaves the window at 60 s.
        assert_eq!(limiter.check(5_000, key("10.0.0.1")), Err(55));
        assert_eq!(limiter.check(59_500, key("10.0.0.1")), Err(1));
        assert_eq!(limiter.check(60_000, key("10.0.0.1")), Ok(()));
        // One more failure: the window now holds 1 s..5 s and 60 s again.
        limiter.record_failure(60_000, key("10.0.0.1"));
        assert_eq!(limiter.check(60_001, key("10.0.0.1")), Err(1));
        assert_eq!(limiter.check(61_000, key("10.0.0.1")), Ok(()));
    }

    #[test]
    fn four_failures_still_allow_a_try() {
        let mut limiter = PasscodeLimiter::default();
        fail(&mut limiter, 0, "10.0.0.1", 4);
        assert_eq!(limiter.check(1, key("10.0.0.1")), Ok(()));
    }

    #[test]
    fn limits_are_per_meeting_and_per_address() {
        let mut limiter = PasscodeLimiter::default();
        fail(&mut limiter, 0, "10.0.0.1", 5);
        assert!(limiter.check(1, key("10.0.0.1")).is_err());
        assert_eq!(limiter.check(1, key("10.0.0.2")), Ok(()));
        let other_meeting = ("987654321".parse().unwrap(), "10.0.0.1".parse().unwrap());
        assert_eq!(limiter.check(1, other_meeting), Ok(()));
    }

    #[test]
    fn a_right_passcode_resets_the_count() {
        let mut limiter = PasscodeLimiter::default();
        fail(&mut limiter, 0, "10.0.0.1", 4);
        limiter.record_success(1, key("10.0.0.1"));
        fail(&mut limiter, 2, "10.0.0.1", 4);
        assert_eq!(limiter.check(3, key("10.0.0.1")), Ok(()));
    }

    #[test]
    fn ipv6_addresses_in_one_64_share_a_limit() {
        let mut limiter = PasscodeLimiter::default();
        for i in 0..5u16 {
            let ip = Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, i);
            limiter.record_failure(0, ("123456789".parse().unwrap(), ip.into()));
        }
        assert!(limiter.check(1, key("2001:db8:0:1::ffff")).is_err());
        assert_eq!(limiter.check(1, key("2001:db8:0:2::1")), Ok(()));
    }

    #[test]
    fn ipv4_mapped_addresses_count_as_ipv4() {
        let mut limiter = PasscodeLimiter::default();
        fail(&mut limiter, 0, "::ffff:10.0.0.1", 5);
        assert!(limiter.check(1, key("10.0.0.1")).is_err());
    }

    #[test]
    fn stale_keys_are_swept_out() {
        let mut limiter = PasscodeLimiter::default();
        for i in 0..100u8 {
            limiter.record_failure(0, key(&Ipv4Addr::new(10, 0, 0, i).to_string()));
        }
        assert_eq!(limiter.tracked_keys(), 100);
        limiter.record_failure(WINDOW_MS, key("10.0.1.1"));
        assert_eq!(limiter.tracked_keys(), 1);
    }

    #[test]
    fn memory_stays_bounded_under_many_addresses() {
        let mut limiter = PasscodeLimiter::default();
        for i in 0..(MAX_KEYS as u32 + 10) {
            limiter.record_failure(i64::from(i % 1000), key(&Ipv4Addr::from(i).to_string()));
        }
        assert_eq!(limiter.tracked_keys(), MAX_KEYS);
    }
}
