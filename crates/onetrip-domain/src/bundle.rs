//! One-thing bundles (一件事): several items applied for together as one life event, with one
//! questionnaire, one form and one set of materials.
//!
//! A [`Bundle`] names its member items. Each member says when it applies (a condition on the
//! questionnaire's answers), which of its item's situations applies (again by answers), which
//! members must conclude before it starts (a directed acyclic graph), and how its item's form
//! fields are filled from the unified form. From that the rules here derive:
//! - [`Bundle::check`]: every definition problem at once (unknown items, cycles, unmapped
//!   required fields, materials with no source…);
//! - [`Bundle::select`]: for one applicant's answers, the members and situations that apply, in
//!   dependency order, and the merged material set;
//! - [`Bundle::reduction`]: the 减次数 / 减材料 / 减时间 / 减环节 figures.
//!
//! **Data passing:** a member whose material is a certificate that an earlier member (one it
//! depends on, directly or not) issues gets it from that member: the material's source becomes
//! [`MaterialSource::BundleOutput`], and it disappears from what the applicant supplies.
//!
//! **Merging materials:** two materials are the same when they come from the same certificate
//! type, the same shared data resource or the same member's output; uploads are the same when
//! their names are equal (after trimming). A merged material is required when any use of it is.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::Localized;
use crate::catalog::{
    ItemStatus, LifeEvent, Material, MaterialSource, ServiceItem, ServiceObject, Situation,
};
use crate::certificate::CertificateType;
use crate::form::{ChoiceOption, Condition, FormSchema, FormValues};

/// 一件事: a bundle definition as published in one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Code, e.g. `ZJ-BIRTH`: upper-case letters, digits and `-`.
    pub code: String,
    /// Name, e.g. 新生儿出生“一件事”.
    pub name: String,
    /// English name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    /// Life event the bundle belongs to.
    pub category: LifeEvent,
    /// Who applies: persons or organisations.
    pub service_object: ServiceObject,
    /// 牵头部门: credit code of the lead department.
    pub lead_department: String,
    /// Division where the bundle is offered.
    pub division_code: String,
    /// A short description for applicants.
    pub summary: String,
    /// 情形引导: questions whose answers select members, situations and materials.
    #[serde(default)]
    pub questionnaire: Vec<Question>,
    /// Member items.
    pub members: Vec<Member>,
    /// 一表申请: the unified form.
    pub form: FormSchema,
    /// Extra search keywords.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Lifecycle status (the item statuses apply).
    #[serde(default)]
    pub status: ItemStatus,
}

/// A question of the questionnaire (情形引导): one answer out of its options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Key, unique in the questionnaire; conditions refer to it.
    pub key: String,
    /// The question, e.g. 父母是否已办理结婚登记？
    pub text: String,
    /// English text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_en: Option<String>,
    /// Possible answers.
    pub options: Vec<ChoiceOption>,
    /// Only asked when this holds on the earlier answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible_when: Option<Condition>,
    /// Explanation shown under the question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// A member item of a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Key, unique in the bundle (e.g. `household`); dependencies refer to it.
    pub key: String,
    /// Implementation code of the member item.
    pub item: String,
    /// The member applies only when this holds on the answers; always when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// Which situation of the item applies: the first rule whose condition holds. Without
    /// rules, the item's only situation (or its first one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub situations: Vec<SituationRule>,
    /// Keys of members that must conclude before this one starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// Field mapping: member item form field key → unified form field key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// When the item issues a certificate: certificate field key → unified form field key
    /// whose value goes into the certificate's content. Fields not named here are taken from
    /// the unified form field of the same key, then from the applicant (`name`,
    /// `resident_id`, `credit_code`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub result_fields: BTreeMap<String, String>,
}

/// Chooses a situation of a member item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SituationRule {
    /// Situation code of the item.
    pub situation: String,
    /// Applies when this holds on the answers; always when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
}

/// A broken rule of a bundle definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleProblem {
    /// Where, e.g. `members[2].depends_on[0]`.
    pub path: String,
    /// What.
    pub rule: BundleRule,
}

