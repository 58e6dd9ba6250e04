//! `/v2/knowledge`: knowledge bases, their datasources and chunks, and search.

use crate::auth::Caller;
use crate::collections::{self, CollectionWire};
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use crate::extract::{Path, Query};
use crate::state::AppState;
use crate::wire::{ListPage, PageParams};
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use baton_core::collection::{CollectionKind, CollectionRecord};
use baton_engine::collections::{KnowledgeQuery, NewKnowledgeBase};
use baton_engine::knowledge::MatchFields;
use serde_json::Value;
use std::collections::HashMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) mod chunks;
pub(crate) mod datasources;
mod dto;

pub(crate) use dto::*;

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

fn kb_dto(c: &CollectionRecord) -> Result<KnowledgeBaseDto, ApiError> {
    let settings: KnowledgeBaseSettings = collections::stored_settings(c)?;
    Ok(KnowledgeBaseDto {
        id: c.id.clone(),
        key: c.key.clone(),
        domain_id: c.project_id.0.clone(),
        kind: KnowledgeBaseKind::Internal,
        // orq's Knowledge shape requires `model`: empty for keyword-only bases.
        model: settings.embedding_model.clone().unwrap_or_default(),
        embedding_model: settings.embedding_model,
        path: settings.path,
        description: settings.description,
        retrieval_settings: settings.retrieval_settings,
        created: c.created.clone(),
        updated: c.updated.clone(),
    })
}

fn search_match(m: &baton_engine::knowledge::Match, fields: MatchFields) -> SearchMatch {
    SearchMatch {
        id: m.entry.id.clone(),
        text: m.entry.text.clone(),
        scores: fields.scores.then_some(MatchScores {
            search_score: m.score,
        }),
        metadata: fields.metadata.then(|| m.entry.metadata.clone()),
        vector: m
            .entry
            .embedding
            .as_ref()
            .filter(|_| fields.vectors)
            .map(|e| e.iter().map(|&x| f64::from(x)).collect()),
    }
}

/// Knowledge bases on the wire.
struct KnowledgeBases;

impl CollectionWire for KnowledgeBases {
    const KIND: CollectionKind = CollectionKind::Knowledge;
    const PAGE_SIZE: u64 = 25;
    type Dto = KnowledgeBaseDto;
    fn to_dto(c: &CollectionRecord) -> Result<KnowledgeBaseDto, ApiError> {
        kb_dto(c)
    }
}

async fn find_kb(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<CollectionRecord, ApiError> {
    collections::find::<KnowledgeBases>(state, caller, id).await
}

/// Create a knowledge base. With `embedding_model`, chunks are embedded and vector and hybrid
/// search are available; without, search is by keywords.
#[utoipa::path(post, path = "/v2/knowledge", operation_id = "knowledge_create", tag = "knowledge",
    request_body(content = KnowledgeBaseCreate, example = json!({"key": "handbook", "path": "Default",
        "embedding_model": "openai/text-embedding-3-small", "description": "The staff handbook"})),
    responses((status = 200, description = "The knowledge base", body = KnowledgeBaseDto),
              (status = 409, description = "Key taken", body = ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<KnowledgeBaseCreate>,
) -> Result<Json<KnowledgeBaseDto>, ApiError> {
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
    Ok(Json(kb_dto(&record)?))
}

/// List knowledge bases, newest first.
#[utoipa::path(get, path = "/v2/knowledge", operation_id = "knowledge_list", tag = "knowledge",
    params(PageParams),
    responses((status = 200, description = "A page of knowledge bases", body = ListPage<KnowledgeBaseDto>)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<ListPage<KnowledgeBaseDto>>, ApiError> {
    collections::list::<KnowledgeBases>(&state, &caller, &query).await
}

/// Retrieve a knowledge base by id or key.
#[utoipa::path(get, path = "/v2/knowledge/{kb}", operation_id = "knowledge_retrieve", tag = "knowledge",
    params(("kb" = String, Path, description = "Id or key")),
    responses((status = 200, description = "The knowledge base", body = KnowledgeBaseDto)))]
pub(crate) async fn retrieve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<KnowledgeBaseDto>, ApiError> {
    collections::retrieve::<KnowledgeBases>(&state, &caller, &id).await
}

/// Update a knowledge base's description, path or retrieval settings.
#[utoipa::path(patch, path = "/v2/knowledge/{kb}", operation_id = "knowledge_update", tag = "knowledge",
    request_body(content = KnowledgeBaseUpdate, example = json!({"retrieval_settings": {"top_k": 3}})),
    params(("kb" = String, Path, description = "Id or key")),
    responses((status = 200, description = "The knowledge base", body = KnowledgeBaseDto)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<KnowledgeBaseUpdate>,
) -> Result<Json<KnowledgeBaseDto>, ApiError> {
    let mut fields = patch.other;
    let known = [
        ("description", patch.description.map(Value::String)),
        ("path", patch.path.map(Value::String)),
        ("retrieval_settings", patch.retrieval_settings),
    ];
    for (field, value) in known {
        if let Some(value) = value {
            fields.insert(field.to_owned(), value);
        }
    }
    let record = state
        .engine
        .knowledge()
        .update_base(&caller.project, &id, fields)
        .await?;
    Ok(Json(kb_dto(&record)?))
}

/// Delete a knowledge base with its datasources and chunks.
#[utoipa::path(delete, path = "/v2/knowledge/{kb}", operation_id = "knowledge_delete", tag = "knowledge",
    params(("kb" = String, Path, description = "Id or key")),
    responses((status = 204, description = "Deleted")))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    collections::delete::<KnowledgeBases>(&state, &caller, &id).await
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

/// Search a knowledge base's enabled chunks.
#[utoipa::path(post, path = "/v2/knowledge/{kb}/search", operation_id = "knowledge_search", tag = "knowledge",
    request_body(content = KnowledgeSearch, example = json!({"query": "refund policy", "top_k": 3})),
    params(("kb" = String, Path, description = "Id or key")),
    responses((status = 200, description = "The best matches", body = KnowledgeSearchResult),
              (status = 502, description = "The embedding model failed", body = ErrorBody)))]
pub(crate) async fn search(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<KnowledgeSearch>,
) -> Result<Json<KnowledgeSearchResult>, ApiError> {
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
    let matches = matches.iter().map(|m| search_match(m, fields)).collect();
    Ok(Json(KnowledgeSearchResult { matches }))
}
