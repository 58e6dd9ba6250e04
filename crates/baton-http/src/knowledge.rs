//! `/v2/knowledge`: knowledge bases, their datasources and chunks, and search.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{from_any_value, page_request_or, ApiJson};
use crate::extract::{Path, Query};
use crate::state::AppState;
use crate::wire::list_json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use baton_core::collection::{CollectionKind, CollectionRecord, EntryRecord};
use baton_engine::collections::{
    ChunkPatch, Collections, CountedDatasource, KnowledgeQuery, NewChunk, NewDatasource,
    NewKnowledgeBase,
};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2/knowledge", get(list).post(create))
        .route(
            "/v2/knowledge/{kb}",
            get(retrieve).patch(update).delete(delete),
        )
        .route("/v2/knowledge/{kb}/search", post(search))
        .route(
            "/v2/knowledge/{kb}/datasources",
            get(list_datasources).post(create_datasource),
        )
        .route(
            "/v2/knowledge/{kb}/datasources/{ds}",
            get(retrieve_datasource)
                .patch(update_datasource)
                .delete(delete_datasource),
        )
        .route(
            "/v2/knowledge/{kb}/datasources/{ds}/chunks",
            get(list_chunks).post(create_chunks).delete(delete_chunks),
        )
        .route(
            "/v2/knowledge/{kb}/datasources/{ds}/chunks/{chunk}",
            get(retrieve_chunk).patch(update_chunk).delete(delete_chunk),
        )
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

fn chunk_json(c: &EntryRecord) -> Value {
    json!({"_id": c.id, "text": c.text, "enabled": c.enabled, "status": "completed",
           "metadata": c.metadata, "datasource_id": c.parent_id,
           "created": c.created, "updated": c.updated})
}

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

fn bases(state: &AppState) -> Collections<'_> {
    state.engine.collections(CollectionKind::Knowledge)
}

async fn find_kb(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<CollectionRecord, ApiError> {
    Ok(bases(state).get(&caller.project, id).await?)
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
#[utoipa::path(post, path = "/v2/knowledge", request_body = Object,
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
#[utoipa::path(get, path = "/v2/knowledge",
    responses((status = 200, description = "`{object, data, has_more}`")))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let page = bases(&state)
        .list(&caller.project, &page_request_or(&query, 25)?)
        .await?;
    Ok(list_json(
        page.items.iter().map(kb_json).collect(),
        page.has_more,
    ))
}

/// Retrieve a knowledge base by id or key.
#[utoipa::path(get, path = "/v2/knowledge/{kb}",
    params(("kb" = String, Path, description = "Id or key")),
    responses((status = 200, description = "The knowledge base"), (status = 404, description = "Unknown")))]
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(kb_json(&find_kb(&state, &caller, &id).await?)))
}

/// Update a knowledge base's description, path or retrieval settings.
#[utoipa::path(patch, path = "/v2/knowledge/{kb}", request_body = Object,
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
#[utoipa::path(delete, path = "/v2/knowledge/{kb}",
    params(("kb" = String, Path, description = "Id or key")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Unknown")))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    bases(&state).delete(&caller.project, &id).await?;
    Ok(StatusCode::NO_CONTENT)
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
#[utoipa::path(post, path = "/v2/knowledge/{kb}/search", request_body = Object,
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
    let options = body.search_options.unwrap_or(SearchOptions {
        include_vectors: false,
        include_metadata: true,
        include_scores: true,
    });
    let matches: Vec<Value> = matches
        .iter()
        .map(|m| {
            let mut v = m.to_json(options.include_metadata, options.include_vectors);
            if !options.include_scores {
                if let Some(o) = v.as_object_mut() {
                    o.remove("scores");
                }
            }
            v
        })
        .collect();
    Ok(Json(json!({"matches": matches})))
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
#[utoipa::path(post, path = "/v2/knowledge/{kb}/datasources", request_body = Object,
    params(("kb" = String, Path, description = "Id or key")),
    responses((status = 200, description = "The datasource"), (status = 400, description = "Invalid field")))]
pub(crate) async fn create_datasource(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CreateDatasource>,
) -> Result<Json<Value>, ApiError> {
    if body.file_id.is_some() {
        return Err(ApiError::invalid(
            "file_id",
            "file uploads are not supported; send the document as `text`, or add chunks",
        ));
    }
    let _ = body.chunking_options;
    let kb = find_kb(&state, &caller, &id).await?;
    let new = NewDatasource {
        display_name: body.display_name,
        description: body.description,
        text: body.text,
        metadata: body.metadata.unwrap_or_default(),
    };
    let ds = state.engine.knowledge().add_datasource(&kb, new).await?;
    Ok(Json(datasource_json(&ds)))
}

