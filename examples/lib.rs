//! The model provider and the tool the examples share, each written against the engine's
//! traits: `ModelProvider` for a model, `ToolHandler` for a tool the engine runs in-process.
//!
//! | example | shows |
//! |---|---|
//! | `embed` | an agent with a custom provider and tool, in memory, in 25 lines |
//! | `custom_provider` | a provider that streams, and the run's live events |
//! | `sqlite_resume` | a durable run on SQLite that a second engine resumes after a restart |
//!
//! `cargo run -p baton-examples --example embed` runs one; `cargo test -p baton-examples` runs
//! them all.

use async_trait::async_trait;
use baton_core::handler::{ToolContext, ToolHandler};
use baton_core::model::{
    ChatRequest, ChatResponse, ChatRole, DeltaSink, FinishReason, ModelProvider, ProviderError,
    TokenUsage, ToolCall, ToolDefinition,
};
use serde_json::{json, Value};

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
        let answered = request.messages.last().filter(|m| m.role == ChatRole::Tool);
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

impl StockPrice {
    /// What the model is told about the tool.
    pub fn definition() -> ToolDefinition {
        ToolDefinition::new(
            "stock_price",
            "The last price of a stock",
            json!({"type": "object", "properties": {"symbol": {"type": "string"}},
                   "required": ["symbol"]}),
        )
    }
}

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
