//! `tools/call`: run the agent the tool names, as `POST /v2/agents/{key}/responses` would, and
//! answer with its text (and structured content); the run's steps go to the client as progress
//! notifications when it asked for them. A run that fails is an `isError` result, not a
//! protocol error: the model calling the tool reads why.

use super::output_schema;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::message_wire::{MessagePart, MessageRole};
use crate::responses::create::run_request;
use crate::responses::dto::{CreateResponseRequest, InputMessage};
use crate::state::AppState;
use baton_core::agent::AgentRecord;
use baton_core::message::{Part, Role};
use baton_core::store::TaskRecord;
use baton_core::task::TaskState;
use baton_engine::follow::StreamItem;
use baton_engine::machine::RunEvent;
use baton_engine::{Admission, Engine, EngineError};
use futures_util::stream::{Stream, StreamExt};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, MetaObject,
    ProgressNotificationParam, ProgressToken,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, Peer, RoleServer};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::future::Future;

/// The `_meta` key of a result naming the task it ran (send it back as `task_id`).
const TASK_META: &str = "task_id";

/// A tool-level error the caller reads.
fn failed(message: impl Into<String>, task_id: Option<&str>) -> CallToolResponse {
    let mut result = CallToolResult::error(vec![ContentBlock::text(message.into())]);
    result.meta = task_id.map(task_meta);
    result.into()
}

fn task_meta(task_id: &str) -> MetaObject {
    let mut meta = MetaObject::new();
    meta.0
        .insert(TASK_META.into(), Value::String(task_id.into()));
    meta
}

/// The tool's arguments: `message`, optional `variables` and `task_id`.
#[derive(Debug)]
struct Arguments {
    message: String,
    variables: Map<String, Value>,
    task_id: Option<String>,
}

fn arguments(raw: Option<Map<String, Value>>) -> Result<Arguments, String> {
    let mut raw = raw.unwrap_or_default();
    let message = match raw.remove("message") {
        Some(Value::String(m)) if !m.trim().is_empty() => m,
        Some(Value::String(_)) | None => return Err("`message` is required".into()),
        Some(_) => return Err("`message` must be a string".into()),
    };
    let variables = match raw.remove("variables") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(v)) => v,
        Some(_) => return Err("`variables` must be an object".into()),
    };
    let task_id = match raw.remove("task_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(t)) if !t.trim().is_empty() => Some(t),
        Some(_) => return Err("`task_id` must be a task id (a string)".into()),
    };
    if let Some(unknown) = raw.keys().next() {
        return Err(format!(
            "unknown argument `{unknown}`: the tool takes `message`, `variables` and `task_id`"
        ));
    }
    Ok(Arguments {
        message,
        variables,
        task_id,
    })
}

/// Runs the agent `request.name` for the caller.
pub(super) async fn call(
    state: &AppState,
    caller: &Caller,
    request: CallToolRequestParams,
    context: RequestContext<RoleServer>,
) -> Result<CallToolResponse, ErrorData> {
    let agent = match state
        .engine
        .agents()
        .get(&caller.project, &request.name)
        .await
    {
        Ok(agent) => agent,
        Err(EngineError::NotFound(_)) => {
            return Err(ErrorData::invalid_params(
                format!("unknown tool `{}`", request.name),
                None,
            ))
        }
        Err(e) => return Err(ErrorData::internal_error(ApiError::from(e).message, None)),
    };
    let args = match arguments(request.arguments) {
        Ok(args) => args,
        Err(why) => return Ok(failed(why, None)),
    };
    let body = CreateResponseRequest {
        message: Some(InputMessage {
            role: MessageRole::User,
            parts: vec![MessagePart::Text { text: args.message }],
            message_id: None,
        }),
        variables: args.variables,
        task_id: args.task_id,
        ..Default::default()
    };
    let structured = output_schema(&agent).is_some();
    match run(state, caller, agent, body, &context).await {
        Ok(task) => Ok(answer(&task, structured)),
        Err(e) => Ok(failed(e.message, None)),
    }
}

