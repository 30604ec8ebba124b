//! Data sharing over HTTP: the published data catalog; the Must-show flow on a conditional
//! resource (a machine client is refused before any grant, requests access, the provider's data
//! administrator approves, the read returns only the granted fields in full, every access is in
//! the access log by provider, consumer and subject, and the citizen sees it under "who used my
//! data"); not-shared resources, expired and revoked grants, and the per-consumer rate limit.

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use jiff::Timestamp;
use onetrip_app::sharing::SharingConfig;
use onetrip_app::staff::{Granter, NewStaffInput};
use onetrip_domain::identifiers::DivisionCode;
use onetrip_domain::identity::{RoleGrant, StaffRole, TOTP_STEP_SECS, TotpSecret};
use onetrip_domain::sharing::{Consumer, SERVICE_APPLICATION_PURPOSE};
use serde_json::{Value, json};

use crate::common::*;

/// 社会保险参保缴费信息: conditional, provided by 浙江省人力资源和社会保障厅.
const SOCIAL: &str = "ZJ_SOCIAL_INSURANCE_RECORD";
const HRSS: &str = "11330000045628651N";
/// 个人信用报告: not shared.
const CREDIT: &str = "PBOC_CREDIT_REPORT";
/// 高等教育学历学位信息: unconditional.
const DEGREE: &str = "CHSI_DEGREE_RECORD";

