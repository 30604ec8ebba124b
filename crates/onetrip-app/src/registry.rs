//! Base registries (人口综合库, 法人综合库): import from CSV and JSON, generation of realistic
//! data, streaming export, and the demo registry story.
//!
//! Decisions:
//! - **Import keeps the valid rows.** Every row is checked on its own with the domain
//!   (`onetrip_domain::registry::parse_*`); a row that fails is reported with its line number
//!   (1-based, in the file: the header of a CSV file is line 1), field, code and messages, and
//!   the other rows are written, in batches of [`IMPORT_BATCH`] rows, each batch in one
//!   transaction. A row whose key exists replaces it (re-importing a corrected file is safe).
//!   Relations between rows are not checked (registries arrive in any order).
//! - **Formats:** CSV with a header row naming the fields; JSON Lines (one object per line);
//!   a JSON array of objects. CSV and JSON Lines are streamed; a JSON array is read whole.
//!   Unknown columns or members make a row fail (`unreadable_row`), so that a typo in a header
//!   is not silently ignored.
//! - **Generation** ([`App::generate_registry`]) runs the domain generator in chunks on
//!   blocking threads, as many at once as there are cores (each thread also encodes its chunk
//!   for the database), while the chunks made so far are written in order by a
//!   [`onetrip_store::RegistryLoader`]: into empty registries as one bulk load (one
//!   transaction, indexes built at the end), else each chunk in one transaction; the output is
//!   the same whatever the number of threads.
//! - **Export** streams persons as JSON Lines page by page (keyset pagination on the resident
//!   ID number), so a registry of ten million persons never sits in memory.

use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

use jiff::civil::Date;
use onetrip_domain::Localized;
use onetrip_domain::registry::generator::{Generator, GeneratorConfig};
use onetrip_domain::registry::{
    BirthInput, DeathInput, FieldError, HouseholdInput, LegalPersonInput, MarriageInput,
    PersonInput, parse_birth, parse_death, parse_household, parse_legal_person, parse_marriage,
    parse_person, sex_str,
};
use onetrip_store::{PreparedChunk, RegistryBatch};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::{App, AppError, Result};

/// Valid rows written per transaction during an import.
pub const IMPORT_BATCH: usize = 10_000;
/// Most rejected fields kept in a report (the count goes on).
pub const MAX_REPORTED_PROBLEMS: usize = 10_000;
/// Persons per page of the export.
const EXPORT_PAGE: u32 = 10_000;

/// The demo registry story (JSON): households, marriages, births and organisations of the demo
/// people. Demo data only: every person and organisation in it is invented.
pub const DEMO_REGISTRY: &str = include_str!("../../../data/demo/registry.json");

/// The household of the demo citizen 陈志明 in the demo registry story.
pub const DEMO_HOUSEHOLD: &str = "DEMO-H-330106-0001";

/// What a registry file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryKind {
    /// Persons.
    Persons,
    /// Households.
    Households,
    /// Marriages.
    Marriages,
    /// Births.
    Births,
    /// Deaths.
    Deaths,
    /// Organisations (legal persons).
    Organisations,
}

impl RegistryKind {
    /// Every kind.
    pub const ALL: [RegistryKind; 6] = [
        Self::Persons,
        Self::Households,
        Self::Marriages,
        Self::Births,
        Self::Deaths,
        Self::Organisations,
    ];

    /// The name used on the command line (`persons`, `households`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Persons => "persons",
            Self::Households => "households",
            Self::Marriages => "marriages",
            Self::Births => "births",
            Self::Deaths => "deaths",
            Self::Organisations => "organisations",
        }
    }

    /// The kind named `s`.
    pub fn parse(s: &str) -> Option<RegistryKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The format of an import file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// CSV with a header row.
    Csv,
    /// One JSON object per line.
    JsonLines,
    /// A JSON array of objects.
    JsonArray,
}

impl ImportFormat {
    /// The format a file name implies (`.csv`, `.jsonl`/`.ndjson`, `.json`).
    pub fn from_path(path: &std::path::Path) -> Option<ImportFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "jsonl" | "ndjson" => Some(Self::JsonLines),
            "json" => Some(Self::JsonArray),
            _ => None,
        }
    }
}

