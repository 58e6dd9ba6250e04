//! Stopping a server gracefully: the listener closes, the engine drains (runs hand their tasks
//! over, streams end with a hint to reconnect), requests in flight are answered — all bounded
//! by the drain timeout.

use baton_engine::{Engine, Workers};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Past the drain timeout, how long streams ended by it get to send their last event.
const FLUSH: Duration = Duration::from_millis(500);

/// What a stopping server drains.
pub(crate) struct Draining {
    /// The engine whose runs hand over.
    pub engine: Engine,
    /// Its background workers.
    pub workers: Workers,
    /// The scheduler, if this server runs one.
    pub scheduler: Option<baton_engine::scheduler::Scheduler>,
    /// The longest drain.
    pub timeout: Duration,
}

impl Draining {
    /// Stops accepting, drains, and waits for the accept loop's connections, within the
    /// timeout; what serving returned.
    pub(crate) async fn run(
        self,
        mut serving: JoinHandle<std::io::Result<()>>,
        stop_accepting: oneshot::Sender<()>,
    ) -> std::io::Result<()> {
        let deadline = Instant::now() + self.timeout;
        tracing::info!(
            drain_timeout_ms = self.timeout.as_millis() as u64,
            "draining: runs hand over at their next step, streams end"
        );
        if let Some(scheduler) = self.scheduler {
            scheduler.abort();
        }
        let _ = stop_accepting.send(());
        let drained = self.engine.drain(self.workers, self.timeout).await;
        let served = match tokio::time::timeout_at(deadline + FLUSH, &mut serving).await {
            Ok(Ok(served)) => served,
            Ok(Err(e)) => Err(std::io::Error::other(e)),
            Err(_) => {
                tracing::warn!("requests still open at the drain timeout were cut");
                serving.abort();
                Ok(())
            }
        };
        if drained {
            tracing::info!("drained: every run here ended or was handed over");
        }
        served
    }
}
