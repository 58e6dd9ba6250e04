//! Orchestra's `POST /api/llm/invoke` and `/api/llm/stream`: one agent turn, of an assistant
//! (`metadata.assistant_id`) or of the model and tools the request names, on a Baton thread
//! (`metadata.thread_id` continues one).

use super::assistants::{baton_model, tool_refs};
use super::messages::{out_messages, OutMessage};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use crate::orq_events::item_to_sse;
use crate::scope::Scope;
use crate::state::AppState;
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use baton_core::agent::AgentRecord;
use baton_core::message::{Part, Role};
use baton_core::store::TaskRecord;
use baton_engine::{Engine, EngineError, RunRequest};
use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map};
use std::convert::Infallible;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(invoke))
        .routes(routes!(stream))
}

/// One input message.
#[derive(Deserialize, ToSchema)]
pub(crate) struct LlmInputMessage {
    /// `user` (or `human`) and `system`; earlier turns come from the thread.
    role: String,
    /// Its text.
    content: String,
}

/// The conversation input.
#[derive(Deserialize, ToSchema)]
pub(crate) struct LlmInput {
    /// The new messages.
    messages: Vec<LlmInputMessage>,
}

/// Which assistant runs, on which thread.
#[derive(Deserialize, ToSchema, Default)]
pub(crate) struct LlmMetadata {
    /// Run this assistant (then leave `model`, `tools` and `system` out).
    #[serde(default)]
    assistant_id: Option<String>,
    /// Continue this thread (from an earlier answer or `POST /api/threads`).
    #[serde(default)]
    thread_id: Option<String>,
}

/// A run request, Orchestra's form.
#[derive(Deserialize, ToSchema)]
pub(crate) struct LlmBody {
    /// `vendor:model`, without an assistant.
    #[serde(default)]
    model: Option<String>,
    /// The new messages.
    #[serde(deserialize_with = "super::object_field")]
    input: LlmInput,
    /// Stored tools by name, without an assistant.
    #[serde(default)]
    tools: Vec<String>,
    /// A system prompt, without an assistant.
    #[serde(default)]
    system: Option<String>,
    /// Assistant and thread.
    #[serde(default, deserialize_with = "super::object_field")]
    metadata: LlmMetadata,
}

/// The answer of a run.
#[derive(Serialize, ToSchema)]
pub(crate) struct LlmAnswer {
    /// The thread: pass it as `metadata.thread_id` to continue.
    thread_id: String,
    /// The assistant that ran (the ad-hoc agent's key without one).
    assistant_id: String,
    /// The Baton task of this turn (`/v2/agents/{assistant_id}/responses/{task_id}`).
    task_id: String,
    /// `completed`, `failed`, `input-required`, ….
    status: String,
    /// The model's messages and tool results of this turn, in order.
    messages: Vec<OutMessage>,
    /// Why the run failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// The agent a request runs: its assistant, or one stored for its model, tools and system
/// prompt (the same configuration reuses the same agent, `llm-<hash>`).
async fn agent_for(
    state: &AppState,
    caller: &Caller,
    body: &LlmBody,
) -> Result<AgentRecord, ApiError> {
    if let Some(id) = &body.metadata.assistant_id {
        if body.model.is_some() || !body.tools.is_empty() || body.system.is_some() {
            return Err(ApiError::invalid(
                "metadata.assistant_id",
                "runs the assistant as configured: leave model, tools and system out (update the assistant instead)",
            ));
        }
        return Ok(state.engine.agents().get(&caller.project, id).await?);
    }
    // Without an assistant the run stores an agent: that takes the right to write agents.
    if !caller.scopes.has(Scope::AgentsWrite) {
        return Err(ApiError::forbidden(format!(
            "this credential lacks the `{}` scope needed to run without metadata.assistant_id",
            Scope::AgentsWrite.name()
        )));
    }
    let Some(model) = body.model.as_deref() else {
        return Err(ApiError::invalid(
            "model",
            "is required without metadata.assistant_id (`vendor:model`)",
        ));
    };
    let model = baton_model(model);
    let tools = tool_refs(state, &caller.project, "tools", &body.tools).await?;
    let config = json!({"model": model, "tools": tools, "system": body.system});
    let key = format!("llm-{}", &crate::hash_api_key(&config.to_string())[..16]);
    match state.engine.agents().get(&caller.project, &key).await {
        Ok(agent) => return Ok(agent),
        Err(EngineError::NotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let spec = crate::extract::from_any_value(json!({
        "key": key, "role": "Assistant", "description": "Runs of /api/llm without an assistant",
        "instructions": "", "path": "Default", "model": model,
        "system_prompt": body.system, "settings": {"tools": tools},
    }))?;
    match state.engine.agents().create(&caller.project, spec).await {
        Ok(agent) => Ok(agent),
        // Made by a concurrent request with the same configuration.
        Err(EngineError::Conflict(_)) => {
            Ok(state.engine.agents().get(&caller.project, &key).await?)
        }
        Err(e) => Err(e.into()),
    }
}

/// The run request and its thread id. `system` input messages join the request's `system`.
async fn run_request(
    state: &AppState,
    caller: &Caller,
    mut body: LlmBody,
    stream: bool,
) -> Result<(RunRequest, String), ApiError> {
    let mut parts = Vec::new();
    let mut system: Vec<String> = body.system.take().into_iter().collect();
    for (i, message) in std::mem::take(&mut body.input.messages)
        .into_iter()
        .enumerate()
    {
        match message.role.as_str() {
            "user" | "human" => parts.push(Part::Text {
                text: message.content,
            }),
            "system" => system.push(message.content),
            other => {
                return Err(ApiError::invalid(
                    format!("input.messages[{i}].role"),
                    format!("`{other}` messages are not sent: continue a conversation with metadata.thread_id"),
                ))
            }
        }
    }
    if parts.is_empty() {
        return Err(ApiError::invalid(
            "input.messages",
            "send at least one `user` message",
        ));
    }
    body.system = (!system.is_empty()).then(|| system.join("\n"));
    let agent = agent_for(state, caller, &body).await?;
    let thread_id = body
        .metadata
        .thread_id
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| baton_core::id::new_id().to_lowercase());
    super::threads::may_run_on(state, caller, &thread_id).await?;
    let request = RunRequest {
        multitask: Default::default(),
        project: caller.project.clone(),
        agent,
        version: None,
        role: Role::User,
        parts,
        message_id: None,
        reviews: Vec::new(),
        lineage: None,
        turn_tools: Default::default(),
        task_id: None,
        background: false,
        stream,
        variables: Map::new(),
        identity: caller.subject.as_ref().map(|s| json!({ "id": s })),
        thread_id: Some(thread_id.clone()),
        memory_entity_id: None,
        metadata: Map::new(),
    };
    Ok((request, thread_id))
}

fn answer(task: &TaskRecord, thread_id: String) -> Result<LlmAnswer, ApiError> {
    let data = Engine::data(task)?;
    Ok(LlmAnswer {
        thread_id,
        assistant_id: task.agent_key.clone(),
        task_id: task.id.clone(),
        status: serde_json::to_value(task.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        messages: out_messages(data.turn_output(), false),
        error: data.error.clone(),
    })
}

/// Runs a prepared request on this server until its turn ends, and reads the task back.
async fn finish(engine: &Engine, prepared: baton_engine::Prepared) -> Result<TaskRecord, ApiError> {
    let task_id = prepared.task.id.clone();
    let project = prepared.task.project_id.clone();
    let run = engine.spawn(prepared);
    match engine.outcome(&task_id, run).await {
        Ok(Ok(task)) => Ok(task),
        Ok(Err(EngineError::LeaseLost(_))) | Err(_) => engine
            .task(&project, &task_id)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("task `{task_id}` not found"))),
        Ok(Err(e)) => Err(e.into()),
    }
}

/// Run one agent turn: the model may call the tools; the answer lists its messages, calls and
/// results.
#[utoipa::path(post, path = "/api/llm/invoke", operation_id = "orchestra_llm_invoke", tag = "orchestra",
    request_body(content = LlmBody, example = json!({"model": "openai:gpt-5.2",
        "input": {"messages": [{"role": "user", "content": "Write a short post and publish it."}]},
        "tools": ["create_post"]})),
    responses((status = 200, description = "The turn", body = LlmAnswer),
              (status = 400, description = "Invalid field", body = ErrorBody),
              (status = 404, description = "Unknown assistant", body = ErrorBody)))]
