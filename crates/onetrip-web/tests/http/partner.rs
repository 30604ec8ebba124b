//! Cross-province trust (一地认证，全网通办) with two onetrip instances in one process: B
//! (`http://partner.test`) is the partner platform, an OpenID Connect provider with a person
//! registered and real-name verified there; A (`https://onetrip.test`) trusts B as partner
//! `js`, its sandbox partner client routing every request for `http://partner.test/…` into B's
//! router. One cookie-keeping browser per site plays the person, following redirects between
//! the two by host.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use http_body_util::BodyExt;
use onetrip_app::partner::{
    DEFAULT_SCOPES, PartnerConfig, PartnerPlatform, PartnerRequest, PartnerResponse,
    SandboxHandler, SandboxPartner,
};
use onetrip_domain::identity::AssuranceLevel;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common::*;

/// A's public base URL (https, so that B accepts its redirect URI).
const A_ISSUER: &str = "https://onetrip.test";
/// B's issuer.
const B_ISSUER: &str = "http://partner.test";
/// The redirect URI registered for A at B.
const CALLBACK: &str = "https://onetrip.test/sign-in/partner/js/callback";

/// Changes B's answers on their way to A: `(path, body) -> body`.
type Tamper = fn(&str, Vec<u8>) -> Vec<u8>;

fn untouched(_: &str, body: Vec<u8>) -> Vec<u8> {
    body
}

/// The partner platform B, with A registered as a client and a verified person.
struct PartnerSite {
    b: TestApp,
    client_id: String,
    client_secret: String,
}

