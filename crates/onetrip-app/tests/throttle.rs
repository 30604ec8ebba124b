//! Throttling of password sign-ins per login name and per IP address, on SQLite.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::net::IpAddr;

use jiff::civil::{Date, date};
use jiff::{SignedDuration, Timestamp};
use onetrip_app::accounts::RegisterPerson;
use onetrip_app::{App, AppError};
use onetrip_domain::Localized;
use onetrip_domain::identifiers::resident_id_check_char;
use onetrip_domain::identity::LockedBy;
use secrecy::SecretString;

const PASSWORD: &str = "Lianhua-Qiao7#";

fn today() -> Date {
    date(2026, 11, 21)
}

fn now() -> Timestamp {
    "2026-11-21T02:00:00Z".parse().unwrap()
}

fn after(secs: i64) -> Timestamp {
    now() + SignedDuration::from_secs(secs)
}

fn ip(text: &str) -> Option<IpAddr> {
    Some(text.parse().unwrap())
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_string())
}

async fn app() -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    (dir, App::connect(&url).await.unwrap())
}

async fn person(app: &App, first17: &str, phone: &str) {
    let resident_id = format!("{first17}{}", resident_id_check_char(first17).unwrap());
    support::register(
        app,
        RegisterPerson {
            resident_id,
            name: "张三".to_string(),
            phone: phone.to_string(),
            password: secret(PASSWORD),
            sms_code: String::new(),
        },
        today(),
        now(),
    )
    .await
    .unwrap();
}

fn throttled_by(e: &AppError) -> LockedBy {
    match e {
        AppError::Throttled(t) => t.by,
        other => panic!("expected throttling, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_failures_lock_a_login_name_then_thirty_lock_the_address() {
    let (_dir, app) = app().await;
    person(&app, "11010519491231002", "13800138000").await;
    person(&app, "33010619900101123", "13900139000").await;
    let attacker = ip("203.0.113.9");
    let wrong = secret("Wrong-password-1");
    let mut failures = 0;

    // Five wrong passwords for an account, and five for a login name with no account.
    for login in ["13800138000", "13700137000"] {
        for i in 0..5 {
            let e = app
                .sign_in_with_password(login, &wrong, attacker, after(i))
                .await
                .unwrap_err();
            assert!(matches!(e, AppError::SignInFailed), "{login} {i}: {e:?}");
            failures += 1;
        }
    }
    // Both are locked the same way: even the right password is refused, before it is checked.
    let mut answers = Vec::new();
    for login in ["13800138000", "13700137000"] {
        let e = app
            .sign_in_with_password(login, &secret(PASSWORD), attacker, after(10))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "sign_in_throttled");
        assert_eq!(throttled_by(&e), LockedBy::Login);
        answers.push((e.code(), e.message_zh(), e.message_en()));
        failures += 1;
    }
    assert_eq!(answers[0], answers[1]);
    assert!(answers[0].1.contains("15分钟"), "{}", answers[0].1);
    // The lock is on the name, wherever the attempt comes from; it counts whatever form of
    // the phone number was typed.
    let e = app
        .sign_in_with_password(
            "+86 138-0013-8000",
            &secret(PASSWORD),
            ip("192.0.2.1"),
            after(11),
        )
        .await
        .unwrap_err();
    assert_eq!(throttled_by(&e), LockedBy::Login);

    // Another login name from the same address still works…
    app.sign_in_with_password("13900139000", &secret(PASSWORD), attacker, after(12))
        .await
        .unwrap();
    // …until the address reaches its limit (30 failures in the window).
    let mut n = 0;
    while failures < 30 {
        let login = format!("1350013{n:04}");
        n += 1;
        let e = app
            .sign_in_with_password(&login, &wrong, attacker, after(20))
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::SignInFailed), "{e:?}");
        failures += 1;
    }
    let e = app
        .sign_in_with_password("13900139000", &secret(PASSWORD), attacker, after(21))
        .await
        .unwrap_err();
    assert_eq!(throttled_by(&e), LockedBy::Ip);
    // From elsewhere, that login name is fine.
    app.sign_in_with_password("13900139000", &secret(PASSWORD), ip("192.0.2.1"), after(22))
        .await
        .unwrap();

    // After the lockout (15 minutes after the last failure) the first account signs in again.
    app.sign_in_with_password("13800138000", &secret(PASSWORD), attacker, after(21 + 901))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_code_sign_in_is_throttled_on_its_own() {
    let (_dir, app) = app().await;
    person(&app, "11010519491231002", "13800138000").await;
    let wrong = secret("Wrong-password-1");
    for i in 0..5 {
        app.sign_in_with_password("13800138000", &wrong, ip("203.0.113.9"), after(i))
            .await
            .unwrap_err();
    }
    // The password sign-in is locked; the message offers code sign-in, which still works.
    let e = app
        .sign_in_with_password(
            "13800138000",
            &secret(PASSWORD),
            ip("203.0.113.9"),
            after(6),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "sign_in_throttled");
    app.send_code(
        onetrip_app::otp::CodePurpose::SignIn,
        "13800138000",
        after(100),
        424_242,
    )
    .await
    .unwrap();
    app.sign_in_with_code("13800138000", "424242", ip("203.0.113.9"), after(101))
        .await
        .unwrap();
    // Wrong codes lock code sign-in after five failures too.
    for i in 0..5 {
        let e = app
            .sign_in_with_code("13800138000", "000000", ip("203.0.113.9"), after(200 + i))
            .await
            .unwrap_err();
        assert_ne!(e.code(), "sign_in_throttled");
    }
    let e = app
        .sign_in_with_code("13800138000", "000000", ip("203.0.113.9"), after(210))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "sign_in_throttled");
}
