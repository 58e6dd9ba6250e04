//! `/v2/agents`: create, list, retrieve (also `key@N`), update (new version when the
//! configuration changes), delete, and the version list.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{from_value, page_request, ApiJson};
use crate::extract::{Path, Query};
use crate::state::AppState;
use crate::wire::list_json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Json, Router};
use baton_core::agent::{AgentRecord, AgentRef, AgentSpec, AgentStatus, AgentVersion};
use baton_core::id::{new_id, now_rfc3339};
use baton_core::ProjectId;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/agents", get(list).post(create))
        .route(
            "/v2/agents/{agent_key}",
            get(retrieve).patch(update).delete(delete),
        )
        .route("/v2/agents/{agent_key}/versions", get(versions))
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

/// Gives every tool entry a stable id: a referenced tool's own id, else the id the same entry
/// had in the previous version, else a new one. References must name an existing tool.
async fn resolve_tools(
    state: &AppState,
    project: &ProjectId,
    spec: &mut AgentSpec,
    previous: Option<&AgentSpec>,
) -> Result<(), ApiError> {
    // Memory stores and knowledge bases must exist: a typo would otherwise surface only as a
    // tool error in some later run.
    for (i, name) in spec.memory_stores.iter().enumerate() {
        let kind = baton_core::collection::CollectionKind::MemoryStore;
        if state.store.collection(project, kind, name).await?.is_none() {
            return Err(ApiError::invalid(
                format!("memory_stores[{i}]"),
                format!("no memory store `{name}` exists; create it under /v2/memory-stores first"),
            ));
        }
    }
    for (i, kb) in spec.knowledge_bases.iter().enumerate() {
        let kind = baton_core::collection::CollectionKind::Knowledge;
        if state
            .store
            .collection(project, kind, &kb.knowledge_id)
            .await?
            .is_none()
        {
            return Err(ApiError::invalid(
                format!("knowledge_bases[{i}].knowledge_id"),
                format!(
                    "no knowledge base `{}` exists; create it under /v2/knowledge first",
                    kb.knowledge_id
                ),
            ));
        }
    }
    let old = previous.map(|p| p.settings.tools.as_slice()).unwrap_or(&[]);
    for (i, entry) in spec.settings.tools.iter_mut().enumerate() {
        if entry.is_reference() {
            // orq's docs attach an MCP server as `{"type": "mcp", "tool_id": <server id>}`.
            let server_by_tool_id = entry.id.is_none() && entry.key.is_none();
            let wanted = entry
                .id
                .clone()
                .or_else(|| entry.key.clone())
                .or_else(|| entry.tool_id.clone())
                .unwrap_or_default();
            if server_by_tool_id {
                entry.tool_id = None;
            }
            let tool = state.store.tool(project, &wanted).await?.ok_or_else(|| {
                ApiError::invalid(
                    format!("settings.tools[{i}]"),
                    format!("no tool `{wanted}` exists; create it under /v2/tools first"),
                )
            })?;
            let stored = tool.spec.kind.type_name();
            if stored != entry.kind {
                return Err(ApiError::invalid(
                    format!("settings.tools[{i}].type"),
                    format!("tool `{wanted}` is a `{stored}` tool, not `{}`", entry.kind),
                ));
            }
            entry.id = Some(tool.id);
            entry.key = Some(tool.spec.key);
        } else if entry.id.is_none() {
            if entry.key.is_none() {
                entry.key = entry.function.as_ref().map(|f| f.name.clone());
            }
            entry.id = old
                .iter()
                .find(|o| o.kind == entry.kind && o.key == entry.key)
                .and_then(|o| o.id.clone())
                .or_else(|| Some(new_id()));
        }
    }
    Ok(())
}

pub(crate) async fn live_agent(
    state: &AppState,
    project: &ProjectId,
    key: &str,
) -> Result<AgentRecord, ApiError> {
    state
        .store
        .agent_by_key(project, key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("agent `{key}` not found")))
}

/// Create an agent.
#[utoipa::path(post, path = "/v2/agents", request_body = Object,
    responses((status = 201, description = "The agent"), (status = 400, description = "Invalid field"),
              (status = 409, description = "Key taken")))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(mut spec): ApiJson<AgentSpec>,
) -> Result<impl IntoResponse, ApiError> {
    spec.validate()?;
    resolve_tools(&state, &caller.project, &mut spec, None).await?;
    let now = now_rfc3339();
    let agent = AgentRecord {
        id: new_id(),
        project_id: caller.project,
        status: AgentStatus::Live,
        version: 1,
        created: now.clone(),
        updated: now.clone(),
        spec: spec.clone(),
    };
    let first = AgentVersion {
        agent_id: agent.id.clone(),
        version: 1,
        created: now,
        description: None,
        spec,
    };
    state.store.create_agent(&agent, &first).await?;
    Ok((
        StatusCode::CREATED,
        Json(agent_json(&agent, &agent.spec, 1)),
    ))
}

