//! The service catalog (政务服务事项库): items, situations, materials, departments and divisions,
//! and the consistency rules that run on every save.
//!
//! Catalog documents are plain data that deserialize from JSON or YAML. Codes are kept as strings in
//! the document so that validation can report *every* problem at once, each with its path, instead
//! of stopping at the first bad code; [`validate_item`] and [`validate_catalog`] are the gate every
//! save goes through, and the store keeps only documents that passed it.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::Localized;
use crate::identifiers::{CreditCode, DivisionCode};

/// 事项类型: the eight national item types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemType {
    /// 行政许可
    Licensing,
    /// 行政给付
    Benefit,
    /// 行政确认
    Confirmation,
    /// 行政裁决
    Adjudication,
    /// 行政奖励
    Award,
    /// 行政备案
    Filing,
    /// 其他行政权力
    OtherPower,
    /// 公共服务
    PublicService,
}

impl ItemType {
    /// Every item type, in national order.
    pub const ALL: [ItemType; 8] = [
        ItemType::Licensing,
        ItemType::Benefit,
        ItemType::Confirmation,
        ItemType::Adjudication,
        ItemType::Award,
        ItemType::Filing,
        ItemType::OtherPower,
        ItemType::PublicService,
    ];

    /// Chinese name.
    pub fn label_zh(self) -> &'static str {
        match self {
            ItemType::Licensing => "行政许可",
            ItemType::Benefit => "行政给付",
            ItemType::Confirmation => "行政确认",
            ItemType::Adjudication => "行政裁决",
            ItemType::Award => "行政奖励",
            ItemType::Filing => "行政备案",
            ItemType::OtherPower => "其他行政权力",
            ItemType::PublicService => "公共服务",
        }
    }

    /// English name.
    pub fn label_en(self) -> &'static str {
        match self {
            ItemType::Licensing => "Administrative licensing",
            ItemType::Benefit => "Administrative benefit",
            ItemType::Confirmation => "Administrative confirmation",
            ItemType::Adjudication => "Administrative adjudication",
            ItemType::Award => "Administrative award",
            ItemType::Filing => "Administrative filing",
            ItemType::OtherPower => "Other administrative power",
            ItemType::PublicService => "Public service",
        }
    }

    /// The snake_case name used in JSON and query strings.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemType::Licensing => "licensing",
            ItemType::Benefit => "benefit",
            ItemType::Confirmation => "confirmation",
            ItemType::Adjudication => "adjudication",
            ItemType::Award => "award",
            ItemType::Filing => "filing",
            ItemType::OtherPower => "other_power",
            ItemType::PublicService => "public_service",
        }
    }
}

/// 服务对象: who may apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceObject {
    /// 自然人
    Person,
    /// 法人
    Organisation,
    /// 自然人和法人
    Both,
}

impl ServiceObject {
    /// The snake_case name used in JSON and query strings.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceObject::Person => "person",
            ServiceObject::Organisation => "organisation",
            ServiceObject::Both => "both",
        }
    }

    /// Whether an applicant of kind `who` (person or organisation) is served by an item with this object.
    /// `Both` on the query side means "no filter".
    pub fn serves(self, who: ServiceObject) -> bool {
        self == ServiceObject::Both || who == ServiceObject::Both || self == who
    }
}

/// 即办件 / 承诺件.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandlingKind {
    /// 即办件: handled on the spot; the promised limit is 0 working days.
    Immediate,
    /// 承诺件: handled within the promised limit.
    Promised,
}

/// 网上办理深度 Ⅰ–Ⅳ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum OnlineDepth {
    /// Ⅰ: information online only.
    #[serde(rename = "I")]
    I,
    /// Ⅱ: forms and guides can be downloaded.
    #[serde(rename = "II")]
    II,
    /// Ⅲ: applied for online, one on-site visit for the result or originals.
    #[serde(rename = "III")]
    III,
    /// Ⅳ: fully online (全程网办).
    #[serde(rename = "IV")]
    IV,
}

/// A handling channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 网上办: the web portal.
    Online,
    /// 掌上办: the mobile app.
    Mobile,
    /// 窗口办: a service-hall window.
    Window,
    /// 自助办: a self-service kiosk.
    Kiosk,
}

/// 办理结果类型.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultType {
    /// A licence or certificate (证照).
    Certificate,
    /// An approval document or letter (批文).
    Document,
    /// A conclusion without a document (结论).
    Conclusion,
}

/// How the result reaches the applicant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMethod {
    /// 窗口领取
    Pickup,
    /// 快递送达
    Express,
    /// 电子送达 (electronic certificate or document)
    Electronic,
}

/// Lifecycle status of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// 在用: applications are accepted.
    #[default]
    Active,
    /// 暂停: temporarily not accepting applications.
    Suspended,
    /// 取消: cancelled; kept for old cases.
    Cancelled,
}

impl ItemStatus {
    /// The snake_case name used in JSON and query strings.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Active => "active",
            ItemStatus::Suspended => "suspended",
            ItemStatus::Cancelled => "cancelled",
        }
    }
}

/// Life-event tags (citizen and enterprise life cycles) used to browse and filter the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifeEvent {
    /// 出生
    Birth,
    /// 上学
    School,
    /// 工作
    Work,
    /// 特殊群体 (veterans, disabled persons, …)
    SpecialGroups,
    /// 失业
    Unemployment,
    /// 婚育
    Marriage,
    /// 住房
    Housing,
    /// 就医
    Medical,
    /// 退休
    Retirement,
    /// 身后
    Funeral,
    /// 开办企业
    Startup,
    /// 水电气网
    Utilities,
    /// 工程建设
    Construction,
    /// 经营
    Operations,
    /// 注销
    Deregistration,
}

