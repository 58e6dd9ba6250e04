//! Harness for end-to-end tests: starts a real `baton` server on `127.0.0.1:0` over a fresh
//! SQLite file or a fresh PostgreSQL database, and talks to it over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use baton::config::AuthFileConfig;
use baton::{
    Config, FileConfig, Overrides, SchedulerFileConfig, Server, ServerFileConfig, ToolsFileConfig,
};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// The databases a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on `BATON_TEST_DATABASE_URL`, or on a throwaway server the tests start.
    Postgres,
}

/// SQLite always; PostgreSQL unless no PostgreSQL server binaries are installed.
pub fn backends() -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite];
    if pg_admin_url().is_some() {
        out.push(Backend::Postgres);
    }
    out
}

/// The PostgreSQL server the tests create databases on (see
/// [`baton_store::testing::postgres_admin_url`]).
pub fn pg_admin_url() -> Option<String> {
    baton_store::testing::postgres_admin_url()
}

/// Adds this process's `PATH` and `HOME`, as `baton serve` passes them to the tool runtime.
#[allow(clippy::disallowed_methods)] // the test harness is configured by the environment
fn with_process_paths(
    mut env: std::collections::BTreeMap<String, String>,
) -> std::collections::BTreeMap<String, String> {
    for name in ["PATH", "HOME"] {
        if let Ok(value) = std::env::var(name) {
            env.entry(name.to_owned()).or_insert(value);
        }
    }
    env
}

/// Provider variables and engine settings of a test server.
#[derive(Debug, Clone)]
pub struct Options {
    /// Provider variables (`OPENAI_BASE_URL`, …) as the environment would hold them.
    pub env: std::collections::BTreeMap<String, String>,
    /// Background workers.
    pub workers: usize,
    /// Lease length in milliseconds.
    pub lease_ms: u64,
    /// The `[tools]` table of `baton.toml`.
    pub tools: ToolsFileConfig,
    /// The `[scheduler]` table of `baton.toml`.
    pub scheduler: SchedulerFileConfig,
    /// The `[auth]` table of `baton.toml`.
    pub auth: AuthFileConfig,
    /// The `[server]` table of `baton.toml`.
    pub server: ServerFileConfig,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            env: Default::default(),
            workers: 4,
            lease_ms: 5_000,
            tools: ToolsFileConfig::default(),
            scheduler: SchedulerFileConfig::default(),
            auth: AuthFileConfig::default(),
            server: ServerFileConfig::default(),
        }
    }
}

impl Options {
    /// Sets the `[scheduler]` table.
    pub fn scheduler(mut self, scheduler: SchedulerFileConfig) -> Self {
        self.scheduler = scheduler;
        self
    }

    /// Sets the `[tools]` table.
    pub fn tools(mut self, tools: ToolsFileConfig) -> Self {
        self.tools = tools;
        self
    }

    /// Adds a provider variable.
    pub fn env(mut self, name: &str, value: impl Into<String>) -> Self {
        self.env.insert(name.to_owned(), value.into());
        self
    }
}

/// The admin key every test server is started with.
pub const API_KEY: &str = "test-admin-key-0123456789";

/// A running server plus what the test needs to reach it.
pub struct TestServer {
    options: Options,
    server: Option<Server>,
    /// Base URL.
    pub url: String,
    /// The database URL it uses.
    pub database_url: String,
    /// Which backend.
    pub backend: Backend,
    dir: tempfile::TempDir,
    client: reqwest::Client,
}

