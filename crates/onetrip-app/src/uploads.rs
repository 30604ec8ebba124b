//! Uploaded materials (上传材料): the files an applicant or a window clerk sends for materials
//! the platform cannot fetch itself (scanned documents, photos, signed forms).
//!
//! The content goes to the object store (a local directory by default, S3-compatible storage
//! in production), content-addressed by its SM3 digest, so the same file sent twice is stored
//! once; the database records who uploaded it, under which name and type. The type is
//! recognised from the content, never taken from the client. Only the uploader opens a file
//! before it is part of an application; afterwards whoever may see the case opens it through
//! the case.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use onetrip_store::UploadRow;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cases::{CaseActor, FileRef};
use crate::{App, AppError, FieldProblem, Result};

/// The largest file accepted when none is configured: 20 MiB, enough for a multi-page scan.
pub const DEFAULT_MAX_BYTES: u64 = 20 * 1024 * 1024;

/// The id prefix of a material a window clerk received on paper (the original seen and
/// handed back) without scanning it: such a reference has no file behind it, and only a
/// window intake may make one.
pub const RECEIVED_ON_PAPER: &str = "window:";

/// The longest file name kept, in characters.
const MAX_NAME_CHARS: usize = 120;

/// Configuration of uploaded files (`[uploads]` in `onetrip.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UploadConfig {
    /// Where the files go (`ONETRIP_UPLOADS_URL`): a directory path or `file:///…` URL, or
    /// `s3://bucket/prefix` for S3-compatible storage (credentials, region and endpoint from the
    /// usual `AWS_*` variables). Default: the `uploads` directory in the data directory.
    pub url: Option<String>,
    /// The largest file accepted, in bytes (`ONETRIP_UPLOADS_MAX_BYTES`; default 20 MiB).
    pub max_bytes: u64,
}

