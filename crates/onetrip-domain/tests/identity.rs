//! Tests of `onetrip_domain::identity`: assurance levels and step-up, the password policy,
//! delegations, acting for an organisation, staff roles and self-registration.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use jiff::civil::{Date, date};
use onetrip_domain::Localized;
use onetrip_domain::identifiers::{CreditCode, ResidentId};
use onetrip_domain::identity::*;
use proptest::prelude::*;

const TODAY: Date = date(2026, 11, 21);
const RESIDENT_EXAMPLE: &str = "11010519491231002X";
const CREDIT_EXAMPLE: &str = "91330100716105852F";

fn codes(r: Result<(), Vec<PasswordProblem>>) -> Vec<&'static str> {
    match r {
        Ok(()) => vec![],
        Err(ps) => ps.iter().map(Localized::code).collect(),
    }
}

fn assert_localized<E: Localized>(e: &E) {
    let code = e.code();
    assert!(!code.is_empty());
    assert!(
        code.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    );
    assert!(!e.message_zh().is_empty());
    assert!(!e.message_en().is_empty());
}

// ---------------------------------------------------------------- assurance

#[test]
fn assurance_order_serde_and_acr() {
    assert!(AssuranceLevel::L1 < AssuranceLevel::L2 && AssuranceLevel::L2 < AssuranceLevel::L3);
    assert_eq!(
        serde_json::to_string(&AssuranceLevel::L2).unwrap(),
        "\"L2\""
    );
    assert_eq!(
        serde_json::from_str::<AssuranceLevel>("\"L3\"").unwrap(),
        AssuranceLevel::L3
    );
    assert!(serde_json::from_str::<AssuranceLevel>("\"L4\"").is_err());
    assert_eq!(AssuranceLevel::L1.acr(), "urn:onetrip:loa:1");
    assert_eq!(AssuranceLevel::L3.acr(), "urn:onetrip:loa:3");
    assert_eq!(
        AssuranceLevel::from_acr(" urn:onetrip:loa:2 "),
        Ok(AssuranceLevel::L2)
    );
    for bad in [
        "",
        "urn:onetrip:loa:4",
        "URN:ONETRIP:LOA:1",
        "L1",
        "urn:onetrip:loa:１",
    ] {
        let e = AssuranceLevel::from_acr(bad).unwrap_err();
        assert_eq!(e.code(), "acr_unknown");
        assert_localized(&e);
    }
    assert_eq!(AssuranceLevel::L2.to_string(), "L2");
}

#[test]
fn assurance_table() {
    use AssuranceLevel::*;
    let cases = [
        (L1, L1, vec![]),
        (L2, L1, vec![]),
        (L3, L1, vec![]),
        (L2, L2, vec![]),
        (L3, L3, vec![]),
        (L1, L2, vec![L2]),
        (L1, L3, vec![L2, L3]),
        (L2, L3, vec![L3]),
    ];
    for (held, required, missing) in cases {
        match check_assurance(held, required) {
            Ok(()) => assert!(missing.is_empty(), "{held} for {required}"),
            Err(s) => {
                assert_eq!(s.missing, missing, "{held} for {required}");
                assert_eq!(s.code(), "assurance_step_up_required");
                assert_localized(&s);
            }
        }
    }
    let s = check_assurance(L1, L3).unwrap_err();
    assert_eq!(
        s.missing_proofs(),
        vec![Proof::RegistryMatch, Proof::SecondFactor]
    );
    assert!(s.message_zh().contains("人脸"));
    assert!(s.message_en().contains("population registry"));
}

