//! Tool specifications: the stored tools of `/v2/tools` and the built-in tool names.

use crate::error::ValidationError;
use crate::secret::{self, Sealed, SecretValue, MASK};
use crate::store::SecretCipher;
use crate::tenant::ProjectId;
use crate::validate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Built-in tools: only their `type` is needed to attach them to an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BuiltinTool {
    /// Returns the current date and time.
    CurrentDate,
    /// Searches the web.
    GoogleSearch,
    /// Fetches a web page.
    WebScraper,
    /// Delegates tasks to specialized sub-agents.
    CallSubAgent,
    /// Retrieves available agents.
    RetrieveAgents,
    /// Queries agent memory stores for context.
    QueryMemoryStore,
    /// Writes information to agent memory stores.
    WriteMemoryStore,
    /// Lists available memory stores.
    RetrieveMemoryStores,
    /// Deletes documents from memory stores.
    DeleteMemoryDocument,
    /// Lists available knowledge bases.
    RetrieveKnowledgeBases,
    /// Queries knowledge bases for information.
    QueryKnowledgeBase,
    /// Asks an advisor model.
    Advisor,
    /// A helper agent.
    Sidekick,
    /// Runs code.
    CodeInterpreter,
    /// Reads and writes a file system.
    FileSystem,
}

impl BuiltinTool {
    /// Every built-in tool.
    pub const ALL: [BuiltinTool; 15] = [
        Self::CurrentDate,
        Self::GoogleSearch,
        Self::WebScraper,
        Self::CallSubAgent,
        Self::RetrieveAgents,
        Self::QueryMemoryStore,
        Self::WriteMemoryStore,
        Self::RetrieveMemoryStores,
        Self::DeleteMemoryDocument,
        Self::RetrieveKnowledgeBases,
        Self::QueryKnowledgeBase,
        Self::Advisor,
        Self::Sidekick,
        Self::CodeInterpreter,
        Self::FileSystem,
    ];

    /// The wire name (`current_date`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::CurrentDate => "current_date",
            Self::GoogleSearch => "google_search",
            Self::WebScraper => "web_scraper",
            Self::CallSubAgent => "call_sub_agent",
            Self::RetrieveAgents => "retrieve_agents",
            Self::QueryMemoryStore => "query_memory_store",
            Self::WriteMemoryStore => "write_memory_store",
            Self::RetrieveMemoryStores => "retrieve_memory_stores",
            Self::DeleteMemoryDocument => "delete_memory_document",
            Self::RetrieveKnowledgeBases => "retrieve_knowledge_bases",
            Self::QueryKnowledgeBase => "query_knowledge_base",
            Self::Advisor => "advisor",
            Self::Sidekick => "sidekick",
            Self::CodeInterpreter => "code_interpreter",
            Self::FileSystem => "file_system",
        }
    }

    /// Whether running a call twice does no harm: the built-ins that only read.
    pub fn is_idempotent(self) -> bool {
        matches!(
            self,
            Self::CurrentDate
                | Self::GoogleSearch
                | Self::WebScraper
                | Self::RetrieveAgents
                | Self::QueryMemoryStore
                | Self::RetrieveMemoryStores
                | Self::RetrieveKnowledgeBases
                | Self::QueryKnowledgeBase
        )
    }

    /// The built-in tool with this wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// A function the model may call: name, description and JSON-schema parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FunctionDef {
    /// Function name the model sees.
    pub name: String,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Strict schema adherence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    /// JSON schema of the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
}

/// A JSON-schema tool: the model answers with data matching the schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JsonSchemaDef {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// The schema.
    pub schema: Value,
    /// Strict schema adherence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// HTTP methods an HTTP tool may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum HttpMethod {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// DELETE.
    Delete,
}

/// A header value: plain, or a secret kept encrypted at rest.
///
/// On the wire: `"v"`, `{"value": "v", "encrypted": false}`, or `{"value": "v", "encrypted":
/// true}` for a secret; stored secrets read `{"value": {"sealed", "origin"}, "encrypted": true}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawHeader", into = "RawHeader")]
pub enum HeaderValue {
    /// A plain value, written as a string.
    Plain(String),
    /// A plain value, written as an object with `encrypted: false`.
    Unencrypted(String),
    /// A secret.
    Secret(SecretValue),
}

impl HeaderValue {
    /// Whether this header is a secret.
    pub fn is_secret(&self) -> bool {
        matches!(self, Self::Secret(_))
    }

