//! Material auto-resolution (一证通办) over HTTP: the demo citizen's birth bundle resolves with
//! zero uploads, every data read shows under "who used my data", an expired certificate is
//! reported stale, and the one-ID completion rate is published.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

const BIRTH_MEDICAL: &str = "11330100000897962X070060001000";
const VACCINATION: &str = "11330106065627154C200060002000";
const BIRTH_REGISTRATION: &str = "1133010600425119XW070010007000";
const MEDICAL_INSURANCE: &str = "11330100067843715T200090004000";
const SOCIAL_SECURITY_CARD: &str = "113301000354023845200030002000";
const RESALE_TRANSFER: &str = "113301000839917858070040001001";

/// The birth bundle (出生一件事) of Hangzhou's 西湖区, members in dependency order.
fn birth_bundle() -> Value {
    json!([
        {"item": BIRTH_MEDICAL},
        {"item": VACCINATION},
        {"item": BIRTH_REGISTRATION, "situation": "S01"},
        {"item": MEDICAL_INSURANCE, "situation": "S01"},
        {"item": SOCIAL_SECURITY_CARD, "situation": "S02"},
    ])
}

fn statuses(r: &Value) -> Vec<(String, String, String)> {
    r["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| {
            i["materials"].as_array().unwrap().iter().map(move |m| {
                (
                    i["item"].as_str().unwrap().to_owned(),
                    m["name"].as_str().unwrap().to_owned(),
                    m["status"].as_str().unwrap().to_owned(),
                )
            })
        })
        .collect()
}

#[tokio::test]
async fn the_demo_citizens_birth_bundle_needs_no_uploads_and_every_read_is_logged() {
    let t = TestApp::new().await;
    let (mut b, csrf) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    let body = json!({"items": birth_bundle(), "case": "BIRTH-2026-0001"});
    // Below L2 the platform does not touch the person's data.
    b.json(Method::POST, "/api/v1/resolutions", &body, Some(&csrf))
        .await
        .problem(StatusCode::FORBIDDEN, "assurance_step_up_required");
    let r = b
        .json(
            Method::POST,
            "/api/v1/me/real-name",
            &json!({}),
            Some(&csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = b
        .json(Method::POST, "/api/v1/resolutions", &body, Some(&csrf))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let res = r.json();
    let all = statuses(&res);
    assert_eq!(res["items"].as_array().unwrap().len(), 5);
    assert!(
        all.iter().all(|(_, _, s)| s == "resolved"),
        "every material resolves: {all:#?}"
    );
    assert_eq!(res["uploads_needed"], 0);
    assert_eq!(res["complete"], true);
    // Sources: the hospital's birth record through the item's grant, the birth certificate as
    // the output of the first member, the parents' certificates.
    let first = &res["items"][0]["materials"];
    let record = first
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["source"]["kind"] == "shared_data")
        .unwrap();
    assert_eq!(record["source"]["resource"], "ZJ_BIRTH_RECORD");
    let registration = res["items"][2]["materials"].as_array().unwrap();
    assert_eq!(registration[0]["source"]["kind"], "item_output");
    assert_eq!(registration[0]["source"]["item"], BIRTH_MEDICAL);
    assert_eq!(registration[1]["source"]["kind"], "certificate");
    assert_eq!(registration[1]["source"]["certificate_type"], "ID_CARD");

    // The read shows under "who used my data", with the item as consumer and the case.
    let log = b.get("/api/v1/me/data-access").await.json();
    let reads: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["case_ref"] == "BIRTH-2026-0001")
        .collect();
    assert_eq!(reads.len(), 1, "one entry per data access: {log:#}");
    assert_eq!(reads[0]["resource"], "ZJ_BIRTH_RECORD");
    assert_eq!(reads[0]["purpose"], "service-application");
    assert_eq!(reads[0]["outcome"], "allowed");

    // A person may not resolve for someone else.
    b.json(
        Method::POST,
        "/api/v1/resolutions",
        &json!({"items": birth_bundle(), "applicant": {"resident_id": "330102199007220264"}}),
        Some(&csrf),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "applicant_not_self");
}

