//! Electronic certificates (电子证照库): certificate types, seal keys with rotation, serial
//! allocation for identifiers, and certificates with their revocation.

use std::fmt;

use jiff::Timestamp;
use jiff::civil::Date;
use onetrip_domain::certificate::{CertificateStatus, CertificateType, HolderKind};
use sqlx::Row;

use crate::{
    BeginWrite, Db, IdempotencyRecord, Result, StoreError, from_micros, on_pool, to_micros,
};

/// A seal key as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SealKeyRow {
    /// Key id (stable, written into every signature made with it).
    pub id: String,
    /// Department credit code, or `PLATFORM`.
    pub department: String,
    /// SubjectPublicKeyInfo PEM.
    pub public_key_pem: String,
    /// PKCS#8 PEM of the private key; `None` when an external signer holds it. Secret.
    pub private_key_pem: Option<String>,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it stopped signing; `None` for the active key.
    pub retired_at: Option<Timestamp>,
}

impl fmt::Debug for SealKeyRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealKeyRow")
            .field("id", &self.id)
            .field("department", &self.department)
            .field(
                "private_key_pem",
                &self.private_key_pem.as_ref().map(|_| "<secret>"),
            )
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

/// A certificate as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct CertificateRow {
    /// GB/T 36904 identifier.
    pub id: String,
    /// Certificate type (catalog code, e.g. `ID_CARD`).
    pub type_code: String,
    /// Holder kind.
    pub holder_kind: HolderKind,
    /// Holder: resident ID number or credit code. Personal data.
    pub holder_id: String,
    /// Issuing department credit code.
    pub issuer: String,
    /// Content object (JSON).
    pub content: serde_json::Value,
    /// The canonical JSON the seal signed.
    pub signed: String,
    /// Issue date.
    pub issued_on: Date,
    /// Last day of validity; `None`: long-term.
    pub valid_until: Option<Date>,
    /// When it was recorded.
    pub issued_at: Timestamp,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
    /// Why it was revoked.
    pub revocation_reason: Option<String>,
    /// Seal key that signed it.
    pub seal_key_id: String,
    /// Base64 of the DER signature.
    pub signature: String,
}

impl CertificateRow {
    /// The status on `today` (revoked wins over expired).
    pub fn status_on(&self, today: Date) -> CertificateStatus {
        CertificateStatus::on(self.valid_until, self.revoked_at.is_some(), today)
    }
}

impl fmt::Debug for CertificateRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateRow")
            .field("id", &self.id)
            .field("type_code", &self.type_code)
            .field("holder_kind", &self.holder_kind)
            .field("holder_id", &crate::accounts::mask(&self.holder_id, 6, 4))
            .field("issuer", &self.issuer)
            .field("issued_on", &self.issued_on)
            .field("valid_until", &self.valid_until)
            .field("revoked_at", &self.revoked_at)
            .field("seal_key_id", &self.seal_key_id)
            .finish_non_exhaustive()
    }
}

/// A holder's certificate in a listing (the lead's material resolution reads these).
#[derive(Clone, PartialEq, Eq)]
pub struct HolderCertificate {
    /// GB/T 36904 identifier.
    pub id: String,
    /// Certificate type (catalog code, e.g. `ID_CARD`).
    pub type_code: String,
    /// Issuing department credit code.
    pub issuer: String,
    /// Issue date.
    pub issued_on: Date,
    /// Last day of validity; `None`: long-term.
    pub valid_until: Option<Date>,
    /// Status on the day asked for.
    pub status: CertificateStatus,
    /// Why it was revoked, if it was.
    pub revocation_reason: Option<String>,
}

impl fmt::Debug for HolderCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HolderCertificate")
            .field("id", &self.id)
            .field("type_code", &self.type_code)
            .field("status", &self.status)
            .field("valid_until", &self.valid_until)
            .finish_non_exhaustive()
    }
}

fn parse_date(s: &str) -> Result<Date> {
    s.parse()
        .map_err(|e: jiff::Error| StoreError::Corrupt(format!("date {s:?}: {e}")))
}

