//! What a meeting's owner can take away afterwards, made from what the meeting stored.

pub mod attendance;
