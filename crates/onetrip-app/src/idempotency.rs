//! Repeat-safe requests (`Idempotency-Key`): a client that sends the same key again, after a
//! timeout or a lost connection, gets the answer of its first request and nothing is done
//! twice; the same key with a different request is refused.
//!
//! The record (scope, key, hash of the request, response) is written in the same transaction
//! as what the request changes, so a request either did everything and is remembered, or did
//! nothing. Two requests racing with one key both pass the lookup; the second commit finds the
//! key taken and rolls back entirely (`idempotency_key_in_use`).
//!
//! Submissions and case actions remember their whole response. Creations (certificates, access
//! requests, supervision orders) remember the identifier of what they created, and a repeat
//! answers with its current state.

use serde::Serialize;
use serde::de::DeserializeOwned;

use onetrip_store::{IdempotencyRecord, StoreError};

use crate::{App, AppError, Result};

/// One keyed request: who sent it, its key and the hash of its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Keyed {
    scope: String,
    key: String,
    hash: String,
}

impl Keyed {
    /// The keyed request, or `None` without a key. `scope` is whose keys these are (an account,
    /// a client); `request` is everything the request asks for.
    pub(crate) fn new(scope: String, key: Option<&str>, request: &impl Serialize) -> Option<Keyed> {
        key.map(|key| Keyed {
            scope,
            key: key.to_string(),
            hash: request_hash(request),
        })
    }

    /// The record to write with the request's changes, remembering `response`.
    pub(crate) fn record(&self, response: &impl Serialize) -> IdempotencyRecord {
        IdempotencyRecord {
            scope: self.scope.clone(),
            key: self.key.clone(),
            request_hash: self.hash.clone(),
            // Serialising plain data (strings, maps, derived `Serialize`) cannot fail.
            response: serde_json::to_string(response).unwrap_or_default(),
        }
    }
}

impl App {
    /// The remembered response of an earlier request with the same key, if there was one;
    /// [`AppError::Refused`] (`idempotency_key_reused`) when that request was a different one.
    pub(crate) async fn replayed<T: DeserializeOwned>(
        &self,
        keyed: Option<&Keyed>,
    ) -> Result<Option<T>> {
        let Some(k) = keyed else { return Ok(None) };
        match self.db.idempotent_response(&k.scope, &k.key).await? {
            Some(previous) => replay(&previous.request_hash, &k.hash, &previous.response).map(Some),
            None => Ok(None),
        }
    }
}

/// Hash of a request, for idempotency keys.
fn request_hash(value: &impl Serialize) -> String {
    let text = serde_json::to_vec(value).unwrap_or_default();
    onetrip_seal::sm3_hex(&text)
}

/// The response remembered for a key, when the request is the same one.
fn replay<T: DeserializeOwned>(stored_hash: &str, hash: &str, response: &str) -> Result<T> {
    if stored_hash != hash {
        return Err(AppError::Refused {
            code: "idempotency_key_reused",
            zh: "该幂等键已用于另一个不同的请求".into(),
            en: "This Idempotency-Key was already used for a different request.".into(),
        });
    }
    serde_json::from_str(response).map_err(|e| AppError::Internal(format!("replay: {e}")))
}

/// A store conflict on the idempotency record: another request with the same key committed
/// first.
pub(crate) fn key_in_use(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(c) if c.contains(&"idempotency") => AppError::Refused {
            code: "idempotency_key_in_use",
            zh: "该幂等键正被另一个请求使用，请稍后重试".into(),
            en: "Another request is using this Idempotency-Key; try again shortly.".into(),
        },
        other => AppError::Store(other),
    }
}
