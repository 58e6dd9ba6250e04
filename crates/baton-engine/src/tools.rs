//! Stored tools as a service: creating, updating and deleting them, with secret header values
//! sealed before they are stored, and invoking one to test it. Ids and timestamps of tools are
//! minted here.

use crate::{json, Engine, EngineError};
use baton_core::id::{new_id, now_rfc3339};
use baton_core::store::{Page, PageRequest};
use baton_core::tool::{ToolRecord, ToolSpec};
use baton_core::ProjectId;
use serde_json::{Map, Value};

/// The tools stored for agents to reference.
#[derive(Clone, Copy)]
pub struct Tools<'a> {
    engine: &'a Engine,
}

impl Engine {
    /// The stored-tool service.
    pub fn tools(&self) -> Tools<'_> {
        Tools { engine: self }
    }
}

impl Tools<'_> {
    /// Checks, seals and stores a new tool.
    pub async fn create(
        &self,
        project: &ProjectId,
        mut spec: ToolSpec,
    ) -> Result<ToolRecord, EngineError> {
        spec.validate()?;
        spec.seal_secrets(self.engine.inner.cipher.as_ref(), None)?;
        let now = now_rfc3339();
        let tool = ToolRecord {
            id: new_id(),
            project_id: project.clone(),
            created: now.clone(),
            updated: now,
            spec,
        };
        self.engine.inner.store.create_tool(&tool).await?;
        Ok(tool)
    }

    /// The tool with this id or key.
    pub async fn get(&self, project: &ProjectId, id: &str) -> Result<ToolRecord, EngineError> {
        self.engine
            .inner
            .store
            .tool(project, id)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("tool `{id}` not found")))
    }

    /// A page of the project's tools, newest first.
    pub async fn list(
        &self,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<ToolRecord>, EngineError> {
        Ok(self.engine.inner.store.list_tools(project, page).await?)
    }

    /// Updates a tool: `fields`, in orq's tool JSON, replace the stored ones and `null` removes
    /// one. A secret header sent back masked keeps its stored value.
    pub async fn update(
        &self,
        project: &ProjectId,
        id: &str,
        fields: Map<String, Value>,
    ) -> Result<ToolRecord, EngineError> {
        let mut tool = self.get(project, id).await?;
        let mut merged = match serde_json::to_value(&tool.spec) {
            Ok(Value::Object(map)) => map,
            Ok(_) => Map::new(),
            Err(e) => return Err(EngineError::internal("encode tool", e)),
        };
        for (field, value) in fields {
            if value.is_null() {
                merged.remove(&field);
            } else {
                merged.insert(field, value);
            }
        }
        let mut spec: ToolSpec = json::parse(Value::Object(merged))?;
        spec.validate()?;
        spec.seal_secrets(self.engine.inner.cipher.as_ref(), Some(&tool.spec))?;
        tool.spec = spec;
        tool.updated = now_rfc3339();
        self.engine.inner.store.update_tool(&tool).await?;
        Ok(tool)
    }

    /// Deletes a tool; returns what was deleted.
    pub async fn delete(&self, project: &ProjectId, id: &str) -> Result<ToolRecord, EngineError> {
        let tool = self.get(project, id).await?;
        self.engine
            .inner
            .store
            .delete_tool(project, &tool.id)
            .await?;
        Ok(tool)
    }

    /// Runs a stored server-side tool once, as an agent would ([`Engine::invoke_tool`]).
    pub async fn invoke(
        &self,
        project: &ProjectId,
        id: &str,
        name: Option<&str>,
        arguments: Value,
        variables: &Map<String, Value>,
    ) -> Result<(ToolRecord, Result<Value, String>), EngineError> {
        let tool = self.get(project, id).await?;
        let outcome = self
            .engine
            .invoke_tool(&tool, name, arguments, variables)
            .await?;
        Ok((tool, outcome))
    }
}
