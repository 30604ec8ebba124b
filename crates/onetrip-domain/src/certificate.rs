//! Electronic certificates (电子证照): certificate types with their fields and validity rules,
//! certificate status, and presentations (亮证) that disclose chosen fields and predicates.
//!
//! Pure rules: dates and times are passed in. Identifiers follow GB/T 36904
//! ([`crate::identifiers::CertificateId`]).

use std::collections::BTreeSet;
use std::fmt;

use jiff::ToSpan;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Localized;
use crate::identifiers::{CertificateId, CreditCode, ResidentId};

/// Default lifetime of a presentation, in seconds (5 minutes).
pub const PRESENTATION_DEFAULT_SECONDS: u32 = 300;
/// Longest lifetime of a presentation, in seconds (30 minutes).
pub const PRESENTATION_MAX_SECONDS: u32 = 1800;
/// Shortest lifetime of a presentation, in seconds.
pub const PRESENTATION_MIN_SECONDS: u32 = 30;

/// Who holds certificates of a type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HolderKind {
    /// A natural person, identified by resident ID number.
    Person,
    /// An organisation, identified by unified social credit code.
    Organisation,
}

impl HolderKind {
    /// The stored name (`person`, `organisation`).
    pub fn as_str(self) -> &'static str {
        match self {
            HolderKind::Person => "person",
            HolderKind::Organisation => "organisation",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<HolderKind> {
        match s {
            "person" => Some(HolderKind::Person),
            "organisation" => Some(HolderKind::Organisation),
            _ => None,
        }
    }
}

/// The type of a content field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Non-empty text.
    Text,
    /// A civil date `YYYY-MM-DD`.
    Date,
    /// An integer (within ±(2^53 − 1): signed content allows no floats).
    Integer,
    /// `true` or `false`.
    Boolean,
    /// A resident ID number (GB 11643), valid check character.
    ResidentId,
    /// A unified social credit code (GB 32100), valid check character.
    CreditCode,
}

impl FieldType {
    fn name_zh(self) -> &'static str {
        match self {
            FieldType::Text => "文本",
            FieldType::Date => "日期（YYYY-MM-DD）",
            FieldType::Integer => "整数",
            FieldType::Boolean => "是/否",
            FieldType::ResidentId => "身份证号码",
            FieldType::CreditCode => "统一社会信用代码",
        }
    }

    fn name_en(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Date => "a date (YYYY-MM-DD)",
            FieldType::Integer => "an integer",
            FieldType::Boolean => "true or false",
            FieldType::ResidentId => "a resident ID number",
            FieldType::CreditCode => "a unified social credit code",
        }
    }
}

/// One content field of a certificate type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDef {
    /// Key in the content: ASCII `snake_case` (signed content allows only ASCII keys).
    pub key: String,
    /// Name in Chinese.
    pub name: String,
    /// Name in English.
    pub name_en: String,
    /// Value type.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Whether every certificate must have it.
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

/// One age band of [`ValidityRule::ByAgeAtIssue`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeBand {
    /// The band applies to holders younger than this at issue; `None`: every older holder.
    pub below_age: Option<u16>,
    /// Years of validity; `None`: long-term (长期).
    pub years: Option<u16>,
}

/// How long a certificate is valid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ValidityRule {
    /// Valid until revoked (marriage certificate, real-estate certificate…).
    NoExpiry,
    /// A fixed number of years from the issue date.
    FixedYears {
        /// Years.
        years: u16,
    },
    /// By the holder's age (周岁) at issue, from the type's birth field. Bands are in
    /// increasing `below_age` order, the last one open (`below_age: None`).
    ByAgeAtIssue {
        /// The bands.
        bands: Vec<AgeBand>,
    },
    /// By how many times the holder has been issued this type: the n-th issue gets
    /// `terms[n-1]`, later issues the last term. `None` = long-term.
    ByIssueCount {
        /// Terms in years.
        terms: Vec<Option<u16>>,
    },
}

