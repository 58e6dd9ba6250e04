//! `/v2/tools`: create, list, retrieve (by id or key), update, delete. Secret header values are
//! sealed before they are stored and masked in every answer.

use crate::auth::Caller;
use crate::error::{ApiError, ErrorShape};
use crate::extract::{page_request, ApiJson};
use crate::extract::{Path, Query};
use crate::state::AppState;
use crate::wire::list_json;
use axum::extract::State;
use axum::{Extension, Json};
use baton_core::tool::{ToolRecord, ToolSpec};
use baton_engine::EngineError;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(retrieve, update, delete))
        .routes(routes!(invoke))
}

/// The tool as the wire shows it, secrets masked.
fn tool_json(tool: &ToolRecord) -> Value {
    let mut body = match serde_json::to_value(tool.spec.masked()) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    if tool.spec.kind.runs_on_server() {
        body.insert("idempotent".into(), json!(tool.spec.is_idempotent()));
    }
    body.insert("_id".into(), json!(tool.id));
    body.insert("project_id".into(), json!(tool.project_id));
    body.insert("workspace_id".into(), json!(tool.project_id));
    body.insert("created".into(), json!(tool.created));
    body.insert("updated".into(), json!(tool.updated));
    Value::Object(body)
}

/// Create a tool.
#[utoipa::path(post, path = "/v2/tools", operation_id = "tools_create", tag = "tools", request_body = Object,
    responses((status = 200, description = "The tool"), (status = 400, description = "Invalid field"),
              (status = 409, description = "Key taken")))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(spec): ApiJson<ToolSpec>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(store_new(&state, &caller, spec).await?))
}

/// Validates, seals and stores a new tool; returns it as the wire shows it.
pub(crate) async fn store_new(
    state: &AppState,
    caller: &Caller,
    spec: ToolSpec,
) -> Result<Value, ApiError> {
    let tool = state.engine.tools().create(&caller.project, spec).await?;
    Ok(tool_json(&tool))
}

#[derive(serde::Deserialize)]
pub(crate) struct InvokeBody {
    #[serde(default)]
    arguments: Option<Value>,
    #[serde(default)]
    tool: Option<String>,
    #[serde(default)]
    variables: Map<String, Value>,
}

/// Run a server-side tool once, as an agent would, to test it.
#[utoipa::path(post, path = "/v2/tools/{tool_id}/invoke", operation_id = "tools_invoke", tag = "tools", request_body = Object,
    params(("tool_id" = String, Path, description = "Tool id or key")),
    responses((status = 200, description = "`{_id, key, result}` or `{_id, key, error}` (the tool's own error)"),
              (status = 400, description = "Invalid arguments, or a client-side tool"),
              (status = 404, description = "Unknown tool")))]
pub(crate) async fn invoke(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(tool_id): Path<String>,
    ApiJson(body): ApiJson<InvokeBody>,
) -> Result<Json<Value>, ApiError> {
    let arguments = body.arguments.unwrap_or_else(|| json!({}));
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
    let mut answer = json!({"_id": tool.id, "key": tool.spec.key,
                            "duration_ms": started.elapsed().as_millis() as u64});
    match outcome {
        Ok(result) => answer["result"] = result,
        Err(error) => answer["error"] = Value::String(error),
    }
    Ok(Json(answer))
}

/// List tools, newest first, with cursor pagination.
#[utoipa::path(get, path = "/v2/tools", operation_id = "tools_list", tag = "tools",
    params(("limit" = Option<f64>, Query, description = "Page size"),
           ("starting_after" = Option<String>, Query, description = "Cursor: a tool `_id`"),
           ("ending_before" = Option<String>, Query, description = "Cursor: a tool `_id`")),
    responses((status = 200, description = "`{object, data, has_more}`")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let page = state
        .engine
        .tools()
        .list(&caller.project, &page_request(&query)?)
        .await?;
    let data: Vec<Value> = page.items.iter().map(tool_json).collect();
    Ok(list_json(data, page.has_more))
}

/// Retrieve a tool by id or key.
#[utoipa::path(get, path = "/v2/tools/{tool_id}", operation_id = "tools_retrieve", tag = "tools",
    params(("tool_id" = String, Path, description = "Tool id or key")),
    responses((status = 200, description = "The tool"), (status = 404, description = "Unknown tool")))]
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(tool_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let tool = state.engine.tools().get(&caller.project, &tool_id).await?;
    Ok(Json(tool_json(&tool)))
}

/// Update a tool: the fields given replace the stored ones.
#[utoipa::path(patch, path = "/v2/tools/{tool_id}", operation_id = "tools_update", tag = "tools", request_body = Object,
    params(("tool_id" = String, Path, description = "Tool id or key")),
    responses((status = 200, description = "The tool"), (status = 400, description = "Invalid field"),
              (status = 404, description = "Unknown tool (`{error: string}`)")))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(tool_id): Path<String>,
    ApiJson(mut fields): ApiJson<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(tool_json(&tool)))
}

/// Delete a tool.
#[utoipa::path(delete, path = "/v2/tools/{tool_id}", operation_id = "tools_delete", tag = "tools",
    params(("tool_id" = String, Path, description = "Tool id or key")),
    responses((status = 200, description = "Deleted"), (status = 404, description = "Unknown tool")))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(tool_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let tool = state
        .engine
        .tools()
        .delete(&caller.project, &tool_id)
        .await?;
    Ok(Json(json!({"_id": tool.id, "deleted": true})))
}
