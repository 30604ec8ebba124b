//! Catalog API: items, versions, guides, departments, divisions, import and export.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use onetrip_app::catalog::{ItemPage, ItemQuery};
use onetrip_app::format::{self, DocumentFormat};
use onetrip_domain::catalog::{Department, Division, Guide};
use onetrip_domain::identifiers::DivisionCode;
use onetrip_store::{SaveReport, StoredItem, VersionInfo};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Shared;
use crate::extract::{Path, Query, RawBody, enum_param};
use crate::problem::{ApiError, Problem};

/// Largest catalog document accepted by an import (bytes).
pub const MAX_IMPORT_BYTES: usize = 256 * 1024 * 1024;

/// The catalog routes.
pub fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(list_items))
        .routes(routes!(get_item, put_item))
        .routes(routes!(item_versions))
        .routes(routes!(item_version))
        .routes(routes!(item_guides))
        .routes(routes!(item_guide))
        .routes(routes!(list_departments))
        .routes(routes!(get_department, put_department))
        .routes(routes!(list_divisions))
        .routes(routes!(get_division, put_division))
        .routes(routes!(export_catalog))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(import_catalog))
                .layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
}

fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

/// Query parameters of the item list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemsParams {
    /// Free text, e.g. 公积金 or 社保; the catalog is listed by code when absent.
    q: Option<String>,
    /// Division code; items of the division and its parents (province, city) are included.
    division: Option<String>,
    /// Department credit code.
    department: Option<String>,
    /// `person`, `organisation` or `both`.
    service_object: Option<String>,
    /// `licensing`, `benefit`, `confirmation`, `adjudication`, `award`, `filing`, `other_power`, `public_service`.
    item_type: Option<String>,
    /// Life event, e.g. `birth`, `housing`, `startup`.
    life_event: Option<String>,
    /// Sub-items of this item (implementation code).
    parent: Option<String>,
    /// Also find cancelled items (kept for the cases filed under them; hidden by default).
    include_cancelled: Option<bool>,
    /// Page size, 1–100 (default 20).
    limit: Option<usize>,
    /// Items to skip (default 0).
    offset: Option<usize>,
}

/// A page of items (see `ItemPage`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemPageDoc {
    /// Matches before paging.
    pub total: u64,
    /// Page size.
    pub limit: usize,
    /// Offset.
    pub offset: usize,
    /// Items: implementation_code, base_code, parent_code, name, item_type, department_code,
    /// division_code, service_object, status, version, and `highlight` (HTML) for text queries.
    pub items: Vec<serde_json::Value>,
}

/// Lists, filters and searches service items.
#[utoipa::path(get, path = "/api/v1/items", tag = "catalog", params(ItemsParams),
    responses((status = 200, description = "A page of items", body = ItemPageDoc),
              (status = 400, description = "Bad parameter", body = Problem, content_type = "application/problem+json")))]
pub async fn list_items(
    State(state): State<Shared>,
    Query(p): Query<ItemsParams>,
) -> Result<Json<ItemPage>, ApiError> {
    let division = p.division.filter(|d| !d.is_empty());
    if let Some(code) = &division {
        // A malformed filter is a bad parameter (400), like a bad enum value.
        DivisionCode::parse(code).map_err(|e| ApiError::bad_param("division", &e))?;
    }
    let query = ItemQuery {
        text: p.q,
        division,
        department: p.department.filter(|d| !d.is_empty()),
        service_object: enum_param("service_object", p.service_object.as_deref())?,
        item_type: enum_param("item_type", p.item_type.as_deref())?,
        life_event: enum_param("life_event", p.life_event.as_deref())?,
        parent: p.parent.filter(|d| !d.is_empty()),
        include_cancelled: p.include_cancelled.unwrap_or(false),
        limit: p.limit.unwrap_or(20),
        offset: p.offset.unwrap_or(0),
    };
    Ok(Json(state.app.find_items(&query).await?))
}

/// The JSON of a stored item version: metadata plus the document as stored.
fn item_response(stored: &StoredItem, immutable: bool) -> Response {
    let code = serde_json::to_string(&stored.implementation_code).unwrap_or_default();
    let body = format!(
        "{{\"implementation_code\":{code},\"version\":{},\"current\":{},\"published_at\":\"{}\",\"item\":{}}}",
        stored.version, stored.current, stored.published_at, stored.document
    );
    let etag = format!("\"{}-{}\"", stored.implementation_code, stored.version);
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=0, must-revalidate"
    };
    let mut response = (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

/// A stored item version.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemVersionDoc {
    /// Implementation code.
    pub implementation_code: String,
    /// Version number.
    pub version: i64,
    /// Whether this is the current version.
    pub current: bool,
    /// Publication time, UTC (RFC 3339).
    pub published_at: String,
    /// The item document (the catalog schema).
    pub item: serde_json::Value,
}

