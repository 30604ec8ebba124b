//! Bulk loading of generated applications, cases and case events (`onetrip generate --cases`):
//! plain multi-row inserts (see [`crate::bulk`]), all rows of one call in one write
//! transaction. A case number or application id that exists already fails the whole call.

use crate::bulk::{Columns, Conflict, Table, insert_pg, insert_sqlite};
use crate::cases::{ApplicationRow, CaseRow, EventRow};
use crate::{BeginWrite, Db, Result, on_pool, to_micros};

const APPLICATIONS: Table = Table {
    name: "applications",
    columns: &[
        "id",
        "account_id",
        "subject_kind",
        "subject_id",
        "subject_name",
        "bundle_code",
        "bundle_version",
        "item_code",
        "division_code",
        "channel",
        "state",
        "document",
        "intake_by",
        "created_at",
        "updated_at",
        "submitted_at",
    ],
    bigint: &["bundle_version", "created_at", "updated_at", "submitted_at"],
    conflict: Conflict::Fail,
};

const CASES: Table = Table {
    name: "cases",
    columns: &[
        "number",
        "application_id",
        "member",
        "item_code",
        "item_version",
        "situation",
        "department_code",
        "division_code",
        "state",
        "closed",
        "due_on",
        "warning",
        "status",
        "event_count",
        "last_hash",
        "concluded_on",
        "on_time",
        "handling_days",
        "created_at",
        "updated_at",
    ],
    bigint: &[
        "item_version",
        "closed",
        "event_count",
        "on_time",
        "handling_days",
        "created_at",
        "updated_at",
    ],
    conflict: Conflict::Fail,
};

const EVENTS: Table = Table {
    name: "case_events",
    columns: &[
        "case_number",
        "seq",
        "at",
        "actor",
        "event",
        "prev_hash",
        "hash",
    ],
    bigint: &["seq", "at"],
    conflict: Conflict::Fail,
};

/// Applications, their cases and the cases' events, written together.
#[derive(Debug, Clone, Default)]
pub struct CaseBatch {
    /// Applications.
    pub applications: Vec<ApplicationRow>,
    /// Cases (their applications in this batch or stored already).
    pub cases: Vec<CaseRow>,
    /// Events (their cases in this batch or stored already).
    pub events: Vec<EventRow>,
}

fn num(v: i64) -> Option<String> {
    Some(v.to_string())
}

fn applications_columns(rows: Vec<ApplicationRow>) -> Columns {
    let mut c = Columns::new(&APPLICATIONS, rows.len());
    for a in rows {
        c.push([
            Some(a.id),
            a.account_id,
            Some(a.subject_kind),
            Some(a.subject_id),
            Some(a.subject_name),
            a.bundle_code,
            a.bundle_version.map(|v| v.to_string()),
            a.item_code,
            Some(a.division_code),
            Some(a.channel),
            Some(a.state),
            Some(a.document.to_string()),
            a.intake_by,
            num(to_micros(a.created_at)),
            num(to_micros(a.updated_at)),
            a.submitted_at.map(|t| to_micros(t).to_string()),
        ]);
    }
    c
}

fn cases_columns(rows: Vec<CaseRow>) -> Columns {
    let mut c = Columns::new(&CASES, rows.len());
    for r in rows {
        c.push([
            Some(r.number),
            Some(r.application_id),
            Some(r.member),
            Some(r.item_code),
            num(r.item_version),
            Some(r.situation),
            Some(r.department_code),
            Some(r.division_code),
            Some(r.state),
            num(i64::from(r.closed)),
            Some(r.due_on.to_string()),
            Some(r.warning),
            Some(r.status.to_string()),
            num(r.event_count),
            Some(r.last_hash),
            r.concluded_on.map(|d| d.to_string()),
            r.on_time.map(|v| i64::from(v).to_string()),
            r.handling_days.map(|v| v.to_string()),
            num(to_micros(r.created_at)),
            num(to_micros(r.updated_at)),
        ]);
    }
    c
}

fn events_columns(rows: Vec<EventRow>) -> Columns {
    let mut c = Columns::new(&EVENTS, rows.len());
    for e in rows {
        c.push([
            Some(e.case_number),
            num(e.seq),
            num(to_micros(e.at)),
            Some(e.actor),
            Some(e.event),
            Some(e.prev_hash),
            Some(e.hash),
        ]);
    }
    c
}

impl Db {
    /// Inserts generated applications, cases and events in one write transaction (all or
    /// nothing). Nothing is replaced: an existing key fails the call.
    pub async fn insert_case_batch(&self, batch: CaseBatch) -> Result<()> {
        let tables = [
            (&APPLICATIONS, applications_columns(batch.applications)),
            (&CASES, cases_columns(batch.cases)),
            (&EVENTS, events_columns(batch.events)),
        ];
        match self {
            Db::Sqlite(pool, _) => {
                let mut tx = pool.begin_write(self.write_gate()).await?;
                for (table, cols) in tables {
                    if cols.len() > 0 {
                        insert_sqlite(&mut tx, table, cols).await?;
                    }
                }
                tx.commit().await?;
            }
            Db::Postgres(pool) => {
                let mut tx = pool.begin_write(self.write_gate()).await?;
                for (table, cols) in tables {
                    if cols.len() > 0 {
                        insert_pg(&mut tx, table, cols).await?;
                    }
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// Number of cases.
    pub async fn case_count(&self) -> Result<i64> {
        on_pool!(self, pool => {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM cases").fetch_one(pool).await?)
        })
    }
}
