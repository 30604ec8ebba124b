//! The form engine end to end: the birth bundle's unified form from data/demo, and properties
//! that hold for every kind of field and any JSON an applicant (or an attacker) can send.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use jiff::civil::{Date, date};
use onetrip_domain::Localized;
use onetrip_domain::form::*;
use onetrip_domain::identifiers::resident_id_check_char;
use proptest::prelude::*;
use serde_json::{Value, json};

const TODAY: Date = date(2025, 6, 10);
const BIRTH_FORM: &str = include_str!("../../../data/demo/forms/birth_unified.yaml");

fn values(v: Value) -> FormValues {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

fn birth_form() -> FormSchema {
    serde_norway::from_str(BIRTH_FORM).unwrap()
}

// ---------------------------------------------------------------- the birth bundle

fn good_birth_submission() -> Value {
    json!({
        "baby_name": " 王小明 ",
        "baby_sex": "male",
        "birth_date": "2025/6/1",
        "birth_place": {"division_code": "330106", "detail": "浙江大学医学院附属妇产科医院"},
        "birth_certificate_no": "R330012345",
        "birth_certificate_scan": {"id": "ignored", "name": "x.pdf", "media_type": "application/pdf", "bytes": 1},
        "father_name": "王大明",
        "father_resident_id": "330106198803150413",
        "mother_name": "李丽",
        "mother_resident_id": "330106199006220022",
        "parents_married": "yes",
        "marriage_certificate_no": "J330106-2015-001234",
        "register_with": "father",
        "household_address": {"division_code": "330106", "detail": "西湖区文三路100号3幢201室"},
        "family_members": [
            {"name": "王建国", "relation": "grandfather", "resident_id": "330106195801010034"},
            {"name": "张秀英", "relation": "grandmother", "resident_id": "330106196005050048"},
            {"name": "王桂兰", "relation": "other", "relation_note": "曾祖母", "resident_id": "330106194003030060"}
        ],
        "enrol_medical_insurance": "yes",
        "premium_payment": "online",
        "apply_social_security_card": "yes",
        "card_bank": "zjrcu",
        "delivery_expenses": "3280.5",
        "applicant_relation": "father",
        "applicant_name": "王大明",
        "applicant_resident_id": "330106198803150413",
        "applicant_phone": "+86 138-0013-8000",
        "delivery_method": "express",
        "delivery_address": {"division_code": "330106", "detail": "西湖区文三路100号3幢201室"}
    })
}

#[test]
fn the_birth_form_parses_and_passes_check() {
    let form = birth_form();
    assert_eq!(form.check(), vec![], "{:#?}", form.check());
    let titles: Vec<&str> = form.sections.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(
        titles,
        vec!["出生信息", "户籍登记", "参保信息", "申请人信息"]
    );
    // "20-odd fields after deduplication".
    let count = form.fields().count();
    assert!((20..=30).contains(&count), "{count} fields");
    assert!(form.required_keys().contains(&"father_resident_id"));
    assert!(!form.required_keys().contains(&"family_members"));
    let members = form.field("family_members").unwrap();
    assert!(matches!(members.kind, FieldKind::Group { .. }));
    assert!(members.child("relation_note").is_some());
    // Every kind the platform needs for this bundle is there.
    for kind in [
        "text",
        "choice",
        "date",
        "address",
        "resident_id",
        "phone",
        "file",
        "group",
        "money",
    ] {
        assert!(
            form.fields().any(|f| f.kind.type_name() == kind),
            "no {kind} field"
        );
    }
    // Serialising and reading back gives the same form.
    let again: FormSchema =
        serde_norway::from_str(&serde_norway::to_string(&form).unwrap()).unwrap();
    assert_eq!(again, form);
}

#[test]
fn a_good_birth_submission_is_normalised() {
    let form = birth_form();
    let out = form
        .validate(&values(good_birth_submission()), TODAY)
        .unwrap();
    let out = Value::Object(out);
    assert_eq!(out["baby_name"], "王小明");
    assert_eq!(out["birth_date"], "2025-06-01");
    assert_eq!(out["applicant_phone"], "13800138000");
    assert_eq!(out["delivery_expenses"], 328_050);
    assert_eq!(out["family_members"][2]["relation_note"], "曾祖母");
    // The certificate number is there, so the scan is hidden and dropped.
    assert!(out.get("birth_certificate_scan").is_none());
    assert!(out.get("non_marital_statement").is_none());
    // Normalised values validate to themselves.
    assert_eq!(
        form.validate(out.as_object().unwrap(), TODAY).unwrap(),
        *out.as_object().unwrap()
    );
}

#[test]
fn a_bad_birth_submission_lists_every_error() {
    let form = birth_form();
    let mut v = good_birth_submission();
    let m = v.as_object_mut().unwrap();
    m.insert("baby_name".into(), json!(""));
    m.insert("baby_sex".into(), json!("unknown"));
    m.insert("birth_date".into(), json!("2025-06-11"));
    m.insert("birth_place".into(), json!({"division_code": "330106"}));
    m.remove("birth_certificate_no");
    m.remove("birth_certificate_scan");
    m.insert("father_resident_id".into(), json!("330106198803150414"));
    m.remove("mother_resident_id");
    m.insert("parents_married".into(), json!("no"));
    m.insert(
        "family_members".into(),
        json!([{"name": "王建国", "relation": "other"}]),
    );
    m.insert("enrol_medical_insurance".into(), json!("no"));
    m.insert("premium_payment".into(), json!("bogus"));
    m.insert("delivery_expenses".into(), json!("12.345"));
    m.remove("card_bank");
    m.insert("applicant_phone".into(), json!("12345"));
    m.remove("delivery_address");
    m.insert("nickname".into(), json!("小明"));

    let errors = form.validate(&values(v.clone()), TODAY).unwrap_err();
    let got: Vec<(&str, &str)> = errors.iter().map(|e| (e.path.as_str(), e.code)).collect();
    assert_eq!(
        got,
        vec![
            ("baby_name", "form_required"),
            ("baby_sex", "form_choice_unknown"),
            ("birth_date", "form_date_after_today"),
            ("birth_place.detail", "form_required"),
            ("birth_certificate_scan", "form_required"),
            ("father_resident_id", "resident_id_checksum"),
            ("mother_resident_id", "form_required"),
            ("non_marital_statement", "form_required"),
            ("family_members[0].relation_note", "form_required"),
            ("family_members[0].resident_id", "form_required"),
            ("card_bank", "form_required"),
            ("applicant_phone", "form_phone_format"),
            ("delivery_address", "form_required"),
            ("nickname", "form_unknown_field"),
        ]
    );
    let by_path = |p: &str| errors.iter().find(|e| e.path == p).unwrap();
    assert_eq!(by_path("baby_name").message_zh, "请填写“新生儿姓名”");
    assert_eq!(by_path("baby_name").message_en, "Enter Baby's name");
    assert_eq!(
        by_path("birth_certificate_scan").message_zh,
        "请上传“出生医学证明（扫描件）”"
    );
    assert!(
        by_path("father_resident_id")
            .message_zh
            .starts_with("“父亲公民身份号码”：校验码错误"),
        "{}",
        by_path("father_resident_id").message_zh
    );
    assert_eq!(
        by_path("family_members[0].relation_note").message_zh,
        "请填写“户内其他成员”第1项的“具体关系”"
    );
    for e in &errors {
        assert!(!e.message_zh().is_empty() && !e.message_en().is_empty());
        assert_eq!(e.code(), e.code);
    }

    // The draft of the same values: nothing missing is reported, the malformed values are.
    let draft = form.validate_draft(&values(v), TODAY).unwrap_err();
    let got: Vec<(&str, &str)> = draft.iter().map(|e| (e.path.as_str(), e.code)).collect();
    assert_eq!(
        got,
        vec![
            ("baby_sex", "form_choice_unknown"),
            ("birth_date", "form_date_after_today"),
            ("father_resident_id", "resident_id_checksum"),
            ("applicant_phone", "form_phone_format"),
            ("nickname", "form_unknown_field"),
        ]
    );
}

#[test]
fn a_half_filled_birth_draft_is_saved() {
    let form = birth_form();
    let draft = values(json!({
        "baby_name": "王小明",
        "birth_place": {"detail": "浙江大学医学院附属妇产科医院"},
        "parents_married": "yes",
        "family_members": [{"name": "王建国"}],
    }));
    let out = form.validate_draft(&draft, TODAY).unwrap();
    assert_eq!(Value::Object(out.clone()), Value::Object(draft));
    assert_eq!(form.validate_draft(&out, TODAY).unwrap(), out);
    assert!(form.validate(&out, TODAY).is_err());
}

// ---------------------------------------------------------------- properties

/// One field of every kind, with conditions between them (only on earlier fields).
fn kitchen_sink() -> FormSchema {
    serde_json::from_value(json!({
        "code": "sink", "version": 3, "title": "所有类型",
        "sections": [
            {"key": "a", "title": "A", "fields": [
                {"key": "t", "label": "文字", "type": "text", "max_len": 30},
                {"key": "ml", "label": "多行", "type": "text", "multiline": true},
                {"key": "n", "label": "整数", "type": "number", "min": -1000, "max": 1_000_000},
                {"key": "m", "label": "金额", "type": "money", "max_fen": 100_000_000},
                {"key": "d", "label": "日期", "type": "date", "not_after_today": true},
                {"key": "c", "label": "单选", "type": "choice",
                 "options": [{"value": "a", "label": "甲"}, {"value": "b", "label": "乙"}, {"value": "c", "label": "丙"}]},
                {"key": "mc", "label": "多选", "type": "multi_choice", "min": 1, "max": 3,
                 "options": [{"value": "a", "label": "甲"}, {"value": "b", "label": "乙"},
                             {"value": "c", "label": "丙"}, {"value": "d", "label": "丁"}]}
            ]},
            {"key": "b", "title": "B", "fields": [
                {"key": "rid", "label": "身份证", "type": "resident_id"},
                {"key": "cc", "label": "信用代码", "type": "credit_code"},
                {"key": "ph", "label": "电话", "type": "phone"},
                {"key": "addr", "label": "地址", "type": "address"},
                {"key": "f", "label": "文件", "type": "file", "accept": ["application/pdf", "image/*"],
                 "max_bytes": 5_242_880},
                {"key": "g", "label": "成员", "type": "group", "max_items": 4, "fields": [
                    {"key": "name", "label": "姓名", "type": "text", "required": true},
                    {"key": "rel", "label": "关系", "type": "choice",
                     "options": [{"value": "child", "label": "子女"}, {"value": "other", "label": "其他"}]},
                    {"key": "note", "label": "说明", "type": "text", "required": true,
                     "visible_when": {"field": "rel", "equals": "other"}},
                    {"key": "id", "label": "身份证", "type": "resident_id"},
                    {"key": "ph", "label": "电话", "type": "phone",
                     "visible_when": {"field": "c", "equals": "a"}}
                ]},
                {"key": "cond_money", "label": "金额说明", "type": "text",
                 "visible_when": {"field": "m", "equals": "12.30"}},
                {"key": "cond_multi", "label": "多选说明", "type": "text", "required": true,
                 "visible_when": {"field": "mc", "equals": "b"}},
                {"key": "cond_chain", "label": "链", "type": "number", "required": true,
                 "visible_when": {"all": [{"field": "cond_multi", "filled": true},
                                          {"field": "d", "in": ["2024-01-05", "2024-1-6"]}]}},
                {"key": "cond_not", "label": "非", "type": "text",
                 "visible_when": {"not": {"field": "t", "filled": true}}},
                {"key": "cond_group", "label": "有成员", "type": "text",
                 "visible_when": {"field": "g", "filled": true}}
            ]}
        ]
    }))
    .unwrap()
}

/// The keys of the kitchen sink, with the kind of value to generate for each.
const SINK_KEYS: [&str; 18] = [
    "t",
    "ml",
    "n",
    "m",
    "d",
    "c",
    "mc",
    "rid",
    "cc",
    "ph",
    "addr",
    "f",
    "g",
    "cond_money",
    "cond_multi",
    "cond_chain",
    "cond_not",
    "cond_group",
];

fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(" ".to_owned()),
        Just("\u{3000}".to_owned()),
        Just("１３８００１３８０００".to_owned()),
        Just("a\r\nb".to_owned()),
        Just("\u{0}".to_owned()),
        Just("12.30".to_owned()),
        Just("-0.01".to_owned()),
        Just("9223372036854775807".to_owned()),
        Just("99999999999999999999.99".to_owned()),
        Just("2024年2月30日".to_owned()),
        Just("11010519491231002x".to_owned()),
        Just("110105491231002".to_owned()),
        Just("😀".repeat(40)),
        "[0-9./年月日 -]{0,12}",
        "\\PC{0,40}",
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        any::<String>().prop_map(Value::from),
        tricky_string().prop_map(Value::from),
    ];
    let key = prop_oneof![
        Just("division_code".to_owned()),
        Just("detail".to_owned()),
        Just("id".to_owned()),
        Just("name".to_owned()),
        Just("media_type".to_owned()),
        Just("bytes".to_owned()),
        Just("rel".to_owned()),
        Just("note".to_owned()),
        "[a-z_]{1,8}",
    ];
    leaf.prop_recursive(3, 32, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn spaced(s: String) -> impl Strategy<Value = Value> {
    (prop_oneof![Just(""), Just(" "), Just("\t")], any::<bool>()).prop_map(move |(pad, both)| {
        if both {
            Value::from(format!("{pad}{s}{pad}"))
        } else {
            Value::from(format!("{s}{pad}"))
        }
    })
}

fn valid_resident_id() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["330106", "110105", "330782", "440305"]),
        1930i16..=2024,
        1i8..=12,
        1i8..=28,
        0u16..1000,
        any::<bool>(),
    )
        .prop_map(|(div, y, m, d, seq, lower)| {
            let first = format!("{div}{y:04}{m:02}{d:02}{seq:03}");
            let check = resident_id_check_char(&first).unwrap();
            let s = format!("{first}{check}");
            if lower { s.to_lowercase() } else { s }
        })
}

