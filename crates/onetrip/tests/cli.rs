//! The `onetrip` command end to end: imports that list every problem and change nothing,
//! export round trips, calendar commands and configuration output.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::process::{Command, Output};

fn onetrip(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_onetrip"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("ONETRIP_DATABASE_URL")
        .env("ONETRIP_LOG", "warn")
        .output()
        .expect("run onetrip")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/catalog.yaml");

fn export_json(dir: &Path) -> serde_json::Value {
    let out = dir.join("export.json");
    let o = onetrip(dir, &["catalog", "export", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
}

#[test]
fn invalid_import_lists_every_violation_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let o = onetrip(dir.path(), &["catalog", "import", DEMO]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("142 new"), "{}", text(&o.stdout));
    let before = export_json(dir.path());

    // Break three different rules in three different items, plus one shape error.
    let mut doc: serde_json::Value =
        serde_norway::from_str(&std::fs::read_to_string(DEMO).unwrap()).unwrap();
    let items = doc["items"].as_array_mut().unwrap();
    items[0]["promised_limit"] = serde_json::json!(400);
    items[0]["name"] = serde_json::json!("改过的名字");
    items[1]["online_depth"] = serde_json::json!("IV");
    items[1]["visits"] = serde_json::json!(2);
    items[1]["visits_reason"] = serde_json::Value::Null;
    items[2]["department_code"] = serde_json::json!("91330100716105852X");
    items[3]["item_type"] = serde_json::json!("no_such_type");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, serde_json::to_string(&doc).unwrap()).unwrap();

    let o = onetrip(dir.path(), &["catalog", "import", bad.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    // The shape error is reported first (the other rules run once the document has a shape).
    assert!(
        err.contains("items[3].item_type") && err.contains("[malformed]"),
        "{err}"
    );

    items_fix_shape(&mut doc);
    std::fs::write(&bad, serde_json::to_string(&doc).unwrap()).unwrap();
    let o = onetrip(dir.path(), &["catalog", "import", bad.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    for (path, code) in [
        ("items[0].promised_limit", "limit_too_large"),
        ("items[0].promised_limit", "promised_exceeds_statutory"),
        ("items[1].visits", "full_online_requires_zero_visits"),
        ("items[1].visits_reason", "visits_reason_required"),
        ("items[2].department_code", "invalid_credit_code"),
    ] {
        assert!(
            err.lines().any(|l| l.contains(path)) && err.contains(&format!("[{code}]")),
            "missing {path} {code} in:\n{err}"
        );
    }
    assert_eq!(
        export_json(dir.path()),
        before,
        "a failed import changed the catalog"
    );

    // --dry-run on a valid document saves nothing either.
    let o = onetrip(dir.path(), &["catalog", "import", DEMO, "--dry-run"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("nothing saved"));
}

fn items_fix_shape(doc: &mut serde_json::Value) {
    doc["items"][3]["item_type"] = serde_json::json!("public_service");
}

#[test]
fn export_import_round_trip_creates_no_versions() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        onetrip(dir.path(), &["catalog", "import", DEMO])
            .status
            .success()
    );
    let yaml = dir.path().join("catalog.yaml");
    let o = onetrip(dir.path(), &["catalog", "export", yaml.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = onetrip(dir.path(), &["catalog", "import", yaml.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("0 new, 0 new versions, 142 unchanged"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn calendar_commands() {
    let dir = tempfile::tempdir().unwrap();
    let o = onetrip(dir.path(), &["calendar", "deadline", "2024-09-27", "5"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).trim(), "2024-10-10");
    let o = onetrip(dir.path(), &["calendar", "deadline", "2027-09-27", "5"]);
    assert!(
        text(&o.stdout).contains("provisional"),
        "{}",
        text(&o.stdout)
    );

    // A 2027 schedule: National Day 10-01…10-07 off, make-up Saturday 10-09.
    let schedule = r#"{"year":2027,"source":"test notice","holidays":[{"name":"国庆节","name_en":"National Day",
        "off":["2027-10-01","2027-10-02","2027-10-03","2027-10-04","2027-10-05","2027-10-06","2027-10-07"],
        "makeup":["2027-10-09"]}]}"#;
    let file = dir.path().join("2027.json");
    std::fs::write(&file, schedule).unwrap();
    let o = onetrip(dir.path(), &["calendar", "import", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    // 2027-09-30 (Thu) + 1 → the first working day after the holiday is the make-up Saturday.
    let o = onetrip(dir.path(), &["calendar", "deadline", "2027-09-30", "1"]);
    assert_eq!(text(&o.stdout).trim(), "2027-10-08");
    let o = onetrip(dir.path(), &["calendar", "deadline", "2027-10-08", "1"]);
    assert_eq!(text(&o.stdout).trim(), "2027-10-09");

    // An invalid schedule lists every problem and changes nothing.
    let broken = r#"{"year":2027,"source":"x","holidays":[{"name":"","off":["2027-13-01","2028-01-01"],"makeup":["2027-10-06"]}]}"#;
    std::fs::write(&file, broken).unwrap();
    let o = onetrip(dir.path(), &["calendar", "import", file.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.matches("\n  - ").count() >= 3, "{err}");
    let o = onetrip(dir.path(), &["calendar", "deadline", "2027-10-08", "1"]);
    assert_eq!(text(&o.stdout).trim(), "2027-10-09");
}

#[test]
fn config_hides_secrets_and_follows_precedence() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_onetrip"))
        .args(["config", "--listen", "127.0.0.1:9999"])
        .env("ONETRIP_LISTEN", "127.0.0.1:7777")
        .env("ONETRIP_ADMIN_TOKEN", "very-secret-token")
        .env("ONETRIP_DATABASE_URL", "postgres://app:hunter2@db/onetrip")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("127.0.0.1:9999"), "{out}");
    assert!(
        !out.contains("very-secret-token") && !out.contains("hunter2"),
        "{out}"
    );
    assert!(out.contains("postgres://app:***@db/onetrip"), "{out}");
}

#[test]
fn the_first_administrator_is_created_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    // The department must exist: load the demo catalog first.
    let o = onetrip(
        dir.path(),
        &[
            "catalog",
            "import",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/catalog.yaml"),
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = onetrip(
        dir.path(),
        &[
            "staff",
            "create",
            "--username",
            "admin.hz",
            "--name",
            "管理员",
            "--department",
            "123301000597435545",
            "--division",
            "330100",
            "--role",
            "system_administrator",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("initial password (shown once): "), "{out}");
    assert!(out.contains("TOTP"), "{out}");
    // Same username again: refused with the reason.
    let o = onetrip(
        dir.path(),
        &[
            "staff",
            "create",
            "--username",
            "admin.hz",
            "--name",
            "x",
            "--department",
            "123301000597435545",
            "--division",
            "330100",
            "--role",
            "window_clerk",
        ],
    );
    assert!(!o.status.success());
    // An unknown role is refused.
    let o = onetrip(
        dir.path(),
        &[
            "staff",
            "create",
            "--username",
            "x.y",
            "--name",
            "x",
            "--department",
            "123301000597435545",
            "--division",
            "330100",
            "--role",
            "king",
        ],
    );
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("unknown role"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn signing_keys_rotate_and_the_old_ones_stay_published() {
    let dir = tempfile::tempdir().unwrap();
    let first = onetrip(dir.path(), &["keys", "rotate"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let second = onetrip(dir.path(), &["keys", "rotate"]);
    let out = text(&second.stdout);
    // The first rotation makes the first keys; the second retires them (still published for a
    // day) and makes new ones: two RS256 and two EdDSA keys.
    let published = out.trim().rsplit(": ").next().unwrap().split(", ").count();
    assert_eq!(published, 4, "{out}");
    assert!(out.contains("rs256-") && out.contains("eddsa-"), "{out}");
}

#[test]
fn generate_then_export_gives_valid_people_whose_ages_agree() {
    let dir = tempfile::tempdir().unwrap();
    let o = onetrip(
        dir.path(),
        &[
            "generate",
            "--people",
            "20000",
            "--organisations",
            "300",
            "--seed",
            "42",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("generated 20000 persons"), "{out}");
    // Not a terminal: plain progress lines instead of a bar.
    assert!(
        text(&o.stderr).contains("persons (100%)"),
        "{}",
        text(&o.stderr)
    );

    let people = dir.path().join("people.jsonl");
    let orgs = dir.path().join("orgs.jsonl");
    let o = onetrip(
        dir.path(),
        &[
            "registry",
            "export",
            "--people",
            people.to_str().unwrap(),
            "--organisations",
            orgs.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .date();
    let lines: Vec<String> = std::fs::read_to_string(&people)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    // The demo people are not loaded by `generate`: exactly the generated persons.
    assert_eq!(lines.len(), 20_000);
    let mut ids = std::collections::HashSet::new();
    for line in lines.iter().step_by(37) {
        let p: serde_json::Value = serde_json::from_str(line).unwrap();
        let rid = p["resident_id"].as_str().unwrap();
        let id = onetrip_domain::identifiers::ResidentId::parse(rid, today)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(ids.insert(rid.to_owned()));
        assert_eq!(p["birth_date"], id.birth_date().to_string());
        assert_eq!(p["sex"], id.sex().name_en());
        assert_eq!(p["age"].as_i64().unwrap(), i64::from(id.age_on(today)));
        assert!(p["name"].as_str().unwrap().chars().count() >= 2);
    }
    let orgs = std::fs::read_to_string(&orgs).unwrap();
    assert_eq!(orgs.lines().count(), 300);
    for line in orgs.lines().take(20) {
        let o: serde_json::Value = serde_json::from_str(line).unwrap();
        onetrip_domain::identifiers::CreditCode::parse(o["credit_code"].as_str().unwrap()).unwrap();
    }

    // The same seed again, elsewhere, gives the same registry.
    let again = tempfile::tempdir().unwrap();
    let o = onetrip(
        again.path(),
        &[
            "generate",
            "--people",
            "20000",
            "--organisations",
            "300",
            "--seed",
            "42",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let people2 = again.path().join("people.jsonl");
    let o = onetrip(
        again.path(),
        &["registry", "export", "--people", people2.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read_to_string(&people).unwrap(),
        std::fs::read_to_string(&people2).unwrap()
    );
}

#[test]
fn registry_import_reports_bad_lines_and_keeps_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("persons.csv");
    std::fs::write(
        &csv,
        "resident_id,name,sex,birth_date\n\
         330102198503140138,陈志明,male,1985-03-14\n\
         330102198503140139,错号码,,\n\
         330102199007220264,林晓燕,female,1990-07-23\n\
         330105197811050315,王建国,,\n",
    )
    .unwrap();
    let o = onetrip(
        dir.path(),
        &[
            "registry",
            "import",
            "--kind",
            "persons",
            csv.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("line 3: resident_id: [resident_id_checksum]"),
        "{out}"
    );
    assert!(
        out.contains("line 4: birth_date: [birth_date_mismatch]"),
        "{out}"
    );
    assert!(out.contains("4 rows read, 2 imported, 2 rejected"), "{out}");
}

#[test]
fn verify_finds_an_altered_event_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cases.db").display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let now: jiff::Timestamp = "2026-11-23T02:00:00Z".parse().unwrap();
    let (number, event) = rt.block_on(async {
        let app = onetrip_app::App::connect(&url).await.unwrap();
        app.load_demo_if_empty(now).await.unwrap();
        assert!(app.load_demo_cases_if_empty(now).await.unwrap() > 0);
        let number = app.db.case_numbers_page("", 1).await.unwrap().remove(0);
        let event = app.db.case_events(&number).await.unwrap().remove(0).event;
        app.db.close().await;
        (number, event)
    });
    let verify = || {
        Command::new(env!("CARGO_BIN_EXE_onetrip"))
            .args(["verify", "--database-url", &url])
            .env("ONETRIP_LOG", "warn")
            .output()
            .unwrap()
    };
    let o = verify();
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(text(&o.stdout).contains("intact"));
    rt.block_on(async {
        let app = onetrip_app::App::connect(&url).await.unwrap();
        let forged = event.replacen("330102", "330103", 1);
        let forged = if forged == event {
            format!("{event} ")
        } else {
            forged
        };
        assert!(
            app.db
                .overwrite_case_event(&number, 1, &forged)
                .await
                .unwrap()
        );
        app.db.close().await;
    });
    let o = verify();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert_eq!(text(&o.stdout).trim(), format!("broken: {number}"));
}
