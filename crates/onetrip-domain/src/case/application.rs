//! The status of an application (申请), derived from the states of its cases.

use serde::{Deserialize, Serialize};

use super::state::CaseState;

/// What the applicant sees for a whole application (one item or a bundle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    /// 已提交: no case accepted yet.
    Submitted,
    /// 办理中: at least one case accepted and some case still open.
    InProgress,
    /// 待补正: some case waits for the applicant's corrections.
    CorrectionNeeded,
    /// 已办结: every case decided or closed, at least one approved.
    Concluded,
    /// 未通过: every case closed without approval (refused or denied; some may be withdrawn).
    Refused,
    /// 已撤回: every case withdrawn.
    Withdrawn,
}

impl ApplicationStatus {
    /// The `snake_case` name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::Submitted => "submitted",
            ApplicationStatus::InProgress => "in_progress",
            ApplicationStatus::CorrectionNeeded => "correction_needed",
            ApplicationStatus::Concluded => "concluded",
            ApplicationStatus::Refused => "refused",
            ApplicationStatus::Withdrawn => "withdrawn",
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            ApplicationStatus::Submitted => "已提交",
            ApplicationStatus::InProgress => "办理中",
            ApplicationStatus::CorrectionNeeded => "待补正",
            ApplicationStatus::Concluded => "已办结",
            ApplicationStatus::Refused => "未通过",
            ApplicationStatus::Withdrawn => "已撤回",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            ApplicationStatus::Submitted => "Submitted",
            ApplicationStatus::InProgress => "In progress",
            ApplicationStatus::CorrectionNeeded => "Corrections needed",
            ApplicationStatus::Concluded => "Concluded",
            ApplicationStatus::Refused => "Not approved",
            ApplicationStatus::Withdrawn => "Withdrawn",
        }
    }
}

/// The status of an application from the states of its cases:
/// - any case in correction → `CorrectionNeeded`;
/// - some case still open (not decided, not closed): `Submitted` if no case got past intake,
///   else `InProgress`;
/// - otherwise (every case decided or closed): `Concluded` if any was approved (issued or
///   not), `Withdrawn` if every case was withdrawn, else `Refused`.
///
/// An empty slice (no case yet) is `Submitted`.
pub fn application_status(states: &[CaseState]) -> ApplicationStatus {
    use CaseState as S;
    if states.contains(&S::InCorrection) {
        return ApplicationStatus::CorrectionNeeded;
    }
    let settled = |s: &CaseState| s.is_terminal() || s.is_concluded();
    if states.is_empty() || !states.iter().all(settled) {
        let past_intake = states.iter().any(|s| {
            matches!(
                s,
                S::InReview | S::Suspended | S::Approved | S::Denied | S::ResultIssued
            )
        });
        return if past_intake {
            ApplicationStatus::InProgress
        } else {
            ApplicationStatus::Submitted
        };
    }
    if states
        .iter()
        .any(|s| matches!(s, S::Approved | S::ResultIssued))
    {
        ApplicationStatus::Concluded
    } else if states.iter().all(|s| *s == S::Withdrawn) {
        ApplicationStatus::Withdrawn
    } else {
        ApplicationStatus::Refused
    }
}
