//! The portal's pages (issue 6): home, search, guides, the birth bundle applied for through
//! the pages without JavaScript (questionnaire, prefilled form, materials, check, submit,
//! confirmation), one item alone through the same pages, my applications, the language
//! switch, the elder mode, and sign-in for pages that need it.

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn home_speaks_chinese_by_default_and_english_on_request() {
    let t = TestApp::new().await;
    let r = t.get("/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
    let html = r.text();
    assert!(html.contains("<html lang=\"zh-CN\">"), "{html}");
    assert!(html.contains("一次申请，办成一件事"));
    // Life events list the demo bundles; the search form goes to the search page.
    assert!(html.contains("href=\"/bundles/ZJ-BIRTH\""));
    assert!(html.contains("action=\"/search\""));
    assert!(
        html.contains("href=\"/api/v1/openapi.json\""),
        "integrators find the API"
    );
    assert!(
        html.contains("href=\"/?lang=en\""),
        "language switch: {html}"
    );
    assert!(
        html.contains("href=\"/?elder=1\""),
        "elder mode entry: {html}"
    );
    let en = t.get("/?lang=en").await.text();
    assert!(en.contains("<html lang=\"en\">"));
    assert!(en.contains("Apply once, get the whole thing done"));
    assert!(en.contains("Having a baby"));
    // The stylesheet is served with a long cache life at the address the page names.
    let css = t.get("/assets/site.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.header("cache-control")
            .is_some_and(|c| c.contains("immutable"))
    );
    assert!(css.text().contains("html.elder"));
}

#[tokio::test]
async fn the_elder_mode_is_kept_in_a_cookie_and_simplifies_the_home_page() {
    let t = TestApp::new().await;
    let r = t.get("/?elder=1").await;
    let cookie = r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("onetrip_elder="))
        .expect("elder cookie");
    assert!(cookie.starts_with("onetrip_elder=1;"), "{cookie}");
    let html = r.text();
    assert!(
        html.contains("<html lang=\"zh-CN\" class=\"elder\">"),
        "{html}"
    );
    assert!(html.contains("常用服务"));
    assert!(
        !html.contains("常用事项"),
        "the simplified home has no long lists"
    );
    // Later pages follow the cookie; the entry switches back on every page.
    let later = t
        .send(
            req(Method::GET, "/search?q=出生")
                .header(header::COOKIE, "onetrip_elder=1")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .text();
    assert!(later.contains("class=\"elder\""));
    assert!(later.contains("elder=0"), "{later}");
}

#[tokio::test]
async fn search_finds_bundles_and_items_and_guides_mark_fetched_materials() {
    let t = TestApp::new().await;
    let html = t.get(&format!("/search?q={}", enc("出生"))).await.text();
    assert!(html.contains("href=\"/bundles/ZJ-BIRTH\""), "{html}");
    assert!(html.contains("href=\"/items/"), "items found: {html}");
    // Filters narrow the results; nothing found is said so.
    let filtered = t
        .get(&format!("/search?q={}&event=deregistration", enc("出生")))
        .await
        .text();
    assert!(
        !filtered.contains("href=\"/bundles/ZJ-BIRTH\""),
        "{filtered}"
    );
    assert!(filtered.contains("<option value=\"deregistration\" selected>"));
    let none = t.get("/search?q=qqqzzzxxx").await.text();
    assert!(none.contains("没有找到相关事项"), "{none}");
    // The housing-fund item with its seven situations: the guide switches situation.
    let code = t
        .find_code("购买自住住房提取", "购买自住住房提取住房公积金")
        .await;
    let guide = t.get(&format!("/items/{code}")).await.text();
    assert_eq!(guide.matches("<option value=").count(), 7, "{guide}");
    assert!(guide.contains("承诺时限"));
    assert!(guide.contains("自动获取") || guide.contains("需上传"));
    let r = t.get(&format!("/items/{code}?situation=NOPE")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The bundle guide shows what applying together saves and asks an anonymous visitor to
    // sign in first.
    let bundle = t.get("/bundles/ZJ-VETERANS").await.text();
    assert!(bundle.contains("跑动次数"), "{bundle}");
    assert!(bundle.contains("登录后办理"));
}

#[tokio::test]
async fn pages_for_a_person_send_a_visitor_to_sign_in_and_back() {
    let t = TestApp::new().await;
    let r = t
        .send(
            req(Method::GET, "/me/applications")
                .header(header::ACCEPT, "text/html")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/sign-in?next=%2Fme%2Fapplications");
    // An API client still gets its problem.
    t.get("/me/applications")
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    // Unknown things are pages for a browser.
    let r = t
        .send(
            req(Method::GET, "/bundles/NOPE?lang=en")
                .header(header::ACCEPT, "text/html")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
    assert!(r.text().contains("<html lang=\"en\">"));
}

/// The birth bundle through the pages, as a phone without JavaScript posts them.
#[tokio::test]
async fn a_person_applies_for_the_birth_bundle_through_the_pages() {
    let t = TestApp::new().await;
    let (mut b, _) = t.real_named(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;

    // The bundle guide offers to start; without the CSRF token nothing is created.
    let guide = b.get("/bundles/ZJ-BIRTH").await.text();
    assert!(
        guide.contains("action=\"/bundles/ZJ-BIRTH/start\""),
        "{guide}"
    );
    let r = b.post_form("/bundles/ZJ-BIRTH/start", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let fields = form_fields(&guide, "/bundles/ZJ-BIRTH/start");
    let r = b.post_pairs("/bundles/ZJ-BIRTH/start", &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let questions_url = location(&r);
    let id = questions_url
        .strip_prefix("/applications/")
        .and_then(|s| s.strip_suffix("/questions"))
        .expect("draft id")
        .to_string();

    // The questionnaire: an unanswered question is shown with its problem.
    let page = b.get(&questions_url).await.text();
    assert!(page.contains("新生儿父母是否已办理结婚登记"), "{page}");
    let mut fields = form_fields(&page, &questions_url);
    set_field(&mut fields, "parents_married", "yes");
    let r = b.post_pairs(&questions_url, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("id=\"error-summary\""), "{html}");
    assert!(html.contains("href=\"#q-medical_insurance\""), "{html}");
    // Answering insurance "yes" reveals the card question on the next page.
    let mut fields = form_fields(&html, &questions_url);
    set_field(&mut fields, "medical_insurance", "yes");
    let r = b.post_pairs(&questions_url, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("是否同时申领社会保障卡"), "{html}");
    let mut fields = form_fields(&html, &questions_url);
    set_field(&mut fields, "social_security_card", "no");
    let r = b.post_pairs(&questions_url, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let form_url = format!("/applications/{id}/form");
    assert_eq!(location(&r), form_url);

    // One form, prefilled from the birth record and the certificates.
    let page = b.get(&form_url).await.text();
    assert!(page.contains("value=\"陈思远\""), "{page}");
    assert!(page.contains("由共享数据自动填写"));
    // A bad phone number and the missing place of birth: both shown, linked to their fields.
    let mut fields = form_fields(&page, &form_url);
    set_field(&mut fields, "applicant_phone", "12345");
    let r = b.post_pairs(&form_url, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("href=\"#f-birth_place\""), "{html}");
    assert!(html.contains("href=\"#f-applicant_phone\""), "{html}");
    assert!(html.contains("aria-invalid=\"true\""));
    // What was typed stays on the page.
    assert!(html.contains("value=\"12345\""));
    // Add a household member (a row): the new row is shown, not yet complained about; the
    // malformed phone still is.
    let mut fields = form_fields(&html, &form_url);
    fields.push(("add".into(), "family_members".into()));
    let r = b.post_pairs(&form_url, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    assert!(html.contains("name=\"family_members[0].name\""), "{html}");
    assert!(html.contains("href=\"#f-applicant_phone\""), "{html}");
    assert!(
        !html.contains("href=\"#f-family_members-0--name\""),
        "{html}"
    );
    let mut fields = form_fields(&html, &form_url);
    for (k, v) in [
        ("family_members[0].name", "陈国强"),
        ("family_members[0].relation", "grandfather"),
        ("family_members[0].resident_id", "330102195501010010"),
        ("birth_place.division_code", "330106"),
        ("birth_place.detail", "浙江大学医学院附属妇产科医院"),
        ("register_with", "father"),
        ("relation_to_head", "子"),
        ("premium_payment", "online"),
        ("applicant_relation", "father"),
        ("applicant_phone", "13957100001"),
        ("delivery_method", "pickup"),
    ] {
        set_field(&mut fields, k, v);
    }
    let r = b.post_pairs(&form_url, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(location(&r), format!("/applications/{id}/materials"));

    // Materials: everything is fetched, nothing to upload.
    let html = b.get(&format!("/applications/{id}/materials")).await.text();
    assert!(html.contains("您无需上传任何材料"), "{html}");
    // The task list shows the first three steps done (nothing to upload).
    let tasks = b.get(&format!("/applications/{id}")).await.text();
    assert_eq!(tasks.matches("已完成").count(), 3, "{tasks}");

    // Check your answers, then submit once.
    let check_url = format!("/applications/{id}/check");
    let html = b.get(&check_url).await.text();
    assert!(html.contains("陈思远") && html.contains("陈国强"), "{html}");
    let fields = form_fields(&html, &check_url);
    let r = b.post_pairs(&check_url, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let done = location(&r);
    assert_eq!(done, format!("/me/applications/{id}?submitted=1"));
    let html = b.get(&done).await.text();
    assert!(html.contains("申请已提交"), "{html}");
    let numbers = html.matches("<strong>330106-").count();
    assert_eq!(numbers, 4, "four case numbers: {html}");
    assert!(html.contains("办理记录"));
    // A resent form makes no second application: the draft is now the application.
    let r = b.post_pairs(&check_url, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/me/applications/{id}"));
    let submitted = t.app.db.application(&id).await.unwrap().unwrap();
    assert_eq!(submitted.state, "submitted");
    assert!(submitted.channel == "web", "{}", submitted.channel);
    assert_eq!(t.app.db.cases_of_application(&id).await.unwrap().len(), 4);
    // My applications lists it.
    let mine = b.get("/me/applications").await.text();
    assert!(mine.contains(&format!("/me/applications/{id}")), "{mine}");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let t = TestApp::new().await;
    for path in [
        "/",
        "/api/v1/items?q=社保",
        "/no-such-page",
        "/assets/site.js",
    ] {
        let r = t.get(path).await;
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(r.header("referrer-policy"), Some("same-origin"), "{path}");
    }
    // The pages hold no inline script or style for the policy to block.
    let html = t.get("/").await.text();
    assert!(!html.contains("style=\""), "inline style on the home page");
    assert!(!html.contains("<script>"), "inline script on the home page");
    let js = t.get("/assets/site.js").await;
    assert!(
        js.header("content-type")
            .is_some_and(|c| c.starts_with("text/javascript"))
    );
    assert!(js.text().contains("document-file-wrap"));
}

/// 医疗费用手工（零星）报销 (Hangzhou): one situation, a form of its own, three uploads.
const MEDICAL_REIMBURSEMENT: &str = "11330100067843715T050090003000";
/// 社会保障卡申领 (Hangzhou): several situations, no form of its own.
const SOCIAL_SECURITY_CARD: &str = "113301000354023845200030002000";

#[tokio::test]
async fn a_person_applies_for_one_item_alone_through_the_pages() {
    let t = TestApp::new().await;
    let (mut b, _) = t.real_named(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;

    // The item's guide offers to apply online; one situation, so the form comes first.
    let item_url = format!("/items/{MEDICAL_REIMBURSEMENT}");
    let start_url = format!("{item_url}/start");
    let guide = b.get(&item_url).await.text();
    assert!(
        guide.contains(&format!("action=\"{start_url}\"")),
        "{guide}"
    );
    assert!(guide.contains("在线办理"), "{guide}");
    let r = b.post_form(&start_url, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "no CSRF token, no draft");
    let r = b
        .post_pairs(&start_url, &form_fields(&guide, &start_url))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let form_url = location(&r);
    let id = form_url
        .strip_prefix("/applications/")
        .and_then(|s| s.strip_suffix("/form"))
        .expect("draft id")
        .to_string();

    // The item's own form, prefilled from the account and the e-receipt; a missing field is
    // shown next to it.
    let page = b.get(&form_url).await.text();
    assert!(page.contains("医疗费用零星报销申请表"), "{page}");
    assert!(
        page.contains("value=\"浙江大学医学院附属第一医院\""),
        "{page}"
    );
    let mut fields = form_fields(&page, &form_url);
    set_field(&mut fields, "visit_kind", "emergency");
    set_field(&mut fields, "inpatient", "outpatient");
    set_field(&mut fields, "bank", "icbc");
    let r = b.post_pairs(&form_url, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("href=\"#f-account_number\""), "{html}");
    let mut fields = form_fields(&html, &form_url);
    set_field(&mut fields, "account_number", "6222021202041234567");
    let r = b.post_pairs(&form_url, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let materials_url = format!("/applications/{id}/materials");
    assert_eq!(location(&r), materials_url);

    // The task list has no questionnaire (nothing to ask).
    let tasks = b.get(&format!("/applications/{id}")).await.text();
    assert!(!tasks.contains("/questions"), "{tasks}");

    // Three materials to upload; the ID card and the e-receipt are fetched.
    let html = b.get(&materials_url).await.text();
    assert!(html.contains("还有 3 份材料需要您提供"), "{html}");
    let token = hidden(&html, "csrf_token");
    for (material, file) in [
        ("费用明细清单", "清单.pdf"),
        ("出院记录或门诊病历", "病历.pdf"),
        ("本人银行借记卡", "借记卡.pdf"),
    ] {
        let body = multipart(
            &[("csrf_token", token.as_str()), ("material", material)],
            Some((file, &pdf(file))),
        );
        let r = post_multipart(&mut b, &materials_url, None, body).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    }
    assert!(
        b.get(&materials_url)
            .await
            .text()
            .contains("所需材料均已提供")
    );

    // Check and submit once: one case of the medical insurance bureau.
    let check_url = format!("/applications/{id}/check");
    let html = b.get(&check_url).await.text();
    assert!(html.contains("6222021202041234567"), "{html}");
    let r = b
        .post_pairs(&check_url, &form_fields(&html, &check_url))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(location(&r), format!("/me/applications/{id}?submitted=1"));
    let submitted = t.app.db.application(&id).await.unwrap().unwrap();
    assert_eq!(submitted.state, "submitted");
    assert_eq!(submitted.item_code.as_deref(), Some(MEDICAL_REIMBURSEMENT));
    let cases = t.app.db.cases_of_application(&id).await.unwrap();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].department_code, "11330100067843715T");

    // An item with several situations asks which one, then goes to its materials (it has no
    // form of its own); the answer is the situation applied for.
    let item_url = format!("/items/{SOCIAL_SECURITY_CARD}");
    let start_url = format!("{item_url}/start");
    let guide = b.get(&item_url).await.text();
    let r = b
        .post_pairs(&start_url, &form_fields(&guide, &start_url))
        .await;
    let questions_url = location(&r);
    assert!(questions_url.ends_with("/questions"), "{questions_url}");
    let page = b.get(&questions_url).await.text();
    assert!(page.contains("您要办理的是哪种情形"), "{page}");
    let fields = form_fields(&page, &questions_url);
    let r = b.post_pairs(&questions_url, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "unanswered");
    let mut fields = form_fields(&r.text(), &questions_url);
    set_field(&mut fields, "situation", "S03");
    let r = b.post_pairs(&questions_url, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(location(&r).ends_with("/materials"), "{}", location(&r));
    let card_id = questions_url
        .strip_prefix("/applications/")
        .and_then(|s| s.strip_suffix("/questions"))
        .unwrap();
    let draft = t.app.db.application(card_id).await.unwrap().unwrap();
    assert_eq!(draft.document["target"]["situation"], "S03");
    // The form step leads straight on.
    let r = b.get(&format!("/applications/{card_id}/form")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    // An item that is not offered online has no button, and starting it is refused.
    let mut window_only = t.item_doc(MEDICAL_REIMBURSEMENT).await;
    window_only["channels"] = json!(["window"]);
    window_only["online_depth"] = json!("III");
    window_only["visits"] = json!(1);
    window_only["visits_reason"] = json!("须核验纸质票据原件");
    let r = t
        .admin_json(
            Method::PUT,
            &format!("/api/v1/items/{MEDICAL_REIMBURSEMENT}"),
            &window_only,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let item_url = format!("/items/{MEDICAL_REIMBURSEMENT}");
    let guide = b.get(&item_url).await.text();
    assert!(!guide.contains("/start\""), "{guide}");
    let token = hidden(
        &b.get(&format!("/items/{SOCIAL_SECURITY_CARD}"))
            .await
            .text(),
        "csrf_token",
    );
    let r = b
        .post_form(&format!("{item_url}/start"), &[("csrf_token", &token)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text().contains("该事项不能网上申请"), "{}", r.text());
}
