//! `/v2/tools`: create, list, retrieve (by id or key), update, delete. Secret header values are
//! sealed before they are stored and masked in every answer.

use crate::auth::Caller;
use crate::error::{ApiError, ErrorShape};
use crate::error::{ErrorBody, FlatErrorBody};
use crate::extract::{page_request, ApiJson};
use crate::extract::{Path, Query};
use crate::state::AppState;
use crate::wire::{ListPage, PageParams};
use axum::extract::State;
use axum::{Extension, Json};
use baton_core::tool::{ToolRecord, ToolSpec};
use baton_engine::EngineError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(retrieve, update, delete))
        .routes(routes!(invoke))
}

/// A tool as every answer shows it: its definition, secrets masked, plus identity.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[non_exhaustive]
pub struct ToolDto {
    /// The tool's id (a ULID).
    #[serde(rename = "_id")]
    pub id: String,
    /// The owning project.
    pub project_id: String,
    /// The same as `project_id` (orq's name for it).
    pub workspace_id: String,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Last update time (RFC 3339).
    pub updated: String,
    /// The definition; `idempotent` is always given for tools the server runs.
    #[serde(flatten)]
    pub spec: ToolSpec,
}

impl From<&ToolRecord> for ToolDto {
    fn from(tool: &ToolRecord) -> Self {
        let mut spec = tool.spec.masked();
        if spec.kind.runs_on_server() {
            spec.idempotent = Some(spec.is_idempotent());
        }
        Self {
            id: tool.id.clone(),
            project_id: tool.project_id.0.clone(),
            workspace_id: tool.project_id.0.clone(),
            created: tool.created.clone(),
            updated: tool.updated.clone(),
            spec,
        }
    }
}

/// The body of `POST /v2/tools/{tool_id}/invoke`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct ToolInvoke {
    /// The arguments, as a model would send them (default `{}`).
    #[serde(default)]
    pub arguments: Option<Value>,
    /// For an MCP server: which of its tools to call.
    #[serde(default)]
    pub tool: Option<String>,
    /// Variables for the tool's `{{placeholders}}`.
    #[serde(default)]
    pub variables: Map<String, Value>,
}

/// What a direct invocation answered: `result`, or `error` when the tool itself failed.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[non_exhaustive]
pub struct ToolInvokeResult {
    /// The tool's id.
    #[serde(rename = "_id")]
    pub id: String,
    /// The tool's key.
    pub key: String,
    /// How long the call took.
    pub duration_ms: u64,
    /// The tool's result (any JSON), when it succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// The tool's error, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The body of `PATCH /v2/tools/{tool_id}`: any field of the tool's definition replaces the
/// stored one (the definition must still be valid as a whole); identity fields are ignored.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct ToolUpdate {
    /// Fields of the definition, as in `ToolSpec`.
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

/// The answer to a delete.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[non_exhaustive]
pub struct Deleted {
    /// The id of what was deleted.
    #[serde(rename = "_id")]
    pub id: String,
    /// Always true.
    pub deleted: bool,
}

/// Create a tool.
#[utoipa::path(post, path = "/v2/tools", operation_id = "tools_create", tag = "tools",
    request_body(content = ToolSpec, example = json!({"key": "weather", "path": "Default",
        "description": "Current weather for a city", "type": "function",
        "function": {"name": "weather", "parameters": {"type": "object",
            "properties": {"city": {"type": "string"}}, "required": ["city"]}}})),
    responses((status = 200, description = "The tool", body = ToolDto),
              (status = 409, description = "Key taken", body = ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(spec): ApiJson<ToolSpec>,
) -> Result<Json<ToolDto>, ApiError> {
    Ok(Json(store_new(&state, &caller, spec).await?))
}

/// Validates, seals and stores a new tool; returns it as the wire shows it.
pub(crate) async fn store_new(
    state: &AppState,
    caller: &Caller,
    spec: ToolSpec,
) -> Result<ToolDto, ApiError> {
    let tool = state.engine.tools().create(&caller.project, spec).await?;
    Ok(ToolDto::from(&tool))
}

/// Run a server-side tool once, as an agent would, to test it.
#[utoipa::path(post, path = "/v2/tools/{tool_id}/invoke", operation_id = "tools_invoke", tag = "tools",
    request_body(content = ToolInvoke, example = json!({"arguments": {"city": "Paris"}})),
    params(("tool_id" = String, Path, description = "Tool id or key")),
    responses((status = 200, description = "The result, or the tool's own error", body = ToolInvokeResult),
              (status = 400, description = "Invalid arguments, or a client-side tool", body = ErrorBody),
              (status = 404, description = "Unknown tool", body = ErrorBody)))]
