//! Certificate use cases on SQLite: demo certificates, issuing with validity rules, export and
//! verification (every flipped byte fails), revocation at once, key rotation, presentations,
//! and interoperability of exports with OpenSSL 3 and Python (independent implementations).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::Command;

use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use onetrip_app::App;
use onetrip_app::certificates::{
    CertificateActor, CertificateExport, IssueRequest, PLATFORM_SEAL, PresentationCheck,
};
use onetrip_domain::certificate::{CertificateStatus, HolderKind};
use serde_json::{Value, json};

const CHEN: &str = "330102198503140138";
const XIHU_POLICE: &str = "1133010600425119XW";

fn now() -> Timestamp {
    "2026-11-21T02:00:00Z".parse().unwrap()
}

async fn demo_app() -> (App, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let app = App::connect(&url)
        .await
        .unwrap()
        .with_issuer("http://onetrip.test");
    app.load_demo_if_empty(now()).await.unwrap();
    (app, dir)
}

async fn chen_cert(app: &App, ty: &str) -> String {
    app.holder_certificates(HolderKind::Person, CHEN, date(2026, 11, 21))
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.type_code == ty)
        .unwrap()
        .id
}

async fn verify(app: &App, export: &CertificateExport) -> (bool, CertificateStatus) {
    let v = app.verify_certificate_export(export, now()).await.unwrap();
    (v.authentic, v.status)
}

#[tokio::test]
async fn demo_citizen_has_valid_and_expired_certificates() {
    let (app, _dir) = demo_app().await;
    let list = app
        .holder_certificates(HolderKind::Person, CHEN, date(2026, 11, 21))
        .await
        .unwrap();
    let status = |ty: &str| list.iter().find(|c| c.type_code == ty).unwrap().status;
    for ty in [
        "ID_CARD",
        "HOUSEHOLD_REGISTER",
        "MARRIAGE_CERT",
        "REAL_ESTATE_CERT",
    ] {
        assert_eq!(status(ty), CertificateStatus::Valid, "{ty}");
    }
    assert_eq!(status("DRIVING_LICENCE"), CertificateStatus::Expired);
    let id_card = list.iter().find(|c| c.type_code == "ID_CARD").unwrap();
    // Issued 2016-05-20 at 31: 20 years.
    assert_eq!(id_card.valid_until, Some(date(2036, 5, 20)));
    // Every type the demo catalog names exists.
    let types = app.certificate_types().await.unwrap();
    let catalog = onetrip_app::DEMO_CATALOG;
    for line in catalog.lines() {
        if let Some(rest) = line.split("certificate_type: ").nth(1) {
            let code: String = rest
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            assert!(types.iter().any(|t| t.code == code), "{code}");
        }
    }
    // Loading again changes nothing.
    assert!(!app.load_demo_certificates_if_empty(now()).await.unwrap());
}

#[tokio::test]
async fn any_changed_byte_of_the_content_or_signature_fails() {
    let (app, _dir) = demo_app().await;
    let id = chen_cert(&app, "MARRIAGE_CERT").await;
    let export = app.export_certificate_unchecked(&id).await.unwrap();
    assert_eq!(
        verify(&app, &export).await,
        (true, CertificateStatus::Valid)
    );
    let canonical = onetrip_seal::canonical_json(&export.signed).unwrap();
    for i in 0..canonical.len() {
        let mut bytes = canonical.clone();
        bytes[i] ^= 0x01;
        let Ok(signed) = serde_json::from_slice::<Value>(&bytes) else {
            continue; // not JSON any more: a verifier cannot even read it
        };
        let mut tampered = export.clone();
        tampered.signed = signed;
        assert!(!verify(&app, &tampered).await.0, "content byte {i}");
    }
    let sig = onetrip_seal::base64_decode(&export.signature).unwrap();
    for i in 0..sig.len() {
        for bit in [0x01, 0x80] {
            let mut bytes = sig.clone();
            bytes[i] ^= bit;
            let mut tampered = export.clone();
            tampered.signature = onetrip_seal::base64_encode(&bytes);
            assert!(!verify(&app, &tampered).await.0, "signature byte {i}");
        }
    }
    // A key that is not the registered one is refused even when it verifies its own signature.
    let other = onetrip_seal::SealKey::generate().unwrap();
    let mut forged = export.clone();
    forged.issuer_public_key = other.public_key().to_spki_pem().unwrap();
    forged.signature = onetrip_seal::base64_encode(&other.sign(&canonical).unwrap());
    let v = app.verify_certificate_export(&forged, now()).await.unwrap();
    assert!(!v.authentic);
    assert_eq!(v.reason, Some("key_mismatch"));
    assert_eq!(v.fields, Value::Null);
}

