//! One call from a prompt to an answer: storing the agent, running the task, reading it back.

use super::agent::{Agent, RunInput};
use super::defaults::NO_CIPHER;
use crate::state::TaskData;
use crate::{invalid, Admission, Engine, EngineError, RunRequest};
use baton_core::agent::{AgentRecord, AgentStatus, AgentVersion};
use baton_core::message::{Message, Part, Role};
use baton_core::model::ToolCall;
use baton_core::store::{StoreError, TaskRecord};
use baton_core::task::TaskState;
use baton_core::usage::Usage;
use serde_json::{Map, Value};

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
        let output: Vec<Message> = data.turn_output().iter().map(|m| (**m).clone()).collect();
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
    /// The task's live events, typed ([`crate::machine::RunEvent`]: `Started`, `Delta`,
    /// `TextDone`, tool events, …, then `Done`, `Failed` or `Canceled`).
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
            .map_err(|e| EngineError::internal("run task", e))??;
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

    /// Queues a run for the background workers ([`Engine::start_workers`], in this process or
    /// another on the same database) and returns its task id at once.
    pub async fn submit(
        &self,
        agent: &Agent,
        input: impl Into<RunInput>,
    ) -> Result<String, EngineError> {
        Ok(
            match self.prepare_run(agent, input.into(), false, true).await? {
                Admission::Run(prepared) => prepared.task.id,
                Admission::Queued(queued) => queued.task.id,
            },
        )
    }

    /// Waits until a task pauses or ends, wherever it runs, then returns its output.
    pub async fn wait(&self, agent: &Agent, task_id: &str) -> Result<RunOutput, EngineError> {
        let poll = self.inner.config.poll_interval;
        let mut events = self.subscribe(task_id);
        loop {
            let task = self
                .inner
                .store
                .task(&agent.project, task_id)
                .await?
                .ok_or_else(|| EngineError::TaskNotFound(task_id.to_owned()))?;
            if task.state.is_inactive() {
                return RunOutput::of(&task, agent.spec.output_schema.is_some());
            }
            // Woken by the task's next event when it runs in this process; another process's
            // run is seen by looking again.
            match tokio::time::timeout(poll, events.recv()).await {
                Ok(Some(_)) | Err(_) => {}
                Ok(None) => {
                    tokio::time::sleep(poll).await;
                    events = self.subscribe(task_id);
                }
            }
        }
    }

    async fn start_run(
        &self,
        agent: &Agent,
        input: RunInput,
        stream: bool,
    ) -> Result<RunHandle, EngineError> {
        let admitted = self.prepare_run(agent, input, stream, false).await?;
        let task_id = match &admitted {
            Admission::Run(prepared) => prepared.task.id.clone(),
            Admission::Queued(queued) => queued.task.id.clone(),
        };
        // Subscribed before the run starts, so no event is missed.
        let events = self.subscribe(&task_id);
        let engine = self.clone();
        let join = match admitted {
            Admission::Run(prepared) => {
                tokio::spawn(async move { engine.run_turn(prepared).await })
            }
            // Its turn runs where the task runs; this waits for that turn.
            Admission::Queued(q) => tokio::spawn(async move {
                let project = q.task.project_id.clone();
                engine
                    .turn_outcome(&project, &q.task.id, &q.response_id, q.after)
                    .await
            }),
        };
        Ok(RunHandle {
            task_id,
            events,
            join,
            structured: agent.spec.output_schema.is_some(),
        })
    }

    async fn prepare_run(
        &self,
        agent: &Agent,
        input: RunInput,
        stream: bool,
        background: bool,
    ) -> Result<Admission, EngineError> {
        let secret = input
            .variables
            .iter()
            .chain(agent.spec.variables.iter())
            .find(|(_, v)| v.get("secret") == Some(&Value::Bool(true)));
        // Without a cipher (the builder's default) a secret cannot be kept: refuse it now
        // rather than fail the run when it is used.
        if let Some((name, _)) = secret {
            if !self.inner.cipher.keeps_secrets() {
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
        self.admit(RunRequest {
            project: agent.project.clone(),
            agent: record,
            version: None,
            role,
            parts,
            message_id: None,
            task_id: input.task_id,
            multitask: input.multitask,
            background,
            stream,
            variables: input.variables,
            identity: None,
            thread_id: input.thread_id,
            memory_entity_id: None,
            metadata: Map::new(),
            reviews: input.reviews,
            lineage: None,
            turn_tools: Default::default(),
        })
        .await
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
                    published_version: None,
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
            let updated = store.update_agent(&record, expected, Some(&version)).await;
            self.inner
                .lookups
                .agent_changed(&record.project_id, &record.id);
            match updated {
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
