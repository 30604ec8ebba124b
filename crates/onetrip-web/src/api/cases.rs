//! Bundles, applications and cases (一件事 + 办件) over `/api/v1`: the bundle catalog with its
//! reduction figures, the questionnaire with the prefilled form, drafts, one submission with an
//! `Idempotency-Key`, case actions, department queues, the timeline, event-chain verification,
//! supervision orders, statistics and webhooks.
//!
//! Route permissions are in [`crate::policy::ROUTES`] (`CaseWork` for most: the use cases
//! decide which applicant, clerk, officer, supervisor or department system may do what).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::Timestamp;
use jiff::civil::Date;
use onetrip_app::bundles::{BundleView, Prepared, PreparedItem};
use onetrip_app::cases::{
    Agent, ApplicantFacts, ApplicationInput, ApplicationTarget, ApplyChannel, CaseActor,
    CaseCommand, CaseView, FileRef, Submitted, TimelineEntry, WindowIntake,
};
use onetrip_app::resolution::Applicant;
use onetrip_app::supervision::{DepartmentStatistics, ScanReport};
use onetrip_domain::bundle::{Bundle, Reduction};
use onetrip_domain::form::FormValues;
use onetrip_domain::identity::{AccountId, AssuranceLevel, StaffRole};
use onetrip_domain::sso::Scope;
use onetrip_store::{BundleSummary, CaseRow, QueueFilter, SupervisionRow, WebhookRow};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Shared;
use crate::api::IdempotencyKey;
use crate::api::accounts::CurrentActor;
use crate::api::identifiers::today_in_china;
use crate::extract::{JsonBody, Path, Query};
use crate::policy::Actor;
use crate::problem::{ApiError, Problem};

/// The routes of this module.
pub fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(list_bundles))
        .routes(routes!(get_bundle, put_bundle))
        .routes(routes!(bundle_reduction))
        .routes(routes!(questionnaire))
        .routes(routes!(item_form))
        .routes(routes!(create_draft))
        .routes(routes!(update_draft))
        .routes(routes!(submit))
        .routes(routes!(get_application))
        .routes(routes!(my_applications))
        .routes(routes!(timeline))
        .routes(routes!(get_case))
        .routes(routes!(case_action))
        .routes(routes!(case_events))
        .routes(routes!(verify_case))
        .routes(routes!(verify_all))
        .routes(routes!(department_queue))
        .routes(routes!(issue_order))
        .routes(routes!(department_orders))
        .routes(routes!(answer_order))
        .routes(routes!(statistics))
        .routes(routes!(at_risk))
        .routes(routes!(run_scanner))
        .routes(routes!(add_webhook, list_webhooks))
}

fn forbidden() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "您的账号无权进行此操作",
        "Your account may not do this",
    )
}

/// The case actor a request acts as.
pub(crate) async fn case_actor(state: &Shared, actor: &Actor) -> Result<CaseActor, ApiError> {
    match actor {
        Actor::Operator => Ok(CaseActor::System),
        Actor::Citizen(c) => {
            let subject = match &c.acting_for {
                Some(code) => Some(code.clone()),
                None => state
                    .app
                    .db
                    .person_by_id(&c.account)
                    .await
                    .map_err(onetrip_app::AppError::from)?
                    .map(|p| p.resident_id),
            };
            Ok(CaseActor::Applicant {
                account: AccountId::new(c.account.clone()),
                subject,
            })
        }
        Actor::Staff(s) => Ok(CaseActor::Staff {
            id: AccountId::new(s.id.clone()),
            roles: s
                .roles
                .iter()
                .filter(|g| !g.role.requires_totp() || s.totp_verified)
                .cloned()
                .collect(),
        }),
        Actor::Client(c) if c.scopes.contains(Scope::Api) => {
            let client = state
                .app
                .db
                .client(&c.client_id)
                .await
                .map_err(onetrip_app::AppError::from)?;
            match client.and_then(|c| c.department_code) {
                Some(department) => Ok(CaseActor::DepartmentSystem {
                    client_id: c.client_id.clone(),
                    department,
                }),
                None => Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "client_without_department",
                    "该接入系统未登记所属部门，不能处理办件",
                    "This client is not registered for a department, so it cannot work on cases.",
                )),
            }
        }
        _ => Err(forbidden()),
    }
}

