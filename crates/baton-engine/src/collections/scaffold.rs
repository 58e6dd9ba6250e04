//! What memory stores and knowledge bases share: finding, creating, listing, updating and
//! deleting collections, minting entries, and counting an entry's children in the store.
//! Ids and timestamps of collections and entries are minted here and nowhere else.

use crate::{Engine, EngineError};
use baton_core::collection::{CollectionKind, CollectionRecord, EntryKind, EntryRecord};
use baton_core::id::{new_id, now_rfc3339};
use baton_core::store::{Page, PageRequest, StoreError};
use baton_core::{validate, ProjectId};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The collections of one kind, as a service.
#[derive(Clone, Copy)]
pub struct Collections<'a> {
    pub(crate) engine: &'a Engine,
    pub(crate) kind: CollectionKind,
}

fn noun(kind: CollectionKind) -> &'static str {
    match kind {
        CollectionKind::MemoryStore => "memory store",
        CollectionKind::Knowledge => "knowledge base",
    }
}

impl Engine {
    /// The service over memory stores or knowledge bases.
    pub fn collections(&self, kind: CollectionKind) -> Collections<'_> {
        Collections { engine: self, kind }
    }
}

impl Collections<'_> {
    /// A collection by key or id; `NotFound` naming it.
    pub async fn get(
        &self,
        project: &ProjectId,
        key: &str,
    ) -> Result<CollectionRecord, EngineError> {
        self.engine
            .inner
            .store
            .collection(project, self.kind, key)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("{} `{key}` not found", noun(self.kind))))
    }

    /// Creates a collection with a valid key and the given settings; `Conflict` if the key is taken.
    pub async fn create(
        &self,
        project: &ProjectId,
        key: String,
        spec: Map<String, Value>,
    ) -> Result<CollectionRecord, EngineError> {
        validate::tool_key("key", &key)?;
        let now = now_rfc3339();
        let record = CollectionRecord {
            id: new_id(),
            project_id: project.clone(),
            kind: self.kind,
            key,
            spec,
            created: now.clone(),
            updated: now,
        };
        self.engine.inner.store.create_collection(&record).await?;
        Ok(record)
    }

    /// A page of collections, newest first.
    pub async fn list(
        &self,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<CollectionRecord>, EngineError> {
        Ok(self
            .engine
            .inner
            .store
            .list_collections(project, self.kind, page)
            .await?)
    }

    /// Stores changed settings, stamping the update time.
    pub async fn update(
        &self,
        mut record: CollectionRecord,
    ) -> Result<CollectionRecord, EngineError> {
        record.updated = now_rfc3339();
        self.engine.inner.store.update_collection(&record).await?;
        Ok(record)
    }

    /// Deletes a collection by key or id, with every entry in it.
    pub async fn delete(&self, project: &ProjectId, key: &str) -> Result<(), EngineError> {
        let record = self.get(project, key).await?;
        match self
            .engine
            .inner
            .store
            .delete_collection(project, &record.id)
            .await
        {
            // Deleted meanwhile by another request: the outcome the caller wanted.
            Ok(()) | Err(StoreError::NotFound) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// How many children of `kind` each entry has, counted by the store.
    pub async fn child_counts(
        &self,
        collection: &CollectionRecord,
        kind: EntryKind,
        parents: &[EntryRecord],
    ) -> Result<HashMap<String, u64>, EngineError> {
        let ids: Vec<String> = parents.iter().map(|p| p.id.clone()).collect();
        Ok(self
            .engine
            .inner
            .store
            .count_children(&collection.project_id, &collection.id, kind, &ids)
            .await?)
    }

    /// Stores a changed entry, stamping the update time.
    pub async fn update_entry(&self, mut entry: EntryRecord) -> Result<EntryRecord, EngineError> {
        entry.updated = now_rfc3339();
        self.engine.inner.store.update_entry(&entry).await?;
        Ok(entry)
    }

    /// Deletes one entry and the entries under it.
    pub async fn delete_entry(&self, entry: &EntryRecord) -> Result<(), EngineError> {
        self.engine
            .inner
            .store
            .delete_entries(
                &entry.project_id,
                &entry.collection_id,
                std::slice::from_ref(&entry.id),
            )
            .await?;
        Ok(())
    }
}

/// A new entry of `collection`, with a fresh id and the current time.
pub(crate) fn new_entry(
    collection: &CollectionRecord,
    kind: EntryKind,
    parent_id: Option<String>,
    entity_id: Option<String>,
    text: String,
) -> EntryRecord {
    let now = now_rfc3339();
    EntryRecord {
        id: new_id(),
        project_id: collection.project_id.clone(),
        collection_id: collection.id.clone(),
        kind,
        parent_id,
        entity_id,
        text,
        metadata: Map::new(),
        embedding: None,
        enabled: true,
        extra: Map::new(),
        created: now.clone(),
        updated: now,
    }
}

/// Checks that every metadata value is a string, naming the first that is not.
pub fn string_metadata(
    field: &str,
    value: Option<Map<String, Value>>,
) -> Result<Map<String, Value>, EngineError> {
    let map = value.unwrap_or_default();
    match map.iter().find(|(_, v)| !v.is_string()) {
        Some((k, _)) => Err(EngineError::Invalid {
            field: format!("{field}.{k}"),
            message: "metadata values must be strings".into(),
        }),
        None => Ok(map),
    }
}
