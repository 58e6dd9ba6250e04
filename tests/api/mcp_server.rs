//! `/mcp`: the project's agents as the tools of an MCP server, spoken as raw JSON-RPC over the
//! streamable HTTP transport against a real server and the testkit's fake OpenAI.

use crate::runs::Rig;
use baton_e2e::{Backend, API_KEY};
use baton_testkit::Turn;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

const VERSION: &str = "2025-11-25";

/// Posts one JSON-RPC message with `key`; the status and every JSON-RPC message of the answer
/// (one for a JSON answer, each `data:` of an SSE one).
async fn rpc(rig: &Rig, key: Option<&str>, message: Value) -> (StatusCode, Vec<Value>) {
    let mut req = rig
        .s
        .request(Method::POST, "/mcp")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", VERSION)
        .json(&message);
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let sse = resp
        .headers()
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap().starts_with("text/event-stream"));
    let text = resp.text().await.unwrap();
    let messages = if sse {
        text.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| serde_json::from_str(d).unwrap())
            .collect()
    } else if text.is_empty() {
        Vec::new()
    } else {
        vec![serde_json::from_str(&text).unwrap_or(json!({"raw": text}))]
    };
    (status, messages)
}

/// The `result` (or `error`) answering request `id`.
fn answer(messages: &[Value], id: u64) -> Value {
    messages
        .iter()
        .find(|m| m["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no answer to {id} in {messages:?}"))
}

