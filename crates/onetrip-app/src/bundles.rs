//! One-thing bundles (一件事): publication (checked against the catalog, versioned), listing,
//! the questionnaire's selection, the prefilled unified form, and the reduction figures.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use onetrip_domain::Localized;
use onetrip_domain::bundle::{
    Bundle, BundleProblem, Items, Reduction, Selection, certificate_fields,
};
use onetrip_domain::certificate::HolderKind;
use onetrip_domain::form::{AccountAttribute, FormSchema, FormValues, Prefill};
use onetrip_domain::sharing::{Consumer, SERVICE_APPLICATION_PURPOSE};
use onetrip_store::{BundleSummary, StoredBundle};
use serde::Serialize;
use serde_json::Value;

use crate::cases::ApplicantFacts;
use crate::resolution::Applicant;
use crate::{App, AppError, FieldProblem, Result, china_today};

/// A bundle with what applicants see about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BundleView {
    /// Version.
    pub version: i64,
    /// The definition.
    pub bundle: Bundle,
    /// Names of the member items, by member key.
    pub member_names: BTreeMap<String, String>,
    /// The reduction figures.
    pub reduction: Reduction,
}

/// The questionnaire's outcome: what applies and the form to fill in, prefilled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prepared {
    /// Members, situations and merged materials that apply.
    pub selection: Selection,
    /// The unified form.
    pub form: FormSchema,
    /// Prefilled values, by field key.
    pub prefill: FormValues,
    /// Where each prefilled value came from, by field key (`account`, `certificate:TYPE`,
    /// `data:RESOURCE`).
    pub prefill_sources: BTreeMap<String, String>,
}

/// An item's own form prefilled for an applicant (an application for the item alone).
#[derive(Debug, Clone, Serialize)]
pub struct PreparedItem {
    /// Implementation code of the item.
    pub item: String,
    /// The item's form; `None` when it asks for nothing beyond its materials (then the
    /// application's `form` must be empty).
    pub form: Option<FormSchema>,
    /// Prefilled values, by field key.
    pub prefill: FormValues,
    /// Where each prefilled value came from, by field key (`account`, `certificate:TYPE`,
    /// `data:RESOURCE`).
    pub prefill_sources: BTreeMap<String, String>,
}

fn problems(list: &[BundleProblem]) -> AppError {
    AppError::Rejected(
        list.iter()
            .map(|p| FieldProblem::new(p.path.clone(), p))
            .collect(),
    )
}

/// Most decoded bundle versions kept in memory at once.
const BUNDLE_CACHE_CAPACITY: usize = 256;

/// Decoded bundle versions by code (the last version read of each). Bounded: when full it
/// starts over, like the item cache.
#[derive(Debug, Default)]
pub(crate) struct BundleCache {
    entries: RwLock<HashMap<String, Arc<StoredBundle>>>,
}

impl BundleCache {
    /// The decoded bundle `code` if the one kept is `version`.
    pub(crate) fn get(&self, code: &str, version: i64) -> Option<Arc<StoredBundle>> {
        self.entries
            .read()
            .ok()?
            .get(code)
            .filter(|b| b.version == version)
            .cloned()
    }

    /// Keeps a decoded version (replacing the one kept for its code).
    pub(crate) fn put(&self, code: &str, stored: Arc<StoredBundle>) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= BUNDLE_CACHE_CAPACITY {
                entries.clear();
            }
            entries.insert(code.to_string(), stored);
        }
    }
}

impl App {
    /// The current items a bundle's members name.
    async fn bundle_items(&self, bundle: &Bundle) -> Result<Items> {
        Ok(self.member_items(bundle).await?.0)
    }

    /// The current items a bundle's members name, with their version numbers; members whose
    /// item is missing are left out (publication reports them).
    pub async fn member_items(&self, bundle: &Bundle) -> Result<(Items, BTreeMap<String, i64>)> {
        let mut items = Items::new();
        let mut versions = BTreeMap::new();
        for m in &bundle.members {
            if let Ok((item, version)) = self.service_item(&m.item).await {
                versions.insert(m.item.clone(), version);
                items.insert(m.item.clone(), item);
            }
        }
        Ok((items, versions))
    }