proptest! {
    #[test]
    fn acr_round_trips(i in 0usize..3) {
        let l = AssuranceLevel::ALL[i];
        prop_assert_eq!(AssuranceLevel::from_acr(l.acr()), Ok(l));
        let json = serde_json::to_string(&l).unwrap();
        prop_assert_eq!(serde_json::from_str::<AssuranceLevel>(&json).unwrap(), l);
    }

    #[test]
    fn from_acr_never_panics(s in any::<String>()) {
        let _ = AssuranceLevel::from_acr(&s);
    }

    #[test]
    fn step_up_is_exactly_the_missing_levels(h in 0usize..3, r in 0usize..3) {
        let (held, required) = (AssuranceLevel::ALL[h], AssuranceLevel::ALL[r]);
        let expected: Vec<AssuranceLevel> = AssuranceLevel::ALL
            .into_iter()
            .filter(|l| *l > held && *l <= required)
            .collect();
        match check_assurance(held, required) {
            Ok(()) => prop_assert!(held >= required && expected.is_empty()),
            Err(s) => {
                prop_assert!(held < required);
                prop_assert_eq!(&s.missing, &expected);
                prop_assert_eq!(s.missing.last().copied(), Some(required));
                prop_assert_eq!(s.held, held);
            }
        }
    }
}

// ---------------------------------------------------------------- passwords

fn context() -> PasswordContext {
    PasswordContext {
        phone: Some("+86 138-0013-8000".to_owned()),
        resident_id: Some(ResidentId::parse(RESIDENT_EXAMPLE, TODAY).unwrap()),
        name_pinyin: Some("Zhang Xiaoming".to_owned()),
    }
}

#[test]
fn password_table() {
    let policy = PasswordPolicy::default();
    let ctx = context();
    let cases: &[(&str, &[&str])] = &[
        ("Tq7#mVp2!xLr", &[]),
        ("correct horse battery", &[]),
        ("密码很长而且不常见Ab", &[]),
        ("Sh0rt!", &["password_too_short"]),
        ("", &["password_too_short", "password_too_few_classes"]),
        ("onlylowercaseletters", &["password_too_few_classes"]),
        (
            "password",
            &[
                "password_too_short",
                "password_too_few_classes",
                "password_common",
            ],
        ),
        ("Password123", &["password_common"]),
        ("PASSWORD2024!", &["password_common"]),
        ("woaini1314", &["password_common"]),
        ("Woaini2025", &["password_common"]),
        (
            "5201314",
            &[
                "password_too_short",
                "password_too_few_classes",
                "password_common",
            ],
        ),
        (
            "qq123456",
            &["password_too_short", "password_common", "password_sequence"],
        ),
        (
            "a123456",
            &["password_too_short", "password_common", "password_sequence"],
        ),
        (
            "123456789",
            &[
                "password_too_short",
                "password_too_few_classes",
                "password_common",
                "password_sequence",
            ],
        ),
        (
            "11111111",
            &[
                "password_too_short",
                "password_too_few_classes",
                "password_common",
                "password_repeated",
            ],
        ),
        (
            "zhang123",
            &[
                "password_too_short",
                "password_common",
                "password_contains_name",
            ],
        ),
        (
            "iloveyou",
            &[
                "password_too_short",
                "password_too_few_classes",
                "password_common",
            ],
        ),
        ("x13800138000y", &["password_contains_phone"]),
        ("Ab00138000!", &["password_contains_phone"]),
        ("Qz19491231!", &["password_contains_id_number"]),
        ("Qz!31002xv", &["password_contains_id_number"]),
        ("Mz!xiaoming9", &["password_contains_name"]),
        ("ZhangXiaoMing!", &["password_contains_name"]),
        ("Vq!12345678z", &["password_sequence"]),
        ("Vq!abcdefghz", &["password_sequence"]),
        ("Vq!qwertyuiz", &["password_sequence"]),
        (
            "1qaz2wsx",
            &["password_too_short", "password_common", "password_sequence"],
        ),
        ("Vq!8765x3xk", &[]),
        ("Vq!98765x3x", &["password_sequence"]),
        ("Vq!zzzzzx3x", &["password_repeated"]),
        ("Vq!LKJHGx3x", &["password_sequence"]),
    ];
    for (pw, expected) in cases {
        assert_eq!(codes(policy.check(pw, &ctx)), *expected, "{pw:?}");
    }
    // Personal data is only checked when given.
    assert_eq!(
        codes(policy.check("x13800138000y", &PasswordContext::default())),
        Vec::<&str>::new()
    );
}

