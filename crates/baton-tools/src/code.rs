//! Python code tools in a sandboxed child process.
//!
//! The code reads `params` and sets `result` (as orq's code tools do). Each call runs in a fresh
//! scratch directory, with an empty environment, resource limits (`prlimit`: address space, CPU
//! seconds, file size, open files) and, where the OS allows, new user, network and PID
//! namespaces (`unshare`): no network, and killing the sandbox kills everything it started.
//! A wall-clock timeout bounds the whole call. Output is captured and capped.

use async_trait::async_trait;
use baton_core::handler::{ToolContext, ToolHandler};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// Limits applied to every code tool call.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeLimits {
    /// Wall-clock time for a whole call.
    pub timeout: Duration,
    /// CPU seconds.
    pub cpu_seconds: u64,
    /// Address space in bytes.
    pub memory_bytes: u64,
    /// Bytes kept of stdout and of stderr each.
    pub output_bytes: usize,
    /// Largest file the code may write, in bytes.
    pub file_bytes: u64,
}

impl Default for CodeLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            cpu_seconds: 10,
            memory_bytes: 512 * 1024 * 1024,
            output_bytes: 64 * 1024,
            file_bytes: 16 * 1024 * 1024,
        }
    }
}

/// How much isolation this machine gives the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// New user, network and PID namespaces.
    Namespaces,
    /// Resource limits and a clean environment only (namespaces are not available).
    LimitsOnly,
}

/// Runs Python code under limits. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Sandbox {
    python: Option<PathBuf>,
    prlimit: Option<PathBuf>,
    unshare: Option<PathBuf>,
    isolation: Isolation,
    limits: CodeLimits,
}

const HARNESS: &str = r#"import json, sys
def _baton_main():
    with open("tool.py", encoding="utf-8") as f:
        source = f.read()
    params = json.loads(sys.stdin.read() or "null")
    if params is None:
        params = {}
    scope = {"params": params, "__name__": "__main__"}
    exec(compile(source, "tool.py", "exec"), scope)
    with open("result.json", "w", encoding="utf-8") as f:
        json.dump(scope.get("result"), f, default=str)
_baton_main()
"#;

fn find_in_path(name: &str, path: &str) -> Option<PathBuf> {
    path.split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
}

impl Sandbox {
    /// Finds the interpreter and the isolation tools; `python` is a command or path and `path`
    /// the search path to look in. Probes once whether namespaces work here.
    #[allow(clippy::disallowed_methods)] // the sandbox is where child processes belong
    pub async fn detect(python: &str, path: &str, limits: CodeLimits) -> Self {
        let candidate = if python.contains('/') {
            Some(PathBuf::from(python))
        } else {
            find_in_path(python, path)
        };
        // Version managers put shims on PATH that need the caller's environment; ask the
        // interpreter for its real path so it runs with an empty one.
        let mut python = None;
        if let Some(candidate) = candidate {
            let probe = tokio::process::Command::new(&candidate)
                .args(["-c", "import sys; print(sys.executable)"])
                .env("PATH", path)
                .stdin(Stdio::null())
                .output()
                .await;
            if let Ok(out) = probe {
                let exe = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                if out.status.success() && !exe.is_empty() {
                    python = Some(PathBuf::from(exe));
                }
            }
        }
        let prlimit = find_in_path("prlimit", path);
        let unshare = find_in_path("unshare", path);
        let mut isolation = Isolation::LimitsOnly;
        if let Some(unshare) = &unshare {
            let ok = tokio::process::Command::new(unshare)
                .args(namespace_args())
                .arg("true")
                .env_clear()
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .await
                .map(|s| s.success())
                .unwrap_or(false);
            if ok {
                isolation = Isolation::Namespaces;
            }
        }
        match (&python, isolation) {
            (None, _) => tracing::warn!("no Python interpreter found: code tools will fail"),
            (Some(p), Isolation::Namespaces) => {
                tracing::info!(python = %p.display(), "code tools: namespaces and limits")
            }
            (Some(p), Isolation::LimitsOnly) => tracing::warn!(
                python = %p.display(),
                "code tools: namespaces unavailable, running with limits only (network not isolated)"
            ),
        }
        if prlimit.is_none() {
            tracing::warn!("prlimit not found: code tools run without CPU and memory limits");
        }
        Self {
            python,
            prlimit,
            unshare,
            isolation,
            limits,
        }
    }

    /// A sandbox without an interpreter: code tools answer that Python is unavailable.
    pub fn disabled() -> Self {
        Self {
            python: None,
            prlimit: None,
            unshare: None,
            isolation: Isolation::LimitsOnly,
            limits: CodeLimits::default(),
        }
    }

    /// The isolation in effect.
    pub fn isolation(&self) -> Isolation {
        self.isolation
    }

    /// The limits in effect.
    pub fn limits(&self) -> &CodeLimits {
        &self.limits
    }

