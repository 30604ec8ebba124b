//! Single sign-on over HTTP: the OpenID Connect endpoints under `/oauth2`, discovery, the
//! pages they need (sign-in, step-up, consent) and the client administration API.
//!
//! The pages are rendered on the server and work without JavaScript. Errors of the OAuth
//! endpoints follow RFC 6749 (`{"error": …, "error_description": …}`), because that is what
//! relying-party libraries read; the administration API answers problem+json like the rest
//! of `/api/v1`.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jiff::Timestamp;
use onetrip_app::AppError;
use onetrip_app::otp::CodePurpose;
use onetrip_app::sso::{
    AuthenticatedUser, AuthorizeError, AuthorizeParams, AuthorizeRequest, ClientCredentials,
    ClientView, RegisterClient, RegisteredClient, TokenParams, with_query,
};
use onetrip_domain::Localized;
use onetrip_domain::identity::{AccountId, AssuranceLevel};
use onetrip_domain::sso::SsoError;
use secrecy::SecretString;
use serde::Deserialize;
use tower_sessions::Session;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::Shared;
use crate::api::accounts::ClientIp;
use crate::extract::{FormBody, JsonBody, Path, Query};
use crate::pages::Page;
use crate::problem::{ApiError, Problem};
use crate::session::{self, SessionAuth};

/// The client administration routes (documented in the OpenAPI document).
pub fn api_router() -> OpenApiRouter<Shared> {
    OpenApiRouter::new()
        .routes(routes!(register_client, list_clients))
        .routes(routes!(get_client))
        .routes(routes!(reset_secret))
        .routes(routes!(set_client_disabled))
}

/// The protocol endpoints and pages (outside the OpenAPI document: they are specified by
/// OpenID Connect and OAuth 2.0).
pub fn protocol_router() -> axum::Router<Shared> {
    use axum::routing::get;
    axum::Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/oauth2/jwks", get(jwks))
        .route("/oauth2/authorize", get(authorize).post(consent))
        .route("/oauth2/token", axum::routing::post(token))
        .route("/oauth2/userinfo", get(userinfo).post(userinfo))
        .route("/oauth2/logout", get(logout))
        .route("/sign-in", get(sign_in_page).post(sign_in_form))
        .route("/step-up", get(step_up_page).post(step_up_form))
        .route("/register", get(register_page).post(register_form))
        .route("/dev/sms", get(dev_sms))
}

/// Marks a response as not to be stored by caches (tokens, pages with CSRF tokens).
pub(crate) fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn render(template: &impl Template, status: StatusCode) -> Response {
    match template.render() {
        Ok(html) => no_store((status, Html(html)).into_response()),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            ApiError::from(AppError::Internal(e.to_string())).into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "pages/identity/message.html")]
struct MessagePage {
    page: Page,
    heading: String,
    body: String,
    is_error: bool,
    link: Option<(String, String)>,
}

/// A page with a heading, a message and an optional link (errors and confirmations).
pub(crate) fn message(
    page: &Page,
    status: StatusCode,
    heading: (&str, &str),
    body: String,
    link: Option<(String, String)>,
) -> Response {
    render(
        &MessagePage {
            page: page.clone(),
            heading: if page.en { heading.1 } else { heading.0 }.to_owned(),
            body,
            is_error: status.is_client_error() || status.is_server_error(),
            link,
        },
        status,
    )
}

fn oauth_error(status: StatusCode, e: SsoError) -> Response {
    let body = serde_json::json!({
        "error": e.oauth_code(),
        "error_description": e.message_en(),
    });
    let mut response = no_store((status, Json(body)).into_response());
    if e == SsoError::InvalidClient {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"onetrip\""),
        );
    }
    response
}

/// `GET /.well-known/openid-configuration`.
pub async fn discovery(State(state): State<Shared>) -> Json<serde_json::Value> {
    Json(state.app.discovery())
}

/// `GET /oauth2/jwks`.
pub async fn jwks(State(state): State<Shared>) -> Result<Response, ApiError> {
    let keys = state.app.jwks(Timestamp::now()).await?;
    let mut response = Json(keys).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(response)
}

fn params_query(p: &AuthorizeParams) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let mut push = |k: &'static str, v: &Option<String>| {
        if let Some(v) = v {
            out.push((k, v.clone()));
        }
    };
    push("response_type", &p.response_type);
    push("client_id", &p.client_id);
    push("redirect_uri", &p.redirect_uri);
    push("scope", &p.scope);
    push("state", &p.state);
    push("nonce", &p.nonce);
    push("code_challenge", &p.code_challenge);
    push("code_challenge_method", &p.code_challenge_method);
    push("prompt", &p.prompt);
    push("acr_values", &p.acr_values);
    if let Some(age) = p.max_age {
        out.push(("max_age", age.to_string()));
    }
    out
}

