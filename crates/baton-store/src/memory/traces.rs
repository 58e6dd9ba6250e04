//! Spans and usage in memory.

use super::MemoryStore;
use async_trait::async_trait;
use baton_core::store::StoreError;
use baton_core::trace::{SpanKind, SpanRecord, TraceStore, UsageGroup, UsageTotals};
use baton_core::ProjectId;
use std::collections::BTreeMap;

#[async_trait]
impl TraceStore for MemoryStore {
    async fn put_spans(&self, spans: &[SpanRecord]) -> Result<(), StoreError> {
        let mut inner = self.write();
        for s in spans {
            inner
                .spans
                .entry((s.trace_id.clone(), s.span_id.clone()))
                .or_insert_with(|| s.clone());
        }
        Ok(())
    }

    async fn trace_spans(
        &self,
        project: &ProjectId,
        trace_id: &str,
    ) -> Result<Vec<SpanRecord>, StoreError> {
        let mut out: Vec<SpanRecord> = self
            .read()
            .spans
            .values()
            .filter(|s| s.trace_id == trace_id && &s.project_id == project)
            .cloned()
            .collect();
        out.sort_by_key(|s| s.started_ms);
        Ok(out)
    }

    async fn spans_of_traces(
        &self,
        project: &ProjectId,
        trace_ids: &[String],
    ) -> Result<Vec<SpanRecord>, StoreError> {
        let mut out: Vec<SpanRecord> = self
            .read()
            .spans
            .values()
            .filter(|s| &s.project_id == project && trace_ids.contains(&s.trace_id))
            .cloned()
            .collect();
        out.sort_by(|a, b| (&a.trace_id, a.started_ms).cmp(&(&b.trace_id, b.started_ms)));
        Ok(out)
    }

    async fn usage(
        &self,
        project: &ProjectId,
        group: UsageGroup,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<UsageTotals>, StoreError> {
        let mut groups: BTreeMap<String, UsageTotals> = BTreeMap::new();
        for s in self.read().spans.values().filter(|s| {
            &s.project_id == project
                && s.started_ms >= from_ms
                && s.started_ms < to_ms
                && group.counts(s)
        }) {
            let key = group.key(s);
            groups
                .entry(key.clone())
                .or_insert_with(|| UsageTotals {
                    key,
                    ..Default::default()
                })
                .add(s);
        }
        Ok(groups.into_values().collect())
    }

    async fn spans_between(
        &self,
        project: &ProjectId,
        kind: Option<SpanKind>,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<SpanRecord>, StoreError> {
        let mut out: Vec<SpanRecord> = self
            .read()
            .spans
            .values()
            .filter(|s| {
                &s.project_id == project
                    && kind.is_none_or(|k| k == s.kind)
                    && s.started_ms >= from_ms
                    && s.started_ms < to_ms
            })
            .cloned()
            .collect();
        out.sort_by_key(|s| std::cmp::Reverse(s.started_ms));
        Ok(out)
    }
}
