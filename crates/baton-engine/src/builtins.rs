//! Built-in tools that need the engine itself: `retrieve_agents` and `call_sub_agent` (teams).
//!
//! A sub-agent runs as a child task with its own instructions, tools and limits; its usage and
//! cost roll up into the parent's. Depth and the number of sub-agent calls per task are bounded,
//! and an agent already in the chain of callers is refused, so agents calling each other end with
//! an error instead of a runaway bill.

use crate::state::TaskData;
use crate::toolset::service_failure;
use crate::{Engine, Inner, RunRequest};
use async_trait::async_trait;
use baton_core::agent::AgentSpec;
use baton_core::handler::{ToolContext, ToolError, ToolHandler};
use baton_core::message::{Part, Role};
use baton_core::model::ToolDefinition;
use baton_core::task::TaskState;
use baton_core::usage::Usage;
use baton_core::ProjectId;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::sync::{Arc, Mutex};

/// How deep sub-agents may nest (the orchestrator is depth 0).
pub const MAX_DEPTH: u32 = 3;
/// How many sub-agent calls one task may make over its life.
pub const MAX_SUB_AGENT_CALLS: u32 = 16;

/// Where a child task comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lineage {
    /// The parent task.
    pub parent_task_id: String,
    /// Agent keys from the root orchestrator down to the parent.
    pub chain: Vec<String>,
    /// The parent's trace id and the span of the call that started this task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<(String, String)>,
}

/// What children added to their parent during one tool round: usage and task ids.
#[derive(Default)]
pub(crate) struct ChildLedger {
    pub usage: Usage,
    pub children: Vec<String>,
}

pub(crate) type SharedLedger = Arc<Mutex<ChildLedger>>;

/// `retrieve_agents`: the team's members with their roles and descriptions.
pub(crate) struct RetrieveAgents {
    pub inner: Arc<Inner>,
    pub project: ProjectId,
    pub team: Vec<baton_core::agent::TeamMember>,
}

pub(crate) fn retrieve_agents_definition() -> ToolDefinition {
    ToolDefinition {
        name: "retrieve_agents".into(),
        description: "Retrieves available agents: each sub-agent's key, role and description"
            .into(),
        parameters: json!({"type": "object", "properties": {}}),
    }
}

#[async_trait]
impl ToolHandler for RetrieveAgents {
    async fn call(&self, _arguments: Value, _ctx: &ToolContext<'_>) -> Result<Value, ToolError> {
        let mut agents = Vec::new();
        for member in &self.team {
            if let Some(a2a) = &member.a2a {
                agents.push(json!({"key": member.key, "role": member.role,
                    "description": format!("a remote agent (A2A) described at {}", a2a.card_url)}));
                continue;
            }
            let found = self
                .inner
                .store
                .agent_by_key(&self.project, &member.key)
                .await
                .map_err(service_failure)?;
            match found {
                Some(agent) => agents.push(json!({
                    "key": agent.spec.key,
                    "role": member.role.clone().unwrap_or_else(|| agent.spec.role.clone()),
                    "description": agent.spec.description,
                })),
                None => agents.push(json!({"key": member.key, "role": member.role,
                    "description": "unavailable: this agent does not exist"})),
            }
        }
        Ok(json!({"agents": agents}))
    }
}

/// `call_sub_agent`: runs a team member on a message and returns its answer.
pub(crate) struct CallSubAgent {
    pub inner: Arc<Inner>,
    pub project: ProjectId,
    pub team: Vec<baton_core::agent::TeamMember>,
    pub parent_task_id: String,
    pub chain: Vec<String>,
    pub calls_made: Arc<Mutex<u32>>,
    pub ledger: SharedLedger,
    pub variables: Map<String, Value>,
    pub memory_entity_id: Option<String>,
}

pub(crate) fn call_sub_agent_definition(team: &[baton_core::agent::TeamMember]) -> ToolDefinition {
    let keys: Vec<&str> = team.iter().map(|m| m.key.as_str()).collect();
    ToolDefinition {
        name: "call_sub_agent".into(),
        description: "Delegates a task to a specialized sub-agent and returns its answer".into(),
        parameters: json!({"type": "object",
            "properties": {
                "agent_key": {"type": "string", "enum": keys, "description": "The sub-agent's key"},
                "message": {"type": "string", "description": "What the sub-agent should do, with everything it needs"}
            },
            "required": ["agent_key", "message"]}),
    }
}

