//! Accounts and web sign-in (统一身份认证): SMS codes, registration, sign-in and sign-out,
//! the signed-in person's profile, sign-in history and real-name step-up.
//!
//! Sign-in here starts a web session (cookie); department systems and apps sign users in
//! through the OpenID Connect endpoints under `/oauth2` instead.

use std::net::{IpAddr, SocketAddr};

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use jiff::Timestamp;
use onetrip_app::accounts::RegisterPerson;
use onetrip_app::otp::CodePurpose;
use onetrip_domain::identifiers::ResidentId;
use onetrip_domain::identity::{AccountId, AssuranceLevel};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Shared;
use crate::api::identifiers::today_in_china;
use crate::extract::JsonBody;
use crate::policy::Actor;
use crate::problem::{ApiError, Problem};
use crate::session::{self, SessionAuth};

/// The account routes.
pub fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(send_code))
        .routes(routes!(register))
        .routes(routes!(sign_in, current, sign_out))
        .routes(routes!(me))
        .routes(routes!(sign_ins))
        .routes(routes!(real_name))
        .routes(routes!(face_check))
}

/// The client's IP address, when the server knows it (the socket peer).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// The actor the policy put on the request.
pub fn actor_of(parts: &Parts) -> Actor {
    parts
        .extensions
        .get::<Actor>()
        .cloned()
        .unwrap_or(Actor::Anonymous)
}

/// Extractor of the [`Actor`] decided by the policy.
#[derive(Debug, Clone)]
pub struct CurrentActor(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for CurrentActor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(CurrentActor(actor_of(parts)))
    }
}

/// The problem answered when the session store fails.
pub fn session_error(e: session::SessionError) -> ApiError {
    tracing::error!(error = %e, "session store failed");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "session_unavailable",
        "登录状态暂时无法保存，请稍后重试",
        "The sign-in could not be saved; please try again shortly",
    )
}

/// What a one-time code is for.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PurposeDoc {
    /// Sign in with the code.
    SignIn,
    /// Prove the phone when registering.
    Register,
}

/// A request for a one-time code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// Mainland mobile number.
    pub phone: String,
    /// What the code is for.
    pub purpose: PurposeDoc,
}

/// A code was sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct CodeSentDoc {
    /// When the code stops working.
    pub expires_at: String,
    /// When another code may be asked for.
    pub resend_at: String,
}

/// Sends a one-time code by SMS. The answer is the same whether or not the phone has an
/// account.
#[utoipa::path(post, path = "/api/v1/sms-codes", tag = "accounts", request_body = CodeRequest,
    responses((status = 202, description = "Sent", body = CodeSentDoc),
              (status = 422, description = "Bad phone", body = Problem, content_type = "application/problem+json"),
              (status = 429, description = "Too soon or too many", body = Problem, content_type = "application/problem+json")))]
pub async fn send_code(
    State(state): State<Shared>,
    JsonBody(body): JsonBody<CodeRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let purpose = match body.purpose {
        PurposeDoc::SignIn => CodePurpose::SignIn,
        PurposeDoc::Register => CodePurpose::Register,
    };
    let sent = state
        .app
        .send_random_code(purpose, &body.phone, Timestamp::now())
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(CodeSentDoc {
            expires_at: sent.expires_at.to_string(),
            resend_at: sent.resend_at.to_string(),
        }),
    ))
}

/// A registration.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// Resident ID number.
    pub resident_id: String,
    /// Name as on the ID card.
    pub name: String,
    /// Mainland mobile number.
    pub phone: String,
    /// Password.
    pub password: String,
    /// The registration code sent to the phone.
    pub sms_code: String,
}

/// Who is signed in to this session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionDoc {
    /// Whether anyone is signed in.
    pub signed_in: bool,
    /// `citizen` or `staff`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// Account (or staff) id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Assurance level, `L1`–`L3` (persons).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub assurance_level: Option<AssuranceLevel>,
    /// Credit code of the organisation acted for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acting_for: Option<String>,
    /// Token to send as `X-CSRF-Token` with every change made through this session.
    pub csrf_token: String,
}

fn citizen_auth(
    account: &AccountId,
    level: AssuranceLevel,
    method: &str,
    now: Timestamp,
) -> Result<SessionAuth, ApiError> {
    SessionAuth::citizen(account.as_str(), level, method, now).map_err(session_error)
}

