//! The `baton` CLI against a real server: every noun's commands run as the built binary, over
//! HTTP, against a server whose model is the testkit's fake provider.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_e2e::{Backend, Options, TestServer, API_KEY};
use baton_testkit::{FakeProvider, Flavor, Turn};
use serde_json::{json, Value};

/// What one run of the CLI printed and how it exited.
struct Ran {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

/// Runs `baton args…` with `BATON_URL` and `BATON_API_KEY` (when given) set.
#[allow(clippy::disallowed_methods)] // the test runs the real binary
async fn baton(url: &str, key: Option<&str>, args: &[&str]) -> Ran {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_baton"));
    command
        .args(args)
        .env("BATON_URL", url)
        .env_remove("BATON_API_KEY");
    if let Some(key) = key {
        command.env("BATON_API_KEY", key);
    }
    let out = command.output().await.unwrap();
    Ran {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `baton args…` as the admin and insists it succeeded.
async fn ok(url: &str, args: &[&str]) -> Ran {
    let ran = baton(url, Some(API_KEY), args).await;
    assert!(
        ran.ok,
        "baton {args:?} failed:\n{}\n{}",
        ran.stdout, ran.stderr
    );
    ran
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_drives_a_real_server() {
    let fake = FakeProvider::start(Flavor::OpenAi).await;
    let options = Options::default()
        .env("OPENAI_BASE_URL", fake.base_url())
        .env("OPENAI_API_KEY", "sk-test");
    let server = TestServer::start_opts(Backend::Sqlite, Some(API_KEY), options).await;
    let url = server.url.as_str();
    let dir = tempfile::tempdir().unwrap();

    // Agents.
    let file = dir.path().join("agent.json");
    std::fs::write(
        &file,
        json!({"key": "helper", "role": "Assistant", "description": "Tells the date",
            "instructions": "Help {{customer}}.", "path": "Default", "model": "openai/gpt-4o",
            "settings": {"tools": [{"type": "current_date"}]}})
        .to_string(),
    )
    .unwrap();
    let created = ok(url, &["agents", "create", "-f", file.to_str().unwrap()]).await;
    assert!(
        created.stdout.contains("created agent helper"),
        "{}",
        created.stdout
    );
    let listed = ok(url, &["agents", "list"]).await;
    assert!(
        listed.stdout.contains("KEY") && listed.stdout.contains("helper"),
        "{}",
        listed.stdout
    );
    assert!(listed.stdout.contains("openai/gpt-4o"), "{}", listed.stdout);
    let listed = ok(url, &["agents", "list", "-o", "json"]).await.json();
    assert_eq!(listed["data"][0]["key"], "helper");
    let got = ok(url, &["agents", "get", "helper"]).await;
    assert!(got.stdout.contains("current_date"), "{}", got.stdout);

    // A plain run: the tool call, its result and the answer, then the task's state.
    fake.push(Turn::tool_calls(vec![("current_date", json!({}))]));
    fake.push(Turn::text("It is a fine day."));
    let ran = ok(
        url,
        &["run", "helper", "What day is it?", "--var", "customer=Ann"],
    )
    .await;
    assert!(ran.stdout.contains("→ tool current_date"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("← result current_date"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("It is a fine day."), "{}", ran.stdout);
    assert!(ran.stdout.contains(": completed"), "{}", ran.stdout);
    let seen = fake.requests();
    assert!(
        seen[0].to_string().contains("Help Ann."),
        "the variable reached the model"
    );

    // Streamed: deltas and tool lines as they come, then the state.
    fake.push(Turn::tool_calls(vec![("current_date", json!({}))]));
    fake.push(Turn::text("Streamed answer."));
    let streamed = ok(url, &["run", "helper", "And now?", "--stream"]).await;
    assert!(
        streamed.stdout.contains("→ tool current_date"),
        "{}",
        streamed.stdout
    );
    assert!(
        streamed.stdout.contains("Streamed answer."),
        "{}",
        streamed.stdout
    );
    assert!(
        streamed.stdout.contains(": completed"),
        "{}",
        streamed.stdout
    );

    // A client-side tool pauses the task: the end says what it waits for.
    let (status, body) = server
        .call(
            reqwest::Method::POST,
            "/v2/tools",
            Some(
                json!({"path": "Default", "key": "get_weather", "description": "Weather",
                "type": "function", "status": "live", "function": {"name": "get_weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                    "required": ["city"]}}}),
            ),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let (status, body2) = server
        .call(
            reqwest::Method::POST,
            "/v2/agents",
            Some(
                json!({"key": "weather", "role": "r", "description": "d", "instructions": "i",
                "path": "Default", "model": "openai/gpt-4o",
                "settings": {"tools": [{"type": "function", "key": "get_weather"}]}}),
            ),
        )
        .await;
    assert!(status.is_success(), "{body2}");
    fake.push(Turn::tool_calls(vec![(
        "get_weather",
        json!({"city": "Paris"}),
    )]));
    let paused = ok(url, &["run", "weather", "Weather in Paris?", "--stream"]).await;
    assert!(
        paused.stdout.contains(": input-required"),
        "{}",
        paused.stdout
    );
    assert!(
        paused.stdout.contains("pending: tool get_weather"),
        "{}",
        paused.stdout
    );
    assert!(paused.stdout.contains("Paris"), "{}", paused.stdout);

    // JSON output is the API's body; it names the task and the trace.
    fake.push(Turn::text("Third."));
    let third = ok(url, &["run", "helper", "Once more", "-o", "json"])
        .await
        .json();
    let task_id = third["task_id"].as_str().unwrap().to_owned();
    let trace_id = third["telemetry"]["trace_id"].as_str().unwrap().to_owned();
    fake.push(Turn::text("Continued."));
    let continued = ok(
        url,
        &["run", "helper", "Go on", "--task", &task_id, "-o", "json"],
    )
    .await
    .json();
    assert_eq!(continued["task_id"], task_id.as_str());

    // Tasks.
    let tasks = ok(url, &["tasks", "list", "-o", "json"]).await.json();
    assert_eq!(tasks["data"].as_array().unwrap().len(), 4, "{tasks}");
    assert_eq!(tasks["data"][0]["_id"], task_id.as_str());
    let table = ok(
        url,
        &["tasks", "list", "--agent", "helper", "--state", "completed"],
    )
    .await;
    assert!(table.stdout.contains(&task_id), "{}", table.stdout);
    let shown = ok(url, &["tasks", "get", &task_id]).await;
    assert!(
        shown.stdout.contains("completed") && shown.stdout.contains("Continued."),
        "{}",
        shown.stdout
    );
    let canceled = ok(url, &["tasks", "cancel", &task_id]).await;
    assert!(
        canceled.stdout.contains("not running"),
        "{}",
        canceled.stdout
    );

    // Traces: a tree with durations and tokens.
    let trace = ok(url, &["traces", "show", &trace_id]).await;
    assert!(trace.stdout.contains("└─"), "{}", trace.stdout);
    assert!(trace.stdout.contains(" ms"), "{}", trace.stdout);
    assert!(
        trace.stdout.contains("[llm]") && trace.stdout.contains("tokens"),
        "{}",
        trace.stdout
    );
    let spans = ok(url, &["traces", "show", &trace_id, "-o", "json"])
        .await
        .json();
    assert!(!spans["spans"].as_array().unwrap().is_empty());

    // Schedules.
    let schedule = ok(
        url,
        &[
            "schedules",
            "create",
            "helper",
            "@every 2h",
            "--input",
            "digest",
            "--name",
            "digest",
            "-o",
            "json",
        ],
    )
    .await
    .json();
    assert_eq!(schedule["type"], "interval");
    let id = schedule["_id"].as_str().unwrap().to_owned();
    let listed = ok(url, &["schedules", "list", "helper"]).await;
    assert!(
        listed.stdout.contains(&id) && listed.stdout.contains("@every 2h"),
        "{}",
        listed.stdout
    );
    ok(url, &["schedules", "pause", "helper", &id]).await;
    let paused = ok(url, &["schedules", "list", "helper", "-o", "json"])
        .await
        .json();
    assert_eq!(paused["schedules"][0]["is_active"], false);
    let refused = baton(url, Some(API_KEY), &["schedules", "trigger", "helper", &id]).await;
    assert!(!refused.ok, "a paused schedule cannot be triggered");
    ok(url, &["schedules", "resume", "helper", &id]).await;
    let resumed = ok(url, &["schedules", "list", "helper", "-o", "json"])
        .await
        .json();
    assert_eq!(resumed["schedules"][0]["is_active"], true);
    fake.push(Turn::text("Digest."));
    let triggered = ok(url, &["schedules", "trigger", "helper", &id]).await;
    assert!(
        triggered.stdout.contains("triggered"),
        "{}",
        triggered.stdout
    );
    ok(url, &["schedules", "delete", "helper", &id]).await;
    let gone = ok(url, &["schedules", "list", "helper", "-o", "json"])
        .await
        .json();
    assert_eq!(gone["schedules"], json!([]));

    // Keys: the secret is printed once and works.
    let key = ok(
        url,
        &["keys", "create", "ci", "--scope", "run", "-o", "json"],
    )
    .await
    .json();
    let secret = key["key"].as_str().unwrap().to_owned();
    let with_new_key = baton(url, Some(&secret), &["agents", "list", "-o", "json"]).await;
    assert!(with_new_key.ok, "{}", with_new_key.stderr);
    let keys = ok(url, &["keys", "list"]).await;
    assert!(
        keys.stdout.contains("ci") && !keys.stdout.contains(&secret),
        "{}",
        keys.stdout
    );
    ok(url, &["keys", "delete", key["_id"].as_str().unwrap()]).await;
    let revoked = baton(url, Some(&secret), &["agents", "list"]).await;
    assert!(!revoked.ok);

    // Agents are deleted last: the tasks above named them.
    ok(url, &["agents", "delete", "helper"]).await;
    let missing = baton(url, Some(API_KEY), &["agents", "get", "helper"]).await;
    assert!(
        !missing.ok && missing.stderr.contains("404"),
        "{}",
        missing.stderr
    );

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_say_what_went_wrong_and_exit_non_zero() {
    let server = TestServer::start(Backend::Sqlite).await;
    let url = server.url.as_str();
    // The server's own message, as its JSON error body gives it.
    let (status, body) = server
        .call_as(Some("wrong-key"), reqwest::Method::GET, "/v2/agents", None)
        .await;
    let message = body["error"]["message"]
        .as_str()
        .or(body["message"].as_str())
        .unwrap()
        .to_owned();
    let bad = baton(url, Some("wrong-key"), &["agents", "list"]).await;
    assert!(!bad.ok);
    assert!(bad.stderr.contains(status.as_str()), "{}", bad.stderr);
    assert!(bad.stderr.contains(&message), "{}", bad.stderr);
    assert!(bad.stdout.is_empty());
    // A bad field is named.
    let state = baton(url, Some(API_KEY), &["tasks", "list", "--state", "done"]).await;
    assert!(
        !state.ok && state.stderr.contains("state: `done` is not a task state"),
        "{}",
        state.stderr
    );

    let none = baton(url, None, &["tasks", "list"]).await;
    assert!(
        !none.ok && none.stderr.contains("no API key"),
        "{}",
        none.stderr
    );
    server.stop().await;

    let unreachable = baton("http://127.0.0.1:9", Some(API_KEY), &["agents", "list"]).await;
    assert!(!unreachable.ok);
    assert!(
        unreachable.stderr.contains("cannot reach the server"),
        "{}",
        unreachable.stderr
    );
}

#[tokio::test]
async fn completions_are_generated_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let ran = baton("http://unused", None, &["completions", shell]).await;
        assert!(ran.ok, "{}", ran.stderr);
        assert!(
            ran.stdout.contains("baton") && ran.stdout.contains("schedules"),
            "{shell}"
        );
    }
}
