//! Data sharing (公共数据共享): the data catalog (数据目录), access requests and their decision,
//! grants (授权) scoped to fields, purpose and expiry, masking (脱敏) and the access log (调用日志).
//!
//! Rules decided here (documented for data administrators in `docs/DATA-SHARING.md`):
//! - **A resource is valid** when its code is `SCREAMING_SNAKE` (2–64 characters), it has a
//!   Chinese and an English name, its provider is a valid unified social credit code, it has at
//!   least one field, field keys are `snake_case` and unique, labels are not empty.
//! - **Sharing types:** `unconditional` (any registered consumer, granted at once),
//!   `conditional` (the provider approves or rejects within a deadline in working days),
//!   `not_shared` (every request is refused). Conditional and not-shared resources must state
//!   their basis (the condition, or the legal basis for withholding); unconditional ones may.
//! - **Grades:** an unconditional resource holds no L4 field (sensitive data is never shared
//!   without the provider's approval), and an L4 field is masked by omission only (never shown
//!   in part outside a grant).
//! - **Masking is configurable per field** ([`MaskRule`]): the common conventions (resident ID
//!   first 6 + last 4, phone first 3 + last 4, name first character) are *unverified as a rule*
//!   (DOMAIN.md §8), so every field names its own rule. A masked value keeps its length in
//!   characters and reveals at most the rule's characters, and only when at least one (resident
//!   ID and phone: four) characters stay hidden; otherwise every character is hidden.
//! - **Requests** name known fields (at least one, no duplicates), a purpose in
//!   `lower-kebab-case` (2–64 characters, e.g. `service-application`) and an expiry after today
//!   and at most [`MAX_GRANT_DAYS`] days ahead. All problems are listed at once.
//! - **Reading** needs a live grant (not revoked, expiry not passed) of the consumer for the
//!   resource with exactly the read's purpose. Granted fields are returned in full; the others are
//!   masked or left out by their rule.

use std::collections::BTreeSet;
use std::fmt;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::Localized;
use crate::calendar::{CalendarError, WorkCalendar};
use crate::identifiers::CreditCode;

/// The purpose the platform uses when it resolves an application's materials from shared data.
pub const SERVICE_APPLICATION_PURPOSE: &str = "service-application";

/// The longest a grant may run, in days from the day it is requested.
pub const MAX_GRANT_DAYS: i64 = 3 * 366;

/// Sensitivity grade (数据分级) L1 (not sensitive) to L4 (sensitive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Grade {
    /// Not sensitive.
    L1,
    /// Low sensitivity.
    L2,
    /// Sensitive.
    L3,
    /// Highly sensitive: never shared unconditionally, never shown in part.
    L4,
}

/// The type of a data field's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Text.
    String,
    /// A civil date `YYYY-MM-DD`.
    Date,
    /// An integer.
    Integer,
    /// A decimal number (money in fen is an integer instead).
    Decimal,
    /// True or false.
    Boolean,
    /// Binary content (base64) or a reference to it, such as a photo.
    Binary,
}

/// How a field outside the grant is shown. Written `resident_id`, `phone`, `name`, `omit` or
/// `{"keep": {"head": H, "tail": T}}` (the same in JSON and YAML).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(from = "MaskRepr", into = "MaskRepr")]
pub enum MaskRule {
    /// Resident ID: first 6 and last 4 characters.
    ResidentId,
    /// Phone number: first 3 and last 4 characters.
    Phone,
    /// Name: the first character.
    Name,
    /// Any text: the first `head` and last `tail` characters (at least one stays hidden).
    Keep {
        /// Characters kept at the start.
        head: u8,
        /// Characters kept at the end.
        tail: u8,
    },
    /// Left out entirely (the default).
    #[default]
    Omit,
}

/// The written form of a [`MaskRule`] (untagged, so that YAML needs no tags).
#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(untagged)]
enum MaskRepr {
    Named(NamedMask),
    Keep { keep: KeepRepr },
}

#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum NamedMask {
    ResidentId,
    Phone,
    Name,
    Omit,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeepRepr {
    head: u8,
    tail: u8,
}

impl From<MaskRepr> for MaskRule {
    fn from(r: MaskRepr) -> Self {
        match r {
            MaskRepr::Named(NamedMask::ResidentId) => MaskRule::ResidentId,
            MaskRepr::Named(NamedMask::Phone) => MaskRule::Phone,
            MaskRepr::Named(NamedMask::Name) => MaskRule::Name,
            MaskRepr::Named(NamedMask::Omit) => MaskRule::Omit,
            MaskRepr::Keep { keep } => MaskRule::Keep {
                head: keep.head,
                tail: keep.tail,
            },
        }
    }
}

impl From<MaskRule> for MaskRepr {
    fn from(r: MaskRule) -> Self {
        match r {
            MaskRule::ResidentId => MaskRepr::Named(NamedMask::ResidentId),
            MaskRule::Phone => MaskRepr::Named(NamedMask::Phone),
            MaskRule::Name => MaskRepr::Named(NamedMask::Name),
            MaskRule::Omit => MaskRepr::Named(NamedMask::Omit),
            MaskRule::Keep { head, tail } => MaskRepr::Keep {
                keep: KeepRepr { head, tail },
            },
        }
    }
}

