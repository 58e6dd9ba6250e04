//! Draining a process that shuts down: workers claim nothing more, runs hand their tasks over
//! to other servers at their next step boundary (the step in flight completes and is
//! checkpointed, then the lease is released), and open streams end with a hint to reconnect
//! elsewhere — all within a deadline, after which the process may exit anyway.

use crate::{Engine, EngineError, Workers};
use baton_core::store::TaskRecord;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::{JoinError, JoinHandle};
use tokio::time::Instant;

/// How far this process's drain has gone; each phase includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum DrainPhase {
    /// No drain: the process serves.
    #[default]
    Serving,
    /// Workers claim nothing more; runs nobody waits on in this process (a worker's, a
    /// streamed one) hand over at their next step boundary; a stream ends once its task's run
    /// here stopped.
    HandOver,
    /// Runs that synchronous requests wait on hand over at their next step boundary too.
    HandOverAll,
    /// The drain ran out of time: streams end and waiting requests are answered now.
    Closing,
}

/// When a run hands its task over during a drain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HandOverPolicy {
    /// Nobody waits on this process for its end (a worker's run; a streamed run, whose client
    /// reconnects): as soon as the drain starts.
    Early,
    /// A synchronous request waits for its end: only in the drain's second half.
    Late,
    /// It is part of its parent's step (a sub-agent's run): never; it ends with that step.
    Never,
}

impl HandOverPolicy {
    fn is_due(self, phase: DrainPhase) -> bool {
        match self {
            Self::Early => phase >= DrainPhase::HandOver,
            Self::Late => phase >= DrainPhase::HandOverAll,
            Self::Never => false,
        }
    }
}

type Runs = HashMap<String, u32>;

/// A process's drain phase and the runs it has in flight, by task.
pub(crate) struct Drain {
    phase: watch::Sender<DrainPhase>,
    runs: watch::Sender<Runs>,
}

impl Default for Drain {
    fn default() -> Self {
        Self {
            phase: watch::channel(DrainPhase::Serving).0,
            runs: watch::channel(Runs::new()).0,
        }
    }
}

impl Drain {
    /// The phase now.
    pub(crate) fn phase(&self) -> DrainPhase {
        *self.phase.borrow()
    }

    /// Moves on to `phase` (never back).
    pub(crate) fn enter(&self, phase: DrainPhase) {
        self.phase.send_if_modified(|now| {
            let later = phase > *now;
            if later {
                *now = phase;
            }
            later
        });
    }

    /// Whether a run of this policy should hand its task over at its next step boundary.
    pub(crate) fn asks(&self, policy: HandOverPolicy) -> bool {
        policy.is_due(self.phase())
    }

    /// Records a run of the task in this process until the returned entry is dropped.
    pub(crate) fn run_started(&self, task_id: &str) -> RunEntry {
        self.runs
            .send_modify(|runs| *runs.entry(task_id.to_owned()).or_default() += 1);
        RunEntry {
            runs: self.runs.clone(),
            task_id: task_id.to_owned(),
        }
    }

    /// Resolves once no run is left in this process.
    async fn runs_stopped(&self) {
        let mut runs = self.runs.subscribe();
        let _ = runs.wait_for(Runs::is_empty).await;
    }

    /// Resolves once the drain reaches `phase` (never if it does not).
    async fn reached(&self, phase: DrainPhase) {
        let mut phases = self.phase.subscribe();
        if phases.wait_for(|now| *now >= phase).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// What a stream of the task watches to know when it must end.
    pub(crate) fn stream_watch(&self, task_id: &str) -> StreamDrain {
        StreamDrain {
            phase: self.phase.subscribe(),
            runs: self.runs.subscribe(),
            task_id: task_id.to_owned(),
        }
    }
}

/// A run in flight in this process; dropping it (the run ended, handed over or was aborted)
/// removes it.
pub(crate) struct RunEntry {
    runs: watch::Sender<Runs>,
    task_id: String,
}

impl Drop for RunEntry {
    fn drop(&mut self) {
        self.runs.send_modify(|runs| {
            if let Some(count) = runs.get_mut(&self.task_id) {
                *count -= 1;
                if *count == 0 {
                    runs.remove(&self.task_id);
                }
            }
        });
    }
}

/// A stream's view of the drain.
pub(crate) struct StreamDrain {
    phase: watch::Receiver<DrainPhase>,
    runs: watch::Receiver<Runs>,
    task_id: String,
}

impl StreamDrain {
    /// Resolves when the stream must end: the process drains and no run of the task is left
    /// here (all it stored is readable), or the drain ran out of time. Cancel-safe.
    pub(crate) async fn must_end(&mut self) {
        if self
            .phase
            .wait_for(|p| *p >= DrainPhase::HandOver)
            .await
            .is_err()
        {
            return std::future::pending().await;
        }
        let task_id = &self.task_id;
        let ended = tokio::select! {
            r = self.runs.wait_for(|runs| !runs.contains_key(task_id)) => r.is_ok(),
            r = self.phase.wait_for(|p| *p >= DrainPhase::Closing) => r.is_ok(),
        };
        if !ended {
            std::future::pending::<()>().await;
        }
    }
}

impl Engine {
    /// Drains this process for shutdown within `timeout`: the workers claim nothing more, and
    /// each run hands its task over at its next step boundary — at once when nobody waits on
    /// this process for it, after half the timeout when a synchronous request does — releasing
    /// its lease so another server continues it at once; open streams end with a hint to
    /// reconnect. At the timeout, streams still open end and waiting requests are answered;
    /// runs still in a step keep their leases until they expire. Whether every run stopped in
    /// time.
    pub async fn drain(&self, workers: Workers, timeout: Duration) -> bool {
        let started = Instant::now();
        let drain = &self.inner.drain;
        drain.enter(DrainPhase::HandOver);
        let aborts = workers.stop_claiming();
        let workers_done = workers.join();
        let stopped = async {
            workers_done.await;
            drain.runs_stopped().await;
        };
        tokio::pin!(stopped);
        // Synchronous requests get the first half to see their runs end here.
        let done_early = tokio::time::timeout_at(started + timeout / 2, &mut stopped).await;
        if done_early.is_ok() {
            return true;
        }
        drain.enter(DrainPhase::HandOverAll);
        if tokio::time::timeout_at(started + timeout, &mut stopped)
            .await
            .is_ok()
        {
            return true;
        }
        drain.enter(DrainPhase::Closing);
        for abort in aborts {
            abort.abort();
        }
        tracing::warn!(
            timeout_ms = timeout.as_millis() as u64,
            "the drain timed out: runs still in a step keep their leases until they expire"
        );
        false
    }

    /// How far this process's drain has gone.
    pub fn drain_phase(&self) -> DrainPhase {
        self.inner.drain.phase()
    }

    /// Waits for a run a request holds open (from [`Engine::spawn`]): its outcome, or
    /// `HandedOver` when this process's drain runs out of time first (the run then keeps its
    /// lease until it expires, and another server continues the task).
    pub async fn outcome(
        &self,
        task_id: &str,
        run: JoinHandle<Result<TaskRecord, EngineError>>,
    ) -> Result<Result<TaskRecord, EngineError>, JoinError> {
        tokio::select! {
            outcome = run => outcome,
            () = self.inner.drain.reached(DrainPhase::Closing) => {
                Ok(Err(EngineError::HandedOver(task_id.to_owned())))
            }
        }
    }
}
