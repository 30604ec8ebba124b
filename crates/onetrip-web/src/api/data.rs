//! Data sharing (公共数据共享): the published data catalog, access requests and the provider's
//! decision, grants, reading shared data with client credentials, provider pushes of records,
//! the access log, and "who used my data" for the signed-in citizen.
//!
//! Route permissions are in [`crate::policy::ROUTES`]; which provider a data administrator may
//! act for, and which consumer a client may act as, is decided by the use cases.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use onetrip_app::sharing::{
    AccessLogView, AccessRequestView, DataActor, GrantView, NewAccessRequest, SharedData,
};
use onetrip_domain::identity::{AccountId, StaffRole};
use onetrip_domain::sharing::{AccessRequest, Consumer, DataResource, RequestStatus};
use onetrip_store::{AccessLogFilter, Record, RequestFilter, ResourceFilter};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Shared;
use crate::api::IdempotencyKey;
use crate::api::accounts::CurrentActor;
use crate::extract::{JsonBody, Path, Query, enum_param};
use crate::policy::Actor;
use crate::problem::{ApiError, Problem};

/// The data-sharing routes.
pub fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(list_resources))
        .routes(routes!(get_resource, put_resource))
        .routes(routes!(create_request, list_requests))
        .routes(routes!(approve_request))
        .routes(routes!(reject_request))
        .routes(routes!(list_grants))
        .routes(routes!(revoke_grant))
        .routes(routes!(read_record, push_record))
        .routes(routes!(access_log))
        .routes(routes!(my_data_access))
}

/// The data-sharing actor of a request: the operator, a data administrator (after TOTP) or a
/// machine client.
pub(crate) fn data_actor(actor: &Actor) -> Result<DataActor, ApiError> {
    match actor {
        Actor::Operator => Ok(DataActor::Operator),
        Actor::Staff(s) if s.holds(StaffRole::DataAdministrator) => {
            Ok(DataActor::DataAdministrator {
                id: s.id.clone(),
                grants: s
                    .roles
                    .iter()
                    .filter(|g| g.role == StaffRole::DataAdministrator)
                    .cloned()
                    .collect(),
            })
        }
        Actor::Client(c) => Ok(DataActor::Client(c.client_id.clone())),
        _ => Err(forbidden()),
    }
}

fn forbidden() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "您的账号无权进行此操作",
        "Your account may not do this",
    )
}

fn consumer_param(value: Option<&str>) -> Result<Option<Consumer>, ApiError> {
    let Some(v) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    Consumer::parse(v).map(Some).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            format!("参数 consumer 应为 client:<client_id> 或 item:<实施编码>，而不是“{v}”"),
            format!("Parameter consumer must be client:<client_id> or item:<implementation code>, not \"{v}\""),
        )
    })
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

/// Query parameters of the resource list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResourceParams {
    /// Text searched in the code, names and provider.
    q: Option<String>,
    /// Provider credit code.
    provider: Option<String>,
    /// `unconditional`, `conditional` or `not_shared`.
    sharing: Option<String>,
}

/// Lists and searches the data catalog (published: no sign-in).
#[utoipa::path(get, path = "/api/v1/data/resources", tag = "data sharing", params(ResourceParams),
    responses((status = 200, description = "Resources, by code", body = [Object]),
              (status = 400, description = "Bad parameter", body = Problem, content_type = "application/problem+json")))]
pub async fn list_resources(
    State(state): State<Shared>,
    Query(p): Query<ResourceParams>,
) -> Result<Json<Vec<DataResource>>, ApiError> {
    let sharing: Option<onetrip_domain::sharing::SharingType> =
        enum_param("sharing", p.sharing.as_deref())?;
    let filter = ResourceFilter {
        q: p.q.unwrap_or_default(),
        provider: p.provider.unwrap_or_default(),
        sharing: p.sharing.filter(|_| sharing.is_some()).unwrap_or_default(),
    };
    Ok(Json(state.app.data_resources(&filter).await?))
}

