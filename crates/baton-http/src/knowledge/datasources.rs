//! `/v2/knowledge/{kb}/datasources`: a knowledge base's datasources.

use super::find_kb;
use super::{DatasourceCreate, DatasourceDto, DatasourceUpdate};
use crate::auth::Caller;
use crate::collections::page_of;
use crate::error::ApiError;
use crate::extract::{page_request_or, ApiJson};
use crate::extract::{Path, Query};
use crate::state::AppState;
use crate::wire::{ListPage, PageParams};
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use baton_engine::collections::NewDatasource;
use std::collections::HashMap;

/// Add a datasource. Baton's extension: `text` is split into chunks (about 1000 characters,
/// 150 overlapping, at paragraph and sentence boundaries), embedded, and searchable at once.
#[utoipa::path(post, path = "/v2/knowledge/{kb}/datasources", operation_id = "datasources_create", tag = "knowledge",
    request_body(content = DatasourceCreate, example = json!({"display_name": "Refunds",
        "text": "Refunds are paid within 14 days of a return."})),
    params(("kb" = String, Path, description = "Id or key")),
    responses((status = 200, description = "The datasource", body = DatasourceDto)))]
pub(crate) async fn create_datasource(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DatasourceCreate>,
) -> Result<Json<DatasourceDto>, ApiError> {
    let kb = find_kb(&state, &caller, &id).await?;
    let new = NewDatasource {
        display_name: body.display_name,
        description: body.description,
        text: body.text,
        metadata: body.metadata.unwrap_or_default(),
        file_id: body.file_id,
    };
    let ds = state.engine.knowledge().add_datasource(&kb, new).await?;
    Ok(Json(DatasourceDto::from(&ds)))
}

/// List datasources.
#[utoipa::path(get, path = "/v2/knowledge/{kb}/datasources", operation_id = "datasources_list", tag = "knowledge",
    params(("kb" = String, Path, description = "Id or key"), PageParams),
    responses((status = 200, description = "A page of datasources", body = ListPage<DatasourceDto>)))]
pub(crate) async fn list_datasources(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<ListPage<DatasourceDto>>, ApiError> {
    let kb = find_kb(&state, &caller, &id).await?;
    let page = state
        .engine
        .knowledge()
        .datasources(&kb, &page_request_or(&query, 25)?)
        .await?;
    page_of(&page, |d| Ok(DatasourceDto::from(d)))
}

/// Retrieve a datasource.
#[utoipa::path(get, path = "/v2/knowledge/{kb}/datasources/{ds}", operation_id = "datasources_retrieve", tag = "knowledge",
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id")),
    responses((status = 200, description = "The datasource", body = DatasourceDto)))]
pub(crate) async fn retrieve_datasource(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, ds)): Path<(String, String)>,
) -> Result<Json<DatasourceDto>, ApiError> {
    let kb = find_kb(&state, &caller, &id).await?;
    let d = state.engine.knowledge().datasource(&kb, &ds).await?;
    Ok(Json(DatasourceDto::from(&d)))
}

/// Rename or describe a datasource.
#[utoipa::path(patch, path = "/v2/knowledge/{kb}/datasources/{ds}", operation_id = "datasources_update", tag = "knowledge",
    request_body(content = DatasourceUpdate, example = json!({"display_name": "Refund policy"})),
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id")),
    responses((status = 200, description = "The datasource", body = DatasourceDto)))]
pub(crate) async fn update_datasource(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, ds)): Path<(String, String)>,
    ApiJson(body): ApiJson<DatasourceUpdate>,
) -> Result<Json<DatasourceDto>, ApiError> {
    let kb = find_kb(&state, &caller, &id).await?;
    let d = state
        .engine
        .knowledge()
        .update_datasource(&kb, &ds, body.display_name, body.description)
        .await?;
    Ok(Json(DatasourceDto::from(&d)))
}

/// Delete a datasource and its chunks.
#[utoipa::path(delete, path = "/v2/knowledge/{kb}/datasources/{ds}", operation_id = "datasources_delete", tag = "knowledge",
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id")),
    responses((status = 204, description = "Deleted")))]
pub(crate) async fn delete_datasource(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, ds)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let kb = find_kb(&state, &caller, &id).await?;
    state.engine.knowledge().delete_datasource(&kb, &ds).await?;
    Ok(StatusCode::NO_CONTENT)
}
