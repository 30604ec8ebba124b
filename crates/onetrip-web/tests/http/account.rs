//! The person's certificates, data-use log and account pages (issue 6): listing certificates,
//! showing one (亮证) with chosen fields as a server-rendered QR code that the public
//! verification page confirms with exactly those fields; another person's certificate refused;
//! a revoked certificate shown as revoked; who used my data with paging; the account with the
//! switch to act for an organisation, refused without authority.

use axum::http::{Method, StatusCode};
use jiff::{SignedDuration, Timestamp};
use onetrip_domain::certificate::HolderKind;
use onetrip_domain::sharing::{AccessLogEntry, AccessOutcome, Consumer};
use serde_json::json;

use crate::common::*;

/// A second person of the demo registry.
const B_RID: &str = "330102199007220264";
const B_NAME: &str = "林晓燕";
const B_PHONE: &str = "13900139000";
/// The organisation whose legal representative is the demo person (demo legal-person
/// registry).
const ORG: &str = "913301061234567887";

/// The id of the demo person's certificate of `ty`.
async fn certificate_of(t: &TestApp, ty: &str) -> String {
    t.app
        .certificates_of_holder(HolderKind::Person, PERSON_RID, Timestamp::now())
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.certificate_type == ty)
        .unwrap_or_else(|| panic!("the demo person holds no {ty}"))
        .id
}

fn show_path(id: &str) -> String {
    format!("/me/certificates/{}/show", enc(id))
}

/// The value of the `href` of the element with `id` in `html`.
fn href_of(html: &str, id: &str) -> String {
    let start = html
        .find(&format!("id=\"{id}\" href=\""))
        .unwrap_or_else(|| panic!("no #{id} in {html}"))
        + format!("id=\"{id}\" href=\"").len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].replace("&#38;", "&").replace("&amp;", "&")
}

