//! The authorisation matrix: every route of `policy::ROUTES` × every kind of caller, and the
//! OpenAPI document covering exactly the routes of the table.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use onetrip_web::policy::{Permission, ROUTES};
use serde_json::{Value, json};

use crate::common::*;

const SCHEDULE_2026: &str = include_str!("../../../../data/calendar/2026.json");

/// How a request authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    WrongToken,
    WrongScheme,
    EmptyBearer,
    Admin,
}

const CALLERS: [Caller; 5] = [
    Caller::Anonymous,
    Caller::WrongToken,
    Caller::WrongScheme,
    Caller::EmptyBearer,
    Caller::Admin,
];

impl Caller {
    fn authorization(self) -> Option<String> {
        match self {
            Caller::Anonymous => None,
            Caller::WrongToken => Some("Bearer not-the-admin-token".into()),
            Caller::WrongScheme => Some(format!("Basic {ADMIN}")),
            Caller::EmptyBearer => Some("Bearer ".into()),
            Caller::Admin => Some(format!("Bearer {ADMIN}")),
        }
    }
}

/// Public routes that refuse by themselves: OAuth endpoints authenticate clients and tokens,
/// form posts need the CSRF token of a session.
pub(crate) const FORM_OR_OAUTH: [&str; 8] = [
    "/register",
    "/staff/sign-in",
    "/sign-out",
    "/oauth2/token",
    "/oauth2/userinfo",
    "/oauth2/authorize",
    "/sign-in",
    "/step-up",
];

/// Real values from the demo to fill path parameters and write bodies.
pub(crate) struct Fixtures {
    item: Value,
    department: Value,
    division: Value,
    bundle: Value,
}

impl Fixtures {
    pub(crate) async fn load(t: &TestApp) -> Fixtures {
        let item = t.item_doc(HOUSING_FUND_MAIN).await;
        let department = t.get_json("/api/v1/departments/123301000597435545").await;
        let d = t.get_json("/api/v1/divisions/330106").await;
        let division = json!({"code": d["code"], "name": d["name"], "name_en": d["name_en"]});
        let bundle = t.get_json("/api/v1/bundles/ZJ-BIRTH").await["bundle"].clone();
        Fixtures {
            item,
            department,
            division,
            bundle,
        }
    }
}

