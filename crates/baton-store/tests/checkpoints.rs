//! Checkpoints of many tasks written at once, as the runs of a busy server write them: every
//! acknowledged checkpoint is stored whole (task row, events, spans), a refused one leaves no
//! trace and does not disturb the others, and when a batch of writes fails, every write in it
//! fails and none of them is stored. A checkpoint tells whether a cancel was requested, as its
//! own write found the row. SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use baton_core::store::{Saved, Store, StoreError, TaskEvent, TaskRecord, TaskStore};
use baton_core::task::TaskState;
use baton_core::trace::TraceStore;
use baton_core::trace::{SpanKind, SpanRecord};
use baton_core::ProjectId;
use baton_store::SqlStore;
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

fn project() -> ProjectId {
    ProjectId("p".into())
}

fn task(id: &str) -> TaskRecord {
    TaskRecord {
        id: id.into(),
        project_id: project(),
        agent_id: "agent".into(),
        agent_key: "k".into(),
        agent_version: 1,
        state: TaskState::Working,
        thread_id: None,
        background: false,
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

fn span(task: &str, step: u64) -> SpanRecord {
    SpanRecord {
        trace_id: format!("trace-{task}"),
        span_id: format!("span-{step}"),
        parent_span_id: None,
        project_id: project(),
        task_id: task.into(),
        agent_key: "k".into(),
        kind: SpanKind::Llm,
        name: "call".into(),
        status: "ok".into(),
        started_ms: 1,
        ended_ms: 2,
        prompt_tokens: 3,
        completion_tokens: 4,
        cost: 0.5,
        attributes: json!({"step": step}).as_object().unwrap().clone(),
    }
}

/// Step `step` of a task: revision `step`, its event `step` and its span.
async fn step(store: &dyn Store, id: &str, step: u64, payload: &str) -> Result<Saved, StoreError> {
    step_with_event(store, id, step, step, payload).await
}

/// Step `step` of a task carrying event `seq`.
async fn step_with_event(
    store: &dyn Store,
    id: &str,
    step: u64,
    seq: u64,
    payload: &str,
) -> Result<Saved, StoreError> {
    let mut t = task(id);
    t.revision = step;
    t.data = json!({"step": step, "payload": payload});
    let events = [TaskEvent {
        seq,
        data: json!({"type": "step", "payload": payload}),
    }];
    store
        .save_checkpoint(&t, step - 1, &events, &[span(id, step)])
        .await
}

/// A fresh PostgreSQL database's store and URL, if PostgreSQL is available.
async fn postgres() -> Option<(Arc<SqlStore>, String)> {
    let admin = baton_store::testing::postgres_admin_url()?;
    let url = baton_store::testing::fresh_postgres_database(&admin)
        .await
        .unwrap();
    Some((Arc::new(SqlStore::connect(&url).await.unwrap()), url))
}

async fn drop_postgres(store: Arc<SqlStore>, url: &str) {
    drop(store);
    if let Some(admin) = baton_store::testing::postgres_admin_url() {
        let _ = baton_store::testing::drop_postgres_database(&admin, url).await;
    }
}

async fn sqlite() -> (Arc<SqlStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("c.db").display());
    (Arc::new(SqlStore::connect(&url).await.unwrap()), dir)
}

/// 100 tasks, five steps each, all at once; a stale write now and then is refused alone.
async fn many_tasks_at_once(store: Arc<SqlStore>) {
    let ids: Vec<String> = (0..100).map(|i| format!("task-{i:03}")).collect();
    for id in &ids {
        store.create_task(&task(id)).await.unwrap();
    }
    let runs = ids.iter().cloned().map(|id| {
        let store = store.clone();
        tokio::spawn(async move {
            for n in 1..=5 {
                step(store.as_ref(), &id, n, "ok").await.unwrap();
                // A writer that lost the task: refused, and changes nothing.
                let stale = step(store.as_ref(), &id, n, "stale").await;
                assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
            }
        })
    });
    for run in futures_util::future::join_all(runs).await {
        run.unwrap();
    }
    for id in &ids {
        let stored = store.task(&project(), id).await.unwrap().unwrap();
        assert_eq!(stored.revision, 5);
        assert_eq!(stored.data, json!({"step": 5, "payload": "ok"}));
        let events = store.events_after(id, 0).await.unwrap();
        let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4, 5], "{id}");
        assert!(events.iter().all(|e| e.data["payload"] == "ok"));
        let spans = store
            .trace_spans(&project(), &format!("trace-{id}"))
            .await
            .unwrap();
        assert_eq!(spans.len(), 5, "{id}");
    }
    // A missing task is not found, whatever else is written beside it.
    let missing = step(store.as_ref(), "missing", 1, "ok").await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

