//! Workflow engine throughput (issue 5), the onetrip side of `bench/workflow.sh`: the 3-step
//! approval process — accept (受理), review (审查决定, the single review step of the demo's
//! social-security-card item), decide (approved) — driven through `App::act_on_case`, so the
//! permission check, the case state machine, the clock, the SM3 hash chain and the store
//! transaction all count; every transition is its own durable commit.
//!
//! Untimed: a fresh demo database, then the cases of each phase are submitted (one
//! single-item application each). Timed: each case taken through its three transitions, one
//! case after the other in each driver task; first with one task, then with
//! `BENCH_CONCURRENCY` tasks sharing the cases. Every case must end approved with four events
//! (created + three).
//!
//! Not a criterion bench; run it through `bench/workflow.sh`, which runs SpiffWorkflow on the
//! same process side by side.
//!
//! Environment: `ONETRIP_BENCH_DATABASE_URL` (default: a new SQLite file in a temporary
//! directory with `synchronous=full`; `BENCH_SQLITE_SYNC` changes that), `BENCH_INSTANCES`
//! (cases per phase, default 500), `BENCH_CONCURRENCY` (driver tasks of the phases after the
//! first, one phase per number of a comma- or space-separated list, e.g. `8,32,64`; default 8;
//! numbers ≤ 1 are skipped).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use onetrip_app::App;
use onetrip_app::cases::{
    ApplicantFacts, ApplicationInput, ApplicationTarget, ApplyChannel, CaseActor, CaseCommand,
};
use onetrip_app::resolution::Applicant;
use onetrip_domain::case::Outcome;
use onetrip_domain::form::FormValues;
use onetrip_domain::identifiers::DivisionCode;
use onetrip_domain::identity::{AccountId, RoleGrant, StaffRole};

mod support;

use support::{demo_app, env_or, ms, percentile, runtime};

/// 社会保障卡申领: no process steps in the catalog, so one review step (审查决定).
const ITEM: &str = "113301000354023845200030002000";
/// Its department, the city's human resources and social security bureau.
const DEPARTMENT: &str = "113301000354023845";

fn chen() -> ApplicantFacts {
    ApplicantFacts {
        applicant: Applicant::Person("330102198503140138".into()),
        name: "陈志明".into(),
        account: Some(AccountId::new("bench-chen")),
    }
}

/// A department officer; intake and review are done by two of them (收受分离).
fn officer(id: &str) -> CaseActor {
    CaseActor::Staff {
        id: AccountId::new(id),
        roles: vec![RoleGrant {
            role: StaffRole::DepartmentOfficer,
            division: DivisionCode::parse("330100").unwrap(),
            department: Some(DEPARTMENT.into()),
        }],
    }
}

/// The application, its photo (the one material the demo's shared data does not hold for
/// Chen) uploaded by Chen first.
async fn input(app: &App) -> ApplicationInput {
    let applicant = CaseActor::Applicant {
        account: AccountId::new("bench-chen"),
        subject: Some("330102198503140138".into()),
    };
    let photo = app
        .upload_file(
            &applicant,
            "photo.jpg",
            bytes::Bytes::from_static(b"\xFF\xD8\xFF\xE0 photo"),
            Timestamp::now(),
        )
        .await
        .unwrap();
    ApplicationInput {
        target: ApplicationTarget::Item {
            code: ITEM.into(),
            situation: Some("S01".into()),
        },
        answers: FormValues::new(),
        form: FormValues::new(),
        uploads: [(
            format!("{ITEM}.M03"),
            onetrip_app::uploads::file_ref(&photo),
        )]
        .into(),
    }
}

