//! Admission: the checks and changes that turn a request into the next turn of a task.

use crate::state::{self, TaskData};
use crate::{invalid, random_hex, EngineError, RunRequest, ToolReview};
use baton_core::agent::AgentSpec;
use baton_core::message::{Message, Part, Role};
use baton_core::model::ToolCall;
use baton_core::store::TaskRecord;
use baton_core::task::TaskState;
use serde_json::{Map, Value};

/// Checks a request before any task is read: its message (unless it only carries reviews) and
/// that reviews come with a task to continue.
pub(crate) fn check_request(
    message: &Message,
    reviews: &[ToolReview],
    continues: bool,
) -> Result<(), EngineError> {
    if reviews.is_empty() || !message.parts.is_empty() {
        check_message(message)?;
    }
    if !reviews.is_empty() && !continues {
        return Err(invalid(
            "tool_reviews",
            "reviews continue a paused task: send task_id",
        ));
    }
    Ok(())
}

/// Continues a stored task with a request's reviews and message (empty when it only reviews).
pub(crate) fn continue_task(
    data: &mut TaskData,
    message: &Message,
    reviews: &[ToolReview],
) -> Result<(), EngineError> {
    if !reviews.is_empty() {
        apply_reviews(data, reviews)?;
        if message.parts.is_empty() {
            // The review is this turn's input; the output starts after what is there.
            data.turn_start = data.history.len().saturating_sub(1);
            new_turn(data);
            return Ok(());
        }
    }
    continue_with(data, message)
}

/// A new task starts with a user message.
pub(crate) fn check_first_message(message: &Message) -> Result<(), EngineError> {
    if message.role != Role::User {
        return Err(invalid(
            "message.role",
            "a new task starts with a `user` message; `tool` messages continue a task (send task_id)",
        ));
    }
    Ok(())
}

/// What a new task takes besides its request.
pub(crate) struct NewTask {
    /// The agent version it runs.
    pub version: u32,
    /// Earlier messages of its thread.
    pub thread_context: Vec<std::sync::Arc<Message>>,
    /// Its variables, merged over the agent's and sealed.
    pub variables: Map<String, Value>,
    /// Now, as RFC 3339.
    pub now_text: String,
}

/// A new task and its first checkpoint, not yet stored.
pub(crate) fn new_task(
    req: &RunRequest,
    spec: &AgentSpec,
    message: &Message,
    new: NewTask,
) -> (TaskRecord, TaskData) {
    let data = TaskData {
        context_id: req.thread_id.clone().unwrap_or_else(baton_core::id::new_id),
        history: vec![std::sync::Arc::new(message.clone())],
        thread_context: new.thread_context,
        turn_start: 0,
        variables: new.variables,
        metadata: req.metadata.clone(),
        identity: req.identity.clone(),
        memory_entity_id: req.memory_entity_id.clone(),
        lineage: req.lineage.clone(),
        trace_id: req
            .lineage
            .as_ref()
            .and_then(|l| l.trace.as_ref().map(|t| t.0.clone()))
            .unwrap_or_else(|| random_hex(16)),
        span_id: random_hex(8),
        model: spec.model.id.clone(),
        ..Default::default()
    };
    let task = TaskRecord {
        id: baton_core::id::new_id(),
        project_id: req.project.clone(),
        agent_id: req.agent.id.clone(),
        agent_key: req.agent.spec.key.clone(),
        agent_version: new.version,
        state: TaskState::Submitted,
        thread_id: req.thread_id.clone(),
        background: true,
        revision: 0,
        lease_owner: None,
        lease_expires_at: None,
        cancel_requested: false,
        created: new.now_text.clone(),
        updated: new.now_text,
        data: Value::Null,
        history: Vec::new(),
        history_stored: 0,
    };
    (task, data)
}

/// How a new turn starts.
pub(crate) struct TurnStart {
    /// The wall clock (Unix ms), for `max_execution_time`.
    pub now_ms: i64,
    /// The same instant as RFC 3339, for `updated`.
    pub now_text: String,
    /// Whether the turn streams its deltas.
    pub streaming: bool,
    /// The worker that runs it inline and until when it holds the lease; `None` for a
    /// background run, which a worker claims.
    pub holder: Option<(String, i64)>,
}

/// Starts a turn: a new response id and root span, its clock, and who holds the task.
pub(crate) fn begin_turn(task: &mut TaskRecord, data: &mut TaskData, start: TurnStart) {
    data.response_id = baton_core::id::new_id();
    // Each turn is a root span of the task's trace (a sub-agent's hangs under its call).
    data.span_id = random_hex(8);
    data.turn_started_ms = start.now_ms;
    data.streaming = start.streaming;
    task.background = true;
    task.updated = start.now_text;
    match start.holder {
        None => {
            task.state = TaskState::Submitted;
            task.lease_owner = None;
            task.lease_expires_at = None;
        }
        Some((worker, until)) => {
            task.state = TaskState::Working;
            task.lease_owner = Some(worker);
            task.lease_expires_at = Some(until);
        }
    }
}

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
    // A call a stopped server cut waits for a person, who may also answer it with a result.
    let awaiting: Vec<&str> = data
        .awaiting_review
        .iter()
        .map(|c| c.id.as_str())
        .filter(|id| !data.in_flight.get(*id).is_some_and(|a| a.interrupted))
        .collect();
    match message.role {
        Role::Tool => {
            if pending.is_empty() {
                return Err(invalid(
                    "message",
                    "the task has no pending tool calls; continue it with a `user` message",
                ));
            }
            check_results(message, &pending, &awaiting)?;
            let answered: Vec<&str> = message
                .parts
                .iter()
                .filter_map(|p| match p {
                    Part::ToolResult { tool_call_id, .. } => Some(tool_call_id.as_str()),
                    _ => None,
                })
                .collect();
            data.awaiting_review
                .retain(|c| !answered.contains(&c.id.as_str()));
            data.turn_start = data.history.len();
            data.history.push(std::sync::Arc::new(message.clone()));
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
            data.history.push(std::sync::Arc::new(message.clone()));
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
