//! The case generator (`onetrip generate --cases`): consistent rows that the queue use case
//! reads back, the same rows for the same seed, intact event chains, on SQLite and (with
//! `ONETRIP_TEST_DATABASE_URL`) on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
use std::collections::{BTreeMap, HashSet};

use jiff::civil::date;
use onetrip_app::App;
use onetrip_app::casegen::{CaseGenConfig, generate_cases_in_memory};
use onetrip_app::cases::CaseActor;
use onetrip_domain::case::CaseStatus;
use onetrip_store::QueueFilter;
use onetrip_store::testing::TestDb;

fn config(cases: u64, seed: u64, events: bool) -> CaseGenConfig {
    CaseGenConfig {
        cases,
        seed,
        as_of: date(2026, 11, 20),
        days: 365,
        events,
    }
}

async fn check(t: TestDb) {
    let app = App::open(t.db.clone()).await.unwrap();
    let report = app
        .generate_cases(config(1_000, 7, true), 2, |_| {})
        .await
        .unwrap();
    assert_eq!(report.cases, 1_000);
    assert_eq!(report.applications, 1_000);
    assert!(report.events >= 1_000, "{report:?}");
    assert_eq!(app.db.case_count().await.unwrap(), 1_000);

    // Deterministic: the same seed gives the same rows, another seed other rows.
    let a = generate_cases_in_memory(&app, config(1_000, 7, true))
        .await
        .unwrap();
    let b = generate_cases_in_memory(&app, config(1_000, 7, true))
        .await
        .unwrap();
    assert_eq!(a.cases, b.cases);
    assert_eq!(a.applications, b.applications);
    assert_eq!(a.events, b.events);
    let c = generate_cases_in_memory(&app, config(1_000, 8, true))
        .await
        .unwrap();
    assert_ne!(a.cases, c.cases);

    // Consistent rows: unique numbers, the state, closed flag and warning agree with the
    // folded status; most cases are closed; every department is one of the catalog's.
    let numbers: HashSet<&str> = a.cases.iter().map(|c| c.number.as_str()).collect();
    assert_eq!(numbers.len(), 1_000);
    let mut per_department: BTreeMap<&str, usize> = BTreeMap::new();
    let mut open = 0;
    let mut warnings: BTreeMap<&str, usize> = BTreeMap::new();
    for case in &a.cases {
        let status: CaseStatus = serde_json::from_value(case.status.clone()).unwrap();
        assert_eq!(status.state().as_str(), case.state);
        assert_eq!(status.state().is_terminal(), case.closed);
        if !case.closed {
            open += 1;
            *per_department.entry(&case.department_code).or_default() += 1;
            *warnings.entry(&case.warning).or_default() += 1;
        }
        assert!(case.item_code.starts_with(&case.department_code));
        assert!(
            app.db
                .department(&case.department_code)
                .await
                .unwrap()
                .is_some()
        );
    }
    assert!(open > 0 && open < 200, "open cases: {open}");
    assert!(warnings.contains_key("green"), "{warnings:?}");

    // The stored cases are the generated ones, with intact chains.
    let stored = app.db.case(&a.cases[0].number).await.unwrap().unwrap();
    assert_eq!(stored, a.cases[0]);
    assert!(app.verify_event_chains().await.unwrap().is_empty());

    // The queue use case reads them back, soonest due first.
    let (department, expected) = per_department
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(d, n)| ((*d).to_string(), *n))
        .unwrap();
    let queue = app
        .department_queue(
            &CaseActor::System,
            &department,
            &QueueFilter::default(),
            200,
        )
        .await
        .unwrap();
    assert_eq!(queue.len(), expected.min(200));
    assert!(queue.windows(2).all(|w| w[0].due_on <= w[1].due_on));
    assert!(
        queue
            .iter()
            .all(|c| !c.closed && c.department_code == department)
    );
    let division = queue[0].division_code.clone();
    let by_prefix = app
        .department_queue(
            &CaseActor::System,
            &department,
            &QueueFilter {
                division_prefix: Some(division[..4].to_string()),
                ..QueueFilter::default()
            },
            200,
        )
        .await
        .unwrap();
    assert_eq!(by_prefix, queue);
    let none = app
        .department_queue(
            &CaseActor::System,
            &department,
            &QueueFilter {
                division_prefix: Some("9999".into()),
                ..QueueFilter::default()
            },
            200,
        )
        .await
        .unwrap();
    assert!(none.is_empty());

    // Keyset paging: page after page in the same order as one long page.
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = app
            .department_queue(
                &CaseActor::System,
                &department,
                &QueueFilter {
                    after: after.clone(),
                    ..QueueFilter::default()
                },
                7,
            )
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some((last.due_on, last.number.clone()));
        paged.extend(page);
    }
    assert_eq!(paged, queue);
    // Due-date filters and the figures agree with the rows.
    let today = queue[queue.len() / 2].due_on;
    let week_end = today.checked_add(jiff::Span::new().days(6)).unwrap();
    let counts = app
        .department_due_counts(&CaseActor::System, &department, None, today, week_end)
        .await
        .unwrap();
    let count = |f: &dyn Fn(jiff::civil::Date) -> bool| {
        i64::try_from(queue.iter().filter(|c| f(c.due_on)).count()).unwrap()
    };
    assert_eq!(counts.overdue, count(&|d| d < today));
    assert_eq!(counts.today, count(&|d| d == today));
    assert_eq!(counts.this_week, count(&|d| d > today && d <= week_end));
    let due_today = app
        .department_queue(
            &CaseActor::System,
            &department,
            &QueueFilter {
                due_from: Some(today),
                due_until: Some(today),
                ..QueueFilter::default()
            },
            200,
        )
        .await
        .unwrap();
    assert_eq!(i64::try_from(due_today.len()).unwrap(), counts.today);
    t.cleanup().await.unwrap();
}

#[tokio::test]
async fn generated_cases_are_consistent_on_sqlite() {
    check(TestDb::sqlite().await.unwrap()).await;
}

#[tokio::test]
async fn generated_cases_are_consistent_on_postgres() {
    if let Some(t) = TestDb::postgres().await.unwrap() {
        check(t).await;
    }
}