/// The applicant a signed-in person applies as: themselves, or the organisation they act for.
pub(crate) async fn citizen_applicant(
    state: &Shared,
    actor: &Actor,
) -> Result<ApplicantFacts, ApiError> {
    let Actor::Citizen(c) = actor else {
        return Err(forbidden());
    };
    onetrip_domain::identity::check_assurance(c.level, AssuranceLevel::L2)
        .map_err(|e| ApiError::from(onetrip_app::AppError::refused(&e)))?;
    let account = AccountId::new(c.account.clone());
    match &c.acting_for {
        Some(code) => {
            let org = state
                .app
                .db
                .organisation(code)
                .await
                .map_err(onetrip_app::AppError::from)?
                .ok_or_else(forbidden)?;
            Ok(ApplicantFacts {
                applicant: Applicant::Organisation(code.clone()),
                name: org.name,
                account: Some(account),
            })
        }
        None => {
            let person = state
                .app
                .db
                .person_by_id(&c.account)
                .await
                .map_err(onetrip_app::AppError::from)?
                .ok_or_else(|| ApiError::from(onetrip_app::AppError::InvalidToken))?;
            Ok(ApplicantFacts {
                applicant: Applicant::Person(person.resident_id),
                name: person.name,
                account: Some(account),
            })
        }
    }
}

/// A walk-in applicant named by a window clerk, after checking the identity in person.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WalkIn {
    /// Resident ID number read from the ID card.
    pub resident_id: String,
    /// Name on the ID card.
    pub name: String,
    /// The clerk checked the ID card against the person (in-person verification, L3).
    pub identity_verified: bool,
    /// The applicant's signature (a reference to the signed image or pad record).
    pub signature: String,
    /// For an organisation: its unified social credit code. The person named above came for
    /// it (经办人) and must be its legal representative or authorised in writing.
    #[serde(default)]
    pub credit_code: Option<String>,
    /// The organisation's written authorisation (授权委托书) of that person was received.
    #[serde(default)]
    pub authorisation_received: bool,
}

async fn walk_in_applicant(
    state: &Shared,
    w: &WalkIn,
) -> Result<(ApplicantFacts, Option<Agent>), ApiError> {
    if !w.identity_verified || w.signature.trim().is_empty() || w.name.trim().is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "walk_in_identity_required",
            "窗口代办须当面核验申请人身份证件，并由申请人签名确认",
            "A walk-in application needs the applicant's ID checked in person and their signature.",
        ));
    }
    match w
        .credit_code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(code) => {
            let (facts, agent) = walk_in_organisation(
                state,
                code,
                &w.resident_id,
                &w.name,
                w.authorisation_received,
            )
            .await?;
            Ok((facts, Some(agent)))
        }
        None => Ok((walk_in_facts(state, &w.resident_id, &w.name).await?, None)),
    }
}

/// The organisation a walk-in applies for and the person who came for it (经办人): the credit
/// code checked with the GB 32100 rule and found in business in the legal-person registry (a
/// problem at `walk_in.credit_code` otherwise); the person's resident ID checked; the person
/// its legal representative, or authorised in writing with the letter received at the window
/// (a problem at `walk_in.authorisation_received` otherwise). The application belongs to the
/// organisation: whoever acts for it sees it.
pub(crate) async fn walk_in_organisation(
    state: &Shared,
    credit_code: &str,
    resident_id: &str,
    name: &str,
    authorisation_received: bool,
) -> Result<(ApplicantFacts, Agent), ApiError> {
    let rejected = |path: &str, code: &'static str, zh: &str, en: &str| {
        ApiError::from(onetrip_app::AppError::Rejected(vec![
            onetrip_app::FieldProblem {
                path: path.to_string(),
                code,
                message_zh: zh.to_string(),
                message_en: en.to_string(),
            },
        ]))
    };
    let code = onetrip_domain::identifiers::CreditCode::parse(credit_code).map_err(|e| {
        ApiError::from(onetrip_app::AppError::Rejected(vec![
            onetrip_app::FieldProblem::new("walk_in.credit_code", &e),
        ]))
    })?;
    let person = walk_in_facts(state, resident_id, name).await?;
    let organisation = state
        .app
        .db
        .legal_person(code.as_str())
        .await
        .map_err(onetrip_app::AppError::from)?
        .ok_or_else(|| {
            rejected(
                "walk_in.credit_code",
                "walk_in_organisation_unknown",
                "法人综合库中没有该统一社会信用代码的单位，请核对营业执照",
                "The legal-person registry has no organisation with this credit code; check the business licence.",
            )
        })?;
    if organisation.status != onetrip_domain::registry::LegalPersonStatus::Active {
        return Err(rejected(
            "walk_in.credit_code",
            "walk_in_organisation_inactive",
            "该单位已吊销或注销，不能以其名义申请",
            "The organisation's licence is revoked or it is deregistered, so nobody applies in its name.",
        ));
    }
    let legal_representative =
        organisation.legal_representative_resident_id == person.applicant.subject();
    if !legal_representative && !authorisation_received {
        return Err(rejected(
            "walk_in.authorisation_received",
            "walk_in_authorisation_required",
            "经办人不是该单位的法定代表人，须收取单位出具的授权委托书",
            "The person at the window is not the organisation's legal representative: receive the organisation's letter of authorisation.",
        ));
    }
    let agent = Agent {
        resident_id: person.applicant.subject().to_string(),
        name: person.name,
        legal_representative,
    };
    let facts = ApplicantFacts {
        applicant: Applicant::Organisation(code.as_str().to_string()),
        name: organisation.name,
        account: None,
    };
    Ok((facts, agent))
}

