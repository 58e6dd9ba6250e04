//! Memory stores as a service: one memory per entity, and that memory's documents.

use super::scaffold::{new_entry, string_metadata, Collections};
use crate::{Engine, EngineError};
use baton_core::collection::{
    CollectionKind, CollectionRecord, EntryFilter, EntryKind, EntryRecord, MemoryStorePatch,
    MemoryStoreSpec,
};
use baton_core::store::{Page, PageRequest, StoreError};
use baton_core::{validate, ProjectId};
use serde_json::{Map, Value};

/// Memory stores, their memories and documents.
#[derive(Clone, Copy)]
pub struct Memories<'a> {
    engine: &'a Engine,
}

/// A memory with how many documents it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct CountedMemory {
    /// The memory.
    pub memory: EntryRecord,
    /// Its documents.
    pub documents: u64,
}

impl Engine {
    /// The memory-store service.
    pub fn memory(&self) -> Memories<'_> {
        Memories { engine: self }
    }
}

impl<'a> Memories<'a> {
    pub(crate) fn engine(&self) -> &'a Engine {
        self.engine
    }

    /// The store-level operations shared with knowledge bases (get, list, delete).
    pub fn stores(&self) -> Collections<'a> {
        self.engine.collections(CollectionKind::MemoryStore)
    }

    /// Creates a memory store; `Conflict` if the key is taken.
    pub async fn create_store(
        &self,
        project: &ProjectId,
        key: String,
        spec: MemoryStoreSpec,
    ) -> Result<CollectionRecord, EngineError> {
        validate::tool_key("key", &key)?;
        spec.validate()?;
        self.stores().create(project, key, spec.to_map()).await
    }

    /// Changes a memory store's description, ttl or path.
    pub async fn update_store(
        &self,
        project: &ProjectId,
        key: &str,
        patch: MemoryStorePatch,
    ) -> Result<CollectionRecord, EngineError> {
        let mut record = self.stores().get(project, key).await?;
        patch.apply(&mut record.spec)?;
        self.stores().update(record).await
    }

    /// Creates `entity`'s memory, with no documents yet; `Conflict` if it has one (the store's
    /// unique index decides).
    pub async fn create(
        &self,
        store: &CollectionRecord,
        entity: &str,
        metadata: Option<Map<String, Value>>,
    ) -> Result<CountedMemory, EngineError> {
        validate::non_empty("entity_id", entity)?;
        let mut memory = new_entry(
            store,
            EntryKind::Memory,
            None,
            Some(entity.to_owned()),
            String::new(),
        );
        memory.metadata = string_metadata("metadata", metadata)?;
        match self
            .engine
            .inner
            .store
            .put_entries(std::slice::from_ref(&memory))
            .await
        {
            Ok(()) => Ok(CountedMemory {
                memory,
                documents: 0,
            }),
            Err(StoreError::Conflict(_)) => Err(EngineError::Conflict(format!(
                "entity `{entity}` already has a memory in `{}`",
                store.key
            ))),
            Err(e) => Err(e.into()),
        }
    }

    async fn find(
        &self,
        store: &CollectionRecord,
        entity: &str,
    ) -> Result<Option<EntryRecord>, EngineError> {
        let one = PageRequest {
            limit: Some(1),
            ..Default::default()
        };
        let filter = EntryFilter::of(EntryKind::Memory).entity(entity);
        let page = self
            .engine
            .inner
            .store
            .list_entries(&store.project_id, &store.id, &filter, &one)
            .await?;
        Ok(page.items.into_iter().next())
    }

    /// `entity`'s memory; `NotFound` if it has none.
    pub async fn get(
        &self,
        store: &CollectionRecord,
        entity: &str,
    ) -> Result<EntryRecord, EngineError> {
        self.find(store, entity).await?.ok_or_else(|| {
            EngineError::NotFound(format!(
                "memory store `{}` has no memory for entity `{entity}`",
                store.key
            ))
        })
    }

    /// `entity`'s memory, created if it has none; concurrent callers get the same one.
    pub async fn get_or_create(
        &self,
        store: &CollectionRecord,
        entity: &str,
    ) -> Result<EntryRecord, EngineError> {
        if let Some(found) = self.find(store, entity).await? {
            return Ok(found);
        }
        match self.create(store, entity, None).await {
            Err(EngineError::Conflict(_)) => self.get(store, entity).await,
            other => other.map(|counted| counted.memory),
        }
    }

    /// `entity`'s memory with its document count.
    pub async fn get_counted(
        &self,
        store: &CollectionRecord,
        entity: &str,
    ) -> Result<CountedMemory, EngineError> {
        let memory = self.get(store, entity).await?;
        self.counted(store, memory).await
    }

    async fn counted(
        &self,
        store: &CollectionRecord,
        memory: EntryRecord,
    ) -> Result<CountedMemory, EngineError> {
        let counts = self
            .stores()
            .child_counts(store, EntryKind::Document, std::slice::from_ref(&memory))
            .await?;
        let documents = counts.get(&memory.id).copied().unwrap_or(0);
        Ok(CountedMemory { memory, documents })
    }

    /// A page of memories, newest first, of entities whose id contains `query` (ASCII case
    /// ignored); the filter runs before the page is cut.
    pub async fn list(
        &self,
        store: &CollectionRecord,
        query: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<CountedMemory>, EngineError> {
        let mut filter = EntryFilter::of(EntryKind::Memory);
        if let Some(q) = query {
            filter = filter.entity_containing(q);
        }
        let found = self
            .engine
            .inner
            .store
            .list_entries(&store.project_id, &store.id, &filter, page)
            .await?;
        let counts = self
            .stores()
            .child_counts(store, EntryKind::Document, &found.items)
            .await?;
        let items = found
            .items
            .into_iter()
            .map(|memory| CountedMemory {
                documents: counts.get(&memory.id).copied().unwrap_or(0),
                memory,
            })
            .collect();
        Ok(Page {
            items,
            has_more: found.has_more,
        })
    }

    /// Replaces `entity`'s memory metadata when given.
    pub async fn update(
        &self,
        store: &CollectionRecord,
        entity: &str,
        metadata: Option<Map<String, Value>>,
    ) -> Result<CountedMemory, EngineError> {
        let mut memory = self.get(store, entity).await?;
        if metadata.is_some() {
            memory.metadata = string_metadata("metadata", metadata)?;
        }
        let memory = self.stores().update_entry(memory).await?;
        self.counted(store, memory).await
    }

    /// Deletes `entity`'s memory and its documents.
    pub async fn delete(&self, store: &CollectionRecord, entity: &str) -> Result<(), EngineError> {
        let memory = self.get(store, entity).await?;
        self.stores().delete_entry(&memory).await
    }
}
