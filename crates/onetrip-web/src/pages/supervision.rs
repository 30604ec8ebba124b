//! The supervisor pages (督办): overdue and at-risk cases of a division by department and
//! division, the on-time rate of each department, the supervision orders with their answers,
//! and issuing an order on a case (from the case page). Departments answer orders from the
//! case page ([`super::work`]).
//!
//! The figures and lists come from the same use cases as `/api/v1/supervision/at-risk`,
//! `/api/v1/statistics/departments` and the supervision orders of the API.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;
use jiff::civil::Date;
use onetrip_domain::identity::StaffRole;
use serde::Deserialize;
use tower_sessions::Session;

use super::work::{case_with_problem, done_redirect, staff_form};
use super::{Page, china_time, first, ok};
use crate::Shared;
use crate::api::accounts::CurrentActor;
use crate::api::cases::case_actor;
use crate::extract::{Path, Query};
use crate::policy::Actor;
use crate::problem::ApiError;

/// The addresses of the supervisor pages.
pub const PATHS: &[&str] = &["/supervision", "/supervision/cases/{number}/orders"];

/// The supervisor pages' routes.
pub fn router() -> axum::Router<Shared> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/supervision", get(overview))
        .route("/supervision/cases/{number}/orders", post(issue_order))
}

fn not_a_supervisor() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "not_a_supervisor",
        "您的账号不是督办人员",
        "Your account is not a supervisor's",
    )
}

/// A department's line of the on-time table.
pub struct DepartmentLine {
    /// Name.
    pub name: String,
    /// Open cases.
    pub open: i64,
    /// Open at yellow.
    pub yellow: i64,
    /// Open at red.
    pub red: i64,
    /// Concluded.
    pub concluded: i64,
    /// On-time rate, in words (`—` without concluded cases).
    pub on_time: String,
    /// Average handling days, in words.
    pub average: String,
}

/// A case at risk.
pub struct RiskLine {
    /// Case number.
    pub number: String,
    /// Department name.
    pub department: String,
    /// Division code.
    pub division: String,
    /// Due date.
    pub due_on: String,
    /// Warning class.
    pub warning: &'static str,
    /// Warning in words.
    pub warning_text: String,
}

/// An order in the list.
pub struct OrderLine {
    /// Case number.
    pub case: String,
    /// Department name.
    pub department: String,
    /// Why.
    pub reason: String,
    /// Answer due.
    pub respond_by: String,
    /// Issued.
    pub issued_at: String,
    /// The answer, if any.
    pub answer: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/supervision/overview.html")]
struct OverviewPage {
    page: Page,
    divisions: Vec<super::work::Choice>,
    division: String,
    departments: Vec<DepartmentLine>,
    at_risk: Vec<RiskLine>,
    red: usize,
    yellow: usize,
    orders: Vec<OrderLine>,
}

/// Query of the overview.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OverviewQuery {
    /// Division code (subtree), one the supervisor's grants cover.
    pub division: Option<String>,
}

