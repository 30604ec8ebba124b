//! GB 32100 unified social credit codes (统一社会信用代码) and the GB 11714 organisation code
//! inside them.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::division::DivisionCodeError;
use super::{DivisionCode, ascii_str, shown, width_hint_en, width_hint_zh};
use crate::Localized;

/// The 31 characters of GB 32100, in value order (no I, O, Z, S, V).
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of the first 17 characters (3^(i−1) mod 31).
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
/// Weights of the 8 body characters of a GB 11714 organisation code.
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// Value of a GB 32100 character (its index in the alphabet).
fn credit_value(b: u8) -> Option<u32> {
    ALPHABET
        .iter()
        .position(|&a| a == b)
        .and_then(|i| u32::try_from(i).ok())
}

/// Value of a GB 11714 character: `0`–`9` → 0–9, `A`–`Z` → 10–35.
fn org_value(b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => Some(u32::from(b - b'0')),
        b'A'..=b'Z' => Some(u32::from(b - b'A') + 10),
        _ => None,
    }
}

/// Check character over 17 upper-case bytes; `None` if a byte is outside the alphabet.
fn credit_check(first17: &[u8]) -> Option<u8> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (&b, w) in first17.iter().zip(WEIGHTS) {
        sum += credit_value(b)? * w;
    }
    let index = (31 - sum % 31) % 31;
    ALPHABET.get(usize::try_from(index).ok()?).copied()
}

/// GB 11714 check character over 8 upper-case bytes; `None` if a byte is not `0-9A-Z`.
fn org_check(first8: &[u8]) -> Option<u8> {
    if first8.len() != 8 {
        return None;
    }
    let mut sum = 0u32;
    for (&b, w) in first8.iter().zip(ORG_WEIGHTS) {
        sum += org_value(b)? * w;
    }
    Some(match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        // 1..=9: a single digit.
        c => b'0' + u8::try_from(c).ok()?,
    })
}

/// Upper-cases `s` into a fixed buffer if it has exactly `N` ASCII characters.
fn upper_ascii<const N: usize>(s: &str) -> Option<[u8; N]> {
    let b = s.as_bytes();
    if b.len() != N || !b.is_ascii() {
        return None;
    }
    let mut out = [0u8; N];
    for (o, c) in out.iter_mut().zip(b) {
        *o = c.to_ascii_uppercase();
    }
    Some(out)
}

/// The check character (18th) for the first 17 characters of a credit code, or `None` unless
/// `first17` is 17 characters of the GB 32100 alphabet (lower case accepted). Checks nothing
/// else; meant for data generators.
pub fn credit_code_check_char(first17: &str) -> Option<char> {
    credit_check(&upper_ascii::<17>(first17)?).map(char::from)
}

/// The GB 11714 check character (9th) of an organisation code for its first 8 characters, or
/// `None` unless `first8` is 8 characters of `0-9A-Z` (lower case accepted). Meant for data
/// generators.
pub fn organisation_code_check_char(first8: &str) -> Option<char> {
    org_check(&upper_ascii::<8>(first8)?).map(char::from)
}

/// The registration authority, first character of a credit code (登记管理部门码).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegisteringAuthority {
    /// `1` 机构编制.
    InstitutionalStaffing,
    /// `2` 外交.
    ForeignAffairs,
    /// `3` 司法行政.
    JudicialAdministration,
    /// `4` 文化.
    Culture,
    /// `5` 民政.
    CivilAffairs,
    /// `6` 旅游.
    Tourism,
    /// `7` 宗教.
    ReligiousAffairs,
    /// `8` 工会.
    TradeUnions,
    /// `9` 工商 (now 市场监管).
    MarketRegulation,
    /// `A` 中央军委改革和编制办公室.
    MilitaryReformAndStaffing,
    /// `N` 农业.
    Agriculture,
    /// `Y` 其他 (other registering departments).
    OtherDepartments,
    /// A character with no known meaning.
    Other(char),
}

impl RegisteringAuthority {
    /// The authority for a code character.
    pub fn from_char(c: char) -> Self {
        match c {
            '1' => Self::InstitutionalStaffing,
            '2' => Self::ForeignAffairs,
            '3' => Self::JudicialAdministration,
            '4' => Self::Culture,
            '5' => Self::CivilAffairs,
            '6' => Self::Tourism,
            '7' => Self::ReligiousAffairs,
            '8' => Self::TradeUnions,
            '9' => Self::MarketRegulation,
            'A' => Self::MilitaryReformAndStaffing,
            'N' => Self::Agriculture,
            'Y' => Self::OtherDepartments,
            other => Self::Other(other),
        }
    }

