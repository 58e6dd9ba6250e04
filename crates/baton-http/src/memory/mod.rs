//! `/v2/memory-stores`: stores, one memory per entity, and each memory's documents.

use crate::auth::Caller;
use crate::collections::{self, page_json, CollectionWire};
use crate::error::ApiError;
use crate::extract::{page_request_or, ApiJson};
use crate::extract::{Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use baton_core::collection::{CollectionKind, CollectionRecord, MemoryStorePatch, MemoryStoreSpec};
use baton_engine::collections::CountedMemory;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) mod documents;

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
    fn to_json(c: &CollectionRecord) -> Value {
        store_json(c)
    }
}

fn store_json(c: &CollectionRecord) -> Value {
    let mut body = c.spec.clone();
    body.insert("_id".into(), json!(c.id));
    body.insert("key".into(), json!(c.key));
    body.insert("created".into(), json!(c.created));
    body.insert("updated".into(), json!(c.updated));
    body.entry("description").or_insert(json!(""));
    Value::Object(body)
}

fn memory_json(counted: &CountedMemory) -> Value {
    let (m, documents) = (&counted.memory, counted.documents);
    json!({"_id": m.id, "entity_id": m.entity_id, "store_id": m.collection_id,
           "workspace_id": m.project_id, "documents_count": documents, "metadata": m.metadata,
           "created": m.created, "updated": m.updated})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmbeddingConfig {
    model: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateStore {
    key: String,
    embedding_config: EmbeddingConfig,
    description: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    ttl: Option<f64>,
    #[serde(default)]
    project_id: Option<String>,
}

/// Create a memory store.
#[utoipa::path(post, path = "/v2/memory-stores", operation_id = "memory_stores_create", tag = "memory", request_body = Object,
    responses((status = 201, description = "The memory store"), (status = 400, description = "Invalid field"),
              (status = 409, description = "Key taken")))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<CreateStore>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let _ = body.project_id;
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
    Ok((StatusCode::CREATED, Json(store_json(&record))))
}

/// List memory stores, newest first.
#[utoipa::path(get, path = "/v2/memory-stores", operation_id = "memory_stores_list", tag = "memory",
    responses((status = 200, description = "`{object, data, has_more}`")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    collections::list::<MemoryStores>(&state, &caller, &query).await
}

/// Retrieve a memory store by key or id.
#[utoipa::path(get, path = "/v2/memory-stores/{store}", operation_id = "memory_stores_retrieve", tag = "memory",
    params(("store" = String, Path, description = "Key or id")),
    responses((status = 200, description = "The memory store"), (status = 404, description = "Unknown")))]
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    collections::retrieve::<MemoryStores>(&state, &caller, &key).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateStore {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    ttl: Option<f64>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    project_id: Option<String>,
}

/// Update a memory store's description, ttl or path.
#[utoipa::path(patch, path = "/v2/memory-stores/{store}", operation_id = "memory_stores_update", tag = "memory", request_body = Object,
    params(("store" = String, Path, description = "Key or id")),
    responses((status = 200, description = "The memory store"), (status = 404, description = "Unknown")))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<UpdateStore>,
) -> Result<Json<Value>, ApiError> {
    let _ = body.project_id;
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
    Ok(Json(store_json(&record)))
}

/// Delete a memory store and every memory in it.
#[utoipa::path(delete, path = "/v2/memory-stores/{store}", operation_id = "memory_stores_delete", tag = "memory",
    params(("store" = String, Path, description = "Key or id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Unknown")))]
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateMemory {
    entity_id: String,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
}

/// Create the memory of an entity.
#[utoipa::path(post, path = "/v2/memory-stores/{store}/memories", operation_id = "memories_create", tag = "memory", request_body = Object,
    params(("store" = String, Path, description = "Key or id")),
    responses((status = 201, description = "The memory"), (status = 409, description = "The entity has one")))]
pub(crate) async fn create_memory(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<CreateMemory>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let store = find_store(&state, &caller, &key).await?;
    let memory = state
        .engine
        .memory()
        .create(&store, &body.entity_id, body.metadata)
        .await?;
    Ok((StatusCode::CREATED, Json(memory_json(&memory))))
}

/// List the memories of a store.
#[utoipa::path(get, path = "/v2/memory-stores/{store}/memories", operation_id = "memories_list", tag = "memory",
    params(("store" = String, Path, description = "Key or id")),
    responses((status = 200, description = "`{object, data, has_more}`")))]
pub(crate) async fn list_memories(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
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
    Ok(page_json(&page, memory_json))
}

/// Retrieve an entity's memory.
#[utoipa::path(get, path = "/v2/memory-stores/{store}/memories/{entity}", operation_id = "memories_retrieve", tag = "memory",
    params(("store" = String, Path, description = "Key or id"), ("entity" = String, Path, description = "Entity id")),
    responses((status = 200, description = "The memory"), (status = 404, description = "Unknown")))]
pub(crate) async fn retrieve_memory(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((key, entity)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let store = find_store(&state, &caller, &key).await?;
    let memory = state.engine.memory().get_counted(&store, &entity).await?;
    Ok(Json(memory_json(&memory)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateMemory {
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
}

/// Replace an entity's memory metadata.
#[utoipa::path(patch, path = "/v2/memory-stores/{store}/memories/{entity}", operation_id = "memories_update", tag = "memory", request_body = Object,
    params(("store" = String, Path, description = "Key or id"), ("entity" = String, Path, description = "Entity id")),
    responses((status = 200, description = "The memory"), (status = 404, description = "Unknown")))]
pub(crate) async fn update_memory(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((key, entity)): Path<(String, String)>,
    ApiJson(body): ApiJson<UpdateMemory>,
) -> Result<Json<Value>, ApiError> {
    let store = find_store(&state, &caller, &key).await?;
    let memory = state
        .engine
        .memory()
        .update(&store, &entity, body.metadata)
        .await?;
    Ok(Json(memory_json(&memory)))
}

/// Delete an entity's memory and its documents.
#[utoipa::path(delete, path = "/v2/memory-stores/{store}/memories/{entity}", operation_id = "memories_delete", tag = "memory",
    params(("store" = String, Path, description = "Key or id"), ("entity" = String, Path, description = "Entity id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Unknown")))]
pub(crate) async fn delete_memory(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((key, entity)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let store = find_store(&state, &caller, &key).await?;
    state.engine.memory().delete(&store, &entity).await?;
    Ok(StatusCode::NO_CONTENT)
}