#[tokio::test]
async fn revocation_shows_at_once_and_rotation_keeps_old_certificates_verifiable() {
    let (app, _dir) = demo_app().await;
    let id = chen_cert(&app, "ID_CARD").await;
    let old = app.export_certificate_unchecked(&id).await.unwrap();
    let new_key = app.rotate_seal(XIHU_POLICE, now()).await.unwrap();
    assert_ne!(new_key, old.seal_key_id);
    assert_eq!(verify(&app, &old).await, (true, CertificateStatus::Valid));
    let keys = app.seal_keys(XIHU_POLICE).await.unwrap();
    assert_eq!(keys.len(), 2);
    assert!(keys[0].retired_at.is_some() && keys[1].retired_at.is_none());
    assert!(keys.iter().all(|k| k.private_key_pem.is_none()));
    // A certificate issued now uses the new key.
    let mut content = old.signed["content"].as_object().unwrap().clone();
    content.insert("address".into(), json!("浙江省杭州市西湖区天目山路1号"));
    let issued = app
        .issue_certificate(
            &CertificateActor::System,
            IssueRequest {
                certificate_type: "ID_CARD".into(),
                holder_kind: HolderKind::Person,
                holder_id: CHEN.into(),
                content,
                issued_on: None,
            },
            None,
            now(),
        )
        .await
        .unwrap();
    assert_eq!(issued.seal_key_id, new_key);
    // 41 on 2026-11-21: 20 years.
    assert_eq!(issued.valid_until, Some(date(2046, 11, 21)));
    let v = app
        .revoke_certificate(&CertificateActor::System, &id, "证件遗失补领", now())
        .await
        .unwrap();
    assert_eq!(v.status, CertificateStatus::Revoked);
    let after = app.verify_certificate_export(&old, now()).await.unwrap();
    assert!(after.authentic);
    assert_eq!(after.status, CertificateStatus::Revoked);
    assert_eq!(after.revocation_reason.as_deref(), Some("证件遗失补领"));
}

#[tokio::test]
async fn issuing_checks_the_content_and_the_staff_grant() {
    let (app, _dir) = demo_app().await;
    let err = app
        .issue_certificate(
            &CertificateActor::System,
            IssueRequest {
                certificate_type: "ID_CARD".into(),
                holder_kind: HolderKind::Person,
                holder_id: CHEN.into(),
                content: json!({"name": "陈志明", "bogus": 1.5})
                    .as_object()
                    .unwrap()
                    .clone(),
                issued_on: None,
            },
            None,
            now(),
        )
        .await
        .unwrap_err();
    let onetrip_app::AppError::Rejected(problems) = err else {
        panic!("{err:?}")
    };
    assert!(
        problems
            .iter()
            .any(|p| p.code == "certificate_field_unknown")
    );
    assert!(
        problems
            .iter()
            .any(|p| p.code == "certificate_field_missing")
    );
    let staff = onetrip_domain::identity::AccountId::new("nobody".to_owned());
    let id = chen_cert(&app, "ID_CARD").await;
    let err = app
        .revoke_certificate(&CertificateActor::Staff(staff), &id, "x", now())
        .await
        .unwrap_err();
    assert_eq!(
        onetrip_domain::Localized::code(&err),
        "certificate_issuer_not_permitted"
    );
}