    /// The code character.
    pub fn code(self) -> char {
        match self {
            Self::InstitutionalStaffing => '1',
            Self::ForeignAffairs => '2',
            Self::JudicialAdministration => '3',
            Self::Culture => '4',
            Self::CivilAffairs => '5',
            Self::Tourism => '6',
            Self::ReligiousAffairs => '7',
            Self::TradeUnions => '8',
            Self::MarketRegulation => '9',
            Self::MilitaryReformAndStaffing => 'A',
            Self::Agriculture => 'N',
            Self::OtherDepartments => 'Y',
            Self::Other(c) => c,
        }
    }

    /// Chinese name.
    pub fn name_zh(self) -> &'static str {
        match self {
            Self::InstitutionalStaffing => "机构编制",
            Self::ForeignAffairs => "外交",
            Self::JudicialAdministration => "司法行政",
            Self::Culture => "文化",
            Self::CivilAffairs => "民政",
            Self::Tourism => "旅游",
            Self::ReligiousAffairs => "宗教",
            Self::TradeUnions => "工会",
            Self::MarketRegulation => "工商（市场监管）",
            Self::MilitaryReformAndStaffing => "中央军委改革和编制办公室",
            Self::Agriculture => "农业",
            Self::OtherDepartments => "其他",
            Self::Other(_) => "未知登记管理部门",
        }
    }

    /// English name.
    pub fn name_en(self) -> &'static str {
        match self {
            Self::InstitutionalStaffing => "institutional staffing",
            Self::ForeignAffairs => "foreign affairs",
            Self::JudicialAdministration => "judicial administration",
            Self::Culture => "culture",
            Self::CivilAffairs => "civil affairs",
            Self::Tourism => "tourism",
            Self::ReligiousAffairs => "religious affairs",
            Self::TradeUnions => "trade unions",
            Self::MarketRegulation => "industry and commerce (market regulation)",
            Self::MilitaryReformAndStaffing => {
                "Reform and Staffing Office of the Central Military Commission"
            }
            Self::Agriculture => "agriculture",
            Self::OtherDepartments => "other departments",
            Self::Other(_) => "unknown registering authority",
        }
    }
}

/// The organisation category, second character of a credit code (机构类别码), read together
/// with the registering authority.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CreditCategory {
    authority: RegisteringAuthority,
    code: char,
}

impl CreditCategory {
    /// The category character.
    pub fn code(self) -> char {
        self.code
    }

    /// The registering authority the category belongs to.
    pub fn authority(self) -> RegisteringAuthority {
        self.authority
    }

    fn names(self) -> Option<(&'static str, &'static str)> {
        use RegisteringAuthority as A;
        Some(match (self.authority, self.code) {
            (A::InstitutionalStaffing, '1') => ("机关", "government body"),
            (A::InstitutionalStaffing, '2') => ("事业单位", "public institution"),
            (A::InstitutionalStaffing, '3') => (
                "中央编办直接管理机构编制的群众团体",
                "mass organisation staffed directly by the Central Staffing Office",
            ),
            (A::InstitutionalStaffing, '9') | (A::CivilAffairs, '9') => ("其他", "other"),
            (A::MarketRegulation, '1') => ("企业", "enterprise"),
            (A::MarketRegulation, '2') => ("个体工商户", "individual business"),
            (A::MarketRegulation, '3') => ("农民专业合作社", "farmers' specialised cooperative"),
            (A::CivilAffairs, '1') => ("社会团体", "social organisation"),
            (A::CivilAffairs, '2') => ("民办非企业单位", "private non-enterprise unit"),
            (A::CivilAffairs, '3') => ("基金会", "foundation"),
            _ => return None,
        })
    }

    /// Chinese name, for the common categories.
    pub fn name_zh(self) -> Option<&'static str> {
        self.names().map(|(zh, _)| zh)
    }

    /// English name, for the common categories.
    pub fn name_en(self) -> Option<&'static str> {
        self.names().map(|(_, en)| en)
    }
}