fn authorize_url(p: &AuthorizeParams) -> String {
    let q = params_query(p);
    let pairs: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
    with_query("/oauth2/authorize", &pairs)
}

fn redirect_error(
    redirect_uri: &str,
    error: SsoError,
    state: Option<&str>,
    issuer: &str,
) -> Response {
    let mut q = vec![("error", error.oauth_code())];
    if let Some(s) = state {
        q.push(("state", s));
    }
    q.push(("iss", issuer));
    no_store(Redirect::to(&with_query(redirect_uri, &q)).into_response())
}

fn show_error(page: &Page, e: SsoError) -> Response {
    let body = if page.en {
        e.message_en()
    } else {
        e.message_zh()
    };
    message(
        page,
        StatusCode::BAD_REQUEST,
        ("无法登录该系统", "Cannot sign in to that system"),
        format!(
            "{body}{}",
            if page.en {
                " (the system that sent you here is not registered, or its return address does not match)."
            } else {
                "（将您转到此处的系统未登记，或其回调地址与登记的不一致。）"
            }
        ),
        None,
    )
}

/// The consent key of a client and scope set, remembered in the session.
fn consent_key(request: &AuthorizeRequest) -> String {
    format!("consent:{}:{}", request.client_id, request.scopes)
}

enum Next {
    SignIn,
    StepUp,
    Consent(SessionAuth),
    Issue(SessionAuth),
}

async fn next_step(
    session: &Session,
    request: &AuthorizeRequest,
    now: Timestamp,
) -> Result<Next, ApiError> {
    let auth = session::current(session, now)
        .await
        .map_err(crate::api::accounts::session_error)?;
    let Some(auth @ SessionAuth::Citizen { .. }) = auth else {
        return Ok(Next::SignIn);
    };
    let SessionAuth::Citizen {
        level, auth_time, ..
    } = &auth
    else {
        return Ok(Next::SignIn);
    };
    if request.prompt.iter().any(|p| p == "login")
        || request
            .max_age
            .is_some_and(|age| now.as_second() - auth_time > age.max(0))
    {
        return Ok(Next::SignIn);
    }
    if let Some(needed) = request.acr
        && *level < needed
    {
        return Ok(Next::StepUp);
    }
    let consented = session
        .get::<bool>(&consent_key(request))
        .await
        .map_err(|e| crate::api::accounts::session_error(e.into()))?
        .unwrap_or(false);
    if consented && !request.prompt.iter().any(|p| p == "consent") {
        Ok(Next::Issue(auth))
    } else {
        Ok(Next::Consent(auth))
    }
}

fn user_of(auth: &SessionAuth) -> Option<AuthenticatedUser> {
    match auth {
        SessionAuth::Citizen {
            account,
            level,
            amr,
            auth_time,
            acting_for,
            sid,
        } => Some(AuthenticatedUser {
            account_id: account.clone(),
            level: *level,
            amr: amr.clone(),
            auth_time: Timestamp::from_second(*auth_time).unwrap_or(Timestamp::UNIX_EPOCH),
            acting_for: acting_for.clone(),
            session_ref: Some(sid.clone()),
        }),
        SessionAuth::Staff { .. } => None,
    }
}

