//! One year's State Council holiday notice as data: the days off and the make-up workdays.

use std::collections::{BTreeMap, HashMap};

use jiff::civil::{Date, Weekday};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::bits::{YearBits, weekdays_of_year};
use super::error::{CalendarError, JsonType, ProblemKind, ScheduleProblem};
use super::{MAX_SCHEDULE_YEAR, MIN_SCHEDULE_YEAR};

/// One holiday of a notice (e.g. 春节) with its days off and the make-up workdays (调休上班)
/// that compensate for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holiday {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name_en: Option<String>,
    off: Vec<Date>,
    makeup: Vec<Date>,
}

impl Holiday {
    /// A holiday named `name` (Chinese, as in the notice) with its days off and make-up
    /// workdays. Checked when it becomes part of a [`YearSchedule`].
    pub fn new(name: impl Into<String>, off: Vec<Date>, makeup: Vec<Date>) -> Self {
        Self {
            name: name.into(),
            name_en: None,
            off,
            makeup,
        }
    }

    /// The same holiday with an English name.
    #[must_use]
    pub fn with_name_en(mut self, name_en: impl Into<String>) -> Self {
        self.name_en = Some(name_en.into());
        self
    }

    /// Chinese name, as in the notice (e.g. `春节`, `国庆节、中秋节`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// English name, if the data gives one.
    pub fn name_en(&self) -> Option<&str> {
        self.name_en.as_deref()
    }

    /// Every day off of this holiday in the schedule's year (weekends included).
    pub fn off(&self) -> &[Date] {
        &self.off
    }

    /// Make-up workdays (调休上班) that compensate for this holiday.
    pub fn makeup(&self) -> &[Date] {
        &self.makeup
    }
}

/// Precomputed lookups of one schedule, indexed by `day_of_year - 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DayIndex {
    /// Days in the year (365 or 366).
    pub(crate) len: usize,
    /// Working days of the year under this schedule.
    pub(crate) working: YearBits,
    off: YearBits,
    makeup: YearBits,
    /// Day index → index into `holidays`.
    holiday_of: BTreeMap<usize, usize>,
}

/// The State Council's holiday arrangement for one year (国务院办公厅关于某年部分节假日安排的通知),
/// including later amendments.
///
/// JSON format (one file per year under `data/calendar/`):
///
/// ```json
/// {"year": 2024,
///  "source": "国务院办公厅关于2024年部分节假日安排的通知（国办发明电〔2023〕7号）",
///  "notes": ["optional remarks"],
///  "holidays": [{"name": "春节", "name_en": "Spring Festival",
///                "off": ["2024-02-10", "…every day…", "2024-02-17"],
///                "makeup": ["2024-02-04", "2024-02-18"]}]}
/// ```
///
/// Every value of this type is valid: deserializing (from any serde format) runs the same
/// checks as [`YearSchedule::from_json`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Value")]
pub struct YearSchedule {
    year: i16,
    source: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
    holidays: Vec<Holiday>,
    #[serde(skip)]
    index: DayIndex,
}

