//! A task's history is appended, never rewritten: every store keeps the messages in order,
//! stores each once even when a checkpoint is retried, and leaves nothing of a refused one.
//! The in-memory store, SQLite (a file with its group-commit writer, and in memory without),
//! and PostgreSQL (on `BATON_TEST_DATABASE_URL`, or a throwaway server the tests start).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_core::message::{Message, Part, Role};
use baton_core::store::{PageRequest, Store, StoreError, TaskEvent, TaskFilter, TaskRecord};
use baton_core::task::TaskState;
use baton_core::ProjectId;
use baton_store::{MemoryStore, SqlStore};
use serde_json::json;
use std::sync::Arc;

fn project() -> ProjectId {
    ProjectId("p".into())
}

fn message(n: usize) -> Message {
    Message {
        message_id: format!("m{n}"),
        role: if n.is_multiple_of(2) {
            Role::User
        } else {
            Role::Agent
        },
        parts: vec![Part::Text {
            text: format!("message {n}"),
        }],
    }
}

fn messages(range: std::ops::Range<usize>) -> Vec<Arc<Message>> {
    range.map(|n| Arc::new(message(n))).collect()
}

fn task(id: &str) -> TaskRecord {
    TaskRecord {
        id: id.into(),
        project_id: project(),
        agent_id: "agent".into(),
        agent_key: "k".into(),
        agent_version: 1,
        state: TaskState::Working,
        thread_id: Some("thread".into()),
        background: true,
        revision: 0,
        lease_owner: None,
        lease_expires_at: None,
        cancel_requested: false,
        created: "c".into(),
        updated: "u".into(),
        data: json!({"step": 0}),
        history: messages(0..1),
        history_stored: 0,
    }
}

/// The task's history as `store` reads it, checked against the count it reports.
async fn history(store: &dyn Store, id: &str) -> Vec<Arc<Message>> {
    let read = store.task(&project(), id).await.unwrap().unwrap();
    assert_eq!(read.history_stored, read.history.len() as u64);
    read.history
}

fn conflict<T: std::fmt::Debug>(result: Result<T, StoreError>) {
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
}

