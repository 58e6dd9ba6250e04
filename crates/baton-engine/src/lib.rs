//! The Baton agent engine: runs agents as durable tasks.
//!
//! The loop is a sans-IO state machine ([`step::next_step`]) driven by an async runner that
//! calls the model gateway and tools, and checkpoints the task in the store after every step, so
//! any worker can resume it from its last step. Background tasks go through a worker pool that
//! claims them from the database with leases; a task whose worker died is picked up again when
//! its lease expires. Events stream to clients live and are persisted for reconnects.
//!
//! The engine receives the store, the model gateway, the secret cipher, the tool backend and an
//! optional span exporter as `baton-core` trait objects and names no concrete implementation.

pub mod builtins;
pub mod collections;
pub mod events;
pub mod knowledge;
pub mod metrics;
pub mod prompt;
mod run;
pub mod scheduler;
pub mod schedules;
pub mod state;
pub mod step;
pub mod toolset;
pub mod traces;
mod worker;

use baton_core::agent::{AgentRecord, AgentSpec};
use baton_core::handler::ToolBackend;
use baton_core::message::{Message, Part, Role};
use baton_core::model::ModelGateway;
use baton_core::store::{SecretCipher, Store, StoreError, TaskEvent, TaskRecord};
use baton_core::task::TaskState;
use baton_core::trace::SpanExporter;
use baton_core::ProjectId;
use events::EventHub;
use serde_json::{Map, Value};
use state::TaskData;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

pub use worker::Workers;

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
    /// The task is queued or running; it can take no message now.
    #[error("task `{0}` is still running; wait until it is inactive")]
    Busy(String),
    /// Another worker took the task over (its lease expired).
    #[error("lease on task `{0}` lost")]
    LeaseLost(String),
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
    #[error("{0}")]
    Upstream(String),
    /// Something that should not happen.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<baton_core::ValidationError> for EngineError {
    fn from(e: baton_core::ValidationError) -> Self {
        Self::Invalid {
            field: e.field,
            message: e.message,
        }
    }
}

fn invalid(field: &str, message: impl Into<String>) -> EngineError {
    EngineError::Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Tuning of the engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Background workers in this process.
    pub workers: usize,
    /// How long a lease lasts without renewal.
    pub lease: Duration,
    /// How often idle workers look for claimable tasks (they are also woken on submit).
    pub poll_interval: Duration,
    /// This process's worker id (unique per process).
    pub worker_id: String,
    /// The scheduler's settings (its minimum interval also checks new schedules).
    pub scheduler: scheduler::SchedulerConfig,
    /// Where finished spans go besides the trace store (e.g. an OTLP collector), if anywhere.
    pub span_exporter: Option<Arc<dyn SpanExporter>>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            workers: 8,
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_secs(1),
            worker_id: format!("worker-{}", baton_core::id::new_id()),
            scheduler: scheduler::SchedulerConfig::default(),
            span_exporter: None,
        }
    }
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

pub(crate) struct Inner {
    pub store: Arc<dyn Store>,
    pub gateway: Arc<dyn ModelGateway>,
    pub cipher: Arc<dyn SecretCipher>,
    pub hub: EventHub,
    pub config: EngineConfig,
    pub wake: Notify,
    pub cancels: Mutex<HashMap<String, Arc<Notify>>>,
    pub tools: Arc<dyn ToolBackend>,
    pub schedules_changed: Notify,
    pub metrics: metrics::Metrics,
}

/// The agent engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub(crate) fn random_hex(bytes: usize) -> String {
    let v: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    hex::encode(v)
}

