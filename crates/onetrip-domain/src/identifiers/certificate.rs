//! GB/T 36904 electronic certificate identifiers (电子证照标识).
//!
//! The layout below is *(unverified)* against the text of GB/T 36904: it follows the project's
//! domain reference. The prefix is [`CERTIFICATE_ID_PREFIX`] and the check algorithm is exposed
//! on its own ([`iso7064_mod37_36_check_char`]) so that a correction stays local.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{CreditCode, CreditCodeError, shown, width_hint_en, width_hint_zh};
use crate::Localized;

/// The fixed object-identifier prefix of every certificate identifier *(unverified)*.
pub const CERTIFICATE_ID_PREFIX: &str = "1.2.156.3005.2";

/// Length of the type code: the issuing ministry's credit code and 3 digits.
const TYPE_CODE_LEN: usize = 21;
/// Longest serial number.
const SERIAL_MAX: usize = 32;
/// Longest version number, in digits.
const VERSION_MAX: usize = 4;
/// Longest identifier: prefix, type code, issuer, serial, version, check and five dots.
const MAX_LEN: usize =
    CERTIFICATE_ID_PREFIX.len() + TYPE_CODE_LEN + 18 + SERIAL_MAX + VERSION_MAX + 1 + 5;
/// Where the serial starts: after the prefix, the type code, the issuer and three dots.
const SERIAL_START: usize = CERTIFICATE_ID_PREFIX.len() + 1 + TYPE_CODE_LEN + 1 + 18 + 1;
/// The ISO/IEC 7064 MOD 37,36 alphabet, in value order.
const ALPHABET36: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Value of an alphanumeric byte: `0`–`9` → 0–9, `A`–`Z` (or `a`–`z`) → 10–35.
fn value36(b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => Some(u32::from(b - b'0')),
        b'A'..=b'Z' => Some(u32::from(b - b'A') + 10),
        b'a'..=b'z' => Some(u32::from(b - b'a') + 10),
        _ => None,
    }
}

/// One step of the ISO/IEC 7064 hybrid system with M = 36: `||p + v||_36`, where `||x||`
/// is `x mod 36` except that 0 becomes 36.
fn hybrid_s(p: u32, v: u32) -> u32 {
    match (p + v) % 36 {
        0 => 36,
        s => s,
    }
}

/// The ISO/IEC 7064 MOD 37,36 check character for `data` (characters `0-9A-Z`, lower case
/// accepted, no separators), or `None` if `data` contains anything else.
///
/// Hybrid system, M = 36: `P₁ = 36`; for each character `Sⱼ = ||Pⱼ + aⱼ||₃₆` (0 → 36) and
/// `Pⱼ₊₁ = 2·Sⱼ mod 37`; the check value `a` makes `||P + a||₃₆ = 1`, i.e. `a = (37 − P) mod 36`.
pub fn iso7064_mod37_36_check_char(data: &str) -> Option<char> {
    let mut p = 36u32;
    for b in data.bytes() {
        p = 2 * hybrid_s(p, value36(b)?) % 37;
    }
    // p is in 1..=36 (2·S mod 37 is never 0 for S in 1..=36), so 37 − p does not underflow.
    let a = (37 - p) % 36;
    ALPHABET36
        .get(usize::try_from(a).ok()?)
        .copied()
        .map(char::from)
}

/// Whether `data_with_check` (characters `0-9A-Z`, lower case accepted, check character last)
/// satisfies ISO/IEC 7064 MOD 37,36: running the recurrence over every character, the check
/// character included, ends with `S = 1`.
pub fn iso7064_mod37_36_is_valid(data_with_check: &str) -> bool {
    let mut p = 36u32;
    let mut s = 0u32;
    for b in data_with_check.bytes() {
        let Some(v) = value36(b) else {
            return false;
        };
        s = hybrid_s(p, v);
        p = 2 * s % 37;
    }
    s == 1
}

