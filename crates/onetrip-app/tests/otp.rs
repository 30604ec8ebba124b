//! SMS one-time code sign-in on SQLite, through the sandbox gateway.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use onetrip_app::otp::CodePurpose;
use onetrip_app::sms::{SandboxSms, SmsTemplate};
use onetrip_app::{App, AppError};
use onetrip_domain::Localized;
use onetrip_domain::identity::{AssuranceLevel, OtpPolicy, OtpRefusal};
use onetrip_store::NewPerson;

const RID: &str = "11010519491231002X";
const PHONE: &str = "13800138000";

fn now() -> Timestamp {
    "2026-11-21T02:00:00Z".parse().unwrap()
}

fn after(secs: i64) -> Timestamp {
    now() + SignedDuration::from_secs(secs)
}

fn ip() -> Option<IpAddr> {
    Some("203.0.113.7".parse().unwrap())
}

async fn app() -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let app = App::connect(&url).await.unwrap();
    // The account is stored directly: these tests count the codes sent to its phone.
    let _ = date(2026, 11, 21);
    app.db
        .insert_person(
            &NewPerson {
                resident_id: RID.to_string(),
                name: "张晓明".to_string(),
                phone: PHONE.to_string(),
                email: None,
                assurance_level: AssuranceLevel::L1,
                password_hash: None,
            },
            now(),
        )
        .await
        .unwrap();
    (dir, app)
}

/// The code of the newest message sent to `phone`.
async fn last_code(app: &App, phone: &str) -> String {
    let messages = app.db.sms_messages(phone).await.unwrap();
    let sent = messages
        .iter()
        .find(|m| m.status == "sent")
        .expect("a sent message");
    assert_eq!(sent.template, "sign_in_code");
    let digits: String = sent.body.chars().filter(char::is_ascii_digit).collect();
    // "【onetrip】您的验证码为123456，5分钟内有效。请勿泄露。"
    digits[..6].to_string()
}

fn code_of(e: &AppError) -> &'static str {
    e.code()
}

#[tokio::test]
async fn message_text() {
    assert_eq!(
        SmsTemplate::SignInCode.render("onetrip", &[("code", "012345"), ("minutes", "5")]),
        "【onetrip】您的验证码为012345，5分钟内有效。请勿泄露。"
    );
}

#[tokio::test]
async fn sign_in_with_a_code_once() {
    let (_dir, app) = app().await;
    let sent = app
        .send_code(CodePurpose::SignIn, "+86 138-0013-8000", now(), 123_456)
        .await
        .unwrap();
    assert_eq!(sent.expires_at, after(300));
    assert_eq!(sent.resend_at, after(60));
    let messages = app.db.sms_messages(PHONE).await.unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0].body,
        "【onetrip】您的验证码为123456，5分钟内有效。请勿泄露。"
    );
    let code = last_code(&app, PHONE).await;
    assert_eq!(code, "123456");
    // The code is not stored in clear.
    let challenge = app
        .db
        .latest_otp_challenge(PHONE, "sign_in")
        .await
        .unwrap()
        .unwrap();
    assert!(!challenge.code_digest.contains("123456"));
    assert_eq!(challenge.code_digest.len(), 64);

    let signed = app
        .sign_in_with_code(PHONE, &code, ip(), after(30))
        .await
        .unwrap();
    assert_eq!(signed.assurance_level, AssuranceLevel::L1);
    let history = app.recent_sign_ins(&signed.account_id, 10).await.unwrap();
    assert_eq!(history[0].method, "sms");
    assert!(history[0].succeeded);
    assert_eq!(history[0].ip.as_deref(), Some("203.0.113.7"));

    let e = app
        .sign_in_with_code(PHONE, &code, ip(), after(31))
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "otp_used");
    let history = app.recent_sign_ins(&signed.account_id, 10).await.unwrap();
    assert_eq!(history.len(), 2);
    assert!(!history[0].succeeded);
}

