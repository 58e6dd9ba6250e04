//! A throwaway PostgreSQL server for tests, started from the installed server binaries
//! (`initdb`, `pg_ctl`) in a temporary directory on a free loopback port.
//!
//! It is stopped, and its directory removed, when the test process exits however it exits:
//! a guardian shell holds the read end of a pipe whose write end only this process has, and
//! stops the server when that pipe closes (a normal exit, a panic, or `kill -9` alike).

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Why no throwaway server could be had.
#[derive(Debug)]
pub(crate) enum Unavailable {
    /// No `initdb`/`pg_ctl` on this machine: the PostgreSQL tests are skipped.
    NoBinaries,
    /// The binaries exist but the server did not start: the tests must fail, not skip.
    Failed(String),
}

/// The directory holding both `initdb` and `pg_ctl`: `PATH` first, then Debian's layout
/// (`/usr/lib/postgresql/<version>/bin`, newest version first).
fn server_bin_dir(path_var: Option<&str>) -> Option<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = path_var
        .unwrap_or_default()
        .split(':')
        .map(PathBuf::from)
        .find(|d| has_both(d))
    {
        return Some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, bin)| has_both(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// PostgreSQL refuses to run as root: then the server runs as the `postgres` user if there is
/// one, else as `nobody`. `None` when this process is not root.
fn unprivileged_owner() -> Result<Option<(u32, u32)>, Unavailable> {
    let euid = std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .map_err(|e| Unavailable::Failed(format!("cannot read /proc/self: {e}")))?;
    if euid != 0 {
        return Ok(None);
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let lookup = |name: &str| {
        passwd.lines().find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.len() > 3 && fields[0] == name)
                .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
                .flatten()
        })
    };
    Ok(Some(
        lookup("postgres")
            .or_else(|| lookup("nobody"))
            .unwrap_or((65534, 65534)),
    ))
}

fn free_port() -> Result<u16, Unavailable> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Unavailable::Failed(format!("no free loopback port: {e}")))
}

#[allow(clippy::disallowed_methods)] // test support runs the PostgreSQL server binaries
fn command(program: &Path, owner: Option<(u32, u32)>) -> Command {
    let mut cmd = Command::new(program);
    cmd.env("LC_ALL", "C").env_remove("PGDATA");
    if let Some((uid, gid)) = owner {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

fn run(mut cmd: Command, what: &str, log: &Path) -> Result<(), Unavailable> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Unavailable::Failed(format!("{what}: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    let server_log = std::fs::read_to_string(log).unwrap_or_default();
    Err(Unavailable::Failed(format!(
        "{what} failed ({}): {}{}{server_log}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    )))
}

/// Starts a server and returns its admin URL (`postgres://postgres@127.0.0.1:<port>/postgres`).
pub(crate) fn start(path_var: Option<&str>) -> Result<String, Unavailable> {
    let bin = server_bin_dir(path_var).ok_or(Unavailable::NoBinaries)?;
    let owner = unprivileged_owner()?;
    let failed = |what: &str| {
        let what = what.to_owned();
        move |e: std::io::Error| Unavailable::Failed(format!("{what}: {e}"))
    };
    let dir = std::env::temp_dir().join(format!(
        "baton-pg-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    ));
    std::fs::create_dir(&dir).map_err(failed("temporary directory"))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).map_err(failed("chown"))?;
    }
    let data = dir.join("data");
    let log = dir.join("server.log");

    // The guardian first, so the directory goes even if initdb or the start fails below.
    let pg_ctl = bin.join("pg_ctl");
    let mut guardian = command(Path::new("/bin/sh"), owner);
    guardian
        .args([
            "-c",
            r#"cat >/dev/null; "$0" -D "$1" stop -m immediate >/dev/null 2>&1; rm -rf "$2""#,
        ])
        .arg(&pg_ctl)
        .arg(&data)
        .arg(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: a Ctrl-C of the test run must not kill it before it cleans up.
        .process_group(0);
    let guardian = guardian.spawn().map_err(failed("guardian shell"))?;
    // Never waited on and never closed by us: the pipe closes when this process ends.
    std::mem::forget(guardian);

    let mut initdb = command(&bin.join("initdb"), owner);
    initdb
        .arg("-D")
        .arg(&data)
        .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"])
        .arg("--no-sync");
    run(initdb, "initdb", &log)?;

    let mut last = String::new();
    for _ in 0..3 {
        let port = free_port()?;
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300 \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            dir.display()
        );
        let mut start = command(&pg_ctl, owner);
        start
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "-o", &options, "start"])
            .stdout(Stdio::null())
            .process_group(0);
        match run(start, "pg_ctl start", &log) {
            Ok(()) => return Ok(format!("postgres://postgres@127.0.0.1:{port}/postgres")),
            // Most likely another process took the port between our probe and the start.
            Err(Unavailable::Failed(why)) => last = why,
            Err(other) => return Err(other),
        }
    }
    Err(Unavailable::Failed(last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_binaries_are_found_on_path_only_as_a_pair() {
        let both = tempfile::tempdir().unwrap();
        let one = tempfile::tempdir().unwrap();
        for (dir, names) in [(&both, &["initdb", "pg_ctl"][..]), (&one, &["initdb"][..])] {
            for name in names {
                std::fs::write(dir.path().join(name), "").unwrap();
            }
        }
        let path = format!("{}:{}", one.path().display(), both.path().display());
        assert_eq!(server_bin_dir(Some(&path)), Some(both.path().to_owned()));
        // Without a pair on PATH, only Debian's layout can answer.
        if let Some(dir) = server_bin_dir(Some(&one.path().display().to_string())) {
            assert!(dir.starts_with("/usr/lib/postgresql"), "{}", dir.display());
        }
    }
}
