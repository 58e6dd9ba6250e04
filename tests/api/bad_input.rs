use crate::{agent_body, function_tool};
use baton_e2e::{backends, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn assert_error(
    status: StatusCode,
    body: &Value,
    want: StatusCode,
    param: Option<&str>,
    what: &str,
) {
    assert_eq!(status, want, "{what}: {body}");
    assert!(body["message"].is_string(), "{what}: {body}");
    assert!(body["error"]["code"].is_string(), "{what}: {body}");
    if let Some(param) = param {
        assert_eq!(body["error"]["param"], param, "{what}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(param),
            "{what}: {body}"
        );
    }
}

#[tokio::test]
async fn bad_agent_input_is_a_clear_4xx_and_changes_nothing() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (st, original) = s
            .call(Method::POST, "/v2/agents", Some(agent_body("keeper")))
            .await;
        assert_eq!(st, StatusCode::CREATED);

        let (st, body) = s.call_raw(Method::POST, "/v2/agents", "{\"key\": ").await;
        assert_error(st, &body, StatusCode::BAD_REQUEST, None, "malformed JSON");
        assert_eq!(body["error"]["code"], "malformed_json");

        let mut missing = agent_body("x1");
        missing.as_object_mut().unwrap().remove("instructions");
        let (st, body) = s.call(Method::POST, "/v2/agents", Some(missing)).await;
        assert_error(
            st,
            &body,
            StatusCode::BAD_REQUEST,
            Some("instructions"),
            "missing field",
        );

        let mut wrong = agent_body("x2");
        wrong["settings"] = json!({"max_iterations": "many"});
        let (st, body) = s.call(Method::POST, "/v2/agents", Some(wrong)).await;
        assert_error(
            st,
            &body,
            StatusCode::BAD_REQUEST,
            Some("settings.max_iterations"),
            "wrong type",
        );

        let mut range = agent_body("x3");
        range["settings"] = json!({"max_execution_time": 1});
        let (st, body) = s.call(Method::POST, "/v2/agents", Some(range)).await;
        assert_error(
            st,
            &body,
            StatusCode::BAD_REQUEST,
            Some("settings.max_execution_time"),
            "out of range",
        );

        let mut unknown_tool = agent_body("x4");
        unknown_tool["settings"] =
            json!({"tools": [{"type": "current_date"}, {"type": "teleport"}]});
        let (st, body) = s.call(Method::POST, "/v2/agents", Some(unknown_tool)).await;
        assert_error(
            st,
            &body,
            StatusCode::BAD_REQUEST,
            Some("settings.tools[1].type"),
            "unknown tool type",
        );

        let mut dangling = agent_body("x5");
        dangling["settings"] = json!({"tools": [{"type": "function", "key": "nope"}]});
        let (st, body) = s.call(Method::POST, "/v2/agents", Some(dangling)).await;
        assert_error(
            st,
            &body,
            StatusCode::BAD_REQUEST,
            Some("settings.tools[0]"),
            "unknown tool ref",
        );

        // Entries that fit no kind name the field, on create and on PATCH alike.
        let (st, _) = s
            .call(Method::POST, "/v2/agents", Some(agent_body("x7")))
            .await;
        assert_eq!(st, StatusCode::CREATED);
        for (tools, param) in [
            (json!([{"type": "teleport"}]), "settings.tools[0].type"),
            (
                json!([{"type": "current_date"}, {"type": "code", "code": "result = 1"}]),
                "settings.tools[1].key",
            ),
            (
                json!([{"type": "http", "function": {"name": "f"}}]),
                "settings.tools[0].function",
            ),
            (json!([{"type": "mcp"}]), "settings.tools[0]"),
        ] {
            let patch = json!({"settings": {"tools": tools}});
            let (st, body) = s.call(Method::PATCH, "/v2/agents/x7", Some(patch)).await;
            assert_error(st, &body, StatusCode::BAD_REQUEST, Some(param), param);
        }
        let (_, unchanged) = s.call(Method::GET, "/v2/agents/x7", None).await;
        assert_eq!(unchanged["version"], "1", "{unchanged}");
        let (st, _) = s.call(Method::DELETE, "/v2/agents/x7", None).await;
        assert_eq!(st, StatusCode::NO_CONTENT);

        for key in ["9lives", "has space", "a@b", "a/b", "trailing-"] {
            let (st, body) = s
                .call(Method::POST, "/v2/agents", Some(agent_body(key)))
                .await;
            assert_error(st, &body, StatusCode::BAD_REQUEST, Some("key"), key);
        }
        let mut model = agent_body("x6");
        model["model"] = json!("gpt-4o");
        let (st, body) = s.call(Method::POST, "/v2/agents", Some(model)).await;
        assert_error(
            st,
            &body,
            StatusCode::BAD_REQUEST,
            Some("model"),
            "model without provider",
        );

        let (st, body) = s
            .call(Method::POST, "/v2/agents", Some(agent_body("keeper")))
            .await;
        assert_error(st, &body, StatusCode::CONFLICT, None, "duplicate key");

        for (method, path) in [
            (Method::GET, "/v2/agents/ghost"),
            (Method::DELETE, "/v2/agents/ghost"),
            (Method::GET, "/v2/agents/ghost/versions"),
        ] {
            let (st, body) = s.call(method, path, None).await;
            assert_error(st, &body, StatusCode::NOT_FOUND, None, path);
        }
        let (st, body) = s
            .call(
                Method::PATCH,
                "/v2/agents/ghost",
                Some(json!({"role": "x"})),
            )
            .await;
        assert_error(st, &body, StatusCode::NOT_FOUND, None, "patch unknown");

        // Bad PATCHes leave the agent as it was.
        for patch in [
            json!({"settings": {"max_iterations": 0}}),
            json!({"model": 5}),
            json!({"key": "no way"}),
            json!({"status": "gone"}),
        ] {
            let (st, body) = s
                .call(Method::PATCH, "/v2/agents/keeper", Some(patch.clone()))
                .await;
            assert_eq!(st, StatusCode::BAD_REQUEST, "{patch}: {body}");
        }
        s.call(Method::POST, "/v2/agents", Some(agent_body("other")))
            .await;
        let (st, body) = s
            .call(
                Method::PATCH,
                "/v2/agents/keeper",
                Some(json!({"key": "other"})),
            )
            .await;
        assert_error(
            st,
            &body,
            StatusCode::CONFLICT,
            None,
            "rename onto a taken key",
        );

        let (_, now) = s.call(Method::GET, "/v2/agents/keeper", None).await;
        assert_eq!(now, original, "nothing stored changed");
        let (_, list) = s.call(Method::GET, "/v2/agents", None).await;
        assert_eq!(list["data"].as_array().unwrap().len(), 2);
        let (_, versions) = s
            .call(Method::GET, "/v2/agents/keeper/versions", None)
            .await;
        assert_eq!(versions["data"].as_array().unwrap().len(), 1);
        s.stop().await;
    }
}

