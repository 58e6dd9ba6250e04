//! OpenAI-compatible endpoints, so OpenAI's SDKs run Baton agents: `POST /v1/chat/completions`
//! ([`chat`]), `POST /v1/responses` and `GET /v1/responses/{id}` ([`response_api`]) and
//! `GET /v1/models`. `model` names an agent: `agent/<key>` (the live version) or
//! `agent/<key>@<version>`.
//!
//! A request is one turn of a Baton task, run by the engine as `/v2/agents/{key}/responses`
//! runs it. How the task travels, without state of this adapter's own:
//! - a client-side function call's id is `call_<task id>_<call id>`: `tool` messages (chat) or
//!   `function_call_output` items (Responses) answering it continue that task;
//! - a response's id is `resp_<task id>_<response id>`: `previous_response_id` continues it;
//! - a chat completion's id is `chatcmpl-<response id>`.
//!
//! A request's `tools` (function tools only) are offered to the model for its turn besides
//! the agent's own (which win a name both use): they are client-side, so a call of one ends
//! the turn as `tool_calls` / `function_call` items, answered as above. `tool_choice` applies
//! to the turn's first model call. `GET /v1/responses/{id}` shows a task's latest turn.
//!
//! Anything else starts a new task. Its input is the last `user` message; the request's
//! `system`/`developer` messages (and Responses' `instructions`) and the earlier messages of
//! the conversation go to the model as a leading text part of that message ("Instructions from
//! the caller" and "Conversation so far"): the agent's own instructions stay its system prompt.

mod chat;
pub(crate) mod dto;
mod response_api;
mod stream_doc;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::responses::owned_by;
use crate::state::AppState;
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::{Extension, Json};
use baton_core::agent::{AgentRecord, AgentRef};
use baton_core::message::{Part, Role};
use baton_core::model::ToolDefinition;
use baton_core::store::{PageRequest, TaskRecord};
use baton_engine::follow::StreamItem;
use baton_engine::machine::RunEvent;
use baton_engine::state::{check_function, TurnTools};
use baton_engine::{Admission, Engine, EngineError, RunRequest};
use dto::{OpenAiListObject, OpenAiModel, OpenAiModelList, OpenAiModelObject};
use futures_util::stream::{self, BoxStream, StreamExt};
use serde_json::{json, Map, Value};
use std::convert::Infallible;
use std::future::Future;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Translates a turn's followed events into the SSE messages of one OpenAI stream format.
trait TurnTranslator: Send + 'static {
    /// The messages for a text delta (`whole`: the part's full text, once it is done).
    fn text(&mut self, part_id: &str, text: &str, whole: bool) -> Vec<SseEvent>;
    /// The last messages, from the task as the turn left it.
    fn end(&mut self) -> impl Future<Output = Vec<SseEvent>> + Send;
}

/// The messages of one followed item, and whether the stream ends with it.
async fn translate_item<T: TurnTranslator>(
    translator: &mut T,
    item: StreamItem,
) -> (Vec<SseEvent>, bool) {
    let StreamItem::Event(event) = item else {
        // A server shutting down mid-turn: the run goes on elsewhere, this stream ends.
        return (Vec::new(), matches!(item, StreamItem::Reconnect));
    };
    match &event.event {
        RunEvent::Delta {
            part_id,
            reasoning: false,
            text,
        } => (translator.text(part_id, text, false), false),
        RunEvent::TextDone { part_id, text } => (translator.text(part_id, text, true), false),
        e if e.is_terminal() => (translator.end().await, true),
        _ => (Vec::new(), false),
    }
}

/// The SSE answer of a streamed turn: `first`, then `events` as `translator` renders them.
fn translated_stream<T: TurnTranslator>(
    first: Vec<SseEvent>,
    events: BoxStream<'static, StreamItem>,
    translator: T,
) -> Sse<impl futures_util::Stream<Item = Result<SseEvent, Infallible>>> {
    let rest = stream::unfold(Some((events, translator)), |state| async move {
        let (mut events, mut translator) = state?;
        let item = events.next().await?;
        let (out, last) = translate_item(&mut translator, item).await;
        Some((out, (!last).then_some((events, translator))))
    })
    .flat_map(stream::iter);
    Sse::new(stream::iter(first).chain(rest).map(Ok)).keep_alive(KeepAlive::default())
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(models))
        .routes(routes!(chat::create))
        .routes(routes!(response_api::create))
        .routes(routes!(response_api::retrieve))
}

/// The prefix of a model naming an agent.
const AGENT_PREFIX: &str = "agent/";

