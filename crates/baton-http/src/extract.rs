//! Extractors for JSON bodies, path parameters and query strings whose failures name the field
//! and use the API's error format. They also refuse NUL characters in any string: PostgreSQL
//! cannot store them, and no name, id or text of this API needs one.

use crate::error::ApiError;
use axum::extract::path::ErrorKind;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt::Write as _;

/// Like `axum::Json`, but malformed or mistyped bodies become `ApiError`s naming the field.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// A JSON body of any shape (batch endpoints take arrays), read and checked like [`ApiJson`].
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse_value(&bytes).map(JsonBody)
    }
}

fn body_rejection(e: BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large("the body is larger than the server accepts")
    } else {
        ApiError::malformed(format!("could not read the body: {e}"))
    }
}

const NUL_MESSAGE: &str = "must not contain NUL characters (\\u0000)";

/// The path (`messages[0].text` style) of the first string or key holding a NUL character.
fn find_nul(value: &Value, path: &mut String) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
            let len = path.len();
            let _ = write!(path, "[{i}]");
            let found = find_nul(item, path);
            if !found {
                path.truncate(len);
            }
            found
        }),
        Value::Object(map) => map.iter().any(|(key, item)| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
            let found = key.contains('\0') || find_nul(item, path);
            if !found {
                path.truncate(len);
            }
            found
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// Refuses a JSON document with a NUL character in any string or key, naming where.
pub(crate) fn reject_nul(value: &Value) -> Result<(), ApiError> {
    let mut path = String::new();
    if find_nul(value, &mut path) {
        return Err(ApiError::invalid(path, NUL_MESSAGE));
    }
    Ok(())
}

/// Like `axum::extract::Path`, with errors in the API's format naming the parameter, and no
/// NUL characters.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<Vec<(String, String)>>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(params)) => {
                if let Some((key, _)) = params.iter().find(|(_, v)| v.contains('\0')) {
                    return Err(ApiError::invalid(key.as_str(), NUL_MESSAGE));
                }
            }
            Err(e) => return Err(path_rejection(e)),
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(path_rejection)
    }
}

fn path_rejection(e: PathRejection) -> ApiError {
    match e {
        PathRejection::FailedToDeserializePathParams(e) => match e.into_kind() {
            ErrorKind::InvalidUtf8InPathParam { key } => {
                ApiError::invalid(key, "is not valid UTF-8")
            }
            ErrorKind::ParseErrorAtKey {
                key,
                value,
                expected_type,
            } => ApiError::invalid(key, format!("`{value}` is not a valid {expected_type}")),
            kind => ApiError::invalid("", format!("invalid path: {kind}")),
        },
        e => ApiError::internal(&e),
    }
}

/// Like `axum::extract::Query`, with errors in the API's format and no NUL characters.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let pairs = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map_err(|e| ApiError::invalid("", format!("invalid query string: {e}")))?;
        if let Some((key, _)) = pairs
            .0
            .iter()
            .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(ApiError::invalid(key.replace('\0', "\\u0000"), NUL_MESSAGE));
        }
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|axum::extract::Query(value)| Self(value))
            .map_err(|e| ApiError::invalid("", format!("invalid query string: {e}")))
    }
}

/// Parses a JSON body into `T`, naming the field that is wrong.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    from_value(parse_value(bytes)?)
}

/// Parses a JSON body of any shape, refusing repeated keys and NUL characters.
fn parse_value(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::malformed("a JSON body is required"));
    }
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let value = match serde_path_to_error::deserialize::<_, StrictValue>(&mut json) {
        Ok(StrictValue(value)) => value,
        Err(e) if e.inner().is_data() => {
            // Only a repeated key is a data error here: name it, under its object's path.
            let message = e.inner().to_string();
            let key = message
                .split_once(DUPLICATE_KEY)
                .and_then(|(_, rest)| rest.split_once('`'))
                .map_or("", |(key, _)| key);
            let parent = e.path().to_string();
            let param = match parent.as_str() {
                "." => key.to_owned(),
                parent => format!("{parent}.{key}"),
            };
            return Err(ApiError::invalid(param, "appears more than once"));
        }
        Err(e) => {
            return Err(ApiError::malformed(format!(
                "the body is not valid JSON: {}",
                e.into_inner()
            )))
        }
    };
    json.end()
        .map_err(|e| ApiError::malformed(format!("the body is not valid JSON: {e}")))?;
    reject_nul(&value)?;
    Ok(value)
}

/// A JSON value whose objects may not repeat a key: parsers disagree on which copy wins, so a
/// body with one means different things to different readers.
struct StrictValue(Value);

impl<'de> serde::Deserialize<'de> for StrictValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

const DUPLICATE_KEY: &str = "duplicate key `";

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("{DUPLICATE_KEY}{key}`")));
            }
            let StrictValue(value) = map.next_value()?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
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
        // A value that checks its fields together names the one at fault in the message.
        if let Some(nested) = baton_core::ValidationError::from_serde_message(&inner) {
            let param = match path.as_str() {
                "." => nested.field,
                path => format!("{path}.{}", nested.field),
            };
            return ApiError::invalid(param, nested.message);
        }
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

/// Reads a `T` only from a JSON object, for `#[serde(deserialize_with = "…")]`: serde's derive
/// also takes an array of a struct's fields in order (`"file": [null, null]`), which no client
/// means and the document does not allow.
pub(crate) fn object<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    deserializer.deserialize_map(ObjectOnly(std::marker::PhantomData))
}

/// [`object`] for an optional field (`null` is none).
pub(crate) fn optional_object<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    struct Optional<T>(std::marker::PhantomData<T>);
    impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Optional<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object or null")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            object(d).map(Some)
        }
    }
    deserializer.deserialize_option(Optional(std::marker::PhantomData))
}

struct ObjectOnly<T>(std::marker::PhantomData<T>);

impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for ObjectOnly<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
    }
}
