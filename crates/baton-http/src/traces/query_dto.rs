//! The bodies of `POST /v3/traces/search` and `GET /v3/usage`. Response fields are declared
//! in the order earlier releases sent them (alphabetical).

use baton_core::trace::UsageTotals;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// The body of `POST /v3/traces/search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"from": "2026-05-01T00:00:00Z", "to": "2026-05-02T00:00:00Z",
    "filters": [{"field": "agent", "op": "eq", "values": ["weather-agent"]},
                {"field": "metadata.source", "values": ["web"]}],
    "filter_operator": "and", "limit": 20}))]
pub struct SearchTracesRequest {
    /// Runs that started at or after this time (RFC 3339).
    #[schema(format = DateTime)]
    pub from: String,
    /// Runs that started before this time (RFC 3339).
    #[schema(format = DateTime)]
    pub to: String,
    /// Conditions on the runs.
    #[serde(default)]
    pub filters: Vec<TraceFilterInput>,
    /// How the filters combine: `and` (default) or `or`.
    #[serde(default)]
    #[schema(value_type = Option<FilterOperator>)]
    pub filter_operator: Option<String>,
    /// Most traces to return (default 50; fewer than 1 or more than 500 count as 1 or 500).
    #[serde(default)]
    #[schema(format = "uint64")]
    pub limit: Option<u64>,
}

/// How search filters combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FilterOperator {
    /// Every filter holds.
    And,
    /// Any filter holds.
    Or,
}

/// A condition of a trace search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TraceFilterInput {
    /// `agent`, `status`, `identity`, `schedule`, `thread` or `metadata.<key>`.
    pub field: String,
    /// The comparison (default `eq`).
    #[serde(default = "eq")]
    #[schema(value_type = FilterOp)]
    pub op: String,
    /// The values to compare with (any one matches).
    pub values: Vec<Value>,
}

/// How a filter compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FilterOp {
    /// The field is one of the values.
    Eq,
    /// The same as `eq`.
    In,
    /// The field is none of the values.
    Ne,
    /// The same as `ne`.
    NotIn,
}

fn eq() -> String {
    "eq".into()
}

/// Tokens and cost of a group of spans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UsageGroupTotals {
    /// Output tokens.
    pub completion_tokens: u64,
    /// Cost in USD.
    pub cost: f64,
    /// Spans counted.
    pub count: u64,
    /// The group's key (absent on the total).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub key: Option<String>,
    /// Input tokens.
    pub prompt_tokens: u64,
    /// Both.
    pub total_tokens: u64,
}

impl UsageGroupTotals {
    /// The totals, with the group's key when `keyed`.
    pub(crate) fn new(t: &UsageTotals, keyed: bool) -> Self {
        Self {
            completion_tokens: t.completion_tokens,
            cost: t.cost,
            count: t.count,
            key: keyed.then(|| t.key.clone()),
            prompt_tokens: t.prompt_tokens,
            total_tokens: t.prompt_tokens + t.completion_tokens,
        }
    }
}

/// Tokens and cost in a time range, grouped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[non_exhaustive]
pub struct UsageReport {
    /// One entry per group.
    pub data: Vec<UsageGroupTotals>,
    /// The range's start (RFC 3339).
    #[schema(required = true)]
    pub from: Option<String>,
    /// The grouping.
    pub group_by: UsageGroupBy,
    /// Always `usage`.
    pub object: UsageObject,
    /// The range's end (RFC 3339).
    #[schema(required = true)]
    pub to: Option<String>,
    /// All groups together.
    pub total: UsageGroupTotals,
}

/// How usage is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UsageGroupBy {
    /// By agent key.
    Agent,
    /// By `provider/model`.
    Model,
    /// By identity.
    Identity,
    /// By UTC day.
    Day,
}

/// The `object` tag of a [`UsageReport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UsageObject {
    /// A usage report.
    Usage,
}
