//! Shared test support: a fresh application per test (own SQLite file in a temporary directory,
//! demo catalog loaded) behind the real router, and small helpers to send requests and read
//! answers.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use onetrip_app::App;
use onetrip_web::AppState;
use serde_json::Value;
use tower::ServiceExt;

/// The admin token every test app is configured with.
pub const ADMIN: &str = "test-admin-token";

/// The issuer (public base URL) of every test app.
pub const ISSUER: &str = "http://onetrip.test";

/// Implementation code of 住房公积金提取 (main item) in the demo catalog.
pub const HOUSING_FUND_MAIN: &str = "123301000597435545200050001000";

/// A router over a fresh application with the demo catalog.
pub struct TestApp {
    /// The router under test.
    pub router: Router,
    /// The application behind it (for cross-checks).
    pub app: App,
    /// Its database URL (to open it again, as after a restart).
    pub db_url: String,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// Fresh app, demo loaded, admin token [`ADMIN`].
    pub async fn new() -> TestApp {
        TestApp::with_token(Some(ADMIN)).await
    }

    /// Fresh app, demo loaded, with the given admin token (None: writes disabled).
    pub async fn with_token(token: Option<&str>) -> TestApp {
        TestApp::build(token, true).await
    }

    /// Fresh app with the given admin token, with or without the demo catalog.
    pub async fn build(token: Option<&str>, demo: bool) -> TestApp {
        TestApp::build_at(token, demo, ISSUER, |app| app).await
    }

