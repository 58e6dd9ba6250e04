//! Python code tools in a sandbox.
//!
//! The code reads `params` and sets `result` (as orq's code tools do). Each call runs under
//! bubblewrap (`bwrap`) in new mount, PID, network, IPC and UTS namespaces: the file system
//! holds only the interpreter, its standard library and shared libraries (read-only), a fresh
//! size-capped `/tmp`, `/dev/null`, `/dev/urandom` and the sandbox's own `/proc`. A server
//! running as root runs the code as an unprivileged uid. A control group per call caps memory
//! and processes of the whole sandbox; `setrlimit` adds per-process address space, CPU seconds,
//! file size and open files; a wall-clock timeout bounds the call and output is capped.
//!
//! Where the sandbox cannot be set up, code tools are refused, never run without it, unless
//! the operator chose [`SandboxMode::None`] for a trusted setup.

mod cgroup;
mod layout;

use async_trait::async_trait;
use baton_core::handler::{ToolContext, ToolHandler};
use cgroup::Cgroups;
use layout::{Layout, Needs};
use serde_json::{json, Value};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// Limits applied to every code tool call.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeLimits {
    /// Wall-clock time for a whole call.
    pub timeout: Duration,
    /// CPU seconds of each process.
    pub cpu_seconds: u64,
    /// Memory of the whole sandbox (and address space of each process), in bytes.
    pub memory_bytes: u64,
    /// Processes (and threads) of the whole sandbox.
    pub processes: u32,
    /// Bytes of printed output kept in the answer.
    pub output_bytes: usize,
    /// Bytes of printed output after which the code is stopped.
    pub max_output_bytes: usize,
    /// Largest file the code may write, and largest result, in bytes.
    pub file_bytes: u64,
    /// Size of the writable scratch directory (`/tmp`), in bytes.
    pub scratch_bytes: u64,
}

impl Default for CodeLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            cpu_seconds: 10,
            memory_bytes: 512 * 1024 * 1024,
            processes: 64,
            output_bytes: 64 * 1024,
            max_output_bytes: 1024 * 1024,
            file_bytes: 16 * 1024 * 1024,
            scratch_bytes: 64 * 1024 * 1024,
        }
    }
}

/// How code tools are isolated, as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SandboxMode {
    /// bubblewrap namespaces; code tools are refused where they cannot be set up.
    #[default]
    Bubblewrap,
    /// No isolation: the code runs as the server's user and sees its files. Trusted setups only.
    None,
}

/// Everything [`Sandbox::detect`] needs.
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxConfig {
    /// The interpreter: a command looked up on `path`, or a path.
    pub python: String,
    /// The search path for the interpreter and `bwrap`.
    pub path: String,
    /// The isolation wanted.
    pub mode: SandboxMode,
    /// The unprivileged uid (and gid) code runs as when the server runs as root.
    pub uid: u32,
    /// Paths code must never see (the data directory, the database, the working directory).
    pub hidden: Vec<PathBuf>,
    /// Limits of every call.
    pub limits: CodeLimits,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            python: "python3".into(),
            path: "/usr/local/bin:/usr/bin:/bin".into(),
            mode: SandboxMode::Bubblewrap,
            uid: 65534,
            hidden: Vec::new(),
            limits: CodeLimits::default(),
        }
    }
}

/// The isolation in effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// bubblewrap namespaces.
    Bubblewrap,
    /// None, as configured.
    None,
    /// Code tools are refused: the sandbox could not be set up (or there is no interpreter).
    Unavailable,
}

/// Paths code tools never see, whatever the interpreter needs.
const ALWAYS_HIDDEN: [&str; 8] = [
    "/root", "/home", "/etc", "/tmp", "/var", "/run", "/srv", "/boot",
];

const HARNESS: &str = include_str!("harness.py");
const ANSWER_MARK: &[u8] = b"\x1ebaton-answer ";
const SIGKILL: i32 = 9;
const SIGXCPU: i32 = 24;

/// Joins the call's control groups, then becomes the sandbox.
const JOIN_GROUPS: &str = r#"n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ >"$1" || exit 125; shift; n=$((n-1)); done; exec "$@""#;

#[derive(Debug, Clone)]
enum Runner {
    Bubblewrap {
        bwrap: PathBuf,
        layout: Layout,
        /// Not root: bubblewrap makes a user namespace to mount in.
        user_namespace: bool,
    },
    Plain,
}

