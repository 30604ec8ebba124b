//! Operations endpoints, request ids, metrics, unknown routes and methods.

use axum::body::Body;
use axum::http::{Method, StatusCode, header};

use crate::common::*;

#[tokio::test]
async fn health_and_readiness() {
    let t = TestApp::new().await;
    assert_eq!(
        t.get_json("/healthz").await,
        serde_json::json!({"status": "ok"})
    );
    assert_eq!(
        t.get_json("/readyz").await,
        serde_json::json!({"status": "ready"})
    );
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let t = TestApp::new().await;
    t.app.db.close().await;
    let r = t.get("/readyz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    // Liveness does not depend on the database.
    assert_eq!(t.get("/healthz").await.status, StatusCode::OK);
}

#[tokio::test]
async fn metrics_count_requests_by_route() {
    let t = TestApp::new().await;
    t.get("/healthz").await;
    t.get(&format!("/api/v1/items/{HOUSING_FUND_MAIN}")).await;
    t.get("/api/v1/items/NOSUCHITEM").await;
    let r = t.get("/metrics").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain"))
    );
    let text = r.text();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains("http_request_duration_seconds"), "{text}");
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("http_requests_total{"))
        .collect();
    // Labelled by route template, never by the raw path (which may carry personal data).
    assert!(
        lines
            .iter()
            .any(|l| l.contains("route=\"/healthz\"") && l.contains("status=\"200\"")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("route=\"/api/v1/items/{code}\"")
                && l.contains("status=\"404\"")
                && l.contains("method=\"GET\"")),
        "{lines:?}"
    );
    assert!(!text.contains(HOUSING_FUND_MAIN), "no raw paths in labels");
    t.get("/api/v1/identifiers/resident-id/11010519491231002X")
        .await;
    let text = t.get("/metrics").await.text();
    assert!(!text.contains("11010519491231002X"));
    assert!(text.contains("route=\"/api/v1/identifiers/{kind}/{value}\""));
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let t = TestApp::new().await;
    let mut ids = std::collections::BTreeSet::new();
    for uri in ["/healthz", "/api/v1/items/NOSUCHITEM", "/no/such/route"] {
        let r = t.get(uri).await;
        let id = r
            .header("x-request-id")
            .unwrap_or_else(|| panic!("{uri} has no x-request-id"))
            .to_string();
        assert!(!id.is_empty());
        ids.insert(id);
    }
    assert_eq!(ids.len(), 3, "fresh ids");
    // A caller's id is kept.
    let r = t
        .send(
            req(Method::GET, "/healthz")
                .header("x-request-id", "trace-abc-123")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.header("x-request-id"), Some("trace-abc-123"));
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let t = TestApp::new().await;
    for uri in [
        "/nope",
        "/api/v1/item",
        "/api/v2/items",
        "/api/v1/items/X/guide/S01/extra",
    ] {
        let p = t
            .get(uri)
            .await
            .problem(StatusCode::NOT_FOUND, "no_such_route");
        assert_eq!(p["title"], p["message_zh"]);
    }
    let r = t
        .send(
            req(Method::GET, "/nope")
                .header(header::ACCEPT_LANGUAGE, "en-GB")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let p = r.problem(StatusCode::NOT_FOUND, "no_such_route");
    assert_eq!(p["title"], "There is nothing at this address");

    for (method, uri) in [
        (Method::DELETE, format!("/api/v1/items/{HOUSING_FUND_MAIN}")),
        (Method::POST, "/api/v1/items".to_string()),
        (Method::GET, "/api/v1/catalog/import".to_string()),
        (Method::PUT, "/healthz".to_string()),
        (Method::PATCH, "/api/v1/calendar/years/2026".to_string()),
    ] {
        let r = t
            .send(req(method.clone(), &uri).body(Body::empty()).unwrap())
            .await;
        r.problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        // RFC 9110 §15.5.6: a 405 lists the methods the resource supports.
        let allow = r
            .header("allow")
            .unwrap_or_else(|| panic!("{method} {uri}: 405 without Allow"));
        assert!(!allow.contains(method.as_str()), "{method} {uri}: {allow}");
    }
    // Allow lists what the route has.
    let r = t
        .send(
            req(
                Method::DELETE,
                &format!("/api/v1/items/{HOUSING_FUND_MAIN}"),
            )
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    let allow = r.header("allow").unwrap_or_default().to_string();
    assert!(allow.contains("GET") && allow.contains("PUT"), "{allow}");
}
