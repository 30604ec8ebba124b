//! Material auto-resolution (一证通办) for an application, and the one-ID completion rate.
//!
//! An application names one or more items (a single item, or the members of a bundle in their
//! dependency order), each with its situation, and an applicant. For every material the use case
//! answers *resolved* (with its source), *missing* (upload needed) or *stale* (an expired or
//! revoked certificate), using, in this order: the results of earlier items of the same
//! application, the applicant's valid electronic certificates, and the shared data resources the
//! item may read through its grant with the purpose [`SERVICE_APPLICATION_PURPOSE`]. Every data read is
//! one access-log entry, made by the data-sharing use case with the item as the consumer; a
//! resource is read at most once per item, and only when a material needs it.
//!
//! The rules live in [`onetrip_domain::resolution`]; this module gathers the facts.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use jiff::civil::Date;
use onetrip_domain::Localized;
use onetrip_domain::catalog::ServiceItem;
use onetrip_domain::certificate::HolderKind;
use onetrip_domain::resolution::{
    self, Capabilities, DataOutcome, Facts, HeldCertificate, MaterialResolution, MaterialStatus,
    OneIdRate, PriorOutput, ResolutionError,
};
use onetrip_domain::sharing::{AccessLogEntry, Consumer, SERVICE_APPLICATION_PURPOSE};
use serde::Serialize;

use crate::sharing::DataRead;
use crate::{App, AppError, FieldProblem, Result};

/// Longest list of items one resolution request may name.
pub const MAX_ITEMS: usize = 30;

/// Who the materials are resolved for.
#[derive(Clone, PartialEq, Eq)]
pub enum Applicant {
    /// A person, by resident ID number.
    Person(String),
    /// An organisation, by unified social credit code.
    Organisation(String),
}

impl Applicant {
    /// The subject identifier (resident ID number or credit code).
    pub fn subject(&self) -> &str {
        match self {
            Applicant::Person(id) | Applicant::Organisation(id) => id,
        }
    }
}

impl std::fmt::Debug for Applicant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Personal data: never the identifier itself.
        match self {
            Applicant::Person(_) => f.write_str("Person(<resident id>)"),
            Applicant::Organisation(_) => f.write_str("Organisation(<credit code>)"),
        }
    }
}

/// One item of the application and the situation that applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedItem {
    /// Implementation code.
    pub item: String,
    /// Situation code; may be left out when the item has one situation.
    pub situation: Option<String>,
}

/// The resolution of one item's materials.
#[derive(Debug, Clone, Serialize)]
pub struct ItemResolution {
    /// Implementation code.
    pub item: String,
    /// Item name.
    pub item_name: String,
    /// Situation code.
    pub situation: String,
    /// Situation name.
    pub situation_name: String,
    /// Every material of the situation.
    pub materials: Vec<MaterialResolution>,
    /// Whether every required material is resolved.
    pub complete: bool,
}

/// The resolution of a whole application.
#[derive(Debug, Clone, Serialize)]
pub struct ApplicationResolution {
    /// Per item, in the order given.
    pub items: Vec<ItemResolution>,
    /// Materials the applicant must upload (missing, required or not).
    pub uploads_needed: usize,
    /// Materials that are stale.
    pub stale: usize,
    /// Materials the platform supplies.
    pub resolved: usize,
    /// Whether every required material of every item is resolved.
    pub complete: bool,
}

impl App {
    /// Resolves the materials of `items` for `applicant`. `case_ref` (an application or case
    /// number) goes into the access log with every data read.
    pub async fn resolve_materials(
        &self,
        applicant: &Applicant,
        items: &[RequestedItem],
        case_ref: Option<&str>,
        now: Timestamp,
    ) -> Result<ApplicationResolution> {
        let mut log = Vec::new();
        let resolution = self
            .resolve_collecting(applicant, items, case_ref, now, &mut log)
            .await;
        // Every read of this resolution is logged in one transaction, refused or not.
        self.db.insert_access_log(&log).await?;
        resolution
    }

