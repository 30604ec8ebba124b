//! Cross-province trust (一地认证，全网通办): signing people in through partner platforms.
//!
//! A partner platform (another province's unified identity platform, often another onetrip) is
//! an OpenID Connect provider; onetrip is a relying party to it. A person authenticated there
//! signs in here without registering again: the account is found by resident ID number, or
//! created from the partner's claims.
//!
//! Decisions (the pure rules are in [`onetrip_domain::identity::mapped_level`] and
//! [`onetrip_domain::identity::may_link`]):
//! - **Protocol:** authorization code with PKCE `S256`, `state` and `nonce` (each 256 random
//!   bits), `client_secret_basic` at the token endpoint, then userinfo. The ID token is verified
//!   with the partner's JWKS (RS256, PS256 or ES256 only; never `none` or a shared secret),
//!   issuer, audience (our `client_id`; `azp` when there are several), expiry and issue time
//!   (60 s of clock skew allowed between platforms) and nonce. `state` is compared in constant
//!   time. The `iss` callback parameter (RFC 9207), when sent, must be the partner's issuer.
//! - **Claims:** userinfo must carry the same `sub` as the ID token and an `id_number` that is
//!   a valid resident ID number; `name` and a verified `phone_number` are needed only to create
//!   an account. Only the partner's ID token `acr` counts for the level.
//! - **Level:** the operator's mapping, capped at the asserted level (never above what the
//!   partner vouched for). An unmapped `acr` is refused (`partner_level_unmapped`). The stored
//!   level of an account only goes up; the session gets the mapped level of this sign-in.
//! - **Linking by resident ID number** only at a mapped level of at least L2 (the partner
//!   checked the number against a registry); at L1 an existing account is never linked
//!   (`partner_link_needs_l2`), but a new one may be created, as local registration would.
//! - **New accounts** have no password (the person may set one later or keep using the
//!   partner), the partner's name and phone, and the mapped level.
//! - **Audit:** every completion attempt is an `auth_events` row, kind `sign_in`, method
//!   `partner:<name>`, with the partner's name, the asserted `acr` and, on failure, the stage
//!   that failed in `detail`; never a claim value.
//! - **Errors:** every refusal is one [`AppError::Refused`] carrying a
//!   [`PartnerRefusal`] code and messages; what went wrong is logged (no personal data: the
//!   resident ID number masked, no names, phones or tokens).
//! - **Discovery** (metadata and JWKS) is cached per partner for five minutes and fetched again
//!   at once when an ID token names a key that is not in the cached set (key rotation).
//! - **Transport:** both implementations of [`PartnerPlatform`] share the protocol code and
//!   differ only in how a request travels: over HTTPS ([`HttpsPartner`], reqwest with rustls,
//!   10 s timeout, no redirects followed, responses capped at 1 MiB) or to an in-process
//!   handler ([`SandboxPartner`]: a second onetrip's router in tests and development), with the
//!   same timeout, non-200 answers surfacing as errors, and optional delay and failures.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jiff::Timestamp;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use onetrip_domain::Localized;
use onetrip_domain::identifiers::ResidentId;
use onetrip_domain::identity::{
    AccountId, AccountKind, AssuranceLevel, LevelMapping, PartnerRefusal, constant_time_eq,
    mapped_level, may_link,
};
use onetrip_store::{AuthEvent, NewPerson, StoreError};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;

use crate::accounts::{MAX_NAME_CHARS, normalize_phone};
use crate::china_today;
use crate::sso::{random_secret, with_query};
use crate::{App, AppError, Result};

/// Scopes asked of a partner when the configuration names none.
pub const DEFAULT_SCOPES: &str = "openid profile phone id_number";

/// How long one request to a partner may take.
pub const PARTNER_TIMEOUT: Duration = Duration::from_secs(10);

/// How long discovered metadata and keys are reused.
pub const DISCOVERY_TTL: Duration = Duration::from_secs(300);

/// Clock skew tolerated between platforms when checking ID token times, in seconds.
pub const CLOCK_LEEWAY_SECS: i64 = 60;

/// How long a started partner sign-in may take to come back, in seconds.
pub const PENDING_TTL_SECS: i64 = 15 * 60;

/// Largest response body accepted from a partner.
pub const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// ID token signature algorithms accepted from partners (asymmetric only).
const ID_TOKEN_ALGORITHMS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::PS256, Algorithm::ES256];

fn default_scopes() -> String {
    DEFAULT_SCOPES.to_owned()
}

/// A configured partner platform (`[[partners]]` in `onetrip.toml`).
///
/// ```toml
/// [[partners]]
/// name = "js"
/// display_name = "江苏政务服务网"
/// issuer = "https://zwfw.jiangsu.example.gov.cn"
/// client_id = "c-…"
/// client_secret = "…"
/// levels = { "urn:onetrip:loa:2" = "L2", "urn:onetrip:loa:3" = "L3" }
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerConfig {
    /// Short name used in URLs (`/sign-in/partner/{name}`) and the audit log: lower-case
    /// letters, digits and hyphens, at most 32.
    pub name: String,
    /// Name shown to people (e.g. 江苏政务服务网).
    pub display_name: String,
    /// The partner's issuer identifier, exactly as its discovery document states it.
    pub issuer: String,
    /// Our `client_id` at the partner.
    pub client_id: String,
    /// Our client secret at the partner (hidden in `Debug` and in the displayed
    /// configuration).
    pub client_secret: SecretString,
    /// Scopes asked for, space-separated; must include `openid` and `id_number`
    /// (default [`DEFAULT_SCOPES`]).
    #[serde(default = "default_scopes")]
    pub scopes: String,
    /// The partner's `acr` values and the level each means here (capped at the asserted level
    /// when the partner uses onetrip's `urn:onetrip:loa:N`).
    pub levels: BTreeMap<String, AssuranceLevel>,
}

