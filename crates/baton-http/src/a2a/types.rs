//! A2A v1.0 wire types (the protocol's JSON form: camelCase fields, `TASK_STATE_*` and
//! `ROLE_*` enum names), shared by every binding. They hold no Baton logic, so an A2A client
//! can use them too.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The protocol version these types follow.
pub const PROTOCOL_VERSION: &str = "1.0";
/// `protocolBinding` of the JSON-RPC 2.0 binding.
pub const BINDING_JSONRPC: &str = "JSONRPC";
/// `protocolBinding` of the HTTP+JSON (REST) binding.
pub const BINDING_HTTP_JSON: &str = "HTTP+JSON";

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum A2aRole {
    /// Not set (refused in requests).
    #[serde(rename = "ROLE_UNSPECIFIED")]
    Unspecified,
    /// The client.
    #[serde(rename = "ROLE_USER", alias = "user")]
    User,
    /// The agent.
    #[serde(rename = "ROLE_AGENT", alias = "agent")]
    Agent,
}

/// The state of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum A2aTaskState {
    /// Not set.
    #[serde(rename = "TASK_STATE_UNSPECIFIED")]
    Unspecified,
    /// Accepted, not started.
    #[serde(rename = "TASK_STATE_SUBMITTED", alias = "submitted")]
    Submitted,
    /// Running.
    #[serde(rename = "TASK_STATE_WORKING", alias = "working")]
    Working,
    /// Finished with an answer.
    #[serde(rename = "TASK_STATE_COMPLETED", alias = "completed")]
    Completed,
    /// Ended with an error.
    #[serde(rename = "TASK_STATE_FAILED", alias = "failed")]
    Failed,
    /// Canceled.
    #[serde(rename = "TASK_STATE_CANCELED", alias = "canceled")]
    Canceled,
    /// Waiting for the client: tool results, approvals or more input.
    #[serde(rename = "TASK_STATE_INPUT_REQUIRED", alias = "input-required")]
    InputRequired,
    /// Refused.
    #[serde(rename = "TASK_STATE_REJECTED", alias = "rejected")]
    Rejected,
    /// Waiting for credentials.
    #[serde(rename = "TASK_STATE_AUTH_REQUIRED", alias = "auth-required")]
    AuthRequired,
}

impl A2aTaskState {
    /// Whether the task can change no more.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Failed | Self::Canceled | Self::Rejected
        )
    }
}

/// One piece of content: exactly one of `text`, `raw`, `url` or `data`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aPart {
    /// Text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// File content, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// Where a file is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Structured data (any JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub data: Option<Value>,
    /// Extra data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    /// A file's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// The content's media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}

impl A2aPart {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            ..Self::default()
        }
    }

    /// A data part.
    pub fn data(data: Value) -> Self {
        Self {
            data: Some(data),
            ..Self::default()
        }
    }
}

/// A message between client and agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aMessage {
    /// The message's id, chosen by its author.
    pub message_id: String,
    /// The conversation it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_id: Option<String>,
    /// The task it continues or belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// Who wrote it.
    pub role: A2aRole,
    /// Its content.
    pub parts: Vec<A2aPart>,
    /// Extra data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    /// Extensions it uses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<String>,
    /// Tasks it refers to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_task_ids: Vec<String>,
}

/// A task's status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aTaskStatus {
    /// The state.
    pub state: A2aTaskState,
    /// What the agent says about it (what input it needs, why it failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<A2aMessage>,
    /// When it last changed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

/// An output of a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aArtifact {
    /// Its id, unique within the task.
    pub artifact_id: String,
    /// A readable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its content.
    pub parts: Vec<A2aPart>,
    /// Extra data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

/// A unit of work of an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aTask {
    /// The task's id.
    pub id: String,
    /// The conversation it belongs to.
    pub context_id: String,
    /// Its status.
    pub status: A2aTaskStatus,
    /// Its outputs.
    #[serde(default)]
    pub artifacts: Vec<A2aArtifact>,
    /// Its messages, oldest first.
    #[serde(default)]
    pub history: Vec<A2aMessage>,
    /// Extra data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

/// A task's status changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aTaskStatusUpdateEvent {
    /// The task.
    pub task_id: String,
    /// Its conversation.
    pub context_id: String,
    /// The new status.
    pub status: A2aTaskStatus,
    /// Extra data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

