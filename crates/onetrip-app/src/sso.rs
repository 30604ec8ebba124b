//! Single sign-on: onetrip as an OpenID Connect provider (统一登录) for department systems.
//!
//! Decisions (the pure rules are in [`onetrip_domain::sso`]):
//! - **Signing keys:** ID tokens are signed with RS256, the algorithm every relying party
//!   library accepts by default (OIDC Core §15.1 makes it mandatory to implement); access tokens
//!   are JWTs (RFC 9068, `typ` `at+jwt`) signed with EdDSA (Ed25519), which is about a hundred
//!   times cheaper to sign than RS256 and eight times cheaper than ES256 with the pure-Rust
//!   curve implementations (measured: docs/BENCHMARKS.md), with the key parsed once, not per
//!   token. Only onetrip reads its access tokens; department systems treat them as opaque. The
//!   ID token's RS256 is what relying parties need; it is signed only at the code exchange.
//!   Keys are generated on first use and stored in the
//!   database so that every replica signs with the same keys; [`App::rotate_signing_keys`]
//!   makes new ones and keeps the old ones published (in the JWKS) for a day, so tokens they
//!   signed stay verifiable.
//! - **Codes and refresh tokens** are 256-bit random strings stored as SHA-256 digests. A code
//!   lives 60 s and is spent by one atomic update, so it works once however many requests
//!   race. Refresh tokens rotate on every use; a spent token presented again revokes its
//!   whole family (see the domain rules).
//! - **Client secrets** are 256-bit random strings shown once at registration and stored as
//!   digests, compared in constant time: a slow password hash would buy nothing against
//!   256 bits and would cap the token endpoint at a few dozen grants per second.
//! - **Access tokens** live 10 minutes and are not looked up on use: revoking a grant stops
//!   its refresh tokens at once and its access tokens within 10 minutes. Decisions that must
//!   take effect at once (delegations) are checked against the database on every request.
//! - **ID tokens on refresh:** the refresh response carries a new access token and refresh
//!   token but no new ID token (allowed by OIDC Core §12.2); the user's authentication has not
//!   changed.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::{SignedDuration, Timestamp};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use onetrip_domain::identity::{AssuranceLevel, constant_time_eq, secret_digest};
use onetrip_domain::sso::{
    ACCESS_TOKEN_TTL_SECS, CODE_TTL_SECS, ID_TOKEN_TTL_SECS, REFRESH_TOKEN_TTL_SECS,
    RefreshDecision, RefreshState, Scope, Scopes, SsoError, check_redirect_uri, decide_refresh,
    pkce_challenge_well_formed, pkce_matches, redirect_uri_registered,
};
use onetrip_store::{ClientRow, CodeRow, GrantFacts, RefreshRow, SigningKeyRow, StoreError};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use crate::{App, AppError, FieldProblem, Result};

/// The audience of onetrip's access tokens: its own API.
pub const API_AUDIENCE: &str = "urn:onetrip:api";

/// Grant types onetrip supports.
pub const GRANT_TYPES: [&str; 3] = ["authorization_code", "refresh_token", "client_credentials"];

/// How long a retired key stays published.
const RETIRED_KEY_GRACE: SignedDuration = SignedDuration::from_hours(24);

/// A random 256-bit secret, base64url.
pub fn random_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("randomness: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The signing keys in use and the ones still published.
pub(crate) struct Keys {
    id_token: (String, EncodingKey),
    access_token: (String, ed25519_dalek::SigningKey),
    /// ID-token keys (RS256), for `id_token_hint`.
    decoding: HashMap<String, (Algorithm, DecodingKey)>,
    /// Access-token keys (EdDSA), parsed once.
    access_verifying: HashMap<String, ed25519_dalek::VerifyingKey>,
    jwks: serde_json::Value,
}

/// The provider's state shared by every request: the keys, loaded on first use.
#[derive(Default)]
pub(crate) struct ProviderState {
    keys: RwLock<Option<Arc<Keys>>>,
    /// Client rows read at the token endpoint, kept for [`CLIENT_CACHE_TTL`]: a grant then
    /// costs no database read for the client. Changes made through this replica drop the
    /// entry at once; another replica's change (a new secret, a disabled client) takes effect
    /// here within the TTL.
    clients: std::sync::Mutex<HashMap<String, (std::time::Instant, Arc<ClientRow>)>>,
}

/// How long a client row read at the token endpoint is reused.
const CLIENT_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// A client registration, as an administrator submits it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterClient {
    /// Display name (shown on the consent page).
    pub name: String,
    /// Redirect URIs, matched exactly.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URIs, matched exactly.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Grant types.
    pub grant_types: Vec<String>,
    /// Scopes the client may request.
    pub scopes: Vec<String>,
    /// Public client (PKCE only, no secret), for apps that cannot keep a secret.
    #[serde(default)]
    pub public: bool,
    /// The department whose system this is.
    #[serde(default)]
    pub department_code: Option<String>,
}

/// A registered client, with its secret shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct RegisteredClient {
    /// `client_id`.
    pub client_id: String,
    /// The secret, `None` for a public client. Shown only at registration.
    pub client_secret: Option<String>,
}

/// A client as listed to administrators (never with its secret).
#[derive(Debug, Clone, Serialize)]
pub struct ClientView {
    /// `client_id`.
    pub client_id: String,
    /// Name.
    pub name: String,
    /// Whether it has a secret.
    pub confidential: bool,
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// Grant types.
    pub grant_types: Vec<String>,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Department.
    pub department_code: Option<String>,
    /// Disabled.
    pub disabled: bool,
}