/// List the project's agents as models (`agent/<key>`), newest first.
#[utoipa::path(get, path = "/v1/models", operation_id = "openai_models_list", tag = "openai",
    responses((status = 200, description = "The agents as models", body = OpenAiModelList)))]
pub(crate) async fn models(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<OpenAiModelList>, ApiError> {
    let page = state
        .engine
        .agents()
        .list(&caller.project, &PageRequest::default())
        .await?;
    let data = page
        .items
        .iter()
        .map(|a| OpenAiModel {
            id: format!("{AGENT_PREFIX}{}", a.spec.key),
            object: OpenAiModelObject::Model,
            created: unix_seconds(&a.created),
            owned_by: "baton".into(),
        })
        .collect();
    Ok(Json(OpenAiModelList {
        object: OpenAiListObject::List,
        data,
    }))
}

/// RFC 3339 as Unix seconds (0 when unreadable).
fn unix_seconds(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.timestamp())
        .unwrap_or_default()
}

/// A 404 about `model`, as OpenAI answers an unknown model.
fn unknown_model(model: &str) -> ApiError {
    let mut e = ApiError::not_found(format!(
        "The model `{model}` does not exist: name an agent as `agent/<key>` or `agent/<key>@<version>` (GET /v1/models lists them)"
    ));
    e.code = "model_not_found";
    e.param = Some("model".into());
    e
}

