//! Electronic certificates (电子证照): types, issuing and revocation by the issuing department,
//! the signed-in holder's certificates, export and presentation (亮证), public verification of
//! exports (`POST /api/v1/certificates/verify`) and of presentations (the `GET /verify/{token}`
//! page), and seal key rotation.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;
use onetrip_app::certificates::{
    CertificateActor, CertificateExport, CertificateView, ExportVerification, IssueRequest,
    Presentation,
};
use onetrip_domain::certificate::{CertificateType, HolderKind};
use onetrip_domain::identity::AccountId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Shared;
use crate::api::IdempotencyKey;
use crate::api::accounts::CurrentActor;
use crate::extract::{JsonBody, Path};
use crate::policy::Actor;
use crate::problem::{ApiError, Problem};

/// The certificate API routes.
pub fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(types))
        .routes(routes!(issue))
        .routes(routes!(revoke))
        .routes(routes!(verify_export))
        .routes(routes!(mine))
        .routes(routes!(export))
        .routes(routes!(present))
        .routes(routes!(rotate_seal))
        .routes(routes!(seal_keys))
        .routes(routes!(verify_page))
}

fn issuer(actor: &Actor) -> Result<CertificateActor, ApiError> {
    match actor {
        Actor::Operator => Ok(CertificateActor::System),
        Actor::Staff(s) => Ok(CertificateActor::Staff(AccountId::new(s.id.clone()))),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "只有发证部门的工作人员可以颁发或注销证照",
            "Only staff of the issuing department may issue or revoke certificates",
        )),
    }
}

/// The holder the signed-in person acts as: the organisation after an explicit switch, else
/// the person (by resident ID number).
pub(crate) async fn holder(
    state: &Shared,
    actor: &Actor,
) -> Result<(HolderKind, String), ApiError> {
    match actor {
        Actor::Citizen(c) => match &c.acting_for {
            Some(org) => Ok((HolderKind::Organisation, org.clone())),
            None => Ok((
                HolderKind::Person,
                state.app.holder_of_account(&c.account).await?,
            )),
        },
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "此操作需要以个人身份登录",
            "Sign in as a person to do this",
        )),
    }
}

/// Every certificate type (证照类型) with its fields and validity rule.
#[utoipa::path(get, path = "/api/v1/certificate-types", tag = "certificates",
    responses((status = 200, description = "Certificate types", body = Object)))]
pub async fn types(State(state): State<Shared>) -> Result<Json<Vec<CertificateType>>, ApiError> {
    Ok(Json(state.app.certificate_types().await?))
}

/// A certificate to issue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCertificate {
    /// Certificate type code (`ID_CARD`…).
    pub certificate_type: String,
    /// `person` or `organisation`.
    #[schema(value_type = String)]
    pub holder_kind: HolderKind,
    /// Resident ID number or credit code of the holder.
    pub holder_id: String,
    /// Content: the type's fields.
    #[schema(value_type = Object)]
    pub content: serde_json::Map<String, serde_json::Value>,
    /// Issue date `YYYY-MM-DD` (default today).
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub issued_on: Option<jiff::civil::Date>,
}

/// Issues a certificate sealed by the issuing department (the operator's token, or an officer
/// or head of the type's issuing department).
#[utoipa::path(post, path = "/api/v1/certificates", tag = "certificates", request_body = NewCertificate,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key: a repeat answers with the certificate the first request issued")),
    responses((status = 201, description = "Issued", body = Object),
              (status = 403, description = "Not staff of the issuing department", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Every problem, by field", body = Problem, content_type = "application/problem+json")),
    security(("admin_token" = [])))]
