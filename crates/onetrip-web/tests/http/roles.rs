//! The authorisation matrix over signed-in actors: every route of `policy::ROUTES` × citizens
//! (a legal representative, an ordinary person, an agent acting for an organisation), staff
//! (a window clerk, catalog and system administrators with and without TOTP), the operator's
//! token and a machine client; then resources: citizen B against citizen A's organisation, an
//! agent outside their delegation, revocation taking effect at once.

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use jiff::Timestamp;
use onetrip_app::staff::{Granter, NewStaffInput};
use onetrip_domain::identifiers::{
    DivisionCode, credit_code_check_char, organisation_code_check_char,
};
use onetrip_domain::identity::{RoleGrant, StaffRole, TOTP_STEP_SECS, TotpSecret};
use onetrip_web::policy::{Permission, ROUTES};
use serde_json::{Value, json};

use crate::authz::{FORM_OR_OAUTH, Fixtures, concrete};
use crate::common::*;

/// A valid enterprise credit code in 西湖区 (organisation code 12345678 + check).
pub const ORG: &str = "913301061234567887";

/// Items of the demo catalog (住房公积金提取 and two of its siblings).
const ITEM_A: &str = "123301000597435545200050001000";
const ITEM_B: &str = "123301000597435545200050001001";
const ITEM_C: &str = "123301000597435545200050001002";

/// A second person of the demo registry.
const B_RID: &str = "330102199007220264";
const B_NAME: &str = "林晓燕";
const B_PHONE: &str = "13900139000";
/// The agent, also in the demo registry.
const AGENT_RID: &str = "330105197811050315";
const AGENT_NAME: &str = "王建国";
const AGENT_PHONE: &str = "13700137000";

#[test]
fn the_fixture_credit_code_is_valid() {
    let org = format!(
        "12345678{}",
        organisation_code_check_char("12345678").unwrap()
    );
    let first17 = format!("91330106{org}");
    assert_eq!(
        format!("{first17}{}", credit_code_check_char(&first17).unwrap()),
        ORG
    );
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    Operator,
    Representative,
    Person,
    Agent,
    Clerk,
    CatalogAdmin,
    SystemAdmin,
    SystemAdminWithoutTotp,
    Machine,
    DataAdmin,
}

/// How the test expects the policy to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allow,
    Unauthenticated,
    Forbidden,
}

/// The expectation, written independently of `policy::decide`.
fn expect(p: Permission, who: Who) -> Expect {
    use Expect::*;
    use Who::*;
    match (p, who) {
        (Permission::Public, _) => Allow,
        (_, Anonymous) => Unauthenticated,
        (Permission::Citizen, Representative | Person | Agent) => Allow,
        (Permission::Staff, Clerk | CatalogAdmin | SystemAdmin | SystemAdminWithoutTotp) => Allow,
        (Permission::CatalogWrite, Operator | CatalogAdmin) => Allow,
        (Permission::SystemAdmin, Operator | SystemAdmin) => Allow,
        // Any member of staff passes the policy; the use case then checks the department.
        (
            Permission::CertificateIssue,
            Operator | Clerk | CatalogAdmin | DataAdmin | SystemAdmin | SystemAdminWithoutTotp,
        ) => Allow,
        (Permission::Staff, DataAdmin) => Allow,
        (Permission::SignedIn, Machine) => Forbidden,
        (Permission::SignedIn, _) => Allow,
        (Permission::DataAdmin, Operator | DataAdmin) => Allow,
        (Permission::DataAccess, Operator | DataAdmin | Machine) => Allow,
        (Permission::DataConsumer, Machine) => Allow,
        // Applications and cases: every signed-in caller passes the policy (the machine client
        // has the `api` scope); the use case decides whose case it is.
        (Permission::CaseWork, _) => Allow,
        _ => Forbidden,
    }
}

/// A signed-in caller: a cookie (with its CSRF token) or a bearer token.
struct Caller {
    who: Who,
    cookie: Option<String>,
    csrf: Option<String>,
    bearer: Option<String>,
}

fn credit_code_org() -> String {
    ORG.to_string()
}

