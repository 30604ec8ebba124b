//! Bundles, applications and cases (一件事 + 办件): versioned bundle definitions, applications
//! (drafts included), cases with their append-only hash-chained event logs, case-number
//! counters, supervision orders, the outbox, idempotency keys, job leases and webhooks.
//!
//! The store keeps documents (bundle definitions, application documents, folded case statuses,
//! events) as JSON text and never interprets them beyond a few columns the queries need; the
//! rules live in `onetrip_domain`, the use cases in `onetrip-app`.
//!
//! Concurrency: a case changes only through [`Db::commit_case_changes`], which checks the event
//! count it was read at (optimistic concurrency) and fails with [`StoreError::Conflict`]
//! (`case`) when another writer got there first; the caller reads again and retries.

use std::fmt;

use jiff::Timestamp;
use jiff::civil::Date;
use onetrip_domain::bundle::Bundle;
use sqlx::Row;

use crate::sharing::push_access_log;
use crate::{BeginWrite, Db, Result, StoreError, from_micros, on_pool, to_micros};

fn corrupt(what: &str, e: impl fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn parse_date(s: &str) -> Result<Date> {
    s.parse().map_err(|e: jiff::Error| corrupt("date", e))
}

/// The smallest string above every string that starts with `prefix` (its last character
/// incremented, carrying over characters that cannot be), or `None` when there is none.
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(u32::from(last) + 1) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Adds `AND division_code` within a prefix to a query builder (a range rather than LIKE: an
/// index can check it on both backends; SQLite's LIKE is case-insensitive and PostgreSQL's
/// needs a C collation for that). A macro, as the builder's type differs per backend.
macro_rules! push_division_range {
    ($q:expr, $prefix:expr) => {
        if let Some(prefix) = $prefix.filter(|p: &&str| !p.is_empty()) {
            $q.push(" AND division_code >= ")
                .push_bind(prefix.to_string());
            if let Some(upper) = prefix_upper_bound(prefix) {
                $q.push(" AND division_code < ").push_bind(upper);
            }
        }
    };
}

fn json(text: &str, what: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| corrupt(what, e))
}

/// A bundle as stored in one version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredBundle {
    /// Version number (1, 2, …).
    pub version: i64,
    /// When that version was published.
    pub published_at: Timestamp,
    /// The definition.
    pub bundle: Bundle,
}

/// A bundle in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleSummary {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Life event (snake_case).
    pub category: String,
    /// Lead department credit code.
    pub lead_department: String,
    /// Division.
    pub division_code: String,
    /// Status (snake_case).
    pub status: String,
    /// Current version.
    pub current_version: i64,
}

/// An application (申请) as stored. `document` holds the answers, the form values, the
/// materials and whatever else the use case keeps; the columns are what queries need.
#[derive(Clone, PartialEq)]
pub struct ApplicationRow {
    /// Id (UUIDv7).
    pub id: String,
    /// The citizen account that owns it; `None` for a walk-in applicant without an account.
    pub account_id: Option<String>,
    /// `person` or `organisation`.
    pub subject_kind: String,
    /// Resident ID or credit code of the applicant. Personal data.
    pub subject_id: String,
    /// Name of the applicant. Personal data.
    pub subject_name: String,
    /// Bundle code, for a bundle application.
    pub bundle_code: Option<String>,
    /// Bundle version applied under.
    pub bundle_version: Option<i64>,
    /// Item code, for a single-item application.
    pub item_code: Option<String>,
    /// Division the application is made in.
    pub division_code: String,
    /// Channel (`web`, `mobile`, `kiosk`, `window`, `api`).
    pub channel: String,
    /// `draft`, `submitted`, or the status derived from its cases.
    pub state: String,
    /// The application document (JSON).
    pub document: serde_json::Value,
    /// The clerk who took it in at a window.
    pub intake_by: Option<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
    /// Submitted.
    pub submitted_at: Option<Timestamp>,
}

impl fmt::Debug for ApplicationRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApplicationRow")
            .field("id", &self.id)
            .field("subject_kind", &self.subject_kind)
            .field("subject_id", &crate::accounts::mask(&self.subject_id, 6, 4))
            .field("bundle_code", &self.bundle_code)
            .field("item_code", &self.item_code)
            .field("channel", &self.channel)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// A case (办件) as stored: its identity, the columns queues sort and filter by, and the folded
/// status after its last event.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRow {
    /// Case number.
    pub number: String,
    /// Application id.
    pub application_id: String,
    /// Bundle member key (the item code for a single-item application).
    pub member: String,
    /// Item implementation code.
    pub item_code: String,
    /// Item version the case is handled under.
    pub item_version: i64,
    /// Situation code.
    pub situation: String,
    /// Responsible department.
    pub department_code: String,
    /// Division of the responsible department.
    pub division_code: String,
    /// State (snake_case).
    pub state: String,
    /// Whether the case is closed (terminal state).
    pub closed: bool,
    /// The date the queue sorts by.
    pub due_on: Date,
    /// Warning level (`green`, `yellow`, `red`).
    pub warning: String,
    /// Folded status after the last event (JSON).
    pub status: serde_json::Value,
    /// Number of events.
    pub event_count: i64,
    /// Hash of the last event.
    pub last_hash: String,
    /// When it concluded.
    pub concluded_on: Option<Date>,
    /// Whether it concluded within its deadline.
    pub on_time: Option<bool>,
    /// Working days from acceptance to conclusion, pauses excluded.
    pub handling_days: Option<i64>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// One event of a case's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// Case number.
    pub case_number: String,
    /// Sequence number, from 1.
    pub seq: i64,
    /// When.
    pub at: Timestamp,
    /// Who (`account:<id>`, `system`, `client:<id>`…).
    pub actor: String,
    /// The event (JSON text as hashed).
    pub event: String,
    /// Hash of the previous event (64 zeros for the first).
    pub prev_hash: String,
    /// This event's hash.
    pub hash: String,
}

/// A change to one case: its new columns and the events that produced them.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseChange {
    /// The case after the change (`event_count` and `last_hash` included).
    pub case: CaseRow,
    /// The event count the change was computed from (optimistic concurrency).
    pub expected_event_count: i64,
    /// The new events, in order.
    pub events: Vec<EventRow>,
}

/// A row of the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    /// Id (UUIDv7).
    pub id: String,
    /// Topic, e.g. `case.created`.
    pub topic: String,
    /// What it is about (a case number, an order id).
    pub subject: String,
    /// The department to notify, if any.
    pub department_code: Option<String>,
    /// Payload (JSON).
    pub payload: serde_json::Value,
    /// Created.
    pub created_at: Timestamp,
    /// Delivery attempts so far.
    pub attempts: i64,
}

/// A supervision order (督办) as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupervisionRow {
    /// Id.
    pub id: String,
    /// Case number.
    pub case_number: String,
    /// Department that must answer.
    pub department_code: String,
    /// Division of the case.
    pub division_code: String,
    /// Supervisor account.
    pub issued_by: String,
    /// Why.
    pub reason: String,
    /// Answer due.
    pub respond_by: Date,
    /// When issued.
    pub issued_at: Timestamp,
    /// The answer.
    pub answer: Option<String>,
    /// Who answered.
    pub answered_by: Option<String>,
    /// When answered.
    pub answered_at: Option<Timestamp>,
}

