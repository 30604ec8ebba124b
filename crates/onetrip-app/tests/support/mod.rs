//! Helpers shared by the app's integration tests.
#![allow(dead_code)]

use std::sync::atomic::{AtomicI64, Ordering};

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use onetrip_app::accounts::{RegisterPerson, normalize_phone};
use onetrip_app::otp::CodePurpose;
use onetrip_app::{App, Result};
use onetrip_domain::identity::AccountId;

/// Minutes added to each code sent, so that the resend cooldown never refuses a helper's code.
static SENT: AtomicI64 = AtomicI64::new(0);

/// The six-digit code in the latest text message sent to `phone`.
pub async fn latest_code(app: &App, phone: &str) -> String {
    let phone = normalize_phone(phone).unwrap_or_else(|| phone.to_string());
    let messages = app.db.sms_messages(&phone).await.unwrap();
    let body = &messages.first().expect("a message was sent").body;
    body.chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect()
}

/// Registers `input` the way a person does: a registration code is sent to the phone and the
/// code received is typed in. Phones that cannot receive a code get none (the registration
/// then reports the phone).
pub async fn register(
    app: &App,
    mut input: RegisterPerson,
    today: Date,
    now: Timestamp,
) -> Result<AccountId> {
    if normalize_phone(&input.phone).is_some() {
        let minutes = SENT.fetch_add(2, Ordering::SeqCst);
        let sent_at = now + SignedDuration::from_mins(minutes);
        let random = u32::try_from(minutes).unwrap_or(0) * 7919 + 123_457;
        if app
            .send_code(CodePurpose::Register, &input.phone, sent_at, random)
            .await
            .is_ok()
        {
            input.sms_code = latest_code(app, &input.phone).await;
        }
    }
    app.register_person(input, today, now).await
}
