//! Single sign-on driven by an independent OpenID Connect client: the `openidconnect` crate
//! plays the department system (relying party), talking to the real router in-process; a
//! cookie-keeping "browser" plays the person.

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, Scope,
    TokenResponse,
};
use serde_json::{Value, json};

use crate::common::*;

const REDIRECT: &str = "https://bdc.example.gov.cn/callback";
const LOGOUT_TO: &str = "https://bdc.example.gov.cn/";

/// The HTTP client the relying party uses: requests to the issuer go through the router.
fn http<'a>(
    t: &'a TestApp,
) -> impl Fn(
    openidconnect::HttpRequest,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<openidconnect::HttpResponse, std::io::Error>> + 'a>,
> + 'a {
    move |request: openidconnect::HttpRequest| {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let uri = parts.uri.to_string();
            let path = uri.strip_prefix(ISSUER).unwrap_or(&uri).to_string();
            let mut builder = req(parts.method.clone(), &path);
            for (k, v) in &parts.headers {
                builder = builder.header(k, v);
            }
            let r = t.send(builder.body(Body::from(body)).unwrap()).await;
            let mut response = axum::http::Response::builder().status(r.status);
            for (k, v) in &r.headers {
                response = response.header(k, v);
            }
            Ok(response.body(r.body).unwrap())
        })
    }
}