/// A webhook subscription of a department system.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookRow {
    /// Id.
    pub id: String,
    /// Department.
    pub department_code: String,
    /// Where deliveries are POSTed.
    pub url: String,
    /// HMAC-SHA256 key of the signature header. Secret.
    pub secret: String,
    /// Created.
    pub created_at: Timestamp,
}

impl fmt::Debug for WebhookRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookRow")
            .field("id", &self.id)
            .field("department_code", &self.department_code)
            .field("url", &self.url)
            .field("secret", &"<secret>")
            .finish_non_exhaustive()
    }
}

/// A stored response of an idempotent POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentResponse {
    /// Hash of the request that produced it.
    pub request_hash: String,
    /// The response body (JSON text).
    pub response: String,
}

/// An idempotency key to record with a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// Whose key (e.g. `account:<id>`).
    pub scope: String,
    /// The `Idempotency-Key` header.
    pub key: String,
    /// Hash of the request.
    pub request_hash: String,
    /// The response body (JSON text).
    pub response: String,
}

/// Queue filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueFilter {
    /// Only this state.
    pub state: Option<String>,
    /// Only this warning level.
    pub warning: Option<String>,
    /// Only this item.
    pub item_code: Option<String>,
    /// Only cases of divisions within this code prefix.
    pub division_prefix: Option<String>,
    /// Only cases due on or after this day.
    pub due_from: Option<Date>,
    /// Only cases due on or before this day.
    pub due_until: Option<Date>,
    /// Keyset paging: only cases after this (due date, case number) in queue order.
    pub after: Option<(Date, String)>,
}

/// A department's open cases counted by due date (the officer's "due today" at a glance).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DueCounts {
    /// Due before the day (overdue).
    pub overdue: i64,
    /// Due on the day.
    pub today: i64,
    /// Due after the day, up to the end of the week.
    pub this_week: i64,
}

/// Per-department figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentFigures {
    /// Department.
    pub department_code: String,
    /// Open cases.
    pub open: i64,
    /// Open cases at yellow.
    pub yellow: i64,
    /// Open cases at red.
    pub red: i64,
    /// Concluded cases.
    pub concluded: i64,
    /// Concluded within their deadline.
    pub on_time: i64,
    /// Sum of the handling days of concluded cases (divide by `concluded` for the average).
    pub handling_days: i64,
}

macro_rules! case_sql {
    ($tail:literal) => {
        concat!(
            "SELECT number, application_id, member, item_code, item_version, situation, \
             department_code, division_code, state, closed, due_on, warning, status, \
             event_count, last_hash, concluded_on, on_time, handling_days, created_at, updated_at \
             FROM cases ",
            $tail
        )
    };
}

macro_rules! application_sql {
    ($tail:literal) => {
        concat!(
            "SELECT id, account_id, subject_kind, subject_id, subject_name, bundle_code, \
             bundle_version, item_code, division_code, channel, state, document, intake_by, \
             created_at, updated_at, submitted_at FROM applications ",
            $tail
        )
    };
}

macro_rules! supervision_sql {
    ($tail:literal) => {
        concat!(
            "SELECT id, case_number, department_code, division_code, issued_by, reason, \
             respond_by, issued_at, answer, answered_by, answered_at FROM supervision_orders ",
            $tail
        )
    };
}

fn case_row<R: Row>(row: &R) -> Result<CaseRow>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let closed: i64 = row.try_get(9)?;
    let due_on: String = row.try_get(10)?;
    let status: String = row.try_get(12)?;
    let concluded_on: Option<String> = row.try_get(15)?;
    let on_time: Option<i64> = row.try_get(16)?;
    Ok(CaseRow {
        number: row.try_get(0)?,
        application_id: row.try_get(1)?,
        member: row.try_get(2)?,
        item_code: row.try_get(3)?,
        item_version: row.try_get(4)?,
        situation: row.try_get(5)?,
        department_code: row.try_get(6)?,
        division_code: row.try_get(7)?,
        state: row.try_get(8)?,
        closed: closed != 0,
        due_on: parse_date(&due_on)?,
        warning: row.try_get(11)?,
        status: json(&status, "case status")?,
        event_count: row.try_get(13)?,
        last_hash: row.try_get(14)?,
        concluded_on: concluded_on.as_deref().map(parse_date).transpose()?,
        on_time: on_time.map(|v| v != 0),
        handling_days: row.try_get(17)?,
        created_at: from_micros(row.try_get(18)?)?,
        updated_at: from_micros(row.try_get(19)?)?,
    })
}

fn application_row<R: Row>(row: &R) -> Result<ApplicationRow>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let document: String = row.try_get(11)?;
    let submitted: Option<i64> = row.try_get(15)?;
    Ok(ApplicationRow {
        id: row.try_get(0)?,
        account_id: row.try_get(1)?,
        subject_kind: row.try_get(2)?,
        subject_id: row.try_get(3)?,
        subject_name: row.try_get(4)?,
        bundle_code: row.try_get(5)?,
        bundle_version: row.try_get(6)?,
        item_code: row.try_get(7)?,
        division_code: row.try_get(8)?,
        channel: row.try_get(9)?,
        state: row.try_get(10)?,
        document: json(&document, "application document")?,
        intake_by: row.try_get(12)?,
        created_at: from_micros(row.try_get(13)?)?,
        updated_at: from_micros(row.try_get(14)?)?,
        submitted_at: submitted.map(from_micros).transpose()?,
    })
}

fn supervision_row<R: Row>(row: &R) -> Result<SupervisionRow>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let respond_by: String = row.try_get(6)?;
    let answered_at: Option<i64> = row.try_get(10)?;
    Ok(SupervisionRow {
        id: row.try_get(0)?,
        case_number: row.try_get(1)?,
        department_code: row.try_get(2)?,
        division_code: row.try_get(3)?,
        issued_by: row.try_get(4)?,
        reason: row.try_get(5)?,
        respond_by: parse_date(&respond_by)?,
        issued_at: from_micros(row.try_get(7)?)?,
        answer: row.try_get(8)?,
        answered_by: row.try_get(9)?,
        answered_at: answered_at.map(from_micros).transpose()?,
    })
}

fn event_row<R: Row>(row: &R) -> Result<EventRow>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    Ok(EventRow {
        case_number: row.try_get(0)?,
        seq: row.try_get(1)?,
        at: from_micros(row.try_get(2)?)?,
        actor: row.try_get(3)?,
        event: row.try_get(4)?,
        prev_hash: row.try_get(5)?,
        hash: row.try_get(6)?,
    })
}

fn outbox_row<R: Row>(row: &R) -> Result<OutboxRow>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let payload: String = row.try_get(4)?;
    Ok(OutboxRow {
        id: row.try_get(0)?,
        topic: row.try_get(1)?,
        subject: row.try_get(2)?,
        department_code: row.try_get(3)?,
        payload: json(&payload, "outbox payload")?,
        created_at: from_micros(row.try_get(5)?)?,
        attempts: row.try_get(6)?,
    })
}

fn to_text(value: &serde_json::Value) -> String {
    value.to_string()
}

