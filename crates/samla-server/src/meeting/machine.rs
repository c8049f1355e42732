//! The meeting's rules (stub; being written).
