//! The bodies of `/v2/agents/{key}/responses` and `/v2/threads/{id}`: orq's
//! `CreateAgentResponse` / `GetAgentResponse` fields plus the A2A task fields.

use crate::message_wire::{messages, MessagePart, MessageRole, TaskMessage};
use crate::run_wire::{
    CallOutcome, FinishReason, PendingToolCall, PendingToolReview, TaskState, Telemetry, TokenUsage,
};
use baton_core::store::TaskRecord;
use baton_core::task::TaskState as CoreTaskState;
use baton_engine::state::TaskData;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// The body of `POST /v2/agents/{agent_key}/responses`: a message for a new task, or for the
/// task `task_id` names (which must not be running).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"message": {"role": "user", "parts": [{"kind": "text", "text": "Weather in Paris?"}]},
    "variables": {"city": "Paris"}, "identity": {"id": "user-42"}, "thread": {"id": "support-7"},
    "metadata": {"source": "web"}, "background": false, "stream": false}))]
#[non_exhaustive]
pub struct CreateResponseRequest {
    /// The message: `user` text or files, or `tool` results answering `pending_tool_calls`.
    /// Required unless `tool_reviews` answer a task's pending reviews.
    #[serde(default, deserialize_with = "crate::extract::optional_object")]
    pub message: Option<InputMessage>,
    /// Decisions on `pending_tool_reviews`, with `task_id`.
    #[serde(default)]
    pub tool_reviews: Vec<ToolReviewInput>,
    /// Continue this task (it must be inactive: not `submitted` or `working`).
    #[serde(default)]
    pub task_id: Option<String>,
    /// Template variables (`{"secret": true, "value": …}` keeps one out of traces).
    #[serde(default)]
    pub variables: Map<String, Value>,
    /// The end user the task acts for; any extra keys are kept with it.
    #[serde(default)]
    pub identity: Option<IdentityInput>,
    /// Deprecated alias of `identity`.
    #[serde(default)]
    #[schema(deprecated)]
    pub contact: Option<IdentityInput>,
    /// A thread: its earlier tasks' messages are the new task's context.
    #[serde(default, deserialize_with = "crate::extract::optional_object")]
    pub thread: Option<ThreadInput>,
    /// The entity the agent's memory stores bind to.
    #[serde(default, deserialize_with = "crate::extract::optional_object")]
    pub memory: Option<MemoryInput>,
    /// Free-form metadata, kept with the task and its traces.
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// Answer at once with the queued task; a worker runs it (poll with GET).
    #[serde(default)]
    pub background: bool,
    /// Answer with the run's events as a `text/event-stream`.
    #[serde(default)]
    pub stream: bool,
    /// What the message does if the task is still running (a Baton extension): `reject`
    /// (409), `enqueue` (runs after the current turn) or `interrupt` (cancels the current turn
    /// at its next checkpoint, then runs).
    #[serde(default)]
    pub multitask_strategy: MultitaskStrategyInput,
}

/// What a message for a running task does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MultitaskStrategyInput {
    /// Refused with 409 `task_busy` and the task's running state.
    #[default]
    Reject,
    /// Stored with the task and run as its next turn once the running one ends.
    Enqueue,
    /// The running turn is canceled at its next checkpoint, then the message runs.
    Interrupt,
}

impl From<MultitaskStrategyInput> for baton_engine::MultitaskStrategy {
    fn from(s: MultitaskStrategyInput) -> Self {
        match s {
            MultitaskStrategyInput::Reject => Self::Reject,
            MultitaskStrategyInput::Enqueue => Self::Enqueue,
            MultitaskStrategyInput::Interrupt => Self::Interrupt,
        }
    }
}

/// Where a message queued on a running task waits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QueuedReceipt {
    /// The queued message's id.
    pub message_id: String,
    /// The id its turn's response will have.
    pub response_id: String,
    /// Its place in the task's queue (1 = next).
    pub position: u64,
    /// Whether it interrupts the running turn.
    pub interrupts: bool,
}