/// The current version of an item.
#[utoipa::path(get, path = "/api/v1/items/{code}", tag = "catalog",
    params(("code" = String, Path, description = "Implementation code (实施编码)")),
    responses((status = 200, description = "The item", body = ItemVersionDoc),
              (status = 404, description = "No such item", body = Problem, content_type = "application/problem+json")))]
pub async fn get_item(
    State(state): State<Shared>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let stored = state.app.item(&code).await?;
    Ok(item_response(&stored, false))
}

/// Result of publishing an item.
#[derive(Debug, Serialize, ToSchema)]
pub struct Published {
    /// Implementation code.
    pub implementation_code: String,
    /// Current version after the save.
    pub version: i64,
    /// Whether a new version was created (false when identical to the current one).
    pub changed: bool,
}

/// Publishes an item: creates it, or a new version when it changed. Every rule violation is
/// listed with its path.
#[utoipa::path(put, path = "/api/v1/items/{code}", tag = "catalog",
    params(("code" = String, Path, description = "Implementation code; must equal the document's")),
    request_body(content = serde_json::Value, description = "The item document", content_type = "application/json"),
    security(("admin_token" = [])),
    responses((status = 200, description = "Published", body = Published),
              (status = 422, description = "Rule violations", body = Problem, content_type = "application/problem+json")))]
pub async fn put_item(
    State(state): State<Shared>,
    Path(code): Path<String>,
    RawBody(body): RawBody,
) -> Result<Json<Published>, ApiError> {
    let value = format::parse_value(&String::from_utf8_lossy(&body), DocumentFormat::Json)?;
    let item = format::item_from_value(value).map_err(onetrip_app::AppError::Invalid)?;
    let (version, changed) = state.app.publish_item(&code, item, now()).await?;
    Ok(Json(Published {
        implementation_code: code,
        version,
        changed,
    }))
}

/// Every version of an item.
#[utoipa::path(get, path = "/api/v1/items/{code}/versions", tag = "catalog",
    params(("code" = String, Path, description = "Implementation code")),
    responses((status = 200, description = "Versions, oldest first", body = Vec<serde_json::Value>),
              (status = 404, description = "No such item", body = Problem, content_type = "application/problem+json")))]
pub async fn item_versions(
    State(state): State<Shared>,
    Path(code): Path<String>,
) -> Result<Json<Vec<VersionInfo>>, ApiError> {
    Ok(Json(state.app.item_versions(&code).await?))
}

/// One version of an item (cases keep the version they were filed under).
#[utoipa::path(get, path = "/api/v1/items/{code}/versions/{version}", tag = "catalog",
    params(("code" = String, Path, description = "Implementation code"),
           ("version" = i64, Path, description = "Version number")),
    responses((status = 200, description = "The version", body = ItemVersionDoc),
              (status = 404, description = "No such version", body = Problem, content_type = "application/problem+json")))]
pub async fn item_version(
    State(state): State<Shared>,
    Path((code, version)): Path<(String, i64)>,
) -> Result<Response, ApiError> {
    Ok(item_response(
        &state.app.item_version(&code, version).await?,
        true,
    ))
}

/// The guides of an item: one per situation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Guides {
    /// Implementation code.
    pub implementation_code: String,
    /// Item name.
    pub name: String,
    /// One guide per situation (办理情形), each with its own materials and time limit.
    #[schema(value_type = Vec<Object>)]
    pub situations: Vec<Guide>,
}

/// The guide of every situation of an item (办事指南).
#[utoipa::path(get, path = "/api/v1/items/{code}/guide", tag = "catalog",
    params(("code" = String, Path, description = "Implementation code")),
    responses((status = 200, description = "Guides", body = Guides),
              (status = 404, description = "No such item", body = Problem, content_type = "application/problem+json")))]
pub async fn item_guides(
    State(state): State<Shared>,
    Path(code): Path<String>,
) -> Result<Json<Guides>, ApiError> {
    let (item, situations) = state.app.guides(&code).await?;
    Ok(Json(Guides {
        implementation_code: item.implementation_code,
        name: item.name,
        situations,
    }))
}

/// The guide of one situation of an item.
#[utoipa::path(get, path = "/api/v1/items/{code}/guide/{situation}", tag = "catalog",
    params(("code" = String, Path, description = "Implementation code"),
           ("situation" = String, Path, description = "Situation code (`default` for items without situations)")),
    responses((status = 200, description = "The guide", body = Object),
              (status = 404, description = "No such item or situation", body = Problem, content_type = "application/problem+json")))]
