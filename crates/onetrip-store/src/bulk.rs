//! Bulk writes shared by the registry and the case generator: rows in column-major order,
//! written on SQLite as multi-row `INSERT … VALUES (…), (…)` statements (prepared once and
//! reused: sqlx caches statements by text) and on PostgreSQL as one
//! `INSERT … SELECT * FROM UNNEST($1::text[], …)` per [`PG_ROWS_PER_STATEMENT`] rows, or, for
//! bulk loads into empty tables, `COPY … FROM STDIN` (see `registry_load`). Every
//! value travels as text (or NULL): SQLite's column affinity stores the digits of a `BIGINT`
//! column as an integer, and PostgreSQL casts the arrays of the `BIGINT` columns.

use sqlx::{PgConnection, SqliteConnection};

use crate::Result;

/// Most rows per multi-row `INSERT` on SQLite (fewer for tables of more than 32 columns: the
/// statement has rows × columns parameters, below SQLite's limit of 32,766).
pub const SQLITE_ROWS_PER_STATEMENT: usize = 1_000;
/// Rows per `UNNEST` insert on PostgreSQL.
pub const PG_ROWS_PER_STATEMENT: usize = 20_000;

/// What a row whose key already exists does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conflict {
    /// Replaces the stored row (`ON CONFLICT (key) DO UPDATE`).
    Replace,
    /// Fails the statement (plain `INSERT`).
    Fail,
    /// Fails the statement but keeps the rows it wrote before (`INSERT OR FAIL` on SQLite),
    /// which spares SQLite the statement journal of every multi-row statement. Only for writes
    /// whose whole transaction is rolled back on any error (bulk loads).
    FailKeepingEarlierRows,
}

/// A table written in bulk: its name, columns (the key first), which columns are `BIGINT`
/// (cast on PostgreSQL) and what a row whose key exists does.
#[derive(Clone, Copy)]
pub(crate) struct Table {
    pub(crate) name: &'static str,
    pub(crate) columns: &'static [&'static str],
    pub(crate) bigint: &'static [&'static str],
    pub(crate) conflict: Conflict,
}

impl Table {
    /// ` ON CONFLICT (key) DO UPDATE SET c = excluded.c, …`, or nothing.
    fn conflict_clause(&self) -> String {
        if self.conflict != Conflict::Replace {
            return String::new();
        }
        let sets: Vec<String> = self.columns[1..]
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        format!(
            " ON CONFLICT ({}) DO UPDATE SET {}",
            self.columns[0],
            sets.join(", ")
        )
    }

    fn sqlite_rows_per_statement(&self) -> usize {
        SQLITE_ROWS_PER_STATEMENT.min(32_766 / self.columns.len().max(1))
    }

    fn sqlite_insert(&self, rows: usize) -> String {
        let n = self.columns.len();
        let verb = if self.conflict == Conflict::FailKeepingEarlierRows {
            "INSERT OR FAIL"
        } else {
            "INSERT"
        };
        let mut sql = format!(
            "{verb} INTO {} ({}) VALUES ",
            self.name,
            self.columns.join(", ")
        );
        sql.reserve(rows * (n * 2 + 3));
        // Anonymous `?` parameters: sqlx binds named ones (`$N`) by asking SQLite for each
        // parameter's name, a linear search, which makes a statement of thousands of
        // parameters quadratic (measured: 4,000 persons/s with `$N`).
        for r in 0..rows {
            if r > 0 {
                sql.push(',');
            }
            sql.push('(');
            for c in 0..n {
                if c > 0 {
                    sql.push(',');
                }
                sql.push('?');
            }
            sql.push(')');
        }
        sql.push_str(&self.conflict_clause());
        sql
    }

    /// `COPY t (…) FROM STDIN` (text format, see [`Columns::pg_copy_text`]).
    fn pg_copy(&self) -> String {
        format!(
            "COPY {} ({}) FROM STDIN",
            self.name,
            self.columns.join(", ")
        )
    }

    fn pg_insert(&self) -> String {
        let params: Vec<String> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if self.bigint.contains(c) {
                    format!("${}::text[]::bigint[]", i + 1)
                } else {
                    format!("${}::text[]", i + 1)
                }
            })
            .collect();
        format!(
            "INSERT INTO {} ({}) SELECT * FROM UNNEST({}){}",
            self.name,
            self.columns.join(", "),
            params.join(", "),
            self.conflict_clause()
        )
    }
}

