//! Applying for a bundle, in the task-list pattern: the draft's overview, then the
//! questionnaire (情形引导), one prefilled form, the materials (fetched ones shown as done),
//! check your answers, submit, and the confirmation with the case numbers. Every step saves
//! the draft, so the application resumes on any device.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use onetrip_app::AppError;
use onetrip_app::cases::{
    ApplicantFacts, ApplicationInput, ApplicationTarget, ApplyChannel, FileRef,
};
use onetrip_domain::Localized;
use onetrip_domain::bundle::{Bundle, MergedMaterial};
use onetrip_domain::catalog::MaterialSource;
use onetrip_domain::form::{FieldKind, FormValues};
use onetrip_store::ApplicationRow;
use serde_json::Value;
use tower_sessions::Session;

use super::form::{self, Problems, SectionView};
use super::{Page, check_csrf, first, form_pairs, ok, render};
use crate::Shared;
use crate::api::accounts::CurrentActor;
use crate::api::cases::{case_actor, citizen_applicant};
use crate::api::uploads::{read_multipart, read_page_form};
use crate::extract::Path;
use crate::policy::Actor;
use crate::problem::ApiError;

/// The channel of a page request: a phone's browser is the mobile channel (掌上办), anything
/// else the web (网上办).
fn channel(headers: &HeaderMap) -> ApplyChannel {
    let mobile = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| ua.contains("Mobile") || ua.contains("Android"));
    if mobile {
        ApplyChannel::Mobile
    } else {
        ApplyChannel::Web
    }
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// `POST /bundles/{code}/start`: a new draft of the bundle for the signed-in person, then its
/// first step.
pub async fn start(
    State(state): State<Shared>,
    session: Session,
    headers: HeaderMap,
    CurrentActor(actor): CurrentActor,
    Path(code): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    check_csrf(&session, first(&form_pairs(&body), "csrf_token")).await?;
    let journey = state.app.bundle_view(&code).await?.bundle;
    begin(
        &state,
        &headers,
        &actor,
        ApplicationTarget::Bundle { code },
        &journey,
    )
    .await
}

/// `POST /items/{code}/start`: a new draft of one item alone for the signed-in person (items
/// that can be applied for online), then its first step.
pub async fn start_item(
    State(state): State<Shared>,
    session: Session,
    headers: HeaderMap,
    CurrentActor(actor): CurrentActor,
    Path(code): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    check_csrf(&session, first(&form_pairs(&body), "csrf_token")).await?;
    let item = state.app.decoded_item(&code).await?;
    if !item.applies_online() {
        return Err(AppError::Refused {
            code: "item_not_online",
            zh: "该事项不能网上申请，请到窗口办理".into(),
            en: "This service cannot be applied for online; please visit a service window.".into(),
        }
        .into());
    }
    let journey = Bundle::single_item(&item);
    let target = ApplicationTarget::Item {
        code,
        situation: None,
    };
    begin(&state, &headers, &actor, target, &journey).await
}

/// Saves a new, empty draft of `target` for the signed-in person and sends them to the first
/// step of its `journey`.
async fn begin(
    state: &Shared,
    headers: &HeaderMap,
    actor: &Actor,
    target: ApplicationTarget,
    journey: &Bundle,
) -> Result<Response, ApiError> {
    let owner = citizen_applicant(state, actor).await?;
    let input = ApplicationInput {
        target,
        answers: FormValues::new(),
        form: FormValues::new(),
        uploads: Default::default(),
    };
    let id = state
        .app
        .save_draft(&owner, None, &input, channel(headers), Timestamp::now())
        .await?;
    Ok(see_other(&next_step(journey, &id, Step::Start)))
}

/// The steps of the journey.
#[derive(Clone, Copy, PartialEq)]
enum Step {
    Start,
    Questions,
    Form,
}

/// Where the journey goes after `done`: the questions, the form and the materials, each
/// skipped when there is nothing to do in it (no questions, no form of its own).
fn next_step(bundle: &Bundle, id: &str, done: Step) -> String {
    if done == Step::Start && !bundle.questionnaire.is_empty() {
        format!("/applications/{id}/questions")
    } else if done != Step::Form && has_form(bundle) {
        format!("/applications/{id}/form")
    } else {
        format!("/applications/{id}/materials")
    }
}