impl From<ClientRow> for ClientView {
    fn from(c: ClientRow) -> Self {
        ClientView {
            client_id: c.client_id,
            name: c.name,
            confidential: c.secret_digest.is_some(),
            redirect_uris: c.redirect_uris,
            post_logout_redirect_uris: c.post_logout_redirect_uris,
            grant_types: c.grant_types,
            scopes: c.scopes,
            department_code: c.department_code,
            disabled: c.disabled,
        }
    }
}

/// The parameters of an authorization request (`/oauth2/authorize`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizeParams {
    /// `response_type`.
    pub response_type: Option<String>,
    /// `client_id`.
    pub client_id: Option<String>,
    /// `redirect_uri`.
    pub redirect_uri: Option<String>,
    /// `scope`.
    pub scope: Option<String>,
    /// `state`.
    pub state: Option<String>,
    /// `nonce`.
    pub nonce: Option<String>,
    /// `code_challenge`.
    pub code_challenge: Option<String>,
    /// `code_challenge_method`.
    pub code_challenge_method: Option<String>,
    /// `prompt`.
    pub prompt: Option<String>,
    /// `acr_values`: the lowest level the client asks for.
    pub acr_values: Option<String>,
    /// `max_age`.
    pub max_age: Option<i64>,
}

/// An authorization request that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    /// The client.
    pub client_id: String,
    /// Its display name.
    pub client_name: String,
    /// The redirect URI (registered).
    pub redirect_uri: String,
    /// Scopes.
    pub scopes: Scopes,
    /// `state`, echoed back.
    pub state: Option<String>,
    /// `nonce`, put in the ID token.
    pub nonce: Option<String>,
    /// PKCE challenge.
    pub code_challenge: String,
    /// `prompt` values.
    pub prompt: Vec<String>,
    /// The level the client asks for.
    pub acr: Option<AssuranceLevel>,
    /// `max_age` in seconds.
    pub max_age: Option<i64>,
}

/// Why an authorization request fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The client or redirect URI is unknown: the error is shown to the user, never redirected
    /// (RFC 6749 §4.1.2.1), so that onetrip is not an open redirector.
    Show(SsoError),
    /// Anything else: sent back to the (verified) redirect URI.
    Redirect {
        /// Where.
        redirect_uri: String,
        /// The error.
        error: SsoError,
        /// `state`, echoed back.
        state: Option<String>,
    },
}

/// Who signed in, as an authorization code records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedUser {
    /// The person's account id (the `sub`).
    pub account_id: String,
    /// Level.
    pub level: AssuranceLevel,
    /// Methods used (`pwd`, `sms`, `otp`, `face`…).
    pub amr: Vec<String>,
    /// When they authenticated.
    pub auth_time: Timestamp,
    /// The organisation they act for.
    pub acting_for: Option<String>,
    /// The web session (for logout).
    pub session_ref: Option<String>,
}

/// How a client authenticated at the token endpoint.
#[derive(Clone, Default)]
pub struct ClientCredentials {
    /// `client_id` (from Basic or the body).
    pub client_id: Option<String>,
    /// The secret, if any.
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<secret>"),
            )
            .finish()
    }
}

/// A token request (`/oauth2/token`), form fields.
#[derive(Clone, Default, Deserialize)]
pub struct TokenParams {
    /// `grant_type`.
    pub grant_type: Option<String>,
    /// `code`.
    pub code: Option<String>,
    /// `redirect_uri`.
    pub redirect_uri: Option<String>,
    /// `code_verifier`.
    pub code_verifier: Option<String>,
    /// `refresh_token`.
    pub refresh_token: Option<String>,
    /// `scope`.
    pub scope: Option<String>,
    /// `client_id` (client_secret_post or public clients).
    pub client_id: Option<String>,
    /// `client_secret` (client_secret_post).
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for TokenParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenParams")
            .field("grant_type", &self.grant_type)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// A token response (RFC 6749 §5.1).
#[derive(Clone, Serialize)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Granted scopes.
    pub scope: String,
    /// A refresh token, with `offline_access`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The ID token, for `openid` authorization-code grants.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer.
    pub iss: String,
    /// The account id, or the client id for client-credentials tokens.
    pub sub: String,
    /// Audience: [`API_AUDIENCE`].
    pub aud: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// Scopes, space-separated.
    pub scope: String,
    /// Issued at.
    pub iat: i64,
    /// Expiry.
    pub exp: i64,
    /// Unique id.
    pub jti: String,
    /// The level (user tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// The organisation the user acts for (user tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
}

impl AccessClaims {
    /// Whether this is a client-credentials (machine) token.
    pub fn is_client_token(&self) -> bool {
        self.acr.is_none() && self.sub == self.client_id
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct IdClaims {
    iss: String,
    sub: String,
    aud: String,
    exp: i64,
    iat: i64,
    auth_time: i64,
    acr: String,
    amr: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    azp: Option<String>,
}

/// A verified logout request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logout {
    /// Where to send the user afterwards (registered), with `state` appended by the caller.
    pub redirect_to: Option<String>,
    /// The session named by the ID token.
    pub session_ref: Option<String>,
}

fn invalid_client_field(message_zh: &str, message_en: &str) -> AppError {
    AppError::Rejected(vec![FieldProblem {
        path: "client".to_owned(),
        code: "client_invalid",
        message_zh: message_zh.to_owned(),
        message_en: message_en.to_owned(),
    }])
}

impl App {
    /// The issuer identifier (the public base URL, no trailing slash).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    async fn keys(&self, now: Timestamp) -> Result<Arc<Keys>> {
        if let Some(keys) = self.sso.keys.read().await.as_ref() {
            return Ok(keys.clone());
        }
        let mut slot = self.sso.keys.write().await;
        if let Some(keys) = slot.as_ref() {
            return Ok(keys.clone());
        }
        let keys = Arc::new(self.load_or_create_keys(now).await?);
        *slot = Some(keys.clone());
        Ok(keys)
    }

