//! Working-day calendar (工作日): statutory time limits counted in working days.
//!
//! Rule (DOMAIN.md §4): a day is a working day if it is a make-up workday (调休上班) in the
//! State Council's holiday notice for its year, or if it is Monday–Friday and not a day off in
//! that notice. The start day of a period is not counted: "N working days after D" is the
//! N-th working day strictly after D (N = 0 gives D itself).
//!
//! Notices are data, one JSON file per year in `data/calendar/`, embedded at build time
//! ([`BUILTIN_SCHEDULE_FILES`], [`WorkCalendar::builtin`]). A notice can be amended during its
//! year (2019 Labour Day, 2020 Spring Festival), so a [`WorkCalendar`] accepts replacement
//! schedules ([`WorkCalendar::insert`]) and deadlines are recomputed from it, never stored as
//! truth. For a year without a schedule the calendar still answers, assuming Monday–Friday,
//! and marks the answer `provisional`.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};

mod bits;
mod error;
mod schedule;

use bits::{YearBits, weekdays_of_year};
pub use error::{CalendarError, JsonType, ProblemKind, ScheduleProblem};
use schedule::day_index;
pub use schedule::{Holiday, YearSchedule};

/// First year a [`YearSchedule`] may cover.
pub const MIN_SCHEDULE_YEAR: i16 = 1949;
/// Last year a [`YearSchedule`] may cover.
pub const MAX_SCHEDULE_YEAR: i16 = 2200;
/// Largest `n` accepted by [`WorkCalendar::add_working_days`] (about ten years).
pub const MAX_WORKING_DAYS: u32 = 3660;
/// Largest distance in days between the two dates of [`WorkCalendar::working_days_between`]
/// (twenty years).
pub const MAX_SPAN_DAYS: i64 = 7305;

/// The embedded schedule files, `(year, JSON text)`, from `data/calendar/`.
pub const BUILTIN_SCHEDULE_FILES: &[(i16, &str)] = &[
    (2019, include_str!("../../../data/calendar/2019.json")),
    (2020, include_str!("../../../data/calendar/2020.json")),
    (2021, include_str!("../../../data/calendar/2021.json")),
    (2022, include_str!("../../../data/calendar/2022.json")),
    (2023, include_str!("../../../data/calendar/2023.json")),
    (2024, include_str!("../../../data/calendar/2024.json")),
    (2025, include_str!("../../../data/calendar/2025.json")),
    (2026, include_str!("../../../data/calendar/2026.json")),
];

/// The built-in calendar, parsed once, and the first error met while parsing it.
///
/// A test proves every embedded file valid; should one ever fail anyway, its year is left
/// out (answers for it become `provisional`) instead of panicking, and
/// [`WorkCalendar::try_builtin`] reports the error.
static BUILTIN: LazyLock<(WorkCalendar, Option<CalendarError>)> = LazyLock::new(|| {
    let mut calendar = WorkCalendar::empty();
    let mut first_error = None;
    for (_, json) in BUILTIN_SCHEDULE_FILES {
        match YearSchedule::from_json(json) {
            Ok(schedule) => {
                calendar.insert(schedule);
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    (calendar, first_error)
});

/// Why a day is or is not a working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayReason {
    /// Monday–Friday, not a day off: working.
    Weekday,
    /// Saturday or Sunday, not a make-up workday: not working.
    Weekend,
    /// A day off of the notice (节假日): not working.
    Holiday,
    /// A make-up workday (调休上班) on a weekend: working.
    MakeupWorkday,
}

impl DayReason {
    /// The `snake_case` name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Weekday => "weekday",
            Self::Weekend => "weekend",
            Self::Holiday => "holiday",
            Self::MakeupWorkday => "makeup_workday",
        }
    }
}

/// Whether one day is a working day, and why.
///
/// JSON: `{"date":"2024-10-12","working":true,"reason":"makeup_workday","holiday":"国庆节",
/// "holiday_en":"National Day","provisional":false}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayInfo {
    /// The day.
    pub date: Date,
    /// Whether it is a working day.
    pub working: bool,
    /// Why.
    pub reason: DayReason,
    /// Chinese name of the holiday the day belongs to (as a day off or as the make-up
    /// workday compensating for it).
    pub holiday: Option<String>,
    /// English name of that holiday, when the data has one.
    #[serde(default)]
    pub holiday_en: Option<String>,
    /// True when the year has no schedule, so the answer assumes Monday–Friday.
    pub provisional: bool,
}