impl TestServer {
    /// Starts a server on a fresh database of `backend`, with [`API_KEY`] as bootstrap key.
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, Some(API_KEY)).await
    }

    /// Starts a server with the given bootstrap key (none: one is generated).
    pub async fn start_with(backend: Backend, api_key: Option<&str>) -> Self {
        Self::start_opts(backend, api_key, Options::default()).await
    }

    /// Starts a server with provider variables and engine settings.
    pub async fn start_opts(backend: Backend, api_key: Option<&str>, options: Options) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database_url = match backend {
            Backend::Sqlite => format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("baton.db").display()
            ),
            Backend::Postgres => {
                baton_store::testing::fresh_postgres_database(&pg_admin_url().unwrap())
                    .await
                    .unwrap()
            }
        };
        let mut server = Self {
            options,
            server: None,
            url: String::new(),
            database_url,
            backend,
            dir,
            client: reqwest::Client::new(),
        };
        server.boot(api_key).await;
        server
    }

    async fn boot(&mut self, api_key: Option<&str>) -> Option<String> {
        let over = Overrides {
            listen: Some("127.0.0.1:0".into()),
            database_url: Some(self.database_url.clone()),
            data_dir: Some(self.dir.path().to_owned()),
            api_key: api_key.map(str::to_owned),
            secret_key: None,
            workers: Some(self.options.workers),
            lease_ms: Some(self.options.lease_ms),
            poll_ms: Some(50),
            env: with_process_paths(self.options.env.clone()),
        };
        let file = FileConfig {
            tools: self.options.tools.clone(),
            scheduler: self.options.scheduler.clone(),
            auth: self.options.auth.clone(),
            server: self.options.server.clone(),
            ..FileConfig::default()
        };
        let config = Config::resolve(over, file).unwrap();
        let server = Server::start(config).await.unwrap();
        self.url = server.url();
        let created = server.created_admin_key.clone();
        self.server = Some(server);
        created
    }

    /// Stops the server and starts a new one on the same database and data directory.
    /// Returns the admin key the new start created, if any.
    pub async fn restart(&mut self, api_key: Option<&str>) -> Option<String> {
        if let Some(server) = self.server.take() {
            server.shutdown().await.unwrap();
        }
        self.boot(api_key).await
    }

    /// Stops the server and starts it again with other options, on the same database.
    pub async fn restart_with(&mut self, options: Options) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.unwrap();
        }
        self.options = options;
        self.boot(Some(API_KEY)).await;
    }

    /// Another server on the same database, as a second replica is: its own data directory
    /// holding a copy of this one's secret key (the only file replicas share).
    pub async fn replica(&self) -> Self {
        let dir = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(self.dir.path()).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name();
            if entry.file_type().unwrap().is_file()
                && !name.to_string_lossy().starts_with("baton.db")
            {
                std::fs::copy(entry.path(), dir.path().join(&name)).unwrap();
            }
        }
        let mut server = Self {
            options: self.options.clone(),
            server: None,
            url: String::new(),
            database_url: self.database_url.clone(),
            backend: self.backend,
            dir,
            client: reqwest::Client::new(),
        };
        server.boot(Some(API_KEY)).await;
        server
    }

    /// The admin key the first start created (when started without a key).
    pub fn created_admin_key(&self) -> Option<String> {
        self.server
            .as_ref()
            .and_then(|s| s.created_admin_key.clone())
    }

    /// Sends a request with [`API_KEY`]; returns status and JSON body (`Null` when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call_as(Some(API_KEY), method, path, body).await
    }

    /// Sends a request with the given key (or none).
    pub async fn call_as(
        &self,
        key: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}{path}", self.url));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        read(req.send().await.unwrap()).await
    }

    /// Sends a raw body (for malformed JSON).
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        body: &'static str,
    ) -> (StatusCode, Value) {
        let req = self
            .client
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(API_KEY)
            .header("content-type", "application/json")
            .body(body);
        read(req.send().await.unwrap()).await
    }

    /// A request builder for anything else (custom headers).
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.url))
    }

    /// The `spec` column of every row of `table`, as stored.
    pub async fn raw_specs(&self, table: &str) -> Vec<String> {
        baton_store::testing::raw_specs(&self.database_url, table)
            .await
            .unwrap()
    }

    /// The server's data directory (its SQLite file and `secret.key`).
    pub fn data_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Overwrites a tool's stored `spec` (to plant rows of an older version).
    pub async fn set_raw_tool_spec(&self, id: &str, spec: &str) {
        baton_store::testing::set_raw_tool_spec(&self.database_url, id, spec)
            .await
            .unwrap()
    }

    /// Every row of `table` as text (all columns), as stored.
    pub async fn raw_table_text(&self, table: &str) -> Vec<String> {
        baton_store::testing::raw_rows(&self.database_url, table)
            .await
            .unwrap()
    }

    /// Stops the server and drops a PostgreSQL test database.
    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.unwrap();
        }
        if self.backend == Backend::Postgres {
            baton_store::testing::drop_postgres_database(
                &pg_admin_url().unwrap(),
                &self.database_url,
            )
            .await
            .unwrap();
        }
    }
}

