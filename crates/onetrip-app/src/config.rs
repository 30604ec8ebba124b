//! Configuration: built-in defaults, then `onetrip.toml`, then `ONETRIP_*` environment variables,
//! then command-line flags. Each concern has its own section; secrets never appear in `Debug` or
//! in [`Config::to_display_toml`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// Errors while loading configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// File path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The configuration file is not valid TOML for onetrip.
    #[error("invalid configuration file {path}: {message}")]
    Parse {
        /// File path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An environment variable or flag has an invalid value.
    #[error("invalid value for {name}: {message}")]
    Value {
        /// Variable or flag name.
        name: String,
        /// What is wrong.
        message: String,
    },
}

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The HTTP server.
    pub server: ServerConfig,
    /// Storage: the data directory and the database.
    pub storage: StorageConfig,
    /// Administration.
    pub admin: AdminConfig,
    /// Logging.
    pub log: LogConfig,
    /// Partner platforms of other provinces trusted for sign-in (`[[partners]]`, see
    /// [`crate::partner::PartnerConfig`]); none by default.
    #[serde(default)]
    pub partners: Vec<crate::partner::PartnerConfig>,
    /// Data sharing: approval deadline and per-consumer rate limits (`[sharing]`).
    #[serde(default)]
    pub sharing: crate::sharing::SharingConfig,
    /// Uploaded files: where they are kept and how large one may be (`[uploads]`).
    #[serde(default)]
    pub uploads: crate::uploads::UploadConfig,
    /// Electronic certificates: the key that encrypts seal keys at rest (`[certificates]`).
    #[serde(default)]
    pub certificates: CertificatesConfig,
}

/// Electronic certificates.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CertificatesConfig {
    /// The key-encryption key (KEK) of the departments' seal keys: 32 hexadecimal digits, an
    /// SM4 key (`ONETRIP_SEAL_KEK`). With it, every seal key the software signer makes is stored
    /// encrypted (SM4-GCM), and keys so stored cannot be used without it. Without it, seal keys
    /// are stored as plain PKCS#8 and a warning is logged at start. Keep it out of the
    /// database and its backups; losing it makes the encrypted keys unusable (certificates
    /// already issued stay verifiable: verification needs only the public keys).
    pub seal_kek: Option<SecretString>,
}

impl CertificatesConfig {
    /// The configured key-encryption key, parsed (`None` when there is none).
    pub fn kek(&self) -> Result<Option<onetrip_seal::KeyEncryptionKey>, onetrip_seal::KekError> {
        self.seal_kek
            .as_ref()
            .map(|kek| onetrip_seal::KeyEncryptionKey::from_hex(kek.expose_secret()))
            .transpose()
    }
}

/// The HTTP server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port to listen on (`ONETRIP_LISTEN`, `--listen`).
    pub listen: SocketAddr,
    /// The public base URL users and department systems reach onetrip at, e.g.
    /// `https://zwfw.example.gov.cn` (`ONETRIP_PUBLIC_URL`): the OpenID Connect issuer.
    /// Default: `http://` + the listen address. Session cookies are `Secure` when it is https.
    pub public_url: Option<String>,
}

impl ServerConfig {
    /// The effective public base URL, without a trailing slash.
    pub fn effective_public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
        }
    }
}

/// Storage.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Directory for the embedded database and local files (`ONETRIP_DATA_DIR`, `--data-dir`).
    pub data_dir: PathBuf,
    /// Database URL; embedded SQLite under `data_dir` when absent (`ONETRIP_DATABASE_URL`,
    /// `--database-url`). May contain a password, so it is a secret.
    pub database_url: Option<SecretString>,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            data_dir: PathBuf::from("./onetrip-data"),
            database_url: None,
        }
    }
}

impl StorageConfig {
    /// The database URL in effect: the configured one, or SQLite in the data directory.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose_secret().to_string(),
            None => format!("sqlite://{}", self.data_dir.join("onetrip.db").display()),
        }
    }
}

/// Administration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Bearer token that authorises catalog and calendar writes (`ONETRIP_ADMIN_TOKEN`). When
    /// absent, writes are refused. Replaced by staff roles once identity lands.
    pub token: Option<SecretString>,
}

/// Log output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Logging.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `tracing` filter directives, e.g. `info,onetrip=debug` (`ONETRIP_LOG`).
    pub filter: String,
    /// Output format (`ONETRIP_LOG_FORMAT`).
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            filter: "info".to_string(),
            format: LogFormat::Text,
        }
    }
}

/// Values given on the command line; they win over everything else.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--listen`
    pub listen: Option<SocketAddr>,
    /// `--data-dir`
    pub data_dir: Option<PathBuf>,
    /// `--database-url`
    pub database_url: Option<String>,
}

/// Default name of the configuration file, looked up in the working directory.
pub const CONFIG_FILE: &str = "onetrip.toml";

