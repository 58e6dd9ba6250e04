//! `ThreadStore` on SQLite and PostgreSQL.

use crate::entity::{task, task_event, task_message, thread};
use crate::sql::{corrupt, paged, to_json, unavailable, write_error, SqlStore};
use async_trait::async_trait;
use baton_core::store::{Page, PageRequest, StoreError};
use baton_core::thread::{ThreadRecord, ThreadStore};
use baton_core::ProjectId;
use sea_orm::{
    ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};

fn thread_record(m: thread::Model) -> Result<ThreadRecord, StoreError> {
    Ok(ThreadRecord {
        metadata: serde_json::from_str(&m.metadata).map_err(|e| corrupt("thread metadata", e))?,
        id: m.id,
        project_id: ProjectId(m.project_id),
        title: m.title,
        assistant_id: m.assistant_id,
        owner: m.owner,
        created: m.created,
        updated: m.updated,
    })
}

/// The task states a thread cannot be deleted in: a run is on it.
const RUNNING: [&str; 2] = ["submitted", "working"];

#[async_trait]
impl ThreadStore for SqlStore {
    async fn create_thread(&self, t: &ThreadRecord) -> Result<(), StoreError> {
        let row = thread::Model {
            id: t.id.clone(),
            project_id: t.project_id.0.clone(),
            title: t.title.clone(),
            assistant_id: t.assistant_id.clone(),
            owner: t.owner.clone(),
            metadata: to_json(&t.metadata)?,
            created: t.created.clone(),
            updated: t.updated.clone(),
        };
        thread::Entity::insert(row.into_active_model())
            .exec_without_returning(self.connection())
            .await
            .map_err(|e| write_error(e, &format!("thread `{}` already exists", t.id)))?;
        Ok(())
    }

    async fn thread(
        &self,
        project: &ProjectId,
        id: &str,
    ) -> Result<Option<ThreadRecord>, StoreError> {
        thread::Entity::find()
            .filter(thread::Column::ProjectId.eq(project.as_str()))
            .filter(thread::Column::Id.eq(id))
            .one(self.connection())
            .await
            .map_err(unavailable)?
            .map(thread_record)
            .transpose()
    }

    async fn list_threads(
        &self,
        project: &ProjectId,
        owner: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<ThreadRecord>, StoreError> {
        let mut select =
            thread::Entity::find().filter(thread::Column::ProjectId.eq(project.as_str()));
        if let Some(owner) = owner {
            select = select.filter(thread::Column::Owner.eq(owner));
        }
        let rows = paged(self.connection(), select, thread::Column::Id, page).await?;
        Ok(Page {
            items: rows
                .items
                .into_iter()
                .map(thread_record)
                .collect::<Result<_, _>>()?,
            has_more: rows.has_more,
        })
    }

    async fn delete_thread(&self, project: &ProjectId, id: &str) -> Result<u64, StoreError> {
        let txn = self.connection().begin().await.map_err(unavailable)?;
        // The thread's tasks, locked (PostgreSQL; SQLite serializes writers): a run saving one
        // of them meanwhile waits for this transaction, and the states read here are the ones
        // it committed, so a run that starts at this instant is seen, not deleted.
        let tasks_locked: Vec<(String, String)> = task::Entity::find()
            .select_only()
            .column(task::Column::Id)
            .column(task::Column::State)
            .filter(task::Column::ProjectId.eq(project.as_str()))
            .filter(task::Column::ThreadId.eq(id))
            .order_by_asc(task::Column::Id)
            .lock_exclusive()
            .into_tuple()
            .all(&txn)
            .await
            .map_err(unavailable)?;
        if let Some((task_id, _)) = tasks_locked
            .iter()
            .find(|(_, state)| RUNNING.contains(&state.as_str()))
        {
            return Err(StoreError::Conflict(format!(
                "task `{task_id}` is running on thread `{id}`; cancel it or wait for it to end"
            )));
        }
        // By id, not by thread: a task created on the thread after the lock is a new run's,
        // and stays (the thread lives on through it). Chunks keep a thread of many runs within
        // a statement's parameters.
        let mut deleted = 0;
        for chunk in tasks_locked.chunks(500) {
            let ids = || chunk.iter().map(|(task_id, _)| task_id.as_str());
            task_event::Entity::delete_many()
                .filter(task_event::Column::TaskId.is_in(ids()))
                .exec(&txn)
                .await
                .map_err(unavailable)?;
            task_message::Entity::delete_many()
                .filter(task_message::Column::TaskId.is_in(ids()))
                .exec(&txn)
                .await
                .map_err(unavailable)?;
            deleted += task::Entity::delete_many()
                .filter(task::Column::ProjectId.eq(project.as_str()))
                .filter(task::Column::Id.is_in(ids()))
                .exec(&txn)
                .await
                .map_err(unavailable)?
                .rows_affected;
        }
        let tasks = deleted;
        let records = thread::Entity::delete_many()
            .filter(thread::Column::ProjectId.eq(project.as_str()))
            .filter(thread::Column::Id.eq(id))
            .exec(&txn)
            .await
            .map_err(unavailable)?
            .rows_affected;
        if tasks == 0 && records == 0 {
            return Err(StoreError::NotFound);
        }
        txn.commit().await.map_err(unavailable)?;
        let task_ids: Vec<String> = tasks_locked
            .into_iter()
            .map(|(task_id, _)| task_id)
            .collect();
        self.histories.forget(&task_ids);
        Ok(tasks)
    }
}