    /// Fresh app at `issuer` (its public base URL), with the given admin token, with or
    /// without the demo catalog, changed by `configure` before the router is built.
    pub async fn build_at(
        token: Option<&str>,
        demo: bool,
        issuer: &str,
        configure: impl FnOnce(App) -> App,
    ) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("x.db").display());
        let app = configure(
            App::connect(&url)
                .await
                .expect("connect")
                .with_issuer(issuer),
        );
        if demo {
            let loaded = app
                .load_demo_if_empty(jiff::Timestamp::now())
                .await
                .expect("demo loads");
            assert!(loaded, "a fresh database must get the demo catalog");
        }
        let router = onetrip_web::router(AppState::new(
            app.clone(),
            token.map(|t| secrecy::SecretString::from(t.to_string())),
        ));
        TestApp {
            router,
            app,
            db_url: url,
            _dir: dir,
        }
    }

    /// Sends one request through the router.
    pub async fn send(&self, request: Request<Body>) -> Resp {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }

    /// `GET uri` without credentials.
    pub async fn get(&self, uri: &str) -> Resp {
        self.send(req(Method::GET, uri).body(Body::empty()).unwrap())
            .await
    }

    /// `GET uri` expecting 200 JSON; returns the body.
    pub async fn get_json(&self, uri: &str) -> Value {
        let r = self.get(uri).await;
        assert_eq!(r.status, StatusCode::OK, "GET {uri}: {}", r.text());
        r.json()
    }

    /// A write (`PUT`/`POST`) of a JSON body with the admin token.
    pub async fn admin_json(&self, method: Method, uri: &str, body: &Value) -> Resp {
        self.send(
            req(method, uri)
                .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(serde_json::to_vec(body).unwrap()))
                .unwrap(),
        )
        .await
    }

    /// A write of raw bytes with the admin token and a content type.
    pub async fn admin_raw(
        &self,
        method: Method,
        uri: &str,
        content_type: &str,
        body: impl Into<Body>,
    ) -> Resp {
        self.send(
            req(method, uri)
                .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
                .header(header::CONTENT_TYPE, content_type)
                .body(body.into())
                .unwrap(),
        )
        .await
    }

    /// The item document (the `item` member) of the current version.
    pub async fn item_doc(&self, code: &str) -> Value {
        self.get_json(&format!("/api/v1/items/{code}")).await["item"].clone()
    }

    /// The catalog export as JSON.
    pub async fn export(&self) -> Value {
        self.get_json("/api/v1/catalog/export").await
    }

    /// Implementation codes of the first item named exactly `name` found by searching `q`.
    pub async fn find_code(&self, q: &str, name: &str) -> String {
        let page = self
            .get_json(&format!("/api/v1/items?q={}&limit=100", enc(q)))
            .await;
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == name)
            .unwrap_or_else(|| panic!("searching {q} finds no item named {name}: {page}"))
            ["implementation_code"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

/// A request builder with method and uri.
pub fn req(method: Method, uri: &str) -> axum::http::request::Builder {
    Request::builder().method(method).uri(uri)
}

/// Percent-encodes a query or path value (UTF-8, everything but unreserved characters).
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An answer, read to the end.
#[derive(Debug)]
pub struct Resp {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Resp {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (panics with the text when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem response with this status and code; returns the problem body.
    #[track_caller]
    pub fn problem(&self, status: StatusCode, code: &str) -> Value {
        assert_eq!(self.status, status, "body: {}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "problem content type"
        );
        let p = self.json();
        assert_eq!(p["code"], code, "problem: {p}");
        assert_eq!(p["status"], status.as_u16(), "problem: {p}");
        assert_eq!(p["type"], format!("urn:onetrip:problem:{code}"));
        let zh = p["message_zh"].as_str().unwrap_or_default();
        let en = p["message_en"].as_str().unwrap_or_default();
        assert!(!zh.is_empty() && !en.is_empty(), "both messages: {p}");
        assert!(
            zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "message_zh is Chinese: {zh}"
        );
        assert!(
            en.chars().any(|c| c.is_ascii_alphabetic()) && zh != en,
            "message_en is English: {en}"
        );
        p
    }

    /// The `(path, code)` pairs of a problem's `errors`.
    pub fn field_errors(&self) -> Vec<(String, String)> {
        self.json()["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        assert!(
                            e["message_zh"].as_str().is_some_and(|s| !s.is_empty())
                                && e["message_en"].as_str().is_some_and(|s| !s.is_empty()),
                            "field error has both messages: {e}"
                        );
                        (
                            e["path"].as_str().unwrap().to_string(),
                            e["code"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Asserts that `errors` contains `(path, code)`.
#[track_caller]
pub fn assert_has(errors: &[(String, String)], path: &str, code: &str) {
    assert!(
        errors.iter().any(|(p, c)| p == path && c == code),
        "expected {code} at {path} among {errors:?}"
    );
}

/// A browser: keeps the session cookie between requests, like a user agent.
pub struct Browser<'a> {
    /// The app browsed.
    pub t: &'a TestApp,
    /// The session cookie value, once set.
    pub cookie: Option<String>,
}

impl<'a> Browser<'a> {
    /// A browser without cookies.
    pub fn new(t: &'a TestApp) -> Self {
        Browser { t, cookie: None }
    }

    /// Sends a request with the cookie; stores a new cookie (or its removal).
    pub async fn send(&mut self, mut builder: axum::http::request::Builder, body: Body) -> Resp {
        if let Some(c) = &self.cookie {
            builder = builder.header(header::COOKIE, format!("onetrip_sid={c}"));
        }
        let r = self.t.send(builder.body(body).unwrap()).await;
        for set in r.headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            if let Some(rest) = set.strip_prefix("onetrip_sid=") {
                let value = rest.split(';').next().unwrap_or_default();
                let expired = set.contains("Max-Age=0") || value.is_empty();
                self.cookie = if expired {
                    None
                } else {
                    Some(value.to_string())
                };
            }
        }
        r
    }

    /// `GET uri`.
    pub async fn get(&mut self, uri: &str) -> Resp {
        self.send(req(Method::GET, uri), Body::empty()).await
    }

    /// `GET uri` as a browser navigating to a page (`Accept: text/html`), so that problems
    /// come back as pages and sign-in as a redirect.
    pub async fn get_page(&mut self, uri: &str) -> Resp {
        self.send(
            req(Method::GET, uri).header(header::ACCEPT, "text/html,application/xhtml+xml"),
            Body::empty(),
        )
        .await
    }

    /// `POST uri` with a form.
    pub async fn post_form(&mut self, uri: &str, form: &[(&str, &str)]) -> Resp {
        let body = serde_urlencoded::to_string(form).unwrap();
        self.send(
            req(Method::POST, uri)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
            Body::from(body),
        )
        .await
    }

    /// `POST uri` with the pairs of a form, in order.
    pub async fn post_pairs(&mut self, uri: &str, pairs: &[(String, String)]) -> Resp {
        let body = serde_urlencoded::to_string(pairs).unwrap();
        self.send(
            req(Method::POST, uri)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
            Body::from(body),
        )
        .await
    }

    /// A JSON request; `csrf` is sent as `X-CSRF-Token` when given.
    pub async fn json(
        &mut self,
        method: Method,
        uri: &str,
        body: &Value,
        csrf: Option<&str>,
    ) -> Resp {
        let mut b = req(method, uri).header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = csrf {
            b = b.header("x-csrf-token", token);
        }
        self.send(b, Body::from(serde_json::to_vec(body).unwrap()))
            .await
    }
}

/// The value of a hidden input `name` in an HTML page.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    // Undo the HTML escaping, as a browser does.
    html[start..end]
        .replace("&#38;", "&")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The six-digit code of the latest text message to `phone`.
pub async fn latest_code(app: &App, phone: &str) -> String {
    let messages = app.db.sms_messages(phone).await.unwrap();
    messages[0]
        .body
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect()
}

/// A demo-registry person (in data/demo/population.json) with a password.
pub const PERSON_RID: &str = "330102198503140138";
/// Their name in the registry.
pub const PERSON_NAME: &str = "陈志明";
/// Their phone.
pub const PERSON_PHONE: &str = "13800138000";
/// Their password.
pub const PERSON_PASSWORD: &str = "Lianhua-Qiao7#";

impl TestApp {
    /// [`TestApp::registered`], then the real-name check (L2) the applications need.
    pub async fn real_named(&self, rid: &str, name: &str, phone: &str) -> (Browser<'_>, String) {
        let (mut b, csrf) = self.registered(rid, name, phone).await;
        let r = b
            .json(
                Method::POST,
                "/api/v1/me/real-name",
                &serde_json::json!({}),
                Some(&csrf),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        (b, csrf)
    }

    /// Registers a person through the API (code, then registration) and returns a browser
    /// signed in as them, with the session's CSRF token.
    pub async fn registered(&self, rid: &str, name: &str, phone: &str) -> (Browser<'_>, String) {
        let mut b = Browser::new(self);
        let r = b
            .json(
                Method::POST,
                "/api/v1/sms-codes",
                &serde_json::json!({"phone": phone, "purpose": "register"}),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
        let code = latest_code(&self.app, phone).await;
        let r = b
            .json(
                Method::POST,
                "/api/v1/persons",
                &serde_json::json!({"resident_id": rid, "name": name, "phone": phone, "password": PERSON_PASSWORD, "sms_code": code}),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let csrf = r.json()["csrf_token"].as_str().unwrap().to_string();
        (b, csrf)
    }
}

/// The value of attribute `name` in one HTML tag's text, unescaped.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

fn unescape(s: &str) -> String {
    s.replace("&#38;", "&")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// What a browser would post for the first `<form>` whose action is `action` in `html`:
/// hidden and text inputs with their values, checked radios and checkboxes, the selected
/// option of each select, and textareas (buttons are left out).
pub fn form_fields(html: &str, action: &str) -> Vec<(String, String)> {
    let start = html
        .find(&format!("action=\"{action}\""))
        .unwrap_or_else(|| panic!("no form posting to {action}"));
    let end = html[start..].find("</form>").unwrap() + start;
    let form = &html[start..end];
    let mut out = Vec::new();
    let mut rest = form;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        let close = rest.find('>').unwrap();
        let tag = &rest[..=close];
        if tag.starts_with("<input") {
            let kind = attribute(tag, "type").unwrap_or_else(|| "text".into());
            let name = attribute(tag, "name");
            let value = attribute(tag, "value").unwrap_or_default();
            let checkable = kind == "radio" || kind == "checkbox";
            if let Some(name) = name
                && (!checkable || tag.contains(" checked"))
            {
                out.push((name, value));
            }
        } else if tag.starts_with("<select") {
            let name = attribute(tag, "name").unwrap_or_default();
            let end = rest.find("</select>").unwrap();
            let options = &rest[..end];
            let selected = options
                .split("<option")
                .skip(1)
                .find(|o| o.contains(" selected"))
                .and_then(|o| attribute(o, "value"))
                .unwrap_or_default();
            out.push((name, selected));
        } else if tag.starts_with("<textarea") {
            let name = attribute(tag, "name").unwrap_or_default();
            let end = rest.find("</textarea>").unwrap();
            out.push((name, unescape(&rest[close + 1..end])));
        }
        rest = &rest[close + 1..];
    }
    out
}

/// Sets `name` to `value` in posted pairs (replacing what was there).
pub fn set_field(fields: &mut Vec<(String, String)>, name: &str, value: &str) {
    fields.retain(|(k, _)| k != name);
    fields.push((name.to_string(), value.to_string()));
}

/// Creates a member of staff (name 王窗口) holding `roles` in `division`; department roles are
/// held in `department` (default: the city health commission): (id, initial password).
pub async fn create_staff(
    t: &TestApp,
    username: &str,
    division: &str,
    department: Option<&str>,
    roles: &[onetrip_domain::identity::StaffRole],
) -> (onetrip_domain::identity::AccountId, String) {
    use onetrip_domain::identity::StaffRole;
    let department = department.unwrap_or("11330100000897962X");
    let created = t
        .app
        .create_staff(
            &onetrip_app::staff::Granter::Bootstrap,
            onetrip_app::staff::NewStaffInput {
                username: username.into(),
                name: "王窗口".into(),
                department_code: department.into(),
                division_code: division.into(),
                roles: roles
                    .iter()
                    .map(|r| onetrip_domain::identity::RoleGrant {
                        role: *r,
                        division: onetrip_domain::identifiers::DivisionCode::parse(division)
                            .unwrap(),
                        department: matches!(
                            r,
                            StaffRole::DepartmentOfficer | StaffRole::DepartmentHead
                        )
                        .then(|| department.to_string()),
                    })
                    .collect(),
            },
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
    (
        created.id.clone(),
        secrecy::ExposeSecret::expose_secret(&created.initial_password).to_string(),
    )
}

/// Signs in on the staff sign-in page with the page's CSRF token.
pub async fn staff_page_sign_in(
    b: &mut Browser<'_>,
    username: &str,
    password: &str,
    totp: Option<&str>,
) -> Resp {
    let csrf = hidden(&b.get_page("/staff/sign-in").await.text(), "csrf_token");
    let mut form = vec![
        ("csrf_token", csrf.as_str()),
        ("username", username),
        ("password", password),
    ];
    if let Some(code) = totp {
        form.push(("totp", code));
    }
    b.post_form("/staff/sign-in", &form).await
}

/// A member of staff created with one role and signed in through the API: (browser, CSRF
/// token). The department defaults to the city health commission.
pub async fn staff<'a>(
    t: &'a TestApp,
    username: &str,
    role: onetrip_domain::identity::StaffRole,
    division: &str,
    department: Option<&str>,
) -> (Browser<'a>, String) {
    let (_, password) = create_staff(t, username, division, department, &[role]).await;
    let body = serde_json::json!({ "username": username, "password": password });
    let mut b = Browser::new(t);
    let r = b
        .json(Method::POST, "/api/v1/staff/session", &body, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let csrf = r.json()["csrf_token"].as_str().unwrap().to_string();
    (b, csrf)
}

/// The boundary of the test's `multipart/form-data` bodies.
pub const BOUNDARY: &str = "----onetrip-test-boundary";

/// A `multipart/form-data` body of text parts, then file parts (part name, file name, content).
pub fn multipart_body(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (part, file_name, content) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{part}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Posts a `multipart/form-data` body (with `X-CSRF-Token` when given).
pub async fn post_multipart(
    b: &mut Browser<'_>,
    uri: &str,
    csrf: Option<&str>,
    body: Vec<u8>,
) -> Resp {
    let mut builder = req(Method::POST, uri).header(
        header::CONTENT_TYPE,
        format!("multipart/form-data; boundary={BOUNDARY}"),
    );
    if let Some(token) = csrf {
        builder = builder.header("x-csrf-token", token);
    }
    b.send(builder, Body::from(body)).await
}

/// The `Location` of a redirect (empty when there is none).
pub fn location(r: &Resp) -> String {
    r.header("location").unwrap_or_default().to_string()
}

/// A small but real-looking PDF.
pub fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {text}\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n").into_bytes()
}

/// A `multipart/form-data` body of text parts, then the file part `file` when given.
pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let files: Vec<(&str, &str, &[u8])> = file.into_iter().map(|(n, c)| ("file", n, c)).collect();
    multipart_body(fields, &files)
}

/// Uploads a file through the API as the signed-in `b`.
pub async fn upload(b: &mut Browser<'_>, csrf: &str, name: &str, content: &[u8]) -> Resp {
    post_multipart(
        b,
        "/api/v1/uploads",
        Some(csrf),
        multipart(&[], Some((name, content))),
    )
    .await
}
