//! Storage contract suite: every test is written once against [`Db`] and runs on SQLite always
//! and on PostgreSQL whenever `ONETRIP_TEST_DATABASE_URL` is set (each test in its own schema).
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(missing_docs)]

use std::collections::BTreeSet;

use jiff::Timestamp;
use jiff::civil::date;
use onetrip_domain::catalog::{
    Catalog, Channel, Contacts, DeliveryMethod, Department, Division, Fee, HandlingKind,
    ItemStatus, ItemType, KnownCodes, LifeEvent, Material, MaterialForm, MaterialSource,
    OnlineDepth, ProcessStep, ResultSpec, ResultType, ServiceItem, ServiceObject, Situation,
    validate_catalog,
};
use onetrip_domain::identifiers::{
    CreditCode, DivisionCode, credit_code_check_char, organisation_code_check_char,
};
use onetrip_domain::identity::{AccountKind, AssuranceLevel, RoleGrant, StaffRole};
use onetrip_store::testing::TestDb;
use onetrip_store::{
    AuthEvent, Backend, Db, ItemFilter, ItemSummary, NewPerson, NewStaff, OrganisationRow,
    OtpChallengeRow, PopulationRow, PopulationStatus, SaveReport, SmsMessageRow, StoreError,
};

#[path = "contract/registry.rs"]
mod registry;
use registry::*;
#[path = "contract/writes.rs"]
mod writes;
use writes::*;
#[path = "contract/workbench.rs"]
mod workbench;
use workbench::*;
#[path = "contract/uploads.rs"]
mod uploads;
use uploads::*;

// ---------------------------------------------------------------------------------------------
// The harness: one `#[tokio::test]` per backend for every contract test.
// ---------------------------------------------------------------------------------------------

/// Runs the contract body on a clone of the database inside a task, so that a failing assertion
/// still lets the database be cleaned up before the panic is passed on.
async fn run_contract<F, Fut>(test: TestDb, body: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let outcome = tokio::spawn(body(test.db.clone())).await;
    test.cleanup().await.expect("cleanup");
    if let Err(e) = outcome {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("contract task failed: {e}");
    }
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let test = onetrip_store::testing::TestDb::sqlite().await.expect("sqlite test db");
                    assert_eq!(test.db.backend(), onetrip_store::Backend::Sqlite);
                    super::run_contract(test, |db| async move { super::$name(&db).await }).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(test) = onetrip_store::testing::TestDb::postgres().await.expect("postgres test db") else {
                        println!(
                            "skipped postgres::{}: {} is unset",
                            stringify!($name),
                            onetrip_store::testing::TEST_DATABASE_URL,
                        );
                        return;
                    };
                    assert_eq!(test.db.backend(), onetrip_store::Backend::Postgres);
                    super::run_contract(test, |db| async move { super::$name(&db).await }).await;
                }
            )*
        }
    };
}

contract!(
    fixture_is_a_valid_catalog,
    ping_answers,
    migrate_twice_is_idempotent,
    empty_database_reads_nothing,
    catalog_round_trip,
    save_catalog_reports_counts,
    item_versioning,
    reverting_a_document_makes_a_new_version,
    summary_columns_follow_the_current_version,
    failing_save_catalog_leaves_nothing,
    failing_save_catalog_keeps_previous_state,
    failing_save_item_leaves_nothing,
    handling_codes_are_unique,
    divisions_and_departments_upsert,
    list_items_filters,
    list_items_life_events_match_whole_tags,
    list_items_paging,
    items_by_codes_keeps_requested_order,
    known_codes_lists_everything,
    export_catalog_equals_saved,
    calendar_years_upsert_and_order,
    unicode_round_trips,
    timestamps_keep_microseconds,
    concurrent_saves_of_different_items_all_land,
    concurrent_saves_of_one_item_stay_consistent,
    concurrent_catalog_saves_stay_consistent,
    person_round_trip,
    person_unique_values_are_conflicts,
    person_updates,
    organisation_round_trip_and_references,
    staff_round_trip_and_references,
    sign_in_history_newest_first_with_limit,
    otp_challenge_round_trip_and_counts,
    otp_update_applies_once,
    sms_messages_per_phone_newest_first,
    population_round_trip,
    population_upsert_replaces,
    population_unknown_is_none,
    registry_reads_follow_the_contract,
    registry_joined_reads_match_the_separate_ones,
    registry_upserts_replace_and_keep_the_last_duplicate,
    registry_bulk_insert_of_generated_chunks,
    registry_bulk_load_writes_every_row_and_keeps_the_schema,
    registry_keeps_real_name_rows_working,
    staff_roles_totp_and_disable,
    auth_events_count_failures_per_login_and_ip,
    auth_events_by_method_include_those_without_account,
    sessions_expire_and_delete,
    delegations_round_trip_and_revoke_once,
    oidc_clients_round_trip,
    oidc_codes_are_spent_once,
    oidc_refresh_rotation_is_single_use,
    signing_keys_round_trip,
    certificate_types_round_trip,
    seal_keys_rotate_with_one_active_key,
    certificate_serials_never_repeat,
    certificates_round_trip_list_and_revoke_once,
    data_resources_round_trip_and_search,
    access_requests_and_grants,
    data_records_upsert,
    resources_with_grants_and_records_of_a_subject,
    uploads_are_recorded_once_per_uploader_content_and_name,
    access_log_queries_by_provider_consumer_and_subject,
    concurrent_submissions_get_distinct_case_numbers,
    a_failing_job_in_a_batch_does_not_lose_the_others,
    a_case_conflict_is_still_reported,
    close_finishes_queued_writes,
    window_intake_lists_the_windows_applications_since_newest_first,
    department_queue_filters_by_due_date_and_pages_by_keyset,
);

// ---------------------------------------------------------------------------------------------
// Fixtures.
// ---------------------------------------------------------------------------------------------

const ZHEJIANG: &str = "330000";
const HANGZHOU: &str = "330100";
const XIHU: &str = "330106";

const LIC1: &str = "330100LIC001";
const LIC1_SUB: &str = "330100LIC001A";
const LIC2: &str = "330100LIC002";
const BEN1: &str = "330106BEN001";
const CON1: &str = "330106CON001";

/// A valid unified social credit code of a government body (机关) in `division`.
fn credit_code(division: &str, org8: &str) -> String {
    let org = format!("{org8}{}", organisation_code_check_char(org8).unwrap());
    let first17 = format!("11{division}{org}");
    let code = format!("{first17}{}", credit_code_check_char(&first17).unwrap());
    CreditCode::parse(&code).expect("fixture credit code parses");
    code
}

fn market_bureau() -> String {
    credit_code(HANGZHOU, "00000001")
}

fn civil_affairs() -> String {
    credit_code(XIHU, "00000002")
}

fn ts(second: i64) -> Timestamp {
    Timestamp::from_second(second).unwrap()
}

/// 2026-01-01T00:00:00Z plus `n` minutes.
fn at(n: i64) -> Timestamp {
    ts(1_767_225_600 + n * 60)
}

/// A minimal valid item; tests and the fixture adjust what they need.
fn item(code: &str, name: &str, department: &str, division: &str) -> ServiceItem {
    ServiceItem {
        base_code: "000000000001".to_string(),
        implementation_code: code.to_string(),
        handling_code: None,
        parent_code: None,
        name: name.to_string(),
        name_en: None,
        item_type: ItemType::PublicService,
        legal_basis: vec!["《中华人民共和国行政许可法》第十二条".to_string()],
        department_code: department.to_string(),
        office: None,
        division_code: division.to_string(),
        service_object: ServiceObject::Person,
        acceptance_conditions: Vec::new(),
        handling_kind: HandlingKind::Promised,
        statutory_limit: 20,
        promised_limit: 5,
        min_assurance_level: AssuranceLevel::L2,
        limit_explanation: None,
        fees: Vec::new(),
        online_payment: false,
        channels: vec![Channel::Online, Channel::Window],
        visits: 0,
        visits_reason: None,
        online_depth: OnlineDepth::III,
        process: Vec::new(),
        result: ResultSpec {
            result_type: ResultType::Conclusion,
            name: "办理结果".to_string(),
            certificate_type: None,
        },
        delivery_methods: vec![DeliveryMethod::Electronic],
        contacts: Contacts {
            consultation_phone: "0571-12345".to_string(),
            complaint_phone: "12345".to_string(),
            address: None,
            hours: None,
        },
        life_events: Vec::new(),
        keywords: Vec::new(),
        form: None,
        materials: Vec::new(),
        situations: Vec::new(),
        status: ItemStatus::Active,
        effective_from: None,
        effective_to: None,
    }
}

/// An item with every optional part filled: situations, materials of every source, fees,
/// process, dates, contacts.
fn licensing_item() -> ServiceItem {
    ServiceItem {
        base_code: "00012345600Y".to_string(),
        handling_code: Some("330100LIC00101".to_string()),
        name_en: Some("Food business licence".to_string()),
        item_type: ItemType::Licensing,
        legal_basis: vec![
            "《中华人民共和国食品安全法》第三十五条".to_string(),
            "《食品经营许可和备案管理办法》第二条".to_string(),
        ],
        office: Some("食品经营处".to_string()),
        service_object: ServiceObject::Organisation,
        acceptance_conditions: vec!["具有与经营的食品品种、数量相适应的经营场所".to_string()],
        statutory_limit: 20,
        promised_limit: 10,
        limit_explanation: Some("现场核查时间不计入".to_string()),
        fees: vec![Fee {
            name: "工本费".to_string(),
            amount_fen: 1_000,
            basis: "浙价费〔2020〕1号".to_string(),
        }],
        online_payment: true,
        channels: vec![
            Channel::Online,
            Channel::Mobile,
            Channel::Window,
            Channel::Kiosk,
        ],
        visits: 1,
        visits_reason: Some("现场核查".to_string()),
        online_depth: OnlineDepth::III,
        process: vec![
            ProcessStep {
                name: "受理".to_string(),
                role: Some("窗口".to_string()),
                working_days: 1,
                parallel: false,
            },
            ProcessStep {
                name: "审查".to_string(),
                role: None,
                working_days: 6,
                parallel: false,
            },
            ProcessStep {
                name: "决定".to_string(),
                role: Some("处长".to_string()),
                working_days: 3,
                parallel: false,
            },
        ],
        result: ResultSpec {
            result_type: ResultType::Certificate,
            name: "《食品经营许可证》".to_string(),
            certificate_type: Some("11100000000013338W012".to_string()),
        },
        delivery_methods: vec![
            DeliveryMethod::Pickup,
            DeliveryMethod::Express,
            DeliveryMethod::Electronic,
        ],
        contacts: Contacts {
            consultation_phone: "0571-87654321".to_string(),
            complaint_phone: "12315".to_string(),
            address: Some("杭州市上城区解放东路18号市民中心".to_string()),
            hours: Some("工作日 9:00–17:00".to_string()),
        },
        life_events: vec![LifeEvent::Startup, LifeEvent::Operations],
        keywords: vec!["食品许可证".to_string(), "开饭店".to_string()],
        materials: vec![
            Material {
                id: "M01".to_string(),
                name: "食品经营许可申请书".to_string(),
                required: true,
                form: MaterialForm::Original,
                count: 1,
                source: MaterialSource::Upload,
                deferrable: false,
                notes: Some("法定代表人签字".to_string()),
            },
            Material {
                id: "M02".to_string(),
                name: "营业执照".to_string(),
                required: true,
                form: MaterialForm::Electronic,
                count: 1,
                source: MaterialSource::Certificate {
                    certificate_type: "11100000000013338W001".to_string(),
                },
                deferrable: false,
                notes: None,
            },
            Material {
                id: "M03".to_string(),
                name: "场所平面图".to_string(),
                required: false,
                form: MaterialForm::Copy,
                count: 2,
                source: MaterialSource::SharedData {
                    resource: "R-330100-0042".to_string(),
                },
                deferrable: true,
                notes: None,
            },
            Material {
                id: "M04".to_string(),
                name: "健康证明".to_string(),
                required: true,
                form: MaterialForm::Electronic,
                count: 1,
                source: MaterialSource::BundleOutput {
                    item: BEN1.to_string(),
                },
                deferrable: false,
                notes: None,
            },
        ],
        situations: vec![
            Situation {
                code: "S01".to_string(),
                name: "新办".to_string(),
                conditions: vec!["首次申请".to_string()],
                materials: vec!["M01".to_string(), "M02".to_string(), "M04".to_string()],
                promised_limit: None,
                guide: "首次申请请提交申请书、营业执照和健康证明。".to_string(),
            },
            Situation {
                code: "S02".to_string(),
                name: "变更场所".to_string(),
                conditions: Vec::new(),
                materials: vec!["M01".to_string(), "M03".to_string()],
                promised_limit: Some(5),
                guide: "变更经营场所需提交新场所平面图。".to_string(),
            },
        ],
        effective_from: Some(date(2026, 1, 1)),
        effective_to: Some(date(2030, 12, 31)),
        ..item(LIC1, "食品经营许可", &market_bureau(), HANGZHOU)
    }
}

/// Three divisions, two departments, five items (one a sub-item), sorted by code as the store
/// returns them.
fn fixture() -> Catalog {
    let market = market_bureau();
    let civil = civil_affairs();
    Catalog {
        divisions: vec![
            Division {
                code: ZHEJIANG.to_string(),
                name: "浙江省".to_string(),
                name_en: Some("Zhejiang".to_string()),
            },
            Division {
                code: HANGZHOU.to_string(),
                name: "杭州市".to_string(),
                name_en: Some("Hangzhou".to_string()),
            },
            Division {
                code: XIHU.to_string(),
                name: "西湖区".to_string(),
                name_en: None,
            },
        ],
        departments: vec![
            Department {
                code: market.clone(),
                name: "杭州市市场监督管理局".to_string(),
                name_en: Some("Hangzhou Administration for Market Regulation".to_string()),
                division_code: HANGZHOU.to_string(),
                offices: vec!["登记注册处".to_string(), "食品经营处".to_string()],
            },
            Department {
                code: civil.clone(),
                name: "杭州市西湖区民政局".to_string(),
                name_en: None,
                division_code: XIHU.to_string(),
                offices: Vec::new(),
            },
        ],
        items: vec![
            licensing_item(),
            ServiceItem {
                parent_code: Some(LIC1.to_string()),
                handling_code: Some("330100LIC001A01".to_string()),
                item_type: ItemType::PublicService,
                service_object: ServiceObject::Both,
                life_events: vec![LifeEvent::Startup],
                ..item(LIC1_SUB, "食品经营许可（延续）", &market, HANGZHOU)
            },
            ServiceItem {
                item_type: ItemType::Filing,
                service_object: ServiceObject::Organisation,
                life_events: vec![LifeEvent::Deregistration],
                status: ItemStatus::Suspended,
                ..item(LIC2, "仅销售预包装食品备案", &market, HANGZHOU)
            },
            ServiceItem {
                item_type: ItemType::Benefit,
                life_events: vec![
                    LifeEvent::SpecialGroups,
                    LifeEvent::Retirement,
                    LifeEvent::Funeral,
                ],
                keywords: vec!["高龄津贴".to_string(), "老人补贴👴".to_string()],
                min_assurance_level: AssuranceLevel::L3,
                ..item(BEN1, "高龄老人津贴发放", &civil, XIHU)
            },
            ServiceItem {
                item_type: ItemType::Confirmation,
                handling_kind: HandlingKind::Immediate,
                promised_limit: 0,
                online_depth: OnlineDepth::IV,
                ..item(CON1, "最低生活保障对象认定", &civil, XIHU)
            },
        ],
    }
}