/// The rules a bundle definition must keep.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleRule {
    /// The code is not upper-case letters, digits and `-` (2–40 characters).
    #[error("bad bundle code")]
    BadCode,
    /// A bundle needs at least two members.
    #[error("too few members")]
    TooFewMembers,
    /// Two members share a key.
    #[error("duplicate member {0}")]
    DuplicateMember(String),
    /// The member's item is not in the catalog.
    #[error("unknown item {0}")]
    UnknownItem(String),
    /// The member's item is suspended or cancelled.
    #[error("item {0} is not active")]
    ItemNotActive(String),
    /// The member's item serves other applicants than the bundle.
    #[error("item {0} serves other applicants")]
    ServiceObjectMismatch(String),
    /// Two questions share a key.
    #[error("duplicate question {0}")]
    DuplicateQuestion(String),
    /// A question offers fewer than two answers.
    #[error("question {0} needs at least two options")]
    QuestionOptions(String),
    /// A condition refers to a question that is not asked before it.
    #[error("unknown question {0}")]
    UnknownQuestion(String),
    /// A dependency names no member.
    #[error("unknown member {0}")]
    UnknownDependency(String),
    /// The dependencies form a cycle through these members.
    #[error("dependency cycle {0:?}")]
    DependencyCycle(Vec<String>),
    /// A situation rule names a situation the item does not have.
    #[error("item {item} has no situation {situation}")]
    UnknownSituation {
        /// Implementation code.
        item: String,
        /// Situation code.
        situation: String,
    },
    /// The unified form itself is broken (the form rule's code and messages).
    #[error("form: {code}")]
    Form {
        /// The form rule's stable code.
        code: &'static str,
        /// Its Chinese message.
        zh: String,
        /// Its English message.
        en: String,
    },
    /// The mapping fills a field the member item's form does not have.
    #[error("member {member}: item form has no field {field}")]
    UnknownItemField {
        /// Member key.
        member: String,
        /// Item form field key.
        field: String,
    },
    /// The mapping reads a field the unified form does not have.
    #[error("member {member}: unified form has no field {field}")]
    UnknownFormField {
        /// Member key.
        member: String,
        /// Unified form field key.
        field: String,
    },
    /// A required field of the member item's form is filled from nothing.
    #[error("member {member}: required field {field} is not mapped")]
    UnmappedRequiredField {
        /// Member key.
        member: String,
        /// Item form field key.
        field: String,
    },
    /// `result_fields` fill a certificate, but the member's item issues none.
    #[error("member {member}: item issues no certificate")]
    ResultWithoutCertificate {
        /// Member key.
        member: String,
    },
    /// The member's item issues a certificate of a type that is not known.
    #[error("member {member}: unknown certificate type {certificate_type}")]
    UnknownCertificateType {
        /// Member key.
        member: String,
        /// Certificate type code.
        certificate_type: String,
    },
    /// `result_fields` fill a field the issued certificate's type does not have.
    #[error("member {member}: certificate type {certificate_type} has no field {field}")]
    UnknownCertificateField {
        /// Member key.
        member: String,
        /// Certificate type code.
        certificate_type: String,
        /// Certificate field key.
        field: String,
    },
    /// A material is another item's result, but no member the material's member depends on
    /// produces it.
    #[error("member {member}: material {material} has no source")]
    MaterialWithoutSource {
        /// Member key.
        member: String,
        /// Material id.
        material: String,
    },
}

