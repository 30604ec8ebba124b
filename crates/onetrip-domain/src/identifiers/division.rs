//! GB/T 2260 administrative division codes.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{ascii_str, shown, width_hint_en, width_hint_zh};
use crate::Localized;

/// The province-level codes of GB/T 2260 (first two digits of every division code).
const PROVINCE_CODES: [&[u8; 2]; 34] = [
    b"11", b"12", b"13", b"14", b"15", // 北京 天津 河北 山西 内蒙古
    b"21", b"22", b"23", // 辽宁 吉林 黑龙江
    b"31", b"32", b"33", b"34", b"35", b"36",
    b"37", // 上海 江苏 浙江 安徽 福建 江西 山东
    b"41", b"42", b"43", b"44", b"45", b"46", // 河南 湖北 湖南 广东 广西 海南
    b"50", b"51", b"52", b"53", b"54", // 重庆 四川 贵州 云南 西藏
    b"61", b"62", b"63", b"64", b"65", // 陕西 甘肃 青海 宁夏 新疆
    b"71", b"81", b"82", // 台湾 香港 澳门
];

/// An administrative division code (GB/T 2260 行政区划代码), 6 digits, or 12 digits for
/// townships and villages (6-digit code + 3-digit township + 3-digit village).
///
/// Checked structurally: digits only, a real province-level prefix, a 6-digit code whose city
/// part is `00` has county part `00`; a 12-digit code has a non-zero township part and sits
/// under a city or county. Whether the code is in force today is not checked (old codes stay
/// valid inside resident ID numbers and credit codes).
///
/// Public data: `Debug` and `Display` show the code. Serialised as a string, deserialised
/// through [`DivisionCode::parse`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DivisionCode {
    /// ASCII digits, zero-padded after `len` (padding bytes are `0`, not `b'0'`).
    digits: [u8; 12],
    /// 6 or 12.
    len: u8,
}

/// The level of a division code, from its trailing zeros.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DivisionLevel {
    /// 省级: `XX0000`.
    Province,
    /// 地级 (also 省直辖县级行政区划 groupings such as `429000`, and `339900`): `XXYY00`.
    City,
    /// 县级: `XXYYZZ`.
    County,
    /// 乡级: 12 digits ending in `000`.
    Township,
    /// 村级: 12 digits not ending in `000`.
    Village,
}

impl DivisionLevel {
    /// Chinese name of the level.
    pub fn name_zh(self) -> &'static str {
        match self {
            Self::Province => "省级",
            Self::City => "地级",
            Self::County => "县级",
            Self::Township => "乡级",
            Self::Village => "村级",
        }
    }

    /// English name of the level.
    pub fn name_en(self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::City => "city",
            Self::County => "county",
            Self::Township => "township",
            Self::Village => "village",
        }
    }
}

impl DivisionCode {
    /// Parses a 6- or 12-digit division code. Surrounding ASCII whitespace is ignored.
    pub fn parse(input: &str) -> Result<Self, DivisionCodeError> {
        let s = input.trim_ascii();
        if s.is_empty() {
            return Err(DivisionCodeError::Empty);
        }
        if let Some((i, ch)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(DivisionCodeError::InvalidCharacter {
                ch,
                position: i + 1,
            });
        }
        Self::from_ascii_digits(s.as_bytes())
    }

    /// Builds a code from bytes already known to be ASCII digits; checks length and structure.
    pub(crate) fn from_ascii_digits(b: &[u8]) -> Result<Self, DivisionCodeError> {
        if b.len() != 6 && b.len() != 12 {
            return Err(DivisionCodeError::WrongLength { len: b.len() });
        }
        let prefix = [b[0], b[1]];
        if !PROVINCE_CODES.contains(&&prefix) {
            return Err(DivisionCodeError::UnknownProvince {
                prefix: ascii_str(&prefix).to_owned(),
            });
        }
        if &b[2..4] == b"00" && &b[4..6] != b"00" {
            return Err(DivisionCodeError::CountyWithoutCity);
        }
        if b.len() == 12 {
            if &b[2..6] == b"0000" {
                return Err(DivisionCodeError::TownshipUnderProvince);
            }
            if &b[6..9] == b"000" {
                return Err(DivisionCodeError::ZeroTownship);
            }
        }
        let mut digits = [0u8; 12];
        digits[..b.len()].copy_from_slice(b);
        Ok(Self {
            digits,
            len: if b.len() == 12 { 12 } else { 6 },
        })
    }

    fn bytes(&self) -> &[u8] {
        &self.digits[..usize::from(self.len)]
    }

    /// The code as digits (6 or 12 characters).
    pub fn as_str(&self) -> &str {
        ascii_str(self.bytes())
    }

    /// The level, read from the trailing zeros.
    pub fn level(&self) -> DivisionLevel {
        let b = self.bytes();
        if b.len() == 12 {
            if &b[9..12] == b"000" {
                DivisionLevel::Township
            } else {
                DivisionLevel::Village
            }
        } else if &b[2..6] == b"0000" {
            DivisionLevel::Province
        } else if &b[4..6] == b"00" {
            DivisionLevel::City
        } else {
            DivisionLevel::County
        }
    }

