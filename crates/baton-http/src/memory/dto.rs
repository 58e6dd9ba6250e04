//! The wire types of `/v2/memory-stores`.

use crate::error::ApiError;
use baton_core::collection::EntryRecord;
use baton_engine::collections::CountedMemory;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A memory store as every answer shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[non_exhaustive]
pub struct MemoryStoreDto {
    /// The store's id (a ULID).
    #[serde(rename = "_id")]
    pub id: String,
    /// Unique key within the project.
    pub key: String,
    /// What it holds.
    pub description: String,
    /// The embedding model of its documents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedding_config: Option<EmbeddingConfig>,
    /// The folder it sits in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// How long memories live, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<f64>,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Last update time (RFC 3339).
    pub updated: String,
}

/// A memory store's settings as stored.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct MemoryStoreSettings {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub embedding_config: Option<EmbeddingConfig>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub ttl: Option<f64>,
}

/// A memory store's embedding model.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingConfig {
    /// `provider/model`.
    pub model: String,
}

/// The body of `POST /v2/memory-stores`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MemoryStoreCreate {
    /// Unique key within the project.
    pub key: String,
    /// The embedding model of its documents.
    pub embedding_config: EmbeddingConfig,
    /// What it holds.
    pub description: String,
    /// The folder it sits in.
    #[serde(default)]
    pub path: Option<String>,
    /// How long memories live, in seconds (> 0).
    #[serde(default)]
    #[schema(exclusive_minimum = 0.0)]
    pub ttl: Option<f64>,
    /// Accepted for orq's SDK and ignored: a store belongs to the caller's project.
    #[serde(default)]
    #[allow(dead_code)] // read only to be accepted
    pub project_id: Option<String>,
}

/// The body of `PATCH /v2/memory-stores/{store}`: the fields given replace the stored ones.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MemoryStoreUpdate {
    /// A new description.
    #[serde(default)]
    pub description: Option<String>,
    /// A new ttl, in seconds (> 0).
    #[serde(default)]
    pub ttl: Option<f64>,
    /// A new folder.
    #[serde(default)]
    pub path: Option<String>,
    /// Accepted for orq's SDK and ignored.
    #[serde(default)]
    #[allow(dead_code)] // read only to be accepted
    pub project_id: Option<String>,
}

/// The memory of one entity (a user, a session…) in a store.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[non_exhaustive]
pub struct MemoryDto {
    /// The memory's id (a ULID).
    #[serde(rename = "_id")]
    pub id: String,
    /// The entity it belongs to.
    pub entity_id: Option<String>,
    /// The store's id.
    pub store_id: String,
    /// The owning project.
    pub workspace_id: String,
    /// How many documents it holds.
    pub documents_count: u64,
    /// Free-form metadata.
    pub metadata: Map<String, Value>,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Last update time (RFC 3339).
    pub updated: String,
}

impl From<&CountedMemory> for MemoryDto {
    fn from(counted: &CountedMemory) -> Self {
        let m = &counted.memory;
        Self {
            id: m.id.clone(),
            entity_id: m.entity_id.clone(),
            store_id: m.collection_id.clone(),
            workspace_id: m.project_id.0.clone(),
            documents_count: counted.documents,
            metadata: m.metadata.clone(),
            created: m.created.clone(),
            updated: m.updated.clone(),
        }
    }
}

/// The body of `POST /v2/memory-stores/{store}/memories`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MemoryCreate {
    /// The entity the memory belongs to.
    pub entity_id: String,
    /// Free-form metadata.
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
}

/// The body of `PATCH /v2/memory-stores/{store}/memories/{entity}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MemoryUpdate {
    /// New metadata, replacing the old.
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
}

/// A document of an entity's memory.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[non_exhaustive]
pub struct MemoryDocumentDto {
    /// The document's id (a ULID).
    #[serde(rename = "_id")]
    pub id: String,
    /// The memory's id.
    pub memory_id: Option<String>,
    /// The store's id.
    pub store_id: String,
    /// The text.
    pub text: String,
    /// The owning project.
    pub workspace_id: String,
    /// Free-form metadata.
    pub metadata: Map<String, Value>,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Last update time (RFC 3339).
    pub updated: String,
}

impl From<&EntryRecord> for MemoryDocumentDto {
    fn from(d: &EntryRecord) -> Self {
        Self {
            id: d.id.clone(),
            memory_id: d.parent_id.clone(),
            store_id: d.collection_id.clone(),
            text: d.text.clone(),
            workspace_id: d.project_id.0.clone(),
            metadata: d.metadata.clone(),
            created: d.created.clone(),
            updated: d.updated.clone(),
        }
    }
}

/// The body of `POST …/documents`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MemoryDocumentCreate {
    /// The text (embedded with the store's model).
    pub text: String,
    /// Free-form metadata.
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
}

/// The body of `PATCH …/documents/{document}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MemoryDocumentUpdate {
    /// A new text (embedded again).
    #[serde(default)]
    pub text: Option<String>,
    /// New metadata, replacing the old.
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
}

/// Infallible conversions in the shape [`crate::collections::page_of`] takes.
pub(crate) fn ok<T, D: for<'a> From<&'a T>>(item: &T) -> Result<D, ApiError> {
    Ok(D::from(item))
}