async fn call_tool(rig: &Rig, id: u64, params: Value) -> (Vec<Value>, Value) {
    let (status, messages) = rpc(
        rig,
        Some(API_KEY),
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{messages:?}");
    let found = answer(&messages, id);
    (messages, found)
}

#[tokio::test]
async fn agents_are_tools_of_the_mcp_server() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.agent(
        "helper",
        "openai/gpt-4o",
        json!({"description": "Answers tickets"}),
    )
    .await;
    let schema = json!({"type": "object", "properties": {"mood": {"type": "string"}},
                        "required": ["mood"]});
    rig.agent("mood", "openai/gpt-4o", json!({"output_schema": schema}))
        .await;

    // No key, or a wrong one: 401 before any MCP.
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    assert_eq!(
        rpc(&rig, None, list.clone()).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        rpc(&rig, Some("nope"), list.clone()).await.0,
        StatusCode::UNAUTHORIZED
    );

    let (status, init) = rpc(
        &rig,
        Some(API_KEY),
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": VERSION, "capabilities": {},
            "clientInfo": {"name": "e2e", "version": "1"}}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{init:?}");
    let init = answer(&init, 0);
    assert_eq!(init["result"]["protocolVersion"], VERSION, "{init}");
    assert!(
        init["result"]["capabilities"]["tools"].is_object(),
        "{init}"
    );

    let (status, listed) = rpc(&rig, Some(API_KEY), list).await;
    assert_eq!(status, StatusCode::OK);
    let tools = answer(&listed, 1)["result"]["tools"].clone();
    let tool = |name: &str| {
        tools
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no tool {name} in {tools}"))
    };
    assert_eq!(tool("helper")["description"], "Answers tickets");
    assert_eq!(
        tool("helper")["inputSchema"]["required"],
        json!(["message"])
    );
    assert!(tool("helper").get("outputSchema").is_none());
    assert_eq!(tool("mood")["outputSchema"], schema);

    // An answer as text, the task named in `_meta`; the task continues with `task_id`.
    rig.openai.push(Turn::text("Hello there."));
    let (_, first) = call_tool(
        &rig,
        2,
        json!({"name": "helper", "arguments": {"message": "Hi"}}),
    )
    .await;
    let result = &first["result"];
    assert_eq!(result["isError"], false, "{first}");
    assert_eq!(
        result["content"],
        json!([{"type": "text", "text": "Hello there."}])
    );
    let task_id = result["_meta"]["task_id"].as_str().unwrap().to_owned();
    rig.openai.push(Turn::text("Again."));
    let (_, second) = call_tool(
        &rig,
        3,
        json!({"name": "helper", "arguments": {"message": "Once more", "task_id": task_id}}),
    )
    .await;
    assert_eq!(second["result"]["_meta"]["task_id"], task_id.as_str());
    let (st, task) = rig
        .s
        .call(
            Method::GET,
            &format!("/v2/agents/helper/responses/{task_id}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{task}");

    // Structured output comes back as structured content too.
    rig.openai.push(Turn::text("{\"mood\": \"good\"}"));
    let (_, structured) = call_tool(
        &rig,
        4,
        json!({"name": "mood", "arguments": {"message": "How are you?"}}),
    )
    .await;
    assert_eq!(
        structured["result"]["structuredContent"],
        json!({"mood": "good"}),
        "{structured}"
    );

    // A run that fails is a tool error; an unknown tool a protocol error; bad arguments name
    // the field.
    rig.openai.push(Turn::error(
        400,
        json!({"error": {"message": "bad request"}}),
    ));
    let (_, failed) = call_tool(
        &rig,
        5,
        json!({"name": "helper", "arguments": {"message": "Fail"}}),
    )
    .await;
    assert_eq!(failed["result"]["isError"], true, "{failed}");
    let (_, unknown) = call_tool(
        &rig,
        6,
        json!({"name": "nobody", "arguments": {"message": "Hi"}}),
    )
    .await;
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
    let (_, invalid) = call_tool(&rig, 7, json!({"name": "helper", "arguments": {}})).await;
    assert_eq!(invalid["result"]["isError"], true, "{invalid}");
    assert!(
        invalid["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("`message`"),
        "{invalid}"
    );

    // Stateless transport: no stream to open, no session to end.
    for method in [Method::GET, Method::DELETE] {
        let resp = rig
            .s
            .request(method.clone(), "/mcp")
            .bearer_auth(API_KEY)
            .header("accept", "text/event-stream")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }
    rig.s.stop().await;
}

#[tokio::test]
async fn a_long_run_reports_its_steps_as_progress() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.agent(
        "clock",
        "openai/gpt-4o",
        json!({"settings": {"tools": [{"type": "current_date"}]}}),
    )
    .await;
    rig.openai.push(
        Turn::tool_calls(vec![("current_date", json!({}))]).with_delay(Duration::from_millis(200)),
    );
    rig.openai
        .push(Turn::text("It is today.").with_delay(Duration::from_millis(200)));
    let (messages, found) = call_tool(
        &rig,
        9,
        json!({"name": "clock", "arguments": {"message": "What day is it?"},
               "_meta": {"progressToken": "p-1"}}),
    )
    .await;
    assert_eq!(found["result"]["content"][0]["text"], "It is today.");
    let progress: Vec<&Value> = messages
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .map(|m| &m["params"])
        .collect();
    assert!(progress.iter().all(|p| p["progressToken"] == "p-1"));
    let notes: Vec<&str> = progress
        .iter()
        .map(|p| p["message"].as_str().unwrap())
        .collect();
    assert!(notes.contains(&"calling tool `current_date`"), "{notes:?}");
    assert!(notes.contains(&"tool `current_date` answered"), "{notes:?}");
    let steps: Vec<f64> = progress
        .iter()
        .map(|p| p["progress"].as_f64().unwrap())
        .collect();
    assert!(steps.windows(2).all(|w| w[0] < w[1]), "{steps:?}");
    // The result comes last.
    assert_eq!(messages.last().unwrap()["id"], 9);

    // Without a token, no notifications: one JSON answer.
    rig.openai.push(Turn::text("Still today."));
    let (messages, _) = call_tool(
        &rig,
        10,
        json!({"name": "clock", "arguments": {"message": "And now?"}}),
    )
    .await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    rig.s.stop().await;
}

#[tokio::test]
async fn an_end_user_lists_the_agents_its_token_may_list_and_no_more() {
    use crate::scopes::{user_token, SECRET};
    let rig = Rig::start_with(
        Backend::Sqlite,
        baton_e2e::Options::default().env("BATON_JWT_SECRET", SECRET),
    )
    .await;
    rig.agent("helper", "openai/gpt-4o", json!({})).await;
    rig.agent("other", "openai/gpt-4o", json!({})).await;
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    let listed_keys = |messages: &[Value]| {
        let mut keys: Vec<String> = answer(messages, 1)["result"]["tools"]
            .as_array()
            .unwrap_or_else(|| panic!("no tools in {messages:?}"))
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect();
        keys.sort();
        keys
    };

    // Without `read`, `GET /v2/agents` refuses the token: so does `tools/list`, naming why.
    let alice = user_token("alice", None);
    let (st, body) = rig
        .s
        .call_as(Some(&alice), Method::GET, "/v2/agents", None)
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    let (status, messages) = rpc(&rig, Some(&alice), list.clone()).await;
    assert_eq!(status, StatusCode::OK, "{messages:?}");
    let refused = answer(&messages, 1);
    assert!(refused.get("result").is_none(), "{refused}");
    assert_eq!(refused["error"]["data"]["status"], 403, "{refused}");
    let why = refused["error"]["message"].as_str().unwrap();
    assert!(why.contains("`read`"), "{why}");
    // Running an agent by its key is what the token is for.
    rig.openai.push(Turn::text("Hello Alice."));
    let (status, messages) = rpc(
        &rig,
        Some(&alice),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
               "params": {"name": "helper", "arguments": {"message": "Hi"}}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        answer(&messages, 2)["result"]["content"][0]["text"],
        "Hello Alice.",
        "{messages:?}"
    );

    // With `read`, both list the same agents.
    let reader = user_token("reader", Some("read"));
    let (st, page) = rig
        .s
        .call_as(Some(&reader), Method::GET, "/v2/agents", None)
        .await;
    assert_eq!(st, StatusCode::OK, "{page}");
    let mut shown: Vec<String> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["key"].as_str().unwrap().to_owned())
        .collect();
    shown.sort();
    let (_, messages) = rpc(&rig, Some(&reader), list).await;
    assert_eq!(listed_keys(&messages), shown);
    assert_eq!(shown, ["helper", "other"]);
    rig.s.stop().await;
}

