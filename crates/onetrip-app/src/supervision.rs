//! Clocks and supervision (预警 + 督办): department queues sorted by deadline, the deadline
//! scanner that raises yellow and red warnings under a lease, deadline recomputation after a
//! calendar import, supervision orders and their answers, and department statistics.

use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use onetrip_domain::case::CaseEvent;
use onetrip_domain::identifiers::DivisionCode;
use onetrip_domain::identity::StaffRole;
use onetrip_store::{
    CaseCommit, CaseRow, DepartmentFigures, OutboxRow, QueueFilter, SupervisionRow,
};
use serde::Serialize;
use serde_json::json;

use crate::cases::{CaseActor, fill_columns, status_of};
use crate::idempotency::{Keyed, key_in_use};
use crate::{App, AppError, Result, china_today};

/// Name of the scanner's lease.
pub const SCANNER_LEASE: &str = "deadline-scanner";

/// Most cases a queue page returns.
pub const MAX_QUEUE: i64 = 200;

/// What one scan did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ScanReport {
    /// Whether this replica held the lease (when not, nothing was scanned).
    pub leased: bool,
    /// Open cases looked at.
    pub scanned: u64,
    /// Cases that turned yellow.
    pub yellow: u64,
    /// Cases that turned red.
    pub red: u64,
    /// Cases whose due date or colour changed without a new warning (a calendar change, a
    /// pause).
    pub updated: u64,
}

/// Per-department statistics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DepartmentStatistics {
    /// Department credit code.
    pub department: String,
    /// Department name.
    pub name: String,
    /// Open cases.
    pub open: i64,
    /// Open at yellow.
    pub yellow: i64,
    /// Open at red.
    pub red: i64,
    /// Concluded.
    pub concluded: i64,
    /// On-time rate of concluded cases (0–1), `None` without concluded cases.
    pub on_time_rate: Option<f64>,
    /// Average handling time of concluded cases in working days.
    pub average_handling_days: Option<f64>,
}

pub(crate) fn not_permitted() -> AppError {
    AppError::Refused {
        code: "case_not_permitted",
        zh: "您无权查看或处理该部门的办件".into(),
        en: "You may not see or handle this department's cases.".into(),
    }
}

impl App {
    /// A department's open cases, sorted by due date (the deadline once accepted): for its
    /// officers and heads, its system, supervisors of the division, and the platform.
    pub async fn department_queue(
        &self,
        actor: &CaseActor,
        department: &str,
        filter: &QueueFilter,
        limit: i64,
    ) -> Result<Vec<CaseRow>> {
        let division = self.department_division(department).await?;
        if !works_for(actor, &division, department, true) {
            return Err(not_permitted());
        }
        Ok(self
            .db
            .department_queue(department, filter, limit.clamp(1, MAX_QUEUE))
            .await?)
    }

    /// The division of a department.
    pub(crate) async fn department_division(&self, department: &str) -> Result<DivisionCode> {
        let dept = self
            .db
            .department(department)
            .await?
            .ok_or_else(|| AppError::NotFound {
                kind: "department",
                key: department.to_string(),
            })?;
        DivisionCode::parse(&dept.division_code).map_err(|e| AppError::refused(&e))
    }

    /// One pass of the deadline scanner, if this replica (`owner`) holds the scanner's lease:
    /// recomputes every open case's deadline and warning; a case that turns yellow or red gets
    /// a `WarningRaised` event (and an outbox row for the department), other changes only
    /// update the due date and colour. Several replicas may run it: the lease lets one at a
    /// time scan, so no warning is raised twice.
    pub async fn scan_deadlines(&self, owner: &str, now: Timestamp) -> Result<ScanReport> {
        let until = now
            .checked_add(jiff::SignedDuration::from_secs(300))
            .map_err(|e| AppError::Internal(e.to_string()))?;
        if !self
            .db
            .acquire_lease(SCANNER_LEASE, owner, now, until)
            .await?
        {
            return Ok(ScanReport::default());
        }
        let result = self.scan_all(now).await;
        self.db.release_lease(SCANNER_LEASE, owner).await?;
        result
    }

