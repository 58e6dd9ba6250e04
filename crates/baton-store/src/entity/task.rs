//! The `tasks` table: one row per task, its lease, and the engine's checkpoint document.

use sea_orm::entity::prelude::*;

/// A row of `tasks`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    /// ULID.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Owning project.
    pub project_id: String,
    /// The agent.
    pub agent_id: String,
    /// The agent's key.
    pub agent_key: String,
    /// The agent version the task runs.
    pub agent_version: i32,
    /// A2A state (kebab-case).
    pub state: String,
    /// Thread.
    pub thread_id: Option<String>,
    /// Claimable by workers.
    pub background: bool,
    /// Compare-and-swap counter.
    pub revision: i64,
    /// Lease holder.
    pub lease_owner: Option<String>,
    /// Lease end (Unix ms).
    pub lease_expires_at: Option<i64>,
    /// Cancel requested.
    pub cancel_requested: bool,
    /// Creation time.
    pub created: String,
    /// Last update.
    pub updated: String,
    /// The checkpoint (JSON, without the history).
    #[sea_orm(column_type = "Text")]
    pub data: String,
    /// How many rows of `task_messages` belong to the task's history.
    pub message_count: i64,
}

/// No relations are navigated through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
