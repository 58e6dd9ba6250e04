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
    /// Engine tuning.
    #[serde(default)]
    pub engine: EngineFileConfig,
    /// Tool runtime: outbound policy, code sandbox limits, MCP servers.
    #[serde(default)]
    pub tools: ToolsFileConfig,
    /// The scheduler that fires schedules.
    #[serde(default)]
    pub scheduler: SchedulerFileConfig,
    /// JWT authentication for front ends.
    #[serde(default)]
    pub auth: AuthFileConfig,
    /// Trace export.
    #[serde(default)]
    pub telemetry: TelemetryFileConfig,
    /// Connections: header timeout, connection cap, CORS.
    #[serde(default)]
    pub server: ServerFileConfig,
}

/// The `[server]` table of `baton.toml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServerFileConfig {
    /// Seconds a client has to send a request's headers (default 10); slower ones are closed.
    pub header_read_timeout_s: Option<f64>,
    /// Most connections open at once (default 10000); more are answered 503 and closed.
    pub max_connections: Option<usize>,
    /// Most requests one HTTP/2 connection carries at once (default 256).
    pub http2_max_concurrent_streams: Option<u32>,
    /// Origins browsers may call the API from (`https://app.example.com`; default none); `/mcp`
    /// refuses a browser from any other origin (403).
    #[serde(default)]
    pub cors_allowed_origins: Vec<String>,
    /// Seconds a stopping server (SIGTERM) takes at most to hand its runs over and end its
    /// streams before it exits anyway (default 10).
    pub drain_timeout_s: Option<f64>,
    /// The agent whose A2A card `/.well-known/agent-card.json` shows (default none).
    pub a2a_default_agent: Option<String>,
}

/// Resolved connection settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSettings {
    /// Time to receive a request's headers.
    pub header_read_timeout: std::time::Duration,
    /// Connection cap.
    pub max_connections: usize,
    /// Concurrent requests per HTTP/2 connection.
    pub http2_max_concurrent_streams: u32,
    /// CORS origins.
    pub cors_allowed_origins: Vec<String>,
    /// Longest drain on shutdown.
    pub drain_timeout: std::time::Duration,
    /// The agent of `/.well-known/agent-card.json`.
    pub a2a_default_agent: Option<String>,
}

/// Default seconds to receive a request's headers.
pub const DEFAULT_HEADER_READ_TIMEOUT_S: f64 = 10.0;
/// Default connection cap.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Default concurrent requests per HTTP/2 connection.
pub const DEFAULT_HTTP2_MAX_CONCURRENT_STREAMS: u32 = 256;
/// Default longest drain on shutdown, in seconds.
pub const DEFAULT_DRAIN_TIMEOUT_S: f64 = 10.0;

fn resolve_server(file: ServerFileConfig) -> Result<ServerSettings, ConfigError> {
    positive("server.header_read_timeout_s", file.header_read_timeout_s)?;
    positive("server.drain_timeout_s", file.drain_timeout_s)?;
    if file.max_connections == Some(0) {
        return Err(ConfigError::Invalid {
            setting: "server.max_connections",
            message: "must be at least 1".into(),
        });
    }
    if file.http2_max_concurrent_streams == Some(0) {
        return Err(ConfigError::Invalid {
            setting: "server.http2_max_concurrent_streams",
            message: "must be at least 1".into(),
        });
    }
    baton_http::cors_layer(&file.cors_allowed_origins).map_err(|e| ConfigError::Invalid {
        setting: "server.cors_allowed_origins",
        message: e.to_string(),
    })?;
    Ok(ServerSettings {
        header_read_timeout: std::time::Duration::from_secs_f64(
            file.header_read_timeout_s
                .unwrap_or(DEFAULT_HEADER_READ_TIMEOUT_S),
        ),
        max_connections: file.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS),
        http2_max_concurrent_streams: file
            .http2_max_concurrent_streams
            .unwrap_or(DEFAULT_HTTP2_MAX_CONCURRENT_STREAMS),
        cors_allowed_origins: file.cors_allowed_origins,
        drain_timeout: std::time::Duration::from_secs_f64(
            file.drain_timeout_s.unwrap_or(DEFAULT_DRAIN_TIMEOUT_S),
        ),
        a2a_default_agent: file.a2a_default_agent.filter(|k| !k.trim().is_empty()),
    })
}

