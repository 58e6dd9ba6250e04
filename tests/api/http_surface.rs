//! The HTTP surface under hostile input: NUL characters, oversized bodies, broken paths,
//! ambiguous JSON, what listings show of keys, files at rest, and CORS.

use crate::agent_body;
use baton_e2e::{backends, Backend, Options, TestServer, API_KEY};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A 400 in the API's JSON error shape naming `param`.
fn assert_names(status: StatusCode, body: &Value, param: &str, what: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
    assert_eq!(body["error"]["param"], param, "{what}: {body}");
    assert!(body["error"]["code"].is_string(), "{what}: {body}");
    assert!(
        body["message"].as_str().unwrap_or_default().contains(param),
        "{what}: {body}"
    );
}

/// Status and JSON body of a raw request (the harness' `call_raw` takes only static bodies).
async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{status}: not the JSON error shape ({e}): {text:?}"));
    (status, body)
}

#[tokio::test]
async fn nul_characters_are_a_400_naming_the_field_on_every_database() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (st, _) = s
            .call(Method::POST, "/v2/agents", Some(agent_body("keeper")))
            .await;
        assert_eq!(st, StatusCode::CREATED);
        let (st, _) = s
            .call(
                Method::POST,
                "/v2/memory-stores",
                Some(json!({"key": "m", "description": "d", "path": "Default",
                            "embedding_config": {"model": "openai/text-embedding-3-small"}})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);

        let user = |text: &str| json!({"role": "user", "parts": [{"kind": "text", "text": text}]});
        for (path, body, param) in [
            (
                "/v2/agents/keeper/responses",
                json!({"message": user("hi"), "memory": {"entity_id": "e\u{0}"}}),
                "memory.entity_id",
            ),
            (
                "/v2/agents/keeper/responses",
                json!({"message": user("a\u{0}b")}),
                "message.parts[0].text",
            ),
            (
                "/v2/agents",
                json!({"key": "k", "role": "r", "description": "d\u{0}", "instructions": "i",
                       "path": "Default", "model": "openai/gpt-4o"}),
                "description",
            ),
            (
                "/v2/memory-stores/m/memories",
                json!({"entity_id": "u\u{0}"}),
                "entity_id",
            ),
            (
                "/v2/knowledge",
                json!({"key": "kb", "path": "Default", "description": "\u{0}"}),
                "description",
            ),
        ] {
            let (st, answer) = s.call(Method::POST, path, Some(body)).await;
            assert_names(st, &answer, param, &format!("{backend:?} POST {path}"));
        }
        // Batch endpoints take arrays: a datasource's chunks, Orchestra's tool calls.
        for (path, body, param) in [
            (
                "/v2/knowledge/kb/datasources/ds/chunks",
                json!([{"text": "fine"}, {"text": "datasource\u{0}text"}]),
                "[1].text",
            ),
            (
                "/api/tools/invoke",
                json!([{"name": "current_date", "args": {"q": "\u{0}"}}]),
                "[0].args.q",
            ),
        ] {
            let (st, answer) = s.call(Method::POST, path, Some(body)).await;
            assert_names(st, &answer, param, &format!("{backend:?} POST {path}"));
        }
        for (path, param) in [
            ("/v2/agents/a%00b", "agent_key"),
            ("/v2/agents/keeper/responses/t%00/stream", "task_id"),
            ("/v2/memory-stores/m/memories/u%00", "entity"),
            ("/v2/agents?starting_after=%00", "starting_after"),
        ] {
            let (st, answer) = s.call(Method::GET, path, None).await;
            assert_names(st, &answer, param, &format!("{backend:?} GET {path}"));
        }
        // Nothing was stored, and the database still answers.
        let (st, list) = s.call(Method::GET, "/v2/agents", None).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(list["data"].as_array().unwrap().len(), 1, "{list}");
        s.stop().await;
    }
}

#[tokio::test]
async fn oversized_bodies_broken_paths_and_repeated_keys_get_clear_errors() {
    let s = TestServer::start(Backend::Sqlite).await;
    let mut big = agent_body("big");
    big["instructions"] = json!("x".repeat(3 * 1024 * 1024));
    let (st, body) = s.call(Method::POST, "/v2/agents", Some(big)).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large", "{body}");
    let chunks = json!([{"text": "x".repeat(3 * 1024 * 1024)}]);
    let (st, body) = s
        .call(
            Method::POST,
            "/v2/knowledge/kb/datasources/ds/chunks",
            Some(chunks),
        )
        .await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{body}");

    let (st, body) = send(
        s.request(Method::GET, "/v2/agents/%FF%FE")
            .bearer_auth(API_KEY),
    )
    .await;
    assert_names(st, &body, "agent_key", "invalid UTF-8 in the path");

    let (st, body) = send(
        s.request(Method::POST, "/v2/agents")
            .bearer_auth(API_KEY)
            .header("content-type", "application/json")
            .body(
                r#"{"key": "a1", "key": "a2", "role": "r", "description": "d",
                      "instructions": "i", "path": "Default", "model": "openai/gpt-4o"}"#,
            ),
    )
    .await;
    assert_names(st, &body, "key", "a repeated key");
    let (st, body) = send(
        s.request(Method::POST, "/v2/agents")
            .bearer_auth(API_KEY)
            .header("content-type", "application/json")
            .body(
                r#"{"key": "a1", "role": "r", "description": "d", "instructions": "i",
                      "path": "Default", "model": "openai/gpt-4o",
                      "settings": {"max_iterations": 3, "max_iterations": 100}}"#,
            ),
    )
    .await;
    assert_names(
        st,
        &body,
        "settings.max_iterations",
        "a repeated nested key",
    );
    s.stop().await;
}