impl YearSchedule {
    /// Parses and validates a schedule written in the JSON format above.
    ///
    /// # Errors
    /// [`CalendarError::Json`] if the text is not JSON; otherwise
    /// [`CalendarError::InvalidSchedule`] listing every problem at once, each with its path
    /// (e.g. `holidays[2].makeup[0]`): wrong types, missing or unknown fields, a year outside
    /// 1949..=2200, malformed dates, dates outside the year, make-up workdays on Monday–Friday,
    /// a date both off and make-up, duplicated dates, empty names.
    pub fn from_json(json: &str) -> Result<Self, CalendarError> {
        let value: Value = serde_json::from_str(json).map_err(|e| CalendarError::Json {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        Self::try_from(value)
    }

    /// Builds a schedule from typed parts, with the same checks as [`YearSchedule::from_json`].
    ///
    /// # Errors
    /// [`CalendarError::InvalidSchedule`] listing every problem.
    pub fn new(
        year: i16,
        source: impl Into<String>,
        notes: Vec<String>,
        holidays: Vec<Holiday>,
    ) -> Result<Self, CalendarError> {
        let draft = Draft {
            year: Some(i64::from(year)),
            source: Some(source.into()),
            notes: notes.into_iter().map(Some).collect(),
            holidays: holidays
                .into_iter()
                .map(|h| DraftHoliday {
                    name: Some(h.name),
                    name_en: h.name_en,
                    off: h.off.into_iter().map(Some).collect(),
                    makeup: h.makeup.into_iter().map(Some).collect(),
                })
                .collect(),
        };
        draft.finish(Vec::new())
    }

    /// The year this schedule covers.
    pub fn year(&self) -> i16 {
        self.year
    }

    /// The notice (and amendments) the data comes from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Remarks on the data (e.g. days of the notice that fall in another year).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The holidays, in the order of the notice.
    pub fn holidays(&self) -> &[Holiday] {
        &self.holidays
    }

    /// Whether `date` is a day off of this notice (always false for another year).
    pub fn is_off(&self, date: Date) -> bool {
        date.year() == self.year && self.index.off.get(day_index(date))
    }

    /// Whether `date` is a make-up workday (调休上班) of this notice.
    pub fn is_makeup(&self, date: Date) -> bool {
        date.year() == self.year && self.index.makeup.get(day_index(date))
    }

    /// The holiday `date` belongs to, as a day off or as a make-up workday.
    pub fn holiday(&self, date: Date) -> Option<&Holiday> {
        if date.year() != self.year {
            return None;
        }
        self.index
            .holiday_of
            .get(&day_index(date))
            .and_then(|&i| self.holidays.get(i))
    }

    /// Chinese name of the holiday `date` belongs to, as a day off or as a make-up workday.
    pub fn holiday_name(&self, date: Date) -> Option<&str> {
        self.holiday(date).map(Holiday::name)
    }

    pub(crate) fn index(&self) -> &DayIndex {
        &self.index
    }
}

impl TryFrom<Value> for YearSchedule {
    type Error = CalendarError;

    fn try_from(value: Value) -> Result<Self, Self::Error> {
        let mut problems = Vec::new();
        let draft = Draft::from_value(&value, &mut problems);
        draft.finish(problems)
    }
}

/// Index of a date within its year: `day_of_year - 1`, in `0..366`.
pub(crate) fn day_index(date: Date) -> usize {
    // day_of_year is always 1..=366, so the subtraction is non-negative.
    usize::try_from(date.day_of_year() - 1).unwrap_or(0)
}

/// A schedule as read, before validation; `None` marks a value already reported as a problem.
struct Draft {
    year: Option<i64>,
    source: Option<String>,
    notes: Vec<Option<String>>,
    holidays: Vec<DraftHoliday>,
}

struct DraftHoliday {
    name: Option<String>,
    name_en: Option<String>,
    off: Vec<Option<Date>>,
    makeup: Vec<Option<Date>>,
}

fn problem(problems: &mut Vec<ScheduleProblem>, path: impl Into<String>, kind: ProblemKind) {
    problems.push(ScheduleProblem {
        path: path.into(),
        kind,
    });
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

fn as_object<'a>(
    v: &'a Value,
    path: &str,
    problems: &mut Vec<ScheduleProblem>,
) -> Option<&'a Map<String, Value>> {
    let obj = v.as_object();
    if obj.is_none() {
        let path = if path.is_empty() { "$" } else { path };
        problem(
            problems,
            path,
            ProblemKind::WrongType {
                expected: JsonType::Object,
            },
        );
    }
    obj
}

fn unknown_fields(
    obj: &Map<String, Value>,
    allowed: &[&str],
    prefix: &str,
    problems: &mut Vec<ScheduleProblem>,
) {
    for key in obj.keys() {
        if !allowed.contains(&key.as_str()) {
            problem(problems, join(prefix, key), ProblemKind::UnknownField);
        }
    }
}

fn string_field(
    obj: &Map<String, Value>,
    key: &str,
    prefix: &str,
    required: bool,
    problems: &mut Vec<ScheduleProblem>,
) -> Option<String> {
    match obj.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            problem(
                problems,
                join(prefix, key),
                ProblemKind::WrongType {
                    expected: JsonType::String,
                },
            );
            None
        }
        None => {
            if required {
                problem(problems, join(prefix, key), ProblemKind::MissingField);
            }
            None
        }
    }
}

/// The array under `key`: `Some(&[])` when absent (reported if required), `None` when the
/// value is not an array (reported).
fn array_field<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    prefix: &str,
    required: bool,
    problems: &mut Vec<ScheduleProblem>,
) -> Option<&'a [Value]> {
    match obj.get(key) {
        Some(Value::Array(a)) => Some(a),
        Some(_) => {
            problem(
                problems,
                join(prefix, key),
                ProblemKind::WrongType {
                    expected: JsonType::Array,
                },
            );
            None
        }
        None => {
            if required {
                problem(problems, join(prefix, key), ProblemKind::MissingField);
            }
            Some(&[])
        }
    }
}

