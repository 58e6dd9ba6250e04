//! The memory and knowledge tools agents call.

use super::SearchRequest;
use crate::knowledge::Match;
use crate::toolset::service_failure;
use crate::{Engine, Inner};
use async_trait::async_trait;
use baton_core::collection::{CollectionKind, CollectionRecord, EntryFilter, EntryKind};
use baton_core::handler::{ToolContext, ToolError, ToolHandler};
use baton_core::model::ToolDefinition;
use baton_core::ProjectId;
use serde_json::{json, Value};
use std::sync::Arc;

fn store_names(stores: &[CollectionRecord]) -> String {
    stores
        .iter()
        .map(|s| s.key.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Picks the collection a tool call names (by key or id), or the only one there is.
fn pick<'a>(
    collections: &'a [CollectionRecord],
    named: Option<&str>,
    what: &str,
) -> Result<&'a CollectionRecord, ToolError> {
    match named {
        Some(name) => collections
            .iter()
            .find(|c| c.key == name || c.id == name)
            .ok_or_else(|| {
                ToolError::InvalidArguments(format!(
                    "no {what} `{name}` is attached (attached: {})",
                    store_names(collections)
                ))
            }),
        None if collections.len() == 1 => Ok(&collections[0]),
        None if collections.is_empty() => {
            Err(ToolError::Unavailable(format!("this agent has no {what}")))
        }
        None => Err(ToolError::InvalidArguments(format!(
            "name the {what} to use (attached: {})",
            store_names(collections)
        ))),
    }
}

/// The collections of `kind` an agent names (by key or id); missing ones are skipped, logged.
async fn named_collections(
    inner: &Inner,
    project: &ProjectId,
    kind: CollectionKind,
    names: &[String],
) -> Result<Vec<CollectionRecord>, ToolError> {
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        match inner
            .store
            .collection(project, kind, name)
            .await
            .map_err(service_failure)?
        {
            Some(c) => out.push(c),
            None => tracing::warn!(collection = %name, kind = kind.as_str(),
                "agent names a collection that does not exist"),
        }
    }
    Ok(out)
}

/// Key and description of each collection, as the `retrieve_*` tools list them.
fn summaries(collections: &[CollectionRecord]) -> Vec<Value> {
    collections
        .iter()
        .map(|c| {
            json!({"key": c.key,
                   "description": c.spec.get("description").cloned().unwrap_or(Value::Null)})
        })
        .collect()
}

/// Runs each search and merges the matches, best first, keeping `keep`; each match is paired
/// with its collection's key.
async fn search_each<'a>(
    engine: &Engine,
    searches: impl Iterator<Item = (&'a CollectionRecord, EntryFilter, SearchRequest)>,
    keep: usize,
) -> Result<Vec<(String, Match)>, ToolError> {
    let mut all = Vec::new();
    for (collection, filter, request) in searches {
        let found = engine
            .search(collection, filter, &request)
            .await
            .map_err(service_failure)?;
        all.extend(found.into_iter().map(|m| (collection.key.clone(), m)));
    }
    all.sort_by(|a, b| b.1.score.total_cmp(&a.1.score));
    all.truncate(keep);
    Ok(all)
}

/// The memory tools, bound to one run's entity.
pub(crate) struct MemoryTools {
    pub inner: Arc<Inner>,
    pub project: ProjectId,
    pub stores: Vec<String>,
    pub entity_id: Option<String>,
    pub op: MemoryOp,
}

/// Which memory tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MemoryOp {
    Retrieve,
    Query,
    Write,
    Delete,
}

