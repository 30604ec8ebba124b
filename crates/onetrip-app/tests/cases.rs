//! Bundles and cases end to end, on SQLite and (when `ONETRIP_TEST_DATABASE_URL` is set) on
//! PostgreSQL: the birth bundle from questionnaire to every case concluded, dependent members
//! started with the certificate passed on, corrections that stop the clock, walk-in intake,
//! intake/handling separation, warnings and supervision, idempotent submission, and tampering
//! detected by the event-chain check.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use jiff::civil::{Date, date};
use jiff::{Timestamp, tz::TimeZone};
use onetrip_app::cases::{
    ApplicantFacts, ApplicationInput, ApplicationTarget, ApplyChannel, CaseActor, CaseCommand,
    WindowIntake,
};
use onetrip_app::resolution::Applicant;
use onetrip_app::{App, AppError};
use onetrip_domain::case::{CorrectionItem, Outcome};
use onetrip_domain::catalog::DeliveryMethod;
use onetrip_domain::form::FormValues;
use onetrip_domain::identifiers::DivisionCode;
use onetrip_domain::identity::{AccountId, RoleGrant, StaffRole};
use onetrip_store::QueueFilter;
use onetrip_store::testing::TestDb;
use serde_json::{Value, json};

const CHEN: &str = "330102198503140138";
const HEALTH_CITY: &str = "11330100000897962X";
const HEALTH_XIHU: &str = "11330106065627154C";
const POLICE_XIHU: &str = "1133010600425119XW";
const INSURANCE_CITY: &str = "11330100067843715T";

/// 09:00 in China on `day`.
fn at(day: Date) -> Timestamp {
    day.at(9, 0, 0, 0)
        .to_zoned(TimeZone::fixed(jiff::tz::offset(8)))
        .unwrap()
        .timestamp()
}

fn obj(v: Value) -> FormValues {
    v.as_object().unwrap().clone()
}

fn chen() -> ApplicantFacts {
    ApplicantFacts {
        applicant: Applicant::Person(CHEN.into()),
        name: "陈志明".into(),
        account: Some(AccountId::new("acct-chen")),
    }
}

fn applicant_actor() -> CaseActor {
    CaseActor::Applicant {
        account: AccountId::new("acct-chen"),
        subject: Some(CHEN.into()),
    }
}

fn staff(id: &str, role: StaffRole, division: &str, department: Option<&str>) -> CaseActor {
    CaseActor::Staff {
        id: AccountId::new(id),
        roles: vec![RoleGrant {
            role,
            division: DivisionCode::parse(division).unwrap(),
            department: department.map(str::to_string),
        }],
    }
}

fn officer(department: &str, division: &str) -> CaseActor {
    staff(
        &format!("officer-{department}"),
        StaffRole::DepartmentOfficer,
        division,
        Some(department),
    )
}

/// The officer of the city's human resources and social security bureau who takes in online
/// applications.
fn intake_officer() -> CaseActor {
    staff(
        "intake-hrss",
        StaffRole::DepartmentOfficer,
        "330100",
        Some(HRSS_CITY),
    )
}

/// A clerk of the Xihu district general window (any item, no department).
fn clerk() -> CaseActor {
    staff("clerk-xihu", StaffRole::WindowClerk, "330106", None)
}

async fn demo(db: onetrip_store::Db, today: Date) -> App {
    let app = App::open(db)
        .await
        .unwrap()
        .with_issuer("http://onetrip.test");
    app.load_demo_if_empty(at(today)).await.unwrap();
    app
}

fn birth_answers(insurance: bool) -> FormValues {
    obj(json!({
        "parents_married": "yes",
        "medical_insurance": if insurance { "yes" } else { "no" },
        "social_security_card": if insurance { Value::from("no") } else { Value::Null },
    }))
    .into_iter()
    .filter(|(_, v)| !v.is_null())
    .collect()
}

