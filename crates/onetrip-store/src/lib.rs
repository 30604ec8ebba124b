//! Storage for onetrip: one [`Db`] that is either an embedded SQLite database or a PostgreSQL
//! pool, chosen by the database URL, with the same repositories on both.
//!
//! SQL is written once with `$1` placeholders, which both backends accept; the [`on_pool!`]
//! macro runs the same code against whichever pool is configured. Column types are portable:
//! `TEXT`, `BIGINT` (timestamps are microseconds since the Unix epoch, UTC) and JSON kept as
//! `TEXT`. Migrations live in `migrations/sqlite` and `migrations/postgres` under identical names.
#![forbid(unsafe_code)]

mod accounts;
mod bulk;
mod calendar;
mod cases;
mod cases_bulk;
mod catalog;
mod certificates;
mod delegations;
mod oidc;
mod otp;
mod population;
mod registry;
mod registry_load;
mod sessions;
mod sharing;
#[cfg(feature = "testing")]
pub mod testing;
mod uploads;
mod writer;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

pub use accounts::{AuthEvent, NewPerson, NewStaff, OrganisationRow, PersonRow, StaffRow};
pub use bulk::{PG_ROWS_PER_STATEMENT, SQLITE_ROWS_PER_STATEMENT};
pub use cases::{
    ApplicationRow, BundleSummary, CaseChange, CaseCommit, CaseRow, DepartmentFigures, DueCounts,
    EventRow, IdempotencyRecord, IdempotentResponse, OutboxRow, QueueFilter, StoredBundle,
    SubmissionRows, SupervisionRow, WebhookRow,
};
pub use cases_bulk::CaseBatch;
pub use catalog::{ChangedItem, ItemFilter, ItemSummary, SaveReport, StoredItem, VersionInfo};
pub use certificates::{CertificateRow, HolderCertificate, SealKeyRow};
pub use delegations::DelegationRow;
pub use oidc::{ClientRow, CodeRow, GrantFacts, RefreshRow, SigningKeyRow};
pub use otp::{OtpChallengeRow, SmsMessageRow};
pub use population::{PopulationRow, PopulationStatus};
pub use registry::{HouseholdOf, MarriageOf, RegistryBatch, RegistryCounts};
pub use registry_load::{ChunkEncoding, LOAD_CACHE_KIB, PreparedChunk, RegistryLoader};
pub use sharing::{AccessLogFilter, Record, RequestFilter, ResourceFilter, ResourceGrants};
pub use uploads::UploadRow;
pub use writer::{Writer, WriterStats};

/// Runs `$body` with `$pool` bound to the concrete pool of `$db`, so that one piece of SQL code
/// serves both backends.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::Db::Sqlite($pool, _) => $body,
            $crate::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Starts a transaction that will write. On SQLite a plain (deferred) `BEGIN` starts as a reader,
/// and a transaction that reads before it writes (as every save does) then fails at once with
/// `SQLITE_BUSY` whenever another connection writes concurrently, without waiting for the busy
/// timeout; `BEGIN IMMEDIATE` takes the write lock up front, waiting for it, so concurrent saves
/// are serialised instead of refused, and it first waits for its turn at the [`Writer`]'s gate
/// (`gate`, from [`Db::write_gate`]) so that the writer cannot starve it. PostgreSQL uses a plain
/// `BEGIN`, its row locks and unique constraints do the rest; catalog writes additionally take
/// [`BeginWrite::begin_catalog_write`].
pub(crate) trait BeginWrite {
    /// The pool's database.
    type Database: sqlx::Database;

    /// Begins a write transaction on a connection of the pool.
    fn begin_write(
        &self,
        gate: Option<&writer::WriteGate>,
    ) -> impl Future<Output = sqlx::Result<sqlx::Transaction<'static, Self::Database>>> + Send;

    /// Begins a catalog write: on top of [`BeginWrite::begin_write`], catalog writers are
    /// serialised across every replica.
    fn begin_catalog_write(
        &self,
        gate: Option<&writer::WriteGate>,
    ) -> impl Future<Output = sqlx::Result<sqlx::Transaction<'static, Self::Database>>> + Send;
}

impl BeginWrite for SqlitePool {
    type Database = sqlx::Sqlite;

    async fn begin_write(
        &self,
        gate: Option<&writer::WriteGate>,
    ) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        writer::begin_on_pool(self, gate).await
    }

    async fn begin_catalog_write(
        &self,
        gate: Option<&writer::WriteGate>,
    ) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        // SQLite has one writer at a time already.
        self.begin_write(gate).await
    }
}

/// Advisory lock key of catalog writes on PostgreSQL ("onetrip" in ASCII).
const CATALOG_WRITE_LOCK: i64 = 0x006f_6e65_7472_6970;

impl BeginWrite for PgPool {
    type Database = sqlx::Postgres;