/// Whether the journey has a form to fill in.
fn has_form(bundle: &Bundle) -> bool {
    bundle.form.fields().next().is_some()
}

/// A draft of the signed-in person with its bundle (for one item alone, the journey of
/// [`Bundle::single_item`]).
struct Draft {
    owner: ApplicantFacts,
    row: ApplicationRow,
    input: ApplicationInput,
    bundle: Bundle,
}

/// Loads a draft the person may work on; a submitted application is not a draft any more.
async fn draft(
    state: &Shared,
    actor: &Actor,
    id: &str,
) -> Result<Result<Draft, Response>, ApiError> {
    let owner = citizen_applicant(state, actor).await?;
    let row = state
        .app
        .db
        .application(id)
        .await
        .map_err(AppError::from)?
        .filter(|r| r.account_id.as_deref() == owner.account.as_ref().map(|a| a.as_str()))
        .ok_or_else(|| AppError::NotFound {
            kind: "application",
            key: id.to_string(),
        })?;
    if row.state != "draft" {
        return Ok(Err(see_other(&format!("/me/applications/{id}"))));
    }
    let input: ApplicationInput = serde_json::from_value(strip_extra(row.document.clone()))
        .map_err(|e| AppError::Internal(format!("draft {id}: {e}")))?;
    let bundle = match &input.target {
        ApplicationTarget::Bundle { code } => state.app.bundle_view(code).await?.bundle,
        ApplicationTarget::Item { code, .. } => {
            Bundle::single_item(&*state.app.decoded_item(code).await?)
        }
    };
    Ok(Ok(Draft {
        owner,
        row,
        input,
        bundle,
    }))
}

/// A draft page's draft, or where the browser goes instead: the application once submitted,
/// the questionnaire while it is unanswered (when `answers_needed`).
async fn open_draft(
    state: &Shared,
    actor: &Actor,
    id: &str,
    answers_needed: bool,
) -> Result<Result<Draft, Response>, ApiError> {
    let d = match draft(state, actor, id).await? {
        Ok(d) => d,
        Err(r) => return Ok(Err(r)),
    };
    if answers_needed && !answered(&d.bundle, &d.input.answers) {
        return Ok(Err(see_other(&format!("/applications/{id}/questions"))));
    }
    Ok(Ok(d))
}

/// The application input's own keys of a stored document (drafts keep nothing else, but the
/// document of a submitted application does).
fn strip_extra(mut document: Value) -> Value {
    if let Value::Object(map) = &mut document {
        map.retain(|k, _| matches!(k.as_str(), "target" | "answers" | "form" | "uploads"));
    }
    document
}

async fn save(state: &Shared, d: &Draft, headers: &HeaderMap) -> Result<(), ApiError> {
    state
        .app
        .save_draft(
            &d.owner,
            Some(&d.row.id),
            &d.input,
            channel(headers),
            Timestamp::now(),
        )
        .await?;
    Ok(())
}

/// The problems of a rejected use case by input name, in the page's language (paths under
/// `form.` lose that prefix).
pub(crate) fn problems_of(page: &Page, e: &AppError) -> Option<Problems> {
    let AppError::Rejected(list) = e else {
        return None;
    };
    Some(
        list.iter()
            .map(|p| {
                let path = p.path.strip_prefix("form.").unwrap_or(&p.path).to_string();
                let message = if page.en {
                    p.message_en.clone()
                } else {
                    p.message_zh.clone()
                };
                (path, message)
            })
            .collect(),
    )
}

/// One line of the task list.
pub struct Task {
    /// Key of its name.
    pub key: &'static str,
    /// Where it is done.
    pub href: String,
    /// Done.
    pub done: bool,
    /// Can be started (the steps before are done).
    pub open: bool,
}

#[derive(Template)]
#[template(path = "pages/apply_tasks.html")]
struct TasksPage {
    page: Page,
    name: String,
    tasks: Vec<Task>,
}

fn answered(bundle: &Bundle, answers: &FormValues) -> bool {
    (bundle.questionnaire.is_empty() || !answers.is_empty())
        && bundle.check_answers(answers).is_empty()
}

fn filled(bundle: &Bundle, values: &FormValues) -> bool {
    !has_form(bundle)
        || (!values.is_empty()
            && bundle
                .form
                .validate(values, onetrip_app::china_today(Timestamp::now()))
                .is_ok())
}

