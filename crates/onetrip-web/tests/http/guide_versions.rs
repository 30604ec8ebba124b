//! Guides (one per situation) and item versioning through the API.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::Value;

use crate::common::*;

const PURCHASE: &str = "购买自住住房提取住房公积金";

fn material_ids(guide: &Value) -> Vec<String> {
    guide["materials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn purchase_withdrawal_has_seven_situations_with_their_own_materials() {
    let t = TestApp::new().await;
    let code = t.find_code("购买自住住房提取", PURCHASE).await;
    let item = t.item_doc(&code).await;
    let guides = t.get_json(&format!("/api/v1/items/{code}/guide")).await;
    assert_eq!(guides["implementation_code"], code.as_str());
    assert_eq!(guides["name"], PURCHASE);
    let situations = guides["situations"].as_array().unwrap();
    assert_eq!(situations.len(), 7);

    let mut seen_codes = BTreeSet::new();
    let mut material_sets = BTreeSet::new();
    for (guide, declared) in situations
        .iter()
        .zip(item["situations"].as_array().unwrap())
    {
        let sc = guide["situation"]["code"].as_str().unwrap();
        assert!(
            seen_codes.insert(sc.to_string()),
            "situation codes are distinct"
        );
        assert_eq!(guide["situation"], *declared, "the situation as declared");
        assert_eq!(guide["implementation_code"], code.as_str());
        assert_eq!(guide["item_name"], PURCHASE);
        assert!(!guide["situation"]["guide"].as_str().unwrap().is_empty());
        let ids = material_ids(guide);
        assert!(!ids.is_empty(), "{sc} has materials");
        // Exactly the situation's materials, in the item's order.
        let wanted: BTreeSet<&str> = declared["materials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap())
            .collect();
        let item_order: Vec<String> = item["materials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .filter(|id| wanted.contains(id.as_str()))
            .collect();
        assert_eq!(ids, item_order, "{sc}");
        for m in guide["materials"].as_array().unwrap() {
            let source = m["source"]["kind"].as_str().unwrap();
            assert_eq!(m["auto_resolvable"], source != "upload", "{m}");
            assert!(!m["name"].as_str().unwrap().is_empty());
        }
        // Time limit: the situation's own, else the item's.
        let expected_limit = declared
            .get("promised_limit")
            .cloned()
            .unwrap_or_else(|| item["promised_limit"].clone());
        assert_eq!(guide["promised_limit"], expected_limit, "{sc}");
        assert_eq!(guide["statutory_limit"], item["statutory_limit"]);
        // Conditions: the item's followed by the situation's.
        let conditions = guide["conditions"].as_array().unwrap();
        let item_conditions = item["acceptance_conditions"].as_array().unwrap();
        assert_eq!(&conditions[..item_conditions.len()], &item_conditions[..]);
        material_sets.insert(ids);
    }
    assert_eq!(
        material_sets.len(),
        7,
        "every situation needs a different set"
    );
    // Some situations are slower than others.
    let limits: BTreeSet<u64> = situations
        .iter()
        .map(|g| g["promised_limit"].as_u64().unwrap())
        .collect();
    assert!(limits.len() > 1, "{limits:?}");

    // One situation on its own is the same guide.
    for guide in situations {
        let sc = guide["situation"]["code"].as_str().unwrap();
        let one = t
            .get_json(&format!("/api/v1/items/{code}/guide/{sc}"))
            .await;
        assert_eq!(&one, guide);
    }
    // Unknown situation.
    let p = t
        .get(&format!("/api/v1/items/{code}/guide/S99"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    assert!(
        p["message_zh"].as_str().unwrap().contains("办理情形"),
        "{p}"
    );
    t.get(&format!("/api/v1/items/{code}/guide/default"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn an_item_without_situations_has_the_default_guide() {
    let t = TestApp::new().await;
    let item = t.item_doc(HOUSING_FUND_MAIN).await;
    assert!(
        item.get("situations")
            .is_none_or(|s| s.as_array().unwrap().is_empty())
    );
    let guides = t
        .get_json(&format!("/api/v1/items/{HOUSING_FUND_MAIN}/guide"))
        .await;
    let situations = guides["situations"].as_array().unwrap();
    assert_eq!(situations.len(), 1);
    assert_eq!(situations[0]["situation"]["code"], "default");
    let required: Vec<String> = item["materials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m.get("required").is_none_or(|r| r == true))
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(material_ids(&situations[0]), required);
    let one = t
        .get_json(&format!("/api/v1/items/{HOUSING_FUND_MAIN}/guide/default"))
        .await;
    assert_eq!(&one, &situations[0]);
}

#[tokio::test]
async fn publishing_an_edited_item_creates_a_version_and_updates_search() {
    let t = TestApp::new().await;
    let code = "123301000597435545200050003000"; // 住房公积金个人住房贷款
    let uri = format!("/api/v1/items/{code}");
    let original = t.item_doc(code).await;
    assert_eq!(original["name"], "住房公积金个人住房贷款");
    let before = t.get(&uri).await;
    assert_eq!(before.json()["version"], 1);

    // Nothing in the demo is about camels yet.
    let q = format!("/api/v1/items?q={}", enc("骆驼"));
    assert_eq!(t.get_json(&q).await["total"], 0);

    let mut edited = original.clone();
    edited["name"] = Value::from("住房公积金骆驼贷款");
    edited["promised_limit"] = Value::from(10);
    let r = t.admin_json(Method::PUT, &uri, &edited).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json(),
        serde_json::json!({"implementation_code": code, "version": 2, "changed": true})
    );
    // The same document again changes nothing.
    let r = t.admin_json(Method::PUT, &uri, &edited).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json(),
        serde_json::json!({"implementation_code": code, "version": 2, "changed": false})
    );

    // Current version.
    let current = t.get(&uri).await;
    assert_eq!(current.json()["version"], 2);
    assert_eq!(current.json()["current"], true);
    assert_eq!(current.json()["item"], edited);
    assert_eq!(
        current.header("etag"),
        Some(format!("\"{code}-2\"").as_str())
    );
    assert_ne!(current.header("etag"), before.header("etag"));

    // Version list.
    let versions = t.get_json(&format!("{uri}/versions")).await;
    let numbers: Vec<i64> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2]);
    let t1: jiff::Timestamp = versions[0]["published_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let t2: jiff::Timestamp = versions[1]["published_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(t1 <= t2);

    // The old version is kept, immutable.
    let v1 = t.get(&format!("{uri}/versions/1")).await;
    assert_eq!(v1.status, StatusCode::OK);
    assert_eq!(
        v1.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let v1 = v1.json();
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["current"], false);
    assert_eq!(v1["item"], original);
    let v2 = t.get(&format!("{uri}/versions/2")).await;
    assert_eq!(v2.json()["current"], true);
    assert_eq!(v2.json()["item"]["name"], "住房公积金骆驼贷款");
    t.get(&format!("{uri}/versions/3"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    t.get(&format!("{uri}/versions/0"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");

    // The search index follows.
    let found = t.get_json(&q).await;
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["items"][0]["implementation_code"], code);
    assert_eq!(found["items"][0]["name"], "住房公积金骆驼贷款");
    assert_eq!(found["items"][0]["version"], 2);
    assert!(
        found["items"][0]["highlight"]
            .as_str()
            .unwrap()
            .contains("<b>骆驼</b>")
    );
    let funds = t
        .get_json(&format!("/api/v1/items?q={}&limit=100", enc("公积金")))
        .await;
    let hit = funds["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["implementation_code"] == code)
        .unwrap();
    assert_eq!(hit["name"], "住房公积金骆驼贷款");
    // The listing shows the new version too.
    let listed = t
        .get_json("/api/v1/items?department=123301000597435545&limit=100")
        .await;
    let row = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["implementation_code"] == code)
        .unwrap();
    assert_eq!(row["version"], 2);
    assert_eq!(row["name"], "住房公积金骆驼贷款");

    // The guide serves the current version.
    let guides = t.get_json(&format!("{uri}/guide")).await;
    assert_eq!(guides["name"], "住房公积金骆驼贷款");
}

#[tokio::test]
async fn publishing_a_new_item_under_its_code() {
    let t = TestApp::new().await;
    let mut doc = t.item_doc(HOUSING_FUND_MAIN).await;
    let code = "123301000597435545200050009000";
    doc["implementation_code"] = Value::from(code);
    doc["base_code"] = Value::from("200050009000");
    doc.as_object_mut().unwrap().remove("handling_code");
    doc["name"] = Value::from("住房公积金缴存证明打印");
    let r = t
        .admin_json(Method::PUT, &format!("/api/v1/items/{code}"), &doc)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["version"], 1);
    assert_eq!(r.json()["changed"], true);
    assert_eq!(t.get_json("/api/v1/items").await["total"], 142);
    let found = t
        .get_json(&format!("/api/v1/items?q={}", enc("缴存证明")))
        .await;
    assert!(
        found["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["implementation_code"] == code),
        "{found}"
    );

    // The code in the address must be the document's.
    let r = t
        .admin_json(
            Method::PUT,
            "/api/v1/items/123301000597435545200050009999",
            &doc,
        )
        .await;
    let p = r.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_has(&r.field_errors(), "implementation_code", "malformed");
    assert_eq!(p["errors"].as_array().unwrap().len(), 1);
    t.get("/api/v1/items/123301000597435545200050009999")
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
}