/// The catalog as the store gives it back: every list ordered by code.
fn sorted(mut catalog: Catalog) -> Catalog {
    catalog.divisions.sort_by(|a, b| a.code.cmp(&b.code));
    catalog.departments.sort_by(|a, b| a.code.cmp(&b.code));
    catalog
        .items
        .sort_by(|a, b| a.implementation_code.cmp(&b.implementation_code));
    catalog
}

fn fixture_item(code: &str) -> ServiceItem {
    fixture()
        .items
        .into_iter()
        .find(|i| i.implementation_code == code)
        .unwrap()
}

async fn seed(db: &Db) -> Catalog {
    let catalog = fixture();
    db.save_catalog(&catalog, at(0))
        .await
        .expect("seed catalog");
    catalog
}

fn all() -> ItemFilter {
    ItemFilter {
        limit: 100,
        include_cancelled: true,
        ..ItemFilter::default()
    }
}

async fn codes(db: &Db, filter: ItemFilter) -> Vec<String> {
    let (items, total) = db.list_items(&filter).await.unwrap();
    assert_eq!(
        usize::try_from(total).unwrap(),
        items.len(),
        "total must count every match when the page holds them all"
    );
    items.into_iter().map(|i| i.implementation_code).collect()
}

fn strings(codes: &[&str]) -> Vec<String> {
    codes.iter().map(|c| (*c).to_string()).collect()
}

/// Asserts the version history of `code` is exactly 1..=n, with the current version at n, and
/// returns n.
async fn assert_versions_consistent(db: &Db, code: &str) -> i64 {
    let versions: Vec<i64> = db
        .item_versions(code)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.version)
        .collect();
    let n = i64::try_from(versions.len()).unwrap();
    assert_eq!(
        versions,
        (1..=n).collect::<Vec<_>>(),
        "versions of {code} must be 1..=n without gaps"
    );
    let current = db.item(code).await.unwrap().expect("current version");
    assert_eq!(
        current.version, n,
        "current version of {code} must be the latest"
    );
    assert!(current.current);
    let (summaries, _) = db
        .list_items(&ItemFilter {
            limit: 1000,
            ..ItemFilter::default()
        })
        .await
        .unwrap();
    let summary = summaries
        .iter()
        .find(|s| s.implementation_code == code)
        .unwrap();
    assert_eq!(summary.version, n);
    for v in 1..n {
        assert!(!db.item_version(code, v).await.unwrap().unwrap().current);
    }
    n
}

// ---------------------------------------------------------------------------------------------
// The contract.
// ---------------------------------------------------------------------------------------------

async fn fixture_is_a_valid_catalog(_db: &Db) {
    let violations = validate_catalog(&fixture(), &KnownCodes::default());
    assert!(
        violations.is_empty(),
        "fixture must validate: {violations:?}"
    );
    for d in &fixture().divisions {
        DivisionCode::parse(&d.code).unwrap();
    }
}

async fn ping_answers(db: &Db) {
    db.ping().await.unwrap();
    db.ping().await.unwrap();
}

async fn migrate_twice_is_idempotent(db: &Db) {
    // TestDb already migrated once.
    db.migrate().await.unwrap();
    db.migrate().await.unwrap();
    let catalog = seed(db).await;
    db.migrate().await.unwrap();
    assert_eq!(db.export_catalog().await.unwrap(), sorted(catalog));
    db.ping().await.unwrap();
}

