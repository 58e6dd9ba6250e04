//! SIGTERM on a `baton serve` replica: it finishes the tool calls in flight, checkpoints them,
//! hands its runs over to the other replica at once (not when the 30 s lease expires), ends
//! open streams with a `reconnect` event, and exits within its drain timeout. A drain that
//! runs out of time exits anyway; the run is then resumed once its lease expires.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_e2e::{read_sse, SideEffectCounter, SseMessage};
use baton_testkit::{FakeProvider, Flavor, SeenRequest, Turn};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::Arc;
use std::time::{Duration, Instant};

const KEY: &str = "sigterm-key";
const SECRET: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A `baton serve` process logging JSON lines to a file; killed when dropped.
struct Server {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Server {
    /// Starts a server on the database; `config` is appended to its `baton.toml`, `lease_ms`
    /// overrides the default 30 s lease.
    fn start(
        dir: &Path,
        database_url: &str,
        fake: &FakeProvider,
        config: &str,
        lease_ms: Option<u64>,
    ) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let log = dir.join(format!("server-{}.log", baton_core::id::new_id()));
        let mut serve = baton_e2e::Serve::new(env!("CARGO_BIN_EXE_baton"), KEY, dir)
            .database(database_url)
            .model(&fake.base_url())
            .loopback_tools()
            .config(config)
            .env("BATON_SECRET_KEY", SECRET)
            .env("BATON_POLL_MS", "100")
            .env("BATON_LOG_JSON", "true")
            .env("RUST_LOG", "info");
        if let Some(lease) = lease_ms {
            serve = serve.env("BATON_LEASE_MS", lease.to_string());
        }
        serve.command().stderr(std::fs::File::create(&log).unwrap());
        let (child, url) = serve.spawn();
        Self { child, url, log }
    }

    /// Sends SIGTERM.
    fn terminate(&self) {
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    }

    /// Waits for the process to exit; how long it took from `since`.
    async fn exited(&mut self, since: Instant, within: Duration) -> Duration {
        while since.elapsed() < within {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "a drained server exits cleanly: {status}");
                return since.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the server did not exit within {within:?}");
    }

