//! Working-day calendar: hand-checked cases from the State Council notices 2019–2026,
//! provisional answers outside them, schedule validation, and properties.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use jiff::civil::{Date, date};
use onetrip_domain::Localized;
use onetrip_domain::calendar::{
    BUILTIN_SCHEDULE_FILES, CalendarError, DayReason, Holiday, MAX_WORKING_DAYS, ProblemKind,
    WorkCalendar, YearSchedule,
};
use proptest::prelude::*;

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn cal() -> WorkCalendar {
    WorkCalendar::builtin()
}

fn due(start: &str, n: u32) -> String {
    let deadline = cal().add_working_days(d(start), n).unwrap();
    assert!(
        !deadline.provisional,
        "{start} + {n} should not be provisional"
    );
    deadline.due.to_string()
}

// ---------------------------------------------------------------- the issue's examples

#[test]
fn five_working_days_after_2024_09_27_is_2024_10_10() {
    assert_eq!(due("2024-09-27", 5), "2024-10-10");
}

#[test]
fn one_working_day_after_2024_05_10_is_the_makeup_saturday() {
    assert_eq!(due("2024-05-10", 1), "2024-05-11");
    let info = cal().is_working_day(d("2024-05-11"));
    assert!(info.working);
    assert_eq!(info.reason, DayReason::MakeupWorkday);
    assert_eq!(info.holiday.as_deref(), Some("劳动节"));
}

// ---------------------------------------------------------------- hand-checked, every year

#[test]
fn hand_checked_deadlines() {
    let cases = [
        // 2019: amended Labour Day (国办发明电〔2019〕3号): Sundays 04-28 and 05-05 worked.
        ("2019-04-26", 1, "2019-04-28"),
        ("2019-04-30", 1, "2019-05-05"),
        ("2019-10-11", 1, "2019-10-12"),
        ("2019-02-01", 1, "2019-02-02"),
        ("2019-02-03", 1, "2019-02-11"),
        // 2020: Spring Festival extended to 02-02; the 02-01 make-up Saturday was cancelled.
        ("2020-01-23", 1, "2020-02-03"),
        ("2020-01-17", 1, "2020-01-19"),
        ("2020-06-24", 1, "2020-06-28"),
        ("2020-01-10", 20, "2020-02-14"),
        // 2021
        ("2021-09-17", 1, "2021-09-18"),
        ("2021-09-18", 1, "2021-09-22"),
        ("2021-02-01", 10, "2021-02-19"),
        // 2022
        ("2022-04-01", 1, "2022-04-02"),
        ("2022-09-30", 1, "2022-10-08"),
        ("2022-01-25", 10, "2022-02-11"),
        // 2023: across the year boundary (2022-12-31 is a Saturday), Sunday 06-25 worked.
        ("2022-12-30", 1, "2023-01-03"),
        ("2023-06-21", 1, "2023-06-25"),
        ("2023-09-28", 1, "2023-10-07"),
        // 2024
        ("2024-12-31", 1, "2025-01-02"),
        ("2024-09-20", 20, "2024-10-23"),
        ("2024-04-03", 1, "2024-04-07"),
        // 2025: make-up Sunday 01-26; National Day and Mid-Autumn together, 8 days.
        ("2025-01-24", 1, "2025-01-26"),
        ("2025-09-26", 1, "2025-09-28"),
        ("2025-09-30", 1, "2025-10-09"),
        ("2025-04-25", 5, "2025-05-06"),
        // 2026
        ("2025-12-31", 1, "2026-01-04"),
        ("2026-02-13", 1, "2026-02-14"),
        ("2026-02-14", 1, "2026-02-24"),
        ("2026-09-18", 10, "2026-10-09"),
        // n = 0 is the start day itself, even on a holiday.
        ("2024-10-01", 0, "2024-10-01"),
        // A whole year.
        ("2019-01-01", 250, "2019-12-31"),
    ];
    for (start, n, expected) in cases {
        assert_eq!(due(start, n), expected, "{n} working days after {start}");
        let counted = cal().working_days_between(d(start), d(expected)).unwrap();
        assert_eq!(counted.days, i64::from(n), "between {start} and {expected}");
    }
}

