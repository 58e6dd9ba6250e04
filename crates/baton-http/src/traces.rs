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
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use baton_core::trace::{attribute, SpanKind, SpanRecord};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v3/traces/search", post(search))
        .route("/v3/traces/{trace_id}", get(trace))
        .route("/v3/traces/{trace_id}/spans", get(spans))
        .route("/v3/traces/{trace_id}/spans/{span_id}", get(span))
        .route("/v3/usage", get(usage))
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

/// The summary of a trace from all its spans: roots, totals over the model spans.
fn trace_summary(spans: &[SpanRecord]) -> Value {
    let roots: Vec<&SpanRecord> = spans
        .iter()
        .filter(|s| s.kind == SpanKind::Agent && s.parent_span_id.is_none())
        .collect();
    let first = roots.first().copied().or(spans.first());
    let (mut prompt, mut completion, mut cost) = (0u64, 0u64, 0f64);
    let mut models: Vec<String> = Vec::new();
    for s in spans.iter().filter(|s| s.kind == SpanKind::Llm) {
        prompt += s.prompt_tokens;
        completion += s.completion_tokens;
        cost += s.cost;
        let model = format!(
            "{}/{}",
            s.attributes
                .get("provider")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            s.attributes
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or_default()
        );
        if !models.contains(&model) {
            models.push(model);
        }
    }
    let started = spans.iter().map(|s| s.started_ms).min().unwrap_or_default();
    let ended = spans.iter().map(|s| s.ended_ms).max().unwrap_or_default();
    let status = if roots.iter().any(|r| r.status != "ok") {
        "error"
    } else {
        "ok"
    };
    let attributes = first.map(|f| f.attributes.clone()).unwrap_or_default();
    json!({
        "object": "trace",
        "trace_id": first.map(|f| f.trace_id.clone()),
        "root_span_id": first.map(|f| f.span_id.clone()),
        "name": first.map(|f| f.name.clone()),
        "status": status,
        "started_at": rfc3339_ms(started), "ended_at": rfc3339_ms(ended), "duration_ms": ended - started,
        "project_id": first.map(|f| f.project_id.0.clone()),
        "identity_id": attributes.get("identity_id"),
        "thread_id": attributes.get("thread_id"),
        "models": models,
        "agent": {"name": first.map(|f| f.agent_key.clone())},
        "task_ids": roots.iter().map(|r| r.task_id.clone()).collect::<std::collections::BTreeSet<_>>(),
        "turns": roots.len(),
        "spans_count": spans.len(),
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                  "total_tokens": prompt + completion},
        "cost": {"total": cost, "currency": "USD"},
        "attributes": attributes,
    })
}

async fn load(
    state: &AppState,
    caller: &Caller,
    trace_id: &str,
) -> Result<Vec<SpanRecord>, ApiError> {
    let spans = state.store.trace_spans(&caller.project, trace_id).await?;
    if spans.is_empty() {
        return Err(ApiError::not_found(format!("trace `{trace_id}` not found")));
    }
    Ok(spans)
}

/// A run's trace: its roots and totals (tokens and cost summed over its model spans).
#[utoipa::path(get, path = "/v3/traces/{trace_id}",
    params(("trace_id" = String, Path, description = "Trace id (the responses' telemetry.trace_id)")),
    responses((status = 200, description = "`{trace: {...}}`"), (status = 404, description = "Unknown trace")))]
pub(crate) async fn trace(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(trace_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let spans = load(&state, &caller, &trace_id).await?;
    Ok(Json(json!({"trace": trace_summary(&spans)})))
}

/// A trace's spans, in start order, paged with `limit` and `page_token`.
#[utoipa::path(get, path = "/v3/traces/{trace_id}/spans",
    params(("trace_id" = String, Path, description = "Trace id")),
    responses((status = 200, description = "`{object, data, has_more, next_page_token}`"), (status = 404, description = "Unknown trace")))]
pub(crate) async fn spans(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(trace_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let spans = load(&state, &caller, &trace_id).await?;
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
    let parents: std::collections::HashSet<&str> = spans
        .iter()
        .filter_map(|s| s.parent_span_id.as_deref())
        .collect();
    let page: Vec<Value> = spans
        .iter()
        .skip(offset)
        .take(limit)
        .map(|s| span_summary(s, parents.contains(s.span_id.as_str())))
        .collect();
    let has_more = offset + limit < spans.len();
    Ok(Json(
        json!({"object": "list", "data": page, "has_more": has_more,
        "next_page_token": has_more.then(|| (offset + limit).to_string())}),
    ))
}

/// One span with all its attributes.
#[utoipa::path(get, path = "/v3/traces/{trace_id}/spans/{span_id}",
    params(("trace_id" = String, Path, description = "Trace id"), ("span_id" = String, Path, description = "Span id")),
    responses((status = 200, description = "The span"), (status = 404, description = "Unknown")))]
