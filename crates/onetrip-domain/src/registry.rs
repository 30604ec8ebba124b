//! Base registries (基础库): the population registry (人口综合库: persons, households,
//! marriages, births, deaths) and the legal-person registry (法人综合库: organisations with their
//! legal representatives, status and registered address).
//!
//! The records here are plain data, as the registries hold them; they are checked row by row
//! with the `parse_*` functions ([`parse_person`], [`parse_household`], …), which take the
//! textual form of a row (as read from CSV or JSON, [`PersonInput`] …) and return either the
//! record or every problem found, each naming its field ([`FieldError`], [`Localized`]).
//! Resident ID numbers and credit codes are checked with [`crate::identifiers`]; a person's
//! date of birth and sex must agree with their ID number.
//!
//! Relations between rows (a marriage naming persons who exist, a person's household) are not
//! checked row by row: registries are loaded in any order from different provider systems, so
//! the store does not enforce them either. The generator ([`generator`]) produces rows that are
//! consistent with one another.
//!
//! Resident ID numbers are personal data: the `Debug` of every record masks them.

pub mod generator;
mod tables;

use crate::sharing::mask_resident_id;
use std::fmt;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::Localized;
use crate::identifiers::{
    CreditCode, CreditCodeError, DivisionCode, DivisionCodeError, ResidentId, ResidentIdError, Sex,
};

pub use tables::{County, counties};

/// Longest accepted name of a person, in characters.
pub const MAX_PERSON_NAME_CHARS: usize = 64;
/// Longest accepted free text (addresses, hospitals, organisation names), in characters.
pub const MAX_TEXT_CHARS: usize = 256;
/// Longest accepted record identifier (household id, marriage id, certificate number).
pub const MAX_ID_CHARS: usize = 64;

/// The status of a person in the population registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonStatus {
    /// A living resident with a valid registration.
    Active,
    /// The resident has died.
    Deceased,
    /// The registration was cancelled (注销), e.g. after emigration or a duplicate.
    Cancelled,
}

impl PersonStatus {
    /// Every status.
    pub const ALL: [PersonStatus; 3] = [Self::Active, Self::Deceased, Self::Cancelled];

    /// The stored text (`active`, `deceased`, `cancelled`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Deceased => "deceased",
            Self::Cancelled => "cancelled",
        }
    }

    /// The status stored as `s`, if any.
    pub fn parse(s: &str) -> Option<PersonStatus> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// The stored text of a sex (`male`, `female`).
pub fn sex_str(sex: Sex) -> &'static str {
    sex.name_en()
}

/// The sex stored as `s` (`male`/`female`, also `男`/`女`, `M`/`F`, `1`/`2` as in GB/T 2261.1).
pub fn parse_sex(s: &str) -> Option<Sex> {
    match s.trim() {
        "male" | "Male" | "M" | "m" | "男" | "1" => Some(Sex::Male),
        "female" | "Female" | "F" | "f" | "女" | "2" => Some(Sex::Female),
        _ => None,
    }
}

/// A person of the population registry (人口基本信息).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryPerson {
    /// The full resident ID number (18 characters, valid). Personal data.
    pub resident_id: String,
    /// Name as registered.
    pub name: String,
    /// Sex (agrees with the ID number).
    pub sex: Sex,
    /// Date of birth (agrees with the ID number).
    pub birth_date: Date,
    /// Ethnicity (民族) as its Chinese name, e.g. `汉族`, when known.
    pub ethnicity: Option<String>,
    /// County-level division of the household registration (户籍地), which may differ from the
    /// division in the ID number (the place of first registration).
    pub division_code: DivisionCode,
    /// The household (户) the person is registered in, if any.
    pub household_id: Option<String>,
    /// Status.
    pub status: PersonStatus,
    /// Date of death (only for deceased persons).
    pub death_date: Option<Date>,
}

impl fmt::Debug for RegistryPerson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryPerson")
            .field("resident_id", &mask_resident_id(&self.resident_id))
            .field("name", &"<personal data>")
            .field("sex", &self.sex)
            .field("division_code", &self.division_code)
            .field("household_id", &self.household_id)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl RegistryPerson {
    /// Age in completed years (周岁) on `date`.
    pub fn age_on(&self, date: Date) -> i16 {
        age_on(self.birth_date, date)
    }
}

