//! Catalog repository: divisions, departments and versioned service items.
//!
//! Publishing an item whose document differs from its current version appends a new version;
//! old versions stay readable because cases keep the version they were filed under.

use jiff::Timestamp;
use onetrip_domain::catalog::{
    Catalog, Department, Division, ItemStatus, ItemType, KnownCodes, LifeEvent, ServiceItem,
    ServiceObject,
};
use onetrip_domain::identifiers::DivisionCode;
use serde::Serialize;
use sqlx::{QueryBuilder, Row};

use crate::{BeginWrite, Db, Result, StoreError, from_micros, on_pool, to_micros};

/// One version of an item as stored: the JSON document and its version metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredItem {
    /// Implementation code.
    pub implementation_code: String,
    /// Version number, from 1.
    pub version: i64,
    /// Whether this is the current version.
    pub current: bool,
    /// When the version was published.
    pub published_at: Timestamp,
    /// The item document, as canonical JSON.
    pub document: String,
}

impl StoredItem {
    /// Decodes the document.
    pub fn item(&self) -> Result<ServiceItem> {
        serde_json::from_str(&self.document)
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", self.implementation_code)))
    }
}

/// An item's current version with when it was published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedItem {
    /// The item.
    pub item: ServiceItem,
    /// Its current version.
    pub version: i64,
    /// When that version was published (the publishing replica's clock).
    pub updated_at: Timestamp,
}

/// Version metadata of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionInfo {
    /// Version number.
    pub version: i64,
    /// Publication time (UTC).
    pub published_at: Timestamp,
}

/// What a catalog save did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SaveReport {
    /// Divisions inserted or updated.
    pub divisions: usize,
    /// Departments inserted or updated.
    pub departments: usize,
    /// Items that did not exist before.
    pub items_created: usize,
    /// Items that got a new version.
    pub items_versioned: usize,
    /// Items whose document was identical to the current version.
    pub items_unchanged: usize,
}

/// Filters for listing items. Every `Some` narrows the result.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    /// Items implemented in any of these divisions.
    pub divisions: Option<Vec<String>>,
    /// Items of this department.
    pub department: Option<String>,
    /// Items serving this kind of applicant (`Both` items match either).
    pub service_object: Option<ServiceObject>,
    /// Items of this type.
    pub item_type: Option<ItemType>,
    /// Items tagged with this life event.
    pub life_event: Option<LifeEvent>,
    /// Sub-items of this item.
    pub parent: Option<String>,
    /// Only items with this status.
    pub status: Option<ItemStatus>,
    /// Also list cancelled items (hidden by default).
    pub include_cancelled: bool,
    /// Page size.
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// The list view of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemSummary {
    /// Implementation code.
    pub implementation_code: String,
    /// Base code.
    pub base_code: String,
    /// Parent item, for sub-items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_code: Option<String>,
    /// Name.
    pub name: String,
    /// Item type (snake_case).
    pub item_type: String,
    /// Department credit code.
    pub department_code: String,
    /// Division code.
    pub division_code: String,
    /// Service object (snake_case).
    pub service_object: String,
    /// Status (snake_case).
    pub status: String,
    /// Current version.
    pub version: i64,
}

fn enum_str<T: Serialize>(value: &T) -> Result<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        other => Err(StoreError::Corrupt(format!(
            "enum did not serialize to a string: {other:?}"
        ))),
    }
}

/// Life events kept as ` a b c ` so that `LIKE '% a %'` matches one tag on both backends.
fn life_events_column(events: &[LifeEvent]) -> String {
    let mut s = String::from(" ");
    for e in events {
        s.push_str(e.as_str());
        s.push(' ');
    }
    s
}

fn division_row(d: &Division) -> (String, Option<String>) {
    match DivisionCode::parse(&d.code) {
        Ok(code) => (
            format!("{:?}", code.level()).to_lowercase(),
            code.parent().map(|p| p.as_str().to_string()),
        ),
        Err(_) => ("unknown".to_string(), None),
    }
}

/// Outcome of saving one item inside a transaction.
enum ItemOutcome {
    Created,
    Versioned,
    Unchanged,
}