impl MaskRule {
    /// `(head, tail, min_hidden)` of a partial rule; `None` for [`MaskRule::Omit`].
    fn shape(self) -> Option<(usize, usize, usize)> {
        match self {
            MaskRule::ResidentId => Some((6, 4, 4)),
            MaskRule::Phone => Some((3, 4, 4)),
            MaskRule::Name => Some((1, 0, 1)),
            MaskRule::Keep { head, tail } => Some((head.into(), tail.into(), 1)),
            MaskRule::Omit => None,
        }
    }

    /// The most characters the rule ever reveals.
    pub fn max_revealed(self) -> usize {
        self.shape().map_or(0, |(h, t, _)| h + t)
    }

    /// The masked form of `value`, or `None` when the rule leaves the field out.
    pub fn apply(self, value: &str) -> Option<String> {
        let (head, tail, min_hidden) = self.shape()?;
        Some(keep_ends(value, head, tail, min_hidden))
    }
}

/// `value` with every character but the first `head` and last `tail` replaced by `*`; every
/// character is replaced when fewer than `min_hidden` (at least 1) would stay hidden.
pub fn keep_ends(value: &str, head: usize, tail: usize, min_hidden: usize) -> String {
    let n = value.chars().count();
    let reveal = head.saturating_add(tail);
    let hidden_if_revealed = n.saturating_sub(reveal);
    let show_ends = n > reveal && hidden_if_revealed >= min_hidden.max(1);
    value
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if show_ends && (i < head || i >= n - tail) {
                c
            } else {
                '*'
            }
        })
        .collect()
}

/// Masks a resident ID number: first 6 and last 4 (`330102********0138`).
pub fn mask_resident_id(value: &str) -> String {
    keep_ends(value, 6, 4, 4)
}

/// Masks a phone number: first 3 and last 4 (`138****1234`).
pub fn mask_phone(value: &str) -> String {
    keep_ends(value, 3, 4, 4)
}

/// Masks a name: the first character (`陈**`).
pub fn mask_name(value: &str) -> String {
    keep_ends(value, 1, 0, 1)
}

/// Whose data a resource holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// A natural person, identified by resident ID number.
    Person,
    /// A legal person, identified by unified social credit code.
    Organisation,
}

/// Sharing type (共享类型).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SharingType {
    /// 无条件共享: any registered consumer, granted at once.
    Unconditional,
    /// 有条件共享: on the provider's approval.
    Conditional,
    /// 不予共享: refused; needs a legal basis.
    NotShared,
}

impl SharingType {
    /// Name in Chinese.
    pub fn label_zh(self) -> &'static str {
        match self {
            SharingType::Unconditional => "无条件共享",
            SharingType::Conditional => "有条件共享",
            SharingType::NotShared => "不予共享",
        }
    }
}

/// How often the provider updates a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateCycle {
    /// As it happens.
    RealTime,
    /// Daily.
    Daily,
    /// Weekly.
    Weekly,
    /// Monthly.
    Monthly,
    /// Quarterly.
    Quarterly,
    /// Yearly.
    Yearly,
}

/// One data field (信息项) of a resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataField {
    /// Key in records, `snake_case`.
    pub key: String,
    /// Label in Chinese.
    pub label: String,
    /// Label in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_en: Option<String>,
    /// Value type.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Sensitivity grade.
    pub grade: Grade,
    /// How the field is shown outside a grant.
    #[serde(default)]
    pub mask: MaskRule,
}

/// A data resource (数据资源) of the data catalog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataResource {
    /// Code, `SCREAMING_SNAKE` (e.g. `ZJ_MARRIAGE_RECORD`).
    pub code: String,
    /// Name in Chinese.
    pub name: String,
    /// Name in English.
    pub name_en: String,
    /// Provider department's unified social credit code.
    pub provider: String,
    /// Provider department's name.
    pub provider_name: String,
    /// Whose data it is.
    pub subject: SubjectKind,
    /// Fields.
    pub fields: Vec<DataField>,
    /// Sharing type.
    pub sharing: SharingType,
    /// The condition (conditional) or legal basis (not shared) or the reason it is open.
    #[serde(default)]
    pub basis: String,
    /// Update cycle.
    pub update_cycle: UpdateCycle,
    /// Abstract (摘要).
    #[serde(default)]
    pub summary: String,
}

impl DataResource {
    /// The field with `key`.
    pub fn field(&self, key: &str) -> Option<&DataField> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// Keys of the fields up to and including `grade`, in order.
    pub fn fields_up_to(&self, grade: Grade) -> Vec<String> {
        self.fields
            .iter()
            .filter(|f| f.grade <= grade)
            .map(|f| f.key.clone())
            .collect()
    }
}

/// A problem with a resource, a request or a read, at a path of the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharingProblem {
    /// Path of the field (`fields[2].key`, `purpose`…).
    pub path: String,
    /// What is wrong.
    pub kind: ProblemKind,
}

/// What is wrong with an input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    /// A required value is empty.
    Required,
    /// A resource code is not `SCREAMING_SNAKE`, 2–64 characters.
    CodeFormat,
    /// The provider is not a valid credit code.
    InvalidProvider,
    /// A field key is not `snake_case`, 1–64 characters.
    FieldKeyFormat,
    /// A key is listed twice.
    Duplicate(String),
    /// A field key the resource does not have.
    UnknownField(String),
    /// An unconditional resource holds an L4 field.
    L4InUnconditional,
    /// An L4 field masked other than by omission.
    L4MustBeOmitted,
    /// Conditional or not-shared without its basis.
    BasisRequired(SharingType),
    /// A purpose not in `lower-kebab-case`, 2–64 characters.
    PurposeFormat,
    /// The expiry is not after today.
    ExpiryInPast,
    /// The expiry is too far ahead.
    ExpiryTooFar,
}