/// The end of a period counted in working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Deadline {
    /// The last day of the period (`YYYY-MM-DD` in JSON).
    pub due: Date,
    /// True if any day examined, from the day after the start to `due`, lies in a year
    /// without a schedule.
    pub provisional: bool,
}

/// A number of working days between two dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Counted {
    /// Working days in `(start, end]`; negative (count of `(end, start]`) when `end < start`.
    pub days: i64,
    /// True if any counted interval touches a year without a schedule.
    pub provisional: bool,
}

/// Working days of one year, as used by the counting functions.
#[derive(Clone, Copy)]
struct YearView {
    working: YearBits,
    len: usize,
    provisional: bool,
}

/// Holiday schedules by year, and the working-day arithmetic over them.
///
/// Cheap to clone (schedules are shared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkCalendar {
    schedules: BTreeMap<i16, Arc<YearSchedule>>,
}

impl WorkCalendar {
    /// A calendar with no schedule: every answer is Monday–Friday and provisional.
    pub fn empty() -> Self {
        Self {
            schedules: BTreeMap::new(),
        }
    }

    /// The embedded schedules, 2019–2026 ([`BUILTIN_SCHEDULE_FILES`]), parsed on first use.
    pub fn builtin() -> Self {
        BUILTIN.0.clone()
    }

    /// Like [`WorkCalendar::builtin`], but fails if any embedded file did not validate.
    ///
    /// # Errors
    /// The first parse or validation error among the embedded files.
    pub fn try_builtin() -> Result<Self, CalendarError> {
        match &BUILTIN.1 {
            Some(e) => Err(e.clone()),
            None => Ok(BUILTIN.0.clone()),
        }
    }

    /// This calendar with `schedule` added, replacing any schedule of the same year.
    #[must_use]
    pub fn with_schedule(mut self, schedule: YearSchedule) -> Self {
        self.insert(schedule);
        self
    }

    /// Adds `schedule`, replacing (and returning) the schedule of the same year if there was
    /// one: notices get amended.
    pub fn insert(&mut self, schedule: YearSchedule) -> Option<YearSchedule> {
        self.schedules
            .insert(schedule.year(), Arc::new(schedule))
            .map(Arc::unwrap_or_clone)
    }

    /// Removes and returns the schedule of `year`; that year becomes provisional.
    pub fn remove(&mut self, year: i16) -> Option<YearSchedule> {
        self.schedules.remove(&year).map(Arc::unwrap_or_clone)
    }

    /// Years that have a schedule, ascending.
    pub fn years(&self) -> Vec<i16> {
        self.schedules.keys().copied().collect()
    }

    /// The schedule of `year`, if loaded.
    pub fn schedule(&self, year: i16) -> Option<&YearSchedule> {
        self.schedules.get(&year).map(AsRef::as_ref)
    }

