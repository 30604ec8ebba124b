//! Data sharing use cases (公共数据共享): the data catalog, access requests and the provider's
//! decision, grants, reading shared data with masking and a per-consumer rate limit, provider
//! pushes of records, and the access log, including "who used my data" for citizens.
//!
//! Who may do what:
//! - the data catalog is public to read; resources are written by the operator or by a data
//!   administrator (`DataAdministrator`) whose grant covers the provider department's division;
//! - a machine client requests access for itself; the operator or a data administrator files a
//!   request on behalf of an item or a client;
//! - the provider's data administrator (or the operator) approves or rejects, and revokes grants;
//! - records are pushed by the operator, the provider's data administrator, or a machine client
//!   registered for the provider department (`department_code` of the client);
//! - every read of shared data, allowed or refused, writes exactly one access-log row.

use std::collections::{BTreeSet, HashMap};
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use jiff::Timestamp;
use jiff::civil::Date;
use onetrip_domain::Localized;
use onetrip_domain::catalog::MaterialSource;
use onetrip_domain::identifiers::{CreditCode, DivisionCode, ResidentId};
use onetrip_domain::identity::{AccountId, AssuranceLevel, RoleGrant, StaffRole, Target};
use onetrip_domain::sharing::{
    AccessLogEntry, AccessOutcome, AccessRefusal, AccessRequest, Consumer, DataResource, Grade,
    Grant, RequestDecision, RequestInput, RequestStatus, SERVICE_APPLICATION_PURPOSE,
    SharingProblem, SharingType, SubjectKind, authorise_read, check_request, decide_request,
    shape_record, validate_resource,
};
use onetrip_store::{AccessLogFilter, Record, RequestFilter, ResourceFilter};
use serde::{Deserialize, Serialize};

use crate::china_today;
use crate::idempotency::{Keyed, key_in_use};
use crate::{App, AppError, FieldProblem, Result};

/// The demo data catalog shipped with onetrip (YAML).
pub const DEMO_DATA_CATALOG: &str = include_str!("../../../data/demo/data_catalog.yaml");

/// Registry-backed resources: their records come from the base registries, not from
/// `data_records` (see [`App::fetch_data_record`]).
pub const REGISTRY_BACKED: [&str; 6] = [
    "ZJ_PERSON_BASIC",
    "ZJ_HOUSEHOLD_RECORD",
    "ZJ_MARRIAGE_RECORD",
    "ZJ_BIRTH_RECORD",
    "ZJ_DEATH_RECORD",
    "ZJ_LEGAL_PERSON_BASIC",
];

/// Configuration of data sharing (`[sharing]` in `onetrip.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SharingConfig {
    /// Working days the provider has to decide a conditional request (default 5).
    pub approval_days: u32,
    /// Reads of shared data per second and consumer, sustained (default 50).
    pub rate_per_second: u32,
    /// Reads a consumer may make at once above the sustained rate (default 100).
    pub burst: u32,
}

impl Default for SharingConfig {
    fn default() -> Self {
        SharingConfig {
            approval_days: 5,
            rate_per_second: 50,
            burst: 100,
        }
    }
}

/// The data-sharing state of an [`App`]: its configuration and the per-consumer rate limiter.
pub struct SharingState {
    config: SharingConfig,
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    resources: ResourceCache,
}

/// Most decoded data resources kept in memory at once.
const RESOURCE_CACHE_CAPACITY: usize = 1024;

/// Decoded data resources by code, each with the document it was decoded from. A lookup hands
/// in the document as the database has it now and gets the decoded resource back only when
/// the documents are equal, so a change by any replica is seen at once, without invalidation;
/// what is saved is the decoding, not the read.
#[derive(Debug, Default)]
struct ResourceCache {
    entries: std::sync::RwLock<HashMap<String, (String, Arc<DataResource>)>>,
}

impl ResourceCache {
    /// The resource `stored` holds, decoded at most once per document.
    fn decode(&self, stored: &onetrip_store::ResourceGrants) -> Result<Arc<DataResource>> {
        if let Ok(entries) = self.entries.read()
            && let Some((doc, resource)) = entries.get(&stored.code)
            && *doc == stored.doc
        {
            return Ok(resource.clone());
        }
        let resource = Arc::new(stored.resource()?);
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= RESOURCE_CACHE_CAPACITY {
                entries.clear();
            }
            entries.insert(stored.code.clone(), (stored.doc.clone(), resource.clone()));
        }
        Ok(resource)
    }
}

impl SharingState {
    /// State for `config` (a zero rate or burst counts as 1).
    pub fn new(config: SharingConfig) -> SharingState {
        let rate = NonZeroU32::new(config.rate_per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(config.burst).unwrap_or(NonZeroU32::MIN);
        SharingState {
            config,
            limiter: DefaultKeyedRateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            clock: DefaultClock::default(),
            resources: ResourceCache::default(),
        }
    }

    /// Whether `consumer` may read now; otherwise the wait in whole seconds (at least 1).
    fn check(&self, consumer: &Consumer) -> Result<(), u64> {
        match self.limiter.check_key(&consumer.to_string()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Err((wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1))
            }
        }
    }
}

