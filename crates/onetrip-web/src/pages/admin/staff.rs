//! Staff and roles (工作人员管理), for system administrators: the list of staff accounts, a
//! new account (its initial password shown once), and one account's roles, disabling and
//! authenticator reset, through the same use cases as `/api/v1/staff*`, which also decide
//! what lies within the administrator's own scope.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use onetrip_app::staff::NewStaffInput;
use onetrip_domain::Localized;
use onetrip_domain::identifiers::DivisionCode;
use onetrip_domain::identity::{AccountId, RoleGrant, StaffRole};
use onetrip_store::StaffRow;
use secrecy::ExposeSecret;
use serde::Deserialize;
use tower_sessions::Session;

use super::{Field, FieldProblem, field_problems, is_input_problem};
use crate::Shared;
use crate::api::accounts::CurrentActor;
use crate::api::staff::granter;
use crate::extract::{Path, Query};
use crate::pages::{Page, check_csrf, first, form_pairs, ok, render};
use crate::problem::ApiError;

/// A role of the role select.
pub struct RoleChoice {
    /// Posted value (snake_case).
    pub value: String,
    /// Name in the page's language.
    pub label: String,
    /// Chosen.
    pub selected: bool,
}

fn role_value(role: StaffRole) -> String {
    serde_json::to_value(role)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn role_label(page: &Page, role: StaffRole) -> String {
    if page.en {
        role.label_en().to_string()
    } else {
        role.label_zh().to_string()
    }
}

fn role_choices(page: &Page, chosen: &str) -> Vec<RoleChoice> {
    StaffRole::ALL
        .iter()
        .map(|r| RoleChoice {
            value: role_value(*r),
            label: role_label(page, *r),
            selected: role_value(*r) == chosen,
        })
        .collect()
}

fn grant_text(page: &Page, g: &RoleGrant) -> String {
    match &g.department {
        Some(d) => format!(
            "{} · {} · {d}",
            role_label(page, g.role),
            g.division.as_str()
        ),
        None => format!("{} · {}", role_label(page, g.role), g.division.as_str()),
    }
}

/// A member of staff as listed.
pub struct StaffLine {
    /// Id.
    pub id: String,
    /// Sign-in name.
    pub username: String,
    /// Name.
    pub name: String,
    /// Department and division.
    pub place: String,
    /// Roles, as text.
    pub roles: Vec<String>,
    /// Authenticator enrolled.
    pub totp: bool,
    /// Disabled.
    pub disabled: bool,
}

/// The fields of a new role grant, as typed.
#[derive(Debug, Clone, Default)]
pub struct GrantFields {
    /// Role (snake_case).
    pub role: String,
    /// Division code.
    pub division: String,
    /// Department credit code, for department roles.
    pub department: String,
}

/// The new-account form, as typed.
#[derive(Debug, Clone, Default)]
pub struct NewFields {
    /// Sign-in name.
    pub username: Field,
    /// Name.
    pub name: Field,
    /// Department.
    pub department_code: Field,
    /// Division.
    pub division_code: Field,
    /// The one role granted at creation.
    pub grant: GrantFields,
}

impl NewFields {
    fn empty() -> NewFields {
        let f = |name: &str| Field::new(name.to_string(), "");
        NewFields {
            username: f("username"),
            name: f("name"),
            department_code: f("department_code"),
            division_code: f("division_code"),
            grant: GrantFields::default(),
        }
    }
}

/// Problems by input id.
#[derive(Debug, Clone, Default)]
pub struct Problems(Vec<(String, String)>);

impl Problems {
    /// The problem of input `id`.
    pub fn of(&self, id: &str) -> Option<String> {
        let found: Vec<&str> = self
            .0
            .iter()
            .filter(|(k, _)| k == id)
            .map(|(_, m)| m.as_str())
            .collect();
        (!found.is_empty()).then(|| found.join(" "))
    }
}

#[derive(Template)]
#[template(path = "pages/admin/staff.html")]
struct ListPage {
    page: Page,
    staff: Vec<StaffLine>,
    new: NewFields,
    roles: Vec<RoleChoice>,
    errors: Vec<(String, String)>,
    problems: Problems,
    /// The account just created and its initial password.
    created: Option<(String, String)>,
}

async fn staff_lines(state: &Shared, page: &Page) -> Result<Vec<StaffLine>, ApiError> {
    let rows = state
        .app
        .db
        .list_staff()
        .await
        .map_err(onetrip_app::AppError::from)?;
    Ok(rows
        .into_iter()
        .map(|r| StaffLine {
            roles: r.roles.iter().map(|g| grant_text(page, g)).collect(),
            place: format!("{} · {}", r.department_code, r.division_code),
            totp: r.totp_secret.is_some(),
            disabled: r.disabled,
            id: r.id,
            username: r.username,
            name: r.name,
        })
        .collect())
}

/// `GET /admin/staff`: every member of staff, and the form of a new one.
pub async fn list(State(state): State<Shared>, page: Page) -> Result<Response, ApiError> {
    let staff = staff_lines(&state, &page).await?;
    let roles = role_choices(&page, "");
    Ok(ok(&ListPage {
        page,
        staff,
        new: NewFields::empty(),
        roles,
        errors: Vec::new(),
        problems: Problems::default(),
        created: None,
    }))
}

/// A grant from its typed fields, or the problems (by input id, under `prefix`).
fn grant(
    page: &Page,
    prefix: &str,
    fields: &GrantFields,
) -> Result<RoleGrant, Vec<(String, String)>> {
    let mut problems = Vec::new();
    let role = StaffRole::ALL
        .into_iter()
        .find(|r| role_value(*r) == fields.role);
    if role.is_none() {
        problems.push((format!("{prefix}role"), page.t("admin-staff-choose-role")));
    }
    let division = match DivisionCode::parse(fields.division.trim()) {
        Ok(d) => Some(d),
        Err(e) => {
            let message = if page.en {
                e.message_en()
            } else {
                e.message_zh()
            };
            problems.push((format!("{prefix}division"), message));
            None
        }
    };
    match (role, division) {
        (Some(role), Some(division)) if problems.is_empty() => Ok(RoleGrant {
            role,
            division,
            department: Some(fields.department.trim().to_string()).filter(|d| !d.is_empty()),
        }),
        _ => Err(problems),
    }
}

/// The problems of a refused use case by input id: `roles[i]` goes to the grant fields
/// (`role_input` names them), others to the input of the same name.
fn by_input(
    problems: Vec<FieldProblem>,
    role_input: impl Fn(&str) -> String,
) -> Vec<(String, String)> {
    problems
        .into_iter()
        .map(|p| {
            let id = if p.path.starts_with("roles") {
                role_input(&p.path)
            } else if p.path.is_empty() {
                "staff_problems".to_string()
            } else {
                p.path
            };
            (id, p.message)
        })
        .collect()
}

/// `POST /admin/staff`: creates a member of staff and shows their initial password once.
pub async fn create(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    CurrentActor(actor): CurrentActor,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let pairs = form_pairs(&body);
    check_csrf(&session, first(&pairs, "csrf_token")).await?;
    let value = |name: &str| first(&pairs, name).unwrap_or_default().trim().to_string();
    let typed = |name: &str| Field::new(name.to_string(), value(name));
    let mut new = NewFields {
        username: typed("username"),
        name: typed("name"),
        department_code: typed("department_code"),
        division_code: typed("division_code"),
        grant: GrantFields {
            role: value("role"),
            division: value("role_division"),
            department: value("role_department"),
        },
    };
    let problems = match grant(&page, "role_", &new.grant) {
        Err(problems) => problems,
        Ok(g) => {
            let input = NewStaffInput {
                username: new.username.value.clone(),
                name: new.name.value.clone(),
                department_code: new.department_code.value.clone(),
                division_code: new.division_code.value.clone(),
                roles: vec![g],
            };
            match state
                .app
                .create_staff(&granter(&actor)?, input, Timestamp::now())
                .await
            {
                Ok(created) => {
                    let staff = staff_lines(&state, &page).await?;
                    let roles = role_choices(&page, "");
                    return Ok(ok(&ListPage {
                        page,
                        staff,
                        new: NewFields::empty(),
                        roles,
                        errors: Vec::new(),
                        problems: Problems::default(),
                        created: Some((
                            new.username.value.to_lowercase(),
                            created.initial_password.expose_secret().to_string(),
                        )),
                    }));
                }
                Err(e) => {
                    let e = ApiError::from(e);
                    if !is_input_problem(&e) {
                        return Err(e);
                    }
                    by_input(field_problems(&page, &e), |_| "role".to_string())
                }
            }
        }
    };
    let problems = Problems(problems);
    for f in [
        &mut new.username,
        &mut new.name,
        &mut new.department_code,
        &mut new.division_code,
    ] {
        f.error = problems.of(&f.id);
    }
    let staff = staff_lines(&state, &page).await?;
    let roles = role_choices(&page, &new.grant.role);
    Ok(render(
        &ListPage {
            page,
            staff,
            new,
            roles,
            errors: problems.0.clone(),
            problems,
            created: None,
        },
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

/// A role grant of the account page, with its remove box.
pub struct GrantLine {
    /// Index in the list.
    pub index: usize,
    /// As text.
    pub text: String,
    /// Role.
    pub role: String,
    /// Division.
    pub division: String,
    /// Department.
    pub department: String,
}

#[derive(Template)]
#[template(path = "pages/admin/staff_member.html")]
struct MemberPage {
    page: Page,
    id: String,
    username: String,
    name: String,
    place: String,
    totp: bool,
    disabled: bool,
    grants: Vec<GrantLine>,
    add: GrantFields,
    roles: Vec<RoleChoice>,
    done: Option<String>,
    errors: Vec<(String, String)>,
    problems: Problems,
}

/// Query of the account page.
#[derive(Debug, Deserialize)]
pub struct MemberQuery {
    /// What was just done: `roles`, `disabled`, `enabled` or `totp`.
    pub done: Option<String>,
}

async fn member(state: &Shared, id: &str) -> Result<StaffRow, ApiError> {
    state
        .app
        .db
        .staff_by_id(id)
        .await
        .map_err(onetrip_app::AppError::from)?
        .ok_or_else(|| {
            onetrip_app::AppError::NotFound {
                kind: "staff",
                key: id.to_string(),
            }
            .into()
        })
}

fn member_page(page: Page, row: StaffRow, add: GrantFields) -> MemberPage {
    let grants = row
        .roles
        .iter()
        .enumerate()
        .map(|(index, g)| GrantLine {
            index,
            text: grant_text(&page, g),
            role: role_value(g.role),
            division: g.division.as_str().to_string(),
            department: g.department.clone().unwrap_or_default(),
        })
        .collect();
    let roles = role_choices(&page, &add.role);
    MemberPage {
        page,
        place: format!("{} · {}", row.department_code, row.division_code),
        id: row.id,
        username: row.username,
        name: row.name,
        totp: row.totp_secret.is_some(),
        disabled: row.disabled,
        grants,
        add,
        roles,
        done: None,
        errors: Vec::new(),
        problems: Problems::default(),
    }
}

/// `GET /admin/staff/{id}`: one member of staff: roles, disabling, authenticator reset.
pub async fn member_view(
    State(state): State<Shared>,
    page: Page,
    Path(id): Path<String>,
    Query(q): Query<MemberQuery>,
) -> Result<Response, ApiError> {
    let row = member(&state, &id).await?;
    let mut view = member_page(page, row, GrantFields::default());
    view.done = q
        .done
        .filter(|d| ["roles", "disabled", "enabled", "totp"].contains(&d.as_str()));
    Ok(ok(&view))
}

/// `POST /admin/staff/{id}/roles`: keeps the grants not ticked for removal and adds the one
/// typed, replacing the member's grants.
pub async fn set_roles(
    State(state): State<Shared>,
    page: Page,
    session: Session,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let pairs = form_pairs(&body);
    check_csrf(&session, first(&pairs, "csrf_token")).await?;
    let row = member(&state, &id).await?;
    let removed: Vec<usize> = pairs
        .iter()
        .filter(|(k, _)| k == "remove")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let mut roles: Vec<RoleGrant> = row
        .roles
        .iter()
        .enumerate()
        .filter(|(i, _)| !removed.contains(i))
        .map(|(_, g)| g.clone())
        .collect();
    let value = |name: &str| first(&pairs, name).unwrap_or_default().trim().to_string();
    let add = GrantFields {
        role: value("role"),
        division: value("role_division"),
        department: value("role_department"),
    };
    let adding = !(add.role.is_empty() && add.division.is_empty() && add.department.is_empty());
    let mut problems = Vec::new();
    if adding {
        match grant(&page, "role_", &add) {
            Ok(g) => roles.push(g),
            Err(p) => problems = p,
        }
    }
    if problems.is_empty() {
        let kept = roles.len() - usize::from(adding);
        match state
            .app
            .set_staff_roles(
                &granter(&actor)?,
                &AccountId::new(id.clone()),
                roles,
                Timestamp::now(),
            )
            .await
        {
            Ok(()) => {
                return Ok(Redirect::to(&format!("/admin/staff/{id}?done=roles")).into_response());
            }
            Err(e) => {
                let e = ApiError::from(e);
                if !is_input_problem(&e) {
                    return Err(e);
                }
                // The added grant is the last; problems with kept ones go to the list.
                let added = format!("roles[{kept}]");
                problems = by_input(field_problems(&page, &e), |path| {
                    if adding && path == added {
                        "role".to_string()
                    } else {
                        "staff_roles".to_string()
                    }
                });
            }
        }
    }
    let mut view = member_page(page, row, add);
    view.errors = problems.clone();
    view.problems = Problems(problems);
    Ok(render(&view, StatusCode::UNPROCESSABLE_ENTITY))
}

/// `POST /admin/staff/{id}/disabled`: disables (`disabled=1`) or enables the account.
pub async fn set_disabled(
    State(state): State<Shared>,
    session: Session,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let pairs = form_pairs(&body);
    check_csrf(&session, first(&pairs, "csrf_token")).await?;
    let disabled = first(&pairs, "disabled") == Some("1");
    state
        .app
        .set_staff_disabled(
            &granter(&actor)?,
            &AccountId::new(id.clone()),
            disabled,
            Timestamp::now(),
        )
        .await?;
    let done = if disabled { "disabled" } else { "enabled" };
    Ok(Redirect::to(&format!("/admin/staff/{id}?done={done}")).into_response())
}

/// `POST /admin/staff/{id}/totp`: removes the member's authenticator (a lost phone).
pub async fn reset_totp(
    State(state): State<Shared>,
    session: Session,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let pairs = form_pairs(&body);
    check_csrf(&session, first(&pairs, "csrf_token")).await?;
    state
        .app
        .reset_staff_totp(
            &granter(&actor)?,
            &AccountId::new(id.clone()),
            Timestamp::now(),
        )
        .await?;
    Ok(Redirect::to(&format!("/admin/staff/{id}?done=totp")).into_response())
}
