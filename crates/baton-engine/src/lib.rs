//! The Baton agent engine: runs agents as durable tasks.
//!
//! The loop is a sans-IO state machine ([`machine::transition`]) driven by an async runner that
//! calls the model gateway and tools, and checkpoints the task in the store after every step, so
//! any worker can resume it from its last step. Background tasks go through a worker pool that
//! claims them from the database with leases; a task whose worker died is picked up again when
//! its lease expires. Events stream to clients live and are persisted for reconnects.
//!
//! The engine receives the store, the model gateway, the secret cipher, the tool backend and an
//! optional span exporter as `baton-core` trait objects and names no concrete implementation.
//!
//! Embedding it takes a model provider, a store and an agent; [`Engine::builder`] adds tools, a
//! cipher, a tool backend for HTTP, code and MCP tools, and a SQL store for durable runs:
//!
//! ```
//! use async_trait::async_trait;
//! use baton_core::model::*;
//! use baton_engine::{Agent, Engine};
//!
//! /// A model that always greets.
//! struct Hello;
//!
//! #[async_trait]
//! impl ModelProvider for Hello {
//!     fn name(&self) -> &str {
//!         "hello"
//!     }
//!     async fn complete(&self, _: &ChatRequest) -> Result<ChatResponse, ProviderError> {
//!         let usage = TokenUsage { prompt_tokens: 3, completion_tokens: 2, ..Default::default() };
//!         let (content, finish_reason) = ("Hello!".into(), FinishReason::Stop);
//!         Ok(ChatResponse { content, tool_calls: vec![], finish_reason, usage })
//!     }
//!     async fn stream(&self, r: &ChatRequest, _: DeltaSink<'_>) -> Result<ChatResponse, ProviderError> {
//!         self.complete(r).await
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::builder().provider(Hello).store(baton_store::MemoryStore::new()).build()?;
//! let agent = Agent::new("greeter").model("hello/v1").instructions("Greet briefly.");
//! let run = engine.run(&agent, "Hi!").await?;
//! assert_eq!((run.answer.as_str(), run.usage.total_tokens), ("Hello!", 5));
//! # Ok(())
//! # }
//! ```

pub mod builtins;
pub mod collections;
mod embed;
pub mod events;
pub mod gateway;
pub mod knowledge;
pub mod machine;
pub mod metrics;
pub mod prices;
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
use baton_core::trace::SpanExporter;
use baton_core::ProjectId;
use events::EventHub;
use serde_json::{Map, Value};
use state::TaskData;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

pub use embed::{Agent, EngineBuilder, RunHandle, RunInput, RunOutput};
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
        let message = Message {
            message_id: req
                .message_id
                .clone()
                .unwrap_or_else(baton_core::id::new_id),
            role: req.role,
            parts: req.parts.clone(),
        };
        machine::admit::check_request(&message, &req.reviews, req.task_id.is_some())?;
        let now = now_ms();
        let now_text = baton_core::id::now_rfc3339();
        let (mut task, mut data, spec) = match &req.task_id {
            Some(task_id) => self.continued(req, task_id, &message).await?,
            None => self.started(req, &message, &now_text).await?,
        };
        // Held by this process unless it runs in the background; if the process dies, the
        // lease expires and a worker resumes the run.
        let holder = (!req.background).then(|| {
            (
                self.inner.config.worker_id.clone(),
                now + self.inner.config.lease.as_millis() as i64,
            )
        });
        machine::admit::begin_turn(
            &mut task,
            &mut data,
            machine::admit::TurnStart {
                now_ms: now,
                now_text,
                streaming: req.stream,
                holder,
            },
        );
        task.data = serde_json::to_value(&data)
            .map_err(|e| EngineError::Internal(format!("encode checkpoint: {e}")))?;
        Ok((task, spec))
    }

    /// A stored task continued by a request: its reviews, its message, new variables.
    async fn continued(
        &self,
        req: &RunRequest,
        task_id: &str,
        message: &Message,
    ) -> Result<(TaskRecord, TaskData, AgentSpec), EngineError> {
        let task = self
            .inner
            .store
            .task(&req.project, task_id)
            .await?
            .filter(|t| t.agent_id == req.agent.id)
            .ok_or_else(|| EngineError::TaskNotFound(task_id.to_owned()))?;
        if !task.state.is_inactive() {
            return Err(EngineError::Busy(task_id.to_owned()));
        }
        let mut data = Self::data(&task)?;
        machine::admit::continue_task(&mut data, message, &req.reviews)?;
        let spec = self
            .spec_of(&req.project, &task.agent_id, task.agent_version)
            .await?;
        if !req.variables.is_empty() {
            data.variables = prompt::merge_variables(
                &data.variables,
                &req.variables,
                self.inner.cipher.as_ref(),
            );
        }
        Ok((task, data, spec))
    }

    /// A new task for a request, with the messages of earlier tasks of its thread.
    async fn started(
        &self,
        req: &RunRequest,
        message: &Message,
        now_text: &str,
    ) -> Result<(TaskRecord, TaskData, AgentSpec), EngineError> {
        machine::admit::check_first_message(message)?;
        let version = req.version.unwrap_or(req.agent.version);
        let spec = self.spec_of(&req.project, &req.agent.id, version).await?;
        let mut thread_context = Vec::new();
        if let Some(thread_id) = &req.thread_id {
            for earlier in self
                .inner
                .store
                .thread_tasks(&req.project, thread_id)
                .await?
            {
                thread_context.extend(Self::data(&earlier)?.history);
            }
        }
        let variables =
            prompt::merge_variables(&spec.variables, &req.variables, self.inner.cipher.as_ref());
        let new = machine::admit::NewTask {
            version,
            thread_context,
            variables,
            now_text: now_text.to_owned(),
        };
        let (task, data) = machine::admit::new_task(req, &spec, message, new);
        Ok((task, data, spec))
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
            idempotency_key: None,
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