/// The prefilled form, completed with what only the applicant knows.
fn complete(mut form: FormValues) -> FormValues {
    for (k, v) in [
        (
            "birth_place",
            json!({"division_code": "330106", "detail": "浙江大学医学院附属妇产科医院"}),
        ),
        ("register_with", json!("father")),
        ("relation_to_head", json!("子")),
        ("premium_payment", json!("online")),
        ("applicant_relation", json!("father")),
        ("applicant_phone", json!("13957100001")),
        ("delivery_method", json!("pickup")),
    ] {
        form.entry(k.to_string()).or_insert(v);
    }
    form
}

async fn act(app: &App, who: &CaseActor, number: &str, command: CaseCommand, day: Date) -> String {
    app.act_on_case(who, number, command, None, at(day))
        .await
        .unwrap_or_else(|e| panic!("{number}: {e:?}"))
        .state
}

/// Takes a case through intake (by the Xihu clerk), its review steps and the decision (by the
/// department's officer), and issues the result.
async fn handle(app: &App, number: &str, department: &str, division: &str, day: Date) {
    act(app, &clerk(), number, CaseCommand::Accept, day).await;
    let officer = officer(department, division);
    loop {
        let view = app.case_view(&officer, number, at(day)).await.unwrap();
        if !view.allowed.iter().any(|a| a == "complete_step") {
            break;
        }
        let stage: onetrip_domain::case::CaseStatus =
            serde_json::from_value(app.db.case(number).await.unwrap().unwrap().status).unwrap();
        let (stage, step) = stage.pending_steps()[0];
        act(
            app,
            &officer,
            number,
            CaseCommand::CompleteStep {
                stage,
                step,
                opinion: "材料齐全，符合条件".into(),
            },
            day,
        )
        .await;
    }
    act(
        app,
        &officer,
        number,
        CaseCommand::Decide {
            outcome: Outcome::Approved,
        },
        day,
    )
    .await;
    let state = act(
        app,
        &officer,
        number,
        CaseCommand::IssueResult {
            delivery: DeliveryMethod::Electronic,
        },
        day,
    )
    .await;
    assert_eq!(state, "result_issued");
}

