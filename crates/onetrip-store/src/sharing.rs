//! Data sharing: the data catalog, access requests, grants, records pushed by provider systems
//! and the access log, with indexes for queries by provider, consumer and subject.

use jiff::Timestamp;
use jiff::civil::Date;
use onetrip_domain::sharing::{
    AccessLogEntry, AccessOutcome, AccessRequest, Consumer, DataResource, Grant, RequestStatus,
};
use serde_json::{Map, Value};
use sqlx::Row;

use crate::accounts::classify;
use crate::{
    BeginWrite, Db, IdempotencyRecord, Result, StoreError, from_micros, on_pool, to_micros,
};

/// A JSON object of field → value.
pub type Record = Map<String, Value>;

/// Filters of the resource list; empty strings match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceFilter {
    /// Text searched in the code, names and provider (case-insensitive substring).
    pub q: String,
    /// Provider credit code.
    pub provider: String,
    /// Sharing type (`unconditional`, `conditional`, `not_shared`).
    pub sharing: String,
}

/// Filters of the request list; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFilter {
    /// Provider credit code.
    pub provider: Option<String>,
    /// Consumer.
    pub consumer: Option<Consumer>,
    /// Status.
    pub status: Option<RequestStatus>,
}

/// Filters of the access log; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessLogFilter {
    /// Provider credit code.
    pub provider: Option<String>,
    /// Consumer.
    pub consumer: Option<Consumer>,
    /// Subject (resident ID or credit code).
    pub subject: Option<String>,
    /// At most this many rows (newest first).
    pub limit: i64,
}

/// A data resource as stored, with the grants one consumer holds on it
/// ([`Db::resources_with_grants`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceGrants {
    /// Resource code.
    pub code: String,
    /// The resource document as stored (JSON): equal documents decode to equal resources,
    /// so a caller may keep decoded resources and compare documents instead of decoding.
    pub doc: String,
    /// The consumer's grants on the resource, newest first (revoked and expired ones
    /// included).
    pub grants: Vec<Grant>,
}

impl ResourceGrants {
    /// Decodes the document.
    pub fn resource(&self) -> Result<DataResource> {
        parse_json(&self.doc)
    }
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(corrupt)
}

fn parse_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(corrupt)
}

fn date(s: &str) -> Result<Date> {
    s.parse()
        .map_err(|e| corrupt(format!("bad date {s:?}: {e}")))
}

fn consumer(kind: &str, id: &str) -> Result<Consumer> {
    Consumer::from_parts(kind, id).ok_or_else(|| corrupt(format!("bad consumer {kind}:{id}")))
}

fn sharing_str(r: &DataResource) -> Result<String> {
    match serde_json::to_value(r.sharing).map_err(corrupt)? {
        Value::String(s) => Ok(s),
        other => Err(corrupt(format!("sharing type {other}"))),
    }
}

/// `(kind, id)` of an optional consumer filter, empty strings for none.
fn consumer_parts(c: Option<&Consumer>) -> (String, String) {
    c.map_or((String::new(), String::new()), |c| {
        (c.kind().to_owned(), c.id().to_owned())
    })
}

macro_rules! select_requests {
    ($rest:literal) => {
        concat!(
            "SELECT id, consumer_kind, consumer_id, resource, provider, fields, purpose, ",
            "valid_until, status, due_on, requested_by, requested_at, decided_by, decided_at, ",
            "decision_note FROM data_access_requests ",
            $rest
        )
    };
}

fn request<R: Row>(row: &R) -> Result<AccessRequest>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let kind: String = row.try_get(1)?;
    let id: String = row.try_get(2)?;
    let fields: String = row.try_get(5)?;
    let valid_until: String = row.try_get(7)?;
    let status: String = row.try_get(8)?;
    let due_on: Option<String> = row.try_get(9)?;
    let decided_at: Option<i64> = row.try_get(13)?;
    Ok(AccessRequest {
        id: row.try_get(0)?,
        consumer: consumer(&kind, &id)?,
        resource: row.try_get(3)?,
        provider: row.try_get(4)?,
        fields: parse_json(&fields)?,
        purpose: row.try_get(6)?,
        valid_until: date(&valid_until)?,
        status: RequestStatus::parse(&status).ok_or_else(|| corrupt(&status))?,
        due_on: due_on.as_deref().map(date).transpose()?,
        requested_by: row.try_get(10)?,
        requested_at: from_micros(row.try_get(11)?)?,
        decided_by: row.try_get(12)?,
        decided_at: decided_at.map(from_micros).transpose()?,
        decision_note: row.try_get(14)?,
    })
}