    /// Whether `date` is a working day, why, and whether the answer is provisional.
    pub fn is_working_day(&self, date: Date) -> DayInfo {
        let weekend = matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday);
        let plain = if weekend {
            DayReason::Weekend
        } else {
            DayReason::Weekday
        };
        let Some(schedule) = self.schedule(date.year()) else {
            return DayInfo {
                date,
                working: !weekend,
                reason: plain,
                holiday: None,
                holiday_en: None,
                provisional: true,
            };
        };
        let reason = if schedule.is_makeup(date) {
            DayReason::MakeupWorkday
        } else if schedule.is_off(date) {
            DayReason::Holiday
        } else {
            plain
        };
        let holiday = schedule.holiday(date);
        DayInfo {
            date,
            working: matches!(reason, DayReason::Weekday | DayReason::MakeupWorkday),
            reason,
            holiday: holiday.map(|h| h.name().to_owned()),
            holiday_en: holiday.and_then(|h| h.name_en().map(str::to_owned)),
            provisional: false,
        }
    }

    /// The `n`-th working day strictly after `start` (`n = 0` gives `start`).
    ///
    /// # Errors
    /// [`CalendarError::WorkingDaysTooLarge`] if `n > MAX_WORKING_DAYS`;
    /// [`CalendarError::DateOutOfRange`] if the result would lie after 9999-12-31.
    pub fn add_working_days(&self, start: Date, n: u32) -> Result<Deadline, CalendarError> {
        if n > MAX_WORKING_DAYS {
            return Err(CalendarError::WorkingDaysTooLarge {
                requested: n,
                max: MAX_WORKING_DAYS,
            });
        }
        if n == 0 {
            return Ok(Deadline {
                due: start,
                provisional: false,
            });
        }
        let out_of_range = CalendarError::DateOutOfRange { start, n };
        let mut year = start.year();
        // Days strictly after `start` have indices from day_index(start) + 1 on.
        let mut from = day_index(start) + 1;
        let mut remaining = n;
        let mut provisional = false;
        loop {
            let view = self.year_view(year).ok_or_else(|| out_of_range.clone())?;
            if from < view.len {
                provisional |= view.provisional;
            }
            if let Some(i) = view.working.nth_from(from, remaining) {
                let due = date_at(year, i).ok_or(out_of_range)?;
                return Ok(Deadline { due, provisional });
            }
            // Fewer than `remaining` working days are left this year: take them all.
            remaining -= view.working.count_range(from, view.len);
            year = year.checked_add(1).ok_or_else(|| out_of_range.clone())?;
            from = 0;
        }
    }

    /// Number of working days in `(start, end]`, so that
    /// `working_days_between(d, add_working_days(d, n)?.due)?.days == n`.
    /// If `end < start` the result is minus the count of `(end, start]`.
    ///
    /// # Errors
    /// [`CalendarError::SpanTooLarge`] if the dates are more than [`MAX_SPAN_DAYS`] apart.
    pub fn working_days_between(&self, start: Date, end: Date) -> Result<Counted, CalendarError> {
        if (day_number(end) - day_number(start)).abs() > MAX_SPAN_DAYS {
            return Err(CalendarError::SpanTooLarge {
                start,
                end,
                max_days: MAX_SPAN_DAYS,
            });
        }
        if end < start {
            let c = self.count_forward(end, start);
            return Ok(Counted {
                days: -c.days,
                provisional: c.provisional,
            });
        }
        Ok(self.count_forward(start, end))
    }

    /// Working days in `(from, to]`, `from <= to`.
    fn count_forward(&self, from: Date, to: Date) -> Counted {
        let mut days = 0i64;
        let mut provisional = false;
        for year in from.year()..=to.year() {
            // Every year between two valid dates is valid, so `None` cannot happen.
            let Some(view) = self.year_view(year) else {
                continue;
            };
            let lo = if year == from.year() {
                day_index(from) + 1
            } else {
                0
            };
            let hi = if year == to.year() {
                day_index(to) + 1
            } else {
                view.len
            };
            if lo < hi {
                provisional |= view.provisional;
                days += i64::from(view.working.count_range(lo, hi));
            }
        }
        Counted { days, provisional }
    }

    /// The working days of `year`: from its schedule, or Monday–Friday (provisional).
    /// `None` only for years jiff cannot represent.
    fn year_view(&self, year: i16) -> Option<YearView> {
        if let Some(schedule) = self.schedules.get(&year) {
            let index = schedule.index();
            return Some(YearView {
                working: index.working,
                len: index.len,
                provisional: false,
            });
        }
        let jan1 = Date::new(year, 1, 1).ok()?;
        let leap = jan1.in_leap_year();
        Some(YearView {
            working: weekdays_of_year(jan1.weekday().to_monday_zero_offset(), leap),
            len: if leap { 366 } else { 365 },
            provisional: true,
        })
    }
}

/// The date with day index `i` (`day_of_year - 1`) in `year`.
fn date_at(year: i16, i: usize) -> Option<Date> {
    let day = i16::try_from(i + 1).ok()?;
    Date::new(year, 1, 1)
        .ok()?
        .with()
        .day_of_year(day)
        .build()
        .ok()
}

/// Days since 1970-01-01 (proleptic Gregorian), for distance checks without fallible calls.
fn day_number(d: Date) -> i64 {
    let month = i64::from(d.month());
    let y = i64::from(d.year()) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d.day()) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_data_is_valid() {
        // This is what lets `builtin()` rely on the embedded files.
        assert_eq!(
            WorkCalendar::try_builtin().map(|c| c.years()),
            Ok((2019..=2026).collect())
        );
    }

    #[test]
    fn day_number_matches_jiff() {
        let epoch = jiff::civil::date(1970, 1, 1);
        for d in [
            Date::MIN,
            Date::MAX,
            jiff::civil::date(2000, 2, 29),
            jiff::civil::date(1969, 12, 31),
            jiff::civil::date(2024, 3, 1),
        ] {
            let span = epoch.until(d).ok().map(|s| i64::from(s.get_days()));
            assert_eq!(span, Some(day_number(d)), "{d}");
        }
    }
}