impl LifeEvent {
    /// Every life event.
    pub const ALL: [LifeEvent; 15] = [
        LifeEvent::Birth,
        LifeEvent::School,
        LifeEvent::Work,
        LifeEvent::SpecialGroups,
        LifeEvent::Unemployment,
        LifeEvent::Marriage,
        LifeEvent::Housing,
        LifeEvent::Medical,
        LifeEvent::Retirement,
        LifeEvent::Funeral,
        LifeEvent::Startup,
        LifeEvent::Utilities,
        LifeEvent::Construction,
        LifeEvent::Operations,
        LifeEvent::Deregistration,
    ];

    /// The snake_case name used in JSON and query strings.
    pub fn as_str(self) -> &'static str {
        match self {
            LifeEvent::Birth => "birth",
            LifeEvent::School => "school",
            LifeEvent::Work => "work",
            LifeEvent::SpecialGroups => "special_groups",
            LifeEvent::Unemployment => "unemployment",
            LifeEvent::Marriage => "marriage",
            LifeEvent::Housing => "housing",
            LifeEvent::Medical => "medical",
            LifeEvent::Retirement => "retirement",
            LifeEvent::Funeral => "funeral",
            LifeEvent::Startup => "startup",
            LifeEvent::Utilities => "utilities",
            LifeEvent::Construction => "construction",
            LifeEvent::Operations => "operations",
            LifeEvent::Deregistration => "deregistration",
        }
    }

    /// Chinese name.
    pub fn label_zh(self) -> &'static str {
        match self {
            LifeEvent::Birth => "出生",
            LifeEvent::School => "上学",
            LifeEvent::Work => "工作",
            LifeEvent::SpecialGroups => "特殊群体",
            LifeEvent::Unemployment => "失业",
            LifeEvent::Marriage => "婚育",
            LifeEvent::Housing => "住房",
            LifeEvent::Medical => "就医",
            LifeEvent::Retirement => "退休",
            LifeEvent::Funeral => "身后事",
            LifeEvent::Startup => "开办企业",
            LifeEvent::Utilities => "水电气网",
            LifeEvent::Construction => "工程建设",
            LifeEvent::Operations => "经营",
            LifeEvent::Deregistration => "注销",
        }
    }
}

/// Whether a material is an original, a copy or electronic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialForm {
    /// 原件
    Original,
    /// 复印件
    Copy,
    /// 电子件
    Electronic,
}

/// 材料来源: where a material comes from. Anything but `Upload` can be resolved by the platform.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MaterialSource {
    /// The applicant uploads or hands it in.
    Upload,
    /// An electronic certificate of this type (证照类型 code).
    Certificate {
        /// Certificate type code.
        certificate_type: String,
    },
    /// A shared data resource (数据资源 code).
    SharedData {
        /// Data resource code.
        resource: String,
    },
    /// The result of another item (its implementation code), typically inside a bundle.
    BundleOutput {
        /// Implementation code of the producing item.
        item: String,
    },
}

/// 申请材料.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Material {
    /// Key of the material within its item (for example `M01`); situations reference it.
    pub id: String,
    /// Name shown to the applicant.
    pub name: String,
    /// Required (必要) or optional.
    #[serde(default = "default_true")]
    pub required: bool,
    /// Original, copy or electronic.
    pub form: MaterialForm,
    /// Number of copies (份数).
    #[serde(default = "default_one")]
    pub count: u8,
    /// Where the material comes from.
    pub source: MaterialSource,
    /// 容缺受理: may be supplied after acceptance.
    #[serde(default)]
    pub deferrable: bool,
    /// Remarks (填报须知).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

fn default_true() -> bool {
    true
}

fn default_one() -> u8 {
    1
}

/// 办理情形: one variant of an item with its own conditions, materials and time limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Situation {
    /// Key of the situation within its item (for example `S01`).
    pub code: String,
    /// Name, e.g. 购买新建商品房.
    pub name: String,
    /// Conditions that make this situation apply.
    #[serde(default)]
    pub conditions: Vec<String>,
    /// Ids of the item's materials this situation needs.
    pub materials: Vec<String>,
    /// Promised limit for this situation in working days; the item's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promised_limit: Option<u16>,
    /// The short, exact citizen-facing guide text for this situation (办事指南).
    pub guide: String,
}

/// A fee item (收费项目), amounts in fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fee {
    /// Name of the fee.
    pub name: String,
    /// Amount in fen (分).
    pub amount_fen: i64,
    /// Legal basis of the fee.
    pub basis: String,
}

/// A step of the handling process, with its duration in working days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessStep {
    /// Name, e.g. 受理, 审查, 决定, 办结.
    pub name: String,
    /// Role that performs the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Working days allowed for the step.
    pub working_days: u16,
    /// Runs at the same time as the previous step (并联审批): consecutive parallel steps form
    /// one stage with the step before them, and the stage takes as long as its longest step.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub parallel: bool,
}

