//! Unit tests of the run machine: plain functions on a checkpoint, no runtime, no I/O.

mod admit;
mod hand_over;
mod queue;
mod reply;
mod resume;
mod transition;
mod turn;

use crate::state::TaskData;
use crate::step::ToolKinds;
use baton_core::message::{Message, Part, Role};
use baton_core::model::ToolCall;
use serde_json::{json, Value};

/// Tools of a test agent: `get_weather` is client-side, `transfer` needs approval, `lookup`
/// runs on the server, `read` too and is idempotent; anything else is unknown.
pub(super) struct Kinds;

impl ToolKinds for Kinds {
    fn is_client_side(&self, name: &str) -> bool {
        name == "get_weather"
    }

    fn needs_approval(&self, name: &str) -> bool {
        name == "transfer"
    }

    fn is_idempotent(&self, name: &str) -> bool {
        name == "read"
    }

    fn tool_id(&self, name: &str) -> String {
        format!("id-{name}")
    }

    fn check(&self, call: &ToolCall) -> Result<(), String> {
        match call.name.as_str() {
            "get_weather" | "transfer" | "lookup" | "read" => Ok(()),
            other => Err(format!("unknown tool `{other}`")),
        }
    }
}

pub(super) fn call(id: &str, name: &str) -> ToolCall {
    ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: json!({"q": id}),
        signature: None,
    }
}

pub(super) fn text(role: Role, text: &str) -> Message {
    Message {
        message_id: "m".into(),
        role,
        parts: vec![Part::Text { text: text.into() }],
    }
}

pub(super) fn asked(calls: &[ToolCall]) -> Message {
    Message {
        message_id: "a".into(),
        role: Role::Agent,
        parts: calls
            .iter()
            .map(|c| Part::ToolCall {
                tool_name: c.name.clone(),
                tool_call_id: c.id.clone(),
                arguments: c.arguments.clone(),
            })
            .collect(),
    }
}

/// A task whose turn started with a user message.
pub(super) fn task(history: Vec<Message>) -> TaskData {
    TaskData {
        history: history.into_iter().map(std::sync::Arc::new).collect(),
        trace_id: "t".repeat(32),
        span_id: "s".repeat(16),
        ..Default::default()
    }
}

pub(super) fn spec(extra: Value) -> baton_core::agent::AgentSpec {
    let mut agent = json!({"key": "k", "role": "r", "description": "d", "instructions": "i",
        "path": "p", "model": "openai/gpt-4o",
        "settings": {"max_iterations": 5, "max_execution_time": 60}});
    if let (Some(agent), Some(extra)) = (agent.as_object_mut(), extra.as_object()) {
        agent.extend(extra.clone());
    }
    serde_json::from_value(agent).expect("a valid agent")
}
