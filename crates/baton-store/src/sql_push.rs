//! Push-notification configs on SQL.

use crate::entity::push_config;
use crate::sql::{unavailable, write_error, SqlStore};
use async_trait::async_trait;
use baton_core::push::{PushConfigRecord, PushConfigStore};
use baton_core::store::StoreError;
use baton_core::ProjectId;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};

fn record(m: push_config::Model) -> PushConfigRecord {
    PushConfigRecord {
        id: m.id,
        project_id: ProjectId(m.project_id),
        task_id: m.task_id,
        url: m.url,
        token: m.token,
        auth_scheme: m.auth_scheme,
        auth_credentials: m.auth_credentials,
        created: m.created,
    }
}

#[async_trait]
impl PushConfigStore for SqlStore {
    async fn put_push_config(&self, c: &PushConfigRecord) -> Result<(), StoreError> {
        use push_config::Column;
        let row = push_config::Model {
            task_id: c.task_id.clone(),
            id: c.id.clone(),
            project_id: c.project_id.0.clone(),
            url: c.url.clone(),
            token: c.token.clone(),
            auth_scheme: c.auth_scheme.clone(),
            auth_credentials: c.auth_credentials.clone(),
            created: c.created.clone(),
        };
        push_config::Entity::insert(row.into_active_model())
            .on_conflict(
                OnConflict::columns([Column::TaskId, Column::Id])
                    .update_columns([
                        Column::Url,
                        Column::Token,
                        Column::AuthScheme,
                        Column::AuthCredentials,
                        Column::Created,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(self.connection())
            .await
            .map_err(|e| write_error(e, "push notification config"))?;
        Ok(())
    }

    async fn push_configs(
        &self,
        project: &ProjectId,
        task_id: &str,
    ) -> Result<Vec<PushConfigRecord>, StoreError> {
        Ok(push_config::Entity::find()
            .filter(push_config::Column::ProjectId.eq(project.as_str()))
            .filter(push_config::Column::TaskId.eq(task_id))
            .order_by_asc(push_config::Column::Id)
            .all(self.connection())
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(record)
            .collect())
    }

    async fn delete_push_config(
        &self,
        project: &ProjectId,
        task_id: &str,
        id: &str,
    ) -> Result<(), StoreError> {
        let deleted = push_config::Entity::delete_many()
            .filter(push_config::Column::ProjectId.eq(project.as_str()))
            .filter(push_config::Column::TaskId.eq(task_id))
            .filter(push_config::Column::Id.eq(id))
            .exec(self.connection())
            .await
            .map_err(unavailable)?;
        if deleted.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
