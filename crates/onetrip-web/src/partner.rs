//! Sign-in through partner platforms of other provinces (跨省通办, 一地认证，全网通办): onetrip
//! as an OpenID Connect relying party.
//!
//! - `GET /sign-in/partner/{name}?next=…` starts the sign-in: the state, nonce and PKCE
//!   verifier are kept in the session (key `partner_pending`) and the person is sent to the
//!   partner.
//! - `GET /sign-in/partner/{name}/callback?code=…&state=…` completes it: the pending sign-in is
//!   taken out of the session (it works once), the use case verifies everything, the session
//!   is signed in as the person (new session id, `amr` `fed`) and the person goes on to `next`
//!   (a local path only).
//!
//! Refusals are shown on the message page in the person's language, with the stable code's
//! message and a link to sign in here instead; the details are only logged.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use onetrip_app::AppError;
use onetrip_app::partner::{PartnerCallback, PendingPartnerSignIn};
use onetrip_app::sso::with_query;
use onetrip_domain::Localized;
use onetrip_domain::identity::PartnerRefusal;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::Shared;
use crate::api::accounts::{ClientIp, session_error};
use crate::extract::{Path, Query};
use crate::pages::Page;
use crate::problem::ApiError;
use crate::session::{self, SessionAuth};
use crate::sso::{message, no_store, safe_next};

/// The session key of a started partner sign-in.
pub const PENDING_KEY: &str = "partner_pending";

/// The `amr` value of a sign-in through a partner (federated authentication).
pub const AMR_FEDERATED: &str = "fed";

/// The routes (outside the OpenAPI document, like the other sign-in pages).
pub fn router() -> axum::Router<Shared> {
    use axum::routing::get;
    axum::Router::new()
        .route("/sign-in/partner/{name}", get(start))
        .route("/sign-in/partner/{name}/callback", get(callback))
}

/// What the session keeps between the two requests.
#[derive(Serialize, Deserialize)]
struct Stored {
    sign_in: PendingPartnerSignIn,
    next: String,
}

/// The redirect URI registered for our client at partner `name`.
pub fn redirect_uri(issuer: &str, name: &str) -> String {
    format!("{issuer}/sign-in/partner/{name}/callback")
}

/// The page for a refused partner sign-in, with a link to sign in here instead.
fn refusal_page(page: &Page, status: StatusCode, e: &dyn Localized, next: &str) -> Response {
    message(
        page,
        status,
        (
            "未能通过其他平台登录",
            "Sign-in through another platform failed",
        ),
        if page.en {
            e.message_en()
        } else {
            e.message_zh()
        },
        Some((
            with_query("/sign-in", &[("next", next)]),
            if page.en {
                "Sign in with an account of this platform"
            } else {
                "使用本平台账号登录"
            }
            .to_owned(),
        )),
    )
}

/// The status of a refusal's page.
fn status_of(code: &str) -> StatusCode {
    match code {
        "partner_unknown" => StatusCode::NOT_FOUND,
        "partner_level_unmapped" | "partner_link_needs_l2" => StatusCode::FORBIDDEN,
        "partner_phone_taken" => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// Shows a refusal of the use case as a page; other failures (storage) as problems.
fn refused_or_error(page: &Page, e: AppError, next: &str) -> Result<Response, ApiError> {
    match e {
        AppError::Refused { .. } => Ok(refusal_page(page, status_of(e.code()), &e, next)),
        other => Err(other.into()),
    }
}

/// Query of the start route.
#[derive(Debug, Deserialize)]
pub struct StartParams {
    next: Option<String>,
}

/// `GET /sign-in/partner/{name}`: sends the person to the partner to sign in.
pub async fn start(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    Path(name): Path<String>,
    Query(q): Query<StartParams>,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let next = safe_next(q.next.as_deref());
    let redirect = redirect_uri(state.app.issuer(), &name);
    let (url, sign_in) = match state.app.begin_partner_sign_in(&name, &redirect, now).await {
        Ok(started) => started,
        Err(e) => return refused_or_error(&page, e, &next),
    };
    session
        .insert(PENDING_KEY, Stored { sign_in, next })
        .await
        .map_err(|e| session_error(e.into()))?;
    Ok(no_store(Redirect::to(&url).into_response()))
}

/// `GET /sign-in/partner/{name}/callback`: the partner sends the person back here.
pub async fn callback(
    State(state): State<Shared>,
    page: Page,
    ClientIp(ip): ClientIp,
    session: Session,
    Path(name): Path<String>,
    Query(params): Query<PartnerCallback>,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    if !state.app.partner_summaries().iter().any(|p| p.name == name) {
        return Ok(refusal_page(
            &page,
            StatusCode::NOT_FOUND,
            &PartnerRefusal::UnknownPartner,
            "/",
        ));
    }
    // Taken out whatever happens next: a pending sign-in completes at most once.
    let stored = session
        .remove::<Stored>(PENDING_KEY)
        .await
        .map_err(|e| session_error(e.into()))?;
    let Some(stored) = stored.filter(|s| s.sign_in.partner == name) else {
        tracing::warn!(partner = %name, "partner callback without a matching pending sign-in");
        return Ok(refusal_page(
            &page,
            StatusCode::BAD_REQUEST,
            &PartnerRefusal::SignInFailed,
            "/",
        ));
    };
    let redirect = redirect_uri(state.app.issuer(), &name);
    let signed = match state
        .app
        .complete_partner_sign_in(&stored.sign_in, &params, &redirect, ip, now)
        .await
    {
        Ok(signed) => signed,
        Err(e) => return refused_or_error(&page, e, &stored.next),
    };
    let auth = SessionAuth::citizen(signed.account_id.as_str(), signed.level, AMR_FEDERATED, now)
        .map_err(session_error)?;
    session::sign_in(&session, &auth, now)
        .await
        .map_err(session_error)?;
    Ok(no_store(Redirect::to(&stored.next).into_response()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next(Some("/api/v1/session")), "/api/v1/session");
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "javascript:x",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn refusals_have_their_status() {
        assert_eq!(status_of("partner_unknown"), StatusCode::NOT_FOUND);
        assert_eq!(status_of("partner_level_unmapped"), StatusCode::FORBIDDEN);
        assert_eq!(status_of("partner_sign_in_failed"), StatusCode::BAD_REQUEST);
    }
}
