//! The general window's pages (issue 6, 综合窗口) and the print views: a clerk finds an item,
//! applies for a walk-in applicant in two screens (identity and questionnaire, then form,
//! materials and signature), the application is made once and accepted at the window, the
//! receipt prints with the case numbers and deadlines, today's intake lists it; the problems
//! show next to their fields; other counties, other staff and other people are refused; the
//! one-time notices of an item and of a case asked for a correction.

use axum::http::{Method, StatusCode};
use jiff::Timestamp;
use onetrip_app::cases::{CaseActor, CaseCommand};
use onetrip_domain::case::CorrectionItem;
use onetrip_domain::identity::StaffRole;

use crate::common::*;

/// 社会保障卡申领 (city level, 5 working days, several situations).
const SSC: &str = "113301000354023845200030002000";
/// A person of the demo registry without an account.
const WALK_IN_RID: &str = "330105197811050315";
const WALK_IN_NAME: &str = "王建国";

/// The values of the `received` checkboxes of a page (ticked or not).
fn material_boxes(html: &str) -> Vec<String> {
    html.split("name=\"received\" value=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].replace("&#58;", ":"))
        .collect()
}

async fn clerk<'a>(t: &'a TestApp, username: &str, division: &str) -> Browser<'a> {
    staff(t, username, StaffRole::WindowClerk, division, None)
        .await
        .0
}

