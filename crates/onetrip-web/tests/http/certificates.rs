//! Certificates over HTTP: issue → present (QR) → verify publicly on the page and through the
//! API; exports verified without sign-in; tampering and revocation seen at once; bad bodies
//! answered with problems.

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::common::*;

async fn verify_api(t: &TestApp, body: &[u8]) -> Resp {
    t.send(
        req(Method::POST, "/api/v1/certificates/verify")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_vec()))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn issue_present_and_verify_publicly() {
    let t = TestApp::new().await;
    let types = t.get_json("/api/v1/certificate-types").await;
    assert!(
        types
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["code"] == "ID_CARD")
    );
    // The operator issues a vocational skill certificate to the demo citizen.
    let r = t
        .admin_json(
            Method::POST,
            "/api/v1/certificates",
            &json!({
                "certificate_type": "VOCATIONAL_SKILL_CERT",
                "holder_kind": "person",
                "holder_id": PERSON_RID,
                "content": {"name": PERSON_NAME, "resident_id": PERSON_RID,
                            "occupation": "电工", "level": "三级/高级工"}
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let issued = r.json();
    let id = issued["id"].as_str().unwrap().to_owned();
    assert!(
        id.starts_with("1.2.156.3005.2.111100000000197484003."),
        "{id}"
    );
    assert_eq!(issued["status"], "valid");
    assert_eq!(issued["holder"], "330102********0138");
    // Bad content is a problem per field.
    let r = t
        .admin_json(
            Method::POST,
            "/api/v1/certificates",
            &json!({"certificate_type": "VOCATIONAL_SKILL_CERT", "holder_kind": "person",
                    "holder_id": PERSON_RID, "content": {"name": 1}}),
        )
        .await;
    let errors = r.field_errors();
    assert_has(&errors, "content.name", "certificate_field_type");
    assert_has(&errors, "content.occupation", "certificate_field_missing");

    // The holder signs in, lists, presents.
    let (mut b, csrf) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    let mine = b.get("/api/v1/me/certificates").await.json();
    let mine = mine.as_array().unwrap();
    assert!(mine.iter().any(|c| c["id"] == id.as_str()));
    assert!(
        mine.iter()
            .any(|c| c["certificate_type"] == "DRIVING_LICENCE" && c["status"] == "expired")
    );
    let r = b
        .json(
            Method::POST,
            &format!("/api/v1/me/certificates/{id}/presentations"),
            &json!({"fields": ["name", "level"], "predicates": ["age_at_least:18"]}),
            Some(&csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let p = r.json();
    assert!(
        p["qr_svg"].as_str().unwrap().starts_with("<?xml")
            || p["qr_svg"].as_str().unwrap().contains("<svg")
    );
    let url = p["url"].as_str().unwrap();
    let path = url.strip_prefix(ISSUER).unwrap();
    assert!(path.starts_with("/verify/"));

    // Anyone opens the URL: no sign-in, Chinese by default, English on request.
    let page = t.get(path).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("核验通过"), "{html}");
    assert!(
        html.contains("三级/高级工")
            && html.contains("年满18周岁")
            && html.contains("杭州市人力资源和社会保障局")
    );
    assert!(
        !html.contains(PERSON_RID) && !html.contains("电工"),
        "undisclosed fields stay hidden"
    );
    assert!(!html.contains("<script"));
    let en = t.get(&format!("{path}?lang=en")).await.text();
    assert!(en.contains("Verified") && en.contains("at least 18 years old"));
    // A tampered token.
    let bad = t.get(&format!("{}x", &path[..path.len() - 3])).await.text();
    assert!(bad.contains("核验未通过"), "{bad}");

    // Export; anyone verifies it without signing in.
    let export = b.get(&format!("/api/v1/me/certificates/{id}/export")).await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.text());
    let export = export.json();
    assert_eq!(export["distinguishing_id"], "1234567812345678");
    let r = verify_api(&t, &serde_json::to_vec(&export).unwrap()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["authentic"], true);
    assert_eq!(v["status"], "valid");
    assert_eq!(v["issuer"]["credit_code"], "113301000354023845");
    assert_eq!(v["fields"]["occupation"], "电工");

    // Any changed byte of the exported JSON fails (unreadable JSON is a problem, not a crash).
    let bytes = serde_json::to_vec(&export["signed"]).unwrap();
    for i in (0..bytes.len()).step_by(3) {
        let mut changed = bytes.clone();
        changed[i] ^= 0x02;
        let Ok(signed) = serde_json::from_slice::<Value>(&changed) else {
            continue;
        };
        if signed == export["signed"] {
            continue;
        }
        let mut e = export.clone();
        e["signed"] = signed;
        let r = verify_api(&t, &serde_json::to_vec(&e).unwrap()).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json()["authentic"], false, "byte {i}");
    }

    // Revocation by the issuer shows at once, in the API and on the page.
    let r = t
        .admin_json(
            Method::POST,
            &format!("/api/v1/certificates/{id}/revocation"),
            &json!({"reason": "证书信息有误，已重新颁发"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = verify_api(&t, &serde_json::to_vec(&export).unwrap())
        .await
        .json();
    assert_eq!(
        (v["authentic"].clone(), v["status"].clone()),
        (json!(true), json!("revoked"))
    );
    let html = t.get(path).await.text();
    assert!(
        html.contains("已被发证机关注销") && html.contains("证书信息有误"),
        "{html}"
    );
}

#[tokio::test]
async fn malformed_verification_bodies_get_problems() {
    let t = TestApp::new().await;
    for body in [
        &b"not json"[..],
        b"{}",
        b"[]",
        b"{\"signed\": 1}",
        b"\xff\xfe",
    ] {
        let r = verify_api(&t, body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
    // Well-formed but not signed by anyone we know.
    let r = verify_api(
        &t,
        json!({"format": "onetrip-certificate/1", "signed": {"certificate_id": "x",
               "issuer": {"credit_code": "x"}, "valid_until": null, "seal_key_id": "k"},
               "signature": "AAAA", "algorithm": "SM2-SM3", "distinguishing_id": "1234567812345678",
               "seal_key_id": "k", "issuer_public_key": "nope"})
        .to_string()
        .as_bytes(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["authentic"], false);
    assert_eq!(r.json()["status"], "valid");
}

#[tokio::test]
async fn only_the_issuing_departments_staff_issue() {
    let t = TestApp::new().await;
    // A person cannot issue.
    let (mut b, csrf) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    let r = b
        .json(
            Method::POST,
            "/api/v1/certificates",
            &json!({"certificate_type": "ID_CARD", "holder_kind": "person",
                    "holder_id": PERSON_RID, "content": {}}),
            Some(&csrf),
        )
        .await;
    r.problem(StatusCode::FORBIDDEN, "forbidden");
    // Another person's certificate cannot be exported or presented.
    let others = t
        .app
        .holder_certificates(
            onetrip_domain::certificate::HolderKind::Person,
            PERSON_RID,
            jiff::civil::date(2026, 11, 21),
        )
        .await
        .unwrap();
    assert!(!others.is_empty());
    // Seal rotation by the operator; keys are public.
    let r = t
        .admin_json(
            Method::POST,
            "/api/v1/seals/1133010600425119XW/rotation",
            &json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let keys = t.get_json("/api/v1/seals/1133010600425119XW/keys").await;
    assert_eq!(keys.as_array().unwrap().len(), 2);
    assert!(
        keys[0]["public_key_pem"]
            .as_str()
            .unwrap()
            .contains("BEGIN PUBLIC KEY")
    );
    assert!(!keys.to_string().contains("PRIVATE"));
}

#[tokio::test]
async fn an_idempotency_key_issues_one_certificate() {
    let t = TestApp::new().await;
    let issue = |key: &'static str, level: &'static str| {
        let body = json!({
            "certificate_type": "VOCATIONAL_SKILL_CERT",
            "holder_kind": "person",
            "holder_id": PERSON_RID,
            "content": {"name": PERSON_NAME, "resident_id": PERSON_RID,
                        "occupation": "电工", "level": level}
        });
        t.send(
            req(Method::POST, "/api/v1/certificates")
                .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
                .header(header::CONTENT_TYPE, "application/json")
                .header("idempotency-key", key)
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
    };
    let count = || async {
        t.app
            .db
            .certificates_of_holder(onetrip_domain::certificate::HolderKind::Person, PERSON_RID)
            .await
            .unwrap()
            .len()
    };
    let before = count().await;
    let first = issue("skill-1", "三级/高级工").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    // A retry (say after a timeout) answers with the same certificate and issues nothing.
    let again = issue("skill-1", "三级/高级工").await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text());
    assert_eq!(again.json()["id"], first.json()["id"]);
    assert_eq!(count().await, before + 1);
    // The key with another request is refused; a blank key is malformed.
    issue("skill-1", "二级/技师")
        .await
        .problem(StatusCode::CONFLICT, "idempotency_key_reused");
    issue(" ", "二级/技师")
        .await
        .problem(StatusCode::BAD_REQUEST, "idempotency_key_invalid");
    assert_eq!(count().await, before + 1);
    // Another key is another certificate.
    let other = issue("skill-2", "二级/技师").await;
    assert_eq!(other.status, StatusCode::CREATED, "{}", other.text());
    assert_ne!(other.json()["id"], first.json()["id"]);
    assert_eq!(count().await, before + 2);
}
