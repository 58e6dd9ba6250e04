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
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use baton_core::agent::AgentRecord;
use baton_core::id::{new_id, now_rfc3339};
use baton_core::schedule::{
    check_expression, CatchUp, SchedulePayload, ScheduleRecord, ScheduleSpec, ScheduleType,
};
use baton_engine::prompt;
use serde::Deserialize;
use serde_json::{json, Map, Value};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v3/agents/{agent_key}/schedules", get(list).post(create))
        .route(
            "/v3/agents/{agent_key}/schedules/{schedule_id}",
            get(retrieve).patch(update).delete(delete),
        )
        .route(
            "/v3/agents/{agent_key}/schedules/{schedule_id}/execution",
            post(execute),
        )
        .route(
            "/v3/agents/{agent_key}/schedules/{schedule_id}/executions",
            get(executions),
        )
        .route("/api/schedules", post(orchestra_create))
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

fn payload(state: &AppState, body: PayloadBody) -> Result<SchedulePayload, ApiError> {
    match &body.input {
        None | Some(Value::String(_)) | Some(Value::Array(_)) | Some(Value::Object(_)) => {}
        Some(_) => {
            return Err(ApiError::invalid(
                "payload.input",
                "must be a string or a list of input items",
            ))
        }
    }
    Ok(SchedulePayload {
        input: body.input,
        variables: prompt::merge_variables(&Map::new(), &body.variables, state.cipher.as_ref()),
        memory_entity_id: body.memory_entity_id.filter(|e| !e.is_empty()),
        metadata: body.metadata,
    })
}

/// Checks that `agent_tag` names an existing version of the agent.
async fn check_tag(state: &AppState, agent: &AgentRecord, tag: &str) -> Result<(), ApiError> {
    let version: u32 = tag.trim_start_matches('v').parse().map_err(|_| {
        ApiError::invalid(
            "agent_tag",
            format!("`{tag}` is not a version (use `3` or `v3`)"),
        )
    })?;
    state
        .store
        .agent_version(&agent.project_id, &agent.id, version)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "agent `{}` has no version {version}",
                agent.spec.key
            ))
        })?;
    Ok(())
}

fn expression_error(e: baton_core::schedule::ExpressionError) -> ApiError {
    ApiError::invalid_code("invalid_expression", "expression", e.0)
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

async fn create_schedule(
    state: &AppState,
    caller: &Caller,
    agent: AgentRecord,
    body: CreateBody,
) -> Result<ScheduleRecord, ApiError> {
    let now = chrono::Utc::now().timestamp_millis();
    let cadence = check_expression(
        body.kind,
        &body.expression,
        now,
        state.engine.schedule_min_interval(),
    )
    .map_err(expression_error)?;
    if let Some(tag) = &body.agent_tag {
        check_tag(state, &agent, tag).await?;
    }
    let payload = payload(state, body.payload)?;
    let now_text = now_rfc3339();
    let record = ScheduleRecord {
        id: new_id(),
        project_id: caller.project.clone(),
        agent_id: agent.id.clone(),
        agent_key: agent.spec.key.clone(),
        spec: ScheduleSpec {
            kind: body.kind,
            expression: body.expression.trim().to_owned(),
            display_name: body.display_name,
            agent_tag: body.agent_tag,
            payload,
            catch_up: body.catch_up,
        },
        is_active: true,
        generation: 1,
        trigger_count: 0,
        last_triggered_at: None,
        next_fire_at: cadence.next_after(now, now),
        anchor_ms: now,
        created_by_id: caller.key_id.clone(),
        updated_by_id: None,
        created: now_text.clone(),
        updated: now_text,
    };
    state.store.create_schedule(&record).await?;
    state.engine.schedules_changed();
    Ok(record)
}

/// Create a schedule for an agent.
#[utoipa::path(post, path = "/v3/agents/{agent_key}/schedules", request_body = Object,
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
    let record = create_schedule(&state, &caller, agent, body).await?;
    Ok((StatusCode::CREATED, Json(schedule_json(&record))))
}

/// List an agent's schedules, newest first.
#[utoipa::path(get, path = "/v3/agents/{agent_key}/schedules",
    params(("agent_key" = String, Path, description = "Agent key")),
    responses((status = 200, description = "`{schedules: [...]}`"), (status = 404, description = "Unknown agent")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let agent = live_agent(&state, &caller.project, &agent_key).await?;
    let schedules = state
        .store
        .list_schedules(&caller.project, &agent.id)
        .await?;
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
    let schedule = state
        .store
        .schedule(&caller.project, &agent.id, id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("agent `{agent_key}` has no schedule `{id}`"))
        })?;
    Ok((agent, schedule))
}

/// Retrieve a schedule.
#[utoipa::path(get, path = "/v3/agents/{agent_key}/schedules/{schedule_id}",
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

