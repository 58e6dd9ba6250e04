//! Collections and their entries in memory.

use super::{newest_first, MemoryStore};
use crate::page::page_sorted;
use async_trait::async_trait;
use baton_core::collection::{
    CollectionKind, CollectionRecord, CollectionStore, EntryFilter, EntryKind, EntryRecord,
};
use baton_core::store::{Page, PageRequest, StoreError};
use baton_core::ProjectId;
use std::collections::{HashMap, HashSet};

#[async_trait]
impl CollectionStore for MemoryStore {
    async fn create_collection(&self, c: &CollectionRecord) -> Result<(), StoreError> {
        let mut inner = self.write();
        if inner
            .collections
            .values()
            .any(|o| o.project_id == c.project_id && o.kind == c.kind && o.key == c.key)
        {
            return Err(StoreError::Conflict(format!("`{}` already exists", c.key)));
        }
        inner.collections.insert(c.id.clone(), c.clone());
        Ok(())
    }

    async fn collection(
        &self,
        project: &ProjectId,
        kind: CollectionKind,
        id_or_key: &str,
    ) -> Result<Option<CollectionRecord>, StoreError> {
        Ok(self
            .read()
            .collections
            .values()
            .find(|c| {
                &c.project_id == project
                    && c.kind == kind
                    && (c.id == id_or_key || c.key == id_or_key)
            })
            .cloned())
    }

    async fn list_collections(
        &self,
        project: &ProjectId,
        kind: CollectionKind,
        page: &PageRequest,
    ) -> Result<Page<CollectionRecord>, StoreError> {
        let items = newest_first(
            self.read()
                .collections
                .values()
                .filter(|c| &c.project_id == project && c.kind == kind)
                .cloned()
                .collect::<Vec<_>>()
                .into_iter(),
        );
        Ok(page_sorted(items, |c| c.id.as_str(), page))
    }

    async fn update_collection(&self, c: &CollectionRecord) -> Result<(), StoreError> {
        let mut inner = self.write();
        match inner.collections.get_mut(&c.id) {
            Some(old) if old.project_id == c.project_id => {
                old.spec = c.spec.clone();
                old.updated = c.updated.clone();
                Ok(())
            }
            _ => Err(StoreError::NotFound),
        }
    }

    async fn delete_collection(&self, project: &ProjectId, id: &str) -> Result<(), StoreError> {
        let mut inner = self.write();
        match inner.collections.get(id) {
            Some(c) if &c.project_id == project => {}
            _ => return Err(StoreError::NotFound),
        }
        inner.collections.remove(id);
        inner.entries.retain(|_, e| e.collection_id != id);
        Ok(())
    }

    async fn put_entries(&self, entries: &[EntryRecord]) -> Result<(), StoreError> {
        let mut inner = self.write();
        if entries.iter().any(|e| inner.entries.contains_key(&e.id)) {
            return Err(StoreError::Conflict(
                "an entry with this id already exists".into(),
            ));
        }
        // One memory per entity and collection, as the SQL stores' unique index holds it.
        let memory_key = |e: &EntryRecord| {
            (e.kind == EntryKind::Memory).then(|| (e.collection_id.clone(), e.entity_id.clone()))
        };
        let mut seen: HashSet<_> = inner.entries.values().filter_map(memory_key).collect();
        for key in entries.iter().filter_map(memory_key) {
            if !seen.insert(key) {
                return Err(StoreError::Conflict(
                    "this entity already has a memory".into(),
                ));
            }
        }
        for e in entries {
            inner.entries.insert(e.id.clone(), e.clone());
        }
        Ok(())
    }

    async fn update_entry(&self, e: &EntryRecord) -> Result<(), StoreError> {
        let mut inner = self.write();
        match inner.entries.get_mut(&e.id) {
            Some(old) if old.project_id == e.project_id && old.collection_id == e.collection_id => {
                *old = e.clone();
                Ok(())
            }
            _ => Err(StoreError::NotFound),
        }
    }

    async fn entry(
        &self,
        project: &ProjectId,
        collection_id: &str,
        id: &str,
    ) -> Result<Option<EntryRecord>, StoreError> {
        Ok(self
            .read()
            .entries
            .get(id)
            .filter(|e| &e.project_id == project && e.collection_id == collection_id)
            .cloned())
    }

    async fn list_entries(
        &self,
        project: &ProjectId,
        collection_id: &str,
        filter: &EntryFilter,
        page: &PageRequest,
    ) -> Result<Page<EntryRecord>, StoreError> {
        let items = newest_first(
            self.read()
                .entries
                .values()
                .filter(|e| {
                    &e.project_id == project
                        && e.collection_id == collection_id
                        && filter.accepts(e)
                })
                .cloned()
                .collect::<Vec<_>>()
                .into_iter(),
        );
        Ok(page_sorted(items, |e| e.id.as_str(), page))
    }

    async fn count_children(
        &self,
        project: &ProjectId,
        collection_id: &str,
        kind: EntryKind,
        parents: &[String],
    ) -> Result<HashMap<String, u64>, StoreError> {
        let mut counts = HashMap::new();
        for e in self.read().entries.values() {
            if &e.project_id == project && e.collection_id == collection_id && e.kind == kind {
                if let Some(parent) = e.parent_id.as_ref().filter(|p| parents.contains(p)) {
                    *counts.entry(parent.clone()).or_insert(0) += 1;
                }
            }
        }
        Ok(counts)
    }

    async fn delete_entries(
        &self,
        project: &ProjectId,
        collection_id: &str,
        ids: &[String],
    ) -> Result<u64, StoreError> {
        let mut inner = self.write();
        let mut removed = 0;
        inner.entries.retain(|id, e| {
            let hit =
                &e.project_id == project && e.collection_id == collection_id && ids.contains(id);
            if hit {
                removed += 1;
            }
            !hit
        });
        inner.entries.retain(|_, e| {
            !(&e.project_id == project
                && e.collection_id == collection_id
                && e.parent_id.as_ref().is_some_and(|p| ids.contains(p)))
        });
        Ok(removed)
    }
}
