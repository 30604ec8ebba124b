//! Errors of the working-day calendar, with stable codes and zh/en messages.

use std::fmt;

use jiff::civil::{Date, Weekday};

use super::{MAX_SCHEDULE_YEAR, MIN_SCHEDULE_YEAR};
use crate::Localized;

/// Everything that can go wrong in the calendar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// A schedule failed validation; every problem found is listed: problems of the JSON
    /// structure first, then violations of the rules, each group in document order.
    #[error("invalid holiday schedule: {}", join_problems(.0))]
    InvalidSchedule(Vec<ScheduleProblem>),
    /// A schedule file is not well-formed JSON.
    #[error("holiday schedule is not valid JSON (line {line}, column {column}): {message}")]
    Json {
        /// 1-based line of the syntax error.
        line: usize,
        /// 1-based column of the syntax error.
        column: usize,
        /// The parser's description.
        message: String,
    },
    /// More working days were asked for than [`MAX_WORKING_DAYS`](super::MAX_WORKING_DAYS).
    #[error("{requested} working days is more than the supported maximum of {max}")]
    WorkingDaysTooLarge {
        /// The number asked for.
        requested: u32,
        /// The limit, [`MAX_WORKING_DAYS`](super::MAX_WORKING_DAYS).
        max: u32,
    },
    /// The two dates of a count are further apart than [`MAX_SPAN_DAYS`](super::MAX_SPAN_DAYS).
    #[error("{start} and {end} are more than {max_days} days apart")]
    SpanTooLarge {
        /// First date given.
        start: Date,
        /// Second date given.
        end: Date,
        /// The limit, [`MAX_SPAN_DAYS`](super::MAX_SPAN_DAYS).
        max_days: i64,
    },
    /// The result would lie beyond the last representable date (9999-12-31).
    #[error("{n} working days after {start} is beyond the supported date range")]
    DateOutOfRange {
        /// Start of the period.
        start: Date,
        /// Working days asked for.
        n: u32,
    },
}

fn join_problems(problems: &[ScheduleProblem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Localized for CalendarError {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidSchedule(_) => "calendar_invalid_schedule",
            Self::Json { .. } => "calendar_schedule_json",
            Self::WorkingDaysTooLarge { .. } => "working_days_too_large",
            Self::SpanTooLarge { .. } => "working_days_span_too_large",
            Self::DateOutOfRange { .. } => "working_days_date_out_of_range",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::InvalidSchedule(problems) => {
                let list = problems
                    .iter()
                    .map(|p| format!("{}：{}", p.path, p.message_zh()))
                    .collect::<Vec<_>>()
                    .join("；");
                format!("节假日安排数据有 {} 处错误：{list}", problems.len())
            }
            Self::Json {
                line,
                column,
                message,
            } => format!("节假日安排数据不是有效的 JSON（第 {line} 行第 {column} 列）：{message}"),
            Self::WorkingDaysTooLarge { requested, max } => {
                format!("工作日天数 {requested} 超过上限 {max}（约十年）")
            }
            Self::SpanTooLarge {
                start,
                end,
                max_days,
            } => format!("{start} 与 {end} 相距超过 {max_days} 天（约二十年），无法计算工作日"),
            Self::DateOutOfRange { start, n } => {
                format!("{start} 之后第 {n} 个工作日超出了支持的日期范围")
            }
        }
    }

    fn message_en(&self) -> String {
        match self {
            Self::InvalidSchedule(problems) => {
                let list = problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                let s = if problems.len() == 1 { "" } else { "s" };
                format!(
                    "the holiday schedule has {} problem{s}: {list}",
                    problems.len()
                )
            }
            Self::Json {
                line,
                column,
                message,
            } => format!(
                "the holiday schedule is not valid JSON (line {line}, column {column}): {message}"
            ),
            Self::WorkingDaysTooLarge { requested, max } => format!(
                "{requested} working days is more than the supported maximum of {max} (about ten years)"
            ),
            Self::SpanTooLarge {
                start,
                end,
                max_days,
            } => format!(
                "cannot count working days between {start} and {end}: they are more than {max_days} days (about twenty years) apart"
            ),
            Self::DateOutOfRange { start, n } => {
                format!("{n} working days after {start} is beyond the supported date range")
            }
        }
    }
}

/// One problem found while validating a [`YearSchedule`](super::YearSchedule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleProblem {
    /// Where in the document, e.g. `holidays[2].makeup[0]`; `$` is the whole document.
    pub path: String,
    /// What is wrong.
    pub kind: ProblemKind,
}

impl fmt::Display for ScheduleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message_en())
    }
}

/// The JSON type a schedule field must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    /// `{ … }`
    Object,
    /// `[ … ]`
    Array,
    /// `"…"`
    String,
    /// A whole number.
    Integer,
}

impl JsonType {
    fn en(self) -> &'static str {
        match self {
            Self::Object => "an object",
            Self::Array => "an array",
            Self::String => "a string",
            Self::Integer => "an integer",
        }
    }

    fn zh(self) -> &'static str {
        match self {
            Self::Object => "对象",
            Self::Array => "数组",
            Self::String => "字符串",
            Self::Integer => "整数",
        }
    }
}