impl ValidityRule {
    /// The resident ID card rule (居民身份证法 art. 5): under 16 → 5 years, 16–25 → 10 years,
    /// 26–45 → 20 years, 46 and over → long-term.
    pub fn resident_id_card() -> ValidityRule {
        ValidityRule::ByAgeAtIssue {
            bands: vec![
                AgeBand {
                    below_age: Some(16),
                    years: Some(5),
                },
                AgeBand {
                    below_age: Some(26),
                    years: Some(10),
                },
                AgeBand {
                    below_age: Some(46),
                    years: Some(20),
                },
                AgeBand {
                    below_age: None,
                    years: None,
                },
            ],
        }
    }

    /// The driving licence rule: first licence 6 years, then 10 years, then long-term.
    pub fn driving_licence() -> ValidityRule {
        ValidityRule::ByIssueCount {
            terms: vec![Some(6), Some(10), None],
        }
    }

    /// Checks the rule itself.
    pub fn check(&self) -> Result<(), CertificateError> {
        let bad = |why: &str| {
            Err(CertificateError::InvalidType {
                why: why.to_owned(),
            })
        };
        match self {
            ValidityRule::NoExpiry => Ok(()),
            ValidityRule::FixedYears { years } if (1..=100).contains(years) => Ok(()),
            ValidityRule::FixedYears { .. } => bad("validity years must be 1–100"),
            ValidityRule::ByAgeAtIssue { bands } => {
                let Some((last, rest)) = bands.split_last() else {
                    return bad("an age rule needs at least one band");
                };
                if last.below_age.is_some() {
                    return bad("the last age band must be open (below_age: null)");
                }
                let mut prev = 0u16;
                for b in rest {
                    match b.below_age {
                        Some(a) if a > prev => prev = a,
                        _ => return bad("age bands must be in increasing below_age order"),
                    }
                }
                if bands
                    .iter()
                    .any(|b| b.years.is_some_and(|y| !(1..=100).contains(&y)))
                {
                    return bad("validity years must be 1–100");
                }
                Ok(())
            }
            ValidityRule::ByIssueCount { terms } => {
                if terms.is_empty() {
                    return bad("an issue-count rule needs at least one term");
                }
                if terms.iter().flatten().any(|y| !(1..=100).contains(y)) {
                    return bad("validity years must be 1–100");
                }
                Ok(())
            }
        }
    }

    /// Whether the rule needs the holder's date of birth.
    pub fn needs_birth_date(&self) -> bool {
        matches!(self, ValidityRule::ByAgeAtIssue { .. })
    }

    /// The last day of validity (inclusive) of a certificate issued on `issued_on`, or `None`
    /// for long-term. `birth_date` is needed by age rules; `issue_number` (1 for the first
    /// certificate of this type for this holder) by issue-count rules.
    pub fn valid_until(
        &self,
        issued_on: Date,
        birth_date: Option<Date>,
        issue_number: u32,
    ) -> Result<Option<Date>, CertificateError> {
        let years = match self {
            ValidityRule::NoExpiry => None,
            ValidityRule::FixedYears { years } => Some(*years),
            ValidityRule::ByAgeAtIssue { bands } => {
                let birth = birth_date.ok_or(CertificateError::BirthDateUnknown)?;
                let age = age_on(birth, issued_on);
                if age < 0 {
                    return Err(CertificateError::IssuedBeforeBirth);
                }
                let age = u16::try_from(age).unwrap_or(0);
                bands
                    .iter()
                    .find(|b| b.below_age.is_none_or(|limit| age < limit))
                    .and_then(|b| b.years)
            }
            ValidityRule::ByIssueCount { terms } => {
                let n = usize::try_from(issue_number.max(1) - 1).unwrap_or(usize::MAX);
                terms.get(n).or(terms.last()).copied().flatten()
            }
        };
        match years {
            None => Ok(None),
            Some(y) => issued_on
                .checked_add(i64::from(y).years())
                .map(Some)
                .map_err(|_| CertificateError::DateOutOfRange),
        }
    }
}

