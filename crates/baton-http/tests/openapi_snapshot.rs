//! The OpenAPI document served at `/openapi.json` is committed as `tests/openapi.json`, so a
//! change to the wire shows up in review as a diff of that file.
//!
//! After an intended change, rewrite the snapshot and commit it with the change:
//!
//! ```sh
//! UPDATE_SNAPSHOTS=1 cargo test -p baton-http --test openapi_snapshot
//! ```

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/openapi.json");

#[test]
#[allow(clippy::disallowed_methods)] // a test switch, not configuration
fn the_document_matches_the_committed_snapshot() {
    let doc = baton_http::openapi_json();
    let current = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        std::fs::write(SNAPSHOT, &current).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    if committed != current {
        let line = committed
            .lines()
            .zip(current.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(current.lines().count()));
        panic!(
            "the OpenAPI document differs from tests/openapi.json (first at line {}); review \
             the change and rerun with UPDATE_SNAPSHOTS=1 to accept it",
            line + 1
        );
    }
}

#[test]
fn the_document_is_openapi_3_1_with_security_and_tags() {
    let doc = baton_http::openapi_json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    for scheme in ["bearer", "x_api_key", "jwt"] {
        assert!(schemes.contains_key(scheme), "no {scheme} scheme");
    }
    assert_eq!(doc["security"].as_array().unwrap().len(), 3);
    assert!(doc["tags"].as_array().unwrap().len() >= 9);
}
