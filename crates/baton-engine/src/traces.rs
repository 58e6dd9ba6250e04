//! Traces and usage as a service: a trace's summary, its spans, search over runs, and usage
//! totals summed by the store.

use crate::{Engine, EngineError};
use baton_core::trace::{attribute, SpanKind, SpanRecord, UsageGroup, UsageTotals};
use baton_core::ProjectId;
use serde_json::{json, Map, Value};
use std::collections::{BTreeSet, HashMap, HashSet};

/// The traces of a project.
#[derive(Clone, Copy)]
pub struct Traces<'a> {
    engine: &'a Engine,
}

/// A trace summed up from its spans.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceSummary {
    /// The first turn's root span (or the first span).
    pub first: Option<SpanRecord>,
    /// `error` if a turn failed.
    pub ok: bool,
    /// Earliest start (Unix ms).
    pub started_ms: i64,
    /// Latest end (Unix ms).
    pub ended_ms: i64,
    /// `provider/model` of each model called, in call order.
    pub models: Vec<String>,
    /// The tasks of its turns.
    pub task_ids: BTreeSet<String>,
    /// Turn roots.
    pub turns: usize,
    /// Spans.
    pub spans: usize,
    /// Model calls' tokens and cost.
    pub usage: UsageTotals,
}

/// One span and whether others hang under it.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanNode {
    /// The span.
    pub span: SpanRecord,
    /// Whether it has children.
    pub has_children: bool,
}

/// One condition of a search on turn roots.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceFilter {
    /// `agent`, `status`, `task_id` or an attribute path (`metadata.x`, `identity_id`).
    pub field: String,
    /// `eq`, `in`, `ne` or `not_in`.
    pub op: String,
    /// The values compared.
    pub values: Vec<Value>,
}

/// A search for traces.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraceSearch {
    /// Runs started at or after (Unix ms).
    pub from_ms: i64,
    /// Runs started before (Unix ms).
    pub to_ms: i64,
    /// Conditions on each turn root.
    pub filters: Vec<TraceFilter>,
    /// Any condition suffices (`or`) instead of all (`and`).
    pub any: bool,
    /// At most this many traces (1..=500).
    pub limit: usize,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> EngineError {
    EngineError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

fn model_name(s: &SpanRecord) -> String {
    baton_core::trace::UsageGroup::Model.key(s)
}

/// Sums up a trace from all its spans: roots, totals over the model spans.
pub fn summarize(spans: &[SpanRecord]) -> TraceSummary {
    let roots: Vec<&SpanRecord> = spans
        .iter()
        .filter(|s| s.kind == SpanKind::Agent && s.parent_span_id.is_none())
        .collect();
    let mut usage = UsageTotals::default();
    let mut models: Vec<String> = Vec::new();
    for s in spans.iter().filter(|s| s.kind == SpanKind::Llm) {
        usage.add(s);
        let model = model_name(s);
        if !models.contains(&model) {
            models.push(model);
        }
    }
    TraceSummary {
        first: roots.first().copied().or(spans.first()).cloned(),
        ok: roots.iter().all(|r| r.status == "ok"),
        started_ms: spans.iter().map(|s| s.started_ms).min().unwrap_or_default(),
        ended_ms: spans.iter().map(|s| s.ended_ms).max().unwrap_or_default(),
        models,
        task_ids: roots.iter().map(|r| r.task_id.clone()).collect(),
        turns: roots.len(),
        spans: spans.len(),
        usage,
    }
}

fn root_field(root: &SpanRecord, field: &str) -> Option<Value> {
    match field {
        "agent" | "agent_key" | "agent.name" => Some(json!(root.agent_key)),
        "status" => Some(json!(root.status)),
        "task_id" => Some(json!(root.task_id)),
        other => attribute(&root.attributes, other).cloned(),
    }
}

impl TraceSearch {
    fn check(&self) -> Result<(), EngineError> {
        if self.to_ms <= self.from_ms {
            return Err(invalid("to", "must be after `from`"));
        }
        for (i, f) in self.filters.iter().enumerate() {
            if !matches!(f.op.as_str(), "eq" | "in" | "ne" | "not_in") {
                return Err(invalid(
                    format!("filters[{i}].op"),
                    "must be eq, in, ne or not_in",
                ));
            }
        }
        Ok(())
    }

    fn matches(&self, root: &SpanRecord) -> bool {
        let mut results = self.filters.iter().map(|f| {
            let hit = root_field(root, &f.field).is_some_and(|v| f.values.contains(&v));
            hit != matches!(f.op.as_str(), "ne" | "not_in")
        });
        match (self.filters.is_empty(), self.any) {
            (true, _) => true,
            (false, true) => results.any(|h| h),
            (false, false) => results.all(|h| h),
        }
    }
}

impl Engine {
    /// The trace service.
    pub fn traces(&self) -> Traces<'_> {
        Traces { engine: self }
    }
}

