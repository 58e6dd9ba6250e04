//! The HTTP+JSON (REST) binding: A2A's resource paths under `/a2a/{agent_key}`, errors as
//! `google.rpc.Status` bodies with the matching HTTP status.

use super::error::{A2aError, A2aErrorBody};
use super::push;
use super::service::{self, Sent};
use super::types::{
    A2aEmpty, A2aListPushConfigsResponse, A2aListTasksRequest, A2aListTasksResponse,
    A2aSendMessageRequest, A2aSendMessageResponse, A2aStreamResponse, A2aTask,
    A2aTaskPushNotificationConfig,
};
use crate::auth::Caller;
use crate::extract::Path;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use futures_util::stream::{BoxStream, StreamExt};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::convert::Infallible;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(send_message))
        .routes(routes!(stream_message))
        .routes(routes!(list_tasks))
        .routes(routes!(get_task, task_action))
        .routes(routes!(create_push_config, list_push_configs))
        .routes(routes!(get_push_config, delete_push_config))
}

/// A JSON body (any media type: A2A clients send `application/a2a+json` too).
fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, A2aError> {
    crate::extract::parse_json(bytes).map_err(A2aError::from)
}

/// Query parameters as the typed request they spell (numbers and booleans from their text).
fn query<T: DeserializeOwned>(params: BTreeMap<String, String>) -> Result<T, A2aError> {
    let mut object = Map::new();
    for (key, raw) in params {
        let value = match key.as_str() {
            "pageSize" | "historyLength" => raw
                .parse::<u64>()
                .map(Value::from)
                .map_err(|_| A2aError::params(format!("{key}: must be a whole number")))?,
            "includeArtifacts" => raw
                .parse::<bool>()
                .map(Value::from)
                .map_err(|_| A2aError::params(format!("{key}: must be true or false")))?,
            _ => Value::String(raw),
        };
        object.insert(key, value);
    }
    crate::extract::from_value(Value::Object(object)).map_err(A2aError::from)
}

fn sse(updates: BoxStream<'static, A2aStreamResponse>) -> Response {
    let messages = updates.map(|update| {
        Ok::<_, Infallible>(
            Event::default().data(serde_json::to_string(&update).unwrap_or_default()),
        )
    });
    Sse::new(messages)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// Send a message: a new task, or the next turn of the task `message.taskId` names. Answers
/// when the turn ends or pauses (`TASK_STATE_INPUT_REQUIRED`), or at once with
/// `configuration.returnImmediately`.
#[utoipa::path(post, path = "/a2a/{agent_key}/message:send", operation_id = "agent_message_send", tag = "a2a",
    request_body = A2aSendMessageRequest,
    params(("agent_key" = String, Path, description = "Agent key")),
    responses((status = 200, description = "The task", body = A2aSendMessageResponse),
              (status = 400, description = "Bad parameters", body = A2aErrorBody),
              (status = 403, description = "An end user named another's task", body = A2aErrorBody),
              (status = 404, description = "Unknown agent or task", body = A2aErrorBody),
              (status = 409, description = "The task is still running", body = A2aErrorBody)))]
pub(crate) async fn send_message(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_key): Path<String>,
    bytes: Bytes,
) -> Result<Json<A2aSendMessageResponse>, A2aError> {
    let req: A2aSendMessageRequest = body(&bytes)?;
    match service::send(&state, &caller, &agent_key, req, false).await? {
        Sent::Task(task) => Ok(Json(A2aSendMessageResponse {
            task: Some(*task),
            message: None,
        })),
        Sent::Stream(_) => Err(A2aError::new(
            super::error::A2aErrorKind::Internal,
            "a stream answered a message sent without streaming",
        )),
    }
}

/// Send a message and follow its task: SSE messages whose `data:` is a stream response — the
/// task first, then status and artifact updates until the turn ends or pauses.
#[utoipa::path(post, path = "/a2a/{agent_key}/message:stream", operation_id = "agent_message_stream", tag = "a2a",
    request_body = A2aSendMessageRequest,
    params(("agent_key" = String, Path, description = "Agent key")),
    responses((status = 200, description = "The task's updates as `text/event-stream`", content((A2aStreamResponse = "text/event-stream"))),
              (status = 400, description = "Bad parameters", body = A2aErrorBody),
              (status = 403, description = "An end user named another's task", body = A2aErrorBody),
              (status = 404, description = "Unknown agent or task", body = A2aErrorBody),
              (status = 409, description = "The task is still running", body = A2aErrorBody)))]