pub async fn item_guide(
    State(state): State<Shared>,
    Path((code, situation)): Path<(String, String)>,
) -> Result<Json<Guide>, ApiError> {
    Ok(Json(state.app.guide(&code, &situation).await?))
}

/// Query parameters of the department list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DepartmentParams {
    /// Only departments of this division.
    division: Option<String>,
}

/// Departments.
#[utoipa::path(get, path = "/api/v1/departments", tag = "catalog", params(DepartmentParams),
    responses((status = 200, description = "Departments", body = Vec<Object>)))]
pub async fn list_departments(
    State(state): State<Shared>,
    Query(p): Query<DepartmentParams>,
) -> Result<Json<Vec<Department>>, ApiError> {
    let division = p.division.filter(|d| !d.is_empty());
    Ok(Json(
        state
            .app
            .db
            .departments(division.as_deref())
            .await
            .map_err(onetrip_app::AppError::from)?,
    ))
}

/// One department.
#[utoipa::path(get, path = "/api/v1/departments/{code}", tag = "catalog",
    params(("code" = String, Path, description = "Unified social credit code")),
    responses((status = 200, description = "The department", body = Object),
              (status = 404, description = "No such department", body = Problem, content_type = "application/problem+json")))]
pub async fn get_department(
    State(state): State<Shared>,
    Path(code): Path<String>,
) -> Result<Json<Department>, ApiError> {
    let found = state
        .app
        .db
        .department(&code)
        .await
        .map_err(onetrip_app::AppError::from)?;
    found.map(Json).ok_or_else(|| {
        onetrip_app::AppError::NotFound {
            kind: "department",
            key: code,
        }
        .into()
    })
}

fn body_json<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "unreadable_document",
            format!("无法读取提交的文档：{e}"),
            format!("The document cannot be read: {e}"),
        )
    })
}

fn mismatch(path: &str, code: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "code_mismatch",
        format!("文档中的 {path} 与地址中的编码（{code}）不一致"),
        format!("The document's {path} differs from the code in the address ({code})"),
    )
}

/// Creates or updates a department.
#[utoipa::path(put, path = "/api/v1/departments/{code}", tag = "catalog",
    params(("code" = String, Path, description = "Unified social credit code")),
    request_body(content = Object, content_type = "application/json"),
    security(("admin_token" = [])),
    responses((status = 204, description = "Saved"),
              (status = 422, description = "Rule violations", body = Problem, content_type = "application/problem+json")))]
pub async fn put_department(
    State(state): State<Shared>,
    Path(code): Path<String>,
    RawBody(body): RawBody,
) -> Result<StatusCode, ApiError> {
    let department: Department = body_json(&body)?;
    if department.code != code {
        return Err(mismatch("code", &code));
    }
    state.app.save_department(department).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A division with its place in the hierarchy.
#[derive(Debug, Serialize, ToSchema)]
pub struct DivisionView {
    /// GB/T 2260 code.
    pub code: String,
    /// Name.
    pub name: String,
    /// English name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    /// `province`, `city`, `county`, `township` or `village`.
    pub level: Option<String>,
    /// The parent division's code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_code: Option<String>,
}

fn division_view(d: Division) -> DivisionView {
    let parsed = DivisionCode::parse(&d.code).ok();
    DivisionView {
        level: parsed.map(|c| format!("{:?}", c.level()).to_lowercase()),
        parent_code: parsed
            .and_then(|c| c.parent())
            .map(|p| p.as_str().to_string()),
        code: d.code,
        name: d.name,
        name_en: d.name_en,
    }
}

/// Divisions.
#[utoipa::path(get, path = "/api/v1/divisions", tag = "catalog",
    responses((status = 200, description = "Divisions", body = Vec<DivisionView>)))]
pub async fn list_divisions(
    State(state): State<Shared>,
) -> Result<Json<Vec<DivisionView>>, ApiError> {
    let divisions = state
        .app
        .db
        .divisions()
        .await
        .map_err(onetrip_app::AppError::from)?;
    Ok(Json(divisions.into_iter().map(division_view).collect()))
}

/// A division with its parents and children.
#[derive(Debug, Serialize, ToSchema)]
pub struct DivisionDetail {
    /// The division.
    #[serde(flatten)]
    pub division: DivisionView,
    /// Parents, nearest first.
    pub ancestors: Vec<DivisionView>,
    /// Divisions directly below it.
    pub children: Vec<DivisionView>,
}

/// One division with its parents and children.
#[utoipa::path(get, path = "/api/v1/divisions/{code}", tag = "catalog",
    params(("code" = String, Path, description = "GB/T 2260 code")),
    responses((status = 200, description = "The division", body = DivisionDetail),
              (status = 404, description = "No such division", body = Problem, content_type = "application/problem+json")))]
