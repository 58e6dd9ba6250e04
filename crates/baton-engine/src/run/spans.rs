//! The spans a run writes: the turn's root span, model calls and tool calls.

use super::Runner;
use crate::machine::Interruption;
use crate::now_ms;
use crate::prompt;
use baton_core::model::ToolCall;
use baton_core::model::{GatewayError, ModelReply};
use baton_core::task::TaskState;
use baton_core::trace::{SpanKind, SpanRecord};
use serde_json::{json, Map, Value};

impl Runner {
    /// A span of this turn, under its root span.
    pub(super) fn span(&self, kind: SpanKind, name: String, started_ms: i64) -> SpanRecord {
        SpanRecord {
            trace_id: self.data.trace_id.clone(),
            span_id: crate::random_hex(8),
            parent_span_id: Some(self.data.span_id.clone()),
            project_id: self.task.project_id.clone(),
            task_id: self.task.id.clone(),
            agent_key: self.task.agent_key.clone(),
            kind,
            name,
            status: "ok".into(),
            started_ms,
            ended_ms: now_ms(),
            prompt_tokens: 0,
            completion_tokens: 0,
            cost: 0.0,
            attributes: Map::new(),
        }
    }

    /// What the turn's root span tells: the task, how the turn ended, and its totals.
    fn root_attributes(&self) -> Map<String, Value> {
        let mut attributes = Map::new();
        attributes.insert("task_id".into(), json!(self.task.id));
        attributes.insert("agent_version".into(), json!(self.task.agent_version));
        attributes.insert("state".into(), json!(self.task.state));
        attributes.insert("model".into(), json!(self.data.model));
        attributes.insert("finish_reason".into(), json!(self.data.finish));
        attributes.insert("iterations".into(), json!(self.data.iterations));
        if let Some(error) = &self.data.error {
            attributes.insert("error".into(), json!(error));
        }
        if !self.data.metadata.is_empty() {
            attributes.insert("metadata".into(), Value::Object(self.data.metadata.clone()));
            if let Some(schedule) = self.data.metadata.get("schedule_id") {
                attributes.insert("schedule_id".into(), schedule.clone());
            }
        }
        if let Some(identity) = &self.data.identity {
            attributes.insert(
                "identity_id".into(),
                identity.get("id").cloned().unwrap_or(Value::Null),
            );
        }
        if let Some(entity) = &self.data.memory_entity_id {
            attributes.insert("memory_entity_id".into(), json!(entity));
        }
        if let Some(thread) = &self.task.thread_id {
            attributes.insert("thread_id".into(), json!(thread));
        }
        if !self.data.variables.is_empty() {
            attributes.insert(
                "variables".into(),
                Value::Object(prompt::redacted(&self.data.variables)),
            );
        }
        let usage = self.data.turn_usage;
        attributes.insert("total_prompt_tokens".into(), json!(usage.prompt_tokens));
        attributes.insert(
            "total_completion_tokens".into(),
            json!(usage.completion_tokens),
        );
        attributes.insert("total_cost".into(), json!(usage.cost));
        if usage.interrupted_model_calls > 0 {
            // Their tokens are unknown: the totals above leave them out.
            attributes.insert(
                "interrupted_model_calls".into(),
                json!(usage.interrupted_model_calls),
            );
        }
        attributes
    }

    /// The turn's root span, written when the turn ends (pause, answer, failure or cancel).
    pub(super) fn root_span(&mut self, status: &str) {
        let attributes = self.root_attributes();
        let parent = self
            .data
            .lineage
            .as_ref()
            .and_then(|l| l.trace.as_ref().map(|t| t.1.clone()));
        self.spans.push(SpanRecord {
            trace_id: self.data.trace_id.clone(),
            span_id: self.data.span_id.clone(),
            parent_span_id: parent,
            project_id: self.task.project_id.clone(),
            task_id: self.task.id.clone(),
            agent_key: self.task.agent_key.clone(),
            kind: SpanKind::Agent,
            name: format!("agent {}", self.task.agent_key),
            status: status.into(),
            started_ms: self.data.turn_started_ms,
            ended_ms: now_ms(),
            // Tokens and cost live on the model spans; the root's totals are attributes, so the
            // sums over a trace count each model call once.
            prompt_tokens: 0,
            completion_tokens: 0,
            cost: 0.0,
            attributes,
        });
        let end = match self.task.state {
            TaskState::Completed => crate::metrics::RunEnd::Completed,
            TaskState::InputRequired => crate::metrics::RunEnd::InputRequired,
            TaskState::Canceled => crate::metrics::RunEnd::Canceled,
            _ => crate::metrics::RunEnd::Failed,
        };
        self.inner.metrics.run_ended(end);
    }

