//! Ensemble's Agent API: `POST /api/agents/{agentId}/invoke` runs an agent with structured
//! output and answers `{data, threadId}`; `GET /api/agents/{agentId}/schema` tells its output
//! schema. A thin adapter over the engine's agents and runs, with Ensemble's error messages.

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use baton_core::agent::{AgentRecord, AgentSpec};
use baton_core::message::{Part, Role};
use baton_core::store::TaskRecord;
use baton_core::task::TaskState;
use baton_engine::{Engine, EngineError, RunRequest};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(invoke))
        .routes(routes!(schema))
}

/// The 401 message Ensemble clients expect for a bad key on these routes.
pub(crate) const BAD_KEY: &str = "Invalid or disabled API key";

/// An error with exactly Ensemble's message (no field prefix).
fn exact(status: StatusCode, code: &'static str, message: &str, param: Option<&str>) -> ApiError {
    let mut e = ApiError::not_found(message);
    e.status = status;
    e.code = code;
    e.param = param.map(str::to_owned);
    e
}

fn agent_not_found() -> ApiError {
    exact(StatusCode::NOT_FOUND, "not_found", "Agent not found", None)
}

/// The body of an invocation.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InvokeBody {
    /// The user's message (required, a non-empty string).
    #[serde(default)]
    #[schema(value_type = String)]
    message: Option<Value>,
    /// Key/value data the model sees and the agent's tool calls can fill arguments from.
    #[serde(default)]
    data_context: Option<Map<String, Value>>,
    /// A thread to continue (from an earlier answer).
    #[serde(default)]
    thread_id: Option<String>,
    /// `latest` (default), `published`, or a version number.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    version: Option<Value>,
}

/// The answer to an invocation.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InvokeAnswer {
    /// The agent's answer, valid against its output schema.
    data: Value,
    /// The thread to pass for follow-ups.
    thread_id: String,
}

/// An agent's output schema.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SchemaAnswer {
    /// The agent's key.
    agent_id: String,
    /// Its display name (its key when it has none).
    name: String,
    /// The JSON schema its answers satisfy.
    output_schema: Value,
}

/// `?version=` of the schema route.
#[derive(Deserialize, utoipa::IntoParams)]
pub(crate) struct VersionQuery {
    /// `latest` (default), `published`, or a version number.
    #[serde(default)]
    version: Option<String>,
}

/// Which version a selector names: `None` is the live one.
enum Selector {
    Latest,
    Published,
    Number(u32),
}

fn selector(raw: Option<&Value>) -> Result<Selector, ApiError> {
    let text = match raw {
        None | Some(Value::Null) => return Ok(Selector::Latest),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(_) => return Err(agent_not_found()),
    };
    match text.as_str() {
        "" | "latest" => Ok(Selector::Latest),
        "published" => Ok(Selector::Published),
        digits => digits
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .map(Selector::Number)
            .ok_or_else(agent_not_found),
    }
}

/// The agent and the configuration of the version a selector names; 404 "Agent not found"
/// for a missing agent or version. `published` is the version marked with
/// `POST /v2/agents/{key}/versions/{n}/publish` (or live when the agent's status was set to
/// `published`); an agent with no mark has no published version.
async fn agent_version(
    state: &AppState,
    caller: &Caller,
    key: &str,
    selector: Selector,
) -> Result<(AgentRecord, Option<u32>, AgentSpec), ApiError> {
    let agent = match state.engine.agents().get(&caller.project, key).await {
        Ok(agent) => agent,
        Err(EngineError::NotFound(_)) => return Err(agent_not_found()),
        Err(e) => return Err(e.into()),
    };
    match selector {
        Selector::Latest => {
            let spec = agent.spec.clone();
            Ok((agent, None, spec))
        }
        Selector::Published => match state.engine.agents().published(&agent).await {
            Ok(Some(published)) => Ok((agent, Some(published.version), published.spec)),
            Ok(None) | Err(EngineError::NotFound(_)) => Err(agent_not_found()),
            Err(e) => Err(e.into()),
        },
        Selector::Number(n) => match state.engine.agents().version(&agent, n).await {
            Ok(version) => Ok((agent, Some(n), version.spec)),
            Err(EngineError::NotFound(_)) => Err(agent_not_found()),
            Err(e) => Err(e.into()),
        },
    }
}

/// Invoke an agent with structured output: `data` is its answer, valid against its output
/// schema; pass `threadId` back to continue the conversation.
#[utoipa::path(post, path = "/api/agents/{agent_id}/invoke", operation_id = "ensemble_invoke", tag = "ensemble",
    params(("agent_id" = String, Path, description = "The agent's key")),
    request_body(content = InvokeBody, example = json!({"message": "Write a haiku about coding",
        "dataContext": {"department": "Engineering"}})),
    responses((status = 200, description = "The structured answer and its thread", body = InvokeAnswer),
              (status = 400, description = "`message is required`, `Agent does not have structured output` or `Supervisor agents cannot be invoked`", body = ErrorBody),
              (status = 404, description = "`Agent not found` (also for a missing version)", body = ErrorBody)))]
