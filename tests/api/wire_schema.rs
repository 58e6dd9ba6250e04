//! What the server sends is what its OpenAPI document says: real answers of the responses,
//! streams, threads, schedules, traces, usage and Orchestra endpoints, in the states that
//! change their shape (paused on a tool or a review, failed, running, canceled), each checked
//! against the schema the served `/openapi.json` gives for its operation and status.

use crate::runs::{user, Rig};
use baton_e2e::{read_sse, Backend};
use baton_testkit::Turn;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

/// The served document, and checks of answers against it.
struct Documented {
    doc: Value,
    checked: std::cell::Cell<usize>,
}

impl Documented {
    async fn fetch(rig: &Rig) -> Self {
        let resp = rig
            .s
            .request(Method::GET, "/openapi.json")
            .send()
            .await
            .unwrap();
        Self {
            doc: resp.json().await.unwrap(),
            checked: Default::default(),
        }
    }

    /// Fails unless `body` is valid for the schema `content_type` of `method path` has for
    /// `status` (a `#/components/schemas/…` reference is resolved against the whole document).
    fn check_content(
        &self,
        method: &str,
        path: &str,
        status: StatusCode,
        content: &str,
        body: &Value,
    ) {
        let op = &self.doc["paths"][path][method.to_lowercase()];
        assert!(op.is_object(), "{method} {path} is not in the document");
        let schema = &op["responses"][status.as_str()]["content"][content]["schema"];
        assert!(
            schema.is_object(),
            "{method} {path} documents no {content} body for {status}"
        );
        self.validate(schema, body, &format!("{method} {path} {status}"));
    }

    fn check(&self, method: &str, path: &str, status: StatusCode, body: &Value) {
        self.check_content(method, path, status, "application/json", body);
    }

    fn validate(&self, schema: &Value, body: &Value, what: &str) {
        let mut root = self.doc.clone();
        let root_map = root.as_object_mut().unwrap();
        for (k, v) in schema.as_object().unwrap() {
            root_map.insert(k.clone(), v.clone());
        }
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&root)
            .unwrap_or_else(|e| panic!("{what}: the schema does not compile: {e}"));
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{what}: {errors:?}\nbody: {body:#}");
        self.checked.set(self.checked.get() + 1);
    }

    /// Checks every message of a stream against the documented event stream schema: each
    /// has an `event` and JSON `data` valid for `RunEventMessage`, the last is `[DONE]`.
    fn check_stream(&self, method: &str, path: &str, messages: &[baton_e2e::SseMessage]) {
        let op = &self.doc["paths"][path][method.to_lowercase()];
        let sse = &op["responses"]["200"]["content"]["text/event-stream"]["schema"];
        assert_eq!(
            sse["$ref"], "#/components/schemas/RunEventSse",
            "{method} {path}"
        );
        let (last, events) = messages.split_last().expect("a stream has messages");
        assert_eq!(last.data, "[DONE]");
        let event_schema = json!({"$ref": "#/components/schemas/RunEventMessage"});
        for m in events {
            let event = m.event.as_deref().expect("an event line");
            let data = m.json();
            assert_eq!(data["type"], event, "the event line names the data's type");
            self.validate(
                &event_schema,
                &data,
                &format!("{method} {path} event {event}"),
            );
        }
    }
}

const RESPONSES: &str = "/v2/agents/{agent_key}/responses";
const RESPONSE: &str = "/v2/agents/{agent_key}/responses/{task_id}";

async fn setup(rig: &Rig) {
    let tool = crate::function_tool("weather");
    let (st, out) = rig.s.call(Method::POST, "/v2/tools", Some(tool)).await;
    assert!(st.is_success(), "{out}");
    let tools = json!([{"type": "current_date"}, {"type": "function", "key": "weather"}]);
    rig.agent(
        "a1",
        "openai/gpt-4o",
        json!({"settings": {"max_iterations": 5, "tools": tools}}),
    )
    .await;
    rig.agent(
        "a2",
        "openai/gpt-4o",
        json!({"settings": {"tool_approval_required": "all", "tools": [{"type": "current_date"}]}}),
    )
    .await;
}

