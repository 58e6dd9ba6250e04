//! The A2A v1.0 server over real HTTP: cards, the JSON-RPC binding (and v0.3's method names),
//! the HTTP+JSON binding, streaming, input-required and push notifications to a loopback
//! webhook, against the testkit's fake model provider.

use crate::runs::Rig;
use baton::{ServerFileConfig, ToolsFileConfig};
use baton_e2e::{backends, read_sse, Backend, Options, TestServer, API_KEY};
use baton_testkit::Turn;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn msg(text: &str) -> Value {
    json!({"messageId": format!("m-{text}"), "role": "ROLE_USER", "parts": [{"text": text}]})
}

async fn rpc(rig: &Rig, key: &str, method: &str, params: Value) -> Value {
    rpc_on(&rig.s, key, method, params).await
}

/// A JSON-RPC call to `server`.
async fn rpc_on(server: &TestServer, key: &str, method: &str, params: Value) -> Value {
    let (st, body) = server
        .call(
            Method::POST,
            &format!("/a2a/{key}"),
            Some(json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["id"], 7, "{body}");
    body
}

fn answer(task: &Value) -> String {
    task["artifacts"][0]["parts"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn cards_describe_the_agent_its_bindings_and_auth() {
    let options = Options {
        server: ServerFileConfig {
            a2a_default_agent: Some("front".into()),
            ..Default::default()
        },
        ..Options::default()
    };
    let rig = Rig::start_with(Backend::Sqlite, options).await;
    rig.agent(
        "front",
        "openai/gpt-4o",
        json!({"settings": {"tools": [{"type": "current_date"}]}}),
    )
    .await;
    let (st, card) = rig
        .s
        .call(Method::GET, "/a2a/front/.well-known/agent-card.json", None)
        .await;
    assert_eq!(st, StatusCode::OK, "{card}");
    let url = format!("{}/a2a/front", rig.s.url);
    assert_eq!(
        card["supportedInterfaces"],
        json!([{"url": url, "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
               {"url": url, "protocolBinding": "HTTP+JSON", "protocolVersion": "1.0"}])
    );
    assert_eq!(card["description"], "Helps");
    assert_eq!(card["capabilities"]["streaming"], true);
    assert_eq!(card["capabilities"]["pushNotifications"], true);
    assert_eq!(card["skills"][1]["id"], "tool:current_date");
    assert_eq!(
        card["securitySchemes"]["x_api_key"]["apiKeySecurityScheme"]["name"],
        "x-api-key"
    );
    let (st, default) = rig
        .s
        .call(Method::GET, "/.well-known/agent-card.json", None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(default, card);
    let (st, _) = rig
        .s
        .call_as(
            None,
            Method::GET,
            "/a2a/front/.well-known/agent-card.json",
            None,
        )
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, body) = rig
        .s
        .call(Method::GET, "/a2a/nobody/.well-known/agent-card.json", None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn jsonrpc_runs_tasks_gets_and_lists_them_and_answers_errors_with_a2a_codes() {
    for backend in backends() {
        let rig = Rig::start(backend).await;
        rig.agent("helper", "openai/gpt-4o", json!({})).await;
        rig.openai.push(Turn::text("Paris."));
        let sent = rpc(
            &rig,
            "helper",
            "SendMessage",
            json!({"message": msg("Capital?")}),
        )
        .await;
        let task = &sent["result"]["task"];
        assert_eq!(task["status"]["state"], "TASK_STATE_COMPLETED", "{sent}");
        assert_eq!(answer(task), "Paris.");
        assert_eq!(task["history"][0]["role"], "ROLE_USER");
        assert_eq!(task["history"][1]["role"], "ROLE_AGENT");
        let id = task["id"].as_str().unwrap();
        let context = task["contextId"].as_str().unwrap();

        // The A2A task is Baton's task, its context the thread.
        let (st, polled) = rig
            .s
            .call(
                Method::GET,
                &format!("/v2/agents/helper/responses/{id}"),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{polled}");
        assert_eq!(polled["contextId"], context);

        let got = rpc(
            &rig,
            "helper",
            "GetTask",
            json!({"id": id, "historyLength": 1}),
        )
        .await;
        assert_eq!(got["result"]["id"], id);
        assert_eq!(got["result"]["history"].as_array().unwrap().len(), 1);
        let listed = rpc(&rig, "helper", "ListTasks", json!({"contextId": context})).await;
        assert_eq!(listed["result"]["tasks"][0]["id"], id, "{listed}");
        assert_eq!(listed["result"]["totalSize"], 1);

        let missing = rpc(&rig, "helper", "GetTask", json!({"id": "nope"})).await;
        assert_eq!(missing["error"]["code"], -32001, "{missing}");
        let done = rpc(&rig, "helper", "CancelTask", json!({"id": id})).await;
        assert_eq!(done["error"]["code"], -32002, "{done}");
        let finished = rpc(&rig, "helper", "SubscribeToTask", json!({"id": id})).await;
        assert_eq!(finished["error"]["code"], -32004, "{finished}");
        let unknown = rpc(&rig, "helper", "Frobnicate", json!({})).await;
        assert_eq!(unknown["error"]["code"], -32601);
        let bad = rpc(
            &rig,
            "helper",
            "SendMessage",
            json!({"message": {"messageId": "x",
            "role": "ROLE_USER", "parts": []}}),
        )
        .await;
        assert_eq!(bad["error"]["code"], -32602, "{bad}");
        assert!(bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("message.parts"));
        let (st, parse) = rig.s.call_raw(Method::POST, "/a2a/helper", "{nope").await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_eq!(parse["error"]["code"], -32700, "{parse}");
        assert_eq!(parse["id"], Value::Null);
        rig.s.stop().await;
    }
}

#[tokio::test]
async fn v03_method_names_answer_in_v03_shapes() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.agent("legacy", "openai/gpt-4o", json!({})).await;
    rig.openai.push(Turn::text("Hello from v0.3."));
    let sent = rpc(
        &rig,
        "legacy",
        "message/send",
        json!({"message": {"kind": "message", "messageId": "m1", "role": "user",
                           "parts": [{"kind": "text", "text": "Hi"}]}}),
    )
    .await;
    let task = &sent["result"];
    assert_eq!(task["kind"], "task", "{sent}");
    assert_eq!(task["status"]["state"], "completed");
    assert_eq!(task["history"][0]["role"], "user");
    assert_eq!(
        task["artifacts"][0]["parts"][0],
        json!({"kind": "text", "text": "Hello from v0.3."})
    );
    let got = rpc(&rig, "legacy", "tasks/get", json!({"id": task["id"]})).await;
    assert_eq!(got["result"]["kind"], "task");
    let missing = rpc(&rig, "legacy", "tasks/cancel", json!({"id": "nope"})).await;
    assert_eq!(missing["error"]["code"], -32001);
}

#[tokio::test]
async fn rest_binding_sends_gets_streams_and_answers_errors_with_statuses() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.agent("rest", "openai/gpt-4o", json!({})).await;
    rig.openai.push(Turn::text("Via REST."));
    let (st, sent) = rig
        .s
        .call(
            Method::POST,
            "/a2a/rest/message:send",
            Some(json!({"message": msg("Hi")})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{sent}");
    let id = sent["task"]["id"].as_str().unwrap();
    assert_eq!(answer(&sent["task"]), "Via REST.");
    let (st, got) = rig
        .s
        .call(Method::GET, &format!("/a2a/rest/tasks/{id}"), None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(got["status"]["state"], "TASK_STATE_COMPLETED");
    let context = got["contextId"].as_str().unwrap();
    let (st, listed) = rig
        .s
        .call(
            Method::GET,
            &format!("/a2a/rest/tasks?contextId={context}&pageSize=1"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{listed}");
    assert_eq!(listed["tasks"][0]["id"], id);

    let (st, missing) = rig.s.call(Method::GET, "/a2a/rest/tasks/nope", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(missing["error"]["details"][0]["reason"], "TASK_NOT_FOUND");
    let (st, done) = rig
        .s
        .call(Method::POST, &format!("/a2a/rest/tasks/{id}:cancel"), None)
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{done}");
    assert_eq!(done["error"]["details"][0]["reason"], "TASK_NOT_CANCELABLE");
    let (st, listed) = rig.s.call(Method::GET, "/a2a/rest/tasks", None).await;
    assert_eq!(st, StatusCode::OK, "{listed}");
    assert_eq!(listed["tasks"][0]["id"], id);
    let (st, bad) = rig
        .s
        .call(Method::GET, "/a2a/rest/tasks?pageToken=7", None)
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(bad["error"]["message"]
        .as_str()
        .unwrap()
        .contains("pageToken"));

    rig.openai
        .push(Turn::text("Streamed.").with_delay(Duration::from_millis(100)));
    let resp = rig
        .s
        .request(Method::POST, "/a2a/rest/message:stream")
        .bearer_auth(API_KEY)
        .json(&json!({"message": msg("Stream")}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let events: Vec<Value> = read_sse(resp, 100)
        .await
        .iter()
        .map(|m| serde_json::from_str(&m.data).unwrap())
        .collect();
    assert!(events[0]["task"].is_object(), "{events:?}");
    assert_eq!(
        events[1]["statusUpdate"]["status"]["state"],
        "TASK_STATE_WORKING"
    );
    let n = events.len();
    assert_eq!(
        events[n - 2]["artifactUpdate"]["artifact"]["parts"][0]["text"],
        "Streamed."
    );
    assert_eq!(
        events[n - 1]["statusUpdate"]["status"]["state"],
        "TASK_STATE_COMPLETED"
    );
}

#[tokio::test]
async fn jsonrpc_streams_and_a_client_tool_pauses_the_task_until_its_result() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.agent(
        "tooly",
        "openai/gpt-4o",
        json!({"settings": {"tools": [{"type": "function", "function": {"name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]}}),
    )
    .await;
    rig.openai.push(Turn::tool_calls(vec![(
        "get_weather",
        json!({"city": "Oslo"}),
    )]));
    let resp = rig
        .s
        .request(Method::POST, "/a2a/tooly")
        .bearer_auth(API_KEY)
        .json(
            &json!({"jsonrpc": "2.0", "id": "s1", "method": "SendStreamingMessage",
                      "params": {"message": msg("Weather in Oslo?")}}),
        )
        .send()
        .await
        .unwrap();
    let events: Vec<Value> = read_sse(resp, 100)
        .await
        .iter()
        .map(|m| serde_json::from_str(&m.data).unwrap())
        .collect();
    assert!(events
        .iter()
        .all(|e| e["jsonrpc"] == "2.0" && e["id"] == "s1"));
    let last = &events.last().unwrap()["result"]["statusUpdate"];
    assert_eq!(
        last["status"]["state"], "TASK_STATE_INPUT_REQUIRED",
        "{events:?}"
    );
    let call = &last["status"]["message"]["parts"][0]["data"]["toolCall"];
    assert_eq!(call["name"], "get_weather");
    assert_eq!(call["arguments"], json!({"city": "Oslo"}));
    let task_id = last["taskId"].as_str().unwrap();

    rig.openai.push(Turn::text("Snowing in Oslo."));
    let done = rpc(
        &rig,
        "tooly",
        "SendMessage",
        json!({"message": {"messageId": "r1", "role": "ROLE_USER", "taskId": task_id,
            "parts": [{"data": {"toolResult": {"toolCallId": call["id"], "result": {"sky": "snow"}}}}]}}),
    )
    .await;
    let task = &done["result"]["task"];
    assert_eq!(task["id"], task_id, "{done}");
    assert_eq!(task["status"]["state"], "TASK_STATE_COMPLETED");
    assert_eq!(answer(task), "Snowing in Oslo.");
}

/// What a webhook received: the notification token, the `Authorization` header, the body.
type Received = Arc<Mutex<Vec<(String, String, Value)>>>;

/// A loopback webhook keeping every body, token and `Authorization` it receives.
async fn webhook() -> (String, Received) {
    let seen: Received = Arc::default();
    let recorder = seen.clone();
    let app = axum::Router::new().fallback(
        move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let recorder = recorder.clone();
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                recorder.lock().unwrap().push((
                    header("x-a2a-notification-token"),
                    header("authorization"),
                    body,
                ));
                StatusCode::OK
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

#[tokio::test]
async fn push_notifications_reach_a_loopback_webhook_through_the_outbound_policy() {
    let tools = ToolsFileConfig {
        allow_loopback: Some(true),
        ..Default::default()
    };
    let rig = Rig::start_with(Backend::Sqlite, Options::default().tools(tools)).await;
    rig.agent("pushy", "openai/gpt-4o", json!({})).await;
    let (url, seen) = webhook().await;
    rig.openai
        .push(Turn::text("Pushed.").with_delay(Duration::from_millis(200)));
    let sent = rpc(
        &rig,
        "pushy",
        "SendMessage",
        json!({"message": msg("Notify me"), "configuration": {"returnImmediately": true,
            "taskPushNotificationConfig": {"url": url, "token": "t-1"}}}),
    )
    .await;
    let task_id = sent["result"]["task"]["id"].as_str().unwrap().to_owned();
    let mut completed = false;
    for _ in 0..200 {
        completed = seen
            .lock()
            .unwrap()
            .iter()
            .any(|(_, _, b)| b["statusUpdate"]["status"]["state"] == "TASK_STATE_COMPLETED");
        if completed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(completed, "{:?}", seen.lock().unwrap());
    let seen = seen.lock().unwrap().clone();
    assert!(seen.iter().all(|(token, _, _)| token == "t-1"));
    assert!(seen
        .iter()
        .any(|(_, _, b)| b["artifactUpdate"]["artifact"]["parts"][0]["text"] == "Pushed."));
    let listed = rpc(
        &rig,
        "pushy",
        "ListTaskPushNotificationConfigs",
        json!({"taskId": task_id}),
    )
    .await;
    assert_eq!(listed["result"]["configs"][0]["url"], url, "{listed}");

    // Without loopback allowed, the same webhook gets nothing.
    let strict = Rig::start(Backend::Sqlite).await;
    strict.agent("pushy", "openai/gpt-4o", json!({})).await;
    let (url, refused) = webhook().await;
    strict.openai.push(Turn::text("Not pushed."));
    rpc(
        &strict,
        "pushy",
        "SendMessage",
        json!({"message": msg("Notify me"), "configuration": {
            "taskPushNotificationConfig": {"url": url}}}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(refused.lock().unwrap().is_empty());
}

/// `ListTasks` without a context lists the agent's tasks across contexts, newest first, in
/// cursor pages that hold still while tasks arrive, filtered by state.
#[tokio::test]
async fn list_tasks_pages_over_every_context_of_the_agent() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.agent("lister", "openai/gpt-4o", json!({})).await;
    rig.agent("bystander", "openai/gpt-4o", json!({})).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        rig.openai.push(Turn::text(format!("answer {n}")));
        let sent = rpc(&rig, "lister", "SendMessage", json!({"message": msg("hi")})).await;
        ids.push(sent["result"]["task"]["id"].as_str().unwrap().to_owned());
    }
    rig.openai.push(Turn::text("not yours"));
    rpc(
        &rig,
        "bystander",
        "SendMessage",
        json!({"message": msg("hi")}),
    )
    .await;

    let first = rpc(&rig, "lister", "ListTasks", json!({"pageSize": 2})).await;
    let page: Vec<&str> = first["result"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(page, vec![ids[2].as_str(), ids[1].as_str()], "{first}");
    assert_eq!(first["result"]["totalSize"], 3);
    let token = first["result"]["nextPageToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!token.is_empty());

    // A task arriving between pages does not shift the next one.
    rig.openai.push(Turn::text("late"));
    rpc(
        &rig,
        "lister",
        "SendMessage",
        json!({"message": msg("late")}),
    )
    .await;
    let second = rpc(
        &rig,
        "lister",
        "ListTasks",
        json!({"pageSize": 2, "pageToken": token}),
    )
    .await;
    assert_eq!(second["result"]["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(second["result"]["tasks"][0]["id"], ids[0].as_str());
    assert_eq!(second["result"]["nextPageToken"], "");
    assert_eq!(second["result"]["totalSize"], 4);

    let none = rpc(
        &rig,
        "lister",
        "ListTasks",
        json!({"status": "TASK_STATE_WORKING"}),
    )
    .await;
    assert_eq!(none["result"]["tasks"], json!([]), "{none}");
    assert_eq!(none["result"]["totalSize"], 0);
    let bad = rpc(&rig, "lister", "ListTasks", json!({"pageToken": "12"})).await;
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    rig.s.stop().await;
}

/// Waits until the webhook received a status update in `state`.
async fn received_state(seen: &Received, state: &str) -> bool {
    for _ in 0..200 {
        if seen
            .lock()
            .unwrap()
            .iter()
            .any(|(_, _, b)| b["statusUpdate"]["status"]["state"] == state)
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn push_configs_are_stored_sealed_seen_by_a_replica_and_delivered_after_a_restart() {
    let Some(backend) = backends().into_iter().find(|b| *b == Backend::Postgres) else {
        return; // no PostgreSQL: a notice says so
    };
    let tools = ToolsFileConfig {
        allow_loopback: Some(true),
        ..Default::default()
    };
    let mut rig = Rig::start_with(backend, Options::default().tools(tools.clone())).await;
    rig.agent(
        "hooked",
        "openai/gpt-4o",
        json!({"settings": {"tools": [{"type": "function", "function": {"name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]}}),
    )
    .await;
    rig.openai.push(Turn::tool_calls(vec![(
        "get_weather",
        json!({"city": "Oslo"}),
    )]));
    let paused = rpc(
        &rig,
        "hooked",
        "SendMessage",
        json!({"message": msg("Weather?")}),
    )
    .await;
    let task = &paused["result"]["task"];
    assert_eq!(
        task["status"]["state"], "TASK_STATE_INPUT_REQUIRED",
        "{paused}"
    );
    let task_id = task["id"].as_str().unwrap().to_owned();
    let call_id = task["status"]["message"]["parts"][0]["data"]["toolCall"]["id"].clone();

    // Created on one server: its secrets are answered masked and stored sealed.
    let (url, seen) = webhook().await;
    let created = rpc(
        &rig,
        "hooked",
        "CreateTaskPushNotificationConfig",
        json!({"taskId": task_id, "id": "hook-1", "url": url, "token": "tok-secret",
               "authentication": {"scheme": "Bearer", "credentials": "cred-secret"}}),
    )
    .await;
    let config = &created["result"];
    assert_eq!(config["token"], "********", "{created}");
    assert_eq!(config["authentication"]["credentials"], "********");
    assert_eq!(config["authentication"]["scheme"], "Bearer");
    let at_rest = rig.s.raw_table_text("a2a_push_configs").await.join(" ");
    assert!(at_rest.contains("enc:"), "{at_rest}");
    assert!(
        !at_rest.contains("tok-secret") && !at_rest.contains("cred-secret"),
        "{at_rest}"
    );

    // Another replica on the same database lists and reads it.
    let replica = rig.s.replica().await;
    let listed = rpc_on(
        &replica,
        "hooked",
        "ListTaskPushNotificationConfigs",
        json!({"taskId": task_id}),
    )
    .await;
    assert_eq!(listed["result"]["configs"], json!([config]), "{listed}");
    let got = rpc_on(
        &replica,
        "hooked",
        "GetTaskPushNotificationConfig",
        json!({"taskId": task_id, "id": "hook-1"}),
    )
    .await;
    assert_eq!(&got["result"], config);
    // Sent back as answered (masked), the config keeps its stored secrets.
    rpc_on(
        &replica,
        "hooked",
        "CreateTaskPushNotificationConfig",
        json!(config),
    )
    .await;

    // After a restart, the task's next turn is delivered with the stored secrets.
    rig.s.restart(Some(API_KEY)).await;
    rig.openai.push(Turn::text("Snow."));
    let done = rpc(
        &rig,
        "hooked",
        "SendMessage",
        json!({"message": {"messageId": "r1", "role": "ROLE_USER", "taskId": task_id,
            "parts": [{"data": {"toolResult": {"toolCallId": call_id, "result": "snow"}}}]}}),
    )
    .await;
    assert_eq!(
        done["result"]["task"]["status"]["state"], "TASK_STATE_COMPLETED",
        "{done}"
    );
    assert!(
        received_state(&seen, "TASK_STATE_COMPLETED").await,
        "{:?}",
        seen.lock().unwrap()
    );
    let seen = seen.lock().unwrap().clone();
    assert!(seen
        .iter()
        .all(|(token, auth, _)| token == "tok-secret" && auth == "Bearer cred-secret"));

    let deleted = rpc_on(
        &replica,
        "hooked",
        "DeleteTaskPushNotificationConfig",
        json!({"taskId": task_id, "id": "hook-1"}),
    )
    .await;
    assert!(deleted.get("error").is_none(), "{deleted}");
    let listed = rpc(
        &rig,
        "hooked",
        "ListTaskPushNotificationConfigs",
        json!({"taskId": task_id}),
    )
    .await;
    assert_eq!(listed["result"]["configs"], json!([]), "{listed}");
}

#[tokio::test]
async fn streams_carry_text_chunks_and_tool_steps_before_the_final_state() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.agent(
        "chatty",
        "openai/gpt-4o",
        json!({"settings": {"tools": [{"type": "current_date"}]}}),
    )
    .await;
    rig.openai
        .push(Turn::tool_calls(vec![("current_date", json!({}))]));
    rig.openai.push(Turn::text("Paris is lovely today."));
    let resp = rig
        .s
        .request(Method::POST, "/a2a/chatty/message:stream")
        .bearer_auth(API_KEY)
        .json(&json!({"message": msg("Tell me about Paris")}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let events: Vec<Value> = read_sse(resp, 100)
        .await
        .iter()
        .map(|m| serde_json::from_str(&m.data).unwrap())
        .collect();
    let last = events.len() - 1;
    assert_eq!(
        events[last]["statusUpdate"]["status"]["state"], "TASK_STATE_COMPLETED",
        "{events:#?}"
    );
    // The tool call and its result, as working statuses with data parts.
    let data_of = |e: &Value| e["statusUpdate"]["status"]["message"]["parts"][0]["data"].clone();
    let call = events
        .iter()
        .position(|e| data_of(e)["toolCall"]["name"] == "current_date")
        .expect("a toolCall status");
    let result = events
        .iter()
        .position(|e| !data_of(e)["toolResult"]["result"].is_null())
        .expect("a toolResult status");
    assert!(call < result, "{events:#?}");
    assert_eq!(
        data_of(&events[result])["toolResult"]["toolCallId"],
        data_of(&events[call])["toolCall"]["id"]
    );
    // Then the text in chunks, one artifact built by appending, before the whole answer.
    let chunks: Vec<&Value> = events
        .iter()
        .filter(|e| e["artifactUpdate"]["lastChunk"] == false)
        .map(|e| &e["artifactUpdate"])
        .collect();
    assert!(chunks.len() > 1, "{events:#?}");
    assert_eq!(chunks[0]["append"], false);
    assert!(chunks[1..].iter().all(|c| c["append"] == true));
    let text: String = chunks
        .iter()
        .map(|c| c["artifact"]["parts"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Paris is lovely today.");
    let whole = &events[last - 1]["artifactUpdate"];
    assert_eq!(whole["lastChunk"], true);
    assert_eq!(whole["append"], false);
    assert_eq!(
        whole["artifact"]["parts"][0]["text"],
        "Paris is lovely today."
    );
    assert!(chunks
        .iter()
        .all(|c| c["artifact"]["artifactId"] == whole["artifact"]["artifactId"]));
    let first_chunk = events
        .iter()
        .position(|e| e["artifactUpdate"]["lastChunk"] == false)
        .unwrap();
    assert!(result < first_chunk && first_chunk < last - 1);
}

/// A task of agent `careful` paused for approval of its `current_date` call: the task id and
/// the call's id from the `toolReview` data part.
async fn paused_for_review(rig: &Rig) -> (String, Value) {
    rig.openai
        .push(Turn::tool_calls(vec![("current_date", json!({}))]));
    let paused = rpc(
        rig,
        "careful",
        "SendMessage",
        json!({"message": msg("What day?")}),
    )
    .await;
    let task = &paused["result"]["task"];
    assert_eq!(
        task["status"]["state"], "TASK_STATE_INPUT_REQUIRED",
        "{paused}"
    );
    let review = &task["status"]["message"]["parts"][0]["data"]["toolReview"];
    assert_eq!(review["name"], "current_date", "{paused}");
    (
        task["id"].as_str().unwrap().to_owned(),
        review["id"].clone(),
    )
}

fn review(task_id: &str, call_id: &Value, approved: bool) -> Value {
    json!({"message": {"messageId": format!("review-{approved}"), "role": "ROLE_USER",
        "taskId": task_id, "parts": [{"data": {"toolReview": {"toolCallId": call_id,
        "approved": approved, "reason": "not today"}}}]}})
}

#[tokio::test]
async fn a_tool_needing_approval_is_approved_or_rejected_with_a_tool_review_part() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.agent(
        "careful",
        "openai/gpt-4o",
        json!({"settings": {"tool_approval_required": "all",
            "tools": [{"type": "current_date"}]}}),
    )
    .await;

    // Approved: the call runs, its result reaches the model, the task completes.
    let (task_id, call_id) = paused_for_review(&rig).await;
    rig.openai.push(Turn::text("It is a fine day."));
    let done = rpc(
        &rig,
        "careful",
        "SendMessage",
        review(&task_id, &call_id, true),
    )
    .await;
    let task = &done["result"]["task"];
    assert_eq!(task["status"]["state"], "TASK_STATE_COMPLETED", "{done}");
    assert_eq!(answer(task), "It is a fine day.");
    let seen = rig.openai.requests().last().unwrap().to_string();
    assert!(
        seen.contains(call_id.as_str().unwrap()) && !seen.contains("not today"),
        "{seen}"
    );

    // Rejected: the call does not run, the model sees the rejection and its reason.
    let (task_id, call_id) = paused_for_review(&rig).await;
    rig.openai.push(Turn::text("I may not look at the date."));
    let done = rpc(
        &rig,
        "careful",
        "SendMessage",
        review(&task_id, &call_id, false),
    )
    .await;
    let task = &done["result"]["task"];
    assert_eq!(task["status"]["state"], "TASK_STATE_COMPLETED", "{done}");
    assert_eq!(answer(task), "I may not look at the date.");
    let seen = rig.openai.requests().last().unwrap().to_string();
    assert!(
        seen.contains("not today") || seen.contains("reject"),
        "the model sees the rejection: {seen}"
    );
}

#[tokio::test]
async fn v03_message_stream_answers_sse_in_v03_shapes() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.agent("legacy", "openai/gpt-4o", json!({})).await;
    rig.openai.push(Turn::text("Streamed the old way."));
    let resp = rig
        .s
        .request(Method::POST, "/a2a/legacy")
        .bearer_auth(API_KEY)
        .json(
            &json!({"jsonrpc": "2.0", "id": "old-1", "method": "message/stream",
            "params": {"message": {"kind": "message", "messageId": "m1", "role": "user",
                "parts": [{"kind": "text", "text": "Hi"}]}}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    if !content_type.starts_with("text/event-stream") {
        panic!("{content_type}: {}", resp.text().await.unwrap());
    }
    let events: Vec<Value> = read_sse(resp, 100)
        .await
        .iter()
        .map(|m| serde_json::from_str(&m.data).unwrap())
        .collect();
    assert!(events
        .iter()
        .all(|e| e["jsonrpc"] == "2.0" && e["id"] == "old-1"));
    let results: Vec<&Value> = events.iter().map(|e| &e["result"]).collect();
    assert_eq!(results[0]["kind"], "task", "{events:#?}");
    assert!(["submitted", "working"].contains(&results[0]["status"]["state"].as_str().unwrap()));
    let task_id = results[0]["id"].clone();
    let last = results.last().unwrap();
    assert_eq!(last["kind"], "status-update", "{events:#?}");
    assert_eq!(last["status"]["state"], "completed");
    assert_eq!(last["final"], true);
    assert_eq!(last["taskId"], task_id);
    let artifacts: Vec<&&Value> = results
        .iter()
        .filter(|r| r["kind"] == "artifact-update")
        .collect();
    let whole = artifacts.last().unwrap();
    assert_eq!(whole["lastChunk"], true);
    assert_eq!(
        whole["artifact"]["parts"][0],
        json!({"kind": "text", "text": "Streamed the old way."})
    );
    assert!(results
        .iter()
        .all(|r| r["status"]["state"] != "TASK_STATE_WORKING"));
}