/// Applies a PATCH to the current schedule: a new type or expression (or reactivation) starts
/// a new generation from now; payload, name and tag changes keep the cadence.
async fn apply_update(
    state: &AppState,
    caller: &Caller,
    agent: &AgentRecord,
    current: &ScheduleRecord,
    body: &UpdateBody,
) -> Result<ScheduleRecord, ApiError> {
    let now = chrono::Utc::now().timestamp_millis();
    let mut next = current.clone();
    let kind = body.kind.unwrap_or(current.spec.kind);
    let expression = body
        .expression
        .as_deref()
        .map(str::trim)
        .unwrap_or(&current.spec.expression)
        .to_owned();
    let cadence_changed = kind != current.spec.kind || expression != current.spec.expression;
    let activating = body.is_active == Some(true) && !current.is_active;
    let deactivating = body.is_active == Some(false) && current.is_active;
    if cadence_changed || activating {
        let cadence =
            check_expression(kind, &expression, now, state.engine.schedule_min_interval())
                .map_err(expression_error)?;
        next.spec.kind = kind;
        next.spec.expression = expression;
        next.generation = current.generation + 1;
        next.anchor_ms = now;
        if cadence_changed {
            next.trigger_count = 0;
        }
        let active = body.is_active.unwrap_or(current.is_active);
        next.is_active = active;
        next.next_fire_at = if active {
            cadence.next_after(now, now)
        } else {
            None
        };
    } else if deactivating {
        next.is_active = false;
        next.next_fire_at = None;
    }
    if let Some(value) = &body.payload {
        let parsed: PayloadBody = crate::extract::from_value(value.clone()).map_err(|e| {
            ApiError::invalid(
                format!(
                    "payload{}",
                    e.param
                        .as_deref()
                        .map(|p| format!(".{p}"))
                        .unwrap_or_default()
                ),
                e.message,
            )
        })?;
        next.spec.payload = payload(state, parsed)?;
    }
    if let Some(tag) = &body.agent_tag {
        if tag.is_empty() {
            next.spec.agent_tag = None;
        } else {
            check_tag(state, agent, tag).await?;
            next.spec.agent_tag = Some(tag.clone());
        }
    }
    if let Some(name) = &body.display_name {
        next.spec.display_name = Some(name.clone());
    }
    if let Some(c) = body.catch_up {
        next.spec.catch_up = c;
    }
    next.updated = now_rfc3339();
    next.updated_by_id = Some(caller.key_id.clone());
    Ok(next)
}

/// Update a schedule.
#[utoipa::path(patch, path = "/v3/agents/{agent_key}/schedules/{schedule_id}", request_body = Object,
    params(("agent_key" = String, Path, description = "Agent key"), ("schedule_id" = String, Path, description = "Schedule id")),
    responses((status = 200, description = "The schedule"), (status = 400, description = "Invalid"),
              (status = 404, description = "Unknown")))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<Json<Value>, ApiError> {
    // A firing may move the schedule between the read and the write: read again and retry.
    for _ in 0..5 {
        let (agent, current) = find(&state, &caller, &agent_key, &id).await?;
        let next = apply_update(&state, &caller, &agent, &current, &body).await?;
        if state.store.update_schedule(&next, &current).await? {
            state.engine.schedules_changed();
            let (_, saved) = find(&state, &caller, &agent_key, &id).await?;
            return Ok(Json(schedule_json(&saved)));
        }
    }
    Err(ApiError::conflict(
        "the schedule kept changing while it was updated; try again",
    ))
}

/// Delete a schedule.
#[utoipa::path(delete, path = "/v3/agents/{agent_key}/schedules/{schedule_id}",
    params(("agent_key" = String, Path, description = "Agent key"), ("schedule_id" = String, Path, description = "Schedule id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Unknown")))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (_, schedule) = find(&state, &caller, &agent_key, &id).await?;
    state
        .store
        .delete_schedule(&caller.project, &schedule.id)
        .await?;
    state.engine.schedules_changed();
    Ok(StatusCode::NO_CONTENT)
}

/// Run a schedule's payload now, without touching its cadence.
#[utoipa::path(post, path = "/v3/agents/{agent_key}/schedules/{schedule_id}/execution",
    params(("agent_key" = String, Path, description = "Agent key"), ("schedule_id" = String, Path, description = "Schedule id")),
    responses((status = 202, description = "`{status: triggered, schedule_id, task_id}`"),
              (status = 400, description = "Inactive (`schedule_inactive`)"), (status = 404, description = "Unknown")))]
pub(crate) async fn execute(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (_, schedule) = find(&state, &caller, &agent_key, &id).await?;
    if !schedule.is_active {
        return Err(ApiError::invalid_code(
            "schedule_inactive",
            "",
            "the schedule is inactive; activate it first",
        ));
    }
    let task = state.engine.execute_schedule(&schedule).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"status": "triggered", "schedule_id": schedule.id, "task_id": task.id})),
    ))
}

/// The tasks a schedule's firings created, newest first, with their states.
#[utoipa::path(get, path = "/v3/agents/{agent_key}/schedules/{schedule_id}/executions",
    params(("agent_key" = String, Path, description = "Agent key"), ("schedule_id" = String, Path, description = "Schedule id")),
    responses((status = 200, description = "`{executions: [{task_id, state, due_at, fired_at, manual, generation}]}`"),
              (status = 404, description = "Unknown")))]
pub(crate) async fn executions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (_, schedule) = find(&state, &caller, &agent_key, &id).await?;
    let firings = state.store.firings(&schedule.id, 100).await?;
    let mut out = Vec::with_capacity(firings.len());
    for f in firings {
        let task = state.store.task(&caller.project, &f.task_id).await?;
        out.push(json!({
            "task_id": f.task_id, "state": task.as_ref().map(|t| t.state),
            "due_at": rfc3339_ms(f.due_ms), "fired_at": rfc3339_ms(f.fired_ms),
            "lateness_ms": f.fired_ms - f.due_ms, "manual": f.manual, "generation": f.generation,
        }));
    }
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
#[utoipa::path(post, path = "/api/schedules", request_body = Object,
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
    let record = create_schedule(&state, &caller, agent, create).await?;
    Ok((StatusCode::CREATED, Json(schedule_json(&record))))
}