/// A message a client sends.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct InputMessage {
    /// `user`, or `tool` for tool results.
    pub role: MessageRole,
    /// The content; a `tool` message holds only `tool_result` parts.
    pub parts: Vec<MessagePart>,
    /// The message's id (a ULID is made when absent).
    #[serde(default, rename = "messageId")]
    pub message_id: Option<String>,
}

/// A thread reference.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ThreadInput {
    /// The client-chosen thread id.
    pub id: String,
}

/// A memory binding.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct MemoryInput {
    /// The entity (user, account, …) whose memories the agent reads and writes.
    pub entity_id: String,
}

/// An identity: its `id` and any other keys (`display_name`, `email`, `metadata`, …).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct IdentityInput {
    /// The identity's id.
    pub id: String,
    /// Other keys, kept as sent.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

impl IdentityInput {
    /// The identity as the task stores it: the other keys and `id`.
    pub(crate) fn into_value(self) -> Value {
        let mut map = self.rest;
        map.insert("id".into(), Value::String(self.id));
        Value::Object(map)
    }
}

/// A reviewer's decision on a call waiting for approval.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ToolReviewInput {
    /// The call (`pending_tool_reviews[].tool_call_id`).
    pub tool_call_id: String,
    /// The decision.
    pub review: ReviewDecision,
    /// Why (shown to the model for a rejection).
    #[serde(default)]
    pub reason: Option<String>,
}

/// A review's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    /// The call may run.
    Approved,
    /// The call is skipped; the model sees the refusal.
    Rejected,
}

/// What every response body shows of a task and its latest turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct TaskResponse {
    /// The turn's response id (new on every call).
    #[serde(rename = "_id")]
    pub response_id: String,
    /// Tasks this task started through `call_sub_agent`, in order (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub child_task_ids: Vec<String>,
    /// The A2A context id (shared by a thread's tasks).
    #[serde(rename = "contextId")]
    pub context_id: String,
    /// When the task was created (RFC 3339).
    pub created_at: String,
    /// Why the task failed (absent unless it did).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub error: Option<String>,
    /// How the latest turn ended; null while it runs.
    #[schema(required = true)]
    pub finish_reason: Option<FinishReason>,
    /// The task's id (the same as `task_id`, for A2A clients).
    pub id: String,
    /// Always `task`.
    pub kind: TaskKind,
    /// The agent that runs the task.
    pub metadata: ResponseMetadata,
    /// `provider/model` that answered last.
    pub model: String,
    /// The messages of the latest turn after its input.
    pub output: Vec<TaskMessage>,
    /// The task that started this one through `call_sub_agent` (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub parent_task_id: Option<String>,
    /// Client-side calls to answer with `tool_result` parts (only when `input-required`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub pending_tool_calls: Option<Vec<PendingToolCall>>,
    /// Server-side calls waiting for `tool_reviews` (only when some wait).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub pending_tool_reviews: Option<Vec<PendingToolReview>>,
    /// The task's id: send it back as `task_id` to continue the task.
    pub task_id: String,
    /// The turn's trace.
    pub telemetry: Telemetry,
    /// Tokens of the latest turn.
    pub usage: TokenUsage,
}

/// The `kind` of a task body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// An A2A task.
    Task,
}

/// The agent a task runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResponseMetadata {
    /// The agent version the task runs (fixed for its whole life).
    pub agent_version: u32,
    /// The agent's key.
    pub orq_agent_key: String,
}

