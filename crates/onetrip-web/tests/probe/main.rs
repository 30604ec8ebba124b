#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
#[tokio::test]
async fn probe() {
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("x.db").display());
        let app = onetrip_app::App::connect(&url).await.unwrap();
        let t1 = t.elapsed();
        app.load_demo_if_empty(jiff::Timestamp::now())
            .await
            .unwrap();
        let t2 = t.elapsed();
        app.db.close().await;
        let app2 = onetrip_app::App::connect(&url).await.unwrap();
        let t3 = t.elapsed();
        eprintln!(
            "connect {t1:?} load {t2:?} reopen {t3:?} {}",
            app2.db.item_count().await.unwrap()
        );
    }
}
