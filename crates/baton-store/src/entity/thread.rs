//! The `threads` table: threads a client opened, with their title and assistant.

use sea_orm::entity::prelude::*;

/// A row of `threads`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "threads")]
pub struct Model {
    /// Lowercase ULID, the id runs name.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Owning project.
    pub project_id: String,
    /// Title.
    pub title: Option<String>,
    /// The agent key it is for.
    pub assistant_id: Option<String>,
    /// The end user who opened it.
    pub owner: Option<String>,
    /// Further metadata (JSON object).
    #[sea_orm(column_type = "Text")]
    pub metadata: String,
    /// Creation time.
    pub created: String,
    /// Last update.
    pub updated: String,
}

/// No relations are navigated through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
