//! Agents: the configuration a team defines as JSON, and its immutable versions.

use crate::error::ValidationError;
use crate::tenant::ProjectId;
use crate::validate;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

mod tools;
pub use tools::{AgentTool, CustomToolType, InlineCode, InlineFunction, StoredTool, ToolEntry};

/// A model and how to call it. On the wire it is either `"provider/model"` or an object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelConfig {
    /// `provider/model` (orq's form) or `provider:model` (Orchestra's form).
    pub id: String,
    /// Optional integration (credential set) to use for this model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integration_id: Option<String>,
    /// OpenAI-style parameters (temperature, max_tokens, response_format, …), passed to the provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Map<String, Value>>,
    /// Retry policy for this model's calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryPolicy>,
}

impl ModelConfig {
    /// A model configuration with only an id.
    pub fn named(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            integration_id: None,
            parameters: None,
            retry: None,
        }
    }

    /// Splits the id into provider and model name, accepting `/` and `:` as separators.
    pub fn provider_and_model(&self) -> Option<(&str, &str)> {
        let idx = self.id.find(['/', ':'])?;
        let (provider, rest) = self.id.split_at(idx);
        let model = &rest[1..];
        (!provider.is_empty() && !model.is_empty()).then_some((provider, model))
    }

    fn validate(&self, field: &str) -> Result<(), ValidationError> {
        if self.provider_and_model().is_none() {
            return Err(ValidationError::new(
                field,
                format!(
                    "model `{}` must be named `provider/model` or `provider:model`",
                    self.id
                ),
            ));
        }
        if let Some(retry) = &self.retry {
            validate::in_range(&format!("{field}.retry.count"), retry.count, 0, 10)?;
            for code in &retry.on_codes {
                validate::in_range(&format!("{field}.retry.on_codes"), *code, 100, 599)?;
            }
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ModelConfigWire {
    Name(String),
    Object {
        id: String,
        #[serde(default)]
        integration_id: Option<String>,
        #[serde(default)]
        parameters: Option<Map<String, Value>>,
        #[serde(default)]
        retry: Option<RetryPolicy>,
    },
}

impl<'de> Deserialize<'de> for ModelConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match ModelConfigWire::deserialize(deserializer).map_err(|_| {
            serde::de::Error::custom(
                "expected a model name string `provider/model` or an object with an `id`",
            )
        })? {
            ModelConfigWire::Name(id) => Ok(Self::named(id)),
            ModelConfigWire::Object {
                id,
                integration_id,
                parameters,
                retry,
            } => Ok(Self {
                id,
                integration_id,
                parameters,
                retry,
            }),
        }
    }
}

/// How often, and on which HTTP status codes, a model call is retried before the fallbacks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetryPolicy {
    /// Number of retries after the first attempt (0..10).
    #[serde(default = "RetryPolicy::default_count")]
    #[cfg_attr(feature = "openapi", schema(maximum = 10))]
    pub count: u32,
    /// Status codes that trigger a retry (100..599).
    #[serde(default = "RetryPolicy::default_codes")]
    pub on_codes: Vec<u16>,
}

impl RetryPolicy {
    fn default_count() -> u32 {
        3
    }
    fn default_codes() -> Vec<u16> {
        vec![429, 500, 502, 503, 504]
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            count: Self::default_count(),
            on_codes: Self::default_codes(),
        }
    }
}

/// Who must approve tool calls before they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ToolApproval {
    /// Every tool call needs approval.
    All,
    /// Only tools marked `requires_approval` need it.
    #[default]
    RespectTool,
    /// No tool call needs approval.
    None,
}

/// When an evaluator or guardrail runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ExecuteOn {
    /// On the request's input.
    Input,
    /// On the agent's output.
    Output,
}

/// An evaluator or guardrail attached to an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Check {
    /// Evaluator id.
    pub id: String,
    /// Input or output.
    pub execute_on: ExecuteOn,
    /// Percentage of runs sampled (1..100).
    #[serde(default = "Check::default_sample_rate")]
    pub sample_rate: f64,
    /// Evaluator-specific options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Value>,
}

impl Check {
    fn default_sample_rate() -> f64 {
        50.0
    }
}

