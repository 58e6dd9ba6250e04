//! An in-memory store: the same traits, no database. For embedding and unit tests.

use crate::signals::EventSignals;
use async_trait::async_trait;
use baton_core::agent::{AgentRecord, AgentVersion};
use baton_core::collection::{CollectionRecord, EntryRecord};
use baton_core::push::PushConfigRecord;
use baton_core::schedule::{FiringRecord, ScheduleRecord};
use baton_core::store::{
    ApiKeyRecord, ClaimedTask, EventWatch, Page, PageRequest, Saved, StoreError, TaskEvent,
    TaskFilter, TaskRecord, TaskStore,
};
use baton_core::task::TaskState;
use baton_core::thread::ThreadRecord;
use baton_core::tool::ToolRecord;
use baton_core::trace::{SpanRecord, TraceStore};
use baton_core::ProjectId;
use std::collections::{BTreeMap, HashMap};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

mod agents;
mod collections;
mod push;
mod schedules;
mod threads;
mod traces;

#[derive(Default)]
struct Inner {
    agents: BTreeMap<String, AgentRecord>,
    versions: BTreeMap<(String, u32), AgentVersion>,
    tools: BTreeMap<String, ToolRecord>,
    keys: BTreeMap<String, ApiKeyRecord>,
    tasks: BTreeMap<String, TaskRecord>,
    events: BTreeMap<(String, u64), serde_json::Value>,
    collections: BTreeMap<String, CollectionRecord>,
    entries: BTreeMap<String, EntryRecord>,
    schedules: BTreeMap<String, ScheduleRecord>,
    firings: BTreeMap<(String, u32, i64, bool), FiringRecord>,
    spans: BTreeMap<(String, String), SpanRecord>,
    threads: BTreeMap<String, ThreadRecord>,
    /// (task id, config id) → config.
    push_configs: BTreeMap<(String, String), PushConfigRecord>,
}

/// A store that keeps everything in process memory; nothing survives a restart.
pub struct MemoryStore {
    inner: RwLock<Inner>,
    signals: EventSignals,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self {
            inner: RwLock::default(),
            // Every write wakes its watchers; the fallback only bounds a reader's wait.
            signals: EventSignals::new(FALLBACK_LOOK),
        }
    }
}

/// How often a reader of a task's stream looks even when nothing woke it.
const FALLBACK_LOOK: std::time::Duration = std::time::Duration::from_secs(5);

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    // A poisoned lock only means another thread panicked mid-update; the maps stay usable.
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    fn check_revision(&self, task: &TaskRecord, expected: u64) -> Result<(), StoreError> {
        let stored = self
            .tasks
            .get(&task.id)
            .filter(|t| t.project_id == task.project_id)
            .ok_or(StoreError::NotFound)?;
        if stored.revision != expected || stored.history_stored != task.history_stored {
            return Err(StoreError::Conflict(
                "the task was saved by another writer".into(),
            ));
        }
        task.unsaved_history()?;
        Ok(())
    }

    /// Stores a new task with its whole history.
    pub(crate) fn insert_task(&mut self, task: &TaskRecord) {
        let mut stored = task.clone();
        stored.history_stored = stored.history.len() as u64;
        self.tasks.insert(task.id.clone(), stored);
    }

    /// Replaces a stored task, keeping its cancel flag and creation time, and appends the
    /// messages its history gained (checked by `check_revision`).
    fn replace_task(&mut self, task: &TaskRecord) {
        let Some(stored) = self.tasks.get_mut(&task.id) else {
            return;
        };
        // Field by field, without `..`: the history is appended to rather than copied whole
        // with the record, and a field added to `TaskRecord` must be placed here.
        let TaskRecord {
            id: _,
            project_id,
            agent_id,
            agent_key,
            agent_version,
            state,
            thread_id,
            background,
            revision,
            lease_owner,
            lease_expires_at,
            cancel_requested: _,
            created: _,
            updated,
            data,
            history: _,
            history_stored: _,
        } = task;
        stored.project_id = project_id.clone();
        stored.agent_id = agent_id.clone();
        stored.agent_key = agent_key.clone();
        stored.agent_version = *agent_version;
        stored.state = *state;
        stored.thread_id = thread_id.clone();
        stored.background = *background;
        stored.revision = *revision;
        stored.lease_owner = lease_owner.clone();
        stored.lease_expires_at = *lease_expires_at;
        stored.updated = updated.clone();
        stored.data = data.clone();
        stored
            .history
            .extend_from_slice(task.unsaved_history().unwrap_or_default());
        stored.history_stored = stored.history.len() as u64;
    }

    fn check_free(&self, task_id: &str, events: &[TaskEvent]) -> Result<(), StoreError> {
        if events
            .iter()
            .any(|e| self.events.contains_key(&(task_id.to_owned(), e.seq)))
        {
            return Err(StoreError::Conflict(
                "an event with that sequence number exists".into(),
            ));
        }
        Ok(())
    }

    fn insert_events(&mut self, task_id: &str, events: &[TaskEvent]) {
        for e in events {
            self.events
                .insert((task_id.to_owned(), e.seq), e.data.clone());
        }
    }
}