#[tokio::test]
async fn an_expired_certificate_is_stale_and_data_fills_the_real_estate_transfer() {
    let t = TestApp::new().await;
    // The operator resolves for a walk-in applicant (as a window clerk would).
    let r = t
        .admin_json(
            Method::POST,
            "/api/v1/resolutions",
            &json!({"items": [{"item": RESALE_TRANSFER, "situation": "S01"}],
                    "applicant": {"resident_id": PERSON_RID}, "case": "RE-1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let res = r.json();
    let data: Vec<&str> = res["items"][0]["materials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["source"]["kind"] == "shared_data")
        .map(|m| m["source"]["resource"].as_str().unwrap())
        .collect();
    for resource in [
        "HZ_RESALE_CONTRACT",
        "HZ_DEED_TAX_RECORD",
        "ZJ_MARRIAGE_RECORD",
        "ZJ_HOUSEHOLD_RECORD",
    ] {
        assert!(data.contains(&resource), "{resource} not pulled: {res:#}");
    }
    assert_eq!(res["uploads_needed"], 0, "{res:#}");

    // The demo citizen's only driving licence expired: the licence-based item reports it stale.
    let stale: Vec<Value> = t
        .app
        .db
        .certificates_of_holder(onetrip_domain::certificate::HolderKind::Person, PERSON_RID)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| {
            c.status_on(jiff::civil::date(2026, 11, 21))
                == onetrip_domain::certificate::CertificateStatus::Expired
        })
        .map(|c| json!(c.type_code))
        .collect();
    assert!(
        !stale.is_empty(),
        "the demo citizen holds an expired certificate"
    );
    let expired_type = stale[0].as_str().unwrap().to_owned();
    let item = t.export().await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["materials"].as_array().unwrap().iter().any(|m| {
                m["source"]["certificate_type"] == expired_type.as_str() && m["required"] != false
            })
        })
        .cloned()
        .unwrap_or_else(|| panic!("no item needs {expired_type}"));
    let situation = item["situations"]
        .as_array()
        .and_then(|s| {
            s.iter().find(|s| {
                s["materials"].as_array().unwrap().iter().any(|id| {
                    item["materials"].as_array().unwrap().iter().any(|m| {
                        m["id"] == *id && m["source"]["certificate_type"] == expired_type.as_str()
                    })
                })
            })
        })
        .map(|s| s["code"].clone());
    let r = t
        .admin_json(
            Method::POST,
            "/api/v1/resolutions",
            &json!({"items": [{"item": item["implementation_code"], "situation": situation}],
                    "applicant": {"resident_id": PERSON_RID}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let res = r.json();
    let m = res["items"][0]["materials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["status"] == "stale")
        .unwrap_or_else(|| panic!("no stale material: {res:#}"))
        .clone();
    assert_eq!(m["gap"]["code"], "certificate_expired");
    assert!(m["gap"]["valid_until"].is_string());
    assert_eq!(res["stale"], 1);
    assert_eq!(res["complete"], false);
}

#[tokio::test]
async fn bad_requests_are_problems() {
    let t = TestApp::new().await;
    let post = |body: Value| {
        let t = &t;
        async move {
            t.admin_json(Method::POST, "/api/v1/resolutions", &body)
                .await
        }
    };
    let r = post(
        json!({"items": [{"item": BIRTH_REGISTRATION}], "applicant": {"resident_id": PERSON_RID}}),
    )
    .await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_has(
        &r.field_errors(),
        "items[0].situation",
        "situation_required",
    );
    let r = post(json!({"items": [{"item": BIRTH_MEDICAL}, {"item": BIRTH_REGISTRATION, "situation": "S9"}], "applicant": {"resident_id": PERSON_RID}})).await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_has(&r.field_errors(), "items[1].situation", "situation_unknown");
    post(json!({"items": [{"item": "NOPE"}], "applicant": {"resident_id": PERSON_RID}}))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    let r = post(json!({"items": [], "applicant": {"resident_id": PERSON_RID}})).await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_has(&r.field_errors(), "items", "resolution_items_count");
    post(json!({"items": [{"item": BIRTH_MEDICAL}]}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "applicant_required");
    let r = post(json!({"items": [{"item": BIRTH_MEDICAL}], "applicant": {"resident_id": "330102198503140139"}})).await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let errors = r.field_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "applicant.resident_id");
    // Nothing was read for a refused request.
    assert!(
        t.app
            .db
            .access_log(&onetrip_store::AccessLogFilter {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_one_id_rate_is_published_per_division_and_department() {
    let t = TestApp::new().await;
    let r = t.get("/api/v1/metrics/one-id-rate").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let m = r.json();
    let items = m["items"].as_f64().unwrap();
    let situations = m["situations"].as_f64().unwrap();
    assert!(items > 0.0 && items < 1.0, "{items}");
    assert!(situations > 0.0 && situations < 1.0, "{situations}");
    let rows = m["by_division"].as_array().unwrap();
    let xihu = rows.iter().find(|r| r["code"] == "330106").unwrap();
    assert_eq!(xihu["name"], "西湖区");
    assert!(xihu["items_complete"].as_u64().unwrap() >= 1);
    let total: u64 = m["by_department"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["items"].as_u64().unwrap())
        .sum();
    assert_eq!(total, m["counts"]["items"].as_u64().unwrap());
    // Revoking the birth-record grant of the birth medical certificate item lowers the rate.
    let grants = t
        .app
        .db
        .grants(
            Some(&onetrip_domain::sharing::Consumer::Item(
                BIRTH_MEDICAL.into(),
            )),
            Some("ZJ_BIRTH_RECORD"),
        )
        .await
        .unwrap();
    assert_eq!(grants.len(), 1);
    t.app
        .db
        .revoke_grant(&grants[0].id, jiff::Timestamp::now())
        .await
        .unwrap();
    let after = t.get_json("/api/v1/metrics/one-id-rate").await;
    assert!(
        after["counts"]["situations_complete"].as_u64().unwrap()
            < m["counts"]["situations_complete"].as_u64().unwrap()
    );
}
