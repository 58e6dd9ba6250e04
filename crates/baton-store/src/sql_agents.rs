//! Agents with their versions, and tools on SQL.

use crate::entity::{agent, agent_version, tool};
use crate::sql::{corrupt, paged, to_json, unavailable, write_error, SqlStore};
use async_trait::async_trait;
use baton_core::agent::{AgentRecord, AgentStatus, AgentVersion};
use baton_core::store::{AgentStore, Page, PageRequest, StoreError, ToolStore};
use baton_core::tool::{ToolRecord, ToolSpec};
use baton_core::ProjectId;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};

fn agent_record(m: agent::Model) -> Result<AgentRecord, StoreError> {
    let status: AgentStatus = serde_json::from_value(serde_json::Value::String(m.status))
        .map_err(|e| corrupt("agent status", e))?;
    Ok(AgentRecord {
        spec: serde_json::from_str(&m.spec).map_err(|e| corrupt("agent spec", e))?,
        id: m.id,
        project_id: ProjectId(m.project_id),
        status,
        version: u32::try_from(m.version)
            .map_err(|_| StoreError::Corrupt("agent version".into()))?,
        published_version: m
            .published_version
            .map(u32::try_from)
            .transpose()
            .map_err(|_| StoreError::Corrupt("agent published version".into()))?,
        created: m.created,
        updated: m.updated,
    })
}

fn agent_model(a: &AgentRecord) -> Result<agent::Model, StoreError> {
    let status = serde_json::to_value(a.status).map_err(|e| corrupt("status", e))?;
    Ok(agent::Model {
        id: a.id.clone(),
        project_id: a.project_id.0.clone(),
        key: a.spec.key.clone(),
        status: status.as_str().unwrap_or("live").to_owned(),
        version: a.version as i32,
        published_version: a.published_version.map(|v| v as i32),
        created: a.created.clone(),
        updated: a.updated.clone(),
        spec: to_json(&a.spec)?,
    })
}

fn version_record(m: agent_version::Model) -> Result<AgentVersion, StoreError> {
    Ok(AgentVersion {
        spec: serde_json::from_str(&m.spec).map_err(|e| corrupt("agent version spec", e))?,
        agent_id: m.agent_id,
        version: u32::try_from(m.version).map_err(|_| StoreError::Corrupt("version".into()))?,
        created: m.created,
        description: m.description,
    })
}

fn version_model(
    project: &ProjectId,
    v: &AgentVersion,
) -> Result<agent_version::Model, StoreError> {
    Ok(agent_version::Model {
        agent_id: v.agent_id.clone(),
        version: v.version as i32,
        project_id: project.0.clone(),
        created: v.created.clone(),
        description: v.description.clone(),
        spec: to_json(&v.spec)?,
    })
}

fn tool_record(m: tool::Model) -> Result<ToolRecord, StoreError> {
    let mut spec: ToolSpec = serde_json::from_str(&m.spec).map_err(|e| corrupt("tool spec", e))?;
    // Rows written before secrets were typed hold bare ciphertext.
    spec.adopt_legacy_secrets();
    Ok(ToolRecord {
        spec,
        id: m.id,
        project_id: ProjectId(m.project_id),
        created: m.created,
        updated: m.updated,
    })
}

fn tool_model(t: &ToolRecord) -> Result<tool::Model, StoreError> {
    if t.spec.has_unsealed_secrets() {
        return Err(StoreError::Corrupt(
            "a tool's secret header was not sealed before storing".into(),
        ));
    }
    Ok(tool::Model {
        id: t.id.clone(),
        project_id: t.project_id.0.clone(),
        key: t.spec.key.clone(),
        created: t.created.clone(),
        updated: t.updated.clone(),
        spec: to_json(&t.spec)?,
    })
}

