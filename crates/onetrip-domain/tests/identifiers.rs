//! Tests of `onetrip_domain::identifiers`: known values, every single-character corruption,
//! specific error codes, and property tests (never panic, generated values round-trip,
//! masking never reveals the middle of a resident ID number).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use jiff::civil::{Date, date};
use onetrip_domain::Localized;
use onetrip_domain::identifiers::*;
use proptest::prelude::*;

const TODAY: Date = date(2026, 11, 21);
const RESIDENT_EXAMPLE: &str = "11010519491231002X";
const CREDIT_EXAMPLE: &str = "91330100716105852F";
const CREDIT_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const ALNUM36: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Real division codes (some abolished, which must stay valid inside identifiers).
const DIVISIONS: &[&str] = &[
    "110101", "110105", "120101", "310104", "320102", "330000", "330100", "330102", "330103",
    "330104", "330106", "330111", "330113", "330114", "330226", "330381", "330382", "330421",
    "330782", "330903", "331003", "331083", "339900", "429004", "440305", "441900", "460400",
    "510107", "650102", "820000",
];

fn code_of<T, E: Localized>(r: Result<T, E>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

fn resident(first17: &str) -> String {
    format!("{first17}{}", resident_id_check_char(first17).unwrap())
}

fn credit(auth_cat: &str, division: &str, org8: &str) -> String {
    let org9 = format!("{org8}{}", organisation_code_check_char(org8).unwrap());
    let first17 = format!("{auth_cat}{division}{org9}");
    format!("{first17}{}", credit_code_check_char(&first17).unwrap())
}

fn certificate_example() -> CertificateId {
    let ministry = credit("11", "110000", "00001234");
    let issuer = CreditCode::parse(CREDIT_EXAMPLE).unwrap();
    CertificateId::new(&format!("{ministry}001"), &issuer, "2026ABC000123", 1).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Division codes

#[test]
fn division_levels_and_parents() {
    let d = |s: &str| DivisionCode::parse(s).unwrap();
    assert_eq!(d("330000").level(), DivisionLevel::Province);
    assert_eq!(d("330100").level(), DivisionLevel::City);
    assert_eq!(d("339900").level(), DivisionLevel::City);
    assert_eq!(d("330106").level(), DivisionLevel::County);
    assert_eq!(d("330106001000").level(), DivisionLevel::Township);
    assert_eq!(d("330106001002").level(), DivisionLevel::Village);

    assert_eq!(d("330106").parent(), Some(d("330100")));
    assert_eq!(d("330100").parent(), Some(d("330000")));
    assert_eq!(d("339900").parent(), Some(d("330000")));
    assert_eq!(d("330000").parent(), None);
    assert_eq!(d("330106001000").parent(), Some(d("330106")));
    assert_eq!(d("330106001002").parent(), Some(d("330106001000")));
    assert_eq!(d("441900003000").parent(), Some(d("441900")));

    let chain: Vec<String> = d("330106001002")
        .ancestors()
        .map(|a| a.to_string())
        .collect();
    assert_eq!(chain, ["330106001000", "330106", "330100", "330000"]);
    assert_eq!(d("330000").ancestors().count(), 0);

    assert!(d("330106001002").is_within(&d("330100")));
    assert!(d("330106").is_within(&d("330106")));
    assert!(d("330106").is_within(&d("330000")));
    assert!(!d("330106").is_within(&d("330200")));
    assert!(!d("330100").is_within(&d("330106")));
    assert!(!d("330106").is_within(&d("339900")));
    assert_eq!(d("330782").province(), d("330000"));
}

#[test]
fn division_parse_forms_and_serde() {
    let c = DivisionCode::parse(" \t330106\n").unwrap();
    assert_eq!(c.as_str(), "330106");
    assert_eq!(c.to_string(), "330106");
    assert_eq!(format!("{c:?}"), "DivisionCode(\"330106\")");
    assert_eq!("330106".parse::<DivisionCode>().unwrap(), c);
    assert_eq!(serde_json::to_string(&c).unwrap(), "\"330106\"");
    assert_eq!(
        serde_json::from_str::<DivisionCode>("\"330106\"").unwrap(),
        c
    );
    let err = serde_json::from_str::<DivisionCode>("\"990000\"").unwrap_err();
    assert!(err.to_string().contains("division_code_province"), "{err}");
    assert!(serde_json::from_str::<DivisionCode>("330106").is_err());
    for code in DIVISIONS {
        assert_eq!(DivisionCode::parse(code).unwrap().as_str(), *code);
    }
}

#[test]
fn division_error_codes() {
    let p = DivisionCode::parse;
    assert_eq!(code_of(p("")), "division_code_empty");
    assert_eq!(code_of(p(" \r\n")), "division_code_empty");
    assert_eq!(
        code_of(p("３３０１０６")),
        "division_code_invalid_character"
    );
    assert_eq!(
        code_of(p("\u{3000}330106")),
        "division_code_invalid_character"
    );
    assert_eq!(code_of(p("33010")), "division_code_length");
    assert_eq!(code_of(p("3301060")), "division_code_length");
    assert_eq!(code_of(p("990000")), "division_code_province");
    assert_eq!(code_of(p("100000")), "division_code_province");
    assert_eq!(code_of(p("330012")), "division_code_county_without_city");
    assert_eq!(code_of(p("330106000000")), "division_code_township_zero");
    assert_eq!(code_of(p("330106000001")), "division_code_township_zero");
    assert_eq!(
        code_of(p("330000001000")),
        "division_code_township_under_province"
    );
    match p("33０106") {
        Err(
            e @ DivisionCodeError::InvalidCharacter {
                ch: '０',
                position: 3,
            },
        ) => {
            assert!(e.message_zh().contains("全角"), "{}", e.message_zh());
            assert!(e.message_en().contains("full-width"), "{}", e.message_en());
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Resident ID numbers

#[test]
fn resident_example() {
    let id = ResidentId::parse(RESIDENT_EXAMPLE, TODAY).unwrap();
    assert_eq!(id.expose(), RESIDENT_EXAMPLE);
    assert_eq!(id.division().as_str(), "110105");
    assert_eq!(id.birth_date(), date(1949, 12, 31));
    assert_eq!(id.sex(), Sex::Female);
    assert_eq!(id.masked(), "110105********002X");
    assert_eq!(id.to_string(), "110105********002X");
    assert_eq!(format!("{id:?}"), "ResidentId(\"110105********002X\")");
    let lower = ResidentId::parse(" 11010519491231002x ", TODAY).unwrap();
    assert_eq!(lower.expose(), RESIDENT_EXAMPLE);
    assert_eq!(lower, id);
    assert_eq!(resident_id_check_char("11010519491231002"), Some('X'));

    let json = serde_json::to_value(id.info()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "masked": "110105********002X",
            "division": "110105",
            "birth_date": "1949-12-31",
            "sex": "female",
        })
    );
    let back: ResidentIdInfo = serde_json::from_value(json).unwrap();
    assert_eq!(back, id.info());
}

#[test]
fn resident_sex_and_age() {
    let male = ResidentId::parse(&resident("33010619800101001"), TODAY).unwrap();
    assert_eq!(male.sex(), Sex::Male);
    let id = ResidentId::parse(RESIDENT_EXAMPLE, TODAY).unwrap();
    assert_eq!(id.age_on(date(1949, 12, 31)), 0);
    assert_eq!(id.age_on(date(1950, 12, 30)), 0);
    assert_eq!(id.age_on(date(1950, 12, 31)), 1);
    assert_eq!(id.age_on(date(2026, 11, 21)), 76);
    assert_eq!(id.age_on(date(1949, 12, 30)), -1);
    let leap = ResidentId::parse(&resident("11010520000229001"), TODAY).unwrap();
    assert_eq!(leap.age_on(date(2001, 2, 28)), 0);
    assert_eq!(leap.age_on(date(2001, 3, 1)), 1);
    assert_eq!(leap.age_on(date(2004, 2, 29)), 4);
    // Born today is fine; tomorrow is not.
    assert!(ResidentId::parse(&resident("33010620261121001"), TODAY).is_ok());
    assert_eq!(
        code_of(ResidentId::parse(&resident("33010620261122001"), TODAY)),
        "resident_id_birth_date_in_future"
    );
    // Abolished division codes stay valid.
    assert!(ResidentId::parse(&resident("33010319800101001"), TODAY).is_ok());
    assert!(ResidentId::parse(&resident("11010519000101001"), TODAY).is_ok());
}

#[test]
fn resident_error_codes() {
    let p = |s: &str| ResidentId::parse(s, TODAY);
    assert_eq!(code_of(p("")), "resident_id_empty");
    assert_eq!(code_of(p("  \t")), "resident_id_empty");
    assert_eq!(code_of(p("1101051949123100")), "resident_id_length");
    assert_eq!(code_of(p("11010519491231002X1")), "resident_id_length");
    assert_eq!(
        code_of(p("11010519491231002Y")),
        "resident_id_invalid_character"
    );
    assert_eq!(
        p("1101051949123100X2"),
        Err(ResidentIdError::InvalidCharacter {
            ch: 'X',
            position: 17
        })
    );
    assert_eq!(
        p("１１０１０５１９４９１２３１００２Ｘ"),
        Err(ResidentIdError::InvalidCharacter {
            ch: '１',
            position: 1
        })
    );
    assert_eq!(
        code_of(p("1101051949😀231002X")),
        "resident_id_invalid_character"
    );
    assert_eq!(
        code_of(p(&resident("99010519491231002"))),
        "resident_id_invalid_division"
    );
    assert_eq!(
        code_of(p(&resident("33001219491231002"))),
        "resident_id_invalid_division"
    );
    assert_eq!(
        code_of(p(&resident("11010519490230002"))),
        "resident_id_invalid_birth_date"
    );
    assert_eq!(
        code_of(p(&resident("11010519491301002"))),
        "resident_id_invalid_birth_date"
    );
    assert_eq!(
        code_of(p(&resident("11010519490100002"))),
        "resident_id_invalid_birth_date"
    );
    assert_eq!(
        code_of(p(&resident("11010519010229002"))),
        "resident_id_invalid_birth_date"
    );
    assert_eq!(
        code_of(p(&resident("11010518991231002"))),
        "resident_id_birth_date_too_early"
    );
    assert_eq!(
        code_of(p(&resident("11010530000101002"))),
        "resident_id_birth_date_in_future"
    );

    let err = p("110105194912310021").unwrap_err();
    assert_eq!(err, ResidentIdError::Checksum { expected: 'X' });
    assert_eq!(err.code(), "resident_id_checksum");
    assert!(
        err.message_zh().contains("校验码错误：第18位应为 X"),
        "{}",
        err.message_zh()
    );
    assert!(
        err.message_en()
            .contains("check character is wrong: the 18th character should be X"),
        "{}",
        err.message_en()
    );
}

#[test]
fn resident_legacy_15_is_refused_with_upgrade_hint() {
    let err = ResidentId::parse("110105491231002", TODAY).unwrap_err();
    assert_eq!(err.code(), "resident_id_legacy_15");
    let ResidentIdError::Legacy15 { upgraded: Some(up) } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(up.expose(), RESIDENT_EXAMPLE);
    assert!(err.message_zh().contains("1999"));
    assert!(
        err.message_zh().contains(RESIDENT_EXAMPLE),
        "{}",
        err.message_zh()
    );
    assert!(err.message_en().contains("1999"));
    assert!(
        err.message_en().contains(RESIDENT_EXAMPLE),
        "{}",
        err.message_en()
    );
    // Display and Debug stay masked.
    assert!(!err.to_string().contains(RESIDENT_EXAMPLE), "{err}");
    assert!(err.to_string().contains("110105********002X"), "{err}");
    assert!(!format!("{err:?}").contains(RESIDENT_EXAMPLE), "{err:?}");

    // Upgraded form invalid (30 February): still refused as legacy, without a hint.
    let err = ResidentId::parse("110105490230002", TODAY).unwrap_err();
    assert_eq!(err, ResidentIdError::Legacy15 { upgraded: None });
    assert!(!err.message_zh().contains("升级后"));
}

#[test]
fn resident_every_single_substitution_is_rejected() {
    let chars: Vec<char> = RESIDENT_EXAMPLE.chars().collect();
    let mut tried = 0;
    for pos in 0..chars.len() {
        for c in "0123456789X".chars() {
            if c == chars[pos] || (c == 'X' && pos != 17) {
                continue;
            }
            let mut m = chars.clone();
            m[pos] = c;
            let s: String = m.iter().collect();
            assert!(ResidentId::parse(&s, TODAY).is_err(), "accepted {s}");
            tried += 1;
        }
    }
    assert_eq!(tried, 17 * 9 + 10);
}

#[test]
fn resident_every_adjacent_transposition_is_rejected() {
    // MOD 11-2: adjacent weights w and 2w (mod 11) differ, so swapping two different digits
    // changes the sum by (a − b)·w ≢ 0 (mod 11). That holds for every pair, the check
    // character included.
    for id in [RESIDENT_EXAMPLE, "330106198001010014", "11010520000229001X"] {
        let id = resident(&id[..17]);
        assert_transpositions_rejected(&id);
    }
}

fn assert_transpositions_rejected(id: &str) {
    let chars: Vec<char> = id.chars().collect();
    for i in 0..chars.len() - 1 {
        if chars[i] == chars[i + 1] {
            continue;
        }
        let mut m = chars.clone();
        m.swap(i, i + 1);
        let s: String = m.iter().collect();
        assert!(
            ResidentId::parse(&s, TODAY).is_err(),
            "accepted {s} (from {id})"
        );
    }
}

#[test]
fn resident_check_char_helper_rejects_bad_input() {
    assert_eq!(resident_id_check_char(""), None);
    assert_eq!(resident_id_check_char("1101051949123100"), None);
    assert_eq!(resident_id_check_char("110105194912310021"), None);
    assert_eq!(resident_id_check_char("1101051949123100A"), None);
    assert_eq!(resident_id_check_char("110105194912310０"), None);
}

// ---------------------------------------------------------------------------------------------
// Credit codes

#[test]
fn credit_example() {
    let c = CreditCode::parse(CREDIT_EXAMPLE).unwrap();
    assert_eq!(c.as_str(), CREDIT_EXAMPLE);
    assert_eq!(c.to_string(), CREDIT_EXAMPLE);
    assert_eq!(
        format!("{c:?}"),
        format!("CreditCode(\"{CREDIT_EXAMPLE}\")")
    );
    assert_eq!(
        c.registering_authority(),
        RegisteringAuthority::MarketRegulation
    );
    assert_eq!(c.registering_authority().name_zh(), "工商（市场监管）");
    assert_eq!(c.category().code(), '1');
    assert_eq!(c.category().name_zh(), Some("企业"));
    assert_eq!(c.category().name_en(), Some("enterprise"));
    assert_eq!(c.division().as_str(), "330100");
    assert_eq!(c.organisation_code(), "716105852");
    assert_eq!(c.check_char(), 'F');
    assert_eq!(credit_code_check_char("91330100716105852"), Some('F'));
    assert_eq!(credit_code_check_char("91330100716105852f"), None);
    assert_eq!(organisation_code_check_char("71610585"), Some('2'));
    assert_eq!(organisation_code_check_char("7161058"), None);
    assert_eq!(CreditCode::parse(" 91330100716105852f\n").unwrap(), c);
    assert_eq!(CREDIT_EXAMPLE.parse::<CreditCode>().unwrap(), c);

    let json = serde_json::to_string(&c).unwrap();
    assert_eq!(json, format!("\"{CREDIT_EXAMPLE}\""));
    assert_eq!(serde_json::from_str::<CreditCode>(&json).unwrap(), c);
    assert!(serde_json::from_str::<CreditCode>("\"91330100716105852A\"").is_err());

    let info = serde_json::to_value(c.info()).unwrap();
    assert_eq!(info["registering_authority"], "9");
    assert_eq!(info["category_zh"], "企业");
    assert_eq!(info["division"], "330100");
    assert_eq!(info["organisation_code"], "716105852");
}

#[test]
fn credit_authorities_and_categories() {
    let cases = [
        (
            "11",
            RegisteringAuthority::InstitutionalStaffing,
            Some("机关"),
        ),
        (
            "12",
            RegisteringAuthority::InstitutionalStaffing,
            Some("事业单位"),
        ),
        ("51", RegisteringAuthority::CivilAffairs, Some("社会团体")),
        (
            "52",
            RegisteringAuthority::CivilAffairs,
            Some("民办非企业单位"),
        ),
        ("53", RegisteringAuthority::CivilAffairs, Some("基金会")),
        ("59", RegisteringAuthority::CivilAffairs, Some("其他")),
        (
            "92",
            RegisteringAuthority::MarketRegulation,
            Some("个体工商户"),
        ),
        (
            "93",
            RegisteringAuthority::MarketRegulation,
            Some("农民专业合作社"),
        ),
        ("N2", RegisteringAuthority::Agriculture, None),
        ("A1", RegisteringAuthority::MilitaryReformAndStaffing, None),
        ("Y1", RegisteringAuthority::OtherDepartments, None),
        ("B1", RegisteringAuthority::Other('B'), None),
    ];
    for (prefix, authority, category) in cases {
        let c = CreditCode::parse(&credit(prefix, "330106", "MA2H3K4L")).unwrap();
        assert_eq!(c.registering_authority(), authority, "{prefix}");
        assert_eq!(c.category().name_zh(), category, "{prefix}");
        assert_eq!(RegisteringAuthority::from_char(authority.code()), authority);
    }
}

#[test]
fn credit_every_single_substitution_is_rejected() {
    let chars: Vec<char> = CREDIT_EXAMPLE.chars().collect();
    let mut tried = 0;
    for pos in 0..chars.len() {
        for c in ALNUM36.chars() {
            if c == chars[pos] {
                continue;
            }
            let mut m = chars.clone();
            m[pos] = c;
            let s: String = m.iter().collect();
            assert!(CreditCode::parse(&s).is_err(), "accepted {s}");
            tried += 1;
        }
    }
    assert_eq!(tried, 18 * 35);
}

#[test]
fn credit_error_codes() {
    let p = CreditCode::parse;
    assert_eq!(code_of(p("")), "credit_code_empty");
    assert_eq!(code_of(p("9133010071610585")), "credit_code_length");
    assert_eq!(code_of(p("91330100716105852F0")), "credit_code_length");
    let err = p("91330100716105852O").unwrap_err();
    assert_eq!(
        err,
        CreditCodeError::InvalidCharacter {
            ch: 'O',
            position: 18
        }
    );
    assert!(err.message_zh().contains("第18位"), "{}", err.message_zh());
    assert!(err.message_zh().contains("'O'"), "{}", err.message_zh());
    assert!(
        err.message_en().contains("'O' at position 18"),
        "{}",
        err.message_en()
    );
    assert_eq!(
        p("9133010071610585２F"),
        Err(CreditCodeError::InvalidCharacter {
            ch: '２',
            position: 17
        })
    );
    assert_eq!(
        code_of(p(&credit("91", "990100", "71610585"))),
        "credit_code_invalid_division"
    );
    assert_eq!(
        code_of(p(&credit("91", "33A100", "71610585"))),
        "credit_code_invalid_division"
    );
    // Wrong organisation check, overall check recomputed so only the inner check fails.
    let first17 = "91330100716105853";
    let s = format!("{first17}{}", credit_code_check_char(first17).unwrap());
    let err = p(&s).unwrap_err();
    assert_eq!(
        err,
        CreditCodeError::OrganisationCodeCheck {
            expected: Some('2')
        }
    );
    assert_eq!(err.code(), "credit_code_organisation_check");
    let err = p("91330100716105852A").unwrap_err();
    assert_eq!(err, CreditCodeError::Checksum { expected: 'F' });
    assert_eq!(err.code(), "credit_code_checksum");
    assert!(
        err.message_zh().contains("第18位应为 F"),
        "{}",
        err.message_zh()
    );
    assert!(err.message_en().contains("the 18th character should be F"));
}

#[test]
fn organisation_check_special_values() {
    // Find bodies whose check is X (10) and 0 (11) and make sure both are accepted.
    let mut seen_x = false;
    let mut seen_0 = false;
    for n in 0..200u32 {
        let body = format!("{n:08}");
        match organisation_code_check_char(&body).unwrap() {
            'X' => {
                seen_x = true;
                assert!(CreditCode::parse(&credit("91", "330106", &body)).is_ok());
            }
            '0' => {
                seen_0 = true;
                assert!(CreditCode::parse(&credit("91", "330106", &body)).is_ok());
            }
            _ => {}
        }
    }
    assert!(seen_x && seen_0);
}

// ---------------------------------------------------------------------------------------------
// Certificate identifiers

#[test]
fn iso7064_mod37_36_known_value() {
    // The GRid example from its standard (ISO/IEC 7064 MOD 37,36): A1-2425G-ABC1234002-M.
    assert_eq!(iso7064_mod37_36_check_char("A12425GABC1234002"), Some('M'));
    assert!(iso7064_mod37_36_is_valid("A12425GABC1234002M"));
    assert!(iso7064_mod37_36_is_valid("a12425gabc1234002m"));
    assert!(!iso7064_mod37_36_is_valid("A12425GABC1234002N"));
    assert!(!iso7064_mod37_36_is_valid(""));
    assert_eq!(iso7064_mod37_36_check_char("A1-2425G"), None);
    assert_eq!(iso7064_mod37_36_check_char("中"), None);
}

#[test]
fn certificate_example_round_trip() {
    let id = certificate_example();
    let s = id.as_str().to_owned();
    assert!(s.starts_with("1.2.156.3005.2."));
    assert_eq!(CertificateId::parse(&s).unwrap(), id);
    assert_eq!(CertificateId::parse(&s.to_ascii_lowercase()).unwrap(), id);
    assert_eq!(s.parse::<CertificateId>().unwrap(), id);
    assert_eq!(id.to_string(), s);
    assert_eq!(id.type_code().len(), 21);
    assert_eq!(id.type_number(), "001");
    assert_eq!(id.issuing_ministry().as_str(), &id.type_code()[..18]);
    assert_eq!(id.issuer().as_str(), CREDIT_EXAMPLE);
    assert_eq!(id.serial(), "2026ABC000123");
    assert_eq!(id.version(), 1);
    let data: String = s[..s.len() - 2].chars().filter(|&c| c != '.').collect();
    assert_eq!(iso7064_mod37_36_check_char(&data), Some(id.check_char()));
    assert!(iso7064_mod37_36_is_valid(&format!(
        "{data}{}",
        id.check_char()
    )));

    let json = serde_json::to_string(&id).unwrap();
    assert_eq!(serde_json::from_str::<CertificateId>(&json).unwrap(), id);
    let info = id.info();
    assert_eq!(info.serial, "2026ABC000123");
    assert_eq!(info.issuer.as_str(), CREDIT_EXAMPLE);
    let info_json = serde_json::to_value(&info).unwrap();
    assert_eq!(info_json["issuer"], CREDIT_EXAMPLE);
    assert_eq!(info_json["version"], 1);
}

#[test]
fn certificate_every_single_substitution_is_rejected() {
    let id = certificate_example();
    let chars: Vec<char> = id.as_str().chars().collect();
    for pos in 0..chars.len() {
        for c in ALNUM36.chars().chain(['.']) {
            if c == chars[pos] {
                continue;
            }
            let mut m = chars.clone();
            m[pos] = c;
            let s: String = m.iter().collect();
            assert!(CertificateId::parse(&s).is_err(), "accepted {s}");
        }
    }
}

#[test]
fn certificate_error_codes() {
    let id = certificate_example();
    let s = id.as_str();
    let ministry = &id.type_code()[..18];
    let p = CertificateId::parse;
    let with_check = |body: &str| {
        let data: String = body.chars().filter(|&c| c != '.').collect();
        format!("{body}.{}", iso7064_mod37_36_check_char(&data).unwrap())
    };
    let body =
        |t: &str, i: &str, serial: &str, v: &str| format!("1.2.156.3005.2.{t}.{i}.{serial}.{v}");

    assert_eq!(code_of(p("")), "certificate_id_empty");
    assert_eq!(
        code_of(p("1.2.156.3005.2.中")),
        "certificate_id_invalid_character"
    );
    assert_eq!(
        p("1.2.156.3005.2.中"),
        Err(CertificateIdError::InvalidCharacter {
            ch: '中',
            position: 16
        })
    );
    assert_eq!(
        code_of(p(&format!("{s}{}", "1".repeat(200)))),
        "certificate_id_too_long"
    );
    assert_eq!(
        code_of(p(&s.replacen("3005.2", "3005.3", 1))),
        "certificate_id_prefix"
    );
    assert_eq!(code_of(p("1.2.156.3005.2")), "certificate_id_prefix");
    let serial_split = with_check(&body(id.type_code(), CREDIT_EXAMPLE, "2026.ABC", "1"));
    assert_eq!(
        p(&serial_split),
        Err(CertificateIdError::Segments { found: 11 })
    );
    assert_eq!(
        code_of(p(&with_check(&body(
            &id.type_code()[..20],
            CREDIT_EXAMPLE,
            "1",
            "1"
        )))),
        "certificate_id_type_code"
    );
    assert_eq!(
        code_of(p(&with_check(&body(
            &format!("{ministry}00A"),
            CREDIT_EXAMPLE,
            "1",
            "1"
        )))),
        "certificate_id_type_code"
    );
    assert_eq!(
        code_of(p(&with_check(&body(
            "91330100716105852A001",
            CREDIT_EXAMPLE,
            "1",
            "1"
        )))),
        "certificate_id_type_code_credit_code"
    );
    assert_eq!(
        code_of(p(&with_check(&body(
            id.type_code(),
            "91330100716105852A",
            "1",
            "1"
        )))),
        "certificate_id_issuer"
    );
    assert_eq!(
        code_of(p(&with_check(&body(
            id.type_code(),
            CREDIT_EXAMPLE,
            "",
            "1"
        )))),
        "certificate_id_serial"
    );
    assert_eq!(
        code_of(p(&with_check(&body(
            id.type_code(),
            CREDIT_EXAMPLE,
            &"1".repeat(33),
            "1"
        )))),
        "certificate_id_serial"
    );
    assert_eq!(
        code_of(p(&with_check(&body(
            id.type_code(),
            CREDIT_EXAMPLE,
            "1",
            "12345"
        )))),
        "certificate_id_version"
    );
    assert_eq!(
        code_of(p(&with_check(&body(
            id.type_code(),
            CREDIT_EXAMPLE,
            "1",
            ""
        )))),
        "certificate_id_version"
    );
    assert_eq!(code_of(p(&format!("{s}0"))), "certificate_id_check_format");
    assert_eq!(code_of(p(&s[..s.len() - 1])), "certificate_id_check_format");
    let wrong = if id.check_char() == '0' { '1' } else { '0' };
    let err = p(&format!("{}{wrong}", &s[..s.len() - 1])).unwrap_err();
    assert_eq!(
        err,
        CertificateIdError::Checksum {
            expected: id.check_char()
        }
    );
    assert_eq!(err.code(), "certificate_id_checksum");

    let issuer = CreditCode::parse(CREDIT_EXAMPLE).unwrap();
    let new = |t: &str, serial: &str, v: u16| CertificateId::new(t, &issuer, serial, v);
    assert_eq!(
        code_of(new(id.type_code(), "1", 10000)),
        "certificate_id_version"
    );
    assert_eq!(code_of(new(id.type_code(), "1", 9999)), "ok");
    assert_eq!(
        code_of(new(id.type_code(), "A.B", 1)),
        "certificate_id_serial"
    );
    assert_eq!(
        code_of(new(id.type_code(), "序号", 1)),
        "certificate_id_serial"
    );
    assert_eq!(code_of(new("短", "1", 1)), "certificate_id_type_code");
    assert_eq!(
        code_of(new(&format!("{ministry}00１"), "1", 1)),
        "certificate_id_type_code"
    );
    assert_eq!(
        new(&id.type_code().to_ascii_lowercase(), "2026abc000123", 1).unwrap(),
        id
    );
}

#[test]
fn every_error_has_messages() {
    let errors: Vec<Box<dyn Localized>> = vec![
        Box::new(DivisionCode::parse("x").unwrap_err()),
        Box::new(ResidentId::parse("x", TODAY).unwrap_err()),
        Box::new(ResidentId::parse(&resident("99010519491231002"), TODAY).unwrap_err()),
        Box::new(CreditCode::parse("S").unwrap_err()),
        Box::new(CertificateId::parse("x").unwrap_err()),
    ];
    for e in errors {
        let code = e.code();
        assert!(
            code.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        );
        assert!(
            !e.message_zh().is_empty() && !e.message_en().is_empty(),
            "{code}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Huge inputs

#[test]
fn one_megabyte_inputs_do_not_panic() {
    const MB: usize = 1 << 20;
    let inputs = [
        "1".repeat(MB),
        "a".repeat(MB),
        "中".repeat(MB / 3),
        "３".repeat(MB / 3),
        "😀".repeat(MB / 4),
        format!("1.2.156.3005.2.{}", "A".repeat(MB)),
        format!("{}{}", " ".repeat(MB / 2), "1".repeat(MB / 2)),
        ".".repeat(MB),
    ];
    for s in &inputs {
        exercise_every_parser(s);
        assert!(DivisionCode::parse(s).is_err());
        assert!(ResidentId::parse(s, TODAY).is_err());
        assert!(CreditCode::parse(s).is_err());
        assert!(CertificateId::parse(s).is_err());
    }
}

/// Runs every parser and helper on `s`, and renders every error (none may panic).
fn exercise_every_parser(s: &str) {
    fn render<T, E: Localized + std::fmt::Debug + std::fmt::Display>(r: Result<T, E>) {
        if let Err(e) = r {
            let _ = (
                e.code(),
                e.message_zh(),
                e.message_en(),
                e.to_string(),
                format!("{e:?}"),
            );
        }
    }
    render(DivisionCode::parse(s));
    render(ResidentId::parse(s, TODAY));
    render(ResidentId::parse(s, date(1900, 1, 1)));
    render(CreditCode::parse(s));
    render(CertificateId::parse(s));
    let _ = resident_id_check_char(s);
    let _ = credit_code_check_char(s);
    let _ = organisation_code_check_char(s);
    let _ = iso7064_mod37_36_check_char(s);
    let _ = iso7064_mod37_36_is_valid(s);
    let _ = serde_json::from_value::<DivisionCode>(serde_json::Value::String(s.to_owned()));
    let _ = serde_json::from_value::<CreditCode>(serde_json::Value::String(s.to_owned()));
    let _ = serde_json::from_value::<CertificateId>(serde_json::Value::String(s.to_owned()));
    if let Ok(issuer) = CreditCode::parse(CREDIT_EXAMPLE) {
        render(CertificateId::new(s, &issuer, s, 1));
    }
}

// ---------------------------------------------------------------------------------------------
// Property tests

/// Characters that are close to valid input or known to trip byte-slicing code.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::char::range('0', '9'),
        2 => prop::sample::select(ALNUM36.chars().collect::<Vec<_>>()),
        1 => prop::sample::select(vec![
            'x', 'X', '.', ' ', '\t', '\n', '\0', 'é', 'ß', '中', '国', '😀', '👨', '\u{200B}',
            '\u{3000}', '\u{FEFF}', '\u{0301}', 'İ', 'ı', 'K',
        ]),
        1 => prop::char::range('\u{FF10}', '\u{FF19}'),
        1 => prop::char::range('\u{FF21}', '\u{FF3A}'),
    ]
}

fn tricky_string() -> impl Strategy<Value = String> {
    prop::collection::vec(tricky_char(), 0..120).prop_map(|v| v.into_iter().collect())
}

fn full_width_string() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            prop::char::range('\u{FF10}', '\u{FF19}'),
            prop::char::range('\u{FF21}', '\u{FF3A}'),
            Just('\u{3000}'),
            Just('\u{FF38}'),
        ],
        0..40,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn days_since_1900() -> i64 {
    date(1900, 1, 1).until(TODAY).unwrap().get_days().into()
}

fn arb_resident() -> impl Strategy<Value = String> {
    (
        prop::sample::select(DIVISIONS),
        0..=days_since_1900(),
        0u16..1000,
    )
        .prop_map(|(division, offset, seq)| {
            let birth = date(1900, 1, 1)
                .checked_add(jiff::Span::new().days(offset))
                .unwrap();
            resident(&format!("{division}{}{seq:03}", birth.strftime("%Y%m%d")))
        })
}

fn arb_credit() -> impl Strategy<Value = String> {
    let alphabet: Vec<char> = CREDIT_ALPHABET.chars().collect();
    (
        prop::sample::select(alphabet.clone()),
        prop::sample::select(alphabet.clone()),
        prop::sample::select(DIVISIONS),
        prop::collection::vec(prop::sample::select(alphabet), 8),
    )
        .prop_map(|(a, c, division, body)| {
            credit(
                &format!("{a}{c}"),
                division,
                &body.into_iter().collect::<String>(),
            )
        })
}

fn arb_certificate() -> impl Strategy<Value = CertificateId> {
    (
        arb_credit(),
        0u16..1000,
        arb_credit(),
        "[0-9A-Z]{1,32}",
        0u16..=9999,
    )
        .prop_map(|(ministry, number, issuer, serial, version)| {
            let issuer = CreditCode::parse(&issuer).unwrap();
            CertificateId::new(&format!("{ministry}{number:03}"), &issuer, &serial, version)
                .unwrap()
        })
}

/// Puts `c` in place of the character at `index` (modulo the length) of `s`.
fn substitute(s: &str, index: usize, c: char) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let i = index % chars.len();
    chars[i] = c;
    chars.into_iter().collect()
}

/// Inserts `c` before the character at `index` (modulo the length + 1) of `s`.
fn insert(s: &str, index: usize, c: char) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let i = index % (chars.len() + 1);
    chars.insert(i, c);
    chars.into_iter().collect()
}

proptest! {
    #[test]
    fn never_panics_on_any_string(s in any::<String>()) {
        exercise_every_parser(&s);
    }

    #[test]
    fn never_panics_on_printable_unicode(s in "\\PC*") {
        exercise_every_parser(&s);
    }

    #[test]
    fn never_panics_on_tricky_strings(s in tricky_string()) {
        exercise_every_parser(&s);
    }

    #[test]
    fn never_panics_on_full_width(s in full_width_string()) {
        exercise_every_parser(&s);
        prop_assert!(s.trim_ascii().is_empty() || ResidentId::parse(&s, TODAY).is_err());
    }

    #[test]
    fn never_panics_on_long_strings(s in "[0-9A-Za-z.]{80,3000}") {
        exercise_every_parser(&s);
    }

    #[test]
    fn never_panics_on_valid_values_with_a_multibyte_char(
        resident in arb_resident(),
        credit in arb_credit(),
        certificate in arb_certificate(),
        index in any::<usize>(),
        c in tricky_char(),
    ) {
        for s in [resident.as_str(), credit.as_str(), certificate.as_str()] {
            exercise_every_parser(&insert(s, index, c));
            exercise_every_parser(&substitute(s, index, c));
        }
    }

    #[test]
    fn generated_resident_ids_parse_and_round_trip(s in arb_resident()) {
        let id = ResidentId::parse(&s, TODAY).unwrap();
        prop_assert_eq!(id.expose(), s.as_str());
        prop_assert_eq!(ResidentId::parse(id.expose(), TODAY).unwrap(), id);
        prop_assert_eq!(id.division().to_string(), &s[..6]);
        prop_assert_eq!(id.birth_date().strftime("%Y%m%d").to_string(), &s[6..14]);
        let male = (s.as_bytes()[16] - b'0') % 2 == 1;
        prop_assert_eq!(id.sex(), if male { Sex::Male } else { Sex::Female });
        prop_assert!(id.age_on(TODAY) >= 0);
        let info: ResidentIdInfo =
            serde_json::from_str(&serde_json::to_string(&id.info()).unwrap()).unwrap();
        prop_assert_eq!(info, id.info());
        assert_transpositions_rejected(&s);
    }

    #[test]
    fn masking_never_reveals_the_middle(s in arb_resident(), index in any::<usize>()) {
        let id = ResidentId::parse(&s, TODAY).unwrap();
        let middle = &s[6..14];
        let expected = format!("{}********{}", &s[..6], &s[14..]);
        prop_assert_eq!(id.masked(), expected.clone());
        prop_assert_eq!(id.to_string(), expected.clone());
        let debug = format!("{id:?}");
        prop_assert!(debug.contains(&expected) && !debug.contains(middle));
        let info = serde_json::to_string(&id.info()).unwrap();
        prop_assert!(!info.contains(&s) && !info.contains(middle));
        // Errors about a mistyped number do not echo it either.
        let digit = if s.as_bytes()[index % 17] == b'0' { '1' } else { '0' };
        let wrong = substitute(&s, index % 17, digit);
        let err = ResidentId::parse(&wrong, TODAY).unwrap_err();
        for text in [err.to_string(), format!("{err:?}"), err.message_zh(), err.message_en()] {
            prop_assert!(!text.contains(&wrong[6..14]), "{}", text);
        }
    }

    #[test]
    fn resident_single_substitution_is_rejected(
        s in arb_resident(),
        index in 0usize..18,
        c in prop::sample::select("0123456789Xx".chars().collect::<Vec<_>>()),
    ) {
        let original = s.as_bytes()[index] as char;
        prop_assume!(c.to_ascii_uppercase() != original);
        prop_assert!(ResidentId::parse(&substitute(&s, index, c), TODAY).is_err());
    }

    #[test]
    fn generated_credit_codes_parse_and_round_trip(s in arb_credit()) {
        let c = CreditCode::parse(&s).unwrap();
        prop_assert_eq!(c.as_str(), s.as_str());
        prop_assert_eq!(CreditCode::parse(&s.to_ascii_lowercase()).unwrap(), c);
        prop_assert_eq!(c.division().to_string(), &s[2..8]);
        prop_assert_eq!(c.organisation_code(), &s[8..17]);
        let json = serde_json::to_string(&c).unwrap();
        prop_assert_eq!(serde_json::from_str::<CreditCode>(&json).unwrap(), c);
        prop_assert_eq!(c.info().code, s);
    }

    #[test]
    fn credit_single_substitution_is_rejected(
        s in arb_credit(),
        index in 0usize..18,
        c in prop::sample::select(ALNUM36.chars().collect::<Vec<_>>()),
    ) {
        prop_assume!(s.as_bytes()[index] as char != c);
        prop_assert!(CreditCode::parse(&substitute(&s, index, c)).is_err());
    }

    #[test]
    fn generated_certificate_ids_parse_and_round_trip(id in arb_certificate()) {
        let s = id.as_str();
        prop_assert_eq!(&CertificateId::parse(s).unwrap(), &id);
        prop_assert_eq!(&CertificateId::parse(&s.to_ascii_lowercase()).unwrap(), &id);
        let json = serde_json::to_string(&id).unwrap();
        prop_assert_eq!(&serde_json::from_str::<CertificateId>(&json).unwrap(), &id);
        let rebuilt = CertificateId::new(id.type_code(), &id.issuer(), id.serial(), id.version());
        prop_assert_eq!(&rebuilt.unwrap(), &id);
        let data: String = s.chars().filter(|&c| c != '.').collect();
        prop_assert!(iso7064_mod37_36_is_valid(&data));
    }

    #[test]
    fn certificate_single_substitution_is_rejected(
        id in arb_certificate(),
        index in any::<usize>(),
        c in prop::sample::select(ALNUM36.chars().chain(['.']).collect::<Vec<_>>()),
    ) {
        let s = id.as_str();
        let i = index % s.len();
        prop_assume!(s.as_bytes()[i] as char != c);
        prop_assert!(CertificateId::parse(&substitute(s, i, c)).is_err());
    }

    #[test]
    fn iso7064_detects_every_single_substitution(
        data in "[0-9A-Z]{0,80}",
        index in any::<usize>(),
        c in prop::sample::select(ALNUM36.chars().collect::<Vec<_>>()),
    ) {
        let check = iso7064_mod37_36_check_char(&data).unwrap();
        let full = format!("{data}{check}");
        prop_assert!(iso7064_mod37_36_is_valid(&full));
        let i = index % full.len();
        prop_assume!(full.as_bytes()[i] as char != c);
        prop_assert!(!iso7064_mod37_36_is_valid(&substitute(&full, i, c)));
    }
}