/// The `[auth]` table of `baton.toml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuthFileConfig {
    /// Variable holding the HS256 secret (default `BATON_JWT_SECRET`); never the secret itself.
    pub jwt_secret_env: Option<String>,
    /// PEM file with the RS256 public key (instead of an HS256 secret).
    pub jwt_public_key_file: Option<PathBuf>,
    /// Required `iss` claim.
    pub jwt_issuer: Option<String>,
    /// Required `aud` claim.
    pub jwt_audience: Option<String>,
    /// Claim naming the tenant (default `tenant`).
    pub jwt_tenant_claim: Option<String>,
}

/// The `[telemetry]` table of `baton.toml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TelemetryFileConfig {
    /// OTLP/HTTP collector base URL (env `OTEL_EXPORTER_OTLP_ENDPOINT` wins).
    pub otlp_endpoint: Option<String>,
}

/// How JWTs are verified.
#[derive(Clone, PartialEq)]
pub enum JwtKey {
    /// An HS256 shared secret.
    Hs256(String),
    /// An RS256 public key (PEM).
    Rs256(String),
}

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Hs256(_) => f.write_str("Hs256(<secret>)"),
            Self::Rs256(_) => f.write_str("Rs256(<public key>)"),
        }
    }
}

/// Resolved JWT settings.
#[derive(Debug, Clone, PartialEq)]
pub struct JwtConfig {
    /// The key.
    pub key: JwtKey,
    /// Required issuer.
    pub issuer: Option<String>,
    /// Required audience.
    pub audience: Option<String>,
    /// Tenant claim.
    pub tenant_claim: String,
}

/// The `[scheduler]` table of `baton.toml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SchedulerFileConfig {
    /// Run the scheduler in this server (default true; every server may run one).
    pub enabled: Option<bool>,
    /// Shortest interval of cron and interval schedules, in seconds (default 3600). Lowering it
    /// is for tests; orq's contract is one hour.
    pub min_interval_s: Option<u64>,
    /// Longest pause between looks for due schedules, in milliseconds (default 1000).
    pub poll_ms: Option<u64>,
    /// How late a firing may run, in seconds (default 60); later ones are missed.
    pub grace_s: Option<u64>,
}

/// The `[tools]` table of `baton.toml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ToolsFileConfig {
    /// Let tools reach loopback addresses (default false).
    pub allow_loopback: Option<bool>,
    /// Let tools reach private and link-local networks (default false).
    pub allow_private_networks: Option<bool>,
    /// Hosts (names or IP literals) tools may always reach.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Default HTTP tool timeout in seconds (default 60).
    pub http_timeout_s: Option<f64>,
    /// Largest HTTP tool response in bytes (default 1 MiB).
    pub max_response_bytes: Option<usize>,
    /// Python interpreter for code tools (default `python3`, looked up on PATH).
    pub python: Option<String>,
    /// Wall-clock limit of a code tool call in seconds (default 30).
    pub code_timeout_s: Option<f64>,
    /// CPU seconds a code tool call may use (default 10).
    pub code_cpu_s: Option<u64>,
    /// Memory a code tool call may use, in MiB, for all its processes together (default 512).
    pub code_memory_mb: Option<u64>,
    /// Processes and threads a code tool call may run at once (default 64).
    pub code_max_processes: Option<u32>,
    /// Size of a code tool call's writable `/tmp`, in MiB (default 64).
    pub code_scratch_mb: Option<u64>,
    /// How code tools are isolated: `"bubblewrap"` (default) or `"none"` (trusted setups only).
    pub code_sandbox: Option<CodeSandbox>,
    /// The unprivileged uid (and gid) code tools run as when the server runs as root
    /// (default 65534).
    pub code_uid: Option<u32>,
    /// Programs stdio MCP servers may run (`"*"` for any; default none).
    #[serde(default)]
    pub mcp_stdio_commands: Vec<String>,
    /// Default MCP tool call timeout in seconds (default 60).
    pub mcp_timeout_s: Option<f64>,
    /// Default time a call of a remote A2A team member may take, in seconds (default 120).
    pub a2a_timeout_s: Option<f64>,
}