impl MemoryStore {
    /// Wakes the readers of the task's stream once its events are stored.
    fn woken(&self, task_id: &str, events: &[TaskEvent]) {
        if let Some(last) = events.iter().map(|e| e.seq).max() {
            self.signals.wake(task_id, last);
        }
    }
}

fn newest_first<T: Clone>(items: impl DoubleEndedIterator<Item = T>) -> Vec<T> {
    items.rev().collect()
}

#[async_trait]
impl TaskStore for MemoryStore {
    async fn create_task(&self, task: &TaskRecord) -> Result<(), StoreError> {
        let mut inner = self.write();
        if inner.tasks.contains_key(&task.id) {
            return Err(StoreError::Conflict(
                "a task with that id already exists".into(),
            ));
        }
        inner.insert_task(task);
        Ok(())
    }

    async fn task(&self, project: &ProjectId, id: &str) -> Result<Option<TaskRecord>, StoreError> {
        Ok(self
            .read()
            .tasks
            .get(id)
            .filter(|t| &t.project_id == project)
            .cloned())
    }

    async fn task_states(
        &self,
        project: &ProjectId,
        ids: &[String],
    ) -> Result<HashMap<String, TaskState>, StoreError> {
        let inner = self.read();
        Ok(ids
            .iter()
            .filter_map(|id| inner.tasks.get(id))
            .filter(|t| &t.project_id == project)
            .map(|t| (t.id.clone(), t.state))
            .collect())
    }

    async fn save_task(&self, task: &TaskRecord, expected_revision: u64) -> Result<(), StoreError> {
        let mut inner = self.write();
        inner.check_revision(task, expected_revision)?;
        inner.replace_task(task);
        Ok(())
    }

