//! Uploaded materials over HTTP: the API upload and read-back, what is refused (type, size,
//! malformed, someone else's file), an application referring to its uploads and the officer
//! opening them through the case, and the citizen's materials page uploading without scripts.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use onetrip_app::uploads::UploadStore;
use onetrip_domain::identity::StaffRole;
use serde_json::{Value, json};

use crate::common::*;

/// 浙江省居住证申领: its photo (M02) is uploaded.
const RESIDENCE_PERMIT: &str = "1133010600425119XW200010009000";
const POLICE_XIHU: &str = "1133010600425119XW";

#[tokio::test]
async fn a_file_is_uploaded_once_and_read_back_only_by_its_uploader() {
    let t = TestApp::new().await;
    let (mut b, csrf) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    let content = pdf("出生医学证明");
    let r = upload(&mut b, &csrf, "C:\\扫描\\出生医学证明.PDF", &content).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let first = r.json();
    assert_eq!(first["name"], "出生医学证明.PDF");
    assert_eq!(first["media_type"], "application/pdf");
    assert_eq!(first["bytes"], content.len());
    assert_eq!(first["sm3"].as_str().unwrap().len(), 64);
    // Sent again: the same record.
    let again = upload(&mut b, &csrf, "出生医学证明.PDF", &content)
        .await
        .json();
    assert_eq!(again["id"], first["id"]);

    let id = first["id"].as_str().unwrap();
    let r = b.get(&format!("/api/v1/uploads/{id}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, content);
    assert_eq!(r.header("content-type"), Some("application/pdf"));
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.starts_with("sandbox"), "{csp}");
    let disposition = r.header("content-disposition").unwrap();
    assert!(
        disposition.contains("filename*=UTF-8''%E5%87%BA%E7%94%9F"),
        "{disposition}"
    );
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));

    // Someone else is told it does not exist; without a session it needs sign-in.
    let (mut other, other_csrf) = t
        .registered("330102199007220264", "林晓燕", "13900139000")
        .await;
    other
        .get(&format!("/api/v1/uploads/{id}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    Browser::new(&t)
        .get(&format!("/api/v1/uploads/{id}"))
        .await
        .problem(StatusCode::UNAUTHORIZED, "unauthenticated");

    // What is refused, with a stable code each.
    upload(
        &mut other,
        &other_csrf,
        "page.pdf",
        b"<html><script>x</script>",
    )
    .await
    .problem(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "upload_type_not_accepted",
    );
    upload(&mut other, &other_csrf, "empty.pdf", b"")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "upload_empty");
    post_multipart(
        &mut other,
        "/api/v1/uploads",
        Some(&other_csrf),
        multipart(&[("note", "no file")], None),
    )
    .await
    .problem(StatusCode::BAD_REQUEST, "upload_malformed");
    other
        .json(
            Method::POST,
            "/api/v1/uploads",
            &json!({}),
            Some(&other_csrf),
        )
        .await
        .problem(StatusCode::BAD_REQUEST, "upload_malformed");
    // A session without the anti-forgery token changes nothing.
    post_multipart(
        &mut other,
        "/api/v1/uploads",
        None,
        multipart(&[], Some(("a.pdf", &pdf("x")))),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "csrf_failed");
}