/// Registers a machine client through the client admin API and returns its id and a
/// client-credentials access token.
pub async fn machine(t: &TestApp, name: &str) -> (String, String) {
    let r = t
        .admin_json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": name, "grant_types": ["client_credentials"], "scopes": ["api"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let v = r.json();
    let id = v["client_id"].as_str().unwrap().to_string();
    let basic = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .encode(format!("{id}:{}", v["client_secret"].as_str().unwrap()))
    };
    let r = t
        .send(
            req(Method::POST, "/oauth2/token")
                .header(header::AUTHORIZATION, format!("Basic {basic}"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("grant_type=client_credentials&scope=api"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    (id, r.json()["access_token"].as_str().unwrap().to_string())
}

async fn bearer(t: &TestApp, token: &str, method: Method, uri: &str, body: Option<Value>) -> Resp {
    bearer_keyed(t, token, method, uri, body, None).await
}

/// [`bearer`] with an `Idempotency-Key`.
async fn bearer_keyed(
    t: &TestApp,
    token: &str,
    method: Method,
    uri: &str,
    body: Option<Value>,
    key: Option<&str>,
) -> Resp {
    let mut b = req(method, uri).header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(key) = key {
        b = b.header("idempotency-key", key);
    }
    let r = match body {
        Some(v) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string())),
        None => b.body(Body::empty()),
    };
    t.send(r.unwrap()).await
}

/// A data administrator signed in with TOTP, holding the role in `division`; returns the
/// session cookie and CSRF token.
async fn data_admin(t: &TestApp, username: &str, division: &str) -> (String, String) {
    let created = t
        .app
        .create_staff(
            &Granter::Bootstrap,
            NewStaffInput {
                username: username.into(),
                name: "数据管理员".into(),
                department_code: "11330100009486158G".into(),
                division_code: "330100".into(),
                roles: vec![RoleGrant {
                    role: StaffRole::DataAdministrator,
                    division: DivisionCode::parse(division).unwrap(),
                    department: None,
                }],
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    let e = t.app.begin_totp_enrolment(&created.id).await.unwrap();
    let secret = TotpSecret::from_base32(&e.secret_base32).unwrap();
    let step = Timestamp::now().as_second() / TOTP_STEP_SECS;
    t.app
        .confirm_totp_enrolment(
            &created.id,
            &e.secret_base32,
            &secret.code_at_step(step),
            Timestamp::now(),
        )
        .await
        .unwrap();
    let mut b = Browser::new(t);
    let r = b
        .json(
            Method::POST,
            "/api/v1/staff/session",
            &json!({
                "username": username,
                "password": secrecy::ExposeSecret::expose_secret(&created.initial_password),
                "totp": secret.code_at_step(step + 1),
            }),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let csrf = r.json()["csrf_token"].as_str().unwrap().to_string();
    (b.cookie.clone().unwrap(), csrf)
}

async fn as_staff(
    t: &TestApp,
    who: &(String, String),
    method: Method,
    uri: &str,
    body: Value,
) -> Resp {
    t.send(
        req(method, uri)
            .header(header::COOKIE, format!("onetrip_sid={}", who.0))
            .header("x-csrf-token", &who.1)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

fn next_year() -> String {
    Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .date()
        .saturating_add(jiff::Span::new().days(365))
        .to_string()
}

fn read_uri(resource: &str, subject: &str, purpose: &str, case: &str) -> String {
    format!("/api/v1/data/resources/{resource}/records/{subject}?purpose={purpose}&case={case}")
}

#[tokio::test]
async fn the_data_catalog_is_published_and_searchable() {
    let t = TestApp::new().await;
    let all = t.get_json("/api/v1/data/resources").await;
    let codes: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    for code in [
        "ZJ_PERSON_BASIC",
        "ZJ_HOUSEHOLD_RECORD",
        "ZJ_MARRIAGE_RECORD",
        "ZJ_BIRTH_RECORD",
        "ZJ_DEATH_RECORD",
        "ZJ_LEGAL_PERSON_BASIC",
        SOCIAL,
        CREDIT,
        "HZ_DEED_TAX_RECORD",
    ] {
        assert!(codes.contains(&code), "{code} missing");
    }
    // Every resource a demo material uses is in the data catalog.
    let catalog = t.export().await;
    for item in catalog["items"].as_array().unwrap() {
        for m in item["materials"].as_array().unwrap() {
            if m["source"]["kind"] == "shared_data" {
                let code = m["source"]["resource"].as_str().unwrap();
                assert!(codes.contains(&code), "{code} used by a material");
            }
        }
    }
    let found = t
        .get_json(&format!("/api/v1/data/resources?q={}", enc("婚姻")))
        .await;
    assert_eq!(found[0]["code"], "ZJ_MARRIAGE_RECORD", "{found}");
    assert_eq!(found[0]["sharing"], "conditional");
    let by_provider = t
        .get_json(&format!(
            "/api/v1/data/resources?provider={HRSS}&sharing=conditional"
        ))
        .await;
    assert!(
        by_provider
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["provider"] == HRSS && r["sharing"] == "conditional")
    );
    let one = t
        .get_json(&format!("/api/v1/data/resources/{CREDIT}"))
        .await;
    assert_eq!(one["sharing"], "not_shared");
    assert!(one["basis"].as_str().unwrap().contains("征信业管理条例"));
    t.get("/api/v1/data/resources/NO_SUCH")
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    t.get("/api/v1/data/resources?sharing=sometimes")
        .await
        .problem(StatusCode::BAD_REQUEST, "invalid_parameter");
}

#[tokio::test]
async fn conditional_access_is_refused_then_approved_logged_and_shown_to_the_citizen() {
    let t = TestApp::new().await;
    let (client, token) = machine(&t, "杭州市医保经办系统").await;
    let purpose = "medical-insurance-enrolment";
    let uri = read_uri(SOCIAL, PERSON_RID, purpose, "ZJ2026-000123");

    // 1. Refused before any grant, with a clear problem.
    let r = bearer(&t, &token, Method::GET, &uri, None).await;
    let p = r.problem(StatusCode::FORBIDDEN, "data_grant_required");
    assert!(
        p["message_en"].as_str().unwrap().contains("request access"),
        "{p}"
    );

    // 2. The client requests access to three fields.
    let r = bearer(
        &t,
        &token,
        Method::POST,
        "/api/v1/data/access-requests",
        Some(json!({"resource": SOCIAL, "fields": ["name", "status", "months_paid"], "purpose": purpose, "valid_until": next_year()})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let request = r.json();
    assert_eq!(request["status"], "pending");
    assert_eq!(request["consumer"], json!({"kind": "client", "id": client}));
    assert!(request["due_on"].is_string(), "{request}");
    let id = request["id"].as_str().unwrap().to_string();
    // Still refused while pending.
    bearer(&t, &token, Method::GET, &uri, None)
        .await
        .problem(StatusCode::FORBIDDEN, "data_grant_required");
    // The client sees its request; the provider's administrator sees it pending.
    let mine = bearer(
        &t,
        &token,
        Method::GET,
        "/api/v1/data/access-requests",
        None,
    )
    .await;
    assert_eq!(mine.json().as_array().unwrap().len(), 1, "{}", mine.text());
    // A client cannot approve.
    bearer(
        &t,
        &token,
        Method::POST,
        &format!("/api/v1/data/access-requests/{id}/approval"),
        Some(json!({})),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "forbidden");

    // 3. A data administrator of Hangzhou does not cover the provincial provider; the
    //    province's does.
    let city = data_admin(&t, "data.hz", "330100").await;
    as_staff(
        &t,
        &city,
        Method::POST,
        &format!("/api/v1/data/access-requests/{id}/approval"),
        json!({}),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "data_not_provider_administrator");
    let province = data_admin(&t, "data.zj", "330000").await;
    let pending = t
        .send(
            req(
                Method::GET,
                &format!("/api/v1/data/access-requests?provider={HRSS}&status=pending"),
            )
            .header(header::COOKIE, format!("onetrip_sid={}", province.0))
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(pending.status, StatusCode::OK, "{}", pending.text());
    assert_eq!(pending.json()[0]["id"], id.as_str());
    assert_eq!(pending.json()[0]["overdue"], false);
    let r = as_staff(
        &t,
        &province,
        Method::POST,
        &format!("/api/v1/data/access-requests/{id}/approval"),
        json!({"note": "用于医保参保登记"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "approved");
    as_staff(
        &t,
        &province,
        Method::POST,
        &format!("/api/v1/data/access-requests/{id}/rejection"),
        json!({"note": "again"}),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "data_request_not_pending");

    // 4. Allowed: granted fields in full, the others masked or left out.
    let r = bearer(&t, &token, Method::GET, &uri, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let data = r.json();
    assert_eq!(
        data["fields"],
        json!({
            "resident_id": "330102********0138",
            "name": "陈志明",
            "insured_unit": "杭州********公司",
            "status": "正常参保",
            "months_paid": 220,
            "phone": "138****8000",
        }),
        "{data}"
    );
    assert_eq!(
        data["full_fields"],
        json!(["name", "status", "months_paid"])
    );
    assert_eq!(
        data["masked_fields"],
        json!(["resident_id", "insured_unit", "phone"])
    );
    // Another purpose is not granted.
    bearer(
        &t,
        &token,
        Method::GET,
        &read_uri(SOCIAL, PERSON_RID, "marketing", ""),
        None,
    )
    .await
    .problem(StatusCode::FORBIDDEN, "data_purpose_not_granted");

    // 5. Every access is in the log: by provider, by consumer, by subject.
    for query in [
        format!("provider={HRSS}"),
        format!("consumer=client:{client}"),
        format!("subject={PERSON_RID}"),
    ] {
        let r = as_staff(
            &t,
            &province,
            Method::GET,
            &format!("/api/v1/data/access-log?{query}"),
            json!(null),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text());
        let log = r.json();
        let outcomes: Vec<(&str, &str)> = log
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["outcome"].as_str().unwrap(),
                    e["refusal"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            outcomes,
            vec![
                ("refused", "data_purpose_not_granted"),
                ("allowed", ""),
                ("refused", "data_grant_required"),
                ("refused", "data_grant_required"),
            ],
            "{query}"
        );
        let allowed = &log[1];
        assert_eq!(allowed["consumer_name"], "杭州市医保经办系统");
        assert_eq!(allowed["resource_name"], "社会保险参保缴费信息");
        assert_eq!(allowed["fields"], json!(["name", "status", "months_paid"]));
        assert_eq!(allowed["case_ref"], "ZJ2026-000123");
        assert_eq!(allowed["purpose"], purpose);
    }
    let other = t
        .admin_json(
            Method::GET,
            "/api/v1/data/access-log?subject=330102199007220264",
            &json!(null),
        )
        .await;
    assert_eq!(other.json(), json!([]), "another person's log is empty");

    // 6. The citizen signs in and sees who used their data (after real-name verification).
    let (mut b, csrf) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    b.get("/api/v1/me/data-access")
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
    let r = b.get("/api/v1/me/data-access").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let seen = r.json();
    assert_eq!(seen.as_array().unwrap().len(), 4, "{seen}");
    let allowed = &seen[1];
    assert_eq!(allowed["consumer_name"], "杭州市医保经办系统");
    assert_eq!(allowed["resource_name"], "社会保险参保缴费信息");
    assert_eq!(allowed["provider_name"], "浙江省人力资源和社会保障厅");
    assert_eq!(allowed["purpose"], purpose);
    assert_eq!(allowed["case_ref"], "ZJ2026-000123");
    assert!(allowed["at"].is_string());

    // 7. An expired grant refuses; a revoked one too.
    let grants = bearer(&t, &token, Method::GET, "/api/v1/data/grants", None)
        .await
        .json();
    assert_eq!(grants.as_array().unwrap().len(), 1, "{grants}");
    assert_eq!(grants[0]["live"], true);
    let grant_id = grants[0]["id"].as_str().unwrap().to_string();
    let yesterday = Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .date()
        .yesterday()
        .unwrap();
    assert!(
        t.app
            .db
            .set_grant_valid_until(&grant_id, yesterday)
            .await
            .unwrap()
    );
    bearer(&t, &token, Method::GET, &uri, None)
        .await
        .problem(StatusCode::FORBIDDEN, "data_grant_expired");
    let r = as_staff(
        &t,
        &province,
        Method::POST,
        &format!("/api/v1/data/grants/{grant_id}/revocation"),
        json!(null),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["live"], false);
    bearer(&t, &token, Method::GET, &uri, None)
        .await
        .problem(StatusCode::FORBIDDEN, "data_grant_revoked");
    let log = t
        .admin_json(
            Method::GET,
            &format!("/api/v1/data/access-log?consumer=client:{client}"),
            &json!(null),
        )
        .await
        .json();
    assert_eq!(log.as_array().unwrap().len(), 6, "one row per access");
}

#[tokio::test]
async fn not_shared_resources_are_refused_and_requests_are_checked() {
    let t = TestApp::new().await;
    let (_, token) = machine(&t, "某银行贷款系统").await;
    let r = bearer(
        &t,
        &token,
        Method::POST,
        "/api/v1/data/access-requests",
        Some(json!({"resource": CREDIT, "fields": ["name"], "purpose": "loan-review", "valid_until": next_year()})),
    )
    .await;
    let p = r.problem(StatusCode::FORBIDDEN, "data_resource_not_shared");
    assert!(p["message_zh"].as_str().unwrap().contains("不予共享"));
    bearer(
        &t,
        &token,
        Method::GET,
        &read_uri(CREDIT, PERSON_RID, "loan-review", ""),
        None,
    )
    .await
    .problem(StatusCode::FORBIDDEN, "data_resource_not_shared");
    // Every problem of a request is listed.
    let r = bearer(
        &t,
        &token,
        Method::POST,
        "/api/v1/data/access-requests",
        Some(json!({"resource": SOCIAL, "fields": ["name", "salary"], "purpose": "Bad Purpose", "valid_until": "2020-01-01"})),
    )
    .await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let errors = r.field_errors();
    assert_has(&errors, "fields[1]", "data_field_unknown");
    assert_has(&errors, "purpose", "data_purpose_format");
    assert_has(&errors, "valid_until", "data_expiry_in_past");
    // A client cannot ask on behalf of someone else.
    bearer(
        &t,
        &token,
        Method::POST,
        "/api/v1/data/access-requests",
        Some(json!({"consumer": {"kind": "item", "id": HOUSING_FUND_MAIN}, "resource": SOCIAL, "fields": ["name"], "purpose": "x-y", "valid_until": next_year()})),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "data_consumer_mismatch");
    // An invalid subject is a validation problem.
    let r = bearer(
        &t,
        &token,
        Method::GET,
        &read_uri(SOCIAL, "330102198503140139", "x-y", ""),
        None,
    )
    .await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    // A citizen's session cannot read shared data.
    let (mut b, _) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    b.get(&read_uri(SOCIAL, PERSON_RID, "x-y", ""))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn unconditional_access_is_granted_at_once_and_rate_limited_per_consumer() {
    let t = TestApp::build_at(Some(ADMIN), true, ISSUER, |app| {
        app.with_sharing_config(SharingConfig {
            rate_per_second: 1,
            burst: 2,
            ..SharingConfig::default()
        })
    })
    .await;
    let (client, token) = machine(&t, "人才服务系统").await;
    let r = bearer(
        &t,
        &token,
        Method::POST,
        "/api/v1/data/access-requests",
        Some(json!({"resource": DEGREE, "fields": ["name", "school", "degree"], "purpose": "talent-subsidy", "valid_until": next_year()})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["status"], "approved");
    let uri = read_uri(DEGREE, PERSON_RID, "talent-subsidy", "");
    for _ in 0..2 {
        let r = bearer(&t, &token, Method::GET, &uri, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["fields"]["school"], "浙江大学");
    }
    let r = bearer(&t, &token, Method::GET, &uri, None).await;
    r.problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    // Another consumer has its own budget.
    let (_, other) = machine(&t, "另一个系统").await;
    bearer(&t, &other, Method::GET, &uri, None)
        .await
        .problem(StatusCode::FORBIDDEN, "data_grant_required");
    let log = t
        .admin_json(
            Method::GET,
            &format!("/api/v1/data/access-log?consumer=client:{client}"),
            &json!(null),
        )
        .await
        .json();
    assert_eq!(log[0]["outcome"], "rate_limited", "{log}");
    assert_eq!(log.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn demo_items_hold_service_application_grants_and_providers_push_records() {
    let t = TestApp::new().await;
    // 购买自住住房提取住房公积金 uses the new-home contract and the resale contract.
    let item = "123301000597435545200050001001";
    let grants = t
        .admin_json(
            Method::GET,
            &format!("/api/v1/data/grants?consumer=item:{item}"),
            &json!(null),
        )
        .await
        .json();
    let resources: Vec<&str> = grants
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["resource"].as_str().unwrap())
        .collect();
    assert!(resources.contains(&"HZ_HOUSING_CONTRACT"), "{grants}");
    assert!(resources.contains(&"HZ_RESALE_CONTRACT"), "{grants}");
    assert!(
        grants
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["purpose"] == SERVICE_APPLICATION_PURPOSE && g["live"] == true)
    );
    // The platform's material resolution reads as the item.
    let data = t
        .app
        .read_shared_data(
            &Consumer::Item(item.into()),
            "HZ_HOUSING_CONTRACT",
            PERSON_RID,
            SERVICE_APPLICATION_PURPOSE,
            Some("case-1"),
            Timestamp::now(),
        )
        .await
        .unwrap();
    assert_eq!(data.fields["contract_no"], "YS2026-0106-018233");
    assert_eq!(
        data.fields["property_address"],
        "杭州市西湖区文三路 328 号 3 幢 1502 室"
    );
    // No item holds a grant for the not-shared credit report.
    let credit = t
        .admin_json(
            Method::GET,
            &format!("/api/v1/data/grants?resource={CREDIT}"),
            &json!(null),
        )
        .await
        .json();
    assert_eq!(credit, json!([]));

    // The provider pushes a record; unknown fields are refused; others may not push.
    let rid = "330102199007220264";
    let uri = format!("/api/v1/data/resources/HZ_NO_HOUSE_PROOF/records/{rid}");
    let r = t
        .admin_json(
            Method::PUT,
            &uri,
            &json!({"resident_id": rid, "name": "林晓燕", "has_home": false, "checked_on": "2026-11-01"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let r = t.admin_json(Method::PUT, &uri, &json!({"salary": 1})).await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_has(&r.field_errors(), "fields.salary", "data_field_unknown");
    let (_, token) = machine(&t, "不相干的系统").await;
    bearer(&t, &token, Method::PUT, &uri, Some(json!({"name": "x"})))
        .await
        .problem(StatusCode::FORBIDDEN, "data_not_provider");
    // Registry-backed resources are not pushed.
    t.admin_json(
        Method::PUT,
        &format!("/api/v1/data/resources/ZJ_MARRIAGE_RECORD/records/{rid}"),
        &json!({"name": "林晓燕"}),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "data_resource_registry_backed");
}

#[tokio::test]
async fn resources_are_validated_and_written_by_data_administrators() {
    let t = TestApp::new().await;
    let mut doc = t
        .get_json(&format!("/api/v1/data/resources/{SOCIAL}"))
        .await;
    doc["summary"] = Value::from("更新后的摘要");
    let uri = format!("/api/v1/data/resources/{SOCIAL}");
    let r = t.admin_json(Method::PUT, &uri, &doc).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(t.get_json(&uri).await["summary"], "更新后的摘要");
    // A city data administrator does not cover the provincial provider.
    let city = data_admin(&t, "data.hz2", "330100").await;
    as_staff(&t, &city, Method::PUT, &uri, doc.clone())
        .await
        .problem(StatusCode::FORBIDDEN, "data_not_provider_administrator");
    // Every problem is listed.
    let mut bad = doc.clone();
    bad["sharing"] = Value::from("unconditional");
    bad["fields"][0]["grade"] = Value::from("L4");
    bad["basis"] = Value::from("");
    bad["fields"]
        .as_array_mut()
        .unwrap()
        .push(json!({"key": "name", "label": "x", "type": "string", "grade": "L1"}));
    let r = t.admin_json(Method::PUT, &uri, &bad).await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let errors = r.field_errors();
    assert_has(&errors, "fields[0].grade", "data_l4_in_unconditional");
    assert_has(&errors, "fields[0].mask", "data_l4_must_be_omitted");
    assert_has(&errors, "fields[9].key", "duplicate_code");
}

#[tokio::test]
async fn an_idempotency_key_files_one_access_request() {
    let t = TestApp::new().await;
    let (_, token) = machine(&t, "杭州市医保经办系统").await;
    let keyed = |key: &'static str, fields: Value| {
        bearer_keyed(
            &t,
            &token,
            Method::POST,
            "/api/v1/data/access-requests",
            Some(json!({"resource": SOCIAL, "fields": fields,
                        "purpose": "medical-insurance-enrolment", "valid_until": next_year()})),
            Some(key),
        )
    };
    let first = keyed("req-1", json!(["name"])).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    // A retry answers with the request first filed, as it stands, and files nothing.
    let again = keyed("req-1", json!(["name"])).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text());
    assert_eq!(again.json(), first.json());
    keyed("req-1", json!(["name", "status"]))
        .await
        .problem(StatusCode::CONFLICT, "idempotency_key_reused");
    let mine = bearer(
        &t,
        &token,
        Method::GET,
        "/api/v1/data/access-requests",
        None,
    )
    .await;
    assert_eq!(mine.json().as_array().unwrap().len(), 1, "{}", mine.text());
}