/// One data resource (published: no sign-in).
#[utoipa::path(get, path = "/api/v1/data/resources/{code}", tag = "data sharing",
    params(("code" = String, Path, description = "Resource code, e.g. ZJ_MARRIAGE_RECORD")),
    responses((status = 200, description = "The resource", body = Object),
              (status = 404, description = "No such resource", body = Problem, content_type = "application/problem+json")))]
pub async fn get_resource(
    State(state): State<Shared>,
    Path(code): Path<String>,
) -> Result<Json<DataResource>, ApiError> {
    Ok(Json(state.app.data_resource(&code).await?))
}

/// Inserts or replaces a data resource (the operator, or a data administrator covering the
/// provider department). Every problem is listed.
#[utoipa::path(put, path = "/api/v1/data/resources/{code}", tag = "data sharing",
    params(("code" = String, Path, description = "Resource code")), request_body = Object,
    responses((status = 200, description = "Stored", body = Object),
              (status = 403, description = "Not the provider's data administrator", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Every problem, by field", body = Problem, content_type = "application/problem+json")))]
pub async fn put_resource(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(code): Path<String>,
    JsonBody(resource): JsonBody<DataResource>,
) -> Result<Json<DataResource>, ApiError> {
    let actor = data_actor(&actor)?;
    if resource.code != code {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "code_mismatch",
            "请求体中的资源编码与地址中的不一致",
            "The resource code in the body differs from the one in the address",
        ));
    }
    Ok(Json(
        state
            .app
            .put_data_resource(&actor, resource, Timestamp::now())
            .await?,
    ))
}

/// An access request to file.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequestDoc {
    /// `{"kind": "client"|"item", "id": …}`; a machine client may leave it out (itself).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub consumer: Option<Consumer>,
    /// Resource code.
    pub resource: String,
    /// Field keys.
    pub fields: Vec<String>,
    /// Purpose, `lower-kebab-case` (e.g. `service-application`).
    pub purpose: String,
    /// Last day the grant would be valid, `YYYY-MM-DD`.
    #[schema(value_type = String)]
    pub valid_until: jiff::civil::Date,
}

/// Files an access request: unconditional resources are granted at once (status `approved`),
/// conditional ones wait for the provider (`pending`, with `due_on`), not-shared ones are
/// refused (403 `data_resource_not_shared`).
#[utoipa::path(post, path = "/api/v1/data/access-requests", tag = "data sharing", request_body = NewRequestDoc,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key: a repeat answers with the request first filed")),
    responses((status = 201, description = "Filed", body = Object),
              (status = 403, description = "Not shared, or not for this consumer", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Every problem, by field", body = Problem, content_type = "application/problem+json")))]
pub async fn create_request(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    key: IdempotencyKey,
    JsonBody(body): JsonBody<NewRequestDoc>,
) -> Result<(StatusCode, Json<AccessRequest>), ApiError> {
    let actor = data_actor(&actor)?;
    let request = state
        .app
        .request_data_access(
            &actor,
            NewAccessRequest {
                consumer: body.consumer,
                resource: body.resource,
                fields: body.fields,
                purpose: body.purpose,
                valid_until: body.valid_until,
            },
            key.as_deref(),
            Timestamp::now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(request)))
}

/// Query parameters of the request list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestParams {
    /// Provider credit code.
    provider: Option<String>,
    /// `client:<client_id>` or `item:<implementation code>`.
    consumer: Option<String>,
    /// `pending`, `approved` or `rejected`.
    status: Option<String>,
    /// Only pending requests past their due day.
    overdue: Option<bool>,
}

/// Access requests, newest first, each with `overdue`; a machine client sees its own.
#[utoipa::path(get, path = "/api/v1/data/access-requests", tag = "data sharing", params(RequestParams),
    responses((status = 200, description = "Requests", body = [Object])))]
