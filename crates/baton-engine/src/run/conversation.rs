//! The task's messages as the model sees them.

use baton_core::message::{Message, Part, Role};
use baton_core::model::{ChatMessage, ToolCall};
use serde_json::Value;
use std::borrow::Cow;

fn text_of(parts: &[Part]) -> Cow<'_, str> {
    // The common message is one text part: borrowed, not copied.
    if let [Part::Text { text }] = parts {
        return Cow::Borrowed(text);
    }
    let mut out = String::new();
    for part in parts {
        let piece = match part {
            Part::Text { text } => text.clone(),
            Part::Data { data, .. } => Value::Object(data.clone()).to_string(),
            Part::File { file, .. } => format!(
                "[file {}{}]",
                file.name.as_deref().unwrap_or("unnamed"),
                file.uri
                    .as_deref()
                    .map(|u| format!(" at {u}"))
                    .unwrap_or_default()
            ),
            Part::Error { error, .. } => format!("[error: {error}]"),
            Part::ToolCall { .. } | Part::ToolResult { .. } => continue,
        };
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&piece);
    }
    Cow::Owned(out)
}

/// The conversation as the model sees it.
pub(super) fn chat_messages<'a>(
    history: impl Iterator<Item = &'a Message>,
) -> Vec<ChatMessage<'a>> {
    let mut out: Vec<ChatMessage<'a>> = Vec::with_capacity(history.size_hint().0);
    let mut names: std::collections::HashMap<String, String> = Default::default();
    for message in history {
        match message.role {
            Role::User | Role::System => out.push(ChatMessage::user(text_of(&message.parts))),
            Role::Agent => {
                let calls: Vec<ToolCall> = message
                    .parts
                    .iter()
                    .filter_map(|p| match p {
                        Part::ToolCall {
                            tool_name,
                            tool_call_id,
                            arguments,
                        } => {
                            names.insert(tool_call_id.clone(), tool_name.clone());
                            Some(ToolCall {
                                id: tool_call_id.clone(),
                                name: tool_name.clone(),
                                arguments: arguments.clone(),
                                signature: None,
                            })
                        }
                        _ => None,
                    })
                    .collect();
                out.push(ChatMessage::assistant(text_of(&message.parts), calls));
            }
            Role::Tool => {
                for part in &message.parts {
                    if let Part::ToolResult {
                        tool_call_id,
                        result,
                        ..
                    } = part
                    {
                        let content: Cow<'a, str> = match result {
                            Some(Value::String(s)) => Cow::Borrowed(s),
                            Some(v) => Cow::Owned(v.to_string()),
                            None => Cow::Borrowed("null"),
                        };
                        let name = names.get(tool_call_id).cloned().unwrap_or_default();
                        out.push(ChatMessage::tool(tool_call_id.clone(), name, content));
                    }
                }
            }
        }
    }
    out
}
