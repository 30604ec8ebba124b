//! The bundle editor (一件事管理): the bundles, and one bundle with its members (their items,
//! dependencies and field mapping), questionnaire and unified form. The simple parts are
//! edited here (name, summary, keywords, each member's dependencies) and published with the
//! same use case as `PUT /api/v1/bundles/{code}`, whose consistency problems (an unknown
//! member named as a dependency, a cycle…) come back next to their fields. The questionnaire,
//! the form and the mapping are shown; they are edited through the API for now.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use onetrip_app::bundles::BundleView;
use serde::Deserialize;
use tower_sessions::Session;

use super::catalog::owner_of;
use super::{Field, field_problems, is_input_problem};
use crate::Shared;
use crate::extract::{Path, Query};
use crate::pages::{Page, check_csrf, first, form_pairs, ok, render};
use crate::problem::ApiError;

/// A bundle of the list.
pub struct BundleLine {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Lead department.
    pub lead: String,
    /// Current version.
    pub version: i64,
}

#[derive(Template)]
#[template(path = "pages/admin/bundles.html")]
struct ListPage {
    page: Page,
    bundles: Vec<BundleLine>,
}

/// `GET /admin/bundles`: every bundle.
pub async fn list(State(state): State<Shared>, page: Page) -> Result<Response, ApiError> {
    let bundles = state
        .app
        .bundles()
        .await?
        .into_iter()
        .map(|b| BundleLine {
            code: b.code,
            name: b.name,
            lead: b.lead_department,
            version: b.current_version,
        })
        .collect();
    Ok(ok(&ListPage { page, bundles }))
}

/// A member of the bundle.
pub struct MemberLine {
    /// Key.
    pub key: String,
    /// Item code and name.
    pub item: String,
    /// Its dependencies, editable (`members[i].depends_on`).
    pub depends_on: Field,
    /// Form mapping: item field ← unified form field.
    pub mapping: Vec<(String, String)>,
    /// Situations chosen by the answers.
    pub situations: Vec<String>,
}

/// A question of the questionnaire.
pub struct QuestionLine {
    /// Key.
    pub key: String,
    /// Text in the page's language.
    pub text: String,
    /// Options.
    pub options: Vec<String>,
}

/// A section of the unified form.
pub struct SectionLine {
    /// Title.
    pub title: String,
    /// Fields: key, label, required.
    pub fields: Vec<(String, String, bool)>,
}

#[derive(Template)]
#[template(path = "pages/admin/bundle.html")]
struct BundlePage {
    page: Page,
    code: String,
    version: i64,
    title: String,
    name: Field,
    name_en: Field,
    summary: Field,
    keywords: Field,
    members: Vec<MemberLine>,
    questions: Vec<QuestionLine>,
    sections: Vec<SectionLine>,
    saved: Option<i64>,
    errors: Vec<(String, String)>,
    other_problems: Vec<String>,
}

/// Query of the editor.
#[derive(Debug, Deserialize)]
pub struct BundleQuery {
    /// The version just saved.
    pub saved: Option<i64>,
}

fn editor(page: Page, view: &BundleView) -> BundlePage {
    let b = &view.bundle;
    let pick = |zh: &str, en: Option<&String>| page.pick(zh, en.map(String::as_str)).to_string();
    let members = b
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| MemberLine {
            key: m.key.clone(),
            item: format!(
                "{} {}",
                m.item,
                view.member_names.get(&m.key).cloned().unwrap_or_default()
            ),
            depends_on: Field::new(format!("members[{i}].depends_on"), m.depends_on.join(", ")),
            mapping: m
                .fields
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            situations: m.situations.iter().map(|s| s.situation.clone()).collect(),
        })
        .collect();
    let questions = b
        .questionnaire
        .iter()
        .map(|q| QuestionLine {
            key: q.key.clone(),
            text: pick(&q.text, q.text_en.as_ref()),
            options: q
                .options
                .iter()
                .map(|o| pick(&o.label, o.label_en.as_ref()))
                .collect(),
        })
        .collect();
    let sections = b
        .form
        .sections
        .iter()
        .map(|s| SectionLine {
            title: pick(&s.title, s.title_en.as_ref()),
            fields: s
                .fields
                .iter()
                .map(|f| {
                    (
                        f.key.clone(),
                        pick(&f.label, f.label_en.as_ref()),
                        f.required,
                    )
                })
                .collect(),
        })
        .collect();
    BundlePage {
        code: b.code.clone(),
        version: view.version,
        title: pick(&b.name, b.name_en.as_ref()),
        name: Field::new("name".into(), b.name.clone()),
        name_en: Field::new("name_en".into(), b.name_en.clone().unwrap_or_default()),
        summary: Field::new("summary".into(), b.summary.clone()),
        keywords: Field::new("keywords".into(), b.keywords.join("\n")),
        members,
        questions,
        sections,
        saved: None,
        errors: Vec::new(),
        other_problems: Vec::new(),
        page,
    }
}

