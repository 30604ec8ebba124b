//! Staff (工作人员): administration by system administrators, staff sign-in with TOTP, and
//! TOTP enrolment. Staff accounts are separate from citizen accounts and never self-registered.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use onetrip_app::staff::{Granter, NewStaffInput, StaffSignIn};
use onetrip_domain::identity::{AccountId, RoleGrant};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Shared;
use crate::api::accounts::{ClientIp, CurrentActor, session_error};
use crate::extract::{JsonBody, Path};
use crate::policy::Actor;
use crate::problem::{ApiError, Problem};
use crate::session::{self, SessionAuth};

/// The staff routes.
pub fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(set_roles))
        .routes(routes!(set_disabled))
        .routes(routes!(reset_totp))
        .routes(routes!(sign_in))
        .routes(routes!(begin_totp, confirm_totp))
        .routes(routes!(in_person_check))
        .routes(routes!(auth_events))
}

/// Who grants: the operator, or the signed-in member of staff.
pub(crate) fn granter(actor: &Actor) -> Result<Granter, ApiError> {
    match actor {
        Actor::Operator => Ok(Granter::Bootstrap),
        Actor::Staff(s) => Ok(Granter::Staff(AccountId::new(s.id.clone()))),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "您的账号无权进行此操作",
            "Your account may not do this",
        )),
    }
}

/// A member of staff to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaff {
    /// Sign-in name (3–32 of `a-z0-9._-`).
    pub username: String,
    /// Name.
    pub name: String,
    /// Credit code of the department.
    pub department_code: String,
    /// Division code.
    pub division_code: String,
    /// Role grants `{role, division, department?}`.
    #[schema(value_type = Vec<Object>)]
    pub roles: Vec<RoleGrant>,
}

/// A member of staff just created.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedDoc {
    /// Staff id.
    pub id: String,
    /// Initial password, shown this once: hand it over out of band.
    pub initial_password: String,
}

/// Creates a member of staff within the administrator's own scope.
#[utoipa::path(post, path = "/api/v1/staff", tag = "staff", security(("admin_token" = [])), request_body = NewStaff,
    responses((status = 201, description = "Created", body = CreatedDoc),
              (status = 422, description = "Every problem, by field", body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    JsonBody(body): JsonBody<NewStaff>,
) -> Result<(StatusCode, Json<CreatedDoc>), ApiError> {
    let created = state
        .app
        .create_staff(
            &granter(&actor)?,
            NewStaffInput {
                username: body.username,
                name: body.name,
                department_code: body.department_code,
                division_code: body.division_code,
                roles: body.roles,
            },
            Timestamp::now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedDoc {
            id: created.id.as_str().to_owned(),
            initial_password: created.initial_password.expose_secret().to_owned(),
        }),
    ))
}

/// A member of staff as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffDoc {
    /// Id.
    pub id: String,
    /// Sign-in name.
    pub username: String,
    /// Name.
    pub name: String,
    /// Department.
    pub department_code: String,
    /// Division.
    pub division_code: String,
    /// Role grants.
    #[schema(value_type = Vec<Object>)]
    pub roles: Vec<RoleGrant>,
    /// Whether TOTP is enrolled.
    pub totp_enrolled: bool,
    /// Whether the account is disabled.
    pub disabled: bool,
}

/// Every member of staff.
#[utoipa::path(get, path = "/api/v1/staff", tag = "staff", security(("admin_token" = [])),
    responses((status = 200, description = "By username", body = [StaffDoc])))]
pub async fn list(State(state): State<Shared>) -> Result<Json<Vec<StaffDoc>>, ApiError> {
    let rows = state
        .app
        .db
        .list_staff()
        .await
        .map_err(onetrip_app::AppError::from)?;
    Ok(Json(
        rows.into_iter()
            .map(|r| StaffDoc {
                id: r.id,
                username: r.username,
                name: r.name,
                department_code: r.department_code,
                division_code: r.division_code,
                roles: r.roles,
                totp_enrolled: r.totp_secret.is_some(),
                disabled: r.disabled,
            })
            .collect(),
    ))
}

/// Replaces the role grants of a member of staff (audited).
#[utoipa::path(put, path = "/api/v1/staff/{id}/roles", tag = "staff", security(("admin_token" = [])),
    params(("id" = String, Path, description = "Staff id")), request_body = Vec<Object>,
    responses((status = 204, description = "Replaced"),
              (status = 422, description = "Every problem, by field", body = Problem, content_type = "application/problem+json")))]