pub(crate) async fn stream_message(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_key): Path<String>,
    bytes: Bytes,
) -> Result<Response, A2aError> {
    let req: A2aSendMessageRequest = body(&bytes)?;
    match service::send(&state, &caller, &agent_key, req, true).await? {
        Sent::Stream(updates) => Ok(sse(updates)),
        Sent::Task(task) => Ok(Json(A2aSendMessageResponse {
            task: Some(*task),
            message: None,
        })
        .into_response()),
    }
}

/// List the tasks of a context (`contextId` is required), newest first.
#[utoipa::path(get, path = "/a2a/{agent_key}/tasks", operation_id = "agent_tasks_list", tag = "a2a",
    params(("agent_key" = String, Path, description = "Agent key"),
           ("contextId" = String, Query, description = "The context whose tasks to list"),
           ("status" = Option<String>, Query, nullable = false, description = "Only tasks in this state (`TASK_STATE_…`)"),
           ("pageSize" = Option<u32>, Query, nullable = false, minimum = 1, maximum = 100, description = "Tasks per page (default 50)"),
           ("pageToken" = Option<String>, Query, nullable = false, description = "`nextPageToken` of the previous page"),
           ("historyLength" = Option<u32>, Query, nullable = false, description = "History messages per task (default 0)"),
           ("includeArtifacts" = Option<bool>, Query, nullable = false, description = "Show artifacts")),
    responses((status = 200, description = "A page of tasks", body = A2aListTasksResponse),
              (status = 400, description = "Bad parameters", body = A2aErrorBody),
              (status = 404, description = "Unknown agent", body = A2aErrorBody)))]
pub(crate) async fn list_tasks(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_key): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Json<A2aListTasksResponse>, A2aError> {
    let req: A2aListTasksRequest = query(params)?;
    Ok(Json(
        service::list_tasks(&state, &caller, &agent_key, req).await?,
    ))
}

/// Get a task with its history and artifacts.
#[utoipa::path(get, path = "/a2a/{agent_key}/tasks/{task_id}", operation_id = "agent_tasks_retrieve", tag = "a2a",
    params(("agent_key" = String, Path, description = "Agent key"), ("task_id" = String, Path, description = "Task id"),
           ("historyLength" = Option<u32>, Query, nullable = false, description = "The last this many history messages (all when absent)")),
    responses((status = 200, description = "The task", body = A2aTask),
              (status = 400, description = "Bad parameters", body = A2aErrorBody),
              (status = 404, description = "Unknown agent or task", body = A2aErrorBody)))]
pub(crate) async fn get_task(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, task_id)): Path<(String, String)>,
    Query(mut params): Query<BTreeMap<String, String>>,
) -> Result<Json<A2aTask>, A2aError> {
    params.retain(|k, _| k == "historyLength");
    params.insert("id".into(), task_id);
    let req = query(params)?;
    Ok(Json(
        service::get_task(&state, &caller, &agent_key, req).await?,
    ))
}

/// `{id}:cancel` cancels a running task (JSON answer: the task); `{id}:subscribe` follows a
/// running task's updates (SSE, as `message:stream`).
#[utoipa::path(post, path = "/a2a/{agent_key}/tasks/{task_id}", operation_id = "agent_tasks_act", tag = "a2a",
    params(("agent_key" = String, Path, description = "Agent key"),
           ("task_id" = String, Path, description = "`<task id>:cancel` or `<task id>:subscribe`")),
    responses((status = 200, description = "`:cancel`: the task (JSON); `:subscribe`: its updates (`text/event-stream`)",
                  content((A2aTask = "application/json"), (A2aStreamResponse = "text/event-stream"))),
              (status = 400, description = "The task no longer runs (TASK_NOT_CANCELABLE, UNSUPPORTED_OPERATION)", body = A2aErrorBody),
              (status = 404, description = "Unknown agent, task or action", body = A2aErrorBody)))]
