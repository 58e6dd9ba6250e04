//! `/v2/agents/{key}/responses`: run an agent synchronously, in the background or streamed,
//! continue its task, poll it, resume its event stream, cancel it; `/v2/threads/{id}`.

use crate::agents::live_agent;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::extract::Path;
use crate::orq_events::item_to_sse;
use crate::state::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use baton_core::agent::AgentRef;
use baton_core::message::{Part, Role};
use baton_core::store::TaskRecord;
use baton_core::task::TaskState;
use baton_engine::follow::StreamItem;
use baton_engine::{Engine, MultitaskStrategy, RunRequest, ToolReview};
use futures_util::stream::{self, Stream, StreamExt};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

mod answer;
mod body;

use body::{message_json, poll_status, post_json, response_json, usage_json};

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(get_response))
        .routes(routes!(stream))
        .routes(routes!(cancel))
        .routes(routes!(thread))
}

#[derive(Deserialize)]
pub(crate) struct InputMessage {
    role: Role,
    parts: Vec<Part>,
    #[serde(default, rename = "messageId")]
    message_id: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct ThreadRef {
    id: String,
}

#[derive(Deserialize)]
pub(crate) struct MemoryRef {
    entity_id: String,
}

#[derive(Deserialize)]
pub(crate) struct IdentityRef {
    id: String,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

/// A reviewer's decision on a call waiting for approval.
#[derive(Deserialize)]
pub(crate) struct ToolReviewBody {
    tool_call_id: String,
    review: ReviewDecision,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ReviewDecision {
    Approved,
    Rejected,
}

#[derive(Deserialize)]
pub(crate) struct ResponseBody {
    #[serde(default)]
    message: Option<InputMessage>,
    #[serde(default)]
    tool_reviews: Vec<ToolReviewBody>,
    #[serde(default)]
    task_id: Option<String>,
    #[serde(default)]
    variables: Map<String, Value>,
    #[serde(default)]
    identity: Option<IdentityRef>,
    #[serde(default)]
    contact: Option<IdentityRef>,
    #[serde(default)]
    thread: Option<ThreadRef>,
    #[serde(default)]
    memory: Option<MemoryRef>,
    #[serde(default)]
    metadata: Map<String, Value>,
    #[serde(default)]
    background: bool,
    #[serde(default)]
    stream: bool,
    /// What the message does if the task is still running (a Baton extension).
    #[serde(default)]
    multitask_strategy: MultitaskStrategy,
}

fn identity_json(identity: IdentityRef) -> Value {
    let mut map = identity.rest;
    map.insert("id".into(), Value::String(identity.id));
    Value::Object(map)
}

/// Run an agent, or continue one of its tasks.
#[utoipa::path(post, path = "/v2/agents/{agent_key}/responses", operation_id = "responses_create", tag = "responses", request_body = Object,
    params(("agent_key" = String, Path, description = "`key` or `key@N`")),
    responses((status = 200, description = "The task's response (JSON), or an SSE stream when `stream: true`"),
              (status = 400, description = "Invalid field"), (status = 404, description = "Unknown agent or task"),
              (status = 409, description = "The task is still running (`multitask_strategy: reject`): `task_busy`, with the task's running state in `task`", body = crate::error::ErrorBody),
              (status = 503, description = "The database is unavailable (retry later), or the server shut down before a synchronous run ended; the task named in the message continues on another server")))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_key): Path<String>,
    ApiJson(body): ApiJson<ResponseBody>,
) -> Result<Response, ApiError> {
    let reference = AgentRef::parse(&agent_key)?;
    let agent = live_agent(&state, &caller.project, reference.key).await?;
    let background = body.background;
    let streaming = body.stream;
    let message = match body.message {
        Some(message) => message,
        None if !body.tool_reviews.is_empty() => InputMessage {
            role: Role::Tool,
            parts: Vec::new(),
            message_id: None,
        },
        None => {
            return Err(ApiError::invalid(
                "message",
                "is required (or send tool_reviews with task_id to answer a review)",
            ))
        }
    };
    let reviews = body
        .tool_reviews
        .into_iter()
        .map(|r| ToolReview {
            tool_call_id: r.tool_call_id,
            approved: r.review == ReviewDecision::Approved,
            reason: r.reason,
        })
        .collect();
    // A front end's JWT subject is the run's identity unless the request names one; an end
    // user confined to its own tasks can name no other.
    let identity = body.identity.or(body.contact);
    if let (Some(own), Some(named)) = (caller.own_identity(), &identity) {
        if named.id != own {
            return Err(ApiError::forbidden(
                "identity.id must be the token's subject: an end user acts as itself",
            ));
        }
    }
    let identity = identity
        .map(identity_json)
        .or_else(|| caller.subject.as_ref().map(|s| json!({"id": s})));
    if let Some(own) = caller.own_identity() {
        // Memories are per entity: an end user's agent reads and writes only its own.
        if body.memory.as_ref().is_some_and(|m| m.entity_id != own) {
            return Err(ApiError::forbidden(
                "memory.entity_id must be the token's subject: an end user has only its own memories",
            ));
        }
        if let Some(task_id) = &body.task_id {
            let task = state.engine.task(&caller.project, task_id).await?;
            if !task
                .as_ref()
                .map(|t| owned_by(t, own))
                .transpose()?
                .unwrap_or(false)
            {
                return Err(ApiError::not_found(format!("task `{task_id}` not found")));
            }
        }
        if let Some(thread) = &body.thread {
            // A thread's history becomes the new task's context: only one's own.
            for task in state
                .engine
                .thread_tasks(&caller.project, &thread.id)
                .await?
            {
                if !owned_by(&task, own)? {
                    return Err(ApiError::not_found(format!(
                        "thread `{}` not found",
                        thread.id
                    )));
                }
            }
        }
    }
    let request = RunRequest {
        project: caller.project,
        agent,
        version: reference.version,
        role: message.role,
        parts: message.parts,
        message_id: message.message_id,
        reviews,
        lineage: None,
        task_id: body.task_id,
        multitask: body.multitask_strategy,
        background,
        stream: streaming,
        variables: body.variables,
        identity,
        thread_id: body.thread.map(|t| t.id),
        memory_entity_id: body.memory.map(|m| m.entity_id),
        metadata: body.metadata,
    };
    let admitted = state.engine.admit(request).await?;
    answer::answer(&state.engine, admitted, background, streaming).await
}

