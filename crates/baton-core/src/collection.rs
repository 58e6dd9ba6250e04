//! Memory stores and knowledge bases: named collections of text entries an agent searches.
//!
//! Both are stored the same way: a [`CollectionRecord`] (a memory store or a knowledge base)
//! holds [`EntryRecord`]s — for a memory store, one `memory` per entity and that entity's
//! `document`s; for a knowledge base, `datasource`s and their `chunk`s. Entries carry text,
//! metadata and, when the collection names an embedding model, an embedding.

use crate::error::ValidationError;
use crate::store::{Page, PageRequest, StoreError};
use crate::tenant::ProjectId;
use async_trait::async_trait;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// What a collection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CollectionKind {
    /// A memory store (`/v2/memory-stores`).
    MemoryStore,
    /// A knowledge base (`/v2/knowledge`).
    Knowledge,
}

impl CollectionKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MemoryStore => "memory_store",
            Self::Knowledge => "knowledge",
        }
    }
}

/// A stored memory store or knowledge base.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionRecord {
    /// ULID.
    pub id: String,
    /// Owning project.
    pub project_id: ProjectId,
    /// What it is.
    pub kind: CollectionKind,
    /// Unique key within the project and kind.
    pub key: String,
    /// Its settings as the wire gave them (description, path, embedding model, retrieval).
    pub spec: Map<String, Value>,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Last update (RFC 3339).
    pub updated: String,
}

/// The settings of a memory store.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryStoreSpec {
    /// What it holds.
    pub description: String,
    /// The embedding model, `provider/model`.
    pub embedding_model: String,
    /// The folder it sits in.
    pub path: Option<String>,
    /// How long memories live, in seconds.
    pub ttl: Option<f64>,
}

impl MemoryStoreSpec {
    /// Checks the model name and the ttl.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if crate::agent::ModelConfig::named(&self.embedding_model)
            .provider_and_model()
            .is_none()
        {
            return Err(ValidationError::new(
                "embedding_config.model",
                "must be named `provider/model`",
            ));
        }
        positive_ttl(self.ttl)
    }

    /// The stored settings, in the shape the wire shows them.
    pub fn to_map(&self) -> Map<String, Value> {
        let mut spec = Map::new();
        spec.insert("description".into(), self.description.clone().into());
        let model = Value::from(self.embedding_model.clone());
        spec.insert(
            "embedding_config".into(),
            Value::Object(Map::from_iter([("model".to_owned(), model)])),
        );
        if let Some(path) = &self.path {
            spec.insert("path".into(), path.clone().into());
        }
        if let Some(ttl) = self.ttl {
            spec.insert("ttl".into(), ttl.into());
        }
        spec
    }
}

/// A change to a memory store's settings: the fields given replace the stored ones.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryStorePatch {
    /// A new description.
    pub description: Option<String>,
    /// A new ttl, in seconds.
    pub ttl: Option<f64>,
    /// A new folder.
    pub path: Option<String>,
}

impl MemoryStorePatch {
    /// Checks the patch and applies it to stored settings.
    pub fn apply(self, spec: &mut Map<String, Value>) -> Result<(), ValidationError> {
        positive_ttl(self.ttl)?;
        if let Some(d) = self.description {
            spec.insert("description".into(), d.into());
        }
        if let Some(t) = self.ttl {
            spec.insert("ttl".into(), t.into());
        }
        if let Some(p) = self.path {
            spec.insert("path".into(), p.into());
        }
        Ok(())
    }
}

fn positive_ttl(ttl: Option<f64>) -> Result<(), ValidationError> {
    match ttl {
        Some(t) if t <= 0.0 || t.is_nan() => Err(ValidationError::new("ttl", "must be positive")),
        _ => Ok(()),
    }
}

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// One entity's memory in a memory store.
    Memory,
    /// A document of a memory.
    Document,
    /// A datasource of a knowledge base.
    Datasource,
    /// A chunk of a datasource.
    Chunk,
}

impl EntryKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::Document => "document",
            Self::Datasource => "datasource",
            Self::Chunk => "chunk",
        }
    }

    /// The kind with this stored name.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Memory, Self::Document, Self::Datasource, Self::Chunk]
            .into_iter()
            .find(|k| k.as_str() == name)
    }
}

/// An entry of a collection.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryRecord {
    /// ULID.
    pub id: String,
    /// Owning project.
    pub project_id: ProjectId,
    /// The collection.
    pub collection_id: String,
    /// What it is.
    pub kind: EntryKind,
    /// The memory of a document, the datasource of a chunk.
    pub parent_id: Option<String>,
    /// The entity a memory (and its documents) belongs to.
    pub entity_id: Option<String>,
    /// Text (documents, chunks; a datasource's display name).
    pub text: String,
    /// Metadata.
    pub metadata: Map<String, Value>,
    /// Embedding, when the collection has an embedding model.
    pub embedding: Option<Vec<f32>>,
    /// Disabled chunks are not searched.
    pub enabled: bool,
    /// Other wire fields (a datasource's description, status, …).
    pub extra: Map<String, Value>,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Last update (RFC 3339).
    pub updated: String,
}

