//! Applications and cases (申请 + 办件): drafts, one submission that fans out into one case per
//! member item, the actions on a case, dependent members that start when their prerequisites
//! conclude, and the hash-chained event log with its verification.
//!
//! Every use case commits in one transaction: the case rows, their new events (each carrying the
//! SM3 hash of the previous one), the outbox rows that announce them and the idempotency record.
//! A case is changed only by applying an event through the domain's state machine
//! ([`onetrip_domain::case`]); the store checks the event count it was read at, so two writers
//! never both append event *n*.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use onetrip_domain::case::{
    self, CaseEvent, CaseNumber, CaseState, CaseStatus, CorrectionItem, Outcome, ProcessDefinition,
    SpecialProcedure,
};
use onetrip_domain::catalog::{DeliveryMethod, ServiceItem, ServiceObject};
use onetrip_domain::certificate::HolderKind;
use onetrip_domain::form::FormValues;
use onetrip_domain::identifiers::DivisionCode;
use onetrip_domain::identity::{AccountId, RoleGrant, StaffRole, Target};
use onetrip_seal::{CHAIN_GENESIS, canonical_json, chain_hash, first_broken_link};
use onetrip_store::{
    ApplicationRow, CaseChange, CaseCommit, CaseRow, EventRow, OutboxRow, StoreError,
    SubmissionRows,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::certificates::{CertificateActor, IssueRequest};
use crate::idempotency::{Keyed, key_in_use};
use crate::resolution::{Applicant, ApplicationResolution, RequestedItem};
use crate::{App, AppError, FieldProblem, Result, china_today};

/// How many times a use case re-reads and retries when another writer changed the case first.
const RETRIES: usize = 5;

/// Who acts on applications and cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseActor {
    /// A citizen account (for themselves, or for the organisation they act for).
    Applicant {
        /// The account.
        account: AccountId,
        /// The resident ID or credit code they apply as: applications made for this subject
        /// without an account (at a window) are theirs too.
        subject: Option<String>,
    },
    /// A member of staff with their role grants.
    Staff {
        /// Staff id.
        id: AccountId,
        /// Role grants.
        roles: Vec<RoleGrant>,
    },
    /// A department system with a client-credentials token bound to one department.
    DepartmentSystem {
        /// Client id.
        client_id: String,
        /// The department it acts for.
        department: String,
    },
    /// The platform itself or the operator.
    System,
}

impl CaseActor {
    /// How the actor is written into events.
    pub fn label(&self) -> String {
        match self {
            CaseActor::Applicant { account, .. } => format!("applicant:{account}"),
            CaseActor::Staff { id, .. } => format!("staff:{id}"),
            CaseActor::DepartmentSystem { client_id, .. } => format!("client:{client_id}"),
            CaseActor::System => "system".to_string(),
        }
    }

    /// The account id written into events that name who acted.
    fn account(&self) -> AccountId {
        match self {
            CaseActor::Applicant { account, .. } => account.clone(),
            CaseActor::Staff { id, .. } => id.clone(),
            CaseActor::DepartmentSystem { client_id, .. } => {
                AccountId::new(format!("client:{client_id}"))
            }
            CaseActor::System => AccountId::new("system"),
        }
    }

    /// The idempotency scope of the actor.
    fn scope(&self) -> String {
        self.label()
    }

    /// Whether the actor is staff holding one of `roles` over `division` (and `department`).
    pub(crate) fn holds(
        &self,
        roles: &[StaffRole],
        division: &DivisionCode,
        department: Option<&str>,
    ) -> bool {
        match self {
            CaseActor::Staff { roles: grants, .. } => grants.iter().any(|g| {
                roles.contains(&g.role)
                    && g.covers(Target {
                        division,
                        department,
                    })
            }),
            _ => false,
        }
    }
}

/// The channel an application came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplyChannel {
    /// 网上办: the web portal.
    Web,
    /// 掌上办: the mobile app.
    Mobile,
    /// 自助办: a kiosk.
    Kiosk,
    /// 窗口办: a general window, a clerk applying on the applicant's behalf.
    Window,
    /// A partner or department system through the API.
    Api,
}

impl ApplyChannel {
    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ApplyChannel::Web => "web",
            ApplyChannel::Mobile => "mobile",
            ApplyChannel::Kiosk => "kiosk",
            ApplyChannel::Window => "window",
            ApplyChannel::Api => "api",
        }
    }
}

/// What an application is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ApplicationTarget {
    /// A bundle (一件事).
    Bundle {
        /// Bundle code.
        code: String,
    },
    /// One item.
    Item {
        /// Implementation code.
        code: String,
        /// Situation code (may be left out when the item has one).
        #[serde(default)]
        situation: Option<String>,
    },
}

pub use onetrip_domain::case::FileRef;

/// An application as the applicant fills it in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationInput {
    /// What is applied for.
    pub target: ApplicationTarget,
    /// Answers to the questionnaire.
    #[serde(default)]
    pub answers: FormValues,
    /// The unified form's (or the item form's) values.
    #[serde(default)]
    pub form: FormValues,
    /// Uploaded materials, by merged material key (`upload:营业执照`) or `member.material`.
    #[serde(default)]
    pub uploads: BTreeMap<String, FileRef>,
}

/// A general-window clerk applying for a walk-in applicant (一窗受理): who, having checked the
/// identity document of the person at the window in person, and that person's signature (a
/// reference to the signed image or signature-pad record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowIntake {
    /// The clerk.
    pub clerk: CaseActor,
    /// The signature of the person at the window.
    pub signature: String,
    /// For an organisation: the person who came for it (经办人).
    pub agent: Option<Agent>,
}

/// The person who comes to the window for an organisation (经办人), identity checked in person:
/// its legal representative, or someone it authorised in writing (授权委托书, received at the
/// window).
#[derive(Clone, PartialEq, Eq)]
pub struct Agent {
    /// Resident ID number.
    pub resident_id: String,
    /// Name on the ID card.
    pub name: String,
    /// The organisation's legal representative (else authorised in writing).
    pub legal_representative: bool,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field(
                "resident_id",
                &onetrip_domain::sharing::mask_resident_id(&self.resident_id),
            )
            .field("legal_representative", &self.legal_representative)
            .finish_non_exhaustive()
    }
}

/// The applicant, as the use case sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicantFacts {
    /// Person or organisation, by identifier.
    pub applicant: Applicant,
    /// Name.
    pub name: String,
    /// The citizen account, if any.
    pub account: Option<AccountId>,
}

/// One case in a response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseView {
    /// Case number.
    pub number: String,
    /// Application id.
    pub application: String,
    /// Bundle member key.
    pub member: String,
    /// Item code.
    pub item: String,
    /// Item name.
    pub item_name: String,
    /// Situation code.
    pub situation: String,
    /// Responsible department.
    pub department: String,
    /// State.
    pub state: String,
    /// State in Chinese.
    pub state_zh: String,
    /// State in English.
    pub state_en: String,
    /// Date the queue sorts by (the deadline once the clock runs).
    pub due_on: Date,
    /// Deadline, once accepted.
    pub deadline: Option<Date>,
    /// Warning level.
    pub warning: String,
    /// What may be done next.
    pub allowed: Vec<String>,
    /// Members it waits for.
    pub depends_on: Vec<String>,
    /// Events so far.
    pub events: i64,
}

