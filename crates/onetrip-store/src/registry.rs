//! Base registries (基础库): the population registry (persons in `population_registry`,
//! households, marriages, births, deaths) and the legal-person registry.
//!
//! Writes are bulk upserts: a row whose key exists is replaced. On SQLite they are multi-row
//! `INSERT … VALUES (…), (…)` statements of [`crate::SQLITE_ROWS_PER_STATEMENT`] rows, prepared once
//! and reused (sqlx caches statements by text) inside one write transaction; on PostgreSQL one
//! `INSERT … SELECT * FROM UNNEST($1::text[], …)` per [`crate::PG_ROWS_PER_STATEMENT`] rows. The reads
//! are the contract the data platform uses: each is one index lookup, whatever the registry's
//! size. Resident ID numbers are personal data: never log them.

use jiff::civil::Date;
use onetrip_domain::identifiers::{CreditCode, DivisionCode, Sex};
use onetrip_domain::registry::generator::Chunk;
use onetrip_domain::registry::{
    Birth, Death, Household, LegalPerson, LegalPersonKind, LegalPersonStatus, Marriage,
    PersonStatus, RegistryPerson, parse_sex, sex_str,
};
use sqlx::Row;

use crate::bulk::{Columns, Conflict, Table, insert_pg, insert_sqlite};
use crate::{BeginWrite, Db, Result, StoreError, on_pool};

const PERSONS: Table = Table {
    conflict: Conflict::Replace,
    bigint: &[],
    name: "population_registry",
    columns: &[
        "resident_id",
        "name",
        "sex",
        "birth_date",
        "ethnicity",
        "division_code",
        "household_id",
        "status",
        "death_date",
    ],
};

const HOUSEHOLDS: Table = Table {
    conflict: Conflict::Replace,
    bigint: &[],
    name: "registry_households",
    columns: &["id", "division_code", "address", "head_resident_id"],
};

const MARRIAGES: Table = Table {
    conflict: Conflict::Replace,
    bigint: &[],
    name: "registry_marriages",
    columns: &[
        "id",
        "husband_resident_id",
        "wife_resident_id",
        "registered_on",
        "divorced_on",
        "division_code",
    ],
};

const BIRTHS: Table = Table {
    conflict: Conflict::Replace,
    bigint: &[],
    name: "registry_births",
    columns: &[
        "medical_certificate_number",
        "child_name",
        "child_sex",
        "child_resident_id",
        "mother_resident_id",
        "father_resident_id",
        "birth_date",
        "hospital",
    ],
};

const DEATHS: Table = Table {
    conflict: Conflict::Replace,
    bigint: &[],
    name: "registry_deaths",
    columns: &["resident_id", "death_date", "place"],
};

const LEGAL_PERSONS: Table = Table {
    conflict: Conflict::Replace,
    bigint: &[],
    name: "legal_person_registry",
    columns: &[
        "credit_code",
        "name",
        "kind",
        "legal_representative_resident_id",
        "legal_representative_name",
        "status",
        "address",
        "division_code",
        "established_on",
    ],
};

fn d(date: Date) -> Option<String> {
    Some(date.to_string())
}

fn persons_columns(rows: Vec<RegistryPerson>) -> Columns {
    let mut c = Columns::new(&PERSONS, rows.len());
    for p in rows {
        c.push([
            Some(p.resident_id),
            Some(p.name),
            Some(sex_str(p.sex).to_owned()),
            d(p.birth_date),
            p.ethnicity,
            Some(p.division_code.as_str().to_owned()),
            p.household_id,
            Some(p.status.as_str().to_owned()),
            p.death_date.and_then(d),
        ]);
    }
    c
}

fn households_columns(rows: Vec<Household>) -> Columns {
    let mut c = Columns::new(&HOUSEHOLDS, rows.len());
    for h in rows {
        c.push([
            Some(h.id),
            Some(h.division_code.as_str().to_owned()),
            Some(h.address),
            h.head_resident_id,
        ]);
    }
    c
}

fn marriages_columns(rows: Vec<Marriage>) -> Columns {
    let mut c = Columns::new(&MARRIAGES, rows.len());
    for m in rows {
        c.push([
            Some(m.id),
            Some(m.husband_resident_id),
            Some(m.wife_resident_id),
            d(m.registered_on),
            m.divorced_on.and_then(d),
            Some(m.division_code.as_str().to_owned()),
        ]);
    }
    c
}