#[derive(Template)]
#[template(path = "pages/identity/consent.html")]
struct ConsentPage {
    page: Page,
    client_name: String,
    scopes: Vec<String>,
    acting_for: Option<String>,
    csrf_token: String,
    params: Vec<(&'static str, String)>,
}

/// `GET /oauth2/authorize`: checks the request, then signs the user in, steps up, asks for
/// consent, or issues the code, as needed.
pub async fn authorize(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    Query(p): Query<AuthorizeParams>,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let request = match state.app.check_authorization(&p).await {
        Ok(r) => r,
        Err(AuthorizeError::Show(e)) => return Ok(show_error(&page, e)),
        Err(AuthorizeError::Redirect {
            redirect_uri,
            error,
            state: s,
        }) => {
            return Ok(redirect_error(
                &redirect_uri,
                error,
                s.as_deref(),
                state.app.issuer(),
            ));
        }
    };
    let none = request.prompt.iter().any(|p| p == "none");
    let back = authorize_url(&p);
    match next_step(&session, &request, now).await? {
        Next::SignIn if none => Ok(redirect_error(
            &request.redirect_uri,
            SsoError::LoginRequired,
            request.state.as_deref(),
            state.app.issuer(),
        )),
        Next::SignIn => {
            Ok(Redirect::to(&with_query("/sign-in", &[("next", &back)])).into_response())
        }
        Next::StepUp if none => Ok(redirect_error(
            &request.redirect_uri,
            SsoError::LoginRequired,
            request.state.as_deref(),
            state.app.issuer(),
        )),
        Next::StepUp => {
            Ok(Redirect::to(&with_query("/step-up", &[("next", &back)])).into_response())
        }
        Next::Consent(_) if none => Ok(redirect_error(
            &request.redirect_uri,
            SsoError::ConsentRequired,
            request.state.as_deref(),
            state.app.issuer(),
        )),
        Next::Consent(auth) => {
            let csrf_token = session::csrf_token(&session)
                .await
                .map_err(crate::api::accounts::session_error)?;
            let acting_for = match &auth {
                SessionAuth::Citizen { acting_for, .. } => acting_for.clone(),
                SessionAuth::Staff { .. } => None,
            };
            Ok(render(
                &ConsentPage {
                    page: page.clone(),
                    client_name: request.client_name.clone(),
                    scopes: request
                        .scopes
                        .iter()
                        .map(|s| {
                            if page.en {
                                s.consent_en()
                            } else {
                                s.consent_zh()
                            }
                            .to_owned()
                        })
                        .collect(),
                    acting_for,
                    csrf_token,
                    params: params_query(&p),
                },
                StatusCode::OK,
            ))
        }
        Next::Issue(auth) => issue(&state, &request, &auth, now).await,
    }
}

async fn issue(
    state: &Shared,
    request: &AuthorizeRequest,
    auth: &SessionAuth,
    now: Timestamp,
) -> Result<Response, ApiError> {
    let Some(user) = user_of(auth) else {
        return Ok(redirect_error(
            &request.redirect_uri,
            SsoError::AccessDenied,
            request.state.as_deref(),
            state.app.issuer(),
        ));
    };
    let to = state.app.issue_code(request, &user, now).await?;
    Ok(no_store(Redirect::to(&to).into_response()))
}

/// The consent form: the authorization parameters again, the CSRF token and the decision.
#[derive(Debug, Deserialize)]
pub struct ConsentForm {
    #[serde(flatten)]
    params: AuthorizeParams,
    csrf_token: Option<String>,
    decision: Option<String>,
}

/// `POST /oauth2/authorize`: the user's answer on the consent page.
pub async fn consent(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    FormBody(form): FormBody<ConsentForm>,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    if let Some(refused) = refuse_without_csrf(&session, form.csrf_token.as_deref(), &page).await? {
        return Ok(refused);
    }
    let request = match state.app.check_authorization(&form.params).await {
        Ok(r) => r,
        Err(AuthorizeError::Show(e)) => return Ok(show_error(&page, e)),
        Err(AuthorizeError::Redirect {
            redirect_uri,
            error,
            state: s,
        }) => {
            return Ok(redirect_error(
                &redirect_uri,
                error,
                s.as_deref(),
                state.app.issuer(),
            ));
        }
    };
    if form.decision.as_deref() != Some("allow") {
        return Ok(redirect_error(
            &request.redirect_uri,
            SsoError::AccessDenied,
            request.state.as_deref(),
            state.app.issuer(),
        ));
    }
    match next_step(&session, &request, now).await? {
        Next::Consent(auth) | Next::Issue(auth) => {
            session
                .insert(&consent_key(&request), true)
                .await
                .map_err(|e| crate::api::accounts::session_error(e.into()))?;
            issue(&state, &request, &auth, now).await
        }
        _ => Ok(Redirect::to(&authorize_url(&form.params)).into_response()),
    }
}

/// The "page expired" answer when a form lacks the session's CSRF token; `None` when it has it.
async fn refuse_without_csrf(
    session: &Session,
    token: Option<&str>,
    page: &Page,
) -> Result<Option<Response>, ApiError> {
    let ok = session::csrf_matches(session, token)
        .await
        .map_err(crate::api::accounts::session_error)?;
    Ok((!ok).then(|| csrf_page(page)))
}

fn csrf_page(page: &Page) -> Response {
    message(
        page,
        StatusCode::FORBIDDEN,
        ("页面已过期", "The page has expired"),
        if page.en {
            "The form was out of date or not sent from this site. Go back, reload the page and try again.".to_owned()
        } else {
            "表单已过期或并非从本站提交。请返回并刷新页面后重试。".to_owned()
        },
        None,
    )
}

fn basic_credentials(headers: &HeaderMap) -> Result<ClientCredentials, SsoError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(ClientCredentials::default());
    };
    let value = value.to_str().map_err(|_| SsoError::InvalidClient)?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(SsoError::InvalidClient);
    };
    if !scheme.eq_ignore_ascii_case("Basic") {
        return Err(SsoError::InvalidClient);
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .map_err(|_| SsoError::InvalidClient)?;
    let text = String::from_utf8(decoded).map_err(|_| SsoError::InvalidClient)?;
    let (id, secret) = text.split_once(':').ok_or(SsoError::InvalidClient)?;
    // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    let decode = |s: &str| -> Result<String, SsoError> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(&format!("v={s}")).map_err(|_| SsoError::InvalidClient)?;
        pairs
            .into_iter()
            .next()
            .map(|(_, v)| v)
            .ok_or(SsoError::InvalidClient)
    };
    Ok(ClientCredentials {
        client_id: Some(decode(id)?),
        client_secret: Some(decode(secret)?),
    })
}

