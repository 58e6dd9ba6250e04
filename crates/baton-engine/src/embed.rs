//! The embedding API: an [`EngineBuilder`] from providers, tools and a store; [`Agent`]s built in
//! code or read from orq's agent JSON; and [`Engine::run`], one call from a prompt to an answer.
//!
//! Without a cipher ([`EngineBuilder::cipher`]) the engine keeps no secret: a secret variable is
//! dropped on the way in and a tool or prompt that needs it gets a clear error naming the fix.
//! Without a tool backend ([`EngineBuilder::tool_backend`], e.g. `baton-tools`' runtime) HTTP,
//! code and MCP tools answer the model that they are not available in this engine; tools
//! registered with [`EngineBuilder::tool`] always run.

use crate::gateway::{Gateway, Registry};
use crate::prices::PriceTable;
use crate::state::TaskData;
use crate::{invalid, Engine, EngineConfig, EngineError, RunRequest, ToolReview};
use async_trait::async_trait;
use baton_core::agent::{
    AgentRecord, AgentSpec, AgentStatus, AgentTool, AgentVersion, ModelConfig, ToolApproval,
};
use baton_core::handler::{Runnable, ToolBackend, ToolContext, ToolHandler};
use baton_core::message::{Message, Part, Role};
use baton_core::model::{ModelGateway, ModelProvider, ToolCall, ToolDefinition};
use baton_core::store::{SecretCipher, SecretError, Store, StoreError, TaskRecord};
use baton_core::task::TaskState;
use baton_core::tool::{CodeDef, HttpDef, McpDef};
use baton_core::usage::Usage;
use baton_core::ProjectId;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Builds an [`Engine`]: `Engine::builder().provider(p).tool(def, handler).store(s).build()`.
#[must_use]
pub struct EngineBuilder {
    store: Option<Arc<dyn Store>>,
    registry: Registry,
    prices: PriceTable,
    gateway: Option<Arc<dyn ModelGateway>>,
    cipher: Option<Arc<dyn SecretCipher>>,
    backend: Option<Arc<dyn ToolBackend>>,
    tools: HashMap<String, Runnable>,
    config: EngineConfig,
}

impl Engine {
    /// Starts building an engine (see [`EngineBuilder`]).
    pub fn builder() -> EngineBuilder {
        EngineBuilder {
            store: None,
            registry: Registry::default(),
            prices: PriceTable::default(),
            gateway: None,
            cipher: None,
            backend: None,
            tools: HashMap::new(),
            config: EngineConfig::default(),
        }
    }
}

impl EngineBuilder {
    /// Adds a model provider; agents name its models `{provider.name()}/{model}`.
    pub fn provider(self, provider: impl ModelProvider + 'static) -> Self {
        self.providers([Arc::new(provider) as Arc<dyn ModelProvider>])
    }

    /// Adds shared providers (e.g. `baton_providers::clients(settings, http)`).
    pub fn providers(
        mut self,
        providers: impl IntoIterator<Item = Arc<dyn ModelProvider>>,
    ) -> Self {
        for provider in providers {
            self.registry.insert(provider);
        }
        self
    }

    /// Model prices for usage costs (default: list prices of common models).
    pub fn prices(mut self, prices: PriceTable) -> Self {
        self.prices = prices;
        self
    }

    /// A gateway of one's own instead of the providers' (retries and fallbacks included).
    pub fn gateway(mut self, gateway: Arc<dyn ModelGateway>) -> Self {
        self.gateway = Some(gateway);
        self
    }

    /// Registers an in-process tool; an agent offers it by listing its name (`Agent::tool`).
    pub fn tool(mut self, definition: ToolDefinition, handler: impl ToolHandler + 'static) -> Self {
        let handler: Arc<dyn ToolHandler> = Arc::new(handler);
        self.tools.insert(
            definition.name.clone(),
            Runnable {
                definition,
                handler,
            },
        );
        self
    }

    /// Where agents, tasks and traces live: `MemoryStore`, or a `SqlStore` for durable runs.
    pub fn store(self, store: impl Store + 'static) -> Self {
        self.shared_store(Arc::new(store))
    }