async fn doc_of(session: &Session, now: Timestamp) -> Result<SessionDoc, ApiError> {
    let auth = session::current(session, now)
        .await
        .map_err(session_error)?;
    let csrf_token = session::csrf_token(session).await.map_err(session_error)?;
    Ok(match auth {
        None => SessionDoc {
            signed_in: false,
            kind: None,
            account_id: None,
            assurance_level: None,
            acting_for: None,
            csrf_token,
        },
        Some(SessionAuth::Citizen {
            account,
            level,
            acting_for,
            ..
        }) => SessionDoc {
            signed_in: true,
            kind: Some("citizen"),
            account_id: Some(account),
            assurance_level: Some(level),
            acting_for,
            csrf_token,
        },
        Some(SessionAuth::Staff { staff, .. }) => SessionDoc {
            signed_in: true,
            kind: Some("staff"),
            account_id: Some(staff),
            assurance_level: None,
            acting_for: None,
            csrf_token,
        },
    })
}

/// Registers a person (自然人注册) with the SMS code sent to the phone (L1), and signs them in.
#[utoipa::path(post, path = "/api/v1/persons", tag = "accounts", request_body = Registration,
    responses((status = 201, description = "Registered and signed in", body = SessionDoc),
              (status = 422, description = "Every problem, by field", body = Problem, content_type = "application/problem+json")))]
pub async fn register(
    State(state): State<Shared>,
    session: Session,
    JsonBody(body): JsonBody<Registration>,
) -> Result<impl IntoResponse, ApiError> {
    let now = Timestamp::now();
    let account = state
        .app
        .register_person(
            RegisterPerson {
                resident_id: body.resident_id,
                name: body.name,
                phone: body.phone,
                password: SecretString::from(body.password),
                sms_code: body.sms_code,
            },
            today_in_china(),
            now,
        )
        .await?;
    let auth = citizen_auth(&account, AssuranceLevel::L1, "sms", now)?;
    session::sign_in(&session, &auth, now)
        .await
        .map_err(session_error)?;
    Ok((StatusCode::CREATED, Json(doc_of(&session, now).await?)))
}

/// Credentials for a web sign-in: a password, or an SMS code.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Credentials {
    /// Phone number or resident ID number, and password.
    Password {
        /// Phone number or resident ID number.
        login: String,
        /// Password.
        password: String,
    },
    /// Phone number and the sign-in code sent to it.
    Code {
        /// Phone number.
        phone: String,
        /// The code.
        code: String,
    },
}

/// Signs a person in (new session id, new CSRF token). Any failure is `sign_in_failed`,
/// whether the account exists or not.
#[utoipa::path(post, path = "/api/v1/session", tag = "accounts", request_body = Credentials,
    responses((status = 200, description = "Signed in", body = SessionDoc),
              (status = 401, description = "Sign-in failed", body = Problem, content_type = "application/problem+json"),
              (status = 429, description = "Too many failures", body = Problem, content_type = "application/problem+json")))]
pub async fn sign_in(
    State(state): State<Shared>,
    ClientIp(ip): ClientIp,
    session: Session,
    JsonBody(body): JsonBody<Credentials>,
) -> Result<Json<SessionDoc>, ApiError> {
    let now = Timestamp::now();
    let (signed, method) = match body {
        Credentials::Password { login, password } => (
            state
                .app
                .sign_in_with_password(&login, &SecretString::from(password), ip, now)
                .await?,
            "pwd",
        ),
        Credentials::Code { phone, code } => (
            state.app.sign_in_with_code(&phone, &code, ip, now).await?,
            "sms",
        ),
    };
    let auth = citizen_auth(&signed.account_id, signed.assurance_level, method, now)?;
    session::sign_in(&session, &auth, now)
        .await
        .map_err(session_error)?;
    Ok(Json(doc_of(&session, now).await?))
}

/// Who is signed in, and the CSRF token of this session.
#[utoipa::path(get, path = "/api/v1/session", tag = "accounts",
    responses((status = 200, description = "The session", body = SessionDoc)))]
pub async fn current(session: Session) -> Result<Json<SessionDoc>, ApiError> {
    Ok(Json(doc_of(&session, Timestamp::now()).await?))
}

/// Signs out: the session is deleted.
#[utoipa::path(delete, path = "/api/v1/session", tag = "accounts",
    responses((status = 204, description = "Signed out")))]
pub async fn sign_out(session: Session) -> Result<StatusCode, ApiError> {
    session::sign_out(&session).await.map_err(session_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in person's profile. The resident ID number and phone are masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileDoc {
    /// Account id.
    pub account_id: String,
    /// Name.
    pub name: String,
    /// Resident ID number, masked (first 6 and last 4).
    pub resident_id: String,
    /// Phone, masked (first 3 and last 4).
    pub phone: String,
    /// Assurance level.
    #[schema(value_type = String)]
    pub assurance_level: AssuranceLevel,
    /// Credit code of the organisation acted for in this sign-in.
    pub acting_for: Option<String>,
}

fn citizen(actor: &Actor) -> Result<&crate::policy::CitizenActor, ApiError> {
    match actor {
        Actor::Citizen(c) => Ok(c),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "此操作需要以个人身份登录",
            "Sign in as a person to do this",
        )),
    }
}

