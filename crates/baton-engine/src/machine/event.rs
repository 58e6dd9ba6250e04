//! The typed events a run emits. The wire shape (orq's SSE events) is derived from them in one
//! place, [`RunEvent::wire`].

use crate::state::Finish;
use baton_core::model::ToolCall;
use baton_core::usage::Usage;
use serde_json::{json, Value};

/// One event of a run, as the machine emits it.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    /// A turn started.
    Started {
        /// The turn's response id.
        response_id: String,
        /// The task's id.
        task_id: String,
        /// The model the turn starts with.
        model: String,
        /// The turn's trace id.
        trace_id: String,
        /// The turn's root span id.
        span_id: String,
    },
    /// A piece of streamed text or reasoning (published live, never stored).
    Delta {
        /// The part the piece belongs to.
        part_id: String,
        /// Whether the piece is reasoning rather than answer text.
        reasoning: bool,
        /// The piece.
        text: String,
    },
    /// A whole text part of the model's answer.
    TextDone {
        /// The part's id (the one its deltas carried).
        part_id: String,
        /// The whole text.
        text: String,
    },
    /// A server-side tool call started.
    ToolStarted {
        /// The tool's id.
        tool_id: String,
        /// The call.
        call: ToolCall,
    },
    /// A tool call returned.
    ToolDone {
        /// The tool's id.
        tool_id: String,
        /// The call's id.
        call_id: String,
        /// What it returned.
        result: Value,
    },
    /// A tool call failed or was refused; the model sees the error.
    ToolFailed {
        /// The tool's id.
        tool_id: String,
        /// The call's id.
        call_id: String,
        /// Why.
        error: String,
    },
    /// A server-side call waits for a reviewer.
    ReviewRequested {
        /// The tool's id.
        tool_id: String,
        /// The call.
        call: ToolCall,
    },
    /// A reviewer decided on a call.
    ReviewDone {
        /// The tool's id.
        tool_id: String,
        /// The call's id.
        call_id: String,
        /// Whether the call may run.
        approved: bool,
    },
    /// The turn ended: answered, paused for the client or stopped by a limit.
    Done {
        /// Why it ended.
        finish: Finish,
        /// Tokens and cost of the turn.
        usage: Usage,
        /// The turn's trace id.
        trace_id: String,
        /// The turn's root span id.
        span_id: String,
        /// Client-side calls the client must answer.
        pending: Vec<ToolCall>,
        /// Server-side calls waiting for a review.
        reviews: Vec<ToolCall>,
    },
    /// The task failed.
    Failed {
        /// Why, readable.
        error: String,
    },
    /// The task was canceled.
    Canceled,
}

/// Calls waiting for a review, as the wire shows them.
pub(crate) fn reviews_json(calls: &[ToolCall]) -> Value {
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
    json!({"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
           "total_tokens": u.total_tokens})
}

impl RunEvent {
    /// Whether this event ends a turn's stream.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Done { .. } | Self::Failed { .. } | Self::Canceled
        )
    }

    /// The orq event type and its `data`, as the wire carries them.
    pub fn wire(&self) -> (&'static str, Value) {
        match self {
            Self::Started {
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
            Self::Delta {
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
            Self::TextDone { part_id, text } => (
                "part.done",
                json!({"partId": part_id, "part": {"kind": "text", "text": text}}),
            ),
            Self::ToolStarted { tool_id, call } => (
                "tool.started",
                json!({"toolId": tool_id, "toolCallId": call.id, "toolName": call.name,
                       "arguments": call.arguments}),
            ),
            Self::ToolDone {
                tool_id,
                call_id,
                result,
            } => (
                "tool.done",
                json!({"toolId": tool_id, "toolCallId": call_id, "result": result}),
            ),
            Self::ToolFailed {
                tool_id,
                call_id,
                error,
            } => (
                "tool.failed",
                json!({"toolId": tool_id, "toolCallId": call_id, "error": error}),
            ),
            Self::ReviewRequested { tool_id, call } => (
                "tool.review.requested",
                json!({"toolId": tool_id, "toolCallId": call.id, "toolName": call.name,
                       "arguments": call.arguments, "requiresApproval": true}),
            ),
            Self::ReviewDone {
                tool_id,
                call_id,
                approved,
            } => (
                "tool.review.done",
                json!({"toolId": tool_id, "toolCallId": call_id,
                       "review": if *approved { "approved" } else { "rejected" }}),
            ),
            Self::Done { .. } => ("response.done", self.done_data()),
            Self::Failed { error } => ("response.failed", json!({"error": error, "code": 500})),
            Self::Canceled => (
                "response.failed",
                json!({"error": "the task was canceled", "code": 499}),
            ),
        }
    }

    fn done_data(&self) -> Value {
        let Self::Done {
            finish,
            usage,
            trace_id,
            span_id,
            pending,
            reviews,
        } = self
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
}