    /// Like [`EngineBuilder::store`], for a store shared with other code.
    pub fn shared_store(mut self, store: Arc<dyn Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Seals secret variables and headers at rest (without one, secrets are refused).
    pub fn cipher(mut self, cipher: impl SecretCipher + 'static) -> Self {
        self.cipher = Some(Arc::new(cipher));
        self
    }

    /// Runs HTTP, code and MCP tools (e.g. `baton-tools`' runtime); registered tools come first.
    pub fn tool_backend(mut self, backend: Arc<dyn ToolBackend>) -> Self {
        self.backend = Some(backend);
        self
    }

    /// Worker, lease and scheduler settings.
    pub fn config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }

    /// The engine; fails only without a store.
    pub fn build(self) -> Result<Engine, EngineError> {
        let store = self.store.ok_or_else(|| {
            invalid(
                "store",
                "give the engine a store: `.store(MemoryStore::new())`, or a `SqlStore` for durable runs",
            )
        })?;
        let gateway = self
            .gateway
            .unwrap_or_else(|| Arc::new(Gateway::new(self.registry, self.prices)));
        let cipher = self.cipher.unwrap_or_else(|| Arc::new(NoCipher));
        let backend = self.backend.unwrap_or_else(|| Arc::new(NoBackend));
        let tools: Arc<dyn ToolBackend> = if self.tools.is_empty() {
            backend
        } else {
            Arc::new(WithTools {
                tools: self.tools,
                backend,
            })
        };
        Ok(Engine::new(store, gateway, cipher, tools, self.config))
    }
}

/// The cipher of an engine given none: it keeps no secret, and says how to get one.
struct NoCipher;

const NO_CIPHER: &str =
    "this engine has no secret cipher; give it one with `Engine::builder().cipher(..)`";

impl SecretCipher for NoCipher {
    fn seal(&self, _plain: &str) -> String {
        // Nothing is kept: a plain secret never reaches the store.
        String::new()
    }
    fn open(&self, _sealed: &str) -> Result<String, SecretError> {
        Err(SecretError(NO_CIPHER.into()))
    }
    fn seal_bound(&self, _plain: &str, _context: &str) -> String {
        String::new()
    }
    fn open_bound(&self, _sealed: &str, _context: &str) -> Result<String, SecretError> {
        Err(SecretError(NO_CIPHER.into()))
    }
}

/// A tool that only answers why it cannot run.
struct NotAvailable(String);

#[async_trait]
impl ToolHandler for NotAvailable {
    async fn call(&self, _arguments: Value, _ctx: &ToolContext<'_>) -> Result<Value, String> {
        Err(self.0.clone())
    }
}

fn not_available(kind: &str, name: &str, description: &str) -> Runnable {
    Runnable {
        definition: ToolDefinition {
            name: name.to_owned(),
            description: description.to_owned(),
            parameters: serde_json::json!({"type": "object", "properties": {}}),
        },
        handler: Arc::new(NotAvailable(format!(
            "{kind} tools are not available in this engine (give it a tool backend, e.g. baton-tools' ToolRuntime)"
        ))),
    }
}

/// The tool backend of an engine given none: no HTTP, code or MCP tools.
struct NoBackend;

#[async_trait]
impl ToolBackend for NoBackend {
    fn custom(&self, _name: &str) -> Option<Runnable> {
        None
    }
    fn http(&self, name: &str, description: &str, _def: &HttpDef, _t: Option<f64>) -> Runnable {
        not_available("HTTP", name, description)
    }
    fn code(&self, name: &str, description: &str, _def: &CodeDef, _t: Option<f64>) -> Runnable {
        not_available("code", name, description)
    }
    async fn mcp(
        &self,
        _key: &str,
        _def: &McpDef,
        _only: Option<&str>,
        _timeout: Option<f64>,
        _ctx: &ToolContext<'_>,
    ) -> Result<Vec<Runnable>, String> {
        Err("MCP tools are not available in this engine (give it a tool backend, e.g. baton-tools' ToolRuntime)".into())
    }
}

/// The builder's registered tools in front of a backend.
struct WithTools {
    tools: HashMap<String, Runnable>,
    backend: Arc<dyn ToolBackend>,
}

#[async_trait]
impl ToolBackend for WithTools {
    fn custom(&self, name: &str) -> Option<Runnable> {
        self.tools
            .get(name)
            .cloned()
            .or_else(|| self.backend.custom(name))
    }
    fn http(&self, name: &str, description: &str, def: &HttpDef, t: Option<f64>) -> Runnable {
        self.backend.http(name, description, def, t)
    }
    fn code(&self, name: &str, description: &str, def: &CodeDef, t: Option<f64>) -> Runnable {
        self.backend.code(name, description, def, t)
    }
    async fn mcp(
        &self,
        key: &str,
        def: &McpDef,
        only: Option<&str>,
        timeout: Option<f64>,
        ctx: &ToolContext<'_>,
    ) -> Result<Vec<Runnable>, String> {
        self.backend.mcp(key, def, only, timeout, ctx).await
    }
}

