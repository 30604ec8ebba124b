//! Contract of the use-case writes (submissions, case changes, access logs) under concurrency:
//! on SQLite they are group-committed by the single writer, on PostgreSQL each is its own
//! transaction; the outcome seen by every caller is the same.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::{Date, date};
use onetrip_domain::sharing::{AccessLogEntry, AccessOutcome, Consumer};
use onetrip_store::{
    AccessLogFilter, ApplicationRow, Backend, CaseChange, CaseCommit, CaseRow, Db, EventRow,
    IdempotencyRecord, OutboxRow, StoreError, SubmissionRows,
};

const COUNTY: &str = "330106";
const DAY: Date = date(2026, 11, 20);

fn at() -> Timestamp {
    "2026-11-20T02:00:00Z".parse().unwrap()
}

fn draft(id: &str) -> ApplicationRow {
    ApplicationRow {
        id: id.into(),
        account_id: Some("acct".into()),
        subject_kind: "person".into(),
        subject_id: "330102198503140138".into(),
        subject_name: "陈志明".into(),
        bundle_code: Some("ZJ-BIRTH".into()),
        bundle_version: Some(1),
        item_code: None,
        division_code: COUNTY.into(),
        channel: "web".into(),
        state: "draft".into(),
        document: serde_json::json!({}),
        intake_by: None,
        created_at: at(),
        updated_at: at(),
        submitted_at: None,
    }
}

fn case_number(seq: u32) -> String {
    format!("{COUNTY}-20261120-{seq:06}")
}

fn case(number: &str, application: &str) -> CaseRow {
    CaseRow {
        number: number.into(),
        application_id: application.into(),
        member: "m".into(),
        item_code: "330100LIC001".into(),
        item_version: 1,
        situation: "S1".into(),
        department_code: "D".into(),
        division_code: COUNTY.into(),
        state: "submitted".into(),
        closed: false,
        due_on: DAY,
        warning: "normal".into(),
        status: serde_json::json!({"state": "submitted"}),
        event_count: 1,
        last_hash: format!("h-{number}-1"),
        concluded_on: None,
        on_time: None,
        handling_days: None,
        created_at: at(),
        updated_at: at(),
    }
}

fn event(number: &str, seq: i64) -> EventRow {
    EventRow {
        case_number: number.into(),
        seq,
        at: at(),
        actor: "test".into(),
        event: format!("{{\"seq\":{seq}}}"),
        prev_hash: format!("h-{number}-{}", seq - 1),
        hash: format!("h-{number}-{seq}"),
    }
}

fn outbox(id: &str, subject: &str) -> OutboxRow {
    OutboxRow {
        id: id.into(),
        topic: "case.submitted".into(),
        subject: subject.into(),
        department_code: Some("D".into()),
        payload: serde_json::json!({"case": subject}),
        created_at: at(),
        attempts: 0,
    }
}

/// What a caller's `build` does in these tests.
#[derive(Clone, Copy, PartialEq)]
enum Build {
    Cases(u32),
    Fail,
    Panic,
}

/// Submits application `id` with `count` cases (or a failing / panicking `build`); returns the
/// case numbers allocated.
async fn submit(
    db: &Db,
    id: &str,
    build: Build,
    key: Option<&str>,
) -> Result<Vec<String>, StoreError> {
    let count = match build {
        Build::Cases(n) => n,
        Build::Fail | Build::Panic => 2,
    };
    let key = key.map(str::to_string);
    let (_, numbers) = db
        .submit_application(draft(id), COUNTY, DAY, count, move |first, app| {
            match build {
                Build::Fail => return Err(StoreError::Corrupt("refused by build".into())),
                Build::Panic => panic!("build panics (expected by the test)"),
                Build::Cases(_) => {}
            }
            app.state = "submitted".into();
            app.submitted_at = Some(at());
            let numbers: Vec<String> = (first..first + count).map(case_number).collect();
            let rows = SubmissionRows {
                cases: numbers
                    .iter()
                    .map(|n| (case(n, &app.id), vec![event(n, 1)]))
                    .collect(),
                access_log: Vec::new(),
                outbox: numbers
                    .iter()
                    .map(|n| outbox(&format!("o-{n}"), n))
                    .collect(),
                idempotency: key.map(|key| IdempotencyRecord {
                    scope: "applicant:acct".into(),
                    key,
                    request_hash: "h".into(),
                    response: "{}".into(),
                }),
            };
            Ok((rows, numbers))
        })
        .await?;
    Ok(numbers)
}