macro_rules! save_item_in_tx {
    ($tx:expr, $item:expr, $now:expr) => {{
        let item: &ServiceItem = $item;
        let document = serde_json::to_string(item)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let current = sqlx::query(
            "SELECT i.current_version, v.document FROM service_items i \
             JOIN service_item_versions v ON v.implementation_code = i.implementation_code \
              AND v.version = i.current_version WHERE i.implementation_code = $1",
        )
        .bind(&item.implementation_code)
        .fetch_optional(&mut *$tx)
        .await?;
        let (version, outcome) = match current {
            Some(row) => {
                let version: i64 = row.try_get(0)?;
                let old: String = row.try_get(1)?;
                if old == document {
                    (version, ItemOutcome::Unchanged)
                } else {
                    (version + 1, ItemOutcome::Versioned)
                }
            }
            None => (1, ItemOutcome::Created),
        };
        if !matches!(outcome, ItemOutcome::Unchanged) {
            sqlx::query(
                "INSERT INTO service_items (implementation_code, base_code, handling_code, \
                 parent_code, name, item_type, department_code, division_code, service_object, \
                 status, life_events, current_version, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                 ON CONFLICT (implementation_code) DO UPDATE SET base_code = excluded.base_code, \
                 handling_code = excluded.handling_code, parent_code = excluded.parent_code, \
                 name = excluded.name, item_type = excluded.item_type, \
                 department_code = excluded.department_code, division_code = excluded.division_code, \
                 service_object = excluded.service_object, status = excluded.status, \
                 life_events = excluded.life_events, current_version = excluded.current_version, \
                 updated_at = excluded.updated_at",
            )
            .bind(&item.implementation_code)
            .bind(&item.base_code)
            .bind(&item.handling_code)
            .bind(&item.parent_code)
            .bind(&item.name)
            .bind(enum_str(&item.item_type)?)
            .bind(&item.department_code)
            .bind(&item.division_code)
            .bind(enum_str(&item.service_object)?)
            .bind(enum_str(&item.status)?)
            .bind(life_events_column(&item.life_events))
            .bind(version)
            .bind(to_micros($now))
            .execute(&mut *$tx)
            .await?;
            sqlx::query(
                "INSERT INTO service_item_versions (implementation_code, version, document, \
                 published_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&item.implementation_code)
            .bind(version)
            .bind(&document)
            .bind(to_micros($now))
            .execute(&mut *$tx)
            .await?;
        }
        (version, outcome)
    }};
}

macro_rules! save_division_in_tx {
    ($tx:expr, $d:expr) => {{
        let d: &Division = $d;
        let (level, parent) = division_row(d);
        sqlx::query(
            "INSERT INTO divisions (code, name, name_en, parent_code, level) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET \
             name = excluded.name, name_en = excluded.name_en, \
             parent_code = excluded.parent_code, level = excluded.level",
        )
        .bind(&d.code)
        .bind(&d.name)
        .bind(&d.name_en)
        .bind(parent)
        .bind(level)
        .execute(&mut *$tx)
        .await?;
    }};
}

macro_rules! save_department_in_tx {
    ($tx:expr, $d:expr) => {{
        let d: &Department = $d;
        let offices =
            serde_json::to_string(&d.offices).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO departments (code, name, name_en, division_code, offices) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO UPDATE SET \
             name = excluded.name, name_en = excluded.name_en, \
             division_code = excluded.division_code, offices = excluded.offices",
        )
        .bind(&d.code)
        .bind(&d.name)
        .bind(&d.name_en)
        .bind(&d.division_code)
        .bind(offices)
        .execute(&mut *$tx)
        .await?;
    }};
}

fn stored_item<R: Row>(row: &R) -> Result<StoredItem>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    Ok(StoredItem {
        implementation_code: row.try_get(0)?,
        version: row.try_get(1)?,
        current: row.try_get(2)?,
        published_at: from_micros(row.try_get(3)?)?,
        document: row.try_get(4)?,
    })
}

fn summary<R: Row>(row: &R) -> Result<ItemSummary>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    Ok(ItemSummary {
        implementation_code: row.try_get(0)?,
        base_code: row.try_get(1)?,
        parent_code: row.try_get(2)?,
        name: row.try_get(3)?,
        item_type: row.try_get(4)?,
        department_code: row.try_get(5)?,
        division_code: row.try_get(6)?,
        service_object: row.try_get(7)?,
        status: row.try_get(8)?,
        version: row.try_get(9)?,
    })
}

