//! Identity rules (统一身份认证): assurance levels, the password policy, delegations to agents
//! (授权代办), acting for an organisation, staff roles and the citizen/staff account split.
//!
//! Pure rules only: no IO, no clock, no randomness. Dates are civil dates passed in by the
//! caller ("today" in Asia/Shanghai). Every refusal implements [`crate::Localized`] with a
//! stable `code()` and messages in Chinese and English that say what to do.
//!
//! Decisions:
//! - **Assurance** ([`AssuranceLevel`]) is ordered L1 < L2 < L3; an account at a level may use
//!   every item that requires that level or a lower one. Below that, [`check_assurance`]
//!   returns a [`StepUp`] listing exactly the levels still to pass, each with the proof it needs.
//!   Every account has at least L1 (registration verifies the phone).
//! - **Passwords** ([`PasswordPolicy`]) are measured in Unicode scalar values (`char`s). The
//!   password itself is never stored in, or formatted by, any value of this module.
//! - **Delegations** ([`Delegation`]) are valid on every day of `[valid_from, valid_to]`, both
//!   inclusive. A revocation takes effect on its date, for that whole day: from the revocation
//!   date on, [`Delegation::permits`] refuses; for earlier dates it answers historically (what
//!   was permitted on that day).
//! - **Acting** ([`act_for`]): the legal representative may always act for their organisation;
//!   anyone else needs a delegation that permits the item on that day. The resulting
//!   [`Acting`] is stamped on every action.
//! - **Staff** accounts are separate from citizen accounts and are never self-registered
//!   ([`self_register`]). Their roles are [`RoleGrant`]s scoped by division subtree and, for
//!   department roles, by department; an administrator grants only within their own scope
//!   ([`check_grants`]).
//! - **Second factor for staff:** TOTP ([`TotpSecret`], RFC 6238), required for administrators.
//! - **Throttling** ([`ThrottlePolicy`]) counts failures per login name and per IP address.

mod account;
mod assurance;
mod delegation;
mod otp;
mod partner;
mod password;
mod secret;
mod staff;
mod throttle;
mod totp;

pub use account::{AccountId, AccountKind, RegistrationRefusal, StaffRole, self_register};
pub use assurance::{AcrError, AssuranceLevel, Proof, StepUp, check_assurance};
pub use delegation::{
    Acting, ActingBasis, ActingRefusal, DEFAULT_MAX_DELEGATION_YEARS, Delegation, DelegationDraft,
    DelegationId, DelegationProblem, DelegationRefusal, DelegationScope, OnBehalfOf,
    OrganisationParty, Revocation, RevokeError, act_for,
};
pub use otp::{OtpChallenge, OtpCode, OtpPolicy, OtpRefusal, may_issue};
pub use partner::{LINK_MIN_LEVEL, LevelMapping, PartnerRefusal, mapped_level, may_link};
pub use password::{PasswordContext, PasswordPolicy, PasswordProblem, common_passwords};
pub use secret::{constant_time_eq, secret_digest};
pub use staff::{GrantProblem, RoleGrant, Target, check_grants, role_needs_department};
pub use throttle::{Failures, LockedBy, ThrottlePolicy, Throttled};
pub use totp::{TOTP_SECRET_BYTES, TOTP_STEP_SECS, TotpRefusal, TotpSecret};
