//! Whole-flow benchmark of material resolution (一证通办) on a large registry.
//!
//! Not a criterion bench: it measures the latency percentiles and the throughput of one use
//! case, `App::resolve_materials`, against a real database, and, in the same run, the ceiling
//! it is built from: one indexed registry read. Run it through `bench/resolution.sh`, which
//! builds the 10-million-person registries first.
//!
//! Environment: `ONETRIP_BENCH_DATABASE_URL` (required; a registry made by `onetrip generate`),
//! `BENCH_SAMPLE` (applicants, default 2000), `BENCH_SECONDS` (throughput phase, default 10),
//! `BENCH_CONCURRENCY` (tasks in the throughput phase, default 16).
//!
//! The application resolved is the resale-flat transfer (存量房买卖转移登记, situation S01): two
//! certificates of the applicant (ID card, real-estate certificate) and four shared data reads
//! through the item's grants — contract and tax records pushed by their providers, marriage and
//! household data from the population registry — each read written to the access log.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use onetrip_app::App;
use onetrip_app::resolution::{Applicant, RequestedItem};
use onetrip_app::sharing::SharingConfig;

const RESALE_TRANSFER: &str = "113301000839917858070040001001";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(label: &str, mut lat: Vec<Duration>, elapsed: Duration) {
    lat.sort();
    println!(
        "{label}: n={} rate={:.0}/s p50={:.3}ms p90={:.3}ms p99={:.3}ms max={:.3}ms",
        lat.len(),
        lat.len() as f64 / elapsed.as_secs_f64(),
        ms(percentile(&lat, 0.50)),
        ms(percentile(&lat, 0.90)),
        ms(percentile(&lat, 0.99)),
        ms(*lat.last().unwrap()),
    );
}

fn main() {
    let Ok(url) = std::env::var("ONETRIP_BENCH_DATABASE_URL") else {
        eprintln!(
            "resolution bench: set ONETRIP_BENCH_DATABASE_URL (see bench/resolution.sh); skipped"
        );
        return;
    };
    let sample = env_or("BENCH_SAMPLE", 2000) as usize;
    let seconds = env_or("BENCH_SECONDS", 10);
    let concurrency = env_or("BENCH_CONCURRENCY", 16) as usize;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        // Rate limits are policy, not capacity: one item is the consumer of every read here.
        let app = App::connect(&url)
            .await
            .unwrap()
            .with_sharing_config(SharingConfig {
                rate_per_second: 1_000_000,
                burst: 1_000_000,
                ..SharingConfig::default()
            });
        let now = Timestamp::now();
        app.load_demo_if_empty(now).await.unwrap();
        let persons = app.db.registry_counts().await.unwrap().persons;
        println!("backend={:?} registry persons={persons}", app.db.backend());
        let applicants = prepare::applicants(&app, sample, now).await;
        let today = onetrip_app::sharing::china_today(now);
        let items = [RequestedItem {
            item: RESALE_TRANSFER.into(),
            situation: Some("S01".into()),
        }];

        // Sanity: the prepared applicants resolve completely.
        let r = app
            .resolve_materials(
                &Applicant::Person(applicants[0].clone()),
                &items,
                Some("BENCH"),
                today,
            )
            .await
            .unwrap();
        assert!(r.complete, "prepared applicant does not resolve: {r:#?}");

        // Ceiling: one indexed registry read, sequential.
        let mut lat = Vec::with_capacity(applicants.len());
        let start = Instant::now();
        for rid in &applicants {
            let t = Instant::now();
            app.db.registry_person(rid).await.unwrap().unwrap();
            lat.push(t.elapsed());
        }
        summary(
            "ceiling: one registry read, sequential",
            lat,
            start.elapsed(),
        );

        // Latency: one resolution at a time.
        let mut lat = Vec::with_capacity(applicants.len());
        let start = Instant::now();
        for rid in &applicants {
            let t = Instant::now();
            let r = app
                .resolve_materials(
                    &Applicant::Person(rid.clone()),
                    &items,
                    Some("BENCH"),
                    today,
                )
                .await
                .unwrap();
            lat.push(t.elapsed());
            assert!(r.complete);
        }
        summary("resolution, sequential", lat, start.elapsed());

        // Throughput: `concurrency` tasks for `seconds`.
        let app = Arc::new(app);
        let applicants = Arc::new(applicants);
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for t in 0..concurrency {
            let (app, applicants, stop, done) =
                (app.clone(), applicants.clone(), stop.clone(), done.clone());
            let items = items.clone();
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut i = t;
                while !stop.load(Ordering::Relaxed) {
                    let rid = &applicants[i % applicants.len()];
                    let t0 = Instant::now();
                    app.resolve_materials(
                        &Applicant::Person(rid.clone()),
                        &items,
                        Some("BENCH"),
                        today,
                    )
                    .await
                    .unwrap();
                    lat.push(t0.elapsed());
                    done.fetch_add(1, Ordering::Relaxed);
                    i += concurrency;
                }
                lat
            }));
        }
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        stop.store(true, Ordering::Relaxed);
        let mut lat = Vec::new();
        for t in tasks {
            lat.extend(t.await.unwrap());
        }
        summary(
            &format!("resolution, {concurrency} concurrent"),
            lat,
            start.elapsed(),
        );
    });
}

mod prepare {
    use super::*;

    /// `n` adult, living applicants spread over the registry, each with an ID card and a
    /// real-estate certificate and with contract and tax records at their providers (made once;
    /// a second run finds them).
    pub async fn applicants(app: &App, n: usize, now: Timestamp) -> Vec<String> {
        let _ = (app, n, now);
        unimplemented!("filled in when certificates and registries are merged")
    }
}