/// The applicant facts of a walk-in person named by their resident ID (checked with the
/// GB 11643 rule; a problem at `walk_in.resident_id` otherwise) and the name on their ID card:
/// their citizen account, when they have one, owns the application too.
pub(crate) async fn walk_in_facts(
    state: &Shared,
    resident_id: &str,
    name: &str,
) -> Result<ApplicantFacts, ApiError> {
    let id = onetrip_domain::identifiers::ResidentId::parse(resident_id, today_in_china())
        .map_err(|e| {
            ApiError::from(onetrip_app::AppError::Rejected(vec![
                onetrip_app::FieldProblem::new("walk_in.resident_id", &e),
            ]))
        })?;
    let resident_id = id.expose().to_string();
    let account = state
        .app
        .db
        .person_by_resident_id(&resident_id)
        .await
        .map_err(onetrip_app::AppError::from)?
        .map(|p| AccountId::new(p.id));
    Ok(ApplicantFacts {
        applicant: Applicant::Person(resident_id),
        name: name.trim().to_string(),
        account,
    })
}

/// Lists the bundles (published: no sign-in).
#[utoipa::path(get, path = "/api/v1/bundles", tag = "bundles",
    responses((status = 200, description = "Bundles, by code", body = [Object])))]
pub async fn list_bundles(
    State(state): State<Shared>,
) -> Result<Json<Vec<BundleSummaryView>>, ApiError> {
    Ok(Json(
        state
            .app
            .bundles()
            .await?
            .into_iter()
            .map(BundleSummaryView::from)
            .collect(),
    ))
}

/// A bundle in the list.
#[derive(Debug, Serialize, ToSchema)]
pub struct BundleSummaryView {
    code: String,
    name: String,
    category: String,
    lead_department: String,
    division_code: String,
    status: String,
    version: i64,
}

impl From<BundleSummary> for BundleSummaryView {
    fn from(b: BundleSummary) -> Self {
        BundleSummaryView {
            code: b.code,
            name: b.name,
            category: b.category,
            lead_department: b.lead_department,
            division_code: b.division_code,
            status: b.status,
            version: b.current_version,
        }
    }
}

/// One bundle: its definition, member names and reduction figures (published).
#[utoipa::path(get, path = "/api/v1/bundles/{code}", tag = "bundles",
    params(("code" = String, Path, description = "Bundle code, e.g. ZJ-BIRTH")),
    responses((status = 200, description = "The bundle", body = Object),
              (status = 404, description = "No such bundle", body = Problem, content_type = "application/problem+json")))]
pub async fn get_bundle(
    State(state): State<Shared>,
    Path(code): Path<String>,
) -> Result<Json<BundleView>, ApiError> {
    Ok(Json(state.app.bundle_view(&code).await?))
}

/// Publishes a bundle (catalog administrators): every problem is listed at once.
#[utoipa::path(put, path = "/api/v1/bundles/{code}", tag = "bundles",
    security(("admin_token" = [])),
    params(("code" = String, Path, description = "Bundle code")), request_body = Object,
    responses((status = 200, description = "Published", body = Object),
              (status = 422, description = "Every problem of the definition", body = Problem, content_type = "application/problem+json")))]
pub async fn put_bundle(
    State(state): State<Shared>,
    Path(code): Path<String>,
    JsonBody(bundle): JsonBody<Bundle>,
) -> Result<Json<Value>, ApiError> {
    if bundle.code != code {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "code_mismatch",
            "请求体中的一件事编码与地址中的不一致",
            "The bundle code in the body differs from the one in the address",
        ));
    }
    let (version, changed) = state.app.publish_bundle(&bundle, Timestamp::now()).await?;
    Ok(Json(
        serde_json::json!({ "code": code, "version": version, "changed": changed }),
    ))
}

/// The reduction figures (减次数、减材料、减时间、减环节) of a bundle (published).
#[utoipa::path(get, path = "/api/v1/bundles/{code}/reduction", tag = "bundles",
    params(("code" = String, Path, description = "Bundle code")),
    responses((status = 200, description = "Before and after", body = Object),
              (status = 404, description = "No such bundle", body = Problem, content_type = "application/problem+json")))]