impl Localized for BundleProblem {
    fn code(&self) -> &'static str {
        match &self.rule {
            BundleRule::BadCode => "bundle_code",
            BundleRule::TooFewMembers => "bundle_too_few_members",
            BundleRule::DuplicateMember(_) => "bundle_duplicate_member",
            BundleRule::UnknownItem(_) => "bundle_unknown_item",
            BundleRule::ItemNotActive(_) => "bundle_item_not_active",
            BundleRule::ServiceObjectMismatch(_) => "bundle_service_object",
            BundleRule::DuplicateQuestion(_) => "bundle_duplicate_question",
            BundleRule::QuestionOptions(_) => "bundle_question_options",
            BundleRule::UnknownQuestion(_) => "bundle_unknown_question",
            BundleRule::UnknownDependency(_) => "bundle_unknown_dependency",
            BundleRule::DependencyCycle(_) => "bundle_dependency_cycle",
            BundleRule::UnknownSituation { .. } => "bundle_unknown_situation",
            BundleRule::Form { code, .. } => code,
            BundleRule::UnknownItemField { .. } => "bundle_unknown_item_field",
            BundleRule::UnknownFormField { .. } => "bundle_unknown_form_field",
            BundleRule::UnmappedRequiredField { .. } => "bundle_unmapped_required_field",
            BundleRule::ResultWithoutCertificate { .. } => "bundle_result_without_certificate",
            BundleRule::UnknownCertificateType { .. } => "bundle_unknown_certificate_type",
            BundleRule::UnknownCertificateField { .. } => "bundle_unknown_certificate_field",
            BundleRule::MaterialWithoutSource { .. } => "bundle_material_without_source",
        }
    }

    fn message_zh(&self) -> String {
        let at = &self.path;
        match &self.rule {
            BundleRule::BadCode => format!("{at}：一件事编码须为 2–40 位大写字母、数字或“-”"),
            BundleRule::TooFewMembers => format!("{at}：一件事至少包含两个事项"),
            BundleRule::DuplicateMember(k) => format!("{at}：成员 {k} 重复"),
            BundleRule::UnknownItem(i) => format!("{at}：事项目录中没有事项 {i}"),
            BundleRule::ItemNotActive(i) => format!("{at}：事项 {i} 已暂停或取消"),
            BundleRule::ServiceObjectMismatch(i) => {
                format!("{at}：事项 {i} 的服务对象与一件事不一致")
            }
            BundleRule::DuplicateQuestion(k) => format!("{at}：问题 {k} 重复"),
            BundleRule::QuestionOptions(k) => format!("{at}：问题 {k} 至少需要两个选项"),
            BundleRule::UnknownQuestion(k) => format!("{at}：条件引用了未在此前提出的问题 {k}"),
            BundleRule::UnknownDependency(k) => format!("{at}：依赖的成员 {k} 不存在"),
            BundleRule::DependencyCycle(c) => {
                format!("{at}：成员之间存在循环依赖（{}）", c.join(" → "))
            }
            BundleRule::UnknownSituation { item, situation } => {
                format!("{at}：事项 {item} 没有办理情形 {situation}")
            }
            BundleRule::Form { zh, .. } => format!("{at}：{zh}"),
            BundleRule::UnknownItemField { member, field } => {
                format!("{at}：成员 {member} 的事项表单没有字段 {field}")
            }
            BundleRule::UnknownFormField { member, field } => {
                format!("{at}：成员 {member} 映射的统一表单字段 {field} 不存在")
            }
            BundleRule::UnmappedRequiredField { member, field } => {
                format!("{at}：成员 {member} 的必填字段 {field} 没有对应的统一表单字段")
            }
            BundleRule::ResultWithoutCertificate { member } => {
                format!("{at}：成员 {member} 的事项不颁发证照，不能填写证照字段")
            }
            BundleRule::UnknownCertificateType {
                member,
                certificate_type,
            } => format!("{at}：成员 {member} 的事项颁发的证照类型 {certificate_type} 不存在"),
            BundleRule::UnknownCertificateField {
                member,
                certificate_type,
                field,
            } => format!("{at}：成员 {member} 颁发的证照（{certificate_type}）没有字段 {field}"),
            BundleRule::MaterialWithoutSource { member, material } => format!(
                "{at}：成员 {member} 的材料 {material} 是其他事项的办理结果，但其前置成员都不产出它"
            ),
        }
    }

    fn message_en(&self) -> String {
        let at = &self.path;
        match &self.rule {
            BundleRule::BadCode => {
                format!("{at}: a bundle code is 2–40 upper-case letters, digits or '-'")
            }
            BundleRule::TooFewMembers => format!("{at}: a bundle has at least two member items"),
            BundleRule::DuplicateMember(k) => format!("{at}: member {k} appears twice"),
            BundleRule::UnknownItem(i) => format!("{at}: the catalog has no item {i}"),
            BundleRule::ItemNotActive(i) => format!("{at}: item {i} is suspended or cancelled"),
            BundleRule::ServiceObjectMismatch(i) => {
                format!("{at}: item {i} serves other applicants than the bundle")
            }
            BundleRule::DuplicateQuestion(k) => format!("{at}: question {k} appears twice"),
            BundleRule::QuestionOptions(k) => {
                format!("{at}: question {k} needs at least two options")
            }
            BundleRule::UnknownQuestion(k) => {
                format!("{at}: the condition refers to {k}, which is not asked before it")
            }
            BundleRule::UnknownDependency(k) => format!("{at}: there is no member {k}"),
            BundleRule::DependencyCycle(c) => {
                format!(
                    "{at}: the members depend on each other in a cycle ({})",
                    c.join(" → ")
                )
            }
            BundleRule::UnknownSituation { item, situation } => {
                format!("{at}: item {item} has no situation {situation}")
            }
            BundleRule::Form { en, .. } => format!("{at}: {en}"),
            BundleRule::UnknownItemField { member, field } => {
                format!("{at}: the form of member {member} has no field {field}")
            }
            BundleRule::UnknownFormField { member, field } => {
                format!("{at}: member {member} maps from {field}, which the unified form lacks")
            }
            BundleRule::UnmappedRequiredField { member, field } => format!(
                "{at}: the required field {field} of member {member} is not filled from the \
                 unified form"
            ),
            BundleRule::ResultWithoutCertificate { member } => {
                format!("{at}: the item of member {member} issues no certificate to fill fields of")
            }
            BundleRule::UnknownCertificateType {
                member,
                certificate_type,
            } => format!(
                "{at}: the item of member {member} issues certificates of the unknown type \
                 {certificate_type}"
            ),
            BundleRule::UnknownCertificateField {
                member,
                certificate_type,
                field,
            } => format!(
                "{at}: the certificate member {member} issues ({certificate_type}) has no field \
                 {field}"
            ),
            BundleRule::MaterialWithoutSource { member, material } => format!(
                "{at}: material {material} of member {member} is another item's result, but no \
                 member it depends on produces it"
            ),
        }
    }
}

/// Why a questionnaire's answers cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerProblem {
    /// A question that is asked was not answered.
    #[error("question {0} unanswered")]
    Required(String),
    /// An answer is not one of the question's options.
    #[error("answer to {0} is not an option")]
    NotAnOption(String),
    /// An answer to a question the bundle does not ask (or that is hidden).
    #[error("unknown question {0}")]
    Unknown(String),
    /// With these answers no member applies.
    #[error("nothing applies")]
    NothingApplies,
}

impl Localized for AnswerProblem {
    fn code(&self) -> &'static str {
        match self {
            AnswerProblem::Required(_) => "questionnaire_required",
            AnswerProblem::NotAnOption(_) => "questionnaire_not_an_option",
            AnswerProblem::Unknown(_) => "questionnaire_unknown_question",
            AnswerProblem::NothingApplies => "questionnaire_nothing_applies",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            AnswerProblem::Required(k) => format!("请回答问题“{k}”"),
            AnswerProblem::NotAnOption(k) => format!("问题“{k}”的回答不是可选项之一"),
            AnswerProblem::Unknown(k) => format!("没有需要回答的问题“{k}”"),
            AnswerProblem::NothingApplies => "按您的回答，本一件事没有需要办理的事项".into(),
        }
    }

    fn message_en(&self) -> String {
        match self {
            AnswerProblem::Required(k) => format!("Answer the question {k}."),
            AnswerProblem::NotAnOption(k) => {
                format!("The answer to {k} is not one of its options.")
            }
            AnswerProblem::Unknown(k) => format!("There is no question {k} to answer."),
            AnswerProblem::NothingApplies => {
                "With these answers, no service of this bundle applies.".into()
            }
        }
    }
}