impl SharingProblem {
    fn new(path: impl Into<String>, kind: ProblemKind) -> Self {
        SharingProblem {
            path: path.into(),
            kind,
        }
    }
}

impl Localized for SharingProblem {
    fn code(&self) -> &'static str {
        match &self.kind {
            ProblemKind::Required => "required",
            ProblemKind::CodeFormat => "data_resource_code_format",
            ProblemKind::InvalidProvider => "invalid_credit_code",
            ProblemKind::FieldKeyFormat => "data_field_key_format",
            ProblemKind::Duplicate(_) => "duplicate_code",
            ProblemKind::UnknownField(_) => "data_field_unknown",
            ProblemKind::L4InUnconditional => "data_l4_in_unconditional",
            ProblemKind::L4MustBeOmitted => "data_l4_must_be_omitted",
            ProblemKind::BasisRequired(_) => "data_sharing_basis_required",
            ProblemKind::PurposeFormat => "data_purpose_format",
            ProblemKind::ExpiryInPast => "data_expiry_in_past",
            ProblemKind::ExpiryTooFar => "data_expiry_too_far",
        }
    }

    fn message_zh(&self) -> String {
        match &self.kind {
            ProblemKind::Required => "此项为必填项".into(),
            ProblemKind::CodeFormat => {
                "资源编码须为2至64位大写字母、数字和下划线，以字母开头（如 ZJ_MARRIAGE_RECORD）"
                    .into()
            }
            ProblemKind::InvalidProvider => "提供部门须为有效的统一社会信用代码".into(),
            ProblemKind::FieldKeyFormat => {
                "信息项标识须为1至64位小写字母、数字和下划线，以字母开头".into()
            }
            ProblemKind::Duplicate(k) => format!("“{k}”重复"),
            ProblemKind::UnknownField(k) => format!("数据资源没有信息项“{k}”"),
            ProblemKind::L4InUnconditional => {
                "无条件共享的数据资源不能包含L4级（敏感）信息项：请改为有条件共享".into()
            }
            ProblemKind::L4MustBeOmitted => "L4级信息项在授权范围外只能不予返回（omit）".into(),
            ProblemKind::BasisRequired(SharingType::NotShared) => {
                "不予共享须写明法律法规或政策依据".into()
            }
            ProblemKind::BasisRequired(_) => "有条件共享须写明共享条件".into(),
            ProblemKind::PurposeFormat => {
                "用途须为2至64位小写字母、数字和连字符（如 service-application）".into()
            }
            ProblemKind::ExpiryInPast => "有效期须晚于今天".into(),
            ProblemKind::ExpiryTooFar => format!("有效期最长为{MAX_GRANT_DAYS}天"),
        }
    }

    fn message_en(&self) -> String {
        match &self.kind {
            ProblemKind::Required => "This value is required".into(),
            ProblemKind::CodeFormat => "A resource code has 2 to 64 capital letters, digits and \
                                        underscores, starting with a letter (e.g. \
                                        ZJ_MARRIAGE_RECORD)"
                .into(),
            ProblemKind::InvalidProvider => {
                "The provider must be a valid unified social credit code".into()
            }
            ProblemKind::FieldKeyFormat => "A field key has 1 to 64 small letters, digits and \
                                            underscores, starting with a letter"
                .into(),
            ProblemKind::Duplicate(k) => format!("\"{k}\" is listed twice"),
            ProblemKind::UnknownField(k) => format!("The resource has no field \"{k}\""),
            ProblemKind::L4InUnconditional => "An unconditionally shared resource cannot hold \
                                               L4 (sensitive) fields: make it conditional"
                .into(),
            ProblemKind::L4MustBeOmitted => {
                "An L4 field can only be omitted outside a grant (mask: omit)".into()
            }
            ProblemKind::BasisRequired(SharingType::NotShared) => {
                "A resource that is not shared needs its legal basis".into()
            }
            ProblemKind::BasisRequired(_) => {
                "A conditionally shared resource needs its condition".into()
            }
            ProblemKind::PurposeFormat => "A purpose has 2 to 64 small letters, digits and \
                                           hyphens (e.g. service-application)"
                .into(),
            ProblemKind::ExpiryInPast => "The expiry must be after today".into(),
            ProblemKind::ExpiryTooFar => {
                format!("A grant runs for at most {MAX_GRANT_DAYS} days")
            }
        }
    }
}

