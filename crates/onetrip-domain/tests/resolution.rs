//! Material auto-resolution rules (一证通办): sources, their precedence, stale certificates, and
//! the one-ID completion rate, on the demo catalog and on generated materials.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::date;
use onetrip_domain::catalog::{Catalog, Material, MaterialForm, MaterialSource, ServiceItem};
use onetrip_domain::certificate::CertificateStatus;
use onetrip_domain::resolution::{
    Capabilities, DataOutcome, Facts, Gap, HeldCertificate, MaterialStatus, PriorOutput,
    ResolvedSource, complete, one_id_rate, pick_situation, resolve, resolve_material,
    resources_to_read, tally_item,
};
use proptest::prelude::*;

const DEMO: &str = include_str!("../../../data/demo/catalog.yaml");
static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
const BIRTH_REGISTRATION: &str = "1133010600425119XW070010007000";
const BIRTH_MEDICAL: &str = "11330100000897962X070060001000";
const RESALE_TRANSFER: &str = "113301000839917858070040001001";

fn catalog() -> &'static Catalog {
    CATALOG.get_or_init(|| serde_norway::from_str(DEMO).unwrap())
}

fn item(c: &Catalog, code: &str) -> ServiceItem {
    c.items
        .iter()
        .find(|i| i.implementation_code == code)
        .unwrap()
        .clone()
}

fn cert(t: &str, status: CertificateStatus, until: Option<jiff::civil::Date>) -> HeldCertificate {
    HeldCertificate {
        certificate_type: t.into(),
        identifier: format!("id-{t}-{status:?}-{until:?}"),
        status,
        valid_until: until,
    }
}

#[test]
fn birth_registration_resolves_from_the_birth_certificate_output_and_held_certificates() {
    let c = catalog();
    let it = item(c, BIRTH_REGISTRATION);
    let s = pick_situation(&it, Some("S01")).unwrap();
    let held = [
        cert("ID_CARD", CertificateStatus::Valid, Some(date(2035, 3, 14))),
        cert("HOUSEHOLD_REGISTER", CertificateStatus::Valid, None),
        cert("MARRIAGE_CERT", CertificateStatus::Valid, None),
    ];
    let prior = [PriorOutput {
        item: BIRTH_MEDICAL.into(),
        item_name: "出生医学证明签发".into(),
        certificate_type: Some("BIRTH_MEDICAL_CERT".into()),
    }];
    let data = BTreeMap::new();
    let facts = Facts {
        certificates: &held,
        data: &data,
        prior: &prior,
    };
    let r = resolve(&it, &s, facts);
    assert_eq!(r.len(), 4);
    assert!(complete(&r), "{r:#?}");
    assert_eq!(
        r[0].source,
        Some(ResolvedSource::ItemOutput {
            item: BIRTH_MEDICAL.into(),
            item_name: "出生医学证明签发".into()
        })
    );
    // Without the earlier item, the birth certificate is missing.
    let r = resolve(
        &it,
        &s,
        Facts {
            prior: &[],
            ..facts
        },
    );
    assert_eq!(r[0].status, MaterialStatus::Missing);
    assert_eq!(
        r[0].gap,
        Some(Gap::NoCertificate {
            certificate_type: "BIRTH_MEDICAL_CERT".into()
        })
    );
    assert!(!complete(&r));
}

#[test]
fn an_expired_certificate_is_stale_and_a_valid_one_of_the_same_type_wins() {
    let c = catalog();
    let it = item(c, BIRTH_REGISTRATION);
    let s = pick_situation(&it, Some("S01")).unwrap();
    let expired = cert(
        "ID_CARD",
        CertificateStatus::Expired,
        Some(date(2020, 1, 1)),
    );
    let data = BTreeMap::new();
    let held = [expired.clone()];
    let r = resolve(
        &it,
        &s,
        Facts {
            certificates: &held,
            data: &data,
            prior: &[],
        },
    );
    let id_card = r.iter().find(|m| m.material == "M02").unwrap();
    assert_eq!(id_card.status, MaterialStatus::Stale);
    assert_eq!(
        id_card.gap,
        Some(Gap::CertificateExpired {
            identifier: expired.identifier.clone(),
            valid_until: Some(date(2020, 1, 1)),
        })
    );
    let valid = cert("ID_CARD", CertificateStatus::Valid, Some(date(2040, 1, 1)));
    let held = [expired, valid.clone()];
    let r = resolve(
        &it,
        &s,
        Facts {
            certificates: &held,
            data: &data,
            prior: &[],
        },
    );
    let id_card = r.iter().find(|m| m.material == "M02").unwrap();
    assert_eq!(
        id_card.source,
        Some(ResolvedSource::Certificate {
            certificate_type: "ID_CARD".into(),
            identifier: valid.identifier
        })
    );
}

