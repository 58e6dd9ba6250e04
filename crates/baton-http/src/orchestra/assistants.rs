//! Orchestra's assistants (`/api/assistants`): each is a Baton agent, versioned like any
//! other, whose key is the `assistant_id`.

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, Path};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use baton_core::agent::{AgentRecord, ToolEntry};
use baton_core::store::PageRequest;
use baton_core::ProjectId;
use baton_engine::agents::AgentPatch;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update, delete))
}

/// An assistant as Orchestra describes it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssistantBody {
    /// Its name.
    name: String,
    /// What it does.
    #[serde(default)]
    description: String,
    /// `vendor:model` (`openai:gpt-5.2`); `vendor/model` works too.
    model: String,
    /// The system prompt.
    #[serde(default)]
    system_prompt: String,
    /// Names of stored tools (`/api/tools`, `/v2/tools`).
    #[serde(default)]
    tools: Vec<String>,
    /// MCP servers: only `{}`; attach MCP servers as stored `mcp` tools instead.
    #[serde(default)]
    #[schema(value_type = Object)]
    mcp: Map<String, Value>,
    /// Remote A2A agents it may hand work to, by the name it calls them:
    /// `{"name": {"card_url": "https://…/agent-card.json", "headers": {…}}}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    a2a: Map<String, Value>,
    /// `assistant_id`s of sub-agents it may hand work to.
    #[serde(default)]
    subagents: Vec<String>,
}

/// An assistant.
#[derive(Serialize, ToSchema)]
pub(crate) struct AssistantDto {
    /// Its id (the key of its Baton agent).
    assistant_id: String,
    /// Its name.
    name: String,
    /// What it does.
    description: String,
    /// `vendor:model`.
    model: String,
    /// The system prompt.
    system_prompt: String,
    /// Names of its tools.
    tools: Vec<String>,
    /// Its sub-agents' ids.
    subagents: Vec<String>,
    /// The agent's live version.
    version: u32,
    /// Creation time (RFC 3339).
    created_at: String,
    /// Last update (RFC 3339).
    updated_at: String,
}

/// The assistants of the project.
#[derive(Serialize, ToSchema)]
pub(crate) struct AssistantList {
    /// Newest first.
    assistants: Vec<AssistantDto>,
}

/// `vendor:model` as Baton's `vendor/model`.
pub(crate) fn baton_model(model: &str) -> String {
    match model.split_once(':') {
        Some((vendor, name)) if !vendor.contains('/') => format!("{vendor}/{name}"),
        _ => model.to_owned(),
    }
}

fn orchestra_model(model: &str) -> String {
    model.replacen('/', ":", 1)
}

pub(crate) fn to_dto(agent: &AgentRecord) -> AssistantDto {
    let spec = &agent.spec;
    AssistantDto {
        assistant_id: spec.key.clone(),
        name: spec
            .display_name
            .clone()
            .unwrap_or_else(|| spec.key.clone()),
        description: spec.description.clone(),
        model: orchestra_model(&spec.model.id),
        system_prompt: spec.system_prompt.clone().unwrap_or_default(),
        tools: spec
            .settings
            .tools
            .iter()
            .filter_map(|t| match &t.tool {
                ToolEntry::Stored(stored) => stored.key.clone(),
                _ => None,
            })
            .collect(),
        subagents: spec.team_of_agents.iter().map(|m| m.key.clone()).collect(),
        version: agent.version,
        created_at: agent.created.clone(),
        updated_at: agent.updated.clone(),
    }
}

/// Stored tool references for tool names: `{"type": <the tool's type>, "key": name}`.
pub(crate) async fn tool_refs(
    state: &AppState,
    project: &ProjectId,
    field: &str,
    names: &[String],
) -> Result<Vec<Value>, ApiError> {
    let mut refs = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let tool = state.store.tool(project, name).await?.ok_or_else(|| {
            ApiError::invalid(
                format!("{field}[{i}]"),
                format!("no tool `{name}` exists; create it with POST /api/tools first"),
            )
        })?;
        refs.push(json!({"type": tool.spec.kind.type_name(), "key": name}));
    }
    Ok(refs)
}

