//! Handling of bearer secrets (session ids, codes, tokens, client secrets): stored only as
//! digests and compared in constant time.
//!
//! Decisions:
//! - **Digest, not a password hash,** for secrets onetrip generates itself: they carry 256 bits
//!   of randomness, so a fast SHA-256 cannot be brute-forced, and token grants stay cheap.
//!   Secrets people choose (passwords) use Argon2id instead.

use sha2::{Digest, Sha256};

/// SHA-256 of `secret`, lower-case hex: the form in which bearer secrets are stored.
pub fn secret_digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `a` equals `b`, in time that depends only on the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_sha256_hex() {
        assert_eq!(
            secret_digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
