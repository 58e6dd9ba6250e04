//! The async runner: performs the steps `next_step` decides, checkpointing after each.

use crate::collections::{self, KnowledgeTools, MemoryOp, MemoryTools};
use crate::events::{payload, Event};
use crate::state::{Finish, TaskData};
use crate::step::{next_step, Step};
use crate::toolset::{run_builtin, Side, Toolset};
use crate::{builtins, now_ms, prompt, EngineError, Inner};
use baton_core::agent::AgentSpec;
use baton_core::handler::ToolContext;
use baton_core::message::{Message, Part, Role};
use baton_core::model::{
    ChatMessage, ChatRequest, FinishReason, OutputSchema, StreamDelta, ToolCall,
};
use baton_core::store::{StoreError, TaskEvent, TaskRecord};
use baton_core::task::TaskState;
use baton_core::trace::{SpanKind, SpanRecord};
use baton_core::usage::Usage;
use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

/// How many times an answer that fails the output schema is sent back for correction.
const SCHEMA_RETRIES: u32 = 2;

struct Runner {
    inner: Arc<Inner>,
    task: TaskRecord,
    data: TaskData,
    spec: AgentSpec,
    tools: Toolset,
    pending_events: Vec<TaskEvent>,
    /// The turn's last event, published once the checkpoint that ends the turn is stored: a
    /// client that reads the task on seeing it must find it ended.
    pending_terminal: Option<Arc<Event>>,
    seq: Arc<AtomicU64>,
    cancel: Arc<Notify>,
    lease_lost: Arc<AtomicBool>,
    ledger: builtins::SharedLedger,
    calls_made: Arc<std::sync::Mutex<u32>>,
    spans: Vec<SpanRecord>,
}

/// Adds the built-in tools that need the engine (teams) to a resolved toolset.
fn attach_builtins(
    tools: &mut Toolset,
    inner: &Arc<Inner>,
    task: &TaskRecord,
    data: &TaskData,
    spec: &AgentSpec,
    ledger: &builtins::SharedLedger,
    calls_made: &Arc<std::sync::Mutex<u32>>,
) {
    use baton_core::tool::BuiltinTool;
    let setting = spec.settings.tool_approval_required;
    for entry in &spec.settings.tools {
        let Some(builtin) = entry.builtin() else {
            continue;
        };
        let needs_approval = crate::toolset::approval(setting, entry, None);
        match builtin {
            BuiltinTool::CurrentDate => {}
            BuiltinTool::RetrieveAgents => tools.add(
                builtins::retrieve_agents_definition(),
                Side::Server(Arc::new(builtins::RetrieveAgents {
                    inner: inner.clone(),
                    project: task.project_id.clone(),
                    team: spec.team_of_agents.clone(),
                })),
                builtin.name().into(),
                needs_approval,
            ),
            BuiltinTool::CallSubAgent => {
                if !builtins::has_team(spec) {
                    tracing::warn!(agent = %spec.key, "call_sub_agent without team_of_agents");
                    continue;
                }
                let mut chain = data
                    .lineage
                    .as_ref()
                    .map(|l| l.chain.clone())
                    .unwrap_or_default();
                if chain.last() != Some(&spec.key) {
                    chain.push(spec.key.clone());
                }
                tools.add(
                    builtins::call_sub_agent_definition(&spec.team_of_agents),
                    Side::Server(Arc::new(builtins::CallSubAgent {
                        inner: inner.clone(),
                        project: task.project_id.clone(),
                        team: spec.team_of_agents.clone(),
                        parent_task_id: task.id.clone(),
                        chain,
                        calls_made: calls_made.clone(),
                        ledger: ledger.clone(),
                        variables: data.variables.clone(),
                        memory_entity_id: data.memory_entity_id.clone(),
                    })),
                    builtin.name().into(),
                    needs_approval,
                );
            }
            BuiltinTool::RetrieveMemoryStores
            | BuiltinTool::QueryMemoryStore
            | BuiltinTool::WriteMemoryStore
            | BuiltinTool::DeleteMemoryDocument => {
                let op = match builtin {
                    BuiltinTool::RetrieveMemoryStores => MemoryOp::Retrieve,
                    BuiltinTool::QueryMemoryStore => MemoryOp::Query,
                    BuiltinTool::WriteMemoryStore => MemoryOp::Write,
                    _ => MemoryOp::Delete,
                };
                add_memory_tool(tools, inner, task, data, spec, op, needs_approval);
            }
            BuiltinTool::RetrieveKnowledgeBases | BuiltinTool::QueryKnowledgeBase => {
                let query = builtin == BuiltinTool::QueryKnowledgeBase;
                add_knowledge_tool(tools, inner, task, spec, query, needs_approval);
            }
            other => tracing::debug!(
                tool = other.name(),
                "built-in tool not available in this build"
            ),
        }
    }
    // Agents with memory stores or knowledge bases get their tools even when they list none.
    let listed = |names: &[BuiltinTool]| {
        spec.settings
            .tools
            .iter()
            .any(|e| e.builtin().is_some_and(|b| names.contains(&b)))
    };
    use BuiltinTool as B;
    if !spec.memory_stores.is_empty()
        && !listed(&[
            B::RetrieveMemoryStores,
            B::QueryMemoryStore,
            B::WriteMemoryStore,
            B::DeleteMemoryDocument,
        ])
    {
        for op in [
            MemoryOp::Retrieve,
            MemoryOp::Query,
            MemoryOp::Write,
            MemoryOp::Delete,
        ] {
            add_memory_tool(tools, inner, task, data, spec, op, false);
        }
    }
    if !spec.knowledge_bases.is_empty()
        && !listed(&[B::RetrieveKnowledgeBases, B::QueryKnowledgeBase])
    {
        add_knowledge_tool(tools, inner, task, spec, false, false);
        add_knowledge_tool(tools, inner, task, spec, true, false);
    }
}