#[test]
fn working_days_per_year() {
    // Counted from the data; 2024 has 251 and 2025 has 248, as published.
    let expected = [
        (2019, 250),
        (2020, 249),
        (2021, 250),
        (2022, 249),
        (2023, 249),
        (2024, 251),
        (2025, 248),
        (2026, 248),
    ];
    for (year, days) in expected {
        let c = cal()
            .working_days_between(date(year - 1, 12, 31), date(year, 12, 31))
            .unwrap();
        assert_eq!(c.days, days, "{year}");
        assert!(!c.provisional);
    }
}

#[test]
fn day_info() {
    let c = cal();
    let info = c.is_working_day(d("2020-02-01"));
    assert!(!info.working);
    assert_eq!(info.reason, DayReason::Holiday);
    assert_eq!(info.holiday.as_deref(), Some("春节"));
    assert!(!info.provisional);

    let info = c.is_working_day(d("2023-06-25"));
    assert!(info.working);
    assert_eq!(info.reason, DayReason::MakeupWorkday);
    assert_eq!(info.holiday.as_deref(), Some("端午节"));

    let info = c.is_working_day(d("2024-10-14"));
    assert!(info.working);
    assert_eq!(info.reason, DayReason::Weekday);
    assert_eq!(info.holiday, None);

    let info = c.is_working_day(d("2024-10-13"));
    assert!(!info.working);
    assert_eq!(info.reason, DayReason::Weekend);

    // A weekend day off still reports its holiday.
    let info = c.is_working_day(d("2025-10-04"));
    assert_eq!(
        (info.working, info.reason, info.holiday.as_deref()),
        (false, DayReason::Holiday, Some("国庆节、中秋节"))
    );
}

#[test]
fn day_info_json() {
    let json = serde_json::to_string(&cal().is_working_day(d("2024-10-12"))).unwrap();
    assert_eq!(
        json,
        r#"{"date":"2024-10-12","working":true,"reason":"makeup_workday","holiday":"国庆节","holiday_en":"National Day","provisional":false}"#
    );
    let json = serde_json::to_string(&cal().is_working_day(d("2027-01-02"))).unwrap();
    assert_eq!(
        json,
        r#"{"date":"2027-01-02","working":false,"reason":"weekend","holiday":null,"holiday_en":null,"provisional":true}"#
    );
    let deadline = cal().add_working_days(d("2024-09-27"), 5).unwrap();
    assert_eq!(
        serde_json::to_string(&deadline).unwrap(),
        r#"{"due":"2024-10-10","provisional":false}"#
    );
}

// ---------------------------------------------------------------- provisional answers

#[test]
fn unscheduled_years_are_monday_to_friday_and_provisional() {
    let c = cal();
    // 2018-10-01 was a holiday, but 2018 has no schedule: assumed a plain Monday.
    let info = c.is_working_day(d("2018-10-01"));
    assert!(info.working && info.provisional);
    assert_eq!(info.reason, DayReason::Weekday);
    let info = c.is_working_day(d("2027-01-01"));
    assert!(info.working && info.provisional);

    let deadline = c.add_working_days(d("2027-03-05"), 1).unwrap();
    assert_eq!(deadline.due, d("2027-03-08"));
    assert!(deadline.provisional);

    let deadline = c.add_working_days(d("2018-12-28"), 5).unwrap();
    assert_eq!(deadline.due, d("2019-01-07"));
    assert!(deadline.provisional);
}

#[test]
fn mixed_span_is_provisional() {
    let c = cal();
    let deadline = c.add_working_days(d("2026-12-30"), 5).unwrap();
    assert_eq!(deadline.due, d("2027-01-06"));
    assert!(deadline.provisional);
    // Staying inside 2026 is not provisional, even from its last day with n = 0.
    let deadline = c.add_working_days(d("2026-12-30"), 1).unwrap();
    assert_eq!(
        (deadline.due, deadline.provisional),
        (d("2026-12-31"), false)
    );
    assert!(!c.add_working_days(d("2026-12-31"), 0).unwrap().provisional);

    let counted = c
        .working_days_between(d("2026-12-30"), d("2027-01-06"))
        .unwrap();
    assert_eq!((counted.days, counted.provisional), (5, true));
    let counted = c
        .working_days_between(d("2023-01-01"), d("2027-01-06"))
        .unwrap();
    assert_eq!((counted.days, counted.provisional), (1000, true));
}

