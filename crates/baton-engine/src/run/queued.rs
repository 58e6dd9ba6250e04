//! The runner's side of messages queued on its task while it runs: taking them in from the
//! store, and starting their turns.

use super::{wiring, Runner};
use crate::engine::LocalRun;
use crate::machine::Input;
use crate::state::TaskData;
use crate::EngineError;
use std::sync::Arc;
use tokio::sync::Notify;

impl Runner {
    /// Takes in the messages other writers queued on the task since this worker last stored
    /// it — the only writes anyone else makes to a task a worker runs. Each is one write of the
    /// task that adds one to `queued_total`, so the revision tells whether anything else was
    /// written: then another worker took the task over, and this one stops (`LeaseLost`).
    /// Whether any message came.
    pub(super) async fn take_in_queued(&mut self) -> Result<bool, EngineError> {
        let lost = || EngineError::LeaseLost(self.task.id.clone());
        let stored = self
            .inner
            .store
            .task(&self.task.project_id, &self.task.id)
            .await?
            .ok_or_else(lost)?;
        if stored.revision == self.task.revision {
            return Ok(false);
        }
        // Queued messages never add to the history: a longer one was written by another run.
        if stored.history_stored != self.task.history_stored {
            return Err(lost());
        }
        let theirs: TaskData = serde_json::from_value(stored.data)
            .map_err(|e| EngineError::internal("task checkpoint", e))?;
        let appended = theirs.queued_total.checked_sub(self.data.queued_total);
        let writes = stored.revision.checked_sub(self.task.revision);
        let Some(appended) = appended.filter(|n| Some(*n) == writes) else {
            return Err(lost());
        };
        let appended = usize::try_from(appended).map_err(|_| lost())?;
        let Some(first) = theirs.queued.len().checked_sub(appended) else {
            return Err(lost());
        };
        self.data.queued.extend_from_slice(&theirs.queued[first..]);
        self.data.queued_total = theirs.queued_total;
        self.task.revision = stored.revision;
        Ok(appended > 0)
    }

    /// The turn was canceled in this process (a cancel request, or a message that interrupts
    /// it): the messages queued meanwhile are taken in first, so the machine knows which.
    pub(super) async fn canceled(&mut self) -> Result<Input, EngineError> {
        self.take_in_queued().await?;
        Ok(Input::Canceled)
    }

    /// A queued message's turn starts: cancel requests were for the turn before (the stored
    /// flag is cleared before the new turn is stored, so a request for the new one is kept),
    /// the local wake-up is renewed for the new turn, and the tools are resolved again with the
    /// turn's variables.
    pub(super) async fn begin_next_turn(&mut self) -> Result<(), EngineError> {
        self.inner.store.clear_cancel(&self.task.id).await?;
        self.cancel_seen = None;
        let cancel = Arc::new(Notify::new());
        self.inner
            .cancels
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                self.task.id.clone(),
                LocalRun {
                    response_id: self.data.response_id.clone(),
                    cancel: cancel.clone(),
                },
            );
        self.cancel = cancel;
        self.tools = wiring::toolset(
            &self.inner,
            &self.task,
            &self.data,
            &self.spec,
            &self.ledger,
            &self.calls_made,
        )
        .await?;
        Ok(())
    }
}
