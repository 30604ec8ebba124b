//! Extractors whose rejections are problem responses, and parameter parsing helpers.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::problem::ApiError;

/// `axum::extract::Query` answering bad query strings with a problem.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// `axum::extract::Path` answering bad path segments with a problem.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// The request body as bytes, answering an oversized or broken body with a problem (plain
/// `Bytes` answers those in text/plain).
#[derive(Debug)]
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(ApiError::from)
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        let status = r.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                status,
                "body_too_large",
                "提交的内容超过了大小上限",
                "The request body is larger than allowed",
            )
        } else {
            let detail = r.body_text();
            ApiError::new(
                status,
                "unreadable_body",
                format!("无法读取请求内容：{detail}"),
                format!("The request body cannot be read: {detail}"),
            )
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        let detail = r.body_text();
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            format!("查询参数不正确：{detail}"),
            format!("Invalid query parameters: {detail}"),
        )
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        let detail = r.body_text();
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_path",
            format!("地址中的参数不正确：{detail}"),
            format!("Invalid parameter in the address: {detail}"),
        )
    }
}

/// Parses a snake_case enum value of a query parameter, listing the allowed values on error.
pub fn enum_param<T: DeserializeOwned>(
    name: &str,
    value: Option<&str>,
) -> Result<Option<T>, ApiError> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    serde_json::from_value(serde_json::Value::String(value.to_string()))
        .map(Some)
        .map_err(|e| {
            let mut err = ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_parameter",
                format!("参数 {name} 的取值“{value}”无效（{e}）"),
                format!("Parameter {name} has an invalid value \"{value}\" ({e})"),
            );
            err.errors.push(crate::problem::FieldError {
                path: name.to_string(),
                code: "invalid_value".to_string(),
                message_zh: format!("取值“{value}”无效"),
                message_en: format!("invalid value \"{value}\""),
            });
            err
        })
}

/// Parses a civil date `YYYY-MM-DD` of a parameter.
pub fn date_param(name: &str, value: &str) -> Result<jiff::civil::Date, ApiError> {
    value.trim().parse::<jiff::civil::Date>().map_err(|_| {
        let mut err = ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_date",
            format!("参数 {name} 应为有效日期，格式为 YYYY-MM-DD"),
            format!("Parameter {name} must be a valid date as YYYY-MM-DD"),
        );
        err.errors.push(crate::problem::FieldError {
            path: name.to_string(),
            code: "invalid_date".to_string(),
            message_zh: "日期无效，格式为 YYYY-MM-DD".to_string(),
            message_en: "invalid date, expected YYYY-MM-DD".to_string(),
        });
        err
    })
}

/// A JSON body (`Content-Type: application/json` required) deserialised into `T`; a body that
/// is not JSON, or does not fit `T`, is a 400 problem naming the path of the offending field.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "请以 JSON 提交（Content-Type: application/json）",
                "Send JSON (Content-Type: application/json)",
            ));
        }
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses a JSON document into `T`, with the path of the first problem.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let mut err = ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            format!("提交的内容格式不正确：{path} {inner}"),
            format!("The request body is malformed: {path} {inner}"),
        );
        err.errors.push(crate::problem::FieldError {
            path,
            code: "invalid_value".to_string(),
            message_zh: format!("格式不正确（{inner}）"),
            message_en: format!("malformed ({inner})"),
        });
        err
    })
}

/// An `application/x-www-form-urlencoded` body (a form post or an OAuth request).
#[derive(Debug)]
pub struct FormBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for FormBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        serde_urlencoded::from_bytes(&bytes)
            .map(FormBody)
            .map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_form",
                    format!("表单内容不正确：{e}"),
                    format!("The form is malformed: {e}"),
                )
            })
    }
}
