//! The `collections` table: memory stores and knowledge bases.

use sea_orm::entity::prelude::*;

/// A row of `collections`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "collections")]
pub struct Model {
    /// ULID.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Owning project.
    pub project_id: String,
    /// `memory_store` or `knowledge`.
    pub kind: String,
    /// Unique key within the project and kind.
    pub key: String,
    /// Settings as JSON.
    #[sea_orm(column_type = "Text")]
    pub spec: String,
    /// Creation time.
    pub created: String,
    /// Last update.
    pub updated: String,
}

/// No relations are navigated through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