/// Parses exactly `YYYY-MM-DD` (no time, no offset, no other forms).
pub(crate) fn parse_iso_date(s: &str) -> Option<Date> {
    let bytes = s.as_bytes();
    if bytes.len() != 10 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<i16> {
        s.get(from..to)?.bytes().try_fold(0i16, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + i16::from(c - b'0'))
        })
    };
    let year = number(0, 4)?;
    let month = i8::try_from(number(5, 7)?).ok()?;
    let day = i8::try_from(number(8, 10)?).ok()?;
    Date::new(year, month, day).ok()
}

/// The dates of a list; a list of the wrong type becomes one unreadable entry, so that the
/// holiday is not also reported as empty.
fn dates(
    list: Option<&[Value]>,
    prefix: &str,
    problems: &mut Vec<ScheduleProblem>,
) -> Vec<Option<Date>> {
    let Some(list) = list else {
        return vec![None];
    };
    list.iter()
        .enumerate()
        .map(|(j, v)| {
            let path = format!("{prefix}[{j}]");
            match v {
                Value::String(s) => {
                    let d = parse_iso_date(s);
                    if d.is_none() {
                        problem(
                            problems,
                            path,
                            ProblemKind::InvalidDate { value: s.clone() },
                        );
                    }
                    d
                }
                _ => {
                    problem(
                        problems,
                        path,
                        ProblemKind::WrongType {
                            expected: JsonType::String,
                        },
                    );
                    None
                }
            }
        })
        .collect()
}

