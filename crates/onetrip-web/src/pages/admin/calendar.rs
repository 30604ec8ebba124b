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
                let place = match line_of(&document, &p.path) {
                    Some(line) => format!(
                        "{} ",
                        view.page.tv("admin-calendar-line", &line.to_string())
                    ),
                    None => String::new(),
                };
                let text = if p.path.is_empty() || p.message.contains(&p.path) {
                    p.message
                } else {
                    format!("{}: {}", p.path, p.message)
                };
                view.document_problems.push(format!("{place}{text}"));
            }
            if let Some(first) = view.document_problems.first() {
                view.errors.push(("document".into(), first.clone()));
            }
            Ok(render(&view, StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e) => Err(e),
    }
}

/// A container of the JSON document being walked, with where the walk is in it.
enum Frame {
    /// An object, with the key of the member being read.
    Object(Option<String>),
    /// An array, with the index of the element being read.
    Array(usize),
}

/// The path of the value being read, as the schedule's problems name it
/// (`holidays[1].off[2]`).
fn path_of(stack: &[Frame]) -> String {
    let mut path = String::new();
    for frame in stack {
        match frame {
            Frame::Object(Some(key)) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Frame::Object(None) => {}
            Frame::Array(i) => path.push_str(&format!("[{i}]")),
        }
    }
    path
}

/// The line (from 1) where the value at `path` starts in a JSON document, so that a problem
/// can say where it is; `None` when the path is empty or not found.
pub fn line_of(text: &str, path: &str) -> Option<usize> {
    if path.is_empty() {
        return None;
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut line = 1;
    let mut value_next = false;
    let mut key_next = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\n' {
            line += 1;
            continue;
        }
        if c.is_whitespace() {
            continue;
        }
        if value_next && c != ']' {
            value_next = false;
            if path_of(&stack) == path {
                return Some(line);
            }
        }
        match c {
            '{' => {
                stack.push(Frame::Object(None));
                key_next = true;
            }
            '[' => {
                stack.push(Frame::Array(0));
                value_next = true;
            }
            '}' | ']' => {
                stack.pop();
            }
            ':' => value_next = true,
            ',' => match stack.last_mut() {
                Some(Frame::Array(i)) => {
                    *i += 1;
                    value_next = true;
                }
                Some(Frame::Object(_)) => key_next = true,
                None => {}
            },
            '"' => {
                let mut read = String::new();
                while let Some(s) = chars.next() {
                    match s {
                        '"' => break,
                        '\\' => {
                            chars.next();
                        }
                        '\n' => line += 1,
                        other => read.push(other),
                    }
                }
                if key_next {
                    key_next = false;
                    if let Some(Frame::Object(key)) = stack.last_mut() {
                        *key = Some(read);
                    }
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::line_of;

    #[test]
    fn a_problem_path_is_found_on_its_line() {
        let text = "{\n  \"year\": 2026,\n  \"holidays\": [\n    {\"name\": \"a\\\"b\", \"off\": [\n      \"2026-01-01\",\n      \"2026-02-30\"]},\n    {\"name\": \"c\", \"off\": []}\n  ]\n}";
        assert_eq!(line_of(text, "year"), Some(2));
        assert_eq!(line_of(text, "holidays"), Some(3));
        assert_eq!(line_of(text, "holidays[0].name"), Some(4));
        assert_eq!(line_of(text, "holidays[0].off[1]"), Some(6));
        assert_eq!(line_of(text, "holidays[1].off"), Some(7));
        assert_eq!(line_of(text, "holidays[2]"), None);
        assert_eq!(line_of(text, ""), None);
        assert_eq!(line_of("not json", "year"), None);
    }
}
