//! A deterministic generator of realistic cases (办件) for benchmarks and demos:
//! `onetrip generate --cases N`.
//!
//! - **Deterministic:** the rows depend only on [`CaseGenConfig`] and the catalog. Case `j` is
//!   made by chunk `j / CASE_CHUNK`, and chunk `i` by its own ChaCha8 stream (`seed`, stream
//!   `i`), so chunks can be made in any order on any number of threads.
//! - **Consistent with the catalog:** every case is a single-item application for a current
//!   item of the catalog (the demo catalog is loaded into an empty database first), handled by
//!   the item's department in the item's division; its status is the fold of a real event
//!   sequence through the domain state machine ([`CaseStatus::apply`]): created, sometimes a
//!   pre-acceptance correction, accepted (or refused, or withdrawn), the review steps of the
//!   item's process, sometimes a special procedure that stops the clock, the decision and the
//!   result. Events dated after the "as of" day do not happen, so recent cases are open. The
//!   queue columns (`due_on`, `warning`, `concluded_on`, `on_time`, `handling_days`) come from
//!   the same code as the app's ([`crate::cases::fill_columns`]) with the working-day
//!   calendar, and a case past 80 % of its limit or its deadline got its `warning_raised`
//!   event as the deadline scanner would have raised it.
//! - **Realistic distributions:** submissions spread evenly over [`CaseGenConfig::days`] days
//!   before the "as of" day, within office hours; departments chosen with Zipf weights (the
//!   department with the most items first: human resources and social security gets about a
//!   quarter of all cases), items within a department with milder Zipf weights; applicants
//!   from Zhejiang's county-level divisions under the department's; 2 % withdrawn, 4 % refused,
//!   8 % asked for corrections once, 3 % through a special procedure, 5 % denied; handling
//!   takes 20–95 % of the limit for most cases, beyond it for about 10 %. With a year of cases
//!   about 3 % are open, a few thousandths red.
//! - **Events are optional** ([`CaseGenConfig::events`]): with them every case gets its whole
//!   hash-chained log (about 5 rows per case, as the app would have written); without them
//!   (the default, five times fewer rows) a case has `event_count` 0 and the genesis hash, so
//!   the chain check passes and the next action on it starts a log at sequence 1.
//! - **Identifiers:** case numbers `{county}-{date}-{seq}` (the applicant's county, as the app
//!   numbers cases where the application was made) with `seq` from 100000 (the app's daily
//!   counters start at 1), application ids UUIDv7 of the submission time, applicants'
//!   resident ID numbers and credit codes valid but invented (sequences 400–999 like the
//!   registry generator's).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use jiff::civil::Date;
use onetrip_domain::calendar::WorkCalendar;
use onetrip_domain::case::{
    CaseEvent, CaseStatus, CorrectionItem, Outcome, ProcessDefinition, SpecialProcedure,
    application_status,
};
use onetrip_domain::catalog::{DeliveryMethod, ServiceItem, ServiceObject};
use onetrip_domain::identifiers::{
    credit_code_check_char, organisation_code_check_char, resident_id_check_char,
};
use onetrip_domain::identity::AccountId;
use onetrip_seal::CHAIN_GENESIS;
use onetrip_store::{ApplicationRow, CaseBatch, CaseRow};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use serde_json::json;

use crate::cases::{chain_event, fill_columns};
use crate::{App, AppError, Result};

/// Cases per chunk (one write transaction each).
pub const CASE_CHUNK: u64 = 10_000;
/// First daily sequence number of generated case numbers.
const FIRST_SEQ: u64 = 100_000;
/// Sequence numbers available per (division, day) to generated cases.
const SEQ_SLOTS: u64 = 900_000;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseGenConfig {
    /// Cases (one application each).
    pub cases: u64,
    /// Seed.
    pub seed: u64,
    /// The last day of the period (cases are open or closed as of that day).
    pub as_of: Date,
    /// Days of submissions before `as_of` (at least 1).
    pub days: u32,
    /// Whether to write every case's event log.
    pub events: bool,
}

