//! Material resolution (一证通办) with what it keeps in memory: grants are checked in the
//! database on every resolution, so a revocation or an expiry through any replica refuses the
//! very next read; a data resource changed through another replica counts at once; a new item
//! version published through this replica is resolved at once; every read still writes its
//! access-log row.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use jiff::Timestamp;
use onetrip_app::App;
use onetrip_app::resolution::{Applicant, ApplicationResolution, RequestedItem};
use onetrip_app::sharing::DataActor;
use onetrip_domain::resolution::{Gap, MaterialStatus, ResolvedSource};
use onetrip_domain::sharing::{AccessOutcome, Consumer, SharingType};
use onetrip_store::AccessLogFilter;

/// The demo citizen (demo data only).
const PERSON_RID: &str = "330102198503140138";
/// 存量房买卖转移登记: two certificates and four shared data reads (situation S01).
const RESALE_TRANSFER: &str = "113301000839917858070040001001";

async fn two_replicas() -> (tempfile::TempDir, App, App) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let a = App::connect(&url).await.unwrap();
    a.load_demo_if_empty(Timestamp::now()).await.unwrap();
    let b = App::connect(&url).await.unwrap();
    (dir, a, b)
}

async fn resolve(app: &App, case: &str) -> ApplicationResolution {
    app.resolve_materials(
        &Applicant::Person(PERSON_RID.into()),
        &[RequestedItem {
            item: RESALE_TRANSFER.into(),
            situation: Some("S01".into()),
        }],
        Some(case),
        Timestamp::now(),
    )
    .await
    .unwrap()
}

/// The status and, when refused, the refusal code of the material read from `resource`.
fn data_material(r: &ApplicationResolution, resource: &str) -> (MaterialStatus, Option<String>) {
    for m in &r.items[0].materials {
        match (&m.source, &m.gap) {
            (Some(ResolvedSource::SharedData { resource: s }), _) if s == resource => {
                return (m.status, None);
            }
            (
                _,
                Some(Gap::AccessRefused {
                    resource: s,
                    refusal,
                }),
            ) if s == resource => {
                return (m.status, Some(refusal.clone()));
            }
            (_, Some(Gap::NoRecord { resource: s })) if s == resource => {
                return (m.status, Some("no_record".into()));
            }
            _ => {}
        }
    }
    panic!("no material from {resource}: {r:#?}")
}

/// The access-log rows of `case`, oldest first, as (resource, outcome, refusal).
async fn logged(app: &App, case: &str) -> Vec<(String, AccessOutcome, Option<String>)> {
    let mut rows: Vec<_> = app
        .db
        .access_log(&AccessLogFilter {
            subject: Some(PERSON_RID.into()),
            limit: 1000,
            ..AccessLogFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.case_ref.as_deref() == Some(case))
        .map(|e| (e.resource, e.outcome, e.refusal))
        .collect();
    rows.reverse();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_revoked_through_another_replica_refuses_the_next_resolution() {
    let (_dir, a, b) = two_replicas().await;
    let first = resolve(&a, "RE-1").await;
    assert!(first.complete, "{first:#?}");
    assert_eq!(
        data_material(&first, "ZJ_MARRIAGE_RECORD").0,
        MaterialStatus::Resolved
    );
    let rows = logged(&a, "RE-1").await;
    assert_eq!(rows.len(), 4, "one row per read: {rows:?}");
    assert!(rows.iter().all(|(_, o, _)| *o == AccessOutcome::Allowed));

    // Replica b revokes the item's marriage grant: replica a refuses at once.
    let consumer = Consumer::Item(RESALE_TRANSFER.into());
    let grants =
        b.db.grants(Some(&consumer), Some("ZJ_MARRIAGE_RECORD"))
            .await
            .unwrap();
    assert_eq!(grants.len(), 1);
    b.revoke_data_grant(&DataActor::Operator, &grants[0].id, Timestamp::now())
        .await
        .unwrap();
    let second = resolve(&a, "RE-2").await;
    assert_eq!(
        data_material(&second, "ZJ_MARRIAGE_RECORD"),
        (MaterialStatus::Missing, Some("data_grant_revoked".into()))
    );
    assert_eq!(
        data_material(&second, "ZJ_HOUSEHOLD_RECORD").0,
        MaterialStatus::Resolved
    );
    let rows = logged(&a, "RE-2").await;
    assert_eq!(rows.len(), 4, "refused reads are logged too: {rows:?}");
    assert!(rows.contains(&(
        "ZJ_MARRIAGE_RECORD".into(),
        AccessOutcome::Refused,
        Some("data_grant_revoked".into())
    )));
    assert_eq!(
        rows.iter()
            .filter(|(_, o, _)| *o == AccessOutcome::Allowed)
            .count(),
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_grant_and_a_changed_resource_count_at_once() {
    let (_dir, a, b) = two_replicas().await;
    assert!(resolve(&a, "RE-1").await.complete);
    let consumer = Consumer::Item(RESALE_TRANSFER.into());

    // The tax grant expires (its last day moved to the past, as an administrator would).
    let tax =
        b.db.grants(Some(&consumer), Some("HZ_DEED_TAX_RECORD"))
            .await
            .unwrap();
    b.db.set_grant_valid_until(&tax[0].id, jiff::civil::date(2020, 1, 1))
        .await
        .unwrap();
    let r = resolve(&a, "RE-2").await;
    assert_eq!(
        data_material(&r, "HZ_DEED_TAX_RECORD"),
        (MaterialStatus::Missing, Some("data_grant_expired".into()))
    );

    // Replica b stops sharing the household resource: replica a, which has decoded it
    // already, sees the new document on its next resolution.
    let mut household = b.data_resource("ZJ_HOUSEHOLD_RECORD").await.unwrap();
    assert_ne!(household.sharing, SharingType::NotShared);
    household.sharing = SharingType::NotShared;
    b.put_data_resource(&DataActor::Operator, household, Timestamp::now())
        .await
        .unwrap();
    let r = resolve(&a, "RE-3").await;
    assert_eq!(
        data_material(&r, "ZJ_HOUSEHOLD_RECORD"),
        (
            MaterialStatus::Missing,
            Some("data_resource_not_shared".into())
        )
    );
    assert_eq!(
        data_material(&r, "ZJ_MARRIAGE_RECORD").0,
        MaterialStatus::Resolved
    );
    let rows = logged(&a, "RE-3").await;
    assert_eq!(rows.len(), 4, "{rows:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_item_version_is_resolved_at_once_by_its_publisher() {
    let (_dir, a, _b) = two_replicas().await;
    let before = resolve(&a, "RE-1").await;
    let mut item = a.item(RESALE_TRANSFER).await.unwrap().item().unwrap();
    assert_eq!(before.items[0].item_name, item.name);
    item.name = format!("{}（新版）", item.name);
    let (version, changed) = a
        .publish_item(RESALE_TRANSFER, item.clone(), Timestamp::now())
        .await
        .unwrap();
    assert!(changed && version == 2);
    let after = resolve(&a, "RE-2").await;
    assert_eq!(after.items[0].item_name, item.name);
    assert!(after.complete);
}