/// Age in completed years on `date` of someone born on `birth` (goes up on the birthday; for a
/// 29 February birthday, on 1 March in common years).
pub fn age_on(birth: Date, date: Date) -> i16 {
    let mut age = date.year() - birth.year();
    if (date.month(), date.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// A household (户) of the population registry. Its members are the persons whose
/// `household_id` names it; `members` is filled when a household is read, and ignored when it
/// is written.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Household {
    /// Household number (户号).
    pub id: String,
    /// County-level division of the registration.
    pub division_code: DivisionCode,
    /// Registered address (户籍地址).
    pub address: String,
    /// Resident ID number of the head of household (户主), if known.
    pub head_resident_id: Option<String>,
    /// Resident ID numbers of the members (read side only), ordered by date of birth.
    #[serde(default)]
    pub members: Vec<String>,
}

impl fmt::Debug for Household {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Household")
            .field("id", &self.id)
            .field("division_code", &self.division_code)
            .field("members", &self.members.len())
            .finish_non_exhaustive()
    }
}

/// A marriage registration (婚姻登记), with its divorce when there was one.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marriage {
    /// Registration number (结婚证字号).
    pub id: String,
    /// Resident ID number of the husband (男方).
    pub husband_resident_id: String,
    /// Resident ID number of the wife (女方).
    pub wife_resident_id: String,
    /// Date of registration.
    pub registered_on: Date,
    /// Date of the divorce registration, if divorced.
    pub divorced_on: Option<Date>,
    /// Division of the registering office.
    pub division_code: DivisionCode,
}

impl fmt::Debug for Marriage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Marriage")
            .field("id", &self.id)
            .field("husband", &mask_resident_id(&self.husband_resident_id))
            .field("wife", &mask_resident_id(&self.wife_resident_id))
            .field("registered_on", &self.registered_on)
            .field("divorced_on", &self.divorced_on)
            .finish_non_exhaustive()
    }
}

/// A birth record (出生医学证明): who was born, to whom, where. A newborn has no resident ID
/// number until the household registration (报户口).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Birth {
    /// Number of the medical certificate of birth (出生医学证明编号), unique.
    pub medical_certificate_number: String,
    /// The child's name.
    pub child_name: String,
    /// The child's sex.
    pub child_sex: Sex,
    /// The child's resident ID number, once registered.
    pub child_resident_id: Option<String>,
    /// Resident ID number of the mother.
    pub mother_resident_id: String,
    /// Resident ID number of the father, when known.
    pub father_resident_id: Option<String>,
    /// Date of birth.
    pub birth_date: Date,
    /// Hospital (助产机构).
    pub hospital: String,
}

impl fmt::Debug for Birth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Birth")
            .field(
                "medical_certificate_number",
                &self.medical_certificate_number,
            )
            .field("mother", &mask_resident_id(&self.mother_resident_id))
            .field("birth_date", &self.birth_date)
            .finish_non_exhaustive()
    }
}

/// A death record (死亡医学证明 / 注销登记).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Death {
    /// Resident ID number of the deceased.
    pub resident_id: String,
    /// Date of death.
    pub death_date: Date,
    /// Place of death (a hospital, or 家中).
    pub place: String,
}

impl fmt::Debug for Death {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Death")
            .field("resident_id", &mask_resident_id(&self.resident_id))
            .field("death_date", &self.death_date)
            .finish_non_exhaustive()
    }
}

/// The kind of a legal person, as its credit code's registering authority and category say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalPersonKind {
    /// 企业.
    Enterprise,
    /// 个体工商户.
    IndividualBusiness,
    /// 农民专业合作社.
    FarmerCooperative,
    /// 社会团体.
    SocialOrganisation,
    /// 民办非企业单位.
    PrivateNonEnterprise,
    /// 基金会.
    Foundation,
    /// 事业单位.
    PublicInstitution,
    /// 机关.
    GovernmentBody,
    /// 其他.
    Other,
}

impl LegalPersonKind {
    /// Every kind.
    pub const ALL: [LegalPersonKind; 9] = [
        Self::Enterprise,
        Self::IndividualBusiness,
        Self::FarmerCooperative,
        Self::SocialOrganisation,
        Self::PrivateNonEnterprise,
        Self::Foundation,
        Self::PublicInstitution,
        Self::GovernmentBody,
        Self::Other,
    ];

