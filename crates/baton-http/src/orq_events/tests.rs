//! The orq wire shape of each event, pinned field by field.

use super::*;
use baton_core::store::TaskEvent;
use baton_core::usage::Usage;
use baton_engine::state::Finish;
use serde_json::{json, Value};

/// An event's SSE `event:` name and the `data` of its JSON, checking the name is its `type`.
fn wire_json(event: &RunEvent) -> (&'static str, Value) {
    let data = wire(event);
    let mut value = serde_json::to_value(&data).unwrap();
    assert_eq!(value["type"], data.name(), "{event:?}");
    (data.name(), value["data"].take())
}

fn call(id: &str, name: &str) -> ToolCall {
    ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: json!({"q": id}),
        signature: None,
    }
}

#[test]
fn each_event_has_its_orq_type_and_data() {
    let c = call("c1", "lookup");
    let cases = [
        (
            RunEvent::Started {
                response_id: "r".into(),
                task_id: "t".into(),
                model: "m".into(),
                trace_id: "tr".into(),
                span_id: "sp".into(),
            },
            "response.started",
            json!({"responseId": "r", "taskId": "t", "model": "m", "workflowRunId": "t",
                   "telemetry": {"trace_id": "tr", "span_id": "sp"}}),
        ),
        (
            RunEvent::Delta {
                part_id: "p".into(),
                reasoning: false,
                text: "he".into(),
            },
            "part.delta",
            json!({"partId": "p", "delta": {"kind": "text", "text": "he"}}),
        ),
        (
            RunEvent::Delta {
                part_id: "p".into(),
                reasoning: true,
                text: "hm".into(),
            },
            "part.delta",
            json!({"partId": "p", "delta": {"kind": "reasoning", "reasoning": "hm"}}),
        ),
        (
            RunEvent::TextDone {
                part_id: "p".into(),
                text: "hello".into(),
            },
            "part.done",
            json!({"partId": "p", "part": {"kind": "text", "text": "hello"}}),
        ),
        (
            RunEvent::ToolStarted {
                tool_id: "i".into(),
                call: c.clone(),
                attempt: 1,
            },
            "tool.started",
            json!({"toolId": "i", "toolCallId": "c1", "toolName": "lookup",
                   "arguments": {"q": "c1"}}),
        ),
        (
            RunEvent::ToolDone {
                tool_id: "i".into(),
                call_id: "c1".into(),
                result: json!(3),
            },
            "tool.done",
            json!({"toolId": "i", "toolCallId": "c1", "result": 3}),
        ),
        (
            RunEvent::ToolFailed {
                tool_id: "i".into(),
                call_id: "c1".into(),
                error: "e".into(),
            },
            "tool.failed",
            json!({"toolId": "i", "toolCallId": "c1", "error": "e"}),
        ),
        (
            RunEvent::ReviewRequested {
                tool_id: "i".into(),
                call: c.clone(),
            },
            "tool.review.requested",
            json!({"toolId": "i", "toolCallId": "c1", "toolName": "lookup",
                   "arguments": {"q": "c1"}, "requiresApproval": true}),
        ),
        (
            RunEvent::ReviewDone {
                tool_id: "i".into(),
                call_id: "c1".into(),
                approved: false,
            },
            "tool.review.done",
            json!({"toolId": "i", "toolCallId": "c1", "review": "rejected"}),
        ),
        (
            RunEvent::Failed {
                error: "bad".into(),
                turn: None,
            },
            "response.failed",
            json!({"error": "bad", "code": 500}),
        ),
        (
            RunEvent::Canceled {
                interrupted: false,
                turn: None,
            },
            "response.failed",
            json!({"error": "the task was canceled", "code": 499}),
        ),
        (
            RunEvent::Canceled {
                interrupted: true,
                turn: Some(Default::default()),
            },
            "response.failed",
            json!({"error": "the turn was interrupted by a newer message", "code": 499}),
        ),
    ];
    for (event, kind, data) in cases {
        assert_eq!(wire_json(&event), (kind, data), "{event:?}");
    }
}

