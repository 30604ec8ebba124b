//! The outbox dispatcher and department webhooks.
//!
//! Use cases write outbox rows in the same transaction as the change they announce; the
//! dispatcher delivers them afterwards: each row is leased (so that several replicas never send
//! the same row at once), POSTed as JSON to every webhook of its department with an
//! `X-Onetrip-Signature: sha256=<hex HMAC-SHA256 of the body>` header and the row id as
//! `X-Onetrip-Delivery` (receivers deduplicate on it), and marked delivered when every webhook
//! answered 2xx; otherwise it is retried with exponential backoff (30 s, 1 min, 2 min … up to
//! 1 h).

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use jiff::{SignedDuration, Timestamp};
use onetrip_store::{OutboxRow, WebhookRow};
use sha2::Sha256;

use crate::cases::CaseActor;
use crate::{App, AppError, Result};

/// What one dispatch pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Rows delivered.
    pub delivered: usize,
    /// Rows that failed and will be retried.
    pub failed: usize,
}

fn backoff(attempts: i64) -> SignedDuration {
    let secs = 30_i64.saturating_mul(1_i64 << attempts.clamp(0, 7));
    SignedDuration::from_secs(secs.min(3600))
}

/// The signature header value of a webhook body.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(body);
    format!("sha256={}", onetrip_seal::hex(&mac.finalize().into_bytes()))
}

impl App {
    /// Registers a webhook for a department: its own system or the platform. The secret is
    /// generated here and returned once.
    pub async fn register_webhook(
        &self,
        actor: &CaseActor,
        department: &str,
        url: &str,
        now: Timestamp,
    ) -> Result<WebhookRow> {
        self.may_manage_webhooks(actor, department)?;
        let parsed = reqwest::Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if parsed.is_none() {
            return Err(AppError::Refused {
                code: "webhook_url_invalid",
                zh: "回调地址须为 http 或 https 网址".into(),
                en: "The webhook URL must be an http or https URL.".into(),
            });
        }
        let hook = WebhookRow {
            id: uuid::Uuid::now_v7().to_string(),
            department_code: department.to_string(),
            url: url.to_string(),
            secret: uuid::Uuid::new_v4().simple().to_string(),
            created_at: now,
        };
        self.db.insert_webhook(&hook).await?;
        Ok(hook)
    }

    /// A department's webhooks.
    pub async fn webhooks(&self, actor: &CaseActor, department: &str) -> Result<Vec<WebhookRow>> {
        self.may_manage_webhooks(actor, department)?;
        Ok(self.db.webhooks_of(department).await?)
    }

    fn may_manage_webhooks(&self, actor: &CaseActor, department: &str) -> Result<()> {
        match actor {
            CaseActor::System => Ok(()),
            CaseActor::DepartmentSystem { department: d, .. } if d == department => Ok(()),
            _ => Err(AppError::Refused {
                code: "webhook_not_permitted",
                zh: "只有本部门的业务系统可以管理回调地址".into(),
                en: "Only the department's own system manages its webhooks.".into(),
            }),
        }
    }

    /// Delivers up to `limit` due outbox rows.
    pub async fn dispatch_outbox(
        &self,
        client: &reqwest::Client,
        now: Timestamp,
        limit: i64,
    ) -> Result<DispatchReport> {
        let lease = now
            .checked_add(SignedDuration::from_secs(60))
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let rows = self.db.lease_outbox(now, lease, limit).await?;
        let mut report = DispatchReport::default();
        for row in rows {
            match self.deliver(client, &row).await {
                Ok(()) => {
                    self.db.outbox_delivered(&row.id, Timestamp::now()).await?;
                    report.delivered += 1;
                }
                Err(error) => {
                    let retry = now
                        .checked_add(backoff(row.attempts))
                        .map_err(|e| AppError::Internal(e.to_string()))?;
                    self.db.outbox_failed(&row.id, &error, retry).await?;
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }

    async fn deliver(
        &self,
        client: &reqwest::Client,
        row: &OutboxRow,
    ) -> std::result::Result<(), String> {
        let Some(department) = &row.department_code else {
            return Ok(());
        };
        let hooks = self
            .db
            .webhooks_of(department)
            .await
            .map_err(|e| e.to_string())?;
        let body = serde_json::to_vec(&serde_json::json!({
            "id": row.id,
            "topic": row.topic,
            "subject": row.subject,
            "created_at": row.created_at.to_string(),
            "data": row.payload,
        }))
        .map_err(|e| e.to_string())?;
        for hook in hooks {
            let response = client
                .post(&hook.url)
                .header("content-type", "application/json")
                .header("x-onetrip-delivery", &row.id)
                .header("x-onetrip-topic", &row.topic)
                .header("x-onetrip-signature", signature(&hook.secret, &body))
                .body(body.clone())
                .send()
                .await
                .map_err(|e| format!("{}: {e}", hook.id))?;
            if !response.status().is_success() {
                return Err(format!("{}: HTTP {}", hook.id, response.status()));
            }
        }
        Ok(())
    }

    /// Runs the dispatcher every `interval` in the background.
    pub fn spawn_outbox_dispatcher(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default();
            let mut tick = tokio::time::interval(interval);
            loop {
                tick.tick().await;
                match app.dispatch_outbox(&client, Timestamp::now(), 100).await {
                    Ok(r) if r.failed > 0 => {
                        tracing::warn!(failed = r.failed, delivered = r.delivered, "outbox")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "outbox dispatch failed"),
                }
            }
        })
    }
}