#[test]
fn real_estate_transfer_reads_contract_tax_marriage_and_household_data() {
    let c = catalog();
    let it = item(c, RESALE_TRANSFER);
    let s = pick_situation(&it, Some("S01")).unwrap();
    let wanted = resources_to_read(&it, &s);
    for r in [
        "HZ_RESALE_CONTRACT",
        "HZ_DEED_TAX_RECORD",
        "ZJ_MARRIAGE_RECORD",
        "ZJ_HOUSEHOLD_RECORD",
    ] {
        assert!(wanted.contains(&r.to_string()), "{r} not read: {wanted:?}");
    }
    let mut data: BTreeMap<String, DataOutcome> = wanted
        .iter()
        .map(|r| (r.clone(), DataOutcome::Found))
        .collect();
    let held = [
        cert("ID_CARD", CertificateStatus::Valid, None),
        cert("REAL_ESTATE_CERT", CertificateStatus::Valid, None),
    ];
    let facts = Facts {
        certificates: &held,
        data: &data,
        prior: &[],
    };
    assert!(complete(&resolve(&it, &s, facts)));
    data.insert(
        "HZ_DEED_TAX_RECORD".into(),
        DataOutcome::Refused {
            code: "grant_required".into(),
        },
    );
    let r = resolve(
        &it,
        &s,
        Facts {
            certificates: &held,
            data: &data,
            prior: &[],
        },
    );
    assert!(!complete(&r));
    assert!(r.iter().any(|m| m.gap
        == Some(Gap::AccessRefused {
            resource: "HZ_DEED_TAX_RECORD".into(),
            refusal: "grant_required".into()
        })));
}

#[test]
fn situations_are_named_or_implied() {
    let c = catalog();
    let it = item(c, BIRTH_REGISTRATION);
    assert_eq!(
        pick_situation(&it, None).unwrap_err().code_str(),
        "situation_required"
    );
    assert_eq!(
        pick_situation(&it, Some("S99")).unwrap_err().code_str(),
        "situation_unknown"
    );
    // An item with one situation needs none named.
    let single = item(c, BIRTH_MEDICAL);
    assert!(pick_situation(&single, None).is_ok());
}

trait CodeStr {
    fn code_str(&self) -> &'static str;
}

impl<T: onetrip_domain::Localized> CodeStr for T {
    fn code_str(&self) -> &'static str {
        self.code()
    }
}

#[test]
fn one_id_rate_counts_items_and_situations_by_division_and_department() {
    let c = catalog();
    let it = item(c, BIRTH_REGISTRATION);
    let mut caps = Capabilities::default();
    // Nothing known: S01 and S02 both need certificates.
    let t = tally_item(&it, &caps);
    assert_eq!((t.items, t.items_complete, t.situations), (1, 0, 2));
    assert_eq!(t.situations_complete, 0);
    caps.certificate_types = ["BIRTH_MEDICAL_CERT", "ID_CARD", "HOUSEHOLD_REGISTER"]
        .into_iter()
        .map(String::from)
        .collect();
    // S01's required materials are certificates (M04 is optional); S02's M05 is an optional
    // upload, so both are complete.
    let t = tally_item(&it, &caps);
    assert_eq!((t.items_complete, t.situations_complete), (1, 2));
    let rate = one_id_rate(c.items.iter(), &caps);
    assert_eq!(rate.total.items as usize, c.items.len());
    assert!(rate.total.item_rate() > 0.0 && rate.total.item_rate() < 1.0);
    assert!(rate.by_division["330106"].items_complete >= 1);
    let by_dept: u32 = rate.by_department.values().map(|t| t.items).sum();
    assert_eq!(by_dept, rate.total.items);
    let by_div: u32 = rate.by_division.values().map(|t| t.situations).sum();
    assert_eq!(by_div, rate.total.situations);
}

fn material(source: MaterialSource, required: bool) -> Material {
    Material {
        id: "M01".into(),
        name: "材料".into(),
        required,
        form: MaterialForm::Electronic,
        count: 1,
        source,
        deferrable: false,
        notes: None,
    }
}

fn arb_status() -> impl Strategy<Value = CertificateStatus> {
    prop_oneof![
        Just(CertificateStatus::Valid),
        Just(CertificateStatus::Expired),
        Just(CertificateStatus::Revoked)
    ]
}