/// Execution limits and tools of an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Settings {
    /// Model calls allowed in one run (1..100).
    #[serde(default = "Settings::default_max_iterations")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
    pub max_iterations: u32,
    /// Seconds one run may take (2..600).
    #[serde(default = "Settings::default_max_execution_time")]
    #[cfg_attr(feature = "openapi", schema(minimum = 2, maximum = 600))]
    pub max_execution_time: u32,
    /// Cost in USD one run may spend; 0 means unlimited.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0))]
    pub max_cost: f64,
    /// Which tool calls need human approval.
    #[serde(default)]
    pub tool_approval_required: ToolApproval,
    /// Whether the agent is exposed in chat front ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_exposed: Option<bool>,
    /// Tools the agent may call.
    #[serde(default)]
    pub tools: Vec<AgentTool>,
    /// Evaluators run on input or output.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evaluators: Vec<Check>,
    /// Guardrails run on input or output.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guardrails: Vec<Check>,
}

impl Settings {
    fn default_max_iterations() -> u32 {
        100
    }
    fn default_max_execution_time() -> u32 {
        600
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_iterations: Self::default_max_iterations(),
            max_execution_time: Self::default_max_execution_time(),
            max_cost: 0.0,
            tool_approval_required: ToolApproval::default(),
            chat_exposed: None,
            tools: Vec::new(),
            evaluators: Vec::new(),
            guardrails: Vec::new(),
        }
    }
}

/// A knowledge base an agent may search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KnowledgeBaseRef {
    /// Knowledge base id or key.
    pub knowledge_id: String,
}

/// A sub-agent an orchestrator may delegate to: an agent of this project, or (with `a2a`) a
/// remote agent reached over the A2A protocol, called by `key` all the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamMember {
    /// The sub-agent's key (for a remote agent: the name the model calls it by).
    pub key: String,
    /// Its role in the team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// A remote A2A agent instead of an agent of this project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a2a: Option<A2aAgentDef>,
}

/// A remote agent reached over the A2A protocol (JSON-RPC binding), named by its Agent Card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct A2aAgentDef {
    /// The Agent Card's URL (`https://host/.well-known/agent-card.json`).
    pub card_url: String,
    /// Headers sent with every request to the agent (card and calls); secret values are sealed
    /// for the card's origin and sent only there.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub headers: std::collections::BTreeMap<String, crate::tool::HeaderValue>,
    /// Seconds one call may take, waiting for the remote task included (default 120, at most 600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 600.0))]
    pub timeout: Option<f64>,
}

impl A2aAgentDef {
    /// The origin secret headers are sealed for: the card URL's scheme, host and port.
    pub fn origin(&self) -> Option<String> {
        url::Url::parse(&self.card_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .as_ref()
            .and_then(crate::secret::url_origin)
    }

    /// Checks the card URL, header names and timeout; errors name `{field}.…`.
    pub fn validate(&self, field: &str) -> Result<(), ValidationError> {
        let card_field = format!("{field}.card_url");
        let url = url::Url::parse(&self.card_url).map_err(|e| {
            ValidationError::new(&card_field, format!("must be an absolute URL: {e}"))
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ValidationError::new(
                card_field,
                "must be an http:// or https:// URL with a host",
            ));
        }
        for name in self.headers.keys() {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
                return Err(ValidationError::new(
                    format!("{field}.headers"),
                    format!("`{name}` is not a valid header name"),
                ));
            }
        }
        if let Some(timeout) = self.timeout {
            if !(timeout > 0.0 && timeout <= 600.0) {
                return Err(ValidationError::new(
                    format!("{field}.timeout"),
                    "must be between 0 and 600 seconds",
                ));
            }
        }
        Ok(())
    }
}

impl TeamMember {
    /// The member as answers show it: secret header values masked.
    pub fn masked(&self) -> TeamMember {
        let mut member = self.clone();
        if let Some(a2a) = &mut member.a2a {
            a2a.headers = crate::tool::masked_headers(&a2a.headers);
        }
        member
    }
}

/// The template engine that renders instructions with variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TemplateEngine {
    /// `{{name}}` substitution only.
    #[default]
    Text,
    /// Jinja templates.
    Jinja,
    /// Mustache templates.
    Mustache,
}

/// Where an agent came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AgentSource {
    /// Created in this server.
    Internal,
    /// Imported from elsewhere.
    External,
    /// Created by an experiment.
    Experiment,
}

