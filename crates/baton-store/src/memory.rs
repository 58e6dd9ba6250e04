//! An in-memory store: the same traits, no database. For embedding and unit tests.

use crate::page::page_sorted;
use crate::signals::EventSignals;
use async_trait::async_trait;
use baton_core::agent::{AgentRecord, AgentVersion};
use baton_core::collection::{
    CollectionKind, CollectionRecord, CollectionStore, EntryFilter, EntryKind, EntryRecord,
};
use baton_core::schedule::{FiringRecord, ScheduleRecord, ScheduleStore};
use baton_core::store::{
    AgentStore, ApiKeyRecord, ApiKeyStore, EventWatch, Page, PageRequest, StoreError, TaskEvent,
    TaskRecord, TaskStore, ToolStore,
};
use baton_core::task::TaskState;
use baton_core::tool::ToolRecord;
use baton_core::trace::{SpanKind, SpanRecord, TraceStore, UsageGroup, UsageTotals};
use baton_core::ProjectId;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

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
        if stored.revision != expected {
            return Err(StoreError::Conflict(
                "the task was saved by another writer".into(),
            ));
        }
        Ok(())
    }

    /// Replaces a stored task, keeping its cancel flag and creation time.
    fn replace_task(&mut self, task: &TaskRecord) {
        if let Some(stored) = self.tasks.get_mut(&task.id) {
            let cancel_requested = stored.cancel_requested;
            let created = std::mem::take(&mut stored.created);
            *stored = task.clone();
            stored.cancel_requested = cancel_requested;
            stored.created = created;
        }
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
impl AgentStore for MemoryStore {
    async fn create_agent(
        &self,
        agent: &AgentRecord,
        first: &AgentVersion,
    ) -> Result<(), StoreError> {
        let mut inner = self.write();
        if inner
            .agents
            .values()
            .any(|a| a.project_id == agent.project_id && a.spec.key == agent.spec.key)
        {
            return Err(StoreError::Conflict(format!(
                "an agent with key `{}` already exists",
                agent.spec.key
            )));
        }
        inner.agents.insert(agent.id.clone(), agent.clone());
        inner
            .versions
            .insert((agent.id.clone(), first.version), first.clone());
        Ok(())
    }

    async fn agent_by_key(
        &self,
        project: &ProjectId,
        key: &str,
    ) -> Result<Option<AgentRecord>, StoreError> {
        Ok(self
            .read()
            .agents
            .values()
            .find(|a| &a.project_id == project && a.spec.key == key)
            .cloned())
    }

    async fn agent_version(
        &self,
        project: &ProjectId,
        agent_id: &str,
        version: u32,
    ) -> Result<Option<AgentVersion>, StoreError> {
        let inner = self.read();
        let owned = inner
            .agents
            .get(agent_id)
            .is_some_and(|a| &a.project_id == project);
        Ok(owned
            .then(|| inner.versions.get(&(agent_id.to_owned(), version)).cloned())
            .flatten())
    }

    async fn agent_versions(
        &self,
        project: &ProjectId,
        agent_id: &str,
    ) -> Result<Vec<AgentVersion>, StoreError> {
        let inner = self.read();
        if !inner
            .agents
            .get(agent_id)
            .is_some_and(|a| &a.project_id == project)
        {
            return Ok(Vec::new());
        }
        Ok(newest_first(
            inner
                .versions
                .range((agent_id.to_owned(), 0)..=(agent_id.to_owned(), u32::MAX))
                .map(|(_, v)| v.clone()),
        ))
    }

    async fn list_agents(
        &self,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<AgentRecord>, StoreError> {
        let items = newest_first(
            self.read()
                .agents
                .values()
                .filter(|a| &a.project_id == project)
                .cloned()
                .collect::<Vec<_>>()
                .into_iter(),
        );
        Ok(page_sorted(items, |a| &a.id, page))
    }

    async fn update_agent(
        &self,
        agent: &AgentRecord,
        expected_version: u32,
        new_version: Option<&AgentVersion>,
    ) -> Result<(), StoreError> {
        let mut inner = self.write();
        let current = inner
            .agents
            .get(&agent.id)
            .filter(|a| a.project_id == agent.project_id)
            .ok_or(StoreError::NotFound)?;
        if current.version != expected_version {
            return Err(StoreError::Conflict(
                "the agent was changed concurrently; retry".into(),
            ));
        }
        if inner.agents.values().any(|a| {
            a.id != agent.id && a.project_id == agent.project_id && a.spec.key == agent.spec.key
        }) {
            return Err(StoreError::Conflict(format!(
                "an agent with key `{}` already exists",
                agent.spec.key
            )));
        }
        inner.agents.insert(agent.id.clone(), agent.clone());
        if let Some(v) = new_version {
            inner
                .versions
                .insert((agent.id.clone(), v.version), v.clone());
        }
        Ok(())
    }

    async fn delete_agent(&self, project: &ProjectId, agent_id: &str) -> Result<(), StoreError> {
        let mut inner = self.write();
        if !inner
            .agents
            .get(agent_id)
            .is_some_and(|a| &a.project_id == project)
        {
            return Err(StoreError::NotFound);
        }
        inner.agents.remove(agent_id);
        inner.versions.retain(|(id, _), _| id != agent_id);
        Ok(())
    }
}

#[async_trait]
impl ToolStore for MemoryStore {
    async fn create_tool(&self, tool: &ToolRecord) -> Result<(), StoreError> {
        let mut inner = self.write();
        if inner
            .tools
            .values()
            .any(|t| t.project_id == tool.project_id && t.spec.key == tool.spec.key)
        {
            return Err(StoreError::Conflict(format!(
                "a tool with key `{}` already exists",
                tool.spec.key
            )));
        }
        inner.tools.insert(tool.id.clone(), tool.clone());
        Ok(())
    }

    async fn tool(
        &self,
        project: &ProjectId,
        id_or_key: &str,
    ) -> Result<Option<ToolRecord>, StoreError> {
        Ok(self
            .read()
            .tools
            .values()
            .find(|t| &t.project_id == project && (t.id == id_or_key || t.spec.key == id_or_key))
            .cloned())
    }

    async fn list_tools(
        &self,
        project: &ProjectId,
        page: &PageRequest,
    ) -> Result<Page<ToolRecord>, StoreError> {
        let items = newest_first(
            self.read()
                .tools
                .values()
                .filter(|t| &t.project_id == project)
                .cloned()
                .collect::<Vec<_>>()
                .into_iter(),
        );
        Ok(page_sorted(items, |t| &t.id, page))
    }

    async fn update_tool(&self, tool: &ToolRecord) -> Result<(), StoreError> {
        let mut inner = self.write();
        if !inner
            .tools
            .get(&tool.id)
            .is_some_and(|t| t.project_id == tool.project_id)
        {
            return Err(StoreError::NotFound);
        }
        if inner.tools.values().any(|t| {
            t.id != tool.id && t.project_id == tool.project_id && t.spec.key == tool.spec.key
        }) {
            return Err(StoreError::Conflict(format!(
                "a tool with key `{}` already exists",
                tool.spec.key
            )));
        }
        inner.tools.insert(tool.id.clone(), tool.clone());
        Ok(())
    }

    async fn delete_tool(&self, project: &ProjectId, id: &str) -> Result<(), StoreError> {
        let mut inner = self.write();
        if !inner
            .tools
            .get(id)
            .is_some_and(|t| &t.project_id == project)
        {
            return Err(StoreError::NotFound);
        }
        inner.tools.remove(id);
        Ok(())
    }
}

#[async_trait]
impl ApiKeyStore for MemoryStore {
    async fn create_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let mut inner = self.write();
        if inner.keys.values().any(|k| k.hash == key.hash) {
            return Err(StoreError::Conflict("duplicate api key".into()));
        }
        inner.keys.insert(key.id.clone(), key.clone());
        Ok(())
    }

    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        Ok(self.read().keys.values().find(|k| k.hash == hash).cloned())
    }

    async fn list_api_keys(
        &self,
        project: Option<&ProjectId>,
    ) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let mut out: Vec<ApiKeyRecord> = self
            .read()
            .keys
            .values()
            .filter(|k| project.is_none_or(|p| &k.project_id == p))
            .cloned()
            .collect();
        out.sort_by(|a, b| b.id.cmp(&a.id));
        Ok(out)
    }

    async fn delete_api_key(&self, id: &str) -> Result<(), StoreError> {
        let mut inner = self.write();
        let before = inner.keys.len();
        inner.keys.retain(|_, k| k.id != id);
        if inner.keys.len() == before {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn count_api_keys(&self) -> Result<u64, StoreError> {
        Ok(self.read().keys.len() as u64)
    }
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
        inner.tasks.insert(task.id.clone(), task.clone());
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
    ) -> Result<Option<TaskRecord>, StoreError> {
        let mut inner = self.write();
        let claimable = inner.tasks.values_mut().find(|t| {
            t.background
                && matches!(t.state, TaskState::Submitted | TaskState::Working)
                && t.lease_expires_at.is_none_or(|until| until < now_ms)
        });
        Ok(claimable.map(|t| {
            t.lease_owner = Some(worker.to_owned());
            t.lease_expires_at = Some(now_ms + lease_ms);
            t.revision += 1;
            t.clone()
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
    ) -> Result<(), StoreError> {
        // Checked before anything changes: the task and its events are stored together or not.
        {
            let mut inner = self.write();
            inner.check_revision(task, expected_revision)?;
            inner.check_free(&task.id, events)?;
            inner.replace_task(task);
            inner.insert_events(&task.id, events);
        }
        self.woken(&task.id, events);
        self.put_spans(spans).await
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

#[async_trait]
impl CollectionStore for MemoryStore {
    async fn create_collection(&self, c: &CollectionRecord) -> Result<(), StoreError> {
        let mut inner = self.write();
        if inner
            .collections
            .values()
            .any(|o| o.project_id == c.project_id && o.kind == c.kind && o.key == c.key)
        {
            return Err(StoreError::Conflict(format!("`{}` already exists", c.key)));
        }
        inner.collections.insert(c.id.clone(), c.clone());
        Ok(())
    }

    async fn collection(
        &self,
        project: &ProjectId,
        kind: CollectionKind,
        id_or_key: &str,
    ) -> Result<Option<CollectionRecord>, StoreError> {
        Ok(self
            .read()
            .collections
            .values()
            .find(|c| {
                &c.project_id == project
                    && c.kind == kind
                    && (c.id == id_or_key || c.key == id_or_key)
            })
            .cloned())
    }

    async fn list_collections(
        &self,
        project: &ProjectId,
        kind: CollectionKind,
        page: &PageRequest,
    ) -> Result<Page<CollectionRecord>, StoreError> {
        let items = newest_first(
            self.read()
                .collections
                .values()
                .filter(|c| &c.project_id == project && c.kind == kind)
                .cloned()
                .collect::<Vec<_>>()
                .into_iter(),
        );
        Ok(page_sorted(items, |c| c.id.as_str(), page))
    }

    async fn update_collection(&self, c: &CollectionRecord) -> Result<(), StoreError> {
        let mut inner = self.write();
        match inner.collections.get_mut(&c.id) {
            Some(old) if old.project_id == c.project_id => {
                old.spec = c.spec.clone();
                old.updated = c.updated.clone();
                Ok(())
            }
            _ => Err(StoreError::NotFound),
        }
    }

    async fn delete_collection(&self, project: &ProjectId, id: &str) -> Result<(), StoreError> {
        let mut inner = self.write();
        match inner.collections.get(id) {
            Some(c) if &c.project_id == project => {}
            _ => return Err(StoreError::NotFound),
        }
        inner.collections.remove(id);
        inner.entries.retain(|_, e| e.collection_id != id);
        Ok(())
    }

    async fn put_entries(&self, entries: &[EntryRecord]) -> Result<(), StoreError> {
        let mut inner = self.write();
        if entries.iter().any(|e| inner.entries.contains_key(&e.id)) {
            return Err(StoreError::Conflict(
                "an entry with this id already exists".into(),
            ));
        }
        // One memory per entity and collection, as the SQL stores' unique index holds it.
        let memory_key = |e: &EntryRecord| {
            (e.kind == EntryKind::Memory).then(|| (e.collection_id.clone(), e.entity_id.clone()))
        };
        let mut seen: HashSet<_> = inner.entries.values().filter_map(memory_key).collect();
        for key in entries.iter().filter_map(memory_key) {
            if !seen.insert(key) {
                return Err(StoreError::Conflict(
                    "this entity already has a memory".into(),
                ));
            }
        }
        for e in entries {
            inner.entries.insert(e.id.clone(), e.clone());
        }
        Ok(())
    }

    async fn update_entry(&self, e: &EntryRecord) -> Result<(), StoreError> {
        let mut inner = self.write();
        match inner.entries.get_mut(&e.id) {
            Some(old) if old.project_id == e.project_id && old.collection_id == e.collection_id => {
                *old = e.clone();
                Ok(())
            }
            _ => Err(StoreError::NotFound),
        }
    }

    async fn entry(
        &self,
        project: &ProjectId,
        collection_id: &str,
        id: &str,
    ) -> Result<Option<EntryRecord>, StoreError> {
        Ok(self
            .read()
            .entries
            .get(id)
            .filter(|e| &e.project_id == project && e.collection_id == collection_id)
            .cloned())
    }

    async fn list_entries(
        &self,
        project: &ProjectId,
        collection_id: &str,
        filter: &EntryFilter,
        page: &PageRequest,
    ) -> Result<Page<EntryRecord>, StoreError> {
        let items = newest_first(
            self.read()
                .entries
                .values()
                .filter(|e| {
                    &e.project_id == project
                        && e.collection_id == collection_id
                        && filter.accepts(e)
                })
                .cloned()
                .collect::<Vec<_>>()
                .into_iter(),
        );
        Ok(page_sorted(items, |e| e.id.as_str(), page))
    }

    async fn count_children(
        &self,
        project: &ProjectId,
        collection_id: &str,
        kind: EntryKind,
        parents: &[String],
    ) -> Result<HashMap<String, u64>, StoreError> {
        let mut counts = HashMap::new();
        for e in self.read().entries.values() {
            if &e.project_id == project && e.collection_id == collection_id && e.kind == kind {
                if let Some(parent) = e.parent_id.as_ref().filter(|p| parents.contains(p)) {
                    *counts.entry(parent.clone()).or_insert(0) += 1;
                }
            }
        }
        Ok(counts)
    }

    async fn delete_entries(
        &self,
        project: &ProjectId,
        collection_id: &str,
        ids: &[String],
    ) -> Result<u64, StoreError> {
        let mut inner = self.write();
        let mut removed = 0;
        inner.entries.retain(|id, e| {
            let hit =
                &e.project_id == project && e.collection_id == collection_id && ids.contains(id);
            if hit {
                removed += 1;
            }
            !hit
        });
        inner.entries.retain(|_, e| {
            !(&e.project_id == project
                && e.collection_id == collection_id
                && e.parent_id.as_ref().is_some_and(|p| ids.contains(p)))
        });
        Ok(removed)
    }
}

fn firing_key(f: &FiringRecord) -> (String, u32, i64, bool) {
    (f.schedule_id.clone(), f.generation, f.due_ms, f.manual)
}

fn due_at(s: &ScheduleRecord) -> Option<i64> {
    s.next_fire_at.filter(|_| s.is_active)
}

#[async_trait]
impl ScheduleStore for MemoryStore {
    async fn create_schedule(&self, s: &ScheduleRecord) -> Result<(), StoreError> {
        let mut inner = self.write();
        if inner.schedules.contains_key(&s.id) {
            return Err(StoreError::Conflict(
                "a schedule with this id already exists".into(),
            ));
        }
        inner.schedules.insert(s.id.clone(), s.clone());
        Ok(())
    }

    async fn schedule(
        &self,
        project: &ProjectId,
        agent_id: &str,
        id: &str,
    ) -> Result<Option<ScheduleRecord>, StoreError> {
        Ok(self
            .read()
            .schedules
            .get(id)
            .filter(|s| &s.project_id == project && s.agent_id == agent_id)
            .cloned())
    }

    async fn list_schedules(
        &self,
        project: &ProjectId,
        agent_id: &str,
    ) -> Result<Vec<ScheduleRecord>, StoreError> {
        Ok(newest_first(
            self.read()
                .schedules
                .values()
                .filter(|s| &s.project_id == project && s.agent_id == agent_id)
                .cloned()
                .collect::<Vec<_>>()
                .into_iter(),
        ))
    }

    async fn update_schedule(
        &self,
        s: &ScheduleRecord,
        expected: &ScheduleRecord,
    ) -> Result<bool, StoreError> {
        let mut inner = self.write();
        let Some(current) = inner.schedules.get_mut(&s.id) else {
            return Ok(false);
        };
        if current.project_id != s.project_id
            || current.generation != expected.generation
            || due_at(current) != due_at(expected)
            || current.trigger_count != expected.trigger_count
        {
            return Ok(false);
        }
        let last = current.last_triggered_at.clone();
        *current = s.clone();
        current.last_triggered_at = last;
        Ok(true)
    }

    async fn delete_schedule(&self, project: &ProjectId, id: &str) -> Result<(), StoreError> {
        let mut inner = self.write();
        match inner.schedules.get(id) {
            Some(s) if &s.project_id == project => {
                inner.schedules.remove(id);
                Ok(())
            }
            _ => Err(StoreError::NotFound),
        }
    }

    async fn due_schedules(
        &self,
        now_ms: i64,
        limit: u64,
    ) -> Result<Vec<ScheduleRecord>, StoreError> {
        let mut due: Vec<ScheduleRecord> = self
            .read()
            .schedules
            .values()
            .filter(|s| due_at(s).is_some_and(|t| t <= now_ms))
            .cloned()
            .collect();
        due.sort_by_key(|s| due_at(s).unwrap_or(i64::MAX));
        due.truncate(limit as usize);
        Ok(due)
    }

    async fn next_due(&self) -> Result<Option<i64>, StoreError> {
        Ok(self.read().schedules.values().filter_map(due_at).min())
    }

    async fn fire_schedule(
        &self,
        advanced: &ScheduleRecord,
        expected_generation: u32,
        expected_next: i64,
        firing: Option<(&FiringRecord, &TaskRecord)>,
    ) -> Result<bool, StoreError> {
        let mut inner = self.write();
        let matches = inner.schedules.get(&advanced.id).is_some_and(|s| {
            s.generation == expected_generation && due_at(s) == Some(expected_next)
        });
        if !matches {
            return Ok(false);
        }
        if let Some((f, task)) = firing {
            if inner.firings.contains_key(&firing_key(f)) || inner.tasks.contains_key(&task.id) {
                return Ok(false);
            }
            inner.firings.insert(firing_key(f), f.clone());
            inner.tasks.insert(task.id.clone(), task.clone());
        }
        if let Some(s) = inner.schedules.get_mut(&advanced.id) {
            s.next_fire_at = advanced.next_fire_at;
            s.is_active = advanced.is_active;
            s.trigger_count = advanced.trigger_count;
            s.last_triggered_at = advanced.last_triggered_at.clone();
        }
        Ok(true)
    }

    async fn record_execution(
        &self,
        firing: &FiringRecord,
        task: &TaskRecord,
    ) -> Result<(), StoreError> {
        let mut inner = self.write();
        if inner.firings.contains_key(&firing_key(firing)) {
            return Err(StoreError::Conflict(
                "this execution was already recorded".into(),
            ));
        }
        inner.firings.insert(firing_key(firing), firing.clone());
        inner.tasks.insert(task.id.clone(), task.clone());
        Ok(())
    }

    async fn firings(
        &self,
        schedule_id: &str,
        limit: u64,
    ) -> Result<Vec<FiringRecord>, StoreError> {
        let mut out: Vec<FiringRecord> = self
            .read()
            .firings
            .values()
            .filter(|f| f.schedule_id == schedule_id)
            .cloned()
            .collect();
        out.sort_by_key(|f| std::cmp::Reverse(f.fired_ms));
        out.truncate(limit as usize);
        Ok(out)
    }
}

#[async_trait]
impl TraceStore for MemoryStore {
    async fn put_spans(&self, spans: &[SpanRecord]) -> Result<(), StoreError> {
        let mut inner = self.write();
        for s in spans {
            inner
                .spans
                .entry((s.trace_id.clone(), s.span_id.clone()))
                .or_insert_with(|| s.clone());
        }
        Ok(())
    }

    async fn trace_spans(
        &self,
        project: &ProjectId,
        trace_id: &str,
    ) -> Result<Vec<SpanRecord>, StoreError> {
        let mut out: Vec<SpanRecord> = self
            .read()
            .spans
            .values()
            .filter(|s| s.trace_id == trace_id && &s.project_id == project)
            .cloned()
            .collect();
        out.sort_by_key(|s| s.started_ms);
        Ok(out)
    }

    async fn spans_of_traces(
        &self,
        project: &ProjectId,
        trace_ids: &[String],
    ) -> Result<Vec<SpanRecord>, StoreError> {
        let mut out: Vec<SpanRecord> = self
            .read()
            .spans
            .values()
            .filter(|s| &s.project_id == project && trace_ids.contains(&s.trace_id))
            .cloned()
            .collect();
        out.sort_by(|a, b| (&a.trace_id, a.started_ms).cmp(&(&b.trace_id, b.started_ms)));
        Ok(out)
    }

    async fn usage(
        &self,
        project: &ProjectId,
        group: UsageGroup,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<UsageTotals>, StoreError> {
        let mut groups: BTreeMap<String, UsageTotals> = BTreeMap::new();
        for s in self.read().spans.values().filter(|s| {
            &s.project_id == project
                && s.started_ms >= from_ms
                && s.started_ms < to_ms
                && group.counts(s)
        }) {
            let key = group.key(s);
            groups
                .entry(key.clone())
                .or_insert_with(|| UsageTotals {
                    key,
                    ..Default::default()
                })
                .add(s);
        }
        Ok(groups.into_values().collect())
    }

    async fn spans_between(
        &self,
        project: &ProjectId,
        kind: Option<SpanKind>,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<SpanRecord>, StoreError> {
        let mut out: Vec<SpanRecord> = self
            .read()
            .spans
            .values()
            .filter(|s| {
                &s.project_id == project
                    && kind.is_none_or(|k| k == s.kind)
                    && s.started_ms >= from_ms
                    && s.started_ms < to_ms
            })
            .cloned()
            .collect();
        out.sort_by_key(|s| std::cmp::Reverse(s.started_ms));
        Ok(out)
    }
}