fn births_columns(rows: Vec<Birth>) -> Columns {
    let mut c = Columns::new(&BIRTHS, rows.len());
    for b in rows {
        c.push([
            Some(b.medical_certificate_number),
            Some(b.child_name),
            Some(sex_str(b.child_sex).to_owned()),
            b.child_resident_id,
            Some(b.mother_resident_id),
            b.father_resident_id,
            d(b.birth_date),
            Some(b.hospital),
        ]);
    }
    c
}

fn deaths_columns(rows: Vec<Death>) -> Columns {
    let mut c = Columns::new(&DEATHS, rows.len());
    for x in rows {
        c.push([Some(x.resident_id), d(x.death_date), Some(x.place)]);
    }
    c
}

fn legal_persons_columns(rows: Vec<LegalPerson>) -> Columns {
    let mut c = Columns::new(&LEGAL_PERSONS, rows.len());
    for l in rows {
        c.push([
            Some(l.credit_code.as_str().to_owned()),
            Some(l.name),
            Some(l.kind.as_str().to_owned()),
            Some(l.legal_representative_resident_id),
            Some(l.legal_representative_name),
            Some(l.status.as_str().to_owned()),
            Some(l.address),
            Some(l.division_code.as_str().to_owned()),
            d(l.established_on),
        ]);
    }
    c
}

/// The tables of a generated chunk with their rows, in writing order (persons in resident ID
/// order: inserting in key order keeps the primary-key index writes local).
pub(crate) fn chunk_tables(chunk: Chunk) -> [(&'static Table, Columns); 6] {
    let mut persons = chunk.persons;
    persons.sort_unstable_by(|a, b| a.resident_id.cmp(&b.resident_id));
    [
        (&PERSONS, persons_columns(persons)),
        (&HOUSEHOLDS, households_columns(chunk.households)),
        (&MARRIAGES, marriages_columns(chunk.marriages)),
        (&BIRTHS, births_columns(chunk.births)),
        (&DEATHS, deaths_columns(chunk.deaths)),
        (&LEGAL_PERSONS, legal_persons_columns(chunk.legal_persons)),
    ]
}

/// The tables of the registries.
pub(crate) const REGISTRY_TABLES: [&str; 6] = [
    PERSONS.name,
    HOUSEHOLDS.name,
    MARRIAGES.name,
    BIRTHS.name,
    DEATHS.name,
    LEGAL_PERSONS.name,
];

/// Keeps the last row of every key (the first column), so that one statement never updates a
/// row twice (PostgreSQL refuses that).
fn dedupe_last(mut cols: Columns) -> Columns {
    let n = cols.len();
    let mut seen = std::collections::HashSet::with_capacity(n);
    let mut keep = vec![false; n];
    for r in (0..n).rev() {
        if seen.insert(cols.0[0][r].clone()) {
            keep[r] = true;
        }
    }
    if keep.iter().all(|k| *k) {
        return cols;
    }
    for col in &mut cols.0 {
        let mut i = 0;
        col.retain(|_| {
            let k = keep[i];
            i += 1;
            k
        });
    }
    cols
}

/// A person's household record ([`Db::registry_household_of`]).
#[derive(Clone, PartialEq, Eq)]
pub struct HouseholdOf {
    /// The person's resident ID number.
    pub resident_id: String,
    /// The person's name.
    pub name: String,
    /// Household number.
    pub household_id: String,
    /// The household's address.
    pub address: String,
    /// The head's resident ID number, when the household has a head.
    pub head_resident_id: Option<String>,
    /// The head's name, when the head is in the registry.
    pub head_name: Option<String>,
}

impl std::fmt::Debug for HouseholdOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Personal data: only the household number.
        f.debug_struct("HouseholdOf")
            .field("household_id", &self.household_id)
            .finish_non_exhaustive()
    }
}

/// A person's latest marriage with both spouses' names ([`Db::registry_latest_marriage`]).
#[derive(Clone, PartialEq, Eq)]
pub struct MarriageOf {
    /// The marriage.
    pub marriage: Marriage,
    /// The husband's name, when he is in the registry.
    pub husband_name: Option<String>,
    /// The wife's name, when she is in the registry.
    pub wife_name: Option<String>,
}

