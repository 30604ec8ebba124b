//! Data sharing (数据共享), for data administrators: the data catalog's resources, the
//! pending access requests of the providers they administer with approval or rejection (a
//! rejection needs its reason), and the grants with revocation; the same use cases as
//! `/api/v1/data/*`, which decide which provider's requests an administrator may decide.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use onetrip_domain::sharing::{RequestStatus, SharingType};
use onetrip_store::{RequestFilter, ResourceFilter};
use serde::Deserialize;
use tower_sessions::Session;

use super::{field_problems, is_input_problem};
use crate::Shared;
use crate::api::accounts::CurrentActor;
use crate::api::data::data_actor;
use crate::extract::{Path, Query};
use crate::pages::{Page, check_csrf, china_time, first, form_pairs, ok, render};
use crate::policy::Actor;
use crate::problem::ApiError;

/// A resource of the catalog.
pub struct ResourceLine {
    /// Code.
    pub code: String,
    /// Name in the page's language.
    pub name: String,
    /// Provider.
    pub provider: String,
    /// Key of the sharing type's name.
    pub sharing_key: &'static str,
}

/// A pending access request.
pub struct RequestLine {
    /// Id.
    pub id: String,
    /// Consumer (`client:…` or `item:…`).
    pub consumer: String,
    /// Resource code.
    pub resource: String,
    /// Fields asked for.
    pub fields: String,
    /// Purpose.
    pub purpose: String,
    /// Last valid day asked for.
    pub valid_until: String,
    /// Due day of the decision, and whether it passed.
    pub due: String,
    /// Past due.
    pub overdue: bool,
    /// The note typed, after a refused decision.
    pub note: String,
    /// The problem with the note.
    pub error: Option<String>,
}

/// A grant.
pub struct GrantLine {
    /// Id.
    pub id: String,
    /// Consumer.
    pub consumer: String,
    /// Resource code.
    pub resource: String,
    /// Fields.
    pub fields: String,
    /// Granted at.
    pub granted: String,
    /// Last valid day.
    pub valid_until: String,
    /// In force.
    pub live: bool,
}

#[derive(Template)]
#[template(path = "pages/admin/data.html")]
struct DataPage {
    page: Page,
    resources: Vec<ResourceLine>,
    requests: Vec<RequestLine>,
    grants: Vec<GrantLine>,
    done: Option<String>,
    errors: Vec<(String, String)>,
}

/// Query of the page.
#[derive(Debug, Deserialize)]
pub struct DataQuery {
    /// What was just done: `approved`, `rejected` or `revoked`.
    pub done: Option<String>,
}

fn sharing_key(s: SharingType) -> &'static str {
    match s {
        SharingType::Unconditional => "admin-sharing-unconditional",
        SharingType::Conditional => "admin-sharing-conditional",
        SharingType::NotShared => "admin-sharing-not-shared",
    }
}

async fn data_page(state: &Shared, page: Page, actor: &Actor) -> Result<DataPage, ApiError> {
    let actor = data_actor(actor)?;
    let now = Timestamp::now();
    let resources = state
        .app
        .data_resources(&ResourceFilter::default())
        .await?
        .into_iter()
        .map(|r| ResourceLine {
            name: if page.en && !r.name_en.is_empty() {
                r.name_en
            } else {
                r.name
            },
            provider: r.provider_name,
            sharing_key: sharing_key(r.sharing),
            code: r.code,
        })
        .collect();
    let requests = state
        .app
        .data_access_requests(
            &actor,
            RequestFilter {
                status: Some(RequestStatus::Pending),
                ..RequestFilter::default()
            },
            false,
            now,
        )
        .await?
        .into_iter()
        .map(|v| RequestLine {
            id: v.request.id,
            consumer: v.request.consumer.to_string(),
            resource: v.request.resource,
            fields: v.request.fields.join(", "),
            purpose: v.request.purpose,
            valid_until: v.request.valid_until.to_string(),
            due: v.request.due_on.map(|d| d.to_string()).unwrap_or_default(),
            overdue: v.overdue,
            note: String::new(),
            error: None,
        })
        .collect();
    let grants = state
        .app
        .data_grants(&actor, None, None, now)
        .await?
        .into_iter()
        .map(|g| GrantLine {
            id: g.grant.id,
            consumer: g.grant.consumer.to_string(),
            resource: g.grant.resource,
            fields: g.grant.fields.join(", "),
            granted: china_time(g.grant.granted_at),
            valid_until: g.grant.valid_until.to_string(),
            live: g.live,
        })
        .collect();
    Ok(DataPage {
        page,
        resources,
        requests,
        grants,
        done: None,
        errors: Vec::new(),
    })
}

/// `GET /admin/data`: resources, pending requests and grants.
pub async fn page(
    State(state): State<Shared>,
    page: Page,
    CurrentActor(actor): CurrentActor,
    Query(q): Query<DataQuery>,
) -> Result<Response, ApiError> {
    let mut view = data_page(&state, page, &actor).await?;
    view.done = q
        .done
        .filter(|d| ["approved", "rejected", "revoked"].contains(&d.as_str()));
    Ok(ok(&view))
}

/// `POST /admin/data/requests/{id}/decision`: `decision=approve|reject` with a note (the
/// reason, required for a rejection).
pub async fn decide(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let pairs = form_pairs(&body);
    check_csrf(&session, first(&pairs, "csrf_token")).await?;
    let approve = first(&pairs, "decision") == Some("approve");
    let note = first(&pairs, "note").unwrap_or_default().to_string();
    let result = state
        .app
        .decide_data_access(
            &data_actor(&actor)?,
            &id,
            approve,
            Some(note.clone()),
            Timestamp::now(),
        )
        .await;
    let e = match result {
        Ok(_) => {
            let done = if approve { "approved" } else { "rejected" };
            return Ok(Redirect::to(&format!("/admin/data?done={done}")).into_response());
        }
        Err(e) => ApiError::from(e),
    };
    if !is_input_problem(&e) || e.status == StatusCode::NOT_FOUND {
        return Err(e);
    }
    let message = field_problems(&page, &e)
        .into_iter()
        .map(|p| p.message)
        .collect::<Vec<_>>()
        .join(" ");
    let mut view = data_page(&state, page, &actor).await?;
    if let Some(line) = view.requests.iter_mut().find(|r| r.id == id) {
        line.note = note;
        line.error = Some(message.clone());
        view.errors.push((format!("note-{id}"), message));
    }
    Ok(render(&view, StatusCode::UNPROCESSABLE_ENTITY))
}

/// `POST /admin/data/grants/{id}/revocation`: revokes a grant at once.
pub async fn revoke(
    State(state): State<Shared>,
    session: Session,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let pairs = form_pairs(&body);
    check_csrf(&session, first(&pairs, "csrf_token")).await?;
    state
        .app
        .revoke_data_grant(&data_actor(&actor)?, &id, Timestamp::now())
        .await?;
    Ok(Redirect::to("/admin/data?done=revoked").into_response())
}
