//! Accounts repository: persons (自然人), organisations (法人), staff (工作人员) and the sign-in
//! history.
//!
//! Row types are plain structs. Their `Debug` output masks personal data (the resident ID number
//! shows its first 6 and last 4 characters, the phone its first 3 and last 4 digits) and hides
//! password hashes and TOTP secrets, so a row can be logged by accident without leaking them.
//!
//! Unique values already taken are reported as [`StoreError::Conflict`] with the names of the
//! columns, and references to rows that do not exist as [`StoreError::UnknownReference`], the
//! same way on both backends.
//!
//! Multi-statement writes go through `begin_write()`; single-statement writes (recording a
//! sign-in, changing a password hash or a level) run as one autocommitted statement, which both
//! backends apply atomically without a lock shared by every writer.

use std::fmt;

use jiff::Timestamp;
use onetrip_domain::identity::{AccountKind, AssuranceLevel, Failures, RoleGrant};
use sqlx::Row;

use crate::{BeginWrite, Db, Result, StoreError, from_micros, on_pool, to_micros};

/// The unique keys a person is looked up by.
#[derive(Debug, Clone, Copy)]
enum PersonKey {
    Id,
    ResidentId,
    Phone,
}

/// A person account as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct PersonRow {
    /// Account id (UUID v7).
    pub id: String,
    /// The full resident ID number. Personal data: never log it.
    pub resident_id: String,
    /// Name.
    pub name: String,
    /// Mobile phone number, 11 digits.
    pub phone: String,
    /// Optional email address.
    pub email: Option<String>,
    /// Assurance level.
    pub assurance_level: AssuranceLevel,
    /// Argon2id PHC string, when the person has set a password.
    pub password_hash: Option<String>,
    /// When the account was created.
    pub created_at: Timestamp,
}

/// A new person account, before the store gives it an id.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPerson {
    /// The full resident ID number. Personal data: never log it.
    pub resident_id: String,
    /// Name.
    pub name: String,
    /// Mobile phone number, 11 digits.
    pub phone: String,
    /// Optional email address.
    pub email: Option<String>,
    /// Assurance level.
    pub assurance_level: AssuranceLevel,
    /// Argon2id PHC string, if any.
    pub password_hash: Option<String>,
}

/// Masks all but the first `head` and last `tail` characters.
pub(crate) fn mask(value: &str, head: usize, tail: usize) -> String {
    let n = value.chars().count();
    if n <= head + tail {
        return "*".repeat(n);
    }
    value
        .chars()
        .enumerate()
        .map(|(i, c)| if i < head || i >= n - tail { c } else { '*' })
        .collect()
}

/// What `Debug` shows of a secret.
fn secret(value: Option<&String>) -> &'static str {
    if value.is_some() { "<set>" } else { "<none>" }
}

impl fmt::Debug for PersonRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersonRow")
            .field("id", &self.id)
            .field("resident_id", &mask(&self.resident_id, 6, 4))
            .field("name", &self.name)
            .field("phone", &mask(&self.phone, 3, 4))
            .field("email", &self.email.as_ref().map(|_| "<set>"))
            .field("assurance_level", &self.assurance_level)
            .field("password_hash", &secret(self.password_hash.as_ref()))
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl fmt::Debug for NewPerson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewPerson")
            .field("resident_id", &mask(&self.resident_id, 6, 4))
            .field("name", &self.name)
            .field("phone", &mask(&self.phone, 3, 4))
            .field("email", &self.email.as_ref().map(|_| "<set>"))
            .field("assurance_level", &self.assurance_level)
            .field("password_hash", &secret(self.password_hash.as_ref()))
            .finish()
    }
}

/// An organisation account as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationRow {
    /// Unified social credit code (primary key).
    pub credit_code: String,
    /// Name.
    pub name: String,
    /// Kind of organisation (enterprise, social organisation…), as text.
    pub kind: String,
    /// Account id of the legal representative (a person).
    pub legal_representative: String,
    /// When the account was created.
    pub created_at: Timestamp,
}

