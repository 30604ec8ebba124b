//! Staff administration and staff sign-in (工作人员账户): creating staff accounts, granting
//! roles within the administrator's own scope, signing in with a password and a TOTP code,
//! and enrolling an authenticator app.
//!
//! Decisions:
//! - **Who grants:** [`Granter::Bootstrap`] is the operator (the admin token, or the command
//!   line on the server): it may create any account with any roles, so that the first system
//!   administrator can exist. [`Granter::Staff`] is a signed-in member of staff: their
//!   account is read from the database on every call (a disabled account, or one whose
//!   system-administrator role was withdrawn since sign-in, grants nothing), they need the
//!   system-administrator role (else refused, `staff_not_administrator`), and every role they
//!   grant or withdraw must lie within one of their own system-administrator grants
//!   ([`check_grants`]). They may also only manage staff whose own division and department
//!   they cover.
//! - **Usernames** are 3–32 characters of `a-z`, `0-9`, `.`, `_` and `-`; what is typed is
//!   trimmed and lower-cased, at creation and at sign-in.
//! - **Initial password:** 16 characters of base64url from the operating system's random
//!   generator (96 bits), shown once to whoever created the account and stored as an Argon2id
//!   hash. It must be handed over out of band. (A forced change at first sign-in needs a
//!   column the store does not have yet.)
//! - **Sign-in never reveals whether an account exists:** an unknown username, a wrong
//!   password and a disabled account give the same [`AppError::SignInFailed`], after the same
//!   Argon2 verification (against a dummy hash when there is no account). Only once the
//!   password is right does the answer say that a TOTP code is needed
//!   ([`StaffSignIn::TotpRequired`]), that it was wrong (`totp_wrong`) or used already
//!   (`totp_replayed`), or that an administrator must first enrol an authenticator
//!   ([`StaffSignIn::TotpEnrolmentRequired`]).
//! - **TOTP:** required for administrator roles ([`StaffRole::requires_totp`]), and for
//!   anyone who enrolled. Codes of the previous, current and next 30-second step are
//!   accepted; the step used is stored with a compare-and-set
//!   ([`onetrip_store::Db::advance_staff_totp_step`]) so a code works once even when two
//!   sign-ins race. Enrolment is stateless: [`App::begin_totp_enrolment`] draws a secret and
//!   returns it; [`App::confirm_totp_enrolment`] stores it only once a code made with it is
//!   right, and spends that code's step. An account that already has an authenticator cannot
//!   enrol another one this way (its second factor would otherwise be replaceable with the
//!   password alone): an administrator must reset it first.
//! - **Throttling:** like citizens' sign-ins, per username (kind `staff`) and per IP address,
//!   before the password is checked; wrong TOTP codes count as failures, so a code cannot be
//!   guessed either.
//! - **Audit:** every attempt is a `sign_in` event (method `password` or `totp`, account kind
//!   staff); `staff_created`, `role_change` (old and new grants) and `totp_enrolled` are
//!   recorded with who acted (`"bootstrap"` or the administrator's account id). Events name
//!   accounts by id, never by username or name.

use std::fmt;
use std::net::IpAddr;

use jiff::Timestamp;
use onetrip_domain::Localized;
use onetrip_domain::identifiers::DivisionCode;
use onetrip_domain::identity::{
    AccountId, AccountKind, GrantProblem, RoleGrant, StaffRole, TOTP_SECRET_BYTES, Target,
    TotpRefusal, TotpSecret, check_grants,
};
use onetrip_store::{AuthEvent, NewStaff, StaffRow, StoreError};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::accounts::{
    AccountProblem, MAX_NAME_CHARS, METHOD_PASSWORD, hash_password, login_digest, verify_password,
};
use crate::{App, AppError, FieldProblem, Result};

/// The sign-in method recorded for TOTP codes.
pub const METHOD_TOTP: &str = "totp";

/// The login kind of staff sign-ins, in [`login_digest`].
pub const LOGIN_KIND_STAFF: &str = "staff";

/// Characters of an initial password.
pub const INITIAL_PASSWORD_CHARS: usize = 16;

/// Shortest username, in characters.
pub const MIN_USERNAME_CHARS: usize = 3;

/// Longest username, in characters.
pub const MAX_USERNAME_CHARS: usize = 32;

/// The issuer shown by authenticator apps.
pub const TOTP_ISSUER: &str = "onetrip";

