use crate::{agent_body, function_tool};
use baton_e2e::{backends, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn agent_crud_in_orq_wire_format() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        let (st, _) = s
            .call(
                Method::POST,
                "/v2/tools",
                Some(function_tool("get_weather")),
            )
            .await;
        assert_eq!(st, StatusCode::OK);

        let mut body = agent_body("support");
        body["model"] =
            json!({"id": "anthropic/claude-sonnet-4", "parameters": {"temperature": 0.2}});
        body["settings"] = json!({"max_iterations": 3, "tools": [
            {"type": "current_date"},
            {"type": "function", "key": "get_weather"},
            {"type": "function", "key": "lookup", "description": "inline, as orq's docs show",
             "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}]});
        let (st, agent) = s.call(Method::POST, "/v2/agents", Some(body)).await;
        assert_eq!(st, StatusCode::CREATED, "{backend:?} {agent}");
        for field in [
            "_id",
            "key",
            "project_id",
            "status",
            "path",
            "role",
            "description",
            "instructions",
        ] {
            assert!(
                agent[field].is_string(),
                "{backend:?}: {field} missing in {agent}"
            );
        }
        assert_eq!(agent["model"]["id"], "anthropic/claude-sonnet-4");
        assert_eq!(agent["model"]["parameters"]["temperature"], 0.2);
        assert_eq!(agent["settings"]["max_iterations"], 3);
        assert_eq!(agent["settings"]["max_execution_time"], 600);
        assert_eq!(agent["version"], "1");
        let tools = agent["settings"]["tools"].as_array().unwrap();
        assert_eq!(tools.len(), 3);
        for t in tools {
            assert!(t["id"].is_string() && t["action_type"].is_string(), "{t}");
        }
        assert_eq!(tools[0]["action_type"], "current_date");
        assert_eq!(tools[1]["key"], "get_weather");
        assert_eq!(tools[2]["function"]["name"], "lookup");

        let (st, got) = s.call(Method::GET, "/v2/agents/support", None).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(got, agent);

        let (st, patched) = s
            .call(
                Method::PATCH,
                "/v2/agents/support",
                Some(json!({"instructions": "Be kind."})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{patched}");
        assert_eq!(patched["instructions"], "Be kind.");
        assert_eq!(patched["role"], "Support", "untouched fields stay");
        assert_eq!(
            patched["settings"]["tools"], agent["settings"]["tools"],
            "tool ids are stable"
        );

        let (st, body) = s.call(Method::DELETE, "/v2/agents/support", None).await;
        assert_eq!((st, body), (StatusCode::NO_CONTENT, Value::Null));
        let (st, body) = s.call(Method::GET, "/v2/agents/support", None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert!(body["message"].as_str().unwrap().contains("support"));
        s.stop().await;
    }
}

#[tokio::test]
async fn updates_make_versions_and_key_at_n_reads_them() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        s.call(Method::POST, "/v2/agents", Some(agent_body("writer")))
            .await;

        let (_, v2) = s
            .call(
                Method::PATCH,
                "/v2/agents/writer",
                Some(json!({"instructions": "v2",
                "versionDescription": "shorter"})),
            )
            .await;
        assert_eq!(v2["version"], "2");
        // Same configuration again: no new version.
        let (_, same) = s
            .call(
                Method::PATCH,
                "/v2/agents/writer",
                Some(json!({"instructions": "v2"})),
            )
            .await;
        assert_eq!(same["version"], "2");
        // A status change alone is not a configuration change.
        let (_, draft) = s
            .call(
                Method::PATCH,
                "/v2/agents/writer",
                Some(json!({"status": "draft"})),
            )
            .await;
        assert_eq!(
            (draft["version"].as_str(), draft["status"].as_str()),
            (Some("2"), Some("draft"))
        );
        let (_, v3) = s
            .call(
                Method::PATCH,
                "/v2/agents/writer",
                Some(json!({"settings": {"max_iterations": 7}})),
            )
            .await;
        assert_eq!(v3["version"], "3");
        assert_eq!(v3["settings"]["max_iterations"], 7);
        assert_eq!(
            v3["settings"]["max_execution_time"], 600,
            "settings merge, not replace"
        );

        let (st, one) = s.call(Method::GET, "/v2/agents/writer@1", None).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(
            (one["instructions"].as_str(), one["version"].as_str()),
            (Some("Be brief."), Some("1"))
        );
        let (_, two) = s.call(Method::GET, "/v2/agents/writer@v2", None).await;
        assert_eq!(two["instructions"], "v2");
        assert_eq!(two["settings"]["max_iterations"], 100);
        let (st, _) = s.call(Method::GET, "/v2/agents/writer@9", None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, body) = s.call(Method::GET, "/v2/agents/writer@x", None).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");

        let (st, list) = s
            .call(Method::GET, "/v2/agents/writer/versions", None)
            .await;
        assert_eq!(st, StatusCode::OK);
        let versions: Vec<&str> = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_str().unwrap())
            .collect();
        assert_eq!(versions, ["3", "2", "1"]);
        assert_eq!(list["data"][1]["description"], "shorter");
        assert_eq!(list["data"][0]["live"], true);

        let (st, _) = s
            .call(
                Method::PATCH,
                "/v2/agents/writer@1",
                Some(json!({"role": "x"})),
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "versions are immutable");
        s.stop().await;
    }
}

#[tokio::test]
async fn lists_page_with_cursors_and_float_limits() {
    for backend in backends() {
        let s = TestServer::start(backend).await;
        for i in 0..5 {
            let (st, _) = s
                .call(
                    Method::POST,
                    "/v2/agents",
                    Some(agent_body(&format!("a{i}"))),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED);
        }
        let keys = |v: &Value| -> Vec<String> {
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["key"].as_str().unwrap().to_owned())
                .collect()
        };
        let (_, all) = s.call(Method::GET, "/v2/agents", None).await;
        assert_eq!(
            keys(&all),
            ["a4", "a3", "a2", "a1", "a0"],
            "newest first, all without limit"
        );
        assert_eq!(
            (all["object"].as_str(), all["has_more"].as_bool()),
            (Some("list"), Some(false))
        );

        let (st, p1) = s.call(Method::GET, "/v2/agents?limit=2.0", None).await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(keys(&p1), ["a4", "a3"]);
        assert_eq!(p1["has_more"], true);
        let last = p1["data"][1]["_id"].as_str().unwrap().to_owned();
        let (_, p2) = s
            .call(
                Method::GET,
                &format!("/v2/agents?limit=2&starting_after={last}"),
                None,
            )
            .await;
        assert_eq!(keys(&p2), ["a2", "a1"]);
        assert_eq!(p2["has_more"], true);
        let last = p2["data"][1]["_id"].as_str().unwrap().to_owned();
        let (_, p3) = s
            .call(
                Method::GET,
                &format!("/v2/agents?limit=2&starting_after={last}"),
                None,
            )
            .await;
        assert_eq!(keys(&p3), ["a0"]);
        assert_eq!(p3["has_more"], false);
        let first = p3["data"][0]["_id"].as_str().unwrap().to_owned();
        let (_, back) = s
            .call(
                Method::GET,
                &format!("/v2/agents?limit=2&ending_before={first}"),
                None,
            )
            .await;
        assert_eq!(keys(&back), ["a2", "a1"]);
        assert_eq!(back["has_more"], true);

        for bad in ["limit=0", "limit=2.5", "limit=abc", "limit=5000"] {
            let (st, body) = s
                .call(Method::GET, &format!("/v2/agents?{bad}"), None)
                .await;
            assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}");
            assert_eq!(body["error"]["param"], "limit");
        }
        s.stop().await;
    }
}
