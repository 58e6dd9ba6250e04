//! A message queued on a running task is part of the task's checkpoint: a `baton serve` killed
//! with SIGKILL while the turn before it runs loses nothing — the server started next resumes
//! the turn, then runs the queued message's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_testkit::{FakeProvider, Flavor, SeenRequest, Turn};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const KEY: &str = "multitask-key";

/// A server process, killed when dropped (also when a test fails half-way).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(dir: &Path, fake: &FakeProvider) -> (Server, String) {
    let (child, url) = baton_e2e::Serve::new(env!("CARGO_BIN_EXE_baton"), KEY, dir)
        .model(&fake.base_url())
        .quick_takeover()
        .spawn();
    (Server(child), url)
}

/// The text of the last user message of a chat request.
fn last_user(body: &Value) -> String {
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_owned()
}

async fn post(client: &reqwest::Client, url: &str, path: &str, body: Value) -> (u16, Value) {
    let resp = client
        .post(format!("{url}{path}"))
        .bearer_auth(KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

async fn get(client: &reqwest::Client, url: &str, path: &str) -> Value {
    let resp = client
        .get(format!("{url}{path}"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    resp.json().await.unwrap()
}

fn user(text: &str) -> Value {
    json!({"role": "user", "parts": [{"kind": "text", "text": text}]})
}

#[tokio::test]
async fn a_queued_message_survives_a_killed_server_and_runs_after_the_resumed_turn() {
    let fake = FakeProvider::start(Flavor::OpenAi).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    fake.set_responder(Arc::new(move |req: &SeenRequest| {
        let said = last_user(&req.body);
        // The first call is the one the first server waits on when it is killed.
        let delay = match seen.fetch_add(1, Ordering::SeqCst) {
            0 => Duration::from_secs(60),
            _ => Duration::ZERO,
        };
        Turn::text(format!("re: {said}")).with_delay(delay)
    }));
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let (mut first, url) = start_server(dir.path(), &fake);
    let agent = json!({"key": "durable", "role": "r", "description": "d", "instructions": "i",
                       "path": "Default", "model": "openai/gpt-4o"});
    assert_eq!(post(&client, &url, "/v2/agents", agent).await.0, 201);
    let responses = "/v2/agents/durable/responses";
    let (st, run) = post(
        &client,
        &url,
        responses,
        json!({"message": user("long first"), "background": true}),
    )
    .await;
    assert_eq!(st, 200, "{run}");
    let task = run["task_id"].as_str().unwrap().to_owned();
    for _ in 0..200 {
        if calls.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the first turn is running");
    let (st, queued) = post(
        &client,
        &url,
        responses,
        json!({"task_id": task, "message": user("second"), "multitask_strategy": "enqueue",
               "background": true}),
    )
    .await;
    assert_eq!(st, 200, "{queued}");
    assert_eq!(queued["queued"]["position"], 1, "{queued}");
    first.0.kill().unwrap(); // SIGKILL, between the turns
    first.0.wait().unwrap();

    let (_second, url) = start_server(dir.path(), &fake);
    let mut done = Value::Null;
    for _ in 0..300 {
        done = get(&client, &url, &format!("{responses}/{task}")).await;
        if done["status"] != "in_progress" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(done["state"], "completed", "{done}");
    assert_eq!(
        done["_id"], queued["_id"],
        "the queued message's turn ran: {done}"
    );
    let answer = &done["output"].as_array().unwrap().last().unwrap()["parts"][0]["text"];
    assert_eq!(answer, "re: second", "{done}");
    let asked: Vec<String> = fake.requests().iter().map(last_user).collect();
    assert_eq!(
        asked,
        ["long first", "long first", "second"],
        "the cut turn is resumed, then the queued message runs"
    );
}