#[tokio::test]
async fn sqlite_stores_every_checkpoint_of_many_tasks_at_once() {
    let (store, _dir) = sqlite().await;
    many_tasks_at_once(store).await;
}

#[tokio::test]
async fn postgres_stores_every_checkpoint_of_many_tasks_at_once() {
    let Some((store, url)) = postgres().await else {
        return;
    };
    many_tasks_at_once(store.clone()).await;
    drop_postgres(store, &url).await;
}

/// 20 tasks stepped side by side while a client cancels every other one after its second step:
/// each checkpoint after that tells of the request (the writes are batched with the others'),
/// none before it or of the other tasks does, and a checkpoint leaves the request standing.
async fn checkpoints_tell_of_cancel_requests(store: Arc<dyn Store>) {
    let ids: Vec<String> = (0..20).map(|i| format!("cancel-{i:02}")).collect();
    for id in &ids {
        store.create_task(&task(id)).await.unwrap();
    }
    let runs = ids.iter().cloned().enumerate().map(|(i, id)| {
        let store = store.clone();
        tokio::spawn(async move {
            let canceled = i % 2 == 0;
            for n in 1..=4 {
                let saved = step(store.as_ref(), &id, n, "ok").await.unwrap();
                assert_eq!(saved.cancel_requested, canceled && n > 2, "{id} step {n}");
                if canceled && n == 2 {
                    store.request_cancel(&project(), &id).await.unwrap();
                }
            }
            assert_eq!(store.cancel_requested(&id).await.unwrap(), canceled);
        })
    });
    for run in futures_util::future::join_all(runs).await {
        run.unwrap();
    }
}

#[tokio::test]
async fn sqlite_checkpoints_tell_of_cancel_requests() {
    let (store, _dir) = sqlite().await;
    checkpoints_tell_of_cancel_requests(store).await;
}

#[tokio::test]
async fn in_memory_sqlite_and_memory_store_checkpoints_tell_of_cancel_requests() {
    let store = SqlStore::connect("sqlite::memory:").await.unwrap();
    checkpoints_tell_of_cancel_requests(Arc::new(store)).await;
    checkpoints_tell_of_cancel_requests(Arc::new(baton_store::MemoryStore::new())).await;
}

#[tokio::test]
async fn postgres_checkpoints_tell_of_cancel_requests() {
    let Some((store, url)) = postgres().await else {
        return;
    };
    checkpoints_tell_of_cancel_requests(store.clone()).await;
    drop_postgres(store, &url).await;
}

/// Two writers of each of 50 tasks at once, with the same expected revision (a stale lease
/// holder and the new one) and events of different numbers: exactly one of each pair is
/// saved, and only its event is stored.
async fn two_writers_of_one_task(store: Arc<SqlStore>) {
    let ids: Vec<String> = (0..50).map(|i| format!("pair-{i:02}")).collect();
    for id in &ids {
        store.create_task(&task(id)).await.unwrap();
    }
    let write = |id: &String, seq: u64, payload: &'static str| {
        let (store, id) = (store.clone(), id.clone());
        tokio::spawn(async move { step_with_event(store.as_ref(), &id, 1, seq, payload).await })
    };
    let pairs: Vec<_> = ids
        .iter()
        .map(|id| (write(id, 1, "one"), write(id, 2, "two")))
        .collect();
    for (id, (one, two)) in ids.iter().zip(pairs) {
        let (one, two) = (one.await.unwrap(), two.await.unwrap());
        let winner = match (&one, &two) {
            (Ok(_), Err(StoreError::Conflict(_))) => "one",
            (Err(StoreError::Conflict(_)), Ok(_)) => "two",
            other => panic!("{id}: exactly one writer must win: {other:?}"),
        };
        let stored = store.task(&project(), id).await.unwrap().unwrap();
        assert_eq!(stored.data["payload"], winner, "{id}");
        let events = store.events_after(id, 0).await.unwrap();
        assert_eq!(events.len(), 1, "{id}: the loser's event is stored too");
        assert_eq!(events[0].data["payload"], winner, "{id}");
    }
}

#[tokio::test]
async fn sqlite_saves_one_of_two_writers_of_a_task() {
    let (store, _dir) = sqlite().await;
    two_writers_of_one_task(store).await;
}

#[tokio::test]
async fn postgres_saves_one_of_two_writers_of_a_task() {
    let Some((store, url)) = postgres().await else {
        return;
    };
    two_writers_of_one_task(store.clone()).await;
    drop_postgres(store, &url).await;
}

