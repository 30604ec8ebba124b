//! Accounts: opaque account ids, the citizen/staff split and staff roles.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Localized;

/// Defines an opaque string identifier with `new`, `as_str`, `Display` and transparent serde.
macro_rules! opaque_id {
    ($(#[$meta:meta])* $ty:ident) => {
        $(#[$meta])*
        #[derive(
            Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $ty(String);

        impl $ty {
            /// Wraps an identifier issued by the store (opaque to the domain).
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
pub(crate) use opaque_id;

opaque_id!(
    /// The id of an account (a person's or a staff member's), opaque to the domain. It is not
    /// personal data: it is issued by onetrip and reveals nothing about the person.
    AccountId
);

/// Which population an account belongs to. Citizen and staff accounts are kept apart: a
/// person who is also a civil servant has two accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// A person (自然人) using services, for themselves or as an agent of an organisation.
    Citizen,
    /// A member of staff (工作人员), created by an administrator.
    Staff,
}

/// Why a self-registration is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationRefusal {
    /// Staff accounts are created by administrators, never by self-registration.
    #[error("staff accounts cannot be self-registered")]
    StaffCannotSelfRegister,
}

impl Localized for RegistrationRefusal {
    fn code(&self) -> &'static str {
        "registration_staff_not_allowed"
    }

    fn message_zh(&self) -> String {
        "工作人员账号不能自行注册：请联系本单位的系统管理员开通".to_owned()
    }

    fn message_en(&self) -> String {
        "Staff accounts cannot be self-registered: ask your organisation's system administrator \
         to create one"
            .to_owned()
    }
}

/// Self-registration (on the public registration page or API): only citizen accounts.
///
/// Returns the kind of account to create, or a refusal for [`AccountKind::Staff`].
pub fn self_register(kind: AccountKind) -> Result<AccountKind, RegistrationRefusal> {
    match kind {
        AccountKind::Citizen => Ok(AccountKind::Citizen),
        AccountKind::Staff => Err(RegistrationRefusal::StaffCannotSelfRegister),
    }
}

/// A staff role. Each role is scoped by department and division subtree elsewhere (the
/// authorisation policy); this type only names the role and its fixed properties.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// 综合窗口人员: accepts applications for any item at a general window.
    WindowClerk,
    /// 部门经办人: handles cases in a department.
    DepartmentOfficer,
    /// 部门负责人: decides and signs off in a department.
    DepartmentHead,
    /// 督办人员: watches time limits and issues supervision orders.
    Supervisor,
    /// 事项管理员: maintains the service catalog.
    CatalogAdministrator,
    /// 数据管理员: maintains the data catalog and sharing grants.
    DataAdministrator,
    /// 系统管理员: manages staff accounts, roles and clients.
    SystemAdministrator,
}

impl StaffRole {
    /// Every role.
    pub const ALL: [Self; 7] = [
        Self::WindowClerk,
        Self::DepartmentOfficer,
        Self::DepartmentHead,
        Self::Supervisor,
        Self::CatalogAdministrator,
        Self::DataAdministrator,
        Self::SystemAdministrator,
    ];

    /// Name in Chinese.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::WindowClerk => "综合窗口人员",
            Self::DepartmentOfficer => "部门经办人",
            Self::DepartmentHead => "部门负责人",
            Self::Supervisor => "督办人员",
            Self::CatalogAdministrator => "事项管理员",
            Self::DataAdministrator => "数据管理员",
            Self::SystemAdministrator => "系统管理员",
        }
    }

    /// Name in English.
    pub fn label_en(self) -> &'static str {
        match self {
            Self::WindowClerk => "window clerk",
            Self::DepartmentOfficer => "department officer",
            Self::DepartmentHead => "department head",
            Self::Supervisor => "supervisor",
            Self::CatalogAdministrator => "catalog administrator",
            Self::DataAdministrator => "data administrator",
            Self::SystemAdministrator => "system administrator",
        }
    }

    /// Whether the role is an administrator role (catalog, data or system).
    pub fn is_administrator(self) -> bool {
        matches!(
            self,
            Self::CatalogAdministrator | Self::DataAdministrator | Self::SystemAdministrator
        )
    }

    /// Whether holding this role requires TOTP at sign-in: yes for administrators; TOTP is
    /// optional for the other staff roles.
    pub fn requires_totp(self) -> bool {
        self.is_administrator()
    }

    /// Whether this role may create staff accounts (system administrators only).
    pub fn may_create_staff(self) -> bool {
        self == Self::SystemAdministrator
    }
}

impl fmt::Display for StaffRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label_en())
    }
}