/// The whole configuration of an agent: what a version freezes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentSpec {
    /// Unique key within the project.
    pub key: String,
    /// Human-friendly name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The agent's role.
    pub role: String,
    /// What the agent does.
    pub description: String,
    /// Instructions, templated with variables.
    pub instructions: String,
    /// A full system prompt, if set, used instead of the one built from role and instructions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// `Project/folder/sub`: where the agent lives.
    pub path: String,
    /// The primary model.
    pub model: ModelConfig,
    /// Models tried in order when the primary fails.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback_models: Vec<ModelConfig>,
    /// Limits and tools.
    #[serde(default)]
    pub settings: Settings,
    /// Memory stores (ids or keys).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub memory_stores: Vec<String>,
    /// Knowledge bases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub knowledge_bases: Vec<KnowledgeBaseRef>,
    /// Sub-agents for `call_sub_agent`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub team_of_agents: Vec<TeamMember>,
    /// Skills.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skills: Vec<String>,
    /// Default template variables.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub variables: Map<String, Value>,
    /// Where the agent came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<AgentSource>,
    /// Template engine for instructions.
    #[serde(default)]
    pub engine: TemplateEngine,
    /// JSON schema the final answer must satisfy (structured output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
}

impl AgentSpec {
    /// Checks every field, naming the first that is wrong.
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate::agent_key("key", &self.key)?;
        validate::non_empty("role", &self.role)?;
        validate::folder_path("path", &self.path)?;
        self.model.validate("model")?;
        for (i, model) in self.fallback_models.iter().enumerate() {
            model.validate(&format!("fallback_models[{i}]"))?;
        }
        let s = &self.settings;
        validate::in_range("settings.max_iterations", s.max_iterations, 1, 100)?;
        validate::in_range("settings.max_execution_time", s.max_execution_time, 2, 600)?;
        if !(s.max_cost.is_finite() && s.max_cost >= 0.0) {
            return Err(ValidationError::new(
                "settings.max_cost",
                "must be a number >= 0",
            ));
        }
        for (i, tool) in s.tools.iter().enumerate() {
            tool.validate(&format!("settings.tools[{i}]"))?;
        }
        for (i, member) in self.team_of_agents.iter().enumerate() {
            validate::agent_key(&format!("team_of_agents[{i}].key"), &member.key)?;
            if let Some(a2a) = &member.a2a {
                a2a.validate(&format!("team_of_agents[{i}].a2a"))?;
            }
            if self.team_of_agents[..i].iter().any(|m| m.key == member.key) {
                return Err(ValidationError::new(
                    format!("team_of_agents[{i}].key"),
                    format!("`{}` is already in the team", member.key),
                ));
            }
        }
        if let Some(schema) = &self.output_schema {
            if !schema.is_object() {
                return Err(ValidationError::new(
                    "output_schema",
                    "must be a JSON schema object",
                ));
            }
        }
        Ok(())
    }

    /// Seals the secret headers of remote (A2A) team members for their card's origin before
    /// the agent is stored. A header sent as the mask keeps the sealed value `previous` holds
    /// for the member of the same key, while its card stays on the same origin.
    pub fn seal_secrets(
        &mut self,
        cipher: &dyn crate::store::SecretCipher,
        previous: Option<&AgentSpec>,
    ) -> Result<(), ValidationError> {
        for (i, member) in self.team_of_agents.iter_mut().enumerate() {
            let Some(a2a) = &mut member.a2a else {
                continue;
            };
            let old = previous
                .and_then(|p| p.team_of_agents.iter().find(|m| m.key == member.key))
                .and_then(|m| m.a2a.as_ref())
                .map(|a| &a.headers);
            let origin = a2a.origin();
            crate::tool::seal_headers(
                &mut a2a.headers,
                old,
                cipher,
                &format!("team_of_agents[{i}].a2a.headers"),
                &format!("team_of_agents[{i}].a2a.card_url"),
                origin.as_deref(),
            )?;
        }
        Ok(())
    }

    /// The configuration as answers show it: secret header values masked.
    pub fn masked(&self) -> AgentSpec {
        let mut spec = self.clone();
        spec.team_of_agents = spec.team_of_agents.iter().map(TeamMember::masked).collect();
        spec
    }

    /// The project named by the first element of `path`.
    pub fn path_project(&self) -> &str {
        self.path.split('/').next().unwrap_or_default()
    }
}

/// Lifecycle status of an agent, as orq reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AgentStatus {
    /// Usable.
    #[default]
    Live,
    /// Draft.
    Draft,
    /// Pending review.
    Pending,
    /// Published.
    Published,
}

/// A stored agent: identity, ownership, and its live configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRecord {
    /// ULID.
    pub id: String,
    /// Owning project.
    pub project_id: ProjectId,
    /// Status.
    pub status: AgentStatus,
    /// Number of the live version (1-based).
    pub version: u32,
    /// The version marked published (Ensemble's `version: published`), if one is.
    pub published_version: Option<u32>,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Last update time (RFC 3339).
    pub updated: String,
    /// The live configuration.
    pub spec: AgentSpec,
}

