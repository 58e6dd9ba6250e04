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

/// How usage is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UsageGroup {
    /// By agent key, over model calls.
    Agent,
    /// By `provider/model`, over model calls.
    Model,
    /// By UTC day (`YYYY-MM-DD`) of the model call.
    Day,
    /// By the run's `identity_id`, over turn roots' totals (sub-agents included).
    Identity,
}

impl UsageGroup {
    /// The group with this wire name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "agent" => Some(Self::Agent),
            "model" => Some(Self::Model),
            "day" => Some(Self::Day),
            "identity" => Some(Self::Identity),
            _ => None,
        }
    }

    /// The key of a span in this grouping (the stores without SQL group with it).
    pub fn key(self, s: &SpanRecord) -> String {
        let text = |k: &str| s.attributes.get(k).and_then(Value::as_str);
        match self {
            Self::Agent => s.agent_key.clone(),
            Self::Model => format!(
                "{}/{}",
                text("provider").unwrap_or_default(),
                text("model").unwrap_or_default()
            ),
            Self::Day => chrono::DateTime::from_timestamp_millis(s.started_ms)
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            Self::Identity => text("identity_id").unwrap_or("(none)").to_owned(),
        }
    }

    /// The spans this grouping sums: model calls, or turn roots for identities.
    pub fn counts(self, s: &SpanRecord) -> bool {
        match self {
            Self::Identity => s.kind == SpanKind::Agent && s.parent_span_id.is_none(),
            _ => s.kind == SpanKind::Llm,
        }
    }
}

/// Tokens, cost and count of one usage group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageTotals {
    /// The group's key.
    pub key: String,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Cost in USD.
    pub cost: f64,
    /// Spans counted.
    pub count: u64,
}

impl UsageTotals {
    /// Adds a span: its own tokens for a model call, its run's totals for a turn root.
    pub fn add(&mut self, s: &SpanRecord) {
        if s.kind == SpanKind::Llm {
            self.prompt_tokens += s.prompt_tokens;
            self.completion_tokens += s.completion_tokens;
            self.cost += s.cost;
        } else {
            let number = |k: &str| s.attributes.get(k).and_then(Value::as_f64).unwrap_or(0.0);
            self.prompt_tokens += number("total_prompt_tokens") as u64;
            self.completion_tokens += number("total_completion_tokens") as u64;
            self.cost += number("total_cost");
        }
        self.count += 1;
    }

    /// Adds another group's totals.
    pub fn merge(&mut self, other: &UsageTotals) {
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.cost += other.cost;
        self.count += other.count;
    }
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

    /// Every span of several traces in the project, by trace, then start time.
    async fn spans_of_traces(
        &self,
        project: &ProjectId,
        trace_ids: &[String],
    ) -> Result<Vec<SpanRecord>, StoreError>;

    /// Usage of spans started in `[from_ms, to_ms)`, summed per group by the store, by key.
    async fn usage(
        &self,
        project: &ProjectId,
        group: UsageGroup,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<UsageTotals>, StoreError>;

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
