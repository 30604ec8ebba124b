//! The catalog's consistency rules, one by one, and their interplay.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use onetrip_domain::Localized;
use onetrip_domain::catalog::*;
use proptest::prelude::*;

const DEPT: &str = "91330100716105852F";

fn item() -> ServiceItem {
    serde_json::from_value(serde_json::json!({
        "base_code": "000172006000",
        "implementation_code": format!("{DEPT}000172006000"),
        "name": "住房公积金提取",
        "item_type": "licensing",
        "legal_basis": ["《住房公积金管理条例》第二十四条"],
        "department_code": DEPT,
        "division_code": "330100",
        "service_object": "person",
        "handling_kind": "promised",
        "statutory_limit": 20,
        "promised_limit": 5,
        "channels": ["online", "mobile"],
        "visits": 0,
        "online_depth": "IV",
        "process": [{"name": "受理", "working_days": 1}, {"name": "审核", "working_days": 3}],
        "result": {"result_type": "certificate", "name": "准予提取通知书", "certificate_type": "HF_NOTICE"},
        "contacts": {"consultation_phone": "12329", "complaint_phone": "12345"},
        "materials": [
            {"id": "M1", "name": "居民身份证", "form": "electronic", "source": {"kind": "certificate", "certificate_type": "ID_CARD"}},
            {"id": "M2", "name": "购房合同", "form": "copy", "source": {"kind": "upload"}, "deferrable": true}
        ],
        "situations": [
            {"code": "S1", "name": "购买新建商品住房", "materials": ["M1", "M2"], "guide": "凭购房合同提取。"}
        ]
    }))
    .unwrap()
}

/// A change that breaks one rule.
type Change = fn(&mut ServiceItem);

fn codes(item: &ServiceItem) -> Vec<(String, &'static str)> {
    validate_item(item, "")
        .iter()
        .map(|v| (v.path.clone(), v.code()))
        .collect()
}

#[test]
fn the_base_item_is_valid() {
    assert_eq!(codes(&item()), vec![]);
}

#[test]
fn each_rule_reports_its_field() {
    let cases: Vec<(Change, &str, &str)> = vec![
        (
            |i| i.promised_limit = 30,
            "promised_limit",
            "promised_exceeds_statutory",
        ),
        (
            |i| {
                i.handling_kind = HandlingKind::Immediate;
                i.process.clear();
            },
            "promised_limit",
            "immediate_requires_zero_days",
        ),
        (
            |i| i.promised_limit = 0,
            "promised_limit",
            "promised_requires_days",
        ),
        (
            |i| {
                i.visits = 1;
                i.visits_reason = Some("核验原件".into());
            },
            "visits",
            "full_online_requires_zero_visits",
        ),
        (
            |i| {
                i.online_depth = OnlineDepth::III;
                i.visits = 1;
            },
            "visits_reason",
            "visits_reason_required",
        ),
        (
            |i| i.online_payment = true,
            "online_payment",
            "online_payment_without_fee",
        ),
        (
            |i| i.situations[0].materials.push("M9".into()),
            "situations[0].materials[2]",
            "unknown_material",
        ),
        (
            |i| i.base_code = "00017200600".into(),
            "base_code",
            "base_code_format",
        ),
        (
            |i| i.implementation_code = "abc".into(),
            "implementation_code",
            "implementation_code_format",
        ),
        (
            |i| i.department_code = "91330100716105852X".into(),
            "department_code",
            "invalid_credit_code",
        ),
        (
            |i| i.division_code = "990000".into(),
            "division_code",
            "invalid_division_code",
        ),
        (
            |i| {
                i.process.push(ProcessStep {
                    name: "决定".into(),
                    role: None,
                    working_days: 9,
                    parallel: false,
                })
            },
            "process",
            "process_exceeds_promised",
        ),
        (
            |i| i.result.certificate_type = None,
            "result.certificate_type",
            "certificate_type_required",
        ),
        (
            |i| i.channels = vec![Channel::Window],
            "channels",
            "full_online_requires_online_channel",
        ),
        (
            |i| i.materials[1].id = "M1".into(),
            "materials[1].id",
            "duplicate_code",
        ),
        (
            |i| {
                i.fees.push(Fee {
                    name: "工本费".into(),
                    amount_fen: 0,
                    basis: "x".into(),
                })
            },
            "fees[0].amount_fen",
            "fee_amount",
        ),
        (|i| i.name = "  ".into(), "name", "required"),
        (
            |i| i.statutory_limit = 400,
            "statutory_limit",
            "limit_too_large",
        ),
        (
            |i| i.parent_code = Some(i.implementation_code.clone()),
            "parent_code",
            "self_parent",
        ),
    ];
    for (change, path, code) in cases {
        let mut broken = item();
        change(&mut broken);
        let found = codes(&broken);
        assert!(
            found.iter().any(|(p, c)| p == path && *c == code),
            "expected {path} {code}, got {found:?}"
        );
        for v in validate_item(&broken, "items[7]") {
            assert!(v.path.starts_with("items[7]."), "{}", v.path);
            assert!(v.message_zh().contains(&v.path) && v.message_en().contains(&v.path));
        }
    }
}

