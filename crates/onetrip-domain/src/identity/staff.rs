//! Staff role grants and their scope: a role is held within a division subtree and, for
//! department roles, within one department.
//!
//! Decisions:
//! - **Division scope is a subtree:** a grant at `330100` (杭州市) covers the city and every
//!   county and township in it; a grant at `330106` (西湖区) covers only that county.
//! - **Department scope:** officers and heads act for one department (their grant names it);
//!   clerks, supervisors and administrators act for every department of their subtree, so
//!   their grants name none.
//! - A member of staff may hold several grants (a clerk who is also a supervisor).

use serde::{Deserialize, Serialize};

use crate::Localized;
use crate::identifiers::DivisionCode;
use crate::identity::StaffRole;

/// One role held by a member of staff, with its scope.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoleGrant {
    /// The role.
    pub role: StaffRole,
    /// The division subtree the role is held in.
    pub division: DivisionCode,
    /// The department, for department roles (officer, head); `None` for the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
}

/// What a grant would act on: a division and, when it matters, a department.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target<'a> {
    /// The division of the case, item or staff member concerned.
    pub division: &'a DivisionCode,
    /// The department concerned, if any.
    pub department: Option<&'a str>,
}

impl RoleGrant {
    /// Whether this grant covers `target`: the target lies in the grant's division subtree and,
    /// for a department grant, belongs to its department.
    pub fn covers(&self, target: Target<'_>) -> bool {
        if !target.division.is_within(&self.division) {
            return false;
        }
        match (&self.department, target.department) {
            (None, _) => true,
            (Some(own), Some(other)) => own == other,
            (Some(_), None) => false,
        }
    }
}

/// Whether a role needs a department in its grant.
pub fn role_needs_department(role: StaffRole) -> bool {
    matches!(
        role,
        StaffRole::DepartmentOfficer | StaffRole::DepartmentHead
    )
}

/// Why a set of grants is not acceptable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GrantProblem {
    /// No role at all.
    #[error("a member of staff needs at least one role")]
    NoRole,
    /// A department role without its department.
    #[error("the role needs a department")]
    DepartmentRequired {
        /// The role.
        role: StaffRole,
    },
    /// A department on a role that acts for every department.
    #[error("the role is not held for one department")]
    DepartmentNotAllowed {
        /// The role.
        role: StaffRole,
    },
    /// A grant the granting administrator does not cover.
    #[error("outside the administrator's own scope")]
    OutsideOwnScope {
        /// The role.
        role: StaffRole,
    },
}

impl Localized for GrantProblem {
    fn code(&self) -> &'static str {
        match self {
            Self::NoRole => "staff_role_required",
            Self::DepartmentRequired { .. } => "staff_role_department_required",
            Self::DepartmentNotAllowed { .. } => "staff_role_department_not_allowed",
            Self::OutsideOwnScope { .. } => "staff_role_outside_scope",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            Self::NoRole => "请至少为工作人员分配一个角色".to_owned(),
            Self::DepartmentRequired { role } => {
                format!("“{}”角色须指定所属部门", role.label_zh())
            }
            Self::DepartmentNotAllowed { role } => {
                format!("“{}”角色覆盖辖区内所有部门，不能指定部门", role.label_zh())
            }
            Self::OutsideOwnScope { role } => format!(
                "不能授予“{}”角色：所选区划或部门超出了您自己的管理范围",
                role.label_zh()
            ),
        }
    }

    fn message_en(&self) -> String {
        match self {
            Self::NoRole => "Give the member of staff at least one role".to_owned(),
            Self::DepartmentRequired { role } => {
                format!("The {} role needs a department", role.label_en())
            }
            Self::DepartmentNotAllowed { role } => format!(
                "The {} role covers every department of its division: remove the department",
                role.label_en()
            ),
            Self::OutsideOwnScope { role } => format!(
                "You cannot grant the {} role there: the division or department is outside \
                 your own scope",
                role.label_en()
            ),
        }
    }
}

