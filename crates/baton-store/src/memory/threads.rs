//! Threads in memory.

use super::{newest_first, MemoryStore};
use crate::page::page_sorted;
use async_trait::async_trait;
use baton_core::store::{Page, PageRequest, StoreError};
use baton_core::task::TaskState;
use baton_core::thread::{ThreadRecord, ThreadStore};
use baton_core::ProjectId;

#[async_trait]
impl ThreadStore for MemoryStore {
    async fn create_thread(&self, t: &ThreadRecord) -> Result<(), StoreError> {
        let mut inner = self.write();
        if inner.threads.contains_key(&t.id) {
            return Err(StoreError::Conflict(format!(
                "thread `{}` already exists",
                t.id
            )));
        }
        inner.threads.insert(t.id.clone(), t.clone());
        Ok(())
    }

    async fn thread(
        &self,
        project: &ProjectId,
        id: &str,
    ) -> Result<Option<ThreadRecord>, StoreError> {
        Ok(self
            .read()
            .threads
            .get(id)
            .filter(|t| &t.project_id == project)
            .cloned())
    }

    async fn list_threads(
        &self,
        project: &ProjectId,
        owner: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<ThreadRecord>, StoreError> {
        let items = newest_first(
            self.read()
                .threads
                .values()
                .filter(|t| &t.project_id == project)
                .filter(|t| owner.is_none() || t.owner.as_deref() == owner)
                .cloned()
                .collect::<Vec<_>>()
                .into_iter(),
        );
        Ok(page_sorted(items, |t| t.id.as_str(), page))
    }

    async fn delete_thread(&self, project: &ProjectId, id: &str) -> Result<u64, StoreError> {
        let mut inner = self.write();
        let on_thread = |t: &baton_core::store::TaskRecord| {
            &t.project_id == project && t.thread_id.as_deref() == Some(id)
        };
        if let Some(running) = inner
            .tasks
            .values()
            .find(|t| on_thread(t) && matches!(t.state, TaskState::Submitted | TaskState::Working))
        {
            return Err(StoreError::Conflict(format!(
                "task `{}` is running on thread `{id}`; cancel it or wait for it to end",
                running.id
            )));
        }
        let task_ids: Vec<String> = inner
            .tasks
            .values()
            .filter(|t| on_thread(t))
            .map(|t| t.id.clone())
            .collect();
        let record = inner
            .threads
            .get(id)
            .is_some_and(|t| &t.project_id == project);
        if task_ids.is_empty() && !record {
            return Err(StoreError::NotFound);
        }
        if record {
            inner.threads.remove(id);
        }
        for task_id in &task_ids {
            inner.tasks.remove(task_id);
        }
        inner
            .events
            .retain(|(task_id, _), _| !task_ids.contains(task_id));
        Ok(task_ids.len() as u64)
    }
}
