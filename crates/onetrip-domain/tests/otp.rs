//! SMS one-time codes: the code format, challenge verification and issuing limits.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use jiff::{SignedDuration, Timestamp};
use onetrip_domain::Localized;
use onetrip_domain::identity::{OtpChallenge, OtpCode, OtpPolicy, OtpRefusal, may_issue};
use proptest::prelude::*;

const RIGHT: &str = "digest-of-the-right-code";

fn t0() -> Timestamp {
    "2026-11-21T02:00:00Z".parse().unwrap()
}

fn after(secs: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(secs)
}

fn challenge() -> OtpChallenge {
    OtpChallenge::new("13800138000", RIGHT, t0())
}

#[test]
fn defaults_and_serde() {
    let p = OtpPolicy::default();
    assert_eq!(
        (
            p.ttl_secs,
            p.max_attempts,
            p.resend_cooldown_secs,
            p.daily_limit_per_phone
        ),
        (300, 5, 60, 10)
    );
    let partial: OtpPolicy = serde_json::from_str(r#"{"ttl_secs": 120}"#).unwrap();
    assert_eq!(partial.ttl_secs, 120);
    assert_eq!(partial.max_attempts, 5);
    assert!(serde_json::from_str::<OtpPolicy>(r#"{"ttl": 1}"#).is_err());
}

#[test]
fn codes_are_zero_padded_and_hidden() {
    assert_eq!(OtpCode::from_random(0).expose(), "000000");
    assert_eq!(OtpCode::from_random(42).expose(), "000042");
    assert_eq!(OtpCode::from_random(1_000_000).expose(), "000000");
    assert_eq!(OtpCode::from_random(u32::MAX).expose(), "967295");
    let code = OtpCode::from_random(123_456);
    assert!(!format!("{code:?} {code}").contains("123456"));
}

#[test]
fn accepts_once_then_used() {
    let p = OtpPolicy::default();
    let mut c = challenge();
    assert_eq!(c.verify(RIGHT, after(300), &p), Ok(()));
    assert!(c.consumed);
    assert_eq!(
        c.verify(RIGHT, after(301), &p),
        Err(OtpRefusal::AlreadyUsed)
    );
    assert_eq!(OtpRefusal::AlreadyUsed.code(), "otp_used");
}

#[test]
fn expires_after_ttl() {
    let p = OtpPolicy::default();
    let mut c = challenge();
    assert_eq!(c.verify(RIGHT, after(301), &p), Err(OtpRefusal::Expired));
    assert_eq!(c.attempts, 0);
    assert!(!c.consumed);
    assert_eq!(OtpRefusal::Expired.code(), "otp_expired");
}

#[test]
fn wrong_codes_count_down_then_lock() {
    let p = OtpPolicy::default();
    let mut c = challenge();
    for left in (0..5).rev() {
        let e = c.verify("wrong", after(10), &p).unwrap_err();
        assert_eq!(
            e,
            OtpRefusal::WrongCode {
                attempts_left: left
            }
        );
        assert_eq!(e.code(), "otp_wrong");
    }
    let e = c.verify(RIGHT, after(11), &p).unwrap_err();
    assert_eq!(e, OtpRefusal::TooManyAttempts);
    assert_eq!(e.code(), "otp_locked");
    assert!(
        OtpRefusal::WrongCode { attempts_left: 3 }
            .message_zh()
            .contains('3')
    );
}

#[test]
fn issuing_limits() {
    let p = OtpPolicy::default();
    assert_eq!(may_issue(None, 0, t0(), &p), Ok(()));
    assert_eq!(
        may_issue(Some(t0()), 1, after(1), &p),
        Err(OtpRefusal::Cooldown { wait_secs: 59 })
    );
    assert_eq!(
        may_issue(
            Some(t0()),
            1,
            t0() + SignedDuration::from_millis(59_500),
            &p
        ),
        Err(OtpRefusal::Cooldown { wait_secs: 1 })
    );
    assert_eq!(may_issue(Some(t0()), 1, after(60), &p), Ok(()));
    assert_eq!(
        may_issue(Some(t0()), 10, after(60), &p),
        Err(OtpRefusal::DailyLimit)
    );
    assert_eq!(may_issue(None, 9, t0(), &p), Ok(()));
    assert_eq!(OtpRefusal::Cooldown { wait_secs: 5 }.code(), "otp_cooldown");
    assert_eq!(OtpRefusal::DailyLimit.code(), "otp_daily_limit");
}

/// One presentation: the right digest or not, and seconds after issue.
fn presentations() -> impl Strategy<Value = Vec<(bool, i64)>> {
    prop::collection::vec((any::<bool>(), 0i64..600), 0..20)
}

proptest! {
    #[test]
    fn codes_are_six_ascii_digits(random in any::<u32>()) {
        let code = OtpCode::from_random(random);
        prop_assert_eq!(code.expose().len(), 6);
        prop_assert!(code.expose().bytes().all(|b| b.is_ascii_digit()));
        prop_assert_eq!(code.expose().parse::<u32>().unwrap(), random % 1_000_000);
    }

    #[test]
    fn never_accepted_when_it_must_not_be(
        ttl in 1u32..600,
        max_attempts in 1u8..8,
        steps in presentations(),
    ) {
        let p = OtpPolicy { ttl_secs: ttl, max_attempts, ..OtpPolicy::default() };
        let mut c = challenge();
        let mut accepted = 0;
        for (right, secs) in steps {
            let before = c.clone();
            let now = after(secs);
            let digest = if right { RIGHT } else { "wrong" };
            match c.verify(digest, now, &p) {
                Ok(()) => {
                    accepted += 1;
                    prop_assert!(right);
                    prop_assert!(!before.consumed);
                    prop_assert!(secs <= i64::from(ttl));
                    prop_assert!(before.attempts < max_attempts);
                    prop_assert!(c.consumed);
                    prop_assert_eq!(c.attempts, before.attempts);
                }
                Err(OtpRefusal::WrongCode { attempts_left }) => {
                    // Attempts strictly count down.
                    prop_assert_eq!(c.attempts, before.attempts + 1);
                    prop_assert_eq!(attempts_left, max_attempts - c.attempts);
                }
                Err(other) => {
                    prop_assert_eq!(&c, &before);
                    match other {
                        OtpRefusal::AlreadyUsed => prop_assert!(before.consumed),
                        OtpRefusal::Expired => prop_assert!(secs > i64::from(ttl)),
                        OtpRefusal::TooManyAttempts => {
                            prop_assert!(before.attempts >= max_attempts)
                        }
                        _ => prop_assert!(false, "unexpected refusal {other:?}"),
                    }
                }
            }
            prop_assert!(c.attempts <= max_attempts);
        }
        prop_assert!(accepted <= 1);
    }
}