/// Every case number stored, as sequence numbers.
async fn stored_sequences(db: &Db) -> BTreeSet<u32> {
    let mut out = BTreeSet::new();
    for n in db.case_numbers_page("", 10_000).await.unwrap() {
        out.insert(n.rsplit('-').next().unwrap().parse().unwrap());
    }
    out
}

/// On SQLite, holds the write lock from a pool connection of its own for `hold`, so that the
/// jobs sent meanwhile pile up in the writer's queue and are committed as one batch.
async fn hold_write_lock(db: &Db, hold: Duration) -> Option<tokio::task::JoinHandle<()>> {
    let Db::Sqlite(pool, _) = db else {
        return None;
    };
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *conn)
        .await
        .unwrap();
    Some(tokio::spawn(async move {
        tokio::time::sleep(hold).await;
        sqlx::query("COMMIT").execute(&mut *conn).await.unwrap();
    }))
}

pub async fn concurrent_submissions_get_distinct_case_numbers(db: &Db) {
    let mut tasks = Vec::new();
    for i in 0..40 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            submit(
                &db,
                &format!("app-{i}"),
                Build::Cases(3),
                Some(&format!("k-{i}")),
            )
            .await
        }));
    }
    let mut numbers = BTreeSet::new();
    for t in tasks {
        let got = t.await.unwrap().unwrap();
        assert_eq!(got.len(), 3);
        numbers.extend(got);
    }
    assert_eq!(numbers.len(), 120, "every case number is distinct");
    assert_eq!(
        stored_sequences(db).await,
        (1..=120).collect::<BTreeSet<u32>>()
    );
    for i in [0, 17, 39] {
        let app = db.application(&format!("app-{i}")).await.unwrap().unwrap();
        assert_eq!(app.state, "submitted");
        let cases = db.cases_of_application(&app.id).await.unwrap();
        assert_eq!(cases.len(), 3);
        for c in &cases {
            assert_eq!(
                db.case_events(&c.number).await.unwrap(),
                vec![event(&c.number, 1)]
            );
            assert_eq!(db.outbox_of_subject(&c.number).await.unwrap().len(), 1);
        }
    }
    if let Some(stats) = db.writer_stats() {
        assert_eq!(stats.jobs, 40, "every submission went through the writer");
    }
}

