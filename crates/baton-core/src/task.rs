//! Tasks: one conversation with an agent, in A2A states.

use crate::message::Message;
use crate::tenant::ProjectId;
use crate::usage::Usage;
use serde::{Deserialize, Serialize};

/// A2A task states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

impl TaskState {
    /// Whether the task can take a new message (not queued or running).
    pub fn is_inactive(self) -> bool {
        !matches!(self, Self::Submitted | Self::Working)
    }

    /// Its wire name (`input-required`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Working => "working",
            Self::InputRequired => "input-required",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
            Self::Rejected => "rejected",
            Self::AuthRequired => "auth-required",
        }
    }
}

/// A task and its history.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// ULID.
    pub id: String,
    /// Owning project.
    pub project_id: ProjectId,
    /// The agent run.
    pub agent_id: String,
    /// The agent version the task started with, kept for its whole life.
    pub agent_version: u32,
    /// State.
    pub state: TaskState,
    /// Thread the task belongs to.
    pub thread_id: Option<String>,
    /// Every message so far.
    pub history: Vec<Message>,
    /// Tokens and cost so far.
    pub usage: Usage,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Last update (RFC 3339).
    pub updated: String,
}

/// A thread: tasks that share `thread.id` share context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thread {
    /// The client-chosen id.
    pub id: String,
    /// Owning project.
    pub project_id: ProjectId,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Ids of its tasks, oldest first.
    #[serde(default)]
    pub task_ids: Vec<String>,
    /// Creation time (RFC 3339).
    pub created: String,
}
