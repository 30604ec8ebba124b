//! The case status: the fold of a case's events.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::clock::{Clock, PauseReason, Warning};
use super::error::{CaseError, TextField};
use super::event::{ActionKind, CaseEvent, CorrectionItem, Outcome};
use super::process::ProcessDefinition;
use super::state::CaseState;
use crate::calendar::{CalendarError, WorkCalendar};
use crate::catalog::DeliveryMethod;
use crate::identity::AccountId;

/// What the case was created for (from its `created` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseOrigin {
    /// Implementation code of the item.
    pub item: String,
    /// Version of the item.
    pub item_version: i64,
    /// Situation code.
    pub situation: String,
    /// The day the case was created.
    pub created_on: Date,
}

/// A completed review step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletedStep {
    /// Stage index.
    pub stage: usize,
    /// Step index within the stage.
    pub step: usize,
    /// Who completed it.
    pub by: AccountId,
    /// When.
    pub on: Date,
}

/// The correction request waiting for the applicant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenCorrection {
    /// What to correct.
    pub items: Vec<CorrectionItem>,
    /// The day it was requested.
    pub requested_on: Date,
    /// The state the case returns to when the corrections are supplied.
    pub return_to: CaseState,
}

/// A supervision order issued on the case, as the case's history knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisionRef {
    /// The order id.
    pub order: String,
    /// The day it was issued.
    pub ordered_on: Date,
    /// The day it was answered.
    pub answered_on: Option<Date>,
}

/// The status of a case: the fold of its events.
///
/// Obtained only from [`CaseStatus::new`] and then [`CaseStatus::apply`] (or
/// [`CaseStatus::replay`]): the fields are private, so nothing else can move a case. Serialises
/// to JSON for read models and APIs. The store keeps the projection after the last event next
/// to the case (so that an action does not replay the log) and reads it back; it is a cache of
/// the events, which stay the truth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseStatus {
    state: CaseState,
    origin: Option<CaseOrigin>,
    /// Steps per stage of the process definition.
    stage_sizes: Vec<usize>,
    /// Index of the current stage; `stage_sizes.len()` once every stage is done.
    stage: usize,
    completed: Vec<CompletedStep>,
    accepted_by: Option<AccountId>,
    accepted_on: Option<Date>,
    clock: Clock,
    correction: Option<OpenCorrection>,
    corrections_requested: u32,
    suspensions: u32,
    outcome: Option<Outcome>,
    concluded_on: Option<Date>,
    delivery: Option<DeliveryMethod>,
    certificate: Option<String>,
    issued_on: Option<Date>,
    closed_on: Option<Date>,
    warning: Option<Warning>,
    supervision: Vec<SupervisionRef>,
    last_event_on: Option<Date>,
    version: u64,
}

/// Whether a required text is blank.
fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn require(text: &str, field: TextField) -> Result<(), CaseError> {
    if blank(text) {
        Err(CaseError::ReasonRequired { field })
    } else {
        Ok(())
    }
}

impl CaseStatus {
    /// The status before the `created` event, for a case with a time limit of `limit_days`
    /// working days (the promised limit of its situation or item) and the given process.
    pub fn new(limit_days: u16, process: &ProcessDefinition) -> CaseStatus {
        let mut status = CaseStatus {
            state: CaseState::AwaitingIntake,
            origin: None,
            stage_sizes: process.stages.iter().map(|s| s.steps.len()).collect(),
            stage: 0,
            completed: Vec::new(),
            accepted_by: None,
            accepted_on: None,
            clock: Clock::new(limit_days),
            correction: None,
            corrections_requested: 0,
            suspensions: 0,
            outcome: None,
            concluded_on: None,
            delivery: None,
            certificate: None,
            issued_on: None,
            closed_on: None,
            warning: None,
            supervision: Vec::new(),
            last_event_on: None,
            version: 0,
        };
        status.skip_empty_stages();
        status
    }

