//! The tools of one run: definitions offered to the model, which side runs each, and argument
//! validation against each tool's JSON schema.

use crate::step::ToolKinds;
use baton_core::agent::AgentSpec;
use baton_core::model::{ToolCall, ToolDefinition};
use baton_core::store::{StoreError, ToolStore};
use baton_core::tool::{BuiltinTool, ToolKind};
use baton_core::ProjectId;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Who runs a tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// A built-in the engine runs.
    Builtin(BuiltinTool),
    /// A client-side function: the task pauses for its result.
    Client,
}

struct Entry {
    side: Side,
    validator: Option<jsonschema::Validator>,
}

/// The resolved tools of a run.
#[derive(Default)]
pub struct Toolset {
    /// What the model is offered.
    pub definitions: Vec<ToolDefinition>,
    entries: HashMap<String, Entry>,
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
}

fn object_schema(parameters: Option<&Value>) -> Value {
    match parameters {
        Some(p) if p.is_object() => p.clone(),
        _ => json!({"type": "object", "properties": {}}),
    }
}

impl Toolset {
    /// Resolves an agent's `settings.tools` (references through the tool store).
    pub async fn resolve(
        spec: &AgentSpec,
        project: &ProjectId,
        store: &dyn ToolStore,
    ) -> Result<Self, StoreError> {
        let mut set = Self::default();
        for entry in &spec.settings.tools {
            if let Some(builtin) = entry.builtin() {
                match builtin {
                    BuiltinTool::CurrentDate => set.add(
                        ToolDefinition {
                            name: "current_date".into(),
                            description: "Returns the current date and time (UTC, RFC 3339)".into(),
                            parameters: json!({"type": "object", "properties": {}}),
                        },
                        Side::Builtin(builtin),
                    ),
                    other => tracing::debug!(
                        tool = other.name(),
                        "built-in tool not available in this build"
                    ),
                }
                continue;
            }
            if let Some(function) = &entry.function {
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
                );
                continue;
            }
            let wanted = entry
                .id
                .as_deref()
                .or(entry.key.as_deref())
                .unwrap_or_default();
            let Some(tool) = store.tool(project, wanted).await? else {
                tracing::warn!(
                    tool = wanted,
                    "agent references a tool that no longer exists"
                );
                continue;
            };
            match &tool.spec.kind {
                ToolKind::Function { function } => set.add(
                    ToolDefinition {
                        name: function.name.clone(),
                        description: function
                            .description
                            .clone()
                            .unwrap_or_else(|| tool.spec.description.clone()),
                        parameters: object_schema(function.parameters.as_ref()),
                    },
                    Side::Client,
                ),
                ToolKind::JsonSchema { json_schema } => set.add(
                    ToolDefinition {
                        name: json_schema.name.clone(),
                        description: json_schema.description.clone(),
                        parameters: object_schema(Some(&json_schema.schema)),
                    },
                    Side::Client,
                ),
                other => tracing::debug!(
                    kind = other.type_name(),
                    "tool kind not runnable in this build"
                ),
            }
        }
        Ok(set)
    }

    fn add(&mut self, def: ToolDefinition, side: Side) {
        let validator = jsonschema::validator_for(&def.parameters).ok();
        self.entries
            .insert(def.name.clone(), Entry { side, validator });
        self.definitions.push(def);
    }

    /// Who runs the named tool, if it is offered.
    pub fn side(&self, name: &str) -> Option<Side> {
        self.entries.get(name).map(|e| e.side)
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