#[tokio::test]
async fn presentations_disclose_only_what_was_chosen_and_expire() {
    let (app, _dir) = demo_app().await;
    let id = chen_cert(&app, "ID_CARD").await;
    let p = app
        .present_certificate(
            &id,
            (HolderKind::Person, CHEN),
            &["name".into()],
            &["age_at_least:18".into()],
            None,
            now(),
        )
        .await
        .unwrap();
    assert!(p.url.starts_with("http://onetrip.test/verify/"));
    assert!(p.qr_svg.contains("<svg"));
    assert_eq!(p.expires_at, now() + SignedDuration::from_mins(5));
    let PresentationCheck::Verified(v) = app.verify_presentation(&p.token, now()).await.unwrap()
    else {
        panic!("not verified")
    };
    assert_eq!(v.fields.len(), 1);
    assert_eq!(v.fields[0].value, json!("陈志明"));
    assert!(v.predicates[0].holds);
    let text = serde_json::to_string(&v).unwrap();
    assert!(!text.contains(CHEN) && !text.contains("文三路"), "{text}");
    // Expired after five minutes.
    let later = now() + SignedDuration::from_secs(301);
    assert!(matches!(
        app.verify_presentation(&p.token, later).await.unwrap(),
        PresentationCheck::Expired { .. }
    ));
    // Tampered: any changed character of the token.
    for i in (0..p.token.len()).step_by(7) {
        let mut t = p.token.clone().into_bytes();
        t[i] = if t[i] == b'A' { b'B' } else { b'A' };
        let t = String::from_utf8(t).unwrap();
        if t == p.token {
            continue;
        }
        assert_eq!(
            app.verify_presentation(&t, now()).await.unwrap(),
            PresentationCheck::Tampered,
            "char {i}"
        );
    }
    // Only the holder presents.
    assert!(
        app.present_certificate(
            &id,
            (HolderKind::Person, "330102199007220264"),
            &["name".into()],
            &[],
            None,
            now()
        )
        .await
        .is_err()
    );
    // The platform key rotates; old presentations still verify until they expire.
    app.rotate_seal(PLATFORM_SEAL, now()).await.unwrap();
    assert!(matches!(
        app.verify_presentation(&p.token, now()).await.unwrap(),
        PresentationCheck::Verified(_)
    ));
    // Revocation shows at once in a live presentation.
    app.revoke_certificate(&CertificateActor::System, &id, "注销", now())
        .await
        .unwrap();
    let PresentationCheck::Verified(v) = app.verify_presentation(&p.token, now()).await.unwrap()
    else {
        panic!("not verified")
    };
    assert_eq!(v.status, CertificateStatus::Revoked);
}