pub(crate) async fn invoke(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(tool_id): Path<String>,
    ApiJson(body): ApiJson<ToolInvoke>,
) -> Result<Json<ToolInvokeResult>, ApiError> {
    let arguments = body.arguments.unwrap_or_else(|| Value::Object(Map::new()));
    let started = std::time::Instant::now();
    let (tool, outcome) = state
        .engine
        .tools()
        .invoke(
            &caller.project,
            &tool_id,
            body.tool.as_deref(),
            arguments,
            &body.variables,
        )
        .await?;
    let (result, error) = match outcome {
        Ok(result) => (Some(result), None),
        Err(error) => (None, Some(error)),
    };
    Ok(Json(ToolInvokeResult {
        id: tool.id,
        key: tool.spec.key,
        duration_ms: started.elapsed().as_millis() as u64,
        result,
        error,
    }))
}

/// List tools, newest first, with cursor pagination.
#[utoipa::path(get, path = "/v2/tools", operation_id = "tools_list", tag = "tools",
    params(PageParams),
    responses((status = 200, description = "A page of tools", body = ListPage<ToolDto>)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<ListPage<ToolDto>>, ApiError> {
    let page = state
        .engine
        .tools()
        .list(&caller.project, &page_request(&query)?)
        .await?;
    let data = page.items.iter().map(ToolDto::from).collect();
    Ok(Json(ListPage::new(data, page.has_more)))
}

/// Retrieve a tool by id or key.
#[utoipa::path(get, path = "/v2/tools/{tool_id}", operation_id = "tools_retrieve", tag = "tools",
    params(("tool_id" = String, Path, description = "Tool id or key")),
    responses((status = 200, description = "The tool", body = ToolDto),
              (status = 404, description = "Unknown tool", body = ErrorBody)))]
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(tool_id): Path<String>,
) -> Result<Json<ToolDto>, ApiError> {
    let tool = state.engine.tools().get(&caller.project, &tool_id).await?;
    Ok(Json(ToolDto::from(&tool)))
}

/// Update a tool: the fields given replace the stored ones.
#[utoipa::path(patch, path = "/v2/tools/{tool_id}", operation_id = "tools_update", tag = "tools",
    request_body(content = ToolUpdate, example = json!({"description": "Weather now, by city"})),
    params(("tool_id" = String, Path, description = "Tool id or key")),
    responses((status = 200, description = "The tool", body = ToolDto),
              (status = 404, description = "Unknown tool (orq's flat error body)", body = FlatErrorBody),
              (status = 409, description = "Key taken (orq's flat error body)", body = FlatErrorBody),
              (status = 503, description = "The database is unavailable (orq's flat error body)", body = FlatErrorBody)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(tool_id): Path<String>,
    ApiJson(ToolUpdate { mut fields }): ApiJson<ToolUpdate>,
) -> Result<Json<ToolDto>, ApiError> {
    fields.retain(|field, _| {
        !matches!(
            field.as_str(),
            "_id" | "project_id" | "workspace_id" | "created" | "updated"
        )
    });
    let tool = state
        .engine
        .tools()
        .update(&caller.project, &tool_id, fields)
        .await
        .map_err(|e| match e {
            // orq's SDK reads this endpoint's other errors as `{error: string}`.
            EngineError::Invalid { .. } => ApiError::from(e),
            other => ApiError::from(other).with_shape(ErrorShape::FlatError),
        })?;
    Ok(Json(ToolDto::from(&tool)))
}

/// Delete a tool.
#[utoipa::path(delete, path = "/v2/tools/{tool_id}", operation_id = "tools_delete", tag = "tools",
    params(("tool_id" = String, Path, description = "Tool id or key")),
    responses((status = 200, description = "Deleted", body = Deleted)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(tool_id): Path<String>,
) -> Result<Json<Deleted>, ApiError> {
    let tool = state
        .engine
        .tools()
        .delete(&caller.project, &tool_id)
        .await?;
    Ok(Json(Deleted {
        id: tool.id,
        deleted: true,
    }))
}
