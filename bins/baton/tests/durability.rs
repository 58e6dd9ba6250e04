//! Durability of background runs: a `baton serve` process killed with SIGKILL in the middle of a
//! run, then a new process on the same database finishes the task from its last checkpoint,
//! without running any completed tool call again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_e2e::{read_sse, SseMessage};
use baton_testkit::{FakeProvider, Flavor, SeenRequest, Turn};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const KEY: &str = "durability-key";

fn start_server(dir: &Path, fake: &FakeProvider) -> (Child, String) {
    baton_e2e::Serve::new(env!("CARGO_BIN_EXE_baton"), KEY, dir)
        .model(&fake.base_url())
        .quick_takeover()
        .spawn()
}

async fn events(client: &reqwest::Client, url: &str, task: &str, limit: usize) -> Vec<SseMessage> {
    let resp = client
        .get(format!("{url}/v2/agents/durable/responses/{task}/stream"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    read_sse(resp, limit).await
}

#[tokio::test]
async fn a_killed_server_resumes_background_runs_without_repeating_tools() {
    let fake = FakeProvider::start(Flavor::OpenAi).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    fake.set_responder(Arc::new(move |req: &SeenRequest| {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        if !req.last_is_tool_result {
            Turn::tool_calls(vec![
                ("current_date", json!({})),
                ("current_date", json!({})),
            ])
        } else if n == 1 {
            // The answer the first server is waiting for when it is killed.
            Turn::text("never delivered").with_delay(Duration::from_secs(30))
        } else {
            Turn::text("finished after the restart")
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let (mut first, url) = start_server(dir.path(), &fake);
    let resp = client
        .post(format!("{url}/v2/agents"))
        .bearer_auth(KEY)
        .json(
            &json!({"key": "durable", "role": "r", "description": "d", "instructions": "i",
                      "path": "Default", "model": "openai/gpt-4o",
                      "settings": {"tools": [{"type": "current_date"}]}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let run: Value = client
        .post(format!("{url}/v2/agents/durable/responses"))
        .bearer_auth(KEY)
        .json(
            &json!({"message": {"role": "user", "parts": [{"kind": "text", "text": "date twice"}]},
                      "background": true}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let task = run["task_id"].as_str().unwrap().to_owned();

    // Wait until both tool results are checkpointed and the second model call is in flight.
    let before = events(&client, &url, &task, 5).await;
    let tool_done: Vec<Value> = before
        .iter()
        .filter(|e| e.kind() == "tool.done")
        .map(|e| e.json()["data"].clone())
        .collect();
    assert_eq!(tool_done.len(), 2, "{before:?}");
    for _ in 0..100 {
        if calls.load(Ordering::SeqCst) >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    tokio::time::sleep(Duration::from_millis(1100)).await; // dates differ if a tool ran again
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();

    let (mut second, url) = start_server(dir.path(), &fake);
    let mut done = Value::Null;
    for _ in 0..200 {
        done = client
            .get(format!("{url}/v2/agents/durable/responses/{task}"))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if done["status"] != "in_progress" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(done["status"], "completed", "{done}");
    let output = done["output"].as_array().unwrap();
    assert_eq!(
        output.last().unwrap()["parts"][0]["text"],
        "finished after the restart"
    );
    let results: Vec<Value> = output
        .iter()
        .flat_map(|m| m["parts"].as_array().unwrap().iter())
        .filter(|p| p["kind"] == "tool_result")
        .cloned()
        .collect();
    assert_eq!(results.len(), 2, "each call answered once: {done}");
    for r in &results {
        let before = tool_done
            .iter()
            .find(|d| d["toolCallId"] == r["tool_call_id"])
            .unwrap();
        assert_eq!(
            before["result"], r["result"],
            "the result is the one from before the kill"
        );
    }
    let all = events(&client, &url, &task, 1000).await;
    assert_eq!(
        all.iter().filter(|e| e.kind() == "tool.started").count(),
        2,
        "no tool started again"
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "one model call was repeated: the one cut by the kill"
    );
    assert_eq!(
        done["usage"]["interrupted_model_calls"], 1,
        "the cut model call is counted, its tokens unknown: {done}"
    );
    let spans = spans(&client, &url, &done).await;
    let cut: Vec<&Value> = spans
        .iter()
        .filter(|s| s["type"] == "llm" && s["status"] == "interrupted")
        .collect();
    assert_eq!(
        cut.len(),
        1,
        "the cut model call is in the trace: {spans:?}"
    );
    assert_eq!(
        spans.iter().filter(|s| s["type"] == "llm").count(),
        3,
        "every model call made is in the trace"
    );
    second.kill().unwrap();
    second.wait().unwrap();
}

/// Every span of a response's trace.
async fn spans(client: &reqwest::Client, url: &str, response: &Value) -> Vec<Value> {
    let trace = response["telemetry"]["trace_id"].as_str().unwrap();
    let body: Value = client
        .get(format!("{url}/v3/traces/{trace}/spans?limit=1000"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["data"].as_array().unwrap().clone()
}
