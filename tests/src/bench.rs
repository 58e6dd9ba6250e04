//! Helpers the benchmarks share: real `baton serve` processes on SQLite or PostgreSQL, and their
//! CPU time and memory read from /proc.

use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};

/// The API key the benchmark servers accept.
pub const KEY: &str = "bench-key";

/// A number from the environment, or `default`.
#[allow(clippy::disallowed_methods)] // benchmarks are configured by their environment
pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A text from the environment, or `default`.
#[allow(clippy::disallowed_methods)] // benchmarks are configured by their environment
pub fn env_text(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// The `baton` binary: `BENCH_SERVER` if set (to compare two builds), else the one next to the
/// running benchmark, the release one first.
pub fn server_binary() -> std::path::PathBuf {
    let chosen = env_text("BENCH_SERVER", "");
    if !chosen.is_empty() {
        return chosen.into();
    }
    let target = std::env::current_exe().unwrap();
    let dir = target.parent().and_then(|p| p.parent()).unwrap().to_owned();
    for candidate in [
        dir.join("../release/baton"),
        dir.join("baton"),
        dir.join("../debug/baton"),
    ] {
        if candidate.exists() {
            return candidate;
        }
    }
    panic!("build the server first: cargo build --release -p baton");
}

/// The `p` quantile (0..1) of sorted values.
pub fn percentile<T: Copy>(sorted: &[T], p: f64) -> T {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// User + system CPU seconds of a process (all its threads, live or ended), from /proc.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0 // USER_HZ is 100 on Linux
}

/// A memory figure of a process in MiB: `VmRSS` (now) or `VmHWM` (peak), from /proc.
pub fn memory_mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("{field} missing from /proc/{pid}/status"));
    let kib: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib / 1024.0
}

/// The database a benchmark runs on: `BENCH_DATABASE=sqlite` (default, a file in a temporary
/// directory) or `postgres` (a fresh database on `BATON_TEST_DATABASE_URL` or a throwaway
/// server).
pub struct BenchDatabase {
    /// The URL the servers connect to.
    pub url: String,
    /// Holds the SQLite file and the servers' data directory.
    pub dir: tempfile::TempDir,
}

impl BenchDatabase {
    /// Makes the database `BENCH_DATABASE` names.
    pub async fn from_env() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = match env_text("BENCH_DATABASE", "sqlite").as_str() {
            "sqlite" => format!("sqlite://{}?mode=rwc", dir.path().join("b.db").display()),
            "postgres" => {
                let admin = baton_store::testing::postgres_admin_url()
                    .expect("PostgreSQL: set BATON_TEST_DATABASE_URL or install its binaries");
                baton_store::testing::fresh_postgres_database(&admin)
                    .await
                    .unwrap()
            }
            other => panic!("BENCH_DATABASE is sqlite or postgres, not {other}"),
        };
        Self { url, dir }
    }

    /// Which backend this is, for the report.
    pub fn backend(&self) -> &'static str {
        if self.url.starts_with("sqlite:") {
            "SQLite"
        } else {
            "PostgreSQL"
        }
    }
}

/// A running `baton serve` process, killed when dropped.
pub struct ServerProcess {
    child: Child,
    /// Its base URL.
    pub url: String,
}

impl ServerProcess {
    /// Starts a server on `db` whose `openai` provider is the fake at `model_base_url`.
    #[allow(clippy::disallowed_methods)] // the benchmark runs the real server binary
    pub fn start(db: &BenchDatabase, model_base_url: &str) -> Self {
        let mut child = Command::new(server_binary())
            .arg("serve")
            .env("BATON_LISTEN", "127.0.0.1:0")
            .env("BATON_API_KEY", KEY)
            .env("DATABASE_URL", &db.url)
            .env("BATON_DATA_DIR", db.dir.path())
            .env("OPENAI_BASE_URL", model_base_url)
            .env("OPENAI_API_KEY", "sk-bench")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let url = crate::listening_url(&mut child);
        Self { child, url }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client for `concurrency` parallel requests.
pub fn client(concurrency: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap()
}

/// Creates agent `key` on the server with the given tools.
pub async fn create_agent(client: &reqwest::Client, url: &str, key: &str, tools: Value) {
    let resp = client
        .post(format!("{url}/v2/agents"))
        .bearer_auth(KEY)
        .json(
            &json!({"key": key, "role": "r", "description": "d", "instructions": "Be brief.",
                      "path": "Default", "model": "openai/gpt-4o",
                      "settings": {"tools": tools}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
}

/// Sends one run (`body`, a responses request) and returns its response body.
pub async fn respond(client: &reqwest::Client, url: &str, agent: &str, body: &Value) -> Value {
    let resp = client
        .post(format!("{url}/v2/agents/{agent}/responses"))
        .bearer_auth(KEY)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    resp.json().await.unwrap()
}