async fn partner_site() -> PartnerSite {
    let b = TestApp::build_at(Some(ADMIN), true, B_ISSUER, |app| app).await;
    let r = b
        .admin_json(
            Method::POST,
            "/api/v1/clients",
            &json!({
                "name": "浙江政务服务网（跨省通办）",
                "redirect_uris": [CALLBACK],
                "grant_types": ["authorization_code"],
                "scopes": ["openid", "profile", "phone", "id_number"],
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let v = r.json();
    let (mut person, csrf) = b.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    let r = person
        .json(
            Method::POST,
            "/api/v1/me/real-name",
            &json!({}),
            Some(&csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["assurance_level"], "L2");
    PartnerSite {
        client_id: v["client_id"].as_str().unwrap().to_string(),
        client_secret: v["client_secret"].as_str().unwrap().to_string(),
        b,
    }
}

/// The sandbox handler: requests for B's issuer go through B's router; `tamper` may change
/// the answers.
fn into_router(router: Router, tamper: Tamper) -> SandboxHandler {
    Arc::new(move |request: PartnerRequest| {
        let router = router.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let uri = parts.uri.to_string();
            let path = uri
                .strip_prefix(B_ISSUER)
                .unwrap_or_else(|| panic!("the sandbox only reaches B, not {uri}"))
                .to_string();
            let mut builder = req(parts.method.clone(), &path);
            for (k, v) in &parts.headers {
                builder = builder.header(k, v);
            }
            let response = router
                .oneshot(builder.body(Body::from(body)).unwrap())
                .await
                .unwrap();
            let status = response.status();
            let bytes = response
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec();
            let path = path.split('?').next().unwrap_or_default().to_string();
            let answer: PartnerResponse = axum::http::Response::builder()
                .status(status)
                .body(tamper(&path, bytes))
                .unwrap();
            answer
        })
    })
}

fn config(p: &PartnerSite, levels: &[(&str, AssuranceLevel)]) -> PartnerConfig {
    PartnerConfig {
        name: "js".into(),
        display_name: "江苏政务服务网".into(),
        issuer: B_ISSUER.into(),
        client_id: p.client_id.clone(),
        client_secret: secrecy::SecretString::from(p.client_secret.clone()),
        scopes: DEFAULT_SCOPES.into(),
        levels: levels
            .iter()
            .map(|(acr, l)| ((*acr).to_string(), *l))
            .collect::<BTreeMap<_, _>>(),
    }
}

/// Site A trusting B with `levels`, B's answers changed by `tamper`.
async fn site(p: &PartnerSite, levels: &[(&str, AssuranceLevel)], tamper: Tamper) -> TestApp {
    let client: Arc<dyn PartnerPlatform> =
        Arc::new(SandboxPartner::new(into_router(p.b.router.clone(), tamper)));
    let cfg = config(p, levels);
    TestApp::build_at(Some(ADMIN), false, A_ISSUER, move |app| {
        app.with_partners(vec![(cfg, client)])
    })
    .await
}

const L2_AS_L2: &[(&str, AssuranceLevel)] = &[
    ("urn:onetrip:loa:1", AssuranceLevel::L1),
    ("urn:onetrip:loa:2", AssuranceLevel::L2),
    ("urn:onetrip:loa:3", AssuranceLevel::L3),
];

/// Drives B's browser from the partner's authorization URL to A's callback (signing in at B
/// with the password and consenting as needed); returns the callback URL.
async fn at_partner(b: &mut Browser<'_>, authorize: &str) -> String {
    let path = authorize
        .strip_prefix(B_ISSUER)
        .unwrap_or_else(|| panic!("A sends the person to B: {authorize}"));
    let mut r = b.get(path).await;
    for _ in 0..8 {
        match r.status {
            StatusCode::SEE_OTHER | StatusCode::FOUND | StatusCode::TEMPORARY_REDIRECT => {
                let to = r.header("location").unwrap().to_string();
                if to.starts_with(A_ISSUER) {
                    return to;
                }
                r = b.get(&to).await;
            }
            StatusCode::OK if r.text().contains("name=\"decision\"") => {
                let html = r.text();
                let mut form: Vec<(String, String)> = Vec::new();
                for name in [
                    "csrf_token",
                    "response_type",
                    "client_id",
                    "redirect_uri",
                    "scope",
                    "state",
                    "nonce",
                    "code_challenge",
                    "code_challenge_method",
                ] {
                    if html.contains(&format!("name=\"{name}\" value=")) {
                        form.push((name.to_string(), hidden(&html, name)));
                    }
                }
                form.push(("decision".into(), "allow".into()));
                let pairs: Vec<(&str, &str)> =
                    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                r = b.post_form("/oauth2/authorize", &pairs).await;
            }
            StatusCode::OK if r.text().contains("action=\"/sign-in\"") => {
                let html = r.text();
                let csrf = hidden(&html, "csrf_token");
                let next = hidden(&html, "next");
                r = b
                    .post_form(
                        "/sign-in",
                        &[
                            ("csrf_token", &csrf),
                            ("next", &next),
                            ("method", "password"),
                            ("login", PERSON_PHONE),
                            ("password", PERSON_PASSWORD),
                        ],
                    )
                    .await;
            }
            other => panic!("unexpected {other} at B: {}", r.text()),
        }
    }
    panic!("B never sent the person back to A")
}

/// Starts a partner sign-in at A with `next`; returns B's authorization URL.
async fn start(a: &mut Browser<'_>, next: &str) -> String {
    let r = a
        .get(&format!("/sign-in/partner/js?next={}", enc(next)))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    r.header("location").unwrap().to_string()
}

/// A's answer to the callback URL.
async fn back_at_a(a: &mut Browser<'_>, callback: &str) -> Resp {
    a.get(callback.strip_prefix(A_ISSUER).unwrap()).await
}

/// The whole journey: start at A, sign in and consent at B, back to A's callback.
async fn journey(a: &mut Browser<'_>, b: &mut Browser<'_>, next: &str) -> Resp {
    let authorize = start(a, next).await;
    let callback = at_partner(b, &authorize).await;
    back_at_a(a, &callback).await
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn with_param(url: &str, name: &str, value: &str) -> String {
    let (base, query) = url.split_once('?').unwrap();
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    let pairs: Vec<(String, String)> = pairs
        .into_iter()
        .map(|(k, v)| {
            if k == name {
                (k, value.to_string())
            } else {
                (k, v)
            }
        })
        .collect();
    format!("{base}?{}", serde_urlencoded::to_string(pairs).unwrap())
}

/// Asserts a refusal page with this status showing the message of `code`.
#[track_caller]
fn refused(r: &Resp, status: StatusCode, zh_fragment: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "a page: {:?}",
        r.header("content-type")
    );
    let html = r.text();
    assert!(html.contains(zh_fragment), "{html}");
    assert!(html.contains("role=\"alert\""), "{html}");
    assert!(html.contains("href=\"/sign-in?next="), "{html}");
}

async fn session_of(a: &mut Browser<'_>) -> Value {
    a.get("/api/v1/session").await.json()
}

/// The latest sign-in event through partner `js` at A: of `account`, or of any account
/// (failed attempts often name none).
async fn last_event(a: &TestApp, account: Option<&str>) -> onetrip_store::AuthEvent {
    let events = match account {
        Some(id) => a.app.db.recent_sign_ins(id, 1).await.unwrap(),
        None => a
            .app
            .db
            .recent_auth_events_by_method("partner:js", 1)
            .await
            .unwrap(),
    };
    events.into_iter().next().expect("an event")
}

#[tokio::test]
async fn a_person_verified_at_the_partner_signs_in_without_registering_again() {
    let p = partner_site().await;
    let a = site(&p, L2_AS_L2, untouched).await;
    let mut at_a = Browser::new(&a);
    let mut at_b = Browser::new(&p.b);
    assert_eq!(session_of(&mut at_a).await["signed_in"], false);
    // The sign-in page offers the partner.
    let page = at_a.get("/sign-in?next=/api/v1/me").await.text();
    assert!(
        page.contains("href=\"/sign-in/partner/js?next=%2Fapi%2Fv1%2Fme\""),
        "{page}"
    );

    let r = journey(&mut at_a, &mut at_b, "/api/v1/me").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.header("location"), Some("/api/v1/me"));
    let session = session_of(&mut at_a).await;
    assert_eq!(session["signed_in"], true, "{session}");
    assert_eq!(session["kind"], "citizen");
    assert_eq!(session["assurance_level"], "L2");
    let account = session["account_id"].as_str().unwrap().to_string();

    // A's account: B's resident ID number, name and phone; no password; the mapped level.
    let person = a
        .app
        .db
        .person_by_resident_id(PERSON_RID)
        .await
        .unwrap()
        .expect("account created at A");
    assert_eq!(person.id, account);
    assert_eq!(person.name, PERSON_NAME);
    assert_eq!(person.phone, PERSON_PHONE);
    assert_eq!(person.password_hash, None);
    assert_eq!(person.assurance_level, AssuranceLevel::L2);
    let b_account =
        p.b.app
            .db
            .person_by_resident_id(PERSON_RID)
            .await
            .unwrap()
            .unwrap();
    assert_ne!(person.id, b_account.id, "each platform issues its own ids");
    // The person uses A's API as themselves.
    let me = at_a.get("/api/v1/me").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text());
    assert_eq!(me.json()["assurance_level"], "L2");

    // Audited: method partner:js, the partner and the asserted acr, no personal data.
    let event = last_event(&a, Some(&account)).await;
    assert_eq!(event.kind, "sign_in");
    assert_eq!(event.method, "partner:js");
    assert!(event.succeeded);
    let detail: Value = serde_json::from_str(event.detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["partner"], "js");
    assert_eq!(detail["acr"], "urn:onetrip:loa:2");
    assert_eq!(detail["created"], true);
    let text = event.detail.unwrap();
    for personal in [PERSON_RID, PERSON_NAME, PERSON_PHONE] {
        assert!(!text.contains(personal), "{text}");
    }

    // Again, from another browser at A (B remembers the sign-in and the consent): the same
    // account, linked by the resident ID number.
    let mut again = Browser::new(&a);
    let r = journey(&mut again, &mut at_b, "https://evil.example/").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.header("location"), Some("/"), "next is local only");
    let session = session_of(&mut again).await;
    assert_eq!(session["account_id"], account.as_str());
    assert_eq!(session["assurance_level"], "L2");
    let event = last_event(&a, Some(&account)).await;
    let detail: Value = serde_json::from_str(event.detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["created"], false);
    assert_eq!(
        a.app.db.recent_sign_ins(&account, 10).await.unwrap().len(),
        2
    );
}