    /// Runs `code` with `params`; `timeout` overrides the default wall-clock limit.
    #[allow(clippy::disallowed_methods)] // the sandbox is where child processes belong
    pub async fn run(
        &self,
        code: &str,
        params: &Value,
        timeout: Option<Duration>,
    ) -> Result<Value, String> {
        let Some(python) = &self.python else {
            return Err("no Python interpreter is available on this server".into());
        };
        let scratch = tempfile::Builder::new()
            .prefix("baton-code-")
            .tempdir()
            .map_err(|e| format!("cannot create the scratch directory: {e}"))?;
        let dir = scratch.path();
        tokio::fs::write(dir.join("tool.py"), code)
            .await
            .map_err(|e| format!("cannot write the code: {e}"))?;
        tokio::fs::write(dir.join("harness.py"), HARNESS)
            .await
            .map_err(|e| format!("cannot write the harness: {e}"))?;

        let mut argv: Vec<String> = Vec::new();
        if let (Isolation::Namespaces, Some(unshare)) = (self.isolation, &self.unshare) {
            argv.push(unshare.display().to_string());
            argv.extend(namespace_args().iter().map(|s| s.to_string()));
        }
        if let Some(prlimit) = &self.prlimit {
            let l = &self.limits;
            argv.push(prlimit.display().to_string());
            argv.push(format!("--as={}", l.memory_bytes));
            argv.push(format!("--cpu={}", l.cpu_seconds));
            argv.push(format!("--fsize={}", l.file_bytes));
            argv.push("--nofile=64".into());
            argv.push("--core=0".into());
            argv.push("--".into());
        }
        argv.push(python.display().to_string());
        argv.extend(["-I", "-B", "harness.py"].map(String::from));

        let mut command = tokio::process::Command::new(&argv[0]);
        command
            .args(&argv[1..])
            .current_dir(dir)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", dir)
            .env("TMPDIR", dir)
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start Python: {e}"))?;
        let pid = child.id();
        let input = serde_json::to_vec(params).unwrap_or_else(|_| b"{}".to_vec());
        let mut stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let cap = self.limits.output_bytes;
        let work = async {
            if let Some(mut stdin) = stdin.take() {
                // A script that never reads its input must not block the call.
                let _ = stdin.write_all(&input).await;
                drop(stdin);
            }
            let (out, err, status) =
                tokio::join!(capped(stdout, cap), capped(stderr, cap), child.wait());
            (out, err, status)
        };
        let limit = timeout.unwrap_or(self.limits.timeout);
        let outcome = tokio::time::timeout(limit, work).await;
        let (stdout, stderr, status) = match outcome {
            Ok(done) => done,
            Err(_) => {
                kill_group(pid).await;
                return Err(format!(
                    "the code did not finish within {} s and was stopped",
                    limit.as_secs_f64()
                ));
            }
        };
        let status = status.map_err(|e| format!("waiting for Python failed: {e}"))?;
        // Children the code left behind are stopped with it.
        kill_group(pid).await;
        if !status.success() {
            let reason = match status.code() {
                Some(code) => format!("exited with status {code}"),
                None => "was killed (CPU or memory limit)".to_owned(),
            };
            let tail = tail_of(&stderr, 2000);
            return Err(if tail.is_empty() {
                format!("the code {reason}")
            } else {
                format!("the code {reason}: {tail}")
            });
        }
        let result = tokio::fs::read_to_string(dir.join("result.json"))
            .await
            .map_err(|_| "the code finished without a result".to_owned())?;
        let result: Value =
            serde_json::from_str(&result).map_err(|e| format!("the result is not JSON: {e}"))?;
        if stdout.is_empty() {
            Ok(result)
        } else {
            // Printed output is kept beside the result: models use it when debugging their calls.
            Ok(serde_json::json!({"result": result, "stdout": stdout}))
        }
    }
}

fn namespace_args() -> [&'static str; 7] {
    [
        "--user",
        "--map-root-user",
        "--net",
        "--pid",
        "--fork",
        "--kill-child",
        "--",
    ]
}

#[allow(clippy::disallowed_methods)] // the sandbox is where child processes belong
async fn kill_group(pid: Option<u32>) {
    let Some(pid) = pid else { return };
    // The child leads its own process group; `kill -KILL -- -PGID` reaches every process in it.
    let _ = tokio::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
}

/// Reads a stream to its end, keeping at most `cap` bytes (the rest is drained, so the child
/// never blocks on a full pipe).
async fn capped(stream: Option<impl AsyncRead + Unpin>, cap: usize) -> String {
    let Some(mut stream) = stream else {
        return String::new();
    };
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    let mut dropped = 0usize;
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = cap.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
                dropped += n.saturating_sub(room);
            }
        }
    }
    let mut text = String::from_utf8_lossy(&kept).into_owned();
    if dropped > 0 {
        text.push_str(&format!("\n[{dropped} more bytes not kept]"));
    }
    text
}

fn tail_of(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.len() <= max {
        return text.to_owned();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &text[start..])
}

/// A code tool ready to run.
pub struct CodeTool {
    code: String,
    sandbox: Sandbox,
    timeout: Option<Duration>,
}

impl CodeTool {
    /// Wraps code; `timeout` overrides the sandbox's default.
    pub fn new(code: String, sandbox: Sandbox, timeout: Option<Duration>) -> Self {
        Self {
            code,
            sandbox,
            timeout,
        }
    }
}

#[async_trait]
impl ToolHandler for CodeTool {
    async fn call(&self, arguments: Value, _ctx: &ToolContext<'_>) -> Result<Value, String> {
        self.sandbox.run(&self.code, &arguments, self.timeout).await
    }
}