#[test]
fn empty_calendar_is_all_provisional() {
    let c = WorkCalendar::empty();
    assert!(c.years().is_empty());
    let deadline = c.add_working_days(d("2024-09-27"), 5).unwrap();
    assert_eq!(deadline.due, d("2024-10-04"));
    assert!(deadline.provisional);
}

// ---------------------------------------------------------------- between

#[test]
fn working_days_between_signs_and_limits() {
    let c = cal();
    let counted = c
        .working_days_between(d("2024-10-10"), d("2024-09-27"))
        .unwrap();
    assert_eq!(counted.days, -5);
    assert_eq!(
        c.working_days_between(d("2024-10-01"), d("2024-10-01"))
            .unwrap()
            .days,
        0
    );
    // The start day is not counted, the end day is.
    assert_eq!(
        c.working_days_between(d("2024-10-08"), d("2024-10-09"))
            .unwrap()
            .days,
        1
    );
    let err = c
        .working_days_between(d("2000-01-01"), d("2030-01-01"))
        .unwrap_err();
    assert_eq!(err.code(), "working_days_span_too_large");
    assert!(matches!(
        c.working_days_between(Date::MAX, Date::MIN),
        Err(CalendarError::SpanTooLarge { .. })
    ));
}

// ---------------------------------------------------------------- limits and errors

#[test]
fn limits_are_errors_not_panics() {
    let c = cal();
    let err = c
        .add_working_days(d("2024-01-01"), MAX_WORKING_DAYS + 1)
        .unwrap_err();
    assert_eq!(err.code(), "working_days_too_large");
    assert!(err.message_en().contains("3661"));
    assert!(err.message_zh().contains("3661"));
    assert!(c.add_working_days(d("2024-01-01"), u32::MAX).is_err());
    assert!(
        c.add_working_days(d("2024-01-01"), MAX_WORKING_DAYS)
            .is_ok()
    );

    let err = c.add_working_days(Date::MAX, 1).unwrap_err();
    assert_eq!(err.code(), "working_days_date_out_of_range");
    assert!(matches!(err, CalendarError::DateOutOfRange { .. }));
    // 9999-12-31 is a Friday.
    let deadline = c.add_working_days(d("9999-12-30"), 1).unwrap();
    assert_eq!((deadline.due, deadline.provisional), (Date::MAX, true));
    assert!(c.add_working_days(d("9999-12-30"), 2).is_err());
    assert!(
        c.add_working_days(d("9990-01-01"), MAX_WORKING_DAYS)
            .is_err()
    );
    assert!(c.add_working_days(Date::MIN, MAX_WORKING_DAYS).is_ok());
    assert!(c.is_working_day(Date::MIN).provisional);
    assert!(c.is_working_day(Date::MAX).working);
}

// ---------------------------------------------------------------- data

#[test]
fn every_builtin_file_parses_and_validates() {
    assert_eq!(BUILTIN_SCHEDULE_FILES.len(), 8);
    for (year, json) in BUILTIN_SCHEDULE_FILES {
        let schedule = YearSchedule::from_json(json)
            .unwrap_or_else(|e| panic!("{year}.json: {}", e.message_en()));
        assert_eq!(schedule.year(), *year);
        assert!(schedule.source().contains("国务院办公厅"), "{year}");
        assert!(schedule.source().contains(&format!("{year}年")), "{year}");
        for h in schedule.holidays() {
            assert!(h.name_en().is_some(), "{year} {}", h.name());
            assert!(!h.off().is_empty(), "{year} {}", h.name());
        }
        // Serializing and parsing again gives the same schedule.
        let again = serde_json::to_string_pretty(&schedule).unwrap();
        assert_eq!(YearSchedule::from_json(&again).unwrap(), schedule);
        let via_serde: YearSchedule = serde_json::from_str(json).unwrap();
        assert_eq!(via_serde, schedule);
    }
    let c = WorkCalendar::try_builtin().unwrap();
    assert_eq!(c.years(), (2019..=2026).collect::<Vec<i16>>());
    assert_eq!(c, cal());
}