/// Which entries of a collection a query wants.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntryFilter {
    /// Only this kind.
    pub kind: Option<EntryKind>,
    /// Only children of this entry.
    pub parent_id: Option<String>,
    /// Only this entity's.
    pub entity_id: Option<String>,
    /// Only entries whose entity id contains this text, ignoring ASCII case.
    pub entity_contains: Option<String>,
    /// Only entries updated strictly after this time (RFC 3339).
    pub updated_after: Option<String>,
    /// Only entries updated strictly before this time (RFC 3339).
    pub updated_before: Option<String>,
}

impl EntryFilter {
    /// Entries of one kind.
    pub fn of(kind: EntryKind) -> Self {
        Self {
            kind: Some(kind),
            ..Self::default()
        }
    }

    /// Narrows to the children of `parent`.
    pub fn under(mut self, parent: &str) -> Self {
        self.parent_id = Some(parent.to_owned());
        self
    }

    /// Narrows to one entity.
    pub fn entity(mut self, entity: &str) -> Self {
        self.entity_id = Some(entity.to_owned());
        self
    }

    /// Narrows to entity ids containing `needle`, ignoring ASCII case.
    pub fn entity_containing(mut self, needle: &str) -> Self {
        self.entity_contains = Some(needle.to_owned());
        self
    }

    /// Narrows to entries updated strictly between the bounds given.
    pub fn updated_between(mut self, after: Option<&str>, before: Option<&str>) -> Self {
        self.updated_after = after.map(str::to_owned);
        self.updated_before = before.map(str::to_owned);
        self
    }

    /// Whether an entry passes.
    pub fn accepts(&self, e: &EntryRecord) -> bool {
        let contains = |needle: &str| {
            e.entity_id.as_deref().is_some_and(|id| {
                id.to_ascii_lowercase()
                    .contains(&needle.to_ascii_lowercase())
            })
        };
        self.kind.is_none_or(|k| k == e.kind)
            && self.entity_contains.as_deref().is_none_or(contains)
            && self
                .updated_after
                .as_deref()
                .is_none_or(|a| e.updated.as_str() > a)
            && self
                .updated_before
                .as_deref()
                .is_none_or(|b| e.updated.as_str() < b)
            && self
                .parent_id
                .as_deref()
                .is_none_or(|p| e.parent_id.as_deref() == Some(p))
            && self
                .entity_id
                .as_deref()
                .is_none_or(|p| e.entity_id.as_deref() == Some(p))
    }
}

/// Memory stores and knowledge bases with their entries.
#[async_trait]
pub trait CollectionStore: Send + Sync {
    /// Stores a new collection; `Conflict` if its key is taken for its kind.
    async fn create_collection(&self, c: &CollectionRecord) -> Result<(), StoreError>;

    /// A collection of `kind` by id or key.
    async fn collection(
        &self,
        project: &ProjectId,
        kind: CollectionKind,
        id_or_key: &str,
    ) -> Result<Option<CollectionRecord>, StoreError>;

    /// Collections of `kind`, newest first.
    async fn list_collections(
        &self,
        project: &ProjectId,
        kind: CollectionKind,
        page: &PageRequest,
    ) -> Result<Page<CollectionRecord>, StoreError>;

    /// Replaces a collection's settings; `NotFound` if absent.
    async fn update_collection(&self, c: &CollectionRecord) -> Result<(), StoreError>;

    /// Deletes a collection and every entry in it; `NotFound` if absent.
    async fn delete_collection(&self, project: &ProjectId, id: &str) -> Result<(), StoreError>;

    /// Stores new entries, all or none; `Conflict` if an id is taken or an entity would get a
    /// second memory in a collection.
    async fn put_entries(&self, entries: &[EntryRecord]) -> Result<(), StoreError>;

    /// Replaces an entry; `NotFound` if absent.
    async fn update_entry(&self, e: &EntryRecord) -> Result<(), StoreError>;

    /// One entry of a collection.
    async fn entry(
        &self,
        project: &ProjectId,
        collection_id: &str,
        id: &str,
    ) -> Result<Option<EntryRecord>, StoreError>;

    /// Entries of a collection, newest first.
    async fn list_entries(
        &self,
        project: &ProjectId,
        collection_id: &str,
        filter: &EntryFilter,
        page: &PageRequest,
    ) -> Result<Page<EntryRecord>, StoreError>;

    /// How many entries of `kind` sit under each of `parents`; parents without any are absent.
    async fn count_children(
        &self,
        project: &ProjectId,
        collection_id: &str,
        kind: EntryKind,
        parents: &[String],
    ) -> Result<HashMap<String, u64>, StoreError>;

    /// Deletes entries (and the entries under them) by id; returns how many were deleted.
    async fn delete_entries(
        &self,
        project: &ProjectId,
        collection_id: &str,
        ids: &[String],
    ) -> Result<u64, StoreError>;
}
