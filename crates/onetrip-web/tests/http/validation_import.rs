//! Rule validation on publish, catalog import (all-or-nothing) and export round trips.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn publishing_reports_every_violation_and_changes_nothing() {
    let t = TestApp::new().await;
    let uri = format!("/api/v1/items/{HOUSING_FUND_MAIN}");
    let before = t.get(&uri).await.json();
    let original = before["item"].clone();
    assert_eq!(original["online_depth"], "IV");
    assert_eq!(original["visits"], 0);

    let mut bad = original.clone();
    bad["base_code"] = Value::from("20005-bad"); // base_code_format
    bad["handling_kind"] = Value::from("immediate"); // immediate with promised > 0
    bad["promised_limit"] = Value::from(10); // > statutory 3
    bad["visits"] = Value::from(2); // depth IV with visits, and no reason
    bad["online_payment"] = Value::from(true); // no fees
    bad["situations"] = json!([{
        "code": "S01",
        "name": "本人提取",
        "materials": ["M01", "M99"],
        "guide": "本人提取的，在线申请。"
    }]);
    let r = t.admin_json(Method::PUT, &uri, &bad).await;
    let p = r.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let errors = r.field_errors();
    let expected = [
        ("base_code", "base_code_format"),
        ("promised_limit", "promised_exceeds_statutory"),
        ("promised_limit", "immediate_requires_zero_days"),
        ("visits", "full_online_requires_zero_visits"),
        ("visits_reason", "visits_reason_required"),
        ("online_payment", "online_payment_without_fee"),
        ("situations[0].materials[1]", "unknown_material"),
    ];
    for (path, code) in expected {
        assert_has(&errors, path, code);
    }
    assert_eq!(
        errors.len(),
        expected.len(),
        "each violation once: {errors:?}"
    );
    assert!(
        p["message_zh"].as_str().unwrap().contains('7'),
        "the count is in the message: {p}"
    );
    // Field messages name the rule in both languages.
    let e = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["code"] == "unknown_material")
        .unwrap();
    assert!(e["message_zh"].as_str().unwrap().contains("M99"));
    assert!(e["message_en"].as_str().unwrap().contains("M99"));

    // Nothing changed.
    let after = t.get(&uri).await.json();
    assert_eq!(after, before);
    let versions = t.get_json(&format!("{uri}/versions")).await;
    assert_eq!(versions.as_array().unwrap().len(), 1);

    // References that do not exist.
    let mut dangling = original.clone();
    dangling["department_code"] = Value::from("91330100716105852F");
    dangling["division_code"] = Value::from("330109");
    dangling["parent_code"] = Value::from("NOSUCHPARENT");
    let r = t.admin_json(Method::PUT, &uri, &dangling).await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let errors = r.field_errors();
    assert_has(&errors, "department_code", "unknown_reference");
    assert_has(&errors, "parent_code", "unknown_reference");
    // 萧山区 exists in the demo: only the department and the parent are unknown.
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(t.get(&uri).await.json(), before);
}

