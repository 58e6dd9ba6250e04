//! Unions that code generators can read.
//!
//! utoipa describes a struct that flattens a tagged enum (`ToolSpec` = common fields + the
//! kind's fields) as `allOf: [<the enum's oneOf>, <the common fields>]`. That is valid, but
//! openapi-python-client refuses it ("cannot take allOf a non-object") and drops every
//! operation that uses the type. The same set of values is `oneOf: [<each variant with the
//! common fields>]`, which every generator reads; this rewrites the first form into the second
//! wherever it occurs, in dependency order (a component is rewritten before the ones that use
//! it).

use serde_json::{Map, Value};

/// Keywords an object schema may have for its properties to be merged into another's.
const MERGEABLE: [&str; 5] = ["type", "properties", "required", "description", "title"];

/// Rewrites every `allOf` with exactly one union member into a `oneOf` of that union's
/// variants, each merged with the other members.
pub(crate) fn distribute_all_of(doc: &mut Value) {
    let names: Vec<String> = doc["components"]["schemas"]
        .as_object()
        .map(|s| s.keys().cloned().collect())
        .unwrap_or_default();
    let mut done = std::collections::BTreeSet::new();
    for name in &names {
        rewrite_component(doc, name, &mut done);
    }
    let components = doc_components(doc);
    if let Some(paths) = doc.get_mut("paths") {
        rewrite_nested(paths, &components);
    }
}

fn doc_components(doc: &Value) -> Map<String, Value> {
    doc["components"]["schemas"]
        .as_object()
        .cloned()
        .unwrap_or_default()
}

/// Rewrites component `name` after the components it refers to.
fn rewrite_component(doc: &mut Value, name: &str, done: &mut std::collections::BTreeSet<String>) {
    if !done.insert(name.to_owned()) {
        return;
    }
    let Some(mut schema) = doc["components"]["schemas"].get(name).cloned() else {
        return;
    };
    if !schema.to_string().contains("\"allOf\"") {
        return;
    }
    let mut refs = Vec::new();
    collect_refs(&schema, &mut refs);
    for target in refs {
        rewrite_component(doc, &target, done);
    }
    let components = doc_components(doc);
    rewrite_nested(&mut schema, &components);
    doc["components"]["schemas"][name] = schema;
}

