//! `/v2/knowledge`: knowledge bases, their datasources and chunks, and search.

use crate::auth::Caller;
use crate::collections::{self, CollectionWire};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::extract::{Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use baton_core::collection::{CollectionKind, CollectionRecord};
use baton_engine::collections::{KnowledgeQuery, NewKnowledgeBase};
use baton_engine::knowledge::MatchFields;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) mod chunks;
pub(crate) mod datasources;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(retrieve, update, delete))
        .routes(routes!(search))
        .routes(routes!(
            datasources::list_datasources,
            datasources::create_datasource
        ))
        .routes(routes!(
            datasources::retrieve_datasource,
            datasources::update_datasource,
            datasources::delete_datasource
        ))
        .routes(routes!(
            chunks::list_chunks,
            chunks::create_chunks,
            chunks::delete_chunks
        ))
        .routes(routes!(
            chunks::retrieve_chunk,
            chunks::update_chunk,
            chunks::delete_chunk
        ))
}

fn kb_json(c: &CollectionRecord) -> Value {
    let mut body = c.spec.clone();
    body.insert("_id".into(), json!(c.id));
    body.insert("key".into(), json!(c.key));
    body.insert("domain_id".into(), json!(c.project_id));
    body.insert("created".into(), json!(c.created));
    body.insert("updated".into(), json!(c.updated));
    body.insert("type".into(), json!("internal"));
    // orq's Knowledge shape requires `model`: the embedding model, empty for keyword-only bases.
    let model = c.spec.get("embedding_model").cloned().unwrap_or(json!(""));
    body.insert("model".into(), model);
    Value::Object(body)
}

/// Knowledge bases on the wire.
struct KnowledgeBases;

impl CollectionWire for KnowledgeBases {
    const KIND: CollectionKind = CollectionKind::Knowledge;
    const PAGE_SIZE: u64 = 25;
    fn to_json(c: &CollectionRecord) -> Value {
        kb_json(c)
    }
}

async fn find_kb(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<CollectionRecord, ApiError> {
    collections::find::<KnowledgeBases>(state, caller, id).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateKb {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    key: String,
    #[serde(default)]
    embedding_model: Option<String>,
    path: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    retrieval_settings: Option<Value>,
}

/// Create a knowledge base. With `embedding_model`, chunks are embedded and vector and hybrid
/// search are available; without, search is by keywords.
#[utoipa::path(post, path = "/v2/knowledge", operation_id = "knowledge_create", tag = "knowledge", request_body = Object,
    responses((status = 200, description = "The knowledge base"), (status = 400, description = "Invalid field"),
              (status = 409, description = "Key taken")))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<CreateKb>,
) -> Result<Json<Value>, ApiError> {
    let base = NewKnowledgeBase {
        key: body.key,
        kind: body.kind,
        embedding_model: body.embedding_model,
        path: body.path,
        description: body.description,
        retrieval_settings: body.retrieval_settings,
    };
    let record = state
        .engine
        .knowledge()
        .create_base(&caller.project, base)
        .await?;
    Ok(Json(kb_json(&record)))
}

/// List knowledge bases, newest first.
#[utoipa::path(get, path = "/v2/knowledge", operation_id = "knowledge_list", tag = "knowledge",
    responses((status = 200, description = "`{object, data, has_more}`")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    collections::list::<KnowledgeBases>(&state, &caller, &query).await
}

/// Retrieve a knowledge base by id or key.
#[utoipa::path(get, path = "/v2/knowledge/{kb}", operation_id = "knowledge_retrieve", tag = "knowledge",
    params(("kb" = String, Path, description = "Id or key")),
    responses((status = 200, description = "The knowledge base"), (status = 404, description = "Unknown")))]
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    collections::retrieve::<KnowledgeBases>(&state, &caller, &id).await
}

/// Update a knowledge base's description, path or retrieval settings.
#[utoipa::path(patch, path = "/v2/knowledge/{kb}", operation_id = "knowledge_update", tag = "knowledge", request_body = Object,
    params(("kb" = String, Path, description = "Id or key")),
    responses((status = 200, description = "The knowledge base"), (status = 404, description = "Unknown")))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let record = state
        .engine
        .knowledge()
        .update_base(&caller.project, &id, patch)
        .await?;
    Ok(Json(kb_json(&record)))
}

/// Delete a knowledge base with its datasources and chunks.
#[utoipa::path(delete, path = "/v2/knowledge/{kb}", operation_id = "knowledge_delete", tag = "knowledge",
    params(("kb" = String, Path, description = "Id or key")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Unknown")))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    collections::delete::<KnowledgeBases>(&state, &caller, &id).await
}

#[derive(Deserialize)]
pub(crate) struct SearchOptions {
    #[serde(default)]
    include_vectors: bool,
    #[serde(default = "yes")]
    include_metadata: bool,
    #[serde(default = "yes")]
    include_scores: bool,
}

impl From<SearchOptions> for MatchFields {
    fn from(o: SearchOptions) -> Self {
        Self {
            metadata: o.include_metadata,
            vectors: o.include_vectors,
            scores: o.include_scores,
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
pub(crate) struct SearchBody {
    query: String,
    #[serde(default)]
    top_k: Option<f64>,
    #[serde(default)]
    threshold: Option<f64>,
    #[serde(default)]
    search_type: Option<String>,
    #[serde(default)]
    filter_by: Option<Value>,
    #[serde(default)]
    search_options: Option<SearchOptions>,
}

/// Search a knowledge base's enabled chunks.
#[utoipa::path(post, path = "/v2/knowledge/{kb}/search", operation_id = "knowledge_search", tag = "knowledge", request_body = Object,
    params(("kb" = String, Path, description = "Id or key")),
    responses((status = 200, description = "`{matches: [{id, text, metadata, scores: {search_score}}]}`"),
              (status = 400, description = "Invalid field"), (status = 404, description = "Unknown")))]
pub(crate) async fn search(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SearchBody>,
) -> Result<Json<Value>, ApiError> {
    let kb = find_kb(&state, &caller, &id).await?;
    let query = KnowledgeQuery {
        query: body.query,
        top_k: body.top_k,
        threshold: body.threshold,
        search_type: body.search_type,
        filter_by: body.filter_by,
    };
    let matches = state.engine.knowledge().search(&kb, query).await?;
    let fields = body
        .search_options
        .map_or_else(MatchFields::default, MatchFields::from);
    let matches: Vec<Value> = matches.iter().map(|m| m.to_json(fields)).collect();
    Ok(Json(json!({"matches": matches})))
}