/// List agents, newest first, with cursor pagination.
#[utoipa::path(get, path = "/v2/agents",
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
        .store
        .list_agents(&caller.project, &page_request(&query)?)
        .await?;
    let data: Vec<Value> = page
        .items
        .iter()
        .map(|a| agent_json(a, &a.spec, a.version))
        .collect();
    Ok(list_json(data, page.has_more))
}

/// Retrieve an agent: `key` for the live version, `key@N` for version N.
#[utoipa::path(get, path = "/v2/agents/{agent_key}",
    params(("agent_key" = String, Path, description = "`key` or `key@N`")),
    responses((status = 200, description = "The agent"), (status = 404, description = "Unknown agent or version")))]
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let reference = AgentRef::parse(&agent_key)?;
    let agent = live_agent(&state, &caller.project, reference.key).await?;
    match reference.version {
        None => Ok(Json(agent_json(&agent, &agent.spec, agent.version))),
        Some(n) => {
            let version = state
                .store
                .agent_version(&caller.project, &agent.id, n)
                .await?
                .ok_or_else(|| {
                    ApiError::not_found(format!("agent `{}` has no version {n}", reference.key))
                })?;
            Ok(Json(agent_json(&agent, &version.spec, n)))
        }
    }
}

/// Fields of a PATCH body that are not part of the agent's configuration.
const PATCH_META: [&str; 4] = [
    "versionIncrement",
    "versionDescription",
    "status",
    "project_id",
];

/// Update an agent. A change to its configuration makes a new immutable version.
#[utoipa::path(patch, path = "/v2/agents/{agent_key}", request_body = Object,
    params(("agent_key" = String, Path, description = "Agent key")),
    responses((status = 200, description = "The agent"), (status = 400, description = "Invalid field"),
              (status = 404, description = "Unknown agent"), (status = 409, description = "Key taken or concurrent update")))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_key): Path<String>,
    ApiJson(patch): ApiJson<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    if AgentRef::parse(&agent_key)?.version.is_some() {
        return Err(ApiError::invalid(
            "agent_key",
            "versions are immutable; PATCH the agent's key without `@version`",
        ));
    }
    let mut agent = live_agent(&state, &caller.project, &agent_key).await?;
    let mut merged = match serde_json::to_value(&agent.spec) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    for (field, value) in &patch {
        if PATCH_META.contains(&field.as_str()) {
            continue;
        }
        match (field.as_str(), value, merged.get_mut(field)) {
            (_, Value::Null, _) => {
                merged.remove(field);
            }
            ("settings", Value::Object(new), Some(Value::Object(old))) => {
                for (k, v) in new {
                    old.insert(k.clone(), v.clone());
                }
            }
            _ => {
                merged.insert(field.clone(), value.clone());
            }
        }
    }
    let mut spec: AgentSpec = from_value(Value::Object(merged))?;
    spec.validate()?;
    resolve_tools(&state, &caller.project, &mut spec, Some(&agent.spec)).await?;
    let status = match patch.get("status") {
        Some(s) => serde_json::from_value::<AgentStatus>(s.clone()).map_err(|_| {
            ApiError::invalid("status", "must be one of live, draft, pending, published")
        })?,
        None => agent.status,
    };
    let description = match patch.get("versionDescription") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ApiError::invalid("versionDescription", "must be a string")),
    };
    let expected = agent.version;
    let now = now_rfc3339();
    let new_version = (spec != agent.spec).then(|| AgentVersion {
        agent_id: agent.id.clone(),
        version: expected + 1,
        created: now.clone(),
        description,
        spec: spec.clone(),
    });
    if new_version.is_none() && status == agent.status {
        return Ok(Json(agent_json(&agent, &agent.spec, agent.version)));
    }
    agent.version = new_version.as_ref().map_or(expected, |v| v.version);
    agent.spec = spec;
    agent.status = status;
    agent.updated = now;
    state
        .store
        .update_agent(&agent, expected, new_version.as_ref())
        .await?;
    Ok(Json(agent_json(&agent, &agent.spec, agent.version)))
}

/// Delete an agent and its versions.
#[utoipa::path(delete, path = "/v2/agents/{agent_key}",
    params(("agent_key" = String, Path, description = "Agent key")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Unknown agent")))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_key): Path<String>,
) -> Result<StatusCode, ApiError> {
    let agent = live_agent(&state, &caller.project, &agent_key).await?;
    state.store.delete_agent(&caller.project, &agent.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List an agent's versions, newest first.
#[utoipa::path(get, path = "/v2/agents/{agent_key}/versions",
    params(("agent_key" = String, Path, description = "Agent key")),
    responses((status = 200, description = "`{object, data: [{version, created, description, agent}], has_more}`"),
              (status = 404, description = "Unknown agent")))]
pub(crate) async fn versions(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(agent_key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let agent = live_agent(&state, &caller.project, &agent_key).await?;
    let versions = state
        .store
        .agent_versions(&caller.project, &agent.id)
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
