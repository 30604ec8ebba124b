//! The HTTP peer for `bench/http.sh` and `bench/startup.sh`: the smallest axum server, on the same
//! tokio runtime flavour as `onetrip serve` (multi-thread), answering `GET /` with `{"ok":true}`.
//! It is the ceiling for request throughput and the floor for resident memory.
//!
//! Usage: `cargo run --release -p onetrip-web --example trivial -- 127.0.0.1:0`
//! Prints `listening on http://ADDR/` once it accepts connections.
#![allow(missing_docs)]

use std::net::SocketAddr;

use axum::Router;
use axum::http::header;
use axum::routing::get;

async fn ok() -> ([(header::HeaderName, &'static str); 1], &'static str) {
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"ok":true}"#,
    )
}

/// Ctrl-C or SIGTERM, like `onetrip serve`.
async fn shutdown() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = async {
            match term.as_mut() {
                Some(t) => { t.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {},
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_string())
        .parse()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{}/", listener.local_addr()?);
    let app = Router::new().route("/", get(ok)).route("/readyz", get(ok));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown())
        .await?;
    Ok(())
}
