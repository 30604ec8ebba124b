//! Material auto-resolution (一证通办) and the one-ID completion rate.
//!
//! `POST /api/v1/resolutions` answers, for an applicant and one or more items (a single item or
//! the members of a bundle in order), which materials the platform supplies and from where,
//! which must be uploaded and which are stale. A signed-in person (real-name, L2 or above)
//! resolves for themselves, or for the organisation they act for; a window clerk or department
//! staff, or the operator, names the applicant. `GET /api/v1/metrics/one-id-rate` is public.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use onetrip_app::resolution::{Applicant, ApplicationResolution, RequestedItem};
use onetrip_domain::identity::{AssuranceLevel, StaffRole};
use onetrip_domain::resolution::Tally;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Shared;
use crate::api::accounts::CurrentActor;
use crate::api::identifiers::today_in_china;
use crate::extract::JsonBody;
use crate::policy::Actor;
use crate::problem::{ApiError, Problem};

/// The resolution and metric routes.
pub fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(resolve))
        .routes(routes!(one_id_rate))
}

/// One item to resolve.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemRef {
    /// Implementation code (实施编码).
    pub item: String,
    /// Situation code; may be left out when the item has a single situation.
    #[serde(default)]
    pub situation: Option<String>,
}

/// Whom staff resolve for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicantRef {
    /// A person's resident ID number.
    #[serde(default)]
    pub resident_id: Option<String>,
    /// An organisation's unified social credit code.
    #[serde(default)]
    pub credit_code: Option<String>,
}

/// A resolution request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolutionRequest {
    /// The items, in order: results of earlier items satisfy materials of later ones.
    pub items: Vec<ItemRef>,
    /// The applicant; staff and the operator name one, a signed-in person leaves it out.
    #[serde(default)]
    pub applicant: Option<ApplicantRef>,
    /// The application or case number the data reads are made for (goes into the access log).
    #[serde(default)]
    pub case: Option<String>,
}

fn refusal(status: StatusCode, code: &'static str, zh: &str, en: &str) -> ApiError {
    ApiError::new(status, code, zh, en)
}

fn rejected(path: &str, e: &dyn onetrip_domain::Localized) -> ApiError {
    ApiError::from(onetrip_app::AppError::Rejected(vec![
        onetrip_app::FieldProblem::new(path, e),
    ]))
}

fn named_applicant(a: Option<ApplicantRef>) -> Result<Applicant, ApiError> {
    match a {
        Some(ApplicantRef {
            resident_id: Some(id),
            credit_code: None,
        }) => {
            let id = onetrip_domain::identifiers::ResidentId::parse(&id, today_in_china())
                .map_err(|e| rejected("applicant.resident_id", &e))?;
            Ok(Applicant::Person(id.expose().to_string()))
        }
        Some(ApplicantRef {
            resident_id: None,
            credit_code: Some(code),
        }) => {
            let code = onetrip_domain::identifiers::CreditCode::parse(&code)
                .map_err(|e| rejected("applicant.credit_code", &e))?;
            Ok(Applicant::Organisation(code.as_str().to_string()))
        }
        _ => Err(refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            "applicant_required",
            "请填写申请人的公民身份号码或统一社会信用代码（二选一）",
            "Name the applicant by resident ID number or by credit code (one of them).",
        )),
    }
}

/// Resolves the materials of one or more items for an applicant: for each material, resolved
/// (with its source), missing (upload needed) or stale (an expired or revoked certificate).
/// Every data read is one entry in the access log, which the data subject can see.
#[utoipa::path(post, path = "/api/v1/resolutions", tag = "data sharing", request_body = ResolutionRequest,
    responses((status = 200, description = "Per item and material", body = Object),
              (status = 403, description = "Below L2, or staff without a handling role", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Unknown item", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Unknown situation or applicant", body = Problem, content_type = "application/problem+json")))]
