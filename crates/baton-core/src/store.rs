//! The persistence ports the engine and the HTTP layer use. `baton-store` implements them on
//! SQLite, PostgreSQL and in memory.

use crate::agent::{AgentRecord, AgentVersion};
use crate::tenant::ProjectId;
use crate::tool::ToolRecord;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist (in this project).
    #[error("not found")]
    NotFound,
    /// A uniqueness or concurrency conflict.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A stored row could not be decoded.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database could not be reached or failed.
    #[error("store unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A cursor page request: newest first, `starting_after`/`ending_before` are object ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    /// At most this many items; `None` means all.
    pub limit: Option<u64>,
    /// Items older than this id.
    pub starting_after: Option<String>,
    /// Items newer than this id.
    pub ending_before: Option<String>,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items, newest first.
    pub items: Vec<T>,
    /// Whether more items lie beyond this page in the direction of travel.
    pub has_more: bool,
}

/// What a saved checkpoint found on its task's row, read by the write that saved it: a run
/// learns of a cancel request from another process without reading the row again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Saved {
    /// Whether a client asked to cancel the task's running turn.
    pub cancel_requested: bool,
}

/// Agents and their versions.
#[async_trait]
pub trait AgentStore: Send + Sync {
    /// Stores a new agent and its version 1; `Conflict` if the key is taken in the project.
    async fn create_agent(
        &self,
        agent: &AgentRecord,
        first: &AgentVersion,
    ) -> Result<(), StoreError>;

    /// The agent with this key in the project.
    async fn agent_by_key(
        &self,
        project: &ProjectId,
        key: &str,
    ) -> Result<Option<AgentRecord>, StoreError>;

    /// One version of an agent.
    async fn agent_version(
        &self,
        project: &ProjectId,
        agent_id: &str,
        version: u32,
    ) -> Result<Option<AgentVersion>, StoreError>;

    /// Every version of an agent, newest first.
    async fn agent_versions(
        &self,
        project: &ProjectId,
        agent_id: &str,
    ) -> Result<Vec<AgentVersion>, StoreError>;

    /// A page of the project's agents.
    async fn list_agents(
        &self,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<AgentRecord>, StoreError>;

    /// Replaces the agent row, if its live version is still `expected_version`, and stores
    /// `new_version` with it atomically. `Conflict` on a concurrent update or a taken key.
    async fn update_agent(
        &self,
        agent: &AgentRecord,
        expected_version: u32,
        new_version: Option<&AgentVersion>,
    ) -> Result<(), StoreError>;

    /// Marks one version of an agent as its published one (replacing any earlier mark); leaves
    /// the rest of the agent row alone. `NotFound` if the agent or the version is absent.
    async fn publish_agent_version(
        &self,
        project: &ProjectId,
        agent_id: &str,
        version: u32,
    ) -> Result<(), StoreError>;

    /// Deletes an agent and its versions; `NotFound` if absent.
    async fn delete_agent(&self, project: &ProjectId, agent_id: &str) -> Result<(), StoreError>;
}

/// Tools created under `/v2/tools`.
#[async_trait]
pub trait ToolStore: Send + Sync {
    /// Stores a new tool; `Conflict` if the key is taken in the project.
    async fn create_tool(&self, tool: &ToolRecord) -> Result<(), StoreError>;

    /// The tool with this id or key in the project.
    async fn tool(
        &self,
        project: &ProjectId,
        id_or_key: &str,
    ) -> Result<Option<ToolRecord>, StoreError>;

    /// A page of the project's tools.
    async fn list_tools(
        &self,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<ToolRecord>, StoreError>;

    /// Replaces a tool; `NotFound` if absent, `Conflict` if its new key is taken.
    async fn update_tool(&self, tool: &ToolRecord) -> Result<(), StoreError>;

    /// Deletes a tool; `NotFound` if absent.
    async fn delete_tool(&self, project: &ProjectId, id: &str) -> Result<(), StoreError>;
}

/// An API key as stored: only its hash, never the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// ULID.
    pub id: String,
    /// The project the key acts for.
    pub project_id: ProjectId,
    /// A label.
    pub name: String,
    /// Hex SHA-256 of the key.
    pub hash: String,
    /// The first characters of the key, to recognise it in lists.
    pub prefix: String,
    /// Creation time (RFC 3339).
    pub created: String,
    /// What the key may do.
    pub scope: KeyScope,
}

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyScope {
    /// Administers the server: manages keys and may act in any project (`x-tenant-id`).
    Admin,
    /// Manages and runs everything within its project.
    #[default]
    Project,
    /// Runs agents and reads its project; changes no configuration.
    Run,
}

impl KeyScope {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Project => "project",
            Self::Run => "run",
        }
    }

    /// The scope with this name.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Admin, Self::Project, Self::Run]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// API keys.
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Stores a key record.
    async fn create_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError>;
    /// The key record with this hash.
    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKeyRecord>, StoreError>;
    /// How many keys exist.
    async fn count_api_keys(&self) -> Result<u64, StoreError>;
    /// Keys of a project (all projects when `None`), newest first.
    async fn list_api_keys(
        &self,
        project: Option<&ProjectId>,
    ) -> Result<Vec<ApiKeyRecord>, StoreError>;
    /// Deletes (revokes) a key; `NotFound` if absent.
    async fn delete_api_key(&self, id: &str) -> Result<(), StoreError>;
}

