//! STUN messages (RFC 8489) as far as a TURN client needs them: building requests and
//! indications with MESSAGE-INTEGRITY (HMAC-SHA1) and FINGERPRINT, and parsing what a TURN
//! server sends back without trusting a byte of it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha1::Sha1;

/// Every STUN message since RFC 5389 carries this after its length; it also keys the XOR of
/// addresses.
pub(crate) const MAGIC_COOKIE: u32 = 0x2112_A442;
pub(crate) const HEADER_LEN: usize = 20;
/// FINGERPRINT is the CRC-32 XORed with this ("STUN"), so it differs from CRCs of other
/// protocols sharing the port.
const FINGERPRINT_XOR: u32 = 0x5354_554E;
/// The size of the MESSAGE-INTEGRITY attribute: header and the 20-byte HMAC-SHA1.
const INTEGRITY_ATTR_LEN: usize = 4 + 20;
/// The size of the FINGERPRINT attribute: header and the 4-byte CRC.
const FINGERPRINT_ATTR_LEN: usize = 4 + 4;

/// A STUN transaction id: 96 random bits that pair a response with its request.
pub(crate) type TransactionId = [u8; 12];

/// The four STUN message classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Request,
    Indication,
    Success,
    Error,
}

impl Class {
    fn bits(self) -> u16 {
        match self {
            Class::Request => 0b00,
            Class::Indication => 0b01,
            Class::Success => 0b10,
            Class::Error => 0b11,
        }
    }
}

/// STUN and TURN methods (RFC 8489, RFC 8656).
pub(crate) mod method {
    #[cfg(test)]
    pub const BINDING: u16 = 0x001;
    pub const ALLOCATE: u16 = 0x003;
    pub const REFRESH: u16 = 0x004;
    pub const SEND: u16 = 0x006;
    pub const DATA: u16 = 0x007;
    pub const CREATE_PERMISSION: u16 = 0x008;
    pub const CHANNEL_BIND: u16 = 0x009;
}

/// Attribute types used here.
pub(crate) mod attr {
    pub const USERNAME: u16 = 0x0006;
    pub const MESSAGE_INTEGRITY: u16 = 0x0008;
    pub const ERROR_CODE: u16 = 0x0009;
    pub const CHANNEL_NUMBER: u16 = 0x000C;
    pub const LIFETIME: u16 = 0x000D;
    pub const XOR_PEER_ADDRESS: u16 = 0x0012;
    pub const DATA: u16 = 0x0013;
    pub const REALM: u16 = 0x0014;
    pub const NONCE: u16 = 0x0015;
    pub const XOR_RELAYED_ADDRESS: u16 = 0x0016;
    pub const REQUESTED_TRANSPORT: u16 = 0x0019;
    pub const XOR_MAPPED_ADDRESS: u16 = 0x0020;
    #[cfg(test)]
    pub const SOFTWARE: u16 = 0x8022;
    pub const FINGERPRINT: u16 = 0x8028;
}

/// Why bytes are not a STUN message (or lack what was needed of one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StunError {
    #[error("shorter than a STUN header")]
    TooShort,
    #[error("not a STUN message (bad leading bits or magic cookie)")]
    NotStun,
    #[error("the STUN length field does not match the datagram")]
    BadLength,
    #[error("a STUN attribute runs past the end of the message")]
    TruncatedAttribute,
    #[error("a malformed {0} attribute")]
    BadAttribute(&'static str),
}

/// The key for long-term credentials: MD5 of `username:realm:password` (RFC 8489 §9.2.2).
/// The password is used as given: SASLprep leaves ASCII passwords alone, and TURN servers
/// are configured with those in practice.
pub(crate) fn long_term_key(username: &str, realm: &str, password: &str) -> [u8; 16] {
    let mut md5 = Md5::new();
    md5.update(username.as_bytes());
    md5.update(b":");
    md5.update(realm.as_bytes());
    md5.update(b":");
    md5.update(password.as_bytes());
    md5.finalize().into()
}

