//! Double texting: a message for a task that is still running is refused with the task's
//! running state (`multitask_strategy: reject`, the default), queued to run after the running
//! turn (`enqueue`), or queued to cancel it at its next checkpoint (`interrupt`).

use crate::runs::{user, Rig};
use baton::ToolsFileConfig;
use baton_e2e::{backends, read_sse, Backend, Options, SideEffectCounter};
use baton_testkit::{SeenRequest, Turn};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// The text of the last user message of a chat request.
fn last_user(body: &Value) -> String {
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let Some(message) = messages.iter().rev().find(|m| m["role"] == "user") else {
        return String::new();
    };
    match &message["content"] {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect(),
        _ => String::new(),
    }
}

/// Every user message of a chat request, in order.
fn user_messages(body: &Value) -> Vec<String> {
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    messages
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| last_user(&json!({"messages": [m]})))
        .collect()
}

/// The model answers `re: <the last user message>`; a message starting with "slow" takes
/// `slow` to answer.
fn echo(rig: &Rig, slow: Duration) {
    rig.openai.set_responder(Arc::new(move |req: &SeenRequest| {
        let said = last_user(&req.body);
        let delay = if said.starts_with("slow") {
            slow
        } else {
            Duration::ZERO
        };
        Turn::text(format!("re: {said}")).with_delay(delay)
    }));
}

