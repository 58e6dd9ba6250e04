//! The JSON bodies of responses: orq's `CreateAgentResponse` fields plus the A2A task fields.

use baton_core::message::Message;
use baton_core::store::TaskRecord;
use baton_core::task::TaskState;
use baton_engine::state::TaskData;
use serde_json::{json, Map, Value};

pub(super) fn usage_json(u: &baton_core::usage::Usage) -> Value {
    let mut usage = json!({"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
           "total_tokens": u.total_tokens});
    // Model calls a stopped server cut: their tokens are unknown, so they are counted apart.
    if u.interrupted_model_calls > 0 {
        usage["interrupted_model_calls"] = json!(u.interrupted_model_calls);
    }
    usage
}

pub(super) fn message_json(m: &Message) -> Value {
    json!({"messageId": m.message_id, "role": m.role, "parts": m.parts})
}

/// The body of a response: orq's `CreateAgentResponse` fields plus the A2A task fields.
pub(super) fn response_json(task: &TaskRecord, data: &TaskData) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("_id".into(), json!(data.response_id));
    body.insert("task_id".into(), json!(task.id));
    body.insert("id".into(), json!(task.id));
    body.insert("contextId".into(), json!(data.context_id));
    body.insert("kind".into(), json!("task"));
    body.insert(
        "output".into(),
        Value::Array(data.turn_output().iter().map(message_json).collect()),
    );
    body.insert("created_at".into(), json!(task.created));
    body.insert("model".into(), json!(data.model));
    body.insert("usage".into(), usage_json(&data.turn_usage));
    body.insert(
        "finish_reason".into(),
        serde_json::to_value(data.finish).unwrap_or(Value::Null),
    );
    if task.state == TaskState::InputRequired {
        let pending: Vec<Value> = data
            .client_pending_calls()
            .iter()
            .map(|c| {
                json!({"id": c.id, "type": "function",
                       "function": {"name": c.name, "arguments": c.arguments.to_string()}})
            })
            .collect();
        body.insert("pending_tool_calls".into(), Value::Array(pending));
        if !data.awaiting_review.is_empty() {
            let reviews: Vec<Value> = data
                .awaiting_review
                .iter()
                .map(|c| {
                    let mut review = json!({"tool_call_id": c.id, "tool_name": c.name,
                                            "arguments": c.arguments});
                    // A call a stopped server cut: approve runs it again, reject skips it, or
                    // a tool result answers it.
                    if data.in_flight.get(&c.id).is_some_and(|a| a.interrupted) {
                        review["outcome"] = json!("unknown");
                    }
                    review
                })
                .collect();
            body.insert("pending_tool_reviews".into(), Value::Array(reviews));
        }
    }
    body.insert(
        "telemetry".into(),
        json!({"trace_id": data.trace_id, "span_id": data.span_id}),
    );
    body.insert(
        "metadata".into(),
        json!({"orq_agent_key": task.agent_key, "agent_version": task.agent_version}),
    );
    if let Some(error) = &data.error {
        body.insert("error".into(), json!(error));
    }
    if let Some(lineage) = &data.lineage {
        body.insert("parent_task_id".into(), json!(lineage.parent_task_id));
    }
    if !data.children.is_empty() {
        body.insert("child_task_ids".into(), json!(data.children));
    }
    if !data.queued.is_empty() {
        // Messages waiting for their turns (`multitask_strategy`), in order.
        let queued: Vec<Value> = data
            .queued
            .iter()
            .map(|q| {
                json!({"message_id": q.message.message_id, "response_id": q.response_id,
                       "interrupts": q.interrupts.is_some()})
            })
            .collect();
        body.insert("queued_messages".into(), Value::Array(queued));
    }
    body
}

pub(super) fn post_json(task: &TaskRecord, data: &TaskData) -> Value {
    let mut body = response_json(task, data);
    body.insert(
        "status".into(),
        json!({"state": task.state, "timestamp": task.updated}),
    );
    Value::Object(body)
}

pub(super) fn poll_status(state: TaskState) -> &'static str {
    match state {
        TaskState::Submitted | TaskState::Working => "in_progress",
        TaskState::Completed | TaskState::InputRequired | TaskState::AuthRequired => "completed",
        TaskState::Failed | TaskState::Canceled | TaskState::Rejected => "failed",
    }
}
