//! `/v2/tasks`: the project's tasks across agents, newest first, and one task by id — what a
//! task is, not its messages (those are under `/v2/agents/{key}/responses/{task_id}`).

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{page_request, Path, Query};
use crate::responses::owned_by;
use crate::run_wire::TaskState;
use crate::state::AppState;
use crate::wire::{ListPage, PageParams};
use axum::extract::State;
use axum::{Extension, Json};
use baton_core::store::{TaskFilter, TaskRecord};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(retrieve))
}

/// A task: which agent runs it, in what state, on which thread.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"_id": "01JQ7ZK3V9T2M8N4P6R0S1T2U3", "agent_key": "support",
    "agent_version": 1, "state": "completed", "thread_id": "th-42",
    "created": "2026-01-01T00:00:00.000Z", "updated": "2026-01-01T00:00:02.000Z"}))]
pub struct TaskSummary {
    /// The task's id (a ULID).
    #[serde(rename = "_id")]
    pub id: String,
    /// The key of the agent the task runs.
    pub agent_key: String,
    /// The agent version the task runs, fixed for its whole life.
    pub agent_version: u32,
    /// The task's A2A state.
    pub state: TaskState,
    /// The thread the task belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Last update (RFC 3339).
    pub updated: String,
}

impl From<&TaskRecord> for TaskSummary {
    fn from(task: &TaskRecord) -> Self {
        Self {
            id: task.id.clone(),
            agent_key: task.agent_key.clone(),
            agent_version: task.agent_version,
            state: task.state.into(),
            thread_id: task.thread_id.clone(),
            created: task.created.clone(),
            updated: task.updated.clone(),
        }
    }
}

/// The filters of the task list, for the document (the handler reads them from the query).
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // read by `task_filter`, declared here for the document
pub struct TaskListFilter {
    /// Only tasks in this state.
    pub state: Option<TaskState>,
    /// Only tasks of the agent with this key.
    pub agent: Option<String>,
    /// Only tasks of this thread.
    pub thread_id: Option<String>,
}

fn task_filter(query: &HashMap<String, String>) -> Result<TaskFilter, ApiError> {
    let state = match query.get("state").filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => Some(
            serde_json::from_value(serde_json::Value::String(raw.clone())).map_err(|_| {
                ApiError::invalid(
                    "state",
                    format!(
                        "`{raw}` is not a task state (submitted, working, input-required, \
                         completed, failed, canceled, rejected, auth-required)"
                    ),
                )
            })?,
        ),
    };
    let text = |name: &str| query.get(name).filter(|s| !s.is_empty()).cloned();
    Ok(TaskFilter {
        state,
        agent_key: text("agent"),
        thread_id: text("thread_id"),
    })
}

/// List the project's tasks, newest first, with cursor pagination. An end user sees its own.
#[utoipa::path(get, path = "/v2/tasks", operation_id = "tasks_list", tag = "responses",
    params(TaskListFilter, PageParams),
    responses((status = 200, description = "A page of tasks", body = ListPage<TaskSummary>),
              (status = 400, description = "A bad filter or cursor", body = ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<ListPage<TaskSummary>>, ApiError> {
    let filter = task_filter(&query)?;
    let page = state
        .engine
        .list_tasks(
            &caller.project,
            &filter,
            caller.own_identity(),
            &page_request(&query)?,
        )
        .await?;
    let data = page.items.iter().map(TaskSummary::from).collect();
    Ok(Json(ListPage::new(data, page.has_more)))
}

/// Retrieve a task by id, whichever agent runs it.
#[utoipa::path(get, path = "/v2/tasks/{task_id}", operation_id = "tasks_retrieve", tag = "responses",
    params(("task_id" = String, Path, description = "Task id")),
    responses((status = 200, description = "The task", body = TaskSummary),
              (status = 404, description = "Unknown task", body = ErrorBody)))]
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(task_id): Path<String>,
) -> Result<Json<TaskSummary>, ApiError> {
    let task = state.engine.task(&caller.project, &task_id).await?;
    match (task, caller.own_identity()) {
        (Some(task), None) => Ok(Json(TaskSummary::from(&task))),
        // Another user's task is as unknown as a missing one.
        (Some(task), Some(own)) if owned_by(&task, own)? => Ok(Json(TaskSummary::from(&task))),
        _ => Err(ApiError::not_found(format!("task `{task_id}` not found"))),
    }
}
