//! Orchestra's walkthrough with its `x-api-key` header: an API tool against a loopback stand-in
//! for JSONPlaceholder, tested directly, used by the model through `/api/llm/invoke`, wired into
//! an assistant that runs streamed through `/api/llm/stream` and continues its thread.

use crate::ensemble::{loopback_rig, Placeholder};
use crate::runs::Rig;
use baton_e2e::{read, read_sse, API_KEY};
use baton_testkit::Turn;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// An Orchestra-style call: `x-api-key` only.
async fn orchestra(
    rig: &Rig,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = rig.s.request(method, path).header("x-api-key", API_KEY);
    if let Some(body) = body {
        req = req.json(&body);
    }
    read(req.send().await.unwrap()).await
}

async fn create_post_tool(rig: &Rig, place: &Placeholder) {
    let (st, tool) = orchestra(
        rig,
        Method::POST,
        "/api/tools",
        Some(
            json!({"name": "create_post", "description": "Create a new blog post.", "type": "api",
            "config": {"api_tool": {"base_url": place.url, "method": "POST", "endpoint": "/posts",
                "args_schema": {"type": "object", "properties": {
                    "title": {"type": "string", "required": true},
                    "body": {"type": "string", "required": true},
                    "userId": {"type": "integer", "default": 1}},
                    "required": ["title", "body", "userId"]}}}}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{tool}");
}

fn publish_call(title: &str) -> Turn {
    Turn::tool_calls(vec![(
        "create_post",
        json!({"title": title, "body": "Written by an agent.", "userId": 1}),
    )])
}

fn user_says(text: &str) -> Value {
    json!({"messages": [{"role": "user", "content": text}]})
}

#[tokio::test]
async fn the_orchestra_walkthrough_runs_end_to_end() {
    let place = Placeholder::start().await;
    let rig = loopback_rig().await;

    // Steps 1 and 2: the API tool, tested directly.
    create_post_tool(&rig, &place).await;
    let (st, out) = orchestra(
        &rig,
        Method::POST,
        "/api/tools/invoke",
        Some(
            json!([{"name": "create_post", "args": {"title": "My New Agent",
            "body": "This was created by an agent.", "userId": 1}}]),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{out}");
    assert_eq!(out[0]["output"]["id"], 101, "{out}");

    // Step 3: the model uses the tool through /api/llm/invoke.
    rig.openai.push(publish_call("AI today"));
    rig.openai.push(Turn::text("Published post 101."));
    let (st, turn) = orchestra(
        &rig,
        Method::POST,
        "/api/llm/invoke",
        Some(json!({"model": "openai:gpt-5.2",
            "input": user_says("Write a short blog post about AI and publish it."),
            "tools": ["create_post"]})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{turn}");
    assert_eq!(turn["status"], "completed", "{turn}");
    let messages = turn["messages"].as_array().unwrap();
    assert_eq!(messages[0]["type"], "ai");
    assert_eq!(messages[0]["tool_calls"][0]["name"], "create_post");
    assert_eq!(messages[0]["tool_calls"][0]["args"]["title"], "AI today");
    assert_eq!(messages[1]["type"], "tool");
    assert_eq!(messages[1]["name"], "create_post");
    assert!(
        messages[1]["content"].as_str().unwrap().contains("101"),
        "{turn}"
    );
    assert_eq!(messages[2]["content"], "Published post 101.");
    assert_eq!(rig.openai.requests()[0]["model"], "gpt-5.2");
    assert_eq!(place.posts().len(), 2, "the direct call and the model's");

    // Step 4: an assistant, a versioned Baton agent.
    let (st, assistant) = orchestra(
        &rig,
        Method::POST,
        "/api/assistants",
        Some(json!({"name": "blog_writer_bot",
            "description": "An agent that writes and publishes blogs.",
            "model": "openai:gpt-5.2",
            "system_prompt": "You are a helpful assistant that writes and publishes blog posts.",
            "tools": ["create_post"], "mcp": {}, "a2a": {}, "subagents": []})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{assistant}");
    let id = assistant["assistant_id"].as_str().unwrap().to_owned();
    assert_eq!(assistant["model"], "openai:gpt-5.2");
    assert_eq!(assistant["tools"], json!(["create_post"]));
    let (st, agent) = rig
        .s
        .call(Method::GET, &format!("/v2/agents/{id}"), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{agent}");
    assert_eq!(agent["model"]["id"], "openai/gpt-5.2", "{agent}");

    // Step 5: run it, streamed.
    rig.openai.push(publish_call("New feature"));
    rig.openai.push(Turn::text("Announced."));
    let resp = rig
        .s
        .request(Method::POST, "/api/llm/stream")
        .header("x-api-key", API_KEY)
        .json(
            &json!({"input": user_says("Publish a post announcing our new feature."),
                      "metadata": {"assistant_id": id}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let events = read_sse(resp, 200).await;
    assert_eq!(events.last().unwrap().data, "[DONE]");
    let result = events
        .iter()
        .find(|e| e.event.as_deref() == Some("result"))
        .expect("a result event")
        .json();
    assert_eq!(result["assistant_id"], id.as_str(), "{result}");
    assert_eq!(
        result["messages"][0]["tool_calls"][0]["args"]["title"],
        "New feature"
    );
    assert_eq!(result["messages"][2]["content"], "Announced.");
    let system = rig.openai.requests().last().unwrap()["messages"][0].clone();
    assert!(
        system
            .to_string()
            .contains("writes and publishes blog posts"),
        "{system}"
    );
    assert_eq!(place.posts().last().unwrap()["title"], "New feature");

    // Step 6: the thread continues with metadata.thread_id.
    let thread = result["thread_id"].as_str().unwrap().to_owned();
    rig.openai.push(Turn::text("Yes, one post."));
    let (st, next) = orchestra(
        &rig,
        Method::POST,
        "/api/llm/invoke",
        Some(json!({"input": user_says("Did you publish?"),
                    "metadata": {"assistant_id": id, "thread_id": thread}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{next}");
    assert_eq!(next["thread_id"], thread.as_str());
    let sent = rig.openai.requests().last().unwrap()["messages"].to_string();
    assert!(sent.contains("announcing our new feature"), "{sent}");

    // A thread reads back with every message of its runs; POST /api/threads mints one.
    let (st, read_back) =
        orchestra(&rig, Method::GET, &format!("/api/threads/{thread}"), None).await;
    assert_eq!(st, StatusCode::OK, "{read_back}");
    let kinds: Vec<&str> = read_back["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["human", "ai", "tool", "ai", "human", "ai"],
        "{read_back}"
    );
    assert_eq!(read_back["messages"][4]["content"], "Did you publish?");
    let meta = json!({"metadata": {"assistant_id": id, "title": "Daily Blog Research"}});
    let (st, created) = orchestra(&rig, Method::POST, "/api/threads", Some(meta)).await;
    assert_eq!(st, StatusCode::CREATED, "{created}");
    assert_eq!(created["metadata"]["title"], "Daily Blog Research");
    let fresh = created["thread_id"].as_str().unwrap();
    let (st, _) = orchestra(&rig, Method::GET, &format!("/api/threads/{fresh}"), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "no run has named it yet");
    let unknown = json!({"metadata": {"assistant_id": "asst-nobody"}});
    let (st, _) = orchestra(&rig, Method::POST, "/api/threads", Some(unknown)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Step 7: a schedule whose every firing continues the thread.
    let (st, schedule) = orchestra(
        &rig,
        Method::POST,
        "/api/schedules",
        Some(json!({"title": "Daily Blog Post Generator",
            "trigger": {"type": "cron", "expression": "0 9 * * 1"},
            "task": {"input": user_says("Write and publish a post about the latest AI news."),
                     "metadata": {"assistant_id": id, "thread_id": thread}}})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{schedule}");
    rig.openai.push(Turn::text("Posted the news."));
    let fire = format!(
        "/v3/agents/{id}/schedules/{}/execution",
        schedule["_id"].as_str().unwrap()
    );
    let (st, fired) = orchestra(&rig, Method::POST, &fire, None).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{fired}");
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let (_, t) = rig
            .s
            .call(Method::GET, &format!("/v2/threads/{thread}"), None)
            .await;
        tasks = t["tasks"].as_array().cloned().unwrap_or_default();
        if tasks.len() == 3 && tasks[2]["state"] == "completed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(tasks.len(), 3, "the firing joined the thread: {tasks:?}");
    assert_eq!(tasks[2]["state"], "completed", "{tasks:?}");
    let sent = rig.openai.requests().last().unwrap()["messages"].to_string();
    assert!(
        sent.contains("Did you publish?"),
        "the firing saw the thread: {sent}"
    );
}

#[tokio::test]
async fn assistants_are_listed_updated_as_versions_and_deleted() {
    let place = Placeholder::start().await;
    let rig = loopback_rig().await;
    create_post_tool(&rig, &place).await;
    let body = json!({"name": "bot", "model": "openai:gpt-5.2", "tools": ["create_post"]});
    let (st, created) = orchestra(&rig, Method::POST, "/api/assistants", Some(body)).await;
    assert_eq!(st, StatusCode::CREATED, "{created}");
    let id = created["assistant_id"].as_str().unwrap().to_owned();
    let path = format!("/api/assistants/{id}");
    let (st, list) = orchestra(&rig, Method::GET, "/api/assistants", None).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    assert_eq!(list["assistants"][0]["assistant_id"], id.as_str());
    let update = json!({"name": "bot", "model": "anthropic:claude-sonnet-4", "tools": []});
    let (st, updated) = orchestra(&rig, Method::PUT, &path, Some(update)).await;
    assert_eq!(st, StatusCode::OK, "{updated}");
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["model"], "anthropic:claude-sonnet-4");
    assert_eq!(updated["tools"], json!([]));
    let (st, got) = orchestra(&rig, Method::GET, &path, None).await;
    assert_eq!((st, got["version"].clone()), (StatusCode::OK, json!(2)));

    for (body, field) in [
        (
            json!({"name": "x", "model": "openai:gpt-5.2", "tools": ["nope"]}),
            "tools[0]",
        ),
        (
            json!({"name": "x", "model": "openai:gpt-5.2", "mcp": {"s": {}}}),
            "mcp",
        ),
        (json!({"name": "x", "model": "gpt"}), "model"),
    ] {
        let (st, err) = orchestra(&rig, Method::POST, "/api/assistants", Some(body)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{err}");
        assert_eq!(err["error"]["param"], field, "{err}");
    }
    let (st, err) = orchestra(
        &rig,
        Method::POST,
        "/api/llm/invoke",
        Some(json!({"input": user_says("hi")})),
    )
    .await;
    assert_eq!(
        (st, err["error"]["param"].clone()),
        (StatusCode::BAD_REQUEST, json!("model"))
    );

    // Object fields take objects only (serde alone reads a struct from an array).
    for (path, body) in [
        ("/api/threads", json!({"metadata": [null, null]})),
        (
            "/api/llm/invoke",
            json!({"input": user_says("hi"), "metadata": [id]}),
        ),
    ] {
        let (st, err) = orchestra(&rig, Method::POST, path, Some(body)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{path}: {err}");
    }

    // A run-only key runs assistants but does not store an agent for an ad-hoc run.
    let (st, key) = rig
        .s
        .call(
            Method::POST,
            "/v2/api-keys",
            Some(json!({"name": "runner", "project_id": "default", "scope": "run"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{key}");
    let runner = key["key"].as_str().unwrap();
    let adhoc = json!({"model": "openai:gpt-5.2", "input": user_says("hi")});
    let (st, err) = rig
        .s
        .call_as(Some(runner), Method::POST, "/api/llm/invoke", Some(adhoc))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{err}");
    rig.openai.push(Turn::text("Hello."));
    let run = json!({"input": user_says("hi"), "metadata": {"assistant_id": id}});
    let (st, out) = rig
        .s
        .call_as(Some(runner), Method::POST, "/api/llm/invoke", Some(run))
        .await;
    assert_eq!(st, StatusCode::OK, "{out}");

    let (st, _) = orchestra(&rig, Method::DELETE, &path, None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = orchestra(&rig, Method::GET, &path, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}
