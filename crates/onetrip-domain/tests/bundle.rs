//! Bundle rules: every definition problem listed at once, questionnaire selection with data
//! passing and merged materials, and the reduction figures; a property test that random
//! dependency graphs are either ordered (every member after its prerequisites) or reported as
//! a cycle.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;

use onetrip_domain::Localized;
use onetrip_domain::bundle::{
    Bundle, BundleRule, CertificateFields, Items, Member, certificate_fields,
};
use onetrip_domain::catalog::{Catalog, MaterialSource};
use onetrip_domain::certificate::CertificateType;
use onetrip_domain::form::FormValues;
use proptest::prelude::*;
use serde_json::json;

const CATALOG: &str = include_str!("../../../data/demo/catalog.yaml");
const BIRTH: &str = include_str!("../../../data/demo/bundles/birth.yaml");
const CERTIFICATE_TYPES: &str = include_str!("../../../data/demo/certificate_types.yaml");

fn items() -> Items {
    let catalog: Catalog = serde_norway::from_str(CATALOG).unwrap();
    catalog
        .items
        .into_iter()
        .map(|i| (i.implementation_code.clone(), i))
        .collect()
}

/// The demo certificate types' fields.
fn certificates() -> CertificateFields {
    #[derive(serde::Deserialize)]
    struct Doc {
        certificate_types: Vec<CertificateType>,
    }
    let doc: Doc = serde_norway::from_str(CERTIFICATE_TYPES).unwrap();
    certificate_fields(&doc.certificate_types)
}

fn birth() -> Bundle {
    serde_norway::from_str(BIRTH).unwrap()
}

fn answers(v: serde_json::Value) -> FormValues {
    v.as_object().unwrap().clone()
}

fn rules(b: &Bundle, items: &Items) -> Vec<BundleRule> {
    b.check(items, &certificates())
        .into_iter()
        .map(|p| p.rule)
        .collect()
}

