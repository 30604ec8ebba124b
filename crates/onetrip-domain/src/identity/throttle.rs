//! Throttling of sign-in attempts, per login name and per IP address.
//!
//! Decisions:
//! - **Per login name, not per account:** failures are counted against what was typed (its
//!   digest), whether or not an account has that name. Locking only real accounts would tell
//!   an attacker which names exist.
//! - **Sliding window:** `max_failures_per_login` failures within `window_secs` lock the name
//!   until `lockout_secs` after the last failure; `max_failures_per_ip` failures from one
//!   address within the window do the same for the address, whatever names it tries.
//! - A locked name or address is refused before the password is even checked, with the time
//!   at which it may try again. Successful sign-ins do not erase failures: the window does.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::Localized;

/// Limits on failed sign-ins. `Default` is the onetrip policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottlePolicy {
    /// Window in which failures are counted, in seconds (default 900).
    pub window_secs: u32,
    /// Failures per login name within the window before it is locked (default 5).
    pub max_failures_per_login: u32,
    /// Failures per IP address within the window before it is locked (default 30).
    pub max_failures_per_ip: u32,
    /// How long a lock lasts after the last failure, in seconds (default 900).
    pub lockout_secs: u32,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            window_secs: 900,
            max_failures_per_login: 5,
            max_failures_per_ip: 30,
            lockout_secs: 900,
        }
    }
}

/// Failures counted within the window, with the latest one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Failures {
    /// Number of failures.
    pub count: u32,
    /// The latest failure.
    pub latest: Option<Timestamp>,
}

/// What is locked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LockedBy {
    /// The login name.
    Login,
    /// The IP address.
    Ip,
}

/// A refused attempt: too many failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("too many failed sign-ins")]
pub struct Throttled {
    /// What is locked.
    pub by: LockedBy,
    /// When the next attempt will be accepted.
    pub retry_at: Timestamp,
    /// Whole minutes from the attempt until `retry_at`, at least 1 (for the message).
    pub minutes: i64,
}

impl Localized for Throttled {
    fn code(&self) -> &'static str {
        "sign_in_throttled"
    }

    fn message_zh(&self) -> String {
        let minutes = self.minutes;
        match self.by {
            LockedBy::Login => format!(
                "登录失败次数过多，该账号已暂时锁定：请在{minutes}分钟后再试，或使用短信验证码登录、找回密码"
            ),
            LockedBy::Ip => format!("来自您网络的登录失败次数过多：请在{minutes}分钟后再试"),
        }
    }

    fn message_en(&self) -> String {
        let minutes = self.minutes;
        match self.by {
            LockedBy::Login => format!(
                "Too many failed sign-ins: this account is locked for now. Try again in \
                 {minutes} minute(s), or sign in with an SMS code or reset your password"
            ),
            LockedBy::Ip => format!(
                "Too many failed sign-ins from your network: try again in {minutes} minute(s)"
            ),
        }
    }
}

impl ThrottlePolicy {
    /// The earliest time from which failures count.
    pub fn window_start(&self, now: Timestamp) -> Timestamp {
        now - SignedDuration::from_secs(i64::from(self.window_secs))
    }

    /// Decides whether an attempt at `now` may go ahead, given the failures counted since
    /// [`ThrottlePolicy::window_start`] for the login name and for the IP address.
    pub fn check(&self, login: Failures, ip: Failures, now: Timestamp) -> Result<(), Throttled> {
        let lockout = SignedDuration::from_secs(i64::from(self.lockout_secs));
        for (failures, max, by) in [
            (login, self.max_failures_per_login, LockedBy::Login),
            (ip, self.max_failures_per_ip, LockedBy::Ip),
        ] {
            if max > 0
                && failures.count >= max
                && let Some(latest) = failures.latest
            {
                let retry_at = latest + lockout;
                if retry_at > now {
                    let secs = retry_at.duration_since(now).as_secs();
                    let minutes = ((secs + 59) / 60).max(1);
                    return Err(Throttled {
                        by,
                        retry_at,
                        minutes,
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    #[test]
    fn locks_after_the_limit_until_the_lockout_ends() {
        let p = ThrottlePolicy::default();
        let four = Failures {
            count: 4,
            latest: Some(at(0)),
        };
        let five = Failures {
            count: 5,
            latest: Some(at(0)),
        };
        let none = Failures::default();
        assert_eq!(p.check(four, none, at(1)), Ok(()));
        let locked = p.check(five, none, at(1)).unwrap_err();
        assert_eq!(locked.by, LockedBy::Login);
        assert_eq!(locked.retry_at, at(900));
        assert_eq!(locked.minutes, 15);
        assert_eq!(p.check(five, none, at(900)), Ok(()));
        let ip = Failures {
            count: 30,
            latest: Some(at(0)),
        };
        assert_eq!(p.check(none, ip, at(899)).unwrap_err().by, LockedBy::Ip);
        assert_eq!(p.check(none, ip, at(899)).unwrap_err().minutes, 1);
        assert!(p.window_start(at(900)) == at(0));
    }
}
