//! Catalog use cases: import, publish, read, list and search.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use onetrip_domain::Localized;
use onetrip_domain::catalog::{
    Catalog, Department, Division, Guide, ItemType, LifeEvent, Rule, ServiceItem, ServiceObject,
    Violation, validate_catalog, validate_item, visible_divisions,
};
use onetrip_domain::identifiers::DivisionCode;
use onetrip_search::SearchQuery;
use onetrip_store::{ChangedItem, ItemFilter, ItemSummary, SaveReport, StoredItem, VersionInfo};
use serde::Serialize;

use crate::{App, AppError, Result};

/// Largest page the catalog serves at once.
pub const MAX_PAGE: usize = 100;

/// A catalog query: free text and filters.
#[derive(Debug, Clone, Default)]
pub struct ItemQuery {
    /// Free text; when empty the catalog is listed by code.
    pub text: Option<String>,
    /// Items serving someone in this division (the division and its parents).
    pub division: Option<String>,
    /// Department credit code.
    pub department: Option<String>,
    /// Service object.
    pub service_object: Option<ServiceObject>,
    /// Item type.
    pub item_type: Option<ItemType>,
    /// Life event.
    pub life_event: Option<LifeEvent>,
    /// Sub-items of this item.
    pub parent: Option<String>,
    /// Also find cancelled items (hidden by default).
    pub include_cancelled: bool,
    /// Page size (1–100).
    pub limit: usize,
    /// Rows to skip.
    pub offset: usize,
}

/// One entry of a result page.
#[derive(Debug, Clone, Serialize)]
pub struct ItemHit {
    /// The item.
    #[serde(flatten)]
    pub summary: ItemSummary,
    /// Name as HTML with matches in `<b>`, when the query had text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub highlight: Option<String>,
}

/// A page of items.
#[derive(Debug, Clone, Serialize)]
pub struct ItemPage {
    /// Matches before paging.
    pub total: u64,
    /// Page size used.
    pub limit: usize,
    /// Offset used.
    pub offset: usize,
    /// This page.
    pub items: Vec<ItemHit>,
}

fn summary_of(item: &ServiceItem, version: i64) -> ItemSummary {
    ItemSummary {
        implementation_code: item.implementation_code.clone(),
        base_code: item.base_code.clone(),
        parent_code: item.parent_code.clone(),
        name: item.name.clone(),
        item_type: item.item_type.as_str().to_string(),
        department_code: item.department_code.clone(),
        division_code: item.division_code.clone(),
        service_object: item.service_object.as_str().to_string(),
        status: item.status.as_str().to_string(),
        version,
    }
}

impl App {
    /// Validates a whole catalog document against itself and what is already stored, and saves
    /// it in one transaction. Every violation is reported; on any violation nothing changes.
    pub async fn import_catalog(&self, catalog: Catalog, now: Timestamp) -> Result<SaveReport> {
        let known = self.db.known_codes().await?;
        let violations = validate_catalog(&catalog, &known);
        if !violations.is_empty() {
            return Err(AppError::Invalid(violations));
        }
        let report = self.db.save_catalog(&catalog, now).await?;
        self.items.clear();
        if !catalog.departments.is_empty() {
            // Department names are part of every document of their items.
            self.rebuild_search_index().await?;
        } else {
            self.index_items(&catalog.items).await?;
        }
        tracing::info!(
            divisions = report.divisions,
            departments = report.departments,
            created = report.items_created,
            versioned = report.items_versioned,
            unchanged = report.items_unchanged,
            "catalog imported"
        );
        Ok(report)
    }

    /// Publishes one item under `code`: a new version when it changed. Returns the current version
    /// and whether a new one was created.
    pub async fn publish_item(
        &self,
        code: &str,
        item: ServiceItem,
        now: Timestamp,
    ) -> Result<(i64, bool)> {
        let mut violations = validate_item(&item, "");
        if item.implementation_code != code {
            violations.push(Violation::new(
                "implementation_code",
                Rule::Malformed(format!("must equal the code in the address ({code})")),
            ));
        }
        let known = self.db.known_codes().await?;
        if !known.departments.contains(&item.department_code) {
            violations.push(Violation::new(
                "department_code",
                Rule::UnknownReference(item.department_code.clone()),
            ));
        }
        if !known.divisions.contains(&item.division_code) {
            violations.push(Violation::new(
                "division_code",
                Rule::UnknownReference(item.division_code.clone()),
            ));
        }
        if let Some(parent) = &item.parent_code
            && !known.items.contains(parent)
        {
            violations.push(Violation::new(
                "parent_code",
                Rule::UnknownReference(parent.clone()),
            ));
        }
        if !violations.is_empty() {
            return Err(AppError::Invalid(violations));
        }
        let (version, changed) = self.db.save_item(&item, now).await?;
        if changed {
            self.items.remove(code);
            self.index_items(std::slice::from_ref(&item)).await?;
            tracing::info!(code, version, "item published");
        }
        Ok((version, changed))
    }