/// Rows of one table in column-major order: `columns[c][r]` is column `c` of row `r`.
pub(crate) struct Columns(pub(crate) Vec<Vec<Option<String>>>);

impl Columns {
    /// Room for `rows` rows of `table`.
    pub(crate) fn new(table: &Table, rows: usize) -> Self {
        Columns(
            (0..table.columns.len())
                .map(|_| Vec::with_capacity(rows))
                .collect(),
        )
    }

    /// Appends a row (its values in the order of the table's columns).
    pub(crate) fn push(&mut self, row: impl IntoIterator<Item = Option<String>>) {
        for (col, v) in self.0.iter_mut().zip(row) {
            col.push(v);
        }
    }

    /// Number of rows.
    pub(crate) fn len(&self) -> usize {
        self.0.first().map_or(0, Vec::len)
    }

    /// The rows in PostgreSQL's `COPY` text format: tab-separated, one line per row, `\N`
    /// for NULL, backslash escapes for backslash, tab, newline and carriage return.
    pub(crate) fn pg_copy_text(&self) -> Vec<u8> {
        let bytes: usize = self
            .0
            .iter()
            .flatten()
            .map(|v| v.as_ref().map_or(2, String::len) + 1)
            .sum();
        let mut out = Vec::with_capacity(bytes);
        for r in 0..self.len() {
            for (c, col) in self.0.iter().enumerate() {
                if c > 0 {
                    out.push(b'\t');
                }
                match &col[r] {
                    None => out.extend_from_slice(b"\\N"),
                    Some(s) => {
                        for &b in s.as_bytes() {
                            match b {
                                b'\\' => out.extend_from_slice(b"\\\\"),
                                b'\t' => out.extend_from_slice(b"\\t"),
                                b'\n' => out.extend_from_slice(b"\\n"),
                                b'\r' => out.extend_from_slice(b"\\r"),
                                _ => out.push(b),
                            }
                        }
                    }
                }
            }
            out.push(b'\n');
        }
        out
    }
}

/// Writes `cols` into `table` on SQLite, within the caller's transaction.
pub(crate) async fn insert_sqlite(
    conn: &mut SqliteConnection,
    table: &Table,
    cols: Columns,
) -> Result<()> {
    let n = cols.len();
    let mut cols: Vec<std::vec::IntoIter<Option<String>>> =
        cols.0.into_iter().map(Vec::into_iter).collect();
    let per_statement = table.sqlite_rows_per_statement();
    let full = table.sqlite_insert(per_statement);
    let mut done = 0;
    while done < n {
        let rows = (n - done).min(per_statement);
        let sql = if rows == per_statement {
            full.clone()
        } else {
            table.sqlite_insert(rows)
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for _ in 0..rows {
            for col in cols.iter_mut() {
                q = q.bind(col.next().flatten());
            }
        }
        q.execute(&mut *conn).await?;
        done += rows;
    }
    Ok(())
}

/// Copies rows encoded by [`Columns::pg_copy_text`] into `table` on PostgreSQL, within the
/// caller's transaction.
pub(crate) async fn copy_pg(conn: &mut PgConnection, table: &Table, data: Vec<u8>) -> Result<()> {
    let mut copy = conn.copy_in_raw(&table.pg_copy()).await?;
    copy.send(data).await?;
    copy.finish().await?;
    Ok(())
}

/// Writes `cols` into `table` on PostgreSQL, within the caller's transaction.
pub(crate) async fn insert_pg(conn: &mut PgConnection, table: &Table, cols: Columns) -> Result<()> {
    let n = cols.len();
    let sql = table.pg_insert();
    let mut cols: Vec<std::vec::IntoIter<Option<String>>> =
        cols.0.into_iter().map(Vec::into_iter).collect();
    let mut done = 0;
    while done < n {
        let rows = (n - done).min(PG_ROWS_PER_STATEMENT);
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
        for col in cols.iter_mut() {
            let part: Vec<Option<String>> = col.by_ref().take(rows).collect();
            q = q.bind(part);
        }
        q.execute(&mut *conn).await?;
        done += rows;
    }
    Ok(())
}
