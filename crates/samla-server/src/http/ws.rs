//! Signalling WebSocket (stub; being written).
