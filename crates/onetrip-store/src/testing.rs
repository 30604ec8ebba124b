//! Test support: a fresh, migrated database per test, on SQLite or on PostgreSQL.
//!
//! PostgreSQL is reached through `ONETRIP_TEST_DATABASE_URL`; each test gets its own schema,
//! dropped by [`TestDb::cleanup`].

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;

use crate::{Db, Result};

/// Environment variable naming the PostgreSQL server for tests.
pub const TEST_DATABASE_URL: &str = "ONETRIP_TEST_DATABASE_URL";

/// A database that exists for one test.
pub struct TestDb {
    /// The database.
    pub db: Db,
    _dir: Option<tempfile::TempDir>,
    admin: Option<(PgConnectOptions, String)>,
}

impl TestDb {
    /// A fresh migrated SQLite database in a temporary directory.
    pub async fn sqlite() -> Result<TestDb> {
        let dir = tempfile::tempdir().map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let db = Db::connect(&url).await?;
        db.migrate().await?;
        Ok(TestDb {
            db,
            _dir: Some(dir),
            admin: None,
        })
    }

    /// A fresh migrated PostgreSQL schema, or `None` when `ONETRIP_TEST_DATABASE_URL` is unset.
    pub async fn postgres() -> Result<Option<TestDb>> {
        let Ok(url) = std::env::var(TEST_DATABASE_URL) else {
            return Ok(None);
        };
        let base = PgConnectOptions::from_str(&url)?;
        let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
        let admin = Db::connect_postgres(base.clone()).await?;
        if let Db::Postgres(pool) = &admin {
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(pool)
                .await?;
        }
        admin.close().await;
        let db =
            Db::connect_postgres(base.clone().options([("search_path", schema.as_str())])).await?;
        db.migrate().await?;
        Ok(Some(TestDb {
            db,
            _dir: None,
            admin: Some((base, schema)),
        }))
    }

    /// Drops the PostgreSQL schema (SQLite files go with the temporary directory).
    pub async fn cleanup(self) -> Result<()> {
        self.db.close().await;
        if let Some((base, schema)) = self.admin {
            let admin = Db::connect_postgres(base).await?;
            if let Db::Postgres(pool) = &admin {
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                    .execute(pool)
                    .await?;
            }
            admin.close().await;
        }
        Ok(())
    }
}