/// A unified social credit code (GB 32100 统一社会信用代码): registering authority, category,
/// 6-digit division, 9-character organisation code (GB 11714, with its own check character)
/// and a check character, over the alphabet `0123456789ABCDEFGHJKLMNPQRTUWXY`.
///
/// Both check characters are verified and the division must be structurally valid. Lower case
/// is accepted and stored upper case. Serialised as a string, deserialised through
/// [`CreditCode::parse`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode {
    /// 18 upper-case ASCII characters of the alphabet.
    value: [u8; 18],
    /// Characters 3–8, parsed.
    division: DivisionCode,
}

impl CreditCode {
    /// Parses an 18-character credit code. Surrounding ASCII whitespace is ignored.
    pub fn parse(input: &str) -> Result<Self, CreditCodeError> {
        let s = input.trim_ascii();
        if s.is_empty() {
            return Err(CreditCodeError::Empty);
        }
        let mut value = [0u8; 18];
        let mut len = 0usize;
        for (i, ch) in s.chars().enumerate() {
            let b = u8::try_from(ch.to_ascii_uppercase())
                .ok()
                .filter(|b| ALPHABET.contains(b))
                .ok_or(CreditCodeError::InvalidCharacter {
                    ch,
                    position: i + 1,
                })?;
            if let Some(slot) = value.get_mut(i) {
                *slot = b;
            }
            len = i + 1;
        }
        if len != 18 {
            return Err(CreditCodeError::WrongLength { len });
        }
        let division = DivisionCode::parse(ascii_str(&value[2..8]))
            .map_err(CreditCodeError::InvalidDivision)?;
        match org_check(&value[8..16]) {
            Some(expected) if expected == value[16] => {}
            expected => {
                return Err(CreditCodeError::OrganisationCodeCheck {
                    expected: expected.map(char::from),
                });
            }
        }
        match credit_check(&value[..17]) {
            Some(expected) if expected == value[17] => Ok(Self { value, division }),
            expected => Err(CreditCodeError::Checksum {
                expected: expected.map_or('?', char::from),
            }),
        }
    }

    /// The code, upper case.
    pub fn as_str(&self) -> &str {
        ascii_str(&self.value)
    }

    /// The registering authority (1st character).
    pub fn registering_authority(&self) -> RegisteringAuthority {
        RegisteringAuthority::from_char(char::from(self.value[0]))
    }

    /// The organisation category (2nd character).
    pub fn category(&self) -> CreditCategory {
        CreditCategory {
            authority: self.registering_authority(),
            code: char::from(self.value[1]),
        }
    }

    /// The division code of the registering authority (characters 3–8).
    pub fn division(&self) -> DivisionCode {
        self.division
    }

    /// The organisation code (characters 9–17, GB 11714, including its check character).
    pub fn organisation_code(&self) -> &str {
        ascii_str(&self.value[8..17])
    }

    /// The check character (18th).
    pub fn check_char(&self) -> char {
        char::from(self.value[17])
    }

    /// A serialisable description of the code.
    pub fn info(&self) -> CreditCodeInfo {
        let authority = self.registering_authority();
        let category = self.category();
        CreditCodeInfo {
            code: self.as_str().to_owned(),
            registering_authority: authority.code(),
            registering_authority_zh: authority.name_zh().to_owned(),
            registering_authority_en: authority.name_en().to_owned(),
            category: category.code(),
            category_zh: category.name_zh().map(str::to_owned),
            category_en: category.name_en().map(str::to_owned),
            division: self.division(),
            organisation_code: self.organisation_code().to_owned(),
        }
    }
}

crate::identifiers::public_text_identifier!(CreditCode, CreditCodeError);

/// A serialisable description of a credit code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditCodeInfo {
    /// The code.
    pub code: String,
    /// Registering authority character.
    pub registering_authority: char,
    /// Registering authority, Chinese name.
    pub registering_authority_zh: String,
    /// Registering authority, English name.
    pub registering_authority_en: String,
    /// Category character.
    pub category: char,
    /// Category, Chinese name, when known.
    pub category_zh: Option<String>,
    /// Category, English name, when known.
    pub category_en: Option<String>,
    /// Division code of the registering authority.
    pub division: DivisionCode,
    /// Organisation code (9 characters).
    pub organisation_code: String,
}