pub async fn resolve(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    JsonBody(body): JsonBody<ResolutionRequest>,
) -> Result<Json<ApplicationResolution>, ApiError> {
    let applicant = match &actor {
        Actor::Citizen(c) => {
            if body.applicant.is_some() {
                return Err(refusal(
                    StatusCode::FORBIDDEN,
                    "applicant_not_self",
                    "个人只能为本人或其代办的企业获取材料",
                    "A person resolves materials only for themselves or the organisation they act for.",
                ));
            }
            onetrip_domain::identity::check_assurance(c.level, AssuranceLevel::L2)
                .map_err(|e| ApiError::from(onetrip_app::AppError::refused(&e)))?;
            match &c.acting_for {
                Some(code) => Applicant::Organisation(code.clone()),
                None => {
                    let person = state
                        .app
                        .db
                        .person_by_id(&c.account)
                        .await
                        .map_err(onetrip_app::AppError::from)?
                        .ok_or_else(|| ApiError::from(onetrip_app::AppError::InvalidToken))?;
                    Applicant::Person(person.resident_id)
                }
            }
        }
        Actor::Staff(s)
            if s.holds(StaffRole::WindowClerk)
                || s.holds(StaffRole::DepartmentOfficer)
                || s.holds(StaffRole::DepartmentHead) =>
        {
            named_applicant(body.applicant)?
        }
        Actor::Operator => named_applicant(body.applicant)?,
        _ => {
            return Err(refusal(
                StatusCode::FORBIDDEN,
                "resolution_not_permitted",
                "只有申请人本人、窗口人员或部门经办人员可以获取申请材料",
                "Only the applicant, window clerks and department staff resolve materials.",
            ));
        }
    };
    let items: Vec<RequestedItem> = body
        .items
        .into_iter()
        .map(|i| RequestedItem {
            item: i.item,
            situation: i.situation,
        })
        .collect();
    Ok(Json(
        state
            .app
            .resolve_materials(
                &applicant,
                &items,
                body.case.as_deref(),
                jiff::Timestamp::now(),
            )
            .await?,
    ))
}

/// One row of the one-ID completion rate.
#[derive(Debug, Serialize, ToSchema)]
pub struct RateRow {
    /// Division code or department credit code.
    pub code: String,
    /// Its name, when the catalog knows it.
    pub name: Option<String>,
    /// Items counted.
    pub items: u32,
    /// Items whose every situation is one-ID complete.
    pub items_complete: u32,
    /// Share of items complete.
    pub items_rate: f64,
    /// Situations counted.
    pub situations: u32,
    /// Situations whose every required material resolves from the ID number alone.
    pub situations_complete: u32,
    /// Share of situations complete.
    pub situations_rate: f64,
}

/// The one-ID completion rate (一证通办率).
#[derive(Debug, Serialize, ToSchema)]
pub struct OneIdRateDoc {
    /// Share of items whose every situation resolves from the ID number alone.
    pub items: f64,
    /// Share of situations whose every required material resolves from the ID number alone.
    pub situations: f64,
    /// Counts behind the two ratios.
    pub counts: RateCounts,
    /// Per division.
    pub by_division: Vec<RateRow>,
    /// Per department.
    pub by_department: Vec<RateRow>,
}

/// Counts behind the overall ratios.
#[derive(Debug, Serialize, ToSchema)]
pub struct RateCounts {
    /// Items counted.
    pub items: u32,
    /// Items complete.
    pub items_complete: u32,
    /// Situations counted.
    pub situations: u32,
    /// Situations complete.
    pub situations_complete: u32,
}

fn row(code: String, name: Option<String>, t: &Tally) -> RateRow {
    RateRow {
        code,
        name,
        items: t.items,
        items_complete: t.items_complete,
        items_rate: t.item_rate(),
        situations: t.situations,
        situations_complete: t.situations_complete,
        situations_rate: t.situation_rate(),
    }
}

/// The share of items and situations whose required materials all resolve from the ID number
/// alone — from electronic certificates, shared data the item is granted, or other items'
/// results — overall, per division and per department.
#[utoipa::path(get, path = "/api/v1/metrics/one-id-rate", tag = "data sharing",
    responses((status = 200, description = "Ratios between 0 and 1", body = OneIdRateDoc)))]
pub async fn one_id_rate(State(state): State<Shared>) -> Result<Json<OneIdRateDoc>, ApiError> {
    let rate = state.app.one_id_rate(jiff::Timestamp::now()).await?;
    let divisions = state
        .app
        .db
        .divisions()
        .await
        .map_err(onetrip_app::AppError::from)?;
    let departments = state
        .app
        .db
        .departments(None)
        .await
        .map_err(onetrip_app::AppError::from)?;
    let division_name = |code: &str| {
        divisions
            .iter()
            .find(|d| d.code == code)
            .map(|d| d.name.clone())
    };
    let department_name = |code: &str| {
        departments
            .iter()
            .find(|d| d.code == code)
            .map(|d| d.name.clone())
    };
    Ok(Json(OneIdRateDoc {
        items: rate.total.item_rate(),
        situations: rate.total.situation_rate(),
        counts: RateCounts {
            items: rate.total.items,
            items_complete: rate.total.items_complete,
            situations: rate.total.situations,
            situations_complete: rate.total.situations_complete,
        },
        by_division: rate
            .by_division
            .iter()
            .map(|(c, t)| row(c.clone(), division_name(c), t))
            .collect(),
        by_department: rate
            .by_department
            .iter()
            .map(|(c, t)| row(c.clone(), department_name(c), t))
            .collect(),
    }))
}