impl MemoryOp {
    pub fn definition(self) -> ToolDefinition {
        let store = json!({"type": "string", "description": "The memory store's key (optional when the agent has one)"});
        match self {
            Self::Retrieve => ToolDefinition {
                name: "retrieve_memory_stores".into(),
                description: "Lists available memory stores".into(),
                parameters: json!({"type": "object", "properties": {}}),
            },
            Self::Query => ToolDefinition {
                name: "query_memory_store".into(),
                description: "Queries agent memory stores for context about the current user"
                    .into(),
                parameters: json!({"type": "object", "properties": {
                    "query": {"type": "string", "description": "What to look for"},
                    "memory_store": store, "top_k": {"type": "integer", "minimum": 1, "maximum": 50}},
                    "required": ["query"]}),
            },
            Self::Write => ToolDefinition {
                name: "write_memory_store".into(),
                description: "Writes information about the current user to agent memory stores"
                    .into(),
                parameters: json!({"type": "object", "properties": {
                    "text": {"type": "string", "description": "The fact to remember"},
                    "memory_store": store,
                    "metadata": {"type": "object", "additionalProperties": {"type": "string"}}},
                    "required": ["text"]}),
            },
            Self::Delete => ToolDefinition {
                name: "delete_memory_document".into(),
                description: "Deletes a document from memory stores".into(),
                parameters: json!({"type": "object", "properties": {
                    "document_id": {"type": "string"}, "memory_store": store},
                    "required": ["document_id"]}),
            },
        }
    }
}

impl MemoryTools {
    async fn stores(&self) -> Result<Vec<CollectionRecord>, ToolError> {
        named_collections(
            &self.inner,
            &self.project,
            CollectionKind::MemoryStore,
            &self.stores,
        )
        .await
    }

    fn entity(&self) -> Result<&str, ToolError> {
        self.entity_id.as_deref().ok_or_else(|| {
            ToolError::Unavailable("this run has no memory entity: the request must send memory.entity_id for memory tools to work".to_owned())
        })
    }
}

#[async_trait]
impl ToolHandler for MemoryTools {
    async fn call(&self, arguments: Value, _ctx: &ToolContext<'_>) -> Result<Value, ToolError> {
        let engine = Engine {
            inner: self.inner.clone(),
        };
        let stores = self.stores().await?;
        let named = arguments.get("memory_store").and_then(Value::as_str);
        let targets = || -> Result<Vec<&CollectionRecord>, ToolError> {
            match named {
                Some(_) => Ok(vec![pick(&stores, named, "memory store")?]),
                None => Ok(stores.iter().collect()),
            }
        };
        if self.op != MemoryOp::Retrieve {
            // The missing entity is the first thing to tell the model, before any store choice.
            self.entity()?;
        }
        match self.op {
            MemoryOp::Retrieve => Ok(json!({"memory_stores": summaries(&stores)})),
            MemoryOp::Query => self.query(&engine, targets()?, &arguments).await,
            MemoryOp::Write => {
                let store = pick(&stores, named, "memory store")?;
                self.write(&engine, store, &arguments).await
            }
            MemoryOp::Delete => self.delete(&engine, targets()?, &arguments).await,
        }
    }
}

impl MemoryTools {
    async fn query(
        &self,
        engine: &Engine,
        targets: Vec<&CollectionRecord>,
        arguments: &Value,
    ) -> Result<Value, ToolError> {
        let entity = self.entity()?;
        let query = arguments["query"].as_str().unwrap_or_default().to_owned();
        let top_k = arguments["top_k"].as_u64().unwrap_or(5).clamp(1, 50) as usize;
        let searches = targets.into_iter().map(|store| {
            let request = SearchRequest {
                query: query.clone(),
                top_k,
                threshold: 0.0,
                mode: None,
                filter: None,
            };
            let filter = EntryFilter::of(EntryKind::Document).entity(entity);
            (store, filter, request)
        });
        let all = search_each(engine, searches, top_k).await?;
        Ok(json!({"documents": all.iter().map(|(store, m)| json!({
            "document_id": m.entry.id, "memory_store": store, "text": m.entry.text,
            "metadata": m.entry.metadata, "score": m.score})).collect::<Vec<_>>()}))
    }

