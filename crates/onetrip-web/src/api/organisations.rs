//! Organisations, delegations to agents (授权代办) and acting for an organisation.
//!
//! Who may do what to which organisation is decided by the use cases with the signed-in person
//! passed in: only the legal representative grants, lists and revokes; an agent acts only for
//! the items and days of a live delegation. The switch of identity is explicit
//! (`PUT /api/v1/session/acting`) and rotates the session id.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use jiff::civil::Date;
use onetrip_app::delegations::{ActableOrganisation, DelegationView, OrganisationView};
use onetrip_domain::identity::AccountId;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Shared;
use crate::api::accounts::{CurrentActor, session_error};
use crate::api::identifiers::today_in_china;
use crate::extract::{JsonBody, Path};
use crate::policy::{Actor, CitizenActor};
use crate::problem::{ApiError, Problem};
use crate::session;

/// The organisation and delegation routes.
pub fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(grant, list))
        .routes(routes!(revoke))
        .routes(routes!(mine))
        .routes(routes!(my_organisations))
        .routes(routes!(switch_acting))
        .routes(routes!(eligibility))
}

/// The signed-in person, or 403 for anyone else.
pub(crate) fn person(actor: &Actor) -> Result<&CitizenActor, ApiError> {
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

/// An organisation to register, with the signed-in person as its legal representative.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    /// Unified social credit code.
    pub credit_code: String,
    /// Name.
    pub name: String,
    /// Kind (enterprise, social organisation, …).
    #[serde(default = "enterprise")]
    pub kind: String,
}

fn enterprise() -> String {
    "enterprise".to_owned()
}

/// Registers an organisation (法人) with the signed-in person (L2 or above) as its legal
/// representative.
#[utoipa::path(post, path = "/api/v1/organisations", tag = "accounts", request_body = NewOrganisation,
    responses((status = 201, description = "Registered", body = Object),
              (status = 403, description = "Below L2", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Every problem, by field", body = Problem, content_type = "application/problem+json")))]
pub async fn register(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    JsonBody(body): JsonBody<NewOrganisation>,
) -> Result<(StatusCode, Json<OrganisationView>), ApiError> {
    let p = person(&actor)?;
    let view = state
        .app
        .register_organisation(
            &AccountId::new(p.account.clone()),
            &body.credit_code,
            &body.name,
            &body.kind,
            Timestamp::now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A delegation to grant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDelegation {
    /// The agent's resident ID number.
    pub agent_resident_id: String,
    /// The agent's name (must match their account).
    pub agent_name: String,
    /// Item codes (实施编码); absent for every item.
    #[serde(default)]
    pub items: Option<Vec<String>>,
    /// Last day of validity, `YYYY-MM-DD`.
    #[schema(value_type = String)]
    pub valid_to: Date,
}

/// The legal representative authorises an agent (经办人) for all items or the listed ones.
#[utoipa::path(post, path = "/api/v1/organisations/{credit_code}/delegations", tag = "accounts",
    params(("credit_code" = String, Path, description = "统一社会信用代码")), request_body = NewDelegation,
    responses((status = 201, description = "Granted", body = Object),
              (status = 403, description = "Not the legal representative", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Every problem, by field", body = Problem, content_type = "application/problem+json")))]
pub async fn grant(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(credit_code): Path<String>,
    JsonBody(body): JsonBody<NewDelegation>,
) -> Result<(StatusCode, Json<DelegationView>), ApiError> {
    let p = person(&actor)?;
    let view = state
        .app
        .grant_delegation(
            &AccountId::new(p.account.clone()),
            &credit_code,
            &body.agent_resident_id,
            &body.agent_name,
            body.items,
            body.valid_to,
            today_in_china(),
            Timestamp::now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The delegations of an organisation (legal representative only).
#[utoipa::path(get, path = "/api/v1/organisations/{credit_code}/delegations", tag = "accounts",
    params(("credit_code" = String, Path, description = "统一社会信用代码")),
    responses((status = 200, description = "Newest first", body = [Object]),
              (status = 403, description = "Not the legal representative", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(credit_code): Path<String>,
) -> Result<Json<Vec<DelegationView>>, ApiError> {
    let p = person(&actor)?;
    Ok(Json(
        state
            .app
            .delegations_of_organisation(
                &AccountId::new(p.account.clone()),
                &credit_code,
                today_in_china(),
            )
            .await?,
    ))
}

/// Why a delegation is revoked.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    /// The reason, shown to the agent.
    pub reason: String,
}

/// Revokes a delegation; it stops working at once.
#[utoipa::path(post, path = "/api/v1/delegations/{id}/revocation", tag = "accounts",
    params(("id" = String, Path, description = "Delegation id")), request_body = Revocation,
    responses((status = 200, description = "Revoked", body = Object),
              (status = 403, description = "Not the legal representative", body = Problem, content_type = "application/problem+json")))]
pub async fn revoke(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Revocation>,
) -> Result<Json<DelegationView>, ApiError> {
    let p = person(&actor)?;
    Ok(Json(
        state
            .app
            .revoke_delegation(
                &AccountId::new(p.account.clone()),
                &id,
                &body.reason,
                today_in_china(),
                Timestamp::now(),
            )
            .await?,
    ))
}

/// The delegations the signed-in person holds as an agent.
#[utoipa::path(get, path = "/api/v1/me/delegations", tag = "accounts",
    responses((status = 200, description = "Newest first", body = [Object])))]
pub async fn mine(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
) -> Result<Json<Vec<DelegationView>>, ApiError> {
    let p = person(&actor)?;
    Ok(Json(
        state
            .app
            .my_delegations(&AccountId::new(p.account.clone()), today_in_china())
            .await?,
    ))
}

/// The organisations the signed-in person may act for today.
#[utoipa::path(get, path = "/api/v1/me/organisations", tag = "accounts",
    responses((status = 200, description = "As legal representative or agent", body = [Object])))]
pub async fn my_organisations(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
) -> Result<Json<Vec<ActableOrganisation>>, ApiError> {
    let p = person(&actor)?;
    Ok(Json(
        state
            .app
            .organisations_i_may_act_for(&AccountId::new(p.account.clone()), today_in_china())
            .await?,
    ))
}

/// The identity to act as.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActingSwitch {
    /// Credit code of the organisation, or null to act for oneself.
    pub organisation: Option<String>,
}

/// Whom the session acts for.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActingDoc {
    /// Credit code, or null for oneself.
    pub acting_for: Option<String>,
}

