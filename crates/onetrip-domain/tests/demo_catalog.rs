//! The demo catalog (`data/demo/catalog.yaml`, served by `onetrip demo`) deserializes into
//! [`Catalog`], passes [`validate_catalog`] without a single violation, and has the shape the demo
//! relies on (divisions, departments, the housing-fund example with its seven situations).

use std::collections::BTreeSet;

use onetrip_domain::Localized;
use onetrip_domain::catalog::{Catalog, KnownCodes, validate_catalog};

const DEMO: &str = include_str!("../../../data/demo/catalog.yaml");

fn catalog() -> Catalog {
    match serde_norway::from_str::<Catalog>(DEMO) {
        Ok(c) => c,
        Err(e) => panic!("data/demo/catalog.yaml does not deserialize into Catalog: {e}"),
    }
}

#[test]
fn demo_catalog_has_no_violations() {
    let catalog = catalog();
    let violations = validate_catalog(&catalog, &KnownCodes::default());
    let report: Vec<String> = violations
        .iter()
        .map(|v| format!("{} [{}] {}", v.path, v.code(), v.message_zh()))
        .collect();
    assert!(
        violations.is_empty(),
        "{} violation(s) in data/demo/catalog.yaml:\n{}",
        violations.len(),
        report.join("\n")
    );
}

#[test]
fn demo_catalog_is_big_enough() {
    let catalog = catalog();
    assert!(
        catalog.items.len() >= 90,
        "only {} items",
        catalog.items.len()
    );
    assert!(
        catalog.departments.len() >= 28,
        "only {} departments",
        catalog.departments.len()
    );
}

#[test]
fn demo_catalog_has_every_city_and_the_seed_counties() {
    let catalog = catalog();
    let codes: BTreeSet<&str> = catalog.divisions.iter().map(|d| d.code.as_str()).collect();
    let required = [
        // province and province-level bodies
        "330000", "339900", //
        // the 11 cities
        "330100", "330200", "330300", "330400", "330500", "330600", "330700", "330800", "330900",
        "331000", "331100", //
        // counties
        "330102", "330105", "330106", "330108", "330109", "330110", "330113", "330114", "330111",
        "330421", "330782", "330903", "330382", "330381", "330226", "331003", "331083",
    ];
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|c| !codes.contains(c))
        .collect();
    assert!(missing.is_empty(), "divisions missing: {missing:?}");
}

#[test]
fn home_purchase_withdrawal_has_seven_distinct_situations() {
    let catalog = catalog();
    let found: Vec<_> = catalog
        .items
        .iter()
        .filter(|i| i.name.contains("购买自住住房提取"))
        .collect();
    assert_eq!(found.len(), 1, "expected one 购买自住住房提取 item");
    let item = found[0];
    let parent = item
        .parent_code
        .as_deref()
        .unwrap_or_else(|| panic!("购买自住住房提取 must be a sub-item"));
    let main = catalog
        .items
        .iter()
        .find(|i| i.implementation_code == parent)
        .unwrap_or_else(|| panic!("parent {parent} not in the catalog"));
    assert_eq!(main.name, "住房公积金提取");
    assert!(main.base_code.ends_with("000"));
    assert_eq!(main.base_code[..9], item.base_code[..9]);

    assert_eq!(
        item.situations.len(),
        7,
        "购买自住住房提取 needs exactly 7 situations"
    );
    let mut sets = BTreeSet::new();
    for s in &item.situations {
        assert!(
            s.materials.len() >= 2,
            "situation {} ({}) has fewer than 2 materials",
            s.code,
            s.name
        );
        assert!(
            !s.guide.trim().is_empty(),
            "situation {} has no guide",
            s.code
        );
        let set: BTreeSet<&str> = s.materials.iter().map(String::as_str).collect();
        assert!(
            sets.insert(set),
            "situation {} ({}) repeats another situation's materials",
            s.code,
            s.name
        );
        let guide = item
            .guide(&s.code)
            .unwrap_or_else(|| panic!("no guide for {}", s.code));
        assert_eq!(guide.materials.len(), s.materials.len());
    }
}

#[test]
fn several_housing_fund_items() {
    let catalog = catalog();
    let n = catalog
        .items
        .iter()
        .filter(|i| i.name.contains("公积金"))
        .count();
    assert!(n >= 3, "only {n} items whose name contains 公积金");
}

#[test]
fn every_department_implements_something() {
    let catalog = catalog();
    let used: BTreeSet<&str> = catalog
        .items
        .iter()
        .map(|i| i.department_code.as_str())
        .collect();
    let idle: Vec<&str> = catalog
        .departments
        .iter()
        .filter(|d| !used.contains(d.code.as_str()))
        .map(|d| d.name.as_str())
        .collect();
    assert!(idle.is_empty(), "departments without items: {idle:?}");
}
