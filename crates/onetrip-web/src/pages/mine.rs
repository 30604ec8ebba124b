//! The person's own pages: my applications, one application with its cases, deadlines and
//! timeline (and the confirmation right after submitting), answering a correction request,
//! withdrawing, and signing out.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use onetrip_app::cases::{CaseCommand, CaseView, TimelineEntry};
use serde::Deserialize;
use tower_sessions::Session;

use super::portal::{application_name, own_applications};
use super::{Page, check_csrf, china_time, first, form_pairs, ok};
use crate::Shared;
use crate::api::accounts::CurrentActor;
use crate::api::cases::case_actor;
use crate::extract::{Path, Query};
use crate::problem::ApiError;

/// An application in the list.
pub struct ApplicationLine {
    /// Where it is shown.
    pub href: String,
    /// What it is for.
    pub name: String,
    /// Key of its state's text.
    pub state_key: String,
    /// Last change.
    pub updated: String,
}

#[derive(Template)]
#[template(path = "pages/my_applications.html")]
struct ApplicationsPage {
    page: Page,
    lines: Vec<ApplicationLine>,
}

/// `GET /me/applications`: the person's applications and drafts, newest first.
pub async fn applications(
    State(state): State<Shared>,
    page: Page,
    CurrentActor(actor): CurrentActor,
) -> Result<Response, ApiError> {
    let mut lines = Vec::new();
    for row in own_applications(&state, &actor).await? {
        let href = if row.state == "draft" {
            format!("/applications/{}", row.id)
        } else {
            format!("/me/applications/{}", row.id)
        };
        lines.push(ApplicationLine {
            href,
            name: application_name(&state, &row, page.en).await,
            state_key: format!("application-state-{}", row.state),
            updated: china_time(row.updated_at),
        });
    }
    Ok(ok(&ApplicationsPage { page, lines }))
}

/// A case as the applicant sees it.
pub struct CaseLine {
    /// The case.
    pub view: CaseView,
    /// State in the page's language.
    pub state: String,
    /// The applicant may withdraw it.
    pub can_withdraw: bool,
    /// The applicant is asked for a correction.
    pub correction: bool,
}

#[derive(Template)]
#[template(path = "pages/application.html")]
struct ApplicationPage {
    page: Page,
    id: String,
    name: String,
    state_key: String,
    submitted: bool,
    cases: Vec<CaseLine>,
    timeline: Vec<(String, String, String)>,
}

/// Whether the page follows a submission.
#[derive(Debug, Deserialize)]
pub struct ApplicationParams {
    /// `1` right after submitting.
    #[serde(default)]
    submitted: Option<String>,
}

/// `GET /me/applications/{id}`: the application's status, its cases with their deadlines and
/// what the applicant may do, and the whole timeline. Right after a submission it opens with
/// the confirmation and the case numbers.
pub async fn application(
    State(state): State<Shared>,
    page: Page,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    Query(p): Query<ApplicationParams>,
) -> Result<Response, ApiError> {
    let who = case_actor(&state, &actor).await?;
    let (row, views) = state
        .app
        .application_cases(&who, &id, Timestamp::now())
        .await?;
    if row.state == "draft" {
        return Ok(Redirect::to(&format!("/applications/{id}")).into_response());
    }
    let timeline: Vec<TimelineEntry> = state.app.timeline(&who, &id).await.unwrap_or_default();
    let cases = views
        .into_iter()
        .map(|view| CaseLine {
            state: if page.en {
                view.state_en.clone()
            } else {
                view.state_zh.clone()
            },
            can_withdraw: view.allowed.iter().any(|a| a == "withdraw"),
            correction: view.allowed.iter().any(|a| a == "supply_correction"),
            view,
        })
        .collect();
    let timeline = timeline
        .into_iter()
        .map(|e| {
            (
                china_time(e.at),
                e.item_name,
                if page.en { e.text_en } else { e.text_zh },
            )
        })
        .collect();
    Ok(ok(&ApplicationPage {
        name: application_name(&state, &row, page.en).await,
        state_key: format!("application-state-{}", row.state),
        submitted: p.submitted.as_deref() == Some("1"),
        id,
        page,
        cases,
        timeline,
    }))
}

/// `POST /me/applications/{id}/cases/{number}`: the applicant withdraws a case
/// (`action=withdraw`, with a reason) or answers its correction request
/// (`action=supply_correction`, with a note).
pub async fn case_action(
    State(state): State<Shared>,
    session: Session,
    CurrentActor(actor): CurrentActor,
    Path((id, number)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let pairs = form_pairs(&body);
    check_csrf(&session, first(&pairs, "csrf_token")).await?;
    let text = first(&pairs, "text").unwrap_or_default().trim().to_string();
    let command = match first(&pairs, "action") {
        Some("withdraw") => CaseCommand::Withdraw { reason: text },
        Some("supply_correction") => CaseCommand::SupplyCorrection {
            note: (!text.is_empty()).then_some(text),
            uploads: Default::default(),
        },
        _ => {
            return Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "unknown_action",
                "不支持该操作",
                "This action is not supported",
            ));
        }
    };
    let who = case_actor(&state, &actor).await?;
    state
        .app
        .act_on_case(&who, &number, command, None, Timestamp::now())
        .await?;
    Ok(Redirect::to(&format!("/me/applications/{id}")).into_response())
}

/// `POST /sign-out`: ends the session and goes home.
pub async fn sign_out(session: Session, body: axum::body::Bytes) -> Result<Response, ApiError> {
    let pairs = form_pairs(&body);
    check_csrf(&session, first(&pairs, "csrf_token")).await?;
    crate::session::sign_out(&session)
        .await
        .map_err(crate::api::accounts::session_error)?;
    Ok(Redirect::to("/").into_response())
}

/// `GET /me/uploads/{id}`: a file the signed-in person uploaded (shown in the browser).
pub async fn uploaded_file(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let by = case_actor(&state, &actor).await?;
    let (row, content) = state.app.own_upload(&by, &id).await?;
    Ok(crate::api::uploads::file_response(&row, content))
}
