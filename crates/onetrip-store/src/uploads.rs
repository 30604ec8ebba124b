//! Uploaded files (上传材料): the record of each file an applicant or a window clerk uploaded.
//! The content itself lives in the object store, content-addressed by its SM3 digest; a record
//! says who uploaded it, under which name and media type.

use jiff::Timestamp;
use sqlx::Row;

use crate::{Db, Result, StoreError, from_micros, on_pool, to_micros};

/// An uploaded file as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRow {
    /// Id (UUID v7).
    pub id: String,
    /// Who uploaded it: `applicant:<account>` or `staff:<id>`.
    pub uploaded_by: String,
    /// The file name as sent (without any directory).
    pub name: String,
    /// The media type recognised from the content.
    pub media_type: String,
    /// Size in bytes.
    pub bytes: u64,
    /// SM3 digest of the content, lowercase hex: the object's key.
    pub sm3: String,
    /// When it was uploaded.
    pub created_at: Timestamp,
}

fn upload<R: Row>(row: &R) -> Result<UploadRow>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let bytes: i64 = row.try_get(4)?;
    Ok(UploadRow {
        id: row.try_get(0)?,
        uploaded_by: row.try_get(1)?,
        name: row.try_get(2)?,
        media_type: row.try_get(3)?,
        bytes: u64::try_from(bytes)
            .map_err(|_| StoreError::Corrupt(format!("upload size {bytes}")))?,
        sm3: row.try_get(5)?,
        created_at: from_micros(row.try_get(6)?)?,
    })
}

impl Db {
    /// Records an upload and returns the record in effect: when the same uploader already
    /// uploaded the same content under the same name, that earlier record (sending a file again
    /// makes no second record).
    pub async fn record_upload(&self, row: &UploadRow) -> Result<UploadRow> {
        const INSERT: &str = "INSERT INTO uploads (id, uploaded_by, name, media_type, bytes, sm3, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (uploaded_by, sm3, name) DO NOTHING";
        const FIND: &str = concat!(
            "SELECT id, uploaded_by, name, media_type, bytes, sm3, created_at FROM uploads ",
            "WHERE uploaded_by = $1 AND sm3 = $2 AND name = $3"
        );
        let bytes = i64::try_from(row.bytes)
            .map_err(|_| StoreError::Corrupt(format!("upload size {}", row.bytes)))?;
        on_pool!(self, pool => {
            sqlx::query(INSERT)
                .bind(&row.id)
                .bind(&row.uploaded_by)
                .bind(&row.name)
                .bind(&row.media_type)
                .bind(bytes)
                .bind(&row.sm3)
                .bind(to_micros(row.created_at))
                .execute(pool)
                .await?;
            let found = sqlx::query(FIND)
                .bind(&row.uploaded_by)
                .bind(&row.sm3)
                .bind(&row.name)
                .fetch_one(pool)
                .await?;
            upload(&found)
        })
    }

    /// The upload of this id, if any.
    pub async fn upload(&self, id: &str) -> Result<Option<UploadRow>> {
        const SQL: &str = concat!(
            "SELECT id, uploaded_by, name, media_type, bytes, sm3, created_at FROM uploads ",
            "WHERE id = $1"
        );
        on_pool!(self, pool => {
            sqlx::query(SQL).bind(id).fetch_optional(pool).await?.as_ref().map(upload).transpose()
        })
    }
}
