//! The `task_messages` table: a task's history, one row per message, only ever appended to.

use sea_orm::entity::prelude::*;

/// A row of `task_messages`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "task_messages")]
pub struct Model {
    /// The task.
    #[sea_orm(primary_key, auto_increment = false)]
    pub task_id: String,
    /// Position in the history, from 0.
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    /// The message (JSON).
    #[sea_orm(column_type = "Text")]
    pub data: String,
}

/// No relations are navigated through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
