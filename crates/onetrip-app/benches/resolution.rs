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

const RESALE_TRANSFER: &str = "113301000839917858070040001001";

mod support;

use support::{demo_app, env_or, ms, percentile, runtime};

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
    runtime().block_on(async move {
        let app = demo_app(&url).await;
        let now = Timestamp::now();
        let persons = app.db.registry_counts().await.unwrap().persons;
        println!("backend={:?} registry persons={persons}", app.db.backend());
        let applicants = prepare::applicants(&app, sample, now).await;
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
                now,
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
                .resolve_materials(&Applicant::Person(rid.clone()), &items, Some("BENCH"), now)
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
                        now,
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
    use onetrip_app::certificates::{CertificateActor, IssueRequest};
    use onetrip_domain::certificate::HolderKind;
    use serde_json::{Map, Value, json};

    use super::*;

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("object literal"),
        }
    }

    /// `n` adult, living applicants spread over the registry, each with an ID card and a
    /// real-estate certificate and with contract and tax records at their providers (made once;
    /// a second run finds them).
    pub async fn applicants(app: &App, n: usize, now: Timestamp) -> Vec<String> {
        let today = onetrip_app::china_today(now);
        let adult = today.checked_sub(jiff::Span::new().years(18)).unwrap();
        // Adults from every county of the registry, in proportion to nothing but n.
        let counties = onetrip_domain::registry::counties();
        let per_county = n.div_ceil(counties.len());
        let mut picked = Vec::with_capacity(n);
        for county in counties {
            let page = app
                .db
                .registry_persons_page(Some(county.code.as_str()), (per_county * 4) as u32)
                .await
                .unwrap();
            picked.extend(
                page.into_iter()
                    .filter(|p| p.death_date.is_none() && p.birth_date <= adult)
                    .take(per_county),
            );
        }
        picked.truncate(n);
        assert!(
            !picked.is_empty(),
            "the registry has no adults: run onetrip generate first"
        );
        let started = Instant::now();
        let mut made = 0;
        for p in &picked {
            let held = app
                .db
                .holder_certificates(HolderKind::Person, &p.resident_id, today)
                .await
                .unwrap();
            if !held.is_empty() {
                continue;
            }
            let address = format!(
                "浙江省{}某街道{}号",
                p.division_code.as_str(),
                made % 300 + 1
            );
            let issue = |certificate_type: &str, content: Value| IssueRequest {
                certificate_type: certificate_type.into(),
                holder_kind: HolderKind::Person,
                holder_id: p.resident_id.clone(),
                content: object(content),
                issued_on: None,
            };
            app.issue_certificate(
                &CertificateActor::System,
                issue(
                    "ID_CARD",
                    json!({"name": p.name, "sex": p.sex.name_zh(), "ethnicity": "汉",
                           "birth_date": p.birth_date.to_string(), "address": address,
                           "resident_id": p.resident_id}),
                ),
                None,
                now,
            )
            .await
            .unwrap();
            app.issue_certificate(
                &CertificateActor::System,
                issue(
                    "REAL_ESTATE_CERT",
                    json!({"name": p.name, "resident_id": p.resident_id,
                           "certificate_number": format!("浙(2020)杭州市不动产权第{:07}号", made),
                           "location": address, "unit_number": format!("330106{:06}GB00001F0001", made),
                           "area_m2": 89, "usage": "住宅", "ownership": "单独所有"}),
                ),
                None,
                now,
            )
            .await
            .unwrap();
            let record = |v: Value| object(v);
            app.db
                .put_data_record(
                    "HZ_RESALE_CONTRACT",
                    &p.resident_id,
                    &record(json!({"resident_id": p.resident_id, "name": p.name,
                                   "contract_no": format!("CL2026-{made:06}"),
                                   "property_address": address, "floor_area": 89,
                                   "total_price": 300_000_000, "signed_on": "2026-11-02",
                                   "seller_name": "王建国"})),
                    now,
                )
                .await
                .unwrap();
            app.db
                .put_data_record(
                    "HZ_DEED_TAX_RECORD",
                    &p.resident_id,
                    &record(json!({"resident_id": p.resident_id, "name": p.name,
                                   "property_address": address, "tax_amount": 9_000_000,
                                   "paid_on": "2026-11-16",
                                   "voucher_no": format!("3330162611{made:08}")})),
                    now,
                )
                .await
                .unwrap();
            made += 1;
        }
        println!(
            "prepared {} applicants ({made} new, {:.1} s)",
            picked.len(),
            started.elapsed().as_secs_f64()
        );
        picked.into_iter().map(|p| p.resident_id).collect()
    }
}
