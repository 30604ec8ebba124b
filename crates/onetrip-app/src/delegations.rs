//! Organisations and their agents (法人账户与授权代办): a verified person registers an
//! organisation as its legal representative (法定代表人), authorises other registered persons
//! (经办人) to act for it on some or all items for a period, revokes them, and anyone acting for
//! an organisation is checked against the delegations in the database at that moment.
//!
//! Decisions:
//! - **Who may register an organisation:** a person at assurance level L2 or above (real-name
//!   verified), who becomes its legal representative.
//! - **The legal-person registry (法人库) is consulted** when the credit code is in it: the
//!   registered organisation must be active (else `organisation_not_active`), its legal
//!   representative must be this person, by resident ID number and name (else
//!   `organisation_registry_not_representative`), and the name given must be the registered
//!   name (else a problem at `name`, `organisation_name_mismatch`, saying the registered name:
//!   the registry's names are public, as on the national enterprise credit information
//!   publicity system). Names are compared after trimming, with full-width and half-width
//!   brackets treated alike.
//! - **A credit code the registry does not know is accepted**, on the L2 legal
//!   representative's claim: registries lag behind registration (an enterprise registered
//!   today reaches the 法人库 later), and refusing would block new enterprises on their first
//!   day. The audit event (`organisation_registered`) records `registry_check: "matched"` or
//!   `"not_in_registry"`, so every unchecked claim can be found and re-checked later.
//! - **Only the legal representative** grants, revokes and lists an organisation's
//!   delegations. Anyone else gets one refusal, `delegation_not_representative`, whether the
//!   organisation (or the delegation) exists or not, so the answer reveals nothing.
//! - **The agent is named by resident ID number and name**, as on a paper authorisation form.
//!   They must match one registered person; an unknown ID number and a name that does not
//!   match give the same answer, `delegation_agent_unknown`, so the form reveals nothing more
//!   than "no registered person with this name and ID number". A malformed ID number is
//!   reported as such (that depends only on what was typed).
//! - **Items** are implementation codes (实施编码) that must exist in the catalog; every
//!   unknown one is reported at `items[i]`. `None` means every item.
//! - **Validity:** from the day of granting to `valid_to`, both inclusive, at most
//!   [`DEFAULT_MAX_DELEGATION_YEARS`] years; the domain ([`Delegation::grant`]) judges it.
//! - **Revocation takes effect at once:** it is dated today, and the domain refuses a revoked
//!   delegation for the whole day of its revocation. [`App::check_acting`] reads the
//!   delegations from the database on every call, so no cache can keep a revoked delegation
//!   alive.
//! - **Audit:** `organisation_registered`, `delegation_granted` and `delegation_revoked` events
//!   name the acting person's account and, in `detail`, the organisation's credit code, the
//!   delegation id and the agent's account id; never an ID number, phone or name.
//! - Views ([`DelegationView`]) show the agent's account id and name, never the ID number.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use jiff::civil::Date;
use onetrip_domain::Localized;
use onetrip_domain::identifiers::{CreditCode, ResidentId};
use onetrip_domain::identity::{
    AccountId, AccountKind, Acting, AssuranceLevel, DEFAULT_MAX_DELEGATION_YEARS, Delegation,
    DelegationDraft, DelegationId, DelegationProblem, DelegationScope, OrganisationParty,
    Revocation, RevokeError, act_for,
};
use onetrip_domain::registry::LegalPersonStatus;
use onetrip_store::{AuthEvent, DelegationRow, OrganisationRow, StoreError};
use serde::Serialize;

use crate::accounts::{AccountProblem, MAX_NAME_CHARS};
use crate::realname::normalize_name;
use crate::{App, AppError, FieldProblem, Result};

/// Longest accepted organisation name, in characters.
pub const MAX_ORGANISATION_NAME_CHARS: usize = 128;

/// Longest accepted organisation kind, in characters.
pub const MAX_ORGANISATION_KIND_CHARS: usize = 32;

