//! Delegations to agents (授权代办) and acting for an organisation.

use std::collections::BTreeSet;

use jiff::Span;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::account::{AccountId, opaque_id};
use crate::Localized;
use crate::identifiers::CreditCode;

/// Default longest validity of a delegation: it may end at most this many years after the
/// day it is granted.
pub const DEFAULT_MAX_DELEGATION_YEARS: i16 = 5;

opaque_id!(
    /// The id of a delegation, issued by the store; stamped on actions taken under it.
    DelegationId
);

/// Which items a delegation covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "items", rename_all = "snake_case")]
pub enum DelegationScope {
    /// Every item.
    AllItems,
    /// Only the listed items, by implementation code (实施编码).
    Items(Vec<String>),
}

impl DelegationScope {
    /// Whether the scope covers the item with this implementation code.
    pub fn covers(&self, item_code: &str) -> bool {
        match self {
            Self::AllItems => true,
            Self::Items(items) => items.iter().any(|i| i == item_code),
        }
    }
}

/// What the legal representative asks for when authorising an agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegationDraft {
    /// Id issued by the store.
    pub id: DelegationId,
    /// The organisation that delegates.
    pub organisation: CreditCode,
    /// The agent (经办人): a person's account.
    pub agent: AccountId,
    /// The items covered.
    pub scope: DelegationScope,
    /// First day of validity (inclusive).
    pub valid_from: Date,
    /// Last day of validity (inclusive).
    pub valid_to: Date,
}

/// The revocation of a delegation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// The day the revocation takes effect (refused from this day on, the whole day).
    pub on: Date,
    /// Why it was revoked (free text from the legal representative).
    pub reason: String,
}

/// A valid delegation (授权代办): an organisation authorises an agent for some items over a
/// period of days. Built only through [`Delegation::grant`] or [`Delegation::restore`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Delegation {
    id: DelegationId,
    organisation: CreditCode,
    agent: AccountId,
    scope: DelegationScope,
    valid_from: Date,
    valid_to: Date,
    revocation: Option<Revocation>,
}

/// A problem with a delegation draft. [`Delegation::grant`] lists every one it finds.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DelegationProblem {
    /// `valid_to` is before `valid_from`.
    #[error("delegation ends before it starts")]
    EndsBeforeStart,
    /// `valid_to` is already in the past on the day of granting.
    #[error("delegation already ended")]
    AlreadyEnded,
    /// Ends more than the allowed number of years after the day of granting.
    #[error("delegation lasts more than {max_years} years")]
    TooLong {
        /// The allowed number of years.
        max_years: i16,
    },
    /// A listed scope without any item.
    #[error("delegation lists no items")]
    NoItems,
    /// An empty (or blank) item code in the list.
    #[error("empty item code")]
    EmptyItemCode,
    /// The same item listed twice.
    #[error("item {item} listed twice")]
    DuplicateItem {
        /// The repeated implementation code.
        item: String,
    },
}

impl Localized for DelegationProblem {
    fn code(&self) -> &'static str {
        match self {
            Self::EndsBeforeStart => "delegation_ends_before_start",
            Self::AlreadyEnded => "delegation_already_ended",
            Self::TooLong { .. } => "delegation_too_long",
            Self::NoItems => "delegation_no_items",
            Self::EmptyItemCode => "delegation_empty_item_code",
            Self::DuplicateItem { .. } => "delegation_duplicate_item",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::EndsBeforeStart => "授权截止日期早于开始日期：请调整授权期限".to_owned(),
            Self::AlreadyEnded => "授权截止日期已过：请选择今天或以后的日期".to_owned(),
            Self::TooLong { max_years } => {
                format!("授权期限过长：截止日期最多为授权之日起{max_years}年内")
            }
            Self::NoItems => "未选择授权事项：请至少选择一个事项，或选择“全部事项”".to_owned(),
            Self::EmptyItemCode => "授权事项中有空的事项编码：请删除空行".to_owned(),
            Self::DuplicateItem { item } => format!("事项 {item} 重复选择：请只保留一次"),
        }
    }

    fn message_en(&self) -> String {
        match self {
            Self::EndsBeforeStart => {
                "The delegation ends before it starts: adjust its validity period".to_owned()
            }
            Self::AlreadyEnded => {
                "The delegation's end date has passed: choose today or a later date".to_owned()
            }
            Self::TooLong { max_years } => format!(
                "The delegation is too long: it must end within {max_years} years of being granted"
            ),
            Self::NoItems => {
                "No items selected: select at least one item, or \"all items\"".to_owned()
            }
            Self::EmptyItemCode => "An item code is empty: remove the empty entry".to_owned(),
            Self::DuplicateItem { item } => {
                format!("Item {item} is listed more than once: keep it once")
            }
        }
    }
}

