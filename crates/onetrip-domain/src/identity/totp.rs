//! Time-based one-time passwords (TOTP, RFC 6238) for staff: optional for every member of
//! staff, required for administrators.
//!
//! Decisions:
//! - **Parameters** are the ones every authenticator app understands: HMAC-SHA1, 30-second
//!   steps, 6 digits, a 20-byte secret shown as RFC 4648 base32 without padding.
//! - **Clock drift:** a code of the previous, current or next step is accepted (±30 s).
//! - **No replay:** [`TotpSecret::verify`] returns the step that matched; the caller stores it
//!   and passes it back as `last_used_step`, and a code of that step or an earlier one is
//!   refused, so an observed code cannot be used again.
//! - The secret's `Debug` does not show it.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use jiff::Timestamp;
use sha1::Sha1;

use crate::Localized;

/// Seconds per step.
pub const TOTP_STEP_SECS: i64 = 30;
/// Digits per code.
pub const TOTP_DIGITS: u32 = 6;
/// Bytes of a secret.
pub const TOTP_SECRET_BYTES: usize = 20;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A TOTP shared secret.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<secret>)")
    }
}

/// Why a TOTP code is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TotpRefusal {
    /// Not six digits, or not the code of a step near now.
    #[error("wrong authenticator code")]
    Wrong,
    /// The code of a step that was already used.
    #[error("authenticator code already used")]
    Replayed,
}

impl Localized for TotpRefusal {
    fn code(&self) -> &'static str {
        match self {
            Self::Wrong => "totp_wrong",
            Self::Replayed => "totp_replayed",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::Wrong => {
                "动态口令不正确：请输入身份验证器应用当前显示的6位数字，并检查手机时间是否准确"
                    .to_owned()
            }
            Self::Replayed => {
                "该动态口令已使用过：请等待身份验证器显示下一个口令后再输入".to_owned()
            }
        }
    }

    fn message_en(&self) -> String {
        match self {
            Self::Wrong => "Wrong authenticator code: enter the 6 digits your authenticator app \
                            shows now, and check that your phone's clock is right"
                .to_owned(),
            Self::Replayed => {
                "That authenticator code was already used: wait for the next one".to_owned()
            }
        }
    }
}

impl TotpSecret {
    /// A secret from random bytes drawn by the caller.
    pub fn from_bytes(bytes: [u8; TOTP_SECRET_BYTES]) -> TotpSecret {
        TotpSecret(bytes.to_vec())
    }

