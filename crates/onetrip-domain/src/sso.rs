//! Single sign-on rules (统一登录): onetrip as an OpenID Connect provider for department
//! systems. Pure rules: PKCE, redirect URI matching, scopes and claims, subject identifiers,
//! lifetimes and refresh-token rotation.
//!
//! Decisions:
//! - **PKCE is required** for every authorization-code request, and only `S256` is accepted
//!   (RFC 9700 §2.1.1: `plain` protects nothing a TLS-less attacker cannot read).
//! - **Redirect URIs match exactly,** byte for byte, a URI registered for the client (no
//!   prefix, wildcard or case folding), as OAuth 2.0 Security BCP asks.
//! - **`sub` is public** (OIDC Core §8, `subject_type` `public`): the account id, a UUID v7
//!   issued by onetrip that reveals nothing about the person. Department systems of one
//!   government legitimately work on the same person's cases together (a 一件事 fans out to
//!   several departments, which exchange case updates); with pairwise subjects they would have
//!   to join their records on the resident ID number instead, which is worse for privacy. The
//!   ID number itself is released only with the `id_number` scope, to clients registered for it.
//! - **Refresh tokens rotate:** each use returns a new token and spends the old one; a spent
//!   token presented again is a replay (a stolen copy or a client bug), and the whole family
//!   descending from the original grant is revoked (RFC 9700 §4.14.2).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Localized;

/// How long an authorization code lives, in seconds.
pub const CODE_TTL_SECS: i64 = 60;
/// How long an access token lives, in seconds.
pub const ACCESS_TOKEN_TTL_SECS: i64 = 600;
/// How long an ID token is valid, in seconds.
pub const ID_TOKEN_TTL_SECS: i64 = 600;
/// How long a refresh token lives after it was issued, in seconds (30 days).
pub const REFRESH_TOKEN_TTL_SECS: i64 = 30 * 24 * 3600;

/// A scope onetrip knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// `openid`: an OpenID Connect request; the ID token carries `sub`, `acr`, `auth_time`.
    Openid,
    /// `profile`: `name`.
    Profile,
    /// `phone`: `phone_number`, `phone_number_verified`.
    Phone,
    /// `id_number`: the resident ID number (`id_number`), only for clients registered for it.
    IdNumber,
    /// `organisation`: the organisation the user acts for (`org_credit_code`, `org_name`).
    Organisation,
    /// `offline_access`: a refresh token.
    OfflineAccess,
    /// `api`: access to onetrip's own API for machine clients.
    Api,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 7] = [
        Scope::Openid,
        Scope::Profile,
        Scope::Phone,
        Scope::IdNumber,
        Scope::Organisation,
        Scope::OfflineAccess,
        Scope::Api,
    ];

    /// The scope's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Openid => "openid",
            Scope::Profile => "profile",
            Scope::Phone => "phone",
            Scope::IdNumber => "id_number",
            Scope::Organisation => "organisation",
            Scope::OfflineAccess => "offline_access",
            Scope::Api => "api",
        }
    }

    /// Parses one scope name.
    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// What the user is asked to share, in Chinese (consent page).
    pub fn consent_zh(self) -> &'static str {
        match self {
            Scope::Openid => "确认您的身份（匿名的用户标识和认证等级）",
            Scope::Profile => "您的姓名",
            Scope::Phone => "您的手机号码",
            Scope::IdNumber => "您的居民身份证号码",
            Scope::Organisation => "您当前代表的企业或组织",
            Scope::OfflineAccess => "在您离开后继续保持登录（刷新令牌）",
            Scope::Api => "调用平台接口",
        }
    }

    /// What the user is asked to share, in English (consent page).
    pub fn consent_en(self) -> &'static str {
        match self {
            Scope::Openid => "confirm who you are (an anonymous user id and your assurance level)",
            Scope::Profile => "your name",
            Scope::Phone => "your mobile phone number",
            Scope::IdNumber => "your resident ID number",
            Scope::Organisation => "the organisation you act for",
            Scope::OfflineAccess => "keep you signed in after you leave (refresh token)",
            Scope::Api => "call the platform's API",
        }
    }
}