/// Posts `tools/list` with `origin` (none: a program, not a browser) and `key`.
async fn list_from(rig: &Rig, origin: Option<&str>, key: Option<&str>) -> (StatusCode, Value) {
    let mut req = rig
        .s
        .request(Method::POST, "/mcp")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", VERSION)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}));
    if let Some(origin) = origin {
        req = req.header("origin", origin);
    }
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn browsers_reach_mcp_only_from_the_origins_cors_lists() {
    let options = baton_e2e::Options {
        server: baton::ServerFileConfig {
            cors_allowed_origins: vec!["https://app.example.com".into()],
            ..Default::default()
        },
        ..baton_e2e::Options::default()
    };
    let rig = Rig::start_with(Backend::Sqlite, options).await;
    rig.agent("helper", "openai/gpt-4o", json!({})).await;

    // A page of another origin (a rebinding one, too) is refused, with a key or without one.
    for key in [Some(API_KEY), None] {
        let (status, body) = list_from(&rig, Some("https://evil.example.com"), key).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["error"]["code"], "forbidden", "{body}");
        let why = body["error"]["message"].as_str().unwrap();
        assert!(
            why.contains("https://evil.example.com") && why.contains("cors_allowed_origins"),
            "{why}"
        );
    }
    assert_eq!(
        list_from(&rig, Some(&rig.s.url), Some(API_KEY)).await.0,
        StatusCode::FORBIDDEN,
        "the server's own name is what a rebinding page sends"
    );
    // The listed origin, and programs (no Origin), are answered.
    for origin in [Some("https://app.example.com"), None] {
        let (status, body) = list_from(&rig, origin, Some(API_KEY)).await;
        assert_eq!(status, StatusCode::OK, "{origin:?}: {body}");
        assert_eq!(body["result"]["tools"][0]["name"], "helper", "{body}");
    }
    // Other routes keep plain CORS: the check is the MCP transport's.
    let resp = rig
        .s
        .request(Method::GET, "/v2/agents")
        .header("origin", "https://evil.example.com")
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    rig.s.stop().await;
}
