//! The JSON-RPC messages of `POST /mcp`, for the OpenAPI document: the transport reads and
//! writes them with the MCP SDK's own types; these only describe their shape.

use baton_core::JsonObject;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A JSON-RPC request id.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum McpRequestId {
    /// A number.
    Number(i64),
    /// A string.
    Text(String),
}

/// A JSON-RPC request or notification a client posts (`initialize`, `server/discover`,
/// `tools/list`, `tools/call`, `notifications/…`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
    "params": {"name": "support", "arguments": {"message": "Where is my order?"},
               "_meta": {"progressToken": "call-1"}}}))]
pub struct McpJsonRpcRequest {
    /// Always `2.0`.
    pub jsonrpc: String,
    /// The request's id; absent for a notification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<McpRequestId>,
    /// The MCP method.
    pub method: String,
    /// The method's parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<JsonObject>)]
    pub params: Option<Map<String, Value>>,
}

/// A JSON-RPC error.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct McpJsonRpcError {
    /// The JSON-RPC error code (`-32602`: unknown tool or bad parameters).
    pub code: i64,
    /// Why.
    pub message: String,
    /// Details, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<JsonObject>)]
    pub data: Option<Value>,
}

/// A JSON-RPC message the server sends: the answer to the posted request (`result` or
/// `error`), or, on an SSE answer, a `notifications/progress` before it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"jsonrpc": "2.0", "id": 1, "result": {
    "content": [{"type": "text", "text": "It ships tomorrow."}], "isError": false,
    "_meta": {"task_id": "01JQ7ZC3Y2V7A8N5K4M3P2R1S0"}}}))]
pub struct McpJsonRpcMessage {
    /// Always `2.0`.
    pub jsonrpc: String,
    /// The id of the request it answers; absent for a notification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<McpRequestId>,
    /// The result (a `tools/call` result: `content`, `structuredContent`, `isError`, `_meta`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<JsonObject>)]
    pub result: Option<Map<String, Value>>,
    /// The error, when the request failed as a request (not as a run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<McpJsonRpcError>,
    /// A notification's method (`notifications/progress`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// A notification's parameters (`progressToken`, `progress`, `message`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<JsonObject>)]
    pub params: Option<Map<String, Value>>,
}
