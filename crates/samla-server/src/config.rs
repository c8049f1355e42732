//! Server configuration (stub; being written).
#[derive(Debug, Clone)]
pub struct Config {
    pub public_url: String,
}