/// The response to a submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submitted {
    /// Application id.
    pub application: String,
    /// Derived status.
    pub status: String,
    /// Case numbers, one per member item, in dependency order.
    pub cases: Vec<SubmittedCase>,
    /// Materials the applicant supplied by upload.
    pub uploads: usize,
}

/// One case of a submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmittedCase {
    /// Case number.
    pub number: String,
    /// Member key.
    pub member: String,
    /// Item code.
    pub item: String,
    /// Item name.
    pub item_name: String,
    /// Responsible department.
    pub department: String,
    /// Initial state.
    pub state: String,
}

/// An action on a case (the API's command; the use case turns it into an event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum CaseCommand {
    /// 受理.
    Accept,
    /// 不予受理.
    Refuse {
        /// Reason.
        reason: String,
    },
    /// 补正: everything missing, at once.
    RequestCorrection {
        /// What is missing and why.
        items: Vec<CorrectionItem>,
    },
    /// The applicant supplies the correction.
    SupplyCorrection {
        /// A note.
        #[serde(default)]
        note: Option<String>,
        /// Files supplied.
        #[serde(default)]
        uploads: BTreeMap<String, FileRef>,
    },
    /// A review step is done.
    CompleteStep {
        /// Stage index.
        stage: usize,
        /// Step index within the stage.
        step: usize,
        /// Opinion.
        opinion: String,
    },
    /// A special procedure (hearing, testing…) stops the clock.
    Suspend {
        /// Which.
        procedure: SpecialProcedure,
        /// Why.
        reason: String,
    },
    /// The special procedure ended.
    Resume,
    /// 决定.
    Decide {
        /// Approved or denied with a reason.
        outcome: Outcome,
    },
    /// 出件: the result is issued (a certificate when the item's result is one).
    IssueResult {
        /// How it reaches the applicant.
        delivery: DeliveryMethod,
    },
    /// 撤回 (the applicant).
    Withdraw {
        /// Why.
        reason: String,
    },
}

/// What the application document keeps about each member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct MemberRecord {
    key: String,
    item: String,
    situation: String,
    depends_on: Vec<String>,
    case: String,
}

fn refused(code: &'static str, zh: &str, en: &str) -> AppError {
    AppError::Refused {
        code,
        zh: zh.to_string(),
        en: en.to_string(),
    }
}

fn not_permitted() -> AppError {
    refused(
        "case_not_permitted",
        "您无权对该办件执行此操作",
        "You may not do this on this case.",
    )
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The canonical record an event's hash covers: the case, the position, the time, the actor and
/// the event's stored text byte for byte (so that any change to a stored byte, even one that
/// leaves the JSON meaning alone, breaks the chain).
fn event_record(
    number: &str,
    seq: i64,
    at: Timestamp,
    actor: &str,
    event: &str,
) -> Result<Vec<u8>> {
    let record = json!({
        "case": number,
        "seq": seq,
        "at": at.as_microsecond(),
        "actor": actor,
        "event": event,
    });
    canonical_json(&record).map_err(|e| AppError::Internal(format!("event record: {e}")))
}

/// Builds the stored row of the next event of a case.
pub(crate) fn chain_event(
    number: &str,
    seq: i64,
    prev_hash: &str,
    at: Timestamp,
    actor: &str,
    event: &CaseEvent,
) -> Result<EventRow> {
    let text =
        serde_json::to_string(event).map_err(|e| AppError::Internal(format!("event: {e}")))?;
    let record = event_record(number, seq, at, actor, &text)?;
    Ok(EventRow {
        case_number: number.to_string(),
        seq,
        at,
        actor: actor.to_string(),
        event: text,
        prev_hash: prev_hash.to_string(),
        hash: chain_hash(prev_hash, &record),
    })
}

/// Form errors as problems under `prefix` (`form.father_resident_id`).
/// Refuses an applicant whom the item or bundle does not serve: a person applying for what
/// only organisations apply for, or an organisation for what only persons do
/// (`target` `applicant_not_served`).
fn check_served(object: ServiceObject, applicant: &Applicant) -> Result<()> {
    let who = match applicant {
        Applicant::Person(_) => ServiceObject::Person,
        Applicant::Organisation(_) => ServiceObject::Organisation,
    };
    if object.serves(who) {
        return Ok(());
    }
    let (zh, en) = match who {
        ServiceObject::Person => (
            "该事项面向法人办理，请先选择代为办理的单位",
            "Only organisations apply for this: choose the organisation you act for first.",
        ),
        _ => (
            "该事项面向自然人办理，请以个人身份申请",
            "Only persons apply for this: apply as yourself.",
        ),
    };
    Err(AppError::Rejected(vec![FieldProblem {
        path: "target".into(),
        code: "applicant_not_served",
        message_zh: zh.into(),
        message_en: en.into(),
    }]))
}

fn form_problems<'a>(
    prefix: &'a str,
    errors: &'a [onetrip_domain::form::FieldError],
) -> impl Iterator<Item = FieldProblem> + 'a {
    errors
        .iter()
        .map(move |e| FieldProblem::new(format!("{prefix}.{}", e.path), e))
}

/// The folded status stored with a case.
pub(crate) fn status_of(row: &CaseRow) -> Result<CaseStatus> {
    serde_json::from_value(row.status.clone())
        .map_err(|e| AppError::Store(StoreError::Corrupt(format!("case status: {e}"))))
}

fn case_error(e: &case::CaseError) -> AppError {
    AppError::refused(e)
}

impl App {
    /// The current version of an item, decoded, with its version number.
    pub async fn service_item(&self, code: &str) -> Result<(ServiceItem, i64)> {
        // A copy of the decoded version kept in memory: copying is several times cheaper than
        // decoding the item's JSON document again on every submission and case action.
        let (item, version) = self.decoded_item_version(code).await?;
        Ok((ServiceItem::clone(&item), version))
    }

    /// The bundle a target names (current version) and its items, or the single item.
    async fn target_items(
        &self,
        target: &ApplicationTarget,
    ) -> Result<(
        Option<Arc<onetrip_store::StoredBundle>>,
        BTreeMap<String, ServiceItem>,
        BTreeMap<String, i64>,
    )> {
        match target {
            ApplicationTarget::Bundle { code } => {
                let stored = self.stored_bundle(code).await?;
                let (items, versions) = self.member_items(&stored.bundle).await?;
                Ok((Some(stored), items, versions))
            }
            ApplicationTarget::Item { code, .. } => {
                let (item, version) = self.service_item(code).await?;
                Ok((
                    None,
                    BTreeMap::from([(code.clone(), item)]),
                    BTreeMap::from([(code.clone(), version)]),
                ))
            }
        }
    }

    /// The current version of a bundle, decoded. Versions are immutable, so decoded ones are
    /// kept in memory; only the current version number is read each time (one short query), so
    /// a publication through any replica is seen at once.
    pub(crate) async fn stored_bundle(
        &self,
        code: &str,
    ) -> Result<Arc<onetrip_store::StoredBundle>> {
        let not_found = || AppError::NotFound {
            kind: "bundle",
            key: code.to_string(),
        };
        let version = self
            .db
            .bundle_current_version(code)
            .await?
            .ok_or_else(not_found)?;
        if let Some(hit) = self.bundles.get(code, version) {
            return Ok(hit);
        }
        let stored = Arc::new(
            self.db
                .bundle_version(code, version)
                .await?
                .ok_or_else(not_found)?,
        );
        self.bundles.put(code, stored.clone());
        Ok(stored)
    }

