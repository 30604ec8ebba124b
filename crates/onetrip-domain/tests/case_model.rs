//! Model-based tests of the case state machine: random event sequences are applied to a
//! `CaseStatus` and to a small reference model written independently here; both must agree
//! on every step, and the machine's invariants must hold throughout.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};

use jiff::ToSpan;
use jiff::civil::{Date, date};
use onetrip_domain::Localized;
use onetrip_domain::calendar::WorkCalendar;
use onetrip_domain::case::*;
use onetrip_domain::catalog::DeliveryMethod;
use onetrip_domain::identity::AccountId;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

// ---------------------------------------------------------------------------------------------
// Generators

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("材料不清晰".to_owned()),
        1 => Just(String::new()),
        1 => Just(" \t ".to_owned()),
    ]
}

fn account() -> impl Strategy<Value = AccountId> {
    (0u8..3).prop_map(|i| AccountId::new(format!("staff-{i}")))
}

fn order_id() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just("DB-1".to_owned()),
        3 => Just("DB-2".to_owned()),
        1 => Just(" ".to_owned()),
    ]
}

fn procedure() -> impl Strategy<Value = SpecialProcedure> {
    prop_oneof![
        Just(SpecialProcedure::Hearing),
        Just(SpecialProcedure::Testing),
        Just(SpecialProcedure::Inspection),
        Just(SpecialProcedure::ExpertReview),
        Just(SpecialProcedure::Tender),
    ]
}

fn delivery() -> impl Strategy<Value = DeliveryMethod> {
    prop_oneof![
        Just(DeliveryMethod::Pickup),
        Just(DeliveryMethod::Express),
        Just(DeliveryMethod::Electronic),
    ]
}

fn warning() -> impl Strategy<Value = Warning> {
    prop_oneof![
        Just(Warning::Green),
        Just(Warning::Yellow),
        Just(Warning::Red)
    ]
}

fn created() -> impl Strategy<Value = CaseEvent> {
    any::<bool>().prop_map(|waiting| CaseEvent::Created {
        item: "11330100MB0000000X000172006000".to_owned(),
        item_version: 3,
        situation: "S01".to_owned(),
        waiting,
    })
}

/// Any event, with valid and invalid arguments, weighted so that sequences get deep.
fn event() -> impl Strategy<Value = CaseEvent> {
    prop_oneof![
        1 => created(),
        3 => Just(CaseEvent::Started),
        4 => account().prop_map(|by| CaseEvent::Accepted { by }),
        1 => (account(), text()).prop_map(|(by, reason)| CaseEvent::Refused { by, reason }),
        3 => (account(), prop::collection::vec((text(), text()), 0..3)).prop_map(|(by, items)| {
            CaseEvent::CorrectionRequested {
                by,
                items: items
                    .into_iter()
                    .map(|(subject, reason)| CorrectionItem { subject, reason })
                    .collect(),
            }
        }),
        3 => prop::option::of(text()).prop_map(|note| CaseEvent::CorrectionSupplied {
            note,
            uploads: Default::default()
        }),
        14 => (account(), 0usize..3, 0usize..3, text()).prop_map(|(by, stage, step, opinion)| {
            CaseEvent::StepCompleted { by, stage, step, opinion }
        }),
        2 => (procedure(), text())
            .prop_map(|(procedure, reason)| CaseEvent::Suspended { procedure, reason }),
        3 => Just(CaseEvent::Resumed),
        4 => (account(), prop::option::of(text())).prop_map(|(by, denied)| CaseEvent::Decided {
            by,
            outcome: match denied {
                None => Outcome::Approved,
                Some(reason) => Outcome::Denied { reason },
            },
        }),
        3 => (prop::option::of(account()), delivery(), any::<bool>()).prop_map(
            |(by, delivery, cert)| CaseEvent::ResultIssued {
                by,
                delivery,
                certificate: cert.then(|| "1.2.156.3005.2.X.Y.1.1.Z".to_owned()),
            }
        ),
        1 => text().prop_map(|reason| CaseEvent::Withdrawn { reason }),
        1 => warning().prop_map(|level| CaseEvent::WarningRaised { level }),
        1 => (order_id(), text())
            .prop_map(|(order, reason)| CaseEvent::SupervisionOrdered { order, reason }),
        1 => (order_id(), text())
            .prop_map(|(order, answer)| CaseEvent::SupervisionAnswered { order, answer }),
        1 => text().prop_map(|text| CaseEvent::Remark { text }),
    ]
}

/// A process of 0–3 stages of 0–3 steps (empty stages included, to be skipped).
fn process() -> impl Strategy<Value = ProcessDefinition> {
    prop::collection::vec(prop::collection::vec(0u16..8, 0..4), 0..4).prop_map(|stages| {
        ProcessDefinition {
            stages: stages
                .into_iter()
                .map(|steps| Stage {
                    steps: steps
                        .into_iter()
                        .map(|d| StepDefinition {
                            name: "审查".to_owned(),
                            role: None,
                            working_days: d,
                        })
                        .collect(),
                })
                .collect(),
        }
    })
}