/// The columns a case change sets (`state` … `handling_days`, ten), bound in this order by
/// `$bind` (`bind` on a query, `push_bind` on a row of a query builder).
macro_rules! bind_case_state {
    ($q:expr, $bind:ident, $c:expr) => {
        $q.$bind(&$c.state)
            .$bind(i64::from($c.closed))
            .$bind($c.due_on.to_string())
            .$bind(&$c.warning)
            .$bind(to_text(&$c.status))
            .$bind($c.event_count)
            .$bind(&$c.last_hash)
            .$bind($c.concluded_on.map(|d| d.to_string()))
            .$bind($c.on_time.map(i64::from))
            .$bind($c.handling_days)
    };
}

/// `cases` and its columns, in the order [`push_cases!`] binds them.
const CASES: &str = "cases (number, application_id, member, item_code, item_version, situation, \
     department_code, division_code, state, closed, due_on, warning, status, event_count, \
     last_hash, concluded_on, on_time, handling_days, created_at, updated_at)";

/// Pushes `VALUES (…), (…)` of cases (an iterator of `&CaseRow`) onto a query builder.
macro_rules! push_cases {
    ($qb:expr, $cases:expr) => {{
        $qb.push_values($cases, |mut b, c: &CaseRow| {
            b.push_bind(&c.number)
                .push_bind(&c.application_id)
                .push_bind(&c.member)
                .push_bind(&c.item_code)
                .push_bind(c.item_version)
                .push_bind(&c.situation)
                .push_bind(&c.department_code)
                .push_bind(&c.division_code);
            bind_case_state!(b, push_bind, c)
                .push_bind(to_micros(c.created_at))
                .push_bind(to_micros(c.updated_at));
        });
    }};
}

/// `case_events` and its columns, in the order [`push_events!`] binds them.
const EVENTS: &str = "case_events (case_number, seq, at, actor, event, prev_hash, hash)";

/// Pushes `VALUES (…), (…)` of events (an iterator of `&EventRow`) onto a query builder.
macro_rules! push_events {
    ($qb:expr, $events:expr) => {{
        $qb.push_values($events, |mut b, e: &EventRow| {
            b.push_bind(&e.case_number)
                .push_bind(e.seq)
                .push_bind(to_micros(e.at))
                .push_bind(&e.actor)
                .push_bind(&e.event)
                .push_bind(&e.prev_hash)
                .push_bind(&e.hash);
        });
    }};
}

/// `outbox` and its columns, in the order [`push_outbox!`] binds them.
const OUTBOX: &str = "outbox (id, topic, subject, department_code, payload, created_at, attempts, \
     next_attempt_at)";

/// Pushes `VALUES (…), (…)` of outbox rows (an iterator of `&OutboxRow`) onto a query builder.
macro_rules! push_outbox {
    ($qb:expr, $rows:expr) => {{
        $qb.push_values($rows, |mut b, o: &OutboxRow| {
            b.push_bind(&o.id)
                .push_bind(&o.topic)
                .push_bind(&o.subject)
                .push_bind(&o.department_code)
                .push_bind(to_text(&o.payload))
                .push_bind(to_micros(o.created_at))
                .push_bind(o.attempts)
                .push_bind(to_micros(o.created_at));
        });
    }};
}

/// `idempotency_keys` and its columns, in the order [`push_idempotency!`] binds them.
pub(crate) const IDEMPOTENCY_KEYS: &str =
    "idempotency_keys (scope, key, request_hash, response, created_at)";

/// Pushes `VALUES (…)` of one idempotency record written at `$now` onto a query builder.
macro_rules! push_idempotency {
    ($qb:expr, $r:expr, $now:expr) => {{
        let now = to_micros($now);
        $qb.push_values(std::iter::once($r), |mut b, r: &IdempotencyRecord| {
            b.push_bind(&r.scope)
                .push_bind(&r.key)
                .push_bind(&r.request_hash)
                .push_bind(&r.response)
                .push_bind(now);
        });
    }};
}
pub(crate) use push_idempotency;

/// `applications` and its columns, in the order [`push_application!`] binds them.
const APPLICATIONS: &str = "applications (id, account_id, subject_kind, subject_id, subject_name, \
     bundle_code, bundle_version, item_code, division_code, channel, state, document, intake_by, \
     created_at, updated_at, submitted_at)";

/// What follows the application's `VALUES`: a draft is replaced, an application already
/// submitted is left alone.
const APPLICATION_UPSERT: &str = " ON CONFLICT (id) DO UPDATE SET \
     subject_kind = excluded.subject_kind, subject_id = excluded.subject_id, \
     subject_name = excluded.subject_name, bundle_code = excluded.bundle_code, \
     bundle_version = excluded.bundle_version, item_code = excluded.item_code, \
     division_code = excluded.division_code, channel = excluded.channel, \
     state = excluded.state, document = excluded.document, intake_by = excluded.intake_by, \
     updated_at = excluded.updated_at, submitted_at = excluded.submitted_at \
     WHERE applications.state = 'draft'";

/// Pushes `VALUES (…)` of one application onto a query builder.
macro_rules! push_application {
    ($qb:expr, $a:expr) => {{
        $qb.push_values(std::iter::once($a), |mut b, a: &ApplicationRow| {
            b.push_bind(&a.id)
                .push_bind(&a.account_id)
                .push_bind(&a.subject_kind)
                .push_bind(&a.subject_id)
                .push_bind(&a.subject_name)
                .push_bind(&a.bundle_code)
                .push_bind(a.bundle_version)
                .push_bind(&a.item_code)
                .push_bind(&a.division_code)
                .push_bind(&a.channel)
                .push_bind(&a.state)
                .push_bind(to_text(&a.document))
                .push_bind(&a.intake_by)
                .push_bind(to_micros(a.created_at))
                .push_bind(to_micros(a.updated_at))
                .push_bind(a.submitted_at.map(to_micros));
        });
    }};
}

/// Runs `INSERT INTO {table} VALUES …` of the rows `$rows` (pushed by `$push`) in `$tx`, as one
/// statement; nothing when there are no rows.
macro_rules! insert_rows {
    ($tx:expr, $table:expr, $push:ident, $rows:expr) => {{
        // Collected first: the iterator's closures must not live across the await.
        let rows: Vec<_> = $rows.into_iter().collect();
        if !rows.is_empty() {
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO ");
            qb.push($table).push(" ");
            $push!(qb, rows);
            qb.build().execute(&mut *$tx).await.map(drop)
        } else {
            Ok(())
        }
    }};
}

/// Writes an idempotency record (an `Option<&IdempotencyRecord>`) in the transaction `$tx`; a
/// key already taken is [`StoreError::Conflict`] (`idempotency`).
macro_rules! insert_idempotency {
    ($tx:expr, $record:expr, $now:expr) => {{
        if let Some(r) = $record {
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO ");
            qb.push($crate::cases::IDEMPOTENCY_KEYS).push(" ");
            $crate::cases::push_idempotency!(qb, r, $now);
            qb.build()
                .execute(&mut *$tx)
                .await
                .map_err(|e| crate::accounts::classify(e, &["idempotency"], "idempotency key"))?;
        }
    }};
}
pub(crate) use insert_idempotency;

/// Inserts an application or replaces its draft; evaluates to whether it did (an application
/// already submitted is left alone).
macro_rules! upsert_application {
    ($tx:expr, $a:expr) => {{
        let mut qb = sqlx::QueryBuilder::new("INSERT INTO ");
        qb.push(APPLICATIONS).push(" ");
        push_application!(qb, $a);
        qb.push(APPLICATION_UPSERT);
        qb.build().execute(&mut *$tx).await?.rows_affected() == 1
    }};
}

