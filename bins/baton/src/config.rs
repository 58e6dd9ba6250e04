//! Configuration: flags, then environment, then an optional `baton.toml`, then defaults.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// What `baton.toml` may hold. Every field is optional.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Listen address.
    pub listen: Option<String>,
    /// Database URL.
    pub database_url: Option<String>,
    /// Directory for the SQLite file and the generated secret key.
    pub data_dir: Option<PathBuf>,
    /// Extra OpenAI-compatible providers and per-provider settings, by provider name.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderConfig>,
}

/// A model provider entry of `baton.toml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// API flavour: `openai` (OpenAI-compatible, the default), `anthropic`, `gemini`.
    pub kind: Option<String>,
    /// Base URL of the endpoint.
    pub base_url: Option<String>,
    /// Name of the environment variable holding the key (keys are never written in the file).
    pub api_key_env: Option<String>,
    /// Prices in USD per million tokens, by model name.
    #[serde(default)]
    pub prices: BTreeMap<String, Price>,
}

/// Price of a model per million tokens.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// USD per million input tokens.
    pub input: f64,
    /// USD per million output tokens.
    pub output: f64,
}

/// Settings given on the command line or in the environment (the CLI fills these).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--listen` / `BATON_LISTEN`.
    pub listen: Option<String>,
    /// `--database-url` / `DATABASE_URL`.
    pub database_url: Option<String>,
    /// `--data-dir` / `BATON_DATA_DIR`.
    pub data_dir: Option<PathBuf>,
    /// `BATON_API_KEY`.
    pub api_key: Option<String>,
    /// `BATON_SECRET_KEY`.
    pub secret_key: Option<String>,
}

/// The resolved configuration of a server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Database URL (`sqlite://…` or `postgres://…`).
    pub database_url: String,
    /// Directory for the SQLite file and the generated secret key.
    pub data_dir: PathBuf,
    /// Bootstrap admin API key, if given.
    pub api_key: Option<String>,
    /// Base64 32-byte key for secrets at rest, if given.
    pub secret_key: Option<String>,
    /// Providers from the file.
    pub providers: BTreeMap<String, ProviderConfig>,
}

/// A configuration problem, naming the setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("invalid {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: toml::de::Error,
    },
    /// A setting has a bad value.
    #[error("invalid {setting}: {message}")]
    Invalid {
        /// The setting.
        setting: &'static str,
        /// Why.
        message: String,
    },
}

impl FileConfig {
    /// Reads `path`; a missing file is an error only when `required`.
    pub fn load(path: &Path, required: bool) -> Result<Self, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|source| ConfigError::Parse {
                path: path.to_owned(),
                source,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(Self::default()),
            Err(source) => Err(ConfigError::Read {
                path: path.to_owned(),
                source,
            }),
        }
    }
}

impl Config {
    /// Layers overrides (flags and environment) over the file over the defaults.
    pub fn resolve(over: Overrides, file: FileConfig) -> Result<Self, ConfigError> {
        let listen_text = over
            .listen
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen = listen_text.parse().map_err(|e| ConfigError::Invalid {
            setting: "BATON_LISTEN",
            message: format!("`{listen_text}` is not host:port ({e})"),
        })?;
        let data_dir = over
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("."));
        let database_url = over.database_url.or(file.database_url).unwrap_or_else(|| {
            format!("sqlite://{}?mode=rwc", data_dir.join("baton.db").display())
        });
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid {
                setting: "DATABASE_URL",
                message: "must start with sqlite:, postgres:// or postgresql://".into(),
            });
        }
        Ok(Self {
            listen,
            database_url,
            data_dir,
            api_key: over.api_key.filter(|k| !k.is_empty()),
            secret_key: over.secret_key.filter(|k| !k.is_empty()),
            providers: file.providers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_setup() {
        let c = Config::resolve(Overrides::default(), FileConfig::default()).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.database_url, "sqlite://./baton.db?mode=rwc");
    }

    #[test]
    fn flags_beat_file_beats_defaults() {
        let file: FileConfig = toml::from_str(
            r#"
            listen = "127.0.0.1:9000"
            database_url = "postgres://db/baton"
            [providers.ollama]
            base_url = "http://127.0.0.1:11434/v1"
            [providers.ollama.prices.llama3]
            input = 0.1
            output = 0.2
            "#,
        )
        .unwrap();
        let over = Overrides {
            listen: Some("0.0.0.0:1".into()),
            ..Default::default()
        };
        let c = Config::resolve(over, file).unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:1");
        assert_eq!(c.database_url, "postgres://db/baton");
        assert_eq!(c.providers["ollama"].prices["llama3"].output, 0.2);
    }

    #[test]
    fn the_documented_example_config_parses() {
        let text = include_str!("../../../docs/baton.example.toml");
        let file: FileConfig = toml::from_str(text).unwrap();
        Config::resolve(Overrides::default(), file).unwrap();
    }

    #[test]
    fn bad_values_name_the_setting() {
        let over = Overrides {
            listen: Some("nowhere".into()),
            ..Default::default()
        };
        let e = Config::resolve(over, FileConfig::default()).unwrap_err();
        assert!(e.to_string().contains("BATON_LISTEN"), "{e}");
        let over = Overrides {
            database_url: Some("mysql://x".into()),
            ..Default::default()
        };
        let e = Config::resolve(over, FileConfig::default()).unwrap_err();
        assert!(e.to_string().contains("DATABASE_URL"), "{e}");
        assert!(toml::from_str::<FileConfig>("lisen = 1").is_err());
    }
}
