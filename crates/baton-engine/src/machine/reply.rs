//! A model's reply folded into the task: usage, the agent message, refused calls and the output
//! schema's retries.

use super::event::RunEvent;
use crate::state::{Finish, TaskData};
use crate::step::ToolKinds;
use baton_core::message::{Message, Part, Role};
use baton_core::model::{FinishReason, ToolCall};
use baton_core::usage::Usage;
use serde_json::{json, Value};
use std::sync::Arc;

/// How many times an answer that fails the output schema is sent back for correction.
pub const SCHEMA_RETRIES: u32 = 2;

/// What a model call answered, as the machine needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// `provider/model` that answered.
    pub model: String,
    /// The answer's text.
    pub content: String,
    /// The tools it asked for.
    pub tool_calls: Vec<ToolCall>,
    /// Why it stopped.
    pub finish_reason: FinishReason,
    /// Tokens and cost of the call.
    pub usage: Usage,
}

/// What folding a reply produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Absorbed {
    /// Events to publish, in order.
    pub events: Vec<RunEvent>,
    /// Set when the task must fail (the answer kept failing the output schema).
    pub failure: Option<String>,
}

/// Folds a model's reply into the task. `part_id` is the id its streamed deltas carried.
pub fn absorb_reply(
    data: &mut TaskData,
    output_schema: Option<&Value>,
    kinds: &dyn ToolKinds,
    reply: Reply,
    part_id: &str,
) -> Absorbed {
    data.usage += reply.usage;
    data.turn_usage += reply.usage;
    data.iterations += 1;
    data.model = reply.model;
    data.finish = match reply.finish_reason {
        FinishReason::Length => Some(Finish::Length),
        FinishReason::ContentFilter => Some(Finish::ContentFilter),
        FinishReason::Stop | FinishReason::ToolCalls => None,
    };
    let mut events = Vec::new();
    if !reply.content.is_empty() {
        events.push(RunEvent::TextDone {
            part_id: part_id.to_owned(),
            text: reply.content.clone(),
        });
    }
    data.history
        .push(Arc::new(agent_message(&reply.content, &reply.tool_calls)));
    refuse_invalid_calls(data, kinds, &reply.tool_calls, &mut events);
    let mut failure = None;
    if reply.tool_calls.is_empty() {
        if let Some(schema) = output_schema {
            failure = retry_schema(data, schema, &reply.content);
        }
    }
    Absorbed { events, failure }
}

/// The agent message of a reply: its text, then its calls (an empty text when it has neither).
fn agent_message(content: &str, calls: &[ToolCall]) -> Message {
    let mut parts = Vec::new();
    if !content.is_empty() {
        parts.push(Part::Text {
            text: content.to_owned(),
        });
    }
    for call in calls {
        parts.push(Part::ToolCall {
            tool_name: call.name.clone(),
            tool_call_id: call.id.clone(),
            arguments: call.arguments.clone(),
        });
    }
    if parts.is_empty() {
        parts.push(Part::Text {
            text: String::new(),
        });
    }
    Message {
        message_id: baton_core::id::new_id(),
        role: Role::Agent,
        parts,
    }
}

/// Calls the engine cannot run as asked are answered at once with an error the model sees.
fn refuse_invalid_calls(
    data: &mut TaskData,
    kinds: &dyn ToolKinds,
    calls: &[ToolCall],
    events: &mut Vec<RunEvent>,
) {
    let mut errors = Vec::new();
    for call in calls {
        if let Err(message) = kinds.check(call) {
            events.push(RunEvent::ToolFailed {
                tool_id: kinds.tool_id(&call.name),
                call_id: call.id.clone(),
                error: message.clone(),
            });
            errors.push(Part::ToolResult {
                tool_call_id: call.id.clone(),
                result: Some(json!({"error": message})),
                metadata: None,
            });
        }
    }
    if !errors.is_empty() {
        data.history.push(Arc::new(Message {
            message_id: baton_core::id::new_id(),
            role: Role::Tool,
            parts: errors,
        }));
    }
}

/// Sends an answer that fails the schema back for correction; the failure once retries ran out.
fn retry_schema(data: &mut TaskData, schema: &Value, content: &str) -> Option<String> {
    let problem = check_output(schema, content).err()?;
    if data.schema_retries >= SCHEMA_RETRIES {
        return Some(format!(
            "the answer does not match the output schema after {SCHEMA_RETRIES} retries: {problem}"
        ));
    }
    data.schema_retries += 1;
    data.history.push(Arc::new(Message {
        message_id: baton_core::id::new_id(),
        role: Role::User,
        parts: vec![Part::Text {
            text: format!(
                "Your answer must be JSON matching the required schema. Problem: {problem}. Answer again with only the JSON."
            ),
        }],
    }));
    None
}

/// Checks a final answer against the output schema; the error says what is wrong.
pub fn check_output(schema: &Value, content: &str) -> Result<(), String> {
    let trimmed = content
        .trim()
        .trim_start_matches("```json")
        .trim_start_matches("```")
        .trim_end_matches("```")
        .trim();
    let value: Value =
        serde_json::from_str(trimmed).map_err(|e| format!("the answer is not JSON ({e})"))?;
    let validator = jsonschema::validator_for(schema)
        .map_err(|e| format!("the output schema is invalid: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .take(5)
        .map(|e| e.to_string())
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

impl Reply {
    /// The reply of the model gateway, with the call's usage priced.
    pub fn from_gateway(reply: baton_core::model::ModelReply) -> Self {
        let usage = &reply.response.usage;
        Self {
            usage: Usage {
                prompt_tokens: usage.prompt_tokens,
                completion_tokens: usage.completion_tokens,
                total_tokens: usage.total(),
                cost: reply.cost,
                ..Default::default()
            },
            model: reply.model,
            content: reply.response.content,
            tool_calls: reply.response.tool_calls,
            finish_reason: reply.response.finish_reason,
        }
    }
}
