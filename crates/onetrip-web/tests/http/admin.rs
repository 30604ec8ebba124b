//! The administrator pages (issue 6 §7): authenticator enrolment on the page, and the catalog
//! editor: refusals (officers, administrators without an authenticator, forms without the
//! CSRF token), a situation added as a new version that the public guide shows, and the
//! domain's consistency problems next to their fields with what was typed kept.

use axum::http::{Method, StatusCode};
use jiff::Timestamp;
use onetrip_domain::identity::{AccountId, StaffRole, TOTP_STEP_SECS, TotpSecret};

use crate::common::*;

/// 购买自住住房提取住房公积金: materials M01–M13 and several situations.
const ITEM: &str = "123301000597435545200050001001";

/// Creates a member of staff with one role in 330100: (id, initial password).
async fn create(t: &TestApp, username: &str, role: StaffRole) -> (AccountId, String) {
    create_staff(t, username, "330100", None, &[role]).await
}

/// Signs in on the staff sign-in page, with the authenticator code when not empty.
async fn sign_in(b: &mut Browser<'_>, username: &str, password: &str, totp: &str) -> Resp {
    staff_page_sign_in(b, username, password, Some(totp).filter(|c| !c.is_empty())).await
}

/// Enrols an authenticator for `id` with a code of the current step: the secret and that step.
async fn enrol(t: &TestApp, id: &AccountId) -> (TotpSecret, i64) {
    let e = t.app.begin_totp_enrolment(id).await.unwrap();
    let secret = TotpSecret::from_base32(&e.secret_base32).unwrap();
    let step = Timestamp::now().as_second() / TOTP_STEP_SECS;
    t.app
        .confirm_totp_enrolment(
            id,
            &e.secret_base32,
            &secret.code_at_step(step),
            Timestamp::now(),
        )
        .await
        .unwrap();
    (secret, step)
}

/// An administrator with an authenticator, signed in with a code: their browser.
async fn administrator<'a>(t: &'a TestApp, username: &str, role: StaffRole) -> Browser<'a> {
    let (id, password) = create(t, username, role).await;
    let (secret, step) = enrol(t, &id).await;
    let mut b = Browser::new(t);
    let r = sign_in(&mut b, username, &password, &secret.code_at_step(step + 1)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    b
}