/// Who creates staff accounts or changes roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Granter {
    /// The operator, with the admin token or on the server's command line: may create any
    /// account with any roles.
    Bootstrap,
    /// A signed-in member of staff, by account id; their grants are read from the database.
    Staff(AccountId),
}

/// A staff account to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStaffInput {
    /// Sign-in name: 3–32 characters of `a-z0-9._-` (trimmed and lower-cased).
    pub username: String,
    /// Name.
    pub name: String,
    /// Credit code of the department the member of staff belongs to.
    pub department_code: String,
    /// Division the member of staff works in.
    pub division_code: String,
    /// Roles with their scopes.
    pub roles: Vec<RoleGrant>,
}

/// A staff account just created, with its initial password (shown once).
#[derive(Debug)]
pub struct CreatedStaff {
    /// The new account's id.
    pub id: AccountId,
    /// The initial password, to hand over out of band.
    pub initial_password: SecretString,
}

/// A signed-in member of staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffSession {
    /// Account id.
    pub id: AccountId,
    /// Name.
    pub name: String,
    /// Credit code of their department.
    pub department_code: String,
    /// Their division.
    pub division_code: String,
    /// Their role grants at sign-in.
    pub roles: Vec<RoleGrant>,
    /// Whether a TOTP code was verified at sign-in.
    pub totp_verified: bool,
}

/// The outcome of a staff sign-in whose password was right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffSignIn {
    /// Signed in.
    SignedIn(StaffSession),
    /// The password is right; a TOTP code is needed (none was given).
    TotpRequired,
    /// The password is right, but an administrator role needs TOTP and none is enrolled: the
    /// member of staff may only enrol an authenticator.
    TotpEnrolmentRequired {
        /// The account, for the enrolment.
        staff_id: AccountId,
    },
}

/// A TOTP secret drawn for enrolment, to show as text and as a QR code.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpEnrolment {
    /// The secret in base32, as authenticator apps take it.
    pub secret_base32: String,
    /// The `otpauth://` URI (for a QR code).
    pub provisioning_uri: String,
}

impl fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpEnrolment")
            .field("secret_base32", &"<secret>")
            .field("provisioning_uri", &"<secret>")
            .finish()
    }
}

/// Problems and refusals of staff administration that are not domain errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffProblem {
    /// The granter is not a (enabled) system administrator.
    #[error("not a system administrator")]
    NotAdministrator,
    /// The member of staff concerned is outside the administrator's own scope.
    #[error("staff member outside the administrator's scope")]
    OutsideScope,
    /// The username is not 3–32 characters of `a-z0-9._-`.
    #[error("username format")]
    UsernameFormat,
    /// The username is taken.
    #[error("username taken")]
    UsernameTaken,
    /// The department does not exist.
    #[error("unknown department")]
    DepartmentUnknown,
    /// A role grant names a department that does not exist.
    #[error("unknown department in a role")]
    RoleDepartmentUnknown,
    /// A role the administrator wants to withdraw lies outside their own scope.
    #[error("withdrawing a role outside the administrator's scope")]
    RemovalOutsideScope {
        /// The role.
        role: StaffRole,
    },
    /// An authenticator is already enrolled.
    #[error("authenticator already enrolled")]
    TotpAlreadyEnrolled,
    /// The TOTP secret given back is not a valid base32 secret.
    #[error("invalid TOTP secret")]
    TotpSecretInvalid,
}

