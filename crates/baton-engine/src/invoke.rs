//! Running one stored tool directly, outside any task.

use crate::{invalid, prompt, toolset, Engine, EngineError};
use serde_json::{Map, Value};

impl Engine {
    /// Runs one stored server-side tool directly (to test it before an agent uses it). `name`
    /// picks the tool of an MCP server. The outer error is bad input; the inner one is the
    /// tool's own error, as a model would see it.
    pub async fn invoke_tool(
        &self,
        tool: &baton_core::tool::ToolRecord,
        name: Option<&str>,
        arguments: Value,
        variables: &Map<String, Value>,
    ) -> Result<Result<Value, String>, EngineError> {
        use baton_core::handler::ToolContext;
        use baton_core::tool::ToolKind;
        let variables = prompt::merge_variables(&Map::new(), variables, self.inner.cipher.as_ref());
        let ctx = ToolContext {
            variables: &variables,
            cipher: self.inner.cipher.as_ref(),
            trace: None,
            idempotency_key: None,
        };
        let runtime = self.inner.tools.as_ref();
        let spec = &tool.spec;
        let runnable = match &spec.kind {
            ToolKind::Function { .. } | ToolKind::JsonSchema { .. } => {
                return Err(invalid(
                    "type",
                    format!(
                    "`{}` tools run on the client; only http, code, mcp and a2a tools can be invoked",
                    spec.kind.type_name()
                ),
                ))
            }
            ToolKind::Http { http } => runtime.http(&spec.key, &spec.description, http, None),
            ToolKind::Code { code_tool } => {
                runtime.code(&spec.key, &spec.description, code_tool, None)
            }
            ToolKind::A2a { a2a } => baton_core::handler::Runnable {
                definition: baton_core::model::ToolDefinition {
                    name: spec.key.clone(),
                    description: spec.description.clone(),
                    parameters: crate::toolset::remote_agent_parameters(),
                },
                handler: runtime.a2a(&spec.key, a2a),
            },
            ToolKind::Mcp { mcp } => {
                let Some(name) = name else {
                    return Err(invalid(
                        "tool",
                        "name the MCP server's tool to call (`tool`)",
                    ));
                };
                let key = format!("{}@{}", tool.id, tool.updated);
                match runtime.mcp(&key, mcp, Some(name), None, &ctx).await {
                    Ok(mut found) if !found.is_empty() => found.remove(0),
                    Ok(_) => {
                        return Err(invalid(
                            "tool",
                            format!("the MCP server has no tool `{name}`"),
                        ))
                    }
                    Err(error) => return Ok(Err(error.to_string())),
                }
            }
        };
        let mut check = toolset::Toolset::default();
        let tool_name = runnable.definition.name.clone();
        check.add(
            runnable.definition.clone(),
            toolset::Side::Client,
            tool.id.clone(),
            false,
            false,
        );
        let call = baton_core::model::ToolCall {
            id: String::new(),
            name: tool_name,
            arguments: arguments.clone(),
            signature: None,
        };
        check
            .check(&call)
            .map_err(|message| invalid("arguments", message))?;
        Ok(runnable
            .handler
            .call(arguments, &ctx)
            .await
            .map_err(|e| e.to_string()))
    }
}