pub async fn issue(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    key: IdempotencyKey,
    JsonBody(body): JsonBody<NewCertificate>,
) -> Result<(StatusCode, Json<CertificateView>), ApiError> {
    let actor = issuer(&actor)?;
    let view = state
        .app
        .issue_certificate(
            &actor,
            IssueRequest {
                certificate_type: body.certificate_type,
                holder_kind: body.holder_kind,
                holder_id: body.holder_id,
                content: body.content,
                issued_on: body.issued_on,
            },
            key.as_deref(),
            Timestamp::now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A revocation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    /// Why (1–200 characters).
    pub reason: String,
}

/// Revokes a certificate (注销); verification answers `revoked` at once.
#[utoipa::path(post, path = "/api/v1/certificates/{id}/revocation", tag = "certificates",
    params(("id" = String, Path, description = "GB/T 36904 identifier")), request_body = Revocation,
    responses((status = 200, description = "Revoked", body = Object),
              (status = 403, description = "Not staff of the issuing department", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such certificate", body = Problem, content_type = "application/problem+json")),
    security(("admin_token" = [])))]
pub async fn revoke(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Revocation>,
) -> Result<Json<CertificateView>, ApiError> {
    let actor = issuer(&actor)?;
    Ok(Json(
        state
            .app
            .revoke_certificate(&actor, &id, &body.reason, Timestamp::now())
            .await?,
    ))
}

/// The answer of `POST /api/v1/certificates/verify`.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyAnswer {
    /// Whether the seal verifies against the issuer's registered key and the certificate is on
    /// record.
    pub authentic: bool,
    /// `valid`, `expired` or `revoked` (live).
    pub status: String,
    /// The issuer (`credit_code`, `name`).
    #[schema(value_type = Object)]
    pub issuer: serde_json::Value,
    /// The content fields (when authentic, else `null`).
    #[schema(value_type = Object)]
    pub fields: serde_json::Value,
    /// The certificate identifier, as the document says.
    #[schema(value_type = Object)]
    pub certificate_id: serde_json::Value,
    /// Revocation reason, if revoked.
    pub revocation_reason: Option<String>,
    /// Why it is not authentic (`bad_signature`, `unknown_key`, `key_mismatch`…).
    pub reason: Option<String>,
}

impl From<ExportVerification> for VerifyAnswer {
    fn from(v: ExportVerification) -> Self {
        VerifyAnswer {
            authentic: v.authentic,
            status: v.status.as_str().to_owned(),
            issuer: v.issuer,
            fields: v.fields,
            certificate_id: v.certificate_id,
            revocation_reason: v.revocation_reason,
            reason: v.reason.map(str::to_owned),
        }
    }
}

/// Verifies an exported certificate (no sign-in). The body is the JSON that
/// `GET /api/v1/me/certificates/{id}/export` gives.
#[utoipa::path(post, path = "/api/v1/certificates/verify", tag = "certificates", request_body = Object,
    responses((status = 200, description = "Verification result", body = VerifyAnswer),
              (status = 400, description = "Not an exported certificate", body = Problem, content_type = "application/problem+json")))]
pub async fn verify_export(
    State(state): State<Shared>,
    JsonBody(body): JsonBody<CertificateExport>,
) -> Result<Json<VerifyAnswer>, ApiError> {
    let answer = state
        .app
        .verify_certificate_export(&body, Timestamp::now())
        .await?;
    Ok(Json(answer.into()))
}

/// The signed-in holder's certificates (a person's own, or the organisation acted for).
#[utoipa::path(get, path = "/api/v1/me/certificates", tag = "certificates",
    responses((status = 200, description = "Certificates, newest first", body = Object)))]
pub async fn mine(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
) -> Result<Json<Vec<CertificateView>>, ApiError> {
    let (kind, id) = holder(&state, &actor).await?;
    Ok(Json(
        state
            .app
            .certificates_of_holder(kind, &id, Timestamp::now())
            .await?,
    ))
}

/// Exports one of the holder's certificates for third parties (signed document, DER
/// signature in base64, the issuer's public key PEM).
#[utoipa::path(get, path = "/api/v1/me/certificates/{id}/export", tag = "certificates",
    params(("id" = String, Path, description = "GB/T 36904 identifier")),
    responses((status = 200, description = "The export", body = Object),
              (status = 403, description = "Not the holder", body = Problem, content_type = "application/problem+json")))]