/// `GET /supervision`: the division's at-risk cases, on-time table and orders.
pub async fn overview(
    State(state): State<Shared>,
    page: Page,
    CurrentActor(actor): CurrentActor,
    Query(q): Query<OverviewQuery>,
) -> Result<Response, ApiError> {
    let Actor::Staff(staff) = &actor else {
        return Err(not_a_supervisor());
    };
    let mine: Vec<String> = staff
        .roles
        .iter()
        .filter(|g| g.role == StaffRole::Supervisor)
        .map(|g| g.division.as_str().to_string())
        .collect();
    let division = match q
        .division
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty())
    {
        Some(d) => d,
        None => mine.first().cloned().ok_or_else(not_a_supervisor)?,
    };
    let who = case_actor(&state, &actor).await?;
    let statistics = state.app.department_statistics(&who, &division).await?;
    let risky = state.app.cases_at_risk(&who, &division, 200).await?;
    let orders = state
        .app
        .supervision_orders_in_division(&who, &division)
        .await?;
    let mut names: BTreeMap<String, String> = statistics
        .iter()
        .map(|s| (s.department.clone(), s.name.clone()))
        .collect();
    for code in risky
        .iter()
        .map(|r| &r.department_code)
        .chain(orders.iter().map(|o| &o.department_code))
    {
        if !names.contains_key(code) {
            let name = match state.app.db.department(code).await {
                Ok(Some(d)) => d.name,
                _ => code.clone(),
            };
            names.insert(code.clone(), name);
        }
    }
    let departments = statistics
        .iter()
        .map(|s| DepartmentLine {
            name: s.name.clone(),
            open: s.open,
            yellow: s.yellow,
            red: s.red,
            concluded: s.concluded,
            on_time: s
                .on_time_rate
                .map_or_else(|| "—".to_string(), |r| format!("{:.1}%", r * 100.0)),
            average: s
                .average_handling_days
                .map_or_else(|| "—".to_string(), |d| format!("{d:.1}")),
        })
        .collect();
    let mut at_risk: Vec<RiskLine> = risky
        .iter()
        .map(|r| {
            let (warning, warning_text) = super::work::warning_label(&page, &r.warning);
            RiskLine {
                number: r.number.clone(),
                department: names.get(&r.department_code).cloned().unwrap_or_default(),
                division: r.division_code.clone(),
                due_on: r.due_on.to_string(),
                warning,
                warning_text,
            }
        })
        .collect();
    // By department, then division, soonest due first within each.
    at_risk.sort_by(|a, b| {
        (&a.department, &a.division, &a.due_on).cmp(&(&b.department, &b.division, &b.due_on))
    });
    let red = at_risk.iter().filter(|r| r.warning == "red").count();
    let yellow = at_risk.len() - red;
    let orders = orders
        .iter()
        .map(|o| OrderLine {
            case: o.case_number.clone(),
            department: names.get(&o.department_code).cloned().unwrap_or_default(),
            reason: o.reason.clone(),
            respond_by: o.respond_by.to_string(),
            issued_at: china_time(o.issued_at),
            answer: o.answer.clone(),
        })
        .collect();
    let mut listed = mine;
    if !listed.contains(&division) {
        listed.push(division.clone());
    }
    let divisions = listed
        .into_iter()
        .map(|d| super::work::Choice {
            label: d.clone(),
            selected: d == division,
            value: d,
        })
        .collect();
    Ok(ok(&OverviewPage {
        page,
        divisions,
        division,
        departments,
        at_risk,
        red,
        yellow,
        orders,
    }))
}

/// `POST /supervision/cases/{number}/orders`: issues a supervision order on a case (reason and
/// answer date), then back to the case with its confirmation.
pub async fn issue_order(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    CurrentActor(actor): CurrentActor,
    Path(number): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let (pairs, who) = staff_form(&state, &session, &actor, &body).await?;
    let reason = first(&pairs, "reason")
        .unwrap_or_default()
        .trim()
        .to_string();
    let Ok(respond_by) = first(&pairs, "respond_by")
        .unwrap_or_default()
        .trim()
        .parse::<Date>()
    else {
        let message = page.t("supervision-respond-by-invalid");
        return case_with_problem(
            &state,
            &who,
            page,
            &number,
            &pairs,
            "order_respond_by".to_string(),
            message,
        )
        .await;
    };
    match state
        .app
        .issue_supervision_order(&who, &number, &reason, respond_by, None, Timestamp::now())
        .await
    {
        Ok(_) => Ok(done_redirect(&number, "order_supervision")),
        Err(e) => {
            let e = ApiError::from(e);
            if e.status != StatusCode::UNPROCESSABLE_ENTITY {
                return Err(e);
            }
            let message = if page.en { e.message_en } else { e.message_zh };
            case_with_problem(
                &state,
                &who,
                page,
                &number,
                &pairs,
                "order_reason".to_string(),
                message,
            )
            .await
        }
    }
}
