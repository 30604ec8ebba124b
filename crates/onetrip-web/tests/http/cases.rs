//! Bundles and cases over HTTP: a real-name citizen answers the birth bundle's questionnaire,
//! gets the prefilled form and submits it once (an `Idempotency-Key` makes a repeat harmless);
//! four departments see their cases; a department officer and a window clerk act on them; the
//! applicant sees the timeline; bad input gets problems with stable codes.

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use onetrip_domain::identity::StaffRole;
use serde_json::{Value, json};

use crate::common::*;

const HEALTH_CITY: &str = "11330100000897962X";

async fn submit(b: &mut Browser<'_>, csrf: &str, key: &str, body: &Value) -> Resp {
    b.send(
        req(Method::POST, "/api/v1/applications")
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-csrf-token", csrf)
            .header("idempotency-key", key),
        Body::from(serde_json::to_vec(body).unwrap()),
    )
    .await
}

#[tokio::test]
async fn the_birth_bundle_over_http() {
    let t = TestApp::new().await;
    // The bundle and its reduction figures are public.
    let bundles = t.get_json("/api/v1/bundles").await;
    assert!(
        bundles
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["code"] == "ZJ-BIRTH")
    );
    let reduction = t.get_json("/api/v1/bundles/ZJ-BIRTH/reduction").await;
    assert!(reduction["materials_after"].as_u64() < reduction["materials_before"].as_u64());

    let (mut b, csrf) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    let answers =
        json!({"parents_married": "yes", "medical_insurance": "yes", "social_security_card": "no"});
    // Below real name (L2) the questionnaire asks for a step-up.
    b.json(
        Method::POST,
        "/api/v1/bundles/ZJ-BIRTH/questionnaire",
        &json!({"answers": answers}),
        Some(&csrf),
    )
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
    // A wrong answer is reported with its code.
    let r = b
        .json(
            Method::POST,
            "/api/v1/bundles/ZJ-BIRTH/questionnaire",
            &json!({"answers": {"parents_married": "maybe"}}),
            Some(&csrf),
        )
        .await;
    let p = r.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let codes: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"questionnaire_not_an_option"), "{p}");
    assert!(codes.contains(&"questionnaire_required"), "{p}");

    let r = b
        .json(
            Method::POST,
            "/api/v1/bundles/ZJ-BIRTH/questionnaire",
            &json!({"answers": answers}),
            Some(&csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let prepared = r.json();
    assert_eq!(
        prepared["selection"]["members"].as_array().unwrap().len(),
        4
    );
    assert_eq!(prepared["prefill"]["applicant_phone"], PERSON_PHONE);
    let mut form = prepared["prefill"].as_object().unwrap().clone();
    for (k, v) in [
        (
            "birth_place",
            json!({"division_code": "330106", "detail": "浙江大学医学院附属妇产科医院"}),
        ),
        ("register_with", json!("father")),
        ("relation_to_head", json!("子")),
        ("applicant_relation", json!("father")),
        ("delivery_method", json!("pickup")),
    ] {
        form.insert(k.into(), v);
    }

    // A malformed form: every problem at once, nothing stored.
    let mut bad = form.clone();
    bad.insert("father_resident_id".into(), json!("330102198503140139"));
    bad.remove("relation_to_head");
    let body = |form: &serde_json::Map<String, Value>| json!({"target": {"kind": "bundle", "code": "ZJ-BIRTH"}, "answers": answers, "form": form, "channel": "mobile"});
    let r = submit(&mut b, &csrf, "bad-1", &body(&bad)).await;
    let errors = r.field_errors();
    assert_has(&errors, "form.father_resident_id", "resident_id_checksum");
    assert_has(&errors, "form.relation_to_head", "form_required");

    // One submission; the same key again replays it; the same key for another body is refused.
    let r = submit(&mut b, &csrf, "birth-1", &body(&form)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let submitted = r.json();
    assert_eq!(submitted["uploads"], 0);
    let again = submit(&mut b, &csrf, "birth-1", &body(&form)).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.json(), submitted);
    let mut other = form.clone();
    other.insert("relation_to_head".into(), json!("女"));
    submit(&mut b, &csrf, "birth-1", &body(&other))
        .await
        .problem(StatusCode::CONFLICT, "idempotency_key_reused");
    let mine = b.get("/api/v1/me/applications").await.json();
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");

    // The birth certificate's department takes it in and decides; the household case starts.
    let cases = submitted["cases"].as_array().unwrap();
    let number = |member: &str| {
        cases.iter().find(|c| c["member"] == member).unwrap()["number"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (mut intake, intake_csrf) = staff(
        &t,
        "wj-intake",
        StaffRole::DepartmentOfficer,
        "330100",
        Some(HEALTH_CITY),
    )
    .await;
    let (mut officer, officer_csrf) = staff(
        &t,
        "wj-officer",
        StaffRole::DepartmentHead,
        "330100",
        Some(HEALTH_CITY),
    )
    .await;
    let queue = officer
        .get(&format!("/api/v1/departments/{HEALTH_CITY}/queue"))
        .await
        .json();
    assert!(
        queue
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["number"] == number("birth_certificate").as_str()
                && c["state"] == "awaiting_intake"),
        "{queue}"
    );
    let action = |n: &str| format!("/api/v1/cases/{n}/actions");
    let birth = number("birth_certificate");
    let r = intake
        .json(
            Method::POST,
            &action(&birth),
            &json!({"action": "accept"}),
            Some(&intake_csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // The one who took it in may not decide it.
    intake
        .json(
            Method::POST,
            &action(&birth),
            &json!({"action": "complete_step", "stage": 0, "step": 0, "opinion": "同意"}),
            Some(&intake_csrf),
        )
        .await
        .problem(StatusCode::FORBIDDEN, "case_separation_of_duties");
    // Deciding before the review step is done conflicts with the case's state.
    officer
        .json(
            Method::POST,
            &action(&birth),
            &json!({"action": "decide", "outcome": {"kind": "approved"}}),
            Some(&officer_csrf),
        )
        .await
        .problem(StatusCode::CONFLICT, "case_stage_incomplete");
    for body in [
        json!({"action": "complete_step", "stage": 0, "step": 0, "opinion": "出生信息核验一致"}),
        json!({"action": "decide", "outcome": {"kind": "approved"}}),
        json!({"action": "issue_result", "delivery": "electronic"}),
    ] {
        let r = officer
            .json(Method::POST, &action(&birth), &body, Some(&officer_csrf))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{body}: {}", r.text());
    }
    let household = b
        .get(&format!("/api/v1/cases/{}", number("household")))
        .await
        .json();
    assert_eq!(household["state"], "awaiting_intake", "{household}");

    // The applicant's timeline, in plain words; the chain of every case verifies.
    let timeline = b
        .get(&format!(
            "/api/v1/applications/{}/timeline",
            submitted["application"].as_str().unwrap()
        ))
        .await
        .json();
    let texts: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text_zh"].as_str().unwrap())
        .collect();
    assert!(texts.iter().any(|t| t.contains("准予")), "{texts:?}");
    let report = officer
        .get(&format!("/api/v1/cases/{birth}/verify"))
        .await
        .json();
    assert_eq!(report["intact"], true);
    let chains = t
        .admin_json(Method::GET, "/api/v1/event-chains/verify", &Value::Null)
        .await
        .json();
    assert_eq!(chains["intact"], true, "{chains}");
    // Another person may not see the application.
    let (mut stranger, _) = t
        .registered("330102199007220264", "林晓燕", "13900139000")
        .await;
    stranger
        .get(&format!("/api/v1/cases/{birth}"))
        .await
        .problem(StatusCode::FORBIDDEN, "case_not_permitted");
}

/// 医疗费用手工（零星）报销 (Hangzhou): in no bundle, applied for on its own with its own form.
const MEDICAL_REIMBURSEMENT: &str = "11330100067843715T050090003000";
/// 住房公积金单位缴存登记 (Hangzhou): only organisations apply for it.
const HOUSING_FUND_EMPLOYER: &str = "123301000597435545200050002000";
/// 失业登记 (Hangzhou): an item without a form of its own.
const UNEMPLOYMENT_REGISTRATION: &str = "113301000354023845200030004000";

#[tokio::test]
async fn an_item_applied_for_alone_is_checked_against_its_own_form() {
    let t = TestApp::new().await;
    let (mut b, csrf) = t.real_named(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;

    // The item's form, prefilled from the account and from the e-receipt the item may read;
    // the diagnosis (L4) is not among what the item was granted.
    let r = b
        .get(&format!("/api/v1/items/{MEDICAL_REIMBURSEMENT}/form"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let prepared = r.json();
    assert_eq!(prepared["form"]["code"], "medical_reimbursement");
    let prefill = prepared["prefill"].as_object().unwrap().clone();
    assert_eq!(prefill["name"], PERSON_NAME);
    assert_eq!(prefill["phone"], PERSON_PHONE);
    assert_eq!(prefill["hospital"], "浙江大学医学院附属第一医院");
    assert_eq!(prefill["amount"], 386540);
    assert_eq!(prefill["treated_on"], "2026-11-09");
    assert_eq!(
        prepared["prefill_sources"]["hospital"],
        "data:ZJ_MEDICAL_EINVOICE"
    );
    assert!(!r.text().contains("阑尾炎"), "{}", r.text());
    // An item without a form has nothing to prefill; an unknown item is 404.
    let none = b
        .get(&format!("/api/v1/items/{UNEMPLOYMENT_REGISTRATION}/form"))
        .await
        .json();
    assert_eq!(none["form"], Value::Null);
    b.get("/api/v1/items/000000000000000000000000000000/form")
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");

    // Its materials to upload: the itemised bill, the medical record, the debit card.
    let mut uploads = serde_json::Map::new();
    for (m, name) in [
        ("M03", "清单.pdf"),
        ("M04", "病历.pdf"),
        ("M05", "借记卡.pdf"),
    ] {
        let file = upload(&mut b, &csrf, name, &pdf(name)).await.json();
        uploads.insert(
            format!("{MEDICAL_REIMBURSEMENT}.{m}"),
            json!({"id": file["id"], "name": name, "media_type": "application/pdf"}),
        );
    }
    let body = |form: &serde_json::Map<String, Value>| json!({"target": {"kind": "item", "code": MEDICAL_REIMBURSEMENT}, "form": form, "uploads": uploads, "channel": "web"});

    // Every problem of the item's form at once, nothing stored.
    let mut bad = prefill.clone();
    bad.insert("visit_kind".into(), json!("other"));
    bad.insert("inpatient".into(), json!("inpatient"));
    bad.insert(
        "paper_receipts".into(),
        json!([{"number": "P-1", "amount": "-3", "issued_on": "2026-11-10"}]),
    );
    bad.insert("bank".into(), json!("icbc"));
    bad.insert("favourite_colour".into(), json!("blue"));
    let r = submit(&mut b, &csrf, "medical-bad", &body(&bad)).await;
    let errors = r.field_errors();
    assert_has(&errors, "form.visit_kind_note", "form_required");
    assert_has(&errors, "form.discharged_on", "form_required");
    assert_has(&errors, "form.account_number", "form_required");
    assert_has(
        &errors,
        "form.paper_receipts[0].amount",
        "form_money_too_small",
    );
    assert_has(&errors, "form.favourite_colour", "form_unknown_field");
    assert!(
        b.get("/api/v1/me/applications")
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Filled in, it is one case of the medical insurance bureau, the form kept normalised.
    let mut good = prefill.clone();
    for (k, v) in [
        ("visit_kind", json!("emergency")),
        ("inpatient", json!("outpatient")),
        (
            "paper_receipts",
            json!([{"number": "P-1", "amount": "12.30", "issued_on": "2026-11-10"}]),
        ),
        ("bank", json!("icbc")),
        ("account_number", json!("6222021202041234567")),
    ] {
        good.insert(k.into(), v);
    }
    let r = submit(&mut b, &csrf, "medical-1", &body(&good)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let submitted = r.json();
    let cases = submitted["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 1, "{submitted}");
    assert_eq!(cases[0]["item"], MEDICAL_REIMBURSEMENT);
    let id = submitted["application"].as_str().unwrap();
    let stored = b.get(&format!("/api/v1/applications/{id}")).await.json();
    assert_eq!(
        stored["document"]["form"]["paper_receipts"][0]["amount"], 1230,
        "{stored}"
    );

    // An item without a form takes no form values.
    let r = submit(
        &mut b,
        &csrf,
        "registration-1",
        &json!({"target": {"kind": "item", "code": UNEMPLOYMENT_REGISTRATION}, "form": {"note": "x"}}),
    )
    .await;
    assert_has(&r.field_errors(), "form.note", "form_unknown_field");
    // Nor does its draft.
    let r = b
        .json(
            Method::POST,
            "/api/v1/applications/drafts",
            &json!({"target": {"kind": "item", "code": UNEMPLOYMENT_REGISTRATION}, "form": {"note": "x"}}),
            Some(&csrf),
        )
        .await;
    assert_has(&r.field_errors(), "form.note", "form_unknown_field");

    // An item only organisations apply for is refused to a person, as a draft and submitted.
    let employer_only = json!({"target": {"kind": "item", "code": HOUSING_FUND_EMPLOYER}});
    for r in [
        b.json(
            Method::POST,
            "/api/v1/applications/drafts",
            &employer_only,
            Some(&csrf),
        )
        .await,
        submit(&mut b, &csrf, "employer-1", &employer_only).await,
    ] {
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert_has(&r.field_errors(), "target", "applicant_not_served");
    }
    let mine = b.get("/api/v1/me/applications").await.json();
    assert_eq!(
        mine.as_array().unwrap().len(),
        1,
        "only the reimbursement: {mine}"
    );
}
