//! Contract of the workbench queries: a general window's intake of the day (`window_intake`,
//! migration 0011) and a department's queue with its due-date filters and keyset paging.

use jiff::Timestamp;
use jiff::civil::{Date, date};
use onetrip_store::{ApplicationRow, CaseBatch, CaseRow, Db, QueueFilter};

const XIHU: &str = "330106";
const GONGSHU: &str = "330105";
const DEPT: &str = "11330100000897962X";
const OTHER_DEPT: &str = "113301000354023845";

/// 2026-11-23T00:00:00Z plus `n` minutes.
fn minute(n: i64) -> Timestamp {
    Timestamp::from_second(1_795_392_000 + n * 60).unwrap()
}

fn application(id: &str, division: &str, channel: &str, submitted: Option<i64>) -> ApplicationRow {
    ApplicationRow {
        id: id.to_owned(),
        account_id: None,
        subject_kind: "person".to_owned(),
        subject_id: "330102198503140138".to_owned(),
        subject_name: "陈志明".to_owned(),
        bundle_code: None,
        bundle_version: None,
        item_code: Some("11330100000897962X070060001000".to_owned()),
        division_code: division.to_owned(),
        channel: channel.to_owned(),
        state: if submitted.is_some() {
            "submitted"
        } else {
            "draft"
        }
        .to_owned(),
        document: serde_json::json!({"form": {}}),
        intake_by: (channel == "window").then(|| "clerk-1".to_owned()),
        created_at: minute(0),
        updated_at: submitted.map_or(minute(0), minute),
        submitted_at: submitted.map(minute),
    }
}

fn case(number: &str, department: &str, due_on: Date, closed: bool) -> CaseRow {
    CaseRow {
        number: number.to_owned(),
        application_id: "app-q".to_owned(),
        member: "main".to_owned(),
        item_code: "11330100000897962X070060001000".to_owned(),
        item_version: 1,
        situation: "S01".to_owned(),
        department_code: department.to_owned(),
        division_code: XIHU.to_owned(),
        state: if closed { "concluded" } else { "accepted" }.to_owned(),
        closed,
        due_on,
        warning: "green".to_owned(),
        status: serde_json::json!({}),
        event_count: 0,
        last_hash: "0".repeat(64),
        concluded_on: None,
        on_time: None,
        handling_days: None,
        created_at: minute(0),
        updated_at: minute(0),
    }
}

fn ids(rows: &[ApplicationRow]) -> Vec<&str> {
    rows.iter().map(|a| a.id.as_str()).collect()
}

fn numbers(rows: &[CaseRow]) -> Vec<&str> {
    rows.iter().map(|c| c.number.as_str()).collect()
}

