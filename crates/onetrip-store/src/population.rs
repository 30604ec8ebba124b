//! Population registry repository (人口库): the resident ID number, name and status of every
//! registered resident, which real-name verification (assurance L2) checks accounts against.
//!
//! Until the data-platform issue brings the full registry, the table is filled from the demo
//! seed. Rows are written with [`Db::upsert_population`], many at a time in one write
//! transaction; a row whose resident ID number already exists is replaced.

use std::fmt;

use jiff::civil::Date;
use onetrip_domain::identifiers::ResidentId;
use onetrip_domain::registry::sex_str;
use sqlx::Row;

use crate::accounts::mask;
use crate::{BeginWrite, Db, Result, StoreError, on_pool};

/// The status of a registry record (the population registry's [`PersonStatus`]).
pub use onetrip_domain::registry::PersonStatus as PopulationStatus;

/// One registry record.
#[derive(Clone, PartialEq, Eq)]
pub struct PopulationRow {
    /// The full resident ID number (primary key). Personal data: never log it.
    pub resident_id: String,
    /// Name as registered.
    pub name: String,
    /// Status.
    pub status: PopulationStatus,
}

impl fmt::Debug for PopulationRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PopulationRow")
            .field("resident_id", &mask(&self.resident_id, 6, 4))
            .field("name", &"<personal data>")
            .field("status", &self.status)
            .finish()
    }
}

impl Db {
    /// Inserts or replaces registry records, all in one write transaction: either every row
    /// lands or none does.
    pub async fn upsert_population(&self, rows: &[PopulationRow]) -> Result<()> {
        // The sex, date of birth and division come from the ID number (the other fields of
        // the full registry are left as they are, see `crate::registry`).
        const SQL: &str = "INSERT INTO population_registry (resident_id, name, status, sex, \
             birth_date, division_code) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (resident_id) DO UPDATE SET name = excluded.name, \
             status = excluded.status, sex = excluded.sex, birth_date = excluded.birth_date, \
             division_code = COALESCE(population_registry.division_code, excluded.division_code)";
        on_pool!(self, pool => {
            let mut tx = pool.begin_write(self.write_gate()).await?;
            for row in rows {
                let id = ResidentId::parse(&row.resident_id, Date::MAX).ok();
                sqlx::query(SQL)
                    .bind(&row.resident_id)
                    .bind(&row.name)
                    .bind(row.status.as_str())
                    .bind(id.map(|id| sex_str(id.sex())))
                    .bind(id.map(|id| id.birth_date().to_string()))
                    .bind(id.map(|id| id.division().as_str().to_owned()))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The registry record of a full resident ID number.
    pub async fn population_by_resident_id(
        &self,
        resident_id: &str,
    ) -> Result<Option<PopulationRow>> {
        const SQL: &str =
            "SELECT resident_id, name, status FROM population_registry WHERE resident_id = $1";
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(resident_id).fetch_optional(pool).await?;
            row.map(|r| {
                let status: String = r.try_get(2)?;
                Ok(PopulationRow {
                    resident_id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    status: PopulationStatus::parse(&status).ok_or_else(|| {
                        StoreError::Corrupt(format!("unknown population status {status:?}"))
                    })?,
                })
            })
            .transpose()
        })
    }

    /// How many records the registry holds.
    pub async fn population_count(&self) -> Result<i64> {
        on_pool!(self, pool => {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM population_registry")
                .fetch_one(pool)
                .await?;
            Ok(n)
        })
    }
}