/// `POST /oauth2/token`.
pub async fn token(
    State(state): State<Shared>,
    headers: HeaderMap,
    FormBody(params): FormBody<TokenParams>,
) -> Response {
    let credentials = match basic_credentials(&headers) {
        Ok(c) => c,
        Err(e) => return oauth_error(StatusCode::UNAUTHORIZED, e),
    };
    match state
        .app
        .token(&params, &credentials, Timestamp::now())
        .await
    {
        Ok(response) => no_store(Json(response).into_response()),
        Err(e @ SsoError::InvalidClient) => oauth_error(StatusCode::UNAUTHORIZED, e),
        Err(e) => oauth_error(StatusCode::BAD_REQUEST, e),
    }
}

/// `GET|POST /oauth2/userinfo` with `Authorization: Bearer`.
pub async fn userinfo(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(s, _)| s.eq_ignore_ascii_case("Bearer"))
        .map(|(_, t)| t.trim().to_owned());
    let result = match token {
        Some(t) => state.app.userinfo(&t, Timestamp::now()).await,
        None => Err(AppError::InvalidToken),
    };
    match result {
        Ok(info) => no_store(Json(info).into_response()),
        Err(AppError::InvalidToken) => {
            let mut r = (
                StatusCode::UNAUTHORIZED,
                Json(serde_json::json!({"error": "invalid_token"})),
            )
                .into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            r
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Parameters of RP-initiated logout.
#[derive(Debug, Deserialize)]
pub struct LogoutParams {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    client_id: Option<String>,
    state: Option<String>,
}

/// `GET /oauth2/logout` (OpenID Connect RP-Initiated Logout 1.0): signs the user out of
/// onetrip, revokes the refresh tokens of that sign-in, and returns to the client's registered
/// post-logout URI.
pub async fn logout(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    Query(p): Query<LogoutParams>,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let logout = match state
        .app
        .end_session(
            p.id_token_hint.as_deref(),
            p.post_logout_redirect_uri.as_deref(),
            p.client_id.as_deref(),
            now,
        )
        .await
    {
        Ok(l) => l,
        Err(e @ AppError::Rejected(_)) => {
            let text = if page.en {
                e.message_en()
            } else {
                e.message_zh()
            };
            let detail = match &e {
                AppError::Rejected(p) => p
                    .iter()
                    .map(|f| {
                        if page.en {
                            f.message_en.clone()
                        } else {
                            f.message_zh.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                _ => String::new(),
            };
            return Ok(message(
                &page,
                StatusCode::BAD_REQUEST,
                ("无法退出", "Cannot sign out"),
                format!("{text}: {detail}"),
                None,
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(SessionAuth::Citizen { sid, .. }) = session::current(&session, now)
        .await
        .map_err(crate::api::accounts::session_error)?
    {
        state
            .app
            .db
            .revoke_refresh_tokens_of_session(&sid, now)
            .await
            .map_err(AppError::from)?;
    }
    session::sign_out(&session)
        .await
        .map_err(crate::api::accounts::session_error)?;
    match logout.redirect_to {
        Some(uri) => {
            let to = match &p.state {
                Some(s) => with_query(&uri, &[("state", s)]),
                None => uri,
            };
            Ok(no_store(Redirect::to(&to).into_response()))
        }
        None => Ok(message(
            &page,
            StatusCode::OK,
            ("您已退出登录", "You are signed out"),
            if page.en {
                "You have signed out of onetrip.".to_owned()
            } else {
                "您已退出一体化在线政务服务平台。".to_owned()
            },
            Some((
                "/".to_owned(),
                if page.en { "Home" } else { "返回首页" }.to_owned(),
            )),
        )),
    }
}

/// Sends a one-time code from a page; the error to show next to the phone field, if any.
async fn page_send_code(
    state: &Shared,
    purpose: CodePurpose,
    phone: &str,
    now: Timestamp,
    page: &Page,
) -> Option<PageError> {
    match state.app.send_random_code(purpose, phone, now).await {
        Ok(_) => None,
        Err(e) => Some(PageError {
            field: "phone".into(),
            message: if page.en {
                e.message_en()
            } else {
                e.message_zh()
            },
        }),
    }
}

/// One error shown on a page, next to its field and in the summary.
#[derive(Debug, Clone)]
pub struct PageError {
    /// The field's id.
    pub field: String,
    /// The message.
    pub message: String,
}

#[derive(Template)]
#[template(path = "pages/identity/sign_in.html")]
struct SignInPage {
    page: Page,
    next_encoded: String,
    partners: Vec<(String, String)>,
    client_name: Option<String>,
    errors: Vec<PageError>,
    csrf_token: String,
    next: String,
    login: String,
    phone: String,
    code_sent: bool,
}

impl SignInPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

/// Where to go after signing in: only local paths, never another site.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

/// Query of the sign-in page.
#[derive(Debug, Deserialize)]
pub struct NextParam {
    next: Option<String>,
}

fn partners_of(state: &Shared) -> Vec<(String, String)> {
    state
        .app
        .partner_summaries()
        .into_iter()
        .map(|p| (p.name, p.display_name))
        .collect()
}

async fn client_name_of(state: &Shared, next: &str) -> Option<String> {
    let query = next.strip_prefix("/oauth2/authorize?")?;
    let params: AuthorizeParams = serde_urlencoded::from_str(query).ok()?;
    state
        .app
        .check_authorization(&params)
        .await
        .ok()
        .map(|r| r.client_name)
}

/// `GET /sign-in`.
pub async fn sign_in_page(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    Query(q): Query<NextParam>,
) -> Result<Response, ApiError> {
    let next = safe_next(q.next.as_deref());
    let csrf_token = session::csrf_token(&session)
        .await
        .map_err(crate::api::accounts::session_error)?;
    Ok(render(
        &SignInPage {
            page: page.clone(),
            next_encoded: urlencode(&next),
            partners: partners_of(&state),
            client_name: client_name_of(&state, &next).await,
            errors: Vec::new(),
            csrf_token,
            next,
            login: String::new(),
            phone: String::new(),
            code_sent: false,
        },
        StatusCode::OK,
    ))
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)])
        .map(|v| v[2..].to_owned())
        .unwrap_or_default()
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct SignInForm {
    csrf_token: Option<String>,
    next: Option<String>,
    method: Option<String>,
    login: Option<String>,
    password: Option<String>,
    phone: Option<String>,
    code: Option<String>,
}

/// `POST /sign-in`: password sign-in, sending a code, or code sign-in.
pub async fn sign_in_form(
    State(state): State<Shared>,
    page: Page,
    ClientIp(ip): ClientIp,
    session: Session,
    FormBody(form): FormBody<SignInForm>,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    if let Some(refused) = refuse_without_csrf(&session, form.csrf_token.as_deref(), &page).await? {
        return Ok(refused);
    }
    let next = safe_next(form.next.as_deref());
    let text = |e: &dyn Localized| {
        if page.en {
            e.message_en()
        } else {
            e.message_zh()
        }
    };
    let mut view = SignInPage {
        page: page.clone(),
        next_encoded: urlencode(&next),
        partners: partners_of(&state),
        client_name: client_name_of(&state, &next).await,
        errors: Vec::new(),
        csrf_token: session::csrf_token(&session)
            .await
            .map_err(crate::api::accounts::session_error)?,
        next: next.clone(),
        login: form.login.clone().unwrap_or_default(),
        phone: form.phone.clone().unwrap_or_default(),
        code_sent: false,
    };
    let outcome = match form.method.as_deref() {
        Some("send_code") => {
            match page_send_code(&state, CodePurpose::SignIn, &view.phone, now, &page).await {
                None => view.code_sent = true,
                Some(error) => view.errors.push(error),
            }
            return Ok(render(
                &view,
                if view.errors.is_empty() {
                    StatusCode::OK
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                },
            ));
        }
        Some("code") => state
            .app
            .sign_in_with_code(
                &view.phone,
                form.code.as_deref().unwrap_or_default(),
                ip,
                now,
            )
            .await
            .map(|s| (s, "sms")),
        _ => state
            .app
            .sign_in_with_password(
                &view.login,
                &SecretString::from(form.password.unwrap_or_default()),
                ip,
                now,
            )
            .await
            .map(|s| (s, "pwd")),
    };
    match outcome {
        Ok((signed, method)) => {
            let auth = SessionAuth::citizen(
                signed.account_id.as_str(),
                signed.assurance_level,
                method,
                now,
            )
            .map_err(crate::api::accounts::session_error)?;
            session::sign_in(&session, &auth, now)
                .await
                .map_err(crate::api::accounts::session_error)?;
            Ok(no_store(Redirect::to(&next).into_response()))
        }
        Err(e) => {
            let field = if form.method.as_deref() == Some("code") {
                if matches!(e, AppError::Otp(_)) {
                    "code"
                } else {
                    "phone"
                }
            } else {
                "login"
            };
            view.errors.push(PageError {
                field: field.into(),
                message: text(&e),
            });
            Ok(render(&view, StatusCode::UNPROCESSABLE_ENTITY))
        }
    }
}

#[derive(Template)]
#[template(path = "pages/identity/step_up.html")]
struct StepUpPage {
    page: Page,
    client_name: String,
    needed: &'static str,
    held: &'static str,
    error: Option<String>,
    csrf_token: String,
    next: String,
}

fn level_name(l: AssuranceLevel) -> &'static str {
    match l {
        AssuranceLevel::L1 => "L1",
        AssuranceLevel::L2 => "L2",
        AssuranceLevel::L3 => "L3",
    }
}

async fn step_up_page_for(
    state: &Shared,
    page: &Page,
    session: &Session,
    next: String,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let Some(SessionAuth::Citizen { level, .. }) = session::current(session, now)
        .await
        .map_err(crate::api::accounts::session_error)?
    else {
        return Ok(Redirect::to(&with_query("/sign-in", &[("next", &next)])).into_response());
    };
    let (client_name, needed) = match next
        .strip_prefix("/oauth2/authorize?")
        .and_then(|q| serde_urlencoded::from_str::<AuthorizeParams>(q).ok())
    {
        Some(p) => match state.app.check_authorization(&p).await {
            Ok(r) => (r.client_name, r.acr.unwrap_or(AssuranceLevel::L2)),
            Err(_) => (String::new(), AssuranceLevel::L2),
        },
        None => (String::new(), AssuranceLevel::L2),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render(
        &StepUpPage {
            page: page.clone(),
            client_name,
            needed: level_name(needed),
            held: level_name(level),
            error,
            csrf_token: session::csrf_token(session)
                .await
                .map_err(crate::api::accounts::session_error)?,
            next,
        },
        status,
    ))
}

/// `GET /step-up`: real-name verification to reach L2.
pub async fn step_up_page(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    Query(q): Query<NextParam>,
) -> Result<Response, ApiError> {
    step_up_page_for(&state, &page, &session, safe_next(q.next.as_deref()), None).await
}

/// The step-up form.
#[derive(Deserialize)]
pub struct StepUpForm {
    csrf_token: Option<String>,
    next: Option<String>,
}

/// `POST /step-up`.
pub async fn step_up_form(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    FormBody(form): FormBody<StepUpForm>,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    if let Some(refused) = refuse_without_csrf(&session, form.csrf_token.as_deref(), &page).await? {
        return Ok(refused);
    }
    let next = safe_next(form.next.as_deref());
    let Some(SessionAuth::Citizen { account, .. }) = session::current(&session, now)
        .await
        .map_err(crate::api::accounts::session_error)?
    else {
        return Ok(Redirect::to(&with_query("/sign-in", &[("next", &next)])).into_response());
    };
    match state
        .app
        .verify_real_name(&AccountId::new(account.clone()), now)
        .await
    {
        Ok(level) => {
            session::raise_level(&session, level, "realname", now)
                .await
                .map_err(crate::api::accounts::session_error)?;
            Ok(no_store(Redirect::to(&next).into_response()))
        }
        Err(e @ AppError::RealNameMismatch) => {
            let text = if page.en {
                e.message_en()
            } else {
                e.message_zh()
            };
            step_up_page_for(&state, &page, &session, next, Some(text)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Registers a client (a department system or a machine client). The secret is shown once.
#[utoipa::path(post, path = "/api/v1/clients", tag = "single sign-on", security(("admin_token" = [])), request_body = Object,
    responses((status = 201, description = "Registered; the secret is shown only now", body = Object),
              (status = 422, description = "Every problem, by field", body = Problem, content_type = "application/problem+json")))]
pub async fn register_client(
    State(state): State<Shared>,
    JsonBody(body): JsonBody<RegisterClient>,
) -> Result<(StatusCode, Json<RegisteredClient>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.app.register_client(body, Timestamp::now()).await?),
    ))
}

/// Every registered client.
#[utoipa::path(get, path = "/api/v1/clients", tag = "single sign-on", security(("admin_token" = [])),
    responses((status = 200, description = "The clients (never their secrets)", body = [Object])))]
pub async fn list_clients(State(state): State<Shared>) -> Result<Json<Vec<ClientView>>, ApiError> {
    Ok(Json(state.app.list_clients().await?))
}

/// One client.
#[utoipa::path(get, path = "/api/v1/clients/{client_id}", tag = "single sign-on", security(("admin_token" = [])),
    params(("client_id" = String, Path, description = "client_id")),
    responses((status = 200, description = "The client", body = Object),
              (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json")))]
pub async fn get_client(
    State(state): State<Shared>,
    Path(id): Path<String>,
) -> Result<Json<ClientView>, ApiError> {
    Ok(Json(state.app.client_view(&id).await?))
}

/// Replaces a confidential client's secret; the new one is shown once and the old one stops
/// working at once.
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/secret", tag = "single sign-on", security(("admin_token" = [])),
    params(("client_id" = String, Path, description = "client_id")),
    responses((status = 200, description = "The new secret", body = Object),
              (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json")))]
pub async fn reset_secret(
    State(state): State<Shared>,
    Path(id): Path<String>,
) -> Result<Json<RegisteredClient>, ApiError> {
    Ok(Json(state.app.reset_client_secret(&id).await?))
}

/// Whether a client is disabled.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientDisabled {
    /// `true` to disable (its tokens can no longer be obtained), `false` to enable.
    pub disabled: bool,
}

/// Disables or enables a client. A disabled client gets no codes and no tokens.
#[utoipa::path(put, path = "/api/v1/clients/{client_id}/disabled", tag = "single sign-on", security(("admin_token" = [])),
    params(("client_id" = String, Path, description = "client_id")), request_body = ClientDisabled,
    responses((status = 204, description = "Done"),
              (status = 404, description = "No such client", body = Problem, content_type = "application/problem+json")))]
pub async fn set_client_disabled(
    State(state): State<Shared>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ClientDisabled>,
) -> Result<StatusCode, ApiError> {
    state.app.set_client_disabled(&id, body.disabled).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every path of the protocol router (for the policy table's completeness test).
pub const PROTOCOL_PATHS: [&str; 12] = [
    "/register",
    "/dev/sms",
    "/.well-known/openid-configuration",
    "/oauth2/jwks",
    "/oauth2/authorize",
    "/oauth2/token",
    "/oauth2/userinfo",
    "/oauth2/logout",
    "/sign-in",
    "/step-up",
    "/sign-in/partner/{name}",
    "/sign-in/partner/{name}/callback",
];

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn next_is_local_only() {
        assert_eq!(
            safe_next(Some("/oauth2/authorize?x=1")),
            "/oauth2/authorize?x=1"
        );
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
    fn basic_credentials_are_form_decoded() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {}", STANDARD.encode("c%3A1:s%2Bx"))).unwrap(),
        );
        let c = basic_credentials(&h).unwrap();
        assert_eq!(c.client_id.as_deref(), Some("c:1"));
        assert_eq!(c.client_secret.as_deref(), Some("s+x"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        assert!(basic_credentials(&h).is_err());
    }
}

#[derive(Template)]
#[template(path = "pages/identity/register.html")]
struct RegisterPage {
    page: Page,
    next_encoded: String,
    errors: Vec<PageError>,
    csrf_token: String,
    next: String,
    name: String,
    resident_id: String,
    phone: String,
    code_sent: bool,
}

impl RegisterPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
}

/// `GET /register`: the registration page (自然人注册).
pub async fn register_page(
    page: Page,
    session: Session,
    Query(q): Query<NextParam>,
) -> Result<Response, ApiError> {
    let next = safe_next(q.next.as_deref());
    let csrf_token = session::csrf_token(&session)
        .await
        .map_err(crate::api::accounts::session_error)?;
    Ok(render(
        &RegisterPage {
            page: page.clone(),
            next_encoded: urlencode(&next),
            errors: Vec::new(),
            csrf_token,
            next,
            name: String::new(),
            resident_id: String::new(),
            phone: String::new(),
            code_sent: false,
        },
        StatusCode::OK,
    ))
}

/// The registration form.
#[derive(Deserialize)]
pub struct RegisterForm {
    csrf_token: Option<String>,
    next: Option<String>,
    action: Option<String>,
    name: Option<String>,
    resident_id: Option<String>,
    phone: Option<String>,
    sms_code: Option<String>,
    password: Option<String>,
}

/// `POST /register`: sends the code, or registers and signs in; every problem is shown next
/// to its field and in the summary.
pub async fn register_form(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    FormBody(form): FormBody<RegisterForm>,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    if let Some(refused) = refuse_without_csrf(&session, form.csrf_token.as_deref(), &page).await? {
        return Ok(refused);
    }
    let next = safe_next(form.next.as_deref());
    let mut view = RegisterPage {
        page: page.clone(),
        next_encoded: urlencode(&next),
        errors: Vec::new(),
        csrf_token: session::csrf_token(&session)
            .await
            .map_err(crate::api::accounts::session_error)?,
        next: next.clone(),
        name: form.name.clone().unwrap_or_default(),
        resident_id: form.resident_id.clone().unwrap_or_default(),
        phone: form.phone.clone().unwrap_or_default(),
        code_sent: false,
    };
    if form.action.as_deref() == Some("send_code") {
        match page_send_code(&state, CodePurpose::Register, &view.phone, now, &page).await {
            None => view.code_sent = true,
            Some(error) => view.errors.push(error),
        }
        let status = if view.errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return Ok(render(&view, status));
    }
    let result = state
        .app
        .register_person(
            onetrip_app::accounts::RegisterPerson {
                resident_id: view.resident_id.clone(),
                name: view.name.clone(),
                phone: view.phone.clone(),
                password: SecretString::from(form.password.unwrap_or_default()),
                sms_code: form.sms_code.unwrap_or_default(),
            },
            crate::api::identifiers::today_in_china(),
            now,
        )
        .await;
    match result {
        Ok(account) => {
            let auth = SessionAuth::citizen(account.as_str(), AssuranceLevel::L1, "sms", now)
                .map_err(crate::api::accounts::session_error)?;
            session::sign_in(&session, &auth, now)
                .await
                .map_err(crate::api::accounts::session_error)?;
            Ok(no_store(Redirect::to(&next).into_response()))
        }
        Err(AppError::Rejected(problems)) => {
            for p in problems {
                view.errors.push(PageError {
                    field: p.path.clone(),
                    message: if page.en { p.message_en } else { p.message_zh },
                });
            }
            Ok(render(&view, StatusCode::UNPROCESSABLE_ENTITY))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "pages/identity/dev_sms.html")]
struct DevSmsPage {
    page: Page,
    phone: String,
    messages: Vec<(String, String, String)>,
}

/// Query of the sandbox inbox.
#[derive(Debug, Deserialize)]
pub struct PhoneParam {
    phone: Option<String>,
}

/// `GET /dev/sms?phone=…`: the sandbox SMS inbox, in demo mode only (404 otherwise), so that
/// a person trying the demo can read the codes "sent" to them.
pub async fn dev_sms(
    State(state): State<Shared>,
    page: Page,
    Query(q): Query<PhoneParam>,
) -> Result<Response, ApiError> {
    if !state.dev_pages {
        return Ok(ApiError::no_route().into_response());
    }
    let phone = q.phone.unwrap_or_default();
    let messages = match onetrip_app::accounts::normalize_phone(&phone) {
        Some(p) => state
            .app
            .db
            .sms_messages(&p)
            .await
            .map_err(AppError::from)?
            .into_iter()
            .map(|m| (m.sent_at.to_string(), m.body, m.status))
            .collect(),
        None => Vec::new(),
    };
    Ok(render(
        &DevSmsPage {
            page: page.clone(),
            phone,
            messages,
        },
        StatusCode::OK,
    ))
}