#[test]
fn password_length_limits_and_configuration() {
    let policy = PasswordPolicy::default();
    assert_eq!(policy.min_length, 10);
    assert_eq!(policy.max_length, 128);
    let ctx = PasswordContext::default();
    let ok128: String = "Ab3$".repeat(32);
    assert_eq!(ok128.chars().count(), 128);
    assert_eq!(codes(policy.check(&ok128, &ctx)), Vec::<&str>::new());
    let long = format!("{ok128}x");
    assert_eq!(codes(policy.check(&long, &ctx)), vec!["password_too_long"]);
    // Length counts characters, not bytes: 10 Chinese characters are 30 bytes.
    assert_eq!(
        codes(policy.check("这是一个十个字的密码", &ctx)),
        vec!["password_too_few_classes"]
    );
    let relaxed = PasswordPolicy {
        min_length: 6,
        min_classes: 1,
        max_sequence: 0,
        ..PasswordPolicy::default()
    };
    assert_eq!(codes(relaxed.check("kqzvwm", &ctx)), Vec::<&str>::new());
    assert_eq!(codes(relaxed.check("abcdefgk", &ctx)), Vec::<&str>::new());
    let strict = PasswordPolicy {
        min_classes: 4,
        ..PasswordPolicy::default()
    };
    assert_eq!(
        codes(strict.check("Tq7mVp2xLrw", &ctx)),
        vec!["password_too_few_classes"]
    );
    // Configurable through serde, with defaults for missing fields.
    let p: PasswordPolicy = serde_norway::from_str("min_length: 12\n").unwrap();
    assert_eq!(
        p,
        PasswordPolicy {
            min_length: 12,
            ..PasswordPolicy::default()
        }
    );
}

#[test]
fn password_messages_are_localized() {
    let problems = [
        PasswordProblem::TooShort { min: 10 },
        PasswordProblem::TooLong { max: 128 },
        PasswordProblem::TooFewClasses {
            required: 2,
            found: 1,
        },
        PasswordProblem::Common,
        PasswordProblem::ContainsPhone,
        PasswordProblem::ContainsIdNumber,
        PasswordProblem::ContainsName,
        PasswordProblem::Sequence,
        PasswordProblem::Repeated,
    ];
    let mut seen = std::collections::HashSet::new();
    for p in &problems {
        assert_localized(p);
        assert!(p.code().starts_with("password_"));
        assert!(seen.insert(p.code()), "duplicate code {}", p.code());
    }
    assert!(
        PasswordProblem::TooShort { min: 10 }
            .message_zh()
            .contains("10")
    );
    assert!(
        PasswordProblem::TooShort { min: 10 }
            .message_en()
            .contains("10")
    );
}

#[test]
fn common_list_is_large_and_lower_case() {
    let list = common_passwords();
    assert!(list.len() >= 200, "{}", list.len());
    for pw in [
        "woaini1314",
        "5201314",
        "qq123456",
        "a123456",
        "123456789",
        "password",
        "11111111",
        "zhang123",
        "iloveyou",
    ] {
        assert!(list.contains(pw), "{pw}");
    }
    assert!(list.iter().all(|p| p.to_lowercase() == *p && !p.is_empty()));
}

#[test]
fn context_debug_hides_personal_data() {
    let shown = format!("{:?}", context());
    assert!(!shown.contains("138"));
    assert!(!shown.contains("1949"));
    assert!(!shown.to_lowercase().contains("zhang"));
}

fn no_leak(password: &str, problems: &[PasswordProblem]) -> bool {
    // Only meaningful for passwords long enough not to occur in fixed message text.
    password.chars().count() < 4
        || problems.iter().all(|p| {
            !p.message_zh().contains(password)
                && !p.message_en().contains(password)
                && !format!("{p:?}").contains(password)
                && !p.to_string().contains(password)
                && !serde_json::to_string(p).unwrap().contains(password)
        })
}

