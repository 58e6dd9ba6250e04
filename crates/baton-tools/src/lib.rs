//! The tool runtime for Baton: HTTP tools, Python code tools and MCP servers, each behind the
//! [`ToolHandler`] trait the engine calls, with an outbound policy guarding network access.
//!
//! Tool specifications (what is stored under `/v2/tools`) live in `baton_core::tool`.

pub mod code;
pub mod http;
pub mod mcp;
pub mod policy;

pub use baton_core::handler::{Runnable, ToolBackend, ToolContext, ToolHandler};
pub use code::{CodeLimits, Isolation, Sandbox, SandboxConfig, SandboxMode};
pub use mcp::{McpPool, McpSettings};
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
            mcp: McpSettings::default(),
        }
    }
}

/// Builds runnable tools from stored definitions. Cheap to share behind an `Arc`.
pub struct ToolRuntime {
    custom: std::collections::HashMap<String, Runnable>,
    config: ToolsConfig,
    policy: Arc<OutboundPolicy>,
    client: reqwest::Client,
    sandbox: Sandbox,
    mcp: Arc<McpPool>,
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
        let mcp = Arc::new(McpPool::new(policy.clone(), config.mcp.clone()));
        Self {
            custom: Default::default(),
            config,
            policy,
            client,
            sandbox,
            mcp,
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

    async fn mcp(
        &self,
        key: &str,
        def: &McpDef,
        only: Option<&str>,
        timeout: Option<f64>,
        ctx: &ToolContext<'_>,
    ) -> Result<Vec<Runnable>, String> {
        let connection = self.mcp.connect(key, def, ctx).await?;
        let timeout = seconds(timeout).unwrap_or(self.config.mcp_timeout);
        if let Some(name) = only {
            if !connection.tools.iter().any(|t| t.name == name) {
                return Err(format!(
                    "the MCP server has no tool `{name}` (it has: {})",
                    connection
                        .tools
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
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