/// The isolation of code tools (`[tools] code_sandbox`).
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CodeSandbox {
    /// bubblewrap namespaces; code tools are refused where they cannot be set up.
    #[default]
    #[serde(alias = "bwrap")]
    Bubblewrap,
    /// No isolation: code runs as the server's user and sees its files.
    None,
}

/// Resolved tool runtime settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolsSettings {
    /// The `[tools]` table as given.
    pub file: ToolsFileConfig,
    /// `PATH` to find Python and the sandbox tools in, and to give stdio MCP servers.
    pub path: String,
    /// `HOME` given to stdio MCP servers (package runners such as npx need one).
    pub home: Option<String>,
}

/// The `[engine]` table of `baton.toml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EngineFileConfig {
    /// Background workers per process (default 8).
    pub workers: Option<usize>,
    /// Lease length in milliseconds (default 30000): how long a dead worker's task waits.
    pub lease_ms: Option<u64>,
    /// How often idle workers poll for claimable tasks, in milliseconds (default 1000).
    pub poll_ms: Option<u64>,
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
    /// `BATON_WORKERS`.
    pub workers: Option<usize>,
    /// `BATON_LEASE_MS`.
    pub lease_ms: Option<u64>,
    /// `BATON_POLL_MS`.
    pub poll_ms: Option<u64>,
    /// Variables from the environment: the providers' (`OPENAI_API_KEY`, `OPENAI_BASE_URL`,
    /// `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`, `GEMINI_API_KEY`, `GEMINI_BASE_URL`, and those
    /// named by `api_key_env` in `baton.toml`), plus `PATH` and `HOME` for the tool runtime.
    pub env: BTreeMap<String, String>,
}

/// The environment variables that set up the built-in model providers.
pub const PROVIDER_VARIABLES: &[&str] = &[
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GEMINI_BASE_URL",
];

/// API flavours a provider can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// OpenAI Chat Completions (and every compatible endpoint).
    OpenAi,
    /// Anthropic Messages.
    Anthropic,
    /// Google Gemini.
    Gemini,
}

/// A provider as the server will use it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedProvider {
    /// The prefix of model names (`openai/…`).
    pub name: String,
    /// API flavour.
    pub kind: ProviderKind,
    /// Base URL; `None` means the vendor's public endpoint.
    pub base_url: Option<String>,
    /// API key, if any.
    pub api_key: Option<String>,
    /// Price overrides, by model name.
    pub prices: BTreeMap<String, Price>,
    /// The variables that set it up (key, base URL), to name when it is not set up.
    pub variables: (Option<String>, Option<String>),
}

impl ResolvedProvider {
    /// A built-in vendor, set up by `key_var` or `base_url_var` in `env`.
    fn builtin(
        name: &str,
        kind: ProviderKind,
        env: &BTreeMap<String, String>,
        key_vars: &[&str],
        base_url_var: &str,
    ) -> Self {
        let var = |name: &str| env.get(name).filter(|v| !v.is_empty()).cloned();
        Self {
            name: name.to_owned(),
            kind,
            base_url: var(base_url_var),
            api_key: key_vars.iter().find_map(|k| var(k)),
            prices: BTreeMap::new(),
            variables: (
                key_vars.first().map(|k| (*k).to_owned()),
                Some(base_url_var.to_owned()),
            ),
        }
    }

    /// Whether it can be called: it has a key, or a base URL of its own (a local server).
    pub fn is_set_up(&self) -> bool {
        self.api_key.is_some() || self.base_url.is_some()
    }

