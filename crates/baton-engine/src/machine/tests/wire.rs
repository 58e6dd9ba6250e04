//! The orq wire shape of each event, pinned field by field.

use super::*;
use crate::machine::RunEvent;
use crate::state::Finish;
use baton_core::usage::Usage;

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
            },
            "response.failed",
            json!({"error": "bad", "code": 500}),
        ),
        (
            RunEvent::Canceled,
            "response.failed",
            json!({"error": "the task was canceled", "code": 499}),
        ),
    ];
    for (event, kind, data) in cases {
        assert_eq!(event.wire(), (kind, data), "{event:?}");
    }
}

#[test]
fn the_end_of_a_turn_lists_what_waits_only_when_something_does() {
    let usage = Usage {
        prompt_tokens: 1,
        completion_tokens: 2,
        total_tokens: 3,
        cost: 0.5,
    };
    let done = |pending: Vec<ToolCall>, reviews: Vec<ToolCall>| RunEvent::Done {
        finish: Finish::ToolCalls,
        usage,
        trace_id: "tr".into(),
        span_id: "sp".into(),
        pending,
        reviews,
    };
    let base = json!({"finishReason": "tool_calls",
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
        "telemetry": {"trace_id": "tr", "span_id": "sp"}});
    assert_eq!(done(vec![], vec![]).wire(), ("response.done", base.clone()));
    let mut both = base;
    both["pendingToolCalls"] = json!([{"id": "c", "type": "function",
        "function": {"name": "get_weather", "arguments": "{\"q\":\"c\"}"}}]);
    both["pendingToolReviews"] = json!([{"tool_call_id": "r", "tool_name": "transfer",
        "arguments": {"q": "r"}}]);
    assert_eq!(
        done(vec![call("c", "get_weather")], vec![call("r", "transfer")]).wire(),
        ("response.done", both)
    );
}