/// Problems and refusals of organisation and delegation use cases that are not domain errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrganisationProblem {
    /// Registering an organisation needs assurance level L2 (real-name verification).
    #[error("registering an organisation needs assurance level L2")]
    NeedsL2,
    /// The person is not the legal representative of the organisation (or it does not exist).
    #[error("not the legal representative")]
    NotRepresentative,
    /// No registered person has this name and resident ID number.
    #[error("no registered person with this name and ID number")]
    AgentUnknown,
    /// The legal representative named themselves as agent.
    #[error("the legal representative cannot be their own agent")]
    AgentIsRepresentative,
    /// An item code that is not in the catalog.
    #[error("unknown item {code}")]
    UnknownItem {
        /// The code as given.
        code: String,
    },
    /// The credit code is already registered.
    #[error("credit code already registered")]
    CreditCodeTaken,
    /// The organisation's name is empty.
    #[error("organisation name required")]
    NameRequired,
    /// The organisation's name is too long.
    #[error("organisation name too long")]
    NameTooLong,
    /// The organisation's kind is empty.
    #[error("organisation kind required")]
    KindRequired,
    /// The organisation's kind is too long.
    #[error("organisation kind too long")]
    KindTooLong,
    /// The legal-person registry names someone else as the legal representative.
    #[error("the legal-person registry names another legal representative")]
    RegistryNotRepresentative,
    /// The legal-person registry has the organisation as revoked or cancelled.
    #[error("the organisation is not active in the legal-person registry")]
    RegistryNotActive,
    /// The name differs from the one in the legal-person registry.
    #[error("the name differs from the legal-person registry")]
    RegistryNameMismatch {
        /// The registered name.
        registered: String,
    },
}

