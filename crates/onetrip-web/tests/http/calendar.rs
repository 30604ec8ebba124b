//! Working-day calendar: deadlines, days, counts, and importing a year's schedule.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::*;

async fn deadline(t: &TestApp, start: &str, n: u32) -> Value {
    t.get_json(&format!(
        "/api/v1/calendar/deadline?start={start}&working_days={n}"
    ))
    .await
}

#[tokio::test]
async fn deadlines_follow_the_state_council_notice() {
    let t = TestApp::new().await;
    // 2024-09-27 (Fri) + 5: 09-29 (Sun) is a make-up workday, 10-01..07 are off.
    let d = deadline(&t, "2024-09-27", 5).await;
    assert_eq!(
        d,
        json!({"start": "2024-09-27", "working_days": 5, "due": "2024-10-10", "provisional": false})
    );
    // 2024-05-10 (Fri) + 1: Saturday 05-11 is a make-up workday.
    let d = deadline(&t, "2024-05-10", 1).await;
    assert_eq!(d["due"], "2024-05-11");
    assert_eq!(d["provisional"], false);
    // Zero days is the start day itself; blanks around values are tolerated.
    let d = t
        .get_json("/api/v1/calendar/deadline?start=%202024-10-01&working_days=0")
        .await;
    assert_eq!(d["due"], "2024-10-01");
    // Across the Spring Festival 2025 (01-28..02-04 off, 02-08 make-up Saturday).
    let d = deadline(&t, "2025-01-27", 1).await;
    assert_eq!(d["due"], "2025-02-05");
    // A year without a notice is answered Monday–Friday and flagged.
    let d = deadline(&t, "2027-03-01", 3).await;
    assert_eq!(d["due"], "2027-03-04");
    assert_eq!(d["provisional"], true);
    let d = deadline(&t, "2026-12-30", 3).await;
    assert_eq!(d["provisional"], true, "reaches into 2027");
    assert_eq!(d["due"], "2027-01-04");
}

#[tokio::test]
async fn days_say_why_they_are_working_or_not() {
    let t = TestApp::new().await;
    let d = t.get_json("/api/v1/calendar/days/2024-05-11").await;
    assert_eq!(d["date"], "2024-05-11");
    assert_eq!(d["working"], true);
    assert_eq!(d["reason"], "makeup_workday");
    assert_eq!(d["holiday"], "劳动节");
    assert_eq!(d["provisional"], false);
    let d = t.get_json("/api/v1/calendar/days/2024-10-01").await;
    assert_eq!(d["working"], false);
    assert_eq!(d["reason"], "holiday");
    assert_eq!(d["holiday"], "国庆节");
    assert_eq!(d["holiday_en"], "National Day");
    let d = t.get_json("/api/v1/calendar/days/2024-10-19").await;
    assert_eq!(d["working"], false);
    assert_eq!(d["reason"], "weekend");
    assert_eq!(d["holiday"], Value::Null);
    let d = t.get_json("/api/v1/calendar/days/2024-10-08").await;
    assert_eq!(d["working"], true);
    assert_eq!(d["reason"], "weekday");
    let d = t.get_json("/api/v1/calendar/days/2027-10-01").await;
    assert_eq!(
        d["working"], true,
        "unknown year: a Friday is assumed working"
    );
    assert_eq!(d["provisional"], true);
}

#[tokio::test]
async fn working_days_between_two_dates() {
    let t = TestApp::new().await;
    let c = t
        .get_json("/api/v1/calendar/working-days?start=2024-09-30&end=2024-10-08")
        .await;
    assert_eq!(
        c,
        json!({"start": "2024-09-30", "end": "2024-10-08", "working_days": 1, "provisional": false})
    );
    let c = t
        .get_json("/api/v1/calendar/working-days?start=2024-10-08&end=2024-09-30")
        .await;
    assert_eq!(c["working_days"], -1);
    let c = t
        .get_json("/api/v1/calendar/working-days?start=2024-09-27&end=2024-10-10")
        .await;
    assert_eq!(c["working_days"], 5, "agrees with the deadline");
    let c = t
        .get_json("/api/v1/calendar/working-days?start=2024-01-01&end=2024-01-01")
        .await;
    assert_eq!(c["working_days"], 0);
    let c = t
        .get_json("/api/v1/calendar/working-days?start=2026-12-01&end=2027-01-31")
        .await;
    assert_eq!(c["provisional"], true);
    t.get("/api/v1/calendar/working-days?start=2000-01-01&end=2030-01-01")
        .await
        .problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "working_days_span_too_large",
        );
}

