//! Password verification cost per core, at onetrip's Argon2 parameters and at Keycloak's, and
//! the CPU cost of the token grants without HTTP (for bench/identity.sh, issue 3).
//!
//! Run with `cargo bench -p onetrip-app --bench passwords` (pin it to a core with
//! `taskset -c 1 cargo bench …` once built, as bench/identity.sh pins the server). It prints:
//! * the PHC parameter string of a hash made by onetrip's `hash_password` (Argon2id v19,
//!   m=19456 KiB, t=2, p=1: the argon2 crate's defaults) and of one made with Keycloak's
//!   default parameters (Keycloak 24 and later: Argon2id v19, m=7168 KiB, t=5, p=1, 32 bytes);
//! * criterion's estimates, group `argon2id_verify`: one verification of the right password
//!   with each (onetrip's own `verify_password`, and `Argon2::new(Argon2id, V0x13, params)`).
//!   Argon2 with p=1 is single-threaded, so 1 / time is the verifications per second of one
//!   core; a sign-in adds the HTTP, session and audit work that bench/identity.sh measures;
//! * group `token_grant`: `App::token` on SQLite (a temporary directory), without HTTP:
//!   client_credentials (client look-up + ES256 access token) and refresh_token (look-up,
//!   rotation in one write transaction, ES256 access token), each rotation using the token the
//!   previous one returned;
//! * group `es256`: the signing of the access token alone: `jsonwebtoken::encode` as onetrip
//!   calls it (which parses the PKCS#8 key on every call), the key parse alone, and p256's
//!   signature with a key parsed once.
//!
//! Without `--bench` (e.g. `cargo test --benches`) criterion runs each benchmark once.
//! Benchmarks are not tests: nothing here asserts a timing.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::Criterion;
use jiff::Timestamp;
use jsonwebtoken::{EncodingKey, Header};
use onetrip_app::App;
use onetrip_app::accounts::{hash_password, verify_password};
use onetrip_app::sso::{
    AccessClaims, AuthenticatedUser, AuthorizeParams, ClientCredentials, RegisterClient,
    TokenParams,
};
use onetrip_domain::identity::AssuranceLevel;
use p256::ecdsa::signature::Signer;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use sha2::{Digest, Sha256};

const PASSWORD: &[u8] = b"Bench-correct-horse-42";

