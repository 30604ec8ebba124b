//! Material auto-resolution (一证通办): which of an application's materials the platform can
//! supply itself, and from where.
//!
//! A material is resolved from one of three sources, in this order of preference:
//! 1. **the output of an earlier item in the same application** (a bundle member that issues the
//!    certificate, or the item a `BundleOutput` material names), so that, say, the birth medical
//!    certificate issued by the first member of the birth bundle feeds household registration;
//! 2. **the applicant's valid electronic certificate** of the material's type;
//! 3. **a shared data resource** read through the item's grant whose purpose is the application
//!    ([`crate::sharing::SERVICE_APPLICATION_PURPOSE`]).
//!
//! Anything else is *missing* (the applicant uploads it) or *stale* (the applicant holds a
//! certificate of that type, but it expired or was revoked). The rules here are pure: the use case
//! gathers the facts (the applicant's certificates, the outcome of each data read, the items
//! earlier in the application) and passes them in.
//!
//! The one-ID completion rate (一证通办率) asks the same question without an applicant: could the
//! platform resolve every required material of a situation from the ID number alone, given which
//! certificate types exist, which resources are shared and granted to the item, and which items
//! exist? See [`one_id_rate`].

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use serde::Serialize;

use crate::Localized;
use crate::catalog::{Material, MaterialSource, ServiceItem, Situation};
use crate::certificate::CertificateStatus;

/// A certificate the applicant holds, as far as resolution needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldCertificate {
    /// Certificate type code, e.g. `ID_CARD`.
    pub certificate_type: String,
    /// GB/T 36904 identifier.
    pub identifier: String,
    /// Status today.
    pub status: CertificateStatus,
    /// Last day of validity; `None` for long-term certificates.
    pub valid_until: Option<Date>,
}

/// What reading one shared data resource about the applicant gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataOutcome {
    /// The provider holds a record, and the item's grant allowed the read.
    Found,
    /// The read was allowed, but the provider holds no record of the applicant.
    NoRecord,
    /// The read was refused (no grant, grant expired, not shared…); `code` is the problem code.
    Refused {
        /// Stable problem code of the refusal.
        code: String,
    },
}

/// An item earlier in the same application, whose result later items may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorOutput {
    /// Implementation code of the earlier item.
    pub item: String,
    /// Name of the earlier item.
    pub item_name: String,
    /// Certificate type its result is, if it issues a certificate.
    pub certificate_type: Option<String>,
}

/// The facts resolution works from.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// The applicant's certificates.
    pub certificates: &'a [HeldCertificate],
    /// The outcome of reading each shared data resource (by resource code) about the applicant.
    pub data: &'a BTreeMap<String, DataOutcome>,
    /// Items earlier in the application.
    pub prior: &'a [PriorOutput],
}

/// Where a resolved material comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ResolvedSource {
    /// The applicant's electronic certificate.
    Certificate {
        /// Certificate type code.
        certificate_type: String,
        /// Its GB/T 36904 identifier.
        identifier: String,
    },
    /// A shared data resource, read through the item's grant.
    SharedData {
        /// Data resource code.
        resource: String,
    },
    /// The result of an earlier item of the same application.
    ItemOutput {
        /// Implementation code of that item.
        item: String,
        /// Its name.
        item_name: String,
    },
}

/// Resolved, missing or stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialStatus {
    /// The platform supplies it.
    Resolved,
    /// The applicant must upload or hand it in.
    Missing,
    /// The applicant holds it, but it cannot be used (expired or revoked).
    Stale,
}

/// Why a material is missing or stale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Gap {
    /// The material is always supplied by the applicant.
    UploadRequired,
    /// The applicant holds no certificate of this type.
    NoCertificate {
        /// Certificate type code.
        certificate_type: String,
    },
    /// The applicant's certificate of this type expired.
    CertificateExpired {
        /// Its identifier.
        identifier: String,
        /// Its last valid day.
        valid_until: Option<Date>,
    },
    /// The applicant's certificate of this type was revoked.
    CertificateRevoked {
        /// Its identifier.
        identifier: String,
    },
    /// The provider holds no record of the applicant.
    NoRecord {
        /// Data resource code.
        resource: String,
    },
    /// The item may not read the resource (the refusal's problem code says why).
    AccessRefused {
        /// Data resource code.
        resource: String,
        /// The refusal's problem code.
        refusal: String,
    },
    /// The material is another item's result, and that item is not part of this application.
    OutputNotInApplication {
        /// Implementation code of the producing item.
        item: String,
    },
}