/// The agent and pinned version `model` names.
async fn resolve_model(
    state: &AppState,
    caller: &Caller,
    model: &str,
) -> Result<(AgentRecord, Option<u32>), ApiError> {
    let Some(reference) = model.strip_prefix(AGENT_PREFIX) else {
        return Err(unknown_model(model));
    };
    let reference = AgentRef::parse(reference).map_err(|_| unknown_model(model))?;
    let agent = match state
        .engine
        .agents()
        .get(&caller.project, reference.key)
        .await
    {
        Ok(agent) => agent,
        Err(EngineError::NotFound(_) | EngineError::AgentNotFound(_)) => {
            return Err(unknown_model(model))
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(version) = reference.version {
        match state.engine.agents().version(&agent, version).await {
            Ok(_) => {}
            Err(EngineError::NotFound(_) | EngineError::AgentNotFound(_)) => {
                return Err(unknown_model(model))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok((agent, reference.version))
}

/// A client-side call's id as clients see it: the task travels with it.
fn call_id_out(task_id: &str, call_id: &str) -> String {
    format!("call_{task_id}_{call_id}")
}

/// The task and the engine's call id of a call id this adapter gave out.
fn call_id_in(id: &str) -> Option<(&str, &str)> {
    let (task, call) = id.strip_prefix("call_")?.split_once('_')?;
    (!task.is_empty() && !call.is_empty()).then_some((task, call))
}

/// A response's id: its task and turn.
fn response_id_out(task_id: &str, response_id: &str) -> String {
    format!("resp_{task_id}_{response_id}")
}

/// The task of a response id this adapter gave out.
fn response_id_in(id: &str) -> Option<&str> {
    let (task, _) = id.strip_prefix("resp_")?.split_once('_')?;
    (!task.is_empty()).then_some(task)
}

/// The task `task_id` if this caller may see it (an end user sees only its own tasks:
/// another user's is as unknown as a missing one).
async fn visible_task(
    state: &AppState,
    caller: &Caller,
    task_id: &str,
) -> Result<Option<TaskRecord>, ApiError> {
    let Some(task) = state.engine.task(&caller.project, task_id).await? else {
        return Ok(None);
    };
    let visible = match caller.own_identity() {
        None => true,
        Some(own) => owned_by(&task, own)?,
    };
    Ok(visible.then_some(task))
}

/// A task of `agent` this caller may continue; `param` names the field that led to it.
async fn continued_task(
    state: &AppState,
    caller: &Caller,
    agent: &AgentRecord,
    task_id: &str,
    param: &str,
) -> Result<TaskRecord, ApiError> {
    let task = visible_task(state, caller, task_id)
        .await?
        .filter(|t| t.agent_id == agent.id);
    match task {
        Some(task) => Ok(task),
        _ => {
            let mut e = ApiError::not_found(format!(
                "{param}: no task `{task_id}` of this agent (it comes from an answer of another agent, or of no one)"
            ));
            e.param = Some(param.to_owned());
            Err(e)
        }
    }
}

/// The turn a request asks for: a message for a new task or for a continued one.
struct TurnInput {
    /// `user` text, or `tool` results.
    role: Role,
    /// The message's parts.
    parts: Vec<Part>,
    /// The task to continue, and the field that named it.
    task: Option<(String, String)>,
}

/// What a request adds besides its input.
struct RunOptions {
    stream: bool,
    user: Option<String>,
    metadata: Option<Map<String, Value>>,
    turn_tools: TurnTools,
}

/// A request's `tools` and `tool_choice` as the turn's own tools. Both of OpenAI's shapes are
/// read: chat's `{"type": "function", "function": {name, description, parameters}}` and the
/// Responses API's `{"type": "function", name, description, parameters}`.
fn turn_tools(
    tools: Option<&[dto::OpenAiToolDefinition]>,
    choice: Option<&Value>,
) -> Result<TurnTools, ApiError> {
    let mut functions = Vec::new();
    for (i, tool) in tools.unwrap_or_default().iter().enumerate() {
        if tool.kind != "function" {
            return Err(ApiError::invalid(
                format!("tools[{i}].type"),
                format!(
                    "`{}` tools are not offered here: only `function` tools, which the caller runs (the agent's own tools run on the server)",
                    tool.kind
                ),
            ));
        }
        let (prefix, name, description, parameters) = match &tool.function {
            Some(function) => (
                format!("tools[{i}].function."),
                function.get("name").cloned(),
                function.get("description").cloned(),
                function.get("parameters").cloned(),
            ),
            None => (
                format!("tools[{i}]."),
                tool.name.clone().map(Value::String),
                tool.description.clone().map(Value::String),
                tool.parameters.clone(),
            ),
        };
        let Some(Value::String(name)) = name else {
            return Err(ApiError::invalid(
                format!("{prefix}name"),
                "a function tool needs its name (a string)",
            ));
        };
        let description = match description {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(text)) => text,
            Some(_) => {
                return Err(ApiError::invalid(
                    format!("{prefix}description"),
                    "must be a string",
                ))
            }
        };
        let parameters = match parameters {
            None | Some(Value::Null) => json!({"type": "object", "properties": {}}),
            Some(schema) => schema,
        };
        let function = ToolDefinition {
            name,
            description,
            parameters,
        };
        if let Err((field, why)) = check_function(&function) {
            return Err(ApiError::invalid(format!("{prefix}{field}"), why));
        }
        if functions
            .iter()
            .any(|f: &ToolDefinition| f.name == function.name)
        {
            return Err(ApiError::invalid(
                format!("{prefix}name"),
                format!("`{}` is offered twice", function.name),
            ));
        }
        functions.push(function);
    }
    let choice = match choice {
        None | Some(Value::Null) => None,
        Some(Value::String(mode)) => Some(Value::String(mode.clone())),
        Some(Value::Object(named)) if named.get("type") == Some(&json!("function")) => {
            // Chat names it under `function`, the Responses API at the top.
            let name = named
                .get("function")
                .and_then(|f| f.get("name"))
                .or_else(|| named.get("name"))
                .cloned()
                .unwrap_or(Value::Null);
            Some(json!({"function": {"name": name}}))
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "tool_choice",
                "must be \"auto\", \"none\", \"required\" or a named function tool",
            ))
        }
    };
    let tools = TurnTools { functions, choice };
    if let Err((_, why)) = tools.check() {
        // The functions passed above: only the choice is left to be wrong.
        return Err(ApiError::invalid("tool_choice", why));
    }
    Ok(tools)
}

/// A turn's own tools as a response shows them: the tools and the tool choice.
fn shown_tools(tools: &TurnTools) -> (Vec<dto::OpenAiToolDefinition>, Value) {
    let definitions = tools
        .functions
        .iter()
        .map(|f| dto::OpenAiToolDefinition {
            kind: "function".into(),
            function: None,
            name: Some(f.name.clone()),
            description: Some(f.description.clone()),
            parameters: Some(f.parameters.clone()),
        })
        .collect();
    let choice = match &tools.choice {
        None => json!("auto"),
        Some(Value::Object(named)) => {
            let name = named
                .get("function")
                .and_then(|f| f.get("name"))
                .cloned()
                .unwrap_or(Value::Null);
            json!({"type": "function", "name": name})
        }
        Some(mode) => mode.clone(),
    };
    (definitions, choice)
}

/// The engine's run request for a turn, after the same checks `/v2` makes.
async fn run_request(
    state: &AppState,
    caller: &Caller,
    (agent, version): (AgentRecord, Option<u32>),
    input: TurnInput,
    options: RunOptions,
) -> Result<RunRequest, ApiError> {
    if let (Some(own), Some(user)) = (caller.own_identity(), &options.user) {
        if user != own {
            let mut e =
                ApiError::forbidden("user must be the token's subject: an end user acts as itself");
            e.param = Some("user".into());
            return Err(e);
        }
    }
    let task_id = match &input.task {
        Some((task_id, param)) => Some(
            continued_task(state, caller, &agent, task_id, param)
                .await?
                .id,
        ),
        None => None,
    };
    let identity = options
        .user
        .or_else(|| caller.subject.clone())
        .map(|id| json!({ "id": id }));
    Ok(RunRequest {
        project: caller.project.clone(),
        agent,
        // A pinned version applies to new tasks; a task keeps the version it started with.
        version: if task_id.is_some() { None } else { version },
        role: input.role,
        parts: input.parts,
        message_id: None,
        reviews: Vec::new(),
        lineage: None,
        task_id,
        multitask: Default::default(),
        background: false,
        stream: options.stream,
        variables: Map::new(),
        identity,
        thread_id: None,
        memory_entity_id: None,
        metadata: options.metadata.unwrap_or_default(),
        turn_tools: options.turn_tools,
    })
}

/// Admits a request's turn; the default strategy refuses a busy task (409) rather than queue.
async fn admit(state: &AppState, request: RunRequest) -> Result<baton_engine::Prepared, ApiError> {
    match state.engine.admit(request).await? {
        Admission::Run(prepared) => Ok(prepared),
        Admission::Queued(queued) => Err(ApiError::conflict(format!(
            "task `{}` is still running",
            queued.task.id
        ))),
    }
}

/// Runs a turn to its end on this server; the task after it.
async fn run_to_end(state: &AppState, request: RunRequest) -> Result<TaskRecord, ApiError> {
    let prepared = admit(state, request).await?;
    Ok(state.engine.run_turn(prepared).await?)
}

/// Starts a turn and follows its events from its start; the task as the turn starts.
async fn run_streamed(
    state: &AppState,
    request: RunRequest,
) -> Result<(TaskRecord, BoxStream<'static, StreamItem>), ApiError> {
    let prepared = admit(state, request).await?;
    let task = prepared.task.clone();
    let data = Engine::data(&task)?;
    // Followed before the run starts, from the task's last stored event: nothing is missed.
    let events = state
        .engine
        .follow_turn(
            &task.project_id,
            &task.id,
            data.event_seq,
            &data.response_id,
        )
        .boxed();
    let _run = state.engine.spawn(prepared);
    Ok((task, events))
}

/// The text of a message's content.
fn content_text(content: Option<&dto::OpenAiContent>) -> String {
    match content {
        None => String::new(),
        Some(dto::OpenAiContent::Text(text)) => text.clone(),
        Some(dto::OpenAiContent::Parts(parts)) => parts
            .iter()
            .filter_map(|p| p.text.as_deref())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// A tool's output as a result: JSON text is read as JSON, other text kept as text.
fn tool_output(text: String) -> Value {
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

/// The leading part of a new task's message: the caller's instructions and the conversation
/// before the last message. `None` when there are neither.
fn context_part(instructions: &[String], conversation: &[String]) -> Option<Part> {
    let mut sections = Vec::new();
    if !instructions.is_empty() {
        sections.push(format!(
            "Instructions from the caller:\n{}",
            instructions.join("\n")
        ));
    }
    if !conversation.is_empty() {
        sections.push(format!("Conversation so far:\n{}", conversation.join("\n")));
    }
    (!sections.is_empty()).then(|| Part::Text {
        text: sections.join("\n\n"),
    })
}

/// The text of a turn's answer: the text parts of its agent messages.
fn answer_text(data: &baton_engine::state::TaskData) -> String {
    let texts: Vec<&str> = data
        .turn_output()
        .iter()
        .filter(|m| m.role == Role::Agent)
        .flat_map(|m| &m.parts)
        .filter_map(|p| match p {
            Part::Text { text } if !text.is_empty() => Some(text.as_str()),
            _ => None,
        })
        .collect();
    texts.join("\n\n")
}

/// A call's arguments as OpenAI sends them: JSON text.
fn arguments_text(arguments: &Value) -> String {
    match arguments {
        Value::String(raw) => raw.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_task() {
        let call = call_id_out("01JTASK", "call_abc_1");
        assert_eq!(call_id_in(&call), Some(("01JTASK", "call_abc_1")));
        assert_eq!(call_id_in("call_abc"), None);
        assert_eq!(call_id_in("toolu_1"), None);
        let resp = response_id_out("01JTASK", "01JRESP");
        assert_eq!(response_id_in(&resp), Some("01JTASK"));
        assert_eq!(response_id_in("resp_"), None);
    }
}