pub async fn set_roles(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    JsonBody(roles): JsonBody<Vec<RoleGrant>>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .set_staff_roles(
            &granter(&actor)?,
            &AccountId::new(id),
            roles,
            Timestamp::now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether an account is disabled.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Disabled {
    /// `true` to disable, `false` to enable.
    pub disabled: bool,
}

/// Disables or enables a member of staff within the administrator's scope (audited).
#[utoipa::path(put, path = "/api/v1/staff/{id}/disabled", tag = "staff", security(("admin_token" = [])),
    params(("id" = String, Path, description = "Staff id")), request_body = Disabled,
    responses((status = 204, description = "Done"),
              (status = 403, description = "Outside the administrator's scope", body = Problem, content_type = "application/problem+json")))]
pub async fn set_disabled(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Disabled>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .set_staff_disabled(
            &granter(&actor)?,
            &AccountId::new(id),
            body.disabled,
            Timestamp::now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a member of staff's authenticator (lost phone); they enrol a new one (audited).
#[utoipa::path(delete, path = "/api/v1/staff/{id}/totp", tag = "staff", security(("admin_token" = [])),
    params(("id" = String, Path, description = "Staff id")),
    responses((status = 204, description = "Removed"),
              (status = 403, description = "Outside the administrator's scope", body = Problem, content_type = "application/problem+json")))]
pub async fn reset_totp(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .reset_staff_totp(&granter(&actor)?, &AccountId::new(id), Timestamp::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Staff credentials.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffCredentials {
    /// Sign-in name.
    pub username: String,
    /// Password.
    pub password: String,
    /// The current code of the authenticator app, when enrolled.
    #[serde(default)]
    pub totp: Option<String>,
}

/// A staff session.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffSessionDoc {
    /// Staff id.
    pub id: String,
    /// Whether TOTP was verified (administrator roles work only then).
    pub totp_verified: bool,
    /// Whether the member of staff must enrol an authenticator before their administrator
    /// roles work.
    pub totp_enrolment_required: bool,
    /// Token to send as `X-CSRF-Token`.
    pub csrf_token: String,
}

/// Signs a member of staff in. Administrators need TOTP: without an authenticator enrolled
/// they get a session whose administrator roles do nothing until they enrol and sign in again.
#[utoipa::path(post, path = "/api/v1/staff/session", tag = "staff", request_body = StaffCredentials,
    responses((status = 200, description = "Signed in", body = StaffSessionDoc),
              (status = 401, description = "Failed, or a TOTP code is needed (`totp_required`)", body = Problem, content_type = "application/problem+json")))]
pub async fn sign_in(
    State(state): State<Shared>,
    ClientIp(ip): ClientIp,
    session: Session,
    JsonBody(body): JsonBody<StaffCredentials>,
) -> Result<Json<StaffSessionDoc>, ApiError> {
    start_session(&state, &session, &body, ip).await.map(Json)
}

/// Checks staff credentials and starts the session (the API and the staff sign-in page).
pub(crate) async fn start_session(
    state: &Shared,
    session: &Session,
    body: &StaffCredentials,
    ip: Option<std::net::IpAddr>,
) -> Result<StaffSessionDoc, ApiError> {
    let now = Timestamp::now();
    let outcome = state
        .app
        .sign_in_staff(
            &body.username,
            &SecretString::from(body.password.clone()),
            body.totp.as_deref(),
            ip,
            now,
        )
        .await?;
    let (staff, enrolment_required) = match outcome {
        StaffSignIn::SignedIn(s) => (s, false),
        StaffSignIn::TotpRequired => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "totp_required",
                "请输入身份验证器应用显示的6位动态口令",
                "Enter the 6-digit code your authenticator app shows",
            ));
        }
        StaffSignIn::TotpEnrolmentRequired { staff_id } => {
            let row = state
                .app
                .db
                .staff_by_id(staff_id.as_str())
                .await
                .map_err(onetrip_app::AppError::from)?
                .ok_or(onetrip_app::AppError::SignInFailed)?;
            (
                onetrip_app::staff::StaffSession {
                    id: staff_id,
                    name: row.name,
                    department_code: row.department_code,
                    division_code: row.division_code,
                    roles: row.roles,
                    totp_verified: false,
                },
                true,
            )
        }
    };
    let auth = SessionAuth::Staff {
        staff: staff.id.as_str().to_owned(),
        name: staff.name,
        department: staff.department_code,
        roles: staff.roles,
        totp_verified: staff.totp_verified,
        auth_time: now.as_second(),
        sid: onetrip_app::sso::random_secret()?
            .chars()
            .take(22)
            .collect(),
    };
    let csrf_token = session::sign_in(session, &auth, now)
        .await
        .map_err(session_error)?;
    Ok(StaffSessionDoc {
        id: staff.id.as_str().to_owned(),
        totp_verified: staff.totp_verified,
        totp_enrolment_required: enrolment_required,
        csrf_token,
    })
}

/// A TOTP secret to enrol.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpDoc {
    /// Base32 secret, to type into an authenticator app.
    pub secret: String,
    /// `otpauth://` URI, for a QR code.
    pub provisioning_uri: String,
}

