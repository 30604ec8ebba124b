//! Print views: the acceptance receipt (受理回执) of an application and the one-time notice
//! (一次性告知书) of an item or of a case asked for a correction, as print-ready HTML (A4, the
//! site's navigation left out when printed). The window clerk prints them at the counter; the
//! applicant opens their own copy under `/me/`.
//!
//! Who may see what is decided by the case use cases: the applicant sees their own
//! applications, the clerks of the window that took an application in and the staff of the
//! departments see theirs.

use askama::Template;
use axum::Router;
use axum::extract::State;
use jiff::Timestamp;
use onetrip_app::AppError;
use onetrip_app::cases::{CaseActor, CaseView};
use onetrip_domain::case::CaseEvent;
use onetrip_domain::catalog::{Guide, MaterialForm};
use onetrip_store::ApplicationRow;
use serde::Deserialize;
use serde_json::Value;

use super::portal::application_name;
use super::{Page, china_time, ok};
use crate::Shared;
use crate::api::accounts::CurrentActor;
use crate::api::cases::case_actor;
use crate::api::identifiers::today_in_china;
use crate::extract::{Path, Query};
use crate::problem::ApiError;

/// The addresses of the print views.
pub const PATHS: &[&str] = &[
    "/counter/applications/{id}/receipt",
    "/counter/items/{code}/notice",
    "/counter/cases/{number}/notice",
    "/me/applications/{id}/receipt",
    "/me/cases/{number}/notice",
];

/// The print views' routes.
pub fn router() -> Router<Shared> {
    use axum::routing::get;
    Router::new()
        .route("/counter/applications/{id}/receipt", get(receipt))
        .route("/counter/items/{code}/notice", get(item_notice))
        .route("/counter/cases/{number}/notice", get(case_notice))
        .route("/me/applications/{id}/receipt", get(receipt))
        .route("/me/cases/{number}/notice", get(case_notice))
}

/// One case on the receipt.
pub struct ReceiptCase {
    /// Case number.
    pub number: String,
    /// Item name.
    pub item: String,
    /// Responsible department.
    pub department: String,
    /// State in the page's language.
    pub state: String,
    /// Promised limit in working days.
    pub promised_days: u16,
    /// The date it is due, once accepted.
    pub deadline: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/print/receipt.html")]
struct ReceiptPage {
    page: Page,
    id: String,
    name: String,
    applicant: String,
    subject: String,
    submitted: String,
    window: Option<String>,
    clerk: Option<String>,
    cases: Vec<ReceiptCase>,
    fetched: Vec<String>,
    received: Vec<String>,
    /// The staff copy (printed at the window) rather than the applicant's own.
    counter: bool,
}

/// The applicant's identifier as printed: a resident ID masked (first 6, last 4).
fn printed_subject(row: &ApplicationRow) -> String {
    if row.subject_kind == "person" {
        onetrip_domain::identifiers::ResidentId::parse(&row.subject_id, today_in_china())
            .map(|id| id.masked())
            .unwrap_or_default()
    } else {
        row.subject_id.clone()
    }
}

/// The names of materials in a stored document, once each, in order.
fn names<'a>(list: impl Iterator<Item = &'a Value>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in list.filter_map(Value::as_str).map(str::trim) {
        if !name.is_empty() && !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    }
    out
}

/// The materials the platform fetched for the application (by its stored resolution).
fn fetched_materials(document: &Value) -> Vec<String> {
    let items = document
        .pointer("/resolution/items")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    names(
        items
            .iter()
            .filter_map(|i| i.get("materials").and_then(Value::as_array))
            .flatten()
            .filter(|m| m.get("status").and_then(Value::as_str) == Some("resolved"))
            .filter_map(|m| m.get("name")),
    )
}

/// The materials handed in (received at the window, or uploaded).
fn received_materials(document: &Value) -> Vec<String> {
    match document.get("uploads").and_then(Value::as_object) {
        Some(map) => names(map.values().filter_map(|f| f.get("name"))),
        None => Vec::new(),
    }
}

