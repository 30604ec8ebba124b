//! The department officer pages (部门经办): the queue of the officer's department (filters,
//! keyset paging by deadline, warning colours with their words, what is due today at the
//! top), batch approval from the queue, and one case with its applicant, form, materials,
//! history, deadline and supervision orders, and the actions its state allows.
//!
//! Every page calls the same use cases as the API (`department_queue`, `act_on_case`,
//! `answer_supervision_order`): what an officer may see and do is decided there.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use onetrip_app::cases::{CaseActor, CaseCommand};
use onetrip_app::casework::CaseFile;
use onetrip_domain::case::{
    ActionKind, CaseState, CorrectionItem, Outcome, SpecialProcedure, Warning,
};
use onetrip_domain::catalog::DeliveryMethod;
use onetrip_domain::identity::StaffRole;
use onetrip_store::{CaseRow, DueCounts, QueueFilter};
use serde::Deserialize;
use tower_sessions::Session;

use super::{Page, check_csrf, china_time, encode, first, form_pairs, ok, render};
use crate::Shared;
use crate::api::accounts::CurrentActor;
use crate::api::cases::case_actor;
use crate::api::identifiers::today_in_china;
use crate::extract::{Path, Query};
use crate::policy::{Actor, StaffActor};
use crate::problem::ApiError;

/// The addresses of the officer pages.
pub const PATHS: &[&str] = &[
    "/work/queue",
    "/work/queue/batch",
    "/work/cases/{number}",
    "/work/cases/{number}/uploads/{id}",
];

/// Cases per queue page.
pub const QUEUE_PAGE: usize = 50;

/// The officer pages' routes.
pub fn router() -> axum::Router<Shared> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/work/queue", get(queue))
        .route("/work/queue/batch", post(batch))
        .route("/work/cases/{number}", get(case_page).post(case_action))
        .route("/work/cases/{number}/uploads/{id}", get(case_upload))
}

/// `GET /work/cases/{number}/uploads/{id}`: a file of the case (shown in the browser).
async fn case_upload(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path((number, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let who = case_actor(&state, &actor).await?;
    let (row, content) = state.app.case_upload(&who, &number, &id).await?;
    Ok(crate::api::uploads::file_response(&row, content))
}

/// The problem of a page that needs a department officer.
fn not_an_officer() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "not_an_officer",
        "您的账号不是部门经办人员",
        "Your account is not a department officer's",
    )
}

fn staff_of(actor: &Actor) -> Result<&StaffActor, ApiError> {
    match actor {
        Actor::Staff(s) => Ok(s),
        _ => Err(not_an_officer()),
    }
}

/// A form posted by a member of staff: its pairs (the CSRF token checked) and the case actor
/// they act as.
pub(crate) async fn staff_form(
    state: &Shared,
    session: &Session,
    actor: &Actor,
    body: &[u8],
) -> Result<(Vec<(String, String)>, CaseActor), ApiError> {
    let pairs = form_pairs(body);
    check_csrf(session, first(&pairs, "csrf_token")).await?;
    staff_of(actor)?;
    let who = case_actor(state, actor).await?;
    Ok((pairs, who))
}

/// Back to the case after an action, with its confirmation.
pub(crate) fn done_redirect(number: &str, action: &str) -> Response {
    Redirect::to(&format!(
        "/work/cases/{}?done={}",
        encode(number),
        encode(action)
    ))
    .into_response()
}

/// The departments whose queues the member of staff works on: those of their officer and head
/// grants, their own department for a grant that names none.
async fn officer_departments(state: &Shared, staff: &StaffActor) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::new();
    let mut own = false;
    for g in &staff.roles {
        if !matches!(
            g.role,
            StaffRole::DepartmentOfficer | StaffRole::DepartmentHead
        ) {
            continue;
        }
        match &g.department {
            Some(d) if !out.contains(d) => out.push(d.clone()),
            Some(_) => {}
            None => own = true,
        }
    }
    if own
        && let Some(row) = state
            .app
            .db
            .staff_by_id(&staff.id)
            .await
            .map_err(onetrip_app::AppError::from)?
        && !out.contains(&row.department_code)
    {
        out.push(row.department_code);
    }
    Ok(out)
}

/// A department's name in the page's language (its code when unknown).
async fn department_name(state: &Shared, code: &str, en: bool) -> String {
    match state.app.db.department(code).await {
        Ok(Some(d)) => match (d.name_en, en) {
            (Some(name), true) => name,
            _ => d.name,
        },
        _ => code.to_string(),
    }
}

