//! The tools of one run: definitions offered to the model, which side runs each, which need a
//! human's approval, and argument validation against each tool's JSON schema.

use crate::step::ToolKinds;
use baton_core::agent::{
    AgentSpec, AgentTool, CustomToolType, StoredTool, ToolApproval, ToolEntry,
};
use baton_core::handler::{Runnable, ToolBackend, ToolContext, ToolError, ToolHandler};
use baton_core::model::{ToolCall, ToolDefinition};
use baton_core::store::{StoreError, ToolStore};
use baton_core::tool::{BuiltinTool, McpDef, ToolKind, ToolRecord};
use baton_core::ProjectId;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Who runs a tool.
#[derive(Clone)]
pub enum Side {
    /// A built-in the engine runs.
    Builtin(BuiltinTool),
    /// A client-side function: the task pauses for its result.
    Client,
    /// A server-side tool (HTTP, code, MCP, or one an embedder registered).
    Server(Arc<dyn ToolHandler>),
}

impl std::fmt::Debug for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Builtin(t) => write!(f, "Builtin({})", t.name()),
            Self::Client => f.write_str("Client"),
            Self::Server(_) => f.write_str("Server"),
        }
    }
}

struct Entry {
    side: Side,
    /// The stored tool's id (or the built-in's name), reported as `toolId` in events.
    tool_id: String,
    needs_approval: bool,
    /// Whether a call cut by a stopped server may run again by itself.
    idempotent: bool,
    validator: Option<jsonschema::Validator>,
}

/// The resolved tools of a run.
#[derive(Default)]
pub struct Toolset {
    /// What the model is offered.
    pub definitions: Vec<ToolDefinition>,
    entries: HashMap<String, Entry>,
    /// The names of tools that call a remote agent over A2A.
    remote_agents: std::collections::HashSet<String>,
}

impl ToolKinds for Toolset {
    fn is_client_side(&self, name: &str) -> bool {
        matches!(
            self.entries.get(name),
            Some(Entry {
                side: Side::Client,
                ..
            })
        )
    }

    fn needs_approval(&self, name: &str) -> bool {
        self.entries.get(name).is_some_and(|e| e.needs_approval)
    }

    fn is_idempotent(&self, name: &str) -> bool {
        self.entries.get(name).is_some_and(|e| e.idempotent)
    }

    fn tool_id(&self, name: &str) -> String {
        Toolset::tool_id(self, name).to_owned()
    }

    fn check(&self, call: &ToolCall) -> Result<(), String> {
        Toolset::check(self, call)
    }
}

fn object_schema(parameters: Option<&Value>) -> Value {
    match parameters {
        Some(p) if p.is_object() => p.clone(),
        _ => json!({"type": "object", "properties": {}}),
    }
}

/// A tool that cannot run here (its server is unreachable, or the engine has no backend for its
/// kind): calls answer with the reason, so the model (and the trace) sees why instead of the
/// tool silently missing.
pub(crate) struct Unavailable(pub(crate) String);

#[async_trait::async_trait]
impl ToolHandler for Unavailable {
    async fn call(&self, _arguments: Value, _ctx: &ToolContext<'_>) -> Result<Value, ToolError> {
        Err(ToolError::Unavailable(self.0.clone()))
    }
}

/// A failure of the engine's own services (the store, a run) during a tool call, as the
/// model sees it.
pub(crate) fn service_failure(error: impl std::error::Error + Send + Sync + 'static) -> ToolError {
    ToolError::Upstream {
        message: error.to_string(),
        source: Some(Box::new(error)),
    }
}

/// A tool name the model accepts (`^[a-zA-Z0-9_-]{1,64}$`).
fn model_safe_name(text: &str) -> String {
    let mut name: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if name.is_empty() {
        name.push_str("tool");
    }
    name
}

/// Whether a call to this tool needs approval under the agent's setting.
pub(crate) fn approval(
    setting: ToolApproval,
    entry: &AgentTool,
    stored: Option<&ToolRecord>,
) -> bool {
    match setting {
        ToolApproval::All => true,
        ToolApproval::None => false,
        ToolApproval::RespectTool => {
            entry.requires_approval || stored.is_some_and(|t| t.spec.requires_approval)
        }
    }
}

/// Where a run's tools come from.
struct Sources<'a, 'c> {
    project: &'a ProjectId,
    store: &'a dyn ToolStore,
    runtime: &'a dyn ToolBackend,
    ctx: &'a ToolContext<'c>,
    setting: ToolApproval,
}