async fn department_name(state: &Shared, code: &str, en: bool) -> String {
    match state.app.db.department(code).await {
        Ok(Some(d)) => match (en, d.name_en) {
            (true, Some(n)) => n,
            _ => d.name,
        },
        _ => code.to_string(),
    }
}

async fn division_name(state: &Shared, code: &str, en: bool) -> String {
    match state.app.db.division(code).await {
        Ok(Some(d)) => match (en, d.name_en) {
            (true, Some(n)) => format!("{n} ({code})"),
            _ => format!("{}（{code}）", d.name),
        },
        _ => code.to_string(),
    }
}

/// The clerk who took the application in, by name.
async fn clerk_name(state: &Shared, document: &Value) -> Option<String> {
    let label = document.pointer("/intake/clerk").and_then(Value::as_str)?;
    let id = label.strip_prefix("staff:")?;
    match state.app.db.staff_by_id(id).await {
        Ok(Some(row)) => Some(row.name),
        _ => None,
    }
}

/// The promised limit of a case's item in its situation.
async fn promised_days(state: &Shared, view: &CaseView) -> u16 {
    match state.app.service_item(&view.item).await {
        Ok((item, _)) => item
            .effective_situations()
            .iter()
            .find(|s| s.code == view.situation)
            .and_then(|s| s.promised_limit)
            .unwrap_or(item.promised_limit),
        Err(_) => 0,
    }
}

/// `GET /counter/applications/{id}/receipt` and `GET /me/applications/{id}/receipt`: the
/// acceptance receipt: the case numbers, items, departments, promised limits with the dates
/// they fall on, the materials fetched and received, who took it in where, and how to follow
/// its progress.
pub async fn receipt(
    State(state): State<Shared>,
    page: Page,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    let who = case_actor(&state, &actor).await?;
    let (row, views) = state
        .app
        .application_cases(&who, &id, Timestamp::now())
        .await?;
    if row.state == "draft" {
        return Err(AppError::NotFound {
            kind: "application",
            key: id,
        }
        .into());
    }
    let mut cases = Vec::with_capacity(views.len());
    for view in &views {
        cases.push(ReceiptCase {
            number: view.number.clone(),
            item: view.item_name.clone(),
            department: department_name(&state, &view.department, page.en).await,
            state: if page.en {
                view.state_en.clone()
            } else {
                view.state_zh.clone()
            },
            promised_days: promised_days(&state, view).await,
            deadline: view.deadline.map(|d| d.to_string()),
        });
    }
    let window = if row.channel == "window" {
        Some(division_name(&state, &row.division_code, page.en).await)
    } else {
        None
    };
    Ok(ok(&ReceiptPage {
        name: application_name(&state, &row, page.en).await,
        applicant: row.subject_name.clone(),
        subject: printed_subject(&row),
        submitted: row.submitted_at.map(china_time).unwrap_or_default(),
        clerk: clerk_name(&state, &row.document).await,
        window,
        fetched: fetched_materials(&row.document),
        received: received_materials(&row.document),
        cases,
        counter: matches!(who, CaseActor::Staff { .. }),
        id,
        page,
    }))
}

/// One material on a one-time notice.
pub struct NoticeMaterial {
    /// Name.
    pub name: String,
    /// Required.
    pub required: bool,
    /// Key of its form (original, copy, electronic).
    pub form_key: &'static str,
    /// Copies.
    pub count: u8,
    /// Remarks.
    pub notes: Option<String>,
    /// The platform fetches it.
    pub auto: bool,
}

#[derive(Template)]
#[template(path = "pages/print/item_notice.html")]
struct ItemNoticePage {
    page: Page,
    guide: Guide,
    bring: Vec<NoticeMaterial>,
    fetched: Vec<NoticeMaterial>,
    today: String,
}

fn form_key(form: MaterialForm) -> &'static str {
    match form {
        MaterialForm::Original => "notice-form-original",
        MaterialForm::Copy => "notice-form-copy",
        MaterialForm::Electronic => "notice-form-electronic",
    }
}

/// Query of the item notice.
#[derive(Debug, Deserialize)]
pub struct NoticeParams {
    /// Situation code; the item's first when left out.
    #[serde(default)]
    situation: Option<String>,
}