macro_rules! select_grants {
    ($rest:literal) => {
        concat!(
            "SELECT id, consumer_kind, consumer_id, resource, fields, purpose, valid_until, ",
            "request_id, granted_at, revoked_at FROM data_grants ",
            $rest
        )
    };
}

fn grant<R: Row>(row: &R) -> Result<Grant>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let kind: String = row.try_get(1)?;
    let id: String = row.try_get(2)?;
    let fields: String = row.try_get(4)?;
    let valid_until: String = row.try_get(6)?;
    let revoked_at: Option<i64> = row.try_get(9)?;
    Ok(Grant {
        id: row.try_get(0)?,
        consumer: consumer(&kind, &id)?,
        resource: row.try_get(3)?,
        fields: parse_json(&fields)?,
        purpose: row.try_get(5)?,
        valid_until: date(&valid_until)?,
        request_id: row.try_get(7)?,
        granted_at: from_micros(row.try_get(8)?)?,
        revoked_at: revoked_at.map(from_micros).transpose()?,
    })
}

fn log_entry<R: Row>(row: &R) -> Result<AccessLogEntry>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let kind: String = row.try_get(2)?;
    let id: String = row.try_get(3)?;
    let fields: String = row.try_get(7)?;
    let masked: String = row.try_get(8)?;
    let outcome: String = row.try_get(11)?;
    Ok(AccessLogEntry {
        id: row.try_get(0)?,
        at: from_micros(row.try_get(1)?)?,
        consumer: consumer(&kind, &id)?,
        resource: row.try_get(4)?,
        provider: row.try_get(5)?,
        subject: row.try_get(6)?,
        fields: parse_json(&fields)?,
        masked_fields: parse_json(&masked)?,
        purpose: row.try_get(9)?,
        case_ref: row.try_get(10)?,
        outcome: AccessOutcome::parse(&outcome).ok_or_else(|| corrupt(&outcome))?,
        refusal: row.try_get(12)?,
    })
}

const UPSERT_RESOURCE: &str = "INSERT INTO data_resources (code, name, name_en, provider, \
     provider_name, sharing, doc, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, \
     provider = excluded.provider, provider_name = excluded.provider_name, \
     sharing = excluded.sharing, doc = excluded.doc, updated_at = excluded.updated_at";

/// Binds the columns of [`INSERT_GRANT`].
macro_rules! bind_grant {
    ($q:expr, $g:expr, $fields:expr) => {
        $q.bind(&$g.id)
            .bind($g.consumer.kind())
            .bind($g.consumer.id())
            .bind(&$g.resource)
            .bind($fields)
            .bind(&$g.purpose)
            .bind($g.valid_until.to_string())
            .bind(&$g.request_id)
            .bind(to_micros($g.granted_at))
            .bind($g.revoked_at.map(to_micros))
    };
}

const INSERT_GRANT: &str = "INSERT INTO data_grants (id, consumer_kind, consumer_id, resource, \
     fields, purpose, valid_until, request_id, granted_at, revoked_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// Access-log entries with their field lists encoded, ready for [`insert_access_log_rows!`].
pub(crate) fn access_log_rows(
    entries: &[AccessLogEntry],
) -> Result<Vec<(&AccessLogEntry, String, String)>> {
    entries
        .iter()
        .map(|e| Ok((e, json(&e.fields)?, json(&e.masked_fields)?)))
        .collect()
}

/// Access-log rows per INSERT statement (13 parameters each, well under both databases'
/// parameter limits).
pub(crate) const ACCESS_LOG_ROWS_PER_INSERT: usize = 256;

/// `data_access_log` and its columns, in the order [`push_access_log!`] binds them.
pub(crate) const ACCESS_LOG: &str = "data_access_log (id, at, consumer_kind, consumer_id, \
     resource, provider, subject, fields, masked_fields, purpose, case_ref, outcome, refusal)";