#[tokio::test]
async fn bad_calendar_parameters_are_problems() {
    let t = TestApp::new().await;
    for (uri, status, code, path) in [
        (
            "/api/v1/calendar/days/2024-02-30",
            StatusCode::BAD_REQUEST,
            "invalid_date",
            Some("date"),
        ),
        (
            "/api/v1/calendar/days/tomorrow",
            StatusCode::BAD_REQUEST,
            "invalid_date",
            Some("date"),
        ),
        (
            "/api/v1/calendar/days/2024-5-1x",
            StatusCode::BAD_REQUEST,
            "invalid_date",
            Some("date"),
        ),
        (
            "/api/v1/calendar/deadline?start=2024-13-01&working_days=1",
            StatusCode::BAD_REQUEST,
            "invalid_date",
            Some("start"),
        ),
        (
            "/api/v1/calendar/deadline?start=2024-10-01&working_days=-1",
            StatusCode::BAD_REQUEST,
            "invalid_working_days",
            Some("working_days"),
        ),
        (
            "/api/v1/calendar/deadline?start=2024-10-01&working_days=1.5",
            StatusCode::BAD_REQUEST,
            "invalid_working_days",
            Some("working_days"),
        ),
        (
            "/api/v1/calendar/deadline?start=2024-10-01&working_days=99999999999",
            StatusCode::BAD_REQUEST,
            "invalid_working_days",
            Some("working_days"),
        ),
        (
            "/api/v1/calendar/deadline?start=2024-10-01&working_days=3661",
            StatusCode::UNPROCESSABLE_ENTITY,
            "working_days_too_large",
            None,
        ),
        (
            "/api/v1/calendar/deadline?start=9999-12-30&working_days=5",
            StatusCode::UNPROCESSABLE_ENTITY,
            "working_days_date_out_of_range",
            None,
        ),
        (
            "/api/v1/calendar/deadline?start=2024-10-01",
            StatusCode::BAD_REQUEST,
            "invalid_query",
            None,
        ),
        (
            "/api/v1/calendar/working-days?start=2024-10-01&end=soon",
            StatusCode::BAD_REQUEST,
            "invalid_date",
            Some("end"),
        ),
    ] {
        let r = t.get(uri).await;
        let p = r.problem(status, code);
        if let Some(path) = path {
            assert_eq!(p["errors"][0]["path"], path, "{uri}: {p}");
        }
    }
    // The largest accepted value works.
    let d = deadline(&t, "2024-01-01", 3660).await;
    assert_eq!(d["provisional"], true);
}

/// An invented but plausible schedule for 2027 (make-up days on weekends only).
fn schedule_2027() -> Value {
    json!({
        "year": 2027,
        "source": "国务院办公厅关于2027年部分节假日安排的通知（测试数据）",
        "holidays": [
            {"name": "元旦", "name_en": "New Year's Day",
             "off": ["2027-01-01", "2027-01-02", "2027-01-03"], "makeup": []},
            {"name": "春节", "name_en": "Spring Festival",
             "off": ["2027-02-06", "2027-02-07", "2027-02-08", "2027-02-09", "2027-02-10",
                     "2027-02-11", "2027-02-12", "2027-02-13", "2027-02-14"],
             "makeup": ["2027-01-31", "2027-02-20"]},
            {"name": "清明节", "name_en": "Qingming Festival",
             "off": ["2027-04-03", "2027-04-04", "2027-04-05"], "makeup": []},
            {"name": "劳动节", "name_en": "Labour Day",
             "off": ["2027-05-01", "2027-05-02", "2027-05-03", "2027-05-04", "2027-05-05"],
             "makeup": ["2027-04-25", "2027-05-08"]},
            {"name": "端午节", "name_en": "Dragon Boat Festival",
             "off": ["2027-06-09"], "makeup": []},
            {"name": "中秋节", "name_en": "Mid-Autumn Festival",
             "off": ["2027-09-15"], "makeup": []},
            {"name": "国庆节", "name_en": "National Day",
             "off": ["2027-10-01", "2027-10-02", "2027-10-03", "2027-10-04", "2027-10-05",
                     "2027-10-06", "2027-10-07"],
             "makeup": ["2027-09-26", "2027-10-09"]}
        ]
    })
}

