//! Bulk loading of generated registry chunks (`onetrip generate`).
//!
//! A [`RegistryLoader`] writes on one connection of its own. When the registries are empty it
//! loads them in **bulk mode**, the way a database loads a dump:
//! - everything is one transaction: the registries go from empty to loaded, or stay empty.
//!   (Committing chunk by chunk rewrote the pages of every index a chunk touched, each time.)
//! - What is maintained row by row is dropped at the start and made again, from its own stored
//!   definition, at the end of that transaction, so that it is built once by sorting: the
//!   secondary indexes of the registry tables, and on PostgreSQL their primary keys too (a
//!   duplicate key fails the load). The schema afterwards is the one the migrations made.
//! - On SQLite: multi-row `INSERT OR FAIL` (no statement journal: any error rolls the whole
//!   load back anyway), a page cache of [`LOAD_CACHE_KIB`], and `synchronous = OFF` while
//!   loading; after the commit the connection's own level again and a checkpoint
//!   (`wal_checkpoint(TRUNCATE)`) that syncs the log, copies it into the database file and
//!   syncs that, so the result is as durable as any commit.
//! - On PostgreSQL: `COPY … FROM STDIN` (text format) per table and chunk.
//!
//! Otherwise (the registries hold rows already) every chunk is an upsert in a transaction of its
//! own, as [`crate::Db::insert_registry_chunk`] does. Either way the same rows are written, in
//! the same order. The loader's connection is taken out of the pool and closed at the end; a
//! loader dropped before [`RegistryLoader::finish`] closes it, which rolls its transaction back.

use sqlx::{Connection, PgConnection, SqliteConnection};

use onetrip_domain::registry::generator::Chunk;

use crate::bulk::{Columns, Conflict, Table, copy_pg, insert_pg, insert_sqlite};
use crate::registry::{REGISTRY_TABLES, chunk_tables};
use crate::{Db, Result, StoreError};

/// SQLite page cache of a registry load, in KiB (256 MiB).
pub const LOAD_CACHE_KIB: i64 = 256 * 1024;

/// How the rows of a chunk are encoded for a [`RegistryLoader`]: give it to
/// [`PreparedChunk::new`], which may run on another thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkEncoding {
    /// Column values (SQLite, and PostgreSQL upserts).
    Rows,
    /// `COPY` text per table (PostgreSQL bulk mode).
    PgCopy,
}

enum Encoded {
    Rows(Columns),
    Copy(Vec<u8>),
}

/// A generated chunk, encoded for writing. Encoding is CPU work: do it where the chunk is made.
pub struct PreparedChunk {
    persons: usize,
    tables: Vec<(&'static Table, Encoded)>,
}

impl PreparedChunk {
    /// Encodes `chunk` as `encoding` says.
    pub fn new(chunk: Chunk, encoding: ChunkEncoding) -> PreparedChunk {
        let persons = chunk.persons.len();
        let tables = chunk_tables(chunk)
            .into_iter()
            .filter(|(_, cols)| cols.len() > 0)
            .map(|(table, cols)| {
                let encoded = match encoding {
                    ChunkEncoding::Rows => Encoded::Rows(cols),
                    ChunkEncoding::PgCopy => Encoded::Copy(cols.pg_copy_text()),
                };
                (table, encoded)
            })
            .collect();
        PreparedChunk { persons, tables }
    }