#[tokio::test]
async fn unreadable_and_misshapen_documents() {
    let t = TestApp::new().await;
    let uri = format!("/api/v1/items/{HOUSING_FUND_MAIN}");
    let before = t.get(&uri).await.json();

    for body in ["{\"name\": ", "not json", "", "[1,2"] {
        let r = t
            .admin_raw(Method::PUT, &uri, "application/json", body.to_string())
            .await;
        r.problem(StatusCode::BAD_REQUEST, "unreadable_document");
    }
    // Bodies over the limit are refused as a problem too (not plain text).
    let r = t
        .admin_raw(
            Method::PUT,
            &uri,
            "application/json",
            vec![b' '; 3 * 1024 * 1024],
        )
        .await;
    r.problem(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    // Well-formed JSON of the wrong shape: a 422 naming the field.
    let mut wrong = before["item"].clone();
    wrong["item_type"] = Value::from("licence");
    let r = t.admin_json(Method::PUT, &uri, &wrong).await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_has(&r.field_errors(), "item_type", "malformed");
    let mut unknown = before["item"].clone();
    unknown["colour"] = Value::from("blue");
    let r = t.admin_json(Method::PUT, &uri, &unknown).await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let r = t.admin_json(Method::PUT, &uri, &json!([1, 2, 3])).await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(t.get(&uri).await.json(), before);

    // Departments and divisions: unreadable, mismatched, invalid.
    let r = t
        .admin_raw(
            Method::PUT,
            "/api/v1/departments/123301000597435545",
            "application/json",
            "{",
        )
        .await;
    r.problem(StatusCode::BAD_REQUEST, "unreadable_document");
    let dept = t.get_json("/api/v1/departments/123301000597435545").await;
    let r = t
        .admin_json(Method::PUT, "/api/v1/departments/91330100716105852F", &dept)
        .await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "code_mismatch");
    let mut bad_dept = dept.clone();
    bad_dept["division_code"] = Value::from("110105");
    bad_dept["name"] = Value::from(" ");
    let r = t
        .admin_json(
            Method::PUT,
            "/api/v1/departments/123301000597435545",
            &bad_dept,
        )
        .await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let errors = r.field_errors();
    assert_has(&errors, "departments[0].division_code", "unknown_reference");
    assert_has(&errors, "departments[0].name", "required");
    assert_eq!(
        t.get_json("/api/v1/departments/123301000597435545").await,
        dept
    );

    let r = t
        .admin_json(
            Method::PUT,
            "/api/v1/divisions/339999",
            &json!({"code": "339999", "name": ""}),
        )
        .await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_has(&r.field_errors(), "divisions[0].name", "required");
    t.get("/api/v1/divisions/339999")
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    // A valid division is saved.
    let r = t
        .admin_json(
            Method::PUT,
            "/api/v1/divisions/330112",
            &json!({"code": "330112", "name": "测试区"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let d = t.get_json("/api/v1/divisions/330112").await;
    assert_eq!(d["name"], "测试区");
    assert_eq!(d["parent_code"], "330100");
}

/// A catalog with several problems spread over divisions, departments and items.
fn invalid_catalog(valid_item: &Value) -> Value {
    let mut too_long = valid_item.clone();
    too_long["promised_limit"] = Value::from(30); // statutory is 3
    let mut orphan = valid_item.clone();
    orphan["implementation_code"] = Value::from("123301000597435545200050009001");
    orphan["handling_code"] = Value::from("123301000597435545200050009001001");
    orphan["department_code"] = Value::from("91330100716105852F"); // unknown department
    let mut misshapen = valid_item.clone();
    misshapen["implementation_code"] = Value::from("123301000597435545200050009002");
    misshapen["handling_code"] = Value::from("123301000597435545200050009002001");
    misshapen["service_object"] = Value::from("everyone");
    json!({
        "divisions": [
            {"code": "12345", "name": "坏区划"},
            {"code": "330112", "name": "新区"}
        ],
        "departments": [
            {"code": "91330100716105852X", "name": "坏部门", "division_code": "330100"},
            {"code": "91330100716105852F", "name": "", "division_code": "330100"}
        ],
        "items": [too_long, orphan, misshapen]
    })
}

#[tokio::test]
async fn an_invalid_import_lists_every_problem_and_imports_nothing() {
    let t = TestApp::new().await;
    let before = t.export().await;
    let valid_item = t.item_doc(HOUSING_FUND_MAIN).await;
    let doc = invalid_catalog(&valid_item);

    // Shape errors come first and are all listed.
    let r = t
        .admin_json(Method::POST, "/api/v1/catalog/import", &doc)
        .await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let errors = r.field_errors();
    assert_has(&errors, "items[2].service_object", "malformed");
    assert_eq!(t.export().await, before);

    // Without the shape error, every rule violation across the document is listed.
    let mut doc = doc;
    doc["items"].as_array_mut().unwrap().pop();
    let r = t
        .admin_json(Method::POST, "/api/v1/catalog/import", &doc)
        .await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let errors = r.field_errors();
    assert_has(&errors, "divisions[0].code", "invalid_division_code");
    assert_has(&errors, "departments[0].code", "invalid_credit_code");
    assert_has(&errors, "departments[1].name", "required");
    assert_has(
        &errors,
        "items[0].promised_limit",
        "promised_exceeds_statutory",
    );
    assert!(
        errors.len() >= 4,
        "several problems across the document: {errors:?}"
    );
    // The valid parts (division 330112, the item referring to the declared department) are
    // not saved either.
    let after = t.export().await;
    assert_eq!(after, before, "nothing imported");
    assert_eq!(after["items"].as_array().unwrap().len(), 142);
    t.get("/api/v1/divisions/330112")
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    t.get("/api/v1/items/123301000597435545200050009001")
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");

    // Unknown top-level keys and a non-object document.
    let r = t
        .admin_json(
            Method::POST,
            "/api/v1/catalog/import",
            &json!({"items": [], "itmes": []}),
        )
        .await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_has(&r.field_errors(), "itmes", "malformed");
    // Syntax errors are unreadable documents (400), as for a single item.
    for (content_type, body) in [
        ("application/yaml", "items: [unclosed"),
        ("application/json", "{\"items\": ["),
        ("", "{\"items\": "),
    ] {
        let r = t
            .admin_raw(Method::POST, "/api/v1/catalog/import", content_type, body)
            .await;
        r.problem(StatusCode::BAD_REQUEST, "unreadable_document");
    }
    // Not UTF-8.
    let r = t
        .admin_raw(
            Method::POST,
            "/api/v1/catalog/import",
            "application/json",
            vec![0xff, 0xfe, b'{'],
        )
        .await;
    r.problem(StatusCode::BAD_REQUEST, "unreadable_document");
    assert_eq!(t.export().await, before);
}

#[tokio::test]
async fn a_valid_yaml_import_is_applied_and_reported() {
    let t = TestApp::new().await;
    let yaml = r#"
divisions:
  - code: "330112"
    name: 测试新区
departments:
  - code: "91330100716105852F"
    name: 杭州测试科技有限公司
    division_code: "330112"
items:
  - base_code: "200990001000"
    implementation_code: "91330100716105852F200990001000"
    name: 测试企业骆驼证明开具
    item_type: public_service
    legal_basis: [《测试条例》第一条]
    department_code: "91330100716105852F"
    division_code: "330112"
    service_object: organisation
    handling_kind: promised
    statutory_limit: 10
    promised_limit: 5
    channels: [online, window]
    visits: 1
    visits_reason: 领取纸质证明
    online_depth: III
    result:
      result_type: document
      name: 骆驼证明
    contacts:
      consultation_phone: "0571-12345678"
      complaint_phone: "12345"
    materials:
      - id: M01
        name: 营业执照
        form: electronic
        source: {kind: upload}
"#;
    let r = t
        .admin_raw(
            Method::POST,
            "/api/v1/catalog/import",
            "application/yaml",
            yaml,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"divisions": 1, "departments": 1, "items_created": 1,
               "items_versioned": 0, "items_unchanged": 0})
    );
    let code = "91330100716105852F200990001000";
    let doc = t.item_doc(code).await;
    assert_eq!(doc["name"], "测试企业骆驼证明开具");
    assert_eq!(doc["materials"][0]["required"], true, "defaults applied");
    assert_eq!(t.get_json("/api/v1/items").await["total"], 142);
    let found = t
        .get_json(&format!("/api/v1/items?q={}", enc("骆驼")))
        .await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["implementation_code"], code);
    // The department is searchable by name too (its name is part of the item's text).
    let found = t
        .get_json(&format!("/api/v1/items?q={}", enc("测试科技")))
        .await;
    assert!(
        found["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["implementation_code"] == code),
        "{found}"
    );
    // Visible from its own division, not from a sibling.
    let page = t.get_json("/api/v1/items?division=330112&limit=100").await;
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["implementation_code"] == code)
    );
    let page = t.get_json("/api/v1/items?division=330106&limit=100").await;
    assert!(
        !page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["implementation_code"] == code)
    );

    // Re-importing is idempotent; an edit makes a new version. Content sniffing without a
    // content type.
    let r = t
        .admin_raw(Method::POST, "/api/v1/catalog/import", "text/plain", yaml)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["items_unchanged"], 1);
    assert_eq!(r.json()["items_created"], 0);
    let edited = yaml.replace("promised_limit: 5", "promised_limit: 4");
    let r = t
        .admin_raw(
            Method::POST,
            "/api/v1/catalog/import",
            "application/yaml",
            edited,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["items_versioned"], 1);
    let versions = t.get_json(&format!("/api/v1/items/{code}/versions")).await;
    assert_eq!(versions.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn export_round_trips_in_json_and_yaml() {
    let t = TestApp::new().await;
    let r = t.get("/api/v1/catalog/export").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"catalog.json\"")
    );
    let json_export = r.json();
    assert_eq!(json_export["items"].as_array().unwrap().len(), 142);
    assert!(json_export["divisions"].as_array().unwrap().len() >= 30);
    assert!(!json_export["departments"].as_array().unwrap().is_empty());
    assert_eq!(
        t.get_json("/api/v1/catalog/export?format=json").await,
        json_export
    );

    let r = t.get("/api/v1/catalog/export?format=yaml").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("application/yaml"));
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"catalog.yaml\"")
    );
    let yaml = r.text();
    assert!(yaml.contains("购买自住住房提取住房公积金"));

    // Importing either export back changes nothing.
    for (content_type, body) in [
        ("application/yaml", yaml.clone()),
        (
            "application/json",
            serde_json::to_string(&json_export).unwrap(),
        ),
    ] {
        let r = t
            .admin_raw(Method::POST, "/api/v1/catalog/import", content_type, body)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{content_type}: {}", r.text());
        let report = r.json();
        assert_eq!(report["items_unchanged"], 142, "{report}");
        assert_eq!(report["items_created"], 0);
        assert_eq!(report["items_versioned"], 0);
        assert_eq!(t.export().await, json_export);
    }
    // Into an empty database the YAML export recreates the same catalog.
    let empty = TestApp::build(Some(ADMIN), false).await;
    assert_eq!(empty.get_json("/api/v1/items").await["total"], 0);
    let r = empty
        .admin_raw(
            Method::POST,
            "/api/v1/catalog/import",
            "application/yaml",
            yaml,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["items_created"], 142);
    assert_eq!(empty.export().await, json_export);
    let found = empty
        .get_json(&format!("/api/v1/items?q={}", enc("公积金")))
        .await;
    assert!(
        found["total"].as_u64().unwrap() >= 3,
        "the index is built: {found}"
    );

    t.get("/api/v1/catalog/export?format=xml")
        .await
        .problem(StatusCode::BAD_REQUEST, "invalid_parameter");
}
