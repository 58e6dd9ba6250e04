//! The embedding API: an [`EngineBuilder`] from providers, tools and a store; [`Agent`]s built in
//! code or read from orq's agent JSON; and [`Engine::run`], one call from a prompt to an answer.
//!
//! Without a cipher ([`EngineBuilder::cipher`]) the engine keeps no secret: a secret variable is
//! dropped on the way in and a tool or prompt that needs it gets a clear error naming the fix.
//! Without a tool backend ([`EngineBuilder::tool_backend`], e.g. `baton-tools`' runtime) HTTP,
//! code and MCP tools answer the model that they are not available in this engine; tools
//! registered with [`EngineBuilder::tool`] always run.

mod agent;
mod builder;
mod defaults;
mod run;

pub use agent::{Agent, RunInput};
pub use builder::EngineBuilder;
pub use run::{RunHandle, RunOutput};
