//! `/v2/knowledge/{kb}/datasources/{ds}/chunks`: a datasource's chunks.

use super::find_kb;
use crate::auth::Caller;
use crate::collections::page_json;
use crate::error::ApiError;
use crate::extract::{from_any_value, page_request_or, ApiJson};
use crate::extract::{Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use baton_core::collection::EntryRecord;
use baton_engine::collections::{ChunkPatch, NewChunk};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

fn chunk_json(c: &EntryRecord) -> Value {
    json!({"_id": c.id, "text": c.text, "enabled": c.enabled, "status": "completed",
           "metadata": c.metadata, "datasource_id": c.parent_id,
           "created": c.created, "updated": c.updated})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChunkInput {
    text: String,
    #[serde(default)]
    embedding: Option<Vec<f32>>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    #[serde(default, rename = "_id")]
    #[allow(dead_code)] // accepted for orq compatibility, not used
    id: Option<String>,
}

/// Add chunks (a JSON array) to a datasource; chunks without an embedding are embedded with the
/// knowledge base's model.
#[utoipa::path(post, path = "/v2/knowledge/{kb}/datasources/{ds}/chunks", operation_id = "chunks_create", tag = "knowledge", request_body = Object,
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id")),
    responses((status = 200, description = "The chunks"), (status = 400, description = "Invalid field")))]
pub(crate) async fn create_chunks(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, ds)): Path<(String, String)>,
    crate::extract::JsonBody(value): crate::extract::JsonBody,
) -> Result<Json<Value>, ApiError> {
    if !value.is_array() {
        return Err(ApiError::invalid(
            "",
            "the body must be a JSON array of chunks",
        ));
    }
    let inputs: Vec<ChunkInput> = from_any_value(value)?;
    let kb = find_kb(&state, &caller, &id).await?;
    let items = inputs
        .into_iter()
        // A client's `_id` is accepted and ignored: ids are minted by the service.
        .map(|c| NewChunk {
            text: c.text,
            metadata: c.metadata.unwrap_or_default(),
            embedding: c.embedding,
        })
        .collect();
    let chunks = state.engine.knowledge().add_chunks(&kb, &ds, items).await?;
    Ok(Json(Value::Array(chunks.iter().map(chunk_json).collect())))
}

/// List a datasource's chunks.
#[utoipa::path(get, path = "/v2/knowledge/{kb}/datasources/{ds}/chunks", operation_id = "chunks_list", tag = "knowledge",
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id")),
    responses((status = 200, description = "`{object, data, has_more}`")))]
pub(crate) async fn list_chunks(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, ds)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let kb = find_kb(&state, &caller, &id).await?;
    let page = state
        .engine
        .knowledge()
        .chunks(&kb, &ds, &page_request_or(&query, 50)?)
        .await?;
    Ok(page_json(&page, chunk_json))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeleteChunks {
    chunk_ids: Vec<String>,
}

/// Delete chunks by id.
#[utoipa::path(delete, path = "/v2/knowledge/{kb}/datasources/{ds}/chunks", operation_id = "chunks_delete_many", tag = "knowledge", request_body = Object,
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id")),
    responses((status = 200, description = "`{deleted}`")))]
pub(crate) async fn delete_chunks(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, ds)): Path<(String, String)>,
    ApiJson(body): ApiJson<DeleteChunks>,
) -> Result<Json<Value>, ApiError> {
    let kb = find_kb(&state, &caller, &id).await?;
    let deleted = state
        .engine
        .knowledge()
        .delete_chunks(&kb, &ds, &body.chunk_ids)
        .await?;
    Ok(Json(json!({"deleted": deleted})))
}

/// Retrieve a chunk.
#[utoipa::path(get, path = "/v2/knowledge/{kb}/datasources/{ds}/chunks/{chunk}", operation_id = "chunks_retrieve", tag = "knowledge",
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id"),
           ("chunk" = String, Path, description = "Chunk id")),
    responses((status = 200, description = "The chunk"), (status = 404, description = "Unknown")))]
pub(crate) async fn retrieve_chunk(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, ds, chunk)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let kb = find_kb(&state, &caller, &id).await?;
    let c = state.engine.knowledge().chunk(&kb, &ds, &chunk).await?;
    Ok(Json(chunk_json(&c)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateChunk {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    embedding: Option<Vec<f32>>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    #[serde(default)]
    enabled: Option<bool>,
}

/// Update a chunk (a new text without an embedding is embedded again); `enabled: false` hides
/// it from search.
#[utoipa::path(patch, path = "/v2/knowledge/{kb}/datasources/{ds}/chunks/{chunk}", operation_id = "chunks_update", tag = "knowledge", request_body = Object,
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id"),
           ("chunk" = String, Path, description = "Chunk id")),
    responses((status = 200, description = "The chunk"), (status = 404, description = "Unknown")))]
pub(crate) async fn update_chunk(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, ds, chunk)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<UpdateChunk>,
) -> Result<Json<Value>, ApiError> {
    let kb = find_kb(&state, &caller, &id).await?;
    let patch = ChunkPatch {
        text: body.text,
        embedding: body.embedding,
        metadata: body.metadata,
        enabled: body.enabled,
    };
    let c = state
        .engine
        .knowledge()
        .update_chunk(&kb, &ds, &chunk, patch)
        .await?;
    Ok(Json(chunk_json(&c)))
}

/// Delete a chunk.
#[utoipa::path(delete, path = "/v2/knowledge/{kb}/datasources/{ds}/chunks/{chunk}", operation_id = "chunks_delete", tag = "knowledge",
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id"),
           ("chunk" = String, Path, description = "Chunk id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Unknown")))]
pub(crate) async fn delete_chunk(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, ds, chunk)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let kb = find_kb(&state, &caller, &id).await?;
    state
        .engine
        .knowledge()
        .delete_chunk(&kb, &ds, &chunk)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
