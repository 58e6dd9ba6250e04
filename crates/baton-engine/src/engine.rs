//! The engine handle: its shared state, tasks, live events, cancellation and workers.

use crate::events::{self, EventHub};
use crate::state::TaskData;
use crate::{metrics, run, worker, EngineConfig, EngineError, Prepared, Workers};
use baton_core::handler::ToolBackend;
use baton_core::model::ModelGateway;
use baton_core::store::{
    Page, PageRequest, SecretCipher, Store, TaskEvent, TaskFilter, TaskRecord,
};
use baton_core::ProjectId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// A run in this process: the turn it runs and how to stop it without waiting for a checkpoint.
pub(crate) struct LocalRun {
    /// The response id of the turn it runs.
    pub response_id: String,
    /// Wakes the run to cancel its turn.
    pub cancel: Arc<Notify>,
}

pub(crate) struct Inner {
    pub store: Arc<dyn Store>,
    pub gateway: Arc<dyn ModelGateway>,
    pub cipher: Arc<dyn SecretCipher>,
    pub hub: EventHub,
    pub config: EngineConfig,
    pub wake: Notify,
    pub cancels: Mutex<HashMap<String, LocalRun>>,
    pub tools: Arc<dyn ToolBackend>,
    pub schedules_changed: Notify,
    pub metrics: metrics::Metrics,
    pub drain: crate::drain::Drain,
    pub lookups: crate::lookups::Lookups,
}

/// The agent engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

