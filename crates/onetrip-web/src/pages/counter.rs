//! The general window (综合窗口): a window clerk finds any item or bundle, applies for a
//! walk-in applicant on their behalf (无差别全科受理), and sees today's intake.
//!
//! A walk-in application takes two screens, to be quick at the window:
//! 1. who and what: the applicant's resident ID and name, the clerk's confirmation that the
//!    ID card was checked against the person, and the questionnaire (or the item's situation);
//! 2. the prefilled form, the materials (those the platform fetches shown as fetched, the
//!    others ticked when received on paper or scanned) and the applicant's signature (drawn on
//!    the screen's signature pad when scripts run — kept as a PNG file of the application — or
//!    the number of the signed paper form); submitting makes the
//!    application once and accepts its cases at the window, then opens the printable receipt.
//!
//! Until it is submitted, a walk-in application lives in the clerk's session, not in the
//! database: nothing is stored for an applicant who walks away. The submission goes through
//! the same use case as the API's walk-in submission, with an idempotency key of the walk-in,
//! so a resent form makes one application.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use onetrip_app::AppError;
use onetrip_app::cases::{
    Agent, ApplicantFacts, ApplicationInput, ApplicationTarget, ApplyChannel, CaseActor,
    CaseCommand, FileRef, WindowIntake,
};
use onetrip_app::resolution::RequestedItem;
use onetrip_domain::Localized;
use onetrip_domain::bundle::Bundle;
use onetrip_domain::catalog::{ServiceItem, ServiceObject};
use onetrip_domain::form::{FormSchema, FormValues};
use onetrip_domain::identity::StaffRole;
use onetrip_domain::resolution::MaterialStatus;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::apply::{
    QuestionView, answer_problems, answers_from_post, divisions, problems_of, question_anchors,
    question_views, refusal_text,
};
use super::form::{self, OptionView, Problems, SectionView};
use super::{Page, check_csrf, first, form_pairs, ok, render};
use crate::Shared;
use crate::api::accounts::{CurrentActor, session_error};
use crate::api::cases::{case_actor, walk_in_facts, walk_in_organisation};
use crate::api::identifiers::today_in_china;
use crate::api::uploads::read_page_form;
use crate::extract::Path;
use crate::policy::Actor;
use crate::problem::ApiError;

/// The addresses of the window clerk's pages.
pub const PATHS: &[&str] = &[
    "/counter",
    "/counter/bundles/{code}/apply",
    "/counter/items/{code}/apply",
    "/counter/walk-ins/{key}",
];

/// The window clerk's routes.
pub fn router() -> Router<Shared> {
    use axum::routing::get;
    Router::new()
        .route("/counter", get(home))
        .route(
            "/counter/bundles/{code}/apply",
            get(start_bundle).post(start_bundle_form),
        )
        .route(
            "/counter/items/{code}/apply",
            get(start_item).post(start_item_form),
        )
        .route(
            "/counter/walk-ins/{key}",
            get(walk_in_page)
                .post(submit)
                // The upload's own limit applies while each scan streams in.
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
}

/// The refusal of a member of staff who is not a window clerk.
fn not_a_clerk() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "window_clerk_required",
        "只有综合窗口工作人员可以代办",
        "Only general-window clerks apply on behalf of walk-in applicants",
    )
}

/// The signed-in window clerk as the use cases see them.
async fn clerk(state: &Shared, actor: &Actor) -> Result<CaseActor, ApiError> {
    match actor {
        Actor::Staff(s) if s.holds(StaffRole::WindowClerk) => case_actor(state, actor).await,
        _ => Err(not_a_clerk()),
    }
}

/// How many search results the window shows.
const SEARCH_LIMIT: usize = 20;

/// How many of a division's applications today's intake lists.
const INTAKE_LIMIT: i64 = 200;

/// An application taken in today.
pub struct IntakeLine {
    /// Time of submission.
    pub at: String,
    /// Application id.
    pub id: String,
    /// Applicant's name.
    pub applicant: String,
    /// What it is for.
    pub name: String,
    /// Its case numbers.
    pub cases: Vec<String>,
    /// Key of its state's text.
    pub state_key: String,
    /// Taken in by the signed-in clerk.
    pub mine: bool,
}

#[derive(Template)]
#[template(path = "pages/counter/home.html")]
struct HomePage {
    page: Page,
    q: String,
    searched: bool,
    bundles: Vec<onetrip_store::BundleSummary>,
    hits: Vec<onetrip_app::catalog::ItemHit>,
    intake: Vec<IntakeLine>,
}

