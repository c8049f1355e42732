//! TURN over TCP or TLS (RFC 8656 §12.5, `turn:…?transport=tcp`, `turns:`): the messages that go in
//! datagrams over UDP follow each other in one byte stream, so the receiver finds where
//! each ends from its header, and ChannelData is padded to a multiple of four bytes (over
//! UDP the padding may be left out; over TCP it must be there, or the next message would
//! start mid-word).
//!
//! [`TurnClient`](crate::TurnClient) does not care how its messages travel: over TCP its
//! [`Transmit`](crate::Transmit)s go through [`for_stream`] onto the connection, and what
//! comes off the connection goes through [`StreamFramer`] into
//! [`TurnClient::handle_input`](crate::TurnClient::handle_input) one message at a time.

/// Length of a STUN message header; its bytes 2-3 give the length of what follows.
const STUN_HEADER: usize = 20;
/// Length of a ChannelData header: channel number, then the payload length.
const CHANNEL_HEADER: usize = 4;
/// The second word of every STUN message (RFC 8489 §5).
const MAGIC_COOKIE: [u8; 4] = [0x21, 0x12, 0xA4, 0x42];

/// The stream from the TURN server does not hold TURN messages: the connection is not to a
/// TURN server, or it lost bytes. Nothing after this can be trusted; the caller closes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the TURN server's TCP stream is not TURN (a message starting with {first_byte:#04x})")]
pub struct StreamError {
    pub first_byte: u8,
}

/// Splits the byte stream from a TURN server into whole messages.
#[derive(Debug, Default)]
pub struct StreamFramer {
    buf: Vec<u8>,
}

impl StreamFramer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends what was read from the connection.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole message (a STUN message, or ChannelData without its padding), `None`
    /// while it has not all arrived.
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, StreamError> {
        let Some(&first_byte) = self.buf.first() else {
            return Ok(None);
        };
        let Some(len) = self
            .buf
            .get(2..4)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        else {
            return Ok(None);
        };
        // The first byte tells them apart (RFC 7983): STUN starts with two zero bits, and its
        // bytes 4-7 are the magic cookie; ChannelData with its channel number, 0x4000-0x4FFF.
        let (message, padded) = match first_byte {
            0x00..=0x3F => {
                if self
                    .buf
                    .get(4..8)
                    .is_some_and(|cookie| cookie != MAGIC_COOKIE)
                {
                    return Err(StreamError { first_byte });
                }
                (STUN_HEADER + len, STUN_HEADER + len)
            }
            0x40..=0x4F => (
                CHANNEL_HEADER + len,
                (CHANNEL_HEADER + len).next_multiple_of(4),
            ),
            _ => return Err(StreamError { first_byte }),
        };
        if self.buf.len() < padded {
            return Ok(None);
        }
        let out = self.buf[..message].to_vec();
        self.buf.drain(..padded);
        Ok(Some(out))
    }
}

/// `contents` of a [`Transmit`](crate::Transmit) as it goes onto a TCP connection:
/// ChannelData padded to a multiple of four bytes, STUN messages (always whole words) as
/// they are.
pub fn for_stream(mut contents: Vec<u8>) -> Vec<u8> {
    if contents.first().is_some_and(|b| b >> 6 == 0b01) {
        contents.resize(contents.len().next_multiple_of(4), 0);
    }
    contents
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Binding request with `extra` bytes of attributes (zeros: only the length matters).
    fn stun(extra: u16) -> Vec<u8> {
        let mut m = vec![0x00, 0x01];
        m.extend_from_slice(&extra.to_be_bytes());
        m.extend_from_slice(&[0x21, 0x12, 0xA4, 0x42]);
        m.extend_from_slice(b"transaction!");
        m.extend(std::iter::repeat_n(0, usize::from(extra)));
        m
    }

    fn channel_data(payload: &[u8]) -> Vec<u8> {
        let mut m = vec![0x40, 0x00];
        m.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        m.extend_from_slice(payload);
        m
    }

    #[test]
    fn messages_split_anywhere_come_out_whole_and_in_order() {
        let sent = [
            stun(8),
            channel_data(b"hello"),
            stun(0),
            channel_data(b"rtp!"),
        ];
        let stream: Vec<u8> = sent.iter().cloned().flat_map(for_stream).collect();
        // Every way of cutting the stream in two, and byte by byte.
        for cut in 0..stream.len() {
            let mut framer = StreamFramer::new();
            let mut got = Vec::new();
            for part in [&stream[..cut], &stream[cut..]] {
                framer.push(part);
                while let Some(m) = framer.next_message().unwrap() {
                    got.push(m);
                }
            }
            assert_eq!(got, sent, "cut at {cut}");
        }
        let mut framer = StreamFramer::new();
        let mut got = Vec::new();
        for byte in &stream {
            framer.push(std::slice::from_ref(byte));
            while let Some(m) = framer.next_message().unwrap() {
                got.push(m);
            }
        }
        assert_eq!(got, sent);
    }

    #[test]
    fn channel_data_is_padded_to_whole_words_and_stun_is_left_alone() {
        assert_eq!(for_stream(channel_data(b"hello")).len(), 12);
        assert_eq!(for_stream(channel_data(b"rtp!")).len(), 8);
        assert_eq!(for_stream(stun(8)), stun(8));
    }

    #[test]
    fn a_stream_that_is_not_turn_is_an_error() {
        // An SSH server's greeting, and a TLS server's hello (a `turns:` port reached as
        // `turn:`).
        for (bytes, first_byte) in [
            (&b"SSH-2.0-OpenSSH_9.2p1\r\n"[..], b'S'),
            (
                &[0x16, 0x03, 0x03, 0x00, 0x7a, 0x02, 0x00, 0x00, 0x76][..],
                0x16,
            ),
        ] {
            let mut framer = StreamFramer::new();
            framer.push(bytes);
            assert_eq!(framer.next_message(), Err(StreamError { first_byte }));
        }
    }
}
