//! Ensemble's Agent API (`/api/agents/{agentId}/invoke` and `/schema`): its walkthrough end to
//! end with an HTTP tool against a loopback stand-in for JSONPlaceholder, and its error table.

use crate::runs::Rig;
use axum::extract::State;
use baton::ToolsFileConfig;
use baton_e2e::{read, Backend, Options, API_KEY};
use baton_testkit::Turn;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

const SECRET: &str = "a-test-secret-of-at-least-32-bytes!!";

/// A loopback stand-in for JSONPlaceholder: `POST /posts` answers the post with `id: 101`.
pub struct Placeholder {
    pub url: String,
    posts: Arc<Mutex<Vec<Value>>>,
}

async fn create_post(
    State(posts): State<Arc<Mutex<Vec<Value>>>>,
    axum::Json(mut post): axum::Json<Value>,
) -> (axum::http::StatusCode, axum::Json<Value>) {
    posts.lock().unwrap().push(post.clone());
    post["id"] = json!(101);
    (axum::http::StatusCode::CREATED, axum::Json(post))
}

impl Placeholder {
    pub async fn start() -> Self {
        let posts = Arc::new(Mutex::new(Vec::new()));
        let app = axum::Router::new()
            .route("/posts", axum::routing::post(create_post))
            .with_state(posts.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, posts }
    }

    /// The posts received, oldest first.
    pub fn posts(&self) -> Vec<Value> {
        self.posts.lock().unwrap().clone()
    }
}

/// A rig whose HTTP tools may call loopback and that accepts HS256 JWTs.
pub async fn loopback_rig() -> Rig {
    let tools = ToolsFileConfig {
        allow_loopback: Some(true),
        ..Default::default()
    };
    Rig::start_with(
        Backend::Sqlite,
        Options::default()
            .tools(tools)
            .env("BATON_JWT_SECRET", SECRET),
    )
    .await
}

pub(crate) fn jwt(sub: &str) -> String {
    let claims = json!({"sub": sub, "tenant": "default",
                        "exp": chrono::Utc::now().timestamp() + 300});
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap()
}

/// An Ensemble-style call: `x-api-key` and `x-tenant-id` headers.
async fn ensemble(
    rig: &Rig,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = rig
        .s
        .request(method, path)
        .header("x-api-key", key)
        .header("x-tenant-id", "default");
    if let Some(body) = body {
        req = req.json(&body);
    }
    // `request` sets the test key as Bearer: drop it so only the Ensemble headers count.
    let mut built = req.build().unwrap();
    built.headers_mut().remove("authorization");
    read(reqwest::Client::new().execute(built).await.unwrap()).await
}

fn poems_schema() -> Value {
    json!({"type": "object", "required": ["poems"], "properties": {"poems": {"type": "array",
        "items": {"type": "object", "properties": {
            "content": {"type": "string"}, "style": {"type": "string"}}}}}})
}