    /// Parses the base32 form (case-insensitive; spaces and padding ignored). `None` when it is
    /// not base32 or decodes to fewer than 10 bytes (RFC 4226 asks for at least 128 bits).
    pub fn from_base32(text: &str) -> Option<TotpSecret> {
        let mut bits: u64 = 0;
        let mut count = 0u32;
        let mut out = Vec::new();
        for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
            let c = c.to_ascii_uppercase();
            let value = BASE32.iter().position(|b| char::from(*b) == c)?;
            bits = (bits << 5) | value as u64;
            count += 5;
            if count >= 8 {
                count -= 8;
                out.push(((bits >> count) & 0xff) as u8);
            }
        }
        (out.len() >= 10).then_some(TotpSecret(out))
    }

    /// The base32 form, without padding, as authenticator apps show it.
    pub fn to_base32(&self) -> String {
        let mut out = String::new();
        let mut bits: u64 = 0;
        let mut count = 0u32;
        for byte in &self.0 {
            bits = (bits << 8) | u64::from(*byte);
            count += 8;
            while count >= 5 {
                count -= 5;
                out.push(char::from(BASE32[((bits >> count) & 31) as usize]));
            }
        }
        if count > 0 {
            out.push(char::from(BASE32[((bits << (5 - count)) & 31) as usize]));
        }
        out
    }

    /// The `otpauth://` URI for enrolling by QR code.
    pub fn provisioning_uri(&self, issuer: &str, account: &str) -> String {
        let enc = |s: &str| -> String {
            s.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        char::from(b).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect()
        };
        format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={TOTP_DIGITS}&period={TOTP_STEP_SECS}",
            enc(issuer),
            enc(account),
            self.to_base32(),
            enc(issuer)
        )
    }

    /// The code of one step.
    pub fn code_at_step(&self, step: i64) -> String {
        // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
        let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(&self.0) else {
            return String::new();
        };
        mac.update(&step.to_be_bytes());
        let digest = mac.finalize().into_bytes();
        let offset = usize::from(digest[digest.len() - 1] & 0x0f);
        let binary = (u32::from(digest[offset]) & 0x7f) << 24
            | u32::from(digest[offset + 1]) << 16
            | u32::from(digest[offset + 2]) << 8
            | u32::from(digest[offset + 3]);
        format!("{:06}", binary % 10u32.pow(TOTP_DIGITS))
    }

    /// Checks `code` at `now`, accepting the neighbouring steps, and refusing steps up to
    /// `last_used_step`. Returns the step that matched, to be stored as the new last used step.
    pub fn verify(
        &self,
        code: &str,
        now: Timestamp,
        last_used_step: Option<i64>,
    ) -> Result<i64, TotpRefusal> {
        let code = code.trim();
        if code.len() != TOTP_DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TotpRefusal::Wrong);
        }
        let current = now.as_second().div_euclid(TOTP_STEP_SECS);
        let mut replayed = false;
        for step in [current - 1, current, current + 1] {
            if crate::identity::constant_time_eq(
                self.code_at_step(step).as_bytes(),
                code.as_bytes(),
            ) {
                if last_used_step.is_some_and(|last| step <= last) {
                    replayed = true;
                    continue;
                }
                return Ok(step);
            }
        }
        Err(if replayed {
            TotpRefusal::Replayed
        } else {
            TotpRefusal::Wrong
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 column (8 digits there; the last 6 here).
    #[test]
    fn rfc_6238_vectors() {
        let secret = TotpSecret(b"12345678901234567890".to_vec());
        for (time, code8) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000i64, "65353130"),
        ] {
            assert_eq!(
                secret.code_at_step(time / TOTP_STEP_SECS),
                code8[2..],
                "{time}"
            );
        }
    }

    #[test]
    fn base32_round_trips_and_matches_rfc_4648() {
        let secret = TotpSecret(b"12345678901234567890".to_vec());
        assert_eq!(secret.to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            TotpSecret::from_base32("gezd gnbv gy3t qojq gezd gnbv gy3t qojq"),
            Some(secret)
        );
        assert_eq!(TotpSecret::from_base32("not base32 1!"), None);
        assert_eq!(TotpSecret::from_base32("GEZDGNBV"), None);
    }

    #[test]
    fn drift_and_replay() {
        let secret = TotpSecret::from_bytes([7; TOTP_SECRET_BYTES]);
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let step = now.as_second() / TOTP_STEP_SECS;
        let previous = secret.code_at_step(step - 1);
        assert_eq!(secret.verify(&previous, now, None), Ok(step - 1));
        assert_eq!(
            secret.verify(&secret.code_at_step(step + 1), now, None),
            Ok(step + 1)
        );
        assert_eq!(
            secret.verify(&secret.code_at_step(step - 2), now, None),
            Err(TotpRefusal::Wrong)
        );
        let current = secret.code_at_step(step);
        assert_eq!(
            secret.verify(&current, now, Some(step)),
            Err(TotpRefusal::Replayed)
        );
        assert_eq!(secret.verify("12345", now, None), Err(TotpRefusal::Wrong));
        assert_eq!(
            secret.verify("１２３４５６", now, None),
            Err(TotpRefusal::Wrong)
        );
        assert!(
            secret
                .provisioning_uri("onetrip 政务", "admin")
                .starts_with("otpauth://totp/onetrip%20%E6%94%BF%E5%8A%A1:admin?secret=")
        );
    }
}
