//! OpenAPI links: where the identifiers a response returns can be used next (create → get →
//! update → delete). Clients and stateful fuzzers (Schemathesis) follow them. One table, by
//! operation id; a link to an operation id that does not exist fails the route-sync tests.

use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::RefOr;

/// `(from operation, its status, [(to operation, [(parameter, runtime expression)])])`.
type LinkRow = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static [(&'static str, &'static str)])],
);

const AGENT: &[(&str, &str)] = &[("agent_key", "$response.body#/key")];
const TOOL: &[(&str, &str)] = &[("tool_id", "$response.body#/_id")];
const STORE: &[(&str, &str)] = &[("store", "$response.body#/key")];
const MEMORY: &[(&str, &str)] = &[
    ("store", "$request.path.store"),
    ("entity", "$response.body#/entity_id"),
];
const DOCUMENT: &[(&str, &str)] = &[
    ("store", "$request.path.store"),
    ("entity", "$request.path.entity"),
    ("document", "$response.body#/_id"),
];
const KB: &[(&str, &str)] = &[("kb", "$response.body#/_id")];
const DATASOURCE: &[(&str, &str)] = &[("kb", "$request.path.kb"), ("ds", "$response.body#/_id")];
const CHUNK: &[(&str, &str)] = &[
    ("kb", "$request.path.kb"),
    ("ds", "$request.path.ds"),
    ("chunk", "$response.body#/0/_id"),
];
const KEY: &[(&str, &str)] = &[("key_id", "$response.body#/_id")];
const TASK: &[(&str, &str)] = &[
    ("agent_key", "$request.path.agent_key"),
    ("task_id", "$response.body#/task_id"),
];
const TRACE: &[(&str, &str)] = &[("trace_id", "$response.body#/telemetry/trace_id")];
const SCHEDULE: &[(&str, &str)] = &[
    ("agent_key", "$request.path.agent_key"),
    ("schedule_id", "$response.body#/_id"),
];
const ORCHESTRA_SCHEDULE: &[(&str, &str)] = &[
    ("agent_key", "$response.body#/agent_key"),
    ("schedule_id", "$response.body#/_id"),
];
const ORCHESTRA_THREAD: &[(&str, &str)] = &[("thread_id", "$response.body#/thread_id")];

/// Every link of the document.
pub(crate) const LINKS: &[LinkRow] = &[
    (
        "agents_create",
        "201",
        &[
            ("agents_retrieve", AGENT),
            ("agents_update", AGENT),
            ("agents_list_versions", AGENT),
            ("responses_create", AGENT),
            ("schedules_create", AGENT),
            ("schedules_list", AGENT),
            ("agents_delete", AGENT),
        ],
    ),
    (
        "responses_create",
        "200",
        &[
            ("responses_retrieve", TASK),
            ("responses_stream", TASK),
            ("responses_cancel", TASK),
            ("traces_retrieve", TRACE),
            ("traces_list_spans", TRACE),
        ],
    ),
    (
        "schedules_create",
        "201",
        &[
            ("schedules_retrieve", SCHEDULE),
            ("schedules_update", SCHEDULE),
            ("schedules_execute", SCHEDULE),
            ("schedules_list_executions", SCHEDULE),
            ("schedules_delete", SCHEDULE),
        ],
    ),
    (
        "orchestra_create_schedule",
        "201",
        &[
            ("schedules_retrieve", ORCHESTRA_SCHEDULE),
            ("schedules_delete", ORCHESTRA_SCHEDULE),
        ],
    ),
    (
        "orchestra_create_thread",
        "201",
        &[
            ("orchestra_get_thread", ORCHESTRA_THREAD),
            ("orchestra_delete_thread", ORCHESTRA_THREAD),
        ],
    ),
    (
        "tools_create",
        "200",
        &[
            ("tools_retrieve", TOOL),
            ("tools_update", TOOL),
            ("tools_invoke", TOOL),
            ("tools_delete", TOOL),
        ],
    ),
    (
        "memory_stores_create",
        "201",
        &[
            ("memory_stores_retrieve", STORE),
            ("memory_stores_update", STORE),
            ("memories_create", STORE),
            ("memories_list", STORE),
            ("memory_stores_delete", STORE),
        ],
    ),
    (
        "memories_create",
        "201",
        &[
            ("memories_retrieve", MEMORY),
            ("memories_update", MEMORY),
            ("memory_documents_create", MEMORY),
            ("memory_documents_list", MEMORY),
            ("memories_delete", MEMORY),
        ],
    ),
    (
        "memory_documents_create",
        "201",
        &[
            ("memory_documents_retrieve", DOCUMENT),
            ("memory_documents_update", DOCUMENT),
            ("memory_documents_delete", DOCUMENT),
        ],
    ),
    (
        "knowledge_create",
        "200",
        &[
            ("knowledge_retrieve", KB),
            ("knowledge_update", KB),
            ("knowledge_search", KB),
            ("datasources_create", KB),
            ("datasources_list", KB),
            ("knowledge_delete", KB),
        ],
    ),
    (
        "datasources_create",
        "200",
        &[
            ("datasources_retrieve", DATASOURCE),
            ("datasources_update", DATASOURCE),
            ("chunks_create", DATASOURCE),
            ("chunks_list", DATASOURCE),
            ("datasources_delete", DATASOURCE),
        ],
    ),
    (
        "chunks_create",
        "200",
        &[
            ("chunks_retrieve", CHUNK),
            ("chunks_update", CHUNK),
            ("chunks_delete", CHUNK),
        ],
    ),
    ("api_keys_create", "201", &[("api_keys_revoke", KEY)]),
];