/// Pushes `VALUES (…), (…)` of prepared access-log rows (an iterator of
/// `&(&AccessLogEntry, String, String)`, see [`access_log_rows`]) onto a query builder.
macro_rules! push_access_log {
    ($qb:expr, $rows:expr) => {{
        $qb.push_values($rows, |mut b, (e, fields, masked)| {
            b.push_bind(&e.id)
                .push_bind($crate::to_micros(e.at))
                .push_bind(e.consumer.kind())
                .push_bind(e.consumer.id())
                .push_bind(&e.resource)
                .push_bind(&e.provider)
                .push_bind(&e.subject)
                .push_bind(fields)
                .push_bind(masked)
                .push_bind(&e.purpose)
                .push_bind(&e.case_ref)
                .push_bind(e.outcome.as_str())
                .push_bind(&e.refusal);
        });
    }};
}
pub(crate) use push_access_log;

/// Inserts prepared access-log rows ([`access_log_rows`]) inside the transaction `$tx`: one
/// multi-row INSERT per [`ACCESS_LOG_ROWS_PER_INSERT`] rows (a resolution's rows in one
/// statement).
macro_rules! insert_access_log_rows {
    ($tx:expr, $rows:expr) => {{
        for chunk in $rows.chunks($crate::sharing::ACCESS_LOG_ROWS_PER_INSERT) {
            let mut q = sqlx::QueryBuilder::new("INSERT INTO ");
            q.push($crate::sharing::ACCESS_LOG).push(" ");
            $crate::sharing::push_access_log!(q, chunk);
            q.build().execute(&mut *$tx).await?;
        }
    }};
}
pub(crate) use insert_access_log_rows;

