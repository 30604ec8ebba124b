//! Seal private keys encrypted at rest: SM4 (GB/T 32907) in GCM mode, as RFC 8998 specifies it
//! for TLS, under a key-encryption key (KEK) that comes from configuration, never from the
//! database. A stolen database or backup then holds no usable seal.
//!
//! Stored form: `sm4gcm:v1:` + base64 of the 12-byte random nonce, the ciphertext and the
//! 16-byte tag. The key id is the associated data, so a ciphertext copied onto another key's
//! row does not open.

use aes_gcm::AesGcm;
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Nonce, Payload};

/// SM4-GCM with a 96-bit nonce.
type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

/// Prefix of an encrypted value.
const PREFIX: &str = "sm4gcm:v1:";
/// Nonce length in bytes.
const NONCE_LEN: usize = 12;

/// Errors of key encryption.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KekError {
    /// The configured KEK is not 32 hexadecimal digits (128 bits).
    #[error("the key-encryption key must be 32 hexadecimal digits (128 bits)")]
    Malformed,
    /// The value is not in the `sm4gcm:v1:` form.
    #[error("not an encrypted key")]
    NotEncrypted,
    /// Wrong KEK, another key's ciphertext, or altered bytes.
    #[error("the key does not decrypt with this key-encryption key")]
    Undecryptable,
    /// The system's random number generator failed.
    #[error("no randomness for the nonce: {0}")]
    Random(String),
}

/// A key-encryption key. Its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct KeyEncryptionKey(Sm4Gcm);

impl std::fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyEncryptionKey(<secret>)")
    }
}

impl KeyEncryptionKey {
    /// The KEK from its 32 hexadecimal digits (surrounding whitespace ignored).
    pub fn from_hex(hex: &str) -> Result<KeyEncryptionKey, KekError> {
        let hex = hex.trim();
        if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(KekError::Malformed);
        }
        let mut key = [0u8; 16];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte =
                u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| KekError::Malformed)?;
        }
        Sm4Gcm::new_from_slice(&key)
            .map(KeyEncryptionKey)
            .map_err(|_| KekError::Malformed)
    }

    /// Encrypts `secret` (a private key's PEM) for the row of `key_id`.
    pub fn encrypt(&self, key_id: &str, secret: &str) -> Result<String, KekError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| KekError::Random(e.to_string()))?;
        self.encrypt_with_nonce(key_id, secret, nonce)
    }

    fn encrypt_with_nonce(
        &self,
        key_id: &str,
        secret: &str,
        nonce: [u8; NONCE_LEN],
    ) -> Result<String, KekError> {
        let sealed = self
            .0
            .encrypt(
                &Nonce::<Sm4Gcm>::from(nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: key_id.as_bytes(),
                },
            )
            .map_err(|_| KekError::Undecryptable)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", crate::base64_encode(&out)))
    }

    /// Decrypts what [`KeyEncryptionKey::encrypt`] made for the row of `key_id`.
    pub fn decrypt(&self, key_id: &str, stored: &str) -> Result<String, KekError> {
        let body = stored.strip_prefix(PREFIX).ok_or(KekError::NotEncrypted)?;
        let bytes = crate::base64_decode(body).map_err(|_| KekError::Undecryptable)?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(KekError::Undecryptable);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| KekError::Undecryptable)?;
        let plain = self
            .0
            .decrypt(
                &Nonce::<Sm4Gcm>::from(nonce),
                Payload {
                    msg: sealed,
                    aad: key_id.as_bytes(),
                },
            )
            .map_err(|_| KekError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| KekError::Undecryptable)
    }
}

