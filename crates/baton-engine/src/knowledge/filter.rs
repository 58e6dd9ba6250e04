//! `filter_by` expressions over entries' metadata.

use serde_json::{Map, Value};

/// Checks a `filter_by` expression, naming what is wrong.
pub fn check_filter(filter: &Value) -> Result<(), String> {
    let Some(obj) = filter.as_object() else {
        return Err("must be an object".into());
    };
    for (key, cond) in obj {
        match key.as_str() {
            "and" | "or" => {
                let Some(items) = cond.as_array() else {
                    return Err(format!("`{key}` must be an array of filters"));
                };
                for item in items {
                    check_filter(item)?;
                }
            }
            field => {
                let Some(ops) = cond.as_object() else {
                    return Err(format!("`{field}` must be an object like {{\"eq\": …}}"));
                };
                for op in ops.keys() {
                    if !["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "exists"]
                        .contains(&op.as_str())
                    {
                        return Err(format!("`{field}`: unknown operator `{op}`"));
                    }
                }
            }
        }
    }
    Ok(())
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Whether metadata passes a `filter_by` expression (checked with [`check_filter`]).
pub fn filter_accepts(filter: &Value, metadata: &Map<String, Value>) -> bool {
    let Some(obj) = filter.as_object() else {
        return true;
    };
    obj.iter().all(|(key, cond)| match key.as_str() {
        "and" => cond
            .as_array()
            .is_none_or(|items| items.iter().all(|f| filter_accepts(f, metadata))),
        "or" => cond
            .as_array()
            .is_none_or(|items| items.iter().any(|f| filter_accepts(f, metadata))),
        field => {
            let value = metadata.get(field);
            cond.as_object().is_none_or(|ops| {
                ops.iter().all(|(op, want)| match (op.as_str(), value) {
                    ("exists", v) => v.is_some() == want.as_bool().unwrap_or(true),
                    ("eq", Some(v)) => v == want,
                    ("ne", v) => v != Some(want),
                    ("in", Some(v)) => want.as_array().is_some_and(|xs| xs.contains(v)),
                    ("nin", v) => {
                        !v.is_some_and(|v| want.as_array().is_some_and(|xs| xs.contains(v)))
                    }
                    ("gt", Some(v)) => compare(v, want) == Some(std::cmp::Ordering::Greater),
                    ("gte", Some(v)) => compare(v, want).is_some_and(|o| o.is_ge()),
                    ("lt", Some(v)) => compare(v, want) == Some(std::cmp::Ordering::Less),
                    ("lte", Some(v)) => compare(v, want).is_some_and(|o| o.is_le()),
                    _ => false,
                })
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_combine() {
        let meta: Map<String, Value> = json!({"lang": "en", "year": 2024, "tags": "faq"})
            .as_object()
            .cloned()
            .unwrap();
        let ok = json!({"and": [{"lang": {"eq": "en"}}, {"year": {"gte": 2020, "lt": 2025}}]});
        assert!(check_filter(&ok).is_ok());
        assert!(filter_accepts(&ok, &meta));
        let no = json!({"or": [{"lang": {"eq": "de"}}, {"year": {"gt": 2024}}]});
        assert!(!filter_accepts(&no, &meta));
        assert!(filter_accepts(
            &json!({"missing": {"exists": false}}),
            &meta
        ));
        assert!(filter_accepts(
            &json!({"lang": {"in": ["en", "fr"]}}),
            &meta
        ));
        assert!(check_filter(&json!({"lang": {"like": "e%"}})).is_err());
    }
}
