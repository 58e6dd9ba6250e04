//! The sandbox of a build without the `code` feature: code tools answer that they are not set up.

use super::{CodeLimits, Isolation, SandboxConfig};
use baton_core::handler::ToolError;
use serde_json::Value;
use std::time::Duration;

/// What a code tool answers in a build without the `code` feature.
pub(crate) const NOT_BUILT: &str =
    "code tools are not set up on this server: it was built without the `code` feature";

/// Stands in for the sandbox: every call is refused. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Sandbox {
    limits: CodeLimits,
}

impl Sandbox {
    /// No sandbox in this build: the configuration's limits are kept, calls are refused.
    pub async fn detect(config: SandboxConfig) -> Self {
        tracing::warn!("code tools are disabled: this build has no `code` feature");
        Self {
            limits: config.limits,
        }
    }

    /// A sandbox that refuses every call.
    pub fn disabled() -> Self {
        Self::default()
    }

    /// Always [`Isolation::Unavailable`].
    pub fn isolation(&self) -> Isolation {
        Isolation::Unavailable
    }

    /// The limits configured.
    pub fn limits(&self) -> &CodeLimits {
        &self.limits
    }

    /// Refuses: there is no sandbox in this build.
    pub async fn run(
        &self,
        _code: &str,
        _params: &Value,
        _timeout: Option<Duration>,
    ) -> Result<Value, ToolError> {
        Err(ToolError::Unavailable(NOT_BUILT.into()))
    }
}