fn division<R: Row>(row: &R) -> Result<Division>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    Ok(Division {
        code: row.try_get(0)?,
        name: row.try_get(1)?,
        name_en: row.try_get(2)?,
    })
}

fn department<R: Row>(row: &R) -> Result<Department>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let offices: String = row.try_get(4)?;
    Ok(Department {
        code: row.try_get(0)?,
        name: row.try_get(1)?,
        name_en: row.try_get(2)?,
        division_code: row.try_get(3)?,
        offices: serde_json::from_str(&offices).map_err(|e| StoreError::Corrupt(e.to_string()))?,
    })
}

const SUMMARY_COLUMNS: &str = "implementation_code, base_code, parent_code, name, item_type, \
     department_code, division_code, service_object, status, current_version";

impl Db {
    /// Saves a whole catalog document in one transaction: divisions and departments are upserted,
    /// and each item gets a new version when its document changed. The caller has validated it
    /// with [`onetrip_domain::catalog::validate_catalog`]; on any error nothing is saved.
    pub async fn save_catalog(&self, catalog: &Catalog, now: Timestamp) -> Result<SaveReport> {
        let mut report = SaveReport::default();
        on_pool!(self, pool => {
            let mut tx = pool.begin_catalog_write(self.write_gate()).await?;
            for d in &catalog.divisions {
                save_division_in_tx!(tx, d);
                report.divisions += 1;
            }
            for d in &catalog.departments {
                save_department_in_tx!(tx, d);
                report.departments += 1;
            }
            // Parents first, so that a sub-item never points at an item saved later.
            let (parents, children): (Vec<&ServiceItem>, Vec<&ServiceItem>) =
                catalog.items.iter().partition(|i| i.parent_code.is_none());
            for item in parents.into_iter().chain(children) {
                let (_, outcome) = save_item_in_tx!(tx, item, now);
                match outcome {
                    ItemOutcome::Created => report.items_created += 1,
                    ItemOutcome::Versioned => report.items_versioned += 1,
                    ItemOutcome::Unchanged => report.items_unchanged += 1,
                }
            }
            tx.commit().await?;
        });
        Ok(report)
    }

