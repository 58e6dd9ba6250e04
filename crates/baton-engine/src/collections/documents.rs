//! The documents of an entity's memory: written, embedded, listed, changed and deleted.

use super::memory::Memories;
use super::scaffold::{new_entry, string_metadata};
use crate::EngineError;
use baton_core::collection::{CollectionRecord, EntryFilter, EntryKind, EntryRecord};
use baton_core::store::{Page, PageRequest};
use baton_core::validate;
use serde_json::{Map, Value};

/// Which documents of a memory to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DocumentQuery {
    /// Only documents updated strictly after this time (RFC 3339).
    pub updated_after: Option<String>,
    /// Only documents updated strictly before this time (RFC 3339).
    pub updated_before: Option<String>,
}

impl Memories<'_> {
    /// Adds a document to `entity`'s memory (created if needed), checking text and metadata.
    pub async fn add_document(
        &self,
        store: &CollectionRecord,
        entity: &str,
        text: &str,
        metadata: Option<Map<String, Value>>,
    ) -> Result<EntryRecord, EngineError> {
        validate::non_empty("text", text)?;
        let metadata = string_metadata("metadata", metadata)?;
        self.write_document(store, entity, text.trim().to_owned(), metadata)
            .await
    }

    /// Stores a document in `entity`'s memory, embedding it when the store has a model.
    pub async fn write_document(
        &self,
        store: &CollectionRecord,
        entity: &str,
        text: String,
        metadata: Map<String, Value>,
    ) -> Result<EntryRecord, EngineError> {
        let memory = self.get_or_create(store, entity).await?;
        let embedding = self.engine().embed_one(store, &text).await?;
        let mut doc = new_entry(
            store,
            EntryKind::Document,
            Some(memory.id),
            Some(entity.to_owned()),
            text,
        );
        doc.metadata = metadata;
        doc.embedding = embedding;
        self.engine()
            .inner
            .store
            .put_entries(std::slice::from_ref(&doc))
            .await?;
        Ok(doc)
    }

    /// A page of `entity`'s documents, newest first; the time bounds apply before paging.
    pub async fn list_documents(
        &self,
        store: &CollectionRecord,
        entity: &str,
        query: &DocumentQuery,
        page: &PageRequest,
    ) -> Result<Page<EntryRecord>, EngineError> {
        let memory = self.get(store, entity).await?;
        let filter = EntryFilter::of(EntryKind::Document)
            .under(&memory.id)
            .updated_between(
                query.updated_after.as_deref(),
                query.updated_before.as_deref(),
            );
        Ok(self
            .engine()
            .inner
            .store
            .list_entries(&store.project_id, &store.id, &filter, page)
            .await?)
    }

    /// One of `entity`'s documents; another entity's document is treated as absent.
    pub async fn document(
        &self,
        store: &CollectionRecord,
        entity: &str,
        id: &str,
    ) -> Result<EntryRecord, EngineError> {
        self.engine()
            .inner
            .store
            .entry(&store.project_id, &store.id, id)
            .await?
            .filter(|d| d.kind == EntryKind::Document && d.entity_id.as_deref() == Some(entity))
            .ok_or_else(|| {
                EngineError::NotFound(format!("document `{id}` not found for entity `{entity}`"))
            })
    }

    /// Changes a document's text (embedded again) or metadata.
    pub async fn update_document(
        &self,
        store: &CollectionRecord,
        entity: &str,
        id: &str,
        text: Option<&str>,
        metadata: Option<Map<String, Value>>,
    ) -> Result<EntryRecord, EngineError> {
        let mut doc = self.document(store, entity, id).await?;
        if let Some(text) = text.map(str::trim) {
            validate::non_empty("text", text)?;
            doc.embedding = self.engine().embed_one(store, text).await?;
            doc.text = text.to_owned();
        }
        if metadata.is_some() {
            doc.metadata = string_metadata("metadata", metadata)?;
        }
        self.stores().update_entry(doc).await
    }

    /// Deletes one of `entity`'s documents.
    pub async fn delete_document(
        &self,
        store: &CollectionRecord,
        entity: &str,
        id: &str,
    ) -> Result<(), EngineError> {
        let doc = self.document(store, entity, id).await?;
        self.stores().delete_entry(&doc).await
    }
}