impl Draft {
    /// Reads the JSON structure, reporting type, missing and unknown-field problems.
    fn from_value(value: &Value, problems: &mut Vec<ScheduleProblem>) -> Self {
        let mut draft = Draft {
            year: None,
            source: None,
            notes: Vec::new(),
            holidays: Vec::new(),
        };
        let Some(root) = as_object(value, "", problems) else {
            return draft;
        };
        unknown_fields(root, &["year", "source", "notes", "holidays"], "", problems);
        match root.get("year") {
            Some(v) => match v.as_i64() {
                Some(y) => draft.year = Some(y),
                None => problem(
                    problems,
                    "year",
                    ProblemKind::WrongType {
                        expected: JsonType::Integer,
                    },
                ),
            },
            None => problem(problems, "year", ProblemKind::MissingField),
        }
        draft.source = string_field(root, "source", "", true, problems);
        draft.notes = array_field(root, "notes", "", false, problems)
            .unwrap_or(&[])
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Some(s.clone()),
                _ => {
                    problem(
                        problems,
                        format!("notes[{i}]"),
                        ProblemKind::WrongType {
                            expected: JsonType::String,
                        },
                    );
                    None
                }
            })
            .collect();
        for (i, h) in array_field(root, "holidays", "", true, problems)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            let prefix = format!("holidays[{i}]");
            let Some(obj) = as_object(h, &prefix, problems) else {
                // Keep a placeholder so that later paths still match the document; its
                // single unreadable day avoids a second, spurious "empty holiday" report.
                draft.holidays.push(DraftHoliday {
                    name: None,
                    name_en: None,
                    off: vec![None],
                    makeup: Vec::new(),
                });
                continue;
            };
            unknown_fields(
                obj,
                &["name", "name_en", "off", "makeup"],
                &prefix,
                problems,
            );
            let name = string_field(obj, "name", &prefix, true, problems);
            let name_en = string_field(obj, "name_en", &prefix, false, problems);
            let off_path = join(&prefix, "off");
            let off = dates(
                array_field(obj, "off", &prefix, false, problems),
                &off_path,
                problems,
            );
            let makeup_path = join(&prefix, "makeup");
            let makeup = dates(
                array_field(obj, "makeup", &prefix, false, problems),
                &makeup_path,
                problems,
            );
            draft.holidays.push(DraftHoliday {
                name,
                name_en,
                off,
                makeup,
            });
        }
        draft
    }

    /// Checks the rules, then builds the schedule if there is no problem at all.
    fn finish(self, mut problems: Vec<ScheduleProblem>) -> Result<YearSchedule, CalendarError> {
        let year = match self.year {
            Some(y)
                if (i64::from(MIN_SCHEDULE_YEAR)..=i64::from(MAX_SCHEDULE_YEAR)).contains(&y) =>
            {
                i16::try_from(y).ok()
            }
            Some(y) => {
                problem(
                    &mut problems,
                    "year",
                    ProblemKind::YearOutOfRange { year: y },
                );
                None
            }
            None => None,
        };
        if let Some(s) = &self.source
            && s.trim().is_empty()
        {
            problem(&mut problems, "source", ProblemKind::EmptyText);
        }
        for (i, note) in self.notes.iter().enumerate() {
            if let Some(n) = note
                && n.trim().is_empty()
            {
                problem(&mut problems, format!("notes[{i}]"), ProblemKind::EmptyText);
            }
        }
        // Date → (path of first entry, whether it was a make-up day).
        let mut seen: HashMap<Date, (String, bool)> = HashMap::new();
        for (i, h) in self.holidays.iter().enumerate() {
            let prefix = format!("holidays[{i}]");
            if let Some(n) = &h.name
                && n.trim().is_empty()
            {
                problem(&mut problems, join(&prefix, "name"), ProblemKind::EmptyText);
            }
            if let Some(n) = &h.name_en
                && n.trim().is_empty()
            {
                problem(
                    &mut problems,
                    join(&prefix, "name_en"),
                    ProblemKind::EmptyText,
                );
            }
            if h.off.is_empty() && h.makeup.is_empty() {
                problem(&mut problems, prefix.clone(), ProblemKind::EmptyHoliday);
            }
            for (is_makeup, key, list) in [(false, "off", &h.off), (true, "makeup", &h.makeup)] {
                for (j, date) in list.iter().enumerate() {
                    let Some(date) = *date else { continue };
                    let path = format!("{prefix}.{key}[{j}]");
                    if let Some(y) = year
                        && date.year() != y
                    {
                        problem(
                            &mut problems,
                            path.clone(),
                            ProblemKind::DateOutsideYear { date, year: y },
                        );
                    }
                    let weekday = date.weekday();
                    if is_makeup && !matches!(weekday, Weekday::Saturday | Weekday::Sunday) {
                        problem(
                            &mut problems,
                            path.clone(),
                            ProblemKind::MakeupNotWeekend { date, weekday },
                        );
                    }
                    match seen.get(&date) {
                        Some((first, kind)) if *kind == is_makeup => problem(
                            &mut problems,
                            path,
                            ProblemKind::DuplicateDate {
                                date,
                                first: first.clone(),
                            },
                        ),
                        Some((other, _)) => problem(
                            &mut problems,
                            path,
                            ProblemKind::OffAndMakeup {
                                date,
                                other: other.clone(),
                            },
                        ),
                        None => {
                            seen.insert(date, (path, is_makeup));
                        }
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(CalendarError::InvalidSchedule(problems));
        }
        // No problem was reported, so every value is present; `None` below is unreachable
        // and still reported as an (empty) invalid-schedule error rather than a panic.
        self.build(year)
            .ok_or(CalendarError::InvalidSchedule(problems))
    }

    fn build(self, year: Option<i16>) -> Option<YearSchedule> {
        let year = year?;
        let source = self.source?;
        let notes = self.notes.into_iter().collect::<Option<Vec<_>>>()?;
        let holidays = self
            .holidays
            .into_iter()
            .map(|h| {
                Some(Holiday {
                    name: h.name?,
                    name_en: h.name_en,
                    off: h.off.into_iter().collect::<Option<Vec<_>>>()?,
                    makeup: h.makeup.into_iter().collect::<Option<Vec<_>>>()?,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        let index = build_index(year, &holidays)?;
        Some(YearSchedule {
            year,
            source,
            notes,
            holidays,
            index,
        })
    }
}

fn build_index(year: i16, holidays: &[Holiday]) -> Option<DayIndex> {
    let jan1 = Date::new(year, 1, 1).ok()?;
    let leap = jan1.in_leap_year();
    let mut index = DayIndex {
        len: if leap { 366 } else { 365 },
        working: weekdays_of_year(jan1.weekday().to_monday_zero_offset(), leap),
        off: YearBits::default(),
        makeup: YearBits::default(),
        holiday_of: BTreeMap::new(),
    };
    for (h, holiday) in holidays.iter().enumerate() {
        for &d in &holiday.off {
            let i = day_index(d);
            index.off.set(i, true);
            index.working.set(i, false);
            index.holiday_of.insert(i, h);
        }
        for &d in &holiday.makeup {
            let i = day_index(d);
            index.makeup.set(i, true);
            index.working.set(i, true);
            index.holiday_of.insert(i, h);
        }
    }
    Some(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_dates() {
        assert_eq!(parse_iso_date("2024-02-29"), Date::new(2024, 2, 29).ok());
        for bad in [
            "2023-02-29",
            "2024-2-29",
            "2024-02-29T00:00",
            "20240229",
            "２０２４-02-01",
            "2024-13-01",
            "+2024-01-01",
            "2024-00-10",
            "",
        ] {
            assert_eq!(parse_iso_date(bad), None, "{bad}");
        }
    }
}