/// An agent defined in code (`Agent::new("analyst").model("openai/gpt-4o")`) or from orq's
/// agent JSON ([`Agent::from_json`]). [`Engine::run`] stores it on first use and a new version
/// whenever its configuration changes.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Agent {
    spec: AgentSpec,
    project: ProjectId,
}

impl Agent {
    /// An agent with this key (also its role), in the default project; set its model next.
    pub fn new(key: impl Into<String>) -> Self {
        let key = key.into();
        Self::from_spec(AgentSpec {
            role: key.clone(),
            key,
            display_name: None,
            description: String::new(),
            instructions: String::new(),
            system_prompt: None,
            path: "Default".into(),
            model: ModelConfig::named(""),
            fallback_models: Vec::new(),
            settings: Default::default(),
            memory_stores: Vec::new(),
            knowledge_bases: Vec::new(),
            team_of_agents: Vec::new(),
            skills: Vec::new(),
            variables: Map::new(),
            source: None,
            engine: Default::default(),
            output_schema: None,
        })
    }

    /// An agent of a full configuration.
    pub fn from_spec(spec: AgentSpec) -> Self {
        Self {
            spec,
            project: ProjectId::default_project(),
        }
    }

    /// An agent from orq's agent JSON (the body of `POST /v2/agents`), checked.
    pub fn from_json(json: Value) -> Result<Self, EngineError> {
        let spec: AgentSpec =
            serde_json::from_value(json).map_err(|e| invalid("agent", e.to_string()))?;
        spec.validate()
            .map_err(|e| invalid(&e.field, e.message.clone()))?;
        Ok(Self::from_spec(spec))
    }

    /// The model, `provider/model`.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.spec.model = ModelConfig::named(model);
        self
    }

    /// A model tried when the ones before it fail.
    pub fn fallback(mut self, model: impl Into<String>) -> Self {
        self.spec.fallback_models.push(ModelConfig::named(model));
        self
    }

    /// The instructions, templated with `{{variables}}`.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.spec.instructions = instructions.into();
        self
    }

    /// Offers a tool registered with [`EngineBuilder::tool`] (or a stored tool of this key).
    pub fn tool(mut self, name: impl Into<String>) -> Self {
        self.spec.settings.tools.push(AgentTool {
            id: None,
            kind: "function".into(),
            key: Some(name.into()),
            requires_approval: false,
            configuration: None,
            timeout: None,
            tool_id: None,
            display_name: None,
            description: None,
            function: None,
            language: None,
            code: None,
            parameters: None,
        });
        self
    }

    /// Every tool call waits for a review ([`RunInput::approve`] / [`RunInput::reject`]).
    pub fn approve_every_tool_call(mut self) -> Self {
        self.spec.settings.tool_approval_required = ToolApproval::All;
        self
    }

    /// A JSON schema the answer must satisfy.
    pub fn output_schema(mut self, schema: Value) -> Self {
        self.spec.output_schema = Some(schema);
        self
    }

    /// A default template variable.
    pub fn variable(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.spec.variables.insert(name.into(), value.into());
        self
    }

    /// The project the agent and its tasks belong to.
    pub fn project(mut self, project: ProjectId) -> Self {
        self.project = project;
        self
    }

    /// The configuration.
    pub fn spec(&self) -> &AgentSpec {
        &self.spec
    }

    /// Mutable access to the whole configuration, for what the builder methods do not cover.
    pub fn spec_mut(&mut self) -> &mut AgentSpec {
        &mut self.spec
    }
}

/// The input of [`Engine::run`]: a prompt (`"..."` converts), tool results or reviews, for a
/// new task or, with [`RunInput::task`], the next turn of one.
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct RunInput {
    parts: Vec<Part>,
    tool_results: Vec<Part>,
    reviews: Vec<ToolReview>,
    task_id: Option<String>,
    thread_id: Option<String>,
    variables: Map<String, Value>,
}

