//! Unit tests of the form engine: definitions, conditions, each kind of value.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use jiff::civil::{Date, date};
use serde_json::{Value, json};

use super::*;
use crate::Localized;

const TODAY: Date = date(2025, 6, 10);
const FATHER: &str = "330106198803150413";
const MOTHER: &str = "330106199006220022";

fn schema(fields: Value) -> FormSchema {
    serde_json::from_value(json!({
        "code": "t", "version": 1, "title": "测试",
        "sections": [{"key": "s", "title": "分区", "fields": fields}]
    }))
    .unwrap()
}

fn values(v: Value) -> FormValues {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

fn errors(s: &FormSchema, v: Value) -> Vec<(String, &'static str)> {
    let errs = s.validate(&values(v), TODAY).unwrap_err();
    errs.into_iter().map(|e| (e.path, e.code)).collect()
}

fn ok(s: &FormSchema, v: Value) -> Value {
    Value::Object(s.validate(&values(v), TODAY).unwrap())
}

fn one(kind: Value) -> FormSchema {
    let mut f = json!({"key": "x", "label": "某项", "label_en": "Thing"});
    f.as_object_mut()
        .unwrap()
        .extend(kind.as_object().unwrap().clone());
    schema(json!([f]))
}

fn codes_of(problems: &[SchemaProblem]) -> Vec<(&str, &str)> {
    problems
        .iter()
        .map(|p| (p.path.as_str(), p.code()))
        .collect()
}

// ---------------------------------------------------------------- definitions

#[test]
fn unknown_keys_in_definitions_are_refused() {
    let typo = json!({"key": "a", "label": "A", "type": "text", "max_lenn": 3});
    let e = serde_json::from_value::<Field>(typo)
        .unwrap_err()
        .to_string();
    assert!(e.contains("max_lenn"), "{e}");
    let yaml =
        "sections: [{key: s, title: S, fields: [{key: a, label: A, type: phone, max_len: 3}]}]";
    let e = serde_norway::from_str::<FormSchema>(&format!("code: c\nversion: 1\ntitle: T\n{yaml}"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("max_len") && e.contains("phone"), "{e}");
    let on_unit = json!({"key": "a", "label": "A", "type": "phone", "max_len": 3});
    assert!(serde_json::from_value::<Field>(on_unit).is_err());
    let outer = json!({"key": "a", "label": "A", "type": "phone", "requird": true});
    assert!(serde_json::from_value::<Field>(outer).is_err());
    let bad_type = json!({"key": "a", "label": "A", "type": "telephone"});
    assert!(serde_json::from_value::<Field>(bad_type).is_err());
    let ok = json!({"key": "a", "label": "A", "type": "text", "max_len": 3, "required": true});
    let f: Field = serde_json::from_value(ok).unwrap();
    assert_eq!(
        f.kind,
        FieldKind::Text {
            max_len: Some(3),
            multiline: false
        }
    );
    assert!(f.required);
    let schema_typo =
        json!({"code": "t", "version": 1, "title": "T", "sections": [], "titel": "x"});
    assert!(serde_json::from_value::<FormSchema>(schema_typo).is_err());
}

#[test]
fn fields_round_trip_through_yaml() {
    let yaml = r#"
key: members
label: 家庭成员
type: group
min_items: 1
fields:
  - {key: name, label: 姓名, type: text, required: true}
  - key: relation
    label: 关系
    type: choice
    options: [{value: other, label: 其他}, {value: child, label: 子女}]
  - {key: note, label: 说明, type: text, visible_when: {field: relation, equals: other}}
"#;
    let f: Field = serde_norway::from_str(yaml).unwrap();
    assert_eq!(f.children().len(), 3);
    let again: Field = serde_norway::from_str(&serde_norway::to_string(&f).unwrap()).unwrap();
    assert_eq!(again, f);
    let json_again: Field = serde_json::from_value(serde_json::to_value(&f).unwrap()).unwrap();
    assert_eq!(json_again, f);
}

#[test]
fn conditions_read_naturally() {
    let c = |y: &str| serde_norway::from_str::<Condition>(y);
    assert_eq!(
        c(r#"{field: parents_married, equals: "yes"}"#).unwrap(),
        Condition::Equals {
            field: "parents_married".into(),
            equals: json!("yes")
        }
    );
    assert_eq!(
        c("{field: x, in: [a, b]}").unwrap(),
        Condition::In {
            field: "x".into(),
            values: vec![json!("a"), json!("b")]
        }
    );
    assert_eq!(
        c("{field: x, filled: true}").unwrap(),
        Condition::Filled { field: "x".into() }
    );
    assert_eq!(
        c("{field: x, filled: false}").unwrap(),
        Condition::Not(Box::new(Condition::Filled { field: "x".into() }))
    );
    assert_eq!(
        c("{field: x, equals: null}").unwrap(),
        Condition::Equals {
            field: "x".into(),
            equals: Value::Null
        }
    );
    let nested =
        c("{all: [{field: a, equals: 1}, {any: [{not: {field: b, filled: true}}]}]}").unwrap();
    assert_eq!(nested.referenced_fields(), vec!["a", "b"]);
    let again: Condition =
        serde_norway::from_str(&serde_norway::to_string(&nested).unwrap()).unwrap();
    assert_eq!(again, nested);
    for bad in [
        "{field: x}",
        "{equals: 1}",
        "{field: x, equals: 1, in: [1]}",
        "{all: [], field: x}",
        "{all: [], any: []}",
        "{field: x, equal: 1}",
        "{}",
    ] {
        assert!(c(bad).is_err(), "{bad}");
    }
}

#[test]
fn prefill_reads_with_its_source() {
    let p: Prefill = serde_norway::from_str("{from: account, attribute: resident_id}").unwrap();
    assert_eq!(
        p,
        Prefill::Account {
            attribute: AccountAttribute::ResidentId
        }
    );
    let p: Prefill =
        serde_norway::from_str("{from: shared_data, resource: ZJ_BIRTH_RECORD, field: name}")
            .unwrap();
    assert!(matches!(p, Prefill::SharedData { .. }));
    assert!(serde_norway::from_str::<Prefill>("{from: account, attribute: nickname}").is_err());
    assert!(
        serde_norway::from_str::<Prefill>("{from: account, attribute: name, extra: 1}").is_err()
    );
}

#[test]
fn a_good_definition_has_no_problems() {
    let s = schema(json!([
        {"key": "kind", "label": "类型", "type": "choice",
         "options": [{"value": "a", "label": "甲"}, {"value": "b", "label": "乙"}]},
        {"key": "note", "label": "说明", "type": "text", "visible_when": {"field": "kind", "in": ["a"]}},
        {"key": "fee", "label": "费用", "type": "money", "min_fen": 100, "max_fen": 1000},
        {"key": "big", "label": "大额说明", "type": "text",
         "visible_when": {"field": "fee", "equals": "9.99"}},
        {"key": "members", "label": "成员", "type": "group", "fields": [
            {"key": "name", "label": "姓名", "type": "text"},
            {"key": "id", "label": "身份证", "type": "resident_id",
             "visible_when": {"all": [{"field": "name", "filled": true}, {"field": "kind", "equals": "b"}]}}
        ]},
        {"key": "any_members", "label": "有成员", "type": "text",
         "visible_when": {"field": "members", "filled": true}},
        {"key": "phone", "label": "电话", "type": "phone", "prefill": {"from": "account", "attribute": "phone"}}
    ]));
    assert_eq!(codes_of(&s.check()), vec![]);
}

#[test]
fn check_lists_every_problem_with_its_path() {
    let s: FormSchema = serde_json::from_value(json!({
        "code": "bad code", "version": 0, "title": " ",
        "sections": [
            {"key": "a", "title": "A", "fields": [
                {"key": "", "label": "空键", "type": "text"},
                {"key": "dup", "label": "甲", "type": "text", "max_len": 0},
                {"key": "dup", "label": "乙", "type": "number", "min": 5, "max": 1},
                {"key": "early", "label": "早", "type": "text",
                 "visible_when": {"field": "later", "equals": "x"}},
                {"key": "later", "label": "晚", "type": "choice", "options": []},
                {"key": "self_ref", "label": "自引", "type": "text",
                 "visible_when": {"field": "self_ref", "filled": true}}
            ]},
            {"key": "a", "title": "B", "fields": [
                {"key": "c", "label": "选", "type": "multi_choice", "min": 3, "max": 2,
                 "options": [{"value": "x", "label": "X"}, {"value": "x", "label": "Y"}]},
                {"key": "g", "label": "组", "type": "group", "max_items": 0,
                 "prefill": {"from": "shared_data", "resource": "R", "field": "f"},
                 "fields": [
                    {"key": "inner", "label": "内", "type": "group", "fields": []},
                    {"key": "k", "label": "K", "type": "text",
                     "visible_when": {"field": "k2", "filled": true}},
                    {"key": "k2", "label": "K2", "type": "text"}
                 ]},
                {"key": "outside", "label": "外", "type": "text",
                 "visible_when": {"any": [{"field": "k2", "filled": true}, {"field": "nope", "filled": true}]}},
                {"key": "f", "label": " ", "type": "file", "accept": ["pdf"], "max_bytes": 0,
                 "prefill": {"from": "certificate", "certificate_type": "X", "field": "y"}},
                {"key": "p", "label": "电话", "type": "phone",
                 "prefill": {"from": "account", "attribute": "name"}},
                {"key": "v", "label": "值", "type": "text",
                 "visible_when": {"all": [
                    {"field": "c", "equals": "zzz"},
                    {"field": "dup", "in": []},
                    {"any": []}
                 ]}},
                {"key": "m", "label": "钱", "type": "money", "max_fen": -1}
            ]}
        ]
    }))
    .unwrap();
    let problems = s.check();
    let got = codes_of(&problems);
    let expected = vec![
        ("code", "form_schema_key_format"),
        ("version", "form_schema_version"),
        ("title", "form_schema_blank"),
        ("sections[1].key", "form_schema_duplicate_key"),
        ("sections[0].fields[0].key", "form_schema_empty_key"),
        ("sections[0].fields[2].key", "form_schema_duplicate_key"),
        ("sections[0].fields[1].max_len", "form_schema_zero_max"),
        ("sections[0].fields[2]", "form_schema_min_above_max"),
        (
            "sections[0].fields[3].visible_when",
            "form_schema_forward_reference",
        ),
        ("sections[0].fields[4].options", "form_schema_no_options"),
        (
            "sections[0].fields[5].visible_when",
            "form_schema_forward_reference",
        ),
        (
            "sections[1].fields[0].options[1].value",
            "form_schema_duplicate_option",
        ),
        ("sections[1].fields[0]", "form_schema_min_above_max"),
        ("sections[1].fields[0].min", "form_schema_min_above_options"),
        ("sections[1].fields[1].max_items", "form_schema_zero_max"),
        (
            "sections[1].fields[1].prefill",
            "form_schema_prefill_not_allowed",
        ),
        (
            "sections[1].fields[1].fields[0]",
            "form_schema_nested_group",
        ),
        (
            "sections[1].fields[1].fields[1].visible_when",
            "form_schema_forward_reference",
        ),
        (
            "sections[1].fields[2].visible_when.any[0]",
            "form_schema_group_reference",
        ),
        (
            "sections[1].fields[2].visible_when.any[1]",
            "form_schema_unknown_field",
        ),
        ("sections[1].fields[3].label", "form_schema_blank"),
        ("sections[1].fields[3].max_bytes", "form_schema_zero_max"),
        ("sections[1].fields[3].accept[0]", "form_schema_media_type"),
        (
            "sections[1].fields[3].prefill",
            "form_schema_prefill_not_allowed",
        ),
        ("sections[1].fields[4].prefill", "form_schema_prefill_kind"),
        (
            "sections[1].fields[5].visible_when.all[0]",
            "form_schema_condition_value",
        ),
        (
            "sections[1].fields[5].visible_when.all[1]",
            "form_schema_empty_condition",
        ),
        (
            "sections[1].fields[5].visible_when.all[2]",
            "form_schema_empty_condition",
        ),
        ("sections[1].fields[6]", "form_schema_min_above_max"),
    ];
    // Order within the list is not part of the contract: compare as sets, and make sure
    // nothing is reported twice.
    let mut g = got.clone();
    g.sort();
    let mut e = expected.clone();
    e.sort();
    assert_eq!(g, e, "got {got:#?}");
    for p in &problems {
        assert!(!p.message_zh().is_empty() && p.message_zh().contains(&p.path));
        assert!(!p.message_en().is_empty() && p.message_en().contains(&p.path));
        assert_eq!(p.to_string(), p.message_en());
    }
}

#[test]
fn condition_values_are_checked_against_the_field() {
    let s = schema(json!([
        {"key": "n", "label": "数", "type": "number", "max": 10},
        {"key": "d", "label": "日", "type": "date"},
        {"key": "a", "label": "址", "type": "address"},
        {"key": "t", "label": "文", "type": "text",
         "visible_when": {"any": [
             {"field": "n", "equals": "ten"},
             {"field": "n", "equals": 11},
             {"field": "n", "equals": "7"},
             {"field": "d", "in": ["2024-02-30", "2024-2-29"]},
             {"field": "a", "equals": {"division_code": "330106", "detail": "x"}},
             {"field": "a", "filled": true}
         ]}}
    ]));
    let problems = s.check();
    let got = codes_of(&problems);
    assert_eq!(
        got,
        vec![
            (
                "sections[0].fields[3].visible_when.any[0]",
                "form_schema_condition_value"
            ),
            (
                "sections[0].fields[3].visible_when.any[1]",
                "form_schema_condition_value"
            ),
            (
                "sections[0].fields[3].visible_when.any[3]",
                "form_schema_condition_value"
            ),
            (
                "sections[0].fields[3].visible_when.any[4]",
                "form_schema_condition_value"
            ),
        ]
    );
}

// ---------------------------------------------------------------- visibility

#[test]
fn hidden_fields_hide_the_fields_that_depend_on_them() {
    let s = schema(json!([
        {"key": "a", "label": "A", "type": "choice",
         "options": [{"value": "yes", "label": "是"}, {"value": "no", "label": "否"}]},
        {"key": "b", "label": "B", "type": "text", "visible_when": {"field": "a", "equals": "yes"}},
        {"key": "c", "label": "C", "type": "text", "visible_when": {"not": {"field": "b", "filled": true}}},
        {"key": "d", "label": "D", "type": "text", "required": true,
         "visible_when": {"any": [{"field": "b", "equals": "x"}, {"field": "a", "equals": "no"}]}}
    ]));
    let v = values(json!({"a": "no", "b": "x"}));
    let field = |k: &str| s.field(k).unwrap();
    assert!(!s.is_visible(field("b"), &v));
    // `c` says "b is not filled", but b is hidden: c is hidden too.
    assert!(!s.is_visible(field("c"), &v));
    // `d` refers to the hidden `b` in one branch: hidden, although `a` is "no".
    assert!(!s.is_visible(field("d"), &v));
    let v = values(json!({"a": " yes "}));
    assert!(s.is_visible(field("b"), &v));
    assert!(s.is_visible(field("c"), &v));
    assert!(!s.is_visible(field("d"), &v));
    // Hidden values are dropped without validation, whatever they are.
    let out = ok(&s, json!({"a": "no", "b": {"not": "text"}, "c": 42}));
    assert_eq!(out, json!({"a": "no"}));
}

#[test]
fn conditions_compare_normalised_values() {
    let s = schema(json!([
        {"key": "fee", "label": "费", "type": "money"},
        {"key": "n", "label": "数", "type": "number"},
        {"key": "day", "label": "日", "type": "date"},
        {"key": "pick", "label": "选", "type": "multi_choice",
         "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
        {"key": "t1", "label": "T1", "type": "text", "visible_when": {"field": "fee", "equals": "12.30"}},
        {"key": "t2", "label": "T2", "type": "text", "visible_when": {"field": "n", "in": [1, "2"]}},
        {"key": "t3", "label": "T3", "type": "text", "visible_when": {"field": "day", "equals": "2024-01-05"}},
        {"key": "t4", "label": "T4", "type": "text", "visible_when": {"field": "pick", "equals": "b"}},
        {"key": "t5", "label": "T5", "type": "text", "visible_when": {"field": "pick", "equals": ["b"]}},
        {"key": "t6", "label": "T6", "type": "text", "visible_when": {"field": "pick", "in": ["a", ["b"]]}}
    ]));
    assert!(s.check().is_empty(), "{:?}", s.check());
    let v = values(json!({"fee": 1230, "n": " 2 ", "day": "2024/1/5", "pick": ["b", "a"]}));
    let vis: Vec<&str> = s
        .fields()
        .filter(|f| f.key.starts_with('t') && s.is_visible(f, &v))
        .map(|f| f.key.as_str())
        .collect();
    // t5 wants exactly [b]; a is chosen too.
    assert_eq!(vis, vec!["t1", "t2", "t3", "t4", "t6"]);
    let v = values(json!({"fee": "12.3", "pick": "b"}));
    let vis: Vec<&str> = s
        .fields()
        .filter(|f| f.key.starts_with('t') && s.is_visible(f, &v))
        .map(|f| f.key.as_str())
        .collect();
    assert_eq!(vis, vec!["t1", "t4", "t5", "t6"]);
}

#[test]
fn group_children_see_their_siblings_and_the_top_level() {
    let s = schema(json!([
        {"key": "mode", "label": "模式", "type": "choice",
         "options": [{"value": "full", "label": "完整"}, {"value": "short", "label": "简要"}]},
        {"key": "members", "label": "成员", "type": "group", "fields": [
            {"key": "relation", "label": "关系", "type": "choice",
             "options": [{"value": "child", "label": "子女"}, {"value": "other", "label": "其他"}]},
            {"key": "note", "label": "说明", "type": "text", "required": true,
             "visible_when": {"field": "relation", "equals": "other"}},
            {"key": "phone", "label": "电话", "type": "phone", "required": true,
             "visible_when": {"field": "mode", "equals": "full"}}
        ]}
    ]));
    assert!(s.check().is_empty(), "{:?}", s.check());
    let group = s.field("members").unwrap();
    let note = group.child("note").unwrap();
    let phone = group.child("phone").unwrap();
    let top = values(json!({"mode": "short"}));
    let item = values(json!({"relation": "other"}));
    assert!(s.is_visible_in_item(group, note, &item, &top));
    assert!(!s.is_visible_in_item(group, phone, &item, &top));

    let errs = errors(
        &s,
        json!({"mode": "full", "members": [{"relation": "child"}, {"relation": "other", "x": 1}]}),
    );
    assert_eq!(
        errs,
        vec![
            ("members[0].phone".to_owned(), "form_required"),
            ("members[1].note".to_owned(), "form_required"),
            ("members[1].phone".to_owned(), "form_required"),
            ("members[1].x".to_owned(), "form_unknown_field"),
        ]
    );
    let out = ok(
        &s,
        json!({"mode": "short", "members": [{"relation": "child", "note": "ignored", "phone": "x"}]}),
    );
    assert_eq!(
        out,
        json!({"mode": "short", "members": [{"relation": "child"}]})
    );
}

#[test]
fn cycles_in_unchecked_schemas_hide_instead_of_looping() {
    let s = schema(json!([
        {"key": "a", "label": "A", "type": "text", "visible_when": {"field": "b", "filled": false}},
        {"key": "b", "label": "B", "type": "text", "visible_when": {"field": "a", "filled": false}},
        {"key": "c", "label": "C", "type": "text", "visible_when": {"field": "c", "filled": false}}
    ]));
    assert!(!s.check().is_empty());
    let v = values(json!({}));
    for f in s.fields() {
        assert!(!s.is_visible(f, &v));
    }
    assert_eq!(ok(&s, json!({"a": "1"})), json!({}));
}

// ---------------------------------------------------------------- values

#[test]
fn required_messages_name_the_field() {
    let s = schema(json!([
        {"key": "name", "label": "新生儿姓名", "label_en": "Baby's name", "type": "text", "required": true},
        {"key": "sex", "label": "性别", "type": "choice", "required": true,
         "options": [{"value": "m", "label": "男"}]},
        {"key": "scan", "label": "扫描件", "label_en": "Scan", "type": "file", "required": true},
        {"key": "kids", "label": "子女", "label_en": "Children", "type": "group", "required": true,
         "fields": [{"key": "n", "label": "姓名", "type": "text"}]}
    ]));
    let errs = s
        .validate(
            &values(json!({"name": "  ", "sex": null, "kids": []})),
            TODAY,
        )
        .unwrap_err();
    let msgs: Vec<(&str, &str, &str)> = errs
        .iter()
        .map(|e| (e.code, e.message_zh.as_str(), e.message_en.as_str()))
        .collect();
    assert_eq!(
        msgs,
        vec![
            ("form_required", "请填写“新生儿姓名”", "Enter Baby's name"),
            ("form_required", "请选择“性别”", "Choose 性别"),
            ("form_required", "请上传“扫描件”", "Upload Scan"),
            ("form_required", "请添加“子女”", "Add Children"),
        ]
    );
    assert_eq!(errs[0].to_string(), "name: Enter Baby's name");
    assert_eq!(s.required_keys(), vec!["name", "sex", "scan", "kids"]);
    // A draft may leave them empty.
    assert_eq!(
        s.validate_draft(&values(json!({"name": "  ", "sex": null})), TODAY)
            .unwrap(),
        FormValues::new()
    );
}

#[test]
fn unknown_keys_are_errors_even_in_drafts() {
    let s = one(json!({"type": "text"}));
    let v = values(json!({"x": "a", "y": 1}));
    for result in [s.validate(&v, TODAY), s.validate_draft(&v, TODAY)] {
        let errs = result.unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].path, "y");
        assert_eq!(errs[0].code, "form_unknown_field");
        assert!(errs[0].message_zh.contains("“y”"));
    }
}

#[test]
fn text() {
    let s = one(json!({"type": "text", "max_len": 4}));
    assert_eq!(
        ok(&s, json!({"x": "  浙江杭州 "})),
        json!({"x": "浙江杭州"})
    );
    assert_eq!(ok(&s, json!({"x": "\u{3000}"})), json!({}));
    let long = s
        .validate(&values(json!({"x": "浙江省杭州"})), TODAY)
        .unwrap_err();
    assert_eq!(long[0].code, "form_text_too_long");
    assert!(
        long[0].message_zh.contains("最多4个字"),
        "{}",
        long[0].message_zh
    );
    assert_eq!(
        errors(&s, json!({"x": "a\nb"})),
        vec![("x".into(), "form_text_invalid_character")]
    );
    assert_eq!(
        errors(&s, json!({"x": 12})),
        vec![("x".into(), "form_wrong_type")]
    );
    let m = one(json!({"type": "text", "multiline": true}));
    assert_eq!(
        ok(&m, json!({"x": " a\r\nb\rc\td "})),
        json!({"x": "a\nb\nc\td"})
    );
    assert_eq!(
        errors(&m, json!({"x": "a\u{0}b"})),
        vec![("x".into(), "form_text_invalid_character")]
    );
    let unlimited = one(json!({"type": "text"}));
    let huge = "字".repeat(MAX_TEXT_CHARS as usize + 1);
    assert_eq!(
        errors(&unlimited, json!({ "x": huge })),
        vec![("x".into(), "form_text_too_long")]
    );
}

#[test]
fn number() {
    let s = one(json!({"type": "number", "min": -5, "max": 100}));
    assert_eq!(ok(&s, json!({"x": 7})), json!({"x": 7}));
    assert_eq!(ok(&s, json!({"x": " -5 "})), json!({"x": -5}));
    assert_eq!(ok(&s, json!({"x": "+12"})), json!({"x": 12}));
    for (v, code) in [
        (json!(101), "form_number_too_large"),
        (json!(-6), "form_number_too_small"),
        (json!(1.5), "form_number_format"),
        (json!("1.0"), "form_number_format"),
        (json!("１２"), "form_number_format"),
        (json!("99999999999999999999"), "form_number_too_large"),
        (json!(u64::MAX), "form_number_too_large"),
        (json!(true), "form_wrong_type"),
    ] {
        assert_eq!(
            errors(&s, json!({ "x": v })),
            vec![("x".into(), code)],
            "{v}"
        );
    }
}

#[test]
fn money() {
    let s = one(json!({"type": "money", "max_fen": 1_000_000}));
    assert_eq!(ok(&s, json!({"x": "12.30"})), json!({"x": 1230}));
    assert_eq!(ok(&s, json!({"x": " 12.3 "})), json!({"x": 1230}));
    assert_eq!(ok(&s, json!({"x": "12"})), json!({"x": 1200}));
    assert_eq!(ok(&s, json!({"x": 1230})), json!({"x": 1230}));
    assert_eq!(ok(&s, json!({"x": 0})), json!({"x": 0}));
    for (v, code) in [
        (json!("12.345"), "form_money_format"),
        (json!("¥12"), "form_money_format"),
        (json!("1,000"), "form_money_format"),
        (json!(12.3), "form_money_format"),
        (json!(-1), "form_money_too_small"),
        (json!("-0.01"), "form_money_too_small"),
        (json!("10000.01"), "form_money_too_large"),
        (json!([]), "form_required"),
        (json!({}), "form_required"),
        (json!([1]), "form_wrong_type"),
    ] {
        if code == "form_required" {
            // Blank, and the field is optional: simply left out.
            assert_eq!(ok(&s, json!({ "x": v })), json!({}));
            continue;
        }
        assert_eq!(
            errors(&s, json!({ "x": v })),
            vec![("x".into(), code)],
            "{v}"
        );
    }
    let e = s
        .validate(&values(json!({"x": "10000.01"})), TODAY)
        .unwrap_err();
    assert!(
        e[0].message_zh.contains("10000.00元"),
        "{}",
        e[0].message_zh
    );
    assert!(
        e[0].message_en.contains("CNY 10000.00"),
        "{}",
        e[0].message_en
    );
    let neg = one(json!({"type": "money", "min_fen": -500}));
    assert_eq!(ok(&neg, json!({"x": "-5"})), json!({"x": -500}));
}

#[test]
fn dates() {
    let s = one(json!({"type": "date", "not_after_today": true}));
    assert_eq!(
        ok(&s, json!({"x": "2024年2月29日"})),
        json!({"x": "2024-02-29"})
    );
    assert_eq!(
        ok(&s, json!({"x": "2025-06-10"})),
        json!({"x": "2025-06-10"})
    );
    let e = s
        .validate(&values(json!({"x": "2025-06-11"})), TODAY)
        .unwrap_err();
    assert_eq!(e[0].code, "form_date_after_today");
    assert!(e[0].message_zh.contains("2025-06-10"));
    assert_eq!(
        errors(&s, json!({"x": "2023-02-29"})),
        vec![("x".into(), "form_date_invalid")]
    );
    assert_eq!(
        errors(&s, json!({"x": "29/02/2024"})),
        vec![("x".into(), "form_date_format")]
    );
    let future = one(json!({"type": "date", "not_before_today": true}));
    assert_eq!(
        errors(&future, json!({"x": "2025-06-09"})),
        vec![("x".into(), "form_date_before_today")]
    );
}

#[test]
fn choices() {
    let opts = json!([{"value": "a", "label": "甲", "label_en": "A"}, {"value": "b", "label": "乙"},
                      {"value": "c", "label": "丙"}]);
    let s = one(json!({"type": "choice", "options": opts}));
    assert_eq!(ok(&s, json!({"x": " b "})), json!({"x": "b"}));
    let e = s.validate(&values(json!({"x": "d"})), TODAY).unwrap_err();
    assert_eq!(e[0].code, "form_choice_unknown");
    assert!(
        e[0].message_zh.contains("甲、乙、丙"),
        "{}",
        e[0].message_zh
    );
    assert!(e[0].message_en.contains("A, 乙, 丙"), "{}", e[0].message_en);

    let m = one(json!({"type": "multi_choice", "options": opts, "min": 2, "max": 2}));
    assert_eq!(
        ok(&m, json!({"x": ["c", "a", "c"]})),
        json!({"x": ["a", "c"]})
    );
    assert_eq!(ok(&m, json!({"x": ["", " "]})), json!({}));
    assert_eq!(
        errors(&m, json!({"x": "a"})),
        vec![("x".into(), "form_choice_too_few")]
    );
    assert_eq!(
        errors(&m, json!({"x": ["a", "b", "c"]})),
        vec![("x".into(), "form_choice_too_many")]
    );
    assert_eq!(
        errors(&m, json!({"x": ["a", "zz"]})),
        vec![("x".into(), "form_choice_unknown")]
    );
    assert_eq!(
        errors(&m, json!({"x": ["a", 1]})),
        vec![("x".into(), "form_wrong_type")]
    );
    // Too few is "still missing" in a draft; too many is not.
    assert_eq!(
        Value::Object(m.validate_draft(&values(json!({"x": "a"})), TODAY).unwrap()),
        json!({"x": ["a"]})
    );
    assert!(
        m.validate_draft(&values(json!({"x": ["a", "b", "c"]})), TODAY)
            .is_err()
    );
}

#[test]
fn identifiers_reuse_their_modules_codes_and_messages() {
    let s = schema(json!([
        {"key": "id", "label": "父亲身份证号", "label_en": "Father's ID", "type": "resident_id"},
        {"key": "cc", "label": "信用代码", "type": "credit_code"}
    ]));
    assert_eq!(
        ok(
            &s,
            json!({"id": " 11010519491231002x ", "cc": "91330100716105852f"})
        ),
        json!({"id": "11010519491231002X", "cc": "91330100716105852F"})
    );
    let errs = s
        .validate(
            &values(json!({"id": "110105194912310021", "cc": "91330100716105852A"})),
            TODAY,
        )
        .unwrap_err();
    assert_eq!(errs[0].code, "resident_id_checksum");
    let expected = crate::identifiers::ResidentId::parse("110105194912310021", TODAY).unwrap_err();
    assert_eq!(
        errs[0].message_zh,
        format!("“父亲身份证号”：{}", expected.message_zh())
    );
    assert_eq!(
        errs[0].message_en,
        format!("Father's ID: {}", expected.message_en())
    );
    assert!(!errs[0].message_zh.contains("110105194912310021"));
    assert_eq!(errs[1].code, "credit_code_checksum");
    let future = s
        .validate(&values(json!({"id": "110105202601010012"})), TODAY)
        .unwrap_err();
    assert_eq!(future[0].code, "resident_id_birth_date_in_future");
}

#[test]
fn phones() {
    let s = one(json!({"type": "phone"}));
    for good in [
        "13800138000",
        " 138-0013-8000 ",
        "+86 138 0013 8000",
        "008613800138000",
        "8613800138000",
    ] {
        assert_eq!(
            ok(&s, json!({ "x": good })),
            json!({"x": "13800138000"}),
            "{good}"
        );
    }
    for bad in [
        "12800138000",
        "1380013800",
        "138001380000",
        "0571-88888888",
        "１３８００１３８０００",
    ] {
        assert_eq!(
            errors(&s, json!({ "x": bad })),
            vec![("x".into(), "form_phone_format")],
            "{bad}"
        );
    }
    let e = s
        .validate(&values(json!({"x": "１３８００１３８０００"})), TODAY)
        .unwrap_err();
    assert!(e[0].message_zh.contains("全角"));
}

#[test]
fn addresses() {
    let s = schema(json!([
        {"key": "addr", "label": "出生地点", "label_en": "Place of birth", "type": "address", "required": true}
    ]));
    assert_eq!(
        ok(
            &s,
            json!({"addr": {"division_code": " 330106 ", "detail": " 西湖区文三路1号 "}})
        ),
        json!({"addr": {"division_code": "330106", "detail": "西湖区文三路1号"}})
    );
    let errs = s
        .validate(
            &values(json!({"addr": {"division_code": "990106", "detail": "x".repeat(201), "zip": "310000"}})),
            TODAY,
        )
        .unwrap_err();
    let got: Vec<(&str, &str)> = errs.iter().map(|e| (e.path.as_str(), e.code)).collect();
    assert_eq!(
        got,
        vec![
            ("addr.zip", "form_unknown_field"),
            ("addr.division_code", "division_code_province"),
            ("addr.detail", "form_text_too_long"),
        ]
    );
    assert!(errs[1].message_zh.starts_with("“出生地点”的行政区划："));
    let half = values(json!({"addr": {"division_code": "330106"}}));
    let errs = s.validate(&half, TODAY).unwrap_err();
    assert_eq!(errs[0].path, "addr.detail");
    assert_eq!(errs[0].code, "form_required");
    assert_eq!(errs[0].message_zh, "请填写“出生地点”的详细地址");
    assert_eq!(errs[0].message_en, "Enter Place of birth (street address)");
    // A draft keeps the half that is there.
    assert_eq!(
        Value::Object(s.validate_draft(&half, TODAY).unwrap()),
        json!({"addr": {"division_code": "330106"}})
    );
    assert_eq!(
        errors(&s, json!({"addr": "杭州"})),
        vec![("addr".into(), "form_wrong_type")]
    );
    assert_eq!(
        errors(&s, json!({"addr": {"division_code": "", "detail": ""}})),
        vec![("addr".into(), "form_required")]
    );
}

#[test]
fn files() {
    let s =
        one(json!({"type": "file", "accept": ["application/pdf", "image/*"], "max_bytes": 1024}));
    let file = |media: &str, bytes: u64| json!({"x": {"id": "f1", "name": " 证明.pdf ", "media_type": media, "bytes": bytes}});
    assert_eq!(
        ok(&s, file("Image/PNG", 10)),
        json!({"x": {"id": "f1", "name": "证明.pdf", "media_type": "image/png", "bytes": 10}})
    );
    assert_eq!(
        errors(&s, file("application/zip", 2048)),
        vec![
            ("x".into(), "form_file_type"),
            ("x".into(), "form_file_too_large")
        ]
    );
    for bad in [
        json!({"x": {"id": "f1", "name": "a", "media_type": "image/png"}}),
        json!({"x": {"id": "f1", "name": "a", "media_type": "image/png", "bytes": -1}}),
        json!({"x": {"id": "f1", "name": "a", "media_type": "image/png", "bytes": 1, "path": "/etc"}}),
        json!({"x": "f1"}),
    ] {
        assert_eq!(
            errors(&s, bad.clone()),
            vec![("x".into(), "form_wrong_type")],
            "{bad}"
        );
    }
    let e = s
        .validate(&values(file("image/png", 2048)), TODAY)
        .unwrap_err();
    assert!(e[0].message_zh.contains("1 KB"), "{}", e[0].message_zh);
}

#[test]
fn groups() {
    let s = schema(json!([
        {"key": "members", "label": "家庭成员", "label_en": "Family members", "type": "group",
         "min_items": 2, "max_items": 3, "fields": [
            {"key": "name", "label": "姓名", "label_en": "Name", "type": "text", "required": true},
            {"key": "resident_id", "label": "身份证号", "label_en": "ID", "type": "resident_id"}
        ]}
    ]));
    let errs = s
        .validate(
            &values(
                json!({"members": [{"name": "张三"}, {"resident_id": "110105194912310021"}, 5]}),
            ),
            TODAY,
        )
        .unwrap_err();
    let got: Vec<(&str, &str)> = errs.iter().map(|e| (e.path.as_str(), e.code)).collect();
    assert_eq!(
        got,
        vec![
            ("members[1].name", "form_required"),
            ("members[1].resident_id", "resident_id_checksum"),
            ("members[2]", "form_wrong_type"),
        ]
    );
    assert_eq!(errs[0].message_zh, "请填写“家庭成员”第2项的“姓名”");
    assert_eq!(errs[0].message_en, "Enter Name (item 2 of Family members)");
    assert_eq!(
        errors(&s, json!({"members": [{"name": "a"}]})),
        vec![("members".into(), "form_group_too_few")]
    );
    assert_eq!(
        errors(
            &s,
            json!({"members": [{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": "d"}]})
        ),
        vec![("members".into(), "form_group_too_many")]
    );
    assert_eq!(
        errors(&s, json!({"members": {"name": "a"}})),
        vec![("members".into(), "form_wrong_type")]
    );
    assert!(
        s.validate_draft(&values(json!({"members": [{}]})), TODAY)
            .is_ok()
    );
    assert_eq!(
        ok(
            &s,
            json!({"members": [{"name": " 张三 "}, {"name": "李四", "resident_id": "11010519491231002x"}]})
        ),
        json!({"members": [{"name": "张三"}, {"name": "李四", "resident_id": "11010519491231002X"}]})
    );
}

#[test]
fn parents_example_from_the_brief() {
    let s = schema(json!([
        {"key": "father", "label": "父亲身份证号", "type": "resident_id", "required": true},
        {"key": "mother", "label": "母亲身份证号", "type": "resident_id", "required": true}
    ]));
    assert_eq!(
        ok(&s, json!({"father": FATHER, "mother": MOTHER})),
        json!({"father": FATHER, "mother": MOTHER})
    );
}

#[test]
fn without_a_form_every_value_sent_is_unknown() {
    assert!(validate_no_form(&FormValues::new()).is_ok());
    let errors = validate_no_form(&values(json!({"note": "x", "amount": 3}))).unwrap_err();
    let found: Vec<(&str, &str)> = errors.iter().map(|e| (e.path.as_str(), e.code())).collect();
    assert_eq!(
        found,
        vec![
            ("amount", "form_unknown_field"),
            ("note", "form_unknown_field")
        ]
    );
    assert!(
        errors
            .iter()
            .all(|e| !e.message_zh.is_empty() && !e.message_en.is_empty())
    );
}
