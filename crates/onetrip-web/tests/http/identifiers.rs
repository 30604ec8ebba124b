//! Identifier checks: always 200 with `valid`, never the full resident ID number, never a 500.

use axum::http::StatusCode;
use onetrip_domain::identifiers::{CertificateId, CreditCode};
use serde_json::Value;

use crate::common::*;

const RESIDENT: &str = "11010519491231002X";
const CREDIT: &str = "91330100716105852F";

async fn check(t: &TestApp, kind: &str, value: &str) -> (Value, String) {
    let r = t
        .get(&format!("/api/v1/identifiers/{kind}/{}", enc(value)))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{kind}/{value:.40}: {}", r.text());
    (r.json(), r.text())
}

#[tokio::test]
async fn a_valid_resident_id_is_answered_masked() {
    let t = TestApp::new().await;
    for input in [RESIDENT, "11010519491231002x", " 11010519491231002X "] {
        let (v, body) = check(&t, "resident-id", input).await;
        assert_eq!(v["kind"], "resident_id");
        assert_eq!(v["valid"], true, "{input:?}: {v}");
        assert_eq!(v["masked"], "110105********002X");
        assert_eq!(v["division"], "110105");
        assert_eq!(v["birth_date"], "1949-12-31");
        assert_eq!(v["sex"], "female");
        assert!(v.get("error").is_none());
        assert!(
            !body.contains(RESIDENT),
            "the full number is never answered"
        );
        assert!(
            !body.contains("19491231"),
            "the middle digits are masked: {body}"
        );
    }
}

#[tokio::test]
async fn every_corrupted_position_of_a_resident_id_is_refused() {
    let t = TestApp::new().await;
    let known = [
        "resident_id_checksum",
        "resident_id_invalid_division",
        "resident_id_invalid_birth_date",
        "resident_id_birth_date_too_early",
        "resident_id_birth_date_in_future",
        "resident_id_invalid_character",
    ];
    for pos in 0..18 {
        let mut chars: Vec<char> = RESIDENT.chars().collect();
        // A different digit keeps the form but breaks the number.
        let old = chars[pos];
        chars[pos] = if old == '7' { '8' } else { '7' };
        let corrupted: String = chars.iter().collect();
        let (v, body) = check(&t, "resident-id", &corrupted).await;
        assert_eq!(v["valid"], false, "position {}: {v}", pos + 1);
        let code = v["error"]["code"].as_str().unwrap();
        assert!(known.contains(&code), "position {}: {code}", pos + 1);
        assert!(!v["error"]["message_zh"].as_str().unwrap().is_empty());
        assert!(!v["error"]["message_en"].as_str().unwrap().is_empty());
        assert!(v.get("masked").is_none(), "no fields when invalid");
        assert!(!body.contains(&corrupted), "input not echoed");
        // A letter in the first 17 positions is an invalid character at that position.
        if pos < 17 {
            chars[pos] = 'A';
            let lettered: String = chars.iter().collect();
            let (v, _) = check(&t, "resident-id", &lettered).await;
            assert_eq!(v["error"]["code"], "resident_id_invalid_character");
            assert!(
                v["error"]["message_en"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("position {}", pos + 1)),
                "{v}"
            );
        }
    }
    // The last character alone: a checksum error naming the right one.
    let (v, _) = check(&t, "resident-id", "110105194912310021").await;
    assert_eq!(v["error"]["code"], "resident_id_checksum");
    assert!(v["error"]["message_en"].as_str().unwrap().contains('X'));
    // Dates.
    let (v, _) = check(&t, "resident-id", "110105194902300025").await;
    assert_eq!(v["error"]["code"], "resident_id_invalid_birth_date");
    // Lengths.
    let (v, _) = check(&t, "resident-id", "1101051949123100").await;
    assert_eq!(v["error"]["code"], "resident_id_length");
    // 15 digits: the pre-1999 form.
    let (v, _) = check(&t, "resident-id", "110105491231002").await;
    assert_eq!(v["valid"], false);
    assert_eq!(v["error"]["code"], "resident_id_legacy_15");
}

