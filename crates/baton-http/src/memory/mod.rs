//! `/v2/memory-stores`: stores, one memory per entity, and each memory's documents.

use crate::auth::Caller;
use crate::collections::{self, page_of, CollectionWire};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{page_request_or, ApiJson};
use crate::extract::{Path, Query};
use crate::state::AppState;
use crate::wire::{ListPage, PageParams};
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use baton_core::collection::{CollectionKind, CollectionRecord, MemoryStorePatch, MemoryStoreSpec};
use std::collections::HashMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) mod documents;
mod dto;

pub(crate) use dto::*;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(retrieve, update, delete))
        .routes(routes!(list_memories, create_memory))
        .routes(routes!(retrieve_memory, update_memory, delete_memory))
        .routes(routes!(
            documents::list_documents,
            documents::create_document
        ))
        .routes(routes!(
            documents::retrieve_document,
            documents::update_document,
            documents::delete_document
        ))
}

/// Memory stores on the wire.
struct MemoryStores;

impl CollectionWire for MemoryStores {
    const KIND: CollectionKind = CollectionKind::MemoryStore;
    const PAGE_SIZE: u64 = 10;
    type Dto = MemoryStoreDto;
    fn to_dto(c: &CollectionRecord) -> Result<MemoryStoreDto, ApiError> {
        store_dto(c)
    }
}

fn store_dto(c: &CollectionRecord) -> Result<MemoryStoreDto, ApiError> {
    let settings: MemoryStoreSettings = collections::stored_settings(c)?;
    Ok(MemoryStoreDto {
        id: c.id.clone(),
        key: c.key.clone(),
        description: settings.description.unwrap_or_default(),
        embedding_config: settings.embedding_config,
        path: settings.path,
        ttl: settings.ttl,
        created: c.created.clone(),
        updated: c.updated.clone(),
    })
}

/// Create a memory store.
#[utoipa::path(post, path = "/v2/memory-stores", operation_id = "memory_stores_create", tag = "memory",
    request_body(content = MemoryStoreCreate, example = json!({"key": "customers",
        "description": "What customers told us", "embedding_config": {"model": "openai/text-embedding-3-small"}})),
    responses((status = 201, description = "The memory store", body = MemoryStoreDto),
              (status = 409, description = "Key taken", body = ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<MemoryStoreCreate>,
) -> Result<(StatusCode, Json<MemoryStoreDto>), ApiError> {
    let spec = MemoryStoreSpec {
        description: body.description,
        embedding_model: body.embedding_config.model,
        path: body.path,
        ttl: body.ttl,
    };
    let record = state
        .engine
        .memory()
        .create_store(&caller.project, body.key, spec)
        .await?;
    Ok((StatusCode::CREATED, Json(store_dto(&record)?)))
}

/// List memory stores, newest first.
#[utoipa::path(get, path = "/v2/memory-stores", operation_id = "memory_stores_list", tag = "memory",
    params(PageParams),
    responses((status = 200, description = "A page of memory stores", body = ListPage<MemoryStoreDto>)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<ListPage<MemoryStoreDto>>, ApiError> {
    collections::list::<MemoryStores>(&state, &caller, &query).await
}

/// Retrieve a memory store by key or id.
#[utoipa::path(get, path = "/v2/memory-stores/{store}", operation_id = "memory_stores_retrieve", tag = "memory",
    params(("store" = String, Path, description = "Key or id")),
    responses((status = 200, description = "The memory store", body = MemoryStoreDto)))]
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
) -> Result<Json<MemoryStoreDto>, ApiError> {
    collections::retrieve::<MemoryStores>(&state, &caller, &key).await
}

/// Update a memory store's description, ttl or path.
#[utoipa::path(patch, path = "/v2/memory-stores/{store}", operation_id = "memory_stores_update", tag = "memory",
    request_body(content = MemoryStoreUpdate, example = json!({"description": "Customer facts", "ttl": 86400})),
    params(("store" = String, Path, description = "Key or id")),
    responses((status = 200, description = "The memory store", body = MemoryStoreDto)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<MemoryStoreUpdate>,
) -> Result<Json<MemoryStoreDto>, ApiError> {
    let patch = MemoryStorePatch {
        description: body.description,
        ttl: body.ttl,
        path: body.path,
    };
    let record = state
        .engine
        .memory()
        .update_store(&caller.project, &key, patch)
        .await?;
    Ok(Json(store_dto(&record)?))
}

