//! The server-rendered pages of sign-in and registration: they work without JavaScript, show
//! errors next to their fields and in a summary, and refuse posts without the session's CSRF
//! token.

use axum::http::StatusCode;

use crate::common::*;

#[tokio::test]
async fn a_person_registers_on_the_page_then_signs_in() {
    let t = TestApp::new().await;
    let mut b = Browser::new(&t);
    let page = b.get("/register?next=/api/v1/me").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("<html lang=\"zh-CN\">") && html.contains("注册个人账号"));
    for field in ["name", "resident_id", "phone", "sms_code", "password"] {
        assert!(
            html.contains(&format!("<label for=\"{field}\"")),
            "label for {field}"
        );
    }
    let csrf = hidden(&html, "csrf_token");
    // Without the CSRF token: refused, nothing sent.
    let r = b
        .post_form(
            "/register",
            &[("action", "send_code"), ("phone", PERSON_PHONE)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        t.app
            .db
            .sms_messages(PERSON_PHONE)
            .await
            .unwrap()
            .is_empty()
    );
    let r = b
        .post_form(
            "/register",
            &[
                ("csrf_token", &csrf),
                ("next", "/api/v1/me"),
                ("action", "send_code"),
                ("phone", PERSON_PHONE),
                ("name", PERSON_NAME),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("验证码已发送"));
    assert!(
        r.text().contains(&format!("value=\"{PERSON_NAME}\"")),
        "typed values are kept"
    );
    let code = latest_code(&t.app, PERSON_PHONE).await;
    // Every problem at once, next to its field and in the summary.
    let r = b
        .post_form(
            "/register",
            &[
                ("csrf_token", &csrf),
                ("next", "/api/v1/me"),
                ("action", "register"),
                ("name", ""),
                ("resident_id", "330102198503140139"),
                ("phone", PERSON_PHONE),
                ("sms_code", &code),
                ("password", "123456"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("id=\"error-summary\""));
    for field in ["name", "resident_id", "password"] {
        assert!(
            html.contains(&format!("id=\"{field}-error\"")),
            "error next to {field}: {html}"
        );
        assert!(
            html.contains(&format!("href=\"#{field}\"")),
            "summary links to {field}"
        );
    }
    // Right this time: signed in and sent on.
    let r = b
        .post_form(
            "/register",
            &[
                ("csrf_token", &csrf),
                ("next", "/api/v1/me"),
                ("action", "register"),
                ("name", PERSON_NAME),
                ("resident_id", PERSON_RID),
                ("phone", PERSON_PHONE),
                ("sms_code", &code),
                ("password", PERSON_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.header("location"), Some("/api/v1/me"));
    assert_eq!(b.get("/api/v1/me").await.json()["name"], PERSON_NAME);

    // Sign out and in again on the sign-in page, in English.
    b.cookie = None;
    let page = b.get("/sign-in?lang=en").await;
    let html = page.text();
    assert!(html.contains("<html lang=\"en\">") && html.contains("Sign in to onetrip"));
    let csrf = hidden(&html, "csrf_token");
    let r = b
        .post_form(
            "/sign-in?lang=en",
            &[
                ("csrf_token", &csrf),
                ("next", "/"),
                ("method", "password"),
                ("login", PERSON_PHONE),
                ("password", "Wrong-Pass-123"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("id=\"login-error\""));
    let r = b
        .post_form(
            "/sign-in",
            &[
                ("csrf_token", &csrf),
                ("next", "https://evil.example/"),
                ("method", "password"),
                ("login", PERSON_PHONE),
                ("password", PERSON_PASSWORD),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.header("location"),
        Some("/"),
        "never sent to another site"
    );
}

#[tokio::test]
async fn the_sandbox_inbox_is_served_in_demo_mode_only() {
    let t = TestApp::new().await;
    t.get(&format!("/dev/sms?phone={PERSON_PHONE}"))
        .await
        .problem(StatusCode::NOT_FOUND, "no_such_route");
    let mut state = onetrip_web::AppState::new(t.app.clone(), None);
    state.dev_pages = true;
    let demo = onetrip_web::router(state);
    t.app
        .send_code(
            onetrip_app::otp::CodePurpose::Register,
            PERSON_PHONE,
            jiff::Timestamp::now(),
            424_242,
        )
        .await
        .unwrap();
    let r = tower::ServiceExt::oneshot(
        demo,
        req(
            axum::http::Method::GET,
            &format!("/dev/sms?phone={PERSON_PHONE}"),
        )
        .body(axum::body::Body::empty())
        .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body = http_body_util::BodyExt::collect(r.into_body())
        .await
        .unwrap()
        .to_bytes();
    let html = String::from_utf8_lossy(&body);
    assert!(html.contains("424242"), "{html}");
}

#[tokio::test]
async fn the_language_switch_persists_in_a_cookie() {
    let t = TestApp::new().await;
    let r = t.get("/sign-in?lang=en").await;
    let set = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("onetrip_lang="))
        .expect("language cookie");
    assert!(
        set.starts_with("onetrip_lang=en;") && set.contains("Path=/"),
        "{set}"
    );
    // Later pages and API problems follow the cookie, without ?lang.
    let page = t
        .send(
            req(axum::http::Method::GET, "/register")
                .header("cookie", "onetrip_lang=en")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert!(page.text().contains("<html lang=\"en\">"));
    let problem = t
        .send(
            req(axum::http::Method::GET, "/api/v1/me")
                .header("cookie", "onetrip_lang=en")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    let title = problem.json()["title"].as_str().unwrap().to_string();
    assert!(title.starts_with("Sign in"), "{title}");
    // Switching back to Chinese wins over an English browser.
    let page = t
        .send(
            req(axum::http::Method::GET, "/sign-in?lang=zh")
                .header("accept-language", "en-GB")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert!(page.text().contains("<html lang=\"zh-CN\">"));
}
