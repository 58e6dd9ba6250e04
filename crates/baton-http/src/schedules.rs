//! `/v3/agents/{key}/schedules` (orq's schedules: cron, interval, once), their manual execution
//! and execution history, and Orchestra's `POST /api/schedules`.

use crate::agents::live_agent;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::extract::Path;
use crate::state::AppState;
use crate::wire::rfc3339_ms;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use baton_core::agent::AgentRecord;
use baton_core::schedule::{CatchUp, ScheduleRecord, ScheduleType};
use baton_engine::prompt;
use baton_engine::schedules::{NewSchedule, PayloadInput, SchedulePatch};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(retrieve, update, delete))
        .routes(routes!(execute))
        .routes(routes!(executions))
        .routes(routes!(orchestra_create))
}

fn schedule_json(s: &ScheduleRecord) -> Value {
    let mut payload = serde_json::to_value(&s.spec.payload).unwrap_or(json!({}));
    payload["variables"] = Value::Object(prompt::redacted(&s.spec.payload.variables));
    let mut body = json!({
        "_id": s.id, "agent_key": s.agent_key, "type": s.spec.kind, "expression": s.spec.expression,
        "is_active": s.is_active, "generation": s.generation, "trigger_count": s.trigger_count,
        "last_triggered_at": s.last_triggered_at, "payload": payload,
        "catch_up": s.spec.catch_up, "created_by_id": s.created_by_id,
        "created": s.created, "updated": s.updated,
        "next_run_at": s.next_fire_at.filter(|_| s.is_active).map(rfc3339_ms),
    });
    if let Some(name) = &s.spec.display_name {
        body["display_name"] = json!(name);
    }
    if let Some(tag) = &s.spec.agent_tag {
        body["agent_tag"] = json!(tag);
    }
    if let Some(by) = &s.updated_by_id {
        body["updated_by_id"] = json!(by);
    }
    body
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PayloadBody {
    #[serde(default)]
    input: Option<Value>,
    #[serde(default)]
    variables: Map<String, Value>,
    #[serde(default)]
    memory_entity_id: Option<String>,
    #[serde(default)]
    metadata: Map<String, Value>,
}

impl From<PayloadBody> for PayloadInput {
    fn from(p: PayloadBody) -> Self {
        Self {
            input: p.input,
            variables: p.variables,
            memory_entity_id: p.memory_entity_id,
            metadata: p.metadata,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    #[serde(rename = "type")]
    kind: ScheduleType,
    expression: String,
    payload: PayloadBody,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    agent_tag: Option<String>,
    #[serde(default)]
    catch_up: CatchUp,
}

impl From<CreateBody> for NewSchedule {
    fn from(b: CreateBody) -> Self {
        Self {
            kind: b.kind,
            expression: b.expression,
            payload: b.payload.into(),
            display_name: b.display_name,
            agent_tag: b.agent_tag,
            catch_up: b.catch_up,
        }
    }
}

/// Create a schedule for an agent.
#[utoipa::path(post, path = "/v3/agents/{agent_key}/schedules", operation_id = "schedules_create", tag = "schedules", request_body = Object,
    params(("agent_key" = String, Path, description = "Agent key")),
    responses((status = 201, description = "The schedule"),
              (status = 400, description = "Bad type or expression (`invalid_expression`)"),
              (status = 404, description = "Unknown agent or agent_tag")))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_key): Path<String>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let agent = live_agent(&state, &caller.project, &agent_key).await?;
    let record = state
        .engine
        .schedules()
        .create(&agent, &caller.key_id, body.into())
        .await?;
    Ok((StatusCode::CREATED, Json(schedule_json(&record))))
}

/// List an agent's schedules, newest first.
#[utoipa::path(get, path = "/v3/agents/{agent_key}/schedules", operation_id = "schedules_list", tag = "schedules",
    params(("agent_key" = String, Path, description = "Agent key")),
    responses((status = 200, description = "`{schedules: [...]}`"), (status = 404, description = "Unknown agent")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let agent = live_agent(&state, &caller.project, &agent_key).await?;
    let schedules = state.engine.schedules().list(&agent).await?;
    Ok(Json(
        json!({"schedules": schedules.iter().map(schedule_json).collect::<Vec<_>>()}),
    ))
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
    responses((status = 200, description = "The schedule"), (status = 404, description = "Unknown")))]
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (_, schedule) = find(&state, &caller, &agent_key, &id).await?;
    Ok(Json(schedule_json(&schedule)))
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateBody {
    #[serde(default, rename = "type")]
    kind: Option<ScheduleType>,
    #[serde(default)]
    expression: Option<String>,
    #[serde(default)]
    payload: Option<Value>,
    #[serde(default)]
    is_active: Option<bool>,
    #[serde(default)]
    agent_tag: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    catch_up: Option<CatchUp>,
}

/// The PATCH body as the service takes it; a bad payload names its field under `payload`.
fn patch(body: UpdateBody) -> Result<SchedulePatch, ApiError> {
    let payload = match body.payload {
        None => None,
        Some(value) => {
            let parsed: PayloadBody = crate::extract::from_value(value).map_err(|e| {
                let param = e.param.as_deref().map(|p| format!(".{p}"));
                ApiError::invalid(format!("payload{}", param.unwrap_or_default()), e.message)
            })?;
            Some(parsed.into())
        }
    };
    Ok(SchedulePatch {
        kind: body.kind,
        expression: body.expression,
        payload,
        is_active: body.is_active,
        agent_tag: body.agent_tag,
        display_name: body.display_name,
        catch_up: body.catch_up,
    })
}

