//! Chaos: `baton serve` replicas killed with SIGKILL at random every 2–4 s while background runs
//! call a slow side-effecting HTTP tool and streamed clients reconnect across replicas. Asserts
//! that no run is lost or stuck, that no non-idempotent call runs twice, that every interrupted
//! call is visible in the task's history, and that every reconnected stream gets exactly the
//! persisted events it missed and ends.
//!
//! Ignored by default (it runs for minutes); CI runs it in its own step:
//! `cargo test -p baton --test chaos -- --ignored --test-threads=1 --nocapture`.
//! `CHAOS_SECS` sets how long the killing goes on per backend (default 40).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_e2e::{read_sse, SideEffectCounter, SseMessage};
use baton_testkit::{FakeProvider, Flavor, SeenRequest, Turn};
use rand::Rng;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const KEY: &str = "chaos-key";
const SECRET: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const AGENT: &str = "chaos";
/// How long the side-effecting tool takes: kills often land while it runs.
const TOOL_MS: u64 = 700;

/// One replica: its process (absent while it is down), its URL and its directory.
struct Replica {
    child: Option<Child>,
    url: String,
    dir: PathBuf,
}

/// The replicas and how to start one.
struct Cluster {
    replicas: Mutex<Vec<Replica>>,
    database_url: String,
    fake_url: String,
}

impl Cluster {
    fn spawn(&self, dir: &Path) -> (Child, String) {
        std::fs::create_dir_all(dir).unwrap();
        baton_e2e::Serve::new(env!("CARGO_BIN_EXE_baton"), KEY, dir)
            .database(&self.database_url)
            .model(&self.fake_url)
            .quick_takeover()
            .loopback_tools()
            .env("BATON_SECRET_KEY", SECRET)
            .spawn()
    }

    fn start(database_url: String, fake_url: String, root: &Path, n: usize) -> Arc<Self> {
        let cluster = Arc::new(Self {
            replicas: Mutex::new(Vec::new()),
            database_url,
            fake_url,
        });
        for i in 0..n {
            let dir = root.join(format!("r{i}"));
            let (child, url) = cluster.spawn(&dir);
            cluster.replicas.lock().unwrap().push(Replica {
                child: Some(child),
                url,
                dir,
            });
        }
        cluster
    }

    /// The URLs of the replicas that are up.
    fn live(&self) -> Vec<String> {
        let replicas = self.replicas.lock().unwrap();
        replicas
            .iter()
            .filter(|r| r.child.is_some())
            .map(|r| r.url.clone())
            .collect()
    }

    /// A random live replica's URL other than `not` when there is one.
    async fn pick(&self, not: Option<&str>) -> String {
        loop {
            let live = self.live();
            let others: Vec<&String> = live.iter().filter(|u| Some(u.as_str()) != not).collect();
            let choice = if others.is_empty() {
                live.first()
            } else {
                Some(others[rand::thread_rng().gen_range(0..others.len())])
            };
            if let Some(url) = choice {
                return url.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILLs replica `i`, then starts it again (on a new port) after `down`.
    fn kill_and_restart(&self, i: usize, down: Duration) {
        let (mut child, dir) = {
            let mut replicas = self.replicas.lock().unwrap();
            let r = &mut replicas[i];
            (r.child.take().unwrap(), r.dir.clone())
        };
        child.kill().unwrap();
        child.wait().unwrap();
        std::thread::sleep(down);
        let (child, url) = self.spawn(&dir);
        let mut replicas = self.replicas.lock().unwrap();
        replicas[i].child = Some(child);
        replicas[i].url = url;
    }

    fn stop_all(&self) {
        let mut replicas = self.replicas.lock().unwrap();
        for r in replicas.iter_mut() {
            if let Some(mut child) = r.child.take() {
                child.kill().unwrap();
                child.wait().unwrap();
            }
        }
    }
}

/// Kills a random replica every 2–4 s until `until`; the number of kills.
fn killer(cluster: Arc<Cluster>, until: Instant) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let mut kills = 0;
        while Instant::now() < until {
            let wait = rand::thread_rng().gen_range(2000..4000);
            std::thread::sleep(Duration::from_millis(wait));
            let n = cluster.replicas.lock().unwrap().len();
            let i = rand::thread_rng().gen_range(0..n);
            // A single server stays down a moment so its lease expires meanwhile sometimes.
            let down = Duration::from_millis(rand::thread_rng().gen_range(0..400));
            cluster.kill_and_restart(i, down);
            kills += 1;
        }
        kills
    })
}