/// An artifact of a task was made or grew.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aTaskArtifactUpdateEvent {
    /// The task.
    pub task_id: String,
    /// Its conversation.
    pub context_id: String,
    /// The artifact, or the piece of it to append.
    pub artifact: A2aArtifact,
    /// Whether `artifact.parts` add to an artifact sent before.
    #[serde(default)]
    pub append: bool,
    /// Whether this is the artifact's last piece.
    #[serde(default)]
    pub last_chunk: bool,
    /// Extra data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

/// How a client authenticates to a push-notification webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aAuthenticationInfo {
    /// The HTTP auth scheme (`Bearer`, …).
    pub scheme: String,
    /// The credentials sent with it; stored sealed, answered as `********` (which, sent back,
    /// keeps the stored ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
}

/// Where a task's updates are pushed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aTaskPushNotificationConfig {
    /// The tenant (unused: the API key names the project).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The config's id (made by the server when absent).
    #[serde(default)]
    pub id: String,
    /// The task.
    #[serde(default)]
    pub task_id: String,
    /// The webhook.
    pub url: String,
    /// A token sent back with every notification (`X-A2A-Notification-Token`); stored sealed,
    /// answered as `********` (which, sent back, keeps the stored one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// How to authenticate to the webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<A2aAuthenticationInfo>,
}

/// How the agent should answer a message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aSendMessageConfiguration {
    /// Media types the client accepts.
    #[serde(default)]
    pub accepted_output_modes: Vec<String>,
    /// Where to push the task's updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_push_notification_config: Option<A2aTaskPushNotificationConfig>,
    /// How many history messages to return (all when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_length: Option<u32>,
    /// Answer at once with the submitted task instead of waiting for it to pause or end.
    #[serde(default)]
    pub return_immediately: bool,
}

/// `SendMessage` / `SendStreamingMessage` parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aSendMessageRequest {
    /// The tenant (unused: the API key names the project).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The message.
    pub message: A2aMessage,
    /// How to answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<A2aSendMessageConfiguration>,
    /// Extra data, kept with the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

/// `SendMessage`'s answer: the task (Baton always answers with one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aSendMessageResponse {
    /// The task the message started or continued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<A2aTask>,
    /// A direct reply without a task (never sent by Baton).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<A2aMessage>,
}

/// One item of a stream: exactly one field is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aStreamResponse {
    /// The task (first item).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<A2aTask>,
    /// A message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<A2aMessage>,
    /// A status change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_update: Option<A2aTaskStatusUpdateEvent>,
    /// An artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_update: Option<A2aTaskArtifactUpdateEvent>,
}

/// `GetTask` parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aGetTaskRequest {
    /// The task's id.
    pub id: String,
    /// How many history messages to return (all when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_length: Option<u32>,
}

/// `CancelTask` and `SubscribeToTask` parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aTaskIdRequest {
    /// The task's id.
    pub id: String,
}

/// `ListTasks` parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aListTasksRequest {
    /// Only this conversation's tasks (all of the agent's when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_id: Option<String>,
    /// Only tasks in this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<A2aTaskState>,
    /// Most tasks per page (1..100, default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    /// The `nextPageToken` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
    /// How many history messages each task shows (none when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_length: Option<u32>,
    /// Whether tasks show their artifacts.
    #[serde(default)]
    pub include_artifacts: bool,
}

/// `ListTasks`' answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aListTasksResponse {
    /// The page's tasks, newest first.
    pub tasks: Vec<A2aTask>,
    /// Send back as `pageToken` for the next page; empty on the last.
    pub next_page_token: String,
    /// The page size used.
    pub page_size: u32,
    /// How many tasks match in all.
    pub total_size: u32,
}

/// `GetTaskPushNotificationConfig` / `DeleteTaskPushNotificationConfig` parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aPushConfigRequest {
    /// The task.
    pub task_id: String,
    /// The config's id.
    pub id: String,
}

/// `ListTaskPushNotificationConfigs` parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aListPushConfigsRequest {
    /// The task.
    pub task_id: String,
}

/// `ListTaskPushNotificationConfigs`' answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aListPushConfigsResponse {
    /// The task's configs.
    pub configs: Vec<A2aTaskPushNotificationConfig>,
    /// Always empty: one page holds them all.
    pub next_page_token: String,
}

