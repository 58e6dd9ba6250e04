//! The agent and stored-tool services without HTTP: ids and versions minted by the engine,
//! tool entries resolved against stored tools, secrets sealed, errors naming the field.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_core::agent::{AgentSpec, AgentStatus, ToolEntry};
use baton_core::secret::SecretValue;
use baton_core::store::{PageRequest, StoreError};
use baton_core::tool::{HeaderValue, ToolKind, ToolSpec};
use baton_core::ProjectId;
use baton_engine::agents::AgentPatch;
use baton_engine::{Engine, EngineError};
use baton_store::{ChaChaCipher, MemoryStore};
use serde_json::{json, Map, Value};

fn engine() -> Engine {
    let cipher = ChaChaCipher::from_base64(&ChaChaCipher::generate_key()).unwrap();
    Engine::builder()
        .store(MemoryStore::new())
        .cipher(cipher)
        .build()
        .unwrap()
}

fn project() -> ProjectId {
    ProjectId::default_project()
}

fn agent(key: &str, tools: Value) -> AgentSpec {
    serde_json::from_value(json!({"key": key, "role": "Helper", "description": "d",
        "instructions": "Help.", "path": "Default", "model": "openai/gpt-4o",
        "settings": {"tools": tools}}))
    .unwrap()
}

fn tool(body: Value) -> ToolSpec {
    serde_json::from_value(body).unwrap()
}

fn function_tool(key: &str) -> ToolSpec {
    tool(
        json!({"path": "Default", "key": key, "description": "Weather", "type": "function",
                "function": {"name": key,
                    "parameters": {"type": "object", "properties": {}, "required": []}}}),
    )
}

