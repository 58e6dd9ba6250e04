//! Scopes: an end user's JWT runs agents and sees its own tasks, nothing else unless its
//! `scope` claim says so; API keys are `admin`, `project` or `run`.

use crate::runs::{user, Rig};
use baton_e2e::{backends, Backend, Options};
use baton_testkit::Turn;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub(crate) const SECRET: &str = "a-test-secret-of-at-least-32-bytes!!";

fn token(claims: Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap()
}

pub(crate) fn user_token(sub: &str, scope: Option<&str>) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({"sub": sub, "tenant": "default", "exp": now + 300});
    if let Some(scope) = scope {
        claims["scope"] = json!(scope);
    }
    token(claims)
}

async fn as_(
    rig: &Rig,
    credential: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    rig.s.call_as(Some(credential), method, path, body).await
}

fn assert_forbidden(st: StatusCode, body: &Value, scope: &str, what: &str) {
    assert_eq!(st, StatusCode::FORBIDDEN, "{what}: {body}");
    assert_eq!(body["error"]["code"], "forbidden", "{what}: {body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("`{scope}`")),
        "{what} names {scope}: {body}"
    );
}

fn code_tool() -> Value {
    json!({"path": "Default", "key": "pwn", "description": "d", "type": "code",
           "code_tool": {"language": "python", "code": "result = 1"}})
}

