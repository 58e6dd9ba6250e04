//! A task's history on SQLite and PostgreSQL: one `task_messages` row per message, appended by
//! the save that adds it and never rewritten, so a step writes only its new messages. Readers
//! keep the decoded messages of recently read tasks: rows below a task's stored count never
//! change, so a later read fetches only the rows after those it already has. The messages are
//! shared with the records read, so a read copies pointers, not text.

use crate::entity::task_message;
use crate::sql::{unavailable, write_error};
use baton_core::message::Message;
use baton_core::store::{StoreError, TaskRecord};
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// At most this many tasks' histories are kept decoded.
const CACHED_TASKS: usize = 256;

/// What a second save of a message would break.
pub(crate) const MESSAGE_TAKEN: &str = "a message with that position in the history exists";

/// The messages a save appends, as `(seq, JSON)` rows: those after the stored ones.
pub(crate) fn unsaved_rows(t: &TaskRecord) -> Result<Vec<(i64, String)>, StoreError> {
    rows_from(t.history_stored, t.unsaved_history()?)
}

/// All messages of a new task as rows.
pub(crate) fn all_rows(t: &TaskRecord) -> Result<Vec<(i64, String)>, StoreError> {
    rows_from(0, &t.history)
}

fn rows_from(first: u64, messages: &[Arc<Message>]) -> Result<Vec<(i64, String)>, StoreError> {
    messages
        .iter()
        .zip(first as i64..)
        .map(|(m, seq)| {
            let data = serde_json::to_string(m)
                .map_err(|e| StoreError::Corrupt(format!("message: {e}")))?;
            Ok((seq, data))
        })
        .collect()
}

/// Appends rows to a task's history (the path without a group-commit writer).
pub(crate) async fn append_on<C: sea_orm::ConnectionTrait>(
    conn: &C,
    task_id: &str,
    rows: Vec<(i64, String)>,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let models = rows.into_iter().map(|(seq, data)| {
        task_message::Model {
            task_id: task_id.to_owned(),
            seq,
            data,
        }
        .into_active_model()
    });
    task_message::Entity::insert_many(models)
        .exec_without_returning(conn)
        .await
        .map_err(|e| write_error(e, MESSAGE_TAKEN))?;
    Ok(())
}

/// The decoded histories of recently read tasks, each the first messages of its task.
#[derive(Default)]
pub(crate) struct HistoryCache {
    inner: Mutex<Cached>,
}

#[derive(Default)]
struct Cached {
    /// By task id: the task's creation time (an id reused after a deletion is another task)
    /// and its first messages.
    histories: HashMap<String, (String, Vec<Arc<Message>>)>,
    /// Task ids, oldest entry first, for eviction.
    order: VecDeque<String>,
}

impl HistoryCache {
    /// A task's cached messages, at most as many as the task as read has.
    fn get(&self, task: &TaskRecord) -> Option<Vec<Arc<Message>>> {
        let cached = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (created, messages) = cached.histories.get(&task.id)?;
        let stored = usize::try_from(task.history_stored).unwrap_or(usize::MAX);
        (*created == task.created).then(|| messages[..stored.min(messages.len())].to_vec())
    }

    /// Extends a cached task's messages with those a save just stored, so the task's next read
    /// fetches no rows. Tasks not cached stay so: a task nobody reads back costs nothing here.
    pub(crate) fn saved(&self, task: &TaskRecord) {
        let mut cached = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let Some((created, messages)) = cached.histories.get_mut(&task.id) else {
            return;
        };
        // Both are first messages of the stored history (never rewritten), so the shorter is
        // the start of the longer.
        if *created == task.created {
            if let Some(more) = task.history.get(messages.len()..) {
                messages.extend_from_slice(more);
            }
        }
    }

    fn put(&self, task: &TaskRecord, messages: Vec<Arc<Message>>) {
        let mut cached = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((created, known)) = cached.histories.get_mut(&task.id) {
            // A save may have cached more since this reader began.
            if *created != task.created || known.len() < messages.len() {
                (*created, *known) = (task.created.clone(), messages);
            }
            return;
        }
        let entry = (task.created.clone(), messages);
        cached.histories.insert(task.id.clone(), entry);
        cached.order.push_back(task.id.clone());
        while cached.order.len() > CACHED_TASKS {
            if let Some(oldest) = cached.order.pop_front() {
                cached.histories.remove(&oldest);
            }
        }
    }

    /// Forgets deleted tasks.
    pub(crate) fn forget(&self, task_ids: &[String]) {
        let mut cached = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        for id in task_ids {
            cached.histories.remove(id);
        }
        cached.order.retain(|id| !task_ids.contains(id));
    }

    /// Fills in a task's history (its first `history_stored` messages): what is cached, then
    /// the rows after it.
    pub(crate) async fn load<C: sea_orm::ConnectionTrait>(
        &self,
        conn: &C,
        task: &mut TaskRecord,
    ) -> Result<(), StoreError> {
        let known = self.get(task).unwrap_or_default();
        if known.len() as u64 == task.history_stored {
            task.history = known;
            return Ok(());
        }
        let rows = task_message::Entity::find()
            .filter(task_message::Column::TaskId.eq(task.id.as_str()))
            .filter(task_message::Column::Seq.gte(known.len() as i64))
            .filter(task_message::Column::Seq.lt(task.history_stored as i64))
            .order_by_asc(task_message::Column::Seq)
            .all(conn)
            .await
            .map_err(unavailable)?;
        if (known.len() + rows.len()) as u64 != task.history_stored {
            return Err(StoreError::Corrupt(format!(
                "task {} has {} of its {} messages",
                task.id,
                known.len() + rows.len(),
                task.history_stored
            )));
        }
        let mut history = known;
        history.reserve(rows.len());
        for row in rows {
            history.push(Arc::new(
                serde_json::from_str(&row.data)
                    .map_err(|e| StoreError::Corrupt(format!("message: {e}")))?,
            ));
        }
        task.history = history.clone();
        self.put(task, history);
        Ok(())
    }
}