async fn birth_bundle_end_to_end(app: &App) {
    let today = date(2026, 11, 23);
    // 1. The questionnaire: four members, and the form prefilled from the birth record and the
    //    applicant's certificates.
    let prepared = app
        .prepare_bundle("ZJ-BIRTH", &chen(), &birth_answers(true), at(today))
        .await
        .unwrap();
    let members: Vec<&str> = prepared
        .selection
        .members
        .iter()
        .map(|m| m.key.as_str())
        .collect();
    assert_eq!(
        members,
        [
            "birth_certificate",
            "vaccination",
            "household",
            "medical_insurance"
        ]
    );
    assert_eq!(prepared.prefill["baby_name"], json!("陈思远"));
    assert_eq!(prepared.prefill["household_id"], json!("330106012345"));
    assert_eq!(
        prepared.prefill_sources["baby_name"],
        "data:ZJ_BIRTH_RECORD"
    );

    // 2. One submission, zero uploads.
    let input = ApplicationInput {
        target: ApplicationTarget::Bundle {
            code: "ZJ-BIRTH".into(),
        },
        answers: birth_answers(true),
        form: complete(prepared.prefill.clone()),
        uploads: Default::default(),
    };
    let submitted = app
        .submit_application(
            &chen(),
            None,
            &input,
            ApplyChannel::Mobile,
            None,
            Some("k-1"),
            at(today),
        )
        .await
        .unwrap();
    assert_eq!(submitted.uploads, 0);
    assert_eq!(submitted.cases.len(), 4);
    // Submitting again with the same key returns the same application, not a second one.
    let again = app
        .submit_application(
            &chen(),
            None,
            &input,
            ApplyChannel::Mobile,
            None,
            Some("k-1"),
            at(today),
        )
        .await
        .unwrap();
    assert_eq!(again, submitted);
    let number = |member: &str| {
        submitted
            .cases
            .iter()
            .find(|c| c.member == member)
            .unwrap()
            .number
            .clone()
    };
    assert!(number("household").starts_with("330106-20261123-"));

    // 3. Four cases in four departments' queues.
    for (member, department, division, state) in [
        (
            "birth_certificate",
            HEALTH_CITY,
            "330100",
            "awaiting_intake",
        ),
        ("vaccination", HEALTH_XIHU, "330106", "waiting"),
        ("household", POLICE_XIHU, "330106", "waiting"),
        ("medical_insurance", INSURANCE_CITY, "330100", "waiting"),
    ] {
        let queue = app
            .department_queue(
                &officer(department, division),
                department,
                &QueueFilter::default(),
                50,
            )
            .await
            .unwrap();
        let case = queue.iter().find(|c| c.number == number(member)).unwrap();
        assert_eq!(case.state, state, "{member}");
    }

    // 4. The dependent members start only once the birth certificate is issued, and get it.
    let refused = app
        .act_on_case(
            &clerk(),
            &number("household"),
            CaseCommand::Accept,
            None,
            at(today),
        )
        .await
        .unwrap_err();
    assert!(
        format!("{refused:?}").contains("case_illegal_transition"),
        "{refused:?}"
    );
    handle(
        app,
        &number("birth_certificate"),
        HEALTH_CITY,
        "330100",
        today,
    )
    .await;
    let household = app
        .case_view(&applicant_actor(), &number("household"), at(today))
        .await
        .unwrap();
    assert_eq!(household.state, "awaiting_intake");
    let timeline = app
        .timeline(&applicant_actor(), &submitted.application)
        .await
        .unwrap();
    assert!(
        timeline
            .iter()
            .any(|e| e.case == number("household") && e.text_zh.contains("电子证照")),
        "{timeline:#?}"
    );
    let insurance = app
        .case_view(&applicant_actor(), &number("medical_insurance"), at(today))
        .await
        .unwrap();
    assert_eq!(
        insurance.state, "waiting",
        "waits for the household registration"
    );

    // 5. Every case concludes; the application is concluded; the timeline tells the story.
    handle(app, &number("vaccination"), HEALTH_XIHU, "330106", today).await;
    handle(app, &number("household"), POLICE_XIHU, "330106", today).await;
    handle(
        app,
        &number("medical_insurance"),
        INSURANCE_CITY,
        "330100",
        today,
    )
    .await;
    let (application, cases) = app
        .application_cases(&applicant_actor(), &submitted.application, at(today))
        .await
        .unwrap();
    assert_eq!(application.state, "concluded");
    assert!(cases.iter().all(|c| c.state == "result_issued"));
    let timeline = app
        .timeline(&applicant_actor(), &submitted.application)
        .await
        .unwrap();
    assert!(timeline.len() >= 4 * 5, "{}", timeline.len());
    let certificates = app
        .holder_certificates(onetrip_domain::certificate::HolderKind::Person, CHEN, today)
        .await
        .unwrap();
    assert!(
        certificates
            .iter()
            .any(|c| c.type_code == "BIRTH_MEDICAL_CERT")
    );
    assert!(
        certificates
            .iter()
            .any(|c| c.type_code == "VACCINATION_CERT")
    );

    // Tampering with any stored event is detected.
    assert!(app.verify_event_chains().await.unwrap().is_empty());
    let events = app.db.case_events(&number("household")).await.unwrap();
    // The third event of the household case is the remark about the certificate passed on.
    assert!(events[2].event.contains("电子证照"), "{}", events[2].event);
    let forged = events[2].event.replace("电子证照", "纸质证照");
    assert!(
        app.db
            .overwrite_case_event(&number("household"), 3, &forged)
            .await
            .unwrap()
    );
    assert_eq!(
        app.verify_event_chains().await.unwrap(),
        vec![number("household")]
    );
    assert_eq!(
        app.verify_case_chain(&number("household")).await.unwrap(),
        Some(3)
    );
    // Even a change that leaves the JSON meaning alone (a space) is a change.
    let vaccination = app.db.case_events(&number("vaccination")).await.unwrap();
    let spaced = format!("{} ", vaccination[0].event);
    assert!(
        app.db
            .overwrite_case_event(&number("vaccination"), 1, &spaced)
            .await
            .unwrap()
    );
    assert_eq!(
        app.verify_event_chains().await.unwrap(),
        vec![number("vaccination"), number("household")]
    );
}

