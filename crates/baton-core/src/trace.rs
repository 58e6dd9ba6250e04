//! Traces: what every run did, as spans (the run, each model call, each tool call, memory and
//! knowledge operations, sub-agents), with tokens, cost and timings.

use crate::store::StoreError;
use crate::tenant::ProjectId;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What a span records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanKind {
    /// One turn of an agent run (the root of its spans).
    Agent,
    /// One model call.
    Llm,
    /// One tool call.
    Tool,
    /// A memory store operation.
    Memory,
    /// A knowledge base search.
    Knowledge,
    /// A call to a sub-agent (its run is a subtree under it).
    SubAgent,
}

impl SpanKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Llm => "llm",
            Self::Tool => "tool",
            Self::Memory => "memory",
            Self::Knowledge => "knowledge",
            Self::SubAgent => "sub_agent",
        }
    }

    /// The kind with this stored name.
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Agent,
            Self::Llm,
            Self::Tool,
            Self::Memory,
            Self::Knowledge,
            Self::SubAgent,
        ]
        .into_iter()
        .find(|k| k.as_str() == name)
    }
}

/// One span.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanRecord {
    /// W3C trace id (32 hex).
    pub trace_id: String,
    /// Span id (16 hex).
    pub span_id: String,
    /// The parent span, none for a root.
    pub parent_span_id: Option<String>,
    /// Owning project.
    pub project_id: ProjectId,
    /// The task the span belongs to.
    pub task_id: String,
    /// The agent's key.
    pub agent_key: String,
    /// What it records.
    pub kind: SpanKind,
    /// A readable name (`chat openai/gpt-4o`, `tool current_date`, …).
    pub name: String,
    /// `ok` or `error`.
    pub status: String,
    /// Start (Unix ms).
    pub started_ms: i64,
    /// End (Unix ms).
    pub ended_ms: i64,
    /// Prompt tokens (model calls).
    pub prompt_tokens: u64,
    /// Completion tokens (model calls).
    pub completion_tokens: u64,
    /// Cost in USD (model calls).
    pub cost: f64,
    /// Everything else: provider, model, finish reason, tool arguments and result or error,
    /// schedule id, identity, metadata (secrets redacted).
    pub attributes: Map<String, Value>,
}

/// Which traces a search wants.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceQuery {
    /// Root spans starting at or after this (Unix ms).
    pub from_ms: i64,
    /// Root spans starting before this (Unix ms).
    pub to_ms: i64,
    /// Only this agent's.
    pub agent_key: Option<String>,
    /// Only roots with this status.
    pub status: Option<String>,
    /// Only roots whose attributes hold these values (`metadata.x`, `identity_id`, …).
    pub attributes: Vec<(String, Value)>,
    /// At most this many.
    pub limit: u64,
}

/// Stored spans.
#[async_trait]
pub trait TraceStore: Send + Sync {
    /// Stores spans.
    async fn put_spans(&self, spans: &[SpanRecord]) -> Result<(), StoreError>;

    /// Every span of a trace in the project, by start time.
    async fn trace_spans(
        &self,
        project: &ProjectId,
        trace_id: &str,
    ) -> Result<Vec<SpanRecord>, StoreError>;

    /// Spans of `kind` in the project started in `[from_ms, to_ms)`.
    async fn spans_between(
        &self,
        project: &ProjectId,
        kind: Option<SpanKind>,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<SpanRecord>, StoreError>;
}

/// The value at a dotted path (`metadata.source`) of span attributes.
pub fn attribute<'a>(attributes: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut current = attributes.get(parts.next()?)?;
    for part in parts {
        current = current.get(part)?;
    }
    Some(current)
}

/// Receives finished spans as runs checkpoint them, e.g. to send them to an OpenTelemetry
/// collector. Called on the run's path: it must queue, never block or wait.
pub trait SpanExporter: Send + Sync + std::fmt::Debug {
    /// Takes a batch of finished spans.
    fn export(&self, spans: &[SpanRecord]);
}