impl Localized for OrganisationProblem {
    fn code(&self) -> &'static str {
        match self {
            Self::NeedsL2 => "organisation_needs_l2",
            Self::NotRepresentative => "delegation_not_representative",
            Self::AgentUnknown => "delegation_agent_unknown",
            Self::AgentIsRepresentative => "delegation_agent_is_representative",
            Self::UnknownItem { .. } => "delegation_item_unknown",
            Self::CreditCodeTaken => "credit_code_taken",
            Self::NameRequired | Self::KindRequired => "required",
            Self::NameTooLong => "organisation_name_too_long",
            Self::KindTooLong => "organisation_kind_too_long",
            Self::RegistryNotRepresentative => "organisation_registry_not_representative",
            Self::RegistryNotActive => "organisation_not_active",
            Self::RegistryNameMismatch { .. } => "organisation_name_mismatch",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::NeedsL2 => {
                "注册法人账户需要先完成实名认证（认证等级二级及以上）：请先在“实名认证”中\
                              完成认证，再以法定代表人身份注册"
                    .to_owned()
            }
            Self::NotRepresentative => "只有单位的法定代表人可以管理授权代办：您不是该单位的法定\
                                        代表人，或该单位（授权）不存在"
                .to_owned(),
            Self::AgentUnknown => "没有姓名和身份证号码与之相符的注册用户：请核对经办人的姓名和\
                                   身份证号码，并确认经办人已注册"
                .to_owned(),
            Self::AgentIsRepresentative => {
                "法定代表人本人无需授权：请填写其他经办人的姓名和身份证号码".to_owned()
            }
            Self::UnknownItem { code } => {
                format!("事项编码“{code}”不存在：请从事项目录中选择事项")
            }
            Self::CreditCodeTaken => {
                "该统一社会信用代码已注册：如有疑问，请联系该单位的法定代表人或到窗口办理"
                    .to_owned()
            }
            Self::NameRequired => "请填写单位名称".to_owned(),
            Self::NameTooLong => {
                format!("单位名称太长：请不要超过{MAX_ORGANISATION_NAME_CHARS}个字符")
            }
            Self::KindRequired => "请选择单位类型".to_owned(),
            Self::KindTooLong => {
                format!("单位类型太长：请不要超过{MAX_ORGANISATION_KIND_CHARS}个字符")
            }
            Self::RegistryNotRepresentative => "法人库登记的法定代表人不是您：只有登记的法定代表人\
                                                可以注册该单位。如登记信息有误，请先办理变更登记"
                .to_owned(),
            Self::RegistryNotActive => {
                "该单位在法人库中的登记状态为吊销或注销，不能注册法人账户".to_owned()
            }
            Self::RegistryNameMismatch { registered } => {
                format!("单位名称与法人库登记的名称“{registered}”不一致：请按登记名称填写")
            }
        }
    }

    fn message_en(&self) -> String {
        match self {
            Self::NeedsL2 => "Registering an organisation needs real-name verification (assurance \
                              level 2 or higher): pass real-name verification first, then register \
                              as its legal representative"
                .to_owned(),
            Self::NotRepresentative => "Only the organisation's legal representative can manage \
                                        its delegations: you are not its legal representative, or \
                                        the organisation (or delegation) does not exist"
                .to_owned(),
            Self::AgentUnknown => "No registered person has this name and ID number: check the \
                                   agent's name and ID number, and make sure the agent has \
                                   registered"
                .to_owned(),
            Self::AgentIsRepresentative => "The legal representative needs no delegation: enter \
                                            another person as the agent"
                .to_owned(),
            Self::UnknownItem { code } => {
                format!("Item \"{code}\" does not exist: choose items from the catalog")
            }
            Self::CreditCodeTaken => "This credit code is already registered: if in doubt, \
                                      contact the organisation's legal representative or a \
                                      service window"
                .to_owned(),
            Self::NameRequired => "Enter the organisation's name".to_owned(),
            Self::NameTooLong => format!(
                "The organisation's name is too long: use at most \
                 {MAX_ORGANISATION_NAME_CHARS} characters"
            ),
            Self::KindRequired => "Choose the kind of organisation".to_owned(),
            Self::KindTooLong => format!(
                "The kind of organisation is too long: use at most \
                 {MAX_ORGANISATION_KIND_CHARS} characters"
            ),
            Self::RegistryNotRepresentative => "The legal-person registry names someone else as \
                                                the legal representative: only the registered \
                                                legal representative can register this \
                                                organisation. If the registration is wrong, \
                                                have it changed first"
                .to_owned(),
            Self::RegistryNotActive => "The organisation's licence is revoked or it is \
                                        deregistered in the legal-person registry: it cannot be \
                                        registered"
                .to_owned(),
            Self::RegistryNameMismatch { registered } => format!(
                "The name differs from the registered name \"{registered}\" in the legal-person \
                 registry: enter the registered name"
            ),
        }
    }
}

/// An organisation as shown with a delegation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrganisationView {
    /// Unified social credit code.
    pub credit_code: String,
    /// Name.
    pub name: String,
}

/// The agent of a delegation as shown: account and name, never the ID number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentView {
    /// The agent's account id.
    pub account_id: AccountId,
    /// The agent's name.
    pub name: String,
}

/// A revocation as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevocationView {
    /// The day from which the delegation is revoked.
    pub on: Date,
    /// Why.
    pub reason: String,
}

/// Where a delegation stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DelegationStatus {
    /// Valid that day.
    Active,
    /// Not valid yet.
    Pending,
    /// Past its last day.
    Expired,
    /// Revoked on or before that day.
    Revoked,
}

impl DelegationStatus {
    /// The status as text: `active`, `pending`, `expired` or `revoked`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Pending => "pending",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }

    /// The status of `row` on `today`.
    fn of(row: &DelegationRow, today: Date) -> Self {
        match &row.revoked {
            Some((on, _, _)) if today >= *on => Self::Revoked,
            _ if today < row.valid_from => Self::Pending,
            _ if today > row.valid_to => Self::Expired,
            _ => Self::Active,
        }
    }
}

