//! The `agents` table: one row per agent, holding its live configuration.

use sea_orm::entity::prelude::*;

/// A row of `agents`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agents")]
pub struct Model {
    /// ULID.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Owning project.
    pub project_id: String,
    /// Unique key within the project.
    pub key: String,
    /// Lifecycle status.
    pub status: String,
    /// Live version number.
    pub version: i32,
    /// The version marked published, if any.
    pub published_version: Option<i32>,
    /// Creation time.
    pub created: String,
    /// Last update.
    pub updated: String,
    /// The live `AgentSpec` as JSON.
    #[sea_orm(column_type = "Text")]
    pub spec: String,
}

/// No relations are navigated through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
