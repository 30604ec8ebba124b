//! Why an event cannot be applied to a case.

use jiff::civil::Date;

use super::event::ActionKind;
use super::state::CaseState;
use crate::Localized;

/// A text an event must carry (not blank after trimming).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextField {
    /// The reason of a refusal at intake.
    RefusalReason,
    /// The review opinion of a step.
    Opinion,
    /// The reason of a special procedure.
    SuspensionReason,
    /// The reason of a denial.
    DenialReason,
    /// The reason of a withdrawal.
    WithdrawalReason,
    /// The id of a supervision order.
    OrderId,
    /// The reason of a supervision order.
    SupervisionReason,
    /// The answer to a supervision order.
    SupervisionAnswer,
    /// The text of a remark.
    Remark,
}

impl TextField {
    /// Chinese name of the field.
    pub fn label_zh(self) -> &'static str {
        match self {
            TextField::RefusalReason => "不予受理的理由",
            TextField::Opinion => "审查意见",
            TextField::SuspensionReason => "进入特别程序的理由",
            TextField::DenialReason => "不予批准的理由",
            TextField::WithdrawalReason => "撤回的理由",
            TextField::OrderId => "督办单编号",
            TextField::SupervisionReason => "督办事由",
            TextField::SupervisionAnswer => "督办回复内容",
            TextField::Remark => "备注内容",
        }
    }

    /// English name of the field.
    pub fn label_en(self) -> &'static str {
        match self {
            TextField::RefusalReason => "the reason for refusing",
            TextField::Opinion => "the review opinion",
            TextField::SuspensionReason => "the reason for the special procedure",
            TextField::DenialReason => "the reason for denying",
            TextField::WithdrawalReason => "the reason for withdrawing",
            TextField::OrderId => "the supervision order id",
            TextField::SupervisionReason => "the reason for supervision",
            TextField::SupervisionAnswer => "the answer to the supervision order",
            TextField::Remark => "the remark",
        }
    }
}

/// Why an event cannot be applied. The status is left as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    /// The first event of a case must be `created`.
    #[error("the case has not been created yet: it must exist before anyone can {}", .action.label_en())]
    NotCreated {
        /// What was attempted.
        action: ActionKind,
    },
    /// `created` came a second time.
    #[error("the case already exists")]
    AlreadyCreated,
    /// The action is not possible in the current state.
    #[error("cannot {} now: the case's status is \"{}\"", .action.label_en(), .state.label_en())]
    IllegalTransition {
        /// The current state.
        state: CaseState,
        /// What was attempted.
        action: ActionKind,
    },
    /// The case is in a terminal state: nothing can change it any more.
    #[error("the case is closed (\"{}\"), so it is too late to {}", .state.label_en(), .action.label_en())]
    Closed {
        /// The terminal state.
        state: CaseState,
        /// What was attempted.
        action: ActionKind,
    },
    /// The case has been decided, so the applicant can no longer withdraw.
    #[error("the case was already decided (\"{}\"); it can no longer be withdrawn", .state.label_en())]
    AlreadyConcluded {
        /// The concluded state.
        state: CaseState,
    },
    /// The step is not part of the case's process.
    #[error("the process has no review step {} in stage {}", .step + 1, .stage + 1)]
    StepUnknown {
        /// Stage index given.
        stage: usize,
        /// Step index given.
        step: usize,
    },
    /// The step was already completed.
    #[error("review step {} of stage {} is already completed", .step + 1, .stage + 1)]
    StepDone {
        /// Stage index given.
        stage: usize,
        /// Step index given.
        step: usize,
    },
    /// An earlier stage is not complete yet (for a later step or for the decision).
    #[error("the current review stage ({}) is not complete; {remaining} review steps are still open", .current + 1)]
    StageIncomplete {
        /// Index of the current stage.
        current: usize,
        /// Steps still open, over the current and later stages.
        remaining: usize,
    },
    /// A required text is blank.
    #[error("{} must not be empty", .field.label_en())]
    ReasonRequired {
        /// Which text.
        field: TextField,
    },
    /// A correction request lists nothing.
    #[error("a correction request must list at least one item")]
    CorrectionEmpty,
    /// An item of a correction request has a blank subject or reason.
    #[error("correction item {} needs both what to correct and why", .index + 1)]
    CorrectionItemIncomplete {
        /// 0-based index of the item.
        index: usize,
    },
    /// A correction is already open: everything must be asked at once.
    #[error("a correction request is already open")]
    CorrectionOpen,
    /// The acceptor tried to review or decide the case.
    #[error("the staff member who accepted the case may not {}", .action.label_en())]
    SeparationOfDuties {
        /// What was attempted.
        action: ActionKind,
    },
    /// A supervision order with this id was already issued on the case.
    #[error("supervision order {order} was already issued on this case")]
    SupervisionDuplicate {
        /// The order id.
        order: String,
    },
    /// No supervision order with this id was issued on the case.
    #[error("no supervision order {order} was issued on this case")]
    SupervisionUnknown {
        /// The order id.
        order: String,
    },
    /// The supervision order was already answered.
    #[error("supervision order {order} was already answered")]
    SupervisionAnswered {
        /// The order id.
        order: String,
    },
    /// The event is dated before the case's previous event.
    #[error("the event is dated {on}, before the previous event of the case ({last})")]
    DateOutOfOrder {
        /// Date of the previous event.
        last: Date,
        /// Date given.
        on: Date,
    },
}