fn plausible_text() -> impl Strategy<Value = String> {
    prop_oneof![19 => "[a-z 中文王李]{0,20}", 1 => Just("a".repeat(31))]
}

fn date_string() -> impl Strategy<Value = String> {
    let day = prop_oneof![9 => 1i8..=28, 1 => 29i8..=31];
    let year = prop_oneof![9 => 1990i16..=2024, 1 => 2025i16..=2030];
    (year, 1i8..=12, day, 0usize..4).prop_map(|(y, m, d, style)| match style {
        0 => format!("{y:04}-{m:02}-{d:02}"),
        1 => format!("{y}-{m}-{d}"),
        2 => format!("{y}/{m}/{d}"),
        _ => format!("{y}年{m}月{d}日"),
    })
}

fn phone_string() -> impl Strategy<Value = String> {
    (3u8..=9, 0u64..1_000_000_000, 0usize..3).prop_map(|(second, rest, style)| {
        let n = format!("1{second}{rest:09}");
        match style {
            0 => n,
            1 => format!("+86 {}-{}-{}", &n[..3], &n[3..7], &n[7..]),
            _ => format!("0086{n}"),
        }
    })
}

fn address_value() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            9 => prop::sample::select(vec!["330106", "330100", "330000", "330106001000"]),
            1 => prop::sample::select(vec!["990000", "", "33010"]),
        ],
        plausible_text(),
    )
        .prop_map(|(code, detail)| json!({"division_code": code, "detail": detail}))
}