    async fn claim_task(
        &self,
        worker: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<ClaimedTask>, StoreError> {
        let mut inner = self.write();
        let claimable = inner.tasks.values_mut().find(|t| {
            t.background
                && matches!(t.state, TaskState::Submitted | TaskState::Working)
                && t.lease_expires_at.is_none_or(|until| until < now_ms)
        });
        Ok(claimable.map(|t| {
            let previous_owner = t.lease_owner.replace(worker.to_owned());
            t.lease_expires_at = Some(now_ms + lease_ms);
            t.revision += 1;
            ClaimedTask {
                task: t.clone(),
                previous_owner,
            }
        }))
    }

    async fn renew_lease(
        &self,
        task_id: &str,
        worker: &str,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut inner = self.write();
        match inner.tasks.get_mut(task_id) {
            Some(t) if t.lease_owner.as_deref() == Some(worker) => {
                t.lease_expires_at = Some(until_ms);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn release_lease(&self, task_id: &str, worker: &str) -> Result<bool, StoreError> {
        let mut inner = self.write();
        match inner.tasks.get_mut(task_id) {
            Some(t) if t.lease_owner.as_deref() == Some(worker) => {
                t.lease_expires_at = None;
                t.revision += 1;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn request_cancel(&self, project: &ProjectId, id: &str) -> Result<(), StoreError> {
        let mut inner = self.write();
        let task = inner
            .tasks
            .get_mut(id)
            .filter(|t| &t.project_id == project)
            .ok_or(StoreError::NotFound)?;
        task.cancel_requested = true;
        Ok(())
    }

    async fn cancel_requested(&self, task_id: &str) -> Result<bool, StoreError> {
        self.read()
            .tasks
            .get(task_id)
            .map(|t| t.cancel_requested)
            .ok_or(StoreError::NotFound)
    }

    async fn clear_cancel(&self, task_id: &str) -> Result<(), StoreError> {
        let mut inner = self.write();
        let task = inner.tasks.get_mut(task_id).ok_or(StoreError::NotFound)?;
        task.cancel_requested = false;
        Ok(())
    }

    async fn list_tasks(
        &self,
        project: &ProjectId,
        filter: &TaskFilter,
        page: &PageRequest,
    ) -> Result<Page<TaskRecord>, StoreError> {
        let items = newest_first(
            self.read()
                .tasks
                .values()
                .filter(|t| &t.project_id == project && filter.matches(t))
                .cloned()
                .collect::<Vec<_>>()
                .into_iter(),
        );
        Ok(crate::page::page_sorted(items, |t| t.id.as_str(), page))
    }

    async fn count_tasks(
        &self,
        project: &ProjectId,
        filter: &TaskFilter,
    ) -> Result<u64, StoreError> {
        let tasks = &self.read().tasks;
        Ok(tasks
            .values()
            .filter(|t| &t.project_id == project && filter.matches(t))
            .count() as u64)
    }

    async fn thread_tasks(
        &self,
        project: &ProjectId,
        thread_id: &str,
    ) -> Result<Vec<TaskRecord>, StoreError> {
        Ok(self
            .read()
            .tasks
            .values()
            .filter(|t| &t.project_id == project && t.thread_id.as_deref() == Some(thread_id))
            .cloned()
            .collect())
    }

    async fn save_checkpoint(
        &self,
        task: &TaskRecord,
        expected_revision: u64,
        events: &[TaskEvent],
        spans: &[SpanRecord],
    ) -> Result<Saved, StoreError> {
        // Checked before anything changes: the task and its events are stored together or not.
        let cancel_requested = {
            let mut inner = self.write();
            inner.check_revision(task, expected_revision)?;
            inner.check_free(&task.id, events)?;
            inner.replace_task(task);
            inner.insert_events(&task.id, events);
            inner
                .tasks
                .get(&task.id)
                .is_some_and(|t| t.cancel_requested)
        };
        self.woken(&task.id, events);
        self.put_spans(spans).await?;
        Ok(Saved { cancel_requested })
    }

    async fn append_events(&self, task_id: &str, events: &[TaskEvent]) -> Result<(), StoreError> {
        let mut inner = self.write();
        inner.check_free(task_id, events)?;
        inner.insert_events(task_id, events);
        drop(inner);
        self.woken(task_id, events);
        Ok(())
    }

    fn watch_events(&self, task_id: &str) -> Box<dyn EventWatch> {
        self.signals.watch(task_id)
    }

    async fn events_after(&self, task_id: &str, after: u64) -> Result<Vec<TaskEvent>, StoreError> {
        let inner = self.read();
        Ok(inner
            .events
            .range((task_id.to_owned(), after.saturating_add(1))..=(task_id.to_owned(), u64::MAX))
            .map(|((_, seq), data)| TaskEvent {
                seq: *seq,
                data: data.clone(),
            })
            .collect())
    }
}
