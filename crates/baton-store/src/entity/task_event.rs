//! The `task_events` table: a task's persisted stream events.

use sea_orm::entity::prelude::*;

/// A row of `task_events`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "task_events")]
pub struct Model {
    /// The task.
    #[sea_orm(primary_key, auto_increment = false)]
    pub task_id: String,
    /// Position in its stream.
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    /// The event (JSON).
    #[sea_orm(column_type = "Text")]
    pub data: String,
}

/// No relations are navigated through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