#[tokio::test]
async fn five_wrong_codes_lock_the_challenge() {
    let (_dir, app) = app().await;
    app.send_code(CodePurpose::SignIn, PHONE, now(), 654_321)
        .await
        .unwrap();
    for left in (0..5).rev() {
        let e = app
            .sign_in_with_code(PHONE, "000000", ip(), after(5))
            .await
            .unwrap_err();
        assert!(
            matches!(e, AppError::Otp(OtpRefusal::WrongCode { attempts_left }) if attempts_left == left),
            "{e:?}"
        );
    }
    // Five failures also lock code sign-in for the phone (throttling, checked first), so
    // even the right code is refused.
    let e = app
        .sign_in_with_code(PHONE, "654321", ip(), after(6))
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "sign_in_throttled");
    // A new code works again once the lockout (15 minutes after the last failure) is over.
    app.send_code(CodePurpose::SignIn, PHONE, after(910), 111_111)
        .await
        .unwrap();
    app.sign_in_with_code(PHONE, "111111", ip(), after(911))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_locked_challenge_refuses_even_the_right_code() {
    let (_dir, app) = app().await;
    // Fewer attempts per code than failures per login name, so the challenge locks first.
    let app = app.with_otp_policy(OtpPolicy {
        max_attempts: 3,
        ..OtpPolicy::default()
    });
    app.send_code(CodePurpose::SignIn, PHONE, now(), 654_321)
        .await
        .unwrap();
    for _ in 0..3 {
        let e = app
            .sign_in_with_code(PHONE, "000000", ip(), after(5))
            .await
            .unwrap_err();
        assert_eq!(code_of(&e), "otp_wrong");
    }
    let e = app
        .sign_in_with_code(PHONE, "654321", ip(), after(6))
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "otp_locked");
    // A new code (after the cooldown) works again.
    app.send_code(CodePurpose::SignIn, PHONE, after(60), 111_111)
        .await
        .unwrap();
    app.sign_in_with_code(PHONE, "111111", ip(), after(61))
        .await
        .unwrap();
}

#[tokio::test]
async fn codes_expire() {
    let (_dir, app) = app().await;
    app.send_code(CodePurpose::SignIn, PHONE, now(), 222_222)
        .await
        .unwrap();
    let e = app
        .sign_in_with_code(PHONE, "222222", ip(), after(301))
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "otp_expired");
}

#[tokio::test]
async fn cooldown_and_daily_limit() {
    let (_dir, app) = app().await;
    app.send_code(CodePurpose::SignIn, PHONE, now(), 1)
        .await
        .unwrap();
    let e = app
        .send_code(CodePurpose::SignIn, PHONE, after(20), 2)
        .await
        .unwrap_err();
    assert!(
        matches!(e, AppError::Otp(OtpRefusal::Cooldown { wait_secs: 40 })),
        "{e:?}"
    );
    assert_eq!(code_of(&e), "otp_cooldown");
    for i in 1..10 {
        app.send_code(CodePurpose::SignIn, PHONE, after(60 * i), 3)
            .await
            .unwrap();
    }
    let e = app
        .send_code(CodePurpose::SignIn, PHONE, after(600), 4)
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "otp_daily_limit");
    assert_eq!(app.db.sms_messages(PHONE).await.unwrap().len(), 10);
    // The next day in China (midnight UTC+8 is 16:00 UTC) allows codes again.
    app.send_code(
        CodePurpose::SignIn,
        PHONE,
        "2026-11-21T16:00:00Z".parse().unwrap(),
        5,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn unknown_phone_gets_a_code_but_cannot_sign_in() {
    let (_dir, app) = app().await;
    let other = "13900139000";
    app.send_code(CodePurpose::SignIn, other, now(), 333_333)
        .await
        .unwrap();
    assert_eq!(last_code(&app, other).await, "333333");
    let e = app
        .sign_in_with_code(other, "333333", ip(), after(1))
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::SignInFailed));
    // No code sent at all: the same generic failure.
    let e = app
        .sign_in_with_code("13700137000", "333333", ip(), after(1))
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::SignInFailed));
    let e = app
        .send_code(CodePurpose::SignIn, "12345", now(), 1)
        .await
        .unwrap_err();
    match e {
        AppError::Rejected(p) => {
            assert_eq!((p[0].path.as_str(), p[0].code), ("phone", "phone_format"))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn failing_gateway_leaves_no_usable_challenge() {
    let (_dir, app) = app().await;
    let gateway = SandboxSms::new(app.db.clone()).fail_every(2);
    let app = app.with_sms_gateway(Arc::new(gateway));
    app.send_code(CodePurpose::SignIn, PHONE, now(), 444_444)
        .await
        .unwrap();
    let e = app
        .send_code(CodePurpose::SignIn, PHONE, after(60), 555_555)
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::SmsUnavailable(_)), "{e:?}");
    assert_eq!(code_of(&e), "sms_unavailable");
    let messages = app.db.sms_messages(PHONE).await.unwrap();
    assert_eq!(messages[0].status, "failed");
    // The failed code was never usable; the previous challenge is the latest again.
    let latest = app
        .db
        .latest_otp_challenge(PHONE, "sign_in")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.issued_at, now());
    let e = app
        .sign_in_with_code(PHONE, "555555", ip(), after(61))
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "otp_wrong");
    // Asking again right away is allowed (the cooldown runs from the code that was sent).
    app.send_code(CodePurpose::SignIn, PHONE, after(62), 666_666)
        .await
        .unwrap();
    app.sign_in_with_code(PHONE, "666666", ip(), after(63))
        .await
        .unwrap();
}