/// The stages of a process: each stage is a step followed by the `parallel` steps right after
/// it (a leading `parallel` step starts the first stage). Stages run one after the other.
pub fn process_stages(steps: &[ProcessStep]) -> Vec<&[ProcessStep]> {
    let mut stages = Vec::new();
    let mut begin = 0;
    for (i, step) in steps.iter().enumerate() {
        if i > begin && !step.parallel {
            stages.push(&steps[begin..i]);
            begin = i;
        }
    }
    if begin < steps.len() {
        stages.push(&steps[begin..]);
    }
    stages
}

/// Working days on the critical path of a process: the sum over its stages
/// ([`process_stages`]) of the longest step of each stage.
pub fn critical_path_days(steps: &[ProcessStep]) -> u32 {
    process_stages(steps)
        .iter()
        .map(|stage| {
            stage
                .iter()
                .map(|s| u32::from(s.working_days))
                .max()
                .unwrap_or(0)
        })
        .sum()
}

/// What handling produces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultSpec {
    /// Certificate, document or conclusion.
    pub result_type: ResultType,
    /// Name of the result, e.g. 《食品经营许可证》.
    pub name: String,
    /// Certificate type code when the result is a certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_type: Option<String>,
}

/// Consultation and complaint contacts, address and hours.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contacts {
    /// 咨询电话
    pub consultation_phone: String,
    /// 监督投诉电话
    pub complaint_phone: String,
    /// 办理地点
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// 办理时间
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<String>,
}

/// 政务服务事项: one item of the catalog as published in one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceItem {
    /// 基本编码: national catalog code, 12 characters `[0-9A-Z]`.
    pub base_code: String,
    /// 实施编码: this body's implementation of the item, at most 36 characters; the item's key.
    pub implementation_code: String,
    /// 业务办理项编码: the smallest handling unit, at most 50 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handling_code: Option<String>,
    /// Implementation code of the main item when this is a sub-item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_code: Option<String>,
    /// Name.
    pub name: String,
    /// English name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    /// 事项类型
    pub item_type: ItemType,
    /// 设定依据: the legal basis, one entry per provision.
    pub legal_basis: Vec<String>,
    /// 实施主体: credit code of the implementing department.
    pub department_code: String,
    /// The department's internal office (内设机构 / 承办处室) that handles the item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<String>,
    /// Administrative division where the item is implemented.
    pub division_code: String,
    /// 服务对象
    pub service_object: ServiceObject,
    /// 受理条件
    #[serde(default)]
    pub acceptance_conditions: Vec<String>,
    /// 即办件 / 承诺件
    pub handling_kind: HandlingKind,
    /// 法定时限, working days.
    pub statutory_limit: u16,
    /// 承诺时限, working days.
    pub promised_limit: u16,
    /// 时限说明 (e.g. what is not counted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_explanation: Option<String>,
    /// The lowest assurance level (认证等级) an applicant needs; `L2` (real name) unless the
    /// item says otherwise. Applying below it asks the applicant to step up.
    #[serde(
        default = "default_min_assurance",
        skip_serializing_if = "is_default_min_assurance"
    )]
    pub min_assurance_level: crate::identity::AssuranceLevel,
    /// Fee items; empty means free of charge.
    #[serde(default)]
    pub fees: Vec<Fee>,
    /// Whether fees can be paid online.
    #[serde(default)]
    pub online_payment: bool,
    /// 办理渠道
    pub channels: Vec<Channel>,
    /// 到现场次数 (0 = 跑零次).
    pub visits: u8,
    /// Why on-site visits are needed, required when `visits > 0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visits_reason: Option<String>,
    /// 网上办理深度
    pub online_depth: OnlineDepth,
    /// 办理流程
    #[serde(default)]
    pub process: Vec<ProcessStep>,
    /// 办理结果
    pub result: ResultSpec,
    /// 送达方式
    #[serde(default)]
    pub delivery_methods: Vec<DeliveryMethod>,
    /// 咨询 / 投诉
    pub contacts: Contacts,
    /// Life-event tags.
    #[serde(default)]
    pub life_events: Vec<LifeEvent>,
    /// Extra search keywords (colloquial names).
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The item's application form (申请表); `None` when the item asks for nothing beyond its
    /// materials. Bundles map their unified form onto it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<crate::form::FormSchema>,
    /// Every material any situation may need.
    #[serde(default)]
    pub materials: Vec<Material>,
    /// 办理情形; an item without situations has one implicit situation with all required materials.
    #[serde(default)]
    pub situations: Vec<Situation>,
    /// Lifecycle status.
    #[serde(default)]
    pub status: ItemStatus,
    /// Planned effective date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_from: Option<Date>,
    /// Planned cancellation date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_to: Option<Date>,
}

/// 行政区划: an administrative division with its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Division {
    /// GB/T 2260 code.
    pub code: String,
    /// Chinese name, e.g. 杭州市.
    pub name: String,
    /// English name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
}

/// A government department (部门), identified by its unified social credit code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    /// Unified social credit code.
    pub code: String,
    /// Chinese name, e.g. 杭州市市场监督管理局.
    pub name: String,
    /// English name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    /// Division the department belongs to.
    pub division_code: String,
    /// Internal offices (内设机构) that handle items.
    #[serde(default)]
    pub offices: Vec<String>,
}

/// A whole catalog document, as imported and exported.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// Divisions.
    #[serde(default)]
    pub divisions: Vec<Division>,
    /// Departments.
    #[serde(default)]
    pub departments: Vec<Department>,
    /// Items.
    #[serde(default)]
    pub items: Vec<ServiceItem>,
}