    /// What to set so it can be called, e.g. "set OPENAI_API_KEY (or OPENAI_BASE_URL for a
    /// compatible server)".
    pub fn what_to_set(&self) -> String {
        match &self.variables {
            (Some(key), Some(base)) => format!(
                "set {key} (or {base} for {})",
                match self.kind {
                    ProviderKind::OpenAi => "an OpenAI-compatible server",
                    ProviderKind::Anthropic | ProviderKind::Gemini => "a compatible endpoint",
                }
            ),
            (Some(key), None) => format!("set {key}"),
            (None, Some(base)) => format!("set {base}"),
            (None, None) => "give it `api_key_env` in baton.toml".to_owned(),
        }
    }
}

impl std::fmt::Display for ResolvedProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key: only whether there is one.
        write!(
            f,
            "{} ({:?}, {}, key {})",
            self.name,
            self.kind,
            self.base_url.as_deref().unwrap_or("default endpoint"),
            if self.api_key.is_some() {
                "set"
            } else {
                "absent"
            }
        )
    }
}

/// Engine settings.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineSettings {
    /// Background workers.
    pub workers: usize,
    /// Lease length.
    pub lease_ms: u64,
    /// Idle poll interval.
    pub poll_ms: u64,
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
    /// Model providers: the three built-in vendors, then those of `baton.toml`.
    pub providers: Vec<ResolvedProvider>,
    /// Engine settings.
    pub engine: EngineSettings,
    /// Tool runtime settings.
    pub tools: ToolsSettings,
    /// Scheduler settings.
    pub scheduler: SchedulerFileConfig,
    /// JWT authentication, when configured.
    pub jwt: Option<JwtConfig>,
    /// OTLP collector for spans, when configured.
    pub otlp_endpoint: Option<String>,
    /// Connection settings.
    pub server: ServerSettings,
}

fn resolve_providers(
    file: BTreeMap<String, ProviderConfig>,
    env: &BTreeMap<String, String>,
) -> Result<Vec<ResolvedProvider>, ConfigError> {
    let var = |name: &str| env.get(name).filter(|v| !v.is_empty()).cloned();
    let mut out = vec![
        ResolvedProvider::builtin(
            "openai",
            ProviderKind::OpenAi,
            env,
            &["OPENAI_API_KEY"],
            "OPENAI_BASE_URL",
        ),
        ResolvedProvider::builtin(
            "anthropic",
            ProviderKind::Anthropic,
            env,
            &["ANTHROPIC_API_KEY"],
            "ANTHROPIC_BASE_URL",
        ),
        ResolvedProvider::builtin(
            "google",
            ProviderKind::Gemini,
            env,
            &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
            "GEMINI_BASE_URL",
        ),
    ];
    // `gemini/…` and `google/…` name the same vendor.
    let mut gemini = out[2].clone();
    gemini.name = "gemini".into();
    out.push(gemini);
    for (name, entry) in file {
        let kind = match entry.kind.as_deref() {
            None | Some("openai") => ProviderKind::OpenAi,
            Some("anthropic") => ProviderKind::Anthropic,
            Some("gemini") | Some("google") => ProviderKind::Gemini,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    setting: "providers.*.kind",
                    message: format!(
                        "`{other}` for provider `{name}`: use openai, anthropic or gemini"
                    ),
                })
            }
        };
        let api_key = entry.api_key_env.as_deref().and_then(var);
        if let Some(existing) = out.iter_mut().find(|p| p.name == name) {
            existing.kind = kind;
            if entry.base_url.is_some() {
                existing.base_url = entry.base_url;
            }
            if api_key.is_some() {
                existing.api_key = api_key;
            }
            if let Some(name) = entry.api_key_env {
                existing.variables.0 = Some(name);
            }
            existing.prices = entry.prices;
        } else {
            if entry.base_url.is_none() {
                return Err(ConfigError::Invalid {
                    setting: "providers.*.base_url",
                    message: format!("provider `{name}` needs a base_url"),
                });
            }
            out.push(ResolvedProvider {
                name,
                kind,
                base_url: entry.base_url,
                api_key,
                prices: entry.prices,
                variables: (entry.api_key_env, None),
            });
        }
    }
    Ok(out)
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

fn positive(setting: &'static str, value: Option<f64>) -> Result<(), ConfigError> {
    match value {
        Some(v) if !(v > 0.0 && v <= 3600.0) => Err(ConfigError::Invalid {
            setting,
            message: format!("{v} is not between 0 and 3600 seconds"),
        }),
        _ => Ok(()),
    }
}