/// A member chosen for one applicant's answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SelectedMember {
    /// Member key.
    pub key: String,
    /// Implementation code.
    pub item: String,
    /// Situation code of the item.
    pub situation: String,
    /// Selected members that must conclude first.
    pub depends_on: Vec<String>,
}

/// Where one merged material is used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MaterialUse {
    /// Member key.
    pub member: String,
    /// Material id within the member's item.
    pub material: String,
}

/// One material of the merged set (一套材料).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergedMaterial {
    /// Key of the merged material (`cert:ID_CARD`, `data:ZJ_BIRTH_RECORD`, `output:birth`,
    /// `upload:<name>`).
    pub key: String,
    /// Name (of its first use).
    pub name: String,
    /// Where it comes from, after data passing.
    pub source: MaterialSource,
    /// Whether any use requires it.
    pub required: bool,
    /// The member materials it stands for.
    pub uses: Vec<MaterialUse>,
}

/// What applies for one applicant's answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Selection {
    /// Members in dependency order (a member comes after everything it depends on).
    pub members: Vec<SelectedMember>,
    /// The merged material set.
    pub materials: Vec<MergedMaterial>,
}

/// 减次数、减材料、减时间、减环节: before (each item on its own) and after (the bundle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reduction {
    /// Member items.
    pub items: u32,
    /// On-site visits: the sum over member items.
    pub visits_before: u32,
    /// On-site visits with one window for all: the largest member's.
    pub visits_after: u32,
    /// Materials: the sum over member items' situations.
    pub materials_before: u32,
    /// Materials after removing duplicates across members.
    pub materials_deduplicated: u32,
    /// Materials the applicant still supplies: merged uploads (certificates, shared data and
    /// earlier members' results are fetched by the platform).
    pub materials_after: u32,
    /// Working days: the sum of member items' promised limits.
    pub days_before: u32,
    /// Working days along the bundle's critical path (members without a dependency between
    /// them run at the same time).
    pub days_after: u32,
    /// Handling steps (环节): for each item intake, its review steps and result collection.
    pub steps_before: u32,
    /// One intake, the review steps along the longest dependency chain, one collection.
    pub steps_after: u32,
}

/// How a member's materials and limits are looked up.
pub type Items = BTreeMap<String, ServiceItem>;

/// The content field keys of certificate types, by certificate type code (`ID_CARD` → its
/// fields): what a member's issued certificate can carry (see [`Member::result_fields`]).
pub type CertificateFields = BTreeMap<String, BTreeSet<String>>;

/// The content field keys of each certificate type, for [`Bundle::check`].
pub fn certificate_fields(types: &[CertificateType]) -> CertificateFields {
    types
        .iter()
        .map(|t| {
            (
                t.code.clone(),
                t.fields.iter().map(|f| f.key.clone()).collect(),
            )
        })
        .collect()
}

fn code_ok(code: &str) -> bool {
    (2..=40).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
}

/// The fields a member's issued certificate feeds forward (`result_fields`) must exist in the
/// certificate type its item issues.
fn check_result_fields(
    m: &Member,
    item: &ServiceItem,
    certificates: &CertificateFields,
    at: &str,
    problem: &mut impl FnMut(String, BundleRule),
) {
    if m.result_fields.is_empty() {
        return;
    }
    let Some(code) = item.result.certificate_type.as_deref() else {
        problem(
            format!("{at}.result_fields"),
            BundleRule::ResultWithoutCertificate {
                member: m.key.clone(),
            },
        );
        return;
    };
    let Some(fields) = certificates.get(code) else {
        problem(
            format!("{at}.result_fields"),
            BundleRule::UnknownCertificateType {
                member: m.key.clone(),
                certificate_type: code.to_string(),
            },
        );
        return;
    };
    for field in m.result_fields.keys().filter(|f| !fields.contains(*f)) {
        problem(
            format!("{at}.result_fields.{field}"),
            BundleRule::UnknownCertificateField {
                member: m.key.clone(),
                certificate_type: code.to_string(),
                field: field.clone(),
            },
        );
    }
}

/// Keys of the answers a condition reads.
fn condition_fields(c: &Condition, out: &mut Vec<String>) {
    match c {
        Condition::Equals { field, .. }
        | Condition::In { field, .. }
        | Condition::Filled { field } => out.push(field.clone()),
        Condition::All(cs) | Condition::Any(cs) => cs.iter().for_each(|c| condition_fields(c, out)),
        Condition::Not(c) => condition_fields(c, out),
    }
}

fn holds(c: Option<&Condition>, answers: &FormValues) -> bool {
    c.is_none_or(|c| c.holds(answers))
}