#[test]
fn schedule_lookups() {
    let c = cal();
    let s = c.schedule(2024).unwrap();
    assert!(s.is_off(d("2024-02-10")));
    assert!(!s.is_off(d("2024-02-18")));
    assert!(s.is_makeup(d("2024-02-18")));
    assert_eq!(s.holiday_name(d("2024-02-18")), Some("春节"));
    assert_eq!(s.holiday_name(d("2024-06-10")), Some("端午节"));
    assert_eq!(s.holiday_name(d("2024-06-11")), None);
    // Other years are never "in" this schedule.
    assert!(!s.is_off(d("2025-01-01")));
    assert_eq!(s.holiday_name(d("2025-01-01")), None);
    assert!(c.schedule(2027).is_none());
}

#[test]
fn broken_schedule_lists_every_problem_with_its_path() {
    let json = r#"{
        "year": 2024,
        "source": " ",
        "holidays": [
            {"name": "", "off": ["2024-02-10", "2024-02-30", "2024-02-10"],
             "makeup": ["2024-02-05", "2023-12-31"]},
            {"name": "x", "off": ["2024-02-05"], "makeup": [], "extra": 1},
            {"name": "y", "off": [], "makeup": []},
            {"name": "z", "off": 5},
            "not a holiday",
            {"off": [20240101]}
        ],
        "remarks": []
    }"#;
    let err = YearSchedule::from_json(json).unwrap_err();
    assert_eq!(err.code(), "calendar_invalid_schedule");
    let CalendarError::InvalidSchedule(problems) = &err else {
        panic!("{err:?}")
    };
    let mut got: Vec<(&str, &str)> = problems
        .iter()
        .map(|p| (p.path.as_str(), p.code()))
        .collect();
    got.sort_unstable();
    let mut expected = vec![
        ("remarks", "schedule_unknown_field"),
        ("source", "schedule_empty_text"),
        ("holidays[0].name", "schedule_empty_text"),
        ("holidays[0].off[1]", "schedule_invalid_date"),
        ("holidays[0].off[2]", "schedule_duplicate_date"),
        ("holidays[0].makeup[0]", "schedule_makeup_not_weekend"),
        ("holidays[0].makeup[1]", "schedule_date_outside_year"),
        ("holidays[1].extra", "schedule_unknown_field"),
        ("holidays[1].off[0]", "schedule_off_and_makeup"),
        ("holidays[2]", "schedule_empty_holiday"),
        ("holidays[3].off", "schedule_wrong_type"),
        ("holidays[4]", "schedule_wrong_type"),
        ("holidays[5].name", "schedule_missing_field"),
        ("holidays[5].off[0]", "schedule_wrong_type"),
    ];
    expected.sort_unstable();
    assert_eq!(got, expected);

    let dup = problems
        .iter()
        .find(|p| p.path == "holidays[0].off[2]")
        .unwrap();
    assert_eq!(
        dup.kind,
        ProblemKind::DuplicateDate {
            date: d("2024-02-10"),
            first: "holidays[0].off[0]".to_owned()
        }
    );
    let weekday = problems
        .iter()
        .find(|p| p.path == "holidays[0].makeup[0]")
        .unwrap();
    assert!(weekday.message_en().contains("Monday"), "{weekday}");
    assert!(weekday.message_zh().contains("星期一"), "{weekday}");
    // The whole error names every path in both languages.
    for (path, _) in &expected {
        assert!(err.message_en().contains(path), "{path}");
        assert!(err.message_zh().contains(path), "{path}");
    }
    // Deserializing through serde runs the same checks.
    assert!(serde_json::from_str::<YearSchedule>(json).is_err());
}

