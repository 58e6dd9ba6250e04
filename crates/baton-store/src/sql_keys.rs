//! API keys on SQL.

use crate::entity::api_key;
use crate::sql::{unavailable, write_error, SqlStore};
use async_trait::async_trait;
use baton_core::store::{ApiKeyRecord, ApiKeyStore, KeyScope, StoreError};
use baton_core::ProjectId;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

fn key_record(m: api_key::Model) -> ApiKeyRecord {
    ApiKeyRecord {
        id: m.id,
        project_id: ProjectId(m.project_id),
        name: m.name,
        hash: m.hash,
        prefix: m.prefix,
        created: m.created,
        // An unknown scope (written by a newer version) grants the least.
        scope: KeyScope::parse(&m.scope).unwrap_or(KeyScope::Run),
    }
}

#[async_trait]
impl ApiKeyStore for SqlStore {
    async fn create_api_key(&self, k: &ApiKeyRecord) -> Result<(), StoreError> {
        let row = api_key::ActiveModel::from(api_key::Model {
            id: k.id.clone(),
            project_id: k.project_id.0.clone(),
            name: k.name.clone(),
            hash: k.hash.clone(),
            prefix: k.prefix.clone(),
            created: k.created.clone(),
            admin: k.scope == KeyScope::Admin,
            scope: k.scope.as_str().to_owned(),
        });
        row.insert(self.connection())
            .await
            .map_err(|e| write_error(e, "duplicate api key"))?;
        Ok(())
    }

    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        Ok(api_key::Entity::find()
            .filter(api_key::Column::Hash.eq(hash))
            .one(self.connection())
            .await
            .map_err(unavailable)?
            .map(key_record))
    }

    async fn list_api_keys(
        &self,
        project: Option<&ProjectId>,
    ) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let mut q = api_key::Entity::find();
        if let Some(p) = project {
            q = q.filter(api_key::Column::ProjectId.eq(p.as_str()));
        }
        Ok(q.order_by_desc(api_key::Column::Id)
            .all(self.connection())
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(key_record)
            .collect())
    }

    async fn delete_api_key(&self, id: &str) -> Result<(), StoreError> {
        let deleted = api_key::Entity::delete_many()
            .filter(api_key::Column::Id.eq(id))
            .exec(self.connection())
            .await
            .map_err(unavailable)?;
        if deleted.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn count_api_keys(&self) -> Result<u64, StoreError> {
        api_key::Entity::find()
            .count(self.connection())
            .await
            .map_err(unavailable)
    }
}
