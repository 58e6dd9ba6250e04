//! The `spans` table.

use sea_orm::entity::prelude::*;

/// A row of `spans`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "spans")]
pub struct Model {
    /// Trace id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub trace_id: String,
    /// Span id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub span_id: String,
    /// Parent span.
    pub parent_span_id: Option<String>,
    /// Owning project.
    pub project_id: String,
    /// The task.
    pub task_id: String,
    /// The agent's key.
    pub agent_key: String,
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
    /// `ok` or `error`.
    pub status: String,
    /// Start (Unix ms).
    pub started_ms: i64,
    /// End (Unix ms).
    pub ended_ms: i64,
    /// Prompt tokens.
    pub prompt_tokens: i64,
    /// Completion tokens.
    pub completion_tokens: i64,
    /// Cost in USD.
    pub cost: f64,
    /// Attributes as JSON.
    #[sea_orm(column_type = "Text")]
    pub attributes: String,
}

/// No relations are navigated through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
