//! `/v3/traces`: a run's trace and spans, search, usage and cost totals; `/metrics`.

pub(crate) mod dto;
pub(crate) mod query_dto;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use crate::extract::{Path, Query};
use crate::state::AppState;
use crate::wire::{rfc3339_ms, ListObject};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use baton_core::trace::UsageGroup;
use baton_engine::traces::{summarize, TraceFilter, TraceSearch};
use dto::{Span, SpanPage, Trace, TraceEnvelope, TracePage};
use query_dto::{SearchTracesRequest, UsageGroupBy, UsageGroupTotals, UsageObject, UsageReport};
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

/// A run's trace: its roots and totals (tokens and cost summed over its model spans).
#[utoipa::path(get, path = "/v3/traces/{trace_id}", operation_id = "traces_retrieve", tag = "traces",
    params(("trace_id" = String, Path, description = "Trace id (the responses' telemetry.trace_id)")),
    responses((status = 200, description = "The trace", body = TraceEnvelope),
              (status = 404, description = "Unknown trace", body = ErrorBody)))]
pub(crate) async fn trace(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(trace_id): Path<String>,
) -> Result<Json<TraceEnvelope>, ApiError> {
    let spans = state
        .engine
        .traces()
        .spans(&caller.project, &trace_id)
        .await?;
    Ok(Json(TraceEnvelope {
        trace: Trace::from(&summarize(&spans)),
    }))
}

/// A whole number query parameter, or `default` when absent.
fn number_param(
    query: &HashMap<String, String>,
    name: &str,
    default: usize,
    valid: impl Fn(usize) -> bool,
    message: &str,
) -> Result<usize, ApiError> {
    match query.get(name) {
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| valid(*n))
            .ok_or_else(|| ApiError::invalid(name, message)),
        None => Ok(default),
    }
}

/// A trace's spans, in start order, paged with `limit` and `page_token`.
#[utoipa::path(get, path = "/v3/traces/{trace_id}/spans", operation_id = "traces_list_spans", tag = "traces",
    params(("trace_id" = String, Path, description = "Trace id"),
           ("limit" = Option<u32>, Query, nullable = false, minimum = 1, maximum = 1000, description = "Page size (default 100)"),
           ("page_token" = Option<String>, Query, nullable = false, pattern = "^[0-9]{1,19}$",
            description = "The `next_page_token` of the previous page")),
    responses((status = 200, description = "A page of spans", body = SpanPage),
              (status = 404, description = "Unknown trace", body = ErrorBody)))]
pub(crate) async fn spans(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(trace_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<SpanPage>, ApiError> {
    let limit = number_param(
        &query,
        "limit",
        100,
        |l| (1..=1000).contains(&l),
        "must be a whole number from 1 to 1000",
    )?;
    let offset = number_param(
        &query,
        "page_token",
        0,
        |_| true,
        "is not a page token from this API",
    )?;
    let (nodes, has_more) = state
        .engine
        .traces()
        .span_page(&caller.project, &trace_id, offset, limit)
        .await?;
    Ok(Json(SpanPage {
        data: nodes
            .iter()
            .map(|n| Span::summary(&n.span, n.has_children))
            .collect(),
        has_more,
        next_page_token: has_more.then(|| (offset + limit).to_string()),
        object: ListObject::List,
    }))
}

/// One span with all its attributes.
#[utoipa::path(get, path = "/v3/traces/{trace_id}/spans/{span_id}", operation_id = "traces_retrieve_span", tag = "traces",
    params(("trace_id" = String, Path, description = "Trace id"), ("span_id" = String, Path, description = "Span id")),
    responses((status = 200, description = "The span, with its attributes, tokens and cost", body = Span),
              (status = 404, description = "Unknown trace or span", body = ErrorBody)))]
pub(crate) async fn span(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((trace_id, span_id)): Path<(String, String)>,
) -> Result<Json<Span>, ApiError> {
    let node = state
        .engine
        .traces()
        .span(&caller.project, &trace_id, &span_id)
        .await?;
    Ok(Json(Span::detail(&node.span, node.has_children)))
}

/// Traces whose runs started in `[from, to)`, newest first, filtered on the agent, status,
/// identity, schedule, thread or metadata (`metadata.<key>`).
#[utoipa::path(post, path = "/v3/traces/search", operation_id = "traces_search", tag = "traces",
    request_body = SearchTracesRequest,
    responses((status = 200, description = "The traces, newest first", body = TracePage)))]
pub(crate) async fn search(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<SearchTracesRequest>,
) -> Result<Json<TracePage>, ApiError> {
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
    Ok(Json(TracePage {
        data: traces.iter().map(Trace::from).collect(),
        has_more,
        object: ListObject::List,
    }))
}

/// Tokens and cost in `[from, to)`, grouped by `agent`, `model`, `identity` or `day`.
#[utoipa::path(get, path = "/v3/usage", operation_id = "usage_retrieve", tag = "traces",
    params(("from" = String, Query, format = DateTime, description = "Start of the range (RFC 3339)"),
           ("to" = String, Query, format = DateTime, description = "End of the range (RFC 3339)"),
           ("group_by" = Option<UsageGroupBy>, Query, nullable = false, description = "The grouping (default `agent`)")),
    responses((status = 200, description = "The groups and their total", body = UsageReport)))]
pub(crate) async fn usage(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<UsageReport>, ApiError> {
    let time = |field: &str| {
        parse_time(
            field,
            query.get(field).map(String::as_str).unwrap_or_default(),
        )
    };
    let (from, to) = (time("from")?, time("to")?);
    let name = query.get("group_by").map(String::as_str).unwrap_or("agent");
    let (group, group_by) = match UsageGroup::parse(name) {
        Some(UsageGroup::Agent) => (UsageGroup::Agent, UsageGroupBy::Agent),
        Some(UsageGroup::Model) => (UsageGroup::Model, UsageGroupBy::Model),
        Some(UsageGroup::Identity) => (UsageGroup::Identity, UsageGroupBy::Identity),
        Some(UsageGroup::Day) => (UsageGroup::Day, UsageGroupBy::Day),
        None => {
            return Err(ApiError::invalid(
                "group_by",
                format!("`{name}` is not agent, model, identity or day"),
            ))
        }
    };
    let (groups, total) = state
        .engine
        .traces()
        .usage(&caller.project, group, from, to)
        .await?;
    Ok(Json(UsageReport {
        data: groups
            .iter()
            .map(|g| UsageGroupTotals::new(g, true))
            .collect(),
        from: rfc3339_ms(from),
        group_by,
        object: UsageObject::Usage,
        to: rfc3339_ms(to),
        total: UsageGroupTotals::new(&total, false),
    }))
}
