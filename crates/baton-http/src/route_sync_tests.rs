//! The router and the OpenAPI document list the same operations.
//!
//! axum cannot list a router's routes, but its `Debug` output names each route's path and the
//! methods it answers; this test reads them from there (and fails loudly if that output
//! changes shape), so a route registered with a plain `.route(...)` instead of `routes!(...)`
//! is caught.

use std::collections::BTreeSet;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// `(METHOD, path)` of every route of `router`, from its `Debug` output.
fn routed_operations(router: &axum::Router<crate::AppState>) -> BTreeSet<(String, String)> {
    let debug = format!("{router:?}");
    let (routes, paths) = debug
        .split_once("node: Node { paths: {")
        .expect("axum's Router Debug output names its node's paths");
    let (paths, _fallback) = paths
        .split_once("} } }, fallback_router")
        .expect("the fallback router follows the paths");
    let mut path_of = std::collections::HashMap::new();
    for entry in paths.split("RouteId(").skip(1) {
        let (id, rest) = entry.split_once("): \"").expect("RouteId(n): \"path\"");
        let path = rest.split('"').next().expect("a quoted path");
        path_of.insert(id.to_owned(), path.to_owned());
    }
    let mut out = BTreeSet::new();
    for entry in routes.split("RouteId(").skip(1) {
        let (id, rest) = entry
            .split_once("): MethodRouter(MethodRouter { ")
            .expect("every route is a method router");
        let path = &path_of[id];
        for field in rest.split(", ") {
            let Some((method, endpoint)) = field.split_once(": ") else {
                continue;
            };
            if METHODS.contains(&method) && endpoint != "None" {
                out.insert((method.to_uppercase(), path.clone()));
            }
            if method == "fallback" {
                break;
            }
        }
    }
    out
}

#[test]
fn every_route_is_documented_and_every_operation_routed() {
    let (router, doc) = crate::api_routes().split_for_parts();
    let routed = routed_operations(&router);
    let doc = serde_json::to_value(crate::openapi::finish(doc)).unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_some() {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    assert!(routed.len() > 60, "too few routes read: {routed:?}");
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routed but not in the document: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "in the document but not routed: {unrouted:?}"
    );
}

#[test]
fn a_plain_route_is_noticed() {
    let (router, _) = crate::api_routes().split_for_parts();
    let router = router.route(
        "/v2/extra",
        axum::routing::get(|| async {}).post(|| async {}),
    );
    let routed = routed_operations(&router);
    assert!(routed.contains(&("GET".to_owned(), "/v2/extra".to_owned())));
    assert!(routed.contains(&("POST".to_owned(), "/v2/extra".to_owned())));
    assert!(!routed.contains(&("DELETE".to_owned(), "/v2/extra".to_owned())));
}

#[test]
fn every_operation_has_a_unique_id_a_tag_and_the_shared_error_statuses() {
    let doc = serde_json::to_value(crate::openapi_document()).unwrap();
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(
                ids.insert(id.to_owned()),
                "{method} {path}: duplicate id {id:?}"
            );
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '_') && id.contains('_'),
                "{method} {path}: operation id {id:?} is not resource_verb"
            );
            assert_eq!(
                op["tags"].as_array().map(Vec::len),
                Some(1),
                "{method} {path}"
            );
            let responses = op["responses"].as_object().unwrap();
            for status in ["401", "403", "503"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path}: no {status}"
                );
            }
            if path.contains('{') {
                assert!(responses.contains_key("404"), "{method} {path}: no 404");
                assert!(responses.contains_key("400"), "{method} {path}: no 400");
            }
            if op.get("requestBody").is_some() {
                assert!(responses.contains_key("413"), "{method} {path}: no 413");
            }
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        response["content"]["application/json"]["schema"].is_object(),
                        "{method} {path} {status}: no error body"
                    );
                }
            }
        }
    }
}

#[test]
fn every_link_joins_documented_operations_and_parameters() {
    let doc = crate::openapi_json();
    let mut operations = std::collections::HashMap::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            operations.insert(op["operationId"].as_str().unwrap().to_owned(), op.clone());
        }
    }
    let mut links = 0;
    for (from, status, targets) in crate::openapi_links::LINKS {
        let source_links = &operations[*from]["responses"][*status]["links"];
        assert!(source_links.is_object(), "{from} has no {status}");
        for (to, parameters) in targets.iter() {
            let target = operations
                .get(*to)
                .unwrap_or_else(|| panic!("{from} links to {to}"));
            let path_params: BTreeSet<&str> = target["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            let given: BTreeSet<&str> = parameters.iter().map(|(name, _)| *name).collect();
            assert_eq!(given, path_params, "{from} -> {to}");
            let named = source_links
                .as_object()
                .unwrap()
                .values()
                .any(|link| link["operationId"] == *to);
            assert!(named, "{from} -> {to}: no link with `operationId: {to}`");
            links += 1;
        }
    }
    assert!(links > 30);
}

#[test]
fn every_constraint_lands_on_a_documented_string_property() {
    let doc = crate::openapi_json();
    let schemas = &doc["components"]["schemas"];
    for (schema, property) in crate::openapi_constraints::constrained() {
        // A union's shared fields are in each of its variants (see `openapi_unions`).
        let found = std::iter::once(&schemas[schema])
            .chain(schemas[schema]["allOf"].as_array().into_iter().flatten())
            .chain(schemas[schema]["oneOf"].as_array().into_iter().flatten())
            .any(|part| part["properties"][property]["pattern"].is_string());
        assert!(found, "{schema}.{property} has no pattern");
    }
}