    /// Publishes a bundle: every problem of the definition against the current catalog is
    /// listed at once; a valid bundle gets a new version when it changed.
    pub async fn publish_bundle(&self, bundle: &Bundle, now: Timestamp) -> Result<(i64, bool)> {
        self.check_bundle(bundle).await?;
        Ok(self.db.save_bundle(bundle, now).await?)
    }

    /// Checks a bundle definition against the catalog and the certificate types without
    /// publishing it: every problem at once (`AppError::Rejected`).
    pub async fn check_bundle(&self, bundle: &Bundle) -> Result<()> {
        let items = self.bundle_items(bundle).await?;
        let types = self.certificate_types().await?;
        let found = bundle.check(&items, &certificate_fields(&types));
        if found.is_empty() {
            Ok(())
        } else {
            Err(problems(&found))
        }
    }

    /// Every bundle.
    pub async fn bundles(&self) -> Result<Vec<BundleSummary>> {
        Ok(self.db.bundles().await?)
    }

    /// A bundle's current version with its member names and reduction figures.
    pub async fn bundle_view(&self, code: &str) -> Result<BundleView> {
        let stored = self.stored_bundle(code).await?;
        let (version, bundle) = (stored.version, stored.bundle.clone());
        let items = self.bundle_items(&bundle).await?;
        let member_names = bundle
            .members
            .iter()
            .map(|m| {
                let name = items
                    .get(&m.item)
                    .map(|i| i.name.clone())
                    .unwrap_or_default();
                (m.key.clone(), name)
            })
            .collect();
        let reduction = bundle.reduction(&items);
        Ok(BundleView {
            version,
            bundle,
            member_names,
            reduction,
        })
    }

    /// Answers the questionnaire: the members, situations and merged materials that apply, and
    /// the unified form prefilled for the applicant from their account, their valid
    /// certificates and the shared data the members may read (each read logged).
    pub async fn prepare_bundle(
        &self,
        code: &str,
        applicant: &ApplicantFacts,
        answers: &FormValues,
        now: Timestamp,
    ) -> Result<Prepared> {
        let stored = self.stored_bundle(code).await?;
        let items = self.bundle_items(&stored.bundle).await?;
        let selection = stored
            .bundle
            .select(answers, &items)
            .map_err(answer_problems)?;
        let consumers: Vec<String> = selection.members.iter().map(|m| m.item.clone()).collect();
        let (mut prefill, mut prefill_sources) = self
            .prefill(&stored.bundle.form, applicant, &consumers, now)
            .await?;
        // Tell once: answers fill the form fields of the same key.
        for (k, v) in answers {
            if stored.bundle.form.field(k).is_some() {
                prefill.insert(k.clone(), v.clone());
                prefill_sources.insert(k.clone(), "questionnaire".to_string());
            }
        }
        Ok(Prepared {
            selection,
            form: stored.bundle.form.clone(),
            prefill,
            prefill_sources,
        })
    }

    /// An item's own form, prefilled for the applicant like a bundle's (each shared-data read
    /// made under the item's grants and logged).
    pub async fn prepare_item(
        &self,
        code: &str,
        applicant: &ApplicantFacts,
        now: Timestamp,
    ) -> Result<PreparedItem> {
        let (item, _) = self.decoded_item_version(code).await?;
        let (prefill, prefill_sources) = match &item.form {
            Some(form) => {
                self.prefill(
                    form,
                    applicant,
                    std::slice::from_ref(&item.implementation_code),
                    now,
                )
                .await?
            }
            None => (FormValues::new(), BTreeMap::new()),
        };
        Ok(PreparedItem {
            item: item.implementation_code.clone(),
            form: item.form.clone(),
            prefill,
            prefill_sources,
        })
    }

