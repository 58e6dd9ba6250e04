//! Agent runs over the responses API against the testkit's fake vendor servers.

use crate::function_tool;
use baton_e2e::{backends, read_sse, Backend, Options, TestServer};
use baton_testkit::{FakeProvider, Flavor, Turn};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

/// A server whose `openai`, `anthropic` and `google` providers point at fakes.
pub struct Rig {
    pub s: TestServer,
    pub openai: FakeProvider,
    pub anthropic: FakeProvider,
    pub gemini: FakeProvider,
}

impl Rig {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, Options::default()).await
    }

    pub async fn start_with(backend: Backend, options: Options) -> Self {
        let openai = FakeProvider::start(Flavor::OpenAi).await;
        let anthropic = FakeProvider::start(Flavor::Anthropic).await;
        let gemini = FakeProvider::start(Flavor::Gemini).await;
        let options = options
            .env("OPENAI_BASE_URL", openai.base_url())
            .env("OPENAI_API_KEY", "sk-test-openai")
            .env("ANTHROPIC_BASE_URL", anthropic.base_url())
            .env("ANTHROPIC_API_KEY", "sk-test-anthropic")
            .env("GEMINI_BASE_URL", gemini.base_url())
            .env("GEMINI_API_KEY", "test-gemini");
        let s = TestServer::start_opts(backend, Some(baton_e2e::API_KEY), options).await;
        Self {
            s,
            openai,
            anthropic,
            gemini,
        }
    }

    /// `options` with this rig's provider variables (for restarting its server).
    pub fn options(&self, options: Options) -> Options {
        options
            .env("OPENAI_BASE_URL", self.openai.base_url())
            .env("OPENAI_API_KEY", "sk-test-openai")
            .env("ANTHROPIC_BASE_URL", self.anthropic.base_url())
            .env("ANTHROPIC_API_KEY", "sk-test-anthropic")
            .env("GEMINI_BASE_URL", self.gemini.base_url())
            .env("GEMINI_API_KEY", "test-gemini")
    }

    pub async fn agent(&self, key: &str, model: &str, extra: Value) -> Value {
        let mut body = json!({"key": key, "role": "Assistant", "description": "Helps",
            "instructions": "Help {{customer}} briefly.", "path": "Default/agents", "model": model,
            "variables": {"customer": "the customer"}});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let (st, agent) = self.s.call(Method::POST, "/v2/agents", Some(body)).await;
        assert_eq!(st, StatusCode::CREATED, "{agent}");
        agent
    }

    pub async fn respond(&self, key: &str, body: Value) -> (StatusCode, Value) {
        self.s
            .call(
                Method::POST,
                &format!("/v2/agents/{key}/responses"),
                Some(body),
            )
            .await
    }

    pub async fn poll_until_inactive(&self, key: &str, task: &str) -> Value {
        for _ in 0..200 {
            let (st, body) = self
                .s
                .call(
                    Method::GET,
                    &format!("/v2/agents/{key}/responses/{task}"),
                    None,
                )
                .await;
            assert_eq!(st, StatusCode::OK, "{body}");
            if body["status"] != "in_progress" {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("task {task} still in progress");
    }
}

pub fn user(text: &str) -> Value {
    json!({"role": "user", "parts": [{"kind": "text", "text": text}]})
}

fn kinds(output: &Value) -> Vec<String> {
    output
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| {
            m["parts"].as_array().unwrap().iter().map(|p| {
                format!(
                    "{}:{}",
                    m["role"].as_str().unwrap(),
                    p["kind"].as_str().unwrap()
                )
            })
        })
        .collect()
}

#[tokio::test]
async fn sync_run_calls_a_server_tool_then_answers_on_every_vendor() {
    for backend in backends() {
        let rig = Rig::start(backend).await;
        for (key, model, fake) in [
            ("oa", "openai/gpt-4o", &rig.openai),
            ("an", "anthropic/claude-sonnet-4", &rig.anthropic),
            ("gm", "google/gemini-2.5-flash", &rig.gemini),
        ] {
            rig.agent(
                key,
                model,
                json!({"settings": {"tools": [{"type": "current_date"}]}}),
            )
            .await;
            fake.push(Turn::tool_calls(vec![("current_date", json!({}))]));
            fake.push(Turn::text("Today is a fine day."));
            let (st, r) = rig
                .respond(
                    key,
                    json!({"message": user("What day is it?"), "variables": {"customer": "Ada"}}),
                )
                .await;
            assert_eq!(st, StatusCode::OK, "{model}: {r}");
            assert_eq!(r["status"]["state"], "completed", "{model}: {r}");
            assert_eq!(r["finish_reason"], "stop");
            assert_eq!(r["id"], r["task_id"]);
            assert_eq!(r["kind"], "task");
            assert_eq!(r["model"], model);
            assert_eq!(
                kinds(&r["output"]),
                ["agent:tool_call", "tool:tool_result", "agent:text"],
                "{model}: {r}"
            );
            assert_eq!(r["output"][2]["parts"][0]["text"], "Today is a fine day.");
            assert!(r["output"][1]["parts"][0]["result"]["date"].is_string());
            assert!(r["usage"]["total_tokens"].as_u64().unwrap() > 0, "{r}");
            let requests = fake.requests();
            assert_eq!(requests.len(), 2, "{model}");
            let first = requests[0].to_string();
            assert!(
                first.contains("Help Ada briefly."),
                "{model}: variables render into the system prompt: {first}"
            );
            assert!(
                first.contains("current_date"),
                "{model}: the tool is offered"
            );
        }
        rig.s.stop().await;
    }
}

