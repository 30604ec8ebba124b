//! The staff entrance (issue 6): the staff sign-in page with its problems next to the fields,
//! the authenticator code asked for administrators, and the workbench home listing the places
//! the roles held open.

use axum::http::StatusCode;
use jiff::Timestamp;
use onetrip_domain::identity::{StaffRole, TOTP_STEP_SECS, TotpSecret};

use crate::common::*;

#[tokio::test]
async fn staff_sign_in_on_the_page_leads_to_the_workbench() {
    let t = TestApp::new().await;
    let (_, password) =
        create_staff(&t, "wang.clerk", "330106", None, &[StaffRole::WindowClerk]).await;
    let mut b = Browser::new(&t);
    // The workbench needs a signed-in member of staff; browsers are sent to sign in.
    let r = b.get_page("/staff").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.header("location"), Some("/staff/sign-in?next=%2Fstaff"));
    let page = b.get_page("/staff/sign-in?next=/staff").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("工作人员登录"), "{html}");
    assert!(html.contains("<label for=\"username\">"));
    let csrf = hidden(&html, "csrf_token");

    // Without the form's token: refused, nothing signed in.
    let r = b
        .post_form(
            "/staff/sign-in",
            &[("username", "wang.clerk"), ("password", &password)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // A wrong password: the problem next to the user name, the name kept.
    let r = b
        .post_form(
            "/staff/sign-in",
            &[
                ("csrf_token", &csrf),
                ("next", "/staff"),
                ("username", "wang.clerk"),
                ("password", "wrong-password"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("href=\"#username\""), "{html}");
    assert!(html.contains("id=\"username-error\""));
    assert!(html.contains("value=\"wang.clerk\""));

    let r = b
        .post_form(
            "/staff/sign-in",
            &[
                ("csrf_token", &csrf),
                ("next", "/staff"),
                ("username", "wang.clerk"),
                ("password", &password),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.header("location"), Some("/staff"));
    let home = b.get_page("/staff").await;
    assert_eq!(home.status, StatusCode::OK);
    let html = home.text();
    assert!(html.contains("王窗口"));
    assert!(html.contains("href=\"/counter\""), "{html}");
    assert!(!html.contains("href=\"/work/queue\""));
    assert!(
        html.contains("href=\"/staff\""),
        "the header links the workbench"
    );
    let en = b.get_page("/staff?lang=en").await.text();
    assert!(en.contains("Service window"), "{en}");
}

#[tokio::test]
async fn an_administrator_without_an_authenticator_is_told_to_enrol() {
    let t = TestApp::new().await;
    let (_, password) = create_staff(
        &t,
        "li.admin",
        "330106",
        None,
        &[
            StaffRole::CatalogAdministrator,
            StaffRole::DepartmentOfficer,
        ],
    )
    .await;
    let mut b = Browser::new(&t);
    let r = staff_page_sign_in(&mut b, "li.admin", &password, None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let html = b.get_page("/staff").await.text();
    // The officer role works; the catalog role waits for the authenticator.
    assert!(html.contains("href=\"/work/queue\""), "{html}");
    assert!(!html.contains("href=\"/admin/catalog\""));
    assert!(html.contains("身份验证器"));
}

#[tokio::test]
async fn an_enrolled_administrator_is_asked_for_the_code_on_the_page() {
    let t = TestApp::new().await;
    let (id, password) = create_staff(
        &t,
        "zhao.admin",
        "330106",
        None,
        &[StaffRole::CatalogAdministrator],
    )
    .await;
    let e = t.app.begin_totp_enrolment(&id).await.unwrap();
    let secret = TotpSecret::from_base32(&e.secret_base32).unwrap();
    let step = Timestamp::now().as_second() / TOTP_STEP_SECS;
    t.app
        .confirm_totp_enrolment(
            &id,
            &e.secret_base32,
            &secret.code_at_step(step),
            Timestamp::now(),
        )
        .await
        .unwrap();
    let mut b = Browser::new(&t);
    let r = staff_page_sign_in(&mut b, "zhao.admin", &password, None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(
        html.contains("id=\"totp\""),
        "the code is asked for: {html}"
    );
    assert!(html.contains("href=\"#totp\""));
    let code = secret.code_at_step(step + 1);
    let r = staff_page_sign_in(&mut b, "zhao.admin", &password, Some(&code)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let html = b.get_page("/staff").await.text();
    assert!(html.contains("href=\"/admin/catalog\""), "{html}");
}