    /// The enclosing division: county `330106` → `330100`, city `330100` (or `339900`) →
    /// `330000`, township `330106001000` → `330106`, village → its township, province → `None`.
    pub fn parent(&self) -> Option<DivisionCode> {
        let mut digits = self.digits;
        let len = match self.level() {
            DivisionLevel::Province => return None,
            DivisionLevel::City => {
                digits[2..6].copy_from_slice(b"0000");
                6
            }
            DivisionLevel::County => {
                digits[4..6].copy_from_slice(b"00");
                6
            }
            DivisionLevel::Township => {
                digits[6..12].copy_from_slice(&[0; 6]);
                6
            }
            DivisionLevel::Village => {
                digits[9..12].copy_from_slice(b"000");
                12
            }
        };
        Some(Self { digits, len })
    }

    /// The enclosing divisions, nearest first, ending with the province.
    pub fn ancestors(&self) -> impl Iterator<Item = DivisionCode> + use<> {
        std::iter::successors(self.parent(), DivisionCode::parent)
    }

    /// The province this division belongs to (itself for a province).
    pub fn province(&self) -> DivisionCode {
        let mut digits = [0u8; 12];
        digits[..2].copy_from_slice(&self.digits[..2]);
        digits[2..6].copy_from_slice(b"0000");
        Self { digits, len: 6 }
    }

    /// Whether `self` is `other` or lies inside it (`other` is one of its ancestors).
    pub fn is_within(&self, other: &DivisionCode) -> bool {
        self == other || self.ancestors().any(|a| a == *other)
    }
}

crate::identifiers::public_text_identifier!(DivisionCode, DivisionCodeError);

/// Why a string is not a division code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DivisionCodeError {
    /// Nothing but whitespace. Code `division_code_empty`.
    Empty,
    /// A character other than `0`–`9`. Code `division_code_invalid_character`.
    InvalidCharacter {
        /// The offending character.
        ch: char,
        /// 1-based position, counted in characters.
        position: usize,
    },
    /// Not 6 or 12 digits. Code `division_code_length`.
    WrongLength {
        /// Number of digits found.
        len: usize,
    },
    /// The first two digits are not a province-level code. Code `division_code_province`.
    UnknownProvince {
        /// The first two digits.
        prefix: String,
    },
    /// City part `00` with a non-zero county part. Code `division_code_county_without_city`.
    CountyWithoutCity,
    /// A 12-digit code with township part `000`. Code `division_code_township_zero`.
    ZeroTownship,
    /// A 12-digit code whose first six digits are a province. Code
    /// `division_code_township_under_province`.
    TownshipUnderProvince,
}

impl Localized for DivisionCodeError {
    fn code(&self) -> &'static str {
        match self {
            Self::Empty => "division_code_empty",
            Self::InvalidCharacter { .. } => "division_code_invalid_character",
            Self::WrongLength { .. } => "division_code_length",
            Self::UnknownProvince { .. } => "division_code_province",
            Self::CountyWithoutCity => "division_code_county_without_city",
            Self::ZeroTownship => "division_code_township_zero",
            Self::TownshipUnderProvince => "division_code_township_under_province",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::Empty => "行政区划代码为空：请输入6位或12位数字代码".to_owned(),
            Self::InvalidCharacter { ch, position } => format!(
                "行政区划代码第{position}位的字符 '{}' 无效：只能使用数字0–9{}",
                shown(*ch),
                width_hint_zh(*ch)
            ),
            Self::WrongLength { len } => {
                format!("行政区划代码应为6位或12位数字，实际为{len}位：请检查是否多输或漏输")
            }
            Self::UnknownProvince { prefix } => {
                format!("行政区划代码前两位 {prefix} 不是省级代码（例如浙江为33）：请核对代码")
            }
            Self::CountyWithoutCity => {
                "行政区划代码第3–4位为00时，第5–6位也必须为00：请核对代码".to_owned()
            }
            Self::ZeroTownship => "12位行政区划代码的第7–9位（乡级）不能为000：\
                                   县级及以上请使用6位代码"
                .to_owned(),
            Self::TownshipUnderProvince => "12位行政区划代码的前6位应为地级或县级代码，\
                                            不能是省级代码：请核对代码"
                .to_owned(),
        }
    }

    fn message_en(&self) -> String {
        match self {
            Self::Empty => "the division code is empty: enter a 6- or 12-digit code".to_owned(),
            Self::InvalidCharacter { ch, position } => format!(
                "character '{}' at position {position} of the division code is not allowed: \
                 use only the digits 0–9{}",
                shown(*ch),
                width_hint_en(*ch)
            ),
            Self::WrongLength { len } => format!(
                "a division code has 6 or 12 digits, this one has {len}: check for missing or \
                 extra digits"
            ),
            Self::UnknownProvince { prefix } => format!(
                "the first two digits {prefix} of the division code are not a province-level \
                 code (Zhejiang is 33, for example): check the code"
            ),
            Self::CountyWithoutCity => "when digits 3–4 of a division code are 00, digits 5–6 \
                                        must be 00 too: check the code"
                .to_owned(),
            Self::ZeroTownship => "digits 7–9 (township) of a 12-digit division code cannot be \
                                   000: use the 6-digit code for a county or higher"
                .to_owned(),
            Self::TownshipUnderProvince => "the first 6 digits of a 12-digit division code must \
                                            be a city or county, not a province: check the code"
                .to_owned(),
        }
    }
}

impl fmt::Display for DivisionCodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_en())
    }
}

impl std::error::Error for DivisionCodeError {}
