//! Delegations (授权代办): an organisation's legal representative authorises a person (the
//! agent) for all of its items or for listed ones, between two dates, until revoked.

use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::Row;

use crate::accounts::classify;
use crate::{Db, OrganisationRow, Result, StoreError, from_micros, on_pool, to_micros};

/// A delegation as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegationRow {
    /// Id (UUID v7).
    pub id: String,
    /// Credit code of the organisation.
    pub organisation: String,
    /// Account id of the agent (a person).
    pub agent: String,
    /// Item codes, or `None` for every item.
    pub items: Option<Vec<String>>,
    /// First day of validity.
    pub valid_from: Date,
    /// Last day of validity.
    pub valid_to: Date,
    /// Account id of the person who granted it.
    pub granted_by: String,
    /// When it was granted.
    pub granted_at: Timestamp,
    /// The day from which it is revoked, with the reason and when it was recorded.
    pub revoked: Option<(Date, String, Timestamp)>,
}

/// `SELECT … FROM delegations` followed by `$rest`, as one static string.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, organisation, agent, scope_items, valid_from, valid_to, granted_by, ",
            "granted_at, revoked_on, revoked_reason, revoked_at FROM delegations ",
            $rest
        )
    };
}

fn date(s: &str) -> Result<Date> {
    s.parse()
        .map_err(|e| StoreError::Corrupt(format!("bad date {s:?}: {e}")))
}

fn delegation<R: Row>(row: &R) -> Result<DelegationRow>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let items: Option<String> = row.try_get(3)?;
    let items = items
        .map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()?;
    let valid_from: String = row.try_get(4)?;
    let valid_to: String = row.try_get(5)?;
    let revoked_on: Option<String> = row.try_get(8)?;
    let revoked_reason: Option<String> = row.try_get(9)?;
    let revoked_at: Option<i64> = row.try_get(10)?;
    let revoked = match (revoked_on, revoked_at) {
        (Some(on), Some(at)) => Some((
            date(&on)?,
            revoked_reason.unwrap_or_default(),
            from_micros(at)?,
        )),
        _ => None,
    };
    Ok(DelegationRow {
        id: row.try_get(0)?,
        organisation: row.try_get(1)?,
        agent: row.try_get(2)?,
        items,
        valid_from: date(&valid_from)?,
        valid_to: date(&valid_to)?,
        granted_by: row.try_get(6)?,
        granted_at: from_micros(row.try_get(7)?)?,
        revoked,
    })
}

impl Db {
    /// Stores a new delegation (its `id` must be set by the caller). An unknown organisation or
    /// agent is [`StoreError::UnknownReference`].
    pub async fn insert_delegation(&self, d: &DelegationRow) -> Result<()> {
        let items = d
            .items
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO delegations (id, organisation, agent, scope_items, valid_from, \
                 valid_to, granted_by, granted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&d.id)
            .bind(&d.organisation)
            .bind(&d.agent)
            .bind(&items)
            .bind(d.valid_from.to_string())
            .bind(d.valid_to.to_string())
            .bind(&d.granted_by)
            .bind(to_micros(d.granted_at))
            .execute(pool)
            .await
            .map_err(|e| classify(e, &["id"], "organisation or agent"))?;
        });
        Ok(())
    }

    /// One delegation.
    pub async fn delegation(&self, id: &str) -> Result<Option<DelegationRow>> {
        on_pool!(self, pool => {
            let row = sqlx::query(select!("WHERE id = $1")).bind(id).fetch_optional(pool).await?;
            row.as_ref().map(delegation).transpose()
        })
    }

    /// The delegations of an organisation, newest first.
    pub async fn delegations_of_organisation(
        &self,
        credit_code: &str,
    ) -> Result<Vec<DelegationRow>> {
        on_pool!(self, pool => {
            let rows = sqlx::query(select!("WHERE organisation = $1 ORDER BY granted_at DESC, id DESC"))
                .bind(credit_code).fetch_all(pool).await?;
            rows.iter().map(delegation).collect()
        })
    }

    /// The delegations held by an agent, newest first.
    pub async fn delegations_of_agent(&self, agent: &str) -> Result<Vec<DelegationRow>> {
        on_pool!(self, pool => {
            let rows = sqlx::query(select!("WHERE agent = $1 ORDER BY granted_at DESC, id DESC"))
                .bind(agent).fetch_all(pool).await?;
            rows.iter().map(delegation).collect()
        })
    }

    /// Records a revocation, unless one is already recorded; `false` when it was.
    pub async fn revoke_delegation(
        &self,
        id: &str,
        on: Date,
        reason: &str,
        at: Timestamp,
    ) -> Result<bool> {
        on_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE delegations SET revoked_on = $1, revoked_reason = $2, revoked_at = $3 \
                 WHERE id = $4 AND revoked_at IS NULL",
            )
            .bind(on.to_string())
            .bind(reason)
            .bind(to_micros(at))
            .bind(id)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// The organisations whose legal representative is `person`.
    pub async fn organisations_represented_by(&self, person: &str) -> Result<Vec<OrganisationRow>> {
        const SQL: &str = "SELECT credit_code, name, kind, legal_representative, created_at \
             FROM organisations WHERE legal_representative = $1 ORDER BY credit_code";
        on_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(person).fetch_all(pool).await?;
            rows.iter()
                .map(|row| {
                    Ok(OrganisationRow {
                        credit_code: row.try_get(0)?,
                        name: row.try_get(1)?,
                        kind: row.try_get(2)?,
                        legal_representative: row.try_get(3)?,
                        created_at: from_micros(row.try_get(4)?)?,
                    })
                })
                .collect()
        })
    }
}