fn is_resource_code(s: &str) -> bool {
    (2..=64).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn is_field_key(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Whether `s` is a valid purpose: `lower-kebab-case`, 2–64 characters.
pub fn is_purpose(s: &str) -> bool {
    (2..=64).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
        && !s.contains("--")
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Checks a resource; every problem is listed.
pub fn validate_resource(r: &DataResource) -> Result<(), Vec<SharingProblem>> {
    let mut p = Vec::new();
    if !is_resource_code(&r.code) {
        p.push(SharingProblem::new("code", ProblemKind::CodeFormat));
    }
    for (path, v) in [("name", &r.name), ("name_en", &r.name_en)] {
        if v.trim().is_empty() {
            p.push(SharingProblem::new(path, ProblemKind::Required));
        }
    }
    if r.provider_name.trim().is_empty() {
        p.push(SharingProblem::new("provider_name", ProblemKind::Required));
    }
    if CreditCode::parse(&r.provider).is_err() {
        p.push(SharingProblem::new(
            "provider",
            ProblemKind::InvalidProvider,
        ));
    }
    if r.fields.is_empty() {
        p.push(SharingProblem::new("fields", ProblemKind::Required));
    }
    let mut seen = BTreeSet::new();
    for (i, f) in r.fields.iter().enumerate() {
        if !is_field_key(&f.key) {
            p.push(SharingProblem::new(
                format!("fields[{i}].key"),
                ProblemKind::FieldKeyFormat,
            ));
        } else if !seen.insert(f.key.as_str()) {
            p.push(SharingProblem::new(
                format!("fields[{i}].key"),
                ProblemKind::Duplicate(f.key.clone()),
            ));
        }
        if f.label.trim().is_empty() {
            p.push(SharingProblem::new(
                format!("fields[{i}].label"),
                ProblemKind::Required,
            ));
        }
        if f.grade == Grade::L4 {
            if r.sharing == SharingType::Unconditional {
                p.push(SharingProblem::new(
                    format!("fields[{i}].grade"),
                    ProblemKind::L4InUnconditional,
                ));
            }
            if f.mask != MaskRule::Omit {
                p.push(SharingProblem::new(
                    format!("fields[{i}].mask"),
                    ProblemKind::L4MustBeOmitted,
                ));
            }
        }
    }
    if r.sharing != SharingType::Unconditional && r.basis.trim().is_empty() {
        p.push(SharingProblem::new(
            "basis",
            ProblemKind::BasisRequired(r.sharing),
        ));
    }
    if p.is_empty() { Ok(()) } else { Err(p) }
}

/// Who consumes shared data.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Consumer {
    /// A machine client (a department system) by its OAuth `client_id`.
    Client(String),
    /// A service item by its implementation code (实施编码), used when the platform resolves
    /// an application's materials.
    Item(String),
}

impl Consumer {
    /// `client` or `item`.
    pub fn kind(&self) -> &'static str {
        match self {
            Consumer::Client(_) => "client",
            Consumer::Item(_) => "item",
        }
    }

    /// The client id or implementation code.
    pub fn id(&self) -> &str {
        match self {
            Consumer::Client(id) | Consumer::Item(id) => id,
        }
    }

    /// From the kind and id as stored; `None` for an unknown kind or an empty id.
    pub fn from_parts(kind: &str, id: &str) -> Option<Consumer> {
        if id.is_empty() {
            return None;
        }
        match kind {
            "client" => Some(Consumer::Client(id.to_owned())),
            "item" => Some(Consumer::Item(id.to_owned())),
            _ => None,
        }
    }

    /// Parses `client:ID` or `item:CODE` (the form used in query parameters).
    pub fn parse(s: &str) -> Option<Consumer> {
        let (kind, id) = s.split_once(':')?;
        Consumer::from_parts(kind, id)
    }
}

impl fmt::Display for Consumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.id())
    }
}

/// What a consumer asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestInput {
    /// Field keys.
    pub fields: Vec<String>,
    /// Purpose (`lower-kebab-case`).
    pub purpose: String,
    /// Last day the grant would be valid.
    pub valid_until: Date,
}

/// Checks a request against the resource; every problem is listed.
pub fn check_request(
    resource: &DataResource,
    input: &RequestInput,
    today: Date,
) -> Result<(), Vec<SharingProblem>> {
    let mut p = Vec::new();
    if input.fields.is_empty() {
        p.push(SharingProblem::new("fields", ProblemKind::Required));
    }
    let mut seen = BTreeSet::new();
    for (i, f) in input.fields.iter().enumerate() {
        if resource.field(f).is_none() {
            p.push(SharingProblem::new(
                format!("fields[{i}]"),
                ProblemKind::UnknownField(f.clone()),
            ));
        } else if !seen.insert(f.as_str()) {
            p.push(SharingProblem::new(
                format!("fields[{i}]"),
                ProblemKind::Duplicate(f.clone()),
            ));
        }
    }
    if !is_purpose(&input.purpose) {
        p.push(SharingProblem::new("purpose", ProblemKind::PurposeFormat));
    }
    if input.valid_until <= today {
        p.push(SharingProblem::new(
            "valid_until",
            ProblemKind::ExpiryInPast,
        ));
    } else if input
        .valid_until
        .since(today)
        .map_or(true, |span| i64::from(span.get_days()) > MAX_GRANT_DAYS)
    {
        p.push(SharingProblem::new(
            "valid_until",
            ProblemKind::ExpiryTooFar,
        ));
    }
    if p.is_empty() { Ok(()) } else { Err(p) }
}

/// The decision on a valid request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestDecision {
    /// Unconditional: granted at once.
    GrantNow,
    /// Conditional: pending until the provider decides, due on `due` (working days).
    Pending {
        /// Last day for the provider's decision.
        due: Date,
    },
    /// Not shared: refused.
    Refused(AccessRefusal),
}

/// Decides a (checked) request: unconditional resources are granted at once, conditional ones
/// wait for the provider until `today` + `approval_days` working days, not-shared ones are
/// refused.
pub fn decide_request(
    resource: &DataResource,
    today: Date,
    approval_days: u32,
    calendar: &WorkCalendar,
) -> Result<RequestDecision, CalendarError> {
    Ok(match resource.sharing {
        SharingType::Unconditional => RequestDecision::GrantNow,
        SharingType::Conditional => RequestDecision::Pending {
            due: calendar.add_working_days(today, approval_days)?.due,
        },
        SharingType::NotShared => RequestDecision::Refused(AccessRefusal::NotShared),
    })
}

