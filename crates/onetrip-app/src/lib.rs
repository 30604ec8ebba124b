//! Use cases of onetrip: each takes its input, validates it with the domain, commits what it
//! changes in one transaction, and then brings derived state (the search index) up to date.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod bundles;
pub mod calendar;
pub mod casegen;
pub mod cases;
pub mod casework;
pub mod catalog;
pub mod certificates;
pub mod config;
pub mod delegations;
pub mod demo;
pub mod face;
pub mod format;
mod idempotency;
pub mod otp;
pub mod outbox;
pub mod partner;
pub mod realname;
pub mod registry;
pub mod resolution;
pub mod sharing;
pub mod sms;
pub mod sso;
pub mod staff;
pub mod supervision;
pub mod uploads;

use std::sync::{Arc, RwLock};

use onetrip_domain::Localized;
use onetrip_domain::calendar::{CalendarError, WorkCalendar};
use onetrip_domain::catalog::Violation;
use onetrip_domain::identity::{OtpPolicy, OtpRefusal, Throttled};
use onetrip_search::{SearchError, SearchIndex};
use onetrip_store::{Db, StoreError};

pub use config::Config;

/// The demo catalog shipped with onetrip (YAML).
pub const DEMO_CATALOG: &str = include_str!("../../../data/demo/catalog.yaml");

/// The demo bundles (一件事), one YAML document each, by file name.
pub fn demo_bundles() -> [(&'static str, &'static str); 14] {
    [
        (
            "birth.yaml",
            include_str!("../../../data/demo/bundles/birth.yaml"),
        ),
        (
            "after_death.yaml",
            include_str!("../../../data/demo/bundles/after_death.yaml"),
        ),
        (
            "veterans.yaml",
            include_str!("../../../data/demo/bundles/veterans.yaml"),
        ),
        (
            "disability.yaml",
            include_str!("../../../data/demo/bundles/disability.yaml"),
        ),
        (
            "utility_transfer.yaml",
            include_str!("../../../data/demo/bundles/utility_transfer.yaml"),
        ),
        (
            "real_estate.yaml",
            include_str!("../../../data/demo/bundles/real_estate.yaml"),
        ),
        (
            "enterprise_startup.yaml",
            include_str!("../../../data/demo/bundles/enterprise_startup.yaml"),
        ),
        (
            "insurance_transfer.yaml",
            include_str!("../../../data/demo/bundles/insurance_transfer.yaml"),
        ),
        (
            "school_enrolment.yaml",
            include_str!("../../../data/demo/bundles/school_enrolment.yaml"),
        ),
        (
            "marriage.yaml",
            include_str!("../../../data/demo/bundles/marriage.yaml"),
        ),
        (
            "retirement.yaml",
            include_str!("../../../data/demo/bundles/retirement.yaml"),
        ),
        (
            "unemployment.yaml",
            include_str!("../../../data/demo/bundles/unemployment.yaml"),
        ),
        (
            "enterprise_deregistration.yaml",
            include_str!("../../../data/demo/bundles/enterprise_deregistration.yaml"),
        ),
        (
            "restaurant.yaml",
            include_str!("../../../data/demo/bundles/restaurant.yaml"),
        ),
    ]
}

/// Today's civil date in China at `now` (UTC+8; China has no daylight saving time).
pub fn china_today(now: jiff::Timestamp) -> jiff::civil::Date {
    now.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .date()
}

