//! The OpenAI-compatible endpoints over real HTTP: agents as models, chat completions and
//! responses (whole and streamed), server-side tools inside the run, client function calls
//! answered in the next request on the same task, and OpenAI's error shape.

use crate::function_tool;
use crate::runs::Rig;
use baton_e2e::{backends, read_sse, Backend, SseMessage};
use baton_testkit::Turn;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn post(rig: &Rig, path: &str, body: Value) -> (StatusCode, Value) {
    rig.s.call(Method::POST, path, Some(body)).await
}

async fn post_stream(rig: &Rig, path: &str, body: Value) -> Vec<SseMessage> {
    let resp = rig
        .s
        .request(Method::POST, path)
        .bearer_auth(baton_e2e::API_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    read_sse(resp, 1000).await
}

/// An agent with a server-side tool and a client-side function tool.
async fn weather_agent(rig: &Rig, key: &str) {
    rig.s
        .call(
            Method::POST,
            "/v2/tools",
            Some(function_tool("get_weather")),
        )
        .await;
    rig.agent(
        key,
        "openai/gpt-4o",
        json!({"settings": {"tools": [
            {"type": "current_date"}, {"type": "function", "key": "get_weather"}]}}),
    )
    .await;
}

#[tokio::test]
async fn chat_completions_run_agents_and_continue_tasks_with_tool_results() {
    for backend in backends() {
        let rig = Rig::start(backend).await;
        weather_agent(&rig, "weather-bot").await;

        // Plain: a server-side tool runs inside, the answer is the run's.
        rig.openai
            .push(Turn::tool_calls(vec![("current_date", json!({}))]));
        rig.openai.push(Turn::text("It is sunny."));
        let (st, r) = post(
            &rig,
            "/v1/chat/completions",
            json!({"model": "agent/weather-bot", "messages": [
                {"role": "system", "content": "Answer in French."},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello!"},
                {"role": "user", "content": "Weather?"}]}),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{r}");
        assert_eq!(r["object"], "chat.completion");
        assert_eq!(r["model"], "agent/weather-bot");
        assert!(r["id"].as_str().unwrap().starts_with("chatcmpl-"), "{r}");
        assert_eq!(r["choices"][0]["message"]["role"], "assistant");
        assert_eq!(r["choices"][0]["message"]["content"], "It is sunny.");
        assert_eq!(r["choices"][0]["finish_reason"], "stop");
        // Two model calls of 10 + 5 tokens each.
        assert_eq!(
            r["usage"],
            json!({"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30})
        );
        let sent = rig.openai.requests()[0].to_string();
        assert!(
            sent.contains("Answer in French.") && sent.contains("assistant: Hello!"),
            "the caller's instructions and the conversation reach the model: {sent}"
        );
        let second = rig.openai.requests()[1].to_string();
        assert!(
            second.contains("current_date"),
            "the server tool ran: {second}"
        );

        // A client function tool comes back as tool_calls…
        rig.openai.push(Turn::tool_calls(vec![(
            "get_weather",
            json!({"city": "Paris"}),
        )]));
        let ask = json!({"role": "user", "content": "Weather in Paris?"});
        let (st, r) = post(
            &rig,
            "/v1/chat/completions",
            json!({"model": "agent/weather-bot", "messages": [ask]}),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{r}");
        assert_eq!(r["choices"][0]["finish_reason"], "tool_calls", "{r}");
        let message = r["choices"][0]["message"].clone();
        let call = &message["tool_calls"][0];
        assert_eq!(call["type"], "function");
        assert_eq!(call["function"]["name"], "get_weather");
        assert_eq!(
            serde_json::from_str::<Value>(call["function"]["arguments"].as_str().unwrap()).unwrap(),
            json!({"city": "Paris"})
        );
        let call_id = call["id"].as_str().unwrap().to_owned();
        let task_id = call_id.split('_').nth(1).unwrap().to_owned();

        // …and the tool message continues the same task.
        rig.openai.push(Turn::text("Sunny in Paris."));
        let (st, r) = post(
            &rig,
            "/v1/chat/completions",
            json!({"model": "agent/weather-bot", "messages": [ask, message,
                {"role": "tool", "tool_call_id": call_id, "content": "{\"sky\": \"sunny\"}"}]}),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{r}");
        assert_eq!(r["choices"][0]["message"]["content"], "Sunny in Paris.");
        let last = rig.openai.requests().last().unwrap().to_string();
        assert!(
            last.contains("sunny") && last.contains("Weather in Paris?"),
            "{last}"
        );
        let (st, task) = rig
            .s
            .call(
                Method::GET,
                &format!("/v2/agents/weather-bot/responses/{task_id}"),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{task}");
        assert_eq!(task["state"], "completed", "the same task went on: {task}");

        // Streamed: role, text deltas, finish, usage, [DONE].
        rig.openai.push(Turn::text("Streaming works fine."));
        let events = post_stream(
            &rig,
            "/v1/chat/completions",
            json!({"model": "agent/weather-bot", "stream": true,
                "stream_options": {"include_usage": true},
                "messages": [{"role": "user", "content": "Stream?"}]}),
        )
        .await;
        assert_eq!(events.last().unwrap().data, "[DONE]");
        let chunks: Vec<Value> = events[..events.len() - 1]
            .iter()
            .map(|e| serde_json::from_str(&e.data).unwrap())
            .collect();
        assert!(chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk"));
        assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
        let text: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(text, "Streaming works fine.");
        let finish: Vec<&Value> = chunks
            .iter()
            .map(|c| &c["choices"][0]["finish_reason"])
            .filter(|f| !f.is_null())
            .collect();
        assert_eq!(finish, vec!["stop"]);
        let usage = &chunks.last().unwrap()["usage"];
        assert_eq!(usage["total_tokens"], 15, "{usage}");

        // A streamed function call.
        rig.openai.push(Turn::tool_calls(vec![(
            "get_weather",
            json!({"city": "Oslo"}),
        )]));
        let events = post_stream(
            &rig,
            "/v1/chat/completions",
            json!({"model": "agent/weather-bot@1", "stream": true,
                "messages": [{"role": "user", "content": "Oslo?"}]}),
        )
        .await;
        let chunks: Vec<Value> = events[..events.len() - 1]
            .iter()
            .map(|e| serde_json::from_str(&e.data).unwrap())
            .collect();
        let calls: Vec<&Value> = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].as_array())
            .flatten()
            .collect();
        assert_eq!(calls.len(), 1, "{chunks:?}");
        assert_eq!(calls[0]["function"]["name"], "get_weather");
        assert_eq!(
            chunks.last().unwrap()["choices"][0]["finish_reason"],
            "tool_calls"
        );
        rig.s.stop().await;
    }
}

#[tokio::test]
async fn responses_run_agents_plain_and_streamed_and_continue_with_function_outputs() {
    let rig = Rig::start(Backend::Sqlite).await;
    weather_agent(&rig, "weather-bot").await;

    rig.openai.push(Turn::text("Hello there."));
    let (st, r) = post(
        &rig,
        "/v1/responses",
        json!({"model": "agent/weather-bot", "input": "Hi", "instructions": "Be cheerful."}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["object"], "response");
    assert_eq!(r["status"], "completed");
    assert_eq!(r["output"][0]["type"], "message");
    assert_eq!(r["output"][0]["content"][0]["type"], "output_text");
    assert_eq!(r["output"][0]["content"][0]["text"], "Hello there.");
    assert_eq!(r["usage"]["input_tokens"], 10);
    assert_eq!(r["usage"]["output_tokens"], 5);
    assert_eq!(r["usage"]["total_tokens"], 15);
    assert!(rig.openai.requests()[0]
        .to_string()
        .contains("Be cheerful."));

    // previous_response_id continues the task: the model sees the earlier turn.
    rig.openai.push(Turn::text("You said hi."));
    let (st, r2) = post(
        &rig,
        "/v1/responses",
        json!({"model": "agent/weather-bot", "input": "What did I say?",
            "previous_response_id": r["id"]}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{r2}");
    assert_eq!(r2["previous_response_id"], r["id"]);
    let task = |id: &Value| id.as_str().unwrap().split('_').nth(1).unwrap().to_owned();
    assert_eq!(task(&r2["id"]), task(&r["id"]));
    assert_ne!(r2["id"], r["id"]);
    assert!(rig
        .openai
        .requests()
        .last()
        .unwrap()
        .to_string()
        .contains("Hello there."));

    // A function call item, answered by a function_call_output item.
    rig.openai.push(Turn::tool_calls(vec![(
        "get_weather",
        json!({"city": "Rome"}),
    )]));
    let (st, r3) = post(
        &rig,
        "/v1/responses",
        json!({"model": "agent/weather-bot", "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "Rome?"}]}]}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{r3}");
    let call = r3["output"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "function_call")
        .unwrap()
        .clone();
    assert_eq!(call["name"], "get_weather");
    rig.openai.push(Turn::text("Warm in Rome."));
    let events = post_stream(
        &rig,
        "/v1/responses",
        json!({"model": "agent/weather-bot", "stream": true, "input": [
            {"type": "function_call_output", "call_id": call["call_id"], "output": "{\"temp\": 30}"}]}),
    )
    .await;
    let kinds: Vec<String> = events.iter().map(|e| e.event.clone().unwrap()).collect();
    let mut shape = kinds.clone();
    shape.dedup();
    assert_eq!(
        shape,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.completed"
        ]
    );
    let data: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect();
    for (i, d) in data.iter().enumerate() {
        assert_eq!(d["sequence_number"], i as u64, "{d}");
        assert_eq!(d["type"], kinds[i]);
    }
    let deltas: String = data
        .iter()
        .filter(|d| d["type"] == "response.output_text.delta")
        .map(|d| d["delta"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, "Warm in Rome.");
    let done = &data.last().unwrap()["response"];
    assert_eq!(done["status"], "completed");
    assert_eq!(done["output"][0]["content"][0]["text"], "Warm in Rome.");
    assert_eq!(done["usage"]["total_tokens"], 15);
    assert_eq!(task(&done["id"]), task(&r3["id"]), "the same task went on");
    assert!(rig
        .openai
        .requests()
        .last()
        .unwrap()
        .to_string()
        .contains("30"));
    rig.s.stop().await;
}

#[tokio::test]
async fn models_list_agents_and_errors_take_openais_shape() {
    let rig = Rig::start(Backend::Sqlite).await;
    weather_agent(&rig, "weather-bot").await;
    let (st, models) = rig.s.call(Method::GET, "/v1/models", None).await;
    assert_eq!(st, StatusCode::OK, "{models}");
    assert_eq!(models["object"], "list");
    assert_eq!(models["data"][0]["id"], "agent/weather-bot");
    assert_eq!(models["data"][0]["object"], "model");
    assert!(models["data"][0]["created"].as_i64().unwrap() > 0);

    for model in ["agent/nope", "gpt-4o", "agent/weather-bot@7"] {
        let (st, e) = post(
            &rig,
            "/v1/chat/completions",
            json!({"model": model, "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{model}: {e}");
        assert_eq!(e["error"]["param"], "model", "{e}");
        assert_eq!(e["error"]["code"], "model_not_found");
        assert!(e["error"]["message"].as_str().unwrap().contains(model));
        assert!(e["error"]["type"].is_string());
    }
    let (st, e) = post(
        &rig,
        "/v1/responses",
        json!({"model": "agent/nope", "input": "x"}),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{e}");
    assert_eq!(e["error"]["param"], "model");

    let bad = [
        (json!({"model": "agent/weather-bot"}), "messages"),
        (
            json!({"model": "agent/weather-bot", "messages": [{"role": "assistant", "content": "x"}]}),
            "messages[0].role",
        ),
        (
            json!({"model": "agent/weather-bot", "messages": [{"role": "tool", "tool_call_id": "x", "content": "1"}]}),
            "messages[0].tool_call_id",
        ),
        (
            json!({"model": "agent/weather-bot", "messages": [{"role": "user", "content": "x"}], "stream": "yes"}),
            "stream",
        ),
    ];
    for (body, param) in bad {
        let (st, e) = post(&rig, "/v1/chat/completions", body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {e}");
        assert_eq!(e["error"]["param"], param, "{e}");
    }
    let (st, e) = post(
        &rig,
        "/v1/responses",
        json!({"model": "agent/weather-bot", "input": "x", "previous_response_id": "resp_x"}),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["error"]["param"], "previous_response_id");

    // Auth is the API's: a wrong key is refused.
    let resp = rig
        .s
        .request(Method::GET, "/v1/models")
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    rig.s.stop().await;
}

/// A function tool in chat's shape.
fn chat_function(name: &str) -> Value {
    json!({"type": "function", "function": {"name": name, "description": "Looks an order up",
        "parameters": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}}})
}

/// The names of the tools the model was offered in its last request.
fn offered(rig: &Rig) -> (Vec<String>, Value) {
    let sent = rig.openai.requests().last().cloned().unwrap();
    let names = sent["tools"]
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .map(|t| t["function"]["name"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    (names, sent["tool_choice"].clone())
}

#[tokio::test]
async fn a_requests_own_function_tools_reach_the_model_and_come_back_as_calls() {
    let rig = Rig::start(Backend::Sqlite).await;
    weather_agent(&rig, "weather-bot").await;

    // Chat: the request's function is offered with the agent's tools, its call comes back.
    rig.openai.push(Turn::tool_calls(vec![(
        "lookup_order",
        json!({"id": "A1"}),
    )]));
    let mut messages = vec![json!({"role": "user", "content": "Where is order A1?"})];
    let (st, first) = post(
        &rig,
        "/v1/chat/completions",
        json!({"model": "agent/weather-bot", "messages": messages,
               "tools": [chat_function("lookup_order")], "tool_choice": "required"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{first}");
    let (names, choice) = offered(&rig);
    assert_eq!(names, ["current_date", "get_weather", "lookup_order"]);
    assert_eq!(choice, "required");
    let choice0 = &first["choices"][0];
    assert_eq!(choice0["finish_reason"], "tool_calls", "{first}");
    let call = &choice0["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "lookup_order");
    assert_eq!(call["function"]["arguments"], r#"{"id":"A1"}"#);

    // The next request answers it and continues the task; the choice was the first call's.
    rig.openai.push(Turn::text("A1 has shipped."));
    messages.push(choice0["message"].clone());
    messages.push(
        json!({"role": "tool", "tool_call_id": call["id"], "content": "{\"status\": \"shipped\"}"}),
    );
    let (st, second) = post(
        &rig,
        "/v1/chat/completions",
        json!({"model": "agent/weather-bot", "messages": messages,
               "tools": [chat_function("lookup_order")]}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{second}");
    assert_eq!(
        second["choices"][0]["message"]["content"],
        "A1 has shipped."
    );
    let (names, choice) = offered(&rig);
    assert!(names.contains(&"lookup_order".to_owned()), "{names:?}");
    assert!(choice.is_null(), "{choice}");
    let sent = rig.openai.requests().last().cloned().unwrap().to_string();
    assert!(sent.contains("shipped") && sent.contains("Where is order A1?"));

    // A turn offers its own request's tools only.
    rig.openai.push(Turn::text("Anything else?"));
    messages.push(second["choices"][0]["message"].clone());
    messages.push(json!({"role": "user", "content": "Thanks"}));
    let (st, _) = post(
        &rig,
        "/v1/chat/completions",
        json!({"model": "agent/weather-bot", "messages": messages}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(offered(&rig).0, ["current_date", "get_weather"]);

    // Only a turn's first model call is forced: the call after a server-side tool is free.
    rig.openai
        .push(Turn::tool_calls(vec![("current_date", json!({}))]));
    rig.openai.push(Turn::text("It is Monday."));
    let (st, out) = post(
        &rig,
        "/v1/chat/completions",
        json!({"model": "agent/weather-bot", "messages": [{"role": "user", "content": "Day?"}],
               "tools": [chat_function("lookup_order")], "tool_choice": "required"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{out}");
    assert_eq!(out["choices"][0]["message"]["content"], "It is Monday.");
    let sent = rig.openai.requests();
    let [.., forced, free] = sent.as_slice() else {
        panic!("two model calls: {sent:?}")
    };
    assert_eq!(forced["tool_choice"], "required");
    assert!(free["tool_choice"].is_null(), "{free}");

    // Responses: the same, the choice naming the function; the response shows both.
    rig.openai.push(Turn::tool_calls(vec![(
        "lookup_order",
        json!({"id": "B2"}),
    )]));
    let tool = json!({"type": "function", "name": "lookup_order",
        "parameters": {"type": "object", "properties": {"id": {"type": "string"}}}});
    let (st, first) = post(
        &rig,
        "/v1/responses",
        json!({"model": "agent/weather-bot", "input": "Where is order B2?", "tools": [tool],
               "tool_choice": {"type": "function", "name": "lookup_order"}}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{first}");
    assert_eq!(
        offered(&rig).1,
        json!({"type": "function", "function": {"name": "lookup_order"}})
    );
    assert_eq!(first["tools"][0]["name"], "lookup_order", "{first}");
    assert_eq!(
        first["tool_choice"],
        json!({"type": "function", "name": "lookup_order"})
    );
    let call = first["output"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "function_call")
        .cloned()
        .unwrap_or_else(|| panic!("no function_call in {first}"));
    assert_eq!(call["name"], "lookup_order");

    rig.openai.push(Turn::text("B2 is on its way."));
    let (st, second) = post(
        &rig,
        "/v1/responses",
        json!({"model": "agent/weather-bot", "previous_response_id": first["id"], "tools": [tool],
               "input": [{"type": "function_call_output", "call_id": call["call_id"], "output": "on its way"}]}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{second}");
    assert_eq!(
        second["output"][0]["content"][0]["text"],
        "B2 is on its way."
    );
    rig.s.stop().await;
}

#[tokio::test]
async fn bad_request_tools_are_refused_naming_the_field() {
    let rig = Rig::start(Backend::Sqlite).await;
    weather_agent(&rig, "weather-bot").await;
    let user = json!([{"role": "user", "content": "x"}]);
    let chat = |tools: Value, choice: Value| json!({"model": "agent/weather-bot", "messages": user, "tools": tools, "tool_choice": choice});
    let response = |tools: Value, choice: Value| json!({"model": "agent/weather-bot", "input": "x", "tools": tools, "tool_choice": choice});
    let object = json!({"type": "object", "properties": {}});
    let cases = [
        (
            "/v1/chat/completions",
            chat(json!([{"type": "web_search"}]), Value::Null),
            "tools[0].type",
        ),
        (
            "/v1/chat/completions",
            chat(
                json!([chat_function("ok"), {"type": "function", "function": {"name": "not ok"}}]),
                Value::Null,
            ),
            "tools[1].function.name",
        ),
        (
            "/v1/chat/completions",
            chat(
                json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "string"}}}]),
                Value::Null,
            ),
            "tools[0].function.parameters",
        ),
        (
            "/v1/chat/completions",
            chat(json!([chat_function("f"), chat_function("f")]), Value::Null),
            "tools[1].function.name",
        ),
        (
            "/v1/chat/completions",
            chat(
                json!([chat_function("f")]),
                json!({"type": "function", "function": {"name": "g"}}),
            ),
            "tool_choice",
        ),
        (
            "/v1/responses",
            response(
                json!([{"type": "function", "parameters": object}]),
                Value::Null,
            ),
            "tools[0].name",
        ),
        (
            "/v1/responses",
            response(
                json!([{"type": "function", "name": "f", "parameters": {"type": "object", "properties": 3}}]),
                Value::Null,
            ),
            "tools[0].parameters",
        ),
        (
            "/v1/responses",
            response(json!([]), json!("always")),
            "tool_choice",
        ),
    ];
    for (path, body, param) in cases {
        let (st, e) = post(&rig, path, body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {e}");
        assert_eq!(e["error"]["param"], param, "{body}: {e}");
    }
    assert_eq!(rig.openai.request_count(), 0, "nothing ran");
    rig.s.stop().await;
}

#[tokio::test]
async fn a_response_is_retrieved_by_its_id() {
    let rig = Rig::start(Backend::Sqlite).await;
    weather_agent(&rig, "weather-bot").await;
    rig.openai.push(Turn::tool_calls(vec![(
        "get_weather",
        json!({"city": "Oslo"}),
    )]));
    let (st, first) = post(
        &rig,
        "/v1/responses",
        json!({"model": "agent/weather-bot", "input": "Weather in Oslo?", "metadata": {"k": "v"}}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{first}");
    let id = first["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/responses/{id}");
    let (st, got) = rig.s.call(Method::GET, &path, None).await;
    assert_eq!(st, StatusCode::OK, "{got}");
    for field in ["id", "status", "output", "usage", "metadata", "created_at"] {
        assert_eq!(got[field], first[field], "{field}: {got}");
    }
    assert_eq!(got["model"], "agent/weather-bot");

    // Once the task went on, the id of its earlier turn is unknown; the new one is found.
    let call_id = first["output"][0]["call_id"].clone();
    rig.openai.push(Turn::text("Cold in Oslo."));
    let (st, second) = post(
        &rig,
        "/v1/responses",
        json!({"model": "agent/weather-bot",
               "input": [{"type": "function_call_output", "call_id": call_id, "output": "-3"}]}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{second}");
    let (st, got) = rig
        .s
        .call(
            Method::GET,
            &format!("/v1/responses/{}", second["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{got}");
    assert_eq!(got["output"][0]["content"][0]["text"], "Cold in Oslo.");
    for unknown in [
        path,
        "/v1/responses/resp_nope_nope".to_owned(),
        "/v1/responses/nope".to_owned(),
    ] {
        let (st, e) = rig.s.call(Method::GET, &unknown, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{unknown}: {e}");
        assert_eq!(e["error"]["param"], "response_id", "{e}");
        assert!(e["error"]["type"].is_string(), "{e}");
    }
    rig.s.stop().await;
}

#[tokio::test]
async fn an_end_user_retrieves_its_own_responses_only() {
    use crate::scopes::{user_token, SECRET};
    let rig = Rig::start_with(
        Backend::Sqlite,
        baton_e2e::Options::default().env("BATON_JWT_SECRET", SECRET),
    )
    .await;
    weather_agent(&rig, "weather-bot").await;
    let (alice, bob) = (user_token("alice", None), user_token("bob", None));
    rig.openai.push(Turn::text("Hi Alice."));
    let (st, made) = rig
        .s
        .call_as(
            Some(&alice),
            Method::POST,
            "/v1/responses",
            Some(json!({"model": "agent/weather-bot", "input": "Hi"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{made}");
    let path = format!("/v1/responses/{}", made["id"].as_str().unwrap());
    let (st, got) = rig.s.call_as(Some(&alice), Method::GET, &path, None).await;
    assert_eq!(st, StatusCode::OK, "{got}");
    assert_eq!(got["output"][0]["content"][0]["text"], "Hi Alice.");
    let (st, e) = rig.s.call_as(Some(&bob), Method::GET, &path, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{e}");
    rig.s.stop().await;
}
