//! `/v3/traces`: a run's trace and spans, search, usage and cost totals; `/metrics`.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::extract::{Path, Query};
use crate::state::AppState;
use crate::wire::{list_json, rfc3339_ms};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use baton_core::trace::{SpanKind, SpanRecord, UsageGroup, UsageTotals};
use baton_engine::traces::{first_attributes, summarize, TraceFilter, TraceSearch, TraceSummary};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(trace))
        .routes(routes!(spans))
        .routes(routes!(span))
        .routes(routes!(usage))
}

/// Prometheus metrics (no authentication, like `/healthz`: counts only, no tenant data).
pub(crate) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        format!(
            "{}# HELP baton_live_streams Tasks with live event listeners in this process.\n\
             # TYPE baton_live_streams gauge\nbaton_live_streams {}\n",
            state.engine.metrics().render(),
            state.engine.live_streams()
        ),
    )
}

fn parse_time(field: &str, text: &str) -> Result<i64, ApiError> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|e| ApiError::invalid(field, format!("`{text}` is not an RFC 3339 time: {e}")))
}

fn span_summary(s: &SpanRecord, has_children: bool) -> Value {
    let mut v = json!({
        "trace_id": s.trace_id, "span_id": s.span_id, "parent_span_id": s.parent_span_id,
        "name": s.name, "type": s.kind.as_str(), "operation": s.kind.as_str(), "status": s.status,
        "started_at": rfc3339_ms(s.started_ms), "ended_at": rfc3339_ms(s.ended_ms),
        "duration_ms": s.ended_ms - s.started_ms, "task_id": s.task_id, "agent_key": s.agent_key,
        "has_children": has_children,
    });
    if s.kind == SpanKind::Llm {
        v["provider"] = s.attributes.get("provider").cloned().unwrap_or(Value::Null);
        v["model"] = s.attributes.get("model").cloned().unwrap_or(Value::Null);
        v["usage"] = json!({"prompt_tokens": s.prompt_tokens, "completion_tokens": s.completion_tokens,
                            "total_tokens": s.prompt_tokens + s.completion_tokens});
        v["cost"] = json!({"total": s.cost, "currency": "USD"});
        if let Some(f) = s.attributes.get("finish_reason") {
            v["finish_reasons"] = json!([f]);
        }
    }
    v
}

fn usage_json(u: &UsageTotals) -> Value {
    json!({"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
           "total_tokens": u.prompt_tokens + u.completion_tokens})
}

fn trace_summary(t: &TraceSummary) -> Value {
    let first = t.first.as_ref();
    let attributes = first_attributes(t);
    json!({
        "object": "trace",
        "trace_id": first.map(|f| f.trace_id.clone()),
        "root_span_id": first.map(|f| f.span_id.clone()),
        "name": first.map(|f| f.name.clone()),
        "status": if t.ok { "ok" } else { "error" },
        "started_at": rfc3339_ms(t.started_ms), "ended_at": rfc3339_ms(t.ended_ms),
        "duration_ms": t.ended_ms - t.started_ms,
        "project_id": first.map(|f| f.project_id.0.clone()),
        "identity_id": attributes.get("identity_id"),
        "thread_id": attributes.get("thread_id"),
        "models": t.models,
        "agent": {"name": first.map(|f| f.agent_key.clone())},
        "task_ids": t.task_ids,
        "turns": t.turns,
        "spans_count": t.spans,
        "usage": usage_json(&t.usage),
        "cost": {"total": t.usage.cost, "currency": "USD"},
        "attributes": attributes,
    })
}

/// A run's trace: its roots and totals (tokens and cost summed over its model spans).
#[utoipa::path(get, path = "/v3/traces/{trace_id}", operation_id = "traces_retrieve", tag = "traces",
    params(("trace_id" = String, Path, description = "Trace id (the responses' telemetry.trace_id)")),
    responses((status = 200, description = "`{trace: {...}}`"), (status = 404, description = "Unknown trace")))]
pub(crate) async fn trace(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(trace_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let spans = state
        .engine
        .traces()
        .spans(&caller.project, &trace_id)
        .await?;
    Ok(Json(json!({"trace": trace_summary(&summarize(&spans))})))
}

/// A trace's spans, in start order, paged with `limit` and `page_token`.
#[utoipa::path(get, path = "/v3/traces/{trace_id}/spans", operation_id = "traces_list_spans", tag = "traces",
    params(("trace_id" = String, Path, description = "Trace id")),
    responses((status = 200, description = "`{object, data, has_more, next_page_token}`"), (status = 404, description = "Unknown trace")))]
pub(crate) async fn spans(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(trace_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let limit = match query.get("limit") {
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=1000).contains(l))
            .ok_or_else(|| ApiError::invalid("limit", "must be a whole number from 1 to 1000"))?,
        None => 100,
    };
    let offset = match query.get("page_token") {
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| ApiError::invalid("page_token", "is not a page token from this API"))?,
        None => 0,
    };
    let (nodes, has_more) = state
        .engine
        .traces()
        .span_page(&caller.project, &trace_id, offset, limit)
        .await?;
    let page: Vec<Value> = nodes
        .iter()
        .map(|n| span_summary(&n.span, n.has_children))
        .collect();
    Ok(Json(
        json!({"object": "list", "data": page, "has_more": has_more,
        "next_page_token": has_more.then(|| (offset + limit).to_string())}),
    ))
}