/// Query of the window's home.
#[derive(Debug, Deserialize)]
pub struct HomeParams {
    /// Words to search items and bundles for.
    #[serde(default)]
    q: String,
}

/// `GET /counter`: search any item or bundle to apply for at the window (or to print its
/// one-time notice), and today's intake of the clerk's window.
pub async fn home(
    State(state): State<Shared>,
    page: Page,
    CurrentActor(actor): CurrentActor,
    crate::extract::Query(p): crate::extract::Query<HomeParams>,
) -> Result<Response, ApiError> {
    let clerk = clerk(&state, &actor).await?;
    let searched = !p.q.trim().is_empty();
    let (bundles, hits) = if searched {
        let bundles = super::portal::matching_bundles(&state, &p.q, None).await?;
        let hits = state
            .app
            .find_items(&onetrip_app::catalog::ItemQuery {
                text: Some(p.q.clone()),
                division: None,
                department: None,
                service_object: None,
                item_type: None,
                life_event: None,
                parent: None,
                include_cancelled: false,
                limit: SEARCH_LIMIT,
                offset: 0,
            })
            .await?
            .items;
        (bundles, hits)
    } else {
        (Vec::new(), Vec::new())
    };
    let label = clerk.label();
    let mut intake = Vec::new();
    for row in state
        .app
        .window_intake(&clerk, Timestamp::now(), INTAKE_LIMIT)
        .await?
    {
        let cases = row
            .document
            .get("members")
            .and_then(serde_json::Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|m| m.get("case").and_then(serde_json::Value::as_str))
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        intake.push(IntakeLine {
            at: row.submitted_at.map(super::china_time).unwrap_or_default(),
            name: super::portal::application_name(&state, &row, page.en).await,
            applicant: row.subject_name.clone(),
            state_key: format!("application-state-{}", row.state),
            mine: row.intake_by.as_deref() == Some(label.as_str()),
            id: row.id,
            cases,
        });
    }
    Ok(ok(&HomePage {
        page,
        q: p.q,
        searched,
        bundles,
        hits,
        intake,
    }))
}

/// Where a walk-in application is kept in the clerk's session.
const KEY_WALK_INS: &str = "counter_walk_ins";

/// How many walk-in applications a session keeps (the oldest goes first).
const KEPT_WALK_INS: usize = 5;

/// A walk-in application being filled in at the window.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct WalkIn {
    /// Its key in the session (and of its idempotent submission).
    key: String,
    /// What is applied for.
    target: ApplicationTarget,
    /// The applicant's resident ID, checked.
    resident_id: String,
    /// The name on the ID card.
    name: String,
    /// For an organisation: its credit code (the person above came for it, 经办人).
    #[serde(default)]
    credit_code: Option<String>,
    /// The organisation's letter of authorisation of that person was received.
    #[serde(default)]
    authorised: bool,
    /// Answers to the questionnaire.
    answers: FormValues,
    /// The form's values, once prefilled.
    form: Option<FormValues>,
    /// Keys of the materials received on paper or scanned (`upload:<name>`).
    received: Vec<String>,
    /// The scans uploaded, by material key.
    #[serde(default)]
    scans: BTreeMap<String, FileRef>,
    /// The signed paper form's number, or `pad:{upload id}` for a signature drawn on the
    /// window's signature pad.
    signature: String,
    /// The drawing of the signature pad, once sent.
    #[serde(default)]
    pad: Option<FileRef>,
    /// The application, once submitted.
    application: Option<String>,
}

/// The prefix of a signature drawn on the signature pad: `pad:{upload id}`.
const SIGNATURE_PAD: &str = "pad:";

/// The application's file of the signature drawn on the pad.
const SIGNATURE_KEY: &str = "申请人签名";

/// The applicant of a walk-in application, and for an organisation the person who came for it.
async fn walk_in_parties(
    state: &Shared,
    w: &WalkIn,
) -> Result<(ApplicantFacts, Option<Agent>), ApiError> {
    match &w.credit_code {
        Some(code) => {
            let (facts, agent) =
                walk_in_organisation(state, code, &w.resident_id, &w.name, w.authorised).await?;
            Ok((facts, Some(agent)))
        }
        None => Ok((walk_in_facts(state, &w.resident_id, &w.name).await?, None)),
    }
}