pub async fn list_requests(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Query(p): Query<RequestParams>,
) -> Result<Json<Vec<AccessRequestView>>, ApiError> {
    let actor = data_actor(&actor)?;
    let status: Option<RequestStatus> = enum_param("status", p.status.as_deref())?;
    let filter = RequestFilter {
        provider: non_empty(p.provider),
        consumer: consumer_param(p.consumer.as_deref())?,
        status,
    };
    Ok(Json(
        state
            .app
            .data_access_requests(&actor, filter, p.overdue.unwrap_or(false), Timestamp::now())
            .await?,
    ))
}

/// The provider's decision.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionDoc {
    /// Note; required for a rejection.
    #[serde(default)]
    pub note: Option<String>,
}

/// Records the provider's decision on request `id`.
async fn decide(
    state: &Shared,
    actor: &Actor,
    id: &str,
    approve: bool,
    note: Option<String>,
) -> Result<Json<AccessRequest>, ApiError> {
    let actor = data_actor(actor)?;
    let request = state
        .app
        .decide_data_access(&actor, id, approve, note, Timestamp::now())
        .await?;
    Ok(Json(request))
}

/// Approves a pending request (the provider's data administrator or the operator); the grant
/// takes effect at once.
#[utoipa::path(post, path = "/api/v1/data/access-requests/{id}/approval", tag = "data sharing",
    params(("id" = String, Path, description = "Request id")), request_body = DecisionDoc,
    responses((status = 200, description = "Approved", body = Object),
              (status = 403, description = "Not the provider's administrator, or already decided", body = Problem, content_type = "application/problem+json")))]
pub async fn approve_request(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<DecisionDoc>,
) -> Result<Json<AccessRequest>, ApiError> {
    decide(&state, &actor, &id, true, body.note).await
}

/// Rejects a pending request with a reason (the provider's data administrator or the operator).
#[utoipa::path(post, path = "/api/v1/data/access-requests/{id}/rejection", tag = "data sharing",
    params(("id" = String, Path, description = "Request id")), request_body = DecisionDoc,
    responses((status = 200, description = "Rejected", body = Object),
              (status = 422, description = "No reason given", body = Problem, content_type = "application/problem+json")))]
pub async fn reject_request(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<DecisionDoc>,
) -> Result<Json<AccessRequest>, ApiError> {
    decide(&state, &actor, &id, false, body.note).await
}

/// Query parameters of the grant list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GrantParams {
    /// `client:<client_id>` or `item:<implementation code>`.
    consumer: Option<String>,
    /// Resource code.
    resource: Option<String>,
}

/// Grants, newest first, each with `live`; a machine client sees its own.
#[utoipa::path(get, path = "/api/v1/data/grants", tag = "data sharing", params(GrantParams),
    responses((status = 200, description = "Grants", body = [Object])))]
pub async fn list_grants(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Query(p): Query<GrantParams>,
) -> Result<Json<Vec<GrantView>>, ApiError> {
    let actor = data_actor(&actor)?;
    let consumer = consumer_param(p.consumer.as_deref())?;
    let resource = non_empty(p.resource);
    Ok(Json(
        state
            .app
            .data_grants(&actor, consumer, resource.as_deref(), Timestamp::now())
            .await?,
    ))
}