impl Default for SharingState {
    fn default() -> Self {
        SharingState::new(SharingConfig::default())
    }
}

impl std::fmt::Debug for SharingState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharingState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Reads of shared data: who reads about whom, why, for which case (the resources are named
/// apart). (No `Debug`: the subject is personal data.)
#[derive(Clone, Copy)]
pub(crate) struct DataRead<'a> {
    pub(crate) consumer: &'a Consumer,
    pub(crate) subject: &'a str,
    pub(crate) purpose: &'a str,
    pub(crate) case_ref: Option<&'a str>,
}

/// Who performs a data-sharing action (the web layer maps its actors to this).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataActor {
    /// The operator's admin token.
    Operator,
    /// A data administrator with the grants of that role (only when TOTP was verified).
    DataAdministrator {
        /// Staff id.
        id: String,
        /// Their `DataAdministrator` grants.
        grants: Vec<RoleGrant>,
    },
    /// A machine client with a client-credentials token.
    Client(String),
}

impl DataActor {
    fn label(&self) -> String {
        match self {
            DataActor::Operator => "operator".to_owned(),
            DataActor::DataAdministrator { id, .. } => format!("staff:{id}"),
            DataActor::Client(id) => format!("client:{id}"),
        }
    }
}

/// The data catalog document (`data/demo/data_catalog.yaml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataCatalogDocument {
    /// Resources.
    pub resources: Vec<DataResource>,
    /// Records pushed on behalf of providers.
    #[serde(default)]
    pub records: Vec<DemoRecord>,
}

/// A record in the data catalog document.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoRecord {
    /// Resource code.
    pub resource: String,
    /// Resident ID or credit code.
    pub subject: String,
    /// Field → value.
    pub fields: Record,
}

impl std::fmt::Debug for DemoRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoRecord")
            .field("resource", &self.resource)
            .field(
                "subject",
                &onetrip_domain::sharing::mask_resident_id(&self.subject),
            )
            .finish_non_exhaustive()
    }
}

/// A request to file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAccessRequest {
    /// The consumer: the client itself when absent (machine clients).
    pub consumer: Option<Consumer>,
    /// Resource code.
    pub resource: String,
    /// Field keys.
    pub fields: Vec<String>,
    /// Purpose (`lower-kebab-case`).
    pub purpose: String,
    /// Last day the grant would be valid.
    pub valid_until: Date,
}

/// An access request as listed, with whether it is overdue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessRequestView {
    /// The request.
    #[serde(flatten)]
    pub request: AccessRequest,
    /// Pending after its due day.
    pub overdue: bool,
}

/// A grant as listed, with whether it is live today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantView {
    /// The grant.
    #[serde(flatten)]
    pub grant: Grant,
    /// Not revoked and not expired.
    pub live: bool,
}

/// Shared data returned to a consumer.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct SharedData {
    /// Resource code.
    pub resource: String,
    /// Resident ID or credit code.
    pub subject: String,
    /// Field → value: granted fields in full, others masked; omitted fields are absent.
    pub fields: Record,
    /// Keys returned in full.
    pub full_fields: Vec<String>,
    /// Keys returned masked.
    pub masked_fields: Vec<String>,
    /// When the provider last updated the record, when known.
    pub updated_at: Option<Timestamp>,
    /// The grant that allowed the read.
    pub grant_id: String,
    /// The access-log row of this read.
    pub access_id: String,
}

impl std::fmt::Debug for SharedData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedData")
            .field("resource", &self.resource)
            .field("full_fields", &self.full_fields)
            .field("masked_fields", &self.masked_fields)
            .field("access_id", &self.access_id)
            .finish_non_exhaustive()
    }
}

/// One access-log row as shown, with the consumer's and the resource's names.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct AccessLogView {
    /// The row.
    #[serde(flatten)]
    pub entry: AccessLogEntry,
    /// The consumer's name (client name or item name).
    pub consumer_name: String,
    /// The resource's name.
    pub resource_name: String,
    /// The provider's name.
    pub provider_name: String,
}

impl std::fmt::Debug for AccessLogView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.entry.fmt(f)
    }
}

fn rejected(problems: Vec<SharingProblem>, prefix: &str) -> AppError {
    AppError::Rejected(
        problems
            .iter()
            .map(|p| FieldProblem::new(format!("{prefix}{}", p.path), p))
            .collect(),
    )
}

fn refused(code: &'static str, zh: &str, en: &str) -> AppError {
    AppError::Refused {
        code,
        zh: zh.to_owned(),
        en: en.to_owned(),
    }
}

