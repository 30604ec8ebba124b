//! Account use cases on SQLite: registration, password sign-in, and the sign-in history.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::net::IpAddr;

use jiff::Timestamp;
use jiff::civil::{Date, date};
use onetrip_app::accounts::RegisterPerson;
use onetrip_app::{App, AppError};
use onetrip_domain::Localized;
use onetrip_domain::identifiers::resident_id_check_char;
use onetrip_domain::identity::AssuranceLevel;
use secrecy::SecretString;

const RID: &str = "11010519491231002X";
const PHONE: &str = "13800138000";
const PASSWORD: &str = "Lianhua-Qiao7#";

fn today() -> Date {
    date(2026, 11, 21)
}

fn now() -> Timestamp {
    "2026-11-21T02:00:00Z".parse().unwrap()
}

/// A valid resident ID number from its first 17 characters.
fn rid(first17: &str) -> String {
    format!("{first17}{}", resident_id_check_char(first17).unwrap())
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_string())
}

fn registration(resident_id: &str, name: &str, phone: &str, password: &str) -> RegisterPerson {
    RegisterPerson {
        resident_id: resident_id.to_string(),
        name: name.to_string(),
        phone: phone.to_string(),
        password: secret(password),
        sms_code: String::new(),
    }
}

async fn app() -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    (dir, App::connect(&url).await.unwrap())
}

