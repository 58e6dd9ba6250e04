//! The `baton` server: composes the store, the cipher and the HTTP API from a [`Config`], and
//! serves it. `main.rs` is only the CLI around [`Server::start`]; tests start servers the same way.

pub mod config;
mod drain;
mod otlp;
mod providers;
mod secrets;
mod serve;

pub use serve::raise_open_file_limit;

pub use config::{
    CodeSandbox, Config, ConfigError, FileConfig, Overrides, SchedulerFileConfig, ServerFileConfig,
    ToolsFileConfig,
};

use baton_core::id::{new_id, now_rfc3339};
use baton_core::store::{ApiKeyRecord, KeyScope, Store, StoreError};
use baton_core::ProjectId;
use baton_engine::scheduler::SchedulerConfig;
use baton_engine::{Engine, EngineConfig};
use baton_http::{hash_api_key, key_prefix, router, AppState};
use baton_store::SqlStore;
use baton_tools::{
    CodeLimits, McpSettings, OutboundPolicy, Sandbox, SandboxConfig, SandboxMode, ToolRuntime,
    ToolsConfig,
};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Why a server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// A model provider could not be set up.
    #[error("providers: {0}")]
    Providers(String),
    /// The secret key could not be loaded or created.
    #[error("secret key: {0}")]
    Secret(String),
    /// Listening or serving failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

fn jwt_settings(jwt: &crate::config::JwtConfig) -> Result<baton_http::JwtSettings, ServeError> {
    use crate::config::JwtKey;
    let (key, algorithm) = match &jwt.key {
        JwtKey::Hs256(secret) => (
            jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
            jsonwebtoken::Algorithm::HS256,
        ),
        JwtKey::Rs256(pem) => (
            jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes())
                .map_err(|e| ServeError::Secret(format!("jwt_public_key_file: {e}")))?,
            jsonwebtoken::Algorithm::RS256,
        ),
    };
    Ok(baton_http::JwtSettings {
        key,
        algorithm,
        issuer: jwt.issuer.clone(),
        audience: jwt.audience.clone(),
        tenant_claim: jwt.tenant_claim.clone(),
    })
}

fn scheduler_config(file: &crate::config::SchedulerFileConfig) -> SchedulerConfig {
    let defaults = SchedulerConfig::default();
    SchedulerConfig {
        min_interval: file
            .min_interval_s
            .map(Duration::from_secs)
            .unwrap_or(defaults.min_interval),
        poll: file
            .poll_ms
            .map(Duration::from_millis)
            .unwrap_or(defaults.poll),
        grace: file
            .grace_s
            .map(Duration::from_secs)
            .unwrap_or(defaults.grace),
        ..defaults
    }
}

/// Builds the tool runtime from the `[tools]` settings.
/// What server-side tools and A2A push-notification webhooks may reach (`[tools]`).
fn outbound_policy(config: &Config) -> OutboundPolicy {
    let file = &config.tools.file;
    OutboundPolicy {
        allow_loopback: file.allow_loopback.unwrap_or(false),
        allow_private: file.allow_private_networks.unwrap_or(false),
        allowed_hosts: file.allowed_hosts.clone(),
    }
}

/// A2A push notifications go out through the tools' outbound policy: a client registers the
/// webhook, so it must not reach what tools may not.
fn push_sender(config: &Config) -> baton_http::a2a::push::PushSender {
    let policy = Arc::new(outbound_policy(config));
    let client = baton_tools::http::client(policy.clone());
    baton_http::a2a::push::PushSender::new(client, Arc::new(move |ip| policy.check_ip(ip)))
}

