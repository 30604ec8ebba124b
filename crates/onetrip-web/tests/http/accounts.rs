//! Accounts over HTTP: registration with the SMS code (L1), real-name verification (L2), sign-in
//! failures that reveal nothing, throttling, the sign-in history.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn a_person_registers_with_an_sms_code_then_passes_real_name_verification() {
    let t = TestApp::new().await;
    let mut b = Browser::new(&t);
    // Without the code: refused at the code, nothing stored.
    let r = b
        .json(Method::POST, "/api/v1/persons", &json!({"resident_id": PERSON_RID, "name": PERSON_NAME, "phone": PERSON_PHONE, "password": PERSON_PASSWORD, "sms_code": "123456"}), None)
        .await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_has(&r.field_errors(), "sms_code", "sms_code_not_sent");
    assert!(
        t.app
            .db
            .person_by_phone(PERSON_PHONE)
            .await
            .unwrap()
            .is_none()
    );

    let (mut b, csrf) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    let me = b.get("/api/v1/me").await.json();
    assert_eq!(me["assurance_level"], "L1");
    assert_eq!(me["resident_id"], "330102********0138", "masked");
    assert_eq!(me["phone"], "138****8000");
    let r = b
        .json(
            Method::POST,
            "/api/v1/me/real-name",
            &json!({}),
            Some(&csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["assurance_level"], "L2");
    assert_eq!(b.get("/api/v1/me").await.json()["assurance_level"], "L2");
    let history = b.get("/api/v1/me/sign-ins").await.json();
    assert!(history.as_array().is_some());
}

#[tokio::test]
async fn a_wrong_name_or_id_is_refused_without_saying_which() {
    let t = TestApp::new().await;
    // Right ID number, wrong name.
    let (mut wrong_name, c1) = t.registered(PERSON_RID, "陈志强", PERSON_PHONE).await;
    let a = wrong_name
        .json(Method::POST, "/api/v1/me/real-name", &json!({}), Some(&c1))
        .await;
    let pa = a.problem(StatusCode::UNPROCESSABLE_ENTITY, "real_name_mismatch");
    // A valid ID number that is not in the registry, with a real name.
    let (mut unknown, c2) = t
        .registered("11010519491231002X", "林晓燕", "13900139000")
        .await;
    let b = unknown
        .json(Method::POST, "/api/v1/me/real-name", &json!({}), Some(&c2))
        .await;
    let pb = b.problem(StatusCode::UNPROCESSABLE_ENTITY, "real_name_mismatch");
    assert_eq!(pa, pb, "the two failures are indistinguishable");
    assert_eq!(
        wrong_name.get("/api/v1/me").await.json()["assurance_level"],
        "L1"
    );
}

