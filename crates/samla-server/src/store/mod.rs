//! Storage (stub; being written).
#[derive(Clone)]
pub struct Store;