fn resolve_jwt(
    auth: &AuthFileConfig,
    env: &BTreeMap<String, String>,
) -> Result<Option<JwtConfig>, ConfigError> {
    let secret_var = auth
        .jwt_secret_env
        .clone()
        .unwrap_or_else(|| "BATON_JWT_SECRET".into());
    let key = match (&auth.jwt_public_key_file, env.get(&secret_var)) {
        (Some(path), _) => {
            let pem = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            JwtKey::Rs256(pem)
        }
        (None, Some(secret)) if !secret.is_empty() => {
            if secret.len() < 32 {
                return Err(ConfigError::Invalid {
                    setting: "BATON_JWT_SECRET",
                    message: "an HS256 secret must be at least 32 bytes".into(),
                });
            }
            JwtKey::Hs256(secret.clone())
        }
        _ => return Ok(None),
    };
    Ok(Some(JwtConfig {
        key,
        issuer: auth.jwt_issuer.clone(),
        audience: auth.jwt_audience.clone(),
        tenant_claim: auth
            .jwt_tenant_claim
            .clone()
            .unwrap_or_else(|| "tenant".into()),
    }))
}

fn resolve_scheduler(file: SchedulerFileConfig) -> Result<SchedulerFileConfig, ConfigError> {
    if file.min_interval_s == Some(0) {
        return Err(ConfigError::Invalid {
            setting: "scheduler.min_interval_s",
            message: "must be at least 1".into(),
        });
    }
    if file.poll_ms.is_some_and(|p| !(10..=60_000).contains(&p)) {
        return Err(ConfigError::Invalid {
            setting: "scheduler.poll_ms",
            message: "must be between 10 and 60000".into(),
        });
    }
    Ok(file)
}