impl Db {
    /// Inserts or replaces data resources, all in one transaction.
    pub async fn put_data_resources(
        &self,
        resources: &[DataResource],
        at: Timestamp,
    ) -> Result<()> {
        let mut rows = Vec::with_capacity(resources.len());
        for r in resources {
            rows.push((r, sharing_str(r)?, json(r)?));
        }
        on_pool!(self, pool => {
            let mut tx = pool.begin_write(self.write_gate()).await?;
            for (r, sharing, doc) in &rows {
                sqlx::query(UPSERT_RESOURCE)
                    .bind(&r.code)
                    .bind(&r.name)
                    .bind(&r.name_en)
                    .bind(&r.provider)
                    .bind(&r.provider_name)
                    .bind(sharing)
                    .bind(doc)
                    .bind(to_micros(at))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// One data resource.
    pub async fn data_resource(&self, code: &str) -> Result<Option<DataResource>> {
        on_pool!(self, pool => {
            let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM data_resources WHERE code = $1")
                .bind(code).fetch_optional(pool).await?;
            doc.as_deref().map(parse_json).transpose()
        })
    }

    /// Data resources matching `filter`, by code.
    pub async fn data_resources(&self, filter: &ResourceFilter) -> Result<Vec<DataResource>> {
        const SQL: &str = "SELECT doc FROM data_resources WHERE \
             ($1 = '' OR LOWER(code) LIKE $1 ESCAPE '\\' OR LOWER(name) LIKE $1 ESCAPE '\\' \
              OR LOWER(name_en) LIKE $1 ESCAPE '\\' OR LOWER(provider) LIKE $1 ESCAPE '\\' \
              OR LOWER(provider_name) LIKE $1 ESCAPE '\\') \
             AND ($2 = '' OR provider = $2) AND ($3 = '' OR sharing = $3) ORDER BY code";
        let q = filter.q.trim().to_lowercase();
        let pattern = if q.is_empty() {
            String::new()
        } else {
            let mut escaped = String::with_capacity(q.len());
            for c in q.chars() {
                if matches!(c, '%' | '_' | '\\') {
                    escaped.push('\\');
                }
                escaped.push(c);
            }
            format!("%{escaped}%")
        };
        on_pool!(self, pool => {
            let docs: Vec<String> = sqlx::query_scalar(SQL)
                .bind(&pattern)
                .bind(&filter.provider)
                .bind(&filter.sharing)
                .fetch_all(pool)
                .await?;
            docs.iter().map(|d| parse_json(d)).collect()
        })
    }

    /// Number of data resources.
    pub async fn data_resource_count(&self) -> Result<i64> {
        on_pool!(self, pool => {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM data_resources").fetch_one(pool).await?)
        })
    }

    /// Stores a new access request and, when it is granted at once, its grant, in one
    /// transaction. An unknown resource is [`StoreError::UnknownReference`].
    pub async fn insert_access_request(
        &self,
        r: &AccessRequest,
        grant: Option<&Grant>,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<()> {
        let fields = json(&r.fields)?;
        let grant_fields = grant.map(|g| json(&g.fields)).transpose()?;
        on_pool!(self, pool => {
            let mut tx = pool.begin_write(self.write_gate()).await?;
            sqlx::query(
                "INSERT INTO data_access_requests (id, consumer_kind, consumer_id, resource, \
                 provider, fields, purpose, valid_until, status, due_on, requested_by, \
                 requested_at, decided_by, decided_at, decision_note) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            )
            .bind(&r.id)
            .bind(r.consumer.kind())
            .bind(r.consumer.id())
            .bind(&r.resource)
            .bind(&r.provider)
            .bind(&fields)
            .bind(&r.purpose)
            .bind(r.valid_until.to_string())
            .bind(r.status.as_str())
            .bind(r.due_on.map(|d| d.to_string()))
            .bind(&r.requested_by)
            .bind(to_micros(r.requested_at))
            .bind(&r.decided_by)
            .bind(r.decided_at.map(to_micros))
            .bind(&r.decision_note)
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(e, &["id"], "data resource"))?;
            if let (Some(g), Some(gf)) = (grant, &grant_fields) {
                bind_grant!(sqlx::query(INSERT_GRANT), g, gf).execute(&mut *tx).await?;
            }
            crate::cases::insert_idempotency!(tx, idempotency, r.requested_at);
            tx.commit().await?;
        });
        Ok(())
    }

    /// One access request.
    pub async fn access_request(&self, id: &str) -> Result<Option<AccessRequest>> {
        on_pool!(self, pool => {
            let row = sqlx::query(select_requests!("WHERE id = $1")).bind(id).fetch_optional(pool).await?;
            row.as_ref().map(request).transpose()
        })
    }

    /// Access requests matching `filter`, newest first.
    pub async fn access_requests(&self, filter: &RequestFilter) -> Result<Vec<AccessRequest>> {
        let (kind, id) = consumer_parts(filter.consumer.as_ref());
        let provider = filter.provider.clone().unwrap_or_default();
        let status = filter.status.map_or("", RequestStatus::as_str);
        on_pool!(self, pool => {
            let rows = sqlx::query(select_requests!(
                "WHERE ($1 = '' OR provider = $1) AND ($2 = '' OR (consumer_kind = $2 AND consumer_id = $3)) \
                 AND ($4 = '' OR status = $4) ORDER BY requested_at DESC, id DESC"
            ))
            .bind(&provider)
            .bind(&kind)
            .bind(&id)
            .bind(status)
            .fetch_all(pool)
            .await?;
            rows.iter().map(request).collect()
        })
    }

    /// Records the provider's decision on a pending request and, on approval, its grant, in one
    /// transaction; `false` (and nothing written) when the request is not pending any more.
    pub async fn decide_access_request(
        &self,
        id: &str,
        status: RequestStatus,
        decided_by: &str,
        note: Option<&str>,
        at: Timestamp,
        grant: Option<&Grant>,
    ) -> Result<bool> {
        let grant_fields = grant.map(|g| json(&g.fields)).transpose()?;
        on_pool!(self, pool => {
            let mut tx = pool.begin_write(self.write_gate()).await?;
            let done = sqlx::query(
                "UPDATE data_access_requests SET status = $1, decided_by = $2, decided_at = $3, \
                 decision_note = $4 WHERE id = $5 AND status = 'pending'",
            )
            .bind(status.as_str())
            .bind(decided_by)
            .bind(to_micros(at))
            .bind(note)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Ok(false);
            }
            if let (Some(g), Some(gf)) = (grant, &grant_fields) {
                bind_grant!(sqlx::query(INSERT_GRANT), g, gf).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Stores a grant made without a request (demo grants, migrations).
    pub async fn insert_grant(&self, g: &Grant) -> Result<()> {
        let fields = json(&g.fields)?;
        on_pool!(self, pool => {
            bind_grant!(sqlx::query(INSERT_GRANT), g, &fields)
                .execute(pool)
                .await
                .map_err(|e| classify(e, &["id"], "data resource"))?;
        });
        Ok(())
    }

    /// One grant.
    pub async fn grant(&self, id: &str) -> Result<Option<Grant>> {
        on_pool!(self, pool => {
            let row = sqlx::query(select_grants!("WHERE id = $1")).bind(id).fetch_optional(pool).await?;
            row.as_ref().map(grant).transpose()
        })
    }

    /// Grants, optionally of one consumer and one resource, newest first (revoked and expired
    /// ones included).
    pub async fn grants(
        &self,
        consumer: Option<&Consumer>,
        resource: Option<&str>,
    ) -> Result<Vec<Grant>> {
        let (kind, id) = consumer_parts(consumer);
        let resource = resource.unwrap_or_default();
        on_pool!(self, pool => {
            let rows = sqlx::query(select_grants!(
                "WHERE ($1 = '' OR (consumer_kind = $1 AND consumer_id = $2)) AND ($3 = '' OR resource = $3) \
                 ORDER BY granted_at DESC, id DESC"
            ))
            .bind(&kind)
            .bind(&id)
            .bind(resource)
            .fetch_all(pool)
            .await?;
            rows.iter().map(grant).collect()
        })
    }

    /// The resources among `codes` that exist, in `codes` order, each with the grants
    /// `consumer` holds on it: one query, so that a use case reading several resources checks
    /// every grant as it is in the database now (a revocation by any replica counts at once).
    pub async fn resources_with_grants(
        &self,
        consumer: &Consumer,
        codes: &[&str],
    ) -> Result<Vec<ResourceGrants>> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        on_pool!(self, pool => {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT g.id, g.consumer_kind, g.consumer_id, g.resource, g.fields, g.purpose, \
                 g.valid_until, g.request_id, g.granted_at, g.revoked_at, r.code, r.doc \
                 FROM data_resources r LEFT JOIN data_grants g ON g.resource = r.code \
                 AND g.consumer_kind = ",
            );
            q.push_bind(consumer.kind());
            q.push(" AND g.consumer_id = ").push_bind(consumer.id());
            q.push(" WHERE r.code IN (");
            let mut list = q.separated(", ");
            for code in codes {
                list.push_bind(*code);
            }
            q.push(") ORDER BY r.code, g.granted_at DESC, g.id DESC");
            let rows = q.build().fetch_all(pool).await?;
            let mut found: Vec<ResourceGrants> = Vec::with_capacity(codes.len());
            for row in &rows {
                let code: String = row.try_get(10)?;
                if found.last().is_none_or(|r| r.code != code) {
                    found.push(ResourceGrants {
                        code,
                        doc: row.try_get(11)?,
                        grants: Vec::new(),
                    });
                }
                let grant_id: Option<String> = row.try_get(0)?;
                if grant_id.is_some()
                    && let Some(last) = found.last_mut()
                {
                    last.grants.push(grant(row)?);
                }
            }
            found.sort_by_key(|r| codes.iter().position(|c| *c == r.code));
            Ok(found)
        })
    }

    /// Revokes a grant unless it is revoked already; `false` when it was (or does not exist).
    pub async fn revoke_grant(&self, id: &str, at: Timestamp) -> Result<bool> {
        on_pool!(self, pool => {
            let done = sqlx::query("UPDATE data_grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(to_micros(at)).bind(id).execute(pool).await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Sets the last valid day of a grant (administrative correction; tests use it to expire
    /// one); `false` when it does not exist.
    pub async fn set_grant_valid_until(&self, id: &str, valid_until: Date) -> Result<bool> {
        on_pool!(self, pool => {
            let done = sqlx::query("UPDATE data_grants SET valid_until = $1 WHERE id = $2")
                .bind(valid_until.to_string()).bind(id).execute(pool).await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Inserts or replaces the record of `subject` in `resource`, pushed by the provider.
    pub async fn put_data_record(
        &self,
        resource: &str,
        subject: &str,
        fields: &Record,
        at: Timestamp,
    ) -> Result<()> {
        let doc = json(fields)?;
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO data_records (resource, subject, fields, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (resource, subject) DO UPDATE SET fields = excluded.fields, \
                 updated_at = excluded.updated_at",
            )
            .bind(resource)
            .bind(subject)
            .bind(&doc)
            .bind(to_micros(at))
            .execute(pool)
            .await
            .map_err(|e| classify(e, &["resource"], "data resource"))?;
        });
        Ok(())
    }

    /// The record of `subject` in `resource` with the time it was last pushed.
    pub async fn data_record(
        &self,
        resource: &str,
        subject: &str,
    ) -> Result<Option<(Record, Timestamp)>> {
        on_pool!(self, pool => {
            let row = sqlx::query("SELECT fields, updated_at FROM data_records WHERE resource = $1 AND subject = $2")
                .bind(resource).bind(subject).fetch_optional(pool).await?;
            match row {
                Some(row) => {
                    let fields: String = row.try_get(0)?;
                    let at: i64 = row.try_get(1)?;
                    Ok(Some((parse_json(&fields)?, from_micros(at)?)))
                }
                None => Ok(None),
            }
        })
    }

    /// The records of `subject` in each of `resources` that has one, with when each was
    /// pushed: one query.
    pub async fn data_records_of(
        &self,
        subject: &str,
        resources: &[&str],
    ) -> Result<Vec<(String, Record, Timestamp)>> {
        if resources.is_empty() {
            return Ok(Vec::new());
        }
        on_pool!(self, pool => {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT resource, fields, updated_at FROM data_records WHERE subject = ",
            );
            q.push_bind(subject).push(" AND resource IN (");
            let mut list = q.separated(", ");
            for r in resources {
                list.push_bind(*r);
            }
            q.push(")");
            let rows = q.build().fetch_all(pool).await?;
            rows.iter()
                .map(|row| {
                    let fields: String = row.try_get(1)?;
                    Ok((row.try_get(0)?, parse_json(&fields)?, from_micros(row.try_get(2)?)?))
                })
                .collect()
        })
    }

    /// Appends rows to the access log, all in one write transaction (a resolution's reads are
    /// logged together: either every row lands or none does). On SQLite the transaction is the
    /// [`crate::Writer`]'s next group commit.
    pub async fn insert_access_log(&self, entries: &[AccessLogEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        match self {
            Db::Sqlite(_, writer) => {
                let entries = entries.to_vec();
                writer
                    .run(move |conn| {
                        Box::pin(async move {
                            let rows = access_log_rows(&entries)?;
                            insert_access_log_rows!(conn, &rows);
                            Ok(())
                        })
                    })
                    .await
            }
            Db::Postgres(pool) => {
                let rows = access_log_rows(entries)?;
                let mut tx = pool.begin_write(None).await?;
                insert_access_log_rows!(tx, &rows);
                tx.commit().await?;
                Ok(())
            }
        }
    }

    /// Access-log rows matching `filter`, newest first.
    pub async fn access_log(&self, filter: &AccessLogFilter) -> Result<Vec<AccessLogEntry>> {
        const SQL: &str = "SELECT id, at, consumer_kind, consumer_id, resource, provider, subject, \
             fields, masked_fields, purpose, case_ref, outcome, refusal FROM data_access_log \
             WHERE ($1 = '' OR provider = $1) AND ($2 = '' OR (consumer_kind = $2 AND consumer_id = $3)) \
             AND ($4 = '' OR subject = $4) ORDER BY at DESC, id DESC LIMIT $5";
        let (kind, id) = consumer_parts(filter.consumer.as_ref());
        let provider = filter.provider.clone().unwrap_or_default();
        let subject = filter.subject.clone().unwrap_or_default();
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL)
                .bind(&provider)
                .bind(&kind)
                .bind(&id)
                .bind(&subject)
                .bind(filter.limit.max(0))
                .fetch_all(pool)
                .await?;
            rows.iter().map(log_entry).collect()
        })
    }
}