/// `GET /counter/items/{code}/notice?situation=`: the one-time notice of an item in one
/// situation: everything the applicant must bring, at once, and what the platform fetches.
pub async fn item_notice(
    State(state): State<Shared>,
    page: Page,
    Path(code): Path<String>,
    Query(p): Query<NoticeParams>,
) -> Result<axum::response::Response, ApiError> {
    let (_, guides) = state.app.guides(&code).await?;
    let guide = match p.situation.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => guides.into_iter().find(|g| g.situation.code == s),
        None => guides.into_iter().next(),
    }
    .ok_or_else(|| AppError::NotFound {
        kind: "situation",
        key: format!("{code}/{}", p.situation.clone().unwrap_or_default()),
    })?;
    let (fetched, bring): (Vec<NoticeMaterial>, Vec<NoticeMaterial>) = guide
        .materials
        .iter()
        .map(|m| NoticeMaterial {
            name: m.material.name.clone(),
            required: m.material.required,
            form_key: form_key(m.material.form),
            count: m.material.count,
            notes: m.material.notes.clone(),
            auto: m.auto_resolvable,
        })
        .partition(|m| m.auto);
    Ok(ok(&ItemNoticePage {
        page,
        guide,
        bring,
        fetched,
        today: today_in_china().to_string(),
    }))
}

/// One thing to correct.
pub struct Correction {
    /// The material id or field key concerned, as the officer named it.
    pub key: String,
    /// The material or field concerned, by name.
    pub subject: String,
    /// What is wrong or missing.
    pub reason: String,
}

/// The case's last correction request: when, and everything it asks for (materials named as
/// the item names them).
pub(crate) async fn correction_request(
    state: &Shared,
    view: &CaseView,
) -> Result<Option<(Timestamp, Vec<Correction>)>, ApiError> {
    let events = state
        .app
        .db
        .case_events(&view.number)
        .await
        .map_err(AppError::from)?;
    let last =
        events
            .iter()
            .rev()
            .find_map(|e| match serde_json::from_str::<CaseEvent>(&e.event) {
                Ok(CaseEvent::CorrectionRequested { items, .. }) => Some((e.at, items)),
                _ => None,
            });
    let Some((at, items)) = last else {
        return Ok(None);
    };
    let item = state
        .app
        .service_item(&view.item)
        .await
        .ok()
        .map(|(i, _)| i);
    let corrections = items
        .into_iter()
        .map(|c| {
            let subject = item
                .as_ref()
                .and_then(|i| i.materials.iter().find(|m| m.id == c.subject))
                .map_or_else(|| c.subject.clone(), |m| m.name.clone());
            Correction {
                key: c.subject,
                subject,
                reason: c.reason,
            }
        })
        .collect();
    Ok(Some((at, corrections)))
}

#[derive(Template)]
#[template(path = "pages/print/case_notice.html")]
struct CaseNoticePage {
    page: Page,
    view: CaseView,
    department: String,
    requested: Option<String>,
    corrections: Vec<Correction>,
    open: bool,
    /// The staff copy (printed at the window) rather than the applicant's own.
    counter: bool,
}

/// `GET /counter/cases/{number}/notice` and `GET /me/cases/{number}/notice`: the one-time
/// notice of a case asked for a correction: everything to correct, at once, from its last
/// correction request.
pub async fn case_notice(
    State(state): State<Shared>,
    page: Page,
    CurrentActor(actor): CurrentActor,
    Path(number): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    let who = case_actor(&state, &actor).await?;
    let view = state.app.case_view(&who, &number, Timestamp::now()).await?;
    let (requested, corrections) = match correction_request(&state, &view).await? {
        Some((at, items)) => (Some(china_time(at)), items),
        None => (None, Vec::new()),
    };
    Ok(ok(&CaseNoticePage {
        department: department_name(&state, &view.department, page.en).await,
        open: view.state == "in_correction"
            || view.allowed.iter().any(|a| a == "supply_correction"),
        requested,
        corrections,
        counter: matches!(who, CaseActor::Staff { .. }),
        view,
        page,
    }))
}