    async fn scan_all(&self, now: Timestamp) -> Result<ScanReport> {
        let mut report = ScanReport {
            leased: true,
            ..ScanReport::default()
        };
        let today = china_today(now);
        let mut after = String::new();
        loop {
            let page = self.db.open_cases_page(&after, 500).await?;
            let Some(last) = page.last() else { break };
            after = last.number.clone();
            for row in page {
                report.scanned += 1;
                match self.rescan_case(&row, today, now).await {
                    Ok(Some("yellow")) => report.yellow += 1,
                    Ok(Some("red")) => report.red += 1,
                    Ok(Some(_)) => report.updated += 1,
                    Ok(None) => {}
                    // Someone changed the case meanwhile: their change recomputed it.
                    Err(AppError::Store(onetrip_store::StoreError::Conflict(_))) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(report)
    }

    /// Recomputes one case; returns the new warning when it escalated, `Some("updated")` when
    /// only the columns changed, `None` when nothing changed.
    async fn rescan_case(
        &self,
        row: &CaseRow,
        today: Date,
        now: Timestamp,
    ) -> Result<Option<&'static str>> {
        let status = status_of(row)?;
        let calendar = self.calendar();
        let mut probe = row.clone();
        fill_columns(&mut probe, &status, &calendar, today)?;
        // A warning is raised when the colour escalates past the last one raised; a colour that
        // falls back (a calendar amendment, a pause) only updates the columns.
        let raise = status
            .warning_to_raise(&calendar, today)?
            .filter(|w| *w > status.warning().unwrap_or_default());
        if let Some(level) = raise {
            let change = self.change(
                row,
                &status,
                &[CaseEvent::WarningRaised { level }],
                "system",
                today,
                now,
            )?;
            let escalated = level.as_str();
            let outbox = OutboxRow {
                id: uuid::Uuid::now_v7().to_string(),
                topic: format!("case.warning.{escalated}"),
                subject: row.number.clone(),
                department_code: Some(row.department_code.clone()),
                payload: json!({
                    "case": row.number,
                    "department": row.department_code,
                    "warning": escalated,
                    "due_on": change.case.due_on.to_string(),
                }),
                created_at: now,
                attempts: 0,
            };
            self.db
                .commit_case_changes(CaseCommit::of(now, change, vec![outbox]))
                .await?;
            return Ok(Some(escalated));
        }
        if probe.due_on != row.due_on || probe.warning != row.warning {
            let change = self.change(row, &status, &[], "system", today, now)?;
            self.db
                .commit_case_changes(CaseCommit::of(now, change, Vec::new()))
                .await?;
            return Ok(Some("updated"));
        }
        Ok(None)
    }

    /// Runs the deadline scanner every `interval` in the background under `owner`'s name.
    pub fn spawn_deadline_scanner(
        &self,
        owner: String,
        interval: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            loop {
                tick.tick().await;
                match app.scan_deadlines(&owner, Timestamp::now()).await {
                    Ok(r) if r.yellow + r.red > 0 => {
                        tracing::info!(
                            yellow = r.yellow,
                            red = r.red,
                            scanned = r.scanned,
                            "deadline scan"
                        )
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "deadline scan failed"),
                }
            }
        })
    }

