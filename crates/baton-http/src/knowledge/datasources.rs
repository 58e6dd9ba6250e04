//! `/v2/knowledge/{kb}/datasources`: a knowledge base's datasources.

use super::find_kb;
use crate::auth::Caller;
use crate::collections::page_json;
use crate::error::ApiError;
use crate::extract::{page_request_or, ApiJson};
use crate::extract::{Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use baton_engine::collections::{CountedDatasource, NewDatasource};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

fn datasource_json(counted: &CountedDatasource) -> Value {
    let (d, chunks) = (&counted.datasource, counted.chunks);
    let mut body = d.extra.clone();
    body.insert("_id".into(), json!(d.id));
    body.insert("display_name".into(), json!(d.text));
    body.insert("knowledge_id".into(), json!(d.collection_id));
    body.insert("chunks_count".into(), json!(chunks));
    body.insert("status".into(), json!("completed"));
    body.insert("metadata".into(), Value::Object(d.metadata.clone()));
    body.insert("created".into(), json!(d.created));
    body.insert("updated".into(), json!(d.updated));
    Value::Object(body)
}

#[derive(Deserialize)]
pub(crate) struct CreateDatasource {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    #[serde(default)]
    file_id: Option<String>,
    #[serde(default)]
    chunking_options: Option<Value>,
}

/// Add a datasource. Baton's extension: `text` is split into chunks (about 1000 characters,
/// 150 overlapping, at paragraph and sentence boundaries), embedded, and searchable at once.
#[utoipa::path(post, path = "/v2/knowledge/{kb}/datasources", operation_id = "datasources_create", tag = "knowledge", request_body = Object,
    params(("kb" = String, Path, description = "Id or key")),
    responses((status = 200, description = "The datasource"), (status = 400, description = "Invalid field")))]
pub(crate) async fn create_datasource(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CreateDatasource>,
) -> Result<Json<Value>, ApiError> {
    let _ = body.chunking_options;
    let kb = find_kb(&state, &caller, &id).await?;
    let new = NewDatasource {
        display_name: body.display_name,
        description: body.description,
        text: body.text,
        metadata: body.metadata.unwrap_or_default(),
        file_id: body.file_id,
    };
    let ds = state.engine.knowledge().add_datasource(&kb, new).await?;
    Ok(Json(datasource_json(&ds)))
}

/// List datasources.
#[utoipa::path(get, path = "/v2/knowledge/{kb}/datasources", operation_id = "datasources_list", tag = "knowledge",
    params(("kb" = String, Path, description = "Id or key")),
    responses((status = 200, description = "`{object, data, has_more}`")))]
pub(crate) async fn list_datasources(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let kb = find_kb(&state, &caller, &id).await?;
    let page = state
        .engine
        .knowledge()
        .datasources(&kb, &page_request_or(&query, 25)?)
        .await?;
    Ok(page_json(&page, datasource_json))
}

/// Retrieve a datasource.
#[utoipa::path(get, path = "/v2/knowledge/{kb}/datasources/{ds}", operation_id = "datasources_retrieve", tag = "knowledge",
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id")),
    responses((status = 200, description = "The datasource"), (status = 404, description = "Unknown")))]
pub(crate) async fn retrieve_datasource(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, ds)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let kb = find_kb(&state, &caller, &id).await?;
    let d = state.engine.knowledge().datasource(&kb, &ds).await?;
    Ok(Json(datasource_json(&d)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateDatasource {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

/// Rename or describe a datasource.
#[utoipa::path(patch, path = "/v2/knowledge/{kb}/datasources/{ds}", operation_id = "datasources_update", tag = "knowledge", request_body = Object,
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id")),
    responses((status = 200, description = "The datasource"), (status = 404, description = "Unknown")))]
pub(crate) async fn update_datasource(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, ds)): Path<(String, String)>,
    ApiJson(body): ApiJson<UpdateDatasource>,
) -> Result<Json<Value>, ApiError> {
    let kb = find_kb(&state, &caller, &id).await?;
    let d = state
        .engine
        .knowledge()
        .update_datasource(&kb, &ds, body.display_name, body.description)
        .await?;
    Ok(Json(datasource_json(&d)))
}

/// Delete a datasource and its chunks.
#[utoipa::path(delete, path = "/v2/knowledge/{kb}/datasources/{ds}", operation_id = "datasources_delete", tag = "knowledge",
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Unknown")))]
pub(crate) async fn delete_datasource(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, ds)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let kb = find_kb(&state, &caller, &id).await?;
    state.engine.knowledge().delete_datasource(&kb, &ds).await?;
    Ok(StatusCode::NO_CONTENT)
}
