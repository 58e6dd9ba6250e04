//! Task streams on every store: a seq is taken once, a checkpoint and its events are stored
//! together or not at all, and readers are woken when events are stored — on PostgreSQL by
//! another connection too, as another server would be.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_core::store::{Store, StoreError, TaskEvent, TaskRecord};
use baton_core::task::TaskState;
use baton_core::ProjectId;
use baton_store::{MemoryStore, SqlStore};
use serde_json::json;
use std::time::{Duration, Instant};

fn task(id: &str) -> TaskRecord {
    TaskRecord {
        id: id.into(),
        project_id: ProjectId("p".into()),
        agent_id: "agent".into(),
        agent_key: "k".into(),
        agent_version: 1,
        state: TaskState::Working,
        thread_id: None,
        background: true,
        revision: 0,
        lease_owner: None,
        lease_expires_at: None,
        cancel_requested: false,
        created: "c".into(),
        updated: "u".into(),
        data: json!({"step": 0}),
        history: Vec::new(),
        history_stored: 0,
    }
}

fn ev(seq: u64) -> TaskEvent {
    TaskEvent {
        seq,
        data: json!({"seq": seq}),
    }
}

async fn seqs(store: &dyn Store, task_id: &str, after: u64) -> Vec<u64> {
    let events = store.events_after(task_id, after).await.unwrap();
    events.iter().map(|e| e.seq).collect()
}

/// A seq names one event; a checkpoint whose events collide is not stored either.
async fn seqs_are_taken_once(store: &dyn Store) {
    let mut t = task("s1");
    store.create_task(&t).await.unwrap();
    t.revision = 1;
    t.data = json!({"step": 1});
    store
        .save_checkpoint(&t, 0, &[ev(1), ev(2)], &[])
        .await
        .unwrap();
    assert!(matches!(
        store.append_events("s1", &[ev(2)]).await,
        Err(StoreError::Conflict(_))
    ));
    let mut next = t.clone();
    next.revision = 2;
    next.data = json!({"step": 2});
    let taken = store.save_checkpoint(&next, 1, &[ev(3), ev(1)], &[]).await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    let stored = store.task(&t.project_id, "s1").await.unwrap().unwrap();
    assert_eq!(
        (stored.revision, stored.data),
        (1, json!({"step": 1})),
        "the checkpoint went with its events"
    );
    assert_eq!(seqs(store, "s1", 0).await, [1, 2]);
    store
        .save_checkpoint(&next, 1, &[ev(3)], &[])
        .await
        .unwrap();
    assert_eq!(seqs(store, "s1", 1).await, [2, 3]);
}

/// A reader is woken by stored events well before its fallback look.
async fn stored_events_wake_readers(writer: &dyn Store, reader: &dyn Store, task_id: &str) {
    let mut watch = reader.watch_events(task_id);
    // Settle: a fresh PostgreSQL listener wakes its readers once when it starts listening.
    let _ = tokio::time::timeout(Duration::from_millis(1500), watch.changed()).await;
    for seq in 1..=3 {
        let started = Instant::now();
        writer.append_events(task_id, &[ev(seq)]).await.unwrap();
        tokio::time::timeout(Duration::from_secs(3), watch.changed())
            .await
            .expect("woken");
        let waited = started.elapsed();
        assert!(
            waited < Duration::from_millis(400),
            "event {seq} woke the reader after {waited:?}"
        );
        assert_eq!(seqs(reader, task_id, seq - 1).await, [seq]);
    }
}

#[tokio::test]
async fn memory_store_streams() {
    let store = MemoryStore::new();
    seqs_are_taken_once(&store).await;
    stored_events_wake_readers(&store, &store, "w1").await;
}

#[tokio::test]
async fn sqlite_store_streams() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let store = SqlStore::connect(&url).await.unwrap();
    seqs_are_taken_once(&store).await;
    stored_events_wake_readers(&store, &store, "w1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_streams_across_connections() {
    let Some(admin) = baton_store::testing::postgres_admin_url() else {
        return; // no PostgreSQL server binaries: a notice says so
    };
    let url = baton_store::testing::fresh_postgres_database(&admin)
        .await
        .unwrap();
    let writer = SqlStore::connect(&url).await.unwrap();
    seqs_are_taken_once(&writer).await;
    // Another store on the same database stands for another server: only a notification
    // can wake its readers this soon.
    let reader = SqlStore::connect(&url).await.unwrap();
    stored_events_wake_readers(&writer, &reader, "w1").await;
    stored_events_wake_readers(&writer, &writer, "w2").await;
    writer.connection().clone().close().await.unwrap();
    reader.connection().clone().close().await.unwrap();
    baton_store::testing::drop_postgres_database(&admin, &url)
        .await
        .unwrap();
}