    /// Persons in the chunk.
    pub fn persons(&self) -> usize {
        self.persons
    }
}

enum Conn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// Writes generated chunks; see the module documentation.
pub struct RegistryLoader {
    conn: Conn,
    /// Bulk mode: the statements that make again what was dropped, in order.
    bulk: Option<Vec<String>>,
    /// SQLite: the connection's `synchronous` level before the load.
    synchronous: i64,
}

/// A query that returns a row when any registry table holds one.
fn any_registry_row() -> String {
    REGISTRY_TABLES
        .iter()
        .enumerate()
        .map(|(i, t)| format!("SELECT 1 FROM (SELECT 1 FROM {t} LIMIT 1) AS s{i}"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

/// `'population_registry', 'registry_households', …` for an `IN (…)`.
fn registry_table_list() -> String {
    REGISTRY_TABLES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A chunk prepared for the other backend (a bug of the caller).
fn wrong_encoding() -> StoreError {
    StoreError::Corrupt("registry chunk encoded for the other database".into())
}

async fn run_sqlite(conn: &mut SqliteConnection, sql: String) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(conn).await?;
    Ok(())
}

async fn run_pg(conn: &mut PgConnection, sql: String) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(sql)).execute(conn).await?;
    Ok(())
}

/// Opens a bulk load on SQLite: begins the transaction and drops the secondary indexes of the
/// registry tables; returns the statements that create them again.
async fn begin_sqlite_bulk(conn: &mut SqliteConnection) -> Result<Vec<String>> {
    run_sqlite(conn, "PRAGMA synchronous = OFF".into()).await?;
    run_sqlite(conn, "BEGIN IMMEDIATE".into()).await?;
    let indexes: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
         AND sql NOT LIKE 'CREATE UNIQUE%' AND tbl_name IN ({}) ORDER BY rowid",
        registry_table_list()
    )))
    .fetch_all(&mut *conn)
    .await?;
    let mut restore = Vec::with_capacity(indexes.len());
    for (name, sql) in indexes {
        run_sqlite(conn, format!("DROP INDEX \"{name}\"")).await?;
        restore.push(sql);
    }
    Ok(restore)
}

/// Opens a bulk load on PostgreSQL: begins the transaction and drops the primary keys and the
/// other non-unique indexes of the registry tables; returns the statements that make them
/// again.
async fn begin_pg_bulk(conn: &mut PgConnection) -> Result<Vec<String>> {
    run_pg(conn, "BEGIN".into()).await?;
    run_pg(conn, "SET LOCAL maintenance_work_mem = '256MB'".into()).await?;
    let this_schema = "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())";
    let tables = registry_table_list();
    let keys: Vec<(String, String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT t.relname::text, c.conname::text, pg_get_constraintdef(c.oid) \
         FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
         WHERE t.relnamespace = {this_schema} AND t.relname::text IN ({tables}) \
         AND c.contype = 'p' ORDER BY c.oid"
    )))
    .fetch_all(&mut *conn)
    .await?;
    let indexes: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT c.relname::text, pg_get_indexdef(c.oid) FROM pg_index x \
         JOIN pg_class c ON c.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
         WHERE t.relnamespace = {this_schema} AND t.relname::text IN ({tables}) \
         AND NOT x.indisunique AND NOT x.indisprimary ORDER BY c.oid"
    )))
    .fetch_all(&mut *conn)
    .await?;
    let mut restore = Vec::with_capacity(keys.len() + indexes.len());
    for (table, name, definition) in keys {
        run_pg(
            conn,
            format!("ALTER TABLE \"{table}\" DROP CONSTRAINT \"{name}\""),
        )
        .await?;
        restore.push(format!(
            "ALTER TABLE \"{table}\" ADD CONSTRAINT \"{name}\" {definition}"
        ));
    }
    for (name, definition) in indexes {
        run_pg(conn, format!("DROP INDEX \"{name}\"")).await?;
        restore.push(definition);
    }
    Ok(restore)
}

impl Db {
    /// Starts writing generated chunks, in bulk mode when the registries are empty (see the
    /// module documentation).
    pub async fn registry_loader(&self) -> Result<RegistryLoader> {
        match self {
            Db::Sqlite(pool, _) => {
                let mut conn = pool.acquire().await?.detach();
                let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
                    .fetch_one(&mut conn)
                    .await?;
                run_sqlite(&mut conn, format!("PRAGMA cache_size = -{LOAD_CACHE_KIB}")).await?;
                let empty = sqlx::query(sqlx::AssertSqlSafe(any_registry_row()))
                    .fetch_optional(&mut conn)
                    .await?
                    .is_none();
                let bulk = if empty {
                    Some(begin_sqlite_bulk(&mut conn).await?)
                } else {
                    None
                };
                Ok(RegistryLoader {
                    conn: Conn::Sqlite(conn),
                    bulk,
                    synchronous,
                })
            }
            Db::Postgres(pool) => {
                let mut conn = pool.acquire().await?.detach();
                let empty = sqlx::query(sqlx::AssertSqlSafe(any_registry_row()))
                    .fetch_optional(&mut conn)
                    .await?
                    .is_none();
                let bulk = if empty {
                    Some(begin_pg_bulk(&mut conn).await?)
                } else {
                    None
                };
                Ok(RegistryLoader {
                    conn: Conn::Postgres(conn),
                    bulk,
                    synchronous: 0,
                })
            }
        }
    }
}