fn file_value() -> impl Strategy<Value = Value> {
    (
        "[a-z0-9]{1,8}",
        prop_oneof![
            9 => prop::sample::select(vec!["application/pdf", "IMAGE/PNG", "image/jpeg"]),
            1 => Just("text/plain"),
        ],
        prop_oneof![9 => 0u64..5_000_000, 1 => 5_000_000u64..6_000_000],
    )
        .prop_map(|(id, media, bytes)| {
            json!({"id": id, "name": format!("{id}.bin"), "media_type": media, "bytes": bytes})
        })
}

fn group_value() -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (
            plausible_text(),
            prop_oneof![
                9 => prop::sample::select(vec!["child", "other", ""]),
                1 => Just("nope"),
            ],
            prop::option::of(plausible_text()),
            prop::option::of(valid_resident_id()),
        )
            .prop_map(|(name, rel, note, id)| {
                let mut item = json!({"name": name, "rel": rel});
                if let Some(note) = note {
                    item["note"] = Value::from(note);
                }
                if let Some(id) = id {
                    item["id"] = Value::from(id);
                }
                item
            }),
        0..4,
    )
    .prop_map(Value::Array)
}

/// A value meant for the field `key` of the kitchen sink: usually well-formed, sometimes not.
fn plausible(key: &'static str) -> BoxedStrategy<Value> {
    let options = |opts: &'static [&'static str]| prop::sample::select(opts.to_vec());
    match key {
        "t" | "ml" | "cond_money" | "cond_multi" | "cond_not" | "cond_group" => {
            plausible_text().prop_flat_map(spaced).boxed()
        }
        "n" | "cond_chain" => prop_oneof![
            8 => (-1000i64..=1_000_000).prop_map(Value::from),
            8 => (-1000i64..=1_000_000).prop_map(|n| Value::from(format!(" {n}"))),
            1 => prop_oneof![Just(-1001i64), Just(1_000_001)].prop_map(Value::from),
        ]
        .boxed(),
        "m" => prop_oneof![
            4 => (0i64..=100_000_000).prop_map(Value::from),
            4 => (0i64..=100_000_000).prop_map(|f| Value::from(format_yuan(f))),
            4 => Just(Value::from("12.3")),
            4 => Just(Value::from(1230)),
            1 => prop_oneof![Just(json!(-1)), Just(json!("1000000.01")), Just(json!(1.5))],
        ]
        .boxed(),
        "d" => prop_oneof![date_string().prop_map(Value::from), Just(json!("2024-1-5"))].boxed(),
        "c" => prop_oneof![
            9 => options(&["a", "b", "c", " a "]).prop_map(Value::from),
            1 => Just(Value::from("z")),
        ]
        .boxed(),
        "mc" => prop::collection::vec(options(&["a", "b", "c", "d", "b ", ""]), 0..4)
            .prop_map(|v| json!(v))
            .boxed(),
        "rid" => valid_resident_id().prop_flat_map(spaced).boxed(),
        "cc" => prop_oneof![
            9 => options(&["91330100716105852F", " 91330100716105852f"]),
            1 => Just("91330100716105852A"),
        ]
        .prop_map(Value::from)
        .boxed(),
        "ph" => phone_string().prop_map(Value::from).boxed(),
        "addr" => address_value().boxed(),
        "f" => file_value().boxed(),
        "g" => group_value().boxed(),
        _ => Just(Value::Null).boxed(),
    }
}