    /// Prefills a form's fields that name a source. `consumers` are the items whose grants
    /// may be used to read shared data.
    pub async fn prefill(
        &self,
        form: &FormSchema,
        applicant: &ApplicantFacts,
        consumers: &[String],
        now: Timestamp,
    ) -> Result<(FormValues, BTreeMap<String, String>)> {
        let today = china_today(now);
        let mut values = FormValues::new();
        let mut sources = BTreeMap::new();
        let subject = applicant.applicant.subject().to_string();
        let mut certificates: Option<Vec<onetrip_store::CertificateRow>> = None;
        let mut data: BTreeMap<String, Option<onetrip_store::Record>> = BTreeMap::new();
        let person = match (&applicant.applicant, &applicant.account) {
            (Applicant::Person(_), Some(account)) => self.db.person_by_id(account.as_str()).await?,
            _ => None,
        };
        for field in form.fields() {
            let Some(prefill) = &field.prefill else {
                continue;
            };
            let (value, source) = match prefill {
                Prefill::Account { attribute } => {
                    let v = match (attribute, &applicant.applicant) {
                        (AccountAttribute::Name, Applicant::Person(_)) => {
                            Some(applicant.name.clone())
                        }
                        (AccountAttribute::ResidentId, Applicant::Person(id)) => Some(id.clone()),
                        (AccountAttribute::Phone, _) => person.as_ref().map(|p| p.phone.clone()),
                        (AccountAttribute::OrganisationName, Applicant::Organisation(_)) => {
                            Some(applicant.name.clone())
                        }
                        (AccountAttribute::CreditCode, Applicant::Organisation(code)) => {
                            Some(code.clone())
                        }
                        _ => None,
                    };
                    (v.map(Value::String), "account".to_string())
                }
                Prefill::Certificate {
                    certificate_type,
                    field: key,
                } => {
                    if certificates.is_none() {
                        let kind = match applicant.applicant {
                            Applicant::Person(_) => HolderKind::Person,
                            Applicant::Organisation(_) => HolderKind::Organisation,
                        };
                        certificates = Some(self.db.certificates_of_holder(kind, &subject).await?);
                    }
                    let v = certificates.as_ref().and_then(|list| {
                        list.iter()
                            .filter(|c| &c.type_code == certificate_type)
                            .filter(|c| {
                                c.status_on(today)
                                    == onetrip_domain::certificate::CertificateStatus::Valid
                            })
                            .max_by_key(|c| c.issued_on)
                            .and_then(|c| c.content.get(key).cloned())
                    });
                    (v, format!("certificate:{certificate_type}"))
                }
                Prefill::SharedData {
                    resource,
                    field: key,
                } => {
                    if !data.contains_key(resource) {
                        let mut record = None;
                        for item in consumers {
                            match self
                                .read_shared_data(
                                    &Consumer::Item(item.clone()),
                                    resource,
                                    &subject,
                                    SERVICE_APPLICATION_PURPOSE,
                                    None,
                                    now,
                                )
                                .await
                            {
                                Ok(read) => {
                                    record = Some(read.fields);
                                    break;
                                }
                                Err(AppError::RateLimited { .. }) => break,
                                Err(_) => continue,
                            }
                        }
                        data.insert(resource.clone(), record);
                    }
                    let v = data
                        .get(resource)
                        .and_then(|r| r.as_ref())
                        .and_then(|r| r.get(key).cloned());
                    (v, format!("data:{resource}"))
                }
            };
            if let Some(v) = value.filter(|v| !v.is_null()) {
                values.insert(field.key.clone(), v);
                sources.insert(field.key.clone(), source);
            }
        }
        Ok((values, sources))
    }

    /// A bundle's reduction figures.
    pub async fn bundle_reduction(&self, code: &str) -> Result<Reduction> {
        Ok(self.bundle_view(code).await?.reduction)
    }

    /// Loads the demo bundles (data/demo/bundles/*.yaml, embedded) when none exist. Each must
    /// pass the bundle rules against the demo catalog.
    pub async fn load_demo_bundles_if_empty(&self, now: Timestamp) -> Result<usize> {
        if !self.db.bundles().await?.is_empty() {
            return Ok(0);
        }
        let mut n = 0;
        for (name, text) in crate::demo_bundles() {
            let bundle: Bundle = serde_norway::from_str(text)
                .map_err(|e| AppError::Unreadable(format!("{name}: {e}")))?;
            self.publish_bundle(&bundle, now)
                .await
                .map_err(|e| AppError::Internal(format!("demo bundle {name}: {}", describe(&e))))?;
            n += 1;
        }
        Ok(n)
    }
}

/// The questionnaire's problems as one rejection, each under `answers`.
pub(crate) fn answer_problems(errors: Vec<onetrip_domain::bundle::AnswerProblem>) -> AppError {
    AppError::Rejected(
        errors
            .iter()
            .map(|e| FieldProblem::new("answers", e))
            .collect(),
    )
}

fn describe(e: &AppError) -> String {
    match e {
        AppError::Rejected(list) => list
            .iter()
            .map(|p| format!("{} {}", p.path, p.message_en()))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}
