//! The HTTP face of onetrip: the versioned JSON API under `/api/v1`, its OpenAPI 3.1 document,
//! operations endpoints (`/healthz`, `/readyz`, `/metrics`) and the portal's pages ([`pages`]).
//!
//! Handlers are thin: parse, call one use case, render. Errors all go through
//! [`problem::ApiError`]; authorisation is decided by [`policy`] for every route.
#![forbid(unsafe_code)]
// `ApiError` carries both messages and the field errors by value; it only travels on the error
// path of a request, where a few hundred bytes moved are of no consequence.
#![allow(clippy::result_large_err)]

pub mod api;
pub mod extract;
pub mod headers;
pub mod ops;
pub mod pages;
pub mod partner;
pub mod policy;
pub mod problem;
pub mod session;
pub mod sso;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, StatusCode};
use axum::middleware;
use axum::response::IntoResponse;
use onetrip_app::App;
use secrecy::SecretString;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::problem::ApiError;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// The application.
    pub app: App,
    /// The operator's admin token; operator actions are refused when absent.
    pub admin_token: Option<SecretString>,
    /// Whether session cookies carry `Secure` (turn off only for plain-HTTP development).
    pub cookie_secure: bool,
    /// Whether development pages (the sandbox SMS inbox at `/dev/sms`) are served: only in
    /// demo mode, never in production.
    pub dev_pages: bool,
}

impl AppState {
    /// The state for `app` with an optional admin token and secure cookies.
    pub fn new(app: App, admin_token: Option<SecretString>) -> AppState {
        AppState {
            app,
            admin_token,
            cookie_secure: true,
            dev_pages: false,
        }
    }
}

/// The state handlers receive: one pointer to share per request instead of a copy of each part.
pub type Shared = Arc<AppState>;

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("app", &self.app)
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "[hidden]"),
            )
            .finish()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "onetrip API",
        description = "一体化在线政务服务平台 onetrip: service catalog, working-day calendar and \
                       identifier checks. Errors are application/problem+json with a stable `code` \
                       and messages in zh-CN and en.",
        license(name = "Apache-2.0")
    ),
    tags(
        (name = "catalog", description = "政务服务事项库: items, situations, guides, departments, divisions"),
        (name = "calendar", description = "法定工作日: working days and deadlines"),
        (name = "identifiers", description = "National identifiers: checks and parsed fields"),
        (name = "accounts", description = "统一身份认证: registration, sign-in, profile, real-name verification"),
        (name = "staff", description = "工作人员: administration, sign-in with TOTP"),
        (name = "single sign-on", description = "统一登录: OpenID Connect clients (the protocol endpoints are under /oauth2, see /.well-known/openid-configuration)"),
        (name = "certificates", description = "电子证照: certificate types, issuing, revocation, export, presentation (亮证) and public verification of SM2 seals"),
        (name = "data sharing", description = "公共数据共享: data catalog, access requests, grants, shared-data reads, access log, who used my data"),
        (name = "operations", description = "Health, readiness and metrics")
    ),
    components(schemas(problem::Problem, problem::FieldError)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API routes with their OpenAPI description.
fn api_router() -> OpenApiRouter<Shared> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(api::catalog::router())
        .merge(api::calendar::router())
        .merge(api::identifiers::router())
        .merge(api::accounts::router())
        .merge(api::organisations::router())
        .merge(api::staff::router())
        .merge(api::certificates::router())
        .merge(api::data::router())
        .merge(api::resolution::router())
        .merge(api::cases::router())
        .merge(api::uploads::router())
        .merge(sso::api_router())
        .merge(ops::router())
}

/// The OpenAPI document of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router().into_openapi()
}

/// Builds the whole HTTP application.
pub fn router(state: AppState) -> Router {
    let state: Shared = Arc::new(state);
    let (routes, doc) = api_router().split_for_parts();
    let doc = Arc::new(doc.to_pretty_json().unwrap_or_else(|_| "{}".to_string()));
    let request_id = HeaderName::from_static("x-request-id");
    let trace = TraceLayer::new_for_http().make_span_with(|request: &Request| {
        // The route template, never the raw path: paths can carry personal identifiers.
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str)
            .unwrap_or("unmatched");
        let id = request
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        tracing::debug_span!("request", method = %request.method(), route, request_id = id)
    });
    routes
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        doc.as_str().to_owned(),
                    )
                }
            }),
        )
        .merge(pages::router())
        .merge(sso::protocol_router())
        .merge(partner::router())
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            policy::require,
        ))
        .route_layer(middleware::from_fn(ops::record_metrics))
        .route_layer(trace)
        .fallback(|| async { ApiError::no_route() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "此地址不支持该请求方法",
                "This address does not support the request method",
            )
            .into_response()
        })
        .layer(middleware::from_fn(pages::error_pages))
        .layer(session::layer(state.app.clone(), state.cookie_secure))
        .layer(middleware::from_fn(pages::elder_mode))
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn(headers::security_headers))
                .layer(CatchPanicLayer::custom(|_| {
                    ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal_error",
                        "服务内部错误，请稍后重试",
                        "Internal error; please try again later",
                    )
                    .into_response()
                }))
                .layer(SetRequestIdLayer::new(
                    request_id.clone(),
                    ops::SequentialRequestId::new(),
                ))
                .layer(PropagateRequestIdLayer::new(request_id))
                .layer(middleware::from_fn(problem::negotiate_language))
                .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    Duration::from_secs(30),
                )),
        )
        .with_state(state)
}