/// `store` writes; `other` (another connection to the same database, when there is one) reads
/// without what `store` has cached.
async fn history_contract(store: &dyn Store, other: Option<&dyn Store>) {
    let mut t = task("t1");
    store.create_task(&t).await.unwrap();
    assert_eq!(history(store, "t1").await, messages(0..1));

    // A checkpoint appends what the history gained, in order, with its events.
    t.history_stored = 1;
    t.history = messages(0..3);
    t.revision = 1;
    let event = |seq| TaskEvent {
        seq,
        data: json!({"seq": seq}),
    };
    store
        .save_checkpoint(&t, 0, &[event(1)], &[])
        .await
        .unwrap();
    assert_eq!(history(store, "t1").await, messages(0..3));

    // The same checkpoint again (its answer was lost, say) is refused and adds nothing.
    conflict(store.save_checkpoint(&t, 0, &[event(1)], &[]).await);
    assert_eq!(history(store, "t1").await, messages(0..3));

    // A stale writer's messages and events leave no trace.
    let mut stale = t.clone();
    stale.history_stored = 3;
    stale.history = messages(0..5);
    stale.revision = 1;
    conflict(store.save_checkpoint(&stale, 0, &[event(2)], &[]).await);
    assert_eq!(history(store, "t1").await, messages(0..3));
    assert_eq!(store.events_after("t1", 0).await.unwrap().len(), 1);

    // A writer whose idea of the stored messages is wrong is refused, whatever its revision.
    let mut behind = t.clone();
    behind.history_stored = 2;
    behind.history = messages(0..4);
    behind.revision = 2;
    conflict(store.save_task(&behind, 1).await);
    let mut ahead = t.clone();
    ahead.history_stored = 4;
    ahead.history = messages(0..5);
    ahead.revision = 2;
    conflict(store.save_task(&ahead, 1).await);
    let mut short = t.clone();
    short.history_stored = 3;
    short.history = messages(0..2);
    short.revision = 2;
    conflict(store.save_task(&short, 1).await);
    assert_eq!(history(store, "t1").await, messages(0..3));

    // The writer that read the task continues it.
    let mut next = store.task(&project(), "t1").await.unwrap().unwrap();
    next.history.extend(messages(3..6));
    next.revision = 2;
    store.save_task(&next, 1).await.unwrap();
    assert_eq!(history(store, "t1").await, messages(0..6));
    // A save that adds no message changes the row only.
    next.history_stored = 6;
    next.revision = 3;
    next.data = json!({"step": 3});
    store.save_task(&next, 2).await.unwrap();
    let read = store.task(&project(), "t1").await.unwrap().unwrap();
    assert_eq!(
        (read.history, read.data),
        (messages(0..6), json!({"step": 3}))
    );

    // Every reader sees the whole history: thread lists, claims, and other connections.
    let mut second = task("t2");
    second.history = messages(10..12);
    store.create_task(&second).await.unwrap();
    let listed = store.thread_tasks(&project(), "thread").await.unwrap();
    let listed: Vec<_> = listed.iter().map(|t| t.history.clone()).collect();
    assert_eq!(listed, [messages(0..6), messages(10..12)]);
    let paged = store
        .list_tasks(&project(), &TaskFilter::default(), &PageRequest::default())
        .await
        .unwrap();
    let paged: Vec<_> = paged.items.iter().map(|t| t.history.clone()).collect();
    assert_eq!(paged, [messages(10..12), messages(0..6)]);
    let claimed = store.claim_task("w", 1, 1000).await.unwrap().unwrap();
    assert_eq!(claimed.task.history, messages(0..6));
    if let Some(other) = other {
        assert_eq!(history(other, "t1").await, messages(0..6));
        assert_eq!(history(other, "t2").await, messages(10..12));
        // Turns alternate between the two servers, each with its own cache of the task, kept
        // in step by its own saves: each reads what the other appended.
        for (turn, (writer, reader)) in [(store, other), (other, store), (store, other)]
            .into_iter()
            .enumerate()
        {
            let mut t = writer.task(&project(), "t1").await.unwrap().unwrap();
            let end = 6 + 2 * (turn + 1);
            t.history.extend(messages(end - 2..end));
            let read_revision = t.revision;
            t.revision += 1;
            writer.save_task(&t, read_revision).await.unwrap();
            assert_eq!(history(writer, "t1").await, messages(0..end));
            assert_eq!(history(reader, "t1").await, messages(0..end));
        }
    }
}

#[tokio::test]
async fn memory_store_appends_histories() {
    history_contract(&MemoryStore::new(), None).await;
}

#[tokio::test]
async fn sqlite_file_store_appends_histories() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let store = SqlStore::connect(&url).await.unwrap();
    let other = SqlStore::connect(&url).await.unwrap();
    history_contract(&store, Some(&other)).await;
}

#[tokio::test]
async fn sqlite_memory_store_appends_histories() {
    history_contract(&SqlStore::connect("sqlite::memory:").await.unwrap(), None).await;
}

#[tokio::test]
async fn postgres_store_appends_histories() {
    let Some(admin) = baton_store::testing::postgres_admin_url() else {
        return; // no PostgreSQL server binaries: a notice says so
    };
    let url = baton_store::testing::fresh_postgres_database(&admin)
        .await
        .unwrap();
    let store = SqlStore::connect(&url).await.unwrap();
    let other = SqlStore::connect(&url).await.unwrap();
    history_contract(&store, Some(&other)).await;
    store.connection().clone().close().await.unwrap();
    other.connection().clone().close().await.unwrap();
    baton_store::testing::drop_postgres_database(&admin, &url)
        .await
        .unwrap();
}