fn not_provider_admin() -> AppError {
    refused(
        "data_not_provider_administrator",
        "只有提供部门所在辖区的数据管理员可以进行此操作",
        "Only a data administrator covering the provider department can do this",
    )
}

/// A problem at `path` with a fixed code and messages.
struct Simple(&'static str, &'static str, &'static str);

impl Localized for Simple {
    fn code(&self) -> &'static str {
        self.0
    }
    fn message_zh(&self) -> String {
        self.1.to_owned()
    }
    fn message_en(&self) -> String {
        self.2.to_owned()
    }
}

/// Checks that `subject` identifies a subject of `kind`.
fn check_subject(kind: SubjectKind, subject: &str, today: Date) -> Result<()> {
    let problem = match kind {
        SubjectKind::Person => ResidentId::parse(subject, today)
            .err()
            .map(|e| FieldProblem::new("subject", &e)),
        SubjectKind::Organisation => CreditCode::parse(subject)
            .err()
            .map(|e| FieldProblem::new("subject", &e)),
    };
    match problem {
        None => Ok(()),
        Some(p) => Err(AppError::Rejected(vec![p])),
    }
}

impl App {
    /// This application with another data-sharing configuration (rate limits, approval days).
    pub fn with_sharing_config(mut self, config: SharingConfig) -> App {
        self.sharing = Arc::new(SharingState::new(config));
        self
    }

    /// The data-sharing configuration.
    pub fn sharing_config(&self) -> SharingConfig {
        self.sharing.config
    }

    /// The division a provider department is in: its catalog entry's, else the one in its
    /// credit code.
    async fn provider_division(&self, provider: &str) -> Result<Option<DivisionCode>> {
        if let Some(d) = self.db.department(provider).await?
            && let Ok(code) = DivisionCode::parse(&d.division_code)
        {
            return Ok(Some(code));
        }
        Ok(CreditCode::parse(provider).ok().map(|c| c.division()))
    }

    /// Whether `actor` administers the data of `provider`.
    async fn administers(&self, actor: &DataActor, provider: &str) -> Result<bool> {
        match actor {
            DataActor::Operator => Ok(true),
            DataActor::DataAdministrator { grants, .. } => {
                let Some(division) = self.provider_division(provider).await? else {
                    return Ok(false);
                };
                Ok(grants.iter().any(|g| {
                    g.role == StaffRole::DataAdministrator
                        && g.covers(Target {
                            division: &division,
                            department: Some(provider),
                        })
                }))
            }
            DataActor::Client(_) => Ok(false),
        }
    }

    /// Inserts or replaces one resource (operator, or a data administrator covering its
    /// provider, and the previous provider when it changes).
    pub async fn put_data_resource(
        &self,
        actor: &DataActor,
        resource: DataResource,
        now: Timestamp,
    ) -> Result<DataResource> {
        validate_resource(&resource).map_err(|p| rejected(p, ""))?;
        if !self.administers(actor, &resource.provider).await? {
            return Err(not_provider_admin());
        }
        if let Some(old) = self.db.data_resource(&resource.code).await?
            && !self.administers(actor, &old.provider).await?
        {
            return Err(not_provider_admin());
        }
        self.db
            .put_data_resources(std::slice::from_ref(&resource), now)
            .await?;
        Ok(resource)
    }