/// A delegation as shown to the legal representative and to the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DelegationView {
    /// The delegation's id.
    pub id: String,
    /// The organisation that delegates.
    pub organisation: OrganisationView,
    /// The agent.
    pub agent: AgentView,
    /// The implementation codes of the items covered, or `None` for every item.
    pub items: Option<Vec<String>>,
    /// First day of validity (inclusive).
    pub valid_from: Date,
    /// Last day of validity (inclusive).
    pub valid_to: Date,
    /// The revocation, if revoked.
    pub revoked: Option<RevocationView>,
    /// Where the delegation stands on the day asked about.
    pub status: DelegationStatus,
}

/// An organisation a person may act for today, and on what authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActableOrganisation {
    /// The organisation.
    pub organisation: OrganisationView,
    /// Whether the person is its legal representative.
    pub legal_representative: bool,
    /// The ids of the person's delegations from it that are valid today (newest first).
    pub delegations: Vec<String>,
}

/// Where each domain delegation problem is shown.
fn problem_path(p: &DelegationProblem) -> &'static str {
    match p {
        DelegationProblem::EndsBeforeStart
        | DelegationProblem::AlreadyEnded
        | DelegationProblem::TooLong { .. } => "valid_to",
        DelegationProblem::NoItems
        | DelegationProblem::EmptyItemCode
        | DelegationProblem::DuplicateItem { .. } => "items",
    }
}

/// The domain delegation of a stored row.
fn to_domain(row: &DelegationRow) -> Result<Delegation> {
    let organisation = CreditCode::parse(&row.organisation).map_err(|e| {
        AppError::Internal(format!("delegation {}: stored credit code: {e}", row.id))
    })?;
    let draft = DelegationDraft {
        id: DelegationId::new(row.id.clone()),
        organisation,
        agent: AccountId::new(row.agent.clone()),
        scope: row
            .items
            .clone()
            .map_or(DelegationScope::AllItems, DelegationScope::Items),
        valid_from: row.valid_from,
        valid_to: row.valid_to,
    };
    let revocation = row.revoked.as_ref().map(|(on, reason, _)| Revocation {
        on: *on,
        reason: reason.clone(),
    });
    Delegation::restore(draft, revocation).map_err(|problems| {
        AppError::Internal(format!(
            "delegation {}: stored delegation breaks {} rule(s)",
            row.id,
            problems.len()
        ))
    })
}

fn view(
    row: &DelegationRow,
    organisation_name: &str,
    agent_name: &str,
    today: Date,
) -> DelegationView {
    DelegationView {
        id: row.id.clone(),
        organisation: OrganisationView {
            credit_code: row.organisation.clone(),
            name: organisation_name.to_owned(),
        },
        agent: AgentView {
            account_id: AccountId::new(row.agent.clone()),
            name: agent_name.to_owned(),
        },
        items: row.items.clone(),
        valid_from: row.valid_from,
        valid_to: row.valid_to,
        revoked: row.revoked.as_ref().map(|(on, reason, _)| RevocationView {
            on: *on,
            reason: reason.clone(),
        }),
        status: DelegationStatus::of(row, today),
    }
}

/// An organisation name as compared with the legal-person registry: trimmed, with half-width
/// brackets as full-width ones (registrations use `（）`, people type `()`).
fn organisation_name_key(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| match c {
            '(' => '（',
            ')' => '）',
            c => c,
        })
        .collect()
}

fn not_representative() -> AppError {
    AppError::refused(&OrganisationProblem::NotRepresentative)
}