impl std::fmt::Debug for MarriageOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Personal data: the marriage's own masked form, no names.
        f.debug_struct("MarriageOf")
            .field("marriage", &self.marriage)
            .finish_non_exhaustive()
    }
}

/// Counts of the rows of the registries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegistryCounts {
    /// Persons.
    pub persons: i64,
    /// Households.
    pub households: i64,
    /// Marriages.
    pub marriages: i64,
    /// Births.
    pub births: i64,
    /// Deaths.
    pub deaths: i64,
    /// Organisations.
    pub legal_persons: i64,
}

/// One batch of registry rows written together.
#[derive(Debug, Clone, Default)]
pub struct RegistryBatch {
    /// Persons.
    pub persons: Vec<RegistryPerson>,
    /// Households.
    pub households: Vec<Household>,
    /// Marriages.
    pub marriages: Vec<Marriage>,
    /// Births.
    pub births: Vec<Birth>,
    /// Deaths (also mark the persons deceased, when they are in the registry).
    pub deaths: Vec<Death>,
    /// Organisations.
    pub legal_persons: Vec<LegalPerson>,
}

impl From<Chunk> for RegistryBatch {
    fn from(c: Chunk) -> Self {
        RegistryBatch {
            persons: c.persons,
            households: c.households,
            marriages: c.marriages,
            births: c.births,
            deaths: c.deaths,
            legal_persons: c.legal_persons,
        }
    }
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("registry: bad {what} {value:?}"))
}

fn date_col(s: &str) -> Result<Date> {
    s.parse().map_err(|_| corrupt("date", s))
}

fn opt_date(s: Option<String>) -> Result<Option<Date>> {
    s.as_deref().map(date_col).transpose()
}

fn division_col(s: &str) -> Result<DivisionCode> {
    DivisionCode::parse(s).map_err(|_| corrupt("division", s))
}

fn sex_col(s: Option<String>) -> Result<Sex> {
    let s = s.unwrap_or_default();
    parse_sex(&s).ok_or_else(|| corrupt("sex", &s))
}

fn person_of<R: Row>(r: &R) -> Result<RegistryPerson>
where
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let status: String = r.try_get(7)?;
    let birth: Option<String> = r.try_get(3)?;
    let division: Option<String> = r.try_get(5)?;
    Ok(RegistryPerson {
        resident_id: r.try_get(0)?,
        name: r.try_get(1)?,
        sex: sex_col(r.try_get(2)?)?,
        birth_date: date_col(birth.as_deref().unwrap_or(""))?,
        ethnicity: r.try_get(4)?,
        division_code: division_col(division.as_deref().unwrap_or(""))?,
        household_id: r.try_get(6)?,
        status: PersonStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        death_date: opt_date(r.try_get(8)?)?,
    })
}

fn marriage_of<R: Row>(r: &R) -> Result<Marriage>
where
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let registered: String = r.try_get(3)?;
    let division: String = r.try_get(5)?;
    Ok(Marriage {
        id: r.try_get(0)?,
        husband_resident_id: r.try_get(1)?,
        wife_resident_id: r.try_get(2)?,
        registered_on: date_col(&registered)?,
        divorced_on: opt_date(r.try_get(4)?)?,
        division_code: division_col(&division)?,
    })
}

fn birth_of<R: Row>(r: &R) -> Result<Birth>
where
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let birth: String = r.try_get(6)?;
    Ok(Birth {
        medical_certificate_number: r.try_get(0)?,
        child_name: r.try_get(1)?,
        child_sex: sex_col(r.try_get(2)?)?,
        child_resident_id: r.try_get(3)?,
        mother_resident_id: r.try_get(4)?,
        father_resident_id: r.try_get(5)?,
        birth_date: date_col(&birth)?,
        hospital: r.try_get(7)?,
    })
}

fn legal_person_of<R: Row>(r: &R) -> Result<LegalPerson>
where
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let code: String = r.try_get(0)?;
    let kind: String = r.try_get(2)?;
    let status: String = r.try_get(5)?;
    let division: String = r.try_get(7)?;
    let established: String = r.try_get(8)?;
    Ok(LegalPerson {
        credit_code: CreditCode::parse(&code).map_err(|_| corrupt("credit code", &code))?,
        name: r.try_get(1)?,
        kind: LegalPersonKind::parse(&kind).ok_or_else(|| corrupt("kind", &kind))?,
        legal_representative_resident_id: r.try_get(3)?,
        legal_representative_name: r.try_get(4)?,
        status: LegalPersonStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        address: r.try_get(6)?,
        division_code: division_col(&division)?,
        established_on: date_col(&established)?,
    })
}