    async fn load_or_create_keys(&self, now: Timestamp) -> Result<Keys> {
        let mut rows = self.db.signing_keys().await?;
        for alg in ["RS256", "EdDSA"] {
            if !rows.iter().any(|k| k.alg == alg && k.retired_at.is_none()) {
                let row = generate_key(alg, now).await?;
                match self.db.insert_signing_key(&row).await {
                    Ok(()) | Err(StoreError::Conflict(_)) => {}
                    Err(e) => return Err(e.into()),
                }
                tracing::info!(kid = %row.kid, alg, "signing key created");
            }
        }
        rows = self.db.signing_keys().await?;
        keys_from_rows(&rows, now)
    }

    /// Makes new signing keys and retires the current ones (still published for a day).
    pub async fn rotate_signing_keys(&self, now: Timestamp) -> Result<()> {
        for row in self.db.signing_keys().await? {
            if row.retired_at.is_none() {
                self.db.retire_signing_key(&row.kid, now).await?;
            }
        }
        *self.sso.keys.write().await = None;
        self.keys(now).await?;
        Ok(())
    }

    /// The JSON Web Key Set (public keys only).
    pub async fn jwks(&self, now: Timestamp) -> Result<serde_json::Value> {
        Ok(self.keys(now).await?.jwks.clone())
    }

