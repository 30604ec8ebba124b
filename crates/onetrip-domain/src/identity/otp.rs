//! SMS one-time codes (短信验证码): the policy, the code, and the state of one challenge.
//!
//! Pure rules: the caller passes the clock (`now`), the randomness (a `u32`) and the digest of
//! the presented code; this module never sees a code stored in clear.
//!
//! Decisions:
//! - **Codes** are six ASCII digits, `random % 1_000_000`, zero-padded. `2^32` is not a
//!   multiple of `10^6`: codes below `967_296` come up with probability `4295 / 2^32`, the
//!   others `4294 / 2^32`, a relative bias of about `2.3 × 10^-4` — negligible next to the
//!   one-in-a-million guess with at most [`OtpPolicy::max_attempts`] tries.
//! - **A challenge expires** at `issued_at + ttl_secs`, that instant included.
//! - **Checks run in a fixed order:** already used, expired, locked, then the code. A wrong
//!   code counts an attempt and says how many are left (`0` on the last one); once
//!   `max_attempts` wrong codes were presented, even the right code is refused as locked.
//! - **Issuing** is refused while the previous code for the same phone is younger than
//!   `resend_cooldown_secs` (saying how long to wait), and when `daily_limit_per_phone` codes
//!   were already issued "today" (the caller decides the day: onetrip counts from midnight
//!   in China).
//! - Digests are compared in constant time.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::Localized;
use crate::identity::constant_time_eq;

/// Limits of SMS one-time codes. `Default` is the onetrip policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtpPolicy {
    /// How long a code is valid, in seconds (default 300).
    pub ttl_secs: u32,
    /// Wrong codes accepted before the challenge is locked (default 5).
    pub max_attempts: u8,
    /// Minimum time between two codes for one phone, in seconds (default 60).
    pub resend_cooldown_secs: u32,
    /// Codes per phone per day (default 10).
    pub daily_limit_per_phone: u32,
}

impl Default for OtpPolicy {
    fn default() -> Self {
        Self {
            ttl_secs: 300,
            max_attempts: 5,
            resend_cooldown_secs: 60,
            daily_limit_per_phone: 10,
        }
    }
}

/// A six-digit one-time code. `Debug` and `Display` do not show it; [`OtpCode::expose`] does.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpCode(String);

impl OtpCode {
    /// The code for a random `u32` (see the module documentation for the bias).
    pub fn from_random(random: u32) -> OtpCode {
        OtpCode(format!("{:06}", random % 1_000_000))
    }

    /// The six digits.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OtpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OtpCode(<secret>)")
    }
}

impl fmt::Display for OtpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("******")
    }
}

/// Why a code is not accepted, or not issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum OtpRefusal {
    /// The code is older than the policy's time to live.
    #[error("code expired")]
    Expired,
    /// Too many wrong codes were presented.
    #[error("too many wrong codes")]
    TooManyAttempts,
    /// The code was already used.
    #[error("code already used")]
    AlreadyUsed,
    /// The code is wrong.
    #[error("wrong code, {attempts_left} attempt(s) left")]
    WrongCode {
        /// Attempts left before the challenge is locked.
        attempts_left: u8,
    },
    /// A code was sent too recently.
    #[error("wait {wait_secs} s before asking for another code")]
    Cooldown {
        /// Seconds to wait.
        wait_secs: u32,
    },
    /// The daily number of codes for this phone is reached.
    #[error("daily code limit reached")]
    DailyLimit,
}