/// A followed stream as SSE, ended by `[DONE]` — unless this server shuts down before the turn
/// ends: then by a `reconnect` event, without `[DONE]`, as the run goes on elsewhere.
pub(super) fn sse(
    events: impl Stream<Item = StreamItem> + Send + 'static,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>> + Send + 'static> {
    let cut = Arc::new(AtomicBool::new(false));
    let seen = cut.clone();
    let done = stream::once(async move {
        (!seen.load(Ordering::SeqCst)).then(|| SseEvent::default().data("[DONE]"))
    })
    .filter_map(std::future::ready);
    let messages = events
        .map(move |item| {
            if matches!(item, StreamItem::Reconnect) {
                cut.store(true, Ordering::SeqCst);
            }
            item_to_sse(&item)
        })
        .chain(done);
    Sse::new(messages.map(Ok)).keep_alive(KeepAlive::default())
}

/// Whether a task acts for this identity (its `identity.id`).
fn owned_by(task: &TaskRecord, identity: &str) -> Result<bool, ApiError> {
    let data = Engine::data(task)?;
    Ok(data
        .identity
        .as_ref()
        .and_then(|i| i.get("id"))
        .and_then(Value::as_str)
        == Some(identity))
}

async fn agent_task(
    state: &AppState,
    caller: &Caller,
    agent_key: &str,
    task_id: &str,
) -> Result<TaskRecord, ApiError> {
    let reference = AgentRef::parse(agent_key)?;
    let agent = live_agent(state, &caller.project, reference.key).await?;
    let task = state
        .engine
        .task(&caller.project, task_id)
        .await?
        .filter(|t| t.agent_id == agent.id);
    match (task, caller.own_identity()) {
        (Some(task), None) => Ok(task),
        // Another user's task is as unknown as a missing one.
        (Some(task), Some(own)) if owned_by(&task, own)? => Ok(task),
        _ => Err(ApiError::not_found(format!("task `{task_id}` not found"))),
    }
}

/// Poll a task: `status` is `in_progress`, `completed` or `failed`.
#[utoipa::path(get, path = "/v2/agents/{agent_key}/responses/{task_id}", operation_id = "responses_retrieve", tag = "responses",
    params(("agent_key" = String, Path, description = "Agent key"), ("task_id" = String, Path, description = "Task id")),
    responses((status = 200, description = "The task's latest response"), (status = 404, description = "Unknown agent or task")))]
