//! Remote agents over A2A as team members: a Baton orchestrator calls an agent served by the
//! official Python `a2a-sdk` through `call_sub_agent`, under the outbound policy, with a sealed
//! header; the answer flows back and the trace links the remote task.

use crate::runs::{user, Rig};
use baton::ToolsFileConfig;
use baton_e2e::{A2aAgentServer, Backend, Options};
use baton_testkit::{SeenRequest, Turn};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;

const TOKEN: &str = "remote-token-0042";

/// The text of the conversation's last user message.
fn last_user_text(body: &Value) -> String {
    let messages = body["messages"].as_array().unwrap();
    let message = messages.iter().rev().find(|m| m["role"] == "user").unwrap();
    match &message["content"] {
        Value::String(text) => text.clone(),
        other => other[0]["text"].as_str().unwrap_or_default().to_owned(),
    }
}

fn last_tool_result(body: &Value) -> String {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// A rig whose tools may reach `localhost` by name, but no loopback address otherwise; its
/// model delegates `<agent_key>|<message>` to that team member and answers with the result.
async fn rig() -> Rig {
    let tools = ToolsFileConfig {
        allowed_hosts: vec!["localhost".into()],
        ..Default::default()
    };
    let rig = Rig::start_with(Backend::Sqlite, Options::default().tools(tools)).await;
    rig.openai.set_responder(Arc::new(|req: &SeenRequest| {
        if req.last_is_tool_result {
            Turn::text(format!("RESULT {}", last_tool_result(&req.body)))
        } else {
            let text = last_user_text(&req.body);
            let (key, message) = text.split_once('|').unwrap();
            Turn::tool_calls(vec![(
                "call_sub_agent",
                json!({"agent_key": key, "message": message}),
            )])
        }
    }));
    rig
}

async fn orchestrator(rig: &Rig, team: Value) -> Value {
    rig.agent(
        "orchestrator",
        "openai/gpt-4o",
        json!({"team_of_agents": team,
               "settings": {"max_iterations": 4, "tool_approval_required": "none",
                            "tools": [{"type": "retrieve_agents"}, {"type": "call_sub_agent"}]}}),
    )
    .await
}

/// Runs the orchestrator on `key|message`; the response and the tool result the model read.
async fn delegate(rig: &Rig, key: &str, message: &str) -> (Value, Value) {
    let (st, body) = rig
        .respond(
            "orchestrator",
            json!({"message": user(&format!("{key}|{message}"))}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["status"]["state"], "completed", "{body}");
    let requests = rig.openai.requests();
    let result = last_tool_result(requests.last().unwrap());
    let result = serde_json::from_str(&result).unwrap_or(Value::String(result));
    (body, result)
}

async fn sub_agent_span(rig: &Rig, body: &Value) -> Value {
    let trace = body["telemetry"]["trace_id"].as_str().unwrap();
    let (st, spans) = rig
        .s
        .call(
            Method::GET,
            &format!("/v3/traces/{trace}/spans?limit=1000"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{spans}");
    let span = spans["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["type"] == "sub_agent")
        .unwrap_or_else(|| panic!("no sub_agent span: {spans}"))
        .clone();
    let (st, detail) = rig
        .s
        .call(
            Method::GET,
            &format!(
                "/v3/traces/{trace}/spans/{}",
                span["span_id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{detail}");
    detail
}

#[tokio::test]
async fn a_remote_a2a_agent_answers_as_a_team_member_under_the_policy() {
    let remote = A2aAgentServer::start(&["--token", TOKEN, "--advertise", "localhost"]);
    let rig = rig().await;
    let by_address = remote.card_url().replace("localhost", "127.0.0.1");
    let created = orchestrator(
        &rig,
        json!([
            {"key": "echo", "role": "Echoes", "a2a": {"card_url": remote.card_url(),
                "headers": {"Authorization": {"value": format!("Bearer {TOKEN}"), "encrypted": true}},
                "timeout": 30}},
            {"key": "unlisted", "a2a": {"card_url": by_address}},
            {"key": "no-token", "a2a": {"card_url": remote.card_url()}}
        ]),
    )
    .await;
    // The header is sealed: answers mask it and the stored agent holds no clear text.
    let shown = created["team_of_agents"][0]["a2a"]["headers"]["Authorization"].clone();
    assert_eq!(
        shown,
        json!({"value": "********", "encrypted": true}),
        "{created}"
    );
    assert!(!created.to_string().contains(TOKEN));
    for spec in [
        rig.s.raw_specs("agents").await,
        rig.s.raw_specs("agent_versions").await,
    ]
    .concat()
    {
        assert!(!spec.contains(TOKEN), "{spec}");
    }

    // The remote task's artifact is the sub-agent's answer; the span links the remote task.
    let (body, result) = delegate(&rig, "echo", "hello there").await;
    assert_eq!(result["answer"], "echo: hello there", "{result}");
    assert_eq!(result["state"], "completed", "{result}");
    assert_eq!(result["protocol_version"], "1.0", "{result}");
    let task_id = result["remote_task_id"].as_str().unwrap().to_owned();
    assert!(!task_id.is_empty());
    assert!(body.to_string().contains("echo: hello there"), "{body}");
    let span = sub_agent_span(&rig, &body).await;
    assert_eq!(
        span["attributes"]["a2a.task_id"],
        task_id.as_str(),
        "{span}"
    );
    assert_eq!(
        span["attributes"]["a2a.context_id"],
        result["remote_context_id"]
    );
    assert_eq!(
        span["attributes"]["a2a.agent_url"],
        format!("{}/rpc", remote.url).as_str()
    );

    // A task still working when the send returns is read again until it completes.
    let (_, result) = delegate(&rig, "echo", "later").await;
    assert_eq!(result["answer"], "echo: later", "{result}");
    assert_eq!(result["state"], "completed", "{result}");

    // Data parts come back as structured data; input-required is a question the model reads.
    let (_, result) = delegate(&rig, "echo", "data").await;
    assert_eq!(
        result["data"],
        json!({"temperature": 21.0, "unit": "C"}),
        "{result}"
    );
    let (_, result) = delegate(&rig, "echo", "ask me").await;
    assert_eq!(result["state"], "input-required", "{result}");
    assert_eq!(result["question"], "Which city do you mean?", "{result}");

    // A loopback address the policy does not allow is refused before anything is sent.
    let (_, result) = delegate(&rig, "unlisted", "hello").await;
    let text = result.to_string();
    assert!(text.contains("outbound policy refuses 127.0.0.1"), "{text}");

    // Without the header the remote refuses, and the model reads why.
    let (_, result) = delegate(&rig, "no-token", "hello").await;
    assert!(result.to_string().contains("401"), "{result}");

    // retrieve_agents lists the remote member.
    let (st, _) = rig
        .s
        .call(
            Method::PATCH,
            "/v2/agents/orchestrator",
            Some(json!({"description": "still the same team"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    // The sealed header survived the PATCH (the masked value kept the stored secret).
    let (_, result) = delegate(&rig, "echo", "after patch").await;
    assert_eq!(result["answer"], "echo: after patch", "{result}");
}

#[tokio::test]
async fn a_version_0_3_agent_is_called_with_message_send() {
    let remote = A2aAgentServer::start(&["--v03", "--advertise", "localhost"]);
    let rig = rig().await;
    orchestrator(
        &rig,
        json!([{"key": "old-echo", "a2a": {"card_url": remote.card_url()}},
               {"key": "hasty", "a2a": {"card_url": remote.card_url(), "timeout": 0.5}}]),
    )
    .await;
    let (body, result) = delegate(&rig, "old-echo", "data").await;
    assert_eq!(result["protocol_version"], "0.3", "{result}");
    assert_eq!(result["answer"], "echo: data", "{result}");
    assert_eq!(
        result["data"],
        json!({"temperature": 21.0, "unit": "C"}),
        "{result}"
    );
    let span = sub_agent_span(&rig, &body).await;
    assert_eq!(span["attributes"]["a2a.task_id"], result["remote_task_id"]);

    let (_, result) = delegate(&rig, "old-echo", "later").await;
    assert_eq!(result["answer"], "echo: later", "{result}");
    // A member's timeout bounds the wait, and the model reads which remote task is left.
    let (_, result) = delegate(&rig, "hasty", "later").await;
    let text = result.to_string();
    assert!(text.contains("did not finish in"), "{text}");
}

#[tokio::test]
async fn a2a_team_members_are_checked_field_by_field() {
    let rig = Rig::start(Backend::Sqlite).await;
    let body = |member: Value| {
        let mut body = crate::agent_body("bad-team");
        body["team_of_agents"] = json!([member]);
        body
    };
    for (member, field) in [
        (
            json!({"key": "r", "a2a": {"card_url": "ftp://agents.example.com/card.json"}}),
            "team_of_agents[0].a2a.card_url",
        ),
        (
            json!({"key": "r", "a2a": {"card_url": "not a url"}}),
            "team_of_agents[0].a2a.card_url",
        ),
        (
            json!({"key": "r", "a2a": {"card_url": "https://a.example.com/c.json", "timeout": 0}}),
            "team_of_agents[0].a2a.timeout",
        ),
        (
            json!({"key": "r", "a2a": {"card_url": "https://a.example.com/c.json",
                   "headers": {"X-Key": {"value": "********", "encrypted": true}}}}),
            "team_of_agents[0].a2a.headers.X-Key",
        ),
    ] {
        let (st, out) = rig
            .s
            .call(Method::POST, "/v2/agents", Some(body(member.clone())))
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{member}: {out}");
        assert_eq!(out["error"]["param"], field, "{member}: {out}");
    }
    let (st, out) = rig
        .s
        .call(
            Method::POST,
            "/v2/agents",
            Some(body(
                json!({"key": "r", "a2a": {"card_url": "https://a.example.com/c.json", "card": 1}}),
            )),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{out}");
}

#[tokio::test]
async fn orchestra_assistants_name_remote_a2a_agents() {
    let rig = Rig::start(Backend::Sqlite).await;
    let post = |body: Value| {
        rig.s
            .request(Method::POST, "/api/assistants")
            .header("x-api-key", baton_e2e::API_KEY)
            .json(&body)
            .send()
    };
    let created = baton_e2e::read(
        post(json!({"name": "planner", "model": "openai:gpt-5.2",
            "a2a": {"weather": {"card_url": "https://weather.example.com/.well-known/agent-card.json",
                                "headers": {"X-Key": {"value": "k-123", "encrypted": true}}}}}))
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    assert_eq!(created.1["subagents"], json!(["weather"]));
    let id = created.1["assistant_id"].as_str().unwrap();
    let (st, agent) = rig
        .s
        .call(Method::GET, &format!("/v2/agents/{id}"), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    let member = &agent["team_of_agents"][0];
    assert_eq!(member["key"], "weather");
    assert_eq!(
        member["a2a"]["headers"]["X-Key"]["value"], "********",
        "{agent}"
    );

    let (st, err) = baton_e2e::read(
        post(
            json!({"name": "x", "model": "openai:gpt-5.2", "a2a": {"w": "https://w.example.com"}}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["error"]["param"], "a2a.w", "{err}");
}

/// One Baton calls an agent of another over A2A: the card, the JSON-RPC binding and the
/// remote task are Baton's own on both sides, and the calling trace links the remote task.
#[tokio::test]
async fn one_baton_calls_an_agent_of_another_over_a2a() {
    let remote = Rig::start(Backend::Sqlite).await;
    remote.openai.set_responder(Arc::new(|req: &SeenRequest| {
        Turn::text(format!("forecast for {}", last_user_text(&req.body)))
    }));
    remote.agent("forecaster", "openai/gpt-4o", json!({})).await;
    let card_url = format!(
        "{}/a2a/forecaster/.well-known/agent-card.json",
        remote.s.url.replace("127.0.0.1", "localhost")
    );
    let rig = rig().await;
    orchestrator(
        &rig,
        json!([
            {"key": "forecaster", "a2a": {"card_url": card_url, "headers": {"Authorization":
                {"value": format!("Bearer {}", baton_e2e::API_KEY), "encrypted": true}}}},
            {"key": "keyless", "a2a": {"card_url": card_url}}
        ]),
    )
    .await;

    let (body, result) = delegate(&rig, "forecaster", "Paris").await;
    assert_eq!(result["state"], "completed", "{result}");
    assert_eq!(result["protocol_version"], "1.0", "{result}");
    assert_eq!(result["answer"], "forecast for Paris", "{result}");
    let task_id = result["remote_task_id"].as_str().unwrap().to_owned();
    let span = sub_agent_span(&rig, &body).await;
    assert_eq!(
        span["attributes"]["a2a.task_id"],
        task_id.as_str(),
        "{span}"
    );

    // The remote task is a task of the other server, completed, with the answer as artifact.
    let (st, task) = remote
        .s
        .call(
            Method::GET,
            &format!("/a2a/forecaster/tasks/{task_id}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{task}");
    assert_eq!(task["id"], task_id.as_str(), "{task}");
    assert_eq!(task["status"]["state"], "TASK_STATE_COMPLETED", "{task}");
    assert!(task.to_string().contains("forecast for Paris"), "{task}");

    // Without the key, the other server refuses the card, and the model reads why.
    let (_, result) = delegate(&rig, "keyless", "Paris").await;
    assert!(result.to_string().contains("401"), "{result}");
}

#[tokio::test]
async fn a_remote_task_counts_its_usage_and_is_canceled_when_the_call_runs_out_of_time() {
    let remote = Rig::start(Backend::Sqlite).await;
    remote.openai.set_responder(Arc::new(|req: &SeenRequest| {
        let text = last_user_text(&req.body);
        if text.contains("slowly") {
            Turn::text("too late").with_delay(std::time::Duration::from_secs(4))
        } else {
            Turn::text(format!("counted {text}")).with_usage(11, 7)
        }
    }));
    remote.agent("counter", "openai/gpt-4o", json!({})).await;
    let card_url = format!(
        "{}/a2a/counter/.well-known/agent-card.json",
        remote.s.url.replace("127.0.0.1", "localhost")
    );
    let auth = json!({"Authorization": {"value": format!("Bearer {}", baton_e2e::API_KEY),
                                        "encrypted": true}});
    let rig = rig().await;
    orchestrator(
        &rig,
        json!([{"key": "counter", "a2a": {"card_url": card_url, "headers": auth}},
               {"key": "hasty", "a2a": {"card_url": card_url, "headers": auth, "timeout": 1}}]),
    )
    .await;

    // The remote task's tokens come back with the answer and count on the caller's span.
    let (body, result) = delegate(&rig, "counter", "sheep").await;
    assert_eq!(result["answer"], "counted sheep", "{result}");
    assert_eq!(result["usage"]["prompt_tokens"], 11, "{result}");
    assert_eq!(result["usage"]["completion_tokens"], 7, "{result}");
    assert_eq!(result["usage"]["total_tokens"], 18, "{result}");
    let span = sub_agent_span(&rig, &body).await;
    assert_eq!(span["usage"]["prompt_tokens"], 11, "{span}");
    assert_eq!(span["usage"]["completion_tokens"], 7, "{span}");
    assert_eq!(
        span["attributes"]["a2a.usage"]["total_tokens"], 18,
        "{span}"
    );

    // Out of time, the call cancels the remote task before it fails.
    let (_, result) = delegate(&rig, "hasty", "slowly please").await;
    let text = result.to_string();
    assert!(
        text.contains("did not finish in") && text.contains("it was canceled"),
        "{text}"
    );
    let task_id: String = text
        .split("remote task ")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    let (st, task) = remote
        .s
        .call(Method::GET, &format!("/a2a/counter/tasks/{task_id}"), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{task}");
    assert_eq!(task["status"]["state"], "TASK_STATE_CANCELED", "{task}");
}

#[tokio::test]
async fn a_stored_a2a_tool_calls_a_remote_agent_and_is_checked_field_by_field() {
    let remote = Rig::start(Backend::Sqlite).await;
    remote.openai.set_responder(Arc::new(|req: &SeenRequest| {
        Turn::text(format!("forecast for {}", last_user_text(&req.body))).with_usage(5, 3)
    }));
    remote.agent("forecaster", "openai/gpt-4o", json!({})).await;
    let card_url = format!(
        "{}/a2a/forecaster/.well-known/agent-card.json",
        remote.s.url.replace("127.0.0.1", "localhost")
    );
    let rig = rig().await;
    let tool = |a2a: Value| {
        json!({"path": "Default", "key": "forecast", "description": "Forecasts the weather",
               "type": "a2a", "a2a": a2a})
    };
    for (a2a, field) in [
        (
            json!({"card_url": "ftp://x.example/c.json"}),
            "a2a.card_url",
        ),
        (json!({"card_url": card_url, "timeout": 900}), "a2a.timeout"),
        (
            json!({"card_url": card_url, "headers": {"bad name": "x"}}),
            "a2a.headers",
        ),
        (json!({"card_url": card_url, "surprise": 1}), "surprise"),
    ] {
        let (st, body) = rig.s.call(Method::POST, "/v2/tools", Some(tool(a2a))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.to_string().contains(field), "{field}: {body}");
    }
    let (st, stored) = rig
        .s
        .call(
            Method::POST,
            "/v2/tools",
            Some(tool(
                json!({"card_url": card_url, "timeout": 30, "headers": {"Authorization":
                {"value": format!("Bearer {}", baton_e2e::API_KEY), "encrypted": true}}}),
            )),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{stored}");
    assert_eq!(stored["type"], "a2a");
    assert!(!stored.to_string().contains(baton_e2e::API_KEY), "{stored}");
    let at_rest = rig.s.raw_specs("tools").await.join(" ");
    assert!(!at_rest.contains(baton_e2e::API_KEY), "{at_rest}");

    rig.agent(
        "planner",
        "openai/gpt-4o",
        json!({"settings": {"max_iterations": 4, "tools": [{"type": "a2a", "key": "forecast"}]}}),
    )
    .await;
    rig.openai.set_responder(Arc::new(|req: &SeenRequest| {
        if req.last_is_tool_result {
            Turn::text(format!("RESULT {}", last_tool_result(&req.body)))
        } else {
            Turn::tool_calls(vec![("forecast", json!({"message": "Lima"}))])
        }
    }));
    let (st, body) = rig
        .respond("planner", json!({"message": user("Weather in Lima?")}))
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["status"]["state"], "completed", "{body}");
    let result = last_tool_result(rig.openai.requests().last().unwrap());
    let result: Value = serde_json::from_str(&result).unwrap();
    assert_eq!(result["answer"], "forecast for Lima", "{result}");
    let span = sub_agent_span(&rig, &body).await;
    assert_eq!(
        span["attributes"]["a2a.task_id"], result["remote_task_id"],
        "{span}"
    );
    assert_eq!(span["usage"]["total_tokens"], 8, "{span}");
}
