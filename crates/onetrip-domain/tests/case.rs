//! Cases: process definitions, the state machine's rules one by one, clocks and warnings over
//! the real calendar, case numbers, application status, supervision, and the error messages.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeSet;

use jiff::ToSpan;
use jiff::civil::{Date, date};
use onetrip_domain::Localized;
use onetrip_domain::calendar::WorkCalendar;
use onetrip_domain::case::*;
use onetrip_domain::catalog::{DeliveryMethod, ServiceItem};
use onetrip_domain::identifiers::DivisionCode;
use onetrip_domain::identity::AccountId;
use proptest::prelude::*;

fn acct(s: &str) -> AccountId {
    AccountId::new(s)
}

fn created() -> CaseEvent {
    CaseEvent::Created {
        item: "ITEM".into(),
        item_version: 1,
        situation: "S01".into(),
        waiting: false,
    }
}

fn accepted() -> CaseEvent {
    CaseEvent::Accepted { by: acct("clerk") }
}

fn step(stage: usize, step: usize) -> CaseEvent {
    CaseEvent::StepCompleted {
        by: acct("officer"),
        stage,
        step,
        opinion: "符合条件".into(),
    }
}

fn correction() -> CaseEvent {
    CaseEvent::CorrectionRequested {
        by: acct("officer"),
        items: vec![CorrectionItem {
            subject: "M01".into(),
            reason: "身份证复印件不清晰".into(),
        }],
    }
}

fn supplied() -> CaseEvent {
    CaseEvent::CorrectionSupplied {
        note: None,
        uploads: Default::default(),
    }
}

fn approve(by: &str) -> CaseEvent {
    CaseEvent::Decided {
        by: acct(by),
        outcome: Outcome::Approved,
    }
}

/// One stage with one step.
fn simple() -> ProcessDefinition {
    ProcessDefinition {
        stages: vec![Stage {
            steps: vec![StepDefinition {
                name: "审查".into(),
                role: None,
                working_days: 3,
            }],
        }],
    }
}

/// Applies the events, all on their dates; panics on error.
fn run(limit: u16, process: &ProcessDefinition, events: &[(CaseEvent, Date)]) -> CaseStatus {
    CaseStatus::replay(events.iter().map(|(e, d)| (e, *d)), limit, process).unwrap()
}

fn code(r: Result<CaseStatus, CaseError>) -> &'static str {
    r.map(|_| ()).unwrap_err().code()
}