/// One problem of one rejected row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// Line of the row in the file (1-based).
    pub line: u64,
    /// The field, or empty when the row could not be read at all.
    pub field: String,
    /// Stable code.
    pub code: &'static str,
    /// Message in Chinese.
    pub message_zh: String,
    /// Message in English.
    pub message_en: String,
}

/// The outcome of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// What was imported.
    pub kind: RegistryKind,
    /// Rows read.
    pub rows: u64,
    /// Rows written.
    pub imported: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// The problems of the rejected rows (at most [`MAX_REPORTED_PROBLEMS`]), in file order.
    pub problems: Vec<RowProblem>,
}

/// A row that could not be read (bad JSON, unknown column, bad UTF-8…).
struct Unreadable(String);

impl Localized for Unreadable {
    fn code(&self) -> &'static str {
        "unreadable_row"
    }

    fn message_zh(&self) -> String {
        format!("该行无法读取：{}", self.0)
    }

    fn message_en(&self) -> String {
        format!("the row cannot be read: {}", self.0)
    }
}

/// Rows being collected for one kind.
struct Importer<'a> {
    app: &'a App,
    kind: RegistryKind,
    today: Date,
    batch: RegistryBatch,
    pending: usize,
    report: ImportReport,
}

impl Importer<'_> {
    fn problem(&mut self, line: u64, field: &str, e: &dyn Localized) {
        if self.report.problems.len() < MAX_REPORTED_PROBLEMS {
            self.report.problems.push(RowProblem {
                line,
                field: field.to_owned(),
                code: e.code(),
                message_zh: e.message_zh(),
                message_en: e.message_en(),
            });
        }
    }

    fn reject(&mut self, line: u64, errors: Vec<FieldError>) {
        self.report.rejected += 1;
        for e in &errors {
            self.problem(line, e.field, e);
        }
    }

    fn unreadable(&mut self, line: u64, why: String) {
        self.report.rejected += 1;
        self.problem(line, "", &Unreadable(why));
    }

    /// Checks one row (given as a JSON value of its fields) and keeps it if valid.
    fn row<T: RowInput>(&mut self, line: u64, value: std::result::Result<T, String>) {
        self.report.rows += 1;
        match value {
            Err(why) => self.unreadable(line, why),
            Ok(input) => match input.add_to(&mut self.batch, self.today) {
                Ok(()) => self.pending += 1,
                Err(errors) => self.reject(line, errors),
            },
        }
    }

    async fn flush(&mut self, force: bool) -> Result<()> {
        if self.pending == 0 || (!force && self.pending < IMPORT_BATCH) {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        self.app.db.upsert_registry(batch).await?;
        self.report.imported += self.pending as u64;
        self.pending = 0;
        Ok(())
    }
}

/// A row input that checks itself into a batch.
trait RowInput {
    fn add_to(
        &self,
        batch: &mut RegistryBatch,
        today: Date,
    ) -> std::result::Result<(), Vec<FieldError>>;
}

impl RowInput for PersonInput {
    fn add_to(
        &self,
        batch: &mut RegistryBatch,
        today: Date,
    ) -> std::result::Result<(), Vec<FieldError>> {
        batch.persons.push(parse_person(self, today)?);
        Ok(())
    }
}

impl RowInput for HouseholdInput {
    fn add_to(
        &self,
        batch: &mut RegistryBatch,
        today: Date,
    ) -> std::result::Result<(), Vec<FieldError>> {
        batch.households.push(parse_household(self, today)?);
        Ok(())
    }
}

impl RowInput for MarriageInput {
    fn add_to(
        &self,
        batch: &mut RegistryBatch,
        today: Date,
    ) -> std::result::Result<(), Vec<FieldError>> {
        batch.marriages.push(parse_marriage(self, today)?);
        Ok(())
    }
}