pub async fn bundle_reduction(
    State(state): State<Shared>,
    Path(code): Path<String>,
) -> Result<Json<Reduction>, ApiError> {
    Ok(Json(state.app.bundle_reduction(&code).await?))
}

/// Questionnaire answers.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionnaireRequest {
    #[schema(value_type = Object)]
    answers: FormValues,
}

/// Answers the questionnaire (情形引导): what applies, the merged materials and the unified
/// form prefilled for the signed-in applicant (L2 or above).
#[utoipa::path(post, path = "/api/v1/bundles/{code}/questionnaire", tag = "bundles",
    params(("code" = String, Path, description = "Bundle code")), request_body = QuestionnaireRequest,
    responses((status = 200, description = "Selection, form and prefill", body = Object),
              (status = 422, description = "Every problem with the answers", body = Problem, content_type = "application/problem+json")))]
pub async fn questionnaire(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(code): Path<String>,
    JsonBody(body): JsonBody<QuestionnaireRequest>,
) -> Result<Json<Prepared>, ApiError> {
    let applicant = citizen_applicant(&state, &actor).await?;
    Ok(Json(
        state
            .app
            .prepare_bundle(&code, &applicant, &body.answers, Timestamp::now())
            .await?,
    ))
}

/// The item's own form prefilled for the signed-in applicant (L2 or above), for an
/// application for the item alone (`{"kind": "item", …}`). `form` is `null` when the item asks
/// for nothing beyond its materials; the application's `form` must then be empty.
#[utoipa::path(get, path = "/api/v1/items/{code}/form", tag = "bundles",
    params(("code" = String, Path, description = "Implementation code of the item")),
    responses((status = 200, description = "Form and prefill", body = Object),
              (status = 404, description = "No such item", body = Problem, content_type = "application/problem+json")))]
pub async fn item_form(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(code): Path<String>,
) -> Result<Json<PreparedItem>, ApiError> {
    let applicant = citizen_applicant(&state, &actor).await?;
    Ok(Json(
        state
            .app
            .prepare_item(&code, &applicant, Timestamp::now())
            .await?,
    ))
}

/// An application as submitted (or saved as a draft).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationRequest {
    /// The draft this submission completes.
    #[serde(default)]
    draft: Option<String>,
    /// `{"kind": "bundle", "code": "ZJ-BIRTH"}` or `{"kind": "item", "code": "…", "situation": "S01"}`.
    #[schema(value_type = Object)]
    target: ApplicationTarget,
    #[serde(default)]
    #[schema(value_type = Object)]
    answers: FormValues,
    #[serde(default)]
    #[schema(value_type = Object)]
    form: FormValues,
    #[serde(default)]
    #[schema(value_type = Object)]
    uploads: BTreeMap<String, FileRef>,
    /// `web` (default), `mobile`, `kiosk` or `api`; a window clerk's submission is `window`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    channel: Option<ApplyChannel>,
    /// A window clerk applying for a walk-in applicant.
    #[serde(default)]
    walk_in: Option<WalkIn>,
}

impl ApplicationRequest {
    fn input(&self) -> ApplicationInput {
        ApplicationInput {
            target: self.target.clone(),
            answers: self.answers.clone(),
            form: self.form.clone(),
            uploads: self.uploads.clone(),
        }
    }
}

/// Saves a new draft (resumable on any device of the same account).
#[utoipa::path(post, path = "/api/v1/applications/drafts", tag = "applications", request_body = ApplicationRequest,
    responses((status = 201, description = "The draft id", body = Object),
              (status = 422, description = "Malformed values", body = Problem, content_type = "application/problem+json")))]
pub async fn create_draft(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    JsonBody(body): JsonBody<ApplicationRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let applicant = citizen_applicant(&state, &actor).await?;
    let id = state
        .app
        .save_draft(
            &applicant,
            None,
            &body.input(),
            body.channel.unwrap_or(ApplyChannel::Web),
            Timestamp::now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": id }))))
}

/// Replaces a draft.
#[utoipa::path(put, path = "/api/v1/applications/drafts/{id}", tag = "applications",
    params(("id" = String, Path, description = "Draft id")), request_body = ApplicationRequest,
    responses((status = 200, description = "Saved", body = Object),
              (status = 409, description = "Already submitted", body = Problem, content_type = "application/problem+json")))]
pub async fn update_draft(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ApplicationRequest>,
) -> Result<Json<Value>, ApiError> {
    let applicant = citizen_applicant(&state, &actor).await?;
    let id = state
        .app
        .save_draft(
            &applicant,
            Some(&id),
            &body.input(),
            body.channel.unwrap_or(ApplyChannel::Web),
            Timestamp::now(),
        )
        .await?;
    Ok(Json(serde_json::json!({ "id": id })))
}

