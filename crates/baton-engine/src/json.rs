//! Reading orq's JSON into typed values, naming the field that is wrong.

use crate::EngineError;
use baton_core::ValidationError;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// `path.field`, or `field` at the top.
fn join(path: &str, field: &str) -> String {
    match path {
        "." => field.to_owned(),
        path => format!("{path}.{field}"),
    }
}

/// Converts a JSON value into `T`; the error names the field at fault by its full path.
pub fn parse<T: DeserializeOwned>(value: Value) -> Result<T, EngineError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let (field, message) = if let Some(nested) = ValidationError::from_serde_message(&inner) {
            (join(&path, &nested.field), nested.message)
        } else if let Some(rest) = inner.strip_prefix("missing field `") {
            // serde reports a missing field at its parent; name the field itself.
            (join(&path, rest.trim_end_matches('`')), inner)
        } else if path == "." {
            (String::new(), inner)
        } else {
            (path, inner)
        };
        EngineError::Invalid { field, message }
    })
}