impl RowInput for BirthInput {
    fn add_to(
        &self,
        batch: &mut RegistryBatch,
        today: Date,
    ) -> std::result::Result<(), Vec<FieldError>> {
        batch.births.push(parse_birth(self, today)?);
        Ok(())
    }
}

impl RowInput for DeathInput {
    fn add_to(
        &self,
        batch: &mut RegistryBatch,
        today: Date,
    ) -> std::result::Result<(), Vec<FieldError>> {
        batch.deaths.push(parse_death(self, today)?);
        Ok(())
    }
}

impl RowInput for LegalPersonInput {
    fn add_to(
        &self,
        batch: &mut RegistryBatch,
        today: Date,
    ) -> std::result::Result<(), Vec<FieldError>> {
        batch.legal_persons.push(parse_legal_person(self, today)?);
        Ok(())
    }
}

/// Empty CSV cells are absent values.
fn blank_to_none(record: &csv::StringRecord) -> csv::StringRecord {
    record.iter().map(str::trim).collect()
}

/// The 1-based line of the byte at `offset` of `text`.
fn line_at(text: &str, offset: usize) -> u64 {
    1 + text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
}

async fn import_rows<T: DeserializeOwned + RowInput>(
    im: &mut Importer<'_>,
    format: ImportFormat,
    mut reader: Box<dyn BufRead + Send + '_>,
) -> Result<()> {
    match format {
        ImportFormat::Csv => {
            let mut csv = csv::ReaderBuilder::new()
                .flexible(false)
                .trim(csv::Trim::All)
                .from_reader(reader);
            let headers = csv
                .headers()
                .map_err(|e| AppError::Unreadable(e.to_string()))?
                .clone();
            let mut record = csv::StringRecord::new();
            loop {
                let line = csv.position().line() + u64::from(csv.position().line() == 0);
                match csv.read_record(&mut record) {
                    Ok(false) => break,
                    Ok(true) => {
                        let line = record.position().map_or(line, |p| p.line());
                        let cleaned = blank_to_none(&record);
                        let value = cleaned
                            .deserialize::<CsvRow<T>>(Some(&headers))
                            .map(|r| r.0)
                            .map_err(|e| e.to_string());
                        im.row(line, value);
                    }
                    Err(e) => {
                        let line = e.position().map_or(line, csv::Position::line);
                        im.report.rows += 1;
                        im.unreadable(line, e.to_string());
                        if !matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. }) {
                            break;
                        }
                    }
                }
                im.flush(false).await?;
            }
        }
        ImportFormat::JsonLines => {
            let mut line_no = 0u64;
            let mut buf = String::new();
            loop {
                buf.clear();
                line_no += 1;
                match reader.read_line(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) => {
                        im.report.rows += 1;
                        im.unreadable(line_no, e.to_string());
                        break;
                    }
                }
                if buf.trim().is_empty() {
                    continue;
                }
                let value = serde_json::from_str::<T>(&buf).map_err(|e| e.to_string());
                im.row(line_no, value);
                im.flush(false).await?;
            }
        }
        ImportFormat::JsonArray => {
            let mut text = String::new();
            reader
                .read_to_string(&mut text)
                .map_err(|e| AppError::Unreadable(e.to_string()))?;
            let items: Vec<&serde_json::value::RawValue> =
                serde_json::from_str(&text).map_err(|e| AppError::Unreadable(e.to_string()))?;
            let base = text.as_ptr() as usize;
            for raw in items {
                let offset = (raw.get().as_ptr() as usize).saturating_sub(base);
                let line = line_at(&text, offset);
                let value = serde_json::from_str::<T>(raw.get()).map_err(|e| e.to_string());
                im.row(line, value);
                im.flush(false).await?;
            }
        }
    }
    im.flush(true).await
}

/// A CSV row: absent (empty) cells are `None`.
struct CsvRow<T>(T);

impl<'de, T: DeserializeOwned> Deserialize<'de> for CsvRow<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let map: std::collections::BTreeMap<String, String> =
            std::collections::BTreeMap::deserialize(d)?;
        let object: serde_json::Map<String, serde_json::Value> = map
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        serde_json::from_value(serde_json::Value::Object(object))
            .map(CsvRow)
            .map_err(serde::de::Error::custom)
    }
}