    /// Saves a draft (new when `id` is `None`); drafts are validated loosely: malformed values
    /// are refused, missing ones are not. Returns the draft id.
    pub async fn save_draft(
        &self,
        owner: &ApplicantFacts,
        id: Option<&str>,
        input: &ApplicationInput,
        channel: ApplyChannel,
        now: Timestamp,
    ) -> Result<String> {
        let today = china_today(now);
        // Only the bundle's form is needed here, not its items; an item's own form, if any.
        let checked = match &input.target {
            ApplicationTarget::Bundle { code } => {
                let stored = self.stored_bundle(code).await?;
                check_served(stored.bundle.service_object, &owner.applicant)?;
                stored
                    .bundle
                    .form
                    .validate_draft(&input.form, today)
                    .map(drop)
            }
            ApplicationTarget::Item { code, .. } => {
                let (item, _) = self.decoded_item_version(code).await?;
                check_served(item.service_object, &owner.applicant)?;
                match &item.form {
                    Some(form) => form.validate_draft(&input.form, today).map(drop),
                    None => onetrip_domain::form::validate_no_form(&input.form),
                }
            }
        };
        if let Err(errors) = checked {
            return Err(AppError::Rejected(form_problems("form", &errors).collect()));
        }
        let created_at = match id {
            Some(id) => {
                let existing =
                    self.db
                        .application(id)
                        .await?
                        .ok_or_else(|| AppError::NotFound {
                            kind: "application",
                            key: id.to_string(),
                        })?;
                if existing.account_id.as_deref() != owner.account.as_ref().map(AccountId::as_str) {
                    return Err(not_permitted());
                }
                existing.created_at
            }
            None => now,
        };
        let id = id.map_or_else(new_id, str::to_string);
        let row =
            self.application_row(&id, owner, input, channel, "draft", None, created_at, now)?;
        self.db.save_draft(&row).await?;
        Ok(id)
    }

    #[allow(clippy::too_many_arguments)]
    fn application_row(
        &self,
        id: &str,
        owner: &ApplicantFacts,
        input: &ApplicationInput,
        channel: ApplyChannel,
        state: &str,
        extra: Option<Value>,
        created_at: Timestamp,
        now: Timestamp,
    ) -> Result<ApplicationRow> {
        let (bundle_code, item_code) = match &input.target {
            ApplicationTarget::Bundle { code } => (Some(code.clone()), None),
            ApplicationTarget::Item { code, .. } => (None, Some(code.clone())),
        };
        let mut document = serde_json::to_value(input)
            .map_err(|e| AppError::Internal(format!("application: {e}")))?;
        if let (Some(Value::Object(extra)), Value::Object(doc)) = (extra, &mut document) {
            doc.extend(extra);
        }
        let (subject_kind, subject_id) = match &owner.applicant {
            Applicant::Person(id) => ("person", id.clone()),
            Applicant::Organisation(code) => ("organisation", code.clone()),
        };
        Ok(ApplicationRow {
            id: id.to_string(),
            account_id: owner.account.as_ref().map(|a| a.as_str().to_string()),
            subject_kind: subject_kind.to_string(),
            subject_id,
            subject_name: owner.name.clone(),
            bundle_code,
            bundle_version: None,
            item_code,
            division_code: String::new(),
            channel: channel.as_str().to_string(),
            state: state.to_string(),
            document,
            intake_by: None,
            created_at,
            updated_at: now,
            submitted_at: None,
        })
    }