/// The materials a situation of an item needs.
fn situation_materials<'a>(item: &'a ServiceItem, s: &Situation) -> Vec<&'a Material> {
    s.materials
        .iter()
        .filter_map(|id| item.materials.iter().find(|m| &m.id == id))
        .collect()
}

/// Review steps of an item: its process without the intake step (at least one).
fn review_steps(item: &ServiceItem) -> u32 {
    let n = item
        .process
        .iter()
        .filter(|s| !s.name.starts_with("受理"))
        .count();
    u32::try_from(n.max(1)).unwrap_or(u32::MAX)
}

/// Key of the question [`Bundle::single_item`] asks when an item has several situations.
pub const SITUATION_QUESTION: &str = "situation";

impl Bundle {
    /// Applying for one item alone, as a journey of one member: the questionnaire asks which
    /// situation applies (only when the item has several, see [`SITUATION_QUESTION`]), the
    /// form is the item's own (one without fields when it has none), and the member, keyed by
    /// the item's code, takes the situation answered. Such a bundle is never published or
    /// checked (a published bundle has at least two members); it lets one item go through the
    /// same questions → form → materials → check journey as a bundle.
    pub fn single_item(item: &ServiceItem) -> Bundle {
        let situations = item.effective_situations();
        let (questionnaire, rules) = if situations.len() > 1 {
            let question = Question {
                key: SITUATION_QUESTION.to_string(),
                text: "您要办理的是哪种情形？".to_string(),
                text_en: Some("Which of these applies to you?".to_string()),
                options: situations
                    .iter()
                    .map(|s| ChoiceOption {
                        value: s.code.clone(),
                        label: s.name.clone(),
                        label_en: None,
                    })
                    .collect(),
                visible_when: None,
                help: None,
            };
            let rules = situations
                .iter()
                .map(|s| SituationRule {
                    situation: s.code.clone(),
                    when: Some(Condition::Equals {
                        field: SITUATION_QUESTION.to_string(),
                        equals: serde_json::Value::String(s.code.clone()),
                    }),
                })
                .collect();
            (vec![question], rules)
        } else {
            (Vec::new(), Vec::new())
        };
        let form = item.form.clone().unwrap_or_else(|| FormSchema {
            code: item.implementation_code.clone(),
            version: 1,
            title: item.name.clone(),
            title_en: item.name_en.clone(),
            sections: Vec::new(),
        });
        let category = item
            .life_events
            .first()
            .copied()
            .unwrap_or(match item.service_object {
                ServiceObject::Organisation => LifeEvent::Operations,
                _ => LifeEvent::Work,
            });
        Bundle {
            code: item.implementation_code.clone(),
            name: item.name.clone(),
            name_en: item.name_en.clone(),
            category,
            service_object: item.service_object,
            lead_department: item.department_code.clone(),
            division_code: item.division_code.clone(),
            summary: String::new(),
            questionnaire,
            members: vec![Member {
                key: item.implementation_code.clone(),
                item: item.implementation_code.clone(),
                when: None,
                situations: rules,
                depends_on: Vec::new(),
                fields: BTreeMap::new(),
                result_fields: BTreeMap::new(),
            }],
            form,
            keywords: Vec::new(),
            status: item.status,
        }
    }