/// The kinds of [`ScheduleProblem`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// The value has the wrong JSON type.
    WrongType {
        /// The type required there.
        expected: JsonType,
    },
    /// A required field is absent.
    MissingField,
    /// A field that the format does not define (usually a misspelling).
    UnknownField,
    /// `year` is outside [`MIN_SCHEDULE_YEAR`](super::MIN_SCHEDULE_YEAR)`..=`[`MAX_SCHEDULE_YEAR`](super::MAX_SCHEDULE_YEAR).
    YearOutOfRange {
        /// The year given.
        year: i64,
    },
    /// A name, source or note is empty or blank.
    EmptyText,
    /// Not a valid date written as `YYYY-MM-DD`.
    InvalidDate {
        /// The text given.
        value: String,
    },
    /// A date that does not belong to the schedule's year.
    DateOutsideYear {
        /// The date given.
        date: Date,
        /// The schedule's year.
        year: i16,
    },
    /// A make-up workday (调休上班) on Monday–Friday.
    MakeupNotWeekend {
        /// The date given.
        date: Date,
        /// Its weekday.
        weekday: Weekday,
    },
    /// The same date is both a day off and a make-up workday.
    OffAndMakeup {
        /// The date.
        date: Date,
        /// Path of the earlier, conflicting entry.
        other: String,
    },
    /// The same date is listed twice (in one list or in two holidays).
    DuplicateDate {
        /// The date.
        date: Date,
        /// Path of the first entry.
        first: String,
    },
    /// A holiday with neither days off nor make-up workdays.
    EmptyHoliday,
}

fn weekday_en(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

fn weekday_zh(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "星期一",
        Weekday::Tuesday => "星期二",
        Weekday::Wednesday => "星期三",
        Weekday::Thursday => "星期四",
        Weekday::Friday => "星期五",
        Weekday::Saturday => "星期六",
        Weekday::Sunday => "星期日",
    }
}

impl Localized for ScheduleProblem {
    fn code(&self) -> &'static str {
        match self.kind {
            ProblemKind::WrongType { .. } => "schedule_wrong_type",
            ProblemKind::MissingField => "schedule_missing_field",
            ProblemKind::UnknownField => "schedule_unknown_field",
            ProblemKind::YearOutOfRange { .. } => "schedule_year_out_of_range",
            ProblemKind::EmptyText => "schedule_empty_text",
            ProblemKind::InvalidDate { .. } => "schedule_invalid_date",
            ProblemKind::DateOutsideYear { .. } => "schedule_date_outside_year",
            ProblemKind::MakeupNotWeekend { .. } => "schedule_makeup_not_weekend",
            ProblemKind::OffAndMakeup { .. } => "schedule_off_and_makeup",
            ProblemKind::DuplicateDate { .. } => "schedule_duplicate_date",
            ProblemKind::EmptyHoliday => "schedule_empty_holiday",
        }
    }

    fn message_zh(&self) -> String {
        match &self.kind {
            ProblemKind::WrongType { expected } => format!("必须是 JSON {}", expected.zh()),
            ProblemKind::MissingField => "缺少必填字段".to_owned(),
            ProblemKind::UnknownField => "未知字段（请检查拼写）".to_owned(),
            ProblemKind::YearOutOfRange { year } => {
                format!("年份 {year} 超出支持范围 {MIN_SCHEDULE_YEAR}–{MAX_SCHEDULE_YEAR}")
            }
            ProblemKind::EmptyText => "不能为空".to_owned(),
            ProblemKind::InvalidDate { value } => {
                format!("“{value}”不是 YYYY-MM-DD 格式的有效日期")
            }
            ProblemKind::DateOutsideYear { date, year } => {
                format!("{date} 不在 {year} 年内")
            }
            ProblemKind::MakeupNotWeekend { date, weekday } => format!(
                "调休上班日 {date} 是{}，调休上班日只能是星期六或星期日",
                weekday_zh(*weekday)
            ),
            ProblemKind::OffAndMakeup { date, other } => {
                format!("{date} 同时被列为放假日和调休上班日（另见 {other}）")
            }
            ProblemKind::DuplicateDate { date, first } => {
                format!("{date} 重复列出（首次出现在 {first}）")
            }
            ProblemKind::EmptyHoliday => "该节日既没有放假日也没有调休上班日".to_owned(),
        }
    }

    fn message_en(&self) -> String {
        match &self.kind {
            ProblemKind::WrongType { expected } => format!("must be {}", expected.en()),
            ProblemKind::MissingField => "required field is missing".to_owned(),
            ProblemKind::UnknownField => "unknown field (check the spelling)".to_owned(),
            ProblemKind::YearOutOfRange { year } => format!(
                "year {year} is outside the supported range {MIN_SCHEDULE_YEAR}–{MAX_SCHEDULE_YEAR}"
            ),
            ProblemKind::EmptyText => "must not be empty".to_owned(),
            ProblemKind::InvalidDate { value } => {
                format!("\"{value}\" is not a valid date written as YYYY-MM-DD")
            }
            ProblemKind::DateOutsideYear { date, year } => format!("{date} is not in {year}"),
            ProblemKind::MakeupNotWeekend { date, weekday } => format!(
                "make-up workday {date} is a {}; make-up workdays must fall on a Saturday or Sunday",
                weekday_en(*weekday)
            ),
            ProblemKind::OffAndMakeup { date, other } => format!(
                "{date} is listed both as a day off and as a make-up workday (see also {other})"
            ),
            ProblemKind::DuplicateDate { date, first } => {
                format!("{date} is listed twice (first at {first})")
            }
            ProblemKind::EmptyHoliday => {
                "the holiday lists neither days off nor make-up workdays".to_owned()
            }
        }
    }
}