fn seal_key<R: Row>(row: &R) -> Result<SealKeyRow>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let retired: Option<i64> = row.try_get(5)?;
    Ok(SealKeyRow {
        id: row.try_get(0)?,
        department: row.try_get(1)?,
        public_key_pem: row.try_get(2)?,
        private_key_pem: row.try_get(3)?,
        created_at: from_micros(row.try_get(4)?)?,
        retired_at: retired.map(from_micros).transpose()?,
    })
}

macro_rules! key_sql {
    ($tail:literal) => {
        concat!(
            "SELECT id, department, public_key_pem, private_key_pem, created_at, retired_at \
             FROM seal_keys ",
            $tail
        )
    };
}

macro_rules! cert_sql {
    ($tail:literal) => {
        concat!(
            "SELECT id, type_code, holder_kind, holder_id, issuer, content, signed, issued_on, \
             valid_until, issued_at, revoked_at, revocation_reason, seal_key_id, signature \
             FROM certificates ",
            $tail
        )
    };
}

fn certificate<R: Row>(row: &R) -> Result<CertificateRow>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let kind: String = row.try_get(2)?;
    let content: String = row.try_get(5)?;
    let issued_on: String = row.try_get(7)?;
    let valid_until: Option<String> = row.try_get(8)?;
    let revoked_at: Option<i64> = row.try_get(10)?;
    Ok(CertificateRow {
        id: row.try_get(0)?,
        type_code: row.try_get(1)?,
        holder_kind: HolderKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("holder kind {kind:?}")))?,
        holder_id: row.try_get(3)?,
        issuer: row.try_get(4)?,
        content: serde_json::from_str(&content)
            .map_err(|e| StoreError::Corrupt(format!("certificate content: {e}")))?,
        signed: row.try_get(6)?,
        issued_on: parse_date(&issued_on)?,
        valid_until: valid_until.as_deref().map(parse_date).transpose()?,
        issued_at: from_micros(row.try_get(9)?)?,
        revoked_at: revoked_at.map(from_micros).transpose()?,
        revocation_reason: row.try_get(11)?,
        seal_key_id: row.try_get(12)?,
        signature: row.try_get(13)?,
    })
}