impl PartnerConfig {
    /// Checks one partner's configuration; the message says what is wrong.
    pub fn check(&self) -> std::result::Result<(), String> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 32
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !self.name.starts_with('-');
        if !name_ok {
            return Err(format!(
                "partner name {:?}: use 1-32 lower-case letters, digits and hyphens",
                self.name
            ));
        }
        let who = &self.name;
        if self.display_name.trim().is_empty() {
            return Err(format!("partner {who}: display_name is empty"));
        }
        if !issuer_acceptable(&self.issuer) {
            return Err(format!(
                "partner {who}: issuer {:?} must be an https:// URL (http:// only for loopback \
                 addresses), without query or fragment",
                self.issuer
            ));
        }
        if self.client_id.trim().is_empty() || self.client_secret.expose_secret().is_empty() {
            return Err(format!(
                "partner {who}: client_id and client_secret are required"
            ));
        }
        let scopes: Vec<&str> = self.scopes.split_ascii_whitespace().collect();
        for needed in ["openid", "id_number"] {
            if !scopes.contains(&needed) {
                return Err(format!("partner {who}: scopes must include {needed}"));
            }
        }
        if self.levels.is_empty() {
            return Err(format!(
                "partner {who}: levels is empty, so every sign-in would be refused"
            ));
        }
        Ok(())
    }

    /// The level mapping.
    pub fn mapping(&self) -> LevelMapping {
        LevelMapping::from(self.levels.clone())
    }

    /// What the displayed configuration shows of this partner (the secret hidden).
    pub fn display_view(&self) -> PartnerView<'_> {
        PartnerView {
            name: &self.name,
            display_name: &self.display_name,
            issuer: &self.issuer,
            client_id: &self.client_id,
            client_secret: "[hidden]",
            scopes: &self.scopes,
            levels: self
                .levels
                .iter()
                .map(|(acr, level)| (acr.as_str(), level.to_string()))
                .collect(),
        }
    }
}

/// A partner as the displayed configuration shows it.
#[derive(Debug, Serialize)]
pub struct PartnerView<'a> {
    /// Short name.
    pub name: &'a str,
    /// Name shown to people.
    pub display_name: &'a str,
    /// Issuer.
    pub issuer: &'a str,
    /// Our client id there.
    pub client_id: &'a str,
    /// Always `[hidden]`.
    pub client_secret: &'static str,
    /// Scopes.
    pub scopes: &'a str,
    /// The level mapping.
    pub levels: BTreeMap<&'a str, String>,
}

/// Checks every partner's configuration and that names are unique.
pub fn check_partners(partners: &[PartnerConfig]) -> std::result::Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for p in partners {
        p.check()?;
        if !seen.insert(p.name.as_str()) {
            return Err(format!("partner name {:?} is configured twice", p.name));
        }
    }
    Ok(())
}

/// Whether `issuer` may be a production partner's issuer: https, or http on a loopback host.
fn issuer_acceptable(issuer: &str) -> bool {
    let rest = if let Some(rest) = issuer.strip_prefix("https://") {
        rest
    } else if let Some(rest) = issuer.strip_prefix("http://") {
        let host = rest.split(['/', ':']).next().unwrap_or_default();
        if !(host == "127.0.0.1" || host == "localhost" || rest.starts_with("[::1]")) {
            return false;
        }
        rest
    } else {
        return false;
    };
    !rest.is_empty()
        && !rest.starts_with('/')
        && !issuer.contains(['?', '#'])
        && !issuer.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// What onetrip needs of a partner's metadata (OpenID Connect Discovery) and its keys.
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderInfo {
    /// The issuer, as the discovery document states it (ID tokens must carry exactly this).
    pub issuer: String,
    /// Where people are sent to sign in.
    pub authorization_endpoint: String,
    /// Where codes are exchanged.
    pub token_endpoint: String,
    /// Where claims are fetched.
    pub userinfo_endpoint: String,
    /// The JSON Web Key Set (`{"keys": […]}`).
    pub jwks: serde_json::Value,
}

/// A token endpoint response.
#[derive(Clone, Deserialize)]
pub struct TokenJson {
    /// The access token (for userinfo).
    pub access_token: String,
    /// Token type (`Bearer`).
    #[serde(default)]
    pub token_type: String,
    /// The ID token.
    #[serde(default)]
    pub id_token: Option<String>,
    /// Lifetime of the access token, in seconds.
    #[serde(default)]
    pub expires_in: Option<i64>,
    /// Granted scopes.
    #[serde(default)]
    pub scope: Option<String>,
}

impl fmt::Debug for TokenJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenJson")
            .field("access_token", &"<secret>")
            .field("token_type", &self.token_type)
            .field("id_token", &self.id_token.as_ref().map(|_| "<secret>"))
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish()
    }
}

/// What went wrong talking to a partner. Never shown to people; the texts carry no claim
/// values or tokens, so they may be logged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PartnerError {
    /// The partner could not be reached (connection, TLS, injected sandbox failure).
    #[error("partner unreachable: {0}")]
    Unreachable(String),
    /// No answer within [`PARTNER_TIMEOUT`].
    #[error("partner did not answer within {0:?}")]
    Timeout(Duration),
    /// The partner answered with another status than 200.
    #[error("{what}: HTTP {status}{}", .error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default())]
    Status {
        /// Which request.
        what: &'static str,
        /// The status.
        status: u16,
        /// The OAuth `error` code of the answer, when it had one.
        error: Option<String>,
    },
    /// The answer is not what the protocol requires.
    #[error("{what}: {why}")]
    Malformed {
        /// Which request.
        what: &'static str,
        /// What is wrong (never a claim value).
        why: String,
    },
}

fn malformed(what: &'static str, why: impl Into<String>) -> PartnerError {
    PartnerError::Malformed {
        what,
        why: why.into(),
    }
}

/// A partner platform, as onetrip talks to it (OpenID Connect, relying-party side).
#[async_trait]
pub trait PartnerPlatform: Send + Sync {
    /// Reads the discovery document of `issuer` and its key set. The document's `issuer` must
    /// be `issuer`.
    async fn discover(&self, issuer: &str) -> std::result::Result<ProviderInfo, PartnerError>;

    /// Exchanges an authorization code (`client_secret_basic`, PKCE `verifier`).
    async fn exchange_code(
        &self,
        info: &ProviderInfo,
        client_id: &str,
        client_secret: &SecretString,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> std::result::Result<TokenJson, PartnerError>;

    /// Fetches the userinfo claims with an access token.
    async fn userinfo(
        &self,
        info: &ProviderInfo,
        access_token: &str,
    ) -> std::result::Result<serde_json::Value, PartnerError>;
}

/// A request to a partner.
pub type PartnerRequest = http::Request<Vec<u8>>;

/// A partner's answer.
pub type PartnerResponse = http::Response<Vec<u8>>;

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What a [`SandboxPartner`] sends its requests to: for example another onetrip's router.
pub type SandboxHandler = Arc<dyn Fn(PartnerRequest) -> BoxFuture<PartnerResponse> + Send + Sync>;

/// How requests travel; the protocol on top is the same for every transport.
#[async_trait]
trait Transport: Send + Sync {
    /// Sends one request; any answer (whatever its status) is `Ok`.
    async fn send(
        &self,
        request: PartnerRequest,
    ) -> std::result::Result<PartnerResponse, PartnerError>;

