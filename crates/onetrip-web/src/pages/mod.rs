//! The server-rendered pages of the citizen and enterprise portal (网上办 / 掌上办): home,
//! search, guides, the bundle application in steps (questionnaire, prefilled form, materials,
//! check, submit, confirmation), my applications with their timeline, corrections and
//! withdrawal.
//!
//! Pages work without JavaScript: every step is a plain form posted to the server, which
//! re-renders with the problems next to their fields. They speak Simplified Chinese by default
//! and English through the language switch (a cookie) or `Accept-Language`; the elder mode
//! (长辈版) is a cookie too, switched from every page. Their words come from the Fluent files
//! ([`i18n`]); their one stylesheet is compiled in ([`STYLESHEET`]).
//!
//! Who may open a page is decided by [`crate::policy`] like for every route; a page that needs
//! a signed-in person sends an anonymous visitor to the sign-in page and back.

pub mod account;
pub mod admin;
pub mod apply;
pub mod counter;
pub mod form;
pub mod i18n;
pub mod mine;
pub mod portal;
pub mod print;
pub mod staff;
pub mod supervision;
pub mod work;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tower_sessions::Session;

use crate::Shared;
use crate::policy::Actor;
use crate::problem::{ApiError, english_requested};

/// The stylesheet of every page (mobile first; the elder mode is a class on `<html>`).
pub const STYLESHEET: &str = include_str!("../../assets/site.css");

/// The progressive enhancements (a few lines each; every page works without them).
pub const SCRIPT: &str = include_str!("../../assets/site.js");

/// Name of the cookie that keeps the elder mode on.
pub const ELDER_COOKIE: &str = "onetrip_elder";

/// The addresses of the citizen portal's pages.
const PORTAL_PATHS: &[&str] = &[
    "/",
    "/search",
    "/items/{code}",
    "/items/{code}/start",
    "/bundles/{code}",
    "/bundles/{code}/start",
    "/applications/{id}",
    "/applications/{id}/questions",
    "/applications/{id}/form",
    "/applications/{id}/materials",
    "/applications/{id}/check",
    "/me/applications",
    "/me/applications/{id}",
    "/me/applications/{id}/cases/{number}",
    "/me/uploads/{id}",
    "/sign-out",
    "/assets/site.css",
    "/assets/site.js",
];

/// The addresses of every page (route templates), which are not part of the API's OpenAPI
/// document. Each area of the site lists its own.
pub fn paths() -> Vec<&'static str> {
    [
        PORTAL_PATHS,
        staff::PATHS,
        work::PATHS,
        supervision::PATHS,
        admin::PATHS,
        account::PATHS,
        counter::PATHS,
        print::PATHS,
    ]
    .concat()
}

/// The page routes: the portal's, then each area's own router.
pub fn router() -> Router<Shared> {
    portal_router()
        .merge(staff::router())
        .merge(work::router())
        .merge(supervision::router())
        .merge(admin::router())
        .merge(account::router())
        .merge(counter::router())
        .merge(print::router())
}

