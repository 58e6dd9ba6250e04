//! Orchestra's threads: `POST /api/threads` opens one (a title and the assistant it is for,
//! stored), `GET /api/threads` lists them, `GET /api/threads/{id}` reads one with every
//! message of its runs, and `DELETE` removes it with its runs' history. Runs continue a
//! thread by naming it in `metadata.thread_id`; an id no one opened here (one a run minted)
//! still names the runs that used it: it reads and deletes, but is not listed.

use super::messages::{out_messages, OutMessage};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{page_request, ApiJson, Path, Query};
use crate::state::AppState;
use crate::wire::PageParams;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use baton_core::store::TaskRecord;
use baton_core::thread::ThreadRecord;
use baton_engine::threads::NewThread;
use baton_engine::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get_one, delete))
}

/// What a thread is for.
#[derive(Deserialize, Serialize, ToSchema, Default, Clone)]
pub(crate) struct ThreadMetadata {
    /// The assistant that runs on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    assistant_id: Option<String>,
    /// A title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    /// Any further fields, kept as sent.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    extra: Map<String, Value>,
}

/// A new thread.
#[derive(Deserialize, ToSchema)]
pub(crate) struct ThreadBody {
    /// Its assistant and title.
    #[serde(default, deserialize_with = "super::object_field")]
    metadata: ThreadMetadata,
}

/// A thread: pass its id as `metadata.thread_id` of runs and schedules.
#[derive(Serialize, ToSchema)]
pub(crate) struct ThreadDto {
    /// The id.
    thread_id: String,
    /// Its assistant, title and further fields.
    metadata: ThreadMetadata,
    /// When it was opened (RFC 3339); absent for a thread only runs named.
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
    /// Its last change (RFC 3339); absent for a thread only runs named.
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_at: Option<String>,
}

impl ThreadDto {
    fn new(t: ThreadRecord) -> Self {
        Self {
            thread_id: t.id,
            metadata: ThreadMetadata {
                assistant_id: t.assistant_id,
                title: t.title,
                extra: t.metadata,
            },
            created_at: Some(t.created),
            updated_at: Some(t.updated),
        }
    }
}

/// A page of threads, newest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct OrchestraThreadList {
    /// The threads opened with `POST /api/threads`.
    threads: Vec<ThreadDto>,
    /// Whether older threads follow (pass the last `thread_id` as `starting_after`).
    has_more: bool,
}

/// A thread with its messages: `human` ones as well as `ai` and `tool` ones.
#[derive(Serialize, ToSchema)]
pub(crate) struct ThreadMessages {
    /// The id.
    thread_id: String,
    /// Its assistant and title (for a thread only runs named: the assistant of its first run).
    metadata: ThreadMetadata,
    /// When it was opened (RFC 3339); absent for a thread only runs named.
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
    /// Every message of its runs, oldest first.
    messages: Vec<OutMessage>,
}

fn thread_not_found(thread_id: &str) -> ApiError {
    ApiError::not_found(format!("thread `{thread_id}` not found"))
}

/// The `identity.id` a task acts for.
fn identity_of(task: &TaskRecord) -> Result<Option<String>, ApiError> {
    Ok(Engine::data(task)?
        .identity
        .as_ref()
        .and_then(|i| i.get("id"))
        .and_then(Value::as_str)
        .map(str::to_owned))
}

/// What a caller may see of a thread id.
enum Seen {
    /// Nothing has the id: no record, no run.
    Nothing,
    /// Another end user's thread.
    Hidden,
    /// Its record (absent for a thread only runs named) and its runs, oldest first.
    Thread(Option<Box<ThreadRecord>>, Vec<TaskRecord>),
}

/// A thread as this caller may see it: an end user sees only a thread it opened (or, without
/// a record, one whose every run is its own).
async fn seen(state: &AppState, caller: &Caller, thread_id: &str) -> Result<Seen, ApiError> {
    let record = state
        .engine
        .threads()
        .get(&caller.project, thread_id)
        .await?;
    let tasks = state
        .engine
        .thread_tasks(&caller.project, thread_id)
        .await?;
    if record.is_none() && tasks.is_empty() {
        return Ok(Seen::Nothing);
    }
    if let Some(own) = caller.own_identity() {
        if record
            .as_ref()
            .is_some_and(|r| r.owner.as_deref() != Some(own))
        {
            return Ok(Seen::Hidden);
        }
        for task in &tasks {
            if identity_of(task)?.as_deref() != Some(own) {
                return Ok(Seen::Hidden);
            }
        }
    }
    Ok(Seen::Thread(record.map(Box::new), tasks))
}

