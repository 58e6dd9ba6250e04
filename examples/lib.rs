//! The model provider and the tool the examples share, each written against the engine's
//! traits: `ModelProvider` for a model, `Tool` for a typed tool the engine runs in-process.
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
use baton_core::handler::{Tool, ToolContext, ToolError};
use baton_core::model::{
    ChatRequest, ChatResponse, ChatRole, DeltaSink, FinishReason, ModelProvider, ProviderError,
    TokenUsage, ToolCall,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A model provider of our own: it asks for the stock price, then answers with it. A real one
/// would call a model over HTTP; the trait is all the engine needs.
pub struct ScriptedModel;

#[async_trait]
impl ModelProvider for ScriptedModel {
    fn name(&self) -> &str {
        "scripted"
    }

    async fn complete(&self, request: &ChatRequest<'_>) -> Result<ChatResponse, ProviderError> {
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
        request: &ChatRequest<'_>,
        _on_delta: DeltaSink<'_>,
    ) -> Result<ChatResponse, ProviderError> {
        self.complete(request).await
    }
}

/// A tool of our own, run in-process by the engine.
pub struct StockPrice;

/// What the model asks [`StockPrice`] for; the tool's parameters are this type's JSON schema.
#[derive(Deserialize, JsonSchema)]
pub struct Symbol {
    /// The stock's ticker symbol, e.g. `ACME`.
    pub symbol: String,
}

/// What [`StockPrice`] answers.
#[derive(Serialize)]
pub struct Quote {
    /// The ticker symbol.
    pub symbol: String,
    /// The last price, in USD.
    pub price: f64,
}

impl Tool for StockPrice {
    type Args = Symbol;
    type Output = Quote;
    const NAME: &'static str = "stock_price";

    fn description(&self) -> String {
        "The last price of a stock".into()
    }

    async fn call(&self, args: Symbol, _ctx: &ToolContext<'_>) -> Result<Quote, ToolError> {
        match args.symbol.as_str() {
            "ACME" => Ok(Quote {
                symbol: args.symbol,
                price: 42.5,
            }),
            other => Err(ToolError::InvalidArguments(format!(
                "unknown symbol {other}"
            ))),
        }
    }
}