#[tokio::test]
async fn a_file_over_the_configured_limit_is_refused_while_it_streams() {
    let t = TestApp::build_at(Some(ADMIN), true, ISSUER, |app| {
        app.with_upload_store(UploadStore::new(
            Arc::new(object_store::memory::InMemory::new()),
            1024,
        ))
    })
    .await;
    let (mut b, csrf) = t.registered(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    let mut big = pdf("big");
    big.resize(4096, b' ');
    upload(&mut b, &csrf, "big.pdf", &big)
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE, "upload_too_large");
    let r = upload(&mut b, &csrf, "small.pdf", &pdf("small")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

#[tokio::test]
async fn an_application_carries_its_own_uploads_to_the_officer() {
    let t = TestApp::new().await;
    let (mut b, csrf) = t.real_named(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    let (mut other, other_csrf) = t
        .registered("330102199007220264", "林晓燕", "13900139000")
        .await;
    let photo = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0 a photo".to_vec();
    let foreign = upload(&mut other, &other_csrf, "照片.jpg", &photo)
        .await
        .json();
    let own = upload(&mut b, &csrf, "照片.jpg", &photo).await.json();
    assert_ne!(own["id"], foreign["id"]);

    let key = format!("{RESIDENCE_PERMIT}.M02");
    let application = |file: &Value| {
        json!({
            "target": {"kind": "item", "code": RESIDENCE_PERMIT},
            "uploads": {key.clone(): {"id": file["id"], "name": "photo.jpg", "media_type": "text/html"}},
        })
    };
    let submit = |body: Value| {
        req(Method::POST, "/api/v1/applications")
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-csrf-token", csrf.clone())
            .header(
                "idempotency-key",
                body["uploads"][&key]["id"].as_str().unwrap().to_string(),
            )
    };
    // Someone else's upload is not found; nothing is submitted.
    let body = application(&foreign);
    let r = b
        .send(
            submit(body.clone()),
            Body::from(serde_json::to_vec(&body).unwrap()),
        )
        .await;
    assert_has(
        &r.field_errors(),
        &format!("uploads.{key}"),
        "upload_unknown",
    );
    // Without the photo, the material is missing.
    let body = json!({"target": {"kind": "item", "code": RESIDENCE_PERMIT}});
    let r = b
        .json(Method::POST, "/api/v1/applications", &body, Some(&csrf))
        .await;
    assert_has(
        &r.field_errors(),
        &format!("uploads.{key}"),
        "material_missing",
    );
    // With the applicant's own photo it is submitted, the reference as recorded.
    let body = application(&own);
    let r = b
        .send(
            submit(body.clone()),
            Body::from(serde_json::to_vec(&body).unwrap()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let submitted = r.json();
    let number = submitted["cases"][0]["number"]
        .as_str()
        .unwrap()
        .to_string();
    let id = own["id"].as_str().unwrap();
    let stored = t
        .app
        .db
        .application(submitted["application"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.document["uploads"][&key],
        json!({"id": id, "name": "照片.jpg", "media_type": "image/jpeg"})
    );

    // The police officer of the district opens it through the case; the page links to it.
    let (mut officer, _) = staff(
        &t,
        "police.officer",
        StaffRole::DepartmentOfficer,
        "330106",
        Some(POLICE_XIHU),
    )
    .await;
    let r = officer
        .get(&format!("/api/v1/cases/{number}/uploads/{id}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.body, photo);
    assert_eq!(r.header("content-type"), Some("image/jpeg"));
    let page = officer
        .get_page(&format!("/work/cases/{number}"))
        .await
        .text();
    let href = format!("/work/cases/{number}/uploads/{id}");
    assert!(page.contains(&href), "{page}");
    assert_eq!(officer.get(&href).await.body, photo);
    // An upload that is not the case's is not found through it, even for the officer; a
    // stranger may not see the case at all.
    let foreign_id = foreign["id"].as_str().unwrap();
    officer
        .get(&format!("/api/v1/cases/{number}/uploads/{foreign_id}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    other
        .get(&format!("/api/v1/cases/{number}/uploads/{id}"))
        .await
        .problem(StatusCode::FORBIDDEN, "case_not_permitted");
    // The applicant still opens their own file.
    assert_eq!(b.get(&format!("/api/v1/uploads/{id}")).await.body, photo);
}

#[tokio::test]
async fn a_person_uploads_materials_on_the_pages_without_scripts() {
    let t = TestApp::new().await;
    let (mut b, _) = t.real_named(PERSON_RID, PERSON_NAME, PERSON_PHONE).await;
    // The marriage bundle: the couple's photo and the signed declaration are uploaded.
    let guide = b.get("/bundles/ZJ-MARRIAGE").await.text();
    let fields = form_fields(&guide, "/bundles/ZJ-MARRIAGE/start");
    let r = b.post_pairs("/bundles/ZJ-MARRIAGE/start", &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let questions_url = location(&r);
    let id = questions_url
        .strip_prefix("/applications/")
        .and_then(|s| s.strip_suffix("/questions"))
        .unwrap()
        .to_string();
    let page = b.get(&questions_url).await.text();
    let mut fields = form_fields(&page, &questions_url);
    for (k, v) in [
        ("remarriage", "no"),
        ("birth_registration", "no"),
        ("move_household", "no"),
    ] {
        set_field(&mut fields, k, v);
    }
    let r = b.post_pairs(&questions_url, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());

    // The form: its optional photo field is a file input in a multipart form.
    let form_url = format!("/applications/{id}/form");
    let page = b.get(&form_url).await.text();
    assert!(page.contains("enctype=\"multipart/form-data\""), "{page}");
    assert!(
        page.contains("type=\"file\" id=\"f-wedding_photo\" name=\"wedding_photo\""),
        "{page}"
    );
    let mut fields = form_fields(&page, &form_url);
    for (k, v) in [
        ("spouse_name", "林晓燕"),
        ("spouse_resident_id", "330102199007220264"),
        ("spouse_phone", "13900139000"),
        ("registration_date", "2099-01-15"),
        ("registry_office", "xihu"),
        ("ceremony", "no"),
        ("birth_registration", "no"),
        ("move_household", "no"),
    ] {
        set_field(&mut fields, k, v);
    }
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    // The photo is optional: the form is complete without it.
    let r = post_multipart(&mut b, &form_url, None, multipart(&pairs, None)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let photo = b"\xFF\xD8\xFF\xE0\0\x10JFIF\0 couple".to_vec();
    let with_file = |name: &str, content: &[u8]| {
        let mut body = multipart(&pairs, None);
        // The file part before the closing boundary.
        body.truncate(body.len() - format!("--{BOUNDARY}--\r\n").len());
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"wedding_photo\"; filename=\"{name}\"\r\nContent-Type: image/jpeg\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        body
    };
    // A web page instead of a photo: shown next to the field, the rest kept.
    let r = post_multipart(&mut b, &form_url, None, with_file("x.jpg", b"<html>")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let html = r.text();
    assert!(html.contains("href=\"#f-wedding_photo\""), "{html}");
    assert!(html.contains("不是 PDF、JPEG、PNG 或 OFD 文件"), "{html}");
    assert!(html.contains("value=\"林晓燕\""), "{html}");
    let r = post_multipart(&mut b, &form_url, None, with_file("合影.jpg", &photo)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let draft = t.app.db.application(&id).await.unwrap().unwrap();
    let value = &draft.document["form"]["wedding_photo"];
    assert_eq!(value["name"], "合影.jpg");
    assert_eq!(value["media_type"], "image/jpeg");
    assert!(b.get(&form_url).await.text().contains("已上传：合影.jpg"));

    // The materials: two to upload, each with its own file input.
    let materials_url = format!("/applications/{id}/materials");
    let html = b.get(&materials_url).await.text();
    assert!(html.contains("还有 2 份材料需要您提供"), "{html}");
    let token = hidden(&html, "csrf_token");
    let photo_name = "双方近期半身免冠合影照片（2寸）";
    let declaration = "《申请结婚登记声明书》";
    let upload_for = |material: &str, file: &str, content: &[u8]| {
        multipart(
            &[("csrf_token", token.as_str()), ("material", material)],
            Some((file, content)),
        )
    };
    // Without the page's token nothing is stored.
    let r = post_multipart(
        &mut b,
        &materials_url,
        None,
        multipart(&[("material", declaration)], Some(("d.pdf", &pdf("d")))),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A refused file is explained next to its input and in the summary.
    let r = post_multipart(
        &mut b,
        &materials_url,
        None,
        upload_for(photo_name, "photo.pdf", b"not a photo"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("id=\"error-summary\""), "{html}");
    assert!(html.contains("aria-invalid=\"true\""), "{html}");
    for (material, file, content) in [
        (photo_name, "合影.jpg", photo.clone()),
        (declaration, "声明书.pdf", pdf("声明")),
    ] {
        let r = post_multipart(
            &mut b,
            &materials_url,
            None,
            upload_for(material, file, &content),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        assert_eq!(location(&r), materials_url);
    }
    let html = b.get(&materials_url).await.text();
    assert!(html.contains("所需材料均已提供"), "{html}");
    assert!(html.contains("声明书.pdf"), "{html}");
    // Its own file opens; taking one back asks for it again.
    let draft = t.app.db.application(&id).await.unwrap().unwrap();
    let file_id = draft.document["uploads"][format!("upload:{declaration}")]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        b.get(&format!("/me/uploads/{file_id}")).await.body,
        pdf("声明")
    );
    let r = post_multipart(
        &mut b,
        &materials_url,
        None,
        multipart(
            &[("csrf_token", token.as_str()), ("remove", declaration)],
            None,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        b.get(&materials_url)
            .await
            .text()
            .contains("还有 1 份材料需要您提供")
    );
    let r = post_multipart(
        &mut b,
        &materials_url,
        None,
        upload_for(declaration, "声明书.pdf", &pdf("声明")),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    // Check and submit: the application keeps the uploads.
    let check_url = format!("/applications/{id}/check");
    let html = b.get(&check_url).await.text();
    let fields = form_fields(&html, &check_url);
    let r = b.post_pairs(&check_url, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let submitted = t.app.db.application(&id).await.unwrap().unwrap();
    assert_eq!(submitted.state, "submitted");
    let uploads = submitted.document["uploads"].as_object().unwrap();
    assert_eq!(uploads.len(), 2, "{uploads:?}");
    assert_eq!(
        uploads[&format!("upload:{declaration}")]["id"],
        file_id.as_str()
    );
}
