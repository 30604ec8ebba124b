//! The JSON API under `/api/v1`.

pub mod accounts;
pub mod calendar;
pub mod cases;
pub mod catalog;
pub mod certificates;
pub mod data;
pub mod identifiers;
pub mod organisations;
pub mod resolution;
pub mod staff;
pub mod uploads;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;

use crate::problem::ApiError;

/// The `Idempotency-Key` header of a POST that creates something: 1 to 200 visible characters,
/// or absent. A repeat with the same key answers as the first request did and does nothing
/// twice; a malformed key is `idempotency_key_invalid` (400).
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKey(pub Option<String>);

impl IdempotencyKey {
    /// The key, if one was sent.
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get("idempotency-key") {
            None => Ok(IdempotencyKey(None)),
            Some(v) => match v.to_str() {
                Ok(s) if !s.trim().is_empty() && s.len() <= 200 => {
                    Ok(IdempotencyKey(Some(s.trim().to_string())))
                }
                _ => Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "idempotency_key_invalid",
                    "Idempotency-Key 须为 1 至 200 个可见字符",
                    "Idempotency-Key must be 1 to 200 visible characters.",
                )),
            },
        }
    }
}
