//! Idempotency keys on the wire: every server-side call carries `task id:call id`, as an
//! `Idempotency-Key` header for HTTP tools and in `_meta` for MCP tools; tools say whether a
//! call cut by a stopped server may run again.

use crate::runs::{user, Rig};
use axum::http::{HeaderMap, StatusCode as HttpStatus};
use axum::response::IntoResponse;
use baton::ToolsFileConfig;
use baton_e2e::{Backend, Options};
use baton_testkit::Turn;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

async fn rig() -> Rig {
    let tools = ToolsFileConfig {
        allow_loopback: Some(true),
        ..Default::default()
    };
    Rig::start_with(Backend::Sqlite, Options::default().tools(tools)).await
}

async fn create_tool(rig: &Rig, body: Value) -> Value {
    let (st, tool) = rig.s.call(Method::POST, "/v2/tools", Some(body)).await;
    assert_eq!(st, StatusCode::OK, "{tool}");
    tool
}

/// The id of the first tool call in a response's output.
fn first_call_id(body: &Value) -> String {
    body["output"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["parts"].as_array().unwrap())
        .find_map(|p| p["tool_call_id"].as_str())
        .unwrap()
        .to_owned()
}

/// A minimal MCP server over streamable HTTP (JSON answers, no session) with one tool, `pay`;
/// it records the params of every `tools/call`.
async fn mcp_server(calls: Arc<Mutex<Vec<Value>>>) -> String {
    let app = axum::Router::new().route(
        "/mcp",
        axum::routing::post(move |axum::Json(request): axum::Json<Value>| {
            let calls = calls.clone();
            async move {
                let result = match request["method"].as_str().unwrap_or_default() {
                    "initialize" => json!({"protocolVersion": request["params"]["protocolVersion"],
                        "capabilities": {"tools": {}}, "serverInfo": {"name": "payments", "version": "1.0.0"}}),
                    "tools/list" => json!({"tools": [{"name": "pay", "description": "Pays",
                        "inputSchema": {"type": "object", "properties": {}}}]}),
                    "tools/call" => {
                        calls.lock().unwrap().push(request["params"].clone());
                        json!({"content": [{"type": "text", "text": "paid"}]})
                    }
                    _ => return HttpStatus::ACCEPTED.into_response(), // notifications
                };
                axum::Json(json!({"jsonrpc": "2.0", "id": request["id"], "result": result}))
                    .into_response()
            }
        })
        .get(|| async { HttpStatus::METHOD_NOT_ALLOWED }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn mcp_calls_carry_the_idempotency_key_in_meta() {
    let calls: Arc<Mutex<Vec<Value>>> = Default::default();
    let server = mcp_server(calls.clone()).await;
    let rig = rig().await;
    let tool = create_tool(
        &rig,
        json!({"path": "Default", "key": "payments", "description": "Payments", "type": "mcp",
            "mcp": {"connection_type": "http", "server_url": server}}),
    )
    .await;
    assert_eq!(
        tool["idempotent"], false,
        "not idempotent unless set: {tool}"
    );
    rig.agent(
        "payer",
        "openai/gpt-4o",
        json!({"settings": {"tools": [{"type": "mcp", "key": "payments"}]}}),
    )
    .await;
    rig.openai.push(Turn::tool_calls(vec![("pay", json!({}))]));
    rig.openai.push(Turn::text("Paid."));
    let (st, body) = rig.respond("payer", json!({"message": user("Pay")})).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["status"]["state"], "completed", "{body}");
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let key = format!(
        "{}:{}",
        body["task_id"].as_str().unwrap(),
        first_call_id(&body)
    );
    assert_eq!(calls[0]["_meta"]["idempotencyKey"], key, "{calls:?}");
}

#[tokio::test]
async fn http_calls_send_the_idempotency_key_and_tools_say_whether_they_are_idempotent() {
    let keys: Arc<Mutex<Vec<String>>> = Default::default();
    let seen = keys.clone();
    let app = axum::Router::new().fallback(move |headers: HeaderMap| {
        let seen = seen.clone();
        async move {
            let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok());
            seen.lock()
                .unwrap()
                .push(key.unwrap_or("(none)").to_owned());
            axum::Json(json!({"ok": true}))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let rig = rig().await;
    let lookup = json!({"path": "Default", "key": "lookup", "description": "Looks up",
        "type": "http", "idempotent": true,
        "http": {"blueprint": {"url": format!("{api}/lookup"), "method": "GET"}}});
    assert_eq!(create_tool(&rig, lookup).await["idempotent"], true);
    let (st, out) = rig
        .s
        .call(
            Method::PATCH,
            "/v2/tools/lookup",
            Some(json!({"idempotent": "yes"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{out}");
    assert!(out.to_string().contains("idempotent"), "{out}");
    let (_, function) = rig
        .s
        .call(
            Method::POST,
            "/v2/tools",
            Some(crate::function_tool("fn_tool")),
        )
        .await;
    assert!(
        function.get("idempotent").is_none(),
        "client-side: {function}"
    );

    rig.agent(
        "looker",
        "openai/gpt-4o",
        json!({"settings": {"tools": [{"type": "http", "key": "lookup"}]}}),
    )
    .await;
    rig.openai
        .push(Turn::tool_calls(vec![("lookup", json!({}))]));
    rig.openai.push(Turn::text("Found."));
    let (st, body) = rig
        .respond("looker", json!({"message": user("Look")}))
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let key = format!(
        "{}:{}",
        body["task_id"].as_str().unwrap(),
        first_call_id(&body)
    );
    assert_eq!(*keys.lock().unwrap(), [key]);
}