    /// Publishes one item: returns its current version after the save and whether it changed.
    pub async fn save_item(&self, item: &ServiceItem, now: Timestamp) -> Result<(i64, bool)> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_catalog_write(self.write_gate()).await?;
            let (version, outcome) = save_item_in_tx!(tx, item, now);
            tx.commit().await?;
            Ok((version, !matches!(outcome, ItemOutcome::Unchanged)))
        })
    }

    /// Upserts one division.
    pub async fn save_division(&self, division: &Division) -> Result<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_catalog_write(self.write_gate()).await?;
            save_division_in_tx!(tx, division);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Upserts one department.
    pub async fn save_department(&self, department: &Department) -> Result<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_catalog_write(self.write_gate()).await?;
            save_department_in_tx!(tx, department);
            tx.commit().await?;
        });
        Ok(())
    }

    /// The current version of an item.
    pub async fn item(&self, code: &str) -> Result<Option<StoredItem>> {
        const SQL: &str = "SELECT v.implementation_code, v.version, TRUE AS current, \
             v.published_at, v.document FROM service_items i JOIN service_item_versions v \
             ON v.implementation_code = i.implementation_code AND v.version = i.current_version \
             WHERE i.implementation_code = $1";
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(code).fetch_optional(pool).await?;
            row.as_ref().map(stored_item).transpose()
        })
    }

    /// One version of an item.
    pub async fn item_version(&self, code: &str, version: i64) -> Result<Option<StoredItem>> {
        const SQL: &str = "SELECT v.implementation_code, v.version, \
             (v.version = i.current_version) AS current, v.published_at, v.document \
             FROM service_item_versions v JOIN service_items i \
             ON i.implementation_code = v.implementation_code \
             WHERE v.implementation_code = $1 AND v.version = $2";
        on_pool!(self, pool => {
            let row = sqlx::query(SQL)
                .bind(code)
                .bind(version)
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(stored_item).transpose()
        })
    }

    /// Every version of an item, oldest first (empty when the item does not exist).
    pub async fn item_versions(&self, code: &str) -> Result<Vec<VersionInfo>> {
        const SQL: &str = "SELECT version, published_at FROM service_item_versions \
             WHERE implementation_code = $1 ORDER BY version";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(code).fetch_all(pool).await?;
            rows.iter()
                .map(|r| {
                    Ok(VersionInfo {
                        version: r.try_get(0)?,
                        published_at: from_micros(r.try_get(1)?)?,
                    })
                })
                .collect()
        })
    }

    /// Current versions of the given items, in the order of `codes` (missing codes are skipped).
    pub async fn items_by_codes(&self, codes: &[String]) -> Result<Vec<StoredItem>> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        let mut rows = on_pool!(self, pool => {
            let mut qb = QueryBuilder::new(
                "SELECT v.implementation_code, v.version, TRUE AS current, v.published_at, \
                 v.document FROM service_items i JOIN service_item_versions v \
                 ON v.implementation_code = i.implementation_code \
                 AND v.version = i.current_version WHERE i.implementation_code IN (",
            );
            let mut sep = qb.separated(", ");
            for c in codes {
                sep.push_bind(c.clone());
            }
            qb.push(")");
            let rows = qb.build().fetch_all(pool).await?;
            rows.iter().map(stored_item).collect::<Result<Vec<_>>>()?
        });
        rows.sort_by_key(|r| {
            codes
                .iter()
                .position(|c| *c == r.implementation_code)
                .unwrap_or(usize::MAX)
        });
        Ok(rows)
    }

    /// Lists items matching `filter`, ordered by code, with the total count before paging.
    pub async fn list_items(&self, filter: &ItemFilter) -> Result<(Vec<ItemSummary>, i64)> {
        on_pool!(self, pool => {
            let mut count = QueryBuilder::new("SELECT COUNT(*) FROM service_items WHERE 1 = 1");
            push_filter(&mut count, filter)?;
            let total: i64 = count.build().fetch_one(pool).await?.try_get(0)?;
            let mut qb = QueryBuilder::new("SELECT ");
            qb.push(SUMMARY_COLUMNS);
            qb.push(" FROM service_items WHERE 1 = 1");
            push_filter(&mut qb, filter)?;
            qb.push(" ORDER BY implementation_code LIMIT ");
            qb.push_bind(filter.limit);
            qb.push(" OFFSET ");
            qb.push_bind(filter.offset);
            let rows = qb.build().fetch_all(pool).await?;
            let items = rows.iter().map(summary).collect::<Result<Vec<_>>>()?;
            Ok((items, total))
        })
    }

    /// Current versions published after `since`, oldest first (a replica uses this to keep its
    /// search index current with changes made by other replicas).
    pub async fn items_changed_since(&self, since: Timestamp) -> Result<Vec<ChangedItem>> {
        const SQL: &str = "SELECT v.document, i.current_version, i.updated_at FROM service_items i \
             JOIN service_item_versions v ON v.implementation_code = i.implementation_code \
             AND v.version = i.current_version WHERE i.updated_at > $1 ORDER BY i.updated_at";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(to_micros(since)).fetch_all(pool).await?;
            rows.iter()
                .map(|r| {
                    let doc: String = r.try_get(0)?;
                    Ok(ChangedItem {
                        item: serde_json::from_str(&doc)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                        version: r.try_get(1)?,
                        updated_at: from_micros(r.try_get(2)?)?,
                    })
                })
                .collect()
        })
    }

    /// Every item at its current version, ordered by code (index rebuilds and export).
    pub async fn current_items(&self) -> Result<Vec<ServiceItem>> {
        const SQL: &str = "SELECT v.document FROM service_items i JOIN service_item_versions v \
             ON v.implementation_code = i.implementation_code AND v.version = i.current_version \
             ORDER BY i.implementation_code";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).fetch_all(pool).await?;
            rows.iter()
                .map(|r| {
                    let doc: String = r.try_get(0)?;
                    serde_json::from_str(&doc).map_err(|e| StoreError::Corrupt(e.to_string()))
                })
                .collect()
        })
    }

    /// Number of items in the catalog.
    pub async fn item_count(&self) -> Result<i64> {
        on_pool!(self, pool => {
            Ok(sqlx::query("SELECT COUNT(*) FROM service_items")
                .fetch_one(pool)
                .await?
                .try_get(0)?)
        })
    }

    /// Every division, ordered by code.
    pub async fn divisions(&self) -> Result<Vec<Division>> {
        const SQL: &str = "SELECT code, name, name_en FROM divisions ORDER BY code";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).fetch_all(pool).await?;
            rows.iter().map(division).collect()
        })
    }

    /// One division.
    pub async fn division(&self, code: &str) -> Result<Option<Division>> {
        const SQL: &str = "SELECT code, name, name_en FROM divisions WHERE code = $1";
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(code).fetch_optional(pool).await?;
            row.as_ref().map(division).transpose()
        })
    }

    /// Departments, optionally of one division, ordered by code.
    pub async fn departments(&self, division_code: Option<&str>) -> Result<Vec<Department>> {
        const ALL: &str =
            "SELECT code, name, name_en, division_code, offices FROM departments ORDER BY code";
        const ONE: &str = "SELECT code, name, name_en, division_code, offices FROM departments \
             WHERE division_code = $1 ORDER BY code";
        on_pool!(self, pool => {
            let rows = match division_code {
                Some(d) => sqlx::query(ONE).bind(d).fetch_all(pool).await?,
                None => sqlx::query(ALL).fetch_all(pool).await?,
            };
            rows.iter().map(department).collect()
        })
    }

    /// One department.
    pub async fn department(&self, code: &str) -> Result<Option<Department>> {
        const SQL: &str =
            "SELECT code, name, name_en, division_code, offices FROM departments WHERE code = $1";
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(code).fetch_optional(pool).await?;
            row.as_ref().map(department).transpose()
        })
    }

    /// Codes that exist, for validating documents that reference them.
    pub async fn known_codes(&self) -> Result<KnownCodes> {
        let mut known = KnownCodes::default();
        on_pool!(self, pool => {
            for row in sqlx::query("SELECT code FROM divisions").fetch_all(pool).await? {
                known.divisions.insert(row.try_get(0)?);
            }
            for row in sqlx::query("SELECT code FROM departments").fetch_all(pool).await? {
                known.departments.insert(row.try_get(0)?);
            }
            for row in sqlx::query("SELECT implementation_code FROM service_items")
                .fetch_all(pool)
                .await?
            {
                known.items.insert(row.try_get(0)?);
            }
        });
        Ok(known)
    }

    /// The whole current catalog as one document.
    pub async fn export_catalog(&self) -> Result<Catalog> {
        Ok(Catalog {
            divisions: self.divisions().await?,
            departments: self.departments(None).await?,
            items: self.current_items().await?,
        })
    }
}