    /// The member with this key.
    pub fn member(&self, key: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.key == key)
    }

    /// Members in dependency order, or the members on a cycle. Unknown dependencies are
    /// ignored here ([`Bundle::check`] reports them).
    pub fn topological_order(&self) -> Result<Vec<&Member>, Vec<String>> {
        let keys: BTreeSet<&str> = self.members.iter().map(|m| m.key.as_str()).collect();
        let mut placed: BTreeSet<&str> = BTreeSet::new();
        let mut order = Vec::with_capacity(self.members.len());
        while order.len() < self.members.len() {
            let next = self.members.iter().find(|m| {
                !placed.contains(m.key.as_str())
                    && m.depends_on
                        .iter()
                        .all(|d| placed.contains(d.as_str()) || !keys.contains(d.as_str()))
            });
            match next {
                Some(m) => {
                    placed.insert(&m.key);
                    order.push(m);
                }
                None => {
                    // Every unplaced member waits for another unplaced one: follow the waits
                    // from any of them until a member repeats; that stretch is a cycle.
                    let waiting = |m: &Member| -> Option<String> {
                        m.depends_on
                            .iter()
                            .find(|d| keys.contains(d.as_str()) && !placed.contains(d.as_str()))
                            .cloned()
                    };
                    let mut path: Vec<String> = Vec::new();
                    let mut current = self
                        .members
                        .iter()
                        .find(|m| !placed.contains(m.key.as_str()))
                        .map(|m| m.key.clone());
                    while let Some(key) = current {
                        if let Some(at) = path.iter().position(|k| k == &key) {
                            let mut cycle = path.split_off(at);
                            cycle.push(key);
                            return Err(cycle);
                        }
                        path.push(key.clone());
                        current = self.member(&key).and_then(waiting);
                    }
                    return Err(path);
                }
            }
        }
        Ok(order)
    }

    /// Keys of every member `key` depends on, directly or not.
    pub fn ancestors(&self, key: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&str> = vec![key];
        while let Some(k) = stack.pop() {
            if let Some(m) = self.member(k) {
                for d in &m.depends_on {
                    if seen.insert(d.clone()) {
                        stack.push(d);
                    }
                }
            }
        }
        seen
    }

    /// Every problem of the definition, given the catalog's current items (by implementation
    /// code) and the content fields of the certificate types (by type code). Empty when the
    /// bundle can be published.
    pub fn check(&self, items: &Items, certificates: &CertificateFields) -> Vec<BundleProblem> {
        let mut out = Vec::new();
        let mut problem = |path: String, rule: BundleRule| out.push(BundleProblem { path, rule });
        if !code_ok(&self.code) {
            problem("code".into(), BundleRule::BadCode);
        }
        if self.members.len() < 2 {
            problem("members".into(), BundleRule::TooFewMembers);
        }
        for p in self.form.check() {
            problem(
                format!("form.{}", p.path),
                BundleRule::Form {
                    code: p.code(),
                    zh: p.message_zh(),
                    en: p.message_en(),
                },
            );
        }

        // The questionnaire: unique keys, options, conditions on earlier questions only.
        let mut asked: BTreeSet<&str> = BTreeSet::new();
        for (i, q) in self.questionnaire.iter().enumerate() {
            if let Some(c) = &q.visible_when {
                let mut fields = Vec::new();
                condition_fields(c, &mut fields);
                for f in fields.into_iter().filter(|f| !asked.contains(f.as_str())) {
                    problem(
                        format!("questionnaire[{i}].visible_when"),
                        BundleRule::UnknownQuestion(f),
                    );
                }
            }
            if !asked.insert(&q.key) {
                problem(
                    format!("questionnaire[{i}].key"),
                    BundleRule::DuplicateQuestion(q.key.clone()),
                );
            }
            if q.options.len() < 2 {
                problem(
                    format!("questionnaire[{i}].options"),
                    BundleRule::QuestionOptions(q.key.clone()),
                );
            }
        }

        let keys: BTreeSet<&str> = self.members.iter().map(|m| m.key.as_str()).collect();
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for (i, m) in self.members.iter().enumerate() {
            let at = format!("members[{i}]");
            if !seen.insert(&m.key) {
                problem(
                    format!("{at}.key"),
                    BundleRule::DuplicateMember(m.key.clone()),
                );
            }
            let mut conditions: Vec<(String, &Condition)> = Vec::new();
            if let Some(c) = &m.when {
                conditions.push((format!("{at}.when"), c));
            }
            for (j, r) in m.situations.iter().enumerate() {
                if let Some(c) = &r.when {
                    conditions.push((format!("{at}.situations[{j}].when"), c));
                }
            }
            for (path, c) in conditions {
                let mut fields = Vec::new();
                condition_fields(c, &mut fields);
                for f in fields.into_iter().filter(|f| !asked.contains(f.as_str())) {
                    problem(path.clone(), BundleRule::UnknownQuestion(f));
                }
            }
            for (j, d) in m.depends_on.iter().enumerate() {
                if !keys.contains(d.as_str()) {
                    problem(
                        format!("{at}.depends_on[{j}]"),
                        BundleRule::UnknownDependency(d.clone()),
                    );
                }
            }
            let mappings = (m.fields.iter().map(|f| ("fields", f)))
                .chain(m.result_fields.iter().map(|f| ("result_fields", f)));
            for (mapping, (target, source)) in mappings {
                if self.form.field(source).is_none() {
                    problem(
                        format!("{at}.{mapping}.{target}"),
                        BundleRule::UnknownFormField {
                            member: m.key.clone(),
                            field: source.clone(),
                        },
                    );
                }
            }
            let Some(item) = items.get(&m.item) else {
                problem(
                    format!("{at}.item"),
                    BundleRule::UnknownItem(m.item.clone()),
                );
                continue;
            };
            if item.status != ItemStatus::Active {
                problem(
                    format!("{at}.item"),
                    BundleRule::ItemNotActive(m.item.clone()),
                );
            }
            if !item.service_object.serves(self.service_object) {
                problem(
                    format!("{at}.item"),
                    BundleRule::ServiceObjectMismatch(m.item.clone()),
                );
            }
            check_result_fields(m, item, certificates, &at, &mut problem);
            let situations = item.effective_situations();
            for (j, r) in m.situations.iter().enumerate() {
                if !situations.iter().any(|s| s.code == r.situation) {
                    problem(
                        format!("{at}.situations[{j}].situation"),
                        BundleRule::UnknownSituation {
                            item: m.item.clone(),
                            situation: r.situation.clone(),
                        },
                    );
                }
            }
            if let Some(form) = &item.form {
                for target in m.fields.keys() {
                    if form.field(target).is_none() {
                        problem(
                            format!("{at}.fields.{target}"),
                            BundleRule::UnknownItemField {
                                member: m.key.clone(),
                                field: target.clone(),
                            },
                        );
                    }
                }
                for required in form.required_keys() {
                    if !m.fields.contains_key(required) {
                        problem(
                            format!("{at}.fields"),
                            BundleRule::UnmappedRequiredField {
                                member: m.key.clone(),
                                field: required.to_string(),
                            },
                        );
                    }
                }
            } else {
                for target in m.fields.keys() {
                    problem(
                        format!("{at}.fields.{target}"),
                        BundleRule::UnknownItemField {
                            member: m.key.clone(),
                            field: target.clone(),
                        },
                    );
                }
            }
            // A material that is another item's result needs a member this one depends on that
            // is that item.
            let ancestors = self.ancestors(&m.key);
            for s in &situations {
                for mat in situation_materials(item, s) {
                    if let MaterialSource::BundleOutput { item: producer } = &mat.source {
                        let fed = self
                            .members
                            .iter()
                            .any(|o| &o.item == producer && ancestors.contains(&o.key));
                        if !fed && mat.required {
                            problem(
                                format!("{at}.item"),
                                BundleRule::MaterialWithoutSource {
                                    member: m.key.clone(),
                                    material: mat.id.clone(),
                                },
                            );
                        }
                    }
                }
            }
        }
        if let Err(cycle) = self.topological_order() {
            problem("members".into(), BundleRule::DependencyCycle(cycle));
        }
        // A required material reported once per situation is noise: keep the first.
        let mut unique: Vec<BundleProblem> = Vec::with_capacity(out.len());
        for p in out {
            if !unique.contains(&p) {
                unique.push(p);
            }
        }
        unique
    }

    /// Checks the answers to the questionnaire: every asked question answered with one of its
    /// options, nothing else answered. Returns every problem at once.
    pub fn check_answers(&self, answers: &FormValues) -> Vec<AnswerProblem> {
        let mut problems = Vec::new();
        let mut asked: BTreeSet<&str> = BTreeSet::new();
        for q in &self.questionnaire {
            if !holds(q.visible_when.as_ref(), answers) {
                continue;
            }
            asked.insert(&q.key);
            match answers.get(&q.key) {
                None | Some(serde_json::Value::Null) => {
                    problems.push(AnswerProblem::Required(q.key.clone()))
                }
                Some(serde_json::Value::String(v)) if q.options.iter().any(|o| &o.value == v) => {}
                Some(_) => problems.push(AnswerProblem::NotAnOption(q.key.clone())),
            }
        }
        for key in answers.keys() {
            if !asked.contains(key.as_str()) {
                problems.push(AnswerProblem::Unknown(key.clone()));
            }
        }
        problems
    }

    /// The members and situations that apply for `answers`, in dependency order, and the merged
    /// material set. The bundle must pass [`Bundle::check`]; members whose items are missing
    /// from `items` are left out.
    pub fn select(
        &self,
        answers: &FormValues,
        items: &Items,
    ) -> Result<Selection, Vec<AnswerProblem>> {
        let problems = self.check_answers(answers);
        if !problems.is_empty() {
            return Err(problems);
        }
        let selection = self.selection_for(|c| holds(c, answers), items);
        if selection.members.is_empty() {
            return Err(vec![AnswerProblem::NothingApplies]);
        }
        Ok(selection)
    }

    fn selection_for(
        &self,
        applies: impl Fn(Option<&Condition>) -> bool,
        items: &Items,
    ) -> Selection {
        let order = self.topological_order().unwrap_or_default();
        let chosen: Vec<&Member> = order
            .into_iter()
            .filter(|m| items.contains_key(&m.item) && applies(m.when.as_ref()))
            .collect();
        let chosen_keys: BTreeSet<&str> = chosen.iter().map(|m| m.key.as_str()).collect();
        let mut members = Vec::with_capacity(chosen.len());
        for m in &chosen {
            let Some(item) = items.get(&m.item) else {
                continue;
            };
            let situations = item.effective_situations();
            let situation = m
                .situations
                .iter()
                .find(|r| applies(r.when.as_ref()))
                .map(|r| r.situation.clone())
                .or_else(|| situations.first().map(|s| s.code.clone()))
                .unwrap_or_default();
            // Dependencies on members that do not apply are dropped; what they would have
            // waited for through them still holds transitively.
            let mut depends_on = Vec::new();
            let mut stack: Vec<&str> = m.depends_on.iter().map(String::as_str).collect();
            let mut visited = BTreeSet::new();
            while let Some(d) = stack.pop() {
                if !visited.insert(d) {
                    continue;
                }
                if chosen_keys.contains(d) {
                    if !depends_on.iter().any(|x: &String| x == d) {
                        depends_on.push(d.to_string());
                    }
                } else if let Some(dm) = self.member(d) {
                    stack.extend(dm.depends_on.iter().map(String::as_str));
                }
            }
            depends_on.sort();
            members.push(SelectedMember {
                key: m.key.clone(),
                item: m.item.clone(),
                situation,
                depends_on,
            });
        }
        let materials = merge_materials(self, &members, items);
        Selection { members, materials }
    }

    /// The selection with every member and each member's default situation (its first rule
    /// without a condition, else its first rule, else the item's first situation): what the
    /// reduction figures and the catalog describe.
    pub fn full_selection(&self, items: &Items) -> Selection {
        let order = self.topological_order().unwrap_or_default();
        let mut selection = self.selection_for(|_| true, items);
        for sm in &mut selection.members {
            let rule = order.iter().find(|m| m.key == sm.key).and_then(|m| {
                m.situations
                    .iter()
                    .find(|r| r.when.is_none())
                    .or_else(|| m.situations.first())
            });
            if let Some(rule) = rule {
                sm.situation = rule.situation.clone();
            }
        }
        let members = selection.members.clone();
        selection.materials = merge_materials(self, &members, items);
        selection
    }

    /// 减次数、减材料、减时间、减环节 over the full selection.
    pub fn reduction(&self, items: &Items) -> Reduction {
        let selection = self.full_selection(items);
        reduction_of(&selection, items)
    }

    /// Maps the unified form's values onto one member item's form fields.
    pub fn member_values(&self, member: &str, unified: &FormValues) -> FormValues {
        let mut out = FormValues::new();
        if let Some(m) = self.member(member) {
            for (target, source) in &m.fields {
                if let Some(v) = unified.get(source) {
                    out.insert(target.clone(), v.clone());
                }
            }
        }
        out
    }
}