/// Submits an application once (`Idempotency-Key` recommended): one case per member item.
/// A signed-in person applies for themselves or the organisation they act for; a window clerk
/// applies for a walk-in applicant (`walk_in`), the channel then being `window`.
#[utoipa::path(post, path = "/api/v1/applications", tag = "applications", request_body = ApplicationRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe submission key")),
    responses((status = 201, description = "The application and its case numbers", body = Object),
              (status = 409, description = "Already submitted, or the key was used for another request", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Every problem: answers, form fields, missing materials", body = Problem, content_type = "application/problem+json")))]
pub async fn submit(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    key: IdempotencyKey,
    JsonBody(body): JsonBody<ApplicationRequest>,
) -> Result<(StatusCode, Json<Submitted>), ApiError> {
    let now = Timestamp::now();
    let submitted = match (&actor, &body.walk_in) {
        (Actor::Staff(s), Some(walk_in)) if s.holds(StaffRole::WindowClerk) => {
            let (applicant, agent) = walk_in_applicant(&state, walk_in).await?;
            let clerk = case_actor(&state, &actor).await?;
            state
                .app
                .submit_application(
                    &applicant,
                    None,
                    &body.input(),
                    ApplyChannel::Window,
                    Some(&WindowIntake {
                        clerk,
                        signature: walk_in.signature.trim().to_string(),
                        agent,
                    }),
                    key.as_deref(),
                    now,
                )
                .await?
        }
        (Actor::Citizen(_), None) => {
            let applicant = citizen_applicant(&state, &actor).await?;
            let channel = match body.channel {
                Some(ApplyChannel::Window) | None => ApplyChannel::Web,
                Some(c) => c,
            };
            state
                .app
                .submit_application(
                    &applicant,
                    body.draft.as_deref(),
                    &body.input(),
                    channel,
                    None,
                    key.as_deref(),
                    now,
                )
                .await?
        }
        _ => return Err(forbidden()),
    };
    Ok((StatusCode::CREATED, Json(submitted)))
}

/// An application with its cases.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationView {
    id: String,
    state: String,
    channel: String,
    bundle: Option<String>,
    item: Option<String>,
    #[schema(value_type = Object)]
    document: Value,
    #[schema(value_type = Vec<Object>)]
    cases: Vec<CaseView>,
}

/// One application with its cases (its applicant, and staff who may see its cases).
#[utoipa::path(get, path = "/api/v1/applications/{id}", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 200, description = "The application", body = ApplicationView),
              (status = 403, description = "Not yours", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such application", body = Problem, content_type = "application/problem+json")))]
pub async fn get_application(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Result<Json<ApplicationView>, ApiError> {
    let actor = case_actor(&state, &actor).await?;
    let (row, cases) = state
        .app
        .application_cases(&actor, &id, Timestamp::now())
        .await?;
    Ok(Json(ApplicationView {
        id: row.id,
        state: row.state,
        channel: row.channel,
        bundle: row.bundle_code,
        item: row.item_code,
        document: row.document,
        cases,
    }))
}

/// An application in the applicant's list.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyApplication {
    id: String,
    state: String,
    bundle: Option<String>,
    item: Option<String>,
    channel: String,
    updated_at: String,
}

/// The signed-in person's applications (drafts included), most recent first, with those made
/// for them at a window.
#[utoipa::path(get, path = "/api/v1/me/applications", tag = "applications",
    responses((status = 200, description = "Applications", body = [MyApplication])))]
pub async fn my_applications(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
) -> Result<Json<Vec<MyApplication>>, ApiError> {
    let Actor::Citizen(c) = &actor else {
        return Err(forbidden());
    };
    let db = &state.app.db;
    let mut rows = db
        .applications_of_account(&c.account, 100)
        .await
        .map_err(onetrip_app::AppError::from)?;
    // Applications made for the person without their account (at a window, before they
    // registered) are theirs too.
    if c.acting_for.is_none()
        && let Some(person) = db
            .person_by_id(&c.account)
            .await
            .map_err(onetrip_app::AppError::from)?
    {
        for row in db
            .applications_of_subject(&person.resident_id, 100)
            .await
            .map_err(onetrip_app::AppError::from)?
        {
            if row.account_id.is_none()
                && row.state != "draft"
                && !rows.iter().any(|r| r.id == row.id)
            {
                rows.push(row);
            }
        }
        rows.sort_by_key(|r| std::cmp::Reverse(r.updated_at));
    }
    Ok(Json(
        rows.into_iter()
            .map(|r| MyApplication {
                id: r.id,
                state: r.state,
                bundle: r.bundle_code,
                item: r.item_code,
                channel: r.channel,
                updated_at: r.updated_at.to_string(),
            })
            .collect(),
    ))
}