    async fn write(
        &self,
        engine: &Engine,
        store: &CollectionRecord,
        arguments: &Value,
    ) -> Result<Value, ToolError> {
        let entity = self.entity()?;
        let text = arguments["text"].as_str().unwrap_or_default().trim();
        if text.is_empty() {
            return Err(ToolError::InvalidArguments(
                "`text` must not be empty".into(),
            ));
        }
        let metadata = arguments
            .get("metadata")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let doc = engine
            .memory()
            .write_document(store, entity, text.to_owned(), metadata)
            .await
            .map_err(service_failure)?;
        Ok(json!({"document_id": doc.id, "memory_store": store.key, "stored": true}))
    }

    async fn delete(
        &self,
        engine: &Engine,
        candidates: Vec<&CollectionRecord>,
        arguments: &Value,
    ) -> Result<Value, ToolError> {
        let entity = self.entity()?;
        let id = arguments["document_id"].as_str().unwrap_or_default();
        for store in candidates {
            // Another entity's document is treated as absent: its existence is not ours to know.
            match engine.memory().delete_document(store, entity, id).await {
                Ok(()) => return Ok(json!({"document_id": id, "deleted": true})),
                Err(crate::EngineError::NotFound(_)) => {}
                Err(e) => return Err(service_failure(e)),
            }
        }
        Err(ToolError::InvalidArguments(format!(
            "no document `{id}` in this user's memory"
        )))
    }
}

/// The knowledge tools.
pub(crate) struct KnowledgeTools {
    pub inner: Arc<Inner>,
    pub project: ProjectId,
    pub bases: Vec<String>,
    pub query: bool,
}

pub(crate) fn knowledge_definition(query: bool) -> ToolDefinition {
    if query {
        ToolDefinition {
            name: "query_knowledge_base".into(),
            description: "Queries knowledge bases for information".into(),
            parameters: json!({"type": "object", "properties": {
                "query": {"type": "string", "description": "What to look for"},
                "knowledge_base": {"type": "string", "description": "The knowledge base's key (optional when the agent has one)"},
                "top_k": {"type": "integer", "minimum": 1, "maximum": 50}},
                "required": ["query"]}),
        }
    } else {
        ToolDefinition {
            name: "retrieve_knowledge_bases".into(),
            description: "Lists available knowledge bases".into(),
            parameters: json!({"type": "object", "properties": {}}),
        }
    }
}

#[async_trait]
impl ToolHandler for KnowledgeTools {
    async fn call(&self, arguments: Value, _ctx: &ToolContext<'_>) -> Result<Value, ToolError> {
        let bases = named_collections(
            &self.inner,
            &self.project,
            CollectionKind::Knowledge,
            &self.bases,
        )
        .await?;
        if !self.query {
            return Ok(json!({"knowledge_bases": summaries(&bases)}));
        }
        let named = arguments.get("knowledge_base").and_then(Value::as_str);
        let query = arguments["query"].as_str().unwrap_or_default().to_owned();
        let targets: Vec<&CollectionRecord> = match named {
            Some(_) => vec![pick(&bases, named, "knowledge base")?],
            None => bases.iter().collect(),
        };
        let engine = Engine {
            inner: self.inner.clone(),
        };
        let searches = targets.into_iter().map(|kb| {
            let settings = kb.spec.get("retrieval_settings");
            let top_k = arguments["top_k"]
                .as_u64()
                .or_else(|| settings.and_then(|s| s["top_k"].as_u64()))
                .unwrap_or(5)
                .clamp(1, 50) as usize;
            let threshold = settings
                .and_then(|s| s["threshold"].as_f64())
                .unwrap_or(0.0);
            let request = SearchRequest {
                query: query.clone(),
                top_k,
                threshold,
                mode: None,
                filter: None,
            };
            (kb, EntryFilter::of(EntryKind::Chunk), request)
        });
        let all = search_each(&engine, searches, 10).await?;
        Ok(json!({"matches": all.iter().map(|(kb, m)| json!({
            "knowledge_base": kb, "id": m.entry.id, "text": m.entry.text,
            "metadata": m.entry.metadata, "score": m.score})).collect::<Vec<_>>()}))
    }
}