#[tokio::test]
async fn end_user_tokens_run_agents_and_see_only_their_own_tasks() {
    let rig = Rig::start_with(
        Backend::Sqlite,
        Options::default().env("BATON_JWT_SECRET", SECRET),
    )
    .await;
    rig.agent("helper", "openai/gpt-4o", json!({})).await;
    let (st, tool) = rig
        .s
        .call(
            Method::POST,
            "/v2/tools",
            Some(crate::function_tool("weather")),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{tool}");
    let alice = user_token("alice", None);
    let bob = user_token("bob", None);

    // Administration is out of reach.
    let attempts = [
        (
            Method::POST,
            "/v2/tools".to_owned(),
            Some(crate::function_tool("x")),
            "tools:write",
        ),
        (
            Method::POST,
            "/v2/tools".to_owned(),
            Some(code_tool()),
            "tools:write",
        ),
        (
            Method::DELETE,
            format!("/v2/tools/{}", tool["_id"].as_str().unwrap()),
            None,
            "tools:write",
        ),
        (
            Method::POST,
            "/v2/tools/weather/invoke".to_owned(),
            Some(json!({})),
            "tools:write",
        ),
        (
            Method::POST,
            "/v2/agents".to_owned(),
            Some(crate::agent_body("mine")),
            "agents:write",
        ),
        (
            Method::PATCH,
            "/v2/agents/helper".to_owned(),
            Some(json!({"instructions": "Obey me."})),
            "agents:write",
        ),
        (
            Method::DELETE,
            "/v2/agents/helper".to_owned(),
            None,
            "agents:write",
        ),
        (
            Method::POST,
            "/v2/memory-stores".to_owned(),
            Some(json!({"key": "m"})),
            "memory:write",
        ),
        (
            Method::POST,
            "/v3/agents/helper/schedules".to_owned(),
            Some(json!({})),
            "schedules:write",
        ),
        (Method::GET, "/v2/agents".to_owned(), None, "read"),
        (Method::GET, "/v2/tools".to_owned(), None, "read"),
        (Method::GET, "/v3/usage".to_owned(), None, "read"),
        (Method::GET, "/v2/api-keys".to_owned(), None, "admin"),
    ];
    for (method, path, body, scope) in attempts {
        let what = format!("{method} {path}");
        let (st, out) = as_(&rig, &alice, method, &path, body).await;
        assert_forbidden(st, &out, scope, &what);
    }
    let (st, out) = rig.s.call(Method::GET, "/v2/agents/helper", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        out["instructions"], "Help {{customer}} briefly.",
        "unchanged"
    );

    // Running works, as oneself.
    rig.openai.push(Turn::text("hi alice"));
    let (st, run) = as_(
        &rig,
        &alice,
        Method::POST,
        "/v2/agents/helper/responses",
        Some(json!({"message": user("hi"), "thread": {"id": "alice-thread"}})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{run}");
    let task = run["task_id"].as_str().unwrap().to_owned();
    let (st, out) = as_(
        &rig,
        &alice,
        Method::POST,
        "/v2/agents/helper/responses",
        Some(json!({"message": user("hi"), "identity": {"id": "bob"}})),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "acting as another user: {out}");
    let (st, out) = as_(
        &rig,
        &alice,
        Method::POST,
        "/v2/agents/helper/responses",
        Some(json!({"message": user("hi"), "memory": {"entity_id": "bob"}})),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "another user's memories: {out}");

    let own = [
        (Method::GET, format!("/v2/agents/helper/responses/{task}")),
        (
            Method::GET,
            format!("/v2/agents/helper/responses/{task}/stream"),
        ),
        (
            Method::POST,
            format!("/v2/agents/helper/responses/{task}/cancel"),
        ),
        (Method::GET, "/v2/threads/alice-thread".to_owned()),
    ];
    for (method, path) in own {
        // Alice's own; another user's tasks and threads do not exist for bob.
        for (who, credential, expected) in [
            ("alice", &alice, StatusCode::OK),
            ("bob", &bob, StatusCode::NOT_FOUND),
        ] {
            let resp = rig
                .s
                .request(method.clone(), &path)
                .bearer_auth(credential)
                .send()
                .await
                .unwrap();
            let st = resp.status();
            let text = resp.text().await.unwrap();
            assert_eq!(st, expected, "{who}: {method} {path}: {text}");
        }
    }
    for body in [
        json!({"message": user("and?"), "task_id": task}),
        json!({"message": user("what did alice say?"), "thread": {"id": "alice-thread"}}),
    ] {
        let before = rig.openai.request_count();
        let (st, out) = as_(
            &rig,
            &bob,
            Method::POST,
            "/v2/agents/helper/responses",
            Some(body),
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{out}");
        assert_eq!(rig.openai.request_count(), before, "no run for bob");
    }
    // Alice continues her own task.
    rig.openai.push(Turn::text("more"));
    let (st, out) = as_(
        &rig,
        &alice,
        Method::POST,
        "/v2/agents/helper/responses",
        Some(json!({"message": user("and?"), "task_id": task})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{out}");

    // An explicit scope claim grants more, and only that.
    let builder = user_token("ci", Some("tools:write agents:write"));
    let (st, out) = as_(
        &rig,
        &builder,
        Method::POST,
        "/v2/tools",
        Some(crate::function_tool("built")),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{out}");
    let (st, out) = as_(
        &rig,
        &builder,
        Method::PATCH,
        "/v2/agents/helper",
        Some(json!({"description": "x"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{out}");
    let (st, out) = as_(&rig, &builder, Method::GET, "/v2/api-keys", None).await;
    assert_forbidden(st, &out, "admin", "scope claims never grant admin");
    let reader = user_token("support", Some("read"));
    let (st, out) = as_(
        &rig,
        &reader,
        Method::GET,
        &format!("/v2/agents/helper/responses/{task}"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "`read` sees every task: {out}");

    // A token that is not valid yet is refused.
    let now = chrono::Utc::now().timestamp();
    let early =
        token(json!({"sub": "alice", "tenant": "default", "nbf": now + 3600, "exp": now + 7200}));
    let (st, out) = as_(
        &rig,
        &early,
        Method::POST,
        "/v2/agents/helper/responses",
        Some(json!({"message": user("hi")})),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{out}");
}

#[tokio::test]
async fn api_keys_are_admin_project_or_run() {
    for backend in backends() {
        api_key_roles(Rig::start(backend).await).await;
    }
}

async fn api_key_roles(rig: Rig) {
    rig.agent("helper", "openai/gpt-4o", json!({})).await;
    let new_key = |body: Value| {
        let rig = &rig;
        async move {
            let (st, out) = rig.s.call(Method::POST, "/v2/api-keys", Some(body)).await;
            (st, out)
        }
    };
    let (st, run_key) =
        new_key(json!({"name": "runner", "project_id": "default", "scope": "run"})).await;
    assert_eq!(st, StatusCode::CREATED, "{run_key}");
    assert_eq!(
        (run_key["scope"].as_str(), run_key["admin"].as_bool()),
        (Some("run"), Some(false))
    );
    let (st, project_key) = new_key(json!({"name": "team", "project_id": "default"})).await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(project_key["scope"], "project");
    let (st, admin_key) =
        new_key(json!({"name": "ops", "project_id": "default", "admin": true})).await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(admin_key["scope"], "admin");
    let (st, out) = new_key(json!({"name": "x", "project_id": "default", "scope": "root"})).await;
    assert_eq!(
        (st, out["error"]["param"].as_str()),
        (StatusCode::BAD_REQUEST, Some("scope")),
        "{out}"
    );
    let (st, out) =
        new_key(json!({"name": "x", "project_id": "default", "scope": "run", "admin": true})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{out}");
    let (run_key, project_key, admin_key) = (
        run_key["key"].as_str().unwrap(),
        project_key["key"].as_str().unwrap(),
        admin_key["key"].as_str().unwrap(),
    );

    // A task someone else started: a run key reads every task of its project.
    rig.openai.push(Turn::text("done"));
    let (st, run) = rig.respond("helper", json!({"message": user("hi")})).await;
    assert_eq!(st, StatusCode::OK, "{run}");
    let task_path = format!(
        "/v2/agents/helper/responses/{}",
        run["task_id"].as_str().unwrap()
    );

    // run: runs and reads, changes nothing.
    rig.openai.push(Turn::text("ran"));
    let (st, out) = as_(
        &rig,
        run_key,
        Method::POST,
        "/v2/agents/helper/responses",
        Some(json!({"message": user("go")})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{out}");
    for path in ["/v2/agents", "/v2/tools", task_path.as_str()] {
        let (st, out) = as_(&rig, run_key, Method::GET, path, None).await;
        assert_eq!(st, StatusCode::OK, "{path}: {out}");
    }
    let (st, out) = as_(
        &rig,
        run_key,
        Method::POST,
        "/v2/tools",
        Some(crate::function_tool("t")),
    )
    .await;
    assert_forbidden(st, &out, "tools:write", "run key creates a tool");
    let (st, out) = as_(
        &rig,
        run_key,
        Method::PATCH,
        "/v2/agents/helper",
        Some(json!({"description": "x"})),
    )
    .await;
    assert_forbidden(st, &out, "agents:write", "run key edits an agent");
    let (st, out) = as_(
        &rig,
        run_key,
        Method::POST,
        "/v2/knowledge",
        Some(json!({"key": "kb"})),
    )
    .await;
    assert_forbidden(
        st,
        &out,
        "knowledge:write",
        "run key makes a knowledge base",
    );

    // project: manages its project, not keys.
    let (st, out) = as_(
        &rig,
        project_key,
        Method::POST,
        "/v2/tools",
        Some(crate::function_tool("t")),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{out}");
    let (st, out) = as_(&rig, project_key, Method::GET, "/v2/api-keys", None).await;
    assert_forbidden(st, &out, "admin", "project key lists keys");

    // admin: keys too.
    let (st, out) = as_(&rig, admin_key, Method::GET, "/v2/api-keys", None).await;
    assert_eq!(st, StatusCode::OK, "{out}");
    let scopes: Vec<&str> = out["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["scope"].as_str().unwrap())
        .collect();
    assert_eq!(
        scopes.iter().filter(|s| **s == "admin").count(),
        2,
        "bootstrap key and ops: {out}"
    );
    rig.s.stop().await;
}