/// Delete a memory store and every memory in it.
#[utoipa::path(delete, path = "/v2/memory-stores/{store}", operation_id = "memory_stores_delete", tag = "memory",
    params(("store" = String, Path, description = "Key or id")),
    responses((status = 204, description = "Deleted")))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    collections::delete::<MemoryStores>(&state, &caller, &key).await
}

async fn find_store(
    state: &AppState,
    caller: &Caller,
    key: &str,
) -> Result<CollectionRecord, ApiError> {
    collections::find::<MemoryStores>(state, caller, key).await
}

/// Create the memory of an entity.
#[utoipa::path(post, path = "/v2/memory-stores/{store}/memories", operation_id = "memories_create", tag = "memory",
    request_body(content = MemoryCreate, example = json!({"entity_id": "user-42", "metadata": {"plan": "pro"}})),
    params(("store" = String, Path, description = "Key or id")),
    responses((status = 201, description = "The memory", body = MemoryDto),
              (status = 409, description = "The entity has one", body = ErrorBody)))]
pub(crate) async fn create_memory(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<MemoryCreate>,
) -> Result<(StatusCode, Json<MemoryDto>), ApiError> {
    let store = find_store(&state, &caller, &key).await?;
    let memory = state
        .engine
        .memory()
        .create(&store, &body.entity_id, body.metadata)
        .await?;
    Ok((StatusCode::CREATED, Json(MemoryDto::from(&memory))))
}

/// List the memories of a store.
#[utoipa::path(get, path = "/v2/memory-stores/{store}/memories", operation_id = "memories_list", tag = "memory",
    params(("store" = String, Path, description = "Key or id"),
           ("q" = Option<String>, Query, description = "Only entities whose id contains this"), PageParams),
    responses((status = 200, description = "A page of memories", body = ListPage<MemoryDto>)))]
pub(crate) async fn list_memories(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<ListPage<MemoryDto>>, ApiError> {
    let store = find_store(&state, &caller, &key).await?;
    let page = state
        .engine
        .memory()
        .list(
            &store,
            query.get("q").map(String::as_str),
            &page_request_or(&query, 10)?,
        )
        .await?;
    page_of(&page, ok)
}

/// Retrieve an entity's memory.
#[utoipa::path(get, path = "/v2/memory-stores/{store}/memories/{entity}", operation_id = "memories_retrieve", tag = "memory",
    params(("store" = String, Path, description = "Key or id"), ("entity" = String, Path, description = "Entity id")),
    responses((status = 200, description = "The memory", body = MemoryDto)))]
pub(crate) async fn retrieve_memory(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((key, entity)): Path<(String, String)>,
) -> Result<Json<MemoryDto>, ApiError> {
    let store = find_store(&state, &caller, &key).await?;
    let memory = state.engine.memory().get_counted(&store, &entity).await?;
    Ok(Json(MemoryDto::from(&memory)))
}

/// Replace an entity's memory metadata.
#[utoipa::path(patch, path = "/v2/memory-stores/{store}/memories/{entity}", operation_id = "memories_update", tag = "memory",
    request_body(content = MemoryUpdate, example = json!({"metadata": {"plan": "team"}})),
    params(("store" = String, Path, description = "Key or id"), ("entity" = String, Path, description = "Entity id")),
    responses((status = 200, description = "The memory", body = MemoryDto)))]
pub(crate) async fn update_memory(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((key, entity)): Path<(String, String)>,
    ApiJson(body): ApiJson<MemoryUpdate>,
) -> Result<Json<MemoryDto>, ApiError> {
    let store = find_store(&state, &caller, &key).await?;
    let memory = state
        .engine
        .memory()
        .update(&store, &entity, body.metadata)
        .await?;
    Ok(Json(MemoryDto::from(&memory)))
}

/// Delete an entity's memory and its documents.
#[utoipa::path(delete, path = "/v2/memory-stores/{store}/memories/{entity}", operation_id = "memories_delete", tag = "memory",
    params(("store" = String, Path, description = "Key or id"), ("entity" = String, Path, description = "Entity id")),
    responses((status = 204, description = "Deleted")))]
pub(crate) async fn delete_memory(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((key, entity)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let store = find_store(&state, &caller, &key).await?;
    state.engine.memory().delete(&store, &entity).await?;
    Ok(StatusCode::NO_CONTENT)
}
