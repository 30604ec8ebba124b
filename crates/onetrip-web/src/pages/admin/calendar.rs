//! Calendar import (工作日历): the years loaded with their sources, and the import of a year's
//! official working-day schedule (the State Council's notice, as the JSON of
//! `data/calendar/*.json`), the same use case as `PUT /api/v1/calendar/years/{year}`. Every
//! problem of a refused schedule is listed under the document, with its place in it.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::{field_problems, is_input_problem};
use crate::Shared;
use crate::api::calendar::{YearDoc, import_year, loaded_years};
use crate::extract::Query;
use crate::pages::{Page, check_csrf, first, form_pairs, ok, render};
use crate::problem::ApiError;

#[derive(Template)]
#[template(path = "pages/admin/calendar.html")]
struct CalendarPage {
    page: Page,
    years: Vec<YearDoc>,
    year: String,
    document: String,
    imported: Option<String>,
    errors: Vec<(String, String)>,
    year_error: Option<String>,
    document_problems: Vec<String>,
}

/// Query of the calendar page.
#[derive(Debug, Deserialize)]
pub struct CalendarQuery {
    /// The year just imported.
    pub imported: Option<i16>,
}

/// `GET /admin/calendar`: the years loaded and the import form.
pub async fn page(
    State(state): State<Shared>,
    page: Page,
    Query(q): Query<CalendarQuery>,
) -> Response {
    ok(&CalendarPage {
        page,
        years: loaded_years(&state),
        year: String::new(),
        document: String::new(),
        imported: q.imported.map(|y| y.to_string()),
        errors: Vec::new(),
        year_error: None,
        document_problems: Vec::new(),
    })
}

/// `POST /admin/calendar`: imports one year's schedule, or lists its problems.
pub async fn import(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let pairs = form_pairs(&body);
    check_csrf(&session, first(&pairs, "csrf_token")).await?;
    let year = first(&pairs, "year").unwrap_or_default().trim().to_string();
    let document = first(&pairs, "document").unwrap_or_default().to_string();
    let mut view = CalendarPage {
        years: loaded_years(&state),
        year: year.clone(),
        document: document.clone(),
        imported: None,
        errors: Vec::new(),
        year_error: None,
        document_problems: Vec::new(),
        page,
    };
    let Ok(number) = year.parse::<i16>() else {
        let message = view.page.t("admin-calendar-year-error");
        view.errors.push(("year".into(), message.clone()));
        view.year_error = Some(message);
        return Ok(render(&view, StatusCode::UNPROCESSABLE_ENTITY));
    };
    match import_year(&state, number, &document).await {
        Ok(s) => {
            Ok(Redirect::to(&format!("/admin/calendar?imported={}", s.year())).into_response())
        }
        Err(e) if is_input_problem(&e) => {
            for p in field_problems(&view.page, &e) {
                let text = if p.path.is_empty() || p.message.contains(&p.path) {
                    p.message
                } else {
                    format!("{}: {}", p.path, p.message)
                };
                view.document_problems.push(text);
            }
            if let Some(first) = view.document_problems.first() {
                view.errors.push(("document".into(), first.clone()));
            }
            Ok(render(&view, StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e) => Err(e),
    }
}