fn arb_source() -> impl Strategy<Value = MaterialSource> {
    prop_oneof![
        Just(MaterialSource::Upload),
        "[AB]".prop_map(|t| MaterialSource::Certificate {
            certificate_type: t
        }),
        "[XY]".prop_map(|r| MaterialSource::SharedData { resource: r }),
        "[PQ]".prop_map(|i| MaterialSource::BundleOutput { item: i }),
    ]
}

fn arb_outcome() -> impl Strategy<Value = DataOutcome> {
    prop_oneof![
        Just(DataOutcome::Found),
        Just(DataOutcome::NoRecord),
        Just(DataOutcome::Refused {
            code: "grant_required".into()
        }),
    ]
}

proptest! {
    /// Resolved always names a source and no gap; missing and stale always name a gap; uploads
    /// are never resolved; a stale material means the applicant holds that type but no valid one;
    /// an earlier item's output wins over everything else.
    #[test]
    fn resolution_invariants(
        source in arb_source(),
        required in any::<bool>(),
        held in proptest::collection::vec(("[AB]", arb_status()), 0..4),
        data in proptest::collection::btree_map("[XY]", arb_outcome(), 0..2),
        prior in proptest::collection::vec(("[PQ]", proptest::option::of("[AB]")), 0..2),
    ) {
        let held: Vec<HeldCertificate> = held
            .into_iter()
            .enumerate()
            .map(|(i, (t, s))| HeldCertificate {
                certificate_type: t,
                identifier: format!("c{i}"),
                status: s,
                valid_until: Some(date(2030, 1, 1 + i as i8)),
            })
            .collect();
        let prior: Vec<PriorOutput> = prior
            .into_iter()
            .map(|(i, t)| PriorOutput { item: i.clone(), item_name: i, certificate_type: t })
            .collect();
        let m = material(source.clone(), required);
        let r = resolve_material(&m, Facts { certificates: &held, data: &data, prior: &prior });
        prop_assert_eq!(r.required, required);
        match r.status {
            MaterialStatus::Resolved => {
                prop_assert!(r.source.is_some() && r.gap.is_none());
                prop_assert!(source != MaterialSource::Upload);
            }
            _ => prop_assert!(r.source.is_none() && r.gap.is_some()),
        }
        if let MaterialSource::Certificate { certificate_type } = &source {
            let from_prior = prior
                .iter()
                .any(|p| p.certificate_type.as_deref() == Some(certificate_type.as_str()));
            let has_valid = held
                .iter()
                .any(|c| &c.certificate_type == certificate_type && c.status == CertificateStatus::Valid);
            let has_any = held.iter().any(|c| &c.certificate_type == certificate_type);
            let expected = if from_prior || has_valid {
                MaterialStatus::Resolved
            } else if has_any {
                MaterialStatus::Stale
            } else {
                MaterialStatus::Missing
            };
            prop_assert_eq!(r.status, expected);
            if from_prior {
                let is_output = matches!(r.source, Some(ResolvedSource::ItemOutput { .. }));
                prop_assert!(is_output);
            }
        }
        if let MaterialSource::SharedData { resource } = &source {
            prop_assert_eq!(
                r.status == MaterialStatus::Resolved,
                data.get(resource) == Some(&DataOutcome::Found)
            );
        }
        // Completeness of a one-material list is the material's own.
        prop_assert_eq!(
            complete(std::slice::from_ref(&r)),
            !required || r.status == MaterialStatus::Resolved
        );
    }

    /// The one-ID rate never exceeds 1 and the breakdowns add up to the total.
    #[test]
    fn one_id_rate_adds_up(
        types in proptest::collection::btree_set("[A-Z_]{2,20}", 0..12),
    ) {
        let c = catalog();
        let mut caps = Capabilities { certificate_types: types, ..Default::default() };
        caps.items = c.items.iter().map(|i| i.implementation_code.clone()).collect::<BTreeSet<_>>();
        let rate = one_id_rate(c.items.iter(), &caps);
        prop_assert!(rate.total.item_rate() <= 1.0 && rate.total.situation_rate() <= 1.0);
        prop_assert!(rate.total.items_complete <= rate.total.items);
        let s: u32 = rate.by_division.values().map(|t| t.situations_complete).sum();
        prop_assert_eq!(s, rate.total.situations_complete);
        let s: u32 = rate.by_department.values().map(|t| t.items_complete).sum();
        prop_assert_eq!(s, rate.total.items_complete);
    }
}