fn resolve_tools(
    file: ToolsFileConfig,
    env: &BTreeMap<String, String>,
) -> Result<ToolsSettings, ConfigError> {
    positive("tools.http_timeout_s", file.http_timeout_s)?;
    positive("tools.code_timeout_s", file.code_timeout_s)?;
    positive("tools.mcp_timeout_s", file.mcp_timeout_s)?;
    positive("tools.a2a_timeout_s", file.a2a_timeout_s)?;
    if file.code_memory_mb == Some(0) {
        return Err(ConfigError::Invalid {
            setting: "tools.code_memory_mb",
            message: "must be more than 0".into(),
        });
    }
    if file.code_scratch_mb == Some(0) {
        return Err(ConfigError::Invalid {
            setting: "tools.code_scratch_mb",
            message: "must be more than 0".into(),
        });
    }
    // The sandbox's own processes (bubblewrap and its init) count too.
    if file.code_max_processes.is_some_and(|n| n < 8) {
        return Err(ConfigError::Invalid {
            setting: "tools.code_max_processes",
            message: "must be at least 8".into(),
        });
    }
    if file.code_uid == Some(0) {
        return Err(ConfigError::Invalid {
            setting: "tools.code_uid",
            message: "must not be 0: code tools never run as root".into(),
        });
    }
    Ok(ToolsSettings {
        path: env
            .get("PATH")
            .cloned()
            .unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into()),
        home: env.get("HOME").cloned(),
        file,
    })
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
            providers: resolve_providers(file.providers, &over.env)?,
            engine: EngineSettings {
                workers: over.workers.or(file.engine.workers).unwrap_or(8).max(1),
                lease_ms: over
                    .lease_ms
                    .or(file.engine.lease_ms)
                    .unwrap_or(30_000)
                    .max(100),
                poll_ms: over
                    .poll_ms
                    .or(file.engine.poll_ms)
                    .unwrap_or(1_000)
                    .max(10),
            },
            tools: resolve_tools(file.tools, &over.env)?,
            scheduler: resolve_scheduler(file.scheduler)?,
            jwt: resolve_jwt(&file.auth, &over.env)?,
            server: resolve_server(file.server)?,
            otlp_endpoint: over
                .env
                .get("OTEL_EXPORTER_OTLP_ENDPOINT")
                .cloned()
                .or(file.telemetry.otlp_endpoint)
                .filter(|e| !e.is_empty()),
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
        assert_eq!(c.server.header_read_timeout.as_secs(), 10);
        assert_eq!(c.server.max_connections, 10_000);
        assert_eq!(c.server.http2_max_concurrent_streams, 256);
        assert!(c.server.cors_allowed_origins.is_empty());
        assert_eq!(c.server.drain_timeout.as_secs(), 10);
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
        let ollama = c.providers.iter().find(|p| p.name == "ollama").unwrap();
        assert_eq!(ollama.prices["llama3"].output, 0.2);
        assert_eq!(ollama.kind, ProviderKind::OpenAi);
    }

    #[test]
    fn provider_keys_come_from_the_environment() {
        let file: FileConfig = toml::from_str(
            r#"
            [providers.openrouter]
            base_url = "https://openrouter.example/v1"
            api_key_env = "OPENROUTER_API_KEY"
            [providers.openai]
            base_url = "http://127.0.0.1:1/v1"
            "#,
        )
        .unwrap();
        let over = Overrides {
            env: [
                ("OPENAI_API_KEY".to_owned(), "sk-1".to_owned()),
                ("OPENROUTER_API_KEY".to_owned(), "or-2".to_owned()),
                (
                    "ANTHROPIC_BASE_URL".to_owned(),
                    "http://127.0.0.1:2".to_owned(),
                ),
            ]
            .into(),
            ..Default::default()
        };
        let c = Config::resolve(over, file).unwrap();
        let get = |n: &str| c.providers.iter().find(|p| p.name == n).unwrap().clone();
        assert_eq!(get("openai").api_key.as_deref(), Some("sk-1"));
        assert_eq!(
            get("openai").base_url.as_deref(),
            Some("http://127.0.0.1:1/v1")
        );
        assert_eq!(get("openrouter").api_key.as_deref(), Some("or-2"));
        assert_eq!(
            get("anthropic").base_url.as_deref(),
            Some("http://127.0.0.1:2")
        );
        assert!(
            !get("openai").to_string().contains("sk-1"),
            "keys never print"
        );
        let bad: FileConfig =
            toml::from_str("[providers.x]\nkind = \"cohere\"\nbase_url = \"http://x\"").unwrap();
        assert!(Config::resolve(Overrides::default(), bad).is_err());
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
        for (toml_text, setting) in [
            (
                "[server]\nheader_read_timeout_s = 0",
                "server.header_read_timeout_s",
            ),
            ("[server]\nmax_connections = 0", "server.max_connections"),
            (
                "[server]\nhttp2_max_concurrent_streams = 0",
                "server.http2_max_concurrent_streams",
            ),
            ("[server]\ndrain_timeout_s = 0", "server.drain_timeout_s"),
            (
                "[server]\ncors_allowed_origins = [\"*\"]",
                "server.cors_allowed_origins",
            ),
        ] {
            let file: FileConfig = toml::from_str(toml_text).unwrap();
            let e = Config::resolve(Overrides::default(), file).unwrap_err();
            assert!(e.to_string().contains(setting), "{e}");
        }
    }

    #[test]
    fn code_sandbox_settings_are_checked() {
        let file: FileConfig = toml::from_str("[tools]\ncode_sandbox = \"none\"").unwrap();
        assert_eq!(file.tools.code_sandbox, Some(CodeSandbox::None));
        let e = toml::from_str::<FileConfig>("[tools]\ncode_sandbox = \"off\"").unwrap_err();
        assert!(e.to_string().contains("bubblewrap"), "{e}");
        for (text, setting) in [
            ("code_uid = 0", "tools.code_uid"),
            ("code_max_processes = 2", "tools.code_max_processes"),
            ("code_scratch_mb = 0", "tools.code_scratch_mb"),
        ] {
            let file: FileConfig = toml::from_str(&format!("[tools]\n{text}")).unwrap();
            let e = Config::resolve(Overrides::default(), file).unwrap_err();
            assert!(e.to_string().contains(setting), "{e}");
        }
    }
}