/// The agent fields (orq's agent JSON) an assistant body sets.
async fn agent_fields(
    state: &AppState,
    project: &ProjectId,
    body: AssistantBody,
) -> Result<Map<String, Value>, ApiError> {
    if !body.mcp.is_empty() {
        return Err(ApiError::invalid(
            "mcp",
            "only `{}` here: register MCP servers as tools (POST /v2/tools with type `mcp`) and name them in `tools`",
        ));
    }
    if body.name.trim().is_empty() {
        return Err(ApiError::invalid("name", "must not be empty"));
    }
    let tools = tool_refs(state, project, "tools", &body.tools).await?;
    let mut team: Vec<Value> = body.subagents.iter().map(|k| json!({"key": k})).collect();
    for (name, remote) in body.a2a {
        if !remote.is_object() {
            return Err(ApiError::invalid(
                format!("a2a.{name}"),
                "must be an object with the agent's `card_url` (and optional `headers`, `timeout`)",
            ));
        }
        if body.subagents.contains(&name) {
            return Err(ApiError::invalid(
                format!("a2a.{name}"),
                "a sub-agent of this name is already in `subagents`",
            ));
        }
        team.push(json!({"key": name, "a2a": remote}));
    }
    let system_prompt = (!body.system_prompt.is_empty()).then_some(body.system_prompt);
    let fields = json!({
        "display_name": body.name, "description": body.description,
        "model": baton_model(&body.model), "system_prompt": system_prompt,
        "settings": {"tools": tools}, "team_of_agents": team,
    });
    Ok(fields.as_object().cloned().unwrap_or_default())
}

/// Create an assistant: a Baton agent, version 1.
#[utoipa::path(post, path = "/api/assistants", operation_id = "orchestra_create_assistant", tag = "orchestra",
    request_body(content = AssistantBody, example = json!({"name": "blog_writer_bot",
        "description": "Writes and publishes blogs.", "model": "openai:gpt-5.2",
        "system_prompt": "You write and publish blog posts.", "tools": ["create_post"],
        "mcp": {}, "a2a": {}, "subagents": []})),
    responses((status = 201, description = "The assistant", body = AssistantDto),
              (status = 400, description = "Invalid field", body = ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<AssistantBody>,
) -> Result<(StatusCode, Json<AssistantDto>), ApiError> {
    let mut fields = agent_fields(&state, &caller.project, body).await?;
    let key = format!("asst-{}", baton_core::id::new_id().to_lowercase());
    fields.insert("key".into(), json!(key));
    fields.insert("role".into(), json!("Assistant"));
    fields.insert("instructions".into(), json!(""));
    fields.insert("path".into(), json!("Default"));
    fields.retain(|_, v| !v.is_null());
    let spec = crate::extract::from_any_value(Value::Object(fields))?;
    let agent = state.engine.agents().create(&caller.project, spec).await?;
    Ok((StatusCode::CREATED, Json(to_dto(&agent))))
}

/// List the assistants (agents made here or under `/v2/agents`), newest first.
#[utoipa::path(get, path = "/api/assistants", operation_id = "orchestra_list_assistants", tag = "orchestra",
    responses((status = 200, description = "The assistants", body = AssistantList)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<AssistantList>, ApiError> {
    let page = PageRequest {
        limit: None,
        starting_after: None,
        ending_before: None,
    };
    let agents = state.engine.agents().list(&caller.project, &page).await?;
    Ok(Json(AssistantList {
        assistants: agents.items.iter().map(to_dto).collect(),
    }))
}

/// Retrieve an assistant.
#[utoipa::path(get, path = "/api/assistants/{assistant_id}", operation_id = "orchestra_get_assistant", tag = "orchestra",
    params(("assistant_id" = String, Path, description = "The assistant's id")),
    responses((status = 200, description = "The assistant", body = AssistantDto),
              (status = 404, description = "Unknown assistant", body = ErrorBody)))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<AssistantDto>, ApiError> {
    let agent = state.engine.agents().get(&caller.project, &id).await?;
    Ok(Json(to_dto(&agent)))
}

/// Replace an assistant's configuration: a new version of its agent when it changed.
#[utoipa::path(put, path = "/api/assistants/{assistant_id}", operation_id = "orchestra_update_assistant", tag = "orchestra",
    params(("assistant_id" = String, Path, description = "The assistant's id")),
    request_body = AssistantBody,
    responses((status = 200, description = "The assistant", body = AssistantDto),
              (status = 400, description = "Invalid field", body = ErrorBody),
              (status = 404, description = "Unknown assistant", body = ErrorBody)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AssistantBody>,
) -> Result<Json<AssistantDto>, ApiError> {
    state.engine.agents().get(&caller.project, &id).await?;
    let fields = agent_fields(&state, &caller.project, body).await?;
    let patch = AgentPatch {
        fields,
        status: None,
        version_description: Some("updated through /api/assistants".into()),
    };
    let agent = state
        .engine
        .agents()
        .update(&caller.project, &id, patch)
        .await?;
    Ok(Json(to_dto(&agent)))
}

/// Delete an assistant and its versions.
#[utoipa::path(delete, path = "/api/assistants/{assistant_id}", operation_id = "orchestra_delete_assistant", tag = "orchestra",
    params(("assistant_id" = String, Path, description = "The assistant's id")),
    responses((status = 204, description = "Deleted"),
              (status = 404, description = "Unknown assistant", body = ErrorBody)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.engine.agents().delete(&caller.project, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
