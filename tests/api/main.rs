//! The wire API over real HTTP, on every available backend.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod a2a;
mod a2a_client;
mod agents;
mod auth;
mod bad_input;
mod code_sandbox;
mod console;
mod ensemble;
mod http_surface;
mod mcp_server;
mod memory_knowledge;
mod memory_pages;
mod multitask;
mod observability;
mod openai;
mod orchestra_walkthrough;
mod runs;
mod schedules;
mod scopes;
mod secrets;
mod tasks;
mod teams;
mod tenancy;
mod tool_intents;
mod tool_runtime;
mod tools;
mod wire_schema;

use serde_json::{json, Value};

/// A minimal valid agent body.
pub fn agent_body(key: &str) -> Value {
    json!({"key": key, "role": "Support", "description": "Answers tickets",
           "instructions": "Be brief.", "path": "Default/agents", "model": "openai/gpt-4o"})
}

/// A function tool body.
pub fn function_tool(key: &str) -> Value {
    json!({"path": "Default", "key": key, "description": "Weather by city", "type": "function",
           "status": "live",
           "function": {"name": key, "parameters": {"type": "object",
               "properties": {"city": {"type": "string"}}, "required": ["city"]}}})
}
