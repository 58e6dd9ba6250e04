//! The wire form of an entry: one flat object tagged by `type`, read into the entry it
//! describes and written back from it.

use super::{AgentTool, CustomToolType, InlineCode, InlineFunction, StoredTool, ToolEntry};
use crate::error::ValidationError;
use crate::tool::{BuiltinTool, FunctionDef};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

impl AgentTool {
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = AgentTool))]
struct WireTool {
    /// The entry's id (a stored tool's `_id` for references); assigned by the server.
    #[serde(default)]
    id: Option<String>,
    /// A built-in tool's name (`current_date`, `query_knowledge_base`, …) or a custom tool
    /// type (`function`, `http`, `code`, `json_schema`, `mcp`).
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

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for AgentTool {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <WireTool as utoipa::PartialSchema>::schema()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for AgentTool {
    fn name() -> std::borrow::Cow<'static, str> {
        "AgentTool".into()
    }

    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        <WireTool as utoipa::ToSchema>::schemas(schemas);
    }
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
