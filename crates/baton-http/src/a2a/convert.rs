//! Baton tasks, messages and run events as A2A shows them, and A2A messages as Baton runs
//! take them.
//!
//! A task waiting for the client (`input-required`) says what it waits for in its status
//! message, as data parts: `{"toolCall": {"id", "name", "arguments"}}` for a client-side tool
//! to run and `{"toolReview": {"id", "name", "arguments"}}` for a call to approve. The client
//! answers with data parts `{"toolResult": {"toolCallId", "result"}}` and
//! `{"toolReview": {"toolCallId", "approved", "reason"}}` in a message naming the task.

use super::error::A2aError;
use super::types::{
    A2aArtifact, A2aMessage, A2aPart, A2aRole, A2aTask, A2aTaskState, A2aTaskStatus,
};
use crate::message_wire::{MessageFile, MessagePart, MessageRole};
use crate::responses::dto::{InputMessage, ReviewDecision, ToolReviewInput};
use baton_core::message::{Message, Part, Role};
use baton_core::model::ToolCall;
use baton_core::store::TaskRecord;
use baton_core::task::TaskState;
use baton_engine::state::TaskData;
use serde_json::{json, Map, Value};

/// A Baton task state as A2A names it.
pub(crate) fn state(state: TaskState) -> A2aTaskState {
    match state {
        TaskState::Submitted => A2aTaskState::Submitted,
        TaskState::Working => A2aTaskState::Working,
        TaskState::InputRequired => A2aTaskState::InputRequired,
        TaskState::Completed => A2aTaskState::Completed,
        TaskState::Failed => A2aTaskState::Failed,
        TaskState::Canceled => A2aTaskState::Canceled,
        TaskState::Rejected => A2aTaskState::Rejected,
        TaskState::AuthRequired => A2aTaskState::AuthRequired,
    }
}

/// How much of a task to show.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View {
    /// The last this many history messages (all when `None`).
    pub history: Option<u32>,
    /// Whether to show artifacts.
    pub artifacts: bool,
}

impl View {
    /// Everything.
    pub(crate) const FULL: Self = Self {
        history: None,
        artifacts: true,
    };
}

/// A Baton task as an A2A task.
pub(crate) fn task(task: &TaskRecord, data: &TaskData, view: View) -> A2aTask {
    let mut history: Vec<A2aMessage> = data
        .history
        .iter()
        .filter_map(|m| message(m, &data.context_id, &task.id))
        .collect();
    if let Some(n) = view.history {
        let keep = history.len().saturating_sub(n as usize);
        history.drain(..keep);
    }
    let mut metadata = Map::new();
    metadata.insert("agentKey".into(), json!(task.agent_key));
    metadata.insert("agentVersion".into(), json!(task.agent_version));
    // A calling agent (a Baton one reads it) counts the task's usage in its own trace.
    metadata.insert(
        "usage".into(),
        json!({"promptTokens": data.usage.prompt_tokens,
               "completionTokens": data.usage.completion_tokens,
               "totalTokens": data.usage.total_tokens, "cost": data.usage.cost}),
    );
    A2aTask {
        id: task.id.clone(),
        context_id: data.context_id.clone(),
        status: status(task, data),
        artifacts: if view.artifacts {
            artifacts(task, data)
        } else {
            Vec::new()
        },
        history,
        metadata: Some(metadata),
    }
}

/// The task's status, with a message saying what it waits for or why it failed.
pub(crate) fn status(task: &TaskRecord, data: &TaskData) -> A2aTaskStatus {
    let parts = match task.state {
        TaskState::InputRequired => {
            let mut parts: Vec<A2aPart> = data
                .client_pending_calls()
                .iter()
                .map(|c| A2aPart::data(json!({"toolCall": call(c)})))
                .collect();
            parts.extend(
                data.awaiting_review
                    .iter()
                    .map(|c| A2aPart::data(json!({"toolReview": call(c)}))),
            );
            parts
        }
        TaskState::Failed => vec![A2aPart::text(
            data.error
                .clone()
                .unwrap_or_else(|| "the task failed".into()),
        )],
        _ => Vec::new(),
    };
    A2aTaskStatus {
        state: state(task.state),
        message: (!parts.is_empty()).then(|| A2aMessage {
            message_id: format!("{}-status", data.response_id),
            context_id: Some(data.context_id.clone()),
            task_id: Some(task.id.clone()),
            role: A2aRole::Agent,
            parts,
            metadata: None,
            extensions: Vec::new(),
            reference_task_ids: Vec::new(),
        }),
        timestamp: Some(task.updated.clone()),
    }
}