/// Age in completed years (周岁) on `date` of someone born on `birth`.
pub fn age_on(birth: Date, date: Date) -> i16 {
    let mut age = date.year() - birth.year();
    if (date.month(), date.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// A kind of certificate (证照类型).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateType {
    /// Catalog code, `SCREAMING_SNAKE` (e.g. `ID_CARD`), as used by materials in the catalog.
    pub code: String,
    /// Name in Chinese.
    pub name: String,
    /// Name in English.
    pub name_en: String,
    /// GB/T 36904 type code: the defining ministry's credit code and 3 digits (21 characters).
    pub type_code: String,
    /// The issuing department (credit code) whose seal signs certificates of this type.
    pub issuing_department: String,
    /// Who holds certificates of this type.
    pub holder_kind: HolderKind,
    /// The content fields.
    pub fields: Vec<FieldDef>,
    /// The field holding the holder's date of birth (a date or a resident ID), needed by age
    /// rules and `age_at_least` predicates.
    #[serde(default)]
    pub birth_field: Option<String>,
    /// How long a certificate is valid.
    pub validity: ValidityRule,
}

fn is_screaming_snake(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

fn is_field_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl CertificateType {
    /// Checks the definition: code, type code, issuing department, field keys (unique ASCII
    /// `snake_case`), birth field and validity rule.
    pub fn check(&self) -> Result<(), CertificateError> {
        let bad = |why: String| Err(CertificateError::InvalidType { why });
        if !is_screaming_snake(&self.code) {
            return bad(format!("code {:?} is not SCREAMING_SNAKE", self.code));
        }
        if self.name.trim().is_empty() || self.name_en.trim().is_empty() {
            return bad("names must not be empty".to_owned());
        }
        let issuer = CreditCode::parse(&self.issuing_department).map_err(|e| {
            CertificateError::InvalidType {
                why: e.message_en(),
            }
        })?;
        CertificateId::new(&self.type_code, &issuer, "1", 1).map_err(|e| {
            CertificateError::InvalidType {
                why: e.message_en(),
            }
        })?;
        if self.fields.is_empty() {
            return bad("a type needs at least one field".to_owned());
        }
        let mut keys = BTreeSet::new();
        for f in &self.fields {
            if !is_field_key(&f.key) {
                return bad(format!("field key {:?} is not ASCII snake_case", f.key));
            }
            if !keys.insert(f.key.as_str()) {
                return bad(format!("field {:?} is defined twice", f.key));
            }
        }
        if let Some(b) = &self.birth_field {
            match self.field(b) {
                Some(f) if matches!(f.field_type, FieldType::Date | FieldType::ResidentId) => {}
                _ => {
                    return bad(format!(
                        "birth_field {b:?} is not a date or resident ID field"
                    ));
                }
            }
        }
        if self.validity.needs_birth_date() && self.birth_field.is_none() {
            return bad("an age-based validity rule needs a birth_field".to_owned());
        }
        self.validity.check()
    }

    /// The field with this key.
    pub fn field(&self, key: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// Checks certificate content against the fields: every required field present, no
    /// unknown field, every value of its type. Lists every problem. `today` bounds resident
    /// IDs' dates of birth.
    pub fn check_content(
        &self,
        content: &Map<String, Value>,
        today: Date,
    ) -> Result<(), Vec<CertificateError>> {
        let mut problems = Vec::new();
        for key in content.keys() {
            if self.field(key).is_none() {
                problems.push(CertificateError::UnknownField { key: key.clone() });
            }
        }
        for f in &self.fields {
            match content.get(&f.key) {
                None | Some(Value::Null) => {
                    if f.required {
                        problems.push(CertificateError::MissingField { key: f.key.clone() });
                    }
                }
                Some(v) => {
                    if !value_has_type(v, f.field_type, today) {
                        problems.push(CertificateError::FieldType {
                            key: f.key.clone(),
                            expected: f.field_type,
                        });
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// The holder's date of birth according to the content's birth field, if any.
    pub fn birth_date(&self, content: &Map<String, Value>, today: Date) -> Option<Date> {
        let key = self.birth_field.as_deref()?;
        let text = content.get(key)?.as_str()?;
        match self.field(key)?.field_type {
            FieldType::Date => text.parse().ok(),
            FieldType::ResidentId => ResidentId::parse(text, today).ok().map(|r| r.birth_date()),
            _ => None,
        }
    }
}

fn value_has_type(v: &Value, t: FieldType, today: Date) -> bool {
    match (t, v) {
        (FieldType::Text, Value::String(s)) => !s.trim().is_empty() && s.chars().count() <= 2000,
        (FieldType::Date, Value::String(s)) => s.len() == 10 && s.parse::<Date>().is_ok(),
        (FieldType::Integer, Value::Number(n)) => n
            .as_i64()
            .is_some_and(|i| i.unsigned_abs() <= 9_007_199_254_740_991),
        (FieldType::Boolean, Value::Bool(_)) => true,
        (FieldType::ResidentId, Value::String(s)) => ResidentId::parse(s, today).is_ok(),
        (FieldType::CreditCode, Value::String(s)) => CreditCode::parse(s).is_ok(),
        _ => false,
    }
}

/// Revocation of a certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// When it was revoked.
    pub revoked_at: jiff::Timestamp,
    /// Why.
    pub reason: String,
}

/// The status of a certificate on a given day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateStatus {
    /// Neither expired nor revoked.
    Valid,
    /// Past its last day of validity.
    Expired,
    /// Revoked (whatever its validity).
    Revoked,
}

impl CertificateStatus {
    /// The status on `today` of a certificate valid through `valid_until` (`None`: long-term)
    /// and possibly revoked. Revoked wins over expired.
    pub fn on(valid_until: Option<Date>, revoked: bool, today: Date) -> CertificateStatus {
        if revoked {
            CertificateStatus::Revoked
        } else if valid_until.is_some_and(|last| today > last) {
            CertificateStatus::Expired
        } else {
            CertificateStatus::Valid
        }
    }

    /// The API name (`valid`, `expired`, `revoked`).
    pub fn as_str(self) -> &'static str {
        match self {
            CertificateStatus::Valid => "valid",
            CertificateStatus::Expired => "expired",
            CertificateStatus::Revoked => "revoked",
        }
    }

    /// The name in Chinese.
    pub fn name_zh(self) -> &'static str {
        match self {
            CertificateStatus::Valid => "有效",
            CertificateStatus::Expired => "已过期",
            CertificateStatus::Revoked => "已注销",
        }
    }

    /// The name in English.
    pub fn name_en(self) -> &'static str {
        match self {
            CertificateStatus::Valid => "valid",
            CertificateStatus::Expired => "expired",
            CertificateStatus::Revoked => "revoked",
        }
    }
}

/// A statement about the content that a presentation may disclose instead of the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Predicate {
    /// The holder is at least this old (周岁) on the day of presentation
    /// (`age_at_least:18`), computed from the type's birth field.
    AgeAtLeast(u16),
}

impl Predicate {
    /// Parses `age_at_least:N` (N in 0–150).
    pub fn parse(text: &str) -> Result<Predicate, CertificateError> {
        let unknown = || CertificateError::UnknownPredicate {
            text: text.chars().take(64).collect(),
        };
        let (name, arg) = text.trim().split_once(':').ok_or_else(unknown)?;
        match name {
            "age_at_least" => {
                let n: u16 = arg.parse().map_err(|_| unknown())?;
                if n > 150 {
                    return Err(unknown());
                }
                Ok(Predicate::AgeAtLeast(n))
            }
            _ => Err(unknown()),
        }
    }

    /// Evaluates the predicate on `content` of type `ty` on `today`.
    pub fn holds(
        self,
        ty: &CertificateType,
        content: &Map<String, Value>,
        today: Date,
    ) -> Result<bool, CertificateError> {
        match self {
            Predicate::AgeAtLeast(n) => {
                let birth = ty
                    .birth_date(content, today)
                    .ok_or(CertificateError::BirthDateUnknown)?;
                Ok(age_on(birth, today) >= i16::try_from(n).unwrap_or(i16::MAX))
            }
        }
    }

    /// Description in Chinese.
    pub fn describe_zh(self) -> String {
        match self {
            Predicate::AgeAtLeast(n) => format!("年满{n}周岁"),
        }
    }

    /// Description in English.
    pub fn describe_en(self) -> String {
        match self {
            Predicate::AgeAtLeast(n) => format!("at least {n} years old"),
        }
    }
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Predicate::AgeAtLeast(n) => write!(f, "age_at_least:{n}"),
        }
    }
}