async fn tool_runtime(config: &Config) -> Arc<ToolRuntime> {
    let settings = &config.tools;
    let file = &settings.file;
    let defaults = CodeLimits::default();
    let limits = CodeLimits {
        timeout: file
            .code_timeout_s
            .map(Duration::from_secs_f64)
            .unwrap_or(defaults.timeout),
        cpu_seconds: file.code_cpu_s.unwrap_or(defaults.cpu_seconds),
        memory_bytes: file
            .code_memory_mb
            .map(|mb| mb * 1024 * 1024)
            .unwrap_or(defaults.memory_bytes),
        processes: file.code_max_processes.unwrap_or(defaults.processes),
        scratch_bytes: file
            .code_scratch_mb
            .map(|mb| mb * 1024 * 1024)
            .unwrap_or(defaults.scratch_bytes),
        ..defaults
    };
    // Code tools must never see the server's own files.
    let mut hidden = vec![config.data_dir.clone()];
    hidden.extend(std::env::current_dir().ok());
    if let Some(file) = sqlite_file(&config.database_url) {
        hidden.push(file);
    }
    let sandbox = Sandbox::detect(SandboxConfig {
        python: file.python.clone().unwrap_or_else(|| "python3".into()),
        path: settings.path.clone(),
        mode: match file.code_sandbox.unwrap_or_default() {
            CodeSandbox::Bubblewrap => SandboxMode::Bubblewrap,
            CodeSandbox::None => SandboxMode::None,
        },
        uid: file.code_uid.unwrap_or(65534),
        hidden,
        limits,
    })
    .await;
    let mut stdio_env = vec![("PATH".to_owned(), settings.path.clone())];
    if let Some(home) = &settings.home {
        stdio_env.push(("HOME".to_owned(), home.clone()));
    }
    let tool_defaults = ToolsConfig::default();
    let config = ToolsConfig {
        policy: outbound_policy(config),
        http_timeout: file
            .http_timeout_s
            .map(Duration::from_secs_f64)
            .unwrap_or(tool_defaults.http_timeout),
        max_response_bytes: file
            .max_response_bytes
            .unwrap_or(tool_defaults.max_response_bytes),
        mcp_timeout: file
            .mcp_timeout_s
            .map(Duration::from_secs_f64)
            .unwrap_or(tool_defaults.mcp_timeout),
        a2a_timeout: file
            .a2a_timeout_s
            .map(Duration::from_secs_f64)
            .unwrap_or(tool_defaults.a2a_timeout),
        mcp: McpSettings {
            stdio_commands: file.mcp_stdio_commands.clone(),
            stdio_env,
            ..McpSettings::default()
        },
    };
    Arc::new(ToolRuntime::new(config, sandbox))
}

/// The database file of a `sqlite:` URL.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let path = rest.trim_start_matches("//");
    let path = path.split('?').next().unwrap_or(path);
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

/// A running server: its address, and a handle to stop it.
pub struct Server {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
    /// An admin key created on this start (no `BATON_API_KEY` and no key stored yet).
    pub created_admin_key: Option<String>,
}