pub(crate) async fn invoke(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_id): Path<String>,
    ApiJson(body): ApiJson<InvokeBody>,
) -> Result<Json<InvokeAnswer>, ApiError> {
    let message = match &body.message {
        Some(Value::String(m)) if !m.trim().is_empty() => m.clone(),
        _ => {
            return Err(exact(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "message is required",
                Some("message"),
            ))
        }
    };
    let selected = selector(body.version.as_ref())?;
    let (agent, version, spec) = agent_version(&state, &caller, &agent_id, selected).await?;
    runnable(&spec)?;
    let thread_id = thread_for(&state, &caller, body.thread_id).await?;
    let data_context = body.data_context.unwrap_or_default();
    let mut parts = vec![Part::Text { text: message }];
    if !data_context.is_empty() {
        parts.push(Part::Data {
            data: data_context.clone(),
            metadata: None,
        });
    }
    let request = RunRequest {
        multitask: Default::default(),
        project: caller.project.clone(),
        agent,
        version,
        role: Role::User,
        parts,
        message_id: None,
        reviews: Vec::new(),
        lineage: None,
        turn_tools: Default::default(),
        task_id: None,
        background: false,
        stream: false,
        variables: data_context,
        identity: caller
            .subject
            .as_ref()
            .map(|s| serde_json::json!({ "id": s })),
        thread_id: Some(thread_id.clone()),
        memory_entity_id: None,
        metadata: Map::new(),
    };
    let finished = run_to_end(&state.engine, request).await?;
    Ok(Json(InvokeAnswer {
        data: structured_answer(&finished)?,
        thread_id,
    }))
}

/// The thread to run on: the given one (an end user's own only), or a new `invoke-…` id.
async fn thread_for(
    state: &AppState,
    caller: &Caller,
    given: Option<String>,
) -> Result<String, ApiError> {
    let Some(thread_id) = given.filter(|t| !t.trim().is_empty()) else {
        return Ok(format!(
            "invoke-{}",
            baton_core::id::new_id().to_lowercase()
        ));
    };
    if let Some(own) = caller.own_identity() {
        // A thread's history becomes the run's context: an end user continues only its own.
        let record = state
            .engine
            .threads()
            .get(&caller.project, &thread_id)
            .await?;
        if record.is_some_and(|r| r.owner.as_deref() != Some(own)) {
            return Err(ApiError::not_found(format!(
                "thread `{thread_id}` not found"
            )));
        }
        for task in state
            .engine
            .thread_tasks(&caller.project, &thread_id)
            .await?
        {
            if identity_of(&task)?.as_deref() != Some(own) {
                return Err(ApiError::not_found(format!(
                    "thread `{thread_id}` not found"
                )));
            }
        }
    }
    Ok(thread_id)
}

/// Refuses agents the Agent API cannot run: no output schema, or a team (a supervisor).
fn runnable(spec: &AgentSpec) -> Result<(), ApiError> {
    if spec.output_schema.is_none() {
        return Err(exact(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Agent does not have structured output",
            None,
        ));
    }
    if !spec.team_of_agents.is_empty() {
        return Err(exact(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Supervisor agents cannot be invoked",
            None,
        ));
    }
    Ok(())
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

/// Runs a request on this server until its turn ends, and reads the task back.
async fn run_to_end(engine: &Engine, request: RunRequest) -> Result<TaskRecord, ApiError> {
    let prepared = engine.prepare(request).await?;
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

/// The final answer of a completed turn, parsed as the JSON the output schema checked.
fn structured_answer(task: &TaskRecord) -> Result<Value, ApiError> {
    let data = Engine::data(task)?;
    let answer = data
        .turn_output()
        .iter()
        .rev()
        .filter(|m| m.role == Role::Agent)
        .flat_map(|m| m.parts.iter().rev())
        .find_map(|p| match p {
            Part::Text { text } if !text.is_empty() => Some(text.clone()),
            _ => None,
        });
    let parsed = answer.and_then(|a| serde_json::from_str::<Value>(&a).ok());
    match (task.state, parsed) {
        (TaskState::Completed, Some(value)) => Ok(value),
        _ => {
            let why = data
                .error
                .clone()
                .unwrap_or_else(|| format!("the run ended `{:?}`", task.state));
            tracing::warn!(task = %task.id, error = %why, "ensemble invocation failed");
            Err(exact(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                &format!("Internal server error: {why} (task {})", task.id),
                None,
            ))
        }
    }
}

/// The output schema of an agent's version.
#[utoipa::path(get, path = "/api/agents/{agent_id}/schema", operation_id = "ensemble_schema", tag = "ensemble",
    params(("agent_id" = String, Path, description = "The agent's key"), VersionQuery),
    responses((status = 200, description = "The agent's output schema", body = SchemaAnswer),
              (status = 400, description = "`Agent does not have structured output`", body = ErrorBody),
              (status = 404, description = "`Agent not found` (also for a missing version)", body = ErrorBody)))]
pub(crate) async fn schema(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_id): Path<String>,
    Query(query): Query<VersionQuery>,
) -> Result<Json<SchemaAnswer>, ApiError> {
    let raw = query.version.map(Value::String);
    let selected = selector(raw.as_ref())?;
    let (_, _, spec) = agent_version(&state, &caller, &agent_id, selected).await?;
    let output_schema = spec.output_schema.clone().ok_or_else(|| {
        exact(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Agent does not have structured output",
            None,
        )
    })?;
    Ok(Json(SchemaAnswer {
        name: spec
            .display_name
            .clone()
            .unwrap_or_else(|| spec.key.clone()),
        agent_id: spec.key,
        output_schema,
    }))
}
