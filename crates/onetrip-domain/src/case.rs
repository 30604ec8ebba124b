//! Cases (办件): the per-item process, the event-sourced state machine, working-day clocks and
//! warnings (预警), case numbers (办件编号), the status of an application derived from its
//! cases, and supervision orders (督办).
//!
//! # Event sourcing
//! A case is a log of [`CaseEvent`]s; its [`CaseStatus`] is the fold of that log
//! ([`CaseStatus::apply`], [`CaseStatus::replay`]). `apply` is the only way to obtain a changed
//! status and it validates the event first, so **no case moves without its event**: the app
//! appends the event it applied, in the same transaction as any projection of the status.
//! Each event is applied with the China-local civil date on which it happened; dates never go
//! backwards within a case.
//!
//! States and transitions:
//!
//! ```text
//! event                 from                                  to
//! created               (new status)                          Waiting or AwaitingIntake
//! started               Waiting                               AwaitingIntake
//! accepted              AwaitingIntake                        InReview (the clock starts)
//! refused               AwaitingIntake, InCorrection (*)      Refused
//! correction_requested  AwaitingIntake, InReview              InCorrection (pauses the clock from InReview)
//! correction_supplied   InCorrection                          the state the correction came from
//! step_completed        InReview                              InReview (the next stage once a stage is done)
//! suspended             InReview                              Suspended (pauses the clock)
//! resumed               Suspended                             InReview
//! decided               InReview, every stage done            Approved or Denied
//! result_issued         Approved                              ResultIssued
//! withdrawn             any state before the decision         Withdrawn
//! warning_raised, supervision_ordered: any non-terminal state; supervision_answered, remark:
//! any state. These four do not change the state; they belong to the history.
//! (*) a correction requested before acceptance.
//! ```
//!
//! Rules enforced by the machine:
//! - **One-time notice (一次性告知):** a correction request lists everything at once (a
//!   non-empty list); a second request while one is open is refused (`case_correction_open`).
//!   Before acceptance the clock has not started, so a correction pauses nothing; during review
//!   it pauses the clock until the correction is supplied. A case whose applicant never
//!   supplies a pre-acceptance correction can still be refused.
//! - **Parallel review (并联审批):** the steps of a stage may be completed in any order; the case
//!   moves to the next stage when every step of the current one is done; it can be decided only
//!   after the last stage.
//! - **Intake/handling separation (收受分离):** the account that accepted a case may not complete
//!   its review steps nor decide it (`case_separation_of_duties`).
//! - **Special procedures** (hearing, testing, inspection, expert review, tender: Administrative
//!   Licensing Law art. 45) suspend the case and stop its clock.
//! - Refusal, denial and withdrawal reasons, step opinions, suspension reasons, remarks and
//!   supervision texts must not be blank.
//!
//! # Clocks and recomputation
//! The [`Clock`] keeps only facts: the limit, the acceptance date and the pauses. Deadlines,
//! elapsed days and warnings are computed from the clock **and** a [`WorkCalendar`] whenever
//! they are asked for, never stored as the only truth: when the next year's holiday notice is
//! imported (or a notice is amended), every open case's deadline follows automatically. A
//! stored deadline is a cache the app may rebuild at any time.
//!
//! [`WorkCalendar`]: crate::calendar::WorkCalendar

mod application;
mod clock;
mod error;
mod event;
mod machine;
mod number;
mod process;
mod state;
mod supervision;

pub use application::{ApplicationStatus, application_status};
pub use clock::{Clock, Pause, PauseReason, Warning};
pub use error::{CaseError, TextField};
pub use event::{
    ActionKind, CaseEvent, CorrectionItem, FileRef, Outcome, SpecialProcedure, describe,
};
pub use machine::{CaseOrigin, CaseStatus, CompletedStep, OpenCorrection, SupervisionRef};
pub use number::{CaseNumber, CaseNumberError};
pub use process::{DEFAULT_REVIEW_STEP, ProcessDefinition, Stage, StepDefinition};
pub use state::CaseState;
pub use supervision::{SupervisionAnswer, SupervisionError, SupervisionOrder};