impl Db {
    /// Creates or replaces a certificate type.
    pub async fn save_certificate_type(&self, t: &CertificateType, now: Timestamp) -> Result<()> {
        let definition = serde_json::to_string(t)
            .map_err(|e| StoreError::Corrupt(format!("certificate type: {e}")))?;
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO certificate_types (code, issuing_department, definition, updated_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO UPDATE SET \
                 issuing_department = excluded.issuing_department, \
                 definition = excluded.definition, updated_at = excluded.updated_at",
            )
            .bind(&t.code)
            .bind(&t.issuing_department)
            .bind(&definition)
            .bind(to_micros(now))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Every certificate type, by code.
    pub async fn certificate_types(&self) -> Result<Vec<CertificateType>> {
        const SQL: &str = "SELECT definition FROM certificate_types ORDER BY code";
        let rows: Vec<String> = on_pool!(self, pool => {
            sqlx::query_scalar(SQL).fetch_all(pool).await?
        });
        rows.iter()
            .map(|d| {
                serde_json::from_str(d)
                    .map_err(|e| StoreError::Corrupt(format!("certificate type: {e}")))
            })
            .collect()
    }

    /// One certificate type.
    pub async fn certificate_type(&self, code: &str) -> Result<Option<CertificateType>> {
        const SQL: &str = "SELECT definition FROM certificate_types WHERE code = $1";
        let row: Option<String> = on_pool!(self, pool => {
            sqlx::query_scalar(SQL).bind(code).fetch_optional(pool).await?
        });
        row.map(|d| {
            serde_json::from_str(&d)
                .map_err(|e| StoreError::Corrupt(format!("certificate type: {e}")))
        })
        .transpose()
    }

    /// Adds a seal key. With `retire_current`, the department's active key (if any) is
    /// retired at `key.created_at` in the same transaction (rotation). A second active key
    /// without retiring is [`StoreError::Conflict`] (`department`); a taken id is
    /// [`StoreError::Conflict`] (`id`).
    pub async fn insert_seal_key(&self, key: &SealKeyRow, retire_current: bool) -> Result<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write(self.write_gate()).await?;
            if retire_current {
                sqlx::query(
                    "UPDATE seal_keys SET retired_at = $1 WHERE department = $2 \
                     AND retired_at IS NULL",
                )
                .bind(to_micros(key.created_at))
                .bind(&key.department)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "INSERT INTO seal_keys (id, department, public_key_pem, private_key_pem, \
                 created_at, retired_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&key.id)
            .bind(&key.department)
            .bind(&key.public_key_pem)
            .bind(&key.private_key_pem)
            .bind(to_micros(key.created_at))
            .bind(key.retired_at.map(to_micros))
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                crate::accounts::classify(e, &["pkey", "one_active", "department"], "seal key")
            })
            .map_err(|e| match e {
                StoreError::Conflict(c) if c.contains(&"one_active") || c.contains(&"department") => {
                    StoreError::Conflict(vec!["department"])
                }
                StoreError::Conflict(_) => {
                    StoreError::Conflict(vec!["id"])
                }
                other => other,
            })?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The department's active seal key.
    pub async fn active_seal_key(&self, department: &str) -> Result<Option<SealKeyRow>> {
        const SQL: &str = key_sql!("WHERE department = $1 AND retired_at IS NULL");
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(department).fetch_optional(pool).await?;
            row.as_ref().map(seal_key).transpose()
        })
    }

    /// A seal key by id (active or retired).
    pub async fn seal_key(&self, id: &str) -> Result<Option<SealKeyRow>> {
        const SQL: &str = key_sql!("WHERE id = $1");
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(id).fetch_optional(pool).await?;
            row.as_ref().map(seal_key).transpose()
        })
    }

    /// Every seal key of a department, oldest first.
    pub async fn seal_keys_of(&self, department: &str) -> Result<Vec<SealKeyRow>> {
        const SQL: &str = key_sql!("WHERE department = $1 ORDER BY created_at, id");
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(department).fetch_all(pool).await?;
            rows.iter().map(seal_key).collect()
        })
    }

    /// Allocates the next serial number (1, 2, …) of a scope (type code and issuer).
    /// Concurrent callers never get the same number.
    pub async fn next_certificate_serial(&self, scope: &str) -> Result<u64> {
        const SQL: &str = "INSERT INTO certificate_serials (scope, next) VALUES ($1, 2) \
             ON CONFLICT (scope) DO UPDATE SET next = certificate_serials.next + 1 \
             RETURNING next - 1";
        let n: i64 = on_pool!(self, pool => {
            sqlx::query_scalar(SQL).bind(scope).fetch_one(pool).await?
        });
        u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("serial {n}")))
    }

    /// Stores a new certificate. A taken identifier is [`StoreError::Conflict`] (`id`); an
    /// unknown type or seal key is [`StoreError::UnknownReference`].
    pub async fn insert_certificate(
        &self,
        c: &CertificateRow,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()> {
        let content = c.content.to_string();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write(self.write_gate()).await?;
            sqlx::query(
                "INSERT INTO certificates (id, type_code, holder_kind, holder_id, issuer, \
                 content, signed, issued_on, valid_until, issued_at, revoked_at, \
                 revocation_reason, seal_key_id, signature) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(&c.id)
            .bind(&c.type_code)
            .bind(c.holder_kind.as_str())
            .bind(&c.holder_id)
            .bind(&c.issuer)
            .bind(&content)
            .bind(&c.signed)
            .bind(c.issued_on.to_string())
            .bind(c.valid_until.map(|d| d.to_string()))
            .bind(to_micros(c.issued_at))
            .bind(c.revoked_at.map(to_micros))
            .bind(&c.revocation_reason)
            .bind(&c.seal_key_id)
            .bind(&c.signature)
            .execute(&mut *tx)
            .await
            .map_err(|e| crate::accounts::classify(e, &["id", "pkey"], "certificate type or seal key"))
            .map_err(|e| match e {
                StoreError::Conflict(_) => StoreError::Conflict(vec!["id"]),
                other => other,
            })?;
            crate::cases::insert_idempotency!(tx, idempotency, c.issued_at);
            tx.commit().await?;
        });
        Ok(())
    }

    /// A certificate by identifier.
    pub async fn certificate(&self, id: &str) -> Result<Option<CertificateRow>> {
        const SQL: &str = cert_sql!("WHERE id = $1");
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(id).fetch_optional(pool).await?;
            row.as_ref().map(certificate).transpose()
        })
    }

    /// Every certificate of a holder (all types, revoked and expired included), newest issue
    /// first.
    pub async fn certificates_of_holder(
        &self,
        kind: HolderKind,
        holder_id: &str,
    ) -> Result<Vec<CertificateRow>> {
        const SQL: &str = cert_sql!(
            "WHERE holder_kind = $1 AND holder_id = $2 ORDER BY issued_on DESC, issued_at DESC, id"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL)
                .bind(kind.as_str())
                .bind(holder_id)
                .fetch_all(pool)
                .await?;
            rows.iter().map(certificate).collect()
        })
    }

    /// A holder's certificates with their status on `today`, newest issue first: the cheap
    /// listing material resolution uses (one indexed query, no content).
    pub async fn holder_certificates(
        &self,
        kind: HolderKind,
        holder_id: &str,
        today: Date,
    ) -> Result<Vec<HolderCertificate>> {
        const SQL: &str = "SELECT id, type_code, issuer, issued_on, valid_until, revoked_at, \
             revocation_reason FROM certificates WHERE holder_kind = $1 AND holder_id = $2 \
             ORDER BY issued_on DESC, issued_at DESC, id";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL)
                .bind(kind.as_str())
                .bind(holder_id)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|row| {
                    let issued_on: String = row.try_get(3)?;
                    let valid_until: Option<String> = row.try_get(4)?;
                    let valid_until = valid_until.as_deref().map(parse_date).transpose()?;
                    let revoked: Option<i64> = row.try_get(5)?;
                    Ok(HolderCertificate {
                        id: row.try_get(0)?,
                        type_code: row.try_get(1)?,
                        issuer: row.try_get(2)?,
                        issued_on: parse_date(&issued_on)?,
                        valid_until,
                        status: CertificateStatus::on(valid_until, revoked.is_some(), today),
                        revocation_reason: row.try_get(6)?,
                    })
                })
                .collect()
        })
    }

    /// How many certificates of a type a holder has been issued (for issue-count rules).
    pub async fn certificate_issue_count(
        &self,
        kind: HolderKind,
        holder_id: &str,
        type_code: &str,
    ) -> Result<u32> {
        const SQL: &str = "SELECT COUNT(*) FROM certificates WHERE holder_kind = $1 \
             AND holder_id = $2 AND type_code = $3";
        let n: i64 = on_pool!(self, pool => {
            sqlx::query_scalar(SQL)
                .bind(kind.as_str())
                .bind(holder_id)
                .bind(type_code)
                .fetch_one(pool)
                .await?
        });
        u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("count {n}")))
    }

    /// Revokes a certificate. Returns `false` if it does not exist or was already revoked
    /// (the first revocation and its reason stay).
    pub async fn revoke_certificate(&self, id: &str, at: Timestamp, reason: &str) -> Result<bool> {
        const SQL: &str = "UPDATE certificates SET revoked_at = $1, revocation_reason = $2 \
             WHERE id = $3 AND revoked_at IS NULL";
        let n = on_pool!(self, pool => {
            sqlx::query(SQL)
                .bind(to_micros(at))
                .bind(reason)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    /// Number of certificates (all holders).
    pub async fn certificate_count(&self) -> Result<u64> {
        let n: i64 = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM certificates").fetch_one(pool).await?
        });
        u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("count {n}")))
    }
}
