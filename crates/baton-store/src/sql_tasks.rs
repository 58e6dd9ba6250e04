//! `TaskStore` on SQLite and PostgreSQL: compare-and-swap checkpoints, leased claims (in
//! `sql_leases`) and task streams whose readers are woken when events are stored.

use crate::entity::{task, task_event};
use crate::sql::{unavailable, write_error, SqlStore};
use crate::sql_events::{announce_on, last_seq};
use crate::sql_history;
use crate::sql_leases;
use async_trait::async_trait;
use baton_core::store::{
    ClaimedTask, EventWatch, Page, PageRequest, Saved, StoreError, TaskEvent, TaskFilter,
    TaskRecord, TaskStore,
};
use baton_core::task::TaskState;
use baton_core::ProjectId;
use sea_orm::sea_query::Expr;
use sea_orm::TransactionTrait;
use sea_orm::{
    ColumnTrait, DbBackend, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};

fn state_text(state: TaskState) -> Result<String, StoreError> {
    match serde_json::to_value(state) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(StoreError::Corrupt("task state".into())),
    }
}

pub(crate) fn record(m: task::Model) -> Result<TaskRecord, StoreError> {
    Ok(TaskRecord {
        state: serde_json::from_value(serde_json::Value::String(m.state))
            .map_err(|e| StoreError::Corrupt(format!("task state: {e}")))?,
        data: serde_json::from_str(&m.data)
            .map_err(|e| StoreError::Corrupt(format!("task data: {e}")))?,
        id: m.id,
        project_id: ProjectId(m.project_id),
        agent_id: m.agent_id,
        agent_key: m.agent_key,
        agent_version: u32::try_from(m.agent_version)
            .map_err(|_| StoreError::Corrupt("agent version".into()))?,
        thread_id: m.thread_id,
        background: m.background,
        revision: u64::try_from(m.revision).map_err(|_| StoreError::Corrupt("revision".into()))?,
        lease_owner: m.lease_owner,
        lease_expires_at: m.lease_expires_at,
        cancel_requested: m.cancel_requested,
        created: m.created,
        updated: m.updated,
        history: Vec::new(),
        history_stored: u64::try_from(m.message_count)
            .map_err(|_| StoreError::Corrupt("message count".into()))?,
    })
}

pub(crate) fn model(t: &TaskRecord) -> Result<task::Model, StoreError> {
    Ok(task::Model {
        id: t.id.clone(),
        project_id: t.project_id.0.clone(),
        agent_id: t.agent_id.clone(),
        agent_key: t.agent_key.clone(),
        agent_version: t.agent_version as i32,
        state: state_text(t.state)?,
        thread_id: t.thread_id.clone(),
        background: t.background,
        revision: t.revision as i64,
        lease_owner: t.lease_owner.clone(),
        lease_expires_at: t.lease_expires_at,
        cancel_requested: t.cancel_requested,
        created: t.created.clone(),
        updated: t.updated.clone(),
        data: serde_json::to_string(&t.data)
            .map_err(|e| StoreError::Corrupt(format!("task data: {e}")))?,
        message_count: t.history.len() as i64,
    })
}

/// Inserts a new task row and its history (in the caller's transaction); `Conflict` saying
/// `taken` if the id is.
pub(crate) async fn insert_task_on<C: sea_orm::ConnectionTrait>(
    conn: &C,
    t: &TaskRecord,
    taken: &str,
) -> Result<(), StoreError> {
    task::Entity::insert(model(t)?.into_active_model())
        .exec_without_returning(conn)
        .await
        .map_err(|e| write_error(e, taken))?;
    sql_history::append_on(conn, &t.id, sql_history::all_rows(t)?)
        .await
        .map(drop)
}

/// Saves the task row and appends its unsaved messages; the size of their rows' JSON.
async fn save_task_on<C: sea_orm::ConnectionTrait>(
    conn: &C,
    t: &TaskRecord,
    expected_revision: u64,
) -> Result<usize, StoreError> {
    let row = model(t)?;
    let result = task::Entity::update_many()
        .col_expr(task::Column::AgentVersion, Expr::value(row.agent_version))
        .col_expr(task::Column::State, Expr::value(row.state))
        .col_expr(task::Column::ThreadId, Expr::value(row.thread_id))
        .col_expr(task::Column::Background, Expr::value(row.background))
        .col_expr(task::Column::Revision, Expr::value(row.revision))
        .col_expr(task::Column::LeaseOwner, Expr::value(row.lease_owner))
        .col_expr(
            task::Column::LeaseExpiresAt,
            Expr::value(row.lease_expires_at),
        )
        .col_expr(task::Column::Updated, Expr::value(row.updated))
        .col_expr(task::Column::Data, Expr::value(row.data))
        .col_expr(task::Column::MessageCount, Expr::value(row.message_count))
        .filter(task::Column::Id.eq(t.id.as_str()))
        .filter(task::Column::ProjectId.eq(t.project_id.as_str()))
        .filter(task::Column::Revision.eq(expected_revision as i64))
        .filter(task::Column::MessageCount.eq(t.history_stored as i64))
        .exec(conn)
        .await
        .map_err(unavailable)?;
    if result.rows_affected == 1 {
        return sql_history::append_on(conn, &t.id, sql_history::unsaved_rows(t)?).await;
    }
    let exists = task::Entity::find()
        .filter(task::Column::Id.eq(t.id.as_str()))
        .count(conn)
        .await
        .map_err(unavailable)?;
    Err(if exists == 0 {
        StoreError::NotFound
    } else {
        StoreError::Conflict("the task was saved by another writer".into())
    })
}