/// Progress of a generation, reported after each chunk is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateProgress {
    /// Persons written so far.
    pub persons_done: u64,
    /// Persons to write.
    pub persons_total: u64,
}

/// The outcome of a generation.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateReport {
    /// Rows written per table.
    pub counts: onetrip_store::RegistryCounts,
    /// Wall time.
    pub elapsed: Duration,
    /// Time spent generating (summed over threads).
    pub generating: Duration,
    /// Time spent writing.
    pub writing: Duration,
}

impl GenerateReport {
    /// Persons per second of wall time.
    pub fn persons_per_second(&self) -> f64 {
        self.counts.persons as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl App {
    /// Imports registry rows of `kind` from `reader` in `format`, checking them as of `today`.
    /// Valid rows are written; rejected ones are reported (see the module documentation). A
    /// file that cannot be read at all (a JSON array with a syntax error, a CSV file without a
    /// header) is [`AppError::Unreadable`].
    pub async fn import_registry(
        &self,
        kind: RegistryKind,
        format: ImportFormat,
        reader: Box<dyn BufRead + Send + '_>,
        today: Date,
    ) -> Result<ImportReport> {
        let mut im = Importer {
            app: self,
            kind,
            today,
            batch: RegistryBatch::default(),
            pending: 0,
            report: ImportReport {
                kind,
                rows: 0,
                imported: 0,
                rejected: 0,
                problems: Vec::new(),
            },
        };
        match im.kind {
            RegistryKind::Persons => import_rows::<PersonInput>(&mut im, format, reader).await?,
            RegistryKind::Households => {
                import_rows::<HouseholdInput>(&mut im, format, reader).await?
            }
            RegistryKind::Marriages => {
                import_rows::<MarriageInput>(&mut im, format, reader).await?
            }
            RegistryKind::Births => import_rows::<BirthInput>(&mut im, format, reader).await?,
            RegistryKind::Deaths => import_rows::<DeathInput>(&mut im, format, reader).await?,
            RegistryKind::Organisations => {
                import_rows::<LegalPersonInput>(&mut im, format, reader).await?
            }
        }
        tracing::info!(
            kind = kind.as_str(),
            rows = im.report.rows,
            imported = im.report.imported,
            rejected = im.report.rejected,
            "registry import"
        );
        Ok(im.report)
    }

    /// Generates a registry with the domain generator and writes it, chunk by chunk, calling
    /// `progress` after each chunk. `threads` chunks are generated at once (at least 1).
    pub async fn generate_registry(
        &self,
        config: GeneratorConfig,
        threads: usize,
        mut progress: impl FnMut(GenerateProgress),
    ) -> Result<GenerateReport> {
        let started = Instant::now();
        let generator = Generator::new(config).map_err(|e| AppError::refused(&e))?;
        let before = self.db.registry_counts().await?;
        let mut loader = self.db.registry_loader().await?;
        let encoding = loader.encoding();
        let mut in_flight = VecDeque::new();
        let mut next = 0u64;
        let mut generating = Duration::ZERO;
        let mut writing = Duration::ZERO;
        let mut done = 0u64;
        let total = config.people;
        loop {
            while next < generator.chunk_count() && in_flight.len() < threads.max(1) + 1 {
                let index = next;
                in_flight.push_back(tokio::task::spawn_blocking(move || {
                    let t = Instant::now();
                    let chunk = PreparedChunk::new(generator.chunk(index), encoding);
                    (chunk, t.elapsed())
                }));
                next += 1;
            }
            let Some(handle) = in_flight.pop_front() else {
                break;
            };
            let (chunk, took) = handle
                .await
                .map_err(|e| AppError::Internal(format!("generator task: {e}")))?;
            generating += took;
            let persons = chunk.persons() as u64;
            let t = Instant::now();
            loader.write(chunk).await?;
            writing += t.elapsed();
            done += persons;
            progress(GenerateProgress {
                persons_done: done.min(total),
                persons_total: total,
            });
        }
        let t = Instant::now();
        loader.finish().await?;
        writing += t.elapsed();
        let after = self.db.registry_counts().await?;
        let counts = onetrip_store::RegistryCounts {
            persons: after.persons - before.persons,
            households: after.households - before.households,
            marriages: after.marriages - before.marriages,
            births: after.births - before.births,
            deaths: after.deaths - before.deaths,
            legal_persons: after.legal_persons - before.legal_persons,
        };
        Ok(GenerateReport {
            counts,
            elapsed: started.elapsed(),
            generating,
            writing,
        })
    }

    /// Writes every person of the registry to `out` as JSON Lines, in resident ID order, one
    /// object per person: `resident_id`, `name`, `sex`, `birth_date`, `age` (on `today`),
    /// `ethnicity`, `division_code`, `household_id`, `status`, `death_date`. Returns the number
    /// of persons written.
    pub async fn export_persons_jsonl(
        &self,
        out: &mut (dyn Write + Send),
        today: Date,
    ) -> Result<u64> {
        let mut after: Option<String> = None;
        let mut n = 0u64;
        loop {
            let page = self
                .db
                .registry_persons_page(after.as_deref(), EXPORT_PAGE)
                .await?;
            let Some(last) = page.last() else {
                break;
            };
            after = Some(last.resident_id.clone());
            for p in &page {
                let line = serde_json::json!({
                    "resident_id": p.resident_id,
                    "name": p.name,
                    "sex": sex_str(p.sex),
                    "birth_date": p.birth_date.to_string(),
                    "age": p.age_on(today),
                    "ethnicity": p.ethnicity,
                    "division_code": p.division_code.as_str(),
                    "household_id": p.household_id,
                    "status": p.status.as_str(),
                    "death_date": p.death_date.map(|d| d.to_string()),
                });
                writeln!(out, "{line}").map_err(|e| AppError::Internal(e.to_string()))?;
            }
            n += page.len() as u64;
        }
        out.flush().map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(n)
    }

    /// Writes every organisation of the legal-person registry to `out` as JSON Lines.
    pub async fn export_organisations_jsonl(&self, out: &mut (dyn Write + Send)) -> Result<u64> {
        let mut after: Option<String> = None;
        let mut n = 0u64;
        loop {
            let page = self
                .db
                .legal_persons_page(after.as_deref(), EXPORT_PAGE)
                .await?;
            let Some(last) = page.last() else {
                break;
            };
            after = Some(last.credit_code.as_str().to_owned());
            for l in &page {
                let line =
                    serde_json::to_string(l).map_err(|e| AppError::Internal(e.to_string()))?;
                writeln!(out, "{line}").map_err(|e| AppError::Internal(e.to_string()))?;
            }
            n += page.len() as u64;
        }
        out.flush().map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(n)
    }

    /// Loads the demo registry story ([`DEMO_REGISTRY`]) unless its household is there
    /// already; returns whether it did. Loaded after the demo population by
    /// [`App::load_demo_if_empty`].
    pub async fn load_demo_registry_if_empty(&self, today: Date) -> Result<bool> {
        if self.db.registry_household(DEMO_HOUSEHOLD).await?.is_some() {
            return Ok(false);
        }
        let batch = parse_demo_registry(DEMO_REGISTRY, today)?;
        self.db.upsert_registry(batch).await?;
        Ok(true)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoRegistry {
    #[serde(default)]
    persons: Vec<PersonInput>,
    #[serde(default)]
    households: Vec<HouseholdInput>,
    #[serde(default)]
    marriages: Vec<MarriageInput>,
    #[serde(default)]
    births: Vec<BirthInput>,
    #[serde(default)]
    deaths: Vec<DeathInput>,
    #[serde(default)]
    organisations: Vec<LegalPersonInput>,
}

/// Parses a registry document of the demo's shape (`{"persons": […], "households": […],
/// "marriages": […], "births": […], "deaths": […], "organisations": […]}`); every row must
/// be valid.
pub fn parse_demo_registry(json: &str, today: Date) -> Result<RegistryBatch> {
    let doc: DemoRegistry =
        serde_json::from_str(json).map_err(|e| AppError::Unreadable(e.to_string()))?;
    let mut batch = RegistryBatch::default();
    let bad = |what: &str, i: usize, errors: Vec<FieldError>| {
        let list: Vec<String> = errors.iter().map(|e| e.message_en()).collect();
        AppError::Unreadable(format!("{what}[{i}]: {}", list.join("; ")))
    };
    for (i, r) in doc.persons.iter().enumerate() {
        r.add_to(&mut batch, today)
            .map_err(|e| bad("persons", i, e))?;
    }
    for (i, r) in doc.households.iter().enumerate() {
        r.add_to(&mut batch, today)
            .map_err(|e| bad("households", i, e))?;
    }
    for (i, r) in doc.marriages.iter().enumerate() {
        r.add_to(&mut batch, today)
            .map_err(|e| bad("marriages", i, e))?;
    }
    for (i, r) in doc.births.iter().enumerate() {
        r.add_to(&mut batch, today)
            .map_err(|e| bad("births", i, e))?;
    }
    for (i, r) in doc.deaths.iter().enumerate() {
        r.add_to(&mut batch, today)
            .map_err(|e| bad("deaths", i, e))?;
    }
    for (i, r) in doc.organisations.iter().enumerate() {
        r.add_to(&mut batch, today)
            .map_err(|e| bad("organisations", i, e))?;
    }
    Ok(batch)
}

/// What a generation without a database produced (to measure the generator alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DryRunCounts {
    /// Persons.
    pub persons: u64,
    /// Households.
    pub households: u64,
    /// Marriages.
    pub marriages: u64,
    /// Births.
    pub births: u64,
    /// Deaths.
    pub deaths: u64,
    /// Organisations.
    pub legal_persons: u64,
}

/// Generates every chunk on `threads` threads and throws the rows away: the speed of the
/// generator alone, without the database. Calls `progress` with the persons made so far.
pub fn generate_dry_run(
    config: GeneratorConfig,
    threads: usize,
    progress: &(dyn Fn(GenerateProgress) + Sync),
) -> Result<DryRunCounts> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU64, Ordering};
    let generator = Generator::new(config).map_err(|e| AppError::refused(&e))?;
    let next = AtomicU64::new(0);
    let totals = Mutex::new(DryRunCounts::default());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= generator.chunk_count() {
                        break;
                    }
                    let c = generator.chunk(i);
                    let Ok(mut t) = totals.lock() else {
                        break;
                    };
                    t.persons += c.persons.len() as u64;
                    t.households += c.households.len() as u64;
                    t.marriages += c.marriages.len() as u64;
                    t.births += c.births.len() as u64;
                    t.deaths += c.deaths.len() as u64;
                    t.legal_persons += c.legal_persons.len() as u64;
                    let done = t.persons;
                    drop(t);
                    progress(GenerateProgress {
                        persons_done: done,
                        persons_total: config.people,
                    });
                }
            });
        }
    });
    totals
        .into_inner()
        .map_err(|_| AppError::Internal("generator thread panicked".to_owned()))
}

