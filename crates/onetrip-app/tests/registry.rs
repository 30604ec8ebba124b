//! Base registries: import with line-numbered problems, the generator writing into the store,
//! streaming export, the demo story and the legal-person check of organisation registration.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use jiff::Timestamp;
use jiff::civil::{Date, date};
use onetrip_app::App;
use onetrip_app::accounts::RegisterPerson;
use onetrip_app::registry::{ImportFormat, ImportReport, RegistryKind};
use onetrip_domain::Localized;
use onetrip_domain::identifiers::ResidentId;
use onetrip_domain::identity::{AccountId, AssuranceLevel};
use onetrip_domain::registry::PersonStatus;
use onetrip_domain::registry::generator::GeneratorConfig;
use secrecy::SecretString;

const ORG: &str = "913301061234567887";
const CHEN: &str = "330102198503140138";
const LIN: &str = "330102199007220264";

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
    (dir, app)
}

async fn import(app: &App, kind: RegistryKind, format: ImportFormat, text: &str) -> ImportReport {
    let reader = Box::new(std::io::Cursor::new(text.as_bytes().to_vec()));
    app.import_registry(kind, format, reader, today())
        .await
        .unwrap()
}

fn problems(r: &ImportReport) -> Vec<(u64, &str, &str)> {
    r.problems
        .iter()
        .map(|p| (p.line, p.field.as_str(), p.code))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_import_reports_the_bad_line_and_keeps_the_others() {
    let (_dir, app) = app().await;
    let csv = "resident_id,name,sex,birth_date,division_code,household_id,status,death_date\n\
               330102198503140138,陈志明,male,1985-03-14,330106,H1,active,\n\
               330102199007220264,林晓燕,male,,330106,H1,,\n\
               \"330105197811050315\",\"王建国\",,,,,deceased,2025-01-02\n";
    let r = import(&app, RegistryKind::Persons, ImportFormat::Csv, csv).await;
    assert_eq!((r.rows, r.imported, r.rejected), (3, 2, 1));
    assert_eq!(problems(&r), vec![(3, "sex", "sex_mismatch")]);
    assert!(r.problems[0].message_zh.contains("性别"));
    assert!(r.problems[0].message_en.contains("sex"));
    let chen = app.db.registry_person(CHEN).await.unwrap().unwrap();
    assert_eq!(chen.household_id.as_deref(), Some("H1"));
    assert!(app.db.registry_person(LIN).await.unwrap().is_none());
    let wang = app
        .db
        .registry_person("330105197811050315")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(wang.status, PersonStatus::Deceased);
    assert_eq!(wang.division_code.as_str(), "330105");
    // Real-name verification reads the same rows.
    let row = app
        .db
        .population_by_resident_id(CHEN)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.name, "陈志明");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lines_and_arrays_report_their_lines() {
    let (_dir, app) = app().await;
    let jsonl = format!(
        "{}\n\n{}\n{}\n{}\n",
        r#"{"id":"J1","husband_resident_id":"330102198503140138","wife_resident_id":"330102199007220264","registered_on":"2016-05-20","division_code":"330106"}"#,
        r#"{"id":"J2","husband_resident_id":"330102199007220264","wife_resident_id":"330102198503140138","registered_on":"2016-05-20","division_code":"330106"}"#,
        r#"{"id":"J3", "oops"#,
        r#"{"id":"J4","husband_resident_id":"330105197811050315","wife_resident_id":"330102199007220264","registered_on":"2001-01-01","divorced_on":"2003-03-03","division_code":"330105"}"#,
    );
    let r = import(
        &app,
        RegistryKind::Marriages,
        ImportFormat::JsonLines,
        &jsonl,
    )
    .await;
    assert_eq!((r.rows, r.imported, r.rejected), (4, 2, 2));
    assert_eq!(
        problems(&r),
        vec![
            (3, "husband_resident_id", "wrong_sex"),
            (3, "wife_resident_id", "wrong_sex"),
            (4, "", "unreadable_row"),
        ]
    );
    assert_eq!(app.db.registry_marriages_of(LIN).await.unwrap().len(), 2);

    let array = r#"[
  {"credit_code": "913301061234567887", "name": "杭州西湖示例科技有限公司",
   "legal_representative_resident_id": "330102198503140138", "legal_representative_name": "陈志明",
   "address": "浙江省杭州市西湖区文三路90号", "established_on": "2019-03-18"},
  {"credit_code": "913301061234567888", "name": "坏代码",
   "legal_representative_resident_id": "330102198503140138", "legal_representative_name": "陈志明",
   "address": "x", "established_on": "2019-03-18", "colour": "red"},
  {"credit_code": "91330100716105852F", "name": "示例",
   "legal_representative_resident_id": "330102198503140138", "legal_representative_name": "陈志明",
   "address": "x", "established_on": "2030-01-01"}
]"#;
    let r = import(
        &app,
        RegistryKind::Organisations,
        ImportFormat::JsonArray,
        array,
    )
    .await;
    assert_eq!((r.rows, r.imported, r.rejected), (3, 1, 2));
    assert_eq!(
        problems(&r),
        vec![
            (5, "", "unreadable_row"),
            (8, "established_on", "date_in_future")
        ]
    );
    assert_eq!(
        app.db
            .legal_person(ORG)
            .await
            .unwrap()
            .unwrap()
            .kind
            .as_str(),
        "enterprise"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_with_an_unknown_column_reports_every_row() {
    let (_dir, app) = app().await;
    let csv = "resident_id,death_date,place,cause\n330105197811050315,2025-01-02,家中,x\n";
    let r = import(&app, RegistryKind::Deaths, ImportFormat::Csv, csv).await;
    assert_eq!(problems(&r), vec![(2, "", "unreadable_row")]);
    assert!(
        r.problems[0].message_en.contains("cause"),
        "{}",
        r.problems[0].message_en
    );
    // A well-formed death also marks the person deceased.
    import(
        &app,
        RegistryKind::Persons,
        ImportFormat::Csv,
        "resident_id,name\n330105197811050315,王建国\n",
    )
    .await;
    let r = import(
        &app,
        RegistryKind::Deaths,
        ImportFormat::Csv,
        "resident_id,death_date,place\n330105197811050315,2025-01-02,家中\n",
    )
    .await;
    assert_eq!(r.imported, 1);
    let p = app
        .db
        .registry_person("330105197811050315")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (p.status, p.death_date),
        (PersonStatus::Deceased, Some(date(2025, 1, 2)))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_citizen_has_a_household_a_spouse_and_a_newborn() {
    let (_dir, app) = app().await;
    app.load_demo_if_empty(now()).await.unwrap();
    let chen = app.db.registry_person(CHEN).await.unwrap().unwrap();
    assert_eq!(chen.name, "陈志明");
    assert_eq!(chen.division_code.as_str(), "330106");
    let household = app
        .db
        .registry_household(chen.household_id.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(household.division_code.as_str(), "330106");
    assert!(household.address.contains("西湖区"));
    assert_eq!(household.members, vec![CHEN, LIN]);
    let marriages = app.db.registry_marriages_of(CHEN).await.unwrap();
    assert_eq!(marriages.len(), 1);
    assert_eq!(marriages[0].wife_resident_id, LIN);
    assert_eq!(marriages[0].divorced_on, None);
    let spouse = app.db.registry_person(LIN).await.unwrap().unwrap();
    assert_eq!(spouse.name, "林晓燕");
    let births = app.db.registry_births_of_parent(CHEN).await.unwrap();
    assert_eq!(births.len(), 1);
    assert_eq!(births[0].birth_date, date(2026, 11, 10));
    assert_eq!(births[0].child_resident_id, None);
    assert_eq!(births[0].mother_resident_id, LIN);
    assert!(!births[0].hospital.is_empty() && !births[0].medical_certificate_number.is_empty());
    let org = app.db.legal_person(ORG).await.unwrap().unwrap();
    assert_eq!(org.legal_representative_resident_id, CHEN);
    // Loading again changes nothing; the other demo people are still there.
    assert!(!app.load_demo_registry_if_empty(today()).await.unwrap());
    assert!(app.db.population_count().await.unwrap() >= 25);
}

async fn verified(app: &App, resident_id: &str, name: &str, phone: &str) -> AccountId {
    let id = support::register(
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
    .unwrap();
    app.db
        .set_assurance_level(id.as_str(), AssuranceLevel::L2)
        .await
        .unwrap();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organisation_registration_is_checked_against_the_legal_person_registry() {
    let (_dir, app) = app().await;
    app.load_demo_if_empty(now()).await.unwrap();
    let wang = verified(&app, "330105197811050315", "王建国", "13700137000").await;
    let chen = verified(&app, CHEN, "陈志明", "13800138000").await;

    // Someone else than the registered legal representative.
    let e = app
        .register_organisation(&wang, ORG, "杭州西湖示例科技有限公司", "enterprise", now())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "organisation_registry_not_representative");
    assert!(e.message_zh().contains("法定代表人"));
    // The representative with another name.
    let e = app
        .register_organisation(&chen, ORG, "杭州西湖科技有限公司", "enterprise", now())
        .await
        .unwrap_err();
    match &e {
        onetrip_app::AppError::Rejected(p) => {
            assert_eq!(p.len(), 1);
            assert_eq!(
                (p[0].path.as_str(), p[0].code),
                ("name", "organisation_name_mismatch")
            );
            assert!(p[0].message_zh.contains("杭州西湖示例科技有限公司"));
        }
        other => panic!("{other:?}"),
    }
    assert!(app.db.organisation(ORG).await.unwrap().is_none());
    // The registered name and representative: accepted and recorded as matched.
    let view = app
        .register_organisation(
            &chen,
            ORG,
            " 杭州西湖示例科技有限公司 ",
            "enterprise",
            now(),
        )
        .await
        .unwrap();
    assert_eq!(view.credit_code, ORG);
    let event = app
        .db
        .recent_auth_events(chen.as_str(), 5)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.kind == "organisation_registered")
        .unwrap();
    assert!(
        event
            .detail
            .unwrap()
            .contains("\"registry_check\":\"matched\"")
    );

    // A revoked organisation cannot be registered.
    let revoked = r#"[{"credit_code": "91330100716105852F", "name": "杭州吊销示例有限公司",
        "legal_representative_resident_id": "330105197811050315",
        "legal_representative_name": "王建国", "status": "revoked",
        "address": "浙江省杭州市", "established_on": "2001-01-01"}]"#;
    let r = import(
        &app,
        RegistryKind::Organisations,
        ImportFormat::JsonArray,
        revoked,
    )
    .await;
    assert_eq!(r.imported, 1);
    let e = app
        .register_organisation(
            &wang,
            "91330100716105852F",
            "杭州吊销示例有限公司",
            "enterprise",
            now(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "organisation_not_active");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generation_writes_the_same_registry_on_any_number_of_threads() {
    let config = GeneratorConfig {
        people: 25_000,
        organisations: 200,
        seed: 5,
        as_of: today(),
    };
    let mut exports = Vec::new();
    for threads in [1, 3] {
        let (_dir, app) = app().await;
        let mut calls = Vec::new();
        let r = app
            .generate_registry(config, threads, |p| calls.push(p))
            .await
            .unwrap();
        assert_eq!(r.counts.persons, 25_000);
        assert_eq!(r.counts.legal_persons, 200);
        assert!(r.counts.households > 0 && r.counts.marriages > 0 && r.counts.births > 0);
        assert!(calls.len() >= 3);
        assert!(
            calls
                .windows(2)
                .all(|w| w[0].persons_done < w[1].persons_done)
        );
        assert_eq!(calls.last().unwrap().persons_done, 25_000);
        let mut out = Vec::new();
        assert_eq!(
            app.export_persons_jsonl(&mut out, today()).await.unwrap(),
            25_000
        );
        let text = String::from_utf8(out).unwrap();
        for line in text.lines().step_by(101) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let id = ResidentId::parse(v["resident_id"].as_str().unwrap(), today()).unwrap();
            assert_eq!(v["age"].as_i64().unwrap(), i64::from(id.age_on(today())));
        }
        exports.push(text);
    }
    assert_eq!(exports[0], exports[1]);
}
