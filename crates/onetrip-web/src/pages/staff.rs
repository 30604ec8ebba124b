//! The staff entrance: the staff sign-in page (password, then the authenticator code when the
//! member of staff has one) and the workbench home, which lists what the signed-in member of
//! staff's roles let them do: the window (综合窗口), the department queue, supervision, and
//! the administration consoles.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use onetrip_domain::identity::StaffRole;
use tower_sessions::Session;

use super::{Page, check_csrf, first, form_pairs, ok, render};
use crate::Shared;
use crate::api::accounts::{ClientIp, CurrentActor};
use crate::api::staff::{StaffCredentials, start_session};
use crate::extract::Query;
use crate::policy::Actor;
use crate::problem::ApiError;

/// The addresses of the staff entrance.
pub const PATHS: &[&str] = &["/staff", "/staff/sign-in"];

/// The staff entrance's routes.
pub fn router() -> axum::Router<Shared> {
    use axum::routing::get;
    axum::Router::new()
        .route("/staff", get(home))
        .route("/staff/sign-in", get(sign_in_page).post(sign_in_form))
}

#[derive(Template)]
#[template(path = "pages/staff_sign_in.html")]
struct SignInPage {
    page: Page,
    next: String,
    username: String,
    /// The password was right and the authenticator code is asked for.
    totp_asked: bool,
    errors: Vec<(String, String)>,
    username_error: Option<String>,
    totp_error: Option<String>,
}

/// Query of the sign-in page.
#[derive(Debug, serde::Deserialize)]
pub struct NextQuery {
    /// Where to go after signing in (a path on this site).
    pub next: Option<String>,
}

/// `GET /staff/sign-in`.
pub async fn sign_in_page(page: Page, Query(q): Query<NextQuery>) -> Response {
    ok(&SignInPage {
        page,
        next: staff_next(q.next.as_deref()),
        username: String::new(),
        totp_asked: false,
        errors: Vec::new(),
        username_error: None,
        totp_error: None,
    })
}

/// Where a member of staff goes after signing in: a path on this site, else the workbench.
fn staff_next(next: Option<&str>) -> String {
    match next {
        Some(n) if !n.is_empty() => crate::sso::safe_next(Some(n)),
        _ => "/staff".to_string(),
    }
}

/// `POST /staff/sign-in`: user name and password, and the authenticator code when asked.
pub async fn sign_in_form(
    State(state): State<Shared>,
    page: Page,
    ClientIp(ip): ClientIp,
    session: Session,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let pairs = form_pairs(&body);
    check_csrf(&session, first(&pairs, "csrf_token")).await?;
    let next = staff_next(first(&pairs, "next"));
    let credentials = StaffCredentials {
        username: first(&pairs, "username")
            .unwrap_or_default()
            .trim()
            .to_string(),
        password: first(&pairs, "password").unwrap_or_default().to_string(),
        totp: first(&pairs, "totp")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string),
    };
    match start_session(&state, &session, &credentials, ip).await {
        Ok(_) => Ok(Redirect::to(&next).into_response()),
        Err(e) => {
            let message = if page.en {
                e.message_en.clone()
            } else {
                e.message_zh.clone()
            };
            let totp = e.code == "totp_required";
            let anchor = if totp { "totp" } else { "username" };
            let status = if e.status.is_server_error() {
                return Err(e);
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            Ok(render(
                &SignInPage {
                    page,
                    next,
                    username: credentials.username,
                    totp_asked: totp || credentials.totp.is_some(),
                    errors: vec![(anchor.to_string(), message.clone())],
                    username_error: (!totp).then(|| message.clone()),
                    totp_error: totp.then_some(message),
                },
                status,
            ))
        }
    }
}

/// A place of the workbench the member of staff may go to.
pub struct Station {
    /// Address.
    pub href: &'static str,
    /// Key of its name.
    pub name_key: &'static str,
    /// Key of its description.
    pub hint_key: &'static str,
}

#[derive(Template)]
#[template(path = "pages/staff_home.html")]
struct HomePage {
    page: Page,
    name: String,
    roles: Vec<String>,
    stations: Vec<Station>,
    totp_missing: bool,
}

/// The places of the workbench for the roles held, in the order of a case's life.
pub fn stations(roles: &[StaffRole]) -> Vec<Station> {
    let all = [
        (
            StaffRole::WindowClerk,
            "/counter",
            "station-counter",
            "station-counter-hint",
        ),
        (
            StaffRole::DepartmentOfficer,
            "/work/queue",
            "station-queue",
            "station-queue-hint",
        ),
        (
            StaffRole::DepartmentHead,
            "/work/queue",
            "station-queue",
            "station-queue-hint",
        ),
        (
            StaffRole::Supervisor,
            "/supervision",
            "station-supervision",
            "station-supervision-hint",
        ),
        (
            StaffRole::CatalogAdministrator,
            "/admin/catalog",
            "station-catalog",
            "station-catalog-hint",
        ),
        (
            StaffRole::DataAdministrator,
            "/admin/data",
            "station-data",
            "station-data-hint",
        ),
        (
            StaffRole::SystemAdministrator,
            "/admin/staff",
            "station-staff",
            "station-staff-hint",
        ),
    ];
    let mut out: Vec<Station> = Vec::new();
    for (role, href, name_key, hint_key) in all {
        if roles.contains(&role) && !out.iter().any(|s| s.href == href) {
            out.push(Station {
                href,
                name_key,
                hint_key,
            });
        }
    }
    out
}

/// `GET /staff`: the workbench home of the signed-in member of staff.
pub async fn home(
    State(state): State<Shared>,
    page: Page,
    CurrentActor(actor): CurrentActor,
) -> Result<Response, ApiError> {
    let Actor::Staff(staff) = actor else {
        return Ok(Redirect::to("/staff/sign-in").into_response());
    };
    let row = state
        .app
        .db
        .staff_by_id(&staff.id)
        .await
        .map_err(onetrip_app::AppError::from)?;
    let held: Vec<StaffRole> = staff.roles.iter().map(|g| g.role).collect();
    let totp_missing = !staff.totp_verified && held.iter().any(|r| r.requires_totp());
    let usable: Vec<StaffRole> = held.iter().copied().filter(|r| staff.holds(*r)).collect();
    let roles = staff
        .roles
        .iter()
        .map(|g| {
            let name = if page.en {
                g.role.label_en()
            } else {
                g.role.label_zh()
            };
            match &g.department {
                Some(d) => format!("{name} · {} · {d}", g.division.as_str()),
                None => format!("{name} · {}", g.division.as_str()),
            }
        })
        .collect();
    Ok(ok(&HomePage {
        name: row.map(|r| r.name).unwrap_or_default(),
        roles,
        stations: stations(&usable),
        totp_missing,
        page,
    }))
}
