//! Web sessions: one row per session, keyed by the digest of its cookie value, holding the
//! session data as JSON and its expiry. Expired rows are ignored when read and deleted by
//! [`Db::delete_expired_sessions`].

use jiff::Timestamp;
use sqlx::Row;

use crate::{Db, Result, from_micros, on_pool, to_micros};

impl Db {
    /// Creates a session row; `false` (nothing written) when the id digest is already taken.
    pub async fn insert_session(
        &self,
        id_digest: &str,
        data: &str,
        expires_at: Timestamp,
    ) -> Result<bool> {
        on_pool!(self, pool => {
            let done = sqlx::query(
                "INSERT INTO web_sessions (id_digest, data, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (id_digest) DO NOTHING",
            )
            .bind(id_digest)
            .bind(data)
            .bind(to_micros(expires_at))
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Creates or replaces a session row.
    pub async fn save_session(
        &self,
        id_digest: &str,
        data: &str,
        expires_at: Timestamp,
    ) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO web_sessions (id_digest, data, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (id_digest) DO UPDATE SET data = excluded.data, \
                 expires_at = excluded.expires_at",
            )
            .bind(id_digest)
            .bind(data)
            .bind(to_micros(expires_at))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The data and expiry of a session that has not expired at `now`.
    pub async fn load_session(
        &self,
        id_digest: &str,
        now: Timestamp,
    ) -> Result<Option<(String, Timestamp)>> {
        on_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT data, expires_at FROM web_sessions WHERE id_digest = $1 AND expires_at > $2",
            )
            .bind(id_digest)
            .bind(to_micros(now))
            .fetch_optional(pool)
            .await?;
            match row {
                Some(row) => Ok(Some((row.try_get(0)?, from_micros(row.try_get(1)?)?))),
                None => Ok(None),
            }
        })
    }

    /// Deletes a session.
    pub async fn delete_session(&self, id_digest: &str) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM web_sessions WHERE id_digest = $1")
                .bind(id_digest)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Deletes the sessions expired at `now`; returns how many.
    pub async fn delete_expired_sessions(&self, now: Timestamp) -> Result<u64> {
        on_pool!(self, pool => {
            let done = sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1")
                .bind(to_micros(now))
                .execute(pool)
                .await?;
            Ok(done.rows_affected())
        })
    }
}