/// The application's timeline in plain words, oldest first.
#[utoipa::path(get, path = "/api/v1/applications/{id}/timeline", tag = "applications",
    params(("id" = String, Path, description = "Application id")),
    responses((status = 200, description = "Events", body = [Object]),
              (status = 403, description = "Not yours", body = Problem, content_type = "application/problem+json")))]
pub async fn timeline(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Result<Json<Vec<TimelineEntry>>, ApiError> {
    let actor = case_actor(&state, &actor).await?;
    Ok(Json(state.app.timeline(&actor, &id).await?))
}

/// One case.
#[utoipa::path(get, path = "/api/v1/cases/{number}", tag = "cases",
    params(("number" = String, Path, description = "Case number, e.g. 330106-20261121-000001")),
    responses((status = 200, description = "The case", body = Object),
              (status = 403, description = "Not permitted", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such case", body = Problem, content_type = "application/problem+json")))]
pub async fn get_case(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(number): Path<String>,
) -> Result<Json<CaseView>, ApiError> {
    let actor = case_actor(&state, &actor).await?;
    Ok(Json(
        state
            .app
            .case_view(&actor, &number, Timestamp::now())
            .await?,
    ))
}

/// Acts on a case: `accept`, `refuse`, `request_correction`, `supply_correction`,
/// `complete_step`, `suspend`, `resume`, `decide`, `issue_result`, `withdraw`.
#[utoipa::path(post, path = "/api/v1/cases/{number}/actions", tag = "cases",
    params(("number" = String, Path, description = "Case number"),
           ("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe action key")),
    request_body = Object,
    responses((status = 200, description = "The case after the action", body = Object),
              (status = 403, description = "Not permitted (including intake/handling separation)", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Not possible in the case's state", body = Problem, content_type = "application/problem+json")))]
pub async fn case_action(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(number): Path<String>,
    key: IdempotencyKey,
    JsonBody(command): JsonBody<CaseCommand>,
) -> Result<Json<CaseView>, ApiError> {
    let actor = case_actor(&state, &actor).await?;
    Ok(Json(
        state
            .app
            .act_on_case(&actor, &number, command, key.as_deref(), Timestamp::now())
            .await?,
    ))
}

/// One stored event with its hashes.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    seq: i64,
    at: String,
    actor: String,
    #[schema(value_type = Object)]
    event: Value,
    prev_hash: String,
    hash: String,
}

/// A case's event log with its hash chain (staff and the department's system).
#[utoipa::path(get, path = "/api/v1/cases/{number}/events", tag = "cases",
    params(("number" = String, Path, description = "Case number")),
    responses((status = 200, description = "Events in order", body = [EventView]),
              (status = 403, description = "Not permitted", body = Problem, content_type = "application/problem+json")))]
pub async fn case_events(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(number): Path<String>,
) -> Result<Json<Vec<EventView>>, ApiError> {
    let actor = case_actor(&state, &actor).await?;
    state
        .app
        .case_view(&actor, &number, Timestamp::now())
        .await?;
    let events = state
        .app
        .db
        .case_events(&number)
        .await
        .map_err(onetrip_app::AppError::from)?;
    Ok(Json(
        events
            .into_iter()
            .map(|e| EventView {
                seq: e.seq,
                at: e.at.to_string(),
                actor: e.actor,
                event: serde_json::from_str(&e.event).unwrap_or(Value::String(e.event)),
                prev_hash: e.prev_hash,
                hash: e.hash,
            })
            .collect(),
    ))
}

/// Whether a chain is intact.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChainReport {
    intact: bool,
    /// The first bad event's sequence number.
    broken_at: Option<i64>,
}

/// Checks one case's event chain.
#[utoipa::path(get, path = "/api/v1/cases/{number}/verify", tag = "cases",
    params(("number" = String, Path, description = "Case number")),
    responses((status = 200, description = "Intact or where it breaks", body = ChainReport)))]
pub async fn verify_case(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(number): Path<String>,
) -> Result<Json<ChainReport>, ApiError> {
    let actor = case_actor(&state, &actor).await?;
    state
        .app
        .case_view(&actor, &number, Timestamp::now())
        .await?;
    let broken_at = state.app.verify_case_chain(&number).await?;
    Ok(Json(ChainReport {
        intact: broken_at.is_none(),
        broken_at,
    }))
}

/// Every broken chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChainsReport {
    intact: bool,
    broken: Vec<String>,
}