/// Checks the grants a system administrator (holding `granter`) wants to give: every role has
/// the department it needs (and only then), and every grant lies within one of the
/// administrator's own system-administrator grants. All problems are returned, by index.
pub fn check_grants(
    granter: &[RoleGrant],
    grants: &[RoleGrant],
) -> Result<(), Vec<(usize, GrantProblem)>> {
    let mut problems = Vec::new();
    if grants.is_empty() {
        problems.push((0, GrantProblem::NoRole));
    }
    for (i, g) in grants.iter().enumerate() {
        match (role_needs_department(g.role), &g.department) {
            (true, None) => problems.push((i, GrantProblem::DepartmentRequired { role: g.role })),
            (false, Some(_)) => {
                problems.push((i, GrantProblem::DepartmentNotAllowed { role: g.role }))
            }
            _ => {}
        }
        let target = Target {
            division: &g.division,
            department: g.department.as_deref(),
        };
        let within = granter
            .iter()
            .any(|own| own.role == StaffRole::SystemAdministrator && own.covers(target));
        if !within {
            problems.push((i, GrantProblem::OutsideOwnScope { role: g.role }));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(code: &str) -> DivisionCode {
        DivisionCode::parse(code).unwrap()
    }

    fn grant(role: StaffRole, division: &str, department: Option<&str>) -> RoleGrant {
        RoleGrant {
            role,
            division: d(division),
            department: department.map(str::to_owned),
        }
    }

    #[test]
    fn a_city_grant_covers_its_counties_and_a_county_grant_only_itself() {
        let city = grant(StaffRole::Supervisor, "330100", None);
        let county = grant(StaffRole::WindowClerk, "330106", None);
        for (division, city_ok, county_ok) in [
            ("330100", true, false),
            ("330106", true, true),
            ("330106001000", true, true),
            ("330102", true, false),
            ("330200", false, false),
            ("330000", false, false),
        ] {
            let target = Target {
                division: &d(division),
                department: Some("any"),
            };
            assert_eq!(city.covers(target), city_ok, "{division}");
            assert_eq!(county.covers(target), county_ok, "{division}");
        }
    }

    #[test]
    fn department_grants_cover_only_their_department() {
        let officer = grant(StaffRole::DepartmentOfficer, "330106", Some("dept-a"));
        let here = d("330106");
        assert!(officer.covers(Target {
            division: &here,
            department: Some("dept-a")
        }));
        assert!(!officer.covers(Target {
            division: &here,
            department: Some("dept-b")
        }));
        assert!(!officer.covers(Target {
            division: &here,
            department: None
        }));
    }

    #[test]
    fn grants_are_checked_against_the_administrators_own_scope() {
        let admin = vec![grant(StaffRole::SystemAdministrator, "330100", None)];
        assert_eq!(
            check_grants(
                &admin,
                &[grant(StaffRole::DepartmentOfficer, "330106", Some("x"))]
            ),
            Ok(())
        );
        let problems = check_grants(
            &admin,
            &[
                grant(StaffRole::DepartmentOfficer, "330106", None),
                grant(StaffRole::WindowClerk, "330200", None),
                grant(StaffRole::Supervisor, "330106", Some("x")),
            ],
        )
        .unwrap_err();
        let codes: Vec<_> = problems.iter().map(|(i, p)| (*i, p.code())).collect();
        assert_eq!(
            codes,
            vec![
                (0, "staff_role_department_required"),
                (1, "staff_role_outside_scope"),
                (2, "staff_role_department_not_allowed"),
            ]
        );
        assert_eq!(
            check_grants(&admin, &[]).unwrap_err()[0].1,
            GrantProblem::NoRole
        );
        // A catalog administrator cannot grant anything.
        let not_admin = vec![grant(StaffRole::CatalogAdministrator, "330000", None)];
        assert!(
            check_grants(&not_admin, &[grant(StaffRole::WindowClerk, "330106", None)]).is_err()
        );
    }
}