impl RunInput {
    /// A user message.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            parts: vec![Part::Text { text: text.into() }],
            ..Self::default()
        }
    }

    /// The result of a client-side tool call the task waits on.
    pub fn tool_result(call_id: impl Into<String>, result: Value) -> Self {
        Self::default().and_tool_result(call_id, result)
    }

    /// One more tool result.
    pub fn and_tool_result(mut self, call_id: impl Into<String>, result: Value) -> Self {
        self.tool_results.push(Part::ToolResult {
            tool_call_id: call_id.into(),
            result: Some(result),
        });
        self
    }

    /// Lets a call that waits for a review run.
    pub fn approve(call_id: impl Into<String>) -> Self {
        Self::default().review(call_id, true, None)
    }

    /// Refuses a call that waits for a review; the model is told why.
    pub fn reject(call_id: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::default().review(call_id, false, Some(reason.into()))
    }

    /// One more review.
    pub fn review(
        mut self,
        call_id: impl Into<String>,
        approved: bool,
        reason: Option<String>,
    ) -> Self {
        self.reviews.push(ToolReview {
            tool_call_id: call_id.into(),
            approved,
            reason,
        });
        self
    }

    /// Continues this task (a new turn, or the answer to what it waits on).
    pub fn task(mut self, task_id: impl Into<String>) -> Self {
        self.task_id = Some(task_id.into());
        self
    }

    /// Puts a new task in a thread: tasks of a thread share their history.
    pub fn thread(mut self, thread_id: impl Into<String>) -> Self {
        self.thread_id = Some(thread_id.into());
        self
    }

    /// A template variable for this run; `{"secret": true, "value": …}` is sealed at rest.
    pub fn variable(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.variables.insert(name.into(), value.into());
        self
    }
}

impl From<&str> for RunInput {
    fn from(text: &str) -> Self {
        Self::text(text)
    }
}

impl From<String> for RunInput {
    fn from(text: String) -> Self {
        Self::text(text)
    }
}

/// What a run came to: the answer and everything around it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RunOutput {
    /// The task, to continue it ([`RunInput::task`]) or read it back ([`Engine::output`]).
    pub task_id: String,
    /// `completed`, `input-required` (see `pending`), `failed` (see `error`) or `canceled`.
    pub state: TaskState,
    /// The last text the agent said this turn.
    pub answer: String,
    /// The answer parsed as JSON when the agent has an output schema.
    pub structured: Option<Value>,
    /// Every message of this turn (tool calls and results included), as the wire's `output`.
    pub output: Vec<Message>,
    /// Tokens and cost of this turn.
    pub usage: Usage,
    /// Calls the task waits on: client-side tools to answer, or calls to review.
    pub pending: Vec<ToolCall>,
    /// Why the run failed.
    pub error: Option<String>,
}

impl RunOutput {
    fn of(task: &TaskRecord, structured: bool) -> Result<Self, EngineError> {
        let data: TaskData = Engine::data(task)?;
        let output = data.turn_output().to_vec();
        let answer = output
            .iter()
            .rev()
            .filter(|m| m.role == Role::Agent)
            .flat_map(|m| m.parts.iter().rev())
            .find_map(|p| match p {
                Part::Text { text } if !text.is_empty() => Some(text.clone()),
                _ => None,
            })
            .unwrap_or_default();
        let mut pending = data.client_pending_calls();
        pending.extend(data.awaiting_review.iter().cloned());
        Ok(Self {
            task_id: task.id.clone(),
            state: task.state,
            structured: structured
                .then(|| serde_json::from_str(&answer).ok())
                .flatten(),
            answer,
            output,
            usage: data.turn_usage,
            pending,
            error: data.error,
        })
    }
}

/// A run started with [`Engine::start`]: its live events, then its output.
pub struct RunHandle {
    /// The task.
    pub task_id: String,
    /// The task's live events (`response.started`, `part.delta`, `part.done`, …, then
    /// `response.done` or `response.failed`), as orq's SSE payloads for now.
    pub events: crate::events::Subscription,
    join: tokio::task::JoinHandle<Result<TaskRecord, EngineError>>,
    structured: bool,
}

impl RunHandle {
    /// Waits for the run to pause or end.
    pub async fn finish(self) -> Result<RunOutput, EngineError> {
        let task = self
            .join
            .await
            .map_err(|e| EngineError::Internal(format!("run task: {e}")))??;
        RunOutput::of(&task, self.structured)
    }
}

impl Engine {
    /// Runs `agent` on `input` in this task until it answers, pauses or fails.
    pub async fn run(
        &self,
        agent: &Agent,
        input: impl Into<RunInput>,
    ) -> Result<RunOutput, EngineError> {
        self.start_run(agent, input.into(), false)
            .await?
            .finish()
            .await
    }