/// Every event, as its SSE `data`, is valid for the document's `RunEventMessage` and names
/// one of the types the document lists.
#[test]
fn every_event_matches_the_documented_schema() {
    let mut doc = serde_json::to_value(crate::openapi_document()).unwrap();
    let types = doc["components"]["schemas"]["RunEventMessage"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            v["properties"]["type"]["enum"][0]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect::<Vec<_>>();
    doc["$ref"] = json!("#/components/schemas/RunEventMessage");
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&doc)
        .unwrap();
    let c = call("c1", "lookup");
    let usage = Usage {
        interrupted_model_calls: 2,
        ..Default::default()
    };
    let events = [
        RunEvent::Started {
            response_id: "r".into(),
            task_id: "t".into(),
            model: "m".into(),
            trace_id: "tr".into(),
            span_id: "sp".into(),
        },
        RunEvent::Delta {
            part_id: "p".into(),
            reasoning: true,
            text: "hm".into(),
        },
        RunEvent::Delta {
            part_id: "p".into(),
            reasoning: false,
            text: "he".into(),
        },
        RunEvent::TextDone {
            part_id: "p".into(),
            text: "hello".into(),
        },
        RunEvent::ToolStarted {
            tool_id: "i".into(),
            call: c.clone(),
            attempt: 2,
        },
        RunEvent::ToolDone {
            tool_id: "i".into(),
            call_id: "c1".into(),
            result: Value::Null,
        },
        RunEvent::ToolFailed {
            tool_id: "i".into(),
            call_id: "c1".into(),
            error: "e".into(),
        },
        RunEvent::ReviewRequested {
            tool_id: "i".into(),
            call: c.clone(),
        },
        RunEvent::ReviewDone {
            tool_id: "i".into(),
            call_id: "c1".into(),
            approved: true,
        },
        RunEvent::Done {
            finish: Finish::ToolCalls,
            usage,
            trace_id: "tr".into(),
            span_id: "sp".into(),
            pending: vec![c.clone()],
            reviews: vec![c.clone()],
            turn: Some(Default::default()),
        },
        RunEvent::Failed {
            error: "bad".into(),
            turn: None,
        },
        RunEvent::Canceled {
            interrupted: true,
            turn: None,
        },
    ];
    for event in events {
        let data = wire(&event);
        let message = RunEventMessage {
            event: data.clone(),
            timestamp: "2026-01-01T00:00:00.000Z".into(),
        };
        let value = serde_json::to_value(&message).unwrap();
        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["data", "timestamp", "type"], "{value}");
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{value}: {errors:?}");
        assert!(
            types.iter().any(|t| t == data.name()),
            "{} undocumented",
            data.name()
        );
        let back: RunEventMessage = serde_json::from_value(value).unwrap();
        assert_eq!(back.event, data, "reads back as it was sent");
    }
}

#[test]
fn the_end_of_a_turn_lists_what_waits_only_when_something_does() {
    let usage = Usage {
        prompt_tokens: 1,
        completion_tokens: 2,
        total_tokens: 3,
        cost: 0.5,
        ..Default::default()
    };
    let done = |pending: Vec<ToolCall>, reviews: Vec<ToolCall>| RunEvent::Done {
        finish: Finish::ToolCalls,
        usage,
        trace_id: "tr".into(),
        span_id: "sp".into(),
        pending,
        reviews,
        turn: Some(Default::default()),
    };
    let base = json!({"finishReason": "tool_calls",
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
        "telemetry": {"trace_id": "tr", "span_id": "sp"}});
    assert_eq!(
        wire_json(&done(vec![], vec![])),
        ("response.done", base.clone())
    );
    let mut both = base;
    both["pendingToolCalls"] = json!([{"id": "c", "type": "function",
        "function": {"name": "get_weather", "arguments": "{\"q\":\"c\"}"}}]);
    both["pendingToolReviews"] = json!([{"tool_call_id": "r", "tool_name": "transfer",
        "arguments": {"q": "r"}}]);
    assert_eq!(
        wire_json(&done(
            vec![call("c", "get_weather")],
            vec![call("r", "transfer")]
        )),
        ("response.done", both)
    );
}

#[test]
fn a_stored_event_goes_out_as_it_was_published_and_legacy_rows_as_they_are() {
    let event = Event {
        seq: 7,
        timestamp: "2026-01-01T00:00:00Z".into(),
        event: RunEvent::Failed {
            error: "bad".into(),
            turn: Some(Default::default()),
        },
    };
    let stored = TaskEvent {
        seq: 7,
        data: event.to_stored(),
    };
    assert!(StreamItem::stored(stored.clone()).is_terminal());
    let back = Event::from_stored(stored.seq, &stored.data).expect("a typed event");
    assert_eq!(back, event);
    let legacy = TaskEvent {
        seq: 3,
        data: json!({"type": "response.done", "timestamp": "t", "data": {}}),
    };
    assert!(Event::from_stored(legacy.seq, &legacy.data).is_none());
    let item = StreamItem::stored(legacy);
    assert!(item.is_terminal());
    assert!(matches!(item, StreamItem::Raw(_)));
}
