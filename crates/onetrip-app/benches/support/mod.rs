//! Helpers shared by the whole-flow benchmarks (not a bench target itself).

use std::time::Duration;

/// An integer from the environment, or `default`.
pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `p` quantile (0–1) of sorted latencies.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A multi-threaded Tokio runtime for a bench's `main`.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The app on `url` with the demo catalog loaded (when the database is empty) and shared-data
/// rate limits lifted: they are policy, not capacity, and the benches' items read a lot.
pub async fn demo_app(url: &str) -> onetrip_app::App {
    let app = onetrip_app::App::connect(url)
        .await
        .unwrap()
        .with_sharing_config(onetrip_app::sharing::SharingConfig {
            rate_per_second: 1_000_000,
            burst: 1_000_000,
            ..onetrip_app::sharing::SharingConfig::default()
        });
    app.load_demo_if_empty(jiff::Timestamp::now())
        .await
        .unwrap();
    app
}