    /// Submits an application once: validates the questionnaire, the form and every member's
    /// form, resolves the materials (every data read logged under the application), refuses
    /// when a required material is neither resolved nor uploaded, and creates one case per
    /// member item — dependent members wait for their prerequisites — with their first events
    /// and outbox rows, in one transaction. With an `Idempotency-Key`, a repeated submission
    /// returns the first response; the same key with another request is refused.
    #[allow(clippy::too_many_arguments)]
    pub async fn submit_application(
        &self,
        owner: &ApplicantFacts,
        draft: Option<&str>,
        input: &ApplicationInput,
        channel: ApplyChannel,
        window: Option<&WindowIntake>,
        idempotency_key: Option<&str>,
        now: Timestamp,
    ) -> Result<Submitted> {
        let intake_by = window.map(|w| &w.clerk);
        let scope = match (intake_by, &owner.account) {
            (Some(clerk), _) => clerk.scope(),
            (None, Some(account)) => format!("applicant:{account}"),
            (None, None) => "anonymous".to_string(),
        };
        let keyed = Keyed::new(
            scope,
            idempotency_key,
            &(draft, input, channel.as_str(), owner.applicant.subject()),
        );
        if let Some(previous) = self.replayed(keyed.as_ref()).await? {
            return Ok(previous);
        }
        let today = china_today(now);
        let (bundle, items, versions) = self.target_items(&input.target).await?;

        // Which items, in which situations, with which form values.
        let mut problems: Vec<FieldProblem> = Vec::new();
        let (members, form, division): (Vec<MemberRecord>, FormValues, String) = match &bundle {
            Some(stored) => {
                let bundle = &stored.bundle;
                check_served(bundle.service_object, &owner.applicant)?;
                let selection = bundle
                    .select(&input.answers, &items)
                    .map_err(crate::bundles::answer_problems)?;
                // Tell once: answers to the questionnaire fill the form fields of the same key.
                let mut values = input.form.clone();
                for (k, v) in &input.answers {
                    if bundle.form.field(k).is_some() && !values.contains_key(k) {
                        values.insert(k.clone(), v.clone());
                    }
                }
                let form = match bundle.form.validate(&values, today) {
                    Ok(form) => form,
                    Err(errors) => {
                        problems.extend(form_problems("form", &errors));
                        FormValues::new()
                    }
                };
                if problems.is_empty() {
                    for m in &selection.members {
                        let Some(item_form) = items.get(&m.item).and_then(|i| i.form.as_ref())
                        else {
                            continue;
                        };
                        let values = bundle.member_values(&m.key, &form);
                        if let Err(errors) = item_form.validate(&values, today) {
                            let prefix = format!("members.{}", m.key);
                            problems.extend(form_problems(&prefix, &errors));
                        }
                    }
                }
                let members = selection
                    .members
                    .iter()
                    .map(|m| MemberRecord {
                        key: m.key.clone(),
                        item: m.item.clone(),
                        situation: m.situation.clone(),
                        depends_on: m.depends_on.clone(),
                        case: String::new(),
                    })
                    .collect();
                (members, form, bundle.division_code.clone())
            }
            None => {
                let (code, situation) = match &input.target {
                    ApplicationTarget::Item { code, situation } => (code, situation),
                    ApplicationTarget::Bundle { .. } => {
                        unreachable!("a bundle target has a bundle")
                    }
                };
                let item = items.get(code).ok_or_else(|| AppError::NotFound {
                    kind: "item",
                    key: code.clone(),
                })?;
                check_served(item.service_object, &owner.applicant)?;
                let situation =
                    onetrip_domain::resolution::pick_situation(item, situation.as_deref())
                        .map_err(|e| {
                            AppError::Rejected(vec![FieldProblem::new("target.situation", &e)])
                        })?;
                let form = match &item.form {
                    Some(schema) => match schema.validate(&input.form, today) {
                        Ok(form) => form,
                        Err(errors) => {
                            problems.extend(form_problems("form", &errors));
                            FormValues::new()
                        }
                    },
                    None => {
                        if let Err(errors) = onetrip_domain::form::validate_no_form(&input.form) {
                            problems.extend(form_problems("form", &errors));
                        }
                        FormValues::new()
                    }
                };
                let members = vec![MemberRecord {
                    key: code.clone(),
                    item: code.clone(),
                    situation: situation.code,
                    depends_on: Vec::new(),
                    case: String::new(),
                }];
                (members, form, item.division_code.clone())
            }
        };
        // Who submits: the clerk at a window, otherwise the applicant's account.
        let actor_label = intake_by.map_or_else(
            || {
                owner
                    .account
                    .as_ref()
                    .map_or_else(|| "system".to_string(), |a| format!("applicant:{a}"))
            },
            CaseActor::label,
        );
        // Uploaded files: each must be the submitter's own upload, kept as recorded.
        let checked_input;
        let input = if input.uploads.is_empty() {
            input
        } else {
            match self
                .checked_uploads(&actor_label, &input.uploads, window.is_some())
                .await?
            {
                Ok(uploads) => {
                    checked_input = ApplicationInput {
                        uploads,
                        ..input.clone()
                    };
                    &checked_input
                }
                Err(unknown) => {
                    problems.extend(unknown);
                    input
                }
            }
        };
        if !problems.is_empty() {
            return Err(AppError::Rejected(problems));
        }
        let division = match intake_by {
            Some(CaseActor::Staff { roles, .. }) => roles
                .iter()
                .find(|g| g.role == StaffRole::WindowClerk)
                .map_or(division, |g| g.division.as_str().to_string()),
            _ => division,
        };

        // Materials: resolved by the platform, or uploaded.
        let application_id = draft.map_or_else(new_id, str::to_string);
        let requested: Vec<RequestedItem> = members
            .iter()
            .map(|m| RequestedItem {
                item: m.item.clone(),
                situation: Some(m.situation.clone()),
            })
            .collect();
        // The reads are logged in the submission's transaction, or on their own when the
        // submission goes no further: every access is logged either way.
        let mut access_log = Vec::new();
        let resolution = match self
            .resolve_collecting(
                &owner.applicant,
                &requested,
                Some(&application_id),
                now,
                &mut access_log,
            )
            .await
        {
            Ok(r) => r,
            Err(e) => {
                self.db.insert_access_log(&access_log).await?;
                return Err(e);
            }
        };
        let missing = missing_materials(&resolution, &members, &input.uploads, &items);
        if !missing.is_empty() {
            self.db.insert_access_log(&access_log).await?;
            return Err(AppError::Rejected(missing));
        }

        // The application row and, once the numbers are allocated, the cases.
        let extra = json!({
            "form": form,
            "members": members,
            "resolution": resolution,
            // 一窗受理: the clerk checked the applicant's identity in person (L3) and the applicant
            // signed.
            "intake": window.map(|w| json!({
                "clerk": w.clerk.label(),
                "identity": {"level": "L3", "method": "in_person"},
                "signature": w.signature,
                "agent": w.agent.as_ref().map(|a| json!({
                    "resident_id": a.resident_id,
                    "name": a.name,
                    "as": if a.legal_representative { "legal_representative" } else { "authorised" },
                })),
            })),
        });
        let created_at = match draft {
            Some(id) => match self.db.application(id).await? {
                Some(existing) => {
                    if existing.account_id.as_deref()
                        != owner.account.as_ref().map(AccountId::as_str)
                    {
                        return Err(not_permitted());
                    }
                    existing.created_at
                }
                None => now,
            },
            None => now,
        };
        let mut row = self.application_row(
            &application_id,
            owner,
            input,
            channel,
            "submitted",
            Some(extra),
            created_at,
            now,
        )?;
        row.bundle_version = bundle.as_ref().map(|b| b.version);
        row.division_code = division.clone();
        row.intake_by = intake_by.map(CaseActor::label);
        row.submitted_at = Some(now);
        let county = county_of(&division);
        let count = u32::try_from(members.len()).unwrap_or(u32::MAX);
        let uploads = input.uploads.len();
        let division_code = DivisionCode::parse(&county)
            .map_err(|e| AppError::Rejected(vec![FieldProblem::new("division", &e)]))?;
        let calendar = self.calendar();
        let log_copy = access_log.clone();
        let submitted = self
            .db
            .submit_application(row, &county, today, count, move |first, row| {
                let (rows, submitted) = build_cases(
                    &row.id,
                    &members,
                    &items,
                    &versions,
                    &division_code,
                    today,
                    first,
                    &actor_label,
                    now,
                    uploads,
                    &calendar,
                )
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                with_case_numbers(&mut row.document, &rows.cases);
                let rows = SubmissionRows {
                    access_log,
                    idempotency: keyed.map(|k| k.record(&submitted)),
                    ..rows
                };
                Ok((rows, submitted))
            })
            .await;
        if submitted.is_err() {
            // Nothing was written; the reads happened all the same.
            self.db.insert_access_log(&log_copy).await?;
        }
        let (_, response) = submitted.map_err(|e| match e {
            StoreError::Conflict(c) if c.contains(&"state") => refused(
                "application_already_submitted",
                "该申请已经提交，不能重复提交",
                "This application was already submitted.",
            ),
            other => key_in_use(other),
        })?;
        Ok(response)
    }

    /// One case, as its actors see it.
    pub async fn case_view(
        &self,
        actor: &CaseActor,
        number: &str,
        now: Timestamp,
    ) -> Result<CaseView> {
        let row = self.case_row(number).await?;
        let application = self.application_of(&row).await?;
        self.may_see(actor, &row, &application).await?;
        self.view(&row, &application, now).await
    }

    pub(crate) async fn case_row(&self, number: &str) -> Result<CaseRow> {
        self.db
            .case(number)
            .await?
            .ok_or_else(|| AppError::NotFound {
                kind: "case",
                key: number.to_string(),
            })
    }

    pub(crate) async fn application_of(&self, row: &CaseRow) -> Result<ApplicationRow> {
        self.db
            .application(&row.application_id)
            .await?
            .ok_or_else(|| {
                AppError::Store(StoreError::Corrupt(format!(
                    "application of {}",
                    row.number
                )))
            })
    }

