//! Messages of runs in Orchestra's form: `human`, `ai` (text and `tool_calls`) and `tool`.

use baton_core::message::{Message, Part, Role};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use utoipa::ToSchema;

/// A tool call the model made.
#[derive(Serialize, ToSchema)]
pub(crate) struct ToolCallOut {
    /// Call id.
    id: String,
    /// Tool name.
    name: String,
    /// Its arguments.
    #[schema(value_type = Object)]
    args: Value,
}

/// A message: `ai` (text and `tool_calls`), `tool` (a result) or `human`.
#[derive(Serialize, ToSchema)]
pub(crate) struct OutMessage {
    /// `ai`, `tool` or `human`.
    #[serde(rename = "type")]
    kind: &'static str,
    /// Message id.
    id: String,
    /// Text, or the tool's result as JSON text.
    content: String,
    /// The calls an `ai` message made.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCallOut>,
    /// The call a `tool` message answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<String>,
    /// The tool a `tool` message is from.
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

/// Messages in Orchestra's form: `ai` messages with their calls, `tool` results, and with
/// `human` the user's messages.
pub(crate) fn out_messages(output: &[std::sync::Arc<Message>], human: bool) -> Vec<OutMessage> {
    let mut names: HashMap<String, String> = HashMap::new();
    let mut out = Vec::new();
    for message in output {
        match message.role {
            Role::Agent => {
                let mut text = String::new();
                let mut calls = Vec::new();
                for part in &message.parts {
                    match part {
                        Part::Text { text: t } => text.push_str(t),
                        Part::ToolCall {
                            tool_name,
                            tool_call_id,
                            arguments,
                        } => {
                            names.insert(tool_call_id.clone(), tool_name.clone());
                            calls.push(ToolCallOut {
                                id: tool_call_id.clone(),
                                name: tool_name.clone(),
                                args: arguments.clone(),
                            });
                        }
                        _ => {}
                    }
                }
                out.push(OutMessage {
                    kind: "ai",
                    id: message.message_id.clone(),
                    content: text,
                    tool_calls: calls,
                    tool_call_id: None,
                    name: None,
                });
            }
            Role::Tool => {
                for part in &message.parts {
                    if let Part::ToolResult {
                        tool_call_id,
                        result,
                        ..
                    } = part
                    {
                        let content = match result {
                            Some(Value::String(s)) => s.clone(),
                            Some(other) => other.to_string(),
                            None => String::new(),
                        };
                        out.push(OutMessage {
                            kind: "tool",
                            id: message.message_id.clone(),
                            content,
                            tool_calls: Vec::new(),
                            tool_call_id: Some(tool_call_id.clone()),
                            name: names.get(tool_call_id).cloned(),
                        });
                    }
                }
            }
            Role::User if human => {
                let text = message.parts.iter().filter_map(|p| match p {
                    Part::Text { text } => Some(text.as_str()),
                    _ => None,
                });
                out.push(OutMessage {
                    kind: "human",
                    id: message.message_id.clone(),
                    content: text.collect::<Vec<_>>().join("\n"),
                    tool_calls: Vec::new(),
                    tool_call_id: None,
                    name: None,
                });
            }
            Role::User | Role::System => {}
        }
    }
    out
}
