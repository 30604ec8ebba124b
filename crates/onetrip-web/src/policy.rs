//! The one place that decides who may do what. Every route is listed in [`ROUTES`] with the
//! permission it needs; the router applies [`require`] from this table to every request, and a
//! test checks every route against every kind of actor.
//!
//! Actors come from one of three credentials, checked in this order:
//! - `Authorization: Bearer …`: the operator's admin token (`ONETRIP_ADMIN_TOKEN`, for
//!   bootstrapping and automation), or an access token issued by onetrip's OpenID Connect
//!   provider (a person through a department system, or a machine client);
//! - the session cookie of a person or a member of staff signed in on the web;
//! - nothing: anonymous.
//!
//! Route permissions say who may call a route at all. What a caller may do to a particular
//! resource (citizen A's delegations against citizen B's, an agent outside their delegation,
//! a clerk outside their county) is decided by the use case with the actor passed in, using
//! the domain rules; the authorisation matrix test covers both.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use onetrip_domain::identity::{AssuranceLevel, RoleGrant, StaffRole, constant_time_eq};
use onetrip_domain::sso::{Scope, Scopes};
use secrecy::ExposeSecret;
use tower_sessions::Session;

use crate::problem::ApiError;
use crate::session::{self, SessionAuth};
use crate::{AppState, Shared};

/// A person, signed in on the web or through an access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitizenActor {
    /// Account id.
    pub account: String,
    /// Assurance level of this sign-in.
    pub level: AssuranceLevel,
    /// Credit code of the organisation acted for, after an explicit switch.
    pub acting_for: Option<String>,
    /// Whether the credential is the session cookie (so CSRF protection applies).
    pub via_session: bool,
}

/// A member of staff signed in on the web.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffActor {
    /// Staff id.
    pub id: String,
    /// Role grants.
    pub roles: Vec<RoleGrant>,
    /// Whether TOTP was verified at sign-in.
    pub totp_verified: bool,
}

impl StaffActor {
    /// Whether the member of staff holds `role` (anywhere). Administrator roles count only
    /// after TOTP.
    pub fn holds(&self, role: StaffRole) -> bool {
        (!role.requires_totp() || self.totp_verified) && self.roles.iter().any(|g| g.role == role)
    }
}

/// A machine client with a client-credentials token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientActor {
    /// `client_id`.
    pub client_id: String,
    /// Granted scopes.
    pub scopes: Scopes,
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// No credentials.
    Anonymous,
    /// Credentials that are not valid.
    Invalid,
    /// The operator's admin token.
    Operator,
    /// A person.
    Citizen(CitizenActor),
    /// A member of staff.
    Staff(StaffActor),
    /// A machine client.
    Client(ClientActor),
}

impl Actor {
    /// Whether the credential is the session cookie.
    pub fn via_session(&self) -> bool {
        match self {
            Actor::Citizen(c) => c.via_session,
            Actor::Staff(_) => true,
            _ => false,
        }
    }
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Anyone: public catalog, calendar and identifier checks, sign-in and registration,
    /// single sign-on endpoints (which authenticate their callers themselves).
    Public,
    /// A signed-in person.
    Citizen,
    /// A signed-in member of staff.
    Staff,
    /// A signed-in person or member of staff, or the operator (not machine clients): the use
    /// case decides what each may do (material resolution).
    SignedIn,
    /// Change the catalog and the calendar: the operator or a catalog administrator.
    CatalogWrite,
    /// Manage staff and clients: the operator or a system administrator.
    SystemAdmin,
    /// Issue and revoke certificates: the operator or a member of staff; the use case then
    /// requires a department officer or head whose grant covers the issuing department.
    CertificateIssue,
    /// Administer the data catalog, decide access requests, revoke grants, read the access log:
    /// the operator or a data administrator (which provider is checked by the use case).
    DataAdmin,
    /// File and list access requests and grants, push records: the operator, a data
    /// administrator, or a machine client with the `api` scope.
    DataAccess,
    /// Read shared data: a machine client with the `api` scope (client credentials).
    DataConsumer,
    /// Applications and cases: a signed-in person, a member of staff, the operator, or a
    /// machine client with the `api` scope (a department system); the use case decides which
    /// applicant, clerk, officer, supervisor or department may do what.
    CaseWork,
}