impl Toolset {
    /// Resolves an agent's `settings.tools`: built-ins, inline definitions, and references
    /// through the tool store, made runnable by `runtime`.
    pub async fn resolve(
        spec: &AgentSpec,
        project: &ProjectId,
        store: &dyn ToolStore,
        runtime: &dyn ToolBackend,
        ctx: &ToolContext<'_>,
    ) -> Result<Self, StoreError> {
        let sources = Sources {
            project,
            store,
            runtime,
            ctx,
            setting: spec.settings.tool_approval_required,
        };
        let mut set = Self::default();
        for entry in &spec.settings.tools {
            let function_name = match &entry.tool {
                ToolEntry::Function(inline) => Some(inline.function.name.as_str()),
                ToolEntry::Stored(stored) if stored.kind == CustomToolType::Function => {
                    stored.key.as_deref()
                }
                _ => None,
            };
            if let Some(runnable) = function_name.and_then(|n| runtime.custom(n)) {
                // A tool the embedding program registered runs in-process.
                let name = runnable.definition.name.clone();
                set.add_runnable(
                    runnable,
                    name,
                    approval(sources.setting, entry, None),
                    false,
                );
                continue;
            }
            match &entry.tool {
                // The engine attaches the built-ins that need it (teams, memory, knowledge).
                ToolEntry::Builtin { tool, .. } => {
                    if *tool == BuiltinTool::CurrentDate {
                        set.add(
                            ToolDefinition {
                                name: "current_date".into(),
                                description: "Returns the current date and time (UTC, RFC 3339)"
                                    .into(),
                                parameters: json!({"type": "object", "properties": {}}),
                            },
                            Side::Builtin(*tool),
                            tool.name().into(),
                            approval(sources.setting, entry, None),
                            tool.is_idempotent(),
                        );
                    }
                }
                ToolEntry::Function(inline) => {
                    let function = &inline.function;
                    set.add(
                        ToolDefinition {
                            name: function.name.clone(),
                            description: function
                                .description
                                .clone()
                                .or_else(|| entry.description.clone())
                                .unwrap_or_default(),
                            parameters: object_schema(function.parameters.as_ref()),
                        },
                        Side::Client,
                        inline.key.clone().unwrap_or_else(|| function.name.clone()),
                        false,
                        false,
                    );
                }
                ToolEntry::Code(inline) => {
                    let description = entry.description.clone().unwrap_or_default();
                    let runnable = runtime.code(
                        &inline.key,
                        &description,
                        &inline.definition(),
                        inline.timeout,
                    );
                    set.add_runnable(
                        runnable,
                        inline.key.clone(),
                        approval(sources.setting, entry, None),
                        false,
                    );
                }
                ToolEntry::Stored(stored) => set.add_stored(&sources, entry, stored).await?,
            }
        }
        Ok(set)
    }

    /// Adds the stored tool an entry references; a reference to a deleted tool adds nothing.
    async fn add_stored(
        &mut self,
        sources: &Sources<'_, '_>,
        entry: &AgentTool,
        stored: &StoredTool,
    ) -> Result<(), StoreError> {
        let wanted = entry.stored_reference().unwrap_or_default();
        let Some(tool) = sources.store.tool(sources.project, wanted).await? else {
            tracing::warn!(
                tool = wanted,
                "agent references a tool that no longer exists"
            );
            return Ok(());
        };
        let needs_approval = approval(sources.setting, entry, Some(&tool));
        let idempotent = tool.spec.is_idempotent();
        let runtime = sources.runtime;
        let spec_name = tool.spec.key.clone();
        match &tool.spec.kind {
            ToolKind::Function { function } => self.add(
                ToolDefinition {
                    name: function.name.clone(),
                    description: function
                        .description
                        .clone()
                        .unwrap_or_else(|| tool.spec.description.clone()),
                    parameters: object_schema(function.parameters.as_ref()),
                },
                Side::Client,
                tool.id.clone(),
                false,
                false,
            ),
            ToolKind::JsonSchema { json_schema } => self.add(
                ToolDefinition {
                    name: json_schema.name.clone(),
                    description: json_schema.description.clone(),
                    parameters: object_schema(Some(&json_schema.schema)),
                },
                Side::Client,
                tool.id.clone(),
                false,
                false,
            ),
            ToolKind::Http { http } => {
                let runnable =
                    runtime.http(&spec_name, &tool.spec.description, http, stored.timeout);
                self.add_runnable(runnable, tool.id.clone(), needs_approval, idempotent);
            }
            ToolKind::Code { code_tool } => {
                let runnable = runtime.code(
                    &spec_name,
                    &tool.spec.description,
                    code_tool,
                    stored.timeout,
                );
                self.add_runnable(runnable, tool.id.clone(), needs_approval, idempotent);
            }
            ToolKind::Mcp { mcp } => {
                self.add_mcp(sources, &tool, mcp, stored, (needs_approval, idempotent))
                    .await
            }
            ToolKind::A2a { a2a } => {
                let mut def = a2a.clone();
                if stored.timeout.is_some() {
                    def.timeout = stored.timeout;
                }
                let runnable = Runnable {
                    definition: ToolDefinition {
                        name: spec_name.clone(),
                        description: tool.spec.description.clone(),
                        parameters: remote_agent_parameters(),
                    },
                    handler: runtime.a2a(&spec_name, &def),
                };
                self.remote_agents.insert(spec_name.clone());
                self.add_runnable(runnable, tool.id.clone(), needs_approval, idempotent);
            }
        }
        Ok(())
    }

