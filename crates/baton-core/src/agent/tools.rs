//! The entries of an agent's `settings.tools`: a built-in tool, a reference to a tool stored
//! under `/v2/tools`, or an inline function or code tool. On the wire each is one flat object
//! tagged by `type`; which fields it carries depends on what it is.

use crate::error::ValidationError;
use crate::tool::{BuiltinTool, CodeDef, FunctionDef};
use crate::validate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
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
}

impl CustomToolType {
    /// Every custom type.
    pub const ALL: [Self; 5] = [
        Self::Function,
        Self::Http,
        Self::Code,
        Self::JsonSchema,
        Self::Mcp,
    ];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Function => "function",
            Self::Http => "http",
            Self::Code => "code",
            Self::JsonSchema => "json_schema",
            Self::Mcp => "mcp",
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

    /// The entry a wire object describes; the error names a field of the object.
    fn from_wire(wire: WireTool) -> Result<Self, ValidationError> {
        let builtin = BuiltinTool::from_name(&wire.kind);
        let custom = CustomToolType::from_name(&wire.kind);
        if builtin.is_none() && custom.is_none() {
            return Err(ValidationError::new(
                "type",
                format!("unknown tool type `{}`", wire.kind),
            ));
        }
        let tool = if let Some(function) = wire.function {
            if custom != Some(CustomToolType::Function) {
                return Err(ValidationError::new(
                    "function",
                    "an inline `function` definition needs `type: function`",
                ));
            }
            ToolEntry::Function(InlineFunction {
                key: wire.key,
                function,
            })
        } else if let Some(code) = wire.code {
            if custom != Some(CustomToolType::Code) {
                return Err(ValidationError::new(
                    "code",
                    "inline `code` needs `type: code`",
                ));
            }
            let Some(key) = wire.key else {
                return Err(ValidationError::new(
                    "key",
                    "an inline code tool needs a `key`: it is the name the model calls",
                ));
            };
            ToolEntry::Code(InlineCode {
                key,
                language: wire.language,
                code,
                parameters: wire.parameters,
                timeout: wire.timeout,
            })
        } else if let Some(tool) = builtin {
            ToolEntry::Builtin {
                tool,
                configuration: wire.configuration,
            }
        } else {
            let kind = custom.unwrap_or(CustomToolType::Function);
            let mcp_server = kind == CustomToolType::Mcp && wire.tool_id.is_some();
            if wire.key.is_none() && wire.id.is_none() && !mcp_server {
                return Err(ValidationError::new(
                    "",
                    format!(
                        "a `{}` tool must reference a tool by `key` or `id`, or define it inline",
                        kind.name()
                    ),
                ));
            }
            ToolEntry::Stored(StoredTool {
                kind,
                key: wire.key,
                timeout: wire.timeout,
                tool_id: wire.tool_id,
            })
        };
        Ok(Self {
            id: wire.id,
            requires_approval: wire.requires_approval,
            display_name: wire.display_name,
            description: wire.description,
            tool,
        })
    }
}

/// Every field an entry may have on the wire; unknown ones (`action_type`, …) are ignored.
#[derive(Deserialize)]
struct WireTool {
    #[serde(default)]
    id: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    requires_approval: bool,
    #[serde(default)]
    configuration: Option<Map<String, Value>>,
    #[serde(default)]
    timeout: Option<f64>,
    #[serde(default)]
    tool_id: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    function: Option<FunctionDef>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    parameters: Option<Value>,
}

/// The wire object of an entry, borrowed from it.
#[derive(Serialize, Default)]
struct WireToolOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a str>,
    requires_approval: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    configuration: Option<&'a Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    function: Option<&'a FunctionDef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameters: Option<&'a Value>,
}