/// A single-item application (the household certificate of the Jiashan story is not in the
/// demo; the Xihu vaccination item has no dependency) accepted on `day`.
async fn single_case(app: &App, day: Date, item: &str) -> String {
    let input = ApplicationInput {
        target: ApplicationTarget::Item {
            code: item.into(),
            situation: Some("S01".into()),
        },
        answers: FormValues::new(),
        form: FormValues::new(),
        uploads: photo(app).await,
    };
    let submitted = app
        .submit_application(
            &chen(),
            None,
            &input,
            ApplyChannel::Web,
            None,
            None,
            at(day),
        )
        .await
        .unwrap();
    submitted.cases[0].number.clone()
}

/// The photo the social-security card needs (not in the demo's shared data for Chen),
/// uploaded by Chen.
async fn photo(app: &App) -> std::collections::BTreeMap<String, onetrip_app::cases::FileRef> {
    let row = app
        .upload_file(
            &applicant_actor(),
            "photo.jpg",
            bytes::Bytes::from_static(b"\xFF\xD8\xFF\xE0 photo"),
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
    [(format!("{SSC}.M03"), onetrip_app::uploads::file_ref(&row))].into()
}

/// The photo handed in on paper at a window.
fn photo_on_paper() -> std::collections::BTreeMap<String, onetrip_app::cases::FileRef> {
    [(
        format!("{SSC}.M03"),
        onetrip_app::cases::FileRef {
            id: format!("{}test:1", onetrip_app::uploads::RECEIVED_ON_PAPER),
            name: "photo".into(),
            media_type: None,
        },
    )]
    .into()
}

/// 社会保障卡申领 (5 working days) in the city.
const SSC: &str = "113301000354023845200030002000";
const HRSS_CITY: &str = "113301000354023845";

async fn correction_stops_the_clock(app: &App) {
    let accepted = date(2026, 11, 23); // a Monday
    let number = single_case(app, accepted, SSC).await;
    act(
        app,
        &intake_officer(),
        &number,
        CaseCommand::Accept,
        accepted,
    )
    .await;
    let before = app
        .case_view(&intake_officer(), &number, at(accepted))
        .await
        .unwrap();
    let deadline = before.deadline.unwrap();
    // Requested on Tuesday, supplied the next Monday: 4 working days (Wed–Mon, the request day
    // counted, the supply day not).
    let officer = officer(HRSS_CITY, "330100");
    act(
        app,
        &officer,
        &number,
        CaseCommand::RequestCorrection {
            items: vec![CorrectionItem {
                subject: "M03".into(),
                reason: "照片不清晰，请重新上传".into(),
            }],
        },
        date(2026, 11, 24),
    )
    .await;
    act(
        app,
        &applicant_actor(),
        &number,
        CaseCommand::SupplyCorrection {
            note: Some("已重新上传".into()),
            uploads: Default::default(),
        },
        date(2026, 11, 30),
    )
    .await;
    let after = app
        .case_view(&intake_officer(), &number, at(date(2026, 11, 30)))
        .await
        .unwrap();
    let calendar = app.calendar();
    let moved = calendar
        .working_days_between(deadline, after.deadline.unwrap())
        .unwrap();
    let took = calendar
        .working_days_between(date(2026, 11, 24), date(2026, 11, 30))
        .unwrap();
    assert_eq!(moved, took, "{deadline} → {:?}", after.deadline);
    assert!(after.deadline.unwrap() > deadline);
}

async fn walk_in_and_separation(app: &App) {
    let day = date(2026, 11, 23);
    // A clerk of the Xihu window takes in a city-level item for a walk-in applicant.
    let input = ApplicationInput {
        target: ApplicationTarget::Item {
            code: SSC.into(),
            situation: Some("S01".into()),
        },
        answers: FormValues::new(),
        form: FormValues::new(),
        uploads: photo_on_paper(),
    };
    let walk_in = ApplicantFacts {
        applicant: Applicant::Person(CHEN.into()),
        name: "陈志明".into(),
        account: None,
    };
    let submitted = app
        .submit_application(
            &walk_in,
            None,
            &input,
            ApplyChannel::Window,
            Some(&WindowIntake {
                clerk: clerk(),
                signature: "pad-0001".into(),
                agent: None,
            }),
            None,
            at(day),
        )
        .await
        .unwrap();
    let number = &submitted.cases[0].number;
    assert!(
        number.starts_with("330106-"),
        "numbered where it was taken in: {number}"
    );
    assert_eq!(
        act(app, &clerk(), number, CaseCommand::Accept, day).await,
        "in_review"
    );
    // The department's queue has it (按责转办).
    let queue = app
        .department_queue(
            &officer(HRSS_CITY, "330100"),
            HRSS_CITY,
            &QueueFilter::default(),
            200,
        )
        .await
        .unwrap();
    assert!(queue.iter().any(|c| &c.number == number));
    // A clerk of another county may not.
    let other = staff("clerk-fuyang", StaffRole::WindowClerk, "330111", None);
    let number2 = single_case(app, day, SSC).await;
    assert!(
        app.act_on_case(&other, &number2, CaseCommand::Accept, None, at(day))
            .await
            .is_err()
    );
    // An officer who accepts a case may not decide it (收受分离).
    let officer = officer(HRSS_CITY, "330100");
    act(app, &officer, &number2, CaseCommand::Accept, day).await;
    let err = app
        .act_on_case(
            &officer,
            &number2,
            CaseCommand::CompleteStep {
                stage: 0,
                step: 0,
                opinion: "同意".into(),
            },
            None,
            at(day),
        )
        .await
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("case_separation_of_duties"),
        "{err:?}"
    );
}