/// The base-registry records behind the registry-backed data resources
/// ([`crate::sharing::REGISTRY_BACKED`]), shaped as the resources' fields in the data catalog.
/// Fields the registries do not hold are left out.
impl App {
    /// The record of `subject` in the registry-backed resource `resource`, or `None` when the
    /// registry knows nothing of the subject (or `resource` is not registry-backed).
    pub(crate) async fn registry_record(
        &self,
        resource: &str,
        subject: &str,
    ) -> Result<Option<onetrip_store::Record>> {
        use serde_json::Value;
        let mut r = onetrip_store::Record::new();
        let mut put = |k: &str, v: Value| {
            r.insert(k.to_owned(), v);
        };
        let s = |v: &str| Value::String(v.to_owned());
        let d = |v: Date| Value::String(v.to_string());
        match resource {
            "ZJ_PERSON_BASIC" => {
                let Some((p, address)) = self.db.registry_person_with_address(subject).await?
                else {
                    return Ok(None);
                };
                put("resident_id", s(&p.resident_id));
                put("name", s(&p.name));
                put("sex", s(p.sex.name_zh()));
                put("birth_date", d(p.birth_date));
                if let Some(e) = &p.ethnicity {
                    put("ethnicity", s(e));
                }
                put("division_code", s(p.division_code.as_str()));
                if let Some(a) = address {
                    put("address", s(&a));
                }
                put("status", s(p.status.as_str()));
            }
            "ZJ_HOUSEHOLD_RECORD" => {
                let Some(h) = self.db.registry_household_of(subject).await? else {
                    return Ok(None);
                };
                put("resident_id", s(&h.resident_id));
                put("name", s(&h.name));
                put("household_id", s(&h.household_id));
                if let Some(n) = &h.head_name {
                    put("head_name", s(n));
                }
                let relation = if h.head_resident_id.as_deref() == Some(h.resident_id.as_str()) {
                    "户主"
                } else {
                    "家庭成员"
                };
                put("relation_to_head", s(relation));
                put("address", s(&h.address));
            }
            "ZJ_MARRIAGE_RECORD" => {
                let Some(found) = self.db.registry_latest_marriage(subject).await? else {
                    return Ok(None);
                };
                let m = &found.marriage;
                let (spouse, name, spouse_name) = if m.husband_resident_id == subject {
                    (&m.wife_resident_id, &found.husband_name, &found.wife_name)
                } else {
                    (
                        &m.husband_resident_id,
                        &found.wife_name,
                        &found.husband_name,
                    )
                };
                put("resident_id", s(subject));
                if let Some(n) = name {
                    put("name", s(n));
                }
                put("spouse_resident_id", s(spouse));
                if let Some(n) = spouse_name {
                    put("spouse_name", s(n));
                }
                match m.divorced_on {
                    Some(on) => {
                        put("kind", s("离婚"));
                        put("registered_on", d(on));
                    }
                    None => {
                        put("kind", s("结婚"));
                        put("registered_on", d(m.registered_on));
                    }
                }
                put("registry_office", s(m.division_code.as_str()));
                put("certificate_no", s(&m.id));
            }
            "ZJ_BIRTH_RECORD" => {
                let births = self.db.registry_births_of_parent(subject).await?;
                let Some(b) = births.iter().max_by_key(|b| b.birth_date) else {
                    return Ok(None);
                };
                let mother = self.db.registry_person(&b.mother_resident_id).await?;
                put("mother_resident_id", s(&b.mother_resident_id));
                if let Some(m) = mother {
                    put("mother_name", s(&m.name));
                }
                if let Some(f) = &b.father_resident_id {
                    put("father_resident_id", s(f));
                    if let Some(f) = self.db.registry_person(f).await? {
                        put("father_name", s(&f.name));
                    }
                }
                put("child_name", s(&b.child_name));
                put("child_sex", s(b.child_sex.name_zh()));
                put("birth_date", d(b.birth_date));
                put("hospital", s(&b.hospital));
                put("certificate_no", s(&b.medical_certificate_number));
            }
            "ZJ_DEATH_RECORD" => {
                let Some(death) = self.db.registry_death(subject).await? else {
                    return Ok(None);
                };
                let name = self.db.registry_person(subject).await?.map(|p| p.name);
                put("resident_id", s(&death.resident_id));
                if let Some(n) = name {
                    put("name", s(&n));
                }
                put("death_date", d(death.death_date));
            }
            "ZJ_LEGAL_PERSON_BASIC" => {
                let Some(o) = self.db.legal_person(subject).await? else {
                    return Ok(None);
                };
                put("credit_code", s(o.credit_code.as_str()));
                put("name", s(&o.name));
                put("kind", s(o.kind.as_str()));
                put("legal_representative", s(&o.legal_representative_name));
                put(
                    "legal_representative_id",
                    s(&o.legal_representative_resident_id),
                );
                put("status", s(o.status.as_str()));
                put("registered_address", s(&o.address));
                put("established_on", d(o.established_on));
            }
            _ => return Ok(None),
        }
        Ok(Some(r))
    }
}