    /// The discovery document (OpenID Connect Discovery 1.0).
    pub fn discovery(&self) -> serde_json::Value {
        let iss = self.issuer();
        serde_json::json!({
            "issuer": iss,
            "authorization_endpoint": format!("{iss}/oauth2/authorize"),
            "token_endpoint": format!("{iss}/oauth2/token"),
            "userinfo_endpoint": format!("{iss}/oauth2/userinfo"),
            "jwks_uri": format!("{iss}/oauth2/jwks"),
            "end_session_endpoint": format!("{iss}/oauth2/logout"),
            "scopes_supported": Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": GRANT_TYPES,
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "code_challenge_methods_supported": ["S256"],
            "acr_values_supported": AssuranceLevel::ALL.iter().map(|l| l.acr()).collect::<Vec<_>>(),
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "sid", "name", "phone_number", "phone_number_verified", "id_number", "org_credit_code", "org_name"],
            "claims_parameter_supported": false,
            "request_parameter_supported": false,
            "ui_locales_supported": ["zh-CN", "en"],
        })
    }

    /// Registers a client (administrators only; the caller has checked). Every problem of the
    /// registration is reported at once.
    pub async fn register_client(
        &self,
        input: RegisterClient,
        now: Timestamp,
    ) -> Result<RegisteredClient> {
        let mut problems = Vec::new();
        let mut field = |path: &str, code: &'static str, zh: &str, en: &str| {
            problems.push(FieldProblem {
                path: path.to_owned(),
                code,
                message_zh: zh.to_owned(),
                message_en: en.to_owned(),
            })
        };
        let name = input.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            field(
                "name",
                "required",
                "请填写接入系统名称（不超过100个字符）",
                "Enter the system's name (at most 100 characters)",
            );
        }
        for (i, g) in input.grant_types.iter().enumerate() {
            if !GRANT_TYPES.contains(&g.as_str()) {
                field(
                    &format!("grant_types[{i}]"),
                    "unsupported_grant_type",
                    "不支持该授权方式：可选 authorization_code、refresh_token、client_credentials",
                    "Unsupported grant type: use authorization_code, refresh_token or client_credentials",
                );
            }
        }
        if input.grant_types.is_empty() {
            field(
                "grant_types",
                "required",
                "请至少选择一种授权方式",
                "Choose at least one grant type",
            );
        }
        let code_flow = input.grant_types.iter().any(|g| g == "authorization_code");
        if code_flow && input.redirect_uris.is_empty() {
            field(
                "redirect_uris",
                "required",
                "授权码方式须登记至少一个回调地址",
                "The authorization code flow needs at least one redirect URI",
            );
        }
        for (path, uris) in [
            ("redirect_uris", &input.redirect_uris),
            (
                "post_logout_redirect_uris",
                &input.post_logout_redirect_uris,
            ),
        ] {
            for (i, uri) in uris.iter().enumerate() {
                if check_redirect_uri(uri).is_err() {
                    field(
                        &format!("{path}[{i}]"),
                        "redirect_uri_invalid",
                        "回调地址须为完整的 https 地址（本机测试可用 http://127.0.0.1），且不含 #片段",
                        "A redirect URI must be an absolute https URI (http://127.0.0.1 for local testing) without a #fragment",
                    );
                }
            }
        }
        if input.public && input.grant_types.iter().any(|g| g == "client_credentials") {
            field(
                "public",
                "public_client_credentials",
                "公开客户端没有密钥，不能使用 client_credentials",
                "A public client has no secret, so it cannot use client_credentials",
            );
        }
        let scopes = match Scopes::parse(&input.scopes.join(" ")) {
            Ok(s) => s,
            Err(_) => {
                field(
                    "scopes",
                    "invalid_scope",
                    "权限范围中有未知的名称",
                    "A scope name is unknown",
                );
                Scopes::default()
            }
        };
        if !problems.is_empty() {
            return Err(AppError::Rejected(problems));
        }
        let client_id = format!("c-{}", &random_secret()?[..16]);
        let secret = if input.public {
            None
        } else {
            Some(random_secret()?)
        };
        let row = ClientRow {
            client_id: client_id.clone(),
            name,
            secret_digest: secret.as_deref().map(secret_digest),
            redirect_uris: input.redirect_uris,
            post_logout_redirect_uris: input.post_logout_redirect_uris,
            grant_types: input.grant_types,
            scopes: scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            department_code: input.department_code,
            created_at: now,
            disabled: false,
        };
        self.db.insert_client(&row).await?;
        tracing::info!(client = %client_id, "client registered");
        Ok(RegisteredClient {
            client_id,
            client_secret: secret,
        })
    }

    /// Every client.
    pub async fn list_clients(&self) -> Result<Vec<ClientView>> {
        Ok(self
            .db
            .list_clients()
            .await?
            .into_iter()
            .map(ClientView::from)
            .collect())
    }

    /// One client.
    pub async fn client_view(&self, client_id: &str) -> Result<ClientView> {
        self.db
            .client(client_id)
            .await?
            .map(ClientView::from)
            .ok_or_else(|| not_found_client(client_id))
    }

    /// Makes a new secret for a confidential client and returns it (shown this once).
    pub async fn reset_client_secret(&self, client_id: &str) -> Result<RegisteredClient> {
        let client = self
            .db
            .client(client_id)
            .await?
            .ok_or_else(|| not_found_client(client_id))?;
        if client.secret_digest.is_none() {
            return Err(invalid_client_field(
                "公开客户端没有密钥",
                "A public client has no secret",
            ));
        }
        let secret = random_secret()?;
        self.db
            .set_client_secret(client_id, &secret_digest(&secret))
            .await?;
        self.forget_client(client_id);
        Ok(RegisteredClient {
            client_id: client_id.to_owned(),
            client_secret: Some(secret),
        })
    }

    /// Enables or disables a client.
    pub async fn set_client_disabled(&self, client_id: &str, disabled: bool) -> Result<()> {
        if self.db.set_client_disabled(client_id, disabled).await? {
            self.forget_client(client_id);
            Ok(())
        } else {
            Err(not_found_client(client_id))
        }
    }

    /// Checks an authorization request.
    pub async fn check_authorization(
        &self,
        p: &AuthorizeParams,
    ) -> std::result::Result<AuthorizeRequest, AuthorizeError> {
        let client_id = p.client_id.as_deref().unwrap_or_default();
        let client = match self.db.client(client_id).await {
            Ok(Some(c)) if !c.disabled => c,
            _ => return Err(AuthorizeError::Show(SsoError::InvalidClient)),
        };
        let redirect_uri = p.redirect_uri.clone().unwrap_or_default();
        if !redirect_uri_registered(&client.redirect_uris, &redirect_uri) {
            return Err(AuthorizeError::Show(SsoError::InvalidRequest));
        }
        let fail = |error| AuthorizeError::Redirect {
            redirect_uri: redirect_uri.clone(),
            error,
            state: p.state.clone(),
        };
        if p.response_type.as_deref() != Some("code") {
            return Err(fail(SsoError::UnsupportedResponseType));
        }
        if !client.grant_types.iter().any(|g| g == "authorization_code") {
            return Err(fail(SsoError::UnauthorizedClient));
        }
        let scopes = Scopes::parse(p.scope.as_deref().unwrap_or_default())
            .map_err(|_| fail(SsoError::InvalidScope))?;
        let allowed = Scopes::parse(&client.scopes.join(" ")).unwrap_or_default();
        if !scopes.contains(Scope::Openid) || !scopes.is_subset_of(&allowed) {
            return Err(fail(SsoError::InvalidScope));
        }
        let challenge = p.code_challenge.clone().unwrap_or_default();
        if p.code_challenge_method.as_deref() != Some("S256")
            || !pkce_challenge_well_formed(&challenge)
        {
            return Err(fail(SsoError::InvalidRequest));
        }
        let acr = match p.acr_values.as_deref() {
            None | Some("") => None,
            Some(values) => values
                .split(' ')
                .filter_map(|v| AssuranceLevel::from_acr(v).ok())
                .min(),
        };
        Ok(AuthorizeRequest {
            client_id: client.client_id,
            client_name: client.name,
            redirect_uri,
            scopes,
            state: p.state.clone(),
            nonce: p.nonce.clone(),
            code_challenge: challenge,
            prompt: p
                .prompt
                .as_deref()
                .unwrap_or_default()
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            acr,
            max_age: p.max_age,
        })
    }

    /// Issues an authorization code for a checked request and a signed-in user; returns the
    /// URL to redirect to.
    pub async fn issue_code(
        &self,
        request: &AuthorizeRequest,
        user: &AuthenticatedUser,
        now: Timestamp,
    ) -> Result<String> {
        let code = random_secret()?;
        self.db
            .insert_code(&CodeRow {
                code_digest: secret_digest(&code),
                redirect_uri: request.redirect_uri.clone(),
                nonce: request.nonce.clone(),
                code_challenge: request.code_challenge.clone(),
                facts: GrantFacts {
                    client_id: request.client_id.clone(),
                    account_id: user.account_id.clone(),
                    scope: request.scopes.to_string(),
                    acr: user.level.acr().to_owned(),
                    amr: serde_json::to_string(&user.amr)
                        .map_err(|e| AppError::Internal(e.to_string()))?,
                    auth_time: user.auth_time,
                    acting_for: user.acting_for.clone(),
                    session_ref: user.session_ref.clone(),
                },
                expires_at: now + SignedDuration::from_secs(CODE_TTL_SECS),
            })
            .await?;
        let mut query = vec![("code", code.as_str())];
        if let Some(state) = &request.state {
            query.push(("state", state));
        }
        query.push(("iss", self.issuer()));
        Ok(with_query(&request.redirect_uri, &query))
    }

    /// The token endpoint.
    pub async fn token(
        &self,
        params: &TokenParams,
        credentials: &ClientCredentials,
        now: Timestamp,
    ) -> std::result::Result<TokenResponse, SsoError> {
        let client = self.authenticate_client(params, credentials).await?;
        let grant = params.grant_type.as_deref().unwrap_or_default();
        if !GRANT_TYPES.contains(&grant) {
            return Err(SsoError::UnsupportedGrantType);
        }
        if !client.grant_types.iter().any(|g| g == grant) {
            return Err(SsoError::UnauthorizedClient);
        }
        let result = match grant {
            "authorization_code" => self.code_grant(&client, params, now).await,
            "refresh_token" => self.refresh_grant(&client, params, now).await,
            _ => self.client_credentials_grant(&client, params, now).await,
        };
        result.map_err(|e| match e {
            TokenFailure::Oauth(e) => e,
            TokenFailure::Internal(e) => {
                tracing::error!(error = %e, "token endpoint failed");
                SsoError::InvalidRequest
            }
        })
    }

    async fn authenticate_client(
        &self,
        params: &TokenParams,
        credentials: &ClientCredentials,
    ) -> std::result::Result<Arc<ClientRow>, SsoError> {
        // Either HTTP Basic (credentials) or the form (client_secret_post / public), not both.
        let (id, secret) = match (&credentials.client_id, &params.client_secret) {
            (Some(_), Some(_)) => return Err(SsoError::InvalidRequest),
            (Some(id), None) => (id.clone(), credentials.client_secret.clone()),
            (None, _) => (
                params.client_id.clone().ok_or(SsoError::InvalidClient)?,
                params.client_secret.clone(),
            ),
        };
        let client = match self.cached_client(&id).await {
            Some(c) if !c.disabled => c,
            _ => return Err(SsoError::InvalidClient),
        };
        match (&client.secret_digest, secret) {
            (Some(digest), Some(secret))
                if constant_time_eq(secret_digest(&secret).as_bytes(), digest.as_bytes()) =>
            {
                Ok(client)
            }
            (None, None) => Ok(client),
            _ => Err(SsoError::InvalidClient),
        }
    }

    /// A client row for the token endpoint, from the cache when fresh.
    async fn cached_client(&self, id: &str) -> Option<Arc<ClientRow>> {
        let now = std::time::Instant::now();
        if let Ok(cache) = self.sso.clients.lock()
            && let Some((at, row)) = cache.get(id)
            && now.duration_since(*at) < CLIENT_CACHE_TTL
        {
            return Some(row.clone());
        }
        let row = Arc::new(self.db.client(id).await.ok()??);
        if let Ok(mut cache) = self.sso.clients.lock() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(id.to_owned(), (now, row.clone()));
        }
        Some(row)
    }

    fn forget_client(&self, id: &str) {
        if let Ok(mut cache) = self.sso.clients.lock() {
            cache.remove(id);
        }
    }

    async fn code_grant(
        &self,
        client: &ClientRow,
        params: &TokenParams,
        now: Timestamp,
    ) -> std::result::Result<TokenResponse, TokenFailure> {
        let code = params.code.as_deref().ok_or(SsoError::InvalidRequest)?;
        let row = self
            .db
            .spend_code(&secret_digest(code), now)
            .await?
            .ok_or(SsoError::InvalidGrant)?;
        let verifier = params.code_verifier.as_deref().unwrap_or_default();
        if row.facts.client_id != client.client_id
            || row.expires_at <= now
            || params.redirect_uri.as_deref() != Some(row.redirect_uri.as_str())
            || !pkce_matches(verifier, &row.code_challenge)
        {
            return Err(SsoError::InvalidGrant.into());
        }
        let keys = self.keys(now).await?;
        let scopes = Scopes::parse(&row.facts.scope).map_err(|_| SsoError::InvalidGrant)?;
        let amr: Vec<String> = serde_json::from_str(&row.facts.amr).unwrap_or_default();
        let id_token = jsonwebtoken::encode(
            &header(Algorithm::RS256, &keys.id_token.0, None),
            &IdClaims {
                iss: self.issuer().to_owned(),
                sub: row.facts.account_id.clone(),
                aud: client.client_id.clone(),
                exp: now.as_second() + ID_TOKEN_TTL_SECS,
                iat: now.as_second(),
                auth_time: row.facts.auth_time.as_second(),
                acr: row.facts.acr.clone(),
                amr,
                nonce: row.nonce.clone(),
                sid: row.facts.session_ref.clone(),
                azp: Some(client.client_id.clone()),
            },
            &keys.id_token.1,
        )
        .map_err(|e| TokenFailure::Internal(e.to_string()))?;
        let refresh_token = if scopes.contains(Scope::OfflineAccess)
            && client.grant_types.iter().any(|g| g == "refresh_token")
        {
            let token = random_secret()?;
            let digest = secret_digest(&token);
            self.db
                .insert_refresh_token(&RefreshRow {
                    token_digest: digest.clone(),
                    family: digest,
                    facts: row.facts.clone(),
                    issued_at: now,
                    expires_at: now + SignedDuration::from_secs(REFRESH_TOKEN_TTL_SECS),
                    spent_at: None,
                    revoked_at: None,
                })
                .await?;
            Some(token)
        } else {
            None
        };
        let access_token = self.access_token(&keys, &row.facts, now)?;
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_TTL_SECS,
            scope: row.facts.scope,
            refresh_token,
            id_token: Some(id_token),
        })
    }

    async fn refresh_grant(
        &self,
        client: &ClientRow,
        params: &TokenParams,
        now: Timestamp,
    ) -> std::result::Result<TokenResponse, TokenFailure> {
        let token = params
            .refresh_token
            .as_deref()
            .ok_or(SsoError::InvalidRequest)?;
        let digest = secret_digest(token);
        let row = self
            .db
            .refresh_token(&digest)
            .await?
            .ok_or(SsoError::InvalidGrant)?;
        let state = if row.revoked_at.is_some() {
            RefreshState::Revoked
        } else if row.spent_at.is_some() {
            RefreshState::Spent
        } else if row.expires_at <= now {
            RefreshState::Expired
        } else {
            RefreshState::Live
        };
        match decide_refresh(state, row.facts.client_id == client.client_id) {
            RefreshDecision::Refuse => return Err(SsoError::InvalidGrant.into()),
            RefreshDecision::RefuseAndRevokeFamily => {
                let revoked = self.db.revoke_refresh_family(&row.family, now).await?;
                tracing::warn!(client = %client.client_id, revoked, "refresh token replayed: family revoked");
                let mut event = onetrip_store::AuthEvent::new(
                    "refresh_replay",
                    onetrip_domain::identity::AccountKind::Citizen,
                    Some(&row.facts.account_id),
                    now,
                );
                event.succeeded = false;
                event.method = client.client_id.clone();
                self.db.record_auth_event(&event).await?;
                return Err(SsoError::InvalidGrant.into());
            }
            RefreshDecision::Rotate => {}
        }
        let mut facts = row.facts.clone();
        if let Some(scope) = params.scope.as_deref() {
            // A refresh may narrow the scopes, never widen them (RFC 6749 §6).
            let asked = Scopes::parse(scope).map_err(|_| SsoError::InvalidScope)?;
            let held = Scopes::parse(&row.facts.scope).map_err(|_| SsoError::InvalidGrant)?;
            if !asked.is_subset_of(&held) {
                return Err(SsoError::InvalidScope.into());
            }
            facts.scope = asked.to_string();
        }
        let next = random_secret()?;
        let rotated = self
            .db
            .rotate_refresh_token(
                &digest,
                &RefreshRow {
                    token_digest: secret_digest(&next),
                    family: row.family.clone(),
                    facts: facts.clone(),
                    issued_at: now,
                    expires_at: now + SignedDuration::from_secs(REFRESH_TOKEN_TTL_SECS),
                    spent_at: None,
                    revoked_at: None,
                },
                now,
            )
            .await?;
        if !rotated {
            // Another request spent it between the read and the update.
            return Err(SsoError::InvalidGrant.into());
        }
        let keys = self.keys(now).await?;
        Ok(TokenResponse {
            access_token: self.access_token(&keys, &facts, now)?,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_TTL_SECS,
            scope: facts.scope,
            refresh_token: Some(next),
            id_token: None,
        })
    }

    async fn client_credentials_grant(
        &self,
        client: &ClientRow,
        params: &TokenParams,
        now: Timestamp,
    ) -> std::result::Result<TokenResponse, TokenFailure> {
        if client.secret_digest.is_none() {
            return Err(SsoError::UnauthorizedClient.into());
        }
        let allowed = Scopes::parse(&client.scopes.join(" ")).unwrap_or_default();
        let scopes = match params.scope.as_deref() {
            Some(s) => Scopes::parse(s).map_err(|_| SsoError::InvalidScope)?,
            None => allowed.clone(),
        };
        if !scopes.is_subset_of(&allowed)
            || scopes.contains(Scope::Openid)
            || scopes.contains(Scope::OfflineAccess)
        {
            return Err(SsoError::InvalidScope.into());
        }
        let keys = self.keys(now).await?;
        let claims = AccessClaims {
            iss: self.issuer().to_owned(),
            sub: client.client_id.clone(),
            aud: API_AUDIENCE.to_owned(),
            client_id: client.client_id.clone(),
            scope: scopes.to_string(),
            iat: now.as_second(),
            exp: now.as_second() + ACCESS_TOKEN_TTL_SECS,
            jti: uuid::Uuid::now_v7().to_string(),
            acr: None,
            org: None,
        };
        Ok(TokenResponse {
            access_token: sign_access(&keys, &claims)?,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_TTL_SECS,
            scope: claims.scope,
            refresh_token: None,
            id_token: None,
        })
    }

    fn access_token(
        &self,
        keys: &Keys,
        facts: &GrantFacts,
        now: Timestamp,
    ) -> std::result::Result<String, TokenFailure> {
        sign_access(
            keys,
            &AccessClaims {
                iss: self.issuer().to_owned(),
                sub: facts.account_id.clone(),
                aud: API_AUDIENCE.to_owned(),
                client_id: facts.client_id.clone(),
                scope: facts.scope.clone(),
                iat: now.as_second(),
                exp: now.as_second() + ACCESS_TOKEN_TTL_SECS,
                jti: uuid::Uuid::now_v7().to_string(),
                acr: Some(facts.acr.clone()),
                org: facts.acting_for.clone(),
            },
        )
    }

    /// Verifies an access token: an EdDSA signature by a published key, `typ` `at+jwt`,
    /// issuer, audience, expiry.
    pub async fn verify_access_token(&self, token: &str, now: Timestamp) -> Result<AccessClaims> {
        let keys = self.keys(now).await?;
        let claims = verify_access(&keys, token).ok_or(AppError::InvalidToken)?;
        if claims.iss != self.issuer()
            || claims.aud != API_AUDIENCE
            || claims.exp <= now.as_second()
        {
            return Err(AppError::InvalidToken);
        }
        Ok(claims)
    }

    /// The userinfo endpoint: the claims of the scopes granted to the token.
    pub async fn userinfo(&self, token: &str, now: Timestamp) -> Result<serde_json::Value> {
        let claims = self.verify_access_token(token, now).await?;
        let scopes = Scopes::parse(&claims.scope).unwrap_or_default();
        if claims.is_client_token() || !scopes.contains(Scope::Openid) {
            return Err(AppError::InvalidToken);
        }
        let person = self
            .db
            .person_by_id(&claims.sub)
            .await?
            .ok_or(AppError::InvalidToken)?;
        let mut info = serde_json::Map::new();
        info.insert("sub".into(), claims.sub.clone().into());
        if scopes.contains(Scope::Profile) {
            info.insert("name".into(), person.name.clone().into());
        }
        if scopes.contains(Scope::Phone) {
            info.insert("phone_number".into(), format!("+86{}", person.phone).into());
            info.insert("phone_number_verified".into(), true.into());
        }
        if scopes.contains(Scope::IdNumber) {
            info.insert("id_number".into(), person.resident_id.clone().into());
        }
        if scopes.contains(Scope::Organisation)
            && let Some(org) = &claims.org
            && let Some(row) = self.db.organisation(org).await?
        {
            info.insert("org_credit_code".into(), row.credit_code.into());
            info.insert("org_name".into(), row.name.into());
        }
        Ok(serde_json::Value::Object(info))
    }

    /// Checks an RP-initiated logout request (OpenID Connect RP-Initiated Logout 1.0): the ID
    /// token hint must be one onetrip signed (expired is fine), and the post-logout URI must be
    /// registered for its client. Revokes the refresh tokens bound to the session.
    pub async fn end_session(
        &self,
        id_token_hint: Option<&str>,
        post_logout_redirect_uri: Option<&str>,
        client_id: Option<&str>,
        now: Timestamp,
    ) -> Result<Logout> {
        let mut client = client_id.map(str::to_owned);
        let mut session_ref = None;
        if let Some(hint) = id_token_hint {
            let keys = self.keys(now).await?;
            let header = jsonwebtoken::decode_header(hint).map_err(|_| bad_hint())?;
            let (_, key) = header
                .kid
                .as_ref()
                .and_then(|k| keys.decoding.get(k))
                .ok_or_else(bad_hint)?;
            let mut validation = Validation::new(Algorithm::RS256);
            validation.set_issuer(&[self.issuer()]);
            validation.validate_exp = false;
            validation.validate_aud = false;
            let data =
                jsonwebtoken::decode::<IdClaims>(hint, key, &validation).map_err(|_| bad_hint())?;
            if client.as_deref().is_some_and(|c| c != data.claims.aud) {
                return Err(bad_hint());
            }
            client = Some(data.claims.aud);
            session_ref = data.claims.sid;
        }
        if let Some(sid) = &session_ref {
            self.db.revoke_refresh_tokens_of_session(sid, now).await?;
        }
        let redirect_to = match post_logout_redirect_uri {
            None => None,
            Some(uri) => {
                let registered = match &client {
                    Some(id) => self
                        .db
                        .client(id)
                        .await?
                        .map(|c| c.post_logout_redirect_uris)
                        .unwrap_or_default(),
                    None => Vec::new(),
                };
                if !redirect_uri_registered(&registered, uri) {
                    return Err(AppError::Rejected(vec![FieldProblem {
                        path: "post_logout_redirect_uri".to_owned(),
                        code: "post_logout_redirect_uri_unregistered",
                        message_zh: "退出后的跳转地址未登记".to_owned(),
                        message_en: "The post-logout redirect URI is not registered".to_owned(),
                    }]));
                }
                Some(uri.to_owned())
            }
        };
        Ok(Logout {
            redirect_to,
            session_ref,
        })
    }
}

