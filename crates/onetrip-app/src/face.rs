//! Assurance level L3: a second factor on top of the real-name check, either a face and
//! liveness check through a pluggable verifier (人脸核验), or an in-person check recorded by a
//! window clerk (窗口核验).
//!
//! Decisions:
//! - **L3 needs L2 first:** the face is compared with the registry photo of the ID number the
//!   account holds, which is only meaningful once the name and number match the registry.
//!   Below L2 the answer is the step-up to L2.
//! - **A failed face check says only that it failed** (`face_check_failed`), whether the face
//!   did not match or liveness failed, like the real-name check; the verifier's details go to
//!   the audit log, not to the caller. A verifier outage is `face_check_unavailable`, and
//!   nothing changes.
//! - **In person:** a window clerk who has seen the ID card records the check for the person's
//!   ID number and name; the registry must match (as for L2), and the account rises to L3. The
//!   clerk's id is in the audit event.
//! - The photo is never stored or logged by onetrip; it goes to the verifier only.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use onetrip_domain::Localized;
use onetrip_domain::identity::{
    AccountId, AccountKind, AssuranceLevel, StaffRole, check_assurance,
};
use onetrip_store::AuthEvent;

use crate::{App, AppError, Result};

/// What a verifier answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaceResult {
    /// Whether the face matches the registry photo of the ID number.
    pub matched: bool,
    /// Whether the capture was of a live person.
    pub live: bool,
    /// The verifier's reference of the check (for the audit log).
    pub reference: String,
}

/// A verifier failure (not a mismatch): trying again later may work.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("face verifier unavailable: {0}")]
pub struct FaceUnavailable(pub String);

/// The boxed future of [`FaceVerifier::verify`].
pub type VerifyFuture<'a> =
    Pin<Box<dyn Future<Output = std::result::Result<FaceResult, FaceUnavailable>> + Send + 'a>>;

/// Compares a captured face with the registry photo of an ID number (for example the Ministry
/// of Public Security's portrait comparison service).
pub trait FaceVerifier: Send + Sync {
    /// Checks `capture` (image bytes from the liveness SDK) against `resident_id` and `name`.
    fn verify<'a>(
        &'a self,
        resident_id: &'a str,
        name: &'a str,
        capture: &'a [u8],
    ) -> VerifyFuture<'a>;
}

/// The sandbox verifier. A capture is "the face" of an ID number when it is the bytes
/// `SANDBOX-FACE:<resident id>`; `SANDBOX-SPOOF:<resident id>` matches but fails liveness;
/// anything else does not match. It can be told to fail every `n`th call and to wait.
pub struct SandboxFace {
    fail_every: Option<u64>,
    delay: Duration,
    count: AtomicU64,
}

impl fmt::Debug for SandboxFace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxFace")
            .field("fail_every", &self.fail_every)
            .field("delay", &self.delay)
            .finish_non_exhaustive()
    }
}

impl Default for SandboxFace {
    fn default() -> Self {
        SandboxFace {
            fail_every: None,
            delay: Duration::ZERO,
            count: AtomicU64::new(0),
        }
    }
}

impl SandboxFace {
    /// Fails the `n`th, `2n`th… call; `0` never fails.
    pub fn fail_every(mut self, n: u64) -> SandboxFace {
        self.fail_every = (n > 0).then_some(n);
        self
    }

    /// Waits `delay` before answering.
    pub fn with_delay(mut self, delay: Duration) -> SandboxFace {
        self.delay = delay;
        self
    }
}

impl FaceVerifier for SandboxFace {
    fn verify<'a>(
        &'a self,
        resident_id: &'a str,
        _name: &'a str,
        capture: &'a [u8],
    ) -> VerifyFuture<'a> {
        Box::pin(async move {
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            }
            let n = self.count.fetch_add(1, Ordering::SeqCst) + 1;
            if self.fail_every.is_some_and(|every| n.is_multiple_of(every)) {
                return Err(FaceUnavailable("sandbox: simulated outage".to_owned()));
            }
            let face = format!("SANDBOX-FACE:{resident_id}");
            let spoof = format!("SANDBOX-SPOOF:{resident_id}");
            Ok(FaceResult {
                matched: capture == face.as_bytes() || capture == spoof.as_bytes(),
                live: capture == face.as_bytes(),
                reference: format!("sandbox-{n}"),
            })
        })
    }
}

/// Why an L3 check did not raise the level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FaceRefusal {
    /// The face did not match, or liveness failed (deliberately not said which).
    #[error("face check failed")]
    Failed,
    /// The verifier is unavailable.
    #[error("face verifier unavailable")]
    Unavailable,
    /// The in-person check was recorded by someone who is not a window clerk.
    #[error("not a window clerk")]
    NotClerk,
}

