//! One contract, every store: the in-memory store, SQLite, and PostgreSQL when
//! `BATON_TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_core::agent::{AgentRecord, AgentSpec, AgentStatus, AgentVersion};
use baton_core::store::{ApiKeyRecord, ApiKeyStore, PageRequest, Store, StoreError};
use baton_core::tool::{ToolRecord, ToolSpec};
use baton_core::ProjectId;
use baton_store::{MemoryStore, SqlStore};
use serde_json::json;

fn spec(key: &str) -> AgentSpec {
    serde_json::from_value(json!({"key": key, "role": "r", "description": "d",
        "instructions": "i", "path": "Default", "model": "openai/gpt-4o"}))
    .unwrap()
}

fn agent(project: &str, key: &str) -> (AgentRecord, AgentVersion) {
    let id = baton_core::id::new_id();
    let record = AgentRecord {
        id: id.clone(),
        project_id: ProjectId(project.into()),
        status: AgentStatus::Live,
        version: 1,
        created: "2026-01-01T00:00:00.000Z".into(),
        updated: "2026-01-01T00:00:00.000Z".into(),
        spec: spec(key),
    };
    let version = AgentVersion {
        agent_id: id,
        version: 1,
        created: record.created.clone(),
        description: None,
        spec: record.spec.clone(),
    };
    (record, version)
}

async fn contract(store: &dyn Store) {
    let a = ProjectId("a".into());
    let b = ProjectId("b".into());
    let (x, x1) = agent("a", "x");
    store.create_agent(&x, &x1).await.unwrap();
    let (dup, dup1) = agent("a", "x");
    assert!(matches!(
        store.create_agent(&dup, &dup1).await,
        Err(StoreError::Conflict(_))
    ));
    // Same key in another project is fine, and invisible from the first.
    let (bx, bx1) = agent("b", "x");
    store.create_agent(&bx, &bx1).await.unwrap();
    assert_eq!(store.agent_by_key(&a, "x").await.unwrap().unwrap().id, x.id);
    assert_eq!(
        store.agent_by_key(&b, "x").await.unwrap().unwrap().id,
        bx.id
    );
    assert!(store.agent_version(&b, &x.id, 1).await.unwrap().is_none());

    // Optimistic concurrency on update.
    let mut x2 = x.clone();
    x2.version = 2;
    x2.spec.instructions = "two".into();
    let v2 = AgentVersion {
        version: 2,
        spec: x2.spec.clone(),
        ..x1.clone()
    };
    store.update_agent(&x2, 1, Some(&v2)).await.unwrap();
    let mut stale = x2.clone();
    stale.version = 3;
    let v3 = AgentVersion {
        version: 3,
        ..v2.clone()
    };
    assert!(matches!(
        store.update_agent(&stale, 1, Some(&v3)).await,
        Err(StoreError::Conflict(_))
    ));
    let versions = store.agent_versions(&a, &x.id).await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [2, 1]
    );
    assert_eq!(
        store
            .agent_version(&a, &x.id, 1)
            .await
            .unwrap()
            .unwrap()
            .spec
            .instructions,
        "i"
    );

    // Renaming onto a taken key conflicts.
    let (y, y1) = agent("a", "y");
    store.create_agent(&y, &y1).await.unwrap();
    let mut clash = y.clone();
    clash.spec.key = "x".into();
    assert!(matches!(
        store.update_agent(&clash, 1, None).await,
        Err(StoreError::Conflict(_))
    ));

    let page = store
        .list_agents(
            &a,
            &PageRequest {
                limit: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].id, y.id, "newest first");
    assert!(page.has_more);

    assert!(matches!(
        store.delete_agent(&b, &x.id).await,
        Err(StoreError::NotFound)
    ));
    store.delete_agent(&a, &x.id).await.unwrap();
    assert!(store.agent_by_key(&a, "x").await.unwrap().is_none());
    assert!(store.agent_versions(&a, &x.id).await.unwrap().is_empty());

    // Tools by id or key, scoped to the project.
    let tool_spec: ToolSpec = serde_json::from_value(json!({"key": "t", "path": "p",
        "description": "d", "type": "function", "function": {"name": "t"}}))
    .unwrap();
    let tool = ToolRecord {
        id: baton_core::id::new_id(),
        project_id: a.clone(),
        created: "c".into(),
        updated: "u".into(),
        spec: tool_spec,
    };
    store.create_tool(&tool).await.unwrap();
    assert!(matches!(
        store
            .create_tool(&ToolRecord {
                id: baton_core::id::new_id(),
                ..tool.clone()
            })
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.tool(&a, "t").await.unwrap().unwrap().id, tool.id);
    assert_eq!(
        store.tool(&a, &tool.id).await.unwrap().unwrap().spec.key,
        "t"
    );
    assert!(store.tool(&b, &tool.id).await.unwrap().is_none());
    let mut moved = tool.clone();
    moved.project_id = b.clone();
    assert!(matches!(
        store.update_tool(&moved).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_tool(&b, &tool.id).await,
        Err(StoreError::NotFound)
    ));
    store.delete_tool(&a, &tool.id).await.unwrap();

    let key = ApiKeyRecord {
        id: baton_core::id::new_id(),
        project_id: a.clone(),
        name: "n".into(),
        hash: "h".repeat(64),
        prefix: "p".into(),
        created: "c".into(),
    };
    assert_eq!(store.count_api_keys().await.unwrap(), 0);
    store.create_api_key(&key).await.unwrap();
    assert_eq!(
        store.api_key_by_hash(&key.hash).await.unwrap(),
        Some(key.clone())
    );
    assert_eq!(store.count_api_keys().await.unwrap(), 1);
}

#[tokio::test]
async fn memory_store_keeps_the_contract() {
    contract(&MemoryStore::new()).await;
}

#[tokio::test]
async fn sqlite_store_keeps_the_contract_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let store = SqlStore::connect(&url).await.unwrap();
    contract(&store).await;
    use sea_orm::ConnectionTrait;
    let row = store
        .connection()
        .query_one(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "PRAGMA journal_mode",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<String>("", "journal_mode").unwrap(), "wal");
    // Migrations are idempotent: a second connect on the same file applies nothing and works.
    let again = SqlStore::connect(&url).await.unwrap();
    assert_eq!(again.count_api_keys().await.unwrap(), 1);
}

#[tokio::test]
#[allow(clippy::disallowed_methods)] // the test is configured by the environment
async fn postgres_store_keeps_the_contract() {
    let Some(admin) = std::env::var("BATON_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("BATON_TEST_DATABASE_URL not set: PostgreSQL contract skipped");
        return;
    };
    let url = baton_store::testing::fresh_postgres_database(&admin)
        .await
        .unwrap();
    let store = SqlStore::connect(&url).await.unwrap();
    contract(&store).await;
    store.connection().clone().close().await.unwrap();
    baton_store::testing::drop_postgres_database(&admin, &url)
        .await
        .unwrap();
}