impl TaskResponse {
    /// The body of `task` after its latest turn.
    pub(crate) fn new(task: &TaskRecord, data: &TaskData) -> Self {
        let waiting = task.state == CoreTaskState::InputRequired;
        Self {
            response_id: data.response_id.clone(),
            child_task_ids: data.children.clone(),
            context_id: data.context_id.clone(),
            created_at: task.created.clone(),
            error: data.error.clone(),
            finish_reason: data.finish.map(FinishReason::from),
            id: task.id.clone(),
            kind: TaskKind::Task,
            metadata: ResponseMetadata {
                agent_version: task.agent_version,
                orq_agent_key: task.agent_key.clone(),
            },
            model: data.model.clone(),
            output: messages(data.turn_output()),
            parent_task_id: data.lineage.as_ref().map(|l| l.parent_task_id.clone()),
            pending_tool_calls: waiting.then(|| {
                let calls = data.client_pending_calls();
                calls.iter().map(PendingToolCall::from).collect()
            }),
            pending_tool_reviews: (waiting && !data.awaiting_review.is_empty())
                .then(|| pending_reviews(data)),
            task_id: task.id.clone(),
            telemetry: Telemetry {
                span_id: data.span_id.clone(),
                trace_id: data.trace_id.clone(),
            },
            usage: TokenUsage::from(&data.turn_usage),
        }
    }
}

/// The calls waiting for a review; one a stopped server cut has an unknown outcome.
fn pending_reviews(data: &TaskData) -> Vec<PendingToolReview> {
    data.awaiting_review
        .iter()
        .map(|c| PendingToolReview {
            outcome: data
                .in_flight
                .get(&c.id)
                .is_some_and(|a| a.interrupted)
                .then_some(CallOutcome::Unknown),
            ..PendingToolReview::from(c)
        })
        .collect()
}

/// A task's response as `POST …/responses` and `…/cancel` answer it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"_id": "01JRESP0000000000000000000", "task_id": "01JTASK0000000000000000000",
    "id": "01JTASK0000000000000000000", "contextId": "01JCTX00000000000000000000", "kind": "task",
    "status": {"state": "completed", "timestamp": "2026-05-01T09:00:02.000Z"},
    "output": [{"messageId": "01JMSG00000000000000000000", "role": "agent",
                "parts": [{"kind": "text", "text": "Sunny, 21 °C."}]}],
    "created_at": "2026-05-01T09:00:00.000Z", "model": "openai/gpt-4o", "finish_reason": "stop",
    "usage": {"prompt_tokens": 120, "completion_tokens": 8, "total_tokens": 128},
    "telemetry": {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7"},
    "metadata": {"orq_agent_key": "weather-agent", "agent_version": 1}}))]
#[non_exhaustive]
pub struct AgentResponse {
    /// The task and its latest turn.
    #[serde(flatten)]
    pub response: TaskResponse,
    /// `true` when a cancel request found the task running (it ends `canceled` at its next
    /// await point); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub cancel_requested: Option<bool>,
    /// The task's A2A status.
    pub status: TaskStatus,
    /// For a message queued on a running task (`multitask_strategy` `enqueue` or
    /// `interrupt`) whose turn has not run yet: where it waits; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub queued: Option<QueuedReceipt>,
}

impl AgentResponse {
    /// The body of `task` after its latest turn.
    pub(crate) fn new(task: &TaskRecord, data: &TaskData) -> Self {
        Self {
            response: TaskResponse::new(task, data),
            cancel_requested: None,
            queued: None,
            status: TaskStatus {
                state: task.state.into(),
                timestamp: task.updated.clone(),
            },
        }
    }
}

/// An A2A task status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TaskStatus {
    /// The state.
    pub state: TaskState,
    /// When the task last changed (RFC 3339).
    pub timestamp: String,
}

/// A task's response as `GET …/responses/{task_id}` answers it: `status` is a word.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"_id": "01JRESP0000000000000000000", "task_id": "01JTASK0000000000000000000",
    "id": "01JTASK0000000000000000000", "contextId": "01JCTX00000000000000000000", "kind": "task",
    "status": "in_progress", "state": "working", "output": [],
    "created_at": "2026-05-01T09:00:00.000Z", "model": "openai/gpt-4o", "finish_reason": null,
    "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    "telemetry": {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7"},
    "metadata": {"orq_agent_key": "weather-agent", "agent_version": 1}}))]