fn not_found_client(client_id: &str) -> AppError {
    AppError::NotFound {
        kind: "client",
        key: client_id.to_owned(),
    }
}

fn bad_hint() -> AppError {
    AppError::Rejected(vec![FieldProblem {
        path: "id_token_hint".to_owned(),
        code: "id_token_hint_invalid",
        message_zh: "id_token_hint 不是本平台签发的 ID 令牌".to_owned(),
        message_en: "id_token_hint is not an ID token issued by this platform".to_owned(),
    }])
}

enum TokenFailure {
    Oauth(SsoError),
    Internal(String),
}

impl From<SsoError> for TokenFailure {
    fn from(e: SsoError) -> Self {
        TokenFailure::Oauth(e)
    }
}

impl From<StoreError> for TokenFailure {
    fn from(e: StoreError) -> Self {
        TokenFailure::Internal(e.to_string())
    }
}

impl From<AppError> for TokenFailure {
    fn from(e: AppError) -> Self {
        TokenFailure::Internal(e.to_string())
    }
}

fn header(alg: Algorithm, kid: &str, typ: Option<&str>) -> Header {
    let mut h = Header::new(alg);
    h.kid = Some(kid.to_owned());
    if let Some(typ) = typ {
        h.typ = Some(typ.to_owned());
    }
    h
}