impl Config {
    /// Loads the configuration: defaults, then `file` (or `./onetrip.toml` when it exists), then
    /// the `ONETRIP_*` variables in `env`, then `overrides`.
    pub fn load(
        file: Option<&Path>,
        env: &HashMap<String, String>,
        overrides: &Overrides,
    ) -> Result<Config, ConfigError> {
        let default_file = Path::new(CONFIG_FILE);
        let path = match file {
            Some(p) => Some(p),
            None if default_file.exists() => Some(default_file),
            None => None,
        };
        let mut config = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                Self::from_toml(&text).map_err(|message| ConfigError::Parse {
                    path: path.to_path_buf(),
                    message,
                })?
            }
            None => Config::default(),
        };
        config.apply_env(env)?;
        config.apply_overrides(overrides);
        Ok(config)
    }

    /// Parses a configuration file's text.
    pub fn from_toml(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    fn apply_env(&mut self, env: &HashMap<String, String>) -> Result<(), ConfigError> {
        let get = |name: &str| env.get(name).filter(|v| !v.is_empty());
        if let Some(v) = get("ONETRIP_LISTEN") {
            self.server.listen = v.parse().map_err(|e| ConfigError::Value {
                name: "ONETRIP_LISTEN".into(),
                message: format!("{e} (expected ADDRESS:PORT, e.g. 127.0.0.1:8080)"),
            })?;
        }
        if let Some(v) = get("ONETRIP_PUBLIC_URL") {
            if !(v.starts_with("https://") || v.starts_with("http://")) {
                return Err(ConfigError::Value {
                    name: "ONETRIP_PUBLIC_URL".into(),
                    message: format!("\"{v}\" (expected an http:// or https:// URL)"),
                });
            }
            self.server.public_url = Some(v.clone());
        }
        if let Some(v) = get("ONETRIP_DATA_DIR") {
            self.storage.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("ONETRIP_DATABASE_URL") {
            self.storage.database_url = Some(SecretString::from(v.clone()));
        }
        if let Some(v) = get("ONETRIP_ADMIN_TOKEN") {
            self.admin.token = Some(SecretString::from(v.clone()));
        }
        if let Some(v) = get("ONETRIP_UPLOADS_URL") {
            self.uploads.url = Some(v.clone());
        }
        if let Some(v) = get("ONETRIP_UPLOADS_MAX_BYTES") {
            self.uploads.max_bytes = v.parse().map_err(|e| ConfigError::Value {
                name: "ONETRIP_UPLOADS_MAX_BYTES".into(),
                message: format!("{e} (expected a number of bytes, e.g. 20971520)"),
            })?;
        }
        if let Some(v) = get("ONETRIP_SEAL_KEK") {
            self.certificates.seal_kek = Some(SecretString::from(v.clone()));
        }
        if self.certificates.kek().is_err() {
            return Err(ConfigError::Value {
                name: "ONETRIP_SEAL_KEK / [certificates] seal_kek".into(),
                message: "expected 32 hexadecimal digits (a 128-bit SM4 key)".into(),
            });
        }
        if let Some(v) = get("ONETRIP_LOG") {
            self.log.filter = v.clone();
        }
        if let Some(v) = get("ONETRIP_LOG_FORMAT") {
            self.log.format = match v.as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                other => {
                    return Err(ConfigError::Value {
                        name: "ONETRIP_LOG_FORMAT".into(),
                        message: format!("\"{other}\" (expected text or json)"),
                    });
                }
            };
        }
        Ok(())
    }

    fn apply_overrides(&mut self, o: &Overrides) {
        if let Some(listen) = o.listen {
            self.server.listen = listen;
        }
        if let Some(dir) = &o.data_dir {
            self.storage.data_dir = dir.clone();
        }
        if let Some(url) = &o.database_url {
            self.storage.database_url = Some(SecretString::from(url.clone()));
        }
    }

    /// The effective configuration as TOML, with secrets replaced by `[hidden]` (the database
    /// URL shows everything but its password).
    pub fn to_display_toml(&self) -> String {
        #[derive(Serialize)]
        struct View<'a> {
            server: ServerView,
            storage: StorageView<'a>,
            admin: AdminView,
            log: LogView<'a>,
            #[serde(skip_serializing_if = "Vec::is_empty")]
            partners: Vec<crate::partner::PartnerView<'a>>,
            sharing: crate::sharing::SharingConfig,
            uploads: &'a crate::uploads::UploadConfig,
            certificates: CertificatesView,
        }
        #[derive(Serialize)]
        struct CertificatesView {
            seal_kek: &'static str,
        }
        #[derive(Serialize)]
        struct ServerView {
            listen: String,
            public_url: String,
        }
        #[derive(Serialize)]
        struct StorageView<'a> {
            data_dir: &'a Path,
            database_url: String,
        }
        #[derive(Serialize)]
        struct AdminView {
            token: &'static str,
        }
        #[derive(Serialize)]
        struct LogView<'a> {
            filter: &'a str,
            format: LogFormat,
        }
        let view = View {
            server: ServerView {
                listen: self.server.listen.to_string(),
                public_url: self.server.effective_public_url(),
            },
            storage: StorageView {
                data_dir: &self.storage.data_dir,
                database_url: onetrip_store::redact_url(&self.storage.effective_database_url()),
            },
            admin: AdminView {
                token: if self.admin.token.is_some() {
                    "[hidden]"
                } else {
                    "[not set: catalog writes are refused]"
                },
            },
            log: LogView {
                filter: &self.log.filter,
                format: self.log.format,
            },
            partners: self
                .partners
                .iter()
                .map(crate::partner::PartnerConfig::display_view)
                .collect(),
            sharing: self.sharing,
            uploads: &self.uploads,
            certificates: CertificatesView {
                seal_kek: if self.certificates.seal_kek.is_some() {
                    "[hidden]"
                } else {
                    "[not set: seal keys are stored unencrypted]"
                },
            },
        };
        toml::to_string(&view).unwrap_or_else(|e| format!("# cannot render configuration: {e}\n"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn precedence_is_defaults_file_env_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("onetrip.toml");
        std::fs::write(
            &file,
            "[server]\nlisten = \"0.0.0.0:9000\"\n[storage]\ndata_dir = \"/srv/a\"\n",
        )
        .unwrap();
        let c = Config::load(Some(&file), &env(&[]), &Overrides::default()).unwrap();
        assert_eq!(c.server.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(c.storage.data_dir, PathBuf::from("/srv/a"));

        let c = Config::load(
            Some(&file),
            &env(&[
                ("ONETRIP_LISTEN", "127.0.0.1:9100"),
                ("ONETRIP_DATA_DIR", "/srv/b"),
            ]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:9100");
        assert_eq!(c.storage.data_dir, PathBuf::from("/srv/b"));

        let c = Config::load(
            Some(&file),
            &env(&[("ONETRIP_LISTEN", "127.0.0.1:9100")]),
            &Overrides {
                listen: Some("127.0.0.1:9200".parse().unwrap()),
                ..Overrides::default()
            },
        )
        .unwrap();
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:9200");
    }

    #[test]
    fn secrets_are_hidden() {
        let c = Config::load(
            None,
            &env(&[
                ("ONETRIP_ADMIN_TOKEN", "tok-123456"),
                ("ONETRIP_DATABASE_URL", "postgres://app:pw-987@db/onetrip"),
                ("ONETRIP_SEAL_KEK", "00112233445566778899aabbccddeeff"),
            ]),
            &Overrides::default(),
        )
        .unwrap();
        let shown = c.to_display_toml();
        assert!(!shown.contains("tok-123456"), "{shown}");
        assert!(!shown.contains("pw-987"), "{shown}");
        assert!(!shown.contains("00112233"), "{shown}");
        assert!(shown.contains("postgres://app:***@db/onetrip"), "{shown}");
        assert!(shown.contains("[certificates]"), "{shown}");
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("tok-123456")
                && !debug.contains("pw-987")
                && !debug.contains("00112233"),
            "{debug}"
        );
    }

    #[test]
    fn a_malformed_seal_kek_is_refused_from_the_file_or_the_environment() {
        for kek in [
            "0011",
            "zz112233445566778899aabbccddeeff",
            "00112233445566778899aabbccddeeff00",
        ] {
            let err = Config::load(
                None,
                &env(&[("ONETRIP_SEAL_KEK", kek)]),
                &Overrides::default(),
            )
            .unwrap_err();
            assert!(err.to_string().contains("ONETRIP_SEAL_KEK"), "{err}");
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("onetrip.toml");
        std::fs::write(&file, "[certificates]\nseal_kek = \"short\"\n").unwrap();
        assert!(Config::load(Some(&file), &env(&[]), &Overrides::default()).is_err());
        std::fs::write(
            &file,
            "[certificates]\nseal_kek = \"00112233445566778899AABBCCDDEEFF\"\n",
        )
        .unwrap();
        let c = Config::load(Some(&file), &env(&[]), &Overrides::default()).unwrap();
        assert!(c.certificates.seal_kek.is_some());
    }

    #[test]
    fn bad_values_are_reported() {
        let err = Config::load(
            None,
            &env(&[("ONETRIP_LISTEN", "nowhere")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("ONETRIP_LISTEN"));
        assert!(Config::from_toml("[server]\nlistn = 1\n").is_err());
    }

    #[test]
    fn sqlite_under_data_dir_by_default() {
        let c = Config::default();
        assert_eq!(
            c.storage.effective_database_url(),
            "sqlite://./onetrip-data/onetrip.db"
        );
    }
}