/// What a holder chose to disclose in a presentation, checked against the type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disclosure {
    /// Field keys shown with their values.
    pub fields: Vec<String>,
    /// Predicates shown with their truth value.
    pub predicates: Vec<Predicate>,
    /// Lifetime in seconds.
    pub lifetime_seconds: u32,
}

impl Disclosure {
    /// Checks a holder's choice: known, distinct fields; parseable predicates whose inputs the
    /// type has; something disclosed; lifetime defaulting to
    /// [`PRESENTATION_DEFAULT_SECONDS`] and within
    /// [`PRESENTATION_MIN_SECONDS`]..=[`PRESENTATION_MAX_SECONDS`].
    pub fn new(
        ty: &CertificateType,
        fields: &[String],
        predicates: &[String],
        lifetime_seconds: Option<u32>,
    ) -> Result<Disclosure, CertificateError> {
        let mut seen = BTreeSet::new();
        let mut keys = Vec::new();
        for f in fields {
            if ty.field(f).is_none() {
                return Err(CertificateError::UnknownField { key: f.clone() });
            }
            if seen.insert(f.as_str()) {
                keys.push(f.clone());
            }
        }
        let mut preds = Vec::new();
        for p in predicates {
            let p = Predicate::parse(p)?;
            match p {
                Predicate::AgeAtLeast(_) if ty.birth_field.is_none() => {
                    return Err(CertificateError::BirthDateUnknown);
                }
                _ => {}
            }
            if !preds.contains(&p) {
                preds.push(p);
            }
        }
        if keys.is_empty() && preds.is_empty() {
            return Err(CertificateError::NothingDisclosed);
        }
        let lifetime = lifetime_seconds.unwrap_or(PRESENTATION_DEFAULT_SECONDS);
        if !(PRESENTATION_MIN_SECONDS..=PRESENTATION_MAX_SECONDS).contains(&lifetime) {
            return Err(CertificateError::PresentationLifetime {
                requested: lifetime,
            });
        }
        Ok(Disclosure {
            fields: keys,
            predicates: preds,
            lifetime_seconds: lifetime,
        })
    }
}