fn message_type(method: u16, class: Class) -> u16 {
    let c = class.bits();
    (method & 0x000F)
        | ((method & 0x0070) << 1)
        | ((method & 0x0F80) << 2)
        | ((c & 0b01) << 4)
        | ((c & 0b10) << 7)
}

fn split_type(t: u16) -> (u16, Class) {
    let method = (t & 0x000F) | ((t >> 1) & 0x0070) | ((t >> 2) & 0x0F80);
    let class = match ((t >> 4) & 1) | ((t >> 7) & 0b10) {
        0b00 => Class::Request,
        0b01 => Class::Indication,
        0b10 => Class::Success,
        _ => Class::Error,
    };
    (method, class)
}

/// The value of an XOR-…-ADDRESS attribute for `addr`.
fn xor_address_value(addr: SocketAddr, tid: &TransactionId) -> Vec<u8> {
    let cookie = MAGIC_COOKIE.to_be_bytes();
    let port = addr.port() ^ (MAGIC_COOKIE >> 16) as u16;
    let mut v = vec![0, 0];
    v.extend_from_slice(&port.to_be_bytes());
    match addr.ip() {
        IpAddr::V4(ip) => {
            v[1] = 0x01;
            v.extend(ip.octets().iter().zip(cookie).map(|(a, b)| a ^ b));
        }
        IpAddr::V6(ip) => {
            v[1] = 0x02;
            let key = cookie.iter().chain(tid.iter());
            v.extend(ip.octets().iter().zip(key).map(|(a, b)| a ^ b));
        }
    }
    v
}

/// A STUN message being built: attributes are appended in order, then integrity and
/// fingerprint, which cover everything before them.
pub(crate) struct MessageBuilder {
    buf: Vec<u8>,
    tid: TransactionId,
}

impl MessageBuilder {
    pub(crate) fn new(method: u16, class: Class, tid: TransactionId) -> Self {
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(&message_type(method, class).to_be_bytes());
        buf.extend_from_slice(&[0, 0]);
        buf.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        buf.extend_from_slice(&tid);
        Self { buf, tid }
    }

    /// Sets the header's length to what the message holds plus `extra` bytes to come.
    fn set_length(&mut self, extra: usize) {
        let len = (self.buf.len() - HEADER_LEN + extra) as u16;
        self.buf[2..4].copy_from_slice(&len.to_be_bytes());
    }

    pub(crate) fn attr(&mut self, typ: u16, value: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(&typ.to_be_bytes());
        self.buf
            .extend_from_slice(&(value.len() as u16).to_be_bytes());
        self.buf.extend_from_slice(value);
        let pad = (4 - value.len() % 4) % 4;
        self.buf.extend(std::iter::repeat_n(0, pad));
        self.set_length(0);
        self
    }

    pub(crate) fn xor_address(&mut self, typ: u16, addr: SocketAddr) -> &mut Self {
        let value = xor_address_value(addr, &self.tid);
        self.attr(typ, &value)
    }

    pub(crate) fn u32_attr(&mut self, typ: u16, value: u32) -> &mut Self {
        self.attr(typ, &value.to_be_bytes())
    }

    /// Appends MESSAGE-INTEGRITY: HMAC-SHA1 over the message so far, its length field
    /// already counting the integrity attribute (RFC 8489 §14.5).
    pub(crate) fn integrity(&mut self, key: &[u8]) -> &mut Self {
        self.set_length(INTEGRITY_ATTR_LEN);
        let mac = hmac_sha1(key, &[&self.buf]);
        self.attr(attr::MESSAGE_INTEGRITY, &mac)
    }

    /// Appends FINGERPRINT and returns the finished message.
    pub(crate) fn fingerprint(mut self) -> Vec<u8> {
        self.set_length(FINGERPRINT_ATTR_LEN);
        let crc = crc32(&[&self.buf]) ^ FINGERPRINT_XOR;
        self.attr(attr::FINGERPRINT, &crc.to_be_bytes());
        self.buf
    }
}

fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> [u8; 20] {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

fn crc32(parts: &[&[u8]]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    for p in parts {
        h.update(p);
    }
    h.finalize()
}

/// One attribute of a parsed message.
#[derive(Debug, Clone, Copy)]
struct Attribute<'a> {
    typ: u16,
    /// Where the attribute (its type field) starts in the message.
    offset: usize,
    value: &'a [u8],
}

