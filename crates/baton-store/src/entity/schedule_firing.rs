//! The `schedule_firings` table.

use sea_orm::entity::prelude::*;

/// A row of `schedule_firings`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "schedule_firings")]
pub struct Model {
    /// The schedule.
    #[sea_orm(primary_key, auto_increment = false)]
    pub schedule_id: String,
    /// Its generation.
    #[sea_orm(primary_key, auto_increment = false)]
    pub generation: i32,
    /// When it was due (Unix ms).
    #[sea_orm(primary_key, auto_increment = false)]
    pub due_ms: i64,
    /// A manual execution.
    #[sea_orm(primary_key, auto_increment = false)]
    pub manual: bool,
    /// When it fired (Unix ms).
    pub fired_ms: i64,
    /// The task it created.
    pub task_id: String,
}

/// No relations are navigated through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