pub async fn export(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Result<Json<CertificateExport>, ApiError> {
    let (kind, holder_id) = holder(&state, &actor).await?;
    Ok(Json(
        state
            .app
            .export_certificate(&id, (kind, &holder_id))
            .await?,
    ))
}

/// What to disclose in a presentation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPresentation {
    /// Field keys to show.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Predicates to show, e.g. `age_at_least:18`.
    #[serde(default)]
    pub predicates: Vec<String>,
    /// Lifetime in seconds (default 300, 30–1800).
    #[serde(default)]
    pub lifetime_seconds: Option<u32>,
}

/// Makes a presentation (亮证): a short-lived signed token with a QR code of its public
/// verification URL, disclosing only the chosen fields and predicates.
#[utoipa::path(post, path = "/api/v1/me/certificates/{id}/presentations", tag = "certificates",
    params(("id" = String, Path, description = "GB/T 36904 identifier")), request_body = NewPresentation,
    responses((status = 201, description = "Token, URL, QR code (SVG), expiry", body = Object),
              (status = 403, description = "Not the holder", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Bad disclosure", body = Problem, content_type = "application/problem+json")))]
pub async fn present(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NewPresentation>,
) -> Result<(StatusCode, Json<Presentation>), ApiError> {
    let (kind, holder_id) = holder(&state, &actor).await?;
    let p = state
        .app
        .present_certificate(
            &id,
            (kind, &holder_id),
            &body.fields,
            &body.predicates,
            body.lifetime_seconds,
            Timestamp::now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(p)))
}

/// A rotated seal.
#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedSeal {
    /// The new key id.
    pub key_id: String,
}

/// Rotates a department's seal key (or `PLATFORM`, the presentation key): the old key is
/// retired and stays registered, so what it sealed stays verifiable.
#[utoipa::path(post, path = "/api/v1/seals/{department}/rotation", tag = "certificates",
    params(("department" = String, Path, description = "Department credit code or PLATFORM")),
    responses((status = 201, description = "Rotated", body = RotatedSeal),
              (status = 404, description = "No such department", body = Problem, content_type = "application/problem+json")),
    security(("admin_token" = [])))]
pub async fn rotate_seal(
    State(state): State<Shared>,
    Path(department): Path<String>,
) -> Result<(StatusCode, Json<RotatedSeal>), ApiError> {
    let key_id = state.app.rotate_seal(&department, Timestamp::now()).await?;
    Ok((StatusCode::CREATED, Json(RotatedSeal { key_id })))
}

/// One registered seal key (public part).
#[derive(Debug, Serialize, ToSchema)]
pub struct SealKeyInfo {
    /// Key id.
    pub id: String,
    /// SubjectPublicKeyInfo PEM.
    pub public_key_pem: String,
    /// When it was made.
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    /// When it was retired (`null`: active).
    #[schema(value_type = Option<String>)]
    pub retired_at: Option<Timestamp>,
}

/// The registered seal keys of a department (public keys, active and retired), for third
/// parties who pin issuers' keys.
#[utoipa::path(get, path = "/api/v1/seals/{department}/keys", tag = "certificates",
    params(("department" = String, Path, description = "Department credit code or PLATFORM")),
    responses((status = 200, description = "Keys, oldest first", body = [SealKeyInfo])))]
pub async fn seal_keys(
    State(state): State<Shared>,
    Path(department): Path<String>,
) -> Result<Json<Vec<SealKeyInfo>>, ApiError> {
    let keys = state.app.seal_keys(&department).await?;
    Ok(Json(
        keys.into_iter()
            .map(|k| SealKeyInfo {
                id: k.id,
                public_key_pem: k.public_key_pem,
                created_at: k.created_at,
                retired_at: k.retired_at,
            })
            .collect(),
    ))
}

/// The public verification page of a presentation (the URL in the QR code): authenticity,
/// live status, issuer and only the disclosed fields. HTML, no sign-in, no JavaScript;
/// Chinese by default, English with `?lang=en`. Rendered by [`crate::pages::account::verify`].
#[utoipa::path(get, path = "/verify/{token}", tag = "certificates",
    params(("token" = String, Path, description = "Presentation token")),
    responses((status = 200, description = "The verification page (also for expired or tampered tokens)", body = String, content_type = "text/html")))]
pub async fn verify_page(
    State(state): State<Shared>,
    page: crate::pages::Page,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Response {
    crate::pages::account::verify(&state, page, &token).await
}