#[tokio::test]
async fn credit_codes() {
    let t = TestApp::new().await;
    let (v, _) = check(&t, "credit-code", CREDIT).await;
    assert_eq!(v["kind"], "credit_code");
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["code"], CREDIT);
    assert_eq!(v["registering_authority"], "9");
    assert_eq!(v["category"], "1");
    assert_eq!(v["category_zh"], "企业");
    assert_eq!(v["division"], "330100");
    assert_eq!(v["organisation_code"], "716105852");
    // Lower case is read as upper case.
    let (v, _) = check(&t, "credit-code", &CREDIT.to_lowercase()).await;
    assert_eq!(v["valid"], true);
    assert_eq!(v["code"], CREDIT);

    for (bad, code) in [
        ("91330100716105852G", "credit_code_checksum"),
        ("91330100716105853F", "credit_code_organisation_check"),
        ("9133010071610585", "credit_code_length"),
        ("91330100716105852I", "credit_code_invalid_character"),
    ] {
        let (v, _) = check(&t, "credit-code", bad).await;
        assert_eq!(v["valid"], false, "{bad}");
        assert_eq!(v["error"]["code"], code, "{bad}: {v}");
        assert!(v.get("organisation_code").is_none());
    }
    // Every single-character change is caught.
    let alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    for pos in 0..18 {
        let mut chars: Vec<char> = CREDIT.chars().collect();
        let replacement = alphabet.chars().find(|c| *c != chars[pos]).unwrap();
        chars[pos] = replacement;
        let corrupted: String = chars.into_iter().collect();
        let (v, _) = check(&t, "credit-code", &corrupted).await;
        assert_eq!(v["valid"], false, "{corrupted}: {v}");
        assert!(
            v["error"]["code"]
                .as_str()
                .unwrap()
                .starts_with("credit_code_")
        );
    }
}

#[tokio::test]
async fn division_codes_with_names_from_the_catalog() {
    let t = TestApp::new().await;
    let (v, _) = check(&t, "division", "330106").await;
    assert_eq!(v["kind"], "division");
    assert_eq!(v["valid"], true);
    assert_eq!(v["code"], "330106");
    assert_eq!(v["level"], "county");
    assert_eq!(v["parent_code"], "330100");
    assert_eq!(v["name"], "西湖区");
    let (v, _) = check(&t, "division", "330000").await;
    assert_eq!(v["level"], "province");
    assert_eq!(v["parent_code"], Value::Null);
    assert_eq!(v["name"], "浙江省");
    let (v, _) = check(&t, "division", "330100").await;
    assert_eq!(v["level"], "city");
    assert_eq!(v["parent_code"], "330000");
    // Valid but not in the demo: no name.
    let (v, _) = check(&t, "division", "110105").await;
    assert_eq!(v["valid"], true);
    assert_eq!(v["name"], Value::Null);
    // Township level.
    let (v, _) = check(&t, "division", "330106001000").await;
    assert_eq!(v["level"], "township");
    assert_eq!(v["parent_code"], "330106");
    for (bad, code) in [
        ("990000", "division_code_province"),
        ("33010", "division_code_length"),
        ("3301a6", "division_code_invalid_character"),
        ("330006", "division_code_county_without_city"),
    ] {
        let (v, _) = check(&t, "division", bad).await;
        assert_eq!(v["valid"], false, "{bad}");
        assert_eq!(v["error"]["code"], code, "{bad}: {v}");
    }
}

