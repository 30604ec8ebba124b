//! The SMS gateway (短信网关) behind a trait, and its sandbox.
//!
//! [`SmsGateway`] is dyn-compatible (the application holds an `Arc<dyn SmsGateway>`), so
//! `send` returns a boxed future. Message texts are rendered from a [`SmsTemplate`] and named
//! parameters, like the template SMS APIs of Chinese carriers and cloud providers.
//!
//! [`SandboxSms`] behaves like a real gateway without sending anything: it renders the text,
//! optionally waits (network latency) and fails every Nth message (provider outage), and
//! records every message, sent or failed, in the `sms_messages` table, where tests and a
//! development-only page read them ([`onetrip_store::Db::sms_messages`]).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use onetrip_store::{Db, SmsMessageRow};

/// The templates onetrip sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmsTemplate {
    /// A sign-in code. Parameters: `code`, `minutes`.
    SignInCode,
    /// A registration code. Parameters: `code`, `minutes`.
    RegistrationCode,
}

impl SmsTemplate {
    /// Stable name of the template.
    pub fn name(self) -> &'static str {
        match self {
            SmsTemplate::SignInCode => "sign_in_code",
            SmsTemplate::RegistrationCode => "registration_code",
        }
    }

    /// The text of the message, signed with `signature` (the platform name shown in 【】).
    /// Missing parameters render empty.
    pub fn render(self, signature: &str, params: &[(&str, &str)]) -> String {
        let get = |key: &str| {
            params
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| *v)
                .unwrap_or_default()
        };
        match self {
            SmsTemplate::SignInCode => format!(
                "【{signature}】您的验证码为{}，{}分钟内有效。请勿泄露。",
                get("code"),
                get("minutes")
            ),
            SmsTemplate::RegistrationCode => format!(
                "【{signature}】您正在注册账号，验证码为{}，{}分钟内有效。如非本人操作请忽略。",
                get("code"),
                get("minutes")
            ),
        }
    }
}

/// What a gateway answers for a message it accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmsReceipt {
    /// The gateway's id of the message.
    pub message_id: String,
}

/// Why a message was not sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    /// The gateway is unreachable or refused the message; trying again later may work.
    #[error("SMS gateway unavailable: {0}")]
    Unavailable(String),
}

/// The boxed future of [`SmsGateway::send`].
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<SmsReceipt, SmsError>> + Send + 'a>>;

/// Sends text messages to mainland mobile phones.
pub trait SmsGateway: Send + Sync {
    /// Sends `template` with `params` to the 11-digit `phone`.
    fn send<'a>(
        &'a self,
        phone: &'a str,
        template: SmsTemplate,
        params: &'a [(&'a str, &'a str)],
    ) -> SendFuture<'a>;
}

/// The sandbox gateway: records messages in the database instead of sending them.
pub struct SandboxSms {
    db: Db,
    signature: String,
    fail_every: Option<u64>,
    delay: Duration,
    count: AtomicU64,
}

impl fmt::Debug for SandboxSms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxSms")
            .field("signature", &self.signature)
            .field("fail_every", &self.fail_every)
            .field("delay", &self.delay)
            .finish_non_exhaustive()
    }
}

impl SandboxSms {
    /// A sandbox on `db`, signed `onetrip`, that never fails and never waits.
    pub fn new(db: Db) -> SandboxSms {
        SandboxSms {
            db,
            signature: "onetrip".to_string(),
            fail_every: None,
            delay: Duration::ZERO,
            count: AtomicU64::new(0),
        }
    }

    /// Signs messages with `signature` (the platform name shown in 【】).
    pub fn with_signature(mut self, signature: impl Into<String>) -> SandboxSms {
        self.signature = signature.into();
        self
    }

    /// Fails the `n`th, `2n`th… message (counting from this gateway's creation); `0` never
    /// fails. A failed message is recorded with status `failed`.
    pub fn fail_every(mut self, n: u64) -> SandboxSms {
        self.fail_every = (n > 0).then_some(n);
        self
    }

    /// Waits `delay` before answering each message.
    pub fn with_delay(mut self, delay: Duration) -> SandboxSms {
        self.delay = delay;
        self
    }
}

impl SmsGateway for SandboxSms {
    fn send<'a>(
        &'a self,
        phone: &'a str,
        template: SmsTemplate,
        params: &'a [(&'a str, &'a str)],
    ) -> SendFuture<'a> {
        Box::pin(async move {
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            }
            let n = self.count.fetch_add(1, Ordering::SeqCst) + 1;
            let failed = self.fail_every.is_some_and(|every| n.is_multiple_of(every));
            let row = SmsMessageRow {
                id: uuid::Uuid::now_v7().to_string(),
                phone: phone.to_string(),
                template: template.name().to_string(),
                body: template.render(&self.signature, params),
                status: if failed { "failed" } else { "sent" }.to_string(),
                sent_at: jiff::Timestamp::now(),
            };
            self.db
                .insert_sms_message(&row)
                .await
                .map_err(|e| SmsError::Unavailable(format!("sandbox store: {e}")))?;
            if failed {
                return Err(SmsError::Unavailable(format!(
                    "sandbox: failing message {n} (every {})",
                    self.fail_every.unwrap_or_default()
                )));
            }
            Ok(SmsReceipt { message_id: row.id })
        })
    }
}