#[test]
fn schedule_year_and_document_errors() {
    let err =
        YearSchedule::from_json(r#"{"year": 1900, "source": "s", "holidays": []}"#).unwrap_err();
    let CalendarError::InvalidSchedule(p) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(p.len(), 1);
    assert_eq!(
        (p[0].path.as_str(), p[0].code()),
        ("year", "schedule_year_out_of_range")
    );

    let err = YearSchedule::from_json(r#"{"year": 2024.5}"#).unwrap_err();
    let CalendarError::InvalidSchedule(p) = &err else {
        panic!("{err:?}")
    };
    let paths: Vec<&str> = p.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["year", "source", "holidays"]);

    let err = YearSchedule::from_json("[]").unwrap_err();
    let CalendarError::InvalidSchedule(p) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(p[0].path, "$");

    let err = YearSchedule::from_json("{\"year\": 2024,").unwrap_err();
    assert_eq!(err.code(), "calendar_schedule_json");
    assert!(matches!(err, CalendarError::Json { line: 1, .. }));
}

#[test]
fn typed_constructor_validates_too() {
    let bad = YearSchedule::new(
        2024,
        "test",
        vec![],
        vec![Holiday::new(
            "x",
            vec![d("2024-03-01")],
            vec![d("2024-03-04")],
        )],
    )
    .unwrap_err();
    let CalendarError::InvalidSchedule(p) = bad else {
        panic!()
    };
    assert_eq!(p[0].path, "holidays[0].makeup[0]");
    assert_eq!(p[0].code(), "schedule_makeup_not_weekend");
}

// ---------------------------------------------------------------- amendments

/// The built-in 2024 schedule with one more day off.
fn amended_2024(extra_off: Date) -> YearSchedule {
    let original = cal().schedule(2024).unwrap().clone();
    let mut holidays = original.holidays().to_vec();
    holidays.push(Holiday::new("临时调整", vec![extra_off], vec![]).with_name_en("Amendment"));
    YearSchedule::new(2024, original.source(), original.notes().to_vec(), holidays).unwrap()
}

#[test]
fn amending_a_year_recomputes_deadlines() {
    let mut c = cal();
    assert_eq!(
        c.add_working_days(d("2024-11-01"), 1).unwrap().due,
        d("2024-11-04")
    );
    let previous = c.insert(amended_2024(d("2024-11-04")));
    assert!(previous.is_some());
    assert_eq!(
        c.add_working_days(d("2024-11-01"), 1).unwrap().due,
        d("2024-11-05")
    );
    let info = c.is_working_day(d("2024-11-04"));
    assert_eq!(info.holiday.as_deref(), Some("临时调整"));
    assert_eq!(info.holiday_en.as_deref(), Some("Amendment"));
    // Putting the original back restores the answers.
    let c = c.with_schedule(previous.unwrap());
    assert_eq!(c, cal());
    // Removing a year makes it provisional.
    let mut c = c;
    assert!(c.remove(2024).is_some());
    assert!(c.add_working_days(d("2024-09-27"), 5).unwrap().provisional);
}

// ---------------------------------------------------------------- properties

/// Any date from 1900-01-01 to 2199-12-31.
fn any_date() -> impl Strategy<Value = Date> {
    (1900i16..2200, 1i16..=366).prop_map(|(y, doy)| {
        let first = date(y, 1, 1);
        first
            .with()
            .day_of_year(doy.min(first.days_in_year()))
            .build()
            .unwrap()
    })
}

/// Dates around the scheduled years, where the interesting cases are.
fn near_date() -> impl Strategy<Value = Date> {
    (2017i16..2029, 1i16..=366).prop_map(|(y, doy)| {
        let first = date(y, 1, 1);
        first
            .with()
            .day_of_year(doy.min(first.days_in_year()))
            .build()
            .unwrap()
    })
}

/// Any date jiff can represent.
fn extreme_date() -> impl Strategy<Value = Date> {
    (-9999i16..=9999, 1i16..=366).prop_map(|(y, doy)| {
        let first = date(y, 1, 1);
        first
            .with()
            .day_of_year(doy.min(first.days_in_year()))
            .build()
            .unwrap()
    })
}

fn start_date() -> impl Strategy<Value = Date> {
    prop_oneof![near_date(), any_date()]
}

proptest! {
    #[test]
    fn due_is_a_working_day_strictly_after_start(start in start_date(), n in 1u32..=MAX_WORKING_DAYS) {
        let c = cal();
        let deadline = c.add_working_days(start, n).unwrap();
        prop_assert!(deadline.due > start);
        prop_assert!(c.is_working_day(deadline.due).working);
    }

    #[test]
    fn between_inverts_add(start in start_date(), n in 0u32..=MAX_WORKING_DAYS) {
        let c = cal();
        let deadline = c.add_working_days(start, n).unwrap();
        let counted = c.working_days_between(start, deadline.due).unwrap();
        prop_assert_eq!(counted.days, i64::from(n));
        prop_assert_eq!(counted.provisional, deadline.provisional);
        let back = c.working_days_between(deadline.due, start).unwrap();
        prop_assert_eq!(back.days, -i64::from(n));
    }

    #[test]
    fn add_is_strictly_monotonic(start in start_date(), a in 0u32..MAX_WORKING_DAYS, b in 0u32..MAX_WORKING_DAYS) {
        let c = cal();
        let (lo, hi) = (a.min(b), a.max(b));
        let due_lo = c.add_working_days(start, lo).unwrap().due;
        let due_hi = c.add_working_days(start, hi).unwrap().due;
        if lo == hi {
            prop_assert_eq!(due_lo, due_hi);
        } else {
            prop_assert!(due_lo < due_hi);
        }
    }

    #[test]
    fn add_composes(start in start_date(), a in 0u32..=MAX_WORKING_DAYS / 2, b in 0u32..=MAX_WORKING_DAYS / 2) {
        let c = cal();
        let whole = c.add_working_days(start, a + b).unwrap();
        let first = c.add_working_days(start, a).unwrap();
        let second = c.add_working_days(first.due, b).unwrap();
        prop_assert_eq!(whole.due, second.due);
        prop_assert_eq!(whole.provisional, first.provisional || second.provisional);
    }

    #[test]
    fn counting_one_day_matches_is_working_day(day in near_date()) {
        let c = cal();
        let yesterday = day.yesterday().unwrap();
        let counted = c.working_days_between(yesterday, day).unwrap();
        let info = c.is_working_day(day);
        prop_assert_eq!(counted.days, i64::from(info.working));
        prop_assert_eq!(counted.provisional, info.provisional);
    }

    #[test]
    fn never_panics_in_1900_to_2200(start in any_date(), end in any_date(), n in 0u32..=2 * MAX_WORKING_DAYS) {
        let c = cal();
        let result = c.add_working_days(start, n);
        prop_assert_eq!(result.is_ok(), n <= MAX_WORKING_DAYS);
        let _ = c.working_days_between(start, end);
        let _ = c.is_working_day(start);
    }

    #[test]
    fn never_panics_anywhere(start in extreme_date(), end in extreme_date(), n in any::<u32>()) {
        let c = cal();
        let added = match c.add_working_days(start, n) {
            Ok(deadline) => deadline.due >= start,
            Err(e) => matches!(
                e,
                CalendarError::WorkingDaysTooLarge { .. } | CalendarError::DateOutOfRange { .. }
            ),
        };
        prop_assert!(added, "add_working_days({}, {})", start, n);
        let counted = match c.working_days_between(start, end) {
            Ok(counted) => counted.days.abs() <= 7305,
            Err(e) => matches!(e, CalendarError::SpanTooLarge { .. }),
        };
        prop_assert!(counted, "working_days_between({}, {})", start, end);
        let near_end = Date::MAX.checked_sub(jiff::Span::new().days(i64::from(n % 30))).unwrap();
        let edge = c.add_working_days(near_end, n % 30);
        let edge_ok = edge.is_ok() || matches!(edge, Err(CalendarError::DateOutOfRange { .. }));
        prop_assert!(edge_ok, "add_working_days({}, {})", near_end, n % 30);
    }

    #[test]
    fn replacing_a_schedule_changes_the_answers(doy in 1i16..=366) {
        let day = date(2024, 1, 1).with().day_of_year(doy).build().unwrap();
        let original = cal();
        prop_assume!(original.is_working_day(day).reason == DayReason::Weekday);
        let amended = original.clone().with_schedule(amended_2024(day));
        let year = |c: &WorkCalendar| {
            c.working_days_between(date(2023, 12, 31), date(2024, 12, 31)).unwrap().days
        };
        prop_assert_eq!(year(&amended), year(&original) - 1);
        prop_assert!(!amended.is_working_day(day).working);
        let before = day.yesterday().unwrap();
        prop_assert_eq!(original.add_working_days(before, 1).unwrap().due, day);
        prop_assert!(amended.add_working_days(before, 1).unwrap().due > day);
        // Other years are unaffected.
        prop_assert_eq!(
            amended.add_working_days(date(2025, 9, 26), 1).unwrap().due,
            date(2025, 9, 28)
        );
    }
}
