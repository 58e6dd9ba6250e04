//! The string rules the server checks that JSON Schema can state (key and folder-path patterns,
//! lengths, "not blank"), set on the document's component schemas from the same constants the
//! checks use, so the document and the server agree and generated requests are valid.

use baton_core::validate::{
    AGENT_KEY_PATTERN, FOLDER_PATH_PATTERN, MAX_FOLDER_PATH, MODEL_NAME_PATTERN, TOOL_KEY_PATTERN,
};
use utoipa::openapi::schema::{Object, Schema};
use utoipa::openapi::RefOr;

/// Some non-blank character (`non_empty`'s rule).
const NOT_BLANK: &str = r"\S";

/// `(schema, property, pattern, max length)`.
const CONSTRAINTS: &[(&str, &str, &str, Option<usize>)] = &[
    ("AgentSpec", "key", AGENT_KEY_PATTERN, Some(255)),
    (
        "AgentSpec",
        "path",
        FOLDER_PATH_PATTERN,
        Some(MAX_FOLDER_PATH),
    ),
    ("AgentSpec", "role", NOT_BLANK, None),
    ("TeamMember", "key", AGENT_KEY_PATTERN, Some(255)),
    ("ToolSpec", "key", TOOL_KEY_PATTERN, Some(64)),
    (
        "ToolSpec",
        "path",
        FOLDER_PATH_PATTERN,
        Some(MAX_FOLDER_PATH),
    ),
    ("FunctionDef", "name", NOT_BLANK, None),
    ("JsonSchemaDef", "name", NOT_BLANK, None),
    ("HttpBlueprint", "url", "^https?://", None),
    ("MemoryStoreCreate", "key", TOOL_KEY_PATTERN, Some(64)),
    ("EmbeddingConfig", "model", MODEL_NAME_PATTERN, None),
    ("KnowledgeBaseCreate", "key", TOOL_KEY_PATTERN, Some(64)),
    (
        "KnowledgeBaseCreate",
        "path",
        FOLDER_PATH_PATTERN,
        Some(MAX_FOLDER_PATH),
    ),
    (
        "KnowledgeBaseUpdate",
        "path",
        FOLDER_PATH_PATTERN,
        Some(MAX_FOLDER_PATH),
    ),
    ("KnowledgeSearch", "query", NOT_BLANK, None),
];

/// Sets [`CONSTRAINTS`] on the document's schemas.
pub(crate) fn add_constraints(doc: &mut utoipa::openapi::OpenApi) {
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for (schema, property, pattern, max_length) in CONSTRAINTS {
        let Some(RefOr::T(schema)) = components.schemas.get_mut(*schema) else {
            continue;
        };
        if let Some(property) = property_mut(schema, property) {
            property.pattern = Some((*pattern).to_owned());
            if max_length.is_some() {
                property.max_length = *max_length;
            }
            if *pattern != NOT_BLANK {
                property.min_length = Some(1);
            }
        }
    }
}

/// The inline schema of `name` in an object schema, or in an object part of an `allOf`.
fn property_mut<'a>(schema: &'a mut Schema, name: &str) -> Option<&'a mut Object> {
    let own = |object: &'a mut Object| match object.properties.get_mut(name) {
        Some(RefOr::T(Schema::Object(property))) => Some(property),
        _ => None,
    };
    match schema {
        Schema::Object(object) => own(object),
        Schema::AllOf(all) => all.items.iter_mut().find_map(|item| match item {
            RefOr::T(Schema::Object(object)) => match object.properties.get_mut(name) {
                Some(RefOr::T(Schema::Object(property))) => Some(property),
                _ => None,
            },
            _ => None,
        }),
        _ => None,
    }
}

/// Every `(schema, property)` the table names, for the tests.
#[cfg(test)]
pub(crate) fn constrained() -> impl Iterator<Item = (&'static str, &'static str)> {
    CONSTRAINTS
        .iter()
        .map(|(schema, property, ..)| (*schema, *property))
}