impl Gap {
    /// Message in Simplified Chinese, for the applicant.
    pub fn message_zh(&self) -> String {
        match self {
            Gap::UploadRequired => "需由申请人上传或提交".into(),
            Gap::NoCertificate { .. } => "未找到您名下的该类电子证照，请上传".into(),
            Gap::CertificateExpired { valid_until, .. } => match valid_until {
                Some(d) => format!("您的电子证照已于 {d} 过期，请先换领或上传有效证件"),
                None => "您的电子证照已过期，请先换领或上传有效证件".into(),
            },
            Gap::CertificateRevoked { .. } => "您的电子证照已被注销，请上传有效证件".into(),
            Gap::NoRecord { .. } => "数据提供部门没有您的相关记录，请上传".into(),
            Gap::AccessRefused { .. } => "本事项暂未获得该数据的共享授权，请上传".into(),
            Gap::OutputNotInApplication { .. } => {
                "该材料为其他事项的办理结果，请一并申请该事项或上传".into()
            }
        }
    }

    /// Message in English.
    pub fn message_en(&self) -> String {
        match self {
            Gap::UploadRequired => "The applicant uploads or hands this in.".into(),
            Gap::NoCertificate { .. } => {
                "No electronic certificate of this type is held in your name; please upload it."
                    .into()
            }
            Gap::CertificateExpired { valid_until, .. } => match valid_until {
                Some(d) => format!(
                    "Your electronic certificate expired on {d}; renew it or upload a valid one."
                ),
                None => "Your electronic certificate has expired; renew it or upload a valid one."
                    .into(),
            },
            Gap::CertificateRevoked { .. } => {
                "Your electronic certificate was revoked; please upload a valid one.".into()
            }
            Gap::NoRecord { .. } => {
                "The providing department holds no record of you; please upload it.".into()
            }
            Gap::AccessRefused { .. } => {
                "This service is not yet authorised to use that data; please upload it.".into()
            }
            Gap::OutputNotInApplication { .. } => {
                "This is the result of another service: apply for it as well, or upload it.".into()
            }
        }
    }
}

/// The resolution of one material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MaterialResolution {
    /// Material id within its item.
    pub material: String,
    /// Material name.
    pub name: String,
    /// Whether the situation requires it.
    pub required: bool,
    /// Resolved, missing or stale.
    pub status: MaterialStatus,
    /// Where it comes from, when resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<ResolvedSource>,
    /// Why not, when missing or stale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap: Option<Gap>,
}

/// Resolution refused for the request as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolutionError {
    /// The item has no situation of that code.
    #[error("unknown situation {situation} of item {item}")]
    UnknownSituation {
        /// Implementation code.
        item: String,
        /// The situation code asked for.
        situation: String,
    },
    /// The item has several situations and none was named.
    #[error("item {item} needs a situation")]
    SituationRequired {
        /// Implementation code.
        item: String,
    },
    /// An application names no items, or more than `max`.
    #[error("between 1 and {max} items")]
    ItemCount {
        /// Most items one application may name.
        max: usize,
    },
}

impl Localized for ResolutionError {
    fn code(&self) -> &'static str {
        match self {
            ResolutionError::UnknownSituation { .. } => "situation_unknown",
            ResolutionError::SituationRequired { .. } => "situation_required",
            ResolutionError::ItemCount { .. } => "resolution_items_count",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            ResolutionError::UnknownSituation { item, situation } => {
                format!("事项 {item} 没有办理情形 {situation}")
            }
            ResolutionError::SituationRequired { item } => {
                format!("事项 {item} 有多种办理情形，请选择一种")
            }
            ResolutionError::ItemCount { max } => format!("请列出 1 至 {max} 个事项"),
        }
    }

    fn message_en(&self) -> String {
        match self {
            ResolutionError::UnknownSituation { item, situation } => {
                format!("Item {item} has no situation {situation}.")
            }
            ResolutionError::SituationRequired { item } => {
                format!("Item {item} has several situations; choose one.")
            }
            ResolutionError::ItemCount { max } => format!("List between 1 and {max} items."),
        }
    }
}

/// The situation of `item` an application names: the given code, or the only situation the
/// item has when none is given.
pub fn pick_situation(
    item: &ServiceItem,
    situation: Option<&str>,
) -> Result<Situation, ResolutionError> {
    let mut situations = item.effective_situations();
    match situation {
        Some(code) => situations
            .into_iter()
            .find(|s| s.code == code)
            .ok_or_else(|| ResolutionError::UnknownSituation {
                item: item.implementation_code.clone(),
                situation: code.to_string(),
            }),
        None if situations.len() == 1 => Ok(situations.remove(0)),
        None => Err(ResolutionError::SituationRequired {
            item: item.implementation_code.clone(),
        }),
    }
}

