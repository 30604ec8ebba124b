//! The department officer and supervisor pages (issue 6): the queue with its figures and
//! filters, one case with its applicant, form, materials and history, every action as a form
//! (problems next to the fields, POST-redirect-GET), batch approval, supervision orders issued
//! and answered, and the refusals: a citizen, another department's officer, a form without its
//! CSRF token, bad input.

use axum::http::{Method, StatusCode};
use jiff::{SignedDuration, Timestamp};
use onetrip_domain::identity::StaffRole;
use serde_json::json;

use crate::common::*;

/// The city health commission, which issues the birth medical certificate.
const HEALTH_CITY: &str = "11330100000897962X";
/// The city human resources and social security bureau (another department).
const HRSS_CITY: &str = "113301000354023845";

/// A birth bundle submitted over the API by the demo person: (citizen browser, CSRF token,
/// application id, number of the birth certificate case).
async fn birth_case(t: &TestApp) -> (Browser<'_>, String, String, String) {
    let (mut b, csrf) = t.real_named(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    let (application, number) = submit_birth(&mut b, &csrf).await;
    (b, csrf, application, number)
}

/// Submits the birth bundle once more for the signed-in person: (application, birth case).
async fn submit_birth(b: &mut Browser<'_>, csrf: &str) -> (String, String) {
    let answers = json!({"parents_married": "yes", "medical_insurance": "no"});
    let r = b
        .json(
            Method::POST,
            "/api/v1/bundles/ZJ-BIRTH/questionnaire",
            &json!({"answers": answers}),
            Some(csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let mut form = r.json()["prefill"].as_object().unwrap().clone();
    for (k, v) in [
        (
            "birth_place",
            json!({"division_code": "330106", "detail": "浙江大学医学院附属妇产科医院"}),
        ),
        ("register_with", json!("father")),
        ("relation_to_head", json!("子")),
        ("applicant_relation", json!("father")),
        ("delivery_method", json!("pickup")),
    ] {
        form.insert(k.into(), v);
    }
    let r = b
        .json(
            Method::POST,
            "/api/v1/applications",
            &json!({"target": {"kind": "bundle", "code": "ZJ-BIRTH"}, "answers": answers, "form": form}),
            Some(csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let submitted = r.json();
    let number = submitted["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["member"] == "birth_certificate")
        .unwrap()["number"]
        .as_str()
        .unwrap()
        .to_string();
    (
        submitted["application"].as_str().unwrap().to_string(),
        number,
    )
}

/// An officer of the city health commission, signed in.
async fn officer<'a>(t: &'a TestApp, username: &str, role: StaffRole) -> Browser<'a> {
    staff(t, username, role, "330100", Some(HEALTH_CITY))
        .await
        .0
}

/// The CSRF token of a page's forms.
async fn csrf_of(b: &mut Browser<'_>, uri: &str) -> String {
    hidden(&b.get_page(uri).await.text(), "csrf_token")
}

/// Posts an action on the case page with the page's token.
async fn act(b: &mut Browser<'_>, number: &str, fields: &[(&str, &str)]) -> Resp {
    let uri = format!("/work/cases/{number}");
    let csrf = csrf_of(b, &uri).await;
    let mut form = vec![("csrf_token", csrf.as_str())];
    form.extend_from_slice(fields);
    b.post_form(&uri, &form).await
}

/// Whether a page shows a message key instead of its words (class names aside).
fn untranslated(html: &str, prefix: &str) -> bool {
    let mut rest = html;
    let mut text = String::new();
    while let Some(i) = rest.find("class=\"") {
        text.push_str(&rest[..i]);
        rest = &rest[i + 7..];
        rest = &rest[rest.find('"').map_or(rest.len(), |e| e + 1)..];
    }
    text.push_str(rest);
    text.contains(prefix)
}

/// Issues a supervision order on the case from its page's form.
async fn order(b: &mut Browser<'_>, number: &str, csrf: &str, reason: &str, by: &str) -> Resp {
    b.post_form(
        &format!("/supervision/cases/{number}/orders"),
        &[
            ("csrf_token", csrf),
            ("action", "order_supervision"),
            ("reason", reason),
            ("respond_by", by),
        ],
    )
    .await
}

fn assert_done(r: &Resp, number: &str, action: &str) {
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some(format!("/work/cases/{number}?done={action}").as_str())
    );
}

#[tokio::test]
async fn the_queue_shows_the_departments_cases_with_figures_and_filters() {
    let t = TestApp::new().await;
    let (_, _, _, number) = birth_case(&t).await;
    let mut b = officer(&t, "queue.officer", StaffRole::DepartmentOfficer).await;

    let r = b.get_page("/work/queue").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    assert!(html.contains("办件队列"), "{html}");
    assert!(html.contains("今日概况"));
    assert!(html.contains(&format!("href=\"/work/cases/{number}\"")));
    // The warning in words as well as colour, the state in words.
    assert!(html.contains("class=\"tag green\">正常<"), "{html}");
    assert!(html.contains("待受理"));
    assert!(html.contains("<th scope=\"col\">"));
    assert!(html.contains("name=\"case\""), "batch checkboxes");

    // Filters: by state, by division, by due day; the department chosen explicitly.
    let html = b
        .get_page(&format!(
            "/work/queue?department={HEALTH_CITY}&state=awaiting_intake&division=3301"
        ))
        .await
        .text();
    assert!(html.contains(&number), "{html}");
    let html = b.get_page("/work/queue?state=in_review").await.text();
    assert!(!html.contains(&format!("/work/cases/{number}")));
    assert!(html.contains("没有符合条件的办件"));
    let html = b.get_page("/work/queue?division=3302").await.text();
    assert!(!html.contains(&format!("/work/cases/{number}")));
    // Keyset paging: after this case, it is not listed again.
    let due = t.app.db.case(&number).await.unwrap().unwrap().due_on;
    let html = b
        .get_page(&format!("/work/queue?after={due}~{number}"))
        .await
        .text();
    assert!(!html.contains(&format!("/work/cases/{number}")));
    assert!(html.contains("回到第一页"));

    // Bad filters: problems next to their fields, the queue still shown.
    let r = b.get_page("/work/queue?state=bogus&division=33x").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("href=\"#state\""), "{html}");
    assert!(html.contains("id=\"state-error\""));
    assert!(html.contains("id=\"division-error\""));
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(html.contains(&number));
    let r = b.get_page("/work/queue?after=nonsense").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // English, with no key left untranslated.
    let html = b.get_page("/work/queue?lang=en").await.text();
    assert!(html.contains("Case queue"), "{html}");
    assert!(html.contains("On time"));
    assert!(!untranslated(&html, "work-"), "an untranslated key: {html}");
}

#[tokio::test]
async fn the_queue_and_cases_refuse_whoever_is_not_the_departments() {
    let t = TestApp::new().await;
    let (mut citizen, _, _, number) = birth_case(&t).await;
    let case = format!("/work/cases/{number}");

    // Nobody signed in: to the staff sign-in page and back.
    let mut anonymous = Browser::new(&t);
    let r = anonymous.get_page(&case).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.header("location"),
        Some(format!("/staff/sign-in?next={}", enc(&case)).as_str())
    );
    // A citizen: refused as a page.
    let r = citizen.get_page("/work/queue").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text().contains("<html"));
    assert_eq!(citizen.get_page(&case).await.status, StatusCode::FORBIDDEN);

    // Another department's officer: no queue of ours, no case of ours.
    let (mut other, _) = staff(
        &t,
        "hrss.officer",
        StaffRole::DepartmentOfficer,
        "330100",
        Some(HRSS_CITY),
    )
    .await;
    let html = other.get_page("/work/queue").await.text();
    assert!(!html.contains(&number), "{html}");
    let r = other
        .get_page(&format!("/work/queue?department={HEALTH_CITY}"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(other.get_page(&case).await.status, StatusCode::FORBIDDEN);
    let csrf = csrf_of(&mut other, "/work/queue").await;
    let r = other
        .post_form(&case, &[("csrf_token", &csrf), ("action", "accept")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Nor does a batch act on our cases: each case says why.
    let r = other
        .post_form(
            "/work/queue/batch",
            &[
                ("csrf_token", &csrf),
                ("batch_action", "accept"),
                ("case", &number),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("未办理"));
    // A window clerk has no queue; the supervisor pages are for supervisors.
    let (mut clerk, _) = staff(&t, "clerk.wang", StaffRole::WindowClerk, "330106", None).await;
    let html = clerk.get_page("/work/queue").await.text();
    assert!(html.contains("没有所属部门的经办权限"), "{html}");
    assert_eq!(
        clerk.get_page("/supervision").await.status,
        StatusCode::FORBIDDEN
    );

    // Our officer, but the form without its token: refused, nothing done.
    let mut b = officer(&t, "health.officer", StaffRole::DepartmentOfficer).await;
    let r = b.post_form(&case, &[("action", "accept")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text().contains("页面已过期"));
    let r = b
        .post_form("/work/queue/batch", &[("batch_action", "accept")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let state = t.app.db.case(&number).await.unwrap().unwrap().state;
    assert_eq!(state, "awaiting_intake");
}

#[tokio::test]
async fn an_officer_works_a_case_from_intake_to_the_certificate() {
    let t = TestApp::new().await;
    let (mut citizen, citizen_csrf, application, number) = birth_case(&t).await;
    let case = format!("/work/cases/{number}");
    let mut b = officer(&t, "intake.officer", StaffRole::DepartmentOfficer).await;

    let html = b.get_page(&case).await.text();
    // The applicant with the identifier masked, the form, the materials with their sources.
    assert!(html.contains(PERSON_NAME), "{html}");
    assert!(html.contains("330102********0138"), "{html}");
    assert!(!html.contains(PERSON_RID));
    assert!(html.contains("陈思远"), "the form's values");
    assert!(html.contains("class=\"tag auto\""), "fetched materials");
    assert!(html.contains("来源："), "{html}");
    assert!(html.contains("办理过程"));
    // Only what the state allows: intake, correction, refusal; no decision yet.
    for offered in [
        "action-accept",
        "action-request_correction",
        "action-refuse",
    ] {
        assert!(html.contains(&format!("id=\"{offered}\"")), "{offered}");
    }
    assert!(!html.contains("id=\"action-decide\""));

    let r = act(&mut b, &number, &[("action", "accept")]).await;
    assert_done(&r, &number, "accept");
    let html = b.get_page(&format!("{case}?done=accept")).await.text();
    assert!(html.contains("role=\"status\""), "{html}");
    assert!(html.contains("已受理"));
    // 收受分离: the acceptor is told, and offered neither review nor decision.
    assert!(html.contains("收受分离"), "{html}");
    assert!(!html.contains("id=\"action-complete_step\""));

    // A correction request listing nothing: the problem next to the fields.
    let r = act(
        &mut b,
        &number,
        &[
            ("action", "request_correction"),
            ("subject", ""),
            ("reason", ""),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("href=\"#correction_reason_1\""), "{html}");
    assert!(html.contains("id=\"correction-error\""));
    let r = act(
        &mut b,
        &number,
        &[
            ("action", "request_correction"),
            ("subject", "form"),
            ("reason", "请核对新生儿出生时间"),
        ],
    )
    .await;
    assert_done(&r, &number, "request_correction");

    // The applicant answers it on their page.
    let page = citizen
        .get_page(&format!("/me/applications/{application}"))
        .await
        .text();
    assert!(page.contains("supply_correction"), "{page}");
    // One file input per thing asked for, labelled with it and its reason.
    let input = format!("correction-{number}-file-0");
    assert!(page.contains(&format!("for=\"{input}\"")), "{page}");
    assert!(page.contains("name=\"file:form\""), "{page}");
    assert!(page.contains("请核对新生儿出生时间"));
    let answer = format!("/me/applications/{application}/cases/{number}");
    let fields = [
        ("csrf_token", citizen_csrf.as_str()),
        ("action", "supply_correction"),
        ("text", "出生时间无误，附出生证明扫描件"),
    ];
    // A file that is not a document: explained next to its input, nothing supplied.
    let body = multipart_body(&fields, &[("file:form", "证明.txt", b"just text")]);
    let r = post_multipart(&mut citizen, &answer, None, body).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    assert!(html.contains(&format!("id=\"{input}-error\"")), "{html}");
    assert!(html.contains(&format!("href=\"#{input}\"")), "{html}");
    assert!(
        html.contains("supply_correction"),
        "still asked for: {html}"
    );
    // A PNG: supplied with the note, and the officer opens it from the case.
    const PNG: &[u8] = include_bytes!("../../../../data/demo/photo.png");
    let body = multipart_body(&fields, &[("file:form", "出生证明.png", PNG)]);
    let r = post_multipart(&mut citizen, &answer, None, body).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let html = b.get_page(&case).await.text();
    let link = html
        .split("href=\"")
        .find(|h| h.starts_with(&format!("/work/cases/{number}/uploads/")))
        .map(|h| h[..h.find('"').unwrap()].to_string())
        .unwrap_or_else(|| panic!("no link to the correction's file: {html}"));
    assert!(html.contains("出生证明.png"), "{html}");
    let r = b.get(&link).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("image/png"));

    // Another officer of the department reviews and decides.
    let mut head = officer(&t, "review.head", StaffRole::DepartmentHead).await;
    let html = head.get_page(&case).await.text();
    assert!(html.contains("id=\"action-complete_step\""), "{html}");
    let r = act(
        &mut head,
        &number,
        &[
            ("action", "complete_step"),
            ("step", "x"),
            ("opinion", "同意"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("id=\"step-error\""));
    let r = act(
        &mut head,
        &number,
        &[
            ("action", "complete_step"),
            ("step", "0.0"),
            ("opinion", " "),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text().contains("id=\"step_opinion-error\""),
        "{}",
        r.text()
    );
    let r = act(
        &mut head,
        &number,
        &[
            ("action", "complete_step"),
            ("step", "0.0"),
            ("opinion", "材料齐全，同意"),
        ],
    )
    .await;
    assert_done(&r, &number, "complete_step");
    // A denial needs its reason, kept next to the field with the choice made.
    let r = act(
        &mut head,
        &number,
        &[("action", "decide"), ("outcome", "denied"), ("reason", "")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("id=\"decide_reason-error\""), "{html}");
    assert!(html.contains("value=\"denied\" id=\"outcome-denied\" checked"));
    let r = act(
        &mut head,
        &number,
        &[("action", "decide"), ("outcome", "maybe")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("id=\"outcome-error\""));
    let r = act(
        &mut head,
        &number,
        &[("action", "decide"), ("outcome", "approved")],
    )
    .await;
    assert_done(&r, &number, "decide");
    // The result: the certificate is issued.
    let html = head.get_page(&case).await.text();
    assert!(html.contains("id=\"action-issue_result\""), "{html}");
    let r = act(
        &mut head,
        &number,
        &[("action", "issue_result"), ("delivery", "teleport")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = act(
        &mut head,
        &number,
        &[("action", "issue_result"), ("delivery", "electronic")],
    )
    .await;
    assert_done(&r, &number, "issue_result");
    let row = t.app.db.case(&number).await.unwrap().unwrap();
    assert_eq!(row.state, "result_issued");
    let html = head.get_page(&case).await.text();
    assert!(html.contains("该办件当前没有您可以办理的操作"), "{html}");

    // An unknown action is a problem of the page, not a crash.
    let r = act(&mut head, &number, &[("action", "teleport")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // In English.
    let html = head.get_page(&format!("{case}?lang=en")).await.text();
    assert!(html.contains("History"), "{html}");
    assert!(html.contains("Applicant"));
    assert!(!untranslated(&html, "work-"), "an untranslated key: {html}");
}

#[tokio::test]
async fn batch_approval_reports_per_case() {
    let t = TestApp::new().await;
    let (mut citizen, csrf, _, first) = birth_case(&t).await;
    let (_, second) = submit_birth(&mut citizen, &csrf).await;
    let mut b = officer(&t, "batch.officer", StaffRole::DepartmentOfficer).await;
    let token = csrf_of(&mut b, "/work/queue").await;
    // Nothing ticked, or no action chosen: said so.
    let r = b
        .post_form(
            "/work/queue/batch",
            &[("csrf_token", &token), ("batch_action", "accept")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("请至少选择一件办件"));
    let r = b
        .post_form(
            "/work/queue/batch",
            &[("csrf_token", &token), ("case", &first)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    let r = b
        .post_form(
            "/work/queue/batch",
            &[
                ("csrf_token", &token),
                ("department", HEALTH_CITY),
                ("batch_action", "accept"),
                ("case", &first),
                ("case", &second),
                ("case", "330106-20261121-999999"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    assert_eq!(html.matches("已办理").count(), 2, "{html}");
    assert_eq!(html.matches("未办理").count(), 1);
    for n in [&first, &second] {
        assert_eq!(t.app.db.case(n).await.unwrap().unwrap().state, "in_review");
    }
    // Approving cases whose review is not done: each refused with the reason.
    let r = b
        .post_form(
            "/work/queue/batch",
            &[
                ("csrf_token", &token),
                ("batch_action", "approve"),
                ("case", &first),
            ],
        )
        .await;
    assert!(r.text().contains("未办理"));
}

#[tokio::test]
async fn supervisors_order_and_departments_answer() {
    let t = TestApp::new().await;
    let (_, _, _, number) = birth_case(&t).await;
    let case = format!("/work/cases/{number}");
    let mut b = officer(&t, "sup.officer", StaffRole::DepartmentOfficer).await;
    assert_done(
        &act(&mut b, &number, &[("action", "accept")]).await,
        &number,
        "accept",
    );
    let (mut sup, _) = staff(&t, "sup.city", StaffRole::Supervisor, "330100", None).await;
    let r = sup.get_page("/supervision").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    assert!(html.contains("按时办结率"), "{html}");
    assert!(html.contains("杭州市卫生健康委员会"), "{html}");
    assert!(html.contains("没有超期或临期的办件"));
    // A division the supervisor does not cover.
    assert_eq!(
        sup.get_page("/supervision?division=330200").await.status,
        StatusCode::FORBIDDEN
    );

    // The order is issued from the case page.
    let html = sup.get_page(&case).await.text();
    assert!(html.contains("action=\"/supervision/cases/"), "{html}");
    let csrf = hidden(&html, "csrf_token");
    let r = order(&mut sup, &number, &csrf, " ", "2099-01-01").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("id=\"order_reason-error\""));
    let r = order(&mut sup, &number, &csrf, "已超期，请说明", "not a date").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("id=\"order_respond_by-error\""));
    let r = order(&mut sup, &number, &csrf, "已超期，请说明", "2099-01-01").await;
    assert_done(&r, &number, "order_supervision");
    // An officer may not issue orders.
    let token = csrf_of(&mut b, &case).await;
    let r = order(&mut b, &number, &token, "自己督办", "2099-01-01").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The department answers from the case page.
    let html = b.get_page(&case).await.text();
    assert!(html.contains("已超期，请说明"), "{html}");
    let id = t
        .app
        .db
        .supervision_orders_of_department(HEALTH_CITY, 10)
        .await
        .unwrap()[0]
        .id
        .clone();
    let r = act(
        &mut b,
        &number,
        &[
            ("action", "answer_supervision"),
            ("order", &id),
            ("answer", ""),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains(&format!("id=\"answer-{id}-error\"")));
    let r = act(
        &mut b,
        &number,
        &[
            ("action", "answer_supervision"),
            ("order", &id),
            ("answer", "已安排专人加快办理"),
        ],
    )
    .await;
    assert_done(&r, &number, "answer_supervision");
    // Weeks later the case is overdue: red among the cases at risk.
    let later = Timestamp::now()
        .checked_add(SignedDuration::from_hours(24 * 60))
        .unwrap();
    t.app.scan_deadlines("test", later).await.unwrap();
    let html = sup.get_page("/supervision").await.text();
    assert!(html.contains(&format!("href=\"/work/cases/{number}\"")));
    assert!(html.contains("class=\"tag red\""), "{html}");
    assert!(html.contains("已安排专人加快办理"), "{html}");
    assert!(html.contains("已回复"));
    let en = sup.get_page("/supervision?lang=en").await.text();
    assert!(en.contains("On-time rate"), "{en}");
    assert!(
        !untranslated(&en, "supervision-"),
        "an untranslated key: {en}"
    );
}

#[tokio::test]
async fn an_officer_of_two_departments_picks_one() {
    use onetrip_domain::identifiers::DivisionCode;
    use onetrip_domain::identity::RoleGrant;
    let t = TestApp::new().await;
    let (_, _, _, number) = birth_case(&t).await;
    let grant = |department: &str| RoleGrant {
        role: StaffRole::DepartmentOfficer,
        division: DivisionCode::parse("330100").unwrap(),
        department: Some(department.to_string()),
    };
    let created = t
        .app
        .create_staff(
            &onetrip_app::staff::Granter::Bootstrap,
            onetrip_app::staff::NewStaffInput {
                username: "two.departments".into(),
                name: "赵经办".into(),
                department_code: HRSS_CITY.into(),
                division_code: "330100".into(),
                roles: vec![grant(HRSS_CITY), grant(HEALTH_CITY)],
            },
            Timestamp::now(),
        )
        .await
        .unwrap();
    let mut b = Browser::new(&t);
    let password = secrecy::ExposeSecret::expose_secret(&created.initial_password).to_string();
    let r = staff_page_sign_in(&mut b, "two.departments", &password, None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    // The first department's queue, with the choice of the other.
    let html = b.get_page("/work/queue").await.text();
    assert!(html.contains("<select id=\"department\""), "{html}");
    assert!(html.contains("杭州市人力资源和社会保障局"));
    assert!(!html.contains(&format!("/work/cases/{number}")));
    let html = b
        .get_page(&format!("/work/queue?department={HEALTH_CITY}"))
        .await
        .text();
    assert!(html.contains(&format!("/work/cases/{number}")), "{html}");
    assert!(html.contains(&format!("value=\"{HEALTH_CITY}\" selected")));
}
