//! `/v3/agents/{key}/schedules` (orq's schedules: cron, interval, once), their manual execution
//! and execution history, and Orchestra's `POST /api/schedules`.

pub(crate) mod dto;

use crate::agents::live_agent;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use crate::extract::Path;
use crate::state::AppState;
use crate::wire::rfc3339_ms;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use baton_core::agent::AgentRecord;
use baton_core::schedule::ScheduleRecord;
use baton_engine::schedules::SchedulePatch;
use dto::{
    CatchUpPolicy, CreateScheduleRequest, OrchestraScheduleRequest, Schedule, ScheduleExecution,
    ScheduleExecutions, ScheduleKind, ScheduleList, SchedulePayloadInput, SchedulePreview,
    SchedulePreviewRequest, ScheduleTriggered, TriggeredStatus, UpdateScheduleRequest,
};
use serde_json::{Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(retrieve, update, delete))
        .routes(routes!(execute))
        .routes(routes!(executions))
        .routes(routes!(orchestra_create))
        .routes(routes!(preview))
}

/// How many firings a preview lists.
const PREVIEW_FIRINGS: usize = 5;

/// Preview a cadence: the next five firings a schedule created now with it would have.
#[utoipa::path(post, path = "/v3/schedules/preview", operation_id = "schedules_preview", tag = "schedules",
    request_body = SchedulePreviewRequest,
    responses((status = 200, description = "The next firings", body = SchedulePreview),
              (status = 400, description = "Invalid field, or a bad expression (`invalid_expression`)", body = ErrorBody)))]
pub(crate) async fn preview(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SchedulePreviewRequest>,
) -> Result<Json<SchedulePreview>, ApiError> {
    let firings =
        state
            .engine
            .schedules()
            .preview(body.kind.into(), &body.expression, PREVIEW_FIRINGS)?;
    Ok(Json(SchedulePreview {
        next_run_at: firings.into_iter().filter_map(rfc3339_ms).collect(),
    }))
}

/// Create a schedule for an agent.
#[utoipa::path(post, path = "/v3/agents/{agent_key}/schedules", operation_id = "schedules_create", tag = "schedules",
    request_body = CreateScheduleRequest,
    params(("agent_key" = String, Path, description = "Agent key")),
    responses((status = 201, description = "The schedule", body = Schedule),
              (status = 400, description = "Invalid field, or a bad expression (`invalid_expression`)", body = ErrorBody),
              (status = 404, description = "Unknown agent or agent_tag", body = ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_key): Path<String>,
    ApiJson(body): ApiJson<CreateScheduleRequest>,
) -> Result<(StatusCode, Json<Schedule>), ApiError> {
    let agent = live_agent(&state, &caller.project, &agent_key).await?;
    let record = state
        .engine
        .schedules()
        .create(&agent, &caller.key_id, body.into())
        .await?;
    Ok((StatusCode::CREATED, Json(Schedule::from(&record))))
}

/// List an agent's schedules, newest first.
#[utoipa::path(get, path = "/v3/agents/{agent_key}/schedules", operation_id = "schedules_list", tag = "schedules",
    params(("agent_key" = String, Path, description = "Agent key")),
    responses((status = 200, description = "The agent's schedules", body = ScheduleList),
              (status = 404, description = "Unknown agent", body = ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_key): Path<String>,
) -> Result<Json<ScheduleList>, ApiError> {
    let agent = live_agent(&state, &caller.project, &agent_key).await?;
    let schedules = state.engine.schedules().list(&agent).await?;
    Ok(Json(ScheduleList {
        schedules: schedules.iter().map(Schedule::from).collect(),
    }))
}

async fn find(
    state: &AppState,
    caller: &Caller,
    agent_key: &str,
    id: &str,
) -> Result<(AgentRecord, ScheduleRecord), ApiError> {
    let agent = live_agent(state, &caller.project, agent_key).await?;
    let schedule = state.engine.schedules().get(&agent, id).await?;
    Ok((agent, schedule))
}

/// Retrieve a schedule.
#[utoipa::path(get, path = "/v3/agents/{agent_key}/schedules/{schedule_id}", operation_id = "schedules_retrieve", tag = "schedules",
    params(("agent_key" = String, Path, description = "Agent key"), ("schedule_id" = String, Path, description = "Schedule id")),
    responses((status = 200, description = "The schedule", body = Schedule),
              (status = 404, description = "Unknown agent or schedule", body = ErrorBody)))]
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, id)): Path<(String, String)>,
) -> Result<Json<Schedule>, ApiError> {
    let (_, schedule) = find(&state, &caller, &agent_key, &id).await?;
    Ok(Json(Schedule::from(&schedule)))
}

/// The PATCH body as the service takes it; a bad payload names its field under `payload`.
fn patch(body: UpdateScheduleRequest) -> Result<SchedulePatch, ApiError> {
    let payload = match body.payload {
        None => None,
        Some(value) => {
            let parsed: SchedulePayloadInput = crate::extract::from_value(value).map_err(|e| {
                let param = e.param.as_deref().map(|p| format!(".{p}"));
                ApiError::invalid(format!("payload{}", param.unwrap_or_default()), e.message)
            })?;
            Some(parsed.into())
        }
    };
    Ok(SchedulePatch {
        kind: body.kind.map(Into::into),
        expression: body.expression,
        payload,
        is_active: body.is_active,
        agent_tag: body.agent_tag,
        display_name: body.display_name,
        catch_up: body.catch_up.map(Into::into),
    })
}