/// `GET /applications/{id}`: the task list of a draft.
pub async fn tasks(
    State(state): State<Shared>,
    page: Page,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let d = match open_draft(&state, &actor, &id, false).await? {
        Ok(d) => d,
        Err(r) => return Ok(r),
    };
    let q = answered(&d.bundle, &d.input.answers);
    let f = q && filled(&d.bundle, &d.input.form);
    let m = f
        && materials_of(&state, &d)
            .await?
            .iter()
            .all(|m| m.auto || !m.required || m.upload.is_some());
    let mut tasks = Vec::with_capacity(4);
    if !d.bundle.questionnaire.is_empty() {
        tasks.push(Task {
            key: "task-questions",
            href: format!("/applications/{id}/questions"),
            done: q,
            open: true,
        });
    }
    if has_form(&d.bundle) {
        tasks.push(Task {
            key: "task-form",
            href: format!("/applications/{id}/form"),
            done: f,
            open: q,
        });
    }
    tasks.extend([
        Task {
            key: "task-materials",
            href: format!("/applications/{id}/materials"),
            done: m,
            open: f,
        },
        Task {
            key: "task-check",
            href: format!("/applications/{id}/check"),
            done: false,
            open: f,
        },
    ]);
    let name = page
        .pick(&d.bundle.name, d.bundle.name_en.as_deref())
        .to_string();
    Ok(ok(&TasksPage { page, name, tasks }))
}

