//! What the builder puts where an embedder gives nothing: no cipher, no tool backend.

use crate::toolset::Unavailable;
use async_trait::async_trait;
use baton_core::handler::{Runnable, ToolBackend, ToolContext, ToolError};
use baton_core::model::ToolDefinition;
use baton_core::store::{SecretCipher, SecretError};
use baton_core::tool::{CodeDef, HttpDef, McpDef};
use std::collections::HashMap;
use std::sync::Arc;

/// The cipher of an engine given none: it keeps no secret, and says how to get one.
pub(super) struct NoCipher;

pub(super) const NO_CIPHER: &str =
    "this engine has no secret cipher; give it one with `Engine::builder().cipher(..)`";

impl SecretCipher for NoCipher {
    fn seal(&self, _plain: &str) -> String {
        // Nothing is kept: a plain secret never reaches the store.
        String::new()
    }
    fn open(&self, _sealed: &str) -> Result<String, SecretError> {
        Err(SecretError(NO_CIPHER.into()))
    }
    fn seal_bound(&self, _plain: &str, _context: &str) -> String {
        String::new()
    }
    fn open_bound(&self, _sealed: &str, _context: &str) -> Result<String, SecretError> {
        Err(SecretError(NO_CIPHER.into()))
    }
    fn keeps_secrets(&self) -> bool {
        false
    }
}

fn not_available(kind: &str, name: &str, description: &str) -> Runnable {
    Runnable {
        definition: ToolDefinition {
            name: name.to_owned(),
            description: description.to_owned(),
            parameters: serde_json::json!({"type": "object", "properties": {}}),
        },
        handler: Arc::new(Unavailable(format!(
            "{kind} tools are not available in this engine (give it a tool backend, e.g. baton-tools' ToolRuntime)"
        ))),
    }
}

/// The tool backend of an engine given none: no HTTP, code or MCP tools.
pub(super) struct NoBackend;

#[async_trait]
impl ToolBackend for NoBackend {
    fn custom(&self, _name: &str) -> Option<Runnable> {
        None
    }
    fn http(&self, name: &str, description: &str, _def: &HttpDef, _t: Option<f64>) -> Runnable {
        not_available("HTTP", name, description)
    }
    fn code(&self, name: &str, description: &str, _def: &CodeDef, _t: Option<f64>) -> Runnable {
        not_available("code", name, description)
    }
    async fn mcp(
        &self,
        _key: &str,
        _def: &McpDef,
        _only: Option<&str>,
        _timeout: Option<f64>,
        _ctx: &ToolContext<'_>,
    ) -> Result<Vec<Runnable>, ToolError> {
        Err(ToolError::Unavailable("MCP tools are not available in this engine (give it a tool backend, e.g. baton-tools' ToolRuntime)".into()))
    }
}

/// The builder's registered tools in front of a backend.
pub(super) struct WithTools {
    pub(super) tools: HashMap<String, Runnable>,
    pub(super) backend: Arc<dyn ToolBackend>,
}

#[async_trait]
impl ToolBackend for WithTools {
    fn custom(&self, name: &str) -> Option<Runnable> {
        self.tools
            .get(name)
            .cloned()
            .or_else(|| self.backend.custom(name))
    }
    fn http(&self, name: &str, description: &str, def: &HttpDef, t: Option<f64>) -> Runnable {
        self.backend.http(name, description, def, t)
    }
    fn code(&self, name: &str, description: &str, def: &CodeDef, t: Option<f64>) -> Runnable {
        self.backend.code(name, description, def, t)
    }
    async fn mcp(
        &self,
        key: &str,
        def: &McpDef,
        only: Option<&str>,
        timeout: Option<f64>,
        ctx: &ToolContext<'_>,
    ) -> Result<Vec<Runnable>, ToolError> {
        self.backend.mcp(key, def, only, timeout, ctx).await
    }
}
