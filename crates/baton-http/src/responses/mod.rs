//! `/v2/agents/{key}/responses`: run an agent synchronously, in the background or streamed,
//! continue its task, poll it, resume its event stream, cancel it; `/v2/threads/{id}`.

mod answer;
pub(crate) mod create;
pub(crate) mod dto;

use crate::agents::live_agent;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use crate::extract::Path;
use crate::orq_events::{item_to_sse, RunEventSse};
use crate::state::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use baton_core::agent::AgentRef;
use baton_core::store::TaskRecord;
use baton_engine::follow::StreamItem;
use baton_engine::Engine;
use dto::{AgentResponse, CreateResponseRequest, PolledResponse, ThreadTask, ThreadTasks};
use futures_util::stream::{self, Stream, StreamExt};
use serde_json::Value;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(get_response))
        .routes(routes!(stream))
        .routes(routes!(cancel))
        .routes(routes!(thread))
}

/// How a streamed answer is framed, for the document.
macro_rules! sse_framing {
    () => {
        "Each SSE message has `event: <type>`, `id: <n>` (stored events only; send the last one \
         back as `Last-Event-ID` to resume) and `data:` a `RunEventMessage` JSON object. \
         Keep-alive comments (`:`) may come between messages. The stream ends after \
         `response.done` or `response.failed` with `data: [DONE]`, or, when the server shuts \
         down mid-turn, with `event: reconnect` (no data): reconnect to `…/stream` with \
         `Last-Event-ID`."
    };
}

/// Run an agent, or continue one of its tasks: answers when the run pauses or ends, at once
/// with `background: true`, or with its events as they happen with `stream: true`.
#[utoipa::path(post, path = "/v2/agents/{agent_key}/responses", operation_id = "responses_create", tag = "responses",
    request_body = CreateResponseRequest,
    params(("agent_key" = String, Path, description = "`key` or `key@N`")),
    responses(
        (status = 200, description = concat!("The task after the run (JSON); with `stream: true`, the run's events \
            as `text/event-stream`. ", sse_framing!()),
            content((AgentResponse = "application/json"), (RunEventSse = "text/event-stream"))),
        (status = 403, description = "An end user named another identity, memory entity or task", body = ErrorBody),
        (status = 404, description = "Unknown agent, version, task or thread", body = ErrorBody),
        (status = 409, description = "The task is still running (`multitask_strategy: reject`): `task_busy`, with the task's running state in `task`", body = ErrorBody),
        (status = 503, description = "The database is unavailable (retry later), or the server shut down before a \
            synchronous run ended; the task named in the message continues on another server", body = ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_key): Path<String>,
    ApiJson(body): ApiJson<CreateResponseRequest>,
) -> Result<Response, ApiError> {
    let reference = AgentRef::parse(&agent_key)?;
    let agent = state
        .engine
        .agents()
        .for_run(&caller.project, reference.key)
        .await?;
    let (background, streaming) = (body.background, body.stream);
    // Boxed: the request's future lives until the run ends, and would otherwise keep room for
    // these stages (several KB) while it waits on the run.
    let request = Box::pin(create::run_request(
        &state,
        &caller,
        agent,
        reference.version,
        body,
    ))
    .await?;
    let admitted = Box::pin(state.engine.admit(request)).await?;
    answer::answer(&state.engine, admitted, background, streaming).await
}

/// A followed stream as SSE, ended by `[DONE]` — unless this server shuts down before the turn
/// ends: then by a `reconnect` event, without `[DONE]`, as the run goes on elsewhere.
fn sse(
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
pub(crate) fn owned_by(task: &TaskRecord, identity: &str) -> Result<bool, ApiError> {
    let data = Engine::data(task)?;
    Ok(data
        .identity
        .as_ref()
        .and_then(|i| i.get("id"))
        .and_then(Value::as_str)
        == Some(identity))
}

pub(crate) async fn agent_task(
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
    responses((status = 200, description = "The task's latest response", body = PolledResponse),
              (status = 404, description = "Unknown agent or task", body = ErrorBody)))]
pub(crate) async fn get_response(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, task_id)): Path<(String, String)>,
) -> Result<Json<PolledResponse>, ApiError> {
    let task = agent_task(&state, &caller, &agent_key, &task_id).await?;
    let data = Engine::data(&task)?;
    Ok(Json(PolledResponse::new(&task, &data)))
}

/// Resume a task's event stream on any server: the stored events after `Last-Event-ID`, then
/// new ones until the turn ends.
#[utoipa::path(get, path = "/v2/agents/{agent_key}/responses/{task_id}/stream", operation_id = "responses_stream", tag = "responses",
    params(("agent_key" = String, Path, description = "Agent key"), ("task_id" = String, Path, description = "Task id"),
           ("Last-Event-ID" = Option<String>, Header, nullable = false, pattern = "^[0-9]{1,19}$",
            description = "The `id` of the last event received: only later events are sent")),
    responses((status = 200, description = concat!("The task's events as `text/event-stream`. ", sse_framing!()), content((RunEventSse = "text/event-stream"))),
              (status = 400, description = "`Last-Event-ID` is not a number", body = ErrorBody),
              (status = 404, description = "Unknown agent or task", body = ErrorBody)))]
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
    responses((status = 200, description = "The task as the request found it; `cancel_requested` when it was running",
                  body = AgentResponse),
              (status = 404, description = "Unknown agent or task", body = ErrorBody)))]
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, task_id)): Path<(String, String)>,
) -> Result<Json<AgentResponse>, ApiError> {
    let task = agent_task(&state, &caller, &agent_key, &task_id).await?;
    let data = Engine::data(&task)?;
    let mut body = AgentResponse::new(&task, &data);
    if !task.state.is_inactive() {
        state.engine.cancel(&caller.project, &task.id).await?;
        body.cancel_requested = Some(true);
    }
    Ok(Json(body))
}

/// A thread and its tasks, oldest first.
#[utoipa::path(get, path = "/v2/threads/{thread_id}", operation_id = "threads_retrieve", tag = "responses",
    params(("thread_id" = String, Path, description = "Thread id")),
    responses((status = 200, description = "The thread's tasks with their messages", body = ThreadTasks),
              (status = 404, description = "Unknown thread", body = ErrorBody)))]
pub(crate) async fn thread(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(thread_id): Path<String>,
) -> Result<Json<ThreadTasks>, ApiError> {
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
    let tasks = tasks
        .iter()
        .map(|t| Ok(ThreadTask::new(t, &Engine::data(t)?)))
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(Json(ThreadTasks {
        id: thread_id,
        tasks,
    }))
}