#[tokio::test]
async fn an_administrator_enrols_the_authenticator_on_the_page_and_signs_in_with_it() {
    let t = TestApp::new().await;
    let (_, password) = create(&t, "sun.catalog", StaffRole::CatalogAdministrator).await;
    let mut b = Browser::new(&t);
    let r = sign_in(&mut b, "sun.catalog", &password, "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    // The workbench says why the catalog is missing and links the enrolment.
    let home = b.get_page("/staff").await.text();
    assert!(home.contains("href=\"/staff/authenticator\""), "{home}");
    // Without the authenticator the administrator role does nothing.
    let r = b.get_page("/admin/catalog").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());

    let page = b.get_page("/staff/authenticator").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    let secret = hidden(&html, "secret");
    assert_eq!(secret.len(), 32, "160 bits in base32: {secret}");
    assert!(html.contains("otpauth://totp/"), "{html}");
    // The key is shown in groups of four to type.
    assert!(html.contains(&format!("{} {}", &secret[..4], &secret[4..8])));
    assert!(html.contains("<label for=\"code\">"));
    let csrf = hidden(&html, "csrf_token");
    let totp = TotpSecret::from_base32(&secret).unwrap();
    let step = Timestamp::now().as_second() / TOTP_STEP_SECS;

    // Without the form's token: refused.
    let r = b
        .post_form(
            "/staff/authenticator",
            &[("secret", &secret), ("code", &totp.code_at_step(step))],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A wrong code: the problem next to the field, the same key kept.
    let wrong = if totp.code_at_step(step) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let r = b
        .post_form(
            "/staff/authenticator",
            &[("csrf_token", &csrf), ("secret", &secret), ("code", wrong)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("id=\"code-error\""), "{html}");
    assert!(html.contains("href=\"#code\""));
    assert!(html.contains("aria-invalid=\"true\""));
    assert_eq!(hidden(&html, "secret"), secret);

    let r = b
        .post_form(
            "/staff/authenticator",
            &[
                ("csrf_token", &csrf),
                ("secret", &secret),
                ("code", &totp.code_at_step(step)),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.header("location"), Some("/staff/authenticator"));
    let html = b.get_page("/staff/authenticator").await.text();
    assert!(html.contains("身份验证器已绑定"), "{html}");
    assert!(html.contains("action=\"/sign-out\""));
    let en = b.get_page("/staff/authenticator?lang=en").await.text();
    assert!(en.contains("Your authenticator is enrolled."), "{en}");
    // This session was signed in without a code: still no catalog.
    assert_eq!(
        b.get_page("/admin/catalog").await.status,
        StatusCode::FORBIDDEN
    );

    // The next sign-in asks for the code, and then the catalog opens.
    let mut again = Browser::new(&t);
    let r = sign_in(&mut again, "sun.catalog", &password, "").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = sign_in(
        &mut again,
        "sun.catalog",
        &password,
        &totp.code_at_step(step + 1),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = again.get_page("/admin/catalog").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test]
async fn the_catalog_editor_is_for_catalog_administrators_with_their_code() {
    let t = TestApp::new().await;
    // Anonymous browsers are sent to the staff sign-in.
    let mut anonymous = Browser::new(&t);
    let r = anonymous.get_page("/admin/catalog").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.header("location"),
        Some("/staff/sign-in?next=%2Fadmin%2Fcatalog")
    );
    // An officer: refused, as a page.
    let (mut officer, _) = staff(
        &t,
        "zhou.officer",
        StaffRole::DepartmentOfficer,
        "330100",
        Some("11330100000897962X"),
    )
    .await;
    let r = officer
        .get_page(&format!("/admin/catalog/items/{ITEM}"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text().contains("<html"), "{}", r.text());
    // A catalog administrator signed in without an authenticator: refused too.
    let (mut no_totp, _) = staff(
        &t,
        "wu.catalog",
        StaffRole::CatalogAdministrator,
        "330100",
        None,
    )
    .await;
    assert_eq!(
        no_totp.get_page("/admin/catalog").await.status,
        StatusCode::FORBIDDEN
    );
    let r = no_totp
        .post_form(&format!("/admin/catalog/items/{ITEM}"), &[("name", "x")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A system administrator is not a catalog administrator.
    let mut sysadmin = administrator(&t, "zheng.system", StaffRole::SystemAdministrator).await;
    assert_eq!(
        sysadmin.get_page("/admin/catalog").await.status,
        StatusCode::FORBIDDEN
    );

    let mut admin = administrator(&t, "feng.catalog", StaffRole::CatalogAdministrator).await;
    let r = admin
        .get_page(&format!("/admin/catalog?q={}", enc("公积金")))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    assert!(
        html.contains(&format!("href=\"/admin/catalog/items/{ITEM}\"")),
        "{html}"
    );
    assert!(html.contains("<th scope=\"col\">"));
    let en = admin.get_page("/admin/catalog?lang=en").await.text();
    assert!(en.contains("Service items"), "{en}");
    // An unknown item is a page that says so.
    let r = admin.get_page("/admin/catalog/items/NOSUCHITEM").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// The number of situations of the current version.
async fn situations(t: &TestApp) -> usize {
    t.item_doc(ITEM).await["situations"]
        .as_array()
        .unwrap()
        .len()
}

#[tokio::test]
async fn an_administrator_adds_a_situation_and_the_item_gets_a_new_version() {
    let t = TestApp::new().await;
    let before = t.get_json(&format!("/api/v1/items/{ITEM}")).await["version"]
        .as_i64()
        .unwrap();
    let n = situations(&t).await;
    let mut admin = administrator(&t, "chen.catalog", StaffRole::CatalogAdministrator).await;
    let action = format!("/admin/catalog/items/{ITEM}");
    let html = admin.get_page(&action).await.text();
    assert!(html.contains("购买新建商品住房"), "{html}");
    assert!(html.contains("for=\"situations-0-materials\""));
    let mut fields = form_fields(&html, &action);
    let s = |f: &str| format!("situations[{n}].{f}");
    set_field(&mut fields, &s("code"), "S90");
    set_field(&mut fields, &s("name"), "购买共有产权住房");
    set_field(
        &mut fields,
        &s("conditions"),
        "购买本市共有产权保障住房\n已签订购房合同",
    );
    set_field(&mut fields, &s("materials"), "M01, M02，M06");
    set_field(&mut fields, &s("guide"), "凭购房合同和付款凭证提取。");
    let r = admin.post_pairs(&action, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some(format!("{action}?saved={}", before + 1).as_str())
    );

    let doc = t.item_doc(ITEM).await;
    let added = &doc["situations"][n];
    assert_eq!(added["code"], "S90");
    assert_eq!(added["name"], "购买共有产权住房");
    assert_eq!(
        added["conditions"],
        serde_json::json!(["购买本市共有产权保障住房", "已签订购房合同"])
    );
    assert_eq!(added["materials"], serde_json::json!(["M01", "M02", "M06"]));
    // Nothing else changed: the other situations and the materials are as they were.
    assert_eq!(situations(&t).await, n + 1);
    let versions = t.get_json(&format!("/api/v1/items/{ITEM}/versions")).await;
    assert_eq!(versions.as_array().unwrap().len() as i64, before + 1);

    let page = admin
        .get_page(&format!("{action}?saved={}", before + 1))
        .await
        .text();
    assert!(page.contains("class=\"success\""), "{page}");
    assert!(page.contains(&format!("/versions/{}", before + 1)));
    // The public guide offers the new situation.
    let guide = t.get(&format!("/items/{ITEM}")).await.text();
    assert!(guide.contains("购买共有产权住房"), "{guide}");

    // Saving the same again makes no version.
    let html = admin.get_page(&action).await.text();
    let r = admin
        .post_pairs(&action, &form_fields(&html, &action))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(r.header("location").unwrap().ends_with("&unchanged=1"));

    // Removing it makes another.
    let html = admin.get_page(&action).await.text();
    let mut fields = form_fields(&html, &action);
    fields.push((s("remove"), "1".into()));
    let r = admin.post_pairs(&action, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(situations(&t).await, n);
}

#[tokio::test]
async fn consistency_problems_are_shown_next_to_their_fields_with_what_was_typed() {
    let t = TestApp::new().await;
    let before = t.item_doc(ITEM).await;
    let n = situations(&t).await;
    let mut admin = administrator(&t, "he.catalog", StaffRole::CatalogAdministrator).await;
    let action = format!("/admin/catalog/items/{ITEM}");
    let html = admin.get_page(&action).await.text();
    let fields = form_fields(&html, &action);

    // Without the CSRF token nothing is saved.
    let mut no_token = fields.clone();
    no_token.retain(|(k, _)| k != "csrf_token");
    let r = admin.post_pairs(&action, &no_token).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let mut bad = fields.clone();
    let s = |f: &str| format!("situations[{n}].{f}");
    // A new situation reusing S01, naming a material the item does not define.
    set_field(&mut bad, &s("code"), "S01");
    set_field(&mut bad, &s("name"), "错误情形");
    set_field(&mut bad, &s("materials"), "M01, M99");
    set_field(&mut bad, &s("guide"), "说明");
    // A second material with the code of the first.
    set_field(&mut bad, "materials[1].id", "M01");
    let r = admin.post_pairs(&action, &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    for id in [
        format!("situations-{n}-code"),
        format!("situations-{n}-materials"),
        "materials-1-id".to_string(),
    ] {
        assert!(html.contains(&format!("id=\"{id}-error\"")), "{id}: {html}");
        assert!(
            html.contains(&format!("href=\"#{id}\"")),
            "{id} in the summary"
        );
        assert!(
            html.contains(&format!("aria-describedby=\"{id}-error")),
            "{id} described by its problem"
        );
    }
    assert!(html.contains("M99"), "the message names the material");
    // What was typed is kept.
    assert!(html.contains("value=\"M01, M99\""));
    assert!(html.contains("value=\"错误情形\""));
    // Nothing was saved.
    assert_eq!(t.item_doc(ITEM).await, before);

    // A number that is not one, in English.
    let mut bad = fields.clone();
    set_field(&mut bad, "materials[0].count", "two");
    set_field(&mut bad, "promised_limit", "9");
    let r = admin.post_pairs(&format!("{action}?lang=en"), &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("id=\"materials-0-count-error\""), "{html}");
    assert!(html.contains("Enter a whole number."));
    assert!(html.contains("value=\"two\""));

    // The promised limit above the statutory one: the domain's rule, next to the field.
    let mut bad = fields.clone();
    set_field(&mut bad, "promised_limit", "9");
    let r = admin.post_pairs(&format!("{action}?lang=en"), &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("id=\"promised_limit-error\""), "{html}");
    assert!(html.contains("exceeds the statutory limit"), "{html}");
    assert_eq!(t.item_doc(ITEM).await, before);

    // Someone else saved meanwhile: the typed form comes back with a notice.
    let mut other = before.clone();
    other["name"] = serde_json::json!("购买自住住房提取住房公积金（新）");
    let r = t
        .admin_json(Method::PUT, &format!("/api/v1/items/{ITEM}"), &other)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let mut stale = fields.clone();
    set_field(&mut stale, "limit_explanation", "不含公告时间");
    let r = admin.post_pairs(&action, &stale).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("不含公告时间"), "{html}");
    assert!(html.contains("id=\"item_problems\""));
}

#[tokio::test]
async fn a_system_administrator_manages_staff_and_roles_on_the_pages() {
    let t = TestApp::new().await;
    let (mut officer, _) = staff(
        &t,
        "lu.officer",
        StaffRole::DepartmentOfficer,
        "330100",
        Some("11330100000897962X"),
    )
    .await;
    assert_eq!(
        officer.get_page("/admin/staff").await.status,
        StatusCode::FORBIDDEN
    );
    let mut catalog = administrator(&t, "qin.catalog", StaffRole::CatalogAdministrator).await;
    assert_eq!(
        catalog.get_page("/admin/staff").await.status,
        StatusCode::FORBIDDEN
    );
    let mut admin = administrator(&t, "yang.system", StaffRole::SystemAdministrator).await;
    let html = admin.get_page("/admin/staff").await.text();
    assert!(html.contains("qin.catalog"), "{html}");
    assert!(html.contains("<caption id=\"staff-caption\">"));
    let csrf = hidden(&html, "csrf_token");

    // Problems next to their fields, what was typed kept.
    let r = admin
        .post_form(
            "/admin/staff",
            &[
                ("csrf_token", &csrf),
                ("username", "qin.catalog"),
                ("name", "许窗口"),
                ("department_code", "11330100000897962X"),
                ("division_code", "330100"),
                ("role", "window_clerk"),
                ("role_division", "33010"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    assert!(html.contains("id=\"role_division-error\""), "{html}");
    assert!(html.contains("value=\"许窗口\""));
    let r = admin
        .post_form(
            "/admin/staff",
            &[
                ("csrf_token", &csrf),
                ("username", "qin.catalog"),
                ("name", "许窗口"),
                ("department_code", "11330100000897962X"),
                ("division_code", "330100"),
                ("role", "window_clerk"),
                ("role_division", "330106"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("id=\"username-error\""), "{html}");
    assert!(html.contains("href=\"#username\""));

    let r = admin
        .post_form(
            "/admin/staff",
            &[
                ("csrf_token", &csrf),
                ("username", "xu.clerk"),
                ("name", "许窗口"),
                ("department_code", "11330100000897962X"),
                ("division_code", "330100"),
                ("role", "window_clerk"),
                ("role_division", "330106"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let html = r.text();
    let start = html.find("id=\"initial-password\">").unwrap() + "id=\"initial-password\">".len();
    let password = html[start..start + html[start..].find('<').unwrap()].to_string();
    assert!(password.len() >= 12, "{password}");
    // Shown once: the list does not show it again.
    assert!(
        !admin
            .get_page("/admin/staff")
            .await
            .text()
            .contains(&password)
    );
    let row = t
        .app
        .db
        .staff_by_username("xu.clerk")
        .await
        .unwrap()
        .unwrap();
    let mut clerk = Browser::new(&t);
    let r = sign_in(&mut clerk, "xu.clerk", &password, "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    // Roles: add a supervisor role, then remove the clerk role.
    let member = format!("/admin/staff/{}", row.id);
    let html = admin.get_page(&member).await.text();
    assert!(html.contains("许窗口"), "{html}");
    let roles = format!("{member}/roles");
    let r = admin
        .post_form(
            &roles,
            &[
                ("csrf_token", &csrf),
                ("role", "supervisor"),
                ("role_division", "330100"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let held = |row: &onetrip_store::StaffRow| row.roles.iter().map(|g| g.role).collect::<Vec<_>>();
    let now = t.app.db.staff_by_id(&row.id).await.unwrap().unwrap();
    assert_eq!(held(&now), [StaffRole::WindowClerk, StaffRole::Supervisor]);
    let r = admin
        .post_form(&roles, &[("csrf_token", &csrf), ("remove", "0")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let now = t.app.db.staff_by_id(&row.id).await.unwrap().unwrap();
    assert_eq!(held(&now), [StaffRole::Supervisor]);
    // A department role without its department: the domain's problem, next to the role.
    let r = admin
        .post_form(
            &roles,
            &[
                ("csrf_token", &csrf),
                ("role", "department_officer"),
                ("role_division", "330100"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("id=\"role-error\""), "{}", r.text());

    // Disable, then enable.
    let r = admin
        .post_form(
            &format!("{member}/disabled"),
            &[("csrf_token", &csrf), ("disabled", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(
        t.app
            .db
            .staff_by_id(&row.id)
            .await
            .unwrap()
            .unwrap()
            .disabled
    );
    let mut again = Browser::new(&t);
    let r = sign_in(&mut again, "xu.clerk", &password, "").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = admin
        .post_form(
            &format!("{member}/disabled"),
            &[("csrf_token", &csrf), ("disabled", "0")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        !t.app
            .db
            .staff_by_id(&row.id)
            .await
            .unwrap()
            .unwrap()
            .disabled
    );

    // Reset the catalog administrator's authenticator.
    let catalog_row = t
        .app
        .db
        .staff_by_username("qin.catalog")
        .await
        .unwrap()
        .unwrap();
    assert!(catalog_row.totp_secret.is_some());
    let r = admin
        .post_form(
            &format!("/admin/staff/{}/totp", catalog_row.id),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let catalog_row = t
        .app
        .db
        .staff_by_id(&catalog_row.id)
        .await
        .unwrap()
        .unwrap();
    assert!(catalog_row.totp_secret.is_none());
    // Without the token nothing happens.
    let r = admin
        .post_form(&format!("{member}/disabled"), &[("disabled", "1")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let en = admin.get_page(&format!("{member}?lang=en")).await.text();
    assert!(en.contains("Save the roles"), "{en}");
}

#[tokio::test]
async fn a_catalog_administrator_imports_a_calendar_year_and_sees_its_problems() {
    let t = TestApp::new().await;
    let (mut officer, _) = staff(
        &t,
        "ma.officer",
        StaffRole::DepartmentOfficer,
        "330100",
        Some("11330100000897962X"),
    )
    .await;
    assert_eq!(
        officer.get_page("/admin/calendar").await.status,
        StatusCode::FORBIDDEN
    );
    let mut admin = administrator(&t, "tang.catalog", StaffRole::CatalogAdministrator).await;
    let html = admin.get_page("/admin/calendar").await.text();
    assert!(html.contains("<th scope=\"row\">2026</th>"), "{html}");
    // Without scripts the schedule is pasted; the file picker only shows with them.
    assert!(html.contains("<div id=\"document-file-wrap\" hidden>"));
    let csrf = hidden(&html, "csrf_token");
    let schedule = include_str!("../../../../data/calendar/2026.json");

    // Not JSON: the problem says where.
    let r = admin
        .post_form(
            "/admin/calendar?lang=en",
            &[
                ("csrf_token", &csrf),
                ("year", "2026"),
                ("document", "{\n\"year\": 2026,\n"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    assert!(html.contains("id=\"document-error\""), "{html}");
    assert!(html.contains("href=\"#document\""));
    assert!(html.contains("line"), "{html}");
    // A day that does not exist: the problem, the document kept.
    let broken = schedule.replacen("2026-01-02", "2026-02-30", 1);
    let r = admin
        .post_form(
            "/admin/calendar",
            &[
                ("csrf_token", &csrf),
                ("year", "2026"),
                ("document", &broken),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    assert!(html.contains("id=\"document-error\""), "{html}");
    assert!(html.contains("2026-02-30"));
    let line = 1 + schedule[..schedule.find("2026-01-02").unwrap()]
        .matches('\n')
        .count();
    assert!(html.contains(&format!("第 {line} 行：")), "{html}");
    // The year must be the document's.
    let r = admin
        .post_form(
            "/admin/calendar",
            &[
                ("csrf_token", &csrf),
                ("year", "2025"),
                ("document", schedule),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = admin
        .post_form(
            "/admin/calendar",
            &[
                ("csrf_token", &csrf),
                ("year", "twenty"),
                ("document", schedule),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("id=\"year-error\""));
    // Without the token: refused.
    let r = admin
        .post_form(
            "/admin/calendar",
            &[("year", "2026"), ("document", schedule)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = admin
        .post_form(
            "/admin/calendar",
            &[
                ("csrf_token", &csrf),
                ("year", "2026"),
                ("document", schedule),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.header("location"), Some("/admin/calendar?imported=2026"));
    let html = admin.get_page("/admin/calendar?imported=2026").await.text();
    assert!(html.contains("class=\"success\""), "{html}");
}

/// Files a pending access request to the provincial social-insurance record with the
/// operator's token: its id.
async fn pending_request(t: &TestApp) -> String {
    let next_year = jiff::Zoned::now().date().year() + 1;
    let r = t
        .admin_json(
            Method::POST,
            "/api/v1/data/access-requests",
            &serde_json::json!({
                "consumer": {"kind": "item", "id": ITEM},
                "resource": "ZJ_SOCIAL_INSURANCE_RECORD",
                "fields": ["name", "status"],
                "purpose": "service-application",
                "valid_until": format!("{next_year}-12-31"),
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["status"], "pending");
    r.json()["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_data_administrator_decides_access_requests_and_revokes_grants() {
    let t = TestApp::new().await;
    let (mut officer, _) = staff(
        &t,
        "gu.officer",
        StaffRole::DepartmentOfficer,
        "330100",
        Some("11330100000897962X"),
    )
    .await;
    assert_eq!(
        officer.get_page("/admin/data").await.status,
        StatusCode::FORBIDDEN
    );
    let first = pending_request(&t).await;
    let second = pending_request(&t).await;
    // The provincial data administrator administers the provincial provider.
    let (id, password) = create_staff(
        &t,
        "jiang.data",
        "330000",
        Some("11330000045628651N"),
        &[StaffRole::DataAdministrator],
    )
    .await;
    let (secret, step) = enrol(&t, &id).await;
    let mut admin = Browser::new(&t);
    let r = sign_in(
        &mut admin,
        "jiang.data",
        &password,
        &secret.code_at_step(step + 1),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    let html = admin.get_page("/admin/data").await.text();
    assert!(
        html.contains(&format!("action=\"/admin/data/requests/{first}/decision\"")),
        "{html}"
    );
    assert!(html.contains("ZJ_SOCIAL_INSURANCE_RECORD"));
    let csrf = hidden(&html, "csrf_token");
    let decision = |id: &str| format!("/admin/data/requests/{id}/decision");

    // A rejection needs its reason, next to the request's note.
    let r = admin
        .post_form(
            &decision(&first),
            &[("csrf_token", &csrf), ("decision", "reject"), ("note", " ")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    assert!(
        html.contains(&format!("id=\"note-{first}-error\"")),
        "{html}"
    );
    assert!(html.contains(&format!("href=\"#note-{first}\"")));
    let r = admin
        .post_form(
            &decision(&first),
            &[
                ("csrf_token", &csrf),
                ("decision", "reject"),
                ("note", "用途与申请事项不符"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.header("location"), Some("/admin/data?done=rejected"));
    // Without the token: refused.
    let r = admin
        .post_form(&decision(&second), &[("decision", "approve")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = admin
        .post_form(
            &decision(&second),
            &[("csrf_token", &csrf), ("decision", "approve")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let grants = t
        .admin_json(Method::GET, "/api/v1/data/grants", &serde_json::json!(null))
        .await;
    let grant = grants.json()[0]["id"].as_str().unwrap().to_string();
    let html = admin.get_page("/admin/data?done=approved").await.text();
    assert!(
        html.contains(&format!("action=\"/admin/data/grants/{grant}/revocation\"")),
        "{html}"
    );
    assert!(
        !html.contains(&decision(&second)),
        "decided requests leave the list"
    );
    let r = admin
        .post_form(
            &format!("/admin/data/grants/{grant}/revocation"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let html = admin.get_page("/admin/data?lang=en").await.text();
    assert!(html.contains("Not in force"), "{html}");
}

#[tokio::test]
async fn a_system_administrator_sees_certificate_types_and_rotates_a_seal() {
    let t = TestApp::new().await;
    let mut catalog = administrator(&t, "lin.catalog", StaffRole::CatalogAdministrator).await;
    assert_eq!(
        catalog.get_page("/admin/certificates").await.status,
        StatusCode::FORBIDDEN
    );
    let mut admin = administrator(&t, "kong.system", StaffRole::SystemAdministrator).await;
    let html = admin.get_page("/admin/certificates").await.text();
    let types = t.get_json("/api/v1/certificate-types").await;
    let first = types[0]["code"].as_str().unwrap();
    assert!(html.contains(first), "{html}");
    assert!(html.contains("action=\"/admin/certificates/seals/PLATFORM/rotation\""));
    let csrf = hidden(&html, "csrf_token");
    let before = t
        .get_json("/api/v1/seals/PLATFORM/keys")
        .await
        .as_array()
        .unwrap()
        .len();
    let r = admin
        .post_form("/admin/certificates/seals/PLATFORM/rotation", &[])
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "the form's token is needed"
    );
    let r = admin
        .post_form(
            "/admin/certificates/seals/PLATFORM/rotation",
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let keys = t.get_json("/api/v1/seals/PLATFORM/keys").await;
    assert_eq!(keys.as_array().unwrap().len(), before + 1);
    let html = admin
        .get_page("/admin/certificates?rotated=PLATFORM&lang=en")
        .await
        .text();
    assert!(
        html.contains("A new seal key for PLATFORM is in use."),
        "{html}"
    );
    let newest = keys.as_array().unwrap().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(html.contains(&newest));
}

#[tokio::test]
async fn the_bundle_editor_shows_a_bundle_and_its_consistency_problems() {
    let t = TestApp::new().await;
    let mut admin = administrator(&t, "shi.catalog", StaffRole::CatalogAdministrator).await;
    let html = admin.get_page("/admin/bundles").await.text();
    assert!(html.contains("href=\"/admin/bundles/ZJ-BIRTH\""), "{html}");
    let action = "/admin/bundles/ZJ-BIRTH";
    let html = admin.get_page(action).await.text();
    let before = t.get_json("/api/v1/bundles/ZJ-BIRTH").await;
    let first_member = before["bundle"]["members"][0]["key"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(html.contains(&first_member), "{html}");
    assert!(html.contains("for=\"members-0-depends_on\""));
    let fields = form_fields(&html, action);

    // A dependency on a member the bundle does not have: next to the field, typed text kept.
    let mut bad = fields.clone();
    set_field(&mut bad, "members[0].depends_on", "no_such_member");
    let r = admin.post_pairs(action, &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    assert!(html.contains("id=\"members-0-depends_on-error\""), "{html}");
    assert!(html.contains("value=\"no_such_member\""));
    assert!(html.contains("href=\"#members-0-depends_on\""));
    assert_eq!(t.get_json("/api/v1/bundles/ZJ-BIRTH").await, before);

    let mut good = fields.clone();
    set_field(
        &mut good,
        "summary",
        "出生医学证明、户口登记、医保参保、社保卡一次办。",
    );
    let r = admin.post_pairs(action, &good).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let after = t.get_json("/api/v1/bundles/ZJ-BIRTH").await;
    assert_eq!(
        after["bundle"]["summary"],
        "出生医学证明、户口登记、医保参保、社保卡一次办。"
    );
    assert_eq!(after["bundle"]["members"], before["bundle"]["members"]);
}

/// How many groups of inputs named `{prefix}[N].…` the form has (counted by their keys).
fn groups(fields: &[(String, String)], prefix: &str) -> usize {
    let mut n = 0;
    while fields
        .iter()
        .any(|(k, _)| k == &format!("{prefix}[{n}].key"))
    {
        n += 1;
    }
    n
}

#[tokio::test]
async fn the_bundle_editor_keeps_every_demo_bundle_as_it_is_when_nothing_changes() {
    let t = TestApp::new().await;
    let mut admin = administrator(&t, "shi.bundles", StaffRole::CatalogAdministrator).await;
    let list = t.get_json("/api/v1/bundles").await;
    let codes: Vec<String> = list
        .as_array()
        .or_else(|| list["bundles"].as_array())
        .unwrap()
        .iter()
        .map(|b| b["code"].as_str().unwrap().to_string())
        .collect();
    assert!(codes.len() >= 10, "{codes:?}");
    for code in codes {
        let action = format!("/admin/bundles/{code}");
        let before = t.get_json(&format!("/api/v1/bundles/{code}")).await;
        let html = admin.get_page(&action).await.text();
        let fields = form_fields(&html, &action);
        let r = admin.post_pairs(&action, &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{code}: {}", r.text());
        assert!(
            r.header("location").unwrap().ends_with("&unchanged=1"),
            "{code}: the editor changed the bundle: {:?}",
            r.header("location")
        );
        assert_eq!(t.get_json(&format!("/api/v1/bundles/{code}")).await, before);
    }
}

#[tokio::test]
async fn an_administrator_edits_the_questionnaire_form_and_mapping_of_a_bundle_on_the_page() {
    let t = TestApp::new().await;
    let mut admin = administrator(&t, "shi.birth", StaffRole::CatalogAdministrator).await;
    let action = "/admin/bundles/ZJ-BIRTH";
    let api = "/api/v1/bundles/ZJ-BIRTH";
    let before = t.get_json(api).await;
    let html = admin.get_page(action).await.text();
    let fields = form_fields(&html, action);
    let first_question = before["bundle"]["questionnaire"][0]["key"]
        .as_str()
        .unwrap()
        .to_string();
    let first_answer = before["bundle"]["questionnaire"][0]["options"][0]["value"]
        .as_str()
        .unwrap()
        .to_string();
    let first_field = before["bundle"]["form"]["sections"][0]["fields"][0]["key"]
        .as_str()
        .unwrap()
        .to_string();

    // A question and a field shown only on its answer, added through the empty groups.
    let q = groups(&fields, "questionnaire") - 1;
    let f = groups(&fields, "form.sections[0].fields") - 1;
    let mut add = fields.clone();
    for (name, value) in [
        (format!("questionnaire[{q}].key"), "twins".to_string()),
        (format!("questionnaire[{q}].text"), "是否为多胞胎？".into()),
        (
            format!("questionnaire[{q}].options"),
            "yes | 是 | Yes\nno | 否 | No".into(),
        ),
        (
            format!("questionnaire[{q}].visible_when"),
            format!("{first_question} = {first_answer}"),
        ),
        (
            format!("form.sections[0].fields[{f}].key"),
            "birth_order".into(),
        ),
        (
            format!("form.sections[0].fields[{f}].label"),
            "出生顺序".into(),
        ),
        (
            format!("form.sections[0].fields[{f}].type"),
            "number".into(),
        ),
        (format!("form.sections[0].fields[{f}].min"), "1".into()),
        (format!("form.sections[0].fields[{f}].max"), "9".into()),
        (
            format!("form.sections[0].fields[{f}].visible_when"),
            format!("{first_field} filled"),
        ),
    ] {
        set_field(&mut add, &name, &value);
    }
    let r = admin.post_pairs(action, &add).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let after = t.get_json(api).await;
    let questions = after["bundle"]["questionnaire"].as_array().unwrap();
    let twins = questions.last().unwrap();
    assert_eq!(twins["key"], "twins");
    assert_eq!(twins["options"][0]["label_en"], "Yes");
    assert_eq!(
        twins["visible_when"],
        serde_json::json!({"field": first_question, "equals": first_answer})
    );
    let section = after["bundle"]["form"]["sections"][0]["fields"]
        .as_array()
        .unwrap();
    let order = section.last().unwrap();
    assert_eq!(order["key"], "birth_order");
    assert_eq!(order["type"], "number");
    assert_eq!(order["max"], 9);
    assert_eq!(
        order["visible_when"],
        serde_json::json!({"field": first_field, "filled": true})
    );
    assert_eq!(
        after["bundle"]["form"]["version"].as_u64().unwrap(),
        before["bundle"]["form"]["version"].as_u64().unwrap() + 1,
        "a changed form is a new form version"
    );

    // A condition the page cannot read, and a number that is not one: next to their inputs,
    // with what was typed kept, and nothing published.
    let html = admin.get_page(action).await.text();
    let fields = form_fields(&html, action);
    let mut bad = fields.clone();
    set_field(
        &mut bad,
        &format!("form.sections[0].fields[{f}].visible_when"),
        "twins = yes and",
    );
    // A form field shown on a question's answer: the form knows no such field.
    set_field(
        &mut bad,
        &format!("form.sections[0].fields[{}].visible_when", f - 1),
        "twins = yes",
    );
    set_field(&mut bad, &format!("form.sections[0].fields[{f}].max"), "九");
    let r = admin.post_pairs(action, &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    let id = format!("form-sections-0-fields-{f}");
    assert!(
        html.contains(&format!("id=\"{id}-visible_when-error\"")),
        "{html}"
    );
    assert!(html.contains("条件第 16 个字符处"), "{html}");
    assert!(html.contains(&format!("id=\"{id}-max-error\"")), "{html}");
    let other = format!("form-sections-0-fields-{}-visible_when", f - 1);
    assert!(html.contains(&format!("id=\"{other}-error\"")), "{html}");
    assert!(html.contains(&format!("href=\"#{id}-visible_when\"")));
    assert!(html.contains("value=\"twins = yes and\""));
    assert_eq!(t.get_json(api).await, after);

    // A mapping from a unified-form field that does not exist: the domain's problem goes next
    // to that member's mapping.
    let mut mapping = fields.clone();
    set_field(
        &mut mapping,
        "members[1].fields",
        "applicant = no_such_field",
    );
    let r = admin.post_pairs(action, &mapping).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    assert!(html.contains("id=\"members-1-fields-error\""), "{html}");
    assert!(html.contains("no_such_field"), "{html}");
    assert!(
        html.contains("value=\"applicant = no_such_field\"")
            || html.contains(">applicant = no_such_field</textarea>")
    );
    assert_eq!(t.get_json(api).await, after);

    // A save based on an older version is refused with everything typed kept.
    let mut stale = fields.clone();
    set_field(&mut stale, "base_version", "1");
    set_field(&mut stale, "summary", "旧版本上的修改");
    let r = admin.post_pairs(action, &stale).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("有人保存了此一件事"));
    assert!(r.text().contains("旧版本上的修改"));
    assert_eq!(t.get_json(api).await, after);
}