fn add_memory_tool(
    tools: &mut Toolset,
    inner: &Arc<Inner>,
    task: &TaskRecord,
    data: &TaskData,
    spec: &AgentSpec,
    op: MemoryOp,
    needs_approval: bool,
) {
    let definition = op.definition();
    let name = definition.name.clone();
    tools.add(
        definition,
        Side::Server(Arc::new(MemoryTools {
            inner: inner.clone(),
            project: task.project_id.clone(),
            stores: spec.memory_stores.clone(),
            entity_id: data.memory_entity_id.clone(),
            op,
        })),
        name,
        needs_approval,
    );
}

fn add_knowledge_tool(
    tools: &mut Toolset,
    inner: &Arc<Inner>,
    task: &TaskRecord,
    spec: &AgentSpec,
    query: bool,
    needs_approval: bool,
) {
    let definition = collections::knowledge_definition(query);
    let name = definition.name.clone();
    tools.add(
        definition,
        Side::Server(Arc::new(KnowledgeTools {
            inner: inner.clone(),
            project: task.project_id.clone(),
            bases: spec
                .knowledge_bases
                .iter()
                .map(|k| k.knowledge_id.clone())
                .collect(),
            query,
        })),
        name,
        needs_approval,
    );
}

/// Runs a leased task until it pauses or ends.
pub(crate) async fn run(
    inner: Arc<Inner>,
    task: TaskRecord,
    spec: AgentSpec,
) -> Result<TaskRecord, EngineError> {
    let data: TaskData = serde_json::from_value(task.data.clone())
        .map_err(|e| EngineError::Internal(format!("task checkpoint: {e}")))?;
    let mut tools = {
        let ctx = ToolContext {
            variables: &data.variables,
            cipher: inner.cipher.as_ref(),
            trace: None,
        };
        Toolset::resolve(
            &spec,
            &task.project_id,
            inner.store.as_ref(),
            inner.tools.as_ref(),
            &ctx,
        )
        .await?
    };
    let ledger = builtins::SharedLedger::default();
    let calls_made = Arc::new(std::sync::Mutex::new(data.sub_agent_calls));
    attach_builtins(
        &mut tools,
        &inner,
        &task,
        &data,
        &spec,
        &ledger,
        &calls_made,
    );
    let cancel = Arc::new(Notify::new());
    inner
        .cancels
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(task.id.clone(), cancel.clone());
    let lease_lost = Arc::new(AtomicBool::new(false));
    let renewer = spawn_renewer(&inner, &task.id, lease_lost.clone());
    let task_id = task.id.clone();
    let mut runner = Runner {
        seq: Arc::new(AtomicU64::new(data.event_seq)),
        inner: inner.clone(),
        task,
        data,
        spec,
        tools,
        pending_events: Vec::new(),
        pending_terminal: None,
        cancel,
        lease_lost,
        ledger,
        calls_made,
        spans: Vec::new(),
    };
    // A bug that panics mid-run must not leave the task `working` (and retried forever by
    // the workers): it fails, with its checkpoint kept.
    let result = match std::panic::AssertUnwindSafe(runner.drive())
        .catch_unwind()
        .await
    {
        Ok(result) => result,
        Err(_) => {
            tracing::error!(task = %task_id, "the run panicked");
            runner
                .fail("internal error: the run crashed; see the server log".into())
                .await
        }
    };
    renewer.abort();
    inner
        .cancels
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&task_id);
    inner.hub.release(&task_id);
    result.map(|()| runner.task)
}