impl RegistryLoader {
    /// Whether this is a bulk load (the registries were empty).
    pub fn is_bulk(&self) -> bool {
        self.bulk.is_some()
    }

    /// How to encode chunks for this loader.
    pub fn encoding(&self) -> ChunkEncoding {
        match (&self.conn, self.is_bulk()) {
            (Conn::Postgres(_), true) => ChunkEncoding::PgCopy,
            _ => ChunkEncoding::Rows,
        }
    }

    /// Writes a chunk prepared with [`RegistryLoader::encoding`]: within the load's transaction
    /// in bulk mode, else in a transaction of its own.
    pub async fn write(&mut self, chunk: PreparedChunk) -> Result<()> {
        let bulk = self.is_bulk();
        match &mut self.conn {
            Conn::Sqlite(conn) => {
                if !bulk {
                    run_sqlite(conn, "BEGIN IMMEDIATE".into()).await?;
                }
                for (table, encoded) in chunk.tables {
                    let Encoded::Rows(cols) = encoded else {
                        return Err(wrong_encoding());
                    };
                    if bulk {
                        let table = Table {
                            conflict: Conflict::FailKeepingEarlierRows,
                            ..*table
                        };
                        insert_sqlite(conn, &table, cols).await?;
                    } else {
                        insert_sqlite(conn, table, cols).await?;
                    }
                }
                if !bulk {
                    run_sqlite(conn, "COMMIT".into()).await?;
                }
            }
            Conn::Postgres(conn) => {
                if !bulk {
                    run_pg(conn, "BEGIN".into()).await?;
                }
                for (table, encoded) in chunk.tables {
                    match encoded {
                        Encoded::Rows(cols) => insert_pg(conn, table, cols).await?,
                        Encoded::Copy(data) => copy_pg(conn, table, data).await?,
                    }
                }
                if !bulk {
                    run_pg(conn, "COMMIT".into()).await?;
                }
            }
        }
        Ok(())
    }

    /// Ends the load: in bulk mode makes again what was dropped and commits (on SQLite then
    /// restores `synchronous` and checkpoints). Closes the connection.
    pub async fn finish(self) -> Result<()> {
        match self.conn {
            Conn::Sqlite(mut conn) => {
                if let Some(restore) = self.bulk {
                    for sql in restore {
                        run_sqlite(&mut conn, sql).await?;
                    }
                    run_sqlite(&mut conn, "COMMIT".into()).await?;
                    run_sqlite(
                        &mut conn,
                        format!("PRAGMA synchronous = {}", self.synchronous),
                    )
                    .await?;
                    run_sqlite(&mut conn, "PRAGMA wal_checkpoint(TRUNCATE)".into()).await?;
                }
                conn.close().await?;
            }
            Conn::Postgres(mut conn) => {
                if let Some(restore) = self.bulk {
                    for sql in restore {
                        run_pg(&mut conn, sql).await?;
                    }
                    // Without statistics the planner guesses thousands of rows per key and
                    // runs one-row lookups as parallel plans until autovacuum comes round
                    // (material resolution on 10 M persons: 55 ms instead of 4 ms).
                    let analyze = format!("ANALYZE {}", REGISTRY_TABLES.join(", "));
                    run_pg(&mut conn, analyze).await?;
                    run_pg(&mut conn, "COMMIT".into()).await?;
                }
                conn.close().await?;
            }
        }
        Ok(())
    }
}