/// The protected header of access tokens signed with `kid`.
#[derive(Serialize, Deserialize)]
struct AccessHeader {
    alg: String,
    typ: String,
    kid: String,
}

fn sign_access(keys: &Keys, claims: &AccessClaims) -> std::result::Result<String, TokenFailure> {
    use ed25519_dalek::Signer;
    let header = AccessHeader {
        alg: "EdDSA".to_owned(),
        typ: "at+jwt".to_owned(),
        kid: keys.access_token.0.clone(),
    };
    let json = |v: &dyn erased::Json| {
        v.to_json()
            .map_err(|e| TokenFailure::Internal(e.to_string()))
    };
    let mut token = URL_SAFE_NO_PAD.encode(json(&header)?);
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(json(claims)?));
    let signature = keys.access_token.1.sign(token.as_bytes());
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature.to_bytes()));
    Ok(token)
}

/// The claims of an access token whose EdDSA signature verifies with a published key, or
/// `None`. Issuer, audience and expiry are the caller's to check.
fn verify_access(keys: &Keys, token: &str) -> Option<AccessClaims> {
    let mut parts = token.split('.');
    let (header, claims, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let decoded_header: AccessHeader =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    if decoded_header.alg != "EdDSA" || decoded_header.typ != "at+jwt" {
        return None;
    }
    let key = keys.access_verifying.get(&decoded_header.kid)?;
    let signature: [u8; 64] = URL_SAFE_NO_PAD.decode(signature).ok()?.try_into().ok()?;
    let signed = &token[..header.len() + 1 + claims.len()];
    key.verify_strict(
        signed.as_bytes(),
        &ed25519_dalek::Signature::from_bytes(&signature),
    )
    .ok()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).ok()?).ok()
}