#[tokio::test]
async fn importing_a_year_makes_its_answers_official() {
    let t = TestApp::new().await;
    let years = t.get_json("/api/v1/calendar/years").await;
    let loaded: Vec<i64> = years
        .as_array()
        .unwrap()
        .iter()
        .map(|y| y["year"].as_i64().unwrap())
        .collect();
    assert_eq!(loaded, (2019..=2026).collect::<Vec<_>>());
    assert!(
        years[7]["source"]
            .as_str()
            .unwrap()
            .contains("国办发明电〔2025〕7号")
    );

    // Before: Monday–Friday assumed.
    let before = deadline(&t, "2027-09-30", 1).await;
    assert_eq!(before["due"], "2027-10-01");
    assert_eq!(before["provisional"], true);

    let schedule = schedule_2027();
    let r = t
        .admin_json(Method::PUT, "/api/v1/calendar/years/2027", &schedule)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"year": 2027, "source": schedule["source"]})
    );

    // After: official, holidays and make-up days counted.
    let d = deadline(&t, "2027-09-30", 1).await;
    assert_eq!(d["due"], "2027-10-08");
    assert_eq!(d["provisional"], false);
    let d = deadline(&t, "2027-09-30", 2).await;
    assert_eq!(d["due"], "2027-10-09", "Saturday make-up workday");
    let d = deadline(&t, "2027-09-24", 1).await;
    assert_eq!(d["due"], "2027-09-26", "Sunday make-up workday");
    let d = deadline(&t, "2027-02-05", 1).await;
    assert_eq!(d["due"], "2027-02-15", "after the Spring Festival");
    let d = deadline(&t, "2026-12-30", 3).await;
    assert_eq!(d["due"], "2027-01-05", "New Year's Day 2027 now off");
    assert_eq!(d["provisional"], false);
    let day = t.get_json("/api/v1/calendar/days/2027-10-04").await;
    assert_eq!(day["working"], false);
    assert_eq!(day["reason"], "holiday");
    assert_eq!(day["holiday"], "国庆节");
    assert_eq!(day["provisional"], false);
    let day = t.get_json("/api/v1/calendar/days/2027-05-08").await;
    assert_eq!(day["working"], true);
    assert_eq!(day["reason"], "makeup_workday");
    assert_eq!(day["holiday"], "劳动节");
    let c = t
        .get_json("/api/v1/calendar/working-days?start=2027-09-30&end=2027-10-10")
        .await;
    assert_eq!(c["working_days"], 2, "10-08 and 10-09");
    assert_eq!(c["provisional"], false);

    let years = t.get_json("/api/v1/calendar/years").await;
    let last = years.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last, json!({"year": 2027, "source": schedule["source"]}));

    // An amendment replaces the year: National Day moved by a day.
    let mut amended = schedule.clone();
    amended["source"] = Value::from("2027年节假日安排调整通知（测试数据）");
    amended["holidays"][6]["off"] = json!([
        "2027-10-01",
        "2027-10-02",
        "2027-10-03",
        "2027-10-04",
        "2027-10-05",
        "2027-10-06",
        "2027-10-07",
        "2027-10-08"
    ]);
    let r = t
        .admin_json(Method::PUT, "/api/v1/calendar/years/2027", &amended)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let d = deadline(&t, "2027-09-30", 1).await;
    assert_eq!(d["due"], "2027-10-09");

    // The imported year survives a restart: a new app on the same database.
    let restarted = onetrip_app::App::connect(&t.db_url).await.unwrap();
    let day = restarted.working_day(jiff::civil::date(2027, 10, 8));
    assert!(!day.working, "{day:?}");
    assert!(!day.provisional);

    // Built-in years can be amended too, and a wrong year in the address is refused.
    let r = t
        .admin_json(Method::PUT, "/api/v1/calendar/years/2028", &schedule)
        .await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "code_mismatch");
    let r = t
        .admin_raw(
            Method::PUT,
            "/api/v1/calendar/years/twenty",
            "application/json",
            schedule.to_string(),
        )
        .await;
    r.problem(StatusCode::BAD_REQUEST, "invalid_path");
}

