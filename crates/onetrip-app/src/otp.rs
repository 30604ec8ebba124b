//! SMS one-time codes: sending a sign-in code and signing in with it.
//!
//! Decisions:
//! - **Codes are sent whether or not the phone has an account**, and sending answers the same
//!   either way, so the form reveals nothing about accounts. (Registration will need codes for
//!   phones without accounts anyway: L1 is "phone verified".) Signing in with a valid code for
//!   a phone without an account is the generic [`AppError::SignInFailed`]. Code refusals
//!   (`otp_wrong`, `otp_expired`, `otp_used`, `otp_locked`, `otp_cooldown`,
//!   `otp_daily_limit`) are returned as such: they depend only on codes, never on accounts.
//! - **Digest:** a challenge stores SHA-256 of `challenge id ‖ code`, in lower-case hex, never
//!   the code. The id (a UUID v7) salts it, so equal codes give different digests. A six-digit
//!   code cannot resist offline guessing anyway; what protects it is the attempt limit, the
//!   short lifetime and keeping the table private, so a fast hash is enough.
//! - **Limits** ([`OtpPolicy`]): the cooldown runs from the latest code for the same phone and
//!   purpose; the daily limit counts every code for the phone since midnight in China
//!   (UTC+8).
//! - **Sending is synchronous**, not from an outbox: the person waits for the code, and a
//!   failure must be shown at once. The challenge is stored first (so concurrent requests
//!   during a slow send see it and hit the cooldown), then the message is sent; when the
//!   gateway fails, the challenge is deleted and [`AppError::SmsUnavailable`] returned, so no
//!   usable challenge is left and asking again at once is allowed.
//! - **Verification** is a compare-and-set: the challenge is read, checked by the domain, and
//!   written back with one `UPDATE` guarded by the attempts value read and `consumed = 0`. When
//!   another verification got there first, it reads again. So one code signs in at most once,
//!   and every wrong code counts, however many requests race.
//! - Every sign-in attempt with a code is recorded in the sign-in history with method `sms`.

use std::net::IpAddr;

use jiff::Timestamp;
use onetrip_domain::identity::{AccountId, AccountKind, OtpChallenge, OtpCode, may_issue};
use onetrip_store::{AuthEvent, OtpChallengeRow};
use sha2::{Digest, Sha256};

use crate::accounts::{AccountProblem, SignedIn, login_digest, normalize_phone};
use crate::china_today;
use crate::sms::SmsTemplate;
use crate::{App, AppError, FieldProblem, Result};

/// What a one-time code is for; codes of one purpose never serve another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodePurpose {
    /// Signing in with a code instead of a password.
    SignIn,
    /// Proving the phone at registration (L1).
    Register,
}

impl CodePurpose {
    /// Stable name, stored with the challenge.
    pub fn as_str(self) -> &'static str {
        match self {
            CodePurpose::SignIn => "sign_in",
            CodePurpose::Register => "register",
        }
    }

    fn template(self) -> SmsTemplate {
        match self {
            CodePurpose::SignIn => SmsTemplate::SignInCode,
            CodePurpose::Register => SmsTemplate::RegistrationCode,
        }
    }
}

/// The sign-in method recorded for SMS code sign-ins.
pub const METHOD_SMS: &str = "sms";

/// Bound on compare-and-set retries of one verification (each retry means another request
/// changed the challenge, which it can do at most `max_attempts + 1` times).
const MAX_RETRIES: usize = 32;

/// A code was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeSent {
    /// When the code stops being valid.
    pub expires_at: Timestamp,
    /// When another code may be asked for.
    pub resend_at: Timestamp,
}