/// Adds [`LINKS`] to the responses they start from.
pub(crate) fn add_links(doc: &mut utoipa::openapi::OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            add_operation_links(operation);
        }
    }
}

fn add_operation_links(operation: &mut Operation) {
    let Some(id) = operation.operation_id.as_deref() else {
        return;
    };
    for (from, status, targets) in LINKS.iter().filter(|(from, ..)| *from == id) {
        let Some(RefOr::T(response)) = operation.responses.responses.get_mut(*status) else {
            continue;
        };
        for (to, parameters) in targets.iter() {
            let link = parameters
                .iter()
                .fold(
                    LinkBuilder::new().operation_id(*to),
                    |link, (name, value)| link.parameter(*name, *value),
                )
                .description(format!("Use the result of `{from}` with `{to}`"))
                .build();
            response.links.insert(link_name(to), RefOr::T(link));
        }
    }
}

/// `agents_retrieve` → `AgentsRetrieve`.
fn link_name(operation_id: &str) -> String {
    operation_id
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// The document as JSON, with its links' keys spelled as OpenAPI spells them: utoipa 5 writes
/// a link's `operationId`, `operationRef` and `requestBody` in snake case.
pub(crate) fn to_json(doc: &utoipa::openapi::OpenApi) -> serde_json::Value {
    let mut json = serde_json::to_value(doc).unwrap_or_default();
    let paths = json
        .get_mut("paths")
        .and_then(serde_json::Value::as_object_mut);
    let operations = paths
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(serde_json::Value::as_object_mut)
        .flat_map(|item| item.values_mut());
    for operation in operations {
        let responses = operation
            .get_mut("responses")
            .and_then(serde_json::Value::as_object_mut);
        for response in responses.into_iter().flat_map(|r| r.values_mut()) {
            let links = response
                .get_mut("links")
                .and_then(serde_json::Value::as_object_mut);
            for link in links.into_iter().flat_map(|l| l.values_mut()) {
                let Some(link) = link.as_object_mut() else {
                    continue;
                };
                for (snake, camel) in [
                    ("operation_id", "operationId"),
                    ("operation_ref", "operationRef"),
                    ("request_body", "requestBody"),
                ] {
                    if let Some(value) = link.remove(snake) {
                        link.insert(camel.to_owned(), value);
                    }
                }
            }
        }
    }
    crate::openapi_unions::distribute_all_of(&mut json);
    json
}