/// Update a schedule: only the fields sent change.
#[utoipa::path(patch, path = "/v3/agents/{agent_key}/schedules/{schedule_id}", operation_id = "schedules_update", tag = "schedules",
    request_body = UpdateScheduleRequest,
    params(("agent_key" = String, Path, description = "Agent key"), ("schedule_id" = String, Path, description = "Schedule id")),
    responses((status = 200, description = "The schedule", body = Schedule),
              (status = 400, description = "Invalid field, or a bad expression (`invalid_expression`)", body = ErrorBody),
              (status = 404, description = "Unknown agent, schedule or agent_tag", body = ErrorBody),
              (status = 409, description = "The schedule kept changing while it was updated; retry", body = ErrorBody)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<UpdateScheduleRequest>,
) -> Result<Json<Schedule>, ApiError> {
    let agent = live_agent(&state, &caller.project, &agent_key).await?;
    let patch = patch(body)?;
    let saved = state
        .engine
        .schedules()
        .update(&agent, &id, &caller.key_id, &patch)
        .await?;
    Ok(Json(Schedule::from(&saved)))
}

/// Delete a schedule; its executions stay as history.
#[utoipa::path(delete, path = "/v3/agents/{agent_key}/schedules/{schedule_id}", operation_id = "schedules_delete", tag = "schedules",
    params(("agent_key" = String, Path, description = "Agent key"), ("schedule_id" = String, Path, description = "Schedule id")),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "Unknown agent or schedule", body = ErrorBody)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let agent = live_agent(&state, &caller.project, &agent_key).await?;
    state.engine.schedules().delete(&agent, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Run a schedule's payload now, without touching its cadence.
#[utoipa::path(post, path = "/v3/agents/{agent_key}/schedules/{schedule_id}/execution", operation_id = "schedules_execute", tag = "schedules",
    params(("agent_key" = String, Path, description = "Agent key"), ("schedule_id" = String, Path, description = "Schedule id")),
    responses((status = 202, description = "A task was created and queued", body = ScheduleTriggered),
              (status = 400, description = "The schedule is inactive (`schedule_inactive`)", body = ErrorBody),
              (status = 404, description = "Unknown agent or schedule", body = ErrorBody)))]
pub(crate) async fn execute(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<ScheduleTriggered>), ApiError> {
    let agent = live_agent(&state, &caller.project, &agent_key).await?;
    let (schedule, task) = state.engine.schedules().execute(&agent, &id).await?;
    let triggered = ScheduleTriggered {
        schedule_id: schedule.id,
        status: TriggeredStatus::Triggered,
        task_id: task.id,
    };
    Ok((StatusCode::ACCEPTED, Json(triggered)))
}

/// The tasks a schedule's firings created, newest first, with their states.
#[utoipa::path(get, path = "/v3/agents/{agent_key}/schedules/{schedule_id}/executions", operation_id = "schedules_list_executions", tag = "schedules",
    params(("agent_key" = String, Path, description = "Agent key"), ("schedule_id" = String, Path, description = "Schedule id")),
    responses((status = 200, description = "The executions (the latest 100)", body = ScheduleExecutions),
              (status = 404, description = "Unknown agent or schedule", body = ErrorBody)))]
pub(crate) async fn executions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, id)): Path<(String, String)>,
) -> Result<Json<ScheduleExecutions>, ApiError> {
    let agent = live_agent(&state, &caller.project, &agent_key).await?;
    let executions = state.engine.schedules().executions(&agent, &id).await?;
    Ok(Json(ScheduleExecutions {
        executions: executions.iter().map(ScheduleExecution::from).collect(),
    }))
}

/// Orchestra's form: `{title, trigger: {type: cron, expression}, task: {input, metadata:
/// {assistant_id, thread_id}}}`; `assistant_id` names the agent (id or key).
#[utoipa::path(post, path = "/api/schedules", operation_id = "orchestra_create_schedule", tag = "orchestra",
    request_body = OrchestraScheduleRequest,
    responses((status = 201, description = "The schedule (orq's shape)", body = Schedule),
              (status = 400, description = "Invalid field, or a bad expression (`invalid_expression`)", body = ErrorBody),
              (status = 404, description = "Unknown assistant", body = ErrorBody)))]
pub(crate) async fn orchestra_create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<OrchestraScheduleRequest>,
) -> Result<(StatusCode, Json<Schedule>), ApiError> {
    let kind = match body.trigger.kind.as_str() {
        "cron" => ScheduleKind::Cron,
        "interval" => ScheduleKind::Interval,
        "once" | "date" => ScheduleKind::Once,
        other => {
            return Err(ApiError::invalid(
                "trigger.type",
                format!("`{other}` is not a trigger type (cron, interval, once)"),
            ))
        }
    };
    let mut metadata = body.task.metadata;
    let assistant = match metadata.remove("assistant_id") {
        Some(Value::String(id)) => id,
        _ => {
            return Err(ApiError::invalid(
                "task.metadata.assistant_id",
                "is required",
            ))
        }
    };
    let agent = match state
        .store
        .agent_by_key(&caller.project, &assistant)
        .await?
    {
        Some(a) => a,
        None => live_agent(&state, &caller.project, &assistant).await?,
    };
    let create = CreateScheduleRequest {
        kind,
        expression: body.trigger.expression,
        payload: SchedulePayloadInput {
            input: body.task.input,
            variables: Map::new(),
            memory_entity_id: None,
            metadata,
        },
        display_name: body.title,
        agent_tag: None,
        catch_up: CatchUpPolicy::None,
    };
    let record = state
        .engine
        .schedules()
        .create(&agent, &caller.key_id, create.into())
        .await?;
    Ok((StatusCode::CREATED, Json(Schedule::from(&record))))
}
