//! What makes a run durable: its events queued for the checkpoint and published once stored,
//! the checkpoint itself (compare-and-swap on the task's revision), and the lease renewed
//! while it runs.

use super::Runner;
use crate::events::Event;
use crate::machine::RunEvent;
use crate::{now_ms, EngineError, Inner};
use baton_core::store::{StoreError, TaskEvent};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

/// Renews a run's lease every third of its length while the run goes on; flags `lost` when
/// another worker took the task.
pub(super) struct Renewer {
    stop: Arc<Notify>,
    handle: tokio::task::JoinHandle<()>,
}

impl Renewer {
    /// Starts renewing the task's lease.
    pub(super) fn start(inner: &Arc<Inner>, task_id: &str, lost: Arc<AtomicBool>) -> Self {
        let stop = Arc::new(Notify::new());
        let handle = tokio::spawn(renew(inner.clone(), task_id.to_owned(), lost, stop.clone()));
        Self { stop, handle }
    }

    /// Stops renewing. A renewal under way completes first: none lands after a release.
    pub(super) async fn stop(self) {
        self.stop.notify_one();
        let _ = self.handle.await;
    }
}

async fn renew(inner: Arc<Inner>, task_id: String, lost: Arc<AtomicBool>, stop: Arc<Notify>) {
    let lease = inner.config.lease;
    let mut tick = tokio::time::interval(lease / 3);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.notified() => return,
        }
        let until = now_ms() + lease.as_millis() as i64;
        match inner
            .store
            .renew_lease(&task_id, &inner.config.worker_id, until)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                lost.store(true, Ordering::SeqCst);
                return;
            }
            Err(e) => tracing::warn!(task = %task_id, error = %e, "lease renewal failed"),
        }
    }
}

/// What became of a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stored {
    /// It is stored.
    Saved,
    /// It would have ended the turn, but messages were queued meanwhile: not stored.
    Reopened,
}

impl Runner {
    /// Gives the event the next id of the task's stream and queues it for the next
    /// checkpoint, which stores then publishes it. A text delta (never stored) goes out at once.
    pub(super) fn emit(&mut self, event: RunEvent) {
        if matches!(event, RunEvent::Delta { .. }) {
            let after = self.seq.load(Ordering::SeqCst);
            let delta = Arc::new(Event::now(after, event));
            self.inner.hub.publish(&self.task.id, delta);
            return;
        }
        let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        let event = Arc::new(Event::now(seq, event));
        self.pending_events.push(TaskEvent {
            seq,
            data: event.to_stored(),
        });
        self.unpublished.push(event);
    }

    /// Writes the checkpoint (compare-and-swap on the revision) and the step's events. Messages
    /// other writers queued on the task meanwhile are taken in and the write retried; the end
    /// of a turn is not stored when such messages came (`Reopened`: the machine decides again).
    pub(super) async fn checkpoint(&mut self) -> Result<Stored, EngineError> {
        loop {
            if self.lease_lost.load(Ordering::SeqCst) {
                return Err(EngineError::LeaseLost(self.task.id.clone()));
            }
            self.data.event_seq = self.seq.load(Ordering::SeqCst);
            // The history is not part of the JSON; the store appends its unsaved messages.
            self.task.data = serde_json::to_value(&self.data)
                .map_err(|e| EngineError::internal("encode checkpoint", e))?;
            self.task.updated = baton_core::id::now_rfc3339();
            if self.task.state.is_inactive() {
                self.task.lease_owner = None;
                self.task.lease_expires_at = None;
            } else {
                self.task.lease_owner = Some(self.inner.config.worker_id.clone());
                self.task.lease_expires_at =
                    Some(now_ms() + self.inner.config.lease.as_millis() as i64);
            }
            let expected = self.task.revision;
            self.task.revision += 1;
            // Lent to the record for the save, not copied.
            self.task.history = std::mem::take(&mut self.data.history);
            let saved = self
                .inner
                .store
                .save_checkpoint(&self.task, expected, &self.pending_events, &self.spans)
                .await;
            self.data.history = std::mem::take(&mut self.task.history);
            match saved {
                Ok(saved) => {
                    self.task.history_stored = self.data.history.len() as u64;
                    self.cancel_seen = Some(saved.cancel_requested);
                    break;
                }
                Err(StoreError::Conflict(_)) => {
                    self.task.revision = expected;
                    let grew = self.take_in_queued().await?;
                    if grew && self.task.state.is_inactive() {
                        return Ok(Stored::Reopened);
                    }
                }
                Err(e) => {
                    self.task.revision = expected;
                    return Err(e.into());
                }
            }
        }
        self.pending_events.clear();
        let spans = std::mem::take(&mut self.spans);
        for event in self.unpublished.drain(..) {
            self.inner.hub.publish(&self.task.id, event);
        }
        if !spans.is_empty() {
            if let Some(exporter) = &self.inner.config.span_exporter {
                exporter.export(&spans);
            }
        }
        Ok(Stored::Saved)
    }

    pub(super) async fn cancel_requested(&self) -> Result<bool, EngineError> {
        Ok(self.inner.store.cancel_requested(&self.task.id).await?)
    }
}