async fn send(client: &reqwest::Client, cluster: &Cluster, path: &str, body: &Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let url = cluster.pick(None).await;
        let sent = client
            .post(format!("{url}{path}"))
            .bearer_auth(KEY)
            .json(body)
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        if let Ok(resp) = sent {
            let status = resp.status();
            if let Ok(text) = resp.text().await {
                assert!(
                    status.is_success() || status.as_u16() >= 500,
                    "{path}: {status} {text}"
                );
                if status.is_success() {
                    return serde_json::from_str(&text).unwrap();
                }
            }
        }
        assert!(Instant::now() < deadline, "no replica took {path}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn get(client: &reqwest::Client, cluster: &Cluster, path: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let url = cluster.pick(None).await;
        let sent = client
            .get(format!("{url}{path}"))
            .bearer_auth(KEY)
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        if let Ok(resp) = sent {
            if resp.status().is_success() {
                if let Ok(body) = resp.json::<Value>().await {
                    return body;
                }
            }
        }
        assert!(Instant::now() < deadline, "no replica answered {path}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The fake model: a first call asks for the side-effecting tool, the answer after its result
/// ends the turn. Both take a while so kills land in model calls too.
fn responder() -> Arc<dyn Fn(&SeenRequest) -> Turn + Send + Sync> {
    Arc::new(|req: &SeenRequest| {
        if req.last_is_tool_result {
            Turn::text("recorded").with_delay(Duration::from_millis(150))
        } else {
            Turn::tool_calls(vec![("side_effect", json!({"note": "chaos"}))])
                .with_delay(Duration::from_millis(150))
        }
    })
}

async fn define_agent(client: &reqwest::Client, cluster: &Cluster, counter: &SideEffectCounter) {
    send(
        client,
        cluster,
        "/v2/tools",
        &json!({"path": "Default", "key": "side_effect", "description": "Records one event",
            "type": "http", "http": {
                "blueprint": {"url": format!("{}/hit", counter.url), "method": "POST",
                              "body": {"note": "{{note}}"}},
                "arguments": {"note": {"type": "string", "description": "What to record"}}}}),
    )
    .await;
    send(
        client,
        cluster,
        "/v2/agents",
        &json!({"key": AGENT, "role": "r", "description": "d", "instructions": "i",
            "path": "Default", "model": "openai/gpt-4o",
            "settings": {"tools": [{"type": "http", "key": "side_effect"}]}}),
    )
    .await;
}

fn user(text: &str) -> Value {
    json!({"role": "user", "parts": [{"kind": "text", "text": text}]})
}

/// Starts background runs at a steady pace until `until`; their task ids.
async fn launch_runs(
    client: reqwest::Client,
    cluster: Arc<Cluster>,
    until: Instant,
    pace: Duration,
) -> Vec<String> {
    let mut tasks = Vec::new();
    while Instant::now() < until {
        let run = send(
            &client,
            &cluster,
            &format!("/v2/agents/{AGENT}/responses"),
            &json!({"message": user("record it"), "background": true}),
        )
        .await;
        tasks.push(run["task_id"].as_str().unwrap().to_owned());
        tokio::time::sleep(pace).await;
    }
    tasks
}

/// Persisted events as (id, type, data): what replay returns and what reconnects must match.
fn persisted(events: &[SseMessage]) -> Vec<(u64, String, Value)> {
    events
        .iter()
        .filter(|e| !e.kind().ends_with("delta"))
        .filter_map(|e| {
            let id = e.id.as_deref()?.parse().ok()?;
            Some((id, e.kind(), e.json()))
        })
        .collect()
}

/// What one streamed client saw over all its connections.
struct StreamLog {
    task: String,
    received: Vec<(u64, String, Value)>,
    reconnects: usize,
}

/// A streamed client: starts a background run, reads a little of its stream on one replica,
/// drops the connection and reconnects with `Last-Event-ID` to another, again and again (and
/// whenever a kill cuts it), until `[DONE]`.
async fn streamed_client(client: reqwest::Client, cluster: Arc<Cluster>) -> StreamLog {
    let run = send(
        &client,
        &cluster,
        &format!("/v2/agents/{AGENT}/responses"),
        &json!({"message": user("record it, streamed"), "background": true}),
    )
    .await;
    let task = run["task_id"].as_str().unwrap().to_owned();
    let mut log = StreamLog {
        task: task.clone(),
        received: Vec::new(),
        reconnects: 0,
    };
    let mut last: Option<u64> = None;
    let mut previous: Option<String> = None;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "stream of {task} never ended");
        let url = cluster.pick(previous.as_deref()).await;
        previous = Some(url.clone());
        let mut req = client
            .get(format!("{url}/v2/agents/{AGENT}/responses/{task}/stream"))
            .bearer_auth(KEY);
        if let Some(id) = last {
            req = req.header("Last-Event-ID", id.to_string());
            log.reconnects += 1;
        }
        let Ok(resp) = req.send().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        if !resp.status().is_success() {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        // Read a couple of events, then hang up on purpose to reconnect elsewhere.
        let limit = rand::thread_rng().gen_range(1..4);
        let events = read_until_cut(resp, limit).await;
        let done = events.iter().any(|e| e.data == "[DONE]");
        for event in persisted(&events) {
            last = Some(event.0);
            log.received.push(event);
        }
        if done {
            return log;
        }
    }
}

/// Reads at most `limit` messages, or fewer if the connection is cut (a kill).
async fn read_until_cut(resp: reqwest::Response, limit: usize) -> Vec<SseMessage> {
    let read = tokio::spawn(read_sse(resp, limit));
    read.await.unwrap_or_default()
}

/// The whole persisted stream of a finished task, replayed from the start.
async fn replay(client: &reqwest::Client, cluster: &Cluster, task: &str) -> Vec<SseMessage> {
    loop {
        let url = cluster.pick(None).await;
        let resp = client
            .get(format!("{url}/v2/agents/{AGENT}/responses/{task}/stream"))
            .bearer_auth(KEY)
            .send()
            .await;
        if let Ok(resp) = resp {
            if resp.status().is_success() {
                let events = read_until_cut(resp, 10_000).await;
                if events.last().is_some_and(|e| e.data == "[DONE]") {
                    return events;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until every task left `working`/`submitted`; their final responses.
async fn settle(client: &reqwest::Client, cluster: &Cluster, tasks: &[String]) -> Vec<Value> {
    let mut out = Vec::new();
    for task in tasks {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let done = get(
                client,
                cluster,
                &format!("/v2/agents/{AGENT}/responses/{task}"),
            )
            .await;
            if done["status"] != "in_progress" {
                out.push(done);
                break;
            }
            assert!(Instant::now() < deadline, "task {task} stuck: {done}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    out
}

/// Tool results of a finished response, by call id.
fn tool_results(response: &Value) -> Vec<(String, Value)> {
    response["output"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|m| m["parts"].as_array().into_iter().flatten())
        .filter(|p| p["kind"] == "tool_result")
        .map(|p| {
            (
                p["tool_call_id"].as_str().unwrap_or_default().to_owned(),
                p["result"].clone(),
            )
        })
        .collect()
}

/// What the run found; printed for the closing note.
#[derive(Debug, Default)]
struct Tally {
    runs: usize,
    /// Runs whose creating request a kill cut after the task was stored (retried as new runs).
    orphans: usize,
    tool_results: usize,
    kills: usize,
    executions: usize,
    max_executions_per_call: u32,
    interrupted: usize,
    streams: usize,
    reconnects: usize,
}

/// Checks every guarantee over the finished runs.
async fn verify(
    client: &reqwest::Client,
    cluster: &Cluster,
    counter: &SideEffectCounter,
    tasks: &[String],
    streams: &[StreamLog],
    tally: &mut Tally,
) {
    let mut tasks = tasks.to_vec();
    let mut responses = settle(client, cluster, &tasks).await;
    // A run whose creating request was cut by a kill after the task was stored is retried by
    // the client as a new run; the first still runs (taken over) and is checked like the rest.
    let orphans: Vec<String> = counter
        .hits()
        .keys()
        .filter_map(|key| key.split_once(':').map(|(task, _)| task))
        .filter(|task| !tasks.iter().any(|t| t == task))
        .map(str::to_owned)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    tally.orphans = orphans.len();
    responses.extend(settle(client, cluster, &orphans).await);
    tasks.extend(orphans);
    let hits = counter.hits();
    tally.executions = hits.values().sum::<u32>() as usize;
    tally.max_executions_per_call = hits.values().copied().max().unwrap_or(0);
    let mut answered: BTreeMap<String, Value> = BTreeMap::new();
    for (task, response) in tasks.iter().zip(&responses) {
        assert_eq!(response["status"], "completed", "task {task}: {response}");
        let results = tool_results(response);
        assert!(
            !results.is_empty(),
            "task {task} has no tool result: {response}"
        );
        for (call, result) in results {
            assert!(
                answered.insert(format!("{task}:{call}"), result).is_none(),
                "call {call} of {task} answered twice"
            );
        }
    }
    tally.tool_results = answered.len();
    for (key, n) in &hits {
        assert_eq!(*n, 1, "non-idempotent call {key} executed {n} times");
        let result = answered
            .get(key)
            .unwrap_or_else(|| panic!("execution {key} is in no task's history"));
        let text = result.to_string();
        let completed = text.contains(key.as_str());
        let unknown = text.contains("outcome unknown");
        assert!(
            completed || unknown,
            "call {key}: history shows neither its result nor that it was interrupted: {text}"
        );
        if unknown {
            tally.interrupted += 1;
        }
    }
    for (key, result) in &answered {
        let text = result.to_string();
        if text.contains("outcome unknown") {
            if !hits.contains_key(key) {
                tally.interrupted += 1; // cut before the request left the server
            }
        } else {
            assert!(
                text.contains(key.as_str()) && hits.contains_key(key),
                "call {key}: a result that is neither its execution nor outcome unknown: {text}"
            );
        }
    }
    for log in streams {
        let full = persisted(&replay(client, cluster, &log.task).await);
        assert_eq!(
            log.received, full,
            "stream of {} across {} reconnects is not the persisted log",
            log.task, log.reconnects
        );
        let started = full.iter().filter(|e| e.1 == "response.started").count();
        assert_eq!(started, 1, "{}: one response.started per turn", log.task);
        tally.reconnects += log.reconnects;
    }
    tally.streams = streams.len();
    tally.runs = tasks.len();
}

async fn chaos(cluster: Arc<Cluster>, counter: &SideEffectCounter, secs: u64, name: &str) {
    let client = reqwest::Client::new();
    define_agent(&client, &cluster, counter).await;
    let until = Instant::now() + Duration::from_secs(secs);
    let kills = killer(cluster.clone(), until);
    let launcher = tokio::spawn(launch_runs(
        client.clone(),
        cluster.clone(),
        until,
        Duration::from_millis(250),
    ));
    let mut streams = Vec::new();
    while Instant::now() < until {
        let clients: Vec<_> = (0..3)
            .map(|_| tokio::spawn(streamed_client(client.clone(), cluster.clone())))
            .collect();
        for c in clients {
            streams.push(c.await.unwrap());
        }
    }
    let tasks = launcher.await.unwrap();
    let mut tally = Tally {
        kills: tokio::task::spawn_blocking(move || kills.join().unwrap())
            .await
            .unwrap(),
        ..Tally::default()
    };
    let mut all = tasks.clone();
    all.extend(streams.iter().map(|s| s.task.clone()));
    verify(&client, &cluster, counter, &all, &streams, &mut tally).await;
    println!("chaos {name}: {tally:?}");
    assert!(tally.kills > 0 && tally.reconnects > 0, "{tally:?}");
    cluster.stop_all();
}

fn secs() -> u64 {
    baton_e2e::bench::env_or("CHAOS_SECS", 40) as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "chaos: minutes long, CI runs it in its own step"]
async fn three_replicas_on_postgres_killed_at_random_lose_nothing_and_repeat_nothing() {
    let Some(admin) = baton_store::testing::postgres_admin_url() else {
        return; // no PostgreSQL server binaries: a notice says so
    };
    let database_url = baton_store::testing::fresh_postgres_database(&admin)
        .await
        .unwrap();
    let fake = FakeProvider::start(Flavor::OpenAi).await;
    fake.set_responder(responder());
    let counter = SideEffectCounter::start(Duration::from_millis(TOOL_MS)).await;
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(database_url, fake.base_url(), dir.path(), 3);
    chaos(cluster, &counter, secs(), "postgres, 3 replicas").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "chaos: minutes long, CI runs it in its own step"]
async fn one_sqlite_server_killed_at_random_loses_nothing_and_repeats_nothing() {
    let fake = FakeProvider::start(Flavor::OpenAi).await;
    fake.set_responder(responder());
    let counter = SideEffectCounter::start(Duration::from_millis(TOOL_MS)).await;
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("baton.db").display()
    );
    let cluster = Cluster::start(database_url, fake.base_url(), dir.path(), 1);
    chaos(cluster, &counter, secs(), "sqlite, 1 server").await;
}