async fn event_taken(store: Arc<SqlStore>) {
    store.create_task(&task("t")).await.unwrap();
    step(store.as_ref(), "t", 1, "ok").await.unwrap();
    // Step 2 carrying event 1 again: refused, and the task row stays at step 1.
    let mut t = task("t");
    t.revision = 2;
    let taken = [TaskEvent {
        seq: 1,
        data: json!({"type": "again"}),
    }];
    let refused = store.save_checkpoint(&t, 1, &taken, &[]).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    let stored = store.task(&project(), "t").await.unwrap().unwrap();
    assert_eq!(stored.revision, 1);
    step(store.as_ref(), "t", 2, "ok").await.unwrap();
}

#[tokio::test]
async fn sqlite_refuses_a_checkpoint_whose_event_is_taken_whole() {
    let (store, _dir) = sqlite().await;
    event_taken(store).await;
}

#[tokio::test]
async fn postgres_refuses_a_checkpoint_whose_event_is_taken_whole() {
    let Some((store, url)) = postgres().await else {
        return;
    };
    event_taken(store.clone()).await;
    drop_postgres(store, &url).await;
}

/// Writes queued behind a held lock form one batch; one of them makes the batch fail (a
/// trigger raises an error that is no conflict; the caller installs it). Every write answered `Ok` is stored, every
/// other is absent, and the failed batch took more than the faulty write down with it.
async fn a_failed_batch_fails_all_its_writes_and_stores_none(store: Arc<SqlStore>) {
    let db = store.connection();
    let ids: Vec<String> = (0..40).map(|i| format!("task-{i:02}")).collect();
    for id in &ids {
        store.create_task(&task(id)).await.unwrap();
    }
    // Another connection holds the write lock while the writes queue up.
    let holder = db.begin().await.unwrap();
    holder
        .execute_unprepared("UPDATE tasks SET updated = updated WHERE id = 'task-00'")
        .await
        .unwrap();
    let write = |i: usize| {
        let (store, id) = (store.clone(), ids[i].clone());
        let payload = if i == ids.len() - 1 { "fault" } else { "ok" };
        tokio::spawn(async move { step(store.as_ref(), &id, 1, payload).await })
    };
    // The first write waits alone for the lock; the others queue behind it as one batch.
    let mut writes = vec![write(0)];
    tokio::time::sleep(Duration::from_millis(50)).await;
    writes.extend((1..ids.len()).map(write));
    tokio::time::sleep(Duration::from_millis(300)).await;
    holder.commit().await.unwrap();
    let mut failed = 0;
    for (id, write) in ids.iter().zip(writes) {
        let outcome = write.await.unwrap();
        let stored = store.task(&project(), id).await.unwrap().unwrap();
        let events = store.events_after(id, 0).await.unwrap();
        match outcome {
            Ok(_) => {
                assert_eq!(stored.revision, 1, "{id} acknowledged but not stored");
                assert_eq!(events.len(), 1, "{id}");
            }
            Err(e) => {
                assert!(matches!(e, StoreError::Unavailable(_)), "{id}: {e:?}");
                assert_eq!(stored.revision, 0, "{id} failed but stored");
                assert!(events.is_empty(), "{id}");
                failed += 1;
            }
        }
    }
    assert!(
        failed >= 2,
        "only the faulty write failed: no batch was tested"
    );
    let first = store.task(&project(), &ids[0]).await.unwrap().unwrap();
    assert_eq!(
        first.revision, 1,
        "the batch before the faulty one was stored"
    );
}

#[tokio::test]
async fn sqlite_fails_a_failed_batch_whole() {
    let (store, _dir) = sqlite().await;
    store
        .connection()
        .execute_unprepared(
            "CREATE TRIGGER fault BEFORE INSERT ON task_events WHEN NEW.data LIKE '%fault%' \
             BEGIN SELECT json('not json'); END",
        )
        .await
        .unwrap();
    a_failed_batch_fails_all_its_writes_and_stores_none(store).await;
}

#[tokio::test]
async fn postgres_fails_a_failed_batch_whole() {
    let Some((store, url)) = postgres().await else {
        return;
    };
    for sql in [
        "CREATE FUNCTION fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         IF NEW.data LIKE '%fault%' THEN RAISE EXCEPTION 'fault'; END IF; RETURN NEW; END $$",
        "CREATE TRIGGER fault BEFORE INSERT ON task_events FOR EACH ROW EXECUTE FUNCTION fault()",
    ] {
        store.connection().execute_unprepared(sql).await.unwrap();
    }
    a_failed_batch_fails_all_its_writes_and_stores_none(store.clone()).await;
    drop_postgres(store, &url).await;
}
