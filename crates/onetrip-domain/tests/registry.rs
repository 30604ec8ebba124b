//! Base registries: row validation and the generator (validity, uniqueness, ages, family
//! consistency, determinism).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{HashMap, HashSet};

use jiff::civil::Date;
use onetrip_domain::Localized;
use onetrip_domain::identifiers::{CreditCode, ResidentId, Sex};
use onetrip_domain::registry::generator::{Chunk, Generator, GeneratorConfig, MAX_CHUNKS};
use onetrip_domain::registry::{
    BirthInput, LegalPersonInput, MarriageInput, PersonInput, PersonStatus, RegistryPerson, age_on,
    counties, parse_birth, parse_legal_person, parse_marriage, parse_person, sex_str,
};
use proptest::prelude::*;

fn today() -> Date {
    Date::constant(2026, 11, 21)
}

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

fn generate(people: u64, organisations: u64, seed: u64, as_of: Date) -> Vec<Chunk> {
    let g = Generator::new(GeneratorConfig {
        people,
        organisations,
        seed,
        as_of,
    })
    .unwrap();
    (0..g.chunk_count()).map(|i| g.chunk(i)).collect()
}

/// Every rule the generated rows must keep, checked over the whole output.
fn check_all(chunks: &[Chunk], people: u64, organisations: u64, as_of: Date) {
    let persons: Vec<&RegistryPerson> = chunks.iter().flat_map(|c| &c.persons).collect();
    assert_eq!(persons.len() as u64, people);
    let by_id: HashMap<&str, &RegistryPerson> = persons
        .iter()
        .map(|p| (p.resident_id.as_str(), *p))
        .collect();
    assert_eq!(by_id.len(), persons.len(), "resident ID numbers are unique");
    let county_codes: HashSet<&str> = counties().iter().map(|c| c.code.as_str()).collect();
    let households: HashMap<&str, _> = chunks
        .iter()
        .flat_map(|c| &c.households)
        .map(|h| (h.id.as_str(), h))
        .collect();
    for p in &persons {
        let id = ResidentId::parse(&p.resident_id, as_of).expect("valid ID number");
        assert_eq!(id.birth_date(), p.birth_date, "{p:?}");
        assert_eq!(id.sex(), p.sex, "{p:?}");
        assert!(id.age_on(as_of) >= 0);
        assert_eq!(id.age_on(as_of), p.age_on(as_of));
        let seq: u32 = p.resident_id[14..17].parse().unwrap();
        assert!(seq >= 400, "generated sequences stay clear of the demo's");
        assert!(id.expose().starts_with("33"));
        assert!(county_codes.contains(p.division_code.as_str()));
        assert!(
            households.contains_key(p.household_id.as_deref().unwrap()),
            "every person lives in a generated household"
        );
        // The row is valid as an import row too.
        let input = PersonInput {
            resident_id: s(&p.resident_id),
            name: s(&p.name),
            sex: s(sex_str(p.sex)),
            birth_date: s(&p.birth_date.to_string()),
            ethnicity: p.ethnicity.clone(),
            division_code: s(p.division_code.as_str()),
            household_id: p.household_id.clone(),
            status: s(p.status.as_str()),
            death_date: p.death_date.map(|d| d.to_string()),
        };
        assert_eq!(&parse_person(&input, as_of).unwrap(), *p);
        let chars = p.name.chars().count();
        assert!((2..=4).contains(&chars), "{}", p.name);
        assert_eq!(p.status == PersonStatus::Deceased, p.death_date.is_some());
    }
    for h in households.values() {
        let head = by_id[h.head_resident_id.as_deref().unwrap()];
        assert_eq!(head.household_id.as_deref(), Some(h.id.as_str()));
        assert_eq!(head.division_code, h.division_code);
    }
    // Marriages: opposite sexes, of legal age at registration, current spouses share a home.
    let mut married_on: HashMap<(&str, &str), Date> = HashMap::new();
    for m in chunks.iter().flat_map(|c| &c.marriages) {
        let h = by_id[m.husband_resident_id.as_str()];
        let w = by_id[m.wife_resident_id.as_str()];
        assert_eq!((h.sex, w.sex), (Sex::Male, Sex::Female));
        assert!(age_on(h.birth_date, m.registered_on) >= 22, "{m:?}");
        assert!(age_on(w.birth_date, m.registered_on) >= 20, "{m:?}");
        assert!(m.registered_on <= as_of);
        match m.divorced_on {
            None => assert_eq!(h.household_id, w.household_id, "{m:?}"),
            Some(d) => assert!(d >= m.registered_on && d <= as_of),
        }
        for p in [h, w] {
            if let Some(death) = p.death_date {
                assert!(death >= m.registered_on, "no marriage after death");
            }
        }
        let input = MarriageInput {
            id: s(&m.id),
            husband_resident_id: s(&m.husband_resident_id),
            wife_resident_id: s(&m.wife_resident_id),
            registered_on: s(&m.registered_on.to_string()),
            divorced_on: m.divorced_on.map(|d| d.to_string()),
            division_code: s(m.division_code.as_str()),
        };
        assert_eq!(&parse_marriage(&input, as_of).unwrap(), m);
        married_on.insert(
            (h.resident_id.as_str(), w.resident_id.as_str()),
            m.registered_on,
        );
    }
    // Births: to adult parents, after their marriage; children live with a parent.
    let mut numbers = HashSet::new();
    for b in chunks.iter().flat_map(|c| &c.births) {
        assert!(numbers.insert(b.medical_certificate_number.clone()));
        let mother = by_id[b.mother_resident_id.as_str()];
        let father = by_id[b.father_resident_id.as_deref().unwrap()];
        assert_eq!((mother.sex, father.sex), (Sex::Female, Sex::Male));
        assert!(age_on(mother.birth_date, b.birth_date) >= 20, "{b:?}");
        assert!(age_on(father.birth_date, b.birth_date) >= 18, "{b:?}");
        let wed = married_on[&(father.resident_id.as_str(), mother.resident_id.as_str())];
        assert!(b.birth_date > wed, "born after the marriage");
        assert!(b.birth_date <= as_of);
        for parent in [mother, father] {
            if let Some(death) = parent.death_date {
                assert!(death >= b.birth_date);
            }
        }
        match &b.child_resident_id {
            Some(child) => {
                let child = by_id[child.as_str()];
                assert_eq!(child.birth_date, b.birth_date);
                assert_eq!(child.sex, b.child_sex);
                assert_eq!(child.name, b.child_name);
                assert!(
                    child.household_id == mother.household_id
                        || child.household_id == father.household_id
                );
            }
            None => {
                // A newborn: born within the last 30 days, no ID number yet.
                assert!((as_of - b.birth_date).get_days() < 30, "{b:?}");
            }
        }
        let input = BirthInput {
            medical_certificate_number: s(&b.medical_certificate_number),
            child_name: s(&b.child_name),
            child_sex: s(sex_str(b.child_sex)),
            child_resident_id: b.child_resident_id.clone(),
            mother_resident_id: s(&b.mother_resident_id),
            father_resident_id: b.father_resident_id.clone(),
            birth_date: s(&b.birth_date.to_string()),
            hospital: s(&b.hospital),
        };
        assert_eq!(&parse_birth(&input, as_of).unwrap(), b);
    }
    let deaths: Vec<_> = chunks.iter().flat_map(|c| &c.deaths).collect();
    for d in &deaths {
        let p = by_id[d.resident_id.as_str()];
        assert_eq!(p.status, PersonStatus::Deceased);
        assert_eq!(p.death_date, Some(d.death_date));
        assert!(d.death_date >= p.birth_date && d.death_date <= as_of);
    }
    assert_eq!(
        deaths.len(),
        persons
            .iter()
            .filter(|p| p.status == PersonStatus::Deceased)
            .count()
    );
    // Organisations: valid unique credit codes, represented by adult generated persons.
    let orgs: Vec<_> = chunks.iter().flat_map(|c| &c.legal_persons).collect();
    assert_eq!(orgs.len() as u64, organisations);
    let codes: HashSet<&str> = orgs.iter().map(|o| o.credit_code.as_str()).collect();
    assert_eq!(codes.len(), orgs.len());
    for o in orgs {
        CreditCode::parse(o.credit_code.as_str()).unwrap();
        let rep = by_id[o.legal_representative_resident_id.as_str()];
        assert_eq!(rep.name, o.legal_representative_name);
        assert!(age_on(rep.birth_date, o.established_on) >= 18);
        assert!(o.established_on <= as_of);
        let input = LegalPersonInput {
            credit_code: s(o.credit_code.as_str()),
            name: s(&o.name),
            kind: s(o.kind.as_str()),
            legal_representative_resident_id: s(&o.legal_representative_resident_id),
            legal_representative_name: s(&o.legal_representative_name),
            status: s(o.status.as_str()),
            address: s(&o.address),
            division_code: s(o.division_code.as_str()),
            established_on: s(&o.established_on.to_string()),
        };
        assert_eq!(&parse_legal_person(&input, as_of).unwrap(), o);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn generated_rows_are_valid_unique_and_consistent(
        people in 1u64..4_000,
        organisations in 0u64..300,
        seed in any::<u64>(),
        days in 0i32..20_000,
    ) {
        let as_of = Date::constant(1990, 1, 1)
            .checked_add(jiff::Span::new().days(days))
            .unwrap();
        let chunks = generate(people, organisations, seed, as_of);
        check_all(&chunks, people, organisations, as_of);
    }

    #[test]
    fn one_seed_gives_one_registry(seed in any::<u64>(), people in 1u64..2_000) {
        let a = generate(people, 20, seed, today());
        let b = generate(people, 20, seed, today());
        prop_assert_eq!(a, b);
    }
}

#[test]
fn chunks_are_independent_of_order_and_unique_across_chunks() {
    let config = GeneratorConfig {
        people: 45_000,
        organisations: 500,
        seed: 7,
        as_of: today(),
    };
    let g = Generator::new(config).unwrap();
    assert!(g.chunk_count() >= 4);
    let forward: Vec<Chunk> = (0..g.chunk_count()).map(|i| g.chunk(i)).collect();
    let mut backward: Vec<Chunk> = (0..g.chunk_count()).rev().map(|i| g.chunk(i)).collect();
    backward.reverse();
    assert_eq!(forward, backward);
    // In parallel too.
    let parallel: Vec<Chunk> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..g.chunk_count())
            .map(|i| s.spawn(move || g.chunk(i)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(forward, parallel);
    check_all(&forward, 45_000, 500, today());
    // Another seed gives another registry.
    let other = Generator::new(GeneratorConfig { seed: 8, ..config }).unwrap();
    assert_ne!(other.chunk(0).persons, forward[0].persons);
}

#[test]
fn large_registries_keep_within_the_sequence_slots() {
    let g = Generator::new(GeneratorConfig {
        people: 20_000_000,
        organisations: 0,
        seed: 1,
        as_of: today(),
    })
    .unwrap();
    assert!(g.chunk_count() <= MAX_CHUNKS);
}

#[test]
fn populations_shape_the_spread_and_realistic_shares() {
    let chunks = generate(60_000, 0, 3, today());
    let persons: Vec<_> = chunks.iter().flat_map(|c| &c.persons).collect();
    let mut by_county: HashMap<&str, usize> = HashMap::new();
    for p in &persons {
        *by_county.entry(p.division_code.as_str()).or_default() += 1;
    }
    // 萧山 (2.0 M) has far more people than 嵊泗 (0.07 M).
    assert!(by_county["330109"] > 10 * by_county.get("330922").copied().unwrap_or(0));
    // Abolished Hangzhou codes appear in ID numbers of older people, never as residence.
    assert!(persons.iter().any(|p| p.resident_id.starts_with("330103")));
    assert!(!by_county.contains_key("330103") && !by_county.contains_key("330104"));
    let minorities = persons
        .iter()
        .filter(|p| p.ethnicity.as_deref() != Some("汉族"))
        .count();
    assert!(minorities > 0 && minorities < persons.len() / 20);
    let deceased = persons
        .iter()
        .filter(|p| p.status == PersonStatus::Deceased)
        .count();
    assert!(deceased > 0 && deceased < persons.len() / 20, "{deceased}");
    let births: Vec<_> = chunks.iter().flat_map(|c| &c.births).collect();
    assert!(
        births.iter().any(|b| b.child_resident_id.is_none()),
        "some newborns"
    );
    let males = persons.iter().filter(|p| p.sex == Sex::Male).count();
    assert!((persons.len() * 45 / 100..persons.len() * 55 / 100).contains(&males));
}

#[test]
fn organisations_need_people() {
    let e = Generator::new(GeneratorConfig {
        people: 0,
        organisations: 5,
        seed: 1,
        as_of: today(),
    })
    .unwrap_err();
    assert_eq!(e.code(), "generator_organisations_need_people");
}

fn codes(errors: &[onetrip_domain::registry::FieldError]) -> Vec<(&'static str, &'static str)> {
    errors.iter().map(|e| (e.field, e.code())).collect()
}

#[test]
fn person_rows_must_agree_with_the_id_number() {
    let ok = PersonInput {
        resident_id: s("330102198503140138"),
        name: s("陈志明"),
        sex: s("male"),
        birth_date: s("1985-03-14"),
        ..PersonInput::default()
    };
    let p = parse_person(&ok, today()).unwrap();
    assert_eq!(p.division_code.as_str(), "330102");
    assert_eq!(p.status, PersonStatus::Active);
    let bad = PersonInput {
        sex: s("female"),
        birth_date: s("1985-03-15"),
        ..ok.clone()
    };
    assert_eq!(
        codes(&parse_person(&bad, today()).unwrap_err()),
        vec![
            ("sex", "sex_mismatch"),
            ("birth_date", "birth_date_mismatch")
        ]
    );
    let bad = PersonInput {
        resident_id: s("330102198503140139"),
        name: s("  "),
        status: s("deceased"),
        ..PersonInput::default()
    };
    let errors = parse_person(&bad, today()).unwrap_err();
    assert_eq!(
        codes(&errors),
        vec![
            ("resident_id", "resident_id_checksum"),
            ("name", "required"),
            ("death_date", "death_date_missing"),
        ]
    );
    assert!(errors[0].message_zh().contains("resident_id"));
    assert!(errors[1].message_en().contains("name"));
    let bad = PersonInput {
        death_date: s("2030-01-01"),
        status: s("deceased"),
        ..ok
    };
    assert_eq!(
        codes(&parse_person(&bad, today()).unwrap_err()),
        vec![("death_date", "date_in_future")]
    );
}

#[test]
fn marriages_and_births_check_roles_and_dates() {
    let m = MarriageInput {
        id: s("J1"),
        husband_resident_id: s("330102199007220264"),
        wife_resident_id: s("330102198503140138"),
        registered_on: s("2016-05-20"),
        divorced_on: s("2015-01-01"),
        division_code: s("330106"),
    };
    assert_eq!(
        codes(&parse_marriage(&m, today()).unwrap_err()),
        vec![
            ("husband_resident_id", "wrong_sex"),
            ("wife_resident_id", "wrong_sex"),
            ("divorced_on", "date_order"),
        ]
    );
    let b = BirthInput {
        medical_certificate_number: s("R1"),
        child_name: s("陈思远"),
        child_sex: s("male"),
        mother_resident_id: s("330102199007220264"),
        father_resident_id: s("330102198503140138"),
        birth_date: s("2026-11-10"),
        hospital: s("浙江大学医学院附属妇产科医院"),
        ..BirthInput::default()
    };
    let birth = parse_birth(&b, today()).unwrap();
    assert_eq!(birth.child_resident_id, None);
    let bad = BirthInput {
        birth_date: s("2026-13-01"),
        child_sex: None,
        ..b
    };
    assert_eq!(
        codes(&parse_birth(&bad, today()).unwrap_err()),
        vec![("child_sex", "required"), ("birth_date", "invalid_date")]
    );
}

#[test]
fn organisation_rows_check_the_credit_code_and_default_the_kind() {
    let o = LegalPersonInput {
        credit_code: s("913301061234567887"),
        name: s("杭州西湖示例科技有限公司"),
        legal_representative_resident_id: s("330102198503140138"),
        legal_representative_name: s("陈志明"),
        address: s("浙江省杭州市西湖区文三路90号"),
        established_on: s("2019-03-18"),
        ..LegalPersonInput::default()
    };
    let l = parse_legal_person(&o, today()).unwrap();
    assert_eq!(l.kind.as_str(), "enterprise");
    assert_eq!(l.division_code.as_str(), "330106");
    let bad = LegalPersonInput {
        credit_code: s("913301061234567888"),
        kind: s("company"),
        ..o
    };
    assert_eq!(
        codes(&parse_legal_person(&bad, today()).unwrap_err()),
        vec![
            ("credit_code", "credit_code_checksum"),
            ("kind", "unknown_value")
        ]
    );
}
