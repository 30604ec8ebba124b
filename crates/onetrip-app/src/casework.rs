//! The department's case work (部门经办) as its pages need it: one case's file (the case, its
//! application, process, history, supervision orders, remaining working days and what the
//! actor may do next), a department's open cases counted by due date, and the supervision
//! orders of a division.
//!
//! Who may see and do what is decided by the same rules as the case and supervision use cases
//! ([`App::case_view`], [`App::act_on_case`], [`App::department_queue`]).

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use onetrip_domain::case::{
    self, ActionKind, CaseEvent, CaseStatus, CorrectionItem, Outcome, ProcessDefinition,
    SpecialProcedure,
};
use onetrip_domain::catalog::DeliveryMethod;
use onetrip_store::{ApplicationRow, DueCounts, SupervisionRow};
use serde::Serialize;

use crate::cases::{CaseActor, CaseCommand, CaseView, FileRef, status_of};
use crate::supervision::{MAX_QUEUE, division_prefix, works_for};
use crate::{App, Result, china_today};

/// One entry of a case's history, as staff read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    /// When.
    pub at: Timestamp,
    /// Who (an event log label: `staff:…`, `applicant:…`, `system`).
    pub actor: String,
    /// What happened, in Chinese.
    pub text_zh: String,
    /// What happened, in English.
    pub text_en: String,
}

/// A case as the department works on it.
#[derive(Debug, Clone)]
pub struct CaseFile {
    /// The case as the API shows it.
    pub view: CaseView,
    /// Its application (applicant, form values, materials as resolved). Personal data.
    pub application: ApplicationRow,
    /// The folded status.
    pub status: CaseStatus,
    /// The review process the case follows (its item version's).
    pub process: ProcessDefinition,
    /// Every event, oldest first.
    pub history: Vec<HistoryEntry>,
    /// Supervision orders on the case, oldest first.
    pub orders: Vec<SupervisionRow>,
    /// Working days from today to the deadline (negative once past it); `None` before the
    /// clock runs.
    pub remaining_working_days: Option<i64>,
    /// What the actor may do now: what the state allows, without review and decision for the
    /// account that accepted the case (收受分离), and only the actions the actor may perform.
    pub actions: Vec<ActionKind>,
    /// Whether the actor may issue supervision orders on the case.
    pub may_supervise: bool,
    /// Whether the actor may answer the case's supervision orders.
    pub may_answer: bool,
    /// Whether the item's result is an electronic certificate.
    pub issues_certificate: bool,
    /// The files of the case by material key: uploaded with the application, then those
    /// supplied in corrections, oldest first.
    pub uploads: Vec<(String, FileRef)>,
}

/// A placeholder command of each action kind, for asking whether an actor may perform it.
fn probe(kind: ActionKind) -> Option<CaseCommand> {
    Some(match kind {
        ActionKind::Accept => CaseCommand::Accept,
        ActionKind::Refuse => CaseCommand::Refuse {
            reason: String::new(),
        },
        ActionKind::RequestCorrection => CaseCommand::RequestCorrection {
            items: Vec::<CorrectionItem>::new(),
        },
        ActionKind::SupplyCorrection => CaseCommand::SupplyCorrection {
            note: None,
            uploads: Default::default(),
        },
        ActionKind::CompleteStep => CaseCommand::CompleteStep {
            stage: 0,
            step: 0,
            opinion: String::new(),
        },
        ActionKind::Suspend => CaseCommand::Suspend {
            procedure: SpecialProcedure::Hearing,
            reason: String::new(),
        },
        ActionKind::Resume => CaseCommand::Resume,
        ActionKind::Decide => CaseCommand::Decide {
            outcome: Outcome::Approved,
        },
        ActionKind::IssueResult => CaseCommand::IssueResult {
            delivery: DeliveryMethod::Electronic,
        },
        ActionKind::Withdraw => CaseCommand::Withdraw {
            reason: String::new(),
        },
        _ => return None,
    })
}

