//! The person's own pages: my applications, one application with its cases, deadlines and
//! timeline (and the confirmation right after submitting), answering a correction request,
//! withdrawing, and signing out.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use onetrip_app::cases::{CaseActor, CaseCommand, CaseView, TimelineEntry};
use serde::Deserialize;
use tower_sessions::Session;

use super::apply::refusal_text;
use super::portal::{application_name, own_applications};
use super::print::correction_request;
use super::{Page, check_csrf, china_time, first, form_pairs, ok, render};
use crate::Shared;
use crate::api::accounts::CurrentActor;
use crate::api::cases::case_actor;
use crate::api::uploads::read_page_form;
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
    /// What the correction request asks for, each with a file input.
    pub corrections: Vec<CorrectionLine>,
}

/// One thing a correction request asks for, and the file input that answers it.
pub struct CorrectionLine {
    /// The material or field, by name.
    pub subject: String,
    /// What is wrong or missing.
    pub reason: String,
    /// Name of the file input (`file:{subject key}`).
    pub input: String,
    /// Id of the file input.
    pub id: String,
    /// Why the file sent was refused.
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/application.html")]
struct ApplicationPage {
    page: Page,
    id: String,
    name: String,
    state_key: String,
    submitted: bool,
    errors: Vec<(String, String)>,
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
    match application_page(&state, page, &who, id).await? {
        Ok(mut view) => {
            view.submitted = p.submitted.as_deref() == Some("1");
            Ok(ok(&view))
        }
        Err(draft) => Ok(draft),
    }
}

/// The application page, or the way to the draft when it is one.
async fn application_page(
    state: &Shared,
    page: Page,
    who: &CaseActor,
    id: String,
) -> Result<Result<ApplicationPage, Response>, ApiError> {
    let (row, views) = state
        .app
        .application_cases(who, &id, Timestamp::now())
        .await?;
    if row.state == "draft" {
        return Ok(Err(
            Redirect::to(&format!("/applications/{id}")).into_response()
        ));
    }
    let timeline: Vec<TimelineEntry> = state.app.timeline(who, &id).await.unwrap_or_default();
    let mut cases = Vec::with_capacity(views.len());
    for view in views {
        let correction = view.allowed.iter().any(|a| a == "supply_correction");
        let corrections = if correction {
            correction_request(state, &view)
                .await?
                .map(|(_, items)| items)
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .map(|(i, c)| CorrectionLine {
                    input: format!("file:{}", c.key),
                    id: format!("correction-{}-file-{i}", view.number),
                    subject: c.subject,
                    reason: c.reason,
                    error: None,
                })
                .collect()
        } else {
            Vec::new()
        };
        cases.push(CaseLine {
            state: if page.en {
                view.state_en.clone()
            } else {
                view.state_zh.clone()
            },
            can_withdraw: view.allowed.iter().any(|a| a == "withdraw"),
            correction,
            corrections,
            view,
        });
    }
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
    Ok(Ok(ApplicationPage {
        name: application_name(state, &row, page.en).await,
        state_key: format!("application-state-{}", row.state),
        submitted: false,
        errors: Vec::new(),
        id,
        page,
        cases,
        timeline,
    }))
}

/// `POST /me/applications/{id}/cases/{number}`: the applicant withdraws a case
/// (`action=withdraw`, with a reason) or answers its correction request
/// (`action=supply_correction`, with a note and a file for any of the things asked for, as
/// `multipart/form-data`). A refused file is explained next to its input and nothing is
/// supplied; the files already stored stay the applicant's uploads.
pub async fn case_action(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    CurrentActor(actor): CurrentActor,
    Path((id, number)): Path<(String, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    let sent = read_page_form(request, state.app.upload_max_bytes()).await?;
    check_csrf(&session, first(&sent.fields, "csrf_token")).await?;
    let text = first(&sent.fields, "text")
        .unwrap_or_default()
        .trim()
        .to_string();
    let who = case_actor(&state, &actor).await?;
    let now = Timestamp::now();
    let command = match first(&sent.fields, "action") {
        Some("withdraw") => CaseCommand::Withdraw { reason: text },
        Some("supply_correction") => {
            let mut uploads = BTreeMap::new();
            let mut refused: Option<(String, String)> = None;
            if let Some(part) = &sent.too_large {
                let e = onetrip_app::uploads::too_large(state.app.upload_max_bytes());
                refused = Some((part.clone(), refusal_text(&page, e)?));
            }
            for (part, file_name, content) in &sent.files {
                if refused.is_some() {
                    break;
                }
                let Some(key) = part.strip_prefix("file:") else {
                    continue;
                };
                match state
                    .app
                    .upload_file(&who, file_name, content.clone(), now)
                    .await
                {
                    Ok(row) => {
                        uploads.insert(key.to_string(), onetrip_app::uploads::file_ref(&row));
                    }
                    Err(e) => refused = Some((part.clone(), refusal_text(&page, e)?)),
                }
            }
            if let Some((part, message)) = refused {
                return refused_file(&state, page, &who, id, &number, &part, message).await;
            }
            CaseCommand::SupplyCorrection {
                note: (!text.is_empty()).then_some(text),
                uploads,
            }
        }
        _ => {
            return Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "unknown_action",
                "不支持该操作",
                "This action is not supported",
            ));
        }
    };
    state
        .app
        .act_on_case(&who, &number, command, None, now)
        .await?;
    Ok(Redirect::to(&format!("/me/applications/{id}")).into_response())
}

/// The application page again, with the refused file explained next to its input.
async fn refused_file(
    state: &Shared,
    page: Page,
    who: &CaseActor,
    id: String,
    number: &str,
    part: &str,
    message: String,
) -> Result<Response, ApiError> {
    let mut view = match application_page(state, page, who, id).await? {
        Ok(view) => view,
        Err(draft) => return Ok(draft),
    };
    let line = view
        .cases
        .iter_mut()
        .filter(|c| c.view.number == number)
        .flat_map(|c| c.corrections.iter_mut())
        .find(|l| l.input == part);
    match line {
        Some(line) => {
            view.errors.push((line.id.clone(), message.clone()));
            line.error = Some(message);
        }
        None => view.errors.push((format!("correction-{number}"), message)),
    }
    Ok(render(&view, StatusCode::UNPROCESSABLE_ENTITY))
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