/// Update a schedule.
#[utoipa::path(patch, path = "/v3/agents/{agent_key}/schedules/{schedule_id}", operation_id = "schedules_update", tag = "schedules", request_body = Object,
    params(("agent_key" = String, Path, description = "Agent key"), ("schedule_id" = String, Path, description = "Schedule id")),
    responses((status = 200, description = "The schedule"), (status = 400, description = "Invalid"),
              (status = 404, description = "Unknown")))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<Json<Value>, ApiError> {
    let agent = live_agent(&state, &caller.project, &agent_key).await?;
    let patch = patch(body)?;
    let saved = state
        .engine
        .schedules()
        .update(&agent, &id, &caller.key_id, &patch)
        .await?;
    Ok(Json(schedule_json(&saved)))
}

/// Delete a schedule.
#[utoipa::path(delete, path = "/v3/agents/{agent_key}/schedules/{schedule_id}", operation_id = "schedules_delete", tag = "schedules",
    params(("agent_key" = String, Path, description = "Agent key"), ("schedule_id" = String, Path, description = "Schedule id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Unknown")))]
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
    responses((status = 202, description = "`{status: triggered, schedule_id, task_id}`"),
              (status = 400, description = "Inactive (`schedule_inactive`)"), (status = 404, description = "Unknown")))]
pub(crate) async fn execute(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let agent = live_agent(&state, &caller.project, &agent_key).await?;
    let (schedule, task) = state.engine.schedules().execute(&agent, &id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"status": "triggered", "schedule_id": schedule.id, "task_id": task.id})),
    ))
}

/// The tasks a schedule's firings created, newest first, with their states.
#[utoipa::path(get, path = "/v3/agents/{agent_key}/schedules/{schedule_id}/executions", operation_id = "schedules_list_executions", tag = "schedules",
    params(("agent_key" = String, Path, description = "Agent key"), ("schedule_id" = String, Path, description = "Schedule id")),
    responses((status = 200, description = "`{executions: [{task_id, state, due_at, fired_at, manual, generation}]}`"),
              (status = 404, description = "Unknown")))]
pub(crate) async fn executions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let agent = live_agent(&state, &caller.project, &agent_key).await?;
    let executions = state.engine.schedules().executions(&agent, &id).await?;
    let out: Vec<Value> = executions
        .iter()
        .map(|e| {
            let f = &e.firing;
            json!({
                "task_id": f.task_id, "state": e.state,
                "due_at": rfc3339_ms(f.due_ms), "fired_at": rfc3339_ms(f.fired_ms),
                "lateness_ms": f.fired_ms - f.due_ms, "manual": f.manual, "generation": f.generation,
            })
        })
        .collect();
    Ok(Json(json!({"executions": out})))
}

#[derive(Deserialize)]
pub(crate) struct OrchestraTrigger {
    #[serde(rename = "type")]
    kind: String,
    expression: String,
}

#[derive(Deserialize)]
pub(crate) struct OrchestraTask {
    #[serde(default)]
    input: Option<Value>,
    #[serde(default)]
    metadata: Map<String, Value>,
}

#[derive(Deserialize)]
pub(crate) struct OrchestraBody {
    #[serde(default)]
    title: Option<String>,
    trigger: OrchestraTrigger,
    task: OrchestraTask,
}

/// Orchestra's form: `{title, trigger: {type: cron, expression}, task: {input, metadata:
/// {assistant_id, thread_id}}}`; `assistant_id` names the agent (id or key).
#[utoipa::path(post, path = "/api/schedules", operation_id = "orchestra_create_schedule", tag = "orchestra", request_body = Object,
    responses((status = 201, description = "The schedule (orq's shape)"),
              (status = 400, description = "Invalid"), (status = 404, description = "Unknown assistant")))]
pub(crate) async fn orchestra_create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<OrchestraBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let kind = match body.trigger.kind.as_str() {
        "cron" => ScheduleType::Cron,
        "interval" => ScheduleType::Interval,
        "once" | "date" => ScheduleType::Once,
        other => {
            return Err(ApiError::invalid(
                "trigger.type",
                format!("`{other}` is not a trigger type (cron, interval, once)"),
            ))
        }
    };
    let assistant = body
        .task
        .metadata
        .get("assistant_id")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid("task.metadata.assistant_id", "is required"))?
        .to_owned();
    let agent = match state
        .store
        .agent_by_key(&caller.project, &assistant)
        .await?
    {
        Some(a) => a,
        None => live_agent(&state, &caller.project, &assistant).await?,
    };
    let mut metadata = body.task.metadata.clone();
    metadata.remove("assistant_id");
    let create = CreateBody {
        kind,
        expression: body.trigger.expression,
        payload: PayloadBody {
            input: body.task.input,
            variables: Map::new(),
            memory_entity_id: None,
            metadata,
        },
        display_name: body.title,
        agent_tag: None,
        catch_up: CatchUp::None,
    };
    let record = state
        .engine
        .schedules()
        .create(&agent, &caller.key_id, create.into())
        .await?;
    Ok((StatusCode::CREATED, Json(schedule_json(&record))))
}
