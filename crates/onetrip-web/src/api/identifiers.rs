//! Identifier checks: resident ID numbers, credit codes, division codes and certificate ids.
//!
//! A check always answers 200 with `valid` and either the parsed fields or the reason; only an
//! unknown kind of identifier is an error. Resident ID numbers are answered masked.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use onetrip_domain::Localized;
use onetrip_domain::identifiers::{CertificateId, CreditCode, DivisionCode, ResidentId};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Shared;
use crate::extract::Path;
use crate::problem::{ApiError, Problem};

/// The identifier routes.
pub fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new().routes(routes!(check))
}

/// Why an identifier is invalid.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdentifierError {
    /// Stable code, e.g. `resident_id_checksum`.
    pub code: String,
    /// Message in Simplified Chinese.
    pub message_zh: String,
    /// Message in English.
    pub message_en: String,
}

/// The answer of a check: `kind`, `valid`, and the parsed fields or `error`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResult {
    /// `resident_id`, `credit_code`, `division` or `certificate_id`.
    pub kind: &'static str,
    /// Whether the value is valid.
    pub valid: bool,
    /// Parsed fields (when valid).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub fields: Value,
    /// The reason (when invalid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<IdentifierError>,
}

fn invalid(kind: &'static str, e: &dyn Localized) -> CheckResult {
    CheckResult {
        kind,
        valid: false,
        fields: json!({}),
        error: Some(IdentifierError {
            code: e.code().to_string(),
            message_zh: e.message_zh(),
            message_en: e.message_en(),
        }),
    }
}

fn valid(kind: &'static str, fields: Value) -> CheckResult {
    CheckResult {
        kind,
        valid: true,
        fields,
        error: None,
    }
}

/// Today in China (UTC+8 all year; China has kept no daylight saving time since 1991).
pub fn today_in_china() -> jiff::civil::Date {
    let offset = jiff::tz::offset(8);
    jiff::Timestamp::now()
        .to_zoned(offset.to_time_zone())
        .date()
}

/// Checks an identifier and returns its parsed fields or the reason it is invalid.
#[utoipa::path(get, path = "/api/v1/identifiers/{kind}/{value}", tag = "identifiers",
    params(("kind" = String, Path, description = "`resident-id`, `credit-code`, `division` or `certificate-id`"),
           ("value" = String, Path, description = "The identifier")),
    responses((status = 200, description = "The check result", body = CheckResult),
              (status = 404, description = "Unknown kind of identifier", body = Problem, content_type = "application/problem+json")))]
pub async fn check(
    State(state): State<Shared>,
    Path((kind, value)): Path<(String, String)>,
) -> Result<Json<CheckResult>, ApiError> {
    let result = match kind.as_str() {
        "resident-id" => match ResidentId::parse(&value, today_in_china()) {
            Ok(id) => valid("resident_id", to_value(&id.info())),
            Err(e) => invalid("resident_id", &e),
        },
        "credit-code" => match CreditCode::parse(&value) {
            Ok(code) => valid("credit_code", to_value(&code.info())),
            Err(e) => invalid("credit_code", &e),
        },
        "division" => match DivisionCode::parse(&value) {
            Ok(code) => {
                let name = state
                    .app
                    .db
                    .division(code.as_str())
                    .await
                    .ok()
                    .flatten()
                    .map(|d| d.name);
                valid(
                    "division",
                    json!({
                        "code": code.as_str(),
                        "level": format!("{:?}", code.level()).to_lowercase(),
                        "parent_code": code.parent().map(|p| p.as_str().to_string()),
                        "name": name,
                    }),
                )
            }
            Err(e) => invalid("division", &e),
        },
        "certificate-id" => match CertificateId::parse(&value) {
            Ok(id) => valid("certificate_id", to_value(&id.info())),
            Err(e) => invalid("certificate_id", &e),
        },
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_identifier_kind",
                "不支持的标识类型，可选：resident-id、credit-code、division、certificate-id",
                "Unknown kind of identifier: use resident-id, credit-code, division or certificate-id",
            ));
        }
    };
    Ok(Json(result))
}

fn to_value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_else(|_| json!({}))
}
