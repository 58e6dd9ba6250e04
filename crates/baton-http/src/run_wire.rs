//! Wire types a run's bodies and events share: task states, finish reasons, token usage,
//! telemetry and the calls a paused task waits on (messages are in `message_wire`).
//!
//! They mirror the engine's types field for field (same names, same tags, same omissions), so
//! the engine keeps no HTTP concerns and the OpenAPI document describes exactly what is sent.
//! Fields are declared in the order earlier releases sent them (alphabetical).

use baton_core::model::ToolCall;
use baton_core::task::TaskState as CoreTaskState;
use baton_core::usage::Usage;
use baton_engine::state::Finish;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A task's A2A state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TaskState {
    /// Accepted, not started.
    Submitted,
    /// Running.
    Working,
    /// Waiting for tool results, approvals or the next user turn.
    InputRequired,
    /// Finished with an answer.
    Completed,
    /// Ended with an error.
    Failed,
    /// Canceled by a client.
    Canceled,
    /// Refused.
    Rejected,
    /// Waiting for credentials.
    AuthRequired,
}

impl From<CoreTaskState> for TaskState {
    fn from(state: CoreTaskState) -> Self {
        match state {
            CoreTaskState::Submitted => Self::Submitted,
            CoreTaskState::Working => Self::Working,
            CoreTaskState::InputRequired => Self::InputRequired,
            CoreTaskState::Completed => Self::Completed,
            CoreTaskState::Failed => Self::Failed,
            CoreTaskState::Canceled => Self::Canceled,
            CoreTaskState::Rejected => Self::Rejected,
            CoreTaskState::AuthRequired => Self::AuthRequired,
        }
    }
}

/// Why a turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// A final answer.
    Stop,
    /// The model hit its token limit.
    Length,
    /// Waiting for client-side tool results or reviews.
    ToolCalls,
    /// The provider filtered the content.
    ContentFilter,
    /// `max_iterations` was reached.
    MaxIterations,
    /// `max_execution_time` was reached.
    MaxTime,
}

impl From<Finish> for FinishReason {
    fn from(finish: Finish) -> Self {
        match finish {
            Finish::Stop => Self::Stop,
            Finish::Length => Self::Length,
            Finish::ToolCalls => Self::ToolCalls,
            Finish::ContentFilter => Self::ContentFilter,
            Finish::MaxIterations => Self::MaxIterations,
            Finish::MaxTime => Self::MaxTime,
        }
    }
}

/// Tokens a turn or task used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenUsage {
    /// Output tokens.
    pub completion_tokens: u64,
    /// Model calls a stopped server cut: their tokens are unknown, so they are counted apart
    /// (absent when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub interrupted_model_calls: Option<u32>,
    /// Input tokens.
    pub prompt_tokens: u64,
    /// Both.
    pub total_tokens: u64,
}

impl From<&Usage> for TokenUsage {
    fn from(u: &Usage) -> Self {
        Self {
            completion_tokens: u.completion_tokens,
            interrupted_model_calls: (u.interrupted_model_calls > 0)
                .then_some(u.interrupted_model_calls),
            prompt_tokens: u.prompt_tokens,
            total_tokens: u.total_tokens,
        }
    }
}

/// Where a turn is in the traces (`/v3/traces/{trace_id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Telemetry {
    /// The turn's root span id (16 hex).
    pub span_id: String,
    /// The W3C trace id (32 hex).
    pub trace_id: String,
}

/// A client-side tool call the client must answer with a `tool_result`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PendingToolCall {
    /// The function and its arguments.
    pub function: PendingFunction,
    /// The call's id: answer with `tool_result.tool_call_id` set to it.
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: FunctionKind,
}

/// The function a [`PendingToolCall`] calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PendingFunction {
    /// The arguments, JSON-encoded as a string (as OpenAI sends them).
    pub arguments: String,
    /// The tool's name.
    pub name: String,
}

/// The `type` of a [`PendingToolCall`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FunctionKind {
    /// A function call.
    Function,
}

impl From<&ToolCall> for PendingToolCall {
    fn from(c: &ToolCall) -> Self {
        Self {
            function: PendingFunction {
                arguments: c.arguments.to_string(),
                name: c.name.clone(),
            },
            id: c.id.clone(),
            kind: FunctionKind::Function,
        }
    }
}

/// A server-side tool call waiting for a reviewer: answer with `tool_reviews`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PendingToolReview {
    /// The call's arguments.
    pub arguments: Value,
    /// `unknown` for a call a stopped server cut while it ran: approving runs it again,
    /// rejecting skips it, a tool result answers it. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub outcome: Option<CallOutcome>,
    /// The call's id.
    pub tool_call_id: String,
    /// The tool's name.
    pub tool_name: String,
}

/// What is known of an interrupted call's effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// It may or may not have taken effect.
    Unknown,
}

impl From<&ToolCall> for PendingToolReview {
    fn from(c: &ToolCall) -> Self {
        Self {
            arguments: c.arguments.clone(),
            outcome: None,
            tool_call_id: c.id.clone(),
            tool_name: c.name.clone(),
        }
    }
}