/// Errors of the use cases.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Input broke domain rules; every violation is listed.
    #[error("{} violation(s)", .0.len())]
    Invalid(Vec<Violation>),
    /// Input was refused; every problem is listed with the path of its field. Used where the
    /// problems are not catalog [`Violation`]s (registration, sign-in forms…).
    #[error("{} problem(s)", .0.len())]
    Rejected(Vec<FieldProblem>),
    /// A sign-in failed. Deliberately says neither whether the account exists nor which part
    /// was wrong.
    #[error("sign-in failed")]
    SignInFailed,
    /// Too many failed sign-ins for this login name or from this address: refused before
    /// the credentials were checked, with the time from which another attempt is accepted.
    #[error(transparent)]
    Throttled(#[from] Throttled),
    /// Real-name verification failed. Deliberately the same whether the name was wrong, the ID
    /// number is not in the population registry or its record is not active, so that the check
    /// reveals nothing about the registry (see [`realname`]).
    #[error("real-name verification failed")]
    RealNameMismatch,
    /// A one-time code was refused (wrong, expired, used, locked) or may not be sent yet
    /// (cooldown, daily limit). None of these reveals whether an account exists.
    #[error(transparent)]
    Otp(#[from] OtpRefusal),
    /// The SMS gateway could not send a message; nothing usable was left behind, so asking
    /// again is safe.
    #[error("SMS gateway unavailable: {0}")]
    SmsUnavailable(String),
    /// The document could not be read at all (syntax).
    #[error("unreadable document: {0}")]
    Unreadable(String),
    /// Something does not exist.
    #[error("{kind} {key} not found")]
    NotFound {
        /// What kind of thing (item, version, situation, division, department).
        kind: &'static str,
        /// Its key.
        key: String,
    },
    /// A calendar rule or computation failed.
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Search failed.
    #[error(transparent)]
    Search(#[from] SearchError),
    /// A bearer token is malformed, not signed by onetrip, expired or of the wrong kind.
    #[error("invalid token")]
    InvalidToken,
    /// The actor may not do this (not their resource, outside their delegation or scope).
    #[error("refused: {code}")]
    Refused {
        /// Stable code.
        code: &'static str,
        /// Message in Chinese.
        zh: String,
        /// Message in English.
        en: String,
    },
    /// A background task failed (a bug).
    #[error("internal error: {0}")]
    Internal(String),
    /// A consumer exceeded its rate limit for shared data; retry after this many seconds.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until another request is accepted (at least 1).
        retry_after_secs: u64,
    },
}

impl AppError {
    /// A refusal carrying a domain refusal's code and messages.
    pub fn refused(e: &dyn Localized) -> AppError {
        AppError::Refused {
            code: e.code(),
            zh: e.message_zh(),
            en: e.message_en(),
        }
    }
}

fn kind_zh(kind: &str) -> &'static str {
    match kind {
        "item" => "事项",
        "version" => "事项版本",
        "situation" => "办理情形",
        "division" => "行政区划",
        "department" => "部门",
        "account" => "账户",
        "client" => "接入系统",
        "staff" => "工作人员",
        "delegation" => "授权",
        "organisation" => "企业/组织",
        "certificate" => "电子证照",
        "certificate_type" => "证照类型",
        "data_resource" => "数据资源",
        "data_record" => "数据记录",
        "access_request" => "共享申请",
        "grant" => "共享授权",
        "upload" => "上传的文件",
        _ => "资源",
    }
}

impl Localized for AppError {
    fn code(&self) -> &'static str {
        match self {
            AppError::Invalid(_) | AppError::Rejected(_) => "validation_failed",
            AppError::SignInFailed => "sign_in_failed",
            AppError::Throttled(e) => e.code(),
            AppError::RealNameMismatch => "real_name_mismatch",
            AppError::Otp(e) => e.code(),
            AppError::SmsUnavailable(_) => "sms_unavailable",
            AppError::Unreadable(_) => "unreadable_document",
            AppError::NotFound { .. } => "not_found",
            AppError::Calendar(e) => e.code(),
            AppError::Store(e) => e.code(),
            AppError::Search(e) => e.code(),
            AppError::InvalidToken => "invalid_token",
            AppError::Refused { code, .. } => code,
            AppError::Internal(_) => "internal_error",
            AppError::RateLimited { .. } => "rate_limited",
        }
    }

    fn message_zh(&self) -> String {
        match self {
            AppError::Invalid(v) => format!("提交的内容有{}处问题，请逐项修改", v.len()),
            AppError::Rejected(p) => format!("提交的内容有{}处问题，请逐项修改", p.len()),
            AppError::SignInFailed => "手机号码/身份证号码或密码不正确".to_string(),
            AppError::Throttled(e) => e.message_zh(),
            AppError::RealNameMismatch => {
                "实名核验未通过：账户中的姓名和身份证号码与人口信息不一致。请核对后重试，或到窗口办理实名认证"
                    .to_string()
            }
            AppError::Otp(e) => e.message_zh(),
            AppError::SmsUnavailable(_) => "短信暂时无法发送：请稍后重新获取验证码".to_string(),
            AppError::Unreadable(why) => format!("无法读取提交的文档：{why}"),
            AppError::NotFound { kind, key } => format!("{}“{key}”不存在", kind_zh(kind)),
            AppError::Calendar(e) => e.message_zh(),
            AppError::Store(e) => e.message_zh(),
            AppError::Search(e) => e.message_zh(),
            AppError::InvalidToken => "访问令牌无效或已过期：请重新获取令牌".to_string(),
            AppError::Refused { zh, .. } => zh.clone(),
            AppError::Internal(_) => "服务内部错误，请稍后重试".to_string(),
            AppError::RateLimited { retry_after_secs } => {
                format!("调用过于频繁，已超过限额：请在{retry_after_secs}秒后重试")
            }
        }
    }

    fn message_en(&self) -> String {
        match self {
            AppError::Invalid(v) => format!(
                "The submission has {} problem(s); fix each of them",
                v.len()
            ),
            AppError::Rejected(p) => format!(
                "The submission has {} problem(s); fix each of them",
                p.len()
            ),
            AppError::SignInFailed => {
                "The phone number / ID number or the password is wrong".to_string()
            }
            AppError::Throttled(e) => e.message_en(),
            AppError::RealNameMismatch => "Real-name verification failed: the name and ID \
                                            number of the account do not match the population \
                                            registry. Check them and try again, or verify in \
                                            person at a service window"
                .to_string(),
            AppError::Otp(e) => e.message_en(),
            AppError::SmsUnavailable(_) => {
                "The text message could not be sent: ask for a new code in a moment".to_string()
            }
            AppError::Unreadable(why) => format!("The document cannot be read: {why}"),
            AppError::NotFound { kind, key } => format!("{kind} \"{key}\" does not exist"),
            AppError::Calendar(e) => e.message_en(),
            AppError::Store(e) => e.message_en(),
            AppError::Search(e) => e.message_en(),
            AppError::InvalidToken => {
                "The access token is invalid or expired: get a new one".to_string()
            }
            AppError::Refused { en, .. } => en.clone(),
            AppError::Internal(_) => "Internal error; please try again later".to_string(),
            AppError::RateLimited { retry_after_secs } => format!(
                "Too many requests: the rate limit is exceeded; retry in {retry_after_secs} s"
            ),
        }
    }
}

