//! Reading catalog documents: every shape error is reported with its path, and no input panics.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use onetrip_app::format::{DocumentFormat, parse_catalog};
use onetrip_domain::Localized;
use proptest::prelude::*;

const DEMO: &str = include_str!("../../../data/demo/catalog.yaml");

#[test]
fn demo_reads_in_both_formats() {
    let yaml = parse_catalog(DEMO, DocumentFormat::Yaml).unwrap();
    let json = serde_json::to_string(&yaml).unwrap();
    assert_eq!(parse_catalog(&json, DocumentFormat::Json).unwrap(), yaml);
    assert_eq!(DocumentFormat::sniff(&json), DocumentFormat::Json);
    assert_eq!(DocumentFormat::sniff(DEMO), DocumentFormat::Yaml);
}

#[test]
fn every_shape_error_is_listed_with_its_path() {
    let mut doc: serde_json::Value = serde_norway::from_str(DEMO).unwrap();
    doc["items"][0]["item_type"] = "licence".into();
    doc["items"][5]["visits"] = "two".into();
    doc["items"][7]["unknown_field"] = 1.into();
    doc["departments"][1]["code"] = 42.into();
    doc["extra"] = true.into();
    let errors = parse_catalog(&doc.to_string(), DocumentFormat::Json).unwrap_err();
    let paths: Vec<&str> = errors.iter().map(|v| v.path.as_str()).collect();
    for expected in [
        "items[0].item_type",
        "items[5].visits",
        "items[7]",
        "departments[1].code",
        "extra",
    ] {
        assert!(
            paths.iter().any(|p| p.starts_with(expected)),
            "{expected} not in {paths:?}"
        );
    }
    assert!(errors.iter().all(|v| v.code() == "malformed"));
    assert!(
        errors
            .iter()
            .all(|v| !v.message_zh().is_empty() && !v.message_en().is_empty())
    );
}

#[test]
fn syntax_errors_are_reported_not_panicked() {
    for (text, format) in [
        ("{\"items\": [", DocumentFormat::Json),
        ("items: [unclosed", DocumentFormat::Yaml),
        ("[1, 2, 3]", DocumentFormat::Json),
        ("just text", DocumentFormat::Yaml),
        (&"[".repeat(100_000), DocumentFormat::Json),
        (&"- ".repeat(10_000), DocumentFormat::Yaml),
    ] {
        let errors = parse_catalog(text, format).unwrap_err();
        assert_eq!(errors.len(), 1, "{text:.40}");
        assert_eq!(errors[0].code(), "malformed");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn arbitrary_documents_never_panic(text in "\\PC{0,200}") {
        let _ = parse_catalog(&text, DocumentFormat::Json);
        let _ = parse_catalog(&text, DocumentFormat::Yaml);
    }

    #[test]
    fn structured_noise_never_panics(
        key in prop::sample::select(vec!["items", "departments", "divisions"]),
        field in "[a-z_]{1,20}",
        value in prop_oneof![Just(serde_json::Value::Null), any::<i64>().prop_map(Into::into), "\\PC{0,20}".prop_map(Into::into)],
    ) {
        let doc = serde_json::json!({ key: [{ field: value }] });
        let result = parse_catalog(&doc.to_string(), DocumentFormat::Json);
        prop_assert!(result.is_err() || doc[key][0].as_object().is_some());
    }
}
