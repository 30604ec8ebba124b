//! GB 11643 citizen identity numbers (公民身份号码).

use std::fmt;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::division::DivisionCodeError;
use super::{DivisionCode, ascii_str, shown, width_hint_en, width_hint_zh};
use crate::Localized;

/// Weights of the first 17 characters (2^(18−i) mod 11).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character indexed by the weighted sum mod 11.
const CHECK_CHARS: [u8; 11] = *b"10X98765432";
/// Earliest accepted date of birth.
const EARLIEST_BIRTH: Date = Date::constant(1900, 1, 1);

/// Check character of 17 bytes known to be ASCII digits.
fn check_of(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d.wrapping_sub(b'0')) * w)
        .sum();
    // `sum % 11` is below 11, the length of the table.
    CHECK_CHARS[(sum % 11) as usize]
}

/// The check character (`0`–`9` or `X`) for the first 17 digits of a resident ID number, or
/// `None` unless `first17` is exactly 17 ASCII digits. Does not check the division or the date;
/// meant for data generators and the 15 → 18 upgrade.
pub fn resident_id_check_char(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(char::from(check_of(b)))
}

/// Parses `len` ASCII digits as a number (the caller guarantees digits and `len <= 4`).
fn number(b: &[u8]) -> i16 {
    b.iter()
        .fold(0i16, |n, d| n * 10 + i16::from(d.wrapping_sub(b'0')))
}

/// Sex, from the parity of the sequence number (odd = male).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// 男 (odd sequence number).
    Male,
    /// 女 (even sequence number).
    Female,
}

impl Sex {
    /// Chinese name.
    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Male => "男",
            Self::Female => "女",
        }
    }

    /// English name.
    pub fn name_en(self) -> &'static str {
        match self {
            Self::Male => "male",
            Self::Female => "female",
        }
    }
}

/// A citizen identity number (GB 11643 公民身份号码): 6-digit division code + date of birth
/// `YYYYMMDD` + 3-digit sequence (odd = male) + check character (`0`–`9` or `X`).
///
/// **Personal data.** `Display` and `Debug` show the masked form `110105********002X`; the full
/// number comes only from [`ResidentId::expose`]. No serde implementation on purpose (see the
/// module documentation); use [`ResidentId::info`] for a serialisable, masked view.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResidentId {
    /// 18 ASCII characters: 17 digits and a digit or `X`.
    value: [u8; 18],
    division: DivisionCode,
    birth_date: Date,
    sex: Sex,
}

