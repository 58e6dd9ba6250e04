//! The document types the bodies it describes: every request body and every answer with a body
//! of every operation names a schema (not a bare `{"type": "object"}`), every error status has
//! an error body, streams document their SSE messages, and the operations that can answer 409
//! say so.

#![allow(clippy::unwrap_used)]

use serde_json::Value;

/// Tags whose operations are typed end to end: all of them.
const TYPED_TAGS: [&str; 13] = [
    "agents",
    "tools",
    "responses",
    "memory",
    "knowledge",
    "schedules",
    "traces",
    "api-keys",
    "orchestra",
    "ensemble",
    "a2a",
    "mcp",
    "openai",
];

fn document() -> Value {
    serde_json::to_value(baton_http::openapi_document()).unwrap()
}

/// Whether `schema` names a component, or is an array of one.
fn is_typed(schema: &Value) -> bool {
    schema["$ref"].is_string() || schema["items"]["$ref"].is_string()
}

fn typed_operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let tag = op["tags"][0].as_str().unwrap_or_default();
            if TYPED_TAGS.contains(&tag) {
                out.push((method.to_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    out
}

#[test]
fn request_and_answer_bodies_name_their_schemas() {
    let doc = document();
    let ops = typed_operations(&doc);
    let all: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(ops.len(), all, "every operation is in a typed group");
    for (method, path, op) in ops {
        if let Some(body) = op.get("requestBody") {
            let schema = &body["content"]["application/json"]["schema"];
            assert!(
                is_typed(schema),
                "{method} {path}: untyped request body {schema}"
            );
            assert_eq!(body["required"], true, "{method} {path}");
        }
        for (status, answer) in op["responses"].as_object().unwrap() {
            let Some(content) = answer["content"].as_object() else {
                // 202: an MCP notification accepted, which the transport answers without a body.
                assert!(
                    status == "204" || (status == "202" && path == "/mcp"),
                    "{method} {path}: {status} has no body"
                );
                continue;
            };
            for (media, entry) in content {
                let schema = &entry["schema"];
                assert!(
                    is_typed(schema),
                    "{method} {path} {status} {media}: untyped {schema}"
                );
                if status.starts_with('4') || status.starts_with('5') {
                    // FlatErrorBody: the one layout orq's SDK expects on a tool update's 404;
                    // A2aErrorBody: A2A's REST binding (a `google.rpc.Status`);
                    // A2aJsonRpcResponse: its JSON-RPC binding (a JSON-RPC error response).
                    let error = schema["$ref"].as_str().unwrap_or_default();
                    assert!(
                        error.ends_with("/ErrorBody")
                            || error.ends_with("/FlatErrorBody")
                            || error.ends_with("/A2aErrorBody")
                            || error.ends_with("/A2aJsonRpcResponse"),
                        "{method} {path} {status}: {error}"
                    );
                }
            }
        }
    }
}

#[test]
fn streams_document_their_messages_and_runs_their_conflicts() {
    let doc = document();
    let create = &doc["paths"]["/v2/agents/{agent_key}/responses"]["post"];
    let resume = &doc["paths"]["/v2/agents/{agent_key}/responses/{task_id}/stream"]["get"];
    for op in [create, resume] {
        let sse = &op["responses"]["200"]["content"]["text/event-stream"]["schema"]["$ref"];
        assert_eq!(sse, "#/components/schemas/RunEventSse");
    }
    assert_eq!(
        create["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/AgentResponse"
    );
    assert!(
        create["responses"]["409"].is_object(),
        "a busy task answers 409"
    );
    let update = &doc["paths"]["/v3/agents/{agent_key}/schedules/{schedule_id}"]["patch"];
    assert!(
        update["responses"]["409"].is_object(),
        "a racing update answers 409"
    );
    // One schema per event type, each with its type, data and timestamp.
    let events = doc["components"]["schemas"]["RunEventMessage"]["oneOf"]
        .as_array()
        .unwrap();
    assert!(events.len() >= 10);
    for event in events {
        let required = event["required"].as_array().unwrap();
        for key in ["type", "data", "timestamp"] {
            assert!(required.iter().any(|k| k == key), "{event}");
        }
    }
}

#[test]
fn the_main_operations_have_examples() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    for name in [
        "CreateResponseRequest",
        "AgentResponse",
        "PolledResponse",
        "CreateScheduleRequest",
        "Schedule",
        "RunEventMessage",
    ] {
        assert!(
            schemas[name]["example"].is_object(),
            "{name} has no example"
        );
    }
}