/// Why a string is not a unified social credit code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CreditCodeError {
    /// Nothing but whitespace. Code `credit_code_empty`.
    Empty,
    /// A character outside the GB 32100 alphabet. Code `credit_code_invalid_character`.
    InvalidCharacter {
        /// The offending character.
        ch: char,
        /// 1-based position, counted in characters.
        position: usize,
    },
    /// Not 18 characters. Code `credit_code_length`.
    WrongLength {
        /// Number of characters found.
        len: usize,
    },
    /// Characters 3–8 are not a structurally valid division code. Code
    /// `credit_code_invalid_division`.
    InvalidDivision(DivisionCodeError),
    /// The organisation code's own check character (17th) is wrong. Code
    /// `credit_code_organisation_check`.
    OrganisationCodeCheck {
        /// The check character characters 9–16 call for (`None` if they contain characters
        /// GB 11714 does not allow, which the GB 32100 alphabet rules out).
        expected: Option<char>,
    },
    /// The check character (18th) is wrong. Code `credit_code_checksum`.
    Checksum {
        /// The check character the first 17 characters call for.
        expected: char,
    },
}

impl Localized for CreditCodeError {
    fn code(&self) -> &'static str {
        match self {
            Self::Empty => "credit_code_empty",
            Self::InvalidCharacter { .. } => "credit_code_invalid_character",
            Self::WrongLength { .. } => "credit_code_length",
            Self::InvalidDivision(_) => "credit_code_invalid_division",
            Self::OrganisationCodeCheck { .. } => "credit_code_organisation_check",
            Self::Checksum { .. } => "credit_code_checksum",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::Empty => "统一社会信用代码为空：请输入18位代码".to_owned(),
            Self::InvalidCharacter { ch, position } => {
                let extra = if matches!(ch.to_ascii_uppercase(), 'I' | 'O' | 'Z' | 'S' | 'V') {
                    "（统一社会信用代码不使用字母 I、O、Z、S、V，请核对是否为数字 1、0、2、5 或字母 U）"
                } else {
                    width_hint_zh(*ch)
                };
                format!(
                    "统一社会信用代码第{position}位的字符 '{}' 无效：只能使用数字0–9和\
                     除 I、O、Z、S、V 以外的大写字母{extra}",
                    shown(*ch)
                )
            }
            Self::WrongLength { len } => {
                format!("统一社会信用代码应为18位，实际为{len}位：请检查是否多输或漏输")
            }
            Self::InvalidDivision(e) => format!(
                "统一社会信用代码第3–8位（登记管理机关行政区划码）无效：{}",
                e.message_zh()
            ),
            Self::OrganisationCodeCheck { expected } => match expected {
                Some(c) => format!(
                    "组织机构代码校验码错误：第17位应为 {c}。如果第17位无误，则第9–16位中有输错的字符"
                ),
                None => "组织机构代码（第9–16位）含有无效字符：请核对".to_owned(),
            },
            Self::Checksum { expected } => format!(
                "校验码错误：第18位应为 {expected}。如果第18位无误，则前17位中有输错的字符，\
                 请逐位核对"
            ),
        }
    }

    fn message_en(&self) -> String {
        match self {
            Self::Empty => {
                "the unified social credit code is empty: enter the 18-character code".to_owned()
            }
            Self::InvalidCharacter { ch, position } => {
                let extra = if matches!(ch.to_ascii_uppercase(), 'I' | 'O' | 'Z' | 'S' | 'V') {
                    " (credit codes never use the letters I, O, Z, S and V: did you mean 1, 0, \
                     2, 5 or U?)"
                } else {
                    width_hint_en(*ch)
                };
                format!(
                    "character '{}' at position {position} of the credit code is not allowed: \
                     use digits 0–9 and capital letters other than I, O, Z, S and V{extra}",
                    shown(*ch)
                )
            }
            Self::WrongLength { len } => format!(
                "a unified social credit code has 18 characters, this one has {len}: check for \
                 missing or extra characters"
            ),
            Self::InvalidDivision(e) => format!(
                "characters 3–8 (division code of the registering authority) of the credit code \
                 are not valid: {}",
                e.message_en()
            ),
            Self::OrganisationCodeCheck { expected } => match expected {
                Some(c) => format!(
                    "organisation code check character is wrong: the 17th character should be \
                     {c}; if it is right, one of characters 9–16 is mistyped"
                ),
                None => "the organisation code (characters 9–16) contains invalid characters: \
                         check them"
                    .to_owned(),
            },
            Self::Checksum { expected } => format!(
                "check character is wrong: the 18th character should be {expected}; if it is \
                 right, one of the first 17 characters is mistyped, check them one by one"
            ),
        }
    }
}

impl fmt::Display for CreditCodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_en())
    }
}

impl std::error::Error for CreditCodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidDivision(e) => Some(e),
            _ => None,
        }
    }
}
