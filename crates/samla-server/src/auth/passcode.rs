//! Meeting passcodes, kept as Argon2id PHC strings. Passcodes are short and chosen by
//! people, so unlike API tokens they need a slow, salted hash. Both functions take tens of
//! milliseconds: call them from `spawn_blocking` on a busy server.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

#[derive(Debug, thiserror::Error)]
#[error("could not hash the passcode: {0}")]
pub struct HashError(argon2::password_hash::Error);

/// Hashes a passcode with a fresh random salt into a PHC string (`$argon2id$…`).
pub fn hash(passcode: &str) -> Result<String, HashError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(HashError)?;
    let phc = Argon2::default()
        .hash_password(passcode.as_bytes(), &salt)
        .map_err(HashError)?;
    Ok(phc.to_string())
}

/// Whether `given` is the passcode hashed in `phc`. A malformed `phc` never matches.
pub fn verify(phc: &str, given: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(given.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_only_the_right_passcode() {
        let phc = hash("1234").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify(&phc, "1234"));
        assert!(!verify(&phc, "12345"));
        assert!(!verify("not a phc string", "1234"));
        assert_ne!(hash("1234").unwrap(), phc, "salted");
    }
}