/// A broken consistency rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// A required text field is empty.
    Required,
    /// Base code is not 12 characters of `[0-9A-Z]`.
    BaseCodeFormat,
    /// Implementation code is not 1–36 characters of `[0-9A-Z]`.
    ImplementationCodeFormat,
    /// Handling code is not 1–50 characters of `[0-9A-Z]`.
    HandlingCodeFormat,
    /// A credit code does not parse.
    InvalidCreditCode(String),
    /// A division code does not parse.
    InvalidDivisionCode(String),
    /// The same code is used twice.
    Duplicate(String),
    /// A referenced department, division or item does not exist.
    UnknownReference(String),
    /// Promised limit above the statutory limit.
    PromisedExceedsStatutory {
        /// Promised working days.
        promised: u16,
        /// Statutory working days.
        statutory: u16,
    },
    /// 即办件 with a promised limit other than 0.
    ImmediateRequiresZeroDays,
    /// 承诺件 with a promised limit of 0.
    PromisedRequiresDays,
    /// Online depth Ⅳ with on-site visits.
    FullOnlineRequiresZeroVisits,
    /// Online depth Ⅳ without the online or mobile channel.
    FullOnlineRequiresOnlineChannel,
    /// On-site visits without a reason.
    VisitsReasonRequired,
    /// Online payment although there is no fee.
    OnlinePaymentWithoutFee,
    /// A fee with an amount ≤ 0.
    FeeAmount,
    /// A situation references a material that the item does not define.
    UnknownMaterial(String),
    /// The steps of a licensing item take longer than its promised limit: the critical path
    /// (parallel steps counted once, by the longest) exceeds it.
    ProcessExceedsPromised {
        /// Working days on the critical path ([`critical_path_days`]).
        total: u32,
        /// Promised working days.
        promised: u16,
    },
    /// A certificate result without a certificate type.
    CertificateTypeRequired,
    /// No channel at all.
    ChannelRequired,
    /// Material count of 0.
    MaterialCount,
    /// effective_to before effective_from.
    EffectiveDates,
    /// The item names itself as parent.
    SelfParent,
    /// The parent is itself a sub-item (the catalog has two levels).
    NestedSubItem(String),
    /// A time limit beyond any legal period (more than 365 working days).
    LimitTooLarge(u16),
    /// The field does not have the expected form (wrong type, unknown value or unknown field).
    Malformed(String),
}

/// One violation of a consistency rule, with the path of the offending field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Path of the field, e.g. `items[3].situations[1].materials[0]`.
    pub path: String,
    /// The broken rule.
    pub rule: Rule,
}

impl Violation {
    /// A violation of `rule` at `path`.
    pub fn new(path: impl Into<String>, rule: Rule) -> Self {
        Violation {
            path: path.into(),
            rule,
        }
    }
}

