//! The `a2a_push_configs` table: the webhooks clients registered for a task's updates, their
//! token and credentials sealed.

use sea_orm::entity::prelude::*;

/// A row of `a2a_push_configs`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "a2a_push_configs")]
pub struct Model {
    /// The task whose updates are sent.
    #[sea_orm(primary_key, auto_increment = false)]
    pub task_id: String,
    /// The config's id within its task.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Owning project.
    pub project_id: String,
    /// The webhook.
    #[sea_orm(column_type = "Text")]
    pub url: String,
    /// The notification token, sealed.
    #[sea_orm(column_type = "Text", nullable)]
    pub token: Option<String>,
    /// The `Authorization` scheme.
    pub auth_scheme: Option<String>,
    /// The credentials sent with the scheme, sealed.
    #[sea_orm(column_type = "Text", nullable)]
    pub auth_credentials: Option<String>,
    /// Creation time.
    pub created: String,
}

/// No relations are navigated through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