    /// Adds an MCP server's tools (`tool_id` names one; without it, every tool is offered), or
    /// one that says why the server is unavailable.
    async fn add_mcp(
        &mut self,
        sources: &Sources<'_, '_>,
        tool: &ToolRecord,
        mcp: &McpDef,
        stored: &StoredTool,
        (needs_approval, idempotent): (bool, bool),
    ) {
        let only = stored.tool_id.as_deref();
        let pool_key = format!("{}@{}", tool.id, tool.updated);
        match sources
            .runtime
            .mcp(&pool_key, mcp, only, stored.timeout, sources.ctx)
            .await
        {
            Ok(runnables) => {
                for runnable in runnables {
                    self.add_runnable(runnable, tool.id.clone(), needs_approval, idempotent);
                }
            }
            Err(message) => {
                tracing::warn!(tool = %tool.spec.key, error = %message, "MCP server unavailable");
                let name = model_safe_name(only.unwrap_or(&tool.spec.key));
                self.add(
                    ToolDefinition {
                        name,
                        description: format!(
                            "{} (currently unavailable: {message})",
                            tool.spec.description
                        ),
                        parameters: json!({"type": "object", "properties": {}}),
                    },
                    Side::Server(Arc::new(Unavailable(format!(
                        "MCP server `{}` is unavailable: {message}",
                        tool.spec.key
                    )))),
                    tool.id.clone(),
                    needs_approval,
                    idempotent,
                );
            }
        }
    }

    fn add_runnable(
        &mut self,
        runnable: Runnable,
        tool_id: String,
        needs_approval: bool,
        idempotent: bool,
    ) {
        self.add(
            runnable.definition,
            Side::Server(runnable.handler),
            tool_id,
            needs_approval,
            idempotent,
        );
    }

    /// Offers a tool. A later tool with the same name as an earlier one is not offered: the model
    /// could not tell them apart. `idempotent`: a call cut by a stopped server may run again.
    pub fn add(
        &mut self,
        def: ToolDefinition,
        side: Side,
        tool_id: String,
        needs_approval: bool,
        idempotent: bool,
    ) {
        if self.entries.contains_key(&def.name) {
            tracing::warn!(tool = %def.name, "two tools share a name; keeping the first");
            return;
        }
        let validator = jsonschema::validator_for(&def.parameters).ok();
        self.entries.insert(
            def.name.clone(),
            Entry {
                side,
                tool_id,
                needs_approval,
                idempotent,
                validator,
            },
        );
        self.definitions.push(def);
    }

    /// Whether the named tool calls a remote agent over A2A (its span links the remote task).
    pub fn is_remote_agent(&self, name: &str) -> bool {
        self.remote_agents.contains(name)
    }

    /// Who runs the named tool, if it is offered.
    pub fn side(&self, name: &str) -> Option<Side> {
        self.entries.get(name).map(|e| e.side.clone())
    }

    /// The id reported as `toolId` for the named tool (its name when it is not offered).
    pub fn tool_id<'a>(&'a self, name: &'a str) -> &'a str {
        self.entries
            .get(name)
            .map(|e| e.tool_id.as_str())
            .unwrap_or(name)
    }

    /// Checks a call: the tool exists and its arguments are a JSON object matching the schema.
    /// The error text is what the model sees.
    pub fn check(&self, call: &ToolCall) -> Result<(), String> {
        let Some(entry) = self.entries.get(&call.name) else {
            return Err(format!("unknown tool `{}`", call.name));
        };
        if !call.arguments.is_object() {
            return Err(format!(
                "arguments of `{}` must be a JSON object, got: {}",
                call.name, call.arguments
            ));
        }
        if let Some(validator) = &entry.validator {
            let errors: Vec<String> = validator
                .iter_errors(&call.arguments)
                .take(5)
                .map(|e| {
                    let path = e.instance_path.to_string();
                    if path.is_empty() {
                        e.to_string()
                    } else {
                        format!("{path}: {e}")
                    }
                })
                .collect();
            if !errors.is_empty() {
                return Err(format!(
                    "invalid arguments for `{}`: {}",
                    call.name,
                    errors.join("; ")
                ));
            }
        }
        Ok(())
    }
}

/// Runs a built-in tool.
pub fn run_builtin(tool: BuiltinTool, _call: &ToolCall) -> Result<Value, String> {
    match tool {
        BuiltinTool::CurrentDate => {
            let now = chrono::Utc::now();
            Ok(json!({
                "date": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "timezone": "UTC",
                "weekday": now.format("%A").to_string(),
            }))
        }
        other => Err(format!("built-in tool `{}` is not available", other.name())),
    }
}

/// What the model sends a remote agent: one message.
pub(crate) fn remote_agent_parameters() -> serde_json::Value {
    serde_json::json!({"type": "object", "required": ["message"], "additionalProperties": false,
        "properties": {"message": {"type": "string",
            "description": "The whole request for the agent, with everything it needs to know"}}})
}