impl Localized for StaffProblem {
    fn code(&self) -> &'static str {
        match self {
            Self::NotAdministrator => "staff_not_administrator",
            Self::OutsideScope => "staff_outside_scope",
            Self::UsernameFormat => "staff_username_format",
            Self::UsernameTaken => "staff_username_taken",
            Self::DepartmentUnknown => "staff_department_unknown",
            Self::RoleDepartmentUnknown => "staff_role_department_unknown",
            Self::RemovalOutsideScope { .. } => "staff_role_removal_outside_scope",
            Self::TotpAlreadyEnrolled => "totp_already_enrolled",
            Self::TotpSecretInvalid => "totp_secret_invalid",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::NotAdministrator => {
                "只有系统管理员可以管理工作人员账号和角色：请联系本单位的系统管理员".to_owned()
            }
            Self::OutsideScope => {
                "该工作人员所在的区划或部门超出了您的管理范围：请联系上级系统管理员".to_owned()
            }
            Self::UsernameFormat => format!(
                "用户名须为{MIN_USERNAME_CHARS}至{MAX_USERNAME_CHARS}个字符，只能包含小写字母、\
                 数字、点、下划线和连字符"
            ),
            Self::UsernameTaken => "该用户名已被使用：请换一个用户名".to_owned(),
            Self::DepartmentUnknown => "所选部门不存在：请从部门列表中选择".to_owned(),
            Self::RoleDepartmentUnknown => "角色中指定的部门不存在：请从部门列表中选择".to_owned(),
            Self::RemovalOutsideScope { role } => format!(
                "不能撤销“{}”角色：该角色的区划或部门超出了您自己的管理范围",
                role.label_zh()
            ),
            Self::TotpAlreadyEnrolled => {
                "该账号已绑定身份验证器：如需更换，请联系系统管理员重置后再绑定".to_owned()
            }
            Self::TotpSecretInvalid => "绑定信息无效：请重新开始绑定身份验证器".to_owned(),
        }
    }

    fn message_en(&self) -> String {
        match self {
            Self::NotAdministrator => "Only system administrators can manage staff accounts and \
                                       roles: contact your system administrator"
                .to_owned(),
            Self::OutsideScope => "This member of staff's division or department is outside \
                                   your scope: contact a higher-level system administrator"
                .to_owned(),
            Self::UsernameFormat => format!(
                "The username must be {MIN_USERNAME_CHARS} to {MAX_USERNAME_CHARS} characters \
                 of lower-case letters, digits, dots, underscores and hyphens"
            ),
            Self::UsernameTaken => "This username is taken: choose another one".to_owned(),
            Self::DepartmentUnknown => {
                "The department does not exist: choose one from the list".to_owned()
            }
            Self::RoleDepartmentUnknown => {
                "The department of the role does not exist: choose one from the list".to_owned()
            }
            Self::RemovalOutsideScope { role } => format!(
                "You cannot withdraw the {} role: its division or department is outside your \
                 own scope",
                role.label_en()
            ),
            Self::TotpAlreadyEnrolled => "An authenticator is already enrolled for this account: \
                                          ask a system administrator to reset it first"
                .to_owned(),
            Self::TotpSecretInvalid => {
                "The enrolment data is invalid: start enrolling the authenticator again".to_owned()
            }
        }
    }
}

/// A username trimmed and lower-cased.
fn normalise_username(input: &str) -> String {
    input.trim().to_ascii_lowercase()
}

