//! Handing a run over when its process drains: who started the run decides when it stops, and
//! once its last checkpoint is stored its lease is released so another server continues at once.

use crate::drain::HandOverPolicy;
use crate::state::TaskData;
use crate::{EngineError, Inner};
use baton_core::store::TaskRecord;

/// Who started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A background worker that claimed the task.
    Worker,
    /// A request that holds the run open: streamed, or waiting for its end.
    Request,
    /// A parent run's `call_sub_agent` step.
    SubAgent,
}

impl Origin {
    /// When a run of this origin hands over: a streamed request's client reconnects elsewhere,
    /// so it goes as early as a worker's run; a synchronous one is given time to end here.
    pub(crate) fn policy(self, streaming: bool) -> HandOverPolicy {
        match self {
            Self::Worker => HandOverPolicy::Early,
            Self::Request if streaming => HandOverPolicy::Early,
            Self::Request => HandOverPolicy::Late,
            Self::SubAgent => HandOverPolicy::Never,
        }
    }
}

/// Releases the lease of a run that stopped at a step boundary (its checkpoint stored), so any
/// server claims the task at once; the error its caller gets.
pub(super) async fn release(inner: &Inner, task: &TaskRecord, data: &TaskData) -> EngineError {
    let worker = &inner.config.worker_id;
    match inner.store.release_lease(&task.id, worker).await {
        Ok(true) => tracing::info!(
            task = %task.id,
            worker = %worker,
            step = data.iterations,
            "handed the run over: another server continues it"
        ),
        Ok(false) => tracing::warn!(
            task = %task.id,
            "handing the run over: its lease was held by another worker already"
        ),
        Err(e) => tracing::warn!(
            task = %task.id,
            error = %e,
            "releasing the lease failed: another server continues the run once it expires"
        ),
    }
    EngineError::HandedOver(task.id.clone())
}