    /// Issues a supervision order (督办) on a case: a supervisor whose grant covers the case's
    /// division. The order is recorded on the case's event log and announced to the department.
    /// With an `Idempotency-Key`, a repeated request issues nothing and answers with the order
    /// the first one issued, as it stands now.
    pub async fn issue_supervision_order(
        &self,
        actor: &CaseActor,
        number: &str,
        reason: &str,
        respond_by: Date,
        idempotency_key: Option<&str>,
        now: Timestamp,
    ) -> Result<SupervisionRow> {
        let keyed = Keyed::new(
            actor.label(),
            idempotency_key,
            &(number, reason, respond_by),
        );
        if let Some(id) = self.replayed::<String>(keyed.as_ref()).await? {
            return self
                .db
                .supervision_order(&id)
                .await?
                .ok_or_else(|| AppError::Internal(format!("remembered supervision order {id}")));
        }
        let today = china_today(now);
        let row = self
            .db
            .case(number)
            .await?
            .ok_or_else(|| AppError::NotFound {
                kind: "case",
                key: number.to_string(),
            })?;
        let division =
            DivisionCode::parse(&row.division_code).map_err(|e| AppError::refused(&e))?;
        if !supervises(actor, &division) {
            return Err(not_permitted());
        }
        let reason = reason.trim();
        if reason.is_empty() || respond_by < today {
            return Err(AppError::Refused {
                code: "supervision_invalid",
                zh: "请写明督办事由，答复期限不能早于今天".into(),
                en: "State the reason; the answer date cannot be in the past.".into(),
            });
        }
        let order = SupervisionRow {
            id: uuid::Uuid::now_v7().to_string(),
            case_number: row.number.clone(),
            department_code: row.department_code.clone(),
            division_code: row.division_code.clone(),
            issued_by: actor.label(),
            reason: reason.to_string(),
            respond_by,
            issued_at: now,
            answer: None,
            answered_by: None,
            answered_at: None,
        };
        let status = status_of(&row)?;
        let event = CaseEvent::SupervisionOrdered {
            order: order.id.clone(),
            reason: order.reason.clone(),
        };
        let change = self.change(&row, &status, &[event], &actor.label(), today, now)?;
        let outbox = OutboxRow {
            id: uuid::Uuid::now_v7().to_string(),
            topic: "supervision.ordered".into(),
            subject: row.number.clone(),
            department_code: Some(row.department_code.clone()),
            payload: json!({
                "order": order.id,
                "case": row.number,
                "department": row.department_code,
                "reason": order.reason,
                "respond_by": respond_by.to_string(),
            }),
            created_at: now,
            attempts: 0,
        };
        self.db
            .commit_case_changes(CaseCommit {
                supervision: Some(order.clone()),
                idempotency: keyed.map(|k| k.record(&order.id)),
                ..CaseCommit::of(now, change, vec![outbox])
            })
            .await
            .map_err(key_in_use)?;
        Ok(order)
    }

    /// Answers a supervision order: an officer or head of the department (or its system).
    pub async fn answer_supervision_order(
        &self,
        actor: &CaseActor,
        id: &str,
        answer: &str,
        now: Timestamp,
    ) -> Result<SupervisionRow> {
        let today = china_today(now);
        let mut order = self
            .db
            .supervision_order(id)
            .await?
            .ok_or_else(|| AppError::NotFound {
                kind: "supervision order",
                key: id.to_string(),
            })?;
        let division =
            DivisionCode::parse(&order.division_code).map_err(|e| AppError::refused(&e))?;
        if !works_for(actor, &division, &order.department_code, false) {
            return Err(not_permitted());
        }
        let answer = answer.trim();
        if answer.is_empty() || order.answer.is_some() {
            return Err(AppError::Refused {
                code: "supervision_answer_invalid",
                zh: "督办已答复，或答复内容为空".into(),
                en: "The order was already answered, or the answer is empty.".into(),
            });
        }
        order.answer = Some(answer.to_string());
        order.answered_by = Some(actor.label());
        order.answered_at = Some(now);
        let row = self
            .db
            .case(&order.case_number)
            .await?
            .ok_or_else(|| AppError::NotFound {
                kind: "case",
                key: order.case_number.clone(),
            })?;
        let status = status_of(&row)?;
        let event = CaseEvent::SupervisionAnswered {
            order: order.id.clone(),
            answer: answer.to_string(),
        };
        let change = self.change(&row, &status, &[event], &actor.label(), today, now)?;
        self.db
            .commit_case_changes(CaseCommit {
                supervision: Some(order.clone()),
                ..CaseCommit::of(now, change, Vec::new())
            })
            .await?;
        Ok(order)
    }

    /// A department's supervision orders (its officers, heads and system; supervisors).
    pub async fn supervision_orders_of(
        &self,
        actor: &CaseActor,
        department: &str,
    ) -> Result<Vec<SupervisionRow>> {
        // Seeing the queue and seeing the orders need the same standing.
        let division = self.department_division(department).await?;
        if !works_for(actor, &division, department, true) {
            return Err(not_permitted());
        }
        Ok(self
            .db
            .supervision_orders_of_department(department, 200)
            .await?)
    }

