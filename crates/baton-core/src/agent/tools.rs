//! The entries of an agent's `settings.tools`: a built-in tool, a reference to a tool stored
//! under `/v2/tools`, or an inline function or code tool. On the wire each is one flat object
//! tagged by `type`; which fields it carries depends on what it is.

use crate::error::ValidationError;
use crate::tool::{BuiltinTool, CodeDef, FunctionDef};
use crate::validate;
use serde_json::{Map, Value};

/// One entry of `settings.tools`: what it is, plus the fields every entry may carry.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentTool {
    /// Stable id of this entry (the stored tool's id for references). Assigned by the server.
    pub id: Option<String>,
    /// Whether calls to this tool need approval (with `respect_tool`).
    pub requires_approval: bool,
    /// Display name.
    pub display_name: Option<String>,
    /// Description; the model reads it for inline tools.
    pub description: Option<String>,
    /// What the entry is.
    pub tool: ToolEntry,
}

/// What an entry of `settings.tools` is.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolEntry {
    /// A built-in tool, named by `type`.
    Builtin {
        /// Which one.
        tool: BuiltinTool,
        /// Its configuration (e.g. `file_system`'s).
        configuration: Option<Map<String, Value>>,
    },
    /// A reference to a tool stored under `/v2/tools`.
    Stored(StoredTool),
    /// A client-side function defined in the entry (orq's docs form).
    Function(InlineFunction),
    /// A Python code tool defined in the entry.
    Code(InlineCode),
}

/// The `type`s of tools stored under `/v2/tools`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CustomToolType {
    /// Client-side function.
    Function,
    /// HTTP request.
    Http,
    /// Python code.
    Code,
    /// JSON-schema answer.
    JsonSchema,
    /// MCP server.
    Mcp,
    /// Remote agent over A2A.
    A2a,
}

impl CustomToolType {
    /// Every custom type.
    pub const ALL: [Self; 6] = [
        Self::Function,
        Self::Http,
        Self::Code,
        Self::JsonSchema,
        Self::Mcp,
        Self::A2a,
    ];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Function => "function",
            Self::Http => "http",
            Self::Code => "code",
            Self::JsonSchema => "json_schema",
            Self::Mcp => "mcp",
            Self::A2a => "a2a",
        }
    }

    /// The custom type with this wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// A reference to a stored tool by the entry's `id`, its `key`, or (an MCP server) `tool_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTool {
    /// The stored tool's type.
    pub kind: CustomToolType,
    /// The stored tool's key.
    pub key: Option<String>,
    /// Timeout in seconds for http, code and MCP tools.
    pub timeout: Option<f64>,
    /// One tool of an MCP server; absent means every tool of the server.
    pub tool_id: Option<String>,
}

/// A client-side function defined in the entry.
#[derive(Debug, Clone, PartialEq)]
pub struct InlineFunction {
    /// The entry's key (the function's name once stored).
    pub key: Option<String>,
    /// The definition the model sees.
    pub function: FunctionDef,
}

/// A code tool defined in the entry: the code reads `params` and sets `result`.
#[derive(Debug, Clone, PartialEq)]
pub struct InlineCode {
    /// The name the model calls.
    pub key: String,
    /// Only `python` (also when absent).
    pub language: Option<String>,
    /// The source.
    pub code: String,
    /// JSON schema of `params`.
    pub parameters: Option<Value>,
    /// Timeout in seconds.
    pub timeout: Option<f64>,
}

impl InlineCode {
    /// The code tool to run.
    pub fn definition(&self) -> CodeDef {
        CodeDef {
            language: self.language.clone().unwrap_or_else(|| "python".into()),
            code: self.code.clone(),
            parameters: self.parameters.clone(),
        }
    }
}

impl AgentTool {
    /// An entry with no id, approval flag, name or description.
    pub fn new(tool: ToolEntry) -> Self {
        Self {
            id: None,
            requires_approval: false,
            display_name: None,
            description: None,
            tool,
        }
    }

    /// The wire `type`: the built-in's name, or the custom type.
    pub fn type_name(&self) -> &'static str {
        match &self.tool {
            ToolEntry::Builtin { tool, .. } => tool.name(),
            ToolEntry::Stored(stored) => stored.kind.name(),
            ToolEntry::Function(_) => CustomToolType::Function.name(),
            ToolEntry::Code(_) => CustomToolType::Code.name(),
        }
    }

    /// The built-in tool this entry attaches, if it is one.
    pub fn builtin(&self) -> Option<BuiltinTool> {
        match &self.tool {
            ToolEntry::Builtin { tool, .. } => Some(*tool),
            _ => None,
        }
    }

    /// The entry's `key`, if it has one.
    pub fn key(&self) -> Option<&str> {
        match &self.tool {
            ToolEntry::Builtin { .. } => None,
            ToolEntry::Stored(stored) => stored.key.as_deref(),
            ToolEntry::Function(function) => function.key.as_deref(),
            ToolEntry::Code(code) => Some(&code.key),
        }
    }

    /// For a reference, the stored tool it names: its id, else its key, else (an MCP server
    /// attached by orq's docs form) `tool_id`.
    pub fn stored_reference(&self) -> Option<&str> {
        let ToolEntry::Stored(stored) = &self.tool else {
            return None;
        };
        self.id
            .as_deref()
            .or(stored.key.as_deref())
            .or(stored.tool_id.as_deref())
    }

    /// Checks the fields parsing leaves unchecked, naming the first that is wrong.
    pub(crate) fn validate(&self, field: &str) -> Result<(), ValidationError> {
        let timeout = match &self.tool {
            ToolEntry::Builtin { .. } => None,
            ToolEntry::Function(inline) => {
                validate::non_empty(&format!("{field}.function.name"), &inline.function.name)?;
                None
            }
            ToolEntry::Code(inline) => {
                validate::tool_key(&format!("{field}.key"), &inline.key)?;
                let language = inline.language.as_deref().unwrap_or("python");
                if language != "python" {
                    return Err(ValidationError::new(
                        format!("{field}.language"),
                        format!("unsupported language `{language}` (only `python`)"),
                    ));
                }
                validate::non_empty(&format!("{field}.code"), &inline.code)?;
                if inline.parameters.as_ref().is_some_and(|p| !p.is_object()) {
                    return Err(ValidationError::new(
                        format!("{field}.parameters"),
                        "must be a JSON schema object",
                    ));
                }
                inline.timeout
            }
            ToolEntry::Stored(stored) => stored.timeout,
        };
        if let Some(timeout) = timeout {
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

mod wire;

#[cfg(test)]
mod tests;