/// A set of scopes, in a fixed order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// Parses a space-separated scope string (RFC 6749 §3.3). Unknown names are an error.
    pub fn parse(text: &str) -> Result<Scopes, SsoError> {
        let mut scopes = Vec::new();
        for name in text.split(' ').filter(|s| !s.is_empty()) {
            let scope = Scope::parse(name).ok_or(SsoError::InvalidScope)?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        scopes.sort();
        Ok(Scopes(scopes))
    }

    /// Builds a set from scopes.
    pub fn from_scopes(scopes: impl IntoIterator<Item = Scope>) -> Scopes {
        let mut v: Vec<Scope> = scopes.into_iter().collect();
        v.sort();
        v.dedup();
        Scopes(v)
    }

    /// Whether the set holds `scope`.
    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    /// Whether every scope of `self` is in `allowed`.
    pub fn is_subset_of(&self, allowed: &Scopes) -> bool {
        self.0.iter().all(|s| allowed.contains(*s))
    }

    /// The scopes.
    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Display for Scopes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|s| s.as_str()).collect();
        f.write_str(&names.join(" "))
    }
}

/// An OAuth error, with the `error` code of RFC 6749 §5.2 / OIDC Core §3.1.2.6.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SsoError {
    /// Unknown client, wrong secret or wrong authentication method.
    #[error("invalid_client")]
    InvalidClient,
    /// Code or refresh token unknown, expired, spent, issued to another client, wrong redirect
    /// URI or PKCE verifier.
    #[error("invalid_grant")]
    InvalidGrant,
    /// Missing or malformed parameter.
    #[error("invalid_request")]
    InvalidRequest,
    /// A scope unknown or not allowed for the client.
    #[error("invalid_scope")]
    InvalidScope,
    /// The client may not use this grant type.
    #[error("unauthorized_client")]
    UnauthorizedClient,
    /// A grant type onetrip does not support.
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    /// A response type other than `code`.
    #[error("unsupported_response_type")]
    UnsupportedResponseType,
    /// The user refused consent.
    #[error("access_denied")]
    AccessDenied,
    /// `prompt=none` but the user must sign in.
    #[error("login_required")]
    LoginRequired,
    /// `prompt=none` but consent is needed.
    #[error("consent_required")]
    ConsentRequired,
}

impl SsoError {
    /// The OAuth `error` value.
    pub fn oauth_code(self) -> &'static str {
        match self {
            SsoError::InvalidClient => "invalid_client",
            SsoError::InvalidGrant => "invalid_grant",
            SsoError::InvalidRequest => "invalid_request",
            SsoError::InvalidScope => "invalid_scope",
            SsoError::UnauthorizedClient => "unauthorized_client",
            SsoError::UnsupportedGrantType => "unsupported_grant_type",
            SsoError::UnsupportedResponseType => "unsupported_response_type",
            SsoError::AccessDenied => "access_denied",
            SsoError::LoginRequired => "login_required",
            SsoError::ConsentRequired => "consent_required",
        }
    }
}

impl Localized for SsoError {
    fn code(&self) -> &'static str {
        self.oauth_code()
    }

    fn message_zh(&self) -> String {
        match self {
            SsoError::InvalidClient => "接入系统身份验证失败：请检查 client_id 和密钥",
            SsoError::InvalidGrant => {
                "授权码或刷新令牌无效、已过期或已使用，或回调地址、PKCE 校验值不符：请重新登录"
            }
            SsoError::InvalidRequest => "请求缺少参数或参数格式不正确",
            SsoError::InvalidScope => "申请的权限范围未知或未向该接入系统开放",
            SsoError::UnauthorizedClient => "该接入系统未获准使用此授权方式",
            SsoError::UnsupportedGrantType => "不支持该授权方式",
            SsoError::UnsupportedResponseType => "仅支持授权码方式（response_type=code）",
            SsoError::AccessDenied => "您拒绝了授权",
            SsoError::LoginRequired => "需要先登录",
            SsoError::ConsentRequired => "需要您先同意授权",
        }
        .to_owned()
    }

    fn message_en(&self) -> String {
        match self {
            SsoError::InvalidClient => "Client authentication failed: check client_id and secret",
            SsoError::InvalidGrant => {
                "The code or refresh token is invalid, expired or already used, or the redirect \
                 URI or PKCE verifier does not match: sign in again"
            }
            SsoError::InvalidRequest => "A parameter is missing or malformed",
            SsoError::InvalidScope => "A requested scope is unknown or not allowed for this client",
            SsoError::UnauthorizedClient => "This client may not use this grant type",
            SsoError::UnsupportedGrantType => "This grant type is not supported",
            SsoError::UnsupportedResponseType => {
                "Only the authorization code flow (response_type=code) is supported"
            }
            SsoError::AccessDenied => "You refused the authorization",
            SsoError::LoginRequired => "Sign-in is required",
            SsoError::ConsentRequired => "Your consent is required",
        }
        .to_owned()
    }
}

/// Whether `presented` is byte for byte one of the `registered` redirect URIs.
pub fn redirect_uri_registered(registered: &[String], presented: &str) -> bool {
    registered.iter().any(|r| r == presented)
}