/// Revokes a grant at once (the provider's data administrator or the operator).
#[utoipa::path(post, path = "/api/v1/data/grants/{id}/revocation", tag = "data sharing",
    params(("id" = String, Path, description = "Grant id")),
    responses((status = 200, description = "Revoked", body = Object),
              (status = 404, description = "No such grant", body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_grant(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Result<Json<GrantView>, ApiError> {
    let actor = data_actor(&actor)?;
    Ok(Json(
        state
            .app
            .revoke_data_grant(&actor, &id, Timestamp::now())
            .await?,
    ))
}

/// Query parameters of a read.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReadParams {
    /// Purpose of the read; must be the purpose of a live grant.
    purpose: String,
    /// Case reference (办件编号) the read is for.
    case: Option<String>,
}

/// Reads a subject's record for the calling machine client (client-credentials token with the
/// `api` scope): granted fields in full, the others masked or left out. Every read, refused
/// ones included, is in the access log.
#[utoipa::path(get, path = "/api/v1/data/resources/{code}/records/{subject}", tag = "data sharing",
    params(("code" = String, Path, description = "Resource code"),
           ("subject" = String, Path, description = "Resident ID or credit code"), ReadParams),
    responses((status = 200, description = "The record, shaped by the grant", body = Object),
              (status = 403, description = "No live grant for this purpose (data_grant_required, data_purpose_not_granted, data_grant_expired, data_grant_revoked) or not shared", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such resource or record", body = Problem, content_type = "application/problem+json"),
              (status = 429, description = "Rate limit; see Retry-After", body = Problem, content_type = "application/problem+json")))]
pub async fn read_record(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path((code, subject)): Path<(String, String)>,
    Query(p): Query<ReadParams>,
) -> Result<Json<SharedData>, ApiError> {
    let Actor::Client(client) = &actor else {
        return Err(forbidden());
    };
    let consumer = Consumer::Client(client.client_id.clone());
    Ok(Json(
        state
            .app
            .read_shared_data(
                &consumer,
                &code,
                &subject,
                &p.purpose,
                p.case.as_deref(),
                Timestamp::now(),
            )
            .await?,
    ))
}

/// A provider pushes a subject's record (the operator, the provider's data administrator, or a
/// client registered for the provider department). The body is the record: field → value.
#[utoipa::path(put, path = "/api/v1/data/resources/{code}/records/{subject}", tag = "data sharing",
    params(("code" = String, Path, description = "Resource code"),
           ("subject" = String, Path, description = "Resident ID or credit code")), request_body = Object,
    responses((status = 204, description = "Stored"),
              (status = 403, description = "Not the provider", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Unknown fields or invalid subject", body = Problem, content_type = "application/problem+json")))]
pub async fn push_record(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path((code, subject)): Path<(String, String)>,
    JsonBody(record): JsonBody<Record>,
) -> Result<StatusCode, ApiError> {
    let actor = data_actor(&actor)?;
    state
        .app
        .push_data_record(&actor, &code, &subject, record, Timestamp::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Query parameters of the access log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    /// Provider credit code.
    provider: Option<String>,
    /// `client:<client_id>` or `item:<implementation code>`.
    consumer: Option<String>,
    /// Resident ID or credit code.
    subject: Option<String>,
    /// At most this many rows, 1–1000 (default 100).
    limit: Option<i64>,
}

/// The access log (调用日志), newest first, by provider, consumer and subject (the operator or
/// a data administrator).
#[utoipa::path(get, path = "/api/v1/data/access-log", tag = "data sharing", params(LogParams),
    responses((status = 200, description = "Accesses", body = [Object])))]
pub async fn access_log(
    State(state): State<Shared>,
    Query(p): Query<LogParams>,
) -> Result<Json<Vec<AccessLogView>>, ApiError> {
    let filter = AccessLogFilter {
        provider: non_empty(p.provider),
        consumer: consumer_param(p.consumer.as_deref())?,
        subject: non_empty(p.subject),
        limit: p.limit.unwrap_or(100).clamp(1, 1000),
    };
    Ok(Json(state.app.data_access_log(&filter).await?))
}

/// "Who used my data" (谁用了我的数据): every access to the signed-in person's data, with the
/// consumer, resource, fields, purpose, case and time. Needs real-name verification (L2).
#[utoipa::path(get, path = "/api/v1/me/data-access", tag = "data sharing",
    responses((status = 200, description = "Accesses, newest first", body = [Object]),
              (status = 403, description = "Below L2", body = Problem, content_type = "application/problem+json")))]
pub async fn my_data_access(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
) -> Result<Json<Vec<AccessLogView>>, ApiError> {
    let Actor::Citizen(c) = &actor else {
        return Err(forbidden());
    };
    Ok(Json(
        state
            .app
            .my_data_accesses(&AccountId::new(c.account.clone()), c.level, 500)
            .await?,
    ))
}