/// A staff account as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct StaffRow {
    /// Account id (UUID v7).
    pub id: String,
    /// Sign-in name, unique.
    pub username: String,
    /// Name.
    pub name: String,
    /// Credit code of the department.
    pub department_code: String,
    /// Division the member of staff works in.
    pub division_code: String,
    /// Role grants, each with its scope.
    pub roles: Vec<RoleGrant>,
    /// Argon2id PHC string, when set.
    pub password_hash: Option<String>,
    /// TOTP secret (base32), when enrolled.
    pub totp_secret: Option<String>,
    /// The last TOTP step accepted (replay protection).
    pub totp_last_step: Option<i64>,
    /// Whether the account is disabled.
    pub disabled: bool,
    /// When the account was created.
    pub created_at: Timestamp,
}

/// A new staff account, before the store gives it an id.
#[derive(Clone, PartialEq, Eq)]
pub struct NewStaff {
    /// Sign-in name, unique.
    pub username: String,
    /// Name.
    pub name: String,
    /// Credit code of the department.
    pub department_code: String,
    /// Division the member of staff works in.
    pub division_code: String,
    /// Role grants, each with its scope.
    pub roles: Vec<RoleGrant>,
    /// Argon2id PHC string, if any.
    pub password_hash: Option<String>,
    /// TOTP secret, if enrolled.
    pub totp_secret: Option<String>,
}

impl fmt::Debug for StaffRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaffRow")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("name", &self.name)
            .field("department_code", &self.department_code)
            .field("division_code", &self.division_code)
            .field("roles", &self.roles)
            .field("password_hash", &secret(self.password_hash.as_ref()))
            .field("totp_secret", &secret(self.totp_secret.as_ref()))
            .field("totp_last_step", &self.totp_last_step)
            .field("disabled", &self.disabled)
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl fmt::Debug for NewStaff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewStaff")
            .field("username", &self.username)
            .field("name", &self.name)
            .field("department_code", &self.department_code)
            .field("division_code", &self.division_code)
            .field("roles", &self.roles)
            .field("password_hash", &secret(self.password_hash.as_ref()))
            .field("totp_secret", &secret(self.totp_secret.as_ref()))
            .finish()
    }
}

/// One authentication event (a sign-in attempt, an OTP issued, a step-up, a role change, a
/// delegation granted or revoked…): the audit log, of which the sign-in history is a view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthEvent {
    /// Event id (UUID v7); empty when recording (the store assigns it).
    pub id: String,
    /// What happened: `sign_in`, `otp_issued`, `step_up`, `sign_out`, `role_change`, …
    pub kind: String,
    /// Which population the account belongs to.
    pub account_kind: AccountKind,
    /// The account concerned, or `None` when the attempt named no known account.
    pub account_id: Option<String>,
    /// Digest of the login name typed, for throttling (sign-in attempts only).
    pub login_digest: Option<String>,
    /// Method (`password`, `sms`, `totp`, `partner`…) or, for other events, a short qualifier.
    pub method: String,
    /// Whether the attempt succeeded.
    pub succeeded: bool,
    /// When it happened.
    pub at: Timestamp,
    /// Client IP address, when known.
    pub ip: Option<String>,
    /// Further facts as JSON (who acted, which role or delegation…); never personal data.
    pub detail: Option<String>,
}

impl AuthEvent {
    /// An event of `kind` for an account, succeeded, with no login digest, IP or detail.
    pub fn new(
        kind: &str,
        account_kind: AccountKind,
        account_id: Option<&str>,
        at: Timestamp,
    ) -> Self {
        AuthEvent {
            id: String::new(),
            kind: kind.to_owned(),
            account_kind,
            account_id: account_id.map(str::to_owned),
            login_digest: None,
            method: String::new(),
            succeeded: true,
            at,
            ip: None,
            detail: None,
        }
    }
}

fn level_str(level: AssuranceLevel) -> &'static str {
    match level {
        AssuranceLevel::L1 => "L1",
        AssuranceLevel::L2 => "L2",
        AssuranceLevel::L3 => "L3",
    }
}

fn parse_level(s: &str) -> Result<AssuranceLevel> {
    AssuranceLevel::ALL
        .into_iter()
        .find(|l| level_str(*l) == s)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown assurance level {s:?}")))
}

fn kind_str(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::Citizen => "citizen",
        AccountKind::Staff => "staff",
    }
}