/// Whether a stored private key is encrypted (rather than a plain PEM).
pub fn is_encrypted(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use aes_gcm::aead::Aead;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    const KEK: &str = "0123456789ABCDEFFEDCBA9876543210";

    #[test]
    fn sm4_gcm_matches_the_test_vector_of_rfc_8998() {
        // RFC 8998, appendix A.1 (SM4-GCM).
        let k = KeyEncryptionKey::from_hex(KEK).unwrap();
        let nonce: [u8; 12] = hex("00001234567800000000ABCD").try_into().unwrap();
        let plain = hex(
            "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB CCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD \
             EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFF EEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
        );
        let sealed =
            k.0.encrypt(
                &Nonce::<Sm4Gcm>::from(nonce),
                Payload {
                    msg: &plain,
                    aad: &hex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2"),
                },
            )
            .unwrap();
        assert_eq!(
            sealed,
            hex(
                "17F399F08C67D5EE19D0DC9969C4BB7D 5FD46FD3756489069157B282BB200735 \
                 D82710CA5C22F0CCFA7CBF93D496AC15 A56834CBCF98C397B4024A2691233B8D \
                 83DE3541E4C2B58177E065A9BF7B62EC"
            )
        );
    }

    #[test]
    fn a_key_opens_only_with_its_kek_and_on_its_own_row() {
        let k = KeyEncryptionKey::from_hex(KEK).unwrap();
        let stored = k
            .encrypt("dept-1-abcd", "-----BEGIN PRIVATE KEY-----")
            .unwrap();
        assert!(is_encrypted(&stored));
        assert!(!stored.contains("PRIVATE"));
        assert_eq!(
            k.decrypt("dept-1-abcd", &stored).unwrap(),
            "-----BEGIN PRIVATE KEY-----"
        );
        // Another row, another KEK, a plain PEM.
        assert_eq!(
            k.decrypt("dept-2-abcd", &stored),
            Err(KekError::Undecryptable)
        );
        let other = KeyEncryptionKey::from_hex("00000000000000000000000000000001").unwrap();
        assert_eq!(
            other.decrypt("dept-1-abcd", &stored),
            Err(KekError::Undecryptable)
        );
        assert_eq!(
            k.decrypt("dept-1-abcd", "-----BEGIN PRIVATE KEY-----"),
            Err(KekError::NotEncrypted)
        );
        // Two encryptions of one key differ (random nonces).
        assert_ne!(
            stored,
            k.encrypt("dept-1-abcd", "-----BEGIN PRIVATE KEY-----")
                .unwrap()
        );
        assert!(!format!("{k:?}").contains("0123"));
    }

    #[test]
    fn malformed_keks_are_refused() {
        for bad in [
            "",
            "0123",
            &"g".repeat(32),
            &"0".repeat(33),
            "０１２３456789ABCDEFFEDCBA98765432",
        ] {
            assert_eq!(
                KeyEncryptionKey::from_hex(bad).map(|_| ()),
                Err(KekError::Malformed),
                "{bad}"
            );
        }
        assert!(KeyEncryptionKey::from_hex(&format!(" {} ", KEK.to_lowercase())).is_ok());
    }

    proptest! {
        #[test]
        fn any_changed_byte_is_detected(secret in "[ -~]{1,200}", at in 0usize..1000, bit in 0u8..8) {
            let k = KeyEncryptionKey::from_hex(KEK).unwrap();
            let stored = k.encrypt("id", &secret).unwrap();
            let mut raw = crate::base64_decode(stored.strip_prefix(PREFIX).unwrap()).unwrap();
            let i = at % raw.len();
            raw[i] ^= 1 << bit;
            let altered = format!("{PREFIX}{}", crate::base64_encode(&raw));
            prop_assert_eq!(k.decrypt("id", &altered), Err(KekError::Undecryptable));
            prop_assert_eq!(k.decrypt("id", &stored).unwrap(), secret);
        }

        #[test]
        fn no_stored_text_makes_decryption_panic(text in ".{0,120}") {
            let k = KeyEncryptionKey::from_hex(KEK).unwrap();
            let _ = k.decrypt("id", &format!("{PREFIX}{text}"));
        }
    }
}
