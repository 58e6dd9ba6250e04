//! Code tools attack the host they run on, through `POST /v2/tools/{key}/invoke`, and fail:
//! they cannot read the server's files (secret key, database, working directory, `/etc`),
//! cannot leave files on the host, see only their own processes, run as an unprivileged uid
//! when the server runs as root, and their memory, process, CPU and output limits hold for the
//! whole sandbox.

use crate::runs::Rig;
use baton::{CodeSandbox, ToolsFileConfig};
use baton_e2e::{Backend, Options};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

async fn rig_with(tools: ToolsFileConfig) -> Rig {
    Rig::start_with(Backend::Sqlite, Options::default().tools(tools)).await
}

/// Creates a code tool and invokes it once with `arguments`; the tool result (or error).
async fn run_code(rig: &Rig, key: &str, code: &str, arguments: Value) -> Value {
    let body = json!({"path": "Default", "key": key, "description": "Runs Python", "type": "code",
        "code_tool": {"language": "python", "code": code,
            "parameters": {"type": "object", "properties": {}, "required": []}}});
    let (st, out) = rig.s.call(Method::POST, "/v2/tools", Some(body)).await;
    assert_eq!(st, StatusCode::OK, "{out}");
    let (st, out) = rig
        .s
        .call(
            Method::POST,
            &format!("/v2/tools/{key}/invoke"),
            Some(json!({"arguments": arguments})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{out}");
    out
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").unwrap().uid() == 0
}

/// Tries `action(path)` on each path and reports what happened, per path.
const TRY_PATHS: &str = r#"
import os
def attempt(path):
    try:
        return "ok: " + repr(action(path))[:200]
    except Exception as e:
        return "blocked: " + type(e).__name__
result = {p: attempt(p) for p in params["paths"]}
"#;

#[tokio::test]
async fn code_tools_cannot_read_the_servers_files() {
    let rig = rig_with(ToolsFileConfig::default()).await;
    let data = rig.s.data_dir().to_owned();
    let secret = data.join("secret.key");
    let db = data.join("baton.db");
    let cwd = std::env::current_dir().unwrap();
    // The secret key is there, root's own and private: only isolation keeps it from the code.
    let meta = std::fs::metadata(&secret).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(db.is_file());
    let paths = [
        secret.clone(),
        db.clone(),
        PathBuf::from("/etc/passwd"),
        cwd.join("Cargo.toml"),
    ];
    let reads = run_code(
        &rig,
        "reader",
        &format!("def action(path):\n    return open(path, 'rb').read(64)\n{TRY_PATHS}"),
        json!({"paths": paths}),
    )
    .await;
    for path in &paths {
        let got = reads["result"][path.to_str().unwrap()].as_str().unwrap();
        assert!(
            got.starts_with("blocked"),
            "{} was read: {reads}",
            path.display()
        );
    }
    let listed = [data.clone(), cwd.clone(), PathBuf::from("/root")];
    let lists = run_code(
        &rig,
        "lister",
        &format!("def action(path):\n    return os.listdir(path)\n{TRY_PATHS}"),
        json!({"paths": listed}),
    )
    .await;
    for path in &listed {
        let got = lists["result"][path.to_str().unwrap()].as_str().unwrap();
        assert!(
            got.starts_with("blocked"),
            "{} was listed: {lists}",
            path.display()
        );
    }
    // The database through SQLite itself, when this interpreter has it.
    let sqlite = run_code(
        &rig,
        "sqlite",
        "try:\n    import sqlite3\nexcept ImportError:\n    result = 'no sqlite3'\nelse:\n    try:\n        c = sqlite3.connect('file:' + params['db'] + '?mode=ro', uri=True)\n        result = c.execute('select count(*) from agents').fetchall()\n    except Exception as e:\n        result = 'blocked: ' + type(e).__name__",
        json!({"db": db}),
    )
    .await;
    let got = sqlite["result"].as_str().unwrap_or_default();
    assert!(
        got == "no sqlite3" || got.starts_with("blocked"),
        "{sqlite}"
    );
}

#[tokio::test]
async fn code_tools_cannot_write_to_the_host() {
    let rig = rig_with(ToolsFileConfig::default()).await;
    let data = rig.s.data_dir().to_owned();
    // Writes land in the sandbox's own scratch directory, never on the host.
    let marker = format!("baton-escape-{}", std::process::id());
    let targets = [
        PathBuf::from("/tmp").join(&marker),
        PathBuf::from("/root").join(&marker),
        data.join(&marker),
    ];
    let writes = run_code(
        &rig,
        "writer",
        &format!(
            "def action(path):\n    with open(path, 'w') as f:\n        return f.write('escaped')\n{TRY_PATHS}"
        ),
        json!({"paths": targets}),
    )
    .await;
    for target in &targets {
        assert!(
            !target.exists(),
            "{} was written: {writes}",
            target.display()
        );
    }
    assert!(
        writes["result"]["/root/baton-escape-".to_owned() + &std::process::id().to_string()]
            .as_str()
            .unwrap()
            .starts_with("blocked"),
        "{writes}"
    );
}

#[tokio::test]
async fn code_tools_get_a_fresh_private_size_capped_scratch_directory() {
    let rig = rig_with(ToolsFileConfig::default()).await;
    let scratch = run_code(
        &rig,
        "scratch",
        "import os\nopen('/tmp/a', 'w').write('x' * 1000)\nbefore = os.listdir('/tmp')\ntry:\n    with open('/tmp/big', 'wb') as f:\n        for _ in range(200):\n            f.write(b'x' * 1024 * 1024)\n    full = 'not full'\nexcept OSError as e:\n    full = e.strerror\nresult = {'cwd': os.getcwd(), 'files': before, 'full': full}",
        json!({}),
    )
    .await;
    assert_eq!(scratch["result"]["cwd"], "/tmp", "{scratch}");
    assert_eq!(scratch["result"]["files"], json!(["a"]), "{scratch}");
    assert_ne!(scratch["result"]["full"], "not full", "{scratch}");
    let again = run_code(
        &rig,
        "scratch2",
        "import os\nresult = os.listdir('/tmp')",
        json!({}),
    )
    .await;
    assert_eq!(
        again["result"],
        json!([]),
        "each call starts empty: {again}"
    );
}

/// The host processes whose command line holds `marker`.
fn host_processes_with(marker: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(marker) {
            found.push(entry.path());
        }
    }
    found
}

fn status_field(status: &str, name: &str) -> String {
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

#[tokio::test]
async fn code_tools_see_only_their_own_processes() {
    let rig = rig_with(ToolsFileConfig::default()).await;
    let me = std::env::current_exe().unwrap();
    let me = me.file_name().unwrap().to_str().unwrap().to_owned();
    let procs = run_code(
        &rig,
        "ps",
        "import os, subprocess\npids = [p for p in os.listdir('/proc') if p.isdigit()]\ncmds = []\nfor p in pids:\n    try:\n        cmds.append(open('/proc/%s/cmdline' % p, 'rb').read().replace(b'\\0', b' ').decode()[:300])\n    except OSError:\n        pass\ntry:\n    ps = subprocess.run(['ps', 'aux'], capture_output=True).stdout.decode()[:300]\nexcept OSError as e:\n    ps = 'blocked: ' + type(e).__name__\nresult = {'pids': pids, 'cmds': cmds, 'ps': ps}",
        json!({}),
    )
    .await;
    let result = &procs["result"];
    let pids = result["pids"].as_array().unwrap();
    // bubblewrap's init, the interpreter: no host process.
    assert!(pids.len() <= 3, "sees {} processes: {procs}", pids.len());
    for cmd in result["cmds"].as_array().unwrap() {
        assert!(
            !cmd.as_str().unwrap().contains(&me),
            "sees the server: {procs}"
        );
    }
    assert!(
        result["ps"].as_str().unwrap().starts_with("blocked"),
        "{procs}"
    );
}

#[tokio::test]
async fn code_tools_run_as_an_unprivileged_uid_seen_from_the_host() {
    let rig = rig_with(ToolsFileConfig::default()).await;
    let ids = run_code(
        &rig,
        "ids",
        "import os\nresult = {'uid': os.getuid(), 'gid': os.getgid(), 'groups': os.getgroups()}",
        json!({}),
    )
    .await;
    let result = &ids["result"];
    if running_as_root() {
        assert_eq!(result["uid"], 65534, "{ids}");
        assert_eq!(result["gid"], 65534, "{ids}");
        assert_eq!(result["groups"], json!([]), "{ids}");
    } else {
        assert_ne!(result["uid"], 0, "{ids}");
    }

    // From the host's side: the code's process runs as that uid, with no capabilities.
    let marker = format!("baton-host-view-{}", std::process::id());
    let code = "import os, sys\nos.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(4)', params['marker']])";
    let invoke = run_code(&rig, "hostview", code, json!({"marker": marker}));
    let look = async {
        let started = Instant::now();
        loop {
            let found = host_processes_with(&marker);
            if let Some(proc_dir) = found.first() {
                return Some(std::fs::read_to_string(proc_dir.join("status")).unwrap());
            }
            if started.elapsed() > Duration::from_secs(4) {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let (_, status) = tokio::join!(invoke, look);
    let status = status.expect("the code's process is visible from the host");
    if running_as_root() {
        assert_eq!(status_field(&status, "Uid"), "65534\t65534\t65534\t65534");
        assert_eq!(status_field(&status, "Gid"), "65534\t65534\t65534\t65534");
    }
    assert_eq!(status_field(&status, "CapEff"), "0000000000000000");
    assert_eq!(status_field(&status, "CapPrm"), "0000000000000000");
    assert_eq!(status_field(&status, "NoNewPrivs"), "1");
}

async fn limited_rig() -> Rig {
    rig_with(ToolsFileConfig {
        code_cpu_s: Some(2),
        code_timeout_s: Some(20.0),
        ..Default::default()
    })
    .await
}

#[tokio::test]
async fn a_fork_bomb_is_capped_for_the_whole_sandbox() {
    let rig = limited_rig().await;
    // 1,500 forks: the sandbox's process cap (64 by default) stops them.
    let forks = run_code(
        &rig,
        "forks",
        "import os, time\nn = 0\ntry:\n    for _ in range(1500):\n        if os.fork() == 0:\n            time.sleep(20)\n            os._exit(0)\n        n += 1\nexcept OSError:\n    pass\nresult = n",
        json!({}),
    )
    .await;
    let n = forks["result"].as_u64().unwrap_or(u64::MAX);
    assert!(n < 64, "forked {n}: {forks}");
}

#[tokio::test]
async fn memory_is_capped_for_the_whole_sandbox() {
    let rig = limited_rig().await;
    // Four children of 400 MB each against 512 MiB: at most one holds its block.
    let memory = run_code(
        &rig,
        "memory",
        "import os, time\nkids = []\nfor _ in range(4):\n    pid = os.fork()\n    if pid == 0:\n        block = b'x' * (400 * 1024 * 1024)\n        time.sleep(3)\n        os._exit(0)\n    kids.append(pid)\nheld = 0\nfor pid in kids:\n    _, status = os.waitpid(pid, 0)\n    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:\n        held += 1\nresult = held",
        json!({}),
    )
    .await;
    match memory["result"].as_u64() {
        Some(held) => assert!(held <= 1, "{held} children held 400 MB: {memory}"),
        None => assert!(
            memory["error"]
                .as_str()
                .unwrap()
                .contains("exceeded its memory limit"),
            "{memory}"
        ),
    }
}

#[tokio::test]
async fn a_cpu_loop_is_stopped_by_the_cpu_limit_which_the_error_names() {
    let rig = limited_rig().await;
    let started = Instant::now();
    let spin = run_code(&rig, "spin", "while True:\n    pass", json!({})).await;
    assert_eq!(
        spin["error"], "code tool exceeded its CPU limit (2 s)",
        "{spin}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn an_output_flood_is_stopped_at_the_output_limit() {
    let rig = limited_rig().await;
    for (key, stream) in [("flood", "stdout"), ("flood_err", "stderr")] {
        let started = Instant::now();
        let flood = run_code(
            &rig,
            key,
            &format!("import sys\nwhile True:\n    sys.{stream}.write('x' * 65536)"),
            json!({}),
        )
        .await;
        assert_eq!(
            flood["error"], "code tool exceeded its output limit (1 MiB)",
            "{flood}"
        );
        assert!(started.elapsed() < Duration::from_secs(5), "{key}");
    }
}

#[tokio::test]
#[allow(clippy::disallowed_methods)] // asks python3 where its real executable is
async fn without_bubblewrap_code_tools_are_refused_unless_the_sandbox_is_off() {
    // The real interpreter, and a search path where bubblewrap is not.
    let python = PathBuf::from(
        String::from_utf8(
            std::process::Command::new("python3")
                .args(["-c", "import sys; print(sys.executable)"])
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap()
        .trim(),
    );
    let empty = tempfile::tempdir().unwrap();
    let tools = |sandbox| ToolsFileConfig {
        python: Some(python.display().to_string()),
        code_sandbox: sandbox,
        ..Default::default()
    };
    let options = |sandbox| {
        Options::default()
            .tools(tools(sandbox))
            .env("PATH", empty.path().display().to_string())
    };
    let rig = Rig::start_with(Backend::Sqlite, options(None)).await;
    let code = "result = open(params['path']).read()";
    let secret = rig.s.data_dir().join("secret.key");
    let out = run_code(&rig, "peek", code, json!({"path": secret})).await;
    assert_eq!(
        out["error"],
        "code tools are unavailable on this server: their sandbox could not be set up (the server log says why)",
        "{out}"
    );
    // Explicitly off (a trusted setup): the code runs as the server and sees its files.
    let rig = Rig::start_with(Backend::Sqlite, options(Some(CodeSandbox::None))).await;
    let secret = rig.s.data_dir().join("secret.key");
    let out = run_code(&rig, "peek", code, json!({"path": secret})).await;
    assert_eq!(
        out["result"].as_str(),
        Some(std::fs::read_to_string(&secret).unwrap().as_str()),
        "{out}"
    );
    assert!(Path::new(&python).is_file());
}