    /// How long one request may take.
    fn timeout(&self) -> Duration {
        PARTNER_TIMEOUT
    }
}

async fn exchange(
    transport: &dyn Transport,
    what: &'static str,
    request: PartnerRequest,
) -> std::result::Result<serde_json::Value, PartnerError> {
    let limit = transport.timeout();
    let response = tokio::time::timeout(limit, transport.send(request))
        .await
        .map_err(|_| PartnerError::Timeout(limit))??;
    let status = response.status();
    let body = response.into_body();
    if body.len() > MAX_RESPONSE_BYTES {
        return Err(malformed(what, "answer too large"));
    }
    // Parsed as a value first: serde's typed errors may quote the offending value.
    let json: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    if status != http::StatusCode::OK {
        let error = json
            .as_ref()
            .and_then(|v| v.get("error"))
            .and_then(|e| e.as_str())
            .filter(|e| e.len() <= 64 && e.bytes().all(|b| b.is_ascii_graphic()))
            .map(str::to_owned);
        return Err(PartnerError::Status {
            what,
            status: status.as_u16(),
            error,
        });
    }
    json.ok_or_else(|| malformed(what, "answer is not JSON"))
}

fn get(uri: &str, bearer: Option<&str>) -> std::result::Result<PartnerRequest, PartnerError> {
    let mut builder = http::Request::builder()
        .method(http::Method::GET)
        .uri(uri)
        .header(http::header::ACCEPT, "application/json");
    if let Some(token) = bearer {
        builder = builder.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    builder
        .body(Vec::new())
        .map_err(|_| malformed("request", "invalid endpoint URL"))
}

/// `application/x-www-form-urlencoded` of `pairs`.
fn form(pairs: &[(&str, &str)]) -> String {
    with_query("", pairs)
        .strip_prefix('?')
        .unwrap_or_default()
        .to_owned()
}

/// Whether `endpoint` may be used for a partner with `issuer`: https, or the same origin as an
/// http issuer (a loopback partner in development, a sandbox in tests).
fn endpoint_acceptable(endpoint: &str, issuer: &str) -> bool {
    fn origin(url: &str) -> Option<&str> {
        let (scheme, rest) = url.split_once("://")?;
        let host_len = rest.find('/').unwrap_or(rest.len());
        Some(&url[..scheme.len() + 3 + host_len])
    }
    endpoint.starts_with("https://")
        || (origin(endpoint).is_some() && origin(endpoint) == origin(issuer))
}

async fn discover_over(
    transport: &dyn Transport,
    issuer: &str,
) -> std::result::Result<ProviderInfo, PartnerError> {
    let base = issuer.trim_end_matches('/');
    let doc = exchange(
        transport,
        "discovery",
        get(&format!("{base}/.well-known/openid-configuration"), None)?,
    )
    .await?;
    let field = |name: &str| -> std::result::Result<String, PartnerError> {
        let value = doc
            .get(name)
            .and_then(|v| v.as_str())
            .ok_or_else(|| malformed("discovery", format!("no {name}")))?;
        Ok(value.to_owned())
    };
    let stated = field("issuer")?;
    if stated.trim_end_matches('/') != base {
        return Err(malformed(
            "discovery",
            "issuer in the document differs from the configured one",
        ));
    }
    let info_endpoints = [
        field("authorization_endpoint")?,
        field("token_endpoint")?,
        field("userinfo_endpoint")?,
        field("jwks_uri")?,
    ];
    if let Some(bad) = info_endpoints
        .iter()
        .position(|e| !endpoint_acceptable(e, issuer))
    {
        return Err(malformed(
            "discovery",
            format!("endpoint {bad} is neither https nor on the issuer's origin"),
        ));
    }
    let [
        authorization_endpoint,
        token_endpoint,
        userinfo_endpoint,
        jwks_uri,
    ] = info_endpoints;
    let jwks = exchange(transport, "jwks", get(&jwks_uri, None)?).await?;
    if !jwks.get("keys").is_some_and(|k| k.is_array()) {
        return Err(malformed("jwks", "no keys array"));
    }
    Ok(ProviderInfo {
        issuer: stated,
        authorization_endpoint,
        token_endpoint,
        userinfo_endpoint,
        jwks,
    })
}

async fn exchange_code_over(
    transport: &dyn Transport,
    info: &ProviderInfo,
    client_id: &str,
    client_secret: &SecretString,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> std::result::Result<TokenJson, PartnerError> {
    // RFC 6749 §2.3.1: both parts are form-encoded before the Basic encoding.
    let basic = STANDARD.encode(format!(
        "{}:{}",
        form(&[("", client_id)]).trim_start_matches('='),
        form(&[("", client_secret.expose_secret())]).trim_start_matches('=')
    ));
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
    ]);
    let request = http::Request::builder()
        .method(http::Method::POST)
        .uri(&info.token_endpoint)
        .header(http::header::ACCEPT, "application/json")
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(http::header::AUTHORIZATION, format!("Basic {basic}"))
        .body(body.into_bytes())
        .map_err(|_| malformed("token", "invalid endpoint URL"))?;
    let json = exchange(transport, "token", request).await?;
    let tokens: TokenJson =
        serde_json::from_value(json).map_err(|_| malformed("token", "not a token response"))?;
    if !tokens.token_type.eq_ignore_ascii_case("bearer") {
        return Err(malformed("token", "token_type is not Bearer"));
    }
    Ok(tokens)
}

async fn userinfo_over(
    transport: &dyn Transport,
    info: &ProviderInfo,
    access_token: &str,
) -> std::result::Result<serde_json::Value, PartnerError> {
    let json = exchange(
        transport,
        "userinfo",
        get(&info.userinfo_endpoint, Some(access_token))?,
    )
    .await?;
    if !json.is_object() {
        return Err(malformed("userinfo", "not a JSON object"));
    }
    Ok(json)
}

/// Implements [`PartnerPlatform`] for a [`Transport`] with the shared protocol code.
macro_rules! platform_over_transport {
    ($ty:ty) => {
        #[async_trait]
        impl PartnerPlatform for $ty {
            async fn discover(
                &self,
                issuer: &str,
            ) -> std::result::Result<ProviderInfo, PartnerError> {
                discover_over(self, issuer).await
            }

            async fn exchange_code(
                &self,
                info: &ProviderInfo,
                client_id: &str,
                client_secret: &SecretString,
                code: &str,
                redirect_uri: &str,
                verifier: &str,
            ) -> std::result::Result<TokenJson, PartnerError> {
                exchange_code_over(
                    self,
                    info,
                    client_id,
                    client_secret,
                    code,
                    redirect_uri,
                    verifier,
                )
                .await
            }

            async fn userinfo(
                &self,
                info: &ProviderInfo,
                access_token: &str,
            ) -> std::result::Result<serde_json::Value, PartnerError> {
                userinfo_over(self, info, access_token).await
            }
        }
    };
}

/// The production partner client: HTTPS with rustls (Mozilla's root certificates), a 10 s
/// timeout per request, no redirects followed.
#[derive(Clone, Debug)]
pub struct HttpsPartner {
    client: reqwest::Client,
}

impl HttpsPartner {
    /// A client with the default timeout ([`PARTNER_TIMEOUT`]).
    pub fn new() -> std::result::Result<HttpsPartner, PartnerError> {
        let client = reqwest::Client::builder()
            .timeout(PARTNER_TIMEOUT)
            .connect_timeout(PARTNER_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("onetrip/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PartnerError::Unreachable(format!("HTTP client: {e}")))?;
        Ok(HttpsPartner { client })
    }
}

#[async_trait]
impl Transport for HttpsPartner {
    async fn send(
        &self,
        request: PartnerRequest,
    ) -> std::result::Result<PartnerResponse, PartnerError> {
        let request = reqwest::Request::try_from(request)
            .map_err(|e| malformed("request", format!("cannot build request: {e}")))?;
        let mut response = self.client.execute(request).await.map_err(|e| {
            if e.is_timeout() {
                PartnerError::Timeout(PARTNER_TIMEOUT)
            } else {
                // Without the URL's query (it may carry a code).
                PartnerError::Unreachable(e.without_url().to_string())
            }
        })?;
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| PartnerError::Unreachable(e.without_url().to_string()))?
        {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(malformed("response", "answer too large"));
            }
            body.extend_from_slice(&chunk);
        }
        http::Response::builder()
            .status(status.as_u16())
            .body(body)
            .map_err(|e| malformed("response", e.to_string()))
    }
}

platform_over_transport!(HttpsPartner);

/// The sandbox partner client: requests go to an in-process handler (another onetrip's router
/// in tests and development) and are answered exactly as the protocol code expects of the
/// real service. It can wait before each request and fail every Nth one, like a partner with
/// latency and outages; a wait beyond the timeout is a timeout.
pub struct SandboxPartner {
    handler: SandboxHandler,
    delay: Duration,
    timeout: Duration,
    fail_every: Option<u64>,
    count: AtomicU64,
}

impl fmt::Debug for SandboxPartner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxPartner")
            .field("delay", &self.delay)
            .field("timeout", &self.timeout)
            .field("fail_every", &self.fail_every)
            .finish_non_exhaustive()
    }
}