/// Why a redirect URI cannot be registered.
pub fn check_redirect_uri(uri: &str) -> Result<(), SsoError> {
    // Absolute http(s) URI without fragment (RFC 6749 §3.1.2); http only for loopback.
    let ok_scheme = uri.starts_with("https://")
        || uri.starts_with("http://127.0.0.1")
        || uri.starts_with("http://localhost")
        || uri.starts_with("http://[::1]");
    let host_part = uri.split_once("://").map(|(_, rest)| rest).unwrap_or("");
    if !ok_scheme
        || uri.contains('#')
        || host_part.is_empty()
        || host_part.starts_with('/')
        || uri.chars().any(|c| c.is_whitespace() || c.is_control())
        || uri.len() > 2000
    {
        return Err(SsoError::InvalidRequest);
    }
    Ok(())
}

/// Whether a PKCE `code_verifier` matches the `S256` `code_challenge` (RFC 7636 §4.6). A
/// verifier must be 43–128 characters of `[A-Za-z0-9-._~]`.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    if !(43..=128).contains(&verifier.len())
        || !verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    crate::identity::constant_time_eq(computed.as_bytes(), challenge.as_bytes())
}

/// Whether a `code_challenge` is well formed for `S256`: 43 base64url characters.
pub fn pkce_challenge_well_formed(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The state of a refresh token presented for a grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshState {
    /// Unspent and unexpired.
    Live,
    /// Already exchanged for a newer token.
    Spent,
    /// Past its lifetime.
    Expired,
    /// Revoked (logout, replay detected, account change).
    Revoked,
}

/// What to do with a refresh grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshDecision {
    /// Spend the token and issue a new one in the same family.
    Rotate,
    /// Refuse, and revoke the whole family: a spent token came back.
    RefuseAndRevokeFamily,
    /// Refuse.
    Refuse,
}

/// Decides a refresh grant for a token in `state` presented by the client it was issued to
/// (`same_client`).
pub fn decide_refresh(state: RefreshState, same_client: bool) -> RefreshDecision {
    match (state, same_client) {
        (_, false) => RefreshDecision::Refuse,
        (RefreshState::Live, true) => RefreshDecision::Rotate,
        (RefreshState::Spent, true) => RefreshDecision::RefuseAndRevokeFamily,
        (RefreshState::Expired | RefreshState::Revoked, true) => RefreshDecision::Refuse,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pkce_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(verifier, challenge));
        assert!(pkce_challenge_well_formed(challenge));
        assert!(!pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj",
            challenge
        ));
        assert!(!pkce_matches("short", challenge));
        assert!(!pkce_matches(&"é".repeat(50), challenge));
    }

    #[test]
    fn scopes_parse_sorted_and_refuse_unknown_names() {
        let s = Scopes::parse("profile openid  openid phone").unwrap();
        assert_eq!(s.to_string(), "openid profile phone");
        assert_eq!(Scopes::parse("openid email"), Err(SsoError::InvalidScope));
        assert!(
            Scopes::parse("openid")
                .unwrap()
                .is_subset_of(&Scopes::parse("openid profile").unwrap())
        );
    }

    #[test]
    fn redirect_uris_match_exactly() {
        let registered = vec!["https://dept.example/cb".to_owned()];
        assert!(redirect_uri_registered(
            &registered,
            "https://dept.example/cb"
        ));
        for other in [
            "https://dept.example/cb/",
            "https://dept.example/cb?x=1",
            "https://DEPT.example/cb",
            "https://dept.example/c",
            "http://dept.example/cb",
        ] {
            assert!(!redirect_uri_registered(&registered, other), "{other}");
        }
        assert!(check_redirect_uri("https://dept.example/cb").is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:8080/cb").is_ok());
        assert!(check_redirect_uri("http://dept.example/cb").is_err());
        assert!(check_redirect_uri("https://dept.example/cb#x").is_err());
        assert!(check_redirect_uri("javascript:alert(1)").is_err());
    }

    #[test]
    fn refresh_decisions() {
        assert_eq!(
            decide_refresh(RefreshState::Live, true),
            RefreshDecision::Rotate
        );
        assert_eq!(
            decide_refresh(RefreshState::Spent, true),
            RefreshDecision::RefuseAndRevokeFamily
        );
        assert_eq!(
            decide_refresh(RefreshState::Live, false),
            RefreshDecision::Refuse
        );
        assert_eq!(
            decide_refresh(RefreshState::Expired, true),
            RefreshDecision::Refuse
        );
    }
}
