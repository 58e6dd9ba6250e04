//! The sandbox's command line: bubblewrap's namespaces and file system, the harness and the
//! limits it sets.

use super::layout::Layout;
use super::sandbox::{Inner, Runner};
use super::CodeLimits;
use serde_json::{json, Value};
use std::path::Path;

const HARNESS: &str = include_str!("harness.py");

/// Joins the call's control groups, then becomes the sandbox.
pub(super) const JOIN_GROUPS: &str = r#"n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ >"$1" || exit 125; shift; n=$((n-1)); done; exec "$@""#;

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
pub(super) fn sandbox_argv(inner: &Inner) -> Vec<String> {
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