/// Form values for the kitchen sink: each key absent, plausible or arbitrary JSON.
fn sink_values() -> impl Strategy<Value = FormValues> {
    let per_key: Vec<BoxedStrategy<Option<Value>>> = SINK_KEYS
        .iter()
        .map(|k| {
            prop_oneof![
                6 => Just(None),
                16 => plausible(k).prop_map(Some),
                1 => arb_json().prop_map(Some),
            ]
            .boxed()
        })
        .collect();
    let extra = prop::option::weighted(0.1, ("[a-z]{1,6}", arb_json()));
    (per_key, extra).prop_map(|(vals, extra)| {
        let mut m = FormValues::new();
        for (k, v) in SINK_KEYS.iter().zip(vals) {
            if let Some(v) = v {
                m.insert((*k).to_owned(), v);
            }
        }
        if let Some((k, v)) = extra {
            m.insert(k, v);
        }
        m
    })
}

fn is_snake_code(code: &str) -> bool {
    code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

const FORM_CODES: [&str; 23] = [
    "form_required",
    "form_unknown_field",
    "form_wrong_type",
    "form_text_too_long",
    "form_text_invalid_character",
    "form_number_format",
    "form_number_too_small",
    "form_number_too_large",
    "form_money_format",
    "form_money_too_small",
    "form_money_too_large",
    "form_date_format",
    "form_date_invalid",
    "form_date_after_today",
    "form_date_before_today",
    "form_choice_unknown",
    "form_choice_too_few",
    "form_choice_too_many",
    "form_phone_format",
    "form_file_type",
    "form_file_too_large",
    "form_group_too_few",
    "form_group_too_many",
];

fn assert_well_formed(errors: &[FieldError]) {
    assert!(!errors.is_empty(), "Err(vec![]) is never returned");
    for e in errors {
        assert!(is_snake_code(e.code), "{}", e.code);
        assert!(
            FORM_CODES.contains(&e.code)
                || e.code.starts_with("resident_id_")
                || e.code.starts_with("credit_code_")
                || e.code.starts_with("division_code_"),
            "unexpected code {}",
            e.code
        );
        assert!(!e.message_zh.trim().is_empty(), "{e:?}");
        assert!(!e.message_en.trim().is_empty(), "{e:?}");
        assert!(!e.path.is_empty(), "{e:?}");
        assert_eq!(e.code(), e.code);
        assert_eq!(e.message_zh(), e.message_zh);
        assert_eq!(e.message_en(), e.message_en);
    }
}

#[test]
fn the_kitchen_sink_is_a_valid_definition() {
    let sink = kitchen_sink();
    assert_eq!(sink.check(), vec![]);
    let keys: Vec<&str> = sink.fields().map(|f| f.key.as_str()).collect();
    assert_eq!(keys, SINK_KEYS);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever arrives, validation answers (no panic), and when it accepts, the normalised
    /// values are a fixed point; errors always carry a stable code and both messages.
    #[test]
    fn validation_is_total_and_idempotent(v in sink_values()) {
        let sink = kitchen_sink();
        for draft in [false, true] {
            let run = |v: &FormValues| if draft {
                sink.validate_draft(v, TODAY)
            } else {
                sink.validate(v, TODAY)
            };
            match run(&v) {
                Ok(out) => {
                    prop_assert_eq!(run(&out), Ok(out.clone()));
                    // Visibility is the same on raw and normalised values.
                    for f in sink.fields() {
                        prop_assert_eq!(sink.is_visible(f, &v), sink.is_visible(f, &out), "{}", f.key);
                        if !sink.is_visible(f, &v) {
                            prop_assert!(!out.contains_key(&f.key));
                        }
                    }
                }
                Err(errors) => {
                    assert_well_formed(&errors);
                    // The same input gives the same answer.
                    prop_assert_eq!(run(&v), Err(errors));
                }
            }
        }
        // Whatever a submission accepts, a draft accepts too, with the same output.
        if let Ok(out) = sink.validate(&v, TODAY) {
            prop_assert_eq!(sink.validate_draft(&v, TODAY), Ok(out));
        }
    }

    /// Any JSON at all in any field.
    #[test]
    fn validation_never_panics_on_arbitrary_json(
        entries in prop::collection::vec((prop::sample::select(SINK_KEYS.to_vec()), arb_json()), 0..8)
    ) {
        let sink = kitchen_sink();
        let v: FormValues = entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        match sink.validate(&v, TODAY) {
            Ok(out) => prop_assert_eq!(sink.validate(&out, TODAY), Ok(out.clone())),
            Err(errors) => assert_well_formed(&errors),
        }
        match sink.validate_draft(&v, TODAY) {
            Ok(out) => prop_assert_eq!(sink.validate_draft(&out, TODAY), Ok(out.clone())),
            Err(errors) => assert_well_formed(&errors),
        }
        for f in sink.fields() {
            let _ = sink.is_visible(f, &v);
        }
    }

    /// A required field that is hidden never produces an error, whatever its value.
    #[test]
    fn hidden_required_fields_never_error(
        v in sink_values(),
        toggle in prop_oneof![Just(json!("hide")), Just(json!(" hide ")), Just(Value::Null)],
    ) {
        let mut hidden = kitchen_sink();
        let show = Condition::Equals { field: "toggle".into(), equals: json!("show") };
        for f in hidden.sections.iter_mut().flat_map(|s| s.fields.iter_mut()) {
            f.required = true;
            f.visible_when = Some(match f.visible_when.take() {
                Some(c) => Condition::All(vec![show.clone(), c]),
                None => show.clone(),
            });
        }
        hidden.sections[0].fields.insert(0, serde_json::from_value(json!({
            "key": "toggle", "label": "显示", "type": "choice",
            "options": [{"value": "show", "label": "显示"}, {"value": "hide", "label": "隐藏"}]
        })).unwrap());
        prop_assert_eq!(hidden.check(), vec![]);
        let mut v: FormValues = v.into_iter().filter(|(k, _)| SINK_KEYS.contains(&k.as_str())).collect();
        v.insert("toggle".into(), toggle.clone());
        let expected: FormValues = if toggle.is_null() {
            FormValues::new()
        } else {
            [("toggle".to_owned(), json!("hide"))].into_iter().collect()
        };
        prop_assert_eq!(hidden.validate(&v, TODAY), Ok(expected));
    }

    /// Money: yuan strings and fen integers meet at the same fen.
    #[test]
    fn money_round_trips(fen in any::<i64>(), small in -1_000_000i64..1_000_000) {
        prop_assert_eq!(parse_yuan(&format_yuan(fen)), Some(fen));
        let form: FormSchema = serde_json::from_value(json!({
            "code": "m", "version": 1, "title": "金额",
            "sections": [{"key": "s", "title": "S", "fields": [
                {"key": "fee", "label": "费用", "type": "money", "min_fen": i64::MIN}
            ]}]
        })).unwrap();
        for fen in [fen, small] {
            let as_string = values(json!({"fee": format_yuan(fen)}));
            let as_integer = values(json!({"fee": fen}));
            let expected = values(json!({"fee": fen}));
            prop_assert_eq!(form.validate(&as_string, TODAY), Ok(expected.clone()));
            prop_assert_eq!(form.validate(&as_integer, TODAY), Ok(expected));
        }
        // One decimal is accepted too.
        let one_decimal = format!("{}.{}", small / 10, (small % 10).abs());
        if small >= 0 {
            prop_assert_eq!(parse_yuan(&one_decimal), Some((small / 10) * 100 + (small % 10) * 10));
        }
    }

    /// The birth form never panics and stays idempotent when any one value is replaced.
    #[test]
    fn the_birth_form_tolerates_any_single_change(
        key in prop::sample::select(birth_form().fields().map(|f| f.key.clone()).collect::<Vec<_>>()),
        value in arb_json(),
    ) {
        let form = birth_form();
        let mut v = values(good_birth_submission());
        v.insert(key, value);
        match form.validate(&v, TODAY) {
            Ok(out) => prop_assert_eq!(form.validate(&out, TODAY), Ok(out.clone())),
            Err(errors) => assert_well_formed(&errors),
        }
    }
}

/// The generators of the properties above reach acceptance often, with every field (also the
/// conditional ones) present in some accepted output: otherwise idempotence would be tested on
/// nothing.
#[test]
fn the_generators_reach_every_field() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let sink = kitchen_sink();
    let mut runner = TestRunner::deterministic();
    let mut accepted = 0;
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..1000 {
        let v = sink_values().new_tree(&mut runner).unwrap().current();
        if let Ok(out) = sink.validate(&v, TODAY) {
            accepted += 1;
            seen.extend(out.keys().cloned());
        }
    }
    assert!(accepted >= 100, "only {accepted} of 1000 accepted");
    let missing: Vec<&str> = SINK_KEYS
        .iter()
        .copied()
        .filter(|k| !seen.contains(*k))
        .collect();
    assert!(missing.is_empty(), "never accepted: {missing:?}");
}