fn fields(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn invalid_field(result: Result<impl std::fmt::Debug, EngineError>) -> String {
    match result {
        Err(EngineError::Invalid { field, .. }) => field,
        other => panic!("expected an invalid field, got {other:?}"),
    }
}

#[tokio::test]
async fn agents_are_created_versioned_and_deleted_without_http() {
    let engine = engine();
    let (agents, p) = (engine.agents(), project());
    let weather = engine
        .tools()
        .create(&p, function_tool("get_weather"))
        .await
        .unwrap();
    let spec = agent(
        "helper",
        json!([{"type": "current_date"}, {"type": "function", "key": "get_weather"},
               {"type": "function", "function": {"name": "lookup"}}]),
    );
    let created = agents.create(&p, spec).await.unwrap();
    assert_eq!((created.version, created.status), (1, AgentStatus::Live));
    let tools = &created.spec.settings.tools;
    assert!(tools.iter().all(|t| t.id.is_some()), "{tools:?}");
    assert_eq!(tools[1].id.as_deref(), Some(weather.id.as_str()));
    assert_eq!(
        tools[2].key(),
        Some("lookup"),
        "an inline function is keyed by its name"
    );
    assert_eq!(agents.get(&p, "helper").await.unwrap(), created);

    let patch = |value: Value| AgentPatch {
        fields: fields(value),
        ..AgentPatch::default()
    };
    let updated = agents
        .update(&p, "helper", patch(json!({"instructions": "Be kind."})))
        .await
        .unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(
        updated.spec.settings.tools, created.spec.settings.tools,
        "ids are stable"
    );
    let same = agents
        .update(&p, "helper", patch(json!({"instructions": "Be kind."})))
        .await
        .unwrap();
    assert_eq!(
        same.version, 2,
        "an unchanged configuration makes no version"
    );
    let drafted = agents
        .update(
            &p,
            "helper",
            AgentPatch {
                status: Some(AgentStatus::Draft),
                ..AgentPatch::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((drafted.version, drafted.status), (2, AgentStatus::Draft));

    let (_, versions) = agents.versions(&p, "helper").await.unwrap();
    assert_eq!(versions.len(), 2);
    let first = agents.version(&drafted, 1).await.unwrap();
    assert_eq!(first.spec.instructions, "Help.");
    assert!(matches!(
        agents.version(&drafted, 3).await,
        Err(EngineError::NotFound(_))
    ));
    let pinned = agents.update(&p, "helper@1", patch(json!({}))).await;
    assert_eq!(invalid_field(pinned), "agent_key");
    let page = agents.list(&p, &PageRequest::default()).await.unwrap();
    assert_eq!(page.items.len(), 1);

    agents.delete(&p, "helper").await.unwrap();
    assert!(matches!(
        agents.get(&p, "helper").await,
        Err(EngineError::NotFound(_))
    ));
    assert!(matches!(
        agents.delete(&p, "helper").await,
        Err(EngineError::NotFound(_))
    ));
}

#[tokio::test]
async fn references_must_name_stored_things_of_their_type() {
    let engine = engine();
    let (agents, p) = (engine.agents(), project());
    engine
        .tools()
        .create(&p, function_tool("get_weather"))
        .await
        .unwrap();

    let dangling = agent("a1", json!([{"type": "function", "key": "nope"}]));
    assert_eq!(
        invalid_field(agents.create(&p, dangling).await),
        "settings.tools[0]"
    );
    let mistyped = agent(
        "a2",
        json!([{"type": "current_date"}, {"type": "http", "key": "get_weather"}]),
    );
    assert_eq!(
        invalid_field(agents.create(&p, mistyped).await),
        "settings.tools[1].type"
    );
    let mut no_memory = agent("a3", json!([]));
    no_memory.memory_stores = vec!["notes".into()];
    assert_eq!(
        invalid_field(agents.create(&p, no_memory).await),
        "memory_stores[0]"
    );
    let bad_timeout = agent(
        "a4",
        json!([{"type": "function", "key": "get_weather", "timeout": 0}]),
    );
    assert_eq!(
        invalid_field(agents.create(&p, bad_timeout).await),
        "settings.tools[0].timeout"
    );

    agents.create(&p, agent("a5", json!([]))).await.unwrap();
    let taken = agents.create(&p, agent("a5", json!([]))).await;
    assert!(
        matches!(taken, Err(EngineError::Store(StoreError::Conflict(_)))),
        "{taken:?}"
    );
    let patch = AgentPatch {
        fields: fields(json!({"settings": {"tools": [{"type": "teleport"}]}})),
        ..AgentPatch::default()
    };
    assert_eq!(
        invalid_field(agents.update(&p, "a5", patch).await),
        "settings.tools[0].type"
    );
    let patch = AgentPatch {
        fields: fields(json!({"role": null})),
        ..AgentPatch::default()
    };
    assert_eq!(invalid_field(agents.update(&p, "a5", patch).await), "role");
}

#[tokio::test]
async fn an_mcp_server_attached_by_tool_id_is_stored_as_a_reference_to_it() {
    let engine = engine();
    let p = project();
    let server = engine
        .tools()
        .create(&p, tool(json!({"path": "Default", "key": "everything", "description": "MCP",
            "type": "mcp", "mcp": {"server_url": "http://127.0.0.1:9/mcp", "connection_type": "http"}})))
        .await
        .unwrap();
    let spec = agent("m", json!([{"type": "mcp", "tool_id": server.id}]));
    let created = engine.agents().create(&p, spec).await.unwrap();
    let entry = &created.spec.settings.tools[0];
    assert_eq!(entry.id.as_deref(), Some(server.id.as_str()));
    let ToolEntry::Stored(stored) = &entry.tool else {
        panic!("not a reference: {entry:?}");
    };
    assert_eq!(
        (stored.key.as_deref(), stored.tool_id.as_deref()),
        (Some("everything"), None)
    );
}

fn authorization(spec: &ToolSpec) -> HeaderValue {
    match &spec.kind {
        ToolKind::Http { http } => http.blueprint.headers["Authorization"].clone(),
        other => panic!("not an http tool: {other:?}"),
    }
}

#[tokio::test]
async fn stored_tools_keep_secrets_sealed_across_updates() {
    let engine = engine();
    let (tools, p) = (engine.tools(), project());
    let http = tool(
        json!({"path": "Default", "key": "crm", "description": "CRM", "type": "http",
        "http": {"blueprint": {"url": "http://127.0.0.1:9/c/{{id}}", "method": "GET",
                 "headers": {"Authorization": {"value": "Bearer s3cret", "encrypted": true}}},
                 "arguments": {"id": {"type": "string", "description": "Customer id"}}}}),
    );
    let created = tools.create(&p, http).await.unwrap();
    let sealed = authorization(&created.spec);
    assert!(
        matches!(&sealed, HeaderValue::Secret(SecretValue::Sealed(_))),
        "{sealed:?}"
    );
    assert_eq!(tools.get(&p, "crm").await.unwrap(), created, "found by key");

    let masked = created.spec.masked();
    let headers = serde_json::to_value(&masked).unwrap()["http"]["blueprint"]["headers"].clone();
    let update = fields(json!({"description": "The CRM",
        "http": {"blueprint": {"url": "http://127.0.0.1:9/c/{{id}}", "method": "GET", "headers": headers},
                 "arguments": {"id": {"type": "string", "description": "Customer id"}}}}));
    let updated = tools.update(&p, &created.id, update).await.unwrap();
    assert_eq!(updated.spec.description, "The CRM");
    assert_eq!(
        authorization(&updated.spec),
        sealed,
        "a masked secret keeps its value"
    );

    let bad = fields(json!({"key": "has space"}));
    assert_eq!(invalid_field(tools.update(&p, "crm", bad).await), "key");
    let missing = tools.update(&p, "nope", Map::new()).await;
    assert!(
        matches!(missing, Err(EngineError::NotFound(_))),
        "{missing:?}"
    );

    let weather = tools
        .create(&p, function_tool("get_weather"))
        .await
        .unwrap();
    let client_side = tools
        .invoke(&p, &weather.id, None, json!({}), &Map::new())
        .await;
    assert_eq!(
        invalid_field(client_side),
        "type",
        "client-side tools are not invoked"
    );

    assert_eq!(tools.delete(&p, "crm").await.unwrap().id, created.id);
    assert!(matches!(
        tools.get(&p, "crm").await,
        Err(EngineError::NotFound(_))
    ));
}

#[tokio::test]
async fn api_keys_are_minted_once_listed_by_project_and_revoked() {
    use baton_core::store::KeyScope;
    use baton_engine::keys::{hash_api_key, NewApiKey};
    let engine = engine();
    let keys = engine.api_keys();
    let new = |name: &str, project: &str| NewApiKey {
        name: name.into(),
        project_id: project.into(),
        scope: KeyScope::Run,
    };
    let (record, key) = keys.create(new("ci", "alpha")).await.unwrap();
    assert_eq!(record.hash, hash_api_key(&key), "only the hash is kept");
    assert!(key.starts_with(&record.prefix) && record.prefix.len() < key.len());
    keys.create(new("other", "beta")).await.unwrap();
    let alpha = ProjectId("alpha".into());
    let listed = keys.list(Some(&alpha)).await.unwrap();
    assert_eq!(listed, vec![record.clone()]);
    assert_eq!(keys.list(None).await.unwrap().len(), 2);

    assert_eq!(invalid_field(keys.create(new("", "alpha")).await), "name");
    assert_eq!(
        invalid_field(keys.create(new("x", "a/b")).await),
        "project_id"
    );
    let itself = keys.revoke(&record.id, &record.id).await;
    assert_eq!(invalid_field(itself), "key_id");
    keys.revoke(&record.id, "admin").await.unwrap();
    assert!(keys.list(Some(&alpha)).await.unwrap().is_empty());
}