/// Admits the run and waits for its turn to end, sending progress meanwhile when asked to.
async fn run(
    state: &AppState,
    caller: &Caller,
    agent: AgentRecord,
    body: CreateResponseRequest,
    context: &RequestContext<RoleServer>,
) -> Result<TaskRecord, ApiError> {
    let request = run_request(state, caller, agent, None, body).await?;
    let engine = &state.engine;
    let progress = context.meta.get_progress_token();
    match engine.admit(request).await? {
        Admission::Run(prepared) => {
            let task = &prepared.task;
            let data = Engine::data(task)?;
            let task_id = task.id.clone();
            // Followed before the run starts, from the task's last stored event: nothing of
            // this turn is missed.
            let events = progress.as_ref().map(|_| {
                engine.follow_turn(&caller.project, &task_id, data.event_seq, &data.response_id)
            });
            let turn = engine.run_turn(prepared);
            wait(engine, caller, &task_id, turn, events, progress, context).await
        }
        Admission::Queued(queued) => {
            let task_id = queued.task.id.clone();
            let events = progress.as_ref().map(|_| {
                engine.follow_turn(&caller.project, &task_id, queued.after, &queued.response_id)
            });
            let turn =
                engine.turn_outcome(&caller.project, &task_id, &queued.response_id, queued.after);
            wait(engine, caller, &task_id, turn, events, progress, context).await
        }
    }
}

/// Waits for a turn, turning its events into progress notifications; a client that cancels
/// its request cancels the task's turn.
async fn wait(
    engine: &Engine,
    caller: &Caller,
    task_id: &str,
    turn: impl Future<Output = Result<TaskRecord, EngineError>>,
    events: Option<impl Stream<Item = StreamItem> + Send + 'static>,
    progress: Option<ProgressToken>,
    context: &RequestContext<RoleServer>,
) -> Result<TaskRecord, ApiError> {
    let notify = async {
        if let (Some(events), Some(token)) = (events, progress) {
            report(events, &context.peer, token).await;
        }
        std::future::pending::<()>().await
    };
    tokio::select! {
        biased;
        () = context.ct.cancelled() => {
            engine.cancel(&caller.project, task_id).await?;
            Err(ApiError::conflict(format!("the call was canceled, and with it task `{task_id}`")))
        }
        finished = turn => Ok(finished?),
        () = notify => unreachable!("progress reporting never ends on its own"),
    }
}

/// Sends one progress notification per step of the run: a turn started, a tool called or
/// answered, the turn ended.
async fn report(
    events: impl Stream<Item = StreamItem>,
    peer: &Peer<RoleServer>,
    token: ProgressToken,
) {
    let mut tools: HashMap<String, String> = HashMap::new();
    let mut step = 0u32;
    let mut events = std::pin::pin!(events);
    while let Some(item) = events.next().await {
        let StreamItem::Event(event) = item else {
            continue;
        };
        let Some(message) = step_message(&event.event, &mut tools) else {
            continue;
        };
        step += 1;
        let note =
            ProgressNotificationParam::new(token.clone(), f64::from(step)).with_message(message);
        if peer.notify_progress(note).await.is_err() {
            // The client is gone; the run goes on and its result is stored.
            return;
        }
    }
}