/// A case: limit, process, and dated events (dates increasing over 2024–2026). Most sequences
/// start with `created`.
#[derive(Debug, Clone)]
struct Scenario {
    limit: u16,
    process: ProcessDefinition,
    events: Vec<(CaseEvent, Date)>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        0u16..30,
        process(),
        prop::option::weighted(0.95, created()),
        0i64..(3 * 365 - 200),
        prop::collection::vec((event(), 0i64..4), 0..60),
    )
        .prop_map(|(limit, process, first, start, rest)| {
            let mut day = date(2024, 1, 1).checked_add(start.days()).unwrap();
            let mut events = Vec::new();
            if let Some(first) = first {
                events.push((first, day));
            }
            for (e, gap) in rest {
                day = day.checked_add(gap.days()).unwrap();
                events.push((e, day));
            }
            Scenario {
                limit,
                process,
                events,
            }
        })
}

// ---------------------------------------------------------------------------------------------
// The reference model

#[derive(Debug, Clone)]
struct Model {
    created: bool,
    state: CaseState,
    sizes: Vec<usize>,
    done: BTreeSet<(usize, usize)>,
    acceptor: Option<AccountId>,
    back_to: Option<CaseState>,
    /// Order id → answered.
    orders: BTreeMap<String, bool>,
    /// Whether the clock should be stopped now.
    paused: bool,
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

impl Model {
    fn new(process: &ProcessDefinition) -> Model {
        Model {
            created: false,
            state: CaseState::AwaitingIntake,
            sizes: process.stages.iter().map(|s| s.steps.len()).collect(),
            done: BTreeSet::new(),
            acceptor: None,
            back_to: None,
            orders: BTreeMap::new(),
            paused: false,
        }
    }

    fn total_steps(&self) -> usize {
        self.sizes.iter().sum()
    }

    /// The first stage with an open step; `sizes.len()` when none.
    fn current_stage(&self) -> usize {
        (0..self.sizes.len())
            .find(|&i| (0..self.sizes[i]).any(|j| !self.done.contains(&(i, j))))
            .unwrap_or(self.sizes.len())
    }

    fn terminal(&self) -> bool {
        use CaseState::*;
        matches!(self.state, Refused | Denied | ResultIssued | Withdrawn)
    }

    /// The error for an event the state does not admit.
    fn wrong_state(&self) -> &'static str {
        if self.terminal() {
            "case_closed"
        } else {
            "case_illegal_transition"
        }
    }