impl Server {
    /// Opens the store, prepares keys, binds the listener and starts serving in the background.
    pub async fn start(config: Config) -> Result<Self, ServeError> {
        std::fs::create_dir_all(&config.data_dir)?;
        let store = Arc::new(SqlStore::connect(&config.database_url).await?);
        let cipher = secrets::load_or_create(&config)?;
        let created_admin_key = bootstrap_key(store.as_ref(), config.api_key.as_deref()).await?;
        let gateway = providers::gateway(&config.providers)?;
        let tools = tool_runtime(&config).await;
        let engine = Engine::new(
            store.clone(),
            gateway,
            cipher.clone(),
            tools,
            EngineConfig {
                workers: config.engine.workers,
                lease: Duration::from_millis(config.engine.lease_ms),
                poll_interval: Duration::from_millis(config.engine.poll_ms),
                scheduler: scheduler_config(&config.scheduler),
                span_exporter: config
                    .otlp_endpoint
                    .as_deref()
                    .and_then(otlp::OtlpExporter::start)
                    .map(|e| Arc::new(e) as Arc<dyn baton_core::trace::SpanExporter>),
                ..EngineConfig::default()
            },
        );
        let workers = engine.start_workers();
        let scheduler = config
            .scheduler
            .enabled
            .unwrap_or(true)
            .then(|| engine.start_scheduler());
        let open_files = serve::raise_open_file_limit();
        let limits = serve::Limits {
            header_read_timeout: config.server.header_read_timeout,
            max_connections: serve::connection_cap(config.server.max_connections, open_files),
            http2_max_concurrent_streams: config.server.http2_max_concurrent_streams,
        };
        let cors = baton_http::cors_layer(&config.server.cors_allowed_origins).map_err(|e| {
            ConfigError::Invalid {
                setting: "server.cors_allowed_origins",
                message: e.to_string(),
            }
        })?;
        let worker_id = engine.worker_id().to_owned();
        let draining = drain::Draining {
            engine: engine.clone(),
            workers,
            scheduler,
            timeout: config.server.drain_timeout,
        };
        let mut state = AppState::new(store, cipher, engine)
            .with_a2a_default_agent(config.server.a2a_default_agent.clone())
            .with_push(push_sender(&config))
            .with_allowed_origins(config.server.cors_allowed_origins.clone());
        if let Some(jwt) = &config.jwt {
            state = state.with_jwt(jwt_settings(jwt)?);
        }
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let mut app = router(state);
        if let Some(cors) = cors {
            // Outside authentication: a browser's preflight carries no credentials.
            app = app.layer(cors);
        }
        let (stop_accepting, accepting_stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(serve::serve(listener, app, limits, async move {
            let _ = accepting_stopped.await;
        }));
        let task = tokio::spawn(async move {
            let _ = rx.await;
            draining.run(serving, stop_accepting).await
        });
        // The worker id names this process in task leases (and in other servers' takeover logs).
        tracing::info!(%addr, worker = %worker_id, "baton listening");
        Ok(Self {
            addr,
            shutdown: Some(tx),
            task,
            created_admin_key,
        })
    }

    /// The bound address (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, e.g. `http://127.0.0.1:8080`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, drains (see [`Server::begin_shutdown`]), and waits.
    pub async fn shutdown(mut self) -> Result<(), ServeError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.wait().await
    }

    /// Waits until the server stops.
    pub async fn wait(self) -> Result<(), ServeError> {
        match self.task.await {
            Ok(result) => Ok(result?),
            Err(e) => Err(ServeError::Io(std::io::Error::other(e))),
        }
    }

    /// Starts a graceful shutdown without waiting: the listener closes, workers claim nothing
    /// more, runs hand their tasks over to other servers at their next step boundary, open
    /// streams end with a `reconnect` event, requests in flight are answered — all within
    /// `server.drain_timeout_s`, after which the server stops anyway.
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Makes sure the bootstrap key can log in, or creates an admin key on a fresh database.
/// Only the key's hash is stored; a created key is returned so it can be shown once.
async fn bootstrap_key(
    store: &dyn Store,
    api_key: Option<&str>,
) -> Result<Option<String>, StoreError> {
    let (key, created) = match api_key {
        Some(key) => {
            if store.api_key_by_hash(&hash_api_key(key)).await?.is_some() {
                return Ok(None);
            }
            (key.to_owned(), false)
        }
        None => {
            if store.count_api_keys().await? > 0 {
                return Ok(None);
            }
            (
                format!("baton_sk_{}", hex::encode(rand::random::<[u8; 24]>())),
                true,
            )
        }
    };
    let record = ApiKeyRecord {
        id: new_id(),
        project_id: ProjectId::default_project(),
        name: if created { "admin" } else { "bootstrap" }.to_owned(),
        hash: hash_api_key(&key),
        prefix: key_prefix(&key),
        created: now_rfc3339(),
        scope: KeyScope::Admin,
    };
    match store.create_api_key(&record).await {
        // Another replica stored the same key first: it can log in, which is all we need.
        Ok(()) | Err(StoreError::Conflict(_)) => {}
        Err(e) => return Err(e),
    }
    Ok(created.then_some(key))
}
