//! One contract, every store: the in-memory store, SQLite, and PostgreSQL (on
//! `BATON_TEST_DATABASE_URL`, or a throwaway server the tests start).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_core::agent::{AgentRecord, AgentSpec, AgentStatus, AgentVersion};
use baton_core::push::PushConfigRecord;
use baton_core::store::{ApiKeyRecord, ApiKeyStore, PageRequest, Store, StoreError};
use baton_core::thread::ThreadRecord;
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
        published_version: None,
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
        scope: baton_core::store::KeyScope::Run,
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
async fn postgres_store_keeps_the_contract() {
    let Some(admin) = baton_store::testing::postgres_admin_url() else {
        return; // no PostgreSQL server binaries: a notice says so
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

fn task(
    project: &str,
    id: &str,
    thread: Option<&str>,
    state: baton_core::task::TaskState,
) -> baton_core::store::TaskRecord {
    baton_core::store::TaskRecord {
        id: id.into(),
        project_id: ProjectId(project.into()),
        agent_id: "agent".into(),
        agent_key: "k".into(),
        agent_version: 1,
        state,
        thread_id: thread.map(str::to_owned),
        background: true,
        revision: 0,
        lease_owner: None,
        lease_expires_at: None,
        cancel_requested: false,
        created: "c".into(),
        updated: "u".into(),
        data: json!({"n": 1}),
        history: Vec::new(),
        history_stored: 0,
    }
}

async fn task_contract(store: &dyn Store) {
    use baton_core::store::TaskEvent;
    use baton_core::task::TaskState::*;
    let a = ProjectId("a".into());
    let b = ProjectId("b".into());
    store
        .create_task(&task("a", "t1", Some("th"), Submitted))
        .await
        .unwrap();
    store
        .create_task(&task("a", "t2", Some("th"), Completed))
        .await
        .unwrap();
    store
        .create_task(&task("a", "t3", None, InputRequired))
        .await
        .unwrap();
    assert!(matches!(
        store.create_task(&task("a", "t1", None, Submitted)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        store.task(&b, "t1").await.unwrap().is_none(),
        "scoped by project"
    );
    assert_eq!(
        store.task(&a, "t1").await.unwrap().unwrap().data,
        json!({"n": 1})
    );
    // States of several tasks in one call, scoped by project.
    let ids = ["t1", "t3", "nope"].map(str::to_owned);
    let states = store.task_states(&a, &ids).await.unwrap();
    assert_eq!(states.len(), 2);
    assert_eq!((states["t1"], states["t3"]), (Submitted, InputRequired));
    assert!(store.task_states(&b, &ids).await.unwrap().is_empty());

    // Only runnable, unleased tasks are claimed; a claim bumps the revision. Nobody held a
    // queued task before.
    let first = store.claim_task("w1", 1_000, 500).await.unwrap().unwrap();
    assert_eq!(first.previous_owner, None);
    let claimed = first.task;
    assert_eq!((claimed.id.as_str(), claimed.revision), ("t1", 1));
    assert_eq!(claimed.lease_owner.as_deref(), Some("w1"));
    assert!(
        store.claim_task("w2", 1_100, 500).await.unwrap().is_none(),
        "t1 is leased, t2/t3 inactive"
    );
    assert!(store.renew_lease("t1", "w1", 2_000).await.unwrap());
    assert!(
        !store.renew_lease("t1", "w2", 9_000).await.unwrap(),
        "only the holder renews"
    );
    assert!(
        store.claim_task("w2", 1_900, 500).await.unwrap().is_none(),
        "renewed until 2000"
    );
    // An expired lease is taken over; the claim names the worker that held it.
    let taken = store.claim_task("w2", 2_001, 500).await.unwrap().unwrap();
    assert_eq!(taken.previous_owner.as_deref(), Some("w1"));
    let stolen = taken.task;
    assert_eq!(
        (stolen.lease_owner.as_deref(), stolen.revision),
        (Some("w2"), 2)
    );

    // Checkpoints compare and swap on the revision: the old holder's write is refused.
    let mut stale = claimed.clone();
    stale.revision = 2;
    assert!(matches!(
        store.save_task(&stale, 1).await,
        Err(StoreError::Conflict(_))
    ));
    let mut next = stolen.clone();
    next.state = Working;
    next.data = json!({"n": 2});
    next.revision = 3;
    store.save_task(&next, 2).await.unwrap();
    assert_eq!(
        store.task(&a, "t1").await.unwrap().unwrap().data,
        json!({"n": 2})
    );
    let mut ghost = task("a", "nope", None, Working);
    ghost.revision = 1;
    assert!(matches!(
        store.save_task(&ghost, 0).await,
        Err(StoreError::NotFound)
    ));

    // Cancel flags survive saves.
    assert!(!store.cancel_requested("t1").await.unwrap());
    assert!(matches!(
        store.request_cancel(&b, "t1").await,
        Err(StoreError::NotFound)
    ));
    store.request_cancel(&a, "t1").await.unwrap();
    next.revision = 4;
    store.save_task(&next, 3).await.unwrap();
    assert!(store.cancel_requested("t1").await.unwrap());
    // A new turn forgets the request; the revision stays.
    store.clear_cancel("t1").await.unwrap();
    assert!(!store.cancel_requested("t1").await.unwrap());
    assert_eq!(store.task(&a, "t1").await.unwrap().unwrap().revision, 4);
    assert!(matches!(
        store.clear_cancel("nope").await,
        Err(StoreError::NotFound)
    ));

    let thread: Vec<String> = store
        .thread_tasks(&a, "th")
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(thread, ["t1", "t2"]);
    assert!(store.thread_tasks(&b, "th").await.unwrap().is_empty());

    let ev = |seq| TaskEvent {
        seq,
        data: json!({"seq": seq}),
    };
    store
        .append_events("t1", &[ev(1), ev(2), ev(3)])
        .await
        .unwrap();
    assert!(matches!(
        store.append_events("t1", &[ev(3)]).await,
        Err(StoreError::Conflict(_))
    ));
    let after: Vec<u64> = store
        .events_after("t1", 1)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(after, [2, 3]);
    assert!(store.events_after("t2", 0).await.unwrap().is_empty());
}

/// A released lease is claimable at once, by a claim that names the releasing worker; only its
/// holder releases it, and the release fences the holder's later checkpoints. (Its clock stays
/// below the leases `task_contract` leaves, so both can share a database.)
async fn released_leases_are_taken_over_at_once(store: &dyn Store) {
    use baton_core::task::TaskState::Working;
    let project = ProjectId("rel".into());
    store
        .create_task(&task("rel", "handed", None, Working))
        .await
        .unwrap();
    let held = store.claim_task("w1", 100, 30_000).await.unwrap().unwrap();
    assert_eq!(
        (held.task.id.as_str(), held.previous_owner),
        ("handed", None)
    );
    assert!(
        store.claim_task("w2", 200, 30_000).await.unwrap().is_none(),
        "held until 30100"
    );
    assert!(
        !store.release_lease("handed", "w2").await.unwrap(),
        "only the holder releases"
    );
    assert!(store.release_lease("handed", "w1").await.unwrap());
    let released = store.task(&project, "handed").await.unwrap().unwrap();
    assert_eq!(
        (released.lease_owner.as_deref(), released.lease_expires_at),
        (Some("w1"), None),
        "no lease, the last owner kept"
    );
    assert_eq!(released.revision, held.task.revision + 1);
    let mut late = held.task.clone();
    late.revision += 1;
    assert!(
        matches!(
            store.save_task(&late, held.task.revision).await,
            Err(StoreError::Conflict(_))
        ),
        "the releasing run can no longer checkpoint"
    );
    // Long before the lease would have expired, another worker takes the task over.
    let taken = store.claim_task("w2", 200, 30_000).await.unwrap().unwrap();
    assert_eq!(taken.task.id, "handed");
    assert_eq!(taken.previous_owner.as_deref(), Some("w1"));
    assert_eq!(taken.task.lease_owner.as_deref(), Some("w2"));
    assert!(
        !store.release_lease("handed", "w1").await.unwrap(),
        "w1 no longer holds it"
    );
    assert!(!store.release_lease("nope", "w1").await.unwrap());
}

/// Eight claimers race for four tasks: each task is claimed exactly once.
async fn claims_are_exclusive(store: std::sync::Arc<dyn Store>) {
    for i in 0..4 {
        store
            .create_task(&task(
                "p",
                &format!("race{i}"),
                None,
                baton_core::task::TaskState::Submitted,
            ))
            .await
            .unwrap();
    }
    let mut handles = Vec::new();
    for w in 0..8 {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(t) = store
                .claim_task(&format!("w{w}"), 2_100, 60_000)
                .await
                .unwrap()
            {
                mine.push(t.task.id);
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    all.sort();
    assert_eq!(all, ["race0", "race1", "race2", "race3"]);
}

#[tokio::test]
async fn memory_store_keeps_the_task_contract() {
    task_contract(&MemoryStore::new()).await;
    released_leases_are_taken_over_at_once(&MemoryStore::new()).await;
    claims_are_exclusive(std::sync::Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn sqlite_store_keeps_the_task_contract() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    task_contract(&SqlStore::connect(&url).await.unwrap()).await;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("release.db").display()
    );
    released_leases_are_taken_over_at_once(&SqlStore::connect(&url).await.unwrap()).await;
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("race.db").display());
    claims_are_exclusive(std::sync::Arc::new(SqlStore::connect(&url).await.unwrap())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_store_keeps_the_task_contract() {
    let Some(admin) = baton_store::testing::postgres_admin_url() else {
        return; // no PostgreSQL server binaries: a notice says so
    };
    let url = baton_store::testing::fresh_postgres_database(&admin)
        .await
        .unwrap();
    let store = SqlStore::connect(&url).await.unwrap();
    task_contract(&store).await;
    released_leases_are_taken_over_at_once(&store).await;
    claims_are_exclusive(std::sync::Arc::new(store.clone())).await;
    store.connection().clone().close().await.unwrap();
    baton_store::testing::drop_postgres_database(&admin, &url)
        .await
        .unwrap();
}

fn entry(
    collection: &str,
    kind: baton_core::collection::EntryKind,
    parent: Option<&str>,
    entity: Option<&str>,
    text: &str,
) -> baton_core::collection::EntryRecord {
    baton_core::collection::EntryRecord {
        id: baton_core::id::new_id(),
        project_id: ProjectId("p1".into()),
        collection_id: collection.into(),
        kind,
        parent_id: parent.map(str::to_owned),
        entity_id: entity.map(str::to_owned),
        text: text.into(),
        metadata: json!({"lang": "en"}).as_object().cloned().unwrap(),
        embedding: Some(vec![0.5, -0.25]),
        enabled: true,
        extra: Default::default(),
        created: "c".into(),
        updated: "u".into(),
    }
}

async fn collection_contract(store: &dyn Store) {
    use baton_core::collection::{CollectionKind, CollectionRecord, EntryFilter, EntryKind};
    let p1 = ProjectId("p1".into());
    let p2 = ProjectId("p2".into());
    let kb = CollectionRecord {
        id: baton_core::id::new_id(),
        project_id: p1.clone(),
        kind: CollectionKind::Knowledge,
        key: "docs".into(),
        spec: json!({"embedding_model": "openai/text-embedding-3-small"})
            .as_object()
            .cloned()
            .unwrap(),
        created: "c".into(),
        updated: "u".into(),
    };
    store.create_collection(&kb).await.unwrap();
    let mut same_key = kb.clone();
    same_key.id = baton_core::id::new_id();
    assert!(matches!(
        store.create_collection(&same_key).await,
        Err(StoreError::Conflict(_))
    ));
    // The same key is free for the other kind and the other project.
    same_key.kind = CollectionKind::MemoryStore;
    store.create_collection(&same_key).await.unwrap();
    let mut elsewhere = kb.clone();
    elsewhere.id = baton_core::id::new_id();
    elsewhere.project_id = p2.clone();
    store.create_collection(&elsewhere).await.unwrap();
    let found = store
        .collection(&p1, CollectionKind::Knowledge, "docs")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, kb);
    assert!(store
        .collection(&p2, CollectionKind::Knowledge, &kb.id)
        .await
        .unwrap()
        .is_none());

    let source = entry(&kb.id, EntryKind::Datasource, None, None, "handbook");
    let chunks: Vec<_> = (0..3)
        .map(|i| {
            entry(
                &kb.id,
                EntryKind::Chunk,
                Some(&source.id),
                None,
                &format!("chunk {i}"),
            )
        })
        .collect();
    store
        .put_entries(std::slice::from_ref(&source))
        .await
        .unwrap();
    store.put_entries(&chunks).await.unwrap();
    assert!(matches!(
        store.put_entries(&chunks[..1]).await,
        Err(StoreError::Conflict(_))
    ));
    let page = store
        .list_entries(
            &p1,
            &kb.id,
            &EntryFilter::of(EntryKind::Chunk).under(&source.id),
            &PageRequest {
                limit: Some(2),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    assert!(page.has_more);
    assert_eq!(page.items[0], chunks[2], "newest first, every field kept");
    let mut changed = chunks[0].clone();
    changed.enabled = false;
    changed.text = "edited".into();
    changed.embedding = None;
    store.update_entry(&changed).await.unwrap();
    assert_eq!(
        store
            .entry(&p1, &kb.id, &changed.id)
            .await
            .unwrap()
            .unwrap(),
        changed
    );
    // Entities are kept apart.
    let memory = entry(&kb.id, EntryKind::Memory, None, Some("customer_1"), "");
    let doc = entry(
        &kb.id,
        EntryKind::Document,
        Some(&memory.id),
        Some("customer_1"),
        "likes tea",
    );
    let other = entry(
        &kb.id,
        EntryKind::Document,
        None,
        Some("customer_2"),
        "likes coffee",
    );
    store
        .put_entries(&[memory.clone(), doc.clone(), other])
        .await
        .unwrap();
    let mine = store
        .list_entries(
            &p1,
            &kb.id,
            &EntryFilter::of(EntryKind::Document).entity("customer_1"),
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(mine.items, vec![doc]);
    // A second memory for an entity is a conflict, in the same batch or a later one.
    let twin = entry(&kb.id, EntryKind::Memory, None, Some("customer_1"), "");
    assert!(matches!(
        store.put_entries(std::slice::from_ref(&twin)).await,
        Err(StoreError::Conflict(_))
    ));
    let fresh = entry(&kb.id, EntryKind::Memory, None, Some("customer_3"), "");
    let fresh_twin = entry(&kb.id, EntryKind::Memory, None, Some("customer_3"), "");
    assert!(matches!(
        store.put_entries(&[fresh, fresh_twin]).await,
        Err(StoreError::Conflict(_))
    ));
    // Counting children groups by parent in the store.
    let counts = store
        .count_children(
            &p1,
            &kb.id,
            EntryKind::Chunk,
            &[source.id.clone(), memory.id.clone()],
        )
        .await
        .unwrap();
    assert_eq!(counts.get(&source.id), Some(&3));
    assert_eq!(counts.get(&memory.id), None);
    // Deleting a datasource deletes its chunks.
    assert_eq!(
        store
            .delete_entries(&p1, &kb.id, std::slice::from_ref(&source.id))
            .await
            .unwrap(),
        1
    );
    let left = store
        .list_entries(
            &p1,
            &kb.id,
            &EntryFilter::of(EntryKind::Chunk),
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert!(left.items.is_empty());
    // Deleting the collection deletes the rest.
    store.delete_collection(&p1, &kb.id).await.unwrap();
    assert!(matches!(
        store.delete_collection(&p1, &kb.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(store
        .entry(&p1, &kb.id, &memory.id)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn every_store_keeps_the_collection_contract() {
    collection_contract(&MemoryStore::new()).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("c.db").display());
    collection_contract(&SqlStore::connect(&url).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_store_keeps_the_collection_contract() {
    let Some(admin) = baton_store::testing::postgres_admin_url() else {
        return; // no PostgreSQL server binaries: a notice says so
    };
    let url = baton_store::testing::fresh_postgres_database(&admin)
        .await
        .unwrap();
    let store = SqlStore::connect(&url).await.unwrap();
    collection_contract(&store).await;
    store.connection().clone().close().await.unwrap();
    baton_store::testing::drop_postgres_database(&admin, &url)
        .await
        .unwrap();
}

/// Memories of entities `user_0`..`user_5` and `other_0`..`other_5`, interleaved by age.
async fn filtered_paging_contract(store: &dyn Store) {
    use baton_core::collection::{EntryFilter, EntryKind};
    let p1 = ProjectId("p1".into());
    let collection = baton_core::id::new_id();
    for i in 0..6 {
        for prefix in ["User_", "other_"] {
            let mut m = entry(
                &collection,
                EntryKind::Memory,
                None,
                Some(&format!("{prefix}{i}")),
                "",
            );
            m.updated = format!("2026-01-0{}T00:00:00Z", i + 1);
            store.put_entries(&[m]).await.unwrap();
        }
    }
    let page = |limit, after: Option<String>| PageRequest {
        limit: Some(limit),
        starting_after: after,
        ..Default::default()
    };
    // The filter applies before the page is cut: full pages, and `has_more` only if more match.
    let filter = EntryFilter::of(EntryKind::Memory).entity_containing("user");
    let first = store
        .list_entries(&p1, &collection, &filter, &page(4, None))
        .await
        .unwrap();
    let names: Vec<_> = first
        .items
        .iter()
        .map(|e| e.entity_id.clone().unwrap())
        .collect();
    assert_eq!(names, ["User_5", "User_4", "User_3", "User_2"]);
    assert!(first.has_more);
    let last = first.items.last().map(|e| e.id.clone());
    let second = store
        .list_entries(&p1, &collection, &filter, &page(4, last))
        .await
        .unwrap();
    assert_eq!(second.items.len(), 2);
    assert!(!second.has_more);
    // Wildcards in the needle match literally.
    let none = EntryFilter::of(EntryKind::Memory).entity_containing("%");
    let found = store
        .list_entries(&p1, &collection, &none, &page(4, None))
        .await
        .unwrap();
    assert!(found.items.is_empty());
    let dated = EntryFilter::of(EntryKind::Memory)
        .updated_between(Some("2026-01-02T00:00:00Z"), Some("2026-01-05T00:00:00Z"));
    let found = store
        .list_entries(&p1, &collection, &dated, &page(100, None))
        .await
        .unwrap();
    assert_eq!(found.items.len(), 4, "days 3 and 4, both prefixes");
}

/// Concurrent creates of one entity's memory: exactly one wins, the rest are conflicts.
async fn memory_create_race(store: std::sync::Arc<dyn Store>) {
    use baton_core::collection::{EntryFilter, EntryKind};
    let collection = baton_core::id::new_id();
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(16));
    let attempts: Vec<_> = (0..16)
        .map(|_| {
            let (store, start) = (store.clone(), start.clone());
            let memory = entry(&collection, EntryKind::Memory, None, Some("racer"), "");
            tokio::spawn(async move {
                start.wait().await;
                store.put_entries(&[memory]).await
            })
        })
        .collect();
    let mut won = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(()) => won += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(other) => panic!("unexpected {other}"),
        }
    }
    assert_eq!(won, 1);
    let memories = store
        .list_entries(
            &ProjectId("p1".into()),
            &collection,
            &EntryFilter::of(EntryKind::Memory),
            &PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(memories.items.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_store_pages_filtered_entries_and_keeps_one_memory_per_entity() {
    filtered_paging_contract(&MemoryStore::new()).await;
    memory_create_race(std::sync::Arc::new(MemoryStore::new())).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("f.db").display());
    let sqlite = std::sync::Arc::new(SqlStore::connect(&url).await.unwrap());
    filtered_paging_contract(sqlite.as_ref()).await;
    memory_create_race(sqlite).await;
    let Some(admin) = baton_store::testing::postgres_admin_url() else {
        return; // no PostgreSQL server binaries: a notice says so
    };
    let url = baton_store::testing::fresh_postgres_database(&admin)
        .await
        .unwrap();
    let pg = std::sync::Arc::new(SqlStore::connect(&url).await.unwrap());
    filtered_paging_contract(pg.as_ref()).await;
    memory_create_race(pg.clone()).await;
    pg.connection().clone().close().await.unwrap();
    baton_store::testing::drop_postgres_database(&admin, &url)
        .await
        .unwrap();
}

fn span(
    trace: &str,
    id: &str,
    parent: Option<&str>,
    llm: bool,
    started_ms: i64,
) -> baton_core::trace::SpanRecord {
    use baton_core::trace::SpanKind;
    let attributes = if llm {
        json!({"provider": "openai", "model": if started_ms < 86_400_000 { "gpt-4o" } else { "o3" }})
    } else {
        json!({"identity_id": "user-1", "total_prompt_tokens": 30, "total_completion_tokens": 5,
               "total_cost": 0.25})
    };
    baton_core::trace::SpanRecord {
        trace_id: trace.into(),
        span_id: id.into(),
        parent_span_id: parent.map(str::to_owned),
        project_id: ProjectId("p1".into()),
        task_id: "t".into(),
        agent_key: if trace == "a" {
            "alpha".into()
        } else {
            "beta".into()
        },
        kind: if llm { SpanKind::Llm } else { SpanKind::Agent },
        name: "n".into(),
        status: "ok".into(),
        started_ms,
        ended_ms: started_ms + 10,
        prompt_tokens: if llm { 10 } else { 0 },
        completion_tokens: if llm { 2 } else { 0 },
        cost: if llm { 0.125 } else { 0.0 },
        attributes: attributes.as_object().cloned().unwrap(),
    }
}

/// Usage summed by the store, per group, and the spans of several traces in one call.
async fn usage_contract(store: &dyn Store) {
    use baton_core::trace::UsageGroup;
    let p1 = ProjectId("p1".into());
    let day = 86_400_000;
    store
        .put_spans(&[
            span("a", "a0", None, false, 1_000),
            span("a", "a1", Some("a0"), true, 2_000),
            span("a", "a2", Some("a0"), true, day + 5),
            span("b", "b0", None, false, 3_000),
            span("b", "b1", Some("b0"), true, 4_000),
            // A nested root (a sub-agent) is not a turn root: identity usage skips it.
            span("b", "b2", Some("b0"), false, 5_000),
        ])
        .await
        .unwrap();
    let totals = |rows: Vec<baton_core::trace::UsageTotals>| {
        rows.into_iter()
            .map(|r| (r.key, r.prompt_tokens, r.completion_tokens, r.cost, r.count))
            .collect::<Vec<_>>()
    };
    let usage = |g| store.usage(&p1, g, 0, 2 * day);
    assert_eq!(
        totals(usage(UsageGroup::Agent).await.unwrap()),
        [
            ("alpha".into(), 20, 4, 0.25, 2),
            ("beta".into(), 10, 2, 0.125, 1)
        ]
    );
    assert_eq!(
        totals(usage(UsageGroup::Model).await.unwrap()),
        [
            ("openai/gpt-4o".into(), 20, 4, 0.25, 2),
            ("openai/o3".into(), 10, 2, 0.125, 1)
        ]
    );
    assert_eq!(
        totals(usage(UsageGroup::Day).await.unwrap()),
        [
            ("1970-01-01".into(), 20, 4, 0.25, 2),
            ("1970-01-02".into(), 10, 2, 0.125, 1)
        ]
    );
    assert_eq!(
        totals(usage(UsageGroup::Identity).await.unwrap()),
        [("user-1".into(), 60, 10, 0.5, 2)]
    );
    let p2 = ProjectId("p2".into());
    let other = store.usage(&p2, UsageGroup::Agent, 0, 2 * day).await;
    assert!(other.unwrap().is_empty());
    let spans = store
        .spans_of_traces(&p1, &["a".to_owned(), "b".to_owned()])
        .await
        .unwrap();
    let ids: Vec<_> = spans.iter().map(|s| s.span_id.as_str()).collect();
    assert_eq!(ids, ["a0", "a1", "a2", "b0", "b1", "b2"]);
}

#[tokio::test]
async fn every_store_sums_usage_itself() {
    usage_contract(&MemoryStore::new()).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("u.db").display());
    usage_contract(&SqlStore::connect(&url).await.unwrap()).await;
    let Some(admin) = baton_store::testing::postgres_admin_url() else {
        return; // no PostgreSQL server binaries: a notice says so
    };
    let url = baton_store::testing::fresh_postgres_database(&admin)
        .await
        .unwrap();
    let pg = SqlStore::connect(&url).await.unwrap();
    usage_contract(&pg).await;
    pg.connection().clone().close().await.unwrap();
    baton_store::testing::drop_postgres_database(&admin, &url)
        .await
        .unwrap();
}

fn thread_record(project: &str, title: &str, owner: Option<&str>) -> ThreadRecord {
    ThreadRecord {
        id: baton_core::id::new_id().to_lowercase(),
        project_id: ProjectId(project.into()),
        title: Some(title.into()),
        assistant_id: Some("bot".into()),
        owner: owner.map(str::to_owned),
        metadata: json!({"topic": "ai"}).as_object().unwrap().clone(),
        created: "2026-01-01T00:00:00.000Z".into(),
        updated: "2026-01-01T00:00:00.000Z".into(),
    }
}

/// Threads: scoped to their project, paged newest first, filtered by owner, and deleted with
/// the tasks naming them (never while one of those runs).
async fn thread_contract(store: &dyn Store) {
    use baton_core::store::TaskEvent;
    use baton_core::task::TaskState::*;
    let a = ProjectId("a".into());
    let b = ProjectId("b".into());
    let first = thread_record("a", "first", None);
    store.create_thread(&first).await.unwrap();
    assert!(matches!(
        store.create_thread(&first).await,
        Err(StoreError::Conflict(_))
    ));
    let second = thread_record("a", "second", Some("alice"));
    store.create_thread(&second).await.unwrap();
    store
        .create_thread(&thread_record("b", "elsewhere", None))
        .await
        .unwrap();
    assert_eq!(store.thread(&a, &first.id).await.unwrap().unwrap(), first);
    assert!(store.thread(&b, &first.id).await.unwrap().is_none());

    let page = store
        .list_threads(
            &a,
            None,
            &PageRequest {
                limit: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items, vec![second.clone()], "newest first");
    assert!(page.has_more);
    let rest = store
        .list_threads(
            &a,
            None,
            &PageRequest {
                starting_after: Some(second.id.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.items, vec![first.clone()]);
    assert!(!rest.has_more);
    let alices = store
        .list_threads(&a, Some("alice"), &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(alices.items, vec![second.clone()]);

    // A working task on the thread keeps it; once it is done, both go with their events.
    store
        .create_task(&task("a", "tw", Some(&first.id), Working))
        .await
        .unwrap();
    store
        .create_task(&task("a", "td", Some(&first.id), Completed))
        .await
        .unwrap();
    store
        .create_task(&task("a", "keep", Some(&second.id), Completed))
        .await
        .unwrap();
    store
        .append_events(
            "td",
            &[TaskEvent {
                seq: 1,
                data: json!({"e": 1}),
            }],
        )
        .await
        .unwrap();
    match store.delete_thread(&a, &first.id).await {
        Err(StoreError::Conflict(why)) => assert!(why.contains("`tw`"), "{why}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let mut done = store.task(&a, "tw").await.unwrap().unwrap();
    done.state = Completed;
    done.revision = 1;
    store.save_task(&done, 0).await.unwrap();
    assert!(matches!(
        store.delete_thread(&b, &first.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.delete_thread(&a, &first.id).await.unwrap(), 2);
    assert!(store.thread(&a, &first.id).await.unwrap().is_none());
    assert!(store.thread_tasks(&a, &first.id).await.unwrap().is_empty());
    assert!(store.task(&a, "td").await.unwrap().is_none());
    assert!(store.events_after("td", 0).await.unwrap().is_empty());
    assert!(store.task(&a, "keep").await.unwrap().is_some());
    assert!(matches!(
        store.delete_thread(&a, &first.id).await,
        Err(StoreError::NotFound)
    ));
    // A thread only tasks name deletes too.
    store
        .create_task(&task("a", "tm", Some("minted"), Completed))
        .await
        .unwrap();
    assert_eq!(store.delete_thread(&a, "minted").await.unwrap(), 1);

    // The published mark: set on an existing version only, kept by later updates.
    let (x, x1) = agent("a", "px");
    store.create_agent(&x, &x1).await.unwrap();
    assert!(matches!(
        store.publish_agent_version(&a, &x.id, 2).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.publish_agent_version(&b, &x.id, 1).await,
        Err(StoreError::NotFound)
    ));
    store.publish_agent_version(&a, &x.id, 1).await.unwrap();
    let mut x2 = store.agent_by_key(&a, "px").await.unwrap().unwrap();
    assert_eq!(x2.published_version, Some(1));
    x2.version = 2;
    x2.published_version = None;
    x2.spec.instructions = "two".into();
    let v2 = AgentVersion {
        version: 2,
        spec: x2.spec.clone(),
        ..x1.clone()
    };
    store.update_agent(&x2, 1, Some(&v2)).await.unwrap();
    let stored = store.agent_by_key(&a, "px").await.unwrap().unwrap();
    assert_eq!((stored.version, stored.published_version), (2, Some(1)));
}

#[tokio::test]
async fn every_store_keeps_the_thread_contract() {
    thread_contract(&MemoryStore::new()).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("th.db").display());
    thread_contract(&SqlStore::connect(&url).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_store_keeps_the_thread_contract() {
    let Some(admin) = baton_store::testing::postgres_admin_url() else {
        return; // no PostgreSQL server binaries: a notice says so
    };
    let url = baton_store::testing::fresh_postgres_database(&admin)
        .await
        .unwrap();
    let store = SqlStore::connect(&url).await.unwrap();
    thread_contract(&store).await;
    store.connection().clone().close().await.unwrap();
    baton_store::testing::drop_postgres_database(&admin, &url)
        .await
        .unwrap();
}

/// A run that starts on a thread while it is being deleted (another server saving its task
/// between the delete's check and its removal) keeps its task: the delete answers a conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_thread_delete_does_not_take_a_run_starting_meanwhile() {
    use baton_core::store::TaskStore;
    use baton_core::task::TaskState::Completed;
    use baton_core::thread::ThreadStore;
    use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
    let Some(admin) = baton_store::testing::postgres_admin_url() else {
        return; // no PostgreSQL server binaries: a notice says so
    };
    let url = baton_store::testing::fresh_postgres_database(&admin)
        .await
        .unwrap();
    let store = SqlStore::connect(&url).await.unwrap();
    let a = ProjectId("a".into());
    store
        .create_task(&task("a", "done", Some("th"), Completed))
        .await
        .unwrap();

    // The other server's run: it holds the task row while it moves it to `working`.
    let other = SqlStore::connect(&url).await.unwrap();
    let run = other.connection().begin().await.unwrap();
    let sql = |q: &str| Statement::from_string(sea_orm::DatabaseBackend::Postgres, q.to_owned());
    run.execute(sql("SELECT id FROM tasks WHERE id = 'done' FOR UPDATE"))
        .await
        .unwrap();
    let delete = tokio::spawn({
        let store = store.clone();
        let a = a.clone();
        async move { store.delete_thread(&a, "th").await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    run.execute(sql(
        "UPDATE tasks SET state = 'working', revision = revision + 1 WHERE id = 'done'",
    ))
    .await
    .unwrap();
    run.commit().await.unwrap();

    match delete.await.unwrap() {
        Err(StoreError::Conflict(why)) => assert!(why.contains("`done`"), "{why}"),
        other => panic!("the running task was not protected: {other:?}"),
    }
    let kept = store.task(&a, "done").await.unwrap().expect("task kept");
    assert_eq!(kept.state, baton_core::task::TaskState::Working);
    other.connection().clone().close().await.unwrap();
    store.connection().clone().close().await.unwrap();
    baton_store::testing::drop_postgres_database(&admin, &url)
        .await
        .unwrap();
}

/// `list_tasks`: newest first, project-scoped, each filter narrowing, cursor paging both ways.
async fn task_list_contract(store: &dyn Store) {
    use baton_core::store::TaskFilter;
    use baton_core::task::TaskState::*;
    let a = &ProjectId("a".into());
    let ids: Vec<String> = (0..5).map(|_| baton_core::id::new_id()).collect();
    let mut other_agent = task("a", &ids[1], Some("th2"), Completed);
    other_agent.agent_key = "other".into();
    for record in [
        task("a", &ids[0], Some("th1"), Completed),
        other_agent,
        task("a", &ids[2], Some("th1"), InputRequired),
        task("a", &ids[3], None, Completed),
        task("b", &ids[4], Some("th1"), Completed),
    ] {
        store.create_task(&record).await.unwrap();
    }
    let list = |filter: TaskFilter, page: PageRequest| async move {
        let page = store.list_tasks(a, &filter, &page).await.unwrap();
        let ids: Vec<String> = page.items.into_iter().map(|t| t.id).collect();
        (ids, page.has_more)
    };
    let all = PageRequest::default();
    let (every, more) = list(TaskFilter::default(), all.clone()).await;
    assert_eq!(
        every,
        vec![
            ids[3].clone(),
            ids[2].clone(),
            ids[1].clone(),
            ids[0].clone()
        ]
    );
    assert!(!more);
    let by_state = TaskFilter {
        state: Some(Completed),
        ..TaskFilter::default()
    };
    assert_eq!(
        list(by_state, all.clone()).await.0,
        vec![ids[3].clone(), ids[1].clone(), ids[0].clone()]
    );
    let by_agent = TaskFilter {
        agent_key: Some("other".into()),
        ..TaskFilter::default()
    };
    assert_eq!(store.count_tasks(a, &by_agent).await.unwrap(), 1);
    assert_eq!(
        store.count_tasks(a, &TaskFilter::default()).await.unwrap(),
        4
    );
    assert_eq!(list(by_agent, all.clone()).await.0, vec![ids[1].clone()]);
    let by_thread_and_state = TaskFilter {
        state: Some(Completed),
        thread_id: Some("th1".into()),
        ..TaskFilter::default()
    };
    assert_eq!(
        list(by_thread_and_state, all.clone()).await.0,
        vec![ids[0].clone()]
    );
    let first = PageRequest {
        limit: Some(2),
        ..PageRequest::default()
    };
    assert_eq!(
        list(TaskFilter::default(), first).await,
        (vec![ids[3].clone(), ids[2].clone()], true)
    );
    let after = PageRequest {
        limit: Some(2),
        starting_after: Some(ids[2].clone()),
        ending_before: None,
    };
    assert_eq!(
        list(TaskFilter::default(), after).await,
        (vec![ids[1].clone(), ids[0].clone()], false)
    );
    let before = PageRequest {
        limit: Some(1),
        starting_after: None,
        ending_before: Some(ids[1].clone()),
    };
    assert_eq!(
        list(TaskFilter::default(), before).await,
        (vec![ids[2].clone()], true)
    );
}

#[tokio::test]
async fn every_store_lists_tasks() {
    task_list_contract(&MemoryStore::new()).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("tl.db").display());
    task_list_contract(&SqlStore::connect(&url).await.unwrap()).await;
    let Some(admin) = baton_store::testing::postgres_admin_url() else {
        return; // no PostgreSQL server binaries: a notice says so
    };
    let url = baton_store::testing::fresh_postgres_database(&admin)
        .await
        .unwrap();
    let store = SqlStore::connect(&url).await.unwrap();
    task_list_contract(&store).await;
    store.connection().clone().close().await.unwrap();
    baton_store::testing::drop_postgres_database(&admin, &url)
        .await
        .unwrap();
}

fn push_config(project: &str, task: &str, id: &str, url: &str) -> PushConfigRecord {
    PushConfigRecord {
        id: id.into(),
        project_id: ProjectId(project.into()),
        task_id: task.into(),
        url: url.into(),
        token: Some("enc:v2:token".into()),
        auth_scheme: Some("Bearer".into()),
        auth_credentials: Some("enc:v2:creds".into()),
        created: "2026-01-01T00:00:00.000Z".into(),
    }
}

/// Push-notification configs: per task, in id order, replaced by id, scoped to their project.
async fn push_config_contract(store: &dyn Store) {
    let a = ProjectId("a".into());
    let b = ProjectId("b".into());
    let second = push_config("a", "t1", "h2", "https://hooks.example/2");
    let first = push_config("a", "t1", "h1", "https://hooks.example/1");
    store.put_push_config(&second).await.unwrap();
    store.put_push_config(&first).await.unwrap();
    store
        .put_push_config(&push_config("a", "t2", "h1", "https://other.example/"))
        .await
        .unwrap();
    assert_eq!(
        store.push_configs(&a, "t1").await.unwrap(),
        vec![first.clone(), second.clone()]
    );
    assert!(store.push_configs(&b, "t1").await.unwrap().is_empty());
    assert!(store.push_configs(&a, "none").await.unwrap().is_empty());

    let moved = PushConfigRecord {
        url: "https://hooks.example/moved".into(),
        token: None,
        auth_scheme: None,
        auth_credentials: None,
        ..first.clone()
    };
    store.put_push_config(&moved).await.unwrap();
    assert_eq!(
        store.push_configs(&a, "t1").await.unwrap(),
        vec![moved, second.clone()]
    );

    assert!(matches!(
        store.delete_push_config(&b, "t1", "h1").await,
        Err(StoreError::NotFound)
    ));
    store.delete_push_config(&a, "t1", "h1").await.unwrap();
    assert!(matches!(
        store.delete_push_config(&a, "t1", "h1").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.push_configs(&a, "t1").await.unwrap(), vec![second]);
    assert_eq!(store.push_configs(&a, "t2").await.unwrap().len(), 1);
}

#[tokio::test]
async fn every_store_keeps_the_push_config_contract() {
    push_config_contract(&MemoryStore::new()).await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("push.db").display());
    push_config_contract(&SqlStore::connect(&url).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_store_keeps_the_push_config_contract() {
    let Some(admin) = baton_store::testing::postgres_admin_url() else {
        return; // no PostgreSQL server binaries: a notice says so
    };
    let url = baton_store::testing::fresh_postgres_database(&admin)
        .await
        .unwrap();
    let store = SqlStore::connect(&url).await.unwrap();
    push_config_contract(&store).await;
    store.connection().clone().close().await.unwrap();
    baton_store::testing::drop_postgres_database(&admin, &url)
        .await
        .unwrap();
}
