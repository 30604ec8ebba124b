//! Account use cases: registering a person and signing in with a password.
//!
//! Decisions:
//! - **Passwords** are hashed with Argon2id, version 19, with the `argon2` crate's default
//!   parameters (m = 19 456 KiB, t = 2, p = 1, the OWASP recommendation), a random 16-byte salt
//!   from the operating system (`getrandom`), stored as a PHC string (`$argon2id$v=19$…`).
//!   Verification reads the parameters from the stored string, so raising the cost later keeps
//!   old hashes valid. Hashing runs on the blocking thread pool.
//! - **Assurance at registration:** new accounts start at L1. L1 means "phone verified"; until
//!   the SMS one-time code step arrives (next slice of issue 3), registration is trusted to have
//!   verified the phone. When it does, registration will require a valid code before calling
//!   [`App::register_person`].
//! - **Registration says which value is taken** (`resident_id_taken`, `phone_taken`), as a
//!   registration form must; once SMS codes exist, the phone is proven before this is answered.
//! - **Sign-in never reveals whether an account exists:** an unknown phone/ID, an account
//!   without a password and a wrong password all give the same [`AppError::SignInFailed`]
//!   (`sign_in_failed`), after the same Argon2 verification (against a dummy hash when there is
//!   no account), so timing does not tell them apart either. Every attempt is recorded in the
//!   sign-in history; attempts naming no account are recorded without an account id and
//!   without what was typed (it may be personal data).
//! - **Throttling:** failed sign-ins are counted per login name (its digest, see
//!   [`login_digest`]) and per IP address; over the limits of
//!   [`onetrip_domain::identity::ThrottlePolicy::default`], an attempt is refused as
//!   [`AppError::Throttled`] before the credentials are checked, the same whether the login
//!   name belongs to an account or not.
//! - **Personal data** (resident ID, phone, password) never appears in logs or `Debug` output.

use std::fmt;
use std::net::IpAddr;
use std::sync::LazyLock;

use argon2::{Argon2, PasswordHash, PasswordHasher};
use jiff::Timestamp;
use jiff::civil::Date;
use onetrip_domain::Localized;
use onetrip_domain::identifiers::ResidentId;
use onetrip_domain::identity::{
    AccountId, AccountKind, AssuranceLevel, PasswordContext, PasswordPolicy, ThrottlePolicy,
    constant_time_eq, secret_digest,
};
use onetrip_store::{AuthEvent, NewPerson, StoreError};
use secrecy::{ExposeSecret, SecretString};

use crate::{App, AppError, FieldProblem, Result};

/// Longest accepted name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// The sign-in method recorded for password sign-ins.
pub const METHOD_PASSWORD: &str = "password";

/// A registration (自然人注册).
#[derive(Clone)]
pub struct RegisterPerson {
    /// Resident ID number, as typed.
    pub resident_id: String,
    /// Name.
    pub name: String,
    /// Mobile phone number: 11 digits starting with 13–19; spaces, hyphens and a `+86` / `86`
    /// prefix are accepted.
    pub phone: String,
    /// The chosen password.
    pub password: SecretString,
    /// The registration code sent to `phone` ([`crate::otp::CodePurpose::Register`]).
    pub sms_code: String,
}

impl fmt::Debug for RegisterPerson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisterPerson")
            .field("resident_id", &"<personal data>")
            .field("name", &self.name)
            .field("phone", &"<personal data>")
            .field("password", &"<secret>")
            .field("sms_code", &"<secret>")
            .finish()
    }
}

/// A successful sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    /// The account.
    pub account_id: AccountId,
    /// Its assurance level.
    pub assurance_level: AssuranceLevel,
}

/// Problems of account input that are not domain errors of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountProblem {
    /// The name is empty.
    NameRequired,
    /// The name is longer than [`MAX_NAME_CHARS`].
    NameTooLong,
    /// The phone is not a mainland mobile number.
    PhoneFormat,
    /// The resident ID number is already registered.
    ResidentIdTaken,
    /// The phone number is already registered.
    PhoneTaken,
    /// No registration code was sent to this phone (or it was replaced).
    SmsCodeNotSent,
}