/// The merged material set of selected members (in dependency order), with data passing.
fn merge_materials(
    bundle: &Bundle,
    members: &[SelectedMember],
    items: &Items,
) -> Vec<MergedMaterial> {
    let mut merged: Vec<MergedMaterial> = Vec::new();
    for sm in members {
        let Some(item) = items.get(&sm.item) else {
            continue;
        };
        let Some(situation) = item
            .effective_situations()
            .into_iter()
            .find(|s| s.code == sm.situation)
        else {
            continue;
        };
        let ancestors = bundle.ancestors(&sm.key);
        for mat in situation_materials(item, &situation) {
            // Data passing: a certificate an earlier member issues comes from that member.
            let producer = |pred: &dyn Fn(&ServiceItem) -> bool| {
                members
                    .iter()
                    .find(|o| ancestors.contains(&o.key) && items.get(&o.item).is_some_and(pred))
            };
            let (key, source) = match &mat.source {
                MaterialSource::Certificate { certificate_type } => {
                    match producer(&|i: &ServiceItem| {
                        i.result.certificate_type.as_deref() == Some(certificate_type.as_str())
                    }) {
                        Some(o) => (
                            format!("output:{}", o.key),
                            MaterialSource::BundleOutput {
                                item: o.item.clone(),
                            },
                        ),
                        None => (format!("cert:{certificate_type}"), mat.source.clone()),
                    }
                }
                MaterialSource::BundleOutput { item: code } => {
                    match producer(&|i: &ServiceItem| &i.implementation_code == code) {
                        Some(o) => (format!("output:{}", o.key), mat.source.clone()),
                        None => (format!("output:{code}"), mat.source.clone()),
                    }
                }
                MaterialSource::SharedData { resource } => {
                    (format!("data:{resource}"), mat.source.clone())
                }
                MaterialSource::Upload => (
                    format!("upload:{}", mat.name.trim()),
                    MaterialSource::Upload,
                ),
            };
            let use_ = MaterialUse {
                member: sm.key.clone(),
                material: mat.id.clone(),
            };
            match merged.iter_mut().find(|m| m.key == key) {
                Some(existing) => {
                    existing.required |= mat.required;
                    existing.uses.push(use_);
                }
                None => merged.push(MergedMaterial {
                    key,
                    name: mat.name.clone(),
                    source,
                    required: mat.required,
                    uses: vec![use_],
                }),
            }
        }
    }
    merged
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The reduction figures of a selection.
pub fn reduction_of(selection: &Selection, items: &Items) -> Reduction {
    let mut r = Reduction {
        items: to_u32(selection.members.len()),
        visits_before: 0,
        visits_after: 0,
        materials_before: 0,
        materials_deduplicated: to_u32(selection.materials.len()),
        materials_after: to_u32(
            selection
                .materials
                .iter()
                .filter(|m| m.source == MaterialSource::Upload)
                .count(),
        ),
        days_before: 0,
        days_after: 0,
        steps_before: 0,
        steps_after: 0,
    };
    // Longest path (days, review steps) ending at each member.
    let mut finish: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    for sm in &selection.members {
        let Some(item) = items.get(&sm.item) else {
            continue;
        };
        let situation = item
            .effective_situations()
            .into_iter()
            .find(|s| s.code == sm.situation);
        let days = u32::from(
            situation
                .as_ref()
                .and_then(|s| s.promised_limit)
                .unwrap_or(item.promised_limit),
        );
        let steps = review_steps(item);
        r.visits_before += u32::from(item.visits);
        r.visits_after = r.visits_after.max(u32::from(item.visits));
        r.materials_before += situation
            .as_ref()
            .map_or(0, |s| to_u32(situation_materials(item, s).len()));
        r.days_before += days;
        r.steps_before += steps + 2;
        let (start_days, start_steps) = sm
            .depends_on
            .iter()
            .filter_map(|d| finish.get(d.as_str()))
            .fold((0, 0), |(a, b), &(c, d)| (a.max(c), b.max(d)));
        let end = (start_days + days, start_steps + steps);
        r.days_after = r.days_after.max(end.0);
        r.steps_after = r.steps_after.max(end.1);
        finish.insert(&sm.key, end);
    }
    if !selection.members.is_empty() {
        r.steps_after += 2;
    }
    r
}
