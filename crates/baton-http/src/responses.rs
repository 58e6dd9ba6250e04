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
use baton_core::message::{Message, Part, Role};
use baton_core::store::TaskRecord;
use baton_core::task::TaskState;
use baton_engine::follow::StreamItem;
use baton_engine::state::TaskData;
use baton_engine::{Engine, EngineError, RunRequest, ToolReview};
use futures_util::stream::{self, Stream, StreamExt};
use serde::Deserialize;
use serde_json::{json, Map, Value};
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
}

fn identity_json(identity: IdentityRef) -> Value {
    let mut map = identity.rest;
    map.insert("id".into(), Value::String(identity.id));
    Value::Object(map)
}

fn usage_json(u: &baton_core::usage::Usage) -> Value {
    let mut usage = json!({"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
           "total_tokens": u.total_tokens});
    // Model calls a stopped server cut: their tokens are unknown, so they are counted apart.
    if u.interrupted_model_calls > 0 {
        usage["interrupted_model_calls"] = json!(u.interrupted_model_calls);
    }
    usage
}

fn message_json(m: &Message) -> Value {
    json!({"messageId": m.message_id, "role": m.role, "parts": m.parts})
}

/// The body of a response: orq's `CreateAgentResponse` fields plus the A2A task fields.
fn response_json(task: &TaskRecord, data: &TaskData) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("_id".into(), json!(data.response_id));
    body.insert("task_id".into(), json!(task.id));
    body.insert("id".into(), json!(task.id));
    body.insert("contextId".into(), json!(data.context_id));
    body.insert("kind".into(), json!("task"));
    body.insert(
        "output".into(),
        Value::Array(data.turn_output().iter().map(message_json).collect()),
    );
    body.insert("created_at".into(), json!(task.created));
    body.insert("model".into(), json!(data.model));
    body.insert("usage".into(), usage_json(&data.turn_usage));
    body.insert(
        "finish_reason".into(),
        serde_json::to_value(data.finish).unwrap_or(Value::Null),
    );
    if task.state == TaskState::InputRequired {
        let pending: Vec<Value> = data
            .client_pending_calls()
            .iter()
            .map(|c| {
                json!({"id": c.id, "type": "function",
                       "function": {"name": c.name, "arguments": c.arguments.to_string()}})
            })
            .collect();
        body.insert("pending_tool_calls".into(), Value::Array(pending));
        if !data.awaiting_review.is_empty() {
            let reviews: Vec<Value> = data
                .awaiting_review
                .iter()
                .map(|c| {
                    let mut review = json!({"tool_call_id": c.id, "tool_name": c.name,
                                            "arguments": c.arguments});
                    // A call a stopped server cut: approve runs it again, reject skips it, or
                    // a tool result answers it.
                    if data.in_flight.get(&c.id).is_some_and(|a| a.interrupted) {
                        review["outcome"] = json!("unknown");
                    }
                    review
                })
                .collect();
            body.insert("pending_tool_reviews".into(), Value::Array(reviews));
        }
    }
    body.insert(
        "telemetry".into(),
        json!({"trace_id": data.trace_id, "span_id": data.span_id}),
    );
    body.insert(
        "metadata".into(),
        json!({"orq_agent_key": task.agent_key, "agent_version": task.agent_version}),
    );
    if let Some(error) = &data.error {
        body.insert("error".into(), json!(error));
    }
    if let Some(lineage) = &data.lineage {
        body.insert("parent_task_id".into(), json!(lineage.parent_task_id));
    }
    if !data.children.is_empty() {
        body.insert("child_task_ids".into(), json!(data.children));
    }
    body
}

fn post_json(task: &TaskRecord, data: &TaskData) -> Value {
    let mut body = response_json(task, data);
    body.insert(
        "status".into(),
        json!({"state": task.state, "timestamp": task.updated}),
    );
    Value::Object(body)
}

fn poll_status(state: TaskState) -> &'static str {
    match state {
        TaskState::Submitted | TaskState::Working => "in_progress",
        TaskState::Completed | TaskState::InputRequired | TaskState::AuthRequired => "completed",
        TaskState::Failed | TaskState::Canceled | TaskState::Rejected => "failed",
    }
}

/// Run an agent, or continue one of its tasks.
#[utoipa::path(post, path = "/v2/agents/{agent_key}/responses", operation_id = "responses_create", tag = "responses", request_body = Object,
    params(("agent_key" = String, Path, description = "`key` or `key@N`")),
    responses((status = 200, description = "The task's response (JSON), or an SSE stream when `stream: true`"),
              (status = 400, description = "Invalid field"), (status = 404, description = "Unknown agent or task"),
              (status = 409, description = "The task is still running"),
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
        background,
        stream: streaming,
        variables: body.variables,
        identity,
        thread_id: body.thread.map(|t| t.id),
        memory_entity_id: body.memory.map(|m| m.entity_id),
        metadata: body.metadata,
    };
    let engine = state.engine.clone();
    let prepared = engine.prepare(request).await?;
    if background {
        let data = Engine::data(&prepared.task)?;
        return Ok(Json(post_json(&prepared.task, &data)).into_response());
    }
    if streaming {
        // Followed from the task's last stored event, before the run starts: nothing is missed,
        // and a continued task's earlier turns are not replayed.
        let after = Engine::data(&prepared.task)?.event_seq;
        let task = &prepared.task;
        let events = engine.follow(&task.project_id, &task.id, after);
        tracing::debug!(task = %task.id, "streaming run");
        let _run = engine.spawn(prepared);
        return Ok(sse(events).into_response());
    }
    let task_id = prepared.task.id.clone();
    let project = prepared.task.project_id.clone();
    let run = engine.spawn(prepared);
    let finished = match engine.outcome(&task_id, run).await {
        Ok(Ok(task)) => task,
        Ok(Err(EngineError::LeaseLost(_))) | Err(_) => engine
            .task(&project, &task_id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("task `{task_id}` not found")))?,
        Ok(Err(e)) => return Err(e.into()),
    };
    let data = Engine::data(&finished)?;
    Ok(Json(post_json(&finished, &data)).into_response())
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