async fn warnings_and_supervision(app: &App) {
    let accepted = date(2026, 11, 23);
    let number = single_case(app, accepted, SSC).await; // 5 working days: due 2026-11-30
    act(
        app,
        &intake_officer(),
        &number,
        CaseCommand::Accept,
        accepted,
    )
    .await;
    let scan = |day: Date| {
        let app = app.clone();
        async move { app.scan_deadlines("test", at(day)).await.unwrap() }
    };
    let warning = |day: Date| {
        let app = app.clone();
        let number = number.clone();
        async move {
            app.case_view(&CaseActor::System, &number, at(day))
                .await
                .unwrap()
                .warning
        }
    };
    scan(date(2026, 11, 26)).await; // 3 of 5 elapsed
    assert_eq!(warning(date(2026, 11, 26)).await, "green");
    let report = scan(date(2026, 11, 27)).await; // 4 of 5: 80 %
    assert!(report.yellow >= 1);
    assert_eq!(warning(date(2026, 11, 27)).await, "yellow");
    // A second scan (another replica) raises nothing new.
    let again = scan(date(2026, 11, 27)).await;
    assert_eq!(again.yellow, 0);
    scan(date(2026, 12, 1)).await;
    assert_eq!(warning(date(2026, 12, 1)).await, "red");
    let events = app.db.case_events(&number).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.event.contains("warning_raised"))
            .count(),
        2
    );

    // A supervisor of the city orders the department to act; the order appears for it.
    let supervisor = staff("sup-hz", StaffRole::Supervisor, "330100", None);
    let at_risk = app.cases_at_risk(&supervisor, "330100", 50).await.unwrap();
    assert!(
        at_risk
            .iter()
            .any(|c| c.number == number && c.warning == "red")
    );
    let issue = |reason: &'static str| {
        app.issue_supervision_order(
            &supervisor,
            &number,
            reason,
            date(2026, 12, 3),
            Some("order-1"),
            at(date(2026, 12, 1)),
        )
    };
    let order = issue("已超期，请于两个工作日内办结").await.unwrap();
    // The same order again under its key (a retry after a timeout) issues nothing new; the
    // key with another reason is refused.
    assert_eq!(issue("已超期，请于两个工作日内办结").await.unwrap(), order);
    let reused = issue("另一事由").await;
    assert!(
        matches!(&reused, Err(AppError::Refused { code, .. }) if *code == "idempotency_key_reused"),
        "{reused:?}"
    );
    let orders = app
        .supervision_orders_of(&officer(HRSS_CITY, "330100"), HRSS_CITY)
        .await
        .unwrap();
    assert_eq!(orders.iter().filter(|o| o.case_number == number).count(), 1);
    assert!(
        orders
            .iter()
            .any(|o| o.id == order.id && o.answer.is_none())
    );
    let answered = app
        .answer_supervision_order(
            &officer(HRSS_CITY, "330100"),
            &order.id,
            "已办结并送达",
            at(date(2026, 12, 2)),
        )
        .await
        .unwrap();
    assert!(answered.answer.is_some());
    let stats = app
        .department_statistics(&supervisor, "330100")
        .await
        .unwrap();
    assert!(
        stats
            .iter()
            .any(|s| s.department == HRSS_CITY && s.red >= 1)
    );
}