/// Progress of a case generation, reported after each chunk is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseGenProgress {
    /// Cases written so far.
    pub done: u64,
    /// Cases to write.
    pub total: u64,
}

/// The outcome of a case generation.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseGenReport {
    /// Applications written.
    pub applications: u64,
    /// Cases written.
    pub cases: u64,
    /// Of which open.
    pub open: u64,
    /// Events written.
    pub events: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Time spent generating (summed over threads).
    pub generating: Duration,
    /// Time spent writing.
    pub writing: Duration,
}

impl CaseGenReport {
    /// Cases per second of wall time.
    pub fn cases_per_second(&self) -> f64 {
        self.cases as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// One item the generator draws cases from.
struct PlannedItem {
    code: String,
    version: i64,
    department: String,
    division: String,
    /// Situations with their promised limits.
    situations: Vec<(String, u16)>,
    process: ProcessDefinition,
    organisation: bool,
    person: bool,
    delivery: Vec<DeliveryMethod>,
    /// Divisions applicants come from.
    applicant_divisions: Vec<String>,
}

/// Everything a chunk needs, shared by the generator threads.
struct Plan {
    config: CaseGenConfig,
    items: Vec<PlannedItem>,
    /// Cumulative weights of `items`.
    cumulative: Vec<f64>,
    calendar: Arc<WorkCalendar>,
    /// Midnight (China) of the first day of the period.
    start: Timestamp,
}

/// Uniform in `0..n` (`n > 0`).
fn below(rng: &mut ChaCha8Rng, n: u64) -> u64 {
    ((u128::from(rng.next_u64()) * u128::from(n.max(1))) >> 64) as u64
}

/// Uniform in `[0, 1)`.
fn unit(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "高", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "霞", "平", "刚", "桂英", "建华", "志明", "晓燕", "海燕", "文博", "子涵",
];
const COMPANY_WORDS: &[&str] = &[
    "华宇", "东方", "恒信", "瑞丰", "嘉禾", "新辰", "钱江", "之江", "西子", "海纳", "天成", "锦程",
];
const COMPANY_KINDS: &[&str] = &[
    "科技有限公司",
    "贸易有限公司",
    "餐饮管理有限公司",
    "建筑工程有限公司",
    "信息技术有限公司",
];
/// Letters of credit codes (GB 32100: no I, O, Z, S, V).
const CODE_DIGITS: &[u8] = b"0123456789";

fn pick<'a>(rng: &mut ChaCha8Rng, list: &[&'a str]) -> &'a str {
    list.get(below(rng, list.len() as u64) as usize)
        .copied()
        .unwrap_or_default()
}