impl Db {
    /// Writes a batch of registry rows in one write transaction (all or nothing), replacing
    /// rows whose key exists. Within a batch, the last row of a key wins. Deaths also mark
    /// their persons deceased with the date of death, when the persons are in the registry.
    pub async fn upsert_registry(&self, batch: RegistryBatch) -> Result<()> {
        self.write_registry(batch, true).await
    }

    /// Writes a generated chunk in one write transaction. Its rows are unique and consistent by
    /// construction, so nothing is deduplicated and deaths do not update persons (the persons
    /// of a chunk are already deceased).
    pub async fn insert_registry_chunk(&self, chunk: Chunk) -> Result<()> {
        self.write_registry(chunk.into(), false).await
    }

    async fn write_registry(&self, batch: RegistryBatch, checked: bool) -> Result<()> {
        let prep = |c: Columns| if checked { dedupe_last(c) } else { c };
        let death_updates: Vec<(String, String)> = if checked {
            batch
                .deaths
                .iter()
                .map(|x| (x.resident_id.clone(), x.death_date.to_string()))
                .collect()
        } else {
            Vec::new()
        };
        let mut persons = batch.persons;
        if !checked {
            // Inserting in key order keeps the primary-key index writes local.
            persons.sort_unstable_by(|a, b| a.resident_id.cmp(&b.resident_id));
        }
        let tables = [
            (&PERSONS, prep(persons_columns(persons))),
            (&HOUSEHOLDS, prep(households_columns(batch.households))),
            (&MARRIAGES, prep(marriages_columns(batch.marriages))),
            (&BIRTHS, prep(births_columns(batch.births))),
            (&DEATHS, prep(deaths_columns(batch.deaths))),
            (
                &LEGAL_PERSONS,
                prep(legal_persons_columns(batch.legal_persons)),
            ),
        ];
        const MARK_DECEASED: &str = "UPDATE population_registry SET status = 'deceased', \
             death_date = $2 WHERE resident_id = $1";
        match self {
            Db::Sqlite(pool, _) => {
                let mut tx = pool.begin_write(self.write_gate()).await?;
                for (table, cols) in tables {
                    if cols.len() > 0 {
                        insert_sqlite(&mut tx, table, cols).await?;
                    }
                }
                for (id, date) in death_updates {
                    sqlx::query(MARK_DECEASED)
                        .bind(id)
                        .bind(date)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }
            Db::Postgres(pool) => {
                let mut tx = pool.begin_write(self.write_gate()).await?;
                for (table, cols) in tables {
                    if cols.len() > 0 {
                        insert_pg(&mut tx, table, cols).await?;
                    }
                }
                if !death_updates.is_empty() {
                    let (ids, dates): (Vec<String>, Vec<String>) =
                        death_updates.into_iter().unzip();
                    sqlx::query(
                        "UPDATE population_registry p SET status = 'deceased', \
                         death_date = u.death_date FROM UNNEST($1::text[], $2::text[]) \
                         AS u(resident_id, death_date) WHERE p.resident_id = u.resident_id",
                    )
                    .bind(ids)
                    .bind(dates)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// The person with this full resident ID number.
    pub async fn registry_person(&self, resident_id: &str) -> Result<Option<RegistryPerson>> {
        const SQL: &str = concat!(
            "SELECT resident_id, name, sex, birth_date, ethnicity, division_code, ",
            "household_id, status, death_date FROM population_registry WHERE resident_id = $1"
        );
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(resident_id).fetch_optional(pool).await?;
            row.as_ref().map(person_of).transpose()
        })
    }

    /// Up to `limit` persons in resident ID order, after `after` (exclusive), for streaming
    /// exports: pass the last resident ID of a page to get the next one.
    pub async fn registry_persons_page(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RegistryPerson>> {
        const SQL: &str = concat!(
            "SELECT resident_id, name, sex, birth_date, ethnicity, division_code, ",
            "household_id, status, death_date FROM population_registry WHERE resident_id > $1 ",
            "ORDER BY resident_id LIMIT $2"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL)
                .bind(after.unwrap_or(""))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(person_of).collect()
        })
    }

    /// The household with this number and its members (resident ID numbers, eldest first).
    pub async fn registry_household(&self, id: &str) -> Result<Option<Household>> {
        const SQL: &str = "SELECT id, division_code, address, head_resident_id \
             FROM registry_households WHERE id = $1";
        const MEMBERS: &str = "SELECT resident_id FROM population_registry \
             WHERE household_id = $1 ORDER BY birth_date, resident_id";
        on_pool!(self, pool => {
            let Some(row) = sqlx::query(SQL).bind(id).fetch_optional(pool).await? else {
                return Ok(None);
            };
            let division: String = row.try_get(1)?;
            let members: Vec<String> = sqlx::query_scalar(MEMBERS)
                .bind(id)
                .fetch_all(pool)
                .await?;
            Ok(Some(Household {
                id: row.try_get(0)?,
                division_code: division_col(&division)?,
                address: row.try_get(2)?,
                head_resident_id: row.try_get(3)?,
                members,
            }))
        })
    }

    /// The marriages (current and dissolved) in which this person is husband or wife, oldest
    /// first.
    pub async fn registry_marriages_of(&self, resident_id: &str) -> Result<Vec<Marriage>> {
        const SQL: &str = "SELECT id, husband_resident_id, wife_resident_id, registered_on, \
             divorced_on, division_code FROM registry_marriages WHERE husband_resident_id = $1 \
             UNION ALL SELECT id, husband_resident_id, wife_resident_id, registered_on, \
             divorced_on, division_code FROM registry_marriages WHERE wife_resident_id = $1 \
             ORDER BY 4, 1";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(resident_id).fetch_all(pool).await?;
            rows.iter().map(marriage_of).collect()
        })
    }