    /// The span of a model call that failed on every model of the chain.
    pub(super) fn llm_failed_span(&mut self, error: &GatewayError, started_ms: i64) {
        let mut span = self.span(
            SpanKind::Llm,
            format!("chat {}", self.spec.model.id),
            started_ms,
        );
        span.status = "error".into();
        span.attributes
            .insert("error".into(), json!(error.to_string()));
        span.attributes
            .insert("attempts".into(), json!(error.attempts.len()));
        self.mark_model_attempt(&mut span);
        self.inner
            .metrics
            .model_call((now_ms() - started_ms).max(0) as u64, false, 0, 0);
        self.spans.push(span);
    }

    /// The span of a model call that answered.
    pub(super) fn llm_span(&mut self, reply: &ModelReply, started_ms: i64) {
        let response = &reply.response;
        let mut span = self.span(SpanKind::Llm, format!("chat {}", reply.model), started_ms);
        let (provider, model) = reply
            .model
            .split_once(['/', ':'])
            .unwrap_or(("", &reply.model));
        span.attributes.insert("provider".into(), json!(provider));
        span.attributes.insert("model".into(), json!(model));
        span.attributes
            .insert("finish_reason".into(), json!(response.finish_reason));
        span.attributes
            .insert("attempts".into(), json!(reply.attempts.len()));
        span.attributes
            .insert("streaming".into(), json!(self.data.streaming));
        span.attributes
            .insert("tool_calls".into(), json!(response.tool_calls.len()));
        self.mark_model_attempt(&mut span);
        span.prompt_tokens = response.usage.prompt_tokens;
        span.completion_tokens = response.usage.completion_tokens;
        span.cost = reply.cost;
        self.inner.metrics.model_call(
            (span.ended_ms - started_ms).max(0) as u64,
            true,
            span.prompt_tokens,
            span.completion_tokens,
        );
        self.spans.push(span);
    }

    /// Records a tool call's span: memory, knowledge and sub-agent tools get their own kinds.
    pub(super) fn tool_span(
        &mut self,
        call: &ToolCall,
        tool_id: &str,
        result: &Result<Value, String>,
        started: Option<(String, i64)>,
    ) {
        use baton_core::tool::BuiltinTool as B;
        let kind = match B::from_name(&call.name) {
            Some(
                B::RetrieveMemoryStores
                | B::QueryMemoryStore
                | B::WriteMemoryStore
                | B::DeleteMemoryDocument,
            ) => SpanKind::Memory,
            Some(B::RetrieveKnowledgeBases | B::QueryKnowledgeBase) => SpanKind::Knowledge,
            Some(B::CallSubAgent | B::RetrieveAgents) => SpanKind::SubAgent,
            _ if self.tools.is_remote_agent(&call.name) => SpanKind::SubAgent,
            _ => SpanKind::Tool,
        };
        let (span_id, started_ms) = started.unwrap_or_else(|| (crate::random_hex(8), now_ms()));
        let mut span = self.span(kind, format!("tool {}", call.name), started_ms);
        span.span_id = span_id;
        span.attributes.insert("tool_name".into(), json!(call.name));
        span.attributes.insert("tool_id".into(), json!(tool_id));
        span.attributes
            .insert("tool_call_id".into(), json!(call.id));
        span.attributes
            .insert("arguments".into(), call.arguments.clone());
        self.mark_tool_attempt(&mut span, call);
        match result {
            Ok(value) => {
                if kind == SpanKind::SubAgent {
                    link_remote_task(&mut span, value);
                }
                let text = value.to_string();
                // Results can be large; the trace keeps the first 4 KB.
                let kept = if text.len() > 4096 {
                    let mut end = 4096;
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    json!(format!("{}…", &text[..end]))
                } else {
                    value.clone()
                };
                span.attributes.insert("result".into(), kept);
            }
            Err(error) => {
                span.status = "error".into();
                span.attributes.insert("error".into(), json!(error));
            }
        }
        self.inner.metrics.tool_call(result.is_ok());
        self.spans.push(span);
    }