/// List datasources.
#[utoipa::path(get, path = "/v2/knowledge/{kb}/datasources",
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
    let data = page.items.iter().map(datasource_json).collect();
    Ok(list_json(data, page.has_more))
}

/// Retrieve a datasource.
#[utoipa::path(get, path = "/v2/knowledge/{kb}/datasources/{ds}",
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
#[utoipa::path(patch, path = "/v2/knowledge/{kb}/datasources/{ds}", request_body = Object,
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
#[utoipa::path(delete, path = "/v2/knowledge/{kb}/datasources/{ds}",
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChunkInput {
    text: String,
    #[serde(default)]
    embedding: Option<Vec<f32>>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    #[serde(default, rename = "_id")]
    #[allow(dead_code)] // accepted for orq compatibility, not used
    id: Option<String>,
}

/// Add chunks (a JSON array) to a datasource; chunks without an embedding are embedded with the
/// knowledge base's model.
#[utoipa::path(post, path = "/v2/knowledge/{kb}/datasources/{ds}/chunks", request_body = Object,
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id")),
    responses((status = 200, description = "The chunks"), (status = 400, description = "Invalid field")))]
pub(crate) async fn create_chunks(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, ds)): Path<(String, String)>,
    crate::extract::JsonBody(value): crate::extract::JsonBody,
) -> Result<Json<Value>, ApiError> {
    if !value.is_array() {
        return Err(ApiError::invalid(
            "",
            "the body must be a JSON array of chunks",
        ));
    }
    let inputs: Vec<ChunkInput> = from_any_value(value)?;
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
    Ok(Json(Value::Array(chunks.iter().map(chunk_json).collect())))
}

/// List a datasource's chunks.
#[utoipa::path(get, path = "/v2/knowledge/{kb}/datasources/{ds}/chunks",
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id")),
    responses((status = 200, description = "`{object, data, has_more}`")))]
pub(crate) async fn list_chunks(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, ds)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let kb = find_kb(&state, &caller, &id).await?;
    let page = state
        .engine
        .knowledge()
        .chunks(&kb, &ds, &page_request_or(&query, 50)?)
        .await?;
    Ok(list_json(
        page.items.iter().map(chunk_json).collect(),
        page.has_more,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeleteChunks {
    chunk_ids: Vec<String>,
}

/// Delete chunks by id.
#[utoipa::path(delete, path = "/v2/knowledge/{kb}/datasources/{ds}/chunks", request_body = Object,
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id")),
    responses((status = 200, description = "`{deleted}`")))]
pub(crate) async fn delete_chunks(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, ds)): Path<(String, String)>,
    ApiJson(body): ApiJson<DeleteChunks>,
) -> Result<Json<Value>, ApiError> {
    let kb = find_kb(&state, &caller, &id).await?;
    let deleted = state
        .engine
        .knowledge()
        .delete_chunks(&kb, &ds, &body.chunk_ids)
        .await?;
    Ok(Json(json!({"deleted": deleted})))
}

/// Retrieve a chunk.
#[utoipa::path(get, path = "/v2/knowledge/{kb}/datasources/{ds}/chunks/{chunk}",
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id"),
           ("chunk" = String, Path, description = "Chunk id")),
    responses((status = 200, description = "The chunk"), (status = 404, description = "Unknown")))]
pub(crate) async fn retrieve_chunk(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, ds, chunk)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let kb = find_kb(&state, &caller, &id).await?;
    let c = state.engine.knowledge().chunk(&kb, &ds, &chunk).await?;
    Ok(Json(chunk_json(&c)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateChunk {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    embedding: Option<Vec<f32>>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    #[serde(default)]
    enabled: Option<bool>,
}

/// Update a chunk (a new text without an embedding is embedded again); `enabled: false` hides
/// it from search.
#[utoipa::path(patch, path = "/v2/knowledge/{kb}/datasources/{ds}/chunks/{chunk}", request_body = Object,
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id"),
           ("chunk" = String, Path, description = "Chunk id")),
    responses((status = 200, description = "The chunk"), (status = 404, description = "Unknown")))]
pub(crate) async fn update_chunk(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, ds, chunk)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<UpdateChunk>,
) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(chunk_json(&c)))
}

/// Delete a chunk.
#[utoipa::path(delete, path = "/v2/knowledge/{kb}/datasources/{ds}/chunks/{chunk}",
    params(("kb" = String, Path, description = "Id or key"), ("ds" = String, Path, description = "Datasource id"),
           ("chunk" = String, Path, description = "Chunk id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Unknown")))]
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
