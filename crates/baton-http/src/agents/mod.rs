//! `/v2/agents`: create, list, retrieve (also `key@N`), update (new version when the
//! configuration changes), delete, and the version list.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{page_request, ApiJson};
use crate::extract::{Path, Query};
use crate::state::AppState;
use crate::wire::list_json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use baton_core::agent::{AgentRecord, AgentRef, AgentSpec, AgentStatus};
use baton_core::ProjectId;
use baton_engine::agents::AgentPatch;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(retrieve, update, delete))
        .routes(routes!(versions))
}

/// The agent as the wire shows it: the spec's fields plus identity, with `model` as an object
/// and every tool entry carrying `id` and `action_type`.
fn agent_json(agent: &AgentRecord, spec: &AgentSpec, version: u32) -> Value {
    let mut body = match serde_json::to_value(spec) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    if let Some(Value::Array(tools)) = body.get_mut("settings").and_then(|s| s.get_mut("tools")) {
        for tool in tools.iter_mut().filter_map(Value::as_object_mut) {
            let kind = tool.get("type").cloned().unwrap_or(Value::Null);
            tool.insert("action_type".into(), kind);
        }
    }
    if !spec.fallback_models.is_empty() {
        if let (Some(Value::Object(model)), Ok(fallbacks)) = (
            body.get("model").cloned(),
            serde_json::to_value(&spec.fallback_models),
        ) {
            let mut model = model;
            model.insert("fallback_models".into(), fallbacks);
            body.insert("model".into(), Value::Object(model));
        }
    }
    body.insert("_id".into(), json!(agent.id));
    body.insert("project_id".into(), json!(agent.project_id));
    body.insert("status".into(), json!(agent.status));
    body.insert("version".into(), json!(version.to_string()));
    body.insert("created".into(), json!(agent.created));
    body.insert("updated".into(), json!(agent.updated));
    body.insert("type".into(), json!("internal"));
    Value::Object(body)
}

pub(crate) async fn live_agent(
    state: &AppState,
    project: &ProjectId,
    key: &str,
) -> Result<AgentRecord, ApiError> {
    Ok(state.engine.agents().get(project, key).await?)
}

/// Create an agent.
#[utoipa::path(post, path = "/v2/agents", operation_id = "agents_create", tag = "agents", request_body = Object,
    responses((status = 201, description = "The agent"), (status = 400, description = "Invalid field"),
              (status = 409, description = "Key taken")))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(spec): ApiJson<AgentSpec>,
) -> Result<impl IntoResponse, ApiError> {
    let agent = state.engine.agents().create(&caller.project, spec).await?;
    Ok((
        StatusCode::CREATED,
        Json(agent_json(&agent, &agent.spec, 1)),
    ))
}

/// List agents, newest first, with cursor pagination.
#[utoipa::path(get, path = "/v2/agents", operation_id = "agents_list", tag = "agents",
    params(("limit" = Option<f64>, Query, description = "Page size"),
           ("starting_after" = Option<String>, Query, description = "Cursor: an agent `_id`"),
           ("ending_before" = Option<String>, Query, description = "Cursor: an agent `_id`")),
    responses((status = 200, description = "`{object, data, has_more}`")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let page = state
        .engine
        .agents()
        .list(&caller.project, &page_request(&query)?)
        .await?;
    let data: Vec<Value> = page
        .items
        .iter()
        .map(|a| agent_json(a, &a.spec, a.version))
        .collect();
    Ok(list_json(data, page.has_more))
}

/// Retrieve an agent: `key` for the live version, `key@N` for version N.
#[utoipa::path(get, path = "/v2/agents/{agent_key}", operation_id = "agents_retrieve", tag = "agents",
    params(("agent_key" = String, Path, description = "`key` or `key@N`")),
    responses((status = 200, description = "The agent"), (status = 404, description = "Unknown agent or version")))]
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let reference = AgentRef::parse(&agent_key)?;
    let agents = state.engine.agents();
    let agent = agents.get(&caller.project, reference.key).await?;
    let Some(number) = reference.version else {
        return Ok(Json(agent_json(&agent, &agent.spec, agent.version)));
    };
    let version = agents.version(&agent, number).await?;
    Ok(Json(agent_json(&agent, &version.spec, number)))
}

/// Fields of a PATCH body that are not part of the agent's configuration.
const PATCH_META: [&str; 4] = [
    "versionIncrement",
    "versionDescription",
    "status",
    "project_id",
];

/// Update an agent. A change to its configuration makes a new immutable version.
#[utoipa::path(patch, path = "/v2/agents/{agent_key}", operation_id = "agents_update", tag = "agents", request_body = Object,
    params(("agent_key" = String, Path, description = "Agent key")),
    responses((status = 200, description = "The agent"), (status = 400, description = "Invalid field"),
              (status = 404, description = "Unknown agent"), (status = 409, description = "Key taken or concurrent update")))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_key): Path<String>,
    ApiJson(mut fields): ApiJson<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let status = match fields.get("status") {
        Some(s) => Some(
            serde_json::from_value::<AgentStatus>(s.clone()).map_err(|_| {
                ApiError::invalid("status", "must be one of live, draft, pending, published")
            })?,
        ),
        None => None,
    };
    let version_description = match fields.get("versionDescription") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ApiError::invalid("versionDescription", "must be a string")),
    };
    fields.retain(|field, _| !PATCH_META.contains(&field.as_str()));
    let patch = AgentPatch {
        fields,
        status,
        version_description,
    };
    let agent = state
        .engine
        .agents()
        .update(&caller.project, &agent_key, patch)
        .await?;
    Ok(Json(agent_json(&agent, &agent.spec, agent.version)))
}

/// Delete an agent and its versions.
#[utoipa::path(delete, path = "/v2/agents/{agent_key}", operation_id = "agents_delete", tag = "agents",
    params(("agent_key" = String, Path, description = "Agent key")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Unknown agent")))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_key): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .engine
        .agents()
        .delete(&caller.project, &agent_key)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List an agent's versions, newest first.
#[utoipa::path(get, path = "/v2/agents/{agent_key}/versions", operation_id = "agents_list_versions", tag = "agents",
    params(("agent_key" = String, Path, description = "Agent key")),
    responses((status = 200, description = "`{object, data: [{version, created, description, agent}], has_more}`"),
              (status = 404, description = "Unknown agent")))]
pub(crate) async fn versions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (agent, versions) = state
        .engine
        .agents()
        .versions(&caller.project, &agent_key)
        .await?;
    let data: Vec<Value> = versions
        .iter()
        .map(|v| {
            json!({
                "version": v.version.to_string(),
                "version_number": v.version,
                "created": v.created,
                "description": v.description,
                "live": v.version == agent.version,
                "agent": agent_json(&agent, &v.spec, v.version),
            })
        })
        .collect();
    Ok(Json(
        json!({"object": "list", "data": data, "has_more": false}),
    ))
}
