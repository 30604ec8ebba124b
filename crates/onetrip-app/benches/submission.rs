//! Whole-flow benchmark of bundle submission (issue 5): one birth bundle — questionnaire and
//! form validation, material resolution (every data read logged), four cases with their first
//! events, outbox rows and the idempotency record, in one transaction — against, in the same
//! run, the ceiling: one durable transaction writing the same number of rows with no logic.
//!
//! Not a criterion bench: it measures throughput and latency percentiles of the use case against
//! a real database. Run it through `bench/submission.sh`.
//!
//! Environment: `ONETRIP_BENCH_DATABASE_URL` (default: a new SQLite file in a temporary
//! directory with `synchronous=full`), `BENCH_SECONDS` (per phase, default 10),
//! `BENCH_CONCURRENCY` (tasks, default 16), `BENCH_SAMPLE` (sequential submissions for the
//! latency, default 300).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use onetrip_app::App;
use onetrip_app::cases::{ApplicantFacts, ApplicationInput, ApplicationTarget, ApplyChannel};
use onetrip_app::resolution::Applicant;
use onetrip_domain::form::FormValues;
use onetrip_domain::identity::AccountId;
use serde_json::{Value, json};

mod support;

use support::{demo_app, env_or, ms, percentile, runtime};

fn chen() -> ApplicantFacts {
    ApplicantFacts {
        applicant: Applicant::Person("330102198503140138".into()),
        name: "陈志明".into(),
        account: Some(AccountId::new("bench-chen")),
    }
}

async fn input(app: &App, now: Timestamp) -> ApplicationInput {
    let answers: FormValues =
        json!({"parents_married": "yes", "medical_insurance": "yes", "social_security_card": "no"})
            .as_object()
            .unwrap()
            .clone();
    let prepared = app
        .prepare_bundle("ZJ-BIRTH", &chen(), &answers, now)
        .await
        .unwrap();
    let mut form = prepared.prefill;
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
        ("delivery_method", Value::from("pickup")),
    ] {
        form.entry(k.to_string()).or_insert(v);
    }
    ApplicationInput {
        target: ApplicationTarget::Bundle {
            code: "ZJ-BIRTH".into(),
        },
        answers,
        form,
        uploads: Default::default(),
    }
}

/// Runs `op` from `concurrency` tasks for `seconds`; returns (count, elapsed).
async fn throughput<F, Fut>(concurrency: usize, seconds: u64, op: F) -> (u64, Duration)
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (op, stop, done, next) = (op.clone(), stop.clone(), done.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                op(next.fetch_add(1, Ordering::Relaxed)).await;
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    (done.load(Ordering::Relaxed), start.elapsed())
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = std::env::var("ONETRIP_BENCH_DATABASE_URL").unwrap_or_else(|_| {
        format!(
            "sqlite://{}?synchronous=full",
            dir.path().join("bench.db").display()
        )
    });
    let seconds = env_or("BENCH_SECONDS", 10);
    let concurrency = env_or("BENCH_CONCURRENCY", 16) as usize;
    let sample = env_or("BENCH_SAMPLE", 300) as usize;
    runtime().block_on(async move {
        let app = demo_app(&url).await;
        let now = Timestamp::now();
        let input = Arc::new(input(&app, now).await);
        println!("backend: {:?}", app.db.backend());

        // Rows one submission writes.
        let before = app.db.case_table_counts().await.unwrap();
        app.submit_application(&chen(), None, &input, ApplyChannel::Mobile, None, Some("probe"), now)
            .await
            .unwrap();
        let after = app.db.case_table_counts().await.unwrap();
        let rows: i64 = after.iter().zip(&before).map(|((_, a), (_, b))| a - b).sum();
        let per_table: Vec<String> = after
            .iter()
            .zip(&before)
            .map(|((t, a), (_, b))| format!("{t}={}", a - b))
            .collect();
        println!("rows per submission: {rows} ({})", per_table.join(" "));
        let rows = usize::try_from(rows).unwrap();

        // Latency, one at a time.
        let mut lat = Vec::with_capacity(sample);
        for i in 0..sample {
            let t = Instant::now();
            app.submit_application(&chen(), None, &input, ApplyChannel::Mobile, None, Some(&format!("seq-{i}")), Timestamp::now())
                .await
                .unwrap();
            lat.push(t.elapsed());
        }
        lat.sort();
        println!(
            "submission sequential: n={} p50={:.3}ms p99={:.3}ms",
            lat.len(),
            ms(percentile(&lat, 0.5)),
            ms(percentile(&lat, 0.99))
        );

        // Throughput: submissions, then the ceiling, same concurrency, same duration.
        let start_stats = app.db.writer_stats();
        let app2 = app.clone();
        let input2 = input.clone();
        let (n, elapsed) = throughput(concurrency, seconds, move |i| {
            let app = app2.clone();
            let input = input2.clone();
            async move {
                app.submit_application(&chen(), None, &input, ApplyChannel::Mobile, None, Some(&format!("c-{i}")), Timestamp::now())
                    .await
                    .unwrap();
            }
        })
        .await;
        let submissions = n as f64 / elapsed.as_secs_f64();
        println!("submission x{concurrency}: {n} in {:.1}s = {submissions:.0}/s", elapsed.as_secs_f64());
        let stats = app.db.writer_stats();
        if let (Some(b), Some(a)) = (start_stats, stats) {
            let (jobs, batches) = (a.jobs - b.jobs, a.batches - b.batches);
            println!("writer during the submissions: {jobs} jobs in {batches} commits (mean {:.1} per commit)", jobs as f64 / batches.max(1) as f64);
        }
        let db = app.db.clone();
        db.prepare_ceiling().await.unwrap();
        let (n, elapsed) = throughput(concurrency, seconds, move |_| {
            let db = db.clone();
            async move {
                db.ceiling_transaction(rows, 300).await.unwrap();
            }
        })
        .await;
        let ceiling = n as f64 / elapsed.as_secs_f64();
        println!("ceiling x{concurrency} ({rows} rows of 300 bytes per transaction, same write path): {n} in {:.1}s = {ceiling:.0}/s", elapsed.as_secs_f64());
        println!("ratio submission/ceiling: {:.2}", submissions / ceiling);
        if let Some(before) = stats {
            // The same work, each transaction committed on its own: the ceiling without group
            // commit (on PostgreSQL this is the ceiling above).
            let db = app.db.clone();
            let (n, elapsed) = throughput(concurrency, seconds, move |_| {
                let db = db.clone();
                async move {
                    db.ceiling_own_transaction(rows, 300).await.unwrap();
                }
            })
            .await;
            let own = n as f64 / elapsed.as_secs_f64();
            let after = app.db.writer_stats().unwrap();
            let (jobs, batches) = (after.jobs - before.jobs, after.batches - before.batches);
            println!("ceiling through the writer: mean {:.1} transactions per commit", jobs as f64 / batches.max(1) as f64);
            println!("ceiling x{concurrency}, a commit per transaction: {n} in {:.1}s = {own:.0}/s", elapsed.as_secs_f64());
            println!("ratio submission/commit-per-transaction ceiling: {:.2}", submissions / own);
        }
    });
}
