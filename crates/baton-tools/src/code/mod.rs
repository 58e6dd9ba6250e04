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
//! the operator chose [`SandboxMode::None`] for a trusted setup. Built without the `code`
//! feature, there is no sandbox and code tools answer that they are not set up.

#[cfg(feature = "code")]
mod argv;
#[cfg(feature = "code")]
mod cgroup;
#[cfg(not(feature = "code"))]
mod disabled;
#[cfg(feature = "code")]
mod layout;
#[cfg(feature = "code")]
mod output;
#[cfg(feature = "code")]
mod probe;
#[cfg(feature = "code")]
mod run;
#[cfg(feature = "code")]
mod sandbox;

#[cfg(not(feature = "code"))]
pub use disabled::Sandbox;
#[cfg(feature = "code")]
pub use sandbox::Sandbox;

use async_trait::async_trait;
use baton_core::handler::{ToolContext, ToolError, ToolHandler};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

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
    async fn call(&self, arguments: Value, _ctx: &ToolContext<'_>) -> Result<Value, ToolError> {
        self.sandbox.run(&self.code, &arguments, self.timeout).await
    }
}