proptest! {
    #[test]
    fn password_check_never_panics_nor_leaks(pw in any::<String>()) {
        let policy = PasswordPolicy::default();
        if let Err(ps) = policy.check(&pw, &context()) {
            prop_assert!(no_leak(&pw, &ps));
        }
    }

    #[test]
    fn password_check_never_leaks_ascii(pw in "[ -~]{4,40}") {
        if let Err(ps) = PasswordPolicy::default().check(&pw, &context()) {
            prop_assert!(no_leak(&pw, &ps));
        }
    }

    #[test]
    fn password_check_handles_huge_multibyte_input(c in any::<char>(), n in 9_000usize..10_500) {
        let pw: String = std::iter::repeat_n(c, n).collect();
        let ps = PasswordPolicy::default().check(&pw, &context()).unwrap_err();
        let too_long = PasswordProblem::TooLong { max: 128 };
        prop_assert!(ps.contains(&too_long));
        prop_assert!(no_leak(&pw, &ps));
    }

    #[test]
    fn any_policy_never_panics(
        pw in ".{0,64}",
        min in 0usize..200, max in 0usize..200, classes in 0u8..6, seq in 0usize..12,
    ) {
        let policy = PasswordPolicy { min_length: min, max_length: max, min_classes: classes, max_sequence: seq };
        let _ = policy.check(&pw, &context());
    }
}

// ---------------------------------------------------------------- delegations

fn org() -> CreditCode {
    CreditCode::parse(CREDIT_EXAMPLE).unwrap()
}

fn draft(scope: DelegationScope, from: Date, to: Date) -> DelegationDraft {
    DelegationDraft {
        id: DelegationId::new("d-1"),
        organisation: org(),
        agent: AccountId::new("agent-1"),
        scope,
        valid_from: from,
        valid_to: to,
    }
}

fn items(list: &[&str]) -> DelegationScope {
    DelegationScope::Items(list.iter().map(|s| (*s).to_owned()).collect())
}

fn problem_codes(r: Result<Delegation, Vec<DelegationProblem>>) -> Vec<&'static str> {
    match r {
        Ok(_) => vec![],
        Err(ps) => ps.iter().map(Localized::code).collect(),
    }
}

#[test]
fn delegation_validation_table() {
    let grant = |d| Delegation::grant(d, TODAY, DEFAULT_MAX_DELEGATION_YEARS);
    let end = date(2027, 11, 20);
    let cases: Vec<(DelegationDraft, Vec<&str>)> = vec![
        (draft(items(&["A1", "B2"]), TODAY, end), vec![]),
        (draft(DelegationScope::AllItems, TODAY, TODAY), vec![]),
        (
            draft(DelegationScope::AllItems, TODAY, date(2031, 11, 21)),
            vec![],
        ),
        (
            draft(DelegationScope::AllItems, TODAY, date(2031, 11, 22)),
            vec!["delegation_too_long"],
        ),
        (
            draft(DelegationScope::AllItems, TODAY, date(2026, 11, 20)),
            vec!["delegation_ends_before_start", "delegation_already_ended"],
        ),
        (
            draft(
                DelegationScope::AllItems,
                date(2020, 1, 1),
                date(2026, 11, 20),
            ),
            vec!["delegation_already_ended"],
        ),
        (draft(items(&[]), TODAY, end), vec!["delegation_no_items"]),
        (
            draft(items(&["A1", " ", "A1", "B2", "A1", "B2"]), TODAY, end),
            vec![
                "delegation_empty_item_code",
                "delegation_duplicate_item",
                "delegation_duplicate_item",
            ],
        ),
        (
            draft(items(&[]), date(2028, 1, 1), date(2040, 1, 1)),
            vec!["delegation_too_long", "delegation_no_items"]
                .into_iter()
                .collect(),
        ),
    ];
    for (d, expected) in cases {
        let mut got = problem_codes(grant(d.clone()));
        let mut want = expected.clone();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "{d:?}");
    }
    // Every problem is localized; duplicate names the item.
    let ps = grant(draft(items(&["A1", "A1"]), end, TODAY)).unwrap_err();
    for p in &ps {
        assert_localized(p);
    }
    assert!(ps.contains(&DelegationProblem::DuplicateItem { item: "A1".into() }));
    // The horizon is configurable.
    assert_eq!(
        problem_codes(Delegation::grant(
            draft(DelegationScope::AllItems, TODAY, end),
            TODAY,
            0
        )),
        vec!["delegation_too_long"]
    );
    // Restore skips the day-of-grant rules but keeps the structural ones.
    assert!(
        Delegation::restore(
            draft(
                DelegationScope::AllItems,
                date(2010, 1, 1),
                date(2020, 1, 1)
            ),
            None
        )
        .is_ok()
    );
    assert_eq!(
        problem_codes(Delegation::restore(draft(items(&[]), TODAY, TODAY), None)),
        vec!["delegation_no_items"]
    );
    // Extreme dates and year limits never panic.
    let _ = Delegation::grant(
        draft(DelegationScope::AllItems, Date::MIN, Date::MAX),
        Date::MAX,
        i16::MAX,
    );
    let _ = Delegation::grant(
        draft(DelegationScope::AllItems, Date::MIN, Date::MAX),
        Date::MIN,
        i16::MIN,
    );
}

