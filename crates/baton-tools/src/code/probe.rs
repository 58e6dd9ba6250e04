//! Finding the interpreter and what it needs, once per process.

use super::cgroup::Cgroups;
use super::layout::{self, Needs};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;

/// The first file `name` in the directories of `path`.
pub(super) fn find_in_path(name: &str, path: &str) -> Option<PathBuf> {
    path.split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
}

/// What detection found for an interpreter, kept for the life of the process: servers and
/// tests that start several runtimes probe once.
#[derive(Debug, Clone)]
pub(super) struct Probed {
    pub(super) needs: Result<Needs, String>,
    pub(super) cgroups: Result<Cgroups, String>,
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

pub(super) async fn probe(python: &str, path: &str) -> Probed {
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
