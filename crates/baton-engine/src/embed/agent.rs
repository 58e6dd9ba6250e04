//! Agents built in code or read from orq's JSON, and the input of a run.

use crate::{invalid, EngineError, MultitaskStrategy, ToolReview};
use baton_core::agent::{
    AgentSpec, AgentTool, CustomToolType, ModelConfig, StoredTool, ToolApproval, ToolEntry,
};
use baton_core::message::Part;
use baton_core::ProjectId;
use serde_json::{Map, Value};

/// An agent defined in code (`Agent::new("analyst").model("openai/gpt-4o")`) or from orq's
/// agent JSON ([`Agent::from_json`]). [`Engine::run`](crate::Engine::run) stores it on first use and a new version
/// whenever its configuration changes.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Agent {
    pub(super) spec: AgentSpec,
    pub(super) project: ProjectId,
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
        let spec: AgentSpec = crate::json::parse(json)?;
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

    /// Offers a tool registered with [`EngineBuilder::tool`](crate::EngineBuilder::tool) (or a stored tool of this key).
    pub fn tool(mut self, name: impl Into<String>) -> Self {
        let reference = StoredTool {
            kind: CustomToolType::Function,
            key: Some(name.into()),
            timeout: None,
            tool_id: None,
        };
        self.spec
            .settings
            .tools
            .push(AgentTool::new(ToolEntry::Stored(reference)));
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

/// The input of [`Engine::run`](crate::Engine::run): a prompt (`"..."` converts), tool results or reviews, for a
/// new task or, with [`RunInput::task`], the next turn of one.
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct RunInput {
    pub(super) parts: Vec<Part>,
    pub(super) tool_results: Vec<Part>,
    pub(super) reviews: Vec<ToolReview>,
    pub(super) task_id: Option<String>,
    pub(super) thread_id: Option<String>,
    pub(super) variables: Map<String, Value>,
    pub(super) multitask: MultitaskStrategy,
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
            metadata: None,
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

    /// What the message does if its task is still running: refused (the default, `Busy`),
    /// queued behind the running turn, or queued to interrupt it. A queued message's run
    /// answers with its own turn, once that turn has run.
    pub fn multitask(mut self, strategy: MultitaskStrategy) -> Self {
        self.multitask = strategy;
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