/// One problem with one field of an input, with its stable code and messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// Path of the field, e.g. `resident_id` or `password`.
    pub path: String,
    /// Stable code (the [`Localized::code`] of the domain error).
    pub code: &'static str,
    /// Message in Simplified Chinese.
    pub message_zh: String,
    /// Message in English.
    pub message_en: String,
}

impl FieldProblem {
    /// A problem at `path` from anything localized.
    pub fn new(path: impl Into<String>, e: &dyn Localized) -> Self {
        FieldProblem {
            path: path.into(),
            code: e.code(),
            message_zh: e.message_zh(),
            message_en: e.message_en(),
        }
    }
}

impl Localized for FieldProblem {
    fn code(&self) -> &'static str {
        self.code
    }

    fn message_zh(&self) -> String {
        self.message_zh.clone()
    }

    fn message_en(&self) -> String {
        self.message_en.clone()
    }
}

/// Result of a use case.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// The application: the database, the search index and the working-day calendar.
#[derive(Clone)]
pub struct App {
    /// The database.
    pub db: Db,
    search: Arc<SearchIndex>,
    indexed: Arc<std::sync::Mutex<catalog::IndexedVersions>>,
    items: Arc<catalog::ItemCache>,
    bundles: Arc<bundles::BundleCache>,
    calendar: Arc<RwLock<Arc<WorkCalendar>>>,
    sms: Arc<dyn sms::SmsGateway>,
    face: Arc<dyn face::FaceVerifier>,
    argon2_slots: Arc<tokio::sync::Semaphore>,
    otp_policy: OtpPolicy,
    issuer: Arc<str>,
    sso: Arc<sso::ProviderState>,
    partners: Arc<partner::Partners>,
    certs: Arc<certificates::CertificateState>,
    sharing: Arc<sharing::SharingState>,
    uploads: Arc<uploads::UploadStore>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("db", &self.db.backend())
            .finish_non_exhaustive()
    }
}

/// The issuer when none is configured: the default listening address.
pub const DEFAULT_ISSUER: &str = "http://127.0.0.1:8080";

/// Indexing budget of the search index writer, in bytes (tantivy's minimum per thread).
const SEARCH_WRITER_MEMORY: usize = 15_000_000;

