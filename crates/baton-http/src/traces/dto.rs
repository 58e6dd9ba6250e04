//! The bodies of `/v3/traces`: traces and spans. Response fields are declared in the order
//! earlier releases sent them (alphabetical).

use crate::wire::{rfc3339_ms, ListObject};
use baton_core::trace::{SpanKind, SpanRecord};
use baton_engine::traces::{first_attributes, TraceSummary};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// Tokens counted over model calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TraceTokens {
    /// Output tokens.
    pub completion_tokens: u64,
    /// Input tokens.
    pub prompt_tokens: u64,
    /// Both.
    pub total_tokens: u64,
}

impl TraceTokens {
    fn new(prompt_tokens: u64, completion_tokens: u64) -> Self {
        Self {
            completion_tokens,
            prompt_tokens,
            total_tokens: prompt_tokens + completion_tokens,
        }
    }
}

/// A cost.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Cost {
    /// Always `USD`.
    pub currency: Currency,
    /// The amount.
    pub total: f64,
}

impl Cost {
    fn usd(total: f64) -> Self {
        Self {
            currency: Currency::Usd,
            total,
        }
    }
}

/// A currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Currency {
    /// US dollars.
    #[serde(rename = "USD")]
    Usd,
}

/// A run's trace: its first turn's root and the totals of all its turns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct Trace {
    /// The agent that ran.
    pub agent: TraceAgent,
    /// The first turn's root attributes (task, model, finish reason, identity, metadata, …;
    /// secret variables redacted).
    pub attributes: Map<String, Value>,
    /// The model calls' cost.
    pub cost: Cost,
    /// From the first start to the last end, in milliseconds.
    pub duration_ms: i64,
    /// The last end (RFC 3339).
    #[schema(required = true)]
    pub ended_at: Option<String>,
    /// The identity the run acted for, if any.
    #[schema(required = true)]
    pub identity_id: Option<String>,
    /// `provider/model` of each model call, in call order.
    pub models: Vec<String>,
    /// The first span's name.
    #[schema(required = true)]
    pub name: Option<String>,
    /// Always `trace`.
    pub object: TraceObject,
    /// The owning project.
    #[schema(required = true)]
    pub project_id: Option<String>,
    /// The first turn's root span id.
    #[schema(required = true)]
    pub root_span_id: Option<String>,
    /// How many spans it has.
    pub spans_count: usize,
    /// The first start (RFC 3339).
    #[schema(required = true)]
    pub started_at: Option<String>,
    /// `error` if a turn failed.
    pub status: TraceStatus,
    /// The tasks of its turns.
    pub task_ids: Vec<String>,
    /// The thread of the run, if any.
    #[schema(required = true)]
    pub thread_id: Option<String>,
    /// The trace id (32 hex).
    #[schema(required = true)]
    pub trace_id: Option<String>,
    /// How many turns it has.
    pub turns: usize,
    /// The model calls' tokens.
    pub usage: TraceTokens,
}

/// The agent of a [`Trace`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TraceAgent {
    /// The agent's key.
    #[schema(required = true)]
    pub name: Option<String>,
}

/// The `object` tag of a [`Trace`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TraceObject {
    /// A trace.
    Trace,
}

/// Whether every turn of a trace went well.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TraceStatus {
    /// No turn failed.
    Ok,
    /// A turn failed.
    Error,
}

impl From<&TraceSummary> for Trace {
    fn from(t: &TraceSummary) -> Self {
        let first = t.first.as_ref();
        let attributes = first_attributes(t);
        let text = |key: &str| {
            attributes
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Self {
            agent: TraceAgent {
                name: first.map(|f| f.agent_key.clone()),
            },
            cost: Cost::usd(t.usage.cost),
            duration_ms: t.ended_ms - t.started_ms,
            ended_at: rfc3339_ms(t.ended_ms),
            identity_id: text("identity_id"),
            models: t.models.clone(),
            name: first.map(|f| f.name.clone()),
            object: TraceObject::Trace,
            project_id: first.map(|f| f.project_id.0.clone()),
            root_span_id: first.map(|f| f.span_id.clone()),
            spans_count: t.spans,
            started_at: rfc3339_ms(t.started_ms),
            status: if t.ok {
                TraceStatus::Ok
            } else {
                TraceStatus::Error
            },
            task_ids: t.task_ids.iter().cloned().collect(),
            thread_id: text("thread_id"),
            trace_id: first.map(|f| f.trace_id.clone()),
            turns: t.turns,
            usage: TraceTokens::new(t.usage.prompt_tokens, t.usage.completion_tokens),
            attributes,
        }
    }
}

/// `GET /v3/traces/{trace_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TraceEnvelope {
    /// The trace.
    pub trace: Trace,
}