fn parse_kind(s: &str) -> Result<AccountKind> {
    match s {
        "citizen" => Ok(AccountKind::Citizen),
        "staff" => Ok(AccountKind::Staff),
        _ => Err(StoreError::Corrupt(format!("unknown account kind {s:?}"))),
    }
}

/// `SELECT <every column> FROM auth_events ` followed by `$rest`, as one static string.
macro_rules! select_events {
    ($rest:literal) => {
        concat!(
            "SELECT id, account_kind, account_id, method, succeeded, at, ip, kind, ",
            "login_digest, detail FROM auth_events ",
            $rest
        )
    };
}

/// A new time-ordered id.
fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Turns a database error into [`StoreError::Conflict`] or [`StoreError::UnknownReference`]
/// when it is a unique or foreign-key violation; `columns` are the unique columns of the table
/// (the first one is reported when the message names none of them).
pub(crate) fn classify(
    e: sqlx::Error,
    columns: &[&'static str],
    reference: &'static str,
) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            // SQLite: "UNIQUE constraint failed: persons.phone"; PostgreSQL: constraint
            // "persons_phone_key" / "persons_pkey".
            let text = format!("{} {}", db.message(), db.constraint().unwrap_or_default());
            let found: Vec<&'static str> = columns
                .iter()
                .copied()
                .filter(|c| text.contains(c))
                .collect();
            return StoreError::Conflict(if found.is_empty() {
                columns.iter().take(1).copied().collect()
            } else {
                found
            });
        }
        if db.is_foreign_key_violation() {
            return StoreError::UnknownReference(reference);
        }
    }
    StoreError::Database(e)
}

fn person<R: Row>(row: &R) -> Result<PersonRow>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let level: String = row.try_get(5)?;
    Ok(PersonRow {
        id: row.try_get(0)?,
        resident_id: row.try_get(1)?,
        name: row.try_get(2)?,
        phone: row.try_get(3)?,
        email: row.try_get(4)?,
        assurance_level: parse_level(&level)?,
        password_hash: row.try_get(6)?,
        created_at: from_micros(row.try_get(7)?)?,
    })
}

fn organisation<R: Row>(row: &R) -> Result<OrganisationRow>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    Ok(OrganisationRow {
        credit_code: row.try_get(0)?,
        name: row.try_get(1)?,
        kind: row.try_get(2)?,
        legal_representative: row.try_get(3)?,
        created_at: from_micros(row.try_get(4)?)?,
    })
}

fn staff<R: Row>(row: &R) -> Result<StaffRow>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let roles: String = row.try_get(4)?;
    let disabled: i64 = row.try_get(10)?;
    Ok(StaffRow {
        id: row.try_get(0)?,
        username: row.try_get(1)?,
        name: row.try_get(2)?,
        department_code: row.try_get(3)?,
        roles: serde_json::from_str(&roles).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        password_hash: row.try_get(5)?,
        totp_secret: row.try_get(6)?,
        created_at: from_micros(row.try_get(7)?)?,
        division_code: row.try_get(8)?,
        totp_last_step: row.try_get(9)?,
        disabled: disabled != 0,
    })
}

fn auth_event<R: Row>(row: &R) -> Result<AuthEvent>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let kind: String = row.try_get(1)?;
    let succeeded: i64 = row.try_get(4)?;
    Ok(AuthEvent {
        id: row.try_get(0)?,
        account_kind: parse_kind(&kind)?,
        account_id: row.try_get(2)?,
        method: row.try_get(3)?,
        succeeded: succeeded != 0,
        at: from_micros(row.try_get(5)?)?,
        ip: row.try_get(6)?,
        kind: row.try_get(7)?,
        login_digest: row.try_get(8)?,
        detail: row.try_get(9)?,
    })
}

