//! The one mapping from errors to HTTP: `application/problem+json` (RFC 9457) with a stable
//! `code`, messages in zh-CN and en, a `title` in the negotiated language, and every field error
//! with its path.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use onetrip_app::AppError;
use onetrip_domain::Localized;
use onetrip_domain::calendar::CalendarError;
use onetrip_domain::identity::OtpRefusal;
use onetrip_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// Content type of error responses.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One problem with one field.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    /// Path of the field, e.g. `items[3].promised_limit`.
    pub path: String,
    /// Stable code.
    pub code: String,
    /// Message in Simplified Chinese.
    pub message_zh: String,
    /// Message in English.
    pub message_en: String,
}

impl FieldError {
    /// A field error from anything localized.
    pub fn new(path: impl Into<String>, e: &dyn Localized) -> FieldError {
        FieldError {
            path: path.into(),
            code: e.code().to_string(),
            message_zh: e.message_zh(),
            message_en: e.message_en(),
        }
    }
}

/// An error response body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:onetrip:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Message in the negotiated language.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// Stable code.
    pub code: String,
    /// Message in Simplified Chinese.
    pub message_zh: String,
    /// Message in English.
    pub message_en: String,
    /// Field errors, when the input had several problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// An error on its way to becoming a problem response.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code.
    pub code: String,
    /// Message in Simplified Chinese.
    pub message_zh: String,
    /// Message in English.
    pub message_en: String,
    /// Field errors.
    pub errors: Vec<FieldError>,
    /// Answer in English (`title`) rather than Chinese.
    pub english: bool,
    /// Extra response headers (e.g. `WWW-Authenticate`).
    pub headers: HeaderMap,
}

impl ApiError {
    /// An error with a status, a code and messages.
    pub fn new(
        status: StatusCode,
        code: &str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            message_zh: zh.into(),
            message_en: en.into(),
            errors: Vec::new(),
            english: false,
            headers: HeaderMap::new(),
        }
    }

    /// An error from anything localized, with a status.
    pub fn localized(status: StatusCode, e: &dyn Localized) -> Self {
        ApiError::new(status, e.code(), e.message_zh(), e.message_en())
    }

    /// One bad request parameter.
    pub fn bad_param(path: &str, e: &dyn Localized) -> Self {
        let mut err = ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            format!("参数 {path} 不正确：{}", e.message_zh()),
            format!("Parameter {path} is invalid: {}", e.message_en()),
        );
        err.errors.push(FieldError::new(path, e));
        err
    }

    /// Adds a header to the response.
    pub fn with_header(mut self, name: header::HeaderName, value: &'static str) -> Self {
        self.headers.insert(name, HeaderValue::from_static(value));
        self
    }

    /// The 404 of unknown addresses.
    pub fn no_route() -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_such_route",
            "请求的地址不存在",
            "There is nothing at this address",
        )
    }

    /// The response body.
    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("urn:onetrip:problem:{}", self.code),
            title: if self.english {
                self.message_en.clone()
            } else {
                self.message_zh.clone()
            },
            status: self.status.as_u16(),
            code: self.code.clone(),
            message_zh: self.message_zh.clone(),
            message_en: self.message_en.clone(),
            errors: self.errors.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = %self.code, status = self.status.as_u16(), "request failed");
        }
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))],
            body,
        )
            .into_response();
        response.headers_mut().extend(self.headers.clone());
        // Kept so that the language layer can re-render `title` from Accept-Language.
        response.extensions_mut().insert(self);
        response
    }
}

/// Name of the cookie that keeps the language chosen with the switch.
pub const LANG_COOKIE: &str = "onetrip_lang";

/// Re-renders problem responses in English when the request prefers English, and keeps a
/// language chosen with `?lang=en` / `?lang=zh` in a cookie so that it persists across pages.
/// Chinese is the default.
pub async fn negotiate_language(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let english = english_requested(request.uri(), request.headers());
    let chosen = chosen_in_query(request.uri());
    let mut response = next.run(request).await;
    if let Some(en) = chosen {
        let value = format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            if en { "en" } else { "zh" }
        );
        if let Ok(v) = axum::http::HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    if !english {
        return response;
    }
    match response.extensions().get::<ApiError>() {
        Some(err) => {
            let mut err = err.clone();
            err.english = true;
            let mut english_response = err.into_response();
            for cookie in response.headers().get_all(header::SET_COOKIE) {
                english_response
                    .headers_mut()
                    .append(header::SET_COOKIE, cookie.clone());
            }
            english_response
        }
        None => response,
    }
}