    /// [`App::resolve_materials`], with the access-log rows of its reads pushed to `log` for
    /// the caller to write (a submission writes them in its own transaction).
    pub(crate) async fn resolve_collecting(
        &self,
        applicant: &Applicant,
        items: &[RequestedItem],
        case_ref: Option<&str>,
        now: Timestamp,
        log: &mut Vec<AccessLogEntry>,
    ) -> Result<ApplicationResolution> {
        let today = crate::china_today(now);
        if items.is_empty() || items.len() > MAX_ITEMS {
            let e = ResolutionError::ItemCount { max: MAX_ITEMS };
            return Err(AppError::Rejected(vec![FieldProblem::new("items", &e)]));
        }
        // Every item and situation is checked before anything is read: a refused request
        // reads no one's data.
        let mut problems = Vec::new();
        let mut chosen = Vec::with_capacity(items.len());
        for (i, requested) in items.iter().enumerate() {
            let item = self.decoded_item(&requested.item).await?;
            match resolution::pick_situation(&item, requested.situation.as_deref()) {
                Ok(situation) => chosen.push((item, situation)),
                Err(e) => problems.push(FieldProblem::new(format!("items[{i}].situation"), &e)),
            }
        }
        if !problems.is_empty() {
            return Err(AppError::Rejected(problems));
        }
        let certificates = self.held_certificates(applicant, today).await?;
        let mut prior: Vec<PriorOutput> = Vec::new();
        let mut out = Vec::with_capacity(items.len());
        for (item, situation) in chosen {
            let item: &ServiceItem = &item;
            let resources = resolution::resources_to_read(item, &situation);
            let data = self
                .read_for_resolution(item, &resources, applicant, case_ref, now, log)
                .await?;
            let materials = resolution::resolve(
                item,
                &situation,
                Facts {
                    certificates: &certificates,
                    data: &data,
                    prior: &prior,
                },
            );
            out.push(ItemResolution {
                item: item.implementation_code.clone(),
                item_name: item.name.clone(),
                complete: resolution::complete(&materials),
                situation: situation.code,
                situation_name: situation.name,
                materials,
            });
            prior.push(PriorOutput {
                item: item.implementation_code.clone(),
                item_name: item.name.clone(),
                certificate_type: item.result.certificate_type.clone(),
            });
        }
        let count = |s: MaterialStatus| {
            out.iter()
                .flat_map(|i| &i.materials)
                .filter(|m| m.status == s)
                .count()
        };
        Ok(ApplicationResolution {
            uploads_needed: count(MaterialStatus::Missing),
            stale: count(MaterialStatus::Stale),
            resolved: count(MaterialStatus::Resolved),
            complete: out.iter().all(|i| i.complete),
            items: out,
        })
    }

    /// The one-ID completion rate (一证通办率) of the current catalog.
    pub async fn one_id_rate(&self, now: Timestamp) -> Result<OneIdRate> {
        let today = crate::china_today(now);
        let items = self.db.current_items().await?;
        let caps = Capabilities {
            certificate_types: self.known_certificate_types().await?,
            item_grants: self
                .live_item_grants(SERVICE_APPLICATION_PURPOSE, today)
                .await?,
            items: items
                .iter()
                .map(|i| i.implementation_code.clone())
                .collect::<BTreeSet<_>>(),
        };
        Ok(resolution::one_id_rate(items.iter(), &caps))
    }
}

impl App {
    /// The applicant's certificates with their status on `today` (one indexed query).
    async fn held_certificates(
        &self,
        applicant: &Applicant,
        today: Date,
    ) -> Result<Vec<HeldCertificate>> {
        let kind = match applicant {
            Applicant::Person(_) => HolderKind::Person,
            Applicant::Organisation(_) => HolderKind::Organisation,
        };
        let rows = self
            .db
            .holder_certificates(kind, applicant.subject(), today)
            .await?;
        Ok(rows
            .into_iter()
            .map(|c| HeldCertificate {
                status: c.status,
                certificate_type: c.type_code,
                identifier: c.id,
                valid_until: c.valid_until,
            })
            .collect())
    }

    /// Certificate types the certificate library issues.
    async fn known_certificate_types(&self) -> Result<BTreeSet<String>> {
        Ok(self
            .db
            .certificate_types()
            .await?
            .into_iter()
            .map(|t| t.code)
            .collect())
    }
}

impl App {
    /// Reads the shared data resources about the applicant for `item`, through the item's
    /// grants with the application purpose (one access-log entry per read, made by the read;
    /// a few queries for all of them). Refusals and missing records are outcomes, not errors:
    /// the material is then to be uploaded.
    async fn read_for_resolution(
        &self,
        item: &ServiceItem,
        resources: &[String],
        applicant: &Applicant,
        case_ref: Option<&str>,
        now: Timestamp,
        log: &mut Vec<AccessLogEntry>,
    ) -> Result<BTreeMap<String, DataOutcome>> {
        if resources.is_empty() {
            return Ok(BTreeMap::new());
        }
        let consumer = Consumer::Item(item.implementation_code.clone());
        let read = DataRead {
            consumer: &consumer,
            subject: applicant.subject(),
            purpose: SERVICE_APPLICATION_PURPOSE,
            case_ref,
        };
        let codes: Vec<&str> = resources.iter().map(String::as_str).collect();
        let reads = self.read_many_logged(&read, &codes, now, log).await?;
        let mut data = BTreeMap::new();
        for (resource, read) in resources.iter().zip(reads) {
            let outcome = match read {
                Ok(_) => DataOutcome::Found,
                Err(AppError::NotFound {
                    kind: "data_record",
                    ..
                }) => DataOutcome::NoRecord,
                Err(AppError::NotFound { .. }) => DataOutcome::Refused {
                    code: "not_found".into(),
                },
                Err(
                    e @ (AppError::Refused { .. }
                    | AppError::Rejected(_)
                    | AppError::RateLimited { .. }),
                ) => DataOutcome::Refused {
                    code: e.code().into(),
                },
                Err(e) => return Err(e),
            };
            data.insert(resource.clone(), outcome);
        }
        Ok(data)
    }

    /// `(item, resource)` pairs for which the item holds a live grant with `purpose`.
    async fn live_item_grants(
        &self,
        purpose: &str,
        today: Date,
    ) -> Result<BTreeSet<(String, String)>> {
        Ok(self
            .db
            .grants(None, None)
            .await?
            .into_iter()
            .filter(|g| g.purpose == purpose && g.is_live(today))
            .filter_map(|g| match g.consumer {
                Consumer::Item(item) => Some((item, g.resource)),
                Consumer::Client(_) => None,
            })
            .collect())
    }
}