impl Localized for Violation {
    fn code(&self) -> &'static str {
        match &self.rule {
            Rule::Required => "required",
            Rule::BaseCodeFormat => "base_code_format",
            Rule::ImplementationCodeFormat => "implementation_code_format",
            Rule::HandlingCodeFormat => "handling_code_format",
            Rule::InvalidCreditCode(_) => "invalid_credit_code",
            Rule::InvalidDivisionCode(_) => "invalid_division_code",
            Rule::Duplicate(_) => "duplicate_code",
            Rule::UnknownReference(_) => "unknown_reference",
            Rule::PromisedExceedsStatutory { .. } => "promised_exceeds_statutory",
            Rule::ImmediateRequiresZeroDays => "immediate_requires_zero_days",
            Rule::PromisedRequiresDays => "promised_requires_days",
            Rule::FullOnlineRequiresZeroVisits => "full_online_requires_zero_visits",
            Rule::FullOnlineRequiresOnlineChannel => "full_online_requires_online_channel",
            Rule::VisitsReasonRequired => "visits_reason_required",
            Rule::OnlinePaymentWithoutFee => "online_payment_without_fee",
            Rule::FeeAmount => "fee_amount",
            Rule::UnknownMaterial(_) => "unknown_material",
            Rule::ProcessExceedsPromised { .. } => "process_exceeds_promised",
            Rule::CertificateTypeRequired => "certificate_type_required",
            Rule::ChannelRequired => "channel_required",
            Rule::MaterialCount => "material_count",
            Rule::EffectiveDates => "effective_dates",
            Rule::SelfParent => "self_parent",
            Rule::NestedSubItem(_) => "nested_sub_item",
            Rule::LimitTooLarge(_) => "limit_too_large",
            Rule::Malformed(_) => "malformed",
        }
    }

    fn message_zh(&self) -> String {
        let p = &self.path;
        match &self.rule {
            Rule::Required => format!("{p}：必填项不能为空"),
            Rule::BaseCodeFormat => format!("{p}：基本编码应为12位数字或大写字母"),
            Rule::ImplementationCodeFormat => format!("{p}：实施编码应为1至36位数字或大写字母"),
            Rule::HandlingCodeFormat => format!("{p}：业务办理项编码应为1至50位数字或大写字母"),
            Rule::InvalidCreditCode(why) => format!("{p}：统一社会信用代码无效（{why}）"),
            Rule::InvalidDivisionCode(why) => format!("{p}：行政区划代码无效（{why}）"),
            Rule::Duplicate(code) => format!("{p}：编码“{code}”重复"),
            Rule::UnknownReference(code) => format!("{p}：引用的“{code}”不存在"),
            Rule::PromisedExceedsStatutory {
                promised,
                statutory,
            } => format!(
                "{p}：承诺时限（{promised}个工作日）不得超过法定时限（{statutory}个工作日）"
            ),
            Rule::ImmediateRequiresZeroDays => format!("{p}：即办件的承诺时限应为0个工作日"),
            Rule::PromisedRequiresDays => format!("{p}：承诺件的承诺时限应大于0个工作日"),
            Rule::FullOnlineRequiresZeroVisits => {
                format!("{p}：网上办理深度为Ⅳ级（全程网办）的事项到现场次数应为0")
            }
            Rule::FullOnlineRequiresOnlineChannel => {
                format!("{p}：全程网办事项须提供网上办或掌上办渠道")
            }
            Rule::VisitsReasonRequired => format!("{p}：到现场次数大于0时须说明理由"),
            Rule::OnlinePaymentWithoutFee => format!("{p}：不收费事项不能支持网上支付"),
            Rule::FeeAmount => format!("{p}：收费金额应大于0分"),
            Rule::UnknownMaterial(id) => format!("{p}：情形引用的材料“{id}”在事项材料中不存在"),
            Rule::ProcessExceedsPromised { total, promised } => format!(
                "{p}：行政许可事项各环节时限之和（并联环节按其中最长者计，共{total}个工作日）超过承诺时限（{promised}个工作日）"
            ),
            Rule::CertificateTypeRequired => format!("{p}：办理结果为证照时须填写证照类型"),
            Rule::ChannelRequired => format!("{p}：至少需要一个办理渠道"),
            Rule::MaterialCount => format!("{p}：材料份数应至少为1"),
            Rule::EffectiveDates => format!("{p}：计划取消日期不得早于生效日期"),
            Rule::SelfParent => format!("{p}：事项不能以自身为上级事项"),
            Rule::NestedSubItem(code) => {
                format!("{p}：上级事项“{code}”本身是子项，子项只能挂在主项下")
            }
            Rule::LimitTooLarge(days) => format!("{p}：时限{days}个工作日超出合理范围（最多365）"),
            Rule::Malformed(why) => format!("{p}：格式不正确（{why}）"),
        }
    }

    fn message_en(&self) -> String {
        let p = &self.path;
        match &self.rule {
            Rule::Required => format!("{p}: must not be empty"),
            Rule::BaseCodeFormat => format!("{p}: base code must be 12 digits or capital letters"),
            Rule::ImplementationCodeFormat => {
                format!("{p}: implementation code must be 1 to 36 digits or capital letters")
            }
            Rule::HandlingCodeFormat => {
                format!("{p}: handling code must be 1 to 50 digits or capital letters")
            }
            Rule::InvalidCreditCode(why) => format!("{p}: invalid credit code ({why})"),
            Rule::InvalidDivisionCode(why) => format!("{p}: invalid division code ({why})"),
            Rule::Duplicate(code) => format!("{p}: code \"{code}\" is used more than once"),
            Rule::UnknownReference(code) => format!("{p}: \"{code}\" does not exist"),
            Rule::PromisedExceedsStatutory {
                promised,
                statutory,
            } => format!(
                "{p}: the promised limit ({promised} working days) exceeds the statutory limit ({statutory})"
            ),
            Rule::ImmediateRequiresZeroDays => {
                format!("{p}: an immediate item must promise 0 working days")
            }
            Rule::PromisedRequiresDays => {
                format!("{p}: a promised item must promise more than 0 working days")
            }
            Rule::FullOnlineRequiresZeroVisits => {
                format!("{p}: an item fully online (depth IV) must need 0 on-site visits")
            }
            Rule::FullOnlineRequiresOnlineChannel => {
                format!("{p}: an item fully online needs the online or mobile channel")
            }
            Rule::VisitsReasonRequired => {
                format!("{p}: a reason is required when on-site visits are above 0")
            }
            Rule::OnlinePaymentWithoutFee => {
                format!("{p}: an item without fees cannot support online payment")
            }
            Rule::FeeAmount => format!("{p}: a fee must be more than 0 fen"),
            Rule::UnknownMaterial(id) => {
                format!(
                    "{p}: the situation references material \"{id}\", which the item does not define"
                )
            }
            Rule::ProcessExceedsPromised { total, promised } => format!(
                "{p}: the steps of a licensing item take {total} working days (parallel steps counted by the longest), more than the promised {promised}"
            ),
            Rule::CertificateTypeRequired => {
                format!("{p}: a certificate result needs a certificate type")
            }
            Rule::ChannelRequired => format!("{p}: at least one channel is required"),
            Rule::MaterialCount => format!("{p}: the number of copies must be at least 1"),
            Rule::EffectiveDates => {
                format!("{p}: the cancellation date must not be before the effective date")
            }
            Rule::SelfParent => format!("{p}: an item cannot be its own parent"),
            Rule::NestedSubItem(code) => format!(
                "{p}: the parent \"{code}\" is itself a sub-item; sub-items hang under main items only"
            ),
            Rule::LimitTooLarge(days) => {
                format!("{p}: {days} working days is beyond any legal period (at most 365)")
            }
            Rule::Malformed(why) => format!("{p}: malformed ({why})"),
        }
    }
}

/// Longest time limit the catalog accepts, in working days.
pub const MAX_LIMIT_DAYS: u16 = 365;