    /// The model after `e`, or the error code the machine must report.
    fn step(&self, e: &CaseEvent) -> Result<Model, &'static str> {
        use CaseState::*;
        let mut m = self.clone();
        if !self.created {
            return match e {
                CaseEvent::Created { waiting, .. } => {
                    m.created = true;
                    m.state = if *waiting { Waiting } else { AwaitingIntake };
                    Ok(m)
                }
                _ => Err("case_not_created"),
            };
        }
        let s = self.state;
        match e {
            CaseEvent::Created { .. } => return Err("case_already_created"),
            CaseEvent::Started => {
                if s != Waiting {
                    return Err(self.wrong_state());
                }
                m.state = AwaitingIntake;
            }
            CaseEvent::Accepted { by } => {
                if s != AwaitingIntake {
                    return Err(self.wrong_state());
                }
                m.acceptor = Some(by.clone());
                m.state = InReview;
            }
            CaseEvent::Refused { reason, .. } => {
                let before_acceptance = self.acceptor.is_none();
                if !(s == AwaitingIntake || (s == InCorrection && before_acceptance)) {
                    return Err(self.wrong_state());
                }
                if blank(reason) {
                    return Err("case_reason_required");
                }
                m.state = Refused;
                m.back_to = None;
            }
            CaseEvent::CorrectionRequested { items, .. } => {
                if s == InCorrection {
                    return Err("case_correction_open");
                }
                if s != AwaitingIntake && s != InReview {
                    return Err(self.wrong_state());
                }
                if items.is_empty() {
                    return Err("case_correction_empty");
                }
                if items.iter().any(|i| blank(&i.subject) || blank(&i.reason)) {
                    return Err("case_correction_item_incomplete");
                }
                m.back_to = Some(s);
                m.paused = s == InReview;
                m.state = InCorrection;
            }
            CaseEvent::CorrectionSupplied { .. } => {
                if s != InCorrection {
                    return Err(self.wrong_state());
                }
                m.state = self.back_to.unwrap();
                m.back_to = None;
                m.paused = false;
            }
            CaseEvent::StepCompleted {
                by,
                stage,
                step,
                opinion,
            } => {
                if s != InReview {
                    return Err(self.wrong_state());
                }
                if self.acceptor.as_ref() == Some(by) {
                    return Err("case_separation_of_duties");
                }
                if *stage >= self.sizes.len() || *step >= self.sizes[*stage] {
                    return Err("case_step_unknown");
                }
                if self.done.contains(&(*stage, *step)) {
                    return Err("case_step_done");
                }
                if *stage != self.current_stage() {
                    return Err("case_stage_incomplete");
                }
                if blank(opinion) {
                    return Err("case_reason_required");
                }
                m.done.insert((*stage, *step));
            }
            CaseEvent::Suspended { reason, .. } => {
                if s != InReview {
                    return Err(self.wrong_state());
                }
                if blank(reason) {
                    return Err("case_reason_required");
                }
                m.state = Suspended;
                m.paused = true;
            }
            CaseEvent::Resumed => {
                if s != Suspended {
                    return Err(self.wrong_state());
                }
                m.state = InReview;
                m.paused = false;
            }
            CaseEvent::Decided { by, outcome } => {
                if s != InReview {
                    return Err(self.wrong_state());
                }
                if self.acceptor.as_ref() == Some(by) {
                    return Err("case_separation_of_duties");
                }
                if self.done.len() < self.total_steps() {
                    return Err("case_stage_incomplete");
                }
                m.state = match outcome {
                    Outcome::Approved => Approved,
                    Outcome::Denied { reason } if blank(reason) => {
                        return Err("case_reason_required");
                    }
                    Outcome::Denied { .. } => Denied,
                };
            }
            CaseEvent::ResultIssued { .. } => {
                if s != Approved {
                    return Err(self.wrong_state());
                }
                m.state = ResultIssued;
            }
            CaseEvent::Withdrawn { reason } => {
                if self.terminal() {
                    return Err("case_closed");
                }
                if s == Approved {
                    return Err("case_already_concluded");
                }
                if blank(reason) {
                    return Err("case_reason_required");
                }
                m.state = Withdrawn;
                m.back_to = None;
                m.paused = false;
            }
            CaseEvent::WarningRaised { .. } => {
                if self.terminal() {
                    return Err("case_closed");
                }
            }
            CaseEvent::SupervisionOrdered { order, reason } => {
                if self.terminal() {
                    return Err("case_closed");
                }
                if blank(order) || blank(reason) {
                    return Err("case_reason_required");
                }
                if self.orders.contains_key(order) {
                    return Err("case_supervision_duplicate");
                }
                m.orders.insert(order.clone(), false);
            }
            CaseEvent::SupervisionAnswered { order, answer } => {
                match self.orders.get(order) {
                    None => return Err("case_supervision_unknown"),
                    Some(true) => return Err("case_supervision_answered"),
                    Some(false) => {}
                }
                if blank(answer) {
                    return Err("case_reason_required");
                }
                m.orders.insert(order.clone(), true);
            }
            CaseEvent::Remark { text } => {
                if blank(text) {
                    return Err("case_reason_required");
                }
            }
        }
        Ok(m)
    }
}

// ---------------------------------------------------------------------------------------------
// The run

/// What a run reached, for the coverage test.
#[derive(Default)]
struct Reached {
    states: BTreeSet<CaseState>,
    codes: BTreeSet<&'static str>,
}