    /// The person with this resident ID number and the address of their household (when
    /// they have one and it is registered): one query.
    pub async fn registry_person_with_address(
        &self,
        resident_id: &str,
    ) -> Result<Option<(RegistryPerson, Option<String>)>> {
        const SQL: &str = concat!(
            "SELECT p.resident_id, p.name, p.sex, p.birth_date, p.ethnicity, p.division_code, ",
            "p.household_id, p.status, p.death_date, h.address FROM population_registry p ",
            "LEFT JOIN registry_households h ON h.id = p.household_id WHERE p.resident_id = $1"
        );
        on_pool!(self, pool => {
            let Some(row) = sqlx::query(SQL).bind(resident_id).fetch_optional(pool).await? else {
                return Ok(None);
            };
            Ok(Some((person_of(&row)?, row.try_get(9)?)))
        })
    }

    /// The person's household record: their name, their household, and the name of its head
    /// (when the head is in the registry); `None` when the person or their household is
    /// unknown. One query.
    pub async fn registry_household_of(&self, resident_id: &str) -> Result<Option<HouseholdOf>> {
        const SQL: &str = concat!(
            "SELECT p.resident_id, p.name, h.id, h.address, h.head_resident_id, hp.name ",
            "FROM population_registry p JOIN registry_households h ON h.id = p.household_id ",
            "LEFT JOIN population_registry hp ON hp.resident_id = h.head_resident_id ",
            "WHERE p.resident_id = $1"
        );
        on_pool!(self, pool => {
            let Some(row) = sqlx::query(SQL).bind(resident_id).fetch_optional(pool).await? else {
                return Ok(None);
            };
            Ok(Some(HouseholdOf {
                resident_id: row.try_get(0)?,
                name: row.try_get(1)?,
                household_id: row.try_get(2)?,
                address: row.try_get(3)?,
                head_resident_id: row.try_get(4)?,
                head_name: row.try_get(5)?,
            }))
        })
    }

