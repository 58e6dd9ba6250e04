//! The engine's error type.

use baton_core::store::StoreError;

/// Why the engine refused or failed a request.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Bad input, naming the field.
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: String,
        /// Why.
        message: String,
    },
    /// No such task (in this project, for this agent).
    #[error("task `{0}` not found")]
    TaskNotFound(String),
    /// The agent version the task runs no longer exists.
    #[error("agent version not found: {0}")]
    AgentNotFound(String),
    /// The task is queued or running; it can take no message now (`multitask_strategy`
    /// `reject`).
    #[error(
        "task `{}` is still running ({}); wait until it is inactive, or send multitask_strategy `enqueue` or `interrupt`",
        .0.task_id,
        .0.state.as_str()
    )]
    Busy(Box<BusyTask>),
    /// Another worker took the task over (its lease expired).
    #[error("lease on task `{0}` lost")]
    LeaseLost(String),
    /// This process shuts down before the run ended: another server continues the task.
    #[error(
        "this server is shutting down before the run ended; task `{0}` continues on another \
         server: poll its response or follow its stream"
    )]
    HandedOver(String),
    /// No such collection, entry or other named thing; the message names it.
    #[error("{0}")]
    NotFound(String),
    /// The thing exists already; the message says which.
    #[error("{0}")]
    Conflict(String),
    /// A schedule's type and expression give no valid cadence.
    #[error("{0}")]
    Expression(String),
    /// The schedule is inactive, so it cannot be executed.
    #[error("{0}")]
    Inactive(String),
    /// Persistence failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A model provider (embeddings) failed.
    #[error("{context}: {source}")]
    Upstream {
        /// What the engine was doing.
        context: String,
        /// The provider's error.
        #[source]
        source: baton_core::model::ProviderError,
    },
    /// Something that should not happen.
    #[error("internal: {message}")]
    Internal {
        /// What failed.
        message: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

/// What a busy task is doing, for the client that found it busy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusyTask {
    /// The task.
    pub task_id: String,
    /// `submitted` or `working`.
    pub state: baton_core::task::TaskState,
    /// The response id of the turn it runs.
    pub response_id: String,
    /// Model calls made in that turn so far.
    pub iterations: u32,
    /// Names of the tools running now (empty while the model is called or between steps).
    pub running_tools: Vec<String>,
    /// Messages queued behind the turn.
    pub queued: usize,
    /// When the task was last stored (RFC 3339).
    pub updated: String,
}

impl EngineError {
    /// An internal failure while doing `context`, caused by `source`.
    pub(crate) fn internal(
        context: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Internal {
            message: context.into(),
            source: Some(Box::new(source)),
        }
    }
}

impl From<baton_core::ValidationError> for EngineError {
    fn from(e: baton_core::ValidationError) -> Self {
        Self::Invalid {
            field: e.field,
            message: e.message,
        }
    }
}

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> EngineError {
    EngineError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}