async fn append_events_on<C: sea_orm::ConnectionTrait>(
    conn: &C,
    task_id: &str,
    events: &[TaskEvent],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let rows = events
        .iter()
        .map(|e| {
            Ok(task_event::Model {
                task_id: task_id.to_owned(),
                seq: e.seq as i64,
                data: serde_json::to_string(&e.data)
                    .map_err(|err| StoreError::Corrupt(format!("event: {err}")))?,
            }
            .into_active_model())
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    task_event::Entity::insert_many(rows)
        .exec_without_returning(conn)
        .await
        .map_err(|e| write_error(e, "an event with that sequence number exists"))?;
    Ok(())
}

impl SqlStore {
    /// Wakes this process's readers of the task's stream once its events are committed.
    fn woken(&self, task_id: &str, events: &[TaskEvent]) {
        if let Some(last) = last_seq(events) {
            self.signals.wake(task_id, last);
        }
    }
}

/// Whether a client asked to cancel the task; `NotFound` if absent.
async fn cancel_requested_on<C: sea_orm::ConnectionTrait>(
    db: &C,
    task_id: &str,
) -> Result<bool, StoreError> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "SELECT cancel_requested FROM tasks WHERE id = $1",
        _ => "SELECT cancel_requested FROM tasks WHERE id = ?",
    };
    let row = db
        .query_one(Statement::from_sql_and_values(
            backend,
            sql,
            [task_id.into()],
        ))
        .await
        .map_err(unavailable)?;
    match row {
        None => Err(StoreError::NotFound),
        Some(row) => row
            .try_get::<bool>("", "cancel_requested")
            .map_err(unavailable),
    }
}

#[async_trait]
impl TaskStore for SqlStore {
    async fn create_task(&self, t: &TaskRecord) -> Result<(), StoreError> {
        if let Some(writer) = &self.writer {
            return writer.write(crate::task_writes::create(t)?).await.map(drop);
        }
        let txn = self.connection().begin().await.map_err(unavailable)?;
        insert_task_on(&txn, t, "a task with that id already exists").await?;
        txn.commit().await.map_err(unavailable)
    }

    async fn task(&self, project: &ProjectId, id: &str) -> Result<Option<TaskRecord>, StoreError> {
        let Some(row) = task::Entity::find()
            .filter(task::Column::Id.eq(id))
            .filter(task::Column::ProjectId.eq(project.as_str()))
            .one(self.connection())
            .await
            .map_err(unavailable)?
        else {
            return Ok(None);
        };
        let mut task = record(row)?;
        self.histories.load(self.connection(), &mut task).await?;
        Ok(Some(task))
    }

    async fn task_states(
        &self,
        project: &ProjectId,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, TaskState>, StoreError> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let rows: Vec<(String, String)> = task::Entity::find()
            .select_only()
            .column(task::Column::Id)
            .column(task::Column::State)
            .filter(task::Column::Id.is_in(ids.iter().map(String::as_str)))
            .filter(task::Column::ProjectId.eq(project.as_str()))
            .into_tuple()
            .all(self.connection())
            .await
            .map_err(unavailable)?;
        rows.into_iter()
            .map(|(id, state)| {
                let state = serde_json::from_value(serde_json::Value::String(state))
                    .map_err(|e| StoreError::Corrupt(format!("task state: {e}")))?;
                Ok((id, state))
            })
            .collect()
    }

    async fn save_task(&self, t: &TaskRecord, expected_revision: u64) -> Result<(), StoreError> {
        self.save_checkpoint(t, expected_revision, &[], &[])
            .await
            .map(drop)
    }

    async fn save_checkpoint(
        &self,
        t: &TaskRecord,
        expected_revision: u64,
        events: &[TaskEvent],
        spans: &[baton_core::trace::SpanRecord],
    ) -> Result<Saved, StoreError> {
        if let Some(writer) = &self.writer {
            let write = crate::task_writes::checkpoint(t, expected_revision, events, spans)?;
            let size = write.messages_size();
            let saved = writer.write(write).await?;
            self.histories.saved(t, size);
            self.woken(&t.id, events);
            return Ok(saved);
        }
        // Without a writer (SQLite in memory): one transaction per step.
        let txn = self.connection().begin().await.map_err(unavailable)?;
        let size = save_task_on(&txn, t, expected_revision).await?;
        append_events_on(&txn, &t.id, events).await?;
        announce_on(&txn, &t.id, events).await?;
        crate::sql_traces::put_spans_on(&txn, spans).await?;
        let cancel_requested = cancel_requested_on(&txn, &t.id).await?;
        txn.commit().await.map_err(unavailable)?;
        self.histories.saved(t, size);
        self.woken(&t.id, events);
        Ok(Saved { cancel_requested })
    }

