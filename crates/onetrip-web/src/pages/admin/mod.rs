//! The administrator pages (管理后台): the authenticator enrolment every administrator starts
//! with, the catalog editor, and the staff console. Each console is a module; each calls the
//! same use cases as the JSON API and shows their problems next to the fields they concern.
//!
//! Administrator roles count only after the authenticator code was checked at sign-in, which
//! the policy decides for every route ([`crate::policy`]); the pages add nothing to that.

pub mod authenticator;
pub mod bundles;
pub mod calendar;
pub mod catalog;
pub mod certificates;
pub mod data;
pub mod staff;

use std::collections::BTreeSet;

use crate::Shared;
use crate::problem::ApiError;

use super::Page;

/// The addresses of the administrator pages.
pub const PATHS: &[&str] = &[
    "/staff/authenticator",
    "/admin/catalog",
    "/admin/catalog/items/{code}",
    "/admin/bundles",
    "/admin/bundles/{code}",
    "/admin/calendar",
    "/admin/certificates",
    "/admin/certificates/seals/{department}/rotation",
    "/admin/data",
    "/admin/data/requests/{id}/decision",
    "/admin/data/grants/{id}/revocation",
    "/admin/staff",
    "/admin/staff/{id}",
    "/admin/staff/{id}/roles",
    "/admin/staff/{id}/disabled",
    "/admin/staff/{id}/totp",
];

/// The administrator pages' routes.
pub fn router() -> axum::Router<Shared> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route(
            "/staff/authenticator",
            get(authenticator::page).post(authenticator::confirm),
        )
        .route("/admin/catalog", get(catalog::list))
        .route(
            "/admin/catalog/items/{code}",
            get(catalog::item_page).post(catalog::save_item),
        )
        .route("/admin/bundles", get(bundles::list))
        .route(
            "/admin/bundles/{code}",
            get(bundles::bundle_page).post(bundles::save_bundle),
        )
        .route(
            "/admin/calendar",
            get(calendar::page).post(calendar::import),
        )
        .route("/admin/certificates", get(certificates::page))
        .route(
            "/admin/certificates/seals/{department}/rotation",
            post(certificates::rotate),
        )
        .route("/admin/data", get(data::page))
        .route("/admin/data/requests/{id}/decision", post(data::decide))
        .route("/admin/data/grants/{id}/revocation", post(data::revoke))
        .route("/admin/staff", get(staff::list).post(staff::create))
        .route("/admin/staff/{id}", get(staff::member_view))
        .route("/admin/staff/{id}/roles", post(staff::set_roles))
        .route("/admin/staff/{id}/disabled", post(staff::set_disabled))
        .route("/admin/staff/{id}/totp", post(staff::reset_totp))
}

/// One problem of a refused use case: the path of its field and the message in the page's
/// language, without the path the domain's messages start with.
#[derive(Debug, Clone)]
pub struct FieldProblem {
    /// Path of the field (`situations[1].materials[0]`).
    pub path: String,
    /// Message.
    pub message: String,
}

/// The field problems of a refused use case in the page's language; a problem without fields
/// becomes one without a path.
pub fn field_problems(page: &Page, e: &ApiError) -> Vec<FieldProblem> {
    if e.errors.is_empty() {
        let message = if page.en {
            e.message_en.clone()
        } else {
            e.message_zh.clone()
        };
        return vec![FieldProblem {
            path: String::new(),
            message,
        }];
    }
    e.errors
        .iter()
        .map(|f| {
            let full = if page.en {
                &f.message_en
            } else {
                &f.message_zh
            };
            // The domain's messages start with the path, or with the part of it that the
            // checked document knows (`sections[0]…` of a bundle's `form.sections[0]…`).
            let message = full
                .split_once(['：', ':'])
                .filter(|(head, _)| !head.is_empty() && f.path.ends_with(head))
                .map(|(_, rest)| rest.trim_start().to_string())
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| full.clone());
            FieldProblem {
                path: f.path.clone(),
                message,
            }
        })
        .collect()
}

/// The id of the input posted under `name` (`situations[1].code` → `situations-1-code`).
pub fn input_id(name: &str) -> String {
    let mut id = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '[' | '.' => id.push('-'),
            ']' => {}
            c => id.push(c),
        }
    }
    id
}

/// One input of the editor: its name (the path in the item document), id, value as typed and
/// the problem next to it.
#[derive(Debug, Clone, Default)]
pub struct Field {
    /// Posted name.
    pub name: String,
    /// Element id.
    pub id: String,
    /// Value as typed (`1` for a ticked box).
    pub value: String,
    /// The problem with it.
    pub error: Option<String>,
}

impl Field {
    /// An input posted under `name` with its value.
    pub fn new(name: String, value: impl Into<String>) -> Field {
        Field {
            id: input_id(&name),
            name,
            value: value.into(),
            error: None,
        }
    }

    /// Whether a box posted as `1` is ticked.
    pub fn ticked(&self) -> bool {
        self.value == "1"
    }
}

/// Puts each problem (path, message) next to the input `owner` finds for its path, with a
/// link in the error summary; the others become the list above the form, anchored at
/// `list_anchor`. Returns (error summary links, the list).
pub fn place_problems(
    fields: &mut [&mut Field],
    problems: Vec<(String, String)>,
    owner: impl Fn(&str, &BTreeSet<String>) -> Option<String>,
    list_anchor: &str,
) -> (Vec<(String, String)>, Vec<String>) {
    let inputs: BTreeSet<String> = fields.iter().map(|f| f.name.clone()).collect();
    let mut errors = Vec::new();
    let mut others = Vec::new();
    for (path, message) in problems {
        match owner(&path, &inputs).and_then(|n| fields.iter_mut().find(|f| f.name == n)) {
            Some(f) => {
                errors.push((f.id.clone(), message.clone()));
                f.error = Some(match f.error.take() {
                    Some(before) => format!("{before} {message}"),
                    None => message,
                });
            }
            None => {
                let text = if path.is_empty() {
                    message
                } else {
                    format!("{path}: {message}")
                };
                errors.push((list_anchor.to_string(), text.clone()));
                others.push(text);
            }
        }
    }
    (errors, others)
}

/// A list typed as lines.
pub fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Codes or keys typed with commas, enumeration commas, semicolons or blanks between them.
pub fn ids(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c == '，' || c == '、' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A typed text, trimmed; `None` when blank.
pub fn optional(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Whether a refusal is the caller's (shown on the page) rather than the server's.
pub fn is_input_problem(e: &ApiError) -> bool {
    e.status.is_client_error() && e.status != axum::http::StatusCode::FORBIDDEN
}