    /// Whether `actor` may see the case: the applicant, staff of the department, window clerks
    /// and supervisors of the division, the department's system, the platform.
    pub(crate) async fn may_see(
        &self,
        actor: &CaseActor,
        row: &CaseRow,
        application: &ApplicationRow,
    ) -> Result<()> {
        let division =
            DivisionCode::parse(&row.division_code).map_err(|e| AppError::refused(&e))?;
        let app_division = DivisionCode::parse(&application.division_code).ok();
        let ok = match actor {
            CaseActor::System => true,
            CaseActor::Applicant { account, subject } => {
                owns(application, account, subject.as_deref())
            }
            CaseActor::DepartmentSystem { department, .. } => department == &row.department_code,
            CaseActor::Staff { .. } => {
                actor.holds(
                    &[StaffRole::DepartmentOfficer, StaffRole::DepartmentHead],
                    &division,
                    Some(&row.department_code),
                ) || actor.holds(
                    &[StaffRole::Supervisor, StaffRole::WindowClerk],
                    &division,
                    None,
                ) || app_division.as_ref().is_some_and(|d| {
                    actor.holds(&[StaffRole::WindowClerk, StaffRole::Supervisor], d, None)
                })
            }
        };
        if ok { Ok(()) } else { Err(not_permitted()) }
    }

    pub(crate) async fn view(
        &self,
        row: &CaseRow,
        application: &ApplicationRow,
        now: Timestamp,
    ) -> Result<CaseView> {
        let status = status_of(row)?;
        let today = china_today(now);
        let calendar = self.calendar();
        let deadline = status.clock().deadline(&calendar, today)?;
        let item_name = self
            .service_item(&row.item_code)
            .await
            .map(|(i, _)| i.name)
            .unwrap_or_default();
        let depends_on = members_of(application)
            .into_iter()
            .find(|m| m.case == row.number)
            .map(|m| m.depends_on)
            .unwrap_or_default();
        Ok(CaseView {
            number: row.number.clone(),
            application: row.application_id.clone(),
            member: row.member.clone(),
            item: row.item_code.clone(),
            item_name,
            situation: row.situation.clone(),
            department: row.department_code.clone(),
            state: status.state().as_str().to_string(),
            state_zh: status.state().label_zh().to_string(),
            state_en: status.state().label_en().to_string(),
            due_on: row.due_on,
            deadline,
            warning: row.warning.clone(),
            allowed: status
                .allowed()
                .iter()
                .map(|a| a.as_str().to_string())
                .collect(),
            depends_on,
            events: row.event_count,
        })
    }

    /// Performs an action on a case: checks who may, applies the event through the state
    /// machine, recomputes the clock, starts dependent members whose prerequisites have now
    /// concluded (passing them the certificate issued), updates the application's status, and
    /// commits it all in one transaction (retrying when another writer got there first).
    pub async fn act_on_case(
        &self,
        actor: &CaseActor,
        number: &str,
        command: CaseCommand,
        idempotency_key: Option<&str>,
        now: Timestamp,
    ) -> Result<CaseView> {
        let keyed = Keyed::new(actor.scope(), idempotency_key, &(number, &command));
        if let Some(previous) = self.replayed(keyed.as_ref()).await? {
            return Ok(previous);
        }
        // Files supplied in a correction: each must be the actor's own upload, kept as recorded.
        let command = match command {
            CaseCommand::SupplyCorrection { note, uploads } if !uploads.is_empty() => {
                let at_window = matches!(actor, CaseActor::Staff { .. });
                match self
                    .checked_uploads(&actor.label(), &uploads, at_window)
                    .await?
                {
                    Ok(uploads) => CaseCommand::SupplyCorrection { note, uploads },
                    Err(unknown) => return Err(AppError::Rejected(unknown)),
                }
            }
            other => other,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self
                .try_act(actor, number, &command, keyed.as_ref(), now)
                .await
            {
                Err(AppError::Store(StoreError::Conflict(c)))
                    if c.contains(&"case") && attempt < RETRIES =>
                {
                    continue;
                }
                other => return other,
            }
        }
    }

    async fn try_act(
        &self,
        actor: &CaseActor,
        number: &str,
        command: &CaseCommand,
        keyed: Option<&Keyed>,
        now: Timestamp,
    ) -> Result<CaseView> {
        let today = china_today(now);
        let row = self.case_row(number).await?;
        let application = self.application_of(&row).await?;
        self.may_act(actor, &row, &application, command)?;
        let status = status_of(&row)?;
        let by = actor.account();
        let event = match command.clone() {
            CaseCommand::Accept => CaseEvent::Accepted { by },
            CaseCommand::Refuse { reason } => CaseEvent::Refused { by, reason },
            CaseCommand::RequestCorrection { items } => {
                CaseEvent::CorrectionRequested { by, items }
            }
            CaseCommand::SupplyCorrection { note, uploads } => {
                CaseEvent::CorrectionSupplied { note, uploads }
            }
            CaseCommand::CompleteStep {
                stage,
                step,
                opinion,
            } => CaseEvent::StepCompleted {
                by,
                stage,
                step,
                opinion,
            },
            CaseCommand::Suspend { procedure, reason } => {
                CaseEvent::Suspended { procedure, reason }
            }
            CaseCommand::Resume => CaseEvent::Resumed,
            CaseCommand::Decide { outcome } => CaseEvent::Decided { by, outcome },
            CaseCommand::IssueResult { delivery } => {
                // Check the transition before issuing anything.
                let probe = CaseEvent::ResultIssued {
                    by: Some(by.clone()),
                    delivery,
                    certificate: None,
                };
                status.apply(&probe, today).map_err(|e| case_error(&e))?;
                let certificate = self.issue_case_certificate(&row, &application, now).await?;
                CaseEvent::ResultIssued {
                    by: Some(by),
                    delivery,
                    certificate,
                }
            }
            CaseCommand::Withdraw { reason } => CaseEvent::Withdrawn { reason },
        };
        let label = actor.label();
        let issued_now = match &event {
            CaseEvent::ResultIssued { certificate, .. } => certificate.clone(),
            _ => None,
        };
        let mut changes = vec![self.change(&row, &status, &[event], &label, today, now)?];
        let mut outbox = Vec::new();
        let changed = &changes[0].case;
        // Dependent members start when every prerequisite has delivered its result.
        let members = members_of(&application);
        let siblings = if members.len() == 1 && members[0].case == changed.number {
            // A single-case application: the case is its only sibling.
            vec![changed.clone()]
        } else {
            let mut siblings = self.db.cases_of_application(&application.id).await?;
            for s in &mut siblings {
                if s.number == changed.number {
                    *s = changed.clone();
                }
            }
            siblings
        };
        if result_ready(
            changed,
            &self.result_is_certificate(&changed.item_code).await,
        ) {
            for m in &members {
                let Some(dependent) = siblings.iter().find(|s| s.number == m.case) else {
                    continue;
                };
                if dependent.state != CaseState::Waiting.as_str()
                    || !m.depends_on.contains(&row.member)
                {
                    continue;
                }
                let mut ready = true;
                let mut passed = Vec::new();
                for d in &m.depends_on {
                    let Some(pre) = siblings.iter().find(|s| &s.member == d) else {
                        ready = false;
                        break;
                    };
                    if !result_ready(pre, &self.result_is_certificate(&pre.item_code).await) {
                        ready = false;
                        break;
                    }
                    let cert = if pre.number == row.number {
                        issued_now.clone()
                    } else {
                        self.issued_certificate(&pre.number).await?
                    };
                    if let Some(cert) = cert {
                        passed.push((pre.item_code.clone(), cert));
                    }
                }
                if !ready {
                    continue;
                }
                let mut events = vec![CaseEvent::Started];
                for (item, cert) in passed {
                    let name = self
                        .service_item(&item)
                        .await
                        .map(|(i, _)| i.result.name)
                        .unwrap_or(item);
                    events.push(CaseEvent::Remark {
                        text: format!(
                            "已自动获取前置事项的办理结果{name}（电子证照 {cert}），无需提交"
                        ),
                    });
                }
                let dep_status = status_of(dependent)?;
                changes.push(self.change(dependent, &dep_status, &events, "system", today, now)?);
                outbox.push(outbox_row("case.started", dependent, now));
            }
        }
        outbox.push(outbox_row(
            &format!("case.{}", changes[0].case.state),
            &changes[0].case,
            now,
        ));
        // The application's status, derived from its cases.
        let states: Vec<CaseState> = siblings
            .iter()
            .map(|s| {
                changes
                    .iter()
                    .find(|c| c.case.number == s.number)
                    .map_or_else(
                        || status_of(s).map(|st| st.state()),
                        |c| status_of(&c.case).map(|st| st.state()),
                    )
            })
            .collect::<Result<_>>()?;
        let derived = case::application_status(&states);
        let view_row = changes[0].case.clone();
        let view = self.view(&view_row, &application, now).await?;
        let idempotency = keyed.map(|k| k.record(&view));
        self.db
            .commit_case_changes(CaseCommit {
                at: now,
                changes,
                outbox,
                supervision: None,
                application_state: Some((
                    application.id.clone(),
                    derived.as_str().to_string(),
                    now,
                )),
                idempotency,
            })
            .await?;
        Ok(view)
    }

