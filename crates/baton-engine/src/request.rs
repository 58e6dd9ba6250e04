//! What a run is asked to do, and the task it becomes.

use crate::builtins;
use baton_core::agent::{AgentRecord, AgentSpec};
use baton_core::message::{Part, Role};
use baton_core::store::TaskRecord;
use baton_core::ProjectId;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What a message for a task that is still running does (LangGraph's `multitask_strategy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MultitaskStrategy {
    /// Refused: the task is busy ([`crate::EngineError::Busy`], with its running state).
    #[default]
    Reject,
    /// Stored with the task and run as the next turn once the running one ends.
    Enqueue,
    /// The running turn is canceled at its next checkpoint, then the message runs.
    Interrupt,
}

/// The input of a run: a new task, or the next message of an existing one.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// The tenant.
    pub project: ProjectId,
    /// The agent (live record).
    pub agent: AgentRecord,
    /// A pinned version (`key@N`); new tasks only.
    pub version: Option<u32>,
    /// The message: `user` text/file parts, or `tool` results.
    pub role: Role,
    /// Its parts.
    pub parts: Vec<Part>,
    /// Client-given message id.
    pub message_id: Option<String>,
    /// Continue this task.
    pub task_id: Option<String>,
    /// What the message does if the task is still running.
    pub multitask: MultitaskStrategy,
    /// Queue for a worker and answer at once.
    pub background: bool,
    /// Publish text deltas.
    pub stream: bool,
    /// Template variables (request side).
    pub variables: Map<String, Value>,
    /// Who the task acts for.
    pub identity: Option<Value>,
    /// Thread id: tasks of a thread share context.
    pub thread_id: Option<String>,
    /// Memory entity.
    pub memory_entity_id: Option<String>,
    /// Metadata for traces.
    pub metadata: Map<String, Value>,
    /// Decisions on calls waiting for a review (continuations only).
    pub reviews: Vec<ToolReview>,
    /// For a sub-agent's task: its parent and the chain of agents above.
    pub lineage: Option<builtins::Lineage>,
    /// Tools the caller offers for this turn besides the agent's.
    pub turn_tools: crate::state::TurnTools,
}

/// A reviewer's decision on one call the task waits on.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolReview {
    /// The call.
    pub tool_call_id: String,
    /// Whether it may run.
    pub approved: bool,
    /// Why (shown to the model on a rejection).
    pub reason: Option<String>,
}

/// A task ready to run: stored, leased to this process unless it is a background task.
pub struct Prepared {
    /// The stored task.
    pub task: TaskRecord,
    /// The agent configuration it runs.
    pub spec: AgentSpec,
}