fn refusal(r: Result<(), DelegationRefusal>) -> &'static str {
    match r {
        Ok(()) => "ok",
        Err(e) => {
            assert_localized(&e);
            e.code()
        }
    }
}

#[test]
fn delegation_permits_table() {
    let from = date(2026, 12, 1);
    let to = date(2027, 5, 31);
    let mut d = Delegation::grant(draft(items(&["A1", "B2"]), from, to), TODAY, 5).unwrap();
    let cases = [
        ("A1", TODAY, "delegation_not_yet_valid"),
        ("A1", from, "ok"),
        ("B2", date(2027, 2, 28), "ok"),
        ("A1", to, "ok"),
        ("A1", date(2027, 6, 1), "delegation_expired"),
        ("C3", from, "delegation_item_not_covered"),
        ("a1", from, "delegation_item_not_covered"),
    ];
    for (item, on, want) in cases {
        assert_eq!(refusal(d.permits(item, on)), want, "{item} {on}");
    }
    assert_eq!(
        d.revoke(date(2027, 1, 10), "  "),
        Err(RevokeError::ReasonMissing)
    );
    d.revoke(date(2027, 1, 10), "员工离职").unwrap();
    assert_eq!(
        d.revoke(date(2027, 1, 11), "again").unwrap_err().code(),
        "delegation_already_revoked"
    );
    assert_eq!(
        RevokeError::ReasonMissing.code(),
        "delegation_revocation_reason_missing"
    );
    assert_eq!(refusal(d.permits("A1", date(2027, 1, 9))), "ok");
    assert_eq!(
        refusal(d.permits("A1", date(2027, 1, 10))),
        "delegation_revoked"
    );
    assert_eq!(
        refusal(d.permits("C3", date(2027, 3, 1))),
        "delegation_revoked"
    );
    assert_eq!(d.revocation().unwrap().reason, "员工离职");
    // All-items scope covers anything.
    let all = Delegation::grant(draft(DelegationScope::AllItems, TODAY, to), TODAY, 5).unwrap();
    assert_eq!(refusal(all.permits("ANY-ITEM", TODAY)), "ok");
}

fn arb_date() -> impl Strategy<Value = Date> {
    (0i32..3000).prop_map(|n| {
        date(2025, 1, 1)
            .checked_add(jiff::Span::new().days(n))
            .unwrap()
    })
}