pub(crate) async fn invoke(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<LlmBody>,
) -> Result<Json<LlmAnswer>, ApiError> {
    let (request, thread_id) = run_request(&state, &caller, body, false).await?;
    let prepared = state.engine.prepare(request).await?;
    let task = finish(&state.engine, prepared).await?;
    Ok(Json(answer(&task, thread_id)?))
}

/// Run one agent turn as server-sent events: the run's events as `/v2` streams send them
/// (`event: <type>`, `data: {...}`), then `event: result` with the answer `/api/llm/invoke`
/// gives, then `data: [DONE]`.
#[utoipa::path(post, path = "/api/llm/stream", operation_id = "orchestra_llm_stream", tag = "orchestra",
    request_body(content = LlmBody, example = json!({
        "input": {"messages": [{"role": "user", "content": "Publish a post announcing our new feature."}]},
        "metadata": {"assistant_id": "asst-01jexample"}})),
    responses((status = 200, description = "The turn's events as `text/event-stream`, framed as on \
        `responses_stream` (`RunEventMessage` data), then `event: result` whose data is the \
        `LlmAnswer` JSON, then `data: [DONE]`.",
        content((super::stream_doc::LlmStreamSse = "text/event-stream"))),
              (status = 400, description = "Invalid field", body = ErrorBody),
              (status = 404, description = "Unknown assistant", body = ErrorBody)))]
pub(crate) async fn stream(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<LlmBody>,
) -> Result<Response, ApiError> {
    let (request, thread_id) = run_request(&state, &caller, body, true).await?;
    let engine = state.engine.clone();
    let prepared = engine.prepare(request).await?;
    let after = Engine::data(&prepared.task)?.event_seq;
    let (project, task_id) = (prepared.task.project_id.clone(), prepared.task.id.clone());
    let events = engine.follow(&project, &task_id, after);
    let _run = engine.spawn(prepared);
    let result = stream::once(async move {
        let task = engine.task(&project, &task_id).await.ok().flatten();
        let event = task
            .and_then(|t| answer(&t, thread_id).ok())
            .and_then(|a| serde_json::to_string(&a).ok())
            .map(|data| SseEvent::default().event("result").data(data));
        stream::iter(
            event
                .into_iter()
                .chain([SseEvent::default().data("[DONE]")]),
        )
    })
    .flatten();
    let all = events.map(|item| item_to_sse(&item)).chain(result);
    Ok(Sse::new(all.map(Ok::<_, Infallible>))
        .keep_alive(KeepAlive::default())
        .into_response())
}