    /// Applies the events of a case in order, starting from [`CaseStatus::new`].
    ///
    /// # Errors
    /// The first event that cannot be applied.
    pub fn replay<'a, I>(
        events: I,
        limit_days: u16,
        process: &ProcessDefinition,
    ) -> Result<CaseStatus, CaseError>
    where
        I: IntoIterator<Item = (&'a CaseEvent, Date)>,
    {
        let mut status = CaseStatus::new(limit_days, process);
        for (event, on) in events {
            status = status.apply(event, on)?;
        }
        Ok(status)
    }

    /// The status after `event`, which happened on `on` (China local date). Validates the
    /// event against the state, the process and the rules; on error `self` is unchanged.
    ///
    /// # Errors
    /// A [`CaseError`] saying why the event is not possible now.
    pub fn apply(&self, event: &CaseEvent, on: Date) -> Result<CaseStatus, CaseError> {
        let action = event.action();
        match (&self.origin, action) {
            (None, ActionKind::Create) => {}
            (None, _) => return Err(CaseError::NotCreated { action }),
            (Some(_), ActionKind::Create) => return Err(CaseError::AlreadyCreated),
            (Some(_), _) => {}
        }
        if let Some(last) = self.last_event_on
            && on < last
        {
            return Err(CaseError::DateOutOfOrder { last, on });
        }
        let mut next = self.clone();
        next.transition(event, on)?;
        next.last_event_on = Some(on);
        next.version += 1;
        Ok(next)
    }

    /// Checks that the state lets `action` happen at all.
    fn check_state(&self, action: ActionKind) -> Result<(), CaseError> {
        if self.state_allows(action) {
            return Ok(());
        }
        let state = self.state;
        if action == ActionKind::RequestCorrection && state == CaseState::InCorrection {
            return Err(CaseError::CorrectionOpen);
        }
        if state.is_terminal() {
            return Err(CaseError::Closed { state, action });
        }
        if action == ActionKind::Withdraw && state.is_concluded() {
            return Err(CaseError::AlreadyConcluded { state });
        }
        Err(CaseError::IllegalTransition { state, action })
    }

    /// Whether the state lets `action` happen, arguments and actor aside.
    fn state_allows(&self, action: ActionKind) -> bool {
        use CaseState as S;
        let state = self.state;
        if self.origin.is_none() {
            return action == ActionKind::Create;
        }
        match action {
            ActionKind::Create => false,
            ActionKind::Start => state == S::Waiting,
            ActionKind::Accept => state == S::AwaitingIntake,
            ActionKind::Refuse => {
                state == S::AwaitingIntake
                    || (state == S::InCorrection && self.accepted_on.is_none())
            }
            ActionKind::RequestCorrection => matches!(state, S::AwaitingIntake | S::InReview),
            ActionKind::SupplyCorrection => state == S::InCorrection,
            ActionKind::CompleteStep | ActionKind::Suspend | ActionKind::Decide => {
                state == S::InReview
            }
            ActionKind::Resume => state == S::Suspended,
            ActionKind::IssueResult => state == S::Approved,
            ActionKind::Withdraw => !state.is_terminal() && !state.is_concluded(),
            ActionKind::RaiseWarning | ActionKind::OrderSupervision => !state.is_terminal(),
            ActionKind::AnswerSupervision | ActionKind::Remark => true,
        }
    }

    fn check_not_acceptor(&self, by: &AccountId, action: ActionKind) -> Result<(), CaseError> {
        if self.accepted_by.as_ref() == Some(by) {
            return Err(CaseError::SeparationOfDuties { action });
        }
        Ok(())
    }

    fn remaining_steps(&self) -> usize {
        let total: usize = self.stage_sizes.iter().sum();
        total.saturating_sub(self.completed.len())
    }

    fn stage_incomplete(&self) -> CaseError {
        CaseError::StageIncomplete {
            current: self.stage,
            remaining: self.remaining_steps(),
        }
    }

    fn skip_empty_stages(&mut self) {
        while self.stage_sizes.get(self.stage) == Some(&0) {
            self.stage += 1;
        }
    }

    /// Ends the case in terminal state `state` on `on`, closing any open pause or correction.
    fn close(&mut self, state: CaseState, on: Date) {
        self.state = state;
        self.closed_on = Some(on);
        self.correction = None;
        self.clock.resume(on);
    }

    /// Validates `event` and applies it to `self` (a scratch copy).
    fn transition(&mut self, event: &CaseEvent, on: Date) -> Result<(), CaseError> {
        let action = event.action();
        self.check_state(action)?;
        match event {
            CaseEvent::Created {
                item,
                item_version,
                situation,
                waiting,
            } => {
                self.origin = Some(CaseOrigin {
                    item: item.clone(),
                    item_version: *item_version,
                    situation: situation.clone(),
                    created_on: on,
                });
                self.state = if *waiting {
                    CaseState::Waiting
                } else {
                    CaseState::AwaitingIntake
                };
            }
            CaseEvent::Started => self.state = CaseState::AwaitingIntake,
            CaseEvent::Accepted { by } => {
                self.accepted_by = Some(by.clone());
                self.accepted_on = Some(on);
                self.clock.start = Some(on);
                self.state = CaseState::InReview;
            }
            CaseEvent::Refused { reason, .. } => {
                require(reason, TextField::RefusalReason)?;
                self.close(CaseState::Refused, on);
            }
            CaseEvent::CorrectionRequested { items, .. } => {
                if items.is_empty() {
                    return Err(CaseError::CorrectionEmpty);
                }
                if let Some(index) = items
                    .iter()
                    .position(|i| blank(&i.subject) || blank(&i.reason))
                {
                    return Err(CaseError::CorrectionItemIncomplete { index });
                }
                if self.state == CaseState::InReview {
                    self.clock.pause(on, PauseReason::Correction);
                }
                self.correction = Some(OpenCorrection {
                    items: items.clone(),
                    requested_on: on,
                    return_to: self.state,
                });
                self.corrections_requested += 1;
                self.state = CaseState::InCorrection;
            }
            CaseEvent::CorrectionSupplied { .. } => {
                let return_to = self
                    .correction
                    .take()
                    .map_or(CaseState::InReview, |c| c.return_to);
                if return_to == CaseState::InReview {
                    self.clock.resume(on);
                }
                self.state = return_to;
            }
            CaseEvent::StepCompleted {
                by,
                stage,
                step,
                opinion,
            } => {
                self.check_not_acceptor(by, action)?;
                let (stage, step) = (*stage, *step);
                if self.stage_sizes.get(stage).is_none_or(|&n| step >= n) {
                    return Err(CaseError::StepUnknown { stage, step });
                }
                if stage < self.stage || self.is_step_done(stage, step) {
                    return Err(CaseError::StepDone { stage, step });
                }
                if stage > self.stage {
                    return Err(self.stage_incomplete());
                }
                require(opinion, TextField::Opinion)?;
                self.completed.push(CompletedStep {
                    stage,
                    step,
                    by: by.clone(),
                    on,
                });
                let done_here = self.completed.iter().filter(|c| c.stage == stage).count();
                if self.stage_sizes.get(stage) == Some(&done_here) {
                    self.stage += 1;
                    self.skip_empty_stages();
                }
            }
            CaseEvent::Suspended { reason, .. } => {
                require(reason, TextField::SuspensionReason)?;
                self.clock.pause(on, PauseReason::SpecialProcedure);
                self.suspensions += 1;
                self.state = CaseState::Suspended;
            }
            CaseEvent::Resumed => {
                self.clock.resume(on);
                self.state = CaseState::InReview;
            }
            CaseEvent::Decided { by, outcome } => {
                self.check_not_acceptor(by, action)?;
                if self.stage < self.stage_sizes.len() {
                    return Err(self.stage_incomplete());
                }
                self.state = match outcome {
                    Outcome::Approved => CaseState::Approved,
                    Outcome::Denied { reason } => {
                        require(reason, TextField::DenialReason)?;
                        self.closed_on = Some(on);
                        CaseState::Denied
                    }
                };
                self.outcome = Some(outcome.clone());
                self.concluded_on = Some(on);
            }
            CaseEvent::ResultIssued {
                delivery,
                certificate,
                ..
            } => {
                self.delivery = Some(*delivery);
                self.certificate = certificate.clone();
                self.issued_on = Some(on);
                self.closed_on = Some(on);
                self.state = CaseState::ResultIssued;
            }
            CaseEvent::Withdrawn { reason } => {
                require(reason, TextField::WithdrawalReason)?;
                self.close(CaseState::Withdrawn, on);
            }
            CaseEvent::WarningRaised { level } => self.warning = Some(*level),
            CaseEvent::SupervisionOrdered { order, reason } => {
                require(order, TextField::OrderId)?;
                require(reason, TextField::SupervisionReason)?;
                if self.supervision.iter().any(|s| s.order == *order) {
                    return Err(CaseError::SupervisionDuplicate {
                        order: order.clone(),
                    });
                }
                self.supervision.push(SupervisionRef {
                    order: order.clone(),
                    ordered_on: on,
                    answered_on: None,
                });
            }
            CaseEvent::SupervisionAnswered { order, answer } => {
                let Some(entry) = self.supervision.iter_mut().find(|s| s.order == *order) else {
                    return Err(CaseError::SupervisionUnknown {
                        order: order.clone(),
                    });
                };
                if entry.answered_on.is_some() {
                    return Err(CaseError::SupervisionAnswered {
                        order: order.clone(),
                    });
                }
                require(answer, TextField::SupervisionAnswer)?;
                entry.answered_on = Some(on);
            }
            CaseEvent::Remark { text } => require(text, TextField::Remark)?,
        }
        Ok(())
    }

    /// The actions possible now, whoever acts (arguments aside): what a UI may offer. Every
    /// event that `apply` accepts is of a kind listed here.
    pub fn allowed(&self) -> Vec<ActionKind> {
        ActionKind::ALL
            .into_iter()
            .filter(|&a| self.state_allows(a))
            .filter(|&a| match a {
                ActionKind::CompleteStep => self.stage < self.stage_sizes.len(),
                ActionKind::Decide => self.stage >= self.stage_sizes.len(),
                ActionKind::AnswerSupervision => {
                    self.supervision.iter().any(|s| s.answered_on.is_none())
                }
                _ => true,
            })
            .collect()
    }

    /// [`CaseStatus::allowed`] for one account: without review and decision for the account
    /// that accepted the case (收受分离).
    pub fn allowed_for(&self, actor: &AccountId) -> Vec<ActionKind> {
        let acceptor = self.accepted_by.as_ref() == Some(actor);
        self.allowed()
            .into_iter()
            .filter(|a| !(acceptor && matches!(a, ActionKind::CompleteStep | ActionKind::Decide)))
            .collect()
    }

    /// The colour a deadline scanner should record now, if it differs from the last one
    /// raised (no warning raised yet counts as green); `None` when nothing changed or the case
    /// is not running (not accepted yet, decided or closed).
    ///
    /// # Errors
    /// From the calendar.
    pub fn warning_to_raise(
        &self,
        cal: &WorkCalendar,
        today: Date,
    ) -> Result<Option<Warning>, CalendarError> {
        if self.accepted_on.is_none() || self.state.is_terminal() || self.state.is_concluded() {
            return Ok(None);
        }
        let now = self.clock.warning(cal, today)?;
        Ok((now != self.warning.unwrap_or_default()).then_some(now))
    }

    /// The current state (`AwaitingIntake` before `created`: check [`CaseStatus::origin`]).
    pub fn state(&self) -> CaseState {
        self.state
    }

    /// What the case was created for; `None` before `created`.
    pub fn origin(&self) -> Option<&CaseOrigin> {
        self.origin.as_ref()
    }

    /// Number of steps in each stage of the process definition.
    pub fn stage_sizes(&self) -> &[usize] {
        &self.stage_sizes
    }

    /// Index of the stage under review; `None` once every stage is done.
    pub fn current_stage(&self) -> Option<usize> {
        (self.stage < self.stage_sizes.len()).then_some(self.stage)
    }

    /// Whether every stage is done (the case can be decided when under review).
    pub fn all_stages_done(&self) -> bool {
        self.stage >= self.stage_sizes.len()
    }

    /// The steps of the current stage not yet completed, as `(stage, step)`.
    pub fn pending_steps(&self) -> Vec<(usize, usize)> {
        let Some(stage) = self.current_stage() else {
            return Vec::new();
        };
        let size = self.stage_sizes.get(stage).copied().unwrap_or(0);
        (0..size)
            .filter(|&step| !self.is_step_done(stage, step))
            .map(|step| (stage, step))
            .collect()
    }

    /// The completed steps, in completion order.
    pub fn completed_steps(&self) -> &[CompletedStep] {
        &self.completed
    }

    /// Whether step `step` of stage `stage` is completed.
    pub fn is_step_done(&self, stage: usize, step: usize) -> bool {
        self.completed
            .iter()
            .any(|c| c.stage == stage && c.step == step)
    }

    /// The account that accepted the case.
    pub fn accepted_by(&self) -> Option<&AccountId> {
        self.accepted_by.as_ref()
    }

    /// The day the case was accepted (the clock's start).
    pub fn accepted_on(&self) -> Option<Date> {
        self.accepted_on
    }

    /// The working-day clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The correction request waiting for the applicant.
    pub fn correction(&self) -> Option<&OpenCorrection> {
        self.correction.as_ref()
    }

    /// How many corrections were requested in all.
    pub fn corrections_requested(&self) -> u32 {
        self.corrections_requested
    }

    /// How many special procedures were started in all.
    pub fn suspensions(&self) -> u32 {
        self.suspensions
    }

    /// The decision, once made.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// The day of the decision (办结).
    pub fn concluded_on(&self) -> Option<Date> {
        self.concluded_on
    }

    /// How the result was delivered, once issued.
    pub fn delivery(&self) -> Option<DeliveryMethod> {
        self.delivery
    }

    /// The certificate issued with the result, if any.
    pub fn certificate(&self) -> Option<&str> {
        self.certificate.as_deref()
    }

    /// The day the result was issued.
    pub fn issued_on(&self) -> Option<Date> {
        self.issued_on
    }

    /// The day the case reached a terminal state.
    pub fn closed_on(&self) -> Option<Date> {
        self.closed_on
    }

    /// The last warning raised (`warning_raised` event), if any.
    pub fn warning(&self) -> Option<Warning> {
        self.warning
    }

    /// The supervision orders issued on the case, in order.
    pub fn supervision(&self) -> &[SupervisionRef] {
        &self.supervision
    }

    /// The date of the last event applied.
    pub fn last_event_on(&self) -> Option<Date> {
        self.last_event_on
    }

    /// Number of events applied: the version to check for optimistic concurrency (the next
    /// event gets sequence number `version + 1`).
    pub fn version(&self) -> u64 {
        self.version
    }
}