proptest! {
    #[test]
    fn permits_is_exactly_the_validity_window(
        a in arb_date(), b in arb_date(), on in arb_date(), listed in any::<bool>(),
    ) {
        let (from, to) = if a <= b { (a, b) } else { (b, a) };
        let d = Delegation::restore(draft(items(&["A1"]), from, to), None).unwrap();
        let r = d.permits(if listed { "A1" } else { "Z9" }, on);
        if on < from {
            prop_assert_eq!(refusal(r), "delegation_not_yet_valid");
        } else if on > to {
            prop_assert_eq!(refusal(r), "delegation_expired");
        } else if listed {
            prop_assert_eq!(refusal(r), "ok");
        } else {
            prop_assert_eq!(refusal(r), "delegation_item_not_covered");
        }
    }

    #[test]
    fn permits_is_monotonic_within_window(
        a in arb_date(), b in arb_date(), x in arb_date(), y in arb_date(),
    ) {
        // If it permits on two days, it permits on every day between them.
        let (from, to) = if a <= b { (a, b) } else { (b, a) };
        let d = Delegation::restore(draft(DelegationScope::AllItems, from, to), None).unwrap();
        let (x, y) = if x <= y { (x, y) } else { (y, x) };
        if d.permits("A1", x).is_ok() && d.permits("A1", y).is_ok() {
            let mid = x.checked_add(jiff::Span::new().days((y - x).get_days() / 2)).unwrap();
            prop_assert!(d.permits("A1", mid).is_ok());
            prop_assert!(from <= x && y <= to);
        }
    }

    #[test]
    fn revoked_always_refuses_afterwards(
        a in arb_date(), b in arb_date(), rev in arb_date(), on in arb_date(), all in any::<bool>(),
    ) {
        let (from, to) = if a <= b { (a, b) } else { (b, a) };
        let scope = if all { DelegationScope::AllItems } else { items(&["A1"]) };
        let mut d = Delegation::restore(draft(scope, from, to), None).unwrap();
        d.revoke(rev, "revoked").unwrap();
        if on >= rev {
            prop_assert_eq!(refusal(d.permits("A1", on)), "delegation_revoked");
        }
    }
}

// ---------------------------------------------------------------- acting

#[test]
fn act_for_table() {
    let party = OrganisationParty {
        credit_code: org(),
        legal_representative: AccountId::new("boss"),
    };
    let agent = AccountId::new("agent-1");
    let to = date(2027, 11, 20);
    let mut two_items =
        Delegation::grant(draft(items(&["A1", "B2"]), TODAY, to), TODAY, 5).unwrap();
    let delegations = vec![two_items.clone()];

    // The legal representative always may, without any delegation.
    let acting = act_for(&party.legal_representative, &party, &[], "Z9", TODAY).unwrap();
    assert_eq!(acting.person, party.legal_representative);
    assert_eq!(
        acting.on_behalf_of,
        Some(OnBehalfOf {
            organisation: org(),
            basis: ActingBasis::LegalRepresentative
        })
    );

    // The agent may act on the two items, and is refused on a third.
    for item in ["A1", "B2"] {
        let acting = act_for(&agent, &party, &delegations, item, TODAY).unwrap();
        assert_eq!(acting.organisation(), Some(&org()));
        assert_eq!(acting.person, agent);
        assert_eq!(
            acting.on_behalf_of.unwrap().basis,
            ActingBasis::Delegation(DelegationId::new("d-1"))
        );
    }
    let e = act_for(&agent, &party, &delegations, "C3", TODAY).unwrap_err();
    assert_eq!(e.code(), "delegation_item_not_covered");
    assert_localized(&e);

    // Someone else has no delegation.
    let e = act_for(
        &AccountId::new("stranger"),
        &party,
        &delegations,
        "A1",
        TODAY,
    )
    .unwrap_err();
    assert_eq!(e.code(), "acting_no_delegation");
    assert_localized(&e);

    // A delegation from another organisation does not count.
    let other = OrganisationParty {
        credit_code: CreditCode::parse(&fix_credit("91110000", "10000000")).unwrap(),
        legal_representative: AccountId::new("boss2"),
    };
    assert_eq!(
        act_for(&agent, &other, &delegations, "A1", TODAY)
            .unwrap_err()
            .code(),
        "acting_no_delegation"
    );

    // Expired and not yet valid.
    assert_eq!(
        act_for(&agent, &party, &delegations, "A1", date(2027, 11, 21))
            .unwrap_err()
            .code(),
        "delegation_expired"
    );

    // Revocation takes effect immediately (the same day).
    two_items
        .revoke(TODAY, "revoked by the legal representative")
        .unwrap();
    let e = act_for(&agent, &party, &[two_items.clone()], "A1", TODAY).unwrap_err();
    assert_eq!(e.code(), "delegation_revoked");

    // With several delegations, a permitting one wins; otherwise the closest refusal.
    let mut second = draft(DelegationScope::AllItems, TODAY, to);
    second.id = DelegationId::new("d-2");
    let second = Delegation::grant(second, TODAY, 5).unwrap();
    let acting = act_for(&agent, &party, &[two_items.clone(), second], "C3", TODAY).unwrap();
    assert_eq!(
        acting.on_behalf_of.unwrap().basis,
        ActingBasis::Delegation(DelegationId::new("d-2"))
    );
    let narrow = Delegation::grant(draft(items(&["B2"]), TODAY, to), TODAY, 5).unwrap();
    assert_eq!(
        act_for(&agent, &party, &[two_items, narrow], "A1", TODAY)
            .unwrap_err()
            .code(),
        "delegation_item_not_covered"
    );

    // The stamp serialises for the event log.
    let json = serde_json::to_value(Acting::as_self(agent.clone())).unwrap();
    assert_eq!(
        json,
        serde_json::json!({ "person": "agent-1", "on_behalf_of": null })
    );
}