/// A parsed STUN message, borrowing the datagram.
#[derive(Debug)]
pub(crate) struct Message<'a> {
    pub(crate) method: u16,
    pub(crate) class: Class,
    pub(crate) tid: TransactionId,
    raw: &'a [u8],
    attrs: Vec<Attribute<'a>>,
}

/// Whether `data` looks like STUN: the two leading bits are zero (RFC 7983 demultiplexing).
pub(crate) fn is_stun(data: &[u8]) -> bool {
    data.first().is_some_and(|b| *b < 4)
}

impl<'a> Message<'a> {
    pub(crate) fn parse(raw: &'a [u8]) -> Result<Self, StunError> {
        if raw.len() < HEADER_LEN {
            return Err(StunError::TooShort);
        }
        let typ = u16::from_be_bytes([raw[0], raw[1]]);
        let len = usize::from(u16::from_be_bytes([raw[2], raw[3]]));
        let cookie = u32::from_be_bytes([raw[4], raw[5], raw[6], raw[7]]);
        if typ & 0xC000 != 0 || cookie != MAGIC_COOKIE {
            return Err(StunError::NotStun);
        }
        if len % 4 != 0 || HEADER_LEN + len != raw.len() {
            return Err(StunError::BadLength);
        }
        let (method, class) = split_type(typ);
        let mut tid = [0u8; 12];
        tid.copy_from_slice(&raw[8..HEADER_LEN]);
        let mut attrs = Vec::new();
        let mut at = HEADER_LEN;
        while at < raw.len() {
            let header = raw.get(at..at + 4).ok_or(StunError::TruncatedAttribute)?;
            let typ = u16::from_be_bytes([header[0], header[1]]);
            let vlen = usize::from(u16::from_be_bytes([header[2], header[3]]));
            let value = raw
                .get(at + 4..at + 4 + vlen)
                .ok_or(StunError::TruncatedAttribute)?;
            attrs.push(Attribute {
                typ,
                offset: at,
                value,
            });
            at += 4 + vlen.div_ceil(4) * 4;
        }
        Ok(Self {
            method,
            class,
            tid,
            raw,
            attrs,
        })
    }

