//! Contract of the base registries: bulk upserts and every read, on both backends.

use jiff::civil::{Date, date};
use onetrip_domain::identifiers::{CreditCode, DivisionCode, Sex};
use onetrip_domain::registry::generator::{Chunk, Generator, GeneratorConfig};
use onetrip_domain::registry::{
    Birth, Death, Household, LegalPerson, LegalPersonKind, LegalPersonStatus, Marriage,
    PersonStatus, RegistryPerson,
};
use onetrip_store::{
    Db, PopulationRow, PreparedChunk, RegistryBatch, RegistryCounts, SQLITE_ROWS_PER_STATEMENT,
};

fn div(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

fn person(id: &str, name: &str, sex: Sex, birth: Date, household: Option<&str>) -> RegistryPerson {
    RegistryPerson {
        resident_id: id.to_owned(),
        name: name.to_owned(),
        sex,
        birth_date: birth,
        ethnicity: Some("汉族".to_owned()),
        division_code: div("330106"),
        household_id: household.map(str::to_owned),
        status: PersonStatus::Active,
        death_date: None,
    }
}

const HUSBAND: &str = "330102198503140138";
const WIFE: &str = "330102199007220264";
const CHILD: &str = "330106201801010411";
const OLD: &str = "330105193404122934";

fn story() -> RegistryBatch {
    let mut old = person(OLD, "王老先生", Sex::Male, date(1934, 4, 12), None);
    old.ethnicity = None;
    RegistryBatch {
        persons: vec![
            person(HUSBAND, "陈志明", Sex::Male, date(1985, 3, 14), Some("H1")),
            person(WIFE, "林晓燕", Sex::Female, date(1990, 7, 22), Some("H1")),
            person(CHILD, "陈一一", Sex::Male, date(2018, 1, 1), Some("H1")),
            old,
        ],
        households: vec![Household {
            id: "H1".to_owned(),
            division_code: div("330106"),
            address: "浙江省杭州市西湖区文三路90号".to_owned(),
            head_resident_id: Some(HUSBAND.to_owned()),
            members: vec![],
        }],
        marriages: vec![
            Marriage {
                id: "J2".to_owned(),
                husband_resident_id: HUSBAND.to_owned(),
                wife_resident_id: WIFE.to_owned(),
                registered_on: date(2016, 5, 20),
                divorced_on: None,
                division_code: div("330106"),
            },
            Marriage {
                id: "J1".to_owned(),
                husband_resident_id: HUSBAND.to_owned(),
                wife_resident_id: "330102199101010028".to_owned(),
                registered_on: date(2010, 1, 1),
                divorced_on: Some(date(2012, 2, 2)),
                division_code: div("330102"),
            },
        ],
        births: vec![
            Birth {
                medical_certificate_number: "R2".to_owned(),
                child_name: "陈思远".to_owned(),
                child_sex: Sex::Male,
                child_resident_id: None,
                mother_resident_id: WIFE.to_owned(),
                father_resident_id: Some(HUSBAND.to_owned()),
                birth_date: date(2026, 11, 10),
                hospital: "浙江大学医学院附属妇产科医院".to_owned(),
            },
            Birth {
                medical_certificate_number: "R1".to_owned(),
                child_name: "陈一一".to_owned(),
                child_sex: Sex::Male,
                child_resident_id: Some(CHILD.to_owned()),
                mother_resident_id: WIFE.to_owned(),
                father_resident_id: Some(HUSBAND.to_owned()),
                birth_date: date(2018, 1, 1),
                hospital: "杭州市妇产科医院".to_owned(),
            },
        ],
        deaths: vec![Death {
            resident_id: OLD.to_owned(),
            death_date: date(2024, 2, 29),
            place: "家中".to_owned(),
        }],
        legal_persons: vec![LegalPerson {
            credit_code: CreditCode::parse("913301061234567887").unwrap(),
            name: "杭州西湖示例科技有限公司".to_owned(),
            kind: LegalPersonKind::Enterprise,
            legal_representative_resident_id: HUSBAND.to_owned(),
            legal_representative_name: "陈志明".to_owned(),
            status: LegalPersonStatus::Active,
            address: "浙江省杭州市西湖区文三路90号".to_owned(),
            division_code: div("330106"),
            established_on: date(2019, 3, 18),
        }],
    }
}

pub async fn registry_reads_follow_the_contract(db: &Db) {
    let batch = story();
    db.upsert_registry(batch.clone()).await.unwrap();
    let counts = db.registry_counts().await.unwrap();
    assert_eq!(
        (
            counts.persons,
            counts.households,
            counts.marriages,
            counts.births,
            counts.deaths,
            counts.legal_persons
        ),
        (4, 1, 2, 2, 1, 1)
    );
    let husband = db.registry_person(HUSBAND).await.unwrap().unwrap();
    assert_eq!(husband, batch.persons[0]);
    // The death marked the person deceased.
    let old = db.registry_person(OLD).await.unwrap().unwrap();
    assert_eq!(old.status, PersonStatus::Deceased);
    assert_eq!(old.death_date, Some(date(2024, 2, 29)));
    assert_eq!(old.ethnicity, None);
    assert_eq!(
        db.registry_person("330102198503140139").await.unwrap(),
        None
    );

    let h = db.registry_household("H1").await.unwrap().unwrap();
    assert_eq!(h.members, vec![HUSBAND, WIFE, CHILD]);
    assert_eq!(h.head_resident_id.as_deref(), Some(HUSBAND));
    assert_eq!(h.address, batch.households[0].address);
    assert_eq!(db.registry_household("H2").await.unwrap(), None);

    let m = db.registry_marriages_of(HUSBAND).await.unwrap();
    assert_eq!(
        m.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["J1", "J2"]
    );
    assert_eq!(m[1], batch.marriages[0]);
    assert_eq!(m[0].divorced_on, Some(date(2012, 2, 2)));
    let m = db.registry_marriages_of(WIFE).await.unwrap();
    assert_eq!(m, vec![batch.marriages[0].clone()]);
    assert!(db.registry_marriages_of(CHILD).await.unwrap().is_empty());

    for parent in [HUSBAND, WIFE] {
        let b = db.registry_births_of_parent(parent).await.unwrap();
        assert_eq!(b, vec![batch.births[1].clone(), batch.births[0].clone()]);
    }
    assert_eq!(b_of(db, CHILD).await, 0);

    assert_eq!(
        db.registry_death(OLD).await.unwrap(),
        Some(batch.deaths[0].clone())
    );
    assert_eq!(db.registry_death(HUSBAND).await.unwrap(), None);

    let lp = db
        .legal_person("913301061234567887")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lp, batch.legal_persons[0]);
    assert_eq!(db.legal_person("913301061234567888").await.unwrap(), None);

    // Pages in resident ID order.
    let page = db.registry_persons_page(None, 2).await.unwrap();
    assert_eq!(
        page.iter()
            .map(|p| p.resident_id.as_str())
            .collect::<Vec<_>>(),
        [HUSBAND, WIFE]
    );
    let page = db.registry_persons_page(Some(WIFE), 10).await.unwrap();
    assert_eq!(
        page.iter()
            .map(|p| p.resident_id.as_str())
            .collect::<Vec<_>>(),
        [OLD, CHILD]
    );
    let orgs = db.legal_persons_page(None, 10).await.unwrap();
    assert_eq!(orgs.len(), 1);
    assert!(
        db.legal_persons_page(Some("913301061234567887"), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

/// The joined reads behind the registry-backed data resources: one query each, the same
/// answers as the separate reads they replace.
pub async fn registry_joined_reads_match_the_separate_ones(db: &Db) {
    let batch = story();
    db.upsert_registry(batch.clone()).await.unwrap();
    // A person with their household's address; one without a household; an unknown one.
    let (p, address) = db
        .registry_person_with_address(WIFE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p, batch.persons[1]);
    assert_eq!(address.as_deref(), Some("浙江省杭州市西湖区文三路90号"));
    let (p, address) = db.registry_person_with_address(OLD).await.unwrap().unwrap();
    assert_eq!(p.resident_id, OLD);
    assert_eq!(address, None);
    assert_eq!(
        db.registry_person_with_address("330102198503140139")
            .await
            .unwrap(),
        None
    );

    // Household records: the head's name for a member and for the head; none without one.
    let member = db.registry_household_of(CHILD).await.unwrap().unwrap();
    assert_eq!(
        member,
        onetrip_store::HouseholdOf {
            resident_id: CHILD.into(),
            name: "陈一一".into(),
            household_id: "H1".into(),
            address: "浙江省杭州市西湖区文三路90号".into(),
            head_resident_id: Some(HUSBAND.into()),
            head_name: Some("陈志明".into()),
        }
    );
    let head = db.registry_household_of(HUSBAND).await.unwrap().unwrap();
    assert_eq!(head.head_name.as_deref(), Some("陈志明"));
    assert_eq!(head.name, "陈志明");
    assert_eq!(db.registry_household_of(OLD).await.unwrap(), None);
    // A household whose head is not in the registry: no head name, the rest as before.
    let mut headless = batch.households[0].clone();
    headless.head_resident_id = Some("330102199101010028".into());
    db.upsert_registry(RegistryBatch {
        households: vec![headless],
        ..RegistryBatch::default()
    })
    .await
    .unwrap();
    let member = db.registry_household_of(WIFE).await.unwrap().unwrap();
    assert_eq!(member.head_name, None);
    assert_eq!(
        member.head_resident_id.as_deref(),
        Some("330102199101010028")
    );

    // The latest marriage, from either side, with the names the registry has.
    let m = db.registry_latest_marriage(HUSBAND).await.unwrap().unwrap();
    assert_eq!(m.marriage, batch.marriages[0]);
    assert_eq!(m.husband_name.as_deref(), Some("陈志明"));
    assert_eq!(m.wife_name.as_deref(), Some("林晓燕"));
    let m = db.registry_latest_marriage(WIFE).await.unwrap().unwrap();
    assert_eq!(m.marriage.id, "J2");
    // The first wife is not in the registry: her side has no name.
    let m = db
        .registry_latest_marriage("330102199101010028")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.marriage, batch.marriages[1]);
    assert_eq!(m.wife_name, None);
    assert_eq!(m.husband_name.as_deref(), Some("陈志明"));
    assert_eq!(db.registry_latest_marriage(CHILD).await.unwrap(), None);
}

async fn b_of(db: &Db, id: &str) -> usize {
    db.registry_births_of_parent(id).await.unwrap().len()
}

pub async fn registry_upserts_replace_and_keep_the_last_duplicate(db: &Db) {
    db.upsert_registry(story()).await.unwrap();
    let mut renamed = story();
    renamed.persons.truncate(1);
    renamed.persons[0].name = "陈志鸣".to_owned();
    let mut again = renamed.persons[0].clone();
    again.name = "陈志明".to_owned();
    again.household_id = None;
    renamed.persons.push(again.clone());
    renamed.marriages.truncate(1);
    renamed.marriages[0].divorced_on = Some(date(2025, 1, 1));
    db.upsert_registry(renamed).await.unwrap();
    assert_eq!(db.registry_person(HUSBAND).await.unwrap().unwrap(), again);
    assert_eq!(db.registry_counts().await.unwrap().persons, 4);
    let h = db.registry_household("H1").await.unwrap().unwrap();
    assert_eq!(h.members, vec![WIFE, CHILD]);
    assert_eq!(
        db.registry_marriages_of(WIFE).await.unwrap()[0].divorced_on,
        Some(date(2025, 1, 1))
    );
    // An empty batch is fine.
    db.upsert_registry(RegistryBatch::default()).await.unwrap();
}

/// Every read gives back a sample of the rows of `chunk` (which must be written), and one of
/// its households has its members.
async fn assert_reads_back(db: &Db, chunk: &Chunk) {
    for p in chunk
        .persons
        .iter()
        .take(3)
        .chain(chunk.persons.iter().step_by(97))
    {
        assert_eq!(
            &db.registry_person(&p.resident_id).await.unwrap().unwrap(),
            p
        );
    }
    for m in chunk.marriages.iter().step_by(53) {
        assert!(
            db.registry_marriages_of(&m.wife_resident_id)
                .await
                .unwrap()
                .contains(m)
        );
    }
    for b in chunk.births.iter().step_by(41) {
        assert!(
            db.registry_births_of_parent(&b.mother_resident_id)
                .await
                .unwrap()
                .contains(b)
        );
    }
    for d in &chunk.deaths {
        assert_eq!(
            &db.registry_death(&d.resident_id).await.unwrap().unwrap(),
            d
        );
    }
    for l in &chunk.legal_persons {
        assert_eq!(
            &db.legal_person(l.credit_code.as_str())
                .await
                .unwrap()
                .unwrap(),
            l
        );
    }
    let h = &chunk.households[5];
    let members: Vec<&str> = chunk
        .persons
        .iter()
        .filter(|p| p.household_id.as_deref() == Some(h.id.as_str()))
        .map(|p| p.resident_id.as_str())
        .collect();
    let read = db.registry_household(&h.id).await.unwrap().unwrap();
    assert_eq!(read.address, h.address);
    assert_eq!(read.members.len(), members.len());
    assert!(read.members.iter().all(|m| members.contains(&m.as_str())));
}

pub async fn registry_bulk_insert_of_generated_chunks(db: &Db) {
    let g = Generator::new(GeneratorConfig {
        people: 3 * SQLITE_ROWS_PER_STATEMENT as u64 + 7,
        organisations: 50,
        seed: 11,
        as_of: date(2026, 11, 21),
    })
    .unwrap();
    let chunk = g.chunk(0);
    let expected = chunk.clone();
    db.insert_registry_chunk(chunk).await.unwrap();
    let counts = db.registry_counts().await.unwrap();
    assert_eq!(counts.persons as usize, expected.persons.len());
    assert_eq!(counts.households as usize, expected.households.len());
    assert_eq!(counts.marriages as usize, expected.marriages.len());
    assert_eq!(counts.births as usize, expected.births.len());
    assert_eq!(counts.deaths as usize, expected.deaths.len());
    assert_eq!(counts.legal_persons, 50);
    assert_reads_back(db, &expected).await;
    // Paging visits every person once, in order.
    let mut after: Option<String> = None;
    let mut seen = 0;
    loop {
        let page = db
            .registry_persons_page(after.as_deref(), 1_000)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        assert!(page.windows(2).all(|w| w[0].resident_id < w[1].resident_id));
        after = Some(last.resident_id.clone());
        seen += page.len();
    }
    assert_eq!(seen, expected.persons.len());
}

pub async fn registry_keeps_real_name_rows_working(db: &Db) {
    // The old writer fills the new columns from the ID number.
    db.upsert_population(&[PopulationRow {
        resident_id: HUSBAND.to_owned(),
        name: "陈志明".to_owned(),
        status: onetrip_store::PopulationStatus::Active,
    }])
    .await
    .unwrap();
    let p = db.registry_person(HUSBAND).await.unwrap().unwrap();
    assert_eq!((p.sex, p.birth_date), (Sex::Male, date(1985, 3, 14)));
    assert_eq!(p.division_code.as_str(), "330102");
    // The registry writer is seen by real-name verification.
    db.upsert_registry(story()).await.unwrap();
    let row = db.population_by_resident_id(OLD).await.unwrap().unwrap();
    assert_eq!(row.status, onetrip_store::PopulationStatus::Deceased);
    assert_eq!(row.name, "王老先生");
}

/// The indexes of the registry tables: (name, definition), by name.
async fn registry_indexes(db: &Db) -> Vec<(String, String)> {
    const TABLES: &str = "'population_registry', 'registry_households', 'registry_marriages', \
         'registry_births', 'registry_deaths', 'legal_person_registry'";
    match db {
        Db::Sqlite(pool, _) => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'index' \
             AND tbl_name IN ({TABLES}) ORDER BY name"
        )))
        .fetch_all(pool)
        .await
        .unwrap(),
        Db::Postgres(pool) => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT indexname::text, indexdef FROM pg_indexes \
             WHERE schemaname = current_schema() AND tablename IN ({TABLES}) ORDER BY indexname"
        )))
        .fetch_all(pool)
        .await
        .unwrap(),
    }
}