    /// The stored text (snake case).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enterprise => "enterprise",
            Self::IndividualBusiness => "individual_business",
            Self::FarmerCooperative => "farmer_cooperative",
            Self::SocialOrganisation => "social_organisation",
            Self::PrivateNonEnterprise => "private_non_enterprise",
            Self::Foundation => "foundation",
            Self::PublicInstitution => "public_institution",
            Self::GovernmentBody => "government_body",
            Self::Other => "other",
        }
    }

    /// The kind stored as `s`, if any.
    pub fn parse(s: &str) -> Option<LegalPersonKind> {
        Self::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }

    /// The kind a credit code's first two characters stand for.
    pub fn of_credit_code(code: &CreditCode) -> LegalPersonKind {
        let s = code.as_str().as_bytes();
        match (s[0], s[1]) {
            (b'9', b'1') => Self::Enterprise,
            (b'9', b'2') => Self::IndividualBusiness,
            (b'9', b'3') => Self::FarmerCooperative,
            (b'5', b'1') => Self::SocialOrganisation,
            (b'5', b'2') => Self::PrivateNonEnterprise,
            (b'5', b'3') => Self::Foundation,
            (b'1', b'1') => Self::GovernmentBody,
            (b'1', b'2') => Self::PublicInstitution,
            _ => Self::Other,
        }
    }
}

/// The status of a legal person (登记状态).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalPersonStatus {
    /// 存续 / 在业.
    Active,
    /// 吊销 (licence revoked).
    Revoked,
    /// 注销 (deregistered).
    Cancelled,
}

impl LegalPersonStatus {
    /// Every status.
    pub const ALL: [LegalPersonStatus; 3] = [Self::Active, Self::Revoked, Self::Cancelled];

    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Revoked => "revoked",
            Self::Cancelled => "cancelled",
        }
    }

    /// The status stored as `s`, if any.
    pub fn parse(s: &str) -> Option<LegalPersonStatus> {
        Self::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }
}

/// An organisation of the legal-person registry (法人基本信息).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalPerson {
    /// Unified social credit code (valid).
    pub credit_code: CreditCode,
    /// Registered name.
    pub name: String,
    /// Kind.
    pub kind: LegalPersonKind,
    /// Resident ID number of the legal representative (法定代表人). Personal data.
    pub legal_representative_resident_id: String,
    /// Name of the legal representative.
    pub legal_representative_name: String,
    /// Status.
    pub status: LegalPersonStatus,
    /// Registered address (住所).
    pub address: String,
    /// Division of registration.
    pub division_code: DivisionCode,
    /// Date of establishment (成立日期).
    pub established_on: Date,
}

impl fmt::Debug for LegalPerson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LegalPerson")
            .field("credit_code", &self.credit_code)
            .field("name", &self.name)
            .field(
                "legal_representative",
                &mask_resident_id(&self.legal_representative_resident_id),
            )
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------
// Validation of rows
// ---------------------------------------------------------------------------------------------

/// What is wrong with one field of a registry row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The field is missing or empty. Code `required`.
    Required,
    /// Longer than allowed. Code `too_long`.
    TooLong {
        /// Largest number of characters allowed.
        max: usize,
    },
    /// Not a valid resident ID number (the identifier's own code).
    ResidentId(ResidentIdError),
    /// Not a valid credit code (the identifier's own code).
    CreditCode(CreditCodeError),
    /// Not a valid division code (the identifier's own code).
    Division(DivisionCodeError),
    /// Not a date `YYYY-MM-DD`. Code `invalid_date`.
    InvalidDate,
    /// A date after today. Code `date_in_future`.
    DateInFuture,
    /// Not one of the allowed values. Code `unknown_value`.
    UnknownValue {
        /// The allowed values.
        allowed: &'static str,
    },
    /// The date of birth differs from the one in the ID number. Code `birth_date_mismatch`.
    BirthDateMismatch,
    /// The sex differs from the one in the ID number. Code `sex_mismatch`.
    SexMismatch,
    /// A date before another date of the same row. Code `date_order`.
    DateBefore {
        /// The field it must not precede.
        other: &'static str,
    },
    /// The person's sex does not fit the role (husband, wife, mother). Code `wrong_sex`.
    WrongSex {
        /// The sex the role needs.
        expected: Sex,
    },
    /// The same person twice in one row. Code `same_person`.
    SamePerson {
        /// The other field naming the same person.
        other: &'static str,
    },
    /// A deceased person without a date of death. Code `death_date_missing`.
    DeathDateMissing,
    /// A date of death for a person who is not deceased. Code `death_date_unexpected`.
    DeathDateUnexpected,
}

