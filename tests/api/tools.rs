use crate::function_tool;
use baton_e2e::{backends, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;

const SECRET: &str = "Bearer sk-live-PLANTED-SECRET-9f8e7d";

fn http_tool() -> serde_json::Value {
    json!({"path": "Default", "key": "crm_lookup", "description": "Looks up a customer", "type": "http",
           "status": "live",
           "http": {"blueprint": {"url": "https://crm.example.com/customers/{{id}}", "method": "GET",
                    "headers": {"Authorization": {"value": SECRET, "encrypted": true}, "X-Plain": "visible"}},
                    "arguments": {"id": {"type": "string", "description": "Customer id"}}}})
}

#[tokio::test]
async fn tool_crud_in_orq_wire_format() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (st, tool) = s
            .call(
                Method::POST,
                "/v2/tools",
                Some(function_tool("get_weather")),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{tool}");
        for field in ["_id", "project_id", "workspace_id", "created", "updated"] {
            assert!(tool[field].is_string(), "{field} in {tool}");
        }
        assert_eq!(tool["function"]["parameters"]["required"], json!(["city"]));
        let id = tool["_id"].as_str().unwrap();

        let (st, by_id) = s.call(Method::GET, &format!("/v2/tools/{id}"), None).await;
        assert_eq!((st, &by_id), (StatusCode::OK, &tool));
        let (_, by_key) = s.call(Method::GET, "/v2/tools/get_weather", None).await;
        assert_eq!(by_key, tool);

        let (st, updated) = s
            .call(
                Method::PATCH,
                &format!("/v2/tools/{id}"),
                Some(json!({"description": "Weather now"})),
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(updated["description"], "Weather now");
        assert_eq!(updated["function"], tool["function"]);

        let (st, list) = s.call(Method::GET, "/v2/tools?limit=10.0", None).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(list["data"].as_array().unwrap().len(), 1);

        let (st, _) = s
            .call(Method::DELETE, &format!("/v2/tools/{id}"), None)
            .await;
        assert_eq!(st, StatusCode::OK);
        let (st, body) = s.call(Method::GET, &format!("/v2/tools/{id}"), None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert!(body["message"].is_string());
        let (st, body) = s
            .call(
                Method::PATCH,
                &format!("/v2/tools/{id}"),
                Some(json!({"description": "x"})),
            )
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert!(
            body["error"].is_string(),
            "orq's tool-update 404 is {{error: string}}: {body}"
        );
        s.stop().await;
    }
}

#[tokio::test]
async fn secret_headers_are_encrypted_at_rest_and_never_returned() {
    for backend in backends() {
        let mut s = TestServer::start(backend).await;
        let (st, tool) = s.call(Method::POST, "/v2/tools", Some(http_tool())).await;
        assert_eq!(st, StatusCode::OK, "{tool}");
        let headers = &tool["http"]["blueprint"]["headers"];
        assert_eq!(headers["X-Plain"], "visible");
        assert_eq!(headers["Authorization"]["encrypted"], true);
        assert!(!tool.to_string().contains("PLANTED"), "{tool}");

        let rows = s.raw_specs("tools").await;
        assert_eq!(rows.len(), 1);
        assert!(
            !rows[0].contains("PLANTED"),
            "clear secret at rest: {}",
            rows[0]
        );
        assert!(rows[0].contains("enc:v2:"), "{}", rows[0]);

        // Sending the masked value back keeps the secret; other edits apply.
        let id = tool["_id"].as_str().unwrap();
        let mut http = tool["http"].clone();
        http["blueprint"]["method"] = json!("POST");
        let (st, upd) = s
            .call(
                Method::PATCH,
                &format!("/v2/tools/{id}"),
                Some(json!({"http": http})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{upd}");
        let after = s.raw_specs("tools").await;
        assert_eq!(
            after[0]
                .split("enc:v2:")
                .nth(1)
                .map(|s| s.split('"').next()),
            rows[0].split("enc:v2:").nth(1).map(|s| s.split('"').next()),
            "the sealed secret is kept"
        );

        for path in ["/v2/tools", &format!("/v2/tools/{id}")] {
            let (_, body) = s.call(Method::GET, path, None).await;
            assert!(!body.to_string().contains("PLANTED"), "{path}: {body}");
        }
        // The generated key persists in the data directory: a restart still reads the tool.
        s.restart(Some(baton_e2e::API_KEY)).await;
        let (st, again) = s.call(Method::GET, &format!("/v2/tools/{id}"), None).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(again["http"]["blueprint"]["method"], "POST");
        s.stop().await;
    }
}
