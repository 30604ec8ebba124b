//! Certificate types and seals (电子证照与电子印章), for system administrators: the
//! certificate types with their issuing departments, and each issuing department's seal keys
//! (and the platform's presentation key) with rotation, the same use case as
//! `POST /api/v1/seals/{department}/rotation`: the old key is retired and stays registered, so
//! what it sealed stays verifiable.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use serde::Deserialize;
use tower_sessions::Session;

use crate::Shared;
use crate::extract::{Path, Query};
use crate::pages::{Page, check_csrf, china_time, encode, first, form_pairs, ok};
use crate::problem::ApiError;

/// The seal owner of the platform's presentation key.
const PLATFORM: &str = "PLATFORM";

/// A certificate type.
pub struct TypeLine {
    /// Code.
    pub code: String,
    /// Name in the page's language.
    pub name: String,
    /// GB/T 36904 type code.
    pub type_code: String,
    /// Issuing department.
    pub issuer: String,
}

/// A seal key.
pub struct KeyLine {
    /// Key id.
    pub id: String,
    /// Made at.
    pub created: String,
    /// Retired at, when retired.
    pub retired: Option<String>,
}

/// The seal keys of one department (or the platform).
pub struct SealLine {
    /// Department credit code or `PLATFORM`.
    pub department: String,
    /// Its keys, oldest first.
    pub keys: Vec<KeyLine>,
}

#[derive(Template)]
#[template(path = "pages/admin/certificates.html")]
struct CertificatesPage {
    page: Page,
    types: Vec<TypeLine>,
    seals: Vec<SealLine>,
    rotated: Option<String>,
}

/// Query of the page.
#[derive(Debug, Deserialize)]
pub struct CertificatesQuery {
    /// The department whose seal was just rotated.
    pub rotated: Option<String>,
}

/// `GET /admin/certificates`: certificate types and the seal keys of their issuers.
pub async fn page(
    State(state): State<Shared>,
    page: Page,
    Query(q): Query<CertificatesQuery>,
) -> Result<Response, ApiError> {
    let types = state.app.certificate_types().await?;
    let mut departments: Vec<String> = types.iter().map(|t| t.issuing_department.clone()).collect();
    departments.sort();
    departments.dedup();
    departments.push(PLATFORM.to_string());
    let mut seals = Vec::new();
    for department in departments {
        let keys = state
            .app
            .seal_keys(&department)
            .await?
            .into_iter()
            .map(|k| KeyLine {
                id: k.id,
                created: china_time(k.created_at),
                retired: k.retired_at.map(china_time),
            })
            .collect();
        seals.push(SealLine { department, keys });
    }
    let types = types
        .into_iter()
        .map(|t| TypeLine {
            name: if page.en && !t.name_en.is_empty() {
                t.name_en
            } else {
                t.name
            },
            code: t.code,
            type_code: t.type_code,
            issuer: t.issuing_department,
        })
        .collect();
    Ok(ok(&CertificatesPage {
        page,
        types,
        seals,
        rotated: q.rotated,
    }))
}

/// `POST /admin/certificates/seals/{department}/rotation`: a new seal key for the department.
pub async fn rotate(
    State(state): State<Shared>,
    session: Session,
    Path(department): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let pairs = form_pairs(&body);
    check_csrf(&session, first(&pairs, "csrf_token")).await?;
    state.app.rotate_seal(&department, Timestamp::now()).await?;
    Ok(Redirect::to(&format!(
        "/admin/certificates?rotated={}",
        encode(&department)
    ))
    .into_response())
}
