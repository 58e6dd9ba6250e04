//! `/v2/knowledge/{kb}/datasources/{ds}/chunks`: a datasource's chunks.

use super::find_kb;
use super::{ChunkCreate, ChunkDto, ChunkUpdate, ChunksDelete, ChunksDeleted};
use crate::auth::Caller;
use crate::collections::page_of;
use crate::error::ApiError;
use crate::extract::{from_any_value, page_request_or, ApiJson};
use crate::extract::{Path, Query};
use crate::state::AppState;
use crate::wire::{ListPage, PageParams};
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use baton_engine::collections::{ChunkPatch, NewChunk};
use std::collections::HashMap;

/// Add chunks (a JSON array) to a datasource; chunks without an embedding are embedded with the
/// knowledge base's model.
#[utoipa::path(post, path = "/v2/knowledge/{kb}/datasources/{ds}/chunks", operation_id = "chunks_create", tag = "knowledge",
    request_body(content = Vec<ChunkCreate>, example = json!([{"text": "Refunds take 14 days.",
        "metadata": {"page": 2}}])),
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id")),
    responses((status = 200, description = "The chunks, in request order", body = Vec<ChunkDto>),
              (status = 502, description = "The embedding model failed", body = crate::error::ErrorBody)))]
pub(crate) async fn create_chunks(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, ds)): Path<(String, String)>,
    crate::extract::JsonBody(value): crate::extract::JsonBody,
) -> Result<Json<Vec<ChunkDto>>, ApiError> {
    if !value.is_array() {
        return Err(ApiError::invalid(
            "",
            "the body must be a JSON array of chunks",
        ));
    }
    let inputs: Vec<ChunkCreate> = from_any_value(value)?;
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
    Ok(Json(chunks.iter().map(ChunkDto::from).collect()))
}

/// List a datasource's chunks.
#[utoipa::path(get, path = "/v2/knowledge/{kb}/datasources/{ds}/chunks", operation_id = "chunks_list", tag = "knowledge",
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id"), PageParams),
    responses((status = 200, description = "A page of chunks", body = ListPage<ChunkDto>)))]
pub(crate) async fn list_chunks(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, ds)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<ListPage<ChunkDto>>, ApiError> {
    let kb = find_kb(&state, &caller, &id).await?;
    let page = state
        .engine
        .knowledge()
        .chunks(&kb, &ds, &page_request_or(&query, 50)?)
        .await?;
    page_of(&page, |c| Ok(ChunkDto::from(c)))
}

/// Delete chunks by id.
#[utoipa::path(delete, path = "/v2/knowledge/{kb}/datasources/{ds}/chunks", operation_id = "chunks_delete_many", tag = "knowledge",
    request_body(content = ChunksDelete, example = json!({"chunk_ids": ["01J0000000000000000000000"]})),
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id")),
    responses((status = 200, description = "How many were deleted", body = ChunksDeleted)))]
pub(crate) async fn delete_chunks(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, ds)): Path<(String, String)>,
    ApiJson(body): ApiJson<ChunksDelete>,
) -> Result<Json<ChunksDeleted>, ApiError> {
    let kb = find_kb(&state, &caller, &id).await?;
    let deleted = state
        .engine
        .knowledge()
        .delete_chunks(&kb, &ds, &body.chunk_ids)
        .await?;
    Ok(Json(ChunksDeleted { deleted }))
}

/// Retrieve a chunk.
#[utoipa::path(get, path = "/v2/knowledge/{kb}/datasources/{ds}/chunks/{chunk}", operation_id = "chunks_retrieve", tag = "knowledge",
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id"),
           ("chunk" = String, Path, description = "Chunk id")),
    responses((status = 200, description = "The chunk", body = ChunkDto)))]
pub(crate) async fn retrieve_chunk(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, ds, chunk)): Path<(String, String, String)>,
) -> Result<Json<ChunkDto>, ApiError> {
    let kb = find_kb(&state, &caller, &id).await?;
    let c = state.engine.knowledge().chunk(&kb, &ds, &chunk).await?;
    Ok(Json(ChunkDto::from(&c)))
}

/// Update a chunk (a new text without an embedding is embedded again); `enabled: false` hides
/// it from search.
#[utoipa::path(patch, path = "/v2/knowledge/{kb}/datasources/{ds}/chunks/{chunk}", operation_id = "chunks_update", tag = "knowledge",
    request_body(content = ChunkUpdate, example = json!({"enabled": false})),
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id"),
           ("chunk" = String, Path, description = "Chunk id")),
    responses((status = 200, description = "The chunk", body = ChunkDto)))]
pub(crate) async fn update_chunk(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, ds, chunk)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<ChunkUpdate>,
) -> Result<Json<ChunkDto>, ApiError> {
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
    Ok(Json(ChunkDto::from(&c)))
}

/// Delete a chunk.
#[utoipa::path(delete, path = "/v2/knowledge/{kb}/datasources/{ds}/chunks/{chunk}", operation_id = "chunks_delete", tag = "knowledge",
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id"),
           ("chunk" = String, Path, description = "Chunk id")),
    responses((status = 204, description = "Deleted")))]
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