/// The materials of `situation`, in the item's order.
pub fn situation_materials<'a>(
    item: &'a ServiceItem,
    situation: &Situation,
) -> impl Iterator<Item = &'a Material> {
    let wanted: BTreeSet<String> = situation.materials.iter().cloned().collect();
    item.materials
        .iter()
        .filter(move |m| wanted.contains(&m.id))
}

/// The shared data resources reading `situation`'s materials needs, each once, unless an
/// earlier item already supplies them. Only these are read, so every read is one needed access.
pub fn resources_to_read(item: &ServiceItem, situation: &Situation) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in situation_materials(item, situation) {
        if let MaterialSource::SharedData { resource } = &m.source
            && !out.contains(resource)
        {
            out.push(resource.clone());
        }
    }
    out
}

/// Resolves every material of `situation` from `facts`.
pub fn resolve(
    item: &ServiceItem,
    situation: &Situation,
    facts: Facts<'_>,
) -> Vec<MaterialResolution> {
    situation_materials(item, situation)
        .map(|m| resolve_material(m, facts))
        .collect()
}

fn resolved(m: &Material, source: ResolvedSource) -> MaterialResolution {
    MaterialResolution {
        material: m.id.clone(),
        name: m.name.clone(),
        required: m.required,
        status: MaterialStatus::Resolved,
        source: Some(source),
        gap: None,
    }
}

fn unresolved(m: &Material, status: MaterialStatus, gap: Gap) -> MaterialResolution {
    MaterialResolution {
        material: m.id.clone(),
        name: m.name.clone(),
        required: m.required,
        status,
        source: None,
        gap: Some(gap),
    }
}

fn output_source(p: &PriorOutput) -> ResolvedSource {
    ResolvedSource::ItemOutput {
        item: p.item.clone(),
        item_name: p.item_name.clone(),
    }
}

/// Resolves one material.
pub fn resolve_material(m: &Material, facts: Facts<'_>) -> MaterialResolution {
    match &m.source {
        MaterialSource::Upload => unresolved(m, MaterialStatus::Missing, Gap::UploadRequired),
        MaterialSource::BundleOutput { item } => {
            match facts.prior.iter().find(|p| &p.item == item) {
                Some(p) => resolved(m, output_source(p)),
                None => unresolved(
                    m,
                    MaterialStatus::Missing,
                    Gap::OutputNotInApplication { item: item.clone() },
                ),
            }
        }
        MaterialSource::Certificate { certificate_type } => {
            if let Some(p) = facts
                .prior
                .iter()
                .find(|p| p.certificate_type.as_deref() == Some(certificate_type.as_str()))
            {
                return resolved(m, output_source(p));
            }
            let held = facts
                .certificates
                .iter()
                .filter(|c| &c.certificate_type == certificate_type);
            // Prefer a valid certificate, the one valid longest (long-term counts as longest);
            // otherwise report the most recently valid one as stale.
            let best = held
                .clone()
                .filter(|c| c.status == CertificateStatus::Valid)
                .max_by(|a, b| match (a.valid_until, b.valid_until) {
                    (None, None) => std::cmp::Ordering::Equal,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (Some(x), Some(y)) => x.cmp(&y),
                });
            if let Some(c) = best {
                return resolved(
                    m,
                    ResolvedSource::Certificate {
                        certificate_type: certificate_type.clone(),
                        identifier: c.identifier.clone(),
                    },
                );
            }
            match held.max_by_key(|c| c.valid_until) {
                Some(c) if c.status == CertificateStatus::Revoked => unresolved(
                    m,
                    MaterialStatus::Stale,
                    Gap::CertificateRevoked {
                        identifier: c.identifier.clone(),
                    },
                ),
                Some(c) => unresolved(
                    m,
                    MaterialStatus::Stale,
                    Gap::CertificateExpired {
                        identifier: c.identifier.clone(),
                        valid_until: c.valid_until,
                    },
                ),
                None => unresolved(
                    m,
                    MaterialStatus::Missing,
                    Gap::NoCertificate {
                        certificate_type: certificate_type.clone(),
                    },
                ),
            }
        }
        MaterialSource::SharedData { resource } => match facts.data.get(resource) {
            Some(DataOutcome::Found) => resolved(
                m,
                ResolvedSource::SharedData {
                    resource: resource.clone(),
                },
            ),
            Some(DataOutcome::NoRecord) => unresolved(
                m,
                MaterialStatus::Missing,
                Gap::NoRecord {
                    resource: resource.clone(),
                },
            ),
            Some(DataOutcome::Refused { code }) => unresolved(
                m,
                MaterialStatus::Missing,
                Gap::AccessRefused {
                    resource: resource.clone(),
                    refusal: code.clone(),
                },
            ),
            None => unresolved(
                m,
                MaterialStatus::Missing,
                Gap::AccessRefused {
                    resource: resource.clone(),
                    refusal: "not_read".into(),
                },
            ),
        },
    }
}

