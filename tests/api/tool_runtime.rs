//! The tool runtime through real agent runs: HTTP tools against a loopback server, Python code
//! tools in the sandbox, MCP servers (the reference `server-everything` from npm, over stdio and
//! streamable HTTP), direct invocation, and human approval.

use crate::runs::{user, Rig};
use axum::extract::State;
use axum::http::{HeaderMap, Method as HttpMethod, StatusCode as HttpStatus, Uri};
use axum::response::IntoResponse;
use baton::ToolsFileConfig;
use baton_e2e::{read_sse, Backend, Options};
use baton_testkit::Turn;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the loopback server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    uri: String,
    headers: HeaderMap,
    body: String,
}

/// A loopback HTTP server that records requests. `/echo…` answers with what it received,
/// `/not-json` lies about its content type, `/fail` answers 500, `/big` answers 2 MiB.
struct Echo {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn echo_handler(
    State(seen): State<Arc<Mutex<Vec<Seen>>>>,
    method: HttpMethod,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> axum::response::Response {
    seen.lock().unwrap().push(Seen {
        method: method.to_string(),
        uri: uri.to_string(),
        headers,
        body: body.clone(),
    });
    let json_ct = [(axum::http::header::CONTENT_TYPE, "application/json")];
    match uri.path() {
        "/not-json" => (json_ct, "<html>surprise</html>").into_response(),
        "/fail" => (HttpStatus::INTERNAL_SERVER_ERROR, "database is down").into_response(),
        "/big" => "x".repeat(2 * 1024 * 1024).into_response(),
        "/text" => "plain words".into_response(),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late".into_response()
        }
        _ => axum::Json(json!({"method": method.to_string(), "uri": uri.to_string(),
                               "body": serde_json::from_str::<Value>(&body).unwrap_or(Value::Null)}))
        .into_response(),
    }
}

impl Echo {
    async fn start() -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let app = axum::Router::new()
            .fallback(echo_handler)
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn loopback_tools() -> ToolsFileConfig {
    ToolsFileConfig {
        allow_loopback: Some(true),
        ..Default::default()
    }
}

async fn rig_with(tools: ToolsFileConfig) -> Rig {
    Rig::start_with(Backend::Sqlite, Options::default().tools(tools)).await
}

fn weather_tool(echo: &Echo) -> Value {
    json!({"path": "Default", "key": "weather", "description": "Weather for a city", "type": "http",
    "http": {
        "blueprint": {
            "url": format!("{}/echo/{{{{city}}}}?tenant={{{{tenant}}}}", echo.url),
            "method": "POST",
            "headers": {"Authorization": {"value": "Bearer s3cret-token", "encrypted": true},
                        "X-Days": "{{days}}"},
            "body": {"city": "{{city}}", "days": "{{days}}", "note": "for {{tenant}}"}
        },
        "arguments": {
            "city": {"type": "string", "description": "City name"},
            "days": {"type": "number", "description": "Days ahead", "default_value": 1},
            "tenant": {"type": "string", "description": "Tenant", "send_to_model": false}
        }
    }})
}

async fn create_tool(rig: &Rig, body: Value) -> Value {
    let (st, tool) = rig.s.call(Method::POST, "/v2/tools", Some(body)).await;
    assert_eq!(st, StatusCode::OK, "{tool}");
    tool
}

async fn invoke(rig: &Rig, tool: &str, body: Value) -> (StatusCode, Value) {
    rig.s
        .call(
            Method::POST,
            &format!("/v2/tools/{tool}/invoke"),
            Some(body),
        )
        .await
}

/// The tool results the model was sent in its last request (OpenAI wire form).
fn tool_messages(request: &Value) -> Vec<Value> {
    request["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| {
            serde_json::from_str(m["content"].as_str().unwrap()).unwrap_or(m["content"].clone())
        })
        .collect()
}

fn offered(request: &Value) -> Vec<String> {
    request["tools"]
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .map(|t| t["function"]["name"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn http_tool_fills_its_blueprint_from_model_arguments_variables_and_secrets() {
    let echo = Echo::start().await;
    let rig = rig_with(loopback_tools()).await;
    create_tool(&rig, weather_tool(&echo)).await;
    rig.agent(
        "forecaster",
        "openai/gpt-4o",
        json!({"settings": {"tools": [{"type": "http", "key": "weather"}]}}),
    )
    .await;
    rig.openai.push(Turn::tool_calls(vec![(
        "weather",
        json!({"city": "São Paulo", "days": 3}),
    )]));
    rig.openai.push(Turn::text("Sunny."));
    let (st, body) = rig
        .respond(
            "forecaster",
            json!({"message": user("Weather?"), "variables": {"tenant": {"secret": true, "value": "acme"}}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["status"]["state"], "completed", "{body}");

    let seen = echo.seen();
    assert_eq!(seen.len(), 1, "the tool ran once");
    let req = &seen[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.uri, "/echo/S%C3%A3o%20Paulo?tenant=acme");
    assert_eq!(req.headers["authorization"], "Bearer s3cret-token");
    assert_eq!(req.headers["x-days"], "3");
    let sent: Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(
        sent,
        json!({"city": "São Paulo", "days": 3, "note": "for acme"})
    );

    let requests = rig.openai.requests();
    // The hidden argument is not offered to the model; the optional one is not required.
    let params = &requests[0]["tools"][0]["function"]["parameters"];
    assert!(params["properties"].get("tenant").is_none(), "{params}");
    assert_eq!(params["required"], json!(["city"]));
    let results = tool_messages(&requests[1]);
    assert_eq!(results[0]["uri"], "/echo/S%C3%A3o%20Paulo?tenant=acme");
    // The secret header never shows in the stored tool, the answer or the task.
    let (_, tool) = rig.s.call(Method::GET, "/v2/tools/weather", None).await;
    assert!(!tool.to_string().contains("s3cret"), "{tool}");
    assert!(!body.to_string().contains("s3cret"), "{body}");
}

#[tokio::test]
async fn outbound_policy_refuses_internal_targets_unless_allowed() {
    let echo = Echo::start().await;
    let rig = rig_with(ToolsFileConfig::default()).await;
    create_tool(&rig, weather_tool(&echo)).await;
    for (city, why) in [("Paris", "loopback")] {
        let (st, out) = invoke(
            &rig,
            "weather",
            json!({"arguments": {"city": city}, "variables": {"tenant": "t"}}),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{out}");
        let error = out["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("outbound policy") && error.contains(why),
            "{out}"
        );
    }
    // A literal metadata-service address is refused before any connection is tried.
    let mut metadata = weather_tool(&echo);
    metadata["key"] = json!("metadata");
    metadata["http"]["blueprint"]["url"] =
        json!("http://169.254.169.254/latest/{{city}}?t={{tenant}}");
    create_tool(&rig, metadata).await;
    let (_, out) = invoke(
        &rig,
        "metadata",
        json!({"arguments": {"city": "x"}, "variables": {"tenant": "t"}}),
    )
    .await;
    assert!(
        out["error"].as_str().unwrap().contains("169.254.169.254"),
        "{out}"
    );
    assert!(
        echo.seen().is_empty(),
        "nothing reached the internal server"
    );

    // In a run, the refusal is a tool error the model sees and the trace records.
    rig.agent(
        "curious",
        "openai/gpt-4o",
        json!({"settings": {"tools": [{"type": "http", "key": "weather"}]}}),
    )
    .await;
    rig.openai
        .push(Turn::tool_calls(vec![("weather", json!({"city": "Oslo"}))]));
    rig.openai.push(Turn::text("Could not check."));
    let (st, body) = rig
        .respond(
            "curious",
            json!({"message": user("Weather?"), "variables": {"tenant": "t"}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["status"]["state"], "completed", "{body}");
    let results = tool_messages(&rig.openai.requests()[1]);
    assert!(
        results[0]["error"]
            .as_str()
            .unwrap()
            .contains("outbound policy"),
        "{results:?}"
    );
}

#[tokio::test]
async fn http_tool_errors_are_clear() {
    let echo = Echo::start().await;
    let rig = rig_with(ToolsFileConfig {
        allow_loopback: Some(true),
        max_response_bytes: Some(1024 * 1024),
        ..Default::default()
    })
    .await;
    let tool = |key: &str, path: &str| {
        json!({"path": "Default", "key": key, "description": "d", "type": "http",
            "http": {"blueprint": {"url": format!("{}{path}", echo.url), "method": "GET"}}})
    };
    for (key, path) in [
        ("nj", "/not-json"),
        ("fail", "/fail"),
        ("big", "/big"),
        ("text", "/text"),
    ] {
        create_tool(&rig, tool(key, path)).await;
    }
    let (_, out) = invoke(&rig, "nj", json!({})).await;
    assert!(
        out["error"].as_str().unwrap().contains("not valid JSON"),
        "{out}"
    );
    let (_, out) = invoke(&rig, "fail", json!({})).await;
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .contains("HTTP 500: database is down"),
        "{out}"
    );
    let (_, out) = invoke(&rig, "big", json!({})).await;
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .contains("larger than 1048576 bytes"),
        "{out}"
    );
    let (_, out) = invoke(&rig, "text", json!({})).await;
    assert_eq!(out["result"], "plain words", "{out}");
    let mut slow = tool("slow", "/slow");
    slow["http"]["blueprint"]["timeout"] = json!(0.5);
    create_tool(&rig, slow).await;
    let started = std::time::Instant::now();
    let (_, out) = invoke(&rig, "slow", json!({})).await;
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .contains("did not answer in time"),
        "{out}"
    );
    assert!(started.elapsed() < Duration::from_secs(4));

    // A hidden argument with no value anywhere is named.
    create_tool(&rig, weather_tool(&echo)).await;
    let (_, out) = invoke(&rig, "weather", json!({"arguments": {"city": "Rome"}})).await;
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .contains("`tenant` is hidden from the model"),
        "{out}"
    );
    // Schema-violating arguments are a 400 naming the field.
    let (st, out) = invoke(&rig, "weather", json!({"arguments": {"city": 7}})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{out}");
    assert_eq!(out["error"]["param"], "arguments", "{out}");
    // A placeholder with no argument is refused when the tool is created.
    let mut broken = tool("broken", "/echo/{{nobody}}");
    broken["key"] = json!("broken");
    let (st, out) = rig.s.call(Method::POST, "/v2/tools", Some(broken)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{out}");
    assert_eq!(out["error"]["param"], "http.arguments", "{out}");
    // Client-side tools cannot be invoked on the server.
    create_tool(&rig, crate::function_tool("get_weather")).await;
    let (st, out) = invoke(&rig, "get_weather", json!({"arguments": {"city": "x"}})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{out}");
}

#[tokio::test]
async fn orchestra_api_tools_are_created_and_invoked_in_batches() {
    let echo = Echo::start().await;
    let rig = rig_with(loopback_tools()).await;
    let (st, tool) = rig
        .s
        .call(
            Method::POST,
            "/api/tools",
            Some(json!({"name": "create_post", "description": "Create a blog post.", "type": "api",
                "config": {"api_tool": {"base_url": echo.url, "method": "POST", "endpoint": "/posts",
                    "args_schema": {"type": "object", "properties": {
                        "title": {"type": "string"}, "body": {"type": "string"},
                        "userId": {"type": "integer", "default": 1}},
                        "required": ["title", "body", "userId"]}}}})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{tool}");
    assert_eq!(tool["type"], "http");
    let (st, out) = rig
        .s
        .call(
            Method::POST,
            "/api/tools/invoke",
            Some(json!([
                {"name": "create_post", "args": {"title": "Hi", "body": "Made by an agent", "userId": 7}},
                {"name": "no_such_tool", "args": {}}
            ])),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{out}");
    assert_eq!(
        out[0]["output"]["body"],
        json!({"title": "Hi", "body": "Made by an agent", "userId": 7})
    );
    assert_eq!(out[0]["output"]["uri"], "/posts");
    assert!(
        out[1]["error"].as_str().unwrap().contains("no_such_tool"),
        "{out}"
    );
    let (st, out) = rig
        .s
        .call(
            Method::POST,
            "/api/tools",
            Some(
                json!({"name": "bad", "type": "api", "config": {"api_tool": {
                "base_url": "ftp://x", "method": "GET"}}}),
            ),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{out}");
    assert_eq!(out["error"]["param"], "config.api_tool.base_url", "{out}");
}

fn code_tool(key: &str, code: &str) -> Value {
    json!({"path": "Default", "key": key, "description": "Runs Python", "type": "code",
        "code_tool": {"language": "python", "code": code,
            "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": []}}})
}

#[tokio::test]
async fn code_tools_run_python_in_a_sandbox_that_holds() {
    let rig = rig_with(ToolsFileConfig {
        code_timeout_s: Some(3.0),
        code_cpu_s: Some(2),
        code_memory_mb: Some(256),
        ..Default::default()
    })
    .await;
    let cases = [
        ("square", "result = {'square': params['n'] ** 2}"),
        ("spin", "while True:\n    pass"),
        ("sleeper", "import time\ntime.sleep(60)"),
        ("bomb", "blocks = []\nwhile True:\n    blocks.append(bytearray(50 * 1024 * 1024))"),
        ("crash", "raise ValueError('bad input ' + str(params['n']))"),
        ("env", "import os\nresult = sorted(os.environ)"),
        ("net", "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 80), timeout=2)\n    result = 'connected'\nexcept OSError as e:\n    result = 'no network: ' + str(e)"),
        ("chatty", "print('x' * 200000)\nresult = 1"),
    ];
    for (key, code) in cases {
        create_tool(&rig, code_tool(key, code)).await;
    }
    let run = |key: &'static str| {
        let rig = &rig;
        async move {
            let started = std::time::Instant::now();
            let (st, out) = invoke(rig, key, json!({"arguments": {"n": 7}})).await;
            assert_eq!(st, StatusCode::OK, "{out}");
            (out, started.elapsed())
        }
    };
    let (out, _) = run("square").await;
    assert_eq!(out["result"], json!({"square": 49}), "{out}");
    let (out, took) = run("spin").await;
    assert!(out["error"].is_string(), "{out}");
    assert!(
        took < Duration::from_secs(10),
        "stopped by its limits ({took:?})"
    );
    let (out, took) = run("sleeper").await;
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .contains("did not finish within 3 s"),
        "{out}"
    );
    assert!(took < Duration::from_secs(10));
    let (out, _) = run("bomb").await;
    assert!(
        out["error"].as_str().unwrap().contains("MemoryError"),
        "{out}"
    );
    let (out, _) = run("crash").await;
    let error = out["error"].as_str().unwrap();
    assert!(
        error.contains("exited with status 1") && error.contains("ValueError: bad input 7"),
        "{out}"
    );
    let (out, _) = run("env").await;
    let names: Vec<&str> = out["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for name in &names {
        assert!(
            ["HOME", "LANG", "LC_CTYPE", "PATH", "PWD", "TMPDIR"].contains(name),
            "inherited {name}: {names:?}"
        );
    }
    let (out, _) = run("net").await;
    assert!(
        out["result"].as_str().unwrap().starts_with("no network"),
        "{out}"
    );
    let (out, _) = run("chatty").await;
    assert!(
        out["result"]["stdout"]
            .as_str()
            .unwrap()
            .contains("more bytes not kept"),
        "{out}"
    );

    // The server is unharmed and a run with a crashing tool still completes.
    rig.agent(
        "coder",
        "openai/gpt-4o",
        json!({"settings": {"tools": [
            {"type": "code", "key": "password_generator", "description": "Makes passwords",
             "language": "python",
             "code": "import random, string\nresult = {'password': ''.join(random.choice(string.ascii_letters) for _ in range(params.get('length', 12)))}",
             "parameters": {"type": "object", "properties": {"length": {"type": "integer"}}, "required": []}},
            {"type": "code", "key": "crash"}]}}),
    )
    .await;
    rig.openai.push(Turn::tool_calls(vec![
        ("password_generator", json!({"length": 16})),
        ("crash", json!({"n": 1})),
    ]));
    rig.openai.push(Turn::text("Here it is."));
    let (st, body) = rig
        .respond("coder", json!({"message": user("A password please")}))
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["status"]["state"], "completed", "{body}");
    let results = tool_messages(&rig.openai.requests()[1]);
    let password = results
        .iter()
        .find_map(|r| r["password"].as_str())
        .expect("password result");
    assert_eq!(password.len(), 16);
    assert!(results.iter().any(|r| r["error"]
        .as_str()
        .is_some_and(|e| e.contains("ValueError"))));
}

/// The reference MCP server, installed under `target/` on first use.
fn everything_server() -> PathBuf {
    baton_e2e::mcp_everything_server()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn mcp_servers_over_stdio_and_streamable_http_are_discovered_and_called() {
    let server = everything_server();
    let rig = rig_with(ToolsFileConfig {
        allow_loopback: Some(true),
        mcp_stdio_commands: vec!["node".into()],
        ..Default::default()
    })
    .await;
    create_tool(
        &rig,
        json!({"path": "Default", "key": "everything", "description": "Reference MCP server",
            "type": "mcp", "mcp": {"connection_type": "stdio",
                "command": ["node", server.display().to_string(), "stdio"]}}),
    )
    .await;
    // The whole server over stdio.
    rig.agent(
        "mcp-all",
        "openai/gpt-4o",
        json!({"settings": {"tools": [{"type": "mcp", "key": "everything"}]}}),
    )
    .await;
    rig.openai.push(Turn::tool_calls(vec![
        ("echo", json!({"message": "hello mcp"})),
        ("get-sum", json!({"a": 2, "b": 3})),
    ]));
    rig.openai.push(Turn::text("done"));
    let (st, body) = rig
        .respond("mcp-all", json!({"message": user("Use MCP")}))
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["status"]["state"], "completed", "{body}");
    let requests = rig.openai.requests();
    let names = offered(&requests[0]);
    assert!(
        names.contains(&"echo".to_owned()) && names.contains(&"get-sum".to_owned()),
        "{names:?}"
    );
    let results = tool_messages(&requests[1]);
    assert!(
        results.iter().any(|r| r == "Echo: hello mcp"),
        "{results:?}"
    );
    assert!(
        results.iter().any(|r| r.to_string().contains('5')),
        "{results:?}"
    );

    // One tool of the server over streamable HTTP.
    let port = free_port();
    #[allow(clippy::disallowed_methods)] // the MCP server under test is a child process
    let mut child = tokio::process::Command::new("node")
        .arg(&server)
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    create_tool(
        &rig,
        json!({"path": "Default", "key": "everything_http", "description": "Over HTTP",
            "type": "mcp", "mcp": {"connection_type": "http",
                "server_url": format!("http://127.0.0.1:{port}/mcp"),
                "headers": {"X-Api-Key": {"value": "mcp-secret", "encrypted": true}}}}),
    )
    .await;
    rig.agent(
        "mcp-one",
        "openai/gpt-4o",
        json!({"settings": {"tools": [{"type": "mcp", "key": "everything_http", "tool_id": "get-sum"}]}}),
    )
    .await;
    rig.openai.push(Turn::tool_calls(vec![(
        "get-sum",
        json!({"a": 20, "b": 22}),
    )]));
    rig.openai.push(Turn::text("42"));
    let before = rig.openai.request_count();
    let (st, body) = rig
        .respond("mcp-one", json!({"message": user("Add")}))
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["status"]["state"], "completed", "{body}");
    let requests = rig.openai.requests();
    assert_eq!(offered(&requests[before]), vec!["get-sum".to_owned()]);
    let results = tool_messages(&requests[before + 1]);
    assert!(results[0].to_string().contains("42"), "{results:?}");
    // Direct invocation names the server's tool.
    let (st, out) = invoke(
        &rig,
        "everything_http",
        json!({"tool": "echo", "arguments": {"message": "direct"}}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{out}");
    assert_eq!(out["result"], "Echo: direct", "{out}");
    child.kill().await.unwrap();
}

#[tokio::test]
async fn unreachable_or_disallowed_mcp_servers_are_clear_tool_errors() {
    let rig = rig_with(loopback_tools()).await;
    let port = free_port();
    create_tool(
        &rig,
        json!({"path": "Default", "key": "gone", "description": "Nobody listens", "type": "mcp",
            "mcp": {"connection_type": "http", "server_url": format!("http://127.0.0.1:{port}/mcp")}}),
    )
    .await;
    create_tool(
        &rig,
        json!({"path": "Default", "key": "local", "description": "A command", "type": "mcp",
            "mcp": {"connection_type": "stdio", "command": ["sh", "-c", "echo pwned"]}}),
    )
    .await;
    let (_, out) = invoke(&rig, "gone", json!({"tool": "echo", "arguments": {}})).await;
    assert!(
        out["error"].as_str().unwrap().contains("cannot connect"),
        "{out}"
    );
    let (_, out) = invoke(&rig, "local", json!({"tool": "echo", "arguments": {}})).await;
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .contains("mcp_stdio_commands"),
        "{out}"
    );

    // In a run, the model sees the server as unavailable and its call fails with the reason.
    rig.agent(
        "mcp-gone",
        "openai/gpt-4o",
        json!({"settings": {"tools": [{"type": "mcp", "key": "gone"}]}}),
    )
    .await;
    rig.openai.push(Turn::tool_calls(vec![("gone", json!({}))]));
    rig.openai.push(Turn::text("The server is down."));
    let (st, body) = rig
        .respond("mcp-gone", json!({"message": user("Try")}))
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["status"]["state"], "completed", "{body}");
    let results = tool_messages(&rig.openai.requests()[1]);
    assert!(
        results[0]["error"]
            .as_str()
            .unwrap()
            .contains("unavailable"),
        "{results:?}"
    );
}

async fn approval_rig(echo: &Echo, setting: &str) -> Rig {
    let rig = rig_with(loopback_tools()).await;
    let mut tool = weather_tool(echo);
    tool["requires_approval"] = json!(true);
    create_tool(&rig, tool).await;
    rig.agent(
        "careful",
        "openai/gpt-4o",
        json!({"settings": {"tool_approval_required": setting,
            "tools": [{"type": "current_date"}, {"type": "http", "key": "weather"}]}}),
    )
    .await;
    rig
}

#[tokio::test]
async fn approval_pauses_a_call_runs_siblings_once_and_executes_the_approved_call() {
    let echo = Echo::start().await;
    let rig = approval_rig(&echo, "respect_tool").await;
    rig.openai.push(Turn::tool_calls(vec![
        ("current_date", json!({})),
        ("weather", json!({"city": "Lima", "days": 2})),
    ]));
    rig.openai.push(Turn::text("Lima is warm."));
    let (st, paused) = rig
        .respond(
            "careful",
            json!({"message": user("Weather in Lima?"), "variables": {"tenant": "t1"}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{paused}");
    assert_eq!(paused["status"]["state"], "input-required", "{paused}");
    assert_eq!(paused["finish_reason"], "tool_calls", "{paused}");
    let task = paused["task_id"].as_str().unwrap().to_owned();
    assert_eq!(paused["pending_tool_calls"], json!([]), "{paused}");
    let review = &paused["pending_tool_reviews"][0];
    assert_eq!(review["tool_name"], "weather", "{paused}");
    assert_eq!(review["arguments"], json!({"city": "Lima", "days": 2}));
    assert!(echo.seen().is_empty(), "nothing ran before approval");
    assert_eq!(rig.openai.request_count(), 1);

    // A tool_result cannot stand in for the review, and only waiting calls can be reviewed.
    let call_id = review["tool_call_id"].as_str().unwrap().to_owned();
    let (st, out) = rig
        .respond(
            "careful",
            json!({"task_id": task, "message": {"role": "tool", "parts": [
            {"kind": "tool_result", "tool_call_id": call_id, "result": "fake"}]}}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{out}");
    let (st, out) = rig
        .respond(
            "careful",
            json!({"task_id": task, "tool_reviews": [
            {"tool_call_id": "call_nope", "review": "approved"}]}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{out}");
    assert_eq!(
        out["error"]["param"], "tool_reviews[0].tool_call_id",
        "{out}"
    );

    let (st, done) = rig
        .respond(
            "careful",
            json!({"task_id": task, "tool_reviews": [
            {"tool_call_id": call_id, "review": "approved"}]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{done}");
    assert_eq!(done["status"]["state"], "completed", "{done}");
    let seen = echo.seen();
    assert_eq!(seen.len(), 1, "the approved call ran once");
    assert_eq!(seen[0].uri, "/echo/Lima?tenant=t1");
    let last = rig.openai.requests().pop().unwrap();
    let results = tool_messages(&last);
    assert_eq!(
        results.len(),
        2,
        "current_date once, weather once: {results:?}"
    );
    // The stream of the task shows the review request and its outcome.
    let resp = rig
        .s
        .request(
            Method::GET,
            &format!("/v2/agents/careful/responses/{task}/stream"),
        )
        .bearer_auth(baton_e2e::API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let kinds: Vec<String> = read_sse(resp, 64).await.iter().map(|m| m.kind()).collect();
    assert!(
        kinds.contains(&"tool.review.requested".to_owned()),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"tool.review.done".to_owned()), "{kinds:?}");
}

#[tokio::test]
async fn with_approval_set_to_none_even_marked_tools_run_at_once() {
    let echo = Echo::start().await;
    let rig = approval_rig(&echo, "none").await;
    rig.openai
        .push(Turn::tool_calls(vec![("weather", json!({"city": "Bern"}))]));
    rig.openai.push(Turn::text("Cold."));
    let (st, body) = rig
        .respond(
            "careful",
            json!({"message": user("Weather?"), "variables": {"tenant": "t"}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["status"]["state"], "completed", "{body}");
    assert_eq!(echo.seen().len(), 1);
    assert!(body.get("pending_tool_reviews").is_none(), "{body}");
}

#[tokio::test]
async fn a_rejected_call_never_runs_and_the_model_is_told() {
    let echo = Echo::start().await;
    let rig = approval_rig(&echo, "all").await;
    rig.openai.push(Turn::tool_calls(vec![
        ("current_date", json!({})),
        ("weather", json!({"city": "Quito"})),
    ]));
    rig.openai.push(Turn::text("I was not allowed to check."));
    let (st, paused) = rig
        .respond(
            "careful",
            json!({"message": user("Weather?"), "variables": {"tenant": "t"}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{paused}");
    assert_eq!(paused["status"]["state"], "input-required", "{paused}");
    // With `all`, both calls wait.
    let reviews = paused["pending_tool_reviews"].as_array().unwrap();
    assert_eq!(reviews.len(), 2, "{paused}");
    let id_of = |name: &str| {
        reviews.iter().find(|r| r["tool_name"] == name).unwrap()["tool_call_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let task = paused["task_id"].as_str().unwrap().to_owned();
    // Mixed decisions in one request: approve the date, reject the weather.
    let (st, done) = rig
        .respond(
            "careful",
            json!({"task_id": task, "tool_reviews": [
            {"tool_call_id": id_of("current_date"), "review": "approved"},
            {"tool_call_id": id_of("weather"), "review": "rejected", "reason": "not today"}]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{done}");
    assert_eq!(done["status"]["state"], "completed", "{done}");
    assert!(echo.seen().is_empty(), "the rejected call never ran");
    let results = tool_messages(&rig.openai.requests()[1]);
    assert!(results.iter().any(|r| r["date"].is_string()), "{results:?}");
    assert!(
        results.iter().any(|r| r["error"]
            .as_str()
            .is_some_and(|e| e.contains("rejected") && e.contains("not today"))),
        "{results:?}"
    );
    // Reviews need a task.
    let (st, out) = rig
        .respond(
            "careful",
            json!({"tool_reviews": [{"tool_call_id": "x", "review": "approved"}]}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{out}");
}
