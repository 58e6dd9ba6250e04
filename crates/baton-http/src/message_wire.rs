//! Messages and their parts as the wire shows them (task outputs, thread histories) and takes
//! them (a response's input message).
//!
//! They mirror the engine's types field for field (same names, same tags, same omissions), so
//! the engine keeps no HTTP concerns and the OpenAPI document describes exactly what is sent.

use baton_core::message::{FileContent, Message, Part, Role};
use baton_core::JsonObject;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageRole {
    /// The end user.
    User,
    /// The agent (model).
    Agent,
    /// Tool results.
    Tool,
    /// System instructions.
    System,
}

impl From<Role> for MessageRole {
    fn from(role: Role) -> Self {
        match role {
            Role::User => Self::User,
            Role::Agent => Self::Agent,
            Role::Tool => Self::Tool,
            Role::System => Self::System,
        }
    }
}

impl From<MessageRole> for Role {
    fn from(role: MessageRole) -> Self {
        match role {
            MessageRole::User => Self::User,
            MessageRole::Agent => Self::Agent,
            MessageRole::Tool => Self::Tool,
            MessageRole::System => Self::System,
        }
    }
}

/// A file given inline (base64 `bytes`) or by `uri`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MessageFile {
    /// Base64 content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<String>,
    /// Where the file is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// MIME type.
    #[serde(default, rename = "mimeType", skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// File name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One part of a message, tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MessagePart {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// A file.
    File {
        /// The file.
        #[serde(deserialize_with = "crate::extract::object")]
        file: MessageFile,
        /// Extra data.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(value_type = Option<JsonObject>)]
        metadata: Option<Map<String, Value>>,
    },
    /// Structured data.
    Data {
        /// The data.
        #[schema(value_type = JsonObject)]
        data: Map<String, Value>,
        /// Extra data.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(value_type = Option<JsonObject>)]
        metadata: Option<Map<String, Value>>,
    },
    /// A tool call the model made.
    ToolCall {
        /// Tool name.
        tool_name: String,
        /// Call id.
        tool_call_id: String,
        /// The arguments (an object; the raw text when the model sent invalid JSON).
        arguments: Value,
    },
    /// The result of a tool call.
    ToolResult {
        /// The call answered.
        tool_call_id: String,
        /// The result, any JSON.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result: Option<Value>,
        /// Extra data (the server notes a call's attempts when a stopped server cut one).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(value_type = Option<JsonObject>)]
        metadata: Option<Map<String, Value>>,
    },
    /// An error.
    Error {
        /// Message.
        error: String,
        /// Code.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<i64>,
    },
}

impl From<FileContent> for MessageFile {
    fn from(f: FileContent) -> Self {
        Self {
            bytes: f.bytes,
            uri: f.uri,
            mime_type: f.mime_type,
            name: f.name,
        }
    }
}

impl From<MessageFile> for FileContent {
    fn from(f: MessageFile) -> Self {
        Self {
            bytes: f.bytes,
            uri: f.uri,
            mime_type: f.mime_type,
            name: f.name,
        }
    }
}

impl From<Part> for MessagePart {
    fn from(part: Part) -> Self {
        match part {
            Part::Text { text } => Self::Text { text },
            Part::File { file, metadata } => Self::File {
                file: file.into(),
                metadata,
            },
            Part::Data { data, metadata } => Self::Data { data, metadata },
            Part::ToolCall {
                tool_name,
                tool_call_id,
                arguments,
            } => Self::ToolCall {
                tool_name,
                tool_call_id,
                arguments,
            },
            Part::ToolResult {
                tool_call_id,
                result,
                metadata,
            } => Self::ToolResult {
                tool_call_id,
                result,
                metadata,
            },
            Part::Error { error, code } => Self::Error { error, code },
        }
    }
}

impl From<MessagePart> for Part {
    fn from(part: MessagePart) -> Self {
        match part {
            MessagePart::Text { text } => Self::Text { text },
            MessagePart::File { file, metadata } => Self::File {
                file: file.into(),
                metadata,
            },
            MessagePart::Data { data, metadata } => Self::Data { data, metadata },
            MessagePart::ToolCall {
                tool_name,
                tool_call_id,
                arguments,
            } => Self::ToolCall {
                tool_name,
                tool_call_id,
                arguments,
            },
            MessagePart::ToolResult {
                tool_call_id,
                result,
                metadata,
            } => Self::ToolResult {
                tool_call_id,
                result,
                metadata,
            },
            MessagePart::Error { error, code } => Self::Error { error, code },
        }
    }
}

/// A message of a task: its author and parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaskMessage {
    /// The message's id (a ULID).
    #[serde(rename = "messageId")]
    pub message_id: String,
    /// The content.
    pub parts: Vec<MessagePart>,
    /// The author.
    pub role: MessageRole,
}

impl From<&Message> for TaskMessage {
    fn from(m: &Message) -> Self {
        Self {
            message_id: m.message_id.clone(),
            parts: m.parts.iter().cloned().map(MessagePart::from).collect(),
            role: m.role.into(),
        }
    }
}

/// The messages as the wire shows them.
pub(crate) fn messages(history: &[std::sync::Arc<Message>]) -> Vec<TaskMessage> {
    history.iter().map(|m| TaskMessage::from(&**m)).collect()
}
