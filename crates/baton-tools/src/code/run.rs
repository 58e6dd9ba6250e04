//! One call in the sandbox: limits set up, the process started and fed, its output collected
//! within the limits, the answer read.

use super::argv::JOIN_GROUPS;
use super::cgroup::CallGroup;
use super::output::{bytes, capture, split_answer, tail_of, timeout_message, Captured};
use super::sandbox::{Inner, Runner, Sandbox};
use baton_core::handler::ToolError;
use serde_json::{json, Value};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::process::Child;

const SIGKILL: i32 = 9;
const SIGXCPU: i32 = 24;

/// What the process left: how it ended, what it printed and what it answered.
struct Finished {
    status: Result<ExitStatus, ToolError>,
    printed: Option<Captured>,
    channel: Option<Captured>,
}

impl Sandbox {
    /// Runs `code` with `params`; `timeout` overrides the default wall-clock limit.
    pub async fn run(
        &self,
        code: &str,
        params: &Value,
        timeout: Option<Duration>,
    ) -> Result<Value, ToolError> {
        let inner = &self.inner;
        let python = inner.ready()?;
        let group = inner.call_group().await?;
        // Without bubblewrap the code works in a scratch directory of the host.
        let scratch = match inner.runner {
            Runner::Plain => Some(
                tempfile::Builder::new()
                    .prefix("baton-code-")
                    .tempdir()
                    .map_err(|e| {
                        ToolError::Unavailable(format!("cannot create the scratch directory: {e}"))
                    })?,
            ),
            Runner::Bubblewrap { .. } => None,
        };
        let mut child = inner.spawn(python, group.as_ref(), scratch.as_ref().map(|s| s.path()))?;
        let pid = child.id();
        let input = serde_json::to_vec(&json!({"code": code, "params": params}))
            .unwrap_or_else(|_| b"{}".to_vec());
        if let Some(mut stdin) = child.stdin.take() {
            // A sandbox that fails early must not block the call on its input.
            tokio::spawn(async move {
                let _ = stdin.write_all(&input).await;
            });
        }
        let finished = inner
            .collect(&mut child, timeout.unwrap_or(inner.limits.timeout))
            .await;
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
        inner.answer(finished, oom_kills)
    }
}

impl Inner {
    /// The interpreter, when code tools may run here.
    fn ready(&self) -> Result<&Path, ToolError> {
        let no_python =
            || ToolError::Unavailable("no Python interpreter is available on this server".into());
        if self.unavailable.is_some() {
            return Err(if self.python.is_none() {
                no_python()
            } else {
                ToolError::Unavailable(
                    "code tools are unavailable on this server: their sandbox could not be set \
                     up (the server log says why)"
                        .into(),
                )
            });
        }
        self.python.as_deref().ok_or_else(no_python)
    }