    /// Saves one division.
    pub async fn save_division(&self, division: Division) -> Result<()> {
        let catalog = Catalog {
            divisions: vec![division],
            ..Catalog::default()
        };
        let violations = validate_catalog(&catalog, &Default::default());
        if !violations.is_empty() {
            return Err(AppError::Invalid(violations));
        }
        for d in &catalog.divisions {
            self.db.save_division(d).await?;
        }
        Ok(())
    }

    /// Saves one department (its division must exist).
    pub async fn save_department(&self, department: Department) -> Result<()> {
        let known = self.db.known_codes().await?;
        let catalog = Catalog {
            departments: vec![department],
            ..Catalog::default()
        };
        let violations = validate_catalog(&catalog, &known);
        if !violations.is_empty() {
            return Err(AppError::Invalid(violations));
        }
        for d in &catalog.departments {
            self.db.save_department(d).await?;
        }
        self.rebuild_search_index().await?;
        Ok(())
    }

    /// The current version of an item.
    ///
    /// Current versions are cached in memory: a publication through this replica replaces the
    /// entry at once, one through another replica within a refresh interval
    /// ([`App::refresh_search_index`]).
    pub async fn item(&self, code: &str) -> Result<Arc<StoredItem>> {
        if let Some(hit) = self.items.get(code) {
            return Ok(hit);
        }
        let stored = self
            .db
            .item(code)
            .await?
            .ok_or_else(|| AppError::NotFound {
                kind: "item",
                key: code.to_string(),
            })?;
        let stored = Arc::new(stored);
        self.items.put(code, stored.clone());
        Ok(stored)
    }

    /// The current version of an item, decoded. Decoded once per cached version: a new
    /// version (a publication, or a refresh that drops the cached one) is decoded anew.
    pub async fn decoded_item(&self, code: &str) -> Result<Arc<ServiceItem>> {
        Ok(self.decoded_item_version(code).await?.0)
    }

    /// [`App::decoded_item`] with its version number.
    pub(crate) async fn decoded_item_version(&self, code: &str) -> Result<(Arc<ServiceItem>, i64)> {
        let stored = self.item(code).await?;
        if let Some(hit) = self.items.decoded(&stored) {
            return Ok((hit, stored.version));
        }
        let item = Arc::new(stored.item()?);
        self.items.put_decoded(&stored, item.clone());
        Ok((item, stored.version))
    }

    /// One version of an item.
    pub async fn item_version(&self, code: &str, version: i64) -> Result<StoredItem> {
        self.db
            .item_version(code, version)
            .await?
            .ok_or_else(|| AppError::NotFound {
                kind: "version",
                key: format!("{code}@{version}"),
            })
    }

    /// Every version of an item.
    pub async fn item_versions(&self, code: &str) -> Result<Vec<VersionInfo>> {
        let versions = self.db.item_versions(code).await?;
        if versions.is_empty() {
            return Err(AppError::NotFound {
                kind: "item",
                key: code.to_string(),
            });
        }
        Ok(versions)
    }

    /// The guides of every situation of an item (current version).
    pub async fn guides(&self, code: &str) -> Result<(ServiceItem, Vec<Guide>)> {
        let item = self.item(code).await?.item()?;
        let guides = item
            .effective_situations()
            .iter()
            .filter_map(|s| item.guide(&s.code))
            .collect();
        Ok((item, guides))
    }

    /// The guide of one situation of an item (current version).
    pub async fn guide(&self, code: &str, situation: &str) -> Result<Guide> {
        let item = self.item(code).await?.item()?;
        item.guide(situation).ok_or_else(|| AppError::NotFound {
            kind: "situation",
            key: format!("{code}/{situation}"),
        })
    }