#[tokio::test]
async fn function_tools_pause_and_the_task_continues_with_results_and_new_turns() {
    for backend in backends() {
        let rig = Rig::start(backend).await;
        rig.s
            .call(
                Method::POST,
                "/v2/tools",
                Some(function_tool("get_weather")),
            )
            .await;
        rig.agent(
            "weather",
            "openai/gpt-4o",
            json!({"settings": {"tools": [
            {"type": "current_date"}, {"type": "function", "key": "get_weather"}]}}),
        )
        .await;
        // One turn asks for a server tool and a client tool in parallel.
        rig.openai.push(Turn::tool_calls(vec![
            ("current_date", json!({})),
            ("get_weather", json!({"city": "Paris"})),
        ]));
        let (st, r) = rig
            .respond("weather", json!({"message": user("Weather in Paris?")}))
            .await;
        assert_eq!(st, StatusCode::OK, "{r}");
        assert_eq!(r["status"]["state"], "input-required", "{r}");
        assert_eq!(r["finish_reason"], "tool_calls");
        let pending = r["pending_tool_calls"].as_array().unwrap();
        assert_eq!(
            pending.len(),
            1,
            "only the client-side call is pending: {r}"
        );
        assert_eq!(pending[0]["function"]["name"], "get_weather");
        let args: Value =
            serde_json::from_str(pending[0]["function"]["arguments"].as_str().unwrap()).unwrap();
        assert_eq!(args, json!({"city": "Paris"}));
        let call_id = pending[0]["id"].as_str().unwrap().to_owned();
        let task = r["task_id"].as_str().unwrap().to_owned();

        // Wrong call id, then a user message while a call is pending: both 400, nothing changes.
        let bad = json!({"task_id": task, "message": {"role": "tool", "parts": [
            {"kind": "tool_result", "tool_call_id": "nope", "result": 1}]}});
        let (st, body) = rig.respond("weather", bad).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
        let (st, body) = rig
            .respond(
                "weather",
                json!({"task_id": task, "message": user("hello?")}),
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");

        rig.openai.push(Turn::text("Sunny, 21°C."));
        let (st, r2) = rig.respond("weather", json!({"task_id": task, "message": {"role": "tool", "parts": [
            {"kind": "tool_result", "tool_call_id": call_id, "result": {"sky": "sunny", "temp": 21}}]}})).await;
        assert_eq!(st, StatusCode::OK, "{r2}");
        assert_eq!(r2["task_id"], task.as_str());
        assert_ne!(r2["_id"], r["_id"], "each response has its own id");
        assert_eq!(r2["status"]["state"], "completed");
        assert_eq!(
            r2["output"].as_array().unwrap().last().unwrap()["parts"][0]["text"],
            "Sunny, 21°C."
        );
        let sent = rig.openai.requests()[1].to_string();
        assert!(
            sent.contains("sunny") && sent.contains(&call_id),
            "the result reached the model: {sent}"
        );

        rig.openai.push(Turn::text("You asked about Paris."));
        let (st, r3) = rig
            .respond(
                "weather",
                json!({"task_id": task, "message": user("What did I ask?")}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{r3}");
        assert_eq!(r3["status"]["state"], "completed");
        let third = rig.openai.requests()[2].to_string();
        assert!(
            third.contains("Weather in Paris?") && third.contains("Sunny, 21"),
            "history is kept server-side: {third}"
        );

        let (st, body) = rig
            .respond(
                "weather",
                json!({"task_id": "01NOSUCHTASK000000000000", "message": user("x")}),
            )
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{body}");
        rig.s.stop().await;
    }
}

#[tokio::test]
async fn invalid_tool_arguments_go_back_to_the_model() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.s
        .call(
            Method::POST,
            "/v2/tools",
            Some(function_tool("get_weather")),
        )
        .await;
    rig.agent(
        "strict",
        "openai/gpt-4o",
        json!({"settings": {"tools": [{"type": "function", "key": "get_weather"}]}}),
    )
    .await;
    rig.openai
        .push(Turn::tool_calls(vec![("get_weather", json!({"town": 5}))]));
    rig.openai.push(Turn::text("Which city?"));
    let (st, r) = rig
        .respond("strict", json!({"message": user("Weather?")}))
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["status"]["state"], "completed", "{r}");
    let second = rig.openai.requests()[1].to_string();
    assert!(
        second.contains("invalid arguments") && second.contains("city"),
        "{second}"
    );
    rig.s.stop().await;
}

#[tokio::test]
async fn background_runs_answer_at_once_and_are_polled() {
    for backend in backends() {
        let rig = Rig::start(backend).await;
        rig.agent("bg", "openai/gpt-4o", json!({})).await;
        rig.openai
            .push(Turn::text("done in the background").with_delay(Duration::from_millis(300)));
        let (st, r) = rig
            .respond("bg", json!({"message": user("go"), "background": true}))
            .await;
        assert_eq!(st, StatusCode::OK, "{r}");
        assert_eq!(r["status"]["state"], "submitted");
        assert_eq!(r["output"], json!([]));
        let task = r["task_id"].as_str().unwrap();
        let (_, early) = rig
            .s
            .call(
                Method::GET,
                &format!("/v2/agents/bg/responses/{task}"),
                None,
            )
            .await;
        assert_eq!(early["status"], "in_progress", "{early}");
        assert_eq!(early["output"], json!([]));
        let done = rig.poll_until_inactive("bg", task).await;
        assert_eq!(done["status"], "completed", "{done}");
        assert_eq!(done["finish_reason"], "stop");
        assert_eq!(
            done["output"][0]["parts"][0]["text"],
            "done in the background"
        );
        let (st, _) = rig
            .s
            .call(
                Method::GET,
                "/v2/agents/bg/responses/01NOSUCHTASK000000000000",
                None,
            )
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        rig.s.stop().await;
    }
}

#[tokio::test]
async fn a_running_task_refuses_new_messages_with_409() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.agent("busy", "openai/gpt-4o", json!({})).await;
    rig.openai
        .push(Turn::text("slow").with_delay(Duration::from_millis(1500)));
    let (_, r) = rig
        .respond("busy", json!({"message": user("go"), "background": true}))
        .await;
    let task = r["task_id"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (st, body) = rig
        .respond("busy", json!({"task_id": task, "message": user("again")}))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{body}");
    rig.poll_until_inactive("busy", task).await;
    rig.s.stop().await;
}

#[tokio::test]
async fn streamed_runs_emit_orq_events_and_resume_from_last_event_id() {
    for backend in backends() {
        let rig = Rig::start(backend).await;
        rig.agent(
            "st",
            "openai/gpt-4o",
            json!({"settings": {"tools": [{"type": "current_date"}]}}),
        )
        .await;
        rig.openai
            .push(Turn::tool_calls(vec![("current_date", json!({}))]));
        rig.openai.push(Turn::text("one two three four"));
        let resp = rig
            .s
            .request(Method::POST, "/v2/agents/st/responses")
            .bearer_auth(baton_e2e::API_KEY)
            .json(&json!({"message": user("count"), "stream": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        let events = read_sse(resp, 1000).await;
        let types: Vec<String> = events.iter().map(|e| e.kind()).collect();
        assert_eq!(
            types.first().map(String::as_str),
            Some("response.started"),
            "{types:?}"
        );
        assert_eq!(types.last().map(String::as_str), Some("[DONE]"));
        assert_eq!(types[types.len() - 2], "response.done");
        for t in ["tool.started", "tool.done", "part.delta", "part.done"] {
            assert!(types.iter().any(|x| x == t), "{t} missing from {types:?}");
        }
        let allowed = [
            "response.started",
            "part.delta",
            "part.done",
            "tool.started",
            "tool.done",
            "tool.failed",
            "tool.review.requested",
            "tool.review.done",
            "response.done",
            "response.failed",
            "[DONE]",
        ];
        assert!(
            types.iter().all(|t| allowed.contains(&t.as_str())),
            "{types:?}"
        );
        let deltas: String = events
            .iter()
            .filter(|e| e.kind() == "part.delta")
            .map(|e| {
                e.json()["data"]["delta"]["text"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(deltas, "one two three four");
        let ids: Vec<u64> = events
            .iter()
            .filter_map(|e| e.id.as_ref())
            .map(|i| i.parse().unwrap())
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
        let started = events[0].json();
        let task = started["data"]["taskId"].as_str().unwrap().to_owned();
        let done = &events[events.len() - 2].json();
        assert_eq!(done["data"]["finishReason"], "stop");

        // Reconnect after the tool events: only what came later, no replay from zero.
        let tool_done = events.iter().find(|e| e.kind() == "tool.done").unwrap();
        let resp = rig
            .s
            .request(
                Method::GET,
                &format!("/v2/agents/st/responses/{task}/stream"),
            )
            .bearer_auth(baton_e2e::API_KEY)
            .header("Last-Event-ID", tool_done.id.clone().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let rest: Vec<String> = read_sse(resp, 1000)
            .await
            .iter()
            .map(|e| e.kind())
            .collect();
        assert_eq!(
            rest,
            ["part.done", "response.done", "[DONE]"],
            "persisted events after the tool (deltas are live-only)"
        );
        rig.s.stop().await;
    }
}

#[tokio::test]
async fn a_stream_reconnected_mid_run_gets_the_rest_live() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.agent(
        "live",
        "openai/gpt-4o",
        json!({"settings": {"tools": [{"type": "current_date"}]}}),
    )
    .await;
    rig.openai
        .push(Turn::tool_calls(vec![("current_date", json!({}))]));
    rig.openai
        .push(Turn::text("late answer").with_delay(Duration::from_millis(800)));
    let resp = rig
        .s
        .request(Method::POST, "/v2/agents/live/responses")
        .bearer_auth(baton_e2e::API_KEY)
        .json(&json!({"message": user("go"), "stream": true}))
        .send()
        .await
        .unwrap();
    let first = read_sse(resp, 3).await; // response.started, tool.started, tool.done; then hang up
    assert_eq!(
        first.iter().map(|e| e.kind()).collect::<Vec<_>>(),
        ["response.started", "tool.started", "tool.done"]
    );
    let task = first[0].json()["data"]["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = rig
        .s
        .request(
            Method::GET,
            &format!("/v2/agents/live/responses/{task}/stream"),
        )
        .bearer_auth(baton_e2e::API_KEY)
        .header("Last-Event-ID", first[2].id.clone().unwrap())
        .send()
        .await
        .unwrap();
    let rest: Vec<String> = read_sse(resp, 1000)
        .await
        .iter()
        .map(|e| e.kind())
        .filter(|k| k != "part.delta")
        .collect();
    assert_eq!(rest, ["part.done", "response.done", "[DONE]"]);
    rig.s.stop().await;
}

/// `baton_live_streams` of the server's `/metrics`.
async fn live_streams(s: &TestServer) -> u64 {
    let text = s
        .request(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("baton_live_streams "))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no baton_live_streams in {text}"))
}

#[tokio::test]
async fn event_streams_hold_nothing_for_unknown_tasks_nor_after_the_run() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.agent("held", "openai/gpt-4o", json!({})).await;
    for i in 0..50 {
        let (st, body) = rig
            .s
            .call(
                Method::GET,
                &format!("/v2/agents/held/responses/unknown-{i}/stream"),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{body}");
    }
    assert_eq!(live_streams(&rig.s).await, 0, "unknown tasks keep nothing");

    rig.openai
        .push(Turn::text("slow answer").with_delay(Duration::from_millis(1500)));
    let first = rig
        .s
        .request(Method::POST, "/v2/agents/held/responses")
        .bearer_auth(baton_e2e::API_KEY)
        .json(&json!({"message": user("go"), "stream": true}))
        .send()
        .await
        .unwrap();
    let mut first_events = first.bytes_stream();
    use futures_util::StreamExt;
    let chunk = first_events.next().await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&chunk).into_owned();
    let task = text
        .split("\"taskId\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no taskId in {text}"))
        .to_owned();
    assert_eq!(live_streams(&rig.s).await, 1, "the streamed run listens");
    let second = rig
        .s
        .request(
            Method::GET,
            &format!("/v2/agents/held/responses/{task}/stream"),
        )
        .bearer_auth(baton_e2e::API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), StatusCode::OK);
    // The first client hangs up mid-run; the second reads to the end.
    drop(first_events);
    let rest = read_sse(second, 1000).await;
    assert_eq!(rest.last().unwrap().kind(), "[DONE]");
    let mut left = u64::MAX;
    for _ in 0..100 {
        left = live_streams(&rig.s).await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(left, 0, "the ended run's channel is released");
    rig.s.stop().await;
}

#[tokio::test]
async fn a_turn_is_stored_before_its_last_event_reaches_the_client() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.agent("quick", "openai/gpt-4o", json!({})).await;
    for i in 0..40 {
        rig.openai.push(Turn::text("done"));
        let resp = rig
            .s
            .request(Method::POST, "/v2/agents/quick/responses")
            .bearer_auth(baton_e2e::API_KEY)
            .json(&json!({"message": user("go"), "stream": true}))
            .send()
            .await
            .unwrap();
        let events = read_sse(resp, 1000).await;
        let task = events[0].json()["data"]["taskId"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(events[events.len() - 2].kind(), "response.done");
        // Read at once, as a client does on seeing response.done.
        let (st, polled) = rig
            .s
            .call(
                Method::GET,
                &format!("/v2/agents/quick/responses/{task}"),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(polled["status"], "completed", "run {i}: {polled}");
    }
    rig.s.stop().await;
}

#[tokio::test]
async fn limits_end_runs_with_the_matching_finish_reason() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.agent(
        "loop",
        "openai/gpt-4o",
        json!({"settings": {"max_iterations": 2, "tools": [{"type": "current_date"}]}}),
    )
    .await;
    rig.openai
        .set_responder(std::sync::Arc::new(|_req: &baton_testkit::SeenRequest| {
            Turn::tool_calls(vec![("current_date", json!({}))])
        }));
    let (st, r) = rig
        .respond("loop", json!({"message": user("forever")}))
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(
        (r["status"]["state"].as_str(), r["finish_reason"].as_str()),
        (Some("completed"), Some("max_iterations")),
        "{r}"
    );
    assert_eq!(rig.openai.request_count(), 2);

    rig.agent(
        "slow",
        "openai/gpt-4o",
        json!({"settings": {"max_execution_time": 2}}),
    )
    .await;
    rig.openai
        .set_responder(std::sync::Arc::new(|_req: &baton_testkit::SeenRequest| {
            Turn::text("too late").with_delay(Duration::from_secs(10))
        }));
    let started = std::time::Instant::now();
    let (st, r) = rig.respond("slow", json!({"message": user("hurry")})).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["finish_reason"], "max_time", "{r}");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "the limit stops the wait: {:?}",
        started.elapsed()
    );

    rig.agent(
        "cheap",
        "openai/gpt-4o",
        json!({"settings": {"max_cost": 0.000001, "tools": [{"type": "current_date"}]}}),
    )
    .await;
    rig.openai
        .set_responder(std::sync::Arc::new(|_req: &baton_testkit::SeenRequest| {
            Turn::tool_calls(vec![("current_date", json!({}))]).with_usage(100_000, 1_000)
        }));
    let (_, r) = rig
        .respond("cheap", json!({"message": user("spend")}))
        .await;
    assert_eq!(r["status"]["state"], "failed", "{r}");
    assert!(r["error"].as_str().unwrap().contains("max_cost"), "{r}");
    rig.s.stop().await;
}

#[tokio::test]
async fn cancel_stops_a_running_task() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.agent("stop", "openai/gpt-4o", json!({})).await;
    rig.openai
        .push(Turn::text("never").with_delay(Duration::from_secs(20)));
    let (_, r) = rig
        .respond("stop", json!({"message": user("go"), "background": true}))
        .await;
    let task = r["task_id"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let (st, body) = rig
        .s
        .call(
            Method::POST,
            &format!("/v2/agents/stop/responses/{task}/cancel"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let done = rig.poll_until_inactive("stop", task).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["state"], "canceled");
    assert!(started.elapsed() < Duration::from_secs(5));
    rig.s.stop().await;
}

/// A cancel made through another server (no local wake-up) reaches the run through its next
/// checkpoint: the write that stores it returns the request, so the run stops at that step.
#[tokio::test]
async fn a_cancel_made_on_another_server_stops_the_run_at_its_next_step() {
    for backend in backends() {
        let rig = Rig::start(backend).await;
        let other = rig.s.replica().await;
        rig.agent(
            "looper",
            "openai/gpt-4o",
            json!({"settings": {"tools": [{"type": "current_date"}], "max_iterations": 100}}),
        )
        .await;
        // Every model call asks for the tool again: without the cancel it runs 100 steps.
        rig.openai
            .set_responder(std::sync::Arc::new(|_: &baton_testkit::SeenRequest| {
                Turn::tool_calls(vec![("current_date", json!({}))])
                    .with_delay(Duration::from_millis(150))
            }));
        let run = rig.respond("looper", json!({"message": user("loop")}));
        let cancel = async {
            // The run is on this server (a synchronous request holds it); find its task.
            tokio::time::sleep(Duration::from_millis(500)).await;
            let (st, list) = other
                .call(Method::GET, "/v2/tasks?agent=looper", None)
                .await;
            assert_eq!(st, StatusCode::OK, "{list}");
            let task = list["data"][0]["_id"].as_str().expect("a task").to_owned();
            let (st, body) = other
                .call(
                    Method::POST,
                    &format!("/v2/agents/looper/responses/{task}/cancel"),
                    None,
                )
                .await;
            assert_eq!(st, StatusCode::OK, "{body}");
            rig.openai.request_count()
        };
        let ((st, r), calls_at_cancel) = tokio::join!(run, cancel);
        assert_eq!(st, StatusCode::OK, "{r}");
        assert_eq!(
            r["status"]["state"], "canceled",
            "{backend:?}: finish_reason {}",
            r["finish_reason"]
        );
        // The call in flight when the cancel came may finish; no model call starts after it.
        assert!(
            rig.openai.request_count() <= calls_at_cancel + 1,
            "{backend:?}: {} model calls, {calls_at_cancel} at the cancel",
            rig.openai.request_count()
        );
        other.stop().await;
        rig.s.stop().await;
    }
}

#[tokio::test]
async fn structured_output_is_validated_and_retried() {
    let rig = Rig::start(Backend::Sqlite).await;
    let schema = json!({"type": "object", "properties": {"mood": {"type": "string", "enum": ["good", "bad"]}},
                        "required": ["mood"]});
    rig.agent("mood", "openai/gpt-4o", json!({"output_schema": schema}))
        .await;
    rig.openai.push(Turn::text("I feel great"));
    rig.openai.push(Turn::text("{\"mood\": \"great\"}"));
    rig.openai.push(Turn::text("{\"mood\": \"good\"}"));
    let (_, r) = rig
        .respond("mood", json!({"message": user("How are you?")}))
        .await;
    assert_eq!(r["status"]["state"], "completed", "{r}");
    let last = r["output"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        serde_json::from_str::<Value>(last["parts"][0]["text"].as_str().unwrap()).unwrap(),
        json!({"mood": "good"})
    );
    let first = rig.openai.requests()[0].clone();
    assert_eq!(
        first["response_format"]["type"], "json_schema",
        "native JSON-schema mode: {first}"
    );

    rig.openai
        .set_responder(std::sync::Arc::new(|_req: &baton_testkit::SeenRequest| {
            Turn::text("nope")
        }));
    let (_, r) = rig
        .respond("mood", json!({"message": user("And now?")}))
        .await;
    assert_eq!(r["status"]["state"], "failed", "{r}");
    assert!(
        r["error"].as_str().unwrap().contains("output schema"),
        "{r}"
    );
    rig.s.stop().await;
}

#[tokio::test]
async fn retries_then_fallback_models_answer() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.agent(
        "fb",
        "openai/gpt-4o",
        json!({
        "model": {"id": "openai/gpt-4o", "retry": {"count": 2, "on_codes": [429, 500]}},
        "fallback_models": ["anthropic/claude-sonnet-4"]}),
    )
    .await;
    for status in [429, 500, 429] {
        rig.openai
            .push(Turn::error(status, json!({"error": {"message": "busy"}})));
    }
    rig.anthropic.push(Turn::text("from the fallback"));
    let (st, r) = rig.respond("fb", json!({"message": user("hi")})).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["status"]["state"], "completed", "{r}");
    assert_eq!(r["model"], "anthropic/claude-sonnet-4");
    assert_eq!(rig.openai.request_count(), 3, "one try and two retries");
    assert_eq!(rig.anthropic.request_count(), 1);

    // Every model failing fails the task with a readable error, never a hang.
    rig.openai
        .set_responder(std::sync::Arc::new(|_r: &baton_testkit::SeenRequest| {
            Turn::error(503, json!({"error": {"message": "down"}}))
        }));
    rig.anthropic
        .set_responder(std::sync::Arc::new(|_r: &baton_testkit::SeenRequest| {
            Turn::error(400, json!({"error": {"message": "bad request"}}))
        }));
    let (_, r) = rig
        .respond("fb", json!({"message": user("hi again")}))
        .await;
    assert_eq!(r["status"]["state"], "failed", "{r}");
    assert!(r["error"].as_str().unwrap().contains("bad request"), "{r}");
    rig.s.stop().await;
}

#[tokio::test]
async fn threads_share_context_and_list_their_tasks() {
    for backend in backends() {
        let rig = Rig::start(backend).await;
        rig.agent("th", "openai/gpt-4o", json!({})).await;
        rig.openai.push(Turn::text("Nice to meet you, Ada."));
        rig.openai.push(Turn::text("Your name is Ada."));
        let (_, a) = rig
            .respond(
                "th",
                json!({"message": user("I am Ada."), "thread": {"id": "th-1"}}),
            )
            .await;
        let (_, b) = rig
            .respond(
                "th",
                json!({"message": user("Who am I?"), "thread": {"id": "th-1"}}),
            )
            .await;
        assert_ne!(a["task_id"], b["task_id"]);
        assert_eq!(a["contextId"], b["contextId"]);
        let second = rig.openai.requests()[1].to_string();
        assert!(
            second.contains("I am Ada.") && second.contains("Nice to meet you"),
            "{second}"
        );
        let (st, thread) = rig.s.call(Method::GET, "/v2/threads/th-1", None).await;
        assert_eq!(st, StatusCode::OK);
        let ids: Vec<&Value> = thread["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| &t["task_id"])
            .collect();
        assert_eq!(ids, [&a["task_id"], &b["task_id"]]);
        let (st, _) = rig.s.call(Method::GET, "/v2/threads/none", None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        rig.s.stop().await;
    }
}

#[tokio::test]
async fn secret_variables_are_used_but_never_stored_or_echoed() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.agent(
        "sec",
        "openai/gpt-4o",
        json!({"instructions": "Use token {{token}}."}),
    )
    .await;
    rig.openai.push(Turn::text("ok"));
    let (_, r) = rig
        .respond(
            "sec",
            json!({"message": user("hi"),
        "variables": {"token": {"secret": true, "value": "tok-PLANTED-77"}}}),
        )
        .await;
    assert_eq!(r["status"]["state"], "completed", "{r}");
    assert!(rig.openai.requests()[0]
        .to_string()
        .contains("Use token tok-PLANTED-77."));
    assert!(!r.to_string().contains("PLANTED"));
    let task = r["task_id"].as_str().unwrap();
    let (_, polled) = rig
        .s
        .call(
            Method::GET,
            &format!("/v2/agents/sec/responses/{task}"),
            None,
        )
        .await;
    assert!(!polled.to_string().contains("PLANTED"));
    for row in rig.s.raw_table_text("tasks").await {
        assert!(!row.contains("PLANTED"), "clear secret at rest: {row}");
    }
    rig.s.stop().await;
}

#[tokio::test]
async fn bad_run_requests_are_clear_4xx() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.agent("b", "openai/gpt-4o", json!({})).await;
    let cases = [
        (json!({}), "message"),
        (
            json!({"message": {"role": "user", "parts": []}}),
            "message.parts",
        ),
        (
            json!({"message": {"role": "user", "parts": [{"kind": "video"}]}}),
            "message.parts[0]",
        ),
        (
            json!({"message": {"role": "assistant", "parts": [{"kind": "text", "text": "x"}]}}),
            "message.role",
        ),
        (
            json!({"message": {"role": "tool", "parts": [{"kind": "tool_result", "tool_call_id": "c"}]}}),
            "message.role",
        ),
        (
            json!({"message": user("x"), "background": "yes"}),
            "background",
        ),
    ];
    for (body, param) in cases {
        let (st, err) = rig.respond("b", body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {err}");
        assert!(
            err["error"]["param"]
                .as_str()
                .unwrap_or_default()
                .starts_with(param),
            "{body}: {err}"
        );
    }
    let (st, _) = rig.respond("ghost", json!({"message": user("x")})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = rig.respond("b@7", json!({"message": user("x")})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(
        rig.openai.request_count(),
        0,
        "bad input never reaches a model"
    );
    rig.s.stop().await;
}

#[tokio::test]
async fn a_task_keeps_the_agent_version_it_started_with() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.s
        .call(
            Method::POST,
            "/v2/tools",
            Some(function_tool("get_weather")),
        )
        .await;
    rig.agent(
        "ver",
        "openai/gpt-4o",
        json!({"instructions": "Version one.",
        "settings": {"tools": [{"type": "function", "key": "get_weather"}]}}),
    )
    .await;
    rig.openai.push(Turn::tool_calls(vec![(
        "get_weather",
        json!({"city": "Oslo"}),
    )]));
    let (_, r) = rig.respond("ver", json!({"message": user("Oslo?")})).await;
    let task = r["task_id"].as_str().unwrap();
    let call = r["pending_tool_calls"][0]["id"].as_str().unwrap();
    rig.s
        .call(
            Method::PATCH,
            "/v2/agents/ver",
            Some(json!({"instructions": "Version two."})),
        )
        .await;
    rig.openai.push(Turn::text("Cold."));
    rig.respond(
        "ver",
        json!({"task_id": task, "message": {"role": "tool", "parts": [
        {"kind": "tool_result", "tool_call_id": call, "result": "cold"}]}}),
    )
    .await;
    assert!(rig.openai.requests()[1]
        .to_string()
        .contains("Version one."));
    // A new task runs the live version; key@1 pins the old one.
    rig.openai.push(Turn::text("a"));
    rig.openai.push(Turn::text("b"));
    rig.respond("ver", json!({"message": user("new")})).await;
    rig.respond("ver@1", json!({"message": user("old")})).await;
    let reqs = rig.openai.requests();
    assert!(reqs[2].to_string().contains("Version two."));
    assert!(reqs[3].to_string().contains("Version one."));
    rig.s.stop().await;
}

#[tokio::test]
async fn a_model_whose_provider_is_not_set_up_fails_at_once_naming_the_variable() {
    // No provider variables at all, as on a newcomer's first `baton serve`; only Anthropic is
    // set up (pointing at a fake), so the message must name what OpenAI and Gemini lack.
    let anthropic = FakeProvider::start(Flavor::Anthropic).await;
    let options = Options::default().env("ANTHROPIC_BASE_URL", anthropic.base_url());
    let s = TestServer::start_opts(Backend::Sqlite, Some(baton_e2e::API_KEY), options).await;
    for (key, model, variable) in [
        ("gpt", "openai/gpt-4o", "OPENAI_API_KEY"),
        ("gem", "google/gemini-2.5-flash", "GEMINI_API_KEY"),
    ] {
        let (st, body) = s
            .call(
                Method::POST,
                "/v2/agents",
                Some(
                    json!({"key": key, "role": "Assistant", "description": "Helps",
                    "instructions": "Help.", "path": "Default", "model": model}),
                ),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{body}");
        let (st, r) = s
            .call(
                Method::POST,
                &format!("/v2/agents/{key}/responses"),
                Some(json!({"message": user("hello")})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{r}");
        assert_eq!(r["status"]["state"], "failed", "{r}");
        let error = r["error"].as_str().unwrap();
        assert!(
            error.contains(variable) && error.contains("not set up"),
            "{error}"
        );
    }
    // The provider that is set up still answers.
    s.call(
        Method::POST,
        "/v2/agents",
        Some(
            json!({"key": "claude", "role": "Assistant", "description": "Helps",
            "instructions": "Help.", "path": "Default", "model": "anthropic/claude-sonnet-4"}),
        ),
    )
    .await;
    let (_, r) = s
        .call(
            Method::POST,
            "/v2/agents/claude/responses",
            Some(json!({"message": user("hello")})),
        )
        .await;
    assert_eq!(r["status"]["state"], "completed", "{r}");
    s.stop().await;
}

/// A conversation is stored as messages appended turn by turn, each once, none inside the task
/// row; the model still gets the whole conversation every turn.
#[tokio::test]
async fn a_conversation_is_stored_as_appended_messages_outside_the_task_row() {
    for backend in backends() {
        let rig = Rig::start(backend).await;
        rig.agent("chat", "openai/gpt-4o", json!({})).await;
        let mut task: Option<String> = None;
        for n in 0..3 {
            rig.openai.push(Turn::text(format!("answer {n}")));
            let mut body = json!({"message": user(&format!("question {n}"))});
            if let Some(task) = &task {
                body["task_id"] = json!(task);
            }
            let (st, r) = rig.respond("chat", body).await;
            assert_eq!(st, StatusCode::OK, "{r}");
            task = Some(r["task_id"].as_str().unwrap().to_owned());
        }
        let said = [
            "question 0",
            "answer 0",
            "question 1",
            "answer 1",
            "question 2",
        ];
        let last = rig.openai.requests().last().unwrap().clone();
        let sent: Vec<&str> = last["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["role"] != "system")
            .filter_map(|m| m["content"].as_str())
            .collect();
        assert_eq!(sent, said, "{last}");
        let mut stored: Vec<String> = rig
            .s
            .raw_table_text("task_messages")
            .await
            .iter()
            .map(|row| {
                let message: Value = serde_json::from_str(row).unwrap();
                message["parts"][0]["text"].as_str().unwrap().to_owned()
            })
            .collect();
        stored.sort();
        let mut expected: Vec<&str> = said.iter().copied().chain(["answer 2"]).collect();
        expected.sort();
        assert_eq!(stored, expected);
        let rows = rig.s.raw_table_text("tasks").await;
        assert!(
            rows.iter().all(|data| !data.contains("question")),
            "the history is inside the task row: {rows:?}"
        );
        rig.s.stop().await;
    }
}
