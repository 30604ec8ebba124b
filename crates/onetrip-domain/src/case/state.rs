//! The states of a case.

use serde::{Deserialize, Serialize};

/// Where a case stands (办件状态).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// 待启动: a member of a bundle whose prerequisite members have not concluded yet.
    Waiting,
    /// 待受理: waiting for the intake decision.
    AwaitingIntake,
    /// 不予受理: refused at intake. Terminal.
    Refused,
    /// 补正中: waiting for the applicant's corrections; after acceptance the clock is stopped.
    InCorrection,
    /// 审查中: under review, the clock running.
    InReview,
    /// 特别程序中: hearing, testing, inspection, expert review or tender; the clock is stopped
    /// (Administrative Licensing Law art. 45).
    Suspended,
    /// 办结（准予）: approved; the result is still to be issued.
    Approved,
    /// 办结（不予）: denied. Terminal.
    Denied,
    /// 已出件: the result was issued. Terminal.
    ResultIssued,
    /// 已撤回: withdrawn by the applicant. Terminal.
    Withdrawn,
}

impl CaseState {
    /// Every state, in the order of the process.
    pub const ALL: [CaseState; 10] = [
        CaseState::Waiting,
        CaseState::AwaitingIntake,
        CaseState::Refused,
        CaseState::InCorrection,
        CaseState::InReview,
        CaseState::Suspended,
        CaseState::Approved,
        CaseState::Denied,
        CaseState::ResultIssued,
        CaseState::Withdrawn,
    ];

    /// The `snake_case` name used in JSON and query strings.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Waiting => "waiting",
            CaseState::AwaitingIntake => "awaiting_intake",
            CaseState::Refused => "refused",
            CaseState::InCorrection => "in_correction",
            CaseState::InReview => "in_review",
            CaseState::Suspended => "suspended",
            CaseState::Approved => "approved",
            CaseState::Denied => "denied",
            CaseState::ResultIssued => "result_issued",
            CaseState::Withdrawn => "withdrawn",
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            CaseState::Waiting => "待启动",
            CaseState::AwaitingIntake => "待受理",
            CaseState::Refused => "不予受理",
            CaseState::InCorrection => "补正中",
            CaseState::InReview => "审查中",
            CaseState::Suspended => "特别程序中",
            CaseState::Approved => "办结（准予）",
            CaseState::Denied => "办结（不予）",
            CaseState::ResultIssued => "已出件",
            CaseState::Withdrawn => "已撤回",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            CaseState::Waiting => "Waiting for related items",
            CaseState::AwaitingIntake => "Awaiting intake",
            CaseState::Refused => "Not accepted",
            CaseState::InCorrection => "Awaiting corrections",
            CaseState::InReview => "Under review",
            CaseState::Suspended => "In a special procedure",
            CaseState::Approved => "Concluded: approved",
            CaseState::Denied => "Concluded: denied",
            CaseState::ResultIssued => "Result issued",
            CaseState::Withdrawn => "Withdrawn",
        }
    }

    /// Whether no event can change the state any more: refused, denied, result issued or
    /// withdrawn.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            CaseState::Refused | CaseState::Denied | CaseState::ResultIssued | CaseState::Withdrawn
        )
    }

    /// Whether the case has been decided (办结): approved, denied or result issued.
    pub fn is_concluded(self) -> bool {
        matches!(
            self,
            CaseState::Approved | CaseState::Denied | CaseState::ResultIssued
        )
    }
}

impl std::fmt::Display for CaseState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
