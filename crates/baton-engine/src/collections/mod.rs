//! Memory stores and knowledge bases as services an embedder uses without HTTP: their CRUD
//! (shared in [`Collections`]), memories and documents ([`Memories`]), embedding entries with
//! the collection's model, searching, and the memory and knowledge tools agents call.

mod bases;
mod datasources;
mod documents;
mod memory;
mod scaffold;
mod tools;

pub use bases::{Knowledge, KnowledgeQuery, NewKnowledgeBase};
pub use datasources::{ChunkPatch, CountedDatasource, NewChunk, NewDatasource};
pub use documents::DocumentQuery;
pub use memory::{CountedMemory, Memories};
pub use scaffold::{string_metadata, Collections};
pub(crate) use tools::{knowledge_definition, KnowledgeTools, MemoryOp, MemoryTools};

use crate::knowledge::{self, Match, SearchMode};
use crate::{Engine, EngineError, Inner};
use baton_core::collection::{CollectionKind, CollectionRecord, EntryFilter, EntryRecord};
use baton_core::store::PageRequest;
use serde_json::Value;

/// The embedding model a collection names (`provider/model`), if any.
pub fn embedding_model(c: &CollectionRecord) -> Option<String> {
    let model = match c.kind {
        CollectionKind::Knowledge => c.spec.get("embedding_model"),
        CollectionKind::MemoryStore => c.spec.get("embedding_config").and_then(|e| e.get("model")),
    };
    model
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        // orq allows `workspaceKey@provider/model`; the workspace part names no provider here.
        .map(|m| m.rsplit('@').next().unwrap_or(m).to_owned())
}

/// A search over a collection.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// The query text.
    pub query: String,
    /// At most this many matches.
    pub top_k: usize,
    /// Matches scoring below this are dropped (0..1).
    pub threshold: f64,
    /// How to rank; the collection's default when absent.
    pub mode: Option<SearchMode>,
    /// A `filter_by` expression over metadata.
    pub filter: Option<Value>,
}

impl Engine {
    /// Embeds texts with the collection's model; `None` when it names none.
    pub async fn embed_for(
        &self,
        collection: &CollectionRecord,
        texts: &[String],
    ) -> Result<Option<Vec<Vec<f32>>>, EngineError> {
        let Some(model) = embedding_model(collection) else {
            return Ok(None);
        };
        if texts.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(64) {
            let vectors = self.inner.gateway.embed(&model, batch).await.map_err(|e| {
                EngineError::Upstream {
                    context: format!("embedding with `{model}` failed"),
                    source: e,
                }
            })?;
            out.extend(vectors);
        }
        Ok(Some(out))
    }

    /// Embeds one text with the collection's model; `None` when it names none.
    pub async fn embed_one(
        &self,
        collection: &CollectionRecord,
        text: &str,
    ) -> Result<Option<Vec<f32>>, EngineError> {
        Ok(self
            .embed_for(collection, &[text.to_owned()])
            .await?
            .and_then(|mut v| v.pop()))
    }

    /// Searches the enabled entries `filter` selects in a collection.
    pub async fn search(
        &self,
        collection: &CollectionRecord,
        filter: EntryFilter,
        request: &SearchRequest,
    ) -> Result<Vec<Match>, EngineError> {
        search(&self.inner, collection, filter, request).await
    }
}

/// The requested mode, else the collection's, else hybrid; keyword only without a model.
fn search_mode(
    collection: &CollectionRecord,
    requested: Option<SearchMode>,
    has_model: bool,
) -> Result<SearchMode, EngineError> {
    let configured = collection
        .spec
        .get("retrieval_settings")
        .and_then(|r| r.get("retrieval_type"))
        .and_then(Value::as_str)
        .and_then(SearchMode::parse);
    match (requested.or(configured), has_model) {
        (Some(mode), true) => Ok(mode),
        (None, true) => Ok(SearchMode::Hybrid),
        (Some(SearchMode::Keyword) | None, false) => Ok(SearchMode::Keyword),
        (Some(_), false) => Err(EngineError::Invalid {
            field: "search_type".into(),
            message: format!(
                "`{}` has no embedding model; only keyword_search is available",
                collection.key
            ),
        }),
    }
}

async fn search(
    inner: &Inner,
    collection: &CollectionRecord,
    filter: EntryFilter,
    request: &SearchRequest,
) -> Result<Vec<Match>, EngineError> {
    let entries: Vec<EntryRecord> = inner
        .store
        .list_entries(
            &collection.project_id,
            &collection.id,
            &filter,
            &PageRequest::default(),
        )
        .await?
        .items
        .into_iter()
        .filter(|e| e.enabled)
        .filter(|e| {
            request
                .filter
                .as_ref()
                .is_none_or(|f| knowledge::filter_accepts(f, &e.metadata))
        })
        .collect();
    let model = embedding_model(collection);
    let mode = search_mode(collection, request.mode, model.is_some())?;
    let query_vector = match (&model, mode) {
        (Some(model), SearchMode::Vector | SearchMode::Hybrid) => {
            let vectors = inner
                .gateway
                .embed(model, std::slice::from_ref(&request.query))
                .await
                .map_err(|e| EngineError::Upstream {
                    context: format!("embedding with `{model}` failed"),
                    source: e,
                })?;
            vectors.into_iter().next()
        }
        _ => None,
    };
    Ok(knowledge::rank(
        entries,
        &request.query,
        query_vector.as_deref(),
        mode,
        request.top_k,
        request.threshold,
    ))
}