#[derive(Debug, Clone)]
struct Inner {
    python: Option<PathBuf>,
    runner: Runner,
    cgroups: Option<Cgroups>,
    sh: Option<PathBuf>,
    /// The uid to give up root for (the server runs as root).
    uid: Option<u32>,
    limits: CodeLimits,
    /// Why code tools are refused.
    unavailable: Option<String>,
    /// The sandbox's command line (after the cgroup wrapper), the same for every call.
    argv: Vec<String>,
}

/// Runs Python code in the sandbox. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

fn find_in_path(name: &str, path: &str) -> Option<PathBuf> {
    path.split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
}

/// Whether this process runs as root (`/proc/self` belongs to the effective uid).
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// What detection found for an interpreter, kept for the life of the process: servers and
/// tests that start several runtimes probe once.
#[derive(Debug, Clone)]
struct Probed {
    needs: Result<Needs, String>,
    cgroups: Result<Cgroups, String>,
}

type ProbeKey = (String, String);
static PROBED: Mutex<Vec<(ProbeKey, Probed)>> = Mutex::new(Vec::new());

#[allow(clippy::disallowed_methods)] // the sandbox is where child processes belong
async fn probe_python(python: &str, path: &str) -> Result<Needs, String> {
    let candidate = if python.contains('/') {
        Some(PathBuf::from(python))
    } else {
        find_in_path(python, path)
    }
    .ok_or_else(|| format!("no Python interpreter `{python}` found"))?;
    // Version managers put shims on PATH that need the caller's environment; the interpreter
    // names its real executable, which then runs with an empty one.
    let out = tokio::process::Command::new(&candidate)
        .args(["-I", "-B", "-c", layout::PROBE])
        .env_clear()
        .env("PATH", path)
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .await
        .map_err(|e| format!("cannot run {}: {e}", candidate.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} did not answer ({})",
            candidate.display(),
            out.status
        ));
    }
    Needs::parse(&String::from_utf8_lossy(&out.stdout))
}

async fn probe(python: &str, path: &str) -> Probed {
    let key = (python.to_owned(), path.to_owned());
    let cached = PROBED
        .lock()
        .ok()
        .and_then(|c| c.iter().find(|(k, _)| *k == key).map(|(_, p)| p.clone()));
    if let Some(probed) = cached {
        return probed;
    }
    let probed = Probed {
        needs: probe_python(python, path).await,
        cgroups: Cgroups::detect().await,
    };
    if let Ok(mut cache) = PROBED.lock() {
        cache.push((key, probed.clone()));
    }
    probed
}

