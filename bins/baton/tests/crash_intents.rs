//! Tool calls in flight when a `baton serve` process is killed with SIGKILL: a new process on the
//! same database runs a cut call again only when its tool is idempotent (with the same
//! idempotency key), and otherwise tells the model and the task's history its outcome is unknown.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_e2e::{read_sse, SseMessage};
use baton_testkit::{FakeProvider, Flavor, SeenRequest, Turn};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Child;
use std::sync::Arc;
use std::time::Duration;

const KEY: &str = "intents-key";

fn start_server(dir: &Path, fake: &FakeProvider) -> (Child, String) {
    // Tools may reach the test's loopback API.
    baton_e2e::Serve::new(env!("CARGO_BIN_EXE_baton"), KEY, dir)
        .model(&fake.base_url())
        .quick_takeover()
        .loopback_tools()
        .spawn()
}

async fn get(client: &reqwest::Client, url: &str) -> reqwest::Response {
    client.get(url).bearer_auth(KEY).send().await.unwrap()
}

/// Every span of a response's trace.
async fn spans(client: &reqwest::Client, url: &str, response: &Value) -> Vec<Value> {
    let trace = response["telemetry"]["trace_id"].as_str().unwrap();
    let body: Value = get(client, &format!("{url}/v3/traces/{trace}/spans?limit=1000"))
        .await
        .json()
        .await
        .unwrap();
    body["data"].as_array().unwrap().clone()
}