#[tokio::test]
async fn slow_gateway_and_custom_policy() {
    let (_dir, app) = app().await;
    let gateway = SandboxSms::new(app.db.clone())
        .with_signature("测试平台")
        .with_delay(Duration::from_millis(50));
    let app = app
        .with_sms_gateway(Arc::new(gateway))
        .with_otp_policy(OtpPolicy {
            ttl_secs: 120,
            ..OtpPolicy::default()
        });
    let started = std::time::Instant::now();
    app.send_code(CodePurpose::SignIn, PHONE, now(), 777_777)
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(50));
    let messages = app.db.sms_messages(PHONE).await.unwrap();
    assert_eq!(
        messages[0].body,
        "【测试平台】您的验证码为777777，2分钟内有效。请勿泄露。"
    );
    let e = app
        .sign_in_with_code(PHONE, "777777", ip(), after(121))
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "otp_expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_verification_succeeds_at_most_once() {
    let (_dir, app) = app().await;
    app.send_code(CodePurpose::SignIn, PHONE, now(), 888_888)
        .await
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(
                async move { app.sign_in_with_code(PHONE, "888888", ip(), after(1)).await },
            )
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            // The losers spent attempts; after five failures the phone's code sign-in is
            // throttled, so a late loser may be refused by the throttle instead.
            Err(e) => assert!(
                ["otp_used", "sign_in_throttled"].contains(&code_of(&e)),
                "{}",
                code_of(&e)
            ),
        }
    }
    assert_eq!(ok, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_wrong_codes_all_count() {
    let (_dir, app) = app().await;
    app.send_code(CodePurpose::SignIn, PHONE, now(), 999_999)
        .await
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(
                async move { app.sign_in_with_code(PHONE, "000000", ip(), after(1)).await },
            )
        })
        .collect();
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(code_of(&t.await.unwrap().unwrap_err()));
    }
    assert_eq!(codes.iter().filter(|c| **c == "otp_wrong").count(), 5);
    // The others found the challenge locked, or (when five failures were already recorded)
    // the phone's code sign-in throttled.
    assert_eq!(
        codes
            .iter()
            .filter(|c| **c == "otp_locked" || **c == "sign_in_throttled")
            .count(),
        3
    );
    let e = app
        .sign_in_with_code(PHONE, "999999", ip(), after(2))
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "sign_in_throttled");
}