fn spawn_renewer(
    inner: &Arc<Inner>,
    task_id: &str,
    lost: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    let inner = inner.clone();
    let task_id = task_id.to_owned();
    tokio::spawn(async move {
        let lease = inner.config.lease;
        let mut tick = tokio::time::interval(lease / 3);
        tick.tick().await;
        loop {
            tick.tick().await;
            let until = now_ms() + lease.as_millis() as i64;
            match inner
                .store
                .renew_lease(&task_id, &inner.config.worker_id, until)
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    lost.store(true, Ordering::SeqCst);
                    return;
                }
                Err(e) => tracing::warn!(task = %task_id, error = %e, "lease renewal failed"),
            }
        }
    })
}

fn text_of(parts: &[Part]) -> String {
    let mut out = String::new();
    for part in parts {
        let piece = match part {
            Part::Text { text } => text.clone(),
            Part::Data { data, .. } => Value::Object(data.clone()).to_string(),
            Part::File { file, .. } => format!(
                "[file {}{}]",
                file.name.as_deref().unwrap_or("unnamed"),
                file.uri
                    .as_deref()
                    .map(|u| format!(" at {u}"))
                    .unwrap_or_default()
            ),
            Part::Error { error, .. } => format!("[error: {error}]"),
            Part::ToolCall { .. } | Part::ToolResult { .. } => continue,
        };
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&piece);
    }
    out
}

/// The conversation as the model sees it.
fn chat_messages(history: impl Iterator<Item = Message>) -> Vec<ChatMessage> {
    let mut out: Vec<ChatMessage> = Vec::new();
    let mut names: std::collections::HashMap<String, String> = Default::default();
    for message in history {
        match message.role {
            Role::User | Role::System => out.push(ChatMessage::user(text_of(&message.parts))),
            Role::Agent => {
                let calls: Vec<ToolCall> = message
                    .parts
                    .iter()
                    .filter_map(|p| match p {
                        Part::ToolCall {
                            tool_name,
                            tool_call_id,
                            arguments,
                        } => {
                            names.insert(tool_call_id.clone(), tool_name.clone());
                            Some(ToolCall {
                                id: tool_call_id.clone(),
                                name: tool_name.clone(),
                                arguments: arguments.clone(),
                                signature: None,
                            })
                        }
                        _ => None,
                    })
                    .collect();
                out.push(ChatMessage::assistant(text_of(&message.parts), calls));
            }
            Role::Tool => {
                for part in &message.parts {
                    if let Part::ToolResult {
                        tool_call_id,
                        result,
                    } = part
                    {
                        let content = match result {
                            Some(Value::String(s)) => s.clone(),
                            Some(v) => v.to_string(),
                            None => "null".into(),
                        };
                        let name = names.get(tool_call_id).cloned().unwrap_or_default();
                        out.push(ChatMessage::tool(tool_call_id.clone(), name, content));
                    }
                }
            }
        }
    }
    out
}

fn usage_json(u: &Usage) -> Value {
    json!({"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
           "total_tokens": u.total_tokens})
}

fn pending_json(calls: &[ToolCall]) -> Value {
    Value::Array(
        calls
            .iter()
            .map(|c| {
                json!({"id": c.id, "type": "function",
                       "function": {"name": c.name, "arguments": c.arguments.to_string()}})
            })
            .collect(),
    )
}

/// Calls waiting for a review, as the wire shows them.
pub(crate) fn reviews_json(calls: &[ToolCall]) -> Value {
    Value::Array(
        calls
            .iter()
            .map(|c| json!({"tool_call_id": c.id, "tool_name": c.name, "arguments": c.arguments}))
            .collect(),
    )
}

enum ModelOutcome {
    Answered,
    TimedOut,
    Canceled,
    Failed(String),
}

impl Runner {
    fn emit(&mut self, kind: &str, data: Value) {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        let event = Arc::new(Event {
            seq,
            payload: payload(kind, data),
        });
        if event.is_persisted() {
            self.pending_events.push(TaskEvent {
                seq,
                data: event.payload.clone(),
            });
        }
        if event.is_terminal() {
            self.pending_terminal = Some(event);
        } else {
            self.inner.hub.publish(&self.task.id, event);
        }
    }