/// The language chosen in the query (`lang=en` or `lang=zh`), if any.
fn chosen_in_query(uri: &axum::http::Uri) -> Option<bool> {
    uri.query()?.split('&').find_map(|kv| match kv {
        "lang=en" => Some(true),
        "lang=zh" | "lang=zh-CN" => Some(false),
        _ => None,
    })
}

/// Whether a request asks for English: `?lang=` first, then the language cookie, then the
/// first `Accept-Language`; Chinese otherwise. The one rule for the API and the pages.
pub fn english_requested(uri: &axum::http::Uri, headers: &axum::http::HeaderMap) -> bool {
    if let Some(en) = chosen_in_query(uri) {
        return en;
    }
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(LANG_COOKIE)?.strip_prefix('='));
    match cookie {
        Some("en") => return true,
        Some("zh") => return false,
        _ => {}
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|first| first.trim().to_ascii_lowercase().starts_with("en"))
        .unwrap_or(false)
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let status = match &e {
            AppError::Invalid(_) | AppError::Rejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::SignInFailed => StatusCode::UNAUTHORIZED,
            AppError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::RealNameMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Store(StoreError::Conflict(_)) => StatusCode::CONFLICT,
            AppError::Store(StoreError::UnknownReference(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Otp(OtpRefusal::Cooldown { .. } | OtpRefusal::DailyLimit) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            AppError::Otp(_) => StatusCode::UNAUTHORIZED,
            AppError::SmsUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Unreadable(_) => StatusCode::BAD_REQUEST,
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::Calendar(CalendarError::Json { .. }) => StatusCode::BAD_REQUEST,
            AppError::Calendar(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Store(_) | AppError::Search(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::InvalidToken => StatusCode::UNAUTHORIZED,
            AppError::Refused { code, .. } => refusal_status(code),
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        };
        if status.is_server_error() {
            tracing::error!(error = %e, "use case failed");
        }
        let mut err = ApiError::localized(status, &e);
        match &e {
            AppError::Invalid(violations) => {
                err.errors = violations
                    .iter()
                    .map(|v| FieldError::new(v.path.clone(), v))
                    .collect();
            }
            AppError::Rejected(problems) => {
                err.errors = problems
                    .iter()
                    .map(|p| FieldError::new(p.path.clone(), p))
                    .collect();
            }
            AppError::RateLimited { retry_after_secs } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    err.headers.insert(header::RETRY_AFTER, v);
                }
            }
            AppError::Calendar(CalendarError::InvalidSchedule(problems)) => {
                err.errors = problems
                    .iter()
                    .map(|p| FieldError::new(p.path.clone(), p))
                    .collect();
            }
            _ => {}
        }
        err
    }
}

/// The status of a refusal: not allowed (403) unless the code says the request conflicts with
/// the state of what it acts on (409) or carries unusable content (422).
fn refusal_status(code: &str) -> StatusCode {
    match code {
        "case_not_permitted" | "case_separation_of_duties" | "webhook_not_permitted" => {
            StatusCode::FORBIDDEN
        }
        "idempotency_key_reused"
        | "idempotency_key_in_use"
        | "application_already_submitted"
        | "supervision_answer_invalid" => StatusCode::CONFLICT,
        "supervision_invalid"
        | "webhook_url_invalid"
        | "result_content_missing"
        | "case_reason_required"
        | "case_correction_empty"
        | "case_correction_item_incomplete"
        | "case_step_unknown" => StatusCode::UNPROCESSABLE_ENTITY,
        "upload_too_large" => StatusCode::PAYLOAD_TOO_LARGE,
        "upload_type_not_accepted" => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "upload_empty" | "upload_name_invalid" => StatusCode::UNPROCESSABLE_ENTITY,
        "upload_storage_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
        c if c.starts_with("case_") => StatusCode::CONFLICT,
        _ => StatusCode::FORBIDDEN,
    }
}
