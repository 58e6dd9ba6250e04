//! A JSON body extractor whose failures name the field and use the API's error format.

use crate::error::ApiError;
use axum::extract::{FromRequest, Request};
use bytes::Bytes;
use serde::de::DeserializeOwned;

/// Like `axum::Json`, but malformed or mistyped bodies become `ApiError`s naming the field.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::malformed(format!("could not read the body: {e}")))?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses a JSON body into `T`, naming the field that is wrong.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::malformed("a JSON body is required"));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::malformed(format!("the body is not valid JSON: {e}")))?;
    from_value(value)
}

/// Converts a JSON value into `T`, naming the field that is wrong.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::invalid("", "the body must be a JSON object"));
    }
    from_any_value(value)
}

/// Converts any JSON value (an array for batch endpoints) into `T`, naming the field that is
/// wrong.
pub fn from_any_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // serde reports a missing field at its parent; name the field itself.
        let param = match inner.strip_prefix("missing field `") {
            Some(rest) => {
                let field = rest.trim_end_matches('`');
                if path == "." {
                    field.to_owned()
                } else {
                    format!("{path}.{field}")
                }
            }
            None if path == "." => String::new(),
            None => path,
        };
        ApiError::invalid(param, inner)
    })
}

/// Cursor-list query parameters: `limit` (orq's SDK sends a float), `starting_after`, `ending_before`.
pub fn page_request(
    query: &std::collections::HashMap<String, String>,
) -> Result<baton_core::store::PageRequest, ApiError> {
    let limit = match query.get("limit") {
        None => None,
        Some(raw) => {
            let n: f64 = raw
                .parse()
                .map_err(|_| ApiError::invalid("limit", format!("`{raw}` is not a number")))?;
            if n.fract() != 0.0 || !(1.0..=1000.0).contains(&n) {
                return Err(ApiError::invalid(
                    "limit",
                    "must be a whole number from 1 to 1000",
                ));
            }
            Some(n as u64)
        }
    };
    let starting_after = query
        .get("starting_after")
        .filter(|s| !s.is_empty())
        .cloned();
    let ending_before = query
        .get("ending_before")
        .filter(|s| !s.is_empty())
        .cloned();
    if starting_after.is_some() && ending_before.is_some() {
        return Err(ApiError::invalid(
            "ending_before",
            "give either starting_after or ending_before, not both",
        ));
    }
    Ok(baton_core::store::PageRequest {
        limit,
        starting_after,
        ending_before,
    })
}

/// Like [`page_request`], with `default` as the page size when the query gives none.
pub(crate) fn page_request_or(
    query: &std::collections::HashMap<String, String>,
    default: u64,
) -> Result<baton_core::store::PageRequest, ApiError> {
    let mut page = page_request(query)?;
    page.limit = Some(page.limit.unwrap_or(default));
    Ok(page)
}
