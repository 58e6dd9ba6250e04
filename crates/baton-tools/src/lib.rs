//! The tool runtime for Baton: HTTP tools, Python code tools and MCP servers, each behind the
//! [`ToolHandler`] trait the engine calls, with an outbound policy guarding network access.
//!
//! Tool specifications (what is stored under `/v2/tools`) live in `baton_core::tool`.
//!
//! Features (all on by default): `code`, the sandboxed Python code tools, `mcp`, MCP servers
//! as tools, and `a2a`, remote A2A agents as team members. A build without one answers every
//! call of that kind with a [`ToolError::Unavailable`] that names what is missing.

#[cfg(feature = "a2a")]
pub mod a2a;
pub mod code;
pub mod http;
#[cfg(feature = "mcp")]
pub mod mcp;
pub mod policy;

pub use baton_core::handler::{Runnable, ToolBackend, ToolContext, ToolError, ToolHandler};
pub use code::{CodeLimits, Isolation, Sandbox, SandboxConfig, SandboxMode};
#[cfg(feature = "mcp")]
pub use mcp::McpPool;
pub use policy::OutboundPolicy;

use baton_core::model::ToolDefinition;
use baton_core::tool::{CodeDef, HttpDef, McpDef};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Settings of the tool runtime.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolsConfig {
    /// Which network targets tools may reach.
    pub policy: OutboundPolicy,
    /// Default timeout of an HTTP tool call.
    pub http_timeout: Duration,
    /// Largest HTTP tool response kept, in bytes.
    pub max_response_bytes: usize,
    /// Default timeout of an MCP tool call.
    pub mcp_timeout: Duration,
    /// Default time a call of a remote A2A agent may take, waiting for its task included.
    pub a2a_timeout: Duration,
    /// MCP connection settings.
    pub mcp: McpSettings,
}

impl Default for ToolsConfig {
    fn default() -> Self {
        Self {
            policy: OutboundPolicy::default(),
            http_timeout: Duration::from_secs(60),
            max_response_bytes: 1024 * 1024,
            mcp_timeout: Duration::from_secs(60),
            a2a_timeout: Duration::from_secs(120),
            mcp: McpSettings::default(),
        }
    }
}

/// Who may start which stdio MCP servers, and how long connecting may take.
#[derive(Debug, Clone, PartialEq)]
pub struct McpSettings {
    /// Programs stdio MCP servers may run (`*` allows any). Empty: stdio servers are refused,
    /// because a stdio server is a command run on this machine.
    pub stdio_commands: Vec<String>,
    /// The environment stdio servers get (nothing else of the server's is passed on).
    pub stdio_env: Vec<(String, String)>,
    /// Time to connect and list tools.
    pub connect_timeout: Duration,
}