    /// The header as every answer shows it: a secret's value replaced by [`MASK`].
    pub fn masked(&self) -> Self {
        match self {
            Self::Secret(_) => Self::Secret(SecretValue::Plain(MASK.to_owned())),
            other => other.clone(),
        }
    }
}

/// The serialized forms of a header value.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum RawHeader {
    Text(String),
    Object {
        value: RawValue,
        #[serde(default)]
        encrypted: bool,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum RawValue {
    Text(String),
    Sealed(Sealed),
}

impl TryFrom<RawHeader> for HeaderValue {
    type Error = String;

    fn try_from(raw: RawHeader) -> Result<Self, String> {
        Ok(match raw {
            RawHeader::Text(text) => Self::Plain(text),
            RawHeader::Object {
                value: RawValue::Text(text),
                encrypted: false,
            } => Self::Unencrypted(text),
            RawHeader::Object {
                value: RawValue::Text(text),
                encrypted: true,
            } => Self::Secret(SecretValue::Plain(text)),
            RawHeader::Object {
                value: RawValue::Sealed(sealed),
                encrypted: true,
            } => Self::Secret(SecretValue::Sealed(sealed)),
            RawHeader::Object {
                value: RawValue::Sealed(_),
                encrypted: false,
            } => return Err("a sealed header value must be `encrypted`".into()),
        })
    }
}

impl From<HeaderValue> for RawHeader {
    fn from(value: HeaderValue) -> Self {
        match value {
            HeaderValue::Plain(text) => Self::Text(text),
            HeaderValue::Unencrypted(text) => Self::Object {
                value: RawValue::Text(text),
                encrypted: false,
            },
            HeaderValue::Secret(SecretValue::Plain(text)) => Self::Object {
                value: RawValue::Text(text),
                encrypted: true,
            },
            HeaderValue::Secret(SecretValue::Sealed(sealed)) => Self::Object {
                value: RawValue::Sealed(sealed),
                encrypted: true,
            },
        }
    }
}

/// The request an HTTP tool makes, with `{{argument}}` placeholders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HttpBlueprint {
    /// URL with placeholders.
    pub url: String,
    /// Method.
    pub method: HttpMethod,
    /// Headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, HeaderValue>,
    /// JSON body with placeholders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Map<String, Value>>,
    /// Timeout in seconds (default 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
}

/// Types an HTTP tool argument may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ArgumentType {
    /// A string.
    String,
    /// A number.
    Number,
    /// A boolean.
    Boolean,
}

/// An argument of an HTTP tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HttpArgument {
    /// Its type.
    #[serde(rename = "type")]
    pub kind: ArgumentType,
    /// What it means, shown to the model.
    pub description: String,
    /// Whether the model fills it (else the request's variables or the default do).
    #[serde(default = "default_true")]
    pub send_to_model: bool,
    /// Value used when nobody gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<Value>,
}

fn default_true() -> bool {
    true
}

/// An HTTP tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HttpDef {
    /// The request template.
    pub blueprint: HttpBlueprint,
    /// Arguments filling the placeholders.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub arguments: BTreeMap<String, HttpArgument>,
}

/// A Python code tool: the code reads `params` and sets `result`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodeDef {
    /// Only `python`.
    pub language: String,
    /// The code.
    pub code: String,
    /// JSON schema of `params`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
}

/// How an MCP server is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum McpConnection {
    /// Streamable HTTP.
    Http,
    /// Server-sent events.
    Sse,
    /// A child process speaking over stdin/stdout.
    Stdio,
}

/// An MCP server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct McpDef {
    /// URL for http/sse connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_url: Option<String>,
    /// Connection type.
    pub connection_type: McpConnection,
    /// Command and arguments for stdio connections.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Headers sent to the server.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, HeaderValue>,
}

/// The kind-specific part of a stored tool, tagged by `type` as on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ToolKind {
    /// Client-side function.
    Function {
        /// Its definition.
        function: FunctionDef,
    },
    /// JSON-schema tool.
    JsonSchema {
        /// Its definition.
        json_schema: JsonSchemaDef,
    },
    /// HTTP tool.
    Http {
        /// Its definition.
        http: HttpDef,
    },
    /// Python code tool.
    Code {
        /// Its definition.
        code_tool: CodeDef,
    },
    /// MCP server.
    Mcp {
        /// Its definition.
        mcp: McpDef,
    },
    /// A remote agent over A2A, called with a message like a sub-agent.
    A2a {
        /// Its card, headers and timeout.
        a2a: crate::agent::A2aAgentDef,
    },
}