fn collect_refs(node: &Value, out: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(component_name)
            {
                out.push(name.to_owned());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

fn component_name(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/components/schemas/")
}

/// Rewrites every `allOf` in `node` (innermost first).
fn rewrite_nested(node: &mut Value, components: &Map<String, Value>) {
    match node {
        Value::Object(map) => {
            map.values_mut().for_each(|v| rewrite_nested(v, components));
            rewrite_all_of(map, components);
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_nested(v, components)),
        _ => {}
    }
}

/// The schema a member stands for: a reference's target, or itself.
fn resolve<'a>(member: &'a Value, components: &'a Map<String, Value>) -> &'a Value {
    member["$ref"]
        .as_str()
        .and_then(component_name)
        .and_then(|name| components.get(name))
        .unwrap_or(member)
}

fn rewrite_all_of(schema: &mut Map<String, Value>, components: &Map<String, Value>) {
    let Some(Value::Array(members)) = schema.get("allOf") else {
        return;
    };
    let unions: Vec<usize> = (0..members.len())
        .filter(|&i| resolve(&members[i], components).get("oneOf").is_some())
        .collect();
    let [union] = unions[..] else { return };
    let others: Vec<&Value> = members
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != union)
        .map(|(_, m)| resolve(m, components))
        .collect();
    if !others.iter().all(|o| is_mergeable(o)) {
        return;
    }
    let Some(Value::Array(variants)) = resolve(&members[union], components).get("oneOf") else {
        return;
    };
    let merged: Vec<Value> = variants
        .iter()
        .map(|variant| merge_variant(variant, &others))
        .collect();
    schema.remove("allOf");
    schema.insert("oneOf".into(), Value::Array(merged));
}

fn is_mergeable(schema: &Value) -> bool {
    schema
        .as_object()
        .is_some_and(|map| map.keys().all(|k| MERGEABLE.contains(&k.as_str())))
}

/// A variant with the other members' properties: merged when it is an inline object, else as
/// an `allOf` of objects (which generators read).
fn merge_variant(variant: &Value, others: &[&Value]) -> Value {
    if !is_mergeable(variant) || variant.get("properties").is_none() {
        let mut all = vec![variant.clone()];
        all.extend(others.iter().map(|o| (*o).clone()));
        return serde_json::json!({ "allOf": all });
    }
    let mut merged = variant.clone();
    for other in others {
        for (key, property) in other["properties"].as_object().into_iter().flatten() {
            let properties = &mut merged["properties"];
            match properties.get(key) {
                Some(existing) if existing != property => {
                    let both = serde_json::json!({ "allOf": [existing.clone(), property.clone()] });
                    properties[key] = both;
                }
                _ => properties[key] = property.clone(),
            }
        }
        for name in other["required"].as_array().into_iter().flatten() {
            let required = merged.as_object_mut().map(|m| {
                m.entry("required")
                    .or_insert_with(|| Value::Array(Vec::new()))
            });
            if let Some(Value::Array(required)) = required {
                if !required.contains(name) {
                    required.push(name.clone());
                }
            }
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_all_of_with_a_union_becomes_a_union_of_merged_variants() {
        let mut doc = json!({"components": {"schemas": {
            "Kind": {"oneOf": [
                {"type": "object", "properties": {"type": {"enum": ["a"]}, "x": {"type": "string"}}, "required": ["type"]},
                {"type": "object", "properties": {"type": {"enum": ["b"]}}, "required": ["type"]}]},
            "Spec": {"description": "d", "allOf": [{"$ref": "#/components/schemas/Kind"},
                {"type": "object", "properties": {"key": {"type": "string"}}, "required": ["key"]}]},
            "Dto": {"allOf": [{"$ref": "#/components/schemas/Spec"},
                {"type": "object", "properties": {"_id": {"type": "string"}}, "required": ["_id"]}]}}},
            "paths": {"/p": {"get": {"responses": {"200": {"content": {"application/json": {"schema":
                {"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/Spec"},
                    {"type": "object", "properties": {"n": {"type": "integer"}}}]}}}}}}}}}});
        distribute_all_of(&mut doc);
        let schemas = &doc["components"]["schemas"];
        assert_eq!(schemas["Spec"]["description"], "d");
        assert!(
            schemas["Spec"].get("allOf").is_none(),
            "{}",
            schemas["Spec"]
        );
        let a = &schemas["Spec"]["oneOf"][0];
        assert_eq!(a["required"], json!(["type", "key"]));
        assert_eq!(a["properties"]["x"], json!({"type": "string"}));
        let dto_b = &schemas["Dto"]["oneOf"][1];
        assert_eq!(
            dto_b["required"],
            json!(["type", "key", "_id"]),
            "{}",
            schemas["Dto"]
        );
        let items = &doc["paths"]["/p"]["get"]["responses"]["200"]["content"]["application/json"]
            ["schema"]["items"];
        assert_eq!(items["oneOf"].as_array().map(Vec::len), Some(2), "{items}");
        assert_eq!(
            items["oneOf"][0]["properties"]["n"],
            json!({"type": "integer"})
        );
    }

    #[test]
    fn members_that_cannot_be_merged_stay_as_they_are() {
        let original = json!({"components": {"schemas": {
            "Kind": {"oneOf": [{"type": "object", "properties": {"a": {}}}]},
            "Spec": {"allOf": [{"$ref": "#/components/schemas/Kind"},
                {"type": "object", "additionalProperties": false, "properties": {"k": {}}}]}}}});
        let mut doc = original.clone();
        distribute_all_of(&mut doc);
        assert_eq!(doc, original);
    }

    #[test]
    fn the_served_document_has_no_all_of_over_a_union() {
        let doc = crate::openapi_json();
        let components = doc_components(&doc);
        fn check(node: &Value, components: &Map<String, Value>, at: &str) {
            match node {
                Value::Object(map) => {
                    if let Some(Value::Array(members)) = map.get("allOf") {
                        let unions = members
                            .iter()
                            .filter(|m| resolve(m, components).get("oneOf").is_some())
                            .count();
                        assert_eq!(unions, 0, "{at}: allOf over a union: {node}");
                    }
                    for (k, v) in map {
                        check(v, components, &format!("{at}/{k}"));
                    }
                }
                Value::Array(items) => items.iter().for_each(|v| check(v, components, at)),
                _ => {}
            }
        }
        check(&doc, &components, "");
    }
}
