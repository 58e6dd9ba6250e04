//! Baton's domain: agents, tools, tasks, messages, threads, schedules, usage, and the store
//! traits the engine and the HTTP layer work against.
//!
//! This crate does no I/O and owns no async runtime: it is plain data plus traits, so the engine
//! can be embedded anywhere and every store or provider implementation speaks the same types.
//!
//! ```
//! use baton_core::agent::AgentSpec;
//! let spec: AgentSpec = serde_json::from_value(serde_json::json!({
//!     "key": "support", "role": "Support", "description": "Answers tickets",
//!     "instructions": "Be brief.", "path": "Default/agents", "model": "openai/gpt-4o"
//! })).unwrap();
//! assert_eq!(spec.model.id, "openai/gpt-4o");
//! assert!(spec.validate().is_ok());
//! ```

pub mod agent;
pub mod collection;
pub mod error;
pub mod handler;
pub mod id;
pub mod message;
pub mod model;
#[cfg(feature = "openapi")]
mod openapi;
#[cfg(feature = "openapi")]
pub use openapi::JsonObject;
pub mod push;
pub mod schedule;
pub mod secret;
pub mod store;
pub mod task;
pub mod template;
pub mod tenant;
pub mod thread;
pub mod tool;
pub mod trace;
pub mod usage;
pub mod validate;

pub use error::ValidationError;
pub use tenant::ProjectId;