impl Engine {
    /// An engine over a store, a model gateway, a cipher for secrets and a tool backend.
    pub fn new(
        store: Arc<dyn Store>,
        gateway: Arc<dyn ModelGateway>,
        cipher: Arc<dyn SecretCipher>,
        tools: Arc<dyn ToolBackend>,
        config: EngineConfig,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                gateway,
                cipher,
                hub: EventHub::default(),
                lookups: crate::lookups::Lookups::new(config.lookup_ttl),
                config,
                wake: Notify::new(),
                cancels: Mutex::new(HashMap::new()),
                tools,
                schedules_changed: Notify::new(),
                metrics: metrics::Metrics::default(),
                drain: Default::default(),
            }),
        }
    }

    /// Decodes a task's checkpoint.
    pub fn data(task: &TaskRecord) -> Result<TaskData, EngineError> {
        TaskData::of(task)
    }

    /// Decodes a task's checkpoint without copying its history (`history` is empty): its
    /// state, ids and usage, at a cost that does not grow with the conversation.
    pub fn data_without_history(task: &TaskRecord) -> Result<TaskData, EngineError> {
        TaskData::without_history(task)
    }

    /// Decodes a task's checkpoint, moving its history out of the record rather than copying
    /// it (the record's `history` is left empty): for a task about to be rendered, not stored.
    pub fn take_data(task: &mut TaskRecord) -> Result<TaskData, EngineError> {
        TaskData::take_from(task)
    }

    /// Loads a task of the project.
    pub async fn task(
        &self,
        project: &ProjectId,
        id: &str,
    ) -> Result<Option<TaskRecord>, EngineError> {
        Ok(self.inner.store.task(project, id).await?)
    }

    /// Tasks of a thread, oldest first.
    pub async fn thread_tasks(
        &self,
        project: &ProjectId,
        thread_id: &str,
    ) -> Result<Vec<TaskRecord>, EngineError> {
        Ok(self.inner.store.thread_tasks(project, thread_id).await?)
    }

    /// A page of the project's tasks passing `filter`, newest first; with `owner`, only the
    /// tasks acting for that identity (an end user's own).
    pub async fn list_tasks(
        &self,
        project: &ProjectId,
        filter: &TaskFilter,
        owner: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<TaskRecord>, EngineError> {
        let store = &self.inner.store;
        let Some(owner) = owner else {
            return Ok(store.list_tasks(project, filter, page).await?);
        };
        // Ownership lives in the checkpoint, not in a column: scan the filtered list in
        // chunks from the cursor until one more owned task than asked for turns up.
        const CHUNK: u64 = 200;
        let backwards = page.ending_before.is_some();
        let wanted = page.limit.map(|l| l as usize);
        let mut cursor = PageRequest {
            limit: Some(CHUNK),
            ..page.clone()
        };
        let mut owned: Vec<TaskRecord> = Vec::new();
        loop {
            let chunk = store.list_tasks(project, filter, &cursor).await?;
            let edge = if backwards {
                chunk.items.first()
            } else {
                chunk.items.last()
            }
            .map(|t| t.id.clone());
            let mut mine = Vec::new();
            for task in chunk.items {
                if identity_id(&Self::data(&task)?).as_deref() == Some(owner) {
                    mine.push(task);
                }
            }
            if backwards {
                // Newest first: the chunk lies above the tasks found so far.
                mine.append(&mut owned);
                owned = mine;
            } else {
                owned.append(&mut mine);
            }
            let enough = wanted.is_some_and(|w| owned.len() > w);
            match edge {
                Some(edge) if chunk.has_more && !enough => {
                    if backwards {
                        cursor.ending_before = Some(edge);
                    } else {
                        cursor.starting_after = Some(edge);
                    }
                }
                _ => break,
            }
        }
        let has_more = wanted.is_some_and(|w| owned.len() > w);
        if let Some(w) = wanted.filter(|w| owned.len() > *w) {
            if backwards {
                // The `w` closest to the cursor: the oldest of those found.
                owned.drain(..owned.len() - w);
            } else {
                owned.truncate(w);
            }
        }
        Ok(Page {
            items: owned,
            has_more,
        })
    }

    /// How many of the project's tasks pass `filter`; with `owner`, only that identity's.
    pub async fn count_tasks(
        &self,
        project: &ProjectId,
        filter: &TaskFilter,
        owner: Option<&str>,
    ) -> Result<u64, EngineError> {
        let store = &self.inner.store;
        let Some(owner) = owner else {
            return Ok(store.count_tasks(project, filter).await?);
        };
        // Ownership lives in the checkpoint: count it chunk by chunk.
        let mut cursor = PageRequest {
            limit: Some(200),
            ..PageRequest::default()
        };
        let mut owned = 0;
        loop {
            let chunk = store.list_tasks(project, filter, &cursor).await?;
            for task in &chunk.items {
                if identity_id(&Self::data(task)?).as_deref() == Some(owner) {
                    owned += 1;
                }
            }
            match chunk.items.last() {
                Some(last) if chunk.has_more => cursor.starting_after = Some(last.id.clone()),
                _ => return Ok(owned),
            }
        }
    }

    /// Receives a task's live events from now on.
    pub fn subscribe(&self, task_id: &str) -> events::Subscription {
        self.inner.hub.subscribe(task_id)
    }

    /// How many tasks have live listeners in this process right now.
    pub fn live_streams(&self) -> usize {
        self.inner.hub.len()
    }

    /// Persisted events after `seq`.
    pub async fn events_after(
        &self,
        task_id: &str,
        seq: u64,
    ) -> Result<Vec<TaskEvent>, EngineError> {
        Ok(self.inner.store.events_after(task_id, seq).await?)
    }

    /// Asks a task to stop its running turn; the turn ends `canceled` at its next await point
    /// (messages queued behind it still run).
    pub async fn cancel(&self, project: &ProjectId, id: &str) -> Result<(), EngineError> {
        self.inner.store.request_cancel(project, id).await?;
        self.wake_local_run(id, None);
        Ok(())
    }

    /// Wakes the run of a task in this process so its turn stops now rather than at its next
    /// checkpoint; with `turn`, only if it still runs that turn.
    pub(crate) fn wake_local_run(&self, task_id: &str, turn: Option<&str>) {
        let local = self
            .inner
            .cancels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(task_id)
            .filter(|run| turn.is_none_or(|t| t == run.response_id))
            .map(|run| run.cancel.clone());
        if let Some(notify) = local {
            notify.notify_one();
        }
    }

    /// This process's worker id, the lease owner of the runs it holds.
    pub fn worker_id(&self) -> &str {
        &self.inner.config.worker_id
    }

    /// The engine's counters.
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.inner.metrics
    }

    /// The shortest interval a cron or interval schedule may fire at.
    pub fn schedule_min_interval(&self) -> Duration {
        self.inner.config.scheduler.min_interval
    }

    /// Wakes the background workers (after storing a task they should pick up).
    pub fn wake_workers(&self) {
        self.inner.wake.notify_one();
    }

    /// Runs a prepared (leased) task until it pauses or ends, in its own tokio task so a client
    /// that goes away does not cut the run short.
    pub fn spawn(
        &self,
        prepared: Prepared,
    ) -> tokio::task::JoinHandle<Result<TaskRecord, EngineError>> {
        let inner = self.inner.clone();
        tokio::spawn(async move {
            run::run(inner, prepared.task, prepared.spec, run::Origin::Request).await
        })
    }

    /// Starts this process's background workers.
    pub fn start_workers(&self) -> Workers {
        worker::start(self.inner.clone())
    }
}

/// The `id` of the identity a task acts for.
fn identity_id(data: &TaskData) -> Option<String> {
    data.identity
        .as_ref()
        .and_then(|i| i.get("id"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}