    /// Like [`Engine::run`], with the run's live events (text deltas included).
    pub async fn start(
        &self,
        agent: &Agent,
        input: impl Into<RunInput>,
    ) -> Result<RunHandle, EngineError> {
        self.start_run(agent, input.into(), true).await
    }

    /// A task's last turn as [`Engine::run`] returned it, read back from the store (after a
    /// restart too); `None` if the project has no such task.
    pub async fn output(
        &self,
        agent: &Agent,
        task_id: &str,
    ) -> Result<Option<RunOutput>, EngineError> {
        match self.inner.store.task(&agent.project, task_id).await? {
            Some(task) => Ok(Some(RunOutput::of(
                &task,
                agent.spec.output_schema.is_some(),
            )?)),
            None => Ok(None),
        }
    }

    async fn start_run(
        &self,
        agent: &Agent,
        input: RunInput,
        stream: bool,
    ) -> Result<RunHandle, EngineError> {
        let secret = input
            .variables
            .iter()
            .chain(agent.spec.variables.iter())
            .find(|(_, v)| v.get("secret") == Some(&Value::Bool(true)));
        // A cipher that seals to nothing keeps no secret (the builder's default): refuse one
        // now rather than fail the run when it is used.
        if let Some((name, _)) = secret {
            if self.inner.cipher.seal("").is_empty() {
                return Err(invalid(&format!("variables.{name}"), NO_CIPHER));
            }
        }
        let record = self.stored_agent(agent).await?;
        let (role, parts) = if input.tool_results.is_empty() {
            (Role::User, input.parts)
        } else if input.parts.is_empty() {
            (Role::Tool, input.tool_results)
        } else {
            return Err(invalid(
                "input",
                "send tool results and a new message in separate runs",
            ));
        };
        let prepared = self
            .prepare(RunRequest {
                project: agent.project.clone(),
                agent: record,
                version: None,
                role,
                parts,
                message_id: None,
                task_id: input.task_id,
                background: false,
                stream,
                variables: input.variables,
                identity: None,
                thread_id: input.thread_id,
                memory_entity_id: None,
                metadata: Map::new(),
                reviews: input.reviews,
                lineage: None,
            })
            .await?;
        let task_id = prepared.task.id.clone();
        // Subscribed before the run starts, so no event is missed.
        let events = self.subscribe(&task_id);
        Ok(RunHandle {
            task_id,
            events,
            join: self.spawn(prepared),
            structured: agent.spec.output_schema.is_some(),
        })
    }

    /// The stored agent of this configuration: created on first use, a new version when the
    /// configuration changed since.
    async fn stored_agent(&self, agent: &Agent) -> Result<AgentRecord, EngineError> {
        agent
            .spec
            .validate()
            .map_err(|e| invalid(&e.field, e.message.clone()))?;
        let store = &self.inner.store;
        // Another process may store the same agent at the same time: then read theirs.
        for _ in 0..3 {
            let now = baton_core::id::now_rfc3339();
            let Some(mut record) = store.agent_by_key(&agent.project, &agent.spec.key).await?
            else {
                let record = AgentRecord {
                    id: baton_core::id::new_id(),
                    project_id: agent.project.clone(),
                    status: AgentStatus::Live,
                    version: 1,
                    created: now.clone(),
                    updated: now.clone(),
                    spec: agent.spec.clone(),
                };
                let first = AgentVersion {
                    agent_id: record.id.clone(),
                    version: 1,
                    created: now,
                    description: None,
                    spec: agent.spec.clone(),
                };
                match store.create_agent(&record, &first).await {
                    Ok(()) => return Ok(record),
                    Err(StoreError::Conflict(_)) => continue,
                    Err(e) => return Err(e.into()),
                }
            };
            if record.spec == agent.spec {
                return Ok(record);
            }
            let expected = record.version;
            record.version += 1;
            record.updated = now.clone();
            record.spec = agent.spec.clone();
            let version = AgentVersion {
                agent_id: record.id.clone(),
                version: record.version,
                created: now,
                description: None,
                spec: agent.spec.clone(),
            };
            match store.update_agent(&record, expected, Some(&version)).await {
                Ok(()) => return Ok(record),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict(format!(
            "agent `{}` keeps changing under concurrent updates",
            agent.spec.key
        ))
        .into())
    }
}