async fn register_client(t: &TestApp, scopes: &[&str], grants: &[&str]) -> (String, String) {
    let r = t
        .admin_json(
            Method::POST,
            "/api/v1/clients",
            &json!({
                "name": "不动产登记系统",
                "redirect_uris": [REDIRECT],
                "post_logout_redirect_uris": [LOGOUT_TO],
                "grant_types": grants,
                "scopes": scopes,
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let v = r.json();
    (
        v["client_id"].as_str().unwrap().to_string(),
        v["client_secret"].as_str().unwrap().to_string(),
    )
}

struct Flow {
    client: openidconnect::core::CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
}

async fn relying_party(t: &TestApp, id: &str, secret: &str) -> Flow {
    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(ISSUER.into()).unwrap(), &http(t))
            .await
            .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(id.into()),
        Some(ClientSecret::new(secret.into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    Flow { client }
}

/// Drives the browser from the authorization URL to the callback; returns the callback URL.
async fn browse_to_callback(b: &mut Browser<'_>, auth_url: &str) -> String {
    let path = auth_url.strip_prefix(ISSUER).unwrap();
    let mut r = b.get(path).await;
    for _ in 0..8 {
        match r.status {
            StatusCode::SEE_OTHER | StatusCode::FOUND | StatusCode::TEMPORARY_REDIRECT => {
                let to = r.header("location").unwrap().to_string();
                if to.starts_with(REDIRECT) {
                    return to;
                }
                r = b.get(&to).await;
            }
            StatusCode::OK if r.text().contains("name=\"decision\"") => {
                let html = r.text();
                let mut form: Vec<(String, String)> = Vec::new();
                for name in [
                    "csrf_token",
                    "response_type",
                    "client_id",
                    "redirect_uri",
                    "scope",
                    "state",
                    "nonce",
                    "code_challenge",
                    "code_challenge_method",
                ] {
                    if html.contains(&format!("name=\"{name}\" value=")) {
                        form.push((name.to_string(), hidden(&html, name)));
                    }
                }
                form.push(("decision".into(), "allow".into()));
                let pairs: Vec<(&str, &str)> =
                    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                r = b.post_form("/oauth2/authorize", &pairs).await;
            }
            StatusCode::OK if r.text().contains("action=\"/sign-in\"") => {
                let html = r.text();
                let csrf = hidden(&html, "csrf_token");
                let next = hidden(&html, "next");
                r = b
                    .post_form(
                        "/sign-in",
                        &[
                            ("csrf_token", &csrf),
                            ("next", &next),
                            ("method", "password"),
                            ("login", PERSON_PHONE),
                            ("password", PERSON_PASSWORD),
                        ],
                    )
                    .await;
            }
            other => panic!("unexpected {other}: {}", r.text()),
        }
    }
    panic!("no callback reached")
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

#[tokio::test]
async fn a_department_system_signs_a_person_in_with_the_code_flow() {
    let t = TestApp::new().await;
    let (id, secret) = register_client(
        &t,
        &["openid", "profile", "phone", "offline_access"],
        &["authorization_code", "refresh_token"],
    )
    .await;
    let (mut b, _) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    // A fresh browser: the person is not signed in at onetrip yet.
    b.cookie = None;
    let rp = relying_party(&t, &id, &secret).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = rp
        .client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("phone".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    let callback = browse_to_callback(&mut b, url.as_str()).await;
    assert_eq!(
        query_param(&callback, "state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(query_param(&callback, "iss").as_deref(), Some(ISSUER));
    let code = query_param(&callback, "code").expect("code");

    let tokens = rp
        .client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http(&t))
        .await
        .expect("token exchange");
    let id_token = tokens.id_token().expect("id token");
    let claims = id_token
        .claims(&rp.client.id_token_verifier(), &nonce)
        .expect("valid ID token");
    assert_eq!(
        claims.auth_context_ref().map(|a| a.as_str()),
        Some("urn:onetrip:loa:1")
    );
    let person = t
        .app
        .db
        .person_by_phone(PERSON_PHONE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        claims.subject().as_str(),
        person.id,
        "public sub: the account id"
    );
    let hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token
            .signing_key(&rp.client.id_token_verifier())
            .unwrap(),
    );
    assert!(hash.is_ok());

    let info: CoreUserInfoClaims = rp
        .client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&http(&t))
        .await
        .expect("userinfo");
    assert_eq!(
        info.name().and_then(|n| n.get(None)).map(|n| n.as_str()),
        Some(PERSON_NAME)
    );
    assert_eq!(
        info.phone_number().map(|p| p.as_str()),
        Some("+8613800138000")
    );

    // A code works once.
    let again = rp
        .client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(PkceCodeVerifier::new("x".repeat(43)))
        .request_async(&http(&t))
        .await;
    assert!(again.is_err(), "a reused code must be refused");

    // Refresh tokens rotate; the spent one, presented again, revokes the family.
    let first = tokens.refresh_token().expect("refresh token").clone();
    let second = rp
        .client
        .exchange_refresh_token(&first)
        .unwrap()
        .request_async(&http(&t))
        .await
        .expect("refresh");
    let second_token = second.refresh_token().expect("rotated").clone();
    assert_ne!(second_token.secret(), first.secret());
    assert!(
        rp.client
            .exchange_refresh_token(&first)
            .unwrap()
            .request_async(&http(&t))
            .await
            .is_err(),
        "replay refused"
    );
    assert!(
        rp.client
            .exchange_refresh_token(&second_token)
            .unwrap()
            .request_async(&http(&t))
            .await
            .is_err(),
        "the replay revoked the whole family"
    );

    // RP-initiated logout ends the onetrip session and returns to the registered URI.
    let hint = id_token.to_string();
    let r = b
        .get(&format!(
            "/oauth2/logout?id_token_hint={}&post_logout_redirect_uri={}&state=bye",
            enc(&hint),
            enc(LOGOUT_TO)
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some("https://bdc.example.gov.cn/?state=bye")
    );
    let session = b.get("/api/v1/session").await.json();
    assert_eq!(session["signed_in"], false);
}

#[tokio::test]
async fn tampered_tokens_unregistered_redirects_and_pkce_mismatches_are_refused() {
    let t = TestApp::new().await;
    let (id, secret) = register_client(&t, &["openid", "profile"], &["authorization_code"]).await;
    let (mut b, _) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    let rp = relying_party(&t, &id, &secret).await;

    // An unregistered redirect URI: an error page at onetrip, never a redirect.
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let bad = format!(
        "/oauth2/authorize?response_type=code&client_id={id}&redirect_uri={}&scope=openid&state=s&code_challenge={}&code_challenge_method=S256",
        enc("https://evil.example/cb"),
        challenge.as_str()
    );
    let r = b.get(&bad).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.header("location").is_none());
    // A redirect URI differing only by a trailing slash is just as unregistered.
    let r = b
        .get(&bad.replace(
            &enc("https://evil.example/cb"),
            &enc(&format!("{REDIRECT}/")),
        ))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // PKCE mismatch: the code is refused with the wrong verifier (and is then spent).
    let (challenge, _verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, nonce) = rp
        .client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    let callback = browse_to_callback(&mut b, url.as_str()).await;
    let code = query_param(&callback, "code").unwrap();
    let (_, wrong) = PkceCodeChallenge::new_random_sha256();
    let refused = rp
        .client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(wrong)
        .request_async(&http(&t))
        .await;
    assert!(refused.is_err(), "PKCE mismatch must be refused");

    // Without PKCE at all, the request goes back to the client with an error.
    let r = b
        .get(&format!("/oauth2/authorize?response_type=code&client_id={id}&redirect_uri={}&scope=openid&state=s2", enc(REDIRECT)))
        .await;
    let to = r.header("location").unwrap();
    assert!(
        to.starts_with(REDIRECT) && to.contains("error=invalid_request") && to.contains("state=s2"),
        "{to}"
    );

    // A good flow, then tampered tokens.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, nonce2) = rp
        .client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge)
        .url();
    let _ = nonce;
    let callback = browse_to_callback(&mut b, url.as_str()).await;
    let tokens = rp
        .client
        .exchange_code(AuthorizationCode::new(
            query_param(&callback, "code").unwrap(),
        ))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http(&t))
        .await
        .unwrap();
    let id_token = tokens.id_token().unwrap().to_string();
    // Part 1: a claim changed (another subject); part 2: the signature changed.
    let tamper = |jwt: &str, part: usize| {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut parts: Vec<String> = jwt.split('.').map(str::to_string).collect();
        parts[part] = if part == 1 {
            let mut claims: Value =
                serde_json::from_slice(&b64.decode(&parts[1]).unwrap()).unwrap();
            claims["sub"] = Value::from("someone-else");
            b64.encode(serde_json::to_vec(&claims).unwrap())
        } else {
            unsafe_flip(&parts[part])
        };
        parts.join(".")
    };
    for part in [1, 2] {
        let forged: openidconnect::core::CoreIdToken =
            serde_json::from_value(Value::String(tamper(&id_token, part))).unwrap();
        assert!(
            forged
                .claims(&rp.client.id_token_verifier(), &nonce2)
                .is_err(),
            "tampered part {part} accepted"
        );
    }
    let access = tokens.access_token().secret().clone();
    for part in [1, 2] {
        let r = t
            .send(
                req(Method::GET, "/oauth2/userinfo")
                    .header(
                        header::AUTHORIZATION,
                        format!("Bearer {}", tamper(&access, part)),
                    )
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "tampered access token part {part}"
        );
    }
    // The ID token is not an access token.
    let r = t
        .send(
            req(Method::GET, "/oauth2/userinfo")
                .header(header::AUTHORIZATION, format!("Bearer {id_token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // A wrong client secret.
    let wrong = CoreClient::from_provider_metadata(
        CoreProviderMetadata::discover_async(IssuerUrl::new(ISSUER.into()).unwrap(), &http(&t))
            .await
            .unwrap(),
        ClientId::new(id.clone()),
        Some(ClientSecret::new("not-the-secret".into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    assert!(
        wrong
            .exchange_code(AuthorizationCode::new("x".into()))
            .unwrap()
            .request_async(&http(&t))
            .await
            .is_err()
    );
}

/// Changes one base64url character of a JWT part (keeping it valid base64url).
fn unsafe_flip(part: &str) -> String {
    let mut chars: Vec<char> = part.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

#[tokio::test]
async fn an_expired_refresh_token_is_refused() {
    let t = TestApp::new().await;
    let (id, secret) = register_client(
        &t,
        &["openid", "offline_access"],
        &["authorization_code", "refresh_token"],
    )
    .await;
    let (mut b, _) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    let rp = relying_party(&t, &id, &secret).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, _, _) = rp
        .client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    let callback = browse_to_callback(&mut b, url.as_str()).await;
    let tokens = rp
        .client
        .exchange_code(AuthorizationCode::new(
            query_param(&callback, "code").unwrap(),
        ))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http(&t))
        .await
        .unwrap();
    let refresh: RefreshToken = tokens.refresh_token().unwrap().clone();
    // 31 days later (the lifetime is 30): the same token endpoint, with the clock moved on.
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(31 * 24);
    let params = onetrip_app::sso::TokenParams {
        grant_type: Some("refresh_token".into()),
        refresh_token: Some(refresh.secret().clone()),
        ..Default::default()
    };
    let credentials = onetrip_app::sso::ClientCredentials {
        client_id: Some(id.clone()),
        client_secret: Some(secret.clone()),
    };
    let refused = t.app.token(&params, &credentials, later).await;
    assert_eq!(
        refused.err(),
        Some(onetrip_domain::sso::SsoError::InvalidGrant)
    );
    // Still live now.
    assert!(
        t.app
            .token(&params, &credentials, jiff::Timestamp::now())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn machine_clients_get_tokens_with_client_credentials() {
    let t = TestApp::new().await;
    let (id, secret) = register_client(&t, &["api"], &["client_credentials"]).await;
    let basic = base64_basic(&id, &secret);
    let r = t
        .send(
            req(Method::POST, "/oauth2/token")
                .header(header::AUTHORIZATION, &basic)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("grant_type=client_credentials&scope=api"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let token = r.json()["access_token"].as_str().unwrap().to_string();
    // Not a person: no userinfo.
    let r = t
        .send(
            req(Method::GET, "/oauth2/userinfo")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Scopes beyond the registration, and grant types not registered, are refused.
    for (body, error) in [
        (
            "grant_type=client_credentials&scope=openid",
            "invalid_scope",
        ),
        (
            "grant_type=authorization_code&code=x",
            "unauthorized_client",
        ),
        ("grant_type=password&username=a", "unsupported_grant_type"),
    ] {
        let r = t
            .send(
                req(Method::POST, "/oauth2/token")
                    .header(header::AUTHORIZATION, &basic)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(r.json()["error"], error, "{body}");
    }
    let r = t
        .send(
            req(Method::POST, "/oauth2/token")
                .header(header::AUTHORIZATION, base64_basic(&id, "wrong"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("grant_type=client_credentials"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"], "invalid_client");
}

fn base64_basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

#[tokio::test]
async fn discovery_and_jwks_describe_the_provider() {
    let t = TestApp::new().await;
    let d = t.get_json("/.well-known/openid-configuration").await;
    assert_eq!(d["issuer"], ISSUER);
    assert_eq!(d["subject_types_supported"], json!(["public"]));
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
    let jwks = t.get_json("/oauth2/jwks").await;
    let algs: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    assert!(
        algs.contains(&"RS256") && algs.contains(&"EdDSA"),
        "{algs:?}"
    );
    assert!(
        jwks.to_string().find("\"d\"").is_none(),
        "no private key material"
    );
    // Client registration refuses bad redirect URIs, all at once.
    let r = t
        .admin_json(Method::POST, "/api/v1/clients", &json!({"name": "", "redirect_uris": ["http://x.example/cb", "https://ok.example/cb#frag"], "grant_types": ["authorization_code", "implicit"], "scopes": ["openid", "email"]}))
        .await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let errors = r.field_errors();
    for (path, code) in [
        ("name", "required"),
        ("grant_types[1]", "unsupported_grant_type"),
        ("redirect_uris[0]", "redirect_uri_invalid"),
        ("redirect_uris[1]", "redirect_uri_invalid"),
        ("scopes", "invalid_scope"),
    ] {
        assert_has(&errors, path, code);
    }
}

#[tokio::test]
async fn a_disabled_client_gets_no_tokens_and_a_new_secret_replaces_the_old() {
    let t = TestApp::new().await;
    let (id, secret) = register_client(&t, &["api"], &["client_credentials"]).await;
    let grant = |secret: String| {
        let id = id.clone();
        let t = &t;
        async move {
            t.send(
                req(Method::POST, "/oauth2/token")
                    .header(header::AUTHORIZATION, base64_basic(&id, &secret))
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from("grant_type=client_credentials"))
                    .unwrap(),
            )
            .await
            .status
        }
    };
    assert_eq!(grant(secret.clone()).await, StatusCode::OK);
    let r = t
        .admin_json(
            Method::POST,
            &format!("/api/v1/clients/{id}/secret"),
            &json!({}),
        )
        .await;
    let new_secret = r.json()["client_secret"].as_str().unwrap().to_string();
    assert_eq!(
        grant(secret).await,
        StatusCode::UNAUTHORIZED,
        "the old secret stops at once"
    );
    assert_eq!(grant(new_secret.clone()).await, StatusCode::OK);
    let r = t
        .admin_json(
            Method::PUT,
            &format!("/api/v1/clients/{id}/disabled"),
            &json!({"disabled": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(grant(new_secret.clone()).await, StatusCode::UNAUTHORIZED);
    let listed = t
        .send(
            req(Method::GET, "/api/v1/clients")
                .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(listed.json()[0]["disabled"], true);
    assert!(
        !listed.text().contains(&new_secret),
        "secrets are never listed"
    );
}