pub(crate) async fn task_action(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, action)): Path<(String, String)>,
) -> Result<Response, A2aError> {
    match action.rsplit_once(':') {
        Some((id, "cancel")) => {
            Ok(Json(service::cancel_task(&state, &caller, &agent_key, id).await?).into_response())
        }
        Some((id, "subscribe")) => Ok(sse(
            service::subscribe(&state, &caller, &agent_key, id).await?
        )),
        _ => Err(A2aError::new(
            super::error::A2aErrorKind::MethodNotFound,
            format!("`{action}`: expected `<task id>:cancel` or `<task id>:subscribe`"),
        )),
    }
}

/// Register a webhook for a task's updates.
#[utoipa::path(post, path = "/a2a/{agent_key}/tasks/{task_id}/pushNotificationConfigs", operation_id = "agent_push_configs_create", tag = "a2a",
    request_body = A2aTaskPushNotificationConfig,
    params(("agent_key" = String, Path, description = "Agent key"), ("task_id" = String, Path, description = "Task id")),
    responses((status = 200, description = "The config, with its id", body = A2aTaskPushNotificationConfig),
              (status = 400, description = "Bad parameters, or push notifications are off", body = A2aErrorBody),
              (status = 404, description = "Unknown agent or task", body = A2aErrorBody)))]
pub(crate) async fn create_push_config(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, task_id)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<A2aTaskPushNotificationConfig>, A2aError> {
    let config: A2aTaskPushNotificationConfig = body(&bytes)?;
    Ok(Json(
        push::create(&state, &caller, &agent_key, &task_id, config).await?,
    ))
}

/// A task's webhooks.
#[utoipa::path(get, path = "/a2a/{agent_key}/tasks/{task_id}/pushNotificationConfigs", operation_id = "agent_push_configs_list", tag = "a2a",
    params(("agent_key" = String, Path, description = "Agent key"), ("task_id" = String, Path, description = "Task id")),
    responses((status = 200, description = "The task's configs", body = A2aListPushConfigsResponse),
              (status = 400, description = "Push notifications are off", body = A2aErrorBody),
              (status = 404, description = "Unknown agent or task", body = A2aErrorBody)))]
pub(crate) async fn list_push_configs(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, task_id)): Path<(String, String)>,
) -> Result<Json<A2aListPushConfigsResponse>, A2aError> {
    Ok(Json(
        push::list(&state, &caller, &agent_key, &task_id).await?,
    ))
}

/// One of a task's webhooks.
#[utoipa::path(get, path = "/a2a/{agent_key}/tasks/{task_id}/pushNotificationConfigs/{config_id}", operation_id = "agent_push_configs_retrieve", tag = "a2a",
    params(("agent_key" = String, Path, description = "Agent key"), ("task_id" = String, Path, description = "Task id"),
           ("config_id" = String, Path, description = "Config id")),
    responses((status = 200, description = "The config", body = A2aTaskPushNotificationConfig),
              (status = 400, description = "Push notifications are off", body = A2aErrorBody),
              (status = 404, description = "Unknown agent, task or config", body = A2aErrorBody)))]
pub(crate) async fn get_push_config(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, task_id, config_id)): Path<(String, String, String)>,
) -> Result<Json<A2aTaskPushNotificationConfig>, A2aError> {
    Ok(Json(
        push::get(&state, &caller, &agent_key, &task_id, &config_id).await?,
    ))
}

/// Remove one of a task's webhooks.
#[utoipa::path(delete, path = "/a2a/{agent_key}/tasks/{task_id}/pushNotificationConfigs/{config_id}", operation_id = "agent_push_configs_delete", tag = "a2a",
    params(("agent_key" = String, Path, description = "Agent key"), ("task_id" = String, Path, description = "Task id"),
           ("config_id" = String, Path, description = "Config id")),
    responses((status = 200, description = "Removed", body = A2aEmpty),
              (status = 400, description = "Push notifications are off", body = A2aErrorBody),
              (status = 404, description = "Unknown agent, task or config", body = A2aErrorBody)))]
pub(crate) async fn delete_push_config(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, task_id, config_id)): Path<(String, String, String)>,
) -> Result<Json<A2aEmpty>, A2aError> {
    push::delete(&state, &caller, &agent_key, &task_id, &config_id).await?;
    Ok(Json(A2aEmpty {}))
}
