//! The engine's tuning.

use crate::scheduler;
use baton_core::trace::SpanExporter;
use std::sync::Arc;
use std::time::Duration;

/// Tuning of the engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Background workers in this process.
    pub workers: usize,
    /// How long a lease lasts without renewal.
    pub lease: Duration,
    /// How often idle workers look for claimable tasks (they are also woken on submit).
    pub poll_interval: Duration,
    /// This process's worker id (unique per process).
    pub worker_id: String,
    /// The scheduler's settings (its minimum interval also checks new schedules).
    pub scheduler: scheduler::SchedulerConfig,
    /// Where finished spans go besides the trace store (e.g. an OTLP collector), if anywhere.
    pub span_exporter: Option<Arc<dyn SpanExporter>>,
    /// How long an API key or agent read for a run is used again without reading it anew.
    /// A key revoked or an agent changed through another server on the same database is seen
    /// here after at most this long (at once when changed through this engine); zero reads
    /// them for every request.
    pub lookup_ttl: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            workers: 8,
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_secs(1),
            worker_id: format!("worker-{}", baton_core::id::new_id()),
            scheduler: scheduler::SchedulerConfig::default(),
            span_exporter: None,
            lookup_ttl: Duration::from_secs(2),
        }
    }
}
