//! Uploaded materials (上传材料) over the API.
//!
//! `POST /api/v1/uploads` takes one file as `multipart/form-data` (part `file`) from a signed-in
//! applicant or a window clerk and answers its record; the record's `{id, name, media_type}`
//! is what an application's `uploads` (or a correction's) refers to. `GET /api/v1/uploads/{id}`
//! gives the file back to its uploader; `GET /api/v1/cases/{number}/uploads/{id}` gives a case's
//! file to whoever may see the case.

use axum::Json;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use onetrip_store::UploadRow;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Shared;
use crate::api::accounts::CurrentActor;
use crate::api::cases::case_actor;
use crate::extract::Path;
use crate::problem::{ApiError, Problem};

/// The upload routes. The upload itself has no framework body limit: the use case's limit is
/// enforced while the file streams in ([`read_multipart`]).
pub fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .layer(DefaultBodyLimit::disable())
        .routes(routes!(own_file))
        .routes(routes!(case_file))
}

/// An uploaded file's record.
#[derive(Debug, Serialize, ToSchema)]
pub struct Uploaded {
    /// Id, to refer to in an application's `uploads`.
    pub id: String,
    /// File name as kept.
    pub name: String,
    /// Media type recognised from the content.
    pub media_type: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SM3 digest of the content (hex).
    pub sm3: String,
}

impl From<UploadRow> for Uploaded {
    fn from(r: UploadRow) -> Self {
        Uploaded {
            id: r.id,
            name: r.name,
            media_type: r.media_type,
            bytes: r.bytes,
            sm3: r.sm3,
        }
    }
}

/// A `multipart/form-data` body as read: its text parts, and its file parts (inputs of type
/// file with a file chosen).
#[derive(Debug, Default)]
pub struct MultipartForm {
    /// Text parts, in order.
    pub fields: Vec<(String, String)>,
    /// File parts, in order: the part's name, the file name the browser sent, the content.
    pub files: Vec<(String, String, bytes::Bytes)>,
    /// The part whose file was longer than allowed: reading stopped there (the parts after it
    /// are missing).
    pub too_large: Option<String>,
}

impl MultipartForm {
    /// The file of the part `name`: the sent file name and the content.
    pub fn file(&self, name: &str) -> Option<(String, bytes::Bytes)> {
        self.files
            .iter()
            .find(|(part, ..)| part == name)
            .map(|(_, sent, content)| (sent.clone(), content.clone()))
    }
}

fn malformed() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "upload_malformed",
        "上传请求格式不正确，请以 multipart/form-data 提交文件（字段名 file）",
        "The upload is malformed: send the file as multipart/form-data in a part named file.",
    )
}

/// Reads a multipart form, streaming: the text parts may be at most 64 KiB together and at
/// most 16 files are read, or the request is refused; a file longer than `max_bytes` stops the
/// reading there and is reported in [`MultipartForm::too_large`] (pages name the field, the
/// API refuses). A file input left empty (no name, no content) counts as no file.
pub async fn read_multipart(
    multipart: Result<Multipart, MultipartRejection>,
    max_bytes: u64,
) -> Result<MultipartForm, ApiError> {
    const MAX_TEXT: usize = 64 * 1024;
    const MAX_FILES: usize = 16;
    let mut multipart = multipart.map_err(|_| malformed())?;
    let mut form = MultipartForm::default();
    let mut text = 0usize;
    while let Some(mut field) = multipart.next_field().await.map_err(|_| malformed())? {
        let name = field.name().unwrap_or_default().to_string();
        if let Some(sent) = field.file_name().map(str::to_string) {
            let mut content = bytes::BytesMut::new();
            while let Some(chunk) = field.chunk().await.map_err(|_| malformed())? {
                if (content.len() + chunk.len()) as u64 > max_bytes {
                    form.too_large = Some(name);
                    return Ok(form);
                }
                content.extend_from_slice(&chunk);
            }
            if !(sent.is_empty() && content.is_empty()) {
                if form.files.len() == MAX_FILES {
                    return Err(malformed());
                }
                form.files.push((name, sent, content.freeze()));
            }
        } else {
            let value = field.text().await.map_err(|_| malformed())?;
            text += name.len() + value.len();
            if text > MAX_TEXT {
                return Err(malformed());
            }
            form.fields.push((name, value));
        }
    }
    Ok(form)
}