#[non_exhaustive]
pub struct PolledResponse {
    /// The task and its latest turn (`output` is empty while it runs).
    #[serde(flatten)]
    pub response: TaskResponse,
    /// The task's A2A state.
    pub state: TaskState,
    /// Whether the task still runs.
    pub status: PollStatus,
}

impl PolledResponse {
    /// The body of `task` as a poll shows it.
    pub(crate) fn new(task: &TaskRecord, data: &TaskData) -> Self {
        let mut response = TaskResponse::new(task, data);
        let running = !task.state.is_inactive();
        if running {
            response.output.clear();
        }
        let status = match task.state {
            _ if running => PollStatus::InProgress,
            CoreTaskState::Failed | CoreTaskState::Canceled | CoreTaskState::Rejected => {
                PollStatus::Failed
            }
            _ => PollStatus::Completed,
        };
        Self {
            response,
            state: task.state.into(),
            status,
        }
    }
}

/// Whether a polled task still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PollStatus {
    /// `submitted` or `working`.
    InProgress,
    /// Done, or waiting for the client (`input-required`).
    Completed,
    /// `failed`, `canceled` or `rejected`.
    Failed,
}

/// A thread and its tasks, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct ThreadTasks {
    /// The thread's id.
    pub id: String,
    /// Its tasks, oldest first.
    pub tasks: Vec<ThreadTask>,
}

/// A task of a thread with its whole history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct ThreadTask {
    /// The agent's key.
    pub agent_key: String,
    /// When the task was created (RFC 3339).
    pub created_at: String,
    /// Every message of the task.
    pub messages: Vec<TaskMessage>,
    /// Its A2A state.
    pub state: TaskState,
    /// The task's id.
    pub task_id: String,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
    /// Tokens of the whole task.
    pub usage: TokenUsage,
}

impl ThreadTask {
    /// `task` with its history.
    pub(crate) fn new(task: &TaskRecord, data: &TaskData) -> Self {
        Self {
            agent_key: task.agent_key.clone(),
            created_at: task.created.clone(),
            messages: messages(&data.history),
            state: task.state.into(),
            task_id: task.id.clone(),
            updated_at: task.updated.clone(),
            usage: TokenUsage::from(&data.usage),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CreateResponseRequest;
    use crate::schedules::dto::CreateScheduleRequest;
    use serde_json::json;

    /// serde's derive reads a struct from an array of its fields too; the API takes objects.
    #[test]
    fn nested_objects_are_not_read_from_arrays() {
        let cases = [
            (
                json!({"message": {"role": "user", "parts": [{"kind": "file", "file": [null, null]}]}}),
                // Inside a part (tagged by `kind`) serde knows the part, not the field.
                "message.parts[0]",
            ),
            (json!({"message": ["user", []]}), "message"),
            (json!({"thread": ["t1"]}), "thread"),
            (json!({"memory": ["e1"]}), "memory"),
        ];
        for (body, param) in cases {
            let err =
                crate::extract::from_value::<CreateResponseRequest>(body.clone()).unwrap_err();
            assert_eq!(err.param.as_deref(), Some(param), "{body}: {}", err.message);
            assert!(
                err.message.contains("expected an object"),
                "{}",
                err.message
            );
        }
        let ok = json!({"message": {"role": "user", "parts": [{"kind": "file", "file": {"uri": "u"}}]},
            "thread": {"id": "t"}, "memory": null});
        crate::extract::from_value::<CreateResponseRequest>(ok).unwrap();
        let schedule = json!({"type": "cron", "expression": "@daily", "payload": []});
        let err = crate::extract::from_value::<CreateScheduleRequest>(schedule).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("payload"), "{}", err.message);
    }
}
