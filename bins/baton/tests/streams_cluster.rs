//! Task streams across `baton serve` replicas on one PostgreSQL database: a client that drops a
//! stream and reconnects to another server gets exactly the events it missed, then the rest;
//! after a SIGKILL mid-tool, the server that resumes the run keeps every id the client saw.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_e2e::{read_sse, SseMessage};
use baton_testkit::{FakeProvider, Flavor, SeenRequest, Turn};
use serde_json::json;
use std::path::Path;
use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const KEY: &str = "streams-key";
const SECRET: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A server process, killed when dropped (also when a test fails half-way).
struct Server(Child);

impl Server {
    /// SIGKILL, and wait until it is gone.
    fn kill(&mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(dir: &Path, database_url: &str, fake: &FakeProvider) -> (Server, String) {
    std::fs::create_dir_all(dir).unwrap();
    let (child, url) = baton_e2e::Serve::new(env!("CARGO_BIN_EXE_baton"), KEY, dir)
        .database(database_url)
        .model(&fake.base_url())
        .quick_takeover()
        .loopback_tools()
        .env("BATON_SECRET_KEY", SECRET)
        .spawn();
    (Server(child), url)
}

/// An HTTP endpoint for a tool: the first call answers after `first`, later ones at once.
struct SlowTool {
    url: String,
    calls: Arc<AtomicUsize>,
}

async fn slow_tool(first: Duration) -> SlowTool {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/slow", listener.local_addr().unwrap());
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let app = axum::Router::new().route(
        "/slow",
        axum::routing::get(move || {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    tokio::time::sleep(first).await;
                }
                axum::Json(json!({"call": n}))
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    SlowTool { url, calls }
}

/// Two servers on a fresh database, an agent whose model calls the slow tool once, then answers.
async fn cluster(
    tool: &SlowTool,
    fake: &FakeProvider,
    dir: &Path,
) -> (String, [(Server, String); 2]) {
    let admin = baton_store::testing::postgres_admin_url().unwrap();
    let database_url = baton_store::testing::fresh_postgres_database(&admin)
        .await
        .unwrap();
    fake.set_responder(Arc::new(|req: &SeenRequest| {
        if req.last_is_tool_result {
            Turn::text("all done")
        } else {
            Turn::tool_calls(vec![("slow", json!({}))])
        }
    }));
    // The first server migrates the database; then the other joins.
    let a = start_server(&dir.join("a"), &database_url, fake);
    let b = start_server(&dir.join("b"), &database_url, fake);
    let client = reqwest::Client::new();
    for (path, body) in [
        (
            "/v2/tools",
            json!({"path": "Default", "key": "slow", "description": "Slow lookup", "type": "http",
                   "http": {"blueprint": {"url": tool.url, "method": "GET"}}}),
        ),
        (
            "/v2/agents",
            json!({"key": "relay", "role": "r", "description": "d", "instructions": "i",
                   "path": "Default", "model": "openai/gpt-4o",
                   "settings": {"tools": [{"type": "http", "key": "slow"}]}}),
        ),
    ] {
        let resp = client
            .post(format!("{}{path}", a.1))
            .bearer_auth(KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
    }
    (database_url, [a, b])
}

/// Starts a streamed run and reads its first `n` events, then hangs up.
async fn start_streamed(url: &str, n: usize) -> Vec<SseMessage> {
    let resp = reqwest::Client::new()
        .post(format!("{url}/v2/agents/relay/responses"))
        .bearer_auth(KEY)
        .json(
            &json!({"message": {"role": "user", "parts": [{"kind": "text", "text": "go"}]},
                      "stream": true}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    read_sse(resp, n).await
}

/// The task's stream on a server after `last_id` (from the start without one), to `[DONE]`.
async fn resume(url: &str, task: &str, last_id: Option<&str>) -> Vec<SseMessage> {
    let mut req = reqwest::Client::new()
        .get(format!("{url}/v2/agents/relay/responses/{task}/stream"))
        .bearer_auth(KEY);
    if let Some(id) = last_id {
        req = req.header("Last-Event-ID", id);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    // Keep-alives would keep a stream that never ends from stalling: bound the whole read.
    let events = tokio::time::timeout(Duration::from_secs(30), read_sse(resp, 1000))
        .await
        .expect("the stream ends with the turn instead of hanging");
    assert_eq!(
        events.last().map(SseMessage::kind).as_deref(),
        Some("[DONE]")
    );
    events
}

/// The stored events (deltas are live-only), with their ids.
fn stored(events: &[SseMessage]) -> Vec<(u64, SseMessage)> {
    events
        .iter()
        .filter(|e| !matches!(e.kind().as_str(), "[DONE]" | "part.delta"))
        .map(|e| (e.id.as_ref().unwrap().parse().unwrap(), e.clone()))
        .collect()
}

/// Deltas take no id: the last id a client saw always names a stored event.
fn assert_deltas_without_ids(events: &[SseMessage]) {
    for e in events.iter().filter(|e| e.kind() != "[DONE]") {
        assert_eq!(e.id.is_none(), e.kind() == "part.delta", "{e:?}");
    }
}

fn kinds(events: &[(u64, SseMessage)]) -> Vec<String> {
    events.iter().map(|(_, e)| e.kind()).collect()
}

fn task_of(first: &[SseMessage]) -> String {
    first[0].json()["data"]["taskId"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn drop_database(database_url: &str, servers: [(Server, String); 2]) {
    drop(servers);
    let admin = baton_store::testing::postgres_admin_url().unwrap();
    baton_store::testing::drop_postgres_database(&admin, database_url)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_dropped_on_one_server_resumes_on_another_without_gap_or_duplicate() {
    if baton_store::testing::postgres_admin_url().is_none() {
        return; // no PostgreSQL server binaries: a notice says so
    }
    let fake = FakeProvider::start(Flavor::OpenAi).await;
    let tool = slow_tool(Duration::from_millis(1500)).await;
    let dir = tempfile::tempdir().unwrap();
    let (database_url, servers) = cluster(&tool, &fake, dir.path()).await;
    let (a, b) = (&servers[0].1, &servers[1].1);

    // The client sees the run start and its tool start on A, then hangs up mid-tool.
    let seen = stored(&start_streamed(a, 2).await);
    assert_eq!(kinds(&seen), ["response.started", "tool.started"]);
    let task = task_of(&[seen[0].1.clone()]);
    let last = seen[1].0;

    // B does not run the task, yet serves the rest of its stream as A stores it.
    let rest = resume(b, &task, Some(&last.to_string())).await;
    assert_deltas_without_ids(&rest);
    let rest = stored(&rest);
    assert_eq!(
        kinds(&rest),
        ["tool.done", "part.done", "response.done"],
        "exactly what the client missed"
    );
    let ids: Vec<u64> = rest.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [last + 1, last + 2, last + 3], "no gap, no duplicate");

    // After the run: the log replays at once, on either server, the same ids for the same events.
    for server in [a, b] {
        let again = stored(&resume(server, &task, Some(&last.to_string())).await);
        assert_eq!(again, rest);
        let all = stored(&resume(server, &task, None).await);
        assert_eq!(
            all[..2],
            seen[..],
            "the ids the client saw name the same events"
        );
        assert_eq!(all[2..], rest[..]);
    }
    drop_database(&database_url, servers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_resumed_after_a_kill_keeps_the_ids_its_client_saw() {
    if baton_store::testing::postgres_admin_url().is_none() {
        return; // no PostgreSQL server binaries: a notice says so
    }
    let fake = FakeProvider::start(Flavor::OpenAi).await;
    let tool = slow_tool(Duration::from_secs(60)).await;
    let dir = tempfile::tempdir().unwrap();
    let (database_url, mut servers) = cluster(&tool, &fake, dir.path()).await;

    let seen = stored(&start_streamed(&servers[0].1, 2).await);
    assert_eq!(kinds(&seen), ["response.started", "tool.started"]);
    let task = task_of(&[seen[0].1.clone()]);
    for _ in 0..100 {
        if tool.calls.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(tool.calls.load(Ordering::SeqCst), 1, "A is inside the tool");
    servers[0].0.kill(); // SIGKILL, mid-tool

    // B's worker takes the task once A's lease expires and finishes it; the client follows it
    // on B from the last id it saw.
    let b = servers[1].1.clone();
    let last = seen[1].0;
    let rest = resume(&b, &task, Some(&last.to_string())).await;
    let with_deltas = rest.clone();
    let rest = stored(&rest);
    let rest_kinds = kinds(&rest);
    assert!(
        matches!(rest_kinds[0].as_str(), "tool.done" | "tool.failed"),
        "the tool's outcome comes first, unannounced again: {rest_kinds:?}"
    );
    assert_eq!(rest_kinds[1..], ["part.done", "response.done"]);
    let ids: Vec<u64> = rest.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [last + 1, last + 2, last + 3]);

    let all = stored(&resume(&b, &task, None).await);
    assert_eq!(
        all[..2],
        seen[..],
        "ids seen before the kill name the same events"
    );
    assert_eq!(all[2..], rest[..]);
    let all_kinds = kinds(&all);
    assert_eq!(
        all_kinds
            .iter()
            .filter(|k| *k == "response.started")
            .count(),
        1,
        "one response.started for the turn: {all_kinds:?}"
    );
    assert_eq!(
        all_kinds.iter().filter(|k| *k == "tool.started").count(),
        1,
        "{all_kinds:?}"
    );
    let ids: Vec<u64> = all.iter().map(|(id, _)| *id).collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
    assert_deltas_without_ids(&with_deltas);
    drop_database(&database_url, servers).await;
}
