//! Run events in orq's SSE shape: `event: <type>`, `id: <seq>`, and `data:` the JSON
//! `{"type", "timestamp", "data"}` with camelCase fields.

use axum::response::sse::Event as SseEvent;
use baton_core::model::ToolCall;
use baton_core::usage::Usage;
use baton_engine::events::Event;
use baton_engine::follow::StreamItem;
use baton_engine::machine::RunEvent;
use serde_json::{json, Value};
use std::time::Duration;

/// A live or stored event as an SSE message. A text delta is never stored and takes no id of
/// its own: the last id a client saw always names a stored event.
pub(crate) fn to_sse(event: &Event) -> SseEvent {
    let (kind, data) = wire(&event.event);
    let payload = json!({"type": kind, "timestamp": event.timestamp, "data": data});
    let message = SseEvent::default().event(kind).data(payload.to_string());
    if event.is_persisted() {
        message.id(event.seq.to_string())
    } else {
        message
    }
}

/// The SSE `event:` type that ends a stream of a server that shuts down mid-turn.
const RECONNECT: &str = "reconnect";

/// How long a browser's `EventSource` waits before it reconnects after [`RECONNECT`].
const RECONNECT_RETRY: Duration = Duration::from_secs(1);

/// An event of a followed stream as an SSE message. Events stored before they were typed are
/// already in orq's shape and go out as they are.
pub(crate) fn item_to_sse(item: &StreamItem) -> SseEvent {
    match item {
        StreamItem::Event(event) => to_sse(event),
        StreamItem::Raw(stored) => SseEvent::default()
            .id(stored.seq.to_string())
            .event(stored.data["type"].as_str().unwrap_or_default())
            .data(stored.data.to_string()),
        StreamItem::Reconnect => reconnect(),
    }
}

/// `event: reconnect` with a `retry:` and no `data:` and no `id:`: orq's SDK, whose event types
/// are a closed set read from `data`, yields it as an event without data instead of failing;
/// the last id a client saw stays the one to reconnect with.
fn reconnect() -> SseEvent {
    SseEvent::default()
        .comment("this server is shutting down; the run goes on: reconnect with Last-Event-ID")
        .event(RECONNECT)
        .retry(RECONNECT_RETRY)
}

/// Calls waiting for a review, as the wire shows them.
fn reviews_json(calls: &[ToolCall]) -> Value {
    Value::Array(
        calls
            .iter()
            .map(|c| json!({"tool_call_id": c.id, "tool_name": c.name, "arguments": c.arguments}))
            .collect(),
    )
}

fn pending_json(calls: &[ToolCall]) -> Value {
    Value::Array(
        calls
            .iter()
            .map(|c| {
                json!({"id": c.id, "type": "function",
                       "function": {"name": c.name, "arguments": c.arguments.to_string()}})
            })
            .collect(),
    )
}

fn usage_json(u: &Usage) -> Value {
    let mut usage = json!({"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
           "total_tokens": u.total_tokens});
    if u.interrupted_model_calls > 0 {
        usage["interrupted_model_calls"] = json!(u.interrupted_model_calls);
    }
    usage
}

/// The orq event type and its `data`.
pub(crate) fn wire(event: &RunEvent) -> (&'static str, Value) {
    match event {
        RunEvent::Started {
            response_id,
            task_id,
            model,
            trace_id,
            span_id,
        } => (
            "response.started",
            json!({"responseId": response_id, "taskId": task_id, "model": model,
                   "workflowRunId": task_id,
                   "telemetry": {"trace_id": trace_id, "span_id": span_id}}),
        ),
        RunEvent::Delta {
            part_id,
            reasoning,
            text,
        } => {
            let delta = if *reasoning {
                json!({"kind": "reasoning", "reasoning": text})
            } else {
                json!({"kind": "text", "text": text})
            };
            ("part.delta", json!({"partId": part_id, "delta": delta}))
        }
        RunEvent::TextDone { part_id, text } => (
            "part.done",
            json!({"partId": part_id, "part": {"kind": "text", "text": text}}),
        ),
        RunEvent::ToolStarted { .. }
        | RunEvent::ToolDone { .. }
        | RunEvent::ToolFailed { .. }
        | RunEvent::ReviewRequested { .. }
        | RunEvent::ReviewDone { .. } => tool_wire(event),
        RunEvent::Done { .. } => ("response.done", done_data(event)),
        RunEvent::Failed { error, .. } => ("response.failed", json!({"error": error, "code": 500})),
        RunEvent::Canceled { interrupted, .. } => {
            let error = match interrupted {
                true => "the turn was interrupted by a newer message",
                false => "the task was canceled",
            };
            ("response.failed", json!({"error": error, "code": 499}))
        }
    }
}

fn done_data(event: &RunEvent) -> Value {
    let RunEvent::Done {
        finish,
        usage,
        trace_id,
        span_id,
        pending,
        reviews,
        ..
    } = event
    else {
        return Value::Null;
    };
    let mut data = json!({
        "finishReason": finish,
        "usage": usage_json(usage),
        "telemetry": {"trace_id": trace_id, "span_id": span_id},
    });
    if !pending.is_empty() {
        data["pendingToolCalls"] = pending_json(pending);
    }
    if !reviews.is_empty() {
        data["pendingToolReviews"] = reviews_json(reviews);
    }
    data
}

/// The orq type and `data` of a tool call's events.
fn tool_wire(event: &RunEvent) -> (&'static str, Value) {
    match event {
        RunEvent::ToolStarted {
            tool_id,
            call,
            attempt,
        } => {
            let mut data = json!({"toolId": tool_id, "toolCallId": call.id, "toolName": call.name,
               "arguments": call.arguments});
            if *attempt > 1 {
                data["attempt"] = json!(attempt);
            }
            ("tool.started", data)
        }
        RunEvent::ToolDone {
            tool_id,
            call_id,
            result,
        } => (
            "tool.done",
            json!({"toolId": tool_id, "toolCallId": call_id, "result": result}),
        ),
        RunEvent::ToolFailed {
            tool_id,
            call_id,
            error,
        } => (
            "tool.failed",
            json!({"toolId": tool_id, "toolCallId": call_id, "error": error}),
        ),
        RunEvent::ReviewRequested { tool_id, call } => (
            "tool.review.requested",
            json!({"toolId": tool_id, "toolCallId": call.id, "toolName": call.name,
               "arguments": call.arguments, "requiresApproval": true}),
        ),
        RunEvent::ReviewDone {
            tool_id,
            call_id,
            approved,
        } => (
            "tool.review.done",
            json!({"toolId": tool_id, "toolCallId": call_id,
               "review": if *approved { "approved" } else { "rejected" }}),
        ),
        _ => ("", Value::Null),
    }
}

#[cfg(test)]
mod tests;