#[tokio::test]
async fn bad_tool_input_is_a_clear_4xx_and_changes_nothing() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (st, _) = s
            .call(Method::POST, "/v2/tools", Some(function_tool("keep")))
            .await;
        assert_eq!(st, StatusCode::OK);

        let mut unknown = function_tool("t1");
        unknown["type"] = json!("teleport");
        let (st, body) = s.call(Method::POST, "/v2/tools", Some(unknown)).await;
        assert_error(
            st,
            &body,
            StatusCode::BAD_REQUEST,
            None,
            "unknown tool type",
        );
        assert!(
            body["message"].as_str().unwrap().contains("teleport"),
            "{body}"
        );

        let (st, body) = s
            .call(Method::POST, "/v2/tools", Some(function_tool("bad.key")))
            .await;
        assert_error(
            st,
            &body,
            StatusCode::BAD_REQUEST,
            Some("key"),
            "tool key pattern",
        );

        let mut no_required = function_tool("t2");
        no_required["function"]["parameters"]
            .as_object_mut()
            .unwrap()
            .remove("required");
        let (st, body) = s.call(Method::POST, "/v2/tools", Some(no_required)).await;
        assert_error(
            st,
            &body,
            StatusCode::BAD_REQUEST,
            Some("function.parameters.required"),
            "required",
        );

        let http = json!({"path": "Default", "key": "h1", "description": "d", "type": "http",
            "http": {"blueprint": {"url": "https://x.example/{{missing}}", "method": "GET"}}});
        let (st, body) = s.call(Method::POST, "/v2/tools", Some(http)).await;
        assert_error(
            st,
            &body,
            StatusCode::BAD_REQUEST,
            Some("http.arguments"),
            "placeholder without argument",
        );

        let (st, body) = s
            .call(Method::POST, "/v2/tools", Some(function_tool("keep")))
            .await;
        assert_error(st, &body, StatusCode::CONFLICT, None, "duplicate tool key");

        let (st, body) = s
            .call(
                Method::PATCH,
                "/v2/tools/keep",
                Some(json!({"function": {"parameters": 3}})),
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
        let (_, list) = s.call(Method::GET, "/v2/tools", None).await;
        assert_eq!(list["data"].as_array().unwrap().len(), 1);
        assert_eq!(
            list["data"][0]["function"]["parameters"]["required"],
            json!(["city"])
        );
        s.stop().await;
    }
}