fn staff_id(actor: &Actor) -> Result<AccountId, ApiError> {
    match actor {
        Actor::Staff(s) => Ok(AccountId::new(s.id.clone())),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "此操作需要以工作人员身份登录",
            "Sign in as staff to do this",
        )),
    }
}

/// Draws a TOTP secret for the signed-in member of staff (not stored until confirmed).
#[utoipa::path(post, path = "/api/v1/staff/me/totp", tag = "staff",
    responses((status = 200, description = "A secret to enrol", body = TotpDoc)))]
pub async fn begin_totp(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
) -> Result<Json<TotpDoc>, ApiError> {
    let e = state.app.begin_totp_enrolment(&staff_id(&actor)?).await?;
    Ok(Json(TotpDoc {
        secret: e.secret_base32,
        provisioning_uri: e.provisioning_uri,
    }))
}

/// Confirms an enrolment with the first code the app shows.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpConfirm {
    /// The secret drawn by `POST /api/v1/staff/me/totp`.
    pub secret: String,
    /// The current code.
    pub code: String,
}

/// Stores the authenticator after checking a code from it.
#[utoipa::path(put, path = "/api/v1/staff/me/totp", tag = "staff", request_body = TotpConfirm,
    responses((status = 204, description = "Enrolled"),
              (status = 422, description = "Wrong code", body = Problem, content_type = "application/problem+json")))]
pub async fn confirm_totp(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    JsonBody(body): JsonBody<TotpConfirm>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .confirm_totp_enrolment(
            &staff_id(&actor)?,
            &body.secret,
            &body.code,
            Timestamp::now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A person checked in person at a window.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InPersonCheck {
    /// The resident ID number on the card shown.
    pub resident_id: String,
    /// The name on the card.
    pub name: String,
}

/// The account raised to L3.
#[derive(Debug, Serialize, ToSchema)]
pub struct InPersonDoc {
    /// The person's account id.
    pub account_id: String,
}

/// A window clerk records that they checked a person's ID card in person (L3).
#[utoipa::path(post, path = "/api/v1/staff/in-person-checks", tag = "staff", request_body = InPersonCheck,
    responses((status = 201, description = "Recorded; the account is at L3", body = InPersonDoc),
              (status = 403, description = "Not a window clerk", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "No matching account", body = Problem, content_type = "application/problem+json")))]
pub async fn in_person_check(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    JsonBody(body): JsonBody<InPersonCheck>,
) -> Result<(StatusCode, Json<InPersonDoc>), ApiError> {
    let account = state
        .app
        .verify_in_person(
            &staff_id(&actor)?,
            &body.resident_id,
            &body.name,
            Timestamp::now(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(InPersonDoc {
            account_id: account.as_str().to_owned(),
        }),
    ))
}

/// Query of the audit log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// The account (person or staff) whose events to list.
    pub account_id: String,
    /// How many, newest first (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// One authentication event.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthEventDoc {
    /// When.
    pub at: String,
    /// `sign_in`, `otp_issued`, `step_up`, `role_change`, `staff_created`, `totp_enrolled`,
    /// `delegation_granted`, `delegation_revoked`, `organisation_registered`, `refresh_replay`…
    pub kind: String,
    /// `citizen` or `staff`.
    pub account_kind: String,
    /// Method or qualifier.
    pub method: String,
    /// Whether it succeeded.
    pub succeeded: bool,
    /// Client IP address.
    pub ip: Option<String>,
    /// Further facts (JSON), never personal data.
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
}

/// The authentication audit log of one account (system administrators).
#[utoipa::path(get, path = "/api/v1/auth-events", tag = "staff", security(("admin_token" = [])),
    params(AuditQuery),
    responses((status = 200, description = "Newest first", body = [AuthEventDoc])))]
pub async fn auth_events(
    State(state): State<Shared>,
    crate::extract::Query(q): crate::extract::Query<AuditQuery>,
) -> Result<Json<Vec<AuthEventDoc>>, ApiError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let rows = state
        .app
        .db
        .recent_auth_events(&q.account_id, limit)
        .await
        .map_err(onetrip_app::AppError::from)?;
    Ok(Json(
        rows.into_iter()
            .map(|e| AuthEventDoc {
                at: e.at.to_string(),
                kind: e.kind,
                account_kind: match e.account_kind {
                    onetrip_domain::identity::AccountKind::Citizen => "citizen".to_owned(),
                    onetrip_domain::identity::AccountKind::Staff => "staff".to_owned(),
                },
                method: e.method,
                succeeded: e.succeeded,
                ip: e.ip,
                detail: e.detail.and_then(|d| serde_json::from_str(&d).ok()),
            })
            .collect(),
    ))
}