impl Engine {
    /// An engine over a store, a model gateway, a cipher for secrets and a tool backend.
    pub fn new(
        store: Arc<dyn Store>,
        gateway: Arc<dyn ModelGateway>,
        cipher: Arc<dyn SecretCipher>,
        tools: Arc<dyn ToolBackend>,
        config: EngineConfig,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                gateway,
                cipher,
                hub: EventHub::default(),
                config,
                wake: Notify::new(),
                cancels: Mutex::new(HashMap::new()),
                tools,
                schedules_changed: Notify::new(),
                metrics: metrics::Metrics::default(),
            }),
        }
    }

    /// Decodes a task's checkpoint.
    pub fn data(task: &TaskRecord) -> Result<TaskData, EngineError> {
        serde_json::from_value(task.data.clone())
            .map_err(|e| EngineError::Internal(format!("task checkpoint: {e}")))
    }

    /// Loads a task of the project.
    pub async fn task(
        &self,
        project: &ProjectId,
        id: &str,
    ) -> Result<Option<TaskRecord>, EngineError> {
        Ok(self.inner.store.task(project, id).await?)
    }

    /// Tasks of a thread, oldest first.
    pub async fn thread_tasks(
        &self,
        project: &ProjectId,
        thread_id: &str,
    ) -> Result<Vec<TaskRecord>, EngineError> {
        Ok(self.inner.store.thread_tasks(project, thread_id).await?)
    }

    /// Receives a task's live events from now on.
    pub fn subscribe(&self, task_id: &str) -> events::Subscription {
        self.inner.hub.subscribe(task_id)
    }

    /// How many tasks have live listeners in this process right now.
    pub fn live_streams(&self) -> usize {
        self.inner.hub.len()
    }

    /// Persisted events after `seq`.
    pub async fn events_after(
        &self,
        task_id: &str,
        seq: u64,
    ) -> Result<Vec<TaskEvent>, EngineError> {
        Ok(self.inner.store.events_after(task_id, seq).await?)
    }

    /// Asks a task to stop; it ends `canceled` at its next await point.
    pub async fn cancel(&self, project: &ProjectId, id: &str) -> Result<(), EngineError> {
        self.inner.store.request_cancel(project, id).await?;
        let local = self
            .inner
            .cancels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned();
        if let Some(notify) = local {
            notify.notify_one();
        }
        Ok(())
    }

    /// Validates the request and stores the task (new, or continued) ready to run.
    pub async fn prepare(&self, req: RunRequest) -> Result<Prepared, EngineError> {
        let (mut task, spec) = self.assemble(&req).await?;
        let store = &self.inner.store;
        if req.task_id.is_some() {
            let expected = task.revision;
            task.revision += 1;
            store
                .save_task(&task, expected)
                .await
                .map_err(|e| match e {
                    StoreError::Conflict(_) => EngineError::Busy(task.id.clone()),
                    other => other.into(),
                })?;
        } else {
            store.create_task(&task).await?;
        }
        if req.background {
            self.inner.wake.notify_one();
        }
        Ok(Prepared { task, spec })
    }

    /// Builds a new background task for `req` without storing it, for callers that store it
    /// together with something else (a schedule's firing).
    pub async fn build_task(&self, req: &RunRequest) -> Result<TaskRecord, EngineError> {
        if req.task_id.is_some() || !req.background {
            return Err(EngineError::Internal(
                "build_task makes new background tasks only".into(),
            ));
        }
        Ok(self.assemble(req).await?.0)
    }

    /// The engine's counters.
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.inner.metrics
    }

    /// The shortest interval a cron or interval schedule may fire at.
    pub fn schedule_min_interval(&self) -> Duration {
        self.inner.config.scheduler.min_interval
    }

    /// Wakes the background workers (after storing a task they should pick up).
    pub fn wake_workers(&self) {
        self.inner.wake.notify_one();
    }

    /// The task and agent configuration a request makes, not yet stored.
    async fn assemble(&self, req: &RunRequest) -> Result<(TaskRecord, AgentSpec), EngineError> {
        let store = &self.inner.store;
        let message = Message {
            message_id: req
                .message_id
                .clone()
                .unwrap_or_else(baton_core::id::new_id),
            role: req.role,
            parts: req.parts.clone(),
        };
        let review_only = !req.reviews.is_empty() && message.parts.is_empty();
        if !review_only {
            check_message(&message)?;
        }
        if !req.reviews.is_empty() && req.task_id.is_none() {
            return Err(invalid(
                "tool_reviews",
                "reviews continue a paused task: send task_id",
            ));
        }
        let now = now_ms();
        let now_text = baton_core::id::now_rfc3339();
        let (mut task, mut data, spec) = match &req.task_id {
            Some(task_id) => {
                let task = store
                    .task(&req.project, task_id)
                    .await?
                    .filter(|t| t.agent_id == req.agent.id)
                    .ok_or_else(|| EngineError::TaskNotFound(task_id.clone()))?;
                if !task.state.is_inactive() {
                    return Err(EngineError::Busy(task_id.clone()));
                }
                let mut data = Self::data(&task)?;
                if !req.reviews.is_empty() {
                    apply_reviews(&mut data, &req.reviews)?;
                }
                if review_only {
                    // The review is this turn's input; the output starts after what is there.
                    data.turn_start = data.history.len().saturating_sub(1);
                    new_turn(&mut data);
                } else {
                    continue_with(&mut data, &message)?;
                }
                let spec = self
                    .spec_of(&req.project, &task.agent_id, task.agent_version)
                    .await?;
                (task, data, spec)
            }
            None => {
                if message.role != Role::User {
                    return Err(invalid(
                        "message.role",
                        "a new task starts with a `user` message; `tool` messages continue a task (send task_id)",
                    ));
                }
                let version = req.version.unwrap_or(req.agent.version);
                let spec = self.spec_of(&req.project, &req.agent.id, version).await?;
                let mut thread_context = Vec::new();
                if let Some(thread_id) = &req.thread_id {
                    for earlier in store.thread_tasks(&req.project, thread_id).await? {
                        thread_context.extend(Self::data(&earlier)?.history);
                    }
                }
                let data = TaskData {
                    context_id: req.thread_id.clone().unwrap_or_else(baton_core::id::new_id),
                    history: vec![message.clone()],
                    thread_context,
                    turn_start: 0,
                    variables: prompt::merge_variables(
                        &spec.variables,
                        &req.variables,
                        self.inner.cipher.as_ref(),
                    ),
                    metadata: req.metadata.clone(),
                    identity: req.identity.clone(),
                    memory_entity_id: req.memory_entity_id.clone(),
                    lineage: req.lineage.clone(),
                    trace_id: req
                        .lineage
                        .as_ref()
                        .and_then(|l| l.trace.as_ref().map(|t| t.0.clone()))
                        .unwrap_or_else(|| random_hex(16)),
                    span_id: random_hex(8),
                    model: spec.model.id.clone(),
                    ..Default::default()
                };
                let task = TaskRecord {
                    id: baton_core::id::new_id(),
                    project_id: req.project.clone(),
                    agent_id: req.agent.id.clone(),
                    agent_key: req.agent.spec.key.clone(),
                    agent_version: version,
                    state: TaskState::Submitted,
                    thread_id: req.thread_id.clone(),
                    background: true,
                    revision: 0,
                    lease_owner: None,
                    lease_expires_at: None,
                    cancel_requested: false,
                    created: now_text.clone(),
                    updated: now_text.clone(),
                    data: Value::Null,
                };
                (task, data, spec)
            }
        };
        if req.task_id.is_some() && !req.variables.is_empty() {
            let merged = prompt::merge_variables(
                &data.variables,
                &req.variables,
                self.inner.cipher.as_ref(),
            );
            data.variables = merged;
        }
        data.response_id = baton_core::id::new_id();
        // Each turn is a root span of the task's trace (a sub-agent's hangs under its call).
        data.span_id = random_hex(8);
        data.turn_started_ms = now;
        data.streaming = req.stream;
        task.background = true;
        task.updated = now_text;
        if req.background {
            task.state = TaskState::Submitted;
            task.lease_owner = None;
            task.lease_expires_at = None;
        } else {
            // Held by this process; if it dies, the lease expires and a worker resumes the run.
            task.state = TaskState::Working;
            task.lease_owner = Some(self.inner.config.worker_id.clone());
            task.lease_expires_at = Some(now + self.inner.config.lease.as_millis() as i64);
        }
        task.data = serde_json::to_value(&data)
            .map_err(|e| EngineError::Internal(format!("encode checkpoint: {e}")))?;
        Ok((task, spec))
    }

    async fn spec_of(
        &self,
        project: &ProjectId,
        agent_id: &str,
        version: u32,
    ) -> Result<AgentSpec, EngineError> {
        self.inner
            .store
            .agent_version(project, agent_id, version)
            .await?
            .map(|v| v.spec)
            .ok_or_else(|| EngineError::AgentNotFound(format!("{agent_id}@{version}")))
    }

    /// Runs a prepared (leased) task until it pauses or ends, in its own tokio task so a client
    /// that goes away does not cut the run short.
    pub fn spawn(
        &self,
        prepared: Prepared,
    ) -> tokio::task::JoinHandle<Result<TaskRecord, EngineError>> {
        let inner = self.inner.clone();
        tokio::spawn(async move { run::run(inner, prepared.task, prepared.spec).await })
    }

    /// Runs one stored server-side tool directly (to test it before an agent uses it). `name`
    /// picks the tool of an MCP server. The outer error is bad input; the inner one is the
    /// tool's own error, as a model would see it.
    pub async fn invoke_tool(
        &self,
        tool: &baton_core::tool::ToolRecord,
        name: Option<&str>,
        arguments: Value,
        variables: &Map<String, Value>,
    ) -> Result<Result<Value, String>, EngineError> {
        use baton_core::handler::ToolContext;
        use baton_core::tool::ToolKind;
        let variables = prompt::merge_variables(&Map::new(), variables, self.inner.cipher.as_ref());
        let ctx = ToolContext {
            variables: &variables,
            cipher: self.inner.cipher.as_ref(),
            trace: None,
        };
        let runtime = self.inner.tools.as_ref();
        let spec = &tool.spec;
        let runnable = match &spec.kind {
            ToolKind::Function { .. } | ToolKind::JsonSchema { .. } => {
                return Err(invalid(
                    "type",
                    format!(
                    "`{}` tools run on the client; only http, code and mcp tools can be invoked",
                    spec.kind.type_name()
                ),
                ))
            }
            ToolKind::Http { http } => runtime.http(&spec.key, &spec.description, http, None),
            ToolKind::Code { code_tool } => {
                runtime.code(&spec.key, &spec.description, code_tool, None)
            }
            ToolKind::Mcp { mcp } => {
                let Some(name) = name else {
                    return Err(invalid(
                        "tool",
                        "name the MCP server's tool to call (`tool`)",
                    ));
                };
                let key = format!("{}@{}", tool.id, tool.updated);
                match runtime.mcp(&key, mcp, Some(name), None, &ctx).await {
                    Ok(mut found) if !found.is_empty() => found.remove(0),
                    Ok(_) => {
                        return Err(invalid(
                            "tool",
                            format!("the MCP server has no tool `{name}`"),
                        ))
                    }
                    Err(message) => return Ok(Err(message)),
                }
            }
        };
        let mut check = toolset::Toolset::default();
        let tool_name = runnable.definition.name.clone();
        check.add(
            runnable.definition.clone(),
            toolset::Side::Client,
            tool.id.clone(),
            false,
        );
        let call = baton_core::model::ToolCall {
            id: String::new(),
            name: tool_name,
            arguments: arguments.clone(),
            signature: None,
        };
        check
            .check(&call)
            .map_err(|message| invalid("arguments", message))?;
        Ok(runnable.handler.call(arguments, &ctx).await)
    }

    /// Starts this process's background workers.
    pub fn start_workers(&self) -> Workers {
        worker::start(self.inner.clone())
    }
}