    /// Writes the checkpoint (compare-and-swap on the revision) and the step's events.
    async fn checkpoint(&mut self) -> Result<(), EngineError> {
        if self.lease_lost.load(Ordering::SeqCst) {
            return Err(EngineError::LeaseLost(self.task.id.clone()));
        }
        self.data.event_seq = self.seq.load(Ordering::SeqCst);
        self.task.data = serde_json::to_value(&self.data)
            .map_err(|e| EngineError::Internal(format!("encode checkpoint: {e}")))?;
        self.task.updated = baton_core::id::now_rfc3339();
        if self.task.state.is_inactive() {
            self.task.lease_owner = None;
            self.task.lease_expires_at = None;
        } else {
            self.task.lease_owner = Some(self.inner.config.worker_id.clone());
            self.task.lease_expires_at =
                Some(now_ms() + self.inner.config.lease.as_millis() as i64);
        }
        let expected = self.task.revision;
        self.task.revision += 1;
        let events = std::mem::take(&mut self.pending_events);
        let spans = std::mem::take(&mut self.spans);
        match self
            .inner
            .store
            .save_checkpoint(&self.task, expected, &events, &spans)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                return Err(EngineError::LeaseLost(self.task.id.clone()))
            }
            Err(e) => return Err(e.into()),
        }
        if let Some(event) = self.pending_terminal.take() {
            self.inner.hub.publish(&self.task.id, event);
        }
        if !spans.is_empty() {
            if let Some(exporter) = &self.inner.config.span_exporter {
                exporter.export(&spans);
            }
        }
        Ok(())
    }

    /// A span of this turn, under its root span.
    fn span(&self, kind: SpanKind, name: String, started_ms: i64) -> SpanRecord {
        SpanRecord {
            trace_id: self.data.trace_id.clone(),
            span_id: crate::random_hex(8),
            parent_span_id: Some(self.data.span_id.clone()),
            project_id: self.task.project_id.clone(),
            task_id: self.task.id.clone(),
            agent_key: self.task.agent_key.clone(),
            kind,
            name,
            status: "ok".into(),
            started_ms,
            ended_ms: now_ms(),
            prompt_tokens: 0,
            completion_tokens: 0,
            cost: 0.0,
            attributes: Map::new(),
        }
    }

    /// The turn's root span, written when the turn ends (pause, answer, failure or cancel).
    fn root_span(&mut self, status: &str) {
        let mut attributes = Map::new();
        attributes.insert("task_id".into(), json!(self.task.id));
        attributes.insert("agent_version".into(), json!(self.task.agent_version));
        attributes.insert("state".into(), json!(self.task.state));
        attributes.insert("model".into(), json!(self.data.model));
        attributes.insert("finish_reason".into(), json!(self.data.finish));
        attributes.insert("iterations".into(), json!(self.data.iterations));
        if let Some(error) = &self.data.error {
            attributes.insert("error".into(), json!(error));
        }
        if !self.data.metadata.is_empty() {
            attributes.insert("metadata".into(), Value::Object(self.data.metadata.clone()));
            if let Some(schedule) = self.data.metadata.get("schedule_id") {
                attributes.insert("schedule_id".into(), schedule.clone());
            }
        }
        if let Some(identity) = &self.data.identity {
            attributes.insert(
                "identity_id".into(),
                identity.get("id").cloned().unwrap_or(Value::Null),
            );
        }
        if let Some(entity) = &self.data.memory_entity_id {
            attributes.insert("memory_entity_id".into(), json!(entity));
        }
        if let Some(thread) = &self.task.thread_id {
            attributes.insert("thread_id".into(), json!(thread));
        }
        if !self.data.variables.is_empty() {
            attributes.insert(
                "variables".into(),
                Value::Object(prompt::redacted(&self.data.variables)),
            );
        }
        let usage = self.data.turn_usage;
        attributes.insert("total_prompt_tokens".into(), json!(usage.prompt_tokens));
        attributes.insert(
            "total_completion_tokens".into(),
            json!(usage.completion_tokens),
        );
        attributes.insert("total_cost".into(), json!(usage.cost));
        let parent = self
            .data
            .lineage
            .as_ref()
            .and_then(|l| l.trace.as_ref().map(|t| t.1.clone()));
        self.spans.push(SpanRecord {
            trace_id: self.data.trace_id.clone(),
            span_id: self.data.span_id.clone(),
            parent_span_id: parent,
            project_id: self.task.project_id.clone(),
            task_id: self.task.id.clone(),
            agent_key: self.task.agent_key.clone(),
            kind: SpanKind::Agent,
            name: format!("agent {}", self.task.agent_key),
            status: status.into(),
            started_ms: self.data.turn_started_ms,
            ended_ms: now_ms(),
            // Tokens and cost live on the model spans; the root's totals are attributes, so the
            // sums over a trace count each model call once.
            prompt_tokens: 0,
            completion_tokens: 0,
            cost: 0.0,
            attributes,
        });
        let end = match self.task.state {
            TaskState::Completed => crate::metrics::RunEnd::Completed,
            TaskState::InputRequired => crate::metrics::RunEnd::InputRequired,
            TaskState::Canceled => crate::metrics::RunEnd::Canceled,
            _ => crate::metrics::RunEnd::Failed,
        };
        self.inner.metrics.run_ended(end);
    }

    async fn cancel_requested(&self) -> Result<bool, EngineError> {
        Ok(self.inner.store.cancel_requested(&self.task.id).await?)
    }

    async fn drive(&mut self) -> Result<(), EngineError> {
        let telemetry = json!({"trace_id": self.data.trace_id, "span_id": self.data.span_id});
        self.emit(
            "response.started",
            json!({"responseId": self.data.response_id, "taskId": self.task.id,
                   "model": self.data.model, "workflowRunId": self.task.id, "telemetry": telemetry}),
        );
        self.task.state = TaskState::Working;
        self.checkpoint().await?;
        loop {
            if self.cancel_requested().await? {
                return self.end_canceled().await;
            }
            match next_step(&self.data, &self.spec, &self.tools, now_ms()) {
                Step::CallModel => match self.call_model().await? {
                    ModelOutcome::Answered => self.checkpoint().await?,
                    ModelOutcome::TimedOut => return self.end(Finish::MaxTime, Vec::new()).await,
                    ModelOutcome::Canceled => return self.end_canceled().await,
                    ModelOutcome::Failed(message) => return self.fail(message).await,
                },
                Step::CallTools(calls) => {
                    if !self.call_tools(calls).await? {
                        return self.end_canceled().await;
                    }
                }
                Step::Pause { calls, reviews } => return self.pause(calls, reviews).await,
                Step::Done(finish) => return self.end(finish, Vec::new()).await,
                Step::Fail(message) => return self.fail(message).await,
            }
        }
    }

    fn deadline(&self) -> tokio::time::Instant {
        let limit_ms = i64::from(self.spec.settings.max_execution_time) * 1000;
        let left = (self.data.turn_started_ms + limit_ms - now_ms()).max(0) as u64;
        tokio::time::Instant::now() + std::time::Duration::from_millis(left)
    }

    fn request(&self) -> Result<ChatRequest, EngineError> {
        let system =
            prompt::system_prompt(&self.spec, &self.data.variables, self.inner.cipher.as_ref())?;
        let history = self
            .data
            .thread_context
            .iter()
            .chain(self.data.history.iter())
            .cloned();
        Ok(ChatRequest {
            model: String::new(),
            system: (!system.is_empty()).then_some(system),
            messages: chat_messages(history),
            tools: self.tools.definitions.clone(),
            parameters: Default::default(),
            output_schema: self.spec.output_schema.as_ref().map(|schema| OutputSchema {
                name: "output".into(),
                schema: schema.clone(),
                strict: false,
            }),
        })
    }

    async fn call_model(&mut self) -> Result<ModelOutcome, EngineError> {
        let started_ms = now_ms();
        let request = self.request()?;
        let mut models = vec![self.spec.model.clone()];
        models.extend(self.spec.fallback_models.iter().cloned());
        let part_id = baton_core::id::new_id();
        let streaming = self.data.streaming;
        let hub_task = self.task.id.clone();
        let inner = self.inner.clone();
        let seq = self.seq.clone();
        let delta_part = part_id.clone();
        let sink = move |delta: StreamDelta| {
            let (kind, text) = match delta {
                StreamDelta::Text(t) => ("text", t),
                StreamDelta::Reasoning(t) => ("reasoning", t),
            };
            let delta = if kind == "text" {
                json!({"kind": "text", "text": text})
            } else {
                json!({"kind": "reasoning", "reasoning": text})
            };
            let n = seq.fetch_add(1, Ordering::SeqCst) + 1;
            inner.hub.publish(
                &hub_task,
                Arc::new(Event {
                    seq: n,
                    payload: payload("part.delta", json!({"partId": delta_part, "delta": delta})),
                }),
            );
        };
        let gateway = self.inner.gateway.clone();
        let call = async {
            if streaming {
                gateway.chat(&models, request, Some(&sink)).await
            } else {
                gateway.chat(&models, request, None).await
            }
        };
        let cancel = self.cancel.clone();
        let reply = tokio::select! {
            r = tokio::time::timeout_at(self.deadline(), call) => match r {
                Ok(r) => r,
                Err(_) => return Ok(ModelOutcome::TimedOut),
            },
            _ = cancel.notified() => return Ok(ModelOutcome::Canceled),
        };
        let reply = match reply {
            Ok(reply) => reply,
            Err(e) => {
                let mut span = self.span(
                    SpanKind::Llm,
                    format!("chat {}", self.spec.model.id),
                    started_ms,
                );
                span.status = "error".into();
                span.attributes.insert("error".into(), json!(e.to_string()));
                span.attributes
                    .insert("attempts".into(), json!(e.attempts.len()));
                self.inner
                    .metrics
                    .model_call((now_ms() - started_ms).max(0) as u64, false, 0, 0);
                self.spans.push(span);
                return Ok(ModelOutcome::Failed(e.to_string()));
            }
        };
        let response = reply.response;
        {
            let mut span = self.span(SpanKind::Llm, format!("chat {}", reply.model), started_ms);
            let (provider, model) = reply
                .model
                .split_once(['/', ':'])
                .unwrap_or(("", &reply.model));
            span.attributes.insert("provider".into(), json!(provider));
            span.attributes.insert("model".into(), json!(model));
            span.attributes
                .insert("finish_reason".into(), json!(response.finish_reason));
            span.attributes
                .insert("attempts".into(), json!(reply.attempts.len()));
            span.attributes.insert("streaming".into(), json!(streaming));
            span.attributes
                .insert("tool_calls".into(), json!(response.tool_calls.len()));
            span.prompt_tokens = response.usage.prompt_tokens;
            span.completion_tokens = response.usage.completion_tokens;
            span.cost = reply.cost;
            self.inner.metrics.model_call(
                (span.ended_ms - started_ms).max(0) as u64,
                true,
                span.prompt_tokens,
                span.completion_tokens,
            );
            self.spans.push(span);
        }
        let usage = Usage {
            prompt_tokens: response.usage.prompt_tokens,
            completion_tokens: response.usage.completion_tokens,
            total_tokens: response.usage.total(),
            cost: reply.cost,
        };
        self.data.usage += usage;
        self.data.turn_usage += usage;
        self.data.iterations += 1;
        self.data.model = reply.model;
        self.data.finish = match response.finish_reason {
            FinishReason::Length => Some(Finish::Length),
            FinishReason::ContentFilter => Some(Finish::ContentFilter),
            FinishReason::Stop | FinishReason::ToolCalls => None,
        };
        let mut parts = Vec::new();
        if !response.content.is_empty() {
            parts.push(Part::Text {
                text: response.content.clone(),
            });
            self.emit(
                "part.done",
                json!({"partId": part_id, "part": {"kind": "text", "text": response.content}}),
            );
        }
        for call in &response.tool_calls {
            parts.push(Part::ToolCall {
                tool_name: call.name.clone(),
                tool_call_id: call.id.clone(),
                arguments: call.arguments.clone(),
            });
        }
        if parts.is_empty() {
            parts.push(Part::Text {
                text: String::new(),
            });
        }
        self.data.history.push(Message {
            message_id: baton_core::id::new_id(),
            role: Role::Agent,
            parts,
        });
        // Calls the engine cannot run as asked are answered at once with an error the model sees.
        let mut errors = Vec::new();
        for call in &response.tool_calls {
            if let Err(message) = self.tools.check(call) {
                let tool_id = self.tools.tool_id(&call.name).to_owned();
                self.emit(
                    "tool.failed",
                    json!({"toolId": tool_id, "toolCallId": call.id, "error": message}),
                );
                errors.push(Part::ToolResult {
                    tool_call_id: call.id.clone(),
                    result: Some(json!({"error": message})),
                });
            }
        }
        if !errors.is_empty() {
            self.data.history.push(Message {
                message_id: baton_core::id::new_id(),
                role: Role::Tool,
                parts: errors,
            });
        }
        if response.tool_calls.is_empty() {
            if let Some(schema) = &self.spec.output_schema {
                if let Err(problem) = check_output(schema, &response.content) {
                    if self.data.schema_retries >= SCHEMA_RETRIES {
                        return Ok(ModelOutcome::Failed(format!(
                            "the answer does not match the output schema after {} retries: {problem}",
                            SCHEMA_RETRIES
                        )));
                    }
                    self.data.schema_retries += 1;
                    self.data.history.push(Message {
                        message_id: baton_core::id::new_id(),
                        role: Role::User,
                        parts: vec![Part::Text {
                            text: format!(
                                "Your answer must be JSON matching the required schema. Problem: {problem}. Answer again with only the JSON."
                            ),
                        }],
                    });
                }
            }
        }
        Ok(ModelOutcome::Answered)
    }

    /// Runs server-side calls in parallel, checkpointing each result as it lands so a resumed
    /// task never runs a finished call again. Rejected calls are answered with the rejection.
    /// Returns `false` when canceled.
    async fn call_tools(&mut self, calls: Vec<ToolCall>) -> Result<bool, EngineError> {
        let variables = Arc::new(self.data.variables.clone());
        type Running = futures_util::future::BoxFuture<'static, (ToolCall, Result<Value, String>)>;
        let mut running: FuturesUnordered<Running> = FuturesUnordered::new();
        let mut aborts = Vec::new();
        let mut tool_spans: std::collections::HashMap<String, (String, i64)> = Default::default();
        for call in calls {
            let tool_id = self.tools.tool_id(&call.name).to_owned();
            if let Some(review) = self.data.reviews.get(&call.id).cloned() {
                self.emit(
                    "tool.review.done",
                    json!({"toolId": tool_id, "toolCallId": call.id,
                           "review": if review.approved { "approved" } else { "rejected" }}),
                );
                if !review.approved {
                    let mut message = "a reviewer rejected this call; it was not run".to_owned();
                    if let Some(reason) = review.reason.as_deref().filter(|r| !r.is_empty()) {
                        message.push_str(": ");
                        message.push_str(reason);
                    }
                    running.push(Box::pin(async move { (call, Err(message)) }));
                    continue;
                }
            }
            self.emit(
                "tool.started",
                json!({"toolId": tool_id, "toolCallId": call.id, "toolName": call.name,
                       "arguments": call.arguments}),
            );
            let side = self.tools.side(&call.name);
            let cipher = self.inner.cipher.clone();
            let variables = variables.clone();
            let span_id = crate::random_hex(8);
            tool_spans.insert(call.id.clone(), (span_id.clone(), now_ms()));
            let trace = Some((self.data.trace_id.clone(), span_id));
            // Each call runs in its own task: a tool that panics fails that call, not the run.
            let ours = call.clone();
            let handle = tokio::spawn(async move {
                let result = match side {
                    Some(Side::Builtin(tool)) => run_builtin(tool, &call),
                    Some(Side::Server(handler)) => {
                        let ctx = ToolContext {
                            variables: &variables,
                            cipher: cipher.as_ref(),
                            trace,
                        };
                        handler.call(call.arguments.clone(), &ctx).await
                    }
                    _ => Err(format!("tool `{}` cannot run on the server", call.name)),
                };
                result
            });
            aborts.push(handle.abort_handle());
            running.push(Box::pin(async move {
                let result = match handle.await {
                    Ok(result) => result,
                    Err(e) if e.is_panic() => Err("the tool crashed while running".to_owned()),
                    Err(_) => Err("the tool call was stopped".to_owned()),
                };
                (ours, result)
            }));
        }
        let stop_all = |aborts: &[tokio::task::AbortHandle]| {
            for a in aborts {
                a.abort();
            }
        };
        let cancel = self.cancel.clone();
        loop {
            let next = tokio::select! {
                n = running.next() => n,
                _ = cancel.notified() => {
                    stop_all(&aborts);
                    return Ok(false);
                }
                _ = tokio::time::sleep_until(self.deadline()) => {
                    stop_all(&aborts);
                    return Ok(true);
                }
            };
            let Some((call, result)) = next else {
                return Ok(true);
            };
            self.absorb_children();
            let tool_id = self.tools.tool_id(&call.name).to_owned();
            self.tool_span(&call, &tool_id, &result, tool_spans.remove(&call.id));
            let value = match result {
                Ok(value) => {
                    self.emit(
                        "tool.done",
                        json!({"toolId": tool_id, "toolCallId": call.id, "result": value}),
                    );
                    value
                }
                Err(message) => {
                    self.emit(
                        "tool.failed",
                        json!({"toolId": tool_id, "toolCallId": call.id, "error": message}),
                    );
                    json!({"error": message})
                }
            };
            self.data.history.push(Message {
                message_id: baton_core::id::new_id(),
                role: Role::Tool,
                parts: vec![Part::ToolResult {
                    tool_call_id: call.id,
                    result: Some(value),
                }],
            });
            self.checkpoint().await?;
        }
    }

    /// Records a tool call's span: memory, knowledge and sub-agent tools get their own kinds.
    fn tool_span(
        &mut self,
        call: &ToolCall,
        tool_id: &str,
        result: &Result<Value, String>,
        started: Option<(String, i64)>,
    ) {
        use baton_core::tool::BuiltinTool as B;
        let kind = match B::from_name(&call.name) {
            Some(
                B::RetrieveMemoryStores
                | B::QueryMemoryStore
                | B::WriteMemoryStore
                | B::DeleteMemoryDocument,
            ) => SpanKind::Memory,
            Some(B::RetrieveKnowledgeBases | B::QueryKnowledgeBase) => SpanKind::Knowledge,
            Some(B::CallSubAgent | B::RetrieveAgents) => SpanKind::SubAgent,
            _ => SpanKind::Tool,
        };
        let (span_id, started_ms) = started.unwrap_or_else(|| (crate::random_hex(8), now_ms()));
        let mut span = self.span(kind, format!("tool {}", call.name), started_ms);
        span.span_id = span_id;
        span.attributes.insert("tool_name".into(), json!(call.name));
        span.attributes.insert("tool_id".into(), json!(tool_id));
        span.attributes
            .insert("tool_call_id".into(), json!(call.id));
        span.attributes
            .insert("arguments".into(), call.arguments.clone());
        match result {
            Ok(value) => {
                let text = value.to_string();
                // Results can be large; the trace keeps the first 4 KB.
                let kept = if text.len() > 4096 {
                    let mut end = 4096;
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    json!(format!("{}…", &text[..end]))
                } else {
                    value.clone()
                };
                span.attributes.insert("result".into(), kept);
            }
            Err(error) => {
                span.status = "error".into();
                span.attributes.insert("error".into(), json!(error));
            }
        }
        self.inner.metrics.tool_call(result.is_ok());
        self.spans.push(span);
    }

    /// Rolls what sub-agents spent and started into this task.
    fn absorb_children(&mut self) {
        let mut ledger = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
        let usage = std::mem::take(&mut ledger.usage);
        let children = std::mem::take(&mut ledger.children);
        drop(ledger);
        self.data.usage += usage;
        self.data.turn_usage += usage;
        self.data.children.extend(children);
        self.data.sub_agent_calls = *self.calls_made.lock().unwrap_or_else(|e| e.into_inner());
    }

    /// Pauses the task for client results and reviews, announcing each call that newly waits
    /// for a review.
    async fn pause(
        &mut self,
        calls: Vec<ToolCall>,
        reviews: Vec<ToolCall>,
    ) -> Result<(), EngineError> {
        for call in &reviews {
            if self.data.awaiting_review.iter().any(|c| c.id == call.id) {
                continue;
            }
            let tool_id = self.tools.tool_id(&call.name).to_owned();
            self.emit(
                "tool.review.requested",
                json!({"toolId": tool_id, "toolCallId": call.id, "toolName": call.name,
                       "arguments": call.arguments, "requiresApproval": true}),
            );
        }
        self.data.awaiting_review = reviews;
        self.end(Finish::ToolCalls, calls).await
    }

    async fn end(&mut self, finish: Finish, pending: Vec<ToolCall>) -> Result<(), EngineError> {
        self.data.finish = Some(finish);
        if finish != Finish::ToolCalls {
            self.data.awaiting_review.clear();
        }
        self.task.state = if pending.is_empty() && self.data.awaiting_review.is_empty() {
            TaskState::Completed
        } else {
            TaskState::InputRequired
        };
        let mut data = json!({
            "finishReason": finish,
            "usage": usage_json(&self.data.turn_usage),
            "telemetry": {"trace_id": self.data.trace_id, "span_id": self.data.span_id},
        });
        if !pending.is_empty() {
            data["pendingToolCalls"] = pending_json(&pending);
        }
        if !self.data.awaiting_review.is_empty() {
            data["pendingToolReviews"] = reviews_json(&self.data.awaiting_review);
        }
        self.emit("response.done", data);
        self.root_span("ok");
        self.checkpoint().await
    }

    async fn fail(&mut self, message: String) -> Result<(), EngineError> {
        tracing::warn!(task = %self.task.id, error = %message, "task failed");
        self.data.error = Some(message.clone());
        self.task.state = TaskState::Failed;
        self.emit("response.failed", json!({"error": message, "code": 500}));
        self.root_span("error");
        self.checkpoint().await
    }

    async fn end_canceled(&mut self) -> Result<(), EngineError> {
        self.data.error = Some("canceled".into());
        self.task.state = TaskState::Canceled;
        self.emit(
            "response.failed",
            json!({"error": "the task was canceled", "code": 499}),
        );
        self.root_span("error");
        self.checkpoint().await
    }
}

/// Checks a final answer against the output schema; the error says what is wrong.
fn check_output(schema: &Value, content: &str) -> Result<(), String> {
    let trimmed = content
        .trim()
        .trim_start_matches("```json")
        .trim_start_matches("```")
        .trim_end_matches("```")
        .trim();
    let value: Value =
        serde_json::from_str(trimmed).map_err(|e| format!("the answer is not JSON ({e})"))?;
    let validator = jsonschema::validator_for(schema)
        .map_err(|e| format!("the output schema is invalid: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .take(5)
        .map(|e| e.to_string())
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}
