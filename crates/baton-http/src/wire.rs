//! Small pieces of the wire format every resource shares.

use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

/// A page of a list: `{"data": [...], "has_more": bool, "object": "list"}`.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct ListPage<T> {
    /// The items of this page.
    pub data: Vec<T>,
    /// Whether more items follow this page.
    pub has_more: bool,
    /// Always `list`.
    pub object: ListObject,
}

impl<T> ListPage<T> {
    /// A page of `data`.
    pub fn new(data: Vec<T>, has_more: bool) -> Self {
        Self {
            data,
            has_more,
            object: ListObject::List,
        }
    }
}

/// The `object` tag of a [`ListPage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListObject {
    /// A list.
    List,
}

/// A page of a list: `{"object": "list", "data": [...], "has_more": bool}`.
pub(crate) fn list_json(data: Vec<Value>, has_more: bool) -> Json<Value> {
    Json(json!({"object": "list", "data": data, "has_more": has_more}))
}

/// A Unix-milliseconds time as RFC 3339 UTC with milliseconds (none when out of range).
pub(crate) fn rfc3339_ms(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}