/// A page's form as posted: URL-encoded (at most 1 MiB), or `multipart/form-data` when it
/// carries files (each at most `max_bytes`, see [`read_multipart`]).
pub async fn read_page_form(request: Request, max_bytes: u64) -> Result<MultipartForm, ApiError> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if multipart {
        return read_multipart(Multipart::from_request(request, &()).await, max_bytes).await;
    }
    let body = axum::body::to_bytes(request.into_body(), 1024 * 1024)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "form_too_large",
                "提交的表单过大",
                "The form sent is too large.",
            )
        })?;
    Ok(MultipartForm {
        fields: crate::pages::form_pairs(&body),
        ..MultipartForm::default()
    })
}

/// The response carrying a stored file: its recognised type, its name for saving, shown in
/// the browser for PDFs and images, and sandboxed (a PDF's scripts get no access to the site).
pub fn file_response(row: &UploadRow, content: bytes::Bytes) -> Response {
    let disposition = format!("inline; filename*=UTF-8''{}", percent_encode(&row.name));
    let mut response = content.into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&row.media_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'",
        ),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    response
}

/// RFC 5987 encoding of a file name: every byte outside the unreserved set as `%XX`.
fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Uploads one file (PDF, JPEG, PNG or OFD; the type is recognised from the content). Sending
/// the same file again under the same name answers the same record.
#[utoipa::path(post, path = "/api/v1/uploads", tag = "applications",
    request_body(content_type = "multipart/form-data", description = "One part named `file`"),
    responses((status = 201, description = "The file's record", body = Uploaded),
              (status = 400, description = "No file part", body = Problem, content_type = "application/problem+json"),
              (status = 413, description = "Too large", body = Problem, content_type = "application/problem+json"),
              (status = 415, description = "Not an accepted type", body = Problem, content_type = "application/problem+json")))]
pub async fn upload(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<Uploaded>), ApiError> {
    let by = case_actor(&state, &actor).await?;
    let max = state.app.upload_max_bytes();
    let form = read_multipart(multipart, max).await?;
    if form.too_large.is_some() {
        return Err(onetrip_app::uploads::too_large(max).into());
    }
    let Some((name, content)) = form.file("file") else {
        return Err(malformed());
    };
    let row = state
        .app
        .upload_file(&by, &name, content, Timestamp::now())
        .await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// One of the signed-in account's own uploads.
#[utoipa::path(get, path = "/api/v1/uploads/{id}", tag = "applications",
    params(("id" = String, Path, description = "Upload id")),
    responses((status = 200, description = "The file"),
              (status = 404, description = "No such upload of this account", body = Problem, content_type = "application/problem+json")))]
pub async fn own_file(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let by = case_actor(&state, &actor).await?;
    let (row, content) = state.app.own_upload(&by, &id).await?;
    Ok(file_response(&row, content))
}

/// A file of a case (uploaded with the application or supplied in a correction), for whoever
/// may see the case.
#[utoipa::path(get, path = "/api/v1/cases/{number}/uploads/{id}", tag = "cases",
    params(("number" = String, Path, description = "Case number"),
           ("id" = String, Path, description = "Upload id")),
    responses((status = 200, description = "The file"),
              (status = 404, description = "Not a file of this case", body = Problem, content_type = "application/problem+json")))]
pub async fn case_file(
    State(state): State<Shared>,
    CurrentActor(actor): CurrentActor,
    Path((number, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let by = case_actor(&state, &actor).await?;
    let (row, content) = state.app.case_upload(&by, &number, &id).await?;
    Ok(file_response(&row, content))
}