/// `(path, code)` of every problem of a rejection.
fn problems(e: AppError) -> Vec<(String, &'static str)> {
    match e {
        AppError::Rejected(p) => p.into_iter().map(|p| (p.path, p.code)).collect(),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn pairs(list: &[(&str, &'static str)]) -> Vec<(String, &'static str)> {
    list.iter().map(|(p, c)| (p.to_string(), *c)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_then_sign_in_by_phone_or_id() {
    let (_dir, app) = app().await;
    let id = support::register(
        &app,
        registration(RID, " 张三 ", "+86 138-0013-8000", PASSWORD),
        today(),
        now(),
    )
    .await
    .unwrap();
    let stored = app.db.person_by_id(id.as_str()).await.unwrap().unwrap();
    assert_eq!(stored.name, "张三");
    assert_eq!(stored.phone, PHONE);
    assert_eq!(stored.resident_id, RID);
    assert_eq!(stored.assurance_level, AssuranceLevel::L1);

    for login in [PHONE, RID, "11010519491231002x", " 138 0013 8000 "] {
        let signed = app
            .sign_in_with_password(login, &secret(PASSWORD), None, now())
            .await
            .unwrap();
        assert_eq!(signed.account_id, id);
        assert_eq!(signed.assurance_level, AssuranceLevel::L1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_and_unknown_account_look_the_same() {
    let (_dir, app) = app().await;
    support::register(
        &app,
        registration(RID, "张三", PHONE, PASSWORD),
        today(),
        now(),
    )
    .await
    .unwrap();
    let wrong = app
        .sign_in_with_password(PHONE, &secret("Lianhua-Qiao8#"), None, now())
        .await
        .unwrap_err();
    let unknown_phone = app
        .sign_in_with_password("13900139000", &secret(PASSWORD), None, now())
        .await
        .unwrap_err();
    let unknown_id = app
        .sign_in_with_password(&rid("11010519800101001"), &secret(PASSWORD), None, now())
        .await
        .unwrap_err();
    let garbage = app
        .sign_in_with_password("not a login", &secret(PASSWORD), None, now())
        .await
        .unwrap_err();
    for e in [&wrong, &unknown_phone, &unknown_id, &garbage] {
        assert!(matches!(e, AppError::SignInFailed), "{e:?}");
        assert_eq!(e.code(), "sign_in_failed");
        assert_eq!(e.message_en(), wrong.message_en());
        assert_eq!(e.message_zh(), wrong.message_zh());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_id_or_phone_is_refused() {
    let (_dir, app) = app().await;
    support::register(
        &app,
        registration(RID, "张三", PHONE, PASSWORD),
        today(),
        now(),
    )
    .await
    .unwrap();
    let other_id = rid("11010519800101001");
    let both = support::register(
        &app,
        registration(RID, "李四", PHONE, PASSWORD),
        today(),
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        problems(both),
        pairs(&[
            ("resident_id", "resident_id_taken"),
            ("phone", "phone_taken")
        ])
    );
    let id_only = support::register(
        &app,
        registration(RID, "李四", "13900139000", PASSWORD),
        today(),
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        problems(id_only),
        pairs(&[("resident_id", "resident_id_taken")])
    );
    let phone_only = support::register(
        &app,
        registration(&other_id, "李四", PHONE, PASSWORD),
        today(),
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(problems(phone_only), pairs(&[("phone", "phone_taken")]));
    // The lower-case check character is the same number.
    let lower = support::register(
        &app,
        registration("11010519491231002x", "李四", "13900139000", PASSWORD),
        today(),
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        problems(lower),
        pairs(&[("resident_id", "resident_id_taken")])
    );
    support::register(
        &app,
        registration(&other_id, "李四", "13900139000", PASSWORD),
        today(),
        now(),
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_problem_is_listed() {
    let (_dir, app) = app().await;
    let e = support::register(
        &app,
        registration("110105194912310021", "  ", "12345", "12345"),
        today(),
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "validation_failed");
    assert_eq!(
        problems(e),
        pairs(&[
            ("resident_id", "resident_id_checksum"),
            ("name", "required"),
            ("phone", "phone_format"),
            ("password", "password_too_short"),
            ("password", "password_too_few_classes"),
            ("password", "password_common"),
            ("password", "password_sequence"),
        ])
    );

    let personal = support::register(
        &app,
        registration(RID, "张三", PHONE, "Zz13800138000"),
        today(),
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        problems(personal),
        pairs(&[("password", "password_contains_phone")])
    );
    let birth = support::register(
        &app,
        registration(RID, "张三", PHONE, "Zz-19491231!"),
        today(),
        now(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        problems(birth),
        pairs(&[("password", "password_contains_id_number")])
    );
    assert!(app.db.person_by_phone(PHONE).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stored_hash_is_argon2id_and_never_the_password() {
    let (_dir, app) = app().await;
    let id = support::register(
        &app,
        registration(RID, "张三", PHONE, PASSWORD),
        today(),
        now(),
    )
    .await
    .unwrap();
    let stored = app.db.person_by_id(id.as_str()).await.unwrap().unwrap();
    let hash = stored.password_hash.clone().unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(PASSWORD));
    assert!(onetrip_app::accounts::verify_password(
        PASSWORD.as_bytes(),
        &hash
    ));
    assert!(!onetrip_app::accounts::verify_password(
        b"Lianhua-Qiao8#",
        &hash
    ));
    // Two registrations of the same password get different salts.
    let other = support::register(
        &app,
        registration(&rid("11010519800101001"), "李四", "13900139000", PASSWORD),
        today(),
        now(),
    )
    .await
    .unwrap();
    let other_hash = app
        .db
        .person_by_id(other.as_str())
        .await
        .unwrap()
        .unwrap()
        .password_hash
        .unwrap();
    assert_ne!(hash, other_hash);
    let debug = format!("{stored:?}");
    assert!(!debug.contains(RID) && !debug.contains(&hash), "{debug}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_history_records_every_attempt() {
    let (_dir, app) = app().await;
    let id = support::register(
        &app,
        registration(RID, "张三", PHONE, PASSWORD),
        today(),
        now(),
    )
    .await
    .unwrap();
    let ip: IpAddr = "203.0.113.9".parse().unwrap();
    let minute = |n: i64| now() + jiff::SignedDuration::from_mins(n);
    app.sign_in_with_password(PHONE, &secret("wrong-Password1"), Some(ip), minute(1))
        .await
        .unwrap_err();
    app.sign_in_with_password(RID, &secret(PASSWORD), Some(ip), minute(2))
        .await
        .unwrap();
    app.sign_in_with_password("13900139000", &secret(PASSWORD), Some(ip), minute(3))
        .await
        .unwrap_err();
    app.sign_in_with_password(PHONE, &secret(PASSWORD), None, minute(4))
        .await
        .unwrap();
    let history = app.recent_sign_ins(&id, 10).await.unwrap();
    let got: Vec<(Timestamp, bool, Option<&str>, &str)> = history
        .iter()
        .map(|r| (r.at, r.succeeded, r.ip.as_deref(), r.method.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (minute(4), true, None, "password"),
            (minute(2), true, Some("203.0.113.9"), "password"),
            (minute(1), false, Some("203.0.113.9"), "password"),
        ]
    );
    assert_eq!(app.recent_sign_ins(&id, 1).await.unwrap().len(), 1);
}

#[tokio::test]
async fn registration_needs_the_code_sent_to_the_phone() {
    let (_dir, app) = app().await;
    // No code sent at all.
    let refused = app
        .register_person(registration(RID, "张三", PHONE, PASSWORD), today(), now())
        .await;
    let Err(AppError::Rejected(problems)) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(problems.len(), 1);
    assert_eq!(
        (problems[0].path.as_str(), problems[0].code),
        ("sms_code", "sms_code_not_sent")
    );
    // A wrong code.
    app.send_code(onetrip_app::otp::CodePurpose::Register, PHONE, now(), 1)
        .await
        .unwrap();
    let mut wrong = registration(RID, "张三", PHONE, PASSWORD);
    wrong.sms_code = "999999".to_string();
    let Err(AppError::Rejected(problems)) = app.register_person(wrong, today(), now()).await else {
        panic!("wrong code accepted")
    };
    assert_eq!(
        (problems[0].path.as_str(), problems[0].code),
        ("sms_code", "otp_wrong")
    );
    // A sign-in code does not register.
    app.send_code(onetrip_app::otp::CodePurpose::SignIn, PHONE, now(), 2)
        .await
        .unwrap();
    let mut sign_in_code = registration(RID, "张三", PHONE, PASSWORD);
    sign_in_code.sms_code = support::latest_code(&app, PHONE).await;
    assert!(
        app.register_person(sign_in_code, today(), now())
            .await
            .is_err()
    );
    assert!(app.db.person_by_phone(PHONE).await.unwrap().is_none());
    // The right code registers, once.
    let mut right = registration(RID, "张三", PHONE, PASSWORD);
    right.sms_code = "000001".to_string();
    app.register_person(right.clone(), today(), now())
        .await
        .unwrap();
    assert!(app.register_person(right, today(), now()).await.is_err());
}
