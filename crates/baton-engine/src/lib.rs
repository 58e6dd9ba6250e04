//! The Baton agent engine: runs agents as durable tasks.
//!
//! The loop is a sans-IO state machine ([`machine::transition`]) driven by an async runner that
//! calls the model gateway and tools, and checkpoints the task in the store after every step, so
//! any worker can resume it from its last step. Background tasks go through a worker pool that
//! claims them from the database with leases; a task whose worker died is picked up again when
//! its lease expires. Events stream to clients live and are persisted for reconnects. A process
//! that shuts down drains ([`Engine::drain`]): its runs hand their tasks over to other servers at
//! their next step boundary and its streams end with a hint to reconnect.
//!
//! The engine receives the store, the model gateway, the secret cipher, the tool backend and an
//! optional span exporter as `baton-core` trait objects and names no concrete implementation.
//!
//! Embedding it takes a model provider, a store and an agent; [`Engine::builder`] adds tools, a
//! cipher, a tool backend for HTTP, code and MCP tools, and a SQL store for durable runs:
//!
//! ```
//! use async_trait::async_trait;
//! use baton_core::model::*;
//! use baton_engine::{Agent, Engine};
//!
//! /// A model that always greets.
//! struct Hello;
//!
//! #[async_trait]
//! impl ModelProvider for Hello {
//!     fn name(&self) -> &str {
//!         "hello"
//!     }
//!     async fn complete(&self, _: &ChatRequest<'_>) -> Result<ChatResponse, ProviderError> {
//!         let usage = TokenUsage { prompt_tokens: 3, completion_tokens: 2, ..Default::default() };
//!         let (content, finish_reason) = ("Hello!".into(), FinishReason::Stop);
//!         Ok(ChatResponse { content, tool_calls: vec![], finish_reason, usage })
//!     }
//!     async fn stream(&self, r: &ChatRequest<'_>, _: DeltaSink<'_>) -> Result<ChatResponse, ProviderError> {
//!         self.complete(r).await
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = Engine::builder().provider(Hello).store(baton_store::MemoryStore::new()).build()?;
//! let agent = Agent::new("greeter").model("hello/v1").instructions("Greet briefly.");
//! let run = engine.run(&agent, "Hi!").await?;
//! assert_eq!((run.answer.as_str(), run.usage.total_tokens), ("Hello!", 5));
//! # Ok(())
//! # }
//! ```

pub mod agents;
pub mod builtins;
pub mod collections;
mod config;
mod drain;
mod embed;
mod engine;
mod error;
pub mod events;
pub mod follow;
pub mod gateway;
mod invoke;
pub mod json;
pub mod keys;
pub mod knowledge;
mod lookups;
pub mod machine;
pub mod metrics;
mod multitask;
mod prepare;
pub mod prices;
pub mod prompt;
pub mod push;
mod request;
mod run;
pub mod scheduler;
pub mod schedules;
pub mod state;
pub mod step;
pub mod threads;
pub mod tools;
pub mod toolset;
pub mod traces;
mod turns;
mod worker;

pub use config::EngineConfig;
pub use drain::DrainPhase;
pub use embed::{Agent, EngineBuilder, RunHandle, RunInput, RunOutput};
pub use engine::Engine;
pub(crate) use engine::Inner;
pub(crate) use error::invalid;
pub use error::{BusyTask, EngineError};
pub use multitask::{Admission, QueuedMessage};
pub use request::{MultitaskStrategy, Prepared, RunRequest, ToolReview};
pub use worker::Workers;

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub(crate) fn random_hex(bytes: usize) -> String {
    let v: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    hex::encode(v)
}