/// Why a delegation does not permit an action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum DelegationRefusal {
    /// The day is before the first day of validity.
    #[error("delegation valid from {valid_from}")]
    NotYetValid {
        /// First day of validity.
        valid_from: Date,
    },
    /// The day is after the last day of validity.
    #[error("delegation expired after {valid_to}")]
    Expired {
        /// Last day of validity.
        valid_to: Date,
    },
    /// The delegation was revoked on or before the day.
    #[error("delegation revoked on {on}")]
    Revoked {
        /// Day the revocation took effect.
        on: Date,
    },
    /// The item is not among the delegated ones.
    #[error("item {item} not covered by the delegation")]
    ItemNotCovered {
        /// The item's implementation code.
        item: String,
    },
}

impl DelegationRefusal {
    /// How close the delegation came to permitting (lower is closer); used to pick the most
    /// useful refusal when several delegations refuse.
    fn rank(&self) -> u8 {
        match self {
            Self::ItemNotCovered { .. } => 0,
            Self::NotYetValid { .. } => 1,
            Self::Expired { .. } => 2,
            Self::Revoked { .. } => 3,
        }
    }
}

impl Localized for DelegationRefusal {
    fn code(&self) -> &'static str {
        match self {
            Self::NotYetValid { .. } => "delegation_not_yet_valid",
            Self::Expired { .. } => "delegation_expired",
            Self::Revoked { .. } => "delegation_revoked",
            Self::ItemNotCovered { .. } => "delegation_item_not_covered",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::NotYetValid { valid_from } => {
                format!("授权自{valid_from}起生效，目前尚未生效：请在生效后再办理")
            }
            Self::Expired { valid_to } => {
                format!("授权已于{valid_to}到期：请联系单位法定代表人重新授权")
            }
            Self::Revoked { on } => {
                format!("授权已于{on}被撤销：请联系单位法定代表人")
            }
            Self::ItemNotCovered { item } => {
                format!("您未被授权代办事项 {item}：请联系单位法定代表人将该事项加入授权")
            }
        }
    }

    fn message_en(&self) -> String {
        match self {
            Self::NotYetValid { valid_from } => format!(
                "The delegation takes effect on {valid_from} and is not valid yet: try again then"
            ),
            Self::Expired { valid_to } => format!(
                "The delegation expired after {valid_to}: ask the legal representative to renew it"
            ),
            Self::Revoked { on } => format!(
                "The delegation was revoked on {on}: contact the organisation's legal \
                 representative"
            ),
            Self::ItemNotCovered { item } => format!(
                "You are not authorised to act on item {item}: ask the legal representative to \
                 add it to your delegation"
            ),
        }
    }
}

/// Why a revocation is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RevokeError {
    /// The delegation is already revoked.
    #[error("delegation already revoked")]
    AlreadyRevoked,
    /// No reason was given.
    #[error("revocation reason missing")]
    ReasonMissing,
}

impl Localized for RevokeError {
    fn code(&self) -> &'static str {
        match self {
            Self::AlreadyRevoked => "delegation_already_revoked",
            Self::ReasonMissing => "delegation_revocation_reason_missing",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::AlreadyRevoked => "该授权已被撤销，无需再次撤销".to_owned(),
            Self::ReasonMissing => "请填写撤销授权的原因".to_owned(),
        }
    }

    fn message_en(&self) -> String {
        match self {
            Self::AlreadyRevoked => {
                "This delegation is already revoked: nothing more to do".to_owned()
            }
            Self::ReasonMissing => "Give a reason for revoking the delegation".to_owned(),
        }
    }
}