impl App {
    /// Opens the application on `db`: migrates it, loads imported calendar years over the
    /// built-in ones, and builds the search index from the catalog.
    pub async fn open(db: Db) -> Result<App> {
        db.migrate().await?;
        let search = Arc::new(SearchIndex::new(1, SEARCH_WRITER_MEMORY)?);
        let app = App {
            sms: Arc::new(sms::SandboxSms::new(db.clone())),
            face: Arc::new(face::SandboxFace::default()),
            argon2_slots: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, usize::from),
            )),
            otp_policy: OtpPolicy::default(),
            issuer: Arc::from(DEFAULT_ISSUER),
            sso: Arc::default(),
            partners: Arc::default(),
            certs: Arc::new(certificates::CertificateState::new(Arc::new(
                certificates::SoftwareSigner::new(db.clone()),
            ))),
            sharing: Arc::default(),
            uploads: Arc::new(uploads::UploadStore::in_memory()),
            db,
            search,
            indexed: Arc::default(),
            items: Arc::default(),
            bundles: Arc::default(),
            calendar: Arc::new(RwLock::new(Arc::new(WorkCalendar::builtin()))),
        };
        app.reload_calendar().await?;
        app.rebuild_search_index().await?;
        Ok(app)
    }

    /// Connects to `url`, then [`App::open`].
    pub async fn connect(url: &str) -> Result<App> {
        App::open(Db::connect(url).await?).await
    }

    /// This application sending SMS through `gateway` (the default is a [`sms::SandboxSms`]
    /// on the same database).
    pub fn with_sms_gateway(mut self, gateway: Arc<dyn sms::SmsGateway>) -> App {
        self.sms = gateway;
        self
    }

    /// This application trusting `partners` (跨省通办), each with the client that talks to it
    /// ([`partner::HttpsPartner`] in production, [`partner::SandboxPartner`] in tests); replaces
    /// any partners configured before.
    pub fn with_partners(
        mut self,
        partners: Vec<(partner::PartnerConfig, Arc<dyn partner::PartnerPlatform>)>,
    ) -> App {
        self.partners = Arc::new(partner::Partners::new(partners));
        self
    }

    /// This application with `issuer` as its public base URL (the OpenID Connect issuer and
    /// the base of the links it sends), without a trailing slash.
    pub fn with_issuer(mut self, issuer: &str) -> App {
        self.issuer = Arc::from(issuer.trim_end_matches('/'));
        self
    }

    /// This application checking faces with `verifier` (the default is a
    /// [`face::SandboxFace`]).
    pub fn with_face_verifier(mut self, verifier: Arc<dyn face::FaceVerifier>) -> App {
        self.face = verifier;
        self
    }

    /// This application with another one-time code policy (the default is
    /// [`OtpPolicy::default`]).
    pub fn with_otp_policy(mut self, policy: OtpPolicy) -> App {
        self.otp_policy = policy;
        self
    }

    /// The one-time code policy.
    pub fn otp_policy(&self) -> &OtpPolicy {
        &self.otp_policy
    }

    /// The search index.
    pub fn search_index(&self) -> &SearchIndex {
        &self.search
    }

    /// Keeps the search index current with catalog changes made by other replicas, checking
    /// every `interval`. Runs until the process ends.
    pub fn spawn_search_refresher(
        &self,
        interval: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                if let Err(e) = app.refresh_search_index().await {
                    tracing::warn!(error = %e, "search index refresh failed");
                }
            }
        })
    }

    /// Deletes expired web sessions every `interval` (they are ignored when read anyway; this
    /// keeps the table small). Runs until the process ends; several replicas may run it.
    pub fn spawn_session_sweeper(
        &self,
        interval: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        let db = self.db.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                match db.delete_expired_sessions(jiff::Timestamp::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(deleted = n, "expired sessions deleted"),
                    Err(e) => tracing::warn!(error = %e, "expired sessions not deleted"),
                }
            }
        })
    }

    /// Loads the demo data where it is missing: the demo population registry (demo-only, see
    /// [`realname`]) when the registry is empty, the demo registry story (households,
    /// marriages, births, organisations, see [`registry`]) when it is not there yet, the demo
    /// data catalog with its item grants ([`sharing`]) when there are no data resources, and
    /// the demo catalog when the catalog is empty; then the demo certificate types and the demo
    /// citizen's certificates where there are none ([`App::load_demo_certificates_if_empty`]).
    /// Returns whether it loaded the catalog.
    pub async fn load_demo_if_empty(&self, now: jiff::Timestamp) -> Result<bool> {
        self.load_demo_population_if_empty().await?;
        self.load_demo_registry_if_empty(crate::china_today(now))
            .await?;
        self.load_demo_data_catalog_if_empty(now).await?;
        if self.db.item_count().await? > 0 {
            self.load_demo_certificates_if_empty(now).await?;
            self.load_demo_bundles_if_empty(now).await?;
            return Ok(false);
        }
        let catalog = format::parse_catalog(DEMO_CATALOG, format::DocumentFormat::Yaml)
            .map_err(AppError::Invalid)?;
        self.import_catalog(catalog, now).await?;
        self.load_demo_certificates_if_empty(now).await?;
        self.load_demo_bundles_if_empty(now).await?;
        Ok(true)
    }
}