/// Submits `n` single-case applications from 8 tasks; returns their case numbers.
async fn create_cases(app: &App, n: usize) -> Vec<String> {
    let input = Arc::new(input(app).await);
    let per_task = n.div_ceil(8);
    let mut tasks = Vec::new();
    for t in 0..8 {
        let (app, input) = (app.clone(), input.clone());
        let count = per_task.min(n.saturating_sub(t * per_task));
        tasks.push(tokio::spawn(async move {
            let mut numbers = Vec::with_capacity(count);
            for _ in 0..count {
                let submitted = app
                    .submit_application(
                        &chen(),
                        None,
                        &input,
                        ApplyChannel::Web,
                        None,
                        None,
                        Timestamp::now(),
                    )
                    .await
                    .unwrap();
                numbers.push(submitted.cases[0].number.clone());
            }
            numbers
        }));
    }
    let mut numbers = Vec::with_capacity(n);
    for t in tasks {
        numbers.extend(t.await.unwrap());
    }
    numbers
}

/// The three durable transitions of one case.
async fn approve(app: &App, intake: &CaseActor, reviewer: &CaseActor, number: &str) {
    let commands = [
        (intake, CaseCommand::Accept),
        (
            reviewer,
            CaseCommand::CompleteStep {
                stage: 0,
                step: 0,
                opinion: "材料齐全，符合条件".into(),
            },
        ),
        (
            reviewer,
            CaseCommand::Decide {
                outcome: Outcome::Approved,
            },
        ),
    ];
    let mut last = None;
    for (actor, command) in commands {
        last = Some(
            app.act_on_case(actor, number, command, None, Timestamp::now())
                .await
                .unwrap_or_else(|e| panic!("{number}: {e:?}")),
        );
    }
    let view = last.unwrap();
    assert_eq!(
        (view.state.as_str(), view.events),
        ("approved", 4),
        "{number}"
    );
}

/// Drives `numbers` through the process from `concurrency` tasks; returns the elapsed time and
/// the per-case latencies, sorted.
async fn drive(app: &App, numbers: Vec<String>, concurrency: usize) -> (Duration, Vec<Duration>) {
    let numbers = Arc::new(numbers);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (app, numbers, next) = (app.clone(), numbers.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let (intake, reviewer) = (officer("bench-intake"), officer("bench-reviewer"));
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(number) = numbers.get(i) else { break };
                let t = Instant::now();
                approve(&app, &intake, &reviewer, number).await;
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::with_capacity(numbers.len());
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed();
    latencies.sort();
    (elapsed, latencies)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let sync = std::env::var("BENCH_SQLITE_SYNC").unwrap_or_else(|_| "full".into());
    let url = std::env::var("ONETRIP_BENCH_DATABASE_URL").unwrap_or_else(|_| {
        format!(
            "sqlite://{}?synchronous={sync}",
            dir.path().join("bench.db").display()
        )
    });
    let instances = env_or("BENCH_INSTANCES", 500) as usize;
    let concurrency: Vec<usize> = std::env::var("BENCH_CONCURRENCY")
        .unwrap_or_else(|_| "8".into())
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().expect("BENCH_CONCURRENCY: numbers"))
        .collect();
    runtime().block_on(async move {
        let app = demo_app(&url).await;
        println!("backend: {:?}", app.db.backend());
        let mut phases = vec![1];
        phases.extend(concurrency.into_iter().filter(|&c| c > 1));
        for c in phases {
            let numbers = create_cases(&app, instances).await;
            let before = app.db.writer_stats();
            let (elapsed, lat) = drive(&app, numbers, c).await;
            if let (Some(b), Some(a)) = (before, app.db.writer_stats()) {
                let (jobs, commits) = (a.jobs - b.jobs, a.batches - b.batches);
                println!(
                    "writer x{c}: {jobs} transitions in {commits} commits (mean {:.2} per commit)",
                    jobs as f64 / commits.max(1) as f64
                );
            }
            let rate = instances as f64 / elapsed.as_secs_f64();
            println!(
                "onetrip x{c}: {instances} instances in {:.2}s = {rate:.1} instances/s ({:.1} transitions/s), per instance p50={:.3}ms p99={:.3}ms",
                elapsed.as_secs_f64(),
                rate * 3.0,
                ms(percentile(&lat, 0.5)),
                ms(percentile(&lat, 0.99)),
            );
        }
    });
}