impl Db {
    /// Creates a person account and returns its id. When the resident ID number or the phone
    /// is already registered, nothing is written and [`StoreError::Conflict`] lists every
    /// taken column (`resident_id`, `phone`).
    pub async fn insert_person(&self, new: &NewPerson, now: Timestamp) -> Result<String> {
        const COLUMNS: &[&str] = &["resident_id", "phone", "id"];
        let id = new_id();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write(self.write_gate()).await?;
            let mut taken = Vec::new();
            let by_id = sqlx::query("SELECT 1 FROM persons WHERE resident_id = $1")
                .bind(&new.resident_id)
                .fetch_optional(&mut *tx)
                .await?;
            if by_id.is_some() {
                taken.push("resident_id");
            }
            let by_phone = sqlx::query("SELECT 1 FROM persons WHERE phone = $1")
                .bind(&new.phone)
                .fetch_optional(&mut *tx)
                .await?;
            if by_phone.is_some() {
                taken.push("phone");
            }
            if !taken.is_empty() {
                return Err(StoreError::Conflict(taken));
            }
            sqlx::query(
                "INSERT INTO persons (id, resident_id, name, phone, email, assurance_level, \
                 password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&id)
            .bind(&new.resident_id)
            .bind(&new.name)
            .bind(&new.phone)
            .bind(&new.email)
            .bind(level_str(new.assurance_level))
            .bind(&new.password_hash)
            .bind(to_micros(now))
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(e, COLUMNS, "person"))?;
            tx.commit().await?;
        });
        Ok(id)
    }

    /// A person by account id.
    pub async fn person_by_id(&self, id: &str) -> Result<Option<PersonRow>> {
        self.person_where(PersonKey::Id, id).await
    }

    /// A person by full resident ID number.
    pub async fn person_by_resident_id(&self, resident_id: &str) -> Result<Option<PersonRow>> {
        self.person_where(PersonKey::ResidentId, resident_id).await
    }

    /// A person by mobile phone number.
    pub async fn person_by_phone(&self, phone: &str) -> Result<Option<PersonRow>> {
        self.person_where(PersonKey::Phone, phone).await
    }

    async fn person_where(&self, key: PersonKey, value: &str) -> Result<Option<PersonRow>> {
        // One static statement per key (sqlx wants static SQL); the columns are the same.
        let sql: &'static str = match key {
            PersonKey::Id => {
                "SELECT id, resident_id, name, phone, email, assurance_level, password_hash, \
                 created_at FROM persons WHERE id = $1"
            }
            PersonKey::ResidentId => {
                "SELECT id, resident_id, name, phone, email, assurance_level, password_hash, \
                 created_at FROM persons WHERE resident_id = $1"
            }
            PersonKey::Phone => {
                "SELECT id, resident_id, name, phone, email, assurance_level, password_hash, \
                 created_at FROM persons WHERE phone = $1"
            }
        };
        on_pool!(self, pool => {
            let row = sqlx::query(sql).bind(value).fetch_optional(pool).await?;
            row.as_ref().map(person).transpose()
        })
    }

    /// Sets (or clears) a person's password hash; returns whether the person exists.
    pub async fn set_person_password_hash(&self, id: &str, hash: Option<&str>) -> Result<bool> {
        on_pool!(self, pool => {
            let done = sqlx::query("UPDATE persons SET password_hash = $1 WHERE id = $2")
                .bind(hash)
                .bind(id)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// Sets a person's assurance level; returns whether the person exists.
    pub async fn set_assurance_level(&self, id: &str, level: AssuranceLevel) -> Result<bool> {
        on_pool!(self, pool => {
            let done = sqlx::query("UPDATE persons SET assurance_level = $1 WHERE id = $2")
                .bind(level_str(level))
                .bind(id)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// Creates an organisation account. A taken credit code is [`StoreError::Conflict`]
    /// (`credit_code`); a legal representative that is no person is
    /// [`StoreError::UnknownReference`] (`person`).
    pub async fn insert_organisation(&self, org: &OrganisationRow) -> Result<()> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write(self.write_gate()).await?;
            sqlx::query(
                "INSERT INTO organisations (credit_code, name, kind, legal_representative, \
                 created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&org.credit_code)
            .bind(&org.name)
            .bind(&org.kind)
            .bind(&org.legal_representative)
            .bind(to_micros(org.created_at))
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(e, &["credit_code"], "person"))?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// An organisation by credit code.
    pub async fn organisation(&self, credit_code: &str) -> Result<Option<OrganisationRow>> {
        const SQL: &str = "SELECT credit_code, name, kind, legal_representative, created_at \
             FROM organisations WHERE credit_code = $1";
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(credit_code).fetch_optional(pool).await?;
            row.as_ref().map(organisation).transpose()
        })
    }

    /// Creates a staff account and returns its id. A taken username is
    /// [`StoreError::Conflict`] (`username`); an unknown department is
    /// [`StoreError::UnknownReference`] (`department`).
    pub async fn insert_staff(&self, new: &NewStaff, now: Timestamp) -> Result<String> {
        let id = new_id();
        let roles =
            serde_json::to_string(&new.roles).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        on_pool!(self, pool => {
            let mut tx = pool.begin_write(self.write_gate()).await?;
            sqlx::query(
                "INSERT INTO staff (id, username, name, department_code, roles, password_hash, \
                 totp_secret, created_at, division_code) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&id)
            .bind(&new.username)
            .bind(&new.name)
            .bind(&new.department_code)
            .bind(&roles)
            .bind(&new.password_hash)
            .bind(&new.totp_secret)
            .bind(to_micros(now))
            .bind(&new.division_code)
            .execute(&mut *tx)
            .await
            .map_err(|e| classify(e, &["username", "id"], "department"))?;
            tx.commit().await?;
        });
        Ok(id)
    }

    /// A staff account by username.
    pub async fn staff_by_username(&self, username: &str) -> Result<Option<StaffRow>> {
        const SQL: &str = "SELECT id, username, name, department_code, roles, password_hash, \
             totp_secret, created_at, division_code, totp_last_step, disabled FROM staff \
             WHERE username = $1";
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(username).fetch_optional(pool).await?;
            row.as_ref().map(staff).transpose()
        })
    }

    /// A staff account by id.
    pub async fn staff_by_id(&self, id: &str) -> Result<Option<StaffRow>> {
        const SQL: &str = "SELECT id, username, name, department_code, roles, password_hash, \
             totp_secret, created_at, division_code, totp_last_step, disabled FROM staff \
             WHERE id = $1";
        on_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(id).fetch_optional(pool).await?;
            row.as_ref().map(staff).transpose()
        })
    }

    /// Every staff account, by username.
    pub async fn list_staff(&self) -> Result<Vec<StaffRow>> {
        const SQL: &str = "SELECT id, username, name, department_code, roles, password_hash, \
             totp_secret, created_at, division_code, totp_last_step, disabled FROM staff \
             ORDER BY username";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).fetch_all(pool).await?;
            rows.iter().map(staff).collect()
        })
    }

    /// Replaces the role grants of a member of staff; `false` when there is no such account.
    pub async fn set_staff_roles(&self, id: &str, roles: &[RoleGrant]) -> Result<bool> {
        let roles = serde_json::to_string(roles).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        on_pool!(self, pool => {
            let done = sqlx::query("UPDATE staff SET roles = $1 WHERE id = $2")
                .bind(&roles)
                .bind(id)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Sets (or clears) the TOTP secret of a member of staff and forgets the last used step.
    pub async fn set_staff_totp(&self, id: &str, secret: Option<&str>) -> Result<bool> {
        on_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE staff SET totp_secret = $1, totp_last_step = NULL WHERE id = $2",
            )
            .bind(secret)
            .bind(id)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Records the TOTP step just accepted, only if it is later than the last one: `false` when
    /// a concurrent sign-in already used this step or a later one (a replay).
    pub async fn advance_staff_totp_step(&self, id: &str, step: i64) -> Result<bool> {
        on_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE staff SET totp_last_step = $1 WHERE id = $2 \
                 AND (totp_last_step IS NULL OR totp_last_step < $1)",
            )
            .bind(step)
            .bind(id)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Sets the password hash of a member of staff.
    pub async fn set_staff_password_hash(&self, id: &str, hash: &str) -> Result<bool> {
        on_pool!(self, pool => {
            let done = sqlx::query("UPDATE staff SET password_hash = $1 WHERE id = $2")
                .bind(hash)
                .bind(id)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Enables or disables a staff account.
    pub async fn set_staff_disabled(&self, id: &str, disabled: bool) -> Result<bool> {
        on_pool!(self, pool => {
            let done = sqlx::query("UPDATE staff SET disabled = $1 WHERE id = $2")
                .bind(i64::from(disabled))
                .bind(id)
                .execute(pool)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Records one authentication event (its `id` is ignored and assigned here); returns the id.
    pub async fn record_auth_event(&self, event: &AuthEvent) -> Result<String> {
        let id = new_id();
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO auth_events (id, account_kind, account_id, method, succeeded, at, ip, \
                 kind, login_digest, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&id)
            .bind(kind_str(event.account_kind))
            .bind(&event.account_id)
            .bind(&event.method)
            .bind(i64::from(event.succeeded))
            .bind(to_micros(event.at))
            .bind(&event.ip)
            .bind(&event.kind)
            .bind(&event.login_digest)
            .bind(&event.detail)
            .execute(pool)
            .await?;
        });
        Ok(id)
    }

    /// The latest `limit` sign-in attempts of an account, newest first.
    pub async fn recent_sign_ins(&self, account_id: &str, limit: i64) -> Result<Vec<AuthEvent>> {
        self.auth_events_where(
            select_events!(
                "WHERE account_id = $1 AND kind = 'sign_in' ORDER BY at DESC, id DESC LIMIT $2"
            ),
            account_id,
            limit,
        )
        .await
    }

    /// The latest `limit` authentication events of an account (every kind), newest first.
    pub async fn recent_auth_events(&self, account_id: &str, limit: i64) -> Result<Vec<AuthEvent>> {
        self.auth_events_where(
            select_events!("WHERE account_id = $1 ORDER BY at DESC, id DESC LIMIT $2"),
            account_id,
            limit,
        )
        .await
    }

    /// The latest `limit` authentication events recorded with `method` (e.g. `partner:js`),
    /// whatever the account (failed partner sign-ins name none), newest first. An audit query:
    /// it reads the events of one method, not of one account.
    pub async fn recent_auth_events_by_method(
        &self,
        method: &str,
        limit: i64,
    ) -> Result<Vec<AuthEvent>> {
        self.auth_events_where(
            select_events!("WHERE method = $1 ORDER BY at DESC, id DESC LIMIT $2"),
            method,
            limit,
        )
        .await
    }

    /// The events of one query of the shape `… WHERE <column> = $1 … LIMIT $2`.
    async fn auth_events_where(
        &self,
        sql: &'static str,
        key: &str,
        limit: i64,
    ) -> Result<Vec<AuthEvent>> {
        on_pool!(self, pool => {
            let rows = sqlx::query(sql)
                .bind(key)
                .bind(limit.max(0))
                .fetch_all(pool)
                .await?;
            rows.iter().map(auth_event).collect()
        })
    }

    /// Failed sign-ins since `since` for a login name (by digest) and from an IP address.
    pub async fn sign_in_failures(
        &self,
        login_digest: &str,
        ip: Option<&str>,
        since: Timestamp,
    ) -> Result<(Failures, Failures)> {
        const BY_LOGIN: &str = "SELECT COUNT(*), MAX(at) FROM auth_events WHERE login_digest = $1 \
             AND at >= $2 AND kind = 'sign_in' AND succeeded = 0";
        const BY_IP: &str = "SELECT COUNT(*), MAX(at) FROM auth_events WHERE ip = $1 \
             AND at >= $2 AND kind = 'sign_in' AND succeeded = 0";
        let since = to_micros(since);
        on_pool!(self, pool => {
            let row = sqlx::query(BY_LOGIN).bind(login_digest).bind(since).fetch_one(pool).await?;
            let login = failures(row.try_get(0)?, row.try_get(1)?)?;
            let ip = match ip {
                Some(ip) => {
                    let row = sqlx::query(BY_IP).bind(ip).bind(since).fetch_one(pool).await?;
                    failures(row.try_get(0)?, row.try_get(1)?)?
                }
                None => Failures::default(),
            };
            Ok((login, ip))
        })
    }
}

fn failures(count: i64, latest: Option<i64>) -> Result<Failures> {
    Ok(Failures {
        count: u32::try_from(count).unwrap_or(u32::MAX),
        latest: latest.map(from_micros).transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn masks_personal_data() {
        assert_eq!(mask("11010519491231002X", 6, 4), "110105********002X");
        assert_eq!(mask("13800138000", 3, 4), "138****8000");
        assert_eq!(mask("123", 3, 4), "***");
    }
}