    /// Per-department statistics within a division subtree: open cases by colour, on-time rate
    /// and average handling time. For supervisors of the division and the platform.
    pub async fn department_statistics(
        &self,
        actor: &CaseActor,
        division: &str,
    ) -> Result<Vec<DepartmentStatistics>> {
        self.may_supervise(actor, division)?;
        let figures = self
            .db
            .department_figures(&division_prefix(division))
            .await?;
        let names: std::collections::BTreeMap<String, String> = self
            .db
            .departments(None)
            .await?
            .into_iter()
            .map(|d| (d.code, d.name))
            .collect();
        Ok(figures
            .into_iter()
            .map(|f| {
                let name = names.get(&f.department_code).cloned().unwrap_or_default();
                statistics(f, name)
            })
            .collect())
    }

    /// Open cases at yellow or red within a division subtree, by due date: for supervisors.
    pub async fn cases_at_risk(
        &self,
        actor: &CaseActor,
        division: &str,
        limit: i64,
    ) -> Result<Vec<CaseRow>> {
        self.may_supervise(actor, division)?;
        Ok(self
            .db
            .cases_at_warning(
                &division_prefix(division),
                &["yellow", "red"],
                limit.clamp(1, MAX_QUEUE),
            )
            .await?)
    }

    /// Recomputes the due date and colour of every open case (after a calendar import), without
    /// new events.
    pub async fn recompute_deadlines(&self, now: Timestamp) -> Result<u64> {
        let today = china_today(now);
        let mut after = String::new();
        let mut changed = 0;
        loop {
            let page = self.db.open_cases_page(&after, 500).await?;
            let Some(last) = page.last() else { break };
            after = last.number.clone();
            for row in page {
                let status = status_of(&row)?;
                let mut probe = row.clone();
                fill_columns(&mut probe, &status, &self.calendar(), today)?;
                if probe.due_on != row.due_on {
                    let change = self.change(&row, &status, &[], "system", today, now)?;
                    self.db
                        .commit_case_changes(CaseCommit::of(now, change, Vec::new()))
                        .await?;
                    changed += 1;
                }
            }
        }
        Ok(changed)
    }
}

impl App {
    /// Refuses unless `actor` supervises the division subtree `division`.
    pub(crate) fn may_supervise(&self, actor: &CaseActor, division: &str) -> Result<()> {
        let code = DivisionCode::parse(division).map_err(|e| AppError::refused(&e))?;
        if supervises(actor, &code) {
            Ok(())
        } else {
            Err(not_permitted())
        }
    }
}

/// Whether `actor` supervises cases of `division`: a supervisor whose grant covers it, or the
/// platform.
fn supervises(actor: &CaseActor, division: &DivisionCode) -> bool {
    match actor {
        CaseActor::System => true,
        _ => actor.holds(&[StaffRole::Supervisor], division, None),
    }
}

/// Whether `actor` works for `department` (of `division`): its officers and heads, its system,
/// the platform, and — with `supervisors` — the supervisors of the division.
pub(crate) fn works_for(
    actor: &CaseActor,
    division: &DivisionCode,
    department: &str,
    supervisors: bool,
) -> bool {
    match actor {
        CaseActor::System => true,
        CaseActor::DepartmentSystem { department: d, .. } => d == department,
        CaseActor::Staff { .. } => {
            actor.holds(
                &[StaffRole::DepartmentOfficer, StaffRole::DepartmentHead],
                division,
                Some(department),
            ) || (supervisors && supervises(actor, division))
        }
        CaseActor::Applicant { .. } => false,
    }
}

/// The code prefix of a division subtree: `330106` → `330106`, `330100` → `3301`, `330000` → `33`.
pub fn division_prefix(division: &str) -> String {
    let mut prefix = division.to_string();
    while prefix.len() > 2 && prefix.ends_with("00") {
        prefix.truncate(prefix.len() - 2);
    }
    prefix
}

#[allow(clippy::cast_precision_loss)]
fn statistics(f: DepartmentFigures, name: String) -> DepartmentStatistics {
    let rate = (f.concluded > 0).then(|| f.on_time as f64 / f.concluded as f64);
    let average = (f.concluded > 0).then(|| f.handling_days as f64 / f.concluded as f64);
    DepartmentStatistics {
        department: f.department_code,
        name,
        open: f.open,
        yellow: f.yellow,
        red: f.red,
        concluded: f.concluded,
        on_time_rate: rate,
        average_handling_days: average,
    }
}
