//! The events of a case, the actions they stand for, and their plain-language description.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::clock::Warning;
use crate::catalog::DeliveryMethod;
use crate::identity::AccountId;

/// One thing the applicant must correct or add (补正项).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CorrectionItem {
    /// What is concerned: a material id (e.g. `M01`) or a form field key.
    pub subject: String,
    /// What is wrong or missing, in words the applicant understands.
    pub reason: String,
}

/// A reference to an uploaded file (上传材料), as an application or a correction keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    /// Upload id.
    pub id: String,
    /// File name.
    pub name: String,
    /// Media type.
    #[serde(default)]
    pub media_type: Option<String>,
}

/// A special procedure whose time is not counted in the limit (Administrative Licensing Law
/// art. 45).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecialProcedure {
    /// 听证
    Hearing,
    /// 检验、检测、检疫
    Testing,
    /// 现场勘验、核查
    Inspection,
    /// 专家评审
    ExpertReview,
    /// 招标、拍卖
    Tender,
}

impl SpecialProcedure {
    /// The `snake_case` name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SpecialProcedure::Hearing => "hearing",
            SpecialProcedure::Testing => "testing",
            SpecialProcedure::Inspection => "inspection",
            SpecialProcedure::ExpertReview => "expert_review",
            SpecialProcedure::Tender => "tender",
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            SpecialProcedure::Hearing => "听证",
            SpecialProcedure::Testing => "检验检测",
            SpecialProcedure::Inspection => "现场勘验核查",
            SpecialProcedure::ExpertReview => "专家评审",
            SpecialProcedure::Tender => "招标拍卖",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            SpecialProcedure::Hearing => "a hearing",
            SpecialProcedure::Testing => "testing",
            SpecialProcedure::Inspection => "an on-site inspection",
            SpecialProcedure::ExpertReview => "an expert review",
            SpecialProcedure::Tender => "a tender or auction",
        }
    }
}

/// The decision on a case. JSON: `{"kind":"approved"}`, `{"kind":"denied","reason":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// 准予.
    Approved,
    /// 不予, with the reason given to the applicant.
    Denied {
        /// Why (not blank).
        reason: String,
    },
}

/// An event of a case: the only way a case changes. Stored as JSON with a `type` tag, e.g.
/// `{"type":"accepted","by":"u-17"}`.
///
/// The first four history events (`warning_raised`, `supervision_ordered`,
/// `supervision_answered`, `remark`) do not change the state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CaseEvent {
    /// The case was created from an application (always the first event).
    Created {
        /// Implementation code of the item.
        item: String,
        /// Version of the item the case follows.
        item_version: i64,
        /// Code of the situation (办理情形).
        situation: String,
        /// A bundle member waiting for prerequisite members (starts in `Waiting`).
        waiting: bool,
    },
    /// The prerequisite members concluded: `Waiting` → `AwaitingIntake`.
    Started,
    /// 受理: the clock starts the day after.
    Accepted {
        /// The accepting account (who may then neither review nor decide).
        by: AccountId,
    },
    /// 不予受理.
    Refused {
        /// The refusing account.
        by: AccountId,
        /// Why (not blank).
        reason: String,
    },
    /// 补正 (one-time notice): everything missing, at once.
    CorrectionRequested {
        /// The requesting account.
        by: AccountId,
        /// What to correct (not empty).
        items: Vec<CorrectionItem>,
    },
    /// The applicant supplied the corrections: back to the state the request came from.
    CorrectionSupplied {
        /// The applicant's note.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        /// The files supplied, by material key.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        uploads: BTreeMap<String, FileRef>,
    },
    /// A review step of the current stage was completed.
    StepCompleted {
        /// The officer (not the acceptor).
        by: AccountId,
        /// Index of the stage in the process definition.
        stage: usize,
        /// Index of the step within its stage.
        step: usize,
        /// The review opinion (not blank; internal).
        opinion: String,
    },
    /// A special procedure began; the clock stops.
    Suspended {
        /// Which procedure.
        procedure: SpecialProcedure,
        /// Why (not blank).
        reason: String,
    },
    /// The special procedure ended; the clock runs again.
    Resumed,
    /// The decision (办结), after every stage.
    Decided {
        /// The deciding account (not the acceptor).
        by: AccountId,
        /// Approved, or denied with a reason.
        outcome: Outcome,
    },
    /// The result was issued (出件), after approval.
    ResultIssued {
        /// The issuing account; `None` when the platform issued it automatically.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<AccountId>,
        /// How the result reaches the applicant.
        delivery: DeliveryMethod,
        /// Identifier of the electronic certificate issued, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        certificate: Option<String>,
    },
    /// The applicant withdrew (撤回), before the decision.
    Withdrawn {
        /// Why (not blank).
        reason: String,
    },
    /// A warning (预警) was raised. History only.
    WarningRaised {
        /// The colour now.
        level: Warning,
    },
    /// A supervision order (督办) was issued on the case. History only.
    SupervisionOrdered {
        /// The order's id (unique within the case).
        order: String,
        /// Why (not blank).
        reason: String,
    },
    /// The department answered a supervision order. History only.
    SupervisionAnswered {
        /// The order's id.
        order: String,
        /// The answer (not blank).
        answer: String,
    },
    /// A free-text remark. History only.
    Remark {
        /// The text (not blank).
        text: String,
    },
}