/// Applies the scenario to the machine and the model, checking every invariant; panics (with
/// a message) on the first disagreement.
fn run(sc: &Scenario, reached: &mut Reached) -> Result<(), TestCaseError> {
    let cal = WorkCalendar::builtin();
    let mut status = CaseStatus::new(sc.limit, &sc.process);
    let mut model = Model::new(&sc.process);
    let mut applied: Vec<(CaseEvent, Date)> = Vec::new();
    for (i, (event, on)) in sc.events.iter().enumerate() {
        let ctx = format!("event {i} {event:?} on {on} in {:?}", status.state());
        // Stored events survive the JSON round trip.
        let json = serde_json::to_string(event).unwrap();
        prop_assert_eq!(&serde_json::from_str::<CaseEvent>(&json).unwrap(), event);
        // The applicant-facing text never shows account ids.
        let (zh, en) = describe(event);
        prop_assert!(!zh.is_empty() && !en.is_empty());
        prop_assert!(!zh.contains("staff-") && !en.contains("staff-"), "{}", ctx);

        let before = status.clone();
        let expected = model.step(event);
        match (status.apply(event, *on), expected) {
            (Ok(next), Ok(next_model)) => {
                prop_assert!(before.allowed().contains(&event.action()), "{}", ctx);
                // No terminal state is ever left.
                if before.state().is_terminal() {
                    prop_assert_eq!(next.state(), before.state(), "{}", &ctx);
                }
                match event {
                    CaseEvent::Withdrawn { .. } => {
                        prop_assert!(!before.state().is_concluded(), "{}", ctx);
                    }
                    CaseEvent::Decided { by, .. } => {
                        let total: usize = before.stage_sizes().iter().sum();
                        prop_assert_eq!(before.completed_steps().len(), total, "{}", &ctx);
                        prop_assert!(before.all_stages_done(), "{}", ctx);
                        prop_assert_ne!(Some(by), before.accepted_by(), "{}", &ctx);
                    }
                    CaseEvent::StepCompleted { by, .. } => {
                        prop_assert_ne!(Some(by), before.accepted_by(), "{}", &ctx);
                    }
                    _ => {}
                }
                prop_assert_eq!(next.version(), before.version() + 1);
                status = next;
                model = next_model;
                applied.push((event.clone(), *on));
            }
            (Err(err), Err(code)) => {
                prop_assert_eq!(err.code(), code, "{}", &ctx);
                prop_assert!(!err.message_zh().is_empty() && !err.message_en().is_empty());
                reached.codes.insert(code);
                // Nothing moved: `apply` returned an error and `status` is what it was.
                prop_assert_eq!(&status, &before);
            }
            (got, want) => {
                return Err(TestCaseError::fail(format!(
                    "{ctx}: machine {:?}, model {:?}",
                    got.map(|s| s.state()).map_err(|e| e.code()),
                    want.map(|m| m.state)
                )));
            }
        }
        reached.states.insert(status.state());

        // The machine and the model agree.
        prop_assert_eq!(status.state(), model.state, "{}", &ctx);
        prop_assert_eq!(status.completed_steps().len(), model.done.len(), "{}", &ctx);
        prop_assert_eq!(
            status.current_stage().unwrap_or(model.sizes.len()),
            model.current_stage(),
            "{}",
            &ctx
        );
        prop_assert_eq!(status.accepted_by(), model.acceptor.as_ref(), "{}", &ctx);
        prop_assert_eq!(status.clock().is_paused(), model.paused, "{}", &ctx);
        prop_assert_eq!(
            status.correction().is_some(),
            status.state() == CaseState::InCorrection
        );

        // The pauses are well-formed: only the last may be open, from ≤ until, in order, all
        // after the start.
        let pauses = &status.clock().pauses;
        let open = pauses.iter().filter(|p| p.until.is_none()).count();
        prop_assert!(open <= 1, "{}", ctx);
        if open == 1 {
            prop_assert!(pauses.last().unwrap().until.is_none(), "{}", ctx);
        }
        for (k, p) in pauses.iter().enumerate() {
            prop_assert!(p.until.is_none_or(|u| p.from <= u), "{}", ctx);
            prop_assert!(status.clock().start.is_some_and(|s| s <= p.from));
            if let Some(prev) = k.checked_sub(1).and_then(|k| pauses.get(k)) {
                prop_assert!(prev.until.is_some_and(|u| u <= p.from));
            }
        }
        // The clock answers for every state without error.
        let today = *on;
        let deadline = status.clock().deadline(&cal, today).unwrap();
        prop_assert_eq!(deadline.is_some(), status.accepted_on().is_some());
        status.clock().warning(&cal, today).unwrap();
    }

    // Replaying the accepted events reproduces the same status.
    let replayed =
        CaseStatus::replay(applied.iter().map(|(e, d)| (e, *d)), sc.limit, &sc.process).unwrap();
    prop_assert_eq!(replayed, status);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(768))]

    /// The machine agrees with the reference model on every event of random sequences, and
    /// its invariants hold.
    #[test]
    fn machine_agrees_with_model(sc in scenario()) {
        run(&sc, &mut Reached::default())?;
    }
}

/// The generator is good enough for the model test to mean something: over a few hundred
/// scenarios, every state and every error code the model knows is reached.
#[test]
fn generator_reaches_every_state_and_error() {
    let mut runner = TestRunner::deterministic();
    let strategy = scenario();
    let mut reached = Reached::default();
    for _ in 0..600 {
        let sc = strategy.new_tree(&mut runner).unwrap().current();
        run(&sc, &mut reached).unwrap();
    }
    let states: BTreeSet<CaseState> = CaseState::ALL.into_iter().collect();
    assert_eq!(reached.states, states);
    for code in [
        "case_not_created",
        "case_already_created",
        "case_illegal_transition",
        "case_closed",
        "case_already_concluded",
        "case_step_unknown",
        "case_step_done",
        "case_stage_incomplete",
        "case_reason_required",
        "case_correction_empty",
        "case_correction_item_incomplete",
        "case_correction_open",
        "case_separation_of_duties",
        "case_supervision_duplicate",
        "case_supervision_unknown",
        "case_supervision_answered",
    ] {
        assert!(reached.codes.contains(code), "{code} never reached");
    }
}