#[tokio::test]
async fn an_invalid_schedule_lists_every_problem() {
    let t = TestApp::new().await;
    let years_before = t.get_json("/api/v1/calendar/years").await;
    let mut bad = schedule_2027();
    bad["holidays"][0]["name"] = Value::from(""); // empty name
    bad["holidays"][1]["makeup"] = json!(["2027-02-01", "2027-02-20"]); // a Monday
    // A date that does not exist, and one of another year.
    bad["holidays"][2]["off"] = json!(["2027-04-03", "2027-04-31", "2026-04-05"]);
    bad["holidays"][3]["makeup"] = json!(["2027-05-01", "2027-05-08"]); // also off
    bad["holidays"][4]["colour"] = Value::from("green"); // unknown field
    bad["source"] = Value::from(7); // wrong type
    let r = t
        .admin_json(Method::PUT, "/api/v1/calendar/years/2027", &bad)
        .await;
    let p = r.problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        "calendar_invalid_schedule",
    );
    let errors = r.field_errors();
    assert_has(&errors, "source", "schedule_wrong_type");
    assert_has(&errors, "holidays[4].colour", "schedule_unknown_field");
    assert_has(&errors, "holidays[2].off[1]", "schedule_invalid_date");
    assert_has(&errors, "holidays[2].off[2]", "schedule_date_outside_year");
    assert_has(&errors, "holidays[0].name", "schedule_empty_text");
    assert_has(
        &errors,
        "holidays[1].makeup[0]",
        "schedule_makeup_not_weekend",
    );
    assert!(
        errors
            .iter()
            .any(|(path, code)| path.starts_with("holidays[3].")
                && code == "schedule_off_and_makeup"),
        "{errors:?}"
    );
    assert!(errors.len() >= 7, "{errors:?}");
    assert!(
        p["message_zh"]
            .as_str()
            .unwrap()
            .contains("holidays[1].makeup[0]")
    );

    // Nothing changed: 2027 is still provisional.
    assert_eq!(t.get_json("/api/v1/calendar/years").await, years_before);
    assert_eq!(deadline(&t, "2027-09-30", 1).await["provisional"], true);

    // Missing fields and a document that is not JSON.
    let r = t
        .admin_json(
            Method::PUT,
            "/api/v1/calendar/years/2027",
            &json!({"year": 2027}),
        )
        .await;
    r.problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        "calendar_invalid_schedule",
    );
    let errors = r.field_errors();
    assert_has(&errors, "source", "schedule_missing_field");
    assert_has(&errors, "holidays", "schedule_missing_field");
    let r = t
        .admin_raw(
            Method::PUT,
            "/api/v1/calendar/years/2027",
            "application/json",
            "{\"year\": 2027,",
        )
        .await;
    r.problem(StatusCode::BAD_REQUEST, "calendar_schedule_json");
    let r = t
        .admin_json(
            Method::PUT,
            "/api/v1/calendar/years/1800",
            &json!({"year": 1800, "source": "x", "holidays": []}),
        )
        .await;
    r.problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        "calendar_invalid_schedule",
    );
    assert_has(&r.field_errors(), "year", "schedule_year_out_of_range");
}
