//! Small pieces of the wire format every resource shares.

use serde::Serialize;
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

/// A Unix-milliseconds time as RFC 3339 UTC with milliseconds (none when out of range).
pub(crate) fn rfc3339_ms(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// The cursor-paging query parameters of list operations, for the document (handlers read them
/// with [`crate::extract::page_request`]). Use as `params(PageParams)`.
#[derive(Debug, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // read by `page_request`, declared here for the document
pub struct PageParams {
    /// Page size: a whole number from 1 to 1000.
    #[param(minimum = 1, maximum = 1000, multiple_of = 1)]
    pub limit: Option<f64>,
    /// Cursor: the `_id` of the item the page starts after.
    pub starting_after: Option<String>,
    /// Cursor: the `_id` of the item the page ends before (not with `starting_after`).
    pub ending_before: Option<String>,
}
