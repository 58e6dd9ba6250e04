//! Background workers: claim tasks from the database with leases and run them. A task whose
//! worker died (its lease expired) or handed it over (released its lease) is claimed again and
//! resumed from its last checkpoint.

use crate::run::{self, Origin};
use crate::{now_ms, EngineError, Inner};
use baton_core::store::ClaimedTask;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinHandle};

/// The running workers of a process.
pub struct Workers {
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Stops claiming new tasks and waits for the workers' current runs to end (see
    /// [`crate::Engine::drain`] to have them hand their tasks over instead).
    pub async fn shutdown(self) {
        self.stop_claiming();
        self.join().await;
    }

    /// Stops the workers at once; their tasks' leases expire and other workers resume them.
    pub fn abort(self) {
        for handle in self.handles {
            handle.abort();
        }
    }

    /// Tells the workers to claim nothing more; handles to stop them at once.
    pub(crate) fn stop_claiming(&self) -> Vec<AbortHandle> {
        let _ = self.stop.send(true);
        self.handles.iter().map(JoinHandle::abort_handle).collect()
    }

    /// Waits until every worker has returned.
    pub(crate) async fn join(self) {
        for handle in self.handles {
            let _ = handle.await;
        }
    }
}

pub(crate) fn start(inner: Arc<Inner>) -> Workers {
    let (stop, watch) = watch::channel(false);
    let handles = (0..inner.config.workers.max(1))
        .map(|_| tokio::spawn(work(inner.clone(), watch.clone())))
        .collect();
    Workers { stop, handles }
}

async fn work(inner: Arc<Inner>, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        let lease_ms = inner.config.lease.as_millis() as i64;
        match inner
            .store
            .claim_task(&inner.config.worker_id, now_ms(), lease_ms)
            .await
        {
            Ok(Some(claimed)) => {
                let id = claimed.task.id.clone();
                match run_claimed(&inner, claimed).await {
                    Ok(()) | Err(EngineError::HandedOver(_)) => {}
                    Err(EngineError::LeaseLost(_)) => {
                        tracing::info!(task = %id, "lease lost; another worker continues the task")
                    }
                    Err(other) => {
                        tracing::error!(task = %id, error = %other, "background run failed")
                    }
                }
            }
            Ok(None) => {
                tokio::select! {
                    _ = inner.wake.notified() => {}
                    _ = tokio::time::sleep(inner.config.poll_interval) => {}
                    _ = stop.changed() => return,
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "claiming tasks failed");
                tokio::select! {
                    _ = tokio::time::sleep(inner.config.poll_interval) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    }
}

/// Says, once, that this worker takes over a run another one held (its lease expired or was
/// released), and where the run stands.
fn log_takeover(claimed: &ClaimedTask, data: &crate::state::TaskData) {
    let Some(previous) = &claimed.previous_owner else {
        return;
    };
    let phase = if data.in_flight.values().any(|a| !a.interrupted) {
        "tool calls were running"
    } else if data.model_call.is_some() {
        "a model call was running"
    } else {
        "between steps"
    };
    tracing::info!(
        task = %claimed.task.id,
        previous_owner = %previous,
        step = data.iterations,
        phase,
        "taking over run"
    );
}

async fn run_claimed(inner: &Arc<Inner>, claimed: ClaimedTask) -> Result<(), EngineError> {
    let mut data = crate::state::TaskData::of(&claimed.task)?;
    log_takeover(&claimed, &data);
    let mut task = claimed.task;
    let spec = inner
        .store
        .agent_version(&task.project_id, &task.agent_id, task.agent_version)
        .await?
        .map(|v| v.spec);
    let Some(spec) = spec else {
        // The agent was deleted: the task cannot run; end it rather than leave it working.
        data.error = Some("the agent version this task runs was deleted".into());
        task.state = baton_core::task::TaskState::Failed;
        task.lease_owner = None;
        task.lease_expires_at = None;
        data.put_into(&mut task)?;
        let expected = task.revision;
        task.revision += 1;
        inner.store.save_task(&task, expected).await?;
        return Ok(());
    };
    run::run(inner.clone(), task, spec, Origin::Worker)
        .await
        .map(|_| ())
}
