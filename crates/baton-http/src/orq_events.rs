//! Run events in orq's SSE shape: `event: <type>`, `id: <seq>`, and `data:` the JSON
//! `{"type", "timestamp", "data"}` with camelCase fields (see [`RunEventMessage`]).

pub(crate) mod dto;

use crate::responses::dto::ReviewDecision;
use crate::run_wire::{Telemetry, TokenUsage};
use axum::response::sse::Event as SseEvent;
use baton_core::model::ToolCall;
use baton_engine::events::Event;
use baton_engine::follow::StreamItem;
use baton_engine::machine::RunEvent;
pub use dto::*;
use std::time::Duration;

/// A live or stored event as an SSE message. A text delta is never stored and takes no id of
/// its own: the last id a client saw always names a stored event.
pub(crate) fn to_sse(event: &Event) -> SseEvent {
    let message = RunEventMessage {
        event: wire(&event.event),
        timestamp: event.timestamp.clone(),
    };
    let data = serde_json::to_string(&message).unwrap_or_default();
    let sse = SseEvent::default().event(message.event.name()).data(data);
    if event.is_persisted() {
        sse.id(event.seq.to_string())
    } else {
        sse
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

fn telemetry(trace_id: &str, span_id: &str) -> Telemetry {
    Telemetry {
        span_id: span_id.to_owned(),
        trace_id: trace_id.to_owned(),
    }
}

/// The orq event of an engine event.
pub(crate) fn wire(event: &RunEvent) -> RunEventData {
    match event {
        RunEvent::Started {
            response_id,
            task_id,
            model,
            trace_id,
            span_id,
        } => RunEventData::ResponseStarted(ResponseStarted {
            model: model.clone(),
            response_id: response_id.clone(),
            task_id: task_id.clone(),
            telemetry: telemetry(trace_id, span_id),
            workflow_run_id: task_id.clone(),
        }),
        RunEvent::Delta {
            part_id,
            reasoning,
            text,
        } => part_delta(part_id, *reasoning, text),
        RunEvent::TextDone { part_id, text } => RunEventData::PartDone(PartDone {
            part: StreamedPart::Text { text: text.clone() },
            part_id: part_id.clone(),
        }),
        RunEvent::Done {
            finish,
            usage,
            trace_id,
            span_id,
            pending,
            reviews,
            ..
        } => RunEventData::ResponseDone(ResponseDone {
            finish_reason: (*finish).into(),
            pending_tool_calls: non_empty(pending),
            pending_tool_reviews: non_empty(reviews),
            telemetry: telemetry(trace_id, span_id),
            usage: TokenUsage::from(usage),
        }),
        RunEvent::Failed { error, .. } => RunEventData::ResponseFailed(ResponseFailed {
            code: 500,
            error: error.clone(),
        }),
        RunEvent::Canceled { interrupted, .. } => RunEventData::ResponseFailed(ResponseFailed {
            code: 499,
            error: match interrupted {
                true => "the turn was interrupted by a newer message",
                false => "the task was canceled",
            }
            .into(),
        }),
        RunEvent::ToolStarted { .. }
        | RunEvent::ToolDone { .. }
        | RunEvent::ToolFailed { .. }
        | RunEvent::ReviewRequested { .. }
        | RunEvent::ReviewDone { .. } => tool_wire(event),
    }
}

fn part_delta(part_id: &str, reasoning: bool, text: &str) -> RunEventData {
    let text = text.to_owned();
    RunEventData::PartDelta(PartDelta {
        delta: if reasoning {
            StreamedPart::Reasoning { reasoning: text }
        } else {
            StreamedPart::Text { text }
        },
        part_id: part_id.to_owned(),
    })
}

/// The calls as the wire lists them; none when there are none.
fn non_empty<'a, T: From<&'a ToolCall>>(calls: &'a [ToolCall]) -> Option<Vec<T>> {
    (!calls.is_empty()).then(|| calls.iter().map(T::from).collect())
}

/// The orq event of a tool call's event (`wire` hands it only those).
fn tool_wire(event: &RunEvent) -> RunEventData {
    match event {
        RunEvent::ToolStarted {
            tool_id,
            call,
            attempt,
        } => RunEventData::ToolStarted(ToolStarted {
            arguments: call.arguments.clone(),
            attempt: (*attempt > 1).then_some(*attempt),
            tool_call_id: call.id.clone(),
            tool_id: tool_id.clone(),
            tool_name: call.name.clone(),
        }),
        RunEvent::ToolDone {
            tool_id,
            call_id,
            result,
        } => RunEventData::ToolDone(ToolDone {
            result: result.clone(),
            tool_call_id: call_id.clone(),
            tool_id: tool_id.clone(),
        }),
        RunEvent::ToolFailed {
            tool_id,
            call_id,
            error,
        } => RunEventData::ToolFailed(ToolFailed {
            error: error.clone(),
            tool_call_id: call_id.clone(),
            tool_id: tool_id.clone(),
        }),
        RunEvent::ReviewRequested { tool_id, call } => {
            RunEventData::ToolReviewRequested(ToolReviewRequested {
                arguments: call.arguments.clone(),
                requires_approval: true,
                tool_call_id: call.id.clone(),
                tool_id: tool_id.clone(),
                tool_name: call.name.clone(),
            })
        }
        RunEvent::ReviewDone {
            tool_id,
            call_id,
            approved,
        } => RunEventData::ToolReviewDone(ToolReviewDone {
            review: if *approved {
                ReviewDecision::Approved
            } else {
                ReviewDecision::Rejected
            },
            tool_call_id: call_id.clone(),
            tool_id: tool_id.clone(),
        }),
        // Not a tool call's event: `wire` maps the others itself.
        other => wire(other),
    }
}

#[cfg(test)]
mod tests;