#[test]
fn the_demo_birth_bundle_is_valid() {
    let problems = birth().check(&items(), &certificates());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn every_problem_is_listed_at_once() {
    let items = items();
    let mut b = birth();
    b.code = "birth bundle".into();
    // A cycle: the birth certificate now waits for the household registration.
    b.members[0].depends_on = vec!["household".into()];
    // An unknown item, situation, dependency and question.
    b.members.push(Member {
        key: "ghost".into(),
        item: "NOPE".into(),
        when: Some(serde_json::from_value(json!({"field": "not_asked", "equals": "yes"})).unwrap()),
        situations: vec![],
        depends_on: vec!["nobody".into()],
        fields: BTreeMap::new(),
        result_fields: BTreeMap::new(),
    });
    b.members[2].situations[0].situation = "S09".into();
    // A result field read from a form field that does not exist.
    b.members[1]
        .result_fields
        .insert("name".into(), "no_such_field".into());
    let found = rules(&b, &items);
    let has = |pred: &dyn Fn(&BundleRule) -> bool| found.iter().any(pred);
    assert!(has(&|r| matches!(r, BundleRule::BadCode)), "{found:#?}");
    assert!(has(
        &|r| matches!(r, BundleRule::DependencyCycle(c) if c.contains(&"household".to_string()) && c.contains(&"birth_certificate".to_string()))
    ));
    assert!(has(
        &|r| matches!(r, BundleRule::UnknownItem(i) if i == "NOPE")
    ));
    assert!(has(
        &|r| matches!(r, BundleRule::UnknownDependency(d) if d == "nobody")
    ));
    assert!(has(
        &|r| matches!(r, BundleRule::UnknownQuestion(q) if q == "not_asked")
    ));
    assert!(has(
        &|r| matches!(r, BundleRule::UnknownSituation { situation, .. } if situation == "S09")
    ));
    assert!(has(
        &|r| matches!(r, BundleRule::UnknownFormField { field, .. } if field == "no_such_field")
    ));
    for p in b.check(&items, &certificates()) {
        assert!(!p.message_zh().is_empty() && !p.message_en().is_empty());
        assert!(
            p.code().starts_with("bundle_") || p.code().starts_with("form_"),
            "{}",
            p.code()
        );
    }
}

#[test]
fn a_material_from_an_item_no_prerequisite_produces_has_no_source() {
    let mut items = items();
    // The household registration's birth certificate becomes "the result of" an item that is
    // not a member it depends on.
    let household = items.get_mut("1133010600425119XW070010007000").unwrap();
    household.materials[0].source = MaterialSource::BundleOutput {
        item: "11330106065627154C200060002000".into(), // the vaccination member, not a prerequisite
    };
    let found = rules(&birth(), &items);
    assert!(
        found.iter().any(|r| matches!(r, BundleRule::MaterialWithoutSource { member, material } if member == "household" && material == "M01")),
        "{found:#?}"
    );
}

#[test]
fn answers_select_members_situations_and_merged_materials() {
    let items = items();
    let b = birth();
    let s = b
        .select(
            &answers(json!({"parents_married": "no", "medical_insurance": "no"})),
            &items,
        )
        .unwrap();
    let keys: Vec<&str> = s.members.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(keys, ["birth_certificate", "vaccination", "household"]);
    assert_eq!(s.members[2].situation, "S02", "not married: 非婚生育");
    // Data passing: the birth medical certificate comes from the first member, once.
    let from_birth: Vec<_> = s
        .materials
        .iter()
        .filter(|m| m.key == "output:birth_certificate")
        .collect();
    assert_eq!(from_birth.len(), 1);
    assert!(from_birth[0].uses.len() >= 2, "{:#?}", from_birth[0]);
    // The ID card of every member is one material.
    assert_eq!(
        s.materials
            .iter()
            .filter(|m| m.key == "cert:ID_CARD")
            .count(),
        1
    );

    // A hidden question must not be answered; an asked one must.
    let problems = b
        .select(
            &answers(json!({"parents_married": "yes", "medical_insurance": "no", "social_security_card": "yes"})),
            &items,
        )
        .unwrap_err();
    assert!(
        problems
            .iter()
            .any(|p| p.code() == "questionnaire_unknown_question")
    );
    let problems = b.select(&answers(json!({})), &items).unwrap_err();
    assert!(
        problems
            .iter()
            .filter(|p| p.code() == "questionnaire_required")
            .count()
            >= 2
    );
}

#[test]
fn reduction_figures_follow_the_definitions() {
    let items = items();
    let r = birth().reduction(&items);
    assert_eq!(r.items, 5);
    assert!(r.materials_deduplicated < r.materials_before);
    assert!(r.materials_after <= r.materials_deduplicated);
    assert!(r.days_after <= r.days_before);
    assert!(r.steps_after < r.steps_before);
    assert!(r.visits_after <= r.visits_before);
}

proptest! {
    /// Random dependency graphs over the birth members: either an order in which every member
    /// comes after its prerequisites, or a cycle whose members really wait for each other.
    #[test]
    fn dependency_graphs_are_ordered_or_reported_as_cycles(edges in proptest::collection::vec((0usize..5, 0usize..5), 0..8)) {
        let mut b = birth();
        for m in &mut b.members {
            m.depends_on.clear();
        }
        let keys: Vec<String> = b.members.iter().map(|m| m.key.clone()).collect();
        for (from, to) in edges {
            if !b.members[from].depends_on.contains(&keys[to]) {
                b.members[from].depends_on.push(keys[to].clone());
            }
        }
        match b.topological_order() {
            Ok(order) => {
                prop_assert_eq!(order.len(), b.members.len());
                for (i, m) in order.iter().enumerate() {
                    for d in &m.depends_on {
                        let j = order.iter().position(|o| &o.key == d).unwrap();
                        prop_assert!(j < i, "{} before its prerequisite {}", m.key, d);
                    }
                }
            }
            Err(cycle) => {
                prop_assert!(cycle.len() >= 2);
                prop_assert_eq!(cycle.first(), cycle.last());
                for w in cycle.windows(2) {
                    let m = b.member(&w[0]).unwrap();
                    prop_assert!(m.depends_on.contains(&w[1]), "{:?}", cycle);
                }
                prop_assert!(b.check(&items(), &certificates()).iter().any(|p| matches!(p.rule, BundleRule::DependencyCycle(_))));
            }
        }
    }
}

#[test]
fn result_fields_must_exist_in_the_issued_certificate_type() {
    let items = items();
    let certificates = certificates();
    let mut b = birth();
    // The birth medical certificate carries `child_name`; `eye_colour` is no field of it.
    let at = b
        .members
        .iter()
        .position(|m| !m.result_fields.is_empty())
        .unwrap();
    let key = b.members[at].key.clone();
    b.members[at]
        .result_fields
        .insert("eye_colour".into(), "baby_name".into());
    let problems = b.check(&items, &certificates);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let p = &problems[0];
    assert_eq!(p.path, format!("members[{at}].result_fields.eye_colour"));
    assert!(matches!(
        &p.rule,
        BundleRule::UnknownCertificateField { member, field, .. }
            if *member == key && field == "eye_colour"
    ));
    assert_eq!(p.code(), "bundle_unknown_certificate_field");
    assert!(p.message_zh().contains("eye_colour") && p.message_en().contains("has no field"));

    // Without the certificate type's fields, the type itself is unknown.
    let mut no_types = certificates.clone();
    let item = &items[&b.members[at].item];
    let code = item.result.certificate_type.clone().unwrap();
    no_types.remove(&code);
    let rules: Vec<BundleRule> = birth()
        .check(&items, &no_types)
        .into_iter()
        .map(|p| p.rule)
        .collect();
    assert!(rules.iter().any(|r| matches!(
        r,
        BundleRule::UnknownCertificateType { certificate_type, .. } if *certificate_type == code
    )));

    // A member whose item issues no certificate cannot fill one; a result field read from a
    // unified-form field that does not exist is reported at `result_fields`.
    let mut b = birth();
    let plain = b
        .members
        .iter()
        .position(|m| items[&m.item].result.certificate_type.is_none());
    if let Some(plain) = plain {
        b.members[plain]
            .result_fields
            .insert("name".into(), "baby_name".into());
        assert!(b.check(&items, &certificates).iter().any(|p| matches!(
            p.rule,
            BundleRule::ResultWithoutCertificate { .. }
        ) && p.path
            == format!("members[{plain}].result_fields")));
    }
    let mut b = birth();
    b.members[at]
        .result_fields
        .insert("child_name".into(), "no_such_form_field".into());
    assert!(b.check(&items, &certificates).iter().any(|p| p.path
        == format!("members[{at}].result_fields.child_name")
        && matches!(p.rule, BundleRule::UnknownFormField { .. })));
}

#[test]
fn every_demo_bundle_passes_with_the_demo_certificate_types() {
    let items = items();
    let certificates = certificates();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/bundles");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let b: Bundle = serde_norway::from_str(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let problems = b.check(&items, &certificates);
            assert!(problems.is_empty(), "{}: {problems:#?}", path.display());
            n += 1;
        }
    }
    assert!(n >= 14, "{n} bundles");
}