async fn all_flows(db: onetrip_store::Db) {
    let app = demo(db, date(2026, 11, 21)).await;
    birth_bundle_end_to_end(&app).await;
    correction_stops_the_clock(&app).await;
    walk_in_and_separation(&app).await;
    warnings_and_supervision(&app).await;
}

#[tokio::test]
async fn flows_on_sqlite() {
    let t = TestDb::sqlite().await.unwrap();
    all_flows(t.db.clone()).await;
    t.cleanup().await.unwrap();
}

#[tokio::test]
async fn flows_on_postgres() {
    let Some(t) = TestDb::postgres().await.unwrap() else {
        return;
    };
    all_flows(t.db.clone()).await;
    t.cleanup().await.unwrap();
}

#[tokio::test]
async fn the_demo_bundles_pass_their_rules() {
    let t = TestDb::sqlite().await.unwrap();
    let app = demo(t.db.clone(), date(2026, 11, 21)).await;
    let bundles = app.bundles().await.unwrap();
    assert_eq!(bundles.len(), onetrip_app::demo_bundles().len());
    let birth = app.bundle_view("ZJ-BIRTH").await.unwrap();
    assert_eq!(birth.bundle.form.sections.len(), 4);
    assert!(birth.reduction.materials_after < birth.reduction.materials_before);
    // The veterans' bundle: ten items, trips 8 → 1 and materials 20 → 6 in the seeds' words.
    let veterans = app.bundle_view("ZJ-VETERANS").await.unwrap().reduction;
    assert_eq!(veterans.items, 10, "{veterans:?}");
    assert!(veterans.visits_before >= 6, "{veterans:?}");
    assert!(veterans.visits_after <= 1, "{veterans:?}");
    assert!(
        veterans.materials_after < veterans.materials_before / 2,
        "{veterans:?}"
    );
    t.cleanup().await.unwrap();
}

#[tokio::test]
async fn the_demo_has_applications_in_every_state() {
    let t = TestDb::sqlite().await.unwrap();
    let today = date(2026, 11, 23);
    let app = demo(t.db.clone(), today).await;
    let made = app.load_demo_cases_if_empty(at(today)).await.unwrap();
    assert!(made >= 9);
    assert_eq!(
        app.load_demo_cases_if_empty(at(today)).await.unwrap(),
        0,
        "only once"
    );
    let apps = app.db.applications_of_subject(CHEN, 100).await.unwrap();
    let mut states: Vec<String> = Vec::new();
    for a in &apps {
        states.push(a.state.clone());
        for c in app.db.cases_of_application(&a.id).await.unwrap() {
            states.push(format!("{}/{}", c.state, c.warning));
        }
    }
    for expected in [
        "draft",
        "awaiting_intake/green",
        "waiting/green",
        "result_issued/green",
        "in_review/red",
        "in_review/yellow",
        "in_correction/green",
        "refused/green",
        "withdrawn/green",
    ] {
        assert!(
            states.iter().any(|s| s == expected),
            "{expected} in {states:?}"
        );
    }
    // The item with a form of its own, filled from the account and the e-receipt.
    let medical = apps
        .iter()
        .find(|a| a.item_code.as_deref() == Some("11330100067843715T050090003000"))
        .expect("the medical reimbursement");
    assert_eq!(medical.state, "submitted");
    let form = &medical.document["form"];
    assert_eq!(form["hospital"], "浙江大学医学院附属第一医院", "{form}");
    assert_eq!(form["amount"], 386540, "{form}");
    assert_eq!(form["name"], "陈志明", "{form}");
    let orders = app
        .supervision_orders_of(&CaseActor::System, HRSS_CITY)
        .await
        .unwrap();
    assert_eq!(orders.len(), 1);
    assert!(app.verify_event_chains().await.unwrap().is_empty());
    t.cleanup().await.unwrap();
}

