//! Small pieces of the wire format every resource shares.

use axum::Json;
use serde_json::{json, Value};

/// A page of a list: `{"object": "list", "data": [...], "has_more": bool}`.
pub(crate) fn list_json(data: Vec<Value>, has_more: bool) -> Json<Value> {
    Json(json!({"object": "list", "data": data, "has_more": has_more}))
}

/// A Unix-milliseconds time as RFC 3339 UTC with milliseconds (`null` when out of range).
pub(crate) fn rfc3339_ms(ms: i64) -> Value {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| json!(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)))
        .unwrap_or(Value::Null)
}