/// Refuses a run on another end user's thread; a thread nothing named yet is free to start.
pub(crate) async fn may_run_on(
    state: &AppState,
    caller: &Caller,
    thread_id: &str,
) -> Result<(), ApiError> {
    if caller.own_identity().is_none() {
        return Ok(());
    }
    match seen(state, caller, thread_id).await? {
        Seen::Hidden => Err(thread_not_found(thread_id)),
        Seen::Nothing | Seen::Thread(..) => Ok(()),
    }
}

/// Open a thread for an assistant: its title and assistant are kept, and its id continues
/// the conversation as `metadata.thread_id` of runs and schedules.
#[utoipa::path(post, path = "/api/threads", operation_id = "orchestra_create_thread", tag = "orchestra",
    request_body(content = ThreadBody, example = json!({"metadata": {"assistant_id": "asst-01jexample",
        "title": "Daily Blog Research"}})),
    responses((status = 201, description = "The thread", body = ThreadDto),
              (status = 400, description = "Invalid field", body = ErrorBody),
              (status = 404, description = "Unknown assistant", body = ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<ThreadBody>,
) -> Result<(StatusCode, Json<ThreadDto>), ApiError> {
    let meta = body.metadata;
    let thread = state
        .engine
        .threads()
        .create(
            &caller.project,
            NewThread {
                title: meta.title,
                assistant_id: meta.assistant_id,
                owner: caller.own_identity().map(str::to_owned),
                metadata: meta.extra,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(ThreadDto::new(thread))))
}

/// List the threads opened with `POST /api/threads`, newest first (an end user: its own).
#[utoipa::path(get, path = "/api/threads", operation_id = "orchestra_list_threads", tag = "orchestra",
    params(PageParams),
    responses((status = 200, description = "A page of threads", body = OrchestraThreadList),
              (status = 400, description = "Invalid paging parameter", body = ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<OrchestraThreadList>, ApiError> {
    let page = state
        .engine
        .threads()
        .list(
            &caller.project,
            caller.own_identity(),
            &page_request(&query)?,
        )
        .await?;
    Ok(Json(OrchestraThreadList {
        threads: page.items.into_iter().map(ThreadDto::new).collect(),
        has_more: page.has_more,
    }))
}

/// A thread with every message of its runs, oldest first.
#[utoipa::path(get, path = "/api/threads/{thread_id}", operation_id = "orchestra_get_thread", tag = "orchestra",
    params(("thread_id" = String, Path, description = "The thread's id")),
    responses((status = 200, description = "The thread and its messages", body = ThreadMessages),
              (status = 404, description = "No thread has this id", body = ErrorBody)))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(thread_id): Path<String>,
) -> Result<Json<ThreadMessages>, ApiError> {
    let Seen::Thread(record, tasks) = seen(&state, &caller, &thread_id).await? else {
        return Err(thread_not_found(&thread_id));
    };
    let mut messages = Vec::new();
    for task in &tasks {
        messages.extend(out_messages(&Engine::data(task)?.history, true));
    }
    let (metadata, created_at) = match record {
        Some(r) => (
            ThreadMetadata {
                assistant_id: r.assistant_id,
                title: r.title,
                extra: r.metadata,
            },
            Some(r.created),
        ),
        None => (
            ThreadMetadata {
                assistant_id: tasks.first().map(|t| t.agent_key.clone()),
                ..Default::default()
            },
            None,
        ),
    };
    Ok(Json(ThreadMessages {
        thread_id,
        metadata,
        created_at,
        messages,
    }))
}

/// Delete a thread with its runs and their history; 409 naming the run while one on it is
/// queued or working (cancel it or wait for it to end).
#[utoipa::path(delete, path = "/api/threads/{thread_id}", operation_id = "orchestra_delete_thread", tag = "orchestra",
    params(("thread_id" = String, Path, description = "The thread's id")),
    responses((status = 204, description = "Deleted, with its runs"),
              (status = 404, description = "No thread has this id", body = ErrorBody),
              (status = 409, description = "A run on the thread is in progress", body = ErrorBody)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(thread_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if !matches!(seen(&state, &caller, &thread_id).await?, Seen::Thread(..)) {
        return Err(thread_not_found(&thread_id));
    }
    state
        .engine
        .threads()
        .delete(&caller.project, &thread_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
