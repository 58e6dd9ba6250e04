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
    CollectionKind, CollectionRecord, EntryFilter, EntryKind, EntryRecord,
};
use baton_core::id::{new_id, now_rfc3339};
use baton_core::store::PageRequest;
use baton_core::validate;
use baton_engine::collections::{memory_of, write_document};
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

fn memory_json(m: &EntryRecord, documents: usize) -> Value {
    json!({"_id": m.id, "entity_id": m.entity_id, "store_id": m.collection_id,
           "workspace_id": m.project_id, "documents_count": documents, "metadata": m.metadata,
           "created": m.created, "updated": m.updated})
}

fn document_json(d: &EntryRecord) -> Value {
    json!({"_id": d.id, "memory_id": d.parent_id, "store_id": d.collection_id, "text": d.text,
           "workspace_id": d.project_id, "metadata": d.metadata, "created": d.created,
           "updated": d.updated})
}

fn string_map(
    field: &str,
    value: Option<Map<String, Value>>,
) -> Result<Map<String, Value>, ApiError> {
    let map = value.unwrap_or_default();
    for (k, v) in &map {
        if !v.is_string() {
            return Err(ApiError::invalid(
                format!("{field}.{k}"),
                "metadata values must be strings",
            ));
        }
    }
    Ok(map)
}