fn is_code(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

/// Checks one item on its own (every rule that needs nothing but the item) and returns every
/// violation, with paths prefixed by `prefix` (empty for a single item).
pub fn validate_item(item: &ServiceItem, prefix: &str) -> Vec<Violation> {
    let at = |field: &str| {
        if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        }
    };
    let mut out = Vec::new();
    if !is_code(&item.base_code, 12, 12) {
        out.push(Violation::new(at("base_code"), Rule::BaseCodeFormat));
    }
    if !is_code(&item.implementation_code, 1, 36) {
        out.push(Violation::new(
            at("implementation_code"),
            Rule::ImplementationCodeFormat,
        ));
    }
    if let Some(h) = &item.handling_code
        && !is_code(h, 1, 50)
    {
        out.push(Violation::new(
            at("handling_code"),
            Rule::HandlingCodeFormat,
        ));
    }
    if item.parent_code.as_deref() == Some(item.implementation_code.as_str()) {
        out.push(Violation::new(at("parent_code"), Rule::SelfParent));
    }
    if blank(&item.name) {
        out.push(Violation::new(at("name"), Rule::Required));
    }
    if item.legal_basis.is_empty() {
        out.push(Violation::new(at("legal_basis"), Rule::Required));
    }
    for (i, b) in item.legal_basis.iter().enumerate() {
        if blank(b) {
            out.push(Violation::new(
                at(&format!("legal_basis[{i}]")),
                Rule::Required,
            ));
        }
    }
    if let Err(e) = CreditCode::parse(&item.department_code) {
        out.push(Violation::new(
            at("department_code"),
            Rule::InvalidCreditCode(e.message_en()),
        ));
    }
    if let Err(e) = DivisionCode::parse(&item.division_code) {
        out.push(Violation::new(
            at("division_code"),
            Rule::InvalidDivisionCode(e.message_en()),
        ));
    }
    for (field, days) in [
        ("statutory_limit", item.statutory_limit),
        ("promised_limit", item.promised_limit),
    ] {
        if days > MAX_LIMIT_DAYS {
            out.push(Violation::new(at(field), Rule::LimitTooLarge(days)));
        }
    }
    if item.promised_limit > item.statutory_limit {
        out.push(Violation::new(
            at("promised_limit"),
            Rule::PromisedExceedsStatutory {
                promised: item.promised_limit,
                statutory: item.statutory_limit,
            },
        ));
    }
    match item.handling_kind {
        HandlingKind::Immediate if item.promised_limit != 0 => {
            out.push(Violation::new(
                at("promised_limit"),
                Rule::ImmediateRequiresZeroDays,
            ));
        }
        HandlingKind::Promised if item.promised_limit == 0 => {
            out.push(Violation::new(
                at("promised_limit"),
                Rule::PromisedRequiresDays,
            ));
        }
        _ => {}
    }
    if item.channels.is_empty() {
        out.push(Violation::new(at("channels"), Rule::ChannelRequired));
    }
    if item.online_depth == OnlineDepth::IV {
        if item.visits > 0 {
            out.push(Violation::new(
                at("visits"),
                Rule::FullOnlineRequiresZeroVisits,
            ));
        }
        if !item.applies_online() {
            out.push(Violation::new(
                at("channels"),
                Rule::FullOnlineRequiresOnlineChannel,
            ));
        }
    }
    if item.visits > 0 && item.visits_reason.as_deref().is_none_or(blank) {
        out.push(Violation::new(
            at("visits_reason"),
            Rule::VisitsReasonRequired,
        ));
    }
    if item.fees.is_empty() && item.online_payment {
        out.push(Violation::new(
            at("online_payment"),
            Rule::OnlinePaymentWithoutFee,
        ));
    }
    for (i, fee) in item.fees.iter().enumerate() {
        if fee.amount_fen <= 0 {
            out.push(Violation::new(
                at(&format!("fees[{i}].amount_fen")),
                Rule::FeeAmount,
            ));
        }
        if blank(&fee.name) {
            out.push(Violation::new(
                at(&format!("fees[{i}].name")),
                Rule::Required,
            ));
        }
    }
    if item.item_type == ItemType::Licensing && !item.process.is_empty() {
        let total = critical_path_days(&item.process);
        if total > u32::from(item.promised_limit) {
            out.push(Violation::new(
                at("process"),
                Rule::ProcessExceedsPromised {
                    total,
                    promised: item.promised_limit,
                },
            ));
        }
    }
    if item.result.result_type == ResultType::Certificate
        && item.result.certificate_type.as_deref().is_none_or(blank)
    {
        out.push(Violation::new(
            at("result.certificate_type"),
            Rule::CertificateTypeRequired,
        ));
    }
    if blank(&item.contacts.consultation_phone) {
        out.push(Violation::new(
            at("contacts.consultation_phone"),
            Rule::Required,
        ));
    }
    if blank(&item.contacts.complaint_phone) {
        out.push(Violation::new(
            at("contacts.complaint_phone"),
            Rule::Required,
        ));
    }
    if let (Some(from), Some(to)) = (item.effective_from, item.effective_to)
        && to < from
    {
        out.push(Violation::new(at("effective_to"), Rule::EffectiveDates));
    }
    let mut material_ids = HashSet::new();
    for (i, m) in item.materials.iter().enumerate() {
        if blank(&m.id) {
            out.push(Violation::new(
                at(&format!("materials[{i}].id")),
                Rule::Required,
            ));
        } else if !material_ids.insert(m.id.as_str()) {
            out.push(Violation::new(
                at(&format!("materials[{i}].id")),
                Rule::Duplicate(m.id.clone()),
            ));
        }
        if blank(&m.name) {
            out.push(Violation::new(
                at(&format!("materials[{i}].name")),
                Rule::Required,
            ));
        }
        if m.count == 0 {
            out.push(Violation::new(
                at(&format!("materials[{i}].count")),
                Rule::MaterialCount,
            ));
        }
    }
    let mut situation_codes = HashSet::new();
    for (i, s) in item.situations.iter().enumerate() {
        if blank(&s.code) {
            out.push(Violation::new(
                at(&format!("situations[{i}].code")),
                Rule::Required,
            ));
        } else if !situation_codes.insert(s.code.as_str()) {
            out.push(Violation::new(
                at(&format!("situations[{i}].code")),
                Rule::Duplicate(s.code.clone()),
            ));
        }
        if blank(&s.name) {
            out.push(Violation::new(
                at(&format!("situations[{i}].name")),
                Rule::Required,
            ));
        }
        if blank(&s.guide) {
            out.push(Violation::new(
                at(&format!("situations[{i}].guide")),
                Rule::Required,
            ));
        }
        for (j, id) in s.materials.iter().enumerate() {
            if !material_ids.contains(id.as_str()) {
                out.push(Violation::new(
                    at(&format!("situations[{i}].materials[{j}]")),
                    Rule::UnknownMaterial(id.clone()),
                ));
            }
        }
        if let Some(days) = s.promised_limit {
            if days > item.statutory_limit {
                out.push(Violation::new(
                    at(&format!("situations[{i}].promised_limit")),
                    Rule::PromisedExceedsStatutory {
                        promised: days,
                        statutory: item.statutory_limit,
                    },
                ));
            }
            if item.handling_kind == HandlingKind::Immediate && days != 0 {
                out.push(Violation::new(
                    at(&format!("situations[{i}].promised_limit")),
                    Rule::ImmediateRequiresZeroDays,
                ));
            }
        }
    }
    out
}