    /// The `fields` of its log lines with this message.
    fn logged(&self, message: &str) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap()
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .map(|line| line["fields"].clone())
            .filter(|fields| fields["message"] == message)
            .collect()
    }

    /// The worker id it logged at start.
    fn worker_id(&self) -> String {
        let started = self.logged("baton listening");
        started[0]["worker"].as_str().unwrap().to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn post(url: &str, path: &str, body: Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .bearer_auth(KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

/// A model that calls `charge` once, then answers; the tool and the agent that use it.
async fn setup(url: &str, fake: &FakeProvider, counter: &SideEffectCounter) {
    fake.set_responder(Arc::new(|req: &SeenRequest| {
        if req.last_is_tool_result {
            Turn::text("charged")
        } else {
            Turn::tool_calls(vec![("charge", json!({}))])
        }
    }));
    let tool = json!({"key": "charge", "path": "Default", "description": "Charges a card",
        "type": "http", "http": {"blueprint": {"url": format!("{}/charge", counter.url), "method": "POST"}}});
    let agent = json!({"key": "payer", "role": "r", "description": "d", "instructions": "i",
        "path": "Default", "model": "openai/gpt-4o",
        "settings": {"tools": [{"type": "http", "key": "charge"}]}});
    for (path, body) in [("/v2/tools", tool), ("/v2/agents", agent)] {
        let (status, body) = post(url, path, body).await;
        assert!(status < 300, "{path}: {status} {body}");
    }
}

fn message() -> Value {
    json!({"role": "user", "parts": [{"kind": "text", "text": "charge it"}]})
}

/// Waits until the tool's API has seen `n` calls.
async fn calls_reach(counter: &SideEffectCounter, n: usize) {
    for _ in 0..500 {
        if counter.hits().values().sum::<u32>() as usize >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the tool was not called {n} times: {:?}", counter.hits());
}

/// The task's response on a server, once it is no longer in progress.
async fn finished(url: &str, task: &str, within: Duration) -> Value {
    let started = Instant::now();
    let client = reqwest::Client::new();
    while started.elapsed() < within {
        let done: Value = client
            .get(format!("{url}/v2/agents/payer/responses/{task}"))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if done["status"] != "in_progress" {
            return done;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("task {task} did not finish within {within:?}");
}

/// The tool results of a response's output.
fn tool_results(done: &Value) -> Vec<Value> {
    done["output"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["parts"].as_array().unwrap().clone())
        .filter(|p| p["kind"] == "tool_result")
        .collect()
}

/// The stored events of a stream (deltas are live-only), with their ids.
fn stored(events: &[SseMessage]) -> Vec<(u64, String)> {
    events
        .iter()
        .filter(|e| !matches!(e.kind().as_str(), "[DONE]" | "part.delta" | "reconnect"))
        .map(|e| (e.id.as_ref().unwrap().parse().unwrap(), e.kind()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_hands_runs_over_to_another_server_at_once_and_streams_reconnect() {
    let Some(admin) = baton_store::testing::postgres_admin_url() else {
        return; // no PostgreSQL server binaries: a notice says so
    };
    let database_url = baton_store::testing::fresh_postgres_database(&admin)
        .await
        .unwrap();
    let fake = FakeProvider::start(Flavor::OpenAi).await;
    // The tool's calls wait until the test lets them go: both are in flight at the SIGTERM.
    let counter = SideEffectCounter::gated(Duration::ZERO).await;
    let dir = tempfile::tempdir().unwrap();
    // Default lease (30 s), default drain timeout (10 s).
    let mut a = Server::start(&dir.path().join("a"), &database_url, &fake, "", None);
    setup(&a.url, &fake, &counter).await;

    // A background run, claimed by A's workers (B does not run yet), inside its slow tool …
    let (status, queued) = post(
        &a.url,
        "/v2/agents/payer/responses",
        json!({"background": true, "message": message()}),
    )
    .await;
    assert_eq!(status, 200, "{queued}");
    let background = queued["task_id"].as_str().unwrap().to_owned();
    calls_reach(&counter, 1).await;
    // … and a streamed one, whose client reads on.
    let resp = reqwest::Client::new()
        .post(format!("{}/v2/agents/payer/responses", a.url))
        .bearer_auth(KEY)
        .json(&json!({"stream": true, "message": message()}))
        .send()
        .await
        .unwrap();
    let reading = tokio::spawn(read_sse(resp, 1000));
    calls_reach(&counter, 2).await;
    let b = Server::start(&dir.path().join("b"), &database_url, &fake, "", None);

    let stopped = Instant::now();
    a.terminate();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        a.child.try_wait().unwrap().is_none(),
        "A waits for the tool calls in flight"
    );
    counter.open();
    let exit = a.exited(stopped, Duration::from_secs(12)).await;
    assert!(
        exit < Duration::from_secs(10),
        "within the drain timeout: {exit:?}"
    );

    // The stream on A got the stored end of the tool call, then `reconnect`, and no [DONE].
    let first = reading.await.unwrap();
    let kinds: Vec<String> = first.iter().map(SseMessage::kind).collect();
    assert_eq!(
        kinds,
        ["response.started", "tool.started", "tool.done", "reconnect"],
        "{first:?}"
    );
    let hint = first.last().unwrap();
    assert_eq!((hint.id.as_deref(), hint.data.as_str()), (None, ""));
    let seen = stored(&first);
    let streamed = first[0].json()["data"]["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    let last = seen.last().unwrap().0;

    // Reconnected to B from the last id: exactly the rest, then [DONE].
    let resp = reqwest::Client::new()
        .get(format!(
            "{}/v2/agents/payer/responses/{streamed}/stream",
            b.url
        ))
        .bearer_auth(KEY)
        .header("Last-Event-ID", last.to_string())
        .send()
        .await
        .unwrap();
    let rest = read_sse(resp, 1000).await;
    assert_eq!(rest.last().map(SseMessage::kind).as_deref(), Some("[DONE]"));
    assert_eq!(
        stored(&rest),
        [
            (last + 1, "part.done".to_owned()),
            (last + 2, "response.done".to_owned())
        ]
    );

    // B finished both runs long before A's leases would have expired; each call ran once and
    // reads as an ordinary result.
    for task in [&background, &streamed] {
        let done = finished(&b.url, task, Duration::from_secs(10)).await;
        assert_eq!(done["status"], "completed", "{done}");
        let results = tool_results(&done);
        assert_eq!(results.len(), 1, "{done}");
        assert_eq!(results[0]["result"]["execution"], 1, "{done}");
        assert!(results[0].get("metadata").is_none(), "not cut: {done}");
    }
    assert!(
        stopped.elapsed() < Duration::from_secs(10),
        "{:?}",
        stopped.elapsed()
    );
    println!(
        "A exited {exit:?} after SIGTERM; B finished both runs {:?} after it",
        stopped.elapsed()
    );
    assert_eq!(counter.hits().len(), 2);
    assert!(
        counter.hits().values().all(|n| *n == 1),
        "{:?}",
        counter.hits()
    );

    // A said it handed both over; B logged one takeover line per task, naming A and the step.
    let worker_a = a.worker_id();
    let handed = a.logged("handed the run over: another server continues it");
    assert_eq!(handed.len(), 2, "{handed:?}");
    assert!(handed.iter().all(|h| h["worker"] == worker_a.as_str()));
    let takeovers = b.logged("taking over run");
    for task in [&background, &streamed] {
        let lines: Vec<&Value> = takeovers
            .iter()
            .filter(|t| t["task"] == task.as_str())
            .collect();
        assert_eq!(lines.len(), 1, "{takeovers:?}");
        assert_eq!(lines[0]["previous_owner"], worker_a.as_str());
        assert_eq!(lines[0]["step"], 1, "one model call made");
        assert_eq!(lines[0]["phase"], "between steps");
    }
    assert_eq!(
        takeovers.len(),
        2,
        "nothing logged for fresh tasks: {takeovers:?}"
    );
    drop((a, b));
    baton_store::testing::drop_postgres_database(&admin, &database_url)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_that_runs_out_of_time_exits_and_the_run_resumes_after_the_lease() {
    let fake = FakeProvider::start(Flavor::OpenAi).await;
    let counter = SideEffectCounter::start(Duration::from_secs(6)).await;
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("baton.db").display()
    );
    let short = "[server]\ndrain_timeout_s = 1\n";
    let mut a = Server::start(dir.path(), &database_url, &fake, short, Some(3_000));
    setup(&a.url, &fake, &counter).await;
    // A synchronous request whose tool takes longer than the whole drain.
    let url = a.url.clone();
    let request = tokio::spawn(async move {
        post(
            &url,
            "/v2/agents/payer/responses",
            json!({"message": message()}),
        )
        .await
    });
    calls_reach(&counter, 1).await;

    let stopped = Instant::now();
    a.terminate();
    let (status, refused) = request.await.unwrap();
    let exit = a.exited(stopped, Duration::from_secs(5)).await;
    assert!(
        exit >= Duration::from_millis(900) && exit < Duration::from_secs(3),
        "exits at the drain timeout: {exit:?}"
    );
    assert_eq!(status, 503, "{refused}");
    assert_eq!(refused["error"]["code"], "shutting_down");
    let message = refused["message"].as_str().unwrap();
    let task = message.split('`').nth(1).expect("the task id").to_owned();

    // Another server resumes the run once A's lease expires; the cut call's outcome is unknown
    // and it does not run again.
    let b = Server::start(dir.path(), &database_url, &fake, "", Some(3_000));
    let done = finished(&b.url, &task, Duration::from_secs(15)).await;
    assert_eq!(done["status"], "completed", "{done}");
    let results = tool_results(&done);
    assert_eq!(
        results[0]["metadata"],
        json!({"attempts": 1, "outcome": "unknown"})
    );
    println!(
        "A exited {exit:?} after SIGTERM (drain timeout 1 s); B finished the run {:?} after it",
        stopped.elapsed()
    );
    assert_eq!(counter.hits().values().sum::<u32>(), 1);
    let takeovers = b.logged("taking over run");
    assert_eq!(takeovers.len(), 1, "{takeovers:?}");
    assert_eq!(takeovers[0]["task"], task.as_str());
    assert_eq!(takeovers[0]["previous_owner"], a.worker_id().as_str());
    assert_eq!(takeovers[0]["phase"], "tool calls were running");
}