impl Default for UploadConfig {
    fn default() -> Self {
        UploadConfig {
            url: None,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// Where uploaded files are kept and how large one may be.
#[derive(Debug, Clone)]
pub struct UploadStore {
    objects: Arc<dyn ObjectStore>,
    max_bytes: u64,
}

impl UploadStore {
    /// Files kept in `objects`, each at most `max_bytes` long.
    pub fn new(objects: Arc<dyn ObjectStore>, max_bytes: u64) -> UploadStore {
        UploadStore { objects, max_bytes }
    }

    /// The store `config` names, with a local directory under `data_dir` by default.
    pub fn from_config(config: &UploadConfig, data_dir: &Path) -> Result<UploadStore> {
        let invalid = |e: &dyn std::fmt::Display| {
            AppError::Internal(format!("cannot open the upload store: {e}"))
        };
        let objects: Arc<dyn ObjectStore> = match config.url.as_deref() {
            Some(url) if url.starts_with("s3://") => Arc::new(
                object_store::aws::AmazonS3Builder::from_env()
                    .with_url(url)
                    .build()
                    .map_err(|e| invalid(&e))?,
            ),
            Some(url) if url.contains("://") && !url.starts_with("file://") => {
                return Err(invalid(&format!(
                    "unsupported uploads URL {url:?} (expected a directory, file:// or s3://)"
                )));
            }
            other => {
                let dir = match other {
                    Some(url) => PathBuf::from(url.strip_prefix("file://").unwrap_or(url)),
                    None => data_dir.join("uploads"),
                };
                std::fs::create_dir_all(&dir).map_err(|e| invalid(&e))?;
                Arc::new(LocalFileSystem::new_with_prefix(&dir).map_err(|e| invalid(&e))?)
            }
        };
        Ok(UploadStore::new(objects, config.max_bytes.max(1)))
    }

    /// Files kept in memory (tests, and the default until a store is configured).
    pub fn in_memory() -> UploadStore {
        UploadStore::new(
            Arc::new(object_store::memory::InMemory::new()),
            DEFAULT_MAX_BYTES,
        )
    }
}

/// The media types accepted, recognised from the file's first bytes: PDF, JPEG, PNG, and OFD
/// (GB/T 33190, the national format for electronic documents: a ZIP container, recognised by
/// its `.ofd` name).
pub fn recognise(content: &[u8], name: &str) -> Option<&'static str> {
    if content.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if content.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if content.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if content.starts_with(b"PK\x03\x04") && name.to_lowercase().ends_with(".ofd") {
        Some("application/ofd")
    } else {
        None
    }
}

/// The file name as kept: the last component of what the browser sent (some send a whole
/// path), trimmed, without control characters, at most [`MAX_NAME_CHARS`] characters.
pub fn clean_name(sent: &str) -> Option<String> {
    let last = sent.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    if last.is_empty() || last == "." || last == ".." || last.chars().any(char::is_control) {
        return None;
    }
    Some(last.chars().take(MAX_NAME_CHARS).collect())
}

fn refused(code: &'static str, zh: String, en: String) -> AppError {
    AppError::Refused { code, zh, en }
}

fn unavailable(e: &object_store::Error) -> AppError {
    tracing::error!(error = %e, "object store failed");
    refused(
        "upload_storage_unavailable",
        "文件存储暂时不可用，请稍后再试".into(),
        "File storage is unavailable at the moment; please try again later.".into(),
    )
}

/// The refusal of a file longer than `max` bytes.
pub fn too_large(max: u64) -> AppError {
    let mib = max.div_ceil(1024 * 1024);
    refused(
        "upload_too_large",
        format!("文件超过 {mib} MB，请压缩或分页后再上传"),
        format!("The file is larger than {mib} MB; compress or split it."),
    )
}

fn not_found(id: &str) -> AppError {
    AppError::NotFound {
        kind: "upload",
        key: id.to_string(),
    }
}

fn object_path(sm3: &str) -> ObjectPath {
    ObjectPath::from(format!("sm3/{sm3}"))
}

/// A file reference as an application stores it, from the record.
pub fn file_ref(row: &UploadRow) -> FileRef {
    FileRef {
        id: row.id.clone(),
        name: row.name.clone(),
        media_type: Some(row.media_type.clone()),
    }
}

/// The value of a form's file field referring to the upload: `{id, name, media_type, bytes}`.
pub fn file_value(row: &UploadRow) -> Value {
    serde_json::json!({
        "id": row.id,
        "name": row.name,
        "media_type": row.media_type,
        "bytes": row.bytes,
    })
}

/// Whether an application document (or a case event) refers to the upload `id` anywhere in
/// its `uploads`.
fn refers_to(document: &Value, id: &str) -> bool {
    document
        .get("uploads")
        .and_then(Value::as_object)
        .is_some_and(|uploads| {
            uploads
                .values()
                .any(|f| f.get("id").and_then(Value::as_str) == Some(id))
        })
}

impl App {
    /// This application keeping uploaded files in `store` (the default keeps them in memory).
    pub fn with_upload_store(mut self, store: UploadStore) -> App {
        self.uploads = Arc::new(store);
        self
    }

    /// The largest file accepted, in bytes.
    pub fn upload_max_bytes(&self) -> u64 {
        self.uploads.max_bytes
    }

    /// Stores a file sent by `by` (an applicant, or a window clerk for a walk-in applicant)
    /// and records it. Refused when empty, too large, or not a PDF, JPEG, PNG or OFD file. The
    /// same file sent again under the same name gives the same record.
    pub async fn upload_file(
        &self,
        by: &CaseActor,
        name: &str,
        content: bytes::Bytes,
        now: Timestamp,
    ) -> Result<UploadRow> {
        if !matches!(by, CaseActor::Applicant { .. } | CaseActor::Staff { .. }) {
            return Err(refused(
                "upload_not_permitted",
                "只有申请人或窗口工作人员可以上传材料".into(),
                "Only applicants and window staff upload materials.".into(),
            ));
        }
        let Some(name) = clean_name(name) else {
            return Err(refused(
                "upload_name_invalid",
                "请选择要上传的文件".into(),
                "Choose a file to upload.".into(),
            ));
        };
        if content.is_empty() {
            return Err(refused(
                "upload_empty",
                format!("文件“{name}”是空的"),
                format!("The file \u{201c}{name}\u{201d} is empty."),
            ));
        }
        let max = self.uploads.max_bytes;
        if content.len() as u64 > max {
            return Err(too_large(max));
        }
        let Some(media_type) = recognise(&content, &name) else {
            return Err(refused(
                "upload_type_not_accepted",
                format!("文件“{name}”不是 PDF、JPEG、PNG 或 OFD 文件"),
                format!("The file \u{201c}{name}\u{201d} is not a PDF, JPEG, PNG or OFD file."),
            ));
        };
        self.store_upload(by.label(), name, media_type, content, now)
            .await
    }

    /// Stores checked content and records it as uploaded by `uploaded_by` (an actor's label).
    pub(crate) async fn store_upload(
        &self,
        uploaded_by: String,
        name: String,
        media_type: &str,
        content: bytes::Bytes,
        now: Timestamp,
    ) -> Result<UploadRow> {
        let sm3 = onetrip_seal::sm3_hex(&content);
        let bytes = content.len() as u64;
        self.uploads
            .objects
            .put(&object_path(&sm3), PutPayload::from_bytes(content))
            .await
            .map_err(|e| unavailable(&e))?;
        let row = UploadRow {
            id: uuid::Uuid::now_v7().to_string(),
            uploaded_by,
            name,
            media_type: media_type.to_string(),
            bytes,
            sm3,
            created_at: now,
        };
        Ok(self.db.record_upload(&row).await?)
    }

    /// A file its uploader opens (before it is part of an application, or afterwards). Anyone
    /// else is told it does not exist.
    pub async fn own_upload(
        &self,
        actor: &CaseActor,
        id: &str,
    ) -> Result<(UploadRow, bytes::Bytes)> {
        let row = self.db.upload(id).await?.ok_or_else(|| not_found(id))?;
        if row.uploaded_by != actor.label() {
            return Err(not_found(id));
        }
        let content = self.upload_content(&row).await?;
        Ok((row, content))
    }

    /// A file of a case, opened by whoever may see the case (its officers, supervisors, the
    /// applicant): it must be one of the application's uploads or one supplied in a correction.
    pub async fn case_upload(
        &self,
        actor: &CaseActor,
        number: &str,
        id: &str,
    ) -> Result<(UploadRow, bytes::Bytes)> {
        let case = self.case_row(number).await?;
        let application = self.application_of(&case).await?;
        self.may_see(actor, &case, &application).await?;
        let mut attached = refers_to(&application.document, id);
        if !attached {
            attached = self.db.case_events(number).await?.iter().any(|e| {
                serde_json::from_str::<Value>(&e.event).is_ok_and(|event| refers_to(&event, id))
            });
        }
        if !attached {
            return Err(not_found(id));
        }
        let row = self.db.upload(id).await?.ok_or_else(|| not_found(id))?;
        let content = self.upload_content(&row).await?;
        Ok((row, content))
    }

    async fn upload_content(&self, row: &UploadRow) -> Result<bytes::Bytes> {
        let got = self
            .uploads
            .objects
            .get(&object_path(&row.sm3))
            .await
            .map_err(|e| unavailable(&e))?;
        let content = got.bytes().await.map_err(|e| unavailable(&e))?;
        if onetrip_seal::sm3_hex(&content) != row.sm3 {
            tracing::error!(upload = %row.id, "stored file does not match its digest");
            return Err(AppError::Internal(format!(
                "upload {} does not match its digest",
                row.id
            )));
        }
        Ok(content)
    }

    /// Checks the files an application (or a correction) refers to: each must exist and have
    /// been uploaded by `uploader` — or, at a window (`at_window`), be a material received on
    /// paper ([`RECEIVED_ON_PAPER`]); the references are rewritten from the records (the name
    /// and type the platform recognised, not what the client claims). Every problem is listed,
    /// with the path `uploads.<key>`.
    pub(crate) async fn checked_uploads(
        &self,
        uploader: &str,
        uploads: &BTreeMap<String, FileRef>,
        at_window: bool,
    ) -> Result<std::result::Result<BTreeMap<String, FileRef>, Vec<FieldProblem>>> {
        let mut checked = BTreeMap::new();
        let mut problems = Vec::new();
        for (key, file) in uploads {
            if at_window && file.id.starts_with(RECEIVED_ON_PAPER) {
                checked.insert(
                    key.clone(),
                    FileRef {
                        media_type: None,
                        ..file.clone()
                    },
                );
                continue;
            }
            match self.db.upload(&file.id).await? {
                Some(row) if row.uploaded_by == uploader => {
                    checked.insert(key.clone(), file_ref(&row));
                }
                _ => problems.push(FieldProblem {
                    path: format!("uploads.{key}"),
                    code: "upload_unknown",
                    message_zh: format!("找不到上传的文件“{}”，请重新上传", file.name),
                    message_en: format!(
                        "The uploaded file \u{201c}{}\u{201d} was not found; upload it again.",
                        file.name
                    ),
                }),
            }
        }
        Ok(if problems.is_empty() {
            Ok(checked)
        } else {
            Err(problems)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_types_from_content_not_names() {
        assert_eq!(recognise(b"%PDF-1.7\n", "a.jpg"), Some("application/pdf"));
        assert_eq!(
            recognise(&[0xFF, 0xD8, 0xFF, 0xE0], "x"),
            Some("image/jpeg")
        );
        assert_eq!(
            recognise(b"\x89PNG\r\n\x1a\n\0\0", "scan.pdf"),
            Some("image/png")
        );
        assert_eq!(
            recognise(b"PK\x03\x04....", "合同.OFD"),
            Some("application/ofd")
        );
        assert_eq!(recognise(b"PK\x03\x04....", "macro.docx"), None);
        assert_eq!(recognise(b"<html>", "a.pdf"), None);
        assert_eq!(recognise(b"", "a.pdf"), None);
    }

    #[test]
    fn cleans_names() {
        assert_eq!(
            clean_name("C:\\Users\\张三\\出生证明.pdf").as_deref(),
            Some("出生证明.pdf")
        );
        assert_eq!(clean_name("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(clean_name("  a.png ").as_deref(), Some("a.png"));
        assert_eq!(clean_name("dir/"), None);
        assert_eq!(clean_name(".."), None);
        assert_eq!(clean_name("a\u{0}b.pdf"), None);
        assert_eq!(
            clean_name(&"长".repeat(300)).map(|n| n.chars().count()),
            Some(120)
        );
    }
}
