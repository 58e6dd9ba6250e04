//! The wire types of `/v2/knowledge`.

use baton_core::collection::EntryRecord;
use baton_engine::collections::CountedDatasource;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// A knowledge base's settings as stored.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct KnowledgeBaseSettings {
    #[serde(default)]
    pub embedding_model: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub retrieval_settings: Option<RetrievalSettings>,
}

/// A knowledge base as every answer shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[non_exhaustive]
pub struct KnowledgeBaseDto {
    /// The knowledge base's id (a ULID).
    #[serde(rename = "_id")]
    pub id: String,
    /// Unique key within the project.
    pub key: String,
    /// The owning project.
    pub domain_id: String,
    /// Always `internal`.
    #[serde(rename = "type")]
    pub kind: KnowledgeBaseKind,
    /// The embedding model of its chunks; empty for a keyword-only base.
    pub model: String,
    /// The embedding model, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedding_model: Option<String>,
    /// The folder it sits in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// What it holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Search defaults.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retrieval_settings: Option<RetrievalSettings>,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Last update time (RFC 3339).
    pub updated: String,
}

/// The `type` of a knowledge base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KnowledgeBaseKind {
    /// Chunks stored on this server.
    Internal,
}

/// A knowledge base's search defaults.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct RetrievalSettings {
    /// How to search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<SearchType>)]
    pub retrieval_type: Option<String>,
    /// Matches returned (1..100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 100)]
    pub top_k: Option<u64>,
    /// Lowest score returned (0..1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub threshold: Option<f64>,
    /// Other settings, kept as given.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The body of `POST /v2/knowledge`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct KnowledgeBaseCreate {
    /// Only `internal`.
    #[serde(default, rename = "type")]
    #[schema(value_type = Option<KnowledgeBaseKind>)]
    pub kind: Option<String>,
    /// Unique key within the project.
    pub key: String,
    /// `provider/model` to embed chunks with; without it search is by keywords.
    #[serde(default)]
    pub embedding_model: Option<String>,
    /// The folder it sits in.
    pub path: String,
    /// What it holds.
    #[serde(default)]
    pub description: Option<String>,
    /// Search defaults.
    #[serde(default)]
    #[schema(value_type = Option<RetrievalSettings>)]
    pub retrieval_settings: Option<Value>,
}

/// The body of `PATCH /v2/knowledge/{kb}`: the fields given replace the stored ones (the
/// embedding model cannot change).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct KnowledgeBaseUpdate {
    /// A new description.
    #[serde(default)]
    pub description: Option<String>,
    /// A new folder.
    #[serde(default)]
    pub path: Option<String>,
    /// New search defaults.
    #[serde(default)]
    #[schema(value_type = Option<RetrievalSettings>)]
    pub retrieval_settings: Option<Value>,
    /// Any other field: refused by the engine, naming it.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: Map<String, Value>,
}

/// A datasource of a knowledge base.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[non_exhaustive]
pub struct DatasourceDto {
    /// The datasource's id (a ULID).
    #[serde(rename = "_id")]
    pub id: String,
    /// Its name.
    pub display_name: String,
    /// What it holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The knowledge base's id.
    pub knowledge_id: String,
    /// How many chunks it has.
    pub chunks_count: u64,
    /// Always `completed`: text is chunked and embedded when it is added.
    pub status: ProcessingStatus,
    /// Free-form metadata.
    pub metadata: Map<String, Value>,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Last update time (RFC 3339).
    pub updated: String,
}

/// Where the processing of a datasource or chunk stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProcessingStatus {
    /// Done.
    Completed,
}

impl From<&CountedDatasource> for DatasourceDto {
    fn from(counted: &CountedDatasource) -> Self {
        let d = &counted.datasource;
        Self {
            id: d.id.clone(),
            display_name: d.text.clone(),
            description: d
                .extra
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
            knowledge_id: d.collection_id.clone(),
            chunks_count: counted.chunks,
            status: ProcessingStatus::Completed,
            metadata: d.metadata.clone(),
            created: d.created.clone(),
            updated: d.updated.clone(),
        }
    }
}

/// The body of `POST /v2/knowledge/{kb}/datasources`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct DatasourceCreate {
    /// Its name (default: the file id, or `text`).
    #[serde(default)]
    pub display_name: Option<String>,
    /// What it holds.
    #[serde(default)]
    pub description: Option<String>,
    /// Baton's extension: text split into chunks (about 1000 characters, 150 overlapping),
    /// embedded and searchable at once.
    #[serde(default)]
    pub text: Option<String>,
    /// Free-form metadata.
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    /// orq's uploaded file id (recorded; files are not fetched).
    #[serde(default)]
    pub file_id: Option<String>,
    /// Accepted for orq's SDK and ignored.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    #[allow(dead_code)] // read only to be accepted
    pub chunking_options: Option<Value>,
}

