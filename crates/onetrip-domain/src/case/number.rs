//! Case numbers (办件编号): `{division}-{YYYYMMDD}-{sequence}`, e.g. `330106-20261121-000042`.

use std::fmt;

use jiff::civil::Date;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Localized;
use crate::identifiers::DivisionCode;

/// Largest daily sequence number.
const MAX_SEQ: u32 = 999_999;
/// Years a case number may carry.
const YEARS: std::ops::RangeInclusive<i16> = 1949..=9999;

/// A human-readable case number: the 6-digit division code of the accepting county (or city,
/// or province-level body), the date, and a daily sequence, `330106-20261121-000042`.
///
/// Public data (it identifies a case, not a person). Serialised as its text; ordered by
/// division, then date, then sequence (the same as by text).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseNumber {
    division: DivisionCode,
    date: Date,
    seq: u32,
}

impl CaseNumber {
    /// The number `seq` (1..=999999) of `date` in `division`; a 12-digit township or village
    /// code contributes its first 6 digits (its county).
    ///
    /// # Errors
    /// [`CaseNumberError::Sequence`] for a sequence out of range, [`CaseNumberError::Date`] for
    /// a year outside 1949–9999.
    pub fn new(
        division: &DivisionCode,
        date: Date,
        seq: u32,
    ) -> Result<CaseNumber, CaseNumberError> {
        if !(1..=MAX_SEQ).contains(&seq) {
            return Err(CaseNumberError::Sequence);
        }
        if !YEARS.contains(&date.year()) {
            return Err(CaseNumberError::Date);
        }
        let six = division.as_str().get(..6).unwrap_or_default();
        let division = DivisionCode::parse(six).map_err(|_| CaseNumberError::Division)?;
        Ok(CaseNumber {
            division,
            date,
            seq,
        })
    }

    /// Parses `330106-20261121-000042` (surrounding ASCII whitespace ignored).
    ///
    /// # Errors
    /// [`CaseNumberError::Format`] unless the text is 6 digits, `-`, 8 digits, `-`, 6 digits;
    /// then [`CaseNumberError::Division`], [`CaseNumberError::Date`] or
    /// [`CaseNumberError::Sequence`] for the part that is wrong.
    pub fn parse(input: &str) -> Result<CaseNumber, CaseNumberError> {
        let s = input.trim_ascii();
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        if b.len() != 22
            || b[6] != b'-'
            || b[15] != b'-'
            || !digits(0..6)
            || !digits(7..15)
            || !digits(16..22)
        {
            return Err(CaseNumberError::Format);
        }
        // All ASCII from here on, so byte slicing is on character boundaries.
        let part = |r: std::ops::Range<usize>| s.get(r).unwrap_or_default();
        let division = DivisionCode::parse(part(0..6)).map_err(|_| CaseNumberError::Division)?;
        let num = |r: std::ops::Range<usize>| part(r).parse::<i32>().unwrap_or(-1);
        let (year, month, day) = (num(7..11), num(11..13), num(13..15));
        let date = match (i16::try_from(year), i8::try_from(month), i8::try_from(day)) {
            (Ok(y), Ok(m), Ok(d)) => Date::new(y, m, d).map_err(|_| CaseNumberError::Date)?,
            _ => return Err(CaseNumberError::Date),
        };
        let seq = u32::try_from(num(16..22)).map_err(|_| CaseNumberError::Sequence)?;
        CaseNumber::new(&division, date, seq)
    }

    /// The 6-digit division code.
    pub fn division(&self) -> DivisionCode {
        self.division
    }

    /// The date.
    pub fn date(&self) -> Date {
        self.date
    }

    /// The daily sequence number.
    pub fn seq(&self) -> u32 {
        self.seq
    }
}

impl fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{:04}{:02}{:02}-{:06}",
            self.division,
            self.date.year(),
            self.date.month(),
            self.date.day(),
            self.seq
        )
    }
}

impl fmt::Debug for CaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CaseNumber")
            .field(&self.to_string())
            .finish()
    }
}

impl std::str::FromStr for CaseNumber {
    type Err = CaseNumberError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CaseNumber::parse(s)
    }
}

impl Serialize for CaseNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CaseNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        CaseNumber::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Why a text or parts are not a case number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CaseNumberError {
    /// Not `NNNNNN-YYYYMMDD-NNNNNN`.
    #[error("a case number has the form 330106-20261121-000042 (division, date, sequence)")]
    Format,
    /// The first part is not a division code.
    #[error("the first part of the case number is not a valid division code")]
    Division,
    /// The middle part is not a date (or its year is outside 1949–9999).
    #[error("the middle part of the case number is not a valid date (YYYYMMDD)")]
    Date,
    /// The sequence is not within 1–999999.
    #[error("the sequence number of a case number must be between 1 and 999999")]
    Sequence,
}

impl Localized for CaseNumberError {
    fn code(&self) -> &'static str {
        match self {
            CaseNumberError::Format => "case_number_format",
            CaseNumberError::Division => "case_number_division",
            CaseNumberError::Date => "case_number_date",
            CaseNumberError::Sequence => "case_number_sequence",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            CaseNumberError::Format => {
                "办件编号格式应为“行政区划代码-日期-序号”，例如 330106-20261121-000042（半角数字和连字符）"
                    .to_owned()
            }
            CaseNumberError::Division => "办件编号的前6位不是有效的行政区划代码".to_owned(),
            CaseNumberError::Date => "办件编号中间8位不是有效日期（年月日，如 20261121）".to_owned(),
            CaseNumberError::Sequence => "办件编号的序号应在 000001 至 999999 之间".to_owned(),
        }
    }

    fn message_en(&self) -> String {
        let text = self.to_string();
        let mut chars = text.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => text,
        }
    }
}
