//! Traces, usage, metrics and OTLP export of real runs.

use crate::runs::{user, Rig};
use axum::extract::State;
use baton::SchedulerFileConfig;
use baton_e2e::{Backend, Options};
use baton_testkit::{SeenRequest, Turn};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn window() -> (String, String) {
    let now = chrono::Utc::now();
    (
        (now - chrono::Duration::hours(1)).to_rfc3339(),
        (now + chrono::Duration::hours(1)).to_rfc3339(),
    )
}

async fn spans(rig: &Rig, trace: &str) -> Vec<Value> {
    let (st, out) = rig
        .s
        .call(
            Method::GET,
            &format!("/v3/traces/{trace}/spans?limit=1000"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{out}");
    out["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_run_reads_back_as_a_trace_whose_totals_are_the_sum_of_its_spans() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.agent(
        "traced",
        "openai/gpt-4o",
        json!({"settings": {"tools": [{"type": "current_date"}]}}),
    )
    .await;
    rig.openai
        .push(Turn::tool_calls(vec![("current_date", json!({}))]).with_usage(120, 30));
    rig.openai.push(Turn::text("Today.").with_usage(200, 12));
    let (st, body) = rig
        .respond(
            "traced",
            json!({"message": user("What day is it?"), "identity": {"id": "user-42"},
                   "metadata": {"source": "web"},
                   "variables": {"token": {"secret": true, "value": "PLANTED-TRACE-SECRET"}}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let trace_id = body["telemetry"]["trace_id"].as_str().unwrap().to_owned();
    let root_id = body["telemetry"]["span_id"].as_str().unwrap().to_owned();

    let (st, trace) = rig
        .s
        .call(Method::GET, &format!("/v3/traces/{trace_id}"), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{trace}");
    let t = &trace["trace"];
    assert_eq!(t["trace_id"], trace_id.as_str());
    assert_eq!(t["root_span_id"], root_id.as_str());
    assert_eq!(t["status"], "ok");
    assert_eq!(t["identity_id"], "user-42");
    assert_eq!(t["usage"]["prompt_tokens"], 320);
    assert_eq!(t["usage"]["completion_tokens"], 42);
    assert_eq!(t["usage"]["total_tokens"], 362);
    assert_eq!(t["models"], json!(["openai/gpt-4o"]));
    assert_eq!(t["attributes"]["metadata"]["source"], "web");
    assert!(
        !trace.to_string().contains("PLANTED-TRACE-SECRET"),
        "{trace}"
    );

    let all = spans(&rig, &trace_id).await;
    let kinds: Vec<&str> = all.iter().map(|s| s["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "llm").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "tool").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "agent").count(),
        1,
        "{kinds:?}"
    );
    // Totals equal the sum of the spans.
    let (mut tokens, mut cost) = (0u64, 0f64);
    for s in all.iter().filter(|s| s["type"] == "llm") {
        assert_eq!(s["parent_span_id"], root_id.as_str());
        assert_eq!(s["provider"], "openai");
        assert_eq!(s["model"], "gpt-4o");
        tokens += s["usage"]["total_tokens"].as_u64().unwrap();
        cost += s["cost"]["total"].as_f64().unwrap();
    }
    assert_eq!(tokens, 362);
    assert!(cost > 0.0, "gpt-4o has a price");
    assert!((cost - t["cost"]["total"].as_f64().unwrap()).abs() < 1e-12);
    let tool = all.iter().find(|s| s["type"] == "tool").unwrap();
    let (_, detail) = rig
        .s
        .call(
            Method::GET,
            &format!(
                "/v3/traces/{trace_id}/spans/{}",
                tool["span_id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(detail["attributes"]["tool_name"], "current_date");
    assert!(
        detail["attributes"]["result"]["date"].is_string(),
        "{detail}"
    );

    // Search by agent, metadata and status; usage by agent and identity.
    let (from, to) = window();
    let (st, found) = rig
        .s
        .call(
            Method::POST,
            "/v3/traces/search",
            Some(json!({"from": from, "to": to,
            "filters": [{"field": "agent", "op": "eq", "values": ["traced"]},
                        {"field": "metadata.source", "op": "in", "values": ["web", "app"]}]})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{found}");
    assert_eq!(found["data"][0]["trace_id"], trace_id.as_str());
    let (_, none) = rig
        .s
        .call(
            Method::POST,
            "/v3/traces/search",
            Some(json!({"from": from, "to": to,
            "filters": [{"field": "status", "op": "eq", "values": ["error"]}]})),
        )
        .await;
    assert_eq!(none["data"], json!([]));
    let (st, out) = rig
        .s
        .call(
            Method::POST,
            "/v3/traces/search",
            Some(json!({"from": "yesterday", "to": to})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{out}");
    assert_eq!(out["error"]["param"], "from");
    let q = |g: &str| {
        format!(
            "/v3/usage?from={}&to={}&group_by={g}",
            urlencode(&from),
            urlencode(&to)
        )
    };
    let (_, by_agent) = rig.s.call(Method::GET, &q("agent"), None).await;
    assert_eq!(by_agent["data"][0]["key"], "traced");
    assert_eq!(by_agent["data"][0]["total_tokens"], 362);
    let (_, by_identity) = rig.s.call(Method::GET, &q("identity"), None).await;
    assert_eq!(by_identity["data"][0]["key"], "user-42", "{by_identity}");
    assert_eq!(by_identity["total"]["total_tokens"], 362);

    // Prometheus counters.
    let metrics = reqwest::get(format!("{}/metrics", rig.s.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("baton_runs_total{state=\"completed\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("baton_tokens_total{kind=\"prompt\"} 320"),
        "{metrics}"
    );
    assert!(metrics.contains("baton_tool_calls_total 1"), "{metrics}");
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn sub_agents_and_schedules_show_in_the_trace() {
    let rig = Rig::start_with(
        Backend::Sqlite,
        Options::default().scheduler(SchedulerFileConfig {
            enabled: Some(false),
            ..Default::default()
        }),
    )
    .await;
    rig.agent("helper", "openai/gpt-4o", json!({"instructions": "HELPER"}))
        .await;
    rig.agent(
        "boss",
        "openai/gpt-4o",
        json!({"instructions": "BOSS", "team_of_agents": [{"key": "helper"}],
               "settings": {"tools": [{"type": "call_sub_agent"}]}}),
    )
    .await;
    rig.openai.set_responder(Arc::new(|req: &SeenRequest| {
        let system = req.body["messages"][0]["content"]
            .as_str()
            .unwrap_or_default();
        if system.starts_with("HELPER") {
            Turn::text("helped").with_usage(7, 3)
        } else if req.tool_results == 0 {
            Turn::tool_calls(vec![(
                "call_sub_agent",
                json!({"agent_key": "helper", "message": "help"}),
            )])
            .with_usage(11, 2)
        } else {
            Turn::text("done").with_usage(13, 1)
        }
    }));
    let (_, body) = rig.respond("boss", json!({"message": user("Go")})).await;
    let trace_id = body["telemetry"]["trace_id"].as_str().unwrap().to_owned();
    let all = spans(&rig, &trace_id).await;
    let call = all
        .iter()
        .find(|s| s["type"] == "sub_agent")
        .expect("a sub-agent span");
    let child_root = all
        .iter()
        .find(|s| s["type"] == "agent" && s["agent_key"] == "helper")
        .expect("the child's run is in the same trace");
    assert_eq!(child_root["parent_span_id"], call["span_id"]);
    let (_, trace) = rig
        .s
        .call(Method::GET, &format!("/v3/traces/{trace_id}"), None)
        .await;
    assert_eq!(trace["trace"]["usage"]["total_tokens"], 37, "{trace}");
    assert_eq!(
        body["usage"]["total_tokens"], 37,
        "the parent's usage includes its child"
    );

    // A schedule's run carries the schedule id.
    let (_, schedule) = rig
        .s
        .call(
            Method::POST,
            "/v3/agents/helper/schedules",
            Some(json!({"type": "cron", "expression": "@daily",
            "payload": {"input": "daily help"}})),
        )
        .await;
    let (_, fired) = rig
        .s
        .call(
            Method::POST,
            &format!(
                "/v3/agents/helper/schedules/{}/execution",
                schedule["_id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    let done = rig
        .poll_until_inactive("helper", fired["task_id"].as_str().unwrap())
        .await;
    let (_, trace) = rig
        .s
        .call(
            Method::GET,
            &format!(
                "/v3/traces/{}",
                done["telemetry"]["trace_id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(
        trace["trace"]["attributes"]["schedule_id"], schedule["_id"],
        "{trace}"
    );
}

#[tokio::test]
async fn spans_are_exported_over_otlp_with_genai_attributes() {
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let app = axum::Router::new()
        .route(
            "/v1/traces",
            axum::routing::post(
                |State(seen): State<Arc<Mutex<Vec<Value>>>>, body: axum::Json<Value>| async move {
                    seen.lock().unwrap().push(body.0);
                    "{}"
                },
            ),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let rig = Rig::start_with(
        Backend::Sqlite,
        Options::default().env("OTEL_EXPORTER_OTLP_ENDPOINT", collector),
    )
    .await;
    rig.agent("exported", "openai/gpt-4o", json!({})).await;
    rig.openai.push(Turn::text("hi").with_usage(9, 4));
    let (_, body) = rig
        .respond("exported", json!({"message": user("Hello")}))
        .await;
    let trace_id = body["telemetry"]["trace_id"].as_str().unwrap().to_owned();
    let mut spans = Vec::new();
    for _ in 0..100 {
        spans = received
            .lock()
            .unwrap()
            .iter()
            .flat_map(|b| {
                b["resourceSpans"][0]["scopeSpans"][0]["spans"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        if spans.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let attr = |span: &Value, key: &str| -> Value {
        span["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == key)
            .map(|a| a["value"].clone())
            .unwrap_or(Value::Null)
    };
    let chat = spans
        .iter()
        .find(|s| attr(s, "gen_ai.operation.name")["stringValue"] == "chat")
        .expect("a chat span was exported");
    assert_eq!(chat["traceId"], trace_id.as_str());
    assert_eq!(attr(chat, "gen_ai.request.model")["stringValue"], "gpt-4o");
    assert_eq!(attr(chat, "gen_ai.system")["stringValue"], "openai");
    assert_eq!(attr(chat, "gen_ai.usage.input_tokens")["intValue"], "9");
    assert_eq!(attr(chat, "gen_ai.usage.output_tokens")["intValue"], "4");
    assert!(spans
        .iter()
        .any(|s| attr(s, "gen_ai.operation.name")["stringValue"] == "invoke_agent"));
}