/// Why a certificate type, content, issue or presentation is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// The type definition is wrong. Code `certificate_type_invalid`.
    #[error("invalid certificate type: {why}")]
    InvalidType {
        /// What is wrong (English, for operators).
        why: String,
    },
    /// The content has a field the type does not define. Code `certificate_field_unknown`.
    #[error("unknown field {key}")]
    UnknownField {
        /// The key.
        key: String,
    },
    /// A required field is missing. Code `certificate_field_missing`.
    #[error("missing field {key}")]
    MissingField {
        /// The key.
        key: String,
    },
    /// A value has the wrong type. Code `certificate_field_type`.
    #[error("field {key} has the wrong type")]
    FieldType {
        /// The key.
        key: String,
        /// The expected type.
        expected: FieldType,
    },
    /// The holder's date of birth is needed and unknown. Code `certificate_birth_date_unknown`.
    #[error("birth date unknown")]
    BirthDateUnknown,
    /// The issue date is before the holder's birth. Code `certificate_issued_before_birth`.
    #[error("issued before birth")]
    IssuedBeforeBirth,
    /// A computed date is out of range. Code `certificate_date_out_of_range`.
    #[error("date out of range")]
    DateOutOfRange,
    /// A predicate is not understood. Code `certificate_predicate_unknown`.
    #[error("unknown predicate {text}")]
    UnknownPredicate {
        /// What was asked (truncated).
        text: String,
    },
    /// A presentation discloses nothing. Code `certificate_nothing_disclosed`.
    #[error("nothing disclosed")]
    NothingDisclosed,
    /// A presentation lifetime is out of range. Code `certificate_presentation_lifetime`.
    #[error("presentation lifetime {requested}s out of range")]
    PresentationLifetime {
        /// Seconds asked for.
        requested: u32,
    },
    /// The holder does not match the type's holder kind. Code `certificate_holder_invalid`.
    #[error("holder invalid")]
    HolderInvalid,
    /// The certificate is revoked: it cannot be presented. Code `certificate_revoked`.
    #[error("certificate revoked")]
    Revoked,
    /// The revocation reason is empty or too long. Code `certificate_revocation_reason`.
    #[error("revocation reason required")]
    RevocationReason,
}