impl Delegation {
    /// Grants a delegation on `today`: checks the draft and lists every problem.
    ///
    /// Besides the structural rules of [`Delegation::restore`], refuses a delegation whose
    /// end date is before `today` or more than `max_years` years after `today` (use
    /// [`DEFAULT_MAX_DELEGATION_YEARS`]).
    pub fn grant(
        draft: DelegationDraft,
        today: Date,
        max_years: i16,
    ) -> Result<Self, Vec<DelegationProblem>> {
        let mut problems = structural_problems(&draft);
        if draft.valid_to < today {
            problems.push(DelegationProblem::AlreadyEnded);
        }
        let horizon = Span::new()
            .try_years(max_years)
            .ok()
            .and_then(|span| today.checked_add(span).ok());
        // A horizon beyond the last representable date cannot be exceeded.
        if horizon.is_some_and(|h| draft.valid_to > h) {
            problems.push(DelegationProblem::TooLong { max_years });
        }
        if problems.is_empty() {
            Ok(Self::from_draft(draft, None))
        } else {
            Err(problems)
        }
    }

    /// Rebuilds a stored delegation: checks only the structural rules (dates in order, a
    /// non-empty list of distinct, non-blank item codes), not the rules that depend on the
    /// day of granting.
    pub fn restore(
        draft: DelegationDraft,
        revocation: Option<Revocation>,
    ) -> Result<Self, Vec<DelegationProblem>> {
        let problems = structural_problems(&draft);
        if problems.is_empty() {
            Ok(Self::from_draft(draft, revocation))
        } else {
            Err(problems)
        }
    }

    fn from_draft(draft: DelegationDraft, revocation: Option<Revocation>) -> Self {
        Self {
            id: draft.id,
            organisation: draft.organisation,
            agent: draft.agent,
            scope: draft.scope,
            valid_from: draft.valid_from,
            valid_to: draft.valid_to,
            revocation,
        }
    }

    /// The delegation's id.
    pub fn id(&self) -> &DelegationId {
        &self.id
    }

    /// The delegating organisation.
    pub fn organisation(&self) -> &CreditCode {
        &self.organisation
    }

    /// The agent.
    pub fn agent(&self) -> &AccountId {
        &self.agent
    }

    /// The items covered.
    pub fn scope(&self) -> &DelegationScope {
        &self.scope
    }

    /// First day of validity (inclusive).
    pub fn valid_from(&self) -> Date {
        self.valid_from
    }

    /// Last day of validity (inclusive).
    pub fn valid_to(&self) -> Date {
        self.valid_to
    }

    /// The revocation, if revoked.
    pub fn revocation(&self) -> Option<&Revocation> {
        self.revocation.as_ref()
    }

    /// Revokes the delegation with effect from `on` (that whole day included).
    pub fn revoke(&mut self, on: Date, reason: &str) -> Result<(), RevokeError> {
        if self.revocation.is_some() {
            return Err(RevokeError::AlreadyRevoked);
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(RevokeError::ReasonMissing);
        }
        self.revocation = Some(Revocation {
            on,
            reason: reason.to_owned(),
        });
        Ok(())
    }

    /// Whether the agent may act on `item_code` on the day `on`.
    ///
    /// Checked in this order: revoked (on or after the revocation day), not yet valid,
    /// expired, item not covered.
    pub fn permits(&self, item_code: &str, on: Date) -> Result<(), DelegationRefusal> {
        if let Some(r) = &self.revocation
            && on >= r.on
        {
            return Err(DelegationRefusal::Revoked { on: r.on });
        }
        if on < self.valid_from {
            return Err(DelegationRefusal::NotYetValid {
                valid_from: self.valid_from,
            });
        }
        if on > self.valid_to {
            return Err(DelegationRefusal::Expired {
                valid_to: self.valid_to,
            });
        }
        if !self.scope.covers(item_code) {
            return Err(DelegationRefusal::ItemNotCovered {
                item: item_code.to_owned(),
            });
        }
        Ok(())
    }
}

