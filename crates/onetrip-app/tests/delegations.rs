//! Organisations and delegations to agents (授权代办) on SQLite.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use jiff::Timestamp;
use jiff::civil::{Date, date};
use onetrip_app::accounts::RegisterPerson;
use onetrip_app::delegations::DelegationStatus;
use onetrip_app::{App, AppError};
use onetrip_domain::Localized;
use onetrip_domain::identifiers::{
    credit_code_check_char, organisation_code_check_char, resident_id_check_char,
};
use onetrip_domain::identity::{AccountId, ActingBasis, AssuranceLevel};
use secrecy::SecretString;

const REP_RID: &str = "11010519491231002X";
const PASSWORD: &str = "Lianhua-Qiao7#";
/// Three implementation codes of the demo catalog (杭州住房公积金管理中心).
const ITEM_A: &str = "123301000597435545200050001000";
const ITEM_B: &str = "123301000597435545200050001001";
const ITEM_C: &str = "123301000597435545200050001002";

fn today() -> Date {
    date(2026, 11, 21)
}

fn now() -> Timestamp {
    "2026-11-21T02:00:00Z".parse().unwrap()
}

/// A valid resident ID number from its first 17 characters.
fn rid(first17: &str) -> String {
    format!("{first17}{}", resident_id_check_char(first17).unwrap())
}

/// A valid credit code of an enterprise in 西湖区 with organisation code `first8` + check.
fn credit_code(first8: &str) -> String {
    let org = format!("{first8}{}", organisation_code_check_char(first8).unwrap());
    let first17 = format!("91330106{org}");
    format!("{first17}{}", credit_code_check_char(&first17).unwrap())
}

async fn app() -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let app = App::connect(&url).await.unwrap();
    app.load_demo_if_empty(now()).await.unwrap();
    (dir, app)
}

async fn person(app: &App, resident_id: &str, name: &str, phone: &str) -> AccountId {
    support::register(
        app,
        RegisterPerson {
            resident_id: resident_id.to_string(),
            name: name.to_string(),
            phone: phone.to_string(),
            password: SecretString::from(PASSWORD.to_string()),
            sms_code: String::new(),
        },
        today(),
        now(),
    )
    .await
    .unwrap()
}

/// A person at L2 (real-name verified; the real-name path is tested elsewhere).
async fn verified(app: &App, resident_id: &str, name: &str, phone: &str) -> AccountId {
    let id = person(app, resident_id, name, phone).await;
    assert!(
        app.db
            .set_assurance_level(id.as_str(), AssuranceLevel::L2)
            .await
            .unwrap()
    );
    id
}

fn code_of(e: &AppError) -> &'static str {
    e.code()
}