fn item(process: serde_json::Value) -> ServiceItem {
    serde_json::from_value(serde_json::json!({
        "base_code": "000172006000",
        "implementation_code": "11330100MB0000000X000172006000",
        "name": "食品经营许可",
        "item_type": "licensing",
        "legal_basis": ["《食品安全法》第三十五条"],
        "department_code": "91330100716105852F",
        "division_code": "330100",
        "service_object": "organisation",
        "handling_kind": "promised",
        "statutory_limit": 20,
        "promised_limit": 7,
        "channels": ["online"],
        "visits": 0,
        "online_depth": "IV",
        "process": process,
        "result": {"result_type": "document", "name": "许可决定书"},
        "contacts": {"consultation_phone": "12345", "complaint_phone": "12345"},
    }))
    .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Process definitions

#[test]
fn process_from_item_drops_intake_and_groups_parallel_steps() {
    let it = item(serde_json::json!([
        {"name": "受理", "role": "窗口", "working_days": 1},
        {"name": "审查", "working_days": 2},
        {"name": "现场核查", "role": "核查员", "working_days": 3, "parallel": true},
        {"name": "征求意见", "working_days": 1, "parallel": true},
        {"name": "决定", "role": "处长", "working_days": 2},
    ]));
    let p = ProcessDefinition::from_item(&it);
    assert_eq!(p.stages.len(), 2);
    let names: Vec<Vec<&str>> = p
        .stages
        .iter()
        .map(|s| s.steps.iter().map(|x| x.name.as_str()).collect())
        .collect();
    assert_eq!(
        names,
        vec![vec!["审查", "现场核查", "征求意见"], vec!["决定"]]
    );
    assert_eq!(p.stages[0].steps[1].role.as_deref(), Some("核查员"));
    assert_eq!(p.critical_path_days(), 3 + 2);
    assert_eq!(p.step_count(), 4);
    assert_eq!(p.step(1, 0).map(|s| s.name.as_str()), Some("决定"));
    assert!(p.step(2, 0).is_none());

    // A step parallel to the intake starts the first stage once the intake is dropped.
    let it = item(serde_json::json!([
        {"name": "受理并核验", "working_days": 1},
        {"name": "审核", "working_days": 2, "parallel": true},
    ]));
    let p = ProcessDefinition::from_item(&it);
    assert_eq!(p.stages.len(), 1);
    assert_eq!(p.stages[0].steps[0].name, "审核");

    // Intake only, or nothing: one default step taking the promised limit.
    for process in [
        serde_json::json!([{"name": "受理", "working_days": 0}]),
        serde_json::json!([]),
    ] {
        let p = ProcessDefinition::from_item(&item(process));
        assert_eq!(p.stages.len(), 1);
        assert_eq!(
            p.stages[0].steps,
            vec![StepDefinition {
                name: DEFAULT_REVIEW_STEP.into(),
                role: None,
                working_days: 7
            }]
        );
    }

    // A step named otherwise in the first place is a review step.
    let p = ProcessDefinition::from_item(&item(serde_json::json!([
        {"name": "审查", "working_days": 2},
        {"name": "受理复核", "working_days": 1},
    ])));
    assert_eq!(p.step_count(), 2);
}

// ---------------------------------------------------------------------------------------------
// The state machine

#[test]
fn a_case_runs_from_creation_to_issuance() {
    let d = date(2026, 3, 2);
    let process = simple();
    let s = run(
        5,
        &process,
        &[
            (created(), d),
            (accepted(), d),
            (step(0, 0), d.checked_add(1.day()).unwrap()),
            (approve("head"), d.checked_add(2.days()).unwrap()),
            (
                CaseEvent::ResultIssued {
                    by: None,
                    delivery: DeliveryMethod::Electronic,
                    certificate: Some("CERT-1".into()),
                },
                d.checked_add(2.days()).unwrap(),
            ),
        ],
    );
    assert_eq!(s.state(), CaseState::ResultIssued);
    assert!(s.state().is_terminal() && s.state().is_concluded());
    assert_eq!(s.accepted_on(), Some(d));
    assert_eq!(s.concluded_on(), Some(date(2026, 3, 4)));
    assert_eq!(s.issued_on(), Some(date(2026, 3, 4)));
    assert_eq!(s.certificate(), Some("CERT-1"));
    assert_eq!(s.delivery(), Some(DeliveryMethod::Electronic));
    assert_eq!(s.version(), 5);
    assert_eq!(s.origin().unwrap().item_version, 1);
    assert!(s.allowed().iter().all(|a| !a.changes_state()));
    assert!(
        s.clock()
            .concluded_on_time(&WorkCalendar::builtin(), date(2026, 3, 4))
            .unwrap()
    );
}

#[test]
fn a_waiting_member_starts_when_its_prerequisites_conclude() {
    let d = date(2025, 6, 3);
    let s = run(
        5,
        &simple(),
        &[(
            CaseEvent::Created {
                item: "ITEM".into(),
                item_version: 1,
                situation: "S01".into(),
                waiting: true,
            },
            d,
        )],
    );
    assert_eq!(s.state(), CaseState::Waiting);
    assert_eq!(code(s.apply(&accepted(), d)), "case_illegal_transition");
    assert_eq!(
        s.allowed(),
        vec![
            ActionKind::Start,
            ActionKind::Withdraw,
            ActionKind::RaiseWarning,
            ActionKind::OrderSupervision,
            ActionKind::Remark
        ]
    );
    let s = s.apply(&CaseEvent::Started, d).unwrap();
    assert_eq!(s.state(), CaseState::AwaitingIntake);
}

#[test]
fn the_illegal_transition_message_names_state_and_action() {
    let d = date(2026, 3, 2);
    let s = run(5, &simple(), &[(created(), d), (accepted(), d)]);
    let err = s.apply(&accepted(), d).unwrap_err();
    assert_eq!(err.code(), "case_illegal_transition");
    assert!(err.message_zh().contains("审查中") && err.message_zh().contains("受理"));
    assert!(err.message_en().contains("Under review") && err.message_en().contains("accept"));
}

#[test]
fn the_acceptor_may_neither_review_nor_decide() {
    let d = date(2026, 3, 2);
    let s = run(5, &simple(), &[(created(), d), (accepted(), d)]);
    let by_clerk = CaseEvent::StepCompleted {
        by: acct("clerk"),
        stage: 0,
        step: 0,
        opinion: "同意".into(),
    };
    assert_eq!(code(s.apply(&by_clerk, d)), "case_separation_of_duties");
    assert!(s.allowed().contains(&ActionKind::CompleteStep));
    assert!(
        !s.allowed_for(&acct("clerk"))
            .contains(&ActionKind::CompleteStep)
    );
    let s = s.apply(&step(0, 0), d).unwrap();
    assert_eq!(
        code(s.apply(&approve("clerk"), d)),
        "case_separation_of_duties"
    );
    assert!(!s.allowed_for(&acct("clerk")).contains(&ActionKind::Decide));
    assert!(s.allowed_for(&acct("head")).contains(&ActionKind::Decide));
    // The officer who reviewed may decide.
    assert_eq!(
        s.apply(&approve("officer"), d).unwrap().state(),
        CaseState::Approved
    );
}

#[test]
fn parallel_steps_complete_in_any_order() {
    let d = date(2026, 3, 2);
    let three = |name: &str| StepDefinition {
        name: name.into(),
        role: None,
        working_days: 2,
    };
    let process = ProcessDefinition {
        stages: vec![
            Stage {
                steps: vec![three("审查"), three("核查"), three("征求意见")],
            },
            Stage {
                steps: vec![three("决定")],
            },
        ],
    };
    let orders = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    let mut finals = Vec::new();
    for order in orders {
        let mut s = run(10, &process, &[(created(), d), (accepted(), d)]);
        for (k, &i) in order.iter().enumerate() {
            assert_eq!(s.current_stage(), Some(0));
            assert_eq!(code(s.apply(&step(1, 0), d)), "case_stage_incomplete");
            assert_eq!(code(s.apply(&approve("head"), d)), "case_stage_incomplete");
            s = s.apply(&step(0, i), d).unwrap();
            assert_eq!(code(s.apply(&step(0, i), d)), "case_step_done");
            assert_eq!(s.pending_steps().len(), if k < 2 { 2 - k } else { 1 });
        }
        assert_eq!(s.current_stage(), Some(1));
        assert_eq!(s.pending_steps(), vec![(1, 0)]);
        assert_eq!(code(s.apply(&step(0, order[0]), d)), "case_step_done");
        s = s.apply(&step(1, 0), d).unwrap();
        assert!(s.all_stages_done());
        let s = s.apply(&approve("head"), d).unwrap();
        let done: BTreeSet<(usize, usize)> = s
            .completed_steps()
            .iter()
            .map(|c| (c.stage, c.step))
            .collect();
        finals.push((s.state(), s.current_stage(), done));
    }
    assert!(finals.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(finals[0].0, CaseState::Approved);
    assert_eq!(finals[0].2.len(), 4);
}

#[test]
fn unknown_steps_and_empty_stages() {
    let d = date(2026, 3, 2);
    let process = ProcessDefinition {
        stages: vec![
            Stage { steps: vec![] },
            Stage {
                steps: simple().stages[0].steps.clone(),
            },
            Stage { steps: vec![] },
        ],
    };
    let s = run(5, &process, &[(created(), d), (accepted(), d)]);
    assert_eq!(s.current_stage(), Some(1));
    assert_eq!(code(s.apply(&step(0, 0), d)), "case_step_unknown");
    assert_eq!(code(s.apply(&step(1, 1), d)), "case_step_unknown");
    assert_eq!(code(s.apply(&step(3, 0), d)), "case_step_unknown");
    let s = s.apply(&step(1, 0), d).unwrap();
    assert!(s.all_stages_done());
    // No stage at all: the case can be decided right after acceptance.
    let empty = ProcessDefinition { stages: vec![] };
    let s = run(5, &empty, &[(created(), d), (accepted(), d)]);
    assert!(s.allowed().contains(&ActionKind::Decide));
    assert!(!s.allowed().contains(&ActionKind::CompleteStep));
    assert_eq!(
        s.apply(&approve("head"), d).unwrap().state(),
        CaseState::Approved
    );
}

#[test]
fn corrections_are_one_time_notices() {
    let d = date(2026, 3, 2);
    let s = run(5, &simple(), &[(created(), d)]);
    let empty = CaseEvent::CorrectionRequested {
        by: acct("clerk"),
        items: vec![],
    };
    assert_eq!(code(s.apply(&empty, d)), "case_correction_empty");
    let half = CaseEvent::CorrectionRequested {
        by: acct("clerk"),
        items: vec![
            CorrectionItem {
                subject: "M01".into(),
                reason: "不清晰".into(),
            },
            CorrectionItem {
                subject: "M02".into(),
                reason: "  ".into(),
            },
        ],
    };
    let err = s.apply(&half, d).unwrap_err();
    assert_eq!(err, CaseError::CorrectionItemIncomplete { index: 1 });
    assert!(err.message_zh().contains("第2项"));

    // Before acceptance: no clock, so nothing pauses.
    let s = s.apply(&correction(), d).unwrap();
    assert_eq!(s.state(), CaseState::InCorrection);
    assert!(s.clock().pauses.is_empty());
    assert_eq!(s.correction().unwrap().return_to, CaseState::AwaitingIntake);
    assert_eq!(code(s.apply(&correction(), d)), "case_correction_open");
    let s = s.apply(&supplied(), date(2026, 3, 4)).unwrap();
    assert_eq!(s.state(), CaseState::AwaitingIntake);
    assert!(s.correction().is_none());

    // During review: the clock pauses and the case returns to review.
    let s = s.apply(&accepted(), date(2026, 3, 5)).unwrap();
    let s = s.apply(&correction(), date(2026, 3, 6)).unwrap();
    assert!(s.clock().is_paused());
    assert_eq!(s.correction().unwrap().return_to, CaseState::InReview);
    assert_eq!(
        code(s.apply(&step(0, 0), date(2026, 3, 6))),
        "case_illegal_transition"
    );
    let s = s.apply(&supplied(), date(2026, 3, 10)).unwrap();
    assert_eq!(s.state(), CaseState::InReview);
    assert_eq!(
        s.clock().pauses,
        vec![Pause {
            from: date(2026, 3, 6),
            until: Some(date(2026, 3, 10)),
            reason: PauseReason::Correction
        }]
    );
    assert_eq!(s.corrections_requested(), 2);
}

#[test]
fn refusal_is_possible_while_a_pre_acceptance_correction_is_open() {
    let d = date(2026, 3, 2);
    let s = run(5, &simple(), &[(created(), d), (correction(), d)]);
    let refuse = |reason: &str| CaseEvent::Refused {
        by: acct("clerk"),
        reason: reason.into(),
    };
    assert_eq!(code(s.apply(&refuse(" "), d)), "case_reason_required");
    let s = s.apply(&refuse("逾期未补正"), d).unwrap();
    assert_eq!(s.state(), CaseState::Refused);
    assert!(s.correction().is_none());
    assert_eq!(code(s.apply(&supplied(), d)), "case_closed");
    // After acceptance, refusal is over: the case is decided instead.
    let s = run(
        5,
        &simple(),
        &[(created(), d), (accepted(), d), (correction(), d)],
    );
    assert_eq!(
        code(s.apply(&refuse("材料不全"), d)),
        "case_illegal_transition"
    );
}

#[test]
fn withdrawal_and_suspension() {
    let d = date(2026, 3, 2);
    let s = run(5, &simple(), &[(created(), d), (accepted(), d)]);
    let suspend = CaseEvent::Suspended {
        procedure: SpecialProcedure::Hearing,
        reason: "申请人要求听证".into(),
    };
    let s = s.apply(&suspend, date(2026, 3, 3)).unwrap();
    assert_eq!(s.state(), CaseState::Suspended);
    assert_eq!(
        s.clock().open_pause().unwrap().reason,
        PauseReason::SpecialProcedure
    );
    let withdraw = |reason: &str| CaseEvent::Withdrawn {
        reason: reason.into(),
    };
    assert_eq!(
        code(s.apply(&withdraw(""), date(2026, 3, 9))),
        "case_reason_required"
    );
    let w = s.apply(&withdraw("不再需要"), date(2026, 3, 9)).unwrap();
    assert_eq!(w.state(), CaseState::Withdrawn);
    assert!(!w.clock().is_paused(), "withdrawal closes the open pause");
    assert_eq!(w.closed_on(), Some(date(2026, 3, 9)));

    let s = s.apply(&CaseEvent::Resumed, date(2026, 3, 9)).unwrap();
    let s = s.apply(&step(0, 0), date(2026, 3, 9)).unwrap();
    let s = s.apply(&approve("head"), date(2026, 3, 9)).unwrap();
    let err = s
        .apply(&withdraw("不再需要"), date(2026, 3, 9))
        .unwrap_err();
    assert_eq!(err.code(), "case_already_concluded");
    let denied = run(
        5,
        &simple(),
        &[
            (created(), d),
            (accepted(), d),
            (step(0, 0), d),
            (
                CaseEvent::Decided {
                    by: acct("head"),
                    outcome: Outcome::Denied {
                        reason: "不符合条件".into(),
                    },
                },
                d,
            ),
        ],
    );
    assert_eq!(denied.state(), CaseState::Denied);
    assert_eq!(code(denied.apply(&withdraw("撤回"), d)), "case_closed");
    let issue = CaseEvent::ResultIssued {
        by: None,
        delivery: DeliveryMethod::Pickup,
        certificate: None,
    };
    assert_eq!(code(denied.apply(&issue, d)), "case_closed");
}

#[test]
fn events_need_creation_first_and_increasing_dates() {
    let s = CaseStatus::new(5, &simple());
    assert_eq!(s.allowed(), vec![ActionKind::Create]);
    assert_eq!(
        code(s.apply(&accepted(), date(2026, 3, 2))),
        "case_not_created"
    );
    let s = s.apply(&created(), date(2026, 3, 2)).unwrap();
    assert_eq!(
        code(s.apply(&created(), date(2026, 3, 2))),
        "case_already_created"
    );
    let err = s.apply(&accepted(), date(2026, 3, 1)).unwrap_err();
    assert_eq!(err.code(), "case_date_out_of_order");
    assert!(s.apply(&accepted(), date(2026, 3, 2)).is_ok());
}

#[test]
fn supervision_events_follow_their_order() {
    let d = date(2026, 3, 2);
    let s = run(5, &simple(), &[(created(), d), (accepted(), d)]);
    let order = |id: &str| CaseEvent::SupervisionOrdered {
        order: id.into(),
        reason: "临近时限".into(),
    };
    let answer = |id: &str, text: &str| CaseEvent::SupervisionAnswered {
        order: id.into(),
        answer: text.into(),
    };
    assert_eq!(
        code(s.apply(&answer("DB-1", "已加快"), d)),
        "case_supervision_unknown"
    );
    assert!(!s.allowed().contains(&ActionKind::AnswerSupervision));
    let s = s.apply(&order("DB-1"), d).unwrap();
    assert!(s.allowed().contains(&ActionKind::AnswerSupervision));
    assert_eq!(
        code(s.apply(&order("DB-1"), d)),
        "case_supervision_duplicate"
    );
    assert_eq!(
        code(s.apply(&answer("DB-1", ""), d)),
        "case_reason_required"
    );
    let s = s.apply(&answer("DB-1", "已加快办理"), d).unwrap();
    assert_eq!(
        code(s.apply(&answer("DB-1", "再次"), d)),
        "case_supervision_answered"
    );
    assert_eq!(s.supervision()[0].answered_on, Some(d));
    assert_eq!(s.state(), CaseState::InReview);
}

// ---------------------------------------------------------------------------------------------
// Clocks and warnings

/// Limit 10, accepted Monday 2026-03-02: no holiday until April.
fn ten_day_case() -> CaseStatus {
    run(
        10,
        &simple(),
        &[
            (created(), date(2026, 3, 2)),
            (accepted(), date(2026, 3, 2)),
        ],
    )
}

#[test]
fn warning_thresholds() {
    let cal = WorkCalendar::builtin();
    let s = ten_day_case();
    let clock = s.clock();
    assert_eq!(
        clock.deadline(&cal, date(2026, 3, 2)).unwrap(),
        Some(date(2026, 3, 16))
    );
    for (day, elapsed, colour) in [
        (date(2026, 3, 2), 0, Warning::Green),
        (date(2026, 3, 11), 7, Warning::Green),
        (date(2026, 3, 12), 8, Warning::Yellow),
        (date(2026, 3, 14), 9, Warning::Yellow),
        (date(2026, 3, 16), 10, Warning::Yellow),
        (date(2026, 3, 17), 11, Warning::Red),
    ] {
        assert_eq!(
            clock.elapsed_working_days(&cal, day).unwrap(),
            elapsed,
            "{day}"
        );
        assert_eq!(clock.warning(&cal, day).unwrap(), colour, "{day}");
    }
    assert!(clock.concluded_on_time(&cal, date(2026, 3, 16)).unwrap());
    assert!(!clock.concluded_on_time(&cal, date(2026, 3, 17)).unwrap());
    // Not started: green, no deadline.
    let fresh = run(10, &simple(), &[(created(), date(2026, 3, 2))]);
    assert_eq!(
        fresh.clock().warning(&cal, date(2027, 1, 1)).unwrap(),
        Warning::Green
    );
    assert_eq!(
        fresh.clock().deadline(&cal, date(2027, 1, 1)).unwrap(),
        None
    );
    // An immediate item (limit 0) is never yellow, red the day after acceptance.
    let now = run(
        0,
        &simple(),
        &[
            (created(), date(2026, 3, 2)),
            (accepted(), date(2026, 3, 2)),
        ],
    );
    assert_eq!(
        now.clock().warning(&cal, date(2026, 3, 2)).unwrap(),
        Warning::Green
    );
    assert_eq!(
        now.clock().warning(&cal, date(2026, 3, 3)).unwrap(),
        Warning::Red
    );
}

#[test]
fn national_day_2026_with_the_builtin_calendar() {
    let cal = WorkCalendar::builtin();
    // Accepted Monday 28 September 2026, 5 working days: 29 and 30 September, then the
    // holiday 1–7 October, then 8 and 9 October and the make-up Saturday 10 October.
    let s = run(
        5,
        &simple(),
        &[
            (created(), date(2026, 9, 28)),
            (accepted(), date(2026, 9, 28)),
        ],
    );
    let clock = s.clock();
    assert_eq!(
        clock.deadline(&cal, date(2026, 9, 28)).unwrap(),
        Some(date(2026, 10, 10))
    );
    assert_eq!(
        clock.warning(&cal, date(2026, 10, 7)).unwrap(),
        Warning::Green
    );
    assert_eq!(
        clock.elapsed_working_days(&cal, date(2026, 10, 7)).unwrap(),
        2
    );
    assert_eq!(
        clock.warning(&cal, date(2026, 10, 9)).unwrap(),
        Warning::Yellow
    );
    assert_eq!(
        clock.warning(&cal, date(2026, 10, 10)).unwrap(),
        Warning::Yellow
    );
    assert_eq!(
        clock.warning(&cal, date(2026, 10, 11)).unwrap(),
        Warning::Red
    );
    // A correction over the holiday costs the applicant no working day: requested on
    // 30 September, supplied on 8 October, one working day (8 October) paused.
    let s = s.apply(&correction(), date(2026, 9, 30)).unwrap();
    let s = s.apply(&supplied(), date(2026, 10, 8)).unwrap();
    assert_eq!(
        s.clock()
            .paused_working_days(&cal, date(2026, 10, 8))
            .unwrap(),
        1
    );
    assert_eq!(
        s.clock().deadline(&cal, date(2026, 10, 8)).unwrap(),
        Some(date(2026, 10, 12))
    );
}

#[test]
fn the_colour_does_not_advance_while_paused() {
    let cal = WorkCalendar::builtin();
    // Yellow when the correction is requested (8 of 10 used): stays yellow however long the
    // applicant takes.
    let s = ten_day_case()
        .apply(&correction(), date(2026, 3, 12))
        .unwrap();
    for day in [date(2026, 3, 12), date(2026, 3, 20), date(2026, 6, 30)] {
        assert_eq!(
            s.clock().warning(&cal, day).unwrap(),
            Warning::Yellow,
            "{day}"
        );
    }
    // Green when suspended at 7 of 10: stays green.
    let s = ten_day_case()
        .apply(
            &CaseEvent::Suspended {
                procedure: SpecialProcedure::ExpertReview,
                reason: "组织专家评审".into(),
            },
            date(2026, 3, 11),
        )
        .unwrap();
    assert_eq!(
        s.clock().warning(&cal, date(2026, 5, 1)).unwrap(),
        Warning::Green
    );
    // Resumed on 16 March: 3 working days paused (12, 13, 16), so day 8 is 17 March and the
    // deadline moves from 16 to 19 March.
    let s = s.apply(&CaseEvent::Resumed, date(2026, 3, 16)).unwrap();
    assert_eq!(
        s.clock().warning(&cal, date(2026, 3, 16)).unwrap(),
        Warning::Green
    );
    assert_eq!(
        s.clock().warning(&cal, date(2026, 3, 17)).unwrap(),
        Warning::Yellow
    );
    assert_eq!(
        s.clock().deadline(&cal, date(2026, 3, 17)).unwrap(),
        Some(date(2026, 3, 19))
    );
    assert_eq!(
        s.clock().warning(&cal, date(2026, 3, 20)).unwrap(),
        Warning::Red
    );
    // Red when paused after the deadline: stays red.
    let s = ten_day_case()
        .apply(&correction(), date(2026, 3, 17))
        .unwrap();
    assert_eq!(
        s.clock().warning(&cal, date(2026, 3, 30)).unwrap(),
        Warning::Red
    );
}

#[test]
fn the_scanner_raises_a_warning_when_the_colour_changes() {
    let cal = WorkCalendar::builtin();
    let s = ten_day_case();
    assert_eq!(s.warning_to_raise(&cal, date(2026, 3, 11)).unwrap(), None);
    assert_eq!(
        s.warning_to_raise(&cal, date(2026, 3, 12)).unwrap(),
        Some(Warning::Yellow)
    );
    let s = s
        .apply(
            &CaseEvent::WarningRaised {
                level: Warning::Yellow,
            },
            date(2026, 3, 12),
        )
        .unwrap();
    assert_eq!(s.warning(), Some(Warning::Yellow));
    assert_eq!(s.warning_to_raise(&cal, date(2026, 3, 13)).unwrap(), None);
    assert_eq!(
        s.warning_to_raise(&cal, date(2026, 3, 17)).unwrap(),
        Some(Warning::Red)
    );
    // Decided cases are not scanned.
    let s = s.apply(&step(0, 0), date(2026, 3, 17)).unwrap();
    let s = s.apply(&approve("head"), date(2026, 3, 17)).unwrap();
    assert_eq!(s.warning_to_raise(&cal, date(2026, 3, 30)).unwrap(), None);
}

proptest! {
    /// A correction of k working days moves the deadline by exactly k working days, compared
    /// with the same case without it; an open correction moves it by the days so far.
    #[test]
    fn a_correction_moves_the_deadline_by_its_working_days(
        start in 0i64..900,
        limit in 0u16..40,
        after in 0i64..30,
        length in 0i64..40,
        extra in 0i64..30,
    ) {
        let cal = WorkCalendar::builtin();
        let accepted_on = date(2024, 1, 1).checked_add(start.days()).unwrap();
        let requested = accepted_on.checked_add(after.days()).unwrap();
        let supplied_on = requested.checked_add(length.days()).unwrap();
        let today = supplied_on.checked_add(extra.days()).unwrap();
        let base = run(limit, &simple(), &[(created(), accepted_on), (accepted(), accepted_on)]);
        let open = base.apply(&correction(), requested).unwrap();
        let closed = open.apply(&supplied(), supplied_on).unwrap();
        let k = cal.working_days_between(requested, supplied_on).unwrap().days;

        let without = base.clock().deadline(&cal, today).unwrap().unwrap();
        let with = closed.clock().deadline(&cal, today).unwrap().unwrap();
        prop_assert_eq!(cal.working_days_between(without, with).unwrap().days, k);
        prop_assert_eq!(i64::from(closed.clock().paused_working_days(&cal, today).unwrap()), k);
        prop_assert_eq!(
            Some(with),
            Some(cal.add_working_days(accepted_on, u32::from(limit) + u32::try_from(k).unwrap()).unwrap().due)
        );
        // Elapsed days exclude the correction.
        let total = cal.working_days_between(accepted_on, today).unwrap().days;
        prop_assert_eq!(
            i64::from(closed.clock().elapsed_working_days(&cal, today).unwrap()),
            total - k
        );
        // While open, the deadline moves with each working day that passes.
        let so_far = cal.working_days_between(requested, supplied_on).unwrap().days;
        let moving = open.clock().deadline(&cal, supplied_on).unwrap().unwrap();
        prop_assert_eq!(cal.working_days_between(without, moving).unwrap().days, so_far);
        // A correction before acceptance moves nothing.
        let early = run(
            limit,
            &simple(),
            &[(created(), accepted_on), (correction(), accepted_on), (supplied(), accepted_on), (accepted(), accepted_on)],
        );
        prop_assert_eq!(early.clock().deadline(&cal, today).unwrap(), Some(without));
    }
}

// ---------------------------------------------------------------------------------------------
// Case numbers

#[test]
fn case_numbers_round_trip() {
    let county = DivisionCode::parse("330106").unwrap();
    let n = CaseNumber::new(&county, date(2026, 11, 21), 42).unwrap();
    assert_eq!(n.to_string(), "330106-20261121-000042");
    assert_eq!(CaseNumber::parse("330106-20261121-000042"), Ok(n));
    assert_eq!(" 330106-20261121-000042\n".parse::<CaseNumber>(), Ok(n));
    assert_eq!(n.division().as_str(), "330106");
    assert_eq!(n.date(), date(2026, 11, 21));
    assert_eq!(n.seq(), 42);
    assert_eq!(
        serde_json::to_string(&n).unwrap(),
        "\"330106-20261121-000042\""
    );
    assert_eq!(
        serde_json::from_str::<CaseNumber>("\"330106-20261121-000042\"").unwrap(),
        n
    );
    assert!(serde_json::from_str::<CaseNumber>("\"330106-20261121-0000\"").is_err());
    // A township code contributes its county.
    let township = DivisionCode::parse("330106001000").unwrap();
    let t = CaseNumber::new(&township, date(2026, 1, 5), 999_999).unwrap();
    assert_eq!(t.to_string(), "330106-20260105-999999");
    // Text order is number order.
    let later = CaseNumber::new(&county, date(2026, 11, 22), 1).unwrap();
    assert!(n < later && n.to_string() < later.to_string());
}

#[test]
fn malformed_case_numbers_are_rejected() {
    let county = DivisionCode::parse("330106").unwrap();
    assert_eq!(
        CaseNumber::new(&county, date(2026, 1, 1), 0),
        Err(CaseNumberError::Sequence)
    );
    assert_eq!(
        CaseNumber::new(&county, date(2026, 1, 1), 1_000_000),
        Err(CaseNumberError::Sequence)
    );
    assert_eq!(
        CaseNumber::new(&county, date(1900, 1, 1), 1),
        Err(CaseNumberError::Date)
    );
    for (text, err) in [
        ("", CaseNumberError::Format),
        ("330106-20261121-00004", CaseNumberError::Format),
        ("330106-20261121-0000420", CaseNumberError::Format),
        ("330106_20261121-000042", CaseNumberError::Format),
        ("33010620261121000042--", CaseNumberError::Format),
        ("330106-2026112a-000042", CaseNumberError::Format),
        ("３３0106-20261121-000042", CaseNumberError::Format),
        ("330106-20261121-00004２", CaseNumberError::Format),
        ("😀😀😀😀😀-", CaseNumberError::Format),
        ("990106-20261121-000042", CaseNumberError::Division),
        ("330006-20261121-000042", CaseNumberError::Division),
        ("330106-20260230-000042", CaseNumberError::Date),
        ("330106-20261321-000042", CaseNumberError::Date),
        ("330106-18000101-000042", CaseNumberError::Date),
        ("330106-20261121-000000", CaseNumberError::Sequence),
    ] {
        assert_eq!(CaseNumber::parse(text), Err(err), "{text}");
    }
}

proptest! {
    /// Any text parses or fails without panicking; whatever parses prints back the same.
    #[test]
    fn case_number_parse_never_panics(s in "\\PC{0,30}|[0-9-]{22}|33010[0-9]-20[0-9]{6}-[0-9]{6}") {
        if let Ok(n) = CaseNumber::parse(&s) {
            prop_assert_eq!(n.to_string(), s.trim_ascii());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Application status

#[test]
fn application_status_from_case_states() {
    use ApplicationStatus as A;
    use CaseState::*;
    for (states, expected) in [
        (&[][..], A::Submitted),
        (&[AwaitingIntake], A::Submitted),
        (&[Waiting, AwaitingIntake], A::Submitted),
        (&[InReview, Waiting], A::InProgress),
        (&[Approved, Waiting], A::InProgress),
        (&[Suspended], A::InProgress),
        (&[InReview, InCorrection], A::CorrectionNeeded),
        (&[InCorrection], A::CorrectionNeeded),
        (&[ResultIssued, Approved], A::Concluded),
        (&[ResultIssued, Denied, Withdrawn], A::Concluded),
        (&[Approved], A::Concluded),
        (&[Refused, Denied], A::Refused),
        (&[Refused, Withdrawn], A::Refused),
        (&[Withdrawn, Withdrawn], A::Withdrawn),
        (&[Refused, AwaitingIntake], A::Submitted),
    ] {
        assert_eq!(application_status(states), expected, "{states:?}");
    }
    assert_eq!(A::CorrectionNeeded.as_str(), "correction_needed");
    assert_eq!(A::Concluded.label_zh(), "已办结");
    assert_eq!(A::InProgress.label_en(), "In progress");
}

// ---------------------------------------------------------------------------------------------
// Supervision orders

#[test]
fn supervision_orders_are_answered_once() {
    let n = CaseNumber::parse("330106-20261121-000042").unwrap();
    let respond_by = date(2026, 11, 30);
    assert_eq!(
        SupervisionOrder::new("DB-1", n, "市场监管局", acct("sup"), " ", respond_by),
        Err(SupervisionError::TextRequired { field: "reason" })
    );
    let mut o = SupervisionOrder::new("DB-1", n, "市场监管局", acct("sup"), "临近时限", respond_by)
        .unwrap();
    assert!(!o.is_overdue(respond_by));
    assert!(o.is_overdue(date(2026, 12, 1)));
    assert_eq!(
        o.answer(acct("head"), "  ", date(2026, 11, 25)),
        Err(SupervisionError::TextRequired { field: "answer" })
    );
    o.answer(acct("head"), "已加快办理", date(2026, 11, 25))
        .unwrap();
    assert!(!o.is_overdue(date(2026, 12, 1)));
    assert_eq!(
        o.answer(acct("head"), "再答", date(2026, 11, 26)),
        Err(SupervisionError::AlreadyAnswered)
    );
    assert_eq!(o.answer.as_ref().unwrap().text, "已加快办理");
    // The order's events apply to the case.
    let d = date(2026, 11, 21);
    let s = run(5, &simple(), &[(created(), d), (accepted(), d)]);
    let s = s.apply(&o.ordered_event(), d).unwrap();
    let s = s
        .apply(&o.answered_event().unwrap(), date(2026, 11, 25))
        .unwrap();
    assert_eq!(s.supervision()[0].answered_on, Some(date(2026, 11, 25)));
    let json = serde_json::to_value(&o).unwrap();
    assert_eq!(json["case_number"], "330106-20261121-000042");
    assert_eq!(serde_json::from_value::<SupervisionOrder>(json).unwrap(), o);
}

// ---------------------------------------------------------------------------------------------
// Events as stored, and as told

#[test]
fn events_are_stored_as_tagged_json() {
    let cases = [
        (CaseEvent::Started, serde_json::json!({"type": "started"})),
        (
            accepted(),
            serde_json::json!({"type": "accepted", "by": "clerk"}),
        ),
        (
            CaseEvent::Decided {
                by: acct("head"),
                outcome: Outcome::Denied {
                    reason: "不符合条件".into(),
                },
            },
            serde_json::json!({"type": "decided", "by": "head", "outcome": {"kind": "denied", "reason": "不符合条件"}}),
        ),
        (
            CaseEvent::Suspended {
                procedure: SpecialProcedure::ExpertReview,
                reason: "评审".into(),
            },
            serde_json::json!({"type": "suspended", "procedure": "expert_review", "reason": "评审"}),
        ),
        (
            supplied(),
            serde_json::json!({"type": "correction_supplied"}),
        ),
        (
            CaseEvent::ResultIssued {
                by: None,
                delivery: DeliveryMethod::Express,
                certificate: None,
            },
            serde_json::json!({"type": "result_issued", "delivery": "express"}),
        ),
        (
            CaseEvent::WarningRaised {
                level: Warning::Red,
            },
            serde_json::json!({"type": "warning_raised", "level": "red"}),
        ),
    ];
    for (event, json) in cases {
        assert_eq!(serde_json::to_value(&event).unwrap(), json);
        assert_eq!(serde_json::from_value::<CaseEvent>(json).unwrap(), event);
    }
}

#[test]
fn timeline_sentences_are_plain_and_hide_accounts() {
    let secret = "acct-7f3a9";
    let by = acct(secret);
    let events = [
        created(),
        CaseEvent::Accepted { by: by.clone() },
        CaseEvent::Refused {
            by: by.clone(),
            reason: "不属于本部门职权范围".into(),
        },
        CaseEvent::CorrectionRequested {
            by: by.clone(),
            items: vec![CorrectionItem {
                subject: "M01".into(),
                reason: "身份证复印件不清晰".into(),
            }],
        },
        CaseEvent::StepCompleted {
            by: by.clone(),
            stage: 0,
            step: 0,
            opinion: "内部意见".into(),
        },
        CaseEvent::Decided {
            by: by.clone(),
            outcome: Outcome::Approved,
        },
        CaseEvent::ResultIssued {
            by: Some(by.clone()),
            delivery: DeliveryMethod::Pickup,
            certificate: None,
        },
    ];
    for e in &events {
        let (zh, en) = describe(e);
        assert!(!zh.contains(secret) && !en.contains(secret), "{zh} / {en}");
        assert!(!zh.contains("内部意见"));
    }
    assert_eq!(describe(&events[1]).0, "窗口已受理您的申请");
    assert_eq!(describe(&events[1]).1, "Your application was accepted");
    assert!(
        describe(&events[3])
            .0
            .starts_with("需要补正：身份证复印件不清晰")
    );
    assert!(events[1].applicant_visible());
    assert!(!CaseEvent::Remark { text: "x".into() }.applicant_visible());
}

// ---------------------------------------------------------------------------------------------
// Error messages

#[test]
fn every_error_has_a_code_and_messages() {
    let d = date(2026, 3, 2);
    let case_errors = vec![
        CaseError::NotCreated {
            action: ActionKind::Accept,
        },
        CaseError::AlreadyCreated,
        CaseError::IllegalTransition {
            state: CaseState::InReview,
            action: ActionKind::Accept,
        },
        CaseError::Closed {
            state: CaseState::Refused,
            action: ActionKind::Decide,
        },
        CaseError::AlreadyConcluded {
            state: CaseState::Approved,
        },
        CaseError::StepUnknown { stage: 0, step: 4 },
        CaseError::StepDone { stage: 1, step: 0 },
        CaseError::StageIncomplete {
            current: 0,
            remaining: 2,
        },
        CaseError::ReasonRequired {
            field: TextField::RefusalReason,
        },
        CaseError::CorrectionEmpty,
        CaseError::CorrectionItemIncomplete { index: 0 },
        CaseError::CorrectionOpen,
        CaseError::SeparationOfDuties {
            action: ActionKind::Decide,
        },
        CaseError::SupervisionDuplicate {
            order: "DB-1".into(),
        },
        CaseError::SupervisionUnknown {
            order: "DB-1".into(),
        },
        CaseError::SupervisionAnswered {
            order: "DB-1".into(),
        },
        CaseError::DateOutOfOrder {
            last: d,
            on: date(2026, 3, 1),
        },
    ];
    let mut all: Vec<Box<dyn Localized>> = Vec::new();
    all.extend(
        case_errors
            .into_iter()
            .map(|e| Box::new(e) as Box<dyn Localized>),
    );
    for field in [
        TextField::Opinion,
        TextField::SuspensionReason,
        TextField::DenialReason,
        TextField::WithdrawalReason,
        TextField::OrderId,
        TextField::SupervisionReason,
        TextField::SupervisionAnswer,
        TextField::Remark,
    ] {
        let e = CaseError::ReasonRequired { field };
        assert!(!e.message_zh().is_empty() && !e.message_en().is_empty());
    }
    for e in [
        CaseNumberError::Format,
        CaseNumberError::Division,
        CaseNumberError::Date,
        CaseNumberError::Sequence,
    ] {
        all.push(Box::new(e));
    }
    for field in ["id", "department", "reason", "answer"] {
        all.push(Box::new(SupervisionError::TextRequired { field }));
    }
    all.push(Box::new(SupervisionError::AlreadyAnswered));
    let mut codes = BTreeSet::new();
    for e in &all {
        let c = e.code();
        assert!(
            c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{c} is not snake_case"
        );
        assert!(
            c.starts_with("case_") || c.starts_with("supervision_"),
            "{c}"
        );
        codes.insert(c);
        let (zh, en) = (e.message_zh(), e.message_en());
        assert!(!zh.trim().is_empty() && !en.trim().is_empty(), "{c}");
        assert!(
            zh.chars().any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch)),
            "{c}: {zh}"
        );
        assert!(en.is_ascii(), "{c}: {en}");
        assert!(
            en.starts_with(|ch: char| ch.is_ascii_uppercase()),
            "{c}: {en}"
        );
    }
    assert_eq!(codes.len(), 17 + 4 + 2);
    for s in CaseState::ALL {
        assert!(!s.label_zh().is_empty() && !s.label_en().is_empty() && !s.as_str().is_empty());
    }
    for a in ActionKind::ALL {
        assert!(!a.label_zh().is_empty() && !a.label_en().is_empty() && !a.as_str().is_empty());
    }
}
