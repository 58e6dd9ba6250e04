//! Secret headers of stored tools over their life: PATCHes keep them working (sealed once, never
//! twice), and they only ever go to the origin they were entered for.

use baton::ToolsFileConfig;
use baton_core::store::SecretCipher as _;
use baton_e2e::{backends, Options, TestServer, API_KEY};
use baton_store::ChaChaCipher;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use baton_e2e::AuthRecorder as Upstream;

async fn server(backend: baton_e2e::Backend) -> TestServer {
    let tools = ToolsFileConfig {
        allow_loopback: Some(true),
        ..Default::default()
    };
    TestServer::start_opts(backend, Some(API_KEY), Options::default().tools(tools)).await
}

fn http_tool(url: &str, auth: &str) -> Value {
    json!({"path": "Default", "key": "crm", "description": "CRM", "type": "http",
           "http": {"blueprint": {"url": format!("{url}/customers/{{{{id}}}}"), "method": "GET",
                    "headers": {"Authorization": {"value": auth, "encrypted": true}}},
                    "arguments": {"id": {"type": "string", "description": "Customer id"}}}})
}

/// Invokes the tool and returns the Authorization header the upstream got.
async fn invoke(s: &TestServer, id: &str, upstream: &Upstream) -> String {
    let before = upstream.seen().len();
    let (st, body) = s
        .call(
            Method::POST,
            &format!("/v2/tools/{id}/invoke"),
            Some(json!({"arguments": {"id": "c-1"}})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["result"], json!({"ok": true}), "{body}");
    let seen = upstream.seen();
    assert_eq!(seen.len(), before + 1, "one request upstream: {body}");
    seen[before].clone()
}

async fn patch(s: &TestServer, id: &str, body: Value) -> (StatusCode, Value) {
    s.call(Method::PATCH, &format!("/v2/tools/{id}"), Some(body))
        .await
}

#[tokio::test]
async fn secret_headers_survive_any_number_of_patches() {
    for backend in backends() {
        let s = server(backend).await;
        let api = Upstream::start().await;
        let (st, tool) = s
            .call(
                Method::POST,
                "/v2/tools",
                Some(http_tool(&api.url, "Bearer tok-A")),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{tool}");
        let id = tool["_id"].as_str().unwrap().to_owned();
        assert_eq!(invoke(&s, &id, &api).await, "Bearer tok-A");

        for round in 1..=3 {
            // A PATCH that does not mention the headers…
            let (st, body) = patch(&s, &id, json!({"description": format!("CRM v{round}")})).await;
            assert_eq!(st, StatusCode::OK, "{body}");
            assert_eq!(
                invoke(&s, &id, &api).await,
                "Bearer tok-A",
                "after {round} description PATCH(es)"
            );
            // …and one sending back the masked definition as read.
            let (_, read) = s.call(Method::GET, &format!("/v2/tools/{id}"), None).await;
            assert_eq!(
                read["http"]["blueprint"]["headers"]["Authorization"],
                json!({"value": "********", "encrypted": true})
            );
            let (st, body) = patch(&s, &id, json!({"http": read["http"]})).await;
            assert_eq!(st, StatusCode::OK, "{body}");
            assert_eq!(
                invoke(&s, &id, &api).await,
                "Bearer tok-A",
                "after {round} masked PATCH(es)"
            );
            let rows = s.raw_specs("tools").await;
            assert_eq!(rows[0].matches("enc:v").count(), 1, "{}", rows[0]);
            assert!(!rows[0].contains("tok-A"), "{}", rows[0]);
        }

        // A new value replaces the secret.
        let mut http = http_tool(&api.url, "Bearer tok-A2")["http"].clone();
        http["blueprint"]["method"] = json!("GET");
        let (st, body) = patch(&s, &id, json!({"http": http})).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        assert_eq!(invoke(&s, &id, &api).await, "Bearer tok-A2");
        s.stop().await;
    }
}

#[tokio::test]
async fn tools_stored_by_the_previous_version_keep_their_secret() {
    for backend in backends() {
        let s = server(backend).await;
        let api = Upstream::start().await;
        let (_, tool) = s
            .call(
                Method::POST,
                "/v2/tools",
                Some(http_tool(&api.url, "Bearer tok-new")),
            )
            .await;
        let id = tool["_id"].as_str().unwrap().to_owned();
        // The previous version stored the bare ciphertext (unbound) as the header's value.
        let key = std::fs::read_to_string(s.data_dir().join("secret.key")).unwrap();
        let legacy = ChaChaCipher::from_base64(&key)
            .unwrap()
            .seal("Bearer tok-legacy");
        assert!(legacy.starts_with("enc:v1:"));
        let mut stored: Value = serde_json::from_str(&s.raw_specs("tools").await[0]).unwrap();
        stored["http"]["blueprint"]["headers"]["Authorization"] =
            json!({"value": legacy, "encrypted": true});
        s.set_raw_tool_spec(&id, &stored.to_string()).await;

        assert_eq!(invoke(&s, &id, &api).await, "Bearer tok-legacy");
        for _ in 0..2 {
            let (st, body) = patch(&s, &id, json!({"description": "touched"})).await;
            assert_eq!(st, StatusCode::OK, "{body}");
            assert_eq!(invoke(&s, &id, &api).await, "Bearer tok-legacy");
        }
        let rows = s.raw_specs("tools").await;
        assert_eq!(rows[0].matches("enc:v").count(), 1, "{}", rows[0]);
        s.stop().await;
    }
}

#[tokio::test]
async fn a_stored_secret_never_follows_the_tool_to_another_host() {
    for backend in backends() {
        let s = server(backend).await;
        let home = Upstream::start().await;
        let elsewhere = Upstream::start().await;
        let (_, tool) = s
            .call(
                Method::POST,
                "/v2/tools",
                Some(http_tool(&home.url, "Bearer tok-home")),
            )
            .await;
        let id = tool["_id"].as_str().unwrap().to_owned();

        // Moving the URL (another port is another origin) while keeping the mask is refused.
        let (st, body) = patch(
            &s,
            &id,
            json!({"http": http_tool(&elsewhere.url, "********")["http"]}),
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            body["error"]["param"], "http.blueprint.headers.Authorization",
            "{body}"
        );
        assert_eq!(invoke(&s, &id, &home).await, "Bearer tok-home");
        assert!(elsewhere.seen().is_empty());

        // A placeholder where the host is would let the model pick where the secret goes.
        let mut moving = http_tool(&home.url, "Bearer tok-home");
        moving["key"] = json!("moving");
        moving["http"]["blueprint"]["url"] = json!("http://{{id}}/x");
        let (st, body) = s.call(Method::POST, "/v2/tools", Some(moving)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["param"], "http.blueprint.url", "{body}");

        // A client cannot hand in ciphertext of its own.
        let mut forged = http_tool(&elsewhere.url, "x");
        forged["key"] = json!("forged");
        forged["http"]["blueprint"]["headers"]["Authorization"]["value"] =
            json!({"sealed": "enc:v1:AAAA", "origin": elsewhere.url});
        let (st, body) = s.call(Method::POST, "/v2/tools", Some(forged)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");

        // Re-entering the value with the new URL works.
        let (st, body) = patch(
            &s,
            &id,
            json!({"http": http_tool(&elsewhere.url, "Bearer tok-elsewhere")["http"]}),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{body}");
        assert_eq!(invoke(&s, &id, &elsewhere).await, "Bearer tok-elsewhere");
        assert_eq!(home.seen().len(), 1);

        // The same for an MCP server's headers.
        let mcp = json!({"path": "Default", "key": "mcp_srv", "description": "MCP", "type": "mcp",
            "mcp": {"server_url": format!("{}/mcp", home.url), "connection_type": "http",
                    "headers": {"X-Api-Key": {"value": "mcp-secret", "encrypted": true}}}});
        let (st, tool) = s.call(Method::POST, "/v2/tools", Some(mcp)).await;
        assert_eq!(st, StatusCode::OK, "{tool}");
        let mcp_id = tool["_id"].as_str().unwrap();
        let mut moved = tool["mcp"].clone();
        moved["server_url"] = json!(format!("{}/mcp", elsewhere.url));
        let (st, body) = patch(&s, mcp_id, json!({"mcp": moved})).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["param"], "mcp.headers.X-Api-Key", "{body}");
        let (st, body) = patch(&s, mcp_id, json!({"description": "same server"})).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        s.stop().await;
    }
}

#[tokio::test]
async fn editing_the_stored_origin_does_not_move_a_secret() {
    for backend in backends() {
        let s = server(backend).await;
        let home = Upstream::start().await;
        let elsewhere = Upstream::start().await;
        let (_, tool) = s
            .call(
                Method::POST,
                "/v2/tools",
                Some(http_tool(&home.url, "Bearer tok-home")),
            )
            .await;
        let id = tool["_id"].as_str().unwrap().to_owned();
        // Someone with write access to the database points the tool and its secret elsewhere.
        let row = s.raw_specs("tools").await[0].replace(&home.url, &elsewhere.url);
        assert!(
            row.contains(&format!("\"origin\":\"{}\"", elsewhere.url)),
            "{row}"
        );
        s.set_raw_tool_spec(&id, &row).await;
        let (st, body) = s
            .call(
                Method::POST,
                &format!("/v2/tools/{id}/invoke"),
                Some(json!({"arguments": {"id": "c-1"}})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{body}");
        assert!(
            body["error"].as_str().unwrap().contains("Authorization"),
            "{body}"
        );
        assert!(elsewhere.seen().is_empty(), "the secret went nowhere");
        assert!(home.seen().is_empty());
        s.stop().await;
    }
}