/// An immutable snapshot of an agent's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentVersion {
    /// The agent's id.
    pub agent_id: String,
    /// Version number, 1-based and dense.
    pub version: u32,
    /// When it was created (RFC 3339).
    pub created: String,
    /// Optional note given with the update that made it.
    pub description: Option<String>,
    /// The configuration.
    pub spec: AgentSpec,
}

/// A reference to an agent in a path: `key`, `key@N` or `key@vN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRef<'a> {
    /// The agent key.
    pub key: &'a str,
    /// A pinned version, if any.
    pub version: Option<u32>,
}

impl<'a> AgentRef<'a> {
    /// Parses `key` or `key@N` (also `key@vN`).
    pub fn parse(raw: &'a str) -> Result<Self, ValidationError> {
        match raw.split_once('@') {
            None => Ok(Self {
                key: raw,
                version: None,
            }),
            Some((key, version)) => {
                let digits = version.strip_prefix('v').unwrap_or(version);
                let version = digits
                    .parse::<u32>()
                    .ok()
                    .filter(|v| *v > 0)
                    .ok_or_else(|| {
                        ValidationError::new(
                            "agent_key",
                            format!("`{version}` is not a version number (use `key@3`)"),
                        )
                    })?;
                Ok(Self {
                    key,
                    version: Some(version),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn minimal() -> Value {
        json!({"key": "k1", "role": "r", "description": "d", "instructions": "i",
               "path": "Default/agents", "model": "openai/gpt-4o"})
    }

    #[test]
    fn model_accepts_string_and_object() {
        let spec: AgentSpec = serde_json::from_value(minimal()).unwrap();
        assert_eq!(spec.model, ModelConfig::named("openai/gpt-4o"));
        let mut v = minimal();
        v["model"] = json!({"id": "anthropic:claude", "parameters": {"temperature": 0.2},
                            "retry": {"count": 2}});
        let spec: AgentSpec = serde_json::from_value(v).unwrap();
        assert_eq!(
            spec.model.provider_and_model(),
            Some(("anthropic", "claude"))
        );
        assert_eq!(
            spec.model.retry.unwrap().on_codes,
            vec![429, 500, 502, 503, 504]
        );
    }

    #[test]
    fn defaults_match_orq() {
        let spec: AgentSpec = serde_json::from_value(minimal()).unwrap();
        assert_eq!(spec.settings.max_iterations, 100);
        assert_eq!(spec.settings.max_execution_time, 600);
        assert_eq!(
            spec.settings.tool_approval_required,
            ToolApproval::RespectTool
        );
        assert_eq!(spec.engine, TemplateEngine::Text);
        spec.validate().unwrap();
    }

    #[test]
    fn validation_names_the_field() {
        let mut v = minimal();
        v["settings"] = json!({"max_iterations": 0});
        let spec: AgentSpec = serde_json::from_value(v).unwrap();
        assert_eq!(
            spec.validate().unwrap_err().field,
            "settings.max_iterations"
        );

        let mut v = minimal();
        v["settings"] = json!({"tools": [{"type": "current_date"}, {"type": "teleport"}]});
        let err = serde_json::from_value::<AgentSpec>(v)
            .unwrap_err()
            .to_string();
        let nested = ValidationError::from_serde_message(&err).unwrap();
        assert_eq!(
            nested.field, "type",
            "an unknown type fails parsing, naming `type`"
        );

        let mut v = minimal();
        v["settings"] = json!({"tools": [{"type": "current_date"},
                                         {"type": "code", "key": "k", "code": "x", "language": "r"}]});
        let spec: AgentSpec = serde_json::from_value(v).unwrap();
        assert_eq!(
            spec.validate().unwrap_err().field,
            "settings.tools[1].language"
        );

        let mut v = minimal();
        v["model"] = json!("gpt-4o");
        let spec: AgentSpec = serde_json::from_value(v).unwrap();
        assert_eq!(spec.validate().unwrap_err().field, "model");

        let mut v = minimal();
        v["key"] = json!("bad@key");
        let spec: AgentSpec = serde_json::from_value(v).unwrap();
        assert_eq!(spec.validate().unwrap_err().field, "key");
    }

    #[test]
    fn agent_refs_parse_versions() {
        assert_eq!(AgentRef::parse("k1").unwrap().version, None);
        assert_eq!(AgentRef::parse("k1@3").unwrap().version, Some(3));
        assert_eq!(AgentRef::parse("k1@v2").unwrap().version, Some(2));
        assert!(AgentRef::parse("k1@zero").is_err());
        assert!(AgentRef::parse("k1@0").is_err());
    }
}