/// State of an access request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Waiting for the provider.
    Pending,
    /// Granted (at once or by the provider).
    Approved,
    /// Rejected by the provider.
    Rejected,
}

impl RequestStatus {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Approved => "approved",
            RequestStatus::Rejected => "rejected",
        }
    }

    /// From the stored form.
    pub fn parse(s: &str) -> Option<RequestStatus> {
        match s {
            "pending" => Some(RequestStatus::Pending),
            "approved" => Some(RequestStatus::Approved),
            "rejected" => Some(RequestStatus::Rejected),
            _ => None,
        }
    }
}

/// An access request (共享申请) and its decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRequest {
    /// Id (UUID v7).
    pub id: String,
    /// Who asks.
    pub consumer: Consumer,
    /// Resource code.
    pub resource: String,
    /// Provider department's credit code (copied from the resource).
    pub provider: String,
    /// Field keys asked for.
    pub fields: Vec<String>,
    /// Purpose.
    pub purpose: String,
    /// Last day the grant would be valid.
    pub valid_until: Date,
    /// State.
    pub status: RequestStatus,
    /// Last day for the provider's decision (conditional resources).
    pub due_on: Option<Date>,
    /// Who filed it (`client:…`, `staff:…`, `operator`).
    pub requested_by: String,
    /// When it was filed.
    pub requested_at: Timestamp,
    /// Who decided (`staff:…`, `operator`, `platform` for unconditional resources).
    pub decided_by: Option<String>,
    /// When it was decided.
    pub decided_at: Option<Timestamp>,
    /// The provider's note (reason of a rejection).
    pub decision_note: Option<String>,
}

impl AccessRequest {
    /// Whether it is still pending after its due day.
    pub fn is_overdue(&self, today: Date) -> bool {
        self.status == RequestStatus::Pending && self.due_on.is_some_and(|d| today > d)
    }
}

/// A grant (授权): a consumer may read these fields of a resource for this purpose until the
/// end of `valid_until` (China time).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// Id (UUID v7).
    pub id: String,
    /// Who may read.
    pub consumer: Consumer,
    /// Resource code.
    pub resource: String,
    /// Granted field keys.
    pub fields: Vec<String>,
    /// Purpose.
    pub purpose: String,
    /// Last day of validity.
    pub valid_until: Date,
    /// The request it answers, if any.
    pub request_id: Option<String>,
    /// When it was granted.
    pub granted_at: Timestamp,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
}

impl Grant {
    /// Whether the grant is live on `today`.
    pub fn is_live(&self, today: Date) -> bool {
        self.revoked_at.is_none() && today <= self.valid_until
    }
}

/// Why an access was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum AccessRefusal {
    /// The resource is not shared.
    #[error("resource not shared")]
    NotShared,
    /// No grant of the consumer for the resource.
    #[error("no grant")]
    NoGrant,
    /// Grants exist, but for other purposes.
    #[error("purpose not granted")]
    PurposeNotGranted,
    /// The grant has expired.
    #[error("grant expired")]
    Expired,
    /// The grant was revoked.
    #[error("grant revoked")]
    Revoked,
}

impl AccessRefusal {
    /// Every refusal.
    pub const ALL: [AccessRefusal; 5] = [
        AccessRefusal::NotShared,
        AccessRefusal::NoGrant,
        AccessRefusal::PurposeNotGranted,
        AccessRefusal::Expired,
        AccessRefusal::Revoked,
    ];
}

impl Localized for AccessRefusal {
    fn code(&self) -> &'static str {
        match self {
            AccessRefusal::NotShared => "data_resource_not_shared",
            AccessRefusal::NoGrant => "data_grant_required",
            AccessRefusal::PurposeNotGranted => "data_purpose_not_granted",
            AccessRefusal::Expired => "data_grant_expired",
            AccessRefusal::Revoked => "data_grant_revoked",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            AccessRefusal::NotShared => "该数据资源不予共享，不能申请或调用".into(),
            AccessRefusal::NoGrant => {
                "尚未获得该数据资源的授权：请先提交共享申请，经提供部门批准后再调用".into()
            }
            AccessRefusal::PurposeNotGranted => {
                "已有授权的用途与本次调用的用途不符：请按本次用途另行申请".into()
            }
            AccessRefusal::Expired => "对该数据资源的授权已过期：请重新申请".into(),
            AccessRefusal::Revoked => "对该数据资源的授权已被撤销".into(),
        }
    }

    fn message_en(&self) -> String {
        match self {
            AccessRefusal::NotShared => {
                "This data resource is not shared: it can be neither requested nor read".into()
            }
            AccessRefusal::NoGrant => "No grant for this data resource: request access and read \
                                       it once the provider has approved"
                .into(),
            AccessRefusal::PurposeNotGranted => "Your grants are for other purposes than this \
                                                 read: request access for this purpose"
                .into(),
            AccessRefusal::Expired => {
                "Your grant for this data resource has expired: request access again".into()
            }
            AccessRefusal::Revoked => "Your grant for this data resource was revoked".into(),
        }
    }
}