impl ToolKind {
    /// The wire `type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Function { .. } => "function",
            Self::JsonSchema { .. } => "json_schema",
            Self::Http { .. } => "http",
            Self::Code { .. } => "code",
            Self::Mcp { .. } => "mcp",
            Self::A2a { .. } => "a2a",
        }
    }

    /// Whether the server runs the tool's calls (HTTP, code, MCP, A2A) rather than the client.
    pub fn runs_on_server(&self) -> bool {
        matches!(
            self,
            Self::Http { .. } | Self::Code { .. } | Self::Mcp { .. } | Self::A2a { .. }
        )
    }

    /// The headers of an HTTP, MCP or A2A tool.
    pub fn headers(&self) -> Option<&BTreeMap<String, HeaderValue>> {
        match self {
            Self::Http { http } => Some(&http.blueprint.headers),
            Self::Mcp { mcp } => Some(&mcp.headers),
            Self::A2a { a2a } => Some(&a2a.headers),
            _ => None,
        }
    }

    /// Mutable access to every header value that may hold a secret.
    pub fn headers_mut(&mut self) -> Option<&mut BTreeMap<String, HeaderValue>> {
        match self {
            Self::Http { http } => Some(&mut http.blueprint.headers),
            Self::Mcp { mcp } => Some(&mut mcp.headers),
            Self::A2a { a2a } => Some(&mut a2a.headers),
            _ => None,
        }
    }
}

/// Publication status of a tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ToolStatus {
    /// Usable.
    #[default]
    Live,
    /// Draft.
    Draft,
    /// Pending.
    Pending,
    /// Published.
    Published,
}

/// What a client sends to create or (after merging) update a tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ToolSpec {
    /// Unique key within the project.
    pub key: String,
    /// Folder path.
    pub path: String,
    /// What the tool does.
    pub description: String,
    /// Human-friendly name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Status.
    #[serde(default)]
    pub status: ToolStatus,
    /// Whether calls need approval.
    #[serde(default)]
    pub requires_approval: bool,
    /// Whether a call may run again after a server stopped while it ran (default: no, an
    /// HTTP, code or MCP call may have side effects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent: Option<bool>,
    /// Kind-specific definition.
    #[serde(flatten)]
    pub kind: ToolKind,
}

impl ToolSpec {
    /// Whether a call may run again after a server stopped while it ran: as set, else no.
    pub fn is_idempotent(&self) -> bool {
        self.idempotent.unwrap_or(false)
    }

    /// Checks every field, naming the first that is wrong.
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate::tool_key("key", &self.key)?;
        validate::folder_path("path", &self.path)?;
        match &self.kind {
            ToolKind::Function { function } => {
                validate::non_empty("function.name", &function.name)?;
                if let Some(params) = &function.parameters {
                    schema_object("function.parameters", params)?;
                }
            }
            ToolKind::JsonSchema { json_schema } => {
                validate::non_empty("json_schema.name", &json_schema.name)?;
                schema_object("json_schema.schema", &json_schema.schema)?;
            }
            ToolKind::Http { http } => {
                let url = &http.blueprint.url;
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(ValidationError::new(
                        "http.blueprint.url",
                        "must be an http:// or https:// URL",
                    ));
                }
                let mut texts = vec![url.clone()];
                texts.extend(http.blueprint.headers.values().filter_map(|h| match h {
                    HeaderValue::Plain(v) | HeaderValue::Unencrypted(v) => Some(v.clone()),
                    HeaderValue::Secret(_) => None,
                }));
                if let Some(body) = &http.blueprint.body {
                    texts.push(Value::Object(body.clone()).to_string());
                }
                for text in &texts {
                    for name in placeholders(text) {
                        if !http.arguments.contains_key(name) {
                            return Err(ValidationError::new(
                                "http.arguments",
                                format!(
                                    "placeholder `{{{{{name}}}}}` has no argument of that name"
                                ),
                            ));
                        }
                    }
                }
                if let Some(t) = http.blueprint.timeout {
                    if !(t > 0.0 && t <= 600.0) {
                        return Err(ValidationError::new(
                            "http.blueprint.timeout",
                            "must be between 0 and 600 seconds",
                        ));
                    }
                }
            }
            ToolKind::Code { code_tool } => {
                if code_tool.language != "python" {
                    return Err(ValidationError::new(
                        "code_tool.language",
                        format!(
                            "unsupported language `{}` (only `python`)",
                            code_tool.language
                        ),
                    ));
                }
                validate::non_empty("code_tool.code", &code_tool.code)?;
                if let Some(params) = &code_tool.parameters {
                    schema_object("code_tool.parameters", params)?;
                }
            }
            ToolKind::Mcp { mcp } => match mcp.connection_type {
                McpConnection::Stdio if mcp.command.is_empty() => {
                    return Err(ValidationError::new(
                        "mcp.command",
                        "a stdio MCP server needs a command",
                    ))
                }
                McpConnection::Http | McpConnection::Sse if mcp.server_url.is_none() => {
                    return Err(ValidationError::new(
                        "mcp.server_url",
                        "an http or sse MCP server needs a server_url",
                    ))
                }
                _ => {}
            },
            ToolKind::A2a { a2a } => a2a.validate("a2a")?,
        }
        Ok(())
    }
}

