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
use baton_core::collection::{
    CollectionKind, CollectionRecord, EntryFilter, EntryKind, EntryRecord,
};
use baton_core::id::{new_id, now_rfc3339};
use baton_core::store::PageRequest;
use baton_core::validate;
use baton_engine::collections::SearchRequest;
use baton_engine::knowledge::{self, SearchMode};
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

fn datasource_json(d: &EntryRecord, chunks: usize) -> Value {
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

async fn find_kb(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<CollectionRecord, ApiError> {
    state
        .store
        .collection(&caller.project, CollectionKind::Knowledge, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("knowledge base `{id}` not found")))
}

fn check_retrieval(settings: &Value) -> Result<(), ApiError> {
    let Some(obj) = settings.as_object() else {
        return Err(ApiError::invalid("retrieval_settings", "must be an object"));
    };
    if let Some(t) = obj.get("retrieval_type") {
        if t.as_str().and_then(SearchMode::parse).is_none() {
            return Err(ApiError::invalid(
                "retrieval_settings.retrieval_type",
                "must be vector_search, keyword_search or hybrid_search",
            ));
        }
    }
    if let Some(k) = obj.get("top_k") {
        if !k.as_u64().is_some_and(|k| (1..=100).contains(&k)) {
            return Err(ApiError::invalid(
                "retrieval_settings.top_k",
                "must be a whole number from 1 to 100",
            ));
        }
    }
    if let Some(t) = obj.get("threshold") {
        if !t.as_f64().is_some_and(|t| (0.0..=1.0).contains(&t)) {
            return Err(ApiError::invalid(
                "retrieval_settings.threshold",
                "must be between 0 and 1",
            ));
        }
    }
    Ok(())
}

fn check_model(field: &str, model: &str) -> Result<(), ApiError> {
    let bare = model.rsplit('@').next().unwrap_or(model);
    if baton_core::agent::ModelConfig::named(bare)
        .provider_and_model()
        .is_none()
    {
        return Err(ApiError::invalid(field, "must be named `provider/model`"));
    }
    Ok(())
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
    if body.kind.as_deref().is_some_and(|k| k != "internal") {
        return Err(ApiError::invalid(
            "type",
            "only `internal` knowledge bases are supported",
        ));
    }
    validate::tool_key("key", &body.key)?;
    validate::folder_path("path", &body.path)?;
    let mut spec = Map::new();
    if let Some(model) = body.embedding_model.filter(|m| !m.is_empty()) {
        check_model("embedding_model", &model)?;
        spec.insert("embedding_model".into(), json!(model));
    }
    if let Some(settings) = body.retrieval_settings {
        check_retrieval(&settings)?;
        spec.insert("retrieval_settings".into(), settings);
    }
    spec.insert("path".into(), json!(body.path));
    if let Some(d) = body.description {
        spec.insert("description".into(), json!(d));
    }
    let now = now_rfc3339();
    let record = CollectionRecord {
        id: new_id(),
        project_id: caller.project,
        kind: CollectionKind::Knowledge,
        key: body.key,
        spec,
        created: now.clone(),
        updated: now,
    };
    state.store.create_collection(&record).await?;
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
    let page = state
        .store
        .list_collections(
            &caller.project,
            CollectionKind::Knowledge,
            &page_request_or(&query, 25)?,
        )
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
    let mut record = find_kb(&state, &caller, &id).await?;
    for (field, value) in patch {
        match field.as_str() {
            "description" | "path" => {
                let Some(text) = value.as_str() else {
                    return Err(ApiError::invalid(field, "must be a string"));
                };
                if field == "path" {
                    validate::folder_path("path", text)?;
                }
                record.spec.insert(field, value);
            }
            "retrieval_settings" => {
                check_retrieval(&value)?;
                record.spec.insert(field, value);
            }
            "embedding_model" => {
                return Err(ApiError::invalid(
                    field,
                    "cannot change: the chunks are embedded with the current model",
                ))
            }
            _ => {
                return Err(ApiError::invalid(
                    field,
                    "unknown field (description, path, retrieval_settings)",
                ))
            }
        }
    }
    record.updated = now_rfc3339();
    state.store.update_collection(&record).await?;
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
    let record = find_kb(&state, &caller, &id).await?;
    state
        .store
        .delete_collection(&caller.project, &record.id)
        .await?;
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
    validate::non_empty("query", &body.query)?;
    let kb = find_kb(&state, &caller, &id).await?;
    let settings = kb.spec.get("retrieval_settings");
    let top_k = match body.top_k {
        Some(k) if k.fract() != 0.0 || !(1.0..=100.0).contains(&k) => {
            return Err(ApiError::invalid(
                "top_k",
                "must be a whole number from 1 to 100",
            ))
        }
        Some(k) => k as usize,
        None => settings.and_then(|s| s["top_k"].as_u64()).unwrap_or(5) as usize,
    };
    let threshold = match body.threshold {
        Some(t) if !(0.0..=1.0).contains(&t) => {
            return Err(ApiError::invalid("threshold", "must be between 0 and 1"))
        }
        Some(t) => t,
        None => settings
            .and_then(|s| s["threshold"].as_f64())
            .unwrap_or(0.0),
    };
    let mode = match body.search_type.as_deref() {
        None => None,
        Some(name) => Some(SearchMode::parse(name).ok_or_else(|| {
            ApiError::invalid(
                "search_type",
                "must be vector_search, keyword_search or hybrid_search",
            )
        })?),
    };
    if let Some(filter) = &body.filter_by {
        knowledge::check_filter(filter).map_err(|m| ApiError::invalid("filter_by", m))?;
    }
    let request = SearchRequest {
        query: body.query,
        top_k,
        threshold,
        mode,
        filter: body.filter_by,
    };
    let matches = state
        .engine
        .search(&kb, EntryFilter::of(EntryKind::Chunk), &request)
        .await?;
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

async fn find_datasource(
    state: &AppState,
    kb: &CollectionRecord,
    id: &str,
) -> Result<EntryRecord, ApiError> {
    state
        .store
        .entry(&kb.project_id, &kb.id, id)
        .await?
        .filter(|d| d.kind == EntryKind::Datasource)
        .ok_or_else(|| ApiError::not_found(format!("datasource `{id}` not found")))
}

async fn chunk_count(state: &AppState, kb: &CollectionRecord, ds: &str) -> Result<usize, ApiError> {
    Ok(state
        .store
        .list_entries(
            &kb.project_id,
            &kb.id,
            &EntryFilter::of(EntryKind::Chunk).under(ds),
            &PageRequest::default(),
        )
        .await?
        .items
        .len())
}

/// A chunk to store: text, metadata, and its embedding when the client gave one.
type NewChunk = (String, Map<String, Value>, Option<Vec<f32>>);

/// Builds chunk entries, embedding them when the knowledge base has a model.
async fn make_chunks(
    state: &AppState,
    kb: &CollectionRecord,
    datasource: &str,
    items: Vec<NewChunk>,
) -> Result<Vec<EntryRecord>, ApiError> {
    let missing: Vec<String> = items
        .iter()
        .filter(|(_, _, e)| e.is_none())
        .map(|(t, _, _)| t.clone())
        .collect();
    let mut embedded = state
        .engine
        .embed_for(kb, &missing)
        .await?
        .map(|v| v.into_iter());
    let now = now_rfc3339();
    Ok(items
        .into_iter()
        .map(|(text, metadata, given)| {
            let embedding = match given {
                Some(e) => Some(e),
                None => embedded.as_mut().and_then(Iterator::next),
            };
            EntryRecord {
                id: new_id(),
                project_id: kb.project_id.clone(),
                collection_id: kb.id.clone(),
                kind: EntryKind::Chunk,
                parent_id: Some(datasource.to_owned()),
                entity_id: None,
                text,
                metadata,
                embedding,
                enabled: true,
                extra: Map::new(),
                created: now.clone(),
                updated: now.clone(),
            }
        })
        .collect())
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
    let metadata = body.metadata.unwrap_or_default();
    let now = now_rfc3339();
    let mut extra = Map::new();
    if let Some(d) = &body.description {
        extra.insert("description".into(), json!(d));
    }
    let ds = EntryRecord {
        id: new_id(),
        project_id: kb.project_id.clone(),
        collection_id: kb.id.clone(),
        kind: EntryKind::Datasource,
        parent_id: None,
        entity_id: None,
        text: body.display_name.unwrap_or_else(|| "Untitled".into()),
        metadata: metadata.clone(),
        embedding: None,
        enabled: true,
        extra,
        created: now.clone(),
        updated: now,
    };
    let chunks = match body.text {
        Some(text) => {
            let items = knowledge::chunk_text(&text)
                .into_iter()
                .map(|t| (t, metadata.clone(), None))
                .collect();
            make_chunks(&state, &kb, &ds.id, items).await?
        }
        None => Vec::new(),
    };
    let mut all = vec![ds.clone()];
    all.extend(chunks.iter().cloned());
    state.store.put_entries(&all).await?;
    Ok(Json(datasource_json(&ds, chunks.len())))
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
        .store
        .list_entries(
            &kb.project_id,
            &kb.id,
            &EntryFilter::of(EntryKind::Datasource),
            &page_request_or(&query, 25)?,
        )
        .await?;
    let mut data = Vec::new();
    for d in &page.items {
        data.push(datasource_json(d, chunk_count(&state, &kb, &d.id).await?));
    }
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
    let d = find_datasource(&state, &kb, &ds).await?;
    let count = chunk_count(&state, &kb, &d.id).await?;
    Ok(Json(datasource_json(&d, count)))
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
    let mut d = find_datasource(&state, &kb, &ds).await?;
    if let Some(name) = body.display_name {
        validate::non_empty("display_name", &name)?;
        d.text = name;
    }
    if let Some(desc) = body.description {
        d.extra.insert("description".into(), json!(desc));
    }
    d.updated = now_rfc3339();
    state.store.update_entry(&d).await?;
    let count = chunk_count(&state, &kb, &d.id).await?;
    Ok(Json(datasource_json(&d, count)))
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
    let d = find_datasource(&state, &kb, &ds).await?;
    state
        .store
        .delete_entries(&kb.project_id, &kb.id, std::slice::from_ref(&d.id))
        .await?;
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
    if inputs.is_empty() || inputs.len() > 1000 {
        return Err(ApiError::invalid("", "send 1 to 1000 chunks"));
    }
    let kb = find_kb(&state, &caller, &id).await?;
    let d = find_datasource(&state, &kb, &ds).await?;
    let mut items = Vec::new();
    for (i, c) in inputs.into_iter().enumerate() {
        validate::non_empty(&format!("[{i}].text"), &c.text)?;
        let metadata = c.metadata.unwrap_or_default();
        for (k, v) in &metadata {
            if !(v.is_string() || v.is_number() || v.is_boolean()) {
                return Err(ApiError::invalid(
                    format!("[{i}].metadata.{k}"),
                    "must be a string, number or boolean",
                ));
            }
        }
        let _ = c.id;
        items.push((c.text, metadata, c.embedding));
    }
    let chunks = make_chunks(&state, &kb, &d.id, items).await?;
    state.store.put_entries(&chunks).await?;
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
    let d = find_datasource(&state, &kb, &ds).await?;
    let page = state
        .store
        .list_entries(
            &kb.project_id,
            &kb.id,
            &EntryFilter::of(EntryKind::Chunk).under(&d.id),
            &page_request_or(&query, 50)?,
        )
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
    let d = find_datasource(&state, &kb, &ds).await?;
    // Only this datasource's chunks.
    let mut ids = Vec::new();
    for chunk in &body.chunk_ids {
        if let Some(c) = state.store.entry(&kb.project_id, &kb.id, chunk).await? {
            if c.kind == EntryKind::Chunk && c.parent_id.as_deref() == Some(d.id.as_str()) {
                ids.push(c.id);
            }
        }
    }
    let deleted = state
        .store
        .delete_entries(&kb.project_id, &kb.id, &ids)
        .await?;
    Ok(Json(json!({"deleted": deleted})))
}

async fn find_chunk(
    state: &AppState,
    caller: &Caller,
    id: &str,
    ds: &str,
    chunk: &str,
) -> Result<(CollectionRecord, EntryRecord), ApiError> {
    let kb = find_kb(state, caller, id).await?;
    let c = state
        .store
        .entry(&kb.project_id, &kb.id, chunk)
        .await?
        .filter(|c| c.kind == EntryKind::Chunk && c.parent_id.as_deref() == Some(ds))
        .ok_or_else(|| ApiError::not_found(format!("chunk `{chunk}` not found")))?;
    Ok((kb, c))
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
    let (_, c) = find_chunk(&state, &caller, &id, &ds, &chunk).await?;
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
    let (kb, mut c) = find_chunk(&state, &caller, &id, &ds, &chunk).await?;
    if let Some(text) = body.text {
        validate::non_empty("text", &text)?;
        c.embedding = match body.embedding.clone() {
            Some(e) => Some(e),
            None => state
                .engine
                .embed_for(&kb, std::slice::from_ref(&text))
                .await?
                .and_then(|mut v| v.pop()),
        };
        c.text = text;
    } else if let Some(e) = body.embedding {
        c.embedding = Some(e);
    }
    if let Some(m) = body.metadata {
        c.metadata = m;
    }
    if let Some(enabled) = body.enabled {
        c.enabled = enabled;
    }
    c.updated = now_rfc3339();
    state.store.update_entry(&c).await?;
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
    let (kb, c) = find_chunk(&state, &caller, &id, &ds, &chunk).await?;
    state
        .store
        .delete_entries(&kb.project_id, &kb.id, std::slice::from_ref(&c.id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