/// The kind of an event, i.e. the action it records; what [`CaseStatus::allowed`] lists.
///
/// [`CaseStatus::allowed`]: super::CaseStatus::allowed
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// `created`
    Create,
    /// `started`
    Start,
    /// `accepted`
    Accept,
    /// `refused`
    Refuse,
    /// `correction_requested`
    RequestCorrection,
    /// `correction_supplied`
    SupplyCorrection,
    /// `step_completed`
    CompleteStep,
    /// `suspended`
    Suspend,
    /// `resumed`
    Resume,
    /// `decided`
    Decide,
    /// `result_issued`
    IssueResult,
    /// `withdrawn`
    Withdraw,
    /// `warning_raised`
    RaiseWarning,
    /// `supervision_ordered`
    OrderSupervision,
    /// `supervision_answered`
    AnswerSupervision,
    /// `remark`
    Remark,
}

impl ActionKind {
    /// Every action, in process order.
    pub const ALL: [ActionKind; 16] = [
        ActionKind::Create,
        ActionKind::Start,
        ActionKind::Accept,
        ActionKind::Refuse,
        ActionKind::RequestCorrection,
        ActionKind::SupplyCorrection,
        ActionKind::CompleteStep,
        ActionKind::Suspend,
        ActionKind::Resume,
        ActionKind::Decide,
        ActionKind::IssueResult,
        ActionKind::Withdraw,
        ActionKind::RaiseWarning,
        ActionKind::OrderSupervision,
        ActionKind::AnswerSupervision,
        ActionKind::Remark,
    ];

