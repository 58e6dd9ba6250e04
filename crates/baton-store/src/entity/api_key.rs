//! The `api_keys` table: hashes of API keys, never the keys.

use sea_orm::entity::prelude::*;

/// A row of `api_keys`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    /// ULID.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The project the key acts for.
    pub project_id: String,
    /// Label.
    pub name: String,
    /// Hex SHA-256 of the key.
    #[sea_orm(unique)]
    pub hash: String,
    /// First characters of the key.
    pub prefix: String,
    /// Creation time.
    pub created: String,
    /// Administers the server (kept equal to `scope == "admin"` for older readers).
    pub admin: bool,
    /// `admin`, `project` or `run`.
    pub scope: String,
}

/// No relations are navigated through sea-orm.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