impl Localized for CertificateError {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidType { .. } => "certificate_type_invalid",
            Self::UnknownField { .. } => "certificate_field_unknown",
            Self::MissingField { .. } => "certificate_field_missing",
            Self::FieldType { .. } => "certificate_field_type",
            Self::BirthDateUnknown => "certificate_birth_date_unknown",
            Self::IssuedBeforeBirth => "certificate_issued_before_birth",
            Self::DateOutOfRange => "certificate_date_out_of_range",
            Self::UnknownPredicate { .. } => "certificate_predicate_unknown",
            Self::NothingDisclosed => "certificate_nothing_disclosed",
            Self::PresentationLifetime { .. } => "certificate_presentation_lifetime",
            Self::HolderInvalid => "certificate_holder_invalid",
            Self::Revoked => "certificate_revoked",
            Self::RevocationReason => "certificate_revocation_reason",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::InvalidType { why } => format!("证照类型定义有误：{why}"),
            Self::UnknownField { key } => format!("证照类型没有字段“{key}”"),
            Self::MissingField { key } => format!("缺少必填的证照字段“{key}”"),
            Self::FieldType { key, expected } => {
                format!("证照字段“{key}”应为{}", expected.name_zh())
            }
            Self::BirthDateUnknown => {
                "无法确定持证人的出生日期：该证照类型没有出生日期字段".to_owned()
            }
            Self::IssuedBeforeBirth => "发证日期早于持证人出生日期".to_owned(),
            Self::DateOutOfRange => "计算出的日期超出范围".to_owned(),
            Self::UnknownPredicate { text } => {
                format!("无法识别的亮证条件“{text}”：目前支持 age_at_least:N（年满N周岁）")
            }
            Self::NothingDisclosed => "亮证时请至少选择一个要出示的字段或条件".to_owned(),
            Self::PresentationLifetime { requested } => format!(
                "亮证二维码有效时间为{requested}秒，应在{PRESENTATION_MIN_SECONDS}–{PRESENTATION_MAX_SECONDS}秒之间"
            ),
            Self::HolderInvalid => {
                "持证主体与证照类型不符：自然人证照须填写身份证号码，法人证照须填写统一社会信用代码"
                    .to_owned()
            }
            Self::Revoked => "证照已注销，不能亮证".to_owned(),
            Self::RevocationReason => "请填写注销原因（不超过200字）".to_owned(),
        }
    }

    fn message_en(&self) -> String {
        match self {
            Self::InvalidType { why } => format!("Invalid certificate type: {why}"),
            Self::UnknownField { key } => format!("The certificate type has no field \"{key}\""),
            Self::MissingField { key } => format!("The certificate field \"{key}\" is required"),
            Self::FieldType { key, expected } => {
                format!(
                    "The certificate field \"{key}\" must be {}",
                    expected.name_en()
                )
            }
            Self::BirthDateUnknown => "The holder's date of birth is unknown: the certificate \
                                       type has no birth-date field"
                .to_owned(),
            Self::IssuedBeforeBirth => "The issue date is before the holder's birth".to_owned(),
            Self::DateOutOfRange => "A computed date is out of range".to_owned(),
            Self::UnknownPredicate { text } => {
                format!("Unknown presentation predicate \"{text}\": supported is age_at_least:N")
            }
            Self::NothingDisclosed => {
                "Choose at least one field or predicate to disclose".to_owned()
            }
            Self::PresentationLifetime { requested } => format!(
                "A presentation lifetime of {requested}s is out of range \
                 ({PRESENTATION_MIN_SECONDS}–{PRESENTATION_MAX_SECONDS}s)"
            ),
            Self::HolderInvalid => "The holder does not fit the certificate type: a person is \
                                    identified by resident ID number, an organisation by \
                                    unified social credit code"
                .to_owned(),
            Self::Revoked => "The certificate is revoked and cannot be presented".to_owned(),
            Self::RevocationReason => {
                "State the reason for revocation (at most 200 characters)".to_owned()
            }
        }
    }
}