impl ToolSpec {
    /// Where the tool's secret headers are sent, and the field that decides it: the origin of an
    /// HTTP tool's URL or an MCP server's URL, or a stdio server's command line. `None` for the
    /// origin when the URL's host or port is a placeholder.
    fn secret_destination(&self) -> Option<(&'static str, &'static str, Option<String>)> {
        match &self.kind {
            ToolKind::Http { http } => Some((
                "http.blueprint.headers",
                "http.blueprint.url",
                secret::template_origin(&http.blueprint.url),
            )),
            ToolKind::Mcp { mcp } => Some(match mcp.connection_type {
                McpConnection::Stdio => (
                    "mcp.headers",
                    "mcp.command",
                    Some(secret::stdio_origin(&mcp.command)),
                ),
                McpConnection::Http | McpConnection::Sse => (
                    "mcp.headers",
                    "mcp.server_url",
                    mcp.server_url.as_deref().and_then(secret::template_origin),
                ),
            }),
            ToolKind::A2a { a2a } => Some(("a2a.headers", "a2a.card_url", a2a.origin())),
            _ => None,
        }
    }

    /// Seals every secret header for the tool's origin before it is stored. A header sent as
    /// [`MASK`] keeps `previous`'s sealed value, only while the origin stays the same: moving
    /// the tool elsewhere needs its secrets again.
    pub fn seal_secrets(
        &mut self,
        cipher: &dyn SecretCipher,
        previous: Option<&ToolSpec>,
    ) -> Result<(), ValidationError> {
        let Some((headers_field, url_field, origin)) = self.secret_destination() else {
            return Ok(());
        };
        let old = previous.and_then(|p| p.kind.headers());
        let Some(headers) = self.kind.headers_mut() else {
            return Ok(());
        };
        seal_headers(
            headers,
            old,
            cipher,
            headers_field,
            url_field,
            origin.as_deref(),
        )
    }

    /// The tool as answers show it: secret values masked.
    pub fn masked(&self) -> ToolSpec {
        let mut spec = self.clone();
        if let Some(headers) = spec.kind.headers_mut() {
            for header in headers.values_mut() {
                *header = header.masked();
            }
        }
        spec
    }

    /// Whether a secret header is not sealed (such a tool must not be stored).
    pub fn has_unsealed_secrets(&self) -> bool {
        self.kind.headers().is_some_and(|h| {
            h.values()
                .any(|v| matches!(v, HeaderValue::Secret(SecretValue::Plain(_))))
        })
    }

    /// Reads secrets stored before they were typed: a bare `enc:v1:` ciphertext becomes a
    /// sealed value bound to the tool's current origin (what it was entered for).
    pub fn adopt_legacy_secrets(&mut self) {
        let origin = self
            .secret_destination()
            .map(|(_, _, origin)| origin.unwrap_or_default());
        let (Some(origin), Some(headers)) = (origin, self.kind.headers_mut()) else {
            return;
        };
        for header in headers.values_mut() {
            if let HeaderValue::Secret(SecretValue::Plain(text)) = header {
                if crate::store::is_sealed(text) {
                    *header = HeaderValue::Secret(SecretValue::Sealed(Sealed {
                        sealed: std::mem::take(text),
                        origin: origin.clone(),
                    }));
                }
            }
        }
    }
}