/// Checks every case's event chain (system administrators, the operator).
#[utoipa::path(get, path = "/api/v1/event-chains/verify", tag = "cases",
    security(("admin_token" = [])),
    responses((status = 200, description = "Broken case numbers", body = ChainsReport)))]
pub async fn verify_all(State(state): State<Shared>) -> Result<Json<ChainsReport>, ApiError> {
    let broken = state.app.verify_event_chains().await?;
    Ok(Json(ChainsReport {
        intact: broken.is_empty(),
        broken,
    }))
}

/// Queue filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueParams {
    /// Only this state (e.g. `awaiting_intake`, `in_review`).
    state: Option<String>,
    /// Only this warning level (`green`, `yellow`, `red`).
    warning: Option<String>,
    /// Only this item.
    item: Option<String>,
    /// Only cases of divisions whose code starts with this (e.g. `3301`: Hangzhou).
    division: Option<String>,
    /// At most this many (default 50, at most 200).
    limit: Option<i64>,
}

/// A case in a queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueEntry {
    number: String,
    application: String,
    item: String,
    situation: String,
    state: String,
    due_on: String,
    warning: String,
}

impl From<CaseRow> for QueueEntry {
    fn from(c: CaseRow) -> Self {
        QueueEntry {
            number: c.number,
            application: c.application_id,
            item: c.item_code,
            situation: c.situation,
            state: c.state,
            due_on: c.due_on.to_string(),
            warning: c.warning,
        }
    }
}

/// A department's open cases, soonest due first (its officers, heads and system; supervisors).
#[utoipa::path(get, path = "/api/v1/departments/{code}/queue", tag = "cases",
    params(("code" = String, Path, description = "Department credit code"), QueueParams),
    responses((status = 200, description = "Open cases", body = [QueueEntry]),
              (status = 403, description = "Not this department", body = Problem, content_type = "application/problem+json")))]
pub async fn department_queue(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(code): Path<String>,
    Query(p): Query<QueueParams>,
) -> Result<Json<Vec<QueueEntry>>, ApiError> {
    let actor = case_actor(&state, &actor).await?;
    let filter = QueueFilter {
        state: p.state.filter(|s| !s.is_empty()),
        warning: p.warning.filter(|s| !s.is_empty()),
        item_code: p.item.filter(|s| !s.is_empty()),
        division_prefix: p.division.filter(|s| !s.is_empty()),
        ..QueueFilter::default()
    };
    let rows = state
        .app
        .department_queue(&actor, &code, &filter, p.limit.unwrap_or(50))
        .await?;
    Ok(Json(rows.into_iter().map(QueueEntry::from).collect()))
}

/// A supervision order to issue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    reason: String,
    #[schema(value_type = String)]
    respond_by: Date,
}

/// A supervision order.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    id: String,
    case: String,
    department: String,
    reason: String,
    respond_by: String,
    issued_by: String,
    issued_at: String,
    answer: Option<String>,
    answered_at: Option<String>,
}

impl From<SupervisionRow> for OrderView {
    fn from(o: SupervisionRow) -> Self {
        OrderView {
            id: o.id,
            case: o.case_number,
            department: o.department_code,
            reason: o.reason,
            respond_by: o.respond_by.to_string(),
            issued_by: o.issued_by,
            issued_at: o.issued_at.to_string(),
            answer: o.answer,
            answered_at: o.answered_at.map(|t| t.to_string()),
        }
    }
}

/// Issues a supervision order (督办) on a case (supervisors of its division).
#[utoipa::path(post, path = "/api/v1/cases/{number}/supervision-orders", tag = "supervision",
    params(("number" = String, Path, description = "Case number"),
           ("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe key: a repeat answers with the first order")),
    request_body = OrderRequest,
    responses((status = 201, description = "The order", body = OrderView),
              (status = 403, description = "Not a supervisor of the division", body = Problem, content_type = "application/problem+json")))]
pub async fn issue_order(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(number): Path<String>,
    key: IdempotencyKey,
    JsonBody(body): JsonBody<OrderRequest>,
) -> Result<(StatusCode, Json<OrderView>), ApiError> {
    let actor = case_actor(&state, &actor).await?;
    let order = state
        .app
        .issue_supervision_order(
            &actor,
            &number,
            &body.reason,
            body.respond_by,
            key.as_deref(),
            Timestamp::now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(order.into())))
}

/// A department's supervision orders, newest first.
#[utoipa::path(get, path = "/api/v1/departments/{code}/supervision-orders", tag = "supervision",
    params(("code" = String, Path, description = "Department credit code")),
    responses((status = 200, description = "Orders", body = [OrderView])))]