/// A span: a turn, a model call, a tool call, a memory or knowledge operation, or a call to a
/// sub-agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct Span {
    /// The agent's key.
    pub agent_key: String,
    /// Everything else it recorded (only when one span is retrieved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub attributes: Option<Map<String, Value>>,
    /// Its cost (model calls, and any span retrieved alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub cost: Option<Cost>,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
    /// Its end (RFC 3339).
    #[schema(required = true)]
    pub ended_at: Option<String>,
    /// Why the model stopped (model calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub finish_reasons: Option<Vec<Option<String>>>,
    /// Whether other spans hang under it.
    pub has_children: bool,
    /// The model (model calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<Option<String>>,
    /// A readable name (`chat openai/gpt-4o`, `tool current_date`, …).
    pub name: String,
    /// The same as `type`.
    pub operation: SpanType,
    /// The parent span, null for a root.
    #[schema(required = true)]
    pub parent_span_id: Option<String>,
    /// The provider (model calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<Option<String>>,
    /// The span's id (16 hex).
    pub span_id: String,
    /// Its start (RFC 3339).
    #[schema(required = true)]
    pub started_at: Option<String>,
    /// `ok`, `error`, or `interrupted` (a stopped server cut it).
    pub status: String,
    /// The task it belongs to.
    pub task_id: String,
    /// The trace id.
    pub trace_id: String,
    /// What it records.
    #[serde(rename = "type")]
    pub kind: SpanType,
    /// Its tokens (model calls, and any span retrieved alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub usage: Option<TraceTokens>,
}

/// What a span records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SpanType {
    /// A turn of an agent run (a root).
    Agent,
    /// A model call.
    Llm,
    /// A tool call.
    Tool,
    /// A memory store operation.
    Memory,
    /// A knowledge base search.
    Knowledge,
    /// A call to a sub-agent.
    SubAgent,
}

impl From<SpanKind> for SpanType {
    fn from(kind: SpanKind) -> Self {
        match kind {
            SpanKind::Agent => Self::Agent,
            SpanKind::Llm => Self::Llm,
            SpanKind::Tool => Self::Tool,
            SpanKind::Memory => Self::Memory,
            SpanKind::Knowledge => Self::Knowledge,
            SpanKind::SubAgent => Self::SubAgent,
        }
    }
}

impl Span {
    /// A span as a page of spans lists it.
    pub(crate) fn summary(s: &SpanRecord, has_children: bool) -> Self {
        let llm = s.kind == SpanKind::Llm;
        let text = |key: &str| {
            s.attributes
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Self {
            agent_key: s.agent_key.clone(),
            attributes: None,
            cost: llm.then(|| Cost::usd(s.cost)),
            duration_ms: s.ended_ms - s.started_ms,
            ended_at: rfc3339_ms(s.ended_ms),
            finish_reasons: s
                .attributes
                .get("finish_reason")
                .filter(|_| llm)
                .map(|f| vec![f.as_str().map(str::to_owned)]),
            has_children,
            model: llm.then(|| text("model")),
            name: s.name.clone(),
            operation: s.kind.into(),
            parent_span_id: s.parent_span_id.clone(),
            provider: llm.then(|| text("provider")),
            span_id: s.span_id.clone(),
            started_at: rfc3339_ms(s.started_ms),
            status: s.status.clone(),
            task_id: s.task_id.clone(),
            trace_id: s.trace_id.clone(),
            kind: s.kind.into(),
            usage: llm.then(|| TraceTokens::new(s.prompt_tokens, s.completion_tokens)),
        }
    }

    /// A span retrieved alone: with its attributes, tokens and cost.
    pub(crate) fn detail(s: &SpanRecord, has_children: bool) -> Self {
        Self {
            attributes: Some(s.attributes.clone()),
            cost: Some(Cost::usd(s.cost)),
            usage: Some(TraceTokens::new(s.prompt_tokens, s.completion_tokens)),
            ..Self::summary(s, has_children)
        }
    }
}

/// Traces a search found, newest first. (A named type rather than `ListPage<Trace>`: utoipa
/// inlines a generic's argument, and generated clients would get an anonymous trace class.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TracePage {
    /// The traces.
    pub data: Vec<Trace>,
    /// Whether more matched than `limit`.
    pub has_more: bool,
    /// Always `list`.
    pub object: ListObject,
}

/// A page of a trace's spans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SpanPage {
    /// The spans, in start order.
    pub data: Vec<Span>,
    /// Whether more follow.
    pub has_more: bool,
    /// The `page_token` of the next page, null on the last.
    #[schema(required = true)]
    pub next_page_token: Option<String>,
    /// Always `list`.
    pub object: ListObject,
}