/// A one-shot HTTP receiver: answers every request with `status` and hands back what it got
/// (headers in lower case, body).
async fn receiver(
    status: u16,
) -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<(std::collections::BTreeMap<String, String>, Vec<u8>)>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head_end, length) = loop {
                let n = socket.read(&mut chunk).await.unwrap();
                if n == 0 {
                    break (0, 0);
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..i]).to_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                    break (i + 4, length);
                }
            };
            while buf.len() < head_end + length {
                let n = socket.read(&mut chunk).await.unwrap();
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
            let headers = head
                .lines()
                .skip(1)
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
                .collect();
            let _ = tx.send((headers, buf[head_end..].to_vec()));
            let reply =
                format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = socket.write_all(reply.as_bytes()).await;
        }
    });
    (url, rx)
}

#[tokio::test]
async fn department_systems_get_signed_webhooks_and_act_with_their_token() {
    let t = TestDb::sqlite().await.unwrap();
    let today = date(2026, 11, 23);
    let app = demo(t.db.clone(), today).await;
    let system = CaseActor::DepartmentSystem {
        client_id: "hrss-system".into(),
        department: HRSS_CITY.into(),
    };
    // Another department's system may not register for this department.
    let other = CaseActor::DepartmentSystem {
        client_id: "health-system".into(),
        department: HEALTH_CITY.into(),
    };
    let (url, mut received) = receiver(200).await;
    assert!(
        app.register_webhook(&other, HRSS_CITY, &url, at(today))
            .await
            .is_err()
    );
    assert!(
        app.register_webhook(&system, HRSS_CITY, "ftp://x", at(today))
            .await
            .is_err()
    );
    let hook = app
        .register_webhook(&system, HRSS_CITY, &url, at(today))
        .await
        .unwrap();

    let number = single_case(&app, today, SSC).await;
    let client = reqwest::Client::new();
    let report = app.dispatch_outbox(&client, at(today), 100).await.unwrap();
    assert_eq!(report.failed, 0);
    assert!(report.delivered >= 1);
    let (headers, body) = received.recv().await.unwrap();
    assert_eq!(
        headers["x-onetrip-signature"],
        onetrip_app::outbox::signature(&hook.secret, &body)
    );
    let delivery: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(delivery["topic"], "case.created");
    assert_eq!(delivery["data"]["case"], number.as_str());
    assert_eq!(
        headers["x-onetrip-delivery"],
        delivery["id"].as_str().unwrap()
    );
    // Delivered rows are not sent again.
    assert_eq!(
        app.dispatch_outbox(&client, at(today), 100)
            .await
            .unwrap()
            .delivered,
        0
    );

    // The department's system pulls its queue and takes the case in; another department's may not.
    let queue = app
        .department_queue(&system, HRSS_CITY, &QueueFilter::default(), 50)
        .await
        .unwrap();
    assert!(queue.iter().any(|c| c.number == number));
    assert!(
        app.department_queue(&other, HRSS_CITY, &QueueFilter::default(), 50)
            .await
            .is_err()
    );
    assert!(
        app.act_on_case(&other, &number, CaseCommand::Accept, None, at(today))
            .await
            .is_err()
    );
    assert_eq!(
        act(&app, &system, &number, CaseCommand::Accept, today).await,
        "in_review"
    );

    // A receiver that fails gets the row again later, not at once.
    let (failing, mut failed) = receiver(500).await;
    let hook2 = app
        .register_webhook(&system, HRSS_CITY, &failing, at(today))
        .await
        .unwrap();
    assert!(!hook2.secret.is_empty());
    let report = app.dispatch_outbox(&client, at(today), 100).await.unwrap();
    assert!(report.failed >= 1, "{report:?}");
    assert!(failed.recv().await.is_some());
    assert_eq!(
        app.dispatch_outbox(&client, at(today), 100)
            .await
            .unwrap()
            .failed,
        0,
        "backing off"
    );
    t.cleanup().await.unwrap();
}
