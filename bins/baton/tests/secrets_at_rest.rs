//! A planted secret (an HTTP tool's header, an MCP server's header, a run's secret variable, a
//! schedule's secret variable) is used where it must be, and appears nowhere else: not in the
//! raw database files, not in the server's debug logs, not in any API answer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_testkit::{FakeProvider, Flavor, SeenRequest, Turn};
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

const KEY: &str = "secrets-admin-key";
const SECRET: &str = "PLANTED-9f8e7d6c5b4a";

async fn call(
    client: &reqwest::Client,
    url: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> String {
    let mut req = client
        .request(method, format!("{url}{path}"))
        .bearer_auth(KEY);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {text}");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_secret_is_used_but_never_stored_logged_or_returned() {
    // A loopback API that records the Authorization header it receives.
    let recorder = baton_e2e::AuthRecorder::start().await;
    let api = recorder.url.clone();
    let fake = FakeProvider::start(Flavor::OpenAi).await;
    fake.set_responder(Arc::new(|req: &SeenRequest| {
        if req.tool_results == 0 {
            Turn::tool_calls(vec![("crm", json!({"customer": "c-1"}))])
        } else {
            Turn::text("looked it up")
        }
    }));

    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let mut serve = baton_e2e::Serve::new(env!("CARGO_BIN_EXE_baton"), KEY, dir.path())
        .model(&fake.base_url())
        .loopback_tools()
        .env("RUST_LOG", "debug");
    serve
        .command()
        .stderr(std::fs::File::create(&log_path).unwrap());
    let (mut child, url) = serve.spawn();
    let client = reqwest::Client::new();
    let mut answers = Vec::new();
    answers.push(call(&client, &url, reqwest::Method::POST, "/v2/tools", Some(json!({
        "key": "crm", "path": "Default", "description": "CRM lookup", "type": "http",
        "http": {"blueprint": {"url": format!("{api}/customers/{{{{customer}}}}"), "method": "GET",
                 "headers": {"Authorization": {"value": format!("Bearer {SECRET}"), "encrypted": true}}},
                 "arguments": {"customer": {"type": "string", "description": "Customer id"}}}}))).await);
    answers.push(
        call(
            &client,
            &url,
            reqwest::Method::POST,
            "/v2/tools",
            Some(json!({
        "key": "remote_mcp", "path": "Default", "description": "MCP", "type": "mcp",
        "mcp": {"connection_type": "http", "server_url": format!("{api}/mcp"),
                "headers": {"X-Api-Key": {"value": SECRET, "encrypted": true}}}})),
        )
        .await,
    );
    answers.push(
        call(
            &client,
            &url,
            reqwest::Method::POST,
            "/v2/agents",
            Some(json!({
        "key": "support", "role": "r", "description": "d", "path": "Default/agents",
        "instructions": "Use token {{api_token}} when asked.", "model": "openai/gpt-4o",
        "settings": {"tools": [{"type": "http", "key": "crm"}]}})),
        )
        .await,
    );
    let run = call(
        &client,
        &url,
        reqwest::Method::POST,
        "/v2/agents/support/responses",
        Some(json!({
        "message": {"role": "user", "parts": [{"kind": "text", "text": "Look up c-1"}]},
        "variables": {"api_token": {"secret": true, "value": SECRET}}})),
    )
    .await;
    let run_json: Value = serde_json::from_str(&run).unwrap();
    answers.push(run.clone());
    answers.push(call(&client, &url, reqwest::Method::POST, "/v3/agents/support/schedules", Some(json!({
        "type": "cron", "expression": "@daily",
        "payload": {"input": "daily", "variables": {"api_token": {"secret": true, "value": SECRET}}}}))).await);
    for path in [
        "/v2/tools/crm".to_owned(),
        "/v2/tools/remote_mcp".to_owned(),
        "/v2/tools".to_owned(),
        "/v2/agents/support".to_owned(),
        format!(
            "/v2/agents/support/responses/{}",
            run_json["task_id"].as_str().unwrap()
        ),
        format!(
            "/v3/traces/{}",
            run_json["telemetry"]["trace_id"].as_str().unwrap()
        ),
        format!(
            "/v3/traces/{}/spans",
            run_json["telemetry"]["trace_id"].as_str().unwrap()
        ),
        "/v3/agents/support/schedules".to_owned(),
    ] {
        answers.push(call(&client, &url, reqwest::Method::GET, &path, None).await);
    }
    // The secret did its job: the API got it, and the model saw the variable in its prompt.
    assert_eq!(recorder.seen().as_slice(), [format!("Bearer {SECRET}")]);
    assert!(fake.requests()[0].to_string().contains(SECRET));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = child.kill();
    let _ = child.wait();

    for answer in &answers {
        assert!(
            !answer.contains(SECRET),
            "an API answer shows the secret: {answer}"
        );
    }
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logs.contains("DEBUG") || logs.contains("debug"),
        "debug logs were written"
    );
    assert!(!logs.contains(SECRET), "the logs show the secret");
    let mut scanned = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("baton.db") {
            let bytes = std::fs::read(&path).unwrap();
            scanned += bytes.len();
            assert!(
                !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
                "{name} holds the secret in clear"
            );
        }
    }
    assert!(scanned > 0, "the database files were scanned");
}

/// Starts `baton serve` with only `vars` of the provider variables set; returns its log.
#[allow(clippy::disallowed_methods)] // the test runs the real server binary
fn start_log_with(vars: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_baton"));
    cmd.arg("serve")
        .current_dir(dir.path())
        .env("BATON_LISTEN", "127.0.0.1:0")
        .env("BATON_API_KEY", KEY)
        .env("BATON_DATA_DIR", dir.path())
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(&log_path).unwrap()));
    for name in baton::config::PROVIDER_VARIABLES {
        cmd.env_remove(name);
    }
    for (name, value) in vars {
        cmd.env(name, value);
    }
    let mut child = cmd.spawn().unwrap();
    baton_e2e::listening_url(&mut child);
    let _ = child.kill();
    let _ = child.wait();
    std::fs::read_to_string(&log_path).unwrap()
}

#[test]
fn the_start_log_names_the_set_up_providers_but_never_their_keys() {
    let log = start_log_with(&[("OPENAI_API_KEY", SECRET)]);
    let line = log
        .lines()
        .find(|l| l.contains("model providers"))
        .unwrap_or_else(|| panic!("no providers line in: {log}"));
    assert!(line.contains("set_up=openai"), "{line}");
    assert!(
        line.contains("anthropic") && line.contains("google"),
        "{line}"
    );
    assert!(!log.contains(SECRET), "the log shows the key: {log}");

    let log = start_log_with(&[]);
    assert!(
        log.contains("no model provider is set up") && log.contains("OPENAI_API_KEY"),
        "{log}"
    );
}
