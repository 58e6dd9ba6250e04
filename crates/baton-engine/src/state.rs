//! The checkpoint document of a task: everything needed to resume it after any step.

use crate::EngineError;
use baton_core::message::{Message, Part, Role};
use baton_core::model::{ToolCall, ToolDefinition};
use baton_core::store::TaskRecord;
use baton_core::usage::Usage;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A reviewer's decision on one tool call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// Whether the call may run.
    pub approved: bool,
    /// Why, as the reviewer said (shown to the model on a rejection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A server-side call the run started and no result answers yet: its intent, stored before
/// the call runs so a resumed run knows the call may have happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolAttempt {
    /// Attempts started so far, this one included.
    pub attempt: u32,
    /// When the latest attempt started (Unix ms).
    pub started_ms: i64,
    /// Whether the latest attempt was cut by a stopped server (it runs again only as a new
    /// attempt: automatically for an idempotent tool, after a review otherwise).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
}

/// The model call the run is about to make, stored with the checkpoint before it so a resumed
/// run can tell (and count) a call a stopped server left unanswered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelAttempt {
    /// Calls made for this step, this one included (more than one after an interruption).
    pub attempt: u32,
    /// When the call was staged (Unix ms).
    pub started_ms: i64,
}

/// What a caller offers the model for one turn besides the agent's tools: its own function
/// tools (client-side: the turn pauses in `input-required` for their results, as for the
/// agent's `function` tools) and how the model must use tools.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TurnTools {
    /// The functions; one named like a tool of the agent is not offered (the agent's wins).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<ToolDefinition>,
    /// How the turn's first model call uses tools: `"auto"`, `"none"`, `"required"`, or
    /// `{"function": {"name": …}}` naming one of `functions`. Later calls of the turn choose
    /// freely, so a forced call cannot repeat without end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<Value>,
}

impl TurnTools {
    /// Whether the turn adds nothing to the agent's tools.
    pub fn is_empty(&self) -> bool {
        self.functions.is_empty() && self.choice.is_none()
    }

    /// Checks the functions and the choice; the error names the field at fault
    /// (`functions[1].name`, `choice`) and says why.
    pub fn check(&self) -> Result<(), (String, String)> {
        for (i, function) in self.functions.iter().enumerate() {
            check_function(function)
                .map_err(|(field, why)| (format!("functions[{i}].{field}"), why))?;
            if self.functions[..i].iter().any(|f| f.name == function.name) {
                return Err((
                    format!("functions[{i}].name"),
                    format!("`{}` is offered twice", function.name),
                ));
            }
        }
        let Some(choice) = &self.choice else {
            return Ok(());
        };
        match choice {
            Value::String(mode) if matches!(mode.as_str(), "auto" | "none" | "required") => Ok(()),
            Value::Object(named) => {
                let name = named
                    .get("function")
                    .and_then(|f| f.get("name"))
                    .and_then(Value::as_str);
                match name {
                    Some(name) if self.functions.iter().any(|f| f.name == name) => Ok(()),
                    Some(name) => Err((
                        "choice".into(),
                        format!("`{name}` is not one of the functions offered"),
                    )),
                    None => Err((
                        "choice".into(),
                        "name a function as {\"function\": {\"name\": …}}".into(),
                    )),
                }
            }
            _ => Err((
                "choice".into(),
                "must be \"auto\", \"none\", \"required\" or a named function".into(),
            )),
        }
    }
}

/// Checks a function a caller offers: a name models accept (`^[a-zA-Z0-9_-]{1,64}$`) and
/// parameters that are a JSON schema of an object. The error names `name` or `parameters`.
pub fn check_function(function: &ToolDefinition) -> Result<(), (&'static str, String)> {
    let name = &function.name;
    let name_ok = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !name_ok {
        return Err((
            "name",
            format!("`{name}` is not a function name: 1 to 64 letters, digits, `_` or `-`"),
        ));
    }
    let parameters = &function.parameters;
    if parameters.get("type").and_then(Value::as_str) != Some("object") {
        return Err((
            "parameters",
            "must be the JSON schema of an object (`\"type\": \"object\"`)".into(),
        ));
    }
    if let Err(e) = jsonschema::validator_for(parameters) {
        return Err(("parameters", format!("not a valid JSON schema: {e}")));
    }
    Ok(())
}