/// What already exists outside the document being validated (for example in the database), so
/// that references to it resolve and codes that collide with it are reported.
#[derive(Debug, Clone, Default)]
pub struct KnownCodes {
    /// Division codes that exist.
    pub divisions: BTreeSet<String>,
    /// Department codes that exist.
    pub departments: BTreeSet<String>,
    /// Item implementation codes that exist.
    pub items: BTreeSet<String>,
}

/// Checks a whole catalog document: each division, department and item, codes unique within the
/// document, and every reference resolving either inside the document or to `known`.
/// Returns every violation; an empty list means the document may be saved.
pub fn validate_catalog(catalog: &Catalog, known: &KnownCodes) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut divisions: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, d) in catalog.divisions.iter().enumerate() {
        let path = format!("divisions[{i}]");
        if let Err(e) = DivisionCode::parse(&d.code) {
            out.push(Violation::new(
                format!("{path}.code"),
                Rule::InvalidDivisionCode(e.message_en()),
            ));
        }
        if divisions.insert(d.code.as_str(), i).is_some() {
            out.push(Violation::new(
                format!("{path}.code"),
                Rule::Duplicate(d.code.clone()),
            ));
        }
        if blank(&d.name) {
            out.push(Violation::new(format!("{path}.name"), Rule::Required));
        }
    }
    let division_exists =
        |code: &str| divisions.contains_key(code) || known.divisions.contains(code);
    let mut departments: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, d) in catalog.departments.iter().enumerate() {
        let path = format!("departments[{i}]");
        if let Err(e) = CreditCode::parse(&d.code) {
            out.push(Violation::new(
                format!("{path}.code"),
                Rule::InvalidCreditCode(e.message_en()),
            ));
        }
        if departments.insert(d.code.as_str(), i).is_some() {
            out.push(Violation::new(
                format!("{path}.code"),
                Rule::Duplicate(d.code.clone()),
            ));
        }
        if blank(&d.name) {
            out.push(Violation::new(format!("{path}.name"), Rule::Required));
        }
        if !division_exists(&d.division_code) {
            out.push(Violation::new(
                format!("{path}.division_code"),
                Rule::UnknownReference(d.division_code.clone()),
            ));
        }
    }
    let department_exists =
        |code: &str| departments.contains_key(code) || known.departments.contains(code);
    let mut items: BTreeMap<&str, usize> = BTreeMap::new();
    let mut handling_codes: BTreeSet<&str> = BTreeSet::new();
    for (i, item) in catalog.items.iter().enumerate() {
        let path = format!("items[{i}]");
        out.extend(validate_item(item, &path));
        if items.insert(item.implementation_code.as_str(), i).is_some() {
            out.push(Violation::new(
                format!("{path}.implementation_code"),
                Rule::Duplicate(item.implementation_code.clone()),
            ));
        }
        if let Some(h) = &item.handling_code
            && !handling_codes.insert(h.as_str())
        {
            out.push(Violation::new(
                format!("{path}.handling_code"),
                Rule::Duplicate(h.clone()),
            ));
        }
        if !department_exists(&item.department_code) {
            out.push(Violation::new(
                format!("{path}.department_code"),
                Rule::UnknownReference(item.department_code.clone()),
            ));
        }
        if !division_exists(&item.division_code) {
            out.push(Violation::new(
                format!("{path}.division_code"),
                Rule::UnknownReference(item.division_code.clone()),
            ));
        }
    }
    for (i, item) in catalog.items.iter().enumerate() {
        let Some(parent) = &item.parent_code else {
            continue;
        };
        match items.get(parent.as_str()) {
            // The catalog has two levels: main items and their sub-items.
            Some(&p) if catalog.items[p].parent_code.is_some() => out.push(Violation::new(
                format!("items[{i}].parent_code"),
                Rule::NestedSubItem(parent.clone()),
            )),
            Some(_) => {}
            None if known.items.contains(parent) => {}
            None => out.push(Violation::new(
                format!("items[{i}].parent_code"),
                Rule::UnknownReference(parent.clone()),
            )),
        }
    }
    out
}