    /// A control group capping this call's memory and processes, where there are cgroups.
    async fn call_group(&self) -> Result<Option<CallGroup>, ToolError> {
        let Some(cgroups) = &self.cgroups else {
            return Ok(None);
        };
        let limits = &self.limits;
        let group = cgroups
            .create(limits.memory_bytes, limits.processes)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "code tool cgroup");
                ToolError::Unavailable("cannot set up the code's limits on this server".into())
            })?;
        Ok(Some(group))
    }

    /// Starts the sandbox: joining the call's control groups first, in `scratch` when the code
    /// runs on the host.
    #[allow(clippy::disallowed_methods)] // the sandbox is where child processes belong
    fn spawn(
        &self,
        python: &Path,
        group: Option<&CallGroup>,
        scratch: Option<&Path>,
    ) -> Result<Child, ToolError> {
        let work_dir = scratch.map_or_else(|| PathBuf::from("/tmp"), Path::to_owned);
        let mut argv: Vec<&str> = Vec::new();
        let files: Vec<String> = group
            .iter()
            .flat_map(|g| g.procs_files())
            .map(|p| p.display().to_string())
            .collect();
        let count = files.len().to_string();
        if let (Some(_), Some(sh)) = (group, &self.sh) {
            let sh = sh.to_str().unwrap_or("/bin/sh");
            argv.extend([sh, "-c", JOIN_GROUPS, "sh", &count]);
            argv.extend(files.iter().map(String::as_str));
        }
        argv.extend(self.argv.iter().map(String::as_str));
        let search = match python.parent() {
            Some(dir) => format!("{}:/usr/local/bin:/usr/bin:/bin", dir.display()),
            None => "/usr/local/bin:/usr/bin:/bin".into(),
        };
        let Some((program, args)) = argv.split_first() else {
            return Err(ToolError::Unavailable("the sandbox has no command".into()));
        };
        tokio::process::Command::new(program)
            .args(args)
            .current_dir(scratch.unwrap_or(Path::new("/")))
            .env_clear()
            .env("PATH", search)
            .env("HOME", &work_dir)
            .env("TMPDIR", &work_dir)
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| ToolError::Unavailable(format!("cannot start Python: {e}")))
    }

    /// Reads the output and the answer until both end, then waits for the process; a limit
    /// passed (time, output, result size) stops it.
    async fn collect(&self, child: &mut Child, limit: Duration) -> Finished {
        let limits = &self.limits;
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
                        break Some(ToolError::Execution(format!(
                            "code tool exceeded its output limit ({})",
                            bytes(limits.max_output_bytes as u64)
                        )));
                    }
                    printed = Some(got);
                }
                got = &mut answer, if channel.is_none() => {
                    if got.over {
                        break Some(ToolError::Execution(format!(
                            "the code's result is larger than {}",
                            bytes(limits.file_bytes)
                        )));
                    }
                    channel = Some(got);
                }
                _ = tokio::time::sleep_until(deadline) => {
                    break Some(ToolError::Timeout(timeout_message(limit)));
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
            Some(status) => {
                status.map_err(|e| ToolError::Execution(format!("waiting for Python failed: {e}")))
            }
            None => {
                let _ = child.start_kill();
                let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
                Err(stop.unwrap_or_else(|| ToolError::Timeout(timeout_message(limit))))
            }
        };
        Finished {
            status,
            printed,
            channel,
        }
    }

    /// The call's result, or why the code failed.
    fn answer(&self, finished: Finished, oom_kills: u64) -> Result<Value, ToolError> {
        let status = finished.status?;
        let printed = finished
            .printed
            .map(|p| p.text(self.limits.output_bytes))
            .unwrap_or_default();
        let channel = finished.channel.map(|c| c.bytes).unwrap_or_default();
        let (diagnostics, message) = split_answer(&channel);
        if status.success() {
            let Some(Value::Object(mut message)) = message else {
                return Err(ToolError::Execution(
                    "the code finished without a result".into(),
                ));
            };
            let result = message.remove("result").unwrap_or(Value::Null);
            return Ok(if printed.is_empty() {
                result
            } else {
                // Printed output is kept beside the result: models use it when debugging.
                json!({"result": result, "stdout": printed})
            });
        }
        let detail = match message.as_ref().and_then(|m| m["error"].as_str()) {
            Some(traceback) => traceback.to_owned(),
            None if !diagnostics.trim().is_empty() => diagnostics,
            None => printed,
        };
        Err(self.failure(status, oom_kills, &detail))
    }

    /// Why the code did not succeed: a limit it passed, or how it ended and what it said.
    fn failure(&self, status: ExitStatus, oom_kills: u64, detail: &str) -> ToolError {
        let sandboxed = matches!(self.runner, Runner::Bubblewrap { .. });
        // bubblewrap reports a command killed by a signal as 128 + the signal.
        let signal = status.signal().or_else(|| {
            status
                .code()
                .filter(|c| sandboxed && (129..=192).contains(c))
                .map(|c| c - 128)
        });
        match signal {
            Some(SIGXCPU) => {
                return ToolError::Execution(format!(
                    "code tool exceeded its CPU limit ({} s)",
                    self.limits.cpu_seconds
                ))
            }
            Some(SIGKILL) if oom_kills > 0 => {
                return ToolError::Execution(format!(
                    "code tool exceeded its memory limit ({})",
                    bytes(self.limits.memory_bytes)
                ))
            }
            _ => {}
        }
        let reason = match (signal, status.code()) {
            (Some(signal), _) => format!("was killed by signal {signal}"),
            (None, Some(code)) => format!("exited with status {code}"),
            (None, None) => "was stopped".to_owned(),
        };
        let tail = tail_of(detail, 2000);
        ToolError::Execution(if tail.is_empty() {
            format!("the code {reason}")
        } else {
            format!("the code {reason}: {tail}")
        })
    }
}

/// Sends SIGKILL to these process ids (`-PGID` for a process group).
#[allow(clippy::disallowed_methods)] // the sandbox is where child processes belong
pub(super) async fn kill(pids: &[&str]) {
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
