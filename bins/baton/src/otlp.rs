//! OTLP export of spans (OTLP/HTTP with JSON encoding), with OpenTelemetry's GenAI semantic
//! convention attributes, when an endpoint is configured. Spans are batched in the background;
//! a full queue drops spans rather than slowing runs.

use baton_core::trace::{SpanExporter, SpanKind, SpanRecord};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Spans waiting for export, at most.
const QUEUE: usize = 8192;
/// Spans per export request, at most.
const BATCH: usize = 512;

/// Sends spans to an OTLP collector.
#[derive(Debug)]
pub(crate) struct OtlpExporter {
    sender: mpsc::Sender<SpanRecord>,
    dropped: Arc<AtomicU64>,
}

impl OtlpExporter {
    /// An exporter to `endpoint` (the collector's base URL, e.g. `http://127.0.0.1:4318`); its
    /// batching task runs on the current tokio runtime (`None` when there is none).
    pub(crate) fn start(endpoint: &str) -> Option<Self> {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("OTLP export needs a tokio runtime; export disabled");
            return None;
        };
        let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
        let (sender, receiver) = mpsc::channel(QUEUE);
        handle.spawn(batch_loop(url, receiver));
        Some(Self {
            sender,
            dropped: Arc::new(AtomicU64::new(0)),
        })
    }
}

impl SpanExporter for OtlpExporter {
    /// Queues spans for export; a full queue drops them.
    fn export(&self, spans: &[SpanRecord]) {
        for span in spans {
            if self.sender.try_send(span.clone()).is_err() {
                let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_power_of_two() {
                    tracing::warn!(dropped = n, "OTLP export queue full; spans dropped");
                }
            }
        }
    }
}

async fn batch_loop(url: String, mut receiver: mpsc::Receiver<SpanRecord>) {
    // HTTP/1.1 only, as before the workspace's reqwest could speak HTTP/2.
    let client = reqwest::Client::builder()
        .http1_only()
        .build()
        .unwrap_or_default();
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let first = match receiver.recv().await {
            Some(span) => span,
            None => return,
        };
        batch.push(first);
        // Gather what else arrives within a moment, up to a batch.
        let deadline = tokio::time::Instant::now() + Duration::from_millis(200);
        while batch.len() < BATCH {
            match tokio::time::timeout_at(deadline, receiver.recv()).await {
                Ok(Some(span)) => batch.push(span),
                Ok(None) | Err(_) => break,
            }
        }
        let body = encode(&batch);
        batch.clear();
        match client
            .post(&url)
            .timeout(Duration::from_secs(10))
            .json(&body)
            .send()
            .await
        {
            Ok(resp) if resp.status().is_success() => {}
            Ok(resp) => tracing::warn!(status = %resp.status(), "OTLP collector refused spans"),
            Err(e) => tracing::warn!(error = %e, "OTLP export failed"),
        }
    }
}

fn string(key: &str, value: &str) -> Value {
    json!({"key": key, "value": {"stringValue": value}})
}

fn int(key: &str, value: u64) -> Value {
    json!({"key": key, "value": {"intValue": value.to_string()}})
}

fn attr_str<'a>(span: &'a SpanRecord, key: &str) -> Option<&'a str> {
    span.attributes.get(key).and_then(Value::as_str)
}

/// One span in OTLP's JSON encoding, with GenAI attributes.
fn encode_span(span: &SpanRecord) -> Value {
    let mut attributes = vec![
        string("baton.task_id", &span.task_id),
        string("gen_ai.agent.name", &span.agent_key),
    ];
    match span.kind {
        SpanKind::Llm => {
            attributes.push(string("gen_ai.operation.name", "chat"));
            if let Some(p) = attr_str(span, "provider") {
                attributes.push(string("gen_ai.system", p));
                attributes.push(string("gen_ai.provider.name", p));
            }
            if let Some(m) = attr_str(span, "model") {
                attributes.push(string("gen_ai.request.model", m));
                attributes.push(string("gen_ai.response.model", m));
            }
            attributes.push(int("gen_ai.usage.input_tokens", span.prompt_tokens));
            attributes.push(int("gen_ai.usage.output_tokens", span.completion_tokens));
            if let Some(f) = attr_str(span, "finish_reason") {
                attributes.push(json!({"key": "gen_ai.response.finish_reasons",
                    "value": {"arrayValue": {"values": [{"stringValue": f}]}}}));
            }
            attributes.push(json!({"key": "baton.cost_usd", "value": {"doubleValue": span.cost}}));
        }
        SpanKind::Tool | SpanKind::Memory | SpanKind::Knowledge | SpanKind::SubAgent => {
            attributes.push(string("gen_ai.operation.name", "execute_tool"));
            if let Some(t) = attr_str(span, "tool_name") {
                attributes.push(string("gen_ai.tool.name", t));
            }
            if let Some(t) = attr_str(span, "tool_call_id") {
                attributes.push(string("gen_ai.tool.call.id", t));
            }
        }
        SpanKind::Agent => {
            attributes.push(string("gen_ai.operation.name", "invoke_agent"));
            if let Some(s) = attr_str(span, "schedule_id") {
                attributes.push(string("baton.schedule_id", s));
            }
        }
    }
    let mut out = json!({
        "traceId": span.trace_id, "spanId": span.span_id, "name": span.name,
        "kind": if span.kind == SpanKind::Llm { 3 } else { 1 },
        "startTimeUnixNano": (span.started_ms as u128 * 1_000_000).to_string(),
        "endTimeUnixNano": (span.ended_ms as u128 * 1_000_000).to_string(),
        "attributes": attributes,
        "status": {"code": if span.status == "ok" { 1 } else { 2 }},
    });
    if let Some(parent) = &span.parent_span_id {
        out["parentSpanId"] = json!(parent);
    }
    out
}

/// An OTLP `ExportTraceServiceRequest` in JSON.
fn encode(spans: &[SpanRecord]) -> Value {
    json!({"resourceSpans": [{
        "resource": {"attributes": [string("service.name", "baton")]},
        "scopeSpans": [{"scope": {"name": "baton", "version": env!("CARGO_PKG_VERSION")},
                        "spans": spans.iter().map(encode_span).collect::<Vec<_>>()}]
    }]})
}