/// Picks the grant that allows a read of `resource` for `purpose` on `today` from the
/// consumer's grants of that resource, or says why none does (not-shared first, then the best
/// explanation: revoked, expired, other purpose, none).
pub fn authorise_read<'g>(
    resource: &DataResource,
    grants: &'g [Grant],
    purpose: &str,
    today: Date,
) -> Result<&'g Grant, AccessRefusal> {
    if resource.sharing == SharingType::NotShared {
        return Err(AccessRefusal::NotShared);
    }
    let relevant: Vec<&Grant> = grants
        .iter()
        .filter(|g| g.resource == resource.code)
        .collect();
    if let Some(g) = relevant
        .iter()
        .find(|g| g.purpose == purpose && g.is_live(today))
    {
        return Ok(g);
    }
    let same_purpose: Vec<&&Grant> = relevant.iter().filter(|g| g.purpose == purpose).collect();
    if same_purpose.is_empty() {
        return Err(if relevant.is_empty() {
            AccessRefusal::NoGrant
        } else {
            AccessRefusal::PurposeNotGranted
        });
    }
    if same_purpose.iter().any(|g| g.revoked_at.is_none()) {
        Err(AccessRefusal::Expired)
    } else {
        Err(AccessRefusal::Revoked)
    }
}

/// A record shaped for a consumer.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Shaped {
    /// The fields returned, in the resource's order: granted ones in full, others masked.
    pub values: serde_json::Map<String, serde_json::Value>,
    /// Keys returned in full.
    pub full: Vec<String>,
    /// Keys returned masked.
    pub masked: Vec<String>,
}

/// Shapes `record` for a grant of `granted` fields: granted fields in full, the others by
/// their [`MaskRule`] (text values only; other values of non-granted fields are left out), and
/// keys the resource does not define dropped.
pub fn shape_record(
    resource: &DataResource,
    record: &serde_json::Map<String, serde_json::Value>,
    granted: &[String],
) -> Shaped {
    let mut out = Shaped::default();
    for f in &resource.fields {
        let Some(value) = record.get(&f.key) else {
            continue;
        };
        if granted.iter().any(|g| g == &f.key) {
            out.values.insert(f.key.clone(), value.clone());
            out.full.push(f.key.clone());
        } else if let serde_json::Value::String(s) = value
            && let Some(masked) = f.mask.apply(s)
        {
            out.values
                .insert(f.key.clone(), serde_json::Value::String(masked));
            out.masked.push(f.key.clone());
        }
    }
    out
}

/// Outcome of one access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessOutcome {
    /// Data returned.
    Allowed,
    /// The grant allowed the read but the provider has no record of the subject.
    NotFound,
    /// Refused (see the refusal code).
    Refused,
    /// Refused by the consumer's rate limit.
    RateLimited,
}

impl AccessOutcome {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessOutcome::Allowed => "allowed",
            AccessOutcome::NotFound => "not_found",
            AccessOutcome::Refused => "refused",
            AccessOutcome::RateLimited => "rate_limited",
        }
    }

    /// From the stored form.
    pub fn parse(s: &str) -> Option<AccessOutcome> {
        match s {
            "allowed" => Some(AccessOutcome::Allowed),
            "not_found" => Some(AccessOutcome::NotFound),
            "refused" => Some(AccessOutcome::Refused),
            "rate_limited" => Some(AccessOutcome::RateLimited),
            _ => None,
        }
    }
}

/// One row of the access log (调用日志).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessLogEntry {
    /// Id (UUID v7).
    pub id: String,
    /// When.
    pub at: Timestamp,
    /// Who read.
    pub consumer: Consumer,
    /// Resource code.
    pub resource: String,
    /// Provider department's credit code.
    pub provider: String,
    /// Whose data: resident ID or credit code. Personal data: masked in `Debug`.
    pub subject: String,
    /// Fields returned in full.
    pub fields: Vec<String>,
    /// Fields returned masked.
    pub masked_fields: Vec<String>,
    /// Stated purpose.
    pub purpose: String,
    /// Case reference (办件编号), if any.
    pub case_ref: Option<String>,
    /// Outcome.
    pub outcome: AccessOutcome,
    /// The refusal's problem code, when refused.
    pub refusal: Option<String>,
}