pub async fn department_orders(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(code): Path<String>,
) -> Result<Json<Vec<OrderView>>, ApiError> {
    let actor = case_actor(&state, &actor).await?;
    let orders = state.app.supervision_orders_of(&actor, &code).await?;
    Ok(Json(orders.into_iter().map(OrderView::from).collect()))
}

/// An answer to a supervision order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    answer: String,
}

/// Answers a supervision order (the department's officers, heads or system).
#[utoipa::path(post, path = "/api/v1/supervision-orders/{id}/answer", tag = "supervision",
    params(("id" = String, Path, description = "Order id")), request_body = AnswerRequest,
    responses((status = 200, description = "The answered order", body = OrderView)))]
pub async fn answer_order(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AnswerRequest>,
) -> Result<Json<OrderView>, ApiError> {
    let actor = case_actor(&state, &actor).await?;
    let order = state
        .app
        .answer_supervision_order(&actor, &id, &body.answer, Timestamp::now())
        .await?;
    Ok(Json(order.into()))
}

/// A division subtree.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DivisionParams {
    /// Division code (subtree), e.g. 330100.
    division: String,
}

/// Per-department statistics within a division: open cases by colour, on-time rate, average
/// handling time (supervisors).
#[utoipa::path(get, path = "/api/v1/statistics/departments", tag = "supervision",
    params(DivisionParams),
    responses((status = 200, description = "Per department", body = [Object])))]
pub async fn statistics(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Query(p): Query<DivisionParams>,
) -> Result<Json<Vec<DepartmentStatistics>>, ApiError> {
    let actor = case_actor(&state, &actor).await?;
    Ok(Json(
        state.app.department_statistics(&actor, &p.division).await?,
    ))
}

/// Open cases at yellow or red within a division, soonest due first (supervisors).
#[utoipa::path(get, path = "/api/v1/supervision/at-risk", tag = "supervision",
    params(DivisionParams),
    responses((status = 200, description = "Cases at risk", body = [QueueEntry])))]
pub async fn at_risk(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Query(p): Query<DivisionParams>,
) -> Result<Json<Vec<QueueEntry>>, ApiError> {
    let actor = case_actor(&state, &actor).await?;
    let rows = state.app.cases_at_risk(&actor, &p.division, 200).await?;
    Ok(Json(rows.into_iter().map(QueueEntry::from).collect()))
}

/// Runs one pass of the deadline scanner now (the operator; it also runs in the background).
#[utoipa::path(post, path = "/api/v1/scanner/run", tag = "supervision",
    security(("admin_token" = [])),
    responses((status = 200, description = "What the scan did", body = Object)))]
pub async fn run_scanner(State(state): State<Shared>) -> Result<Json<ScanReport>, ApiError> {
    Ok(Json(
        state.app.scan_deadlines("api", Timestamp::now()).await?,
    ))
}

/// A webhook to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    url: String,
}

/// A registered webhook (the secret is shown once, at registration).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    id: String,
    department: String,
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

/// Registers a webhook for a department's new cases and supervision orders (the department's
/// system or the operator). Deliveries are signed with HMAC-SHA256 of the body under the
/// returned secret (`X-Onetrip-Signature: sha256=<hex>`).
#[utoipa::path(post, path = "/api/v1/departments/{code}/webhooks", tag = "cases",
    params(("code" = String, Path, description = "Department credit code")), request_body = WebhookRequest,
    responses((status = 201, description = "Registered", body = WebhookView)))]
pub async fn add_webhook(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(code): Path<String>,
    JsonBody(body): JsonBody<WebhookRequest>,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    let actor = case_actor(&state, &actor).await?;
    let hook = state
        .app
        .register_webhook(&actor, &code, &body.url, Timestamp::now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(WebhookView {
            id: hook.id.clone(),
            department: hook.department_code.clone(),
            url: hook.url.clone(),
            secret: Some(hook.secret.clone()),
        }),
    ))
}

/// A department's webhooks.
#[utoipa::path(get, path = "/api/v1/departments/{code}/webhooks", tag = "cases",
    params(("code" = String, Path, description = "Department credit code")),
    responses((status = 200, description = "Webhooks", body = [WebhookView])))]
pub async fn list_webhooks(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(code): Path<String>,
) -> Result<Json<Vec<WebhookView>>, ApiError> {
    let actor = case_actor(&state, &actor).await?;
    let hooks: Vec<WebhookRow> = state.app.webhooks(&actor, &code).await?;
    Ok(Json(
        hooks
            .into_iter()
            .map(|h| WebhookView {
                id: h.id,
                department: h.department_code,
                url: h.url,
                secret: None,
            })
            .collect(),
    ))
}