/// What a step says to the client; `None` for the events that are no step (text pieces).
fn step_message(event: &RunEvent, tools: &mut HashMap<String, String>) -> Option<String> {
    let name = |tools: &HashMap<String, String>, call_id: &str| {
        tools
            .get(call_id)
            .cloned()
            .unwrap_or_else(|| call_id.to_owned())
    };
    Some(match event {
        RunEvent::Started { model, .. } => format!("started on {model}"),
        RunEvent::ToolStarted { call, .. } => {
            tools.insert(call.id.clone(), call.name.clone());
            format!("calling tool `{}`", call.name)
        }
        RunEvent::ToolDone { call_id, .. } => {
            format!("tool `{}` answered", name(tools, call_id))
        }
        RunEvent::ToolFailed { call_id, error, .. } => {
            format!("tool `{}` failed: {error}", name(tools, call_id))
        }
        RunEvent::ReviewRequested { call, .. } => {
            format!("tool `{}` waits for a review", call.name)
        }
        RunEvent::ReviewDone {
            call_id, approved, ..
        } => format!(
            "tool `{}` {}",
            name(tools, call_id),
            if *approved { "approved" } else { "rejected" }
        ),
        RunEvent::TextDone { .. } => "the model answered".to_owned(),
        RunEvent::Done { .. } => "done".to_owned(),
        RunEvent::Failed { error, .. } => format!("failed: {error}"),
        RunEvent::Canceled { .. } => "canceled".to_owned(),
        RunEvent::Delta { .. } => return None,
    })
}

/// The result of a turn that ended: the answer, or why there is none.
fn answer(task: &TaskRecord, structured: bool) -> CallToolResponse {
    let data = match Engine::data(task) {
        Ok(data) => data,
        Err(e) => return failed(ApiError::from(e).message, Some(&task.id)),
    };
    let text = data
        .turn_output()
        .iter()
        .rev()
        .filter(|m| m.role == Role::Agent)
        .flat_map(|m| m.parts.iter().rev())
        .find_map(|p| match p {
            Part::Text { text } if !text.is_empty() => Some(text.clone()),
            _ => None,
        });
    match (task.state, text) {
        (TaskState::Completed, Some(text)) => {
            let mut result =
                if structured {
                    match serde_json::from_str::<Value>(&text) {
                        Ok(value @ Value::Object(_)) => {
                            let mut result = CallToolResult::structured(value);
                            result.content = vec![ContentBlock::text(text)];
                            result
                        }
                        _ => return failed(
                            "the agent's answer is not the JSON object its output schema describes",
                            Some(&task.id),
                        ),
                    }
                } else {
                    CallToolResult::success(vec![ContentBlock::text(text)])
                };
            result.meta = Some(task_meta(&task.id));
            result.into()
        }
        (TaskState::InputRequired, _) => {
            let calls: Vec<String> = data
                .client_pending_calls()
                .into_iter()
                .chain(data.awaiting_review.iter().cloned())
                .map(|c| format!("`{}`", c.name))
                .collect();
            failed(
                format!(
                    "the agent paused for tool calls an MCP client cannot answer ({}): answer them \
                     with POST /v2/agents/{{key}}/responses and task_id `{}`",
                    calls.join(", "),
                    task.id
                ),
                Some(&task.id),
            )
        }
        (state, _) => {
            let why = data.error.clone().unwrap_or_else(|| match state {
                TaskState::Completed => "the agent ended its turn without an answer".to_owned(),
                other => format!("the run ended `{}`", other.as_str()),
            });
            failed(why, Some(&task.id))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(value: Value) -> Result<Arguments, String> {
        arguments(value.as_object().cloned())
    }

    #[test]
    fn arguments_name_the_field_at_fault() {
        let ok = args(json!({"message": "hi", "variables": {"a": 1}, "task_id": "t1"})).unwrap();
        assert_eq!(
            (ok.message.as_str(), ok.task_id.as_deref()),
            ("hi", Some("t1"))
        );
        assert!(args(json!({})).unwrap_err().contains("`message`"));
        assert!(args(json!({"message": 3}))
            .unwrap_err()
            .contains("`message`"));
        assert!(args(json!({"message": "x", "variables": []}))
            .unwrap_err()
            .contains("`variables`"));
        assert!(args(json!({"message": "x", "task": "y"}))
            .unwrap_err()
            .contains("`task`"));
    }
}