/// POSTs a response and checks the answer; returns it.
async fn respond(rig: &Rig, d: &Documented, key: &str, body: Value) -> Value {
    let (st, out) = rig.respond(key, body).await;
    d.check("POST", RESPONSES, st, &out);
    out
}

async fn runs(rig: &Rig, d: &Documented) -> String {
    rig.openai.push(Turn::text("hello"));
    let done = respond(
        rig,
        d,
        "a1",
        json!({"message": user("hi"), "identity": {"id": "u1", "name": "U"},
        "thread": {"id": "th1"}, "metadata": {"m": 1}}),
    )
    .await;
    rig.openai.push(Turn::tool_calls(vec![
        ("current_date", json!({})),
        ("weather", json!({"city": "Lima"})),
    ]));
    let paused = respond(rig, d, "a1", json!({"message": user("weather?")})).await;
    assert_eq!(paused["status"]["state"], "input-required", "{paused}");
    let task = paused["task_id"].as_str().unwrap().to_owned();
    let (st, polled) = rig
        .s
        .call(
            Method::GET,
            &format!("/v2/agents/a1/responses/{task}"),
            None,
        )
        .await;
    d.check("GET", RESPONSE, st, &polled);
    rig.openai
        .push(Turn::tool_calls(vec![("current_date", json!({}))]));
    let review = respond(rig, d, "a2", json!({"message": user("date?")})).await;
    assert!(review["pending_tool_reviews"].is_array(), "{review}");
    rig.openai
        .push(Turn::error(400, json!({"error": {"message": "no"}})));
    let failed = respond(rig, d, "a1", json!({"message": user("fail")})).await;
    assert_eq!(failed["status"]["state"], "failed", "{failed}");
    // 4xx answers have the error body.
    let (st, out) = rig.respond("a1", json!({})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    d.check("POST", RESPONSES, st, &out);
    let (st, out) = rig.respond("nope", json!({"message": user("x")})).await;
    d.check("POST", RESPONSES, st, &out);
    let (st, thread) = rig.s.call(Method::GET, "/v2/threads/th1", None).await;
    d.check("GET", "/v2/threads/{thread_id}", st, &thread);
    done["telemetry"]["trace_id"].as_str().unwrap().to_owned()
}

async fn background_and_cancel(rig: &Rig, d: &Documented) {
    rig.openai
        .push(Turn::text("later").with_delay(Duration::from_millis(800)));
    let queued = respond(
        rig,
        d,
        "a1",
        json!({"message": user("bg"), "background": true}),
    )
    .await;
    let task = queued["task_id"].as_str().unwrap().to_owned();
    let path = format!("/v2/agents/a1/responses/{task}");
    let (st, running) = rig.s.call(Method::GET, &path, None).await;
    d.check("GET", RESPONSE, st, &running);
    let (st, busy) = rig
        .respond("a1", json!({"task_id": task, "message": user("again")}))
        .await;
    if st == StatusCode::CONFLICT {
        d.check("POST", RESPONSES, st, &busy);
    }
    let (st, canceled) = rig
        .s
        .call(Method::POST, &format!("{path}/cancel"), None)
        .await;
    d.check("POST", &format!("{RESPONSE}/cancel"), st, &canceled);
    let ended = rig.poll_until_inactive("a1", &task).await;
    d.check("GET", RESPONSE, StatusCode::OK, &ended);
}

async fn streams(rig: &Rig, d: &Documented) {
    let cases = [
        // A tool call, then the streamed answer.
        (
            "a1",
            vec![
                Turn::tool_calls(vec![("current_date", json!({}))]),
                Turn::text("streamed"),
            ],
        ),
        // A call waiting for a review; a client-side call; a failure.
        (
            "a2",
            vec![Turn::tool_calls(vec![("current_date", json!({}))])],
        ),
        (
            "a1",
            vec![Turn::tool_calls(vec![(
                "weather",
                json!({"city": "Quito"}),
            )])],
        ),
        (
            "a1",
            vec![Turn::error(400, json!({"error": {"message": "no"}}))],
        ),
    ];
    for (key, turns) in cases {
        for turn in turns {
            rig.openai.push(turn);
        }
        let body = json!({"message": user("s"), "stream": true});
        let path = format!("/v2/agents/{key}/responses");
        let resp = rig
            .s
            .request(Method::POST, &path)
            .bearer_auth(baton_e2e::API_KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let messages = read_sse(resp, 200).await;
        d.check_stream("POST", RESPONSES, &messages);
        let task = messages[0].json()["data"]["taskId"]
            .as_str()
            .unwrap()
            .to_owned();
        let resumed = rig
            .s
            .request(Method::GET, &format!("{path}/{task}/stream"))
            .bearer_auth(baton_e2e::API_KEY)
            .header("Last-Event-ID", "1")
            .send()
            .await
            .unwrap();
        d.check_stream(
            "GET",
            &format!("{RESPONSE}/stream"),
            &read_sse(resumed, 200).await,
        );
    }
}

async fn schedules(rig: &Rig, d: &Documented) {
    const LIST: &str = "/v3/agents/{agent_key}/schedules";
    const ONE: &str = "/v3/agents/{agent_key}/schedules/{schedule_id}";
    let body = json!({"type": "cron", "expression": "0 0 9 * * *", "display_name": "Morning",
        "agent_tag": "1", "catch_up": "latest",
        "payload": {"input": "go", "variables": {"v": "1"}, "metadata": {"k": "v"}, "memory_entity_id": "e"}});
    let (st, full) = rig
        .s
        .call(Method::POST, "/v3/agents/a1/schedules", Some(body))
        .await;
    d.check("POST", LIST, st, &full);
    let (st, bare) = rig
        .s
        .call(
            Method::POST,
            "/v3/agents/a1/schedules",
            Some(json!({"type": "interval", "expression": "@every 1h", "payload": {}})),
        )
        .await;
    d.check("POST", LIST, st, &bare);
    let (st, out) = rig
        .s
        .call(
            Method::POST,
            "/v3/agents/a1/schedules",
            Some(json!({"type": "cron", "expression": "nope", "payload": {}})),
        )
        .await;
    d.check("POST", LIST, st, &out);
    let (st, out) = rig
        .s
        .call(Method::GET, "/v3/agents/a1/schedules", None)
        .await;
    d.check("GET", LIST, st, &out);
    let one = format!("/v3/agents/a1/schedules/{}", full["_id"].as_str().unwrap());
    let other = format!("/v3/agents/a1/schedules/{}", bare["_id"].as_str().unwrap());
    let (st, out) = rig
        .s
        .call(Method::PATCH, &other, Some(json!({"is_active": false})))
        .await;
    d.check("PATCH", ONE, st, &out);
    let (st, out) = rig
        .s
        .call(Method::POST, &format!("{other}/execution"), None)
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{out}");
    d.check("POST", &format!("{ONE}/execution"), st, &out);
    rig.openai.push(Turn::text("fired"));
    let (st, out) = rig
        .s
        .call(Method::POST, &format!("{one}/execution"), None)
        .await;
    d.check("POST", &format!("{ONE}/execution"), st, &out);
    let (st, out) = rig
        .s
        .call(Method::GET, &format!("{one}/executions"), None)
        .await;
    d.check("GET", &format!("{ONE}/executions"), st, &out);
    let (st, out) = rig.s.call(Method::GET, &one, None).await;
    d.check("GET", ONE, st, &out);
    let orchestra = json!({"title": "T", "trigger": {"type": "cron", "expression": "0 9 * * 1"},
        "task": {"input": "go", "metadata": {"assistant_id": "a1", "thread_id": "x"}}});
    let (st, out) = rig
        .s
        .call(Method::POST, "/api/schedules", Some(orchestra))
        .await;
    d.check("POST", "/api/schedules", st, &out);
    let (st, out) = rig.s.call(Method::DELETE, &one, None).await;
    assert_eq!((st, out), (StatusCode::NO_CONTENT, Value::Null));
    let (st, out) = rig.s.call(Method::GET, &one, None).await;
    d.check("GET", ONE, st, &out);
}

async fn traces(rig: &Rig, d: &Documented, trace: &str) {
    let (st, out) = rig
        .s
        .call(Method::GET, &format!("/v3/traces/{trace}"), None)
        .await;
    d.check("GET", "/v3/traces/{trace_id}", st, &out);
    let (st, page) = rig
        .s
        .call(
            Method::GET,
            &format!("/v3/traces/{trace}/spans?limit=1"),
            None,
        )
        .await;
    d.check("GET", "/v3/traces/{trace_id}/spans", st, &page);
    let (st, page) = rig
        .s
        .call(Method::GET, &format!("/v3/traces/{trace}/spans"), None)
        .await;
    d.check("GET", "/v3/traces/{trace_id}/spans", st, &page);
    for span in page["data"].as_array().unwrap() {
        let path = format!(
            "/v3/traces/{trace}/spans/{}",
            span["span_id"].as_str().unwrap()
        );
        let (st, out) = rig.s.call(Method::GET, &path, None).await;
        d.check("GET", "/v3/traces/{trace_id}/spans/{span_id}", st, &out);
    }
    let now = chrono::Utc::now();
    let from = (now - chrono::Duration::hours(1)).to_rfc3339();
    let to = (now + chrono::Duration::hours(1)).to_rfc3339();
    let search = json!({"from": from, "to": to, "filter_operator": "or", "limit": 5,
        "filters": [{"field": "agent", "values": ["a1"]}, {"field": "thread_id", "op": "eq", "values": ["th1"]}]});
    let (st, out) = rig
        .s
        .call(Method::POST, "/v3/traces/search", Some(search))
        .await;
    d.check("POST", "/v3/traces/search", st, &out);
    for group in ["agent", "model", "identity", "day"] {
        let path = format!(
            "/v3/usage?from={}&to={}&group_by={group}",
            enc(&from),
            enc(&to)
        );
        let (st, out) = rig.s.call(Method::GET, &path, None).await;
        d.check("GET", "/v3/usage", st, &out);
    }
}

fn enc(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

async fn orchestra_tools(rig: &Rig, d: &Documented) {
    let tool = json!({"name": "otool", "description": "d", "type": "api",
        "config": {"api_tool": {"base_url": "https://example.com/", "method": "GET", "endpoint": "x",
        "args_schema": {"properties": {"q": {"type": "string"}}}}}});
    let (st, out) = rig.s.call(Method::POST, "/api/tools", Some(tool)).await;
    d.check("POST", "/api/tools", st, &out);
    let batch = json!([{"name": "weather", "args": {"city": "x"}}, {"name": "nope"}, {"name": "current_date"}]);
    let (st, out) = rig
        .s
        .call(Method::POST, "/api/tools/invoke", Some(batch))
        .await;
    d.check("POST", "/api/tools/invoke", st, &out);
    let (st, out) = rig
        .s
        .call(Method::POST, "/api/tools/invoke", Some(json!([])))
        .await;
    d.check("POST", "/api/tools/invoke", st, &out);
}

#[tokio::test]
async fn answers_match_the_documented_schemas() {
    let rig = Rig::start(Backend::Sqlite).await;
    setup(&rig).await;
    let d = Documented::fetch(&rig).await;
    let trace = runs(&rig, &d).await;
    background_and_cancel(&rig, &d).await;
    streams(&rig, &d).await;
    schedules(&rig, &d).await;
    traces(&rig, &d, &trace).await;
    orchestra_tools(&rig, &d).await;
    assert!(
        d.checked.get() > 50,
        "only {} bodies checked",
        d.checked.get()
    );
}