impl SandboxPartner {
    /// A sandbox sending every request to `handler`, without delay or failures.
    pub fn new(handler: SandboxHandler) -> SandboxPartner {
        SandboxPartner {
            handler,
            delay: Duration::ZERO,
            timeout: PARTNER_TIMEOUT,
            fail_every: None,
            count: AtomicU64::new(0),
        }
    }

    /// Waits `delay` before each request.
    pub fn with_delay(mut self, delay: Duration) -> SandboxPartner {
        self.delay = delay;
        self
    }

    /// Gives up on a request after `timeout` (default [`PARTNER_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> SandboxPartner {
        self.timeout = timeout;
        self
    }

    /// Fails the `n`th, `2n`th… request as unreachable (counting from creation); `0` never
    /// fails.
    pub fn fail_every(mut self, n: u64) -> SandboxPartner {
        self.fail_every = (n > 0).then_some(n);
        self
    }
}

#[async_trait]
impl Transport for SandboxPartner {
    async fn send(
        &self,
        request: PartnerRequest,
    ) -> std::result::Result<PartnerResponse, PartnerError> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let n = self.count.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail_every.is_some_and(|every| n.is_multiple_of(every)) {
            return Err(PartnerError::Unreachable(format!(
                "sandbox: failing request {n}"
            )));
        }
        Ok((self.handler)(request).await)
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }
}

platform_over_transport!(SandboxPartner);

/// One configured partner with its client and cached metadata.
struct Partner {
    config: PartnerConfig,
    mapping: LevelMapping,
    platform: Arc<dyn PartnerPlatform>,
    info: RwLock<Option<(tokio::time::Instant, Arc<ProviderInfo>)>>,
}

/// The configured partners, by name.
#[derive(Default)]
pub(crate) struct Partners(BTreeMap<String, Arc<Partner>>);

impl Partners {
    /// The registry of `partners`; a later partner of the same name replaces an earlier one.
    pub(crate) fn new(partners: Vec<(PartnerConfig, Arc<dyn PartnerPlatform>)>) -> Partners {
        Partners(
            partners
                .into_iter()
                .map(|(config, platform)| {
                    let partner = Partner {
                        mapping: config.mapping(),
                        config,
                        platform,
                        info: RwLock::new(None),
                    };
                    (partner.config.name.clone(), Arc::new(partner))
                })
                .collect(),
        )
    }
}

impl Partner {
    /// The partner's metadata and keys: cached, or fetched when missing, stale or `refresh`.
    async fn info(&self, refresh: bool) -> std::result::Result<Arc<ProviderInfo>, PartnerError> {
        if !refresh
            && let Some((at, info)) = self.info.read().await.as_ref()
            && at.elapsed() < DISCOVERY_TTL
        {
            return Ok(info.clone());
        }
        let info = Arc::new(self.platform.discover(&self.config.issuer).await?);
        *self.info.write().await = Some((tokio::time::Instant::now(), info.clone()));
        Ok(info)
    }
}

/// A partner sign-in that was started: kept in the person's session until the partner sends
/// them back. The secrets are hidden in `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingPartnerSignIn {
    /// The partner's short name.
    pub partner: String,
    /// The `state` sent, compared with the one returned.
    pub state: String,
    /// The `nonce` sent, compared with the ID token's.
    pub nonce: String,
    /// The PKCE code verifier.
    pub pkce_verifier: String,
    /// When it started, seconds since the epoch.
    pub started_at: i64,
}

impl fmt::Debug for PendingPartnerSignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingPartnerSignIn")
            .field("partner", &self.partner)
            .field("started_at", &self.started_at)
            .finish_non_exhaustive()
    }
}

/// What the partner sent back to the callback.
#[derive(Clone, Default, Deserialize)]
pub struct PartnerCallback {
    /// The authorization code.
    pub code: Option<String>,
    /// The `state` returned.
    pub state: Option<String>,
    /// The issuer (RFC 9207), when the partner sends it.
    pub iss: Option<String>,
    /// An OAuth error instead of a code (`access_denied` when the person declined).
    pub error: Option<String>,
}

