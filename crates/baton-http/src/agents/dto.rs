//! The wire types of `/v2/agents`.

use baton_core::agent::{
    AgentRecord, AgentSource, AgentSpec, AgentStatus, AgentTool, Check, KnowledgeBaseRef,
    ModelConfig, RetryPolicy, Settings, TeamMember, TemplateEngine, ToolApproval,
};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// An agent as every answer shows it: its configuration plus identity. `model` is always an
/// object here, and every tool entry carries `action_type`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[non_exhaustive]
pub struct AgentDto {
    /// The agent's id (a ULID).
    #[serde(rename = "_id")]
    pub id: String,
    /// Unique key within the project.
    pub key: String,
    /// Human-friendly name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The agent's role.
    pub role: String,
    /// What the agent does.
    pub description: String,
    /// Instructions, templated with variables.
    pub instructions: String,
    /// A full system prompt used instead of the one built from role and instructions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// `Project/folder/sub`: where the agent lives.
    pub path: String,
    /// The primary model, with its fallbacks.
    pub model: AgentModelDto,
    /// Models tried in order when the primary fails.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fallback_models: Vec<ModelConfig>,
    /// Limits and tools.
    pub settings: AgentSettingsDto,
    /// Memory stores (ids or keys).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub memory_stores: Vec<String>,
    /// Knowledge bases.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub knowledge_bases: Vec<KnowledgeBaseRef>,
    /// Sub-agents for `call_sub_agent`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub team_of_agents: Vec<TeamMember>,
    /// Skills.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skills: Vec<String>,
    /// Default template variables.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub variables: Map<String, Value>,
    /// Where the agent came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<AgentSource>,
    /// Template engine for instructions.
    pub engine: TemplateEngine,
    /// JSON schema the final answer must satisfy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    /// The owning project.
    pub project_id: String,
    /// Status.
    pub status: AgentStatus,
    /// The version shown, as a string (`"1"`, `"2"`, …).
    pub version: String,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Last update time (RFC 3339).
    pub updated: String,
    /// Always `internal`.
    #[serde(rename = "type")]
    pub kind: AgentKind,
}

/// The `type` of an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentKind {
    /// Defined on this server.
    Internal,
}

/// An agent's model as answers show it: always an object.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[non_exhaustive]
pub struct AgentModelDto {
    /// `provider/model` or `provider:model`.
    pub id: String,
    /// The integration (credential set) to call the model with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integration_id: Option<String>,
    /// OpenAI-style parameters, passed to the provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Map<String, Value>>,
    /// Retry policy for this model's calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
    /// The agent's fallback models, repeated here as orq's shape has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_models: Option<Vec<ModelConfig>>,
}

/// An agent's limits and tools as answers show them.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[non_exhaustive]
pub struct AgentSettingsDto {
    /// Model calls allowed in one run.
    pub max_iterations: u32,
    /// Seconds one run may take.
    pub max_execution_time: u32,
    /// Cost in USD one run may spend; 0 means unlimited.
    pub max_cost: f64,
    /// Which tool calls need human approval.
    pub tool_approval_required: ToolApproval,
    /// Whether the agent is exposed in chat front ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_exposed: Option<bool>,
    /// Tools the agent may call.
    pub tools: Vec<AgentToolDto>,
    /// Evaluators run on input or output.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evaluators: Vec<Check>,
    /// Guardrails run on input or output.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub guardrails: Vec<Check>,
}

/// A tool entry of an agent as answers show it: the entry plus `action_type` (its `type`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[non_exhaustive]
pub struct AgentToolDto {
    /// The entry.
    #[serde(flatten)]
    pub entry: AgentTool,
    /// The same as `type`.
    pub action_type: String,
}

impl AgentDto {
    /// `agent` showing the configuration `spec` as version `version`.
    pub fn new(agent: &AgentRecord, spec: &AgentSpec, version: u32) -> Self {
        let spec = spec.clone();
        let fallbacks = (!spec.fallback_models.is_empty()).then(|| spec.fallback_models.clone());
        Self {
            id: agent.id.clone(),
            key: spec.key,
            display_name: spec.display_name,
            role: spec.role,
            description: spec.description,
            instructions: spec.instructions,
            system_prompt: spec.system_prompt,
            path: spec.path,
            model: AgentModelDto {
                id: spec.model.id,
                integration_id: spec.model.integration_id,
                parameters: spec.model.parameters,
                retry: spec.model.retry,
                fallback_models: fallbacks,
            },
            fallback_models: spec.fallback_models,
            settings: AgentSettingsDto::from(spec.settings),
            memory_stores: spec.memory_stores,
            knowledge_bases: spec.knowledge_bases,
            team_of_agents: spec.team_of_agents.iter().map(TeamMember::masked).collect(),
            skills: spec.skills,
            variables: spec.variables,
            source: spec.source,
            engine: spec.engine,
            output_schema: spec.output_schema,
            project_id: agent.project_id.0.clone(),
            status: agent.status,
            version: version.to_string(),
            created: agent.created.clone(),
            updated: agent.updated.clone(),
            kind: AgentKind::Internal,
        }
    }
}

impl From<Settings> for AgentSettingsDto {
    fn from(s: Settings) -> Self {
        Self {
            max_iterations: s.max_iterations,
            max_execution_time: s.max_execution_time,
            max_cost: s.max_cost,
            tool_approval_required: s.tool_approval_required,
            chat_exposed: s.chat_exposed,
            tools: s
                .tools
                .into_iter()
                .map(|entry| AgentToolDto {
                    action_type: entry.type_name().to_owned(),
                    entry,
                })
                .collect(),
            evaluators: s.evaluators,
            guardrails: s.guardrails,
        }
    }
}

/// One version of an agent.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[non_exhaustive]
pub struct AgentVersionDto {
    /// The version number as a string.
    pub version: String,
    /// The version number.
    pub version_number: u32,
    /// When it was made (RFC 3339).
    pub created: String,
    /// The note given with the update that made it.
    pub description: Option<String>,
    /// Whether it is the live version.
    pub live: bool,
    /// Whether it is the version marked published (Ensemble's `version: published`).
    pub published: bool,
    /// The agent as of this version.
    pub agent: AgentDto,
}

/// The body of `PATCH /v2/agents/{agent_key}`: any configuration field of [`AgentSpec`]
/// replaces the stored one (`settings` is merged one level deep, `null` removes a field), and
/// a change to the configuration makes a new version.
#[derive(Debug, Clone, serde::Deserialize, ToSchema)]
#[non_exhaustive]
pub struct AgentUpdate {
    /// A new status.
    #[serde(default)]
    pub status: Option<AgentStatus>,
    /// A note for the version a configuration change makes.
    #[serde(default, rename = "versionDescription")]
    pub version_description: Option<String>,
    /// Accepted for orq's SDK and ignored: versions are numbered 1, 2, 3, ….
    #[serde(default, rename = "versionIncrement")]
    #[allow(dead_code)] // read only to be accepted
    pub version_increment: Option<VersionIncrement>,
    /// Accepted for orq's SDK and ignored: an agent stays in its project.
    #[serde(default)]
    #[allow(dead_code)] // read only to be accepted
    pub project_id: Option<String>,
    /// Configuration fields, as in [`AgentSpec`].
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

/// orq's semantic version bump, accepted on updates and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VersionIncrement {
    /// A major bump.
    Major,
    /// A minor bump.
    Minor,
    /// A patch bump.
    Patch,
}
