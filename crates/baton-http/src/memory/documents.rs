//! `/v2/memory-stores/{store}/memories/{entity}/documents`: the documents of an entity's memory.

use super::find_store;
use super::{ok, MemoryDocumentCreate, MemoryDocumentDto, MemoryDocumentUpdate};
use crate::auth::Caller;
use crate::collections::page_of;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{page_request_or, ApiJson};
use crate::extract::{Path, Query};
use crate::state::AppState;
use crate::wire::{ListPage, PageParams};
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use baton_engine::collections::DocumentQuery;
use std::collections::HashMap;

/// Add a document to an entity's memory (the memory is created if needed).
#[utoipa::path(post, path = "/v2/memory-stores/{store}/memories/{entity}/documents", operation_id = "memory_documents_create", tag = "memory",
    request_body(content = MemoryDocumentCreate, example = json!({"text": "Prefers email over phone."})),
    params(("store" = String, Path, description = "Key or id"), ("entity" = String, Path, description = "Entity id")),
    responses((status = 201, description = "The document", body = MemoryDocumentDto),
              (status = 502, description = "The embedding model failed", body = ErrorBody)))]
pub(crate) async fn create_document(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((key, entity)): Path<(String, String)>,
    ApiJson(body): ApiJson<MemoryDocumentCreate>,
) -> Result<(StatusCode, Json<MemoryDocumentDto>), ApiError> {
    let store = find_store(&state, &caller, &key).await?;
    let doc = state
        .engine
        .memory()
        .add_document(&store, &entity, &body.text, body.metadata)
        .await?;
    Ok((StatusCode::CREATED, Json(MemoryDocumentDto::from(&doc))))
}

/// List the documents of an entity's memory.
#[utoipa::path(get, path = "/v2/memory-stores/{store}/memories/{entity}/documents", operation_id = "memory_documents_list", tag = "memory",
    params(("store" = String, Path, description = "Key or id"), ("entity" = String, Path, description = "Entity id"),
           ("updated_after" = Option<String>, Query, description = "Only documents updated after this RFC 3339 time"),
           ("updated_before" = Option<String>, Query, description = "Only documents updated before this RFC 3339 time"), PageParams),
    responses((status = 200, description = "A page of documents", body = ListPage<MemoryDocumentDto>)))]
pub(crate) async fn list_documents(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((key, entity)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<ListPage<MemoryDocumentDto>>, ApiError> {
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
    page_of(&page, ok)
}

/// Retrieve a document.
#[utoipa::path(get, path = "/v2/memory-stores/{store}/memories/{entity}/documents/{document}", operation_id = "memory_documents_retrieve", tag = "memory",
    params(("store" = String, Path, description = "Key or id"), ("entity" = String, Path, description = "Entity id"),
           ("document" = String, Path, description = "Document id")),
    responses((status = 200, description = "The document", body = MemoryDocumentDto)))]
pub(crate) async fn retrieve_document(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((key, entity, id)): Path<(String, String, String)>,
) -> Result<Json<MemoryDocumentDto>, ApiError> {
    let store = find_store(&state, &caller, &key).await?;
    let doc = state.engine.memory().document(&store, &entity, &id).await?;
    Ok(Json(MemoryDocumentDto::from(&doc)))
}

/// Update a document's text or metadata (a new text is embedded again).
#[utoipa::path(patch, path = "/v2/memory-stores/{store}/memories/{entity}/documents/{document}", operation_id = "memory_documents_update", tag = "memory",
    request_body(content = MemoryDocumentUpdate, example = json!({"text": "Prefers email."})),
    params(("store" = String, Path, description = "Key or id"), ("entity" = String, Path, description = "Entity id"),
           ("document" = String, Path, description = "Document id")),
    responses((status = 200, description = "The document", body = MemoryDocumentDto)))]
pub(crate) async fn update_document(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((key, entity, id)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<MemoryDocumentUpdate>,
) -> Result<Json<MemoryDocumentDto>, ApiError> {
    let store = find_store(&state, &caller, &key).await?;
    let doc = state
        .engine
        .memory()
        .update_document(&store, &entity, &id, body.text.as_deref(), body.metadata)
        .await?;
    Ok(Json(MemoryDocumentDto::from(&doc)))
}

/// Delete a document.
#[utoipa::path(delete, path = "/v2/memory-stores/{store}/memories/{entity}/documents/{document}", operation_id = "memory_documents_delete", tag = "memory",
    params(("store" = String, Path, description = "Key or id"), ("entity" = String, Path, description = "Entity id"),
           ("document" = String, Path, description = "Document id")),
    responses((status = 204, description = "Deleted")))]
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
