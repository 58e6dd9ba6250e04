//! The `agent_versions` table: immutable snapshots of agent configurations.

use sea_orm::entity::prelude::*;

/// A row of `agent_versions`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agent_versions")]
pub struct Model {
    /// The agent.
    #[sea_orm(primary_key, auto_increment = false)]
    pub agent_id: String,
    /// Version number.
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i32,
    /// Owning project.
    pub project_id: String,
    /// Creation time.
    pub created: String,
    /// Note given with the update.
    pub description: Option<String>,
    /// The `AgentSpec` as JSON.
    #[sea_orm(column_type = "Text")]
    pub spec: String,
}

/// No relations are navigated through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