    /// Applies `events` to a case and builds its change (new columns and chained event rows).
    pub(crate) fn change(
        &self,
        row: &CaseRow,
        status: &CaseStatus,
        events: &[CaseEvent],
        actor: &str,
        today: Date,
        now: Timestamp,
    ) -> Result<CaseChange> {
        let calendar = self.calendar();
        let mut status = status.clone();
        let mut rows = Vec::with_capacity(events.len());
        let mut prev = row.last_hash.clone();
        let mut seq = row.event_count;
        for event in events {
            status = status.apply(event, today).map_err(|e| case_error(&e))?;
            seq += 1;
            let e = chain_event(&row.number, seq, &prev, now, actor, event)?;
            prev = e.hash.clone();
            rows.push(e);
        }
        let mut case = row.clone();
        fill_columns(&mut case, &status, &calendar, today)?;
        case.event_count = seq;
        case.last_hash = prev;
        case.updated_at = now;
        Ok(CaseChange {
            case,
            expected_event_count: row.event_count,
            events: rows,
        })
    }

    /// The certificate a case issued (from its `ResultIssued` event).
    async fn issued_certificate(&self, number: &str) -> Result<Option<String>> {
        let events = self.db.case_events(number).await?;
        Ok(events
            .iter()
            .rev()
            .find_map(|e| match serde_json::from_str::<CaseEvent>(&e.event) {
                Ok(CaseEvent::ResultIssued { certificate, .. }) => certificate,
                _ => None,
            }))
    }

    async fn result_is_certificate(&self, item: &str) -> bool {
        self.service_item(item)
            .await
            .is_ok_and(|(i, _)| i.result.certificate_type.is_some())
    }

    /// Issues the certificate an approved case's item produces, to the applicant, with content
    /// from the application's form (fields of the same key), or `None` when the item's result
    /// is not a certificate.
    async fn issue_case_certificate(
        &self,
        row: &CaseRow,
        application: &ApplicationRow,
        now: Timestamp,
    ) -> Result<Option<String>> {
        let (item, _) = self.service_item(&row.item_code).await?;
        let Some(type_code) = item.result.certificate_type.clone() else {
            return Ok(None);
        };
        let Some(cert_type) = self.db.certificate_type(&type_code).await? else {
            return Ok(None);
        };
        let form = application
            .document
            .get("form")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let holder_kind = if application.subject_kind == "organisation" {
            HolderKind::Organisation
        } else {
            HolderKind::Person
        };
        if holder_kind != cert_type.holder_kind {
            return Ok(None);
        }
        // Content: the member's result mapping, the form field of the same key, then the
        // applicant and the case.
        let mapping = match &application.bundle_code {
            Some(code) => self
                .db
                .bundle_version(code, application.bundle_version.unwrap_or(1))
                .await?
                .and_then(|b| {
                    b.bundle
                        .member(&row.member)
                        .map(|m| m.result_fields.clone())
                })
                .unwrap_or_default(),
            None => BTreeMap::new(),
        };
        let mut content = serde_json::Map::new();
        let mut missing = Vec::new();
        for field in &cert_type.fields {
            let source = mapping.get(&field.key).unwrap_or(&field.key);
            let value = form
                .get(source)
                .cloned()
                .or_else(|| match field.key.as_str() {
                    "name" | "holder_name" => Some(Value::String(application.subject_name.clone())),
                    "resident_id" | "holder_resident_id" | "credit_code" => {
                        Some(Value::String(application.subject_id.clone()))
                    }
                    "certificate_number" | "card_number" => Some(Value::String(row.number.clone())),
                    _ => None,
                });
            match value.filter(|v| !v.is_null() && v != &Value::String(String::new())) {
                Some(v) => {
                    content.insert(field.key.clone(), stringify(v));
                }
                None if field.required => missing.push(field.name.clone()),
                None => {}
            }
        }
        if !missing.is_empty() {
            return Err(AppError::Refused {
                code: "result_content_missing",
                zh: format!("无法制发电子证照：申请中缺少{}", missing.join("、")),
                en: format!(
                    "The certificate cannot be issued: the application lacks {}.",
                    missing.join(", ")
                ),
            });
        }
        let issued = self
            .issue_certificate(
                &CertificateActor::System,
                IssueRequest {
                    certificate_type: type_code,
                    holder_kind,
                    holder_id: application.subject_id.clone(),
                    content,
                    issued_on: None,
                },
                // A retried conclusion (another writer changed the case first) finds the
                // certificate its first attempt issued instead of issuing a second one.
                Some(&format!("case-result:{}", row.number)),
                now,
            )
            .await?;
        Ok(Some(issued.id))
    }

    /// Whether `actor` may perform `command` on the case.
    pub(crate) fn may_act(
        &self,
        actor: &CaseActor,
        row: &CaseRow,
        application: &ApplicationRow,
        command: &CaseCommand,
    ) -> Result<()> {
        let division =
            DivisionCode::parse(&row.division_code).map_err(|e| AppError::refused(&e))?;
        let app_division = DivisionCode::parse(&application.division_code).ok();
        let department = Some(row.department_code.as_str());
        let handler = || match actor {
            CaseActor::System => true,
            CaseActor::DepartmentSystem { department: d, .. } => d == &row.department_code,
            CaseActor::Staff { .. } => actor.holds(
                &[StaffRole::DepartmentOfficer, StaffRole::DepartmentHead],
                &division,
                department,
            ),
            CaseActor::Applicant { .. } => false,
        };
        // 无差别全科受理: a general-window clerk of the division where the application was made
        // (or of the case's division) takes in any item.
        let clerk = || {
            actor.holds(&[StaffRole::WindowClerk], &division, None)
                || app_division
                    .as_ref()
                    .is_some_and(|d| actor.holds(&[StaffRole::WindowClerk], d, None))
        };
        let applicant = || match actor {
            CaseActor::Applicant { account, subject } => {
                owns(application, account, subject.as_deref())
            }
            CaseActor::System => true,
            _ => false,
        };
        let ok = match command {
            CaseCommand::Accept | CaseCommand::Refuse { .. } => handler() || clerk(),
            CaseCommand::RequestCorrection { .. } => handler() || clerk(),
            CaseCommand::SupplyCorrection { .. } => applicant() || clerk(),
            CaseCommand::Withdraw { .. } => applicant() || clerk(),
            CaseCommand::CompleteStep { .. }
            | CaseCommand::Suspend { .. }
            | CaseCommand::Resume
            | CaseCommand::Decide { .. }
            | CaseCommand::IssueResult { .. } => handler(),
        };
        if ok { Ok(()) } else { Err(not_permitted()) }
    }