/// The first screen filled in for `rid` and `name`, ID checked, posted; returns the second
/// screen's address.
async fn identify(b: &mut Browser<'_>, start: &str, extra: &[(&str, &str)]) -> String {
    let html = b.get_page(start).await.text();
    let mut fields = form_fields(&html, start);
    set_field(&mut fields, "resident_id", WALK_IN_RID);
    set_field(&mut fields, "name", WALK_IN_NAME);
    set_field(&mut fields, "identity_checked", "yes");
    for (k, v) in extra {
        set_field(&mut fields, k, v);
    }
    let r = b.post_pairs(start, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let to = location(&r);
    assert!(to.starts_with("/counter/walk-ins/"), "{to}");
    to
}

#[tokio::test]
async fn a_clerk_accepts_a_walk_in_application_for_an_item_and_prints_the_receipt() {
    let t = TestApp::new().await;
    let mut b = clerk(&t, "clerk-xihu", "330106").await;

    // The window's home: search, and nothing taken in yet today.
    let home = b.get_page("/counter").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.text());
    let html = home.text();
    assert!(html.contains("action=\"/counter\""), "{html}");
    assert!(html.contains("今天还没有受理的申请"), "{html}");
    let found = b
        .get_page(&format!("/counter?q={}", enc("社会保障卡")))
        .await
        .text();
    let start = format!("/counter/items/{SSC}/apply");
    assert!(found.contains(&format!("href=\"{start}\"")), "{found}");
    assert!(
        found.contains(&format!("href=\"/counter/items/{SSC}/notice\"")),
        "{found}"
    );
    let bundles = b
        .get_page(&format!("/counter?q={}", enc("出生")))
        .await
        .text();
    assert!(
        bundles.contains("href=\"/counter/bundles/ZJ-BIRTH/apply\""),
        "{bundles}"
    );

    // Screen 1: without the CSRF token nothing happens; every problem at once, next to its
    // field.
    let html = b.get_page(&start).await.text();
    assert!(html.contains("name=\"identity_checked\""), "{html}");
    assert!(html.contains("name=\"situation\""), "{html}");
    let r = b
        .post_form(
            &start,
            &[("resident_id", WALK_IN_RID), ("name", WALK_IN_NAME)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let fields = form_fields(&html, &start);
    let r = b.post_pairs(&start, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    for anchor in [
        "resident_id",
        "applicant_name",
        "identity_checked",
        "situation",
    ] {
        assert!(
            html.contains(&format!("href=\"#{anchor}\"")),
            "{anchor}: {html}"
        );
        assert!(
            html.contains(&format!("id=\"{anchor}-error\"")),
            "{anchor}: {html}"
        );
    }
    assert!(html.contains("请当面核验身份证件"), "{html}");
    assert!(html.contains("aria-invalid=\"true\""));
    // A resident ID with a wrong check digit, the ID not checked: both said, what was typed
    // kept.
    let mut fields = form_fields(&html, &start);
    set_field(&mut fields, "resident_id", "330105197811050316");
    set_field(&mut fields, "name", WALK_IN_NAME);
    set_field(&mut fields, "situation", "S01");
    let r = b.post_pairs(&start, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("id=\"resident_id-error\""), "{html}");
    assert!(html.contains("校验"), "the checksum is named: {html}");
    assert!(html.contains("value=\"330105197811050316\""));
    assert!(html.contains(&format!("value=\"{WALK_IN_NAME}\"")));
    assert!(!html.contains("id=\"applicant_name-error\""), "{html}");
    assert!(html.contains("id=\"identity_checked-error\""), "{html}");

    // Screen 2: the materials the platform fetches are shown as fetched, the others are ticked
    // when received; the signature is required.
    let walk_in = identify(&mut b, &start, &[("situation", "S01")]).await;
    let html = b.get_page(&walk_in).await.text();
    assert!(html.contains("平台自动获取") || html.contains("name=\"received\""));
    assert!(html.contains("id=\"signature\""), "{html}");
    assert!(
        html.contains("330105********0315"),
        "the ID is masked: {html}"
    );
    assert!(
        html.contains(&format!(
            "href=\"/counter/items/{SSC}/notice?situation=S01\""
        )),
        "the one-time notice: {html}"
    );
    let boxes = material_boxes(&html);
    let mut fields = form_fields(&html, &walk_in);
    // Without the CSRF token nothing is submitted.
    let r = b
        .post_form(&walk_in, &[("signature", "PAD-20261121-0001")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = b.post_pairs(&walk_in, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("href=\"#signature\""), "{html}");
    assert!(html.contains("id=\"signature-error\""), "{html}");
    // Signed, but the documents not received: each missing one is named next to its box.
    set_field(&mut fields, "signature", "PAD-20261121-0001");
    let r = b.post_pairs(&walk_in, &fields).await;
    if !boxes.is_empty() {
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        let html = r.text();
        assert!(html.contains("href=\"#material-"), "{html}");
        assert!(html.contains("value=\"PAD-20261121-0001\""), "kept: {html}");
        for value in &boxes {
            fields.push(("received".into(), value.clone()));
        }
    }
    // Everything received and signed: submitted once, accepted at the window.
    let r = b.post_pairs(&walk_in, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let receipt = location(&r);
    let id = receipt
        .strip_prefix("/counter/applications/")
        .and_then(|s| s.strip_suffix("/receipt"))
        .expect("receipt address")
        .to_string();
    // A resent form makes no second application.
    let again = b.post_pairs(&walk_in, &fields).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&again), receipt);
    let mine = t
        .app
        .db
        .applications_of_subject(WALK_IN_RID, 10)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1, "one application");
    assert_eq!(mine[0].channel, "window");
    assert_eq!(mine[0].account_id, None);
    assert_eq!(mine[0].division_code, "330106");
    let cases = t.app.db.cases_of_application(&id).await.unwrap();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].state, "in_review", "accepted at the window");
    let number = cases[0].number.clone();
    assert!(number.starts_with("330106-"), "{number}");

    // The receipt: case number, item, department, promised limit and its date, the clerk's
    // window, how to follow.
    let r = b.get_page(&receipt).await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert!(html.contains("受理回执"), "{html}");
    assert!(html.contains(&number), "{html}");
    assert!(html.contains("社会保障卡申领"));
    assert!(html.contains("人力资源和社会保障局"), "department: {html}");
    assert!(html.contains("5 个工作日"), "{html}");
    assert!(html.contains("前办结"), "the due date: {html}");
    assert!(html.contains("330106"), "the window: {html}");
    assert!(html.contains("工作人员"), "the clerk: {html}");
    assert!(html.contains("12345"));
    assert!(html.contains("330105********0315"), "masked: {html}");
    assert!(!html.contains(WALK_IN_RID), "never the full ID");
    assert!(html.contains("class=\"print-doc\""));
    // Its print button needs scripts, so it starts hidden (the page prints without it).
    assert!(html.contains("print-button\" hidden>"), "{html}");

    // Today's intake lists it, with its case number and the receipt.
    let home = b.get_page("/counter").await.text();
    assert!(home.contains(&number), "{home}");
    assert!(home.contains(&format!("href=\"{receipt}\"")), "{home}");
    assert!(home.contains("本人受理"), "{home}");

    // The English receipt.
    let en = b.get_page(&format!("{receipt}?lang=en")).await.text();
    assert!(en.contains("Acceptance receipt"), "{en}");
    assert!(en.contains("5 working days"), "{en}");
}

#[tokio::test]
async fn a_walk_in_for_a_person_with_an_account_is_theirs_too() {
    let t = TestApp::new().await;
    let (mut person, _) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    let mut b = clerk(&t, "clerk-xihu", "330106").await;

    // The birth bundle: the questionnaire on the first screen.
    let start = "/counter/bundles/ZJ-BIRTH/apply";
    let html = b.get_page(start).await.text();
    assert!(html.contains("新生儿父母是否已办理结婚登记"), "{html}");
    let mut fields = form_fields(&html, start);
    set_field(&mut fields, "resident_id", PERSON_RID);
    set_field(&mut fields, "name", PERSON_NAME);
    set_field(&mut fields, "identity_checked", "yes");
    set_field(&mut fields, "parents_married", "yes");
    set_field(&mut fields, "medical_insurance", "no");
    let r = b.post_pairs(start, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let walk_in = location(&r);

    // Screen 2: the form prefilled from the shared birth record.
    let html = b.get_page(&walk_in).await.text();
    assert!(html.contains("value=\"陈思远\""), "{html}");
    assert!(html.contains("已注册账号"), "{html}");
    let mut fields = form_fields(&html, &walk_in);
    for (k, v) in [
        ("birth_place.division_code", "330106"),
        ("birth_place.detail", "浙江大学医学院附属妇产科医院"),
        ("register_with", "father"),
        ("relation_to_head", "子"),
        ("applicant_relation", "father"),
        ("applicant_phone", "13957100001"),
        ("delivery_method", "pickup"),
    ] {
        if fields.iter().any(|(name, _)| name == k) || html.contains(&format!("name=\"{k}\"")) {
            set_field(&mut fields, k, v);
        }
    }
    for value in material_boxes(&html) {
        fields.push(("received".into(), value));
    }
    // A malformed phone and no signature: both next to their fields.
    set_field(&mut fields, "applicant_phone", "12345");
    let r = b.post_pairs(&walk_in, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("href=\"#f-applicant_phone\""), "{html}");
    assert!(html.contains("href=\"#signature\""), "{html}");
    set_field(&mut fields, "applicant_phone", "13957100001");
    set_field(&mut fields, "signature", "PAPER-0002");
    let r = b.post_pairs(&walk_in, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let receipt = location(&r);
    let id = receipt
        .strip_prefix("/counter/applications/")
        .and_then(|s| s.strip_suffix("/receipt"))
        .unwrap()
        .to_string();
    let html = b.get_page(&receipt).await.text();
    let numbers = html.matches("<th scope=\"row\">330106-").count();
    assert!(numbers >= 3, "one row per case: {html}");

    // The person sees it under their applications and opens their own receipt.
    let row = t.app.db.application(&id).await.unwrap().unwrap();
    assert!(row.account_id.is_some(), "owned by the account");
    let page = person
        .get_page(&format!("/me/applications/{id}"))
        .await
        .text();
    assert!(
        page.contains(&format!("href=\"/me/applications/{id}/receipt\"")),
        "{page}"
    );
    let own = person
        .get_page(&format!("/me/applications/{id}/receipt"))
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text());
    assert!(own.text().contains("受理回执"));
    assert!(
        own.text().contains("href=\"/me/applications/"),
        "back to theirs"
    );

    // Another person may not open it.
    let (mut other, _) = t
        .registered("330102199007220264", "林晓燕", "13800138001")
        .await;
    let r = other
        .get_page(&format!("/me/applications/{id}/receipt"))
        .await;
    assert!(
        r.status == StatusCode::FORBIDDEN || r.status == StatusCode::NOT_FOUND,
        "{}",
        r.status
    );
    assert!(!r.text().contains("陈思远"));
}

#[tokio::test]
async fn other_counties_other_staff_and_other_people_are_refused() {
    let t = TestApp::new().await;
    let mut b = clerk(&t, "clerk-xihu", "330106").await;
    let start = format!("/counter/items/{SSC}/apply");
    let walk_in = identify(&mut b, &start, &[("situation", "S01")]).await;
    let html = b.get_page(&walk_in).await.text();
    let mut fields = form_fields(&html, &walk_in);
    for value in material_boxes(&html) {
        fields.push(("received".into(), value));
    }
    set_field(&mut fields, "signature", "PAD-1");
    let r = b.post_pairs(&walk_in, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let receipt = location(&r);

    // A clerk of another county: the use case refuses the receipt, and today's intake of
    // their window does not list it.
    let mut fuyang = clerk(&t, "clerk-fuyang", "330111").await;
    let r = fuyang.get_page(&receipt).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let home = fuyang.get_page("/counter").await.text();
    assert!(home.contains("今天还没有受理的申请"), "{home}");
    // Their walk-in page is their session's own: another session's walk-in is not found.
    let r = fuyang.get_page(&walk_in).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // A department officer is no window clerk.
    let (mut officer, _) = staff(
        &t,
        "officer-hrss",
        StaffRole::DepartmentOfficer,
        "330100",
        Some("113301000354023845"),
    )
    .await;
    for uri in ["/counter".to_string(), start.clone()] {
        let r = officer.get_page(&uri).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{uri}: {}", r.text());
    }
    // …but sees the receipt of a case of their department.
    let r = officer.get_page(&receipt).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // A person is sent away from the window's pages; an anonymous visitor signs in first.
    let (mut person, _) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    let r = person.get_page("/counter").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut anonymous = Browser::new(&t);
    let r = anonymous.get_page("/counter").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/staff/sign-in?next=%2Fcounter");
}

#[tokio::test]
async fn the_window_speaks_english() {
    let t = TestApp::new().await;
    let mut b = clerk(&t, "clerk-xihu", "330106").await;
    let start = format!("/counter/items/{SSC}/apply?lang=en");
    let html = b.get_page(&start).await.text();
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    assert!(html.contains("Resident ID number"), "{html}");
    assert!(html.contains("I checked the ID card"), "{html}");
    let action = format!("/counter/items/{SSC}/apply");
    let mut fields = form_fields(&html, &action);
    set_field(&mut fields, "resident_id", "12345");
    let r = b
        .send(
            req(Method::POST, &format!("{action}?lang=en"))
                .header("content-type", "application/x-www-form-urlencoded"),
            serde_urlencoded::to_string(&fields).unwrap().into(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("Enter the name on the applicant"), "{html}");
    assert!(
        html.contains("Check the ID card against the person"),
        "{html}"
    );
    let home = b.get_page("/counter?lang=en").await.text();
    assert!(
        home.contains("Today&#39;s intake") || home.contains("Today's intake"),
        "{home}"
    );
}

#[tokio::test]
async fn one_time_notices_of_an_item_and_of_a_case_asked_for_a_correction() {
    let t = TestApp::new().await;
    let mut b = clerk(&t, "clerk-xihu", "330106").await;

    // The item's notice: everything to bring, and what is fetched.
    let r = b
        .get_page(&format!("/counter/items/{SSC}/notice?situation=S01"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    assert!(html.contains("一次性告知书"), "{html}");
    assert!(html.contains("社会保障卡申领"));
    assert!(
        html.contains("申请人居民身份证") || html.contains("证件照片"),
        "{html}"
    );
    assert!(html.contains("12333"), "enquiries: {html}");
    let r = b
        .get_page(&format!("/counter/items/{SSC}/notice?situation=NOPE"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // A walk-in case asked for a correction: its notice lists every point at once, for the
    // window and for the applicant's own copy.
    let (mut person, _) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    let start = format!("/counter/items/{SSC}/apply");
    let html = b.get_page(&start).await.text();
    let mut fields = form_fields(&html, &start);
    set_field(&mut fields, "resident_id", PERSON_RID);
    set_field(&mut fields, "name", PERSON_NAME);
    set_field(&mut fields, "identity_checked", "yes");
    set_field(&mut fields, "situation", "S01");
    let r = b.post_pairs(&start, &fields).await;
    let walk_in = location(&r);
    let html = b.get_page(&walk_in).await.text();
    let mut fields = form_fields(&html, &walk_in);
    for value in material_boxes(&html) {
        fields.push(("received".into(), value));
    }
    set_field(&mut fields, "signature", "PAD-9");
    let r = b.post_pairs(&walk_in, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let id = location(&r)
        .strip_prefix("/counter/applications/")
        .and_then(|s| s.strip_suffix("/receipt"))
        .unwrap()
        .to_string();
    let number = t.app.db.cases_of_application(&id).await.unwrap()[0]
        .number
        .clone();
    let notice = format!("/counter/cases/{number}/notice");
    let html = b.get_page(&notice).await.text();
    assert!(html.contains("没有补正要求"), "{html}");
    t.app
        .act_on_case(
            &CaseActor::System,
            &number,
            CaseCommand::RequestCorrection {
                items: vec![
                    CorrectionItem {
                        subject: "M03".into(),
                        reason: "照片背景须为白色".into(),
                    },
                    CorrectionItem {
                        subject: "address".into(),
                        reason: "请补充邮寄地址".into(),
                    },
                ],
            },
            None,
            Timestamp::now(),
        )
        .await
        .unwrap();
    let html = b.get_page(&notice).await.text();
    assert!(html.contains("证件照片"), "the material by name: {html}");
    assert!(html.contains("照片背景须为白色") && html.contains("请补充邮寄地址"));
    assert!(html.contains("时限暂停"), "{html}");
    let own = person.get_page(&format!("/me/cases/{number}/notice")).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text());
    assert!(own.text().contains("请补充邮寄地址"));
    // The application page links the notice.
    let page = person
        .get_page(&format!("/me/applications/{id}"))
        .await
        .text();
    assert!(
        page.contains(&format!("href=\"/me/cases/{number}/notice\"")),
        "{page}"
    );
    // Someone else's case is refused.
    let (mut other, _) = t
        .registered("330102199007220264", "林晓燕", "13800138001")
        .await;
    let r = other.get_page(&format!("/me/cases/{number}/notice")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
}

#[tokio::test]
async fn a_signature_drawn_on_the_pad_is_the_intake_signature_and_a_file_of_the_case() {
    let t = TestApp::new().await;
    let mut b = clerk(&t, "clerk-pad", "330106").await;
    let start = format!("/counter/items/{SSC}/apply");
    let walk_in = identify(&mut b, &start, &[("situation", "S01")]).await;
    let html = b.get_page(&walk_in).await.text();
    // The pad needs scripts: it starts hidden, the paper form's number works without them.
    assert!(
        html.contains("id=\"signature-pad-wrap\" class=\"signature-pad\" hidden"),
        "{html}"
    );
    assert!(html.contains("name=\"signature_pad\""));
    let mut fields = form_fields(&html, &walk_in);
    for value in material_boxes(&html) {
        fields.push(("received".into(), value));
    }
    set_field(&mut fields, "signature", "");
    let text: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();

    // A drawing that is no image is refused next to the signature, nothing submitted.
    let body = multipart_body(&text, &[("signature_pad", "signature.png", b"scribble")]);
    let r = post_multipart(&mut b, &walk_in, None, body).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("id=\"signature-error\""), "{}", r.text());
    assert!(
        t.app
            .db
            .applications_of_subject(WALK_IN_RID, 10)
            .await
            .unwrap()
            .is_empty()
    );

    const PNG: &[u8] = include_bytes!("../../../../data/demo/photo.png");
    let body = multipart_body(&text, &[("signature_pad", "signature.png", PNG)]);
    let r = post_multipart(&mut b, &walk_in, None, body).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let mine = t
        .app
        .db
        .applications_of_subject(WALK_IN_RID, 10)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    let document = &mine[0].document;
    let signature = document["intake"]["signature"].as_str().unwrap();
    let id = signature.strip_prefix("pad:").expect("the pad's record");
    assert_eq!(document["uploads"]["申请人签名"]["id"], id, "{document}");
    assert_eq!(document["uploads"]["申请人签名"]["media_type"], "image/png");
}

/// 住房公积金单位缴存登记: organisations only.
const HOUSING_FUND_EMPLOYER: &str = "123301000597435545200050002000";
/// 杭州西湖示例科技有限公司 of the demo legal-person registry (legal representative 陈志明).
const DEMO_COMPANY: &str = "913301061234567887";

#[tokio::test]
async fn a_clerk_applies_for_an_organisation_with_the_person_it_sent() {
    let t = TestApp::new().await;
    let mut b = clerk(&t, "clerk-org", "330106").await;
    // A service for persons asks for no organisation.
    let html = b
        .get_page(&format!("/counter/items/{SSC}/apply"))
        .await
        .text();
    assert!(!html.contains("name=\"credit_code\""), "{html}");

    let start = format!("/counter/items/{HOUSING_FUND_EMPLOYER}/apply");
    let html = b.get_page(&start).await.text();
    assert!(html.contains("for=\"credit_code\""), "{html}");
    let mut fields = form_fields(&html, &start);
    set_field(&mut fields, "resident_id", WALK_IN_RID);
    set_field(&mut fields, "name", WALK_IN_NAME);
    set_field(&mut fields, "identity_checked", "yes");
    // Organisations only: the credit code is required, and checked.
    let r = b.post_pairs(&start, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(
        r.text().contains("id=\"credit_code-error\""),
        "{}",
        r.text()
    );
    set_field(&mut fields, "credit_code", "913301061234567880");
    let r = b.post_pairs(&start, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("href=\"#credit_code\""), "{}", r.text());
    // 王建国 is not the company's legal representative: its letter of authorisation is needed.
    set_field(&mut fields, "credit_code", DEMO_COMPANY);
    let r = b.post_pairs(&start, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(
        html.contains("id=\"authorisation_received-error\""),
        "{html}"
    );
    assert!(html.contains("授权委托书"), "{html}");
    assert!(
        html.contains(&format!("value=\"{DEMO_COMPANY}\"")),
        "kept: {html}"
    );
    set_field(&mut fields, "authorisation_received", "yes");
    let r = b.post_pairs(&start, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let walk_in = location(&r);

    // Screen 2 names the company and the person who came for it.
    let html = b.get_page(&walk_in).await.text();
    assert!(html.contains("杭州西湖示例科技有限公司"), "{html}");
    assert!(html.contains("经办人"), "{html}");
    let mut fields = form_fields(&html, &walk_in);
    for value in material_boxes(&html) {
        fields.push(("received".into(), value));
    }
    set_field(&mut fields, "signature", "PAPER-ORG-0001");
    let r = b.post_pairs(&walk_in, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let applications = t
        .app
        .db
        .applications_of_subject(DEMO_COMPANY, 10)
        .await
        .unwrap();
    assert_eq!(applications.len(), 1, "the company's application");
    assert_eq!(applications[0].account_id, None);
    let intake = &applications[0].document["intake"];
    assert_eq!(intake["agent"]["as"], "authorised", "{intake}");
    assert_eq!(intake["agent"]["name"], WALK_IN_NAME);
    assert!(
        t.app
            .db
            .applications_of_subject(WALK_IN_RID, 10)
            .await
            .unwrap()
            .is_empty(),
        "not the person's own"
    );
}