pub(crate) async fn get_response(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, task_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let task = agent_task(&state, &caller, &agent_key, &task_id).await?;
    let data = Engine::data(&task)?;
    let mut body = response_json(&task, &data);
    if matches!(task.state, TaskState::Submitted | TaskState::Working) {
        body.insert("output".into(), json!([]));
    }
    body.insert("status".into(), json!(poll_status(task.state)));
    body.insert("state".into(), json!(task.state));
    Ok(Json(Value::Object(body)))
}

/// Resume a task's event stream on any server: the stored events after `Last-Event-ID`, then
/// new ones until the turn ends.
#[utoipa::path(get, path = "/v2/agents/{agent_key}/responses/{task_id}/stream", operation_id = "responses_stream", tag = "responses",
    params(("agent_key" = String, Path, description = "Agent key"), ("task_id" = String, Path, description = "Task id"),
           ("Last-Event-ID" = Option<String>, Header, description = "Last event id received")),
    responses((status = 200, description = "SSE stream"), (status = 404, description = "Unknown agent or task")))]
pub(crate) async fn stream(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, task_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let after = match headers.get("last-event-id") {
        None => 0,
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .ok_or_else(|| ApiError::invalid("Last-Event-ID", "must be an event id (a number)"))?,
    };
    // The task must exist and be the caller's before anything is kept for it.
    let task = agent_task(&state, &caller, &agent_key, &task_id).await?;
    let events = state.engine.follow(&caller.project, &task.id, after);
    Ok(sse(events).into_response())
}

/// Cancel a task: it ends `canceled` at its next await point.
#[utoipa::path(post, path = "/v2/agents/{agent_key}/responses/{task_id}/cancel", operation_id = "responses_cancel", tag = "responses",
    params(("agent_key" = String, Path, description = "Agent key"), ("task_id" = String, Path, description = "Task id")),
    responses((status = 200, description = "The task after the request"), (status = 404, description = "Unknown agent or task")))]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, task_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let task = agent_task(&state, &caller, &agent_key, &task_id).await?;
    if task.state.is_inactive() {
        let data = Engine::data(&task)?;
        return Ok(Json(post_json(&task, &data)));
    }
    state.engine.cancel(&caller.project, &task.id).await?;
    let data = Engine::data(&task)?;
    let mut body = post_json(&task, &data);
    body["cancel_requested"] = json!(true);
    Ok(Json(body))
}

/// A thread and its tasks, oldest first.
#[utoipa::path(get, path = "/v2/threads/{thread_id}", operation_id = "threads_retrieve", tag = "responses",
    params(("thread_id" = String, Path, description = "Thread id")),
    responses((status = 200, description = "`{id, tasks: [...]}`"), (status = 404, description = "Unknown thread")))]
pub(crate) async fn thread(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(thread_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let mut tasks = state
        .engine
        .thread_tasks(&caller.project, &thread_id)
        .await?;
    if let Some(own) = caller.own_identity() {
        let mut mine = Vec::with_capacity(tasks.len());
        for task in tasks {
            if owned_by(&task, own)? {
                mine.push(task);
            }
        }
        tasks = mine;
    }
    if tasks.is_empty() {
        return Err(ApiError::not_found(format!(
            "thread `{thread_id}` not found"
        )));
    }
    let items = tasks
        .iter()
        .map(|t| {
            let data = Engine::data(t)?;
            Ok(json!({
                "task_id": t.id,
                "agent_key": t.agent_key,
                "state": t.state,
                "created_at": t.created,
                "updated_at": t.updated,
                "messages": data.history.iter().map(message_json).collect::<Vec<_>>(),
                "usage": usage_json(&data.usage),
            }))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(Json(json!({"id": thread_id, "tasks": items})))
}
