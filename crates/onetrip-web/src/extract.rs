//! Extractors whose rejections are problem responses, and parameter parsing helpers.

use axum::extract::FromRequestParts;
use axum::extract::rejection::{PathRejection, QueryRejection};
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