fn portal_router() -> Router<Shared> {
    Router::new()
        .route("/", get(portal::home))
        .route("/search", get(portal::search))
        .route("/items/{code}", get(portal::item_guide))
        .route("/bundles/{code}", get(portal::bundle_guide))
        .route("/bundles/{code}/start", post(apply::start))
        .route("/items/{code}/start", post(apply::start_item))
        .route("/applications/{id}", get(apply::tasks))
        .route(
            "/applications/{id}/questions",
            get(apply::questions_page).post(apply::questions_form),
        )
        .route(
            "/applications/{id}/form",
            get(apply::form_page)
                .post(apply::form_form)
                // The upload's own limit applies while each file streams in.
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/applications/{id}/materials",
            get(apply::materials_page)
                .post(apply::materials_form)
                // The upload's own limit applies while the file streams in.
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/me/uploads/{id}", get(mine::uploaded_file))
        .route(
            "/applications/{id}/check",
            get(apply::check_page).post(apply::submit),
        )
        .route("/me/applications", get(mine::applications))
        .route("/me/applications/{id}", get(mine::application))
        .route(
            "/me/applications/{id}/cases/{number}",
            post(mine::case_action)
                // A correction's files: the upload's own limit applies while each streams in.
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/sign-out", post(mine::sign_out))
        .route("/assets/site.css", get(stylesheet))
        .route("/assets/site.js", get(script))
}

/// What every page knows about the request: language, elder mode, who is signed in, the CSRF
/// token for its forms, and the links that switch language and mode on the same page.
#[derive(Debug, Clone)]
pub struct Page {
    /// English.
    pub en: bool,
    /// Elder mode (长辈版).
    pub elder: bool,
    /// A person is signed in.
    pub citizen: bool,
    /// A member of staff is signed in.
    pub staff: bool,
    /// Credit code of the organisation the signed-in person acts for, if any.
    pub acting_for: Option<String>,
    /// The session's CSRF token.
    pub csrf: String,
    /// This page with the other language.
    pub lang_href: String,
    /// This page with the elder mode switched.
    pub elder_href: String,
    /// This page's path and query, for `next=` links.
    pub here: String,
    /// Version of the stylesheet, for its cache-busting address.
    pub css_version: &'static str,
    /// Version of the script, for its cache-busting address.
    pub js_version: &'static str,
}

impl Page {
    /// The text of a key in the page's language.
    pub fn t(&self, key: &str) -> String {
        i18n::text(self.en, key)
    }

    /// The text of a key with its `{ $value }`.
    pub fn tv(&self, key: &str, value: &str) -> String {
        i18n::text_with(self.en, key, value)
    }

    /// The English text when the page is in English and there is one, else the Chinese.
    pub fn pick<'a>(&self, zh: &'a str, en: Option<&'a str>) -> &'a str {
        match en {
            Some(en_text) if self.en && !en_text.is_empty() => en_text,
            _ => zh,
        }
    }

    /// The sign-in address that comes back here.
    pub fn sign_in_href(&self) -> String {
        format!("/sign-in?next={}", encode(&self.here))
    }
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The path and query of `parts` without the `lang` and `elder` switches, with `extra` added.
fn link(parts: &Parts, extra: Option<&str>) -> String {
    let path = parts.uri.path();
    let kept: Vec<(String, String)> =
        form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
            .filter(|(k, _)| k != "lang" && k != "elder")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &kept {
        query.append_pair(k, v);
    }
    let mut query = query.finish();
    if let Some(extra) = extra {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(extra);
    }
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

/// Whether the request asks for the elder mode: `?elder=1|0` first, then the cookie.
fn elder_requested(parts: &Parts) -> bool {
    if let Some(on) = elder_in_query(parts.uri.query()) {
        return on;
    }
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .any(|c| c.trim() == format!("{ELDER_COOKIE}=1"))
}

fn elder_in_query(query: Option<&str>) -> Option<bool> {
    query?.split('&').find_map(|kv| match kv {
        "elder=1" => Some(true),
        "elder=0" => Some(false),
        _ => None,
    })
}

impl<S: Send + Sync> FromRequestParts<S> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let en = english_requested(&parts.uri, &parts.headers);
        let elder = elder_requested(parts);
        let actor = crate::api::accounts::actor_of(parts);
        let csrf = match parts.extensions.get::<Session>() {
            Some(session) => crate::session::csrf_token(session)
                .await
                .map_err(|e| crate::api::accounts::session_error(e).into_response())?,
            None => String::new(),
        };
        let here = link(parts, None);
        Ok(Page {
            en,
            elder,
            citizen: matches!(actor, Actor::Citizen(_)),
            acting_for: match &actor {
                Actor::Citizen(c) => c.acting_for.clone(),
                _ => None,
            },
            staff: matches!(actor, Actor::Staff(_)),
            csrf,
            lang_href: link(parts, Some(if en { "lang=zh" } else { "lang=en" })),
            elder_href: link(parts, Some(if elder { "elder=0" } else { "elder=1" })),
            here,
            css_version: css_version(),
            js_version: js_version(),
        })
    }
}

/// A short hash of an asset, so that its address changes with it and it can be cached for a
/// year.
fn content_version(content: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    content.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

fn css_version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| content_version(STYLESHEET))
}

fn js_version() -> &'static str {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| content_version(SCRIPT))
}

/// An asset compiled into the binary, cached for a year (its address carries its version).
fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        body,
    )
        .into_response()
}

async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", STYLESHEET)
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

