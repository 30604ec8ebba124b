//! The `onetrip` command: serve the platform, try it with demo data, migrate the database, import
//! and export the catalog, load calendar years, generate, import and export the base registries,
//! and print the effective configuration.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use onetrip_app::config::{Config, LogFormat, Overrides};
use onetrip_app::format::{self, DocumentFormat};
use onetrip_app::{App, AppError};
use onetrip_domain::Localized;
use secrecy::SecretString;
use tokio::net::TcpListener;

#[derive(Debug, Parser)]
#[command(
    name = "onetrip",
    version,
    about = "onetrip 一体化在线政务服务平台 — integrated online government services"
)]
struct Cli {
    /// Configuration file (default: ./onetrip.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args, Clone, Default)]
struct StorageArgs {
    /// Directory for the embedded database (overrides ONETRIP_DATA_DIR).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL, e.g. postgres://user@host/db (overrides ONETRIP_DATABASE_URL).
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
}

#[derive(Debug, Args, Clone, Default)]
struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:8080; port 0 picks a free port (overrides ONETRIP_LISTEN).
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<SocketAddr>,
    #[command(flatten)]
    storage: StorageArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve {
        #[command(flatten)]
        args: ServeArgs,
        /// Load the demo catalog when the database is empty.
        #[arg(long)]
        demo: bool,
    },
    /// Serve with the demo catalog: the one-command experience.
    Demo {
        #[command(flatten)]
        args: ServeArgs,
    },
    /// Apply database migrations.
    Migrate {
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Check every case's hash-chained event log. Exits 0 when every chain is intact, 1 listing
    /// the broken case numbers otherwise.
    Verify {
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Print the effective configuration (secrets hidden).
    Config {
        #[command(flatten)]
        args: ServeArgs,
    },
    /// Import and export the service catalog.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Manage the working-day calendar.
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// Manage staff accounts from the server's command line (the operator's bootstrap).
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Manage the single sign-on signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage departments' electronic seals (SM2 keys that sign certificates).
    #[command(subcommand)]
    Seal(SealCommand),
    /// Generate a realistic population and legal-person registry, and cases (deterministic for a
    /// seed).
    Generate(GenerateArgs),
    /// Import and export the base registries (人口综合库, 法人综合库).
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Manage the data catalog (数据目录) of shared data.
    #[command(subcommand)]
    Data(DataCommand),
}

#[derive(Debug, Subcommand)]
enum SealCommand {
    /// Retire a department's seal key and make a new one. Certificates sealed with the old key
    /// stay verifiable (retired keys stay registered).
    Rotate {
        /// Department credit code, or PLATFORM for the key that signs presentations.
        #[arg(long)]
        department: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Debug, Args)]
struct GenerateArgs {
    /// Persons to generate.
    #[arg(long, default_value_t = 0)]
    people: u64,
    /// Organisations to generate (their legal representatives are generated persons).
    #[arg(long, default_value_t = 0)]
    organisations: u64,
    /// Seed: the same seed (with the same counts and as-of date) gives the same registry.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The day the registry describes, YYYY-MM-DD (default: today in China).
    #[arg(long, value_name = "DATE")]
    as_of: Option<jiff::civil::Date>,
    /// Generator threads (default: the number of cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Only generate, write nothing (measures the generator alone; registries only).
    #[arg(long)]
    dry_run: bool,
    /// Cases to generate (one single-item application each) for the catalog's items; the
    /// demo catalog is loaded first when the catalog is empty.
    #[arg(long, default_value_t = 0)]
    cases: u64,
    /// Days of submissions the cases spread over, ending on the as-of date.
    #[arg(long, default_value_t = 365)]
    case_days: u32,
    /// Also write every generated case's hash-chained event log (about 5 rows per case).
    #[arg(long)]
    case_events: bool,
    #[command(flatten)]
    storage: StorageArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RegistryKindArg {
    Persons,
    Households,
    Marriages,
    Births,
    Deaths,
    Organisations,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RegistryFormatArg {
    Csv,
    Jsonl,
    Json,
}

#[derive(Debug, Subcommand)]
enum RegistryCommand {
    /// Import registry rows from CSV, JSON Lines or a JSON array. Rows that fail validation
    /// are reported with their line number; the valid rows are kept.
    Import {
        /// What the file holds.
        #[arg(long, value_enum)]
        kind: RegistryKindArg,
        /// The file.
        file: PathBuf,
        /// Format (default: from the file name: .csv, .jsonl, .json).
        #[arg(long, value_enum)]
        format: Option<RegistryFormatArg>,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Export the registries as JSON Lines (one object per person / organisation).
    Export {
        /// Output file for persons.
        #[arg(long, value_name = "FILE.jsonl")]
        people: Option<PathBuf>,
        /// Output file for organisations.
        #[arg(long, value_name = "FILE.jsonl")]
        organisations: Option<PathBuf>,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

/// Reports generation progress: a progress bar on a terminal, a line per tenth otherwise.
struct GenerateBar {
    bar: Option<indicatif::ProgressBar>,
    last_tenth: std::sync::atomic::AtomicU64,
    unit: &'static str,
}

impl GenerateBar {
    fn new(total: u64, unit: &'static str) -> Self {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
                "{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{human_pos}}/{{human_len}} {unit} \
                 ({{per_sec}}, eta {{eta}})"
            )) {
                bar.set_style(style);
            }
            bar
        });
        GenerateBar {
            bar,
            last_tenth: std::sync::atomic::AtomicU64::new(0),
            unit,
        }
    }

    fn update(&self, p: onetrip_app::registry::GenerateProgress) {
        self.set(p.persons_done, p.persons_total);
    }

    fn set(&self, done: u64, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            return;
        }
        let tenth = (done * 10).checked_div(total).unwrap_or(10);
        let last = self
            .last_tenth
            .fetch_max(tenth, std::sync::atomic::Ordering::Relaxed);
        if tenth > last {
            eprintln!("generated {done}/{total} {} ({}%)", self.unit, tenth * 10);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}

async fn generate(config_file: Option<&Path>, args: GenerateArgs) -> anyhow::Result<()> {
    let config = load_config(config_file, &storage_only(&args.storage))?;
    init_logging(&config);
    let as_of = args
        .as_of
        .unwrap_or_else(|| onetrip_app::china_today(jiff::Timestamp::now()));
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    let gen_config = onetrip_domain::registry::generator::GeneratorConfig {
        people: args.people,
        organisations: args.organisations,
        seed: args.seed,
        as_of,
    };
    anyhow::ensure!(
        args.people > 0 || args.cases > 0,
        "nothing to generate: give --people and/or --cases"
    );
    let bar = GenerateBar::new(args.people, "persons");
    if args.dry_run {
        let started = std::time::Instant::now();
        let counts =
            onetrip_app::registry::generate_dry_run(gen_config, threads, &|p| bar.update(p))
                .map_err(report)?;
        bar.finish();
        let secs = started.elapsed().as_secs_f64();
        println!(
            "generated (not written) {} persons, {} households, {} marriages, {} births, {} deaths, {} organisations in {secs:.2} s: {:.0} persons/s",
            counts.persons,
            counts.households,
            counts.marriages,
            counts.births,
            counts.deaths,
            counts.legal_persons,
            counts.persons as f64 / secs.max(1e-9)
        );
        return Ok(());
    }
    let app = open_app(&config).await?;
    if args.people > 0 {
        generate_registry(&app, gen_config, threads, &bar).await?;
    }
    if args.cases > 0 {
        let case_config = onetrip_app::casegen::CaseGenConfig {
            cases: args.cases,
            seed: args.seed,
            as_of,
            days: args.case_days,
            events: args.case_events,
        };
        let bar = GenerateBar::new(args.cases, "cases");
        let r = app
            .generate_cases(case_config, threads, |p| bar.set(p.done, p.total))
            .await
            .map_err(report)?;
        bar.finish();
        println!(
            "generated {} cases ({} open), {} applications, {} events in {:.2} s: {:.0} cases/s (generating {:.2} s on {threads} threads, writing {:.2} s)",
            r.cases,
            r.open,
            r.applications,
            r.events,
            r.elapsed.as_secs_f64(),
            r.cases_per_second(),
            r.generating.as_secs_f64(),
            r.writing.as_secs_f64()
        );
    }
    Ok(())
}

async fn generate_registry(
    app: &App,
    gen_config: onetrip_domain::registry::generator::GeneratorConfig,
    threads: usize,
    bar: &GenerateBar,
) -> anyhow::Result<()> {
    let r = app
        .generate_registry(gen_config, threads, |p| bar.update(p))
        .await
        .map_err(report)?;
    bar.finish();
    let c = r.counts;
    println!(
        "generated {} persons, {} households, {} marriages, {} births, {} deaths, {} organisations in {:.2} s: {:.0} persons/s (generating {:.2} s on {threads} threads, writing {:.2} s)",
        c.persons,
        c.households,
        c.marriages,
        c.births,
        c.deaths,
        c.legal_persons,
        r.elapsed.as_secs_f64(),
        r.persons_per_second(),
        r.generating.as_secs_f64(),
        r.writing.as_secs_f64()
    );
    Ok(())
}

async fn registry_command(config_file: Option<&Path>, cmd: RegistryCommand) -> anyhow::Result<()> {
    use onetrip_app::registry::{ImportFormat, RegistryKind};
    match cmd {
        RegistryCommand::Import {
            kind,
            file,
            format,
            storage,
        } => {
            let config = load_config(config_file, &storage_only(&storage))?;
            init_logging(&config);
            let kind = match kind {
                RegistryKindArg::Persons => RegistryKind::Persons,
                RegistryKindArg::Households => RegistryKind::Households,
                RegistryKindArg::Marriages => RegistryKind::Marriages,
                RegistryKindArg::Births => RegistryKind::Births,
                RegistryKindArg::Deaths => RegistryKind::Deaths,
                RegistryKindArg::Organisations => RegistryKind::Organisations,
            };
            let format = match format {
                Some(RegistryFormatArg::Csv) => ImportFormat::Csv,
                Some(RegistryFormatArg::Jsonl) => ImportFormat::JsonLines,
                Some(RegistryFormatArg::Json) => ImportFormat::JsonArray,
                None => ImportFormat::from_path(&file).with_context(|| {
                    format!(
                        "cannot tell the format of {} from its name: give --format csv|jsonl|json",
                        file.display()
                    )
                })?,
            };
            let reader = std::io::BufReader::new(
                std::fs::File::open(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?,
            );
            let app = open_app(&config).await?;
            let today = onetrip_app::china_today(jiff::Timestamp::now());
            let r = app
                .import_registry(kind, format, Box::new(reader), today)
                .await
                .map_err(report)?;
            for p in &r.problems {
                let field = if p.field.is_empty() {
                    "-"
                } else {
                    p.field.as_str()
                };
                println!(
                    "line {}: {field}: [{}] {} / {}",
                    p.line, p.code, p.message_zh, p.message_en
                );
            }
            if (r.problems.len() as u64) < r.rejected {
                println!("(only the first {} problems are listed)", r.problems.len());
            }
            println!(
                "{}: {} rows read, {} imported, {} rejected",
                kind.as_str(),
                r.rows,
                r.imported,
                r.rejected
            );
            Ok(())
        }
        RegistryCommand::Export {
            people,
            organisations,
            storage,
        } => {
            let config = load_config(config_file, &storage_only(&storage))?;
            init_logging(&config);
            if people.is_none() && organisations.is_none() {
                anyhow::bail!(
                    "nothing to export: give --people FILE.jsonl and/or --organisations FILE.jsonl"
                );
            }
            let app = open_app(&config).await?;
            let today = onetrip_app::china_today(jiff::Timestamp::now());
            if let Some(path) = people {
                let file = std::fs::File::create(&path)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
                let n = app
                    .export_persons_jsonl(&mut out, today)
                    .await
                    .map_err(report)?;
                println!("exported {n} persons to {}", path.display());
            }
            if let Some(path) = organisations {
                let file = std::fs::File::create(&path)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
                let n = app
                    .export_organisations_jsonl(&mut out)
                    .await
                    .map_err(report)?;
                println!("exported {n} organisations to {}", path.display());
            }
            Ok(())
        }
    }
}

#[derive(Debug, Subcommand)]
enum DataCommand {
    /// Import a data catalog document (YAML or JSON, as data/demo/data_catalog.yaml): inserts
    /// or replaces its resources and stores its records. Every problem is listed; an invalid
    /// file changes nothing.
    Import {
        /// The document.
        file: PathBuf,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Make new signing keys; the current ones stay published for a day so that tokens they
    /// signed remain verifiable. Restart (or wait for) the other replicas to pick them up.
    Rotate {
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Debug, Subcommand)]
enum StaffCommand {
    /// Create a member of staff with one role; prints the initial password once. Use it for the
    /// first system administrator, who then manages staff on the web (with TOTP).
    Create {
        /// Sign-in name (3–32 of a-z 0-9 . _ -).
        #[arg(long)]
        username: String,
        /// Name.
        #[arg(long)]
        name: String,
        /// Credit code of the department.
        #[arg(long)]
        department: String,
        /// Division code the role is held in (and the staff member works in).
        #[arg(long)]
        division: String,
        /// Role: window_clerk, department_officer, department_head, supervisor,
        /// catalog_administrator, data_administrator, system_administrator.
        #[arg(long)]
        role: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Json,
    Yaml,
}

#[derive(Debug, Subcommand)]
enum CatalogCommand {
    /// Import a catalog document (JSON or YAML). Every problem is listed; an invalid file changes nothing.
    Import {
        /// The document.
        file: PathBuf,
        /// Format (default: from the file name, else from the content).
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
        /// Only validate; save nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Export the current catalog.
    Export {
        /// Output file.
        file: PathBuf,
        /// Format (default: from the file name, else JSON).
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

#[derive(Debug, Subcommand)]
enum CalendarCommand {
    /// Load one year's official schedule (JSON, see data/calendar/), replacing that year.
    Import {
        /// The schedule.
        file: PathBuf,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// The date N working days after START.
    Deadline {
        /// Start date, YYYY-MM-DD (not counted).
        start: jiff::civil::Date,
        /// Working days.
        working_days: u32,
        #[command(flatten)]
        storage: StorageArgs,
    },
}

fn to_doc_format(f: Option<FormatArg>, path: &Path) -> Option<DocumentFormat> {
    match f {
        Some(FormatArg::Json) => Some(DocumentFormat::Json),
        Some(FormatArg::Yaml) => Some(DocumentFormat::Yaml),
        None => DocumentFormat::from_path(path),
    }
}

fn load_config(cli_config: Option<&Path>, args: &ServeArgs) -> anyhow::Result<Config> {
    let env: HashMap<String, String> = std::env::vars()
        .filter(|(k, _)| k.starts_with("ONETRIP_"))
        .collect();
    let overrides = Overrides {
        listen: args.listen,
        data_dir: args.storage.data_dir.clone(),
        database_url: args.storage.database_url.clone(),
    };
    Ok(Config::load(cli_config, &env, &overrides)?)
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log.filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn open_app(config: &Config) -> anyhow::Result<App> {
    if config.storage.database_url.is_none() {
        std::fs::create_dir_all(&config.storage.data_dir).with_context(|| {
            format!(
                "cannot create the data directory {}",
                config.storage.data_dir.display()
            )
        })?;
    }
    let url = config.storage.effective_database_url();
    let uploads =
        onetrip_app::uploads::UploadStore::from_config(&config.uploads, &config.storage.data_dir)
            .map_err(report)?;
    let app = App::connect(&url).await.map_err(report).with_context(|| {
        format!(
            "cannot open the database {}",
            onetrip_store::redact_url(&url)
        )
    })?;
    // Seal keys: encrypted at rest under the configured key-encryption key, if there is one
    // (`serve` warns when there is none).
    let kek = config
        .certificates
        .kek()
        .context("ONETRIP_SEAL_KEK / [certificates] seal_kek")?;
    let app = match kek {
        Some(kek) => {
            let signer = onetrip_app::certificates::SoftwareSigner::with_kek(app.db.clone(), kek);
            app.with_seal_signer(std::sync::Arc::new(signer))
        }
        None => app,
    };
    Ok(app.with_upload_store(uploads))
}

/// Turns a use-case error into a readable message listing every problem (in both languages).
fn report(e: AppError) -> anyhow::Error {
    let mut text = format!("{} / {}", e.message_zh(), e.message_en());
    if let AppError::Invalid(violations) = &e {
        for v in violations {
            text.push_str(&format!(
                "\n  - {} [{}]\n    {}",
                v.message_zh(),
                v.code(),
                v.message_en()
            ));
        }
    }
    if let AppError::Calendar(onetrip_domain::calendar::CalendarError::InvalidSchedule(problems)) =
        &e
    {
        for p in problems {
            text.push_str(&format!(
                "\n  - {} [{}]\n    {}",
                p.message_zh(),
                p.code(),
                p.message_en()
            ));
        }
    }
    anyhow::anyhow!(text)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

async fn serve(mut config: Config, demo: bool, announce_demo: bool) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    onetrip_app::partner::check_partners(&config.partners)
        .map_err(|e| anyhow::anyhow!("invalid [[partners]] configuration: {e}"))?;
    let app = open_app(&config).await?;
    if demo
        && app
            .load_demo_if_empty(jiff::Timestamp::now())
            .await
            .map_err(report)?
    {
        tracing::info!("demo catalog loaded");
    }
    if demo {
        // The demo applications are a showcase: serve without them rather than not at all.
        match app.load_demo_cases_if_empty(jiff::Timestamp::now()).await {
            Ok(0) => {}
            Ok(made) => tracing::info!(applications = made, "demo applications loaded"),
            Err(e) => tracing::warn!(error = %e, "demo applications not loaded"),
        }
    }
    let demo_staff = if demo {
        match app.load_demo_staff(jiff::Timestamp::now()).await {
            Ok(staff) => staff,
            Err(e) => {
                tracing::warn!(error = %e, "demo staff not made");
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    let mut generated_token = None;
    if announce_demo && config.admin.token.is_none() {
        let token = uuid::Uuid::new_v4().simple().to_string();
        config.admin.token = Some(SecretString::from(token.clone()));
        generated_token = Some(token);
    }
    // Other replicas may publish catalog changes; pick them up for this replica's search index.
    app.spawn_search_refresher(std::time::Duration::from_secs(5));
    app.spawn_session_sweeper(std::time::Duration::from_secs(3600));
    // Deadline warnings and webhook deliveries: leased, so any number of replicas may run them.
    app.spawn_deadline_scanner(
        format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
        std::time::Duration::from_secs(60),
    );
    app.spawn_outbox_dispatcher(std::time::Duration::from_secs(2));
    if config.certificates.seal_kek.is_none() {
        tracing::warn!(
            "no seal key-encryption key configured (ONETRIP_SEAL_KEK): the departments' seal \
             keys are stored unencrypted in the database"
        );
    }
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let addr = listener.local_addr()?;
    let public_url = match &config.server.public_url {
        Some(_) => config.server.effective_public_url(),
        None => format!("http://{addr}"),
    };
    let app = app
        .with_issuer(&public_url)
        .with_sharing_config(config.sharing);
    // Partner platforms of other provinces (跨省通办), reached over HTTPS.
    let app = if config.partners.is_empty() {
        app
    } else {
        let client: std::sync::Arc<dyn onetrip_app::partner::PartnerPlatform> = std::sync::Arc::new(
            onetrip_app::partner::HttpsPartner::new()
                .map_err(|e| anyhow::anyhow!("partner HTTP client: {e}"))?,
        );
        let names: Vec<&str> = config.partners.iter().map(|p| p.name.as_str()).collect();
        tracing::info!(partners = ?names, "partner platforms trusted for sign-in");
        app.with_partners(
            config
                .partners
                .iter()
                .map(|p| (p.clone(), client.clone()))
                .collect(),
        )
    };
    let state = onetrip_web::AppState {
        app: app.clone(),
        admin_token: config.admin.token.clone(),
        cookie_secure: public_url.starts_with("https://"),
        dev_pages: demo,
    };
    let router = onetrip_web::router(state);
    tracing::info!(%addr, ready_ms = started.elapsed().as_millis() as u64, "onetrip listening");
    if announce_demo {
        println!("onetrip demo is running: http://{addr}/");
        println!("  search:   http://{addr}/api/v1/items?q=公积金");
        println!("  API spec: http://{addr}/api/v1/openapi.json");
        if let Some(token) = generated_token {
            println!("  admin token for catalog writes (this run only): {token}");
        }
        if !demo_staff.is_empty() {
            println!("  staff sign-in: http://{addr}/staff/sign-in");
            for s in &demo_staff {
                match &s.password {
                    Some(p) => println!(
                        "    {:<16} {:<44} password {}",
                        s.username,
                        s.role,
                        secrecy::ExposeSecret::expose_secret(p)
                    ),
                    None => println!(
                        "    {:<16} {:<44} (password shown when it was made)",
                        s.username, s.role
                    ),
                }
            }
        }
        println!("Press Ctrl-C to stop.");
    } else {
        println!("onetrip listening on http://{addr}/");
    }
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("server failed")?;
    app.db.close().await;
    Ok(())
}

fn storage_only(storage: &StorageArgs) -> ServeArgs {
    ServeArgs {
        listen: None,
        storage: storage.clone(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config_file = cli.config.as_deref();
    match cli.command {
        Command::Serve { args, demo } => {
            let config = load_config(config_file, &args)?;
            init_logging(&config);
            serve(config, demo, false).await
        }
        Command::Demo { args } => {
            let config = load_config(config_file, &args)?;
            init_logging(&config);
            serve(config, true, true).await
        }
        Command::Migrate { storage } => {
            let config = load_config(config_file, &storage_only(&storage))?;
            init_logging(&config);
            open_app(&config).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::Verify { storage } => {
            let config = load_config(config_file, &storage_only(&storage))?;
            init_logging(&config);
            let app = open_app(&config).await?;
            let broken = app.verify_event_chains().await.map_err(report)?;
            if broken.is_empty() {
                println!("every case's event chain is intact");
                Ok(())
            } else {
                for number in &broken {
                    println!("broken: {number}");
                }
                eprintln!("{} case(s) with a broken event chain", broken.len());
                std::process::exit(1);
            }
        }
        Command::Config { args } => {
            let config = load_config(config_file, &args)?;
            print!("{}", config.to_display_toml());
            Ok(())
        }
        Command::Catalog(CatalogCommand::Import {
            file,
            format: f,
            dry_run,
            storage,
        }) => {
            let config = load_config(config_file, &storage_only(&storage))?;
            init_logging(&config);
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let fmt = to_doc_format(f, &file).unwrap_or_else(|| DocumentFormat::sniff(&text));
            let catalog =
                format::parse_catalog(&text, fmt).map_err(|v| report(AppError::Invalid(v)))?;
            let app = open_app(&config).await?;
            if dry_run {
                let known = app.db.known_codes().await.map_err(|e| report(e.into()))?;
                let violations = onetrip_domain::catalog::validate_catalog(&catalog, &known);
                if !violations.is_empty() {
                    return Err(report(AppError::Invalid(violations)));
                }
                println!(
                    "valid: {} divisions, {} departments, {} items (nothing saved)",
                    catalog.divisions.len(),
                    catalog.departments.len(),
                    catalog.items.len()
                );
                return Ok(());
            }
            let r = app
                .import_catalog(catalog, jiff::Timestamp::now())
                .await
                .map_err(report)?;
            println!(
                "imported: {} divisions, {} departments; items: {} new, {} new versions, {} unchanged",
                r.divisions, r.departments, r.items_created, r.items_versioned, r.items_unchanged
            );
            Ok(())
        }
        Command::Catalog(CatalogCommand::Export {
            file,
            format: f,
            storage,
        }) => {
            let config = load_config(config_file, &storage_only(&storage))?;
            init_logging(&config);
            let app = open_app(&config).await?;
            let catalog = app.export_catalog().await.map_err(report)?;
            let fmt = to_doc_format(f, &file).unwrap_or(DocumentFormat::Json);
            let text = format::write_catalog(&catalog, fmt).map_err(report)?;
            std::fs::write(&file, text)
                .with_context(|| format!("cannot write {}", file.display()))?;
            println!(
                "exported {} items to {}",
                catalog.items.len(),
                file.display()
            );
            Ok(())
        }
        Command::Calendar(CalendarCommand::Import { file, storage }) => {
            let config = load_config(config_file, &storage_only(&storage))?;
            init_logging(&config);
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let app = open_app(&config).await?;
            let schedule = app
                .import_calendar_year(&text, jiff::Timestamp::now())
                .await
                .map_err(report)?;
            println!(
                "imported the {} schedule ({})",
                schedule.year(),
                schedule.source()
            );
            Ok(())
        }
        Command::Staff(StaffCommand::Create {
            username,
            name,
            department,
            division,
            role,
            storage,
        }) => {
            let config = load_config(config_file, &storage_only(&storage))?;
            init_logging(&config);
            let role: onetrip_domain::identity::StaffRole =
                serde_json::from_value(serde_json::Value::String(role.clone()))
                    .with_context(|| format!("unknown role {role:?}"))?;
            let grant_division = onetrip_domain::identifiers::DivisionCode::parse(&division)
                .map_err(|e| {
                    anyhow::anyhow!(
                        "division {division:?}: {}",
                        onetrip_domain::Localized::message_en(&e)
                    )
                })?;
            let department_of_role =
                onetrip_domain::identity::role_needs_department(role).then(|| department.clone());
            let app = open_app(&config).await?;
            let created = app
                .create_staff(
                    &onetrip_app::staff::Granter::Bootstrap,
                    onetrip_app::staff::NewStaffInput {
                        username: username.clone(),
                        name,
                        department_code: department,
                        division_code: division,
                        roles: vec![onetrip_domain::identity::RoleGrant {
                            role,
                            division: grant_division,
                            department: department_of_role,
                        }],
                    },
                    jiff::Timestamp::now(),
                )
                .await
                .map_err(report)?;
            println!("created {username} ({})", created.id);
            println!(
                "initial password (shown once): {}",
                secrecy::ExposeSecret::expose_secret(&created.initial_password)
            );
            if role.requires_totp() {
                println!(
                    "this role needs TOTP: sign in, then enrol an authenticator at POST /api/v1/staff/me/totp"
                );
            }
            Ok(())
        }
        Command::Data(DataCommand::Import { file, storage }) => {
            let config = load_config(config_file, &storage_only(&storage))?;
            init_logging(&config);
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let doc = onetrip_app::sharing::parse_data_catalog(&text).map_err(report)?;
            let app = open_app(&config).await?;
            let (resources, records) = app
                .import_data_catalog(&doc, jiff::Timestamp::now())
                .await
                .map_err(report)?;
            println!("imported: {resources} data resources, {records} records");
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate { storage }) => {
            let config = load_config(config_file, &storage_only(&storage))?;
            init_logging(&config);
            let app = open_app(&config).await?;
            app.rotate_signing_keys(jiff::Timestamp::now())
                .await
                .map_err(report)?;
            let jwks = app.jwks(jiff::Timestamp::now()).await.map_err(report)?;
            let kids: Vec<String> = jwks["keys"]
                .as_array()
                .map(|keys| {
                    keys.iter()
                        .filter_map(|k| k["kid"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            println!("signing keys rotated; published: {}", kids.join(", "));
            Ok(())
        }
        Command::Seal(SealCommand::Rotate {
            department,
            storage,
        }) => {
            let config = load_config(config_file, &storage_only(&storage))?;
            init_logging(&config);
            let app = open_app(&config).await?;
            let key = app
                .rotate_seal(&department, jiff::Timestamp::now())
                .await
                .map_err(report)?;
            println!("seal of {department} rotated; new key: {key}");
            Ok(())
        }
        Command::Generate(args) => generate(config_file, args).await,
        Command::Registry(cmd) => registry_command(config_file, cmd).await,
        Command::Calendar(CalendarCommand::Deadline {
            start,
            working_days,
            storage,
        }) => {
            let config = load_config(config_file, &storage_only(&storage))?;
            let app = open_app(&config).await?;
            let d = app.deadline(start, working_days).map_err(report)?;
            if d.provisional {
                println!(
                    "{} (provisional: a year without a published schedule was assumed Monday–Friday)",
                    d.due
                );
            } else {
                println!("{}", d.due);
            }
            Ok(())
        }
    }
}