    /// The `snake_case` name used in JSON (the action, not the event type).
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Create => "create",
            ActionKind::Start => "start",
            ActionKind::Accept => "accept",
            ActionKind::Refuse => "refuse",
            ActionKind::RequestCorrection => "request_correction",
            ActionKind::SupplyCorrection => "supply_correction",
            ActionKind::CompleteStep => "complete_step",
            ActionKind::Suspend => "suspend",
            ActionKind::Resume => "resume",
            ActionKind::Decide => "decide",
            ActionKind::IssueResult => "issue_result",
            ActionKind::Withdraw => "withdraw",
            ActionKind::RaiseWarning => "raise_warning",
            ActionKind::OrderSupervision => "order_supervision",
            ActionKind::AnswerSupervision => "answer_supervision",
            ActionKind::Remark => "remark",
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            ActionKind::Create => "创建办件",
            ActionKind::Start => "启动办理",
            ActionKind::Accept => "受理",
            ActionKind::Refuse => "不予受理",
            ActionKind::RequestCorrection => "一次性告知补正",
            ActionKind::SupplyCorrection => "提交补正",
            ActionKind::CompleteStep => "完成审查环节",
            ActionKind::Suspend => "进入特别程序",
            ActionKind::Resume => "恢复办理",
            ActionKind::Decide => "作出决定",
            ActionKind::IssueResult => "出件",
            ActionKind::Withdraw => "撤回申请",
            ActionKind::RaiseWarning => "预警",
            ActionKind::OrderSupervision => "督办",
            ActionKind::AnswerSupervision => "回复督办",
            ActionKind::Remark => "备注",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            ActionKind::Create => "create the case",
            ActionKind::Start => "start handling",
            ActionKind::Accept => "accept",
            ActionKind::Refuse => "refuse at intake",
            ActionKind::RequestCorrection => "request corrections",
            ActionKind::SupplyCorrection => "supply corrections",
            ActionKind::CompleteStep => "complete a review step",
            ActionKind::Suspend => "start a special procedure",
            ActionKind::Resume => "resume handling",
            ActionKind::Decide => "decide",
            ActionKind::IssueResult => "issue the result",
            ActionKind::Withdraw => "withdraw the application",
            ActionKind::RaiseWarning => "raise a warning",
            ActionKind::OrderSupervision => "order supervision",
            ActionKind::AnswerSupervision => "answer supervision",
            ActionKind::Remark => "add a remark",
        }
    }

    /// Whether the action can change the state (the four history actions cannot).
    pub fn changes_state(self) -> bool {
        !matches!(
            self,
            ActionKind::RaiseWarning
                | ActionKind::OrderSupervision
                | ActionKind::AnswerSupervision
                | ActionKind::Remark
        )
    }
}

impl CaseEvent {
    /// The action this event records.
    pub fn action(&self) -> ActionKind {
        match self {
            CaseEvent::Created { .. } => ActionKind::Create,
            CaseEvent::Started => ActionKind::Start,
            CaseEvent::Accepted { .. } => ActionKind::Accept,
            CaseEvent::Refused { .. } => ActionKind::Refuse,
            CaseEvent::CorrectionRequested { .. } => ActionKind::RequestCorrection,
            CaseEvent::CorrectionSupplied { .. } => ActionKind::SupplyCorrection,
            CaseEvent::StepCompleted { .. } => ActionKind::CompleteStep,
            CaseEvent::Suspended { .. } => ActionKind::Suspend,
            CaseEvent::Resumed => ActionKind::Resume,
            CaseEvent::Decided { .. } => ActionKind::Decide,
            CaseEvent::ResultIssued { .. } => ActionKind::IssueResult,
            CaseEvent::Withdrawn { .. } => ActionKind::Withdraw,
            CaseEvent::WarningRaised { .. } => ActionKind::RaiseWarning,
            CaseEvent::SupervisionOrdered { .. } => ActionKind::OrderSupervision,
            CaseEvent::SupervisionAnswered { .. } => ActionKind::AnswerSupervision,
            CaseEvent::Remark { .. } => ActionKind::Remark,
        }
    }

    /// Whether the applicant's timeline shows this event. Warnings, supervision and remarks
    /// are internal; [`describe`] still words them for staff pages.
    pub fn applicant_visible(&self) -> bool {
        self.action().changes_state()
    }
}

