//! `/v2/memory-stores`: stores, one memory per entity, and each memory's documents.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{page_request_or, ApiJson};
use crate::extract::{Path, Query};
use crate::state::AppState;
use crate::wire::list_json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Json, Router};
use baton_core::collection::{
    CollectionKind, CollectionRecord, EntryRecord, MemoryStorePatch, MemoryStoreSpec,
};
use baton_engine::collections::{Collections, CountedMemory, DocumentQuery};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/memory-stores", get(list).post(create))
        .route(
            "/v2/memory-stores/{store}",
            get(retrieve).patch(update).delete(delete),
        )
        .route(
            "/v2/memory-stores/{store}/memories",
            get(list_memories).post(create_memory),
        )
        .route(
            "/v2/memory-stores/{store}/memories/{entity}",
            get(retrieve_memory)
                .patch(update_memory)
                .delete(delete_memory),
        )
        .route(
            "/v2/memory-stores/{store}/memories/{entity}/documents",
            get(list_documents).post(create_document),
        )
        .route(
            "/v2/memory-stores/{store}/memories/{entity}/documents/{document}",
            get(retrieve_document)
                .patch(update_document)
                .delete(delete_document),
        )
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

fn document_json(d: &EntryRecord) -> Value {
    json!({"_id": d.id, "memory_id": d.parent_id, "store_id": d.collection_id, "text": d.text,
           "workspace_id": d.project_id, "metadata": d.metadata, "created": d.created,
           "updated": d.updated})
}

fn stores(state: &AppState) -> Collections<'_> {
    state.engine.collections(CollectionKind::MemoryStore)
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
#[utoipa::path(post, path = "/v2/memory-stores", request_body = Object,
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
#[utoipa::path(get, path = "/v2/memory-stores",
    responses((status = 200, description = "`{object, data, has_more}`")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let page = stores(&state)
        .list(&caller.project, &page_request_or(&query, 10)?)
        .await?;
    Ok(list_json(
        page.items.iter().map(store_json).collect(),
        page.has_more,
    ))
}

/// Retrieve a memory store by key or id.
#[utoipa::path(get, path = "/v2/memory-stores/{store}",
    params(("store" = String, Path, description = "Key or id")),
    responses((status = 200, description = "The memory store"), (status = 404, description = "Unknown")))]
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let record = stores(&state).get(&caller.project, &key).await?;
    Ok(Json(store_json(&record)))
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
#[utoipa::path(patch, path = "/v2/memory-stores/{store}", request_body = Object,
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
#[utoipa::path(delete, path = "/v2/memory-stores/{store}",
    params(("store" = String, Path, description = "Key or id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Unknown")))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    stores(&state).delete(&caller.project, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn find_store(
    state: &AppState,
    caller: &Caller,
    key: &str,
) -> Result<CollectionRecord, ApiError> {
    Ok(stores(state).get(&caller.project, key).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateMemory {
    entity_id: String,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
}

/// Create the memory of an entity.
#[utoipa::path(post, path = "/v2/memory-stores/{store}/memories", request_body = Object,
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
    let memory = CountedMemory {
        memory,
        documents: 0,
    };
    Ok((StatusCode::CREATED, Json(memory_json(&memory))))
}

/// List the memories of a store.
#[utoipa::path(get, path = "/v2/memory-stores/{store}/memories",
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
    let data = page.items.iter().map(memory_json).collect();
    Ok(list_json(data, page.has_more))
}

/// Retrieve an entity's memory.
#[utoipa::path(get, path = "/v2/memory-stores/{store}/memories/{entity}",
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
#[utoipa::path(patch, path = "/v2/memory-stores/{store}/memories/{entity}", request_body = Object,
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
#[utoipa::path(delete, path = "/v2/memory-stores/{store}/memories/{entity}",
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateDocument {
    text: String,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
}

/// Add a document to an entity's memory (the memory is created if needed).
#[utoipa::path(post, path = "/v2/memory-stores/{store}/memories/{entity}/documents", request_body = Object,
    params(("store" = String, Path, description = "Key or id"), ("entity" = String, Path, description = "Entity id")),
    responses((status = 201, description = "The document"), (status = 400, description = "Invalid field"),
              (status = 502, description = "The embedding model failed")))]
pub(crate) async fn create_document(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((key, entity)): Path<(String, String)>,
    ApiJson(body): ApiJson<CreateDocument>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let store = find_store(&state, &caller, &key).await?;
    let doc = state
        .engine
        .memory()
        .add_document(&store, &entity, &body.text, body.metadata)
        .await?;
    Ok((StatusCode::CREATED, Json(document_json(&doc))))
}

/// List the documents of an entity's memory.
#[utoipa::path(get, path = "/v2/memory-stores/{store}/memories/{entity}/documents",
    params(("store" = String, Path, description = "Key or id"), ("entity" = String, Path, description = "Entity id")),
    responses((status = 200, description = "`{object, data, has_more}`")))]
pub(crate) async fn list_documents(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((key, entity)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let store = find_store(&state, &caller, &key).await?;
    let bounds = DocumentQuery {
        updated_after: query.get("updated_after").cloned(),
        updated_before: query.get("updated_before").cloned(),
    };
    let page = state
        .engine
        .memory()
        .list_documents(&store, &entity, &bounds, &page_request_or(&query, 10)?)
        .await?;
    let data = page.items.iter().map(document_json).collect();
    Ok(list_json(data, page.has_more))
}

async fn find_document(
    state: &AppState,
    caller: &Caller,
    key: &str,
    entity: &str,
    id: &str,
) -> Result<(CollectionRecord, EntryRecord), ApiError> {
    let store = find_store(state, caller, key).await?;
    let doc = state.engine.memory().document(&store, entity, id).await?;
    Ok((store, doc))
}

/// Retrieve a document.
#[utoipa::path(get, path = "/v2/memory-stores/{store}/memories/{entity}/documents/{document}",
    params(("store" = String, Path, description = "Key or id"), ("entity" = String, Path, description = "Entity id"),
           ("document" = String, Path, description = "Document id")),
    responses((status = 200, description = "The document"), (status = 404, description = "Unknown")))]
pub(crate) async fn retrieve_document(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((key, entity, id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (_, doc) = find_document(&state, &caller, &key, &entity, &id).await?;
    Ok(Json(document_json(&doc)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateDocument {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
}

/// Update a document's text or metadata (a new text is embedded again).
#[utoipa::path(patch, path = "/v2/memory-stores/{store}/memories/{entity}/documents/{document}", request_body = Object,
    params(("store" = String, Path, description = "Key or id"), ("entity" = String, Path, description = "Entity id"),
           ("document" = String, Path, description = "Document id")),
    responses((status = 200, description = "The document"), (status = 404, description = "Unknown")))]
pub(crate) async fn update_document(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((key, entity, id)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<UpdateDocument>,
) -> Result<Json<Value>, ApiError> {
    let store = find_store(&state, &caller, &key).await?;
    let doc = state
        .engine
        .memory()
        .update_document(&store, &entity, &id, body.text.as_deref(), body.metadata)
        .await?;
    Ok(Json(document_json(&doc)))
}

/// Delete a document.
#[utoipa::path(delete, path = "/v2/memory-stores/{store}/memories/{entity}/documents/{document}",
    params(("store" = String, Path, description = "Key or id"), ("entity" = String, Path, description = "Entity id"),
           ("document" = String, Path, description = "Document id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Unknown")))]
pub(crate) async fn delete_document(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((key, entity, id)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let store = find_store(&state, &caller, &key).await?;
    state
        .engine
        .memory()
        .delete_document(&store, &entity, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
