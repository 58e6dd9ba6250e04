//! Three `baton serve` processes on one PostgreSQL database, all running their schedulers, with
//! second-granular test schedules: every due time fires exactly once, and each firing's task
//! runs once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_testkit::{FakeProvider, Flavor, Turn};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Child;
use std::sync::Arc;
use std::time::Duration;

const KEY: &str = "cluster-key";
const SECRET: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn start_server(dir: &Path, database_url: &str, fake: &FakeProvider) -> (Child, String) {
    std::fs::create_dir_all(dir).unwrap();
    baton_e2e::Serve::new(env!("CARGO_BIN_EXE_baton"), KEY, dir)
        .database(database_url)
        .model(&fake.base_url())
        .env("BATON_SECRET_KEY", SECRET)
        .env("BATON_POLL_MS", "100")
        .config("[scheduler]\nmin_interval_s = 1\npoll_ms = 50\ngrace_s = 5")
        .spawn()
}

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> Value {
    let mut req = client.request(method, url).bearer_auth(KEY);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert!(status.is_success(), "{url}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_servers_fire_each_due_time_exactly_once() {
    let Some(admin) = baton_store::testing::postgres_admin_url() else {
        return; // no PostgreSQL server binaries: a notice says so
    };
    let database_url = baton_store::testing::fresh_postgres_database(&admin)
        .await
        .unwrap();
    let fake = FakeProvider::start(Flavor::OpenAi).await;
    fake.set_responder(Arc::new(|_| Turn::text("fired")));
    let dir = tempfile::tempdir().unwrap();
    // The first server migrates the database; then the others join.
    let mut servers = vec![start_server(&dir.path().join("s0"), &database_url, &fake)];
    for i in 1..3 {
        servers.push(start_server(
            &dir.path().join(format!("s{i}")),
            &database_url,
            &fake,
        ));
    }
    let client = reqwest::Client::new();
    let base = servers[0].1.clone();
    call(
        &client,
        reqwest::Method::POST,
        &format!("{base}/v2/agents"),
        Some(json!({
        "key": "ticker", "role": "r", "description": "d", "instructions": "i",
        "path": "Default/agents", "model": "openai/gpt-4o"})),
    )
    .await;
    let mut ids = Vec::new();
    for (kind, expr) in [
        ("cron", "* * * * * *"),
        ("cron", "* * * * * *"),
        ("cron", "*/2 * * * * *"),
        ("interval", "@every 1s"),
        ("interval", "@every 1500ms"),
    ] {
        // Created through different servers: any of them may fire any schedule.
        let url = &servers[ids.len() % 3].1;
        let s = call(
            &client,
            reqwest::Method::POST,
            &format!("{url}/v3/agents/ticker/schedules"),
            Some(json!({"type": kind, "expression": expr, "payload": {"input": "tick"}})),
        )
        .await;
        ids.push(s["_id"].as_str().unwrap().to_owned());
    }
    tokio::time::sleep(Duration::from_secs(6)).await;
    for id in &ids {
        call(
            &client,
            reqwest::Method::PATCH,
            &format!("{base}/v3/agents/ticker/schedules/{id}"),
            Some(json!({"is_active": false})),
        )
        .await;
    }
    // Let the tasks of the last firings finish.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mut total = 0usize;
    for id in &ids {
        let s = call(
            &client,
            reqwest::Method::GET,
            &format!("{base}/v3/agents/ticker/schedules/{id}"),
            None,
        )
        .await;
        let runs = call(
            &client,
            reqwest::Method::GET,
            &format!("{base}/v3/agents/ticker/schedules/{id}/executions"),
            None,
        )
        .await;
        let runs = runs["executions"].as_array().unwrap().clone();
        let due: BTreeSet<&str> = runs.iter().map(|r| r["due_at"].as_str().unwrap()).collect();
        assert_eq!(
            due.len(),
            runs.len(),
            "a due time fired twice for {}: {runs:?}",
            s["expression"]
        );
        assert_eq!(
            s["trigger_count"].as_u64().unwrap() as usize,
            runs.len(),
            "{s}"
        );
        assert!(
            runs.len() >= 3,
            "{} fired only {} times",
            s["expression"],
            runs.len()
        );
        // No due time was skipped between the first and the last firing.
        let times: Vec<i64> = due
            .iter()
            .map(|t| {
                chrono::DateTime::parse_from_rfc3339(t)
                    .unwrap()
                    .timestamp_millis()
            })
            .collect();
        let step = times.windows(2).map(|w| w[1] - w[0]).min().unwrap();
        assert!(
            times.windows(2).all(|w| w[1] - w[0] == step),
            "gaps in {times:?}"
        );
        for run in &runs {
            assert_eq!(run["state"], "completed", "{run}");
        }
        total += runs.len();
    }
    // One model call per firing: no task ran twice.
    assert_eq!(fake.request_count(), total);
    for (mut child, _) in servers {
        let _ = child.kill();
        let _ = child.wait();
    }
    baton_store::testing::drop_postgres_database(&admin, &database_url)
        .await
        .unwrap();
}