/// A loopback API that answers `{"ok": true}` to anything and records the `Authorization` header
/// of every request (empty when absent), to see where a secret went.
pub struct AuthRecorder {
    /// Its base URL, `http://127.0.0.1:<port>`.
    pub url: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl AuthRecorder {
    /// Starts one on a free loopback port.
    pub async fn start() -> Self {
        let seen: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
        let recorder = seen.clone();
        let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap| {
            let recorder = recorder.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                recorder.lock().unwrap().push(auth);
                axum::Json(serde_json::json!({"ok": true}))
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, seen }
    }

    /// The `Authorization` values received so far, in order.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// A slow loopback API with a side effect: it counts the executions of each `Idempotency-Key`
/// (`<none>` for requests without one), takes `delay` to answer, and answers
/// `{"recorded": <key>, "execution": <n>}` so a task's history shows which call it served.
pub struct SideEffectCounter {
    /// Its base URL, `http://127.0.0.1:<port>`.
    pub url: String,
    hits: std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<String, u32>>>,
    gate: tokio::sync::watch::Sender<bool>,
}

impl SideEffectCounter {
    /// Starts one on a free loopback port.
    pub async fn start(delay: std::time::Duration) -> Self {
        Self::serve(delay, true).await
    }

    /// Starts one whose calls (counted on arrival) wait until [`SideEffectCounter::open`].
    pub async fn gated(delay: std::time::Duration) -> Self {
        Self::serve(delay, false).await
    }

    /// Lets the waiting and later calls of a gated one go on.
    pub fn open(&self) {
        self.gate.send_replace(true);
    }

    async fn serve(delay: std::time::Duration, open: bool) -> Self {
        let hits: std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<String, u32>>> =
            Default::default();
        let counter = hits.clone();
        let gate = tokio::sync::watch::channel(open).0;
        let opened = gate.clone();
        let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap| {
            let counter = counter.clone();
            let mut opened = opened.subscribe();
            async move {
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("<none>")
                    .to_owned();
                // Counted on arrival: a call cut by a kill while this sleeps was still executed.
                let execution = {
                    let mut hits = counter.lock().unwrap();
                    let n = hits.entry(key.clone()).or_insert(0);
                    *n += 1;
                    *n
                };
                let _ = opened.wait_for(|open| *open).await;
                tokio::time::sleep(delay).await;
                axum::Json(serde_json::json!({"recorded": key, "execution": execution}))
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, hits, gate }
    }

    /// Executions so far, by idempotency key.
    pub fn hits(&self) -> std::collections::BTreeMap<String, u32> {
        self.hits.lock().unwrap().clone()
    }
}

/// Status and JSON body of a response (`Null` for an empty body).
pub async fn read(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("non-JSON body ({e}): {text}"))
    };
    (status, body)
}

/// One server-sent event as a client sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct SseMessage {
    /// The `id:` line.
    pub id: Option<String>,
    /// The `event:` line.
    pub event: Option<String>,
    /// The `data:` lines joined.
    pub data: String,
}

impl SseMessage {
    /// The data as JSON (`Null` for `[DONE]`).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or(Value::Null)
    }

    /// The orq event type; for an event without data (`reconnect`), its `event:` type.
    pub fn kind(&self) -> String {
        if self.data.is_empty() {
            return self.event.clone().unwrap_or_default();
        }
        self.json()["type"].as_str().unwrap_or("[DONE]").to_owned()
    }
}

/// Reads SSE messages from a response, at most `limit`, stopping after `[DONE]` or when the
/// connection is cut.
pub async fn read_sse(resp: reqwest::Response, limit: usize) -> Vec<SseMessage> {
    use futures_util::StreamExt;
    let mut out = Vec::new();
    let mut buf = String::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = tokio::time::timeout(std::time::Duration::from_secs(30), stream.next())
        .await
        .expect("SSE stream stalled")
    {
        // A cut connection ends the read with what arrived (a killed server, in chaos tests).
        let Ok(chunk) = chunk else { return out };
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let mut msg = SseMessage {
                id: None,
                event: None,
                data: String::new(),
            };
            let mut has_data = false;
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    msg.id = Some(v.trim().to_owned());
                } else if let Some(v) = line.strip_prefix("event:") {
                    msg.event = Some(v.trim().to_owned());
                } else if let Some(v) = line.strip_prefix("data:") {
                    if has_data {
                        msg.data.push('\n');
                    }
                    msg.data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    has_data = true;
                }
            }
            if !has_data && msg.event.is_none() {
                continue; // keep-alive comment
            }
            let done = msg.data == "[DONE]";
            out.push(msg);
            if done || out.len() >= limit {
                return out;
            }
        }
    }
    out
}