impl Default for McpSettings {
    fn default() -> Self {
        Self {
            stdio_commands: Vec::new(),
            stdio_env: vec![("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into())],
            connect_timeout: Duration::from_secs(30),
        }
    }
}

/// What an MCP tool answers in a build without the `mcp` feature.
#[cfg(not(feature = "mcp"))]
const MCP_NOT_BUILT: &str =
    "MCP tools are not set up on this server: it was built without the `mcp` feature";

/// Builds runnable tools from stored definitions. Cheap to share behind an `Arc`.
pub struct ToolRuntime {
    custom: std::collections::HashMap<String, Runnable>,
    config: ToolsConfig,
    policy: Arc<OutboundPolicy>,
    client: reqwest::Client,
    sandbox: Sandbox,
    #[cfg(feature = "mcp")]
    mcp: Arc<McpPool>,
    #[cfg(feature = "a2a")]
    a2a: Arc<a2a::A2aClient>,
}

fn seconds(timeout: Option<f64>) -> Option<Duration> {
    timeout
        .filter(|t| *t > 0.0)
        .map(|t| Duration::from_secs_f64(t.min(600.0)))
}

impl ToolRuntime {
    /// A runtime with these settings and this code sandbox.
    pub fn new(config: ToolsConfig, sandbox: Sandbox) -> Self {
        // Another part of the process may have installed one already; either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let policy = Arc::new(config.policy.clone());
        let client = http::client(policy.clone());
        Self {
            custom: Default::default(),
            #[cfg(feature = "mcp")]
            mcp: Arc::new(McpPool::new(policy.clone(), config.mcp.clone())),
            #[cfg(feature = "a2a")]
            a2a: Arc::new(a2a::A2aClient::new(
                client.clone(),
                policy.clone(),
                config.a2a_timeout,
                config.max_response_bytes,
            )),
            config,
            policy,
            client,
            sandbox,
        }
    }

    /// Adds a tool of the embedding program: agents that list a `function` tool of this name
    /// (inline, or as `{"type": "function", "key": <name>}`) get it run in-process by `handler`
    /// instead of pausing for the client.
    pub fn with_tool(mut self, definition: ToolDefinition, handler: Arc<dyn ToolHandler>) -> Self {
        self.custom.insert(
            definition.name.clone(),
            Runnable {
                definition,
                handler,
            },
        );
        self
    }

    /// The code sandbox.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }
}

#[async_trait::async_trait]
impl ToolBackend for ToolRuntime {
    fn custom(&self, name: &str) -> Option<Runnable> {
        self.custom.get(name).cloned()
    }

    fn http(&self, name: &str, description: &str, def: &HttpDef, timeout: Option<f64>) -> Runnable {
        let timeout = seconds(timeout)
            .or_else(|| seconds(def.blueprint.timeout))
            .unwrap_or(self.config.http_timeout);
        Runnable {
            definition: ToolDefinition {
                name: name.to_owned(),
                description: description.to_owned(),
                parameters: http::parameters(def),
            },
            handler: Arc::new(http::HttpTool::new(
                def.clone(),
                self.client.clone(),
                self.policy.clone(),
                timeout,
                self.config.max_response_bytes,
            )),
        }
    }

    fn code(&self, name: &str, description: &str, def: &CodeDef, timeout: Option<f64>) -> Runnable {
        let parameters = match &def.parameters {
            Some(p) if p.is_object() => p.clone(),
            _ => json!({"type": "object", "properties": {}}),
        };
        Runnable {
            definition: ToolDefinition {
                name: name.to_owned(),
                description: description.to_owned(),
                parameters,
            },
            handler: Arc::new(code::CodeTool::new(
                def.code.clone(),
                self.sandbox.clone(),
                seconds(timeout),
            )),
        }
    }

    #[cfg(feature = "a2a")]
    fn a2a(&self, key: &str, def: &baton_core::agent::A2aAgentDef) -> Arc<dyn ToolHandler> {
        self.a2a.agent(key, def)
    }

    #[cfg(not(feature = "mcp"))]
    async fn mcp(
        &self,
        _key: &str,
        _def: &McpDef,
        _only: Option<&str>,
        _timeout: Option<f64>,
        _ctx: &ToolContext<'_>,
    ) -> Result<Vec<Runnable>, ToolError> {
        Err(ToolError::Unavailable(MCP_NOT_BUILT.into()))
    }

    #[cfg(feature = "mcp")]
    async fn mcp(
        &self,
        key: &str,
        def: &McpDef,
        only: Option<&str>,
        timeout: Option<f64>,
        ctx: &ToolContext<'_>,
    ) -> Result<Vec<Runnable>, ToolError> {
        let connection = self.mcp.connect(key, def, ctx).await?;
        let timeout = seconds(timeout).unwrap_or(self.config.mcp_timeout);
        if let Some(name) = only {
            if !connection.tools.iter().any(|t| t.name == name) {
                return Err(ToolError::Unavailable(format!(
                    "the MCP server has no tool `{name}` (it has: {})",
                    connection
                        .tools
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        Ok(connection
            .tools
            .iter()
            .filter(|t| only.is_none_or(|name| t.name == name))
            .map(|t| Runnable {
                definition: mcp::definition(t),
                handler: Arc::new(mcp::McpTool::new(
                    self.mcp.clone(),
                    key.to_owned(),
                    connection.clone(),
                    t.name.clone(),
                    timeout,
                )),
            })
            .collect())
    }
}

/// Builds without a tool kind's feature: its tools answer that they are not set up.
#[cfg(all(test, not(all(feature = "code", feature = "mcp"))))]
mod feature_tests {
    use super::*;
    use baton_core::store::{SecretCipher, SecretError};
    use serde_json::Map;

    struct NoSecrets;

    impl SecretCipher for NoSecrets {
        fn seal(&self, _: &str) -> String {
            String::new()
        }
        fn open(&self, _: &str) -> Result<String, SecretError> {
            Err(SecretError("none".into()))
        }
        fn seal_bound(&self, _: &str, _: &str) -> String {
            String::new()
        }
        fn open_bound(&self, _: &str, _: &str) -> Result<String, SecretError> {
            Err(SecretError("none".into()))
        }
    }

    fn not_built(error: ToolError, feature: &str) {
        assert!(matches!(error, ToolError::Unavailable(_)), "{error:?}");
        let text = error.to_string();
        assert!(
            text.contains(&format!("built without the `{feature}` feature")),
            "{text}"
        );
    }

    #[cfg(not(feature = "mcp"))]
    #[tokio::test]
    async fn mcp_tools_say_the_build_has_no_mcp() {
        let runtime = ToolRuntime::new(ToolsConfig::default(), Sandbox::disabled());
        let def: McpDef = serde_json::from_value(json!({
            "server_url": "https://mcp.example.com/mcp", "connection_type": "http"
        }))
        .unwrap();
        let variables = Map::new();
        let ctx = ToolContext {
            variables: &variables,
            cipher: &NoSecrets,
            trace: None,
            idempotency_key: None,
        };
        let error = runtime
            .mcp("k", &def, None, None, &ctx)
            .await
            .err()
            .unwrap();
        not_built(error, "mcp");
    }

    #[cfg(not(feature = "code"))]
    #[tokio::test]
    async fn code_tools_say_the_build_has_no_code() {
        let sandbox = Sandbox::detect(SandboxConfig::default()).await;
        assert_eq!(sandbox.isolation(), Isolation::Unavailable);
        let runtime = ToolRuntime::new(ToolsConfig::default(), sandbox);
        let def: CodeDef =
            serde_json::from_value(json!({"language": "python", "code": "result = 1"})).unwrap();
        let tool = runtime.code("add", "adds", &def, None);
        let variables = Map::new();
        let ctx = ToolContext {
            variables: &variables,
            cipher: &NoSecrets,
            trace: None,
            idempotency_key: None,
        };
        let error = tool.handler.call(json!({}), &ctx).await.unwrap_err();
        not_built(error, "code");
    }
}