/// An electronic certificate identifier (GB/T 36904 电子证照标识):
/// `1.2.156.3005.2.<type code>.<issuer credit code>.<serial>.<version>.<check>`.
///
/// - type code: 21 characters, the issuing ministry's credit code (valid [`CreditCode`]) and
///   3 digits;
/// - issuer: the credit code of the issuing body (valid [`CreditCode`]);
/// - serial: 1–32 characters of `0-9A-Z`;
/// - version: 1–4 digits;
/// - check: ISO/IEC 7064 MOD 37,36 over everything before it with the dots removed.
///
/// The exact layout is *(unverified)* against the text of GB/T 36904. Lower case is accepted
/// and stored upper case. Serialised as a string, deserialised through
/// [`CertificateId::parse`].
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CertificateId {
    /// The whole identifier, upper case, ASCII.
    value: String,
    ministry: CreditCode,
    issuer: CreditCode,
    serial_len: usize,
    version: u16,
}

/// Checks a type code (upper case expected); returns the issuing ministry's credit code.
fn check_type_code(t: &str) -> Result<CreditCode, CertificateIdError> {
    if t.len() != TYPE_CODE_LEN || !t.is_ascii() {
        return Err(CertificateIdError::TypeCode);
    }
    let (ministry, number) = t.split_at(18);
    let ministry = CreditCode::parse(ministry).map_err(CertificateIdError::TypeCodeCreditCode)?;
    if !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CertificateIdError::TypeCode);
    }
    Ok(ministry)
}

/// Checks a serial number (upper case expected).
fn check_serial(serial: &str) -> Result<(), CertificateIdError> {
    let ok = (1..=SERIAL_MAX).contains(&serial.len())
        && serial
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase());
    if ok {
        Ok(())
    } else {
        Err(CertificateIdError::Serial)
    }
}

/// Checks a version number and returns its value.
fn check_version(version: &str) -> Result<u16, CertificateIdError> {
    if !(1..=VERSION_MAX).contains(&version.len()) || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CertificateIdError::Version);
    }
    version.parse().map_err(|_| CertificateIdError::Version)
}

impl CertificateId {
    /// Builds an identifier and computes its check character. `type_code` and `serial` may be
    /// lower case; `version` must be at most 9999.
    pub fn new(
        type_code: &str,
        issuer: &CreditCode,
        serial: &str,
        version: u16,
    ) -> Result<Self, CertificateIdError> {
        if version > 9999 {
            return Err(CertificateIdError::Version);
        }
        let type_code = type_code.to_ascii_uppercase();
        check_type_code(&type_code)?;
        let serial = serial.to_ascii_uppercase();
        check_serial(&serial)?;
        let body = format!("{CERTIFICATE_ID_PREFIX}.{type_code}.{issuer}.{serial}.{version}");
        let data: String = body.chars().filter(|&c| c != '.').collect();
        // Every part was checked to be alphanumeric, so there is always a check character.
        let check = iso7064_mod37_36_check_char(&data).ok_or(CertificateIdError::CheckFormat)?;
        Self::parse(&format!("{body}.{check}"))
    }

    /// Parses an identifier. Surrounding ASCII whitespace is ignored.
    pub fn parse(input: &str) -> Result<Self, CertificateIdError> {
        let s = input.trim_ascii();
        if s.is_empty() {
            return Err(CertificateIdError::Empty);
        }
        let mut value = String::with_capacity(s.len().min(MAX_LEN));
        for (i, ch) in s.chars().enumerate() {
            let up = ch.to_ascii_uppercase();
            if !(up.is_ascii_digit() || up.is_ascii_uppercase() || up == '.') {
                return Err(CertificateIdError::InvalidCharacter {
                    ch,
                    position: i + 1,
                });
            }
            if i >= MAX_LEN {
                return Err(CertificateIdError::TooLong {
                    len: s.chars().count(),
                });
            }
            value.push(up);
        }
        // Only ASCII from here on.
        let rest = value
            .strip_prefix(CERTIFICATE_ID_PREFIX)
            .and_then(|r| r.strip_prefix('.'))
            .ok_or(CertificateIdError::Prefix)?;
        let parts: Vec<&str> = rest.split('.').collect();
        let &[type_code, issuer, serial, version, check] = parts.as_slice() else {
            return Err(CertificateIdError::Segments {
                found: value.split('.').count(),
            });
        };
        let ministry = check_type_code(type_code)?;
        let issuer = CreditCode::parse(issuer).map_err(CertificateIdError::Issuer)?;
        check_serial(serial)?;
        let version = check_version(version)?;
        if check.len() != 1 {
            return Err(CertificateIdError::CheckFormat);
        }
        let serial_len = serial.len();
        let data: String = value[..value.len() - 1]
            .chars()
            .filter(|&c| c != '.')
            .collect();
        let expected = iso7064_mod37_36_check_char(&data).ok_or(CertificateIdError::CheckFormat)?;
        if !check.starts_with(expected) {
            return Err(CertificateIdError::Checksum { expected });
        }
        Ok(Self {
            value,
            ministry,
            issuer,
            serial_len,
            version,
        })
    }