async fn walk_ins(session: &Session) -> Result<Vec<WalkIn>, ApiError> {
    Ok(session
        .get::<Vec<WalkIn>>(KEY_WALK_INS)
        .await
        .map_err(|e| session_error(e.into()))?
        .unwrap_or_default())
}

/// Keeps a walk-in application in the session, first.
async fn keep(session: &Session, walk_in: &WalkIn) -> Result<(), ApiError> {
    let mut list = walk_ins(session).await?;
    list.retain(|w| w.key != walk_in.key);
    list.insert(0, walk_in.clone());
    list.truncate(KEPT_WALK_INS);
    session
        .insert(KEY_WALK_INS, &list)
        .await
        .map_err(|e| session_error(e.into()))
}

async fn walk_in(session: &Session, key: &str) -> Result<WalkIn, ApiError> {
    walk_ins(session)
        .await?
        .into_iter()
        .find(|w| w.key == key)
        .ok_or_else(|| {
            AppError::NotFound {
                kind: "walk-in application",
                key: key.to_string(),
            }
            .into()
        })
}

/// What a walk-in application is for, loaded from the catalog.
enum Subject {
    Bundle(Box<Bundle>),
    Item(Box<ServiceItem>),
}

impl Subject {
    async fn load(state: &Shared, target: &ApplicationTarget) -> Result<Subject, ApiError> {
        Ok(match target {
            ApplicationTarget::Bundle { code } => {
                Subject::Bundle(Box::new(state.app.bundle_view(code).await?.bundle))
            }
            ApplicationTarget::Item { code, .. } => {
                Subject::Item(Box::new(state.app.service_item(code).await?.0))
            }
        })
    }

    fn name(&self, page: &Page) -> String {
        match self {
            Subject::Bundle(b) => page.pick(&b.name, b.name_en.as_deref()).to_string(),
            Subject::Item(i) => page.pick(&i.name, i.name_en.as_deref()).to_string(),
        }
    }

    /// Who may apply: persons, organisations or both.
    fn service_object(&self) -> ServiceObject {
        match self {
            Subject::Bundle(b) => b.service_object,
            Subject::Item(i) => i.service_object,
        }
    }

    fn schema(&self) -> Option<&FormSchema> {
        match self {
            Subject::Bundle(b) => Some(&b.form),
            Subject::Item(i) => i.form.as_ref(),
        }
    }

    /// The items applied for, each with its member key, for the answers given.
    async fn requested(
        &self,
        state: &Shared,
        w: &WalkIn,
    ) -> Result<Vec<(String, RequestedItem)>, ApiError> {
        match (self, &w.target) {
            (Subject::Bundle(b), _) => {
                let (items, _) = state.app.member_items(b).await?;
                let selection = b
                    .select(&w.answers, &items)
                    .map_err(|e| AppError::Internal(format!("selection: {e:?}")))?;
                Ok(selection
                    .members
                    .into_iter()
                    .map(|m| {
                        (
                            m.key,
                            RequestedItem {
                                item: m.item,
                                situation: Some(m.situation),
                            },
                        )
                    })
                    .collect())
            }
            (Subject::Item(i), ApplicationTarget::Item { situation, .. }) => Ok(vec![(
                i.implementation_code.clone(),
                RequestedItem {
                    item: i.implementation_code.clone(),
                    situation: situation.clone(),
                },
            )]),
            (Subject::Item(_), ApplicationTarget::Bundle { code }) => Err(AppError::NotFound {
                kind: "item",
                key: code.clone(),
            }
            .into()),
        }
    }
}

#[derive(Template)]
#[template(path = "pages/counter/start.html")]
struct StartPage {
    page: Page,
    action: String,
    name: String,
    resident_id: String,
    applicant_name: String,
    identity_checked: bool,
    /// Organisations may apply: the credit code and authorisation inputs are shown.
    organisations: bool,
    /// Only organisations may apply: the credit code is required.
    organisations_only: bool,
    credit_code: String,
    authorised: bool,
    resident_id_error: Option<String>,
    name_error: Option<String>,
    checked_error: Option<String>,
    credit_code_error: Option<String>,
    authorisation_error: Option<String>,
    situations: Vec<OptionView>,
    situation_error: Option<String>,
    questions: Vec<QuestionView>,
    errors: Vec<(String, String)>,
}

/// What the clerk typed on the first screen.
#[derive(Default)]
struct Identify {
    resident_id: String,
    name: String,
    checked: bool,
    credit_code: String,
    authorised: bool,
    situation: Option<String>,
    answers: FormValues,
}