/// Reads a `baton serve` child's stdout until it prints `baton listening on <url>`; the url.
pub fn listening_url(child: &mut std::process::Child) -> String {
    use std::io::{BufRead, BufReader};
    let stdout = child
        .stdout
        .take()
        .expect("start the server with a piped stdout");
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("baton listening on ") {
            return url.to_owned();
        }
    }
    panic!("the server exited before listening");
}

/// A `baton serve` child process as the fault tests start one: on a free loopback port, with
/// one API key, a data dir (and a SQLite database in it unless [`Serve::database`] names
/// another), `RUST_LOG=warn`; [`Serve::spawn`] waits until it listens.
pub struct Serve {
    command: std::process::Command,
    dir: std::path::PathBuf,
    config: Vec<String>,
}

impl Serve {
    /// `binary serve` with `key` as its API key and `dir` as its data dir.
    #[allow(clippy::disallowed_methods)] // the tests run the real server binary
    pub fn new(binary: impl AsRef<std::ffi::OsStr>, key: &str, dir: &std::path::Path) -> Self {
        let mut command = std::process::Command::new(binary);
        command
            .arg("serve")
            .env("BATON_LISTEN", "127.0.0.1:0")
            .env("BATON_API_KEY", key)
            .env(
                "DATABASE_URL",
                format!("sqlite://{}?mode=rwc", dir.join("baton.db").display()),
            )
            .env("BATON_DATA_DIR", dir)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit());
        Self {
            command,
            dir: dir.to_owned(),
            config: Vec::new(),
        }
    }

    /// The database (a `DATABASE_URL`) instead of SQLite in the data dir.
    pub fn database(self, url: &str) -> Self {
        self.env("DATABASE_URL", url)
    }

    /// OpenAI-compatible models at `base_url` (a testkit fake).
    pub fn model(self, base_url: &str) -> Self {
        self.env("OPENAI_BASE_URL", base_url)
            .env("OPENAI_API_KEY", "sk-test")
    }

    /// Short leases and polls, so another process takes over a dead one's tasks in seconds.
    pub fn quick_takeover(self) -> Self {
        self.env("BATON_LEASE_MS", "1500")
            .env("BATON_POLL_MS", "100")
    }

    /// Lets tools reach loopback addresses (the test's own servers).
    pub fn loopback_tools(self) -> Self {
        self.config("[tools]\nallow_loopback = true")
    }

    /// A table of `baton.toml` (written to the data dir when the process starts).
    pub fn config(mut self, toml: &str) -> Self {
        self.config.push(toml.to_owned());
        self
    }

    /// Another environment variable.
    pub fn env(mut self, name: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.env(name, value);
        self
    }

    /// The command to adjust further before spawning.
    pub fn command(&mut self) -> &mut std::process::Command {
        &mut self.command
    }

    /// Starts the process; it and the url it listens on.
    pub fn spawn(mut self) -> (std::process::Child, String) {
        if !self.config.is_empty() {
            std::fs::create_dir_all(&self.dir).unwrap();
            let path = self.dir.join("baton.toml");
            std::fs::write(&path, self.config.join("\n") + "\n").unwrap();
            self.command.arg("--config").arg(path);
        }
        let mut child = self.command.spawn().unwrap();
        let url = listening_url(&mut child);
        (child, url)
    }
}

pub mod bench;

/// The reference MCP server `@modelcontextprotocol/server-everything`, pinned in `tests/mcp`:
/// its `dist/index.js`, installed with `npm ci` under `target/` on first use (once for all
/// test processes: a file lock guards the install; it is redone when the lock file changes).
/// Panics with one clear line when `npm` is missing.
pub fn mcp_everything_server() -> std::path::PathBuf {
    static SERVER: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    SERVER.get_or_init(install_mcp_fixture).clone()
}