    /// The identifier, upper case.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The type code (21 characters: ministry credit code + 3 digits).
    pub fn type_code(&self) -> &str {
        let start = CERTIFICATE_ID_PREFIX.len() + 1;
        self.value.get(start..start + TYPE_CODE_LEN).unwrap_or("")
    }

    /// The credit code of the ministry that defined the certificate type.
    pub fn issuing_ministry(&self) -> CreditCode {
        self.ministry
    }

    /// The 3-digit number of the certificate type within the ministry.
    pub fn type_number(&self) -> &str {
        self.type_code().get(18..).unwrap_or("")
    }

    /// The credit code of the body that issued this certificate.
    pub fn issuer(&self) -> CreditCode {
        self.issuer
    }

    /// The serial number.
    pub fn serial(&self) -> &str {
        self.value
            .get(SERIAL_START..SERIAL_START + self.serial_len)
            .unwrap_or("")
    }

    /// The version number.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// The check character.
    pub fn check_char(&self) -> char {
        self.value.chars().next_back().unwrap_or('0')
    }

    /// A serialisable description.
    pub fn info(&self) -> CertificateIdInfo {
        CertificateIdInfo {
            id: self.value.clone(),
            type_code: self.type_code().to_owned(),
            issuing_ministry: self.ministry,
            type_number: self.type_number().to_owned(),
            issuer: self.issuer,
            serial: self.serial().to_owned(),
            version: self.version,
        }
    }
}

crate::identifiers::public_text_identifier!(CertificateId, CertificateIdError);

/// A serialisable description of a certificate identifier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateIdInfo {
    /// The whole identifier.
    pub id: String,
    /// The type code (21 characters).
    pub type_code: String,
    /// The ministry that defined the certificate type.
    pub issuing_ministry: CreditCode,
    /// The 3-digit type number within the ministry.
    pub type_number: String,
    /// The body that issued the certificate.
    pub issuer: CreditCode,
    /// The serial number.
    pub serial: String,
    /// The version number.
    pub version: u16,
}

/// Why a string is not a certificate identifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertificateIdError {
    /// Nothing but whitespace. Code `certificate_id_empty`.
    Empty,
    /// A character other than `0-9`, `A-Z` and `.`. Code `certificate_id_invalid_character`.
    InvalidCharacter {
        /// The offending character.
        ch: char,
        /// 1-based position, counted in characters.
        position: usize,
    },
    /// Longer than any identifier can be. Code `certificate_id_too_long`.
    TooLong {
        /// Number of characters found.
        len: usize,
    },
    /// Does not start with `1.2.156.3005.2.`. Code `certificate_id_prefix`.
    Prefix,
    /// Not 10 dot-separated parts. Code `certificate_id_segments`.
    Segments {
        /// Number of parts found.
        found: usize,
    },
    /// The type code is not 18 + 3 characters ending in 3 digits. Code
    /// `certificate_id_type_code`.
    TypeCode,
    /// The ministry credit code inside the type code is invalid. Code
    /// `certificate_id_type_code_credit_code`.
    TypeCodeCreditCode(CreditCodeError),
    /// The issuer credit code is invalid. Code `certificate_id_issuer`.
    Issuer(CreditCodeError),
    /// The serial is not 1–32 characters of `0-9A-Z`. Code `certificate_id_serial`.
    Serial,
    /// The version is not 1–4 digits. Code `certificate_id_version`.
    Version,
    /// The check part is not a single character. Code `certificate_id_check_format`.
    CheckFormat,
    /// The check character does not match. Code `certificate_id_checksum`.
    Checksum {
        /// The check character the rest calls for.
        expected: char,
    },
}