#[tokio::test]
async fn the_level_never_exceeds_what_the_partner_asserted() {
    let p = partner_site().await;
    // A mistaken mapping: B's L2 taken as L3.
    let a = site(
        &p,
        &[
            ("urn:onetrip:loa:2", AssuranceLevel::L3),
            ("urn:onetrip:loa:3", AssuranceLevel::L3),
        ],
        untouched,
    )
    .await;
    let mut at_a = Browser::new(&a);
    let mut at_b = Browser::new(&p.b);
    let r = journey(&mut at_a, &mut at_b, "/").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(session_of(&mut at_a).await["assurance_level"], "L2");
    let person = a
        .app
        .db
        .person_by_resident_id(PERSON_RID)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(person.assurance_level, AssuranceLevel::L2);

    // An account at A with more (L3, checked in person here) keeps it; this sign-in counts
    // for what the partner asserted.
    a.app
        .db
        .set_assurance_level(&person.id, AssuranceLevel::L3)
        .await
        .unwrap();
    let mut later = Browser::new(&a);
    let r = journey(&mut later, &mut at_b, "/").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(session_of(&mut later).await["assurance_level"], "L2");
    assert_eq!(
        a.app
            .db
            .person_by_id(&person.id)
            .await
            .unwrap()
            .unwrap()
            .assurance_level,
        AssuranceLevel::L3,
        "never lowered"
    );
}

