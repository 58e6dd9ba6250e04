//! Embedding the Baton engine in a Rust program: no server, no database — an in-memory store,
//! a model provider written against `ModelProvider`, and a tool written against `ToolHandler`.
//!
//! `cargo run -p baton-examples --example embed` runs [`demo`]; its test runs it too.

use async_trait::async_trait;
use baton_core::agent::{AgentRecord, AgentSpec, AgentStatus, AgentVersion};
use baton_core::handler::{ToolContext, ToolHandler};
use baton_core::message::{Part, Role};
use baton_core::model::{
    ChatRequest, ChatResponse, ChatRole, DeltaSink, FinishReason, ModelProvider, ProviderError,
    TokenUsage, ToolCall, ToolDefinition,
};
use baton_core::store::AgentStore;
use baton_core::ProjectId;
use baton_engine::{Engine, EngineConfig, RunRequest};
use baton_providers::{Gateway, PriceTable, Registry};
use baton_store::secrets::ChaChaCipher;
use baton_store::MemoryStore;
use baton_tools::{Sandbox, ToolRuntime, ToolsConfig};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// A model provider of our own: it asks for the stock price, then answers with it. A real one
/// would call a model over HTTP; the trait is all the engine needs.
pub struct ScriptedModel;

#[async_trait]
impl ModelProvider for ScriptedModel {
    fn name(&self) -> &str {
        "scripted"
    }

    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
        let usage = TokenUsage {
            prompt_tokens: 12,
            completion_tokens: 4,
            ..TokenUsage::default()
        };
        let answered = request
            .messages
            .iter()
            .rev()
            .find(|m| m.role == ChatRole::Tool);
        Ok(match answered {
            None => ChatResponse {
                content: String::new(),
                tool_calls: vec![ToolCall {
                    id: "call_1".into(),
                    name: "stock_price".into(),
                    arguments: json!({"symbol": "ACME"}),
                    signature: None,
                }],
                finish_reason: FinishReason::ToolCalls,
                usage,
            },
            Some(result) => {
                let price: Value = serde_json::from_str(&result.content).unwrap_or(Value::Null);
                ChatResponse {
                    content: format!("ACME trades at {} USD.", price["price"]),
                    tool_calls: Vec::new(),
                    finish_reason: FinishReason::Stop,
                    usage,
                }
            }
        })
    }

    async fn stream(
        &self,
        request: &ChatRequest,
        _on_delta: DeltaSink<'_>,
    ) -> Result<ChatResponse, ProviderError> {
        self.complete(request).await
    }
}

/// A tool of our own, run in-process by the engine.
pub struct StockPrice;

#[async_trait]
impl ToolHandler for StockPrice {
    async fn call(&self, arguments: Value, _ctx: &ToolContext<'_>) -> Result<Value, String> {
        match arguments["symbol"].as_str() {
            Some("ACME") => Ok(json!({"symbol": "ACME", "price": 42.5})),
            Some(other) => Err(format!("unknown symbol {other}")),
            None => Err("symbol is required".into()),
        }
    }
}

/// Runs one agent turn with the custom provider and tool; returns the agent's answer.
pub async fn demo() -> Result<String, Box<dyn std::error::Error>> {
    let store = Arc::new(MemoryStore::new());
    let cipher = Arc::new(ChaChaCipher::from_base64(&ChaChaCipher::generate_key())?);
    let mut registry = Registry::default();
    registry.insert(Arc::new(ScriptedModel));
    let gateway = Arc::new(Gateway::new(registry, PriceTable::empty()));
    let tools = ToolRuntime::new(ToolsConfig::default(), Sandbox::disabled()).with_tool(
        ToolDefinition {
            name: "stock_price".into(),
            description: "The last price of a stock".into(),
            parameters: json!({"type": "object", "properties": {"symbol": {"type": "string"}},
                               "required": ["symbol"]}),
        },
        Arc::new(StockPrice),
    );
    let engine = Engine::new(
        store.clone(),
        gateway,
        cipher,
        Arc::new(tools),
        EngineConfig::default(),
    );

    let spec: AgentSpec = serde_json::from_value(json!({
        "key": "analyst", "role": "Analyst", "description": "Quotes stocks", "path": "Default",
        "instructions": "Answer with the current price.", "model": "scripted/v1",
        "settings": {"tools": [{"type": "function", "key": "stock_price"}]}}))?;
    let now = baton_core::id::now_rfc3339();
    let agent = AgentRecord {
        id: baton_core::id::new_id(),
        project_id: ProjectId::default_project(),
        status: AgentStatus::Live,
        version: 1,
        created: now.clone(),
        updated: now.clone(),
        spec: spec.clone(),
    };
    let version = AgentVersion {
        agent_id: agent.id.clone(),
        version: 1,
        created: now,
        description: None,
        spec,
    };
    store.create_agent(&agent, &version).await?;

    let prepared = engine
        .prepare(RunRequest {
            project: ProjectId::default_project(),
            agent,
            version: None,
            role: Role::User,
            parts: vec![Part::Text {
                text: "What does ACME trade at?".into(),
            }],
            message_id: None,
            task_id: None,
            background: false,
            stream: false,
            variables: Map::new(),
            identity: None,
            thread_id: None,
            memory_entity_id: None,
            metadata: Map::new(),
            reviews: Vec::new(),
            lineage: None,
        })
        .await?;
    let task = engine.spawn(prepared).await??;
    let data = Engine::data(&task)?;
    let answer = data
        .turn_output()
        .iter()
        .rev()
        .flat_map(|m| m.parts.iter())
        .find_map(|p| match p {
            Part::Text { text } if !text.is_empty() => Some(text.clone()),
            _ => None,
        })
        .unwrap_or_default();
    Ok(answer)
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_embedded_engine_runs_a_custom_provider_and_tool() {
        let answer = super::demo().await.unwrap();
        assert_eq!(answer, "ACME trades at 42.5 USD.");
    }
}