    /// Lists or searches the catalog.
    pub async fn find_items(&self, query: &ItemQuery) -> Result<ItemPage> {
        let limit = query.limit.clamp(1, MAX_PAGE);
        let divisions = match &query.division {
            Some(code) => {
                let parsed = DivisionCode::parse(code).map_err(|e| {
                    AppError::Invalid(vec![Violation::new(
                        "division",
                        Rule::InvalidDivisionCode(e.message_en()),
                    )])
                })?;
                Some(visible_divisions(&parsed))
            }
            None => None,
        };
        let text = query.text.as_deref().map(str::trim).unwrap_or_default();
        if text.is_empty() {
            let filter = ItemFilter {
                divisions,
                department: query.department.clone(),
                service_object: query.service_object,
                item_type: query.item_type,
                life_event: query.life_event,
                parent: query.parent.clone(),
                status: None,
                include_cancelled: query.include_cancelled,
                limit: i64::try_from(limit).unwrap_or(i64::MAX),
                offset: i64::try_from(query.offset).unwrap_or(i64::MAX),
            };
            let (items, total) = self.db.list_items(&filter).await?;
            return Ok(ItemPage {
                total: u64::try_from(total).unwrap_or_default(),
                limit,
                offset: query.offset,
                items: items
                    .into_iter()
                    .map(|summary| ItemHit {
                        summary,
                        highlight: None,
                    })
                    .collect(),
            });
        }
        let search = SearchQuery {
            text: text.to_string(),
            divisions,
            department: query.department.clone(),
            service_object: query.service_object,
            item_type: query.item_type,
            life_event: query.life_event,
            include_cancelled: query.include_cancelled,
            limit,
            // tantivy reserves room for offset + limit hits up front, so a huge offset overflows
            // or exhausts memory. No page starts past the last document: clamp there (the page
            // is empty either way, and the total is still counted).
            offset: query
                .offset
                .min(usize::try_from(self.search.len()).unwrap_or(usize::MAX)),
        };
        let index = self.search.clone();
        let results = tokio::task::spawn_blocking(move || index.search(&search))
            .await
            .map_err(|e| AppError::Internal(format!("search task failed: {e}")))??;
        let codes: Vec<String> = results
            .hits
            .iter()
            .map(|h| h.implementation_code.clone())
            .collect();
        let stored = self.db.items_by_codes(&codes).await?;
        let mut by_code: HashMap<String, StoredItem> = stored
            .into_iter()
            .map(|s| (s.implementation_code.clone(), s))
            .collect();
        let mut items = Vec::with_capacity(results.hits.len());
        for hit in results.hits {
            // The index may briefly lag a deletion on another replica; skip what is gone.
            if let Some(stored) = by_code.remove(&hit.implementation_code) {
                let item = stored.item()?;
                items.push(ItemHit {
                    summary: summary_of(&item, stored.version),
                    highlight: Some(hit.highlight),
                });
            }
        }
        Ok(ItemPage {
            total: results.total as u64,
            limit,
            offset: query.offset,
            items,
        })
    }

    /// The whole current catalog.
    pub async fn export_catalog(&self) -> Result<Catalog> {
        Ok(self.db.export_catalog().await?)
    }

    async fn department_names(&self) -> Result<HashMap<String, String>> {
        Ok(self
            .db
            .departments(None)
            .await?
            .into_iter()
            .map(|d| (d.code, d.name))
            .collect())
    }

    /// Rebuilds the search index from the database.
    pub async fn rebuild_search_index(&self) -> Result<()> {
        let changed = self.db.items_changed_since(jiff::Timestamp::MIN).await?;
        let names = self.department_names().await?;
        let seen = IndexedVersions::from_changes(&changed);
        let items: Vec<ServiceItem> = changed.into_iter().map(|c| c.item).collect();
        let index = self.search.clone();
        tokio::task::spawn_blocking(move || index.rebuild(&items, &names))
            .await
            .map_err(|e| AppError::Internal(format!("index task failed: {e}")))??;
        *self
            .indexed
            .lock()
            .map_err(|_| AppError::Internal("index state poisoned".into()))? = seen;
        Ok(())
    }

