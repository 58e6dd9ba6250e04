//! The engine handle: its shared state, tasks, live events, cancellation and workers.

use crate::events::{self, EventHub};
use crate::state::TaskData;
use crate::{metrics, run, worker, EngineConfig, EngineError, Prepared, Workers};
use baton_core::handler::ToolBackend;
use baton_core::model::ModelGateway;
use baton_core::store::{SecretCipher, Store, TaskEvent, TaskRecord};
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