pub async fn registry_bulk_load_writes_every_row_and_keeps_the_schema(db: &Db) {
    let g = Generator::new(GeneratorConfig {
        people: 25_000,
        organisations: 60,
        seed: 12,
        as_of: date(2026, 11, 21),
    })
    .unwrap();
    assert_eq!(g.chunk_count(), 3);
    let indexes = registry_indexes(db).await;
    assert!(indexes.len() >= 12, "{indexes:?}");

    // A load dropped before it finishes leaves the registries empty and the schema whole.
    {
        let mut loader = db.registry_loader().await.unwrap();
        assert!(loader.is_bulk());
        let chunk = PreparedChunk::new(g.chunk(0), loader.encoding());
        loader.write(chunk).await.unwrap();
    }
    assert_eq!(
        db.registry_counts().await.unwrap(),
        RegistryCounts::default()
    );
    assert_eq!(registry_indexes(db).await, indexes);

    // Characters that need escaping in JSON and in COPY text survive.
    let mut first = g.chunk(0);
    first.persons[0].name = "引号\"反斜杠\\制表\t换行\n回车\r'单引号' \\N".to_owned();
    first.persons[1].ethnicity = None;
    let mut expected = vec![first.clone()];

    let mut loader = db.registry_loader().await.unwrap();
    assert!(loader.is_bulk());
    let encoding = loader.encoding();
    loader
        .write(PreparedChunk::new(first, encoding))
        .await
        .unwrap();
    loader
        .write(PreparedChunk::new(g.chunk(1), encoding))
        .await
        .unwrap();
    loader.finish().await.unwrap();
    expected.push(g.chunk(1));
    assert_eq!(registry_indexes(db).await, indexes);

    // Into registries that hold rows, chunks are upserts, each in its own transaction.
    let mut loader = db.registry_loader().await.unwrap();
    assert!(!loader.is_bulk());
    let chunk = PreparedChunk::new(g.chunk(2), loader.encoding());
    assert_eq!(chunk.persons(), g.chunk(2).persons.len());
    loader.write(chunk).await.unwrap();
    loader.finish().await.unwrap();
    expected.push(g.chunk(2));
    assert_eq!(registry_indexes(db).await, indexes);

    let counts = db.registry_counts().await.unwrap();
    let sum = |f: fn(&Chunk) -> usize| -> i64 { expected.iter().map(f).sum::<usize>() as i64 };
    assert_eq!(counts.persons, 25_000);
    assert_eq!(counts.households, sum(|c| c.households.len()));
    assert_eq!(counts.marriages, sum(|c| c.marriages.len()));
    assert_eq!(counts.births, sum(|c| c.births.len()));
    assert_eq!(counts.deaths, sum(|c| c.deaths.len()));
    assert_eq!(counts.legal_persons, 60);
    for c in &expected {
        assert_reads_back(db, c).await;
    }
}