impl fmt::Debug for PartnerCallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartnerCallback")
            .field("iss", &self.iss)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

/// A completed partner sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerSignedIn {
    /// The account signed in (linked or created).
    pub account_id: AccountId,
    /// The level of this sign-in: the mapped level (never above the partner's assertion).
    pub level: AssuranceLevel,
    /// The partner's short name.
    pub partner: String,
    /// Whether the account was created by this sign-in.
    pub created: bool,
}

/// A configured partner as shown to people (the sign-in page's list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartnerSummary {
    /// Short name (`/sign-in/partner/{name}`).
    pub name: String,
    /// Name shown.
    pub display_name: String,
}

/// The facts of a verified ID token that onetrip uses.
#[derive(Debug, Clone, PartialEq, Eq)]
struct IdTokenFacts {
    sub: String,
    acr: Option<String>,
}

/// Why an ID token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
enum IdTokenProblem {
    /// It names a key the set does not have (fetch the keys again, once).
    UnknownKey,
    /// Anything else.
    Invalid(&'static str),
}

#[derive(Deserialize)]
struct IdClaims {
    iss: String,
    sub: String,
    aud: serde_json::Value,
    exp: i64,
    iat: i64,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    acr: Option<String>,
    #[serde(default)]
    azp: Option<String>,
}

/// Verifies an ID token: signature by a key of `jwks` (asymmetric algorithms only), issuer,
/// audience (and `azp` when there are several), expiry and issue time with
/// [`CLOCK_LEEWAY_SECS`], and nonce.
fn verify_id_token(
    token: &str,
    jwks: &serde_json::Value,
    issuer: &str,
    client_id: &str,
    nonce: &str,
    now: Timestamp,
) -> std::result::Result<IdTokenFacts, IdTokenProblem> {
    use IdTokenProblem::{Invalid, UnknownKey};
    let header = jsonwebtoken::decode_header(token).map_err(|_| Invalid("header"))?;
    if !ID_TOKEN_ALGORITHMS.contains(&header.alg) {
        return Err(Invalid("algorithm"));
    }
    // Keys that fail to parse (unknown key types) are skipped, not fatal.
    let keys: Vec<Jwk> = jwks
        .get("keys")
        .and_then(|k| k.as_array())
        .map(|keys| {
            keys.iter()
                .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
                .collect()
        })
        .unwrap_or_default();
    let jwk = match &header.kid {
        Some(kid) => keys
            .iter()
            .find(|k| k.common.key_id.as_deref() == Some(kid.as_str())),
        None if keys.len() == 1 => keys.first(),
        None => return Err(Invalid("no kid and several keys")),
    }
    .ok_or(UnknownKey)?;
    if jwk
        .common
        .key_algorithm
        .is_some_and(|alg| alg != jsonwebtoken::jwk::KeyAlgorithm::from(header.alg))
    {
        return Err(Invalid("key algorithm differs from the token's"));
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|_| Invalid("key"))?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[client_id]);
    validation.set_required_spec_claims(&["iss", "sub", "aud", "exp"]);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.leeway = 0;
    let data = jsonwebtoken::decode::<IdClaims>(token, &key, &validation)
        .map_err(|_| Invalid("signature or claims"))?;
    let claims = data.claims;
    if claims.iss != issuer {
        return Err(Invalid("issuer"));
    }
    let now = now.as_second();
    if claims.exp + CLOCK_LEEWAY_SECS <= now {
        return Err(Invalid("expired"));
    }
    if claims.iat > now + CLOCK_LEEWAY_SECS {
        return Err(Invalid("issued in the future"));
    }
    let several_audiences = claims.aud.as_array().is_some_and(|a| a.len() > 1);
    if (several_audiences || claims.azp.is_some()) && claims.azp.as_deref() != Some(client_id) {
        return Err(Invalid("azp"));
    }
    match &claims.nonce {
        Some(n) if constant_time_eq(n.as_bytes(), nonce.as_bytes()) => {}
        _ => return Err(Invalid("nonce")),
    }
    if claims.sub.is_empty() {
        return Err(Invalid("sub"));
    }
    Ok(IdTokenFacts {
        sub: claims.sub,
        acr: claims.acr,
    })
}

/// A failed completion: the refusal shown, the stage (for the log and the audit row) and the
/// detail (for the log only).
struct Failure {
    refusal: PartnerRefusal,
    stage: &'static str,
    detail: String,
}

fn fail(stage: &'static str, detail: impl fmt::Display) -> Failure {
    Failure {
        refusal: PartnerRefusal::SignInFailed,
        stage,
        detail: detail.to_string(),
    }
}

enum Completion {
    Refused(Failure),
    Broken(AppError),
}

impl From<Failure> for Completion {
    fn from(f: Failure) -> Self {
        Completion::Refused(f)
    }
}

impl From<AppError> for Completion {
    fn from(e: AppError) -> Self {
        Completion::Broken(e)
    }
}

impl From<StoreError> for Completion {
    fn from(e: StoreError) -> Self {
        Completion::Broken(e.into())
    }
}

/// What the completion learnt before it succeeded or failed (for the audit row).
#[derive(Default)]
struct Facts {
    acr: Option<String>,
    account: Option<String>,
}