fn push_filter<DB>(qb: &mut QueryBuilder<DB>, f: &ItemFilter) -> Result<()>
where
    DB: sqlx::Database,
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    if let Some(divisions) = &f.divisions {
        if divisions.is_empty() {
            qb.push(" AND 1 = 0");
        } else {
            qb.push(" AND division_code IN (");
            let mut sep = qb.separated(", ");
            for d in divisions {
                sep.push_bind(d.clone());
            }
            qb.push(")");
        }
    }
    if let Some(d) = &f.department {
        qb.push(" AND department_code = ");
        qb.push_bind(d.clone());
    }
    if let Some(o) = f.service_object
        && o != ServiceObject::Both
    {
        qb.push(" AND service_object IN (");
        qb.push_bind(o.as_str().to_string());
        qb.push(", 'both')");
    }
    if let Some(t) = f.item_type {
        qb.push(" AND item_type = ");
        qb.push_bind(t.as_str().to_string());
    }
    if let Some(e) = f.life_event {
        qb.push(" AND life_events LIKE ");
        qb.push_bind(format!("% {} %", e.as_str()));
    }
    if let Some(p) = &f.parent {
        qb.push(" AND parent_code = ");
        qb.push_bind(p.clone());
    }
    if let Some(s) = f.status {
        qb.push(" AND status = ");
        qb.push_bind(s.as_str().to_string());
    } else if !f.include_cancelled {
        qb.push(" AND status <> 'cancelled'");
    }
    Ok(())
}
