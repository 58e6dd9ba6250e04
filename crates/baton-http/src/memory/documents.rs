//! `/v2/memory-stores/{store}/memories/{entity}/documents`: the documents of an entity's memory.

use super::find_store;
use crate::auth::Caller;
use crate::collections::page_json;
use crate::error::ApiError;
use crate::extract::{page_request_or, ApiJson};
use crate::extract::{Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use baton_core::collection::EntryRecord;
use baton_engine::collections::DocumentQuery;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

fn document_json(d: &EntryRecord) -> Value {
    json!({"_id": d.id, "memory_id": d.parent_id, "store_id": d.collection_id, "text": d.text,
           "workspace_id": d.project_id, "metadata": d.metadata, "created": d.created,
           "updated": d.updated})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateDocument {
    text: String,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
}

/// Add a document to an entity's memory (the memory is created if needed).
#[utoipa::path(post, path = "/v2/memory-stores/{store}/memories/{entity}/documents", operation_id = "memory_documents_create", tag = "memory", request_body = Object,
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
#[utoipa::path(get, path = "/v2/memory-stores/{store}/memories/{entity}/documents", operation_id = "memory_documents_list", tag = "memory",
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
    Ok(page_json(&page, document_json))
}

/// Retrieve a document.
#[utoipa::path(get, path = "/v2/memory-stores/{store}/memories/{entity}/documents/{document}", operation_id = "memory_documents_retrieve", tag = "memory",
    params(("store" = String, Path, description = "Key or id"), ("entity" = String, Path, description = "Entity id"),
           ("document" = String, Path, description = "Document id")),
    responses((status = 200, description = "The document"), (status = 404, description = "Unknown")))]
pub(crate) async fn retrieve_document(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((key, entity, id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let store = find_store(&state, &caller, &key).await?;
    let doc = state.engine.memory().document(&store, &entity, &id).await?;
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
#[utoipa::path(patch, path = "/v2/memory-stores/{store}/memories/{entity}/documents/{document}", operation_id = "memory_documents_update", tag = "memory", request_body = Object,
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
#[utoipa::path(delete, path = "/v2/memory-stores/{store}/memories/{entity}/documents/{document}", operation_id = "memory_documents_delete", tag = "memory",
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