#[async_trait]
impl AgentStore for SqlStore {
    async fn create_agent(&self, a: &AgentRecord, first: &AgentVersion) -> Result<(), StoreError> {
        let row = agent_model(a)?.into_active_model();
        let version = version_model(&a.project_id, first)?.into_active_model();
        let txn = self.connection().begin().await.map_err(unavailable)?;
        agent::Entity::insert(row)
            .exec_without_returning(&txn)
            .await
            .map_err(|e| {
                write_error(
                    e,
                    &format!("an agent with key `{}` already exists", a.spec.key),
                )
            })?;
        agent_version::Entity::insert(version)
            .exec_without_returning(&txn)
            .await
            .map_err(unavailable)?;
        txn.commit().await.map_err(unavailable)
    }

    async fn agent_by_key(
        &self,
        project: &ProjectId,
        key: &str,
    ) -> Result<Option<AgentRecord>, StoreError> {
        agent::Entity::find()
            .filter(agent::Column::ProjectId.eq(project.as_str()))
            .filter(agent::Column::Key.eq(key))
            .one(self.connection())
            .await
            .map_err(unavailable)?
            .map(agent_record)
            .transpose()
    }

    async fn agent_version(
        &self,
        project: &ProjectId,
        agent_id: &str,
        version: u32,
    ) -> Result<Option<AgentVersion>, StoreError> {
        agent_version::Entity::find()
            .filter(agent_version::Column::ProjectId.eq(project.as_str()))
            .filter(agent_version::Column::AgentId.eq(agent_id))
            .filter(agent_version::Column::Version.eq(version as i32))
            .one(self.connection())
            .await
            .map_err(unavailable)?
            .map(version_record)
            .transpose()
    }

    async fn agent_versions(
        &self,
        project: &ProjectId,
        agent_id: &str,
    ) -> Result<Vec<AgentVersion>, StoreError> {
        agent_version::Entity::find()
            .filter(agent_version::Column::ProjectId.eq(project.as_str()))
            .filter(agent_version::Column::AgentId.eq(agent_id))
            .order_by_desc(agent_version::Column::Version)
            .all(self.connection())
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(version_record)
            .collect()
    }