/// Checks a revocation reason (1–200 characters after trimming) and returns it trimmed.
pub fn check_revocation_reason(reason: &str) -> Result<String, CertificateError> {
    let r = reason.trim();
    if r.is_empty() || r.chars().count() > 200 {
        Err(CertificateError::RevocationReason)
    } else {
        Ok(r.to_owned())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn id_card_type() -> CertificateType {
        CertificateType {
            code: "ID_CARD".into(),
            name: "居民身份证".into(),
            name_en: "Resident identity card".into(),
            type_code: "1111000000001930XA001".into(),
            issuing_department: "11330100040374066D".into(),
            holder_kind: HolderKind::Person,
            fields: vec![
                FieldDef {
                    key: "name".into(),
                    name: "姓名".into(),
                    name_en: "Name".into(),
                    field_type: FieldType::Text,
                    required: true,
                },
                FieldDef {
                    key: "resident_id".into(),
                    name: "公民身份号码".into(),
                    name_en: "ID number".into(),
                    field_type: FieldType::ResidentId,
                    required: true,
                },
            ],
            birth_field: Some("resident_id".into()),
            validity: ValidityRule::resident_id_card(),
        }
    }

    #[test]
    fn id_card_type_checks() {
        id_card_type().check().unwrap();
        let mut t = id_card_type();
        t.birth_field = None;
        assert_eq!(t.check().unwrap_err().code(), "certificate_type_invalid");
        let mut t = id_card_type();
        t.fields[0].key = "姓名".into();
        assert!(t.check().is_err());
    }

    #[test]
    fn resident_id_card_bands() {
        let rule = ValidityRule::resident_id_card();
        let birth = date(1985, 3, 14);
        let on = |d: Date| rule.valid_until(d, Some(birth), 1).unwrap();
        assert_eq!(on(date(2000, 3, 13)), Some(date(2005, 3, 13))); // 14 → 5 y
        assert_eq!(on(date(2001, 3, 14)), Some(date(2011, 3, 14))); // 16 → 10 y
        assert_eq!(on(date(2011, 3, 13)), Some(date(2021, 3, 13))); // 25 → 10 y
        assert_eq!(on(date(2011, 3, 14)), Some(date(2031, 3, 14))); // 26 → 20 y
        assert_eq!(on(date(2031, 3, 13)), Some(date(2051, 3, 13))); // 45 → 20 y
        assert_eq!(on(date(2031, 3, 14)), None); // 46 → long-term
        assert_eq!(
            rule.valid_until(date(2000, 1, 1), None, 1),
            Err(CertificateError::BirthDateUnknown)
        );
    }

    #[test]
    fn driving_licence_terms() {
        let rule = ValidityRule::driving_licence();
        let d = date(2020, 2, 29);
        assert_eq!(
            rule.valid_until(d, None, 1).unwrap(),
            Some(date(2026, 2, 28))
        );
        assert_eq!(
            rule.valid_until(d, None, 2).unwrap(),
            Some(date(2030, 2, 28))
        );
        assert_eq!(rule.valid_until(d, None, 3).unwrap(), None);
        assert_eq!(rule.valid_until(d, None, 9).unwrap(), None);
    }

    #[test]
    fn content_is_checked_field_by_field() {
        let t = id_card_type();
        let today = date(2026, 11, 21);
        let ok: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "name": "陈志明", "resident_id": "330102198503140138"
        }))
        .unwrap();
        t.check_content(&ok, today).unwrap();
        assert_eq!(t.birth_date(&ok, today), Some(date(1985, 3, 14)));
        let bad: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "resident_id": "330102198503140139", "extra": 1
        }))
        .unwrap();
        let codes: Vec<_> = t
            .check_content(&bad, today)
            .unwrap_err()
            .iter()
            .map(|e| e.code())
            .collect();
        assert_eq!(
            codes,
            [
                "certificate_field_unknown",
                "certificate_field_missing",
                "certificate_field_type"
            ]
        );
    }

    #[test]
    fn disclosure_rules() {
        let t = id_card_type();
        let d = Disclosure::new(&t, &["name".into()], &["age_at_least:18".into()], None).unwrap();
        assert_eq!(d.lifetime_seconds, PRESENTATION_DEFAULT_SECONDS);
        assert_eq!(d.predicates, [Predicate::AgeAtLeast(18)]);
        assert!(Disclosure::new(&t, &[], &[], None).is_err());
        assert!(Disclosure::new(&t, &["nope".into()], &[], None).is_err());
        assert!(Disclosure::new(&t, &[], &["age_at_most:3".into()], None).is_err());
        assert!(Disclosure::new(&t, &["name".into()], &[], Some(100_000)).is_err());
        let content: Map<String, Value> = serde_json::from_value(
            serde_json::json!({"name": "x", "resident_id": "330102198503140138"}),
        )
        .unwrap();
        assert!(
            Predicate::AgeAtLeast(18)
                .holds(&t, &content, date(2003, 3, 14))
                .unwrap()
        );
        assert!(
            !Predicate::AgeAtLeast(18)
                .holds(&t, &content, date(2003, 3, 13))
                .unwrap()
        );
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (1900i16..2100, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| date(y, m, d))
    }

    proptest! {
        #[test]
        fn id_card_validity_matches_the_law(birth in any_date(), days in 0i64..40_000) {
            let Ok(issued) = birth.checked_add(days.days()) else { return Ok(()); };
            let until = ValidityRule::resident_id_card().valid_until(issued, Some(birth), 1).unwrap();
            let age = age_on(birth, issued);
            let expected_years = match age {
                a if a < 16 => Some(5),
                a if a <= 25 => Some(10),
                a if a <= 45 => Some(20),
                _ => None,
            };
            prop_assert_eq!(until, expected_years.map(|y: i64| issued.checked_add(y.years()).unwrap()));
            if let Some(u) = until {
                prop_assert!(u > issued);
            }
        }

        #[test]
        fn status_revoked_wins_and_expiry_is_after_last_day(
            last in proptest::option::of(any_date()), today in any_date(), revoked: bool
        ) {
            let s = CertificateStatus::on(last, revoked, today);
            if revoked {
                prop_assert_eq!(s, CertificateStatus::Revoked);
            } else if let Some(l) = last {
                prop_assert_eq!(s == CertificateStatus::Expired, today > l);
                // valid on its last day
                prop_assert_eq!(CertificateStatus::on(last, false, l), CertificateStatus::Valid);
            } else {
                prop_assert_eq!(s, CertificateStatus::Valid);
            }
        }

        #[test]
        fn issue_count_terms_never_shrink_to_expiry_before_issue(n in 1u32..20, issued in any_date()) {
            let until = ValidityRule::driving_licence().valid_until(issued, None, n).unwrap();
            match n {
                1 => prop_assert_eq!(until, Some(issued.checked_add(6.years()).unwrap())),
                2 => prop_assert_eq!(until, Some(issued.checked_add(10.years()).unwrap())),
                _ => prop_assert_eq!(until, None),
            }
        }

        #[test]
        fn predicates_parse_round_trip(n in 0u16..=150) {
            let p = Predicate::parse(&format!("age_at_least:{n}")).unwrap();
            prop_assert_eq!(Predicate::parse(&p.to_string()).unwrap(), p);
        }
    }
}
