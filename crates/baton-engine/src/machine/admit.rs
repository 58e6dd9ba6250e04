//! Admission: the checks and changes that turn a request into the next turn of a task.

use crate::state::{self, TaskData};
use crate::{invalid, EngineError, ToolReview};
use baton_core::message::{Message, Part, Role};
use baton_core::model::ToolCall;

/// Checks the shape of an incoming message.
pub(crate) fn check_message(message: &Message) -> Result<(), EngineError> {
    if message.parts.is_empty() {
        return Err(invalid("message.parts", "must contain at least one part"));
    }
    match message.role {
        Role::Tool => {
            for (i, part) in message.parts.iter().enumerate() {
                if !matches!(part, Part::ToolResult { .. }) {
                    return Err(invalid(
                        &format!("message.parts[{i}]"),
                        "tool role messages must only contain tool_result parts",
                    ));
                }
            }
        }
        Role::User => {
            for (i, part) in message.parts.iter().enumerate() {
                if matches!(part, Part::ToolResult { .. } | Part::ToolCall { .. }) {
                    return Err(invalid(
                        &format!("message.parts[{i}]"),
                        "user messages carry text, file or data parts; send tool results with role `tool`",
                    ));
                }
            }
        }
        Role::Agent | Role::System => {
            return Err(invalid("message.role", "must be `user` or `tool`"));
        }
    }
    Ok(())
}

/// Records reviewers' decisions on the calls the task waits on.
pub(crate) fn apply_reviews(
    data: &mut TaskData,
    reviews: &[ToolReview],
) -> Result<(), EngineError> {
    for (i, review) in reviews.iter().enumerate() {
        let field = format!("tool_reviews[{i}].tool_call_id");
        let Some(pos) = data
            .awaiting_review
            .iter()
            .position(|c| c.id == review.tool_call_id)
        else {
            let waiting: Vec<&str> = data.awaiting_review.iter().map(|c| c.id.as_str()).collect();
            return Err(invalid(
                &field,
                if waiting.is_empty() {
                    format!(
                        "`{}` does not wait for a review: the task has no call waiting for one",
                        review.tool_call_id
                    )
                } else {
                    format!(
                        "`{}` does not wait for a review (waiting: {})",
                        review.tool_call_id,
                        waiting.join(", ")
                    )
                },
            ));
        };
        data.awaiting_review.remove(pos);
        data.reviews.insert(
            review.tool_call_id.clone(),
            state::Review {
                approved: review.approved,
                reason: review.reason.clone(),
            },
        );
    }
    Ok(())
}

/// Resets the per-turn counters.
pub(crate) fn new_turn(data: &mut TaskData) {
    data.iterations = 0;
    data.schema_retries = 0;
    data.finish = None;
    data.error = None;
    data.turn_usage = Default::default();
}

/// Adds the next message to a paused or finished task, starting a new turn.
pub(crate) fn continue_with(data: &mut TaskData, message: &Message) -> Result<(), EngineError> {
    let pending: Vec<_> = data
        .unanswered_calls()
        .into_iter()
        .filter(|c| !data.reviews.contains_key(&c.id))
        .collect();
    let awaiting: Vec<&str> = data.awaiting_review.iter().map(|c| c.id.as_str()).collect();
    match message.role {
        Role::Tool => {
            if pending.is_empty() {
                return Err(invalid(
                    "message",
                    "the task has no pending tool calls; continue it with a `user` message",
                ));
            }
            check_results(message, &pending, &awaiting)?;
            data.turn_start = data.history.len();
            data.history.push(message.clone());
        }
        _ => {
            if !pending.is_empty() {
                return Err(invalid(
                    "message.role",
                    format!(
                        "the task waits for tool results or reviews ({}); send them first",
                        pending
                            .iter()
                            .map(|c| c.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            data.turn_start = data.history.len();
            data.history.push(message.clone());
        }
    }
    new_turn(data);
    Ok(())
}

/// Each result of a tool message answers a different call that waits for the client.
fn check_results(
    message: &Message,
    pending: &[ToolCall],
    awaiting: &[&str],
) -> Result<(), EngineError> {
    let mut seen = Vec::new();
    for (i, part) in message.parts.iter().enumerate() {
        if let Part::ToolResult { tool_call_id, .. } = part {
            if awaiting.contains(&tool_call_id.as_str()) {
                return Err(invalid(
                    &format!("message.parts[{i}].tool_call_id"),
                    format!(
                        "`{tool_call_id}` runs on the server and waits for a review: approve or reject it with tool_reviews"
                    ),
                ));
            }
            if !pending.iter().any(|c| &c.id == tool_call_id) {
                return Err(invalid(
                    &format!("message.parts[{i}].tool_call_id"),
                    format!(
                        "`{tool_call_id}` is not a pending tool call (pending: {})",
                        pending
                            .iter()
                            .map(|c| c.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            if seen.contains(tool_call_id) {
                return Err(invalid(
                    &format!("message.parts[{i}].tool_call_id"),
                    format!("`{tool_call_id}` is answered twice"),
                ));
            }
            seen.push(tool_call_id.clone());
        }
    }
    Ok(())
}