/// SHA-256 of `challenge_id ‖ code`, lower-case hex.
pub fn otp_digest(challenge_id: &str, code: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(challenge_id.as_bytes());
    hasher.update(code.as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn secs(n: u32) -> jiff::SignedDuration {
    jiff::SignedDuration::from_secs(i64::from(n))
}

impl App {
    /// Sends a code for `purpose` to `phone` at `now`, drawn from the operating system's
    /// randomness; see [`App::send_code`].
    pub async fn send_random_code(
        &self,
        purpose: CodePurpose,
        phone: &str,
        now: Timestamp,
    ) -> Result<CodeSent> {
        let mut random = [0u8; 4];
        getrandom::fill(&mut random).map_err(|e| AppError::Internal(format!("randomness: {e}")))?;
        self.send_code(purpose, phone, now, u32::from_le_bytes(random))
            .await
    }

    /// Sends a code for `purpose` to `phone` at `now`; `random` picks the code (the caller
    /// draws it from the operating system). Refused with `phone_format`
    /// ([`AppError::Rejected`]) or an issuing refusal ([`AppError::Otp`]); a gateway failure is
    /// [`AppError::SmsUnavailable`]. Every code issued is recorded in the audit log.
    pub async fn send_code(
        &self,
        purpose: CodePurpose,
        phone: &str,
        now: Timestamp,
        random: u32,
    ) -> Result<CodeSent> {
        let Some(phone) = normalize_phone(phone) else {
            return Err(AppError::Rejected(vec![FieldProblem::new(
                "phone",
                &AccountProblem::PhoneFormat,
            )]));
        };
        let policy = self.otp_policy;
        let previous = self
            .db
            .latest_otp_challenge(&phone, purpose.as_str())
            .await?;
        let midnight = china_today(now)
            .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
            .map_err(|e| AppError::Internal(format!("midnight: {e}")))?
            .timestamp();
        let issued_today = self.db.count_otp_issued_since(&phone, midnight).await?;
        may_issue(previous.map(|c| c.issued_at), issued_today, now, &policy)?;

        let id = uuid::Uuid::now_v7().to_string();
        let code = OtpCode::from_random(random);
        self.db
            .insert_otp_challenge(&OtpChallengeRow {
                id: id.clone(),
                phone: phone.clone(),
                purpose: purpose.as_str().to_string(),
                code_digest: otp_digest(&id, code.expose()),
                issued_at: now,
                attempts: 0,
                consumed: false,
            })
            .await?;
        let minutes = policy.ttl_secs.div_ceil(60).to_string();
        let params = [("code", code.expose()), ("minutes", minutes.as_str())];
        if let Err(e) = self.sms.send(&phone, purpose.template(), &params).await {
            tracing::warn!(error = %e, "one-time code not sent");
            self.db.delete_otp_challenge(&id).await?;
            return Err(AppError::SmsUnavailable(e.to_string()));
        }
        let mut event = AuthEvent::new("otp_issued", AccountKind::Citizen, None, now);
        event.method = purpose.as_str().to_string();
        event.login_digest = Some(onetrip_domain::identity::secret_digest(&phone));
        self.db.record_auth_event(&event).await?;
        tracing::info!(challenge = %id, purpose = purpose.as_str(), "one-time code sent");
        Ok(CodeSent {
            expires_at: now + secs(policy.ttl_secs),
            resend_at: now + secs(policy.resend_cooldown_secs),
        })
    }

    /// Signs a person in with the code sent to `phone`. Code refusals are [`AppError::Otp`];
    /// an unknown phone, no code sent, or a valid code for a phone without an account are
    /// [`AppError::SignInFailed`]. Every attempt is recorded with method `sms`; too many
    /// recent failures for the phone or the address are [`AppError::Throttled`], before the
    /// code is checked.
    pub async fn sign_in_with_code(
        &self,
        phone: &str,
        code: &str,
        ip: Option<IpAddr>,
        now: Timestamp,
    ) -> Result<SignedIn> {
        let normalised = normalize_phone(phone);
        let digest = login_digest(
            METHOD_SMS,
            normalised.as_deref().unwrap_or_else(|| phone.trim()),
        );
        self.check_throttle(&digest, AccountKind::Citizen, METHOD_SMS, ip, now)
            .await?;
        let Some(phone) = normalised else {
            self.record_sms_sign_in(None, false, &digest, ip, now)
                .await?;
            return Err(AppError::SignInFailed);
        };
        let person = self.db.person_by_phone(&phone).await?;
        let account = person.as_ref().map(|p| p.id.clone());
        let mut outcome = self
            .verify_code(CodePurpose::SignIn, &phone, code, now)
            .await;
        if outcome.is_ok() && person.is_none() {
            outcome = Err(AppError::SignInFailed);
        }
        self.record_sms_sign_in(account, outcome.is_ok(), &digest, ip, now)
            .await?;
        outcome?;
        let Some(p) = person else {
            return Err(AppError::SignInFailed);
        };
        Ok(SignedIn {
            account_id: AccountId::new(p.id),
            assurance_level: p.assurance_level,
        })
    }

    /// Checks and spends the latest code for `purpose` sent to `phone` (already normalised).
    /// No code sent is [`AppError::SignInFailed`]; code refusals are [`AppError::Otp`].
    pub(crate) async fn verify_code(
        &self,
        purpose: CodePurpose,
        phone: &str,
        code: &str,
        now: Timestamp,
    ) -> Result<()> {
        let policy = self.otp_policy;
        for _ in 0..MAX_RETRIES {
            let Some(row) = self
                .db
                .latest_otp_challenge(phone, purpose.as_str())
                .await?
            else {
                return Err(AppError::SignInFailed);
            };
            let mut challenge = OtpChallenge {
                phone: row.phone.clone(),
                code_digest: row.code_digest.clone(),
                issued_at: row.issued_at,
                attempts: row.attempts,
                consumed: row.consumed,
            };
            let verdict = challenge.verify(&otp_digest(&row.id, code), now, &policy);
            let changed = challenge.attempts != row.attempts || challenge.consumed != row.consumed;
            if changed
                && !self
                    .db
                    .update_otp_challenge(
                        &row.id,
                        row.attempts,
                        challenge.attempts,
                        challenge.consumed,
                    )
                    .await?
            {
                // Another verification changed the challenge first: judge again.
                continue;
            }
            return verdict.map_err(AppError::Otp);
        }
        Err(AppError::SignInFailed)
    }

    async fn record_sms_sign_in(
        &self,
        account_id: Option<String>,
        succeeded: bool,
        login_digest: &str,
        ip: Option<IpAddr>,
        now: Timestamp,
    ) -> Result<()> {
        self.db
            .record_auth_event(&AuthEvent {
                method: METHOD_SMS.to_string(),
                succeeded,
                ip: ip.map(|ip| ip.to_string()),
                login_digest: Some(login_digest.to_string()),
                ..AuthEvent::new("sign_in", AccountKind::Citizen, account_id.as_deref(), now)
            })
            .await?;
        Ok(())
    }
}