/// The problems of the first screen by element id (questions by their key).
#[derive(Default)]
struct IdentifyProblems {
    resident_id: Option<String>,
    name: Option<String>,
    checked: Option<String>,
    credit_code: Option<String>,
    authorisation: Option<String>,
    situation: Option<String>,
    answers: Problems,
}

impl IdentifyProblems {
    fn is_empty(&self) -> bool {
        self.resident_id.is_none()
            && self.name.is_none()
            && self.checked.is_none()
            && self.credit_code.is_none()
            && self.authorisation.is_none()
            && self.situation.is_none()
            && self.answers.is_empty()
    }
}

fn start_page(
    page: Page,
    action: String,
    subject: &Subject,
    typed: &Identify,
    problems: IdentifyProblems,
) -> StartPage {
    let (situations, questions) = match subject {
        Subject::Bundle(b) => (
            Vec::new(),
            question_views(&page, b, &typed.answers, &problems.answers),
        ),
        Subject::Item(i) => {
            let list = i.effective_situations();
            let situations = if list.len() > 1 {
                list.iter()
                    .map(|s| OptionView {
                        value: s.code.clone(),
                        label: s.name.clone(),
                        checked: typed.situation.as_deref() == Some(s.code.as_str()),
                    })
                    .collect()
            } else {
                Vec::new()
            };
            (situations, Vec::new())
        }
    };
    let mut errors = Vec::new();
    for (anchor, problem) in [
        ("resident_id", &problems.resident_id),
        ("applicant_name", &problems.name),
        ("identity_checked", &problems.checked),
        ("credit_code", &problems.credit_code),
        ("authorisation_received", &problems.authorisation),
        ("situation", &problems.situation),
    ] {
        if let Some(message) = problem {
            errors.push((anchor.to_string(), message.clone()));
        }
    }
    errors.extend(question_anchors(&questions, &problems.answers));
    StartPage {
        action,
        name: subject.name(&page),
        resident_id: typed.resident_id.clone(),
        applicant_name: typed.name.clone(),
        identity_checked: typed.checked,
        organisations: subject.service_object() != ServiceObject::Person,
        organisations_only: subject.service_object() == ServiceObject::Organisation,
        credit_code: typed.credit_code.clone(),
        authorised: typed.authorised,
        resident_id_error: problems.resident_id,
        name_error: problems.name,
        checked_error: problems.checked,
        credit_code_error: problems.credit_code,
        authorisation_error: problems.authorisation,
        situations,
        situation_error: problems.situation,
        questions,
        errors,
        page,
    }
}

/// `GET /counter/bundles/{code}/apply`: who applies, and the bundle's questionnaire.
pub async fn start_bundle(
    State(state): State<Shared>,
    page: Page,
    CurrentActor(actor): CurrentActor,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    start(state, page, actor, ApplicationTarget::Bundle { code }).await
}

/// `GET /counter/items/{code}/apply`: who applies, and the item's situation.
pub async fn start_item(
    State(state): State<Shared>,
    page: Page,
    CurrentActor(actor): CurrentActor,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let target = ApplicationTarget::Item {
        code,
        situation: None,
    };
    start(state, page, actor, target).await
}

fn start_action(target: &ApplicationTarget) -> String {
    match target {
        ApplicationTarget::Bundle { code } => {
            format!("/counter/bundles/{}/apply", super::encode(code))
        }
        ApplicationTarget::Item { code, .. } => {
            format!("/counter/items/{}/apply", super::encode(code))
        }
    }
}

async fn start(
    state: Shared,
    page: Page,
    actor: Actor,
    target: ApplicationTarget,
) -> Result<Response, ApiError> {
    clerk(&state, &actor).await?;
    let subject = Subject::load(&state, &target).await?;
    Ok(ok(&start_page(
        page,
        start_action(&target),
        &subject,
        &Identify::default(),
        IdentifyProblems::default(),
    )))
}

/// `POST /counter/bundles/{code}/apply`.
pub async fn start_bundle_form(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    CurrentActor(actor): CurrentActor,
    Path(code): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let target = ApplicationTarget::Bundle { code };
    start_form(state, page, session, actor, target, body).await
}

/// `POST /counter/items/{code}/apply`.
pub async fn start_item_form(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    CurrentActor(actor): CurrentActor,
    Path(code): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let target = ApplicationTarget::Item {
        code,
        situation: None,
    };
    start_form(state, page, session, actor, target, body).await
}

