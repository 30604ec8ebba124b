//! Supervision orders (督办): a supervisor orders a department to act on a case and answer by a
//! date.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::event::CaseEvent;
use super::number::CaseNumber;
use crate::Localized;
use crate::identity::AccountId;

/// The department's answer to a supervision order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisionAnswer {
    /// Who answered.
    pub by: AccountId,
    /// The answer.
    pub text: String,
    /// When.
    pub answered_on: Date,
}

/// A supervision order (督办单) on one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisionOrder {
    /// The order's id (unique within its case; issued by the store).
    pub id: String,
    /// The case supervised.
    pub case_number: CaseNumber,
    /// Credit code (or name) of the department that must act.
    pub department: String,
    /// The supervisor.
    pub issued_by: AccountId,
    /// Why.
    pub reason: String,
    /// The day by which the department must answer.
    pub respond_by: Date,
    /// The answer, once given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<SupervisionAnswer>,
}

impl SupervisionOrder {
    /// A new, unanswered order.
    ///
    /// # Errors
    /// [`SupervisionError::TextRequired`] if the id, department or reason is blank.
    pub fn new(
        id: impl Into<String>,
        case_number: CaseNumber,
        department: impl Into<String>,
        issued_by: AccountId,
        reason: impl Into<String>,
        respond_by: Date,
    ) -> Result<SupervisionOrder, SupervisionError> {
        let order = SupervisionOrder {
            id: id.into(),
            case_number,
            department: department.into(),
            issued_by,
            reason: reason.into(),
            respond_by,
            answer: None,
        };
        for (text, field) in [
            (&order.id, "id"),
            (&order.department, "department"),
            (&order.reason, "reason"),
        ] {
            if text.trim().is_empty() {
                return Err(SupervisionError::TextRequired { field });
            }
        }
        Ok(order)
    }

    /// Records the department's answer.
    ///
    /// # Errors
    /// [`SupervisionError::TextRequired`] for a blank answer,
    /// [`SupervisionError::AlreadyAnswered`] if the order has an answer.
    pub fn answer(
        &mut self,
        by: AccountId,
        text: impl Into<String>,
        on: Date,
    ) -> Result<(), SupervisionError> {
        if self.answer.is_some() {
            return Err(SupervisionError::AlreadyAnswered);
        }
        let text = text.into();
        if text.trim().is_empty() {
            return Err(SupervisionError::TextRequired { field: "answer" });
        }
        self.answer = Some(SupervisionAnswer {
            by,
            text,
            answered_on: on,
        });
        Ok(())
    }

    /// Whether the answer is late: not answered and `today` is after `respond_by`.
    pub fn is_overdue(&self, today: Date) -> bool {
        self.answer.is_none() && today > self.respond_by
    }

    /// The case event recording that the order was issued.
    pub fn ordered_event(&self) -> CaseEvent {
        CaseEvent::SupervisionOrdered {
            order: self.id.clone(),
            reason: self.reason.clone(),
        }
    }

    /// The case event recording the answer, once there is one.
    pub fn answered_event(&self) -> Option<CaseEvent> {
        self.answer
            .as_ref()
            .map(|a| CaseEvent::SupervisionAnswered {
                order: self.id.clone(),
                answer: a.text.clone(),
            })
    }
}

/// Why a supervision order cannot be created or answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SupervisionError {
    /// A required text is blank: `id`, `department`, `reason` or `answer`.
    #[error("the supervision order's {field} must not be empty")]
    TextRequired {
        /// Which text.
        field: &'static str,
    },
    /// The order was already answered.
    #[error("the supervision order was already answered")]
    AlreadyAnswered,
}

impl Localized for SupervisionError {
    fn code(&self) -> &'static str {
        match self {
            SupervisionError::TextRequired { .. } => "supervision_text_required",
            SupervisionError::AlreadyAnswered => "supervision_already_answered",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            SupervisionError::TextRequired { field } => {
                let what = match *field {
                    "id" => "督办单编号",
                    "department" => "承办部门",
                    "reason" => "督办事由",
                    "answer" => "回复内容",
                    _ => "必填内容",
                };
                format!("请填写{what}")
            }
            SupervisionError::AlreadyAnswered => "该督办单已经回复，不能重复回复".to_owned(),
        }
    }

    fn message_en(&self) -> String {
        match self {
            SupervisionError::TextRequired { field } => {
                format!("The supervision order's {field} must not be empty")
            }
            SupervisionError::AlreadyAnswered => {
                "The supervision order was already answered".to_owned()
            }
        }
    }
}