/// Serialising the header and the claims through one function.
mod erased {
    /// Something serialisable to JSON bytes.
    pub(super) trait Json {
        fn to_json(&self) -> serde_json::Result<Vec<u8>>;
    }

    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> serde_json::Result<Vec<u8>> {
            serde_json::to_vec(self)
        }
    }
}

/// `base` with `query` appended (percent-encoded), after any query it already has.
pub fn with_query(base: &str, query: &[(&str, &str)]) -> String {
    let encoded: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{}", encoded.join("&"))
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn generate_key(alg: &str, now: Timestamp) -> Result<SigningKeyRow> {
    let alg_owned = alg.to_owned();
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| AppError::Internal(format!("randomness: {e}")))?;
    let pem = tokio::task::spawn_blocking(move || -> std::result::Result<String, String> {
        use rsa::pkcs8::{EncodePrivateKey, LineEnding};
        if alg_owned == "RS256" {
            let mut rng = rsa::rand_core::OsRng;
            let key = rsa::RsaPrivateKey::new(&mut rng, 2048).map_err(|e| e.to_string())?;
            let pem = key
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| e.to_string())?;
            Ok(pem.to_string())
        } else {
            let key = ed25519_dalek::SigningKey::from_bytes(&seed);
            let pem = key
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| e.to_string())?;
            Ok(pem.to_string())
        }
    })
    .await
    .map_err(|e| AppError::Internal(format!("key generation task: {e}")))?
    .map_err(|e| AppError::Internal(format!("key generation: {e}")))?;
    Ok(SigningKeyRow {
        kid: format!("{}-{}", alg.to_ascii_lowercase(), &random_secret()?[..12]),
        alg: alg.to_owned(),
        private_pem: pem,
        created_at: now,
        retired_at: None,
    })
}