impl Localized for AccountProblem {
    fn code(&self) -> &'static str {
        match self {
            Self::NameRequired => "required",
            Self::NameTooLong => "name_too_long",
            Self::PhoneFormat => "phone_format",
            Self::ResidentIdTaken => "resident_id_taken",
            Self::PhoneTaken => "phone_taken",
            Self::SmsCodeNotSent => "sms_code_not_sent",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::NameRequired => "请填写姓名".to_string(),
            Self::NameTooLong => format!("姓名太长：请不要超过{MAX_NAME_CHARS}个字符"),
            Self::PhoneFormat => "手机号码格式不正确：请填写以1开头的11位中国大陆手机号码".into(),
            Self::ResidentIdTaken => {
                "该身份证号码已注册：请直接登录，或通过“找回密码”重设密码".to_string()
            }
            Self::PhoneTaken => "该手机号码已注册：请直接登录，或换一个手机号码".to_string(),
            Self::SmsCodeNotSent => "请先获取短信验证码，再填写收到的6位数字".to_string(),
        }
    }

    fn message_en(&self) -> String {
        match self {
            Self::NameRequired => "Enter your name".to_string(),
            Self::NameTooLong => {
                format!("The name is too long: use at most {MAX_NAME_CHARS} characters")
            }
            Self::PhoneFormat => "The phone number is invalid: enter an 11-digit mainland China \
                                  mobile number starting with 1"
                .to_string(),
            Self::ResidentIdTaken => "This ID number is already registered: sign in, or reset \
                                      the password with \"forgot password\""
                .to_string(),
            Self::PhoneTaken => "This phone number is already registered: sign in, or use \
                                 another phone number"
                .to_string(),
            Self::SmsCodeNotSent => {
                "Ask for an SMS code first, then enter the 6 digits you receive".to_string()
            }
        }
    }
}

/// Normalises a mainland mobile number to its 11 digits: ASCII spaces and hyphens are
/// removed, then a `+86` or `86` prefix when 13 digits remain; the result must be 11 digits
/// starting with `13`–`19`.
pub fn normalize_phone(input: &str) -> Option<String> {
    let compact: String = input
        .trim()
        .chars()
        .filter(|c| *c != ' ' && *c != '-')
        .collect();
    let digits = compact.strip_prefix('+').unwrap_or(&compact);
    let digits = match digits.strip_prefix("86") {
        Some(rest) if digits.len() == 13 => rest,
        _ if compact.starts_with('+') => return None,
        _ => digits,
    };
    let b = digits.as_bytes();
    let ok = b.len() == 11
        && b.iter().all(u8::is_ascii_digit)
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1]);
    ok.then(|| digits.to_string())
}

/// Hashes a password with Argon2id (default parameters, random salt) into a PHC string.
pub fn hash_password(password: &[u8]) -> Result<String> {
    let hash: PasswordHash = Argon2::default()
        .hash_password(password)
        .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))?;
    Ok(hash.to_string())
}

thread_local! {
    /// Argon2 working memory of this (blocking-pool) thread, kept between verifications: a
    /// fresh 19 MiB block per verification costs thousands of page faults, each a zeroed page.
    static ARGON2_MEMORY: std::cell::RefCell<Vec<argon2::Block>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Whether `password` matches the PHC string `hash`, computed with the algorithm, version and
/// parameters the string names (so raising the cost later keeps old hashes valid), in this
/// thread's reused working memory, compared in constant time. A malformed hash never matches.
pub fn verify_password(password: &[u8], hash: &str) -> bool {
    let computed = (|| -> std::result::Result<bool, String> {
        let parsed = PasswordHash::new(hash).map_err(|e| e.to_string())?;
        let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
            return Err("no salt or hash".to_owned());
        };
        let algorithm =
            argon2::Algorithm::try_from(parsed.algorithm.as_str()).map_err(|e| e.to_string())?;
        let version = match parsed.version {
            Some(v) => argon2::Version::try_from(v).map_err(|e| e.to_string())?,
            None => argon2::Version::default(),
        };
        let params = argon2::Params::try_from(&parsed).map_err(|e| e.to_string())?;
        let blocks = params.block_count();
        let argon2 = Argon2::new(algorithm, version, params);
        let mut out = vec![0u8; expected.as_bytes().len()];
        ARGON2_MEMORY.with_borrow_mut(|memory| {
            if memory.len() < blocks {
                memory.resize(blocks, argon2::Block::default());
            }
            argon2
                .hash_password_into_with_memory(password, salt, &mut out, &mut memory[..blocks])
                .map_err(|e| e.to_string())
        })?;
        Ok(constant_time_eq(&out, expected.as_bytes()))
    })();
    match computed {
        Ok(matched) => matched,
        Err(e) => {
            tracing::warn!(error = %e, "stored password hash does not verify");
            false
        }
    }
}