/// A side-effecting loopback API that takes `delay` to answer and records each request's
/// `Idempotency-Key` as it arrives.
struct Counter {
    url: String,
    keys: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Counter {
    async fn start(delay: Duration) -> Self {
        let keys: Arc<std::sync::Mutex<Vec<String>>> = Default::default();
        let seen = keys.clone();
        let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap| {
            let seen = seen.clone();
            async move {
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("(none)")
                    .to_owned();
                let n = {
                    let mut seen = seen.lock().unwrap();
                    seen.push(key);
                    seen.len()
                };
                tokio::time::sleep(delay).await;
                axum::Json(json!({"charged": n}))
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, keys }
    }

    fn keys(&self) -> Vec<String> {
        self.keys.lock().unwrap().clone()
    }
}

async fn post(client: &reqwest::Client, url: &str, path: &str, body: Value) -> Value {
    let resp = client
        .post(format!("{url}{path}"))
        .bearer_auth(KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

async fn finished(client: &reqwest::Client, url: &str, agent: &str, task: &str) -> Value {
    let mut done = Value::Null;
    for _ in 0..300 {
        let path = format!("{url}/v2/agents/{agent}/responses/{task}");
        done = get(client, &path).await.json().await.unwrap();
        if done["status"] != "in_progress" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done
}

/// What a task cut by a kill during its tool call came to on the second server.
struct Outcome {
    /// The finished response.
    done: Value,
    /// The task's events.
    events: Vec<Value>,
    /// The trace's spans.
    spans: Vec<Value>,
    /// The `Idempotency-Key` of each request the tool's API saw.
    keys: Vec<String>,
    task: String,
}

/// Starts the run (in the background or streamed); the response is kept open until the kill.
async fn start_run(
    client: &reqwest::Client,
    url: &str,
    streamed: bool,
) -> (String, Option<reqwest::Response>) {
    let message = json!({"role": "user", "parts": [{"kind": "text", "text": "charge it"}]});
    let path = "/v2/agents/payer/responses";
    if !streamed {
        let run = post(
            client,
            url,
            path,
            json!({"background": true, "message": message}),
        )
        .await;
        return (run["task_id"].as_str().unwrap().to_owned(), None);
    }
    let mut resp = client
        .post(format!("{url}{path}"))
        .bearer_auth(KEY)
        .json(&json!({"stream": true, "message": message}))
        .send()
        .await
        .unwrap();
    let mut text = String::new();
    while !text.contains("\"taskId\":\"") {
        let chunk = resp.chunk().await.unwrap().expect("response.started");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let task = text.split("\"taskId\":\"").nth(1).unwrap();
    (task.split('"').next().unwrap().to_owned(), Some(resp))
}

/// Runs an agent whose one tool call takes two seconds, kills the server while the call is in
/// flight, and lets a second server on the same database finish the task.
async fn kill_during_a_tool_call(idempotent: Option<bool>, streamed: bool) -> Outcome {
    let counter = Counter::start(Duration::from_secs(2)).await;
    let fake = FakeProvider::start(Flavor::OpenAi).await;
    fake.set_responder(Arc::new(|req: &SeenRequest| {
        if req.last_is_tool_result {
            Turn::text("finished after the restart")
        } else {
            Turn::tool_calls(vec![("charge", json!({}))])
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let (mut first, url) = start_server(dir.path(), &fake);
    let mut tool = json!({"key": "charge", "path": "Default", "description": "Charges a card",
        "type": "http", "http": {"blueprint": {"url": format!("{}/charge", counter.url), "method": "POST"}}});
    if let Some(idempotent) = idempotent {
        tool["idempotent"] = json!(idempotent);
    }
    let stored = post(&client, &url, "/v2/tools", tool).await;
    assert_eq!(
        stored["idempotent"],
        json!(idempotent.unwrap_or(false)),
        "{stored}"
    );
    let agent = json!({"key": "payer", "role": "r", "description": "d", "instructions": "i",
        "path": "Default", "model": "openai/gpt-4o",
        "settings": {"tools": [{"type": "http", "key": "charge"}]}});
    post(&client, &url, "/v2/agents", agent).await;
    let (task, open) = start_run(&client, &url, streamed).await;
    for _ in 0..200 {
        if !counter.keys().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(counter.keys().len(), 1, "the call is in flight");
    first.kill().unwrap(); // SIGKILL, the call unanswered
    first.wait().unwrap();
    drop(open);

    let (mut second, url) = start_server(dir.path(), &fake);
    let done = finished(&client, &url, "payer", &task).await;
    let stream = get(
        &client,
        &format!("{url}/v2/agents/payer/responses/{task}/stream"),
    )
    .await;
    let events = read_sse(stream, 1000)
        .await
        .iter()
        .map(SseMessage::json)
        .collect();
    let spans = spans(&client, &url, &done).await;
    second.kill().unwrap();
    second.wait().unwrap();
    Outcome {
        done,
        events,
        spans,
        keys: counter.keys(),
        task,
    }
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_with_side_effects_cut_by_a_kill_is_not_run_again_and_reads_outcome_unknown() {
    for streamed in [false, true] {
        outcome_unknown(kill_during_a_tool_call(None, streamed).await);
    }
}

fn outcome_unknown(cut: Outcome) {
    let Outcome {
        done,
        events,
        spans,
        keys,
        task,
    } = cut;
    assert_eq!(done["status"], "completed", "{done}");
    let started = of_type(&events, "tool.started");
    assert_eq!(started.len(), 1, "{events:?}");
    let call_id = started[0]["data"]["toolCallId"].as_str().unwrap();
    assert_eq!(
        keys,
        [format!("{task}:{call_id}")],
        "the API saw the call once, with its idempotency key"
    );
    let unknown = "outcome unknown: the server stopped while this call was running";
    let failed = of_type(&events, "tool.failed");
    assert_eq!(failed.len(), 1, "{events:?}");
    assert_eq!(failed[0]["data"]["error"], unknown);
    let results: Vec<&Value> = done["output"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["parts"].as_array().unwrap())
        .filter(|p| p["kind"] == "tool_result")
        .collect();
    assert_eq!(results.len(), 1, "{done}");
    assert_eq!(
        results[0]["result"]["error"], unknown,
        "the history tells: {done}"
    );
    assert_eq!(
        results[0]["metadata"],
        json!({"attempts": 1, "outcome": "unknown"})
    );
    let cut: Vec<&Value> = spans
        .iter()
        .filter(|s| s["status"] == "interrupted")
        .collect();
    assert_eq!(cut.len(), 1, "the cut attempt is in the trace: {spans:?}");
    assert_eq!(cut[0]["name"], "tool charge");
    assert!(
        done["usage"].get("interrupted_model_calls").is_none(),
        "{done}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotent_call_cut_by_a_kill_runs_again_once_with_the_same_key() {
    let Outcome {
        done,
        events,
        spans,
        keys,
        task,
    } = kill_during_a_tool_call(Some(true), false).await;
    assert_eq!(done["status"], "completed", "{done}");
    let started = of_type(&events, "tool.started");
    assert_eq!(
        started.len(),
        2,
        "both attempts are in the history: {events:?}"
    );
    let call_id = started[0]["data"]["toolCallId"].as_str().unwrap();
    assert_eq!(started[1]["data"]["toolCallId"], call_id);
    assert_eq!(started[1]["data"]["attempt"], 2);
    let key = format!("{task}:{call_id}");
    assert_eq!(
        keys,
        [key.clone(), key],
        "run again once, with the same key"
    );
    let finished = of_type(&events, "tool.done");
    assert_eq!(finished.len(), 1, "{events:?}");
    assert_eq!(finished[0]["data"]["result"], json!({"charged": 2}));
    let results: Vec<&Value> = done["output"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["parts"].as_array().unwrap())
        .filter(|p| p["kind"] == "tool_result")
        .collect();
    assert_eq!(results.len(), 1, "{done}");
    assert_eq!(
        results[0]["metadata"],
        json!({"attempts": 2}),
        "the history tells: {done}"
    );
    let tools: Vec<&Value> = spans
        .iter()
        .filter(|s| s["name"] == "tool charge")
        .collect();
    assert_eq!(
        tools
            .iter()
            .map(|s| s["status"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["interrupted", "ok"],
        "the trace shows both attempts: {spans:?}"
    );
}