impl Localized for CertificateIdError {
    fn code(&self) -> &'static str {
        match self {
            Self::Empty => "certificate_id_empty",
            Self::InvalidCharacter { .. } => "certificate_id_invalid_character",
            Self::TooLong { .. } => "certificate_id_too_long",
            Self::Prefix => "certificate_id_prefix",
            Self::Segments { .. } => "certificate_id_segments",
            Self::TypeCode => "certificate_id_type_code",
            Self::TypeCodeCreditCode(_) => "certificate_id_type_code_credit_code",
            Self::Issuer(_) => "certificate_id_issuer",
            Self::Serial => "certificate_id_serial",
            Self::Version => "certificate_id_version",
            Self::CheckFormat => "certificate_id_check_format",
            Self::Checksum { .. } => "certificate_id_checksum",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::Empty => "电子证照标识为空：请输入完整的证照标识".to_owned(),
            Self::InvalidCharacter { ch, position } => format!(
                "电子证照标识第{position}位的字符 '{}' 无效：只能使用数字、大写字母和点号{}",
                shown(*ch),
                width_hint_zh(*ch)
            ),
            Self::TooLong { len } => format!(
                "电子证照标识过长（{len}个字符，最多{MAX_LEN}个）：请检查是否粘贴了多余内容"
            ),
            Self::Prefix => {
                format!("电子证照标识应以 {CERTIFICATE_ID_PREFIX}. 开头：请核对是否为电子证照标识")
            }
            Self::Segments { found } => format!(
                "电子证照标识应由点号分隔为10段（前缀5段、证照类型代码、颁发机构代码、顺序号、\
                 版本号、校验位），实际为{found}段"
            ),
            Self::TypeCode => "证照类型代码应为21位：18位统一社会信用代码加3位数字".to_owned(),
            Self::TypeCodeCreditCode(e) => format!(
                "证照类型代码中的统一社会信用代码（前18位）无效：{}",
                e.message_zh()
            ),
            Self::Issuer(e) => format!("颁发机构的统一社会信用代码无效：{}", e.message_zh()),
            Self::Serial => {
                format!("证照顺序号应为1–{SERIAL_MAX}位数字或大写字母：请核对顺序号")
            }
            Self::Version => "版本号应为1–4位数字（0–9999）：请核对版本号".to_owned(),
            Self::CheckFormat => "校验位应为最后一个点号后的1位数字或字母".to_owned(),
            Self::Checksum { expected } => format!(
                "校验位错误：最后一位应为 {expected}。如果校验位无误，则前面有输错的字符，请逐位核对"
            ),
        }
    }

    fn message_en(&self) -> String {
        match self {
            Self::Empty => {
                "the certificate identifier is empty: enter the whole identifier".to_owned()
            }
            Self::InvalidCharacter { ch, position } => format!(
                "character '{}' at position {position} of the certificate identifier is not \
                 allowed: use digits, capital letters and dots{}",
                shown(*ch),
                width_hint_en(*ch)
            ),
            Self::TooLong { len } => format!(
                "the certificate identifier is too long ({len} characters, at most {MAX_LEN}): \
                 check for pasted extra text"
            ),
            Self::Prefix => format!(
                "a certificate identifier starts with {CERTIFICATE_ID_PREFIX}.: check that this \
                 is a certificate identifier"
            ),
            Self::Segments { found } => format!(
                "a certificate identifier has 10 dot-separated parts (5 of prefix, type code, \
                 issuer code, serial, version, check), this one has {found}"
            ),
            Self::TypeCode => "the certificate type code must be 21 characters: an 18-character \
                               credit code followed by 3 digits"
                .to_owned(),
            Self::TypeCodeCreditCode(e) => format!(
                "the credit code in the certificate type code (first 18 characters) is not \
                 valid: {}",
                e.message_en()
            ),
            Self::Issuer(e) => {
                format!("the issuer's credit code is not valid: {}", e.message_en())
            }
            Self::Serial => format!(
                "the certificate serial must be 1–{SERIAL_MAX} digits or capital letters: check \
                 the serial"
            ),
            Self::Version => {
                "the version must be 1–4 digits (0–9999): check the version".to_owned()
            }
            Self::CheckFormat => {
                "the check part after the last dot must be a single digit or letter".to_owned()
            }
            Self::Checksum { expected } => format!(
                "check character is wrong: the last character should be {expected}; if it is \
                 right, an earlier character is mistyped, check them one by one"
            ),
        }
    }
}

impl fmt::Display for CertificateIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_en())
    }
}

impl std::error::Error for CertificateIdError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::TypeCodeCreditCode(e) | Self::Issuer(e) => Some(e),
            _ => None,
        }
    }
}