fn call(c: &ToolCall) -> Value {
    json!({"id": c.id, "name": c.name, "arguments": c.arguments})
}

/// The answer of the task's latest turn: the text and data of its last agent message, with a
/// data part holding the text's JSON when the text is a JSON object or array (structured
/// output). None while the task runs or waits.
pub(crate) fn artifacts(task: &TaskRecord, data: &TaskData) -> Vec<A2aArtifact> {
    if task.state != TaskState::Completed {
        return Vec::new();
    }
    let Some(answer) = data
        .turn_output()
        .iter()
        .rev()
        .find(|m| m.role == Role::Agent && m.parts.iter().any(is_answer_part))
    else {
        return Vec::new();
    };
    let mut parts = Vec::new();
    let mut text = String::new();
    for part in &answer.parts {
        match part {
            Part::Text { text: t } => {
                text.push_str(t);
                parts.push(A2aPart::text(t.clone()));
            }
            Part::Data { data, .. } => parts.push(A2aPart::data(Value::Object(data.clone()))),
            _ => {}
        }
    }
    if let Ok(structured @ (Value::Object(_) | Value::Array(_))) =
        serde_json::from_str::<Value>(text.trim())
    {
        parts.push(A2aPart::data(structured));
    }
    vec![A2aArtifact {
        artifact_id: answer_id(&data.response_id),
        name: Some("answer".into()),
        description: None,
        parts,
        metadata: None,
    }]
}

/// The id of a turn's answer artifact (its streamed chunks build the same one).
pub(crate) fn answer_id(response_id: &str) -> String {
    format!("{response_id}-answer")
}

fn is_answer_part(part: &Part) -> bool {
    matches!(part, Part::Text { .. } | Part::Data { .. })
}

/// A Baton message as A2A shows it; system messages are not shown. Tool calls and results
/// become data parts (`toolCall`, `toolResult`); tool results are the client's (`ROLE_USER`).
pub(crate) fn message(m: &Message, context_id: &str, task_id: &str) -> Option<A2aMessage> {
    let role = match m.role {
        Role::User | Role::Tool => A2aRole::User,
        Role::Agent => A2aRole::Agent,
        Role::System => return None,
    };
    let parts: Vec<A2aPart> = m.parts.iter().map(part).collect();
    Some(A2aMessage {
        message_id: m.message_id.clone(),
        context_id: Some(context_id.to_owned()),
        task_id: Some(task_id.to_owned()),
        role,
        parts,
        metadata: None,
        extensions: Vec::new(),
        reference_task_ids: Vec::new(),
    })
}

fn part(p: &Part) -> A2aPart {
    match p {
        Part::Text { text } => A2aPart::text(text.clone()),
        Part::File { file, metadata } => A2aPart {
            raw: file.bytes.clone(),
            url: file.uri.clone(),
            filename: file.name.clone(),
            media_type: file.mime_type.clone(),
            metadata: metadata.clone(),
            ..A2aPart::default()
        },
        Part::Data { data, metadata } => A2aPart {
            data: Some(Value::Object(data.clone())),
            metadata: metadata.clone(),
            ..A2aPart::default()
        },
        Part::ToolCall {
            tool_name,
            tool_call_id,
            arguments,
        } => A2aPart::data(
            json!({"toolCall": {"id": tool_call_id, "name": tool_name, "arguments": arguments}}),
        ),
        Part::ToolResult {
            tool_call_id,
            result,
            ..
        } => A2aPart::data(json!({"toolResult": {"toolCallId": tool_call_id, "result": result}})),
        Part::Error { error, .. } => A2aPart {
            text: Some(error.clone()),
            metadata: Some(Map::from_iter([("error".to_owned(), json!(true))])),
            ..A2aPart::default()
        },
    }
}