fn mask_phone(phone: &str) -> String {
    phone
        .chars()
        .enumerate()
        .map(|(i, c)| if (3..7).contains(&i) { '*' } else { c })
        .collect()
}

/// The signed-in person.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    responses((status = 200, description = "The profile", body = ProfileDoc),
              (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn me(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
) -> Result<Json<ProfileDoc>, ApiError> {
    let c = citizen(&actor)?;
    Ok(Json(profile(&state, c).await?))
}

/// The profile of the signed-in person `c`, personal identifiers masked.
pub(crate) async fn profile(
    state: &Shared,
    c: &crate::policy::CitizenActor,
) -> Result<ProfileDoc, ApiError> {
    let person = state
        .app
        .db
        .person_by_id(&c.account)
        .await
        .map_err(onetrip_app::AppError::from)?
        .ok_or_else(|| ApiError::from(onetrip_app::AppError::InvalidToken))?;
    let resident_id = ResidentId::parse(&person.resident_id, today_in_china())
        .map(|id| id.to_string())
        .unwrap_or_else(|_| "******************".to_owned());
    Ok(ProfileDoc {
        account_id: person.id,
        name: person.name,
        resident_id,
        phone: mask_phone(&person.phone),
        assurance_level: person.assurance_level,
        acting_for: c.acting_for.clone(),
    })
}

/// One sign-in attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignInDoc {
    /// When.
    pub at: String,
    /// Method.
    pub method: String,
    /// Whether it succeeded.
    pub succeeded: bool,
    /// From which IP address.
    pub ip: Option<String>,
}

/// The signed-in person's latest sign-ins (so they can spot one that was not them).
#[utoipa::path(get, path = "/api/v1/me/sign-ins", tag = "accounts",
    responses((status = 200, description = "Newest first", body = [SignInDoc]),
              (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json")))]
pub async fn sign_ins(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
) -> Result<Json<Vec<SignInDoc>>, ApiError> {
    let c = citizen(&actor)?;
    let rows = state
        .app
        .recent_sign_ins(&AccountId::new(c.account.clone()), 50)
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| SignInDoc {
                at: r.at.to_string(),
                method: r.method,
                succeeded: r.succeeded,
                ip: r.ip,
            })
            .collect(),
    ))
}

/// Real-name verification (实名认证, L2): the account's name and ID number are checked against
/// the population registry. A mismatch says nothing about which part was wrong.
#[utoipa::path(post, path = "/api/v1/me/real-name", tag = "accounts",
    responses((status = 200, description = "Verified: the session is at L2 or above", body = SessionDoc),
              (status = 422, description = "No match", body = Problem, content_type = "application/problem+json")))]
pub async fn real_name(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    session: Session,
) -> Result<Json<SessionDoc>, ApiError> {
    let c = citizen(&actor)?;
    let now = Timestamp::now();
    let level = state
        .app
        .verify_real_name(&AccountId::new(c.account.clone()), now)
        .await?;
    if c.via_session {
        session::raise_level(&session, level, "realname", now)
            .await
            .map_err(session_error)?;
    }
    Ok(Json(doc_of(&session, now).await?))
}

/// A face capture from the liveness SDK.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FaceCapture {
    /// The capture, base64.
    pub capture: String,
}

/// Face and liveness check (L3, after L2). A failure never says whether the face or the
/// liveness failed.
#[utoipa::path(post, path = "/api/v1/me/face-check", tag = "accounts", request_body = FaceCapture,
    responses((status = 200, description = "Verified: the session is at L3", body = SessionDoc),
              (status = 403, description = "Failed, or L2 needed first", body = Problem, content_type = "application/problem+json")))]
pub async fn face_check(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    session: Session,
    JsonBody(body): JsonBody<FaceCapture>,
) -> Result<Json<SessionDoc>, ApiError> {
    use base64::Engine;
    let c = citizen(&actor)?;
    let capture = base64::engine::general_purpose::STANDARD
        .decode(body.capture.trim())
        .map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                "capture 应为 base64 编码的图像",
                "capture must be a base64-encoded image",
            )
        })?;
    let now = Timestamp::now();
    let level = state
        .app
        .verify_face(&AccountId::new(c.account.clone()), &capture, now)
        .await?;
    if c.via_session {
        session::raise_level(&session, level, "face", now)
            .await
            .map_err(session_error)?;
    }
    Ok(Json(doc_of(&session, now).await?))
}