pub(crate) async fn span(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((trace_id, span_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let spans = load(&state, &caller, &trace_id).await?;
    let s = spans
        .iter()
        .find(|s| s.span_id == span_id)
        .ok_or_else(|| ApiError::not_found(format!("span `{span_id}` not found")))?;
    let has_children = spans
        .iter()
        .any(|c| c.parent_span_id.as_deref() == Some(s.span_id.as_str()));
    let mut v = span_summary(s, has_children);
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

fn root_field(root: &SpanRecord, field: &str) -> Option<Value> {
    match field {
        "agent" | "agent_key" | "agent.name" => Some(json!(root.agent_key)),
        "status" => Some(json!(root.status)),
        "task_id" => Some(json!(root.task_id)),
        other => attribute(&root.attributes, other).cloned(),
    }
}

/// Traces whose runs started in `[from, to)`, newest first, filtered on the agent, status,
/// identity, schedule, thread or metadata (`metadata.<key>`).
#[utoipa::path(post, path = "/v3/traces/search", request_body = Object,
    responses((status = 200, description = "`{object, data: [trace], has_more}`"), (status = 400, description = "Invalid field")))]
pub(crate) async fn search(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<SearchBody>,
) -> Result<Json<Value>, ApiError> {
    let from = parse_time("from", &body.from)?;
    let to = parse_time("to", &body.to)?;
    if to <= from {
        return Err(ApiError::invalid("to", "must be after `from`"));
    }
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
    for (i, f) in body.filters.iter().enumerate() {
        if !matches!(f.op.as_str(), "eq" | "in" | "ne" | "not_in") {
            return Err(ApiError::invalid(
                format!("filters[{i}].op"),
                "must be eq, in, ne or not_in",
            ));
        }
    }
    let limit = body.limit.unwrap_or(50).clamp(1, 500) as usize;
    let roots = state
        .store
        .spans_between(&caller.project, Some(SpanKind::Agent), from, to)
        .await?;
    let matches = |root: &SpanRecord| {
        let results = body.filters.iter().map(|f| {
            let value = root_field(root, &f.field);
            let hit = value.as_ref().is_some_and(|v| f.values.contains(v));
            match f.op.as_str() {
                "ne" | "not_in" => !hit,
                _ => hit,
            }
        });
        if body.filters.is_empty() {
            true
        } else if any {
            results.into_iter().any(|h| h)
        } else {
            results.into_iter().all(|h| h)
        }
    };
    let mut seen = Vec::new();
    for root in roots
        .iter()
        .filter(|r| r.parent_span_id.is_none() && matches(r))
    {
        if !seen.contains(&root.trace_id) {
            seen.push(root.trace_id.clone());
        }
    }
    let has_more = seen.len() > limit;
    let mut data = Vec::new();
    for trace_id in seen.into_iter().take(limit) {
        let spans = state.store.trace_spans(&caller.project, &trace_id).await?;
        data.push(trace_summary(&spans));
    }
    Ok(list_json(data, has_more))
}

#[derive(Default)]
struct Totals {
    prompt: u64,
    completion: u64,
    cost: f64,
    calls: u64,
}

impl Totals {
    fn json(&self, key: Option<&str>) -> Value {
        let mut v = json!({"prompt_tokens": self.prompt, "completion_tokens": self.completion,
            "total_tokens": self.prompt + self.completion, "cost": self.cost, "count": self.calls});
        if let Some(k) = key {
            v["key"] = json!(k);
        }
        v
    }
}

/// Tokens and cost in `[from, to)`, grouped by `agent`, `model`, `identity` or `day`.
#[utoipa::path(get, path = "/v3/usage",
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
    let mut groups: BTreeMap<String, Totals> = BTreeMap::new();
    let mut total = Totals::default();
    match group_by {
        "agent" | "model" | "day" => {
            for s in state
                .store
                .spans_between(&caller.project, Some(SpanKind::Llm), from, to)
                .await?
            {
                let key = match group_by {
                    "agent" => s.agent_key.clone(),
                    "model" => format!(
                        "{}/{}",
                        s.attributes
                            .get("provider")
                            .and_then(Value::as_str)
                            .unwrap_or_default(),
                        s.attributes
                            .get("model")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                    ),
                    _ => rfc3339_ms(s.started_ms)
                        .as_str()
                        .map(|d| d[..10].to_owned())
                        .unwrap_or_default(),
                };
                for t in [groups.entry(key).or_default(), &mut total] {
                    t.prompt += s.prompt_tokens;
                    t.completion += s.completion_tokens;
                    t.cost += s.cost;
                    t.calls += 1;
                }
            }
        }
        "identity" => {
            // Turn roots carry their run's totals (children included); nested roots are skipped
            // so nothing is counted twice.
            for s in state
                .store
                .spans_between(&caller.project, Some(SpanKind::Agent), from, to)
                .await?
                .into_iter()
                .filter(|s| s.parent_span_id.is_none())
            {
                let key = s
                    .attributes
                    .get("identity_id")
                    .and_then(Value::as_str)
                    .unwrap_or("(none)")
                    .to_owned();
                let number = |k: &str| s.attributes.get(k).and_then(Value::as_f64).unwrap_or(0.0);
                for t in [groups.entry(key).or_default(), &mut total] {
                    t.prompt += number("total_prompt_tokens") as u64;
                    t.completion += number("total_completion_tokens") as u64;
                    t.cost += number("total_cost");
                    t.calls += 1;
                }
            }
        }
        other => {
            return Err(ApiError::invalid(
                "group_by",
                format!("`{other}` is not agent, model, identity or day"),
            ))
        }
    }
    let data: Vec<Value> = groups.iter().map(|(k, t)| t.json(Some(k))).collect();
    Ok(Json(
        json!({"object": "usage", "from": rfc3339_ms(from), "to": rfc3339_ms(to), "group_by": group_by,
        "data": data, "total": total.json(None)}),
    ))
}
