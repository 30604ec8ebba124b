//! Staff administration and staff sign-in with TOTP on SQLite.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::IpAddr;

use jiff::{SignedDuration, Timestamp};
use onetrip_app::staff::{CreatedStaff, Granter, NewStaffInput, StaffSignIn};
use onetrip_app::{App, AppError};
use onetrip_domain::Localized;
use onetrip_domain::identifiers::DivisionCode;
use onetrip_domain::identity::{
    AccountId, AccountKind, RoleGrant, StaffRole, TOTP_STEP_SECS, TotpSecret,
};
use secrecy::{ExposeSecret, SecretString};

/// A 杭州市 department of the demo catalog.
const HZ_DEPT: &str = "11330100074363357G";
/// A 西湖区 department of the demo catalog.
const XIHU_DEPT: &str = "11330106086703320Q";
/// A 宁海县 (宁波市) department of the demo catalog.
const NINGHAI_DEPT: &str = "11330226064980976K";

fn now() -> Timestamp {
    // The start of a TOTP step, so that `now + k steps` are distinct steps.
    let t: Timestamp = "2026-11-21T02:00:00Z".parse().unwrap();
    assert_eq!(t.as_second() % TOTP_STEP_SECS, 0);
    t
}

fn after(secs: i64) -> Timestamp {
    now() + SignedDuration::from_secs(secs)
}

fn ip() -> Option<IpAddr> {
    Some("198.51.100.20".parse().unwrap())
}

async fn app() -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let app = App::connect(&url).await.unwrap();
    app.load_demo_if_empty(now()).await.unwrap();
    (dir, app)
}

fn grant(role: StaffRole, division: &str, department: Option<&str>) -> RoleGrant {
    RoleGrant {
        role,
        division: DivisionCode::parse(division).unwrap(),
        department: department.map(str::to_string),
    }
}

fn input(username: &str, department: &str, division: &str, roles: Vec<RoleGrant>) -> NewStaffInput {
    NewStaffInput {
        username: username.to_string(),
        name: "工作人员".to_string(),
        department_code: department.to_string(),
        division_code: division.to_string(),
        roles,
    }
}

