//! API tokens: `samla_` followed by 32 random bytes in hex. The prefix lets secret scanners
//! and people recognise a leaked token; only its SHA-256 hash is stored.

use sha2::{Digest, Sha256};

const PREFIX: &str = "samla_";

/// A new random token, to show its owner once.
pub fn generate() -> String {
    format!("{PREFIX}{}", hex::encode(rand::random::<[u8; 32]>()))
}

/// What the database keeps of a token: its SHA-256, hex. A fast hash is enough because the
/// token itself has 256 random bits; there is nothing to guess.
pub fn hash(raw_token: &str) -> String {
    hex::encode(Sha256::digest(raw_token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_hash_stably() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert!(a.starts_with(PREFIX));
        assert_eq!(a.len(), PREFIX.len() + 64);
        assert_eq!(hash(&a), hash(&a));
        assert_ne!(hash(&a), hash(&b));
        assert!(!hash(&a).contains(&a[PREFIX.len()..]));
    }
}