pub async fn a_failing_job_in_a_batch_does_not_lose_the_others(db: &Db) {
    // Submitted before: resubmitting it is a conflict.
    assert_eq!(
        submit(db, "done", Build::Cases(1), None).await.unwrap(),
        vec![case_number(1)]
    );
    let before = db.writer_stats();
    let holder = hold_write_lock(db, Duration::from_millis(300)).await;
    let jobs: Vec<(String, Build, Option<String>)> = (0..10)
        .map(|i| (format!("good-{i}"), Build::Cases(2), None))
        .chain([
            ("fails".to_string(), Build::Fail, None),
            ("panics".to_string(), Build::Panic, None),
            ("done".to_string(), Build::Cases(1), None),
            (
                "key-first".to_string(),
                Build::Cases(1),
                Some("same-key".to_string()),
            ),
        ])
        .collect();
    let mut tasks = Vec::new();
    for (id, build, key) in jobs {
        let db = db.clone();
        tasks.push((
            id.clone(),
            tokio::spawn(async move { submit(&db, &id, build, key.as_deref()).await }),
        ));
        // Keeps the order of the jobs in the queue (the reused key comes last).
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let reused = {
        let db = db.clone();
        tokio::spawn(
            async move { submit(&db, "key-second", Build::Cases(1), Some("same-key")).await },
        )
    };
    if let Some(holder) = holder {
        holder.await.unwrap();
    }
    let mut key_outcomes = Vec::new();
    for (id, task) in tasks {
        let joined = task.await;
        if id == "panics" && db.backend() == Backend::Postgres {
            // Without a writer the panic stays in the caller's task (its transaction is dropped,
            // so rolled back); the writer turns it into the job's error.
            assert!(joined.unwrap_err().is_panic());
            continue;
        }
        let outcome = joined.unwrap();
        match id.as_str() {
            "fails" | "panics" => {
                assert!(
                    matches!(outcome, Err(StoreError::Corrupt(_))),
                    "{id}: {outcome:?}"
                );
            }
            "done" => assert!(
                matches!(&outcome, Err(StoreError::Conflict(c)) if c == &vec!["state"]),
                "{outcome:?}"
            ),
            "key-first" => key_outcomes.push((id, outcome)),
            _ => assert!(outcome.is_ok(), "{id}: {outcome:?}"),
        }
    }
    key_outcomes.push(("key-second".to_string(), reused.await.unwrap()));
    // Two submissions with one idempotency key: one lands, the other is refused.
    let (landed, refused): (Vec<_>, Vec<_>) =
        key_outcomes.into_iter().partition(|(_, o)| o.is_ok());
    assert_eq!(landed.len(), 1);
    assert!(
        matches!(&refused[0].1, Err(StoreError::Conflict(c)) if c == &vec!["idempotency"]),
        "{:?}",
        refused[0].1
    );
    if db.backend() == Backend::Sqlite {
        // Queued first, committed first.
        assert_eq!(landed[0].0, "key-first");
    }
    // The good jobs all landed, the failed ones left nothing.
    for i in 0..10 {
        let id = format!("good-{i}");
        assert_eq!(db.cases_of_application(&id).await.unwrap().len(), 2, "{id}");
    }
    for id in ["fails", "panics", refused[0].0.as_str()] {
        assert!(db.application(id).await.unwrap().is_none(), "{id}");
    }
    assert_eq!(db.cases_of_application("done").await.unwrap().len(), 1);
    let stored = stored_sequences(db).await;
    assert_eq!(stored.len(), 22);
    // Nothing of a refused submission was written: one event and one outbox row per stored
    // case, one idempotency record for the key that landed.
    let counts: std::collections::BTreeMap<&str, i64> =
        db.case_table_counts().await.unwrap().into_iter().collect();
    assert_eq!(counts["applications"], 12, "{counts:?}");
    assert_eq!(counts["case_events"], 22, "{counts:?}");
    assert_eq!(counts["outbox"], 22, "{counts:?}");
    assert_eq!(counts["idempotency_keys"], 1, "{counts:?}");
    match db.backend() {
        // The numbers are allocated in the job's transaction: a failed job leaves no gap.
        Backend::Sqlite => assert_eq!(stored, (1..=22).collect::<BTreeSet<u32>>()),
        // Allocated in a short transaction before the submission's: the six numbers of the
        // failed jobs (2 + 2 + 1 + 1) are gaps; numbers are never given twice.
        Backend::Postgres => assert!(stored.iter().all(|n| (1..=28).contains(n)), "{stored:?}"),
    }
    if let (Some(before), Some(after)) = (before, db.writer_stats()) {
        let (jobs, batches) = (after.jobs - before.jobs, after.batches - before.batches);
        assert_eq!(jobs, 15);
        assert!(
            batches < jobs,
            "the queued jobs were committed together: {batches} commits"
        );
    }
}

pub async fn a_case_conflict_is_still_reported(db: &Db) {
    submit(db, "a", Build::Cases(2), None).await.unwrap();
    let (first, second) = (case_number(1), case_number(2));
    let change = |number: &str, expected: i64| {
        let mut row = case(number, "a");
        row.state = "accepted".into();
        row.event_count = expected + 1;
        row.last_hash = format!("h-{number}-{}", expected + 1);
        CaseChange {
            case: row,
            expected_event_count: expected,
            events: vec![event(number, expected + 1)],
        }
    };
    let commit = |changes: Vec<CaseChange>| CaseCommit {
        at: at(),
        outbox: vec![outbox(&next_outbox_id(), "a")],
        changes,
        supervision: None,
        application_state: Some(("a".into(), "in_progress".into(), at())),
        idempotency: None,
    };
    // Two writers change the same case from the same event count at once: one wins.
    let holder = hold_write_lock(db, Duration::from_millis(200)).await;
    let racers: Vec<_> = (0..2)
        .map(|_| {
            let db = db.clone();
            let c = commit(vec![change(&case_number(1), 1)]);
            tokio::spawn(async move { db.commit_case_changes(c).await })
        })
        .collect();
    if let Some(holder) = holder {
        holder.await.unwrap();
    }
    let mut won = 0;
    for r in racers {
        match r.await.unwrap() {
            Ok(()) => won += 1,
            Err(StoreError::Conflict(c)) => assert_eq!(c, vec!["case"]),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(db.case_events(&first).await.unwrap().len(), 2);
    // A commit whose second change is stale writes nothing, not even its first change.
    let stale = db
        .commit_case_changes(commit(vec![change(&second, 1), change(&first, 1)]))
        .await;
    assert!(
        matches!(&stale, Err(StoreError::Conflict(c)) if c == &vec!["case"]),
        "{stale:?}"
    );
    let second_row = db.case(&second).await.unwrap().unwrap();
    assert_eq!(second_row.event_count, 1);
    assert_eq!(second_row.state, "submitted");
    assert_eq!(db.case_events(&second).await.unwrap().len(), 1);
    // Read again and retried, it lands.
    db.commit_case_changes(commit(vec![change(&second, 1), change(&first, 2)]))
        .await
        .unwrap();
    assert_eq!(db.case(&second).await.unwrap().unwrap().event_count, 2);
    assert_eq!(db.case(&first).await.unwrap().unwrap().event_count, 3);
}

/// A distinct outbox id per commit built by the test.
fn next_outbox_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("o-commit-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

pub async fn close_finishes_queued_writes(db: &Db) {
    let Db::Sqlite(pool, _) = db else {
        // PostgreSQL has no writer: closing the pool waits for the connections in use.
        return;
    };
    let file = pool.connect_options().get_filename().to_path_buf();
    let entry = |id: &str| AccessLogEntry {
        id: id.into(),
        at: at(),
        consumer: Consumer::Item("330100LIC001".into()),
        resource: "R".into(),
        provider: "P".into(),
        subject: "330102198503140138".into(),
        fields: vec!["name".into()],
        masked_fields: Vec::new(),
        purpose: "service-application".into(),
        case_ref: None,
        outcome: AccessOutcome::Allowed,
        refusal: None,
    };
    let (a, b) = (entry("close-a"), entry("close-b"));
    // Both jobs are queued (their first poll sends them) before the close is.
    let (first, second, ()) = tokio::join!(
        db.insert_access_log(std::slice::from_ref(&a)),
        db.insert_access_log(std::slice::from_ref(&b)),
        db.close(),
    );
    first.unwrap();
    second.unwrap();
    assert!(
        db.insert_access_log(&[entry("late")]).await.is_err(),
        "a closed writer takes no job"
    );
    let reopened = Db::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    assert_eq!(reopened.backend(), Backend::Sqlite);
    let ids: BTreeSet<String> = reopened
        .access_log(&AccessLogFilter {
            limit: 10,
            ..AccessLogFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(
        ids,
        BTreeSet::from(["close-a".to_string(), "close-b".to_string()])
    );
    reopened.close().await;
}