/// A question as drawn.
pub struct QuestionView {
    /// Key (the radio group's name).
    pub key: String,
    /// The question.
    pub text: String,
    /// Explanation.
    pub help: Option<String>,
    /// Options.
    pub options: Vec<form::OptionView>,
    /// Problem.
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/apply_questions.html")]
struct QuestionsPage {
    page: Page,
    id: String,
    name: String,
    questions: Vec<QuestionView>,
    errors: Vec<(String, String)>,
}

/// The questions of `bundle` asked for `answers` (each asked only when the answers before it
/// call for it), with their problems.
pub(crate) fn question_views(
    page: &Page,
    bundle: &Bundle,
    answers: &FormValues,
    problems: &Problems,
) -> Vec<QuestionView> {
    bundle
        .questionnaire
        .iter()
        .filter(|q| q.visible_when.as_ref().is_none_or(|c| c.holds(answers)))
        .map(|q| {
            let chosen = answers.get(&q.key).and_then(Value::as_str).unwrap_or("");
            QuestionView {
                key: q.key.clone(),
                text: page.pick(&q.text, q.text_en.as_deref()).to_string(),
                help: q.help.clone(),
                options: q
                    .options
                    .iter()
                    .map(|o| form::OptionView {
                        value: o.value.clone(),
                        label: page.pick(&o.label, o.label_en.as_deref()).to_string(),
                        checked: o.value == chosen,
                    })
                    .collect(),
                error: problems.get(&q.key).cloned(),
            }
        })
        .collect()
}

/// The error summary's links for the questionnaire's problems: to the question, or to the top
/// of the page for a problem of the answers as a whole.
pub(crate) fn question_anchors(
    questions: &[QuestionView],
    problems: &Problems,
) -> Vec<(String, String)> {
    problems
        .iter()
        .map(|(key, e)| {
            let anchor = if questions.iter().any(|q| &q.key == key) {
                format!("q-{key}")
            } else {
                "main".to_string()
            };
            (anchor, e.clone())
        })
        .collect()
}

/// The answers posted for the questions asked (in order, each asked only when the answers
/// before it call for it).
pub(crate) fn answers_from_post(bundle: &Bundle, pairs: &[(String, String)]) -> FormValues {
    let mut answers = FormValues::new();
    for q in &bundle.questionnaire {
        if !q.visible_when.as_ref().is_none_or(|c| c.holds(&answers)) {
            continue;
        }
        if let Some(v) = first(pairs, &q.key).filter(|v| !v.is_empty()) {
            answers.insert(q.key.clone(), Value::String(v.to_string()));
        }
    }
    answers
}

/// Every problem of the answers, by question key (the empty key for the answers as a whole),
/// in the page's language.
pub(crate) fn answer_problems(page: &Page, bundle: &Bundle, answers: &FormValues) -> Problems {
    bundle
        .check_answers(answers)
        .iter()
        .map(|p| {
            let key = match p {
                onetrip_domain::bundle::AnswerProblem::Required(k)
                | onetrip_domain::bundle::AnswerProblem::NotAnOption(k)
                | onetrip_domain::bundle::AnswerProblem::Unknown(k) => k.clone(),
                // Shown at the top of the questionnaire.
                onetrip_domain::bundle::AnswerProblem::NothingApplies => String::new(),
            };
            let message = if page.en {
                p.message_en()
            } else {
                p.message_zh()
            };
            (key, message)
        })
        .collect()
}

fn questions_page_of(page: Page, d: &Draft, problems: &Problems) -> QuestionsPage {
    let questions = question_views(&page, &d.bundle, &d.input.answers, problems);
    let errors = question_anchors(&questions, problems);
    QuestionsPage {
        name: page
            .pick(&d.bundle.name, d.bundle.name_en.as_deref())
            .to_string(),
        id: d.row.id.clone(),
        page,
        questions,
        errors,
    }
}

/// `GET /applications/{id}/questions`: the questionnaire.
pub async fn questions_page(
    State(state): State<Shared>,
    page: Page,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let d = match open_draft(&state, &actor, &id, false).await? {
        Ok(d) => d,
        Err(r) => return Ok(r),
    };
    Ok(ok(&questions_page_of(page, &d, &Problems::new())))
}

/// `POST /applications/{id}/questions`: keeps the answers of the questions asked (in order,
/// each asked only when the answers before it call for it); every unanswered question is shown
/// with its problem, else on to the form.
pub async fn questions_form(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    headers: HeaderMap,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let pairs = form_pairs(&body);
    check_csrf(&session, first(&pairs, "csrf_token")).await?;
    let mut d = match open_draft(&state, &actor, &id, false).await? {
        Ok(d) => d,
        Err(r) => return Ok(r),
    };
    let answers = answers_from_post(&d.bundle, &pairs);
    let problems = answer_problems(&page, &d.bundle, &answers);
    let changed = answers != d.input.answers;
    if let ApplicationTarget::Item { situation, .. } = &mut d.input.target {
        // One item alone: the answer is the situation applied for.
        *situation = answers
            .get(onetrip_domain::bundle::SITUATION_QUESTION)
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    d.input.answers = answers;
    if changed {
        // Other answers may select other members: the form is prefilled again.
        d.input.form = FormValues::new();
    }
    save(&state, &d, &headers).await?;
    if !problems.is_empty() {
        return Ok(render(
            &questions_page_of(page, &d, &problems),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    Ok(see_other(&next_step(&d.bundle, &id, Step::Questions)))
}

#[derive(Template)]
#[template(path = "pages/apply_form.html")]
struct FormPage {
    page: Page,
    id: String,
    title: String,
    sections: Vec<SectionView>,
    divisions: Vec<(String, String)>,
    errors: Vec<(String, String)>,
    /// File fields take uploads.
    files: bool,
}

/// The divisions an address field offers, by code with their names in the page's language.
pub(crate) async fn divisions(state: &Shared, en: bool) -> Result<Vec<(String, String)>, ApiError> {
    Ok(state
        .app
        .db
        .divisions()
        .await
        .map_err(AppError::from)?
        .into_iter()
        .map(|d| {
            let name = match (en, d.name_en) {
                (true, Some(n)) => n,
                _ => d.name,
            };
            (d.code, name)
        })
        .collect())
}

async fn form_page_of(
    state: &Shared,
    page: Page,
    d: &Draft,
    problems: &Problems,
) -> Result<FormPage, ApiError> {
    let sections = form::sections(&page, &d.bundle.form, &d.input.form, problems);
    let errors = problems
        .iter()
        .map(|(path, message)| (form::anchor(path), message.clone()))
        .collect();
    Ok(FormPage {
        id: d.row.id.clone(),
        title: page
            .pick(&d.bundle.form.title, d.bundle.form.title_en.as_deref())
            .to_string(),
        divisions: divisions(state, page.en).await?,
        sections,
        errors,
        files: true,
        page,
    })
}

/// `GET /applications/{id}/form`: the one form, prefilled on the first visit from the
/// person's account, certificates and the shared data the members may read (each read
/// logged), and from the answers.
pub async fn form_page(
    State(state): State<Shared>,
    page: Page,
    headers: HeaderMap,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let mut d = match open_draft(&state, &actor, &id, true).await? {
        Ok(d) => d,
        Err(r) => return Ok(r),
    };
    if !has_form(&d.bundle) {
        return Ok(see_other(&next_step(&d.bundle, &id, Step::Form)));
    }
    if d.input.form.is_empty() {
        let now = Timestamp::now();
        d.input.form = match &d.input.target {
            ApplicationTarget::Bundle { code } => {
                state
                    .app
                    .prepare_bundle(code, &d.owner, &d.input.answers, now)
                    .await?
                    .prefill
            }
            ApplicationTarget::Item { code, .. } => {
                state.app.prepare_item(code, &d.owner, now).await?.prefill
            }
        };
        save(&state, &d, &headers).await?;
    }
    Ok(ok(&form_page_of(&state, page, &d, &Problems::new()).await?))
}

/// `POST /applications/{id}/form`: saves what was filled in; adds or removes a row of a
/// group and shows the form again; else checks every field and shows every problem next to
/// its field, or goes on to the materials.
pub async fn form_form(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    headers: HeaderMap,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let sent = read_page_form(request, state.app.upload_max_bytes()).await?;
    let pairs = &sent.fields;
    check_csrf(&session, first(pairs, "csrf_token")).await?;
    let mut d = match open_draft(&state, &actor, &id, false).await? {
        Ok(d) => d,
        Err(r) => return Ok(r),
    };
    let mut values = form::values_from_post(&d.bundle.form, &d.input.form, pairs);
    let row_change = form::row_change(&d.bundle.form, &mut values, pairs);
    // Files chosen for file fields are uploaded, and the fields refer to them.
    let mut upload_problems = Problems::new();
    if let Some(part) = &sent.too_large {
        let e = onetrip_app::uploads::too_large(state.app.upload_max_bytes());
        upload_problems.insert(part.clone(), refusal_text(&page, e)?);
    }
    for (part, file_name, content) in &sent.files {
        if !d
            .bundle
            .form
            .field(part)
            .is_some_and(|f| matches!(f.kind, FieldKind::File { .. }))
        {
            continue;
        }
        let by = case_actor(&state, &actor).await?;
        match state
            .app
            .upload_file(&by, file_name, content.clone(), Timestamp::now())
            .await
        {
            Ok(row) => {
                values.insert(part.clone(), onetrip_app::uploads::file_value(&row));
            }
            Err(e) => {
                upload_problems.insert(part.clone(), refusal_text(&page, e)?);
            }
        }
    }
    d.input.form = values;
    // A draft keeps what is well-formed so far; malformed values are shown, not saved.
    let saved = save(&state, &d, &headers).await;
    let today = onetrip_app::china_today(Timestamp::now());
    let full_check = |values: &FormValues| form::check(&page, &d.bundle.form, values, today);
    let problems: Problems = match saved {
        Err(e) if e.errors.is_empty() => return Err(e),
        // A row added or removed: only what is malformed so far.
        Err(e) if row_change => e
            .errors
            .iter()
            .map(|f| {
                let path = f.path.strip_prefix("form.").unwrap_or(&f.path).to_string();
                let m = if page.en {
                    &f.message_en
                } else {
                    &f.message_zh
                };
                (path, m.clone())
            })
            .collect(),
        // Not saved: every problem of the form, the malformed values among them.
        Err(_) => full_check(&d.input.form),
        Ok(()) if row_change => Problems::new(),
        Ok(()) => {
            let problems = full_check(&d.input.form);
            if problems.is_empty() && upload_problems.is_empty() {
                return Ok(see_other(&next_step(&d.bundle, &id, Step::Form)));
            }
            problems
        }
    };
    // A refused file is the problem of its field.
    let mut problems = problems;
    problems.extend(upload_problems);
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render(
        &form_page_of(&state, page, &d, &problems).await?,
        status,
    ))
}

/// A refusal's message in the page's language; any other error is passed on.
pub(crate) fn refusal_text(page: &Page, e: AppError) -> Result<String, ApiError> {
    match e {
        AppError::Refused { zh, en, .. } => Ok(page.pick(&zh, Some(&en)).to_string()),
        other => Err(other.into()),
    }
}

/// A material of the application as drawn.
pub struct MaterialView {
    /// Name.
    pub name: String,
    /// Key of the text saying how it is supplied.
    pub how_key: &'static str,
    /// Fetched by the platform.
    pub auto: bool,
    /// Required.
    pub required: bool,
    /// The id of its file input (the error summary links to it).
    pub anchor: String,
    /// The file uploaded for it: upload id and file name.
    pub upload: Option<(String, String)>,
    /// Why the last upload for it was refused.
    pub error: Option<String>,
}

/// The key of a material's upload in the application (`upload:<name>`, one per material of
/// the merged set, whichever members need it).
fn upload_key(name: &str) -> String {
    format!("upload:{}", name.trim())
}

fn material_view(
    i: usize,
    m: &MergedMaterial,
    uploads: &BTreeMap<String, FileRef>,
) -> MaterialView {
    let (how_key, auto) = match &m.source {
        MaterialSource::Upload => ("material-upload", false),
        MaterialSource::Certificate { .. } => ("material-from-certificate", true),
        MaterialSource::SharedData { .. } => ("material-from-shared-data", true),
        MaterialSource::BundleOutput { .. } => ("material-from-earlier-item", true),
    };
    MaterialView {
        name: m.name.clone(),
        how_key,
        auto,
        required: m.required,
        anchor: format!("material-{i}"),
        upload: uploads
            .get(&upload_key(&m.name))
            .map(|f| (f.id.clone(), f.name.clone())),
        error: None,
    }
}

#[derive(Template)]
#[template(path = "pages/apply_materials.html")]
struct MaterialsPage {
    page: Page,
    id: String,
    materials: Vec<MaterialView>,
    /// Required materials still to be uploaded.
    missing: usize,
    /// Some materials are uploaded (not fetched).
    to_upload: bool,
    /// The largest file accepted, in MB.
    max_mb: u64,
    errors: Vec<(String, String)>,
}

/// The materials of a draft as drawn: those the platform fetches itself (certificates, shared
/// data, earlier members' results) shown as done, the others with their upload.
async fn materials_of(state: &Shared, d: &Draft) -> Result<Vec<MaterialView>, ApiError> {
    let (items, _) = state.app.member_items(&d.bundle).await?;
    let selection = d
        .bundle
        .select(&d.input.answers, &items)
        .map_err(|e| AppError::Internal(format!("selection: {e:?}")))?;
    Ok(selection
        .materials
        .iter()
        .enumerate()
        .map(|(i, m)| material_view(i, m, &d.input.uploads))
        .collect())
}

fn materials_page_of(
    state: &Shared,
    page: Page,
    id: String,
    materials: Vec<MaterialView>,
) -> MaterialsPage {
    let missing = materials
        .iter()
        .filter(|m| !m.auto && m.required && m.upload.is_none())
        .count();
    let errors = materials
        .iter()
        .filter_map(|m| Some((m.anchor.clone(), m.error.clone()?)))
        .collect();
    MaterialsPage {
        page,
        id,
        to_upload: materials.iter().any(|m| !m.auto),
        materials,
        missing,
        max_mb: state.app.upload_max_bytes().div_ceil(1024 * 1024),
        errors,
    }
}

/// `GET /applications/{id}/materials`: the one set of materials, those the platform fetches
/// itself shown as done, the others each with its upload.
pub async fn materials_page(
    State(state): State<Shared>,
    page: Page,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let d = match open_draft(&state, &actor, &id, true).await? {
        Ok(d) => d,
        Err(r) => return Ok(r),
    };
    let materials = materials_of(&state, &d).await?;
    Ok(ok(&materials_page_of(&state, page, id, materials)))
}

/// `POST /applications/{id}/materials` (`multipart/form-data`): uploads the file for the
/// material named `material`, or takes back the file of the material named `remove`; then
/// back to the materials, where a refused file is explained next to its input.
#[allow(clippy::too_many_arguments)]
pub async fn materials_form(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    headers: HeaderMap,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let sent = read_multipart(multipart, state.app.upload_max_bytes()).await?;
    check_csrf(&session, first(&sent.fields, "csrf_token")).await?;
    let mut d = match open_draft(&state, &actor, &id, true).await? {
        Ok(d) => d,
        Err(r) => return Ok(r),
    };
    let mut materials = materials_of(&state, &d).await?;
    let back = see_other(&format!("/applications/{id}/materials"));
    if let Some(name) = first(&sent.fields, "remove") {
        if d.input.uploads.remove(&upload_key(name)).is_some() {
            save(&state, &d, &headers).await?;
        }
        return Ok(back);
    }
    let named = first(&sent.fields, "material");
    let Some(view) = materials
        .iter_mut()
        .find(|m| !m.auto && Some(m.name.as_str()) == named)
    else {
        // The material is not (or no longer) one to upload: the page as it stands now.
        return Ok(back);
    };
    let refusal = if sent.too_large.is_some() {
        onetrip_app::uploads::too_large(state.app.upload_max_bytes())
    } else {
        let (file_name, content) = sent.file("file").unwrap_or_default();
        let by = case_actor(&state, &actor).await?;
        match state
            .app
            .upload_file(&by, &file_name, content, Timestamp::now())
            .await
        {
            Ok(row) => {
                d.input
                    .uploads
                    .insert(upload_key(&view.name), onetrip_app::uploads::file_ref(&row));
                save(&state, &d, &headers).await?;
                return Ok(back);
            }
            Err(e) => e,
        }
    };
    view.error = Some(refusal_text(&page, refusal)?);
    Ok(render(
        &materials_page_of(&state, page, id, materials),
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

#[derive(Template)]
#[template(path = "pages/apply_check.html")]
struct CheckPage {
    page: Page,
    id: String,
    name: String,
    answers: Vec<(String, String)>,
    values: Vec<(String, String)>,
    errors: Vec<(String, String)>,
}

fn check_page_of(page: Page, d: &Draft, errors: Vec<(String, String)>) -> CheckPage {
    let answers = d
        .bundle
        .questionnaire
        .iter()
        .filter_map(|q| {
            let v = d.input.answers.get(&q.key)?.as_str()?;
            let label = q
                .options
                .iter()
                .find(|o| o.value == v)
                .map(|o| page.pick(&o.label, o.label_en.as_deref()).to_string())
                .unwrap_or_else(|| v.to_string());
            Some((page.pick(&q.text, q.text_en.as_deref()).to_string(), label))
        })
        .collect();
    let values = form::summary(&page, &d.bundle.form, &d.input.form);
    CheckPage {
        id: d.row.id.clone(),
        name: page
            .pick(&d.bundle.name, d.bundle.name_en.as_deref())
            .to_string(),
        answers,
        values,
        errors,
        page,
    }
}

/// `GET /applications/{id}/check`: check your answers before submitting.
pub async fn check_page(
    State(state): State<Shared>,
    page: Page,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let d = match open_draft(&state, &actor, &id, true).await? {
        Ok(d) => d,
        Err(r) => return Ok(r),
    };
    Ok(ok(&check_page_of(page, &d, Vec::new())))
}

/// `POST /applications/{id}/check`: submits the application once (the draft's id is the
/// idempotency key, so a double click or a resent form makes one application), then shows
/// the confirmation.
pub async fn submit(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    headers: HeaderMap,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let pairs = form_pairs(&body);
    check_csrf(&session, first(&pairs, "csrf_token")).await?;
    let d = match open_draft(&state, &actor, &id, false).await? {
        Ok(d) => d,
        Err(r) => return Ok(r),
    };
    let key = format!("page:{id}");
    match state
        .app
        .submit_application(
            &d.owner,
            Some(&id),
            &d.input,
            channel(&headers),
            None,
            Some(&key),
            Timestamp::now(),
        )
        .await
    {
        Ok(submitted) => Ok(see_other(&format!(
            "/me/applications/{}?submitted=1",
            submitted.application
        ))),
        Err(e) => match problems_of(&page, &e) {
            Some(problems) => {
                let errors = problems
                    .into_iter()
                    .map(|(path, message)| (form::anchor(&path), message))
                    .collect();
                Ok(render(
                    &check_page_of(page, &d, errors),
                    StatusCode::UNPROCESSABLE_ENTITY,
                ))
            }
            None => Err(e.into()),
        },
    }
}