/// The decision for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Credentials are missing or wrong (401).
    Unauthenticated,
    /// Signed in, but not allowed (403).
    Forbidden,
    /// Writes are disabled: no admin token is configured and no administrator signed in (403).
    Disabled,
}

/// Decides whether `actor` may use a route that needs `permission`.
pub fn decide(actor: &Actor, permission: Permission, token_configured: bool) -> Decision {
    let unauthenticated = matches!(actor, Actor::Anonymous | Actor::Invalid);
    match permission {
        Permission::Public => Decision::Allow,
        Permission::Citizen => match actor {
            Actor::Citizen(_) => Decision::Allow,
            _ if unauthenticated => Decision::Unauthenticated,
            _ => Decision::Forbidden,
        },
        Permission::SignedIn => match actor {
            Actor::Citizen(_) | Actor::Staff(_) | Actor::Operator => Decision::Allow,
            _ if unauthenticated => Decision::Unauthenticated,
            _ => Decision::Forbidden,
        },
        Permission::Staff => match actor {
            Actor::Staff(_) => Decision::Allow,
            _ if unauthenticated => Decision::Unauthenticated,
            _ => Decision::Forbidden,
        },
        Permission::CertificateIssue => match actor {
            Actor::Operator | Actor::Staff(_) => Decision::Allow,
            _ if unauthenticated && !token_configured => Decision::Disabled,
            _ if unauthenticated => Decision::Unauthenticated,
            _ => Decision::Forbidden,
        },
        Permission::DataAccess => match actor {
            Actor::Operator => Decision::Allow,
            Actor::Staff(s) if s.holds(StaffRole::DataAdministrator) => Decision::Allow,
            Actor::Client(c) if c.scopes.contains(Scope::Api) => Decision::Allow,
            _ if unauthenticated => Decision::Unauthenticated,
            _ => Decision::Forbidden,
        },
        Permission::CaseWork => match actor {
            Actor::Citizen(_) | Actor::Staff(_) | Actor::Operator => Decision::Allow,
            Actor::Client(c) if c.scopes.contains(Scope::Api) => Decision::Allow,
            _ if unauthenticated => Decision::Unauthenticated,
            _ => Decision::Forbidden,
        },
        Permission::DataConsumer => match actor {
            Actor::Client(c) if c.scopes.contains(Scope::Api) => Decision::Allow,
            _ if unauthenticated => Decision::Unauthenticated,
            _ => Decision::Forbidden,
        },
        Permission::CatalogWrite | Permission::SystemAdmin | Permission::DataAdmin => {
            let role = match permission {
                Permission::CatalogWrite => StaffRole::CatalogAdministrator,
                Permission::DataAdmin => StaffRole::DataAdministrator,
                _ => StaffRole::SystemAdministrator,
            };
            match actor {
                Actor::Operator => Decision::Allow,
                Actor::Staff(s) if s.holds(role) => Decision::Allow,
                _ if unauthenticated && !token_configured => Decision::Disabled,
                _ if unauthenticated => Decision::Unauthenticated,
                _ => Decision::Forbidden,
            }
        }
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
    // Portal pages (crate::pages): public guides; a person's own applications.
    (Method::GET, "/", Permission::Public),
    (Method::GET, "/search", Permission::Public),
    (Method::GET, "/items/{code}", Permission::Public),
    (Method::GET, "/bundles/{code}", Permission::Public),
    (Method::GET, "/assets/site.css", Permission::Public),
    (Method::GET, "/assets/site.js", Permission::Public),
    (Method::POST, "/sign-out", Permission::Public),
    (Method::POST, "/bundles/{code}/start", Permission::Citizen),
    (Method::POST, "/items/{code}/start", Permission::Citizen),
    (Method::GET, "/applications/{id}", Permission::Citizen),
    (
        Method::GET,
        "/applications/{id}/questions",
        Permission::Citizen,
    ),
    (
        Method::POST,
        "/applications/{id}/questions",
        Permission::Citizen,
    ),
    (Method::GET, "/applications/{id}/form", Permission::Citizen),
    (Method::POST, "/applications/{id}/form", Permission::Citizen),
    (
        Method::GET,
        "/applications/{id}/materials",
        Permission::Citizen,
    ),
    (
        Method::POST,
        "/applications/{id}/materials",
        Permission::Citizen,
    ),
    (Method::GET, "/me/uploads/{id}", Permission::Citizen),
    (Method::GET, "/applications/{id}/check", Permission::Citizen),
    (
        Method::POST,
        "/applications/{id}/check",
        Permission::Citizen,
    ),
    (Method::GET, "/me/applications", Permission::Citizen),
    (Method::GET, "/me/applications/{id}", Permission::Citizen),
    (
        Method::POST,
        "/me/applications/{id}/cases/{number}",
        Permission::Citizen,
    ),
    // The staff entrance (crate::pages::staff): sign-in, and the workbench home.
    (Method::GET, "/staff/sign-in", Permission::Public),
    (Method::POST, "/staff/sign-in", Permission::Public),
    (Method::GET, "/staff", Permission::Staff),
    // Window clerk pages (综合窗口, crate::pages::counter).
    (Method::GET, "/counter", Permission::Staff),
    (
        Method::GET,
        "/counter/bundles/{code}/apply",
        Permission::Staff,
    ),
    (
        Method::POST,
        "/counter/bundles/{code}/apply",
        Permission::Staff,
    ),
    (
        Method::GET,
        "/counter/items/{code}/apply",
        Permission::Staff,
    ),
    (
        Method::POST,
        "/counter/items/{code}/apply",
        Permission::Staff,
    ),
    (Method::GET, "/counter/walk-ins/{key}", Permission::Staff),
    (Method::POST, "/counter/walk-ins/{key}", Permission::Staff),
    // Print views (crate::pages::print): the receipt and the one-time notices.
    (
        Method::GET,
        "/counter/applications/{id}/receipt",
        Permission::Staff,
    ),
    (
        Method::GET,
        "/counter/items/{code}/notice",
        Permission::Staff,
    ),
    (
        Method::GET,
        "/counter/cases/{number}/notice",
        Permission::Staff,
    ),
    (
        Method::GET,
        "/me/applications/{id}/receipt",
        Permission::Citizen,
    ),
    (
        Method::GET,
        "/me/cases/{number}/notice",
        Permission::Citizen,
    ),
    // Department officer pages (crate::pages::work).
    (Method::GET, "/work/queue", Permission::Staff),
    (Method::POST, "/work/queue/batch", Permission::Staff),
    (Method::GET, "/work/cases/{number}", Permission::Staff),
    (
        Method::GET,
        "/work/cases/{number}/uploads/{id}",
        Permission::Staff,
    ),
    (Method::POST, "/work/cases/{number}", Permission::Staff),
    // Supervisor pages (crate::pages::supervision).
    (Method::GET, "/supervision", Permission::Staff),
    (
        Method::POST,
        "/supervision/cases/{number}/orders",
        Permission::Staff,
    ),
    // Administrator pages (crate::pages::admin).
    (Method::GET, "/staff/authenticator", Permission::Staff),
    (Method::POST, "/staff/authenticator", Permission::Staff),
    (Method::GET, "/admin/catalog", Permission::CatalogWrite),
    (
        Method::GET,
        "/admin/catalog/items/{code}",
        Permission::CatalogWrite,
    ),
    (
        Method::POST,
        "/admin/catalog/items/{code}",
        Permission::CatalogWrite,
    ),
    (Method::GET, "/admin/bundles", Permission::CatalogWrite),
    (
        Method::GET,
        "/admin/bundles/{code}",
        Permission::CatalogWrite,
    ),
    (
        Method::POST,
        "/admin/bundles/{code}",
        Permission::CatalogWrite,
    ),
    (Method::GET, "/admin/calendar", Permission::CatalogWrite),
    (Method::POST, "/admin/calendar", Permission::CatalogWrite),
    (Method::GET, "/admin/certificates", Permission::SystemAdmin),
    (
        Method::POST,
        "/admin/certificates/seals/{department}/rotation",
        Permission::SystemAdmin,
    ),
    (Method::GET, "/admin/data", Permission::DataAdmin),
    (
        Method::POST,
        "/admin/data/requests/{id}/decision",
        Permission::DataAdmin,
    ),
    (
        Method::POST,
        "/admin/data/grants/{id}/revocation",
        Permission::DataAdmin,
    ),
    (Method::GET, "/admin/staff", Permission::SystemAdmin),
    (Method::POST, "/admin/staff", Permission::SystemAdmin),
    (Method::GET, "/admin/staff/{id}", Permission::SystemAdmin),
    (
        Method::POST,
        "/admin/staff/{id}/roles",
        Permission::SystemAdmin,
    ),
    (
        Method::POST,
        "/admin/staff/{id}/disabled",
        Permission::SystemAdmin,
    ),
    (
        Method::POST,
        "/admin/staff/{id}/totp",
        Permission::SystemAdmin,
    ),
    // The citizen's certificates, data-use log and account (crate::pages::account).
    (Method::GET, "/me/certificates", Permission::Citizen),
    (
        Method::GET,
        "/me/certificates/{id}/show",
        Permission::Citizen,
    ),
    (
        Method::POST,
        "/me/certificates/{id}/show",
        Permission::Citizen,
    ),
    (Method::GET, "/me/data-access", Permission::Citizen),
    (Method::GET, "/me/account", Permission::Citizen),
    (Method::POST, "/me/account/acting", Permission::Citizen),
    // Accounts.
    (Method::POST, "/api/v1/sms-codes", Permission::Public),
    (Method::POST, "/api/v1/persons", Permission::Public),
    (Method::POST, "/api/v1/session", Permission::Public),
    (Method::GET, "/api/v1/session", Permission::Public),
    (Method::DELETE, "/api/v1/session", Permission::Public),
    (Method::GET, "/api/v1/me", Permission::Citizen),
    (Method::GET, "/api/v1/me/sign-ins", Permission::Citizen),
    (Method::POST, "/api/v1/me/real-name", Permission::Citizen),
    (Method::POST, "/api/v1/me/face-check", Permission::Citizen),
    (Method::POST, "/api/v1/organisations", Permission::Citizen),
    (
        Method::POST,
        "/api/v1/organisations/{credit_code}/delegations",
        Permission::Citizen,
    ),
    (
        Method::GET,
        "/api/v1/organisations/{credit_code}/delegations",
        Permission::Citizen,
    ),
    (
        Method::POST,
        "/api/v1/delegations/{id}/revocation",
        Permission::Citizen,
    ),
    (Method::GET, "/api/v1/me/delegations", Permission::Citizen),
    (Method::GET, "/api/v1/me/organisations", Permission::Citizen),
    (Method::PUT, "/api/v1/session/acting", Permission::Citizen),
    (
        Method::GET,
        "/api/v1/items/{code}/eligibility",
        Permission::Citizen,
    ),
    // Staff.
    (Method::POST, "/api/v1/staff", Permission::SystemAdmin),
    (Method::GET, "/api/v1/staff", Permission::SystemAdmin),
    (
        Method::PUT,
        "/api/v1/staff/{id}/roles",
        Permission::SystemAdmin,
    ),
    (
        Method::PUT,
        "/api/v1/staff/{id}/disabled",
        Permission::SystemAdmin,
    ),
    (
        Method::DELETE,
        "/api/v1/staff/{id}/totp",
        Permission::SystemAdmin,
    ),
    (Method::POST, "/api/v1/staff/session", Permission::Public),
    (Method::GET, "/api/v1/auth-events", Permission::SystemAdmin),
    (Method::POST, "/api/v1/staff/me/totp", Permission::Staff),
    (Method::PUT, "/api/v1/staff/me/totp", Permission::Staff),
    (
        Method::POST,
        "/api/v1/staff/in-person-checks",
        Permission::Staff,
    ),
    // Single sign-on: client administration.
    (Method::POST, "/api/v1/clients", Permission::SystemAdmin),
    (Method::GET, "/api/v1/clients", Permission::SystemAdmin),
    (
        Method::GET,
        "/api/v1/clients/{client_id}",
        Permission::SystemAdmin,
    ),
    (
        Method::POST,
        "/api/v1/clients/{client_id}/secret",
        Permission::SystemAdmin,
    ),
    (
        Method::PUT,
        "/api/v1/clients/{client_id}/disabled",
        Permission::SystemAdmin,
    ),
    // Single sign-on: the protocol endpoints authenticate their callers themselves (client
    // credentials, access tokens, the session), as OpenID Connect specifies.
    (
        Method::GET,
        "/.well-known/openid-configuration",
        Permission::Public,
    ),
    (Method::GET, "/oauth2/jwks", Permission::Public),
    (Method::GET, "/oauth2/authorize", Permission::Public),
    (Method::POST, "/oauth2/authorize", Permission::Public),
    (Method::POST, "/oauth2/token", Permission::Public),
    (Method::GET, "/oauth2/userinfo", Permission::Public),
    (Method::POST, "/oauth2/userinfo", Permission::Public),
    (Method::GET, "/oauth2/logout", Permission::Public),
    (Method::GET, "/sign-in", Permission::Public),
    (Method::POST, "/sign-in", Permission::Public),
    (Method::GET, "/register", Permission::Public),
    // The sandbox SMS inbox: served in demo mode only (404 otherwise).
    (Method::GET, "/dev/sms", Permission::Public),
    (Method::POST, "/register", Permission::Public),
    (Method::GET, "/step-up", Permission::Public),
    (Method::POST, "/step-up", Permission::Public),
    // Sign-in through partner platforms (跨省通办): onetrip as a relying party.
    (Method::GET, "/sign-in/partner/{name}", Permission::Public),
    (
        Method::GET,
        "/sign-in/partner/{name}/callback",
        Permission::Public,
    ),
    // Bundles, applications and cases (一件事 + 办件).
    (Method::GET, "/api/v1/bundles", Permission::Public),
    (Method::GET, "/api/v1/bundles/{code}", Permission::Public),
    (
        Method::PUT,
        "/api/v1/bundles/{code}",
        Permission::CatalogWrite,
    ),
    (
        Method::GET,
        "/api/v1/bundles/{code}/reduction",
        Permission::Public,
    ),
    (
        Method::POST,
        "/api/v1/bundles/{code}/questionnaire",
        Permission::Citizen,
    ),
    (
        Method::GET,
        "/api/v1/items/{code}/form",
        Permission::Citizen,
    ),
    (
        Method::POST,
        "/api/v1/applications/drafts",
        Permission::Citizen,
    ),
    (
        Method::PUT,
        "/api/v1/applications/drafts/{id}",
        Permission::Citizen,
    ),
    (Method::POST, "/api/v1/applications", Permission::SignedIn),
    (
        Method::GET,
        "/api/v1/applications/{id}",
        Permission::CaseWork,
    ),
    (Method::GET, "/api/v1/me/applications", Permission::Citizen),
    (
        Method::GET,
        "/api/v1/applications/{id}/timeline",
        Permission::CaseWork,
    ),
    (Method::POST, "/api/v1/uploads", Permission::SignedIn),
    (Method::GET, "/api/v1/uploads/{id}", Permission::SignedIn),
    (
        Method::GET,
        "/api/v1/cases/{number}/uploads/{id}",
        Permission::CaseWork,
    ),
    (Method::GET, "/api/v1/cases/{number}", Permission::CaseWork),
    (
        Method::POST,
        "/api/v1/cases/{number}/actions",
        Permission::CaseWork,
    ),
    (
        Method::GET,
        "/api/v1/cases/{number}/events",
        Permission::CaseWork,
    ),
    (
        Method::GET,
        "/api/v1/cases/{number}/verify",
        Permission::CaseWork,
    ),
    (
        Method::GET,
        "/api/v1/event-chains/verify",
        Permission::SystemAdmin,
    ),
    (
        Method::GET,
        "/api/v1/departments/{code}/queue",
        Permission::CaseWork,
    ),
    (
        Method::POST,
        "/api/v1/cases/{number}/supervision-orders",
        Permission::CaseWork,
    ),
    (
        Method::GET,
        "/api/v1/departments/{code}/supervision-orders",
        Permission::CaseWork,
    ),
    (
        Method::POST,
        "/api/v1/supervision-orders/{id}/answer",
        Permission::CaseWork,
    ),
    (
        Method::GET,
        "/api/v1/statistics/departments",
        Permission::CaseWork,
    ),
    (
        Method::GET,
        "/api/v1/supervision/at-risk",
        Permission::CaseWork,
    ),
    (Method::POST, "/api/v1/scanner/run", Permission::SystemAdmin),
    (
        Method::POST,
        "/api/v1/departments/{code}/webhooks",
        Permission::CaseWork,
    ),
    (
        Method::GET,
        "/api/v1/departments/{code}/webhooks",
        Permission::CaseWork,
    ),
    // Electronic certificates (电子证照).
    (Method::GET, "/api/v1/certificate-types", Permission::Public),
    (
        Method::POST,
        "/api/v1/certificates",
        Permission::CertificateIssue,
    ),
    (
        Method::POST,
        "/api/v1/certificates/{id}/revocation",
        Permission::CertificateIssue,
    ),
    (
        Method::POST,
        "/api/v1/certificates/verify",
        Permission::Public,
    ),
    (Method::GET, "/api/v1/me/certificates", Permission::Citizen),
    (
        Method::GET,
        "/api/v1/me/certificates/{id}/export",
        Permission::Citizen,
    ),
    (
        Method::POST,
        "/api/v1/me/certificates/{id}/presentations",
        Permission::Citizen,
    ),
    (
        Method::POST,
        "/api/v1/seals/{department}/rotation",
        Permission::SystemAdmin,
    ),
    (
        Method::GET,
        "/api/v1/seals/{department}/keys",
        Permission::Public,
    ),
    (Method::GET, "/verify/{token}", Permission::Public),
    // Data sharing: the catalog is published; the rest is for data administrators, the
    // operator and machine clients; "who used my data" for the signed-in citizen.
    (Method::GET, "/api/v1/data/resources", Permission::Public),
    (
        Method::GET,
        "/api/v1/data/resources/{code}",
        Permission::Public,
    ),
    (
        Method::PUT,
        "/api/v1/data/resources/{code}",
        Permission::DataAdmin,
    ),
    (
        Method::POST,
        "/api/v1/data/access-requests",
        Permission::DataAccess,
    ),
    (
        Method::GET,
        "/api/v1/data/access-requests",
        Permission::DataAccess,
    ),
    (
        Method::POST,
        "/api/v1/data/access-requests/{id}/approval",
        Permission::DataAdmin,
    ),
    (
        Method::POST,
        "/api/v1/data/access-requests/{id}/rejection",
        Permission::DataAdmin,
    ),
    (Method::GET, "/api/v1/data/grants", Permission::DataAccess),
    (
        Method::POST,
        "/api/v1/data/grants/{id}/revocation",
        Permission::DataAdmin,
    ),
    (
        Method::GET,
        "/api/v1/data/resources/{code}/records/{subject}",
        Permission::DataConsumer,
    ),
    (
        Method::PUT,
        "/api/v1/data/resources/{code}/records/{subject}",
        Permission::DataAccess,
    ),
    (
        Method::GET,
        "/api/v1/data/access-log",
        Permission::DataAdmin,
    ),
    (Method::GET, "/api/v1/me/data-access", Permission::Citizen),
    // Material auto-resolution (一证通办) and its catalog metric.
    (Method::POST, "/api/v1/resolutions", Permission::SignedIn),
    (
        Method::GET,
        "/api/v1/metrics/one-id-rate",
        Permission::Public,
    ),
];

/// The permission a route needs; routes missing from [`ROUTES`] need the strongest one.
pub fn permission_for(method: &Method, template: &str) -> Permission {
    ROUTES
        .iter()
        .find(|(m, t, _)| m == method && *t == template)
        .map(|(_, _, p)| *p)
        .unwrap_or(Permission::SystemAdmin)
}

/// Who sent the request. An invalid bearer token is [`Actor::Invalid`], never a fallback to
/// the session.
pub async fn actor(
    state: &AppState,
    authorization: Option<&str>,
    session: Option<&Session>,
    now: Timestamp,
) -> Actor {
    if let Some(value) = authorization {
        // The scheme is case-insensitive (RFC 9110 §11.1): `bearer …` is as good as `Bearer …`.
        let presented = Some(value)
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("Bearer"))
            .map(|(_, token)| token.trim())
            .filter(|t| !t.is_empty());
        let Some(presented) = presented else {
            return Actor::Invalid;
        };
        if let Some(token) = &state.admin_token
            && constant_time_eq(presented.as_bytes(), token.expose_secret().as_bytes())
        {
            return Actor::Operator;
        }
        return match state.app.verify_access_token(presented, now).await {
            Ok(claims) if claims.is_client_token() => Actor::Client(ClientActor {
                client_id: claims.client_id,
                scopes: Scopes::parse(&claims.scope).unwrap_or_default(),
            }),
            Ok(claims) => {
                let scopes = Scopes::parse(&claims.scope).unwrap_or_default();
                let level = claims
                    .acr
                    .as_deref()
                    .and_then(|acr| AssuranceLevel::from_acr(acr).ok());
                match level {
                    // A person's token acts on onetrip's API only with the `api` scope.
                    Some(level) if scopes.contains(Scope::Api) => Actor::Citizen(CitizenActor {
                        account: claims.sub,
                        level,
                        acting_for: claims.org,
                        via_session: false,
                    }),
                    _ => Actor::Invalid,
                }
            }
            Err(_) => Actor::Invalid,
        };
    }
    let Some(session) = session else {
        return Actor::Anonymous;
    };
    match session::current(session, now).await {
        Ok(Some(SessionAuth::Citizen {
            account,
            level,
            acting_for,
            ..
        })) => Actor::Citizen(CitizenActor {
            account,
            level,
            acting_for,
            via_session: true,
        }),
        Ok(Some(SessionAuth::Staff {
            staff,
            roles,
            totp_verified,
            ..
        })) => Actor::Staff(StaffActor {
            id: staff,
            roles,
            totp_verified,
        }),
        Ok(None) => Actor::Anonymous,
        Err(e) => {
            tracing::warn!(error = %e, "session could not be read");
            Actor::Anonymous
        }
    }
}