impl Localized for CaseError {
    fn code(&self) -> &'static str {
        match self {
            CaseError::NotCreated { .. } => "case_not_created",
            CaseError::AlreadyCreated => "case_already_created",
            CaseError::IllegalTransition { .. } => "case_illegal_transition",
            CaseError::Closed { .. } => "case_closed",
            CaseError::AlreadyConcluded { .. } => "case_already_concluded",
            CaseError::StepUnknown { .. } => "case_step_unknown",
            CaseError::StepDone { .. } => "case_step_done",
            CaseError::StageIncomplete { .. } => "case_stage_incomplete",
            CaseError::ReasonRequired { .. } => "case_reason_required",
            CaseError::CorrectionEmpty => "case_correction_empty",
            CaseError::CorrectionItemIncomplete { .. } => "case_correction_item_incomplete",
            CaseError::CorrectionOpen => "case_correction_open",
            CaseError::SeparationOfDuties { .. } => "case_separation_of_duties",
            CaseError::SupervisionDuplicate { .. } => "case_supervision_duplicate",
            CaseError::SupervisionUnknown { .. } => "case_supervision_unknown",
            CaseError::SupervisionAnswered { .. } => "case_supervision_answered",
            CaseError::DateOutOfOrder { .. } => "case_date_out_of_order",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            CaseError::NotCreated { action } => {
                format!("办件尚未创建，不能{}", action.label_zh())
            }
            CaseError::AlreadyCreated => "该办件已经创建，不能重复创建".to_owned(),
            CaseError::IllegalTransition { state, action } => format!(
                "办件当前状态为“{}”，不能{}",
                state.label_zh(),
                action.label_zh()
            ),
            CaseError::Closed { state, action } => format!(
                "办件已终结（{}），不能再{}",
                state.label_zh(),
                action.label_zh()
            ),
            CaseError::AlreadyConcluded { state } => {
                format!("办件已作出决定（{}），不能再撤回申请", state.label_zh())
            }
            CaseError::StepUnknown { stage, step } => format!(
                "办理流程中没有第{}阶段的第{}个审查环节",
                stage + 1,
                step + 1
            ),
            CaseError::StepDone { stage, step } => format!(
                "第{}阶段的第{}个审查环节已经完成，不能重复办理",
                stage + 1,
                step + 1
            ),
            CaseError::StageIncomplete { current, remaining } => format!(
                "当前审查阶段（第{}阶段）尚未完成，还有{}个审查环节未办理",
                current + 1,
                remaining
            ),
            CaseError::ReasonRequired { field } => format!("请填写{}", field.label_zh()),
            CaseError::CorrectionEmpty => "补正告知须列明需要补正的全部内容，至少一项".to_owned(),
            CaseError::CorrectionItemIncomplete { index } => {
                format!("第{}项补正内容须写明补正对象和原因", index + 1)
            }
            CaseError::CorrectionOpen => {
                "已有一份补正告知尚未补齐：补正须一次性告知，请等申请人提交补正后再办理".to_owned()
            }
            CaseError::SeparationOfDuties { action } => format!(
                "受理与审批须分离：受理本件的工作人员不能{}，请由审批人员办理",
                action.label_zh()
            ),
            CaseError::SupervisionDuplicate { order } => {
                format!("督办单“{order}”已对本件下达，不能重复下达")
            }
            CaseError::SupervisionUnknown { order } => {
                format!("本件没有编号为“{order}”的督办单")
            }
            CaseError::SupervisionAnswered { order } => {
                format!("督办单“{order}”已经回复，不能重复回复")
            }
            CaseError::DateOutOfOrder { last, on } => {
                format!("办理日期 {on} 早于本件上一次办理的日期 {last}，请检查日期")
            }
        }
    }

    fn message_en(&self) -> String {
        match self {
            CaseError::CorrectionOpen => "A correction request is already open: corrections are \
                 requested all at once, so wait until the applicant supplies them"
                .to_owned(),
            CaseError::SeparationOfDuties { action } => format!(
                "Intake and handling are separate: the staff member who accepted this case may \
                 not {}; a handling officer must do it",
                action.label_en()
            ),
            other => {
                let text = other.to_string();
                let mut chars = text.chars();
                match chars.next() {
                    Some(first) => first.to_uppercase().chain(chars).collect(),
                    None => text,
                }
            }
        }
    }
}