#[tokio::test]
async fn certificate_identifiers() {
    let t = TestApp::new().await;
    let ministry = "11330000070655803U";
    let issuer = CreditCode::parse("123301000597435545").unwrap();
    let id = CertificateId::new(&format!("{ministry}001"), &issuer, "2024hz000123", 1).unwrap();
    let (v, _) = check(&t, "certificate-id", id.as_str()).await;
    assert_eq!(v["kind"], "certificate_id");
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["type_code"], format!("{ministry}001"));
    assert_eq!(v["issuing_ministry"], ministry);
    assert_eq!(v["type_number"], "001");
    assert_eq!(v["issuer"], "123301000597435545");
    assert_eq!(v["serial"], "2024HZ000123");
    assert_eq!(v["version"], 1);
    // Lower case input is the same identifier.
    let (v, _) = check(&t, "certificate-id", &id.as_str().to_lowercase()).await;
    assert_eq!(v["valid"], true);
    assert_eq!(v["id"], id.as_str());

    // A wrong check character.
    let s = id.as_str();
    let last = s.chars().last().unwrap();
    let wrong = if last == '0' { '1' } else { '0' };
    let corrupted = format!("{}{wrong}", &s[..s.len() - 1]);
    let (v, _) = check(&t, "certificate-id", &corrupted).await;
    assert_eq!(v["valid"], false);
    assert_eq!(v["error"]["code"], "certificate_id_checksum");
    // A changed serial with the old check character.
    let corrupted = s.replace("2024HZ000123", "2024HZ000124");
    let (v, _) = check(&t, "certificate-id", &corrupted).await;
    assert_eq!(v["error"]["code"], "certificate_id_checksum");
    let (v, _) = check(&t, "certificate-id", "1.2.156.3005.2").await;
    assert_eq!(v["valid"], false);
    let (v, _) = check(&t, "certificate-id", "2.16.840.1.1").await;
    assert_eq!(v["error"]["code"], "certificate_id_prefix");
}

#[tokio::test]
async fn unknown_kind_is_a_404_problem() {
    let t = TestApp::new().await;
    let r = t.get("/api/v1/identifiers/passport/E12345678").await;
    let p = r.problem(StatusCode::NOT_FOUND, "unknown_identifier_kind");
    assert!(p["message_en"].as_str().unwrap().contains("resident-id"));
    // The kind is not echoed in a way that could leak the value.
    assert!(!r.text().contains("E12345678"));
    t.get("/api/v1/identifiers/resident-id")
        .await
        .problem(StatusCode::NOT_FOUND, "no_such_route");
}

#[tokio::test]
async fn weird_input_is_answered_never_crashes() {
    let t = TestApp::new().await;
    let long_digits = "1".repeat(5000);
    let long_mixed = "中1😀".repeat(1700);
    let weird: Vec<&str> = vec![
        "😀",
        "１１０１０５１９４９１２３１００２Ｘ", // full-width
        "11010519491231002Ｘ",
        "中华人民共和国",
        "110105 19491231 002X",
        "\u{0}",
        "\u{200b}11010519491231002X",
        "11010519491231002X\u{301}",
        "ꓸꓸꓸ",
        "..........",
        "1.2.156.3005.2.........",
        "-1",
        "%",
        "%E4%B8%AD", // percent signs inside the value
        &long_digits,
        &long_mixed,
    ];
    for kind in ["resident-id", "credit-code", "division", "certificate-id"] {
        for value in &weird {
            let (v, body) = check(&t, kind, value).await;
            assert_eq!(v["valid"], false, "{kind}/{value:.30}: {v}");
            let code = v["error"]["code"].as_str().unwrap();
            assert!(!code.is_empty());
            assert!(body.len() < 2000, "answers stay small: {kind}/{value:.30}");
        }
    }
    // Full-width digits get a hint about the input method.
    let (v, _) = check(&t, "resident-id", "１１０１０５１９４９１２３１００２Ｘ").await;
    assert_eq!(v["error"]["code"], "resident_id_invalid_character");
    // Bytes that are not UTF-8 after percent-decoding: a problem, never a 500.
    for raw in ["%FF%FE", "%C3%28", "%ED%A0%80"] {
        let r = t
            .get(&format!("/api/v1/identifiers/resident-id/{raw}"))
            .await;
        assert!(r.status.is_client_error(), "{raw}: {}", r.status);
        r.problem(r.status, "invalid_path");
    }
}