impl Sandbox {
    /// Finds the interpreter, what it needs and the isolation tools, sets up the sandbox and
    /// proves it with one call. Logs what it found; a sandbox that cannot be set up refuses
    /// code tools (see [`Isolation::Unavailable`]).
    pub async fn detect(config: SandboxConfig) -> Self {
        let probed = probe(&config.python, &config.path).await;
        let root = running_as_root();
        let cgroups = match probed.cgroups {
            Ok(cgroups) => Some(cgroups),
            Err(reason) => {
                tracing::warn!(
                    %reason,
                    "code tools: no writable cgroup; memory and process limits hold per process \
                     (RLIMIT_AS) and per uid (RLIMIT_NPROC), not per sandbox"
                );
                None
            }
        };
        let python = probed.needs.as_ref().ok().map(|n| n.executable.clone());
        let mut unavailable = probed.needs.as_ref().err().cloned();
        let runner = match (config.mode, probed.needs) {
            (SandboxMode::None, _) | (SandboxMode::Bubblewrap, Err(_)) => Runner::Plain,
            (SandboxMode::Bubblewrap, Ok(needs)) => {
                let hidden = config.hidden.clone();
                let layout = tokio::task::spawn_blocking(move || {
                    let mut hidden: Vec<PathBuf> = hidden
                        .iter()
                        .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()))
                        .collect();
                    hidden.extend(ALWAYS_HIDDEN.iter().map(PathBuf::from));
                    layout::plan(&needs, &hidden)
                })
                .await
                .unwrap_or_else(|e| Err(e.to_string()));
                match (find_in_path("bwrap", &config.path), layout) {
                    (None, _) => {
                        unavailable = Some("bubblewrap (`bwrap`) is not installed".to_owned());
                        Runner::Plain
                    }
                    (Some(_), Err(reason)) => {
                        unavailable = Some(reason);
                        Runner::Plain
                    }
                    (Some(bwrap), Ok(layout)) => Runner::Bubblewrap {
                        bwrap,
                        layout,
                        user_namespace: !root,
                    },
                }
            }
        };
        let isolated = matches!(runner, Runner::Bubblewrap { .. });
        let sh = find_in_path("sh", &config.path)
            .or_else(|| Some(PathBuf::from("/bin/sh")).filter(|p| p.is_file()));
        let cgroups = match (cgroups, &sh) {
            (Some(_), None) => {
                tracing::warn!("code tools: no `sh` to join the cgroups with; limits per process");
                None
            }
            (cgroups, _) => cgroups,
        };
        let mut inner = Inner {
            python,
            runner,
            cgroups,
            sh,
            uid: (root && isolated).then_some(config.uid),
            limits: config.limits,
            unavailable,
            argv: Vec::new(),
        };
        inner.argv = sandbox_argv(&inner);
        if inner.unavailable.is_none() {
            // The sandbox proves itself once: a machine without user namespaces, or a runtime
            // that does not start inside, refuses code tools rather than failing every call.
            let trial = Sandbox {
                inner: Arc::new(inner.clone()),
            };
            if let Err(e) = trial.run("result = 1", &json!({}), None).await {
                inner.unavailable = Some(format!("the sandbox does not start here: {e}"));
            }
        }
        match (&inner.unavailable, isolated) {
            (Some(reason), _) => tracing::warn!(
                %reason,
                "code tools are disabled: they are refused rather than run without isolation \
                 (set [tools] code_sandbox = \"none\" only for trusted setups)"
            ),
            (None, true) => tracing::info!(
                python = %inner.python.as_deref().unwrap_or(Path::new("")).display(),
                uid = ?inner.uid,
                cgroups = inner.cgroups.is_some(),
                "code tools: bubblewrap sandbox"
            ),
            (None, false) => tracing::warn!(
                "code tools run WITHOUT isolation (code_sandbox = \"none\"): code sees the \
                 server's files as the server's user"
            ),
        }
        Self {
            inner: Arc::new(inner),
        }
    }

    /// A sandbox without an interpreter: code tools answer that Python is unavailable.
    pub fn disabled() -> Self {
        Self {
            inner: Arc::new(Inner {
                python: None,
                runner: Runner::Plain,
                cgroups: None,
                sh: None,
                uid: None,
                limits: CodeLimits::default(),
                unavailable: Some("no Python interpreter is available on this server".into()),
                argv: Vec::new(),
            }),
        }
    }

    /// The isolation in effect.
    pub fn isolation(&self) -> Isolation {
        match (&self.inner.unavailable, &self.inner.runner) {
            (Some(_), _) => Isolation::Unavailable,
            (None, Runner::Bubblewrap { .. }) => Isolation::Bubblewrap,
            (None, Runner::Plain) => Isolation::None,
        }
    }

    /// The limits in effect.
    pub fn limits(&self) -> &CodeLimits {
        &self.inner.limits
    }

    /// Runs `code` with `params`; `timeout` overrides the default wall-clock limit.
    #[allow(clippy::disallowed_methods)] // the sandbox is where child processes belong
    pub async fn run(
        &self,
        code: &str,
        params: &Value,
        timeout: Option<Duration>,
    ) -> Result<Value, String> {
        let inner = &self.inner;
        if inner.unavailable.is_some() {
            return Err(if inner.python.is_none() {
                "no Python interpreter is available on this server".into()
            } else {
                "code tools are unavailable on this server: their sandbox could not be set up \
                 (the server log says why)"
                    .into()
            });
        }
        let Some(python) = &inner.python else {
            return Err("no Python interpreter is available on this server".into());
        };
        let limits = &inner.limits;
        let group = match &inner.cgroups {
            Some(cgroups) => Some(
                cgroups
                    .create(limits.memory_bytes, limits.processes)
                    .await
                    .map_err(|e| {
                        tracing::warn!(error = %e, "code tool cgroup");
                        "cannot set up the code's limits on this server".to_owned()
                    })?,
            ),
            None => None,
        };
        // Without bubblewrap the code works in a scratch directory of the host.
        let scratch = match inner.runner {
            Runner::Plain => Some(
                tempfile::Builder::new()
                    .prefix("baton-code-")
                    .tempdir()
                    .map_err(|e| format!("cannot create the scratch directory: {e}"))?,
            ),
            Runner::Bubblewrap { .. } => None,
        };
        let work_dir = scratch
            .as_ref()
            .map(|s| s.path().to_owned())
            .unwrap_or_else(|| PathBuf::from("/tmp"));

        let mut argv: Vec<&str> = Vec::new();
        let files: Vec<String> = group
            .iter()
            .flat_map(|g| g.procs_files())
            .map(|p| p.display().to_string())
            .collect();
        let count = files.len().to_string();
        if let (Some(_), Some(sh)) = (&group, &inner.sh) {
            argv.extend([
                sh.to_str().unwrap_or("/bin/sh"),
                "-c",
                JOIN_GROUPS,
                "sh",
                &count,
            ]);
            argv.extend(files.iter().map(String::as_str));
        }
        argv.extend(inner.argv.iter().map(String::as_str));
        let bin_dir = python.parent().map(|p| p.display().to_string());
        let search = match bin_dir {
            Some(dir) => format!("{dir}:/usr/local/bin:/usr/bin:/bin"),
            None => "/usr/local/bin:/usr/bin:/bin".into(),
        };

        let Some((program, args)) = argv.split_first() else {
            return Err("the sandbox has no command".into());
        };
        let mut command = tokio::process::Command::new(program);
        command
            .args(args)
            .current_dir(scratch.as_ref().map_or(Path::new("/"), |s| s.path()))
            .env_clear()
            .env("PATH", search)
            .env("HOME", &work_dir)
            .env("TMPDIR", &work_dir)
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
        let input = serde_json::to_vec(&json!({"code": code, "params": params}))
            .unwrap_or_else(|_| b"{}".to_vec());
        if let Some(mut stdin) = child.stdin.take() {
            // A sandbox that fails early must not block the call on its input.
            tokio::spawn(async move {
                let _ = stdin.write_all(&input).await;
            });
        }
        let limit = timeout.unwrap_or(limits.timeout);
        let deadline = tokio::time::Instant::now() + limit;
        let result_cap = usize::try_from(limits.file_bytes).unwrap_or(usize::MAX);
        let output = capture(child.stdout.take(), limits.max_output_bytes);
        let answer = capture(child.stderr.take(), result_cap);
        tokio::pin!(output, answer);
        let (mut printed, mut channel) = (None, None);
        let stop = loop {
            tokio::select! {
                got = &mut output, if printed.is_none() => {
                    if got.over {
                        break Some(format!(
                            "code tool exceeded its output limit ({})",
                            bytes(limits.max_output_bytes as u64)
                        ));
                    }
                    printed = Some(got);
                }
                got = &mut answer, if channel.is_none() => {
                    if got.over {
                        break Some(format!(
                            "the code's result is larger than {}",
                            bytes(limits.file_bytes)
                        ));
                    }
                    channel = Some(got);
                }
                _ = tokio::time::sleep_until(deadline) => {
                    break Some(timeout_message(limit));
                }
            }
            if printed.is_some() && channel.is_some() {
                break None;
            }
        };
        let waited = match stop {
            Some(_) => None,
            None => tokio::time::timeout_at(deadline, child.wait()).await.ok(),
        };
        let status = match waited {
            Some(status) => status.map_err(|e| format!("waiting for Python failed: {e}")),
            None => {
                let _ = child.start_kill();
                let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
                Err(stop.unwrap_or_else(|| timeout_message(limit)))
            }
        };
        if matches!(inner.runner, Runner::Plain) {
            // Children the code left behind are stopped with it (bubblewrap's PID namespace
            // does this itself).
            if let Some(pid) = pid {
                kill(&[&format!("-{pid}")]).await;
            }
        }
        let oom_kills = match &group {
            Some(group) => group.oom_kills().await,
            None => 0,
        };
        if let Some(group) = group {
            group.remove().await;
        }
        drop(scratch);
        let status = status?;
        let printed = printed
            .map(|p| p.text(limits.output_bytes))
            .unwrap_or_default();
        let channel = channel.map(|c| c.bytes).unwrap_or_default();
        let (diagnostics, message) = split_answer(&channel);
        let sandboxed = matches!(inner.runner, Runner::Bubblewrap { .. });
        if status.success() {
            let Some(Value::Object(mut message)) = message else {
                return Err("the code finished without a result".into());
            };
            let result = message.remove("result").unwrap_or(Value::Null);
            return Ok(if printed.is_empty() {
                result
            } else {
                // Printed output is kept beside the result: models use it when debugging.
                json!({"result": result, "stdout": printed})
            });
        }
        // bubblewrap reports a command killed by a signal as 128 + the signal.
        let signal = status.signal().or_else(|| {
            status
                .code()
                .filter(|c| sandboxed && (129..=192).contains(c))
                .map(|c| c - 128)
        });
        match signal {
            Some(SIGXCPU) => {
                return Err(format!(
                    "code tool exceeded its CPU limit ({} s)",
                    limits.cpu_seconds
                ))
            }
            Some(SIGKILL) if oom_kills > 0 => {
                return Err(format!(
                    "code tool exceeded its memory limit ({})",
                    bytes(limits.memory_bytes)
                ))
            }
            _ => {}
        }
        let reason = match (signal, status.code()) {
            (Some(signal), _) => format!("was killed by signal {signal}"),
            (None, Some(code)) => format!("exited with status {code}"),
            (None, None) => "was stopped".to_owned(),
        };
        let detail = match message.as_ref().and_then(|m| m["error"].as_str()) {
            Some(traceback) => traceback.to_owned(),
            None if !diagnostics.trim().is_empty() => diagnostics,
            None => printed,
        };
        let tail = tail_of(&detail, 2000);
        Err(if tail.is_empty() {
            format!("the code {reason}")
        } else {
            format!("the code {reason}: {tail}")
        })
    }
}