/// An empty answer (`google.protobuf.Empty`), e.g. of a deleted push-notification config.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct A2aEmpty {}

/// Where and how an agent is reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aAgentInterface {
    /// The endpoint.
    pub url: String,
    /// `JSONRPC` or `HTTP+JSON`.
    pub protocol_binding: String,
    /// The A2A version it speaks.
    pub protocol_version: String,
}

/// What the agent's server supports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aAgentCapabilities {
    /// `SendStreamingMessage` and `SubscribeToTask`.
    pub streaming: bool,
    /// Push-notification configs.
    pub push_notifications: bool,
    /// Whether an extended card exists.
    pub extended_agent_card: bool,
}

/// Who runs the agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aAgentProvider {
    /// Their site.
    pub url: String,
    /// Their name.
    pub organization: String,
}

/// Something the agent can do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aAgentSkill {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Keywords.
    pub tags: Vec<String>,
}

/// An HTTP `Authorization` scheme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aHttpAuthSecurityScheme {
    /// What to send.
    pub description: String,
    /// The scheme (`Bearer`).
    pub scheme: String,
}

/// An API key in a header, query parameter or cookie.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aApiKeySecurityScheme {
    /// What to send.
    pub description: String,
    /// `header`, `query` or `cookie`.
    pub location: String,
    /// The header's (parameter's, cookie's) name.
    pub name: String,
}

/// One way to authenticate: exactly one field is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aSecurityScheme {
    /// `Authorization: Bearer …`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_auth_security_scheme: Option<A2aHttpAuthSecurityScheme>,
    /// A key in a header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_security_scheme: Option<A2aApiKeySecurityScheme>,
}

/// A list of scopes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct A2aStringList {
    /// The scopes (none for API keys).
    pub list: Vec<String>,
}

/// Schemes that together authenticate a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct A2aSecurityRequirement {
    /// Scheme name → the scopes it needs.
    pub schemes: BTreeMap<String, A2aStringList>,
}

/// An agent's self-description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct A2aAgentCard {
    /// Its name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Its endpoints, preferred first.
    pub supported_interfaces: Vec<A2aAgentInterface>,
    /// Who runs it.
    pub provider: A2aAgentProvider,
    /// The agent's version.
    pub version: String,
    /// What the server supports.
    pub capabilities: A2aAgentCapabilities,
    /// How requests authenticate, by name.
    pub security_schemes: BTreeMap<String, A2aSecurityScheme>,
    /// Any one of these authenticates a request.
    pub security_requirements: Vec<A2aSecurityRequirement>,
    /// Media types it reads.
    pub default_input_modes: Vec<String>,
    /// Media types it writes.
    pub default_output_modes: Vec<String>,
    /// What it can do.
    pub skills: Vec<A2aAgentSkill>,
}

/// A JSON-RPC 2.0 request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct A2aJsonRpcRequest {
    /// Always `2.0`.
    pub jsonrpc: String,
    /// The request's id (a string, a number or null), echoed in the answer.
    #[serde(default)]
    #[schema(value_type = Value)]
    pub id: Value,
    /// The method: `SendMessage`, `SendStreamingMessage`, `GetTask`, `ListTasks`,
    /// `CancelTask`, `SubscribeToTask`, `CreateTaskPushNotificationConfig`,
    /// `GetTaskPushNotificationConfig`, `ListTaskPushNotificationConfigs`,
    /// `DeleteTaskPushNotificationConfig`, or a v0.3 name (`message/send`, …).
    pub method: String,
    /// The method's parameters (the REST binding's request body).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub params: Value,
}

/// A JSON-RPC 2.0 error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct A2aJsonRpcError {
    /// The code: JSON-RPC's (-32700, -32600…-32603) or A2A's (-32001 task not found, …).
    pub code: i64,
    /// What went wrong.
    pub message: String,
    /// Details: a `google.rpc.ErrorInfo` whose `reason` names the A2A error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub data: Option<Value>,
}

/// A JSON-RPC 2.0 answer: `result` or `error`; streamed methods send one per SSE message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct A2aJsonRpcResponse {
    /// Always `2.0`.
    pub jsonrpc: String,
    /// The request's id (null when it could not be read).
    #[schema(value_type = Value)]
    pub id: Value,
    /// The method's result (the REST binding's response body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    /// The error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<A2aJsonRpcError>,
}