/// Whether every required material is resolved: nothing to upload, nothing stale.
pub fn complete(resolutions: &[MaterialResolution]) -> bool {
    resolutions
        .iter()
        .all(|r| !r.required || r.status == MaterialStatus::Resolved)
}

/// What the platform could use to resolve materials from the ID number alone.
#[derive(Debug, Clone, Default)]
pub struct Capabilities {
    /// Certificate types the certificate library issues.
    pub certificate_types: BTreeSet<String>,
    /// `(item implementation code, resource code)` pairs for which the item holds a live grant
    /// with the application purpose on a resource that is shared.
    pub item_grants: BTreeSet<(String, String)>,
    /// Implementation codes of the items in the catalog.
    pub items: BTreeSet<String>,
}

/// Whether the platform can resolve `m`, a material of `item`, from the ID number alone.
pub fn resolvable_by_id(item: &ServiceItem, m: &Material, caps: &Capabilities) -> bool {
    match &m.source {
        MaterialSource::Upload => false,
        MaterialSource::Certificate { certificate_type } => {
            caps.certificate_types.contains(certificate_type)
        }
        MaterialSource::SharedData { resource } => caps
            .item_grants
            .contains(&(item.implementation_code.clone(), resource.clone())),
        MaterialSource::BundleOutput { item } => caps.items.contains(item),
    }
}

/// Counts of items or situations, and how many of them are one-ID complete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Items counted.
    pub items: u32,
    /// Items whose every situation is one-ID complete.
    pub items_complete: u32,
    /// Situations counted.
    pub situations: u32,
    /// Situations whose every required material resolves from the ID alone.
    pub situations_complete: u32,
}

impl Tally {
    /// Share of items complete, 0 when there are none.
    pub fn item_rate(&self) -> f64 {
        ratio(self.items_complete, self.items)
    }

    /// Share of situations complete, 0 when there are none.
    pub fn situation_rate(&self) -> f64 {
        ratio(self.situations_complete, self.situations)
    }

    fn add(&mut self, other: Tally) {
        self.items += other.items;
        self.items_complete += other.items_complete;
        self.situations += other.situations;
        self.situations_complete += other.situations_complete;
    }
}

fn ratio(n: u32, d: u32) -> f64 {
    if d == 0 {
        0.0
    } else {
        f64::from(n) / f64::from(d)
    }
}

/// The one-ID completion of one item.
pub fn tally_item(item: &ServiceItem, caps: &Capabilities) -> Tally {
    let situations = item.effective_situations();
    let complete = situations
        .iter()
        .filter(|s| {
            situation_materials(item, s)
                .filter(|m| m.required)
                .all(|m| resolvable_by_id(item, m, caps))
        })
        .count();
    let total = u32::try_from(situations.len()).unwrap_or(u32::MAX);
    let complete = u32::try_from(complete).unwrap_or(u32::MAX);
    Tally {
        items: 1,
        items_complete: u32::from(complete == total),
        situations: total,
        situations_complete: complete,
    }
}

/// The one-ID completion rate (一证通办率) over `items`: overall, by division and by department.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OneIdRate {
    /// Over all items.
    pub total: Tally,
    /// By division code.
    pub by_division: BTreeMap<String, Tally>,
    /// By department credit code.
    pub by_department: BTreeMap<String, Tally>,
}

/// Computes the one-ID completion rate over `items`.
pub fn one_id_rate<'a>(
    items: impl IntoIterator<Item = &'a ServiceItem>,
    caps: &Capabilities,
) -> OneIdRate {
    let mut out = OneIdRate::default();
    for item in items {
        let t = tally_item(item, caps);
        out.total.add(t);
        out.by_division
            .entry(item.division_code.clone())
            .or_default()
            .add(t);
        out.by_department
            .entry(item.department_code.clone())
            .or_default()
            .add(t);
    }
    out
}