/// The login kind of password sign-ins of persons, in [`login_digest`].
pub const LOGIN_KIND_PASSWORD: &str = "password";

/// The digest under which failed sign-ins are counted for throttling: SHA-256 of
/// `kind:login`, where `login` is the normalised login name (the 11-digit phone, the upper-case
/// resident ID number, the staff username; what was typed, trimmed, when it is none of these).
/// Each kind of sign-in (`password`, `sms`, `staff`) counts on its own, so that a person whose
/// password sign-in is locked may still sign in with an SMS code, as the lock message says.
pub fn login_digest(kind: &str, login: &str) -> String {
    secret_digest(&format!("{kind}:{login}"))
}

/// A hash with the default parameters that no password is checked against successfully on
/// purpose: verified when there is no account, so that unknown accounts cost the same time.
pub(crate) static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    Argon2::default()
        .hash_password_with_salt(b"onetrip: no such account", b"onetrip-dummy-salt")
        .map(|h: PasswordHash| h.to_string())
        .unwrap_or_default()
});

impl App {
    /// Runs Argon2 work (hashing or verifying a password) on the blocking pool, at most as many
    /// at once as there are cores. Each needs 19 MiB; running more at once than there are cores
    /// finishes none sooner, and unbounded it let a burst of sign-ins grow the process by
    /// gigabytes (measured: docs/BENCHMARKS.md).
    pub(crate) async fn argon2<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .argon2_slots
            .acquire()
            .await
            .map_err(|e| AppError::Internal(format!("password hashing slots: {e}")))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| AppError::Internal(format!("password hashing task: {e}")))
    }

    /// Registers a person (自然人) with a password and returns the new account id.
    ///
    /// `today` is the civil date in China (for the ID number's birth date), `now` the time of
    /// creation. Every problem is reported at once as [`AppError::Rejected`], with paths
    /// `resident_id`, `name`, `phone` and `password` and the codes of the domain errors
    /// ([`onetrip_domain::identifiers::ResidentIdError`],
    /// [`onetrip_domain::identity::PasswordProblem`]) or of [`AccountProblem`].
    pub async fn register_person(
        &self,
        input: RegisterPerson,
        today: Date,
        now: Timestamp,
    ) -> Result<AccountId> {
        let mut problems = Vec::new();
        let resident_id = match ResidentId::parse(&input.resident_id, today) {
            Ok(id) => Some(id),
            Err(e) => {
                problems.push(FieldProblem::new("resident_id", &e));
                None
            }
        };
        let name = input.name.trim().to_string();
        if name.is_empty() {
            problems.push(FieldProblem::new("name", &AccountProblem::NameRequired));
        } else if name.chars().count() > MAX_NAME_CHARS {
            problems.push(FieldProblem::new("name", &AccountProblem::NameTooLong));
        }
        let phone = normalize_phone(&input.phone);
        if phone.is_none() {
            problems.push(FieldProblem::new("phone", &AccountProblem::PhoneFormat));
        }
        let context = PasswordContext {
            phone: phone.clone().or_else(|| Some(input.phone.clone())),
            resident_id,
            name_pinyin: None,
        };
        if let Err(found) =
            PasswordPolicy::default().check(input.password.expose_secret(), &context)
        {
            problems.extend(found.iter().map(|p| FieldProblem::new("password", p)));
        }
        // The phone is proven before anything is said about existing accounts.
        if let (true, Some(phone)) = (problems.is_empty(), &phone) {
            match self
                .verify_code(
                    crate::otp::CodePurpose::Register,
                    phone,
                    input.sms_code.trim(),
                    now,
                )
                .await
            {
                Ok(()) => {}
                Err(AppError::Otp(refusal)) => {
                    return Err(AppError::Rejected(vec![FieldProblem::new(
                        "sms_code", &refusal,
                    )]));
                }
                Err(AppError::SignInFailed) => {
                    return Err(AppError::Rejected(vec![FieldProblem::new(
                        "sms_code",
                        &AccountProblem::SmsCodeNotSent,
                    )]));
                }
                Err(e) => return Err(e),
            }
        }
        if let Some(id) = &resident_id
            && problems.is_empty()
            && self.db.person_by_resident_id(id.expose()).await?.is_some()
        {
            problems.push(FieldProblem::new(
                "resident_id",
                &AccountProblem::ResidentIdTaken,
            ));
        }
        if let Some(phone) = &phone
            && problems.iter().all(|p| p.path == "resident_id")
            && self.db.person_by_phone(phone).await?.is_some()
        {
            problems.push(FieldProblem::new("phone", &AccountProblem::PhoneTaken));
        }
        let (Some(resident_id), Some(phone), true) = (resident_id, phone, problems.is_empty())
        else {
            return Err(AppError::Rejected(problems));
        };

        let password = input.password;
        let hash = self
            .argon2(move || hash_password(password.expose_secret().as_bytes()))
            .await??;
        let new = NewPerson {
            resident_id: resident_id.expose().to_string(),
            name,
            phone,
            email: None,
            // No SMS step yet: see the module documentation.
            assurance_level: AssuranceLevel::L1,
            password_hash: Some(hash),
        };
        match self.db.insert_person(&new, now).await {
            Ok(id) => {
                tracing::info!(account = %id, "person registered");
                Ok(AccountId::new(id))
            }
            Err(StoreError::Conflict(columns)) => Err(AppError::Rejected(
                columns
                    .iter()
                    .map(|c| match *c {
                        "phone" => FieldProblem::new("phone", &AccountProblem::PhoneTaken),
                        _ => FieldProblem::new("resident_id", &AccountProblem::ResidentIdTaken),
                    })
                    .collect(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Signs a person in with their phone number or resident ID number and password.
    ///
    /// Every attempt is recorded in the sign-in history (with `ip` when known and the digest
    /// of the login name). Any failure is [`AppError::SignInFailed`], whether the account
    /// exists or not; too many recent failures for the login name or the address are
    /// [`AppError::Throttled`], before the password is checked.
    pub async fn sign_in_with_password(
        &self,
        phone_or_resident_id: &str,
        password: &SecretString,
        ip: Option<IpAddr>,
        now: Timestamp,
    ) -> Result<SignedIn> {
        let phone = normalize_phone(phone_or_resident_id);
        let resident_id = ResidentId::parse(phone_or_resident_id, crate::china_today(now)).ok();
        let login = match (&phone, &resident_id) {
            (Some(phone), _) => phone.clone(),
            (None, Some(id)) => id.expose().to_string(),
            (None, None) => phone_or_resident_id.trim().to_string(),
        };
        let login_digest = login_digest(LOGIN_KIND_PASSWORD, &login);
        self.check_throttle(
            &login_digest,
            AccountKind::Citizen,
            METHOD_PASSWORD,
            ip,
            now,
        )
        .await?;
        let person = if let Some(phone) = &phone {
            self.db.person_by_phone(phone).await?
        } else if let Some(id) = &resident_id {
            self.db.person_by_resident_id(id.expose()).await?
        } else {
            None
        };
        let hash = person
            .as_ref()
            .and_then(|p| p.password_hash.clone())
            .filter(|h| !h.is_empty());
        let real = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.clone());
        let password = password.clone();
        let matched = self
            .argon2(move || verify_password(password.expose_secret().as_bytes(), &hash))
            .await?;
        let succeeded = real && matched;
        self.db
            .record_auth_event(&AuthEvent {
                method: METHOD_PASSWORD.to_string(),
                succeeded,
                ip: ip.map(|ip| ip.to_string()),
                login_digest: Some(login_digest),
                ..AuthEvent::new(
                    "sign_in",
                    AccountKind::Citizen,
                    person.as_ref().map(|p| p.id.as_str()),
                    now,
                )
            })
            .await?;
        match person {
            Some(p) if succeeded => Ok(SignedIn {
                account_id: AccountId::new(p.id),
                assurance_level: p.assurance_level,
            }),
            _ => Err(AppError::SignInFailed),
        }
    }

    /// Refuses a sign-in attempt when the login name (by `login_digest`, see [`login_digest`])
    /// or the address `ip` has too many recent failures under [`ThrottlePolicy::default`].
    /// A refused attempt is recorded as a failed `sign_in` event (with no account: the
    /// account is not even looked up), so it counts like any other failure.
    pub(crate) async fn check_throttle(
        &self,
        login_digest: &str,
        account_kind: AccountKind,
        method: &str,
        ip: Option<IpAddr>,
        now: Timestamp,
    ) -> Result<()> {
        let policy = ThrottlePolicy::default();
        let ip_text = ip.map(|ip| ip.to_string());
        let (login, by_ip) = self
            .db
            .sign_in_failures(login_digest, ip_text.as_deref(), policy.window_start(now))
            .await?;
        let Err(throttled) = policy.check(login, by_ip, now) else {
            return Ok(());
        };
        self.db
            .record_auth_event(&AuthEvent {
                method: method.to_string(),
                succeeded: false,
                ip: ip_text,
                login_digest: Some(login_digest.to_string()),
                detail: Some(serde_json::json!({ "throttled": throttled.by }).to_string()),
                ..AuthEvent::new("sign_in", account_kind, None, now)
            })
            .await?;
        tracing::info!(by = ?throttled.by, "sign-in throttled");
        Err(AppError::Throttled(throttled))
    }

    /// The latest `limit` sign-in attempts of an account, newest first.
    pub async fn recent_sign_ins(&self, account: &AccountId, limit: i64) -> Result<Vec<AuthEvent>> {
        Ok(self.db.recent_sign_ins(account.as_str(), limit).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::{hash_password, normalize_phone, verify_password};
    use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};

    #[test]
    #[allow(clippy::unwrap_used)]
    fn verification_reads_the_parameters_of_each_hash_and_reuses_memory() {
        let ours = hash_password(b"Lianhua-Qiao7#").unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        // Keycloak's default parameters, as for imported accounts.
        let keycloak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(7168, 5, 1, Some(32)).unwrap(),
        )
        .hash_password_with_salt(b"Lianhua-Qiao7#", b"0123456789abcdef")
        .unwrap()
        .to_string();
        // Alternating sizes on one thread: the reused memory is resized, never mis-sized.
        for _ in 0..2 {
            for hash in [&ours, &keycloak] {
                assert!(verify_password(b"Lianhua-Qiao7#", hash));
                assert!(!verify_password(b"Lianhua-Qiao7$", hash));
            }
        }
        assert!(!verify_password(b"x", "not a PHC string"));
        assert!(!verify_password(
            b"x",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ"
        ));
    }

    #[test]
    fn phones() {
        assert_eq!(
            normalize_phone("13800138000").as_deref(),
            Some("13800138000")
        );
        assert_eq!(
            normalize_phone(" +86 138-0013-8000 ").as_deref(),
            Some("13800138000")
        );
        assert_eq!(
            normalize_phone("8613800138000").as_deref(),
            Some("13800138000")
        );
        assert_eq!(
            normalize_phone("19912345678").as_deref(),
            Some("19912345678")
        );
        for bad in [
            "",
            "12800138000",
            "1380013800",
            "138001380000",
            "+1 3800138000",
            "1380013800x",
            "１３８００１３８０００",
            "+13800138000",
        ] {
            assert_eq!(normalize_phone(bad), None, "{bad}");
        }
    }
}
