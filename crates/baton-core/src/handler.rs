//! Server-side tool execution: the trait every tool the engine runs itself implements.
//!
//! Baton's HTTP, code and MCP tools implement it; an embedding service implements it for its own
//! tools. A handler's error is a message for the model, not a failure of the run.

use crate::store::SecretCipher;
use async_trait::async_trait;
use serde_json::{Map, Value};

/// What a tool call sees besides its arguments.
pub struct ToolContext<'a> {
    /// The run's variables; secret ones are sealed (`{"secret": true, "sealed": …}`).
    pub variables: &'a Map<String, Value>,
    /// Opens sealed secrets (variables and secret headers), only at call time.
    pub cipher: &'a dyn SecretCipher,
    /// The trace id and the span id of this call, when it is traced.
    pub trace: Option<(String, String)>,
}

impl ToolContext<'_> {
    /// A variable's plain value, a secret one opened.
    pub fn variable(&self, name: &str) -> Result<Option<Value>, String> {
        match self.variables.get(name) {
            Some(Value::Object(o)) if o.get("secret") == Some(&Value::Bool(true)) => {
                let sealed = o.get("sealed").and_then(Value::as_str).unwrap_or_default();
                self.cipher
                    .open(sealed)
                    .map(|plain| Some(Value::String(plain)))
                    .map_err(|e| format!("variable `{name}`: {e}"))
            }
            Some(other) => Ok(Some(other.clone())),
            None => Ok(None),
        }
    }
}

/// A tool the server runs: takes the model's arguments, returns a JSON result or an error text.
#[async_trait]
pub trait ToolHandler: Send + Sync {
    /// Runs one call. `Err` is shown to the model as the tool's error.
    async fn call(&self, arguments: Value, ctx: &ToolContext<'_>) -> Result<Value, String>;
}