/// One material as the guide shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuideMaterial {
    /// The material.
    #[serde(flatten)]
    pub material: Material,
    /// Whether the platform can fetch it instead of asking for it (certificate, shared data or an
    /// earlier item's result).
    pub auto_resolvable: bool,
}

/// 办事指南: what an applicant needs to know for one item in one situation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Guide {
    /// Implementation code of the item.
    pub implementation_code: String,
    /// Item name.
    pub item_name: String,
    /// The situation (the implicit one when the item defines none).
    pub situation: Situation,
    /// Conditions: the item's acceptance conditions followed by the situation's own.
    pub conditions: Vec<String>,
    /// The materials of this situation, in the item's order.
    pub materials: Vec<GuideMaterial>,
    /// Promised limit for this situation, working days.
    pub promised_limit: u16,
    /// Statutory limit, working days.
    pub statutory_limit: u16,
    /// 即办件 / 承诺件
    pub handling_kind: HandlingKind,
    /// Fees.
    pub fees: Vec<Fee>,
    /// On-site visits.
    pub visits: u8,
    /// Why visits are needed.
    pub visits_reason: Option<String>,
    /// Online depth.
    pub online_depth: OnlineDepth,
    /// Channels.
    pub channels: Vec<Channel>,
    /// Result.
    pub result: ResultSpec,
    /// Delivery methods.
    pub delivery_methods: Vec<DeliveryMethod>,
    /// Contacts.
    pub contacts: Contacts,
    /// Legal basis.
    pub legal_basis: Vec<String>,
}

/// Code of the implicit situation of an item that defines none.
pub const DEFAULT_SITUATION: &str = "default";

/// Items need real-name verification (L2) unless they say otherwise.
fn default_min_assurance() -> crate::identity::AssuranceLevel {
    crate::identity::AssuranceLevel::L2
}

fn is_default_min_assurance(level: &crate::identity::AssuranceLevel) -> bool {
    *level == default_min_assurance()
}

impl ServiceItem {
    /// Whether the item can be applied for online: on the web (网上办) or in the app (掌上办).
    pub fn applies_online(&self) -> bool {
        self.channels
            .iter()
            .any(|c| matches!(c, Channel::Online | Channel::Mobile))
    }

    /// The situations an applicant chooses from: the item's own, or one implicit situation with
    /// every required material when it defines none.
    pub fn effective_situations(&self) -> Vec<Situation> {
        if !self.situations.is_empty() {
            return self.situations.clone();
        }
        vec![Situation {
            code: DEFAULT_SITUATION.to_string(),
            name: self.name.clone(),
            conditions: Vec::new(),
            materials: self
                .materials
                .iter()
                .filter(|m| m.required)
                .map(|m| m.id.clone())
                .collect(),
            promised_limit: None,
            guide: self.acceptance_conditions.join("；"),
        }]
    }

    /// The guide for one situation, or `None` when the item has no such situation.
    pub fn guide(&self, situation_code: &str) -> Option<Guide> {
        let situation = self
            .effective_situations()
            .into_iter()
            .find(|s| s.code == situation_code)?;
        let materials = self
            .materials
            .iter()
            .filter(|m| situation.materials.contains(&m.id))
            .map(|m| GuideMaterial {
                auto_resolvable: m.source != MaterialSource::Upload,
                material: m.clone(),
            })
            .collect();
        let mut conditions = self.acceptance_conditions.clone();
        conditions.extend(situation.conditions.iter().cloned());
        Some(Guide {
            implementation_code: self.implementation_code.clone(),
            item_name: self.name.clone(),
            promised_limit: situation.promised_limit.unwrap_or(self.promised_limit),
            situation,
            conditions,
            materials,
            statutory_limit: self.statutory_limit,
            handling_kind: self.handling_kind,
            fees: self.fees.clone(),
            visits: self.visits,
            visits_reason: self.visits_reason.clone(),
            online_depth: self.online_depth,
            channels: self.channels.clone(),
            result: self.result.clone(),
            delivery_methods: self.delivery_methods.clone(),
            contacts: self.contacts.clone(),
            legal_basis: self.legal_basis.clone(),
        })
    }
}

/// The divisions whose items serve someone in `division`: the division itself, its parents, and
/// the province-level bodies' code (`XX9900`) of its province. A county user thus also sees city
/// and province items.
pub fn visible_divisions(division: &DivisionCode) -> Vec<String> {
    let mut out = vec![division.as_str().to_string()];
    out.extend(division.ancestors().map(|d| d.as_str().to_string()));
    // A parsed DivisionCode is 6 or 12 ASCII digits, so the first two bytes are the province.
    let province = division.as_str().get(..2).unwrap_or_default();
    let province_bodies = format!("{province}9900");
    if !out.contains(&province_bodies) {
        out.push(province_bodies);
    }
    out
}
