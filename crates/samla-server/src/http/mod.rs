//! HTTP routes (stub; being written).
pub mod ws;
