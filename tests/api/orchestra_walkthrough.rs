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

    // A thread a run started reads back with every message of its runs and its assistant.
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
    assert_eq!(read_back["metadata"]["assistant_id"], id.as_str());

    // Step 6 of the walkthrough: a thread opened for the assistant, with a title, kept.
    let meta = json!({"metadata": {"assistant_id": id, "title": "Daily Blog Research"}});
    let (st, created) = orchestra(&rig, Method::POST, "/api/threads", Some(meta)).await;
    assert_eq!(st, StatusCode::CREATED, "{created}");
    assert_eq!(created["metadata"]["title"], "Daily Blog Research");
    let research = created["thread_id"].as_str().unwrap().to_owned();
    let (st, got) = orchestra(&rig, Method::GET, &format!("/api/threads/{research}"), None).await;
    assert_eq!(st, StatusCode::OK, "{got}");
    assert_eq!(got["metadata"]["title"], "Daily Blog Research", "{got}");
    assert_eq!(got["metadata"]["assistant_id"], id.as_str(), "{got}");
    assert_eq!(got["messages"], json!([]), "no run yet: {got}");
    rig.openai.push(Turn::text("Noted: AI news on Mondays."));
    let (st, first) = orchestra(
        &rig,
        Method::POST,
        "/api/llm/invoke",
        Some(
            json!({"input": user_says("Research AI news for Monday posts."),
                    "metadata": {"assistant_id": id, "thread_id": research}}),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{first}");
    assert_eq!(first["thread_id"], research.as_str());
    let unknown = json!({"metadata": {"assistant_id": "asst-nobody"}});
    let (st, _) = orchestra(&rig, Method::POST, "/api/threads", Some(unknown)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // Step 7: a schedule whose every firing continues the thread opened for it.
    let (st, schedule) = orchestra(
        &rig,
        Method::POST,
        "/api/schedules",
        Some(json!({"title": "Daily Blog Post Generator",
            "trigger": {"type": "cron", "expression": "0 9 * * 1"},
            "task": {"input": user_says("Write and publish a post about the latest AI news."),
                     "metadata": {"assistant_id": id, "thread_id": research}}})),
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
    let mut messages = Vec::new();
    for _ in 0..200 {
        let (_, t) = orchestra(&rig, Method::GET, &format!("/api/threads/{research}"), None).await;
        messages = t["messages"].as_array().cloned().unwrap_or_default();
        if messages.len() == 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        messages.len(),
        4,
        "the firing joined the thread: {messages:?}"
    );
    assert_eq!(messages[3]["content"], "Posted the news.", "{messages:?}");
    let sent = rig.openai.requests().last().unwrap()["messages"].to_string();
    assert!(
        sent.contains("Research AI news for Monday posts."),
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

#[tokio::test]
async fn threads_are_opened_listed_read_and_deleted_with_their_runs() {
    let rig = loopback_rig().await;
    let (st, bot) = orchestra(
        &rig,
        Method::POST,
        "/api/assistants",
        Some(json!({"name": "bot", "model": "openai:gpt-5.2"})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{bot}");
    let bot = bot["assistant_id"].as_str().unwrap().to_owned();
    let mut opened = Vec::new();
    for title in ["First", "Second"] {
        let body = json!({"metadata": {"assistant_id": bot, "title": title, "topic": "ai"}});
        let (st, t) = orchestra(&rig, Method::POST, "/api/threads", Some(body)).await;
        assert_eq!(st, StatusCode::CREATED, "{t}");
        assert_eq!(
            t["metadata"]["topic"], "ai",
            "further metadata is kept: {t}"
        );
        opened.push(t["thread_id"].as_str().unwrap().to_owned());
    }
    let (st, list) = orchestra(&rig, Method::GET, "/api/threads", None).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let titles: Vec<&str> = list["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["metadata"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Second", "First"], "newest first: {list}");
    assert_eq!(list["threads"][0]["metadata"]["assistant_id"], bot.as_str());
    let (_, page) = orchestra(&rig, Method::GET, "/api/threads?limit=1", None).await;
    assert_eq!(page["threads"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["has_more"], true, "{page}");
    let after = format!("/api/threads?limit=1&starting_after={}", opened[1]);
    let (_, rest) = orchestra(&rig, Method::GET, &after, None).await;
    assert_eq!(
        rest["threads"][0]["thread_id"],
        opened[0].as_str(),
        "{rest}"
    );
    assert_eq!(rest["has_more"], false, "{rest}");

    // A run continues the first thread; the thread reads back with it.
    let first = opened[0].clone();
    rig.openai.push(Turn::text("Hi there."));
    let run = json!({"input": user_says("hello"),
                     "metadata": {"assistant_id": bot, "thread_id": first}});
    let (st, out) = orchestra(&rig, Method::POST, "/api/llm/invoke", Some(run.clone())).await;
    assert_eq!(st, StatusCode::OK, "{out}");
    let path = format!("/api/threads/{first}");
    let (st, got) = orchestra(&rig, Method::GET, &path, None).await;
    assert_eq!(st, StatusCode::OK, "{got}");
    assert_eq!(got["metadata"]["title"], "First");
    assert_eq!(got["messages"][1]["content"], "Hi there.", "{got}");

    // Another end user neither sees nor continues it; the thread it opens is its own.
    let other = crate::ensemble::jwt("someone-else");
    let (st, _) = rig.s.call_as(Some(&other), Method::GET, &path, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = rig
        .s
        .call_as(
            Some(&other),
            Method::POST,
            "/api/llm/invoke",
            Some(run.clone()),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, own) = rig
        .s
        .call_as(
            Some(&other),
            Method::POST,
            "/api/threads",
            Some(json!({"metadata": {"title": "Mine"}})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{own}");
    let (_, theirs) = rig
        .s
        .call_as(Some(&other), Method::GET, "/api/threads", None)
        .await;
    assert_eq!(theirs["threads"].as_array().unwrap().len(), 1, "{theirs}");
    assert_eq!(theirs["threads"][0]["metadata"]["title"], "Mine");
    let (st, _) = rig
        .s
        .call_as(Some(&other), Method::DELETE, &path, None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // A third end user cannot run on the thread the second opened, through Ensemble either.
    rig.agent(
        "shaped",
        "openai/gpt-4o",
        json!({"output_schema": {"type": "object"}}),
    )
    .await;
    let third = crate::ensemble::jwt("a-third-one");
    let theirs_id = own["thread_id"].as_str().unwrap();
    let (st, err) = rig
        .s
        .call_as(
            Some(&third),
            Method::POST,
            "/api/agents/shaped/invoke",
            Some(json!({"message": "hi", "threadId": theirs_id})),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{err}");

    // While a run on it is in progress, the thread is not deleted: 409 names the run.
    rig.openai
        .push(Turn::text("Slow answer.").with_delay(std::time::Duration::from_secs(2)));
    let slow = rig
        .s
        .request(Method::POST, "/api/llm/invoke")
        .header("x-api-key", API_KEY)
        .json(&run);
    let running = tokio::spawn(async move { read(slow.send().await.unwrap()).await });
    let mut busy = None;
    for _ in 0..100 {
        let (_, t) = rig
            .s
            .call(Method::GET, &format!("/v2/threads/{first}"), None)
            .await;
        if let Some(task) = t["tasks"]
            .as_array()
            .and_then(|tasks| tasks.iter().find(|t| t["state"] == "working"))
        {
            busy = Some(task["task_id"].as_str().unwrap().to_owned());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let busy = busy.expect("a run in progress");
    let (st, err) = orchestra(&rig, Method::DELETE, &path, None).await;
    assert_eq!(st, StatusCode::CONFLICT, "{err}");
    assert!(
        err["error"]["message"].as_str().unwrap().contains(&busy),
        "{err}"
    );
    let (st, done) = running.await.unwrap();
    assert_eq!(st, StatusCode::OK, "{done}");

    // Deleted: the record and the runs with their history.
    let (st, _) = orchestra(&rig, Method::DELETE, &path, None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = orchestra(&rig, Method::GET, &path, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, gone) = rig
        .s
        .call(Method::GET, &format!("/v2/threads/{first}"), None)
        .await;
    assert!(
        st == StatusCode::NOT_FOUND || gone["tasks"] == json!([]),
        "{st} {gone}"
    );
    let (st, _) = orchestra(&rig, Method::DELETE, &path, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, list) = orchestra(&rig, Method::GET, "/api/threads", None).await;
    assert_eq!(list["threads"].as_array().unwrap().len(), 2, "{list}");

    // A thread only a run named (its id minted by the run) reads and deletes too.
    rig.openai.push(Turn::text("Minted."));
    let (st, out) = orchestra(
        &rig,
        Method::POST,
        "/api/llm/invoke",
        Some(json!({"input": user_says("new"), "metadata": {"assistant_id": bot}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{out}");
    let minted = format!("/api/threads/{}", out["thread_id"].as_str().unwrap());
    let (st, got) = orchestra(&rig, Method::GET, &minted, None).await;
    assert_eq!(st, StatusCode::OK, "{got}");
    assert_eq!(got["metadata"]["assistant_id"], bot.as_str(), "{got}");
    let (st, _) = orchestra(&rig, Method::DELETE, &minted, None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = orchestra(&rig, Method::GET, &minted, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = orchestra(&rig, Method::GET, "/api/threads/nope", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}