    async fn begin_write(
        &self,
        _gate: Option<&writer::WriteGate>,
    ) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        self.begin().await
    }

    async fn begin_catalog_write(
        &self,
        _gate: Option<&writer::WriteGate>,
    ) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        let mut tx = self.begin().await?;
        // Catalog writes are rare administrator actions: serialise them, as SQLite does, so that
        // two replicas publishing the same item never race for the same version number.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(CATALOG_WRITE_LOCK)
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }
}

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed a statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The URL names no supported database.
    #[error("unsupported database URL (use sqlite://… or postgres://…): {0}")]
    UnsupportedUrl(String),
    /// Stored data does not decode (a bug or manual tampering).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Unique values are already taken; lists the columns (e.g. `resident_id`, `phone`).
    #[error("already taken: {}", .0.join(", "))]
    Conflict(Vec<&'static str>),
    /// A reference names a row that does not exist (e.g. `person`, `department`).
    #[error("unknown {0}")]
    UnknownReference(&'static str),
}

impl onetrip_domain::Localized for StoreError {
    fn code(&self) -> &'static str {
        match self {
            StoreError::Database(_) | StoreError::Migrate(_) => "storage_unavailable",
            StoreError::UnsupportedUrl(_) => "unsupported_database_url",
            StoreError::Corrupt(_) => "storage_corrupt",
            StoreError::Conflict(_) => "already_exists",
            StoreError::UnknownReference(_) => "unknown_reference",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            StoreError::Database(_) | StoreError::Migrate(_) => {
                "数据库暂时不可用，请稍后重试".to_string()
            }
            StoreError::UnsupportedUrl(_) => {
                "不支持的数据库地址，请使用 sqlite:// 或 postgres://".to_string()
            }
            StoreError::Corrupt(_) => "存储的数据已损坏，请联系管理员".to_string(),
            StoreError::Conflict(columns) => format!("{}已被使用", columns.join("、")),
            StoreError::UnknownReference(what) => format!("引用的{what}不存在"),
        }
    }

    fn message_en(&self) -> String {
        match self {
            StoreError::Database(_) | StoreError::Migrate(_) => {
                "The database is unavailable; please try again later".to_string()
            }
            StoreError::UnsupportedUrl(_) => {
                "Unsupported database URL: use sqlite:// or postgres://".to_string()
            }
            StoreError::Corrupt(_) => {
                "Stored data is corrupt; please contact the administrator".to_string()
            }
            StoreError::Conflict(columns) => format!("Already taken: {}", columns.join(", ")),
            StoreError::UnknownReference(what) => format!("The referenced {what} does not exist"),
        }
    }
}

/// Result of a storage operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database engine a [`Db`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// The database: an embedded SQLite file or a PostgreSQL server.
#[derive(Debug, Clone)]
pub enum Db {
    /// SQLite: the pool (WAL, busy timeout, foreign keys on) for reads and rare writes, and the
    /// single [`Writer`] that group-commits submissions, case changes and access logs.
    Sqlite(SqlitePool, Writer),
    /// PostgreSQL pool.
    Postgres(PgPool),
}

/// Takes a `synchronous=` parameter out of a SQLite URL.
fn split_synchronous(url: &str) -> (String, SqliteSynchronous) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), SqliteSynchronous::Normal);
    };
    let mut level = SqliteSynchronous::Normal;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.split_once('=') {
            Some(("synchronous", value)) => {
                level = match value.to_ascii_lowercase().as_str() {
                    "full" => SqliteSynchronous::Full,
                    "extra" => SqliteSynchronous::Extra,
                    "off" => SqliteSynchronous::Off,
                    _ => SqliteSynchronous::Normal,
                };
                false
            }
            _ => true,
        })
        .collect();
    if rest.is_empty() {
        (base.to_string(), level)
    } else {
        (format!("{base}?{}", rest.join("&")), level)
    }
}

impl Db {
    /// Connects to `url` (`sqlite://path` or `postgres://…`). A SQLite file is created if missing.
    pub async fn connect(url: &str) -> Result<Db> {
        if url.starts_with("sqlite:") {
            Self::connect_sqlite(url).await
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)?;
            Self::connect_postgres(options).await
        } else {
            Err(StoreError::UnsupportedUrl(redact_url(url)))
        }
    }

    /// SQLite in WAL mode with `synchronous=NORMAL` (durable across application crashes, may
    /// lose the last transactions on power loss), unless the URL asks for another level with
    /// `?synchronous=full` (or `extra`, `off`), which onetrip reads itself.
    async fn connect_sqlite(url: &str) -> Result<Db> {
        let (url, synchronous) = split_synchronous(url);
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let writer = Writer::start(&options).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(options)
            .await?;
        Ok(Db::Sqlite(pool, writer))
    }

    /// Connects to PostgreSQL with explicit options (tests use this to pick a schema).
    pub async fn connect_postgres(options: PgConnectOptions) -> Result<Db> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Db::Postgres(pool))
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(..) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies every pending migration of this backend.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite(pool, _) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Db::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// Checks that the database answers (used by `/readyz`).
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Closes every connection (graceful shutdown). On SQLite the writer first finishes the
    /// jobs already queued.
    pub async fn close(&self) {
        if let Db::Sqlite(_, writer) = self {
            writer.close().await;
        }
        on_pool!(self, pool => pool.close().await)
    }

    /// What the SQLite writer has group-committed so far (`None` on PostgreSQL).
    pub fn writer_stats(&self) -> Option<WriterStats> {
        match self {
            Db::Sqlite(_, writer) => Some(writer.stats()),
            Db::Postgres(_) => None,
        }
    }

    /// The gate pool write transactions wait at on SQLite (see [`BeginWrite`]).
    pub(crate) fn write_gate(&self) -> Option<&writer::WriteGate> {
        match self {
            Db::Sqlite(_, writer) => Some(writer.gate()),
            Db::Postgres(_) => None,
        }
    }
}

/// Hides the password of a database URL, for logs and `onetrip config`.
pub fn redact_url(url: &str) -> String {
    // scheme://user:password@host/… → scheme://user:***@host/…
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// Microseconds since the Unix epoch, the portable timestamp column type.
pub(crate) fn to_micros(ts: jiff::Timestamp) -> i64 {
    ts.as_microsecond()
}

/// The inverse of [`to_micros`].
pub(crate) fn from_micros(us: i64) -> Result<jiff::Timestamp> {
    jiff::Timestamp::from_microsecond(us).map_err(|e| StoreError::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/onetrip"),
            "postgres://app:***@db:5432/onetrip"
        );
        assert_eq!(redact_url("postgres://db/onetrip"), "postgres://db/onetrip");
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