/// Exports a certificate, canonicalises its signed part with Python (not our code) and
/// verifies our signature with OpenSSL 3 using the exported public key.
#[tokio::test]
async fn openssl_verifies_an_exported_certificate() {
    let (app, dir) = demo_app().await;
    let id = chen_cert(&app, "REAL_ESTATE_CERT").await;
    let export = app.export_certificate_unchecked(&id).await.unwrap();
    let path = |name: &str| dir.path().join(name);
    std::fs::write(
        path("export.json"),
        serde_json::to_vec_pretty(&export).unwrap(),
    )
    .unwrap();
    let py = Command::new("python3")
        .arg("-c")
        .arg(
            "import json,sys,base64\n\
             e=json.load(open(sys.argv[1],encoding='utf-8'))\n\
             open(sys.argv[2],'wb').write(json.dumps(e['signed'],sort_keys=True,separators=(',',':'),ensure_ascii=False).encode('utf-8'))\n\
             open(sys.argv[3],'wb').write(base64.b64decode(e['signature']))\n\
             open(sys.argv[4],'w').write(e['issuer_public_key'])\n\
             assert e['distinguishing_id']=='1234567812345678'",
        )
        .args([
            path("export.json"),
            path("content.json"),
            path("sig.der"),
            path("pub.pem"),
        ])
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    let run = |content: &str| {
        Command::new("openssl")
            .args(["pkeyutl", "-verify", "-rawin", "-digest", "sm3"])
            .args(["-pkeyopt", "distid:1234567812345678", "-pubin", "-inkey"])
            .arg(path("pub.pem"))
            .arg("-in")
            .arg(path(content))
            .arg("-sigfile")
            .arg(path("sig.der"))
            .output()
            .unwrap()
    };
    let out = run("content.json");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("Signature Verified Successfully"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // OpenSSL rejects a changed content too.
    let mut content = std::fs::read(path("content.json")).unwrap();
    let at = content.len() / 2;
    content[at] ^= 0x01;
    std::fs::write(path("tampered.json"), content).unwrap();
    assert!(!run("tampered.json").status.success());
}

#[tokio::test]
async fn an_officer_of_the_issuing_department_issues_and_others_may_not() {
    use onetrip_app::staff::{Granter, NewStaffInput};
    use onetrip_domain::identifiers::DivisionCode;
    use onetrip_domain::identity::{RoleGrant, StaffRole};
    let (app, _dir) = demo_app().await;
    let staff = |username: &str, role: StaffRole, department: &str| NewStaffInput {
        username: username.into(),
        name: "民警".into(),
        department_code: department.into(),
        division_code: "330106".into(),
        roles: vec![RoleGrant {
            role,
            division: DivisionCode::parse("330106").unwrap(),
            department: Some(department.into()),
        }],
    };
    let officer = app
        .create_staff(
            &Granter::Bootstrap,
            staff("officer", StaffRole::DepartmentOfficer, XIHU_POLICE),
            now(),
        )
        .await
        .unwrap()
        .id;
    let clerk = app
        .create_staff(
            &Granter::Bootstrap,
            // An officer of another department (西湖区民政局).
            staff("clerk", StaffRole::DepartmentOfficer, "11330106086703320Q"),
            now(),
        )
        .await
        .unwrap()
        .id;
    let request = || IssueRequest {
        certificate_type: "HOUSEHOLD_REGISTRATION_PROOF".into(),
        holder_kind: HolderKind::Person,
        holder_id: CHEN.into(),
        content: json!({"name": "陈志明", "resident_id": CHEN,
                        "registered_address": "浙江省杭州市西湖区文三路199号"})
        .as_object()
        .unwrap()
        .clone(),
        issued_on: None,
    };
    let issued = app
        .issue_certificate(&CertificateActor::Staff(officer), request(), None, now())
        .await
        .unwrap();
    assert_eq!(issued.valid_until, Some(date(2027, 11, 21)));
    let err = app
        .issue_certificate(&CertificateActor::Staff(clerk), request(), None, now())
        .await
        .unwrap_err();
    assert_eq!(
        onetrip_domain::Localized::code(&err),
        "certificate_issuer_not_permitted"
    );
}

#[tokio::test]
async fn seal_keys_are_encrypted_at_rest_under_the_configured_kek() {
    use onetrip_app::certificates::{KeyEncryptionKey, SoftwareSigner};
    use std::sync::Arc;
    const KEK: &str = "00112233445566778899aabbccddeeff";
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let with_kek = |app: App, kek: &str| {
        let signer =
            SoftwareSigner::with_kek(app.db.clone(), KeyEncryptionKey::from_hex(kek).unwrap());
        app.with_seal_signer(Arc::new(signer))
    };
    let app = with_kek(App::connect(&url).await.unwrap(), KEK);
    app.load_demo_if_empty(now()).await.unwrap();
    let request = || {
        IssueRequest {
        certificate_type: "VOCATIONAL_SKILL_CERT".into(),
        holder_kind: HolderKind::Person,
        holder_id: CHEN.into(),
        content: json!({"name": "陈志明", "resident_id": CHEN, "occupation": "电工", "level": "三级/高级工"})
            .as_object()
            .unwrap()
            .clone(),
        issued_on: None,
    }
    };
    let first = app
        .issue_certificate(&CertificateActor::System, request(), None, now())
        .await
        .unwrap();
    // Every private key the signer made is stored encrypted; none is readable.
    let key = app.db.seal_key(&first.seal_key_id).await.unwrap().unwrap();
    let stored = key.private_key_pem.unwrap();
    assert!(stored.starts_with("sm4gcm:v1:"), "{stored}");
    assert!(!stored.contains("PRIVATE KEY"));
    let export = app.export_certificate_unchecked(&first.id).await.unwrap();
    assert_eq!(
        verify(&app, &export).await,
        (true, CertificateStatus::Valid)
    );

    // Another process with the same KEK (nothing cached) signs with the stored key.
    let again = with_kek(App::connect(&url).await.unwrap(), KEK);
    let second = again
        .issue_certificate(&CertificateActor::System, request(), None, now())
        .await
        .unwrap();
    assert_eq!(second.seal_key_id, first.seal_key_id);
    // Without the KEK, or with another one, the key cannot be used; nothing is issued.
    for app in [
        App::connect(&url).await.unwrap(),
        with_kek(
            App::connect(&url).await.unwrap(),
            "ffeeddccbbaa99887766554433221100",
        ),
    ] {
        let before = app.db.certificate_count().await.unwrap();
        let err = app
            .issue_certificate(&CertificateActor::System, request(), None, now())
            .await
            .unwrap_err();
        assert!(matches!(err, onetrip_app::AppError::Internal(_)), "{err}");
        assert_eq!(app.db.certificate_count().await.unwrap(), before);
        // Verification needs only the public key: still authentic.
        assert_eq!(
            verify(&app, &export).await,
            (true, CertificateStatus::Valid)
        );
    }
}