/// The per-process limits the harness sets before it runs the code.
fn rlimits(inner: &Inner) -> Value {
    let l = &inner.limits;
    // With a control group the process cap is per sandbox; RLIMIT_NPROC counts every
    // process of the uid, so it is only a backstop then.
    let nproc = if inner.cgroups.is_some() {
        u64::from(l.processes).saturating_mul(16).max(1024)
    } else {
        u64::from(l.processes)
    };
    json!([
        ["RLIMIT_AS", l.memory_bytes, l.memory_bytes],
        // SIGXCPU at the limit names the cause; SIGKILL a second later if it is ignored.
        ["RLIMIT_CPU", l.cpu_seconds, l.cpu_seconds + 1],
        ["RLIMIT_FSIZE", l.file_bytes, l.file_bytes],
        ["RLIMIT_NOFILE", 64, 64],
        ["RLIMIT_CORE", 0, 0],
        ["RLIMIT_NPROC", nproc, nproc],
    ])
}

/// bubblewrap's arguments: the namespaces, then the file system, built up in order.
fn bwrap_args(limits: &CodeLimits, layout: &Layout, user_namespace: bool) -> Vec<String> {
    // With --die-with-parent the sandbox dies with the runtime thread that started it (a worker
    // that lives as long as the server), so a crashed server leaves no code running.
    let mut args: Vec<String> = [
        "--unshare-ipc",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
    ]
    .map(String::from)
    .into();
    if user_namespace {
        args.push("--unshare-user".into());
    }
    // Directories on the way to the runtime can be passed, not listed.
    for dir in layout
        .dirs
        .iter()
        .map(|d| d.as_path())
        .chain([Path::new("/dev")])
    {
        args.extend([
            "--perms".into(),
            "0711".into(),
            "--dir".into(),
            dir.display().to_string(),
        ]);
    }
    for bind in &layout.binds {
        let p = bind.display().to_string();
        args.extend(["--ro-bind".into(), p.clone(), p]);
    }
    for (at, target) in &layout.links {
        args.extend([
            "--symlink".into(),
            target.display().to_string(),
            at.display().to_string(),
        ]);
    }
    for dev in ["/dev/null", "/dev/urandom"] {
        args.extend(["--dev-bind".into(), dev.into(), dev.into()]);
    }
    args.extend(["--proc".into(), "/proc".into()]);
    args.extend([
        "--perms".into(),
        "1777".into(),
        "--size".into(),
        limits.scratch_bytes.to_string(),
        "--tmpfs".into(),
        "/tmp".into(),
    ]);
    args.extend(["--remount-ro".into(), "/".into()]);
    args.extend(["--chdir".into(), "/tmp".into(), "--".into()]);
    args
}