#[tokio::test]
async fn an_unmapped_level_is_refused() {
    let p = partner_site().await;
    let a = site(&p, &[("urn:onetrip:loa:3", AssuranceLevel::L3)], untouched).await;
    let mut at_a = Browser::new(&a);
    let mut at_b = Browser::new(&p.b);
    let r = journey(&mut at_a, &mut at_b, "/").await;
    refused(&r, StatusCode::FORBIDDEN, "认证等级不被本平台认可");
    assert_eq!(session_of(&mut at_a).await["signed_in"], false);
    assert!(
        a.app
            .db
            .person_by_resident_id(PERSON_RID)
            .await
            .unwrap()
            .is_none(),
        "no account created"
    );
    let event = last_event(&a, None).await;
    assert_eq!(event.method, "partner:js");
    assert!(!event.succeeded);
    let detail: Value = serde_json::from_str(event.detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["failed"], "level");
    assert_eq!(detail["acr"], "urn:onetrip:loa:2");
    // In English on request.
    let authorize = start(&mut at_a, "/").await;
    let callback = at_partner(&mut at_b, &authorize).await;
    let r = at_a
        .send(
            req(Method::GET, callback.strip_prefix(A_ISSUER).unwrap())
                .header(header::ACCEPT_LANGUAGE, "en"),
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text().contains("not accepted here"), "{}", r.text());
}

