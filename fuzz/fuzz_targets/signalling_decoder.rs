//! Feeds arbitrary bytes to the server's signalling decoder, as a hostile client could.
//! The decoder must never panic, and whatever it accepts must survive a round trip
//! (what the server would forward is what it understood).
#![no_main]

use libfuzzer_sys::fuzz_target;
use samla_protocol::ClientMessage;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return; // WebSocket text frames are UTF-8; the server rejects binary frames earlier.
    };
    if let Ok(msg) = ClientMessage::decode(text) {
        let again = ClientMessage::decode(&msg.encode()).expect("re-encoded message decodes");
        assert_eq!(again, msg);
    }
});