impl fmt::Debug for AccessLogEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessLogEntry")
            .field("id", &self.id)
            .field("at", &self.at)
            .field("consumer", &self.consumer)
            .field("resource", &self.resource)
            .field("subject", &mask_resident_id(&self.subject))
            .field("fields", &self.fields)
            .field("purpose", &self.purpose)
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn field(key: &str, grade: Grade, mask: MaskRule) -> DataField {
        DataField {
            key: key.into(),
            label: key.into(),
            label_en: None,
            field_type: FieldType::String,
            grade,
            mask,
        }
    }

    fn resource(sharing: SharingType) -> DataResource {
        DataResource {
            code: "ZJ_MARRIAGE_RECORD".into(),
            name: "婚姻登记信息".into(),
            name_en: "Marriage registrations".into(),
            provider: "113300000024820668".into(),
            provider_name: "浙江省民政厅".into(),
            subject: SubjectKind::Person,
            fields: vec![
                field("resident_id", Grade::L3, MaskRule::ResidentId),
                field("name", Grade::L2, MaskRule::Name),
                field("spouse_name", Grade::L3, MaskRule::Name),
                field("registered_on", Grade::L2, MaskRule::Omit),
            ],
            sharing,
            basis: "《婚姻登记条例》".into(),
            update_cycle: UpdateCycle::RealTime,
            summary: String::new(),
        }
    }

    fn codes(p: &[SharingProblem]) -> Vec<(&str, &str)> {
        p.iter().map(|p| (p.path.as_str(), p.code())).collect()
    }

    #[test]
    fn a_good_resource_passes() {
        validate_resource(&resource(SharingType::Conditional)).unwrap();
    }

    #[test]
    fn every_problem_of_a_resource_is_listed() {
        let mut r = resource(SharingType::Unconditional);
        r.code = "zj-bad".into();
        r.name = " ".into();
        r.provider = "91330100716105852X".into();
        r.fields.push(field("name", Grade::L1, MaskRule::Omit));
        r.fields.push(field("Bad Key", Grade::L1, MaskRule::Omit));
        r.fields.push(field("photo", Grade::L4, MaskRule::Name));
        let p = validate_resource(&r).unwrap_err();
        assert_eq!(
            codes(&p),
            vec![
                ("code", "data_resource_code_format"),
                ("name", "required"),
                ("provider", "invalid_credit_code"),
                ("fields[4].key", "duplicate_code"),
                ("fields[5].key", "data_field_key_format"),
                ("fields[6].grade", "data_l4_in_unconditional"),
                ("fields[6].mask", "data_l4_must_be_omitted"),
            ]
        );
        let mut r = resource(SharingType::NotShared);
        r.basis = String::new();
        r.fields.clear();
        let p = validate_resource(&r).unwrap_err();
        assert_eq!(
            codes(&p),
            vec![
                ("fields", "required"),
                ("basis", "data_sharing_basis_required")
            ]
        );
        assert!(p[1].message_en().contains("legal basis"));
    }

    #[test]
    fn requests_are_checked() {
        let r = resource(SharingType::Conditional);
        let today = date(2026, 11, 20);
        let ok = RequestInput {
            fields: vec!["name".into(), "registered_on".into()],
            purpose: SERVICE_APPLICATION_PURPOSE.into(),
            valid_until: date(2027, 11, 20),
        };
        check_request(&r, &ok, today).unwrap();
        let bad = RequestInput {
            fields: vec!["name".into(), "name".into(), "salary".into()],
            purpose: "Service Application".into(),
            valid_until: today,
        };
        let p = check_request(&r, &bad, today).unwrap_err();
        assert_eq!(
            codes(&p),
            vec![
                ("fields[1]", "duplicate_code"),
                ("fields[2]", "data_field_unknown"),
                ("purpose", "data_purpose_format"),
                ("valid_until", "data_expiry_in_past"),
            ]
        );
        let far = RequestInput {
            valid_until: date(2030, 1, 1),
            ..ok
        };
        assert_eq!(
            codes(&check_request(&r, &far, today).unwrap_err()),
            vec![("valid_until", "data_expiry_too_far")]
        );
    }

    #[test]
    fn decisions_follow_the_sharing_type_and_the_calendar() {
        let cal = WorkCalendar::builtin();
        // Friday 2026-09-18: five working days later skips the weekend and the holiday
        // 09-25…09-27 but counts the make-up Sunday 09-20.
        let today = date(2026, 9, 18);
        assert_eq!(
            decide_request(&resource(SharingType::Unconditional), today, 5, &cal).unwrap(),
            RequestDecision::GrantNow
        );
        let due = cal.add_working_days(today, 5).unwrap().due;
        assert_eq!(
            decide_request(&resource(SharingType::Conditional), today, 5, &cal).unwrap(),
            RequestDecision::Pending { due }
        );
        assert_eq!(due, date(2026, 9, 24));
        assert_eq!(
            decide_request(&resource(SharingType::NotShared), today, 5, &cal).unwrap(),
            RequestDecision::Refused(AccessRefusal::NotShared)
        );
    }

    fn grant(purpose: &str, until: Date, revoked: bool) -> Grant {
        Grant {
            id: "g".into(),
            consumer: Consumer::Client("c".into()),
            resource: "ZJ_MARRIAGE_RECORD".into(),
            fields: vec!["name".into()],
            purpose: purpose.into(),
            valid_until: until,
            request_id: None,
            granted_at: Timestamp::UNIX_EPOCH,
            revoked_at: revoked.then_some(Timestamp::UNIX_EPOCH),
        }
    }

    #[test]
    fn reads_need_a_live_grant_for_the_purpose() {
        let r = resource(SharingType::Conditional);
        let today = date(2026, 11, 20);
        let p = SERVICE_APPLICATION_PURPOSE;
        assert_eq!(
            authorise_read(&r, &[], p, today),
            Err(AccessRefusal::NoGrant)
        );
        let other = [grant("audit", date(2027, 1, 1), false)];
        assert_eq!(
            authorise_read(&r, &other, p, today),
            Err(AccessRefusal::PurposeNotGranted)
        );
        let expired = [grant(p, date(2026, 11, 19), false)];
        assert_eq!(
            authorise_read(&r, &expired, p, today),
            Err(AccessRefusal::Expired)
        );
        let revoked = [grant(p, date(2027, 1, 1), true)];
        assert_eq!(
            authorise_read(&r, &revoked, p, today),
            Err(AccessRefusal::Revoked)
        );
        // The last day is still valid.
        let live = [grant(p, today, false)];
        assert!(authorise_read(&r, &live, p, today).is_ok());
        let mut ns = r.clone();
        ns.sharing = SharingType::NotShared;
        assert_eq!(
            authorise_read(&ns, &live, p, today),
            Err(AccessRefusal::NotShared)
        );
    }

    #[test]
    fn records_are_shaped_by_grant_and_mask() {
        let r = resource(SharingType::Conditional);
        let record: serde_json::Map<_, _> = serde_json::from_value(serde_json::json!({
            "resident_id": "330102198503140138",
            "name": "陈志明",
            "spouse_name": "林晓燕",
            "registered_on": "2015-05-20",
            "secret": "not in the schema",
        }))
        .unwrap();
        let s = shape_record(&r, &record, &["spouse_name".into()]);
        assert_eq!(
            serde_json::Value::Object(s.values),
            serde_json::json!({
                "resident_id": "330102********0138",
                "name": "陈**",
                "spouse_name": "林晓燕",
            })
        );
        assert_eq!(s.full, vec!["spouse_name"]);
        assert_eq!(s.masked, vec!["resident_id", "name"]);
    }

    #[test]
    fn conventional_masks() {
        assert_eq!(mask_resident_id("11010519491231002X"), "110105********002X");
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_name("陈志明"), "陈**");
        assert_eq!(mask_name("陈"), "*");
        assert_eq!(mask_phone("12345"), "*****");
        assert_eq!(MaskRule::Omit.apply("x"), None);
        assert_eq!(
            MaskRule::Keep { head: 2, tail: 1 }.apply("浙江省杭州市"),
            Some("浙江***市".into())
        );
    }

    #[test]
    fn mask_rules_are_written_without_tags() {
        for (rule, json) in [
            (MaskRule::ResidentId, serde_json::json!("resident_id")),
            (MaskRule::Omit, serde_json::json!("omit")),
            (
                MaskRule::Keep { head: 2, tail: 1 },
                serde_json::json!({"keep": {"head": 2, "tail": 1}}),
            ),
        ] {
            assert_eq!(serde_json::to_value(rule).unwrap(), json);
            assert_eq!(serde_json::from_value::<MaskRule>(json).unwrap(), rule);
        }
        assert!(serde_json::from_value::<MaskRule>(serde_json::json!("blur")).is_err());
    }

    #[test]
    fn consumers_round_trip() {
        for c in [
            Consumer::Client("c-1".into()),
            Consumer::Item("1233".into()),
        ] {
            assert_eq!(Consumer::parse(&c.to_string()), Some(c.clone()));
            let json = serde_json::to_value(&c).unwrap();
            assert_eq!(serde_json::from_value::<Consumer>(json).unwrap(), c);
        }
        assert_eq!(Consumer::parse("robot:1"), None);
        assert_eq!(Consumer::parse("client:"), None);
    }

    #[test]
    fn debug_masks_the_subject() {
        let e = AccessLogEntry {
            id: "1".into(),
            at: Timestamp::UNIX_EPOCH,
            consumer: Consumer::Client("c".into()),
            resource: "R".into(),
            provider: "p".into(),
            subject: "330102198503140138".into(),
            fields: vec![],
            masked_fields: vec![],
            purpose: "x".into(),
            case_ref: None,
            outcome: AccessOutcome::Allowed,
            refusal: None,
        };
        assert!(!format!("{e:?}").contains("330102198503140138"));
    }

    fn rules() -> impl Strategy<Value = MaskRule> {
        prop_oneof![
            Just(MaskRule::ResidentId),
            Just(MaskRule::Phone),
            Just(MaskRule::Name),
            Just(MaskRule::Omit),
            (0u8..8, 0u8..8).prop_map(|(head, tail)| MaskRule::Keep { head, tail }),
        ]
    }

    proptest! {
        #[test]
        fn a_masked_value_reveals_no_more_than_its_rule(value in any::<String>(), rule in rules()) {
            let Some(masked) = rule.apply(&value) else {
                prop_assert_eq!(rule, MaskRule::Omit);
                return Ok(());
            };
            let input: Vec<char> = value.chars().collect();
            let output: Vec<char> = masked.chars().collect();
            prop_assert_eq!(input.len(), output.len());
            let (head, tail, min_hidden) = rule.shape().unwrap();
            let n = input.len();
            let mut revealed = 0;
            let mut hidden = 0;
            for (i, (a, b)) in input.iter().zip(&output).enumerate() {
                if *b == '*' {
                    hidden += 1;
                    continue;
                }
                // Anything shown is the original character at an end position.
                prop_assert_eq!(a, b);
                prop_assert!(i < head || i + tail >= n, "position {} revealed", i);
                revealed += 1;
            }
            prop_assert!(revealed <= rule.max_revealed());
            if n > 0 {
                prop_assert!(hidden >= min_hidden.min(n), "only {} hidden of {}", hidden, n);
            }
        }

        #[test]
        fn shaping_never_reveals_ungranted_text_in_full(value in "\\PC{0,30}", grant_it in any::<bool>()) {
            let r = resource(SharingType::Conditional);
            let record: serde_json::Map<String, serde_json::Value> =
                r.fields.iter().map(|f| (f.key.clone(), serde_json::Value::String(value.clone()))).collect();
            let granted: Vec<String> = if grant_it { vec!["name".into()] } else { vec![] };
            let s = shape_record(&r, &record, &granted);
            for f in &r.fields {
                let shown = s.values.get(&f.key).and_then(|v| v.as_str());
                if granted.contains(&f.key) {
                    prop_assert_eq!(shown, Some(value.as_str()));
                } else if let Some(shown) = shown {
                    prop_assert_eq!(Some(shown.to_owned()), f.mask.apply(&value));
                    // Same length, and something is hidden.
                    prop_assert_eq!(shown.chars().count(), value.chars().count());
                    if !value.is_empty() {
                        prop_assert!(shown.contains('*'));
                    }
                } else {
                    prop_assert_eq!(f.mask, MaskRule::Omit);
                }
            }
        }
    }
}