/// The sandbox's command line: bubblewrap and its arguments (unless off), then the interpreter
/// running the harness with the limits and the uid to give root up for.
fn sandbox_argv(inner: &Inner) -> Vec<String> {
    let mut argv = Vec::new();
    if let Runner::Bubblewrap {
        bwrap,
        layout,
        user_namespace,
    } = &inner.runner
    {
        argv.push(bwrap.display().to_string());
        argv.extend(bwrap_args(&inner.limits, layout, *user_namespace));
    }
    if let Some(python) = &inner.python {
        argv.push(python.display().to_string());
    }
    argv.extend(["-I".into(), "-B".into(), "-c".into(), HARNESS.into()]);
    argv.push(json!({"rlimits": rlimits(inner), "uid": inner.uid}).to_string());
    argv
}

fn timeout_message(limit: Duration) -> String {
    format!(
        "code tool exceeded its time limit: the code did not finish within {} s and was stopped",
        limit.as_secs_f64()
    )
}

/// `1 MiB`, `64 KiB`, `100 bytes`.
fn bytes(n: u64) -> String {
    match n {
        n if n >= 1024 * 1024 && n % (1024 * 1024) == 0 => format!("{} MiB", n / (1024 * 1024)),
        n if n >= 1024 && n % 1024 == 0 => format!("{} KiB", n / 1024),
        n => format!("{n} bytes"),
    }
}