    /// The applicant's timeline of an application: every event of every case, in plain words,
    /// oldest first.
    pub async fn timeline(
        &self,
        actor: &CaseActor,
        application_id: &str,
    ) -> Result<Vec<TimelineEntry>> {
        let application =
            self.db
                .application(application_id)
                .await?
                .ok_or_else(|| AppError::NotFound {
                    kind: "application",
                    key: application_id.to_string(),
                })?;
        let cases = self.db.cases_of_application(application_id).await?;
        let mut entries = Vec::new();
        let mut allowed = false;
        for row in &cases {
            if self.may_see(actor, row, &application).await.is_ok() {
                allowed = true;
            } else {
                continue;
            }
            let item_name = self
                .service_item(&row.item_code)
                .await
                .map(|(i, _)| i.name)
                .unwrap_or_default();
            for e in self.db.case_events(&row.number).await? {
                let Ok(event) = serde_json::from_str::<CaseEvent>(&e.event) else {
                    continue;
                };
                let (zh, en) = case::describe(&event);
                entries.push(TimelineEntry {
                    at: e.at,
                    case: row.number.clone(),
                    item_name: item_name.clone(),
                    text_zh: zh,
                    text_en: en,
                });
            }
        }
        if !allowed {
            return Err(not_permitted());
        }
        entries.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.case.cmp(&b.case)));
        Ok(entries)
    }

    /// The cases of an application.
    pub async fn application_cases(
        &self,
        actor: &CaseActor,
        application_id: &str,
        now: Timestamp,
    ) -> Result<(ApplicationRow, Vec<CaseView>)> {
        let application =
            self.db
                .application(application_id)
                .await?
                .ok_or_else(|| AppError::NotFound {
                    kind: "application",
                    key: application_id.to_string(),
                })?;
        let mut views = Vec::new();
        for row in self.db.cases_of_application(application_id).await? {
            if self.may_see(actor, &row, &application).await.is_ok() {
                views.push(self.view(&row, &application, now).await?);
            }
        }
        let owner = matches!(actor, CaseActor::Applicant { account, subject } if owns(&application, account, subject.as_deref()));
        if views.is_empty() && !owner && !matches!(actor, CaseActor::System) {
            return Err(not_permitted());
        }
        Ok((application, views))
    }

    /// Today's intake of a general-window clerk (一窗受理): the applications taken in today
    /// (Asia/Shanghai) at the windows of every division where the actor is a window clerk, most
    /// recent first, at most `limit` per division. Anyone else is refused.
    pub async fn window_intake(
        &self,
        actor: &CaseActor,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<ApplicationRow>> {
        let CaseActor::Staff { roles, .. } = actor else {
            return Err(not_permitted());
        };
        let divisions: Vec<&DivisionCode> = roles
            .iter()
            .filter(|g| g.role == StaffRole::WindowClerk)
            .map(|g| &g.division)
            .collect();
        if divisions.is_empty() {
            return Err(not_permitted());
        }
        let since = china_today(now)
            .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
            .map_err(|e| AppError::Internal(format!("start of day: {e}")))?
            .timestamp();
        let mut rows = Vec::new();
        for division in divisions {
            for row in self
                .db
                .window_intake(division.as_str(), since, limit)
                .await?
            {
                if !rows.iter().any(|r: &ApplicationRow| r.id == row.id) {
                    rows.push(row);
                }
            }
        }
        rows.sort_by_key(|r| std::cmp::Reverse(r.submitted_at));
        Ok(rows)
    }

    /// Checks the event chain of every case; returns the numbers of the cases whose chain is
    /// broken (an event changed, removed or reordered, or the case's last hash not matching).
    pub async fn verify_event_chains(&self) -> Result<Vec<String>> {
        let mut broken = Vec::new();
        let mut after = String::new();
        loop {
            let page = self.db.case_numbers_page(&after, 500).await?;
            let Some(last) = page.last().cloned() else {
                break;
            };
            for number in page {
                if self.verify_case_chain(&number).await?.is_some() {
                    broken.push(number);
                }
            }
            after = last;
        }
        Ok(broken)
    }

    /// Checks one case's chain: the sequence number of the first bad event, or `None` when the
    /// chain is intact.
    pub async fn verify_case_chain(&self, number: &str) -> Result<Option<i64>> {
        let row = self.case_row(number).await?;
        let events = self.db.case_events(number).await?;
        let mut records = Vec::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            let expected_seq = i64::try_from(i).unwrap_or(i64::MAX) + 1;
            if e.seq != expected_seq {
                return Ok(Some(expected_seq));
            }
            match event_record(number, e.seq, e.at, &e.actor, &e.event) {
                Ok(r) => records.push(r),
                Err(_) => return Ok(Some(e.seq)),
            }
        }
        let links = events
            .iter()
            .zip(&records)
            .map(|(e, r)| (e.prev_hash.as_str(), r.as_slice(), e.hash.as_str()));
        if let Some(i) = first_broken_link(links) {
            return Ok(Some(i64::try_from(i).unwrap_or(i64::MAX) + 1));
        }
        let last = events.last().map_or(CHAIN_GENESIS, |e| e.hash.as_str());
        if row.event_count != i64::try_from(events.len()).unwrap_or(i64::MAX)
            || row.last_hash != last
        {
            return Ok(Some(row.event_count));
        }
        Ok(None)
    }
}

/// One line of an applicant's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    /// When.
    pub at: Timestamp,
    /// Case number.
    pub case: String,
    /// Item name.
    pub item_name: String,
    /// What happened, in Chinese.
    pub text_zh: String,
    /// What happened, in English.
    pub text_en: String,
}

fn stringify(v: Value) -> Value {
    match v {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(b) => Value::String(if b { "是" } else { "否" }.to_string()),
        Value::Object(o) => o.get("detail").cloned().map_or(Value::Object(o), |d| d),
        other => other,
    }
}

/// Whether an application is the applicant's: made under their account, or made for them
/// (their resident ID or credit code) without an account.
fn owns(application: &ApplicationRow, account: &AccountId, subject: Option<&str>) -> bool {
    match application.account_id.as_deref() {
        Some(owner) => owner == account.as_str(),
        None => subject.is_some_and(|s| s == application.subject_id),
    }
}

fn members_of(application: &ApplicationRow) -> Vec<MemberRecord> {
    application
        .document
        .get("members")
        .cloned()
        .and_then(|m| serde_json::from_value(m).ok())
        .unwrap_or_default()
}