/// A stored task: indexed fields the store queries on, plus the engine's checkpoint document.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRecord {
    /// ULID.
    pub id: String,
    /// Owning project.
    pub project_id: ProjectId,
    /// The agent's id.
    pub agent_id: String,
    /// The agent's key (for display and routing).
    pub agent_key: String,
    /// The agent version the task runs, fixed for its whole life.
    pub agent_version: u32,
    /// A2A state.
    pub state: crate::task::TaskState,
    /// Thread the task belongs to.
    pub thread_id: Option<String>,
    /// Whether a background worker should run it (claimable through leases).
    pub background: bool,
    /// Bumped by every save; saves compare-and-swap on it.
    pub revision: u64,
    /// Worker holding the lease while one runs it; after its lease expired or was released,
    /// the worker that held it last (until another claims the task or its turn ends).
    pub lease_owner: Option<String>,
    /// When the lease ends (Unix milliseconds); `None` when no worker holds one.
    pub lease_expires_at: Option<i64>,
    /// A client asked to cancel; the runner stops at its next await point.
    pub cancel_requested: bool,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Last update (RFC 3339).
    pub updated: String,
    /// The engine's checkpoint: pending calls, usage, … (engine-defined JSON, without the
    /// history).
    pub data: serde_json::Value,
    /// Every message of the task, in order; stored as rows that saves only ever append to.
    /// Shared, so a copy of the history (a store's cache, a run's) copies no text.
    pub history: Vec<std::sync::Arc<crate::message::Message>>,
    /// How many messages of `history` the store holds (as read, or as last saved): a save
    /// appends the rest, and conflicts if the store holds another number.
    pub history_stored: u64,
}

impl TaskRecord {
    /// The messages a save appends: those after the stored ones. `Conflict` if the history is
    /// shorter than what is stored (stored messages are never rewritten).
    pub fn unsaved_history(
        &self,
    ) -> Result<&[std::sync::Arc<crate::message::Message>], StoreError> {
        usize::try_from(self.history_stored)
            .ok()
            .and_then(|stored| self.history.get(stored..))
            .ok_or_else(|| {
                StoreError::Conflict("the history is shorter than the stored one".into())
            })
    }
}

/// An event of a task's stream, as persisted for clients that reconnect.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskEvent {
    /// Position in the task's stream, from 1, dense.
    pub seq: u64,
    /// The event (the SSE payload).
    pub data: serde_json::Value,
}

/// A task a worker claimed, and the worker that held it before.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedTask {
    /// The task, leased to the claiming worker.
    pub task: TaskRecord,
    /// The worker whose lease on the task expired or was released; `None` for a task no
    /// worker ran since it was queued.
    pub previous_owner: Option<String>,
}

/// Which tasks a task list returns; every field set narrows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    /// Only tasks in this state.
    pub state: Option<crate::task::TaskState>,
    /// Only tasks of the agent with this key.
    pub agent_key: Option<String>,
    /// Only tasks of this thread.
    pub thread_id: Option<String>,
}

impl TaskFilter {
    /// Whether `task` passes the filter.
    pub fn matches(&self, task: &TaskRecord) -> bool {
        self.state.is_none_or(|s| s == task.state)
            && self.agent_key.as_ref().is_none_or(|k| *k == task.agent_key)
            && self
                .thread_id
                .as_ref()
                .is_none_or(|t| task.thread_id.as_ref() == Some(t))
    }
}

/// Tasks, their leases and their event streams.
#[async_trait]
pub trait TaskStore: Send + Sync {
    /// Stores a new task with its whole history.
    async fn create_task(&self, task: &TaskRecord) -> Result<(), StoreError>;

    /// The task with this id in the project.
    async fn task(&self, project: &ProjectId, id: &str) -> Result<Option<TaskRecord>, StoreError>;