async fn empty_database_reads_nothing(db: &Db) {
    assert_eq!(db.item_count().await.unwrap(), 0);
    assert!(db.item(LIC1).await.unwrap().is_none());
    assert!(db.item_version(LIC1, 1).await.unwrap().is_none());
    assert!(db.item_versions(LIC1).await.unwrap().is_empty());
    assert!(
        db.items_by_codes(&strings(&[LIC1]))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(db.items_by_codes(&[]).await.unwrap().is_empty());
    assert!(db.current_items().await.unwrap().is_empty());
    assert!(db.divisions().await.unwrap().is_empty());
    assert!(db.division(HANGZHOU).await.unwrap().is_none());
    assert!(db.departments(None).await.unwrap().is_empty());
    assert!(db.department(&market_bureau()).await.unwrap().is_none());
    assert_eq!(db.list_items(&all()).await.unwrap(), (Vec::new(), 0));
    let known = db.known_codes().await.unwrap();
    assert!(known.divisions.is_empty() && known.departments.is_empty() && known.items.is_empty());
    assert_eq!(db.export_catalog().await.unwrap(), Catalog::default());
    assert!(db.calendar_years().await.unwrap().is_empty());
}

async fn catalog_round_trip(db: &Db) {
    let catalog = seed(db).await;
    let expected = sorted(catalog.clone());

    assert_eq!(db.divisions().await.unwrap(), expected.divisions);
    for d in &catalog.divisions {
        assert_eq!(db.division(&d.code).await.unwrap().as_ref(), Some(d));
    }
    assert_eq!(db.departments(None).await.unwrap(), expected.departments);
    for d in &catalog.departments {
        assert_eq!(db.department(&d.code).await.unwrap().as_ref(), Some(d));
        let of_division = db.departments(Some(&d.division_code)).await.unwrap();
        assert_eq!(of_division, vec![d.clone()]);
    }
    assert!(db.departments(Some(ZHEJIANG)).await.unwrap().is_empty());

    assert_eq!(db.item_count().await.unwrap(), 5);
    assert_eq!(db.current_items().await.unwrap(), expected.items);
    for original in &catalog.items {
        let stored = db
            .item(&original.implementation_code)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.implementation_code, original.implementation_code);
        assert_eq!(stored.version, 1);
        assert!(stored.current);
        assert_eq!(stored.published_at, at(0));
        assert_eq!(&stored.item().unwrap(), original);
        let v1 = db
            .item_version(&original.implementation_code, 1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(v1, stored);
    }

    // The fully populated item, field by field where it matters most.
    let lic = db.item(LIC1).await.unwrap().unwrap().item().unwrap();
    assert_eq!(lic.situations.len(), 2);
    assert_eq!(lic.situations[1].promised_limit, Some(5));
    assert_eq!(
        lic.materials[3].source,
        MaterialSource::BundleOutput {
            item: BEN1.to_string()
        }
    );
    assert_eq!(lic.effective_from, Some(date(2026, 1, 1)));
    assert_eq!(lic.effective_to, Some(date(2030, 12, 31)));
    assert_eq!(lic.online_depth, OnlineDepth::III);
    assert_eq!(lic.fees[0].amount_fen, 1_000);

    // The list view of a sub-item.
    let (page, total) = db
        .list_items(&ItemFilter {
            parent: Some(LIC1.to_string()),
            limit: 10,
            ..ItemFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(total, 1);
    assert_eq!(
        page,
        vec![ItemSummary {
            implementation_code: LIC1_SUB.to_string(),
            base_code: "000000000001".to_string(),
            parent_code: Some(LIC1.to_string()),
            name: "食品经营许可（延续）".to_string(),
            item_type: "public_service".to_string(),
            department_code: market_bureau(),
            division_code: HANGZHOU.to_string(),
            service_object: "both".to_string(),
            status: "active".to_string(),
            version: 1,
        }]
    );
}

async fn save_catalog_reports_counts(db: &Db) {
    let mut catalog = fixture();
    let first = db.save_catalog(&catalog, at(0)).await.unwrap();
    assert_eq!(
        first,
        SaveReport {
            divisions: 3,
            departments: 2,
            items_created: 5,
            items_versioned: 0,
            items_unchanged: 0
        }
    );

    let again = db.save_catalog(&catalog, at(1)).await.unwrap();
    assert_eq!(
        again,
        SaveReport {
            divisions: 3,
            departments: 2,
            items_created: 0,
            items_versioned: 0,
            items_unchanged: 5
        }
    );

    catalog.items[2].name = "仅销售预包装食品备案（2026版）".to_string();
    catalog
        .items
        .push(item("330106NEW001", "新增事项", &civil_affairs(), XIHU));
    let third = db.save_catalog(&catalog, at(2)).await.unwrap();
    assert_eq!(
        third,
        SaveReport {
            divisions: 3,
            departments: 2,
            items_created: 1,
            items_versioned: 1,
            items_unchanged: 4
        }
    );

    // An empty document changes nothing.
    assert_eq!(
        db.save_catalog(&Catalog::default(), at(3)).await.unwrap(),
        SaveReport::default()
    );
    assert_eq!(db.item_count().await.unwrap(), 6);
    assert_eq!(db.item(LIC2).await.unwrap().unwrap().version, 2);
    assert_eq!(db.item(LIC1).await.unwrap().unwrap().version, 1);
    assert_eq!(db.item("330106NEW001").await.unwrap().unwrap().version, 1);
}

async fn item_versioning(db: &Db) {
    let catalog = fixture();
    db.save_catalog(
        &Catalog {
            items: Vec::new(),
            ..catalog
        },
        at(0),
    )
    .await
    .unwrap();

    let v1 = licensing_item();
    assert_eq!(
        db.save_item(&v1, at(1)).await.unwrap(),
        (1, true),
        "first save creates v1"
    );
    assert_eq!(
        db.save_item(&v1, at(2)).await.unwrap(),
        (1, false),
        "identical save is unchanged"
    );
    assert_eq!(db.item_versions(LIC1).await.unwrap().len(), 1);

    let mut v2 = v1.clone();
    v2.promised_limit = 8;
    v2.situations[0].guide = "新版指南".to_string();
    v2.materials.remove(2);
    v2.situations[1].materials = vec!["M01".to_string()];
    assert_eq!(
        db.save_item(&v2, at(3)).await.unwrap(),
        (2, true),
        "changed save makes v2"
    );
    assert_eq!(db.save_item(&v2, at(4)).await.unwrap(), (2, false));

    let old = db.item_version(LIC1, 1).await.unwrap().unwrap();
    assert_eq!(old.version, 1);
    assert!(!old.current, "v1 is no longer current");
    assert_eq!(
        old.published_at,
        at(1),
        "an unchanged save does not touch the version"
    );
    assert_eq!(old.item().unwrap(), v1);

    let new = db.item_version(LIC1, 2).await.unwrap().unwrap();
    assert!(new.current);
    assert_eq!(new.published_at, at(3));
    assert_eq!(new.item().unwrap(), v2);

    let current = db.item(LIC1).await.unwrap().unwrap();
    assert_eq!(current, new);
    assert!(db.item_version(LIC1, 3).await.unwrap().is_none());
    assert!(db.item_version(LIC1, 0).await.unwrap().is_none());

    let versions = db.item_versions(LIC1).await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(
        versions.iter().map(|v| v.published_at).collect::<Vec<_>>(),
        vec![at(1), at(3)]
    );

    assert_eq!(db.current_items().await.unwrap(), vec![v2.clone()]);
    assert_eq!(
        db.items_by_codes(&strings(&[LIC1])).await.unwrap(),
        vec![new]
    );
    assert_eq!(db.item_count().await.unwrap(), 1);
    assert_versions_consistent(db, LIC1).await;
}

async fn reverting_a_document_makes_a_new_version(db: &Db) {
    seed(db).await;
    let v1 = fixture_item(BEN1);
    let mut v2 = v1.clone();
    v2.visits = 1;
    v2.visits_reason = Some("核验身份".to_string());
    assert_eq!(db.save_item(&v2, at(1)).await.unwrap(), (2, true));
    // Going back to the first document is a publication of its own: cases filed under v2 keep v2.
    assert_eq!(db.save_item(&v1, at(2)).await.unwrap(), (3, true));
    assert_eq!(db.item(BEN1).await.unwrap().unwrap().item().unwrap(), v1);
    assert_eq!(
        db.item_version(BEN1, 2)
            .await
            .unwrap()
            .unwrap()
            .item()
            .unwrap(),
        v2
    );
    assert_eq!(assert_versions_consistent(db, BEN1).await, 3);
}

async fn summary_columns_follow_the_current_version(db: &Db) {
    seed(db).await;
    let mut moved = fixture_item(LIC2);
    moved.department_code = civil_affairs();
    moved.division_code = XIHU.to_string();
    moved.name = "已迁移事项".to_string();
    moved.item_type = ItemType::Award;
    moved.service_object = ServiceObject::Person;
    moved.status = ItemStatus::Cancelled;
    moved.life_events = vec![LifeEvent::Medical];
    moved.handling_code = Some("330106AWD00101".to_string());
    moved.base_code = "00000000009Z".to_string();
    assert_eq!(db.save_item(&moved, at(5)).await.unwrap(), (2, true));

    // Cancelled items are hidden from lists unless asked for.
    let (hidden, _) = db
        .list_items(&ItemFilter {
            department: Some(civil_affairs()),
            limit: 10,
            ..ItemFilter::default()
        })
        .await
        .unwrap();
    assert!(hidden.iter().all(|s| s.implementation_code != LIC2));
    let (page, _) = db
        .list_items(&ItemFilter {
            department: Some(civil_affairs()),
            include_cancelled: true,
            limit: 10,
            ..ItemFilter::default()
        })
        .await
        .unwrap();
    let summary = page
        .into_iter()
        .find(|s| s.implementation_code == LIC2)
        .unwrap();
    assert_eq!(
        summary,
        ItemSummary {
            implementation_code: LIC2.to_string(),
            base_code: "00000000009Z".to_string(),
            parent_code: None,
            name: "已迁移事项".to_string(),
            item_type: "award".to_string(),
            department_code: civil_affairs(),
            division_code: XIHU.to_string(),
            service_object: "person".to_string(),
            status: "cancelled".to_string(),
            version: 2,
        }
    );
    assert_eq!(
        codes(
            db,
            ItemFilter {
                life_event: Some(LifeEvent::Medical),
                ..all()
            }
        )
        .await,
        strings(&[LIC2])
    );
    assert!(
        codes(
            db,
            ItemFilter {
                life_event: Some(LifeEvent::Deregistration),
                ..all()
            }
        )
        .await
        .is_empty()
    );
    assert_eq!(
        codes(
            db,
            ItemFilter {
                divisions: Some(strings(&[HANGZHOU])),
                ..all()
            }
        )
        .await,
        strings(&[LIC1, LIC1_SUB])
    );
    // The old version keeps its own document.
    assert_eq!(
        db.item_version(LIC2, 1)
            .await
            .unwrap()
            .unwrap()
            .item()
            .unwrap(),
        fixture_item(LIC2)
    );
}

async fn failing_save_catalog_leaves_nothing(db: &Db) {
    let mut catalog = fixture();
    // The last item points at a department that exists nowhere: the foreign key fails after the
    // divisions, departments and the other items have been written inside the transaction.
    let ghost = credit_code(HANGZHOU, "00000099");
    catalog
        .items
        .push(item("330100BAD001", "坏事项", &ghost, HANGZHOU));
    let err = db
        .save_catalog(&catalog, at(0))
        .await
        .expect_err("unknown department must fail");
    assert!(matches!(err, StoreError::Database(_)), "got {err:?}");

    assert!(
        db.divisions().await.unwrap().is_empty(),
        "divisions must be rolled back"
    );
    assert!(
        db.departments(None).await.unwrap().is_empty(),
        "departments must be rolled back"
    );
    assert_eq!(
        db.item_count().await.unwrap(),
        0,
        "items must be rolled back"
    );
    assert!(db.current_items().await.unwrap().is_empty());
    assert!(
        db.item_versions(LIC1).await.unwrap().is_empty(),
        "versions must be rolled back"
    );
    let known = db.known_codes().await.unwrap();
    assert!(known.divisions.is_empty() && known.departments.is_empty() && known.items.is_empty());

    // The database is still usable and the good document saves afterwards.
    db.save_catalog(&fixture(), at(1)).await.unwrap();
    assert_eq!(db.export_catalog().await.unwrap(), sorted(fixture()));
}

async fn failing_save_catalog_keeps_previous_state(db: &Db) {
    seed(db).await;
    let before = db.export_catalog().await.unwrap();

    let mut broken = fixture();
    broken.divisions[1].name = "杭州市（改）".to_string();
    broken.divisions.push(Division {
        code: "330108".to_string(),
        name: "滨江区".to_string(),
        name_en: None,
    });
    broken.departments[0].offices.push("新处室".to_string());
    broken.items[0].name = "改过的名称".to_string();
    broken
        .items
        .push(item("330108NEW001", "新事项", &market_bureau(), "330108"));
    // A division that does not exist: the foreign key on items.division_code fails.
    broken
        .items
        .push(item("330100BAD002", "坏事项", &market_bureau(), "330109"));
    assert!(db.save_catalog(&broken, at(9)).await.is_err());

    assert_eq!(db.export_catalog().await.unwrap(), before);
    assert!(db.division("330108").await.unwrap().is_none());
    assert_eq!(db.item_versions(LIC1).await.unwrap().len(), 1);
    assert!(db.item("330108NEW001").await.unwrap().is_none());
    assert_eq!(db.item_count().await.unwrap(), 5);
}

async fn failing_save_item_leaves_nothing(db: &Db) {
    seed(db).await;
    let orphan = item(
        "330100BAD003",
        "孤儿事项",
        &credit_code(XIHU, "00000077"),
        XIHU,
    );
    assert!(db.save_item(&orphan, at(1)).await.is_err());
    assert!(db.item("330100BAD003").await.unwrap().is_none());
    assert!(db.item_versions("330100BAD003").await.unwrap().is_empty());
    assert_eq!(db.item_count().await.unwrap(), 5);

    // A failing new version of an existing item keeps the old one current.
    let mut moved = fixture_item(CON1);
    moved.department_code = credit_code(XIHU, "00000077");
    assert!(db.save_item(&moved, at(2)).await.is_err());
    assert_eq!(
        db.item(CON1).await.unwrap().unwrap().item().unwrap(),
        fixture_item(CON1)
    );
    assert_eq!(assert_versions_consistent(db, CON1).await, 1);
}

async fn handling_codes_are_unique(db: &Db) {
    seed(db).await;
    let mut clash = item("330100DUP001", "重复办理项", &market_bureau(), HANGZHOU);
    clash.handling_code = fixture_item(LIC1).handling_code;
    assert!(db.save_item(&clash, at(1)).await.is_err());
    assert!(db.item("330100DUP001").await.unwrap().is_none());
    // Without a handling code (NULL) any number of items coexist.
    clash.handling_code = None;
    assert_eq!(db.save_item(&clash, at(2)).await.unwrap(), (1, true));
    assert_eq!(db.item_count().await.unwrap(), 6);
}

async fn divisions_and_departments_upsert(db: &Db) {
    let mut hangzhou = Division {
        code: HANGZHOU.to_string(),
        name: "杭州".to_string(),
        name_en: None,
    };
    let zhejiang = Division {
        code: ZHEJIANG.to_string(),
        name: "浙江省".to_string(),
        name_en: None,
    };
    db.save_division(&hangzhou).await.unwrap();
    db.save_division(&zhejiang).await.unwrap();
    hangzhou.name = "杭州市".to_string();
    hangzhou.name_en = Some("Hangzhou".to_string());
    db.save_division(&hangzhou).await.unwrap();
    assert_eq!(
        db.divisions().await.unwrap(),
        vec![zhejiang.clone(), hangzhou.clone()]
    );
    assert_eq!(db.division(HANGZHOU).await.unwrap(), Some(hangzhou.clone()));

    let mut bureau = Department {
        code: market_bureau(),
        name: "市场监管局".to_string(),
        name_en: Some("AMR".to_string()),
        division_code: HANGZHOU.to_string(),
        offices: vec!["登记注册处".to_string()],
    };
    db.save_department(&bureau).await.unwrap();
    bureau.name = "杭州市市场监督管理局".to_string();
    bureau.name_en = None;
    bureau.offices = vec!["食品经营处".to_string(), "登记注册处".to_string()];
    bureau.division_code = ZHEJIANG.to_string();
    db.save_department(&bureau).await.unwrap();
    assert_eq!(db.departments(None).await.unwrap(), vec![bureau.clone()]);
    assert_eq!(
        db.department(&bureau.code).await.unwrap(),
        Some(bureau.clone())
    );
    assert_eq!(
        db.departments(Some(ZHEJIANG)).await.unwrap(),
        vec![bureau.clone()]
    );
    assert!(db.departments(Some(HANGZHOU)).await.unwrap().is_empty());

    // A department of an unknown division is refused.
    let stray = Department {
        code: civil_affairs(),
        name: "民政局".to_string(),
        name_en: None,
        division_code: XIHU.to_string(),
        offices: Vec::new(),
    };
    assert!(db.save_department(&stray).await.is_err());
    assert!(db.department(&stray.code).await.unwrap().is_none());
}

async fn list_items_filters(db: &Db) {
    seed(db).await;
    let everything = strings(&[LIC1, LIC1_SUB, LIC2, BEN1, CON1]);
    assert_eq!(
        codes(db, all()).await,
        everything,
        "ordered by implementation code"
    );

    // Divisions: IN list.
    let by_divisions = |d: &[&str]| ItemFilter {
        divisions: Some(strings(d)),
        ..all()
    };
    assert_eq!(
        codes(db, by_divisions(&[HANGZHOU])).await,
        strings(&[LIC1, LIC1_SUB, LIC2])
    );
    assert_eq!(
        codes(db, by_divisions(&[XIHU])).await,
        strings(&[BEN1, CON1])
    );
    assert_eq!(codes(db, by_divisions(&[XIHU, HANGZHOU])).await, everything);
    assert_eq!(
        codes(db, by_divisions(&[ZHEJIANG, "339900"])).await,
        Vec::<String>::new()
    );
    assert_eq!(
        codes(db, by_divisions(&[])).await,
        Vec::<String>::new(),
        "an empty list matches nothing"
    );

    // Department.
    assert_eq!(
        codes(
            db,
            ItemFilter {
                department: Some(civil_affairs()),
                ..all()
            }
        )
        .await,
        strings(&[BEN1, CON1])
    );
    assert_eq!(
        codes(
            db,
            ItemFilter {
                department: Some(market_bureau()),
                ..all()
            }
        )
        .await,
        strings(&[LIC1, LIC1_SUB, LIC2])
    );

    // Service object: `both` items serve everyone; filtering by `both` filters nothing.
    let by_object = |o| ItemFilter {
        service_object: Some(o),
        ..all()
    };
    assert_eq!(
        codes(db, by_object(ServiceObject::Person)).await,
        strings(&[LIC1_SUB, BEN1, CON1])
    );
    assert_eq!(
        codes(db, by_object(ServiceObject::Organisation)).await,
        strings(&[LIC1, LIC1_SUB, LIC2])
    );
    assert_eq!(codes(db, by_object(ServiceObject::Both)).await, everything);

    // Item type.
    let by_type = |t| ItemFilter {
        item_type: Some(t),
        ..all()
    };
    assert_eq!(
        codes(db, by_type(ItemType::Licensing)).await,
        strings(&[LIC1])
    );
    assert_eq!(
        codes(db, by_type(ItemType::PublicService)).await,
        strings(&[LIC1_SUB])
    );
    assert_eq!(
        codes(db, by_type(ItemType::Benefit)).await,
        strings(&[BEN1])
    );
    assert_eq!(
        codes(db, by_type(ItemType::Award)).await,
        Vec::<String>::new()
    );

    // Parent.
    assert_eq!(
        codes(
            db,
            ItemFilter {
                parent: Some(LIC1.to_string()),
                ..all()
            }
        )
        .await,
        strings(&[LIC1_SUB])
    );
    assert_eq!(
        codes(
            db,
            ItemFilter {
                parent: Some(LIC2.to_string()),
                ..all()
            }
        )
        .await,
        Vec::<String>::new()
    );

    // Status.
    let by_status = |s| ItemFilter {
        status: Some(s),
        ..all()
    };
    assert_eq!(
        codes(db, by_status(ItemStatus::Suspended)).await,
        strings(&[LIC2])
    );
    assert_eq!(
        codes(db, by_status(ItemStatus::Active)).await,
        strings(&[LIC1, LIC1_SUB, BEN1, CON1])
    );
    assert_eq!(
        codes(db, by_status(ItemStatus::Cancelled)).await,
        Vec::<String>::new()
    );

    // Combined filters narrow each other.
    assert_eq!(
        codes(
            db,
            ItemFilter {
                divisions: Some(strings(&[HANGZHOU, XIHU])),
                service_object: Some(ServiceObject::Person),
                life_event: Some(LifeEvent::Startup),
                ..all()
            }
        )
        .await,
        strings(&[LIC1_SUB])
    );
    assert_eq!(
        codes(
            db,
            ItemFilter {
                department: Some(market_bureau()),
                item_type: Some(ItemType::Filing),
                status: Some(ItemStatus::Active),
                ..all()
            }
        )
        .await,
        Vec::<String>::new()
    );
}

async fn list_items_life_events_match_whole_tags(db: &Db) {
    seed(db).await;
    let mut extra = item("330106TAG001", "标签测试", &civil_affairs(), XIHU);
    // `special_groups` contains `_`, a LIKE wildcard; `work` is the first tag here.
    extra.life_events = vec![LifeEvent::Work, LifeEvent::Unemployment];
    db.save_item(&extra, at(1)).await.unwrap();

    let by_event = |e| ItemFilter {
        life_event: Some(e),
        ..all()
    };
    // First, middle and last tags of a multi-tag item all match.
    assert_eq!(
        codes(db, by_event(LifeEvent::SpecialGroups)).await,
        strings(&[BEN1])
    );
    assert_eq!(
        codes(db, by_event(LifeEvent::Retirement)).await,
        strings(&[BEN1])
    );
    assert_eq!(
        codes(db, by_event(LifeEvent::Funeral)).await,
        strings(&[BEN1])
    );
    // A tag shared by an item and its sub-item.
    assert_eq!(
        codes(db, by_event(LifeEvent::Startup)).await,
        strings(&[LIC1, LIC1_SUB])
    );
    assert_eq!(
        codes(db, by_event(LifeEvent::Operations)).await,
        strings(&[LIC1])
    );
    assert_eq!(
        codes(db, by_event(LifeEvent::Work)).await,
        strings(&["330106TAG001"])
    );
    assert_eq!(
        codes(db, by_event(LifeEvent::Unemployment)).await,
        strings(&["330106TAG001"])
    );
    // Tags no item carries match nothing, and items without tags never match.
    for e in [
        LifeEvent::Birth,
        LifeEvent::School,
        LifeEvent::Marriage,
        LifeEvent::Housing,
    ] {
        assert_eq!(codes(db, by_event(e)).await, Vec::<String>::new(), "{e:?}");
    }
    // Every tag of every item is found by exactly the items that carry it.
    let items = db.current_items().await.unwrap();
    for e in LifeEvent::ALL {
        let expected: Vec<String> = items
            .iter()
            .filter(|i| i.life_events.contains(&e))
            .map(|i| i.implementation_code.clone())
            .collect();
        assert_eq!(codes(db, by_event(e)).await, expected, "{e:?}");
    }
}

async fn list_items_paging(db: &Db) {
    seed(db).await;
    let page = |limit, offset| ItemFilter {
        limit,
        offset,
        ..ItemFilter::default()
    };
    let get = |f: ItemFilter| async move {
        let (items, total) = db.list_items(&f).await.unwrap();
        (
            items
                .into_iter()
                .map(|i| i.implementation_code)
                .collect::<Vec<_>>(),
            total,
        )
    };
    assert_eq!(get(page(2, 0)).await, (strings(&[LIC1, LIC1_SUB]), 5));
    assert_eq!(get(page(2, 2)).await, (strings(&[LIC2, BEN1]), 5));
    assert_eq!(get(page(2, 4)).await, (strings(&[CON1]), 5));
    assert_eq!(
        get(page(2, 6)).await,
        (Vec::new(), 5),
        "past the end: empty page, same total"
    );
    assert_eq!(get(page(0, 0)).await, (Vec::new(), 5));
    assert_eq!(get(page(10, 0)).await.0.len(), 5);

    // Paging applies after filtering, and the total counts the filtered rows.
    let filtered = ItemFilter {
        divisions: Some(strings(&[HANGZHOU])),
        limit: 1,
        offset: 1,
        ..ItemFilter::default()
    };
    assert_eq!(get(filtered).await, (strings(&[LIC1_SUB]), 3));

    // Walking the pages visits every item once.
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let (codes, total) = get(page(2, offset)).await;
        assert_eq!(total, 5);
        if codes.is_empty() {
            break;
        }
        seen.extend(codes);
        offset += 2;
    }
    assert_eq!(seen, strings(&[LIC1, LIC1_SUB, LIC2, BEN1, CON1]));
}

async fn items_by_codes_keeps_requested_order(db: &Db) {
    seed(db).await;
    let mut changed = fixture_item(CON1);
    changed.keywords = vec!["低保".to_string()];
    db.save_item(&changed, at(1)).await.unwrap();

    let requested = strings(&[CON1, "NOPE", LIC2, LIC1, "330100LIC00", BEN1]);
    let found = db.items_by_codes(&requested).await.unwrap();
    assert_eq!(
        found
            .iter()
            .map(|s| s.implementation_code.as_str())
            .collect::<Vec<_>>(),
        vec![CON1, LIC2, LIC1, BEN1],
        "requested order, unknown codes skipped"
    );
    assert!(found.iter().all(|s| s.current));
    assert_eq!(found[0].version, 2, "current version");
    assert_eq!(found[0].item().unwrap(), changed);
    assert_eq!(found[1].item().unwrap(), fixture_item(LIC2));

    assert!(
        db.items_by_codes(&strings(&["NOPE", "ALSO0NOPE"]))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(db.items_by_codes(&[]).await.unwrap().is_empty());
    let single = db.items_by_codes(&strings(&[LIC1_SUB])).await.unwrap();
    assert_eq!(single.len(), 1);
    assert_eq!(single[0].item().unwrap().parent_code.as_deref(), Some(LIC1));
}

async fn known_codes_lists_everything(db: &Db) {
    seed(db).await;
    let known = db.known_codes().await.unwrap();
    assert_eq!(
        known.divisions,
        BTreeSet::from([ZHEJIANG, HANGZHOU, XIHU].map(String::from))
    );
    assert_eq!(
        known.departments,
        BTreeSet::from([market_bureau(), civil_affairs()])
    );
    assert_eq!(
        known.items,
        BTreeSet::from([LIC1, LIC1_SUB, LIC2, BEN1, CON1].map(String::from))
    );

    // The known codes make a document referencing stored data validate.
    let next = Catalog {
        items: vec![ServiceItem {
            parent_code: Some(LIC1.to_string()),
            ..item("330100LIC001B", "新子项", &market_bureau(), HANGZHOU)
        }],
        ..Catalog::default()
    };
    assert!(validate_catalog(&next, &known).is_empty());
    assert!(!validate_catalog(&next, &KnownCodes::default()).is_empty());
}

async fn export_catalog_equals_saved(db: &Db) {
    let catalog = seed(db).await;
    let exported = db.export_catalog().await.unwrap();
    assert_eq!(exported, sorted(catalog.clone()));

    // Export survives the JSON round trip, and saving it back changes nothing.
    let json = serde_json::to_string(&exported).unwrap();
    let reimported: Catalog = serde_json::from_str(&json).unwrap();
    assert_eq!(reimported, exported);
    let report = db.save_catalog(&reimported, at(1)).await.unwrap();
    assert_eq!(report.items_unchanged, 5);
    assert_eq!(report.items_created + report.items_versioned, 0);

    // After a new version, export shows the current document.
    let mut v2 = fixture_item(BEN1);
    v2.name = "高龄津贴".to_string();
    db.save_item(&v2, at(2)).await.unwrap();
    let exported = db.export_catalog().await.unwrap();
    assert_eq!(
        exported
            .items
            .iter()
            .find(|i| i.implementation_code == BEN1),
        Some(&v2)
    );
    assert_eq!(exported.items.len(), 5);
}

async fn calendar_years_upsert_and_order(db: &Db) {
    let y2026 =
        r#"{"year":2026,"holidays":[["2026-01-01","2026-01-03"]],"workdays":["2026-01-04"]}"#;
    let y2026b =
        r#"{"year":2026,"holidays":[["2026-01-01","2026-01-01"]],"workdays":[],"note":"修订"}"#;
    let y2025 = r#"{"year":2025,"holidays":[],"workdays":[]}"#;
    let y2027 = r#"{"year":2027}"#;

    db.save_calendar_year(2026, y2026, at(0)).await.unwrap();
    db.save_calendar_year(2027, y2027, at(0)).await.unwrap();
    db.save_calendar_year(2025, y2025, at(1)).await.unwrap();
    assert_eq!(
        db.calendar_years().await.unwrap(),
        vec![
            (2025, y2025.to_string()),
            (2026, y2026.to_string()),
            (2027, y2027.to_string())
        ]
    );

    // Saving a year again replaces it.
    db.save_calendar_year(2026, y2026b, at(2)).await.unwrap();
    assert_eq!(
        db.calendar_years().await.unwrap(),
        vec![
            (2025, y2025.to_string()),
            (2026, y2026b.to_string()),
            (2027, y2027.to_string())
        ]
    );
}

async fn unicode_round_trips(db: &Db) {
    let division = Division {
        code: "540100".to_string(),
        name: "拉萨市 ལྷ་ས་".to_string(),
        name_en: Some("Lhasa — 𠀀 𪚥 🏔️".to_string()),
    };
    let department = Department {
        code: credit_code("540100", "00000003"),
        name: "拉萨市政务服务中心🏛️".to_string(),
        name_en: Some("Ünïcödé ‘quotes’ \"double\" \\ backslash".to_string()),
        division_code: "540100".to_string(),
        offices: vec![
            "综合窗口①".to_string(),
            "'; DROP TABLE divisions; --".to_string(),
        ],
    };
    let mut emoji = item("540100EMJ001", "办证一次办🎉👨‍👩‍👧", &department.code, "540100");
    emoji.name_en = Some("Emoji item ✅".to_string());
    emoji.keywords = vec![
        "𠮷野家".to_string(),
        "% _ LIKE wildcards".to_string(),
        "tab\tand\nnewline".to_string(),
    ];
    emoji.acceptance_conditions = vec!["年满１８周岁（全角）".to_string()];
    emoji.situations = vec![Situation {
        code: "S01".to_string(),
        name: "情形🅰".to_string(),
        conditions: vec!["🙂".to_string()],
        materials: Vec::new(),
        promised_limit: Some(1),
        guide: "指南：请携带身份证🪪。".to_string(),
    }];
    let catalog = Catalog {
        divisions: vec![division.clone()],
        departments: vec![department.clone()],
        items: vec![emoji.clone()],
    };
    assert!(validate_catalog(&catalog, &KnownCodes::default()).is_empty());
    db.save_catalog(&catalog, at(0)).await.unwrap();

    assert_eq!(db.division("540100").await.unwrap(), Some(division));
    assert_eq!(
        db.department(&department.code).await.unwrap(),
        Some(department)
    );
    assert_eq!(
        db.item("540100EMJ001")
            .await
            .unwrap()
            .unwrap()
            .item()
            .unwrap(),
        emoji
    );
    let (page, total) = db.list_items(&all()).await.unwrap();
    assert_eq!(total, 1);
    assert_eq!(page[0].name, "办证一次办🎉👨‍👩‍👧");
    assert_eq!(db.export_catalog().await.unwrap(), catalog);
    // Identical Unicode documents are recognised as unchanged.
    assert_eq!(db.save_item(&emoji, at(1)).await.unwrap(), (1, false));
}

async fn timestamps_keep_microseconds(db: &Db) {
    seed(db).await;
    let precise = Timestamp::from_microsecond(1_767_225_600_123_456).unwrap();
    let mut changed = fixture_item(CON1);
    changed.name = "新名称".to_string();
    db.save_item(&changed, precise).await.unwrap();
    assert_eq!(db.item(CON1).await.unwrap().unwrap().published_at, precise);
    let versions = db.item_versions(CON1).await.unwrap();
    assert_eq!(versions[0].published_at, at(0));
    assert_eq!(versions[1].published_at, precise);

    // Before the epoch is stored as well (negative microseconds).
    let old = Timestamp::from_microsecond(-1_000_001).unwrap();
    changed.name = "更早".to_string();
    db.save_item(&changed, old).await.unwrap();
    assert_eq!(
        db.item_version(CON1, 3)
            .await
            .unwrap()
            .unwrap()
            .published_at,
        old
    );
}

async fn concurrent_saves_of_different_items_all_land(db: &Db) {
    let base = fixture();
    db.save_catalog(
        &Catalog {
            items: Vec::new(),
            ..base
        },
        at(0),
    )
    .await
    .unwrap();
    const TASKS: usize = 8;
    const PER_TASK: usize = 6;
    let mut handles = Vec::new();
    for t in 0..TASKS {
        let db = db.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..PER_TASK {
                let code = format!("330100C{t:02}I{i:02}");
                let mut it = item(
                    &code,
                    &format!("并发事项 {t}-{i}"),
                    &market_bureau(),
                    HANGZHOU,
                );
                it.handling_code = Some(format!("{code}H"));
                let saved = db.save_item(&it, at(i64::try_from(i).unwrap())).await;
                assert_eq!(saved.unwrap(), (1, true), "{code} must be created");
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let total = i64::try_from(TASKS * PER_TASK).unwrap();
    assert_eq!(db.item_count().await.unwrap(), total);
    let (page, count) = db
        .list_items(&ItemFilter {
            limit: 1000,
            ..ItemFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(count, total);
    assert!(page.iter().all(|s| s.version == 1));
    let known = db.known_codes().await.unwrap();
    for t in 0..TASKS {
        for i in 0..PER_TASK {
            let code = format!("330100C{t:02}I{i:02}");
            assert!(known.items.contains(&code), "{code} missing");
            assert_eq!(db.item_versions(&code).await.unwrap().len(), 1);
        }
    }
}

async fn concurrent_saves_of_one_item_stay_consistent(db: &Db) {
    seed(db).await;
    const TASKS: usize = 8;
    let mut handles = Vec::new();
    for t in 0..TASKS {
        let db = db.clone();
        handles.push(tokio::spawn(async move {
            let mut variant = fixture_item(BEN1);
            variant.keywords.push(format!("变体{t}"));
            let outcome = db.save_item(&variant, at(10)).await;
            (variant, outcome)
        }));
    }
    let mut saved = Vec::new();
    for h in handles {
        let (variant, outcome) = h.await.expect("a concurrent save must not crash");
        match outcome {
            Ok((version, changed)) => {
                assert!(changed, "every variant differs from every other document");
                saved.push((version, variant));
            }
            Err(e) => panic!("{:?}: a concurrent save was refused: {e}", db.backend()),
        }
    }
    // Both backends serialise catalog writers (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory
    // transaction lock), so every racing save lands with its own version.
    assert_eq!(saved.len(), TASKS);

    // Consistency: versions 1..=n without gaps or duplicates, the current one the highest, and
    // each successful save's version holding exactly that save's document.
    let n = assert_versions_consistent(db, BEN1).await;
    assert_eq!(usize::try_from(n).unwrap(), saved.len() + 1);
    let mut versions: Vec<i64> = saved.iter().map(|(v, _)| *v).collect();
    versions.sort_unstable();
    assert_eq!(
        versions,
        (2..=n).collect::<Vec<_>>(),
        "each successful save got its own version"
    );
    for (version, variant) in &saved {
        let stored = db.item_version(BEN1, *version).await.unwrap().unwrap();
        assert_eq!(&stored.item().unwrap(), variant);
    }
    let current = db.item(BEN1).await.unwrap().unwrap().item().unwrap();
    let (_, last) = saved.iter().max_by_key(|(v, _)| *v).unwrap();
    assert_eq!(&current, last);
    assert_eq!(
        db.item_version(BEN1, 1)
            .await
            .unwrap()
            .unwrap()
            .item()
            .unwrap(),
        fixture_item(BEN1)
    );
    assert_eq!(db.item_count().await.unwrap(), 5);
}

async fn concurrent_catalog_saves_stay_consistent(db: &Db) {
    seed(db).await;
    const TASKS: usize = 6;
    let mut handles = Vec::new();
    for t in 0..TASKS {
        let db = db.clone();
        handles.push(tokio::spawn(async move {
            let mut catalog = fixture();
            // Every task adds its own item and rewrites one shared item.
            catalog.items.push(item(
                &format!("330106CAT{t:03}"),
                "目录并发",
                &civil_affairs(),
                XIHU,
            ));
            catalog.items[0].keywords.push(format!("任务{t}"));
            db.save_catalog(&catalog, at(20)).await
        }));
    }
    let mut landed = Vec::new();
    for (t, h) in handles.into_iter().enumerate() {
        match h.await.expect("no crash") {
            Ok(report) => {
                assert_eq!(report.items_created, 1);
                assert_eq!(report.items_versioned, 1);
                assert_eq!(report.items_unchanged, 4);
                landed.push(t);
            }
            Err(StoreError::Database(e)) => {
                println!("{:?}: concurrent catalog save refused: {e}", db.backend())
            }
            Err(e) => panic!("unexpected error kind: {e:?}"),
        }
    }
    assert!(!landed.is_empty());
    if db.backend() == Backend::Sqlite {
        assert_eq!(
            landed.len(),
            TASKS,
            "SQLite serialises writers: every save must land"
        );
    }
    // A refused catalog left nothing behind; a landed one left everything.
    for t in 0..TASKS {
        let present = db
            .item(&format!("330106CAT{t:03}"))
            .await
            .unwrap()
            .is_some();
        assert_eq!(present, landed.contains(&t), "task {t}");
    }
    let n = assert_versions_consistent(db, LIC1).await;
    assert_eq!(usize::try_from(n).unwrap(), landed.len() + 1);
    assert_eq!(
        db.item_count().await.unwrap(),
        i64::try_from(5 + landed.len()).unwrap()
    );
    for code in [LIC1_SUB, LIC2, BEN1, CON1] {
        assert_eq!(assert_versions_consistent(db, code).await, 1);
    }
}

// ---------------------------------------------------------------------------------------------
// Accounts.
// ---------------------------------------------------------------------------------------------

fn new_person(resident_id: &str, phone: &str, name: &str) -> NewPerson {
    NewPerson {
        resident_id: resident_id.to_string(),
        name: name.to_string(),
        phone: phone.to_string(),
        email: None,
        assurance_level: AssuranceLevel::L1,
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_string()),
    }
}

const RID1: &str = "11010519491231002X";
const RID2: &str = "110105194912310029";

async fn person_round_trip(db: &Db) {
    let mut new = new_person(RID1, "13800138000", "欧阳·娜娜 𠀀");
    new.email = Some("nana@example.cn".to_string());
    let id = db.insert_person(&new, at(1)).await.unwrap();
    assert!(uuid_like(&id), "{id}");
    let by_id = db.person_by_id(&id).await.unwrap().unwrap();
    assert_eq!(by_id.resident_id, RID1);
    assert_eq!(by_id.name, "欧阳·娜娜 𠀀");
    assert_eq!(by_id.phone, "13800138000");
    assert_eq!(by_id.email.as_deref(), Some("nana@example.cn"));
    assert_eq!(by_id.assurance_level, AssuranceLevel::L1);
    assert_eq!(by_id.password_hash, new.password_hash);
    assert_eq!(by_id.created_at, at(1));
    assert_eq!(
        db.person_by_resident_id(RID1).await.unwrap(),
        Some(by_id.clone())
    );
    assert_eq!(
        db.person_by_phone("13800138000").await.unwrap(),
        Some(by_id.clone())
    );
    assert_eq!(db.person_by_phone("13800138001").await.unwrap(), None);
    assert_eq!(db.person_by_resident_id(RID2).await.unwrap(), None);
    assert_eq!(db.person_by_id("nope").await.unwrap(), None);
    let debug = format!("{by_id:?}");
    assert!(
        !debug.contains(RID1) && debug.contains("110105********002X"),
        "{debug}"
    );
    assert!(
        !debug.contains("13800138000") && !debug.contains("argon2"),
        "{debug}"
    );
}

fn uuid_like(id: &str) -> bool {
    id.len() == 36 && id.chars().filter(|c| *c == '-').count() == 4
}

async fn person_unique_values_are_conflicts(db: &Db) {
    db.insert_person(&new_person(RID1, "13800138000", "张三"), at(1))
        .await
        .unwrap();
    let both = db
        .insert_person(&new_person(RID1, "13800138000", "李四"), at(2))
        .await;
    assert!(
        matches!(&both, Err(StoreError::Conflict(c)) if c == &vec!["resident_id", "phone"]),
        "{both:?}"
    );
    let id_only = db
        .insert_person(&new_person(RID1, "13900139000", "李四"), at(2))
        .await;
    assert!(
        matches!(&id_only, Err(StoreError::Conflict(c)) if c == &vec!["resident_id"]),
        "{id_only:?}"
    );
    let phone_only = db
        .insert_person(&new_person(RID2, "13800138000", "李四"), at(2))
        .await;
    assert!(
        matches!(&phone_only, Err(StoreError::Conflict(c)) if c == &vec!["phone"]),
        "{phone_only:?}"
    );
    assert_eq!(db.person_by_resident_id(RID2).await.unwrap(), None);
    db.insert_person(&new_person(RID2, "13900139000", "李四"), at(3))
        .await
        .unwrap();
}

async fn person_updates(db: &Db) {
    let id = db
        .insert_person(&new_person(RID1, "13800138000", "张三"), at(1))
        .await
        .unwrap();
    assert!(
        db.set_assurance_level(&id, AssuranceLevel::L3)
            .await
            .unwrap()
    );
    assert!(
        db.set_person_password_hash(&id, Some("$argon2id$new"))
            .await
            .unwrap()
    );
    let p = db.person_by_id(&id).await.unwrap().unwrap();
    assert_eq!(p.assurance_level, AssuranceLevel::L3);
    assert_eq!(p.password_hash.as_deref(), Some("$argon2id$new"));
    assert!(db.set_person_password_hash(&id, None).await.unwrap());
    assert_eq!(
        db.person_by_id(&id).await.unwrap().unwrap().password_hash,
        None
    );
    assert!(
        !db.set_assurance_level("nope", AssuranceLevel::L2)
            .await
            .unwrap()
    );
    assert!(!db.set_person_password_hash("nope", None).await.unwrap());
}

async fn organisation_round_trip_and_references(db: &Db) {
    let rep = db
        .insert_person(&new_person(RID1, "13800138000", "王五"), at(1))
        .await
        .unwrap();
    let code = credit_code(XIHU, "00000009");
    let org = OrganisationRow {
        credit_code: code.clone(),
        name: "杭州西湖🌊科技有限公司".to_string(),
        kind: "enterprise".to_string(),
        legal_representative: rep.clone(),
        created_at: at(2),
    };
    db.insert_organisation(&org).await.unwrap();
    assert_eq!(db.organisation(&code).await.unwrap(), Some(org.clone()));
    assert_eq!(db.organisation("nope").await.unwrap(), None);
    let again = db.insert_organisation(&org).await;
    assert!(
        matches!(&again, Err(StoreError::Conflict(c)) if c == &vec!["credit_code"]),
        "{again:?}"
    );
    let orphan = OrganisationRow {
        credit_code: credit_code(XIHU, "00000010"),
        legal_representative: "no-such-person".to_string(),
        ..org
    };
    let refused = db.insert_organisation(&orphan).await;
    assert!(
        matches!(refused, Err(StoreError::UnknownReference("person"))),
        "{refused:?}"
    );
    assert_eq!(db.organisation(&orphan.credit_code).await.unwrap(), None);
}

async fn staff_round_trip_and_references(db: &Db) {
    seed(db).await;
    let new = NewStaff {
        username: "clerk.zhang".to_string(),
        name: "张窗口 ①".to_string(),
        department_code: market_bureau(),
        division_code: XIHU.to_string(),
        roles: vec![
            RoleGrant {
                role: StaffRole::WindowClerk,
                division: DivisionCode::parse(XIHU).unwrap(),
                department: None,
            },
            RoleGrant {
                role: StaffRole::DepartmentOfficer,
                division: DivisionCode::parse(XIHU).unwrap(),
                department: Some(market_bureau()),
            },
        ],
        password_hash: Some("$argon2id$staff".to_string()),
        totp_secret: Some("JBSWY3DPEHPK3PXP".to_string()),
    };
    let id = db.insert_staff(&new, at(5)).await.unwrap();
    let row = db.staff_by_username("clerk.zhang").await.unwrap().unwrap();
    assert_eq!(row.id, id);
    assert_eq!(row.name, new.name);
    assert_eq!(row.department_code, new.department_code);
    assert_eq!(row.roles, new.roles);
    assert_eq!(row.password_hash, new.password_hash);
    assert_eq!(row.totp_secret, new.totp_secret);
    assert_eq!(row.created_at, at(5));
    let debug = format!("{row:?}");
    assert!(
        !debug.contains("JBSWY3DPEHPK3PXP") && !debug.contains("argon2"),
        "{debug}"
    );
    assert_eq!(db.staff_by_username("nobody").await.unwrap(), None);
    let dup = db.insert_staff(&new, at(6)).await;
    assert!(
        matches!(&dup, Err(StoreError::Conflict(c)) if c == &vec!["username"]),
        "{dup:?}"
    );
    let elsewhere = NewStaff {
        username: "ghost".to_string(),
        department_code: credit_code(XIHU, "00000099"),
        ..new
    };
    let refused = db.insert_staff(&elsewhere, at(6)).await;
    assert!(
        matches!(refused, Err(StoreError::UnknownReference("department"))),
        "{refused:?}"
    );
    assert_eq!(db.staff_by_username("ghost").await.unwrap(), None);
}

async fn sign_in_history_newest_first_with_limit(db: &Db) {
    let attempt = |account: Option<&str>, minute: i64, ok: bool| AuthEvent {
        method: "password".to_string(),
        succeeded: ok,
        ip: Some("203.0.113.7".to_string()),
        ..AuthEvent::new("sign_in", AccountKind::Citizen, account, at(minute))
    };
    // Recorded out of order: the history is ordered by time, not by insertion.
    for (minute, ok) in [(3, true), (1, false), (5, false), (2, true), (4, true)] {
        db.record_auth_event(&attempt(Some("acc-a"), minute, ok))
            .await
            .unwrap();
    }
    db.record_auth_event(&attempt(Some("acc-b"), 9, true))
        .await
        .unwrap();
    db.record_auth_event(&attempt(None, 9, false))
        .await
        .unwrap();
    let mut staff = attempt(Some("acc-a"), 6, true);
    staff.account_kind = AccountKind::Staff;
    staff.method = "totp".to_string();
    staff.ip = None;
    db.record_auth_event(&staff).await.unwrap();

    let recent = db.recent_sign_ins("acc-a", 4).await.unwrap();
    let got: Vec<(Timestamp, bool)> = recent.iter().map(|r| (r.at, r.succeeded)).collect();
    assert_eq!(
        got,
        vec![(at(6), true), (at(5), false), (at(4), true), (at(3), true)]
    );
    assert_eq!(recent[0].account_kind, AccountKind::Staff);
    assert_eq!(recent[0].method, "totp");
    assert_eq!(recent[0].ip, None);
    assert_eq!(recent[1].ip.as_deref(), Some("203.0.113.7"));
    assert!(recent.iter().all(|r| uuid_like(&r.id)));
    assert_eq!(db.recent_sign_ins("acc-a", 100).await.unwrap().len(), 6);
    assert_eq!(db.recent_sign_ins("acc-b", 100).await.unwrap().len(), 1);
    assert!(db.recent_sign_ins("acc-c", 100).await.unwrap().is_empty());
    assert!(db.recent_sign_ins("acc-a", 0).await.unwrap().is_empty());
}

fn otp(id: &str, phone: &str, purpose: &str, minute: i64) -> OtpChallengeRow {
    OtpChallengeRow {
        id: id.to_string(),
        phone: phone.to_string(),
        purpose: purpose.to_string(),
        code_digest: format!("digest-{id}"),
        issued_at: at(minute),
        attempts: 0,
        consumed: false,
    }
}

async fn otp_challenge_round_trip_and_counts(db: &Db) {
    assert_eq!(
        db.latest_otp_challenge("13800138000", "sign_in")
            .await
            .unwrap(),
        None
    );
    for (id, phone, purpose, minute) in [
        ("c1", "13800138000", "sign_in", 1),
        ("c3", "13800138000", "sign_in", 3),
        ("c2", "13800138000", "sign_in", 2),
        ("c4", "13800138000", "register", 4),
        ("c5", "13900139000", "sign_in", 5),
    ] {
        db.insert_otp_challenge(&otp(id, phone, purpose, minute))
            .await
            .unwrap();
    }
    let latest = db
        .latest_otp_challenge("13800138000", "sign_in")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest, otp("c3", "13800138000", "sign_in", 3));
    assert!(!format!("{latest:?}").contains("13800138000"));
    assert!(!format!("{latest:?}").contains("digest-c3"));
    assert_eq!(
        db.latest_otp_challenge("13800138000", "register")
            .await
            .unwrap()
            .unwrap()
            .id,
        "c4"
    );
    assert_eq!(
        db.count_otp_issued_since("13800138000", at(0))
            .await
            .unwrap(),
        4
    );
    assert_eq!(
        db.count_otp_issued_since("13800138000", at(3))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        db.count_otp_issued_since("13900139000", at(6))
            .await
            .unwrap(),
        0
    );
    assert!(matches!(
        db.insert_otp_challenge(&otp("c1", "13700137000", "sign_in", 9)).await,
        Err(StoreError::Conflict(c)) if c == vec!["id"]
    ));
    assert!(db.delete_otp_challenge("c3").await.unwrap());
    assert!(!db.delete_otp_challenge("c3").await.unwrap());
    assert_eq!(
        db.latest_otp_challenge("13800138000", "sign_in")
            .await
            .unwrap()
            .unwrap()
            .id,
        "c2"
    );
}

async fn otp_update_applies_once(db: &Db) {
    db.insert_otp_challenge(&otp("c1", "13800138000", "sign_in", 1))
        .await
        .unwrap();
    // A wrong code: 0 -> 1 applies once; a second writer that read 0 loses.
    assert!(db.update_otp_challenge("c1", 0, 1, false).await.unwrap());
    assert!(!db.update_otp_challenge("c1", 0, 1, false).await.unwrap());
    // Concurrent acceptances of the same state: exactly one applies.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { db.update_otp_challenge("c1", 1, 1, true).await.unwrap() })
        })
        .collect();
    let mut applied = 0;
    for t in tasks {
        applied += usize::from(t.await.unwrap());
    }
    assert_eq!(applied, 1);
    let c = db
        .latest_otp_challenge("13800138000", "sign_in")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((c.attempts, c.consumed), (1, true));
    // Consumed challenges never change again.
    assert!(!db.update_otp_challenge("c1", 1, 2, false).await.unwrap());
    assert!(!db.update_otp_challenge("nope", 0, 1, false).await.unwrap());
}

async fn sms_messages_per_phone_newest_first(db: &Db) {
    let msg = |id: &str, phone: &str, minute: i64, status: &str| SmsMessageRow {
        id: id.to_string(),
        phone: phone.to_string(),
        template: "sign_in_code".to_string(),
        body: format!("【onetrip】您的验证码为{id}，5分钟内有效。请勿泄露。"),
        status: status.to_string(),
        sent_at: at(minute),
    };
    db.insert_sms_message(&msg("m1", "13800138000", 1, "sent"))
        .await
        .unwrap();
    db.insert_sms_message(&msg("m3", "13800138000", 3, "failed"))
        .await
        .unwrap();
    db.insert_sms_message(&msg("m2", "13800138000", 2, "sent"))
        .await
        .unwrap();
    db.insert_sms_message(&msg("m4", "13900139000", 4, "sent"))
        .await
        .unwrap();
    let got = db.sms_messages("13800138000").await.unwrap();
    let ids: Vec<&str> = got.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, vec!["m3", "m2", "m1"]);
    assert_eq!(got[0], msg("m3", "13800138000", 3, "failed"));
    assert!(!format!("{:?}", got[0]).contains("验证码"));
    assert!(db.sms_messages("13700137000").await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Population registry.
// ---------------------------------------------------------------------------------------------

fn registry_row(resident_id: &str, name: &str, status: PopulationStatus) -> PopulationRow {
    PopulationRow {
        resident_id: resident_id.to_string(),
        name: name.to_string(),
        status,
    }
}

async fn population_round_trip(db: &Db) {
    assert_eq!(db.population_count().await.unwrap(), 0);
    let rows = vec![
        registry_row(RID1, "张三", PopulationStatus::Active),
        registry_row(RID2, "买买提·艾力 𠀀", PopulationStatus::Deceased),
    ];
    db.upsert_population(&rows).await.unwrap();
    assert_eq!(db.population_count().await.unwrap(), 2);
    for row in &rows {
        assert_eq!(
            db.population_by_resident_id(&row.resident_id)
                .await
                .unwrap()
                .as_ref(),
            Some(row)
        );
    }
    db.upsert_population(&[]).await.unwrap();
    assert_eq!(db.population_count().await.unwrap(), 2);
}

async fn population_upsert_replaces(db: &Db) {
    db.upsert_population(&[registry_row(RID1, "张三", PopulationStatus::Active)])
        .await
        .unwrap();
    db.upsert_population(&[
        registry_row(RID1, "张叁", PopulationStatus::Cancelled),
        registry_row(RID2, "李四", PopulationStatus::Active),
    ])
    .await
    .unwrap();
    assert_eq!(db.population_count().await.unwrap(), 2);
    assert_eq!(
        db.population_by_resident_id(RID1).await.unwrap(),
        Some(registry_row(RID1, "张叁", PopulationStatus::Cancelled))
    );
    assert_eq!(
        db.population_by_resident_id(RID2).await.unwrap(),
        Some(registry_row(RID2, "李四", PopulationStatus::Active))
    );
}

async fn population_unknown_is_none(db: &Db) {
    assert_eq!(db.population_by_resident_id(RID1).await.unwrap(), None);
    db.upsert_population(&[registry_row(RID1, "张三", PopulationStatus::Active)])
        .await
        .unwrap();
    assert_eq!(db.population_by_resident_id(RID2).await.unwrap(), None);
    assert_eq!(db.population_by_resident_id("").await.unwrap(), None);
}

// ---------------------------------------------------------------------------------------------
// Identity, part 2: staff grants, audit log, sessions, delegations, the OpenID Connect provider.
// ---------------------------------------------------------------------------------------------

async fn staff_roles_totp_and_disable(db: &Db) {
    seed(db).await;
    let new = NewStaff {
        username: "head.li".to_string(),
        name: "李科长".to_string(),
        department_code: market_bureau(),
        division_code: XIHU.to_string(),
        roles: vec![],
        password_hash: None,
        totp_secret: None,
    };
    let id = db.insert_staff(&new, at(1)).await.unwrap();
    let grants = vec![RoleGrant {
        role: StaffRole::SystemAdministrator,
        division: DivisionCode::parse(HANGZHOU).unwrap(),
        department: None,
    }];
    assert!(db.set_staff_roles(&id, &grants).await.unwrap());
    assert!(!db.set_staff_roles("nobody", &grants).await.unwrap());
    assert!(db.set_staff_totp(&id, Some("GEZDGNBV")).await.unwrap());
    assert!(db.advance_staff_totp_step(&id, 100).await.unwrap());
    // The same step, or an earlier one, is a replay.
    assert!(!db.advance_staff_totp_step(&id, 100).await.unwrap());
    assert!(!db.advance_staff_totp_step(&id, 99).await.unwrap());
    assert!(db.advance_staff_totp_step(&id, 101).await.unwrap());
    assert!(
        db.set_staff_password_hash(&id, "$argon2id$x")
            .await
            .unwrap()
    );
    assert!(db.set_staff_disabled(&id, true).await.unwrap());
    let row = db.staff_by_id(&id).await.unwrap().unwrap();
    assert_eq!(row.roles, grants);
    assert_eq!(row.division_code, XIHU);
    assert_eq!(row.totp_secret.as_deref(), Some("GEZDGNBV"));
    assert_eq!(row.totp_last_step, Some(101));
    assert_eq!(row.password_hash.as_deref(), Some("$argon2id$x"));
    assert!(row.disabled);
    // Re-enrolling forgets the last step.
    assert!(db.set_staff_totp(&id, Some("MFRGGZDF")).await.unwrap());
    assert_eq!(
        db.staff_by_id(&id).await.unwrap().unwrap().totp_last_step,
        None
    );
    assert_eq!(db.list_staff().await.unwrap().len(), 1);
    assert_eq!(db.staff_by_id("nobody").await.unwrap(), None);
}

async fn auth_events_count_failures_per_login_and_ip(db: &Db) {
    let event = |login: &str, ip: &str, minute: i64, ok: bool| AuthEvent {
        method: "password".to_string(),
        succeeded: ok,
        ip: Some(ip.to_string()),
        login_digest: Some(login.to_string()),
        ..AuthEvent::new("sign_in", AccountKind::Citizen, None, at(minute))
    };
    for (login, ip, minute, ok) in [
        ("L1", "198.51.100.1", 1, false),
        ("L1", "198.51.100.1", 2, false),
        ("L1", "198.51.100.2", 3, false),
        ("L1", "198.51.100.2", 4, true),
        ("L2", "198.51.100.1", 5, false),
        ("L1", "198.51.100.1", 0, false),
    ] {
        db.record_auth_event(&event(login, ip, minute, ok))
            .await
            .unwrap();
    }
    // Not a sign-in: never counted.
    let mut other = event("L1", "198.51.100.1", 6, false);
    other.kind = "otp_issued".to_string();
    db.record_auth_event(&other).await.unwrap();

    let (login, ip) = db
        .sign_in_failures("L1", Some("198.51.100.1"), at(1))
        .await
        .unwrap();
    assert_eq!((login.count, login.latest), (3, Some(at(3))));
    assert_eq!((ip.count, ip.latest), (3, Some(at(5))));
    let (login, ip) = db.sign_in_failures("L3", None, at(0)).await.unwrap();
    assert_eq!((login.count, login.latest), (0, None));
    assert_eq!((ip.count, ip.latest), (0, None));

    let mut staff_event = AuthEvent::new("role_change", AccountKind::Staff, Some("s1"), at(7));
    staff_event.detail = Some(r#"{"by":"admin"}"#.to_string());
    db.record_auth_event(&staff_event).await.unwrap();
    let events = db.recent_auth_events("s1", 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "role_change");
    assert_eq!(events[0].detail.as_deref(), Some(r#"{"by":"admin"}"#));
    assert!(db.recent_sign_ins("s1", 10).await.unwrap().is_empty());
}

async fn auth_events_by_method_include_those_without_account(db: &Db) {
    let event = |account: Option<&str>, method: &str, minute: i64, ok: bool| AuthEvent {
        method: method.to_string(),
        succeeded: ok,
        detail: Some(format!(r#"{{"minute":{minute}}}"#)),
        ..AuthEvent::new("sign_in", AccountKind::Citizen, account, at(minute))
    };
    for (account, method, minute, ok) in [
        (Some("p1"), "partner:js", 1, true),
        (None, "partner:js", 3, false),
        (None, "partner:gd", 4, false),
        (Some("p1"), "password", 5, true),
        (Some("p2"), "partner:js", 2, true),
    ] {
        db.record_auth_event(&event(account, method, minute, ok))
            .await
            .unwrap();
    }
    let events = db
        .recent_auth_events_by_method("partner:js", 10)
        .await
        .unwrap();
    let seen: Vec<(Option<&str>, bool, Timestamp)> = events
        .iter()
        .map(|e| (e.account_id.as_deref(), e.succeeded, e.at))
        .collect();
    assert_eq!(
        seen,
        vec![
            (None, false, at(3)),
            (Some("p2"), true, at(2)),
            (Some("p1"), true, at(1))
        ]
    );
    assert_eq!(events[0].detail.as_deref(), Some(r#"{"minute":3}"#));
    assert_eq!(
        db.recent_auth_events_by_method("partner:js", 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        db.recent_auth_events_by_method("partner:zj", 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn sessions_expire_and_delete(db: &Db) {
    assert!(db.insert_session("d1", r#"{"a":1}"#, at(10)).await.unwrap());
    assert!(!db.insert_session("d1", "{}", at(10)).await.unwrap());
    assert_eq!(
        db.load_session("d1", at(5)).await.unwrap(),
        Some((r#"{"a":1}"#.to_string(), at(10)))
    );
    assert_eq!(db.load_session("d1", at(10)).await.unwrap(), None);
    db.save_session("d1", r#"{"a":2}"#, at(20)).await.unwrap();
    assert_eq!(
        db.load_session("d1", at(10)).await.unwrap(),
        Some((r#"{"a":2}"#.to_string(), at(20)))
    );
    db.save_session("d2", "{}", at(3)).await.unwrap();
    assert_eq!(db.delete_expired_sessions(at(4)).await.unwrap(), 1);
    db.delete_session("d1").await.unwrap();
    assert_eq!(db.load_session("d1", at(0)).await.unwrap(), None);
}

async fn delegations_round_trip_and_revoke_once(db: &Db) {
    let rep = db
        .insert_person(&new_person(RID1, "13800138000", "王五"), at(1))
        .await
        .unwrap();
    let agent = db
        .insert_person(&new_person(RID2, "13900139000", "赵六"), at(1))
        .await
        .unwrap();
    let code = credit_code(XIHU, "00000009");
    db.insert_organisation(&OrganisationRow {
        credit_code: code.clone(),
        name: "杭州西湖科技有限公司".to_string(),
        kind: "enterprise".to_string(),
        legal_representative: rep.clone(),
        created_at: at(2),
    })
    .await
    .unwrap();
    let date = |s: &str| s.parse::<jiff::civil::Date>().unwrap();
    let d = onetrip_store::DelegationRow {
        id: "del-1".to_string(),
        organisation: code.clone(),
        agent: agent.clone(),
        items: Some(vec!["A".to_string(), "B".to_string()]),
        valid_from: date("2026-01-01"),
        valid_to: date("2026-12-31"),
        granted_by: rep.clone(),
        granted_at: at(3),
        revoked: None,
    };
    db.insert_delegation(&d).await.unwrap();
    let all = onetrip_store::DelegationRow {
        id: "del-2".to_string(),
        items: None,
        granted_at: at(4),
        ..d.clone()
    };
    db.insert_delegation(&all).await.unwrap();
    assert_eq!(db.delegation("del-1").await.unwrap(), Some(d.clone()));
    let ids = |rows: Vec<onetrip_store::DelegationRow>| {
        rows.into_iter().map(|r| r.id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(db.delegations_of_organisation(&code).await.unwrap()),
        vec!["del-2", "del-1"]
    );
    assert_eq!(
        ids(db.delegations_of_agent(&agent).await.unwrap()),
        vec!["del-2", "del-1"]
    );
    assert!(db.delegations_of_agent(&rep).await.unwrap().is_empty());
    assert!(
        db.revoke_delegation("del-1", date("2026-06-01"), "离职", at(5))
            .await
            .unwrap()
    );
    assert!(
        !db.revoke_delegation("del-1", date("2026-07-01"), "again", at(6))
            .await
            .unwrap()
    );
    let revoked = db.delegation("del-1").await.unwrap().unwrap();
    assert_eq!(
        revoked.revoked,
        Some((date("2026-06-01"), "离职".to_string(), at(5)))
    );
    let orphan = onetrip_store::DelegationRow {
        id: "del-3".to_string(),
        agent: "nobody".to_string(),
        ..d
    };
    assert!(matches!(
        db.insert_delegation(&orphan).await,
        Err(StoreError::UnknownReference(_))
    ));
    let represented = db.organisations_represented_by(&rep).await.unwrap();
    assert_eq!(represented.len(), 1);
    assert_eq!(represented[0].credit_code, code);
}

fn client_row(id: &str) -> onetrip_store::ClientRow {
    onetrip_store::ClientRow {
        client_id: id.to_string(),
        name: "不动产登记系统".to_string(),
        secret_digest: Some("digest".to_string()),
        redirect_uris: vec!["https://bdc.example/cb".to_string()],
        post_logout_redirect_uris: vec!["https://bdc.example/".to_string()],
        grant_types: vec![
            "authorization_code".to_string(),
            "refresh_token".to_string(),
        ],
        scopes: vec!["openid".to_string(), "profile".to_string()],
        department_code: None,
        created_at: at(1),
        disabled: false,
    }
}

fn grant_facts(client: &str) -> onetrip_store::GrantFacts {
    onetrip_store::GrantFacts {
        client_id: client.to_string(),
        account_id: "acct".to_string(),
        scope: "openid profile".to_string(),
        acr: "urn:onetrip:loa:2".to_string(),
        amr: r#"["pwd"]"#.to_string(),
        auth_time: at(1),
        acting_for: None,
        session_ref: Some("sess".to_string()),
    }
}

async fn oidc_clients_round_trip(db: &Db) {
    let c = client_row("bdc");
    db.insert_client(&c).await.unwrap();
    assert_eq!(db.client("bdc").await.unwrap(), Some(c.clone()));
    assert!(matches!(
        db.insert_client(&c).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(db.set_client_secret("bdc", "new").await.unwrap());
    assert!(db.set_client_disabled("bdc", true).await.unwrap());
    let got = db.client("bdc").await.unwrap().unwrap();
    assert_eq!(got.secret_digest.as_deref(), Some("new"));
    assert!(got.disabled);
    assert_eq!(db.list_clients().await.unwrap().len(), 1);
    assert_eq!(db.client("none").await.unwrap(), None);
    assert!(!format!("{got:?}").contains("new\""));
}

async fn oidc_codes_are_spent_once(db: &Db) {
    db.insert_client(&client_row("bdc")).await.unwrap();
    let code = onetrip_store::CodeRow {
        code_digest: "c1".to_string(),
        redirect_uri: "https://bdc.example/cb".to_string(),
        nonce: Some("n".to_string()),
        code_challenge: "ch".to_string(),
        facts: grant_facts("bdc"),
        expires_at: at(2),
    };
    db.insert_code(&code).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            db.spend_code("c1", at(1)).await.unwrap()
        }));
    }
    let mut got = Vec::new();
    for t in tasks {
        if let Some(c) = t.await.unwrap() {
            got.push(c);
        }
    }
    assert_eq!(got, vec![code]);
    assert_eq!(db.spend_code("unknown", at(1)).await.unwrap(), None);
}

async fn oidc_refresh_rotation_is_single_use(db: &Db) {
    db.insert_client(&client_row("bdc")).await.unwrap();
    let first = onetrip_store::RefreshRow {
        token_digest: "r1".to_string(),
        family: "r1".to_string(),
        facts: grant_facts("bdc"),
        issued_at: at(1),
        expires_at: at(100),
        spent_at: None,
        revoked_at: None,
    };
    db.insert_refresh_token(&first).await.unwrap();
    let next = |n: usize| onetrip_store::RefreshRow {
        token_digest: format!("r2-{n}"),
        issued_at: at(2),
        ..first.clone()
    };
    let mut tasks = Vec::new();
    for n in 0..8 {
        let db = db.clone();
        let row = next(n);
        tasks.push(tokio::spawn(async move {
            db.rotate_refresh_token("r1", &row, at(2)).await.unwrap()
        }));
    }
    let mut wins = 0;
    for t in tasks {
        wins += usize::from(t.await.unwrap());
    }
    assert_eq!(wins, 1, "exactly one concurrent rotation wins");
    let spent = db.refresh_token("r1").await.unwrap().unwrap();
    assert_eq!(spent.spent_at, Some(at(2)));
    assert_eq!(db.revoke_refresh_family("r1", at(3)).await.unwrap(), 2);
    let all_revoked = db.refresh_token("r1").await.unwrap().unwrap();
    assert_eq!(all_revoked.revoked_at, Some(at(3)));
    let mut session_bound = first.clone();
    session_bound.token_digest = "r9".to_string();
    session_bound.family = "r9".to_string();
    db.insert_refresh_token(&session_bound).await.unwrap();
    assert_eq!(
        db.revoke_refresh_tokens_of_session("sess", at(4))
            .await
            .unwrap(),
        1
    );
    assert!(
        !db.rotate_refresh_token("r9", &next(99), at(5))
            .await
            .unwrap()
    );
    assert_eq!(db.refresh_token("r2-99").await.unwrap(), None);
}

async fn signing_keys_round_trip(db: &Db) {
    for (kid, minute) in [("k1", 1), ("k2", 2)] {
        db.insert_signing_key(&onetrip_store::SigningKeyRow {
            kid: kid.to_string(),
            alg: "ES256".to_string(),
            private_pem: "-----BEGIN PRIVATE KEY-----".to_string(),
            created_at: at(minute),
            retired_at: None,
        })
        .await
        .unwrap();
    }
    let keys = db.signing_keys().await.unwrap();
    assert_eq!(
        keys.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(),
        vec!["k2", "k1"]
    );
    assert!(!format!("{:?}", keys[0]).contains("BEGIN"));
    assert!(db.retire_signing_key("k1", at(3)).await.unwrap());
    assert!(!db.retire_signing_key("k1", at(4)).await.unwrap());
    assert_eq!(db.signing_keys().await.unwrap()[1].retired_at, Some(at(3)));
}

// ---------------------------------------------------------------------------------------------
// Electronic certificates.
// ---------------------------------------------------------------------------------------------

fn certificate_type(code: &str) -> onetrip_domain::certificate::CertificateType {
    use onetrip_domain::certificate::*;
    CertificateType {
        code: code.into(),
        name: "驾驶证".into(),
        name_en: "Driving licence".into(),
        type_code: "1111000000001930XA005".into(),
        issuing_department: "11330100040374066D".into(),
        holder_kind: HolderKind::Person,
        fields: vec![FieldDef {
            key: "name".into(),
            name: "姓名".into(),
            name_en: "Name".into(),
            field_type: FieldType::Text,
            required: true,
        }],
        birth_field: None,
        validity: ValidityRule::driving_licence(),
    }
}

fn seal_key_row(id: &str, department: &str, at: Timestamp) -> onetrip_store::SealKeyRow {
    onetrip_store::SealKeyRow {
        id: id.into(),
        department: department.into(),
        public_key_pem: format!("-----BEGIN PUBLIC KEY-----\n{id}\n-----END PUBLIC KEY-----\n"),
        private_key_pem: Some("PRIVATE-KEY-MATERIAL".into()),
        created_at: at,
        retired_at: None,
    }
}

async fn certificate_types_round_trip(db: &Db) {
    let t = certificate_type("DRIVING_LICENCE");
    db.save_certificate_type(&t, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(
        db.certificate_type("DRIVING_LICENCE").await.unwrap(),
        Some(t.clone())
    );
    let mut changed = t.clone();
    changed.name = "机动车驾驶证".into();
    db.save_certificate_type(&changed, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(db.certificate_types().await.unwrap(), vec![changed]);
    assert_eq!(db.certificate_type("NONE").await.unwrap(), None);
}

async fn seal_keys_rotate_with_one_active_key(db: &Db) {
    let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let t1: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
    db.insert_seal_key(&seal_key_row("d-1", "D", t0), false)
        .await
        .unwrap();
    // A second active key without rotation is refused; a taken id too.
    assert!(matches!(
        db.insert_seal_key(&seal_key_row("d-2", "D", t1), false).await,
        Err(StoreError::Conflict(c)) if c == ["department"]
    ));
    assert!(matches!(
        db.insert_seal_key(&seal_key_row("d-1", "E", t1), false).await,
        Err(StoreError::Conflict(c)) if c == ["id"]
    ));
    db.insert_seal_key(&seal_key_row("d-2", "D", t1), true)
        .await
        .unwrap();
    assert_eq!(db.active_seal_key("D").await.unwrap().unwrap().id, "d-2");
    let all = db.seal_keys_of("D").await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].id, "d-1");
    assert_eq!(all[0].retired_at, Some(t1));
    assert_eq!(all[1].retired_at, None);
    // Retired keys stay readable by id.
    assert_eq!(db.seal_key("d-1").await.unwrap().unwrap().created_at, t0);
    assert!(!format!("{:?}", all[0]).contains("PRIVATE-KEY-MATERIAL"));
    assert_eq!(db.active_seal_key("nobody").await.unwrap(), None);
}

async fn certificate_serials_never_repeat(db: &Db) {
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for _ in 0..5 {
                got.push(db.next_certificate_serial("scope-a").await.unwrap());
            }
            got
        }));
    }
    let mut all = BTreeSet::new();
    for t in tasks {
        for n in t.await.unwrap() {
            assert!(all.insert(n), "serial {n} twice");
        }
    }
    assert_eq!(all, (1..=40).collect());
    assert_eq!(db.next_certificate_serial("scope-b").await.unwrap(), 1);
}

async fn certificates_round_trip_list_and_revoke_once(db: &Db) {
    use onetrip_domain::certificate::{CertificateStatus, HolderKind};
    let now: Timestamp = "2026-11-21T02:00:00.123456Z".parse().unwrap();
    db.save_certificate_type(&certificate_type("DRIVING_LICENCE"), now)
        .await
        .unwrap();
    db.insert_seal_key(&seal_key_row("k-1", "11330100040374066D", now), false)
        .await
        .unwrap();
    let row = |id: &str, holder: &str, on: jiff::civil::Date, until: Option<jiff::civil::Date>| {
        onetrip_store::CertificateRow {
            id: id.into(),
            type_code: "DRIVING_LICENCE".into(),
            holder_kind: HolderKind::Person,
            holder_id: holder.into(),
            issuer: "11330100040374066D".into(),
            content: serde_json::json!({"name": "陈志明"}),
            signed: "{\"content\":{\"name\":\"陈志明\"}}".into(),
            issued_on: on,
            valid_until: until,
            issued_at: now,
            revoked_at: None,
            revocation_reason: None,
            seal_key_id: "k-1".into(),
            signature: "MEUC".into(),
        }
    };
    let a = row(
        "A",
        "330102198503140138",
        date(2014, 6, 5),
        Some(date(2020, 6, 5)),
    );
    let b = row("B", "330102198503140138", date(2020, 6, 1), None);
    let c = row("C", "330102199007220264", date(2020, 6, 1), None);
    for r in [&a, &b, &c] {
        db.insert_certificate(r, None).await.unwrap();
    }
    assert!(
        matches!(db.insert_certificate(&a, None).await, Err(StoreError::Conflict(c)) if c == ["id"])
    );
    let mut unknown_key = row("D", "x", date(2020, 1, 1), None);
    unknown_key.seal_key_id = "nope".into();
    assert!(matches!(
        db.insert_certificate(&unknown_key, None).await,
        Err(StoreError::UnknownReference(_))
    ));
    // With an idempotency record: remembered with the certificate; a second certificate under
    // the same key is refused and not stored.
    let key = |response: &str| onetrip_store::IdempotencyRecord {
        scope: "staff:s-1".into(),
        key: "issue-1".into(),
        request_hash: "h".into(),
        response: response.into(),
    };
    let e = row("E", "330102199007220264", date(2021, 1, 1), None);
    db.insert_certificate(&e, Some(&key("\"E\"")))
        .await
        .unwrap();
    let f = row("F", "330102199007220264", date(2021, 1, 1), None);
    assert!(matches!(
        db.insert_certificate(&f, Some(&key("\"F\""))).await,
        Err(StoreError::Conflict(c)) if c == ["idempotency"]
    ));
    assert_eq!(db.certificate("F").await.unwrap(), None);
    let remembered = db
        .idempotent_response("staff:s-1", "issue-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(remembered.response, "\"E\"");
    assert_eq!(db.certificate("A").await.unwrap(), Some(a.clone()));
    assert!(!format!("{a:?}").contains("330102198503140138"));
    let mine = db
        .holder_certificates(HolderKind::Person, "330102198503140138", date(2026, 11, 21))
        .await
        .unwrap();
    assert_eq!(
        mine.iter()
            .map(|c| (c.id.as_str(), c.status))
            .collect::<Vec<_>>(),
        [
            ("B", CertificateStatus::Valid),
            ("A", CertificateStatus::Expired)
        ]
    );
    assert_eq!(
        db.certificates_of_holder(HolderKind::Person, "330102198503140138")
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        db.holder_certificates(
            HolderKind::Organisation,
            "330102198503140138",
            date(2026, 11, 21)
        )
        .await
        .unwrap()
        .is_empty()
    );
    assert_eq!(
        db.certificate_issue_count(HolderKind::Person, "330102198503140138", "DRIVING_LICENCE")
            .await
            .unwrap(),
        2
    );
    assert!(db.revoke_certificate("B", now, "遗失").await.unwrap());
    assert!(!db.revoke_certificate("B", now, "again").await.unwrap());
    assert!(!db.revoke_certificate("Z", now, "none").await.unwrap());
    let b = db.certificate("B").await.unwrap().unwrap();
    assert_eq!(b.revoked_at, Some(now));
    assert_eq!(b.revocation_reason.as_deref(), Some("遗失"));
    assert_eq!(b.status_on(date(2026, 11, 21)), CertificateStatus::Revoked);
    // A, B, C and E (F was refused).
    assert_eq!(db.certificate_count().await.unwrap(), 4);
}

// Data sharing.
// ---------------------------------------------------------------------------------------------

mod sharing_fixtures {
    use onetrip_domain::sharing::{
        DataField, DataResource, FieldType, Grade, MaskRule, SharingType, SubjectKind, UpdateCycle,
    };

    pub const HRSS: &str = "11330000045628651N";
    pub const MCA: &str = "113300000024820668";

    pub fn resource(code: &str, name: &str, provider: &str, sharing: SharingType) -> DataResource {
        DataResource {
            code: code.into(),
            name: name.into(),
            name_en: format!("{code} in English"),
            provider: provider.into(),
            provider_name: "提供部门".into(),
            subject: SubjectKind::Person,
            fields: vec![
                DataField {
                    key: "name".into(),
                    label: "姓名".into(),
                    label_en: Some("Name".into()),
                    field_type: FieldType::String,
                    grade: Grade::L2,
                    mask: MaskRule::Name,
                },
                DataField {
                    key: "status".into(),
                    label: "状态".into(),
                    label_en: None,
                    field_type: FieldType::String,
                    grade: Grade::L1,
                    mask: MaskRule::Keep { head: 1, tail: 0 },
                },
            ],
            sharing,
            basis: "依据".into(),
            update_cycle: UpdateCycle::Monthly,
            summary: "摘要 ✓".into(),
        }
    }
}

async fn data_resources_round_trip_and_search(db: &Db) {
    use onetrip_domain::sharing::SharingType;
    use onetrip_store::ResourceFilter;
    use sharing_fixtures::*;
    assert_eq!(db.data_resource_count().await.unwrap(), 0);
    let social = resource(
        "ZJ_SOCIAL_INSURANCE_RECORD",
        "社会保险参保信息",
        HRSS,
        SharingType::Conditional,
    );
    let marriage = resource(
        "ZJ_MARRIAGE_RECORD",
        "婚姻登记信息",
        MCA,
        SharingType::Conditional,
    );
    let open = resource("ZJ_OPEN_DATA", "公开信息", MCA, SharingType::Unconditional);
    db.put_data_resources(&[social.clone(), marriage.clone(), open.clone()], at(1))
        .await
        .unwrap();
    assert_eq!(db.data_resource_count().await.unwrap(), 3);
    assert_eq!(
        db.data_resource("ZJ_MARRIAGE_RECORD").await.unwrap(),
        Some(marriage.clone())
    );
    assert_eq!(db.data_resource("NONE").await.unwrap(), None);
    let codes = |v: Vec<onetrip_domain::sharing::DataResource>| {
        v.into_iter().map(|r| r.code).collect::<Vec<_>>()
    };
    let search = |q: &str, provider: &str, sharing: &str| ResourceFilter {
        q: q.into(),
        provider: provider.into(),
        sharing: sharing.into(),
    };
    assert_eq!(
        codes(db.data_resources(&search("", "", "")).await.unwrap()),
        vec![
            "ZJ_MARRIAGE_RECORD",
            "ZJ_OPEN_DATA",
            "ZJ_SOCIAL_INSURANCE_RECORD"
        ]
    );
    assert_eq!(
        codes(db.data_resources(&search("婚姻", "", "")).await.unwrap()),
        vec!["ZJ_MARRIAGE_RECORD"]
    );
    // Codes and English names match case-insensitively; LIKE wildcards are literal.
    assert_eq!(
        codes(db.data_resources(&search("social", "", "")).await.unwrap()),
        vec!["ZJ_SOCIAL_INSURANCE_RECORD"]
    );
    assert!(
        db.data_resources(&search("%", "", ""))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        codes(
            db.data_resources(&search("", MCA, "conditional"))
                .await
                .unwrap()
        ),
        vec!["ZJ_MARRIAGE_RECORD"]
    );
    assert_eq!(
        codes(
            db.data_resources(&search(&MCA[..12], "", ""))
                .await
                .unwrap()
        ),
        vec!["ZJ_MARRIAGE_RECORD", "ZJ_OPEN_DATA"]
    );
    // Replacing keeps one row and the new content.
    let mut changed = marriage.clone();
    changed.sharing = SharingType::NotShared;
    changed.name = "婚姻登记（新）".into();
    db.put_data_resources(&[changed.clone()], at(2))
        .await
        .unwrap();
    assert_eq!(db.data_resource_count().await.unwrap(), 3);
    assert_eq!(
        db.data_resource("ZJ_MARRIAGE_RECORD").await.unwrap(),
        Some(changed)
    );
    assert_eq!(
        codes(
            db.data_resources(&search("", "", "not_shared"))
                .await
                .unwrap()
        ),
        vec!["ZJ_MARRIAGE_RECORD"]
    );
}

/// A conditional social-insurance resource and an unconditional marriage resource.
fn social_and_marriage() -> (
    onetrip_domain::sharing::DataResource,
    onetrip_domain::sharing::DataResource,
) {
    use onetrip_domain::sharing::SharingType;
    use sharing_fixtures::*;
    (
        resource(
            "ZJ_SOCIAL_INSURANCE_RECORD",
            "社保",
            HRSS,
            SharingType::Conditional,
        ),
        resource(
            "ZJ_MARRIAGE_RECORD",
            "婚姻",
            MCA,
            SharingType::Unconditional,
        ),
    )
}

fn access_request(
    id: &str,
    consumer: onetrip_domain::sharing::Consumer,
    resource: &str,
    provider: &str,
    n: i64,
) -> onetrip_domain::sharing::AccessRequest {
    use onetrip_domain::sharing::{AccessRequest, RequestStatus};
    AccessRequest {
        id: id.into(),
        consumer,
        resource: resource.into(),
        provider: provider.into(),
        fields: vec!["name".into()],
        purpose: "service-application".into(),
        valid_until: date(2027, 12, 31),
        status: RequestStatus::Pending,
        due_on: Some(date(2026, 11, 27)),
        requested_by: "operator".into(),
        requested_at: at(n),
        decided_by: None,
        decided_at: None,
        decision_note: None,
    }
}

fn grant_of(
    id: &str,
    r: &onetrip_domain::sharing::AccessRequest,
    n: i64,
) -> onetrip_domain::sharing::Grant {
    onetrip_domain::sharing::Grant {
        id: id.into(),
        consumer: r.consumer.clone(),
        resource: r.resource.clone(),
        fields: r.fields.clone(),
        purpose: r.purpose.clone(),
        valid_until: r.valid_until,
        request_id: Some(r.id.clone()),
        granted_at: at(n),
        revoked_at: None,
    }
}

async fn access_requests_and_grants(db: &Db) {
    use onetrip_domain::sharing::{Consumer, RequestStatus};
    use onetrip_store::RequestFilter;
    use sharing_fixtures::*;
    let (social, marriage) = social_and_marriage();
    db.put_data_resources(&[social, marriage], at(0))
        .await
        .unwrap();
    let client = Consumer::Client("c-1".into());
    let item = Consumer::Item("123301000597435545200050001001".into());
    let r1 = access_request("r1", client.clone(), "ZJ_SOCIAL_INSURANCE_RECORD", HRSS, 1);
    db.insert_access_request(&r1, None, None).await.unwrap();
    // Granted at once: the request and its grant together.
    let mut r2 = access_request("r2", item.clone(), "ZJ_MARRIAGE_RECORD", MCA, 2);
    r2.status = RequestStatus::Approved;
    r2.due_on = None;
    r2.decided_by = Some("platform".into());
    r2.decided_at = Some(at(2));
    let g2 = grant_of("g2", &r2, 2);
    db.insert_access_request(&r2, Some(&g2), None)
        .await
        .unwrap();
    assert_eq!(db.access_request("r1").await.unwrap(), Some(r1.clone()));
    assert_eq!(db.access_request("r2").await.unwrap(), Some(r2.clone()));
    // An unknown resource is refused and leaves nothing.
    let bad = access_request("r3", client.clone(), "NONE", HRSS, 3);
    assert!(matches!(
        db.insert_access_request(&bad, None, None).await,
        Err(StoreError::UnknownReference(_))
    ));
    assert_eq!(db.access_request("r3").await.unwrap(), None);
    // Filters.
    let ids = |v: Vec<onetrip_domain::sharing::AccessRequest>| {
        v.into_iter().map(|r| r.id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(db.access_requests(&RequestFilter::default()).await.unwrap()),
        vec!["r2", "r1"]
    );
    assert_eq!(
        ids(db
            .access_requests(&RequestFilter {
                provider: Some(HRSS.into()),
                status: Some(RequestStatus::Pending),
                ..RequestFilter::default()
            })
            .await
            .unwrap()),
        vec!["r1"]
    );
    assert_eq!(
        ids(db
            .access_requests(&RequestFilter {
                consumer: Some(item.clone()),
                ..RequestFilter::default()
            })
            .await
            .unwrap()),
        vec!["r2"]
    );
    // Deciding applies once, with the grant in the same transaction.
    let g1 = grant_of("g1", &r1, 5);
    assert!(
        db.decide_access_request(
            "r1",
            RequestStatus::Approved,
            "staff:s",
            Some("ok"),
            at(5),
            Some(&g1)
        )
        .await
        .unwrap()
    );
    let g1b = grant_of("g1b", &r1, 6);
    assert!(
        !db.decide_access_request(
            "r1",
            RequestStatus::Rejected,
            "staff:s",
            Some("no"),
            at(6),
            Some(&g1b)
        )
        .await
        .unwrap()
    );
    assert_eq!(db.grant("g1b").await.unwrap(), None);
    let decided = db.access_request("r1").await.unwrap().unwrap();
    assert_eq!(decided.status, RequestStatus::Approved);
    assert_eq!(decided.decided_by.as_deref(), Some("staff:s"));
    assert_eq!(decided.decided_at, Some(at(5)));
    assert_eq!(decided.decision_note.as_deref(), Some("ok"));
    // Grants by consumer and resource; revocation once.
    assert_eq!(
        db.grants(Some(&client), None).await.unwrap(),
        vec![g1.clone()]
    );
    assert_eq!(
        db.grants(Some(&item), Some("ZJ_MARRIAGE_RECORD"))
            .await
            .unwrap(),
        vec![g2.clone()]
    );
    assert!(
        db.grants(Some(&item), Some("ZJ_SOCIAL_INSURANCE_RECORD"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(db.grants(None, None).await.unwrap().len(), 2);
    assert!(db.revoke_grant("g1", at(7)).await.unwrap());
    assert!(!db.revoke_grant("g1", at(8)).await.unwrap());
    assert_eq!(
        db.grant("g1").await.unwrap().unwrap().revoked_at,
        Some(at(7))
    );
    assert!(
        db.set_grant_valid_until("g2", date(2026, 1, 1))
            .await
            .unwrap()
    );
    assert_eq!(
        db.grant("g2").await.unwrap().unwrap().valid_until,
        date(2026, 1, 1)
    );
    // A direct grant (demo grants for items).
    let mut g3 = grant_of("g3", &r2, 9);
    g3.request_id = None;
    db.insert_grant(&g3).await.unwrap();
    assert_eq!(db.grant("g3").await.unwrap(), Some(g3));
    // Under an idempotency key: a second request with the same key leaves nothing.
    let key = onetrip_store::IdempotencyRecord {
        scope: "client:c-1".into(),
        key: "req-1".into(),
        request_hash: "h".into(),
        response: "\"r4\"".into(),
    };
    let r4 = access_request("r4", client.clone(), "ZJ_SOCIAL_INSURANCE_RECORD", HRSS, 10);
    db.insert_access_request(&r4, None, Some(&key))
        .await
        .unwrap();
    let r5 = access_request("r5", client.clone(), "ZJ_SOCIAL_INSURANCE_RECORD", HRSS, 10);
    assert!(matches!(
        db.insert_access_request(&r5, None, Some(&key)).await,
        Err(StoreError::Conflict(c)) if c == ["idempotency"]
    ));
    assert_eq!(db.access_request("r5").await.unwrap(), None);
    assert_eq!(
        db.idempotent_response("client:c-1", "req-1")
            .await
            .unwrap()
            .unwrap()
            .response,
        "\"r4\""
    );
}

async fn data_records_upsert(db: &Db) {
    use onetrip_domain::sharing::SharingType;
    use sharing_fixtures::*;
    db.put_data_resources(
        &[resource(
            "ZJ_SOCIAL_INSURANCE_RECORD",
            "社保",
            HRSS,
            SharingType::Conditional,
        )],
        at(0),
    )
    .await
    .unwrap();
    let rid = "330102198503140138";
    assert_eq!(
        db.data_record("ZJ_SOCIAL_INSURANCE_RECORD", rid)
            .await
            .unwrap(),
        None
    );
    let first: onetrip_store::Record = serde_json::from_value(
        serde_json::json!({"name": "陈志明", "status": "正常参保", "months": 220}),
    )
    .unwrap();
    db.put_data_record("ZJ_SOCIAL_INSURANCE_RECORD", rid, &first, at(1))
        .await
        .unwrap();
    assert_eq!(
        db.data_record("ZJ_SOCIAL_INSURANCE_RECORD", rid)
            .await
            .unwrap(),
        Some((first, at(1)))
    );
    let second: onetrip_store::Record =
        serde_json::from_value(serde_json::json!({"name": "陈志明", "status": "暂停"})).unwrap();
    db.put_data_record("ZJ_SOCIAL_INSURANCE_RECORD", rid, &second, at(2))
        .await
        .unwrap();
    assert_eq!(
        db.data_record("ZJ_SOCIAL_INSURANCE_RECORD", rid)
            .await
            .unwrap(),
        Some((second.clone(), at(2)))
    );
    assert!(matches!(
        db.put_data_record("NONE", rid, &second, at(3)).await,
        Err(StoreError::UnknownReference(_))
    ));
}

async fn access_log_queries_by_provider_consumer_and_subject(db: &Db) {
    use onetrip_domain::sharing::{AccessLogEntry, AccessOutcome, Consumer};
    use onetrip_store::AccessLogFilter;
    use sharing_fixtures::*;
    let a = "330102198503140138";
    let b = "330102199007220264";
    let client = Consumer::Client("c-1".into());
    let item = Consumer::Item("123301000597435545200050001001".into());
    let entry = |id: &str, n: i64, consumer: &Consumer, provider: &str, subject: &str, outcome| {
        AccessLogEntry {
            id: id.into(),
            at: at(n),
            consumer: consumer.clone(),
            resource: "R".into(),
            provider: provider.into(),
            subject: subject.into(),
            fields: vec!["name".into()],
            masked_fields: vec!["status".into()],
            purpose: "service-application".into(),
            case_ref: Some(format!("case-{n}")),
            outcome,
            refusal: (outcome == AccessOutcome::Refused).then(|| "data_grant_required".into()),
        }
    };
    let rows = [
        entry("l1", 1, &client, HRSS, a, AccessOutcome::Refused),
        entry("l2", 2, &client, HRSS, a, AccessOutcome::Allowed),
        entry("l3", 3, &item, MCA, a, AccessOutcome::Allowed),
        entry("l4", 4, &item, HRSS, b, AccessOutcome::RateLimited),
        entry("l5", 5, &client, MCA, b, AccessOutcome::NotFound),
    ];
    for r in &rows {
        db.insert_access_log(std::slice::from_ref(r)).await.unwrap();
    }
    let ids = |f: AccessLogFilter| async move {
        db.access_log(&f)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect::<Vec<_>>()
    };
    let all = AccessLogFilter {
        limit: 100,
        ..AccessLogFilter::default()
    };
    assert_eq!(ids(all.clone()).await, vec!["l5", "l4", "l3", "l2", "l1"]);
    assert_eq!(
        ids(AccessLogFilter {
            provider: Some(HRSS.into()),
            ..all.clone()
        })
        .await,
        vec!["l4", "l2", "l1"]
    );
    assert_eq!(
        ids(AccessLogFilter {
            consumer: Some(client.clone()),
            ..all.clone()
        })
        .await,
        vec!["l5", "l2", "l1"]
    );
    assert_eq!(
        ids(AccessLogFilter {
            subject: Some(a.into()),
            ..all.clone()
        })
        .await,
        vec!["l3", "l2", "l1"]
    );
    assert_eq!(
        ids(AccessLogFilter {
            subject: Some(a.into()),
            consumer: Some(item.clone()),
            provider: Some(MCA.into()),
            ..all.clone()
        })
        .await,
        vec!["l3"]
    );
    assert_eq!(
        ids(AccessLogFilter {
            limit: 2,
            ..all.clone()
        })
        .await,
        vec!["l5", "l4"]
    );
    // Rows read back equal what was written.
    let back = db.access_log(&all).await.unwrap();
    assert_eq!(
        back.iter().rev().cloned().collect::<Vec<_>>(),
        rows.to_vec()
    );
}

async fn resources_with_grants_and_records_of_a_subject(db: &Db) {
    use onetrip_domain::sharing::Consumer;
    use sharing_fixtures::*;
    let (social, marriage) = social_and_marriage();
    db.put_data_resources(&[social.clone(), marriage.clone()], at(0))
        .await
        .unwrap();
    let item = Consumer::Item("123301000597435545200050001001".into());
    let other = Consumer::Item("123301000597435545200050001002".into());
    let r = access_request("r1", item.clone(), "ZJ_MARRIAGE_RECORD", MCA, 1);
    let older = grant_of("g1", &r, 1);
    let newer = grant_of("g2", &r, 2);
    let mut others = grant_of("g3", &r, 3);
    others.consumer = other.clone();
    for g in [&older, &newer, &others] {
        db.insert_grant(g).await.unwrap();
    }
    // In the order asked, unknown codes left out, each with this consumer's grants, newest
    // first (revoked ones included).
    assert!(db.revoke_grant("g1", at(4)).await.unwrap());
    let found = db
        .resources_with_grants(
            &item,
            &["ZJ_SOCIAL_INSURANCE_RECORD", "NONE", "ZJ_MARRIAGE_RECORD"],
        )
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|f| f.code.as_str()).collect::<Vec<_>>(),
        ["ZJ_SOCIAL_INSURANCE_RECORD", "ZJ_MARRIAGE_RECORD"]
    );
    assert_eq!(found[0].resource().unwrap(), social);
    assert!(found[0].grants.is_empty());
    assert_eq!(found[1].resource().unwrap(), marriage);
    let mut revoked = older.clone();
    revoked.revoked_at = Some(at(4));
    assert_eq!(found[1].grants, vec![newer.clone(), revoked]);
    let theirs = db
        .resources_with_grants(&other, &["ZJ_MARRIAGE_RECORD"])
        .await
        .unwrap();
    assert_eq!(theirs[0].grants, vec![others]);
    assert!(
        db.resources_with_grants(&item, &[])
            .await
            .unwrap()
            .is_empty()
    );

    // Records of one subject across resources, in one query.
    let rid = "330102198503140138";
    let record: onetrip_store::Record =
        serde_json::from_value(serde_json::json!({"name": "陈志明", "months": 220})).unwrap();
    db.put_data_record("ZJ_SOCIAL_INSURANCE_RECORD", rid, &record, at(5))
        .await
        .unwrap();
    db.put_data_record("ZJ_MARRIAGE_RECORD", "330102199007220264", &record, at(6))
        .await
        .unwrap();
    assert_eq!(
        db.data_records_of(rid, &["ZJ_SOCIAL_INSURANCE_RECORD", "ZJ_MARRIAGE_RECORD"])
            .await
            .unwrap(),
        vec![("ZJ_SOCIAL_INSURANCE_RECORD".to_owned(), record, at(5))]
    );
    assert!(db.data_records_of(rid, &[]).await.unwrap().is_empty());

    // Many access-log rows in one call (more than one INSERT statement holds): all or none.
    use onetrip_domain::sharing::{AccessLogEntry, AccessOutcome};
    let entries: Vec<AccessLogEntry> = (0..300)
        .map(|n| AccessLogEntry {
            id: format!("log-{n:04}"),
            at: at(10 + n),
            consumer: item.clone(),
            resource: "ZJ_MARRIAGE_RECORD".into(),
            provider: MCA.into(),
            subject: rid.into(),
            fields: vec!["name".into()],
            masked_fields: vec![],
            purpose: "service-application".into(),
            case_ref: (n % 2 == 0).then(|| format!("case-{n}")),
            outcome: AccessOutcome::Allowed,
            refusal: None,
        })
        .collect();
    db.insert_access_log(&entries).await.unwrap();
    let all = onetrip_store::AccessLogFilter {
        subject: Some(rid.into()),
        limit: 1000,
        ..onetrip_store::AccessLogFilter::default()
    };
    let back = db.access_log(&all).await.unwrap();
    assert_eq!(back.into_iter().rev().collect::<Vec<_>>(), entries);
    // A duplicate id in the batch fails it whole.
    let mut again = entries[..2].to_vec();
    again[0].id = "log-new".into();
    assert!(db.insert_access_log(&again).await.is_err());
    assert_eq!(db.access_log(&all).await.unwrap().len(), 300);
}
