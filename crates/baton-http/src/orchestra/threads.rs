//! Orchestra's threads, as far as Baton's threads go: a thread is the tasks that name its id,
//! so creating one mints an id (checking the assistant), and reading one lists its messages.

use super::messages::{out_messages, OutMessage};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Path};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use baton_engine::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(get_one))
}

/// What a new thread is for.
#[derive(Deserialize, Serialize, ToSchema, Default, Clone)]
pub(crate) struct ThreadMetadata {
    /// The assistant that will run on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    assistant_id: Option<String>,
    /// A title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    title: Option<String>,
}

/// A new thread.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ThreadBody {
    /// Its assistant and title.
    #[serde(default, deserialize_with = "super::object_field")]
    metadata: ThreadMetadata,
}

/// A thread id to pass as `metadata.thread_id`.
#[derive(Serialize, ToSchema)]
pub(crate) struct ThreadDto {
    /// The id.
    thread_id: String,
    /// As sent.
    metadata: ThreadMetadata,
}

/// One message of a thread: `human` messages as well as `ai` and `tool` ones.
#[derive(Serialize, ToSchema)]
pub(crate) struct ThreadMessages {
    /// The id.
    thread_id: String,
    /// Every message of its runs, oldest first.
    messages: Vec<OutMessage>,
}

/// Start a thread: its id, for `metadata.thread_id` of runs and schedules. The thread is kept
/// by the runs that name it; the metadata is not stored.
#[utoipa::path(post, path = "/api/threads", operation_id = "orchestra_create_thread", tag = "orchestra",
    request_body(content = ThreadBody, example = json!({"metadata": {"assistant_id": "asst-01jexample",
        "title": "Daily Blog Research"}})),
    responses((status = 201, description = "The thread id", body = ThreadDto),
              (status = 404, description = "Unknown assistant", body = ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<ThreadBody>,
) -> Result<(StatusCode, Json<ThreadDto>), ApiError> {
    if let Some(id) = &body.metadata.assistant_id {
        state.engine.agents().get(&caller.project, id).await?;
    }
    Ok((
        StatusCode::CREATED,
        Json(ThreadDto {
            thread_id: baton_core::id::new_id().to_lowercase(),
            metadata: body.metadata,
        }),
    ))
}

/// A thread's messages: every run on it, oldest first; 404 before its first run.
#[utoipa::path(get, path = "/api/threads/{thread_id}", operation_id = "orchestra_get_thread", tag = "orchestra",
    params(("thread_id" = String, Path, description = "The thread's id")),
    responses((status = 200, description = "Its messages", body = ThreadMessages),
              (status = 404, description = "No run names this thread", body = ErrorBody)))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(thread_id): Path<String>,
) -> Result<Json<ThreadMessages>, ApiError> {
    let mut messages = Vec::new();
    let mut found = false;
    for task in state
        .engine
        .thread_tasks(&caller.project, &thread_id)
        .await?
    {
        let data = Engine::data(&task)?;
        let identity = data.identity.as_ref().and_then(|i| i.get("id"));
        // An end user reads only its own runs.
        if let Some(own) = caller.own_identity() {
            if identity.and_then(Value::as_str) != Some(own) {
                continue;
            }
        }
        found = true;
        messages.extend(out_messages(&data.history, true));
    }
    if !found {
        return Err(ApiError::not_found(format!(
            "thread `{thread_id}` not found"
        )));
    }
    Ok(Json(ThreadMessages {
        thread_id,
        messages,
    }))
}
