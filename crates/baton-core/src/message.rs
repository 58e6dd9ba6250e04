//! Messages in A2A form: a role and parts.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The end user.
    User,
    /// The agent (model).
    Agent,
    /// A tool result.
    Tool,
    /// System instructions.
    System,
}

/// A file given inline (base64) or by URI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileContent {
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Part {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// A file.
    File {
        /// The file.
        file: FileContent,
        /// Extra data.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        metadata: Option<Map<String, Value>>,
    },
    /// Structured data.
    Data {
        /// The data.
        data: Map<String, Value>,
        /// Extra data.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        metadata: Option<Map<String, Value>>,
    },
    /// A tool call the model made.
    ToolCall {
        /// Tool name.
        tool_name: String,
        /// Call id.
        tool_call_id: String,
        /// Arguments object.
        arguments: Value,
    },
    /// The result of a tool call.
    ToolResult {
        /// Call id answered.
        tool_call_id: String,
        /// The result.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result: Option<Value>,
        /// Extra data (the server notes a call's attempts when a stopped server cut one).
        #[serde(default, skip_serializing_if = "Option::is_none")]
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

/// A message of a task's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// ULID.
    #[serde(rename = "messageId")]
    pub message_id: String,
    /// Author.
    pub role: Role,
    /// Content.
    pub parts: Vec<Part>,
}