/// Checks the first screen: every problem is shown next to its field at once; else the
/// walk-in application is kept in the session and the second screen follows.
async fn start_form(
    state: Shared,
    page: Page,
    session: Session,
    actor: Actor,
    target: ApplicationTarget,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let pairs = form_pairs(&body);
    check_csrf(&session, first(&pairs, "csrf_token")).await?;
    clerk(&state, &actor).await?;
    let subject = Subject::load(&state, &target).await?;
    let mut typed = Identify {
        resident_id: first(&pairs, "resident_id")
            .unwrap_or_default()
            .trim()
            .to_uppercase(),
        name: first(&pairs, "name").unwrap_or_default().trim().to_string(),
        checked: first(&pairs, "identity_checked") == Some("yes"),
        credit_code: first(&pairs, "credit_code")
            .unwrap_or_default()
            .trim()
            .to_uppercase(),
        authorised: first(&pairs, "authorisation_received") == Some("yes"),
        situation: first(&pairs, "situation")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        answers: FormValues::new(),
    };
    let mut problems = IdentifyProblems::default();
    if typed.resident_id.is_empty() {
        problems.resident_id = Some(page.t("walk-in-resident-id-missing"));
    } else if let Err(e) =
        onetrip_domain::identifiers::ResidentId::parse(&typed.resident_id, today_in_china())
    {
        problems.resident_id = Some(if page.en {
            e.message_en()
        } else {
            e.message_zh()
        });
    }
    if typed.name.is_empty() {
        problems.name = Some(page.t("walk-in-name-missing"));
    }
    if !typed.checked {
        problems.checked = Some(page.t("walk-in-id-check-missing"));
    }
    // For an organisation: in business in the registry, and the person its legal
    // representative or authorised in writing.
    let service = subject.service_object();
    if service == ServiceObject::Person {
        typed.credit_code.clear();
    }
    if typed.credit_code.is_empty() {
        if service == ServiceObject::Organisation {
            problems.credit_code = Some(page.t("walk-in-credit-code-missing"));
        }
    } else if problems.resident_id.is_none() {
        let found = walk_in_organisation(
            &state,
            &typed.credit_code,
            &typed.resident_id,
            &typed.name,
            typed.authorised,
        )
        .await;
        if let Err(e) = found {
            if e.errors.is_empty() {
                return Err(e);
            }
            for f in &e.errors {
                let message = page.pick(&f.message_zh, Some(&f.message_en)).to_string();
                match f.path.as_str() {
                    "walk_in.authorisation_received" => problems.authorisation = Some(message),
                    "walk_in.resident_id" => problems.resident_id = Some(message),
                    _ => problems.credit_code = Some(message),
                }
            }
        }
    }
    let target = match (&subject, target) {
        (Subject::Bundle(b), target) => {
            typed.answers = answers_from_post(b, &pairs);
            problems.answers = answer_problems(&page, b, &typed.answers);
            target
        }
        (Subject::Item(i), ApplicationTarget::Item { code, .. }) => {
            let situations = i.effective_situations();
            let chosen = match &typed.situation {
                Some(s) => situations.iter().find(|x| &x.code == s),
                None if situations.len() == 1 => situations.first(),
                None => None,
            };
            if chosen.is_none() {
                problems.situation = Some(page.t("walk-in-situation-missing"));
            }
            ApplicationTarget::Item {
                code,
                situation: chosen.map(|s| s.code.clone()),
            }
        }
        (Subject::Item(_), target) => target,
    };
    if !problems.is_empty() {
        return Ok(render(
            &start_page(page, start_action(&target), &subject, &typed, problems),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let w = WalkIn {
        key: uuid::Uuid::now_v7().simple().to_string(),
        target,
        resident_id: typed.resident_id,
        name: typed.name,
        credit_code: Some(typed.credit_code).filter(|c| !c.is_empty()),
        authorised: typed.authorised,
        answers: typed.answers,
        form: None,
        received: Vec::new(),
        scans: BTreeMap::new(),
        signature: String::new(),
        pad: None,
        application: None,
    };
    keep(&session, &w).await?;
    Ok(Redirect::to(&format!("/counter/walk-ins/{}", w.key)).into_response())
}

/// A material of the walk-in application as drawn: fetched by the platform, or to be ticked
/// when received.
pub struct MaterialLine {
    /// Element id.
    pub id: String,
    /// The key posted when received (`upload:<name>`).
    pub key: String,
    /// Name.
    pub name: String,
    /// The platform fetches it.
    pub auto: bool,
    /// Required.
    pub required: bool,
    /// Ticked as received.
    pub received: bool,
    /// The name of its scan, once uploaded.
    pub scan: Option<String>,
    /// The member materials it stands for (`member.material`).
    uses: Vec<String>,
    /// Its problem.
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/counter/walk_in.html")]
struct WalkInPage {
    page: Page,
    key: String,
    name: String,
    applicant_name: String,
    resident_id: String,
    /// For an organisation: its name and credit code.
    organisation: Option<(String, String)>,
    has_account: bool,
    sections: Vec<SectionView>,
    divisions: Vec<(String, String)>,
    materials: Vec<MaterialLine>,
    notices: Vec<(String, String)>,
    signature: String,
    signature_error: Option<String>,
    errors: Vec<(String, String)>,
    /// File fields take uploads (not at the window: materials are received there).
    files: bool,
}

/// The materials of the walk-in application for this applicant: resolved now (every read
/// logged), those the platform fetches shown as fetched, the others once per name.
async fn material_lines(
    state: &Shared,
    requested: &[(String, RequestedItem)],
    w: &WalkIn,
    facts: &ApplicantFacts,
) -> Result<Vec<MaterialLine>, ApiError> {
    let items: Vec<RequestedItem> = requested.iter().map(|(_, r)| r.clone()).collect();
    let resolution = state
        .app
        .resolve_materials(&facts.applicant, &items, None, Timestamp::now())
        .await?;
    let mut lines: Vec<MaterialLine> = Vec::new();
    for ((member, _), item) in requested.iter().zip(&resolution.items) {
        for m in &item.materials {
            let auto = m.status == MaterialStatus::Resolved;
            let name = m.name.trim();
            let key = if auto {
                format!("auto:{name}")
            } else {
                format!("upload:{name}")
            };
            let use_key = format!("{member}.{}", m.material);
            match lines.iter_mut().find(|l| l.key == key) {
                Some(line) => {
                    line.required |= m.required;
                    line.uses.push(use_key);
                }
                None => lines.push(MaterialLine {
                    id: format!("material-{}", lines.len() + 1),
                    received: w.received.contains(&key),
                    scan: w.scans.get(&key).map(|f| f.name.clone()),
                    key,
                    name: name.to_string(),
                    auto,
                    required: m.required,
                    uses: vec![use_key],
                    error: None,
                }),
            }
        }
    }
    Ok(lines)
}

/// Draws the second screen with the problems found (by input name; `signature`, and
/// `uploads.<member>.<material>` for a material not received).
async fn walk_in_page_of(
    state: &Shared,
    page: Page,
    subject: &Subject,
    w: &WalkIn,
    facts: &ApplicantFacts,
    problems: &Problems,
) -> Result<WalkInPage, ApiError> {
    let values = w.form.clone().unwrap_or_default();
    let sections = match subject.schema() {
        Some(schema) => form::sections(&page, schema, &values, problems),
        None => Vec::new(),
    };
    let requested = subject.requested(state, w).await?;
    let mut materials = material_lines(state, &requested, w, facts).await?;
    // The one-time notice of each item, for an applicant who has not brought everything.
    let mut notices = Vec::with_capacity(requested.len());
    for (_, r) in &requested {
        let name = match state.app.service_item(&r.item).await {
            Ok((item, _)) => page.pick(&item.name, item.name_en.as_deref()).to_string(),
            Err(_) => r.item.clone(),
        };
        let mut href = format!("/counter/items/{}/notice", super::encode(&r.item));
        if let Some(s) = &r.situation {
            href.push_str(&format!("?situation={}", super::encode(s)));
        }
        notices.push((href, name));
    }
    let mut errors = Vec::new();
    for (path, message) in problems {
        if path == "signature" {
            errors.push(("signature".to_string(), message.clone()));
        } else if let Some(key) = path.strip_prefix("scan:") {
            match materials.iter_mut().find(|m| m.key == key) {
                Some(line) => {
                    line.error = Some(message.clone());
                    errors.push((format!("{}-scan", line.id), message.clone()));
                }
                None => errors.push(("materials".to_string(), message.clone())),
            }
        } else if let Some(use_key) = path.strip_prefix("uploads.") {
            match materials
                .iter_mut()
                .find(|m| m.uses.iter().any(|u| u == use_key))
            {
                Some(line) => {
                    line.error = Some(message.clone());
                    errors.push((line.id.clone(), message.clone()));
                }
                None => errors.push(("materials".to_string(), message.clone())),
            }
        } else if subject.schema().is_some_and(|s| {
            s.field(path.split(['.', '[']).next().unwrap_or_default())
                .is_some()
        }) {
            errors.push((form::anchor(path), message.clone()));
        } else {
            errors.push(("main".to_string(), message.clone()));
        }
    }
    Ok(WalkInPage {
        key: w.key.clone(),
        name: subject.name(&page),
        applicant_name: w.name.clone(),
        resident_id: onetrip_domain::identifiers::ResidentId::parse(
            &w.resident_id,
            today_in_china(),
        )
        .map(|id| id.masked())
        .unwrap_or_default(),
        organisation: w
            .credit_code
            .as_ref()
            .map(|code| (facts.name.clone(), code.clone())),
        has_account: facts.account.is_some(),
        sections,
        divisions: divisions(state, page.en).await?,
        materials,
        notices,
        signature: w.signature.clone(),
        signature_error: problems.get("signature").cloned(),
        errors,
        files: false,
        page,
    })
}

fn receipt_of(application: &str) -> Response {
    Redirect::to(&format!("/counter/applications/{application}/receipt")).into_response()
}

/// `GET /counter/walk-ins/{key}`: the form prefilled for the applicant (on the first visit,
/// from their certificates and the shared data the items may read, each read logged), the
/// materials and the signature.
pub async fn walk_in_page(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    CurrentActor(actor): CurrentActor,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    clerk(&state, &actor).await?;
    let mut w = walk_in(&session, &key).await?;
    if let Some(application) = &w.application {
        return Ok(receipt_of(application));
    }
    let subject = Subject::load(&state, &w.target).await?;
    let (facts, _) = walk_in_parties(&state, &w).await?;
    if w.form.is_none() {
        let now = Timestamp::now();
        let prefill = match (&subject, &w.target) {
            (Subject::Bundle(_), ApplicationTarget::Bundle { code }) => {
                state
                    .app
                    .prepare_bundle(code, &facts, &w.answers, now)
                    .await?
                    .prefill
            }
            (Subject::Item(item), _) => {
                state
                    .app
                    .prepare_item(&item.implementation_code, &facts, now)
                    .await?
                    .prefill
            }
            (Subject::Bundle(_), ApplicationTarget::Item { .. }) => FormValues::new(),
        };
        w.form = Some(prefill);
        keep(&session, &w).await?;
    }
    Ok(ok(&walk_in_page_of(
        &state,
        page,
        &subject,
        &w,
        &facts,
        &Problems::new(),
    )
    .await?))
}

/// `POST /counter/walk-ins/{key}`: adds or removes a row of a group and shows the screen
/// again; else checks the signature and submits the application once (the walk-in's key is
/// the idempotency key), accepts its cases at the window and opens the receipt. Every problem
/// is shown next to its field.
pub async fn submit(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    CurrentActor(actor): CurrentActor,
    Path(key): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let sent = read_page_form(request, state.app.upload_max_bytes()).await?;
    let pairs = &sent.fields;
    check_csrf(&session, first(pairs, "csrf_token")).await?;
    let clerk = clerk(&state, &actor).await?;
    let mut w = walk_in(&session, &key).await?;
    if let Some(application) = &w.application {
        return Ok(receipt_of(application));
    }
    let subject = Subject::load(&state, &w.target).await?;
    let (facts, agent) = walk_in_parties(&state, &w).await?;
    let earlier = w.form.clone().unwrap_or_default();
    let mut values = match subject.schema() {
        Some(schema) => form::values_from_post(schema, &earlier, pairs),
        None => earlier,
    };
    let row_change = subject
        .schema()
        .is_some_and(|schema| form::row_change(schema, &mut values, pairs));
    w.form = Some(values.clone());
    w.received = pairs
        .iter()
        .filter(|(k, v)| k == "received" && v.starts_with("upload:"))
        .map(|(_, v)| v.clone())
        .collect();
    w.signature = first(pairs, "signature")
        .unwrap_or_default()
        .trim()
        .to_string();
    // Scanned materials (一窗受理: scanned at the window, the original handed back).
    let mut scan_problems = Problems::new();
    if let Some(part) = &sent.too_large {
        let e = onetrip_app::uploads::too_large(state.app.upload_max_bytes());
        scan_problems.insert(part.clone(), refusal_text(&page, e)?);
    }
    for (part, file_name, content) in &sent.files {
        let Some(material) = part.strip_prefix("scan:") else {
            continue;
        };
        match state
            .app
            .upload_file(&clerk, file_name, content.clone(), Timestamp::now())
            .await
        {
            Ok(row) => {
                w.scans
                    .insert(material.to_string(), onetrip_app::uploads::file_ref(&row));
            }
            Err(e) => {
                scan_problems.insert(part.clone(), refusal_text(&page, e)?);
            }
        }
    }
    // The signature drawn on the signature pad (sent by the page's script as a PNG): the
    // clerk's upload, the walk-in's signature, and a file of the application.
    if let Some((file_name, content)) = sent.file("signature_pad")
        && sent.too_large.is_none()
    {
        match state
            .app
            .upload_file(&clerk, &file_name, content, Timestamp::now())
            .await
        {
            Ok(row) => {
                w.signature = format!("{SIGNATURE_PAD}{}", row.id);
                w.pad = Some(onetrip_app::uploads::file_ref(&row));
            }
            Err(e) => {
                scan_problems.insert("signature".into(), refusal_text(&page, e)?);
            }
        }
    }
    keep(&session, &w).await?;
    if !scan_problems.is_empty() {
        return Ok(render(
            &walk_in_page_of(&state, page, &subject, &w, &facts, &scan_problems).await?,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    if row_change {
        return Ok(ok(&walk_in_page_of(
            &state,
            page,
            &subject,
            &w,
            &facts,
            &Problems::new(),
        )
        .await?));
    }
    let now = Timestamp::now();
    if w.signature.is_empty() {
        let mut problems = match subject.schema() {
            Some(schema) => form::check(&page, schema, &values, onetrip_app::china_today(now)),
            None => Problems::new(),
        };
        problems.insert("signature".into(), page.t("walk-in-signature-missing"));
        return Ok(render(
            &walk_in_page_of(&state, page, &subject, &w, &facts, &problems).await?,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    // A scan stands for its material; a material ticked without a scan was received on paper.
    let mut uploads = w.scans.clone();
    for (i, k) in w.received.iter().enumerate() {
        if !uploads.contains_key(k) {
            let name = k.strip_prefix("upload:").unwrap_or(k).to_string();
            let id = format!(
                "{}{}:{}",
                onetrip_app::uploads::RECEIVED_ON_PAPER,
                w.key,
                i + 1
            );
            uploads.insert(
                k.clone(),
                FileRef {
                    id,
                    name,
                    media_type: None,
                },
            );
        }
    }
    if let Some(pad) = &w.pad
        && w.signature == format!("{SIGNATURE_PAD}{}", pad.id)
    {
        uploads.insert(SIGNATURE_KEY.into(), pad.clone());
    }
    let input = ApplicationInput {
        target: w.target.clone(),
        answers: w.answers.clone(),
        form: values,
        uploads,
    };
    let intake = WindowIntake {
        clerk: clerk.clone(),
        signature: w.signature.clone(),
        agent,
    };
    let idempotency = format!("counter:{}", w.key);
    let submitted = match state
        .app
        .submit_application(
            &facts,
            None,
            &input,
            ApplyChannel::Window,
            Some(&intake),
            Some(&idempotency),
            now,
        )
        .await
    {
        Ok(s) => s,
        Err(e) => {
            return match problems_of(&page, &e) {
                Some(problems) => Ok(render(
                    &walk_in_page_of(&state, page, &subject, &w, &facts, &problems).await?,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )),
                None => Err(e.into()),
            };
        }
    };
    w.application = Some(submitted.application.clone());
    keep(&session, &w).await?;
    accept_at_window(&state, &clerk, &submitted.application, now).await;
    Ok(receipt_of(&submitted.application))
}

/// Accepts at the window (一窗受理) every case of the application that can be accepted now
/// (those waiting for an earlier member start later). A refusal leaves the case awaiting
/// intake by its department; the receipt shows each case's state.
async fn accept_at_window(state: &Shared, clerk: &CaseActor, application: &str, now: Timestamp) {
    let views = match state.app.application_cases(clerk, application, now).await {
        Ok((_, views)) => views,
        Err(e) => {
            tracing::warn!(error = %e, "window intake: cases not readable");
            return;
        }
    };
    for view in views
        .iter()
        .filter(|v| v.allowed.iter().any(|a| a == "accept"))
    {
        if let Err(e) = state
            .app
            .act_on_case(clerk, &view.number, CaseCommand::Accept, None, now)
            .await
        {
            tracing::warn!(error = %e, case = %view.number, "window intake: not accepted");
        }
    }
}