/// One problem of one field of a registry row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field (column) name, e.g. `resident_id`.
    pub field: &'static str,
    /// What is wrong.
    pub problem: Problem,
}

impl FieldError {
    fn new(field: &'static str, problem: Problem) -> Self {
        FieldError { field, problem }
    }
}

impl Localized for FieldError {
    fn code(&self) -> &'static str {
        match &self.problem {
            Problem::Required => "required",
            Problem::TooLong { .. } => "too_long",
            Problem::ResidentId(e) => e.code(),
            Problem::CreditCode(e) => e.code(),
            Problem::Division(e) => e.code(),
            Problem::InvalidDate => "invalid_date",
            Problem::DateInFuture => "date_in_future",
            Problem::UnknownValue { .. } => "unknown_value",
            Problem::BirthDateMismatch => "birth_date_mismatch",
            Problem::SexMismatch => "sex_mismatch",
            Problem::DateBefore { .. } => "date_order",
            Problem::WrongSex { .. } => "wrong_sex",
            Problem::SamePerson { .. } => "same_person",
            Problem::DeathDateMissing => "death_date_missing",
            Problem::DeathDateUnexpected => "death_date_unexpected",
        }
    }

    fn message_zh(&self) -> String {
        let f = self.field;
        match &self.problem {
            Problem::Required => format!("字段 {f} 必填"),
            Problem::TooLong { max } => format!("字段 {f} 过长：最多{max}个字符"),
            Problem::ResidentId(e) => format!("字段 {f}：{}", e.message_zh()),
            Problem::CreditCode(e) => format!("字段 {f}：{}", e.message_zh()),
            Problem::Division(e) => format!("字段 {f}：{}", e.message_zh()),
            Problem::InvalidDate => format!("字段 {f} 不是有效日期：请使用 YYYY-MM-DD 格式"),
            Problem::DateInFuture => format!("字段 {f} 的日期晚于今天"),
            Problem::UnknownValue { allowed } => {
                format!("字段 {f} 的取值无效：可选值为 {allowed}")
            }
            Problem::BirthDateMismatch => {
                format!("字段 {f} 与身份证号码中的出生日期不一致")
            }
            Problem::SexMismatch => format!("字段 {f} 与身份证号码中的性别不一致"),
            Problem::DateBefore { other } => format!("字段 {f} 的日期不能早于 {other}"),
            Problem::WrongSex { expected } => {
                format!("字段 {f} 应为{}性的身份证号码", expected.name_zh())
            }
            Problem::SamePerson { other } => format!("字段 {f} 与 {other} 是同一个人"),
            Problem::DeathDateMissing => format!("状态为死亡时必须填写字段 {f}"),
            Problem::DeathDateUnexpected => format!("只有状态为死亡时才能填写字段 {f}"),
        }
    }

    fn message_en(&self) -> String {
        let f = self.field;
        match &self.problem {
            Problem::Required => format!("field {f} is required"),
            Problem::TooLong { max } => format!("field {f} is too long: at most {max} characters"),
            Problem::ResidentId(e) => format!("field {f}: {}", e.message_en()),
            Problem::CreditCode(e) => format!("field {f}: {}", e.message_en()),
            Problem::Division(e) => format!("field {f}: {}", e.message_en()),
            Problem::InvalidDate => format!("field {f} is not a date: use YYYY-MM-DD"),
            Problem::DateInFuture => format!("field {f} is a date in the future"),
            Problem::UnknownValue { allowed } => {
                format!("field {f} has an unknown value: use one of {allowed}")
            }
            Problem::BirthDateMismatch => {
                format!("field {f} differs from the date of birth in the resident ID number")
            }
            Problem::SexMismatch => {
                format!("field {f} differs from the sex in the resident ID number")
            }
            Problem::DateBefore { other } => format!("field {f} cannot be before {other}"),
            Problem::WrongSex { expected } => format!(
                "field {f} must be the resident ID number of a {}",
                match expected {
                    Sex::Male => "man",
                    Sex::Female => "woman",
                }
            ),
            Problem::SamePerson { other } => format!("field {f} names the same person as {other}"),
            Problem::DeathDateMissing => format!("field {f} is required for a deceased person"),
            Problem::DeathDateUnexpected => {
                format!("field {f} is only allowed for a deceased person")
            }
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_en())
    }
}

