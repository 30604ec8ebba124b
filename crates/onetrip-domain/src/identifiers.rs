//! National identifiers: administrative division codes (GB/T 2260), resident ID numbers
//! (GB 11643), unified social credit codes (GB 32100) and electronic certificate identifiers
//! (GB/T 36904).
//!
//! Every type here follows "parse, don't validate": the only way to get a value is through a
//! parser that checks the whole structure, so holding a [`ResidentId`] means holding a
//! well-formed number. Parsers never panic, whatever the input (empty, multibyte, full-width,
//! emoji, megabytes long); they return an error that implements [`crate::Localized`] with a
//! stable code and a message in Chinese and English saying what is wrong and what to do.
//!
//! Common rules:
//! - Only surrounding ASCII whitespace is trimmed. Anything else that is not allowed, including
//!   full-width digits such as `３` and the ideographic space, is reported as an invalid
//!   character with its 1-based position (counted in characters) and a hint to switch to
//!   half-width input. Full-width input is never silently converted.
//! - Letters are accepted in lower case where the standard uses letters and are normalised to
//!   upper case (`x` → `X` at the end of a resident ID number, credit codes, certificate ids).
//!
//! Decisions:
//! - **15-digit resident ID numbers are refused** with code `resident_id_legacy_15`. They were
//!   replaced by 18-digit numbers by GB 11643-1999; every holder has had an 18-digit number for
//!   two decades, and accepting both forms would let one person appear under two identifiers.
//!   The error carries the 18-digit form computed by the standard upgrade rule (insert `19`
//!   before the two-digit year, append the check character) as a hint, when that form is
//!   itself valid.
//! - Resident ID numbers are personal data: their `Display` and `Debug` are masked
//!   (`110105********002X`), error messages never contain the number the user typed, and the
//!   full value is only available through the explicit [`ResidentId::expose`]. The one
//!   exception is the hint in `resident_id_legacy_15`, see [`ResidentIdError::Legacy15`].
//!   [`ResidentId`] deliberately does not implement serde: store `expose()` explicitly and
//!   parse it back with [`ResidentId::parse`]; for display use [`ResidentIdInfo`].
//! - Division codes are checked structurally (digits, a real province-level prefix, zero
//!   patterns), not against a list of codes in force: codes are abolished over time (Hangzhou's
//!   下城 330103 in 2021) and old resident ID numbers and credit codes keep them forever.
//! - The layout of the certificate identifier is *(unverified)* against the text of
//!   GB/T 36904; see [`CertificateId`].

/// Implements `Display`, `Debug`, `FromStr` and string serde (through `parse`) for an identifier
/// that is public data (not masked) and has `parse(&str) -> Result<Self, $err>` and `as_str()`.
macro_rules! public_text_identifier {
    ($ty:ident, $err:ident) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_tuple(stringify!($ty))
                    .field(&self.as_str())
                    .finish()
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $err;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                use $crate::Localized as _;
                let s = String::deserialize(deserializer)?;
                Self::parse(&s).map_err(|e| {
                    serde::de::Error::custom(format_args!("{}: {}", e.code(), e.message_en()))
                })
            }
        }
    };
}
pub(crate) use public_text_identifier;

mod certificate;
mod credit;
mod division;
mod resident;

pub use certificate::{
    CERTIFICATE_ID_PREFIX, CertificateId, CertificateIdError, CertificateIdInfo,
    iso7064_mod37_36_check_char, iso7064_mod37_36_is_valid,
};
pub use credit::{
    CreditCategory, CreditCode, CreditCodeError, CreditCodeInfo, RegisteringAuthority,
    credit_code_check_char, organisation_code_check_char,
};
pub use division::{DivisionCode, DivisionCodeError, DivisionLevel};
pub use resident::{ResidentId, ResidentIdError, ResidentIdInfo, Sex, resident_id_check_char};

/// Views bytes that the caller has checked to be ASCII as a `&str`.
fn ascii_str(bytes: &[u8]) -> &str {
    // Every caller passes bytes it has verified to be ASCII (digits, upper-case letters and
    // dots), and ASCII is always valid UTF-8, so the empty fallback is unreachable. It is
    // there only so that this function cannot panic even if that invariant were broken.
    std::str::from_utf8(bytes).unwrap_or("")
}

/// Whether `c` is a full-width form (`０`–`９`, `Ａ`–`Ｚ`, punctuation) or the ideographic space.
fn is_full_width(c: char) -> bool {
    matches!(c, '\u{FF01}'..='\u{FF5E}' | '\u{3000}')
}

/// A printable rendering of a character for messages (control characters escaped).
fn shown(c: char) -> String {
    c.escape_debug().to_string()
}

/// Chinese hint appended to invalid-character messages.
fn width_hint_zh(c: char) -> &'static str {
    if is_full_width(c) {
        "（这是全角字符，请切换到半角输入）"
    } else {
        ""
    }
}

/// English hint appended to invalid-character messages.
fn width_hint_en(c: char) -> &'static str {
    if is_full_width(c) {
        " (this is a full-width character: switch to half-width input)"
    } else {
        ""
    }
}