/// Item names by code, in the page's language, each looked up once.
async fn item_names<'a>(
    state: &Shared,
    codes: impl Iterator<Item = &'a str>,
    en: bool,
) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for code in codes {
        if names.contains_key(code) {
            continue;
        }
        let name = match state.app.service_item(code).await {
            Ok((item, _)) => match (item.name_en, en) {
                (Some(n), true) => n,
                _ => item.name,
            },
            Err(_) => code.to_string(),
        };
        names.insert(code.to_string(), name);
    }
    names
}

/// The domain's state of a stored state name.
fn state_of(name: &str) -> Option<CaseState> {
    CaseState::ALL.into_iter().find(|s| s.as_str() == name)
}

/// The domain's warning of a stored colour name.
fn warning_of(name: &str) -> Option<Warning> {
    [Warning::Green, Warning::Yellow, Warning::Red]
        .into_iter()
        .find(|w| w.as_str() == name)
}

fn state_label(page: &Page, name: &str) -> String {
    match state_of(name) {
        Some(s) if page.en => s.label_en().to_string(),
        Some(s) => s.label_zh().to_string(),
        None => name.to_string(),
    }
}

/// A warning colour's class and words (never the colour alone).
pub(crate) fn warning_label(page: &Page, name: &str) -> (&'static str, String) {
    let w = warning_of(name).unwrap_or_default();
    let text = if page.en { w.label_en() } else { w.label_zh() };
    (w.as_str(), text.to_string())
}

/// An option of a filter.
pub struct Choice {
    /// Value.
    pub value: String,
    /// Words.
    pub label: String,
    /// Chosen.
    pub selected: bool,
}

/// A figure at the top of the queue, linking to the cases it counts.
pub struct Figure {
    /// The queue filtered to these cases.
    pub href: String,
    /// How many.
    pub count: i64,
    /// Key of its words.
    pub key: &'static str,
}

/// A case in the queue.
pub struct QueueRow {
    /// Case number.
    pub number: String,
    /// Item name.
    pub item: String,
    /// State in words.
    pub state: String,
    /// Due date.
    pub due_on: String,
    /// Warning class (`green`, `yellow`, `red`).
    pub warning: &'static str,
    /// Warning in words.
    pub warning_text: String,
}