#[allow(clippy::disallowed_methods)] // test support installs its npm fixture
fn install_mcp_fixture() -> std::path::PathBuf {
    use std::path::Path;
    let pinned = Path::new(env!("CARGO_MANIFEST_DIR")).join("mcp");
    // target/<profile>/deps/<test binary> → target/
    let exe = std::env::current_exe().unwrap();
    let target = exe
        .ancestors()
        .nth(3)
        .expect("a test binary lives under target/<profile>/deps");
    let dir = target.join("mcp-fixture");
    std::fs::create_dir_all(&dir).unwrap();
    let lock = std::fs::File::create(target.join("mcp-fixture.lock")).unwrap();
    lock.lock().unwrap(); // released when `lock` is dropped
    let script = dir.join("node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    let wanted_lock = std::fs::read(pinned.join("package-lock.json")).unwrap();
    let installed_lock = std::fs::read(dir.join("installed-package-lock.json")).ok();
    if script.exists() && installed_lock.as_deref() == Some(wanted_lock.as_slice()) {
        return script;
    }
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(pinned.join(file), dir.join(file)).unwrap();
    }
    let out = std::process::Command::new("npm")
        .args([
            "ci",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--prefix",
        ])
        .arg(&dir)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("the MCP tests need npm (Node.js 20+) to install tests/mcp: npm: {e}")
        });
    assert!(
        out.status.success(),
        "npm ci for the MCP test server failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        script.exists(),
        "npm ci did not install {}",
        script.display()
    );
    std::fs::write(dir.join("installed-package-lock.json"), wanted_lock).unwrap();
    script
}

/// A tiny A2A agent on the official Python `a2a-sdk` (`tests/a2a/server.py`), killed on drop.
pub struct A2aAgentServer {
    child: std::process::Child,
    /// `http://host:port` as its card advertises it.
    pub url: String,
}

impl A2aAgentServer {
    /// Starts the agent with `args` (`--v03`, `--token T`, `--advertise HOST`); Python and the
    /// SDK come from a venv under `target/`, made from `tests/a2a/requirements.txt` on first use.
    #[allow(clippy::disallowed_methods)] // test support runs its Python fixture
    pub fn start(args: &[&str]) -> Self {
        use std::io::{BufRead, BufReader};
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("a2a/server.py");
        let mut child = std::process::Command::new(a2a_python())
            .arg(script)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(url) = line.strip_prefix("a2a listening on ") {
                        break url.to_owned();
                    }
                }
                _ => {
                    let _ = child.kill();
                    panic!("the A2A test agent exited before listening");
                }
            }
        };
        Self { child, url }
    }

    /// Its agent card's URL.
    pub fn card_url(&self) -> String {
        format!("{}/.well-known/agent-card.json", self.url)
    }
}

impl Drop for A2aAgentServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Python of the A2A fixture's venv (once for all test processes: a file lock guards the
/// install; it is redone when the requirements change). Panics with one clear line when
/// `python3 -m venv` or pip fails.
pub fn a2a_python() -> std::path::PathBuf {
    static PYTHON: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    PYTHON.get_or_init(install_a2a_fixture).clone()
}

#[allow(clippy::disallowed_methods)] // test support installs its Python fixture
fn install_a2a_fixture() -> std::path::PathBuf {
    use std::process::Command;
    let requirements =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("a2a/requirements.txt");
    let exe = std::env::current_exe().unwrap();
    let target = exe
        .ancestors()
        .nth(3)
        .expect("a test binary lives under target/<profile>/deps");
    let dir = target.join("a2a-fixture");
    let lock = std::fs::File::create(target.join("a2a-fixture.lock")).unwrap();
    lock.lock().unwrap(); // released when `lock` is dropped
    let python = dir.join("bin/python");
    let wanted = std::fs::read(&requirements).unwrap();
    let installed = std::fs::read(dir.join("installed-requirements.txt")).ok();
    if python.exists() && installed.as_deref() == Some(wanted.as_slice()) {
        return python;
    }
    let run = |command: &mut Command, what: &str| {
        let out = command
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                panic!("the A2A tests need python3 with venv and pip: {what}: {e}")
            });
        assert!(
            out.status.success(),
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let _ = std::fs::remove_dir_all(&dir);
    run(
        Command::new("python3").args(["-m", "venv"]).arg(&dir),
        "python3 -m venv",
    );
    run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements),
        "pip install -r tests/a2a/requirements.txt",
    );
    std::fs::write(dir.join("installed-requirements.txt"), wanted).unwrap();
    python
}