pub async fn window_intake_lists_the_windows_applications_since_newest_first(db: &Db) {
    db.insert_case_batch(CaseBatch {
        applications: vec![
            application("app-a", XIHU, "window", Some(10)),
            application("app-b", XIHU, "window", Some(30)),
            application("app-c", XIHU, "window", Some(20)),
            // The same minute as app-c: the id decides.
            application("app-d", XIHU, "window", Some(20)),
            // Not at a window, another division, before `since`, never submitted.
            application("app-e", XIHU, "web", Some(25)),
            application("app-f", GONGSHU, "window", Some(25)),
            application("app-g", XIHU, "window", Some(5)),
            application("app-h", XIHU, "window", None),
        ],
        ..CaseBatch::default()
    })
    .await
    .unwrap();
    let since = minute(10);
    let all = db.window_intake(XIHU, since, 50).await.unwrap();
    assert_eq!(ids(&all), ["app-b", "app-d", "app-c", "app-a"]);
    let first = &all[0];
    assert_eq!(first.channel, "window");
    assert_eq!(first.intake_by.as_deref(), Some("clerk-1"));
    assert_eq!(first.submitted_at, Some(minute(30)));
    assert_eq!(first.subject_name, "陈志明");
    assert_eq!(
        ids(&db.window_intake(XIHU, since, 2).await.unwrap()),
        ["app-b", "app-d"]
    );
    assert_eq!(
        ids(&db.window_intake(XIHU, minute(21), 50).await.unwrap()),
        ["app-b"]
    );
    assert_eq!(
        ids(&db.window_intake(GONGSHU, since, 50).await.unwrap()),
        ["app-f"]
    );
    assert!(
        db.window_intake("330110", since, 50)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn department_queue_filters_by_due_date_and_pages_by_keyset(db: &Db) {
    let d = |day: i8| date(2026, 11, day);
    let mut cases = vec![
        case("330106-20261101-000004", DEPT, d(24), false),
        case("330106-20261101-000001", DEPT, d(23), false),
        case("330106-20261101-000003", DEPT, d(25), false),
        // Two due on the same day: the number orders them.
        case("330106-20261101-000007", DEPT, d(26), false),
        case("330106-20261101-000002", DEPT, d(26), false),
        case("330106-20261101-000006", DEPT, d(30), false),
        // Closed, or another department's: never in the queue.
        case("330106-20261101-000005", DEPT, d(25), true),
        case("330106-20261101-000008", OTHER_DEPT, d(25), false),
    ];
    cases.sort_by(|a, b| a.number.cmp(&b.number));
    db.insert_case_batch(CaseBatch {
        applications: vec![application("app-q", XIHU, "web", Some(1))],
        cases,
        events: Vec::new(),
    })
    .await
    .unwrap();
    let queue = |filter: QueueFilter, limit: i64| async move {
        db.department_queue(DEPT, &filter, limit).await.unwrap()
    };
    let everything = queue(QueueFilter::default(), 50).await;
    assert_eq!(
        numbers(&everything),
        [
            "330106-20261101-000001",
            "330106-20261101-000004",
            "330106-20261101-000003",
            "330106-20261101-000002",
            "330106-20261101-000007",
            "330106-20261101-000006",
        ]
    );
    assert_eq!(everything[0].due_on, d(23));

    // Due dates: inclusive at both ends.
    let from = queue(
        QueueFilter {
            due_from: Some(d(25)),
            ..QueueFilter::default()
        },
        50,
    )
    .await;
    assert_eq!(numbers(&from), numbers(&everything[2..]));
    let until = queue(
        QueueFilter {
            due_until: Some(d(25)),
            ..QueueFilter::default()
        },
        50,
    )
    .await;
    assert_eq!(numbers(&until), numbers(&everything[..3]));
    let between = QueueFilter {
        due_from: Some(d(24)),
        due_until: Some(d(26)),
        ..QueueFilter::default()
    };
    assert_eq!(
        numbers(&queue(between.clone(), 50).await),
        numbers(&everything[1..5])
    );
    let day = QueueFilter {
        due_from: Some(d(27)),
        due_until: Some(d(29)),
        ..QueueFilter::default()
    };
    assert!(queue(day, 50).await.is_empty());

    // Keyset paging, two at a time, walks the whole queue once and in order, through the tie
    // on the 26th; with a filter it stays within it.
    for (filter, expected) in [
        (QueueFilter::default(), &everything[..]),
        (between, &everything[1..5]),
    ] {
        let mut walked: Vec<CaseRow> = Vec::new();
        let mut after: Option<(Date, String)> = None;
        loop {
            let page = queue(
                QueueFilter {
                    after: after.clone(),
                    ..filter.clone()
                },
                2,
            )
            .await;
            let Some(last) = page.last() else { break };
            after = Some((last.due_on, last.number.clone()));
            assert!(page.len() <= 2);
            walked.extend(page);
        }
        assert_eq!(numbers(&walked), numbers(expected));
    }
    // After the first of the two due on the 26th comes the second, then the 30th.
    let after_tie = queue(
        QueueFilter {
            after: Some((d(26), "330106-20261101-000002".to_owned())),
            ..QueueFilter::default()
        },
        50,
    )
    .await;
    assert_eq!(
        numbers(&after_tie),
        ["330106-20261101-000007", "330106-20261101-000006"]
    );
    // A position between two due dates (no case there) continues with the next date.
    let between_days = queue(
        QueueFilter {
            after: Some((d(24), "330106-99999999-999999".to_owned())),
            ..QueueFilter::default()
        },
        50,
    )
    .await;
    assert_eq!(numbers(&between_days), numbers(&everything[2..]));
}
