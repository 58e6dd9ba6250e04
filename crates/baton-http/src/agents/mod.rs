//! `/v2/agents`: create, list, retrieve (also `key@N`), update (new version when the
//! configuration changes), delete, and the version list.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::error::ErrorBody;
use crate::extract::{page_request, ApiJson};
use crate::extract::{Path, Query};
use crate::state::AppState;
use crate::wire::{ListPage, PageParams};
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use baton_core::agent::{AgentRecord, AgentRef, AgentSpec, AgentVersion};
use baton_core::ProjectId;
use baton_engine::agents::AgentPatch;

mod dto;
pub(crate) use dto::{AgentDto, AgentUpdate, AgentVersionDto};
use std::collections::HashMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(retrieve, update, delete))
        .routes(routes!(versions))
        .routes(routes!(publish))
}

pub(crate) async fn live_agent(
    state: &AppState,
    project: &ProjectId,
    key: &str,
) -> Result<AgentRecord, ApiError> {
    Ok(state.engine.agents().get(project, key).await?)
}

/// Create an agent.
#[utoipa::path(post, path = "/v2/agents", operation_id = "agents_create", tag = "agents",
    request_body(content = AgentSpec, example = json!({"key": "support", "role": "Support agent",
        "description": "Answers customer questions", "instructions": "Be brief.",
        "path": "Default", "model": "openai/gpt-4o-mini",
        "settings": {"max_iterations": 5, "tools": [{"type": "current_date"}]}})),
    responses((status = 201, description = "The agent", body = AgentDto),
              (status = 409, description = "Key taken", body = ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(spec): ApiJson<AgentSpec>,
) -> Result<(StatusCode, Json<AgentDto>), ApiError> {
    let agent = state.engine.agents().create(&caller.project, spec).await?;
    Ok((
        StatusCode::CREATED,
        Json(AgentDto::new(&agent, &agent.spec, 1)),
    ))
}

/// List agents, newest first, with cursor pagination.
#[utoipa::path(get, path = "/v2/agents", operation_id = "agents_list", tag = "agents",
    params(PageParams),
    responses((status = 200, description = "A page of agents", body = ListPage<AgentDto>)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<ListPage<AgentDto>>, ApiError> {
    let page = state
        .engine
        .agents()
        .list(&caller.project, &page_request(&query)?)
        .await?;
    let data = page
        .items
        .iter()
        .map(|a| AgentDto::new(a, &a.spec, a.version))
        .collect();
    Ok(Json(ListPage::new(data, page.has_more)))
}

/// Retrieve an agent: `key` for the live version, `key@N` for version N.
#[utoipa::path(get, path = "/v2/agents/{agent_key}", operation_id = "agents_retrieve", tag = "agents",
    params(("agent_key" = String, Path, description = "`key` or `key@N`")),
    responses((status = 200, description = "The agent", body = AgentDto),
              (status = 404, description = "Unknown agent or version", body = ErrorBody)))]
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_key): Path<String>,
) -> Result<Json<AgentDto>, ApiError> {
    let reference = AgentRef::parse(&agent_key)?;
    let agents = state.engine.agents();
    let agent = agents.get(&caller.project, reference.key).await?;
    let Some(number) = reference.version else {
        return Ok(Json(AgentDto::new(&agent, &agent.spec, agent.version)));
    };
    let version = agents.version(&agent, number).await?;
    Ok(Json(AgentDto::new(&agent, &version.spec, number)))
}

/// Update an agent. A change to its configuration makes a new immutable version.
#[utoipa::path(patch, path = "/v2/agents/{agent_key}", operation_id = "agents_update", tag = "agents",
    request_body(content = AgentUpdate, example = json!({"instructions": "Be briefer.",
        "versionDescription": "shorter"})),
    params(("agent_key" = String, Path, description = "Agent key")),
    responses((status = 200, description = "The agent", body = AgentDto),
              (status = 404, description = "Unknown agent", body = ErrorBody),
              (status = 409, description = "Key taken or concurrent update", body = ErrorBody)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_key): Path<String>,
    ApiJson(body): ApiJson<AgentUpdate>,
) -> Result<Json<AgentDto>, ApiError> {
    let patch = AgentPatch {
        fields: body.fields,
        status: body.status,
        version_description: body.version_description,
    };
    let agent = state
        .engine
        .agents()
        .update(&caller.project, &agent_key, patch)
        .await?;
    Ok(Json(AgentDto::new(&agent, &agent.spec, agent.version)))
}

/// Delete an agent and its versions.
#[utoipa::path(delete, path = "/v2/agents/{agent_key}", operation_id = "agents_delete", tag = "agents",
    params(("agent_key" = String, Path, description = "Agent key")),
    responses((status = 204, description = "Deleted")))]
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
    responses((status = 200, description = "Every version, in one page", body = ListPage<AgentVersionDto>)))]
pub(crate) async fn versions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_key): Path<String>,
) -> Result<Json<ListPage<AgentVersionDto>>, ApiError> {
    let (agent, versions) = state
        .engine
        .agents()
        .versions(&caller.project, &agent_key)
        .await?;
    let data = versions.iter().map(|v| version_dto(&agent, v)).collect();
    Ok(Json(ListPage::new(data, false)))
}

fn version_dto(agent: &AgentRecord, v: &AgentVersion) -> AgentVersionDto {
    AgentVersionDto {
        version: v.version.to_string(),
        version_number: v.version,
        created: v.created.clone(),
        description: v.description.clone(),
        live: v.version == agent.version,
        published: agent.published_version == Some(v.version),
        agent: AgentDto::new(agent, &v.spec, v.version),
    }
}

/// Mark a version as the agent's published one: Ensemble's `version: published` runs it
/// (and its schema route tells its output schema) until another version is published. The
/// live version, which orq's routes run, does not change.
#[utoipa::path(post, path = "/v2/agents/{agent_key}/versions/{version}/publish", operation_id = "agents_publish_version", tag = "agents",
    params(("agent_key" = String, Path, description = "Agent key"),
           ("version" = u32, Path, description = "The version number to publish")),
    responses((status = 200, description = "The version, now published", body = AgentVersionDto),
              (status = 400, description = "`version` is not a positive whole number", body = ErrorBody),
              (status = 404, description = "No such agent or version", body = ErrorBody)))]
pub(crate) async fn publish(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((agent_key, version)): Path<(String, String)>,
) -> Result<Json<AgentVersionDto>, ApiError> {
    let number = version
        .parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            ApiError::invalid(
                "version",
                format!("`{version}` is not a version number (1, 2, 3, …)"),
            )
        })?;
    let agents = state.engine.agents();
    let agent = agents.publish(&caller.project, &agent_key, number).await?;
    let published = agents.version(&agent, number).await?;
    Ok(Json(version_dto(&agent, &published)))
}