/// Splits what the sandbox wrote on its answer channel into diagnostics (bubblewrap's or the
/// interpreter's own complaints) and the harness's answer.
fn split_answer(channel: &[u8]) -> (String, Option<Value>) {
    let found = channel
        .windows(ANSWER_MARK.len())
        .rposition(|w| w == ANSWER_MARK);
    match found {
        Some(at) => {
            let answer = &channel[at + ANSWER_MARK.len()..];
            let message = serde_json::from_slice(answer).ok();
            (
                String::from_utf8_lossy(&channel[..at]).into_owned(),
                message,
            )
        }
        None => (String::from_utf8_lossy(channel).into_owned(), None),
    }
}

/// Sends SIGKILL to these process ids (`-PGID` for a process group).
#[allow(clippy::disallowed_methods)] // the sandbox is where child processes belong
async fn kill(pids: &[&str]) {
    if pids.is_empty() {
        return;
    }
    let _ = tokio::process::Command::new("kill")
        .args(["-KILL", "--"])
        .args(pids)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
}

/// A stream read to its end, or until it passed `max` bytes.
struct Captured {
    bytes: Vec<u8>,
    total: usize,
    over: bool,
}

impl Captured {
    /// The first `keep` bytes as text, with a note of how much was left out.
    fn text(&self, keep: usize) -> String {
        let mut text =
            String::from_utf8_lossy(&self.bytes[..self.bytes.len().min(keep)]).into_owned();
        let dropped = self.total.saturating_sub(keep);
        if dropped > 0 {
            text.push_str(&format!("\n[{dropped} more bytes not kept]"));
        }
        text
    }
}

/// Reads a stream to its end, stopping once more than `max` bytes came.
async fn capture(stream: Option<impl AsyncRead + Unpin>, max: usize) -> Captured {
    let mut got = Captured {
        bytes: Vec::new(),
        total: 0,
        over: false,
    };
    let Some(mut stream) = stream else {
        return got;
    };
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                got.total += n;
                if got.total > max {
                    got.over = true;
                    break;
                }
                got.bytes.extend_from_slice(&buf[..n]);
            }
        }
    }
    got
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_found_after_diagnostics() {
        let (diag, msg) = split_answer(b"bwrap: warning\n\n\x1ebaton-answer {\"result\": 2}");
        assert_eq!(diag, "bwrap: warning\n\n");
        assert_eq!(msg, Some(json!({"result": 2})));
        let (diag, msg) = split_answer(b"bwrap: execvp python3: No such file");
        assert!(diag.starts_with("bwrap:") && msg.is_none());
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(bytes(1024 * 1024), "1 MiB");
        assert_eq!(bytes(64 * 1024), "64 KiB");
        assert_eq!(bytes(1000), "1000 bytes");
    }
}