/// Switches the identity the session acts as (explicit, audited by every action it stamps; the
/// session id rotates). Allowed for the legal representative and for agents with a live
/// delegation.
#[utoipa::path(put, path = "/api/v1/session/acting", tag = "accounts", request_body = ActingSwitch,
    responses((status = 200, description = "Switched", body = ActingDoc),
              (status = 403, description = "No authority for this organisation", body = Problem, content_type = "application/problem+json")))]
pub async fn switch_acting(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    session: Session,
    JsonBody(body): JsonBody<ActingSwitch>,
) -> Result<Json<ActingDoc>, ApiError> {
    let p = person(&actor)?;
    switch_acting_for(&state, p, &session, body.organisation.as_deref()).await?;
    Ok(Json(ActingDoc {
        acting_for: body.organisation,
    }))
}

/// Switches the session of `p` to act for `organisation` (a credit code), or for oneself with
/// `None`: only in a web session, and only for an organisation the person may act for today
/// (legal representative or live delegation). The session id rotates.
pub(crate) async fn switch_acting_for(
    state: &Shared,
    p: &CitizenActor,
    session: &Session,
    organisation: Option<&str>,
) -> Result<(), ApiError> {
    if !p.via_session {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "acting_switch_needs_session",
            "切换办事身份需在网页登录状态下进行；接入系统请在授权时选择身份",
            "Switching identity needs a web session; department systems get the identity chosen at sign-in",
        ));
    }
    let now = Timestamp::now();
    if let Some(org) = organisation {
        let actable = state
            .app
            .organisations_i_may_act_for(&AccountId::new(p.account.clone()), today_in_china())
            .await?;
        if !actable.iter().any(|a| a.organisation.credit_code == org) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "acting_no_delegation",
                "您没有该单位的授权：请联系单位法定代表人在“授权代办”中为您授权",
                "You are not authorised to act for this organisation: ask its legal representative to delegate to you",
            ));
        }
    }
    if !session::act_for(session, organisation.map(str::to_owned), now)
        .await
        .map_err(session_error)?
    {
        return Err(ApiError::from(onetrip_app::AppError::InvalidToken));
    }
    Ok(())
}

/// Whether the signed-in person, as the identity they act for, may apply for an item.
#[derive(Debug, Serialize, ToSchema)]
pub struct EligibilityDoc {
    /// The item.
    pub item: String,
    /// The level the item requires.
    #[schema(value_type = String)]
    pub required_level: onetrip_domain::identity::AssuranceLevel,
    /// The level of this sign-in.
    #[schema(value_type = String)]
    pub held_level: onetrip_domain::identity::AssuranceLevel,
    /// Credit code acted for, if any.
    pub acting_for: Option<String>,
    /// `legal_representative`, `delegation` or `self`.
    pub basis: &'static str,
    /// The delegation used, if any.
    pub delegation: Option<String>,
}

/// Checks that the signed-in identity may apply for an item today: the sign-in's assurance level
/// must reach the item's minimum (else 403 `assurance_step_up_required`, listing the proofs to
/// provide), and acting for an organisation needs the legal representative or a live
/// delegation covering the item (checked against the database on every call, so a revocation
/// takes effect at once).
#[utoipa::path(get, path = "/api/v1/items/{code}/eligibility", tag = "accounts",
    params(("code" = String, Path, description = "Implementation code (实施编码)")),
    responses((status = 200, description = "May apply", body = EligibilityDoc),
              (status = 403, description = "Not covered, expired, revoked or no delegation", body = Problem, content_type = "application/problem+json")))]
pub async fn eligibility(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(code): Path<String>,
) -> Result<Json<EligibilityDoc>, ApiError> {
    let p = person(&actor)?;
    let required = state
        .app
        .item(&code)
        .await?
        .item()
        .map_err(onetrip_app::AppError::from)?
        .min_assurance_level;
    if let Err(step_up) = onetrip_domain::identity::check_assurance(p.level, required) {
        let mut e = ApiError::localized(StatusCode::FORBIDDEN, &step_up);
        e.errors
            .push(crate::problem::FieldError::new("assurance_level", &step_up));
        return Err(e);
    }
    let Some(org) = &p.acting_for else {
        return Ok(Json(EligibilityDoc {
            item: code,
            required_level: required,
            held_level: p.level,
            acting_for: None,
            basis: "self",
            delegation: None,
        }));
    };
    let acting = state
        .app
        .check_acting(
            &AccountId::new(p.account.clone()),
            org,
            &code,
            today_in_china(),
        )
        .await?;
    let (basis, delegation) = match acting.on_behalf_of.map(|o| o.basis) {
        Some(onetrip_domain::identity::ActingBasis::Delegation(id)) => {
            ("delegation", Some(id.as_str().to_owned()))
        }
        _ => ("legal_representative", None),
    };
    Ok(Json(EligibilityDoc {
        item: code,
        required_level: required,
        held_level: p.level,
        acting_for: Some(org.clone()),
        basis,
        delegation,
    }))
}
