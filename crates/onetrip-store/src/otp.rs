//! SMS one-time code challenges and the sandbox SMS outbox.
//!
//! A challenge stores the digest of its code, never the code. Verification writes back with
//! [`Db::update_otp_challenge`], a single `UPDATE` guarded by the attempts and consumed values
//! that were read: of two concurrent verifications of one challenge, at most one applies, on
//! both backends, without a transaction.

use std::fmt;

use jiff::Timestamp;
use sqlx::Row;

use crate::{Db, Result, StoreError, from_micros, on_pool, to_micros};

/// A one-time code challenge as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpChallengeRow {
    /// Challenge id (chosen by the caller: it is part of the digest).
    pub id: String,
    /// 11-digit phone. Personal data.
    pub phone: String,
    /// What the code is for (`sign_in`…).
    pub purpose: String,
    /// Digest of the code.
    pub code_digest: String,
    /// When the code was issued.
    pub issued_at: Timestamp,
    /// Wrong codes presented so far.
    pub attempts: u8,
    /// Whether the code was accepted.
    pub consumed: bool,
}

impl fmt::Debug for OtpChallengeRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtpChallengeRow")
            .field("id", &self.id)
            .field("phone", &crate::accounts::mask(&self.phone, 3, 4))
            .field("purpose", &self.purpose)
            .field("code_digest", &"<secret>")
            .field("issued_at", &self.issued_at)
            .field("attempts", &self.attempts)
            .field("consumed", &self.consumed)
            .finish()
    }
}

/// One SMS message recorded by the sandbox gateway.
#[derive(Clone, PartialEq, Eq)]
pub struct SmsMessageRow {
    /// Message id.
    pub id: String,
    /// 11-digit phone. Personal data.
    pub phone: String,
    /// Template name (`sign_in_code`…).
    pub template: String,
    /// The rendered text (may contain a code: never log it).
    pub body: String,
    /// `sent` or `failed`.
    pub status: String,
    /// When it was sent.
    pub sent_at: Timestamp,
}

impl fmt::Debug for SmsMessageRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsMessageRow")
            .field("id", &self.id)
            .field("phone", &crate::accounts::mask(&self.phone, 3, 4))
            .field("template", &self.template)
            .field("body", &"<hidden>")
            .field("status", &self.status)
            .field("sent_at", &self.sent_at)
            .finish()
    }
}

fn challenge<R: Row>(row: &R) -> Result<OtpChallengeRow>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let attempts: i64 = row.try_get(5)?;
    let consumed: i64 = row.try_get(6)?;
    Ok(OtpChallengeRow {
        id: row.try_get(0)?,
        phone: row.try_get(1)?,
        purpose: row.try_get(2)?,
        code_digest: row.try_get(3)?,
        issued_at: from_micros(row.try_get(4)?)?,
        attempts: u8::try_from(attempts)
            .map_err(|_| StoreError::Corrupt(format!("otp attempts {attempts}")))?,
        consumed: consumed != 0,
    })
}

fn message<R: Row>(row: &R) -> Result<SmsMessageRow>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    Ok(SmsMessageRow {
        id: row.try_get(0)?,
        phone: row.try_get(1)?,
        template: row.try_get(2)?,
        body: row.try_get(3)?,
        status: row.try_get(4)?,
        sent_at: from_micros(row.try_get(5)?)?,
    })
}

impl Db {
    /// Stores a new challenge. A taken id is [`StoreError::Conflict`] (`id`).
    pub async fn insert_otp_challenge(&self, c: &OtpChallengeRow) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO otp_challenges (id, phone, purpose, code_digest, issued_at, \
                 attempts, consumed) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&c.id)
            .bind(&c.phone)
            .bind(&c.purpose)
            .bind(&c.code_digest)
            .bind(to_micros(c.issued_at))
            .bind(i64::from(c.attempts))
            .bind(i64::from(c.consumed))
            .execute(pool)
            .await
            .map_err(|e| crate::accounts::classify(e, &["id"], "challenge"))?;
        });
        Ok(())
    }

    /// The latest challenge (by issue time, then id) for a phone and purpose.
    pub async fn latest_otp_challenge(
        &self,
        phone: &str,
        purpose: &str,
    ) -> Result<Option<OtpChallengeRow>> {
        const SQL: &str = "SELECT id, phone, purpose, code_digest, issued_at, attempts, consumed \
             FROM otp_challenges WHERE phone = $1 AND purpose = $2 \
             ORDER BY issued_at DESC, id DESC LIMIT 1";
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(phone).bind(purpose).fetch_optional(pool).await?;
            row.as_ref().map(challenge).transpose()
        })
    }

    /// How many challenges were issued for a phone (any purpose) at or after `since`.
    pub async fn count_otp_issued_since(&self, phone: &str, since: Timestamp) -> Result<u32> {
        const SQL: &str =
            "SELECT COUNT(*) FROM otp_challenges WHERE phone = $1 AND issued_at >= $2";
        on_pool!(self, pool => {
            let n: i64 = sqlx::query_scalar(SQL)
                .bind(phone)
                .bind(to_micros(since))
                .fetch_one(pool)
                .await?;
            Ok(u32::try_from(n).unwrap_or(u32::MAX))
        })
    }

    /// Writes back a verification: sets `attempts` and `consumed` when the challenge still has
    /// `old_attempts` and is not consumed. Returns whether it applied; `false` means another
    /// verification got there first (or the challenge is gone), and the caller must read again.
    pub async fn update_otp_challenge(
        &self,
        id: &str,
        old_attempts: u8,
        attempts: u8,
        consumed: bool,
    ) -> Result<bool> {
        on_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE otp_challenges SET attempts = $1, consumed = $2 \
                 WHERE id = $3 AND attempts = $4 AND consumed = 0",
            )
            .bind(i64::from(attempts))
            .bind(i64::from(consumed))
            .bind(id)
            .bind(i64::from(old_attempts))
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Deletes a challenge (one whose code could not be sent); returns whether it existed.
    pub async fn delete_otp_challenge(&self, id: &str) -> Result<bool> {
        on_pool!(self, pool => {
            let done = sqlx::query("DELETE FROM otp_challenges WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// Records a message of the sandbox SMS gateway (its `id` is used as given).
    pub async fn insert_sms_message(&self, m: &SmsMessageRow) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO sms_messages (id, phone, template, body, status, sent_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&m.id)
            .bind(&m.phone)
            .bind(&m.template)
            .bind(&m.body)
            .bind(&m.status)
            .bind(to_micros(m.sent_at))
            .execute(pool)
            .await
            .map_err(|e| crate::accounts::classify(e, &["id"], "message"))?;
        });
        Ok(())
    }

    /// The sandbox messages of a phone, newest first.
    pub async fn sms_messages(&self, phone: &str) -> Result<Vec<SmsMessageRow>> {
        const SQL: &str = "SELECT id, phone, template, body, status, sent_at FROM sms_messages \
             WHERE phone = $1 ORDER BY sent_at DESC, id DESC";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(phone).fetch_all(pool).await?;
            rows.iter().map(message).collect()
        })
    }
}