impl ResidentId {
    /// Parses an 18-character resident ID number as of `today` (dates of birth after `today`
    /// are refused). Surrounding ASCII whitespace is ignored; a final `x` becomes `X`.
    ///
    /// The division code is checked structurally only (old, abolished codes are valid).
    /// 15-digit numbers are refused with [`ResidentIdError::Legacy15`].
    pub fn parse(input: &str, today: Date) -> Result<Self, ResidentIdError> {
        let s = input.trim_ascii();
        if s.is_empty() {
            return Err(ResidentIdError::Empty);
        }
        if let Some((i, ch)) = s
            .chars()
            .enumerate()
            .find(|&(i, c)| !(c.is_ascii_digit() || (i == 17 && matches!(c, 'X' | 'x'))))
        {
            return Err(ResidentIdError::InvalidCharacter {
                ch,
                position: i + 1,
            });
        }
        // Only ASCII from here on, so byte indices are character indices.
        let b = s.as_bytes();
        let mut value = [0u8; 18];
        match b.len() {
            18 => value.copy_from_slice(b),
            15 => return Err(Self::legacy(b, today)),
            len => return Err(ResidentIdError::WrongLength { len }),
        }
        value[17] = value[17].to_ascii_uppercase();

        let division = DivisionCode::from_ascii_digits(&value[..6])
            .map_err(ResidentIdError::InvalidDivision)?;
        // Year fits in i16 (4 digits), month and day in i8 (2 digits each).
        let year = number(&value[6..10]);
        let month = i8::try_from(number(&value[10..12])).unwrap_or(0);
        let day = i8::try_from(number(&value[12..14])).unwrap_or(0);
        let birth_date =
            Date::new(year, month, day).map_err(|_| ResidentIdError::InvalidBirthDate)?;
        if birth_date < EARLIEST_BIRTH {
            return Err(ResidentIdError::BirthDateTooEarly);
        }
        if birth_date > today {
            return Err(ResidentIdError::BirthDateInFuture);
        }
        let expected = check_of(&value[..17]);
        if value[17] != expected {
            return Err(ResidentIdError::Checksum {
                expected: char::from(expected),
            });
        }
        // ASCII '0' is even, so the parity of the byte is the parity of the digit.
        let sex = if value[16] % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        };
        Ok(Self {
            value,
            division,
            birth_date,
            sex,
        })
    }

    /// The refusal of a 15-digit number (`b` is 15 ASCII digits), with the upgraded form.
    fn legacy(b: &[u8], today: Date) -> ResidentIdError {
        let mut up = [0u8; 18];
        up[..6].copy_from_slice(&b[..6]);
        up[6..8].copy_from_slice(b"19");
        up[8..17].copy_from_slice(&b[6..15]);
        up[17] = check_of(&up[..17]);
        ResidentIdError::Legacy15 {
            upgraded: Self::parse(ascii_str(&up), today).ok(),
        }
    }

    /// The full number. Personal data: call only where the full value is really needed
    /// (storage, matching against a registry), never for logs.
    pub fn expose(&self) -> &str {
        ascii_str(&self.value)
    }

    /// The masked form: first 6 and last 4 characters, `*` in between (`110105********002X`).
    pub fn masked(&self) -> String {
        let mut s = String::with_capacity(18);
        s.push_str(ascii_str(&self.value[..6]));
        s.push_str("********");
        s.push_str(ascii_str(&self.value[14..]));
        s
    }

    /// The division code of the place of first registration (may be abolished since).
    pub fn division(&self) -> DivisionCode {
        self.division
    }

    /// The date of birth.
    pub fn birth_date(&self) -> Date {
        self.birth_date
    }

    /// The sex encoded in the sequence number.
    pub fn sex(&self) -> Sex {
        self.sex
    }

    /// Age in completed years (周岁) on `date`: it goes up on the birthday itself (for a
    /// 29 February birthday, on 1 March in common years). Negative if `date` is before the
    /// date of birth.
    pub fn age_on(&self, date: Date) -> i16 {
        let birth = self.birth_date;
        // Years are within ±9999, so the difference fits in i16.
        let mut age = date.year() - birth.year();
        if (date.month(), date.day()) < (birth.month(), birth.day()) {
            age -= 1;
        }
        age
    }

    /// A serialisable view without the full number.
    pub fn info(&self) -> ResidentIdInfo {
        ResidentIdInfo {
            masked: self.masked(),
            division: self.division,
            birth_date: self.birth_date,
            sex: self.sex,
        }
    }
}

impl fmt::Display for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ResidentId").field(&self.masked()).finish()
    }
}

/// What may be shown or sent about a resident ID number: the masked number and the decoded
/// fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidentIdInfo {
    /// The masked number, `110105********002X`.
    pub masked: String,
    /// Division code of first registration.
    pub division: DivisionCode,
    /// Date of birth.
    pub birth_date: Date,
    /// Sex.
    pub sex: Sex,
}

/// Why a string is not a resident ID number. Messages never contain the number itself, except
/// the upgrade hint of [`ResidentIdError::Legacy15`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResidentIdError {
    /// Nothing but whitespace. Code `resident_id_empty`.
    Empty,
    /// A character other than a digit (or `X` in 18th position). Code
    /// `resident_id_invalid_character`.
    InvalidCharacter {
        /// The offending character.
        ch: char,
        /// 1-based position, counted in characters.
        position: usize,
    },
    /// Neither 18 nor 15 characters. Code `resident_id_length`.
    WrongLength {
        /// Number of characters found.
        len: usize,
    },
    /// The first 6 digits are not a structurally valid division code. Code
    /// `resident_id_invalid_division`.
    InvalidDivision(DivisionCodeError),
    /// Digits 7–14 are not a real calendar date. Code `resident_id_invalid_birth_date`.
    InvalidBirthDate,
    /// The date of birth is before 1900-01-01. Code `resident_id_birth_date_too_early`.
    BirthDateTooEarly,
    /// The date of birth is after today. Code `resident_id_birth_date_in_future`.
    BirthDateInFuture,
    /// The check character does not match. Code `resident_id_checksum`.
    Checksum {
        /// The check character the first 17 digits call for.
        expected: char,
    },
    /// A 15-digit number of the pre-1999 form. Code `resident_id_legacy_15`.
    ///
    /// `message_zh` and `message_en` show the full upgraded number, because they are meant
    /// for the person who typed it; `Display` and `Debug` mask it.
    Legacy15 {
        /// The 18-digit number by the standard upgrade rule, if that number is valid.
        upgraded: Option<ResidentId>,
    },
}