/// Checks the shape of an incoming message.
fn check_message(message: &Message) -> Result<(), EngineError> {
    if message.parts.is_empty() {
        return Err(invalid("message.parts", "must contain at least one part"));
    }
    match message.role {
        Role::Tool => {
            for (i, part) in message.parts.iter().enumerate() {
                if !matches!(part, Part::ToolResult { .. }) {
                    return Err(invalid(
                        &format!("message.parts[{i}]"),
                        "tool role messages must only contain tool_result parts",
                    ));
                }
            }
        }
        Role::User => {
            for (i, part) in message.parts.iter().enumerate() {
                if matches!(part, Part::ToolResult { .. } | Part::ToolCall { .. }) {
                    return Err(invalid(
                        &format!("message.parts[{i}]"),
                        "user messages carry text, file or data parts; send tool results with role `tool`",
                    ));
                }
            }
        }
        Role::Agent | Role::System => {
            return Err(invalid("message.role", "must be `user` or `tool`"));
        }
    }
    Ok(())
}

/// Records reviewers' decisions on the calls the task waits on.
fn apply_reviews(data: &mut TaskData, reviews: &[ToolReview]) -> Result<(), EngineError> {
    for (i, review) in reviews.iter().enumerate() {
        let field = format!("tool_reviews[{i}].tool_call_id");
        let Some(pos) = data
            .awaiting_review
            .iter()
            .position(|c| c.id == review.tool_call_id)
        else {
            let waiting: Vec<&str> = data.awaiting_review.iter().map(|c| c.id.as_str()).collect();
            return Err(invalid(
                &field,
                if waiting.is_empty() {
                    format!(
                        "`{}` does not wait for a review: the task has no call waiting for one",
                        review.tool_call_id
                    )
                } else {
                    format!(
                        "`{}` does not wait for a review (waiting: {})",
                        review.tool_call_id,
                        waiting.join(", ")
                    )
                },
            ));
        };
        data.awaiting_review.remove(pos);
        data.reviews.insert(
            review.tool_call_id.clone(),
            state::Review {
                approved: review.approved,
                reason: review.reason.clone(),
            },
        );
    }
    Ok(())
}