impl App {
    /// One case's file for a member of staff (or the department's system, or the platform):
    /// refused like [`App::case_view`] for whoever may not see the case.
    pub async fn case_file(
        &self,
        actor: &CaseActor,
        number: &str,
        now: Timestamp,
    ) -> Result<CaseFile> {
        let row = self.case_row(number).await?;
        let application = self.application_of(&row).await?;
        self.may_see(actor, &row, &application).await?;
        let view = self.view(&row, &application, now).await?;
        let status = status_of(&row)?;
        let today = china_today(now);
        let process = match self.item_version(&row.item_code, row.item_version).await {
            Ok(stored) => ProcessDefinition::from_item(&stored.item()?),
            Err(_) => ProcessDefinition::from_item(&self.service_item(&row.item_code).await?.0),
        };
        let issues_certificate = self
            .service_item(&row.item_code)
            .await
            .is_ok_and(|(i, _)| i.result.certificate_type.is_some());
        let mut uploads: Vec<(String, FileRef)> = application
            .document
            .get("uploads")
            .cloned()
            .and_then(|u| serde_json::from_value::<BTreeMap<String, FileRef>>(u).ok())
            .unwrap_or_default()
            .into_iter()
            .collect();
        let history = self
            .db
            .case_events(number)
            .await?
            .into_iter()
            .filter_map(|e| {
                let event = serde_json::from_str::<CaseEvent>(&e.event).ok()?;
                if let CaseEvent::CorrectionSupplied { uploads: files, .. } = &event {
                    uploads.extend(files.iter().map(|(k, f)| (k.clone(), f.clone())));
                }
                let (zh, en) = case::describe(&event);
                Some(HistoryEntry {
                    at: e.at,
                    actor: e.actor,
                    text_zh: zh,
                    text_en: en,
                })
            })
            .collect();
        let mut orders = Vec::new();
        for r in status.supervision() {
            if let Some(order) = self.db.supervision_order(&r.order).await? {
                orders.push(order);
            }
        }
        let remaining_working_days = match view.deadline {
            Some(deadline) if !status.state().is_concluded() && !status.state().is_terminal() => {
                self.calendar()
                    .working_days_between(today, deadline)
                    .ok()
                    .map(|c| c.days)
            }
            _ => None,
        };
        let account = match actor {
            CaseActor::Staff { id, .. } => Some(id.clone()),
            _ => None,
        };
        let allowed = match &account {
            Some(id) => status.allowed_for(id),
            None => status.allowed(),
        };
        let actions = allowed
            .into_iter()
            .filter(|&kind| {
                probe(kind).is_some_and(|command| {
                    self.may_act(actor, &row, &application, &command).is_ok()
                })
            })
            .collect();
        let division = onetrip_domain::identifiers::DivisionCode::parse(&row.division_code)
            .map_err(|e| crate::AppError::refused(&e))?;
        let may_supervise = self.may_supervise(actor, &row.division_code).is_ok();
        let may_answer = works_for(actor, &division, &row.department_code, false);
        Ok(CaseFile {
            view,
            application,
            status,
            process,
            history,
            orders,
            remaining_working_days,
            actions,
            may_supervise,
            may_answer,
            issues_certificate,
            uploads,
        })
    }

    /// A department's open cases (within a division prefix) counted by due date: overdue, due
    /// on `today`, due later this week (up to `week_end`). For whoever may see its queue.
    pub async fn department_due_counts(
        &self,
        actor: &CaseActor,
        department: &str,
        division: Option<&str>,
        today: Date,
        week_end: Date,
    ) -> Result<DueCounts> {
        let home = self.department_division(department).await?;
        if !works_for(actor, &home, department, true) {
            return Err(crate::supervision::not_permitted());
        }
        Ok(self
            .db
            .department_due_counts(department, division, today, week_end)
            .await?)
    }

    /// The supervision orders within a division subtree, newest first (its supervisors and the
    /// platform).
    pub async fn supervision_orders_in_division(
        &self,
        actor: &CaseActor,
        division: &str,
    ) -> Result<Vec<SupervisionRow>> {
        self.may_supervise(actor, division)?;
        Ok(self
            .db
            .supervision_orders_in(&division_prefix(division), MAX_QUEUE)
            .await?)
    }
}