/// Header carrying the CSRF token on API requests authenticated by the session cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Middleware applying the policy to the matched route; puts the [`Actor`] in the request's
/// extensions for the handler.
pub async fn require(State(state): State<Shared>, mut request: Request, next: Next) -> Response {
    let template = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let permission = permission_for(request.method(), &template);
    let now = Timestamp::now();
    // Values, not references into the request: the future must be `Send`.
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("\u{0}").to_owned());
    let session = request.extensions().get::<Session>().cloned();
    let actor = actor(&state, authorization.as_deref(), session.as_ref(), now).await;
    let decision = decide(&actor, permission, state.admin_token.is_some());
    match decision {
        Decision::Allow => {}
        Decision::Unauthenticated => {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "请先登录，或提供有效的访问令牌",
                "Sign in first, or send a valid access token",
            )
            .with_header(header::WWW_AUTHENTICATE, "Bearer")
            .into_response();
        }
        Decision::Forbidden => {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "您的账号无权进行此操作",
                "Your account may not do this",
            )
            .into_response();
        }
        Decision::Disabled => {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "writes_disabled",
                "未配置管理令牌（ONETRIP_ADMIN_TOKEN），且未以管理员身份登录：此操作已停用",
                "No admin token is configured (ONETRIP_ADMIN_TOKEN) and no administrator is \
                 signed in, so this operation is disabled",
            )
            .into_response();
        }
    }
    let unsafe_method = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if unsafe_method && actor.via_session() && template.starts_with("/api/") {
        let presented = request
            .headers()
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let ok = match &session {
            Some(s) => session::csrf_matches(s, presented.as_deref())
                .await
                .unwrap_or(false),
            None => false,
        };
        if !ok {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf_failed",
                "请求缺少有效的防伪令牌（X-CSRF-Token）：请刷新页面后重试",
                "The request lacks a valid anti-forgery token (X-CSRF-Token): reload and try again",
            )
            .into_response();
        }
    }
    if actor.via_session()
        && let Some(s) = &session
        && let Err(e) = session::touch(s, now).await
    {
        tracing::warn!(error = %e, "session could not be touched");
    }
    request.extensions_mut().insert(actor);
    next.run(request).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use onetrip_domain::identifiers::DivisionCode;

    fn staff(role: StaffRole, totp: bool) -> Actor {
        Actor::Staff(StaffActor {
            id: "s".into(),
            roles: vec![RoleGrant {
                role,
                division: DivisionCode::parse("330100").unwrap(),
                department: None,
            }],
            totp_verified: totp,
        })
    }

    #[test]
    fn administrators_need_their_role_and_totp() {
        for (permission, role) in [
            (Permission::CatalogWrite, StaffRole::CatalogAdministrator),
            (Permission::SystemAdmin, StaffRole::SystemAdministrator),
            (Permission::DataAdmin, StaffRole::DataAdministrator),
        ] {
            assert_eq!(decide(&Actor::Operator, permission, true), Decision::Allow);
            assert_eq!(
                decide(&staff(role, true), permission, false),
                Decision::Allow
            );
            assert_eq!(
                decide(&staff(role, false), permission, true),
                Decision::Forbidden
            );
            assert_eq!(
                decide(&staff(StaffRole::WindowClerk, true), permission, true),
                Decision::Forbidden
            );
            assert_eq!(
                decide(&Actor::Anonymous, permission, true),
                Decision::Unauthenticated
            );
            assert_eq!(
                decide(&Actor::Anonymous, permission, false),
                Decision::Disabled
            );
        }
    }

    #[test]
    fn unknown_routes_need_the_strongest_permission() {
        assert_eq!(
            permission_for(&Method::DELETE, "/api/v1/items/{code}"),
            Permission::SystemAdmin
        );
        assert_eq!(
            permission_for(&Method::GET, "/api/v1/items"),
            Permission::Public
        );
    }
}