/// A concrete request for a route template. `harmless` bodies leave the data as it is (same
/// documents again); otherwise the body would change something if it were accepted.
pub(crate) fn concrete(
    method: &Method,
    template: &str,
    f: &Fixtures,
    harmless: bool,
) -> (String, Option<(&'static str, String)>) {
    let changed = |mut v: Value, key: &str, value: &str| {
        if !harmless {
            v[key] = Value::from(value);
        }
        serde_json::to_string(&v).unwrap()
    };
    let uri = match template {
        "/api/v1/items" => format!("/api/v1/items?q={}", enc("公积金")),
        "/api/v1/items/{code}" => format!("/api/v1/items/{HOUSING_FUND_MAIN}"),
        "/api/v1/items/{code}/versions" => format!("/api/v1/items/{HOUSING_FUND_MAIN}/versions"),
        "/api/v1/items/{code}/versions/{version}" => {
            format!("/api/v1/items/{HOUSING_FUND_MAIN}/versions/1")
        }
        "/api/v1/items/{code}/guide" => format!("/api/v1/items/{HOUSING_FUND_MAIN}/guide"),
        "/api/v1/items/{code}/guide/{situation}" => {
            format!("/api/v1/items/{HOUSING_FUND_MAIN}/guide/default")
        }
        "/api/v1/departments/{code}" => "/api/v1/departments/123301000597435545".into(),
        "/api/v1/divisions/{code}" => "/api/v1/divisions/330106".into(),
        "/api/v1/calendar/deadline" => {
            "/api/v1/calendar/deadline?start=2024-09-27&working_days=5".into()
        }
        "/api/v1/calendar/working-days" => {
            "/api/v1/calendar/working-days?start=2024-09-30&end=2024-10-08".into()
        }
        "/api/v1/calendar/days/{date}" => "/api/v1/calendar/days/2024-10-01".into(),
        "/api/v1/calendar/years/{year}" => "/api/v1/calendar/years/2026".into(),
        "/api/v1/identifiers/{kind}/{value}" => {
            "/api/v1/identifiers/resident-id/11010519491231002X".into()
        }
        "/api/v1/clients/{client_id}" => "/api/v1/clients/c-unknown".into(),
        "/api/v1/auth-events" => "/api/v1/auth-events?account_id=nobody".into(),
        "/api/v1/organisations/{credit_code}/delegations" => {
            format!("/api/v1/organisations/{}/delegations", crate::roles::ORG)
        }
        "/api/v1/delegations/{id}/revocation" => "/api/v1/delegations/unknown/revocation".into(),
        "/api/v1/items/{code}/form" => format!("/api/v1/items/{HOUSING_FUND_MAIN}/form"),
        "/api/v1/items/{code}/eligibility" => {
            format!("/api/v1/items/{HOUSING_FUND_MAIN}/eligibility")
        }
        "/api/v1/staff/{id}/roles" => "/api/v1/staff/unknown/roles".into(),
        "/api/v1/staff/{id}/disabled" => "/api/v1/staff/unknown/disabled".into(),
        "/api/v1/staff/{id}/totp" => "/api/v1/staff/unknown/totp".into(),
        "/api/v1/clients/{client_id}/disabled" => "/api/v1/clients/c-unknown/disabled".into(),
        "/api/v1/clients/{client_id}/secret" => "/api/v1/clients/c-unknown/secret".into(),
        "/sign-in/partner/{name}" => "/sign-in/partner/unknown".into(),
        "/api/v1/certificates/{id}/revocation" => "/api/v1/certificates/unknown/revocation".into(),
        "/api/v1/me/certificates/{id}/export" => "/api/v1/me/certificates/unknown/export".into(),
        "/api/v1/me/certificates/{id}/presentations" => {
            "/api/v1/me/certificates/unknown/presentations".into()
        }
        "/api/v1/seals/{department}/rotation" => "/api/v1/seals/unknown/rotation".into(),
        "/api/v1/seals/{department}/keys" => "/api/v1/seals/PLATFORM/keys".into(),
        "/verify/{token}" => "/verify/not-a-token".into(),
        "/api/v1/data/resources/{code}" => "/api/v1/data/resources/ZJ_SOCIAL_INSURANCE_RECORD".into(),
        "/api/v1/data/access-requests/{id}/approval" => {
            "/api/v1/data/access-requests/unknown/approval".into()
        }
        "/api/v1/data/access-requests/{id}/rejection" => {
            "/api/v1/data/access-requests/unknown/rejection".into()
        }
        "/api/v1/data/grants/{id}/revocation" => "/api/v1/data/grants/unknown/revocation".into(),
        "/api/v1/data/resources/{code}/records/{subject}" => {
            "/api/v1/data/resources/ZJ_SOCIAL_INSURANCE_RECORD/records/330102198503140138?purpose=audit".into()
        }
        "/sign-in/partner/{name}/callback" => {
            "/sign-in/partner/unknown/callback?code=x&state=y".into()
        }
        "/api/v1/bundles/{code}" => "/api/v1/bundles/ZJ-BIRTH".into(),
        "/api/v1/bundles/{code}/reduction" => "/api/v1/bundles/ZJ-BIRTH/reduction".into(),
        "/api/v1/bundles/{code}/questionnaire" => "/api/v1/bundles/ZJ-BIRTH/questionnaire".into(),
        "/api/v1/applications/drafts/{id}" => "/api/v1/applications/drafts/unknown".into(),
        "/api/v1/applications/{id}" => "/api/v1/applications/unknown".into(),
        "/api/v1/applications/{id}/timeline" => "/api/v1/applications/unknown/timeline".into(),
        "/api/v1/cases/{number}" => "/api/v1/cases/330106-20261121-999999".into(),
        "/api/v1/cases/{number}/actions" => "/api/v1/cases/330106-20261121-999999/actions".into(),
        "/api/v1/cases/{number}/events" => "/api/v1/cases/330106-20261121-999999/events".into(),
        "/api/v1/cases/{number}/verify" => "/api/v1/cases/330106-20261121-999999/verify".into(),
        "/api/v1/cases/{number}/supervision-orders" => {
            "/api/v1/cases/330106-20261121-999999/supervision-orders".into()
        }
        "/api/v1/departments/{code}/queue" => "/api/v1/departments/123301000597435545/queue".into(),
        "/api/v1/departments/{code}/supervision-orders" => {
            "/api/v1/departments/123301000597435545/supervision-orders".into()
        }
        "/api/v1/departments/{code}/webhooks" => {
            "/api/v1/departments/123301000597435545/webhooks".into()
        }
        "/api/v1/supervision-orders/{id}/answer" => "/api/v1/supervision-orders/unknown/answer".into(),
        "/api/v1/statistics/departments" => "/api/v1/statistics/departments?division=330100".into(),
        "/api/v1/supervision/at-risk" => "/api/v1/supervision/at-risk?division=330100".into(),
        "/items/{code}" => format!(
            "/items/{}",
            f.item["implementation_code"].as_str().unwrap()
        ),
        "/admin/catalog/items/{code}" => format!("/admin/catalog/items/{HOUSING_FUND_MAIN}"),
        t if t.starts_with("/admin/staff/{id}") => t.replace("{id}", "unknown"),
        t if t.starts_with("/admin/data/") => t.replace("{id}", "unknown"),
        "/admin/certificates/seals/{department}/rotation" => {
            "/admin/certificates/seals/unknown/rotation".into()
        }
        "/admin/bundles/{code}" => "/admin/bundles/ZJ-BIRTH".into(),
        "/bundles/{code}" => "/bundles/ZJ-BIRTH".into(),
        "/bundles/{code}/start" => "/bundles/ZJ-BIRTH/start".into(),
        "/items/{code}/start" => format!("/items/{HOUSING_FUND_MAIN}/start"),
        t if t.starts_with("/applications/{id}") => t.replace("{id}", "unknown"),
        "/me/applications/{id}" => "/me/applications/unknown".into(),
        "/work/cases/{number}" => "/work/cases/330106-20261121-999999".into(),
        "/supervision/cases/{number}/orders" => {
            "/supervision/cases/330106-20261121-999999/orders".into()
        }
        "/me/certificates/{id}/show" => "/me/certificates/unknown/show".into(),
        "/me/applications/{id}/cases/{number}" => {
            "/me/applications/unknown/cases/330106-20261121-999999".into()
        }
        "/counter/bundles/{code}/apply" => "/counter/bundles/ZJ-BIRTH/apply".into(),
        "/counter/items/{code}/apply" => format!("/counter/items/{HOUSING_FUND_MAIN}/apply"),
        "/counter/walk-ins/{key}" => "/counter/walk-ins/unknown".into(),
        "/counter/applications/{id}/receipt" => "/counter/applications/unknown/receipt".into(),
        "/counter/items/{code}/notice" => format!("/counter/items/{HOUSING_FUND_MAIN}/notice"),
        "/counter/cases/{number}/notice" => "/counter/cases/330106-20261121-999999/notice".into(),
        "/me/applications/{id}/receipt" => "/me/applications/unknown/receipt".into(),
        "/me/cases/{number}/notice" => "/me/cases/330106-20261121-999999/notice".into(),
        "/api/v1/uploads/{id}" | "/me/uploads/{id}" => template.replace("{id}", "unknown"),
        "/api/v1/cases/{number}/uploads/{id}" | "/work/cases/{number}/uploads/{id}" => template
            .replace("{number}", "330106-20261121-999999")
            .replace("{id}", "unknown"),
        t if !t.contains('{') => t.to_string(),
        other => panic!("no concrete values for route {other}: teach this test about it"),
    };
    let body = match (method.as_str(), template) {
        ("GET", _) | ("DELETE", _) => None,
        ("POST", "/api/v1/clients") => Some((
            "application/json",
            json!({"name": "测试系统", "redirect_uris": ["https://x.example/cb"], "grant_types": ["authorization_code"], "scopes": ["openid"]}).to_string(),
        )),
        ("POST", "/api/v1/departments/{code}/webhooks") => None,
        ("PUT", "/api/v1/bundles/{code}") => Some((
            "application/json",
            changed(f.bundle.clone(), "name", "匿名改名"),
        )),
        ("POST" | "PUT", t)
            if !t.starts_with("/api/v1/catalog")
                && !t.starts_with("/api/v1/items")
                && !t.starts_with("/api/v1/departments")
                && !t.starts_with("/api/v1/divisions")
                && !t.starts_with("/api/v1/calendar") =>
        {
            None
        }
        ("PUT", "/api/v1/items/{code}") => Some((
            "application/json",
            changed(f.item.clone(), "name", "匿名改名"),
        )),
        ("PUT", "/api/v1/departments/{code}") => Some((
            "application/json",
            changed(f.department.clone(), "name", "匿名改名"),
        )),
        ("PUT", "/api/v1/divisions/{code}") => Some((
            "application/json",
            changed(f.division.clone(), "name", "匿名改名"),
        )),
        ("POST", "/api/v1/catalog/import") => {
            let division = if harmless {
                f.division.clone()
            } else {
                json!({"code": "330112", "name": "匿名新区"})
            };
            Some((
                "application/json",
                json!({ "divisions": [division] }).to_string(),
            ))
        }
        ("PUT", "/api/v1/calendar/years/{year}") => {
            let mut schedule: Value = serde_json::from_str(SCHEDULE_2026).unwrap();
            Some((
                "application/json",
                changed(schedule.take(), "source", "匿名来源"),
            ))
        }
        (m, t) => panic!("no body for {m} {t}: teach this test about it"),
    };
    (uri, body)
}

fn request(
    method: &Method,
    uri: &str,
    body: Option<(&'static str, String)>,
    caller: Caller,
) -> Request<Body> {
    let mut b = req(method.clone(), uri);
    if let Some(auth) = caller.authorization() {
        b = b.header(header::AUTHORIZATION, auth);
    }
    match body {
        Some((content_type, text)) => b
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(text))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    }
}

#[tokio::test]
async fn every_route_answers_every_caller_as_the_policy_says() {
    let t = TestApp::new().await;
    let fixtures = Fixtures::load(&t).await;
    let export_before = t.export().await;
    let years_before = t.get_json("/api/v1/calendar/years").await;
    let mut writes = 0;
    for (method, template, permission) in ROUTES {
        for caller in CALLERS {
            let harmless = caller == Caller::Admin;
            let (uri, body) = concrete(method, template, &fixtures, harmless);
            let r = t.send(request(method, &uri, body, caller)).await;
            let what = format!("{method} {uri} as {caller:?}");
            let refused = r.status == StatusCode::UNAUTHORIZED || r.status == StatusCode::FORBIDDEN;
            // Pages' forms need the CSRF token of a browser's session, which a bearer token
            // has not: the operator reads the administrator pages but does not post their
            // forms.
            let page_form = *method == Method::POST && !template.starts_with("/api/");
            match (permission, caller) {
                (
                    Permission::CatalogWrite | Permission::SystemAdmin | Permission::DataAdmin,
                    Caller::Admin,
                ) if page_form => {
                    r.problem(StatusCode::FORBIDDEN, "page_expired");
                }
                (Permission::CatalogWrite, Caller::Admin) => {
                    assert!(r.status.is_success(), "{what}: {} {}", r.status, r.text());
                }
                (
                    Permission::SystemAdmin
                    | Permission::CertificateIssue
                    | Permission::DataAdmin
                    | Permission::DataAccess
                    | Permission::SignedIn
                    | Permission::CaseWork,
                    Caller::Admin,
                ) => {
                    assert!(!refused, "{what}: {} {}", r.status, r.text());
                }
                // The token and userinfo endpoints authenticate their callers themselves (401),
                // and form pages refuse posts without the session's CSRF token (403).
                (Permission::Public, _) if FORM_OR_OAUTH.contains(template) => {}
                (Permission::Public, _) => {
                    assert!(
                        !refused,
                        "{what}: a public route never refuses: {}",
                        r.text()
                    );
                }
                (
                    Permission::Citizen | Permission::Staff | Permission::DataConsumer,
                    Caller::Admin,
                ) => {
                    r.problem(StatusCode::FORBIDDEN, "forbidden");
                }
                (_, _) => {
                    r.problem(StatusCode::UNAUTHORIZED, "unauthenticated");
                    assert_eq!(r.header("www-authenticate"), Some("Bearer"), "{what}");
                }
            }
        }
        if *permission == Permission::CatalogWrite && template.starts_with("/api/") {
            writes += 1;
        }
    }
    assert_eq!(
        writes, 6,
        "item, department, division, import, calendar year, bundle"
    );
    // The refused writes changed nothing (the admin's wrote the same data again).
    assert_eq!(t.export().await, export_before);
    assert_eq!(t.get_json("/api/v1/calendar/years").await, years_before);
}

#[tokio::test]
async fn without_a_configured_token_writes_are_disabled() {
    let t = TestApp::with_token(None).await;
    let fixtures = Fixtures::load(&t).await;
    let export_before = t.export().await;
    for (method, template, permission) in ROUTES {
        for caller in CALLERS {
            let (uri, body) = concrete(method, template, &fixtures, false);
            let r = t.send(request(method, &uri, body, caller)).await;
            match permission {
                Permission::CatalogWrite
                | Permission::SystemAdmin
                | Permission::CertificateIssue
                | Permission::DataAdmin => {
                    let p = r.problem(StatusCode::FORBIDDEN, "writes_disabled");
                    assert!(
                        p["message_en"]
                            .as_str()
                            .unwrap()
                            .contains("ONETRIP_ADMIN_TOKEN")
                    );
                    assert_eq!(r.header("www-authenticate"), None);
                }
                Permission::Public => assert!(
                    r.status != StatusCode::FORBIDDEN || FORM_OR_OAUTH.contains(template),
                    "{method} {uri}: {} {}",
                    r.status,
                    r.text()
                ),
                Permission::Citizen
                | Permission::Staff
                | Permission::SignedIn
                | Permission::DataAccess
                | Permission::CaseWork
                | Permission::DataConsumer => {
                    r.problem(StatusCode::UNAUTHORIZED, "unauthenticated");
                }
            }
        }
    }
    assert_eq!(t.export().await, export_before);
}

#[tokio::test]
async fn bearer_scheme_and_token_are_checked_exactly() {
    let t = TestApp::new().await;
    let fixtures = Fixtures::load(&t).await;
    let (uri, body) = concrete(&Method::PUT, "/api/v1/items/{code}", &fixtures, true);
    let body = body.unwrap().1;
    let put = |auth: &str| {
        req(Method::PUT, &uri)
            .header(header::AUTHORIZATION, auth)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.clone()))
            .unwrap()
    };
    // The scheme is case-insensitive (RFC 9110 §11.1); surrounding blanks are tolerated.
    for ok in [
        format!("Bearer {ADMIN}"),
        format!("bearer {ADMIN}"),
        format!("BEARER {ADMIN}"),
        format!("Bearer   {ADMIN}  "),
    ] {
        let r = t.send(put(&ok)).await;
        assert_eq!(r.status, StatusCode::OK, "{ok:?}: {}", r.text());
    }
    for bad in [
        format!("Bearer {ADMIN}x"),
        format!("Bearer {}", &ADMIN[..ADMIN.len() - 1]),
        format!("Bearer {}", ADMIN.to_uppercase()),
        format!("Token {ADMIN}"),
        format!("Bearer{ADMIN}"),
        ADMIN.to_string(),
        "Bearer".to_string(),
    ] {
        let r = t.send(put(&bad)).await;
        r.problem(StatusCode::UNAUTHORIZED, "unauthenticated");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    }
    // English on request, header kept.
    let r = t
        .send(
            req(Method::PUT, &uri)
                .header(header::ACCEPT_LANGUAGE, "en")
                .body(Body::from(body.clone()))
                .unwrap(),
        )
        .await;
    let p = r.problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(p["title"], p["message_en"]);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
}