async fn poet(rig: &Rig, place: &Placeholder) {
    let (st, tool) = rig
        .s
        .call(
            Method::POST,
            "/v2/tools",
            Some(json!({"path": "Default", "key": "create_post", "type": "http",
                "description": "Publish a post", "status": "live",
                "http": {"blueprint": {"url": format!("{}/posts", place.url), "method": "POST",
                    "body": {"title": "{{title}}", "body": "{{body}}", "department": "{{department}}"}},
                 "arguments": {"title": {"type": "string", "description": "Title"},
                     "body": {"type": "string", "description": "Text"},
                     "department": {"type": "string", "description": "Team",
                                    "send_to_model": false}}}})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{tool}");
    rig.agent(
        "poem-generator",
        "openai/gpt-4o",
        json!({"display_name": "Poem Generator", "output_schema": poems_schema(),
               "settings": {"tools": [{"type": "http", "key": "create_post"}]}}),
    )
    .await;
}

fn haiku(text: &str) -> Turn {
    Turn::text(json!({"poems": [{"content": text, "style": "haiku"}]}).to_string())
}

/// Every text the model was sent in one request.
fn sent_text(request: &Value) -> String {
    request["messages"].to_string()
}

#[tokio::test]
async fn the_agent_api_walkthrough_runs_end_to_end() {
    let place = Placeholder::start().await;
    let rig = loopback_rig().await;
    poet(&rig, &place).await;

    let (st, schema) = ensemble(
        &rig,
        API_KEY,
        Method::GET,
        "/api/agents/poem-generator/schema?version=latest",
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{schema}");
    assert_eq!(
        schema,
        json!({"agentId": "poem-generator", "name": "Poem Generator", "outputSchema": poems_schema()})
    );

    // The model publishes a post with the tool, then answers in the schema.
    rig.openai.push(Turn::tool_calls(vec![(
        "create_post",
        json!({"title": "Haiku", "body": "Lines of code flow fast"}),
    )]));
    rig.openai.push(haiku("Lines of code flow fast"));
    let (st, first) = ensemble(
        &rig,
        API_KEY,
        Method::POST,
        "/api/agents/poem-generator/invoke",
        Some(json!({"message": "Write a haiku about coding",
                    "dataContext": {"department": "Engineering", "budget": 10000}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{first}");
    assert_eq!(
        first["data"],
        json!({"poems": [{"content": "Lines of code flow fast", "style": "haiku"}]})
    );
    let thread = first["threadId"].as_str().unwrap().to_owned();
    assert!(thread.starts_with("invoke-"), "{first}");
    // dataContext filled the tool's hidden argument and reached the model's context.
    assert_eq!(
        place.posts(),
        vec![
            json!({"title": "Haiku", "body": "Lines of code flow fast", "department": "Engineering"})
        ]
    );
    let requests = rig.openai.requests();
    assert!(sent_text(&requests[0]).contains("10000"), "{}", requests[0]);
    assert_eq!(
        requests[0]["response_format"]["type"], "json_schema",
        "{}",
        requests[0]
    );

    // A follow-up with the thread id carries the conversation so far.
    rig.openai.push(haiku("Bugs emerge then fade away"));
    let (st, second) = ensemble(
        &rig,
        API_KEY,
        Method::POST,
        "/api/agents/poem-generator/invoke",
        Some(json!({"message": "Another one", "threadId": thread})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{second}");
    assert_eq!(second["threadId"], thread.as_str());
    let last = rig.openai.requests().pop().unwrap();
    assert!(
        sent_text(&last).contains("Write a haiku about coding"),
        "{last}"
    );

    // A signed JWT as Bearer works too.
    rig.openai.push(haiku("Ship it, hope it works"));
    let (st, by_jwt) = rig
        .s
        .call_as(
            Some(&jwt("end-user")),
            Method::POST,
            "/api/agents/poem-generator/invoke",
            Some(json!({"message": "One more"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{by_jwt}");
    assert_eq!(
        by_jwt["data"]["poems"][0]["content"],
        "Ship it, hope it works"
    );
}

#[tokio::test]
async fn versions_are_selected_by_number_latest_or_published() {
    let place = Placeholder::start().await;
    let rig = loopback_rig().await;
    poet(&rig, &place).await;
    let v2_schema = json!({"type": "object", "required": ["title"],
                           "properties": {"title": {"type": "string"}}});
    let (st, body) = rig
        .s
        .call(
            Method::PATCH,
            "/v2/agents/poem-generator",
            Some(json!({"output_schema": v2_schema})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    for (version, expected) in [("1", poems_schema()), ("latest", v2_schema.clone())] {
        let path = format!("/api/agents/poem-generator/schema?version={version}");
        let (st, schema) = ensemble(&rig, API_KEY, Method::GET, &path, None).await;
        assert_eq!(st, StatusCode::OK, "{schema}");
        assert_eq!(schema["outputSchema"], expected, "version {version}");
    }
    // Version 1 runs with its own schema.
    rig.openai.push(haiku("Old version"));
    let (st, out) = ensemble(
        &rig,
        API_KEY,
        Method::POST,
        "/api/agents/poem-generator/invoke",
        Some(json!({"message": "Go", "version": 1})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{out}");
    assert_eq!(out["data"]["poems"][0]["content"], "Old version");

    // `published` names nothing until the agent is published.
    let published = "/api/agents/poem-generator/schema?version=published";
    let (st, err) = ensemble(&rig, API_KEY, Method::GET, published, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{err}");
    let (st, body) = rig
        .s
        .call(
            Method::PATCH,
            "/v2/agents/poem-generator",
            Some(json!({"status": "published"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let (st, schema) = ensemble(&rig, API_KEY, Method::GET, published, None).await;
    assert_eq!(st, StatusCode::OK, "{schema}");
    assert_eq!(schema["outputSchema"], v2_schema);
}

#[tokio::test]
async fn a_published_version_answers_until_another_is_published() {
    let place = Placeholder::start().await;
    let rig = loopback_rig().await;
    poet(&rig, &place).await;
    let titles = json!({"type": "object", "required": ["title"],
                        "properties": {"title": {"type": "string"}}});
    let patch = |body: Value| {
        let rig = &rig;
        async move {
            let (st, out) = rig
                .s
                .call(Method::PATCH, "/v2/agents/poem-generator", Some(body))
                .await;
            assert_eq!(st, StatusCode::OK, "{out}");
        }
    };
    patch(json!({"instructions": "Write limericks.", "output_schema": titles})).await;
    let publish = |n: &str| format!("/v2/agents/poem-generator/versions/{n}/publish");
    let (st, marked) = rig.s.call(Method::POST, &publish("2"), None).await;
    assert_eq!(st, StatusCode::OK, "{marked}");
    assert_eq!(
        (
            marked["version_number"].clone(),
            marked["published"].clone()
        ),
        (json!(2), json!(true)),
        "{marked}"
    );
    // A later version is live but not published.
    patch(json!({"instructions": "Write sonnets.", "output_schema": poems_schema()})).await;
    let published = "/api/agents/poem-generator/schema?version=published";
    let (st, schema) = ensemble(&rig, API_KEY, Method::GET, published, None).await;
    assert_eq!(st, StatusCode::OK, "{schema}");
    assert_eq!(schema["outputSchema"], titles, "{schema}");
    rig.openai.push(Turn::text(
        json!({"title": "There once was a coder"}).to_string(),
    ));
    let (st, out) = ensemble(
        &rig,
        API_KEY,
        Method::POST,
        "/api/agents/poem-generator/invoke",
        Some(json!({"message": "Go", "version": "published"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{out}");
    assert_eq!(out["data"]["title"], "There once was a coder", "{out}");
    let sent = sent_text(&rig.openai.requests().pop().unwrap());
    assert!(sent.contains("Write limericks."), "{sent}");
    assert!(!sent.contains("Write sonnets."), "{sent}");
    // `latest` is still the live version 3.
    rig.openai.push(haiku("Latest"));
    let (st, out) = ensemble(
        &rig,
        API_KEY,
        Method::POST,
        "/api/agents/poem-generator/invoke",
        Some(json!({"message": "Go"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{out}");
    assert!(sent_text(&rig.openai.requests().pop().unwrap()).contains("Write sonnets."));

    let (st, versions) = rig
        .s
        .call(Method::GET, "/v2/agents/poem-generator/versions", None)
        .await;
    assert_eq!(st, StatusCode::OK, "{versions}");
    let marks: Vec<(u64, bool, bool)> = versions["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let n = v["version_number"].as_u64().unwrap();
            (n, v["live"] == true, v["published"] == true)
        })
        .collect();
    assert_eq!(
        marks,
        [(3, true, false), (2, false, true), (1, false, false)]
    );

    // Publishing another version moves the mark.
    let (st, _) = rig.s.call(Method::POST, &publish("1"), None).await;
    assert_eq!(st, StatusCode::OK);
    let (_, schema) = ensemble(&rig, API_KEY, Method::GET, published, None).await;
    assert_eq!(schema["outputSchema"], poems_schema(), "{schema}");

    let (st, err) = rig.s.call(Method::POST, &publish("9"), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{err}");
    let (st, err) = rig.s.call(Method::POST, &publish("one"), None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["error"]["param"], "version", "{err}");
    let (st, err) = rig
        .s
        .call(Method::POST, "/v2/agents/nobody/versions/1/publish", None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{err}");
    // An agent with no published version: Ensemble's 404.
    rig.agent("fresh", "openai/gpt-4o", json!({"output_schema": titles}))
        .await;
    let (st, err) = ensemble(
        &rig,
        API_KEY,
        Method::GET,
        "/api/agents/fresh/schema?version=published",
        None,
    )
    .await;
    assert_error(st, &err, StatusCode::NOT_FOUND, "Agent not found");
}

fn assert_error(st: StatusCode, body: &Value, status: StatusCode, message: &str) {
    assert_eq!(st, status, "{body}");
    assert_eq!(body["error"]["message"], message, "{body}");
}

#[tokio::test]
async fn every_row_of_the_error_table() {
    let place = Placeholder::start().await;
    let rig = loopback_rig().await;
    poet(&rig, &place).await;
    rig.agent("plain", "openai/gpt-4o", json!({})).await;
    rig.agent(
        "supervisor",
        "openai/gpt-4o",
        json!({"output_schema": poems_schema(), "team_of_agents": [{"key": "plain"}]}),
    )
    .await;
    let invoke = |agent: &str| format!("/api/agents/{agent}/invoke");
    let bad = StatusCode::BAD_REQUEST;
    for body in [json!({}), json!({"message": ""}), json!({"message": 7})] {
        let (st, err) = ensemble(
            &rig,
            API_KEY,
            Method::POST,
            &invoke("poem-generator"),
            Some(body),
        )
        .await;
        assert_error(st, &err, bad, "message is required");
        assert_eq!(err["error"]["param"], "message");
    }
    let hi = Some(json!({"message": "hi"}));
    let (st, err) = ensemble(&rig, API_KEY, Method::POST, &invoke("plain"), hi.clone()).await;
    assert_error(st, &err, bad, "Agent does not have structured output");
    let (st, err) = ensemble(&rig, API_KEY, Method::GET, "/api/agents/plain/schema", None).await;
    assert_error(st, &err, bad, "Agent does not have structured output");
    let (st, err) = ensemble(
        &rig,
        API_KEY,
        Method::POST,
        &invoke("supervisor"),
        hi.clone(),
    )
    .await;
    assert_error(st, &err, bad, "Supervisor agents cannot be invoked");
    let (st, err) = ensemble(
        &rig,
        "sk_wrong",
        Method::POST,
        &invoke("poem-generator"),
        hi.clone(),
    )
    .await;
    assert_error(
        st,
        &err,
        StatusCode::UNAUTHORIZED,
        "Invalid or disabled API key",
    );
    let (st, err) = ensemble(&rig, API_KEY, Method::POST, &invoke("nobody"), hi.clone()).await;
    assert_error(st, &err, StatusCode::NOT_FOUND, "Agent not found");
    let missing = Some(json!({"message": "hi", "version": 9}));
    let (st, err) = ensemble(
        &rig,
        API_KEY,
        Method::POST,
        &invoke("poem-generator"),
        missing,
    )
    .await;
    assert_error(st, &err, StatusCode::NOT_FOUND, "Agent not found");
    let path = "/api/agents/poem-generator/schema?version=banana";
    let (st, err) = ensemble(&rig, API_KEY, Method::GET, path, None).await;
    assert_error(st, &err, StatusCode::NOT_FOUND, "Agent not found");
    assert_eq!(rig.openai.request_count(), 0, "no error reached the model");
}
