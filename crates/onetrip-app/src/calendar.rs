//! Working-day calendar use cases: answers on the current calendar, and importing a year.

use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use onetrip_domain::calendar::{Counted, DayInfo, Deadline, WorkCalendar, YearSchedule};

use crate::{App, AppError, Result};

impl App {
    /// The calendar in force (built-in years overlaid by imported ones).
    pub fn calendar(&self) -> Arc<WorkCalendar> {
        match self.calendar.read() {
            Ok(guard) => guard.clone(),
            // A writer panicked mid-swap; the Arc inside is still a complete calendar.
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Whether `date` is a working day, and why.
    pub fn working_day(&self, date: Date) -> DayInfo {
        self.calendar().is_working_day(date)
    }

    /// The date `working_days` working days after `start` (the start day not counted).
    pub fn deadline(&self, start: Date, working_days: u32) -> Result<Deadline> {
        Ok(self.calendar().add_working_days(start, working_days)?)
    }

    /// Working days in `(start, end]`.
    pub fn working_days_between(&self, start: Date, end: Date) -> Result<Counted> {
        Ok(self.calendar().working_days_between(start, end)?)
    }

    /// Imports one year's official schedule (a JSON document, see `data/calendar/`), replacing
    /// the built-in or earlier imported schedule of that year. Deadlines computed afterwards use
    /// it; deadlines computed before remain as they were until recomputed.
    pub async fn import_calendar_year(&self, json: &str, now: Timestamp) -> Result<YearSchedule> {
        let schedule = YearSchedule::from_json(json)?;
        let canonical = serde_json::to_string(&schedule)
            .map_err(|e| AppError::Internal(format!("schedule does not serialize: {e}")))?;
        self.db
            .save_calendar_year(schedule.year(), &canonical, now)
            .await?;
        self.swap_calendar(|cal| {
            cal.insert(schedule.clone());
        });
        tracing::info!(year = schedule.year(), "calendar year imported");
        Ok(schedule)
    }

    /// Reloads imported years from the database over the built-in calendar.
    pub async fn reload_calendar(&self) -> Result<()> {
        let mut calendar = WorkCalendar::builtin();
        for (year, json) in self.db.calendar_years().await? {
            match YearSchedule::from_json(&json) {
                Ok(schedule) => {
                    calendar.insert(schedule);
                }
                Err(e) => {
                    tracing::error!(year, error = %e, "stored calendar year is invalid; using the built-in one")
                }
            }
        }
        self.swap_calendar(|cal| *cal = calendar);
        Ok(())
    }

    fn swap_calendar(&self, change: impl FnOnce(&mut WorkCalendar)) {
        let mut guard = match self.calendar.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut next = (**guard).clone();
        change(&mut next);
        *guard = Arc::new(next);
    }
}