impl App {
    /// Registers an organisation (法人) with `person` as its legal representative and returns
    /// it. The person must be at assurance level L2 or above (else refused with
    /// `organisation_needs_l2`). The credit code is checked with [`CreditCode::parse`]
    /// (problems at `credit_code`, `credit_code_taken` when registered already); `name` and
    /// `kind` are required. When the legal-person registry knows the credit code, the
    /// organisation must be active there and its registered legal representative and name must
    /// match: see the module documentation.
    pub async fn register_organisation(
        &self,
        person: &AccountId,
        credit_code: &str,
        name: &str,
        kind: &str,
        now: Timestamp,
    ) -> Result<OrganisationView> {
        let Some(row) = self.db.person_by_id(person.as_str()).await? else {
            return Err(AppError::NotFound {
                kind: "account",
                key: person.to_string(),
            });
        };
        if row.assurance_level < AssuranceLevel::L2 {
            return Err(AppError::refused(&OrganisationProblem::NeedsL2));
        }
        let mut problems = Vec::new();
        let code = match CreditCode::parse(credit_code) {
            Ok(code) => Some(code),
            Err(e) => {
                problems.push(FieldProblem::new("credit_code", &e));
                None
            }
        };
        let name = name.trim();
        if name.is_empty() {
            problems.push(FieldProblem::new(
                "name",
                &OrganisationProblem::NameRequired,
            ));
        } else if name.chars().count() > MAX_ORGANISATION_NAME_CHARS {
            problems.push(FieldProblem::new("name", &OrganisationProblem::NameTooLong));
        }
        let kind = kind.trim();
        if kind.is_empty() {
            problems.push(FieldProblem::new(
                "kind",
                &OrganisationProblem::KindRequired,
            ));
        } else if kind.chars().count() > MAX_ORGANISATION_KIND_CHARS {
            problems.push(FieldProblem::new("kind", &OrganisationProblem::KindTooLong));
        }
        if let Some(code) = &code
            && self.db.organisation(code.as_str()).await?.is_some()
        {
            problems.push(FieldProblem::new(
                "credit_code",
                &OrganisationProblem::CreditCodeTaken,
            ));
        }
        let (Some(code), true) = (code, problems.is_empty()) else {
            return Err(AppError::Rejected(problems));
        };
        let registry_check = match self.db.legal_person(code.as_str()).await? {
            None => "not_in_registry",
            Some(registered) => {
                if registered.status != LegalPersonStatus::Active {
                    return Err(AppError::refused(&OrganisationProblem::RegistryNotActive));
                }
                if registered.legal_representative_resident_id != row.resident_id
                    || normalize_name(&registered.legal_representative_name)
                        != normalize_name(&row.name)
                {
                    return Err(AppError::refused(
                        &OrganisationProblem::RegistryNotRepresentative,
                    ));
                }
                if organisation_name_key(&registered.name) != organisation_name_key(name) {
                    return Err(AppError::Rejected(vec![FieldProblem::new(
                        "name",
                        &OrganisationProblem::RegistryNameMismatch {
                            registered: registered.name,
                        },
                    )]));
                }
                "matched"
            }
        };
        let org = OrganisationRow {
            credit_code: code.as_str().to_owned(),
            name: name.to_owned(),
            kind: kind.to_owned(),
            legal_representative: person.as_str().to_owned(),
            created_at: now,
        };
        match self.db.insert_organisation(&org).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                return Err(AppError::Rejected(vec![FieldProblem::new(
                    "credit_code",
                    &OrganisationProblem::CreditCodeTaken,
                )]));
            }
            Err(e) => return Err(e.into()),
        }
        let mut event = AuthEvent::new(
            "organisation_registered",
            AccountKind::Citizen,
            Some(person.as_str()),
            now,
        );
        event.method = "legal_representative_claim".to_owned();
        event.detail = Some(
            serde_json::json!({
                "organisation": org.credit_code,
                "kind": org.kind,
                "registry_check": registry_check,
            })
            .to_string(),
        );
        self.db.record_auth_event(&event).await?;
        tracing::info!(organisation = %org.credit_code, account = %person, "organisation registered");
        Ok(OrganisationView {
            credit_code: org.credit_code,
            name: org.name,
        })
    }

    /// The organisation `org` if `rep` is its legal representative; the one refusal
    /// `delegation_not_representative` otherwise, whether it exists or not.
    async fn represented(&self, rep: &AccountId, org: &str) -> Result<OrganisationRow> {
        let code = CreditCode::parse(org).map_err(|_| not_representative())?;
        match self.db.organisation(code.as_str()).await? {
            Some(o) if o.legal_representative == rep.as_str() => Ok(o),
            _ => Err(not_representative()),
        }
    }

    /// Authorises a registered person (found by `agent_resident_id` and `agent_name`) to act
    /// for `org` on `items` (implementation codes; `None` for every item) from `today` to
    /// `valid_to`. Only the legal representative `rep` may (else refused,
    /// `delegation_not_representative`). Input problems are [`AppError::Rejected`] at
    /// `agent_resident_id`, `agent_name`, `agent` (`delegation_agent_unknown`: the same for
    /// an unknown ID number and a wrong name), `items[i]` (`delegation_item_unknown`),
    /// `items` and `valid_to` (the domain's [`DelegationProblem`]s).
    #[allow(clippy::too_many_arguments)]
    pub async fn grant_delegation(
        &self,
        rep: &AccountId,
        org: &str,
        agent_resident_id: &str,
        agent_name: &str,
        items: Option<Vec<String>>,
        valid_to: Date,
        today: Date,
        now: Timestamp,
    ) -> Result<DelegationView> {
        let organisation = self.represented(rep, org).await?;
        let credit_code = CreditCode::parse(&organisation.credit_code)
            .map_err(|e| AppError::Internal(format!("stored credit code: {e}")))?;
        let mut problems = Vec::new();

        // The agent: one answer for "no such person" and "wrong name".
        let resident_id = match ResidentId::parse(agent_resident_id, today) {
            Ok(id) => Some(id),
            Err(e) => {
                problems.push(FieldProblem::new("agent_resident_id", &e));
                None
            }
        };
        let agent_name = agent_name.trim();
        if agent_name.is_empty() {
            problems.push(FieldProblem::new(
                "agent_name",
                &AccountProblem::NameRequired,
            ));
        } else if agent_name.chars().count() > MAX_NAME_CHARS {
            problems.push(FieldProblem::new(
                "agent_name",
                &AccountProblem::NameTooLong,
            ));
        }
        let mut agent = None;
        if let (Some(id), false) = (&resident_id, agent_name.is_empty()) {
            match self.db.person_by_resident_id(id.expose()).await? {
                Some(p) if p.name == agent_name => {
                    if p.id == rep.as_str() {
                        problems.push(FieldProblem::new(
                            "agent",
                            &OrganisationProblem::AgentIsRepresentative,
                        ));
                    } else {
                        agent = Some(p);
                    }
                }
                _ => problems.push(FieldProblem::new(
                    "agent",
                    &OrganisationProblem::AgentUnknown,
                )),
            }
        }

        // The items: every listed code must be in the catalog.
        let items: Option<Vec<String>> =
            items.map(|list| list.iter().map(|c| c.trim().to_owned()).collect());
        if let Some(list) = &items {
            let asked: Vec<String> = list.iter().filter(|c| !c.is_empty()).cloned().collect();
            let found: Vec<String> = self
                .db
                .items_by_codes(&asked)
                .await?
                .into_iter()
                .map(|i| i.implementation_code)
                .collect();
            for (i, code) in list.iter().enumerate() {
                if !code.is_empty() && !found.contains(code) {
                    problems.push(FieldProblem::new(
                        format!("items[{i}]"),
                        &OrganisationProblem::UnknownItem { code: code.clone() },
                    ));
                }
            }
        }

        // The domain's rules on dates and scope.
        let id = uuid::Uuid::now_v7().to_string();
        let draft = DelegationDraft {
            id: DelegationId::new(id.clone()),
            organisation: credit_code,
            agent: AccountId::new(agent.as_ref().map(|p| p.id.clone()).unwrap_or_default()),
            scope: items
                .clone()
                .map_or(DelegationScope::AllItems, DelegationScope::Items),
            valid_from: today,
            valid_to,
        };
        if let Err(found) = Delegation::grant(draft, today, DEFAULT_MAX_DELEGATION_YEARS) {
            problems.extend(found.iter().map(|p| FieldProblem::new(problem_path(p), p)));
        }
        let (Some(agent), true) = (agent, problems.is_empty()) else {
            return Err(AppError::Rejected(problems));
        };

        let row = DelegationRow {
            id: id.clone(),
            organisation: organisation.credit_code.clone(),
            agent: agent.id.clone(),
            items,
            valid_from: today,
            valid_to,
            granted_by: rep.as_str().to_owned(),
            granted_at: now,
            revoked: None,
        };
        self.db.insert_delegation(&row).await?;
        let mut event = AuthEvent::new(
            "delegation_granted",
            AccountKind::Citizen,
            Some(rep.as_str()),
            now,
        );
        event.method = "legal_representative".to_owned();
        event.detail = Some(
            serde_json::json!({
                "delegation": id,
                "organisation": organisation.credit_code,
                "agent": agent.id,
                "items": row.items.as_ref().map(Vec::len),
                "valid_to": valid_to.to_string(),
            })
            .to_string(),
        );
        self.db.record_auth_event(&event).await?;
        tracing::info!(delegation = %id, organisation = %organisation.credit_code, "delegation granted");
        Ok(view(&row, &organisation.name, &agent.name, today))
    }

    /// Revokes a delegation from `today` on (at once, for the whole day). Only the legal
    /// representative of its organisation may (else refused, `delegation_not_representative`,
    /// also for an unknown id); a second revocation is refused (`delegation_already_revoked`);
    /// a blank reason is [`AppError::Rejected`] at `reason`.
    pub async fn revoke_delegation(
        &self,
        rep: &AccountId,
        delegation_id: &str,
        reason: &str,
        today: Date,
        now: Timestamp,
    ) -> Result<DelegationView> {
        let Some(row) = self.db.delegation(delegation_id).await? else {
            return Err(not_representative());
        };
        let organisation = self.represented(rep, &row.organisation).await?;
        let mut delegation = to_domain(&row)?;
        match delegation.revoke(today, reason) {
            Ok(()) => {}
            Err(e @ RevokeError::ReasonMissing) => {
                return Err(AppError::Rejected(vec![FieldProblem::new("reason", &e)]));
            }
            Err(e @ RevokeError::AlreadyRevoked) => return Err(AppError::refused(&e)),
        }
        let reason = reason.trim();
        if !self
            .db
            .revoke_delegation(&row.id, today, reason, now)
            .await?
        {
            // Revoked concurrently.
            return Err(AppError::refused(&RevokeError::AlreadyRevoked));
        }
        let mut event = AuthEvent::new(
            "delegation_revoked",
            AccountKind::Citizen,
            Some(rep.as_str()),
            now,
        );
        event.method = "legal_representative".to_owned();
        event.detail = Some(
            serde_json::json!({
                "delegation": row.id,
                "organisation": row.organisation,
                "agent": row.agent,
                "on": today.to_string(),
            })
            .to_string(),
        );
        self.db.record_auth_event(&event).await?;
        tracing::info!(delegation = %row.id, "delegation revoked");
        let row = DelegationRow {
            revoked: Some((today, reason.to_owned(), now)),
            ..row
        };
        let agent_name = self.person_name(&row.agent).await?;
        Ok(view(&row, &organisation.name, &agent_name, today))
    }

    /// Every delegation of `org`, newest first, with its status on `today`. Only its legal
    /// representative may list them (else refused, `delegation_not_representative`).
    pub async fn delegations_of_organisation(
        &self,
        rep: &AccountId,
        org: &str,
        today: Date,
    ) -> Result<Vec<DelegationView>> {
        let organisation = self.represented(rep, org).await?;
        let rows = self
            .db
            .delegations_of_organisation(&organisation.credit_code)
            .await?;
        let mut names: HashMap<String, String> = HashMap::new();
        let mut views = Vec::with_capacity(rows.len());
        for row in &rows {
            if !names.contains_key(&row.agent) {
                let name = self.person_name(&row.agent).await?;
                names.insert(row.agent.clone(), name);
            }
            let agent_name = names.get(&row.agent).map_or("", String::as_str);
            views.push(view(row, &organisation.name, agent_name, today));
        }
        Ok(views)
    }

    /// Every delegation held by `agent` (whatever its status), newest first, with its status
    /// on `today`.
    pub async fn my_delegations(
        &self,
        agent: &AccountId,
        today: Date,
    ) -> Result<Vec<DelegationView>> {
        let rows = self.db.delegations_of_agent(agent.as_str()).await?;
        let agent_name = self.person_name(agent.as_str()).await?;
        let mut organisations: HashMap<String, String> = HashMap::new();
        let mut views = Vec::with_capacity(rows.len());
        for row in &rows {
            if !organisations.contains_key(&row.organisation) {
                let name = self
                    .db
                    .organisation(&row.organisation)
                    .await?
                    .map(|o| o.name)
                    .unwrap_or_default();
                organisations.insert(row.organisation.clone(), name);
            }
            let name = organisations
                .get(&row.organisation)
                .map_or("", String::as_str);
            views.push(view(row, name, &agent_name, today));
        }
        Ok(views)
    }

    /// The organisations `person` may act for on `today`: those they are the legal
    /// representative of, and those that gave them a delegation valid today (not revoked,
    /// within its dates), by credit code.
    pub async fn organisations_i_may_act_for(
        &self,
        person: &AccountId,
        today: Date,
    ) -> Result<Vec<ActableOrganisation>> {
        let mut found: BTreeMap<String, ActableOrganisation> = BTreeMap::new();
        for o in self
            .db
            .organisations_represented_by(person.as_str())
            .await?
        {
            found.insert(
                o.credit_code.clone(),
                ActableOrganisation {
                    organisation: OrganisationView {
                        credit_code: o.credit_code,
                        name: o.name,
                    },
                    legal_representative: true,
                    delegations: Vec::new(),
                },
            );
        }
        for row in self.db.delegations_of_agent(person.as_str()).await? {
            if DelegationStatus::of(&row, today) != DelegationStatus::Active {
                continue;
            }
            if let Some(entry) = found.get_mut(&row.organisation) {
                entry.delegations.push(row.id);
                continue;
            }
            let Some(o) = self.db.organisation(&row.organisation).await? else {
                continue;
            };
            found.insert(
                o.credit_code.clone(),
                ActableOrganisation {
                    organisation: OrganisationView {
                        credit_code: o.credit_code,
                        name: o.name,
                    },
                    legal_representative: false,
                    delegations: vec![row.id],
                },
            );
        }
        Ok(found.into_values().collect())
    }

    /// Whether `person` may act for `org` on the item `item_code` on `today`, decided by the
    /// domain ([`act_for`]) with the person's delegations read from the database now, so that
    /// a revocation takes effect at once. The refusal is the domain's
    /// [`onetrip_domain::identity::ActingRefusal`] (`acting_no_delegation` also for an unknown
    /// organisation).
    pub async fn check_acting(
        &self,
        person: &AccountId,
        org: &str,
        item_code: &str,
        today: Date,
    ) -> Result<Acting> {
        let refused = || AppError::refused(&onetrip_domain::identity::ActingRefusal::NoDelegation);
        let code = CreditCode::parse(org).map_err(|_| refused())?;
        let Some(organisation) = self.db.organisation(code.as_str()).await? else {
            return Err(refused());
        };
        let party = OrganisationParty {
            credit_code: code,
            legal_representative: AccountId::new(organisation.legal_representative),
        };
        let delegations = self
            .db
            .delegations_of_agent(person.as_str())
            .await?
            .iter()
            .filter(|row| row.organisation == party.credit_code.as_str())
            .map(to_domain)
            .collect::<Result<Vec<_>>>()?;
        act_for(person, &party, &delegations, item_code.trim(), today)
            .map_err(|refusal| AppError::refused(&refusal))
    }

    /// The name of a person account (empty when there is none).
    async fn person_name(&self, id: &str) -> Result<String> {
        Ok(self
            .db
            .person_by_id(id)
            .await?
            .map(|p| p.name)
            .unwrap_or_default())
    }
}
