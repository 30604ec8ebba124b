//! The one place that decides who may do what. Every route is listed in [`ROUTES`] with the
//! permission it needs; the router applies [`require`] from this table, and a test checks every
//! route against every kind of actor.
//!
//! Until the identity issue brings accounts and staff roles, there are two actors: anyone, and
//! the holder of the configured admin token.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;

use crate::problem::ApiError;
use crate::{AppState, Shared};

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// No credentials.
    Anonymous,
    /// Credentials that are not valid.
    Invalid,
    /// Holder of the admin token.
    Admin,
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Anyone: public catalog, calendar and identifier checks, operations endpoints.
    Public,
    /// Change the catalog and the calendar.
    CatalogWrite,
}

/// The decision for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Credentials are missing or wrong (401).
    Unauthenticated,
    /// Writes are disabled because no admin token is configured (403).
    Disabled,
}

/// Decides whether `actor` may use a route that needs `permission`.
pub fn decide(actor: Actor, permission: Permission, writes_configured: bool) -> Decision {
    match permission {
        Permission::Public => Decision::Allow,
        Permission::CatalogWrite if !writes_configured => Decision::Disabled,
        Permission::CatalogWrite => match actor {
            Actor::Admin => Decision::Allow,
            Actor::Anonymous | Actor::Invalid => Decision::Unauthenticated,
        },
    }
}

/// Every route with the permission it needs: method, path template, permission.
pub const ROUTES: &[(Method, &str, Permission)] = &[
    (Method::GET, "/api/v1/items", Permission::Public),
    (Method::GET, "/api/v1/items/{code}", Permission::Public),
    (
        Method::PUT,
        "/api/v1/items/{code}",
        Permission::CatalogWrite,
    ),
    (
        Method::GET,
        "/api/v1/items/{code}/versions",
        Permission::Public,
    ),
    (
        Method::GET,
        "/api/v1/items/{code}/versions/{version}",
        Permission::Public,
    ),
    (
        Method::GET,
        "/api/v1/items/{code}/guide",
        Permission::Public,
    ),
    (
        Method::GET,
        "/api/v1/items/{code}/guide/{situation}",
        Permission::Public,
    ),
    (Method::GET, "/api/v1/departments", Permission::Public),
    (
        Method::GET,
        "/api/v1/departments/{code}",
        Permission::Public,
    ),
    (
        Method::PUT,
        "/api/v1/departments/{code}",
        Permission::CatalogWrite,
    ),
    (Method::GET, "/api/v1/divisions", Permission::Public),
    (Method::GET, "/api/v1/divisions/{code}", Permission::Public),
    (
        Method::PUT,
        "/api/v1/divisions/{code}",
        Permission::CatalogWrite,
    ),
    (Method::GET, "/api/v1/catalog/export", Permission::Public),
    (
        Method::POST,
        "/api/v1/catalog/import",
        Permission::CatalogWrite,
    ),
    (Method::GET, "/api/v1/calendar/deadline", Permission::Public),
    (
        Method::GET,
        "/api/v1/calendar/working-days",
        Permission::Public,
    ),
    (
        Method::GET,
        "/api/v1/calendar/days/{date}",
        Permission::Public,
    ),
    (Method::GET, "/api/v1/calendar/years", Permission::Public),
    (
        Method::PUT,
        "/api/v1/calendar/years/{year}",
        Permission::CatalogWrite,
    ),
    (
        Method::GET,
        "/api/v1/identifiers/{kind}/{value}",
        Permission::Public,
    ),
    (Method::GET, "/api/v1/openapi.json", Permission::Public),
    (Method::GET, "/healthz", Permission::Public),
    (Method::GET, "/readyz", Permission::Public),
    (Method::GET, "/metrics", Permission::Public),
    (Method::GET, "/", Permission::Public),
];

/// The permission a route needs; routes missing from [`ROUTES`] need the strongest one.
pub fn permission_for(method: &Method, template: &str) -> Permission {
    ROUTES
        .iter()
        .find(|(m, t, _)| m == method && *t == template)
        .map(|(_, _, p)| *p)
        .unwrap_or(Permission::CatalogWrite)
}

/// Who sent the request, from its `Authorization: Bearer …` header.
pub fn actor(state: &AppState, request: &Request) -> Actor {
    let Some(value) = request.headers().get(header::AUTHORIZATION) else {
        return Actor::Anonymous;
    };
    // The scheme is case-insensitive (RFC 9110 §11.1): `bearer …` is as good as `Bearer …`.
    let presented = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("Bearer"))
        .map(|(_, token)| token.trim());
    match (presented, &state.admin_token) {
        (Some(p), Some(token))
            if constant_time_eq(p.as_bytes(), token.expose_secret().as_bytes()) =>
        {
            Actor::Admin
        }
        _ => Actor::Invalid,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Middleware applying the policy to the matched route.
pub async fn require(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let template = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let permission = permission_for(request.method(), &template);
    let actor = actor(&state, &request);
    match decide(actor, permission, state.admin_token.is_some()) {
        Decision::Allow => next.run(request).await,
        Decision::Unauthenticated => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "此操作需要管理员身份，请提供有效的管理令牌",
            "This operation needs an administrator: send a valid admin token",
        )
        .with_header(header::WWW_AUTHENTICATE, "Bearer")
        .into_response(),
        Decision::Disabled => ApiError::new(
            StatusCode::FORBIDDEN,
            "writes_disabled",
            "未配置管理令牌（ONETRIP_ADMIN_TOKEN），目录写入已停用",
            "No admin token is configured (ONETRIP_ADMIN_TOKEN), so catalog writes are disabled",
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_is_open_and_writes_need_the_token() {
        for actor in [Actor::Anonymous, Actor::Invalid, Actor::Admin] {
            assert_eq!(decide(actor, Permission::Public, true), Decision::Allow);
            assert_eq!(decide(actor, Permission::Public, false), Decision::Allow);
            assert_eq!(
                decide(actor, Permission::CatalogWrite, false),
                Decision::Disabled
            );
        }
        assert_eq!(
            decide(Actor::Admin, Permission::CatalogWrite, true),
            Decision::Allow
        );
        assert_eq!(
            decide(Actor::Anonymous, Permission::CatalogWrite, true),
            Decision::Unauthenticated
        );
        assert_eq!(
            decide(Actor::Invalid, Permission::CatalogWrite, true),
            Decision::Unauthenticated
        );
    }

    #[test]
    fn unknown_routes_need_the_strongest_permission() {
        assert_eq!(
            permission_for(&Method::DELETE, "/api/v1/items/{code}"),
            Permission::CatalogWrite
        );
        assert_eq!(
            permission_for(&Method::GET, "/api/v1/items"),
            Permission::Public
        );
    }
}