impl std::error::Error for FieldError {}

/// A person row as text (CSV columns or JSON members of the same names).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonInput {
    /// Resident ID number.
    pub resident_id: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Sex (`male`/`female`; optional: taken from the ID number).
    pub sex: Option<String>,
    /// Date of birth (optional: taken from the ID number).
    pub birth_date: Option<String>,
    /// Ethnicity.
    pub ethnicity: Option<String>,
    /// Division of household registration (optional: the ID number's division).
    pub division_code: Option<String>,
    /// Household id.
    pub household_id: Option<String>,
    /// Status (default `active`).
    pub status: Option<String>,
    /// Date of death.
    pub death_date: Option<String>,
}

/// A household row as text.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HouseholdInput {
    /// Household number.
    pub id: Option<String>,
    /// Division.
    pub division_code: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// Head of household.
    pub head_resident_id: Option<String>,
}

/// A marriage row as text.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarriageInput {
    /// Registration number.
    pub id: Option<String>,
    /// Husband.
    pub husband_resident_id: Option<String>,
    /// Wife.
    pub wife_resident_id: Option<String>,
    /// Registration date.
    pub registered_on: Option<String>,
    /// Divorce date.
    pub divorced_on: Option<String>,
    /// Division of the registering office.
    pub division_code: Option<String>,
}

/// A birth row as text.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BirthInput {
    /// Medical certificate number.
    pub medical_certificate_number: Option<String>,
    /// Child's name.
    pub child_name: Option<String>,
    /// Child's sex.
    pub child_sex: Option<String>,
    /// Child's resident ID number.
    pub child_resident_id: Option<String>,
    /// Mother.
    pub mother_resident_id: Option<String>,
    /// Father.
    pub father_resident_id: Option<String>,
    /// Date of birth.
    pub birth_date: Option<String>,
    /// Hospital.
    pub hospital: Option<String>,
}

/// A death row as text.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeathInput {
    /// The deceased.
    pub resident_id: Option<String>,
    /// Date of death.
    pub death_date: Option<String>,
    /// Place of death.
    pub place: Option<String>,
}

/// An organisation row as text.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegalPersonInput {
    /// Credit code.
    pub credit_code: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Kind (optional: from the credit code).
    pub kind: Option<String>,
    /// Legal representative's resident ID number.
    pub legal_representative_resident_id: Option<String>,
    /// Legal representative's name.
    pub legal_representative_name: Option<String>,
    /// Status (default `active`).
    pub status: Option<String>,
    /// Registered address.
    pub address: Option<String>,
    /// Division (optional: from the credit code).
    pub division_code: Option<String>,
    /// Date of establishment.
    pub established_on: Option<String>,
}

/// Collects field problems while a row is parsed.
struct Checker {
    today: Date,
    errors: Vec<FieldError>,
}