#[tokio::test]
async fn sign_in_failures_look_the_same_and_are_throttled() {
    let t = TestApp::new().await;
    let (_b, _) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    let mut b = Browser::new(&t);
    let wrong_password = b
        .json(
            Method::POST,
            "/api/v1/session",
            &json!({"login": PERSON_PHONE, "password": "Wrong-Pass-123"}),
            None,
        )
        .await;
    let p1 = wrong_password.problem(StatusCode::UNAUTHORIZED, "sign_in_failed");
    let unknown = b
        .json(
            Method::POST,
            "/api/v1/session",
            &json!({"login": "13311112222", "password": "Wrong-Pass-123"}),
            None,
        )
        .await;
    let p2 = unknown.problem(StatusCode::UNAUTHORIZED, "sign_in_failed");
    assert_eq!(p1, p2);
    for _ in 0..4 {
        b.json(
            Method::POST,
            "/api/v1/session",
            &json!({"login": PERSON_PHONE, "password": "Wrong-Pass-123"}),
            None,
        )
        .await;
    }
    // Locked now, even with the right password; the message says for how long.
    let r = b
        .json(
            Method::POST,
            "/api/v1/session",
            &json!({"login": PERSON_PHONE, "password": PERSON_PASSWORD}),
            None,
        )
        .await;
    let p = r.problem(StatusCode::TOO_MANY_REQUESTS, "sign_in_throttled");
    assert!(p["message_en"].as_str().unwrap().contains("minute"), "{p}");
    // The SMS code still works.
    b.json(
        Method::POST,
        "/api/v1/sms-codes",
        &json!({"phone": PERSON_PHONE, "purpose": "sign_in"}),
        None,
    )
    .await;
    let code = latest_code(&t.app, PERSON_PHONE).await;
    let r = b
        .json(
            Method::POST,
            "/api/v1/session",
            &json!({"phone": PERSON_PHONE, "code": code}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["signed_in"], true);
}

#[tokio::test]
async fn level_three_by_face_check_or_in_person_at_a_window() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let t = TestApp::new().await;
    let (mut b, csrf) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    let face = json!({"capture": b64(&format!("SANDBOX-FACE:{PERSON_RID}"))});
    // L2 first.
    b.json(Method::POST, "/api/v1/me/face-check", &face, Some(&csrf))
        .await
        .problem(StatusCode::FORBIDDEN, "assurance_step_up_required");
    b.json(
        Method::POST,
        "/api/v1/me/real-name",
        &json!({}),
        Some(&csrf),
    )
    .await;
    // A spoof (no liveness) and someone else's face fail alike.
    let spoof = b
        .json(
            Method::POST,
            "/api/v1/me/face-check",
            &json!({"capture": b64(&format!("SANDBOX-SPOOF:{PERSON_RID}"))}),
            Some(&csrf),
        )
        .await;
    let other = b
        .json(
            Method::POST,
            "/api/v1/me/face-check",
            &json!({"capture": b64("SANDBOX-FACE:330102199007220264")}),
            Some(&csrf),
        )
        .await;
    assert_eq!(
        spoof.problem(StatusCode::FORBIDDEN, "face_check_failed"),
        other.problem(StatusCode::FORBIDDEN, "face_check_failed")
    );
    let r = b
        .json(Method::POST, "/api/v1/me/face-check", &face, Some(&csrf))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["assurance_level"], "L3");

    // In person: a window clerk records the check for another registered person.
    let (_b2, _) = t
        .registered("330102199007220264", "林晓燕", "13900139000")
        .await;
    let created = t
        .app
        .create_staff(
            &onetrip_app::staff::Granter::Bootstrap,
            onetrip_app::staff::NewStaffInput {
                username: "clerk.window".into(),
                name: "窗口".into(),
                department_code: "123301000597435545".into(),
                division_code: "330106".into(),
                roles: vec![onetrip_domain::identity::RoleGrant {
                    role: onetrip_domain::identity::StaffRole::WindowClerk,
                    division: onetrip_domain::identifiers::DivisionCode::parse("330106").unwrap(),
                    department: None,
                }],
            },
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
    let mut clerk = Browser::new(&t);
    let r = clerk
        .json(Method::POST, "/api/v1/staff/session", &json!({"username": "clerk.window", "password": secrecy::ExposeSecret::expose_secret(&created.initial_password)}), None)
        .await;
    let ccsrf = r.json()["csrf_token"].as_str().unwrap().to_string();
    let wrong = clerk
        .json(
            Method::POST,
            "/api/v1/staff/in-person-checks",
            &json!({"resident_id": "330102199007220264", "name": "林晓"}),
            Some(&ccsrf),
        )
        .await;
    wrong.problem(StatusCode::UNPROCESSABLE_ENTITY, "real_name_mismatch");
    let r = clerk
        .json(
            Method::POST,
            "/api/v1/staff/in-person-checks",
            &json!({"resident_id": "330102199007220264", "name": "林晓燕"}),
            Some(&ccsrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let row = t
        .app
        .db
        .person_by_phone("13900139000")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.assurance_level,
        onetrip_domain::identity::AssuranceLevel::L3
    );
    // A person cannot record in-person checks.
    b.json(
        Method::POST,
        "/api/v1/staff/in-person-checks",
        &json!({"resident_id": PERSON_RID, "name": PERSON_NAME}),
        Some(&csrf),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn the_audit_log_records_authentication_events_for_administrators() {
    let t = TestApp::new().await;
    let (mut b, csrf) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    b.json(
        Method::POST,
        "/api/v1/me/real-name",
        &json!({}),
        Some(&csrf),
    )
    .await;
    let mut other = Browser::new(&t);
    other
        .json(
            Method::POST,
            "/api/v1/session",
            &json!({"login": PERSON_PHONE, "password": "Wrong-Pass-123"}),
            None,
        )
        .await;
    let account = b.get("/api/v1/me").await.json()["account_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = t
        .send(
            req(
                Method::GET,
                &format!("/api/v1/auth-events?account_id={account}"),
            )
            .header(axum::http::header::AUTHORIZATION, format!("Bearer {ADMIN}"))
            .body(axum::body::Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let events = r.json();
    let kinds: Vec<(String, bool)> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["succeeded"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(kinds.contains(&("sign_in".to_string(), false)), "{kinds:?}");
    assert!(kinds.contains(&("step_up".to_string(), true)), "{kinds:?}");
    assert!(
        !r.text().contains(PERSON_RID) && !r.text().contains(PERSON_PHONE),
        "no personal data"
    );
    // A person cannot read the audit log.
    b.get(&format!("/api/v1/auth-events?account_id={account}"))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
}
