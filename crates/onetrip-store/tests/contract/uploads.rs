//! Contract of uploaded files' records: one record per uploader, content and name.

use jiff::Timestamp;
use onetrip_store::{Db, UploadRow};

fn row(id: &str, by: &str, name: &str, sm3: &str) -> UploadRow {
    UploadRow {
        id: id.to_owned(),
        uploaded_by: by.to_owned(),
        name: name.to_owned(),
        media_type: "application/pdf".to_owned(),
        bytes: 4_000_000_000,
        sm3: sm3.to_owned(),
        created_at: Timestamp::from_microsecond(1_790_000_000_123_456).unwrap(),
    }
}

pub async fn uploads_are_recorded_once_per_uploader_content_and_name(db: &Db) {
    let first = row("u1", "applicant:a", "出生证明.pdf", "aa");
    assert_eq!(db.record_upload(&first).await.unwrap(), first);
    // The same file again (a resent form): the first record, not a second one.
    let again = db
        .record_upload(&row("u2", "applicant:a", "出生证明.pdf", "aa"))
        .await
        .unwrap();
    assert_eq!(again, first);
    assert_eq!(db.upload("u2").await.unwrap(), None);
    // Another name, another uploader or other content: records of their own.
    for (id, by, name, sm3) in [
        ("u3", "applicant:a", "副本.pdf", "aa"),
        ("u4", "staff:b", "出生证明.pdf", "aa"),
        ("u5", "applicant:a", "出生证明.pdf", "bb"),
    ] {
        let r = row(id, by, name, sm3);
        assert_eq!(db.record_upload(&r).await.unwrap(), r);
        assert_eq!(db.upload(id).await.unwrap(), Some(r));
    }
    assert_eq!(db.upload("u1").await.unwrap(), Some(first));
    assert_eq!(db.upload("missing").await.unwrap(), None);
}