#[tokio::test]
async fn the_openapi_document_covers_exactly_the_policy_table() {
    let t = TestApp::new().await;
    let r = t.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "onetrip API");
    assert!(doc["components"]["securitySchemes"]["admin_token"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());

    let mut documented: BTreeSet<(String, String)> = BTreeSet::new();
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let method = method.to_uppercase();
            let permission = ROUTES
                .iter()
                .find(|(m, p, _)| m.as_str() == method && p == path)
                .map(|(_, _, perm)| *perm);
            // Writes declare the admin token, reads do not.
            let secured = operation
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(|s| s.iter().any(|r| r.get("admin_token").is_some()));
            assert_eq!(
                secured,
                matches!(
                    permission,
                    Some(
                        Permission::CatalogWrite
                            | Permission::SystemAdmin
                            | Permission::CertificateIssue
                    )
                ),
                "{method} {path}: security in OpenAPI matches the policy"
            );
            documented.insert((method, path.clone()));
        }
    }
    // The pages are not part of the API.
    for (m, p, _) in ROUTES {
        if onetrip_web::pages::paths().contains(p) {
            documented.insert((m.as_str().to_string(), (*p).to_string()));
        }
    }
    documented.insert(("GET".into(), "/api/v1/openapi.json".into()));
    // The OpenID Connect endpoints and their pages are specified by OpenID Connect, not here;
    // they are in the policy table all the same.
    for (m, p, _) in ROUTES {
        if onetrip_web::sso::PROTOCOL_PATHS.contains(p) {
            documented.insert((m.as_str().to_string(), (*p).to_string()));
        }
    }
    let table: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p, _)| (m.as_str().to_string(), (*p).to_string()))
        .collect();
    assert_eq!(table.len(), ROUTES.len(), "no duplicates in ROUTES");
    assert_eq!(
        documented,
        table,
        "documented but not in policy: {:?}; in policy but not documented: {:?}",
        documented.difference(&table).collect::<Vec<_>>(),
        table.difference(&documented).collect::<Vec<_>>()
    );
    // The library's own document is the one served.
    let lib = serde_json::to_value(onetrip_web::openapi()).unwrap();
    assert_eq!(lib["paths"], doc["paths"]);
}