    /// The person's latest marriage (current or dissolved: the one registered last, the
    /// highest number among those of the same day) with the names of both spouses as the
    /// registry knows them. One query.
    pub async fn registry_latest_marriage(&self, resident_id: &str) -> Result<Option<MarriageOf>> {
        const SQL: &str = concat!(
            "SELECT m.id, m.husband_resident_id, m.wife_resident_id, m.registered_on, ",
            "m.divorced_on, m.division_code, hp.name, wp.name FROM (",
            "SELECT id, husband_resident_id, wife_resident_id, registered_on, divorced_on, ",
            "division_code FROM registry_marriages WHERE husband_resident_id = $1 UNION ALL ",
            "SELECT id, husband_resident_id, wife_resident_id, registered_on, divorced_on, ",
            "division_code FROM registry_marriages WHERE wife_resident_id = $1) m ",
            "LEFT JOIN population_registry hp ON hp.resident_id = m.husband_resident_id ",
            "LEFT JOIN population_registry wp ON wp.resident_id = m.wife_resident_id ",
            "ORDER BY m.registered_on DESC, m.id DESC LIMIT 1"
        );
        on_pool!(self, pool => {
            let Some(row) = sqlx::query(SQL).bind(resident_id).fetch_optional(pool).await? else {
                return Ok(None);
            };
            Ok(Some(MarriageOf {
                marriage: marriage_of(&row)?,
                husband_name: row.try_get(6)?,
                wife_name: row.try_get(7)?,
            }))
        })
    }

    /// The births of which this person is the mother or the father, oldest first.
    pub async fn registry_births_of_parent(&self, resident_id: &str) -> Result<Vec<Birth>> {
        const SQL: &str = "SELECT medical_certificate_number, child_name, child_sex, \
             child_resident_id, mother_resident_id, father_resident_id, birth_date, hospital \
             FROM registry_births WHERE mother_resident_id = $1 UNION \
             SELECT medical_certificate_number, child_name, child_sex, child_resident_id, \
             mother_resident_id, father_resident_id, birth_date, hospital \
             FROM registry_births WHERE father_resident_id = $1 ORDER BY 7, 1";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(resident_id).fetch_all(pool).await?;
            rows.iter().map(birth_of).collect()
        })
    }

    /// The death record of this person.
    pub async fn registry_death(&self, resident_id: &str) -> Result<Option<Death>> {
        const SQL: &str =
            "SELECT resident_id, death_date, place FROM registry_deaths WHERE resident_id = $1";
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(resident_id).fetch_optional(pool).await?;
            row.map(|r| {
                let date: String = r.try_get(1)?;
                Ok(Death {
                    resident_id: r.try_get(0)?,
                    death_date: date_col(&date)?,
                    place: r.try_get(2)?,
                })
            })
            .transpose()
        })
    }

    /// The organisation of the legal-person registry with this credit code (upper case).
    pub async fn legal_person(&self, credit_code: &str) -> Result<Option<LegalPerson>> {
        const SQL: &str = "SELECT credit_code, name, kind, legal_representative_resident_id, \
             legal_representative_name, status, address, division_code, established_on \
             FROM legal_person_registry WHERE credit_code = $1";
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(credit_code).fetch_optional(pool).await?;
            row.as_ref().map(legal_person_of).transpose()
        })
    }

    /// Up to `limit` organisations in credit-code order after `after` (exclusive).
    pub async fn legal_persons_page(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<LegalPerson>> {
        const SQL: &str = "SELECT credit_code, name, kind, legal_representative_resident_id, \
             legal_representative_name, status, address, division_code, established_on \
             FROM legal_person_registry WHERE credit_code > $1 ORDER BY credit_code LIMIT $2";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL)
                .bind(after.unwrap_or(""))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(legal_person_of).collect()
        })
    }

    /// How many rows each registry table holds.
    pub async fn registry_counts(&self) -> Result<RegistryCounts> {
        const SQL: &str = "SELECT \
             (SELECT COUNT(*) FROM population_registry), \
             (SELECT COUNT(*) FROM registry_households), \
             (SELECT COUNT(*) FROM registry_marriages), \
             (SELECT COUNT(*) FROM registry_births), \
             (SELECT COUNT(*) FROM registry_deaths), \
             (SELECT COUNT(*) FROM legal_person_registry)";
        on_pool!(self, pool => {
            let r = sqlx::query(SQL).fetch_one(pool).await?;
            Ok(RegistryCounts {
                persons: r.try_get(0)?,
                households: r.try_get(1)?,
                marriages: r.try_get(2)?,
                births: r.try_get(3)?,
                deaths: r.try_get(4)?,
                legal_persons: r.try_get(5)?,
            })
        })
    }
}
