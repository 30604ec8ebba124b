//! The working-day clock of a case and its warning colour (预警).

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::calendar::{CalendarError, WorkCalendar};

/// Why the clock was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseReason {
    /// Waiting for the applicant's corrections (补正).
    Correction,
    /// A special procedure (hearing, testing, …) not counted in the limit.
    SpecialProcedure,
}

/// A stretch during which the clock was stopped.
///
/// The working days in `(from, until]` are not counted: the day the pause began still counts,
/// the day it ended does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pause {
    /// The day the pause began.
    pub from: Date,
    /// The day it ended; `None` while it lasts.
    pub until: Option<Date>,
    /// Why.
    pub reason: PauseReason,
}

/// The warning colour of a running case.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Warning {
    /// Within time.
    #[default]
    Green,
    /// 黄牌: 80 % of the limit used.
    Yellow,
    /// 红牌: past the deadline.
    Red,
}

impl Warning {
    /// The `snake_case` name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Warning::Green => "green",
            Warning::Yellow => "yellow",
            Warning::Red => "red",
        }
    }

    /// Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Warning::Green => "正常",
            Warning::Yellow => "黄牌预警",
            Warning::Red => "红牌预警",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Warning::Green => "On time",
            Warning::Yellow => "Yellow warning (close to the limit)",
            Warning::Red => "Red warning (overdue)",
        }
    }
}

/// The working-day clock of a case: facts only (limit, start, pauses). Deadlines and colours
/// are computed against a calendar when asked, so they follow calendar updates.
///
/// Maintained by [`CaseStatus::apply`](super::CaseStatus::apply): `accepted` starts it, a
/// correction or special procedure after acceptance opens a pause, supplying the correction or
/// resuming closes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Clock {
    /// The time limit in working days (the promised limit of the item or situation).
    pub limit: u16,
    /// The acceptance date; the period starts the day after (the start day is not counted).
    pub start: Option<Date>,
    /// The pauses, in order; only the last may be open.
    pub pauses: Vec<Pause>,
}

impl Clock {
    /// A clock that has not started.
    pub fn new(limit: u16) -> Clock {
        Clock {
            limit,
            start: None,
            pauses: Vec::new(),
        }
    }

    /// The open pause, if the clock is stopped now.
    pub fn open_pause(&self) -> Option<&Pause> {
        self.pauses.iter().rev().find(|p| p.until.is_none())
    }

    /// Whether the clock is stopped now.
    pub fn is_paused(&self) -> bool {
        self.open_pause().is_some()
    }

    pub(crate) fn pause(&mut self, on: Date, reason: PauseReason) {
        if self.start.is_some() && !self.is_paused() {
            self.pauses.push(Pause {
                from: on,
                until: None,
                reason,
            });
        }
    }

    pub(crate) fn resume(&mut self, on: Date) {
        for pause in self.pauses.iter_mut().filter(|p| p.until.is_none()) {
            pause.until = Some(on);
        }
    }

    /// Working days the clock was stopped: for each pause, the working days in
    /// `(from, until]`, an open pause counting up to `today`.
    ///
    /// # Errors
    /// From the calendar (dates more than twenty years apart).
    pub fn paused_working_days(
        &self,
        cal: &WorkCalendar,
        today: Date,
    ) -> Result<u32, CalendarError> {
        let mut total = 0u32;
        for p in &self.pauses {
            let end = p.until.unwrap_or(today);
            total = total.saturating_add(count(cal, p.from, end)?);
        }
        Ok(total)
    }

    /// Paused working days up to `as_of`: pauses (or their parts) after `as_of` are ignored.
    fn paused_as_of(&self, cal: &WorkCalendar, as_of: Date) -> Result<u32, CalendarError> {
        let mut total = 0u32;
        for p in &self.pauses {
            let end = p.until.map_or(as_of, |u| u.min(as_of));
            total = total.saturating_add(count(cal, p.from, end)?);
        }
        Ok(total)
    }

    /// The last day of the period: `limit + paused` working days after the start, an open pause
    /// counting up to `today`. `None` before acceptance.
    ///
    /// # Errors
    /// From the calendar.
    pub fn deadline(&self, cal: &WorkCalendar, today: Date) -> Result<Option<Date>, CalendarError> {
        let Some(start) = self.start else {
            return Ok(None);
        };
        let paused = self.paused_working_days(cal, today)?;
        let n = u32::from(self.limit).saturating_add(paused);
        Ok(Some(cal.add_working_days(start, n)?.due))
    }

    /// Working days used so far: working days from the start to `today` minus the paused ones.
    /// 0 before acceptance.
    ///
    /// # Errors
    /// From the calendar.
    pub fn elapsed_working_days(
        &self,
        cal: &WorkCalendar,
        today: Date,
    ) -> Result<u32, CalendarError> {
        let Some(start) = self.start else {
            return Ok(0);
        };
        let total = count(cal, start, today)?;
        Ok(total.saturating_sub(self.paused_as_of(cal, today)?))
    }

    /// The warning colour on `today`: red when `today` is after the deadline, yellow when at
    /// least 80 % of the limit is used (`elapsed × 5 ≥ limit × 4`, never for a limit of 0),
    /// green otherwise, and green before acceptance. While the clock is stopped the colour
    /// stays what it was when the pause began.
    ///
    /// Meaningful for running cases; for concluded ones use [`Clock::concluded_on_time`].
    ///
    /// # Errors
    /// From the calendar.
    pub fn warning(&self, cal: &WorkCalendar, today: Date) -> Result<Warning, CalendarError> {
        if self.start.is_none() {
            return Ok(Warning::Green);
        }
        let as_of = match self.open_pause() {
            Some(p) if p.from < today => p.from,
            _ => today,
        };
        if let Some(deadline) = self.deadline(cal, as_of)?
            && as_of > deadline
        {
            return Ok(Warning::Red);
        }
        let elapsed = self.elapsed_working_days(cal, as_of)?;
        if self.limit > 0 && u64::from(elapsed) * 5 >= u64::from(self.limit) * 4 {
            return Ok(Warning::Yellow);
        }
        Ok(Warning::Green)
    }

    /// Whether a case concluded on `concluded_on` met its deadline (a case never accepted has
    /// no deadline and counts as on time).
    ///
    /// # Errors
    /// From the calendar.
    pub fn concluded_on_time(
        &self,
        cal: &WorkCalendar,
        concluded_on: Date,
    ) -> Result<bool, CalendarError> {
        Ok(match self.deadline(cal, concluded_on)? {
            Some(deadline) => concluded_on <= deadline,
            None => true,
        })
    }
}

/// Working days in `(from, to]`, 0 when `to <= from`.
fn count(cal: &WorkCalendar, from: Date, to: Date) -> Result<u32, CalendarError> {
    if to <= from {
        return Ok(0);
    }
    let days = cal.working_days_between(from, to)?.days;
    Ok(u32::try_from(days).unwrap_or(u32::MAX))
}
