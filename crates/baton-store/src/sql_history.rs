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

/// About how many bytes of messages (as JSON) are kept decoded at most, over all tasks: a few
/// long conversations must not hold the server's memory after their runs end.
const CACHED_BYTES: usize = 64 << 20;

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

/// The size of message rows' JSON.
pub(crate) fn rows_size(rows: &[(i64, String)]) -> usize {
    rows.iter().map(|(_, data)| data.len()).sum()
}

/// Appends rows to a task's history (the path without a group-commit writer); the size of
/// their JSON.
pub(crate) async fn append_on<C: sea_orm::ConnectionTrait>(
    conn: &C,
    task_id: &str,
    rows: Vec<(i64, String)>,
) -> Result<usize, StoreError> {
    if rows.is_empty() {
        return Ok(0);
    }
    let size = rows_size(&rows);
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
    Ok(size)
}

/// The decoded histories of recently read tasks, each the first messages of its task.
pub(crate) struct HistoryCache {
    inner: Mutex<Cached>,
    /// [`CACHED_BYTES`], smaller in tests.
    budget: usize,
}

impl Default for HistoryCache {
    fn default() -> Self {
        Self::with_budget(CACHED_BYTES)
    }
}

#[derive(Default)]
struct Cached {
    /// By task id.
    histories: HashMap<String, Entry>,
    /// Task ids, oldest entry first, for eviction.
    order: VecDeque<String>,
    /// The sum of the entries' `bytes`.
    bytes: usize,
}

/// One task's cached messages.
struct Entry {
    /// The task's creation time (an id reused after a deletion is another task).
    created: String,
    /// Its first messages.
    messages: Vec<Arc<Message>>,
    /// Their size as JSON.
    bytes: usize,
}

/// Counts the bytes written to it.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The size of messages as JSON (what their rows hold).
fn json_size(messages: &[Arc<Message>]) -> usize {
    let mut counter = Counter(0);
    for message in messages {
        // Writing to a counter cannot fail, nor can a message's serialization.
        let _ = serde_json::to_writer(&mut counter, message);
    }
    counter.0
}

impl Cached {
    /// Drops the oldest entries until the cache is within its bounds.
    fn evict(&mut self, budget: usize) {
        while self.order.len() > CACHED_TASKS || self.bytes > budget {
            let Some(oldest) = self.order.pop_front() else {
                return;
            };
            if let Some(entry) = self.histories.remove(&oldest) {
                self.bytes -= entry.bytes;
            }
        }
    }
}

impl HistoryCache {
    fn with_budget(budget: usize) -> Self {
        Self {
            inner: Mutex::default(),
            budget,
        }
    }

    /// A task's cached messages, at most as many as the task as read has, and their size.
    fn get(&self, task: &TaskRecord) -> Option<(Vec<Arc<Message>>, usize)> {
        let cached = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let entry = cached.histories.get(&task.id)?;
        if entry.created != task.created {
            return None;
        }
        let stored = usize::try_from(task.history_stored).unwrap_or(usize::MAX);
        if entry.messages.len() <= stored {
            return Some((entry.messages.clone(), entry.bytes));
        }
        // A save on this server went past the row read (rare): its first messages.
        let messages = entry.messages[..stored].to_vec();
        let bytes = json_size(&messages);
        Some((messages, bytes))
    }

    /// Extends a cached task's messages with those a save just stored (`size`: their rows'
    /// JSON), so the task's next read fetches no rows. Tasks not cached stay so: a task nobody
    /// reads back costs nothing here.
    pub(crate) fn saved(&self, task: &TaskRecord, size: usize) {
        let mut cached = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = cached.histories.get_mut(&task.id) else {
            return;
        };
        // Both are first messages of the stored history (never rewritten), so the shorter is
        // the start of the longer.
        let Some(more) = task.history.get(entry.messages.len()..) else {
            return;
        };
        if entry.created != task.created || more.is_empty() {
            return;
        }
        // The saved rows are exactly what is added unless the entry lagged behind the task.
        let bytes = if entry.messages.len() as u64 == task.history_stored {
            size
        } else {
            json_size(more)
        };
        entry.messages.extend_from_slice(more);
        entry.bytes += bytes;
        cached.bytes += bytes;
        cached.evict(self.budget);
    }

