//! Server-side tool execution: the trait every tool the engine runs itself implements.
//!
//! Baton's HTTP, code and MCP tools implement it; an embedding service implements it for its own
//! tools, either typed ([`Tool`]) or on JSON values ([`ToolHandler`]). A handler's error is a
//! message for the model, not a failure of the run.

mod error;
mod typed;

pub use error::{BoxError, ToolError};
pub use typed::{definition_of, parameters_of, Tool, TypedHandler};

use crate::agent::A2aAgentDef;
use crate::model::ToolDefinition;
use crate::store::SecretCipher;
use crate::tool::{CodeDef, HttpDef, McpDef};
use async_trait::async_trait;
use serde_json::{Map, Value};
use std::sync::Arc;

/// What a tool call sees besides its arguments.
pub struct ToolContext<'a> {
    /// The run's variables; secret ones are sealed (`{"secret": true, "sealed": …}`).
    pub variables: &'a Map<String, Value>,
    /// Opens sealed secrets (variables and secret headers), only at call time.
    pub cipher: &'a dyn SecretCipher,
    /// The trace id and the span id of this call, when it is traced.
    pub trace: Option<(String, String)>,
    /// The same for every attempt of one call (task id and call id): a tool that can tell a
    /// repeated request sends it on (`Idempotency-Key`, MCP `_meta`).
    pub idempotency_key: Option<String>,
}

impl ToolContext<'_> {
    /// A variable's plain value, a secret one opened.
    pub fn variable(&self, name: &str) -> Result<Option<Value>, ToolError> {
        match self.variables.get(name) {
            Some(Value::Object(o)) if o.get("secret") == Some(&Value::Bool(true)) => {
                let sealed = o.get("sealed").and_then(Value::as_str).unwrap_or_default();
                self.cipher
                    .open(sealed)
                    .map(|plain| Some(Value::String(plain)))
                    .map_err(|e| ToolError::Secret {
                        what: format!("variable `{name}`"),
                        source: Box::new(e),
                    })
            }
            Some(other) => Ok(Some(other.clone())),
            None => Ok(None),
        }
    }
}

/// A tool the server runs: takes the model's arguments, returns a JSON result or an error.
#[async_trait]
pub trait ToolHandler: Send + Sync {
    /// Runs one call. `Err` is shown to the model as the tool's error.
    async fn call(&self, arguments: Value, ctx: &ToolContext<'_>) -> Result<Value, ToolError>;
}

/// A runnable tool and what the model is told about it.
#[derive(Clone)]
pub struct Runnable {
    /// Name, description and parameters as the model sees them.
    pub definition: ToolDefinition,
    /// What runs a call.
    pub handler: Arc<dyn ToolHandler>,
}

/// Makes tool definitions runnable: the HTTP, code and MCP tools of `baton-tools`, and the
/// embedding program's own tools. The engine resolves every server-side tool through it.
#[async_trait]
pub trait ToolBackend: Send + Sync {
    /// The embedding program's in-process tool of this name, if it registered one.
    fn custom(&self, name: &str) -> Option<Runnable>;

    /// An HTTP tool; `timeout` (seconds, from the agent's tool entry) overrides the blueprint's.
    fn http(&self, name: &str, description: &str, def: &HttpDef, timeout: Option<f64>) -> Runnable;

    /// A code tool.
    fn code(&self, name: &str, description: &str, def: &CodeDef, timeout: Option<f64>) -> Runnable;

    /// The tools of an MCP server (`only` picks one by name). `key` identifies the stored
    /// server and its version, for pooling. `Err` says why the server cannot be used.
    async fn mcp(
        &self,
        key: &str,
        def: &McpDef,
        only: Option<&str>,
        timeout: Option<f64>,
        ctx: &ToolContext<'_>,
    ) -> Result<Vec<Runnable>, ToolError>;

    /// A remote A2A agent of a team: its handler takes `{"message": <text>}` and answers with
    /// the remote task's outcome (`answer`, `remote_task_id`, …). `key` is the team member's.
    /// A backend without an A2A client answers every call that it has none.
    fn a2a(&self, key: &str, def: &A2aAgentDef) -> Arc<dyn ToolHandler> {
        let _ = (key, def);
        Arc::new(Unavailable(
            "remote A2A agents are not set up on this server: its tool runtime has no A2A client",
        ))
    }
}

/// A tool whose every call answers that it is not available here, and why.
pub struct Unavailable(pub &'static str);

#[async_trait]
impl ToolHandler for Unavailable {
    async fn call(&self, _arguments: Value, _ctx: &ToolContext<'_>) -> Result<Value, ToolError> {
        Err(ToolError::Unavailable(self.0.into()))
    }
}
