//! The sandbox: what detection found, set up once per process and proven with one call.

use super::argv::sandbox_argv;
use super::cgroup::Cgroups;
use super::layout::{self, Layout, Needs};
use super::probe::{find_in_path, probe};
use super::{CodeLimits, Isolation, SandboxConfig, SandboxMode};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Paths code tools never see, whatever the interpreter needs.
const ALWAYS_HIDDEN: [&str; 8] = [
    "/root", "/home", "/etc", "/tmp", "/var", "/run", "/srv", "/boot",
];

#[derive(Debug, Clone)]
pub(super) enum Runner {
    Bubblewrap {
        bwrap: PathBuf,
        layout: Layout,
        /// Not root: bubblewrap makes a user namespace to mount in.
        user_namespace: bool,
    },
    Plain,
}

#[derive(Debug, Clone)]
pub(super) struct Inner {
    pub(super) python: Option<PathBuf>,
    pub(super) runner: Runner,
    pub(super) cgroups: Option<Cgroups>,
    pub(super) sh: Option<PathBuf>,
    /// The uid to give up root for (the server runs as root).
    pub(super) uid: Option<u32>,
    pub(super) limits: CodeLimits,
    /// Why code tools are refused.
    pub(super) unavailable: Option<String>,
    /// The sandbox's command line (after the cgroup wrapper), the same for every call.
    pub(super) argv: Vec<String>,
}

/// Runs Python code in the sandbox. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Sandbox {
    pub(super) inner: Arc<Inner>,
}

/// Whether this process runs as root (`/proc/self` belongs to the effective uid).
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// How calls run: in bubblewrap where the interpreter and the tool are there, else plainly
/// (refused unless the operator chose no isolation, with the reason in `unavailable`).
async fn choose_runner(
    config: &SandboxConfig,
    needs: Result<Needs, String>,
    root: bool,
    unavailable: &mut Option<String>,
) -> Runner {
    let needs = match (config.mode, needs) {
        (SandboxMode::None, _) | (SandboxMode::Bubblewrap, Err(_)) => return Runner::Plain,
        (SandboxMode::Bubblewrap, Ok(needs)) => needs,
    };
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
            *unavailable = Some("bubblewrap (`bwrap`) is not installed".to_owned());
            Runner::Plain
        }
        (Some(_), Err(reason)) => {
            *unavailable = Some(reason);
            Runner::Plain
        }
        (Some(bwrap), Ok(layout)) => Runner::Bubblewrap {
            bwrap,
            layout,
            user_namespace: !root,
        },
    }
}

/// Logs the isolation in effect, or why code tools are refused.
fn log_isolation(inner: &Inner, isolated: bool) {
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
        let runner = choose_runner(&config, probed.needs, root, &mut unavailable).await;
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
        log_isolation(&inner, isolated);
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
}