/// A present, non-blank, trimmed value.
fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Checker {
    fn new(today: Date) -> Self {
        Checker {
            today,
            errors: Vec::new(),
        }
    }

    fn push(&mut self, field: &'static str, problem: Problem) {
        self.errors.push(FieldError::new(field, problem));
    }

    fn text(&mut self, field: &'static str, v: &Option<String>, max: usize) -> Option<String> {
        match present(v) {
            None => {
                self.push(field, Problem::Required);
                None
            }
            Some(s) => self.limit(field, s, max),
        }
    }

    fn optional_text(
        &mut self,
        field: &'static str,
        v: &Option<String>,
        max: usize,
    ) -> Option<Option<String>> {
        match present(v) {
            None => Some(None),
            Some(s) => self.limit(field, s, max).map(Some),
        }
    }

    fn limit(&mut self, field: &'static str, s: &str, max: usize) -> Option<String> {
        if s.chars().count() > max {
            self.push(field, Problem::TooLong { max });
            None
        } else {
            Some(s.to_owned())
        }
    }

    fn resident_id(&mut self, field: &'static str, v: &Option<String>) -> Option<ResidentId> {
        match present(v) {
            None => {
                self.push(field, Problem::Required);
                None
            }
            Some(s) => self.parse_resident_id(field, s),
        }
    }

    fn optional_resident_id(
        &mut self,
        field: &'static str,
        v: &Option<String>,
    ) -> Option<Option<ResidentId>> {
        match present(v) {
            None => Some(None),
            Some(s) => self.parse_resident_id(field, s).map(Some),
        }
    }

    fn parse_resident_id(&mut self, field: &'static str, s: &str) -> Option<ResidentId> {
        match ResidentId::parse(s, self.today) {
            Ok(id) => Some(id),
            Err(e) => {
                self.push(field, Problem::ResidentId(e));
                None
            }
        }
    }

    fn division(&mut self, field: &'static str, s: &str) -> Option<DivisionCode> {
        match DivisionCode::parse(s) {
            Ok(d) => Some(d),
            Err(e) => {
                self.push(field, Problem::Division(e));
                None
            }
        }
    }

    fn date(&mut self, field: &'static str, v: &Option<String>) -> Option<Date> {
        match present(v) {
            None => {
                self.push(field, Problem::Required);
                None
            }
            Some(s) => self.parse_date(field, s),
        }
    }

    fn optional_date(&mut self, field: &'static str, v: &Option<String>) -> Option<Option<Date>> {
        match present(v) {
            None => Some(None),
            Some(s) => self.parse_date(field, s).map(Some),
        }
    }

    fn parse_date(&mut self, field: &'static str, s: &str) -> Option<Date> {
        match s.parse::<Date>() {
            Ok(d) if s.len() == 10 => {
                if d > self.today {
                    self.push(field, Problem::DateInFuture);
                    None
                } else {
                    Some(d)
                }
            }
            _ => {
                self.push(field, Problem::InvalidDate);
                None
            }
        }
    }

    fn sex(&mut self, field: &'static str, v: &Option<String>) -> Option<Option<Sex>> {
        match present(v) {
            None => Some(None),
            Some(s) => match parse_sex(s) {
                Some(sex) => Some(Some(sex)),
                None => {
                    self.push(
                        field,
                        Problem::UnknownValue {
                            allowed: "male, female",
                        },
                    );
                    None
                }
            },
        }
    }

    fn order(&mut self, field: &'static str, later: Date, other: &'static str, earlier: Date) {
        if later < earlier {
            self.push(field, Problem::DateBefore { other });
        }
    }

    fn finish<T>(self, value: Option<T>) -> Result<T, Vec<FieldError>> {
        match value {
            Some(v) if self.errors.is_empty() => Ok(v),
            _ => Err(self.errors),
        }
    }
}

/// Checks a person row as of `today` (dates after it are refused).
pub fn parse_person(input: &PersonInput, today: Date) -> Result<RegistryPerson, Vec<FieldError>> {
    let mut c = Checker::new(today);
    let id = c.resident_id("resident_id", &input.resident_id);
    let name = c.text("name", &input.name, MAX_PERSON_NAME_CHARS);
    let sex = c.sex("sex", &input.sex);
    let birth = c.optional_date("birth_date", &input.birth_date);
    let ethnicity = c.optional_text("ethnicity", &input.ethnicity, 16);
    let division = match present(&input.division_code) {
        Some(s) => c.division("division_code", s).map(Some),
        None => Some(None),
    };
    let household = c.optional_text("household_id", &input.household_id, MAX_ID_CHARS);
    let status = match present(&input.status) {
        None => Some(PersonStatus::Active),
        Some(s) => {
            let st = PersonStatus::parse(s);
            if st.is_none() {
                c.push(
                    "status",
                    Problem::UnknownValue {
                        allowed: "active, deceased, cancelled",
                    },
                );
            }
            st
        }
    };
    let death = c.optional_date("death_date", &input.death_date);
    if let (Some(id), Some(Some(sex))) = (&id, sex)
        && id.sex() != sex
    {
        c.push("sex", Problem::SexMismatch);
    }
    if let (Some(id), Some(Some(birth))) = (&id, birth)
        && id.birth_date() != birth
    {
        c.push("birth_date", Problem::BirthDateMismatch);
    }
    match (status, death) {
        (Some(PersonStatus::Deceased), Some(None)) => {
            c.push("death_date", Problem::DeathDateMissing)
        }
        (Some(PersonStatus::Active | PersonStatus::Cancelled), Some(Some(_))) => {
            c.push("death_date", Problem::DeathDateUnexpected)
        }
        (_, Some(Some(d))) => {
            if let Some(id) = &id {
                c.order("death_date", d, "birth_date", id.birth_date());
            }
        }
        _ => {}
    }
    let value = (|| {
        let id = id?;
        Some(RegistryPerson {
            resident_id: id.expose().to_owned(),
            name: name?,
            sex: id.sex(),
            birth_date: id.birth_date(),
            ethnicity: ethnicity?,
            division_code: division?.unwrap_or(id.division()),
            household_id: household?,
            status: status?,
            death_date: death?,
        })
    })();
    c.finish(value)
}

