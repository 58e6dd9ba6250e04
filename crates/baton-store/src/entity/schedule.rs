//! The `schedules` table.

use sea_orm::entity::prelude::*;

/// A row of `schedules`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "schedules")]
pub struct Model {
    /// ULID.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Owning project.
    pub project_id: String,
    /// The agent's id.
    pub agent_id: String,
    /// The agent's key.
    pub agent_key: String,
    /// The `ScheduleSpec` as JSON, secret variables sealed.
    #[sea_orm(column_type = "Text")]
    pub spec: String,
    /// Whether it fires.
    pub is_active: bool,
    /// Cadence generation.
    pub generation: i32,
    /// Firings in this generation.
    pub trigger_count: i64,
    /// Last firing.
    pub last_triggered_at: Option<String>,
    /// Next firing (Unix ms), `i64::MAX` when inactive.
    pub next_fire_at: i64,
    /// Start of the cadence (Unix ms).
    pub anchor_ms: i64,
    /// Creator's API key id.
    pub created_by_id: String,
    /// Last editor's API key id.
    pub updated_by_id: Option<String>,
    /// Creation time.
    pub created: String,
    /// Last update.
    pub updated: String,
}

/// No relations are navigated through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