/// 失业保险金申领 (Hangzhou) has a form of its own; the unemployment bundle fills it from the
/// unified form, and a required field of it left unmapped is reported.
#[test]
fn the_unemployment_bundle_fills_the_benefit_items_own_form() {
    const UNEMPLOYMENT: &str = include_str!("../../../data/demo/bundles/unemployment.yaml");
    const BENEFIT: &str = "113301000354023845050030005000";
    let items = items();
    let mut b: Bundle = serde_norway::from_str(UNEMPLOYMENT).unwrap();
    let item_form = items[BENEFIT]
        .form
        .clone()
        .expect("the benefit item's form");
    let today = jiff::civil::date(2026, 11, 22);
    let unified = b
        .form
        .validate(
            &answers(json!({
                "name": "陈志明",
                "resident_id": "330102198503140138",
                "phone": "13800138000",
                "residence": {"division_code": "330106", "detail": "文三路199号"},
                "education": "bachelor",
                "last_employer": "杭州西湖数智科技有限公司",
                "last_employer_code": "91330100716105852F",
                "contract_ended_on": "2026-10-31",
                "reason": "dismissed",
                "insured_one_year": "yes",
                "job_wanted": "软件开发",
                "card": "ok",
            })),
            today,
        )
        .unwrap_or_else(|e| panic!("{e:#?}"));
    let values = b.member_values("benefit", &unified);
    let filled = item_form
        .validate(&values, today)
        .unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(filled["last_employer"], "杭州西湖数智科技有限公司");
    assert_eq!(filled["reason"], "dismissed");
    assert!(!filled.contains_key("education"), "only the item's fields");

    let at = b.members.iter().position(|m| m.key == "benefit").unwrap();
    b.members[at].fields.remove("job_wanted");
    assert!(
        b.check(&items, &certificates())
            .iter()
            .any(|p| p.path == format!("members[{at}].fields")
                && matches!(&p.rule, BundleRule::UnmappedRequiredField { field, .. } if field == "job_wanted")),
    );
}

/// One item alone goes through the bundle journey as a bundle of one member: the situation is
/// asked only when there are several, the item's own form is the form.
#[test]
fn a_single_item_is_a_journey_of_one_member() {
    const MEDICAL_REIMBURSEMENT: &str = "11330100067843715T050090003000";
    const SOCIAL_SECURITY_CARD: &str = "113301000354023845200030002000";
    let items = items();

    let medical = Bundle::single_item(&items[MEDICAL_REIMBURSEMENT]);
    assert!(medical.questionnaire.is_empty());
    assert_eq!(medical.form.code, "medical_reimbursement");
    let selection = medical.select(&FormValues::new(), &items).unwrap();
    assert_eq!(selection.members.len(), 1);
    assert_eq!(selection.members[0].key, MEDICAL_REIMBURSEMENT);
    let uploads = selection
        .materials
        .iter()
        .filter(|m| m.source == MaterialSource::Upload)
        .count();
    assert_eq!((selection.materials.len(), uploads), (5, 3));

    let card = &items[SOCIAL_SECURITY_CARD];
    let codes: Vec<String> = card
        .effective_situations()
        .iter()
        .map(|s| s.code.clone())
        .collect();
    assert!(codes.len() > 1, "{codes:?}");
    let journey = Bundle::single_item(card);
    assert_eq!(journey.questionnaire.len(), 1);
    assert!(journey.form.fields().next().is_none(), "no form of its own");
    for code in &codes {
        let selection = journey
            .select(&answers(json!({"situation": code})), &items)
            .unwrap();
        assert_eq!(&selection.members[0].situation, code);
    }
    assert!(
        journey
            .select(&answers(json!({"situation": "S99"})), &items)
            .is_err()
    );
    assert!(journey.select(&FormValues::new(), &items).is_err());
}