#[test]
fn parallel_steps_count_once_on_the_critical_path() {
    let mut i = item();
    // 受理 1 + max(审查 3, 勘验 4) = 5 = the promised limit; sequential they would take 8.
    i.process = serde_json::from_value(serde_json::json!([
        {"name": "受理", "working_days": 1},
        {"name": "审查", "working_days": 3},
        {"name": "现场勘验", "working_days": 4, "parallel": true},
    ]))
    .unwrap();
    assert_eq!(critical_path_days(&i.process), 5);
    assert_eq!(process_stages(&i.process).len(), 2);
    assert!(codes(&i).is_empty(), "{:?}", codes(&i));
    i.process[2].parallel = false;
    assert_eq!(critical_path_days(&i.process), 8);
    assert!(codes(&i).contains(&("process".to_string(), "process_exceeds_promised")));
    // `parallel: false` is not written, so existing documents keep their exact form.
    let json = serde_json::to_value(&i.process[1]).unwrap();
    assert!(json.get("parallel").is_none());
    i.process[2].parallel = true;
    let json = serde_json::to_value(&i.process[2]).unwrap();
    assert_eq!(json["parallel"], true);
}

#[test]
fn several_problems_are_all_listed() {
    let mut broken = item();
    broken.promised_limit = 30;
    broken.online_payment = true;
    broken.visits = 2;
    let found: Vec<&str> = codes(&broken).into_iter().map(|(_, c)| c).collect();
    for code in [
        "promised_exceeds_statutory",
        "online_payment_without_fee",
        "full_online_requires_zero_visits",
        "visits_reason_required",
    ] {
        assert!(found.contains(&code), "{code} missing from {found:?}");
    }
}

#[test]
fn catalog_rules_resolve_references_and_nesting() {
    let main = item();
    let mut sub = item();
    sub.base_code = "000172006001".into();
    sub.implementation_code = format!("{DEPT}000172006001");
    sub.parent_code = Some(main.implementation_code.clone());
    let mut subsub = item();
    subsub.base_code = "000172006002".into();
    subsub.implementation_code = format!("{DEPT}000172006002");
    subsub.parent_code = Some(sub.implementation_code.clone());
    let catalog = Catalog {
        divisions: vec![Division {
            code: "330100".into(),
            name: "杭州市".into(),
            name_en: None,
        }],
        departments: vec![Department {
            code: DEPT.into(),
            name: "某部门".into(),
            name_en: None,
            division_code: "330100".into(),
            offices: vec![],
        }],
        items: vec![main.clone(), sub.clone(), subsub, main.clone()],
    };
    let found: Vec<(String, &str)> = validate_catalog(&catalog, &KnownCodes::default())
        .iter()
        .map(|v| (v.path.clone(), v.code()))
        .collect();
    assert!(
        found.contains(&("items[2].parent_code".into(), "nested_sub_item")),
        "{found:?}"
    );
    assert!(
        found.contains(&("items[3].implementation_code".into(), "duplicate_code")),
        "{found:?}"
    );

    // References resolve against what is already stored.
    let alone = Catalog {
        items: vec![sub],
        ..Catalog::default()
    };
    let unknown = validate_catalog(&alone, &KnownCodes::default());
    assert_eq!(
        unknown
            .iter()
            .filter(|v| v.code() == "unknown_reference")
            .count(),
        3
    );
    let mut known = KnownCodes::default();
    known.divisions.insert("330100".into());
    known.departments.insert(DEPT.into());
    known.items.insert(main.implementation_code);
    assert!(validate_catalog(&alone, &known).is_empty());
}