/// The PKCE `S256` challenge of `verifier`.
fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl App {
    /// The configured partner `name`.
    fn partner(&self, name: &str) -> Option<Arc<Partner>> {
        self.partners.0.get(name).cloned()
    }

    /// The configured partners, for the sign-in page.
    pub fn partner_summaries(&self) -> Vec<PartnerSummary> {
        self.partners
            .0
            .values()
            .map(|p| PartnerSummary {
                name: p.config.name.clone(),
                display_name: p.config.display_name.clone(),
            })
            .collect()
    }

    /// Starts a sign-in through partner `name`: returns the partner's authorization URL to
    /// send the person to, and what to keep in their session until they come back to
    /// `redirect_uri` (which must be registered for our client at the partner).
    pub async fn begin_partner_sign_in(
        &self,
        name: &str,
        redirect_uri: &str,
        now: Timestamp,
    ) -> Result<(String, PendingPartnerSignIn)> {
        let partner = self
            .partner(name)
            .ok_or_else(|| AppError::refused(&PartnerRefusal::UnknownPartner))?;
        let info = partner.info(false).await.map_err(|e| {
            tracing::warn!(partner = name, stage = "discovery", error = %e, "partner sign-in could not start");
            AppError::refused(&PartnerRefusal::SignInFailed)
        })?;
        let pending = PendingPartnerSignIn {
            partner: name.to_owned(),
            state: random_secret()?,
            nonce: random_secret()?,
            pkce_verifier: random_secret()?,
            started_at: now.as_second(),
        };
        let challenge = pkce_challenge(&pending.pkce_verifier);
        let url = with_query(
            &info.authorization_endpoint,
            &[
                ("response_type", "code"),
                ("client_id", &partner.config.client_id),
                ("redirect_uri", redirect_uri),
                ("scope", &partner.config.scopes),
                ("state", &pending.state),
                ("nonce", &pending.nonce),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        );
        tracing::info!(partner = name, "partner sign-in started");
        Ok((url, pending))
    }

    /// Completes a sign-in through a partner: checks `state`, exchanges the code, verifies the
    /// ID token, reads the claims, maps the level, and links or creates the account (see the
    /// module documentation). Every attempt is recorded in the sign-in history. Refusals are
    /// [`AppError::Refused`] with a [`PartnerRefusal`] code; storage failures are themselves.
    pub async fn complete_partner_sign_in(
        &self,
        pending: &PendingPartnerSignIn,
        callback: &PartnerCallback,
        redirect_uri: &str,
        ip: Option<IpAddr>,
        now: Timestamp,
    ) -> Result<PartnerSignedIn> {
        let Some(partner) = self.partner(&pending.partner) else {
            return Err(AppError::refused(&PartnerRefusal::UnknownPartner));
        };
        let mut facts = Facts::default();
        let outcome = self
            .complete(&partner, pending, callback, redirect_uri, now, &mut facts)
            .await;
        let method = format!("partner:{}", partner.config.name);
        let mut detail = serde_json::json!({
            "partner": partner.config.name,
            "acr": facts.acr,
        });
        let (succeeded, result) = match outcome {
            Ok(signed) => {
                detail["level"] = signed.level.to_string().into();
                detail["created"] = signed.created.into();
                tracing::info!(
                    partner = %partner.config.name,
                    account = %signed.account_id,
                    level = %signed.level,
                    created = signed.created,
                    "partner sign-in"
                );
                (true, Ok(signed))
            }
            Err(Completion::Refused(f)) => {
                detail["failed"] = f.stage.into();
                tracing::warn!(
                    partner = %partner.config.name,
                    stage = f.stage,
                    code = f.refusal.code(),
                    error = %f.detail,
                    "partner sign-in refused"
                );
                (false, Err(AppError::refused(&f.refusal)))
            }
            Err(Completion::Broken(e)) => return Err(e),
        };
        self.db
            .record_auth_event(&AuthEvent {
                method,
                succeeded,
                ip: ip.map(|ip| ip.to_string()),
                detail: Some(detail.to_string()),
                ..AuthEvent::new(
                    "sign_in",
                    AccountKind::Citizen,
                    facts.account.as_deref(),
                    now,
                )
            })
            .await?;
        result
    }

    async fn complete(
        &self,
        partner: &Partner,
        pending: &PendingPartnerSignIn,
        callback: &PartnerCallback,
        redirect_uri: &str,
        now: Timestamp,
        facts: &mut Facts,
    ) -> std::result::Result<PartnerSignedIn, Completion> {
        let config = &partner.config;
        let returned = callback.state.as_deref().unwrap_or_default();
        if !constant_time_eq(returned.as_bytes(), pending.state.as_bytes()) {
            return Err(fail("state", "state does not match").into());
        }
        if now.as_second() - pending.started_at > PENDING_TTL_SECS {
            return Err(fail("state", "sign-in started too long ago").into());
        }
        if let Some(error) = &callback.error {
            let error: String = error
                .chars()
                .filter(|c| c.is_ascii_graphic())
                .take(64)
                .collect();
            return Err(fail("authorize", format!("partner answered error={error}")).into());
        }
        let code = callback
            .code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| fail("authorize", "no code"))?;
        let mut info = partner
            .info(false)
            .await
            .map_err(|e| fail("discovery", e))?;
        if let Some(iss) = &callback.iss
            && iss != &info.issuer
        {
            return Err(fail("authorize", "iss parameter is not the partner's issuer").into());
        }
        let tokens = partner
            .platform
            .exchange_code(
                &info,
                &config.client_id,
                &config.client_secret,
                code,
                redirect_uri,
                &pending.pkce_verifier,
            )
            .await
            .map_err(|e| fail("token", e))?;
        let id_token = tokens
            .id_token
            .as_deref()
            .ok_or_else(|| fail("token", "no id_token"))?;
        let verify = |info: &ProviderInfo| {
            verify_id_token(
                id_token,
                &info.jwks,
                &info.issuer,
                &config.client_id,
                &pending.nonce,
                now,
            )
        };
        let id = match verify(&info) {
            Err(IdTokenProblem::UnknownKey) => {
                // The partner may have rotated its keys since they were cached.
                info = partner.info(true).await.map_err(|e| fail("discovery", e))?;
                verify(&info)
            }
            other => other,
        }
        .map_err(|p| {
            fail(
                "id_token",
                match p {
                    IdTokenProblem::UnknownKey => "signed with an unknown key",
                    IdTokenProblem::Invalid(why) => why,
                },
            )
        })?;
        facts.acr = id.acr.clone();
        let claims = partner
            .platform
            .userinfo(&info, &tokens.access_token)
            .await
            .map_err(|e| fail("userinfo", e))?;
        let claim = |name: &str| claims.get(name).and_then(|v| v.as_str());
        if claim("sub") != Some(id.sub.as_str()) {
            return Err(fail("userinfo", "sub differs from the ID token's").into());
        }
        let resident_id = ResidentId::parse(
            claim("id_number").ok_or_else(|| fail("userinfo", "no id_number"))?,
            china_today(now),
        )
        .map_err(|e| fail("userinfo", format!("id_number invalid ({})", e.code())))?;
        let level = id
            .acr
            .as_deref()
            .and_then(|acr| mapped_level(&partner.mapping, acr))
            .ok_or(Failure {
                refusal: PartnerRefusal::LevelUnmapped,
                stage: "level",
                detail: "acr missing or not in the mapping".to_owned(),
            })?;
        if let Some(person) = self.db.person_by_resident_id(resident_id.expose()).await? {
            return self.link(person, level, &config.name, facts).await;
        }
        let name = claim("name")
            .map(str::trim)
            .filter(|n| !n.is_empty() && n.chars().count() <= MAX_NAME_CHARS)
            .ok_or_else(|| fail("userinfo", "no usable name to create the account"))?;
        if claims.get("phone_number_verified") == Some(&serde_json::Value::Bool(false)) {
            return Err(fail("userinfo", "phone number not verified").into());
        }
        let phone = claim("phone_number")
            .and_then(normalize_phone)
            .ok_or_else(|| fail("userinfo", "no usable mainland mobile number"))?;
        let new = NewPerson {
            resident_id: resident_id.expose().to_owned(),
            name: name.to_owned(),
            phone,
            email: None,
            assurance_level: level,
            password_hash: None,
        };
        match self.db.insert_person(&new, now).await {
            Ok(id) => {
                facts.account = Some(id.clone());
                Ok(PartnerSignedIn {
                    account_id: AccountId::new(id),
                    level,
                    partner: config.name.clone(),
                    created: true,
                })
            }
            Err(StoreError::Conflict(columns)) if columns.contains(&"resident_id") => {
                // Created by a concurrent sign-in of the same person: link to it.
                let person = self
                    .db
                    .person_by_resident_id(resident_id.expose())
                    .await?
                    .ok_or_else(|| fail("link", "conflicting account vanished"))?;
                self.link(person, level, &config.name, facts).await
            }
            Err(StoreError::Conflict(_)) => Err(Failure {
                refusal: PartnerRefusal::PhoneTaken,
                stage: "create",
                detail: "phone number belongs to another account".to_owned(),
            }
            .into()),
            Err(e) => Err(e.into()),
        }
    }

    /// Signs in to the existing account `person` (same resident ID number) at `level`, raising
    /// its stored level when the partner vouched for more; refused below
    /// [`onetrip_domain::identity::LINK_MIN_LEVEL`].
    async fn link(
        &self,
        person: onetrip_store::PersonRow,
        level: AssuranceLevel,
        partner: &str,
        facts: &mut Facts,
    ) -> std::result::Result<PartnerSignedIn, Completion> {
        facts.account = Some(person.id.clone());
        if !may_link(level) {
            return Err(Failure {
                refusal: PartnerRefusal::LinkNeedsVerifiedIdentity,
                stage: "link",
                detail: format!("existing account, partner level {level}"),
            }
            .into());
        }
        if person.assurance_level < level {
            self.db.set_assurance_level(&person.id, level).await?;
        }
        Ok(PartnerSignedIn {
            account_id: AccountId::new(person.id),
            level,
            partner: partner.to_owned(),
            created: false,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://zwfw.js.example.gov.cn";

    fn config_toml(extra: &str) -> String {
        format!(
            "[[partners]]\nname = \"js\"\ndisplay_name = \"江苏政务服务网\"\nissuer = \"{ISSUER}\"\n\
             client_id = \"c-abc\"\nclient_secret = \"very-secret-123\"\n{extra}\
             levels = {{ \"urn:onetrip:loa:2\" = \"L2\", \"urn:onetrip:loa:3\" = \"L3\" }}\n"
        )
    }

    #[test]
    fn partners_are_configured_in_toml_with_the_secret_hidden() {
        let c = crate::Config::from_toml(&config_toml("")).unwrap();
        assert_eq!(c.partners.len(), 1);
        let p = &c.partners[0];
        assert_eq!(p.scopes, DEFAULT_SCOPES);
        assert_eq!(
            p.mapping().configured("urn:onetrip:loa:3"),
            Some(AssuranceLevel::L3)
        );
        check_partners(&c.partners).unwrap();
        let debug = format!("{c:?}");
        assert!(!debug.contains("very-secret-123"), "{debug}");
        let shown = c.to_display_toml();
        assert!(!shown.contains("very-secret-123"), "{shown}");
        assert!(shown.contains("[[partners]]"), "{shown}");
        assert!(shown.contains("client_secret = \"[hidden]\""), "{shown}");
        assert!(shown.contains("江苏政务服务网"), "{shown}");
        // Without partners the displayed configuration does not mention them.
        assert!(
            !crate::Config::default()
                .to_display_toml()
                .contains("partners")
        );
        assert!(crate::Config::from_toml(&config_toml("colour = \"red\"\n")).is_err());
    }

    #[test]
    fn bad_partner_configurations_are_refused() {
        let good = crate::Config::from_toml(&config_toml("")).unwrap().partners[0].clone();
        let with = |f: &dyn Fn(&mut PartnerConfig)| {
            let mut p = good.clone();
            f(&mut p);
            p.check()
        };
        assert!(with(&|p| p.name = "JS".into()).is_err());
        assert!(with(&|p| p.name = "js/x".into()).is_err());
        assert!(with(&|p| p.name = String::new()).is_err());
        assert!(with(&|p| p.issuer = "http://zwfw.js.example.gov.cn".into()).is_err());
        assert!(with(&|p| p.issuer = "https://x.example/?a=b".into()).is_err());
        assert!(with(&|p| p.issuer = "http://127.0.0.1:8081".into()).is_ok());
        assert!(with(&|p| p.issuer = "http://localhost:8081".into()).is_ok());
        assert!(with(&|p| p.scopes = "openid profile".into()).is_err());
        assert!(with(&|p| p.levels.clear()).is_err());
        assert!(with(&|p| p.client_secret = SecretString::from("")).is_err());
        assert!(check_partners(&[good.clone(), good]).is_err());
    }

    struct Signer {
        key: jsonwebtoken::EncodingKey,
        kid: String,
        jwks: serde_json::Value,
    }

    fn signer(kid: &str) -> Signer {
        use p256::pkcs8::{EncodePrivateKey, LineEnding};
        let secret = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
        let pem = secret.to_pkcs8_pem(LineEnding::LF).unwrap();
        let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(
            &secret.public_key(),
            false,
        );
        let x = URL_SAFE_NO_PAD.encode(point.x().unwrap());
        let y = URL_SAFE_NO_PAD.encode(point.y().unwrap());
        Signer {
            key: jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
            kid: kid.to_owned(),
            jwks: serde_json::json!({"keys": [
                {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
                {"kty": "EC", "use": "sig", "alg": "ES256", "crv": "P-256", "kid": kid, "x": x, "y": y}
            ]}),
        }
    }

    fn sign(s: &Signer, claims: &serde_json::Value) -> String {
        let mut header = jsonwebtoken::Header::new(Algorithm::ES256);
        header.kid = Some(s.kid.clone());
        jsonwebtoken::encode(&header, claims, &s.key).unwrap()
    }

    fn claims(now: Timestamp) -> serde_json::Value {
        serde_json::json!({
            "iss": ISSUER, "sub": "acct-1", "aud": "c-abc", "azp": "c-abc",
            "exp": now.as_second() + 600, "iat": now.as_second(),
            "nonce": "n-1", "acr": "urn:onetrip:loa:2",
        })
    }

    #[test]
    fn id_tokens_are_verified_strictly() {
        let now = Timestamp::now();
        let s = signer("k1");
        let verify = |token: &str| verify_id_token(token, &s.jwks, ISSUER, "c-abc", "n-1", now);
        let facts = verify(&sign(&s, &claims(now))).unwrap();
        assert_eq!(facts.sub, "acct-1");
        assert_eq!(facts.acr.as_deref(), Some("urn:onetrip:loa:2"));

        let changed = |key: &str, value: serde_json::Value| {
            let mut c = claims(now);
            c[key] = value;
            verify(&sign(&s, &c))
        };
        assert!(changed("aud", "c-other".into()).is_err(), "audience");
        assert!(
            changed("iss", "https://evil.example".into()).is_err(),
            "issuer"
        );
        assert!(changed("nonce", "n-2".into()).is_err(), "nonce");
        assert!(
            changed("exp", (now.as_second() - 61).into()).is_err(),
            "expired"
        );
        assert!(
            changed("exp", (now.as_second() - 30).into()).is_ok(),
            "skew"
        );
        assert!(
            changed("iat", (now.as_second() + 3600).into()).is_err(),
            "future"
        );
        assert!(changed("azp", "c-other".into()).is_err(), "azp");
        assert!(
            changed("aud", serde_json::json!(["c-abc", "c-other"])).is_ok(),
            "several audiences with our azp"
        );
        let mut c = claims(now);
        c.as_object_mut().unwrap().remove("nonce");
        assert!(verify(&sign(&s, &c)).is_err(), "nonce required");

        // Another key with the same kid: the signature fails.
        let other = signer("k1");
        assert_eq!(
            verify(&sign(&other, &claims(now))),
            Err(IdTokenProblem::Invalid("signature or claims"))
        );
        // A key the set does not have: fetch the keys again.
        let rotated = signer("k2");
        assert_eq!(
            verify(&sign(&rotated, &claims(now))),
            Err(IdTokenProblem::UnknownKey)
        );
        // A tampered payload.
        let token = sign(&s, &claims(now));
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        payload["acr"] = "urn:onetrip:loa:3".into();
        parts[1] = URL_SAFE_NO_PAD.encode(payload.to_string());
        assert!(verify(&parts.join(".")).is_err());
        // Symmetric algorithms are never accepted, even with a shared key in the set.
        let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
        header.kid = Some("hmac".into());
        let hs = jsonwebtoken::encode(
            &header,
            &claims(now),
            &jsonwebtoken::EncodingKey::from_secret(b"secret"),
        )
        .unwrap();
        assert_eq!(verify(&hs), Err(IdTokenProblem::Invalid("algorithm")));
        assert!(verify("not.a.token").is_err());
    }

    /// A sandbox answering from a fixed table of `(path, status, body)`.
    fn table(routes: Vec<(&'static str, u16, serde_json::Value)>) -> SandboxPartner {
        let routes = Arc::new(routes);
        SandboxPartner::new(Arc::new(move |request: PartnerRequest| {
            let routes = routes.clone();
            Box::pin(async move {
                let path = request.uri().path().to_owned();
                let (status, body) = routes
                    .iter()
                    .find(|(p, _, _)| *p == path)
                    .map(|(_, s, b)| (*s, b.to_string()))
                    .unwrap_or((404, "{\"error\":\"not_found\"}".to_owned()));
                http::Response::builder()
                    .status(status)
                    .body(body.into_bytes())
                    .unwrap()
            })
        }))
    }

    fn discovery(issuer: &str, token_endpoint: &str) -> serde_json::Value {
        serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/oauth2/authorize"),
            "token_endpoint": token_endpoint,
            "userinfo_endpoint": format!("{issuer}/oauth2/userinfo"),
            "jwks_uri": format!("{issuer}/oauth2/jwks"),
        })
    }

    #[tokio::test]
    async fn the_sandbox_behaves_like_a_real_partner() {
        let issuer = "http://partner.test";
        let ok = table(vec![
            (
                "/.well-known/openid-configuration",
                200,
                discovery(issuer, "http://partner.test/oauth2/token"),
            ),
            ("/oauth2/jwks", 200, serde_json::json!({"keys": []})),
            (
                "/oauth2/token",
                400,
                serde_json::json!({"error": "invalid_grant", "error_description": "used"}),
            ),
            (
                "/oauth2/userinfo",
                401,
                serde_json::json!({"error": "invalid_token"}),
            ),
        ]);
        let info = ok.discover(issuer).await.unwrap();
        assert_eq!(info.token_endpoint, "http://partner.test/oauth2/token");
        let secret = SecretString::from("s");
        let e = ok
            .exchange_code(&info, "c", &secret, "code", "https://a/cb", "v")
            .await
            .unwrap_err();
        assert_eq!(
            e,
            PartnerError::Status {
                what: "token",
                status: 400,
                error: Some("invalid_grant".into())
            }
        );
        assert!(matches!(
            ok.userinfo(&info, "t").await,
            Err(PartnerError::Status { status: 401, .. })
        ));
        // The issuer must be the configured one; endpoints must be https or on its origin.
        assert!(ok.discover("http://other.test").await.is_err());
        let elsewhere = table(vec![(
            "/.well-known/openid-configuration",
            200,
            discovery(issuer, "http://evil.test/token"),
        )]);
        assert!(matches!(
            elsewhere.discover(issuer).await,
            Err(PartnerError::Malformed {
                what: "discovery",
                ..
            })
        ));
        // Outages and latency.
        let flaky = table(vec![]).fail_every(2);
        assert!(matches!(
            flaky.discover(issuer).await,
            Err(PartnerError::Status { status: 404, .. })
        ));
        assert!(matches!(
            flaky.discover(issuer).await,
            Err(PartnerError::Unreachable(_))
        ));
        let slow = table(vec![])
            .with_delay(Duration::from_millis(200))
            .with_timeout(Duration::from_millis(50));
        assert!(matches!(
            slow.discover(issuer).await,
            Err(PartnerError::Timeout(_))
        ));
    }

    #[test]
    fn pending_sign_ins_hide_their_secrets() {
        let p = PendingPartnerSignIn {
            partner: "js".into(),
            state: "state-secret".into(),
            nonce: "nonce-secret".into(),
            pkce_verifier: "verifier-secret".into(),
            started_at: 0,
        };
        let debug = format!("{p:?}");
        assert!(!debug.contains("secret"), "{debug}");
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
