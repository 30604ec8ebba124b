//! Real-name verification (实名核验): raising a person to assurance L2 when their stored
//! resident ID number and name match the population registry (人口库).
//!
//! Decisions:
//! - **The registry** is the `population_registry` table. The full registry comes with the
//!   data-platform issue; until then it holds the demo seed `data/demo/population.json`
//!   ([`DEMO_POPULATION`]), loaded by [`App::load_demo_if_empty`]. That seed is invented
//!   demo data only: none of its persons exist.
//! - **Matching:** the stored resident ID number must name an `active` registry record, and the
//!   names must be equal after trimming and after folding the look-alike separators of minority
//!   names (`•`, `・`, `･`, `‧`, `∙`, `⋅`, `．`) to the middle dot `·` (U+00B7). Nothing else is
//!   folded: a different character is a different name.
//! - **One refusal for every failure:** a wrong name, an ID number the registry does not know
//!   and a record that is not active (deceased, cancelled) all give the same
//!   [`AppError::RealNameMismatch`] (`real_name_mismatch`), whose messages do not say which
//!   part was wrong. Telling them apart would turn this check into an oracle on the registry:
//!   anyone able to register an account could learn whether an ID number exists, which name
//!   belongs to it, or that its holder has died. The level is left unchanged.
//! - **Levels only go up:** a match raises L1 to L2 and leaves L2 and L3 as they are.
//! - **Logs** carry the account id, the masked ID number and the outcome, never the name or the
//!   full ID number.

use jiff::Timestamp;
use onetrip_domain::identifiers::ResidentId;
use onetrip_domain::identity::{AccountId, AssuranceLevel};
use onetrip_store::{PopulationRow, PopulationStatus};
use serde::Deserialize;

use crate::china_today;
use crate::{App, AppError, Result};

/// The demo population registry seed (JSON). Demo data only: every person in it is invented.
pub const DEMO_POPULATION: &str = include_str!("../../../data/demo/population.json");

/// Characters that stand for the middle dot between the parts of a minority name.
const MIDDLE_DOTS: [char; 7] = ['•', '・', '･', '‧', '∙', '⋅', '．'];

/// A name as compared with the registry: trimmed, with every look-alike middle dot as `·`.
pub fn normalize_name(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| if MIDDLE_DOTS.contains(&c) { '·' } else { c })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    persons: Vec<SeedPerson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedPerson {
    resident_id: String,
    name: String,
    #[serde(default = "active")]
    status: String,
}

fn active() -> String {
    PopulationStatus::Active.as_str().to_string()
}

/// Parses a population seed document (`{"persons": [{"resident_id", "name", "status"}]}`).
pub fn parse_population(json: &str) -> Result<Vec<PopulationRow>> {
    let file: SeedFile =
        serde_json::from_str(json).map_err(|e| AppError::Unreadable(e.to_string()))?;
    file.persons
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let status = PopulationStatus::parse(&p.status).ok_or_else(|| {
                AppError::Unreadable(format!(
                    "persons[{i}].status: unknown status {:?}",
                    p.status
                ))
            })?;
            Ok(PopulationRow {
                resident_id: p.resident_id,
                name: p.name,
                status,
            })
        })
        .collect()
}

impl App {
    /// Loads the demo population registry when the registry is empty; returns whether it did.
    pub async fn load_demo_population_if_empty(&self) -> Result<bool> {
        if self.db.population_count().await? > 0 {
            return Ok(false);
        }
        self.db
            .upsert_population(&parse_population(DEMO_POPULATION)?)
            .await?;
        Ok(true)
    }

    /// Verifies a person's real name against the population registry and returns their
    /// assurance level afterwards (at least L2).
    ///
    /// An unknown account is [`AppError::NotFound`] (`account`). Any failure to match, whatever
    /// its reason, is [`AppError::RealNameMismatch`] and changes nothing (see the module
    /// documentation).
    pub async fn verify_real_name(
        &self,
        account: &AccountId,
        now: Timestamp,
    ) -> Result<AssuranceLevel> {
        let Some(person) = self.db.person_by_id(account.as_str()).await? else {
            return Err(AppError::NotFound {
                kind: "account",
                key: account.as_str().to_string(),
            });
        };
        let masked = match ResidentId::parse(&person.resident_id, china_today(now)) {
            Ok(id) => id.to_string(),
            Err(_) => "<invalid>".to_string(),
        };
        let record = self
            .db
            .population_by_resident_id(&person.resident_id)
            .await?;
        let matched = record.is_some_and(|r| {
            r.status == PopulationStatus::Active
                && normalize_name(&r.name) == normalize_name(&person.name)
        });
        let mut event = onetrip_store::AuthEvent::new(
            "step_up",
            onetrip_domain::identity::AccountKind::Citizen,
            Some(account.as_str()),
            now,
        );
        event.method = "real_name".to_owned();
        event.succeeded = matched;
        self.db.record_auth_event(&event).await?;
        if !matched {
            tracing::info!(account = %account, resident_id = %masked, "real-name verification failed");
            return Err(AppError::RealNameMismatch);
        }
        let level = person.assurance_level.max(AssuranceLevel::L2);
        if level != person.assurance_level {
            self.db.set_assurance_level(&person.id, level).await?;
        }
        tracing::info!(account = %account, resident_id = %masked, level = ?level, "real-name verified");
        Ok(level)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use jiff::civil::date;
    use onetrip_domain::identifiers::ResidentId;
    use onetrip_store::PopulationStatus;

    use super::{DEMO_POPULATION, normalize_name, parse_population};

    #[test]
    fn names_fold_middle_dots_and_trim() {
        assert_eq!(normalize_name(" 买买提•艾力 "), "买买提·艾力");
        assert_eq!(normalize_name("买买提・艾力"), "买买提·艾力");
        assert_eq!(normalize_name("买买提·艾力"), "买买提·艾力");
        assert_ne!(normalize_name("买买提艾力"), "买买提·艾力");
        assert_ne!(normalize_name("张 三"), "张三");
    }

    #[test]
    fn demo_population_is_valid() {
        let rows = parse_population(DEMO_POPULATION).unwrap();
        assert!(rows.len() >= 25, "{}", rows.len());
        let mut seen = std::collections::BTreeSet::new();
        for row in &rows {
            let id = ResidentId::parse(&row.resident_id, date(2026, 11, 21))
                .unwrap_or_else(|e| panic!("{}: {e}", row.resident_id));
            assert!(id.expose().starts_with("33"), "{id}");
            assert!(seen.insert(row.resident_id.clone()), "duplicate {id}");
            assert_eq!(row.name.trim(), row.name);
        }
        assert!(rows.iter().any(|r| r.status == PopulationStatus::Deceased));
        assert!(rows.iter().any(|r| r.name.contains('·')));
    }
}