impl Localized for OtpRefusal {
    fn code(&self) -> &'static str {
        match self {
            Self::Expired => "otp_expired",
            Self::TooManyAttempts => "otp_locked",
            Self::AlreadyUsed => "otp_used",
            Self::WrongCode { .. } => "otp_wrong",
            Self::Cooldown { .. } => "otp_cooldown",
            Self::DailyLimit => "otp_daily_limit",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::Expired => "验证码已过期：请重新获取验证码".to_string(),
            Self::TooManyAttempts => "验证码错误次数过多：请重新获取验证码".to_string(),
            Self::AlreadyUsed => "验证码已使用：请重新获取验证码".to_string(),
            Self::WrongCode { attempts_left: 0 } => {
                "验证码不正确，已无剩余尝试次数：请重新获取验证码".to_string()
            }
            Self::WrongCode { attempts_left } => {
                format!("验证码不正确：请核对短信后重新输入，还可尝试{attempts_left}次")
            }
            Self::Cooldown { wait_secs } => {
                format!("获取验证码过于频繁：请{wait_secs}秒后再试")
            }
            Self::DailyLimit => "今日获取验证码次数已达上限：请明天再试".to_string(),
        }
    }

    fn message_en(&self) -> String {
        match self {
            Self::Expired => "The code has expired: ask for a new code".to_string(),
            Self::TooManyAttempts => "Too many wrong codes: ask for a new code".to_string(),
            Self::AlreadyUsed => "The code was already used: ask for a new code".to_string(),
            Self::WrongCode { attempts_left: 0 } => {
                "The code is wrong and no attempts are left: ask for a new code".to_string()
            }
            Self::WrongCode { attempts_left } => format!(
                "The code is wrong: check the message and try again ({attempts_left} \
                 attempt(s) left)"
            ),
            Self::Cooldown { wait_secs } => {
                format!("A code was sent just now: wait {wait_secs} seconds and try again")
            }
            Self::DailyLimit => {
                "Today's limit of codes for this phone is reached: try again tomorrow".to_string()
            }
        }
    }
}

/// One issued code, as the store keeps it: the digest of the code, never the code.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpChallenge {
    /// The 11-digit phone the code was sent to.
    pub phone: String,
    /// Digest of the code (computed by the caller).
    pub code_digest: String,
    /// When the code was issued.
    pub issued_at: Timestamp,
    /// Wrong codes presented so far.
    pub attempts: u8,
    /// Whether the code was accepted once.
    pub consumed: bool,
}

impl fmt::Debug for OtpChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtpChallenge")
            .field("phone", &"<personal data>")
            .field("code_digest", &"<secret>")
            .field("issued_at", &self.issued_at)
            .field("attempts", &self.attempts)
            .field("consumed", &self.consumed)
            .finish()
    }
}

/// Whether `now` is strictly after `from + secs`.
fn past(from: Timestamp, secs: u32, now: Timestamp) -> bool {
    now.duration_since(from) > jiff::SignedDuration::from_secs(i64::from(secs))
}

impl OtpChallenge {
    /// A fresh challenge.
    pub fn new(
        phone: impl Into<String>,
        code_digest: impl Into<String>,
        issued_at: Timestamp,
    ) -> Self {
        OtpChallenge {
            phone: phone.into(),
            code_digest: code_digest.into(),
            issued_at,
            attempts: 0,
            consumed: false,
        }
    }

    /// Checks the digest of a presented code at `now`. Accepting marks the challenge consumed;
    /// a wrong code counts an attempt. Other refusals change nothing.
    pub fn verify(
        &mut self,
        presented_digest: &str,
        now: Timestamp,
        policy: &OtpPolicy,
    ) -> Result<(), OtpRefusal> {
        if self.consumed {
            return Err(OtpRefusal::AlreadyUsed);
        }
        if past(self.issued_at, policy.ttl_secs, now) {
            return Err(OtpRefusal::Expired);
        }
        if self.attempts >= policy.max_attempts {
            return Err(OtpRefusal::TooManyAttempts);
        }
        if constant_time_eq(presented_digest.as_bytes(), self.code_digest.as_bytes()) {
            self.consumed = true;
            Ok(())
        } else {
            self.attempts = self.attempts.saturating_add(1);
            Err(OtpRefusal::WrongCode {
                attempts_left: policy.max_attempts.saturating_sub(self.attempts),
            })
        }
    }
}

/// Whether a new code may be issued at `now` for a phone whose latest code was issued at
/// `previous_issued_at` and which already got `issued_today` codes today.
pub fn may_issue(
    previous_issued_at: Option<Timestamp>,
    issued_today: u32,
    now: Timestamp,
    policy: &OtpPolicy,
) -> Result<(), OtpRefusal> {
    if let Some(previous) = previous_issued_at {
        let elapsed_ms = now
            .as_millisecond()
            .saturating_sub(previous.as_millisecond());
        let cooldown_ms = i64::from(policy.resend_cooldown_secs) * 1000;
        if elapsed_ms < cooldown_ms {
            let wait_ms = cooldown_ms - elapsed_ms.max(0);
            let wait_secs = u32::try_from((wait_ms + 999) / 1000).unwrap_or(u32::MAX);
            return Err(OtpRefusal::Cooldown { wait_secs });
        }
    }
    if issued_today >= policy.daily_limit_per_phone {
        return Err(OtpRefusal::DailyLimit);
    }
    Ok(())
}