/// Keycloak's default password hashing (argon2 provider, Keycloak 24+): memory 7168 KiB,
/// iterations 5, parallelism 1, hash length 32, type id, version 1.3.
fn keycloak_argon2() -> Argon2<'static> {
    let params = Params::new(7168, 5, 1, Some(32)).expect("Keycloak's argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The parameter part of a PHC string (`$argon2id$v=19$m=…,t=…,p=…`), without salt and hash.
fn phc_params(phc: &str) -> String {
    phc.split('$').take(4).collect::<Vec<_>>().join("$")
}

const REDIRECT_URI: &str = "http://127.0.0.1:9/cb";

/// The part of `url`'s query named `name`.
fn query_value(url: &str, name: &str) -> String {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .map(str::to_owned)
        .unwrap_or_default()
}

/// An app on a fresh SQLite database with a machine client and a web client, and one refresh
/// token of the web client from an authorization-code flow (PKCE).
struct Grants {
    app: App,
    machine: ClientCredentials,
    web: ClientCredentials,
    refresh_token: String,
}

async fn grants(dir: &std::path::Path) -> Grants {
    let url = format!("sqlite://{}", dir.join("onetrip.db").display());
    let app = App::connect(&url)
        .await
        .expect("app")
        .with_issuer("http://127.0.0.1:1");
    let now = Timestamp::now();
    let credentials = |c: onetrip_app::sso::RegisteredClient| ClientCredentials {
        client_id: Some(c.client_id),
        client_secret: c.client_secret,
    };
    let machine = credentials(
        app.register_client(
            RegisterClient {
                name: "bench machine".into(),
                redirect_uris: vec![],
                post_logout_redirect_uris: vec![],
                grant_types: vec!["client_credentials".into()],
                scopes: vec!["api".into()],
                public: false,
                department_code: None,
            },
            now,
        )
        .await
        .expect("machine client"),
    );
    let web = credentials(
        app.register_client(
            RegisterClient {
                name: "bench web client".into(),
                redirect_uris: vec![REDIRECT_URI.into()],
                post_logout_redirect_uris: vec![],
                grant_types: vec!["authorization_code".into(), "refresh_token".into()],
                scopes: vec!["openid".into(), "offline_access".into()],
                public: false,
                department_code: None,
            },
            now,
        )
        .await
        .expect("web client"),
    );
    // PKCE (S256).
    let verifier = "bench-pkce-verifier-0123456789-abcdefghijklmnop";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let request = app
        .check_authorization(&AuthorizeParams {
            response_type: Some("code".into()),
            client_id: web.client_id.clone(),
            redirect_uri: Some(REDIRECT_URI.into()),
            scope: Some("openid offline_access".into()),
            state: Some("x".into()),
            code_challenge: Some(challenge),
            code_challenge_method: Some("S256".into()),
            ..AuthorizeParams::default()
        })
        .await
        .map_err(|_| "authorization request refused")
        .expect("authorization request");
    let user = AuthenticatedUser {
        account_id: "bench-account".into(),
        level: AssuranceLevel::L1,
        amr: vec!["pwd".into()],
        auth_time: now,
        acting_for: None,
        session_ref: Some("bench-session".into()),
    };
    let to = app.issue_code(&request, &user, now).await.expect("code");
    let code = query_value(&to, "code");
    let response = app
        .token(
            &TokenParams {
                grant_type: Some("authorization_code".into()),
                code: Some(code),
                redirect_uri: Some(REDIRECT_URI.into()),
                code_verifier: Some(verifier.into()),
                ..TokenParams::default()
            },
            &web,
            now,
        )
        .await
        .expect("code grant");
    Grants {
        app,
        machine,
        web,
        refresh_token: response.refresh_token.expect("a refresh token"),
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");

    let onetrip_hash = hash_password(PASSWORD).expect("onetrip hash");
    let keycloak = keycloak_argon2();
    let keycloak_hash = keycloak
        .hash_password(PASSWORD)
        .map(|h: PasswordHash| h.to_string())
        .expect("Keycloak-parameter hash");
    assert!(verify_password(PASSWORD, &onetrip_hash));
    assert!(
        keycloak
            .verify_password(PASSWORD, keycloak_hash.as_str())
            .is_ok()
    );
    println!("onetrip hash_password:      {}", phc_params(&onetrip_hash));
    println!(
        "Keycloak default parameters: {}",
        phc_params(&keycloak_hash)
    );
    println!(
        "memory × passes: onetrip 19456 KiB × 2 = 38912, Keycloak 7168 KiB × 5 = 35840 (onetrip {:.2}×)",
        38912.0 / 35840.0
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temporary directory");
    let g = runtime.block_on(grants(dir.path()));

    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(if full { 6 } else { 1 }))
        .configure_from_args();

    {
        let mut group = c.benchmark_group("argon2id_verify");
        group.sample_size(20);
        group.bench_function("onetrip_m19456_t2_p1", |b| {
            b.iter(|| assert!(verify_password(black_box(PASSWORD), &onetrip_hash)))
        });
        group.bench_function("keycloak_m7168_t5_p1", |b| {
            b.iter(|| {
                assert!(
                    keycloak
                        .verify_password(black_box(PASSWORD), keycloak_hash.as_str())
                        .is_ok()
                )
            })
        });
        group.finish();
    }

    {
        let mut group = c.benchmark_group("token_grant");
        group.sample_size(50);
        let client_credentials = TokenParams {
            grant_type: Some("client_credentials".into()),
            scope: Some("api".into()),
            ..TokenParams::default()
        };
        group.bench_function("client_credentials", |b| {
            b.iter(|| {
                runtime
                    .block_on(
                        g.app
                            .token(&client_credentials, &g.machine, Timestamp::now()),
                    )
                    .expect("client_credentials grant")
            })
        });
        let mut current = g.refresh_token.clone();
        group.bench_function("refresh_token", |b| {
            b.iter(|| {
                let params = TokenParams {
                    grant_type: Some("refresh_token".into()),
                    refresh_token: Some(current.clone()),
                    ..TokenParams::default()
                };
                let response = runtime
                    .block_on(g.app.token(&params, &g.web, Timestamp::now()))
                    .expect("refresh grant");
                current = response.refresh_token.expect("a rotated refresh token");
            })
        });
        group.finish();
    }

    {
        let secret = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
        let der = secret.to_pkcs8_der().expect("PKCS#8");
        let pem = secret
            .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
            .expect("PEM");
        let key = EncodingKey::from_ec_pem(pem.as_bytes()).expect("encoding key");
        let mut header = Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some("es256-bench".into());
        header.typ = Some("at+jwt".into());
        let now = Timestamp::now().as_second();
        let claims = AccessClaims {
            iss: "http://127.0.0.1:1".into(),
            sub: "bench-account".into(),
            aud: onetrip_app::sso::API_AUDIENCE.into(),
            client_id: "bench-client".into(),
            scope: "openid offline_access".into(),
            iat: now,
            exp: now + 600,
            jti: uuid::Uuid::now_v7().to_string(),
            acr: Some("L1".into()),
            org: None,
        };
        let signing = p256::ecdsa::SigningKey::from_pkcs8_der(der.as_bytes()).expect("key");
        let message = b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9";

        let mut group = c.benchmark_group("es256");
        group.sample_size(50);
        group.bench_function("jsonwebtoken_encode", |b| {
            b.iter(|| jsonwebtoken::encode(&header, black_box(&claims), &key).expect("JWT"))
        });
        group.bench_function("parse_pkcs8_key", |b| {
            b.iter(|| {
                p256::ecdsa::SigningKey::from_pkcs8_der(black_box(der.as_bytes())).expect("key")
            })
        });
        group.bench_function("sign_preparsed_key", |b| {
            b.iter(|| -> p256::ecdsa::Signature { signing.sign(black_box(message)) })
        });
        group.finish();

        // What onetrip signs access tokens with since: Ed25519, key parsed once.
        let ed = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let verifying = ed.verifying_key();
        let signature = ed25519_dalek::Signer::sign(&ed, message);
        let mut group = c.benchmark_group("eddsa");
        group.sample_size(50);
        group.bench_function("sign_preparsed_key", |b| {
            b.iter(|| -> ed25519_dalek::Signature {
                ed25519_dalek::Signer::sign(&ed, black_box(message))
            })
        });
        group.bench_function("verify_strict", |b| {
            b.iter(|| {
                verifying
                    .verify_strict(black_box(message), &signature)
                    .expect("valid")
            })
        });
        group.finish();
    }

    c.final_summary();
}
