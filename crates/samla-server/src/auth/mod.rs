//! Authentication (stub; being written).