async fn find_store(
    state: &AppState,
    caller: &Caller,
    key: &str,
) -> Result<CollectionRecord, ApiError> {
    state
        .store
        .collection(&caller.project, CollectionKind::MemoryStore, key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("memory store `{key}` not found")))
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
    validate::tool_key("key", &body.key)?;
    if baton_core::agent::ModelConfig::named(&body.embedding_config.model)
        .provider_and_model()
        .is_none()
    {
        return Err(ApiError::invalid(
            "embedding_config.model",
            "must be named `provider/model`",
        ));
    }
    if body.ttl.is_some_and(|t| t <= 0.0) {
        return Err(ApiError::invalid("ttl", "must be positive"));
    }
    let _ = body.project_id;
    let mut spec = Map::new();
    spec.insert("description".into(), json!(body.description));
    spec.insert(
        "embedding_config".into(),
        json!({"model": body.embedding_config.model}),
    );
    if let Some(path) = body.path {
        spec.insert("path".into(), json!(path));
    }
    if let Some(ttl) = body.ttl {
        spec.insert("ttl".into(), json!(ttl));
    }
    let now = now_rfc3339();
    let record = CollectionRecord {
        id: new_id(),
        project_id: caller.project,
        kind: CollectionKind::MemoryStore,
        key: body.key,
        spec,
        created: now.clone(),
        updated: now,
    };
    state.store.create_collection(&record).await?;
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
    let page = state
        .store
        .list_collections(
            &caller.project,
            CollectionKind::MemoryStore,
            &page_request_or(&query, 10)?,
        )
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
    Ok(Json(store_json(&find_store(&state, &caller, &key).await?)))
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
    let mut record = find_store(&state, &caller, &key).await?;
    let _ = body.project_id;
    if let Some(d) = body.description {
        record.spec.insert("description".into(), json!(d));
    }
    if let Some(t) = body.ttl {
        if t <= 0.0 {
            return Err(ApiError::invalid("ttl", "must be positive"));
        }
        record.spec.insert("ttl".into(), json!(t));
    }
    if let Some(p) = body.path {
        record.spec.insert("path".into(), json!(p));
    }
    record.updated = now_rfc3339();
    state.store.update_collection(&record).await?;
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
    let record = find_store(&state, &caller, &key).await?;
    state
        .store
        .delete_collection(&caller.project, &record.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn count_documents(
    state: &AppState,
    store: &CollectionRecord,
    memory: &EntryRecord,
) -> Result<usize, ApiError> {
    Ok(state
        .store
        .list_entries(
            &store.project_id,
            &store.id,
            &EntryFilter::of(EntryKind::Document).under(&memory.id),
            &PageRequest::default(),
        )
        .await?
        .items
        .len())
}

async fn find_memory(
    state: &AppState,
    store: &CollectionRecord,
    entity: &str,
) -> Result<EntryRecord, ApiError> {
    memory_of(&state.engine, store, entity, false)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "memory store `{}` has no memory for entity `{entity}`",
                store.key
            ))
        })
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
    validate::non_empty("entity_id", &body.entity_id)?;
    let metadata = string_map("metadata", body.metadata)?;
    let store = find_store(&state, &caller, &key).await?;
    if memory_of(&state.engine, &store, &body.entity_id, false)
        .await?
        .is_some()
    {
        return Err(ApiError::conflict(format!(
            "entity `{}` already has a memory in `{}`",
            body.entity_id, store.key
        )));
    }
    let mut memory = memory_of(&state.engine, &store, &body.entity_id, true)
        .await?
        .ok_or_else(|| ApiError::not_found("memory"))?;
    if !metadata.is_empty() {
        memory.metadata = metadata;
        state.store.update_entry(&memory).await?;
    }
    Ok((StatusCode::CREATED, Json(memory_json(&memory, 0))))
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
        .store
        .list_entries(
            &store.project_id,
            &store.id,
            &EntryFilter::of(EntryKind::Memory),
            &page_request_or(&query, 10)?,
        )
        .await?;
    let needle = query.get("q").map(|q| q.to_lowercase());
    let mut data = Vec::new();
    for memory in page.items.iter().filter(|m| {
        needle.as_deref().is_none_or(|q| {
            m.entity_id
                .as_deref()
                .is_some_and(|e| e.to_lowercase().contains(q))
        })
    }) {
        data.push(memory_json(
            memory,
            count_documents(&state, &store, memory).await?,
        ));
    }
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
    let memory = find_memory(&state, &store, &entity).await?;
    let count = count_documents(&state, &store, &memory).await?;
    Ok(Json(memory_json(&memory, count)))
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
    let mut memory = find_memory(&state, &store, &entity).await?;
    if body.metadata.is_some() {
        memory.metadata = string_map("metadata", body.metadata)?;
    }
    memory.updated = now_rfc3339();
    state.store.update_entry(&memory).await?;
    let count = count_documents(&state, &store, &memory).await?;
    Ok(Json(memory_json(&memory, count)))
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
    let memory = find_memory(&state, &store, &entity).await?;
    state
        .store
        .delete_entries(
            &store.project_id,
            &store.id,
            std::slice::from_ref(&memory.id),
        )
        .await?;
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
    validate::non_empty("text", &body.text)?;
    let metadata = string_map("metadata", body.metadata)?;
    let store = find_store(&state, &caller, &key).await?;
    let text = body.text.trim().to_owned();
    let doc = write_document(&state.engine, &store, &entity, text, metadata).await?;
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
    let memory = find_memory(&state, &store, &entity).await?;
    let page = state
        .store
        .list_entries(
            &store.project_id,
            &store.id,
            &EntryFilter::of(EntryKind::Document).under(&memory.id),
            &page_request_or(&query, 10)?,
        )
        .await?;
    let after = query.get("updated_after");
    let before = query.get("updated_before");
    let data = page
        .items
        .iter()
        .filter(|d| after.is_none_or(|a| d.updated.as_str() > a.as_str()))
        .filter(|d| before.is_none_or(|b| d.updated.as_str() < b.as_str()))
        .map(document_json)
        .collect();
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
    let doc = state
        .store
        .entry(&caller.project, &store.id, id)
        .await?
        .filter(|d| d.kind == EntryKind::Document && d.entity_id.as_deref() == Some(entity))
        .ok_or_else(|| {
            ApiError::not_found(format!("document `{id}` not found for entity `{entity}`"))
        })?;
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
    let (store, mut doc) = find_document(&state, &caller, &key, &entity, &id).await?;
    if let Some(text) = body.text.map(|t| t.trim().to_owned()) {
        validate::non_empty("text", &text)?;
        doc.embedding = state
            .engine
            .embed_for(&store, std::slice::from_ref(&text))
            .await?
            .and_then(|mut v| v.pop());
        doc.text = text;
    }
    if body.metadata.is_some() {
        doc.metadata = string_map("metadata", body.metadata)?;
    }
    doc.updated = now_rfc3339();
    state.store.update_entry(&doc).await?;
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
    let (store, doc) = find_document(&state, &caller, &key, &entity, &id).await?;
    state
        .store
        .delete_entries(&store.project_id, &store.id, std::slice::from_ref(&doc.id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