#[tokio::test]
async fn agents_refuse_unknown_fields_and_unsafe_paths() {
    let s = TestServer::start(Backend::Sqlite).await;
    let mut unknown = agent_body("u1");
    unknown["instructionz"] = json!("typo");
    let (st, body) = s.call(Method::POST, "/v2/agents", Some(unknown)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("instructionz"),
        "{body}"
    );
    let mut unknown_setting = agent_body("u2");
    unknown_setting["settings"] = json!({"max_iteratoins": 3});
    let (st, body) = s
        .call(Method::POST, "/v2/agents", Some(unknown_setting))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("max_iteratoins"),
        "{body}"
    );
    let long = "a".repeat(5_000);
    for path in [
        "../etc",
        "/abs",
        "a//b",
        "Default/\u{0}",
        "Default/..",
        long.as_str(),
    ] {
        let mut bad = agent_body("p1");
        bad["path"] = json!(path);
        let (st, body) = s.call(Method::POST, "/v2/agents", Some(bad)).await;
        assert_names(st, &body, "path", &format!("path {path:.20}"));
        let (st, body) = s
            .call(
                Method::POST,
                "/v2/tools",
                Some(
                    json!({"path": path, "key": "t1", "description": "d", "type": "function",
                            "function": {"name": "t1", "parameters": {"type": "object"}}}),
                ),
            )
            .await;
        assert_names(st, &body, "path", &format!("tool path {path:.20}"));
    }
    let (st, _) = s
        .call(Method::POST, "/v2/agents", Some(agent_body("fine")))
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, body) = s
        .call(
            Method::PATCH,
            "/v2/agents/fine",
            Some(json!({"path": "a//b"})),
        )
        .await;
    assert_names(st, &body, "path", "PATCH path");
    let (st, body) = s
        .call(
            Method::PATCH,
            "/v2/agents/fine",
            Some(json!({"colour": "red"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    s.stop().await;
}

#[tokio::test]
async fn a_short_bootstrap_key_is_never_listed_whole_and_the_database_is_private() {
    let s = TestServer::start_with(Backend::Sqlite, Some("dev-key")).await;
    let (st, list) = s
        .call_as(Some("dev-key"), Method::GET, "/v2/api-keys", None)
        .await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let prefix = list["data"][0]["prefix"].as_str().unwrap().to_owned();
    assert!(prefix.len() <= 2, "{list}");
    assert!(!list.to_string().contains("dev-key"), "{list}");
    let (st, created) = s
        .call_as(
            Some("dev-key"),
            Method::POST,
            "/v2/api-keys",
            Some(json!({"name": "ci", "project_id": "Default"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{created}");
    let key = created["key"].as_str().unwrap();
    let shown = created["prefix"].as_str().unwrap();
    assert!(key.starts_with(shown) && shown.len() <= 12, "{created}");

    use std::os::unix::fs::PermissionsExt;
    for file in ["baton.db", "secret.key"] {
        let mode = std::fs::metadata(s.data_dir().join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file} is {:o}", mode & 0o777);
    }
    s.stop().await;
}

#[tokio::test]
async fn cors_answers_listed_origins_only_and_preflights_need_no_key() {
    let plain = TestServer::start(Backend::Sqlite).await;
    let resp = plain
        .request(Method::OPTIONS, "/v2/agents")
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(
        resp.headers().get("access-control-allow-origin").is_none(),
        "no origins configured, no CORS headers"
    );
    plain.stop().await;

    let options = Options {
        server: baton::ServerFileConfig {
            cors_allowed_origins: vec!["https://app.example.com".into()],
            ..Default::default()
        },
        ..Options::default()
    };
    let s = TestServer::start_opts(Backend::Sqlite, Some(API_KEY), options).await;
    let preflight = |origin: &'static str| {
        s.request(Method::OPTIONS, "/v2/agents/a1/responses")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let resp = preflight("https://app.example.com").await.unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let headers = resp.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    let allowed = headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("authorization"), "{allowed}");
    assert!(headers["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    let resp = preflight("https://evil.example.com").await.unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    // Real requests still need credentials, and carry the header for the listed origin.
    let resp = s
        .request(Method::GET, "/v2/agents")
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = s
        .request(Method::GET, "/v2/agents")
        .header("origin", "https://app.example.com")
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    s.stop().await;
}
