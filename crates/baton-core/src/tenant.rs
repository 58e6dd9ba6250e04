//! Tenancy: every stored row belongs to a project.

use serde::{Deserialize, Serialize};

/// The id of a project (tenant). Every stored object carries one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProjectId(pub String);

impl ProjectId {
    /// The project a fresh server puts its bootstrap key and objects in.
    pub fn default_project() -> Self {
        Self("default".to_owned())
    }

    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ProjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