/// Keeps the elder mode chosen with `?elder=1` / `?elder=0` in a cookie.
pub async fn elder_mode(request: Request, next: Next) -> Response {
    let chosen = elder_in_query(request.uri().query());
    let mut response = next.run(request).await;
    if let Some(on) = chosen {
        let value = format!(
            "{ELDER_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            if on { "1" } else { "0" }
        );
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

#[derive(Template)]
#[template(path = "pages/error.html")]
struct ErrorPage<'a> {
    page: &'a Page,
    status: u16,
    message: String,
    fields: Vec<String>,
}

/// Whether a request is a browser's navigation to a page (it accepts HTML and is not for the
/// API), whose problems are shown as pages.
fn wants_page(parts: &Parts) -> bool {
    let path = parts.uri.path();
    let api = ["/api/", "/oauth2/", "/.well-known/"]
        .iter()
        .any(|p| path.starts_with(p));
    let html = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    html && !api
}

/// Turns the problem responses to a browser's page requests into pages in the visitor's
/// language, and sends a visitor who must sign in to the sign-in page and back. API requests
/// keep their `application/problem+json`.
pub async fn error_pages(request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    if !wants_page(&parts) {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let get_like = parts.method == axum::http::Method::GET;
    let page = match Page::from_request_parts(&mut parts, &()).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let response = next.run(Request::from_parts(parts, body)).await;
    let Some(err) = response.extensions().get::<ApiError>().cloned() else {
        return response;
    };
    if err.status == StatusCode::UNAUTHORIZED {
        // After signing in the browser comes back with a GET: to this page, or, from a form,
        // to the person's applications (the workbench for staff areas).
        let staff_area = is_staff_area(&page.here);
        let next = if get_like {
            page.here.clone()
        } else if staff_area {
            "/staff".to_string()
        } else {
            "/me/applications".to_string()
        };
        let sign_in = if staff_area {
            "/staff/sign-in"
        } else {
            "/sign-in"
        };
        return Redirect::to(&format!("{sign_in}?next={}", encode(&next))).into_response();
    }
    if err.code == "assurance_step_up_required" {
        return Redirect::to(&format!("/step-up?next={}", encode(&page.here))).into_response();
    }
    let message = if page.en {
        err.message_en.clone()
    } else {
        err.message_zh.clone()
    };
    let fields = err
        .errors
        .iter()
        .map(|e| {
            if page.en {
                e.message_en.clone()
            } else {
                e.message_zh.clone()
            }
        })
        .collect();
    render(
        &ErrorPage {
            page: &page,
            status: err.status.as_u16(),
            message,
            fields,
        },
        err.status,
    )
}

/// The areas of the site for staff, whose visitors sign in on the staff sign-in page.
pub const STAFF_AREAS: [&str; 5] = ["/staff", "/counter", "/work", "/supervision", "/admin"];

/// Whether a path (with its query) is in a staff area.
fn is_staff_area(here: &str) -> bool {
    let path = here.split('?').next().unwrap_or_default();
    STAFF_AREAS
        .iter()
        .any(|a| path == *a || path.strip_prefix(a).is_some_and(|r| r.starts_with('/')))
}

/// Renders a page with a status; pages are personal, so they are never stored by caches.
pub(crate) fn render(template: &impl Template, status: StatusCode) -> Response {
    match template.render() {
        Ok(html) => crate::sso::no_store((status, Html(html)).into_response()),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "服务内部错误，请稍后重试",
                "Internal error; please try again later",
            )
            .into_response()
        }
    }
}

/// Renders a page with 200.
pub(crate) fn ok(template: &impl Template) -> Response {
    render(template, StatusCode::OK)
}

/// The refusal of a form posted without the session's CSRF token.
pub(crate) fn csrf_refused() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "page_expired",
        "页面已过期，请返回后重新提交",
        "This page has expired; go back and submit it again",
    )
}

/// Checks the CSRF token posted with a form.
pub(crate) async fn check_csrf(session: &Session, presented: Option<&str>) -> Result<(), ApiError> {
    match crate::session::csrf_matches(session, presented).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(csrf_refused()),
        Err(e) => Err(crate::api::accounts::session_error(e)),
    }
}

/// The pairs of a posted form (`application/x-www-form-urlencoded`), in order, repeated names
/// kept.
pub(crate) fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The first value posted under `name`.
pub(crate) fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A date and time as a visitor in China reads it.
pub fn china_time(at: jiff::Timestamp) -> String {
    at.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}