#[tokio::test]
async fn a_mismatched_state_and_a_replayed_code_are_refused() {
    let p = partner_site().await;
    let a = site(&p, L2_AS_L2, untouched).await;
    let mut at_a = Browser::new(&a);
    let mut at_b = Browser::new(&p.b);

    // A tampered state: refused, and the pending sign-in is gone.
    let authorize = start(&mut at_a, "/").await;
    let callback = at_partner(&mut at_b, &authorize).await;
    let tampered = with_param(&callback, "state", "forged-state");
    refused(
        &back_at_a(&mut at_a, &tampered).await,
        StatusCode::BAD_REQUEST,
        "通过其他地区平台登录未成功",
    );
    assert_eq!(session_of(&mut at_a).await["signed_in"], false);
    let event = last_event(&a, None).await;
    let detail: Value = serde_json::from_str(event.detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["failed"], "state");
    refused(
        &back_at_a(&mut at_a, &callback).await,
        StatusCode::BAD_REQUEST,
        "通过其他地区平台登录未成功",
    );
    assert_eq!(session_of(&mut at_a).await["signed_in"], false);

    // A callback in a browser that started nothing (login CSRF): refused.
    let authorize = start(&mut at_a, "/").await;
    let callback = at_partner(&mut at_b, &authorize).await;
    let mut stranger = Browser::new(&a);
    refused(
        &back_at_a(&mut stranger, &callback).await,
        StatusCode::BAD_REQUEST,
        "通过其他地区平台登录未成功",
    );
    assert_eq!(session_of(&mut stranger).await["signed_in"], false);

    // A successful sign-in, then its callback replayed: nothing pending any more.
    let authorize = start(&mut at_a, "/").await;
    let callback = at_partner(&mut at_b, &authorize).await;
    let r = back_at_a(&mut at_a, &callback).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let mut thief = Browser::new(&a);
    refused(
        &back_at_a(&mut thief, &callback).await,
        StatusCode::BAD_REQUEST,
        "通过其他地区平台登录未成功",
    );
    // The spent code with a fresh sign-in's state: A exchanges it, B refuses it.
    let fresh = start(&mut thief, "/").await;
    let state = query_param(&fresh, "state").unwrap();
    let replay = with_param(&callback, "state", &state);
    refused(
        &back_at_a(&mut thief, &replay).await,
        StatusCode::BAD_REQUEST,
        "通过其他地区平台登录未成功",
    );
    assert_eq!(session_of(&mut thief).await["signed_in"], false);
    let event = last_event(&a, None).await;
    let detail: Value = serde_json::from_str(event.detail.as_deref().unwrap()).unwrap();
    assert_eq!(
        detail["failed"], "token",
        "refused by B at the token endpoint"
    );

    // Declined at B: the callback carries an error, not a code.
    let authorize = start(&mut at_a, "/").await;
    let state = query_param(&authorize, "state").unwrap();
    let declined = format!(
        "{CALLBACK}?error=access_denied&state={state}&iss={}",
        enc(B_ISSUER)
    );
    refused(
        &back_at_a(&mut at_a, &declined).await,
        StatusCode::BAD_REQUEST,
        "通过其他地区平台登录未成功",
    );
}

fn forge_id_token(path: &str, body: Vec<u8>) -> Vec<u8> {
    if path != "/oauth2/token" {
        return body;
    }
    let mut v: Value = serde_json::from_slice(&body).unwrap();
    let token = v["id_token"].as_str().unwrap().to_string();
    let mut parts: Vec<&str> = token.split('.').collect();
    // B's signature over another payload: claims L3.
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: Value = serde_json::from_slice(&engine.decode(parts[1]).unwrap()).unwrap();
    claims["acr"] = "urn:onetrip:loa:3".into();
    let forged = engine.encode(claims.to_string());
    parts[1] = &forged;
    v["id_token"] = parts.join(".").into();
    v.to_string().into_bytes()
}

fn other_subject(path: &str, body: Vec<u8>) -> Vec<u8> {
    if path != "/oauth2/userinfo" {
        return body;
    }
    let mut v: Value = serde_json::from_slice(&body).unwrap();
    v["sub"] = "someone-else".into();
    v.to_string().into_bytes()
}

