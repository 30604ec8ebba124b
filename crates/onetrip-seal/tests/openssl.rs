//! Interoperability with independent implementations: OpenSSL 3 (SM2 signatures with the
//! distinguishing ID 1234567812345678, PKCS#8 / SPKI PEM) and Python's `json` module (the
//! canonical encoding). Both tools are installed on development machines and in CI.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::process::Command;

use onetrip_seal::{DISTINGUISHING_ID, SealKey, SealPublicKey, canonical_json};
use proptest::prelude::*;
use serde_json::{Value, json};

fn openssl(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl 3 is installed");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn distid() -> String {
    format!("distid:{DISTINGUISHING_ID}")
}

/// `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)` of `value`.
fn python_canonical(value: &Value) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.json");
    std::fs::write(&input, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    let out = Command::new("python3")
        .arg("-c")
        .arg(
            "import json,sys\n\
             v=json.load(open(sys.argv[1],encoding='utf-8'))\n\
             sys.stdout.buffer.write(json.dumps(v,sort_keys=True,separators=(',',':'),ensure_ascii=False).encode('utf-8'))",
        )
        .arg(&input)
        .output()
        .expect("python3 is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn openssl_verifies_our_signatures_and_reads_our_keys() {
    let dir = tempfile::tempdir().unwrap();
    let key = SealKey::generate().unwrap();
    let message = canonical_json(&json!({"name": "陈志明", "n": 3, "ok": true})).unwrap();
    std::fs::write(dir.path().join("msg"), &message).unwrap();
    std::fs::write(dir.path().join("sig.der"), key.sign(&message).unwrap()).unwrap();
    std::fs::write(
        dir.path().join("pub.pem"),
        key.public_key().to_spki_pem().unwrap(),
    )
    .unwrap();
    std::fs::write(dir.path().join("key.pem"), key.to_pkcs8_pem().unwrap()).unwrap();
    let d = distid();
    let verify = [
        "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pkeyopt", &d, "-pubin", "-inkey",
        "pub.pem", "-in", "msg", "-sigfile", "sig.der",
    ];
    let (ok, text) = openssl(dir.path(), &verify);
    assert!(
        ok && text.contains("Signature Verified Successfully"),
        "{text}"
    );
    // A changed message fails with OpenSSL too.
    std::fs::write(dir.path().join("msg"), b"{\"name\":\"x\"}").unwrap();
    let (ok, _) = openssl(dir.path(), &verify);
    assert!(!ok);
    // OpenSSL reads our private key and derives the same public key.
    let (ok, text) = openssl(dir.path(), &["pkey", "-in", "key.pem", "-pubout"]);
    assert!(ok, "{text}");
    assert_eq!(
        SealPublicKey::from_spki_pem(&text).unwrap(),
        *key.public_key()
    );
}

#[test]
fn we_verify_openssl_signatures_and_read_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let d = distid();
    let (ok, text) = openssl(
        dir.path(),
        &["genpkey", "-algorithm", "SM2", "-out", "key.pem"],
    );
    assert!(ok, "{text}");
    let (ok, text) = openssl(
        dir.path(),
        &["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"],
    );
    assert!(ok, "{text}");
    let message =
        canonical_json(&json!({"certificate_id": "1.2.156", "content": {"a": [1, null]}})).unwrap();
    std::fs::write(dir.path().join("msg"), &message).unwrap();
    let (ok, text) = openssl(
        dir.path(),
        &[
            "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-pkeyopt", &d, "-inkey", "key.pem",
            "-in", "msg", "-out", "sig.der",
        ],
    );
    assert!(ok, "{text}");
    let sig = std::fs::read(dir.path().join("sig.der")).unwrap();
    let public =
        SealPublicKey::from_spki_pem(&std::fs::read_to_string(dir.path().join("pub.pem")).unwrap())
            .unwrap();
    public.verify(&message, &sig).unwrap();
    assert!(public.verify(b"other", &sig).is_err());
    // Our reader takes OpenSSL's PKCS#8 private key.
    let key =
        SealKey::from_pkcs8_pem(&std::fs::read_to_string(dir.path().join("key.pem")).unwrap())
            .unwrap();
    assert_eq!(*key.public_key(), public);
}

#[test]
fn python_reproduces_the_canonical_encoding_of_tricky_values() {
    let v = json!({
        "z": "引号\"反斜杠\\换行\n制表\t\u{1}\u{1f}\u{7f}/\u{2028}😀",
        "A": [true, false, null, 0, -1, 9_007_199_254_740_991_i64, -9_007_199_254_740_991_i64],
        "a": {"": "", "b": {"c": []}, "_": {}},
        "10": 1, "9": 2, "a b": "x"
    });
    assert_eq!(
        String::from_utf8(python_canonical(&v)).unwrap(),
        String::from_utf8(canonical_json(&v).unwrap()).unwrap()
    );
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-9_007_199_254_740_991_i64..=9_007_199_254_740_991).prop_map(|n| json!(n)),
        any::<String>().prop_map(Value::String),
        "[\\u{0}-\\u{7f}]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[\\u{0}-\\u{7f}]{0,5}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn python_agrees_on_random_values(v in json_value()) {
        prop_assert_eq!(python_canonical(&v), canonical_json(&v).unwrap());
    }
}