async fn staff(t: &TestApp, username: &str, role: StaffRole, totp: bool) -> Caller {
    let created = t
        .app
        .create_staff(
            &Granter::Bootstrap,
            NewStaffInput {
                username: username.into(),
                name: "工作人员".into(),
                department_code: "123301000597435545".into(),
                division_code: "330100".into(),
                roles: vec![RoleGrant {
                    role,
                    division: DivisionCode::parse("330100").unwrap(),
                    department: None,
                }],
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    let mut body = json!({
        "username": username,
        "password": secrecy::ExposeSecret::expose_secret(&created.initial_password),
    });
    if totp {
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
        body["totp"] = Value::from(secret.code_at_step(step + 1));
    }
    let mut b = Browser::new(t);
    let r = b
        .json(Method::POST, "/api/v1/staff/session", &body, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{username}: {}", r.text());
    let doc = r.json();
    assert_eq!(doc["totp_verified"], totp);
    Caller {
        who: Who::Anonymous,
        cookie: b.cookie.clone(),
        csrf: doc["csrf_token"].as_str().map(str::to_string),
        bearer: None,
    }
}

/// Sets up every kind of caller; the representative has registered `ORG` and authorised the
/// agent for items A and B; the agent acts for `ORG`.
async fn callers(t: &TestApp) -> Vec<Caller> {
    // The representative: registered, real-name verified (L2), organisation registered.
    let (mut rep, rep_csrf) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    let r = rep
        .json(
            Method::POST,
            "/api/v1/me/real-name",
            &json!({}),
            Some(&rep_csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["assurance_level"], "L2");
    let r = rep
        .json(
            Method::POST,
            "/api/v1/organisations",
            &json!({"credit_code": credit_code_org(), "name": "杭州西湖示例科技有限公司"}),
            Some(&rep_csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let (agent, agent_csrf) = t.registered(AGENT_RID, AGENT_NAME, AGENT_PHONE).await;
    let r = rep
        .json(
            Method::POST,
            &format!("/api/v1/organisations/{ORG}/delegations"),
            &json!({"agent_resident_id": AGENT_RID, "agent_name": AGENT_NAME, "items": [ITEM_A, ITEM_B], "valid_to": "2030-12-31"}),
            Some(&rep_csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let mut agent = agent;
    // Items need L2 by default: an L1 agent is asked to step up first.
    let r = agent
        .get(&format!("/api/v1/items/{ITEM_A}/eligibility"))
        .await;
    let p = r.problem(StatusCode::FORBIDDEN, "assurance_step_up_required");
    assert!(
        p["message_en"].as_str().unwrap().contains("level L2"),
        "{p}"
    );
    let r = agent
        .json(
            Method::POST,
            "/api/v1/me/real-name",
            &json!({}),
            Some(&agent_csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = agent
        .json(
            Method::PUT,
            "/api/v1/session/acting",
            &json!({"organisation": ORG}),
            Some(&agent_csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let (person, person_csrf) = t.registered(B_RID, B_NAME, B_PHONE).await;

    // A machine client.
    let r = t
        .admin_json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "数据交换", "grant_types": ["client_credentials"], "scopes": ["api"]}),
        )
        .await;
    let v = r.json();
    let basic = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            v["client_id"].as_str().unwrap(),
            v["client_secret"].as_str().unwrap()
        ))
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
    let machine = r.json()["access_token"].as_str().unwrap().to_string();

    let with = |who: Who, c: Caller| Caller { who, ..c };
    vec![
        Caller {
            who: Who::Anonymous,
            cookie: None,
            csrf: None,
            bearer: None,
        },
        Caller {
            who: Who::Operator,
            cookie: None,
            csrf: None,
            bearer: Some(ADMIN.to_string()),
        },
        Caller {
            who: Who::Representative,
            cookie: rep.cookie.clone(),
            csrf: Some(rep_csrf),
            bearer: None,
        },
        Caller {
            who: Who::Person,
            cookie: person.cookie.clone(),
            csrf: Some(person_csrf),
            bearer: None,
        },
        Caller {
            who: Who::Agent,
            cookie: agent.cookie.clone(),
            csrf: Some(agent_csrf),
            bearer: None,
        },
        with(
            Who::Clerk,
            staff(t, "clerk.wang", StaffRole::WindowClerk, false).await,
        ),
        with(
            Who::CatalogAdmin,
            staff(t, "catalog.li", StaffRole::CatalogAdministrator, true).await,
        ),
        with(
            Who::SystemAdmin,
            staff(t, "admin.zhao", StaffRole::SystemAdministrator, true).await,
        ),
        with(
            Who::SystemAdminWithoutTotp,
            staff(t, "admin.qian", StaffRole::SystemAdministrator, false).await,
        ),
        Caller {
            who: Who::Machine,
            cookie: None,
            csrf: None,
            bearer: Some(machine),
        },
        with(
            Who::DataAdmin,
            staff(t, "data.sun", StaffRole::DataAdministrator, true).await,
        ),
    ]
}

/// Codes the policy answers with (use cases refuse with their own codes).
const POLICY_CODES: [&str; 4] = [
    "unauthenticated",
    "forbidden",
    "writes_disabled",
    "csrf_failed",
];

#[tokio::test]
async fn every_route_answers_every_signed_in_actor_as_the_policy_says() {
    let t = TestApp::new().await;
    let fixtures = Fixtures::load(&t).await;
    let mut callers = callers(&t).await;
    let export_before = t.export().await;
    // Routes that end the caller's session run last.
    let mut routes: Vec<_> = ROUTES.iter().collect();
    routes.sort_by_key(|(m, p, _)| {
        *m == Method::DELETE && *p == "/api/v1/session" || *p == "/oauth2/logout"
    });
    let mut checked = 0;
    let count = callers.len();
    for caller in &mut callers {
        for (method, template, permission) in &routes {
            let (uri, body) = concrete(method, template, &fixtures, true);
            let mut b = req(method.clone(), &uri);
            if let Some(token) = &caller.bearer {
                b = b.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
            if let Some(cookie) = &caller.cookie {
                b = b.header(header::COOKIE, format!("onetrip_sid={cookie}"));
            }
            if let Some(csrf) = &caller.csrf {
                b = b.header("x-csrf-token", csrf);
            }
            let r = match body {
                Some((ct, text)) => {
                    t.send(
                        b.header(header::CONTENT_TYPE, ct)
                            .body(Body::from(text))
                            .unwrap(),
                    )
                    .await
                }
                None => t.send(b.body(Body::empty()).unwrap()).await,
            };
            // A step-up or identity switch rotates the session id, as a browser would follow.
            for set in r.headers.get_all(header::SET_COOKIE) {
                if let Some(rest) = set.to_str().unwrap().strip_prefix("onetrip_sid=") {
                    caller.cookie = Some(rest.split(';').next().unwrap().to_string());
                }
            }
            let what = format!("{method} {uri} as {:?}", caller.who);
            let code = serde_json::from_slice::<Value>(&r.body)
                .ok()
                .and_then(|v| v["code"].as_str().map(str::to_string))
                .unwrap_or_default();
            let policy_refusal = (r.status == StatusCode::UNAUTHORIZED
                || r.status == StatusCode::FORBIDDEN)
                && POLICY_CODES.contains(&code.as_str());
            match expect(*permission, caller.who) {
                Expect::Allow if FORM_OR_OAUTH.contains(template) => {}
                Expect::Allow => {
                    assert!(!policy_refusal, "{what}: refused {} {}", r.status, r.text())
                }
                Expect::Unauthenticated => {
                    r.problem(StatusCode::UNAUTHORIZED, "unauthenticated");
                }
                Expect::Forbidden => {
                    assert_eq!(
                        r.status,
                        StatusCode::FORBIDDEN,
                        "{what}: unexpected allow: {}",
                        r.text()
                    );
                    assert!(POLICY_CODES.contains(&code.as_str()), "{what}: {code}");
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, ROUTES.len() * count);
    // Nothing a refused caller sent changed the catalog.
    assert_eq!(t.export().await, export_before);
}

#[tokio::test]
async fn session_writes_need_the_csrf_token() {
    let t = TestApp::new().await;
    let (mut b, csrf) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    let r = b
        .json(Method::POST, "/api/v1/me/real-name", &json!({}), None)
        .await;
    r.problem(StatusCode::FORBIDDEN, "csrf_failed");
    let r = b
        .json(
            Method::POST,
            "/api/v1/me/real-name",
            &json!({}),
            Some("not-the-token"),
        )
        .await;
    r.problem(StatusCode::FORBIDDEN, "csrf_failed");
    let r = b
        .json(
            Method::POST,
            "/api/v1/me/real-name",
            &json!({}),
            Some(&csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // Reads need no token.
    assert_eq!(b.get("/api/v1/me").await.status, StatusCode::OK);
}

#[tokio::test]
async fn sign_in_and_step_up_rotate_the_session_id() {
    let t = TestApp::new().await;
    let mut b = Browser::new(&t);
    let before = b.get("/api/v1/session").await;
    assert_eq!(before.json()["signed_in"], false);
    let anonymous = b
        .cookie
        .clone()
        .expect("a pre-sign-in session for the CSRF token");
    let (mut signed, csrf) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    let first = signed.cookie.clone().unwrap();
    assert_ne!(first, anonymous);
    let r = signed
        .json(
            Method::POST,
            "/api/v1/me/real-name",
            &json!({}),
            Some(&csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let second = signed.cookie.clone().unwrap();
    assert_ne!(first, second, "step-up rotates the id");
    // The old id is worthless now.
    let mut stale = Browser {
        t: &t,
        cookie: Some(first),
    };
    assert_eq!(
        stale.get("/api/v1/session").await.json()["signed_in"],
        false
    );
    // Signing out ends the session for good.
    let r = signed
        .json(Method::DELETE, "/api/v1/session", &json!({}), Some(&csrf))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let mut replay = Browser {
        t: &t,
        cookie: Some(second),
    };
    assert_eq!(
        replay.get("/api/v1/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    // Cookie attributes.
    let mut fresh = Browser::new(&t);
    let r = fresh.get("/api/v1/session").await;
    let set = r.header("set-cookie").unwrap().to_string();
    assert!(
        set.contains("HttpOnly")
            && set.contains("SameSite=Lax")
            && set.contains("Secure")
            && set.contains("Path=/"),
        "{set}"
    );
}

#[tokio::test]
async fn people_act_only_within_their_own_organisations_and_delegations() {
    let t = TestApp::new().await;
    let callers = callers(&t).await;
    let by = |who: Who| callers.iter().find(|c| c.who == who).unwrap();
    let browser = |c: &Caller| Browser {
        t: &t,
        cookie: c.cookie.clone(),
    };
    let (rep, person, agent) = (by(Who::Representative), by(Who::Person), by(Who::Agent));

    // The agent acts on the two delegated items, and is refused on a third.
    let mut a = browser(agent);
    for item in [ITEM_A, ITEM_B] {
        let r = a.get(&format!("/api/v1/items/{item}/eligibility")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json()["basis"], "delegation");
        assert_eq!(r.json()["acting_for"], ORG);
    }
    a.get(&format!("/api/v1/items/{ITEM_C}/eligibility"))
        .await
        .problem(StatusCode::FORBIDDEN, "delegation_item_not_covered");
    // The representative acts on everything, once switched.
    let mut r_b = browser(rep);
    let r = r_b
        .json(
            Method::PUT,
            "/api/v1/session/acting",
            &json!({"organisation": ORG}),
            rep.csrf.as_deref(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let rep_cookie = r_b.cookie.clone();
    let r = r_b
        .get(&format!("/api/v1/items/{ITEM_C}/eligibility"))
        .await;
    assert_eq!(r.json()["basis"], "legal_representative", "{}", r.text());

    // Citizen B cannot see, grant or revoke for A's organisation, nor act for it.
    let mut p = browser(person);
    let csrf = person.csrf.as_deref();
    p.get(&format!("/api/v1/organisations/{ORG}/delegations"))
        .await
        .problem(StatusCode::FORBIDDEN, "delegation_not_representative");
    p.json(
        Method::POST,
        &format!("/api/v1/organisations/{ORG}/delegations"),
        &json!({"agent_resident_id": B_RID, "agent_name": B_NAME, "valid_to": "2030-01-01"}),
        csrf,
    )
    .await
    .problem(StatusCode::FORBIDDEN, "delegation_not_representative");
    p.json(
        Method::PUT,
        "/api/v1/session/acting",
        &json!({"organisation": ORG}),
        csrf,
    )
    .await
    .problem(StatusCode::FORBIDDEN, "acting_no_delegation");
    let mut r_b = Browser {
        t: &t,
        cookie: rep_cookie,
    };
    let list = r_b
        .get(&format!("/api/v1/organisations/{ORG}/delegations"))
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    let id = list.json()[0]["id"].as_str().unwrap().to_string();
    assert!(
        !list.text().contains(AGENT_RID),
        "the agent's ID number is never shown"
    );
    p.json(
        Method::POST,
        &format!("/api/v1/delegations/{id}/revocation"),
        &json!({"reason": "试图撤销"}),
        csrf,
    )
    .await
    .problem(StatusCode::FORBIDDEN, "delegation_not_representative");
    // The agent cannot revoke or widen their own delegation either.
    a.json(
        Method::POST,
        &format!("/api/v1/delegations/{id}/revocation"),
        &json!({"reason": "x"}),
        agent.csrf.as_deref(),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "delegation_not_representative");

    // Revocation takes effect at once, in the agent's existing session.
    let r = r_b
        .json(
            Method::POST,
            &format!("/api/v1/delegations/{id}/revocation"),
            &json!({"reason": "离职"}),
            rep.csrf.as_deref(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "revoked");
    a.get(&format!("/api/v1/items/{ITEM_A}/eligibility"))
        .await
        .problem(StatusCode::FORBIDDEN, "delegation_revoked");
    let mine = a.get("/api/v1/me/delegations").await.json();
    assert_eq!(mine[0]["status"], "revoked");
}

#[tokio::test]
async fn sessions_end_after_the_absolute_timeout_and_are_stored_as_digests() {
    use onetrip_web::session::{self, DbSessionStore, SessionAuth};
    use std::sync::Arc;
    let t = TestApp::new().await;
    let store = Arc::new(DbSessionStore::new(t.app.clone()));
    let s = tower_sessions::Session::new(None, store.clone(), None);
    let now = Timestamp::now();
    let auth = SessionAuth::Citizen {
        account: "a".into(),
        level: onetrip_domain::identity::AssuranceLevel::L1,
        amr: vec!["pwd".into()],
        auth_time: now.as_second(),
        acting_for: None,
        sid: "sid".into(),
    };
    session::sign_in(&s, &auth, now).await.unwrap();
    s.save().await.unwrap();
    let id = s.id().unwrap().to_string();
    // The cookie value is not in the database; its digest is.
    assert!(t.app.db.load_session(&id, now).await.unwrap().is_none());
    let digest = onetrip_domain::identity::secret_digest(&id);
    assert!(t.app.db.load_session(&digest, now).await.unwrap().is_some());
    // Within 12 hours of sign-in: signed in; after: flushed, whatever the activity.
    assert!(
        session::current(&s, now + jiff::SignedDuration::from_hours(11))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        session::current(&s, now + jiff::SignedDuration::from_hours(13))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        session::current(&s, now).await.unwrap().is_none(),
        "flushed for good"
    );
}

#[tokio::test]
async fn administrators_disable_staff_and_reset_authenticators_within_their_scope() {
    let t = TestApp::new().await;
    let make = |username: &'static str, division: &'static str, role: StaffRole| {
        let t = &t;
        async move {
            t.app
                .create_staff(
                    &Granter::Bootstrap,
                    NewStaffInput {
                        username: username.into(),
                        name: "人员".into(),
                        department_code: "123301000597435545".into(),
                        division_code: division.into(),
                        roles: vec![RoleGrant {
                            role,
                            division: DivisionCode::parse(division).unwrap(),
                            department: None,
                        }],
                    },
                    Timestamp::now(),
                )
                .await
                .unwrap()
        }
    };
    let clerk = make("clerk.xihu", "330106", StaffRole::WindowClerk).await;
    let far = make("clerk.ningbo", "330200", StaffRole::WindowClerk).await;
    let admin = staff(&t, "admin.city", StaffRole::SystemAdministrator, true).await;
    let send = |method: Method, uri: String, body: Value| {
        let t = &t;
        let cookie = admin.cookie.clone().unwrap();
        let csrf = admin.csrf.clone().unwrap();
        async move {
            t.send(
                req(method, &uri)
                    .header(header::COOKIE, format!("onetrip_sid={cookie}"))
                    .header("x-csrf-token", csrf)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap(),
            )
            .await
        }
    };
    // Outside the city: refused, unchanged.
    send(
        Method::PUT,
        format!("/api/v1/staff/{}/disabled", far.id),
        json!({"disabled": true}),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "staff_outside_scope");
    // Inside: disabled, and the clerk can no longer sign in.
    let r = send(
        Method::PUT,
        format!("/api/v1/staff/{}/disabled", clerk.id),
        json!({"disabled": true}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let mut b = Browser::new(&t);
    let password = secrecy::ExposeSecret::expose_secret(&clerk.initial_password).to_string();
    b.json(
        Method::POST,
        "/api/v1/staff/session",
        &json!({"username": "clerk.xihu", "password": password}),
        None,
    )
    .await
    .problem(StatusCode::UNAUTHORIZED, "sign_in_failed");
    let r = send(
        Method::DELETE,
        format!("/api/v1/staff/{}/totp", clerk.id),
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let events = t
        .app
        .db
        .recent_auth_events(clerk.id.as_str(), 10)
        .await
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert!(
        kinds.contains(&"staff_disabled") && kinds.contains(&"totp_reset"),
        "{kinds:?}"
    );
}
