//! Imported working-day schedules (one row per year). Built-in years ship in the binary; a year
//! stored here replaces the built-in one, because the State Council amends notices mid-year.

use jiff::Timestamp;
use sqlx::Row;

use crate::{Db, Result, on_pool, to_micros};

impl Db {
    /// Stores (or replaces) the schedule of `year`, given as its JSON document.
    pub async fn save_calendar_year(
        &self,
        year: i16,
        schedule_json: &str,
        now: Timestamp,
    ) -> Result<()> {
        const SQL: &str = "INSERT INTO calendar_years (year, schedule, imported_at) VALUES ($1, $2, $3) \
             ON CONFLICT (year) DO UPDATE SET schedule = excluded.schedule, \
             imported_at = excluded.imported_at";
        on_pool!(self, pool => {
            sqlx::query(SQL)
                .bind(i64::from(year))
                .bind(schedule_json)
                .bind(to_micros(now))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Every imported schedule as `(year, JSON document)`, ordered by year.
    pub async fn calendar_years(&self) -> Result<Vec<(i64, String)>> {
        const SQL: &str = "SELECT year, schedule FROM calendar_years ORDER BY year";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).fetch_all(pool).await?;
            rows.iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect()
        })
    }
}