/// Resets the per-turn counters.
fn new_turn(data: &mut TaskData) {
    data.iterations = 0;
    data.schema_retries = 0;
    data.finish = None;
    data.error = None;
    data.turn_usage = Default::default();
}

/// Adds the next message to a paused or finished task, starting a new turn.
fn continue_with(data: &mut TaskData, message: &Message) -> Result<(), EngineError> {
    let pending: Vec<_> = data
        .unanswered_calls()
        .into_iter()
        .filter(|c| !data.reviews.contains_key(&c.id))
        .collect();
    let awaiting: Vec<&str> = data.awaiting_review.iter().map(|c| c.id.as_str()).collect();
    match message.role {
        Role::Tool => {
            if pending.is_empty() {
                return Err(invalid(
                    "message",
                    "the task has no pending tool calls; continue it with a `user` message",
                ));
            }
            let mut seen = Vec::new();
            for (i, part) in message.parts.iter().enumerate() {
                if let Part::ToolResult { tool_call_id, .. } = part {
                    if awaiting.contains(&tool_call_id.as_str()) {
                        return Err(invalid(
                            &format!("message.parts[{i}].tool_call_id"),
                            format!(
                                "`{tool_call_id}` runs on the server and waits for a review: approve or reject it with tool_reviews"
                            ),
                        ));
                    }
                    if !pending.iter().any(|c| &c.id == tool_call_id) {
                        return Err(invalid(
                            &format!("message.parts[{i}].tool_call_id"),
                            format!(
                                "`{tool_call_id}` is not a pending tool call (pending: {})",
                                pending
                                    .iter()
                                    .map(|c| c.id.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        ));
                    }
                    if seen.contains(tool_call_id) {
                        return Err(invalid(
                            &format!("message.parts[{i}].tool_call_id"),
                            format!("`{tool_call_id}` is answered twice"),
                        ));
                    }
                    seen.push(tool_call_id.clone());
                }
            }
            data.turn_start = data.history.len();
            data.history.push(message.clone());
        }
        _ => {
            if !pending.is_empty() {
                return Err(invalid(
                    "message.role",
                    format!(
                        "the task waits for tool results or reviews ({}); send them first",
                        pending
                            .iter()
                            .map(|c| c.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            data.turn_start = data.history.len();
            data.history.push(message.clone());
        }
    }
    new_turn(data);
    Ok(())
}