/// `GET /admin/bundles/{code}`: the bundle's current version.
pub async fn bundle_page(
    State(state): State<Shared>,
    page: Page,
    Path(code): Path<String>,
    Query(q): Query<BundleQuery>,
) -> Result<Response, ApiError> {
    let view = state.app.bundle_view(&code).await?;
    let mut editor = editor(page, &view);
    editor.saved = q.saved;
    Ok(ok(&editor))
}

fn list_of(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c == '，' || c == '、' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `POST /admin/bundles/{code}`: publishes the edited bundle as a new version, or shows the
/// problems next to their fields.
pub async fn save_bundle(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    Path(code): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let pairs = form_pairs(&body);
    check_csrf(&session, first(&pairs, "csrf_token")).await?;
    let view = state.app.bundle_view(&code).await?;
    let posted = |name: &str| first(&pairs, name).unwrap_or_default().to_string();
    let mut bundle = view.bundle.clone();
    bundle.name = posted("name").trim().to_string();
    bundle.name_en = Some(posted("name_en").trim().to_string()).filter(|n| !n.is_empty());
    bundle.summary = posted("summary").trim().to_string();
    bundle.keywords = posted("keywords")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    for (i, m) in bundle.members.iter_mut().enumerate() {
        m.depends_on = list_of(&posted(&format!("members[{i}].depends_on")));
    }
    let e = match state.app.publish_bundle(&bundle, Timestamp::now()).await {
        Ok((version, _)) => {
            return Ok(
                Redirect::to(&format!("/admin/bundles/{code}?saved={version}")).into_response(),
            );
        }
        Err(e) => ApiError::from(e),
    };
    if !is_input_problem(&e) {
        return Err(e);
    }
    // Shown with what was typed.
    let mut editor = editor(page, &view);
    editor.name.value = bundle.name;
    editor.name_en.value = posted("name_en");
    editor.summary.value = posted("summary");
    editor.keywords.value = posted("keywords");
    for (i, m) in editor.members.iter_mut().enumerate() {
        m.depends_on.value = posted(&format!("members[{i}].depends_on"));
    }
    let problems = field_problems(&editor.page, &e);
    let mut fields: Vec<&mut Field> = vec![
        &mut editor.name,
        &mut editor.name_en,
        &mut editor.summary,
        &mut editor.keywords,
    ];
    fields.extend(editor.members.iter_mut().map(|m| &mut m.depends_on));
    let inputs: BTreeSet<String> = fields.iter().map(|f| f.name.clone()).collect();
    let mut errors = Vec::new();
    let mut others = Vec::new();
    for p in problems {
        match owner_of(&p.path, &inputs).and_then(|n| fields.iter_mut().find(|f| f.name == n)) {
            Some(f) => {
                errors.push((f.id.clone(), p.message.clone()));
                f.error = Some(p.message);
            }
            None => {
                let text = if p.path.is_empty() {
                    p.message
                } else {
                    format!("{}: {}", p.path, p.message)
                };
                errors.push(("bundle_problems".into(), text.clone()));
                others.push(text);
            }
        }
    }
    editor.errors = errors;
    editor.other_problems = others;
    Ok(render(&editor, StatusCode::UNPROCESSABLE_ENTITY))
}