/// The body of `PATCH /v2/knowledge/{kb}/datasources/{ds}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct DatasourceUpdate {
    /// A new name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// A new description.
    #[serde(default)]
    pub description: Option<String>,
}

/// A chunk of a datasource.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[non_exhaustive]
pub struct ChunkDto {
    /// The chunk's id (a ULID).
    #[serde(rename = "_id")]
    pub id: String,
    /// Its text.
    pub text: String,
    /// Disabled chunks are not searched.
    pub enabled: bool,
    /// Always `completed`.
    pub status: ProcessingStatus,
    /// Free-form metadata.
    pub metadata: Map<String, Value>,
    /// The datasource's id.
    pub datasource_id: Option<String>,
    /// Creation time (RFC 3339).
    pub created: String,
    /// Last update time (RFC 3339).
    pub updated: String,
}

impl From<&EntryRecord> for ChunkDto {
    fn from(c: &EntryRecord) -> Self {
        Self {
            id: c.id.clone(),
            text: c.text.clone(),
            enabled: c.enabled,
            status: ProcessingStatus::Completed,
            metadata: c.metadata.clone(),
            datasource_id: c.parent_id.clone(),
            created: c.created.clone(),
            updated: c.updated.clone(),
        }
    }
}

/// One chunk of the body of `POST …/chunks` (a JSON array of them).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ChunkCreate {
    /// Its text.
    pub text: String,
    /// Its embedding; without one it is embedded with the knowledge base's model.
    #[serde(default)]
    pub embedding: Option<Vec<f32>>,
    /// Free-form metadata.
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    /// Accepted for orq's SDK and ignored: ids are minted by the server.
    #[serde(default, rename = "_id")]
    #[allow(dead_code)] // read only to be accepted
    pub id: Option<String>,
}

/// The body of `DELETE …/chunks`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ChunksDelete {
    /// The chunks to delete.
    pub chunk_ids: Vec<String>,
}

/// The answer to `DELETE …/chunks`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[non_exhaustive]
pub struct ChunksDeleted {
    /// How many chunks were deleted.
    pub deleted: u64,
}

/// The body of `PATCH …/chunks/{chunk}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ChunkUpdate {
    /// A new text (embedded again unless `embedding` is given).
    #[serde(default)]
    pub text: Option<String>,
    /// A new embedding.
    #[serde(default)]
    pub embedding: Option<Vec<f32>>,
    /// New metadata.
    #[serde(default)]
    pub metadata: Option<Map<String, Value>>,
    /// `false` hides the chunk from search.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// The body of `POST /v2/knowledge/{kb}/search`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct KnowledgeSearch {
    /// What to look for.
    pub query: String,
    /// Matches returned (1..100; default from the base's settings, else 5).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100, multiple_of = 1)]
    pub top_k: Option<f64>,
    /// Lowest score returned (0..1).
    #[serde(default)]
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub threshold: Option<f64>,
    /// How to search (default from the base's settings).
    #[serde(default)]
    #[schema(value_type = Option<SearchType>)]
    pub search_type: Option<String>,
    /// A metadata filter (`{"field": {"eq": value}}`, `$and`/`$or`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filter_by: Option<Value>,
    /// Which parts of each match to return.
    #[serde(default)]
    pub search_options: Option<SearchOptions>,
}

/// Which parts of a match to return.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct SearchOptions {
    /// The chunk's embedding (default false).
    #[serde(default)]
    pub include_vectors: bool,
    /// The chunk's metadata (default true).
    #[serde(default = "yes")]
    pub include_metadata: bool,
    /// The match's score (default true).
    #[serde(default = "yes")]
    pub include_scores: bool,
}

fn yes() -> bool {
    true
}

/// The answer to a search.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[non_exhaustive]
pub struct KnowledgeSearchResult {
    /// The best matches first.
    pub matches: Vec<SearchMatch>,
}

/// One match of a search.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[non_exhaustive]
pub struct SearchMatch {
    /// The chunk's id.
    pub id: String,
    /// The chunk's text.
    pub text: String,
    /// Its score, unless `include_scores` is false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scores: Option<MatchScores>,
    /// The chunk's metadata, unless `include_metadata` is false.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// The chunk's embedding, with `include_vectors` (when it has one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector: Option<Vec<f64>>,
}

/// The scores of a match.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MatchScores {
    /// Higher is better.
    pub search_score: f64,
}

/// How a knowledge base is searched (the engine reads these names; this type documents them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[allow(dead_code, clippy::enum_variant_names)] // a schema only, of the wire names
#[serde(rename_all = "snake_case")]
pub enum SearchType {
    /// By embedding similarity.
    VectorSearch,
    /// By keywords.
    KeywordSearch,
    /// Both, combined.
    HybridSearch,
}