/// A valid credit code from its first 8 characters and the 8-character organisation body.
fn fix_credit(head8: &str, org8: &str) -> String {
    let o = onetrip_domain::identifiers::organisation_code_check_char(org8).unwrap();
    let first17 = format!("{head8}{org8}{o}");
    let c = onetrip_domain::identifiers::credit_code_check_char(&first17).unwrap();
    format!("{first17}{c}")
}

// ---------------------------------------------------------------- staff and accounts

#[test]
fn staff_roles() {
    let table = [
        (
            StaffRole::WindowClerk,
            "window_clerk",
            "综合窗口人员",
            false,
        ),
        (
            StaffRole::DepartmentOfficer,
            "department_officer",
            "部门经办人",
            false,
        ),
        (
            StaffRole::DepartmentHead,
            "department_head",
            "部门负责人",
            false,
        ),
        (StaffRole::Supervisor, "supervisor", "督办人员", false),
        (
            StaffRole::CatalogAdministrator,
            "catalog_administrator",
            "事项管理员",
            true,
        ),
        (
            StaffRole::DataAdministrator,
            "data_administrator",
            "数据管理员",
            true,
        ),
        (
            StaffRole::SystemAdministrator,
            "system_administrator",
            "系统管理员",
            true,
        ),
    ];
    assert_eq!(table.len(), StaffRole::ALL.len());
    for (role, json, zh, totp) in table {
        assert_eq!(serde_json::to_string(&role).unwrap(), format!("\"{json}\""));
        assert_eq!(
            serde_json::from_str::<StaffRole>(&format!("\"{json}\"")).unwrap(),
            role
        );
        assert_eq!(role.label_zh(), zh);
        assert!(!role.label_en().is_empty());
        assert_eq!(role.requires_totp(), totp, "{role}");
        assert_eq!(
            role.may_create_staff(),
            role == StaffRole::SystemAdministrator
        );
    }
}

#[test]
fn staff_cannot_self_register() {
    assert_eq!(
        self_register(AccountKind::Citizen),
        Ok(AccountKind::Citizen)
    );
    let e = self_register(AccountKind::Staff).unwrap_err();
    assert_eq!(e.code(), "registration_staff_not_allowed");
    assert_localized(&e);
    assert_eq!(
        serde_json::to_string(&AccountKind::Staff).unwrap(),
        "\"staff\""
    );
}