pub async fn get_division(
    State(state): State<Shared>,
    Path(code): Path<String>,
) -> Result<Json<DivisionDetail>, ApiError> {
    let all = state
        .app
        .db
        .divisions()
        .await
        .map_err(onetrip_app::AppError::from)?;
    let mut views: Vec<DivisionView> = all.into_iter().map(division_view).collect();
    let Some(pos) = views.iter().position(|d| d.code == code) else {
        return Err(onetrip_app::AppError::NotFound {
            kind: "division",
            key: code,
        }
        .into());
    };
    let division = views.remove(pos);
    let ancestor_codes: Vec<String> = DivisionCode::parse(&code)
        .map(|c| c.ancestors().map(|a| a.as_str().to_string()).collect())
        .unwrap_or_default();
    let mut ancestors = Vec::new();
    let mut children = Vec::new();
    for v in views {
        if v.parent_code.as_deref() == Some(code.as_str()) {
            children.push(v);
        } else if ancestor_codes.contains(&v.code) {
            ancestors.push(v);
        }
    }
    ancestors.sort_by_key(|a| ancestor_codes.iter().position(|c| *c == a.code));
    Ok(Json(DivisionDetail {
        division,
        ancestors,
        children,
    }))
}

/// Creates or updates a division.
#[utoipa::path(put, path = "/api/v1/divisions/{code}", tag = "catalog",
    params(("code" = String, Path, description = "GB/T 2260 code")),
    request_body(content = Object, content_type = "application/json"),
    security(("admin_token" = [])),
    responses((status = 204, description = "Saved"),
              (status = 422, description = "Rule violations", body = Problem, content_type = "application/problem+json")))]
pub async fn put_division(
    State(state): State<Shared>,
    Path(code): Path<String>,
    RawBody(body): RawBody,
) -> Result<StatusCode, ApiError> {
    let division: Division = body_json(&body)?;
    if division.code != code {
        return Err(mismatch("code", &code));
    }
    state.app.save_division(division).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Query parameters of the export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `json` (default) or `yaml`.
    format: Option<String>,
}

/// The whole current catalog as one document, the format `onetrip catalog import` reads.
#[utoipa::path(get, path = "/api/v1/catalog/export", tag = "catalog", params(ExportParams),
    responses((status = 200, description = "The catalog document", body = Object)))]
pub async fn export_catalog(
    State(state): State<Shared>,
    Query(p): Query<ExportParams>,
) -> Result<Response, ApiError> {
    let (fmt, content_type, file) = match p.format.as_deref() {
        None | Some("json") => (DocumentFormat::Json, "application/json", "catalog.json"),
        Some("yaml") | Some("yml") => (DocumentFormat::Yaml, "application/yaml", "catalog.yaml"),
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_parameter",
                format!("参数 format 的取值“{other}”无效，可选 json 或 yaml"),
                format!("Parameter format has an invalid value \"{other}\" (json or yaml)"),
            ));
        }
    };
    let catalog = state.app.export_catalog().await?;
    let text = format::write_catalog(&catalog, fmt)?;
    let disposition = format!("attachment; filename=\"{file}\"");
    let mut response = ([(header::CONTENT_TYPE, content_type)], text).into_response();
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// Imports a catalog document (JSON or YAML, by `Content-Type` or content). Every problem is
/// listed; when there is any, nothing changes.
#[utoipa::path(post, path = "/api/v1/catalog/import", tag = "catalog",
    request_body(content = Object, description = "A catalog document: divisions, departments, items",
                 content_type = "application/json"),
    security(("admin_token" = [])),
    responses((status = 200, description = "Imported", body = Object),
              (status = 422, description = "Every violation, nothing imported", body = Problem, content_type = "application/problem+json")))]
pub async fn import_catalog(
    State(state): State<Shared>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<SaveReport>, ApiError> {
    let text = std::str::from_utf8(&body).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "unreadable_document",
            "文档须为 UTF-8 编码",
            "The document must be UTF-8",
        )
    })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let fmt = if content_type.contains("yaml") {
        DocumentFormat::Yaml
    } else if content_type.contains("json") {
        DocumentFormat::Json
    } else {
        DocumentFormat::sniff(text)
    };
    // A syntax error makes the document unreadable (400), as for a single item; only shape
    // and rule violations are 422.
    let value = format::parse_value(text, fmt)?;
    let catalog = format::catalog_from_value(value).map_err(onetrip_app::AppError::Invalid)?;
    Ok(Json(state.app.import_catalog(catalog, now()).await?))
}
