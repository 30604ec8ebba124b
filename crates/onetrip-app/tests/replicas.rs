//! Two replicas on one database: a catalog change made through one reaches the other's search
//! index through `refresh_search_index`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use onetrip_app::App;
use onetrip_app::catalog::ItemQuery;

fn query(text: &str) -> ItemQuery {
    ItemQuery {
        text: Some(text.to_string()),
        limit: 20,
        ..ItemQuery::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_one_replica_reaches_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let a = App::connect(&url).await.unwrap();
    assert!(a.load_demo_if_empty(jiff::Timestamp::now()).await.unwrap());
    let b = App::connect(&url).await.unwrap();
    assert_eq!(
        b.refresh_search_index().await.unwrap(),
        0,
        "b is current after its start"
    );

    let found = a.find_items(&query("结婚登记")).await.unwrap();
    let code = found.items[0].summary.implementation_code.clone();
    assert_eq!(b.item(&code).await.unwrap().version, 1);
    let mut item = a.item(&code).await.unwrap().item().unwrap();
    item.name = "结婚登记（跨省通办试点）".to_string();
    item.keywords.push("鹊桥专窗".to_string());
    let (version, changed) = a
        .publish_item(&code, item, jiff::Timestamp::now())
        .await
        .unwrap();
    assert!(changed && version == 2);

    assert!(a.find_items(&query("鹊桥专窗")).await.unwrap().total == 1);
    assert_eq!(
        a.item(&code).await.unwrap().version,
        2,
        "the publisher reads its own write"
    );
    assert_eq!(
        b.item(&code).await.unwrap().version,
        1,
        "b has v1 cached until it refreshes"
    );
    assert_eq!(
        b.find_items(&query("鹊桥专窗")).await.unwrap().total,
        0,
        "not yet seen by b"
    );
    assert_eq!(b.refresh_search_index().await.unwrap(), 1);
    let hits = b.find_items(&query("鹊桥专窗")).await.unwrap();
    assert_eq!(hits.total, 1);
    assert_eq!(hits.items[0].summary.implementation_code, code);
    assert_eq!(hits.items[0].summary.version, 2);
    assert_eq!(
        b.item(&code).await.unwrap().version,
        2,
        "the refresh evicted the cached v1"
    );
    // Nothing new: nothing re-indexed.
    assert_eq!(b.refresh_search_index().await.unwrap(), 0);
}