impl ResidentIdError {
    fn legacy_en(upgraded: Option<String>) -> String {
        let mut m = "15-digit resident ID numbers were replaced by 18-digit ones in 1999: enter \
                     the 18-digit number"
            .to_owned();
        if let Some(u) = upgraded {
            m.push_str(&format!(" (by the standard upgrade rule it is {u})"));
        }
        m
    }
}

impl Localized for ResidentIdError {
    fn code(&self) -> &'static str {
        match self {
            Self::Empty => "resident_id_empty",
            Self::InvalidCharacter { .. } => "resident_id_invalid_character",
            Self::WrongLength { .. } => "resident_id_length",
            Self::InvalidDivision(_) => "resident_id_invalid_division",
            Self::InvalidBirthDate => "resident_id_invalid_birth_date",
            Self::BirthDateTooEarly => "resident_id_birth_date_too_early",
            Self::BirthDateInFuture => "resident_id_birth_date_in_future",
            Self::Checksum { .. } => "resident_id_checksum",
            Self::Legacy15 { .. } => "resident_id_legacy_15",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::Empty => "身份证号码为空：请输入18位公民身份号码".to_owned(),
            Self::InvalidCharacter { ch, position } => format!(
                "身份证号码第{position}位的字符 '{}' 无效：前17位只能是数字0–9，\
                 第18位可以是数字或 X{}",
                shown(*ch),
                width_hint_zh(*ch)
            ),
            Self::WrongLength { len } => {
                format!("身份证号码应为18位，实际为{len}位：请检查是否多输或漏输")
            }
            Self::InvalidDivision(e) => {
                format!("身份证号码前6位（行政区划代码）无效：{}", e.message_zh())
            }
            Self::InvalidBirthDate => {
                "身份证号码第7–14位（出生日期）不是真实存在的日期：请核对年、月、日".to_owned()
            }
            Self::BirthDateTooEarly => {
                "身份证号码中的出生日期早于1900年1月1日：请核对第7–14位".to_owned()
            }
            Self::BirthDateInFuture => "身份证号码中的出生日期晚于今天：请核对第7–14位".to_owned(),
            Self::Checksum { expected } => format!(
                "校验码错误：第18位应为 {expected}。如果第18位无误，则前17位中有输错的数字，\
                 请逐位核对"
            ),
            Self::Legacy15 { upgraded } => {
                let mut m = "15位身份证号码已于1999年起由18位号码取代：请输入18位号码".to_owned();
                if let Some(u) = upgraded {
                    m.push_str(&format!("（按国家标准升级后为 {}）", u.expose()));
                }
                m
            }
        }
    }

    fn message_en(&self) -> String {
        match self {
            Self::Empty => {
                "the resident ID number is empty: enter the 18-character number".to_owned()
            }
            Self::InvalidCharacter { ch, position } => format!(
                "character '{}' at position {position} of the resident ID number is not \
                 allowed: the first 17 characters must be digits 0–9 and the 18th a digit or \
                 X{}",
                shown(*ch),
                width_hint_en(*ch)
            ),
            Self::WrongLength { len } => format!(
                "a resident ID number has 18 characters, this one has {len}: check for missing \
                 or extra characters"
            ),
            Self::InvalidDivision(e) => format!(
                "the first 6 digits (division code) of the resident ID number are not valid: {}",
                e.message_en()
            ),
            Self::InvalidBirthDate => "digits 7–14 (date of birth) of the resident ID number are \
                                       not a real calendar date: check the year, month and day"
                .to_owned(),
            Self::BirthDateTooEarly => "the date of birth in the resident ID number is before \
                                        1900-01-01: check digits 7–14"
                .to_owned(),
            Self::BirthDateInFuture => "the date of birth in the resident ID number is in the \
                                        future: check digits 7–14"
                .to_owned(),
            Self::Checksum { expected } => format!(
                "check character is wrong: the 18th character should be {expected}; if it is \
                 right, one of the first 17 digits is mistyped, check them one by one"
            ),
            Self::Legacy15 { upgraded } => Self::legacy_en(upgraded.map(|u| u.expose().to_owned())),
        }
    }
}

impl fmt::Display for ResidentIdError {
    /// The English message, with the upgrade hint of `Legacy15` masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Legacy15 { upgraded } => {
                f.write_str(&Self::legacy_en(upgraded.map(|u| u.masked())))
            }
            other => f.write_str(&other.message_en()),
        }
    }
}

impl std::error::Error for ResidentIdError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidDivision(e) => Some(e),
            _ => None,
        }
    }
}