fn problems(e: AppError) -> Vec<(String, &'static str)> {
    match e {
        AppError::Rejected(p) => p.into_iter().map(|p| (p.path, p.code)).collect(),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

/// The code of the authenticator for `secret` at `at`.
fn totp_code(secret: &TotpSecret, at: Timestamp) -> String {
    secret.code_at_step(at.as_second() / TOTP_STEP_SECS)
}

/// A code that is none of the codes accepted around `at`.
fn wrong_code(secret: &TotpSecret, at: Timestamp) -> String {
    let step = at.as_second() / TOTP_STEP_SECS;
    let near: Vec<String> = (step - 1..=step + 1)
        .map(|s| secret.code_at_step(s))
        .collect();
    (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| !near.contains(c))
        .unwrap()
}

/// Creates the Hangzhou system administrator with the bootstrap granter and enrols their
/// authenticator; returns the account, its password and its TOTP secret.
async fn city_admin(app: &App) -> (AccountId, SecretString, TotpSecret) {
    let CreatedStaff {
        id,
        initial_password,
    } = app
        .create_staff(
            &Granter::Bootstrap,
            input(
                " HZ.Admin ",
                HZ_DEPT,
                "330100",
                vec![grant(StaffRole::SystemAdministrator, "330100", None)],
            ),
            now(),
        )
        .await
        .unwrap();
    let enrolment = app.begin_totp_enrolment(&id).await.unwrap();
    assert!(
        enrolment
            .provisioning_uri
            .starts_with("otpauth://totp/onetrip:hz.admin?secret=")
    );
    let secret = TotpSecret::from_base32(&enrolment.secret_base32).unwrap();
    app.confirm_totp_enrolment(
        &id,
        &enrolment.secret_base32,
        &totp_code(&secret, now()),
        now(),
    )
    .await
    .unwrap();
    (id, initial_password, secret)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_system_administrator_needs_totp() {
    let (_dir, app) = app().await;
    let created = app
        .create_staff(
            &Granter::Bootstrap,
            input(
                "hz.admin",
                HZ_DEPT,
                "330100",
                vec![grant(StaffRole::SystemAdministrator, "330100", None)],
            ),
            now(),
        )
        .await
        .unwrap();
    let password = created.initial_password.clone();
    assert_eq!(password.expose_secret().len(), 16);
    let stored = app
        .db
        .staff_by_id(created.id.as_str())
        .await
        .unwrap()
        .unwrap();
    assert!(stored.password_hash.unwrap().starts_with("$argon2id$"));

    // Right password, no authenticator yet: enrolment only.
    let outcome = app
        .sign_in_staff("hz.admin", &password, None, ip(), now())
        .await
        .unwrap();
    assert_eq!(
        outcome,
        StaffSignIn::TotpEnrolmentRequired {
            staff_id: created.id.clone()
        }
    );

    // Enrolment: a wrong code stores nothing; the right one stores the secret.
    let enrolment = app.begin_totp_enrolment(&created.id).await.unwrap();
    assert!(!format!("{enrolment:?}").contains(&enrolment.secret_base32));
    let secret = TotpSecret::from_base32(&enrolment.secret_base32).unwrap();
    let e = app
        .confirm_totp_enrolment(
            &created.id,
            &enrolment.secret_base32,
            &wrong_code(&secret, now()),
            now(),
        )
        .await
        .unwrap_err();
    assert_eq!(problems(e), vec![("code".to_string(), "totp_wrong")]);
    assert!(
        app.db
            .staff_by_id(created.id.as_str())
            .await
            .unwrap()
            .unwrap()
            .totp_secret
            .is_none()
    );
    app.confirm_totp_enrolment(
        &created.id,
        &enrolment.secret_base32,
        &totp_code(&secret, now()),
        now(),
    )
    .await
    .unwrap();
    // A second enrolment (which would replace the second factor) is refused.
    let e = app.begin_totp_enrolment(&created.id).await.unwrap_err();
    assert_eq!(e.code(), "totp_already_enrolled");

    // Password only: a code is required.
    let outcome = app
        .sign_in_staff("hz.admin", &password, None, ip(), after(30))
        .await
        .unwrap();
    assert_eq!(outcome, StaffSignIn::TotpRequired);
    // The enrolment code's step is spent.
    let e = app
        .sign_in_staff(
            "hz.admin",
            &password,
            Some(&totp_code(&secret, now())),
            ip(),
            after(30),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "totp_replayed");
    // A wrong code is refused as such.
    let e = app
        .sign_in_staff(
            "hz.admin",
            &password,
            Some(&wrong_code(&secret, after(30))),
            ip(),
            after(30),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "totp_wrong");
    assert!(matches!(e, AppError::Refused { .. }));
    // The right code signs in.
    let code = totp_code(&secret, after(30));
    let StaffSignIn::SignedIn(session) = app
        .sign_in_staff("HZ.Admin", &password, Some(&code), ip(), after(30))
        .await
        .unwrap()
    else {
        panic!("not signed in");
    };
    assert!(session.totp_verified);
    assert_eq!(session.id, created.id);
    assert_eq!(session.division_code, "330100");
    assert_eq!(
        session.roles,
        vec![grant(StaffRole::SystemAdministrator, "330100", None)]
    );
    // The same code again is a replay.
    let e = app
        .sign_in_staff("hz.admin", &password, Some(&code), ip(), after(31))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "totp_replayed");
    // A wrong password with a right code says nothing about the code.
    let e = app
        .sign_in_staff(
            "hz.admin",
            &SecretString::from("not-the-password".to_string()),
            Some(&totp_code(&secret, after(60))),
            ip(),
            after(60),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::SignInFailed));

    // Every attempt is in the sign-in history, as staff, with the login digest.
    let history = app.recent_sign_ins(&created.id, 20).await.unwrap();
    assert_eq!(history.len(), 7);
    assert!(history.iter().all(|e| e.account_kind == AccountKind::Staff
        && e.login_digest.is_some()
        && e.ip.as_deref() == Some("198.51.100.20")));
    let methods: Vec<(&str, bool)> = history
        .iter()
        .map(|e| (e.method.as_str(), e.succeeded))
        .collect();
    assert_eq!(
        methods,
        vec![
            ("password", false),
            ("totp", false),
            ("totp", true),
            ("totp", false),
            ("totp", false),
            ("password", true),
            ("password", true),
        ]
    );
    let events = app
        .db
        .recent_auth_events(created.id.as_str(), 20)
        .await
        .unwrap();
    for kind in ["staff_created", "role_change", "totp_enrolled"] {
        assert!(events.iter().any(|e| e.kind == kind), "{kind}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_creates_staff_within_their_own_subtree_only() {
    let (_dir, app) = app().await;
    let (admin, _, _) = city_admin(&app).await;
    let granter = Granter::Staff(admin.clone());

    // An officer of a 西湖区 department: within 杭州市.
    let officer = app
        .create_staff(
            &granter,
            input(
                "xihu.officer",
                XIHU_DEPT,
                "330106",
                vec![grant(
                    StaffRole::DepartmentOfficer,
                    "330106",
                    Some(XIHU_DEPT),
                )],
            ),
            now(),
        )
        .await
        .unwrap();
    // An officer role needs no TOTP: signed in with the password alone.
    let StaffSignIn::SignedIn(session) = app
        .sign_in_staff("xihu.officer", &officer.initial_password, None, ip(), now())
        .await
        .unwrap()
    else {
        panic!("not signed in");
    };
    assert!(!session.totp_verified);
    assert_eq!(session.department_code, XIHU_DEPT);
    let events = app
        .db
        .recent_auth_events(officer.id.as_str(), 10)
        .await
        .unwrap();
    let change = events.iter().find(|e| e.kind == "role_change").unwrap();
    let detail: serde_json::Value =
        serde_json::from_str(change.detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["by"], admin.as_str());
    assert_eq!(detail["new"][0]["role"], "department_officer");

    // Outside 杭州市 (宁海县, 宁波市): refused, for the roles and for the staff member.
    let e = app
        .create_staff(
            &granter,
            input(
                "ninghai.officer",
                NINGHAI_DEPT,
                "330226",
                vec![grant(
                    StaffRole::DepartmentOfficer,
                    "330226",
                    Some(NINGHAI_DEPT),
                )],
            ),
            now(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        problems(e),
        vec![
            ("division_code".to_string(), "staff_outside_scope"),
            ("roles[0]".to_string(), "staff_role_outside_scope"),
        ]
    );
    // Nor the province.
    let e = app
        .create_staff(
            &granter,
            input(
                "zj.admin",
                HZ_DEPT,
                "330100",
                vec![grant(StaffRole::SystemAdministrator, "330000", None)],
            ),
            now(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        problems(e),
        vec![("roles[0]".to_string(), "staff_role_outside_scope")]
    );
    assert!(
        app.db
            .staff_by_username("zj.admin")
            .await
            .unwrap()
            .is_none()
    );

    // Input problems are all listed.
    let e = app
        .create_staff(
            &granter,
            NewStaffInput {
                username: "x".to_string(),
                name: " ".to_string(),
                department_code: "11330100NOSUCHDEPT".to_string(),
                division_code: "33010".to_string(),
                roles: vec![
                    grant(StaffRole::DepartmentOfficer, "330106", None),
                    grant(StaffRole::WindowClerk, "330106", Some(XIHU_DEPT)),
                ],
            },
            now(),
        )
        .await
        .unwrap_err();
    let found = problems(e);
    let paths: Vec<(&str, &str)> = found.iter().map(|(p, c)| (p.as_str(), *c)).collect();
    assert_eq!(
        paths,
        vec![
            ("username", "staff_username_format"),
            ("name", "required"),
            ("department_code", "staff_department_unknown"),
            ("division_code", "division_code_length"),
            ("roles[0]", "staff_role_department_required"),
            ("roles[1]", "staff_role_department_not_allowed"),
        ]
    );
    let e = app
        .create_staff(
            &granter,
            input(
                "XIHU.officer",
                XIHU_DEPT,
                "330106",
                vec![grant(StaffRole::WindowClerk, "330106", None)],
            ),
            now(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        problems(e),
        vec![("username".to_string(), "staff_username_taken")]
    );

    // Roles: the administrator adds a role within the city; the old and new grants are
    // recorded.
    let roles = vec![
        grant(StaffRole::DepartmentOfficer, "330106", Some(XIHU_DEPT)),
        grant(StaffRole::WindowClerk, "330106", None),
    ];
    app.set_staff_roles(&granter, &officer.id, roles.clone(), after(1))
        .await
        .unwrap();
    let stored = app
        .db
        .staff_by_id(officer.id.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.roles, roles);
    let events = app
        .db
        .recent_auth_events(officer.id.as_str(), 10)
        .await
        .unwrap();
    let change = events.iter().find(|e| e.kind == "role_change").unwrap();
    let detail: serde_json::Value =
        serde_json::from_str(change.detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["old"].as_array().unwrap().len(), 1);
    assert_eq!(detail["new"].as_array().unwrap().len(), 2);
    // …but not outside it.
    let e = app
        .set_staff_roles(
            &granter,
            &officer.id,
            vec![grant(StaffRole::Supervisor, "330200", None)],
            after(2),
        )
        .await
        .unwrap_err();
    assert_eq!(
        problems(e),
        vec![("roles[0]".to_string(), "staff_role_outside_scope")]
    );

    // A department role of another department than the grant names.
    let e = app
        .set_staff_roles(
            &granter,
            &officer.id,
            vec![grant(
                StaffRole::DepartmentHead,
                "330106",
                Some("11330106NOSUCHDEPT"),
            )],
            after(2),
        )
        .await
        .unwrap_err();
    assert_eq!(
        problems(e),
        vec![("roles[0]".to_string(), "staff_role_department_unknown")]
    );

    // A member of staff of another city cannot be managed at all.
    let ningbo = app
        .create_staff(
            &Granter::Bootstrap,
            input(
                "ninghai.clerk",
                NINGHAI_DEPT,
                "330226",
                vec![grant(StaffRole::WindowClerk, "330226", None)],
            ),
            now(),
        )
        .await
        .unwrap();
    let e = app
        .set_staff_roles(
            &granter,
            &ningbo.id,
            vec![grant(StaffRole::WindowClerk, "330106", None)],
            after(3),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "staff_outside_scope");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_without_the_administrator_role_cannot_create_staff() {
    let (_dir, app) = app().await;
    let officer = app
        .create_staff(
            &Granter::Bootstrap,
            input(
                "xihu.officer",
                XIHU_DEPT,
                "330106",
                vec![grant(
                    StaffRole::DepartmentOfficer,
                    "330106",
                    Some(XIHU_DEPT),
                )],
            ),
            now(),
        )
        .await
        .unwrap();
    // A catalog administrator is an administrator, but not a system administrator.
    let catalog_admin = app
        .create_staff(
            &Granter::Bootstrap,
            input(
                "catalog.admin",
                HZ_DEPT,
                "330100",
                vec![grant(StaffRole::CatalogAdministrator, "330000", None)],
            ),
            now(),
        )
        .await
        .unwrap();
    for who in [
        &officer.id,
        &catalog_admin.id,
        &AccountId::new("no-such-account"),
    ] {
        let e = app
            .create_staff(
                &Granter::Staff(who.clone()),
                input(
                    "new.clerk",
                    XIHU_DEPT,
                    "330106",
                    vec![grant(StaffRole::WindowClerk, "330106", None)],
                ),
                now(),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code(), "staff_not_administrator");
        assert!(matches!(e, AppError::Refused { .. }));
        let e = app
            .set_staff_roles(
                &Granter::Staff(who.clone()),
                &officer.id,
                vec![grant(StaffRole::SystemAdministrator, "330106", None)],
                now(),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code(), "staff_not_administrator");
    }
    assert!(
        app.db
            .staff_by_username("new.clerk")
            .await
            .unwrap()
            .is_none()
    );

    // A disabled system administrator grants nothing either.
    let (admin, _, _) = city_admin(&app).await;
    app.db
        .set_staff_disabled(admin.as_str(), true)
        .await
        .unwrap();
    let e = app
        .create_staff(
            &Granter::Staff(admin),
            input(
                "new.clerk",
                XIHU_DEPT,
                "330106",
                vec![grant(StaffRole::WindowClerk, "330106", None)],
            ),
            now(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "staff_not_administrator");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_wrong_or_disabled_is_the_same_failure() {
    let (_dir, app) = app().await;
    let officer = app
        .create_staff(
            &Granter::Bootstrap,
            input(
                "xihu.officer",
                XIHU_DEPT,
                "330106",
                vec![grant(
                    StaffRole::DepartmentOfficer,
                    "330106",
                    Some(XIHU_DEPT),
                )],
            ),
            now(),
        )
        .await
        .unwrap();
    let password = officer.initial_password.clone();
    assert!(matches!(
        app.sign_in_staff("xihu.officer", &password, None, ip(), now())
            .await
            .unwrap(),
        StaffSignIn::SignedIn(_)
    ));
    let wrong = SecretString::from("Wrong-password-1".to_string());
    let unknown = app
        .sign_in_staff("nobody.here", &password, None, ip(), now())
        .await
        .unwrap_err();
    let bad_password = app
        .sign_in_staff("xihu.officer", &wrong, None, ip(), now())
        .await
        .unwrap_err();
    app.db
        .set_staff_disabled(officer.id.as_str(), true)
        .await
        .unwrap();
    let disabled = app
        .sign_in_staff("xihu.officer", &password, None, ip(), now())
        .await
        .unwrap_err();
    for e in [&unknown, &bad_password, &disabled] {
        assert!(matches!(e, AppError::SignInFailed), "{e:?}");
    }
    // Disabled, a right password with a code is still the same failure.
    let disabled = app
        .sign_in_staff("xihu.officer", &password, Some("123456"), ip(), now())
        .await
        .unwrap_err();
    assert!(matches!(disabled, AppError::SignInFailed));
    let history = app.recent_sign_ins(&officer.id, 10).await.unwrap();
    assert_eq!(history.len(), 4);
    assert_eq!(history.iter().filter(|e| e.succeeded).count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_staff_passwords_and_codes_are_throttled() {
    let (_dir, app) = app().await;
    let (_, password, secret) = city_admin(&app).await;
    let wrong = SecretString::from("Wrong-password-1".to_string());
    for i in 0..3 {
        let e = app
            .sign_in_staff("hz.admin", &wrong, None, ip(), after(30 + i))
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::SignInFailed));
    }
    // Wrong codes count too.
    for i in 0..2 {
        let e = app
            .sign_in_staff(
                "hz.admin",
                &password,
                Some(&wrong_code(&secret, after(40))),
                ip(),
                after(40 + i),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code(), "totp_wrong");
    }
    let e = app
        .sign_in_staff(
            "hz.admin",
            &password,
            Some(&totp_code(&secret, after(60))),
            ip(),
            after(60),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "sign_in_throttled");
    assert!(matches!(e, AppError::Throttled(_)));
}