/// Whether a prerequisite case has delivered what its dependents need: its result issued, or,
/// when its result is not a certificate, its approval.
fn result_ready(row: &CaseRow, issues_certificate: &bool) -> bool {
    row.state == CaseState::ResultIssued.as_str()
        || (!issues_certificate && row.state == CaseState::Approved.as_str())
}

fn outbox_row(topic: &str, case: &CaseRow, now: Timestamp) -> OutboxRow {
    OutboxRow {
        id: new_id(),
        topic: topic.to_string(),
        subject: case.number.clone(),
        department_code: Some(case.department_code.clone()),
        payload: json!({
            "case": case.number,
            "application": case.application_id,
            "item": case.item_code,
            "department": case.department_code,
            "state": case.state,
            "due_on": case.due_on.to_string(),
        }),
        created_at: now,
        attempts: 0,
    }
}

/// The county-level (6-digit) code of a division.
fn county_of(division: &str) -> String {
    division.chars().take(6).collect()
}

/// Sets a case row's derived columns from its status.
pub(crate) fn fill_columns(
    case: &mut CaseRow,
    status: &CaseStatus,
    calendar: &onetrip_domain::calendar::WorkCalendar,
    today: Date,
) -> Result<()> {
    case.state = status.state().as_str().to_string();
    case.closed = status.state().is_terminal();
    if let Some(deadline) = status.clock().deadline(calendar, today)? {
        case.due_on = deadline;
    }
    case.warning = if status.state().is_concluded() || status.state().is_terminal() {
        "green".to_string()
    } else {
        status
            .clock()
            .warning(calendar, today)?
            .as_str()
            .to_string()
    };
    if status.state().is_concluded() && case.concluded_on.is_none() {
        case.concluded_on = Some(today);
        if status.clock().start.is_some() {
            case.on_time = Some(status.clock().concluded_on_time(calendar, today)?);
            case.handling_days = Some(i64::from(
                status.clock().elapsed_working_days(calendar, today)?,
            ));
        }
    }
    case.status = serde_json::to_value(status)
        .map_err(|e| AppError::Internal(format!("case status: {e}")))?;
    Ok(())
}

/// Materials that are required, not resolved, not deferrable and not uploaded.
fn missing_materials(
    resolution: &ApplicationResolution,
    members: &[MemberRecord],
    uploads: &BTreeMap<String, FileRef>,
    items: &BTreeMap<String, ServiceItem>,
) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    for (r, m) in resolution.items.iter().zip(members) {
        let Some(item) = items.get(&m.item) else {
            continue;
        };
        for mat in &r.materials {
            if !mat.required || mat.status == onetrip_domain::resolution::MaterialStatus::Resolved {
                continue;
            }
            let deferrable = item
                .materials
                .iter()
                .any(|x| x.id == mat.material && x.deferrable);
            let keys = [
                format!("{}.{}", m.key, mat.material),
                format!("upload:{}", mat.name.trim()),
            ];
            if deferrable || keys.iter().any(|k| uploads.contains_key(k)) {
                continue;
            }
            problems.push(FieldProblem {
                path: format!("uploads.{}.{}", m.key, mat.material),
                code: "material_missing",
                message_zh: format!("请上传“{}”（{}）", mat.name, item.name),
                message_en: format!(
                    "Upload \u{201c}{}\u{201d} ({}).",
                    mat.name,
                    item.name_en.as_deref().unwrap_or(&item.name)
                ),
            });
        }
    }
    problems
}

/// Builds the cases of a submission once their numbers are allocated.
#[allow(clippy::too_many_arguments)]
fn build_cases(
    application: &str,
    members: &[MemberRecord],
    items: &BTreeMap<String, ServiceItem>,
    versions: &BTreeMap<String, i64>,
    division: &DivisionCode,
    today: Date,
    first: u32,
    actor: &str,
    now: Timestamp,
    uploads: usize,
    calendar: &onetrip_domain::calendar::WorkCalendar,
) -> Result<(SubmissionRows, Submitted)> {
    let mut cases = Vec::with_capacity(members.len());
    let mut outbox = Vec::with_capacity(members.len());
    let mut submitted = Vec::with_capacity(members.len());
    for (i, m) in members.iter().enumerate() {
        let item = items.get(&m.item).ok_or_else(|| AppError::NotFound {
            kind: "item",
            key: m.item.clone(),
        })?;
        let seq = first + u32::try_from(i).unwrap_or(u32::MAX);
        let number = CaseNumber::new(division, today, seq)
            .map_err(|e| AppError::refused(&e))?
            .to_string();
        let limit = item
            .effective_situations()
            .iter()
            .find(|s| s.code == m.situation)
            .and_then(|s| s.promised_limit)
            .unwrap_or(item.promised_limit);
        let process = ProcessDefinition::from_item(item);
        let event = CaseEvent::Created {
            item: m.item.clone(),
            item_version: versions.get(&m.item).copied().unwrap_or(1),
            situation: m.situation.clone(),
            waiting: !m.depends_on.is_empty(),
        };
        let status = CaseStatus::new(limit, &process)
            .apply(&event, today)
            .map_err(|e| case_error(&e))?;
        let first_event = chain_event(&number, 1, CHAIN_GENESIS, now, actor, &event)?;
        let mut row = CaseRow {
            number: number.clone(),
            application_id: application.to_string(),
            member: m.key.clone(),
            item_code: m.item.clone(),
            item_version: versions.get(&m.item).copied().unwrap_or(1),
            situation: m.situation.clone(),
            department_code: item.department_code.clone(),
            division_code: item.division_code.clone(),
            state: String::new(),
            closed: false,
            due_on: today,
            warning: "green".to_string(),
            status: Value::Null,
            event_count: 1,
            last_hash: first_event.hash.clone(),
            concluded_on: None,
            on_time: None,
            handling_days: None,
            created_at: now,
            updated_at: now,
        };
        fill_columns(&mut row, &status, calendar, today)?;
        outbox.push(outbox_row("case.created", &row, now));
        submitted.push(SubmittedCase {
            number: number.clone(),
            member: m.key.clone(),
            item: m.item.clone(),
            item_name: item.name.clone(),
            department: item.department_code.clone(),
            state: row.state.clone(),
        });
        cases.push((row, vec![first_event]));
    }
    let response = Submitted {
        application: application.to_string(),
        status: case::ApplicationStatus::Submitted.as_str().to_string(),
        cases: submitted,
        uploads,
    };
    Ok((
        SubmissionRows {
            cases,
            access_log: Vec::new(),
            outbox,
            idempotency: None,
        },
        response,
    ))
}

/// Records the members' case numbers in the application document (after submission).
pub(crate) fn with_case_numbers(document: &mut Value, cases: &[(CaseRow, Vec<EventRow>)]) {
    if let Some(Value::Array(members)) = document.get_mut("members") {
        for m in members.iter_mut() {
            let key = m.get("key").and_then(Value::as_str).map(str::to_string);
            if let (Some(key), Some(obj)) = (key, m.as_object_mut())
                && let Some((c, _)) = cases.iter().find(|(c, _)| c.member == key)
            {
                obj.insert("case".to_string(), Value::String(c.number.clone()));
            }
        }
    }
}