/// Starts a background run and waits until its turn is running.
async fn running(rig: &Rig, key: &str, text: &str) -> (String, Value) {
    let (st, started) = rig
        .respond(key, json!({"message": user(text), "background": true}))
        .await;
    assert_eq!(st, StatusCode::OK, "{started}");
    let task = started["task_id"].as_str().unwrap().to_owned();
    for _ in 0..200 {
        if poll(rig, key, &task).await["state"] == "working" {
            return (task, started);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("task {task} never started working");
}

async fn poll(rig: &Rig, key: &str, task: &str) -> Value {
    let (st, body) = rig
        .s
        .call(
            Method::GET,
            &format!("/v2/agents/{key}/responses/{task}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    body
}

/// The text of the last part of a response's output.
fn answer(body: &Value) -> String {
    let output = body["output"].as_array().cloned().unwrap_or_default();
    output
        .last()
        .and_then(|m| m["parts"][0]["text"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// The kinds of a task's stored events, from the first.
async fn event_kinds(rig: &Rig, key: &str, task: &str) -> Vec<(String, Value)> {
    let resp = rig
        .s
        .request(
            Method::GET,
            &format!("/v2/agents/{key}/responses/{task}/stream"),
        )
        .bearer_auth(baton_e2e::API_KEY)
        .send()
        .await
        .unwrap();
    read_sse(resp, 10_000)
        .await
        .into_iter()
        .map(|e| (e.kind(), e.json()["data"].clone()))
        .collect()
}

#[tokio::test]
async fn reject_answers_409_with_the_running_state_and_an_unknown_strategy_is_a_400() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.agent("busy", "openai/gpt-4o", json!({})).await;
    echo(&rig, Duration::from_millis(2500));
    let (task, started) = running(&rig, "busy", "slow start").await;
    for strategy in [None, Some("reject")] {
        let mut body = json!({"task_id": task, "message": user("again")});
        if let Some(strategy) = strategy {
            body["multitask_strategy"] = json!(strategy);
        }
        let (st, refused) = rig.respond("busy", body).await;
        assert_eq!(st, StatusCode::CONFLICT, "{refused}");
        let error = &refused["error"];
        assert_eq!(error["code"], "task_busy", "{refused}");
        assert_eq!(error["param"], "task_id", "{refused}");
        assert_eq!(error["type"], "invalid_request_error", "{refused}");
        assert_eq!(refused["message"], error["message"], "{refused}");
        assert!(
            error["message"].as_str().unwrap().contains("enqueue"),
            "the message names the way out: {refused}"
        );
        let running = &refused["task"];
        assert_eq!(running["id"], task.as_str(), "{refused}");
        assert_eq!(running["state"], "working", "{refused}");
        assert_eq!(running["response_id"], started["_id"], "{refused}");
        assert_eq!(running["iterations"], 0, "{refused}");
        assert_eq!(running["queued_messages"], 0, "{refused}");
        assert_eq!(running["running_tools"], json!([]), "{refused}");
        assert!(running["updated_at"].is_string(), "{refused}");
    }
    for bad in [json!("later"), json!(42), json!(null)] {
        let (st, out) = rig
            .respond(
                "busy",
                json!({"task_id": task, "message": user("x"), "multitask_strategy": bad}),
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}: {out}");
        assert_eq!(out["error"]["param"], "multitask_strategy", "{out}");
    }
    let done = rig.poll_until_inactive("busy", &task).await;
    assert_eq!(done["state"], "completed", "{done}");
    let asked: Vec<String> = rig.openai.requests().iter().map(last_user).collect();
    assert_eq!(
        asked,
        ["slow start"],
        "refused messages never reach the task"
    );
    rig.s.stop().await;
}

#[tokio::test]
async fn enqueued_messages_run_in_arrival_order_each_answered_with_its_own_turn() {
    for backend in backends() {
        let rig = Rig::start(backend).await;
        rig.agent("queue", "openai/gpt-4o", json!({})).await;
        echo(&rig, Duration::from_millis(1500));
        let (task, started) = running(&rig, "queue", "slow first").await;
        let enqueue = |text: &str, mode: Value| {
            let mut body = json!({"task_id": task, "message": user(text),
                                  "multitask_strategy": "enqueue"});
            body.as_object_mut()
                .unwrap()
                .extend(mode.as_object().unwrap().clone());
            body
        };
        // In the background: answered at once, with the message's own response id.
        let (st, second) = rig
            .respond("queue", enqueue("second", json!({"background": true})))
            .await;
        assert_eq!(st, StatusCode::OK, "{second}");
        assert_eq!(second["status"]["state"], "working", "{second}");
        assert_eq!(second["queued"]["position"], 1, "{second}");
        assert_eq!(second["queued"]["interrupts"], false, "{second}");
        assert_eq!(second["_id"], second["queued"]["response_id"], "{second}");
        assert_ne!(second["_id"], started["_id"], "{second}");
        assert_eq!(second["output"], json!([]), "{second}");
        // Synchronously: answered when its own turn ends.
        let rig = Arc::new(rig);
        let sync = tokio::spawn({
            let (rig, body) = (rig.clone(), enqueue("third", json!({})));
            async move { rig.respond("queue", body).await }
        });
        for _ in 0..200 {
            let queued = poll(&rig, "queue", &task).await["queued_messages"].clone();
            if queued.as_array().map(Vec::len) == Some(2) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Streamed: only its own turn's events.
        let resp = rig
            .s
            .request(Method::POST, "/v2/agents/queue/responses")
            .bearer_auth(baton_e2e::API_KEY)
            .json(&enqueue("fourth", json!({"stream": true})))
            .send()
            .await
            .unwrap();
        let streamed = read_sse(resp, 1000).await;
        let kinds: Vec<String> = streamed.iter().map(|e| e.kind()).collect();
        assert_eq!(kinds.first().map(String::as_str), Some("response.started"));
        assert_eq!(kinds[kinds.len() - 2..], ["response.done", "[DONE]"]);
        let texts: Vec<Value> = streamed
            .iter()
            .filter(|e| e.kind() == "part.done")
            .map(|e| e.json()["data"]["part"]["text"].clone())
            .collect();
        assert_eq!(texts, [json!("re: fourth")], "{kinds:?}");

        let (st, third) = sync.await.unwrap();
        assert_eq!(st, StatusCode::OK, "{third}");
        assert_eq!(third["status"]["state"], "completed", "{third}");
        assert_eq!(
            answer(&third),
            "re: third",
            "its own turn's answer: {third}"
        );
        assert_eq!(third["output"].as_array().unwrap().len(), 1, "{third}");
        assert!(third.get("queued").is_none(), "{third}");

        let done = rig.poll_until_inactive("queue", &task).await;
        assert_eq!(done["state"], "completed", "{done}");
        assert_eq!(answer(&done), "re: fourth", "{done}");
        assert!(done.get("queued_messages").is_none(), "{done}");
        let requests = rig.openai.requests();
        let asked: Vec<String> = requests.iter().map(last_user).collect();
        assert_eq!(asked, ["slow first", "second", "third", "fourth"]);
        assert_eq!(
            user_messages(requests.last().unwrap()),
            ["slow first", "second", "third", "fourth"],
            "each turn sees the ones before"
        );
        match Arc::try_unwrap(rig) {
            Ok(rig) => rig.s.stop().await,
            Err(_) => panic!("the rig is still shared"),
        }
    }
}

#[tokio::test]
async fn interrupt_cancels_the_running_turn_then_runs_the_message() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.agent("stop", "openai/gpt-4o", json!({})).await;
    echo(&rig, Duration::from_secs(30));
    let (task, started) = running(&rig, "stop", "slow essay").await;
    let asked_at = std::time::Instant::now();
    let (st, body) = rig
        .respond(
            "stop",
            json!({"task_id": task, "message": user("never mind, just say hi"),
                   "multitask_strategy": "interrupt"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert!(
        asked_at.elapsed() < Duration::from_secs(10),
        "not after the slow turn"
    );
    assert_eq!(body["status"]["state"], "completed", "{body}");
    assert_eq!(answer(&body), "re: never mind, just say hi", "{body}");
    assert_ne!(body["_id"], started["_id"]);

    let events = event_kinds(&rig, "stop", &task).await;
    let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "response.started",
            "response.failed",
            "response.started",
            "part.done",
            "response.done",
            "[DONE]"
        ]
    );
    assert_eq!(events[0].1["responseId"], started["_id"]);
    assert!(
        events[1].1["error"]
            .as_str()
            .unwrap()
            .contains("interrupted"),
        "{events:?}"
    );
    assert_eq!(events[2].1["responseId"], body["_id"]);

    // The trace shows the interrupted turn as such.
    let trace = body["telemetry"]["trace_id"].as_str().unwrap();
    let span = started_span(
        &rig,
        trace,
        started["telemetry"]["span_id"].as_str().unwrap(),
    )
    .await;
    assert_eq!(span["status"], "error", "{span}");
    assert_eq!(span["attributes"]["state"], "canceled", "{span}");
    assert!(
        span["attributes"]["error"]
            .as_str()
            .unwrap()
            .contains("interrupted"),
        "{span}"
    );
    let done = poll(&rig, "stop", &task).await;
    assert_eq!(done["state"], "completed", "{done}");
    rig.s.stop().await;
}

async fn started_span(rig: &Rig, trace: &str, span: &str) -> Value {
    let (st, body) = rig
        .s
        .call(
            Method::GET,
            &format!("/v3/traces/{trace}/spans/{span}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn an_interrupted_tool_call_is_answered_outcome_unknown_and_not_run_again() {
    let api = SideEffectCounter::start(Duration::from_secs(20)).await;
    let tools = ToolsFileConfig {
        allow_loopback: Some(true),
        ..Default::default()
    };
    let rig = Rig::start_with(Backend::Sqlite, Options::default().tools(tools)).await;
    let (st, tool) = rig
        .s
        .call(
            Method::POST,
            "/v2/tools",
            Some(
                json!({"path": "Default", "key": "charge", "description": "Charges",
                "type": "http", "http": {"blueprint": {"url": format!("{}/charge", api.url),
                "method": "POST"}}}),
            ),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{tool}");
    rig.agent(
        "payer",
        "openai/gpt-4o",
        json!({"settings": {"tools": [{"type": "http", "key": "charge"}]}}),
    )
    .await;
    rig.openai
        .push(Turn::tool_calls(vec![("charge", json!({}))]));
    rig.openai.push(Turn::text("Stopped; say so."));
    let (task, _) = running(&rig, "payer", "pay").await;
    for _ in 0..200 {
        if !api.hits().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(api.hits().len(), 1, "the call is running");
    let (st, body) = rig
        .respond(
            "payer",
            json!({"task_id": task, "message": user("stop"), "multitask_strategy": "interrupt"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["status"]["state"], "completed", "{body}");
    let last = rig.openai.requests().last().unwrap().clone();
    let tool_result = last["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "tool")
        .unwrap()
        .clone();
    assert!(
        tool_result["content"]
            .as_str()
            .unwrap()
            .contains("outcome unknown"),
        "the model is told: {tool_result}"
    );
    assert_eq!(last_user(&last), "stop");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        api.hits().values().sum::<u32>(),
        1,
        "the call is not run again"
    );
    rig.s.stop().await;
}

#[tokio::test]
async fn interrupts_in_a_row_leave_no_task_working_and_lose_no_message() {
    let rig = Arc::new(Rig::start(Backend::Sqlite).await);
    rig.agent("storm", "openai/gpt-4o", json!({})).await;
    echo(&rig, Duration::from_millis(800));
    let (task, _) = running(&rig, "storm", "slow start").await;
    let mut asks = Vec::new();
    for i in 0..6 {
        let rig = rig.clone();
        let body = json!({"task_id": task, "message": user(&format!("slow {i}")),
                          "multitask_strategy": "interrupt"});
        asks.push(tokio::spawn(
            async move { rig.respond("storm", body).await },
        ));
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let mut states = Vec::new();
    for ask in asks {
        let (st, body) = ask.await.unwrap();
        assert_eq!(st, StatusCode::OK, "{body}");
        states.push(body["status"]["state"].as_str().unwrap().to_owned());
    }
    assert_eq!(states.last().map(String::as_str), Some("completed"));
    assert!(
        states.iter().all(|s| s == "completed" || s == "canceled"),
        "{states:?}"
    );
    let done = rig.poll_until_inactive("storm", &task).await;
    assert_eq!(done["state"], "completed", "{done}");
    let last = rig.openai.requests().last().unwrap().clone();
    let said = user_messages(&last);
    for i in 0..6 {
        let n = said.iter().filter(|s| **s == format!("slow {i}")).count();
        assert_eq!(n, 1, "message {i} is in the history once: {said:?}");
    }
    match Arc::try_unwrap(rig) {
        Ok(rig) => rig.s.stop().await,
        Err(_) => panic!("the rig is still shared"),
    }
}

#[tokio::test]
async fn messages_enqueued_while_the_run_checkpoints_are_all_kept() {
    for backend in backends() {
        let rig = Arc::new(Rig::start(backend).await);
        rig.agent(
            "busy",
            "openai/gpt-4o",
            json!({"settings": {"max_iterations": 100, "tools": [{"type": "current_date"}]}}),
        )
        .await;
        // The first turn takes 40 quick steps, each stored as it ends; queued turns answer.
        rig.openai.set_responder(Arc::new(|req: &SeenRequest| {
            let said = last_user(&req.body);
            if said == "steps" && req.tool_results < 40 {
                Turn::tool_calls(vec![("current_date", json!({}))])
                    .with_delay(Duration::from_millis(10))
            } else {
                Turn::text(format!("re: {said}"))
            }
        }));
        let (task, _) = running(&rig, "busy", "steps").await;
        let mut asks = Vec::new();
        for i in 0..24 {
            let rig = rig.clone();
            let body = json!({"task_id": task, "message": user(&format!("m{i}")),
                              "multitask_strategy": "enqueue", "background": true});
            asks.push(tokio::spawn(async move { rig.respond("busy", body).await }));
        }
        for ask in asks {
            let (st, body) = ask.await.unwrap();
            assert_eq!(st, StatusCode::OK, "{body}");
        }
        let done = rig.poll_until_inactive("busy", &task).await;
        assert_eq!(done["state"], "completed", "{done}");
        let last = rig.openai.requests().last().unwrap().clone();
        let said = user_messages(&last);
        assert_eq!(said.len(), 25, "{said:?}");
        for i in 0..24 {
            let n = said.iter().filter(|s| **s == format!("m{i}")).count();
            assert_eq!(n, 1, "m{i} is in the history once: {said:?}");
        }
        let steps = rig
            .openai
            .requests()
            .iter()
            .filter(|r| last_user(r) == "steps")
            .count();
        assert_eq!(steps, 41, "the first turn ran to its end");
        match Arc::try_unwrap(rig) {
            Ok(rig) => rig.s.stop().await,
            Err(_) => panic!("the rig is still shared"),
        }
    }
}

#[tokio::test]
async fn a_cancel_request_ends_with_the_turn_it_was_for() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.agent("again", "openai/gpt-4o", json!({})).await;
    echo(&rig, Duration::from_secs(30));
    let (task, _) = running(&rig, "again", "slow one").await;
    let (st, out) = rig
        .s
        .call(
            Method::POST,
            &format!("/v2/agents/again/responses/{task}/cancel"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{out}");
    let canceled = rig.poll_until_inactive("again", &task).await;
    assert_eq!(canceled["state"], "canceled", "{canceled}");
    // The next turn is not canceled by the request made for the one before.
    let (st, body) = rig
        .respond(
            "again",
            json!({"task_id": task, "message": user("hello again")}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["status"]["state"], "completed", "{body}");
    assert_eq!(answer(&body), "re: hello again", "{body}");
    rig.s.stop().await;
}

#[tokio::test]
async fn a_message_queued_while_the_turn_times_out_runs_after_it() {
    let rig = Rig::start(Backend::Sqlite).await;
    rig.agent(
        "late",
        "openai/gpt-4o",
        json!({"settings": {"max_execution_time": 2}}),
    )
    .await;
    echo(&rig, Duration::from_secs(10));
    let (task, _) = running(&rig, "late", "slow answer").await;
    // Queued while the model call runs: the run stores nothing until its time is up, and then
    // the turn's end, which must not leave the message behind.
    let (st, queued) = rig
        .respond(
            "late",
            json!({"task_id": task, "message": user("second"), "multitask_strategy": "enqueue",
                   "background": true}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{queued}");
    let done = rig.poll_until_inactive("late", &task).await;
    assert_eq!(done["state"], "completed", "{done}");
    assert_eq!(done["_id"], queued["_id"], "{done}");
    assert_eq!(answer(&done), "re: second", "{done}");
    let events = event_kinds(&rig, "late", &task).await;
    let ends: Vec<Value> = events
        .iter()
        .filter(|(kind, _)| kind == "response.done")
        .map(|(_, data)| data["finishReason"].clone())
        .collect();
    assert_eq!(ends, [json!("max_time"), json!("stop")], "{events:?}");
    rig.s.stop().await;
}
