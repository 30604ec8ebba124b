//! Authenticator enrolment (身份验证器) for the signed-in member of staff: the page draws a
//! secret, shows it (base32, in groups of four) and its `otpauth://` address for the
//! authenticator app, and stores it once the app's current code checks out, the same use case
//! as `PUT /api/v1/staff/me/totp`. Administrator roles work from the next sign-in with a code.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use onetrip_app::staff::TOTP_ISSUER;
use onetrip_domain::identity::{AccountId, TotpSecret};
use tower_sessions::Session;

use super::{field_problems, is_input_problem};
use crate::Shared;
use crate::api::accounts::CurrentActor;
use crate::pages::{Page, check_csrf, first, form_pairs, ok, render};
use crate::policy::Actor;
use crate::problem::ApiError;

#[derive(Template)]
#[template(path = "pages/admin/authenticator.html")]
struct AuthenticatorPage {
    page: Page,
    /// An authenticator is stored already.
    enrolled: bool,
    /// The session was signed in without a code, so administrator roles wait for a new
    /// sign-in.
    sign_in_again: bool,
    /// The secret to enrol (base32).
    secret: String,
    /// The secret in groups of four, to type.
    grouped: String,
    /// The `otpauth://` address.
    uri: String,
    errors: Vec<(String, String)>,
    code_error: Option<String>,
}

/// The staff id of the signed-in member of staff (the policy admits no one else here).
fn staff_of(actor: &Actor) -> Result<(AccountId, bool), ApiError> {
    match actor {
        Actor::Staff(s) => Ok((AccountId::new(s.id.clone()), s.totp_verified)),
        _ => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "此页面需要以工作人员身份登录",
            "Sign in as staff to open this page",
        )),
    }
}

/// A base32 secret in groups of four characters.
pub fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn enrolment_page(page: Page, secret: String, uri: String) -> AuthenticatorPage {
    AuthenticatorPage {
        page,
        enrolled: false,
        sign_in_again: false,
        grouped: grouped(&secret),
        secret,
        uri,
        errors: Vec::new(),
        code_error: None,
    }
}

/// `GET /staff/authenticator`: a new secret to enrol, or the news that one is enrolled.
pub async fn page(
    State(state): State<Shared>,
    page: Page,
    CurrentActor(actor): CurrentActor,
) -> Result<Response, ApiError> {
    let (id, totp_verified) = staff_of(&actor)?;
    let row = state
        .app
        .db
        .staff_by_id(id.as_str())
        .await
        .map_err(onetrip_app::AppError::from)?;
    if row.as_ref().is_some_and(|r| r.totp_secret.is_some()) {
        return Ok(ok(&AuthenticatorPage {
            page,
            enrolled: true,
            sign_in_again: !totp_verified,
            secret: String::new(),
            grouped: String::new(),
            uri: String::new(),
            errors: Vec::new(),
            code_error: None,
        }));
    }
    let e = state.app.begin_totp_enrolment(&id).await?;
    Ok(ok(&enrolment_page(
        page,
        e.secret_base32,
        e.provisioning_uri,
    )))
}

/// `POST /staff/authenticator`: the secret shown and the app's current code.
pub async fn confirm(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    CurrentActor(actor): CurrentActor,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let pairs = form_pairs(&body);
    check_csrf(&session, first(&pairs, "csrf_token")).await?;
    let (id, _) = staff_of(&actor)?;
    let secret = first(&pairs, "secret")
        .unwrap_or_default()
        .trim()
        .to_string();
    let code = first(&pairs, "code").unwrap_or_default().trim().to_string();
    let result = state
        .app
        .confirm_totp_enrolment(&id, &secret, &code, Timestamp::now())
        .await;
    let e: ApiError = match result {
        Ok(()) => return Ok(Redirect::to("/staff/authenticator").into_response()),
        Err(e) => e.into(),
    };
    let Some(parsed) = TotpSecret::from_base32(&secret) else {
        // Not the secret this page drew: start again with a new one.
        return Err(e);
    };
    if !is_input_problem(&e) {
        return Err(e);
    }
    let username = state
        .app
        .db
        .staff_by_id(id.as_str())
        .await
        .map_err(onetrip_app::AppError::from)?
        .map(|r| r.username)
        .unwrap_or_default();
    let uri = parsed.provisioning_uri(TOTP_ISSUER, &username);
    let message = field_problems(&page, &e)
        .into_iter()
        .map(|p| p.message)
        .collect::<Vec<_>>()
        .join(" ");
    let mut view = enrolment_page(page, secret, uri);
    view.errors = vec![("code".to_string(), message.clone())];
    view.code_error = Some(message);
    Ok(render(&view, StatusCode::UNPROCESSABLE_ENTITY))
}