impl Serialize for AgentTool {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = WireToolOut {
            id: self.id.as_deref(),
            kind: self.type_name(),
            key: self.key(),
            requires_approval: self.requires_approval,
            display_name: self.display_name.as_deref(),
            description: self.description.as_deref(),
            ..WireToolOut::default()
        };
        match &self.tool {
            ToolEntry::Builtin { configuration, .. } => out.configuration = configuration.as_ref(),
            ToolEntry::Stored(stored) => {
                out.timeout = stored.timeout;
                out.tool_id = stored.tool_id.as_deref();
            }
            ToolEntry::Function(inline) => out.function = Some(&inline.function),
            ToolEntry::Code(inline) => {
                out.language = inline.language.as_deref();
                out.code = Some(&inline.code);
                out.parameters = inline.parameters.as_ref();
                out.timeout = inline.timeout;
            }
        }
        out.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for AgentTool {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireTool::deserialize(deserializer)?;
        Self::from_wire(wire).map_err(|e| serde::de::Error::custom(e.to_serde_message()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Parses an entry and writes it back.
    fn round_trip(wire: Value) -> (AgentTool, Value) {
        let entry: AgentTool = serde_json::from_value(wire).unwrap();
        let back = serde_json::to_value(&entry).unwrap();
        (entry, back)
    }

    #[test]
    fn builtins_round_trip_with_their_configuration() {
        let wire = json!({"type": "current_date", "requires_approval": false});
        let (entry, back) = round_trip(wire.clone());
        assert_eq!(entry.builtin(), Some(BuiltinTool::CurrentDate));
        assert_eq!(back, wire);

        let wire = json!({"id": "01J", "type": "file_system", "requires_approval": true,
            "configuration": {"file_system_key": "docs", "access_mode": "read_only"},
            "display_name": "Files", "description": "The team's files"});
        let (entry, back) = round_trip(wire.clone());
        assert!(
            matches!(entry.tool, ToolEntry::Builtin { tool: BuiltinTool::FileSystem,
            configuration: Some(ref c) } if c["access_mode"] == "read_only")
        );
        assert_eq!(back, wire);
    }

    #[test]
    fn references_round_trip_for_every_custom_type() {
        for kind in CustomToolType::ALL {
            let wire = json!({"type": kind.name(), "key": "weather", "requires_approval": false});
            let (entry, back) = round_trip(wire.clone());
            assert_eq!(entry.stored_reference(), Some("weather"));
            assert_eq!(back, wire, "{}", kind.name());
        }
        let resolved = json!({"id": "01JTOOL", "type": "http", "key": "weather",
            "requires_approval": true, "timeout": 12.5});
        let (entry, back) = round_trip(resolved.clone());
        assert_eq!(entry.stored_reference(), Some("01JTOOL"), "the id wins");
        assert_eq!(back, resolved);

        let one_of_server = json!({"id": "01JMCP", "type": "mcp", "key": "everything",
            "requires_approval": false, "tool_id": "get-sum", "timeout": 30.0});
        assert_eq!(round_trip(one_of_server.clone()).1, one_of_server);

        let server_by_tool_id = json!({"type": "mcp", "tool_id": "01JMCP",
            "requires_approval": false});
        let (entry, back) = round_trip(server_by_tool_id.clone());
        assert_eq!(entry.stored_reference(), Some("01JMCP"));
        assert_eq!(back, server_by_tool_id);
    }

    #[test]
    fn inline_function_and_code_round_trip() {
        let function = json!({"id": "01JF", "type": "function", "key": "get_local_events",
            "requires_approval": false, "display_name": "Events", "description": "Local events",
            "function": {"name": "get_local_events", "description": "Events in a city",
                         "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}});
        let (entry, back) = round_trip(function.clone());
        assert!(
            matches!(&entry.tool, ToolEntry::Function(f) if f.function.name == "get_local_events")
        );
        assert_eq!(back, function);

        let code = json!({"type": "code", "key": "password_generator", "requires_approval": false,
            "description": "Makes passwords", "language": "python", "code": "result = 1",
            "parameters": {"type": "object", "properties": {}}, "timeout": 5.0});
        let (entry, back) = round_trip(code.clone());
        let ToolEntry::Code(inline) = &entry.tool else {
            panic!("not inline code: {entry:?}");
        };
        assert_eq!(inline.definition().language, "python");
        assert_eq!(back, code);

        let no_language = json!({"type": "code", "key": "k", "requires_approval": false,
            "code": "result = 2"});
        assert_eq!(
            round_trip(no_language.clone()).1,
            no_language,
            "no language stays absent"
        );
    }

    #[test]
    fn fields_an_entry_does_not_use_are_ignored_like_unknown_ones() {
        let (_, back) = round_trip(json!({"id": "01J", "type": "current_date",
            "action_type": "current_date", "timeout": 3, "key": "x"}));
        assert_eq!(
            back,
            json!({"id": "01J", "type": "current_date", "requires_approval": false})
        );
    }

    /// The serde error of an entry, as a path-tracking reader sees it.
    fn parse_error(wire: Value) -> (String, String) {
        let err = serde_json::from_value::<AgentTool>(wire)
            .unwrap_err()
            .to_string();
        match ValidationError::from_serde_message(&err) {
            Some(e) => (e.field, e.message),
            None => (String::new(), err),
        }
    }

    #[test]
    fn bad_entries_name_the_field() {
        let cases = [
            (
                json!({"type": "teleport"}),
                "type",
                "unknown tool type `teleport`",
            ),
            (
                json!({"type": "http", "function": {"name": "f"}}),
                "function",
                "needs `type: function`",
            ),
            (
                json!({"type": "current_date", "code": "x"}),
                "code",
                "needs `type: code`",
            ),
            (json!({"type": "code", "code": "x"}), "key", "needs a `key`"),
            (
                json!({"type": "http"}),
                "",
                "must reference a tool by `key` or `id`",
            ),
            (
                json!({"type": "function", "tool_id": "x"}),
                "",
                "must reference a tool",
            ),
        ];
        for (wire, field, message) in cases {
            let (got_field, got_message) = parse_error(wire.clone());
            assert_eq!(got_field, field, "{wire}");
            assert!(got_message.contains(message), "{wire}: {got_message}");
        }
        let (_, message) = parse_error(json!({"key": "k"}));
        assert_eq!(message, "missing field `type`");
    }

    #[test]
    fn validation_names_the_field_of_the_entry() {
        let cases = [
            (
                json!({"type": "function", "function": {"name": ""}}),
                "t.function.name",
            ),
            (
                json!({"type": "code", "key": "bad key", "code": "x"}),
                "t.key",
            ),
            (
                json!({"type": "code", "key": "k", "code": "x", "language": "ruby"}),
                "t.language",
            ),
            (json!({"type": "code", "key": "k", "code": ""}), "t.code"),
            (
                json!({"type": "code", "key": "k", "code": "x", "parameters": []}),
                "t.parameters",
            ),
            (
                json!({"type": "http", "key": "k", "timeout": 0}),
                "t.timeout",
            ),
            (
                json!({"type": "code", "key": "k", "code": "x", "timeout": 601}),
                "t.timeout",
            ),
        ];
        for (wire, field) in cases {
            let entry: AgentTool = serde_json::from_value(wire.clone()).unwrap();
            assert_eq!(entry.validate("t").unwrap_err().field, field, "{wire}");
        }
    }
}