/// One span with all its attributes.
#[utoipa::path(get, path = "/v3/traces/{trace_id}/spans/{span_id}", operation_id = "traces_retrieve_span", tag = "traces",
    params(("trace_id" = String, Path, description = "Trace id"), ("span_id" = String, Path, description = "Span id")),
    responses((status = 200, description = "The span"), (status = 404, description = "Unknown")))]
pub(crate) async fn span(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((trace_id, span_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let node = state
        .engine
        .traces()
        .span(&caller.project, &trace_id, &span_id)
        .await?;
    let s = &node.span;
    let mut v = span_summary(s, node.has_children);
    v["attributes"] = Value::Object(s.attributes.clone());
    v["usage"] = json!({"prompt_tokens": s.prompt_tokens, "completion_tokens": s.completion_tokens,
                        "total_tokens": s.prompt_tokens + s.completion_tokens});
    v["cost"] = json!({"total": s.cost, "currency": "USD"});
    Ok(Json(v))
}

#[derive(Deserialize)]
pub(crate) struct Filter {
    field: String,
    #[serde(default = "eq")]
    op: String,
    values: Vec<Value>,
}

fn eq() -> String {
    "eq".into()
}

#[derive(Deserialize)]
pub(crate) struct SearchBody {
    from: String,
    to: String,
    #[serde(default)]
    filters: Vec<Filter>,
    #[serde(default)]
    filter_operator: Option<String>,
    #[serde(default)]
    limit: Option<u64>,
}

/// Traces whose runs started in `[from, to)`, newest first, filtered on the agent, status,
/// identity, schedule, thread or metadata (`metadata.<key>`).
#[utoipa::path(post, path = "/v3/traces/search", operation_id = "traces_search", tag = "traces", request_body = Object,
    responses((status = 200, description = "`{object, data: [trace], has_more}`"), (status = 400, description = "Invalid field")))]
pub(crate) async fn search(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<SearchBody>,
) -> Result<Json<Value>, ApiError> {
    let from = parse_time("from", &body.from)?;
    let to = parse_time("to", &body.to)?;
    let any = match body.filter_operator.as_deref() {
        None | Some("and") => false,
        Some("or") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "filter_operator",
                format!("`{other}` is not `and` or `or`"),
            ))
        }
    };
    let filters = body.filters.into_iter().map(|f| TraceFilter {
        field: f.field,
        op: f.op,
        values: f.values,
    });
    let search = TraceSearch {
        from_ms: from,
        to_ms: to,
        filters: filters.collect(),
        any,
        limit: body.limit.unwrap_or(50).clamp(1, 500) as usize,
    };
    let (traces, has_more) = state
        .engine
        .traces()
        .search(&caller.project, &search)
        .await?;
    let data = traces.iter().map(trace_summary).collect();
    Ok(list_json(data, has_more))
}

fn totals_json(t: &UsageTotals, key: Option<&str>) -> Value {
    let mut v = usage_json(t);
    v["cost"] = json!(t.cost);
    v["count"] = json!(t.count);
    if let Some(k) = key {
        v["key"] = json!(k);
    }
    v
}

/// Tokens and cost in `[from, to)`, grouped by `agent`, `model`, `identity` or `day`.
#[utoipa::path(get, path = "/v3/usage", operation_id = "usage_retrieve", tag = "traces",
    params(("from" = String, Query, description = "RFC 3339"), ("to" = String, Query, description = "RFC 3339"),
           ("group_by" = Option<String>, Query, description = "agent (default), model, identity or day")),
    responses((status = 200, description = "`{object: usage, data: [{key, prompt_tokens, completion_tokens, total_tokens, cost, count}], total}`"),
              (status = 400, description = "Invalid field")))]
pub(crate) async fn usage(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let from = parse_time(
        "from",
        query.get("from").map(String::as_str).unwrap_or_default(),
    )?;
    let to = parse_time(
        "to",
        query.get("to").map(String::as_str).unwrap_or_default(),
    )?;
    let group_by = query.get("group_by").map(String::as_str).unwrap_or("agent");
    let group = UsageGroup::parse(group_by).ok_or_else(|| {
        ApiError::invalid(
            "group_by",
            format!("`{group_by}` is not agent, model, identity or day"),
        )
    })?;
    let (groups, total) = state
        .engine
        .traces()
        .usage(&caller.project, group, from, to)
        .await?;
    let data: Vec<Value> = groups
        .iter()
        .map(|g| totals_json(g, Some(&g.key)))
        .collect();
    Ok(Json(
        json!({"object": "usage", "from": rfc3339_ms(from), "to": rfc3339_ms(to), "group_by": group_by,
        "data": data, "total": totals_json(&total, None)}),
    ))
}
