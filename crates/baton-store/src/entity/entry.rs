//! The `entries` table: memories, documents, datasources and chunks.

use sea_orm::entity::prelude::*;

/// A row of `entries`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "entries")]
pub struct Model {
    /// ULID.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Owning project.
    pub project_id: String,
    /// The collection.
    pub collection_id: String,
    /// `memory`, `document`, `datasource` or `chunk`.
    pub kind: String,
    /// The memory of a document, the datasource of a chunk.
    pub parent_id: Option<String>,
    /// The entity of a memory and its documents.
    pub entity_id: Option<String>,
    /// Text.
    #[sea_orm(column_type = "Text")]
    pub text: String,
    /// Metadata as JSON.
    #[sea_orm(column_type = "Text")]
    pub metadata: String,
    /// Embedding as a JSON array.
    #[sea_orm(column_type = "Text", nullable)]
    pub embedding: Option<String>,
    /// Whether search sees it.
    pub enabled: bool,
    /// Other wire fields as JSON.
    #[sea_orm(column_type = "Text")]
    pub extra: String,
    /// Creation time.
    pub created: String,
    /// Last update.
    pub updated: String,
}

/// No relations are navigated through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