/// A valid, invented resident ID number of someone registered in `division`.
fn resident_id(rng: &mut ChaCha8Rng, division: &str) -> String {
    let year = 1950 + below(rng, 56);
    let month = 1 + below(rng, 12);
    let day = 1 + below(rng, 28);
    let seq = 400 + below(rng, 600);
    let division = division.get(..6).unwrap_or(division);
    let first17 = format!("{division}{year:04}{month:02}{day:02}{seq:03}");
    let check = resident_id_check_char(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

/// A valid, invented unified social credit code of a company registered in `division`.
fn credit_code(rng: &mut ChaCha8Rng, division: &str) -> String {
    let mut org8 = String::with_capacity(8);
    for _ in 0..8 {
        org8.push(char::from(CODE_DIGITS[below(rng, 10) as usize]));
    }
    let org_check = organisation_code_check_char(&org8).unwrap_or('0');
    let division = division.get(..6).unwrap_or(division);
    let first17 = format!("91{division}{org8}{org_check}");
    let check = credit_code_check_char(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

fn timestamp_on(date: Date, seconds_after_midnight: i64) -> Result<Timestamp> {
    let tz = jiff::tz::TimeZone::fixed(jiff::tz::offset(8));
    let midnight = date
        .to_zoned(tz)
        .map_err(|e| AppError::Internal(e.to_string()))?
        .timestamp();
    midnight
        .checked_add(jiff::SignedDuration::from_secs(seconds_after_midnight))
        .map_err(|e| AppError::Internal(e.to_string()))
}

/// The `n`-th working day after `from`.
fn working_days_after(cal: &WorkCalendar, from: Date, n: u64) -> Result<Date> {
    Ok(cal
        .add_working_days(from, u32::try_from(n).unwrap_or(u32::MAX))
        .map_err(|e| AppError::refused(&e))?
        .due)
}

/// A case in the making: its status and the events applied so far.
struct Life<'a> {
    status: CaseStatus,
    events: Vec<(CaseEvent, Date, &'a str)>,
    as_of: Date,
    /// Whether an event fell after `as_of` (the rest of the life has not happened yet).
    stopped: bool,
    decided_on: Option<Date>,
}

impl<'a> Life<'a> {
    /// Applies `event` on `on` unless the life stopped or `on` is after the "as of" day.
    fn happen(&mut self, event: CaseEvent, on: Date, actor: &'a str) -> Result<bool> {
        if self.stopped || on > self.as_of {
            self.stopped = true;
            return Ok(false);
        }
        let is_decision = matches!(event, CaseEvent::Decided { .. });
        self.status = self
            .status
            .apply(&event, on)
            .map_err(|e| AppError::refused(&e))?;
        self.events.push((event, on, actor));
        if is_decision {
            self.decided_on = Some(on);
        }
        Ok(true)
    }
}

const CLERK: &str = "staff:gen-clerk";
const OFFICER: &str = "staff:gen-officer";
const HEAD: &str = "staff:gen-head";
const APPLICANT: &str = "applicant:gen";
const SYSTEM: &str = "system";

impl Plan {
    fn pick_item(&self, rng: &mut ChaCha8Rng) -> &PlannedItem {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let u = unit(rng) * total;
        let i = self.cumulative.partition_point(|c| *c <= u);
        &self.items[i.min(self.items.len() - 1)]
    }

    /// Makes chunk `index`.
    fn chunk(&self, index: u64) -> Result<CaseBatch> {
        let n = self.config.cases;
        let first = index * CASE_CHUNK;
        let last = (first + CASE_CHUNK).min(n);
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        rng.set_stream(index);
        let mut batch = CaseBatch {
            applications: Vec::with_capacity((last - first) as usize),
            cases: Vec::with_capacity((last - first) as usize),
            events: Vec::new(),
        };
        for j in first..last {
            self.case(j, &mut rng, &mut batch)?;
        }
        Ok(batch)
    }

    #[allow(clippy::too_many_lines)]
    fn case(&self, j: u64, rng: &mut ChaCha8Rng, batch: &mut CaseBatch) -> Result<()> {
        let cal = &*self.calendar;
        let days = u64::from(self.config.days.max(1));
        // Evenly spread over the period, in order; office hours 08:30–17:30.
        let day = j * days / self.config.cases.max(1);
        let submitted_at = self
            .start
            .checked_add(jiff::SignedDuration::from_hours(
                i64::try_from(day * 24).unwrap_or(0),
            ))
            .and_then(|t| {
                t.checked_add(jiff::SignedDuration::from_secs(
                    30_600 + i64::try_from(below(rng, 32_400)).unwrap_or(0),
                ))
            })
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let submitted_on = crate::china_today(submitted_at);
        let item = self.pick_item(rng);
        let (situation, limit) =
            item.situations[below(rng, item.situations.len() as u64) as usize].clone();

        // The applicant.
        let applicant_division = item.applicant_divisions
            [below(rng, item.applicant_divisions.len() as u64) as usize]
            .clone();
        let organisation = item.organisation && (!item.person || below(rng, 2) == 0);
        let (subject_kind, subject_id, subject_name) = if organisation {
            let name = format!(
                "{}{}{}",
                pick(
                    rng,
                    &["杭州", "宁波", "温州", "嘉兴", "绍兴", "金华", "台州"]
                ),
                pick(rng, COMPANY_WORDS),
                pick(rng, COMPANY_KINDS)
            );
            ("organisation", credit_code(rng, &applicant_division), name)
        } else {
            let name = format!("{}{}", pick(rng, SURNAMES), pick(rng, GIVEN));
            ("person", resident_id(rng, &applicant_division), name)
        };
        let channel = match below(rng, 100) {
            0..=44 => "mobile",
            45..=74 => "web",
            75..=94 => "window",
            _ => "kiosk",
        };

        // The life of the case.
        let mut life = Life {
            status: CaseStatus::new(limit, &item.process),
            events: Vec::with_capacity(8),
            as_of: self.config.as_of,
            stopped: false,
            decided_on: None,
        };
        life.happen(
            CaseEvent::Created {
                item: item.code.clone(),
                item_version: item.version,
                situation: situation.clone(),
                waiting: false,
            },
            submitted_on,
            APPLICANT,
        )?;
        let clerk = AccountId::new("gen-clerk");
        let officer = AccountId::new("gen-officer");
        let head = AccountId::new("gen-head");
        let fate = below(rng, 1000);
        let intake_lag = if limit == 0 { 0 } else { below(rng, 3) };
        let mut on = working_days_after(cal, submitted_on, intake_lag)?;
        let mut accepted = true;
        if fate < 20 {
            let on = submitted_on
                .checked_add(jiff::Span::new().days(i64::try_from(below(rng, 3)).unwrap_or(0)))
                .map_err(|e| AppError::Internal(e.to_string()))?;
            life.happen(
                CaseEvent::Withdrawn {
                    reason: "申请人主动撤回".into(),
                },
                on,
                APPLICANT,
            )?;
            accepted = false;
        } else if fate < 60 {
            on = working_days_after(cal, submitted_on, 1 + below(rng, 2))?;
            life.happen(
                CaseEvent::Refused {
                    by: clerk.clone(),
                    reason: "不属于本部门受理范围".into(),
                },
                on,
                CLERK,
            )?;
            accepted = false;
        } else if fate < 140 {
            on = working_days_after(cal, submitted_on, 1)?;
            life.happen(
                CaseEvent::CorrectionRequested {
                    by: clerk.clone(),
                    items: vec![CorrectionItem {
                        subject: "M01".into(),
                        reason: "材料不清晰，请重新上传".into(),
                    }],
                },
                on,
                CLERK,
            )?;
            on = working_days_after(cal, on, 1 + below(rng, 10))?;
            life.happen(
                CaseEvent::CorrectionSupplied {
                    note: None,
                    uploads: Default::default(),
                },
                on,
                APPLICANT,
            )?;
            on = working_days_after(cal, on, 1)?;
        }
        if accepted {
            life.happen(CaseEvent::Accepted { by: clerk.clone() }, on, CLERK)?;
            // Handling time as a share of the limit: most within it, some beyond.
            let share = match below(rng, 1000) {
                0..=899 => 0.2 + 0.75 * unit(rng),
                900..=969 => 0.95 + 0.35 * unit(rng),
                _ => 1.3 + 2.7 * unit(rng),
            };
            let handling = (f64::from(limit) * share).round() as u64;
            let steps: Vec<(usize, usize)> = item
                .process
                .stages
                .iter()
                .enumerate()
                .flat_map(|(s, stage)| (0..stage.steps.len()).map(move |k| (s, k)))
                .collect();
            let suspend_after = (limit > 0 && below(rng, 1000) < 30).then_some(steps.len() / 2);
            let start = on;
            for (i, (stage, step)) in steps.iter().enumerate() {
                if suspend_after == Some(i) {
                    let from = working_days_after(cal, on, 1)?;
                    let procedure = match below(rng, 3) {
                        0 => SpecialProcedure::Inspection,
                        1 => SpecialProcedure::ExpertReview,
                        _ => SpecialProcedure::Testing,
                    };
                    life.happen(
                        CaseEvent::Suspended {
                            procedure,
                            reason: "需现场核查".into(),
                        },
                        from,
                        OFFICER,
                    )?;
                    on = working_days_after(cal, from, 5 + below(rng, 26))?;
                    life.happen(CaseEvent::Resumed, on, OFFICER)?;
                }
                let target = working_days_after(
                    cal,
                    start,
                    handling * (i as u64 + 1) / (steps.len() as u64 + 1),
                )?;
                on = on.max(target);
                life.happen(
                    CaseEvent::StepCompleted {
                        by: officer.clone(),
                        stage: *stage,
                        step: *step,
                        opinion: "材料齐全，符合条件".into(),
                    },
                    on,
                    OFFICER,
                )?;
            }
            on = on.max(working_days_after(cal, start, handling)?);
            let outcome = if below(rng, 100) < 5 {
                Outcome::Denied {
                    reason: "不符合办理条件".into(),
                }
            } else {
                Outcome::Approved
            };
            let approved = outcome == Outcome::Approved;
            life.happen(
                CaseEvent::Decided {
                    by: head.clone(),
                    outcome,
                },
                on,
                HEAD,
            )?;
            if approved {
                let lag = if limit == 0 { 0 } else { below(rng, 4) };
                on = working_days_after(cal, on, lag)?;
                let delivery = item
                    .delivery
                    .get(below(rng, item.delivery.len() as u64) as usize)
                    .copied()
                    .unwrap_or(DeliveryMethod::Electronic);
                life.happen(
                    CaseEvent::ResultIssued {
                        by: Some(officer.clone()),
                        delivery,
                        certificate: None,
                    },
                    on,
                    OFFICER,
                )?;
            }
        }
        // The deadline scanner's warning on an open case.
        let as_of = self.config.as_of;
        if let Some(level) = life
            .status
            .warning_to_raise(cal, as_of)
            .map_err(|e| AppError::refused(&e))?
        {
            life.stopped = false;
            life.happen(CaseEvent::WarningRaised { level }, as_of, SYSTEM)?;
        }

        // Rows.
        // Numbered in the county where the application was made, as the app does.
        let county = applicant_division.get(..6).unwrap_or(&applicant_division);
        let number = format!(
            "{county}-{}-{:06}",
            submitted_on.strftime("%Y%m%d"),
            FIRST_SEQ + j % SEQ_SLOTS
        );
        let mut uuid_bytes = [0u8; 10];
        rng.fill_bytes(&mut uuid_bytes);
        let millis = u64::try_from(submitted_at.as_millisecond()).unwrap_or(0);
        let application_id = uuid::Builder::from_unix_timestamp_millis(millis, &uuid_bytes)
            .into_uuid()
            .to_string();
        let mut at_of = |on: Date| -> Result<Timestamp> {
            if on == submitted_on {
                return Ok(submitted_at);
            }
            timestamp_on(on, 30_600 + i64::try_from(below(rng, 32_400)).unwrap_or(0))
        };
        let mut event_rows = Vec::new();
        let mut prev = CHAIN_GENESIS.to_string();
        let mut updated_at = submitted_at;
        for (seq, (event, on, actor)) in life.events.iter().enumerate() {
            let at = at_of(*on)?.max(updated_at);
            updated_at = at;
            if self.config.events {
                let row = chain_event(&number, seq as i64 + 1, &prev, at, actor, event)?;
                prev = row.hash.clone();
                event_rows.push(row);
            }
        }
        let status_json =
            serde_json::to_value(&life.status).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut case = CaseRow {
            number: number.clone(),
            application_id: application_id.clone(),
            member: item.code.clone(),
            item_code: item.code.clone(),
            item_version: item.version,
            situation: situation.clone(),
            department_code: item.department.clone(),
            division_code: item.division.clone(),
            state: String::new(),
            closed: false,
            due_on: submitted_on,
            warning: "green".into(),
            status: status_json,
            event_count: event_rows.len() as i64,
            last_hash: prev,
            concluded_on: None,
            on_time: None,
            handling_days: None,
            created_at: submitted_at,
            updated_at,
        };
        // Columns as the app computed them on the day of the decision, or as of today.
        fill_columns(
            &mut case,
            &life.status,
            cal,
            life.decided_on.unwrap_or(as_of),
        )?;
        let application_state = application_status(&[life.status.state()]).as_str();
        batch.applications.push(ApplicationRow {
            id: application_id,
            account_id: None,
            subject_kind: subject_kind.into(),
            subject_id,
            subject_name,
            bundle_code: None,
            bundle_version: None,
            item_code: Some(item.code.clone()),
            division_code: applicant_division,
            channel: channel.into(),
            state: application_state.into(),
            document: json!({
                "generated": true,
                "item": item.code,
                "situation": situation,
            }),
            intake_by: None,
            created_at: submitted_at,
            updated_at,
            submitted_at: Some(submitted_at),
        });
        batch.cases.push(case);
        batch.events.extend(event_rows);
        Ok(())
    }
}

/// Divisions applicants of an item handled in `division` come from: the county itself, the
/// counties (and districts) of a city, or every county-level division for a provincial body.
fn applicant_divisions(division: &str, all: &[String]) -> Vec<String> {
    let county = |c: &String| !c.ends_with("00");
    let list: Vec<String> = if division.starts_with("3399") || division == "330000" {
        all.iter().filter(|c| county(c)).cloned().collect()
    } else if division.ends_with("00") {
        let city = division.get(..4).unwrap_or(division);
        all.iter()
            .filter(|c| county(c) && c.starts_with(city))
            .cloned()
            .collect()
    } else {
        vec![division.to_string()]
    };
    if list.is_empty() {
        vec![division.to_string()]
    } else {
        list
    }
}

impl App {
    /// The generator's plan: the catalog's current items with their weights.
    async fn case_plan(&self, config: CaseGenConfig) -> Result<Plan> {
        let items: Vec<ServiceItem> = self.db.current_items().await?;
        if items.is_empty() {
            return Err(AppError::Internal("the catalog has no items".into()));
        }
        let codes: Vec<String> = items
            .iter()
            .map(|i| i.implementation_code.clone())
            .collect();
        let versions: std::collections::HashMap<String, i64> = self
            .db
            .items_by_codes(&codes)
            .await?
            .into_iter()
            .map(|s| (s.implementation_code, s.version))
            .collect();
        let divisions: Vec<String> = self
            .db
            .divisions()
            .await?
            .into_iter()
            .map(|d| d.code)
            .collect();
        // Departments by number of items (most first), then code.
        let mut per_department: std::collections::BTreeMap<&str, Vec<&ServiceItem>> =
            std::collections::BTreeMap::new();
        for item in &items {
            per_department
                .entry(item.department_code.as_str())
                .or_default()
                .push(item);
        }
        let mut departments: Vec<(&str, Vec<&ServiceItem>)> = per_department.into_iter().collect();
        departments.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
        let mut planned = Vec::with_capacity(items.len());
        let mut cumulative = Vec::with_capacity(items.len());
        let mut total = 0.0;
        for (rank, (_, dept_items)) in departments.iter().enumerate() {
            let dept_weight = 1.0 / (rank as f64 + 1.0);
            let raw: Vec<f64> = (0..dept_items.len())
                .map(|k| 1.0 / (k as f64 + 1.0).powf(0.6))
                .collect();
            let sum: f64 = raw.iter().sum();
            for (item, w) in dept_items.iter().zip(raw) {
                let situations: Vec<(String, u16)> = item
                    .effective_situations()
                    .into_iter()
                    .map(|s| {
                        let limit = s.promised_limit.unwrap_or(item.promised_limit);
                        (s.code, limit)
                    })
                    .collect();
                planned.push(PlannedItem {
                    code: item.implementation_code.clone(),
                    version: versions
                        .get(&item.implementation_code)
                        .copied()
                        .unwrap_or(1),
                    department: item.department_code.clone(),
                    division: item.division_code.clone(),
                    situations,
                    process: ProcessDefinition::from_item(item),
                    organisation: matches!(
                        item.service_object,
                        ServiceObject::Organisation | ServiceObject::Both
                    ),
                    person: matches!(
                        item.service_object,
                        ServiceObject::Person | ServiceObject::Both
                    ),
                    delivery: item.delivery_methods.clone(),
                    applicant_divisions: applicant_divisions(&item.division_code, &divisions),
                });
                total += dept_weight * w / sum;
                cumulative.push(total);
            }
        }
        let start_day = config
            .as_of
            .checked_sub(jiff::Span::new().days(i64::from(config.days.max(1))))
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(Plan {
            config,
            items: planned,
            cumulative,
            calendar: self.calendar(),
            start: timestamp_on(start_day, 0)?,
        })
    }

    /// Generates `config.cases` cases with their applications (and events, when asked) and
    /// writes them chunk by chunk, each in one transaction, calling `progress` after each
    /// chunk. Loads the demo catalog first when the catalog is empty. `threads` chunks are
    /// generated at once (at least 1).
    pub async fn generate_cases(
        &self,
        config: CaseGenConfig,
        threads: usize,
        mut progress: impl FnMut(CaseGenProgress),
    ) -> Result<CaseGenReport> {
        let started = Instant::now();
        if self.db.item_count().await? == 0 {
            self.load_demo_if_empty(Timestamp::now()).await?;
        }
        let plan = Arc::new(self.case_plan(config).await?);
        let chunks = config.cases.div_ceil(CASE_CHUNK);
        let mut in_flight = VecDeque::new();
        let mut next = 0u64;
        let mut report = CaseGenReport {
            applications: 0,
            cases: 0,
            open: 0,
            events: 0,
            elapsed: Duration::ZERO,
            generating: Duration::ZERO,
            writing: Duration::ZERO,
        };
        loop {
            while next < chunks && in_flight.len() < threads.max(1) + 1 {
                let index = next;
                let plan = Arc::clone(&plan);
                in_flight.push_back(tokio::task::spawn_blocking(move || {
                    let t = Instant::now();
                    let chunk = plan.chunk(index);
                    (chunk, t.elapsed())
                }));
                next += 1;
            }
            let Some(handle) = in_flight.pop_front() else {
                break;
            };
            let (chunk, took) = handle
                .await
                .map_err(|e| AppError::Internal(format!("case generator task: {e}")))?;
            let chunk = chunk?;
            report.generating += took;
            report.applications += chunk.applications.len() as u64;
            report.cases += chunk.cases.len() as u64;
            report.open += chunk.cases.iter().filter(|c| !c.closed).count() as u64;
            report.events += chunk.events.len() as u64;
            let t = Instant::now();
            self.db.insert_case_batch(chunk).await?;
            report.writing += t.elapsed();
            progress(CaseGenProgress {
                done: report.cases,
                total: config.cases,
            });
        }
        report.elapsed = started.elapsed();
        Ok(report)
    }
}

/// Generates the chunks of `config` against `app`'s catalog without writing them: the rows
/// (for tests that check determinism).
pub async fn generate_cases_in_memory(app: &App, config: CaseGenConfig) -> Result<CaseBatch> {
    let plan = app.case_plan(config).await?;
    let mut all = CaseBatch::default();
    for i in 0..config.cases.div_ceil(CASE_CHUNK) {
        let c = plan.chunk(i)?;
        all.applications.extend(c.applications);
        all.cases.extend(c.cases);
        all.events.extend(c.events);
    }
    Ok(all)
}