    async fn list_agents(
        &self,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<AgentRecord>, StoreError> {
        let select = agent::Entity::find().filter(agent::Column::ProjectId.eq(project.as_str()));
        let rows = paged(self.connection(), select, agent::Column::Id, page).await?;
        Ok(Page {
            items: rows
                .items
                .into_iter()
                .map(agent_record)
                .collect::<Result<_, _>>()?,
            has_more: rows.has_more,
        })
    }

    async fn update_agent(
        &self,
        a: &AgentRecord,
        expected_version: u32,
        new_version: Option<&AgentVersion>,
    ) -> Result<(), StoreError> {
        let row = agent_model(a)?;
        let txn = self.connection().begin().await.map_err(unavailable)?;
        let conflict = format!("an agent with key `{}` already exists", a.spec.key);
        let result = agent::Entity::update_many()
            .col_expr(agent::Column::Key, Expr::value(row.key))
            .col_expr(agent::Column::Status, Expr::value(row.status))
            .col_expr(agent::Column::Version, Expr::value(row.version))
            .col_expr(agent::Column::Updated, Expr::value(row.updated))
            .col_expr(agent::Column::Spec, Expr::value(row.spec))
            .filter(agent::Column::Id.eq(a.id.as_str()))
            .filter(agent::Column::ProjectId.eq(a.project_id.as_str()))
            .filter(agent::Column::Version.eq(expected_version as i32))
            .exec(&txn)
            .await
            .map_err(|e| write_error(e, &conflict))?;
        if result.rows_affected == 0 {
            let exists = agent::Entity::find()
                .filter(agent::Column::Id.eq(a.id.as_str()))
                .filter(agent::Column::ProjectId.eq(a.project_id.as_str()))
                .count(&txn)
                .await
                .map_err(unavailable)?;
            return Err(if exists == 0 {
                StoreError::NotFound
            } else {
                StoreError::Conflict("the agent was changed concurrently; retry".into())
            });
        }
        if let Some(v) = new_version {
            agent_version::Entity::insert(version_model(&a.project_id, v)?.into_active_model())
                .exec_without_returning(&txn)
                .await
                .map_err(|e| write_error(e, "that version already exists"))?;
        }
        txn.commit().await.map_err(unavailable)
    }

    async fn publish_agent_version(
        &self,
        project: &ProjectId,
        agent_id: &str,
        version: u32,
    ) -> Result<(), StoreError> {
        // Versions go only with their agent, so one seen here stays until the mark is set.
        let version_exists = agent_version::Entity::find()
            .filter(agent_version::Column::ProjectId.eq(project.as_str()))
            .filter(agent_version::Column::AgentId.eq(agent_id))
            .filter(agent_version::Column::Version.eq(version as i32))
            .count(self.connection())
            .await
            .map_err(unavailable)?;
        if version_exists == 0 {
            return Err(StoreError::NotFound);
        }
        let result = agent::Entity::update_many()
            .col_expr(
                agent::Column::PublishedVersion,
                Expr::value(Some(version as i32)),
            )
            .filter(agent::Column::Id.eq(agent_id))
            .filter(agent::Column::ProjectId.eq(project.as_str()))
            .exec(self.connection())
            .await
            .map_err(unavailable)?;
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn delete_agent(&self, project: &ProjectId, agent_id: &str) -> Result<(), StoreError> {
        let txn = self.connection().begin().await.map_err(unavailable)?;
        let deleted = agent::Entity::delete_many()
            .filter(agent::Column::Id.eq(agent_id))
            .filter(agent::Column::ProjectId.eq(project.as_str()))
            .exec(&txn)
            .await
            .map_err(unavailable)?;
        if deleted.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        agent_version::Entity::delete_many()
            .filter(agent_version::Column::AgentId.eq(agent_id))
            .filter(agent_version::Column::ProjectId.eq(project.as_str()))
            .exec(&txn)
            .await
            .map_err(unavailable)?;
        txn.commit().await.map_err(unavailable)
    }
}

#[async_trait]
impl ToolStore for SqlStore {
    async fn create_tool(&self, t: &ToolRecord) -> Result<(), StoreError> {
        tool::Entity::insert(tool_model(t)?.into_active_model())
            .exec_without_returning(self.connection())
            .await
            .map_err(|e| {
                write_error(
                    e,
                    &format!("a tool with key `{}` already exists", t.spec.key),
                )
            })?;
        Ok(())
    }

    async fn tool(
        &self,
        project: &ProjectId,
        id_or_key: &str,
    ) -> Result<Option<ToolRecord>, StoreError> {
        tool::Entity::find()
            .filter(tool::Column::ProjectId.eq(project.as_str()))
            .filter(
                tool::Column::Id
                    .eq(id_or_key)
                    .or(tool::Column::Key.eq(id_or_key)),
            )
            .one(self.connection())
            .await
            .map_err(unavailable)?
            .map(tool_record)
            .transpose()
    }

    async fn list_tools(
        &self,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<ToolRecord>, StoreError> {
        let select = tool::Entity::find().filter(tool::Column::ProjectId.eq(project.as_str()));
        let rows = paged(self.connection(), select, tool::Column::Id, page).await?;
        Ok(Page {
            items: rows
                .items
                .into_iter()
                .map(tool_record)
                .collect::<Result<_, _>>()?,
            has_more: rows.has_more,
        })
    }

    async fn update_tool(&self, t: &ToolRecord) -> Result<(), StoreError> {
        let row = tool_model(t)?;
        let result = tool::Entity::update_many()
            .col_expr(tool::Column::Key, Expr::value(row.key))
            .col_expr(tool::Column::Updated, Expr::value(row.updated))
            .col_expr(tool::Column::Spec, Expr::value(row.spec))
            .filter(tool::Column::Id.eq(t.id.as_str()))
            .filter(tool::Column::ProjectId.eq(t.project_id.as_str()))
            .exec(self.connection())
            .await
            .map_err(|e| {
                write_error(
                    e,
                    &format!("a tool with key `{}` already exists", t.spec.key),
                )
            })?;
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn delete_tool(&self, project: &ProjectId, id: &str) -> Result<(), StoreError> {
        let deleted = tool::Entity::delete_many()
            .filter(tool::Column::Id.eq(id))
            .filter(tool::Column::ProjectId.eq(project.as_str()))
            .exec(self.connection())
            .await
            .map_err(unavailable)?;
        if deleted.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