/// Checks a household row.
pub fn parse_household(input: &HouseholdInput, today: Date) -> Result<Household, Vec<FieldError>> {
    let mut c = Checker::new(today);
    let id = c.text("id", &input.id, MAX_ID_CHARS);
    let division = match present(&input.division_code) {
        Some(s) => c.division("division_code", s),
        None => {
            c.push("division_code", Problem::Required);
            None
        }
    };
    let address = c.text("address", &input.address, MAX_TEXT_CHARS);
    let head = c.optional_resident_id("head_resident_id", &input.head_resident_id);
    let value = (|| {
        Some(Household {
            id: id?,
            division_code: division?,
            address: address?,
            head_resident_id: head?.map(|h| h.expose().to_owned()),
            members: Vec::new(),
        })
    })();
    c.finish(value)
}

/// Checks a marriage row: the husband's ID number is a man's and the wife's a woman's, both
/// were of legal age is not checked (older registrations followed older laws), the divorce is
/// not before the registration.
pub fn parse_marriage(input: &MarriageInput, today: Date) -> Result<Marriage, Vec<FieldError>> {
    let mut c = Checker::new(today);
    let id = c.text("id", &input.id, MAX_ID_CHARS);
    let husband = c.resident_id("husband_resident_id", &input.husband_resident_id);
    let wife = c.resident_id("wife_resident_id", &input.wife_resident_id);
    let registered = c.date("registered_on", &input.registered_on);
    let divorced = c.optional_date("divorced_on", &input.divorced_on);
    let division = match present(&input.division_code) {
        Some(s) => c.division("division_code", s),
        None => {
            c.push("division_code", Problem::Required);
            None
        }
    };
    if let Some(h) = &husband
        && h.sex() != Sex::Male
    {
        c.push(
            "husband_resident_id",
            Problem::WrongSex {
                expected: Sex::Male,
            },
        );
    }
    if let Some(w) = &wife
        && w.sex() != Sex::Female
    {
        c.push(
            "wife_resident_id",
            Problem::WrongSex {
                expected: Sex::Female,
            },
        );
    }
    if let (Some(r), Some(Some(d))) = (registered, divorced) {
        c.order("divorced_on", d, "registered_on", r);
    }
    for id in [&husband, &wife].into_iter().flatten() {
        if let Some(r) = registered
            && r < id.birth_date()
        {
            c.push(
                "registered_on",
                Problem::DateBefore {
                    other: "birth_date",
                },
            );
            break;
        }
    }
    let value = (|| {
        Some(Marriage {
            id: id?,
            husband_resident_id: husband?.expose().to_owned(),
            wife_resident_id: wife?.expose().to_owned(),
            registered_on: registered?,
            divorced_on: divorced?,
            division_code: division?,
        })
    })();
    c.finish(value)
}

/// Checks a birth row: the mother's ID number is a woman's, the father's a man's, the child's
/// ID number (if any) agrees with the date of birth and sex, the parents were born before the
/// child.
pub fn parse_birth(input: &BirthInput, today: Date) -> Result<Birth, Vec<FieldError>> {
    let mut c = Checker::new(today);
    let number = c.text(
        "medical_certificate_number",
        &input.medical_certificate_number,
        MAX_ID_CHARS,
    );
    let name = c.text("child_name", &input.child_name, MAX_PERSON_NAME_CHARS);
    let sex = match c.sex("child_sex", &input.child_sex) {
        Some(None) => {
            c.push("child_sex", Problem::Required);
            None
        }
        other => other.flatten(),
    };
    let child = c.optional_resident_id("child_resident_id", &input.child_resident_id);
    let mother = c.resident_id("mother_resident_id", &input.mother_resident_id);
    let father = c.optional_resident_id("father_resident_id", &input.father_resident_id);
    let birth = c.date("birth_date", &input.birth_date);
    let hospital = c.text("hospital", &input.hospital, MAX_TEXT_CHARS);
    if let Some(m) = &mother
        && m.sex() != Sex::Female
    {
        c.push(
            "mother_resident_id",
            Problem::WrongSex {
                expected: Sex::Female,
            },
        );
    }
    if let Some(Some(f)) = &father
        && f.sex() != Sex::Male
    {
        c.push(
            "father_resident_id",
            Problem::WrongSex {
                expected: Sex::Male,
            },
        );
    }
    if let Some(Some(child)) = &child {
        if let Some(b) = birth
            && child.birth_date() != b
        {
            c.push("birth_date", Problem::BirthDateMismatch);
        }
        if let Some(s) = sex
            && child.sex() != s
        {
            c.push("child_sex", Problem::SexMismatch);
        }
    }
    if let Some(b) = birth {
        if let Some(m) = &mother {
            c.order("birth_date", b, "mother_resident_id", m.birth_date());
        }
        if let Some(Some(f)) = &father {
            c.order("birth_date", b, "father_resident_id", f.birth_date());
        }
    }
    let value = (|| {
        Some(Birth {
            medical_certificate_number: number?,
            child_name: name?,
            child_sex: sex?,
            child_resident_id: child?.map(|c| c.expose().to_owned()),
            mother_resident_id: mother?.expose().to_owned(),
            father_resident_id: father?.map(|f| f.expose().to_owned()),
            birth_date: birth?,
            hospital: hospital?,
        })
    })();
    c.finish(value)
}