/// The first of the `count` sequence numbers a counter step to `next` allocated.
fn first_allocated(next: i64, count: u32) -> Result<u32> {
    u32::try_from(next - i64::from(count) + 1).map_err(|_| corrupt("case counter", next))
}

/// The statements of a submission inside the transaction (or savepoint) `$tx`, its case
/// numbers starting at `$first`; evaluates to what `build` returned.
macro_rules! write_submission {
    ($tx:expr, $application:expr, $first:expr, $build:expr) => {{
        let application: &mut ApplicationRow = $application;
        let (rows, extra) = ($build)($first, &mut *application)?;
        if !upsert_application!($tx, &*application) {
            // Submitted already.
            return Err(StoreError::Conflict(vec!["state"]));
        }
        insert_rows!(
            $tx,
            CASES,
            push_cases,
            rows.cases.iter().map(|(case, _)| case)
        )
        .map_err(|e| crate::accounts::classify(e, &["number"], "case"))?;
        insert_rows!(
            $tx,
            EVENTS,
            push_events,
            rows.cases.iter().flat_map(|(_, events)| events)
        )?;
        insert_rows!($tx, OUTBOX, push_outbox, &rows.outbox)?;
        let log = crate::sharing::access_log_rows(&rows.access_log)?;
        crate::sharing::insert_access_log_rows!($tx, &log);
        insert_idempotency!($tx, rows.idempotency.as_ref(), application.updated_at);
        (rows, extra)
    }};
}

/// A submission's rows as one PostgreSQL statement, atomic on its own (no `BEGIN`/`COMMIT`
/// round trips): the application in a data-modifying CTE, then every other table's rows in a
/// CTE each, written only when the application was (an application already submitted is left
/// alone and nothing else is written). Evaluates to the number of applications written, 1 or 0.
/// A taken case number or idempotency key fails the whole statement.
fn submission_statement<'a>(
    application: &'a ApplicationRow,
    rows: &'a SubmissionRows,
    log: &'a [(&'a onetrip_domain::sharing::AccessLogEntry, String, String)],
) -> sqlx::QueryBuilder<sqlx::Postgres> {
    let mut qb = sqlx::QueryBuilder::new("WITH application AS (INSERT INTO ");
    qb.push(APPLICATIONS).push(" ");
    push_application!(qb, application);
    qb.push(APPLICATION_UPSERT).push(" RETURNING 1)");
    // `INSERT INTO {table} SELECT * FROM (VALUES …) WHERE` the application was written.
    macro_rules! gated {
        ($name:literal, $table:expr, $push:ident, $rows:expr $(, $arg:expr)?) => {{
            let mut rows = $rows.into_iter().peekable();
            if rows.peek().is_some() {
                qb.push(concat!(", ", $name, " AS (INSERT INTO "))
                    .push($table)
                    .push(" SELECT * FROM (");
                $push!(qb, rows $(, $arg)?);
                qb.push(") AS v WHERE EXISTS (SELECT 1 FROM application))");
            }
        }};
    }
    gated!(
        "new_cases",
        CASES,
        push_cases,
        rows.cases.iter().map(|(c, _)| c)
    );
    gated!(
        "new_events",
        EVENTS,
        push_events,
        rows.cases.iter().flat_map(|(_, events)| events)
    );
    gated!("new_outbox", OUTBOX, push_outbox, &rows.outbox);
    gated!(
        "new_access_log",
        crate::sharing::ACCESS_LOG,
        push_access_log,
        log.iter()
    );
    if let Some(record) = &rows.idempotency {
        qb.push(", new_key AS (INSERT INTO ")
            .push(IDEMPOTENCY_KEYS)
            .push(" SELECT * FROM (");
        push_idempotency!(qb, record, application.updated_at);
        qb.push(") AS v WHERE EXISTS (SELECT 1 FROM application))");
    }
    qb.push(" SELECT count(*) FROM application");
    qb
}

/// The statements of [`Db::commit_case_changes`] inside the transaction (or savepoint) `$tx`.
macro_rules! write_case_changes {
    ($tx:expr, $commit:expr) => {{
        let commit: &CaseCommit = $commit;
        for change in &commit.changes {
            let c = &change.case;
            let update = sqlx::query(
                "UPDATE cases SET state = $1, closed = $2, due_on = $3, warning = $4, \
                 status = $5, event_count = $6, last_hash = $7, concluded_on = $8, \
                 on_time = $9, handling_days = $10, updated_at = $11 WHERE number = $12 \
                 AND event_count = $13",
            );
            let updated = bind_case_state!(update, bind, c)
                .bind(to_micros(c.updated_at))
                .bind(&c.number)
                .bind(change.expected_event_count)
                .execute(&mut *$tx)
                .await?
                .rows_affected();
            if updated != 1 {
                return Err(StoreError::Conflict(vec!["case"]));
            }
        }
        insert_rows!(
            $tx,
            EVENTS,
            push_events,
            commit.changes.iter().flat_map(|c| &c.events)
        )?;
        insert_rows!($tx, OUTBOX, push_outbox, &commit.outbox)?;
        if let Some(order) = &commit.supervision {
            sqlx::query(
                "INSERT INTO supervision_orders (id, case_number, department_code, \
                 division_code, issued_by, reason, respond_by, issued_at, answer, \
                 answered_by, answered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (id) DO UPDATE SET answer = excluded.answer, \
                 answered_by = excluded.answered_by, answered_at = excluded.answered_at",
            )
            .bind(&order.id)
            .bind(&order.case_number)
            .bind(&order.department_code)
            .bind(&order.division_code)
            .bind(&order.issued_by)
            .bind(&order.reason)
            .bind(order.respond_by.to_string())
            .bind(to_micros(order.issued_at))
            .bind(&order.answer)
            .bind(&order.answered_by)
            .bind(order.answered_at.map(to_micros))
            .execute(&mut *$tx)
            .await?;
        }
        if let Some((id, state, at)) = &commit.application_state {
            sqlx::query("UPDATE applications SET state = $1, updated_at = $2 WHERE id = $3")
                .bind(state)
                .bind(to_micros(*at))
                .bind(id)
                .execute(&mut *$tx)
                .await?;
        }
        insert_idempotency!($tx, commit.idempotency.as_ref(), commit.at);
    }};
}

/// The ceiling's rows (`$rows` rows of `$bytes` bytes, one multi-row statement) inside the
/// transaction `$tx`.
macro_rules! write_ceiling {
    ($tx:expr, $rows:expr, $bytes:expr) => {{
        let payload = "x".repeat($bytes);
        let mut qb = sqlx::QueryBuilder::new("INSERT INTO bench_ceiling (id, payload) ");
        qb.push_values(0..$rows, |mut b, _| {
            b.push_bind(uuid::Uuid::now_v7().to_string())
                .push_bind(&payload);
        });
        qb.build().execute(&mut *$tx).await?;
    }};
}

