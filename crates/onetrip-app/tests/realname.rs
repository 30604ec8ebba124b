//! Real-name verification (assurance L2) against the demo population registry, on SQLite.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use jiff::Timestamp;
use jiff::civil::{Date, date};
use onetrip_app::accounts::RegisterPerson;
use onetrip_app::{App, AppError};
use onetrip_domain::Localized;
use onetrip_domain::identifiers::resident_id_check_char;
use onetrip_domain::identity::{AccountId, AssuranceLevel};
use secrecy::SecretString;

/// 周浩然, active in the demo registry.
const ACTIVE_RID: &str = "330106198806090575";
/// 买买提·艾力, active in the demo registry.
const MINORITY_RID: &str = "33010619870318275X";
/// 高德福, deceased in the demo registry.
const DECEASED_RID: &str = "330105193404122934";

fn today() -> Date {
    date(2026, 11, 21)
}

fn now() -> Timestamp {
    "2026-11-21T02:00:00Z".parse().unwrap()
}

async fn app() -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let app = App::connect(&url).await.unwrap();
    assert!(app.load_demo_if_empty(now()).await.unwrap());
    (dir, app)
}

async fn register(app: &App, resident_id: &str, name: &str) -> AccountId {
    register_other(app, resident_id, name, "13800138000").await
}

async fn stored_level(app: &App, id: &AccountId) -> AssuranceLevel {
    app.db
        .person_by_id(id.as_str())
        .await
        .unwrap()
        .unwrap()
        .assurance_level
}

fn assert_mismatch(e: AppError) {
    assert!(matches!(e, AppError::RealNameMismatch), "{e:?}");
    assert_eq!(e.code(), "real_name_mismatch");
}

#[tokio::test]
async fn demo_registry_is_seeded_once() {
    let (_dir, app) = app().await;
    let n = app.db.population_count().await.unwrap();
    assert!(n >= 25, "{n}");
    assert!(!app.load_demo_population_if_empty().await.unwrap());
    assert_eq!(app.db.population_count().await.unwrap(), n);
}

#[tokio::test]
async fn matching_person_reaches_l2() {
    let (_dir, app) = app().await;
    let id = register(&app, ACTIVE_RID, " 周浩然 ").await;
    assert_eq!(stored_level(&app, &id).await, AssuranceLevel::L1);
    assert_eq!(
        app.verify_real_name(&id, now()).await.unwrap(),
        AssuranceLevel::L2
    );
    assert_eq!(stored_level(&app, &id).await, AssuranceLevel::L2);
    // Verifying again is harmless.
    assert_eq!(
        app.verify_real_name(&id, now()).await.unwrap(),
        AssuranceLevel::L2
    );
}

#[tokio::test]
async fn minority_name_matches_with_either_middle_dot() {
    let (_dir, app) = app().await;
    let id = register(&app, MINORITY_RID, "买买提•艾力").await;
    assert_eq!(
        app.verify_real_name(&id, now()).await.unwrap(),
        AssuranceLevel::L2
    );
}

#[tokio::test]
async fn wrong_name_is_a_mismatch_and_changes_nothing() {
    let (_dir, app) = app().await;
    let id = register(&app, ACTIVE_RID, "周浩").await;
    let e = app.verify_real_name(&id, now()).await.unwrap_err();
    let (zh, en) = (e.message_zh(), e.message_en());
    assert_mismatch(e);
    assert_eq!(stored_level(&app, &id).await, AssuranceLevel::L1);
    for text in [zh, en] {
        assert!(!text.contains("周浩"), "{text}");
        assert!(!text.contains(ACTIVE_RID), "{text}");
    }
}

#[tokio::test]
async fn unknown_id_and_deceased_give_the_same_refusal() {
    let (_dir, app) = app().await;
    let first17 = "33010619900101123";
    let unknown = format!("{first17}{}", resident_id_check_char(first17).unwrap());
    let a = register(&app, &unknown, "周浩然").await;
    let wrong_name = app
        .verify_real_name(
            &register_other(&app, ACTIVE_RID, "周浩", "13900139000").await,
            now(),
        )
        .await
        .unwrap_err();
    let not_found = app.verify_real_name(&a, now()).await.unwrap_err();
    let deceased_id = register_other(&app, DECEASED_RID, "高德福", "13700137000").await;
    let deceased = app.verify_real_name(&deceased_id, now()).await.unwrap_err();
    for e in [&not_found, &deceased] {
        assert_eq!(e.code(), wrong_name.code());
        assert_eq!(e.message_zh(), wrong_name.message_zh());
        assert_eq!(e.message_en(), wrong_name.message_en());
    }
    assert_mismatch(not_found);
    assert_mismatch(deceased);
    assert_eq!(stored_level(&app, &a).await, AssuranceLevel::L1);
    assert_eq!(stored_level(&app, &deceased_id).await, AssuranceLevel::L1);
}

async fn register_other(app: &App, resident_id: &str, name: &str, phone: &str) -> AccountId {
    support::register(
        app,
        RegisterPerson {
            resident_id: resident_id.to_string(),
            name: name.to_string(),
            phone: phone.to_string(),
            password: SecretString::from("Lianhua-Qiao7#".to_string()),
            sms_code: String::new(),
        },
        today(),
        now(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn l3_stays_l3() {
    let (_dir, app) = app().await;
    let id = register(&app, ACTIVE_RID, "周浩然").await;
    assert!(
        app.db
            .set_assurance_level(id.as_str(), AssuranceLevel::L3)
            .await
            .unwrap()
    );
    assert_eq!(
        app.verify_real_name(&id, now()).await.unwrap(),
        AssuranceLevel::L3
    );
    assert_eq!(stored_level(&app, &id).await, AssuranceLevel::L3);
}

#[tokio::test]
async fn unknown_account_is_not_found() {
    let (_dir, app) = app().await;
    let e = app
        .verify_real_name(&AccountId::new("nope"), now())
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            AppError::NotFound {
                kind: "account",
                ..
            }
        ),
        "{e:?}"
    );
}