#[derive(Template)]
#[template(path = "pages/work/queue.html")]
struct QueuePage {
    page: Page,
    departments: Vec<Choice>,
    department: String,
    department_name: String,
    today: String,
    figures: Vec<Figure>,
    states: Vec<Choice>,
    warnings: Vec<Choice>,
    dues: Vec<Choice>,
    division: String,
    item: String,
    rows: Vec<QueueRow>,
    next_href: Option<String>,
    first_href: Option<String>,
    errors: Vec<(String, String)>,
    state_error: Option<String>,
    division_error: Option<String>,
    after_error: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/work/no_department.html")]
struct NoDepartmentPage {
    page: Page,
}

/// Query of the queue page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QueueQuery {
    /// Department credit code (an officer of several departments picks one).
    pub department: Option<String>,
    /// Only this state.
    pub state: Option<String>,
    /// Only this warning colour.
    pub warning: Option<String>,
    /// `overdue`, `today` or `week`.
    pub due: Option<String>,
    /// Only cases of divisions whose code starts with this.
    pub division: Option<String>,
    /// Only this item.
    pub item: Option<String>,
    /// Keyset paging: the last case of the previous page, `due_on~number`.
    pub after: Option<String>,
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The last day of the week of `today` (Sunday).
fn week_end(today: Date) -> Date {
    let offset = 7 - i64::from(today.weekday().to_monday_one_offset());
    today
        .checked_add(jiff::Span::new().days(offset))
        .unwrap_or(today)
}

/// The queue's address with these filters.
fn queue_href(department: &str, pairs: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("department", department);
    for (k, v) in pairs {
        if !v.is_empty() {
            query.append_pair(k, v);
        }
    }
    format!("/work/queue?{}", query.finish())
}

/// The day's figures: overdue, due today, due later this week.
fn figures(department: &str, division: &str, counts: DueCounts) -> Vec<Figure> {
    [
        ("overdue", counts.overdue, "work-count-overdue"),
        ("today", counts.today, "work-count-today"),
        ("week", counts.this_week, "work-count-week"),
    ]
    .into_iter()
    .map(|(due, count, key)| Figure {
        href: queue_href(department, &[("due", due), ("division", division)]),
        count,
        key,
    })
    .collect()
}

/// `GET /work/queue`: the department's open cases, soonest due first, with filters, the day's
/// figures at the top and keyset paging.
pub async fn queue(
    State(state): State<Shared>,
    page: Page,
    CurrentActor(actor): CurrentActor,
    Query(q): Query<QueueQuery>,
) -> Result<Response, ApiError> {
    let staff = staff_of(&actor)?;
    let mine = officer_departments(&state, staff).await?;
    let Some(department) = non_empty(q.department.clone()).or_else(|| mine.first().cloned()) else {
        return Ok(ok(&NoDepartmentPage { page }));
    };
    let who = case_actor(&state, &actor).await?;
    let today = today_in_china();
    let week_end = week_end(today);
    let mut errors = Vec::new();

    let mut state_filter = non_empty(q.state);
    let mut state_error = None;
    if let Some(s) = &state_filter
        && state_of(s).is_none()
    {
        let m = page.t("work-filter-state-invalid");
        errors.push(("state".to_string(), m.clone()));
        state_error = Some(m);
        state_filter = None;
    }
    let warning = non_empty(q.warning).filter(|w| warning_of(w).is_some());
    let due = non_empty(q.due).filter(|d| ["overdue", "today", "week"].contains(&d.as_str()));
    let mut division = non_empty(q.division);
    let mut division_error = None;
    if let Some(d) = &division
        && (d.len() > 12 || !d.chars().all(|c| c.is_ascii_digit()))
    {
        let m = page.t("work-filter-division-invalid");
        errors.push(("division".to_string(), m.clone()));
        division_error = Some(m);
        division = None;
    }
    let mut after = None;
    let mut after_error = None;
    if let Some(a) = non_empty(q.after) {
        match a
            .split_once('~')
            .and_then(|(d, n)| Some((d.parse::<Date>().ok()?, n.to_string())))
        {
            Some(key) => after = Some(key),
            None => {
                let m = page.t("work-after-invalid");
                errors.push(("queue".to_string(), m.clone()));
                after_error = Some(m);
            }
        }
    }
    let (due_from, due_until) = match due.as_deref() {
        Some("overdue") => (None, today.checked_sub(jiff::Span::new().days(1)).ok()),
        Some("today") => (Some(today), Some(today)),
        Some("week") => (Some(today), Some(week_end)),
        _ => (None, None),
    };
    let item = non_empty(q.item);
    let filter = QueueFilter {
        state: state_filter.clone(),
        warning: warning.clone(),
        item_code: item.clone(),
        division_prefix: division.clone(),
        due_from,
        due_until,
        after: after.clone(),
    };
    // The figures first: they also refuse whoever may not see the department's queue.
    let counts = state
        .app
        .department_due_counts(&who, &department, division.as_deref(), today, week_end)
        .await?;
    let limit = i64::try_from(QUEUE_PAGE + 1).unwrap_or(i64::MAX);
    let mut found: Vec<CaseRow> = state
        .app
        .department_queue(&who, &department, &filter, limit)
        .await?;
    let more = found.len() > QUEUE_PAGE;
    found.truncate(QUEUE_PAGE);
    let names = item_names(&state, found.iter().map(|r| r.item_code.as_str()), page.en).await;
    let current: Vec<(&str, &str)> = vec![
        ("state", state_filter.as_deref().unwrap_or_default()),
        ("warning", warning.as_deref().unwrap_or_default()),
        ("due", due.as_deref().unwrap_or_default()),
        ("division", division.as_deref().unwrap_or_default()),
        ("item", item.as_deref().unwrap_or_default()),
    ];
    let next_href = match (more, found.last()) {
        (true, Some(last)) => {
            let key = format!("{}~{}", last.due_on, last.number);
            let mut pairs = current.clone();
            pairs.push(("after", &key));
            Some(queue_href(&department, &pairs))
        }
        _ => None,
    };
    let first_href = after.is_some().then(|| queue_href(&department, &current));
    let rows = found
        .iter()
        .map(|r| {
            let (class, text) = warning_label(&page, &r.warning);
            QueueRow {
                number: r.number.clone(),
                item: names.get(&r.item_code).cloned().unwrap_or_default(),
                state: state_label(&page, &r.state),
                due_on: r.due_on.to_string(),
                warning: class,
                warning_text: text,
            }
        })
        .collect();
    let mut departments = Vec::new();
    let mut listed = mine.clone();
    if !listed.contains(&department) {
        listed.push(department.clone());
    }
    for code in &listed {
        departments.push(Choice {
            label: department_name(&state, code, page.en).await,
            selected: *code == department,
            value: code.clone(),
        });
    }
    let states = CaseState::ALL
        .into_iter()
        .filter(|s| !s.is_terminal())
        .map(|s| Choice {
            value: s.as_str().to_string(),
            label: if page.en { s.label_en() } else { s.label_zh() }.to_string(),
            selected: state_filter.as_deref() == Some(s.as_str()),
        })
        .collect();
    let warnings = [Warning::Green, Warning::Yellow, Warning::Red]
        .into_iter()
        .map(|w| Choice {
            value: w.as_str().to_string(),
            label: if page.en { w.label_en() } else { w.label_zh() }.to_string(),
            selected: warning.as_deref() == Some(w.as_str()),
        })
        .collect();
    let dues = [
        ("overdue", "work-due-overdue"),
        ("today", "work-due-today"),
        ("week", "work-due-week"),
    ]
    .into_iter()
    .map(|(value, key)| Choice {
        value: value.to_string(),
        label: page.t(key),
        selected: due.as_deref() == Some(value),
    })
    .collect();
    let division_text = division.clone().unwrap_or_default();
    let figures = figures(&department, &division_text, counts);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render(
        &QueuePage {
            department_name: departments
                .iter()
                .find(|d| d.selected)
                .map(|d| d.label.clone())
                .unwrap_or_default(),
            departments,
            department,
            today: today.to_string(),
            figures,
            states,
            warnings,
            dues,
            division: division_text,
            item: item.unwrap_or_default(),
            rows,
            next_href,
            first_href,
            errors,
            state_error,
            division_error,
            after_error,
            page,
        },
        status,
    ))
}