/// What a client's A2A message asks of a Baton run.
pub(crate) struct RunInput {
    /// The message to run (none when it only answers reviews).
    pub message: Option<InputMessage>,
    /// Decisions on calls waiting for approval.
    pub reviews: Vec<ToolReviewInput>,
}

/// A client's message as Baton's input: user content, or the results and reviews that answer
/// an `input-required` task.
pub(crate) fn run_input(m: A2aMessage) -> Result<RunInput, A2aError> {
    if m.role != A2aRole::User {
        return Err(A2aError::params("message.role must be ROLE_USER"));
    }
    if m.parts.is_empty() {
        return Err(A2aError::params("message.parts must not be empty"));
    }
    let mut content = Vec::new();
    let mut results = Vec::new();
    let mut reviews = Vec::new();
    for (i, p) in m.parts.into_iter().enumerate() {
        let at = format!("message.parts[{i}]");
        if let Some(Value::Object(data)) = &p.data {
            if let Some(result) = data.get("toolResult") {
                results.push(tool_result(result, &at)?);
                continue;
            }
            if let Some(review) = data.get("toolReview") {
                reviews.push(tool_review(review, &at)?);
                continue;
            }
        }
        content.push(input_part(p, &at)?);
    }
    if !results.is_empty() && !content.is_empty() {
        return Err(A2aError::params(
            "message.parts: a message answering tool calls holds only toolResult and toolReview data parts",
        ));
    }
    let message = if !results.is_empty() {
        Some((MessageRole::Tool, results))
    } else if !content.is_empty() {
        Some((MessageRole::User, content))
    } else {
        None
    };
    Ok(RunInput {
        message: message.map(|(role, parts)| InputMessage {
            role,
            parts,
            message_id: Some(m.message_id).filter(|id| !id.is_empty()),
        }),
        reviews,
    })
}

fn input_part(p: A2aPart, at: &str) -> Result<MessagePart, A2aError> {
    let set = [
        p.text.is_some(),
        p.raw.is_some(),
        p.url.is_some(),
        p.data.is_some(),
    ]
    .iter()
    .filter(|s| **s)
    .count();
    if set != 1 {
        return Err(A2aError::params(format!(
            "{at}: exactly one of text, raw, url or data must be set"
        )));
    }
    if let Some(text) = p.text {
        return Ok(MessagePart::Text { text });
    }
    if let Some(data) = p.data {
        let data = match data {
            Value::Object(map) => map,
            // Baton's data parts hold objects: other JSON is kept under `value`.
            other => Map::from_iter([("value".to_owned(), other)]),
        };
        return Ok(MessagePart::Data {
            data,
            metadata: p.metadata,
        });
    }
    Ok(MessagePart::File {
        file: MessageFile {
            bytes: p.raw,
            uri: p.url,
            mime_type: p.media_type,
            name: p.filename,
        },
        metadata: p.metadata,
    })
}

fn tool_result(v: &Value, at: &str) -> Result<MessagePart, A2aError> {
    let id = v
        .get("toolCallId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| A2aError::params(format!("{at}.data.toolResult.toolCallId is required")))?;
    Ok(MessagePart::ToolResult {
        tool_call_id: id.to_owned(),
        result: v.get("result").cloned(),
        metadata: None,
    })
}

fn tool_review(v: &Value, at: &str) -> Result<ToolReviewInput, A2aError> {
    let id = v
        .get("toolCallId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| A2aError::params(format!("{at}.data.toolReview.toolCallId is required")))?;
    let approved = v.get("approved").and_then(Value::as_bool).ok_or_else(|| {
        A2aError::params(format!(
            "{at}.data.toolReview.approved must be true or false"
        ))
    })?;
    Ok(ToolReviewInput {
        tool_call_id: id.to_owned(),
        review: if approved {
            ReviewDecision::Approved
        } else {
            ReviewDecision::Rejected
        },
        reason: v.get("reason").and_then(Value::as_str).map(str::to_owned),
    })
}