#[tokio::test]
async fn forged_tokens_wrong_nonces_and_mismatched_subjects_are_refused() {
    let p = partner_site().await;
    let mut at_b = Browser::new(&p.b);
    for (tamper, stage) in [
        (forge_id_token as Tamper, "id_token"),
        (other_subject as Tamper, "userinfo"),
    ] {
        let a = site(&p, L2_AS_L2, tamper).await;
        let mut at_a = Browser::new(&a);
        refused(
            &journey(&mut at_a, &mut at_b, "/").await,
            StatusCode::BAD_REQUEST,
            "通过其他地区平台登录未成功",
        );
        assert_eq!(session_of(&mut at_a).await["signed_in"], false);
        let event = last_event(&a, None).await;
        let detail: Value = serde_json::from_str(event.detail.as_deref().unwrap()).unwrap();
        assert_eq!(detail["failed"], stage);
    }
    // The nonce sent to B changed on the way: B's ID token carries another nonce.
    let a = site(&p, L2_AS_L2, untouched).await;
    let mut at_a = Browser::new(&a);
    let authorize = start(&mut at_a, "/").await;
    let callback = at_partner(&mut at_b, &with_param(&authorize, "nonce", "other-nonce")).await;
    refused(
        &back_at_a(&mut at_a, &callback).await,
        StatusCode::BAD_REQUEST,
        "通过其他地区平台登录未成功",
    );
    let event = last_event(&a, None).await;
    let detail: Value = serde_json::from_str(event.detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["failed"], "id_token");
}

#[tokio::test]
async fn an_unverified_partner_identity_never_takes_over_an_account() {
    let p = partner_site().await;
    // At B, someone registers (L1, not real-name verified) with the ID number of a person who
    // already has an account at A.
    let victim_rid = "11010519491231002X";
    let (_b, _) = p.b.registered(victim_rid, "林晓燕", "13900139000").await;
    let a = site(&p, L2_AS_L2, untouched).await;
    let (_victim, _) = a.registered(victim_rid, "林晓燕", "13700137000").await;
    let mut at_a = Browser::new(&a);
    let mut at_b = Browser::new(&p.b);
    let authorize = start(&mut at_a, "/").await;
    // Sign in at B as the L1 account.
    let path = authorize.strip_prefix(B_ISSUER).unwrap();
    let r = at_b.get(path).await;
    let to = r.header("location").unwrap().to_string();
    let html = at_b.get(&to).await.text();
    let r = at_b
        .post_form(
            "/sign-in",
            &[
                ("csrf_token", &hidden(&html, "csrf_token")),
                ("next", &hidden(&html, "next")),
                ("method", "password"),
                ("login", "13900139000"),
                ("password", PERSON_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let next = r.header("location").unwrap().to_string();
    let callback = at_partner(&mut at_b, &format!("{B_ISSUER}{next}")).await;
    refused(
        &back_at_a(&mut at_a, &callback).await,
        StatusCode::FORBIDDEN,
        "关联账户需要",
    );
    assert_eq!(session_of(&mut at_a).await["signed_in"], false);
}

#[tokio::test]
async fn unknown_and_unreachable_partners_are_refused() {
    let p = partner_site().await;
    let a = site(&p, L2_AS_L2, untouched).await;
    let mut at_a = Browser::new(&a);
    refused(
        &at_a.get("/sign-in/partner/gd?next=/").await,
        StatusCode::NOT_FOUND,
        "未与该地区的政务服务平台建立互认",
    );
    refused(
        &at_a
            .get("/sign-in/partner/gd/callback?code=x&state=y")
            .await,
        StatusCode::NOT_FOUND,
        "未与该地区的政务服务平台建立互认",
    );

    // B is down: every request fails.
    let client: Arc<dyn PartnerPlatform> =
        Arc::new(SandboxPartner::new(into_router(p.b.router.clone(), untouched)).fail_every(1));
    let cfg = config(&p, L2_AS_L2);
    let down = TestApp::build_at(Some(ADMIN), false, A_ISSUER, move |app| {
        app.with_partners(vec![(cfg, client)])
    })
    .await;
    let mut at_down = Browser::new(&down);
    refused(
        &at_down.get("/sign-in/partner/js").await,
        StatusCode::BAD_REQUEST,
        "通过其他地区平台登录未成功",
    );
    assert_eq!(session_of(&mut at_down).await["signed_in"], false);
}