    /// The states of the tasks with these ids in the project (missing ones are absent).
    async fn task_states(
        &self,
        project: &ProjectId,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, crate::task::TaskState>, StoreError>;

    /// Replaces the task if its stored revision is still `expected_revision` (the caller sets
    /// `task.revision` to the new value) and appends its unsaved history. `Conflict` if another
    /// writer saved first or the store holds another number of messages than
    /// `history_stored`, `NotFound` if it is gone. `cancel_requested` is not written here (see
    /// `request_cancel`).
    async fn save_task(&self, task: &TaskRecord, expected_revision: u64) -> Result<(), StoreError>;

    /// Atomically claims one background task in `submitted` or `working` whose lease is absent
    /// or expired at `now_ms`: sets the lease to `worker` until `now_ms + lease_ms`, bumps the
    /// revision, and returns it with the worker that held it before. Never hands one task to
    /// two workers (PostgreSQL: `FOR UPDATE SKIP LOCKED`).
    async fn claim_task(
        &self,
        worker: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<ClaimedTask>, StoreError>;

    /// Extends `worker`'s lease on a task to `until_ms`; `false` if the worker no longer holds it.
    async fn renew_lease(
        &self,
        task_id: &str,
        worker: &str,
        until_ms: i64,
    ) -> Result<bool, StoreError>;

    /// Ends `worker`'s lease on a task now, so any worker may claim it at once; `worker` stays
    /// recorded as the task's last owner and the revision is bumped (a later checkpoint of the
    /// releasing run conflicts). `false` if the worker does not hold the task.
    async fn release_lease(&self, task_id: &str, worker: &str) -> Result<bool, StoreError>;

    /// Marks a task for cancellation (does not touch its revision); `NotFound` if absent.
    async fn request_cancel(&self, project: &ProjectId, id: &str) -> Result<(), StoreError>;

    /// Whether a client asked to cancel the task.
    async fn cancel_requested(&self, task_id: &str) -> Result<bool, StoreError>;

    /// Forgets a cancel request (a new turn starts; the request was for the one before). Does
    /// not touch the revision; `NotFound` if absent.
    async fn clear_cancel(&self, task_id: &str) -> Result<(), StoreError>;

    /// A page of the project's tasks passing `filter`, newest first.
    async fn list_tasks(
        &self,
        project: &ProjectId,
        filter: &TaskFilter,
        page: &PageRequest,
    ) -> Result<Page<TaskRecord>, StoreError>;

    /// How many of the project's tasks pass `filter`.
    async fn count_tasks(
        &self,
        project: &ProjectId,
        filter: &TaskFilter,
    ) -> Result<u64, StoreError>;

    /// Tasks of a thread, oldest first.
    async fn thread_tasks(
        &self,
        project: &ProjectId,
        thread_id: &str,
    ) -> Result<Vec<TaskRecord>, StoreError>;

    /// Saves a step's checkpoint: the task (compare-and-swap on its revision and appending its
    /// unsaved history, as `save_task`), the events and the spans the step produced, together;
    /// tells what the saved row says of a cancel request (which the checkpoint leaves as it is).
    async fn save_checkpoint(
        &self,
        task: &TaskRecord,
        expected_revision: u64,
        events: &[TaskEvent],
        spans: &[crate::trace::SpanRecord],
    ) -> Result<Saved, StoreError>;

    /// Appends events to a task's stream; `Conflict` if a `seq` is already taken.
    async fn append_events(&self, task_id: &str, events: &[TaskEvent]) -> Result<(), StoreError>;

    /// A task's events with `seq > after`, in order.
    async fn events_after(&self, task_id: &str, after: u64) -> Result<Vec<TaskEvent>, StoreError>;

    /// Watches a task's stream for events stored from now on, by any process on this store.
    fn watch_events(&self, task_id: &str) -> Box<dyn EventWatch>;
}

/// A reader's watch on one task's stream (see [`TaskStore::watch_events`]).
#[async_trait]
pub trait EventWatch: Send + Sync {
    /// Resolves once events may have been stored since the last call: when the store saw them
    /// stored, or after its fallback interval so a missed wake-up only delays. Cancel-safe.
    async fn changed(&mut self);
}

/// Everything a server needs from persistence, as one object.
pub trait Store:
    AgentStore
    + ToolStore
    + ApiKeyStore
    + TaskStore
    + crate::collection::CollectionStore
    + crate::schedule::ScheduleStore
    + crate::trace::TraceStore
    + crate::thread::ThreadStore
    + crate::push::PushConfigStore
{
}

impl<T> Store for T where
    T: AgentStore
        + ToolStore
        + ApiKeyStore
        + TaskStore
        + crate::collection::CollectionStore
        + crate::schedule::ScheduleStore
        + crate::trace::TraceStore
        + crate::thread::ThreadStore
        + crate::push::PushConfigStore
{
}

/// Seals and opens secrets kept at rest (header values, secret variables).
pub trait SecretCipher: Send + Sync {
    /// Encrypts `plain` into a self-describing text (`enc:v1:…`).
    fn seal(&self, plain: &str) -> String;
    /// Decrypts a text made by `seal`.
    fn open(&self, sealed: &str) -> Result<String, SecretError>;
    /// Encrypts `plain` bound to `context` (authenticated, not stored in it): it opens only
    /// with the same context.
    fn seal_bound(&self, plain: &str, context: &str) -> String;
    /// Decrypts a text made by `seal_bound` with the same `context`; a text made by `seal`
    /// (before values were bound) opens whatever the context.
    fn open_bound(&self, sealed: &str, context: &str) -> Result<String, SecretError>;
    /// Whether it keeps secrets at all (an embedded engine's placeholder cipher does not).
    fn keeps_secrets(&self) -> bool {
        true
    }
}

/// A sealed secret could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("secret could not be decrypted: {0}")]
pub struct SecretError(pub String);

/// Whether a text is a sealed secret.
pub fn is_sealed(text: &str) -> bool {
    text.starts_with("enc:v1:")
}