/// The event in plain words for the applicant's timeline: `(Chinese, English)`.
///
/// Account ids, review opinions and other internal fields never appear; reasons written for
/// the applicant (refusal, correction, suspension, denial, withdrawal) do.
pub fn describe(event: &CaseEvent) -> (String, String) {
    match event {
        CaseEvent::Created { waiting: false, .. } => (
            "您的申请已提交，等待受理".to_owned(),
            "Your application was submitted and awaits intake".to_owned(),
        ),
        CaseEvent::Created { waiting: true, .. } => (
            "您的申请已提交，将在关联事项办结后开始办理".to_owned(),
            "Your application was submitted; it will be handled once the related items are concluded"
                .to_owned(),
        ),
        CaseEvent::Started => (
            "关联事项已办结，您的申请开始办理，等待受理".to_owned(),
            "The related items are concluded; your application now awaits intake".to_owned(),
        ),
        CaseEvent::Accepted { .. } => (
            "窗口已受理您的申请".to_owned(),
            "Your application was accepted".to_owned(),
        ),
        CaseEvent::Refused { reason, .. } => (
            format!("您的申请不予受理：{}", reason.trim()),
            format!("Your application was not accepted: {}", reason.trim()),
        ),
        CaseEvent::CorrectionRequested { items, .. } => {
            let zh: Vec<String> = items
                .iter()
                .map(|i| format!("{}（{}）", i.reason.trim(), i.subject.trim()))
                .collect();
            let en: Vec<String> = items
                .iter()
                .map(|i| format!("{} ({})", i.reason.trim(), i.subject.trim()))
                .collect();
            (
                format!("需要补正：{}。请一次性补齐后提交", zh.join("；")),
                format!(
                    "Corrections needed: {}. Please supply them all together",
                    en.join("; ")
                ),
            )
        }
        CaseEvent::CorrectionSupplied { .. } => (
            "您已提交补正材料，办理继续".to_owned(),
            "You supplied the corrections; handling continues".to_owned(),
        ),
        CaseEvent::StepCompleted { .. } => (
            "您的申请已完成一个审查环节".to_owned(),
            "A review step of your application was completed".to_owned(),
        ),
        CaseEvent::Suspended { procedure, reason } => (
            format!(
                "您的申请进入{}程序：{}。所需时间不计入办理时限",
                procedure.label_zh(),
                reason.trim()
            ),
            format!(
                "Your application is going through {}: {}. This time does not count towards the time limit",
                procedure.label_en(),
                reason.trim()
            ),
        ),
        CaseEvent::Resumed => (
            "特别程序已结束，您的申请恢复办理".to_owned(),
            "The special procedure is over; handling of your application resumed".to_owned(),
        ),
        CaseEvent::Decided {
            outcome: Outcome::Approved,
            ..
        } => (
            "您的申请已办结：准予办理".to_owned(),
            "Your application was approved".to_owned(),
        ),
        CaseEvent::Decided {
            outcome: Outcome::Denied { reason },
            ..
        } => (
            format!("您的申请已办结：不予批准。理由：{}", reason.trim()),
            format!("Your application was denied. Reason: {}", reason.trim()),
        ),
        CaseEvent::ResultIssued { delivery, .. } => match delivery {
            DeliveryMethod::Pickup => (
                "办理结果已出件，请到窗口领取".to_owned(),
                "The result is ready: please collect it at the service window".to_owned(),
            ),
            DeliveryMethod::Express => (
                "办理结果已出件，将通过快递寄送给您".to_owned(),
                "The result was issued and is being sent to you by express delivery".to_owned(),
            ),
            DeliveryMethod::Electronic => (
                "办理结果已电子送达，可在“我的证照”中查看".to_owned(),
                "The result was issued electronically; find it under My certificates".to_owned(),
            ),
        },
        CaseEvent::Withdrawn { reason } => (
            format!("申请已撤回：{}", reason.trim()),
            format!("The application was withdrawn: {}", reason.trim()),
        ),
        CaseEvent::WarningRaised { level } => match level {
            Warning::Green => (
                "办理时限预警已解除".to_owned(),
                "The time-limit warning was cleared".to_owned(),
            ),
            Warning::Yellow => (
                "黄牌预警：办理时限即将到期".to_owned(),
                "Yellow warning: the time limit is close".to_owned(),
            ),
            Warning::Red => (
                "红牌预警：已超过办理时限".to_owned(),
                "Red warning: the time limit has passed".to_owned(),
            ),
        },
        CaseEvent::SupervisionOrdered { reason, .. } => (
            format!("该件已被督办：{}", reason.trim()),
            format!("Supervision was ordered on this case: {}", reason.trim()),
        ),
        CaseEvent::SupervisionAnswered { answer, .. } => (
            format!("承办部门已回复督办：{}", answer.trim()),
            format!("The department answered the supervision: {}", answer.trim()),
        ),
        CaseEvent::Remark { text } => (
            format!("备注：{}", text.trim()),
            format!("Remark: {}", text.trim()),
        ),
    }
}