impl Traces<'_> {
    /// Every span of a trace, by start time; `NotFound` if it has none in the project.
    pub async fn spans(
        &self,
        project: &ProjectId,
        trace_id: &str,
    ) -> Result<Vec<SpanRecord>, EngineError> {
        let spans = self
            .engine
            .inner
            .store
            .trace_spans(project, trace_id)
            .await?;
        if spans.is_empty() {
            return Err(EngineError::NotFound(format!(
                "trace `{trace_id}` not found"
            )));
        }
        Ok(spans)
    }

    /// A trace's spans from `offset`, at most `limit`, each with whether it has children;
    /// and whether more follow.
    pub async fn span_page(
        &self,
        project: &ProjectId,
        trace_id: &str,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<SpanNode>, bool), EngineError> {
        let spans = self.spans(project, trace_id).await?;
        let parents: HashSet<&str> = spans
            .iter()
            .filter_map(|s| s.parent_span_id.as_deref())
            .collect();
        let page = spans
            .iter()
            .skip(offset)
            .take(limit)
            .map(|s| SpanNode {
                has_children: parents.contains(s.span_id.as_str()),
                span: s.clone(),
            })
            .collect();
        Ok((page, offset.saturating_add(limit) < spans.len()))
    }

    /// One span of a trace.
    pub async fn span(
        &self,
        project: &ProjectId,
        trace_id: &str,
        span_id: &str,
    ) -> Result<SpanNode, EngineError> {
        let spans = self.spans(project, trace_id).await?;
        let has_children = spans
            .iter()
            .any(|c| c.parent_span_id.as_deref() == Some(span_id));
        let span = spans
            .into_iter()
            .find(|s| s.span_id == span_id)
            .ok_or_else(|| EngineError::NotFound(format!("span `{span_id}` not found")))?;
        Ok(SpanNode { span, has_children })
    }

    /// Traces whose turns match, newest first, summed up with one query for all their spans;
    /// and whether more matched.
    pub async fn search(
        &self,
        project: &ProjectId,
        search: &TraceSearch,
    ) -> Result<(Vec<TraceSummary>, bool), EngineError> {
        search.check()?;
        let store = &self.engine.inner.store;
        let roots = store
            .spans_between(project, Some(SpanKind::Agent), search.from_ms, search.to_ms)
            .await?;
        let mut seen: Vec<String> = Vec::new();
        for root in roots
            .iter()
            .filter(|r| r.parent_span_id.is_none() && search.matches(r))
        {
            if !seen.contains(&root.trace_id) {
                seen.push(root.trace_id.clone());
            }
        }
        let has_more = seen.len() > search.limit;
        seen.truncate(search.limit);
        let mut by_trace: HashMap<String, Vec<SpanRecord>> = HashMap::new();
        for s in store.spans_of_traces(project, &seen).await? {
            by_trace.entry(s.trace_id.clone()).or_default().push(s);
        }
        let summaries = seen
            .iter()
            .map(|id| summarize(by_trace.get(id).map(Vec::as_slice).unwrap_or_default()))
            .collect();
        Ok((summaries, has_more))
    }

    /// Usage in `[from_ms, to_ms)` per group, by key, and the grand total.
    pub async fn usage(
        &self,
        project: &ProjectId,
        group: UsageGroup,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<(Vec<UsageTotals>, UsageTotals), EngineError> {
        let groups = self
            .engine
            .inner
            .store
            .usage(project, group, from_ms, to_ms)
            .await?;
        let mut total = UsageTotals::default();
        for g in &groups {
            total.merge(g);
        }
        Ok((groups, total))
    }
}

/// The attributes of a summary's first span (empty without spans).
pub fn first_attributes(summary: &TraceSummary) -> Map<String, Value> {
    summary
        .first
        .as_ref()
        .map(|f| f.attributes.clone())
        .unwrap_or_default()
}
