use baton_e2e::{backends, Backend, TestServer, API_KEY};
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn api_keys_guard_every_route_but_health() {
    let s = TestServer::start(Backend::Sqlite).await;
    let (st, body) = s.call_as(None, Method::GET, "/v2/agents", None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert!(
        body["message"].is_string() && body["error"]["code"] == "unauthorized",
        "{body}"
    );
    let (st, _) = s
        .call_as(Some("wrong"), Method::GET, "/v2/tools", None)
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = s
        .call_as(Some(API_KEY), Method::GET, "/v2/tools", None)
        .await;
    assert_eq!(st, StatusCode::OK);
    let resp = s
        .request(Method::GET, "/v2/agents")
        .header("x-api-key", API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = s
        .request(Method::GET, "/v2/agents")
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let (st, body) = s.call_as(None, Method::GET, "/healthz", None).await;
    assert_eq!((st, body["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (st, doc) = s.call_as(None, Method::GET, "/openapi.json", None).await;
    assert_eq!(st, StatusCode::OK);
    for path in [
        "/v2/agents",
        "/v2/agents/{agent_key}",
        "/v2/agents/{agent_key}/versions",
        "/v2/tools/{tool_id}",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from OpenAPI"
        );
    }
    let (st, body) = s.call(Method::GET, "/v2/nothing-here", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
    s.stop().await;
}

#[tokio::test]
async fn without_a_bootstrap_key_an_admin_key_is_created_once() {
    for backend in backends() {
        let mut s = TestServer::start_with(backend, None).await;
        let key = s
            .created_admin_key()
            .expect("a fresh database gets an admin key");
        assert!(key.starts_with("baton_sk_") && key.len() > 40, "{key}");
        let (st, _) = s.call_as(Some(&key), Method::GET, "/v2/agents", None).await;
        assert_eq!(st, StatusCode::OK);
        let (st, _) = s
            .call_as(Some(API_KEY), Method::GET, "/v2/agents", None)
            .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED);
        // A restart on the same database makes no second key, and the first still works.
        assert_eq!(s.restart(None).await, None);
        let (st, _) = s.call_as(Some(&key), Method::GET, "/v2/agents", None).await;
        assert_eq!(st, StatusCode::OK);
        s.stop().await;
    }
}