    fn put(&self, task: &TaskRecord, messages: Vec<Arc<Message>>, bytes: usize) {
        let mut cached = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = Entry {
            created: task.created.clone(),
            messages,
            bytes,
        };
        if let Some(entry) = cached.histories.get_mut(&task.id) {
            // A save may have cached more since this reader began.
            if entry.created != task.created || entry.messages.len() < fresh.messages.len() {
                let replaced = std::mem::replace(entry, fresh);
                cached.bytes = cached.bytes - replaced.bytes + bytes;
            }
        } else {
            cached.histories.insert(task.id.clone(), fresh);
            cached.order.push_back(task.id.clone());
            cached.bytes += bytes;
        }
        cached.evict(self.budget);
    }

    /// Forgets deleted tasks.
    pub(crate) fn forget(&self, task_ids: &[String]) {
        let mut cached = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        for id in task_ids {
            if let Some(entry) = cached.histories.remove(id) {
                cached.bytes -= entry.bytes;
            }
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
        let (known, mut bytes) = self.get(task).unwrap_or_default();
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
            bytes += row.data.len();
        }
        task.history = history.clone();
        self.put(task, history, bytes);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_core::message::{Part, Role};
    use baton_core::task::TaskState;

    fn message(n: usize) -> Arc<Message> {
        Arc::new(Message {
            message_id: format!("m{n}"),
            role: Role::User,
            parts: vec![Part::Text {
                text: "x".repeat(1_000),
            }],
        })
    }

    /// A task whose first `stored` of `messages` are stored.
    fn task(id: &str, messages: std::ops::Range<usize>, stored: usize) -> TaskRecord {
        TaskRecord {
            id: id.into(),
            project_id: baton_core::tenant::ProjectId::default_project(),
            agent_id: "agent".into(),
            agent_key: "k".into(),
            agent_version: 1,
            state: TaskState::Working,
            thread_id: None,
            background: false,
            revision: 0,
            lease_owner: None,
            lease_expires_at: None,
            cancel_requested: false,
            created: "c".into(),
            updated: "u".into(),
            data: serde_json::json!({}),
            history: messages.map(message).collect(),
            history_stored: stored as u64,
        }
    }

    fn cached_ids(cache: &HistoryCache) -> Vec<String> {
        let cached = cache.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut ids: Vec<String> = cached.histories.keys().cloned().collect();
        ids.sort();
        ids
    }

    #[test]
    fn the_cache_keeps_to_its_byte_budget_dropping_the_oldest_first() {
        let one = json_size(&[message(0)]);
        // Room for ten messages.
        let cache = HistoryCache::with_budget(10 * one);
        let a = task("a", 0..4, 4);
        cache.put(&a, a.history.clone(), json_size(&a.history));
        let b = task("b", 0..4, 4);
        cache.put(&b, b.history.clone(), json_size(&b.history));
        assert_eq!(cached_ids(&cache), ["a", "b"]);

        // Saves that grow `b` past the budget push out `a`, the older entry.
        cache.saved(&task("b", 0..6, 4), 2 * one);
        assert_eq!(cached_ids(&cache), ["a", "b"]);
        cache.saved(&task("b", 0..8, 6), 2 * one);
        assert_eq!(cached_ids(&cache), ["b"]);
        let (messages, bytes) = cache.get(&task("b", 0..0, 8)).unwrap_or_default();
        assert_eq!((messages.len(), bytes), (8, 8 * one));

        // A history larger than the whole budget is not kept at all.
        let big = task("big", 0..11, 11);
        cache.put(&big, big.history.clone(), json_size(&big.history));
        assert!(cache.get(&big).is_none());
        assert_eq!(
            cache.inner.lock().unwrap_or_else(|e| e.into_inner()).bytes,
            0
        );

        // Forgetting gives the room back.
        cache.put(&a, a.history.clone(), json_size(&a.history));
        cache.forget(&["a".to_owned()]);
        let cached = cache.inner.lock().unwrap_or_else(|e| e.into_inner());
        assert_eq!((cached.histories.len(), cached.bytes), (0, 0));
    }
}