/// Checks a death row (the death is not before the birth in the ID number).
pub fn parse_death(input: &DeathInput, today: Date) -> Result<Death, Vec<FieldError>> {
    let mut c = Checker::new(today);
    let id = c.resident_id("resident_id", &input.resident_id);
    let date = c.date("death_date", &input.death_date);
    let place = c.text("place", &input.place, MAX_TEXT_CHARS);
    if let (Some(id), Some(d)) = (&id, date) {
        c.order("death_date", d, "birth_date", id.birth_date());
    }
    let value = (|| {
        Some(Death {
            resident_id: id?.expose().to_owned(),
            death_date: date?,
            place: place?,
        })
    })();
    c.finish(value)
}

/// Checks an organisation row.
pub fn parse_legal_person(
    input: &LegalPersonInput,
    today: Date,
) -> Result<LegalPerson, Vec<FieldError>> {
    let mut c = Checker::new(today);
    let code = match present(&input.credit_code) {
        None => {
            c.push("credit_code", Problem::Required);
            None
        }
        Some(s) => match CreditCode::parse(s) {
            Ok(code) => Some(code),
            Err(e) => {
                c.push("credit_code", Problem::CreditCode(e));
                None
            }
        },
    };
    let name = c.text("name", &input.name, MAX_TEXT_CHARS);
    let kind = match present(&input.kind) {
        None => Some(None),
        Some(s) => match LegalPersonKind::parse(s) {
            Some(k) => Some(Some(k)),
            None => {
                c.push(
                    "kind",
                    Problem::UnknownValue {
                        allowed: "enterprise, individual_business, farmer_cooperative, \
                                  social_organisation, private_non_enterprise, foundation, \
                                  public_institution, government_body, other",
                    },
                );
                None
            }
        },
    };
    let rep = c.resident_id(
        "legal_representative_resident_id",
        &input.legal_representative_resident_id,
    );
    let rep_name = c.text(
        "legal_representative_name",
        &input.legal_representative_name,
        MAX_PERSON_NAME_CHARS,
    );
    let status = match present(&input.status) {
        None => Some(LegalPersonStatus::Active),
        Some(s) => {
            let st = LegalPersonStatus::parse(s);
            if st.is_none() {
                c.push(
                    "status",
                    Problem::UnknownValue {
                        allowed: "active, revoked, cancelled",
                    },
                );
            }
            st
        }
    };
    let address = c.text("address", &input.address, MAX_TEXT_CHARS);
    let division = match present(&input.division_code) {
        Some(s) => c.division("division_code", s).map(Some),
        None => Some(None),
    };
    let established = c.date("established_on", &input.established_on);
    let value = (|| {
        let code = code?;
        Some(LegalPerson {
            credit_code: code,
            name: name?,
            kind: kind?.unwrap_or_else(|| LegalPersonKind::of_credit_code(&code)),
            legal_representative_resident_id: rep?.expose().to_owned(),
            legal_representative_name: rep_name?,
            status: status?,
            address: address?,
            division_code: division?.unwrap_or_else(|| code.division()),
            established_on: established?,
        })
    })();
    c.finish(value)
}
