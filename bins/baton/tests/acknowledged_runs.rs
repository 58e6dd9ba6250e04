//! Nothing acknowledged is lost to a crash while many runs commit their checkpoints together:
//! clients hammer a `baton serve` on SQLite with runs (a tool call and an answer each), the
//! server is killed with SIGKILL mid-load, and a new process on the same file must hold every
//! run a client saw completed, completed, with the answer the client got.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_testkit::{FakeProvider, Flavor, SeenRequest, Turn};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const KEY: &str = "acknowledged-key";

fn start_server(dir: &Path, fake: &FakeProvider) -> (Child, String) {
    baton_e2e::Serve::new(env!("CARGO_BIN_EXE_baton"), KEY, dir)
        .model(&fake.base_url())
        .env("RUST_LOG", "error")
        .spawn()
}

/// Kills the server when the test ends, passed or not.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends runs until `stop`, keeping every response that came back completed.
async fn client_loop(url: String, stop: Arc<AtomicBool>, acked: Arc<Mutex<Vec<Value>>>) {
    let client = reqwest::Client::new();
    let body = json!({"message": {"role": "user", "parts": [{"kind": "text", "text": "date?"}]}});
    while !stop.load(Ordering::SeqCst) {
        let sent = client
            .post(format!("{url}/v2/agents/clock/responses"))
            .bearer_auth(KEY)
            .json(&body)
            .send()
            .await;
        let Ok(resp) = sent else { return };
        let Ok(reply) = resp.json::<Value>().await else {
            return;
        };
        if reply["status"]["state"] == "completed" {
            acked.lock().unwrap().push(reply);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_acknowledged_before_a_kill_are_all_stored() {
    let fake = FakeProvider::start(Flavor::OpenAi).await;
    fake.set_responder(Arc::new(|req: &SeenRequest| {
        if req.last_is_tool_result {
            Turn::text("It is today.")
        } else {
            Turn::tool_calls(vec![("current_date", json!({}))])
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    let (child, url) = start_server(dir.path(), &fake);
    let mut first = Killed(child);
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{url}/v2/agents"))
        .bearer_auth(KEY)
        .json(
            &json!({"key": "clock", "role": "r", "description": "d", "instructions": "i",
                      "path": "Default", "model": "openai/gpt-4o",
                      "settings": {"tools": [{"type": "current_date"}]}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);

    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..48)
        .map(|_| tokio::spawn(client_loop(url.clone(), stop.clone(), acked.clone())))
        .collect();
    // Kill while the writes of many runs are in flight together.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    first.0.kill().unwrap();
    first.0.wait().unwrap();
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.await.unwrap();
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(
        acked.len() >= 20,
        "too few runs before the kill: {}",
        acked.len()
    );

    let (child, url) = start_server(dir.path(), &fake);
    let _server = Killed(child);
    for reply in &acked {
        let task = reply["task_id"].as_str().unwrap();
        let stored: Value = client
            .get(format!("{url}/v2/agents/clock/responses/{task}"))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(stored["state"], "completed", "{task}: {stored}");
        assert_eq!(stored["output"], reply["output"], "{task}");
    }
}