/// What a submission writes, built once the case numbers are allocated.
#[derive(Debug, Clone, PartialEq)]
pub struct SubmissionRows {
    /// The cases, each with its first events.
    pub cases: Vec<(CaseRow, Vec<EventRow>)>,
    /// The access-log rows of the data read for the submission (written in the same
    /// transaction).
    pub access_log: Vec<onetrip_domain::sharing::AccessLogEntry>,
    /// Outbox rows.
    pub outbox: Vec<OutboxRow>,
    /// The response to remember under the idempotency key, if one was given.
    pub idempotency: Option<IdempotencyRecord>,
}

impl Db {
    /// Publishes a bundle: a new version when the definition changed, nothing when it is the
    /// same. Returns the current version and whether it changed.
    pub async fn save_bundle(&self, bundle: &Bundle, now: Timestamp) -> Result<(i64, bool)> {
        let document = serde_json::to_string(bundle).map_err(|e| corrupt("bundle", e))?;
        let status = serde_json::to_value(bundle.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        on_pool!(self, pool => {
            let mut tx = pool.begin_catalog_write(self.write_gate()).await?;
            let current = sqlx::query(
                "SELECT b.current_version, v.document FROM bundles b JOIN bundle_versions v \
                 ON v.code = b.code AND v.version = b.current_version WHERE b.code = $1",
            )
            .bind(&bundle.code)
            .fetch_optional(&mut *tx)
            .await?;
            let version = match current {
                Some(row) => {
                    let version: i64 = row.try_get(0)?;
                    let old: String = row.try_get(1)?;
                    if old == document {
                        return Ok((version, false));
                    }
                    version + 1
                }
                None => 1,
            };
            sqlx::query(
                "INSERT INTO bundles (code, name, category, lead_department, division_code, \
                 status, current_version, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
                 category = excluded.category, lead_department = excluded.lead_department, \
                 division_code = excluded.division_code, status = excluded.status, \
                 current_version = excluded.current_version, updated_at = excluded.updated_at",
            )
            .bind(&bundle.code)
            .bind(&bundle.name)
            .bind(bundle.category.as_str())
            .bind(&bundle.lead_department)
            .bind(&bundle.division_code)
            .bind(&status)
            .bind(version)
            .bind(to_micros(now))
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO bundle_versions (code, version, document, published_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(&bundle.code)
            .bind(version)
            .bind(&document)
            .bind(to_micros(now))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok((version, true))
        })
    }

    /// The current version of a bundle.
    pub async fn bundle(&self, code: &str) -> Result<Option<StoredBundle>> {
        const SQL: &str = "SELECT v.version, v.published_at, v.document FROM bundles b \
             JOIN bundle_versions v ON v.code = b.code AND v.version = b.current_version \
             WHERE b.code = $1";
        self.stored_bundle(SQL, code, None).await
    }

    /// The current version number of a bundle, if it exists.
    pub async fn bundle_current_version(&self, code: &str) -> Result<Option<i64>> {
        const SQL: &str = "SELECT current_version FROM bundles WHERE code = $1";
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar(SQL).bind(code).fetch_optional(pool).await?
        }))
    }

    /// One version of a bundle.
    pub async fn bundle_version(&self, code: &str, version: i64) -> Result<Option<StoredBundle>> {
        const SQL: &str = "SELECT version, published_at, document FROM bundle_versions \
             WHERE code = $1 AND version = $2";
        self.stored_bundle(SQL, code, Some(version)).await
    }

    async fn stored_bundle(
        &self,
        sql: &'static str,
        code: &str,
        version: Option<i64>,
    ) -> Result<Option<StoredBundle>> {
        let row: Option<(i64, i64, String)> = on_pool!(self, pool => {
            let mut q = sqlx::query_as(sql).bind(code);
            if let Some(v) = version {
                q = q.bind(v);
            }
            q.fetch_optional(pool).await?
        });
        row.map(|(version, published, document)| {
            Ok(StoredBundle {
                version,
                published_at: from_micros(published)?,
                bundle: serde_json::from_str(&document).map_err(|e| corrupt("bundle", e))?,
            })
        })
        .transpose()
    }

    /// Every bundle, by code.
    pub async fn bundles(&self) -> Result<Vec<BundleSummary>> {
        const SQL: &str = "SELECT code, name, category, lead_department, division_code, status, \
             current_version FROM bundles ORDER BY code";
        let rows: Vec<(String, String, String, String, String, String, i64)> =
            on_pool!(self, pool => sqlx::query_as(SQL).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .map(
                |(
                    code,
                    name,
                    category,
                    lead_department,
                    division_code,
                    status,
                    current_version,
                )| {
                    BundleSummary {
                        code,
                        name,
                        category,
                        lead_department,
                        division_code,
                        status,
                        current_version,
                    }
                },
            )
            .collect())
    }

    /// Rows in the tables a submission writes (applications, cases, case events, outbox,
    /// idempotency keys, case counters, data access log), by table: for operators' dashboards and
    /// for benchmarks that compare a submission with a plain write of the same rows.
    pub async fn case_table_counts(&self) -> Result<Vec<(&'static str, i64)>> {
        const TABLES: [(&str, &str); 7] = [
            ("applications", "SELECT COUNT(*) FROM applications"),
            ("cases", "SELECT COUNT(*) FROM cases"),
            ("case_events", "SELECT COUNT(*) FROM case_events"),
            ("outbox", "SELECT COUNT(*) FROM outbox"),
            ("idempotency_keys", "SELECT COUNT(*) FROM idempotency_keys"),
            ("case_counters", "SELECT COUNT(*) FROM case_counters"),
            ("data_access_log", "SELECT COUNT(*) FROM data_access_log"),
        ];
        let mut out = Vec::with_capacity(TABLES.len());
        for (name, sql) in TABLES {
            let n: i64 = on_pool!(self, pool => sqlx::query_scalar(sql).fetch_one(pool).await?);
            out.push((name, n));
        }
        Ok(out)
    }

    /// Creates the scratch table of [`Db::ceiling_transaction`] when missing.
    pub async fn prepare_ceiling(&self) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "CREATE TABLE IF NOT EXISTS bench_ceiling (id TEXT PRIMARY KEY, payload TEXT NOT NULL)",
            )
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The ceiling a submission is measured against: one durable write transaction inserting
    /// `rows` rows of `bytes` bytes each into the scratch table `bench_ceiling`
    /// ([`Db::prepare_ceiling`]), with no logic around it. On SQLite it goes through the
    /// [`crate::Writer`] like a submission (group commit); [`Db::ceiling_own_transaction`] is the
    /// same work committed on its own.
    pub async fn ceiling_transaction(&self, rows: usize, bytes: usize) -> Result<()> {
        match self {
            Db::Sqlite(_, writer) => {
                writer
                    .run(move |conn| {
                        Box::pin(async move {
                            write_ceiling!(conn, rows, bytes);
                            Ok(())
                        })
                    })
                    .await
            }
            Db::Postgres(_) => self.ceiling_own_transaction(rows, bytes).await,
        }
    }

    /// [`Db::ceiling_transaction`] in a transaction of its own (one commit, one fsync, each).
    pub async fn ceiling_own_transaction(&self, rows: usize, bytes: usize) -> Result<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write(self.write_gate()).await?;
            write_ceiling!(tx, rows, bytes);
            tx.commit().await?;
        });
        Ok(())
    }

    /// How many applications exist (drafts included).
    pub async fn application_count(&self) -> Result<i64> {
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM applications").fetch_one(pool).await?
        }))
    }

    /// Creates or replaces a draft. A draft can only replace a draft: an application already
    /// submitted is [`StoreError::Conflict`] (`state`). On SQLite the write goes through the
    /// [`crate::Writer`].
    pub async fn save_draft(&self, draft: &ApplicationRow) -> Result<()> {
        let saved = match self {
            Db::Sqlite(_, writer) => {
                let draft = draft.clone();
                writer
                    .run(move |conn| Box::pin(async move { Ok(upsert_application!(conn, &draft)) }))
                    .await?
            }
            Db::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                upsert_application!(conn, draft)
            }
        };
        if saved {
            Ok(())
        } else {
            Err(StoreError::Conflict(vec!["state"]))
        }
    }

    /// Deletes a draft (only a draft).
    pub async fn delete_draft(&self, id: &str) -> Result<bool> {
        let n = on_pool!(self, pool => {
            sqlx::query("DELETE FROM applications WHERE id = $1 AND state = 'draft'")
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// One application.
    pub async fn application(&self, id: &str) -> Result<Option<ApplicationRow>> {
        const SQL: &str = application_sql!("WHERE id = $1");
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(id).fetch_optional(pool).await?;
            row.as_ref().map(application_row).transpose()
        })
    }

    /// An account's applications (drafts included), most recently changed first.
    pub async fn applications_of_account(
        &self,
        account_id: &str,
        limit: i64,
    ) -> Result<Vec<ApplicationRow>> {
        const SQL: &str =
            application_sql!("WHERE account_id = $1 ORDER BY updated_at DESC, id DESC LIMIT $2");
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(account_id).bind(limit).fetch_all(pool).await?;
            rows.iter().map(application_row).collect()
        })
    }

    /// Applications of a subject (resident ID or credit code), most recent first.
    pub async fn applications_of_subject(
        &self,
        subject_id: &str,
        limit: i64,
    ) -> Result<Vec<ApplicationRow>> {
        const SQL: &str =
            application_sql!("WHERE subject_id = $1 ORDER BY updated_at DESC, id DESC LIMIT $2");
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(subject_id).bind(limit).fetch_all(pool).await?;
            rows.iter().map(application_row).collect()
        })
    }

    /// Applications taken in at the general windows of `division` (一窗受理) since `since`,
    /// most recent first.
    pub async fn window_intake(
        &self,
        division: &str,
        since: Timestamp,
        limit: i64,
    ) -> Result<Vec<ApplicationRow>> {
        const SQL: &str = application_sql!(
            "WHERE division_code = $1 AND channel = 'window' AND submitted_at >= $2 \
             ORDER BY submitted_at DESC, id DESC LIMIT $3"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL)
                .bind(division)
                .bind(to_micros(since))
                .bind(limit)
                .fetch_all(pool)
                .await?;
            rows.iter().map(application_row).collect()
        })
    }

    /// Sets an application's derived state.
    pub async fn set_application_state(&self, id: &str, state: &str, now: Timestamp) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE applications SET state = $1, updated_at = $2 WHERE id = $3")
                .bind(state)
                .bind(to_micros(now))
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The response remembered under an idempotency key.
    pub async fn idempotent_response(
        &self,
        scope: &str,
        key: &str,
    ) -> Result<Option<IdempotentResponse>> {
        const SQL: &str =
            "SELECT request_hash, response FROM idempotency_keys WHERE scope = $1 AND key = $2";
        let row: Option<(String, String)> = on_pool!(self, pool => {
            sqlx::query_as(SQL).bind(scope).bind(key).fetch_optional(pool).await?
        });
        Ok(row.map(|(request_hash, response)| IdempotentResponse {
            request_hash,
            response,
        }))
    }

    /// Submits an application: allocates `count` case numbers of (`division`, `day`) — `build`
    /// gets the first sequence number and the application row to complete, and returns the rows
    /// plus anything the caller wants back —, then writes in one transaction the application
    /// (replacing its draft), the cases with their first events, the outbox rows, the
    /// access-log rows and the idempotency record. A draft already submitted is
    /// [`StoreError::Conflict`] (`state`); a reused idempotency key is [`StoreError::Conflict`]
    /// (`idempotency`).
    ///
    /// On SQLite everything, the numbers included, is one job of the [`crate::Writer`]'s next
    /// group commit, so numbers have no gaps. On PostgreSQL the numbers are taken by one
    /// statement committed on its own before the submission's transaction: the counter row of a busy county would
    /// otherwise be locked across the whole submission and its WAL flush, and submissions of
    /// that county would run one at a time. A submission that fails after that leaves a gap in
    /// the day's numbers (see docs/ARCHITECTURE.md, "Case numbers").
    pub async fn submit_application<F, T>(
        &self,
        application: ApplicationRow,
        division: &str,
        day: Date,
        count: u32,
        build: F,
    ) -> Result<(SubmissionRows, T)>
    where
        F: FnOnce(u32, &mut ApplicationRow) -> Result<(SubmissionRows, T)> + Send + 'static,
        T: Send + 'static,
    {
        match self {
            Db::Sqlite(_, writer) => {
                let division = division.to_string();
                writer
                    .run(move |conn| {
                        Box::pin(async move {
                            let mut application = application;
                            let next: i64 = sqlx::query_scalar(
                                "INSERT INTO case_counters (division, day, next) \
                                 VALUES ($1, $2, $3) ON CONFLICT (division, day) DO UPDATE \
                                 SET next = case_counters.next + excluded.next RETURNING next",
                            )
                            .bind(&division)
                            .bind(day.to_string())
                            .bind(i64::from(count))
                            .fetch_one(&mut *conn)
                            .await?;
                            let first = first_allocated(next, count)?;
                            Ok(write_submission!(conn, &mut application, first, build))
                        })
                    })
                    .await
            }
            Db::Postgres(pool) => {
                // One statement, so one round trip, committed on its own. Not waiting for its
                // WAL flush (`synchronous_commit` off for this transaction only) is safe: a
                // submission using these numbers commits later, and its flush writes the log
                // up to its own commit record, this one included. A crash before that loses
                // both, never one. The unreferenced-looking CTE is referenced by the SELECT, so
                // PostgreSQL evaluates it.
                let next: i64 = sqlx::query_scalar(
                    "WITH no_wait AS (SELECT set_config('synchronous_commit', 'off', true)) \
                     INSERT INTO case_counters (division, day, next) \
                     SELECT $1, $2, $3 FROM no_wait \
                     ON CONFLICT (division, day) DO UPDATE \
                     SET next = case_counters.next + excluded.next RETURNING next",
                )
                .bind(division)
                .bind(day.to_string())
                .bind(i64::from(count))
                .fetch_one(pool)
                .await?;
                let first = first_allocated(next, count)?;
                let mut application = application;
                let (rows, extra) = build(first, &mut application)?;
                let log = crate::sharing::access_log_rows(&rows.access_log)?;
                let written: i64 = submission_statement(&application, &rows, &log)
                    .build_query_scalar()
                    .fetch_one(pool)
                    .await
                    .map_err(|e| {
                        crate::accounts::classify(e, &["number", "idempotency"], "case")
                    })?;
                if written != 1 {
                    // Submitted already; nothing was written.
                    return Err(StoreError::Conflict(vec!["state"]));
                }
                Ok((rows, extra))
            }
        }
    }

    /// Commits changes to cases, each with its new events, plus outbox rows, a supervision
    /// order, an application state and an idempotency record, in one transaction. Each case must
    /// still be at the event count it was read at, or nothing is written and the result is
    /// [`StoreError::Conflict`] (`case`). On SQLite the transaction is the [`crate::Writer`]'s
    /// next group commit.
    pub async fn commit_case_changes(&self, commit: CaseCommit) -> Result<()> {
        match self {
            Db::Sqlite(_, writer) => {
                writer
                    .run(move |conn| {
                        Box::pin(async move {
                            write_case_changes!(conn, &commit);
                            Ok(())
                        })
                    })
                    .await
            }
            Db::Postgres(pool) => {
                let mut tx = pool.begin_write(None).await?;
                write_case_changes!(tx, &commit);
                tx.commit().await?;
                Ok(())
            }
        }
    }

    /// One case.
    pub async fn case(&self, number: &str) -> Result<Option<CaseRow>> {
        const SQL: &str = case_sql!("WHERE number = $1");
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(number).fetch_optional(pool).await?;
            row.as_ref().map(case_row).transpose()
        })
    }

    /// The cases of an application, by number.
    pub async fn cases_of_application(&self, application_id: &str) -> Result<Vec<CaseRow>> {
        const SQL: &str = case_sql!("WHERE application_id = $1 ORDER BY number");
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(application_id).fetch_all(pool).await?;
            rows.iter().map(case_row).collect()
        })
    }

    /// A case's events, in order.
    pub async fn case_events(&self, number: &str) -> Result<Vec<EventRow>> {
        const SQL: &str = "SELECT case_number, seq, at, actor, event, prev_hash, hash \
             FROM case_events WHERE case_number = $1 ORDER BY seq";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(number).fetch_all(pool).await?;
            rows.iter().map(event_row).collect()
        })
    }

    /// Case numbers after `after`, in order, at most `limit` (paging through every case).
    pub async fn case_numbers_page(&self, after: &str, limit: i64) -> Result<Vec<String>> {
        const SQL: &str = "SELECT number FROM cases WHERE number > $1 ORDER BY number LIMIT $2";
        Ok(on_pool!(self, pool => {
            sqlx::query_scalar(SQL).bind(after).bind(limit).fetch_all(pool).await?
        }))
    }

    /// Replaces the stored text of one event (operators' repair tools and tamper tests only:
    /// the application never rewrites history).
    pub async fn overwrite_case_event(&self, number: &str, seq: i64, event: &str) -> Result<bool> {
        let n = on_pool!(self, pool => {
            sqlx::query("UPDATE case_events SET event = $1 WHERE case_number = $2 AND seq = $3")
                .bind(event)
                .bind(number)
                .bind(seq)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }

    /// A department's open cases: filtered, sorted by due date then number, at most `limit`.
    pub async fn department_queue(
        &self,
        department: &str,
        filter: &QueueFilter,
        limit: i64,
    ) -> Result<Vec<CaseRow>> {
        on_pool!(self, pool => {
            let mut q = sqlx::QueryBuilder::new(case_sql!("WHERE closed = 0 AND department_code = "));
            q.push_bind(department);
            if let Some(state) = &filter.state {
                q.push(" AND state = ").push_bind(state);
            }
            if let Some(warning) = &filter.warning {
                q.push(" AND warning = ").push_bind(warning);
            }
            if let Some(item) = &filter.item_code {
                q.push(" AND item_code = ").push_bind(item);
            }
            push_division_range!(q, filter.division_prefix.as_deref());
            if let Some(from) = filter.due_from {
                q.push(" AND due_on >= ").push_bind(from.to_string());
            }
            if let Some(until) = filter.due_until {
                q.push(" AND due_on <= ").push_bind(until.to_string());
            }
            if let Some((due_on, number)) = &filter.after {
                // A row value: both backends walk the queue index from there.
                q.push(" AND (due_on, number) > (").push_bind(due_on.to_string());
                q.push(", ").push_bind(number.clone()).push(")");
            }
            q.push(" ORDER BY due_on, number LIMIT ").push_bind(limit);
            let rows = q.build().fetch_all(pool).await?;
            rows.iter().map(case_row).collect()
        })
    }

    /// A department's open cases (within a division prefix) counted by due date: before
    /// `today`, on `today`, and after it up to `week_end`. One walk of the queue index up to
    /// `week_end`.
    pub async fn department_due_counts(
        &self,
        department: &str,
        division_prefix: Option<&str>,
        today: Date,
        week_end: Date,
    ) -> Result<DueCounts> {
        let (overdue, on_day, week): (i64, i64, i64) = on_pool!(self, pool => {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT COALESCE(SUM(CASE WHEN due_on < ",
            );
            q.push_bind(today.to_string());
            q.push(" THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN due_on = ")
                .push_bind(today.to_string());
            q.push(" THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN due_on > ")
                .push_bind(today.to_string());
            q.push(" THEN 1 ELSE 0 END), 0) FROM cases WHERE closed = 0 AND department_code = ")
                .push_bind(department);
            q.push(" AND due_on <= ").push_bind(week_end.to_string());
            push_division_range!(q, division_prefix);
            q.build_query_as().fetch_one(pool).await?
        });
        Ok(DueCounts {
            overdue,
            today: on_day,
            this_week: week,
        })
    }

    /// Open cases after case number `after`, at most `limit` (the deadline scanner pages
    /// through them).
    pub async fn open_cases_page(&self, after: &str, limit: i64) -> Result<Vec<CaseRow>> {
        const SQL: &str = case_sql!("WHERE closed = 0 AND number > $1 ORDER BY number LIMIT $2");
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(after).bind(limit).fetch_all(pool).await?;
            rows.iter().map(case_row).collect()
        })
    }

    /// Open cases at a warning level within a division subtree (code prefix), by due date.
    pub async fn cases_at_warning(
        &self,
        division_prefix: &str,
        warnings: &[&str],
        limit: i64,
    ) -> Result<Vec<CaseRow>> {
        on_pool!(self, pool => {
            let mut q = sqlx::QueryBuilder::new(case_sql!("WHERE closed = 0 AND division_code LIKE "));
            q.push_bind(format!("{division_prefix}%"));
            q.push(" AND warning IN (");
            let mut sep = q.separated(", ");
            for w in warnings {
                sep.push_bind(*w);
            }
            q.push(") ORDER BY due_on, number LIMIT ").push_bind(limit);
            let rows = q.build().fetch_all(pool).await?;
            rows.iter().map(case_row).collect()
        })
    }

    /// Per-department figures within a division subtree (code prefix).
    pub async fn department_figures(
        &self,
        division_prefix: &str,
    ) -> Result<Vec<DepartmentFigures>> {
        const SQL: &str = "SELECT department_code, \
             SUM(CASE WHEN closed = 0 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN closed = 0 AND warning = 'yellow' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN closed = 0 AND warning = 'red' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN concluded_on IS NOT NULL THEN 1 ELSE 0 END), \
             SUM(CASE WHEN on_time = 1 THEN 1 ELSE 0 END), \
             CAST(SUM(COALESCE(handling_days, 0)) AS BIGINT) \
             FROM cases WHERE division_code LIKE $1 GROUP BY department_code \
             ORDER BY department_code";
        let rows: Vec<(String, i64, i64, i64, i64, i64, i64)> = on_pool!(self, pool => {
            sqlx::query_as(SQL).bind(format!("{division_prefix}%")).fetch_all(pool).await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(department_code, open, yellow, red, concluded, on_time, handling_days)| {
                    DepartmentFigures {
                        department_code,
                        open,
                        yellow,
                        red,
                        concluded,
                        on_time,
                        handling_days,
                    }
                },
            )
            .collect())
    }

    /// Supervision orders of a department, newest first.
    pub async fn supervision_orders_of_department(
        &self,
        department: &str,
        limit: i64,
    ) -> Result<Vec<SupervisionRow>> {
        const SQL: &str = supervision_sql!(
            "WHERE department_code = $1 ORDER BY issued_at DESC, id DESC LIMIT $2"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(department).bind(limit).fetch_all(pool).await?;
            rows.iter().map(supervision_row).collect()
        })
    }

    /// Supervision orders within a division subtree (code prefix), newest first.
    pub async fn supervision_orders_in(
        &self,
        division_prefix: &str,
        limit: i64,
    ) -> Result<Vec<SupervisionRow>> {
        const SQL: &str = supervision_sql!(
            "WHERE division_code LIKE $1 ORDER BY issued_at DESC, id DESC LIMIT $2"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL)
                .bind(format!("{division_prefix}%"))
                .bind(limit)
                .fetch_all(pool)
                .await?;
            rows.iter().map(supervision_row).collect()
        })
    }

    /// One supervision order.
    pub async fn supervision_order(&self, id: &str) -> Result<Option<SupervisionRow>> {
        const SQL: &str = supervision_sql!("WHERE id = $1");
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(id).fetch_optional(pool).await?;
            row.as_ref().map(supervision_row).transpose()
        })
    }

    /// Takes or renews the lease of job `name` for `owner` until `until`: succeeds when nobody
    /// holds it, the holder's lease ran out, or `owner` already holds it.
    pub async fn acquire_lease(
        &self,
        name: &str,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool> {
        let n = on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO job_leases (name, owner, until) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until \
                 WHERE job_leases.until < $4 OR job_leases.owner = excluded.owner",
            )
            .bind(name)
            .bind(owner)
            .bind(to_micros(until))
            .bind(to_micros(now))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Gives a lease back.
    pub async fn release_lease(&self, name: &str, owner: &str) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM job_leases WHERE name = $1 AND owner = $2")
                .bind(name)
                .bind(owner)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Leases up to `limit` undelivered outbox rows that are due, until `lease_until`: rows
    /// leased by another dispatcher whose lease has not run out are skipped.
    pub async fn lease_outbox(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<OutboxRow>> {
        const PICK: &str = "SELECT id FROM outbox WHERE delivered_at IS NULL \
             AND next_attempt_at <= $1 AND (leased_until IS NULL OR leased_until < $1) \
             ORDER BY next_attempt_at, id LIMIT $2";
        const PICK_PG: &str = "SELECT id FROM outbox WHERE delivered_at IS NULL \
             AND next_attempt_at <= $1 AND (leased_until IS NULL OR leased_until < $1) \
             ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED";
        const ROW: &str = "SELECT id, topic, subject, department_code, payload, created_at, \
             attempts FROM outbox WHERE id = $1";
        let pick = match self {
            Db::Sqlite(..) => PICK,
            Db::Postgres(_) => PICK_PG,
        };
        on_pool!(self, pool => {
            let mut tx = pool.begin_write(self.write_gate()).await?;
            let ids: Vec<String> = sqlx::query_scalar(pick)
                .bind(to_micros(now))
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
            let mut rows = Vec::with_capacity(ids.len());
            for id in &ids {
                sqlx::query("UPDATE outbox SET leased_until = $1 WHERE id = $2")
                    .bind(to_micros(lease_until))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let row = sqlx::query(ROW).bind(id).fetch_one(&mut *tx).await?;
                rows.push(outbox_row(&row)?);
            }
            tx.commit().await?;
            Ok(rows)
        })
    }

    /// Marks an outbox row delivered.
    pub async fn outbox_delivered(&self, id: &str, now: Timestamp) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE outbox SET delivered_at = $1, leased_until = NULL, \
                 attempts = attempts + 1, last_error = NULL WHERE id = $2",
            )
            .bind(to_micros(now))
            .bind(id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Records a failed delivery and when to try again.
    pub async fn outbox_failed(&self, id: &str, error: &str, retry_at: Timestamp) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE outbox SET attempts = attempts + 1, last_error = $1, \
                 next_attempt_at = $2, leased_until = NULL WHERE id = $3",
            )
            .bind(error)
            .bind(to_micros(retry_at))
            .bind(id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Outbox rows about a subject (a case number), oldest first, delivered or not.
    pub async fn outbox_of_subject(&self, subject: &str) -> Result<Vec<OutboxRow>> {
        const SQL: &str = "SELECT id, topic, subject, department_code, payload, created_at, \
             attempts FROM outbox WHERE subject = $1 ORDER BY id";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(subject).fetch_all(pool).await?;
            rows.iter().map(outbox_row).collect()
        })
    }

    /// Adds a webhook subscription.
    pub async fn insert_webhook(&self, hook: &WebhookRow) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO webhooks (id, department_code, url, secret, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&hook.id)
            .bind(&hook.department_code)
            .bind(&hook.url)
            .bind(&hook.secret)
            .bind(to_micros(hook.created_at))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// A department's webhook subscriptions.
    pub async fn webhooks_of(&self, department: &str) -> Result<Vec<WebhookRow>> {
        const SQL: &str = "SELECT id, department_code, url, secret, created_at FROM webhooks \
             WHERE department_code = $1 ORDER BY id";
        let rows: Vec<(String, String, String, String, i64)> = on_pool!(self, pool => {
            sqlx::query_as(SQL).bind(department).fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|(id, department_code, url, secret, created)| {
                Ok(WebhookRow {
                    id,
                    department_code,
                    url,
                    secret,
                    created_at: from_micros(created)?,
                })
            })
            .collect()
    }

    /// Deletes a webhook subscription of a department.
    pub async fn delete_webhook(&self, department: &str, id: &str) -> Result<bool> {
        let n = on_pool!(self, pool => {
            sqlx::query("DELETE FROM webhooks WHERE id = $1 AND department_code = $2")
                .bind(id)
                .bind(department)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n == 1)
    }
}

impl CaseCommit {
    /// A commit of one case change with its outbox rows and nothing else.
    pub fn of(at: Timestamp, change: CaseChange, outbox: Vec<OutboxRow>) -> CaseCommit {
        CaseCommit {
            at,
            changes: vec![change],
            outbox,
            supervision: None,
            application_state: None,
            idempotency: None,
        }
    }
}

/// Everything one case use case writes.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseCommit {
    /// When.
    pub at: Timestamp,
    /// Changed cases with their events.
    pub changes: Vec<CaseChange>,
    /// Outbox rows.
    pub outbox: Vec<OutboxRow>,
    /// A supervision order to insert or update (answer).
    pub supervision: Option<SupervisionRow>,
    /// A new derived state of the application: (id, state, at).
    pub application_state: Option<(String, String, Timestamp)>,
    /// The response to remember under an idempotency key.
    pub idempotency: Option<IdempotencyRecord>,
}