/// A user message that arrived while the task was running, waiting for its turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedTurn {
    /// The message.
    pub message: Message,
    /// The response id its turn answers with (known to the client before the turn starts).
    pub response_id: String,
    /// The turn it interrupts (the one running when it arrived), if it interrupts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupts: Option<String>,
    /// Whether its turn publishes text deltas.
    #[serde(default)]
    pub streaming: bool,
    /// The request's variables (secrets sealed), laid over the task's when its turn starts.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub variables: Map<String, Value>,
    /// The request's own tools for its turn.
    #[serde(default, skip_serializing_if = "TurnTools::is_empty")]
    pub turn_tools: TurnTools,
}

/// Why a turn ended, as the wire reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finish {
    /// A final answer.
    Stop,
    /// The model hit its token limit.
    Length,
    /// Waiting for client-side tool results.
    ToolCalls,
    /// The provider filtered the content.
    ContentFilter,
    /// `max_iterations` was reached.
    MaxIterations,
    /// `max_execution_time` was reached.
    MaxTime,
}

/// The checkpoint of a task, stored as JSON in `TaskRecord::data`; its history is kept apart,
/// in `TaskRecord::history` (rows the store appends to).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TaskData {
    /// A2A context id (shared by the tasks of a thread).
    pub context_id: String,
    /// Every message of the task, in order. Not part of the JSON: it travels in
    /// `TaskRecord::history` (read from the JSON only for a checkpoint stored before that).
    #[serde(default, skip_serializing)]
    pub history: Vec<Arc<Message>>,
    /// Messages of earlier tasks of the same thread, given to the model before `history`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thread_context: Vec<Arc<Message>>,
    /// Index in `history` where the current turn's output starts.
    pub turn_start: usize,
    /// The response id of the current turn.
    pub response_id: String,
    /// When the current turn started (Unix ms), for `max_execution_time`.
    pub turn_started_ms: i64,
    /// Model calls made in the current turn.
    pub iterations: u32,
    /// Retries spent on answers that failed the output schema.
    #[serde(default)]
    pub schema_retries: u32,
    /// Tokens and cost of the whole task.
    pub usage: Usage,
    /// Tokens of the current turn.
    #[serde(default)]
    pub turn_usage: Usage,
    /// `provider/model` that answered last.
    pub model: String,
    /// How the last turn ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish: Option<Finish>,
    /// Why the task failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Template variables (secret values sealed).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub variables: Map<String, Value>,
    /// Request metadata.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
    /// The identity the task acts for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Value>,
    /// Memory entity the agent's memory stores bind to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_entity_id: Option<String>,
    /// Seq of the last event stored (the id of the stream's last durable event).
    #[serde(default)]
    pub event_seq: u64,
    /// The response id of the turn whose `Started` is stored: a resumed turn is not announced
    /// again.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub announced_turn: String,
    /// W3C trace id (32 hex).
    pub trace_id: String,
    /// Root span id (16 hex).
    pub span_id: String,
    /// Whether the turn streams (deltas are published).
    #[serde(default)]
    pub streaming: bool,
    /// Reviewers' decisions, by tool call id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reviews: BTreeMap<String, Review>,
    /// Server-side calls the task is paused on, waiting for a review.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub awaiting_review: Vec<ToolCall>,
    /// The parent task and the chain of agents above, for a sub-agent's task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineage: Option<crate::builtins::Lineage>,
    /// Child tasks this task started through `call_sub_agent`, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<String>,
    /// Sub-agent calls made so far (bounded per task).
    #[serde(default)]
    pub sub_agent_calls: u32,
    /// Server-side calls started and not yet answered, by call id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub in_flight: BTreeMap<String, ToolAttempt>,
    /// The model call that follows this checkpoint, if one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_call: Option<ModelAttempt>,
    /// The current turn's own tools, from its request.
    #[serde(default, skip_serializing_if = "TurnTools::is_empty")]
    pub turn_tools: TurnTools,
    /// Messages waiting for the running turn (or a pause) to end, in arrival order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queued: Vec<QueuedTurn>,
    /// Messages ever queued, each by its own write of the task: the worker running the task
    /// tells those writes (which it takes in) from another worker's takeover (which stops it).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub queued_total: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl TaskData {
    /// Decodes a task's checkpoint with a copy of its history.
    pub fn of(task: &TaskRecord) -> Result<Self, EngineError> {
        let mut data = Self::decode(task)?;
        if !task.history.is_empty() || task.history_stored > 0 {
            data.history = task.history.clone();
        }
        Ok(data)
    }

    /// Decodes a task's checkpoint without its history (left empty unless the checkpoint
    /// predates history rows): for callers that need the task's state, not its messages.
    pub fn without_history(task: &TaskRecord) -> Result<Self, EngineError> {
        Self::decode(task)
    }

    /// Decodes a task's checkpoint, moving its history out of the record.
    pub(crate) fn take_from(task: &mut TaskRecord) -> Result<Self, EngineError> {
        let mut data = Self::decode(task)?;
        if !task.history.is_empty() || task.history_stored > 0 {
            data.history = std::mem::take(&mut task.history);
        }
        Ok(data)
    }

    fn decode(task: &TaskRecord) -> Result<Self, EngineError> {
        Self::deserialize(&task.data).map_err(|e| EngineError::internal("task checkpoint", e))
    }

    /// Encodes the checkpoint into the record, its history moved there.
    pub(crate) fn put_into(mut self, task: &mut TaskRecord) -> Result<(), EngineError> {
        task.data = serde_json::to_value(&self)
            .map_err(|e| EngineError::internal("encode checkpoint", e))?;
        task.history = std::mem::take(&mut self.history);
        Ok(())
    }

    /// The tool calls of the last agent message that no tool message has answered yet.
    pub fn unanswered_calls(&self) -> Vec<ToolCall> {
        let Some(last_agent) = self.history.iter().rposition(|m| m.role == Role::Agent) else {
            return Vec::new();
        };
        let answered: Vec<&str> = self.history[last_agent + 1..]
            .iter()
            .flat_map(|m| m.parts.iter())
            .filter_map(|p| match p {
                Part::ToolResult { tool_call_id, .. } => Some(tool_call_id.as_str()),
                _ => None,
            })
            .collect();
        self.history[last_agent]
            .parts
            .iter()
            .filter_map(|p| match p {
                Part::ToolCall {
                    tool_name,
                    tool_call_id,
                    arguments,
                } if !answered.contains(&tool_call_id.as_str()) => Some(ToolCall {
                    id: tool_call_id.clone(),
                    name: tool_name.clone(),
                    arguments: arguments.clone(),
                    signature: None,
                }),
                _ => None,
            })
            .collect()
    }

    /// The unanswered calls the client must answer: those not waiting for or decided by a review.
    pub fn client_pending_calls(&self) -> Vec<ToolCall> {
        self.unanswered_calls()
            .into_iter()
            .filter(|c| {
                !self.reviews.contains_key(&c.id)
                    && !self.awaiting_review.iter().any(|a| a.id == c.id)
            })
            .collect()
    }

    /// The messages of the current turn's output (the turn's input message excluded).
    pub fn turn_output(&self) -> &[Arc<Message>] {
        let start = (self.turn_start + 1).min(self.history.len());
        &self.history[start..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn function(name: &str, parameters: Value) -> ToolDefinition {
        ToolDefinition {
            name: name.into(),
            description: String::new(),
            parameters,
        }
    }

    #[test]
    fn turn_tools_name_the_field_at_fault() {
        let object = json!({"type": "object", "properties": {}});
        let tools =
            |functions: Vec<ToolDefinition>, choice: Option<Value>| TurnTools { functions, choice };
        let field = |t: TurnTools| t.check().unwrap_err().0;
        assert!(tools(vec![function("lookup_order", object.clone())], None)
            .check()
            .is_ok());
        for choice in [json!("auto"), json!("none"), json!("required")] {
            assert!(tools(Vec::new(), Some(choice)).check().is_ok());
        }
        assert!(tools(
            vec![function("f", object.clone())],
            Some(json!({"function": {"name": "f"}}))
        )
        .check()
        .is_ok());
        assert_eq!(
            field(tools(vec![function("a b", object.clone())], None)),
            "functions[0].name"
        );
        assert_eq!(
            field(tools(vec![function(&"x".repeat(65), object.clone())], None)),
            "functions[0].name"
        );
        assert_eq!(
            field(tools(
                vec![function("f", object.clone()), function("f", object.clone())],
                None
            )),
            "functions[1].name"
        );
        assert_eq!(
            field(tools(vec![function("f", json!({"type": "string"}))], None)),
            "functions[0].parameters"
        );
        assert_eq!(
            field(tools(
                vec![function("f", json!({"type": "object", "properties": 3}))],
                None
            )),
            "functions[0].parameters"
        );
        assert_eq!(
            field(tools(
                vec![function("f", object)],
                Some(json!({"function": {"name": "g"}}))
            )),
            "choice"
        );
        assert_eq!(field(tools(Vec::new(), Some(json!("always")))), "choice");
    }
}