/// Seals every secret header for `origin` before it is stored. A header sent as [`MASK`]
/// keeps `old`'s sealed value, only while the origin stays the same: moving the destination
/// elsewhere needs its secrets again. Errors name `headers_field.<name>` or `url_field`.
pub fn seal_headers(
    headers: &mut BTreeMap<String, HeaderValue>,
    old: Option<&BTreeMap<String, HeaderValue>>,
    cipher: &dyn SecretCipher,
    headers_field: &str,
    url_field: &str,
    origin: Option<&str>,
) -> Result<(), ValidationError> {
    for (name, header) in headers.iter_mut() {
        let HeaderValue::Secret(value) = header else {
            continue;
        };
        let field = format!("{headers_field}.{name}");
        let stored = match old.and_then(|h| h.get(name)) {
            Some(HeaderValue::Secret(SecretValue::Sealed(s))) => Some(s),
            _ => None,
        };
        let kept = match value {
            SecretValue::Plain(plain) if plain == MASK => stored.ok_or_else(|| {
                ValidationError::new(
                    &field,
                    format!("`{MASK}` stands for a stored secret and this header has none: send its value"),
                )
            })?,
            SecretValue::Plain(_) => {
                let origin = origin.ok_or_else(|| {
                    ValidationError::new(
                        url_field,
                        "a destination with encrypted headers needs a fixed scheme, host and port (no placeholder there)",
                    )
                })?;
                *value = SecretValue::Sealed(value.clone().sealed_for(cipher, origin));
                continue;
            }
            // Only a value this tool already holds may come back sealed (a PATCH merges the
            // stored definition); a client cannot hand in ciphertext of its own.
            SecretValue::Sealed(sealed) => match stored {
                Some(stored) if stored == sealed => stored,
                _ => return Err(ValidationError::new(&field, "must be a string")),
            },
        };
        if origin != Some(kept.origin.as_str()) {
            return Err(ValidationError::new(
                field,
                format!(
                    "its stored secret was entered for {} and the destination now is elsewhere: send the value again",
                    kept.origin
                ),
            ));
        }
        *value = SecretValue::Sealed(kept.clone());
    }
    Ok(())
}

/// Headers as answers show them: secret values masked.
pub fn masked_headers(headers: &BTreeMap<String, HeaderValue>) -> BTreeMap<String, HeaderValue> {
    headers
        .iter()
        .map(|(name, value)| (name.clone(), value.masked()))
        .collect()
}

fn schema_object(field: &str, schema: &Value) -> Result<(), ValidationError> {
    let Some(obj) = schema.as_object() else {
        return Err(ValidationError::new(field, "must be a JSON schema object"));
    };
    if obj.contains_key("properties") && !obj.contains_key("required") {
        return Err(ValidationError::new(
            format!("{field}.required"),
            "is required when `properties` is present (send [] for none)",
        ));
    }
    Ok(())
}

pub use crate::template::placeholders;

/// A stored tool.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolRecord {
    /// ULID.
    pub id: String,
    /// Owning project.
    pub project_id: ProjectId,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Last update (RFC 3339).
    pub updated: String,
    /// The tool, with secret header values sealed.
    pub spec: ToolSpec,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn http_tool_round_trips_and_checks_placeholders() {
        let v = json!({"path":"Default","key":"http_tool","description":"d","type":"http",
            "http":{"blueprint":{"url":"https://api.example.com/{{city}}","method":"GET",
              "headers":{"Authorization":{"value":"Bearer X","encrypted":true},"X-Plain":"v"}},
            "arguments":{"city":{"type":"string","description":"City"}}},"status":"live"});
        let spec: ToolSpec = serde_json::from_value(v).unwrap();
        spec.validate().unwrap();
        let back = serde_json::to_value(&spec).unwrap();
        assert_eq!(back["type"], "http");
        assert_eq!(back["http"]["arguments"]["city"]["send_to_model"], true);

        let mut broken = spec.clone();
        if let ToolKind::Http { http } = &mut broken.kind {
            http.blueprint.url = "https://x/{{town}}".into();
        }
        assert_eq!(broken.validate().unwrap_err().field, "http.arguments");
    }

    #[test]
    fn unknown_types_do_not_parse() {
        let v = json!({"path":"p","key":"k","description":"d","type":"teleport"});
        assert!(serde_json::from_value::<ToolSpec>(v).is_err());
    }

    #[test]
    fn placeholder_names() {
        let names: Vec<_> = placeholders("a {{x}} b {{ y }} c {{z").collect();
        assert_eq!(names, vec!["x", "y"]);
    }
}