/// The rules that hold for every delegation, whenever it was granted.
fn structural_problems(draft: &DelegationDraft) -> Vec<DelegationProblem> {
    let mut problems = Vec::new();
    if draft.valid_to < draft.valid_from {
        problems.push(DelegationProblem::EndsBeforeStart);
    }
    if let DelegationScope::Items(items) = &draft.scope {
        if items.is_empty() {
            problems.push(DelegationProblem::NoItems);
        }
        if items.iter().any(|i| i.trim().is_empty()) {
            problems.push(DelegationProblem::EmptyItemCode);
        }
        let mut seen = BTreeSet::new();
        let mut reported = BTreeSet::new();
        for item in items.iter().filter(|i| !i.trim().is_empty()) {
            if !seen.insert(item.as_str()) && reported.insert(item.as_str()) {
                problems.push(DelegationProblem::DuplicateItem { item: item.clone() });
            }
        }
    }
    problems
}

/// An organisation as far as acting for it is concerned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganisationParty {
    /// The organisation's credit code.
    pub credit_code: CreditCode,
    /// The account of its legal representative (法定代表人).
    pub legal_representative: AccountId,
}

/// On what authority a person acts for an organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "delegation", rename_all = "snake_case")]
pub enum ActingBasis {
    /// The person is the legal representative.
    LegalRepresentative,
    /// Under this delegation.
    Delegation(DelegationId),
}

/// The organisation a person acts for, and on what authority.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnBehalfOf {
    /// The organisation.
    pub organisation: CreditCode,
    /// The authority.
    pub basis: ActingBasis,
}

/// Who acts: stamped on every action. Always the person; when they act for an organisation
/// (after an explicit identity switch), also the organisation and the authority used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acting {
    /// The person's account.
    pub person: AccountId,
    /// The organisation acted for, if any.
    pub on_behalf_of: Option<OnBehalfOf>,
}

impl Acting {
    /// A person acting for themselves.
    pub fn as_self(person: AccountId) -> Self {
        Self {
            person,
            on_behalf_of: None,
        }
    }

    /// The organisation acted for, if any.
    pub fn organisation(&self) -> Option<&CreditCode> {
        self.on_behalf_of.as_ref().map(|o| &o.organisation)
    }
}

/// Why a person may not act for an organisation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ActingRefusal {
    /// The person is neither the legal representative nor an agent of the organisation.
    #[error("no delegation from this organisation")]
    NoDelegation,
    /// The person has delegations, but none permits this item today; this is the most
    /// relevant refusal (item not covered, then not yet valid, expired, revoked).
    #[error(transparent)]
    Delegation(DelegationRefusal),
}

impl Localized for ActingRefusal {
    fn code(&self) -> &'static str {
        match self {
            Self::NoDelegation => "acting_no_delegation",
            Self::Delegation(r) => r.code(),
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::NoDelegation => {
                "您没有该单位的授权：请联系单位法定代表人在“授权代办”中为您授权".to_owned()
            }
            Self::Delegation(r) => r.message_zh(),
        }
    }

    fn message_en(&self) -> String {
        match self {
            Self::NoDelegation => "You are not authorised to act for this organisation: ask its \
                                   legal representative to delegate to you"
                .to_owned(),
            Self::Delegation(r) => r.message_en(),
        }
    }
}

/// Decides whether `person` may act for `organisation` on `item_code` on `today`.
///
/// The legal representative always may. Anyone else needs a delegation from that
/// organisation to them that [permits](Delegation::permits) the item today; delegations of
/// other organisations or other agents are ignored. The first permitting delegation in
/// `delegations` order is the one recorded.
pub fn act_for(
    person: &AccountId,
    organisation: &OrganisationParty,
    delegations: &[Delegation],
    item_code: &str,
    today: Date,
) -> Result<Acting, ActingRefusal> {
    let acting = |basis| Acting {
        person: person.clone(),
        on_behalf_of: Some(OnBehalfOf {
            organisation: organisation.credit_code,
            basis,
        }),
    };
    if *person == organisation.legal_representative {
        return Ok(acting(ActingBasis::LegalRepresentative));
    }
    let mut best: Option<DelegationRefusal> = None;
    for d in delegations
        .iter()
        .filter(|d| d.organisation == organisation.credit_code && d.agent == *person)
    {
        match d.permits(item_code, today) {
            Ok(()) => return Ok(acting(ActingBasis::Delegation(d.id.clone()))),
            Err(r) => {
                if best.as_ref().is_none_or(|b| r.rank() < b.rank()) {
                    best = Some(r);
                }
            }
        }
    }
    Err(best.map_or(ActingRefusal::NoDelegation, ActingRefusal::Delegation))
}