    async fn claim_task(
        &self,
        worker: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<ClaimedTask>, StoreError> {
        let Some(mut claimed) =
            sql_leases::claim(self.connection(), worker, now_ms, lease_ms).await?
        else {
            return Ok(None);
        };
        self.histories
            .load(self.connection(), &mut claimed.task)
            .await?;
        Ok(Some(claimed))
    }

    async fn renew_lease(
        &self,
        task_id: &str,
        worker: &str,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        sql_leases::renew(self.connection(), task_id, worker, until_ms).await
    }

    async fn release_lease(&self, task_id: &str, worker: &str) -> Result<bool, StoreError> {
        sql_leases::release(self.connection(), task_id, worker).await
    }

    async fn request_cancel(&self, project: &ProjectId, id: &str) -> Result<(), StoreError> {
        let result = task::Entity::update_many()
            .col_expr(task::Column::CancelRequested, Expr::value(true))
            .filter(task::Column::Id.eq(id))
            .filter(task::Column::ProjectId.eq(project.as_str()))
            .exec(self.connection())
            .await
            .map_err(unavailable)?;
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn cancel_requested(&self, task_id: &str) -> Result<bool, StoreError> {
        cancel_requested_on(self.connection(), task_id).await
    }

    async fn clear_cancel(&self, task_id: &str) -> Result<(), StoreError> {
        let result = task::Entity::update_many()
            .col_expr(task::Column::CancelRequested, Expr::value(false))
            .filter(task::Column::Id.eq(task_id))
            .exec(self.connection())
            .await
            .map_err(unavailable)?;
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn list_tasks(
        &self,
        project: &ProjectId,
        filter: &TaskFilter,
        page: &PageRequest,
    ) -> Result<Page<TaskRecord>, StoreError> {
        let select = filtered(project, filter);
        let rows = crate::sql::paged(self.connection(), select, task::Column::Id, page).await?;
        let mut items = Vec::with_capacity(rows.items.len());
        for row in rows.items {
            let mut task = record(row)?;
            self.histories.load(self.connection(), &mut task).await?;
            items.push(task);
        }
        Ok(Page {
            items,
            has_more: rows.has_more,
        })
    }

    async fn count_tasks(
        &self,
        project: &ProjectId,
        filter: &TaskFilter,
    ) -> Result<u64, StoreError> {
        filtered(project, filter)
            .count(self.connection())
            .await
            .map_err(unavailable)
    }

    async fn thread_tasks(
        &self,
        project: &ProjectId,
        thread_id: &str,
    ) -> Result<Vec<TaskRecord>, StoreError> {
        let rows = task::Entity::find()
            .filter(task::Column::ProjectId.eq(project.as_str()))
            .filter(task::Column::ThreadId.eq(thread_id))
            .order_by_asc(task::Column::Id)
            .all(self.connection())
            .await
            .map_err(unavailable)?;
        let mut tasks = Vec::with_capacity(rows.len());
        for row in rows {
            let mut task = record(row)?;
            self.histories.load(self.connection(), &mut task).await?;
            tasks.push(task);
        }
        Ok(tasks)
    }

    async fn append_events(&self, task_id: &str, events: &[TaskEvent]) -> Result<(), StoreError> {
        let txn = self.connection().begin().await.map_err(unavailable)?;
        append_events_on(&txn, task_id, events).await?;
        announce_on(&txn, task_id, events).await?;
        txn.commit().await.map_err(unavailable)?;
        self.woken(task_id, events);
        Ok(())
    }

    fn watch_events(&self, task_id: &str) -> Box<dyn EventWatch> {
        self.listener.ensure(self.connection(), &self.signals);
        self.signals.watch(task_id)
    }

    async fn events_after(&self, task_id: &str, after: u64) -> Result<Vec<TaskEvent>, StoreError> {
        task_event::Entity::find()
            .filter(task_event::Column::TaskId.eq(task_id))
            .filter(task_event::Column::Seq.gt(after as i64))
            .order_by_asc(task_event::Column::Seq)
            .all(self.connection())
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|m| {
                Ok(TaskEvent {
                    seq: m.seq as u64,
                    data: serde_json::from_str(&m.data)
                        .map_err(|e| StoreError::Corrupt(format!("event: {e}")))?,
                })
            })
            .collect()
    }
}

/// The project's tasks passing `filter`.
fn filtered(project: &ProjectId, filter: &TaskFilter) -> sea_orm::Select<task::Entity> {
    let mut select = task::Entity::find().filter(task::Column::ProjectId.eq(project.as_str()));
    if let Some(state) = filter.state {
        select = select.filter(task::Column::State.eq(state.as_str()));
    }
    if let Some(key) = &filter.agent_key {
        select = select.filter(task::Column::AgentKey.eq(key.as_str()));
    }
    if let Some(thread) = &filter.thread_id {
        select = select.filter(task::Column::ThreadId.eq(thread.as_str()));
    }
    select
}