/// `(path, code)` of every problem of a rejection.
fn problems(e: AppError) -> Vec<(String, &'static str)> {
    match e {
        AppError::Rejected(p) => p.into_iter().map(|p| (p.path, p.code)).collect(),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn items(codes: &[&str]) -> Option<Vec<String>> {
    Some(codes.iter().map(|c| c.to_string()).collect())
}

/// The scenario: a legal representative registers an organisation, authorises an agent for
/// two items, the agent may act on those two and not on a third, the representative revokes,
/// and the agent is refused at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn representative_authorises_an_agent_then_revokes() {
    let (_dir, app) = app().await;
    let rep = verified(&app, REP_RID, "王建国", "13800138000").await;
    let agent_rid = rid("33010619900101123");
    let agent = person(&app, &agent_rid, "李娜", "13900139000").await;
    let org = credit_code("23456789");

    let registered = app
        .register_organisation(
            &rep,
            &org.to_lowercase(),
            " 杭州西湖茶叶有限公司 ",
            "enterprise",
            now(),
        )
        .await
        .unwrap();
    assert_eq!(registered.credit_code, org);
    assert_eq!(registered.name, "杭州西湖茶叶有限公司");

    let granted = app
        .grant_delegation(
            &rep,
            &org,
            &agent_rid,
            "李娜",
            items(&[ITEM_A, ITEM_B]),
            date(2027, 11, 20),
            today(),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(granted.agent.account_id, agent);
    assert_eq!(granted.agent.name, "李娜");
    assert_eq!(granted.organisation.name, "杭州西湖茶叶有限公司");
    assert_eq!(granted.items, items(&[ITEM_A, ITEM_B]));
    assert_eq!(granted.valid_from, today());
    assert_eq!(granted.status, DelegationStatus::Active);
    // The view never carries the agent's ID number.
    let json = serde_json::to_string(&granted).unwrap();
    assert!(!json.contains(&agent_rid), "{json}");
    assert!(json.contains("\"status\":\"active\""), "{json}");

    // The agent may act on the two items, not on a third.
    for item in [ITEM_A, ITEM_B] {
        let acting = app.check_acting(&agent, &org, item, today()).await.unwrap();
        assert_eq!(acting.person, agent);
        let on_behalf = acting.on_behalf_of.unwrap();
        assert_eq!(on_behalf.organisation.as_str(), org);
        assert_eq!(
            on_behalf.basis,
            ActingBasis::Delegation(onetrip_domain::identity::DelegationId::new(
                granted.id.clone()
            ))
        );
    }
    let e = app
        .check_acting(&agent, &org, ITEM_C, today())
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "delegation_item_not_covered");
    // The legal representative may act on anything.
    let acting = app.check_acting(&rep, &org, ITEM_C, today()).await.unwrap();
    assert_eq!(
        acting.on_behalf_of.unwrap().basis,
        ActingBasis::LegalRepresentative
    );

    // Both sides see it.
    let mine = app.my_delegations(&agent, today()).await.unwrap();
    assert_eq!(mine, vec![granted.clone()]);
    let listed = app
        .delegations_of_organisation(&rep, &org, today())
        .await
        .unwrap();
    assert_eq!(listed, vec![granted.clone()]);
    let may = app
        .organisations_i_may_act_for(&agent, today())
        .await
        .unwrap();
    assert_eq!(may.len(), 1);
    assert_eq!(may[0].organisation.credit_code, org);
    assert!(!may[0].legal_representative);
    assert_eq!(may[0].delegations, vec![granted.id.clone()]);
    let may = app
        .organisations_i_may_act_for(&rep, today())
        .await
        .unwrap();
    assert!(may[0].legal_representative);

    // Revocation takes effect at once.
    let revoked = app
        .revoke_delegation(&rep, &granted.id, " 员工离职 ", today(), now())
        .await
        .unwrap();
    assert_eq!(revoked.status, DelegationStatus::Revoked);
    let revocation = revoked.revoked.as_ref().unwrap();
    assert_eq!(
        (revocation.on, revocation.reason.as_str()),
        (today(), "员工离职")
    );
    let e = app
        .check_acting(&agent, &org, ITEM_A, today())
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "delegation_revoked");
    assert!(
        app.organisations_i_may_act_for(&agent, today())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.my_delegations(&agent, today()).await.unwrap()[0].status,
        DelegationStatus::Revoked
    );
    // Twice is refused.
    let e = app
        .revoke_delegation(&rep, &granted.id, "again", today(), now())
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "delegation_already_revoked");

    // The audit log has both events, without personal data.
    let events = app.db.recent_auth_events(rep.as_str(), 20).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    for kind in [
        "organisation_registered",
        "delegation_granted",
        "delegation_revoked",
    ] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }
    for event in &events {
        let detail = event.detail.clone().unwrap_or_default();
        assert!(
            !detail.contains(&agent_rid) && !detail.contains("李娜"),
            "{detail}"
        );
        assert!(!detail.contains(REP_RID), "{detail}");
    }
    let granted_event = events
        .iter()
        .find(|e| e.kind == "delegation_granted")
        .unwrap();
    let detail: serde_json::Value =
        serde_json::from_str(granted_event.detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["delegation"], granted.id.as_str());
    assert_eq!(detail["organisation"], org.as_str());
    assert_eq!(detail["items"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_representative_grants_revokes_and_lists() {
    let (_dir, app) = app().await;
    let rep = verified(&app, REP_RID, "王建国", "13800138000").await;
    let agent_rid = rid("33010619900101123");
    let agent = person(&app, &agent_rid, "李娜", "13900139000").await;
    let other = verified(&app, &rid("33010619850505201"), "赵强", "13700137000").await;
    let org = credit_code("23456789");
    let missing = credit_code("87654321");
    app.register_organisation(&rep, &org, "杭州西湖茶叶有限公司", "enterprise", now())
        .await
        .unwrap();
    let granted = app
        .grant_delegation(
            &rep,
            &org,
            &agent_rid,
            "李娜",
            None,
            date(2027, 1, 31),
            today(),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(granted.items, None);
    // An all-items delegation covers any item.
    app.check_acting(&agent, &org, ITEM_C, today())
        .await
        .unwrap();

    // Another verified person, the agent, an unknown organisation and a malformed code all
    // get the same refusal.
    for (who, org) in [
        (&other, org.as_str()),
        (&agent, org.as_str()),
        (&rep, missing.as_str()),
        (&rep, "not a credit code"),
    ] {
        let e = app
            .grant_delegation(
                who,
                org,
                &agent_rid,
                "李娜",
                None,
                date(2027, 1, 31),
                today(),
                now(),
            )
            .await
            .unwrap_err();
        assert_eq!(code_of(&e), "delegation_not_representative", "{org}");
        assert!(matches!(e, AppError::Refused { .. }));
        let e = app
            .delegations_of_organisation(who, org, today())
            .await
            .unwrap_err();
        assert_eq!(code_of(&e), "delegation_not_representative");
    }
    for who in [&other, &agent] {
        let e = app
            .revoke_delegation(who, &granted.id, "no", today(), now())
            .await
            .unwrap_err();
        assert_eq!(code_of(&e), "delegation_not_representative");
    }
    let e = app
        .revoke_delegation(
            &rep,
            "01890000-0000-7000-8000-000000000000",
            "no",
            today(),
            now(),
        )
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "delegation_not_representative");
    // The delegation is untouched; a blank reason is a field problem.
    assert_eq!(
        problems(
            app.revoke_delegation(&rep, &granted.id, "  ", today(), now())
                .await
                .unwrap_err()
        ),
        vec![("reason".to_string(), "delegation_revocation_reason_missing")]
    );
    app.check_acting(&agent, &org, ITEM_A, today())
        .await
        .unwrap();

    // Someone without any delegation, and anyone for an unknown organisation.
    let e = app
        .check_acting(&other, &org, ITEM_A, today())
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "acting_no_delegation");
    let e = app
        .check_acting(&agent, &missing, ITEM_A, today())
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "acting_no_delegation");
    // After the last day, the delegation has expired.
    let e = app
        .check_acting(&agent, &org, ITEM_A, date(2027, 2, 1))
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "delegation_expired");
    assert_eq!(
        app.my_delegations(&agent, date(2027, 2, 1)).await.unwrap()[0].status,
        DelegationStatus::Expired
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_lookup_reveals_nothing_and_items_must_exist() {
    let (_dir, app) = app().await;
    let rep = verified(&app, REP_RID, "王建国", "13800138000").await;
    let agent_rid = rid("33010619900101123");
    person(&app, &agent_rid, "李娜", "13900139000").await;
    let org = credit_code("23456789");
    app.register_organisation(&rep, &org, "杭州西湖茶叶有限公司", "enterprise", now())
        .await
        .unwrap();
    let grant = |resident_id: String, name: &'static str, list: Option<Vec<String>>, to: Date| {
        let app = app.clone();
        let rep = rep.clone();
        let org = org.clone();
        async move {
            app.grant_delegation(&rep, &org, &resident_id, name, list, to, today(), now())
                .await
                .unwrap_err()
        }
    };

    // A registered ID number with the wrong name, and an unregistered ID number: one answer.
    let wrong_name = grant(agent_rid.clone(), "李四", None, date(2027, 1, 1)).await;
    let unknown = grant(rid("33010619700707301"), "李娜", None, date(2027, 1, 1)).await;
    let expected = vec![("agent".to_string(), "delegation_agent_unknown")];
    let (a, b) = (wrong_name.to_string(), unknown.to_string());
    assert_eq!(a, b);
    let (wrong_name, unknown) = (
        match wrong_name {
            AppError::Rejected(p) => p,
            e => panic!("{e:?}"),
        },
        match unknown {
            AppError::Rejected(p) => p,
            e => panic!("{e:?}"),
        },
    );
    assert_eq!(wrong_name, unknown);
    assert_eq!(
        wrong_name
            .iter()
            .map(|p| (p.path.clone(), p.code))
            .collect::<Vec<_>>(),
        expected
    );
    // A malformed ID number is reported as such; oneself is not an agent.
    let mut malformed = agent_rid.clone();
    malformed.replace_range(17.., if agent_rid.ends_with('0') { "1" } else { "0" });
    assert_eq!(
        problems(grant(malformed, "李娜", None, date(2027, 1, 1)).await),
        vec![("agent_resident_id".to_string(), "resident_id_checksum")]
    );
    assert_eq!(
        problems(grant(REP_RID.into(), "王建国", None, date(2027, 1, 1)).await),
        vec![("agent".to_string(), "delegation_agent_is_representative")]
    );

    // Every unknown item is listed at its index, with the domain's rules on dates and lists.
    let list = items(&[
        ITEM_A,
        "330106NOSUCHITEM",
        ITEM_B,
        "999999999999999999999999999999",
    ]);
    assert_eq!(
        problems(grant(agent_rid.clone(), "李娜", list, date(2027, 1, 1)).await),
        vec![
            ("items[1]".to_string(), "delegation_item_unknown"),
            ("items[3]".to_string(), "delegation_item_unknown"),
        ]
    );
    assert_eq!(
        problems(
            grant(
                agent_rid.clone(),
                "李娜",
                items(&[ITEM_A, ITEM_A]),
                date(2032, 1, 1)
            )
            .await
        ),
        vec![
            ("items".to_string(), "delegation_duplicate_item"),
            ("valid_to".to_string(), "delegation_too_long"),
        ]
    );
    assert_eq!(
        problems(grant(agent_rid.clone(), "李娜", Some(vec![]), date(2026, 11, 20)).await),
        vec![
            ("valid_to".to_string(), "delegation_ends_before_start"),
            ("items".to_string(), "delegation_no_items"),
            ("valid_to".to_string(), "delegation_already_ended"),
        ]
    );
    // Nothing was stored.
    assert!(
        app.delegations_of_organisation(&rep, &org, today())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_an_organisation_needs_l2_and_a_free_valid_credit_code() {
    let (_dir, app) = app().await;
    let l1 = person(&app, REP_RID, "王建国", "13800138000").await;
    let org = credit_code("23456789");
    let e = app
        .register_organisation(&l1, &org, "杭州西湖茶叶有限公司", "enterprise", now())
        .await
        .unwrap_err();
    assert_eq!(code_of(&e), "organisation_needs_l2");
    assert!(e.message_zh().contains("实名认证"), "{}", e.message_zh());
    assert!(e.message_en().contains("real-name"), "{}", e.message_en());
    assert!(app.db.organisation(&org).await.unwrap().is_none());

    app.db
        .set_assurance_level(l1.as_str(), AssuranceLevel::L2)
        .await
        .unwrap();
    let rep = l1;
    let mut bad = org.clone();
    bad.replace_range(17.., if org.ends_with('0') { "1" } else { "0" });
    assert_eq!(
        problems(
            app.register_organisation(&rep, &bad, " ", "", now())
                .await
                .unwrap_err()
        ),
        vec![
            ("credit_code".to_string(), "credit_code_checksum"),
            ("name".to_string(), "required"),
            ("kind".to_string(), "required"),
        ]
    );
    app.register_organisation(&rep, &org, "杭州西湖茶叶有限公司", "enterprise", now())
        .await
        .unwrap();
    let other = verified(&app, &rid("33010619850505201"), "赵强", "13700137000").await;
    assert_eq!(
        problems(
            app.register_organisation(&other, &org, "另一家公司", "enterprise", now())
                .await
                .unwrap_err()
        ),
        vec![("credit_code".to_string(), "credit_code_taken")]
    );
    let stored = app.db.organisation(&org).await.unwrap().unwrap();
    assert_eq!(stored.legal_representative, rep.as_str());
    let event = app
        .db
        .recent_auth_events(rep.as_str(), 5)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.kind == "organisation_registered")
        .unwrap();
    assert!(
        event
            .detail
            .unwrap()
            .contains("\"registry_check\":\"not_in_registry\"")
    );
}