    /// A repeated model call (an earlier attempt was cut by a stopped server) says which it is.
    fn mark_model_attempt(&self, span: &mut SpanRecord) {
        if let Some(staged) = self.data.model_call.filter(|m| m.attempt > 1) {
            span.attributes
                .insert("attempt".into(), json!(staged.attempt));
        }
    }

    /// A tool call's span carries its idempotency key, and its attempt when it is a repeat.
    fn mark_tool_attempt(&self, span: &mut SpanRecord, call: &ToolCall) {
        span.attributes.insert(
            "idempotency_key".into(),
            json!(super::idempotency_key(&self.task.id, &call.id)),
        );
        if let Some(attempt) = self.data.in_flight.get(&call.id).filter(|a| a.attempt > 1) {
            span.attributes
                .insert("attempt".into(), json!(attempt.attempt));
        }
    }

    /// The span of an attempt a stopped server cut, found when the run resumed: it starts when
    /// the attempt did and ends when its loss was noticed; it has no result, and a model call's
    /// tokens are unknown (none are counted, and none invented).
    pub(super) fn interrupted_span(&mut self, interruption: &Interruption) {
        let mut span = match interruption {
            Interruption::Model(cut) => {
                let mut span = self.span(
                    SpanKind::Llm,
                    format!("chat {}", self.spec.model.id),
                    cut.started_ms,
                );
                span.attributes.insert("attempt".into(), json!(cut.attempt));
                span.attributes.insert("tokens".into(), json!("unknown"));
                span
            }
            Interruption::Tool {
                call,
                attempt,
                next,
            } => {
                let tool_id = self.tools.tool_id(&call.name).to_owned();
                let mut span = self.span(
                    SpanKind::Tool,
                    format!("tool {}", call.name),
                    attempt.started_ms,
                );
                span.attributes.insert("tool_name".into(), json!(call.name));
                span.attributes.insert("tool_id".into(), json!(tool_id));
                span.attributes
                    .insert("tool_call_id".into(), json!(call.id));
                span.attributes
                    .insert("arguments".into(), call.arguments.clone());
                span.attributes
                    .insert("attempt".into(), json!(attempt.attempt));
                span.attributes.insert(
                    "idempotency_key".into(),
                    json!(super::idempotency_key(&self.task.id, &call.id)),
                );
                span.attributes.insert("then".into(), json!(next.as_str()));
                span
            }
        };
        span.status = "interrupted".into();
        span.attributes.insert(
            "error".into(),
            json!("the server stopped during this call; its outcome is unknown"),
        );
        self.spans.push(span);
    }
}

/// A remote (A2A) sub-agent's call links the task it made on the remote server: its id, its
/// context and the endpoint that holds it, and counts the usage the remote reported.
fn link_remote_task(span: &mut SpanRecord, result: &Value) {
    for (field, attribute) in [
        ("remote_task_id", "a2a.task_id"),
        ("remote_context_id", "a2a.context_id"),
        ("agent_url", "a2a.agent_url"),
        ("protocol_version", "a2a.protocol_version"),
    ] {
        if let Some(text) = result.get(field).and_then(Value::as_str) {
            span.attributes.insert(attribute.into(), json!(text));
        }
    }
    // The remote task's tokens and cost count in this trace, on the call that spent them.
    if let Some(usage) = result.get("usage") {
        let tokens = |name: &str| usage.get(name).and_then(Value::as_u64).unwrap_or(0);
        span.prompt_tokens += tokens("prompt_tokens");
        span.completion_tokens += tokens("completion_tokens");
        span.cost += usage.get("cost").and_then(Value::as_f64).unwrap_or(0.0);
        span.attributes.insert("a2a.usage".into(), usage.clone());
    }
}