fn keys_from_rows(rows: &[SigningKeyRow], now: Timestamp) -> Result<Keys> {
    let internal = |e: String| AppError::Internal(format!("signing key: {e}"));
    let mut id_token = None;
    let mut access_token = None;
    let mut decoding = HashMap::new();
    let mut access_verifying = HashMap::new();
    let mut jwks = Vec::new();
    for row in rows {
        if row
            .retired_at
            .is_some_and(|at| at + RETIRED_KEY_GRACE < now)
        {
            continue;
        }
        match row.alg.as_str() {
            "RS256" => {
                use rsa::pkcs8::DecodePrivateKey;
                use rsa::traits::PublicKeyParts;
                let key = rsa::RsaPrivateKey::from_pkcs8_pem(&row.private_pem)
                    .map_err(|e| internal(e.to_string()))?;
                let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
                let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
                decoding.insert(
                    row.kid.clone(),
                    (
                        Algorithm::RS256,
                        DecodingKey::from_rsa_components(&n, &e)
                            .map_err(|e| internal(e.to_string()))?,
                    ),
                );
                jwks.push(serde_json::json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": row.kid, "n": n, "e": e}));
                if row.retired_at.is_none() && id_token.is_none() {
                    id_token = Some((
                        row.kid.clone(),
                        EncodingKey::from_rsa_pem(row.private_pem.as_bytes())
                            .map_err(|e| internal(e.to_string()))?,
                    ));
                }
            }
            "EdDSA" => {
                use ed25519_dalek::pkcs8::DecodePrivateKey;
                let key = ed25519_dalek::SigningKey::from_pkcs8_pem(&row.private_pem)
                    .map_err(|e| internal(e.to_string()))?;
                let verifying = key.verifying_key();
                let x = URL_SAFE_NO_PAD.encode(verifying.as_bytes());
                access_verifying.insert(row.kid.clone(), verifying);
                jwks.push(serde_json::json!({"kty": "OKP", "use": "sig", "alg": "EdDSA", "crv": "Ed25519", "kid": row.kid, "x": x}));
                if row.retired_at.is_none() && access_token.is_none() {
                    access_token = Some((row.kid.clone(), key));
                }
            }
            other => {
                tracing::warn!(kid = %row.kid, alg = other, "unknown signing key algorithm skipped")
            }
        }
    }
    let (Some(id_token), Some(access_token)) = (id_token, access_token) else {
        return Err(internal("no current RS256 and EdDSA keys".to_owned()));
    };
    Ok(Keys {
        id_token,
        access_token,
        decoding,
        access_verifying,
        jwks: serde_json::json!({ "keys": jwks }),
    })
}