/// One case's row of a batch's report.
pub struct BatchLine {
    /// Case number.
    pub number: String,
    /// Whether it was done.
    pub done: bool,
    /// What happened, in words.
    pub text: String,
}

#[derive(Template)]
#[template(path = "pages/work/batch.html")]
struct BatchPage {
    page: Page,
    back: String,
    action_label: String,
    lines: Vec<BatchLine>,
    errors: Vec<(String, String)>,
}

/// `POST /work/queue/batch`: accepts, or approves, every ticked case, one use case call each,
/// and reports per case what happened.
pub async fn batch(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    CurrentActor(actor): CurrentActor,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let (pairs, who) = staff_form(&state, &session, &actor, &body).await?;
    let department = first(&pairs, "department").unwrap_or_default().to_string();
    let back = if department.is_empty() {
        "/work/queue".to_string()
    } else {
        queue_href(&department, &[])
    };
    let numbers: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| k == "case" && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
        .collect();
    let (command, label_key) = match first(&pairs, "batch_action") {
        Some("accept") => (CaseCommand::Accept, "work-batch-accept"),
        Some("approve") => (
            CaseCommand::Decide {
                outcome: Outcome::Approved,
            },
            "work-batch-approve",
        ),
        _ => {
            let m = page.t("work-batch-action-invalid");
            return Ok(render(
                &BatchPage {
                    back,
                    action_label: String::new(),
                    lines: Vec::new(),
                    errors: vec![("batch_action".to_string(), m)],
                    page,
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    if numbers.is_empty() {
        let m = page.t("work-batch-none");
        return Ok(render(
            &BatchPage {
                back,
                action_label: page.t(label_key),
                lines: Vec::new(),
                errors: vec![("cases".to_string(), m)],
                page,
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let mut lines = Vec::new();
    for number in numbers
        .iter()
        .take(onetrip_app::supervision::MAX_QUEUE as usize)
    {
        let result = state
            .app
            .act_on_case(&who, number, command.clone(), None, Timestamp::now())
            .await;
        lines.push(match result {
            Ok(view) => BatchLine {
                number: number.clone(),
                done: true,
                text: if page.en {
                    view.state_en
                } else {
                    view.state_zh
                },
            },
            Err(e) => {
                let e = ApiError::from(e);
                BatchLine {
                    number: number.clone(),
                    done: false,
                    text: if page.en { e.message_en } else { e.message_zh },
                }
            }
        });
    }
    Ok(ok(&BatchPage {
        back,
        action_label: page.t(label_key),
        lines,
        errors: Vec::new(),
        page,
    }))
}

/// A label and a value shown on the case page.
pub struct Fact {
    /// Label.
    pub label: String,
    /// Value.
    pub value: String,
}

/// A file of the case, with the address that opens it.
pub struct UploadLine {
    /// The material it is for.
    pub label: String,
    /// File name.
    pub name: String,
    /// Where it opens (none for a material received on paper at a window).
    pub href: Option<String>,
}

/// A material of the case.
pub struct MaterialLine {
    /// Name.
    pub name: String,
    /// Fetched by the platform.
    pub auto: bool,
    /// How it is supplied, in words.
    pub how: String,
    /// Its source (certificate identifier, data resource, earlier item), when fetched.
    pub source: String,
}

/// A supervision order on the case.
pub struct OrderLine {
    /// Id.
    pub id: String,
    /// Why.
    pub reason: String,
    /// Answer due.
    pub respond_by: String,
    /// Issued.
    pub issued_at: String,
    /// The answer, once given.
    pub answer: Option<String>,
    /// Answered.
    pub answered_at: String,
    /// The problem of the last answer posted to it.
    pub error: Option<String>,
}

/// A review step still to be done.
pub struct StepLine {
    /// `stage.step` (0-based), the posted value.
    pub value: String,
    /// Name.
    pub name: String,
}

/// What was posted, kept to fill the forms again next to their problems.
#[derive(Default)]
pub struct Posted {
    /// Field values by name (the first of each).
    pub values: BTreeMap<String, String>,
    /// Problems by field id.
    pub problems: BTreeMap<String, String>,
}

impl Posted {
    /// The posted value of a field.
    pub fn value(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    /// The problem of a field.
    pub fn problem(&self, id: &str) -> Option<&str> {
        self.problems.get(id).map(String::as_str)
    }
}

#[derive(Template)]
#[template(path = "pages/work/case.html")]
struct CasePage {
    page: Page,
    number: String,
    item: String,
    department: String,
    state: String,
    warning: &'static str,
    warning_text: String,
    due_on: String,
    deadline: Option<String>,
    remaining: Option<String>,
    applicant: Vec<Fact>,
    form: Vec<Fact>,
    materials: Vec<MaterialLine>,
    uploads: Vec<UploadLine>,
    history: Vec<(String, String, String)>,
    orders: Vec<OrderLine>,
    actions: Vec<&'static str>,
    steps: Vec<StepLine>,
    subjects: Vec<Choice>,
    deliveries: Vec<Choice>,
    procedures: Vec<Choice>,
    may_supervise: bool,
    may_answer: bool,
    issues_certificate: bool,
    acceptor_note: bool,
    done: Option<String>,
    errors: Vec<(String, String)>,
    posted: Posted,
    correction_rows: Vec<usize>,
    queue_href: String,
    respond_by: String,
}

impl CasePage {
    fn has(&self, action: &str) -> bool {
        self.actions.contains(&action)
    }
}

/// Query of the case page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CaseQuery {
    /// The action just done (the confirmation after a form).
    pub done: Option<String>,
}

/// The confirmation of an action done.
fn done_text(page: &Page, action: &str) -> Option<String> {
    let key = match action {
        "accept" => "work-done-accept",
        "refuse" => "work-done-refuse",
        "request_correction" => "work-done-request-correction",
        "complete_step" => "work-done-complete-step",
        "suspend" => "work-done-suspend",
        "resume" => "work-done-resume",
        "decide" => "work-done-decide",
        "issue_result" => "work-done-issue-result",
        "answer_supervision" => "work-done-answer",
        "order_supervision" => "work-done-order",
        _ => return None,
    };
    Some(page.t(key))
}

/// A resident ID number or a phone number in a value, masked as the API masks them.
fn masked(value: &str) -> String {
    let v = value.trim();
    if let Ok(id) = onetrip_domain::identifiers::ResidentId::parse(v, today_in_china()) {
        return id.to_string();
    }
    if v.len() == 11 && v.starts_with('1') && v.chars().all(|c| c.is_ascii_digit()) {
        return onetrip_domain::sharing::mask_phone(v);
    }
    value.to_string()
}

/// The form values of the case's application, labelled by its form, identifiers masked.
async fn form_facts(state: &Shared, page: &Page, file: &CaseFile) -> Vec<Fact> {
    let a = &file.application;
    let values: onetrip_domain::form::FormValues = a
        .document
        .get("form")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let schema = match (&a.bundle_code, &a.item_code) {
        (Some(code), _) => state
            .app
            .db
            .bundle_version(code, a.bundle_version.unwrap_or(1))
            .await
            .ok()
            .flatten()
            .map(|b| b.bundle.form),
        (None, Some(code)) => state
            .app
            .service_item(code)
            .await
            .ok()
            .and_then(|(i, _)| i.form),
        _ => None,
    };
    match schema {
        Some(schema) => super::form::summary(page, &schema, &values)
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(label, value)| Fact {
                label,
                value: masked(&value),
            })
            .collect(),
        None => values
            .iter()
            .map(|(k, v)| Fact {
                label: k.clone(),
                value: masked(&v.as_str().map_or_else(|| v.to_string(), str::to_string)),
            })
            .collect(),
    }
}

/// The materials of the case's item as resolved at submission.
fn material_lines(page: &Page, file: &CaseFile) -> Vec<MaterialLine> {
    let items = file
        .application
        .document
        .pointer("/resolution/items")
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for item in items
        .iter()
        .filter(|i| i.get("item").and_then(|v| v.as_str()) == Some(file.view.item.as_str()))
    {
        let materials = item
            .get("materials")
            .and_then(serde_json::Value::as_array)
            .cloned()
            .unwrap_or_default();
        for m in materials {
            let text = |k: &str| m.get(k).and_then(|v| v.as_str()).unwrap_or_default();
            let resolved = text("status") == "resolved";
            let source = m.get("source");
            let kind = source
                .and_then(|s| s.get("kind"))
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            let field = |k: &str| {
                source
                    .and_then(|s| s.get(k))
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let (how, detail) = match (resolved, kind) {
                (true, "certificate") => (
                    "material-from-certificate",
                    format!("{} · {}", field("certificate_type"), field("identifier")),
                ),
                (true, "shared_data") => ("material-from-shared-data", field("resource")),
                (true, "item_output") => ("material-from-earlier-item", field("item_name")),
                _ => ("material-upload", String::new()),
            };
            out.push(MaterialLine {
                name: text("name").to_string(),
                auto: resolved,
                how: page.t(how),
                source: detail,
            });
        }
    }
    out
}

/// The working days left, in words.
fn remaining_text(page: &Page, days: i64) -> String {
    if days < 0 {
        page.tv("work-remaining-overdue", &(-days).to_string())
    } else {
        page.tv("work-remaining", &days.to_string())
    }
}

/// A label of a case event's author.
fn actor_text(page: &Page, label: &str) -> String {
    let (kind, _) = label.split_once(':').unwrap_or((label, ""));
    match kind {
        "staff" => page.t("work-actor-staff"),
        "applicant" => page.t("work-actor-applicant"),
        "client" => page.t("work-actor-system"),
        _ => page.t("work-actor-platform"),
    }
}

async fn case_page_of(
    state: &Shared,
    who: &CaseActor,
    page: Page,
    file: CaseFile,
    done: Option<String>,
    posted: Posted,
    errors: Vec<(String, String)>,
) -> CasePage {
    let view = &file.view;
    let (warning, warning_text) = warning_label(&page, &view.warning);
    let a = &file.application;
    let id_text = if a.subject_kind == "person" {
        masked(&a.subject_id)
    } else {
        a.subject_id.clone()
    };
    let applicant = vec![
        Fact {
            label: page.t("work-applicant-name"),
            value: a.subject_name.clone(),
        },
        Fact {
            label: page.t(if a.subject_kind == "person" {
                "work-applicant-resident-id"
            } else {
                "work-applicant-credit-code"
            }),
            value: id_text,
        },
        Fact {
            label: page.t("work-applicant-channel"),
            value: a.channel.clone(),
        },
        Fact {
            label: page.t("work-applicant-submitted"),
            value: a.submitted_at.map(china_time).unwrap_or_default(),
        },
    ];
    let uploads = file
        .uploads
        .iter()
        .map(|(key, f)| UploadLine {
            label: key.strip_prefix("upload:").unwrap_or(key).to_string(),
            name: f.name.clone(),
            href: (!f.id.starts_with(onetrip_app::uploads::RECEIVED_ON_PAPER))
                .then(|| format!("/work/cases/{}/uploads/{}", file.view.number, f.id)),
        })
        .collect();
    let history = file
        .history
        .iter()
        .map(|h| {
            (
                china_time(h.at),
                actor_text(&page, &h.actor),
                if page.en {
                    h.text_en.clone()
                } else {
                    h.text_zh.clone()
                },
            )
        })
        .collect();
    let orders = file
        .orders
        .iter()
        .map(|o| OrderLine {
            error: posted
                .problem(&format!("answer-{}", o.id))
                .map(str::to_string),
            id: o.id.clone(),
            reason: o.reason.clone(),
            respond_by: o.respond_by.to_string(),
            issued_at: china_time(o.issued_at),
            answer: o.answer.clone(),
            answered_at: o.answered_at.map(china_time).unwrap_or_default(),
        })
        .collect();
    let actions: Vec<&'static str> = file.actions.iter().map(|a| a.as_str()).collect();
    let steps = file
        .status
        .pending_steps()
        .into_iter()
        .map(|(stage, step)| StepLine {
            value: format!("{stage}.{step}"),
            name: file
                .process
                .stages
                .get(stage)
                .and_then(|s| s.steps.get(step))
                .map(|s| s.name.clone())
                .unwrap_or_default(),
        })
        .collect();
    let materials = material_lines(&page, &file);
    let mut subjects: Vec<Choice> = materials
        .iter()
        .map(|m| Choice {
            value: m.name.clone(),
            label: m.name.clone(),
            selected: false,
        })
        .collect();
    subjects.push(Choice {
        value: "form".to_string(),
        label: page.t("work-correction-subject-form"),
        selected: false,
    });
    let deliveries = [
        (DeliveryMethod::Electronic, "work-delivery-electronic"),
        (DeliveryMethod::Express, "work-delivery-express"),
        (DeliveryMethod::Pickup, "work-delivery-pickup"),
    ]
    .into_iter()
    .map(|(d, key)| {
        let value = delivery_name(d).to_string();
        Choice {
            selected: posted.value("delivery") == value,
            value,
            label: page.t(key),
        }
    })
    .collect();
    let procedures = [
        SpecialProcedure::Hearing,
        SpecialProcedure::Testing,
        SpecialProcedure::Inspection,
        SpecialProcedure::ExpertReview,
        SpecialProcedure::Tender,
    ]
    .into_iter()
    .map(|p| Choice {
        selected: posted.value("procedure") == p.as_str(),
        value: p.as_str().to_string(),
        label: if page.en { p.label_en() } else { p.label_zh() }.to_string(),
    })
    .collect();
    // 收受分离: the account that accepted the case neither reviews nor decides it.
    let review_open = file
        .status
        .allowed()
        .iter()
        .any(|a| matches!(a, ActionKind::CompleteStep | ActionKind::Decide));
    let acceptor =
        matches!(who, CaseActor::Staff { id, .. } if file.status.accepted_by() == Some(id));
    let acceptor_note = review_open && acceptor;
    let respond_by = today_in_china()
        .checked_add(jiff::Span::new().days(3))
        .map(|d| d.to_string())
        .unwrap_or_default();
    CasePage {
        number: view.number.clone(),
        item: view.item_name.clone(),
        department: department_name(state, &view.department, page.en).await,
        state: if page.en {
            view.state_en.clone()
        } else {
            view.state_zh.clone()
        },
        warning,
        warning_text,
        due_on: view.due_on.to_string(),
        deadline: view.deadline.map(|d| d.to_string()),
        remaining: file
            .remaining_working_days
            .map(|d| remaining_text(&page, d)),
        applicant,
        form: form_facts(state, &page, &file).await,
        materials,
        uploads,
        history,
        orders,
        actions,
        steps,
        subjects,
        deliveries,
        procedures,
        may_supervise: file.may_supervise,
        may_answer: file.may_answer,
        issues_certificate: file.issues_certificate,
        acceptor_note,
        done: done.and_then(|d| done_text(&page, &d)),
        errors,
        posted,
        correction_rows: vec![1, 2, 3],
        queue_href: queue_href(&view.department, &[]),
        respond_by,
        page,
    }
}

fn delivery_name(d: DeliveryMethod) -> &'static str {
    match d {
        DeliveryMethod::Pickup => "pickup",
        DeliveryMethod::Express => "express",
        DeliveryMethod::Electronic => "electronic",
    }
}

/// `GET /work/cases/{number}`: the case as the department works on it.
pub async fn case_page(
    State(state): State<Shared>,
    page: Page,
    CurrentActor(actor): CurrentActor,
    Path(number): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Result<Response, ApiError> {
    staff_of(&actor)?;
    let who = case_actor(&state, &actor).await?;
    let file = state.app.case_file(&who, &number, Timestamp::now()).await?;
    Ok(ok(&case_page_of(
        &state,
        &who,
        page,
        file,
        q.done,
        Posted::default(),
        Vec::new(),
    )
    .await))
}

/// What a posted action asks for.
enum Asked {
    /// A case command.
    Command(CaseCommand),
    /// An answer to a supervision order.
    Answer {
        /// Order id.
        order: String,
        /// The answer.
        text: String,
    },
}

/// The field a problem of an action is shown next to.
fn anchor_of(action: &str, pairs: &[(String, String)]) -> String {
    match action {
        "refuse" => "refuse_reason".to_string(),
        "request_correction" => "correction_reason_1".to_string(),
        "complete_step" => "step_opinion".to_string(),
        "suspend" => "suspend_reason".to_string(),
        "decide" => "decide_reason".to_string(),
        "issue_result" => "delivery".to_string(),
        "answer_supervision" => format!("answer-{}", first(pairs, "order").unwrap_or_default()),
        other => format!("action-{other}"),
    }
}

/// Reads the posted action; a value that cannot be read is a problem of its field.
fn asked(page: &Page, pairs: &[(String, String)]) -> Result<Asked, (String, String)> {
    let text = |name: &str| first(pairs, name).unwrap_or_default().trim().to_string();
    let action = text("action");
    let command = match action.as_str() {
        "accept" => CaseCommand::Accept,
        "refuse" => CaseCommand::Refuse {
            reason: text("reason"),
        },
        "request_correction" => {
            let subjects = pairs.iter().filter(|(k, _)| k == "subject").map(|(_, v)| v);
            let reasons = pairs.iter().filter(|(k, _)| k == "reason").map(|(_, v)| v);
            let items = subjects
                .zip(reasons)
                .map(|(s, r)| CorrectionItem {
                    subject: s.trim().to_string(),
                    reason: r.trim().to_string(),
                })
                .filter(|i| !i.subject.is_empty() || !i.reason.is_empty())
                .collect();
            CaseCommand::RequestCorrection { items }
        }
        "complete_step" => {
            let Some((stage, step)) = text("step")
                .split_once('.')
                .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
            else {
                return Err(("step".to_string(), page.t("work-step-invalid")));
            };
            CaseCommand::CompleteStep {
                stage,
                step,
                opinion: text("opinion"),
            }
        }
        "suspend" => {
            let procedure = [
                SpecialProcedure::Hearing,
                SpecialProcedure::Testing,
                SpecialProcedure::Inspection,
                SpecialProcedure::ExpertReview,
                SpecialProcedure::Tender,
            ]
            .into_iter()
            .find(|p| p.as_str() == text("procedure"));
            let Some(procedure) = procedure else {
                return Err(("procedure".to_string(), page.t("work-procedure-invalid")));
            };
            CaseCommand::Suspend {
                procedure,
                reason: text("reason"),
            }
        }
        "resume" => CaseCommand::Resume,
        "decide" => {
            let outcome = match text("outcome").as_str() {
                "approved" => Outcome::Approved,
                "denied" => Outcome::Denied {
                    reason: text("reason"),
                },
                _ => return Err(("outcome".to_string(), page.t("work-outcome-invalid"))),
            };
            CaseCommand::Decide { outcome }
        }
        "issue_result" => {
            let delivery = [
                DeliveryMethod::Electronic,
                DeliveryMethod::Express,
                DeliveryMethod::Pickup,
            ]
            .into_iter()
            .find(|d| delivery_name(*d) == text("delivery"));
            let Some(delivery) = delivery else {
                return Err(("delivery".to_string(), page.t("work-delivery-invalid")));
            };
            CaseCommand::IssueResult { delivery }
        }
        "answer_supervision" => {
            return Ok(Asked::Answer {
                order: text("order"),
                text: text("answer"),
            });
        }
        _ => return Err(("actions".to_string(), page.t("work-action-invalid"))),
    };
    Ok(Asked::Command(command))
}

/// `POST /work/cases/{number}`: one action on the case (field `action`), then back to the
/// case with its confirmation; problems are shown next to the action's fields.
pub async fn case_action(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    CurrentActor(actor): CurrentActor,
    Path(number): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let (pairs, who) = staff_form(&state, &session, &actor, &body).await?;
    let action = first(&pairs, "action").unwrap_or_default().to_string();
    let (anchor, message) = match asked(&page, &pairs) {
        Err(problem) => problem,
        Ok(asked) => match perform(&state, &who, &number, asked).await {
            Ok(()) => return Ok(done_redirect(&number, &action)),
            // Refusals of who may act, and failures, are pages of their own.
            Err(e)
                if e.status.is_server_error()
                    || matches!(
                        e.status,
                        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED
                    ) =>
            {
                return Err(e);
            }
            Err(e) => (
                anchor_of(&action, &pairs),
                if page.en { e.message_en } else { e.message_zh },
            ),
        },
    };
    case_with_problem(&state, &who, page, &number, &pairs, anchor, message).await
}

/// The case page again after a form with a problem: the posted values kept, the problem next
/// to its field and in the summary (422).
pub(crate) async fn case_with_problem(
    state: &Shared,
    who: &CaseActor,
    page: Page,
    number: &str,
    pairs: &[(String, String)],
    anchor: String,
    message: String,
) -> Result<Response, ApiError> {
    let file = state.app.case_file(who, number, Timestamp::now()).await?;
    let mut posted = Posted::default();
    for (k, v) in pairs {
        if k != "csrf_token" {
            posted.values.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    posted.problems.insert(anchor.clone(), message.clone());
    Ok(render(
        &case_page_of(
            state,
            who,
            page,
            file,
            None,
            posted,
            vec![(anchor, message)],
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

async fn perform(
    state: &Shared,
    who: &CaseActor,
    number: &str,
    asked: Asked,
) -> Result<(), ApiError> {
    match asked {
        Asked::Command(command) => {
            state
                .app
                .act_on_case(who, number, command, None, Timestamp::now())
                .await?;
        }
        Asked::Answer { order, text } => {
            let file = state.app.case_file(who, number, Timestamp::now()).await?;
            // The order must be one of this case's.
            if !file.orders.iter().any(|o| o.id == order) {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "supervision_order_unknown",
                    "该办件没有这张督办单",
                    "This case has no such supervision order",
                ));
            }
            state
                .app
                .answer_supervision_order(who, &order, &text, Timestamp::now())
                .await?;
        }
    }
    Ok(())
}