    /// Inserts or replaces many resources at once (loading a catalog document as the
    /// operator); every problem of every resource is listed, and nothing is written then.
    pub async fn replace_data_resources(
        &self,
        resources: &[DataResource],
        now: Timestamp,
    ) -> Result<usize> {
        let mut problems = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, r) in resources.iter().enumerate() {
            if let Err(p) = validate_resource(r) {
                problems.extend(
                    p.iter()
                        .map(|p| FieldProblem::new(format!("resources[{i}].{}", p.path), p)),
                );
            }
            if !seen.insert(r.code.as_str()) {
                let dup = SharingProblem {
                    path: "code".into(),
                    kind: onetrip_domain::sharing::ProblemKind::Duplicate(r.code.clone()),
                };
                problems.push(FieldProblem::new(format!("resources[{i}].code"), &dup));
            }
        }
        if !problems.is_empty() {
            return Err(AppError::Rejected(problems));
        }
        self.db.put_data_resources(resources, now).await?;
        Ok(resources.len())
    }

    /// Resources matching `filter` (public).
    pub async fn data_resources(&self, filter: &ResourceFilter) -> Result<Vec<DataResource>> {
        Ok(self.db.data_resources(filter).await?)
    }

    /// One resource (public).
    pub async fn data_resource(&self, code: &str) -> Result<DataResource> {
        self.db
            .data_resource(code)
            .await?
            .ok_or_else(|| AppError::NotFound {
                kind: "data_resource",
                key: code.to_owned(),
            })
    }

    /// Whether `consumer` is registered: an enabled client, or an item of the catalog.
    async fn check_consumer(&self, consumer: &Consumer) -> Result<()> {
        let known = match consumer {
            Consumer::Client(id) => self.db.client(id).await?.is_some_and(|c| !c.disabled),
            Consumer::Item(code) => self.item(code).await.is_ok(),
        };
        if known {
            Ok(())
        } else {
            Err(AppError::Rejected(vec![FieldProblem::new(
                "consumer",
                &Simple(
                    "data_consumer_unknown",
                    "申请方不存在：须为已注册并启用的接入系统，或事项库中的事项（实施编码）",
                    "Unknown consumer: use a registered, enabled client or an item of the \
                     catalog (implementation code)",
                ),
            )]))
        }
    }

    /// Files an access request. Unconditional resources are granted at once, conditional ones
    /// wait for the provider (due after the configured working days), not-shared ones are
    /// refused with `data_resource_not_shared`. With an `Idempotency-Key`, a repeated request
    /// files nothing and answers with the request the first one filed, as it stands now.
    pub async fn request_data_access(
        &self,
        actor: &DataActor,
        input: NewAccessRequest,
        idempotency_key: Option<&str>,
        now: Timestamp,
    ) -> Result<AccessRequest> {
        let keyed = Keyed::new(actor.label(), idempotency_key, &input);
        if let Some(id) = self.replayed::<String>(keyed.as_ref()).await? {
            return self
                .db
                .access_request(&id)
                .await?
                .ok_or_else(|| AppError::Internal(format!("remembered access request {id}")));
        }
        let consumer = match (actor, input.consumer) {
            (DataActor::Client(own), None) => Consumer::Client(own.clone()),
            (DataActor::Client(own), Some(c)) if c == Consumer::Client(own.clone()) => c,
            (DataActor::Client(_), Some(_)) => {
                return Err(refused(
                    "data_consumer_mismatch",
                    "接入系统只能为自己申请数据共享",
                    "A client can request access only for itself",
                ));
            }
            (_, Some(c)) => c,
            (_, None) => {
                return Err(AppError::Rejected(vec![FieldProblem::new(
                    "consumer",
                    &Simple(
                        "required",
                        "请指明申请方（接入系统或事项）",
                        "Name the consumer (a client or an item)",
                    ),
                )]));
            }
        };
        self.check_consumer(&consumer).await?;
        // At the store's precision, so the answer is the same as a repeat's, read back.
        let now = Timestamp::from_microsecond(now.as_microsecond()).unwrap_or(now);
        let resource = self.data_resource(&input.resource).await?;
        let today = china_today(now);
        let req = RequestInput {
            fields: input.fields,
            purpose: input.purpose,
            valid_until: input.valid_until,
        };
        check_request(&resource, &req, today).map_err(|p| rejected(p, ""))?;
        let calendar = self.calendar();
        let decision = decide_request(
            &resource,
            today,
            self.sharing.config.approval_days,
            &calendar,
        )?;
        let mut request = AccessRequest {
            id: uuid::Uuid::now_v7().to_string(),
            consumer: consumer.clone(),
            resource: resource.code.clone(),
            provider: resource.provider.clone(),
            fields: req.fields,
            purpose: req.purpose,
            valid_until: req.valid_until,
            status: RequestStatus::Pending,
            due_on: None,
            requested_by: actor.label(),
            requested_at: now,
            decided_by: None,
            decided_at: None,
            decision_note: None,
        };
        let grant = match decision {
            RequestDecision::Refused(r) => return Err(AppError::refused(&r)),
            RequestDecision::Pending { due } => {
                request.due_on = Some(due);
                None
            }
            RequestDecision::GrantNow => {
                request.status = RequestStatus::Approved;
                request.decided_by = Some("platform".to_owned());
                request.decided_at = Some(now);
                Some(grant_for(&request, now))
            }
        };
        let record = keyed.map(|k| k.record(&request.id));
        self.db
            .insert_access_request(&request, grant.as_ref(), record.as_ref())
            .await
            .map_err(key_in_use)?;
        Ok(request)
    }

    /// The provider's data administrator (or the operator) approves or rejects a pending
    /// request; a rejection needs a note. Approval creates the grant.
    pub async fn decide_data_access(
        &self,
        actor: &DataActor,
        id: &str,
        approve: bool,
        note: Option<String>,
        now: Timestamp,
    ) -> Result<AccessRequest> {
        let request = self
            .db
            .access_request(id)
            .await?
            .ok_or_else(|| AppError::NotFound {
                kind: "access_request",
                key: id.to_owned(),
            })?;
        if !self.administers(actor, &request.provider).await? {
            return Err(not_provider_admin());
        }
        let note = note.filter(|n| !n.trim().is_empty());
        if !approve && note.is_none() {
            return Err(AppError::Rejected(vec![FieldProblem::new(
                "note",
                &Simple(
                    "required",
                    "驳回共享申请须写明理由",
                    "A rejection needs a reason",
                ),
            )]));
        }
        let grant = approve.then(|| grant_for(&request, now));
        let status = if approve {
            RequestStatus::Approved
        } else {
            RequestStatus::Rejected
        };
        let done = self
            .db
            .decide_access_request(
                id,
                status,
                &actor.label(),
                note.as_deref(),
                now,
                grant.as_ref(),
            )
            .await?;
        if !done {
            return Err(refused(
                "data_request_not_pending",
                "该共享申请已处理，不能重复审批",
                "This request has already been decided",
            ));
        }
        self.db
            .access_request(id)
            .await?
            .ok_or_else(|| AppError::Internal("decided request vanished".into()))
    }

    /// Access requests: a client sees its own; administrators see every one, filtered.
    pub async fn data_access_requests(
        &self,
        actor: &DataActor,
        mut filter: RequestFilter,
        overdue_only: bool,
        now: Timestamp,
    ) -> Result<Vec<AccessRequestView>> {
        if let DataActor::Client(own) = actor {
            filter.consumer = Some(Consumer::Client(own.clone()));
        }
        let today = china_today(now);
        Ok(self
            .db
            .access_requests(&filter)
            .await?
            .into_iter()
            .map(|request| AccessRequestView {
                overdue: request.is_overdue(today),
                request,
            })
            .filter(|v| !overdue_only || v.overdue)
            .collect())
    }

    /// Grants: a client sees its own; administrators see every one, filtered.
    pub async fn data_grants(
        &self,
        actor: &DataActor,
        consumer: Option<Consumer>,
        resource: Option<&str>,
        now: Timestamp,
    ) -> Result<Vec<GrantView>> {
        let consumer = match actor {
            DataActor::Client(own) => Some(Consumer::Client(own.clone())),
            _ => consumer,
        };
        let today = china_today(now);
        Ok(self
            .db
            .grants(consumer.as_ref(), resource)
            .await?
            .into_iter()
            .map(|grant| GrantView {
                live: grant.is_live(today),
                grant,
            })
            .collect())
    }

    /// Revokes a grant (the provider's data administrator or the operator); effective at once.
    pub async fn revoke_data_grant(
        &self,
        actor: &DataActor,
        id: &str,
        now: Timestamp,
    ) -> Result<GrantView> {
        let not_found = || AppError::NotFound {
            kind: "grant",
            key: id.to_owned(),
        };
        let grant = self.db.grant(id).await?.ok_or_else(not_found)?;
        let resource = self.data_resource(&grant.resource).await?;
        if !self.administers(actor, &resource.provider).await? {
            return Err(not_provider_admin());
        }
        self.db.revoke_grant(id, now).await?;
        let grant = self.db.grant(id).await?.ok_or_else(not_found)?;
        Ok(GrantView {
            live: grant.is_live(china_today(now)),
            grant,
        })
    }

    /// Fetches the record of `subject` in `resource` as a JSON object of field → value, with
    /// when the provider last pushed it. Registry-backed resources ([`REGISTRY_BACKED`]) are
    /// read from the base registries (always current, so no push time); every other resource
    /// from the records its provider pushed (`data_records`).
    pub async fn fetch_data_record(
        &self,
        resource: &DataResource,
        subject: &str,
    ) -> Result<Option<(Record, Option<Timestamp>)>> {
        Ok(self
            .fetch_data_records(&[resource], subject)
            .await?
            .remove(&resource.code))
    }

    /// [`App::fetch_data_record`] for several resources, by resource code (those without a
    /// record are absent): the pushed records in one query, each registry-backed one in one.
    async fn fetch_data_records(
        &self,
        resources: &[&DataResource],
        subject: &str,
    ) -> Result<HashMap<String, (Record, Option<Timestamp>)>> {
        let (registry, pushed): (Vec<&DataResource>, Vec<&DataResource>) = resources
            .iter()
            .partition(|r| REGISTRY_BACKED.contains(&r.code.as_str()));
        let codes: Vec<&str> = pushed.iter().map(|r| r.code.as_str()).collect();
        let mut out: HashMap<String, (Record, Option<Timestamp>)> = self
            .db
            .data_records_of(subject, &codes)
            .await?
            .into_iter()
            .map(|(code, record, at)| (code, (record, Some(at))))
            .collect();
        for r in registry {
            if let Some(record) = self.registry_record(&r.code, subject).await? {
                out.insert(r.code.clone(), (record, None));
            }
        }
        Ok(out)
    }

    /// Reads `subject`'s record of `resource` for `consumer`: checks the grant (fields,
    /// purpose, expiry), applies the consumer's rate limit, fetches the record, returns granted
    /// fields in full and the others masked or left out by each field's rule, and writes
    /// exactly one access-log row, refused accesses included.
    ///
    /// Errors: unknown resource → `not_found` (not logged); invalid subject → `validation_failed`
    /// (not logged); rate limit → [`AppError::RateLimited`]; no live grant for the purpose →
    /// `data_grant_required`, `data_purpose_not_granted`, `data_grant_expired`,
    /// `data_grant_revoked`, `data_resource_not_shared`; no record → `not_found`.
    pub async fn read_shared_data(
        &self,
        consumer: &Consumer,
        resource: &str,
        subject: &str,
        purpose: &str,
        case_ref: Option<&str>,
        now: Timestamp,
    ) -> Result<SharedData> {
        let mut log = Vec::with_capacity(1);
        let read = DataRead {
            consumer,
            subject,
            purpose,
            case_ref,
        };
        let read = self
            .read_many_logged(&read, &[resource], now, &mut log)
            .await
            .and_then(|mut reads| {
                reads
                    .pop()
                    .unwrap_or_else(|| Err(AppError::Internal("a read without an outcome".into())))
            });
        self.db.insert_access_log(&log).await?;
        read
    }

    /// Reads `resources` (in that order) about one subject for one consumer, each exactly as
    /// [`App::read_shared_data`] would, with one access-log row per logged read pushed to
    /// `log` in the same order, but with few queries: every resource and the consumer's
    /// grants on it in one (grants are never cached, so a revocation by any replica counts at
    /// once), the pushed records in one, each registry-backed record in one. Returns one
    /// outcome per resource, in order; `Err` only when the database fails.
    pub(crate) async fn read_many_logged(
        &self,
        r: &DataRead<'_>,
        resources: &[&str],
        now: Timestamp,
        log: &mut Vec<AccessLogEntry>,
    ) -> Result<Vec<Result<SharedData>>> {
        /// Where one read stands.
        enum Step {
            /// Failed before anything was read: not logged.
            Unlogged(AppError),
            /// Refused: logged.
            Refused(AccessLogEntry, AppError),
            /// Allowed by this grant: its record is to be fetched.
            Allowed(AccessLogEntry, Arc<DataResource>, Grant),
        }
        let today = china_today(now);
        let found = self.db.resources_with_grants(r.consumer, resources).await?;
        let mut steps = Vec::with_capacity(resources.len());
        for code in resources {
            let Some(stored) = found.iter().find(|s| s.code == *code) else {
                steps.push(Step::Unlogged(AppError::NotFound {
                    kind: "data_resource",
                    key: (*code).to_owned(),
                }));
                continue;
            };
            let resource = self.sharing.resources.decode(stored)?;
            if let Err(e) = check_subject(resource.subject, r.subject, today) {
                steps.push(Step::Unlogged(e));
                continue;
            }
            let mut entry = AccessLogEntry {
                id: uuid::Uuid::now_v7().to_string(),
                at: now,
                consumer: r.consumer.clone(),
                resource: resource.code.clone(),
                provider: resource.provider.clone(),
                subject: r.subject.to_owned(),
                fields: Vec::new(),
                masked_fields: Vec::new(),
                purpose: r.purpose.to_owned(),
                case_ref: r.case_ref.map(str::to_owned).filter(|c| !c.is_empty()),
                outcome: AccessOutcome::Refused,
                refusal: None,
            };
            if let Err(retry_after_secs) = self.sharing.check(r.consumer) {
                entry.outcome = AccessOutcome::RateLimited;
                entry.refusal = Some("rate_limited".to_owned());
                steps.push(Step::Refused(
                    entry,
                    AppError::RateLimited { retry_after_secs },
                ));
                continue;
            }
            match authorise_read(&resource, &stored.grants, r.purpose, today) {
                Ok(grant) => {
                    let grant = grant.clone();
                    steps.push(Step::Allowed(entry, resource, grant));
                }
                Err(refusal) => {
                    entry.refusal = Some(refusal.code().to_owned());
                    steps.push(Step::Refused(entry, AppError::refused(&refusal)));
                }
            }
        }
        let allowed: Vec<&DataResource> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Allowed(_, resource, _) => Some(resource.as_ref()),
                _ => None,
            })
            .collect();
        let mut records = self.fetch_data_records(&allowed, r.subject).await?;
        let mut out = Vec::with_capacity(steps.len());
        for step in steps {
            let (mut entry, resource, grant) = match step {
                Step::Unlogged(e) => {
                    out.push(Err(e));
                    continue;
                }
                Step::Refused(entry, e) => {
                    log.push(entry);
                    out.push(Err(e));
                    continue;
                }
                Step::Allowed(entry, resource, grant) => (entry, resource, grant),
            };
            let Some((record, updated_at)) = records.remove(&resource.code) else {
                entry.outcome = AccessOutcome::NotFound;
                entry.refusal = Some("not_found".to_owned());
                log.push(entry);
                out.push(Err(AppError::NotFound {
                    kind: "data_record",
                    key: format!(
                        "{}/{}",
                        resource.code,
                        onetrip_domain::sharing::mask_resident_id(r.subject)
                    ),
                }));
                continue;
            };
            let shaped = shape_record(&resource, &record, &grant.fields);
            entry.outcome = AccessOutcome::Allowed;
            entry.fields = shaped.full.clone();
            entry.masked_fields = shaped.masked.clone();
            let access_id = entry.id.clone();
            log.push(entry);
            out.push(Ok(SharedData {
                resource: resource.code.clone(),
                subject: r.subject.to_owned(),
                fields: shaped.values,
                full_fields: shaped.full,
                masked_fields: shaped.masked,
                updated_at,
                grant_id: grant.id,
                access_id,
            }));
        }
        Ok(out)
    }

    /// A provider pushes (inserts or replaces) the record of `subject`: the operator, the
    /// provider's data administrator, or a client registered for the provider department.
    /// Every key must be a field of the resource.
    pub async fn push_data_record(
        &self,
        actor: &DataActor,
        resource: &str,
        subject: &str,
        fields: Record,
        now: Timestamp,
    ) -> Result<()> {
        let resource = self.data_resource(resource).await?;
        let allowed = match actor {
            DataActor::Client(id) => self.db.client(id).await?.is_some_and(|c| {
                !c.disabled && c.department_code.as_deref() == Some(&resource.provider)
            }),
            other => self.administers(other, &resource.provider).await?,
        };
        if !allowed {
            return Err(refused(
                "data_not_provider",
                "只有提供部门的系统或数据管理员可以推送该数据资源的记录",
                "Only the provider's systems or data administrators can push records of this \
                 resource",
            ));
        }
        if REGISTRY_BACKED.contains(&resource.code.as_str()) {
            return Err(refused(
                "data_resource_registry_backed",
                "该数据资源来自基础库（人口综合库、法人综合库），请通过基础库导入更新",
                "This resource is read from the base registries: update it through a registry \
                 import",
            ));
        }
        check_subject(resource.subject, subject, china_today(now))?;
        let unknown: Vec<FieldProblem> = fields
            .keys()
            .filter(|k| resource.field(k).is_none())
            .map(|k| {
                let p = SharingProblem {
                    path: format!("fields.{k}"),
                    kind: onetrip_domain::sharing::ProblemKind::UnknownField(k.clone()),
                };
                FieldProblem::new(p.path.clone(), &p)
            })
            .collect();
        if !unknown.is_empty() {
            return Err(AppError::Rejected(unknown));
        }
        self.db
            .put_data_record(&resource.code, subject, &fields, now)
            .await?;
        Ok(())
    }

    /// The access log by provider, consumer and subject (newest first, at most `limit`).
    pub async fn data_access_log(&self, filter: &AccessLogFilter) -> Result<Vec<AccessLogView>> {
        let rows = self.db.access_log(filter).await?;
        self.log_views(rows).await
    }

    /// "Who used my data": every access to the signed-in person's data (their resident ID),
    /// newest first. Needs real-name verification (L2), since before it the ID number on the
    /// account is only what was typed.
    pub async fn my_data_accesses(
        &self,
        account: &AccountId,
        level: AssuranceLevel,
        limit: i64,
    ) -> Result<Vec<AccessLogView>> {
        onetrip_domain::identity::check_assurance(level, AssuranceLevel::L2)
            .map_err(|e| AppError::refused(&e))?;
        let person = self
            .db
            .person_by_id(account.as_str())
            .await?
            .ok_or_else(|| AppError::NotFound {
                kind: "account",
                key: account.as_str().to_owned(),
            })?;
        let rows = self
            .db
            .access_log(&AccessLogFilter {
                subject: Some(person.resident_id),
                limit,
                ..AccessLogFilter::default()
            })
            .await?;
        self.log_views(rows).await
    }

    async fn log_views(&self, rows: Vec<AccessLogEntry>) -> Result<Vec<AccessLogView>> {
        let mut consumers: HashMap<Consumer, String> = HashMap::new();
        let mut resources: HashMap<String, (String, String)> = HashMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for entry in rows {
            if !consumers.contains_key(&entry.consumer) {
                let name = match &entry.consumer {
                    Consumer::Client(id) => self
                        .db
                        .client(id)
                        .await?
                        .map_or_else(|| id.clone(), |c| c.name),
                    Consumer::Item(code) => match self.item(code).await {
                        Ok(stored) => stored.item().map_or_else(|_| code.clone(), |i| i.name),
                        Err(_) => code.clone(),
                    },
                };
                consumers.insert(entry.consumer.clone(), name);
            }
            if !resources.contains_key(&entry.resource) {
                let names = self.db.data_resource(&entry.resource).await?.map_or_else(
                    || (entry.resource.clone(), entry.provider.clone()),
                    |r| (r.name, r.provider_name),
                );
                resources.insert(entry.resource.clone(), names);
            }
            let (resource_name, provider_name) =
                resources.get(&entry.resource).cloned().unwrap_or_default();
            out.push(AccessLogView {
                consumer_name: consumers.get(&entry.consumer).cloned().unwrap_or_default(),
                resource_name,
                provider_name,
                entry,
            });
        }
        Ok(out)
    }

    /// Imports a data catalog document as the operator: inserts or replaces its resources, then
    /// stores its records (each must name a resource and only its fields). Every problem of
    /// the resources is listed and nothing is written then. Returns the counts of resources
    /// and records.
    pub async fn import_data_catalog(
        &self,
        doc: &DataCatalogDocument,
        now: Timestamp,
    ) -> Result<(usize, usize)> {
        let mut known: HashMap<&str, &DataResource> =
            doc.resources.iter().map(|r| (r.code.as_str(), r)).collect();
        let mut stored = Vec::new();
        for r in &doc.records {
            if !known.contains_key(r.resource.as_str()) {
                stored.push(r.resource.clone());
            }
        }
        let mut from_db = Vec::new();
        for code in stored {
            if let Some(r) = self.db.data_resource(&code).await? {
                from_db.push(r);
            }
        }
        known.extend(from_db.iter().map(|r| (r.code.as_str(), r)));
        let mut problems = Vec::new();
        for (i, r) in doc.records.iter().enumerate() {
            match known.get(r.resource.as_str()) {
                None => problems.push(FieldProblem::new(
                    format!("records[{i}].resource"),
                    &Simple(
                        "unknown_reference",
                        "记录所属的数据资源不存在",
                        "The record's resource does not exist",
                    ),
                )),
                Some(res) => {
                    for k in r.fields.keys().filter(|k| res.field(k).is_none()) {
                        let p = SharingProblem {
                            path: k.clone(),
                            kind: onetrip_domain::sharing::ProblemKind::UnknownField(k.clone()),
                        };
                        problems.push(FieldProblem::new(format!("records[{i}].fields.{k}"), &p));
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(AppError::Rejected(problems));
        }
        let resources = self.replace_data_resources(&doc.resources, now).await?;
        for r in &doc.records {
            self.db
                .put_data_record(&r.resource, &r.subject, &r.fields, now)
                .await?;
        }
        Ok((resources, doc.records.len()))
    }

    /// Loads the demo data catalog when the data catalog is empty: its resources, the records
    /// it carries, and a grant with purpose `service-application` for every demo item whose
    /// materials use a shared resource (its fields up to L3; not-shared resources get none).
    /// Returns whether it loaded.
    pub async fn load_demo_data_catalog_if_empty(&self, now: Timestamp) -> Result<bool> {
        if self.db.data_resource_count().await? > 0 {
            return Ok(false);
        }
        let doc = parse_data_catalog(DEMO_DATA_CATALOG)?;
        self.import_data_catalog(&doc, now).await?;
        let catalog =
            crate::format::parse_catalog(crate::DEMO_CATALOG, crate::format::DocumentFormat::Yaml)
                .map_err(AppError::Invalid)?;
        let by_code: HashMap<&str, &DataResource> =
            doc.resources.iter().map(|r| (r.code.as_str(), r)).collect();
        let valid_until = china_today(now)
            .checked_add(jiff::Span::new().years(3))
            .map_err(|e| AppError::Internal(e.to_string()))?;
        for item in &catalog.items {
            let mut used = BTreeSet::new();
            for m in &item.materials {
                if let MaterialSource::SharedData { resource } = &m.source {
                    used.insert(resource.as_str());
                }
            }
            for code in used {
                let Some(resource) = by_code.get(code) else {
                    continue;
                };
                if resource.sharing == SharingType::NotShared {
                    continue;
                }
                let grant = Grant {
                    id: uuid::Uuid::now_v7().to_string(),
                    consumer: Consumer::Item(item.implementation_code.clone()),
                    resource: code.to_owned(),
                    fields: resource.fields_up_to(Grade::L3),
                    purpose: SERVICE_APPLICATION_PURPOSE.to_owned(),
                    valid_until,
                    request_id: None,
                    granted_at: now,
                    revoked_at: None,
                };
                self.db.insert_grant(&grant).await?;
            }
        }
        Ok(true)
    }
}

/// Parses a data catalog document (YAML or JSON).
pub fn parse_data_catalog(text: &str) -> Result<DataCatalogDocument> {
    serde_norway::from_str(text).map_err(|e| AppError::Unreadable(format!("YAML {e}")))
}

/// The grant answering an approved request.
fn grant_for(request: &AccessRequest, now: Timestamp) -> Grant {
    Grant {
        id: uuid::Uuid::now_v7().to_string(),
        consumer: request.consumer.clone(),
        resource: request.resource.clone(),
        fields: request.fields.clone(),
        purpose: request.purpose.clone(),
        valid_until: request.valid_until,
        request_id: Some(request.id.clone()),
        granted_at: now,
        revoked_at: None,
    }
}

/// Whether a refusal code is one of [`AccessRefusal`]'s (for the web layer's documentation).
pub fn is_access_refusal(code: &str) -> bool {
    AccessRefusal::ALL.iter().any(|r| r.code() == code)
}
