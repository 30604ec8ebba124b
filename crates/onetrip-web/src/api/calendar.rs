//! Working-day calendar API.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use onetrip_domain::calendar::{DayInfo, YearSchedule};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Shared;
use crate::extract::{Path, Query, RawBody, date_param};
use crate::problem::{ApiError, FieldError, Problem};

/// The calendar routes.
pub fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(deadline))
        .routes(routes!(working_days))
        .routes(routes!(day))
        .routes(routes!(years))
        .routes(routes!(put_year))
}

/// Query of a deadline.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadlineParams {
    /// Start date, `YYYY-MM-DD` (not counted).
    start: String,
    /// Number of working days, 0–3660.
    working_days: String,
}

/// A deadline.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadlineDoc {
    /// Start date.
    pub start: String,
    /// Working days added.
    pub working_days: u32,
    /// The Nth working day strictly after `start`.
    pub due: String,
    /// True when a year without a published schedule was involved (Monday–Friday assumed):
    /// recompute once the State Council's notice is out.
    pub provisional: bool,
}

fn working_days_param(value: &str) -> Result<u32, ApiError> {
    value.trim().parse::<u32>().map_err(|_| {
        let mut err = ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_working_days",
            "参数 working_days 应为非负整数",
            "Parameter working_days must be a non-negative whole number",
        );
        err.errors.push(FieldError {
            path: "working_days".into(),
            code: "invalid_working_days".into(),
            message_zh: "应为非负整数".into(),
            message_en: "must be a non-negative whole number".into(),
        });
        err
    })
}

/// The date N working days after a start date (法定工作日, 调休 included).
#[utoipa::path(get, path = "/api/v1/calendar/deadline", tag = "calendar", params(DeadlineParams),
    responses((status = 200, description = "The deadline", body = DeadlineDoc),
              (status = 400, description = "Bad parameter", body = Problem, content_type = "application/problem+json")))]
pub async fn deadline(
    State(state): State<Shared>,
    Query(p): Query<DeadlineParams>,
) -> Result<Json<DeadlineDoc>, ApiError> {
    let start = date_param("start", &p.start)?;
    let n = working_days_param(&p.working_days)?;
    let d = state.app.deadline(start, n)?;
    Ok(Json(DeadlineDoc {
        start: start.to_string(),
        working_days: n,
        due: d.due.to_string(),
        provisional: d.provisional,
    }))
}

/// Query of a working-day count.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BetweenParams {
    /// First date, `YYYY-MM-DD` (not counted).
    start: String,
    /// Last date, `YYYY-MM-DD` (counted).
    end: String,
}

/// A count of working days.
#[derive(Debug, Serialize, ToSchema)]
pub struct BetweenDoc {
    /// First date.
    pub start: String,
    /// Last date.
    pub end: String,
    /// Working days in (start, end]; negative when end is before start.
    pub working_days: i64,
    /// True when a year without a published schedule was involved.
    pub provisional: bool,
}

/// Working days between two dates (start not counted, end counted).
#[utoipa::path(get, path = "/api/v1/calendar/working-days", tag = "calendar", params(BetweenParams),
    responses((status = 200, description = "The count", body = BetweenDoc),
              (status = 400, description = "Bad parameter", body = Problem, content_type = "application/problem+json")))]
pub async fn working_days(
    State(state): State<Shared>,
    Query(p): Query<BetweenParams>,
) -> Result<Json<BetweenDoc>, ApiError> {
    let start = date_param("start", &p.start)?;
    let end = date_param("end", &p.end)?;
    let c = state.app.working_days_between(start, end)?;
    Ok(Json(BetweenDoc {
        start: start.to_string(),
        end: end.to_string(),
        working_days: c.days,
        provisional: c.provisional,
    }))
}

/// Whether a day is a working day, and why (weekday, weekend, holiday or make-up workday).
#[utoipa::path(get, path = "/api/v1/calendar/days/{date}", tag = "calendar",
    params(("date" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 200, description = "The day", body = Object),
              (status = 400, description = "Bad date", body = Problem, content_type = "application/problem+json")))]
pub async fn day(
    State(state): State<Shared>,
    Path(date): Path<String>,
) -> Result<Json<DayInfo>, ApiError> {
    let date = date_param("date", &date)?;
    Ok(Json(state.app.working_day(date)))
}

/// A loaded year.
#[derive(Debug, Serialize, ToSchema)]
pub struct YearDoc {
    /// Year.
    pub year: i16,
    /// The notice it comes from.
    pub source: String,
}

/// The years with an official schedule.
#[utoipa::path(get, path = "/api/v1/calendar/years", tag = "calendar",
    responses((status = 200, description = "Loaded years", body = Vec<YearDoc>)))]
pub async fn years(State(state): State<Shared>) -> Json<Vec<YearDoc>> {
    Json(loaded_years(&state))
}

/// The years the calendar holds, with the notice each comes from (the API and the calendar
/// page).
pub(crate) fn loaded_years(state: &Shared) -> Vec<YearDoc> {
    let calendar = state.app.calendar();
    calendar
        .years()
        .into_iter()
        .filter_map(|y| calendar.schedule(y))
        .map(|s| YearDoc {
            year: s.year(),
            source: s.source().to_string(),
        })
        .collect()
}

/// Imports (or amends) one year's official schedule; every problem is listed.
#[utoipa::path(put, path = "/api/v1/calendar/years/{year}", tag = "calendar",
    params(("year" = i16, Path, description = "The year; must equal the document's")),
    request_body(content = Object, description = "The schedule (see data/calendar/*.json)", content_type = "application/json"),
    security(("admin_token" = [])),
    responses((status = 200, description = "Imported", body = YearDoc),
              (status = 422, description = "Every problem", body = Problem, content_type = "application/problem+json")))]
pub async fn put_year(
    State(state): State<Shared>,
    Path(year): Path<i16>,
    RawBody(body): RawBody,
) -> Result<Json<YearDoc>, ApiError> {
    let schedule = import_year(&state, year, &String::from_utf8_lossy(&body)).await?;
    Ok(Json(YearDoc {
        year: schedule.year(),
        source: schedule.source().to_string(),
    }))
}

/// Imports the schedule `text` as the calendar of `year` (the API and the calendar page).
pub(crate) async fn import_year(
    state: &Shared,
    year: i16,
    text: &str,
) -> Result<YearSchedule, ApiError> {
    let parsed = YearSchedule::from_json(text).map_err(onetrip_app::AppError::from)?;
    if parsed.year() != year {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "code_mismatch",
            format!(
                "文档中的年份 {} 与地址中的年份 {year} 不一致",
                parsed.year()
            ),
            format!(
                "The document's year {} differs from the address ({year})",
                parsed.year()
            ),
        ));
    }
    Ok(state
        .app
        .import_calendar_year(text, jiff::Timestamp::now())
        .await?)
}