#[test]
fn guides_follow_situations() {
    let i = item();
    let g = i.guide("S1").unwrap();
    assert_eq!(g.materials.len(), 2);
    assert!(g.materials[0].auto_resolvable && !g.materials[1].auto_resolvable);
    assert_eq!(g.promised_limit, 5);
    assert!(i.guide("S2").is_none());
    let mut plain = item();
    plain.situations.clear();
    let g = plain.guide(DEFAULT_SITUATION).unwrap();
    assert_eq!(
        g.materials.len(),
        2,
        "the implicit situation needs every required material"
    );
}

proptest! {
    /// The time-limit rules hold exactly: a violation is reported if and only if its condition holds.
    #[test]
    fn time_limit_rules_are_exact(
        statutory in 0u16..400,
        promised in 0u16..400,
        immediate in any::<bool>(),
        steps in prop::collection::vec((0u16..10, any::<bool>()), 0..5),
    ) {
        let mut i = item();
        i.statutory_limit = statutory;
        i.promised_limit = promised;
        i.handling_kind = if immediate { HandlingKind::Immediate } else { HandlingKind::Promised };
        i.process = steps
            .iter()
            .map(|&(d, parallel)| ProcessStep { name: "步骤".into(), role: None, working_days: d, parallel })
            .collect();
        let found: Vec<&str> = codes(&i).into_iter().map(|(_, c)| c).collect();
        prop_assert_eq!(found.contains(&"promised_exceeds_statutory"), promised > statutory);
        prop_assert_eq!(found.contains(&"immediate_requires_zero_days"), immediate && promised != 0);
        prop_assert_eq!(found.contains(&"promised_requires_days"), !immediate && promised == 0);
        // Critical path: a parallel step runs beside the one before it, so only the longest of a
        // stage counts.
        let mut total = 0u32;
        let mut stage_max = 0u32;
        for (k, &(d, parallel)) in steps.iter().enumerate() {
            if k > 0 && !parallel {
                total += stage_max;
                stage_max = 0;
            }
            stage_max = stage_max.max(u32::from(d));
        }
        total += stage_max;
        prop_assert_eq!(found.contains(&"process_exceeds_promised"), !steps.is_empty() && total > u32::from(promised));
        prop_assert_eq!(
            found.contains(&"limit_too_large"),
            statutory > MAX_LIMIT_DAYS || promised > MAX_LIMIT_DAYS
        );
    }

    /// No combination of visits, depth and channels slips through or panics.
    #[test]
    fn visit_rules_are_exact(visits in 0u8..5, depth in 0usize..4, reason in any::<bool>(), online in any::<bool>()) {
        let mut i = item();
        i.visits = visits;
        i.online_depth = [OnlineDepth::I, OnlineDepth::II, OnlineDepth::III, OnlineDepth::IV][depth];
        i.visits_reason = reason.then(|| "需核验原件".to_string());
        i.channels = if online { vec![Channel::Online] } else { vec![Channel::Window] };
        let found: Vec<&str> = codes(&i).into_iter().map(|(_, c)| c).collect();
        prop_assert_eq!(found.contains(&"full_online_requires_zero_visits"), depth == 3 && visits > 0);
        prop_assert_eq!(found.contains(&"visits_reason_required"), visits > 0 && !reason);
        prop_assert_eq!(found.contains(&"full_online_requires_online_channel"), depth == 3 && !online);
    }
}