/// The terms of the `<dl id="disclosed">` in `html`.
fn disclosed_terms(html: &str) -> Vec<String> {
    let start = html.find("id=\"disclosed\"").expect("no disclosed list");
    let end = html[start..].find("</dl>").unwrap() + start;
    html[start..end]
        .split("<dt>")
        .skip(1)
        .map(|s| s.split("</dt>").next().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_person_shows_a_certificate_with_chosen_fields_and_it_verifies_publicly() {
    let t = TestApp::new().await;
    let (mut b, _) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    // The list: every certificate with type, identifier, masked holder, issuer, validity and
    // status (the demo driving licence has expired).
    let r = b.get_page("/me/certificates").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    let id = certificate_of(&t, "ID_CARD").await;
    assert!(
        html.contains("我的证照") && html.contains("居民身份证"),
        "{html}"
    );
    assert!(html.contains(&id) && html.contains("330102********0138"));
    assert!(!html.contains(PERSON_RID), "the holder's number is masked");
    assert!(html.contains("已过期") && html.contains("有效"));
    assert!(html.contains(&format!("href=\"{}\"", show_path(&id))));
    // In English.
    let en = b.get_page("/me/certificates?lang=en").await.text();
    assert!(en.contains("My certificates") && en.contains("Resident identity card"));

    // The show page offers the type's fields as checkboxes.
    let page = b.get_page(&show_path(&id)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let html = page.text();
    assert!(
        html.contains("name=\"fields\" value=\"birth_date\""),
        "{html}"
    );
    assert!(html.contains("<label class=\"choice\"><input type=\"checkbox\" id=\"field-name\""));
    let csrf = hidden(&html, "csrf_token");

    // Without the form's token: refused.
    let r = b.post_form(&show_path(&id), &[("fields", "name")]).await;
    r.problem(StatusCode::FORBIDDEN, "page_expired");
    // Nothing chosen: the problem is next to the checkboxes, linked from the summary.
    let r = b
        .post_form(&show_path(&id), &[("csrf_token", csrf.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    assert!(html.contains("id=\"disclosure-error\""), "{html}");
    assert!(html.contains("aria-describedby=\"disclosure-error\""));
    assert!(html.contains("href=\"#field-name\""));
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(!html.contains("presentation-link"));

    // Two fields: the code is made and shown after the redirect.
    let r = b
        .post_form(
            &show_path(&id),
            &[
                ("csrf_token", csrf.as_str()),
                ("fields", "name"),
                ("fields", "birth_date"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let location = r.header("location").unwrap().to_string();
    assert!(location.starts_with(&format!("{}?token=", show_path(&id))));
    let html = b.get_page(&location).await.text();
    assert!(
        html.contains("<div class=\"qr\" role=\"img\" aria-label=\""),
        "{html}"
    );
    assert!(html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(
        !html.contains("<?xml"),
        "inline SVG carries no XML declaration"
    );
    assert!(!html.contains("<script"));
    assert_eq!(disclosed_terms(&html), ["姓名", "出生"]);
    assert!(html.contains("有效至"));
    // The ticked boxes stay ticked for a new code.
    let fields = form_fields(&html, &show_path(&id));
    assert!(fields.contains(&("fields".to_string(), "birth_date".to_string())));
    let link = href_of(&html, "presentation-link");
    assert!(
        html.contains(&format!(">{link}</a>")),
        "the link as text too"
    );
    let path = link
        .strip_prefix(ISSUER)
        .expect("an absolute link")
        .to_string();
    assert!(path.starts_with("/verify/"));

    // Anyone opens the link: verified, with exactly the chosen fields.
    let mut anyone = Browser::new(&t);
    let r = anyone.get_page(&path).await;
    assert_eq!(r.status, StatusCode::OK);
    let html = r.text();
    assert!(html.contains("核验通过"), "{html}");
    assert!(html.contains("<html lang=\"zh-CN\""));
    assert_eq!(disclosed_terms(&html), ["姓名", "出生"]);
    assert!(html.contains("陈志明") && html.contains("1985-03-14"));
    assert!(!html.contains("文三路") && !html.contains(PERSON_RID));
    let en = anyone.get_page(&format!("{path}?lang=en")).await.text();
    assert!(
        en.contains("<html lang=\"en\"") && en.contains("Verified"),
        "{en}"
    );
    assert_eq!(disclosed_terms(&en), ["Name", "Date of birth"]);
    let elder = anyone.get_page(&format!("{path}?elder=1")).await.text();
    assert!(elder.contains("class=\"elder\""));
}

#[tokio::test]
async fn another_persons_certificate_is_refused() {
    let t = TestApp::new().await;
    let id = certificate_of(&t, "ID_CARD").await;
    let (mut b, _) = t.registered(B_RID, B_NAME, B_PHONE).await;
    // Not in B's list.
    let html = b.get_page("/me/certificates").await.text();
    assert!(!html.contains(&id));
    // The use case refuses the show page and the form.
    b.get(&show_path(&id))
        .await
        .problem(StatusCode::FORBIDDEN, "certificate_not_holder");
    let page = b.get_page(&show_path(&id)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.text().contains("这不是您持有的证照"));
    let csrf = hidden(&b.get_page("/me/certificates").await.text(), "csrf_token");
    b.post_form(
        &show_path(&id),
        &[("csrf_token", csrf.as_str()), ("fields", "name")],
    )
    .await
    .problem(StatusCode::FORBIDDEN, "certificate_not_holder");
    // No such certificate.
    b.get(&show_path("1.2.156.3005.2.NOPE"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    // Anonymous visitors are sent to sign in.
    let r = Browser::new(&t).get_page(&show_path(&id)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.header("location").unwrap().starts_with("/sign-in?next="));
}

#[tokio::test]
async fn a_revoked_certificate_shows_revoked_everywhere() {
    let t = TestApp::new().await;
    let r = t
        .admin_json(
            Method::POST,
            "/api/v1/certificates",
            &json!({
                "certificate_type": "VOCATIONAL_SKILL_CERT",
                "holder_kind": "person",
                "holder_id": PERSON_RID,
                "content": {"name": PERSON_NAME, "resident_id": PERSON_RID,
                            "occupation": "电工", "level": "三级/高级工"}
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let (mut b, _) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    // Shown with "at least 18" instead of the ID number.
    let html = b.get_page(&show_path(&id)).await.text();
    assert!(
        html.contains("name=\"predicates\" value=\"age_at_least:18\""),
        "{html}"
    );
    let csrf = hidden(&html, "csrf_token");
    let r = b
        .post_form(
            &show_path(&id),
            &[
                ("csrf_token", csrf.as_str()),
                ("fields", "level"),
                ("predicates", "age_at_least:18"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let html = b.get_page(r.header("location").unwrap()).await.text();
    let path = href_of(&html, "presentation-link")
        .strip_prefix(ISSUER)
        .unwrap()
        .to_string();
    let html = t.get(&path).await.text();
    assert!(
        html.contains("核验通过") && html.contains("年满18周岁"),
        "{html}"
    );

    // The issuer revokes it.
    let r = t
        .admin_json(
            Method::POST,
            &format!("/api/v1/certificates/{id}/revocation"),
            &json!({"reason": "证书信息有误，已重新颁发"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // The verification page says so at once.
    let html = t.get(&path).await.text();
    assert!(
        html.contains("已被发证机关注销") && html.contains("证书信息有误"),
        "{html}"
    );
    // The list shows it revoked, with the reason and no show button.
    let html = b.get_page("/me/certificates").await.text();
    assert!(html.contains("已注销") && html.contains("证书信息有误"));
    assert!(!html.contains(&format!("href=\"{}\"", show_path(&id))));
    // Its page says it cannot be shown, and a posted form is answered on the page.
    let html = b.get_page(&show_path(&id)).await.text();
    assert!(html.contains("不能亮证") && !html.contains("name=\"fields\""));
    let r = b
        .post_form(
            &show_path(&id),
            &[("csrf_token", csrf.as_str()), ("fields", "level")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("error-summary"));
}

#[tokio::test]
async fn the_verification_page_answers_tampered_and_expired_codes() {
    let t = TestApp::new().await;
    let html = t.get("/verify/not-a-token").await.text();
    assert!(
        html.contains("核验未通过") && html.contains("电子证照核验"),
        "{html}"
    );
    assert!(
        html.contains("href=\"/assets/site.css"),
        "the page system's layout"
    );
    let en = t.get("/verify/not-a-token?lang=en").await.text();
    assert!(en.contains("Not verified") && en.contains("Certificate verification"));
    // A code made an hour ago for five minutes.
    let id = certificate_of(&t, "ID_CARD").await;
    let made = t
        .app
        .present_certificate(
            &id,
            (HolderKind::Person, PERSON_RID),
            &["name".to_string()],
            &[],
            None,
            Timestamp::now() - SignedDuration::from_hours(1),
        )
        .await
        .unwrap();
    let html = t.get(&format!("/verify/{}", made.token)).await.text();
    assert!(html.contains("过期") && !html.contains("陈志明"), "{html}");
    // The holder's own page says so too, and offers a new code.
    let (mut b, _) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    let html = b
        .get_page(&format!("{}?token={}", show_path(&id), enc(&made.token)))
        .await
        .text();
    assert!(html.contains("这个亮证码已过期") && !html.contains("presentation-link"));
    assert!(html.contains("name=\"fields\""));
}

/// `n` accesses to the demo person's data, one a minute, newest first in the log.
async fn accesses(t: &TestApp, n: i64) {
    let now = Timestamp::now();
    let entries: Vec<AccessLogEntry> = (0..n)
        .map(|i| AccessLogEntry {
            id: format!("0190a0a0-0000-7000-8000-{i:012}"),
            at: now - SignedDuration::from_mins(n - i),
            consumer: Consumer::Item(HOUSING_FUND_MAIN.to_string()),
            resource: "ZJ_SOCIAL_INSURANCE_RECORD".to_string(),
            provider: "11330000045628651N".to_string(),
            subject: PERSON_RID.to_string(),
            fields: vec!["name".to_string()],
            masked_fields: Vec::new(),
            purpose: format!("办件材料核验 {i}"),
            case_ref: (i == n - 1).then(|| "330106-20261121-000001".to_string()),
            outcome: AccessOutcome::Allowed,
            refusal: None,
        })
        .collect();
    t.app.db.insert_access_log(&entries).await.unwrap();
}

#[tokio::test]
async fn who_used_my_data_pages_through_the_log_after_real_name_verification() {
    let t = TestApp::new().await;
    accesses(&t, 25).await;
    let (mut b, csrf) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    // Below L2 the person is asked to verify their real name first.
    let r = b.get_page("/me/data-access").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some("/step-up?next=%2Fme%2Fdata-access")
    );
    let r = b
        .json(
            Method::POST,
            "/api/v1/me/real-name",
            &json!({}),
            Some(&csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = b.get_page("/me/data-access").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    assert!(html.contains("谁用了我的数据") && html.contains("社会保险参保缴费信息"));
    assert_eq!(html.matches("办件材料核验").count(), 20, "{html}");
    // Newest first: the last entry, with its case number.
    assert!(html.contains("办件材料核验 24") && html.contains("330106-20261121-000001"));
    assert!(!html.contains("办件材料核验 4<"));
    assert!(html.contains("href=\"/me/data-access?page=2\""));
    let html = b.get_page("/me/data-access?page=2").await.text();
    assert_eq!(html.matches("办件材料核验").count(), 5);
    assert!(html.contains("办件材料核验 0<") && html.contains("href=\"/me/data-access?page=1\""));
    // Out of range pages show the last one; English.
    let en = b.get_page("/me/data-access?page=99&lang=en").await.text();
    assert!(en.contains("Who used my data") && en.contains("Page 2"));
    // Another person sees none of it.
    let (mut other, other_csrf) = t.registered(B_RID, B_NAME, B_PHONE).await;
    other
        .json(
            Method::POST,
            "/api/v1/me/real-name",
            &json!({}),
            Some(&other_csrf),
        )
        .await;
    let html = other.get_page("/me/data-access").await.text();
    assert!(!html.contains("办件材料核验") && html.contains("还没有部门使用过您的数据"));
}

#[tokio::test]
async fn the_account_page_switches_to_act_for_an_organisation_only_with_authority() {
    let t = TestApp::new().await;
    let (mut b, csrf) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    let r = b.get_page("/me/account").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    assert!(html.contains("陈志明") && html.contains("330102********0138"));
    assert!(html.contains("138****8000") && !html.contains(PERSON_RID));
    assert!(html.contains("一级") && html.contains("href=\"/step-up?next=%2Fme%2Faccount\""));
    assert!(
        html.contains("href=\"/me/account\""),
        "linked from the header"
    );
    assert!(html.contains("最近登录"));
    assert!(html.contains("您目前不能代表任何单位办事"));

    // CSRF, then an organisation the person has no authority for.
    b.post_form("/me/account/acting", &[("organisation", ORG)])
        .await
        .problem(StatusCode::FORBIDDEN, "page_expired");
    let r = b
        .post_form(
            "/me/account/acting",
            &[("csrf_token", csrf.as_str()), ("organisation", ORG)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let html = r.text();
    assert!(html.contains("您没有该单位的授权"), "{html}");
    assert!(html.contains("id=\"acting-error\"") && html.contains("href=\"#acting\""));
    let me = b.get("/api/v1/me").await.json();
    assert_eq!(me["acting_for"], json!(null));

    // Real name verified and the organisation registered: he represents it.
    let r = b
        .json(
            Method::POST,
            "/api/v1/me/real-name",
            &json!({}),
            Some(&csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = b
        .json(
            Method::POST,
            "/api/v1/organisations",
            &json!({"credit_code": ORG, "name": "杭州西湖示例科技有限公司"}),
            Some(&csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let html = b.get_page("/me/account").await.text();
    assert!(
        html.contains("二级") && html.contains("法定代表人"),
        "{html}"
    );
    assert!(html.contains(&format!("value=\"{ORG}\"")));
    let csrf = hidden(&html, "csrf_token");
    let r = b
        .post_form(
            "/me/account/acting",
            &[("csrf_token", csrf.as_str()), ("organisation", ORG)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.header("location"), Some("/me/account"));
    let html = b.get_page("/me/account").await.text();
    assert!(
        html.contains(&format!("当前以单位身份办事：{ORG}")),
        "the header says so"
    );
    assert!(html.contains("当前以单位身份办事：杭州西湖示例科技有限公司"));
    assert_eq!(b.get("/api/v1/me").await.json()["acting_for"], ORG);
    // The certificates are now the organisation's.
    let html = b.get_page("/me/certificates").await.text();
    assert!(!html.contains("居民身份证"));
    // And back to himself.
    let csrf = hidden(&html, "csrf_token");
    let r = b
        .post_form(
            "/me/account/acting",
            &[("csrf_token", csrf.as_str()), ("organisation", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let html = b.get_page("/me/account").await.text();
    assert!(html.contains("当前以个人身份办事") && !html.contains("class=\"acting\""));
    let en = b.get_page("/me/account?lang=en").await.text();
    assert!(en.contains("My account") && en.contains("You are acting for yourself"));
}

#[tokio::test]
async fn the_home_page_links_a_signed_in_persons_pages() {
    let t = TestApp::new().await;
    let anonymous = t.get("/").await.text();
    assert!(!anonymous.contains("href=\"/me/certificates\""));
    let (mut b, _) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    let html = b.get_page("/").await.text();
    for href in ["/me/certificates", "/me/data-access", "/me/account"] {
        assert!(html.contains(&format!("href=\"{href}\"")), "{href}");
    }
}
