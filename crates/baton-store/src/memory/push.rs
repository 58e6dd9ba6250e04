//! Push-notification configs in memory.

use super::MemoryStore;
use async_trait::async_trait;
use baton_core::push::{PushConfigRecord, PushConfigStore};
use baton_core::store::StoreError;
use baton_core::ProjectId;

#[async_trait]
impl PushConfigStore for MemoryStore {
    async fn put_push_config(&self, c: &PushConfigRecord) -> Result<(), StoreError> {
        self.write()
            .push_configs
            .insert((c.task_id.clone(), c.id.clone()), c.clone());
        Ok(())
    }

    async fn push_configs(
        &self,
        project: &ProjectId,
        task_id: &str,
    ) -> Result<Vec<PushConfigRecord>, StoreError> {
        Ok(self
            .read()
            .push_configs
            .range((task_id.to_owned(), String::new())..)
            .take_while(|((task, _), _)| task == task_id)
            .map(|(_, c)| c)
            .filter(|c| &c.project_id == project)
            .cloned()
            .collect())
    }

    async fn delete_push_config(
        &self,
        project: &ProjectId,
        task_id: &str,
        id: &str,
    ) -> Result<(), StoreError> {
        let mut inner = self.write();
        let key = (task_id.to_owned(), id.to_owned());
        match inner.push_configs.get(&key) {
            Some(c) if &c.project_id == project => {
                inner.push_configs.remove(&key);
                Ok(())
            }
            _ => Err(StoreError::NotFound),
        }
    }
}