    /// The first attribute of type `typ` before MESSAGE-INTEGRITY (what follows it, other
    /// than FINGERPRINT, is not covered by it and is ignored, RFC 8489 §14.5).
    pub(crate) fn get(&self, typ: u16) -> Option<&'a [u8]> {
        self.attrs
            .iter()
            .take_while(|a| a.typ != attr::MESSAGE_INTEGRITY || typ == attr::MESSAGE_INTEGRITY)
            .find(|a| a.typ == typ)
            .map(|a| a.value)
    }

    pub(crate) fn get_str(&self, typ: u16) -> Option<&'a str> {
        std::str::from_utf8(self.get(typ)?).ok()
    }

    pub(crate) fn get_u32(&self, typ: u16) -> Option<u32> {
        let v: [u8; 4] = self.get(typ)?.try_into().ok()?;
        Some(u32::from_be_bytes(v))
    }

    /// Decodes an XOR-…-ADDRESS attribute; `None` when absent.
    pub(crate) fn xor_address(&self, typ: u16) -> Result<Option<SocketAddr>, StunError> {
        let Some(v) = self.get(typ) else {
            return Ok(None);
        };
        let bad = StunError::BadAttribute("address");
        if v.len() < 4 {
            return Err(bad);
        }
        let port = u16::from_be_bytes([v[2], v[3]]) ^ (MAGIC_COOKIE >> 16) as u16;
        let cookie = MAGIC_COOKIE.to_be_bytes();
        let ip = match (v[1], v.len()) {
            (0x01, 8) => {
                let mut o = [0u8; 4];
                for (i, b) in o.iter_mut().enumerate() {
                    *b = v[4 + i] ^ cookie[i];
                }
                IpAddr::V4(Ipv4Addr::from(o))
            }
            (0x02, 20) => {
                let mut o = [0u8; 16];
                let key: Vec<u8> = cookie.iter().chain(self.tid.iter()).copied().collect();
                for (i, b) in o.iter_mut().enumerate() {
                    *b = v[4 + i] ^ key[i];
                }
                IpAddr::V6(Ipv6Addr::from(o))
            }
            _ => return Err(bad),
        };
        Ok(Some(SocketAddr::new(ip, port)))
    }

    /// ERROR-CODE as (code, reason phrase).
    pub(crate) fn error_code(&self) -> Option<(u16, String)> {
        let v = self.get(attr::ERROR_CODE)?;
        if v.len() < 4 {
            return None;
        }
        let code = u16::from(v[2] & 0x07) * 100 + u16::from(v[3]);
        let reason = String::from_utf8_lossy(&v[4..]).trim().to_owned();
        Some((code, reason))
    }

    /// Whether MESSAGE-INTEGRITY is present and matches `key`.
    pub(crate) fn check_integrity(&self, key: &[u8]) -> bool {
        let Some(mi) = self.attrs.iter().find(|a| a.typ == attr::MESSAGE_INTEGRITY) else {
            return false;
        };
        let len = (mi.offset + INTEGRITY_ATTR_LEN - HEADER_LEN) as u16;
        let mut mac =
            <Hmac<Sha1> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
        mac.update(&self.raw[..2]);
        mac.update(&len.to_be_bytes());
        mac.update(&self.raw[4..mi.offset]);
        mac.verify_slice(mi.value).is_ok()
    }

    /// Whether FINGERPRINT is present, last, and matches.
    pub(crate) fn check_fingerprint(&self) -> bool {
        let Some(fp) = self.attrs.last().filter(|a| a.typ == attr::FINGERPRINT) else {
            return false;
        };
        let Ok(value) = <[u8; 4]>::try_from(fp.value) else {
            return false;
        };
        let len = (fp.offset + FINGERPRINT_ATTR_LEN - HEADER_LEN) as u16;
        let crc = crc32(&[&self.raw[..2], &len.to_be_bytes(), &self.raw[4..fp.offset]]);
        crc ^ FINGERPRINT_XOR == u32::from_be_bytes(value)
    }

    /// Whether the message carries a FINGERPRINT at all (one that is there must match).
    pub(crate) fn has_fingerprint(&self) -> bool {
        self.attrs.iter().any(|a| a.typ == attr::FINGERPRINT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(hex: &str) -> Vec<u8> {
        hex::decode(hex).expect("test vector hex")
    }

    /// RFC 5769 §2.1: a sample request with a short-term credential (ICE).
    const SAMPLE_REQUEST: &str = "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74002400046e0001ff80290008932ff9b151263b36000600096576746a3a68367659202020000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a280280004e57a3bcf";
    /// RFC 5769 §2.2: a sample IPv4 response (XOR-MAPPED-ADDRESS 192.0.2.1:32853).
    const SAMPLE_IPV4_RESPONSE: &str = "0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220002000080001a147e112a643000800142b91f599fd9e90c38c7489f92af9ba53f06be7d780280004c07d4c96";
    /// RFC 5769 §2.4: a sample request with long-term authentication.
    const SAMPLE_LONG_TERM: &str = "000100602112a44278ad3433c6ad72c029da412e00060012e3839ee38388e383aae38383e382afe382b900000015001c662f2f3439396b39353464364f4c33346f4c394653547679363473410014000b6578616d706c652e6f72670000080014f67024656dd64a3e02b8e0712e85c9a28ca89666";
    const SHORT_TERM_KEY: &[u8] = b"VOkJxbRl1RmTxUk/WvJxBt";

    #[test]
    fn rfc5769_sample_request_integrity_and_fingerprint() {
        let raw = vector(SAMPLE_REQUEST);
        let msg = Message::parse(&raw).unwrap();
        assert_eq!((msg.method, msg.class), (method::BINDING, Class::Request));
        assert_eq!(msg.get_str(attr::USERNAME), Some("evtj:h6vY"));
        assert_eq!(msg.get_str(attr::SOFTWARE), Some("STUN test client"));
        assert!(msg.check_integrity(SHORT_TERM_KEY));
        assert!(!msg.check_integrity(b"VOkJxbRl1RmTxUk/WvJxBu"));
        assert!(msg.check_fingerprint());
    }

    #[test]
    fn rfc5769_ipv4_response_address_integrity_and_fingerprint() {
        let raw = vector(SAMPLE_IPV4_RESPONSE);
        let msg = Message::parse(&raw).unwrap();
        assert_eq!((msg.method, msg.class), (method::BINDING, Class::Success));
        assert_eq!(
            msg.xor_address(attr::XOR_MAPPED_ADDRESS).unwrap(),
            Some("192.0.2.1:32853".parse().unwrap())
        );
        assert!(msg.check_integrity(SHORT_TERM_KEY));
        assert!(msg.check_fingerprint());
    }

    #[test]
    fn rfc5769_long_term_credentials() {
        let raw = vector(SAMPLE_LONG_TERM);
        let msg = Message::parse(&raw).unwrap();
        let username = msg.get_str(attr::USERNAME).unwrap();
        assert_eq!(username, "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}");
        let realm = msg.get_str(attr::REALM).unwrap();
        assert_eq!(realm, "example.org");
        assert_eq!(
            msg.get_str(attr::NONCE),
            Some("f//499k954d6OL34oL9FSTvy64sA")
        );
        // The vector's password "The<U+00AD>M<U+00AA>tr<U+2168>" after SASLprep.
        let key = long_term_key(username, realm, "TheMatrIX");
        assert!(msg.check_integrity(&key));
        assert!(!msg.check_integrity(&long_term_key(username, realm, "TheMatrix")));
    }

    #[test]
    fn what_we_build_verifies_and_a_flipped_bit_does_not() {
        let tid = [7u8; 12];
        let peer: SocketAddr = "[2001:db8::1]:5000".parse().unwrap();
        let mut b = MessageBuilder::new(method::CREATE_PERMISSION, Class::Request, tid);
        b.xor_address(attr::XOR_PEER_ADDRESS, peer)
            .attr(attr::USERNAME, b"user")
            .integrity(b"key");
        let raw = b.fingerprint();
        let msg = Message::parse(&raw).unwrap();
        assert_eq!(
            (msg.method, msg.class),
            (method::CREATE_PERMISSION, Class::Request)
        );
        assert_eq!(msg.xor_address(attr::XOR_PEER_ADDRESS).unwrap(), Some(peer));
        assert!(msg.check_integrity(b"key"));
        assert!(msg.check_fingerprint());
        let mut bad = raw.clone();
        bad[30] ^= 1;
        let msg = Message::parse(&bad).unwrap();
        assert!(!msg.check_integrity(b"key"));
        assert!(!msg.check_fingerprint());
    }

    #[test]
    fn every_class_and_method_round_trips_through_the_type_field() {
        for m in [
            method::BINDING,
            method::ALLOCATE,
            method::REFRESH,
            method::SEND,
            method::DATA,
            method::CREATE_PERMISSION,
            method::CHANNEL_BIND,
        ] {
            for c in [
                Class::Request,
                Class::Indication,
                Class::Success,
                Class::Error,
            ] {
                assert_eq!(split_type(message_type(m, c)), (m, c));
            }
        }
        // RFC 8656: an Allocate error response is 0x0113.
        assert_eq!(message_type(method::ALLOCATE, Class::Error), 0x0113);
    }

    #[test]
    fn garbage_is_refused_not_panicked_on() {
        let raw = vector(SAMPLE_REQUEST);
        for cut in 0..raw.len() {
            assert!(Message::parse(&raw[..cut]).is_err());
        }
        // An attribute length running past the end.
        let mut long = raw.clone();
        long[HEADER_LEN + 3] = 0xFF;
        assert_eq!(
            Message::parse(&long).unwrap_err(),
            StunError::TruncatedAttribute
        );
        assert!(!is_stun(&[0x80, 0, 0, 0]));
        assert_eq!(Message::parse(&[0x40; 24]).unwrap_err(), StunError::NotStun);
    }
}