impl Localized for FaceRefusal {
    fn code(&self) -> &'static str {
        match self {
            FaceRefusal::Failed => "face_check_failed",
            FaceRefusal::Unavailable => "face_check_unavailable",
            FaceRefusal::NotClerk => "in_person_check_not_clerk",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            FaceRefusal::Failed => {
                "人脸核验未通过：请在光线充足处正对镜头重试，或携带身份证到窗口办理".to_owned()
            }
            FaceRefusal::Unavailable => "人脸核验服务暂时不可用，请稍后重试".to_owned(),
            FaceRefusal::NotClerk => "只有综合窗口人员可以登记现场核验".to_owned(),
        }
    }

    fn message_en(&self) -> String {
        match self {
            FaceRefusal::Failed => "The face check failed: try again facing the camera in good light, or bring your ID card to a service window".to_owned(),
            FaceRefusal::Unavailable => "The face check service is unavailable; try again shortly".to_owned(),
            FaceRefusal::NotClerk => "Only a window clerk can record an in-person check".to_owned(),
        }
    }
}

impl App {
    /// Raises a person to L3 with a face and liveness check. Needs L2 first.
    pub async fn verify_face(
        &self,
        account: &AccountId,
        capture: &[u8],
        now: Timestamp,
    ) -> Result<AssuranceLevel> {
        let person = self
            .db
            .person_by_id(account.as_str())
            .await?
            .ok_or_else(|| AppError::NotFound {
                kind: "account",
                key: account.as_str().to_owned(),
            })?;
        if let Err(step_up) = check_assurance(person.assurance_level, AssuranceLevel::L2) {
            return Err(AppError::refused(&step_up));
        }
        let result = self
            .face
            .verify(&person.resident_id, &person.name, capture)
            .await;
        let mut event =
            AuthEvent::new("step_up", AccountKind::Citizen, Some(account.as_str()), now);
        event.method = "face".to_owned();
        let outcome = match result {
            Ok(r) if r.matched && r.live => {
                event.detail = Some(serde_json::json!({"reference": r.reference}).to_string());
                Ok(())
            }
            Ok(r) => {
                event.succeeded = false;
                event.detail = Some(serde_json::json!({"reference": r.reference, "matched": r.matched, "live": r.live}).to_string());
                Err(AppError::refused(&FaceRefusal::Failed))
            }
            Err(e) => {
                tracing::warn!(error = %e, "face verifier unavailable");
                event.succeeded = false;
                event.detail = Some(serde_json::json!({"unavailable": true}).to_string());
                Err(AppError::refused(&FaceRefusal::Unavailable))
            }
        };
        self.db.record_auth_event(&event).await?;
        outcome?;
        self.db
            .set_assurance_level(&person.id, AssuranceLevel::L3)
            .await?;
        Ok(AssuranceLevel::L3)
    }

    /// Records an in-person check by a window clerk: the person's ID number and name must
    /// match the population registry (as for L2); their account rises to L3. Returns the
    /// account id.
    pub async fn verify_in_person(
        &self,
        clerk: &AccountId,
        resident_id: &str,
        name: &str,
        now: Timestamp,
    ) -> Result<AccountId> {
        let staff = self.db.staff_by_id(clerk.as_str()).await?;
        if !staff.as_ref().is_some_and(|s| {
            !s.disabled && s.roles.iter().any(|g| g.role == StaffRole::WindowClerk)
        }) {
            return Err(AppError::refused(&FaceRefusal::NotClerk));
        }
        let id =
            onetrip_domain::identifiers::ResidentId::parse(resident_id, crate::china_today(now))
                .map_err(|e| {
                    AppError::Rejected(vec![crate::FieldProblem::new("resident_id", &e)])
                })?;
        let person = self.db.person_by_resident_id(id.expose()).await?;
        let registry = self.db.population_by_resident_id(id.expose()).await?;
        let matched = registry.is_some_and(|r| {
            r.status == onetrip_store::PopulationStatus::Active
                && crate::realname::normalize_name(&r.name) == crate::realname::normalize_name(name)
        }) && person.as_ref().is_some_and(|p| {
            crate::realname::normalize_name(&p.name) == crate::realname::normalize_name(name)
        });
        let Some(person) = person.filter(|_| matched) else {
            tracing::info!(clerk = %clerk, resident_id = %id, "in-person check: no matching account");
            return Err(AppError::RealNameMismatch);
        };
        self.db
            .set_assurance_level(&person.id, AssuranceLevel::L3)
            .await?;
        let mut event = AuthEvent::new("step_up", AccountKind::Citizen, Some(&person.id), now);
        event.method = "in_person".to_owned();
        event.detail = Some(serde_json::json!({"clerk": clerk.as_str()}).to_string());
        self.db.record_auth_event(&event).await?;
        Ok(AccountId::new(person.id))
    }
}