/// Whether a (normalised) username has the accepted form.
fn username_ok(username: &str) -> bool {
    (MIN_USERNAME_CHARS..=MAX_USERNAME_CHARS).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// Whether the system-administrator grants among `own` cover `target`.
fn covers(own: &[RoleGrant], target: Target<'_>) -> bool {
    own.iter()
        .any(|g| g.role == StaffRole::SystemAdministrator && g.covers(target))
}

/// Whether `grant` lies within the administrator's grants `own`.
fn grant_within(own: &[RoleGrant], grant: &RoleGrant) -> bool {
    covers(
        own,
        Target {
            division: &grant.division,
            department: grant.department.as_deref(),
        },
    )
}

/// The granter's system-administrator grants, read fresh; `None` for the bootstrap granter.
struct Authority {
    by: String,
    grants: Option<Vec<RoleGrant>>,
}

impl App {
    /// The authority of `granter`, refused (`staff_not_administrator`) unless it is the
    /// bootstrap granter or an enabled member of staff holding the system-administrator role.
    async fn authority(&self, granter: &Granter) -> Result<Authority> {
        match granter {
            Granter::Bootstrap => Ok(Authority {
                by: "bootstrap".to_owned(),
                grants: None,
            }),
            Granter::Staff(id) => match self.db.staff_by_id(id.as_str()).await? {
                Some(row)
                    if !row.disabled && row.roles.iter().any(|g| g.role.may_create_staff()) =>
                {
                    Ok(Authority {
                        by: row.id,
                        grants: Some(row.roles),
                    })
                }
                _ => Err(AppError::refused(&StaffProblem::NotAdministrator)),
            },
        }
    }

    /// Problems with changing a member of staff's grants from `old` to `new` (paths
    /// `roles[i]` and `roles`): the domain's structural rules on every grant, departments
    /// that exist, and, for a staff granter, that every grant added or withdrawn lies within
    /// their own scope.
    async fn role_problems(
        &self,
        authority: &Authority,
        old: &[RoleGrant],
        new: &[RoleGrant],
    ) -> Result<Vec<FieldProblem>> {
        let mut problems = Vec::new();
        // Structural rules (scope is judged below, only for what changes).
        if let Err(found) = check_grants(&[], new) {
            for (i, p) in found {
                if !matches!(p, GrantProblem::OutsideOwnScope { .. }) {
                    problems.push(FieldProblem::new(format!("roles[{i}]"), &p));
                }
            }
        }
        for (i, g) in new.iter().enumerate() {
            if let Some(dept) = &g.department
                && self.db.department(dept).await?.is_none()
            {
                problems.push(FieldProblem::new(
                    format!("roles[{i}]"),
                    &StaffProblem::RoleDepartmentUnknown,
                ));
            }
        }
        if let Some(own) = &authority.grants {
            for (i, g) in new.iter().enumerate() {
                if !old.contains(g) && !grant_within(own, g) {
                    problems.push(FieldProblem::new(
                        format!("roles[{i}]"),
                        &GrantProblem::OutsideOwnScope { role: g.role },
                    ));
                }
            }
            for g in old.iter().filter(|g| !new.contains(g)) {
                if !grant_within(own, g) {
                    problems.push(FieldProblem::new(
                        "roles",
                        &StaffProblem::RemovalOutsideScope { role: g.role },
                    ));
                }
            }
        }
        problems.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(problems)
    }

    /// Records a staff administration event about `staff_id`.
    async fn record_staff_event(
        &self,
        kind: &str,
        staff_id: &str,
        detail: serde_json::Value,
        now: Timestamp,
    ) -> Result<()> {
        let mut event = AuthEvent::new(kind, AccountKind::Staff, Some(staff_id), now);
        event.method = "admin".to_owned();
        event.detail = Some(detail.to_string());
        self.db.record_auth_event(&event).await?;
        Ok(())
    }

    /// Creates a staff account with a random initial password (returned once, stored as an
    /// Argon2id hash). Refused (`staff_not_administrator`) for a staff granter without the
    /// system-administrator role. Input problems are [`AppError::Rejected`] at `username`,
    /// `name`, `department_code`, `division_code`, `roles[i]` and `roles`.
    pub async fn create_staff(
        &self,
        granter: &Granter,
        input: NewStaffInput,
        now: Timestamp,
    ) -> Result<CreatedStaff> {
        let authority = self.authority(granter).await?;
        let mut problems = Vec::new();
        let username = normalise_username(&input.username);
        if !username_ok(&username) {
            problems.push(FieldProblem::new("username", &StaffProblem::UsernameFormat));
        } else if self.db.staff_by_username(&username).await?.is_some() {
            problems.push(FieldProblem::new("username", &StaffProblem::UsernameTaken));
        }
        let name = input.name.trim().to_owned();
        if name.is_empty() {
            problems.push(FieldProblem::new("name", &AccountProblem::NameRequired));
        } else if name.chars().count() > MAX_NAME_CHARS {
            problems.push(FieldProblem::new("name", &AccountProblem::NameTooLong));
        }
        let department_code = input.department_code.trim().to_owned();
        if self.db.department(&department_code).await?.is_none() {
            problems.push(FieldProblem::new(
                "department_code",
                &StaffProblem::DepartmentUnknown,
            ));
        }
        let division = match DivisionCode::parse(input.division_code.trim()) {
            Ok(d) => Some(d),
            Err(e) => {
                problems.push(FieldProblem::new("division_code", &e));
                None
            }
        };
        if let (Some(own), Some(division)) = (&authority.grants, &division) {
            let target = Target {
                division,
                department: Some(&department_code),
            };
            if !covers(own, target) {
                problems.push(FieldProblem::new(
                    "division_code",
                    &StaffProblem::OutsideScope,
                ));
            }
        }
        problems.extend(self.role_problems(&authority, &[], &input.roles).await?);
        let (Some(division), true) = (division, problems.is_empty()) else {
            return Err(AppError::Rejected(problems));
        };

        let initial: String = crate::sso::random_secret()?
            .chars()
            .take(INITIAL_PASSWORD_CHARS)
            .collect();
        let initial = SecretString::from(initial);
        let to_hash = initial.clone();
        let hash = self
            .argon2(move || hash_password(to_hash.expose_secret().as_bytes()))
            .await??;
        let new = NewStaff {
            username,
            name,
            department_code,
            division_code: division.as_str().to_owned(),
            roles: input.roles,
            password_hash: Some(hash),
            totp_secret: None,
        };
        let id = match self.db.insert_staff(&new, now).await {
            Ok(id) => id,
            Err(StoreError::Conflict(_)) => {
                return Err(AppError::Rejected(vec![FieldProblem::new(
                    "username",
                    &StaffProblem::UsernameTaken,
                )]));
            }
            Err(StoreError::UnknownReference(_)) => {
                return Err(AppError::Rejected(vec![FieldProblem::new(
                    "department_code",
                    &StaffProblem::DepartmentUnknown,
                )]));
            }
            Err(e) => return Err(e.into()),
        };
        self.record_staff_event(
            "staff_created",
            &id,
            serde_json::json!({
                "by": authority.by,
                "department": new.department_code,
                "division": new.division_code,
            }),
            now,
        )
        .await?;
        self.record_staff_event(
            "role_change",
            &id,
            serde_json::json!({ "by": authority.by, "old": [], "new": new.roles }),
            now,
        )
        .await?;
        tracing::info!(staff = %id, by = %authority.by, "staff account created");
        Ok(CreatedStaff {
            id: AccountId::new(id),
            initial_password: initial,
        })
    }

    /// Replaces the role grants of a member of staff. The same checks as
    /// [`App::create_staff`]; besides, a staff granter may only manage staff within their
    /// scope (else refused, `staff_outside_scope`) and withdraw only grants within it. An
    /// unknown account is [`AppError::NotFound`]. Recorded as `role_change` with the old and
    /// new grants.
    pub async fn set_staff_roles(
        &self,
        granter: &Granter,
        staff_id: &AccountId,
        roles: Vec<RoleGrant>,
        now: Timestamp,
    ) -> Result<()> {
        let authority = self.authority(granter).await?;
        let target = self.managed_staff(&authority, staff_id).await?;
        let problems = self
            .role_problems(&authority, &target.roles, &roles)
            .await?;
        if !problems.is_empty() {
            return Err(AppError::Rejected(problems));
        }
        if !self.db.set_staff_roles(&target.id, &roles).await? {
            return Err(AppError::NotFound {
                kind: "staff",
                key: staff_id.to_string(),
            });
        }
        self.record_staff_event(
            "role_change",
            &target.id,
            serde_json::json!({ "by": authority.by, "old": target.roles, "new": roles }),
            now,
        )
        .await?;
        tracing::info!(staff = %target.id, by = %authority.by, "staff roles changed");
        Ok(())
    }

    /// The member of staff `staff_id`, when `authority` may manage them: unknown is
    /// [`AppError::NotFound`], outside a staff granter's scope is refused
    /// (`staff_outside_scope`).
    async fn managed_staff(&self, authority: &Authority, staff_id: &AccountId) -> Result<StaffRow> {
        let Some(target) = self.db.staff_by_id(staff_id.as_str()).await? else {
            return Err(AppError::NotFound {
                kind: "staff",
                key: staff_id.to_string(),
            });
        };
        if let Some(own) = &authority.grants {
            let covered = DivisionCode::parse(&target.division_code).is_ok_and(|division| {
                covers(
                    own,
                    Target {
                        division: &division,
                        department: Some(&target.department_code),
                    },
                )
            });
            if !covered {
                return Err(AppError::refused(&StaffProblem::OutsideScope));
            }
        }
        Ok(target)
    }

    /// Disables or enables a staff account (a disabled account cannot sign in, and its
    /// sessions lose their authority at the next administrator check). Same scope rules as
    /// [`App::set_staff_roles`]; recorded as `staff_disabled` / `staff_enabled`.
    pub async fn set_staff_disabled(
        &self,
        granter: &Granter,
        staff_id: &AccountId,
        disabled: bool,
        now: Timestamp,
    ) -> Result<()> {
        let authority = self.authority(granter).await?;
        let target = self.managed_staff(&authority, staff_id).await?;
        self.db.set_staff_disabled(&target.id, disabled).await?;
        let kind = if disabled {
            "staff_disabled"
        } else {
            "staff_enabled"
        };
        self.record_staff_event(
            kind,
            &target.id,
            serde_json::json!({ "by": authority.by }),
            now,
        )
        .await
    }

    /// Removes a member of staff's authenticator (a lost phone), so that they enrol a new one
    /// at their next sign-in. Same scope rules as [`App::set_staff_roles`]; recorded as
    /// `totp_reset`.
    pub async fn reset_staff_totp(
        &self,
        granter: &Granter,
        staff_id: &AccountId,
        now: Timestamp,
    ) -> Result<()> {
        let authority = self.authority(granter).await?;
        let target = self.managed_staff(&authority, staff_id).await?;
        self.db.set_staff_totp(&target.id, None).await?;
        self.record_staff_event(
            "totp_reset",
            &target.id,
            serde_json::json!({ "by": authority.by }),
            now,
        )
        .await
    }

    /// Signs a member of staff in with username, password and, when needed, a TOTP code.
    ///
    /// A wrong username or password, or a disabled account, is [`AppError::SignInFailed`]
    /// (after the same work either way). With the right password: an account with an
    /// authenticator, or with an administrator role, needs a code: without one the answer is
    /// [`StaffSignIn::TotpRequired`] (or [`StaffSignIn::TotpEnrolmentRequired`] when an
    /// administrator has none enrolled); a wrong code is refused (`totp_wrong`), a code already
    /// used too (`totp_replayed`). Too many recent failures for the username or the address
    /// are [`AppError::Throttled`], before anything is checked. Every attempt is recorded.
    pub async fn sign_in_staff(
        &self,
        username: &str,
        password: &SecretString,
        totp: Option<&str>,
        ip: Option<IpAddr>,
        now: Timestamp,
    ) -> Result<StaffSignIn> {
        let username = normalise_username(username);
        let digest = login_digest(LOGIN_KIND_STAFF, &username);
        self.check_throttle(&digest, AccountKind::Staff, METHOD_PASSWORD, ip, now)
            .await?;
        let record = |account: Option<&str>, method: &str, succeeded: bool, outcome: &str| {
            let mut event = AuthEvent::new("sign_in", AccountKind::Staff, account, now);
            event.method = method.to_owned();
            event.succeeded = succeeded;
            event.ip = ip.map(|ip| ip.to_string());
            event.login_digest = Some(digest.clone());
            event.detail = Some(serde_json::json!({ "outcome": outcome }).to_string());
            event
        };

        let staff = if username_ok(&username) {
            self.db.staff_by_username(&username).await?
        } else {
            None
        };
        let hash = staff
            .as_ref()
            .and_then(|s| s.password_hash.clone())
            .filter(|h| !h.is_empty());
        let real = hash.is_some();
        let hash = hash.unwrap_or_else(|| crate::accounts::DUMMY_HASH.clone());
        let typed = password.clone();
        let matched = self
            .argon2(move || verify_password(typed.expose_secret().as_bytes(), &hash))
            .await?;
        let staff = match staff {
            Some(s) if real && matched && !s.disabled => s,
            other => {
                let account = other.as_ref().map(|s| s.id.as_str());
                self.db
                    .record_auth_event(&record(account, METHOD_PASSWORD, false, "failed"))
                    .await?;
                return Err(AppError::SignInFailed);
            }
        };

        // The password is right: from here on, the answer may say what is missing.
        let needs_totp = staff.roles.iter().any(|g| g.role.requires_totp());
        let Some(stored) = staff.totp_secret.as_deref() else {
            if needs_totp {
                self.db
                    .record_auth_event(&record(
                        Some(&staff.id),
                        METHOD_PASSWORD,
                        true,
                        "totp_enrolment_required",
                    ))
                    .await?;
                return Ok(StaffSignIn::TotpEnrolmentRequired {
                    staff_id: AccountId::new(staff.id),
                });
            }
            self.db
                .record_auth_event(&record(Some(&staff.id), METHOD_PASSWORD, true, "signed_in"))
                .await?;
            tracing::info!(staff = %staff.id, "staff signed in");
            return Ok(StaffSignIn::SignedIn(session(staff, false)));
        };
        let Some(code) = totp.map(str::trim).filter(|c| !c.is_empty()) else {
            self.db
                .record_auth_event(&record(
                    Some(&staff.id),
                    METHOD_PASSWORD,
                    true,
                    "totp_required",
                ))
                .await?;
            return Ok(StaffSignIn::TotpRequired);
        };
        let secret = TotpSecret::from_base32(stored).ok_or_else(|| {
            AppError::Internal(format!("staff {}: stored TOTP secret is invalid", staff.id))
        })?;
        let verdict = match secret.verify(code, now, staff.totp_last_step) {
            Ok(step) => {
                if self.db.advance_staff_totp_step(&staff.id, step).await? {
                    Ok(())
                } else {
                    // A concurrent sign-in used this step (or a later one) first.
                    Err(TotpRefusal::Replayed)
                }
            }
            Err(refusal) => Err(refusal),
        };
        if let Err(refusal) = verdict {
            self.db
                .record_auth_event(&record(Some(&staff.id), METHOD_TOTP, false, refusal.code()))
                .await?;
            return Err(AppError::refused(&refusal));
        }
        self.db
            .record_auth_event(&record(Some(&staff.id), METHOD_TOTP, true, "signed_in"))
            .await?;
        tracing::info!(staff = %staff.id, "staff signed in with TOTP");
        Ok(StaffSignIn::SignedIn(session(staff, true)))
    }

    /// Draws a new TOTP secret (20 random bytes) for `staff_id` and returns it with its
    /// `otpauth://` URI; nothing is stored until [`App::confirm_totp_enrolment`]. Refused
    /// (`totp_already_enrolled`) when an authenticator is enrolled already; an unknown or
    /// disabled account is [`AppError::NotFound`].
    pub async fn begin_totp_enrolment(&self, staff_id: &AccountId) -> Result<TotpEnrolment> {
        let staff = self.enrollable_staff(staff_id).await?;
        let mut bytes = [0u8; TOTP_SECRET_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(format!("randomness: {e}")))?;
        let secret = TotpSecret::from_bytes(bytes);
        Ok(TotpEnrolment {
            secret_base32: secret.to_base32(),
            provisioning_uri: secret.provisioning_uri(TOTP_ISSUER, &staff.username),
        })
    }

    /// Stores the TOTP secret `secret_base32` for `staff_id` once `code`, made with it, is
    /// right (else [`AppError::Rejected`] at `code`, `totp_wrong`; a malformed secret at
    /// `secret`), and spends that code's step so it cannot also sign in. Recorded as
    /// `totp_enrolled`.
    pub async fn confirm_totp_enrolment(
        &self,
        staff_id: &AccountId,
        secret_base32: &str,
        code: &str,
        now: Timestamp,
    ) -> Result<()> {
        let staff = self.enrollable_staff(staff_id).await?;
        let Some(secret) = TotpSecret::from_base32(secret_base32) else {
            return Err(AppError::Rejected(vec![FieldProblem::new(
                "secret",
                &StaffProblem::TotpSecretInvalid,
            )]));
        };
        let step = secret
            .verify(code, now, None)
            .map_err(|e| AppError::Rejected(vec![FieldProblem::new("code", &e)]))?;
        let stored = secret.to_base32();
        if !self.db.set_staff_totp(&staff.id, Some(&stored)).await? {
            return Err(AppError::NotFound {
                kind: "staff",
                key: staff_id.to_string(),
            });
        }
        self.db.advance_staff_totp_step(&staff.id, step).await?;
        self.record_staff_event(
            "totp_enrolled",
            &staff.id,
            serde_json::json!({ "by": staff.id }),
            now,
        )
        .await?;
        tracing::info!(staff = %staff.id, "authenticator enrolled");
        Ok(())
    }

    /// An enabled staff account without an authenticator.
    async fn enrollable_staff(&self, staff_id: &AccountId) -> Result<StaffRow> {
        match self.db.staff_by_id(staff_id.as_str()).await? {
            Some(s) if !s.disabled => {
                if s.totp_secret.is_some() {
                    Err(AppError::refused(&StaffProblem::TotpAlreadyEnrolled))
                } else {
                    Ok(s)
                }
            }
            _ => Err(AppError::NotFound {
                kind: "staff",
                key: staff_id.to_string(),
            }),
        }
    }
}

/// The session of a member of staff who signed in.
fn session(staff: StaffRow, totp_verified: bool) -> StaffSession {
    StaffSession {
        id: AccountId::new(staff.id),
        name: staff.name,
        department_code: staff.department_code,
        division_code: staff.division_code,
        roles: staff.roles,
        totp_verified,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["abc", "zhang.san", "wang_wu-2", &"a".repeat(32)] {
            assert!(username_ok(ok), "{ok}");
        }
        for bad in ["ab", "Zhang", "张三", "a b", "a@b", "", &"a".repeat(33)] {
            assert!(!username_ok(bad), "{bad}");
        }
        assert_eq!(normalise_username("  Zhang.San "), "zhang.san");
    }
}