    /// Indexes the items that another replica published since the last look: every current
    /// version newer than the newest one seen, minus a margin for clocks that disagree between
    /// replicas; items whose version is already indexed are skipped. Returns how many were
    /// indexed.
    pub async fn refresh_search_index(&self) -> Result<usize> {
        let since = {
            let seen = self
                .indexed
                .lock()
                .map_err(|_| AppError::Internal("index state poisoned".into()))?;
            seen.latest
                .checked_sub(jiff::SignedDuration::from_secs(CLOCK_SKEW_MARGIN_SECS))
                .unwrap_or(jiff::Timestamp::MIN)
        };
        let changed = self.db.items_changed_since(since).await?;
        let fresh: Vec<ChangedItem> = {
            let mut seen = self
                .indexed
                .lock()
                .map_err(|_| AppError::Internal("index state poisoned".into()))?;
            changed.into_iter().filter(|c| seen.record(c)).collect()
        };
        if fresh.is_empty() {
            return Ok(0);
        }
        let items: Vec<ServiceItem> = fresh.into_iter().map(|c| c.item).collect();
        for item in &items {
            self.items.remove(&item.implementation_code);
        }
        self.index_items(&items).await?;
        tracing::debug!(count = items.len(), "search index refreshed");
        Ok(items.len())
    }

    async fn index_items(&self, items: &[ServiceItem]) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let names = self.department_names().await?;
        let index = self.search.clone();
        let items = items.to_vec();
        tokio::task::spawn_blocking(move || index.upsert(&items, &names))
            .await
            .map_err(|e| AppError::Internal(format!("index task failed: {e}")))??;
        Ok(())
    }
}

/// How far back a refresh looks before the newest version it has seen, in seconds, so that a
/// replica whose clock runs behind does not hide its publications from the others.
const CLOCK_SKEW_MARGIN_SECS: i64 = 600;

/// Which version of each item the local search index holds, and the newest publication seen.
#[derive(Debug, Default)]
pub(crate) struct IndexedVersions {
    versions: HashMap<String, i64>,
    latest: jiff::Timestamp,
}

impl IndexedVersions {
    fn from_changes(changes: &[ChangedItem]) -> Self {
        let mut seen = IndexedVersions::default();
        for c in changes {
            seen.record(c);
        }
        seen
    }

    /// Records a version; true when it is newer than what the index holds.
    fn record(&mut self, c: &ChangedItem) -> bool {
        if c.updated_at > self.latest {
            self.latest = c.updated_at;
        }
        let current = self
            .versions
            .entry(c.item.implementation_code.clone())
            .or_insert(0);
        if c.version > *current {
            *current = c.version;
            true
        } else {
            false
        }
    }
}

/// A cached version and its decoded document.
type DecodedItem = (Arc<StoredItem>, Arc<ServiceItem>);

/// Most current item versions kept in memory at once.
const ITEM_CACHE_CAPACITY: usize = 4096;

/// Current item versions by implementation code. Bounded: when full it starts over, which keeps
/// it simple and is cheap because an entry is one database read.
#[derive(Debug, Default)]
pub(crate) struct ItemCache {
    entries: RwLock<HashMap<String, Arc<StoredItem>>>,
    /// Decoded documents, each with the cached version it was decoded from: an entry counts
    /// only while that very version is the cached one, so dropping or replacing a version in
    /// `entries` is all the invalidation there is.
    decoded: RwLock<HashMap<String, DecodedItem>>,
}

impl ItemCache {
    fn decoded(&self, stored: &Arc<StoredItem>) -> Option<Arc<ServiceItem>> {
        let decoded = self.decoded.read().ok()?;
        let (from, item) = decoded.get(&stored.implementation_code)?;
        Arc::ptr_eq(from, stored).then(|| item.clone())
    }

    fn put_decoded(&self, stored: &Arc<StoredItem>, item: Arc<ServiceItem>) {
        if let Ok(mut decoded) = self.decoded.write() {
            if decoded.len() >= ITEM_CACHE_CAPACITY {
                decoded.clear();
            }
            decoded.insert(stored.implementation_code.clone(), (stored.clone(), item));
        }
    }

    fn get(&self, code: &str) -> Option<Arc<StoredItem>> {
        self.entries.read().ok()?.get(code).cloned()
    }

    fn put(&self, code: &str, stored: Arc<StoredItem>) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= ITEM_CACHE_CAPACITY {
                entries.clear();
            }
            entries.insert(code.to_string(), stored);
        }
    }

    fn remove(&self, code: &str) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(code);
        }
    }

    fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }
}
