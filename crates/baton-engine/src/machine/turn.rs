//! Tool calls, reviews and the ends of a turn (pause, answer, limit, failure, cancel) as
//! changes of the task's checkpoint.

use super::event::{RunEvent, TurnMark};
use crate::state::{Finish, TaskData, ToolAttempt};
use crate::step::ToolKinds;
use baton_core::message::{Message, Part, Role};
use baton_core::model::ToolCall;
use baton_core::task::TaskState;
use serde_json::{json, Map, Value};

/// Whether a server-side call runs: its review (if any) and its start, as events, and the
/// rejection the model sees instead of a result when a reviewer refused it. A call that runs
/// gets its intent (the attempt, from `now_ms`) recorded, to be stored before it runs.
pub fn start_call(
    data: &mut TaskData,
    kinds: &dyn ToolKinds,
    call: &ToolCall,
    now_ms: i64,
) -> (Vec<RunEvent>, Result<(), String>) {
    let tool_id = kinds.tool_id(&call.name);
    let mut events = Vec::new();
    if let Some(review) = data.reviews.get(&call.id) {
        events.push(RunEvent::ReviewDone {
            tool_id: tool_id.clone(),
            call_id: call.id.clone(),
            approved: review.approved,
        });
        if !review.approved {
            let mut message = if data.in_flight.get(&call.id).is_some_and(|a| a.interrupted) {
                "a reviewer rejected running this call again; the outcome of its interrupted attempt is unknown"
            } else {
                "a reviewer rejected this call; it was not run"
            }
            .to_owned();
            if let Some(reason) = review.reason.as_deref().filter(|r| !r.is_empty()) {
                message.push_str(": ");
                message.push_str(reason);
            }
            return (events, Err(message));
        }
    }
    let attempt = data.in_flight.get(&call.id).map_or(1, |a| a.attempt + 1);
    data.in_flight.insert(
        call.id.clone(),
        ToolAttempt {
            attempt,
            started_ms: now_ms,
            interrupted: false,
        },
    );
    events.push(RunEvent::ToolStarted {
        tool_id,
        call: call.clone(),
        attempt,
    });
    (events, Ok(()))
}

/// Records a call's result (an error is shown to the model as `{"error": …}`); the call's
/// intent is done with.
pub fn record_result(
    data: &mut TaskData,
    kinds: &dyn ToolKinds,
    call: &ToolCall,
    result: Result<Value, String>,
) -> RunEvent {
    let metadata = data.in_flight.remove(&call.id).and_then(attempts_note);
    let tool_id = kinds.tool_id(&call.name);
    let (event, value) = match result {
        Ok(value) => (
            RunEvent::ToolDone {
                tool_id,
                call_id: call.id.clone(),
                result: value.clone(),
            },
            value,
        ),
        Err(message) => {
            let value = json!({"error": message});
            (
                RunEvent::ToolFailed {
                    tool_id,
                    call_id: call.id.clone(),
                    error: message,
                },
                value,
            )
        }
    };
    data.history.push(std::sync::Arc::new(Message {
        message_id: baton_core::id::new_id(),
        role: Role::Tool,
        parts: vec![Part::ToolResult {
            tool_call_id: call.id.clone(),
            result: Some(value),
            metadata,
        }],
    }));
    event
}

/// What the history notes of a call a stopped server cut: how many attempts started, and
/// whether the outcome of the last is unknown. Nothing for a call that ran once.
fn attempts_note(attempt: ToolAttempt) -> Option<Map<String, Value>> {
    if attempt.attempt < 2 && !attempt.interrupted {
        return None;
    }
    let mut note = Map::new();
    note.insert("attempts".into(), json!(attempt.attempt));
    if attempt.interrupted {
        note.insert("outcome".into(), json!("unknown"));
    }
    Some(note)
}

/// Pauses the turn for client results and reviews; each call that newly waits for a review is
/// announced once.
pub fn pause(
    data: &mut TaskData,
    kinds: &dyn ToolKinds,
    calls: Vec<ToolCall>,
    reviews: Vec<ToolCall>,
) -> (TaskState, Vec<RunEvent>) {
    let mut events: Vec<RunEvent> = reviews
        .iter()
        .filter(|call| !data.awaiting_review.iter().any(|c| c.id == call.id))
        .map(|call| RunEvent::ReviewRequested {
            tool_id: kinds.tool_id(&call.name),
            call: call.clone(),
        })
        .collect();
    data.awaiting_review = reviews;
    let (state, done) = end(data, Finish::ToolCalls, calls);
    events.push(done);
    (state, events)
}

/// Ends the turn: `input-required` while calls wait for the client or a reviewer, else
/// `completed`.
pub fn end(data: &mut TaskData, finish: Finish, pending: Vec<ToolCall>) -> (TaskState, RunEvent) {
    data.finish = Some(finish);
    if finish != Finish::ToolCalls {
        data.awaiting_review.clear();
    }
    let state = if pending.is_empty() && data.awaiting_review.is_empty() {
        TaskState::Completed
    } else {
        TaskState::InputRequired
    };
    let event = RunEvent::Done {
        finish,
        usage: data.turn_usage,
        trace_id: data.trace_id.clone(),
        span_id: data.span_id.clone(),
        pending,
        reviews: data.awaiting_review.clone(),
        turn: Some(TurnMark::of(data)),
    };
    (state, event)
}

/// Fails the task with a readable message.
pub fn fail(data: &mut TaskData, message: String) -> (TaskState, RunEvent) {
    data.error = Some(message.clone());
    let turn = Some(TurnMark::of(data));
    (
        TaskState::Failed,
        RunEvent::Failed {
            error: message,
            turn,
        },
    )
}

/// What a turn a newer message interrupted says as its error.
pub const INTERRUPTED: &str = "interrupted: a newer message took over the task";

/// Ends the turn as canceled: by a cancel request, or interrupted by a queued message.
pub fn cancel(data: &mut TaskData) -> (TaskState, RunEvent) {
    let interrupted = super::queue::interrupts_current(data);
    data.error = Some(if interrupted { INTERRUPTED } else { "canceled" }.into());
    let turn = Some(TurnMark::of(data));
    (
        TaskState::Canceled,
        RunEvent::Canceled { interrupted, turn },
    )
}