fn answer_of(data: &TaskData) -> String {
    let mut out = String::new();
    for message in data.turn_output().iter().filter(|m| m.role == Role::Agent) {
        for part in &message.parts {
            if let Part::Text { text } = part {
                if !text.is_empty() {
                    if !out.is_empty() {
                        out.push('\n');
                    }
                    out.push_str(text);
                }
            }
        }
    }
    out
}

#[async_trait]
impl ToolHandler for CallSubAgent {
    async fn call(&self, arguments: Value, ctx: &ToolContext<'_>) -> Result<Value, ToolError> {
        let key = arguments["agent_key"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let message = arguments["message"].as_str().unwrap_or_default().to_owned();
        let Some(member) = self.team.iter().find(|m| m.key == key) else {
            return Err(ToolError::InvalidArguments(format!(
                "`{key}` is not in this agent's team"
            )));
        };
        if self.chain.contains(&key) {
            return Err(ToolError::Denied(format!(
                "calling `{key}` would make a cycle ({} → {key}); answer without it",
                self.chain.join(" → ")
            )));
        }
        if self.chain.len() as u32 > MAX_DEPTH {
            return Err(ToolError::Denied(format!(
                "sub-agents may nest at most {MAX_DEPTH} levels deep; answer without delegating"
            )));
        }
        {
            let mut made = self.calls_made.lock().unwrap_or_else(|e| e.into_inner());
            if *made >= MAX_SUB_AGENT_CALLS {
                return Err(ToolError::Denied(format!(
                    "this task has made its {MAX_SUB_AGENT_CALLS} sub-agent calls; answer with what you have"
                )));
            }
            *made += 1;
        }
        if let Some(a2a) = &member.a2a {
            // A remote agent runs no task here: its own server bills and bounds it.
            let remote = self.inner.tools.a2a(&key, a2a);
            let mut answer = remote.call(json!({"message": message}), ctx).await?;
            if let Some(fields) = answer.as_object_mut() {
                fields.insert("agent_key".into(), json!(key));
            }
            return Ok(answer);
        }
        let agent = self
            .inner
            .store
            .agent_by_key(&self.project, &key)
            .await
            .map_err(service_failure)?
            .ok_or_else(|| {
                ToolError::InvalidArguments(format!("sub-agent `{key}` does not exist"))
            })?;
        let engine = Engine {
            inner: self.inner.clone(),
        };
        let mut chain = self.chain.clone();
        chain.push(key.clone());
        let request = RunRequest {
            project: self.project.clone(),
            agent,
            version: None,
            role: Role::User,
            parts: vec![Part::Text { text: message }],
            message_id: None,
            task_id: None,
            multitask: Default::default(),
            background: false,
            stream: false,
            variables: self.variables.clone(),
            identity: None,
            thread_id: None,
            memory_entity_id: self.memory_entity_id.clone(),
            metadata: Map::new(),
            reviews: Vec::new(),
            lineage: Some(Lineage {
                parent_task_id: self.parent_task_id.clone(),
                chain,
                trace: ctx.trace.clone(),
            }),
            turn_tools: Default::default(),
        };
        let prepared = engine.prepare(request).await.map_err(service_failure)?;
        let child_id = prepared.task.id.clone();
        self.ledger
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .children
            .push(child_id.clone());
        let origin = crate::run::Origin::SubAgent;
        let finished = crate::run::run(self.inner.clone(), prepared.task, prepared.spec, origin)
            .await
            .map_err(|e| ToolError::Upstream {
                message: format!("sub-agent `{key}` failed: {e}"),
                source: Some(Box::new(e)),
            })?;
        let data = Engine::data(&finished).map_err(service_failure)?;
        self.ledger.lock().unwrap_or_else(|e| e.into_inner()).usage += data.usage;
        match finished.state {
            TaskState::Completed => Ok(json!({"agent_key": key, "task_id": child_id,
                                              "answer": answer_of(&data)})),
            TaskState::InputRequired => Err(ToolError::Execution(format!(
                "sub-agent `{key}` stopped for input it cannot get here (task {child_id})"
            ))),
            other => Err(ToolError::Execution(format!(
                "sub-agent `{key}` ended {} (task {child_id}): {}",
                serde_json::to_value(other).unwrap_or(Value::Null),
                data.error.unwrap_or_default()
            ))),
        }
    }
}

/// Whether the spec lists a team.
pub(crate) fn has_team(spec: &AgentSpec) -> bool {
    !spec.team_of_agents.is_empty()
}
